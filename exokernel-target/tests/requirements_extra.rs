//! RFC 9293 requirements that fall to the host around the TCP, checked on the library-OS
//! stack with the Prolac TCP as its handler (`NetStack<ProlacTcp>`, host 2 at 192.0.2.2
//! listening on port 80 unless said otherwise): the TTL of what it sends, OPENs to and SYNs
//! from or to addresses that are not a unicast host, IP options it does not know, ICMP soft
//! errors and source quench, the MSS it announces against what it can receive, and the local
//! address of a connection's segments.
//!
//! Frames are built by hand and fed to `receive_frame`; what the stack sends is taken with
//! `pop_frame` and parsed with smoltcp, which verifies the IPv4 and TCP checksums.

mod common;

use core::net::Ipv4Addr;

use common::{ip, ipv4_frame, mac, refill_ipv4_checksum};
use exokernel_target::netstack::{FourTuple, NetConfig, NetStack, SendError, fill_tcp_checksum};
use exokernel_target::prolac_tcp::{ConnectError, ProlacConfig, ProlacStack, ProlacTcp};
use protocols::tcp::{Event, IcmpError, State};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, IpAddress, IpProtocol, Ipv4Packet, TcpPacket, TcpRepr,
};

const PORT: u16 = 80;
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const TCP: u8 = 6;
const ICMP: u8 = 1;

/// A TCP segment `from` → `to` with a 20-byte header, window 8192 and a correct checksum.
fn segment(
    from: (Ipv4Addr, u16),
    to: (Ipv4Addr, u16),
    seq: u32,
    ack: Option<u32>,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut s = vec![0; 20];
    s[0..2].copy_from_slice(&from.1.to_be_bytes());
    s[2..4].copy_from_slice(&to.1.to_be_bytes());
    s[4..8].copy_from_slice(&seq.to_be_bytes());
    s[8..12].copy_from_slice(&ack.unwrap_or(0).to_be_bytes());
    s[12] = 5 << 4;
    s[13] = flags | if ack.is_some() { ACK } else { 0 };
    s[14..16].copy_from_slice(&8192u16.to_be_bytes());
    s.extend_from_slice(payload);
    fill_tcp_checksum(from.0, to.0, &mut s).expect("the segment fits");
    s
}

/// An Ethernet frame from host 1 to host 2 carrying `tcp`.
fn from_host_1(tcp: &[u8]) -> Vec<u8> {
    ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), TCP, tcp)
}

/// Host 1's SYN from `port` (ISN 500) to port 80 of host 2.
fn syn(port: u16) -> Vec<u8> {
    segment((ip(1), port), (ip(2), PORT), 500, None, SYN, b"")
}

/// A TCP segment the stack sent, parsed (checksums verified).
#[derive(Debug)]
struct Sent {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    seq: u32,
    syn: bool,
    ack: Option<u32>,
    mss: Option<u16>,
    payload: Vec<u8>,
}

fn parse(frame: &[u8]) -> Sent {
    let eth = EthernetFrame::new_checked(frame).expect("an Ethernet frame");
    let packet = Ipv4Packet::new_checked(eth.payload()).expect("an IPv4 packet");
    assert!(packet.verify_checksum(), "the IPv4 checksum");
    assert_eq!(packet.next_header(), IpProtocol::Tcp);
    let (src, dst) = (packet.src_addr(), packet.dst_addr());
    let tcp = TcpPacket::new_checked(packet.payload()).expect("a TCP segment");
    let repr = TcpRepr::parse(
        &tcp,
        &IpAddress::Ipv4(src),
        &IpAddress::Ipv4(dst),
        &ChecksumCapabilities::default(),
    )
    .expect("a valid segment, checksum included");
    Sent {
        src,
        dst,
        ttl: packet.hop_limit(),
        seq: repr.seq_number.0 as u32,
        syn: tcp.syn(),
        ack: repr.ack_number.map(|a| a.0 as u32),
        mss: repr.max_seg_size,
        payload: repr.payload.to_vec(),
    }
}

