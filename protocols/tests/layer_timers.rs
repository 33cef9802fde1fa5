//! Layer Timers (`tcp/timers.pc`; RFC 6298 §5, RFC 9293 §3.8.1, §3.8.3, §3.8.6.1, §3.10.8,
//! RFC 1122 §4.2.2.17, §4.2.3.5): the retransmission timer with exponential backoff up to
//! 60 s, the persist timer and its zero-window probes, the user timeout (R2) for data and for
//! SYNs, and TIME-WAIT's 2 MSL. Every connection keeps the layers' defaults unless a test says
//! otherwise; the passive open completes at time 0, so the RTO is 1 s.

mod common;

use common::*;
use protocols::tcp::{Connection, Event, State, TcpOption};

/// Polls `c` at each timer until it closes or `until` passes; returns the time it closed.
fn run_until_closed(c: &mut Connection, until: u64, sent_at: &mut Vec<(u64, Out)>) -> u64 {
    while let Some(t) = c.poll_at() {
        assert!(t <= until, "still open at {t}");
        c.poll(t);
        sent_at.extend(sent(c).into_iter().map(|o| (t, o)));
        if c.state() == State::Closed {
            return t;
        }
    }
    panic!("no timer runs, in {:?}", c.state());
}

/// MUST-19, RFC 6298 (5.4)-(5.6) and (2.5): on each expiry the first unacknowledged segment
/// goes again and the timeout doubles — 1, 2, 4, … 32 s, then 60 s at most.
#[test]
fn retransmissions_back_off_exponentially_up_to_60_s() {
    let mut c = established_opts(&[TcpOption::UserTimeoutMs(1_000_000)]);
    c.send(&data(100), 0);
    let first = only(&mut c);
    let again = run_timers(&mut c, 400_000);
    let times: Vec<u64> = again.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        times,
        [
            1000, 3000, 7000, 15_000, 31_000, 63_000, 123_000, 183_000, 243_000, 303_000, 363_000
        ]
    );
    for (t, o) in &again {
        assert_eq!(*o, first, "at {t}: the same segment again");
    }
    let i = c.info();
    assert_eq!((i.rto_ms, i.backoff, i.retransmitted), (60_000, 11, 11));
}

/// RFC 6298 (5.5), §5's closing note: the backed-off RTO collapses once a new RTT sample is
/// taken — from new data, sent and acknowledged after the retransmission.
#[test]
fn a_new_rtt_sample_ends_the_backoff() {
    let mut c = established_opts(&[]);
    c.send(&data(1000), 0);
    sent(&mut c);
    c.poll(1000);
    c.poll(3000);
    assert_eq!(sent(&mut c).len(), 2);
    assert_eq!((c.info().backoff, c.info().rto_ms), (2, 4 * RTO));
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001), 3500);
    c.send(&data(500), 4000);
    sent(&mut c);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1501), 4050);
    assert_eq!((c.info().backoff, c.info().rto_ms), (0, RTO));
    c.send(&data(10), 5000);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(5000 + RTO));
}

/// MUST-20, MUST-21 (RFC 9293 §3.8.3; the user timeout of §3.10.1, RFC 5482): data that stays
/// unacknowledged for the user timeout (here 10 s) drops the connection — TimedOut, then
/// Closed, and nothing more is sent. Until then it is retransmitted as usual.
#[test]
fn the_user_timeout_drops_a_connection_whose_data_stays_unacknowledged() {
    let mut c = established_opts(&[TcpOption::UserTimeoutMs(10_000)]);
    c.send(&data(100), 0);
    sent(&mut c);
    let mut out = Vec::new();
    let closed_at = run_until_closed(&mut c, 20_000, &mut out);
    let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [1000, 3000, 7000], "retransmissions until then");
    assert!(
        (10_000..=15_000).contains(&closed_at),
        "dropped at {closed_at}"
    );
    assert_eq!(c.events(), [Event::TimedOut, Event::Closed]);
    assert_eq!(c.poll_at(), None);
}

/// RFC 9293 §3.10.1 (USER TIMEOUT): "If data is not successfully delivered to the destination
/// within the timeout period, the TCP endpoint will abort the connection" — at the timeout, not
/// at whatever retransmission expiry follows it.
#[test]
fn the_user_timeout_drops_the_connection_when_it_expires() {
    let mut c = established_opts(&[TcpOption::UserTimeoutMs(10_000)]);
    c.send(&data(100), 0);
    sent(&mut c);
    let closed_at = run_until_closed(&mut c, 20_000, &mut Vec::new());
    assert_eq!(closed_at, 10_000);
}

