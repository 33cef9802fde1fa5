//! The wire's promises: determinism from a seed, each fault at its configured rate, exact
//! latency and rate-limit timing, drop-tail queues, and independent directions.
//!
//! Statistical checks use bounds of about six standard deviations, so a correct wire fails
//! them with negligible probability; every test is seeded and prints its seed on failure.

use exokernel_target::wire::{ETHERNET_HEADER_LEN, EndId, LinkConfig, LinkStats, Wire, WireConfig};

/// A frame of `len` bytes whose payload starts with `id` (big-endian), the rest a pattern.
fn frame(id: u32, len: usize) -> Vec<u8> {
    let mut f: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31)).collect();
    f[ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + 4].copy_from_slice(&id.to_be_bytes());
    f
}

fn id_of(f: &[u8]) -> u32 {
    u32::from_be_bytes(
        f[ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + 4]
            .try_into()
            .expect("4"),
    )
}

/// A delivery: arrival time, receiving end, frame.
type Delivery = (u64, EndId, Vec<u8>);

/// Receives everything on the wire, advancing the clock event by event.
fn drain(wire: &mut Wire, ends: &[EndId]) -> Vec<Delivery> {
    let mut out = Vec::new();
    while let Some(t) = wire.next_event_at() {
        for &end in ends {
            while let Some(f) = wire.recv(end, t) {
                out.push((t, end, f));
            }
        }
    }
    out
}

/// Sends `n` frames from A to B, `gap_us` apart, and drains the wire.
fn one_way(wire: &mut Wire, n: u32, len: usize, gap_us: u64) -> Vec<Delivery> {
    let mut out = Vec::new();
    for i in 0..n {
        let now = u64::from(i) * gap_us;
        // Collect what has arrived so far, as a real receiver would.
        while let Some(f) = wire.recv(EndId::B, now) {
            out.push((now, EndId::B, f));
        }
        wire.send(EndId::A, &frame(i, len), now).expect("sent");
    }
    out.extend(drain(wire, &[EndId::B]));
    out
}

/// Asserts `observed` is within six standard deviations of a binomial(n, p) mean.
fn assert_binomial(what: &str, seed: u64, observed: u64, n: u64, p: f64) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    let slack = 6.0 * sd + 1.0;
    assert!(
        (observed as f64 - mean).abs() <= slack,
        "{what}: observed {observed} of {n}, expected {mean:.0} ± {slack:.0} (seed {seed})"
    );
}

fn stormy() -> LinkConfig {
    LinkConfig {
        latency_us: 100,
        loss: 0.1,
        duplicate: 0.1,
        reorder: 0.2,
        reorder_extra_max_us: 500,
        corrupt: 0.1,
        rate_bytes_per_sec: Some(10_000_000),
        queue_limit: Some(50),
    }
}

/// Both directions busy with every fault enabled.
fn stormy_run(seed: u64) -> (Vec<Delivery>, LinkStats) {
    let mut wire = Wire::new(WireConfig::new(seed, 2).all_links(stormy())).expect("valid");
    for i in 0..2_000u32 {
        let from = if i % 3 == 0 { EndId::B } else { EndId::A };
        let len = 60 + (i as usize * 7) % 1_400;
        wire.send(from, &frame(i, len), u64::from(i) * 20)
            .expect("sent");
    }
    let deliveries = drain(&mut wire, &[EndId::A, EndId::B]);
    (deliveries, wire.stats())
}

#[test]
fn same_seed_gives_the_same_deliveries() {
    let (first, first_stats) = stormy_run(17);
    let (second, second_stats) = stormy_run(17);
    assert_eq!(first, second);
    assert_eq!(first_stats, second_stats);
    assert!(first_stats.lost > 0 && first_stats.duplicated > 0);
    assert!(first_stats.reordered > 0 && first_stats.corrupted > 0);
}

#[test]
fn different_seeds_give_different_deliveries() {
    let (first, _) = stormy_run(17);
    let (second, _) = stormy_run(18);
    assert_ne!(first, second);
}

#[test]
fn loss_matches_its_probability() {
    for (seed, p) in [(1, 0.01), (2, 0.1), (3, 0.5)] {
        let link = LinkConfig {
            loss: p,
            ..LinkConfig::PERFECT
        };
        let mut wire = Wire::new(WireConfig::new(seed, 2).all_links(link)).expect("valid");
        let n = 20_000;
        let got = one_way(&mut wire, n, 64, 1);
        let stats = wire.stats();
        assert_eq!(stats.sent_frames, u64::from(n));
        assert_eq!(stats.delivered_frames, got.len() as u64);
        assert_eq!(stats.lost + stats.delivered_frames, u64::from(n));
        assert_binomial("loss", seed, stats.lost, u64::from(n), p);
    }
}

