//! The sniffer: what each sender put on the wire, counted from the frames themselves.
//!
//! [`Sniff`] wraps a host's device and notes every TCP segment the host sends (before the
//! wire's faults). Per sender (address and port) [`Flows`] keeps a [`FlowStats`]: segments,
//! data bytes, retransmissions (segments occupying sequence space below the highest sent so
//! far, BSD's `snd_max`), resets, the options of the sender's SYN (window scale, timestamps,
//! SACK permitted), segments carrying timestamps or SACK blocks, and the windows it advertised
//! (to see a receive window close). Counting on the wire rather than asking
//! either TCP keeps the two implementations on an equal footing.

use core::net::Ipv4Addr;
use std::collections::BTreeMap;

use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, TcpOption, TcpPacket,
};

use crate::device::{DeviceError, FrameDevice};

/// What the sniffer saw one sender send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// TCP segments sent.
    pub segments: u64,
    /// Data bytes in them (retransmissions included).
    pub data_bytes: u64,
    /// Segments occupying sequence space that had been sent before (a SYN, data or a FIN
    /// sent again).
    pub retransmitted_segments: u64,
    /// Data bytes in those segments.
    pub retransmitted_bytes: u64,
    /// Resets sent.
    pub resets: u64,
    /// When the first reset was sent, in µs.
    pub first_reset_us: Option<u64>,
    /// The end of the highest sequence space sent so far.
    pub snd_max: Option<u32>,
    /// The window scale option of the sender's SYN, if it had one.
    pub syn_window_scale: Option<u8>,
    /// Whether the sender's SYN carried the timestamps option.
    pub syn_timestamps: bool,
    /// Whether the sender's SYN permitted SACK.
    pub syn_sack_permitted: bool,
    /// Non-SYN segments that carried timestamps.
    pub timestamped_segments: u64,
    /// Segments that carried SACK blocks.
    pub sack_segments: u64,
    /// The window field of the last acknowledging segment (unscaled).
    pub last_window: Option<u16>,
    /// Acknowledging segments that advertised a zero window.
    pub zero_window_adverts: u64,
    /// Since when the sender has advertised a zero window, if its last advertisement was
    /// zero, in µs.
    pub zero_window_since: Option<u64>,
}

/// TCP segments sent, per sender address and port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flows {
    flows: BTreeMap<(Ipv4Addr, u16), FlowStats>,
}

impl Flows {
    /// What `ip`:`port` sent (all zero if it sent nothing).
    #[must_use]
    pub fn get(&self, ip: Ipv4Addr, port: u16) -> FlowStats {
        self.flows.get(&(ip, port)).copied().unwrap_or_default()
    }

    /// Every sender and what it sent, in address order.
    pub fn iter(&self) -> impl Iterator<Item = (&(Ipv4Addr, u16), &FlowStats)> {
        self.flows.iter()
    }

    /// Resets sent by anyone.
    #[must_use]
    pub fn total_resets(&self) -> u64 {
        self.flows.values().map(|f| f.resets).sum()
    }

    /// Notes `frame`, sent at `now_us`, if it is a TCP segment in IPv4 in Ethernet.
    pub fn note(&mut self, frame: &[u8], now_us: u64) {
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return;
        };
        if eth.ethertype() != EthernetProtocol::Ipv4 {
            return;
        }
        let Ok(ipv4) = Ipv4Packet::new_checked(eth.payload()) else {
            return;
        };
        if ipv4.next_header() != IpProtocol::Tcp {
            return;
        }
        let Ok(tcp) = TcpPacket::new_checked(ipv4.payload()) else {
            return;
        };
        let flow = self
            .flows
            .entry((ipv4.src_addr(), tcp.src_port()))
            .or_default();
        let data = tcp.payload().len() as u64;
        flow.segments += 1;
        flow.data_bytes += data;
        if tcp.rst() {
            flow.resets += 1;
            flow.first_reset_us.get_or_insert(now_us);
        } else if tcp.ack() && !tcp.syn() {
            let window = tcp.window_len();
            flow.last_window = Some(window);
            if window == 0 {
                flow.zero_window_adverts += 1;
                flow.zero_window_since.get_or_insert(now_us);
            } else {
                flow.zero_window_since = None;
            }
        }
        let mut options = tcp.options();
        while let Ok((rest, option)) = TcpOption::parse(options) {
            match option {
                TcpOption::EndOfList => break,
                TcpOption::WindowScale(shift) if tcp.syn() => flow.syn_window_scale = Some(shift),
                TcpOption::TimeStamp { .. } if tcp.syn() => flow.syn_timestamps = true,
                TcpOption::TimeStamp { .. } => flow.timestamped_segments += 1,
                TcpOption::SackPermitted if tcp.syn() => flow.syn_sack_permitted = true,
                TcpOption::SackRange(_) => flow.sack_segments += 1,
                _ => {}
            }
            options = rest;
        }
        let seq = tcp.seq_number().0 as u32;
        let len = tcp.segment_len() as u32;
        if len == 0 {
            return;
        }
        let end = seq.wrapping_add(len);
        match flow.snd_max {
            Some(max) if (seq.wrapping_sub(max) as i32) < 0 => {
                flow.retransmitted_segments += 1;
                flow.retransmitted_bytes += data;
                if (max.wrapping_sub(end) as i32) < 0 {
                    flow.snd_max = Some(end);
                }
            }
            _ => flow.snd_max = Some(end),
        }
    }
}

/// A device that notes in [`Flows`] every TCP segment sent through it.
#[derive(Debug)]
pub struct Sniff<'f, D> {
    inner: D,
    flows: &'f mut Flows,
}

impl<'f, D> Sniff<'f, D> {
    /// `inner`, with what it sends noted in `flows`.
    pub const fn new(inner: D, flows: &'f mut Flows) -> Self {
        Self { inner, flows }
    }
}

impl<D: FrameDevice> FrameDevice for Sniff<'_, D> {
    fn send_frame(&mut self, frame: &[u8], now_us: u64) -> Result<(), DeviceError> {
        self.flows.note(frame, now_us);
        self.inner.send_frame(frame, now_us)
    }

    fn recv_frame(&mut self, now_us: u64) -> Option<Vec<u8>> {
        self.inner.recv_frame(now_us)
    }

    fn max_frame_len(&self) -> usize {
        self.inner.max_frame_len()
    }

    fn max_recv_len(&self) -> usize {
        self.inner.max_recv_len()
    }
}
