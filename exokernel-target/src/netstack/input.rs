//! The stack's input path: Ethernet → ARP or IPv4 → ICMP or TCP.
//!
//! Every function here takes bytes from the wire, so every access goes through smoltcp's
//! checked constructors (`new_checked`) or explicit bounds checks, and every rejection is
//! counted in exactly one [`NetStats`](super::NetStats) field.

use core::net::Ipv4Addr;

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetFrame, EthernetProtocol, Icmpv4Packet, Icmpv4Repr,
    IpProtocol, Ipv4Packet,
};

use super::{
    EchoReply, HandlerSlot, IPV4_HEADER_LEN, NetStack, TcpHandler, TcpSegment, is_unicast,
    verify_tcp_checksum,
};

impl<H: TcpHandler> NetStack<H> {
    /// [`receive_frame`](Self::receive_frame) for a frame whose device vouches for its TCP
    /// checksum when `checksum_trusted` ([`crate::device::FrameDevice::rx_checksum_trusted`]:
    /// a TAP device with offloads, whose kernel leaves the checksum of its own segments
    /// undone); the check is skipped then. Every other check stays.
    pub fn receive_frame_trusted(&mut self, frame: &[u8], now_us: u64, checksum_trusted: bool) {
        self.checksum_trusted = checksum_trusted;
        self.stats.rx_checksum_trusted += u64::from(checksum_trusted);
        self.receive_frame(frame, now_us);
        self.checksum_trusted = false;
    }

