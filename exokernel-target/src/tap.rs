//! TAP devices: the library-OS stack on a real Ethernet device facing the Linux kernel.
//!
//! A [`TapDevice`] is a Linux TAP interface (created with tun-rs) whose descriptor the stack
//! reads and writes: one Ethernet frame per `read` and per `write`. It implements
//! [`FrameDevice`], so everything that runs on the in-memory wire — the netstack, smoltcp
//! through [`crate::device::SmoltcpDevice`], pcap recording ([`crate::pcap::Tap`]), fault
//! injection ([`crate::wire::FaultyDevice`]) — runs on it too. Reads are batched by the
//! caller: [`crate::realtime::Runner`] drains every frame the device holds before it answers,
//! so that one ACK covers a batch. Writes of a large segment the device cuts in software
//! ([`FrameDevice::send_segmented`]) are batched here: its pieces, up to 44 frames, are queued
//! on an io_uring and go to the kernel in one system call ([`crate::uring`];
//! [`TapDevice::set_batched_writes`]), one `writev` each where the kernel has no io_uring.
//! Every write, batched or not, tells the kernel not to wait (`RWF_NOWAIT`): it then builds
//! the frame's buffer around a page fragment it copies into, the cheaper of its two ways in
//! (`docs/BENCHMARKS.md` has what that is worth). The device's time argument is ignored: a
//! real device has its own clock.
//!
//! Waiting for the next frame is the read itself ([`TapDevice::wait_recv`]), as in a blocking
//! server: the descriptor blocks, every read that must not passes `RWF_NOWAIT`, and the
//! thread's alarm (a POSIX timer signalling the thread, `alarm.rs`) ends a read still blocked
//! when the stack's next timer is due. A server answering one request at a time so makes two
//! system calls per request, not three with a `poll` before the read (`docs/BENCHMARKS.md`
//! has what that is worth). Where the kernel cannot tell a read not to block, the descriptor
//! is non-blocking; there, and where no alarm can be had, waits use `poll`.
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

use prolac_runtime::checksum::{Gathered, PieceSums};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::ReadWriteFlags;

use crate::alarm::Alarm;
use crate::device::{DeviceError, FrameDevice};
use crate::offload::{Coalescer, LARGE_FRAME, PIECE_PARTS, Piece};
use crate::uring::{Queue, WriteBatch};
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
    /// Without offloads: frames written in batches, several per system call (the pieces of a
    /// segment cut here, [`TapDevice::set_batched_writes`]), and the system calls.
    pub tx_batched: (u64, u64),
}

impl TapStats {
    /// Counts a write of `len` bytes that ended with `result`.
    fn count_write(&mut self, len: usize, result: io::Result<()>) {
        match result {
            Ok(()) => {
                self.tx_frames += 1;
                self.tx_bytes += len as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.tx_dropped += 1,
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOBUFS.raw_os_error()) => {
                self.tx_dropped += 1;
            }
            Err(_) => self.errors += 1,
        }
    }
}

