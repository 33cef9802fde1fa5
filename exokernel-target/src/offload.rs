//! Coalescing back-to-back TCP data frames of one connection into one large segment, both
//! ways — what a network card's segmentation offload and the kernel's GRO do.
//!
//! A [`Coalescer`] takes Ethernet frames one by one ([`offer`](Coalescer::offer)) and grows
//! one large TCP/IPv4 segment out of those that continue it: the same connection, headers and
//! options (timestamps included), the next sequence number, only ACK and PSH set, each no
//! longer than the first. [`take`](Coalescer::take) ends it: a frame with the IPv4 length
//! and checksum redone and the TCP checksum field holding the pseudo-header's sum (the
//! partial checksum a device completes), or the one frame as it came.
//!
//! The other way, [`cut`] cuts a large segment the TCP built (`TcpOption::Segmentation`) into
//! wire segments in software, for a device without segmentation offload: each piece's
//! headers are the large segment's with the lengths, sequence number, identification and
//! checksums redone, PSH and FIN on the last piece only. [`cut_gathered`] does it for a
//! segment whose data stayed in the application's shared buffers (`Gathered`), handing
//! each piece's data over as the slices it lies in, for a gathering write.
//!
//! Two users of the coalescer: [`crate::tap::TapDevice`] with offloads merges the stack's outgoing frames into
//! segmentation-offload frames the kernel takes whole (PSH may sit anywhere: the kernel
//! keeps it on the last segment it cuts); [`crate::realtime::Runner`] merges the frames of a
//! receive batch before the stack sees them, so that the TCP runs once per run of in-order
//! segments instead of once per frame (a PSH ends the run, as in the kernel's GRO). Each
//! frame's checksum is checked before it is merged. The runner reads each frame after a
//! run's first straight into the run's buffer ([`Coalescer::read_in_place`]: its headers over
//! the end of the data so far, which is kept aside and put back), so that a frame that
//! continues the run is merged without its payload being copied.

use prolac_runtime::checksum::{Checksum, Gathered, PieceSums};

use crate::wire::ETHERNET_HEADER_LEN;

/// The largest frame a coalesced segment may grow to: an IPv4 packet of 64 KiB.
pub const LARGE_FRAME: usize = ETHERNET_HEADER_LEN + 65_535;
const IPV4_HEADER: usize = 20;
/// TCP flags that keep a data frame from being merged: FIN, SYN, RST, URG, ECE, CWR.
const UNMERGEABLE_FLAGS: u8 = 0x01 | 0x02 | 0x04 | 0x20 | 0x40 | 0x80;
/// The TCP flag PSH.
pub(crate) const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;

/// Where a mergeable frame's parts are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpDataFrame {
    /// Where the TCP header starts in the frame (after Ethernet and a 20-byte IPv4 header).
    pub tcp_at: usize,
    /// The TCP header's length, options included.
    pub tcp_len: usize,
    /// The segment's sequence number.
    pub seq: u32,
    /// Its payload's length (at least 1).
    pub payload: usize,
}

/// A frame a [`Coalescer`] may merge: TCP over IPv4 without IP options or fragmentation,
/// carrying data, with ACK set and no flag but ACK and PSH, its lengths consistent.
#[must_use]
pub fn tcp_data_frame(frame: &[u8]) -> Option<TcpDataFrame> {
    let ip = frame.get(ETHERNET_HEADER_LEN..)?;
    if frame[12..14] != [0x08, 0x00] || ip.len() < IPV4_HEADER || ip[0] != 0x45 || ip[9] != 6 {
        return None;
    }
    // Not a fragment (DF allowed).
    if u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0 {
        return None;
    }
    if usize::from(u16::from_be_bytes([ip[2], ip[3]])) != ip.len() {
        return None;
    }
    let tcp = &ip[IPV4_HEADER..];
    let tcp_len = usize::from(*tcp.get(12)? >> 4) * 4;
    if tcp_len < 20 || tcp.len() <= tcp_len {
        return None;
    }
    if tcp[13] & UNMERGEABLE_FLAGS != 0 || tcp[13] & ACK == 0 {
        return None;
    }
    Some(TcpDataFrame {
        tcp_at: ETHERNET_HEADER_LEN + IPV4_HEADER,
        tcp_len,
        seq: u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]),
        payload: tcp.len() - tcp_len,
    })
}

/// What [`Coalescer::take`] gives: a frame and how it was made.
#[derive(Debug)]
pub struct Coalesced {
    /// The buffer the frame is at the start of (it may be longer: see [`frame`](Self::frame)).
    buf: Vec<u8>,
    /// The frame's length.
    len: usize,
    /// How many frames went into it (1: the frame as it came, checksums untouched).
    pub frames: u64,
    /// The payload length of each merged frame but the last (the segment size to cut at).
    pub segment: usize,
    /// Where the TCP header starts.
    pub tcp_at: usize,
    /// Ethernet, IPv4 and TCP headers' length.
    pub headers: usize,
}

