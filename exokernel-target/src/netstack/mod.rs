//! The library-OS network stack, first part: Ethernet, ARP, IPv4 and ICMP echo, with TCP
//! segments handed to handlers.
//!
//! A [`NetStack`] is sans-IO: [`receive_frame`](NetStack::receive_frame) takes a frame and
//! the time, [`pop_frame`](NetStack::pop_frame) gives the frames to send, and
//! [`poll`](NetStack::poll) / [`poll_at`](NetStack::poll_at) run its timers (ARP retries and
//! the handlers' timers). [`drive`](NetStack::drive) does all three against a
//! [`FrameDevice`] such as a wire endpoint.
//!
//! What it does:
//!
//! - **Ethernet**: accepts frames to its address or broadcast.
//! - **ARP**: answers requests for its address; resolves outgoing destinations with a small
//!   cache and a bounded queue of packets waiting for resolution (retries, then gives up).
//!   It learns a neighbour from a request addressed to it, or from a reply or request when
//!   it already knows or is resolving that neighbour (so strangers cannot fill the cache).
//! - **IPv4**: checks version, lengths and the header checksum, accepts packets to its own
//!   address, drops fragments (no reassembly) and impossible sources. Options are accepted
//!   and ignored. It sends packets without options, with Don't Fragment set.
//! - **ICMP**: answers echo requests; keeps echo replies for
//!   [`take_echo_replies`](NetStack::take_echo_replies); ignores the rest.
//! - **TCP**: verifies the checksum (with the pseudo header) and the lengths, then calls the
//!   [`TcpHandler`] registered for the segment's [`FourTuple`], or else the listener on its
//!   destination port. Unclaimed segments are counted and dropped (a reset is the TCP's
//!   business). [`send_tcp`](NetStack::send_tcp) wraps a segment in IPv4 and Ethernet; a
//!   large one is cut on its way out (by [`pop_frame`](NetStack::pop_frame), or by the
//!   device, [`pop_segment`](NetStack::pop_segment)), its data perhaps still in the
//!   application's shared buffers ([`NetStack::send_tcp_gathered`]) until the device's write
//!   gathers it.
//!
//! Every drop is counted in [`NetStats`]. No input makes it panic, and every queue it has
//! is bounded by its [`NetConfig`].

mod arp;
mod config;
mod input;
mod tcp;

use core::fmt;
use core::net::Ipv4Addr;
use std::collections::{BTreeMap, VecDeque};

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr,
};

pub use config::{MAX_MTU, MIN_MTU, NetConfig, NetConfigError, NetStats};
pub use tcp::{
    FourTuple, HandlerSlot, NoTcp, SegmentError, TCP_HEADER_LEN, TCP_PROTOCOL, TcpContext,
    TcpHandler, TcpSegment, fill_tcp_checksum, fill_tcp_checksum_summed, tcp_checksum,
    verify_tcp_checksum,
};

use prolac_runtime::checksum::{Gathered, PieceSums};

use crate::device::FrameDevice;
use crate::wire::ETHERNET_HEADER_LEN;
use arp::{ArpCache, Due, Enqueued, Resolver};

/// The length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;

/// The bytes in front of a TCP segment in its frame: the Ethernet and IPv4 headers
/// ([`NetStack::send_tcp_frame`], [`TcpContext::send_tcp_frame`]).
pub const FRAME_HEADROOM: usize = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;

/// Whether `ip` can be a host's own address or a packet's source.
#[must_use]
pub fn is_unicast(ip: Ipv4Addr) -> bool {
    !(ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_loopback()
        || ip.octets()[0] == 0)
}

/// Why the stack refused to send a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The source address is not the stack's.
    WrongSource {
        /// The source asked for.
        src: Ipv4Addr,
        /// The stack's address.
        local: Ipv4Addr,
    },
    /// The destination is not another unicast host.
    BadDestination(Ipv4Addr),
    /// The TCP segment is malformed.
    Segment(SegmentError),
    /// The IPv4 packet would exceed the MTU.
    TooLong {
        /// The IPv4 packet's length.
        len: usize,
        /// The stack's MTU.
        mtu: usize,
    },
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongSource { src, local } => {
                write!(f, "source {src} is not the stack's address {local}")
            }
            Self::BadDestination(ip) => write!(f, "{ip} is not a reachable unicast host"),
            Self::Segment(e) => e.fmt(f),
            Self::TooLong { len, mtu } => {
                write!(f, "a {len}-byte IPv4 packet exceeds the MTU of {mtu}")
            }
        }
    }
}

