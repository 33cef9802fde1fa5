//! How a wire is configured: its endpoints, its seed, and the faults of each direction.

use core::fmt;

/// Ethernet header length: destination, source, EtherType.
pub const ETHERNET_HEADER_LEN: usize = 14;

/// The default longest frame: a 1500-byte IP MTU plus the Ethernet header.
pub const DEFAULT_MAX_FRAME_LEN: usize = 1514;

/// The largest number of endpoints one wire connects (links grow with its square).
pub const MAX_ENDS: usize = 64;

/// One endpoint of a wire: an index in `0..ends`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndId(pub usize);

impl EndId {
    /// The first endpoint.
    pub const A: Self = Self(0);
    /// The second endpoint.
    pub const B: Self = Self(1);
    /// The third endpoint.
    pub const C: Self = Self(2);
}

impl fmt::Display for EndId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "end {}", self.0)
    }
}

/// The behaviour of one direction of the wire (from one endpoint to another).
///
/// A frame offered to the direction goes through these stages, in this order:
///
/// 1. **Queue** (`queue_limit`): with a rate limit, a frame waits for the transmitter; if
///    `queue_limit` frames are already accepted and not yet fully transmitted, the new frame
///    is dropped (drop tail). Without a rate limit frames never wait and the limit never
///    applies.
/// 2. **Rate** (`rate_bytes_per_sec`): the frame occupies the transmitter for
///    `len / rate` seconds, computed exactly (fractions of a microsecond carry over); it
///    departs when its last byte is out, rounded up to the microsecond.
/// 3. **Loss** (`loss`): the frame vanishes (it still used the transmitter).
/// 4. **Corruption** (`corrupt`): one uniformly chosen bit after the Ethernet header is
///    flipped. The header is spared on purpose: the model is damage inside a bridge or
///    router (after one hop's CRC check, before the next hop's CRC is computed), the
///    case end-to-end checksums exist for, and a real hop rewrites the Ethernet header
///    anyway. IPv4, ICMP and TCP checksums catch every such flip in what they cover; ARP has
///    no checksum, so a corrupted ARP packet is not detectable.
/// 5. **Latency** (`latency_us`): added to the departure time.
/// 6. **Reordering** (`reorder`): the frame is held back by an extra delay drawn uniformly
///    from `1..=reorder_extra_max_us`, so that frames sent after it may overtake it.
/// 7. **Duplication** (`duplicate`): a second, identical copy arrives right after the
///    first (it does not use the transmitter again).
///
/// Probabilities are in `[0, 1]`. [`LinkConfig::PERFECT`] (the default) has no faults.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    /// Fixed one-way delay in microseconds.
    pub latency_us: u64,
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a delivered frame arrives twice.
    pub duplicate: f64,
    /// Probability that a frame is held back by an extra random delay.
    pub reorder: f64,
    /// The largest extra delay of a held-back frame, in microseconds (at least 1 when
    /// `reorder` is non-zero).
    pub reorder_extra_max_us: u64,
    /// Probability that one bit of the frame's payload is flipped.
    pub corrupt: f64,
    /// Transmitter speed in bytes per second; `None` is infinitely fast.
    pub rate_bytes_per_sec: Option<u64>,
    /// The most frames waiting for (or in) the transmitter; `None` is unbounded.
    pub queue_limit: Option<usize>,
}

impl LinkConfig {
    /// A direction with no latency, no faults and no rate limit.
    pub const PERFECT: Self = Self {
        latency_us: 0,
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        reorder_extra_max_us: 0,
        corrupt: 0.0,
        rate_bytes_per_sec: None,
        queue_limit: None,
    };

    /// Checks the probabilities and the reordering and rate parameters.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Probability`] for a probability outside `[0, 1]` (or NaN),
    /// [`ConfigError::ReorderWithoutDelay`] and [`ConfigError::ZeroRate`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("corrupt", self.corrupt),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::Probability { name, value });
            }
        }
        if self.reorder > 0.0 && self.reorder_extra_max_us == 0 {
            return Err(ConfigError::ReorderWithoutDelay);
        }
        if self.rate_bytes_per_sec == Some(0) {
            return Err(ConfigError::ZeroRate);
        }
        Ok(())
    }
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self::PERFECT
    }
}