/// Everything `stack` has queued to send, parsed.
fn sent(stack: &mut NetStack<ProlacTcp>) -> Vec<Sent> {
    std::iter::from_fn(|| stack.pop_frame())
        .map(|f| parse(&f))
        .collect()
}

/// Host 2 with a Prolac listener on port 80 (default settings) that knows host 1's address.
fn listening() -> NetStack<ProlacTcp> {
    listening_with(NetConfig::new(mac(2), ip(2)))
}

fn listening_with(config: NetConfig) -> NetStack<ProlacTcp> {
    let mut stack = NetStack::new(config).expect("a valid configuration");
    stack.listen(PORT, ProlacTcp::listener(PORT, ProlacConfig::default()));
    stack.add_arp_entry(ip(1), mac(1), 0);
    stack
}

/// The server's key for host 1's connection from `port`.
fn key(port: u16) -> FourTuple {
    FourTuple {
        local_ip: ip(2),
        local_port: PORT,
        remote_ip: ip(1),
        remote_port: port,
    }
}

/// (accepted, refused) of the listener on port 80.
fn listener_counts(stack: &NetStack<ProlacTcp>) -> (u64, u64) {
    let l = stack
        .listener(PORT)
        .and_then(ProlacTcp::as_listener)
        .expect("listening");
    (l.accepted(), l.refused())
}

/// Host 1 opens a connection from `port`: returns the listening stack with the connection
/// established, the server's SYN,ACK and its ISS.
fn connected(port: u16) -> (NetStack<ProlacTcp>, Sent) {
    let mut stack = listening();
    stack.receive_frame(&from_host_1(&syn(port)), 0);
    stack.flush(0);
    let mut out = sent(&mut stack);
    assert_eq!(out.len(), 1, "the SYN,ACK: {out:?}");
    let syn_ack = out.remove(0);
    assert!(syn_ack.syn && syn_ack.ack == Some(501));
    let ack = segment(
        (ip(1), port),
        (ip(2), PORT),
        501,
        Some(syn_ack.seq + 1),
        0,
        b"",
    );
    stack.receive_frame(&from_host_1(&ack), 1_000);
    stack.flush(1_000);
    assert!(sent(&mut stack).is_empty());
    let conn = stack.prolac_connection(&key(port)).expect("registered");
    assert_eq!(conn.state(), State::Established);
    assert_eq!(conn.events(), [Event::Established]);
    (stack, syn_ack)
}

// ---------------------------------------------------------------------------------------------
// Sending (§3.9.1.7 and RFC 1122 §4.2.2.19)

/// MUST-49: the TTL of the segments the TCP sends is configurable (`NetConfig::ttl`, 64 by
/// default): an active open's SYN and a listener's SYN,ACK leave with the TTL configured.
#[test]
fn the_ttl_of_segments_sent_is_configurable() {
    let (_, syn_ack) = connected(40000);
    assert_eq!(syn_ack.ttl, 64, "the default");
    for ttl in [1, 17, 255] {
        let mut config = NetConfig::new(mac(1), ip(1));
        config.ttl = ttl;
        let mut client = NetStack::<ProlacTcp>::new(config).expect("valid");
        client.add_arp_entry(ip(2), mac(2), 0);
        client
            .prolac_connect(40000, (ip(2), PORT), ProlacConfig::default(), 0)
            .expect("the SYN goes");
        let out: Vec<Sent> = std::iter::from_fn(|| client.pop_frame())
            .map(|f| parse(&f))
            .collect();
        assert_eq!(out.len(), 1);
        assert!(out[0].syn);
        assert_eq!(out[0].ttl, ttl);

        let mut config = NetConfig::new(mac(2), ip(2));
        config.ttl = ttl;
        let mut server = listening_with(config);
        server.receive_frame(&from_host_1(&syn(40000)), 0);
        let out = sent(&mut server);
        assert_eq!(out.len(), 1);
        assert!(out[0].syn && out[0].ack.is_some());
        assert_eq!(out[0].ttl, ttl);
    }
}

// ---------------------------------------------------------------------------------------------
// Addresses (§3.9.1.1, §3.9.2.3, RFC 1122 §4.2.3.10)