impl std::error::Error for SendError {}

/// Checks a TCP send request against the stack's address and MTU.
/// [`check_tcp_send`] for a large segment cut at `cut` data bytes (0: not cut).
#[inline]
pub(crate) fn check_tcp_segmented(
    local: Ipv4Addr,
    mtu: usize,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    (segment, gathered): (&[u8], usize),
    cut: usize,
) -> Result<(), SendError> {
    if cut == 0 {
        check_tcp_send(local, mtu, src, dst, segment)?;
        return check_len(IPV4_HEADER_LEN + segment.len() + gathered, mtu);
    }
    let header = segment
        .get(12)
        .map_or(TCP_HEADER_LEN, |b| usize::from(b >> 4) * 4);
    check_tcp_send(
        local,
        mtu,
        src,
        dst,
        &segment[..segment.len().min(header + cut)],
    )?;
    // The first wire segment, the rest of its data gathered.
    let first = (segment.len() + gathered).min(header + cut);
    check_len(IPV4_HEADER_LEN + first, mtu)?;
    check_len(
        IPV4_HEADER_LEN + segment.len() + gathered,
        usize::from(u16::MAX),
    )
}

pub(crate) fn check_tcp_send(
    local: Ipv4Addr,
    mtu: usize,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    segment: &[u8],
) -> Result<(), SendError> {
    if src != local {
        return Err(SendError::WrongSource { src, local });
    }
    check_destination(local, dst)?;
    if segment.len() < TCP_HEADER_LEN {
        return Err(SendError::Segment(SegmentError::TooShort(segment.len())));
    }
    check_len(IPV4_HEADER_LEN + segment.len(), mtu)
}

fn check_destination(local: Ipv4Addr, dst: Ipv4Addr) -> Result<(), SendError> {
    if is_unicast(dst) && dst != local {
        Ok(())
    } else {
        Err(SendError::BadDestination(dst))
    }
}

const fn check_len(len: usize, mtu: usize) -> Result<(), SendError> {
    if len > mtu {
        Err(SendError::TooLong { len, mtu })
    } else {
        Ok(())
    }
}

/// An ICMP echo reply the stack received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoReply {
    /// Who answered.
    pub from: Ipv4Addr,
    /// The echo identifier.
    pub ident: u16,
    /// The echo sequence number.
    pub seq_no: u16,
    /// The echoed data.
    pub data: Vec<u8>,
    /// When it arrived, in virtual microseconds.
    pub received_us: u64,
}

/// An Ethernet + ARP + IPv4 + ICMP stack handing TCP segments to handlers of type `H`; see
/// the [module documentation](self).
///
/// ```
/// use core::net::Ipv4Addr;
/// use exokernel_target::netstack::{NetConfig, NetStack, NoTcp};
/// use exokernel_target::wire::{EndId, Wire, WireConfig};
/// use smoltcp::wire::EthernetAddress;
///
/// let config = |n: u8| NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, n]), Ipv4Addr::new(192, 0, 2, n));
/// let mut a = NetStack::<NoTcp>::new(config(1))?;
/// let mut b = NetStack::<NoTcp>::new(config(2))?;
/// let mut wire = Wire::new(WireConfig::new(1, 2))?;
///
/// a.send_ping(Ipv4Addr::new(192, 0, 2, 2), 7, 1, b"hello", 0)?;
/// for now in 0..4 {
///     a.drive(&mut wire.port(EndId::A)?, now);
///     b.drive(&mut wire.port(EndId::B)?, now);
/// }
/// let replies = a.take_echo_replies();
/// assert_eq!(replies[0].data, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct NetStack<H: TcpHandler> {
    config: NetConfig,
    stats: NetStats,
    arp: ArpCache,
    resolver: Resolver,
    /// Frames to send, each with the data size to cut it at (0: as it is; see
    /// [`pop_segment`](Self::pop_segment)).
    outbox: VecDeque<TxFrame>,
    echo_replies: VecDeque<EchoReply>,
    connections: BTreeMap<FourTuple, H>,
    listeners: BTreeMap<u16, H>,
    /// Connections that deferred their answers to the end of the receive batch.
    unflushed: Vec<FourTuple>,
    /// An empty list of outgoing segments, kept for its allocation.
    spare_outgoing: Vec<tcp::Outgoing>,
    next_ident: u16,
    /// The frame being received came with a transport checksum its device vouched for.
    checksum_trusted: bool,
    /// Frames sent and handed back ([`recycle`](Self::recycle)), for handlers to build the
    /// next ones in.
    spare_frames: Vec<Vec<u8>>,
}

