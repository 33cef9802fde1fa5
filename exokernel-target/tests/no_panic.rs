//! Property tests: hostile bytes never panic the stack's input path, the pcap reader or the
//! segment view, and random wire configurations keep the wire's accounting exact.
//!
//! `PROLAC_FUZZ_SCALE` multiplies the number of cases, as in the other crates.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{ip, ipv4_frame, mac, stack, tcp_segment};
use exokernel_target::netstack::{NetStack, TcpContext, TcpHandler, TcpSegment};
use exokernel_target::pcap::{PcapRecorder, parse_pcap};
use exokernel_target::wire::{EndId, LinkConfig, Wire, WireConfig};
use proptest::prelude::*;

fn cases(base: u32) -> ProptestConfig {
    let scale = std::env::var("PROLAC_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    ProptestConfig::with_cases(base.saturating_mul(scale))
}

/// A handler that counts segments and answers each with a segment of its own, so that the
/// output path runs on fuzzed input too.
#[derive(Debug)]
struct Counter(Rc<RefCell<u64>>);

impl TcpHandler for Counter {
    fn segment(&mut self, segment: &TcpSegment<'_>, ctx: &mut TcpContext<Self>) {
        *self.0.borrow_mut() += 1;
        let reply = tcp_segment(
            (segment.dst(), segment.dst_port()),
            (segment.src(), segment.src_port()),
            0,
            0x14,
            b"",
        );
        // Fuzzed sources may be unroutable; refusing them is the point.
        let _ = ctx.send_tcp(segment.dst(), segment.src(), &reply);
    }
}

fn fuzz_stack(count: &Rc<RefCell<u64>>) -> NetStack<Counter> {
    let mut b = stack::<Counter>(2);
    b.listen(80, Counter(Rc::clone(count)));
    b.add_arp_entry(ip(1), mac(1), 0);
    b
}

/// Valid frames of every kind the stack handles, to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let seg = tcp_segment((ip(1), 1234), (ip(2), 80), 1, 0x02, b"hello");
    let mut echo = vec![8, 0, 0, 0, 0, 1, 0, 1, b'x', b'y'];
    let sum = prolac_runtime::checksum::checksum(&echo);
    echo[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&mac(1).0);
    arp.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend_from_slice(&mac(1).0);
    arp.extend_from_slice(&ip(1).octets());
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&ip(2).octets());
    vec![
        ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &seg),
        ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 1, &echo),
        arp,
    ]
}

/// A mutation of a seed frame: flip, set, truncate or extend.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Extend(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, m)| Mutation::Flip(i, m)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
        any::<usize>().prop_map(Mutation::Truncate),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Extend),
    ]
}

fn apply(frame: &mut Vec<u8>, m: &Mutation) {
    let len = frame.len().max(1);
    match m {
        Mutation::Flip(i, mask) => {
            if let Some(b) = frame.get_mut(i % len) {
                *b ^= mask;
            }
        }
        Mutation::Set(i, v) => {
            if let Some(b) = frame.get_mut(i % len) {
                *b = *v;
            }
        }
        Mutation::Truncate(n) => frame.truncate(n % len),
        Mutation::Extend(bytes) => frame.extend_from_slice(bytes),
    }
}

