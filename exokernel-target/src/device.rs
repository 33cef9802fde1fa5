//! The frame-device interface every stack in this crate runs on, and its smoltcp adapter.
//!
//! A [`FrameDevice`] moves whole Ethernet frames (no preamble, no FCS) and is told the time
//! on every call: it never reads a clock. The wire's endpoints ([`crate::wire::Port`]) and
//! the pcap tap ([`crate::pcap::Tap`]) implement it, and [`SmoltcpDevice`] turns any of them
//! into a [`smoltcp::phy::Device`] so that a smoltcp `Interface` can run on the same wire as
//! the library-OS stack. Three provided methods carry what a network card's offloads do, with
//! defaults that need none: [`FrameDevice::send_segmented`] (a large TCP segment cut into
//! wire segments, its data perhaps left in shared buffers to be gathered; in software, each
//! piece copied together, by default), [`FrameDevice::flush`] (frames held back to be
//! merged go out) and [`FrameDevice::rx_checksum_trusted`] (the device vouches for a received
//! frame's checksum); [`crate::tap::TapDevice`] with offloads implements all three.

use core::fmt;

use prolac_runtime::checksum::{Gathered, PieceSums};

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Why a device refused a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// The frame is longer than the device's [`max_frame_len`](FrameDevice::max_frame_len).
    FrameTooLong {
        /// The frame's length in bytes.
        len: usize,
        /// The longest frame the device carries.
        max: usize,
    },
    /// The frame is shorter than an Ethernet header.
    FrameTooShort {
        /// The frame's length in bytes.
        len: usize,
    },
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameTooLong { len, max } => {
                write!(f, "frame of {len} bytes is longer than the device's {max}")
            }
            Self::FrameTooShort { len } => {
                write!(f, "frame of {len} bytes is shorter than an Ethernet header")
            }
        }
    }
}

impl std::error::Error for DeviceError {}

/// A device that sends and receives Ethernet frames, driven by an explicit clock.
///
/// `now_us` is virtual time in microseconds; callers pass non-decreasing values.
pub trait FrameDevice {
    /// Hands `frame` to the device at time `now_us`.
    ///
    /// # Errors
    ///
    /// [`DeviceError`] when the device cannot carry the frame at all (too long or too short).
    /// A frame the device accepts may still be lost on the way; that is not an error.
    fn send_frame(&mut self, frame: &[u8], now_us: u64) -> Result<(), DeviceError>;

    /// The next frame that has arrived by `now_us`, if any.
    fn recv_frame(&mut self, now_us: u64) -> Option<Vec<u8>>;

    /// The next frame into the start of `buf`, which holds at least
    /// [`max_recv_len`](Self::max_recv_len) bytes: its length, or `None` if no frame has
    /// arrived. A device that reads from a descriptor reads straight into `buf`
    /// ([`crate::tap::TapDevice`]: nothing is allocated or cleared per frame); the default
    /// copies [`recv_frame`](Self::recv_frame)'s frame (one too long for `buf` is dropped).
    fn recv_into(&mut self, buf: &mut [u8], now_us: u64) -> Option<usize> {
        loop {
            let frame = self.recv_frame(now_us)?;
            if let Some(room) = buf.get_mut(..frame.len()) {
                room.copy_from_slice(&frame);
                return Some(frame.len());
            }
        }
    }

    /// The longest frame [`recv_into`](Self::recv_into) may give: the buffer it needs.
    fn max_recv_len(&self) -> usize {
        self.max_frame_len()
    }

    /// Whether the device vouches for the transport checksum of the frame it gave last (a
    /// TAP device with offloads: the kernel's own stack sent it and left the checksum undone
    /// or checked it, see [`crate::tap`]); the stack then skips its own check. A device that
    /// holds frames back, or cannot tell, says false.
    fn rx_checksum_trusted(&self) -> bool {
        false
    }