/// MUST-46: an active OPEN to a broadcast or multicast address — or to any address that is
/// not another unicast host — is refused: an error, no SYN, no ARP request, nothing
/// registered. An OPEN to a unicast host goes ahead.
#[test]
fn an_open_to_a_broadcast_or_multicast_address_is_refused() {
    let mut stack = common::stack::<ProlacTcp>(1);
    for bad in [
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::new(239, 255, 255, 250),
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::LOCALHOST,
        ip(1),
    ] {
        assert_eq!(
            stack.prolac_connect(40000, (bad, PORT), ProlacConfig::default(), 0),
            Err(ConnectError::Send(SendError::BadDestination(bad)))
        );
        assert_eq!(stack.connections().count(), 0);
        assert!(stack.pop_frame().is_none());
        assert_eq!(stack.pending_len(), 0);
    }
    let key = stack
        .prolac_connect(40000, (ip(2), PORT), ProlacConfig::default(), 0)
        .expect("a unicast host");
    assert_eq!(
        stack.prolac_connection(&key).map(|c| c.state()),
        Some(State::SynSent)
    );
}

/// MUST-57: a SYN addressed to a broadcast or multicast address is discarded silently — the
/// limited broadcast, the subnet's directed broadcast and multicast groups, whether the frame
/// is sent to our Ethernet address or to the Ethernet broadcast or a multicast address. No
/// answer, no connection, and the listener never sees it; the same SYN to our address is
/// answered.
#[test]
fn a_syn_to_a_broadcast_or_multicast_address_is_discarded_silently() {
    let multicast_mac = EthernetAddress([0x01, 0, 0x5e, 0, 0, 1]);
    let cases = [
        (EthernetAddress::BROADCAST, Ipv4Addr::BROADCAST),
        (mac(2), Ipv4Addr::BROADCAST),
        (EthernetAddress::BROADCAST, Ipv4Addr::new(192, 0, 2, 255)),
        (mac(2), Ipv4Addr::new(224, 0, 0, 1)),
        (multicast_mac, Ipv4Addr::new(224, 0, 0, 1)),
    ];
    let mut stack = listening();
    for (i, (eth_dst, ip_dst)) in cases.into_iter().enumerate() {
        let tcp = segment((ip(1), 40000), (ip_dst, PORT), 500, None, SYN, b"");
        stack.receive_frame(
            &ipv4_frame((mac(1), ip(1)), (eth_dst, ip_dst), TCP, &tcp),
            0,
        );
        stack.flush(0);
        assert!(stack.pop_frame().is_none(), "case {i}: no answer");
        assert_eq!(stack.connections().count(), 0, "case {i}");
        assert_eq!(listener_counts(&stack), (0, 0), "case {i}");
        assert_eq!(stack.stats().tcp_delivered, 0, "case {i}");
    }
    stack.receive_frame(&from_host_1(&syn(40000)), 0);
    let out = sent(&mut stack);
    assert!(out.len() == 1 && out[0].syn, "the unicast SYN is answered");
}

/// MUST-63: a SYN from an address that cannot be a host's — broadcast, multicast, unspecified,
/// loopback, "this network", or our own — is ignored by the IP layer: no answer (not even an
/// ARP request), no connection, the listener never sees it.
#[test]
fn a_syn_from_an_invalid_source_address_is_ignored() {
    let bad = [
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 5),
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::LOCALHOST,
        Ipv4Addr::new(0, 1, 2, 3),
        ip(2),
    ];
    let mut stack = listening();
    for src in bad {
        let tcp = segment((src, 40000), (ip(2), PORT), 500, None, SYN, b"");
        stack.receive_frame(&ipv4_frame((mac(1), src), (mac(2), ip(2)), TCP, &tcp), 0);
        stack.flush(0);
        stack.poll(1_000_000);
        assert!(stack.pop_frame().is_none(), "{src}: no answer");
        assert_eq!(stack.connections().count(), 0, "{src}");
        assert_eq!(listener_counts(&stack), (0, 0), "{src}");
    }
    assert_eq!(stack.stats().rx_bad_source, bad.len() as u64);
    assert_eq!(stack.stats().tcp_delivered, 0);
}

