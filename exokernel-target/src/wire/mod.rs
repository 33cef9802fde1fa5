//! An in-memory Ethernet segment with seeded fault injection, driven by a virtual clock.
//!
//! A [`Wire`] connects two or more endpoints. A frame sent by one endpoint is offered to
//! every other endpoint through that direction's link, which may delay, rate-limit, queue,
//! lose, corrupt, reorder or duplicate it (see [`LinkConfig`] for the exact model). The wire
//! never reads a clock: every call takes the current virtual time in microseconds, and
//! [`Wire::next_event_at`] tells a driver when the next frame arrives so that it can jump
//! the clock there.
//!
//! # Promises
//!
//! - **Deterministic.** The frames delivered, their order, their contents and their times
//!   are a function of the configuration (seed included) and of the sequence of calls. Each
//!   direction draws from its own random stream, so traffic in one direction never changes
//!   what happens to the other.
//! - **Ordered delivery per arrival time.** An endpoint receives frames in order of arrival
//!   time, and frames arriving at the same time in the order they were sent.
//! - **No panics** on any frame contents or times.
//!
//! ```
//! use exokernel_target::wire::{EndId, Wire, WireConfig};
//!
//! let mut wire = Wire::new(WireConfig::new(7, 2))?;
//! let frame = [0u8; 60];
//! wire.send(EndId::A, &frame, 0)?;
//! assert_eq!(wire.next_event_at(), Some(0));
//! assert_eq!(wire.recv(EndId::B, 0), Some(frame.to_vec()));
//! assert_eq!(wire.recv(EndId::A, 0), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod faulty;
mod link;
mod stats;

use core::cmp::{Ordering, Reverse};
use core::fmt;
use std::collections::BinaryHeap;

pub use config::{
    ConfigError, DEFAULT_MAX_FRAME_LEN, ETHERNET_HEADER_LEN, EndId, LinkConfig, MAX_ENDS,
    WireConfig,
};
pub use faulty::FaultyDevice;
pub use stats::LinkStats;

use crate::device::{DeviceError, FrameDevice};
use crate::rng::SplitMix64;
use link::{Fate, Link};

/// Why the wire refused a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The endpoint does not exist.
    UnknownEnd {
        /// The endpoint named.
        end: EndId,
        /// How many endpoints the wire has.
        ends: usize,
    },
    /// The frame cannot be carried (too long or too short).
    Frame(DeviceError),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownEnd { end, ends } => {
                write!(f, "{end} does not exist on a wire with {ends} endpoints")
            }
            Self::Frame(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for WireError {}

impl From<DeviceError> for WireError {
    fn from(e: DeviceError) -> Self {
        Self::Frame(e)
    }
}

/// A frame on its way to an endpoint.
#[derive(Debug)]
struct InFlight {
    arrival_us: u64,
    /// Global send order: breaks ties between equal arrival times.
    seq: u64,
    /// The index of the direction that carries it.
    link: usize,
    frame: Vec<u8>,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for InFlight {}

impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.arrival_us, self.seq).cmp(&(other.arrival_us, other.seq))
    }
}

/// An in-memory Ethernet segment between endpoints; see the [module documentation](self).
#[derive(Debug)]
pub struct Wire {
    config: WireConfig,
    /// Directions indexed `from * ends + to`; the diagonal is never used.
    links: Vec<Link>,
    /// Frames on their way to each endpoint, earliest first.
    inboxes: Vec<BinaryHeap<Reverse<InFlight>>>,
    next_seq: u64,
    rejected: u64,
}

impl Wire {
    /// A wire as `config` describes it.
    ///
    /// # Errors
    ///
    /// The first problem [`WireConfig::validate`] finds.
    pub fn new(config: WireConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let n = config.ends;
        let mut links = Vec::with_capacity(n * n);
        for from in 0..n {
            for to in 0..n {
                let index = from * n + to;
                let link_config = config.link_config(EndId(from), EndId(to)).clone();
                let rng = SplitMix64::derive(config.seed, index as u64);
                links.push(Link::new(link_config, rng));
            }
        }
        let inboxes = (0..n).map(|_| BinaryHeap::new()).collect();
        Ok(Self {
            config,
            links,
            inboxes,
            next_seq: 0,
            rejected: 0,
        })
    }