impl Coalesced {
    /// The frame: the first frame's headers, then every merged frame's payload.
    #[must_use]
    pub fn frame(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// What [`Coalescer::read_in_place`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InPlace {
    /// Nothing to read into (no segment open, or too little room left in it): the frame is
    /// to be read the usual way.
    Unavailable,
    /// The read found no frame.
    Empty,
    /// The frame continued the segment and is merged; whether it had PSH.
    Merged(bool),
    /// A frame of this many bytes that does not continue the segment (or failed the check),
    /// copied to the caller's buffer; the segment is as it was.
    Apart(usize),
}

/// One large segment being grown; see the module's documentation.
#[derive(Debug, Default)]
pub struct Coalescer {
    /// A PSH ends the segment (receive side, as the kernel's GRO), or may sit anywhere.
    push_ends: bool,
    /// The segment is `buf[..len]`; the buffer is zeroed once when it grows, and keeps its
    /// length from segment to segment so that reads in place need no clearing.
    buf: Vec<u8>,
    len: usize,
    first: Option<TcpDataFrame>,
    frames: u64,
    /// The sequence number the next frame must start at.
    next_seq: u32,
    /// Nothing more may follow (a short frame, or a PSH with `push_ends`).
    closed: bool,
}

/// Whether the frame `f` (parsed as `parts`) continues the segment whose first frame's
/// headers `head` are (parsed as `first`), `len` bytes long so far: the same Ethernet header,
/// IPv4 header but for length, identification and checksum, and TCP header but for sequence
/// number, PSH and checksum; the next sequence number; no longer than the first; room left.
fn continues(
    head: &[u8],
    len: usize,
    (first, next_seq): (TcpDataFrame, u32),
    f: &[u8],
    parts: TcpDataFrame,
) -> bool {
    let (ip, t, end) = (
        ETHERNET_HEADER_LEN,
        first.tcp_at,
        first.tcp_at + first.tcp_len,
    );
    let m = head;
    parts.tcp_len == first.tcp_len
        && parts.seq == next_seq
        && parts.payload <= first.payload
        && len + parts.payload <= LARGE_FRAME
        && f[..ip + 2] == m[..ip + 2]
        && f[ip + 6..ip + 10] == m[ip + 6..ip + 10]
        && f[ip + 12..t + 4] == m[ip + 12..t + 4]
        && f[t + 8..t + 13] == m[t + 8..t + 13]
        && f[t + 13] & !PSH == m[t + 13] & !PSH
        && f[t + 14..t + 16] == m[t + 14..t + 16]
        && f[t + 18..end] == m[t + 18..end]
}

impl Coalescer {
    /// An empty coalescer; with `push_ends` a frame with PSH set is the last of its segment.
    #[must_use]
    pub fn new(push_ends: bool) -> Self {
        Self {
            push_ends,
            ..Self::default()
        }
    }

    /// Whether nothing is being merged.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.frames == 0
    }

    /// Adds `frame` to the segment being grown if it continues it (or starts one when none
    /// is); false if it cannot be merged (the caller [takes](Self::take) the segment and
    /// offers the frame again, or handles it alone).
    pub fn offer(&mut self, frame: &[u8]) -> bool {
        match tcp_data_frame(frame) {
            Some(parts) => self.offer_parsed(frame, parts),
            None => false,
        }
    }

    /// [`offer`](Self::offer) for a frame [`tcp_data_frame`] has already parsed.
    pub fn offer_parsed(&mut self, frame: &[u8], parts: TcpDataFrame) -> bool {
        let push = frame[parts.tcp_at + 13] & PSH != 0;
        let Some(first) = self.first.filter(|_| self.frames > 0) else {
            self.room(frame.len());
            self.buf[..frame.len()].copy_from_slice(frame);
            self.len = frame.len();
            self.first = Some(parts);
            self.frames = 1;
            self.next_seq = parts.seq.wrapping_add(parts.payload as u32);
            self.closed = self.push_ends && push;
            return true;
        };
        let end = first.tcp_at + first.tcp_len;
        if self.closed
            || !continues(
                &self.buf[..end],
                self.len,
                (first, self.next_seq),
                frame,
                parts,
            )
        {
            return false;
        }
        let at = self.len;
        self.room(at + parts.payload);
        self.buf[at..at + parts.payload].copy_from_slice(&frame[end..end + parts.payload]);
        self.merged(first, parts, push);
        true
    }

