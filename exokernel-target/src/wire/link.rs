//! One direction of a wire: its transmit queue, its rate limiter and its random faults.
//!
//! The link decides a frame's fate when the frame is sent ([`Link::offer`]); the wire then
//! holds the copies until their arrival time. Everything here is a pure function of the
//! link's configuration, its random stream and the times passed in.

use std::collections::VecDeque;

use super::config::{ETHERNET_HEADER_LEN, LinkConfig};
use super::stats::LinkStats;
use crate::rng::SplitMix64;

/// Microseconds per second: the rate limiter's unit conversion.
const MICROS_PER_SEC: u128 = 1_000_000;

/// What a direction did with one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Dropped, for the reason the statistics already record.
    Dropped,
    /// Delivered `copies` times (1 or 2) at `arrival_us`, with bit `flip_bit` of the
    /// frame inverted if set.
    Delivered {
        arrival_us: u64,
        copies: u8,
        flip_bit: Option<usize>,
    },
}

/// The state of one direction.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    config: LinkConfig,
    rng: SplitMix64,
    /// When the transmitter is free again, in units of `1 / rate` microseconds (so that
    /// fractions of a microsecond carry over exactly from one frame to the next).
    free_at_scaled: u128,
    /// Departure times (µs) of the accepted frames not yet fully transmitted, oldest first.
    transmitting: VecDeque<u64>,
    pub(crate) stats: LinkStats,
}

impl Link {
    /// A direction with `config`, drawing its decisions from `rng`.
    pub(crate) const fn new(config: LinkConfig, rng: SplitMix64) -> Self {
        Self {
            config,
            rng,
            free_at_scaled: 0,
            transmitting: VecDeque::new(),
            stats: LinkStats::ZERO,
        }
    }

    /// The direction's configuration.
    pub(crate) const fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Replaces the configuration; frames already on their way keep their fate.
    pub(crate) fn reconfigure(&mut self, config: LinkConfig) {
        // Re-express when the transmitter is free in the new rate's units.
        let free_at_us = self.free_at_us();
        self.config = config;
        self.free_at_scaled = u128::from(free_at_us).saturating_mul(self.rate());
    }

    /// The rate in bytes per second as the scale of `free_at_scaled` (1 when unlimited,
    /// where the value is unused).
    fn rate(&self) -> u128 {
        self.config.rate_bytes_per_sec.map_or(1, u128::from)
    }

    /// When the transmitter is free again, rounded up to the microsecond.
    fn free_at_us(&self) -> u64 {
        let us = self.free_at_scaled.div_ceil(self.rate());
        u64::try_from(us).unwrap_or(u64::MAX)
    }

    /// How many accepted frames have not finished transmission at `now_us`.
    pub(crate) fn queued(&mut self, now_us: u64) -> usize {
        while self.transmitting.front().is_some_and(|&t| t <= now_us) {
            self.transmitting.pop_front();
        }
        self.transmitting.len()
    }

    /// Decides the fate of a frame of `len` bytes offered at `now_us`, and counts it.
    pub(crate) fn offer(&mut self, len: usize, now_us: u64) -> Fate {
        self.stats.sent_frames += 1;
        self.stats.sent_bytes += len as u64;

        let departure_us = match self.config.rate_bytes_per_sec {
            None => now_us,
            Some(rate) => {
                if let Some(limit) = self.config.queue_limit
                    && self.queued(now_us) >= limit
                {
                    self.stats.queue_drops += 1;
                    return Fate::Dropped;
                }
                let rate = u128::from(rate);
                // Saturating: times near u64::MAX µs must not overflow (they cannot in any
                // real run, but the wire promises not to panic on any input).
                let start = self
                    .free_at_scaled
                    .max(u128::from(now_us).saturating_mul(rate));
                self.free_at_scaled = start.saturating_add(len as u128 * MICROS_PER_SEC);
                let departure = self.free_at_us();
                self.transmitting.push_back(departure);
                departure
            }
        };

        if self.rng.chance(self.config.loss) {
            self.stats.lost += 1;
            return Fate::Dropped;
        }

        let mut flip_bit = None;
        if self.rng.chance(self.config.corrupt) && len > ETHERNET_HEADER_LEN {
            let bits = (len - ETHERNET_HEADER_LEN) as u64 * 8;
            let bit = ETHERNET_HEADER_LEN as u64 * 8 + self.rng.below(bits);
            flip_bit = usize::try_from(bit).ok();
            self.stats.corrupted += 1;
        }

        let mut arrival_us = departure_us.saturating_add(self.config.latency_us);
        if self.rng.chance(self.config.reorder) {
            let extra = self
                .rng
                .range_inclusive(1, self.config.reorder_extra_max_us.max(1));
            arrival_us = arrival_us.saturating_add(extra);
            self.stats.reordered += 1;
        }

        let copies = if self.rng.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };

