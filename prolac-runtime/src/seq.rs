//! Sequence numbers: 32-bit integers with wrapping arithmetic and circular comparison.
//!
//! TCP sequence numbers live in a space of 2³² values that wraps around. Arithmetic is
//! therefore modulo 2³², and comparison is *circular* (RFC 9293 §3.4, RFC 1982): `a` is
//! before `b` when going forward from `a` reaches `b` in fewer than 2³¹ steps, that is when
//! `b.wrapping_sub(a)`, read as an `i32`, is positive.
//!
//! [`SeqInt`] wraps a `u32` with exactly these semantics. The free functions ([`seq_lt`],
//! [`seq_le`], [`seq_gt`], [`seq_ge`], [`seq_min`], [`seq_max`], [`seq_in_window`]) give the same
//! operations on plain `u32` values, for generated code that keeps sequence numbers as `u32`.
//!
//! # Why there is no `Ord` (or `PartialOrd`)
//!
//! Circular order is not an order in the sense of Rust's comparison traits:
//!
//! - it is not transitive: `0 < 2³⁰ < 2³¹ < 3·2³⁰ < 0` going around the circle, so a sort,
//!   a binary search, or a `BTreeMap` keyed by sequence numbers would silently misbehave;
//! - it is not total: two numbers exactly 2³¹ apart are neither before nor after each other
//!   (and not equal).
//!
//! `PartialOrd` requires transitivity too, so it is left out as well, and every comparison
//! is an explicit method call ([`SeqInt::lt`], …) whose meaning is visible at the call site.
//! Circular comparison is meaningful only for numbers known to be less than 2³¹ apart, which
//! TCP guarantees for the numbers it compares.

use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};

/// Circular "before": `a < b` iff `b.wrapping_sub(a)`, as an `i32`, is positive.
///
/// Numbers exactly 2³¹ apart are neither before nor after each other.
#[inline]
#[must_use]
pub const fn seq_lt(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

/// Circular "before or equal": `seq_lt(a, b) || a == b`.
#[inline]
#[must_use]
pub const fn seq_le(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) >= 0
}

/// Circular "after": `seq_lt(b, a)`.
#[inline]
#[must_use]
pub const fn seq_gt(a: u32, b: u32) -> bool {
    seq_lt(b, a)
}

/// Circular "after or equal": `seq_le(b, a)`.
#[inline]
#[must_use]
pub const fn seq_ge(a: u32, b: u32) -> bool {
    seq_le(b, a)
}

/// The circularly earlier of `a` and `b`; `a` when neither is earlier (equal, or 2³¹ apart).
#[inline]
#[must_use]
pub const fn seq_min(a: u32, b: u32) -> u32 {
    if seq_lt(b, a) { b } else { a }
}

/// The circularly later of `a` and `b`; `a` when neither is later (equal, or 2³¹ apart).
#[inline]
#[must_use]
pub const fn seq_max(a: u32, b: u32) -> u32 {
    if seq_gt(b, a) { b } else { a }
}

/// Whether `x` lies in the window of `len` numbers starting at `start`:
/// `start <= x < start + len`, going forward from `start` around the circle.
///
/// This is the RFC 9293 acceptability test `RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND`. An empty
/// window (`len == 0`) contains nothing. For `len <= 2³¹` it agrees with [`seq_le`] and
/// [`seq_lt`]; larger windows are still well defined (the `len` numbers after `start`).
#[inline]
#[must_use]
pub const fn seq_in_window(x: u32, start: u32, len: u32) -> bool {
    x.wrapping_sub(start) < len
}

