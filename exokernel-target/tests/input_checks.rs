//! Hand-made frames through the stack's input path: each kind of bad frame is dropped and
//! counted in exactly its own counter; good frames with padding or IP options are handled.

mod common;

use common::{ip, ipv4_frame, mac, refill_ipv4_checksum, stack};
use exokernel_target::netstack::{NetConfig, NetConfigError, NetStack, NetStats, NoTcp};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, Icmpv4Packet, Icmpv4Repr,
    Ipv4Packet,
};

const ICMP: u8 = 1;

/// An ICMP echo request from host 1 to host 2.
fn echo_request(data: &[u8]) -> Vec<u8> {
    let repr = Icmpv4Repr::EchoRequest {
        ident: 5,
        seq_no: 6,
        data,
    };
    let mut icmp = vec![0; repr.buffer_len()];
    repr.emit(
        &mut Icmpv4Packet::new_unchecked(&mut icmp[..]),
        &ChecksumCapabilities::default(),
    );
    ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), ICMP, &icmp)
}

/// An ARP frame from host 1 to `dst_mac` asking who has `target`.
fn arp_request(dst_mac: EthernetAddress, sender: EthernetAddress, target: u8) -> Vec<u8> {
    let repr = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: sender,
        source_protocol_addr: ip(1),
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: ip(target),
    };
    let mut f = vec![0; 14 + repr.buffer_len()];
    f[0..6].copy_from_slice(&dst_mac.0);
    f[6..12].copy_from_slice(&sender.0);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    repr.emit(&mut ArpPacket::new_unchecked(&mut f[14..]));
    f
}

/// Feeds `frame` to a fresh host-2 stack and returns its counters and the frames it sent.
fn feed(frame: &[u8]) -> (NetStats, Vec<Vec<u8>>) {
    let mut b = stack::<NoTcp>(2);
    b.add_arp_entry(ip(1), mac(1), 0);
    b.receive_frame(frame, 0);
    let sent = std::iter::from_fn(|| b.pop_frame()).collect();
    (b.stats().clone(), sent)
}

/// Asserts the frame was dropped and counted by `counter` alone.
fn assert_dropped_by(frame: &[u8], counter: fn(&NetStats) -> u64, what: &str) {
    let (stats, sent) = feed(frame);
    assert!(sent.is_empty(), "{what}: nothing is sent");
    assert_eq!(counter(&stats), 1, "{what}: {stats:?}");
    assert_eq!(stats.rx_dropped(), 1, "{what}: counted once: {stats:?}");
}

#[test]
fn a_good_echo_request_is_answered() {
    let (stats, sent) = feed(&echo_request(b"ping"));
    assert_eq!(stats.icmp_echo_requests, 1);
    assert_eq!(stats.rx_dropped(), 0);
    assert_eq!(sent.len(), 1);
    let eth = EthernetFrame::new_checked(&sent[0][..]).expect("frame");
    assert_eq!(eth.dst_addr(), mac(1));
    let packet = Ipv4Packet::new_checked(eth.payload()).expect("packet");
    assert!(packet.verify_checksum());
    let icmp = Icmpv4Packet::new_checked(packet.payload()).expect("icmp");
    assert!(icmp.verify_checksum());
    assert_eq!(
        Icmpv4Repr::parse(&icmp, &ChecksumCapabilities::default()),
        Ok(Icmpv4Repr::EchoReply {
            ident: 5,
            seq_no: 6,
            data: b"ping"
        })
    );
}

#[test]
fn ethernet_padding_is_ignored() {
    let mut frame = echo_request(b"");
    frame.resize(60, 0xee);
    let (stats, sent) = feed(&frame);
    assert_eq!(stats.icmp_echo_requests, 1);
    let reply_len = 14 + 20 + 8;
    assert_eq!(sent[0].len(), reply_len, "the padding is not echoed");

    let mut arp = arp_request(EthernetAddress::BROADCAST, mac(1), 2);
    arp.resize(60, 0);
    let (stats, sent) = feed(&arp);
    assert_eq!(stats.arp_requests_received, 1);
    assert_eq!(sent.len(), 1);
}

#[test]
fn ip_options_are_accepted() {
    let plain = echo_request(b"opt");
    let mut frame = plain[..34].to_vec();
    frame.extend_from_slice(&[1, 1, 1, 0]); // NOP, NOP, NOP, end of options
    frame.extend_from_slice(&plain[34..]);
    frame[14] = 0x46;
    let total = u16::try_from(frame.len() - 14).expect("fits");
    frame[16..18].copy_from_slice(&total.to_be_bytes());
    refill_ipv4_checksum(&mut frame);
    let (stats, sent) = feed(&frame);
    assert_eq!(stats.icmp_echo_requests, 1, "{stats:?}");
    assert_eq!(sent.len(), 1);
}

