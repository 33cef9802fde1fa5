//! Layer Sack-Recovery (`tcp/sack-recovery.pc`; RFC 6675): the scoreboard built from the
//! peer's SACK blocks (kept within SND.UNA..SND.MAX, merged, trimmed by cumulative ACKs), loss
//! declared by IsLost (more than DupThresh − 1 segments or DupThresh blocks held above a
//! hole), recovery that holds the pipe to cwnd = ssthresh instead of inflating the window and
//! sends lost holes again first — each hole only, never data the peer holds — and a
//! retransmission timeout whose go-back passes over what the peer holds.
//!
//! The connection opens passively at time 0 with SACK permitted (peer MSS 1000, window 8192),
//! an initial window of 8 segments, timestamps and window scaling off: eight segments go,
//! ISS+1 … ISS+7001.

mod common;

use common::*;
use protocols::tcp::{Connection, TcpOption};

/// ESTABLISHED with SACK, `n` bytes queued and the first `min(n / 1000, 8)` segments out.
fn flight(n: usize) -> Connection {
    let mut c: Connection = open_passive(
        config(),
        &[
            TcpOption::QuickAck(true),
            TcpOption::NoDelay(true),
            TcpOption::InitialWindow(8),
            TcpOption::WindowScale(false),
            TcpOption::Timestamps(false),
        ],
        peer_syn().options(&[1, 1, 4, 2]),
        0,
        0,
    );
    assert!(c.info().sack_ok, "set-up");
    c.send(&data(n), 0);
    let out = sent(&mut c);
    assert_eq!(out.len(), (n / 1000).min(8), "set-up: {out:?}");
    c
}

/// The SACK option for `blocks`, given as offsets from ISS+1: NOP, NOP, kind 5, length.
fn sack(blocks: &[(u32, u32)]) -> Vec<u8> {
    let mut v = vec![
        1,
        1,
        5,
        u8::try_from(2 + 8 * blocks.len()).expect("few blocks"),
    ];
    for &(l, r) in blocks {
        v.extend_from_slice(&(ISS + 1 + l).to_be_bytes());
        v.extend_from_slice(&(ISS + 1 + r).to_be_bytes());
    }
    v
}

/// An ACK of `ack` (an offset from ISS+1) carrying `blocks`, at time `now`; what it draws.
fn ack_with(c: &mut Connection, ack: u32, blocks: &[(u32, u32)], now: u64) -> Vec<Out> {
    arrive_at(
        c,
        peer_ack(IRS + 1, ISS + 1 + ack).options(&sack(blocks)),
        now,
    );
    sent(c)
}

/// (offset from ISS+1, length) of each segment.
fn holes(out: &[Out]) -> Vec<(u32, usize)> {
    out.iter()
        .map(|o| (o.seq - ISS - 1, o.payload.len()))
        .collect()
}

/// RFC 6675 §3: the blocks an ACK carries make up the scoreboard (`sacked` counts the bytes).
#[test]
fn blocks_from_acks_fill_the_scoreboard() {
    let mut c = flight(8000);
    ack_with(&mut c, 0, &[(1000, 2000)], 10);
    assert_eq!(c.info().sacked, 1000);
    ack_with(&mut c, 0, &[(3000, 4000), (1000, 2000)], 20);
    assert_eq!(c.info().sacked, 2000);
}

/// Adjacent and overlapping blocks merge; a repeated block adds nothing.
#[test]
fn overlapping_blocks_merge() {
    let mut c = flight(8000);
    ack_with(&mut c, 0, &[(1000, 2000)], 10);
    ack_with(&mut c, 0, &[(2000, 3000), (1000, 2000)], 20);
    ack_with(&mut c, 0, &[(1500, 3500)], 30);
    assert_eq!(c.info().sacked, 2500);
}

/// RFC 2018 §5 / RFC 6675 §3: blocks outside SND.UNA..SND.MAX (a D-SACK block below SND.UNA,
/// nonsense beyond what was sent, an empty or inverted block) are ignored.
#[test]
fn blocks_outside_what_is_outstanding_are_ignored() {
    let mut c = flight(8000);
    ack_with(&mut c, 0, &[(9000, 10_000)], 10);
    ack_with(&mut c, 0, &[(3000, 2000)], 20);
    arrive_at(
        &mut c,
        peer_ack(IRS + 1, ISS + 1).options(&[1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 200]),
        30,
    );
    assert_eq!(c.info().sacked, 0);
}

/// A cumulative ACK takes what it covers off the scoreboard.
#[test]
fn a_cumulative_ack_trims_the_scoreboard() {
    let mut c = flight(8000);
    ack_with(&mut c, 0, &[(3000, 4000), (1000, 2000)], 10);
    ack_with(&mut c, 2000, &[(3000, 4000)], 20);
    assert_eq!(c.info().sacked, 1000);
    ack_with(&mut c, 5000, &[], 30);
    assert_eq!(c.info().sacked, 0);
}