/// A frame to transmit ([`NetStack::pop_segment`]).
#[derive(Debug)]
pub struct TxFrame {
    /// The frame.
    pub frame: Vec<u8>,
    /// 0 for a frame that goes as it is, or the size of each wire segment's data of a large
    /// TCP segment (see [`crate::device::FrameDevice::send_segmented`]).
    pub cut: usize,
    large: Option<Box<Large>>,
}

impl TxFrame {
    /// The sums of each wire segment's data, when the TCP made them as it copied the data in
    /// ([`PieceSums::NONE`] otherwise).
    #[must_use]
    pub fn sums(&self) -> &PieceSums {
        self.large.as_ref().map_or(&PieceSums::NONE, |l| &l.sums)
    }

    /// The data that follows the frame's headers when it stayed in shared buffers (see
    /// [`FrameDevice::send_segmented`]); empty when the frame holds it all.
    #[must_use]
    pub fn gathered(&self) -> &Gathered {
        static NONE: Gathered = Gathered::new();
        self.large.as_ref().map_or(&NONE, |l| &l.gathered)
    }
}

/// What a segment to cut carries besides its frame, boxed where it travels (most frames have
/// none of it): its pieces' data sums, and the data that follows it from shared buffers.
#[derive(Clone, Debug)]
pub(crate) struct Large {
    pub(crate) sums: PieceSums,
    pub(crate) gathered: Gathered,
}

impl Large {
    /// What the TCP segment in `frame` (after the headroom) from `src` to `dst`, cut at `cut`
    /// with `sums` and its data continued by `gathered`, needs carried — once the stack at
    /// `local` with `mtu` may send it ([`check_tcp_segmented`]): what both
    /// `send_tcp_gathered`s queue.
    pub(crate) fn checked(
        (local, mtu): (Ipv4Addr, usize),
        (src, dst): (Ipv4Addr, Ipv4Addr),
        frame: &[u8],
        (cut, sums, gathered): (usize, &PieceSums, Gathered),
    ) -> Result<Option<Box<Large>>, SendError> {
        let segment = frame.get(FRAME_HEADROOM..).unwrap_or_default();
        check_tcp_segmented(local, mtu, src, dst, (segment, gathered.len()), cut)?;
        Ok(Large::of(cut, sums, gathered))
    }

    /// What a segment cut at `cut` with `sums`, its data continued by `gathered`, needs carried:
    /// nothing for a segment that goes as it is.
    #[inline]
    pub(crate) fn of(cut: usize, sums: &PieceSums, gathered: Gathered) -> Option<Box<Large>> {
        (cut > 0 || !gathered.is_empty()).then(|| {
            Box::new(Large {
                sums: *sums,
                gathered,
            })
        })
    }
}

/// How a frame is to be cut on its way out (size 0: as it is), with what it carries for that.
struct Cut {
    size: usize,
    large: Option<Box<Large>>,
}

impl Cut {
    /// A frame that goes as it is.
    const NONE: Cut = Cut {
        size: 0,
        large: None,
    };

    /// The data that follows the frame from shared buffers.
    fn gathered(&self) -> &Gathered {
        static NONE: Gathered = Gathered::new();
        self.large.as_ref().map_or(&NONE, |l| &l.gathered)
    }
}

/// Sent frames a stack keeps for reuse at most.
const SPARE_FRAMES: usize = 512;

