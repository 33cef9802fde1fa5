//! TAP devices: the library-OS stack on a real Ethernet device facing the Linux kernel.
//!
//! A [`TapDevice`] is a Linux TAP interface (created with tun-rs) whose descriptor the stack
//! reads and writes: one Ethernet frame per `read` and per `write`, the descriptor
//! non-blocking. It implements [`FrameDevice`], so everything that runs on the in-memory
//! wire — the netstack, smoltcp through [`crate::device::SmoltcpDevice`], pcap recording
//! ([`crate::pcap::Tap`]), fault injection ([`crate::wire::FaultyDevice`]) — runs on it too.
//! Reads are batched by the caller: [`crate::realtime::Runner`] drains every frame the device
//! holds before it answers, so that one ACK covers a batch. The device's time argument is
//! ignored: a real device has its own clock.
//!
//! With offloads ([`TapDevice::create_offloaded`]) every frame crosses the descriptor behind
//! a virtio-net header, as between the kernel and a virtual machine's network card, and the
//! per-frame costs go: the kernel hands over its TCP segments unsegmented (up to 64 KiB) with
//! the checksum left undone, which the device reports as vouched for
//! ([`FrameDevice::rx_checksum_trusted`]: the frame came from the kernel's own stack), and
//! the device merges the stack's back-to-back TCP data frames of one connection into one
//! segmentation-offload frame that the kernel takes whole ([`FrameDevice::flush`] sends the
//! last one). The stack above still sees, and builds, ordinary frames of at most the MTU.
//!
//! Creating a TAP device needs `CAP_NET_ADMIN` and `/dev/net/tun`; [`tap_available`] says
//! whether this process has them.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::device::{DeviceError, FrameDevice};
use crate::wire::ETHERNET_HEADER_LEN;

/// Counters of a [`TapDevice`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapStats {
    /// Frames read from the device.
    pub rx_frames: u64,
    /// Bytes read (whole frames).
    pub rx_bytes: u64,
    /// Frames written to the device.
    pub tx_frames: u64,
    /// Bytes written.
    pub tx_bytes: u64,
    /// Frames the kernel refused for now (its queue was full) and that were dropped, as a
    /// full transmit ring drops them.
    pub tx_dropped: u64,
    /// Reads or writes that failed otherwise.
    pub errors: u64,
    /// With offloads: frames read whose checksum the kernel vouched for.
    pub rx_checksum_trusted: u64,
    /// With offloads: frames read that were whole TCP segments of more than one MSS.
    pub rx_large_segments: u64,
    /// With offloads: segmentation-offload frames written, and the frames merged into them.
    pub tx_large_segments: u64,
    /// Frames merged into [`tx_large_segments`](Self::tx_large_segments).
    pub tx_merged_frames: u64,
}

/// The virtio-net header (`struct virtio_net_hdr`, 10 bytes, native byte order) before each
/// frame of an offloading device.
const VNET_HDR_LEN: usize = 10;
/// virtio-net header flags: the checksum is left to the device (`csum_start`,
/// `csum_offset`), or already checked.
const VNET_NEEDS_CSUM: u8 = 1;
const VNET_DATA_VALID: u8 = 2;
/// virtio-net GSO types: none, TCP over IPv4.
const VNET_GSO_NONE: u8 = 0;
const VNET_GSO_TCPV4: u8 = 1;

/// `struct virtio_net_hdr` (the kernel's ABI, fields in native byte order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct VnetHeader {
    flags: u8,
    gso_type: u8,
    hdr_len: u16,
    gso_size: u16,
    csum_start: u16,
    csum_offset: u16,
}

impl VnetHeader {
    fn decode(b: &[u8; VNET_HDR_LEN]) -> VnetHeader {
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHeader {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        }
    }