    /// Reads the next frame with `read` (given up to `max` bytes to read into) straight into
    /// the segment's buffer, where its payload belongs if it continues the segment: its
    /// headers land over the end of the data merged so far, which is kept aside meanwhile
    /// and put back. A frame that continues the segment and passes `check` is merged without
    /// being copied; any other is copied to `apart` (at least `max` bytes) for the caller.
    /// [`InPlace::Unavailable`] (nothing read) while no segment is open, or when the buffer
    /// has no room for `max` more bytes.
    pub fn read_in_place(
        &mut self,
        max: usize,
        apart: &mut [u8],
        read: impl FnOnce(&mut [u8]) -> Option<usize>,
        check: impl FnOnce(&[u8]) -> bool,
    ) -> InPlace {
        let Some(first) = self.first.filter(|_| self.frames > 0 && !self.closed) else {
            return InPlace::Unavailable;
        };
        let end = first.tcp_at + first.tcp_len;
        let at = self.len - end;
        // The first frame's headers must stay out of the way, and a whole frame must fit.
        if at < end || at + max > LARGE_FRAME || apart.len() < max || end > MAX_HEADERS {
            return InPlace::Unavailable;
        }
        self.room(LARGE_FRAME);
        let mut saved = [0u8; MAX_HEADERS];
        saved[..end].copy_from_slice(&self.buf[at..self.len]);
        let Some(n) = read(&mut self.buf[at..at + max]).map(|n| n.min(max)) else {
            self.buf[at..self.len].copy_from_slice(&saved[..end]);
            return InPlace::Empty;
        };
        let (head, f) = self.buf.split_at(at);
        let f = &f[..n];
        let parts = tcp_data_frame(f).filter(|&p| {
            p.tcp_at + p.tcp_len == end
                && continues(&head[..end], self.len, (first, self.next_seq), f, p)
                && check(f)
        });
        let Some(parts) = parts else {
            apart[..n].copy_from_slice(f);
            self.buf[at..self.len].copy_from_slice(&saved[..end]);
            return InPlace::Apart(n);
        };
        let push = f[first.tcp_at + 13] & PSH != 0;
        // The payload is in place already (at + end = len); the bytes under its headers go
        // back.
        self.buf[at..self.len].copy_from_slice(&saved[..end]);
        self.merged(first, parts, push);
        InPlace::Merged(push)
    }

    /// Counts in a frame whose payload was put at the segment's end.
    fn merged(&mut self, first: TcpDataFrame, parts: TcpDataFrame, push: bool) {
        if push {
            self.buf[first.tcp_at + 13] |= PSH;
        }
        self.len += parts.payload;
        self.frames += 1;
        self.next_seq = parts.seq.wrapping_add(parts.payload as u32);
        self.closed = parts.payload < first.payload || (self.push_ends && push);
    }

    /// Makes the buffer at least `n` bytes long (zeroed when it grows).
    fn room(&mut self, n: usize) {
        if self.buf.len() < n {
            self.buf.resize(n.max(LARGE_FRAME), 0);
        }
    }

    /// Ends the segment being grown: `None` if there is none; the one frame as it came; or
    /// the merged frame, its IPv4 length and header checksum redone and its TCP checksum
    /// field holding the pseudo-header's sum (to be completed by a device, or skipped by a
    /// receiver that checked every frame merged).
    pub fn take(&mut self) -> Option<Coalesced> {
        let first = self.first?;
        if self.frames == 0 {
            return None;
        }
        let frames = core::mem::take(&mut self.frames);
        let len = core::mem::take(&mut self.len);
        let mut buf = core::mem::take(&mut self.buf);
        let (t, headers) = (first.tcp_at, first.tcp_at + first.tcp_len);
        if frames > 1 {
            let frame = &mut buf[..len];
            let ip = ETHERNET_HEADER_LEN;
            let ip_len = u16::try_from(len - ip).unwrap_or(u16::MAX);
            frame[ip + 2..ip + 4].copy_from_slice(&ip_len.to_be_bytes());
            frame[ip + 10..ip + 12].fill(0);
            let sum = prolac_runtime::checksum::checksum(&frame[ip..ip + IPV4_HEADER]);
            frame[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
            let addr = |at: usize| [frame[at], frame[at + 1], frame[at + 2], frame[at + 3]];
            let pseudo = prolac_runtime::checksum::pseudo_header_ipv4(
                addr(ip + 12),
                addr(ip + 16),
                6,
                u16::try_from(len - t).unwrap_or(u16::MAX),
            );
            frame[t + 16..t + 18].copy_from_slice(&pseudo.sum().to_be_bytes());
        }
        Some(Coalesced {
            buf,
            len,
            frames,
            segment: first.payload,
            tcp_at: t,
            headers,
        })
    }

    /// Takes back the buffer of a frame [`take`](Self::take) gave, for its allocation.
    pub fn give_back(&mut self, c: Coalesced) {
        if self.frames == 0 && c.buf.len() > self.buf.len() {
            self.buf = c.buf;
        }
    }
}

/// The longest headers [`cut`] writes: Ethernet, IPv4 without options, TCP with options.
pub const MAX_HEADERS: usize = ETHERNET_HEADER_LEN + IPV4_HEADER + 60;

/// How many wire segments [`cut`] makes of `frame` at `size` (1 for a frame it cannot cut),
/// its data followed by `gathered` more bytes ([`cut_gathered`]).
#[must_use]
pub fn pieces(frame: &[u8], gathered: usize, size: usize) -> u64 {
    let t = ETHERNET_HEADER_LEN + IPV4_HEADER;
    match frame.get(t + 12) {
        Some(b) if size > 0 => {
            let data = frame.len().saturating_sub(t + usize::from(b >> 4) * 4) + gathered;
            data.div_ceil(size).max(1) as u64
        }
        _ => 1,
    }
}

/// The most slices [`cut_gathered`] hands over for one piece's data: a piece whose data lies
/// in more is copied into one.
pub const PIECE_PARTS: usize = 4;

/// Cuts `frame` — Ethernet, a 20-byte IPv4 header, TCP — into wire segments of `size` data
/// bytes (the last may be shorter) and hands each to `each` as its headers and its data (a
/// slice of `frame`: nothing is copied). Each piece's IPv4 length, identification (the large
/// segment's, plus the piece's index) and checksum, TCP sequence number and checksum are
/// redone; PSH and FIN stay on the last piece only. The data of a piece is read for its
/// checksum only when `sums` has no sum for it (see [`PieceSums`]: the TCP sums each piece
/// as it copies the data in). False, and nothing handed over, if `frame` is not such a frame
/// or `size` is 0.
pub fn cut(
    frame: &[u8],
    size: usize,
    sums: &PieceSums,
    mut each: impl FnMut(&[u8], &[u8]),
) -> bool {
    // Data in one slice comes out in one slice.
    cut_gathered(frame, &Gathered::new(), size, sums, |h, d| {
        each(h, d.first().copied().unwrap_or_default());
    })
}

/// Asks the CPU to bring `data` into its first-level cache (a hint: nothing is read).
#[inline]
fn prefetch(data: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for at in (0..data.len()).step_by(64) {
        // SAFETY: SSE is part of every x86-64 CPU; a prefetch reads nothing and cannot fault,
        // and the address is within `data`.
        #[allow(unsafe_code)]
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                data.as_ptr().add(at).cast(),
            );
        }
    }
}