#[test]
fn ethernet_level_drops() {
    assert_dropped_by(&[0; 10], |s| s.rx_malformed, "runt");
    let mut other_mac = echo_request(b"");
    other_mac[0..6].copy_from_slice(&mac(9).0);
    assert_dropped_by(&other_mac, |s| s.rx_not_for_us, "another host's frame");
    let mut multicast = echo_request(b"");
    multicast[0..6].copy_from_slice(&[0x01, 0, 0x5e, 0, 0, 1]);
    assert_dropped_by(&multicast, |s| s.rx_not_for_us, "multicast");
    let mut ipv6 = echo_request(b"");
    ipv6[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    assert_dropped_by(&ipv6, |s| s.rx_unsupported, "IPv6");
}

#[test]
fn ipv4_level_drops() {
    let good = echo_request(b"data");
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut frame = good.clone();
        f(&mut frame);
        frame
    };
    let fixed = |f: &dyn Fn(&mut Vec<u8>)| {
        edit(&|frame: &mut Vec<u8>| {
            f(frame);
            refill_ipv4_checksum(frame);
        })
    };
    assert_dropped_by(
        &edit(&|f| f.truncate(14 + 19)),
        |s| s.rx_malformed,
        "short header",
    );
    assert_dropped_by(&fixed(&|f| f[14] = 0x65), |s| s.rx_malformed, "version 6");
    assert_dropped_by(
        &edit(&|f| f[14] = 0x44),
        |s| s.rx_malformed,
        "header length 16",
    );
    assert_dropped_by(
        &fixed(&|f| f[16..18].copy_from_slice(&500u16.to_be_bytes())),
        |s| s.rx_malformed,
        "total length beyond the frame",
    );
    assert_dropped_by(
        &edit(&|f| f[22] ^= 0x01),
        |s| s.rx_bad_ipv4_checksum,
        "damaged header",
    );
    assert_dropped_by(
        &fixed(&|f| f[33] = 3),
        |s| s.rx_ip_not_for_us,
        "another destination",
    );
    assert_dropped_by(
        &fixed(&|f| f[20] |= 0x20),
        |s| s.rx_fragments,
        "more fragments",
    );
    assert_dropped_by(
        &fixed(&|f| f[21] = 8),
        |s| s.rx_fragments,
        "fragment offset",
    );
    assert_dropped_by(
        &fixed(&|f| f[26..30].copy_from_slice(&[255, 255, 255, 255])),
        |s| s.rx_bad_source,
        "broadcast source",
    );
    assert_dropped_by(
        &fixed(&|f| f[26..30].copy_from_slice(&ip(2).octets())),
        |s| s.rx_bad_source,
        "our own address as source",
    );
    assert_dropped_by(&fixed(&|f| f[23] = 17), |s| s.rx_unsupported, "UDP");
}

#[test]
fn icmp_level_drops() {
    let short = ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), ICMP, &[8, 0, 0, 0]);
    assert_dropped_by(&short, |s| s.rx_malformed, "short ICMP");
    let mut damaged = echo_request(b"data");
    let last = damaged.len() - 1;
    damaged[last] ^= 0x80;
    assert_dropped_by(&damaged, |s| s.rx_bad_icmp_checksum, "damaged ICMP");

    // Destination unreachable: valid, not an echo, ignored without a reply.
    let mut icmp = vec![3, 1, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&echo_request(b"")[14..14 + 28]);
    let sum = prolac_runtime::checksum::checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let (stats, sent) = feed(&ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), ICMP, &icmp));
    assert_eq!(stats.icmp_other, 1);
    assert!(sent.is_empty());
}

#[test]
fn tcp_level_drops() {
    let short = ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &[0; 10]);
    assert_dropped_by(&short, |s| s.rx_malformed, "short TCP");
    let mut bad_offset = common::tcp_segment((ip(1), 1), (ip(2), 2), 0, 0x02, b"");
    bad_offset[12] = 0xf0;
    let frame = ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &bad_offset);
    assert_dropped_by(&frame, |s| s.rx_malformed, "data offset beyond the segment");
}

