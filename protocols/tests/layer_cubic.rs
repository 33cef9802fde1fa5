//! Layer Cubic (`tcp/cubic.pc`; RFC 9438), in the [`Cubic`] variant, against Reno's congestion
//! avoidance in [`Full`]: the multiplicative decrease to β = 0.7 (§4.6) on three duplicate
//! ACKs and on a timeout, slow start unchanged, and the window's growth after a loss — concave
//! up to the window where the loss happened (W_max, reached about K seconds later, §4.2) and
//! convex beyond it, faster than Reno's — under an ideal peer that acknowledges every segment
//! one round trip (500 ms) after it was sent.

mod common;

use common::*;
use protocols::tcp::{Config, Connection, Cubic, Full, TcpOption, Variant};

const RTT: u64 = 500;

/// ESTABLISHED (passive open) with an initial window of `segments`, SACK, scaling and
/// timestamps off, the peer offering 65,535 bytes; 4 MiB queued and the first window sent.
fn loaded<V: Variant>(segments: u32) -> (Connection<V>, Vec<Out>) {
    let mut c: Connection<V> = open_passive(
        Config {
            initial_seq: ISS,
            receive_capacity: RCV_BUF,
            send_capacity: 4 << 20,
            ..Config::default()
        },
        &[
            TcpOption::QuickAck(true),
            TcpOption::NoDelay(true),
            TcpOption::InitialWindow(segments),
            TcpOption::WindowScale(false),
            TcpOption::Timestamps(false),
            TcpOption::Sack(false),
        ],
        peer_syn().window(65_535),
        0,
        0,
    );
    // The handshake's ACK offered the usual 8192; the peer opens its window.
    c.input(&peer_ack(IRS + 1, ISS + 1).window(65_535).bytes(), 0);
    c.send(&data(4 << 20), 0);
    let out = sent_by(&mut c);
    (c, out)
}

fn ack<V: Variant>(c: &mut Connection<V>, ack: u32, now: u64) -> Vec<Out> {
    c.input(&peer_ack(IRS + 1, ack).window(65_535).bytes(), now);
    sent_by(c)
}

/// Three duplicate ACKs for a flight of `segments`: the (ssthresh, cwnd) recovery starts with.
fn after_dupacks<V: Variant>(segments: u32) -> (u32, u32) {
    let (mut c, _) = loaded::<V>(segments);
    for k in 1..=3 {
        ack(&mut c, ISS + 1, 10 * k);
    }
    let i = c.info();
    assert!(i.in_recovery);
    (i.ssthresh, i.cwnd)
}

/// §4.6: ssthresh = β_cubic · FlightSize with β_cubic = 0.7, where Reno halves it. (The flight
/// is 10 segments: 8, plus one each for the first two duplicate ACKs, RFC 3042.)
#[test]
fn three_duplicate_acks_cut_the_window_to_seven_tenths() {
    assert_eq!(after_dupacks::<Cubic>(8).0, 7000);
    assert_eq!(after_dupacks::<Full>(8).0, 5000);
}

/// §4.8: a timeout also takes ssthresh to 0.7 of the flight; the window restarts from one
/// segment.
#[test]
fn a_timeout_cuts_to_seven_tenths_and_restarts_from_one_segment() {
    let (mut c, out) = loaded::<Cubic>(10);
    assert_eq!(out.len(), 10);
    let t = c.poll_at().expect("the retransmission timer");
    c.poll(t);
    let i = c.info();
    assert_eq!((i.ssthresh, i.cwnd), (7000, 1000));
}

/// Slow start is Congestion's: one segment more per ACK below ssthresh, in both variants.
#[test]
fn slow_start_is_unchanged() {
    for cwnd in [grown::<Cubic>(), grown::<Full>()] {
        assert_eq!(cwnd, 4000 + 4 * 1000);
    }
}

fn grown<V: Variant>() -> u32 {
    let (mut c, out) = loaded::<V>(4);
    for o in &out {
        ack(&mut c, o.seq + o.seq_len(), 100);
    }
    c.info().cwnd
}

/// The congestion window after each of `rounds` round trips of `rtt` ms that follow a loss in
/// a flight of 40 segments (recovered by NewReno, then congestion avoidance).
fn after_a_loss<V: Variant>(rounds: usize, rtt: u64) -> Vec<u32> {
    let (mut c, _) = loaded::<V>(40);
    for k in 1..=3 {
        ack(&mut c, ISS + 1, 10 * k);
    }
    // The retransmission arrives: everything sent is acknowledged; recovery ends.
    let mut now = RTT;
    let all = c.info().snd_max;
    let mut flight = ack(&mut c, all, now);
    assert!(!c.info().in_recovery);
    let mut cwnd = Vec::new();
    for _ in 0..rounds {
        now += rtt;
        let mut next = Vec::new();
        for o in &flight {
            next.extend(ack(&mut c, o.seq + o.seq_len(), now));
        }
        flight = next;
        cwnd.push(c.info().cwnd);
    }
    cwnd
}

/// §4.2: W(t) = C·(t − K)³ + W_max. After a loss at W_max = 40 segments (and NewReno's exit
/// from recovery with nothing in flight, which restarts slow start up to ssthresh = 28 segments)
/// the window climbs back towards W_max, each round trip adding less (concave), flattens out
/// within 5 % of W_max, and then grows faster again past it (convex) — where Reno, from
/// ssthresh = 20 segments, adds one segment a round trip.
#[test]
fn the_window_grows_back_to_w_max_concave_then_convex() {
    let cubic = after_a_loss::<Cubic>(16, RTT);
    let reno = after_a_loss::<Full>(16, RTT);
    // Congestion avoidance starts once slow start passes ssthresh (28,000 bytes).
    let start = cubic.iter().position(|&w| w >= 28_000).expect("avoidance") + 1;
    let growth: Vec<i64> = cubic[start - 1..]
        .windows(2)
        .map(|w| i64::from(w[1]) - i64::from(w[0]))
        .collect();
    let flat = (0..growth.len())
        .min_by_key(|&i| growth[i])
        .expect("rounds");
    assert!(flat > 0 && flat + 1 < growth.len(), "{cubic:?}");
    assert!(
        growth[..flat].windows(2).all(|g| g[0] >= g[1]),
        "concave: {growth:?}"
    );
    assert!(
        growth[flat..].windows(2).all(|g| g[0] <= g[1]),
        "convex: {growth:?}"
    );
    let plateau = cubic[start + flat];
    assert!((38_000..=42_000).contains(&plateau), "{cubic:?}");
    assert!(cubic.last() > Some(&42_000), "past W_max: {cubic:?}");
    assert!(
        cubic[start..]
            .iter()
            .zip(&reno[start..])
            .all(|(c, r)| c > r),
        "{cubic:?} vs {reno:?}"
    );
}

/// §4.3: where Reno would be faster — round trips of 10 ms, so that W(t) barely moves from
/// one to the next near W_max — the window follows the Reno-friendly estimate instead: every
/// round trip of congestion avoidance adds about α_cubic = 0.53 segments.
#[test]
fn the_reno_friendly_estimate_is_a_floor() {
    let cubic = after_a_loss::<Cubic>(40, 10);
    let start = cubic.iter().position(|&w| w >= 28_000).expect("avoidance");
    for pair in cubic[start..].windows(2) {
        let g = pair[1] - pair[0];
        assert!((450..1000).contains(&g), "{g} in {cubic:?}");
    }
}