// ---------------------------------------------------------------------------------------------
// IP options (§3.9.2.1)

/// `frame` (from [`ipv4_frame`]) with IP `options` (a multiple of 4 bytes) after its header.
fn with_ip_options(frame: &[u8], options: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let mut f = frame[..34].to_vec();
    f.extend_from_slice(options);
    f.extend_from_slice(&frame[34..]);
    f[14] = 0x40 | u8::try_from(5 + options.len() / 4).expect("a short header");
    let total = u16::try_from(f.len() - 14).expect("fits");
    f[16..18].copy_from_slice(&total.to_be_bytes());
    refill_ipv4_checksum(&mut f);
    f
}

/// MUST-50: IP options the host does not understand are ignored without error: a SYN, the
/// handshake's ACK and a data segment, each carrying an unknown option (type 158) and Router
/// Alert between NOPs, open a connection and deliver the data.
#[test]
fn ip_options_not_understood_are_ignored() {
    let options = [1, 1, 0x9e, 4, 0xab, 0xcd, 0x94, 4, 0, 0, 1, 0];
    let mut stack = listening();
    stack.receive_frame(&with_ip_options(&from_host_1(&syn(40000)), &options), 0);
    let out = sent(&mut stack);
    assert!(out.len() == 1 && out[0].syn, "answered: {out:?}");
    let iss = out[0].seq;
    let ack = segment((ip(1), 40000), (ip(2), PORT), 501, Some(iss + 1), 0, b"");
    stack.receive_frame(&with_ip_options(&from_host_1(&ack), &options), 1_000);
    let data = segment(
        (ip(1), 40000),
        (ip(2), PORT),
        501,
        Some(iss + 1),
        PSH,
        b"opt",
    );
    stack.receive_frame(&with_ip_options(&from_host_1(&data), &options), 2_000);
    stack.flush(2_000);
    let conn = stack.prolac_connection_mut(&key(40000)).expect("accepted");
    assert_eq!(conn.state(), State::Established);
    assert_eq!(conn.take_received(), b"opt");
    assert_eq!(stack.stats().rx_dropped(), 0);
}

// ---------------------------------------------------------------------------------------------
// ICMP (§3.9.2.2)

/// An ICMP error of `kind` and `code` from a router (192.0.2.254) to host 2, quoting the IP
/// header and first 8 bytes of the datagram in `quoted` (a frame host 2 sent); `word` is the
/// 4 bytes after the checksum (the pointer of a Parameter Problem).
fn icmp_error(kind: u8, code: u8, word: [u8; 4], quoted: &[u8]) -> Vec<u8> {
    let mut icmp = vec![kind, code, 0, 0];
    icmp.extend_from_slice(&word);
    icmp.extend_from_slice(&quoted[14..14 + 20 + 8]);
    let sum = prolac_runtime::checksum::checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let router = Ipv4Addr::new(192, 0, 2, 254);
    ipv4_frame((mac(254), router), (mac(2), ip(2)), ICMP, &icmp)
}

/// A frame the connection sends: a data segment of 6 bytes, sent at `now`.
fn quoted_segment(stack: &mut NetStack<ProlacTcp>, now: u64) -> Vec<u8> {
    stack
        .prolac_send(&key(40000), b"quoted", now)
        .expect("registered");
    stack.pop_frame().expect("the data segment")
}

/// The connection is established, has reported nothing but `events`, and still carries data
/// both ways.
fn still_working(stack: &mut NetStack<ProlacTcp>, seq: u32, ack: u32, now: u64, events: &[Event]) {
    let conn = stack.prolac_connection(&key(40000)).expect("not removed");
    assert_eq!(conn.state(), State::Established);
    assert_eq!(conn.events(), events);
    let data = segment(
        (ip(1), 40000),
        (ip(2), PORT),
        seq,
        Some(ack),
        PSH,
        b"still open",
    );
    stack.receive_frame(&from_host_1(&data), now);
    stack.flush(now);
    let conn = stack
        .prolac_connection_mut(&key(40000))
        .expect("not removed");
    assert_eq!(conn.take_received(), b"still open");
}