impl<H: TcpHandler> NetStack<H> {
    /// A stack as `config` describes it, with an empty ARP cache and no handlers.
    ///
    /// # Errors
    ///
    /// The first problem [`NetConfig::validate`] finds.
    pub fn new(config: NetConfig) -> Result<Self, NetConfigError> {
        config.validate()?;
        Ok(Self {
            arp: ArpCache::new(config.arp_cache_capacity, config.arp_lifetime_us),
            config,
            stats: NetStats::default(),
            resolver: Resolver::default(),
            spare_outgoing: Vec::new(),
            unflushed: Vec::new(),
            outbox: VecDeque::new(),
            echo_replies: VecDeque::new(),
            connections: BTreeMap::new(),
            listeners: BTreeMap::new(),
            next_ident: 1,
            checksum_trusted: false,
            spare_frames: Vec::new(),
        })
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &NetConfig {
        &self.config
    }

    /// The counters.
    #[must_use]
    pub const fn stats(&self) -> &NetStats {
        &self.stats
    }

    /// The stack's Ethernet address.
    #[must_use]
    pub const fn mac(&self) -> EthernetAddress {
        self.config.mac
    }

    /// The stack's IPv4 address.
    #[must_use]
    pub const fn ip(&self) -> Ipv4Addr {
        self.config.ip
    }

    // ----- handlers -----

    /// Registers `handler` for connection `key`, returning the handler it replaces.
    /// (A key whose `local_ip` is not the stack's never matches a segment.)
    pub fn register(&mut self, key: FourTuple, handler: H) -> Option<H> {
        self.connections.insert(key, handler)
    }

    /// Removes the handler of connection `key`.
    pub fn unregister(&mut self, key: &FourTuple) -> Option<H> {
        self.connections.remove(key)
    }

    /// Registers `handler` as the listener on local port `port`, returning the listener it
    /// replaces.
    pub fn listen(&mut self, port: u16, handler: H) -> Option<H> {
        self.listeners.insert(port, handler)
    }

    /// Removes the listener on `port`.
    pub fn unlisten(&mut self, port: u16) -> Option<H> {
        self.listeners.remove(&port)
    }

    /// The handler of connection `key`.
    #[must_use]
    pub fn handler(&self, key: &FourTuple) -> Option<&H> {
        self.connections.get(key)
    }

    /// The handler of connection `key`, mutably.
    pub fn handler_mut(&mut self, key: &FourTuple) -> Option<&mut H> {
        self.connections.get_mut(key)
    }

    /// The listener on `port`.
    #[must_use]
    pub fn listener(&self, port: u16) -> Option<&H> {
        self.listeners.get(&port)
    }

    /// The listener on `port`, mutably.
    pub fn listener_mut(&mut self, port: u16) -> Option<&mut H> {
        self.listeners.get_mut(&port)
    }

    /// The registered connections, in key order.
    pub fn connections(&self) -> impl Iterator<Item = (&FourTuple, &H)> {
        self.connections.iter()
    }

    /// Calls a handler through `slot` and applies what it asked for.
    fn call_handler(
        &mut self,
        slot: HandlerSlot,
        now_us: u64,
        call: impl FnOnce(&mut H, &mut TcpContext<H>),
    ) -> bool {
        let handler = match slot {
            HandlerSlot::Connection(key) => self.connections.get_mut(&key),
            HandlerSlot::Listener(port) => self.listeners.get_mut(&port),
        };
        let Some(handler) = handler else {
            return false;
        };
        let mut ctx = TcpContext::new(now_us, self.config.ip, self.config.mtu, slot);
        // The segment list's allocation is reused from call to call, and so are sent frames.
        ctx.outgoing = std::mem::take(&mut self.spare_outgoing);
        ctx.spare_frames = std::mem::take(&mut self.spare_frames);
        call(handler, &mut ctx);
        self.spare_frames = std::mem::take(&mut ctx.spare_frames);
        if ctx.close {
            match slot {
                HandlerSlot::Connection(key) => self.connections.remove(&key),
                HandlerSlot::Listener(port) => self.listeners.remove(&port),
            };
        }
        for (key, handler) in ctx.registrations.drain(..) {
            self.connections.insert(key, handler);
        }
        let mut outgoing = std::mem::take(&mut ctx.outgoing);
        for out in outgoing.drain(..) {
            // Checked when queued; the stack's address and MTU have not changed since.
            let cut = Cut {
                size: out.cut,
                large: out.large,
            };
            self.send_framed_cut(out.dst, IpProtocol::Tcp, out.frame, cut, now_us);
        }
        self.spare_outgoing = outgoing;
        true
    }

    // ----- output -----

    /// Wraps a TCP segment (header, options, payload; its checksum is the caller's, see
    /// [`fill_tcp_checksum`]) in IPv4 and Ethernet and queues it for sending, resolving
    /// `dst` with ARP first if needed.
    ///
    /// # Errors
    ///
    /// [`SendError::WrongSource`] if `src` is not the stack's address,
    /// [`SendError::BadDestination`], [`SendError::Segment`] for a segment shorter than a
    /// TCP header, [`SendError::TooLong`] beyond the MTU. A packet dropped later (ARP
    /// failure, full queues) is counted in [`NetStats`], not reported here.
    pub fn send_tcp(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        segment: &[u8],
        now_us: u64,
    ) -> Result<(), SendError> {
        check_tcp_send(self.config.ip, self.config.mtu, src, dst, segment)?;
        self.output_ipv4(dst, IpProtocol::Tcp, segment.len(), now_us, |payload| {
            payload.copy_from_slice(segment);
        })
    }

    /// Like [`send_tcp`](Self::send_tcp) for a segment already in its frame, after
    /// [`FRAME_HEADROOM`] bytes that the stack fills with the headers: nothing is copied.
    ///
    /// # Errors
    ///
    /// As [`send_tcp`](Self::send_tcp); a frame shorter than the headroom is
    /// [`SendError::Segment`].
    pub fn send_tcp_frame(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        frame: Vec<u8>,
        now_us: u64,
    ) -> Result<(), SendError> {
        self.send_tcp_segmented(src, dst, frame, 0, now_us)
    }

    /// [`send_tcp_frame`](Self::send_tcp_frame) for a large segment that goes as segments of
    /// `cut` data bytes (the TCP's segmentation offload; 0: as it is). Each wire segment must
    /// fit the MTU; the checksum is filled in for each. The frame is cut by the device that
    /// sends it ([`crate::device::FrameDevice::send_segmented`], through
    /// [`pop_segment`](Self::pop_segment)) or by [`pop_frame`](Self::pop_frame).
    ///
    /// # Errors
    ///
    /// As [`send_tcp_frame`](Self::send_tcp_frame); [`SendError::TooLong`] for a wire
    /// segment beyond the MTU or a large segment beyond 64 KiB.
    pub fn send_tcp_segmented(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        frame: Vec<u8>,
        cut: usize,
        now_us: u64,
    ) -> Result<(), SendError> {
        self.send_tcp_summed(src, dst, frame, cut, &PieceSums::NONE, now_us)
    }

    /// [`send_tcp_segmented`](Self::send_tcp_segmented) with the sums of each wire segment's
    /// data, made as the TCP copied the data in: the device that cuts the segment then reads
    /// only its headers.
    ///
    /// # Errors
    ///
    /// As [`send_tcp_segmented`](Self::send_tcp_segmented).
    pub fn send_tcp_summed(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        frame: Vec<u8>,
        cut: usize,
        sums: &PieceSums,
        now_us: u64,
    ) -> Result<(), SendError> {
        self.send_tcp_gathered(src, dst, (frame, Gathered::new()), cut, sums, now_us)
    }

    /// [`send_tcp_summed`](Self::send_tcp_summed) for a segment whose data (all of it, or
    /// what follows the part in `frame`) stays in shared buffers, `gathered`: the
    /// device gathers it as it writes each wire segment
    /// ([`FrameDevice::send_segmented`]).
    ///
    /// # Errors
    ///
    /// As [`send_tcp_segmented`](Self::send_tcp_segmented), of the whole segment.
    pub fn send_tcp_gathered(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        (frame, gathered): (Vec<u8>, Gathered),
        cut: usize,
        sums: &PieceSums,
        now_us: u64,
    ) -> Result<(), SendError> {
        let stack = (self.config.ip, self.config.mtu);
        let large = Large::checked(stack, (src, dst), &frame, (cut, sums, gathered))?;
        let cut = Cut { size: cut, large };
        self.send_framed_cut(dst, IpProtocol::Tcp, frame, cut, now_us);
        Ok(())
    }

    /// Sends an ICMP echo request to `dst`.
    ///
    /// # Errors
    ///
    /// [`SendError::BadDestination`] or [`SendError::TooLong`].
    pub fn send_ping(
        &mut self,
        dst: Ipv4Addr,
        ident: u16,
        seq_no: u16,
        data: &[u8],
        now_us: u64,
    ) -> Result<(), SendError> {
        check_destination(self.config.ip, dst)?;
        self.send_icmp(
            dst,
            &Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            },
            now_us,
        )
    }

