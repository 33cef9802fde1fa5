//! The boundary between the library-OS stack and a TCP: demultiplexing keys, the segment a
//! handler receives, the handler trait, and TCP checksums over the IPv4 pseudo header.
//!
//! The stack does not implement TCP. It checks each incoming segment's length and checksum,
//! finds the handler registered for the segment's connection (or, failing that, the
//! listener on its destination port) and calls it with a [`TcpContext`] through which the
//! handler sends segments, registers new connections (a listener accepting one) and closes
//! itself. The future Prolac-generated TCP implements [`TcpHandler`].

use core::fmt;
use core::net::Ipv4Addr;

use prolac_runtime::checksum::{Gathered, PieceSums, pseudo_header_ipv4};

/// The IP protocol number of TCP.
pub const TCP_PROTOCOL: u8 = 6;

/// The length of a TCP header without options.
pub const TCP_HEADER_LEN: usize = 20;

/// Offset of the checksum field in a TCP header.
const CHECKSUM_OFFSET: usize = 16;

/// A connection as the local host sees it: the demultiplexing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FourTuple {
    /// The local IPv4 address.
    pub local_ip: Ipv4Addr,
    /// The local port.
    pub local_port: u16,
    /// The remote IPv4 address.
    pub remote_ip: Ipv4Addr,
    /// The remote port.
    pub remote_port: u16,
}

impl fmt::Display for FourTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} <-> {}:{}",
            self.local_ip, self.local_port, self.remote_ip, self.remote_port
        )
    }
}

/// A TCP segment that cannot be handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentError {
    /// Shorter than a TCP header.
    TooShort(usize),
    /// The data offset is below 5 words or beyond the segment.
    BadDataOffset(usize),
    /// Longer than an IPv4 packet can carry.
    TooLong(usize),
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort(n) => write!(f, "a {n}-byte segment is shorter than a TCP header"),
            Self::BadDataOffset(n) => write!(f, "header length {n} does not fit the segment"),
            Self::TooLong(n) => write!(f, "a {n}-byte segment does not fit in IPv4"),
        }
    }
}

impl std::error::Error for SegmentError {}

/// An incoming TCP segment whose length fields are consistent (its checksum has been
/// verified when it comes from the stack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    bytes: &'a [u8],
    header_len: usize,
}

impl<'a> TcpSegment<'a> {
    /// Views `bytes` (TCP header, options and payload) as a segment from `src` to `dst`.
    ///
    /// # Errors
    ///
    /// [`SegmentError::TooShort`] or [`SegmentError::BadDataOffset`] when the header does
    /// not fit; the checksum is not checked here (see [`verify_tcp_checksum`]).
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, bytes: &'a [u8]) -> Result<Self, SegmentError> {
        let Some(&offset_byte) = bytes.get(12) else {
            return Err(SegmentError::TooShort(bytes.len()));
        };
        if bytes.len() < TCP_HEADER_LEN {
            return Err(SegmentError::TooShort(bytes.len()));
        }
        let header_len = usize::from(offset_byte >> 4) * 4;
        if header_len < TCP_HEADER_LEN || header_len > bytes.len() {
            return Err(SegmentError::BadDataOffset(header_len));
        }
        Ok(Self {
            src,
            dst,
            bytes,
            header_len,
        })
    }

    /// The IPv4 source address.
    #[must_use]
    pub const fn src(&self) -> Ipv4Addr {
        self.src
    }

    /// The IPv4 destination address.
    #[must_use]
    pub const fn dst(&self) -> Ipv4Addr {
        self.dst
    }

    /// The whole segment: header, options and payload.
    #[must_use]
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The header including options.
    #[must_use]
    pub fn header(&self) -> &'a [u8] {
        self.bytes.get(..self.header_len).unwrap_or_default()
    }

    /// The payload after the header and options.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(self.header_len..).unwrap_or_default()
    }

    /// The TCP source port.
    #[must_use]
    pub fn src_port(&self) -> u16 {
        self.port_at(0)
    }

    /// The TCP destination port.
    #[must_use]
    pub fn dst_port(&self) -> u16 {
        self.port_at(2)
    }

    fn port_at(&self, offset: usize) -> u16 {
        match self.bytes.get(offset..offset + 2) {
            Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
            _ => 0,
        }
    }

    /// The connection this segment belongs to, seen from the receiver.
    #[must_use]
    pub fn key(&self) -> FourTuple {
        FourTuple {
            local_ip: self.dst,
            local_port: self.dst_port(),
            remote_ip: self.src,
            remote_port: self.src_port(),
        }
    }
}