#[test]
fn duplication_matches_its_probability_and_copies_are_identical() {
    let seed = 4;
    let p = 0.2;
    let link = LinkConfig {
        duplicate: p,
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(seed, 2).all_links(link)).expect("valid");
    let n = 20_000;
    let got = one_way(&mut wire, n, 64, 1);
    let stats = wire.stats();
    assert_eq!(got.len() as u64, u64::from(n) + stats.duplicated);
    assert_binomial("duplicate", seed, stats.duplicated, u64::from(n), p);
    // Without reordering, a duplicate arrives right behind its original.
    let mut doubled = 0;
    for pair in got.windows(2) {
        if id_of(&pair[0].2) == id_of(&pair[1].2) {
            assert_eq!(pair[0], pair[1]);
            doubled += 1;
        }
    }
    assert_eq!(doubled, stats.duplicated);
}

#[test]
fn reordering_matches_its_probability_and_frames_overtake() {
    let seed = 5;
    let p = 0.3;
    let link = LinkConfig {
        reorder: p,
        reorder_extra_max_us: 1_000,
        latency_us: 50,
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(seed, 2).all_links(link)).expect("valid");
    let n = 10_000;
    let got = one_way(&mut wire, n, 64, 10);
    let stats = wire.stats();
    assert_eq!(got.len() as u64, u64::from(n));
    assert_binomial("reorder", seed, stats.reordered, u64::from(n), p);
    let ids: Vec<u32> = got.iter().map(|d| id_of(&d.2)).collect();
    let out_of_order = ids.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(out_of_order > 100, "only {out_of_order} inversions");
    // Every frame arrives once, and no frame arrives earlier than its latency allows or
    // later than latency plus the largest extra delay.
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>());
    for (t, _, f) in &got {
        let sent = u64::from(id_of(f)) * 10;
        assert!(
            *t >= sent + 50 && *t <= sent + 50 + 1_000 + 10,
            "{t} for {sent}"
        );
    }
}

