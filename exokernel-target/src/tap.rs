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
//! Creating a TAP device needs `CAP_NET_ADMIN` and `/dev/net/tun`; [`tap_available`] says
//! whether this process has them.

use std::io;
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
}

/// A TAP interface, its descriptor non-blocking.
pub struct TapDevice {
    device: tun_rs::SyncDevice,
    name: String,
    mtu: usize,
    buffer: Vec<u8>,
    stats: TapStats,
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
            .build_sync()
            .map_err(|e| io::Error::new(e.kind(), format!("creating TAP device {name}: {e}")))?;
        device.set_nonblocking(true)?;
        Ok(TapDevice {
            device,
            name: name.to_string(),
            mtu: usize::from(mtu),
            buffer: vec![0; usize::from(mtu) + ETHERNET_HEADER_LEN + 64],
            stats: TapStats::default(),
        })
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
        match self.device.send(frame) {
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
        Ok(())
    }

    fn recv_frame(&mut self, _now_us: u64) -> Option<Vec<u8>> {
        loop {
            match self.device.recv(&mut self.buffer) {
                Ok(n) => {
                    self.stats.rx_frames += 1;
                    self.stats.rx_bytes += n as u64;
                    return Some(self.buffer[..n].to_vec());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(_) => {
                    self.stats.errors += 1;
                    return None;
                }
            }
        }
    }

    fn recv_into(&mut self, buf: &mut Vec<u8>, _now_us: u64) -> bool {
        buf.resize(self.buffer.len(), 0);
        loop {
            match self.device.recv(buf) {
                Ok(n) => {
                    self.stats.rx_frames += 1;
                    self.stats.rx_bytes += n as u64;
                    buf.truncate(n);
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        self.stats.errors += 1;
                    }
                    buf.clear();
                    return false;
                }
            }
        }
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
