//! Layer Congestion (`tcp/congestion.pc`; RFC 5681 §3.1, RFC 3390, RFC 3465; MUST-19): the
//! initial window min(4·MSS, max(2·MSS, 4380)) or InitialWindow segments; slow start (one MSS
//! per ACK at most) below ssthresh, congestion avoidance (MSS²/cwnd per ACK) above it; a
//! retransmission timeout sets ssthresh = max(FlightSize/2, 2·MSS) — held when the same
//! segment times out again — and cwnd = 1 MSS. Observed through what is sent and through
//! `TcpInfo` (cwnd, ssthresh). The connections open actively (the passive open has a bug of
//! its own, below); the peer's MSS is 1000 unless said otherwise, its window 60000 where the
//! congestion window should be the limit.

mod common;

use common::*;
use protocols::tcp::{Connection, TcpOption};

/// ESTABLISHED by an active open, with a peer that offers 60000 bytes, and `options`.
fn wide(options: &[TcpOption]) -> Connection {
    open_active(config(), options, peer_syn_ack().window(60_000), 0)
}

/// The peer acknowledges `ack`, offering 60000 bytes.
fn ack(c: &mut Connection, ack: u32) {
    arrive(c, peer_ack(IRS + 1, ack).window(60_000));
}

/// RFC 3390 / RFC 5681 (3): IW = min(4·MSS, max(2·MSS, 4380)): 4000 bytes for an MSS of
/// 1000 (four segments), 4380 for 1460 (three), 2144 for 536 (four), and no more goes.
#[test]
fn the_initial_window_follows_rfc_3390() {
    for (mss, iw, segments) in [
        (Some(1000), 4000, 4),
        (Some(1460), 4380, 3),
        (None, 2144, 4),
    ] {
        let syn_ack = match mss {
            Some(m) => seg(SYN).seq(IRS).ack(ISS + 1).mss(m),
            None => seg(SYN).seq(IRS).ack(ISS + 1),
        }
        .window(60_000);
        let mut c: Connection = open_active(config(), &[], syn_ack, 0);
        assert_eq!(c.info().cwnd, iw, "MSS {mss:?}");
        c.send(&data(20_000), 0);
        let out = sent(&mut c);
        let bytes: usize = out.iter().map(|o| o.payload.len()).sum();
        assert_eq!((out.len(), bytes), (segments, iw as usize), "MSS {mss:?}");
    }
}

/// RFC 5681 §3.1: "The SYN/ACK and the acknowledgment of the SYN/ACK MUST NOT increase the
/// size of the congestion window" — after a passive open cwnd is IW, 4000 bytes.
#[test]
fn the_ack_of_our_syn_ack_does_not_grow_the_window() {
    let mut c = established_opts(&[]);
    assert_eq!(c.info().cwnd, 4000);
}

/// InitialWindow sets the initial window in segments (RFC 6928's IW10 here).
#[test]
fn the_initial_window_is_an_option() {
    let mut c = wide(&[TcpOption::InitialWindow(10)]);
    assert_eq!(c.info().cwnd, 10_000);
    c.send(&data(20_000), 0);
    assert_eq!(sent(&mut c).len(), 10);
}

/// The peer's window still limits when it is smaller than the congestion window.
#[test]
fn the_peers_window_limits_below_the_congestion_window() {
    let mut c: Connection = open_active(config(), &[], peer_syn_ack().window(2000), 0);
    c.send(&data(20_000), 0);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 1000), (ISS + 1001, 1000)]);
    assert_eq!(c.info().cwnd, 4000);
}

/// MUST-19, RFC 5681 (2) with RFC 3465 (L = 1): in slow start each ACK grows cwnd by the bytes
/// it acknowledges, one MSS at most, and the window slides by as much.
#[test]
fn slow_start_grows_the_window_by_at_most_one_segment_per_ack() {
    let mut c = wide(&[]);
    c.send(&data(20_000), 0);
    assert_eq!(sent(&mut c).len(), 4);
    ack(&mut c, ISS + 1001);
    assert_eq!(c.info().cwnd, 5000);
    assert_eq!(
        shape(&sent(&mut c)),
        [(ISS + 4001, 1000), (ISS + 5001, 1000)]
    );
    ack(&mut c, ISS + 3001);
    assert_eq!(c.info().cwnd, 6000, "two segments acknowledged: one MSS");
    assert_eq!(
        shape(&sent(&mut c)),
        [(ISS + 6001, 1000), (ISS + 7001, 1000), (ISS + 8001, 1000)]
    );
    ack(&mut c, ISS + 3501);
    assert_eq!(
        c.info().cwnd,
        6500,
        "half a segment acknowledged: half an MSS"
    );
}

/// MUST-19, RFC 5681 (4): a retransmission timeout sets ssthresh to half the data in flight
/// (6000 → 3000) and cwnd to one segment; only that segment is retransmitted.
#[test]
fn a_timeout_halves_ssthresh_and_resets_cwnd_to_one_segment() {
    let mut c = wide(&[TcpOption::InitialWindow(8)]);
    c.send(&data(6000), 0);
    assert_eq!(sent(&mut c).len(), 6);
    assert!(
        c.info().ssthresh >= 65_535,
        "ssthresh starts arbitrarily high"
    );
    c.poll(RTO);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 1000)]);
    let i = c.info();
    assert_eq!((i.ssthresh, i.cwnd), (3000, 1000));
}

/// RFC 5681 (4): ssthresh is at least two segments, however little was in flight.
#[test]
fn after_a_timeout_ssthresh_is_at_least_two_segments() {
    let mut c = wide(&[]);
    c.send(&data(1000), 0);
    sent(&mut c);
    c.poll(RTO);
    let i = c.info();
    assert_eq!((i.ssthresh, i.cwnd), (2000, 1000));
}

/// RFC 5681 §3.1: when the same segment times out again, ssthresh is held (the flight is then
/// one segment, which would give 2·MSS).
#[test]
fn a_second_timeout_of_the_same_segment_holds_ssthresh() {
    let mut c = wide(&[TcpOption::InitialWindow(8)]);
    c.send(&data(6000), 0);
    sent(&mut c);
    c.poll(RTO);
    c.poll(3 * RTO);
    assert_eq!(
        shape(&sent(&mut c)),
        [(ISS + 1, 1000), (ISS + 1, 1000)],
        "the same segment twice"
    );
    let i = c.info();
    assert_eq!((i.ssthresh, i.cwnd), (3000, 1000));
}

/// RFC 5681 (3): after a timeout, slow start runs up to ssthresh (2000), then congestion
/// avoidance adds MSS·MSS/cwnd per ACK: 2000 → 2500 → 2900 → 3244.
#[test]
fn above_ssthresh_congestion_avoidance_grows_the_window_slowly() {
    let mut c = wide(&[]);
    c.send(&data(4000), 0);
    sent(&mut c);
    c.poll(RTO);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 1000)]);
    assert_eq!((c.info().ssthresh, c.info().cwnd), (2000, 1000));
    ack(&mut c, ISS + 1001);
    assert_eq!(c.info().cwnd, 2000, "slow start");
    assert_eq!(
        shape(&sent(&mut c)),
        [(ISS + 1001, 1000), (ISS + 2001, 1000)],
        "go-back-N within the window"
    );
    let mut windows = Vec::new();
    for a in [ISS + 2001, ISS + 3001, ISS + 4001] {
        ack(&mut c, a);
        windows.push(c.info().cwnd);
    }
    assert_eq!(windows, [2500, 2900, 2900 + 1_000_000 / 2900]);
}
