//! The library-OS stack on the wall clock: a [`Runner`] drives a [`NetStack`] over a device
//! that can wait for frames ([`WaitDevice`]: a TAP device, perhaps wrapped in fault
//! injection or pcap recording). Each [`turn`](Runner::turn) reads every frame waiting (a
//! batch) and runs the timers; the application then acts through the stack's calls, and
//! [`send`](Runner::send) answers the batch (one ACK for it, carried by the application's
//! data when it sent some) and sends what the stack queued; [`wait`](Runner::wait) sleeps
//! until a frame arrives or the next timer is due, and reads that frame for the next turn (on
//! a TAP device the wait is the read itself: [`WaitDevice::wait_recv`]; after a turn that read
//! half a batch or more it first spins for a few microseconds, [`Runner::spin`]). The
//! in-order data frames of a batch are coalesced into one segment before the stack sees them
//! ([`crate::offload`]), as the kernel's GRO does. Frames are read straight into one buffer
//! of the device's [`max_recv_len`](FrameDevice::max_recv_len), allocated and cleared once —
//! or, while a segment is being coalesced, straight into the segment where their payload
//! belongs ([`Coalescer::read_in_place`]): a data frame that continues it is merged without a
//! copy. A batch is at most 16 frames ([`Runner::batch`]), so that a sender whose frames
//! arrive without a pause still gets an ACK every 16 frames.
//!
//! `send` may be called as often as the application likes: one that writes much (a bulk
//! sender, 64 KiB at a time) calls it after each write, so that the segments leave while
//! their data is still in the cache — the kernel copies it from there — instead of after a
//! whole turn's worth of writes (on this project's machine that is ~6–10 % more throughput
//! sending over TAP; `docs/BENCHMARKS.md`).

use std::io;
use std::time::{Duration, Instant};

use crate::device::FrameDevice;
use crate::netstack::{NetStack, TcpHandler, verify_tcp_checksum};
use crate::offload::{Coalescer, InPlace, PSH, tcp_data_frame};
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

    /// Waits like [`wait`](Self::wait) and reads the frame that ended the wait into `buf`
    /// (at least [`max_recv_len`](FrameDevice::max_recv_len) bytes): its length, or `None`
    /// when the wait ended without one. A TAP device waits in the read itself (one system
    /// call, where `wait` and then a read make two).
    ///
    /// # Errors
    ///
    /// The device failed.
    fn wait_recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
        now_us: u64,
    ) -> io::Result<Option<usize>> {
        if !timeout.is_zero() && !self.wait(timeout)? {
            return Ok(None);
        }
        Ok(self.recv_into(buf, now_us))
    }

    /// The device stops waiting for now (its runner hands it back): whatever a wait left
    /// set to end the next one early is cancelled. Nothing by default.
    fn end_waits(&mut self) {}
}

impl WaitDevice for TapDevice {
    fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        TapDevice::wait(self, Some(timeout))
    }

    fn wait_recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
        _now_us: u64,
    ) -> io::Result<Option<usize>> {
        TapDevice::wait_recv(self, buf, timeout)
    }

    fn end_waits(&mut self) {
        self.disarm_alarm();
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

    fn end_waits(&mut self) {
        self.inner_mut().end_waits();
    }
}

impl<D: WaitDevice, W: std::io::Write> WaitDevice for Tap<'_, D, W> {
    fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        self.inner_mut().wait(timeout)
    }

    fn end_waits(&mut self) {
        self.inner_mut().end_waits();
    }
}

/// Whether a TCP/IPv4 frame's IPv4 header and TCP checksums are right (the frame is one
/// [`tcp_data_frame`] accepts: a 20-byte IPv4 header, lengths consistent).
fn checksums_hold(frame: &[u8]) -> bool {
    const ETH: usize = crate::wire::ETHERNET_HEADER_LEN;
    let ip = &frame[ETH..];
    let addr = |at: usize| core::net::Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
    prolac_runtime::checksum::checksum(&ip[..20]) == 0
        && verify_tcp_checksum(addr(12), addr(16), &ip[20..])
}