    /// Sends an ICMP message (checksum computed) to `dst`.
    fn send_icmp(
        &mut self,
        dst: Ipv4Addr,
        repr: &Icmpv4Repr<'_>,
        now_us: u64,
    ) -> Result<(), SendError> {
        self.output_ipv4(
            dst,
            IpProtocol::Icmp,
            repr.buffer_len(),
            now_us,
            |payload| {
                let mut packet = Icmpv4Packet::new_unchecked(payload);
                repr.emit(&mut packet, &ChecksumCapabilities::default());
            },
        )
    }

    /// Builds an Ethernet frame holding an IPv4 packet to `dst` whose payload `fill`
    /// writes, and routes it.
    fn output_ipv4(
        &mut self,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        payload_len: usize,
        now_us: u64,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), SendError> {
        let ip_len = IPV4_HEADER_LEN + payload_len;
        check_len(ip_len, self.config.mtu)?;
        let mut frame = vec![0; ETHERNET_HEADER_LEN + ip_len];
        fill(&mut frame[ETHERNET_HEADER_LEN + IPV4_HEADER_LEN..]);
        self.send_framed(dst, protocol, frame, now_us);
        Ok(())
    }

    /// Writes the Ethernet and IPv4 headers in front of the payload already in `frame` and
    /// routes it (the payload's length has been checked against the MTU).
    fn send_framed(&mut self, dst: Ipv4Addr, protocol: IpProtocol, frame: Vec<u8>, now_us: u64) {
        self.send_framed_cut(dst, protocol, frame, Cut::NONE, now_us);
    }