    /// Hands the device a large TCP/IPv4 segment (Ethernet, a 20-byte IPv4 header, TCP, its
    /// checksum left to fill) to send as wire segments of `size` data bytes each: what a
    /// network card's segmentation offload does. The default cuts it in software
    /// ([`crate::offload::cut`]) and sends each piece with
    /// [`send_frame`](Self::send_frame), so that a wrapper (fault injection, pcap) sees wire
    /// segments; [`crate::tap::TapDevice`] writes the pieces without copying their data, or,
    /// with offloads, the whole segment for the kernel to take. `sums` are the sums of each
    /// piece's data when the TCP made them as it copied the data in (a piece's checksum then
    /// reads only its headers), or [`PieceSums::NONE`]. The segment's data may be partly or
    /// wholly in shared buffers, the second part of the segment (its frame then ends at the
    /// TCP header): a device that gathers its writes sends it from there
    /// ([`crate::offload::cut_gathered`]), the default copies each piece together.
    ///
    /// # Errors
    ///
    /// What [`send_frame`](Self::send_frame) says of a piece (the others still go); a frame
    /// that cannot be cut is sent as it is.
    fn send_segmented(
        &mut self,
        (frame, gathered): (&[u8], &Gathered),
        size: usize,
        sums: &PieceSums,
        now_us: u64,
    ) -> Result<(), DeviceError> {
        let mut piece = Vec::new();
        let mut result = Ok(());
        let cut = crate::offload::cut_gathered(frame, gathered, size, sums, |headers, data| {
            piece.clear();
            piece.extend_from_slice(headers);
            data.iter().for_each(|d| piece.extend_from_slice(d));
            if let Err(e) = self.send_frame(&piece, now_us) {
                result = Err(e);
            }
        });
        if cut {
            result
        } else if gathered.is_empty() {
            self.send_frame(frame, now_us)
        } else {
            piece.clear();
            piece.extend_from_slice(frame);
            gathered.copy_to(&mut piece);
            self.send_frame(&piece, now_us)
        }
    }

    /// Sends whatever the device still holds of the frames handed to it (a device that
    /// merges back-to-back frames into one, [`crate::tap::TapDevice`] with offloads). Call it
    /// after each burst; the default holds nothing back.
    fn flush(&mut self, _now_us: u64) {}

    /// The longest frame the device carries: the Ethernet header plus the IP MTU.
    fn max_frame_len(&self) -> usize;
}

impl<D: FrameDevice + ?Sized> FrameDevice for &mut D {
    fn send_frame(&mut self, frame: &[u8], now_us: u64) -> Result<(), DeviceError> {
        (**self).send_frame(frame, now_us)
    }

    fn recv_frame(&mut self, now_us: u64) -> Option<Vec<u8>> {
        (**self).recv_frame(now_us)
    }

    fn recv_into(&mut self, buf: &mut [u8], now_us: u64) -> Option<usize> {
        (**self).recv_into(buf, now_us)
    }

    fn max_recv_len(&self) -> usize {
        (**self).max_recv_len()
    }

    fn rx_checksum_trusted(&self) -> bool {
        (**self).rx_checksum_trusted()
    }

    fn flush(&mut self, now_us: u64) {
        (**self).flush(now_us);
    }

    fn send_segmented(
        &mut self,
        segment: (&[u8], &Gathered),
        size: usize,
        sums: &PieceSums,
        now_us: u64,
    ) -> Result<(), DeviceError> {
        (**self).send_segmented(segment, size, sums, now_us)
    }

    fn max_frame_len(&self) -> usize {
        (**self).max_frame_len()
    }
}

/// Converts a smoltcp timestamp to virtual microseconds (times before zero become zero).
fn micros(timestamp: Instant) -> u64 {
    u64::try_from(timestamp.total_micros()).unwrap_or(0)
}

/// A [`FrameDevice`] seen as a [`smoltcp::phy::Device`] with the Ethernet medium.
///
/// smoltcp passes its own `Instant` to `receive` and `transmit`; it is used as the virtual
/// time of the underlying device, so `iface.poll(Instant::from_micros(now), …)` drives the
/// wire at `now`. smoltcp computes and checks every checksum in software.
///
/// A frame smoltcp builds that the device refuses (too long) is counted in
/// [`tx_errors`](Self::tx_errors); smoltcp's token interface has no way to report it.
#[derive(Debug)]
pub struct SmoltcpDevice<D> {
    inner: D,
    tx_errors: u64,
}