/// The configuration of a whole wire.
///
/// ```
/// use exokernel_target::wire::{EndId, LinkConfig, Wire, WireConfig};
///
/// let lossy = LinkConfig { loss: 0.1, latency_us: 500, ..LinkConfig::PERFECT };
/// let config = WireConfig::new(42, 2).link(EndId::A, EndId::B, lossy);
/// let wire = Wire::new(config)?;
/// assert_eq!(wire.ends(), 2);
/// # Ok::<(), exokernel_target::wire::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WireConfig {
    /// The seed every random decision derives from.
    pub seed: u64,
    /// How many endpoints the wire connects (2 to [`MAX_ENDS`]). A frame sent by one
    /// endpoint goes to every other one, as on a shared Ethernet segment.
    pub ends: usize,
    /// The longest frame the wire carries, Ethernet header included
    /// ([`ETHERNET_HEADER_LEN`] to 65,535).
    pub max_frame_len: usize,
    /// The behaviour of every direction not listed in `links`.
    pub default_link: LinkConfig,
    /// Per-direction behaviour: `(from, to, config)`; a later entry for the same direction
    /// wins.
    pub links: Vec<(EndId, EndId, LinkConfig)>,
}

impl WireConfig {
    /// `ends` endpoints connected by perfect links, with frames up to
    /// [`DEFAULT_MAX_FRAME_LEN`] bytes.
    #[must_use]
    pub const fn new(seed: u64, ends: usize) -> Self {
        Self {
            seed,
            ends,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            default_link: LinkConfig::PERFECT,
            links: Vec::new(),
        }
    }

    /// Sets the behaviour of every direction without its own entry.
    #[must_use]
    pub fn all_links(mut self, link: LinkConfig) -> Self {
        self.default_link = link;
        self
    }

    /// Sets the behaviour of the direction `from` → `to`.
    #[must_use]
    pub fn link(mut self, from: EndId, to: EndId, link: LinkConfig) -> Self {
        self.links.push((from, to, link));
        self
    }

    /// Sets the behaviour of both directions between `a` and `b`.
    #[must_use]
    pub fn both_ways(self, a: EndId, b: EndId, link: LinkConfig) -> Self {
        self.link(a, b, link.clone()).link(b, a, link)
    }

    /// Sets the longest frame the wire carries.
    #[must_use]
    pub const fn max_frame_len(mut self, len: usize) -> Self {
        self.max_frame_len = len;
        self
    }

    /// The configuration of direction `from` → `to` (the default when it has no entry).
    #[must_use]
    pub fn link_config(&self, from: EndId, to: EndId) -> &LinkConfig {
        self.links
            .iter()
            .rev()
            .find(|(f, t, _)| *f == from && *t == to)
            .map_or(&self.default_link, |(_, _, link)| link)
    }

    /// Checks every part of the configuration.
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`ConfigError`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(2..=MAX_ENDS).contains(&self.ends) {
            return Err(ConfigError::Ends(self.ends));
        }
        if !(ETHERNET_HEADER_LEN..=usize::from(u16::MAX)).contains(&self.max_frame_len) {
            return Err(ConfigError::MaxFrameLen(self.max_frame_len));
        }
        self.default_link.validate()?;
        for (from, to, link) in &self.links {
            self.check_direction(*from, *to)?;
            link.validate()?;
        }
        Ok(())
    }

    /// Checks that `from` → `to` names a direction of this wire.
    pub(crate) fn check_direction(&self, from: EndId, to: EndId) -> Result<(), ConfigError> {
        for end in [from, to] {
            if end.0 >= self.ends {
                return Err(ConfigError::UnknownEnd {
                    end,
                    ends: self.ends,
                });
            }
        }
        if from == to {
            return Err(ConfigError::SameEnd(from));
        }
        Ok(())
    }
}