/// A 32-bit sequence number: wrapping arithmetic and circular comparison.
///
/// `+` and `-` accept a `u32` or another `SeqInt` and wrap modulo 2³². Comparison is circular
/// and therefore spelled as methods ([`lt`](Self::lt), [`le`](Self::le), [`gt`](Self::gt),
/// [`ge`](Self::ge)); see the [module documentation](self) for why `SeqInt` implements neither
/// `Ord` nor `PartialOrd`. Equality is ordinary equality of the 32-bit values.
///
/// ```
/// use prolac_runtime::SeqInt;
///
/// let a = SeqInt::new(0xffff_fff0);
/// let b = a + 0x20; // wraps to 0x10
/// assert_eq!(b.get(), 0x10);
/// assert!(a.lt(b) && b.gt(a));
/// assert_eq!(b.offset_from(a), 0x20);
/// assert!(SeqInt::new(5).in_window(a, 0x100));
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct SeqInt(pub u32);

impl SeqInt {
    /// Wraps a raw 32-bit value.
    #[inline]
    #[must_use]
    pub const fn new(value: u32) -> Self {
        Self(value)
    }

    /// The raw 32-bit value.
    #[inline]
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Circular "before" (see [`seq_lt`]).
    #[inline]
    #[must_use]
    pub const fn lt(self, other: Self) -> bool {
        seq_lt(self.0, other.0)
    }

    /// Circular "before or equal" (see [`seq_le`]).
    #[inline]
    #[must_use]
    pub const fn le(self, other: Self) -> bool {
        seq_le(self.0, other.0)
    }

    /// Circular "after" (see [`seq_gt`]).
    #[inline]
    #[must_use]
    pub const fn gt(self, other: Self) -> bool {
        seq_gt(self.0, other.0)
    }

    /// Circular "after or equal" (see [`seq_ge`]).
    #[inline]
    #[must_use]
    pub const fn ge(self, other: Self) -> bool {
        seq_ge(self.0, other.0)
    }

    /// The circularly earlier of the two; `self` when neither is earlier.
    #[inline]
    #[must_use]
    pub const fn min(self, other: Self) -> Self {
        Self(seq_min(self.0, other.0))
    }

    /// The circularly later of the two; `self` when neither is later.
    #[inline]
    #[must_use]
    pub const fn max(self, other: Self) -> Self {
        Self(seq_max(self.0, other.0))
    }

    /// Whether `self` lies in `start <= self < start + len`, circularly
    /// (see [`seq_in_window`]).
    #[inline]
    #[must_use]
    pub const fn in_window(self, start: Self, len: u32) -> bool {
        seq_in_window(self.0, start.0, len)
    }

    /// How far forward `self` is from `base`: `self - base` as a distance modulo 2³².
    #[inline]
    #[must_use]
    pub const fn offset_from(self, base: Self) -> u32 {
        self.0.wrapping_sub(base.0)
    }

    /// The signed circular distance from `base` to `self`: positive when `self` is after
    /// `base`, negative when before, `i32::MIN` when they are 2³¹ apart.
    #[inline]
    #[must_use]
    pub const fn signed_offset_from(self, base: Self) -> i32 {
        self.0.wrapping_sub(base.0) as i32
    }
}

impl From<u32> for SeqInt {
    #[inline]
    fn from(value: u32) -> Self {
        Self(value)
    }
}

impl From<SeqInt> for u32 {
    #[inline]
    fn from(value: SeqInt) -> Self {
        value.0
    }
}

impl fmt::Display for SeqInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Add<u32> for SeqInt {
    type Output = Self;
    #[inline]
    fn add(self, rhs: u32) -> Self {
        Self(self.0.wrapping_add(rhs))
    }
}

impl Add for SeqInt {
    type Output = Self;
    #[inline]
    fn add(self, rhs: Self) -> Self {
        Self(self.0.wrapping_add(rhs.0))
    }
}

impl Sub<u32> for SeqInt {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: u32) -> Self {
        Self(self.0.wrapping_sub(rhs))
    }
}

/// Wrapping difference, as a `SeqInt`; use [`SeqInt::offset_from`] for a `u32` distance.
impl Sub for SeqInt {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.wrapping_sub(rhs.0))
    }
}

impl AddAssign<u32> for SeqInt {
    #[inline]
    fn add_assign(&mut self, rhs: u32) {
        *self = *self + rhs;
    }
}