/// The virtio-net header (`struct virtio_net_hdr`, 10 bytes, native byte order) before each
/// frame of an offloading device.
const VNET_HDR_LEN: usize = 10;
/// The most parts one write gathers after the virtio-net header: a piece's headers and
/// the slices its data lies in ([`crate::offload::PIECE_PARTS`]), or more.
const WRITE_PARTS: usize = 6;
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
/// A TAP interface.
pub struct TapDevice {
    /// The descriptor blocks, and reads that must not pass `RWF_NOWAIT`: a wait can be the
    /// read itself ([`wait_recv`](Self::wait_recv)). Writes pass it too (`write_frame`).
    blocking: bool,
    /// Waits use `poll` (no alarm could be had, or [`set_wait_in_read`](Self::set_wait_in_read)
    /// turned the read-as-wait off).
    poll_waits: bool,
    /// What ends a wait in the read when the timeout passes; made by the thread that waits.
    alarm: Option<Alarm>,
    device: tun_rs::SyncDevice,
    name: String,
    mtu: usize,
    buffer: Vec<u8>,
    stats: TapStats,
    /// Frames carry virtio-net headers: the offloads are on.
    offloaded: bool,
    /// The frame read last came with a checksum the kernel vouched for.
    last_trusted: bool,
    merge: Coalescer,
    /// The pieces of a segment cut here go in batches ([`set_batched_writes`](Self::set_batched_writes)).
    batched: bool,
    /// The batch's ring, made on the first cut (`None` before, or when the kernel refused one).
    batch: Option<WriteBatch>,
    /// The kernel refused a ring: writes go one by one.
    no_ring: bool,
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
        // The descriptor blocks if reads can be told not to (`RWF_NOWAIT`), so that a wait can
        // be a read; else it does not.
        device.set_nonblocking(false)?;
        let nowait = rustix::io::preadv2(&device, &mut [], u64::MAX, ReadWriteFlags::NOWAIT);
        let blocking = matches!(nowait, Ok(_) | Err(rustix::io::Errno::AGAIN));
        if !blocking {
            device.set_nonblocking(true)?;
        }
        let largest = if offloaded {
            LARGE_FRAME
        } else {
            usize::from(mtu) + ETHERNET_HEADER_LEN + 64
        };
        Ok(TapDevice {
            blocking,
            poll_waits: !blocking,
            alarm: None,
            device,
            name: name.to_string(),
            mtu: usize::from(mtu),
            buffer: vec![0; largest],
            stats: TapStats::default(),
            offloaded,
            last_trusted: false,
            merge: Coalescer::new(false),
            batched: true,
            batch: None,
            no_ring: false,
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
        self.write_parts(header, &[frame]);
    }

    /// Writes one frame made of `parts`, behind `header` when the offloads are on.
    fn write_parts(&mut self, header: VnetHeader, parts: &[&[u8]]) {
        let h = header.encode();
        let vnet = self.offloaded.then_some(&h[..]);
        write_frame(&self.device, &mut self.stats, vnet, parts, self.blocking);
    }

    /// Reads one frame into `buf` (at least [`LARGE_FRAME`] bytes with offloads): its
    /// length, or `None` when none is waiting. With offloads, notes what the virtio-net
    /// header says of the checksum.
    fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.read_frame(buf, false)
    }

    /// Reads one frame into `buf` as [`read`](Self::read) does, blocking until one comes (or
    /// a signal, or the alarm, interrupts the read: `None`) when `block` and the descriptor
    /// blocks.
    fn read_frame(&mut self, buf: &mut [u8], block: bool) -> Option<usize> {
        let flags = if self.blocking && !block {
            ReadWriteFlags::NOWAIT
        } else {
            ReadWriteFlags::empty()
        };
        let mut h = [0u8; VNET_HDR_LEN];
        let result = if self.offloaded {
            rustix::io::preadv2(
                &self.device,
                &mut [IoSliceMut::new(&mut h), IoSliceMut::new(buf)],
                u64::MAX,
                flags,
            )
            .map_err(io::Error::from)
            .and_then(|n| {
                n.checked_sub(VNET_HDR_LEN)
                    .ok_or_else(|| io::Error::other("a read shorter than the virtio-net header"))
            })
            .map(|n| (n, Some(h)))
        } else if flags.is_empty() {
            rustix::io::read(&self.device, buf)
                .map_err(io::Error::from)
                .map(|n| (n, None))
        } else {
            rustix::io::preadv2(&self.device, &mut [IoSliceMut::new(buf)], u64::MAX, flags)
                .map_err(io::Error::from)
                .map(|n| (n, None))
        };
        self.count_read(result)
    }