/// The user timeout counts from the oldest unacknowledged data: an ACK of new data starts it
/// again, so a connection that makes progress is not dropped.
#[test]
fn an_ack_of_new_data_restarts_the_user_timeout() {
    let mut c = established_opts(&[TcpOption::UserTimeoutMs(10_000)]);
    c.send(&data(2000), 0);
    sent(&mut c);
    c.poll(1000);
    c.poll(3000);
    c.poll(7000);
    sent(&mut c);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001), 8000);
    assert_eq!(
        shape(&sent(&mut c)),
        [(ISS + 1001, 1000)],
        "go-back-N goes on"
    );
    let mut out = Vec::new();
    let closed_at = run_until_closed(&mut c, 100_000, &mut out);
    assert!(
        closed_at >= 18_000,
        "dropped at {closed_at}, 10 s after the ACK at the earliest"
    );
    assert_eq!((out[0].1.seq, out[0].1.payload.len()), (ISS + 1001, 1000));
    assert_eq!(c.events(), [Event::TimedOut, Event::Closed]);
}

/// MUST-22, MUST-23: SYNs are retransmitted with the same backoff, and an unanswered active
/// OPEN is given up by the same user timeout (5 minutes by default, over R2's 3 minutes).
#[test]
fn an_unanswered_syn_is_retransmitted_then_given_up() {
    let mut c = Connection::new(config());
    c.connect(LOCAL, REMOTE, 0);
    let syn = only(&mut c);
    assert_eq!(syn.flags, SYN);
    let mut out = Vec::new();
    let closed_at = run_until_closed(&mut c, 400_000, &mut out);
    let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        times,
        [
            1000, 3000, 7000, 15_000, 31_000, 63_000, 123_000, 183_000, 243_000
        ]
    );
    // The same SYN each time, but for the timestamp's TSval (the clock moved on).
    let without_tsval = |o: &Out| {
        let mut o = o.clone();
        if o.options.len() >= 16 {
            o.options[8..12].fill(0);
        }
        o
    };
    assert!(
        out.iter()
            .all(|(_, o)| without_tsval(o) == without_tsval(&syn)),
        "the same SYN each time"
    );
    assert!(
        (300_000..=303_000).contains(&closed_at),
        "given up at {closed_at}"
    );
    assert_eq!(c.events(), [Event::TimedOut, Event::Closed]);
}

/// RFC 6298 (5.7): once a SYN has been retransmitted, the RTO after the handshake is 3 s
/// (the retransmitted SYN gives no RTT sample).
#[test]
fn after_a_syn_timeout_the_rto_is_three_seconds() {
    let mut c = Connection::new(config());
    c.connect(LOCAL, REMOTE, 0);
    c.poll(1000);
    assert_eq!(sent(&mut c).len(), 2, "the SYN, then the SYN again");
    arrive_at(&mut c, seg(SYN).seq(IRS).ack(ISS + 1).mss(PEER_MSS), 1100);
    assert_eq!(c.state(), State::Established);
    sent(&mut c);
    assert_eq!(c.info().rto_ms, 3000);
    c.send(b"data", 2000);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(5000));
}

/// MUST-35, MUST-36, SHLD-29, SHLD-30 (§3.8.6.1, RFC 1122 §4.2.2.17): data waits behind a
/// zero window; the first probe goes one RTO later, then at doubling intervals. A probe is
/// <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK> without data, which the peer must answer with its
/// window.
#[test]
fn a_zero_window_is_probed_with_backoff() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(0));
    c.send(&data(100), 0);
    silent(&mut c);
    let probes = run_timers(&mut c, 20_000);
    let times: Vec<u64> = probes.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [1000, 3000, 7000, 15_000]);
    for (_, p) in &probes {
        assert_ack(p, ISS, IRS + 1);
    }
    assert_eq!(c.snd_nxt(), ISS + 1, "no data was sent");
    assert_eq!(c.info().retransmitted, 0, "probes are not retransmissions");
}

/// A probe's answer that opens the window lets the data go at once; the persist timer stops
/// and the retransmission timer takes over.
#[test]
fn a_probe_answer_that_opens_the_window_lets_the_data_go() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(0));
    c.send(&data(100), 0);
    c.poll(1000);
    assert_ack(&only(&mut c), ISS, IRS + 1);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).window(1000), 1010);
    let d = only(&mut c);
    assert_eq!((d.seq, d.payload.len(), d.flags), (ISS + 1, 100, ACK | PSH));
    assert_eq!(c.poll_at(), Some(1010 + RTO));
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 101), 1020);
    assert_eq!(c.poll_at(), None, "all acknowledged: no timer");
}