#[test]
fn without_reordering_order_is_kept() {
    let link = LinkConfig {
        latency_us: 30,
        loss: 0.2,
        duplicate: 0.2,
        // (No corruption: it could damage the frame numbers this test compares.)
        rate_bytes_per_sec: Some(1_000_000),
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(6, 2).all_links(link)).expect("valid");
    let got = one_way(&mut wire, 5_000, 100, 50);
    let ids: Vec<u32> = got.iter().map(|d| id_of(&d.2)).collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn corruption_flips_exactly_one_payload_bit_at_its_probability() {
    let seed = 7;
    let p = 0.25;
    let link = LinkConfig {
        corrupt: p,
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(seed, 2).all_links(link)).expect("valid");
    let n = 20_000u32;
    let len = 100;
    let mut damaged = 0u64;
    for i in 0..n {
        let sent = frame(i, len);
        wire.send(EndId::A, &sent, u64::from(i)).expect("sent");
        let got = wire.recv(EndId::B, u64::from(i)).expect("perfect timing");
        let flipped: u32 = sent
            .iter()
            .zip(&got)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert!(flipped <= 1);
        if flipped == 1 {
            damaged += 1;
            assert_eq!(
                sent[..ETHERNET_HEADER_LEN],
                got[..ETHERNET_HEADER_LEN],
                "the Ethernet header is spared"
            );
        }
    }
    assert_eq!(damaged, wire.stats().corrupted);
    assert_binomial("corrupt", seed, damaged, u64::from(n), p);
}

#[test]
fn corruption_reaches_every_payload_byte() {
    let link = LinkConfig {
        corrupt: 1.0,
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(8, 2).all_links(link)).expect("valid");
    let len = 30;
    let mut hit = vec![false; len];
    for i in 0..2_000 {
        let sent = frame(0, len);
        wire.send(EndId::A, &sent, i).expect("sent");
        let got = wire.recv(EndId::B, i).expect("arrived");
        for (k, (a, b)) in sent.iter().zip(&got).enumerate() {
            hit[k] |= a != b;
        }
    }
    assert!(hit[..ETHERNET_HEADER_LEN].iter().all(|h| !h));
    assert!(hit[ETHERNET_HEADER_LEN..].iter().all(|h| *h));
}

#[test]
fn latency_delays_every_frame_exactly() {
    let link = LinkConfig {
        latency_us: 1_234,
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(9, 2).all_links(link)).expect("valid");
    wire.send(EndId::A, &frame(1, 60), 1_000).expect("sent");
    wire.send(EndId::B, &frame(2, 60), 1_500).expect("sent");
    assert_eq!(wire.next_event_at(), Some(2_234));
    assert_eq!(wire.recv(EndId::B, 2_233), None);
    assert_eq!(wire.recv(EndId::B, 2_234).map(|f| id_of(&f)), Some(1));
    assert_eq!(wire.next_event_at(), Some(2_734));
    assert_eq!(wire.recv(EndId::A, 5_000).map(|f| id_of(&f)), Some(2));
    assert_eq!(wire.in_flight(), 0);
}

#[test]
fn rate_limit_spaces_frames_by_their_transmission_time() {
    // 1 MB/s: a 1,000-byte frame takes exactly 1 ms; latency adds 50 µs.
    let link = LinkConfig {
        rate_bytes_per_sec: Some(1_000_000),
        latency_us: 50,
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(10, 2).all_links(link)).expect("valid");
    for i in 0..10 {
        wire.send(EndId::A, &frame(i, 1_000), 0).expect("sent");
    }
    let times: Vec<u64> = drain(&mut wire, &[EndId::B]).iter().map(|d| d.0).collect();
    let expected: Vec<u64> = (1..=10).map(|k| k * 1_000 + 50).collect();
    assert_eq!(times, expected);

    // A frame sent while the transmitter is idle starts at once.
    wire.send(EndId::A, &frame(99, 500), 100_000).expect("sent");
    assert_eq!(wire.next_event_at(), Some(100_550));
}

#[test]
fn rate_limit_sustains_its_throughput() {
    let rate = 12_500_000; // 100 Mbit/s
    let link = LinkConfig {
        rate_bytes_per_sec: Some(rate),
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(11, 2).all_links(link)).expect("valid");
    let mut bytes = 0u64;
    for i in 0..5_000u32 {
        let len = 64 + (i as usize * 37) % 1_450;
        bytes += len as u64;
        wire.send(EndId::A, &frame(i, len), 0).expect("sent");
    }
    let last = drain(&mut wire, &[EndId::B])
        .last()
        .map(|d| d.0)
        .expect("frames");
    // Exact arithmetic: the last byte leaves at bytes / rate seconds, rounded up.
    assert_eq!(last, (bytes * 1_000_000).div_ceil(rate));
}

#[test]
fn queue_limit_drops_the_tail() {
    let link = LinkConfig {
        rate_bytes_per_sec: Some(1_000_000),
        queue_limit: Some(5),
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(12, 2).all_links(link)).expect("valid");
    for i in 0..20 {
        wire.send(EndId::A, &frame(i, 1_000), 0).expect("sent");
    }
    let stats = wire
        .link_stats(EndId::A, EndId::B)
        .expect("direction")
        .clone();
    assert_eq!(stats.queue_drops, 15);
    assert_eq!(stats.dropped(), 15);
    let got = drain(&mut wire, &[EndId::B]);
    let ids: Vec<u32> = got.iter().map(|d| id_of(&d.2)).collect();
    assert_eq!(
        ids,
        [0, 1, 2, 3, 4],
        "the first five are kept, the tail dropped"
    );
    // Once the queue has drained, frames are accepted again.
    wire.send(EndId::A, &frame(20, 1_000), 10_000)
        .expect("sent");
    assert_eq!(drain(&mut wire, &[EndId::B]).len(), 1);
}

#[test]
fn directions_are_configured_and_drawn_independently() {
    let lossy = LinkConfig {
        loss: 1.0,
        ..LinkConfig::PERFECT
    };
    let mut wire =
        Wire::new(WireConfig::new(13, 2).link(EndId::A, EndId::B, lossy)).expect("valid");
    wire.send(EndId::A, &frame(1, 60), 0).expect("sent");
    wire.send(EndId::B, &frame(2, 60), 0).expect("sent");
    assert_eq!(wire.recv(EndId::B, 0), None);
    assert_eq!(wire.recv(EndId::A, 0).map(|f| id_of(&f)), Some(2));
    assert_eq!(wire.link_stats(EndId::A, EndId::B).map(|s| s.lost), Some(1));
    assert_eq!(wire.link_stats(EndId::B, EndId::A).map(|s| s.lost), Some(0));

    // The fate of A → B frames does not depend on traffic B → A.
    let run = |with_reverse_traffic: bool| {
        let link = LinkConfig {
            loss: 0.3,
            ..LinkConfig::PERFECT
        };
        let mut wire = Wire::new(WireConfig::new(14, 2).all_links(link)).expect("valid");
        let mut got = Vec::new();
        for i in 0..1_000 {
            wire.send(EndId::A, &frame(i, 60), u64::from(i))
                .expect("sent");
            if with_reverse_traffic {
                wire.send(EndId::B, &frame(i, 60), u64::from(i))
                    .expect("sent");
            }
            got.extend(wire.recv(EndId::B, u64::from(i)).map(|f| id_of(&f)));
        }
        got
    };
    assert_eq!(run(false), run(true));
}

#[test]
fn every_other_endpoint_of_a_segment_receives_a_frame() {
    let mut wire = Wire::new(WireConfig::new(15, 3).link(
        EndId::A,
        EndId::C,
        LinkConfig {
            latency_us: 10,
            ..LinkConfig::PERFECT
        },
    ))
    .expect("valid");
    wire.send(EndId::A, &frame(1, 60), 0).expect("sent");
    let got = drain(&mut wire, &[EndId::A, EndId::B, EndId::C]);
    let seen: Vec<(u64, EndId)> = got.iter().map(|d| (d.0, d.1)).collect();
    assert_eq!(seen, [(0, EndId::B), (10, EndId::C)]);
}