    /// Processes one received Ethernet frame at `now_us`. Replies it causes are queued for
    /// [`pop_frame`](Self::pop_frame); TCP segments go to their handler before this returns.
    pub fn receive_frame(&mut self, frame: &[u8], now_us: u64) {
        self.stats.rx_frames += 1;
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            self.stats.rx_malformed += 1;
            return;
        };
        let dst = eth.dst_addr();
        if dst != self.config.mac && !dst.is_broadcast() {
            self.stats.rx_not_for_us += 1;
            return;
        }
        match eth.ethertype() {
            EthernetProtocol::Arp => self.arp_input(eth.payload(), now_us),
            EthernetProtocol::Ipv4 => self.ipv4_input(eth.payload(), now_us),
            _ => self.stats.rx_unsupported += 1,
        }
    }

    fn arp_input(&mut self, bytes: &[u8], now_us: u64) {
        let Ok(packet) = ArpPacket::new_checked(bytes) else {
            self.stats.rx_malformed += 1;
            return;
        };
        let Ok(ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr: sender_mac,
            source_protocol_addr: sender_ip,
            target_protocol_addr: target_ip,
            ..
        }) = ArpRepr::parse(&packet)
        else {
            self.stats.rx_unsupported += 1;
            return;
        };
        if !matches!(operation, ArpOperation::Request | ArpOperation::Reply) {
            self.stats.rx_unsupported += 1;
            return;
        }
        if !sender_mac.is_unicast() || !is_unicast(sender_ip) || sender_ip == self.config.ip {
            self.stats.rx_bad_source += 1;
            return;
        }
        let for_us = target_ip == self.config.ip;
        // RFC 826's merge rule, minus learning from strangers' conversations: update what we
        // know or are asking about, and add the sender when it talks to us.
        if for_us || self.arp.knows(sender_ip) || self.resolver.is_resolving(sender_ip) {
            self.learn(sender_ip, sender_mac, now_us);
        }
        match operation {
            ArpOperation::Request if for_us => {
                self.stats.arp_requests_received += 1;
                self.send_arp(ArpOperation::Reply, sender_ip, Some(sender_mac));
            }
            ArpOperation::Reply => self.stats.arp_replies_received += 1,
            // Requests for other hosts: learned from above if relevant, nothing to answer.
            _ => {}
        }
    }

    fn ipv4_input(&mut self, bytes: &[u8], now_us: u64) {
        let Ok(ip) = Ipv4Packet::new_checked(bytes) else {
            self.stats.rx_malformed += 1;
            return;
        };
        if ip.version() != 4 || usize::from(ip.header_len()) < IPV4_HEADER_LEN {
            self.stats.rx_malformed += 1;
            return;
        }
        // The header's checksum, eight bytes at a time (smoltcp's sums 16 bits at a time).
        let header = &bytes[..usize::from(ip.header_len()).min(bytes.len())];
        if prolac_runtime::checksum::checksum(header) != 0 {
            self.stats.rx_bad_ipv4_checksum += 1;
            return;
        }
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        if dst != self.config.ip {
            self.stats.rx_ip_not_for_us += 1;
            return;
        }
        if ip.more_frags() || ip.frag_offset() != 0 {
            self.stats.rx_fragments += 1;
            return;
        }
        if !is_unicast(src) || src == self.config.ip {
            self.stats.rx_bad_source += 1;
            return;
        }
        // `payload` ends at the total length, so Ethernet padding is left out.
        let payload = ip.payload();
        match ip.next_header() {
            IpProtocol::Icmp => self.icmp_input(src, payload, now_us),
            IpProtocol::Tcp => self.tcp_input(src, dst, payload, now_us),
            _ => self.stats.rx_unsupported += 1,
        }
    }

    fn icmp_input(&mut self, src: Ipv4Addr, bytes: &[u8], now_us: u64) {
        let Ok(packet) = Icmpv4Packet::new_checked(bytes) else {
            self.stats.rx_malformed += 1;
            return;
        };
        if !packet.verify_checksum() {
            self.stats.rx_bad_icmp_checksum += 1;
            return;
        }
        // Errors that may quote one of our TCP segments (RFC 792: Destination Unreachable,
        // Source Quench, Time Exceeded, Parameter Problem) go to its connection.
        if matches!(bytes[0], 3 | 4 | 11 | 12) && self.icmp_error(bytes, now_us) {
            self.stats.icmp_errors_delivered += 1;
            return;
        }
        // The checksum is verified above, where its failure can be counted apart.
        match Icmpv4Repr::parse(&packet, &ChecksumCapabilities::ignored()) {
            Ok(Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }) => {
                self.stats.icmp_echo_requests += 1;
                let reply = Icmpv4Repr::EchoReply {
                    ident,
                    seq_no,
                    data,
                };
                // A request that fit through the device but whose reply exceeds our MTU
                // cannot be answered; that is the peer's misconfiguration, not an error.
                let _ = self.send_icmp(src, &reply, now_us);
            }
            Ok(Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            }) => {
                self.stats.icmp_echo_replies += 1;
                if self.echo_replies.len() >= self.config.echo_reply_limit {
                    self.echo_replies.pop_front();
                }
                if self.config.echo_reply_limit > 0 {
                    self.echo_replies.push_back(EchoReply {
                        from: src,
                        ident,
                        seq_no,
                        data: data.to_vec(),
                        received_us: now_us,
                    });
                }
            }
            _ => self.stats.icmp_other += 1,
        }
    }

    /// Hands an ICMP error to the connection whose segment it quotes (RFC 9293 MUST-54): the
    /// quoted IPv4 header must be a TCP packet from us, and its first 8 TCP bytes give the
    /// ports and the sequence number. False if no connection matches.
    fn icmp_error(&mut self, bytes: &[u8], now_us: u64) -> bool {
        // The message's body: 4 bytes of type-specific data, then the quoted datagram.
        let body = bytes.get(8..).unwrap_or_default();
        // The quoted datagram is cut short (its header and 8 bytes), so its total length
        // cannot be checked: only its header is read.
        let Some(&first) = body.first() else {
            return false;
        };
        let ihl = usize::from(first & 0x0f) * 4;
        let (4, true, Some(tcp)) = (first >> 4, ihl >= 20, body.get(ihl..ihl + 8)) else {
            return false;
        };
        if body[9] != 6 {
            return false;
        }
        let addr = |at: usize| Ipv4Addr::new(body[at], body[at + 1], body[at + 2], body[at + 3]);
        let key = super::FourTuple {
            local_ip: addr(12),
            local_port: u16::from_be_bytes([tcp[0], tcp[1]]),
            remote_ip: addr(16),
            remote_port: u16::from_be_bytes([tcp[2], tcp[3]]),
        };
        if key.local_ip != self.config.ip {
            return false;
        }
        let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        let (kind, code) = (bytes[0], bytes[1]);
        self.call_handler(HandlerSlot::Connection(key), now_us, |h, ctx| {
            h.icmp_error(kind, code, seq, ctx);
        })
    }

    fn tcp_input(&mut self, src: Ipv4Addr, dst: Ipv4Addr, bytes: &[u8], now_us: u64) {
        let Ok(segment) = TcpSegment::new(src, dst, bytes) else {
            self.stats.rx_malformed += 1;
            return;
        };
        if !self.checksum_trusted && !verify_tcp_checksum(src, dst, bytes) {
            self.stats.rx_bad_tcp_checksum += 1;
            return;
        }
        let key = segment.key();
        let mut deferred = false;
        // The connection's handler if there is one (one lookup), else the port's listener.
        let mut slot = HandlerSlot::Connection(key);
        let mut claimed = self.call_handler(slot, now_us, |h, ctx| {
            h.segment(&segment, ctx);
            deferred = h.wants_flush();
        });
        if !claimed {
            slot = HandlerSlot::Listener(key.local_port);
            claimed = self.call_handler(slot, now_us, |h, ctx| {
                h.segment(&segment, ctx);
                deferred = h.wants_flush();
            });
        }
        if claimed {
            self.stats.tcp_delivered += 1;
            // A listener that accepted registered a connection, which may have deferred.
            if let HandlerSlot::Listener(_) = slot {
                deferred = self
                    .connections
                    .get(&key)
                    .is_some_and(TcpHandler::wants_flush);
            }
            if deferred && self.unflushed.last() != Some(&key) && !self.unflushed.contains(&key) {
                self.unflushed.push(key);
            }
        } else {
            self.stats.tcp_unclaimed += 1;
            if self.config.reset_unclaimed {
                self.reset_unclaimed(&segment, now_us);
            }
        }
    }

    /// RFC 9293 §3.10.7.1: a segment for no connection is answered with a reset — unless it
    /// is one: <SEQ=SEG.ACK><CTL=RST> if it has an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
    /// <CTL=RST,ACK>.
    fn reset_unclaimed(&mut self, segment: &TcpSegment<'_>, now_us: u64) {
        let b = segment.bytes();
        let flags = b[13];
        if flags & 0x04 != 0 {
            return;
        }
        let seq = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let ack = u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        let seg_len = segment.payload().len() as u32
            + u32::from(flags & 0x02 != 0)
            + u32::from(flags & 0x01 != 0);
        let mut rst = [0u8; super::TCP_HEADER_LEN];
        rst[0..2].copy_from_slice(&b[2..4]);
        rst[2..4].copy_from_slice(&b[0..2]);
        if flags & 0x10 != 0 {
            rst[4..8].copy_from_slice(&ack.to_be_bytes());
            rst[13] = 0x04;
        } else {
            rst[8..12].copy_from_slice(&seq.wrapping_add(seg_len).to_be_bytes());
            rst[13] = 0x14;
        }
        rst[12] = 5 << 4;
        let (src, dst) = (segment.dst(), segment.src());
        if super::tcp::fill_tcp_checksum(src, dst, &mut rst).is_ok() {
            self.stats.tcp_resets_sent += 1;
            let _ = self.send_tcp(src, dst, &rst, now_us);
        }
    }
}