    fn encode(&self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }
}
/// The largest frame the kernel hands over with offloads: an IPv4 packet of 64 KiB.
const LARGE_FRAME: usize = ETHERNET_HEADER_LEN + 65_535;
const IPV4_HEADER: usize = 20;
/// TCP flags that keep a data frame from being merged: FIN, SYN, RST, URG, ECE, CWR (only
/// ACK and PSH may appear; the kernel keeps PSH on the last segment it cuts).
const UNMERGEABLE_FLAGS: u8 = 0x01 | 0x02 | 0x04 | 0x20 | 0x40 | 0x80;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// The TCP data frame being grown into a segmentation-offload frame.
#[derive(Debug, Default)]
struct Merge {
    /// The frame so far: the first frame's headers, then every merged frame's payload.
    frame: Vec<u8>,
    /// Where the TCP header starts, and its length (options included).
    tcp_at: usize,
    tcp_len: usize,
    /// Payload bytes of each segment but the last (the segment size the kernel cuts at).
    segment: usize,
    /// Frames in `frame`.
    frames: u64,
    /// The sequence number the next frame must start at.
    next_seq: u32,
    /// The last frame was shorter than `segment`: nothing may follow it.
    closed: bool,
}

/// A TAP interface, its descriptor non-blocking.
pub struct TapDevice {
    device: tun_rs::SyncDevice,
    name: String,
    mtu: usize,
    buffer: Vec<u8>,
    stats: TapStats,
    /// Frames carry virtio-net headers: the offloads are on.
    offloaded: bool,
    /// The frame read last came with a checksum the kernel vouched for.
    last_trusted: bool,
    merge: Merge,
}

impl core::fmt::Debug for TapDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TapDevice")
            .field("name", &self.name)
            .field("mtu", &self.mtu)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TapDevice {
    /// Creates TAP interface `name` (at most 15 bytes) with IP MTU `mtu`. The interface goes
    /// when the device is dropped.
    ///
    /// # Errors
    ///
    /// What the kernel said: no permission (`CAP_NET_ADMIN`), no `/dev/net/tun`, the name
    /// taken or too long.
    pub fn create(name: &str, mtu: u16) -> io::Result<TapDevice> {
        Self::build(name, mtu, false)
    }

    /// Creates TAP interface `name` like [`create`](Self::create), with the offloads on
    /// (virtio-net headers, checksum and TCP segmentation offload both ways): the kernel
    /// hands over whole TCP segments of up to 64 KiB with checksums it vouches for, and the
    /// stack's back-to-back data frames go to it merged (see the module's documentation).
    /// The device must be [flushed](FrameDevice::flush) after each burst of frames.
    ///
    /// # Errors
    ///
    /// As [`create`](Self::create).
    pub fn create_offloaded(name: &str, mtu: u16) -> io::Result<TapDevice> {
        Self::build(name, mtu, true)
    }

    fn build(name: &str, mtu: u16, offloaded: bool) -> io::Result<TapDevice> {
        if name.is_empty() || name.len() > 15 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("interface name {name:?} must have 1 to 15 bytes"),
            ));
        }
        let device = tun_rs::DeviceBuilder::new()
            .name(name)
            .layer(tun_rs::Layer::L2)
            .mtu(mtu)
            .offload(offloaded)
            .build_sync()
            .map_err(|e| io::Error::new(e.kind(), format!("creating TAP device {name}: {e}")))?;
        device.set_nonblocking(true)?;
        let largest = if offloaded {
            LARGE_FRAME
        } else {
            usize::from(mtu) + ETHERNET_HEADER_LEN + 64
        };
        Ok(TapDevice {
            device,
            name: name.to_string(),
            mtu: usize::from(mtu),
            buffer: vec![0; largest],
            stats: TapStats::default(),
            offloaded,
            last_trusted: false,
            merge: Merge::default(),
        })
    }

    /// Whether the offloads are on.
    #[must_use]
    pub const fn offloaded(&self) -> bool {
        self.offloaded
    }

    /// The interface's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The counters.
    #[must_use]
    pub const fn stats(&self) -> TapStats {
        self.stats
    }

    /// Waits until a frame can be read or `timeout` passes (`None`: no limit). Returns
    /// whether a frame is waiting; an interrupted wait returns `false`.
    ///
    /// # Errors
    ///
    /// A failed `poll`.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let mut fds = [PollFd::new(&self.device, PollFlags::IN)];
        let timeout = timeout.map(|t| Timespec {
            tv_sec: i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(t.subsec_nanos()),
        });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(n) => Ok(n > 0),
            Err(rustix::io::Errno::INTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

impl AsFd for TapDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.device.as_fd()
    }
}

