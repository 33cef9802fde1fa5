//! Two library-OS stacks on a wire: ARP resolution (cache, pending queue, retries, expiry,
//! no learning from strangers) and ICMP echo, including over a corrupting link.

mod common;

use common::{ip, mac, settle, stack};
use exokernel_target::netstack::{EchoReply, NetConfig, NetStack, NoTcp, SendError};
use exokernel_target::wire::{EndId, LinkConfig, Wire, WireConfig};
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
};

fn wire_with_latency(seed: u64, latency_us: u64) -> Wire {
    let link = LinkConfig {
        latency_us,
        ..LinkConfig::PERFECT
    };
    Wire::new(WireConfig::new(seed, 2).all_links(link)).expect("valid")
}

#[test]
fn arp_resolves_before_the_first_packet_and_both_sides_learn() {
    let mut wire = wire_with_latency(1, 100);
    let (mut a, mut b) = (stack::<NoTcp>(1), stack::<NoTcp>(2));
    a.send_ping(ip(2), 1, 1, b"x", 0).expect("queued");
    assert_eq!(a.pending_len(), 1);

    // The first frame A sends is a broadcast ARP request for B.
    let first = a.pop_frame().expect("ARP request");
    let eth = EthernetFrame::new_checked(&first[..]).expect("frame");
    assert_eq!(eth.dst_addr(), EthernetAddress::BROADCAST);
    assert_eq!(eth.ethertype(), EthernetProtocol::Arp);
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).expect("arp")).expect("repr");
    assert_eq!(
        arp,
        ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: mac(1),
            source_protocol_addr: ip(1),
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: ip(2),
        }
    );
    wire.send(EndId::A, &first, 0).expect("sent");

    let end = settle(&mut wire, &mut a, &mut b, 0, 10_000_000);
    // Request out, reply back, echo out, echo back: four crossings of 100 µs.
    assert_eq!(end, 400);
    assert_eq!(a.arp_lookup(ip(2), end), Some(mac(2)));
    assert_eq!(b.arp_lookup(ip(1), end), Some(mac(1)));
    assert_eq!(a.stats().arp_requests_sent, 1);
    assert_eq!(a.stats().arp_replies_received, 1);
    assert_eq!(b.stats().arp_requests_received, 1);
    assert_eq!(
        b.stats().arp_requests_sent,
        0,
        "B learned A from its request"
    );
    assert_eq!(a.pending_len(), 0);
    assert_eq!(a.take_echo_replies().len(), 1);
}

#[test]
fn echo_requests_are_answered_with_their_data() {
    let mut wire = wire_with_latency(2, 250);
    let (mut a, mut b) = (stack::<NoTcp>(1), stack::<NoTcp>(2));
    let sizes = [0usize, 1, 56, 1_000, 1_472];
    for (seq, &size) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..size).map(|i| (i * 7 + seq) as u8).collect();
        let seq = u16::try_from(seq).expect("small");
        a.send_ping(ip(2), 0x1234, seq, &data, 0)
            .expect("fits the MTU");
    }
    settle(&mut wire, &mut a, &mut b, 0, 10_000_000);
    let replies = a.take_echo_replies();
    let expected: Vec<EchoReply> = sizes
        .iter()
        .enumerate()
        .map(|(seq, &size)| EchoReply {
            from: ip(2),
            ident: 0x1234,
            seq_no: u16::try_from(seq).expect("small"),
            data: (0..size).map(|i| (i * 7 + seq) as u8).collect(),
            received_us: 1_000,
        })
        .collect();
    assert_eq!(replies, expected);
    assert_eq!(b.stats().icmp_echo_requests, 5);
    assert_eq!(a.stats().icmp_echo_replies, 5);
    assert!(a.take_echo_replies().is_empty());
    assert_eq!(
        a.send_ping(ip(2), 1, 1, &[0; 1_473], 0),
        Err(SendError::TooLong {
            len: 1_501,
            mtu: 1_500
        })
    );
    assert_eq!(
        a.send_ping(ip(1), 1, 1, b"", 0),
        Err(SendError::BadDestination(ip(1)))
    );
}

