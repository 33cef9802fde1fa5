//! Layer Rtt (`tcp/rtt.pc`; RFC 6298 §2-§3 and §5, RFC 9293 §3.8.1, MUST-18): one segment
//! is timed at a time — our SYN,ACK too — and never a retransmitted one (Karn's algorithm);
//! the samples are smoothed into SRTT and RTTVAR (alpha 1/8, beta 1/4, G 1 ms) and give
//! RTO = SRTT + max(G, 4·RTTVAR), within [MinRtoMs (1 s by default), 60 s]. Observed through
//! `TcpInfo` (srtt_ms, rttvar_ms, rto_ms) and the retransmission timer.
//!
//! The passive opens here take a first sample of 100 ms: the peer's SYN arrives at 0, its ACK
//! of our SYN,ACK at 100.

mod common;

use common::*;
use protocols::tcp::{Connection, TcpOption};

/// ESTABLISHED with a first RTT sample of `rtt` ms (the handshake) and `options`.
fn measured(rtt: u64, options: &[TcpOption]) -> Connection {
    open_passive(config(), options, peer_syn(), 0, rtt)
}

/// Sends `n` bytes at `at` and has them acknowledged `rtt` ms later; SND.UNA is `una`.
fn round_trip(c: &mut Connection, una: u32, n: u32, at: u64, rtt: u64) -> u32 {
    c.send(&data(n as usize), at);
    assert!(!sent(c).is_empty(), "the data went at once");
    arrive_at(c, peer_ack(IRS + 1, una + n), at + rtt);
    una + n
}

/// (SRTT, RTTVAR, RTO) from `TcpInfo`.
fn rtt(c: &mut Connection) -> (u64, u64, u64) {
    let i = c.info();
    (i.srtt_ms, i.rttvar_ms, i.rto_ms)
}

/// RFC 6298 (2.2): the first measurement R gives SRTT = R, RTTVAR = R/2 and
/// RTO = SRTT + max(G, 4·RTTVAR) — 100, 50, 300 (with a lower bound of 10 ms).
#[test]
fn the_first_sample_sets_srtt_and_rttvar() {
    let mut c = measured(100, &[TcpOption::MinRtoMs(10)]);
    assert_eq!(rtt(&mut c), (100, 50, 300));
    c.send(b"timed", 1000);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(1300), "the timer runs for the RTO");
}

/// RFC 6298 (2.3): later samples R' give RTTVAR = 3/4·RTTVAR + 1/4·|SRTT - R'| (with the old
/// SRTT), then SRTT = 7/8·SRTT + 1/8·R'.
#[test]
fn later_samples_are_smoothed() {
    let mut c = measured(100, &[TcpOption::MinRtoMs(10)]);
    let una = round_trip(&mut c, ISS + 1, 1000, 1000, 300);
    // RTTVAR = (3·50 + 200)/4 = 87, SRTT = (7·100 + 300)/8 = 125, RTO = 125 + 4·87.
    assert_eq!(rtt(&mut c), (125, 87, 473));
    round_trip(&mut c, una, 1000, 2000, 60);
    // RTTVAR = (3·87 + 65)/4 = 81, SRTT = (7·125 + 60)/8 = 116, RTO = 116 + 4·81.
    assert_eq!(rtt(&mut c), (116, 81, 440));
}

/// RFC 6298 (2.4): the RTO is at least MinRtoMs, 1 s by default, however short the round trip.
#[test]
fn the_rto_is_at_least_one_second_by_default() {
    let mut c = measured(100, &[]);
    assert_eq!(rtt(&mut c), (100, 50, 1000));
    c.send(b"x", 500);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(1500));
}

/// RFC 6298 (2.5): the RTO is at most 60 s: SRTT 50 s and RTTVAR 25 s give 60 s, not 150 s.
#[test]
fn the_rto_is_at_most_sixty_seconds() {
    let mut c = measured(50_000, &[]);
    assert_eq!(rtt(&mut c), (50_000, 25_000, 60_000));
    c.send(b"x", 60_000);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(120_000));
}

/// MUST-18 (Karn, RFC 6298 §3): the ACK of a retransmitted segment gives no sample — here it
/// would have been 1350 - 1000 = 350 ms or 50 ms, neither of which is the round trip.
#[test]
fn the_ack_of_a_retransmission_gives_no_sample() {
    let mut c = measured(100, &[TcpOption::MinRtoMs(10)]);
    c.send(&data(1000), 1000);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(1300));
    c.poll(1300);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 1000)], "retransmitted");
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001), 1350);
    let i = c.info();
    assert_eq!((i.srtt_ms, i.rttvar_ms), (100, 50), "no sample");
    // Newly sent data is timed again: 200 ms.
    round_trip(&mut c, ISS + 1001, 500, 2000, 200);
    // RTTVAR = (3·50 + 100)/4 = 62, SRTT = (700 + 200)/8 = 112.
    assert_eq!(rtt(&mut c), (112, 62, 112 + 4 * 62));
}

/// MUST-18 (Karn's algorithm; RFC 9293 §3.8.1 and the note closing RFC 6298 §5): the
/// backed-off RTO is kept after the ACK of a retransmission, until new data has been sent and
/// acknowledged without retransmission; only that new RTT measurement "collapses" it.
#[test]
fn the_backed_off_rto_is_kept_until_a_new_sample() {
    let mut c = measured(100, &[TcpOption::MinRtoMs(10)]);
    c.send(&data(1000), 1000);
    sent(&mut c);
    c.poll(1300);
    sent(&mut c);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001), 1350);
    c.send(&data(500), 2000);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(2000 + 600), "the backed-off RTO");
}

/// RFC 6298 (3): one segment is timed at a time, so the ACK of a segment sent while another was
/// being timed gives no sample of its own.
#[test]
fn one_segment_is_timed_at_a_time() {
    let mut c = measured(100, &[TcpOption::MinRtoMs(10)]);
    c.send(&data(2000), 1000);
    assert_eq!(sent(&mut c).len(), 2, "two segments, the first timed");
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001), 1300);
    assert_eq!(rtt(&mut c), (125, 87, 473), "a sample of 300 ms");
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 2001), 1900);
    assert_eq!(
        rtt(&mut c),
        (125, 87, 473),
        "the second segment was not timed"
    );
}

/// The RTO a sample gives runs the retransmission timer: a retransmission comes exactly one
/// RTO (473 ms) after the data is sent.
#[test]
fn the_measured_rto_times_retransmissions() {
    let mut c = measured(100, &[TcpOption::MinRtoMs(10)]);
    let una = round_trip(&mut c, ISS + 1, 1000, 1000, 300);
    c.send(&data(100), 2000);
    let first = only(&mut c);
    c.poll(2472);
    silent(&mut c);
    c.poll(2473);
    assert_eq!(only(&mut c), first);
    assert_eq!(first.seq, una);
    assert_eq!(c.info().rto_ms, 2 * 473, "backed off once");
}