impl<D: FrameDevice> SmoltcpDevice<D> {
    /// Wraps `inner`.
    pub const fn new(inner: D) -> Self {
        Self {
            inner,
            tx_errors: 0,
        }
    }

    /// The wrapped device.
    pub const fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub const fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// Unwraps the device.
    pub fn into_inner(self) -> D {
        self.inner
    }

    /// How many frames smoltcp built that the device refused.
    pub const fn tx_errors(&self) -> u64 {
        self.tx_errors
    }
}

/// smoltcp's receive token for [`SmoltcpDevice`]: a frame already taken from the device.
#[derive(Debug)]
pub struct SmoltcpRxToken {
    frame: Vec<u8>,
}

impl phy::RxToken for SmoltcpRxToken {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(&self.frame)
    }
}

/// smoltcp's transmit token for [`SmoltcpDevice`]: sends the frame when consumed.
#[derive(Debug)]
pub struct SmoltcpTxToken<'a, D> {
    device: &'a mut D,
    tx_errors: &'a mut u64,
    now_us: u64,
}

impl<D: FrameDevice> phy::TxToken for SmoltcpTxToken<'_, D> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut frame = vec![0; len];
        let result = f(&mut frame);
        if self.device.send_frame(&frame, self.now_us).is_err() {
            *self.tx_errors += 1;
        }
        result
    }
}

impl<D: FrameDevice> phy::Device for SmoltcpDevice<D> {
    type RxToken<'a>
        = SmoltcpRxToken
    where
        Self: 'a;
    type TxToken<'a>
        = SmoltcpTxToken<'a, D>
    where
        Self: 'a;

    fn receive(&mut self, timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let now_us = micros(timestamp);
        let frame = self.inner.recv_frame(now_us)?;
        Some((
            SmoltcpRxToken { frame },
            SmoltcpTxToken {
                device: &mut self.inner,
                tx_errors: &mut self.tx_errors,
                now_us,
            },
        ))
    }

    fn transmit(&mut self, timestamp: Instant) -> Option<Self::TxToken<'_>> {
        Some(SmoltcpTxToken {
            device: &mut self.inner,
            tx_errors: &mut self.tx_errors,
            now_us: micros(timestamp),
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.inner.max_frame_len();
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::phy::{Device, RxToken, TxToken};

    /// A loopback device holding frames in a queue.
    #[derive(Default)]
    struct Loop {
        frames: std::collections::VecDeque<Vec<u8>>,
    }

    impl FrameDevice for Loop {
        fn send_frame(&mut self, frame: &[u8], _now_us: u64) -> Result<(), DeviceError> {
            if frame.len() > 100 {
                return Err(DeviceError::FrameTooLong {
                    len: frame.len(),
                    max: 100,
                });
            }
            self.frames.push_back(frame.to_vec());
            Ok(())
        }

        fn recv_frame(&mut self, _now_us: u64) -> Option<Vec<u8>> {
            self.frames.pop_front()
        }

        fn max_frame_len(&self) -> usize {
            100
        }
    }

    #[test]
    fn tokens_move_frames_and_count_refusals() {
        let mut dev = SmoltcpDevice::new(Loop::default());
        assert_eq!(dev.capabilities().max_transmission_unit, 100);
        assert_eq!(dev.capabilities().medium, Medium::Ethernet);
        let now = Instant::from_micros(5);
        let tx = dev.transmit(now).expect("always ready");
        tx.consume(3, |buf| buf.copy_from_slice(&[1, 2, 3]));
        let tx = dev.transmit(now).expect("always ready");
        tx.consume(200, |_| ());
        assert_eq!(dev.tx_errors(), 1);
        let (rx, _tx) = dev.receive(now).expect("one frame queued");
        assert_eq!(rx.consume(<[u8]>::to_vec), vec![1, 2, 3]);
        assert!(dev.receive(now).is_none());
        assert_eq!(micros(Instant::from_micros(-3)), 0);
        assert!(dev.inner().frames.is_empty());
        assert!(dev.inner_mut().frames.is_empty());
        assert_eq!(
            DeviceError::FrameTooShort { len: 3 }.to_string(),
            "frame of 3 bytes is shorter than an Ethernet header"
        );
    }
}