/// A piece [`cut_gathered`] handed over, in one buffer: its headers, then its data.
#[must_use]
pub fn joined(headers: &[u8], data: &[&[u8]]) -> Vec<u8> {
    let mut piece = Vec::with_capacity(headers.len() + data.iter().map(|d| d.len()).sum::<usize>());
    piece.extend_from_slice(headers);
    data.iter().for_each(|d| piece.extend_from_slice(d));
    piece
}

/// [`cut`] for a segment whose data, after what `frame` holds of it, continues in
/// `gathered` (a segment whose data stayed in shared buffers: `frame` ends at the TCP
/// header). Each piece's data comes as the slices it lies in — of `frame`, or of the shared
/// buffers: nothing is copied (unless a piece lies in more than [`PIECE_PARTS`] slices) — for
/// a gathering write.
pub fn cut_gathered(
    frame: &[u8],
    gathered: &Gathered,
    size: usize,
    sums: &PieceSums,
    mut each: impl FnMut(&[u8], &[&[u8]]),
) -> bool {
    cut_pieces(frame, gathered, size, sums, |h, piece| match piece {
        Piece::InPlace(d) => each(h, d),
        Piece::Copied(d) => each(h, &[d]),
    })
}

/// A piece's data as [`cut_pieces`] hands it over.
#[derive(Clone, Copy, Debug)]
pub enum Piece<'p, 'a> {
    /// The slices it lies in, of the segment or of its shared buffers: they live as long as
    /// those do (a write may be queued and submitted later, while they are still borrowed).
    InPlace(&'p [&'a [u8]]),
    /// Copied together (it lay in more than [`PIECE_PARTS`] slices): valid during the call.
    Copied(&'p [u8]),
}