    /// Counts a read (its length, and the virtio-net header it came behind, if any), and
    /// notes what the header says of the checksum: the frame's length, or `None` when there
    /// was no frame.
    fn count_read(
        &mut self,
        result: io::Result<(usize, Option<[u8; VNET_HDR_LEN]>)>,
    ) -> Option<usize> {
        match result {
            Ok((n, header)) => {
                if let Some(h) = header {
                    let header = VnetHeader::decode(&h);
                    self.last_trusted = header.flags & (VNET_NEEDS_CSUM | VNET_DATA_VALID) != 0;
                    self.stats.rx_checksum_trusted += u64::from(self.last_trusted);
                    self.stats.rx_large_segments += u64::from(header.gso_type != VNET_GSO_NONE);
                }
                self.stats.rx_frames += 1;
                self.stats.rx_bytes += n as u64;
                Some(n)
            }
            Err(e) => {
                if !matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) {
                    self.stats.errors += 1;
                }
                None
            }
        }
    }

    /// Whether the pieces of a segment cut here ([`FrameDevice::send_segmented`] without
    /// offloads) go to the kernel together, queued on an io_uring and submitted in one system
    /// call ([`crate::uring`]), or with one `writev` each. On by default where the kernel
    /// has io_uring; returns whether it is now on.
    pub fn set_batched_writes(&mut self, on: bool) -> bool {
        self.batched = on;
        if on {
            self.make_ring();
        }
        self.batched
    }

    /// Makes the batch's ring if it is to be used and not made yet; a kernel that refuses it
    /// turns batching off for good.
    fn make_ring(&mut self) {
        if self.batched && self.batch.is_none() && !self.no_ring {
            match WriteBatch::new() {
                Ok(b) => self.batch = Some(b),
                Err(_) => self.no_ring = true,
            }
        }
        self.batched &= !self.no_ring;
    }

    /// Whether [`wait_recv`](Self::wait_recv) may wait in the read itself (on by
    /// default where the kernel allows it: a blocking descriptor whose other reads pass
    /// `RWF_NOWAIT`, and a thread alarm for the timeout), or waits with `poll` and then reads.
    /// Whether it now waits in the read.
    pub fn set_wait_in_read(&mut self, on: bool) -> bool {
        self.poll_waits = !(on && self.blocking);
        if self.poll_waits {
            self.alarm = None;
        }
        !self.poll_waits
    }

    /// Waits until a frame arrives or `timeout` passes, and reads that frame into `buf` (at
    /// least [`max_recv_len`](FrameDevice::max_recv_len) bytes): the frame's length, or `None`
    /// when the wait ended without one. The wait is the read itself where it can be (see
    /// [`set_wait_in_read`](Self::set_wait_in_read)): one system call, where `poll` and a read
    /// make two.
    ///
    /// # Errors
    ///
    /// The wait failed (a failed read is counted in the [`stats`](Self::stats), as
    /// [`recv_into`](FrameDevice::recv_into) counts it).
    pub fn wait_recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        if timeout.is_zero() {
            return Ok(self.read(buf));
        }
        let Some(mut alarm) = self.take_alarm() else {
            return Ok(if self.wait(Some(timeout))? {
                self.read(buf)
            } else {
                None
            });
        };
        let read = self.read_until(&mut alarm, buf, timeout);
        self.alarm = Some(alarm);
        read
    }

    /// Disarms the thread alarm the last wait may have left set (armed lazily, it would go
    /// on interrupting the thread every millisecond past its deadline until the next wait):
    /// for a device that stops waiting for a while ([`crate::realtime::WaitDevice::end_waits`]).
    pub fn disarm_alarm(&mut self) {
        if let Some(alarm) = self.alarm.as_mut().filter(|a| a.owned_here()) {
            // A timer the kernel will not change is left to the next wait, which settles it.
            let _ = alarm.disarm();
        }
    }

    /// This thread's alarm, taken out for a wait (made on the first wait of a thread), or
    /// `None` when waits use `poll`.
    fn take_alarm(&mut self) -> Option<Alarm> {
        if self.poll_waits {
            return None;
        }
        match self.alarm.take().filter(Alarm::owned_here) {
            Some(a) => Some(a),
            None => Alarm::new()
                .map_err(|_| {
                    // No alarm to be had: waits use poll from now on.
                    self.poll_waits = true;
                })
                .ok(),
        }
    }

    /// Blocks in the read until a frame comes, a read fails, or `timeout` passes (`alarm`
    /// interrupting the read then): the frame's length, if one came.
    fn read_until(
        &mut self,
        alarm: &mut Alarm,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<usize>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            // Set again only when the alarm set before has passed (it was for an earlier
            // deadline, and interrupted the read early).
            alarm.arm(std::time::Instant::now(), deadline)?;
            let errors = self.stats.errors;
            let n = self.read_frame(buf, true);
            let now = std::time::Instant::now();
            // A frame, a failed read, or the deadline ends the wait; an alarm set for an
            // earlier deadline (or another signal) does not.
            if n.is_some() || self.stats.errors != errors || now >= deadline {
                alarm.settle(now)?;
                return Ok(n);
            }
        }
    }

    /// Sends the segment being merged, if any: one frame as it was, or several as one
    /// segmentation-offload frame.
    fn send_merged(&mut self) {
        let Some(c) = self.merge.take() else { return };
        let header = if c.frames == 1 {
            VnetHeader::default()
        } else {
            self.stats.tx_large_segments += 1;
            self.stats.tx_merged_frames += c.frames;
            VnetHeader {
                flags: VNET_NEEDS_CSUM,
                gso_type: VNET_GSO_TCPV4,
                hdr_len: u16::try_from(c.headers).unwrap_or(u16::MAX),
                gso_size: u16::try_from(c.segment).unwrap_or(u16::MAX),
                csum_start: u16::try_from(c.tcp_at).unwrap_or(u16::MAX),
                csum_offset: 16,
            }
        };
        self.write(header, c.frame());
        self.merge.give_back(c);
    }
}