    /// [`send_framed`](Self::send_framed) for a frame to be cut as `cut` says.
    fn send_framed_cut(
        &mut self,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        mut frame: Vec<u8>,
        cut: Cut,
        now_us: u64,
    ) {
        let payload_len =
            frame.len() - ETHERNET_HEADER_LEN - IPV4_HEADER_LEN + cut.gathered().len();
        let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
        eth.set_src_addr(self.config.mac);
        eth.set_ethertype(EthernetProtocol::Ipv4);
        let repr = Ipv4Repr {
            src_addr: self.config.ip,
            dst_addr: dst,
            next_header: protocol,
            payload_len,
            hop_limit: self.config.ttl,
        };
        let mut ip = Ipv4Packet::new_unchecked(eth.payload_mut());
        repr.emit(&mut ip, &ChecksumCapabilities::ignored());
        ip.set_ident(self.next_ident);
        self.next_ident = self.next_ident.wrapping_add(1);
        ip.set_checksum(0);
        let sum = prolac_runtime::checksum::checksum(&ip.as_ref()[..IPV4_HEADER_LEN]);
        ip.set_checksum(sum);
        self.route(dst, frame, cut, now_us);
    }

    /// Sends `frame` (destination address still blank) to `dst`'s hardware address, or
    /// queues it until ARP finds it.
    fn route(&mut self, dst: Ipv4Addr, mut frame: Vec<u8>, cut: Cut, now_us: u64) {
        if let Some(mac) = self.arp.lookup(dst, now_us) {
            EthernetFrame::new_unchecked(&mut frame[..]).set_dst_addr(mac);
            self.queue_tx(frame, cut);
            return;
        }
        if cut.size > 0 {
            // Frames waiting for ARP are whole wire frames: cut this one now.
            let mut pieces = Vec::new();
            let sums = cut.large.as_ref().map_or(&PieceSums::NONE, |l| &l.sums);
            crate::offload::cut_gathered(&frame, cut.gathered(), cut.size, sums, |h, d| {
                pieces.push(crate::offload::joined(h, d));
            });
            for piece in pieces {
                self.route(dst, piece, Cut::NONE, now_us);
            }
            return;
        }
        if !cut.gathered().is_empty() {
            // Not cut (a segment to cut always is, when its data is gathered): whole.
            cut.gathered().copy_to(&mut frame);
        }
        match self.resolver.enqueue(
            dst,
            frame,
            now_us,
            self.config.arp_retry_us,
            self.config.pending_limit,
        ) {
            Enqueued::StartResolving => self.send_arp(ArpOperation::Request, dst, None),
            Enqueued::Queued => {}
            Enqueued::Dropped => self.stats.tx_pending_drops += 1,
        }
    }

