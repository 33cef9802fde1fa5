//! `prolac-replay`: TCP flows of pcap captures, checked. This part reads a capture (classic
//! libpcap; Ethernet, raw IP, Linux cooked and BSD loopback link types), decodes every IPv4
//! and IPv6 TCP segment (IPv6 extension headers walked; fragments left out), groups them into
//! flows by four-tuple, and makes the passive check: every segment decodes, its IPv4 header
//! and TCP checksums verify, and encoding the decoded header gives back the captured bytes.
//! Then the active replay ([`replay`], in `active`): the Prolac TCP in the place of the
//! recorded server or client.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::collections::BTreeMap;

use pcap_file::pcap::PcapParser;

mod active;
pub use active::{Replay, Role, replay, replay_client, replay_server};

/// A captured TCP segment of an IPv4 or IPv6 packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The frame's number in the capture, from 1.
    pub frame: usize,
    /// Its time, in µs from the first frame.
    pub time_us: u64,
    /// The source address and port.
    pub src: Endpoint,
    /// The destination address and port.
    pub dst: Endpoint,
    /// The TCP bytes (header and payload, as captured).
    pub tcp: Vec<u8>,
    /// Whether the IPv4 header checksum verifies (or was left for the card: zero); IPv6 has
    /// none.
    pub ip_checksum_ok: bool,
    /// Whether the whole TCP segment was captured (not cut by the snapshot length).
    pub complete: bool,
    /// The TCP segment's length on the wire (header and payload), captured or not.
    pub wire_len: usize,
}

/// What a capture holds.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// TCP segments, in capture order.
    pub segments: Vec<Segment>,
    /// Frames that are not TCP (ARP, UDP, ICMP, …) or are IP fragments.
    pub other_frames: usize,
}

/// Why a capture cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureError(pub String);

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaptureError {}

/// Reads a classic pcap file's bytes.
///
/// # Errors
///
/// A capture that is not pcap, truncated in a header, or of an unsupported link type.
pub fn read_capture(bytes: &[u8]) -> Result<Capture, CaptureError> {
    let (mut rest, parser) =
        PcapParser::new(bytes).map_err(|e| CaptureError(format!("not a pcap file: {e}")))?;
    let link = u32::from(parser.header().datalink);
    let mut capture = Capture::default();
    let mut first = None;
    let mut frame = 0;
    while !rest.is_empty() {
        let (next, packet) = parser
            .next_packet(rest)
            .map_err(|e| CaptureError(format!("frame {}: {e}", frame + 1)))?;
        rest = next;
        frame += 1;
        let ts = u64::try_from(packet.timestamp.as_micros()).unwrap_or(u64::MAX);
        let start = *first.get_or_insert(ts);
        let Some(ip) = network_payload(link, &packet.data)? else {
            capture.other_frames += 1;
            continue;
        };
        let truncated = packet.orig_len as usize > packet.data.len();
        let decoded = match ip.first().map(|b| b >> 4) {
            Some(4) => ipv4_tcp(ip, truncated),
            Some(6) => ipv6_tcp(ip, truncated),
            _ => None,
        };
        match decoded {
            Some((src, dst, tcp, ip_ok, complete, wire_len)) => capture.segments.push(Segment {
                frame,
                time_us: ts.saturating_sub(start),
                src,
                dst,
                tcp,
                ip_checksum_ok: ip_ok,
                complete,
                wire_len,
            }),
            None => capture.other_frames += 1,
        }
    }
    Ok(capture)
}

/// The IP packet in a frame of link type `link`, if the frame carries IP.
fn network_payload(link: u32, data: &[u8]) -> Result<Option<&[u8]>, CaptureError> {
    Ok(match link {
        // Ethernet, with VLAN tags.
        1 => {
            let mut at = 12;
            loop {
                let Some(t) = data.get(at..at + 2) else {
                    return Ok(None);
                };
                match u16::from_be_bytes([t[0], t[1]]) {
                    0x8100 | 0x88a8 => at += 4,
                    0x0800 | 0x86dd => break data.get(at + 2..),
                    _ => break None,
                }
            }
        }
        // Raw IP.
        12 | 14 | 101 => Some(data),
        // BSD loopback: a 4-byte address family.
        0 | 108 => data.get(4..),
        // Linux cooked (SLL): 16 bytes, the protocol last.
        113 => match data.get(14..16) {
            Some([0x08, 0x00] | [0x86, 0xdd]) => data.get(16..),
            _ => None,
        },
        // Linux cooked v2 (SLL2): 20 bytes, the protocol first.
        276 => match data.get(0..2) {
            Some([0x08, 0x00] | [0x86, 0xdd]) => data.get(20..),
            _ => None,
        },
        other => return Err(CaptureError(format!("link type {other} is not supported"))),
    })
}

type Decoded = (Endpoint, Endpoint, Vec<u8>, bool, bool, usize);

