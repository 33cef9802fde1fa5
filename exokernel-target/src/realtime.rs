//! The library-OS stack on the wall clock: a [`Runner`] drives a [`NetStack`] over a device
//! that can wait for frames ([`WaitDevice`]: a TAP device, perhaps wrapped in fault
//! injection or pcap recording). Each [`turn`](Runner::turn) reads every frame waiting (a
//! batch) and runs the timers; the application then acts through the stack's calls, and
//! [`send`](Runner::send) answers the batch (one ACK for it, carried by the application's
//! data when it sent some) and sends what the stack queued; [`wait`](Runner::wait) sleeps
//! until a frame arrives or the next timer is due.

use std::io;
use std::time::{Duration, Instant};

use crate::device::FrameDevice;
use crate::netstack::{NetStack, TcpHandler};
use crate::pcap::Tap;
use crate::tap::TapDevice;
use crate::wire::FaultyDevice;

/// A frame device that can wait for its next frame.
pub trait WaitDevice: FrameDevice {
    /// Waits until a frame may be read or `timeout` passes; whether one may.
    ///
    /// # Errors
    ///
    /// The device failed.
    fn wait(&mut self, timeout: Duration) -> io::Result<bool>;
}

impl WaitDevice for TapDevice {
    fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        TapDevice::wait(self, Some(timeout))
    }
}

impl<D: WaitDevice> WaitDevice for FaultyDevice<D> {
    fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        // Frames held back by the faults are due on the clock, not on the descriptor.
        let now = Clock::process().now_us();
        let timeout = match self.next_event_at() {
            Some(t) => timeout.min(Duration::from_micros(t.saturating_sub(now))),
            None => timeout,
        };
        self.inner_mut().wait(timeout)
    }
}

impl<D: WaitDevice, W: std::io::Write> WaitDevice for Tap<'_, D, W> {
    fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        self.inner_mut().wait(timeout)
    }
}

/// Microseconds since a fixed start: the time every device and stack of a run is given.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    /// The process's clock, started on first use (so that everything in a process agrees).
    #[must_use]
    pub fn process() -> Clock {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        Clock {
            start: *START.get_or_init(Instant::now),
        }
    }

    /// Now, in microseconds since the start.
    #[must_use]
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// Drives a stack over a device on the wall clock.
#[derive(Debug)]
pub struct Runner<D> {
    device: D,
    clock: Clock,
    /// The frame being read: one allocation, reused.
    frame: Vec<u8>,
    /// Frames read in one turn at most, so that timers and the application get their turn
    /// under a flood.
    pub batch: usize,
    /// Frames the device refused (too long): the stack counts them too.
    pub refused: u64,
}

impl<D: WaitDevice> Runner<D> {
    /// A runner over `device`.
    pub fn new(device: D) -> Self {
        Self {
            device,
            clock: Clock::process(),
            frame: Vec::new(),
            batch: 256,
            refused: 0,
        }
    }

    /// The device.
    pub const fn device(&self) -> &D {
        &self.device
    }

    /// The device, mutably.
    pub const fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// Unwraps the device.
    pub fn into_device(self) -> D {
        self.device
    }

    /// Now, on the runner's clock.
    #[must_use]
    pub fn now_us(&self) -> u64 {
        self.clock.now_us()
    }

    /// Reads the frames waiting (up to [`batch`](Self::batch)) and runs the timers. The batch
    /// is answered by [`send`](Self::send), after the application has acted, so that data it
    /// sends at once carries the batch's ACK. Returns the time of the turn and how many frames
    /// were read.
    pub fn turn<H: TcpHandler>(&mut self, stack: &mut NetStack<H>) -> (u64, usize) {
        let now = self.now_us();
        let mut read = 0;
        while read < self.batch && self.device.recv_into(&mut self.frame, now) {
            let trusted = self.device.rx_checksum_trusted();
            stack.receive_frame_trusted(&self.frame, now, trusted);
            read += 1;
        }
        stack.run_timers(now);
        (now, read)
    }

    /// Ends the receive batch (the answers the connections deferred go now, unless data the
    /// application sent carried them) and sends every frame the stack has queued.
    pub fn send<H: TcpHandler>(&mut self, stack: &mut NetStack<H>) {
        let now = self.now_us();
        stack.flush(now);
        while let Some(frame) = stack.pop_frame() {
            if self.device.send_frame(&frame, now).is_err() {
                self.refused += 1;
            }
        }
        self.device.flush(now);
    }

    /// Waits for a frame, the stack's next timer, or `most` — whichever comes first.
    ///
    /// # Errors
    ///
    /// The device failed.
    pub fn wait<H: TcpHandler>(&mut self, stack: &NetStack<H>, most: Duration) -> io::Result<()> {
        let now = self.now_us();
        let timeout = match stack.poll_at() {
            Some(t) if t <= now => return Ok(()),
            Some(t) => most.min(Duration::from_micros(t - now)),
            None => most,
        };
        self.device.wait(timeout).map(|_| ())
    }
}