    /// Sends an ARP request for `target` (broadcast) or a reply to `target` at `target_mac`.
    fn send_arp(
        &mut self,
        operation: ArpOperation,
        target: Ipv4Addr,
        target_mac: Option<EthernetAddress>,
    ) {
        let repr = ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr: self.config.mac,
            source_protocol_addr: self.config.ip,
            target_hardware_addr: target_mac.unwrap_or(EthernetAddress([0; 6])),
            target_protocol_addr: target,
        };
        let mut frame = vec![0; ETHERNET_HEADER_LEN + repr.buffer_len()];
        let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
        eth.set_src_addr(self.config.mac);
        eth.set_dst_addr(target_mac.unwrap_or(EthernetAddress::BROADCAST));
        eth.set_ethertype(EthernetProtocol::Arp);
        repr.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
        if operation == ArpOperation::Request {
            self.stats.arp_requests_sent += 1;
        }
        self.queue_tx(frame, Cut::NONE);
    }

    /// Appends a finished frame to the transmit queue, if there is room.
    fn queue_tx(&mut self, frame: Vec<u8>, cut: Cut) {
        if self.outbox.len() >= self.config.tx_queue_limit {
            self.stats.tx_queue_drops += 1;
        } else {
            self.outbox.push_back(TxFrame {
                frame,
                cut: cut.size,
                large: cut.large,
            });
        }
    }

    /// Hands back a frame [`pop_frame`](Self::pop_frame) gave, once sent, for a handler to
    /// build a later frame in (a few hundred are kept; the rest are freed).
    pub fn recycle(&mut self, frame: Vec<u8>) {
        // A large segment's buffer is not kept: a pool of them would hold megabytes.
        if self.spare_frames.len() < SPARE_FRAMES && frame.capacity() <= 4096 {
            self.spare_frames.push(frame);
        }
    }

    /// The handler registered for `key` and the frames handed back, for it to build its
    /// frames in ([`recycle`](Self::recycle)).
    pub fn handler_and_spares_mut(
        &mut self,
        key: &FourTuple,
    ) -> Option<(&mut H, &mut Vec<Vec<u8>>)> {
        let handler = self.connections.get_mut(key)?;
        Some((handler, &mut self.spare_frames))
    }

    /// The next frame to transmit: a large segment is cut here, in software (a driver that
    /// can cut it, or hand it to a device that can, takes [`pop_segment`](Self::pop_segment)).
    pub fn pop_frame(&mut self) -> Option<Vec<u8>> {
        let mut out = self.outbox.pop_front()?;
        if out.cut == 0 {
            self.stats.tx_frames += 1;
            if let Some(large) = out.large {
                large.gathered.copy_to(&mut out.frame);
            }
            return Some(out.frame);
        }
        let mut pieces = Vec::new();
        crate::offload::cut_gathered(&out.frame, out.gathered(), out.cut, out.sums(), |h, d| {
            pieces.push(crate::offload::joined(h, d));
        });
        for piece in pieces.into_iter().rev() {
            self.outbox.push_front(TxFrame {
                frame: piece,
                cut: 0,
                large: None,
            });
        }
        self.pop_frame()
    }

    /// The next frame to transmit, with the data size to cut it at and its pieces' sums.
    pub fn pop_segment(&mut self) -> Option<TxFrame> {
        let out = self.outbox.pop_front()?;
        self.stats.tx_frames += if out.cut == 0 {
            1
        } else {
            crate::offload::pieces(&out.frame, out.gathered().len(), out.cut)
        };
        Some(out)
    }

    /// How many frames wait to be transmitted.
    #[must_use]
    pub fn tx_queue_len(&self) -> usize {
        self.outbox.len()
    }

    /// How many packets wait for ARP resolution.
    #[must_use]
    pub const fn pending_len(&self) -> usize {
        self.resolver.pending()
    }

    // ----- ARP cache -----

    /// The hardware address cached for `ip` at `now_us`.
    #[must_use]
    pub fn arp_lookup(&self, ip: Ipv4Addr, now_us: u64) -> Option<EthernetAddress> {
        self.arp.lookup(ip, now_us)
    }

    /// Records that `ip` is at `mac` (as if an ARP reply had said so), sending the packets
    /// waiting for it.
    pub fn add_arp_entry(&mut self, ip: Ipv4Addr, mac: EthernetAddress, now_us: u64) {
        self.learn(ip, mac, now_us);
    }

    /// Caches `ip` → `mac` and releases the frames waiting for it.
    fn learn(&mut self, ip: Ipv4Addr, mac: EthernetAddress, now_us: u64) {
        self.arp.insert(ip, mac, now_us);
        for mut frame in self.resolver.resolved(ip) {
            EthernetFrame::new_unchecked(&mut frame[..]).set_dst_addr(mac);
            self.queue_tx(frame, Cut::NONE);
        }
    }

    // ----- ICMP -----

    /// The echo replies received since the last call, oldest first (at most
    /// [`NetConfig::echo_reply_limit`]; older ones are discarded).
    pub fn take_echo_replies(&mut self) -> Vec<EchoReply> {
        self.echo_replies.drain(..).collect()
    }

    // ----- time -----

    /// Runs the timers due at `now_us`: ARP retries and give-ups, and the handlers whose
    /// [`poll_at`](TcpHandler::poll_at) has come (connections in key order, then listeners
    /// in port order).
    pub fn poll(&mut self, now_us: u64) {
        self.flush(now_us);
        self.run_timers(now_us);
    }

    /// The timers' part of [`poll`](Self::poll), without ending the receive batch: ARP
    /// retries and every handler whose timer is due. A caller that lets the application act
    /// before the batch is answered (so that an answer with data carries the ACK) calls this,
    /// then [`flush`](Self::flush) once the application has acted.
    pub fn run_timers(&mut self, now_us: u64) {
        for due in self.resolver.due(
            now_us,
            self.config.arp_retry_us,
            self.config.arp_max_requests,
        ) {
            match due {
                Due::Retry(ip) => self.send_arp(ArpOperation::Request, ip, None),
                Due::GiveUp(_, dropped) => {
                    self.stats.arp_failures += 1;
                    self.stats.tx_pending_drops += dropped as u64;
                }
            }
        }
        let due = |h: &H| h.poll_at().is_some_and(|t| t <= now_us);
        // Nothing is collected (or allocated) when no timer is due, the common case.
        if self.connections.values().any(due) {
            let due_connections: Vec<FourTuple> = self
                .connections
                .iter()
                .filter(|(_, h)| due(h))
                .map(|(key, _)| *key)
                .collect();
            for key in due_connections {
                self.call_handler(HandlerSlot::Connection(key), now_us, |h, ctx| h.poll(ctx));
            }
        }
        if self.listeners.values().any(due) {
            let due_listeners: Vec<u16> = self
                .listeners
                .iter()
                .filter(|(_, h)| due(h))
                .map(|(port, _)| *port)
                .collect();
            for port in due_listeners {
                self.call_handler(HandlerSlot::Listener(port), now_us, |h, ctx| h.poll(ctx));
            }
        }
    }

    /// The end of a batch of received frames: the connections that deferred their answers
    /// while segments arrived ([`TcpHandler::wants_flush`]) send them now. [`poll`](Self::poll)
    /// and [`drive`](Self::drive) do this first.
    pub fn flush(&mut self, now_us: u64) {
        let mut keys = std::mem::take(&mut self.unflushed);
        for key in keys.drain(..) {
            // A connection that answered since (its application sent) has nothing left.
            if self
                .connections
                .get(&key)
                .is_some_and(TcpHandler::wants_flush)
            {
                self.call_handler(HandlerSlot::Connection(key), now_us, |h, ctx| h.flush(ctx));
            }
        }
        // The list's allocation is kept for the next batch.
        if self.unflushed.is_empty() {
            self.unflushed = keys;
        }
    }

    /// When [`poll`](Self::poll) next has work: the earliest ARP timer or handler timer.
    #[must_use]
    pub fn poll_at(&self) -> Option<u64> {
        if !self.unflushed.is_empty() {
            return Some(0);
        }
        let handlers = self
            .connections
            .values()
            .chain(self.listeners.values())
            .filter_map(TcpHandler::poll_at);
        handlers.chain(self.resolver.next_deadline()).min()
    }

    /// Receives every frame `device` has by `now_us`, runs the timers, and sends every
    /// queued frame. Returns how many frames were received.
    pub fn drive<D: FrameDevice>(&mut self, device: &mut D, now_us: u64) -> usize {
        let mut received = 0;
        while let Some(frame) = device.recv_frame(now_us) {
            self.receive_frame(&frame, now_us);
            received += 1;
        }
        self.poll(now_us);
        while let Some(frame) = self.pop_frame() {
            if device.send_frame(&frame, now_us).is_err() {
                self.stats.tx_device_errors += 1;
            }
        }
        received
    }
}