/// The TCP checksum of `segment` from `src` to `dst` (pseudo header included), as a
/// host-order value to store big-endian. Computed over the segment as it is: zero the
/// checksum field first to compute a checksum to store, or leave it in place to verify
/// (the result is then `0`). `None` if the segment is too long for IPv4.
#[must_use]
pub fn tcp_checksum(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> Option<u16> {
    let len = u16::try_from(segment.len()).ok()?;
    let mut sum = pseudo_header_ipv4(src.octets(), dst.octets(), TCP_PROTOCOL, len);
    sum.add_bytes(segment);
    Some(sum.finish())
}

/// Whether `segment`'s checksum is correct for a segment from `src` to `dst`.
#[must_use]
pub fn verify_tcp_checksum(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> bool {
    segment.len() >= TCP_HEADER_LEN && tcp_checksum(src, dst, segment) == Some(0)
}

/// Computes and stores the checksum of `segment` from `src` to `dst`.
///
/// # Errors
///
/// [`SegmentError::TooShort`] or [`SegmentError::TooLong`].
pub fn fill_tcp_checksum(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    segment: &mut [u8],
) -> Result<(), SegmentError> {
    if segment.len() < TCP_HEADER_LEN {
        return Err(SegmentError::TooShort(segment.len()));
    }
    let Some(field) = segment.get_mut(CHECKSUM_OFFSET..CHECKSUM_OFFSET + 2) else {
        return Err(SegmentError::TooShort(segment.len()));
    };
    field.fill(0);
    let sum = tcp_checksum(src, dst, segment).ok_or(SegmentError::TooLong(segment.len()))?;
    if let Some(field) = segment.get_mut(CHECKSUM_OFFSET..CHECKSUM_OFFSET + 2) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
    Ok(())
}

/// [`fill_tcp_checksum`] for a segment whose data's one's-complement sum is known (`sums`
/// made for it uncut, as the data was copied in: see [`PieceSums`]): only the pseudo header
/// and the TCP header are read. Falls back to reading everything when `sums` does not fit
/// the segment.
///
/// # Errors
///
/// As [`fill_tcp_checksum`].
pub fn fill_tcp_checksum_summed(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    segment: &mut [u8],
    sums: &PieceSums,
) -> Result<(), SegmentError> {
    let header = segment.get(12).map_or(0, |b| usize::from(b >> 4) * 4);
    let data_sum = (header >= TCP_HEADER_LEN && header <= segment.len())
        .then(|| sums.piece(0, segment.len() - header, 0))
        .flatten();
    let (Some(data_sum), Ok(len)) = (data_sum, u16::try_from(segment.len())) else {
        return fill_tcp_checksum(src, dst, segment);
    };
    segment[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 2].fill(0);
    let mut sum = pseudo_header_ipv4(src.octets(), dst.octets(), TCP_PROTOCOL, len);
    sum.add_bytes(&segment[..header]);
    sum.add_sum(data_sum, segment.len() - header);
    segment[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 2].copy_from_slice(&sum.finish().to_be_bytes());
    Ok(())
}

/// Which registration a handler was called through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerSlot {
    /// A connection handler, keyed by its four-tuple.
    Connection(FourTuple),
    /// A listener, keyed by its local port.
    Listener(u16),
}

/// A TCP segment a handler asked to send, already placed in its frame: the Ethernet and IPv4
/// headers before it are left for the stack to write.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub(crate) dst: Ipv4Addr,
    pub(crate) frame: Vec<u8>,
    /// The data size to cut the segment at (0: as it is).
    pub(crate) cut: usize,
    /// The data sums of the wire segments it becomes, when known, and the data that follows
    /// the frame from shared buffers: for a segment to cut.
    pub(crate) large: Option<Box<super::Large>>,
}

/// What a handler can do while the stack calls it: send segments, register connections,
/// close itself. The effects take place when the handler returns.
#[derive(Debug)]
pub struct TcpContext<H> {
    now_us: u64,
    local_ip: Ipv4Addr,
    mtu: usize,
    slot: HandlerSlot,
    pub(crate) outgoing: Vec<Outgoing>,
    pub(crate) spare_frames: Vec<Vec<u8>>,
    pub(crate) registrations: Vec<(FourTuple, H)>,
    pub(crate) close: bool,
}

impl<H> TcpContext<H> {
    /// A context for a call through `slot` at `now_us`.
    pub(crate) const fn new(
        now_us: u64,
        local_ip: Ipv4Addr,
        mtu: usize,
        slot: HandlerSlot,
    ) -> Self {
        Self {
            now_us,
            local_ip,
            mtu,
            slot,
            outgoing: Vec::new(),
            spare_frames: Vec::new(),
            registrations: Vec::new(),
            close: false,
        }
    }