#[test]
fn unanswered_arp_is_retried_then_abandoned() {
    let mut wire = wire_with_latency(3, 10);
    let (mut a, mut b) = (stack::<NoTcp>(1), stack::<NoTcp>(2));
    a.send_ping(ip(99), 1, 1, b"anyone?", 0).expect("queued");
    let end = settle(&mut wire, &mut a, &mut b, 0, 60_000_000);
    assert_eq!(
        end, 3_000_000,
        "three requests a second apart, then give up"
    );
    assert_eq!(a.stats().arp_requests_sent, 3);
    assert_eq!(a.stats().arp_failures, 1);
    assert_eq!(a.stats().tx_pending_drops, 1);
    assert_eq!(a.pending_len(), 0);
    assert_eq!(a.poll_at(), None);
    // B saw the broadcasts but learned nothing from a conversation it is not part of.
    assert_eq!(b.stats().rx_frames, 3);
    assert_eq!(b.arp_lookup(ip(1), end), None);
}

#[test]
fn the_pending_queue_is_bounded_and_flushed_in_order() {
    let mut wire = wire_with_latency(4, 10);
    let mut config = NetConfig::new(mac(1), ip(1));
    config.pending_limit = 4;
    let mut a = NetStack::<NoTcp>::new(config).expect("valid");
    let mut b = stack::<NoTcp>(2);
    for seq in 0..10 {
        a.send_ping(ip(2), 9, seq, b"q", 0).expect("accepted");
    }
    assert_eq!(a.pending_len(), 4);
    assert_eq!(a.stats().tx_pending_drops, 6);
    settle(&mut wire, &mut a, &mut b, 0, 10_000_000);
    let seqs: Vec<u16> = a.take_echo_replies().iter().map(|r| r.seq_no).collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
}

#[test]
fn cache_entries_expire_and_are_resolved_again() {
    let mut wire = wire_with_latency(5, 10);
    let mut config = NetConfig::new(mac(1), ip(1));
    config.arp_lifetime_us = 1_000_000;
    let mut a = NetStack::<NoTcp>::new(config).expect("valid");
    let mut b = stack::<NoTcp>(2);
    a.send_ping(ip(2), 1, 1, b"", 0).expect("queued");
    let now = settle(&mut wire, &mut a, &mut b, 0, 10_000_000);
    a.send_ping(ip(2), 1, 2, b"", now + 500_000)
        .expect("cached");
    let now = settle(&mut wire, &mut a, &mut b, now + 500_000, 10_000_000);
    assert_eq!(a.stats().arp_requests_sent, 1, "still cached");
    a.send_ping(ip(2), 1, 3, b"", now + 2_000_000)
        .expect("expired");
    settle(&mut wire, &mut a, &mut b, now + 2_000_000, 10_000_000);
    assert_eq!(a.stats().arp_requests_sent, 2, "resolved again");
    assert_eq!(a.take_echo_replies().len(), 3);
}

#[test]
fn static_entries_skip_resolution() {
    let mut wire = wire_with_latency(6, 10);
    let (mut a, mut b) = (stack::<NoTcp>(1), stack::<NoTcp>(2));
    a.add_arp_entry(ip(2), mac(2), 0);
    b.add_arp_entry(ip(1), mac(1), 0);
    a.send_ping(ip(2), 1, 1, b"", 0).expect("queued");
    assert_eq!(a.tx_queue_len(), 1, "sent straight away");
    settle(&mut wire, &mut a, &mut b, 0, 1_000_000);
    assert_eq!(a.stats().arp_requests_sent + b.stats().arp_requests_sent, 0);
    assert_eq!(a.take_echo_replies().len(), 1);
}

