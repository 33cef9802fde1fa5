//! Layer Fast-Recovery (`tcp/fast-recovery.pc`; RFC 5681 §3.2, RFC 6582 (NewReno), RFC 3042
//! (limited transmit)): duplicate ACKs (RFC 5681 §2: nothing new acknowledged, no data, the same
//! window, data outstanding) are counted; each of the first two lets one new segment go; the
//! third retransmits the first unacknowledged segment without waiting for the timer, sets
//! ssthresh = FlightSize/2 and cwnd = ssthresh + 3·MSS; further ones inflate cwnd by an MSS; a
//! partial ACK retransmits the next hole, a full ACK (covering `recover`) ends recovery.
//! Observed through the segments sent and `TcpInfo` (cwnd, ssthresh, dupacks, in_recovery,
//! retransmitted).
//!
//! The connection opens passively at time 0 (peer MSS 1000, window 8192, cwnd about 4000):
//! four full segments go, ISS+1 … ISS+3001, and the first is lost.

mod common;

use common::*;
use protocols::tcp::Connection;

/// ESTABLISHED with `n` bytes queued; the first four segments are out.
fn flight(n: usize) -> Connection {
    let mut c = established_opts(&[]);
    c.send(&data(n), 0);
    assert_eq!(
        shape(&sent(&mut c)),
        [
            (ISS + 1, 1000),
            (ISS + 1001, 1000),
            (ISS + 2001, 1000),
            (ISS + 3001, 1000)
        ]
    );
    c
}

/// A duplicate ACK: the peer still expects ISS+1, with its usual window, at time 10·k.
fn dupack(c: &mut Connection, k: u64) -> Vec<Out> {
    arrive_at(c, peer_ack(IRS + 1, ISS + 1), 10 * k);
    sent(c)
}

/// `flight(n)`, then three duplicate ACKs: in fast recovery with 6000 bytes in flight.
fn recovering(n: usize) -> Connection {
    let mut c = flight(n);
    for k in 1..=3 {
        dupack(&mut c, k);
    }
    assert!(c.info().in_recovery, "set-up");
    c
}

/// RFC 3042: the first and second duplicate ACKs each send one new segment; cwnd does not
/// change and no retransmission happens yet.
#[test]
fn limited_transmit_sends_a_new_segment_on_each_of_the_first_two_duplicate_acks() {
    let mut c = flight(8000);
    let cwnd = c.info().cwnd;
    assert_eq!(shape(&dupack(&mut c, 1)), [(ISS + 4001, 1000)]);
    assert_eq!((c.info().dupacks, c.info().cwnd), (1, cwnd));
    assert_eq!(shape(&dupack(&mut c, 2)), [(ISS + 5001, 1000)]);
    let i = c.info();
    assert_eq!((i.dupacks, i.cwnd, i.in_recovery), (2, cwnd, false));
    assert_eq!(i.retransmitted, 0);
}

/// RFC 5681 §3.2 steps 2-4: the third duplicate ACK retransmits the first unacknowledged
/// segment at once (30 ms, long before the 1 s timer), with ssthresh = 6000/2 and
/// cwnd = ssthresh + 3·MSS.
#[test]
fn three_duplicate_acks_retransmit_the_first_unacknowledged_segment() {
    let mut c = flight(6000);
    dupack(&mut c, 1);
    dupack(&mut c, 2);
    let again = dupack(&mut c, 3);
    assert_eq!(shape(&again), [(ISS + 1, 1000)]);
    assert_eq!(again[0].payload, data(1000));
    let i = c.info();
    assert_eq!((i.ssthresh, i.cwnd), (3000, 6000));
    assert_eq!((i.dupacks, i.in_recovery, i.retransmitted), (3, true, 1));
    assert_eq!(c.snd_nxt(), ISS + 6001, "sending resumes where it was");
}

/// RFC 5681 §3.2 step 5 (RFC 6582 step 3): each further duplicate ACK inflates cwnd by an MSS,
/// letting one new segment go.
#[test]
fn further_duplicate_acks_inflate_the_window() {
    let mut c = recovering(8000);
    assert_eq!(shape(&dupack(&mut c, 4)), [(ISS + 6001, 1000)]);
    assert_eq!(c.info().cwnd, 7000);
    assert_eq!(shape(&dupack(&mut c, 5)), [(ISS + 7001, 1000)]);
    assert_eq!(c.info().cwnd, 8000);
}