/// MUST-56, SHLD-25, MUST-54: ICMP Destination Unreachable with codes 0, 1 and 5 (net, host,
/// source route failed), Time Exceeded and Parameter Problem are soft errors: the stack hands
/// each to the connection whose segment it quotes, none of them aborts it, and each is
/// reported to the application (`Event::SoftError`). None is answered, and the connection
/// stays established and goes on carrying data.
#[test]
fn icmp_soft_errors_do_not_abort_the_connection() {
    let (mut stack, syn_ack) = connected(40000);
    let quoted = quoted_segment(&mut stack, 2_000);
    let errors = [
        (3, 0, [0; 4], IcmpError::NetUnreachable),
        (3, 1, [0; 4], IcmpError::HostUnreachable),
        (3, 5, [0; 4], IcmpError::SourceRouteFailed),
        (11, 0, [0; 4], IcmpError::TimeExceeded),
        (11, 1, [0; 4], IcmpError::ReassemblyTimeExceeded),
        (12, 0, [20, 0, 0, 0], IcmpError::ParameterProblem),
    ];
    let mut expected = vec![Event::Established];
    for (i, (kind, code, word, error)) in errors.into_iter().enumerate() {
        let now = 3_000 + 1_000 * i as u64;
        stack.receive_frame(&icmp_error(kind, code, word, &quoted), now);
        stack.flush(now);
        assert!(stack.pop_frame().is_none(), "ICMP {kind}/{code}: no answer");
        let conn = stack.prolac_connection(&key(40000)).expect("not removed");
        assert_eq!(conn.state(), State::Established, "ICMP {kind}/{code}");
        expected.push(Event::SoftError(error));
        assert_eq!(conn.events(), expected, "ICMP {kind}/{code}");
    }
    assert_eq!(stack.stats().icmp_errors_delivered, errors.len() as u64);
    still_working(&mut stack, 501, syn_ack.seq + 1 + 6, 10_000, &expected);
}

/// SHLD-26: an ICMP Port Unreachable quoting a segment in flight ends the connection (a hard
/// error), silently, and the application hears why; one quoting a sequence number not in flight (RFC 5927 §4.1), or another
/// connection's ports, changes nothing.
#[test]
fn icmp_port_unreachable_ends_the_connection() {
    let (mut stack, _) = connected(40000);
    let quoted = quoted_segment(&mut stack, 2_000);
    let mut stale = quoted.clone();
    // The quoted sequence number moved 100,000 bytes on: not in flight.
    let at = 14 + 20 + 4;
    let seq = u32::from_be_bytes(stale[at..at + 4].try_into().expect("4 bytes"));
    stale[at..at + 4].copy_from_slice(&seq.wrapping_add(100_000).to_be_bytes());
    stack.receive_frame(&icmp_error(3, 3, [0; 4], &stale), 2_500);
    let mut other = quoted.clone();
    other[14 + 20..14 + 22].copy_from_slice(&40001u16.to_be_bytes());
    stack.receive_frame(&icmp_error(3, 3, [0; 4], &other), 2_600);
    let conn = stack.prolac_connection(&key(40000)).expect("not removed");
    assert_eq!(conn.events(), [Event::Established]);
    assert_eq!(
        stack.stats().icmp_other,
        1,
        "the other ports: no connection"
    );
    stack.receive_frame(&icmp_error(3, 3, [0; 4], &quoted), 3_000);
    stack.flush(3_000);
    assert!(stack.pop_frame().is_none(), "no answer, no reset");
    let conn = stack
        .prolac_connection(&key(40000))
        .expect("kept a while, for its events");
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(
        conn.events(),
        [
            Event::Established,
            Event::Unreachable(IcmpError::PortUnreachable),
            Event::Closed
        ]
    );
    assert_eq!(stack.stats().icmp_errors_delivered, 2);
}