#[test]
fn a_third_host_is_not_learned_from_other_hosts_conversations() {
    let mut wire = Wire::new(WireConfig::new(7, 3)).expect("valid");
    let (mut a, mut b, mut c) = (stack::<NoTcp>(1), stack::<NoTcp>(2), stack::<NoTcp>(3));
    c.send_ping(ip(2), 1, 1, b"hi", 0).expect("queued");
    for now in 0..5 {
        a.drive(&mut wire.port(EndId::A).expect("A"), now);
        b.drive(&mut wire.port(EndId::B).expect("B"), now);
        c.drive(&mut wire.port(EndId::C).expect("C"), now);
    }
    assert_eq!(c.take_echo_replies().len(), 1);
    assert_eq!(b.arp_lookup(ip(3), 5), Some(mac(3)));
    assert_eq!(a.arp_lookup(ip(3), 5), None);
    assert_eq!(a.arp_lookup(ip(2), 5), None);
    // A saw the broadcast request; the unicast frames were not for it.
    assert_eq!(a.stats().rx_frames, a.stats().rx_not_for_us + 1);
}

#[test]
fn corrupted_ipv4_frames_are_all_caught_by_checksums() {
    let mut wire = wire_with_latency(8, 10);
    let (mut a, mut b) = (stack::<NoTcp>(1), stack::<NoTcp>(2));
    // Resolve over a clean wire first: ARP has no checksum to protect it.
    a.send_ping(ip(2), 1, 0, b"clean", 0).expect("queued");
    let now = settle(&mut wire, &mut a, &mut b, 0, 1_000_000);
    assert_eq!(a.take_echo_replies().len(), 1);

    wire.set_link(
        EndId::A,
        EndId::B,
        LinkConfig {
            corrupt: 1.0,
            latency_us: 10,
            ..LinkConfig::PERFECT
        },
    )
    .expect("valid");
    let before = b.stats().clone();
    let n = 500;
    for seq in 1..=n {
        let data: Vec<u8> = (0..(seq % 200)).map(|i| i as u8).collect();
        a.send_ping(ip(2), 1, seq, &data, now).expect("queued");
    }
    settle(&mut wire, &mut a, &mut b, now, 10_000_000);
    let after = b.stats();
    assert_eq!(
        wire.link_stats(EndId::A, EndId::B).map(|s| s.corrupted),
        Some(u64::from(n))
    );
    assert_eq!(
        after.icmp_echo_requests, before.icmp_echo_requests,
        "none answered"
    );
    assert!(a.take_echo_replies().is_empty());
    let dropped = after.rx_dropped() - before.rx_dropped();
    assert_eq!(
        dropped,
        u64::from(n),
        "every corrupted frame dropped: {after:?}"
    );
    let by_checksum = after.rx_bad_checksums() - before.rx_bad_checksums();
    let malformed = after.rx_malformed - before.rx_malformed;
    assert_eq!(by_checksum + malformed, u64::from(n));
    assert!(after.rx_bad_ipv4_checksum > 0 && after.rx_bad_icmp_checksum > 0);
}

#[test]
fn echo_replies_kept_are_bounded() {
    let mut wire = wire_with_latency(9, 10);
    let mut config = NetConfig::new(mac(1), ip(1));
    config.echo_reply_limit = 2;
    let mut a = NetStack::<NoTcp>::new(config).expect("valid");
    let mut b = stack::<NoTcp>(2);
    for seq in 0..3 {
        a.send_ping(ip(2), 1, seq, b"", 0).expect("queued");
    }
    settle(&mut wire, &mut a, &mut b, 0, 1_000_000);
    let seqs: Vec<u16> = a.take_echo_replies().iter().map(|r| r.seq_no).collect();
    assert_eq!(seqs, [1, 2], "the oldest is discarded");
    assert_eq!(a.stats().icmp_echo_replies, 3);
}