/// RFC 6582 step 5: a partial ACK (below `recover`, ISS+6001) retransmits the next hole at
/// once and deflates cwnd by what it acknowledged, adding back one MSS; recovery goes on.
#[test]
fn a_partial_ack_retransmits_the_next_hole() {
    let mut c = recovering(6000);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 2001), 40);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 2001, 1000)]);
    let i = c.info();
    assert_eq!(
        (i.cwnd, i.ssthresh, i.in_recovery),
        (6000 - 2000 + 1000, 3000, true)
    );
    assert_eq!(i.retransmitted, 2);
}

/// RFC 6582 step 6: a full ACK ends recovery: cwnd = min(ssthresh, max(FlightSize, MSS) + MSS),
/// and the duplicate ACK count is cleared.
#[test]
fn a_full_ack_ends_recovery() {
    let mut c = recovering(6000);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 6001), 40);
    silent(&mut c);
    let i = c.info();
    assert_eq!((i.in_recovery, i.dupacks), (false, 0));
    assert_eq!((i.cwnd, i.ssthresh), (2000, 3000));
    assert_eq!(c.poll_at(), None, "everything acknowledged");
}

/// RFC 6582 §3.2 step 1 with §4: after a retransmission timeout `recover` is SND.MAX, so
/// duplicate ACKs that do not cover it start no fast retransmit.
#[test]
fn duplicate_acks_after_a_timeout_do_not_start_recovery() {
    let mut c = flight(4000);
    c.poll(RTO);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 1000)]);
    assert_eq!((c.info().ssthresh, c.info().cwnd), (2000, 1000));
    let mut out = Vec::new();
    for k in 1..=3 {
        arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1), RTO + k);
        out.extend(sent(&mut c));
    }
    assert!(
        out.iter().all(|o| o.seq != ISS + 1),
        "no fast retransmit: {out:?}"
    );
    let i = c.info();
    assert_eq!((i.dupacks, i.in_recovery), (3, false));
    assert_eq!(
        (i.ssthresh, i.cwnd),
        (2000, 1000),
        "no window reduction either"
    );
}

/// RFC 5681 §2: an ACK that changes the window is not a duplicate, however many arrive.
#[test]
fn an_ack_that_changes_the_window_is_not_a_duplicate() {
    let mut c = flight(4000);
    for (k, w) in [8000, 7999, 7998].into_iter().enumerate() {
        arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).window(w), 10 * k as u64);
        silent(&mut c);
    }
    let i = c.info();
    assert_eq!((i.dupacks, i.in_recovery, i.retransmitted), (0, false, 0));
}

/// RFC 3042 §2: limited transmit sends new data only "if the receiver's advertised window
/// allows" — never beyond SND.UNA+SND.WND (here ISS+3001).
#[test]
fn limited_transmit_stays_within_the_peers_window() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(3000));
    c.send(&data(6000), 0);
    assert_eq!(sent(&mut c).len(), 3);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).window(3000), 10);
    silent(&mut c);
}

/// RFC 6582 §3.2 step 1: `recover` starts at the initial send sequence number, so the loss of
/// the first data segment after an active open is fast-retransmitted like any other.
#[test]
fn an_active_opener_fast_retransmits_its_first_segment() {
    let mut c: Connection = open_active(config(), &[], peer_syn_ack(), 0);
    c.send(&data(6000), 0);
    assert_eq!(sent(&mut c).len(), 4);
    dupack(&mut c, 1);
    dupack(&mut c, 2);
    assert_eq!(shape(&dupack(&mut c, 3)), [(ISS + 1, 1000)]);
    assert!(c.info().in_recovery);
}

/// RFC 6582 §3.2 step 5: a partial ACK deflates cwnd by the data it acknowledges, and adds one
/// MSS back only "if the partial ACK acknowledges at least one SMSS of new data" — not for one
/// of 500 bytes.
#[test]
fn a_partial_ack_of_less_than_an_mss_adds_nothing_back() {
    let mut c = recovering(6000);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 501), 40);
    assert_eq!(c.info().cwnd, 6000 - 500);
}

/// RFC 5681 §3.2: the duplicate ACKs that count are consecutive — a new ACK outside recovery
/// clears the count, so two duplicates, a new ACK and two more are not three in a row.
#[test]
fn a_new_ack_clears_the_duplicate_ack_count() {
    let mut c = flight(4000);
    dupack(&mut c, 1);
    dupack(&mut c, 2);
    assert_eq!(c.info().dupacks, 2);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001), 30);
    assert_eq!(c.info().dupacks, 0);
    for at in [40, 50] {
        arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001), at);
        silent(&mut c);
    }
    let i = c.info();
    assert_eq!((i.dupacks, i.in_recovery, i.retransmitted), (2, false, 0));
}