        Fate::Delivered {
            arrival_us,
            copies,
            flip_bit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(config: LinkConfig) -> Link {
        Link::new(config, SplitMix64::new(1))
    }

    fn arrival(fate: &Fate) -> Option<u64> {
        match fate {
            Fate::Delivered { arrival_us, .. } => Some(*arrival_us),
            Fate::Dropped => None,
        }
    }

    #[test]
    fn rate_carries_fractions_of_a_microsecond() {
        // 3 bytes per microsecond... as 3,000,000 B/s: a 1-byte frame takes 1/3 µs.
        let mut l = link(LinkConfig {
            rate_bytes_per_sec: Some(3_000_000),
            ..LinkConfig::PERFECT
        });
        let times: Vec<_> = (0..6).map(|_| arrival(&l.offer(1, 0))).collect();
        assert_eq!(
            times,
            [Some(1), Some(1), Some(1), Some(2), Some(2), Some(2)]
        );
    }

    #[test]
    fn idle_transmitter_starts_at_now() {
        let mut l = link(LinkConfig {
            rate_bytes_per_sec: Some(1_000_000),
            latency_us: 5,
            ..LinkConfig::PERFECT
        });
        assert_eq!(arrival(&l.offer(100, 0)), Some(105));
        assert_eq!(arrival(&l.offer(100, 1_000)), Some(1_105));
    }

    #[test]
    fn reconfiguring_keeps_the_transmitter_busy() {
        let mut l = link(LinkConfig {
            rate_bytes_per_sec: Some(1_000_000),
            ..LinkConfig::PERFECT
        });
        assert_eq!(arrival(&l.offer(1_000, 0)), Some(1_000));
        l.reconfigure(LinkConfig {
            rate_bytes_per_sec: Some(2_000_000),
            ..LinkConfig::PERFECT
        });
        assert_eq!(l.config().rate_bytes_per_sec, Some(2_000_000));
        assert_eq!(arrival(&l.offer(1_000, 0)), Some(1_500));
    }

    #[test]
    fn queue_limit_drops_tail_until_the_queue_drains() {
        let mut l = link(LinkConfig {
            rate_bytes_per_sec: Some(1_000_000),
            queue_limit: Some(2),
            ..LinkConfig::PERFECT
        });
        assert!(arrival(&l.offer(1_000, 0)).is_some());
        assert!(arrival(&l.offer(1_000, 0)).is_some());
        assert_eq!(l.offer(1_000, 0), Fate::Dropped);
        assert_eq!(l.stats.queue_drops, 1);
        // The first frame is out at 1,000 µs: room for one more.
        assert_eq!(arrival(&l.offer(1_000, 1_000)), Some(3_000));
        assert_eq!(l.offer(1_000, 1_000), Fate::Dropped);
    }

    #[test]
    fn extreme_times_saturate() {
        let mut l = link(LinkConfig {
            rate_bytes_per_sec: Some(u64::MAX),
            latency_us: u64::MAX,
            reorder: 1.0,
            reorder_extra_max_us: u64::MAX,
            ..LinkConfig::PERFECT
        });
        assert_eq!(arrival(&l.offer(1_514, u64::MAX)), Some(u64::MAX));
        assert_eq!(arrival(&l.offer(1_514, u64::MAX)), Some(u64::MAX));
        l.reconfigure(LinkConfig {
            rate_bytes_per_sec: Some(1),
            ..LinkConfig::PERFECT
        });
        assert_eq!(arrival(&l.offer(1_514, u64::MAX)), Some(u64::MAX));
    }

    #[test]
    fn tiny_frames_are_never_corrupted() {
        let mut l = link(LinkConfig {
            corrupt: 1.0,
            ..LinkConfig::PERFECT
        });
        assert_eq!(
            l.offer(ETHERNET_HEADER_LEN, 0),
            Fate::Delivered {
                arrival_us: 0,
                copies: 1,
                flip_bit: None
            }
        );
        match l.offer(ETHERNET_HEADER_LEN + 1, 0) {
            Fate::Delivered {
                flip_bit: Some(bit),
                ..
            } => assert!((112..120).contains(&bit)),
            other => panic!("expected a flipped bit, got {other:?}"),
        }
    }
}