    /// The number of endpoints.
    #[must_use]
    pub const fn ends(&self) -> usize {
        self.config.ends
    }

    /// The longest frame the wire carries.
    #[must_use]
    pub const fn max_frame_len(&self) -> usize {
        self.config.max_frame_len
    }

    /// The configuration the wire was built with (direction changes made with
    /// [`set_link`](Self::set_link) are not reflected here; see
    /// [`link_config`](Self::link_config)).
    #[must_use]
    pub const fn config(&self) -> &WireConfig {
        &self.config
    }

    fn check_end(&self, end: EndId) -> Result<usize, WireError> {
        if end.0 < self.config.ends {
            Ok(end.0)
        } else {
            Err(WireError::UnknownEnd {
                end,
                ends: self.config.ends,
            })
        }
    }

    fn link_index(&self, from: EndId, to: EndId) -> Option<usize> {
        self.config.check_direction(from, to).ok()?;
        Some(from.0 * self.config.ends + to.0)
    }

    /// Sends `frame` from endpoint `from` at time `now_us` to every other endpoint.
    ///
    /// # Errors
    ///
    /// [`WireError::UnknownEnd`], or [`WireError::Frame`] when the frame is shorter than an
    /// Ethernet header or longer than [`max_frame_len`](Self::max_frame_len). A refused
    /// frame is counted in [`rejected`](Self::rejected) and goes nowhere. Losses on the way
    /// are not errors.
    pub fn send(&mut self, from: EndId, frame: &[u8], now_us: u64) -> Result<(), WireError> {
        let from = self.check_end(from)?;
        self.send_from(from, frame, now_us)?;
        Ok(())
    }

    /// [`send`](Self::send) for an endpoint known to exist.
    fn send_from(&mut self, from: usize, frame: &[u8], now_us: u64) -> Result<(), DeviceError> {
        let len = frame.len();
        if len > self.config.max_frame_len {
            self.rejected += 1;
            return Err(DeviceError::FrameTooLong {
                len,
                max: self.config.max_frame_len,
            });
        }
        if len < ETHERNET_HEADER_LEN {
            self.rejected += 1;
            return Err(DeviceError::FrameTooShort { len });
        }
        let n = self.config.ends;
        for to in (0..n).filter(|&to| to != from) {
            let index = from * n + to;
            let Some(link) = self.links.get_mut(index) else {
                continue;
            };
            let Fate::Delivered {
                arrival_us,
                copies,
                flip_bit,
            } = link.offer(len, now_us)
            else {
                continue;
            };
            let mut copy = frame.to_vec();
            if let Some(bit) = flip_bit
                && let Some(byte) = copy.get_mut(bit / 8)
            {
                *byte ^= 1 << (bit % 8);
            }
            let Some(inbox) = self.inboxes.get_mut(to) else {
                continue;
            };
            for _ in 0..copies {
                inbox.push(Reverse(InFlight {
                    arrival_us,
                    seq: self.next_seq,
                    link: index,
                    frame: copy.clone(),
                }));
                self.next_seq += 1;
            }
        }
        Ok(())
    }

    /// The next frame that has arrived at endpoint `end` by `now_us`, if any (`None` also
    /// for an endpoint that does not exist).
    pub fn recv(&mut self, end: EndId, now_us: u64) -> Option<Vec<u8>> {
        let inbox = self.inboxes.get_mut(end.0)?;
        if inbox.peek()?.0.arrival_us > now_us {
            return None;
        }
        let Reverse(arrived) = inbox.pop()?;
        if let Some(link) = self.links.get_mut(arrived.link) {
            link.stats.delivered_frames += 1;
            link.stats.delivered_bytes += arrived.frame.len() as u64;
        }
        Some(arrived.frame)
    }

    /// When the next frame arrives at any endpoint (possibly already in the past, if it has
    /// not been received yet); `None` when nothing is on its way.
    #[must_use]
    pub fn next_event_at(&self) -> Option<u64> {
        self.inboxes
            .iter()
            .filter_map(|inbox| inbox.peek().map(|f| f.0.arrival_us))
            .min()
    }