    /// The current virtual time in microseconds.
    #[must_use]
    pub const fn now_us(&self) -> u64 {
        self.now_us
    }

    /// The stack's IPv4 address.
    #[must_use]
    pub const fn local_ip(&self) -> Ipv4Addr {
        self.local_ip
    }

    /// The registration the handler was called through.
    #[must_use]
    pub const fn slot(&self) -> HandlerSlot {
        self.slot
    }

    /// Queues a TCP segment (header, options, payload, checksum already filled) to be
    /// wrapped in IPv4 and Ethernet and sent.
    ///
    /// # Errors
    ///
    /// As [`NetStack::send_tcp`](super::NetStack::send_tcp), for the checks that do not
    /// depend on the stack's state.
    pub fn send_tcp(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        segment: &[u8],
    ) -> Result<(), super::SendError> {
        super::check_tcp_send(self.local_ip, self.mtu, src, dst, segment)?;
        // One copy: into the frame that goes out, with room for the headers in front.
        let headroom = crate::wire::ETHERNET_HEADER_LEN + super::IPV4_HEADER_LEN;
        let mut frame = Vec::with_capacity(headroom + segment.len());
        frame.resize(headroom, 0);
        frame.extend_from_slice(segment);
        self.outgoing.push(Outgoing {
            dst,
            frame,
            cut: 0,
            large: None,
        });
        Ok(())
    }

    /// Queues a TCP segment that is already in its frame: [`FRAME_HEADROOM`](super::FRAME_HEADROOM)
    /// bytes for the Ethernet and IPv4 headers, then the segment (checksum filled). Nothing
    /// is copied.
    ///
    /// # Errors
    ///
    /// As [`TcpContext::send_tcp`]; a frame shorter than the headroom is
    /// [`SendError::Segment`](super::SendError::Segment).
    pub fn send_tcp_frame(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        frame: Vec<u8>,
    ) -> Result<(), super::SendError> {
        self.send_tcp_segmented(src, dst, frame, 0)
    }

    /// [`send_tcp_frame`](Self::send_tcp_frame) for a large segment to be cut at `cut` data
    /// bytes (see [`NetStack::send_tcp_segmented`](super::NetStack::send_tcp_segmented)).
    ///
    /// # Errors
    ///
    /// As [`NetStack::send_tcp_segmented`](super::NetStack::send_tcp_segmented).
    #[inline]
    pub fn send_tcp_segmented(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        frame: Vec<u8>,
        cut: usize,
    ) -> Result<(), super::SendError> {
        self.send_tcp_summed(src, dst, frame, cut, &PieceSums::NONE)
    }

    /// [`send_tcp_segmented`](Self::send_tcp_segmented) with the sums of the data of each
    /// wire segment, made as the data was copied in: cutting it then reads only headers.
    ///
    /// # Errors
    ///
    /// As [`send_tcp_segmented`](Self::send_tcp_segmented).
    #[inline]
    pub fn send_tcp_summed(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        frame: Vec<u8>,
        cut: usize,
        sums: &PieceSums,
    ) -> Result<(), super::SendError> {
        self.send_tcp_gathered(src, dst, (frame, Gathered::new()), cut, sums)
    }

    /// [`send_tcp_summed`](Self::send_tcp_summed) for a segment whose data (all of it, or
    /// what follows the part in `frame`) stays in shared buffers, `gathered`: the
    /// device gathers it as it writes each wire segment, never copied
    /// ([`FrameDevice::send_segmented`](crate::device::FrameDevice::send_segmented)).
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
    ) -> Result<(), super::SendError> {
        let stack = (self.local_ip, self.mtu);
        let large = super::Large::checked(stack, (src, dst), &frame, (cut, sums, gathered))?;
        self.outgoing.push(Outgoing {
            dst,
            frame,
            cut,
            large,
        });
        Ok(())
    }

    /// Frames the stack has sent and handed back, for the handler to build its frames in.
    pub const fn spare_frames(&mut self) -> &mut Vec<Vec<u8>> {
        &mut self.spare_frames
    }

    /// Registers `handler` for connection `key` (replacing any handler it had), as a
    /// listener does when it accepts a connection.
    pub fn register(&mut self, key: FourTuple, handler: H) {
        self.registrations.push((key, handler));
    }

    /// Removes the handler being called from the stack once it returns.
    pub const fn close(&mut self) {
        self.close = true;
    }
}