impl TapDevice {
    /// Writes one frame, behind `header` when the offloads are on.
    fn write(&mut self, header: VnetHeader, frame: &[u8]) {
        let result = if self.offloaded {
            let h = header.encode();
            self.device
                .send_vectored(&[IoSlice::new(&h), IoSlice::new(frame)])
        } else {
            self.device.send(frame)
        };
        match result {
            Ok(_) => {
                self.stats.tx_frames += 1;
                self.stats.tx_bytes += frame.len() as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.stats.tx_dropped += 1,
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOBUFS.raw_os_error()) => {
                self.stats.tx_dropped += 1;
            }
            Err(_) => self.stats.errors += 1,
        }
    }

    /// Reads one frame into `buf` (at least [`LARGE_FRAME`] bytes with offloads): its
    /// length, or `None` when none is waiting. With offloads, notes what the virtio-net
    /// header says of the checksum.
    fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        loop {
            let result = if self.offloaded {
                let mut h = [0u8; VNET_HDR_LEN];
                self.device
                    .recv_vectored(&mut [IoSliceMut::new(&mut h), IoSliceMut::new(buf)])
                    .and_then(|n| {
                        let n = n.checked_sub(VNET_HDR_LEN).ok_or_else(|| {
                            io::Error::other("a read shorter than the virtio-net header")
                        })?;
                        let header = VnetHeader::decode(&h);
                        self.last_trusted = header.flags & (VNET_NEEDS_CSUM | VNET_DATA_VALID) != 0;
                        self.stats.rx_checksum_trusted += u64::from(self.last_trusted);
                        self.stats.rx_large_segments += u64::from(header.gso_type != VNET_GSO_NONE);
                        Ok(n)
                    })
            } else {
                self.device.recv(buf)
            };
            match result {
                Ok(n) => {
                    self.stats.rx_frames += 1;
                    self.stats.rx_bytes += n as u64;
                    return Some(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        self.stats.errors += 1;
                    }
                    return None;
                }
            }
        }
    }

    /// Sends the merge under way, if any.
    fn send_merged(&mut self) {
        if let Some((header, frame)) = self.merge.take(&mut self.stats) {
            self.write(header, &frame);
            self.merge.give_back(frame);
        }
    }
}

impl Merge {
    /// Adds `frame` to the merge under way, if it can be merged: a TCP/IPv4 data frame with
    /// only ACK and PSH set, of the same connection, headers and options as the frames
    /// merged so far, starting where they end, no longer than the first. False if it cannot
    /// (the caller sends the merge and offers the frame again, or sends it alone).
    fn offer(&mut self, frame: &[u8]) -> bool {
        let Some((tcp_at, tcp_len, seq, payload)) = mergeable(frame) else {
            return false;
        };
        if self.frames == 0 {
            self.frame.clear();
            self.frame.extend_from_slice(frame);
            self.tcp_at = tcp_at;
            self.tcp_len = tcp_len;
            self.segment = payload;
            self.frames = 1;
            self.next_seq = seq.wrapping_add(payload as u32);
            self.closed = false;
            return true;
        }
        let m = &self.frame;
        let head = tcp_at + tcp_len;
        let ip = ETHERNET_HEADER_LEN;
        let same = !self.closed
            && tcp_at == self.tcp_at
            && tcp_len == self.tcp_len
            && seq == self.next_seq
            && payload <= self.segment
            && m.len() + payload <= LARGE_FRAME
            // The same Ethernet header, IPv4 header but for length, identification and
            // checksum, and TCP header but for sequence number, PSH and checksum.
            && frame[..ip + 2] == m[..ip + 2]
            && frame[ip + 6..ip + 10] == m[ip + 6..ip + 10]
            && frame[ip + 12..tcp_at + 4] == m[ip + 12..tcp_at + 4]
            && frame[tcp_at + 8..tcp_at + 13] == m[tcp_at + 8..tcp_at + 13]
            && frame[tcp_at + 13] & !PSH == m[tcp_at + 13] & !PSH
            && frame[tcp_at + 14..tcp_at + 16] == m[tcp_at + 14..tcp_at + 16]
            && frame[tcp_at + 18..head] == m[tcp_at + 18..head];
        if !same {
            return false;
        }
        self.frame.extend_from_slice(&frame[head..head + payload]);
        self.frame[tcp_at + 13] |= frame[tcp_at + 13] & PSH;
        self.frames += 1;
        self.next_seq = seq.wrapping_add(payload as u32);
        self.closed = payload < self.segment;
        true
    }