/// [`cut_gathered`], telling the data that stays where it is ([`Piece::InPlace`], borrowed
/// for as long as `frame` and `gathered` are) from data copied for the call.
pub fn cut_pieces<'a>(
    frame: &'a [u8],
    gathered: &'a Gathered,
    size: usize,
    sums: &PieceSums,
    mut each: impl FnMut(&[u8], Piece<'_, 'a>),
) -> bool {
    let ip = ETHERNET_HEADER_LEN;
    if size == 0
        || frame.len() < ip + IPV4_HEADER + 20
        || frame[12..14] != [0x08, 0x00]
        || frame[ip] != 0x45
        || frame[ip + 9] != 6
    {
        return false;
    }
    let t = ip + IPV4_HEADER;
    let tcp_len = usize::from(frame[t + 12] >> 4) * 4;
    if tcp_len < 20 || frame.len() < t + tcp_len {
        return false;
    }
    let head = t + tcp_len;
    let total = frame.len() - head + gathered.len();
    let seq = u32::from_be_bytes([frame[t + 4], frame[t + 5], frame[t + 6], frame[t + 7]]);
    let ident = u16::from_be_bytes([frame[ip + 4], frame[ip + 5]]);
    let flags = frame[t + 13];
    let mut h = [0u8; MAX_HEADERS];
    h[..head].copy_from_slice(&frame[..head]);
    let pieces = total.div_ceil(size).max(1);
    // What every piece's checksums share: the IPv4 header but its length, identification
    // and checksum; the pseudo header's addresses and protocol; the TCP header but its
    // sequence number, flags and checksum (the options included).
    h[ip + 2..ip + 6].fill(0);
    h[ip + 10..ip + 12].fill(0);
    let mut ip_base = Checksum::new();
    ip_base.add_bytes(&h[ip..t]);
    h[t + 4..t + 8].fill(0);
    h[t + 12..t + 14].copy_from_slice(&[frame[t + 12], 0]);
    h[t + 16..t + 18].fill(0);
    let mut tcp_base = Checksum::new();
    tcp_base.add_bytes(&h[ip + 12..ip + 20]);
    tcp_base.add_u16(6);
    tcp_base.add_bytes(&h[t..head]);
    // The data, slice by slice: the frame's, then the gathered ranges.
    let mut source = core::iter::once(&frame[head..])
        .chain(gathered.slices())
        .filter(|s| !s.is_empty());
    let mut current: &[u8] = &[];
    let mut spilled = Vec::new();
    for i in 0..pieces {
        let len = size.min(total - i * size);
        // The piece's data: the slices it lies in, or, in more than PIECE_PARTS, a copy.
        let mut parts: [&'a [u8]; PIECE_PARTS] = [&[]; PIECE_PARTS];
        let (mut count, mut need, mut spill) = (0, len, false);
        spilled.clear();
        if current.is_empty() {
            current = source.next().unwrap_or_default();
        }
        if current.len() >= len {
            // Most pieces: in the slice at hand.
            let (part, rest) = current.split_at(len);
            parts[0] = part;
            count = usize::from(len > 0);
            current = rest;
            need = 0;
        }
        while need > 0 {
            if current.is_empty() {
                match source.next() {
                    Some(next) => current = next,
                    None => break,
                }
            }
            let (part, rest) = current.split_at(need.min(current.len()));
            if !spill && count == PIECE_PARTS {
                spill = true;
                parts.iter().for_each(|p| spilled.extend_from_slice(p));
            }
            if spill {
                spilled.extend_from_slice(part);
            } else {
                parts[count] = part;
                count += 1;
            }
            current = rest;
            need -= part.len();
        }
        let piece = if spill {
            Piece::Copied(&spilled)
        } else {
            Piece::InPlace(&parts[..count])
        };
        // The next piece's data on its way into the cache while this one is written: the
        // kernel's copy of it then reads the first-level cache (the data of a segment from
        // shared buffers was last touched long ago).
        prefetch(&current[..current.len().min(size)]);
        let last = i + 1 == pieces;
        let ip_len = u16::try_from(IPV4_HEADER + tcp_len + len).unwrap_or(u16::MAX);
        let ident = ident.wrapping_add(i as u16);
        let mut c = ip_base;
        c.add_u16(ip_len);
        c.add_u16(ident);
        h[ip + 2..ip + 4].copy_from_slice(&ip_len.to_be_bytes());
        h[ip + 4..ip + 6].copy_from_slice(&ident.to_be_bytes());
        h[ip + 10..ip + 12].copy_from_slice(&c.finish().to_be_bytes());
        let offset = u32::try_from(i * size).unwrap_or(u32::MAX);
        let piece_seq = seq.wrapping_add(offset);
        let piece_flags = if last { flags } else { flags & !(PSH | FIN) };
        h[t + 4..t + 8].copy_from_slice(&piece_seq.to_be_bytes());
        h[t + 13] = piece_flags;
        let mut c = tcp_base;
        // The pseudo header's TCP length, then the fields left out of the base.
        c.add_u16(u16::try_from(tcp_len + len).unwrap_or(u16::MAX));
        c.add_u32(piece_seq);
        c.add_u16(u16::from(piece_flags));
        match sums.piece(size, total, i) {
            Some(sum) => c.add_sum(sum, len),
            None => match piece {
                Piece::InPlace(data) => data.iter().for_each(|d| c.add_bytes(d)),
                Piece::Copied(data) => c.add_bytes(data),
            },
        }
        h[t + 16..t + 18].copy_from_slice(&c.finish().to_be_bytes());
        each(&h[..head], piece);
    }
    true
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::netstack::{fill_tcp_checksum, verify_tcp_checksum};

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    /// A TCP/IPv4 frame with a timestamps option (`tsval`), checksums filled in.
    fn frame(seq: u32, ack: u32, flags: u8, payload: &[u8], tsval: u32) -> Vec<u8> {
        let tcp_len = 32 + payload.len();
        let mut f = vec![0u8; ETHERNET_HEADER_LEN + IPV4_HEADER + tcp_len];
        f[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut f[ETHERNET_HEADER_LEN..];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&((IPV4_HEADER + tcp_len) as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&seq.to_be_bytes()[2..]);
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&SRC.octets());
        ip[16..20].copy_from_slice(&DST.octets());
        let sum = prolac_runtime::checksum::checksum(&ip[..IPV4_HEADER]);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        let tcp = &mut ip[IPV4_HEADER..];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&5001u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        tcp[12] = 8 << 4;
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&512u16.to_be_bytes());
        tcp[20..24].copy_from_slice(&[1, 1, 8, 10]);
        tcp[24..28].copy_from_slice(&tsval.to_be_bytes());
        tcp[28..32].copy_from_slice(&7u32.to_be_bytes());
        tcp[32..].copy_from_slice(payload);
        fill_tcp_checksum(SRC, DST, tcp).expect("a whole header");
        f
    }

    fn bytes(n: usize, from: u8) -> Vec<u8> {
        (0..n).map(|i| from.wrapping_add(i as u8)).collect()
    }

    #[test]
    fn back_to_back_data_frames_become_one_segment() {
        let (a, b, c) = (bytes(1448, 0), bytes(1448, 100), bytes(300, 200));
        let mut m = Coalescer::new(false);
        assert!(m.offer(&frame(1000, 9, ACK | PSH, &a, 5)));
        assert!(m.offer(&frame(2448, 9, ACK | PSH, &b, 5)));
        assert!(m.offer(&frame(3896, 9, ACK, &c, 5)));
        // A short frame ends the segment.
        assert!(!m.offer(&frame(4196, 9, ACK, &a, 5)));
        let got = m.take().expect("a merged frame");
        assert!(m.is_empty());
        let head = ETHERNET_HEADER_LEN + IPV4_HEADER + 32;
        assert_eq!(
            (got.frames, got.segment, got.tcp_at, got.headers),
            (3, 1448, 34, head)
        );
        let mut f = got.frame().to_vec();
        assert_eq!(f[head..], [a, b, c].concat()[..]);
        let ip = &f[ETHERNET_HEADER_LEN..];
        assert_eq!(usize::from(u16::from_be_bytes([ip[2], ip[3]])), ip.len());
        assert_eq!(prolac_runtime::checksum::checksum(&ip[..IPV4_HEADER]), 0);
        // PSH survives (the kernel keeps it on the last segment it cuts).
        assert_eq!(ip[IPV4_HEADER + 13], ACK | PSH);
        // What a device does with the partial checksum: sums from the TCP header over the
        // rest (the field holds the pseudo-header's sum) and stores the complement; the
        // result verifies.
        let tcp = &mut f[34..];
        let c = prolac_runtime::checksum::checksum(tcp);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        assert!(verify_tcp_checksum(SRC, DST, tcp));
        assert!(m.take().is_none());
    }

    #[test]
    fn a_large_segment_is_cut_into_wire_segments_and_merged_back() {
        let data = bytes(3500, 3);
        // A large segment as the TCP builds it: one header, FIN and PSH set.
        let big = frame(1000, 9, ACK | PSH | FIN, &data, 5);
        let mut pieces = Vec::new();
        assert!(cut(&big, 1448, &PieceSums::NONE, |h, d| {
            pieces.push([h, d].concat());
        }));
        assert_eq!(pieces.len(), 3);
        let mut m = Coalescer::new(false);
        for (i, p) in pieces.iter().enumerate() {
            // Each piece is a frame the kernel would take: its own lengths and checksums.
            let want = [1448, 1448, 604][i];
            let (t, head) = (34, 34 + 32);
            assert_eq!(p.len(), head + want);
            assert_eq!(prolac_runtime::checksum::checksum(&p[14..34]), 0);
            assert!(verify_tcp_checksum(SRC, DST, &p[t..]), "piece {i}");
            let seq = u32::from_be_bytes([p[t + 4], p[t + 5], p[t + 6], p[t + 7]]);
            assert_eq!(seq, 1000 + 1448 * i as u32);
            let flags = p[t + 13];
            assert_eq!(
                flags,
                if i == 2 { ACK | PSH | FIN } else { ACK },
                "piece {i}"
            );
            assert_eq!(u16::from_be_bytes([p[18], p[19]]), 1000 + i as u16);
            if i < 2 {
                assert!(m.offer(p));
            }
        }
        let merged = m.take().expect("two pieces");
        assert_eq!(merged.frame()[66..], data[..2896]);
        // Not a TCP/IPv4 frame, or no size: nothing.
        assert!(!cut(&big, 0, &PieceSums::NONE, |_, _| panic!("no piece")));
        assert!(!cut(&[0u8; 40], 1448, &PieceSums::NONE, |_, _| {
            panic!("no piece")
        }));
        // A segment without data goes once, as it is.
        let bare = frame(7, 9, ACK, &[], 5);
        let mut n = 0;
        assert!(cut(&bare, 1448, &PieceSums::NONE, |h, d| {
            n += 1;
            assert_eq!([h, d].concat(), bare);
        }));
        assert_eq!(n, 1);
    }

    #[test]
    fn sums_made_while_copying_give_the_same_pieces() {
        let data = bytes(40_001, 7);
        let big = frame(77, 9, ACK | PSH, &data, 5);
        let head = 34 + 32;
        // The same data, copied in as the TCP does, summed per piece of 1448 bytes.
        let mut copied = big[..head].to_vec();
        let (front, back) = data.split_at(12_345);
        let sums = prolac_runtime::checksum::copy_pieces(&[front, back], 1448, &mut copied);
        assert_eq!(copied, big);
        let pieces = |sums: &PieceSums| {
            let mut out = Vec::new();
            assert!(cut(&big, 1448, sums, |h, d| out.push([h, d].concat())));
            out
        };
        let by_sums = pieces(&sums);
        assert_eq!(by_sums, pieces(&PieceSums::NONE));
        assert_eq!(by_sums.len(), 28);
        for p in &by_sums {
            assert!(verify_tcp_checksum(SRC, DST, &p[34..]));
            assert_eq!(prolac_runtime::checksum::checksum(&p[14..34]), 0);
        }
        // Sums made for another cut are not used: the pieces are still right.
        let mut other = big[..head].to_vec();
        let wrong = prolac_runtime::checksum::copy_pieces(&[&data], 1000, &mut other);
        assert_eq!(pieces(&wrong), by_sums);
    }

    /// A segment whose data stayed in shared buffers — after a part in the frame, in ranges
    /// of two buffers, some shorter than a piece, some so short that a piece lies in more
    /// slices than a write gathers — is cut into the same wire segments as the segment with
    /// all its data in the frame, with the tables' sums or without, the data handed over in
    /// place (except a piece of too many slices, copied together).
    #[test]
    fn a_gathered_segment_is_cut_like_the_whole_one() {
        use prolac_runtime::checksum::{Gathered, SummedBytes};
        let a = SummedBytes::new(bytes(20_000, 11));
        let b = SummedBytes::new(bytes(5_000, 99));
        let in_frame = bytes(700, 1);
        let mut g = Gathered::new();
        g.push(&a, 3..9_003);
        g.push(&b, 17..1_017);
        // Seven ranges of 2 bytes: one piece lies in more than PIECE_PARTS slices.
        for i in 0..7 {
            g.push(&a, 10_001 + 7 * i..10_003 + 7 * i);
        }
        g.push(&a, 12_000..19_999);
        let mut data = in_frame.clone();
        g.copy_to(&mut data);
        assert_eq!(g.len() + in_frame.len(), data.len());
        let whole = frame(4_000, 9, ACK | PSH, &data, 5);
        let head = 34 + 32;
        let headers = &whole[..head + in_frame.len()];
        let mut want = Vec::new();
        assert!(cut(&whole, 1448, &PieceSums::NONE, |h, d| {
            want.push([h, d].concat());
        }));
        let total_sums = {
            let mut sums_of = Vec::new();
            prolac_runtime::checksum::copy_pieces(&[&data], 1448, &mut sums_of)
        };
        for sums in [PieceSums::NONE, total_sums] {
            let (mut got, mut in_place, mut most) = (Vec::new(), 0, 0);
            assert!(cut_gathered(headers, &g, 1448, &sums, |h, d| {
                most = most.max(d.len());
                let shared = |s: &[u8]| {
                    [&a[..], &b[..]]
                        .iter()
                        .any(|buf| buf.as_ptr_range().contains(&s.as_ptr()))
                };
                in_place += usize::from(d.iter().any(|s| shared(s)));
                got.push(joined(h, d));
            }));
            assert_eq!(got, want);
            assert!(most <= PIECE_PARTS);
            // Every piece but the first (in the frame and the first range) and the one of
            // many short ranges is handed over from the shared buffers themselves.
            assert!(in_place + 1 >= want.len(), "{in_place} of {}", want.len());
        }
        assert_eq!(pieces(headers, g.len(), 1448), want.len() as u64);
        for p in &want {
            assert!(verify_tcp_checksum(SRC, DST, &p[34..]));
        }
    }

    /// Reads `f` in place into `m` (as a device read would), checked by `ok`.
    fn read_into(m: &mut Coalescer, f: Option<&[u8]>, ok: bool, apart: &mut [u8]) -> InPlace {
        m.read_in_place(
            1514,
            apart,
            |buf| {
                f.map(|f| {
                    buf[..f.len()].copy_from_slice(f);
                    f.len()
                })
            },
            |_| ok,
        )
    }

    #[test]
    fn frames_read_in_place_merge_as_offered_ones_do() {
        let payloads: Vec<Vec<u8>> = (0..5).map(|i| bytes(1448, 40 * i)).collect();
        let frames: Vec<Vec<u8>> = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| frame(1000 + 1448 * i as u32, 9, ACK, p, 5))
            .collect();
        let mut apart = vec![0u8; 1514];
        let mut m = Coalescer::new(true);
        // Nothing open: the frame is read the usual way.
        assert_eq!(
            read_into(&mut m, Some(&frames[0]), true, &mut apart),
            InPlace::Unavailable
        );
        assert!(m.offer(&frames[0]));
        assert_eq!(
            read_into(&mut m, Some(&frames[1]), true, &mut apart),
            InPlace::Merged(false)
        );
        // No frame: the segment is as it was (the bytes under the read put back).
        assert_eq!(read_into(&mut m, None, true, &mut apart), InPlace::Empty);
        // A frame that does not continue it (a gap), and one that fails the check: handed
        // back whole, the segment untouched.
        let gap = frame(1000 + 1448 * 3, 9, ACK, &payloads[3], 5);
        assert_eq!(
            read_into(&mut m, Some(&gap), true, &mut apart),
            InPlace::Apart(gap.len())
        );
        assert_eq!(apart[..gap.len()], gap[..]);
        assert_eq!(
            read_into(&mut m, Some(&frames[2]), false, &mut apart),
            InPlace::Apart(frames[2].len())
        );
        assert_eq!(apart[..frames[2].len()], frames[2][..]);
        assert_eq!(
            read_into(&mut m, Some(&frames[2]), true, &mut apart),
            InPlace::Merged(false)
        );
        let mut psh = frames[3].clone();
        psh[34 + 13] |= PSH;
        fill_tcp_checksum(SRC, DST, &mut psh[34..]).expect("a whole header");
        assert_eq!(
            read_into(&mut m, Some(&psh), true, &mut apart),
            InPlace::Merged(true)
        );
        // The PSH closed the segment.
        assert_eq!(
            read_into(&mut m, Some(&frames[4]), true, &mut apart),
            InPlace::Unavailable
        );
        let got = m.take().expect("a merged segment");
        // The same segment as offering the frames makes.
        let mut o = Coalescer::new(true);
        for f in [&frames[0], &frames[1], &frames[2], &psh] {
            assert!(o.offer(f));
        }
        let want = o.take().expect("a merged segment");
        assert_eq!(got.frames, 4);
        assert_eq!(got.frame(), want.frame());
        assert_eq!(got.frame()[66..], payloads[..4].concat()[..]);
        // The buffer comes back, and the next segment reads in place from its second frame.
        m.give_back(got);
        assert!(m.offer(&frames[0]));
        assert_eq!(
            read_into(&mut m, Some(&frames[1]), true, &mut apart),
            InPlace::Merged(false)
        );
        assert_eq!(
            m.take().expect("two frames").frame()[66..],
            payloads[..2].concat()[..]
        );
    }

    #[test]
    fn a_read_in_place_needs_room_for_a_whole_frame() {
        // A first frame shorter than its headers leaves no room in front of the read.
        let mut m = Coalescer::new(true);
        assert!(m.offer(&frame(1, 9, ACK, &bytes(10, 0), 5)));
        let mut apart = vec![0u8; 1514];
        assert_eq!(
            read_into(
                &mut m,
                Some(&frame(11, 9, ACK, &bytes(10, 0), 5)),
                true,
                &mut apart
            ),
            InPlace::Unavailable
        );
        // A segment near 64 KiB takes its last frames the usual way.
        let mut m = Coalescer::new(true);
        let mut seq = 1;
        assert!(m.offer(&frame(seq, 9, ACK, &bytes(1448, 0), 5)));
        seq += 1448;
        let mut merged = 1;
        while read_into(
            &mut m,
            Some(&frame(seq, 9, ACK, &bytes(1448, 0), 5)),
            true,
            &mut apart,
        ) == InPlace::Merged(false)
        {
            seq += 1448;
            merged += 1;
        }
        let got = m.take().expect("a merged segment");
        assert_eq!(got.frames, merged);
        assert!(
            got.frame().len() + 1514 - 66 > LARGE_FRAME,
            "{merged} frames"
        );
        assert!(got.frame().len() <= LARGE_FRAME);
    }

    #[test]
    fn a_lone_frame_comes_back_as_it_was() {
        let f = frame(1, 2, ACK | PSH, &bytes(10, 0), 1);
        let mut m = Coalescer::new(false);
        assert!(m.offer(&f));
        let got = m.take().expect("the frame");
        assert_eq!(got.frames, 1);
        assert_eq!(got.frame(), f);
    }

    #[test]
    fn on_the_receive_side_a_push_ends_the_segment() {
        let p = bytes(1000, 0);
        let mut m = Coalescer::new(true);
        assert!(m.offer(&frame(1000, 9, ACK, &p, 5)));
        assert!(m.offer(&frame(2000, 9, ACK | PSH, &p, 5)));
        assert!(!m.offer(&frame(3000, 9, ACK, &p, 5)));
        assert_eq!(m.take().expect("two frames").frames, 2);
        // A PSH on the first frame ends it too.
        assert!(m.offer(&frame(3000, 9, ACK | PSH, &p, 5)));
        assert!(!m.offer(&frame(4000, 9, ACK, &p, 5)));
    }

    #[test]
    fn frames_that_differ_are_not_merged() {
        let p = bytes(1000, 0);
        let first = frame(1000, 9, ACK, &p, 5);
        let refused = [
            ("a gap", frame(2001, 9, ACK, &p, 5)),
            ("another ACK", frame(2000, 10, ACK, &p, 5)),
            ("another timestamp", frame(2000, 9, ACK, &p, 6)),
            ("a FIN", frame(2000, 9, ACK | 0x01, &p, 5)),
            (
                "longer than the first",
                frame(2000, 9, ACK, &bytes(1001, 0), 5),
            ),
        ];
        for (what, f) in refused {
            let mut m = Coalescer::new(false);
            assert!(m.offer(&first));
            assert!(!m.offer(&f), "{what}");
        }
        let mut m = Coalescer::new(false);
        for (what, f) in [
            ("a SYN", frame(1, 0, 0x02, &[], 1)),
            ("no data", frame(1, 2, ACK, &[], 1)),
            ("a RST", frame(1, 2, ACK | 0x04, &p, 1)),
            ("not IPv4", vec![0u8; 60]),
            ("too short for IPv4", vec![0u8; 20]),
        ] {
            assert!(!m.offer(&f), "{what}");
        }
        assert!(m.is_empty());
    }
}
