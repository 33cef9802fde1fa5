//! Fault injection for any device: [`FaultyDevice`] puts one direction of the wire's fault
//! model ([`LinkConfig`]: loss, duplication, reordering, corruption, latency, rate) on each way
//! through another [`FrameDevice`] — the same model, drawn from a seed, that the in-memory
//! wire applies, so that a run over a TAP device can be as lossy as one over the wire.

use core::cmp::Reverse;
use std::collections::BinaryHeap;

use super::config::LinkConfig;
use super::link::{Fate, Link};
use super::stats::LinkStats;
use crate::device::{DeviceError, FrameDevice};
use crate::rng::SplitMix64;

/// Frames held until their arrival time, in order (then in the order they were offered).
type Held = BinaryHeap<Reverse<(u64, u64, Vec<u8>)>>;

/// A [`FrameDevice`] whose frames suffer `inbound` faults on the way in and `outbound` faults
/// on the way out. Times are the caller's (`now_us`), as for every device.
#[derive(Debug)]
pub struct FaultyDevice<D> {
    inner: D,
    inbound: Link,
    outbound: Link,
    arriving: Held,
    leaving: Held,
    order: u64,
}

impl<D: FrameDevice> FaultyDevice<D> {
    /// Wraps `inner`; the two directions draw from streams derived from `seed`.
    pub fn new(inner: D, inbound: LinkConfig, outbound: LinkConfig, seed: u64) -> Self {
        let mut seeds = SplitMix64::new(seed);
        Self {
            inner,
            inbound: Link::new(inbound, SplitMix64::new(seeds.next_u64())),
            outbound: Link::new(outbound, SplitMix64::new(seeds.next_u64())),
            arriving: BinaryHeap::new(),
            leaving: BinaryHeap::new(),
            order: 0,
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

    /// What the inbound direction did (frames offered, lost, duplicated, …).
    pub const fn inbound_stats(&self) -> &LinkStats {
        &self.inbound.stats
    }

    /// What the outbound direction did.
    pub const fn outbound_stats(&self) -> &LinkStats {
        &self.outbound.stats
    }

    /// When the next held frame is due (to be delivered or sent), if any is held.
    pub fn next_event_at(&self) -> Option<u64> {
        let first = |h: &Held| h.peek().map(|Reverse((t, _, _))| *t);
        [first(&self.arriving), first(&self.leaving)]
            .into_iter()
            .flatten()
            .min()
    }

    fn hold(held: &mut Held, order: &mut u64, link: &mut Link, frame: &[u8], now_us: u64) {
        let Fate::Delivered {
            arrival_us,
            copies,
            flip_bit,
        } = link.offer(frame.len(), now_us)
        else {
            return;
        };
        let mut copy = frame.to_vec();
        if let Some(bit) = flip_bit
            && let Some(byte) = copy.get_mut(bit / 8)
        {
            *byte ^= 1 << (bit % 8);
        }
        for _ in 0..copies {
            *order += 1;
            held.push(Reverse((arrival_us, *order, copy.clone())));
        }
    }

    /// Sends every outbound frame due by `now_us`.
    fn send_due(&mut self, now_us: u64) {
        while self
            .leaving
            .peek()
            .is_some_and(|Reverse((t, _, _))| *t <= now_us)
        {
            if let Some(Reverse((_, _, frame))) = self.leaving.pop() {
                // The frame was checked against the device's limits when it was offered.
                let _ = self.inner.send_frame(&frame, now_us);
            }
        }
    }
}

impl<D: FrameDevice> FrameDevice for FaultyDevice<D> {
    fn send_frame(&mut self, frame: &[u8], now_us: u64) -> Result<(), DeviceError> {
        if frame.len() > self.inner.max_frame_len() {
            return Err(DeviceError::FrameTooLong {
                len: frame.len(),
                max: self.inner.max_frame_len(),
            });
        }
        Self::hold(
            &mut self.leaving,
            &mut self.order,
            &mut self.outbound,
            frame,
            now_us,
        );
        self.send_due(now_us);
        Ok(())
    }

    fn recv_frame(&mut self, now_us: u64) -> Option<Vec<u8>> {
        self.send_due(now_us);
        while let Some(mut frame) = self.inner.recv_frame(now_us) {
            // Held frames lose the inner device's word for their checksum: a checksum it
            // vouched for (perhaps left undone) is made whole, so that corruption shows.
            if self.inner.rx_checksum_trusted() {
                complete_tcp_checksum(&mut frame);
            }
            Self::hold(
                &mut self.arriving,
                &mut self.order,
                &mut self.inbound,
                &frame,
                now_us,
            );
        }
        if self
            .arriving
            .peek()
            .is_some_and(|Reverse((t, _, _))| *t <= now_us)
        {
            return self.arriving.pop().map(|Reverse((_, _, frame))| frame);
        }
        None
    }

    fn flush(&mut self, now_us: u64) {
        self.send_due(now_us);
        self.inner.flush(now_us);
    }

    fn max_frame_len(&self) -> usize {
        self.inner.max_frame_len()
    }

    fn max_recv_len(&self) -> usize {
        self.inner.max_recv_len()
    }
}

/// Computes the TCP checksum of a TCP/IPv4 frame afresh (other frames are left alone).
fn complete_tcp_checksum(frame: &mut [u8]) {
    const ETH: usize = crate::wire::ETHERNET_HEADER_LEN;
    if frame.len() < ETH + 20 || frame[12..14] != [0x08, 0x00] || frame[ETH + 9] != 6 {
        return;
    }
    let ihl = usize::from(frame[ETH] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([frame[ETH + 2], frame[ETH + 3]]));
    let addr = |at: usize| {
        core::net::Ipv4Addr::new(frame[at], frame[at + 1], frame[at + 2], frame[at + 3])
    };
    let (src, dst) = (addr(ETH + 12), addr(ETH + 16));
    if let Some(segment) = frame.get_mut(ETH + ihl..ETH + total) {
        let _ = crate::netstack::fill_tcp_checksum(src, dst, segment);
    }
}