/// Hands the segment `gro` is coalescing to the stack (its frames' checksums were checked),
/// counting the frames merged and the segments they became in `counts`.
fn deliver_coalesced<H: TcpHandler>(
    gro: &mut Coalescer,
    counts: &mut (u64, u64),
    stack: &mut NetStack<H>,
    now: u64,
) {
    if let Some(c) = gro.take() {
        if c.frames > 1 {
            counts.0 += c.frames;
            counts.1 += 1;
        }
        stack.receive_frame_trusted(c.frame(), now, true);
        gro.give_back(c);
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
    /// Frames read in one turn at most (16 by default), so that timers and the application
    /// get their turn under a flood, and so that a sender whose frames keep coming gets an
    /// ACK every so many frames (the batch's answer): the do-nothing endpoint of
    /// `prolac-bench` acknowledges every 16 frames of a long batch too. The kernel's TCP
    /// sending over TAP is held by its congestion window; the sooner its data is
    /// acknowledged, the faster it goes. Measured receiving from it, 256 MiB a transfer
    /// (`docs/BENCHMARKS.md`): 16 gave 1.09 times 64's throughput and 1.085 times 32's; 12
    /// and 20 the same as 16, 24 gave 0.93 of it (the CPU time per byte is the same).
    pub batch: usize,
    /// How long a wait after a busy turn (one that read at least half a batch: the peer is
    /// streaming) first spins on the device, reading without blocking, before it sleeps in
    /// the read (15 µs by default; zero: never). A frame a few microseconds away is then
    /// taken without the thread going to sleep — and without the sender's CPU having to
    /// wake it, which on a virtual machine that halts idle CPUs at once costs the sender
    /// more than the frame. A lone request (a turn of one frame) never spins. Measured
    /// receiving from the kernel over TAP (`docs/BENCHMARKS.md`): 1.047 times the throughput
    /// of sleeping at once, the stack's CPU per byte 2 % higher; sending, the same.
    pub spin: Duration,
    /// Frames read by the last turn.
    last_read: usize,
    /// Frames the device refused (too long): the stack counts them too.
    pub refused: u64,
    /// Merge the in-order data frames of a batch before the stack sees them (on by
    /// default; see [`crate::offload`]).
    pub coalesce: bool,
    gro: Coalescer,
    /// Frames merged with others, and the segments (of more than one frame) they became.
    pub coalesced: (u64, u64),
    /// The length of a frame in `frame` that [`wait`](Self::wait) read and the next turn takes
    /// first.
    pending: Option<usize>,
}

impl<D: WaitDevice> Runner<D> {
    /// A runner over `device`.
    pub fn new(device: D) -> Self {
        Self {
            device,
            clock: Clock::process(),
            frame: Vec::new(),
            batch: 16,
            spin: Duration::from_micros(15),
            last_read: 0,
            refused: 0,
            coalesce: true,
            gro: Coalescer::new(true),
            coalesced: (0, 0),
            pending: None,
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

    /// Unwraps the device, its waits ended ([`WaitDevice::end_waits`]: a TAP device's
    /// thread alarm no longer interrupts the thread).
    pub fn into_device(mut self) -> D {
        self.device.end_waits();
        self.device
    }

    /// Now, on the runner's clock.
    #[must_use]
    pub fn now_us(&self) -> u64 {
        self.clock.now_us()
    }

    /// Reads the frames waiting (up to [`batch`](Self::batch)) and runs the timers. The
    /// in-order data frames of one connection that follow each other in the batch reach the
    /// stack as one segment (each frame's checksums checked first), so that the TCP runs once
    /// for them. A data frame with PSH ends the batch: what follows it (if anything) is read
    /// next turn, so that a lone request is answered without first reading the empty queue.
    /// The batch is answered by [`send`](Self::send), after the application has acted, so
    /// that data it sends at once carries the batch's ACK. Returns the time of the turn and
    /// how many frames were read.
    pub fn turn<H: TcpHandler>(&mut self, stack: &mut NetStack<H>) -> (u64, usize) {
        let now = self.now_us();
        let mut read = 0;
        // Sized once (and zeroed once): frames are read straight into it.
        let need = self.device.max_recv_len();
        if self.frame.len() < need {
            self.frame.resize(need, 0);
        }
        // The frame that ended the last wait comes first.
        let mut push = match self.pending.take() {
            Some(n) => {
                read += 1;
                self.take_frame(n, stack, now)
            }
            None => false,
        };
        while !push && read < self.batch {
            if self.coalesce {
                // While a segment is being merged, the next frame is read into it, where its
                // payload goes if it continues the segment: merged without a copy.
                let device = &mut self.device;
                let largest = device.max_frame_len();
                // What the device says of the frame it has just read.
                let trusted = core::cell::Cell::new(false);
                let got = self.gro.read_in_place(
                    need,
                    &mut self.frame,
                    |buf| {
                        let n = device.recv_into(buf, now);
                        trusted.set(device.rx_checksum_trusted());
                        n
                    },
                    |f| f.len() <= largest && (trusted.get() || checksums_hold(f)),
                );
                match got {
                    InPlace::Unavailable => {}
                    InPlace::Empty => break,
                    InPlace::Merged(p) => {
                        read += 1;
                        push = p;
                        continue;
                    }
                    InPlace::Apart(n) => {
                        read += 1;
                        push = self.take_frame(n, stack, now);
                        continue;
                    }
                }
            }
            let Some(n) = self.device.recv_into(&mut self.frame, now) else {
                break;
            };
            read += 1;
            // The batch ends at a push: the answer goes out before the queue is looked at
            // again (the next wait finds any frame behind it at once), which saves the read
            // that would find the queue empty after a lone request.
            push = self.take_frame(n, stack, now);
        }
        deliver_coalesced(&mut self.gro, &mut self.coalesced, stack, now);
        stack.run_timers(now);
        self.last_read = read;
        (now, read)
    }

    /// Hands the frame of `n` bytes in `frame` to the stack, or to the coalescer; whether it
    /// was data with PSH.
    fn take_frame<H: TcpHandler>(&mut self, n: usize, stack: &mut NetStack<H>, now: u64) -> bool {
        let trusted = self.device.rx_checksum_trusted();
        let frame = &self.frame[..n];
        let parts = if self.coalesce && n <= self.device.max_frame_len() {
            tcp_data_frame(frame).filter(|_| trusted || checksums_hold(frame))
        } else {
            None
        };
        // Data with PSH ends what the sender had to say for now (a request, the end of a
        // write): likely nothing is behind it.
        let push = parts.is_some_and(|p| frame[p.tcp_at + 13] & PSH != 0);
        match parts {
            // Nothing to merge it with: it goes as it came.
            Some(_) if push && self.gro.is_empty() => {
                stack.receive_frame_trusted(frame, now, true);
            }
            Some(parts) => {
                if !self.gro.offer_parsed(frame, parts) {
                    deliver_coalesced(&mut self.gro, &mut self.coalesced, stack, now);
                    // An empty coalescer takes any data frame.
                    self.gro.offer_parsed(frame, parts);
                }
            }
            None => {
                deliver_coalesced(&mut self.gro, &mut self.coalesced, stack, now);
                stack.receive_frame_trusted(frame, now, trusted);
            }
        }
        push
    }

    /// Ends the receive batch (the answers the connections deferred go now, unless data the
    /// application sent carried them) and sends every frame the stack has queued.
    pub fn send<H: TcpHandler>(&mut self, stack: &mut NetStack<H>) {
        let now = self.now_us();
        stack.flush(now);
        while let Some(out) = stack.pop_segment() {
            let sent = if out.cut == 0 && out.gathered().is_empty() {
                self.device.send_frame(&out.frame, now)
            } else {
                let segment = (out.frame.as_slice(), out.gathered());
                self.device
                    .send_segmented(segment, out.cut, out.sums(), now)
            };
            if sent.is_err() {
                self.refused += 1;
            }
            stack.recycle(out.frame);
        }
        self.device.flush(now);
    }

    /// Waits for a frame, the stack's next timer, or `most` — whichever comes first — and
    /// reads the frame that ends the wait (the next [`turn`](Self::turn) takes it first): on a
    /// TAP device the wait is the read itself, so that a server answering one request at a
    /// time makes two system calls per request (its answer's write, and this), as a blocking
    /// server on the kernel's sockets does. After a busy turn it spins first
    /// ([`spin`](Self::spin)).
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
        if self.pending.is_some() {
            // A frame read by the last wait is still to be taken: nothing to wait for.
            return Ok(());
        }
        let need = self.device.max_recv_len();
        if self.frame.len() < need {
            self.frame.resize(need, 0);
        }
        if !self.spin.is_zero() && 2 * self.last_read >= self.batch.max(1) {
            let until = Instant::now() + self.spin.min(timeout);
            loop {
                if let Some(n) = self.device.recv_into(&mut self.frame, now) {
                    self.pending = Some(n);
                    return Ok(());
                }
                if Instant::now() >= until {
                    break;
                }
                core::hint::spin_loop();
            }
        }
        self.pending = self.device.wait_recv(&mut self.frame, timeout, now)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::net::Ipv4Addr;

    use smoltcp::wire::EthernetAddress;

    use super::*;
    use crate::device::DeviceError;
    use crate::netstack::{FourTuple, NetConfig, TcpContext, TcpSegment, fill_tcp_checksum};

    const US: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
    const PEER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

    /// Frames to read, in order; what is sent is dropped.
    struct Script(VecDeque<Vec<u8>>);

    impl FrameDevice for Script {
        fn send_frame(&mut self, _frame: &[u8], _now_us: u64) -> Result<(), DeviceError> {
            Ok(())
        }
        fn recv_frame(&mut self, _now_us: u64) -> Option<Vec<u8>> {
            self.0.pop_front()
        }
        fn max_frame_len(&self) -> usize {
            1514
        }
    }

    impl WaitDevice for Script {
        fn wait(&mut self, _timeout: Duration) -> io::Result<bool> {
            Ok(!self.0.is_empty())
        }
    }

    /// Frames to read, the next one `misses` empty reads away; counts the waits that would
    /// have put the thread to sleep.
    struct Trickle {
        frames: VecDeque<Vec<u8>>,
        misses: usize,
        sleeps: usize,
    }

    impl FrameDevice for Trickle {
        fn send_frame(&mut self, _frame: &[u8], _now_us: u64) -> Result<(), DeviceError> {
            Ok(())
        }
        fn recv_frame(&mut self, _now_us: u64) -> Option<Vec<u8>> {
            if self.misses > 0 {
                self.misses -= 1;
                return None;
            }
            self.frames.pop_front()
        }
        fn max_frame_len(&self) -> usize {
            1514
        }
    }

    impl WaitDevice for Trickle {
        fn wait(&mut self, _timeout: Duration) -> io::Result<bool> {
            self.sleeps += 1;
            self.misses = 0;
            Ok(!self.frames.is_empty())
        }
    }

    /// Records each segment it is handed: (flags, sequence number, ACK, data), and the data.
    #[derive(Default)]
    struct Recorder(Vec<(u8, u32, u32, usize)>, Vec<u8>);

    impl TcpHandler for Recorder {
        fn segment(&mut self, segment: &TcpSegment<'_>, _ctx: &mut TcpContext<Self>) {
            let h = segment.header();
            let word = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
            self.0
                .push((h[13], word(4), word(8), segment.payload().len()));
            self.1.extend_from_slice(segment.payload());
        }
    }

    /// A frame from the peer's port `port` with `flags`, `data`, and `options`.
    fn frame(port: u16, flags: u8, (seq, ack): (u32, u32), data: &[u8], options: &[u8]) -> Vec<u8> {
        let tcp_len = 20 + options.len();
        let mut f = vec![0u8; 34 + tcp_len + data.len()];
        f[..6].copy_from_slice(&MAC);
        f[6..12].copy_from_slice(&PEER_MAC);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut f[14..];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&((20 + tcp_len + data.len()) as u16).to_be_bytes());
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&PEER.octets());
        ip[16..20].copy_from_slice(&US.octets());
        let sum = prolac_runtime::checksum::checksum(&ip[..20]);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        let tcp = &mut ip[20..];
        tcp[0..2].copy_from_slice(&port.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        tcp[12] = ((tcp_len / 4) as u8) << 4;
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&1000u16.to_be_bytes());
        tcp[20..tcp_len].copy_from_slice(options);
        tcp[tcp_len..].copy_from_slice(data);
        fill_tcp_checksum(PEER, US, tcp).expect("a whole header");
        f
    }

    const ACK: u8 = 0x10;
    const TIMESTAMPS: [u8; 12] = [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7];

    #[test]
    fn a_batch_of_data_frames_reaches_the_tcp_merged_and_read_in_place() {
        let key = FourTuple {
            local_ip: US,
            local_port: 80,
            remote_ip: PEER,
            remote_port: 1000,
        };
        let mut stack = NetStack::<Recorder>::new(NetConfig::new(EthernetAddress(MAC), US))
            .expect("a valid configuration");
        stack.register(key, Recorder::default());
        let data: Vec<u8> = (0..7 * 1448u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let piece = |i: usize| &data[i * 1448..(i + 1) * 1448];
        let seq = |i: usize| 5000 + 1448 * i as u32;
        let d = |i: usize, flags: u8| frame(1000, flags, (seq(i), 9), piece(i), &TIMESTAMPS);
        let mut corrupt = d(3, ACK);
        corrupt[200] ^= 0x40;
        let frames = vec![
            d(0, ACK),
            d(1, ACK), // read in place behind the first, and so on
            d(2, ACK),
            corrupt,   // handed back: the stack drops it
            d(3, ACK), // the same again, intact: a new segment
            d(4, ACK),
            frame(1000, ACK, (seq(5), 10), &[], &TIMESTAMPS), // a pure ACK ends the run
            d(5, ACK),
            d(6, ACK | PSH), // a push ends the run and the batch
        ];
        let count = frames.len();
        let mut runner = Runner::new(Script(frames.into()));
        let mut read = 0;
        while read < count {
            read += runner.turn(&mut stack).1;
        }
        let got = &stack.handler(&key).expect("registered");
        assert_eq!(
            got.0,
            [
                (ACK, seq(0), 9, 3 * 1448),
                (ACK, seq(3), 9, 2 * 1448),
                (ACK, seq(5), 10, 0),
                (ACK | PSH, seq(5), 9, 2 * 1448),
            ]
        );
        assert_eq!(got.1, data, "every byte, in order");
        assert_eq!(runner.coalesced, (7, 3));
        assert_eq!(stack.stats().rx_bad_tcp_checksum, 1);
    }

    #[test]
    fn a_wait_after_a_busy_turn_spins_before_it_sleeps_and_one_after_a_request_does_not() {
        let mut stack = NetStack::<Recorder>::new(NetConfig::new(EthernetAddress(MAC), US))
            .expect("a valid configuration");
        let ack = frame(1000, ACK, (5000, 9), &[], &[]);
        let device = Trickle {
            frames: vec![ack; 40].into(),
            misses: 0,
            sleeps: 0,
        };
        let mut runner = Runner::new(device);
        let most = Duration::from_millis(5);
        // A full batch: the peer is streaming. Its next frame, three empty reads away, is
        // taken by the spin; the thread never sleeps.
        assert_eq!(runner.turn(&mut stack).1, runner.batch);
        runner.device_mut().misses = 3;
        runner.wait(&stack, most).expect("a wait");
        assert_eq!(runner.device().sleeps, 0, "slept after a busy turn");
        assert!(runner.pending.is_some(), "the spin read the frame");
        // A turn of one frame (the one the wait read): a request; the wait sleeps at once.
        runner.device_mut().misses = 1_000_000;
        assert_eq!(runner.turn(&mut stack).1, 1);
        runner.device_mut().misses = 3;
        runner.wait(&stack, most).expect("a wait");
        assert_eq!(runner.device().sleeps, 1);
        // Spinning off: a busy turn's wait sleeps too.
        runner.spin = Duration::ZERO;
        assert_eq!(runner.turn(&mut stack).1, runner.batch);
        runner.device_mut().misses = 3;
        runner.wait(&stack, most).expect("a wait");
        assert_eq!(runner.device().sleeps, 2);
    }
}