/// Submits the writes queued on `q`, counting each in `stats` (and the system call).
fn submit(q: &mut Queue<'_, '_>, stats: &mut TapStats) {
    let mut frames = 0;
    let result = q.submit(|len, r| {
        frames += 1;
        stats.count_write(len, r.map(|_| ()));
    });
    if frames > 0 {
        stats.tx_batched.0 += frames;
        stats.tx_batched.1 += 1;
    }
    if result.is_err() {
        // The ring failed: what it wrote is not known (the TCP finds out what was lost).
        stats.errors += 1;
    }
}

/// Writes one frame made of `parts` (at most [`WRITE_PARTS`]) with one `writev`, behind the
/// virtio-net header `vnet` if there is one, and counts it in `stats`.
///
/// With `nowait` (a descriptor whose writes can be told not to block) the write passes
/// `RWF_NOWAIT`, as the batched writes do: the kernel then takes a TAP frame that fits in a
/// page by building its buffer around a page fragment it copies into (`tun_build_skb`),
/// which costs it less per frame than allocating one. A frame it would have to wait for
/// (never with the device's unlimited send buffer), or a flag it refuses, and the frame is
/// written again without it: nothing is lost to the flag.
fn write_frame(
    device: &tun_rs::SyncDevice,
    stats: &mut TapStats,
    vnet: Option<&[u8]>,
    parts: &[&[u8]],
    nowait: bool,
) {
    debug_assert!(parts.len() <= WRITE_PARTS);
    let mut slices = [IoSlice::new(&[]); 1 + WRITE_PARTS];
    let mut n = 0;
    for (slice, part) in slices
        .iter_mut()
        .zip(vnet.into_iter().chain(parts.iter().copied()))
    {
        *slice = IoSlice::new(part);
        n += 1;
    }
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let slices = &slices[..n];
    let result = if nowait {
        match rustix::io::pwritev2(device, slices, u64::MAX, ReadWriteFlags::NOWAIT) {
            // Refused for now (a full send buffer) or not taken at all (a device that takes
            // the flag for reads only): written plainly.
            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::OPNOTSUPP) => {
                rustix::io::writev(device, slices)
            }
            done => done,
        }
    } else {
        rustix::io::writev(device, slices)
    };
    stats.count_write(len, result.map(|_| ()).map_err(io::Error::from));
}