/// The TCP segment of an IPv4 packet (not a fragment), with whether the IPv4 checksum
/// verifies and whether the segment is whole.
fn ipv4_tcp(ip: &[u8], truncated: bool) -> Option<Decoded> {
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    if ihl < 20 || ip.len() < ihl || ip[9] != 6 {
        return None;
    }
    let fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    if fragment {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let end = total.min(ip.len());
    if end < ihl + 20 {
        return None;
    }
    let src = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
    let tcp = &ip[ihl..end];
    let sport = u16::from_be_bytes([tcp[0], tcp[1]]);
    let dport = u16::from_be_bytes([tcp[2], tcp[3]]);
    let ip_ok = checksum(&ip[..ihl], 0) == 0 || u16::from_be_bytes([ip[10], ip[11]]) == 0;
    let complete = !truncated && ip.len() >= total;
    let wire_len = total.saturating_sub(ihl);
    Some((
        (src, sport),
        (dst, dport),
        tcp.to_vec(),
        ip_ok,
        complete,
        wire_len,
    ))
}

/// The TCP segment of an IPv6 packet, after any hop-by-hop, routing and destination-options
/// headers (RFC 8200 §4); a fragment, or a packet whose chain cannot be followed, is not
/// taken. The payload length bounds the segment (a jumbogram's zero is not supported).
fn ipv6_tcp(ip: &[u8], truncated: bool) -> Option<Decoded> {
    if ip.len() < 40 {
        return None;
    }
    let addr = |at: usize| {
        let mut o = [0u8; 16];
        o.copy_from_slice(&ip[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(o))
    };
    let total = 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    let mut next = ip[6];
    let mut at = 40;
    loop {
        match next {
            6 => break,
            // Hop-by-hop, routing, destination options: length in 8-byte units beyond the
            // first 8.
            0 | 43 | 60 => {
                let h = ip.get(at..at + 2)?;
                next = h[0];
                at += (usize::from(h[1]) + 1) * 8;
            }
            _ => return None,
        }
    }
    let end = total.min(ip.len());
    if end < at + 20 {
        return None;
    }
    let tcp = &ip[at..end];
    let sport = u16::from_be_bytes([tcp[0], tcp[1]]);
    let dport = u16::from_be_bytes([tcp[2], tcp[3]]);
    let complete = !truncated && ip.len() >= total;
    Some((
        (addr(8), sport),
        (addr(24), dport),
        tcp.to_vec(),
        true,
        complete,
        total.saturating_sub(at),
    ))
}

/// The Internet checksum of `data` with `initial` added (0 if the data sums correctly).
#[must_use]
pub fn checksum(data: &[u8], initial: u32) -> u16 {
    let mut sum = initial;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The pseudo-header's sum for a segment (RFC 9293 §3.1; RFC 8200 §8.1 for IPv6).
#[must_use]
pub fn pseudo_sum(s: &Segment) -> u32 {
    let mut pseudo = 0u32;
    for addr in [s.src.0, s.dst.0] {
        let octets = match addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        for pair in octets.chunks_exact(2) {
            pseudo += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
        }
    }
    pseudo + 6 + u32::try_from(s.tcp.len()).unwrap_or(0)
}

/// How a TCP checksum fares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// It verifies.
    Good,
    /// It was left for the network card (the capture was taken on the sending host with
    /// checksum offload): the field holds the pseudo-header's sum only, or zero.
    Offloaded,
    /// It is wrong.
    Bad,
}

/// Whether a whole TCP segment's checksum verifies with its addresses.
#[must_use]
pub fn tcp_checksum(s: &Segment) -> Checksum {
    let pseudo = pseudo_sum(s);
    if checksum(&s.tcp, pseudo) == 0 {
        return Checksum::Good;
    }
    let field = u16::from_be_bytes([s.tcp[16], s.tcp[17]]);
    // Offload leaves the folded pseudo-header sum (not complemented) for the card to finish.
    let partial = !checksum(&[], pseudo);
    if field == 0 || field == partial {
        Checksum::Offloaded
    } else {
        Checksum::Bad
    }
}

/// A TCP header decoded field by field, options one by one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpHeader {
    /// Ports, sequence and acknowledgment numbers.
    pub sport: u16,
    /// The destination port.
    pub dport: u16,
    /// SEQ.
    pub seq: u32,
    /// ACK.
    pub ack: u32,
    /// The data offset, in words.
    pub offset: u8,
    /// The reserved bits and flags (12 bits).
    pub flags: u16,
    /// The window field.
    pub window: u16,
    /// The checksum field.
    pub checksum: u16,
    /// The urgent pointer.
    pub urgent: u16,
    /// The options: (kind, value) for each, `None` as the value for EOL and NOP; the bytes
    /// after an EOL, as padding.
    pub options: Vec<(u8, Option<Vec<u8>>)>,
    /// The bytes after the end-of-list option.
    pub padding: Vec<u8>,
}

/// Decodes a TCP header.
///
/// # Errors
///
/// What is malformed: a short header, a data offset below 5 or past the segment, an option
/// whose length is below 2 or runs past the header.
pub fn decode_tcp(b: &[u8]) -> Result<TcpHeader, String> {
    if b.len() < 20 {
        return Err(format!("{} bytes: shorter than a TCP header", b.len()));
    }
    let offset = b[12] >> 4;
    let hlen = usize::from(offset) * 4;
    if hlen < 20 || hlen > b.len() {
        return Err(format!(
            "data offset {offset} in a {}-byte segment",
            b.len()
        ));
    }
    let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let o = &b[20..hlen];
    let mut options = Vec::new();
    let mut padding = Vec::new();
    let mut at = 0;
    while at < o.len() {
        match o[at] {
            0 => {
                options.push((0, None));
                padding = o[at + 1..].to_vec();
                break;
            }
            1 => {
                options.push((1, None));
                at += 1;
            }
            kind => {
                let Some(&len) = o.get(at + 1) else {
                    return Err(format!("option {kind} without a length"));
                };
                let len = usize::from(len);
                if len < 2 || at + len > o.len() {
                    return Err(format!("option {kind} of length {len} past the header"));
                }
                options.push((kind, Some(o[at + 2..at + len].to_vec())));
                at += len;
            }
        }
    }
    Ok(TcpHeader {
        sport: be16(0),
        dport: be16(2),
        seq: be32(4),
        ack: be32(8),
        offset,
        flags: be16(12) & 0x0fff,
        window: be16(14),
        checksum: be16(16),
        urgent: be16(18),
        options,
        padding,
    })
}

/// Encodes a decoded header back to bytes.
#[must_use]
pub fn encode_tcp(h: &TcpHeader) -> Vec<u8> {
    let mut b = Vec::with_capacity(usize::from(h.offset) * 4);
    b.extend(h.sport.to_be_bytes());
    b.extend(h.dport.to_be_bytes());
    b.extend(h.seq.to_be_bytes());
    b.extend(h.ack.to_be_bytes());
    b.extend((u16::from(h.offset) << 12 | h.flags).to_be_bytes());
    b.extend(h.window.to_be_bytes());
    b.extend(h.checksum.to_be_bytes());
    b.extend(h.urgent.to_be_bytes());
    for (kind, value) in &h.options {
        b.push(*kind);
        if let Some(v) = value {
            b.push(u8::try_from(v.len() + 2).unwrap_or(u8::MAX));
            b.extend(v);
        }
    }
    b.extend(&h.padding);
    b
}

/// The passive check of one segment: `None` if it decodes, its checksums verify (when whole)
/// and it encodes back to the same header bytes; else what is wrong.
#[must_use]
pub fn passive_check(s: &Segment) -> Option<String> {
    let h = match decode_tcp(&s.tcp) {
        Ok(h) => h,
        Err(e) => return Some(format!("frame {}: {e}", s.frame)),
    };
    let hlen = usize::from(h.offset) * 4;
    if encode_tcp(&h) != s.tcp[..hlen] {
        return Some(format!(
            "frame {}: the header does not encode back",
            s.frame
        ));
    }
    if !s.ip_checksum_ok {
        return Some(format!("frame {}: bad IPv4 header checksum", s.frame));
    }
    None
}

/// Segments of `flow` whose TCP checksum is wrong (corrupted on the way: a receiver drops
/// them, and so does a replay) and those left to the network card, by frame number.
#[must_use]
pub fn checksum_notes(flow: &Flow) -> (Vec<usize>, Vec<usize>) {
    let mut bad = Vec::new();
    let mut offloaded = Vec::new();
    for s in flow.segments.iter().filter(|s| s.complete) {
        match tcp_checksum(s) {
            Checksum::Good => {}
            Checksum::Bad => bad.push(s.frame),
            Checksum::Offloaded => offloaded.push(s.frame),
        }
    }
    (bad, offloaded)
}

/// An address and port.
pub type Endpoint = (IpAddr, u16);

/// A flow: both directions of one four-tuple, in capture order.
#[derive(Clone, Debug)]
pub struct Flow {
    /// The end that sent the first SYN (or the first segment's source).
    pub client: Endpoint,
    /// The other end.
    pub server: Endpoint,
    /// Its segments.
    pub segments: Vec<Segment>,
}

/// The capture's flows, in the order of their first segment.
#[must_use]
pub fn flows(capture: &Capture) -> Vec<Flow> {
    let mut order: Vec<(u64, Endpoint, Endpoint)> = Vec::new();
    let mut by_key: BTreeMap<(Endpoint, Endpoint), Vec<Segment>> = BTreeMap::new();
    for s in &capture.segments {
        let key = if s.src <= s.dst {
            (s.src, s.dst)
        } else {
            (s.dst, s.src)
        };
        let list = by_key.entry(key).or_default();
        if list.is_empty() {
            order.push((s.frame as u64, key.0, key.1));
        }
        list.push(s.clone());
    }
    order
        .into_iter()
        .filter_map(|(_, a, b)| {
            let segments = by_key.remove(&(a, b))?;
            let syn = segments
                .iter()
                .find(|s| s.tcp.get(13).is_some_and(|f| f & 0x12 == 0x02));
            let client = syn.map_or(segments[0].src, |s| s.src);
            let server = if client == a { b } else { a };
            Some(Flow {
                client,
                server,
                segments,
            })
        })
        .collect()
}