    /// Ends the merge under way: its one frame as it was built, or one segmentation-offload
    /// frame (IPv4 length and checksum redone, the TCP checksum left to the kernel over the
    /// pseudo-header's sum) with its virtio-net header. `None` if nothing was merged.
    fn take(&mut self, stats: &mut TapStats) -> Option<(VnetHeader, Vec<u8>)> {
        if self.frames == 0 {
            return None;
        }
        let frames = core::mem::take(&mut self.frames);
        let mut frame = core::mem::take(&mut self.frame);
        if frames == 1 {
            return Some((VnetHeader::default(), frame));
        }
        let (tcp_at, tcp_len, segment) = (self.tcp_at, self.tcp_len, self.segment);
        let ip = ETHERNET_HEADER_LEN;
        let ip_len = frame.len() - ip;
        frame[ip + 2..ip + 4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        frame[ip + 10..ip + 12].fill(0);
        let sum = prolac_runtime::checksum::checksum(&frame[ip..ip + IPV4_HEADER]);
        frame[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
        let addr = |at: usize| [frame[at], frame[at + 1], frame[at + 2], frame[at + 3]];
        let pseudo = prolac_runtime::checksum::pseudo_header_ipv4(
            addr(ip + 12),
            addr(ip + 16),
            6,
            (frame.len() - tcp_at) as u16,
        );
        frame[tcp_at + 16..tcp_at + 18].copy_from_slice(&pseudo.sum().to_be_bytes());
        stats.tx_large_segments += 1;
        stats.tx_merged_frames += frames;
        let header = VnetHeader {
            flags: VNET_NEEDS_CSUM,
            gso_type: VNET_GSO_TCPV4,
            hdr_len: (tcp_at + tcp_len) as u16,
            gso_size: segment as u16,
            csum_start: tcp_at as u16,
            csum_offset: 16,
        };
        Some((header, frame))
    }

    /// Takes back the buffer of a frame [`take`](Self::take) gave, for its allocation.
    fn give_back(&mut self, frame: Vec<u8>) {
        if self.frames == 0 {
            self.frame = frame;
        }
    }
}

/// A frame the device may merge: TCP over IPv4 without IP options or fragmentation,
/// carrying data, with no flag but ACK and PSH. Its TCP header's offset and length, its
/// sequence number and its payload length.
fn mergeable(frame: &[u8]) -> Option<(usize, usize, u32, usize)> {
    let ip = frame.get(ETHERNET_HEADER_LEN..)?;
    if frame[12..14] != [0x08, 0x00] || ip.len() < IPV4_HEADER || ip[0] != 0x45 || ip[9] != 6 {
        return None;
    }
    // Not a fragment (DF allowed).
    if u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if total != ip.len() {
        return None;
    }
    let tcp = &ip[IPV4_HEADER..];
    let tcp_len = usize::from(*tcp.get(12)? >> 4) * 4;
    if tcp_len < 20
        || tcp.len() <= tcp_len
        || tcp[13] & UNMERGEABLE_FLAGS != 0
        || tcp[13] & ACK == 0
    {
        return None;
    }
    let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
    Some((
        ETHERNET_HEADER_LEN + IPV4_HEADER,
        tcp_len,
        seq,
        tcp.len() - tcp_len,
    ))
}

impl FrameDevice for TapDevice {
    fn send_frame(&mut self, frame: &[u8], _now_us: u64) -> Result<(), DeviceError> {
        if frame.len() < ETHERNET_HEADER_LEN {
            return Err(DeviceError::FrameTooShort { len: frame.len() });
        }
        if frame.len() > self.max_frame_len() {
            return Err(DeviceError::FrameTooLong {
                len: frame.len(),
                max: self.max_frame_len(),
            });
        }
        if self.offloaded {
            if self.merge.offer(frame) {
                return Ok(());
            }
            self.send_merged();
            if self.merge.offer(frame) {
                return Ok(());
            }
        }
        self.write(VnetHeader::default(), frame);
        Ok(())
    }

    fn flush(&mut self, _now_us: u64) {
        self.send_merged();
    }

    fn recv_frame(&mut self, _now_us: u64) -> Option<Vec<u8>> {
        let mut buffer = core::mem::take(&mut self.buffer);
        let n = self.read(&mut buffer);
        let frame = n.map(|n| buffer[..n].to_vec());
        self.buffer = buffer;
        frame
    }

    fn recv_into(&mut self, buf: &mut Vec<u8>, _now_us: u64) -> bool {
        buf.resize(self.buffer.len(), 0);
        match self.read(buf) {
            Some(n) => {
                buf.truncate(n);
                true
            }
            None => {
                buf.clear();
                false
            }
        }
    }

    fn rx_checksum_trusted(&self) -> bool {
        self.offloaded && self.last_trusted
    }

    fn max_frame_len(&self) -> usize {
        self.mtu + ETHERNET_HEADER_LEN
    }
}

/// Whether this process can create TAP devices and network namespaces: `Ok`, or the reason
/// it cannot (for tests to print when they skip).
///
/// # Errors
///
/// The reason, in words.
pub fn tap_available() -> Result<(), String> {
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Err("/dev/net/tun is missing".into());
    }
    if !rustix::process::geteuid().is_root() {
        return Err("not running as root (CAP_NET_ADMIN is needed for TAP devices)".into());
    }
    match std::process::Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("the `ip` command (iproute2) is missing".into()),
    }
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
    fn back_to_back_data_frames_become_one_segmentation_offload_frame() {
        let (a, b, c) = (bytes(1448, 0), bytes(1448, 100), bytes(300, 200));
        let mut m = Merge::default();
        assert!(m.offer(&frame(1000, 9, ACK | PSH, &a, 5)));
        assert!(m.offer(&frame(2448, 9, ACK | PSH, &b, 5)));
        assert!(m.offer(&frame(3896, 9, ACK, &c, 5)));
        // A short frame ends the merge.
        assert!(!m.offer(&frame(4196, 9, ACK, &a, 5)));
        let mut stats = TapStats::default();
        let (h, mut f) = m.take(&mut stats).expect("a merged frame");
        assert_eq!((stats.tx_large_segments, stats.tx_merged_frames), (1, 3));
        let head = ETHERNET_HEADER_LEN + IPV4_HEADER + 32;
        assert_eq!(
            h,
            VnetHeader {
                flags: VNET_NEEDS_CSUM,
                gso_type: VNET_GSO_TCPV4,
                hdr_len: head as u16,
                gso_size: 1448,
                csum_start: 34,
                csum_offset: 16,
            }
        );
        assert_eq!(VnetHeader::decode(&h.encode()), h);
        assert_eq!(f[head..], [a, b, c].concat()[..]);
        let ip = &f[ETHERNET_HEADER_LEN..];
        assert_eq!(usize::from(u16::from_be_bytes([ip[2], ip[3]])), ip.len());
        assert_eq!(prolac_runtime::checksum::checksum(&ip[..IPV4_HEADER]), 0);
        // PSH survives (the kernel keeps it on the last segment it cuts).
        assert_eq!(ip[IPV4_HEADER + 13], ACK | PSH);
        // What the kernel does with NEEDS_CSUM: sums from csum_start over the rest (the field
        // holds the pseudo-header's sum) and stores the complement; the result verifies.
        let tcp = &mut f[34..];
        let c = prolac_runtime::checksum::checksum(tcp);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        assert!(verify_tcp_checksum(SRC, DST, tcp));
        assert!(m.take(&mut stats).is_none());
    }

    #[test]
    fn a_lone_frame_goes_as_it_was_built() {
        let f = frame(1, 2, ACK | PSH, &bytes(10, 0), 1);
        let mut m = Merge::default();
        assert!(m.offer(&f));
        let (h, out) = m.take(&mut TapStats::default()).expect("the frame");
        assert_eq!(h, VnetHeader::default());
        assert_eq!(out, f);
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
            let mut m = Merge::default();
            assert!(m.offer(&first));
            assert!(!m.offer(&f), "{what}");
        }
        let mut m = Merge::default();
        for (what, f) in [
            ("a SYN", frame(1, 0, 0x02, &[], 1)),
            ("no data", frame(1, 2, ACK, &[], 1)),
            ("a RST", frame(1, 2, ACK | 0x04, &p, 1)),
            ("not IPv4", vec![0u8; 60]),
        ] {
            assert!(!m.offer(&f), "{what}");
        }
    }
}