/// RFC 6675 §5 (IsLost): one ACK reporting more than DupThresh − 1 = 2 segments held above the
/// first hole starts recovery at once, without waiting for three duplicate ACKs; the hole is
/// sent again.
#[test]
fn is_lost_starts_recovery_before_three_duplicate_acks() {
    let mut c = flight(8000);
    let out = ack_with(&mut c, 0, &[(1000, 4000)], 10);
    let i = c.info();
    assert!(i.in_recovery, "{i:?}");
    assert_eq!(i.dupacks, 1);
    assert_eq!(holes(&out), [(0, 1000)]);
    assert_eq!(out[0].payload, data(1000));
}

/// Two segments held above the hole are not yet a loss (exactly 2·SMSS is not more).
#[test]
fn two_segments_above_a_hole_are_not_a_loss() {
    let mut c = flight(8000);
    ack_with(&mut c, 0, &[(1000, 3000)], 10);
    assert!(!c.info().in_recovery);
}

/// RFC 6675 §5 step (4.2): recovery sets cwnd = ssthresh = FlightSize / 2 — no inflation by
/// three segments as NewReno does.
#[test]
fn recovery_starts_with_cwnd_at_ssthresh() {
    let mut c = flight(8000);
    ack_with(&mut c, 0, &[(1000, 4000)], 10);
    let i = c.info();
    assert_eq!((i.ssthresh, i.cwnd), (4000, 4000));
}

/// Only the hole goes again: a hole shorter than a segment is sent as it is, not the data the
/// peer holds after it.
#[test]
fn only_the_hole_is_sent_again() {
    let mut c = flight(8000);
    let out = ack_with(&mut c, 0, &[(400, 3500)], 10);
    assert_eq!(holes(&out), [(0, 400)]);
}

/// RFC 6675 §5 (C): a second hole, once lost, goes as soon as the pipe leaves a segment of
/// room under cwnd; a hole not yet lost does not.
#[test]
fn a_second_lost_hole_is_sent_when_the_pipe_allows() {
    let mut c = flight(8000);
    // Segments 1, 3 and 4 arrived: hole 0 is lost (3 segments above), hole 2 is not (2 above).
    ack_with(&mut c, 0, &[(1000, 2000)], 10);
    ack_with(&mut c, 0, &[(3000, 4000), (1000, 2000)], 20);
    let out = ack_with(&mut c, 0, &[(3000, 5000), (1000, 2000)], 30);
    assert_eq!(holes(&out), [(0, 1000)], "hole 0 only");
    // Segment 5 arrives: now hole 2 has three segments above it.
    let out = ack_with(&mut c, 0, &[(3000, 6000), (1000, 2000)], 40);
    assert_eq!(holes(&out), [(2000, 1000)]);
    assert_eq!(c.info().retransmitted, 2);
}

/// A partial ACK in SACK recovery neither resends SND.UNA blindly nor deflates the window;
/// a full ACK (covering the recovery point) ends recovery.
#[test]
fn partial_and_full_acks_in_sack_recovery() {
    let mut c = flight(8000);
    ack_with(&mut c, 0, &[(1000, 2000)], 10);
    ack_with(&mut c, 0, &[(3000, 4000), (1000, 2000)], 20);
    ack_with(&mut c, 0, &[(3000, 5000), (1000, 2000)], 30);
    ack_with(&mut c, 0, &[(3000, 6000), (1000, 2000)], 40);
    let before = c.info();
    // The resent segment 0 arrived: ACK 2000, segment 2 (already resent) still missing.
    let out = ack_with(&mut c, 2000, &[(3000, 6000)], 50);
    assert!(holes(&out).iter().all(|&(at, _)| at >= 6000), "{out:?}");
    let i = c.info();
    assert!(i.in_recovery);
    assert_eq!(i.retransmitted, before.retransmitted);
    assert_eq!(i.cwnd, before.cwnd, "no deflation");
    ack_with(&mut c, 8000, &[], 60);
    assert!(!c.info().in_recovery);
}

/// After a retransmission timeout the go-back passes over the blocks the peer holds.
#[test]
fn the_timeout_retransmission_skips_what_the_peer_holds() {
    let mut c = flight(5000);
    ack_with(&mut c, 0, &[(3000, 4000), (1000, 2000)], 10);
    assert!(!c.info().in_recovery);
    let out: Vec<Out> = run_timers(&mut c, 1500)
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    assert_eq!(holes(&out), [(0, 1000)], "one segment after the timeout");
    // Segment 0 arrives; the peer now holds up to 2000 and 3000..4000.
    let out = ack_with(&mut c, 2000, &[(3000, 4000)], 1500);
    assert_eq!(holes(&out), [(2000, 1000)]);
    let out = ack_with(&mut c, 4000, &[], 1600);
    assert_eq!(
        holes(&out),
        [(4000, 1000)],
        "3000..4000 is never sent again"
    );
    assert_eq!(c.info().retransmitted, 3);
}