/// MUST-37, SHLD-30: a window may stay zero indefinitely while the peer answers the probes —
/// well past the 5-minute user timeout — and the probe interval stops growing at 60 s.
#[test]
fn the_window_may_stay_zero_indefinitely() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(0));
    c.send(&data(100), 0);
    let mut times = Vec::new();
    while let Some(t) = c.poll_at() {
        if t > 1_200_000 {
            break;
        }
        c.poll(t);
        assert_ack(&only(&mut c), ISS, IRS + 1);
        times.push(t);
        arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).window(0), t + 5);
        silent(&mut c);
    }
    assert_eq!(c.state(), State::Established);
    assert!(c.events().is_empty());
    assert_eq!(
        &times[..7],
        [1000, 3000, 7000, 15_000, 31_000, 63_000, 123_000]
    );
    assert!(times.windows(2).skip(6).all(|w| w[1] - w[0] == 60_000));
    assert_eq!(times.len(), 7 + (1_200_000 - 123_000) / 60_000);
}

/// MUST-13 (§3.10.8): TIME-WAIT lasts 2 MSL (here an MSL of 1 s), then the TCB is deleted.
#[test]
fn time_wait_lasts_two_msl() {
    let mut c = established_opts(&[TcpOption::MslMs(1000)]);
    c.shutdown(0);
    assert_eq!(only(&mut c).flags, FIN | ACK);
    arrive_at(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2), 500);
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.events(), [Event::PeerClosed, Event::Closed]);
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.poll_at(), Some(2500));
    c.poll(2499);
    assert_eq!(c.state(), State::TimeWait);
    c.poll(2500);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_at(), None);
    silent(&mut c);
}

/// §3.10.7.4 first step: an unacceptable segment is answered with <SEQ=SND.NXT><ACK=RCV.NXT>
/// <CTL=ACK>, where SND.NXT is the next new sequence number. After a retransmission timeout
/// go-back-N resends from SND.UNA, but an ACK must still carry the highest sequence number sent
/// (SND.MAX): a peer that has all the data up to it drops a zero-length segment with a lower
/// SEQ as unacceptable, without reading its ACK field.
#[test]
fn an_ack_sent_during_go_back_n_carries_the_highest_sequence_number_sent() {
    let mut c = established_opts(&[]);
    c.send(&data(3000), 0);
    assert_eq!(sent(&mut c).len(), 3);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(100)), 500);
    c.poll(700);
    assert_ack(&only(&mut c), ISS + 3001, IRS + 101);
    c.poll(RTO);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 1000)], "go-back-N");
    // The peer has all 3000 bytes, but its ACKs were lost; it resends its data.
    arrive_at(
        &mut c,
        peer_ack(IRS + 1, ISS + 3001).payload(&data(100)),
        1100,
    );
    assert_ack(&only(&mut c), ISS + 3001, IRS + 101);
}

/// The handshake's own limit (`ConnectTimeoutMs`, FreeBSD's `TCP_KEEPINIT`): an unanswered
/// SYN is given up when it runs out — 5 s after the first SYN here, at the limit and not at
/// the next retransmission — while the user timeout would wait longer.
#[test]
fn the_connect_timeout_bounds_the_handshake() {
    let mut c = plain(config());
    assert!(c.set_option(TcpOption::ConnectTimeoutMs(5_000)));
    c.connect(LOCAL, REMOTE, 0);
    sent(&mut c);
    c.events();
    let mut out = Vec::new();
    let closed_at = run_until_closed(&mut c, 20_000, &mut out);
    let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [1000, 3000], "SYN retransmissions until then");
    assert!(out.iter().all(|(_, o)| o.has(SYN)));
    assert_eq!(closed_at, 5_000);
    assert_eq!(c.events(), [Event::TimedOut, Event::Closed]);
}

/// Once synchronized, the connect timeout no longer applies: unacknowledged data is bound by
/// the user timeout alone.
#[test]
fn the_connect_timeout_does_not_bound_data() {
    let mut c = established_opts(&[
        TcpOption::ConnectTimeoutMs(2_000),
        TcpOption::UserTimeoutMs(10_000),
    ]);
    c.send(&data(100), 0);
    sent(&mut c);
    let closed_at = run_until_closed(&mut c, 20_000, &mut Vec::new());
    assert_eq!(closed_at, 10_000);
}