    /// When the next frame arrives at endpoint `end`.
    #[must_use]
    pub fn next_arrival(&self, end: EndId) -> Option<u64> {
        self.inboxes.get(end.0)?.peek().map(|f| f.0.arrival_us)
    }

    /// How many frames are on their way (to any endpoint).
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.inboxes.iter().map(BinaryHeap::len).sum()
    }

    /// How many frames [`send`](Self::send) refused (too long or too short).
    #[must_use]
    pub const fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The counters of direction `from` → `to` (`None` if it is not a direction of this
    /// wire).
    #[must_use]
    pub fn link_stats(&self, from: EndId, to: EndId) -> Option<&LinkStats> {
        Some(&self.links.get(self.link_index(from, to)?)?.stats)
    }

    /// The counters of every direction added up.
    #[must_use]
    pub fn stats(&self) -> LinkStats {
        let mut total = LinkStats::ZERO;
        for link in &self.links {
            total += &link.stats;
        }
        total
    }

    /// The current configuration of direction `from` → `to`.
    #[must_use]
    pub fn link_config(&self, from: EndId, to: EndId) -> Option<&LinkConfig> {
        Some(self.links.get(self.link_index(from, to)?)?.config())
    }

    /// Changes direction `from` → `to` from now on: frames already on their way keep their
    /// fate, and a busy transmitter stays busy.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an unknown direction or an invalid configuration.
    pub fn set_link(
        &mut self,
        from: EndId,
        to: EndId,
        config: LinkConfig,
    ) -> Result<(), ConfigError> {
        self.config.check_direction(from, to)?;
        config.validate()?;
        let index = from.0 * self.config.ends + to.0;
        if let Some(link) = self.links.get_mut(index) {
            link.reconfigure(config);
        }
        Ok(())
    }

    /// Changes both directions between `a` and `b`; see [`set_link`](Self::set_link).
    ///
    /// # Errors
    ///
    /// As [`set_link`](Self::set_link).
    pub fn set_both_ways(
        &mut self,
        a: EndId,
        b: EndId,
        config: LinkConfig,
    ) -> Result<(), ConfigError> {
        self.set_link(a, b, config.clone())?;
        self.set_link(b, a, config)
    }

    /// Endpoint `end` as a [`FrameDevice`], borrowing the wire.
    ///
    /// # Errors
    ///
    /// [`WireError::UnknownEnd`].
    pub fn port(&mut self, end: EndId) -> Result<Port<'_>, WireError> {
        let index = self.check_end(end)?;
        Ok(Port { wire: self, index })
    }
}

/// One endpoint of a [`Wire`] as a [`FrameDevice`] (see [`Wire::port`]).
///
/// A port borrows the wire, so a driver makes one per step:
/// `stack.drive(&mut wire.port(EndId::A)?, now)`.
#[derive(Debug)]
pub struct Port<'w> {
    wire: &'w mut Wire,
    index: usize,
}

impl Port<'_> {
    /// The endpoint this port is.
    #[must_use]
    pub const fn end(&self) -> EndId {
        EndId(self.index)
    }
}