/// RFC 9293 §3.10.7.1: a segment that no connection or listener takes is counted and answered
/// with a reset (<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> for a SYN), and a reset that no
/// one takes is not answered at all.
#[test]
fn a_segment_nobody_takes_is_answered_with_a_reset() {
    let seg = common::tcp_segment((ip(1), 1), (ip(2), 2), 7, 0x02, b"");
    let (stats, sent) = feed(&ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &seg));
    assert_eq!(
        (stats.tcp_unclaimed, stats.tcp_resets_sent),
        (1, 1),
        "{stats:?}"
    );
    assert_eq!(sent.len(), 1);
    let eth = EthernetFrame::new_checked(&sent[0][..]).expect("frame");
    let packet = Ipv4Packet::new_checked(eth.payload()).expect("packet");
    let rst = packet.payload();
    assert_eq!(
        (&rst[0..2], &rst[2..4]),
        (&2u16.to_be_bytes()[..], &1u16.to_be_bytes()[..])
    );
    assert_eq!(&rst[4..8], &0u32.to_be_bytes(), "SEQ=0");
    assert_eq!(&rst[8..12], &8u32.to_be_bytes(), "ACK=SEG.SEQ+1");
    assert_eq!(rst[13], 0x14, "RST,ACK");
    let reset = common::tcp_segment((ip(1), 1), (ip(2), 2), 7, 0x04, b"");
    let (stats, sent) = feed(&ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &reset));
    assert_eq!((stats.tcp_unclaimed, stats.tcp_resets_sent), (1, 0));
    assert!(sent.is_empty(), "a reset is never answered");
}

#[test]
fn arp_level_drops_and_answers() {
    let (stats, sent) = feed(&arp_request(EthernetAddress::BROADCAST, mac(1), 2));
    assert_eq!(stats.arp_requests_received, 1);
    let eth = EthernetFrame::new_checked(&sent[0][..]).expect("frame");
    assert_eq!(eth.dst_addr(), mac(1));
    let reply = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).expect("arp"));
    assert_eq!(
        reply,
        Ok(ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: mac(2),
            source_protocol_addr: ip(2),
            target_hardware_addr: mac(1),
            target_protocol_addr: ip(1),
        })
    );

    // Requests for other hosts: not answered, not counted as drops.
    let (stats, sent) = feed(&arp_request(EthernetAddress::BROADCAST, mac(1), 3));
    assert!(sent.is_empty());
    assert_eq!((stats.arp_requests_received, stats.rx_dropped()), (0, 0));

    let mut short = arp_request(EthernetAddress::BROADCAST, mac(1), 2);
    short.truncate(14 + 20);
    assert_dropped_by(&short, |s| s.rx_malformed, "short ARP");
    let mut token_ring = arp_request(EthernetAddress::BROADCAST, mac(1), 2);
    token_ring[15] = 6;
    assert_dropped_by(&token_ring, |s| s.rx_unsupported, "another hardware type");
    let mut odd_op = arp_request(EthernetAddress::BROADCAST, mac(1), 2);
    odd_op[21] = 9;
    assert_dropped_by(&odd_op, |s| s.rx_unsupported, "an unknown operation");
    let multicast_sender = EthernetAddress([0x01, 0, 0x5e, 0, 0, 7]);
    assert_dropped_by(
        &arp_request(EthernetAddress::BROADCAST, multicast_sender, 2),
        |s| s.rx_bad_source,
        "multicast sender",
    );
}

#[test]
fn queues_are_bounded() {
    let mut config = NetConfig::new(mac(2), ip(2));
    config.tx_queue_limit = 2;
    let mut b = NetStack::<NoTcp>::new(config).expect("valid");
    for _ in 0..5 {
        b.receive_frame(&arp_request(EthernetAddress::BROADCAST, mac(1), 2), 0);
    }
    assert_eq!(b.tx_queue_len(), 2);
    assert_eq!(b.stats().tx_queue_drops, 3);
}

#[test]
fn configurations_are_validated() {
    let ok = NetConfig::new(mac(1), ip(1));
    assert_eq!(ok.validate(), Ok(()));
    let with = |f: &dyn Fn(&mut NetConfig)| {
        let mut c = ok.clone();
        f(&mut c);
        NetStack::<NoTcp>::new(c).map(|_| ())
    };
    assert_eq!(
        with(&|c| c.mac = EthernetAddress::BROADCAST),
        Err(NetConfigError::Mac(EthernetAddress::BROADCAST))
    );
    assert_eq!(
        with(&|c| c.ip = core::net::Ipv4Addr::UNSPECIFIED),
        Err(NetConfigError::Ip(core::net::Ipv4Addr::UNSPECIFIED))
    );
    assert_eq!(with(&|c| c.mtu = 67), Err(NetConfigError::Mtu(67)));
    assert_eq!(with(&|c| c.ttl = 0), Err(NetConfigError::ZeroLimit));
    assert!(NetConfigError::Mtu(67).to_string().contains("67"));
    let b = stack::<NoTcp>(2);
    assert_eq!((b.mac(), b.ip()), (mac(2), ip(2)));
    assert_eq!(b.config().mtu, 1_500);
}