proptest! {
    #![proptest_config(cases(2_000))]

    #[test]
    fn random_bytes_never_panic_the_stack(frames in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..1_600), 1..8))
    {
        let count = Rc::new(RefCell::new(0));
        let mut b = fuzz_stack(&count);
        for (t, f) in frames.iter().enumerate() {
            b.receive_frame(f, t as u64);
            b.poll(t as u64);
        }
        while b.pop_frame().is_some() {}
        prop_assert_eq!(b.stats().rx_frames, frames.len() as u64);
    }

    #[test]
    fn frames_for_us_with_random_contents_never_panic(
        ethertype in prop_oneof![Just(0x0800u16), Just(0x0806u16), any::<u16>()],
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let count = Rc::new(RefCell::new(0));
        let mut b = fuzz_stack(&count);
        let mut frame = mac(2).0.to_vec();
        frame.extend_from_slice(&mac(1).0);
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame.extend_from_slice(&body);
        b.receive_frame(&frame, 0);
        prop_assert_eq!(b.stats().rx_frames, 1);
    }

    #[test]
    fn valid_ipv4_with_random_payloads_never_panics(
        proto in prop_oneof![Just(1u8), Just(6u8), any::<u8>()],
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        icmp_type in prop_oneof![Just(0u8), Just(8u8), Just(3u8), Just(11u8), any::<u8>()],
        fix_checksum in any::<bool>(),
    ) {
        let count = Rc::new(RefCell::new(0));
        let mut b = fuzz_stack(&count);
        let mut payload = payload;
        // Give the inner checksum a chance to be right, so the deeper layers run too.
        if fix_checksum {
            match proto {
                1 if payload.len() >= 4 => {
                    payload[0] = icmp_type;
                    payload[1] = 0;
                    payload[2..4].fill(0);
                    let sum = prolac_runtime::checksum::checksum(&payload);
                    payload[2..4].copy_from_slice(&sum.to_be_bytes());
                }
                6 if payload.len() >= 20 => {
                    let _ = exokernel_target::netstack::fill_tcp_checksum(ip(1), ip(2), &mut payload);
                }
                _ => {}
            }
        }
        let frame = ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), proto, &payload);
        b.receive_frame(&frame, 0);
        while b.pop_frame().is_some() {}
        prop_assert_eq!(b.stats().rx_frames, 1);
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        seed in 0..3usize,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let count = Rc::new(RefCell::new(0));
        let mut b = fuzz_stack(&count);
        let mut frame = seeds()[seed].clone();
        for m in &mutations {
            apply(&mut frame, m);
        }
        b.receive_frame(&frame, 0);
        while b.pop_frame().is_some() {}
        let stats = b.stats();
        // A frame is handled or dropped, never both and never neither (an ARP request for
        // someone else and an ARP reply are handled without a counter of their own).
        let handled = stats.arp_requests_received + stats.arp_replies_received
            + stats.icmp_echo_requests + stats.icmp_echo_replies + stats.icmp_other
            + stats.icmp_errors_delivered
            + stats.tcp_delivered;
        prop_assert!(handled + stats.rx_dropped() <= 1, "{:?}", stats);
        prop_assert_eq!(*count.borrow(), stats.tcp_delivered);
    }

    #[test]
    fn random_valid_tcp_segments_reach_handlers_without_panic(
        src_port in any::<u16>(),
        dst_port in prop_oneof![Just(80u16), any::<u16>()],
        offset_words in 0..16u8,
        rest in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let count = Rc::new(RefCell::new(0));
        let mut b = fuzz_stack(&count);
        let mut seg = tcp_segment((ip(1), src_port), (ip(2), dst_port), 0, 0, &rest);
        seg[12] = offset_words << 4;
        exokernel_target::netstack::fill_tcp_checksum(ip(1), ip(2), &mut seg).expect("fits");
        let frame = ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &seg);
        b.receive_frame(&frame, 0);
        let well_formed = (5..=15).contains(&offset_words) && usize::from(offset_words) * 4 <= seg.len();
        let delivered = well_formed && dst_port == 80;
        prop_assert_eq!(*count.borrow(), u64::from(delivered));
        prop_assert_eq!(b.stats().tcp_delivered, u64::from(delivered));
        prop_assert_eq!(b.stats().rx_malformed, u64::from(!well_formed));
        // The handler answers each segment; one for no handler is answered with a reset.
        let unclaimed = well_formed && dst_port != 80;
        prop_assert_eq!(b.stats().tcp_resets_sent, u64::from(unclaimed));
        prop_assert_eq!(b.tx_queue_len(), usize::from(delivered || unclaimed));
    }

    #[test]
    fn segment_views_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        if let Ok(seg) = TcpSegment::new(ip(1), ip(2), &bytes) {
            prop_assert_eq!(seg.header().len() + seg.payload().len(), bytes.len());
            let _ = (seg.src_port(), seg.dst_port(), seg.key());
        }
    }

    #[test]
    fn random_bytes_never_panic_the_pcap_reader(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_pcap(&bytes);
    }

    #[test]
    fn mutated_captures_never_panic_the_pcap_reader(
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut rec = PcapRecorder::new(Vec::new()).expect("header");
        for (i, f) in seeds().iter().enumerate() {
            rec.record(i as u64, f).expect("recorded");
        }
        let mut bytes = rec.finish().expect("flushed");
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let _ = parse_pcap(&bytes);
    }
}

/// A probability that is often exactly 0 or 1.
fn probability() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64]
}

fn link_config() -> impl Strategy<Value = LinkConfig> {
    (
        (0..5_000u64, probability(), probability(), probability()),
        (1..5_000u64, probability()),
        (
            proptest::option::of(1..100_000_000u64),
            proptest::option::of(0..20usize),
        ),
    )
        .prop_map(
            |((latency_us, loss, duplicate, reorder), (extra, corrupt), (rate, queue))| {
                LinkConfig {
                    latency_us,
                    loss,
                    duplicate,
                    reorder,
                    reorder_extra_max_us: extra,
                    corrupt,
                    rate_bytes_per_sec: rate,
                    queue_limit: queue,
                }
            },
        )
}

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn the_wire_accounts_for_every_frame(
        seed in any::<u64>(),
        ab in link_config(),
        ba in link_config(),
        sends in proptest::collection::vec((any::<bool>(), 0..2_000usize, 0..1_000u64), 1..60),
    ) {
        let config = WireConfig::new(seed, 2).link(EndId::A, EndId::B, ab).link(EndId::B, EndId::A, ba);
        let mut wire = Wire::new(config).expect("valid");
        let mut now = 0;
        let mut received = 0u64;
        for (from_a, len, gap) in sends {
            now += gap;
            let from = if from_a { EndId::A } else { EndId::B };
            let frame = vec![0xa5; len];
            let accepted = wire.send(from, &frame, now).is_ok();
            prop_assert_eq!(accepted, (14..=1_514).contains(&len));
            for end in [EndId::A, EndId::B] {
                while wire.recv(end, now).is_some() {
                    received += 1;
                }
            }
        }
        while let Some(t) = wire.next_event_at() {
            for end in [EndId::A, EndId::B] {
                while wire.recv(end, t).is_some() {
                    received += 1;
                }
            }
        }
        let s = wire.stats();
        prop_assert_eq!(s.delivered_frames, received);
        prop_assert_eq!(s.sent_frames + s.duplicated, s.delivered_frames + s.dropped());
        prop_assert_eq!(wire.in_flight(), 0);
    }
}