/// A wire configuration that cannot be used.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigError {
    /// The number of endpoints is below 2 or above [`MAX_ENDS`].
    Ends(usize),
    /// The longest frame is shorter than an Ethernet header or longer than 65,535 bytes.
    MaxFrameLen(usize),
    /// A direction names an endpoint the wire does not have.
    UnknownEnd {
        /// The endpoint named.
        end: EndId,
        /// How many endpoints the wire has.
        ends: usize,
    },
    /// A direction goes from an endpoint to itself.
    SameEnd(EndId),
    /// A probability is outside `[0, 1]` or not a number.
    Probability {
        /// Which field.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// `reorder` is non-zero but `reorder_extra_max_us` is zero.
    ReorderWithoutDelay,
    /// A rate limit of zero bytes per second would never send anything.
    ZeroRate,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ends(n) => write!(f, "a wire connects 2 to {MAX_ENDS} endpoints, not {n}"),
            Self::MaxFrameLen(n) => write!(
                f,
                "the longest frame must be {ETHERNET_HEADER_LEN} to 65535 bytes, not {n}"
            ),
            Self::UnknownEnd { end, ends } => {
                write!(f, "{end} does not exist on a wire with {ends} endpoints")
            }
            Self::SameEnd(end) => write!(f, "a direction cannot go from {end} to itself"),
            Self::Probability { name, value } => {
                write!(f, "probability `{name}` must be in [0, 1], not {value}")
            }
            Self::ReorderWithoutDelay => {
                write!(f, "`reorder` needs a non-zero `reorder_extra_max_us`")
            }
            Self::ZeroRate => write!(f, "a rate limit must be at least 1 byte per second"),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_reports_each_problem() {
        let ok = WireConfig::new(1, 2);
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(WireConfig::new(1, 1).validate(), Err(ConfigError::Ends(1)));
        assert_eq!(
            WireConfig::new(1, 2).max_frame_len(10).validate(),
            Err(ConfigError::MaxFrameLen(10))
        );
        let bad = |link: LinkConfig| WireConfig::new(1, 2).link(EndId::A, EndId::B, link);
        assert!(matches!(
            bad(LinkConfig {
                loss: 1.5,
                ..LinkConfig::PERFECT
            })
            .validate(),
            Err(ConfigError::Probability { name: "loss", .. })
        ));
        assert!(matches!(
            bad(LinkConfig {
                corrupt: f64::NAN,
                ..LinkConfig::PERFECT
            })
            .validate(),
            Err(ConfigError::Probability {
                name: "corrupt",
                ..
            })
        ));
        assert_eq!(
            bad(LinkConfig {
                reorder: 0.5,
                ..LinkConfig::PERFECT
            })
            .validate(),
            Err(ConfigError::ReorderWithoutDelay)
        );
        assert_eq!(
            bad(LinkConfig {
                rate_bytes_per_sec: Some(0),
                ..LinkConfig::PERFECT
            })
            .validate(),
            Err(ConfigError::ZeroRate)
        );
        assert_eq!(
            WireConfig::new(1, 2)
                .link(EndId::A, EndId::C, LinkConfig::PERFECT)
                .validate(),
            Err(ConfigError::UnknownEnd {
                end: EndId::C,
                ends: 2
            })
        );
        assert_eq!(
            WireConfig::new(1, 2)
                .link(EndId::B, EndId::B, LinkConfig::PERFECT)
                .validate(),
            Err(ConfigError::SameEnd(EndId::B))
        );
    }

    #[test]
    fn later_entries_win_and_defaults_fill_in() {
        let slow = LinkConfig {
            latency_us: 10,
            ..LinkConfig::PERFECT
        };
        let slower = LinkConfig {
            latency_us: 20,
            ..LinkConfig::PERFECT
        };
        let config = WireConfig::new(0, 3)
            .all_links(slow.clone())
            .both_ways(EndId::A, EndId::B, slow.clone())
            .link(EndId::A, EndId::B, slower.clone());
        assert_eq!(config.link_config(EndId::A, EndId::B), &slower);
        assert_eq!(config.link_config(EndId::B, EndId::A), &slow);
        assert_eq!(config.link_config(EndId::C, EndId::A), &slow);
    }

    #[test]
    fn errors_display() {
        let text = ConfigError::Probability {
            name: "loss",
            value: 2.0,
        }
        .to_string();
        assert_eq!(text, "probability `loss` must be in [0, 1], not 2");
        assert_eq!(EndId::B.to_string(), "end 1");
    }
}