/// A piece's headers and then its data, as the parts of one frame.
fn headed<'a>(head: &'a [u8], data: &[&'a [u8]]) -> ([&'a [u8]; 1 + PIECE_PARTS], usize) {
    let mut parts: [&[u8]; 1 + PIECE_PARTS] = [&[]; 1 + PIECE_PARTS];
    parts[0] = head;
    let n = 1 + data.len().min(PIECE_PARTS);
    parts[1..n].copy_from_slice(&data[..n - 1]);
    (parts, n)
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

    fn send_segmented(
        &mut self,
        (frame, gathered): (&[u8], &Gathered),
        size: usize,
        sums: &PieceSums,
        now_us: u64,
    ) -> Result<(), DeviceError> {
        const T: usize = ETHERNET_HEADER_LEN + 20;
        let head = frame.get(T + 12).map_or(0, |b| T + usize::from(b >> 4) * 4);
        if size == 0 && !gathered.is_empty() {
            // Not to be cut: one frame, its data copied together.
            let mut whole = frame.to_vec();
            gathered.copy_to(&mut whole);
            return self.send_frame(&whole, now_us);
        }
        if frame.len() < head.max(T + 20) || frame[12..14] != [0x08, 0x00] || size == 0 {
            return Err(DeviceError::FrameTooShort { len: frame.len() });
        }
        let total = frame.len() + gathered.len();
        if head + size > self.max_frame_len() || total > LARGE_FRAME {
            return Err(DeviceError::FrameTooLong {
                len: head + size,
                max: self.max_frame_len(),
            });
        }
        // What went before goes first.
        self.send_merged();
        if self.offloaded {
            // The kernel takes the segment whole and cuts it: the checksum field holds the
            // pseudo-header's sum, which it completes.
            let mut headers = [0u8; crate::offload::MAX_HEADERS];
            headers[..head].copy_from_slice(&frame[..head]);
            let addr = |at: usize| [frame[at], frame[at + 1], frame[at + 2], frame[at + 3]];
            let pseudo = prolac_runtime::checksum::pseudo_header_ipv4(
                addr(ETHERNET_HEADER_LEN + 12),
                addr(ETHERNET_HEADER_LEN + 16),
                6,
                u16::try_from(total - T).unwrap_or(u16::MAX),
            );
            headers[T + 16..T + 18].copy_from_slice(&pseudo.sum().to_be_bytes());
            let header = VnetHeader {
                flags: VNET_NEEDS_CSUM,
                gso_type: VNET_GSO_TCPV4,
                hdr_len: u16::try_from(head).unwrap_or(u16::MAX),
                gso_size: u16::try_from(size).unwrap_or(u16::MAX),
                csum_start: T as u16,
                csum_offset: 16,
            };
            self.stats.tx_large_segments += 1;
            self.stats.tx_merged_frames += crate::offload::pieces(frame, gathered.len(), size);
            if gathered.ranges() + 2 <= WRITE_PARTS {
                let mut parts: [&[u8]; WRITE_PARTS] = [&[]; WRITE_PARTS];
                parts[0] = &headers[..head];
                parts[1] = &frame[head..];
                for (part, slice) in parts[2..].iter_mut().zip(gathered.slices()) {
                    *part = slice;
                }
                self.write_parts(header, &parts[..2 + gathered.ranges()]);
            } else {
                let mut data = frame[head..].to_vec();
                gathered.copy_to(&mut data);
                self.write_parts(header, &[&headers[..head], &data]);
            }
            return Ok(());
        }
        // Cut here: each piece's headers, then its data straight from the segment or the
        // shared buffers it stayed in — all the pieces in one system call where the kernel
        // has io_uring.
        self.make_ring();
        let stats = &mut self.stats;
        if let Some(mut q) = self
            .batch
            .as_mut()
            .filter(|_| self.batched)
            .and_then(|b| b.queue(self.device.as_fd()))
        {
            let (device, nowait) = (&self.device, self.blocking);
            crate::offload::cut_pieces(frame, gathered, size, sums, |h, piece| match piece {
                Piece::InPlace(d) => {
                    // A full batch goes first (and a piece the batch cannot hold, after it).
                    if !q.push(h, d) {
                        submit(&mut q, stats);
                        if !q.push(h, d) {
                            let (parts, n) = headed(h, d);
                            write_frame(device, stats, None, &parts[..n], nowait);
                        }
                    }
                }
                Piece::Copied(d) => {
                    // Only for the call: it goes now, after what is queued.
                    submit(&mut q, stats);
                    write_frame(device, stats, None, &[h, d], nowait);
                }
            });
            submit(&mut q, stats);
            return Ok(());
        }
        crate::offload::cut_gathered(frame, gathered, size, sums, |h, d| {
            let (parts, n) = headed(h, d);
            self.write_parts(VnetHeader::default(), &parts[..n]);
        });
        Ok(())
    }

    fn recv_frame(&mut self, _now_us: u64) -> Option<Vec<u8>> {
        let mut buffer = core::mem::take(&mut self.buffer);
        let n = self.read(&mut buffer);
        let frame = n.map(|n| buffer[..n].to_vec());
        self.buffer = buffer;
        frame
    }

    fn recv_into(&mut self, buf: &mut [u8], _now_us: u64) -> Option<usize> {
        self.read(buf)
    }

    fn max_recv_len(&self) -> usize {
        self.buffer.len()
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
    use super::*;

    #[test]
    fn the_virtio_net_header_round_trips() {
        let h = VnetHeader {
            flags: VNET_NEEDS_CSUM,
            gso_type: VNET_GSO_TCPV4,
            hdr_len: 66,
            gso_size: 1448,
            csum_start: 34,
            csum_offset: 16,
        };
        let b = h.encode();
        assert_eq!(b[..2], [VNET_NEEDS_CSUM, VNET_GSO_TCPV4]);
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 1448);
        assert_eq!(VnetHeader::decode(&b), h);
    }
}