impl AddAssign for SeqInt {
    #[inline]
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl SubAssign<u32> for SeqInt {
    #[inline]
    fn sub_assign(&mut self, rhs: u32) {
        *self = *self - rhs;
    }
}

impl SubAssign for SeqInt {
    #[inline]
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: u32 = 0x8000_0000;

    #[test]
    fn wrapping_arithmetic() {
        let a = SeqInt::new(u32::MAX);
        assert_eq!(a + 1, SeqInt(0));
        assert_eq!(a + SeqInt(2), SeqInt(1));
        assert_eq!(SeqInt(0) - 1, SeqInt(u32::MAX));
        assert_eq!(SeqInt(1) - SeqInt(3), SeqInt(u32::MAX - 1));
        let mut b = SeqInt(10);
        b += 0xffff_fff6;
        assert_eq!(b, SeqInt(0));
        b -= SeqInt(1);
        assert_eq!(b.get(), u32::MAX);
        b += SeqInt(1);
        b -= 5;
        assert_eq!(u32::from(b), u32::MAX - 4);
        assert_eq!(SeqInt::from(7).offset_from(SeqInt(u32::MAX)), 8);
        assert_eq!(SeqInt(0).signed_offset_from(SeqInt(1)), -1);
        assert_eq!(SeqInt(HALF).signed_offset_from(SeqInt(0)), i32::MIN);
    }

    #[test]
    fn circular_comparison_across_wrap() {
        let a = SeqInt(0xffff_ff00);
        let b = SeqInt(0x0000_0100);
        assert!(a.lt(b) && a.le(b) && !a.gt(b) && !a.ge(b));
        assert!(b.gt(a) && b.ge(a) && !b.lt(a) && !b.le(a));
        assert!(a.le(a) && a.ge(a) && !a.lt(a) && !a.gt(a));
        assert_eq!(a.min(b), a);
        assert_eq!(a.max(b), b);
        assert_eq!(b.min(a), a);
        assert_eq!(b.max(a), b);
    }

    #[test]
    fn half_circle_is_incomparable() {
        let a = SeqInt(5);
        let b = a + HALF;
        for (x, y) in [(a, b), (b, a)] {
            assert!(!x.lt(y) && !x.le(y) && !x.gt(y) && !x.ge(y));
            assert_eq!(x.min(y), x);
            assert_eq!(x.max(y), x);
        }
        // One step closer and the order is defined again.
        assert!(a.lt(b - 1));
        assert!(a.gt(b + 1));
    }

    #[test]
    fn not_transitive() {
        // The reason there is no `Ord`: going around the circle in four steps.
        let q = 0x4000_0000;
        let points = [0, q, 2 * q, 3 * q];
        for i in 0..4 {
            assert!(seq_lt(points[i], points[(i + 1) % 4]));
        }
    }

    #[test]
    fn windows() {
        let start = SeqInt(u32::MAX - 1);
        assert!(start.in_window(start, 4));
        assert!((start + 3).in_window(start, 4));
        assert!(!(start + 4).in_window(start, 4));
        assert!(!(start - 1).in_window(start, 4));
        assert!(!start.in_window(start, 0));
        assert!(seq_in_window(1, 0, u32::MAX));
        assert!(!seq_in_window(u32::MAX, 0, u32::MAX));
    }

    #[test]
    fn free_functions_are_const() {
        const { assert!(seq_lt(u32::MAX, 0)) };
        const MAX: u32 = seq_max(u32::MAX, 1);
        const MIN: u32 = seq_min(u32::MAX, 1);
        assert_eq!(MAX, 1);
        assert_eq!(MIN, u32::MAX);
        assert!(seq_ge(0, u32::MAX) && seq_gt(0, u32::MAX));
    }

    #[test]
    fn display_and_debug() {
        use alloc::format;
        assert_eq!(format!("{}", SeqInt(42)), "42");
        assert_eq!(format!("{:?}", SeqInt(42)), "SeqInt(42)");
    }
}