/// A TCP endpoint the stack hands segments to: a connection or a listener.
///
/// A stack holds handlers of one type; an application with several kinds of handler uses an
/// enum. Handlers never see a segment with a bad checksum or inconsistent lengths.
pub trait TcpHandler: Sized {
    /// Handles an incoming segment addressed to this handler's connection or port.
    fn segment(&mut self, segment: &TcpSegment<'_>, ctx: &mut TcpContext<Self>);

    /// An ICMPv4 error of `kind` and `code` quoting a segment of this handler's connection
    /// whose sequence number was `seq` (the stack has matched addresses and ports). Ignored
    /// unless the handler implements it.
    fn icmp_error(&mut self, kind: u8, code: u8, seq: u32, ctx: &mut TcpContext<Self>) {
        let _ = (kind, code, seq, ctx);
    }

    /// Runs timers: called by [`NetStack::poll`](super::NetStack::poll) on every handler.
    fn poll(&mut self, ctx: &mut TcpContext<Self>) {
        let _ = ctx;
    }

    /// The end of a batch of segments ([`NetStack::flush`](super::NetStack::flush)): a handler
    /// that deferred its answers while segments arrived sends them now.
    fn flush(&mut self, ctx: &mut TcpContext<Self>) {
        let _ = ctx;
    }

    /// Whether the handler has deferred answers waiting for [`flush`](Self::flush).
    fn wants_flush(&self) -> bool {
        false
    }

    /// When this handler next needs [`poll`](Self::poll), in virtual microseconds.
    fn poll_at(&self) -> Option<u64> {
        None
    }
}

/// The handler type of a stack without TCP: it has no values, so no handler can be
/// registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoTcp {}

impl TcpHandler for NoTcp {
    fn segment(&mut self, _segment: &TcpSegment<'_>, _ctx: &mut TcpContext<Self>) {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    fn segment(payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0; TCP_HEADER_LEN];
        s[0..2].copy_from_slice(&1234u16.to_be_bytes());
        s[2..4].copy_from_slice(&80u16.to_be_bytes());
        s[12] = 5 << 4;
        s.extend_from_slice(payload);
        s
    }

    #[test]
    fn checksum_fills_and_verifies() {
        let mut s = segment(b"hello");
        fill_tcp_checksum(SRC, DST, &mut s).expect("fits");
        assert!(verify_tcp_checksum(SRC, DST, &s));
        assert!(!verify_tcp_checksum(SRC, Ipv4Addr::new(192, 0, 2, 3), &s));
        s[21] ^= 0x10;
        assert!(!verify_tcp_checksum(SRC, DST, &s));
        assert_eq!(
            fill_tcp_checksum(SRC, DST, &mut [0; 19]),
            Err(SegmentError::TooShort(19))
        );
        let mut huge = vec![0; 70_000];
        assert_eq!(
            fill_tcp_checksum(SRC, DST, &mut huge),
            Err(SegmentError::TooLong(70_000))
        );
        assert!(!verify_tcp_checksum(SRC, DST, &huge));
    }

    #[test]
    fn checksum_matches_smoltcp() {
        use smoltcp::wire::{IpAddress, TcpPacket};
        let mut s = segment(b"odd-length payload!");
        fill_tcp_checksum(SRC, DST, &mut s).expect("fits");
        let packet = TcpPacket::new_checked(&s[..]).expect("valid");
        assert!(packet.verify_checksum(&IpAddress::Ipv4(SRC), &IpAddress::Ipv4(DST)));
    }

    #[test]
    fn segment_views_check_lengths() {
        let s = segment(b"data");
        let seg = TcpSegment::new(SRC, DST, &s).expect("valid");
        assert_eq!(seg.src_port(), 1234);
        assert_eq!(seg.dst_port(), 80);
        assert_eq!(seg.payload(), b"data");
        assert_eq!(seg.header().len(), TCP_HEADER_LEN);
        assert_eq!(seg.bytes().len(), 24);
        assert_eq!((seg.src(), seg.dst()), (SRC, DST));
        assert_eq!(
            seg.key(),
            FourTuple {
                local_ip: DST,
                local_port: 80,
                remote_ip: SRC,
                remote_port: 1234
            }
        );
        assert_eq!(seg.key().to_string(), "192.0.2.2:80 <-> 192.0.2.1:1234");
        assert_eq!(
            TcpSegment::new(SRC, DST, &s[..10]),
            Err(SegmentError::TooShort(10))
        );
        let mut bad = segment(b"");
        bad[12] = 4 << 4;
        assert_eq!(
            TcpSegment::new(SRC, DST, &bad),
            Err(SegmentError::BadDataOffset(16))
        );
        bad[12] = 6 << 4;
        assert_eq!(
            TcpSegment::new(SRC, DST, &bad),
            Err(SegmentError::BadDataOffset(24))
        );
    }
}