impl FrameDevice for Port<'_> {
    fn send_frame(&mut self, frame: &[u8], now_us: u64) -> Result<(), DeviceError> {
        self.wire.send_from(self.index, frame, now_us)
    }

    fn recv_frame(&mut self, now_us: u64) -> Option<Vec<u8>> {
        self.wire.recv(EndId(self.index), now_us)
    }

    fn max_frame_len(&self) -> usize {
        self.wire.max_frame_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(tag: u8, len: usize) -> Vec<u8> {
        let mut f = vec![0; len];
        f[ETHERNET_HEADER_LEN] = tag;
        f
    }

    #[test]
    fn equal_arrival_times_keep_send_order() {
        let mut wire = Wire::new(WireConfig::new(1, 2)).expect("valid");
        for tag in 0..5 {
            wire.send(EndId::A, &frame(tag, 60), 10).expect("sent");
        }
        assert_eq!(wire.in_flight(), 5);
        assert_eq!(wire.next_arrival(EndId::B), Some(10));
        assert_eq!(wire.recv(EndId::B, 9), None);
        let tags: Vec<u8> = std::iter::from_fn(|| wire.recv(EndId::B, 10))
            .map(|f| f[ETHERNET_HEADER_LEN])
            .collect();
        assert_eq!(tags, [0, 1, 2, 3, 4]);
        assert_eq!(wire.next_event_at(), None);
    }

    #[test]
    fn a_shared_segment_reaches_every_other_end() {
        let mut wire = Wire::new(WireConfig::new(1, 3)).expect("valid");
        wire.send(EndId::B, &frame(9, 60), 0).expect("sent");
        assert_eq!(wire.recv(EndId::B, 0), None);
        assert_eq!(wire.recv(EndId::A, 0), Some(frame(9, 60)));
        assert_eq!(wire.recv(EndId::C, 0), Some(frame(9, 60)));
        let stats = wire.stats();
        assert_eq!(stats.sent_frames, 2);
        assert_eq!(stats.delivered_frames, 2);
        assert_eq!(stats.delivered_bytes, 120);
    }

    #[test]
    fn refuses_bad_frames_and_ends() {
        let mut wire = Wire::new(WireConfig::new(1, 2).max_frame_len(100)).expect("valid");
        assert_eq!(
            wire.send(EndId::A, &[0; 101], 0),
            Err(WireError::Frame(DeviceError::FrameTooLong {
                len: 101,
                max: 100
            }))
        );
        assert_eq!(
            wire.send(EndId::A, &[0; 13], 0),
            Err(WireError::Frame(DeviceError::FrameTooShort { len: 13 }))
        );
        assert_eq!(
            wire.send(EndId::C, &[0; 60], 0),
            Err(WireError::UnknownEnd {
                end: EndId::C,
                ends: 2
            })
        );
        assert!(wire.port(EndId::C).is_err());
        assert_eq!(wire.recv(EndId::C, 0), None);
        assert_eq!(wire.rejected(), 2);
        assert_eq!(wire.stats(), LinkStats::ZERO);
        assert!(wire.link_stats(EndId::A, EndId::A).is_none());
        assert!(wire.link_config(EndId::A, EndId::C).is_none());
        assert!(
            WireError::UnknownEnd {
                end: EndId::C,
                ends: 2
            }
            .to_string()
            .contains("end 2")
        );
    }

    #[test]
    fn ports_are_frame_devices() {
        let mut wire = Wire::new(WireConfig::new(1, 2)).expect("valid");
        let mut a = wire.port(EndId::A).expect("exists");
        assert_eq!(a.end(), EndId::A);
        assert_eq!(a.max_frame_len(), DEFAULT_MAX_FRAME_LEN);
        a.send_frame(&frame(1, 60), 0).expect("sent");
        let mut b = wire.port(EndId::B).expect("exists");
        assert_eq!(b.recv_frame(0), Some(frame(1, 60)));
    }

    #[test]
    fn set_link_changes_one_direction() {
        let mut wire = Wire::new(WireConfig::new(1, 2)).expect("valid");
        let slow = LinkConfig {
            latency_us: 100,
            ..LinkConfig::PERFECT
        };
        wire.set_link(EndId::A, EndId::B, slow.clone())
            .expect("valid");
        assert_eq!(wire.link_config(EndId::A, EndId::B), Some(&slow));
        assert_eq!(
            wire.link_config(EndId::B, EndId::A),
            Some(&LinkConfig::PERFECT)
        );
        wire.send(EndId::A, &frame(1, 60), 0).expect("sent");
        wire.send(EndId::B, &frame(2, 60), 0).expect("sent");
        assert_eq!(wire.next_arrival(EndId::A), Some(0));
        assert_eq!(wire.next_arrival(EndId::B), Some(100));
        assert!(
            wire.set_both_ways(
                EndId::A,
                EndId::B,
                LinkConfig {
                    loss: -1.0,
                    ..LinkConfig::PERFECT
                }
            )
            .is_err()
        );
        assert_eq!(wire.config().ends, 2);
    }
}