/// Without SACK the same losses take NewReno's path (cwnd = ssthresh + 3·SMSS).
#[test]
fn without_sack_newreno_recovers() {
    let mut c: Connection = open_passive(
        config(),
        &[
            TcpOption::QuickAck(true),
            TcpOption::NoDelay(true),
            TcpOption::InitialWindow(8),
            TcpOption::WindowScale(false),
            TcpOption::Timestamps(false),
            TcpOption::Sack(false),
        ],
        peer_syn().options(&[1, 1, 4, 2]),
        0,
        0,
    );
    c.send(&data(8000), 0);
    sent(&mut c);
    for k in 1..=3 {
        ack_with(&mut c, 0, &[(1000, 1000 + 1000 * k)], 10 * u64::from(k));
    }
    let i = c.info();
    assert!(i.in_recovery && !i.sack_ok);
    assert_eq!((i.ssthresh, i.cwnd, i.sacked), (4000, 7000, 0));
}

/// RFC 6675 §2: an ACK that SACKs new data is a duplicate even when its window differs from
/// the last (the receiver's application read meanwhile): limited transmit sends a new segment.
#[test]
fn an_ack_sacking_new_data_is_a_duplicate_whatever_its_window() {
    let mut c = flight(20_000);
    arrive_at(
        &mut c,
        peer_ack(IRS + 1, ISS + 1)
            .window(PEER_WND + 1000)
            .options(&sack(&[(1000, 2000)])),
        10,
    );
    assert_eq!(c.info().dupacks, 1);
    assert_eq!(holes(&sent(&mut c)), [(8000, 1000)], "RFC 3042");
}

/// A retransmission that is itself lost: once more than DupThresh − 1 segments sent after it
/// are SACKed while its hole is still open, the hole goes again (without waiting for the
/// retransmission timer).
#[test]
fn a_lost_retransmission_is_sent_again() {
    let mut c = flight(20_000);
    // The peer's window is large enough here for new data to follow the retransmission.
    let mut ack = |right: u32, now: u64| {
        arrive_at(
            &mut c,
            peer_ack(IRS + 1, ISS + 1)
                .window(60_000)
                .options(&sack(&[(1000, right)])),
            now,
        );
        sent(&mut c)
    };
    assert_eq!(holes(&ack(4000, 10)), [(0, 1000)], "recovery starts");
    let mut later = Vec::new();
    for (k, right) in [5000, 6000, 7000, 8000, 9000].into_iter().enumerate() {
        later.extend(ack(right, 20 + k as u64));
    }
    let later = holes(&later);
    assert!(
        later.iter().all(|&(at, _)| at >= 8000),
        "new data only: {later:?}"
    );
    // Data sent after the retransmission arrives, the hole does not fill: it was lost.
    let out = holes(&ack(12_000, 40));
    assert_eq!(out.first(), Some(&(0, 1000)), "{out:?}");
    assert_eq!(c.info().retransmitted, 2);
}

/// A receiver holding our FIN out of order counts it in its block (Linux does): the board
/// stops at the end of the data, so that the go-back after a timeout never passes beyond it
/// (it once took the FIN for data and asked the host for bytes it did not have).
#[test]
fn a_block_that_reaches_the_fin_stops_at_the_end_of_the_data() {
    let mut c = flight(3000);
    c.close(0);
    let fin = sent(&mut c);
    assert_eq!(fin.len(), 1, "{fin:?}");
    assert_eq!((fin[0].seq, fin[0].flags & FIN), (ISS + 1 + 3000, FIN));
    // The peer holds 1000..3000 and the FIN: its block ends one past the data.
    ack_with(&mut c, 0, &[(1000, 3001)], 10);
    let out: Vec<Out> = run_timers(&mut c, 1500)
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    // The hole, then the FIN again (not known to be held): nothing beyond the data.
    assert_eq!(holes(&out), [(0, 1000), (3000, 0)]);
    assert_eq!(out[1].flags & FIN, FIN);
    // The hole arrives: everything, the FIN included, is acknowledged.
    let out = ack_with(&mut c, 3001, &[], 1600);
    assert!(out.iter().all(|o| o.payload.is_empty()), "{out:?}");
    assert_eq!(c.info().snd_una, ISS + 1 + 3001);
}
