//! Counters of what a wire did with the frames offered to it.

use core::ops::AddAssign;

/// What one direction of a wire (or, summed, the whole wire) did with its frames.
///
/// A frame sent by one endpoint is offered to every other endpoint's direction, so on a
/// wire with more than two endpoints one send counts once per receiver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames offered to the direction.
    pub sent_frames: u64,
    /// Bytes of the frames offered.
    pub sent_bytes: u64,
    /// Frames handed to the receiving endpoint (duplicates included).
    pub delivered_frames: u64,
    /// Bytes of the frames handed over.
    pub delivered_bytes: u64,
    /// Frames lost at random.
    pub lost: u64,
    /// Frames dropped because the transmit queue was full.
    pub queue_drops: u64,
    /// Frames that were duplicated.
    pub duplicated: u64,
    /// Frames held back by an extra delay (they may or may not have been overtaken).
    pub reordered: u64,
    /// Frames with a flipped bit.
    pub corrupted: u64,
}

impl LinkStats {
    /// All counters zero.
    pub const ZERO: Self = Self {
        sent_frames: 0,
        sent_bytes: 0,
        delivered_frames: 0,
        delivered_bytes: 0,
        lost: 0,
        queue_drops: 0,
        duplicated: 0,
        reordered: 0,
        corrupted: 0,
    };

    /// Frames dropped for any reason.
    #[must_use]
    pub const fn dropped(&self) -> u64 {
        self.lost + self.queue_drops
    }
}

impl AddAssign<&LinkStats> for LinkStats {
    fn add_assign(&mut self, other: &LinkStats) {
        self.sent_frames += other.sent_frames;
        self.sent_bytes += other.sent_bytes;
        self.delivered_frames += other.delivered_frames;
        self.delivered_bytes += other.delivered_bytes;
        self.lost += other.lost;
        self.queue_drops += other.queue_drops;
        self.duplicated += other.duplicated;
        self.reordered += other.reordered;
        self.corrupted += other.corrupted;
    }
}