/// MUST-55: an ICMP Source Quench is discarded silently: nothing is answered, nothing is
/// reported, and the connection's sending is not throttled — three full segments (536 bytes,
/// the default send MSS for a SYN without an MSS option) go at once after it.
#[test]
fn icmp_source_quench_is_discarded_silently() {
    let (mut stack, syn_ack) = connected(40000);
    let quoted = quoted_segment(&mut stack, 2_000);
    let ack = segment(
        (ip(1), 40000),
        (ip(2), PORT),
        501,
        Some(syn_ack.seq + 7),
        0,
        b"",
    );
    stack.receive_frame(&from_host_1(&ack), 2_500);
    stack.flush(2_500);
    assert!(stack.pop_frame().is_none());
    stack.receive_frame(&icmp_error(4, 0, [0; 4], &quoted), 3_000);
    stack.flush(3_000);
    assert!(stack.pop_frame().is_none(), "no answer");
    assert_eq!(stack.stats().icmp_errors_delivered, 1);
    stack
        .prolac_send(&key(40000), &[7; 3 * 536], 4_000)
        .expect("registered");
    let out = sent(&mut stack);
    let lens: Vec<usize> = out.iter().map(|s| s.payload.len()).collect();
    assert_eq!(lens, [536, 536, 536]);
    still_working(
        &mut stack,
        501,
        syn_ack.seq + 7 + 3 * 536,
        5_000,
        &[Event::Established],
    );
}

// ---------------------------------------------------------------------------------------------
// The MSS announced (§3.7.1) and the local address (§3.9.1.1)

/// MUST-67: the MSS option announced (1460) is at most MMS_R − 20: the stack (MTU 1500)
/// takes a 1500-byte IPv4 packet, so MMS_R is at least 1480 — a segment with a full 1460
/// bytes of data arrives whole. (The 1460 is fixed in the TCP: it is the MTU less 40 only
/// for the default MTU of 1500.)
#[test]
fn the_mss_announced_fits_what_the_host_receives() {
    let (mut stack, syn_ack) = connected(40000);
    assert_eq!(stack.config().mtu, 1500);
    assert_eq!(syn_ack.mss, Some(1460));
    let mss = usize::from(syn_ack.mss.expect("an MSS option"));
    let payload: Vec<u8> = (0..mss).map(|i| (i % 251) as u8).collect();
    let data = segment(
        (ip(1), 40000),
        (ip(2), PORT),
        501,
        Some(syn_ack.seq + 1),
        PSH,
        &payload,
    );
    let frame = from_host_1(&data);
    assert_eq!(frame.len() - 14, stack.config().mtu, "a full-MTU packet");
    stack.receive_frame(&frame, 2_000);
    stack.flush(2_000);
    let conn = stack
        .prolac_connection_mut(&key(40000))
        .expect("registered");
    assert_eq!(conn.take_received(), payload);
    assert_eq!(stack.stats().rx_dropped(), 0);
}

/// MUST-45: every segment of a connection goes from the local address the connection was
/// made on — the address host 1's SYN was sent to — with the checksum over that address: the
/// SYN,ACK, our data carrying the ACK of the peer's, our FIN, and their retransmission when
/// the peer says nothing more. (The host has one address.)
#[test]
fn every_segment_of_a_connection_leaves_from_its_local_address() {
    let (mut stack, syn_ack) = connected(40000);
    let mut all = vec![syn_ack];
    let data = segment(
        (ip(1), 40000),
        (ip(2), PORT),
        501,
        Some(all[0].seq + 1),
        PSH,
        &[1; 1000],
    );
    stack.receive_frame(&from_host_1(&data), 2_000);
    stack.flush(2_000);
    stack
        .prolac_send(&key(40000), b"reply", 3_000)
        .expect("registered");
    stack.prolac_close(&key(40000), 4_000).expect("registered");
    for _ in 0..100 {
        match stack.poll_at() {
            Some(t) if t <= 5_000_000 => stack.poll(t),
            _ => break,
        }
    }
    all.extend(sent(&mut stack));
    assert!(all.len() >= 4, "{all:?}");
    assert!(all.iter().any(|s| s.payload == b"reply"));
    for s in &all {
        assert_eq!((s.src, s.dst), (ip(2), ip(1)), "{s:?}");
    }
}
