//! Layer Keepalive (`tcp/keepalive.pc`; RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): off unless the
//! application asks (KeepaliveIdleMs); then an idle ESTABLISHED connection with nothing in
//! flight is probed after the idle time and every interval after it (75 s by default), any
//! arriving segment counts as an answer, and after `count` unanswered probes (9 by default) the
//! connection is dropped with `Event::TimedOut`. A probe is <SEQ=SND.UNA-1><ACK=RCV.NXT>
//! <CTL=ACK> without data. The passive open completes at 0; the peer's last segment arrives at
//! 500.

mod common;

use common::*;
use protocols::tcp::{Connection, Event, State, TcpOption};

/// Idle 10 s, interval 1 s, 3 probes; the peer last heard at 500.
fn keepalive() -> Connection {
    let mut c = established_opts(&[
        TcpOption::KeepaliveIdleMs(10_000),
        TcpOption::KeepaliveIntervalMs(1000),
        TcpOption::KeepaliveCount(3),
    ]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1), 500);
    silent(&mut c);
    c
}

/// MUST-25: keepalive is off by default — no timer runs on an idle connection, and hours of
/// silence send nothing and drop nothing.
#[test]
fn keepalive_is_off_by_default() {
    let mut c = established_opts(&[]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1), 500);
    assert_eq!(c.poll_at(), None);
    c.poll(10 * 3_600_000);
    silent(&mut c);
    assert_eq!(c.state(), State::Established);
    assert!(c.events().is_empty());
}

/// MAY-5, MUST-24, MUST-26, MUST-27, SHLD-12: keep-alives are implemented — when asked for,
/// the first probe goes after the idle time configured, counted from the last segment heard;
/// it carries no data.
#[test]
fn an_idle_connection_is_probed_after_the_idle_time() {
    let mut c = keepalive();
    assert_eq!(c.poll_at(), Some(10_500));
    c.poll(10_499);
    silent(&mut c);
    c.poll(10_500);
    let p = only(&mut c);
    assert_ack(&p, ISS, IRS + 1);
    assert_eq!(p.header_len, 20);
    assert_eq!(
        c.poll_at(),
        Some(11_500),
        "the next probe, one interval later"
    );
}

/// MUST-29: a lost answer is tolerated — the connection is dropped only after `count` (3)
/// probes went unanswered: TimedOut, then Closed, and nothing more is sent.
#[test]
fn unanswered_probes_drop_the_connection() {
    let mut c = keepalive();
    let probes = run_timers(&mut c, 20_000);
    let times: Vec<u64> = probes.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [10_500, 11_500, 12_500]);
    for (_, p) in &probes {
        assert_ack(p, ISS, IRS + 1);
    }
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::TimedOut, Event::Closed]);
    assert_eq!(c.poll_at(), None);
}

/// The peer's answer to a probe (its ACK) resets both the idle time and the count of
/// unanswered probes.
#[test]
fn an_answered_probe_starts_the_idle_time_again() {
    let mut c = keepalive();
    c.poll(10_500);
    c.poll(11_500);
    assert_eq!(sent(&mut c).len(), 2);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1), 11_600);
    silent(&mut c);
    assert_eq!(c.poll_at(), Some(21_600));
    let probes = run_timers(&mut c, 30_000);
    let times: Vec<u64> = probes.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [21_600, 22_600, 23_600], "three more probes allowed");
    assert_eq!(c.state(), State::Closed);
}

/// MUST-26: any arriving segment — here data — means the connection is not idle: the next
/// probe is counted from it (after the delayed ACK of that data went out).
#[test]
fn any_arriving_segment_restarts_the_idle_time() {
    let mut c = keepalive();
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(b"hi"), 5000);
    assert_eq!(c.poll_at(), Some(5200), "the delayed ACK first");
    c.poll(5200);
    assert_ack(&only(&mut c), ISS + 1, IRS + 3);
    assert_eq!(c.poll_at(), Some(15_000));
}

/// A connection with data in flight is not idle: the retransmission timer watches the peer,
/// and the keepalive timer only starts again once everything is acknowledged.
#[test]
fn no_probes_while_data_is_in_flight() {
    let mut c = keepalive();
    c.send(b"data", 9000);
    sent(&mut c);
    assert_eq!(
        c.poll_at(),
        Some(9000 + RTO),
        "the retransmission timer, not 10500"
    );
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 5), 9100);
    assert_eq!(c.poll_at(), Some(19_100));
}

/// The defaults after KeepaliveIdleMs alone: a probe every 75 s after the first, and the
/// connection dropped when the ninth goes unanswered.
#[test]
fn the_default_interval_is_75_s_and_the_default_count_9() {
    let mut c = established_opts(&[TcpOption::KeepaliveIdleMs(1000)]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1), 500);
    let probes = run_timers(&mut c, 1_000_000);
    let times: Vec<u64> = probes.iter().map(|(t, _)| *t).collect();
    let expected: Vec<u64> = (0..9).map(|k| 1500 + k * 75_000).collect();
    assert_eq!(times, expected);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::TimedOut, Event::Closed]);
}

/// MUST-28: keepalive turned on without an idle time waits at least two hours of silence (the
/// default idle time is exactly two hours) before its first probe; MUST-25 keeps it off until
/// the application asks.
#[test]
fn keepalive_turned_on_waits_two_hours_by_default() {
    let mut c = established_opts(&[]);
    assert_eq!(c.poll_at(), None, "off by default: no keepalive timer");
    assert!(c.set_option(TcpOption::Keepalive(true)));
    assert_eq!(
        c.poll_at(),
        Some(2 * 3600 * 1000),
        "the first probe is due after two hours"
    );
    c.poll(2 * 3600 * 1000 - 1);
    silent(&mut c);
    c.poll(2 * 3600 * 1000);
    let probe = only(&mut c);
    assert_eq!(probe.seq, ISS, "SEG.SEQ = SND.UNA - 1");
    assert!(probe.payload.is_empty());
}
