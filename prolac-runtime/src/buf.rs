//! Segment buffers with headroom, so that each layer can prepend its header in place.
//!
//! A [`SegBuf`] holds a packet's bytes in one allocation laid out as
//!
//! ```text
//! [ headroom | data | tailroom ]
//! ```
//!
//! Building a segment starts with enough headroom for every header below the payload's
//! layer; the payload is appended, then each layer claims its header from the headroom with
//! [`push_front`](SegBuf::push_front), without moving the payload. Receiving works the other
//! way round: each layer strips its header with [`pull_front`](SegBuf::pull_front).
//! [`reset`](SegBuf::reset) empties a buffer for reuse, keeping its allocation.
//!
//! Sizes that do not fit are reported as [`BufError`]s; no operation panics on a bad size,
//! and allocation uses `try_reserve`, so an impossible size is an error rather than an abort.
//!
//! ```
//! use prolac_runtime::SegBuf;
//!
//! let mut seg = SegBuf::with_headroom(40, 1460)?;
//! seg.extend_from_slice(b"payload")?;
//! let tcp = seg.push_front(20)?;
//! tcp[0..2].copy_from_slice(&80u16.to_be_bytes());
//! let ip = seg.push_front(20)?;
//! ip[0] = 0x45;
//! assert_eq!(seg.len(), 47);
//! assert_eq!(seg.headroom(), 0);
//!
//! // The receiver strips the headers again.
//! assert_eq!(seg.pull_front(20)?[0], 0x45);
//! assert_eq!(seg.pull_front(20)?[1], 80);
//! assert_eq!(seg.data(), b"payload");
//! # Ok::<(), prolac_runtime::BufError>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

/// Why a [`SegBuf`] operation could not be done. The buffer is unchanged when one is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BufError {
    /// [`push_front`](SegBuf::push_front) asked for more bytes than the headroom has.
    NoHeadroom {
        /// Bytes asked for.
        requested: usize,
        /// Bytes of headroom left.
        available: usize,
    },
    /// [`pull_front`](SegBuf::pull_front) asked for more bytes than the data has.
    TooShort {
        /// Bytes asked for.
        requested: usize,
        /// Bytes of data present.
        available: usize,
    },
    /// The requested size overflows `usize` or `isize::MAX`, or the allocator refused it.
    AllocFailed,
}

impl fmt::Display for BufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoHeadroom {
                requested,
                available,
            } => write!(
                f,
                "cannot prepend {requested} bytes: only {available} bytes of headroom"
            ),
            Self::TooShort {
                requested,
                available,
            } => write!(
                f,
                "cannot strip {requested} bytes: the buffer holds only {available}"
            ),
            Self::AllocFailed => {
                f.write_str("cannot allocate the buffer: size too large or out of memory")
            }
        }
    }
}

impl core::error::Error for BufError {}

/// A byte buffer with headroom in front of its data, for building and parsing packets.
///
/// See the [module documentation](self) for the layout and an example.
#[derive(Clone, Default)]
pub struct SegBuf {
    /// Headroom followed by data; the vector's spare capacity is the tailroom.
    bytes: Vec<u8>,
    /// Where the data starts. Invariant: `head <= bytes.len()`.
    head: usize,
}

impl SegBuf {
    /// An empty buffer with no headroom and no allocation.
    #[inline]
    #[must_use]
    pub const fn new() -> Self {
        Self {
            bytes: Vec::new(),
            head: 0,
        }
    }

    /// An empty buffer with `headroom` bytes of headroom and room for `capacity` bytes of
    /// data, in a single allocation.
    ///
    /// # Errors
    ///
    /// [`BufError::AllocFailed`] if `headroom + capacity` is too large to allocate.
    pub fn with_headroom(headroom: usize, capacity: usize) -> Result<Self, BufError> {
        let total = headroom
            .checked_add(capacity)
            .ok_or(BufError::AllocFailed)?;
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(total)
            .map_err(|_| BufError::AllocFailed)?;
        bytes.resize(headroom, 0);
        Ok(Self {
            bytes,
            head: headroom,
        })
    }

    /// The data (without headroom or tailroom).
    #[inline]
    #[must_use]
    pub fn data(&self) -> &[u8] {
        &self.bytes[self.head..]
    }

    /// The data, for writing.
    #[inline]
    #[must_use]
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[self.head..]
    }

    /// How many bytes of data the buffer holds.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len() - self.head
    }

    /// Whether the buffer holds no data.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many bytes can still be prepended with [`push_front`](Self::push_front).
    #[inline]
    #[must_use]
    pub fn headroom(&self) -> usize {
        self.head
    }

    /// How many bytes can be appended without reallocating.
    #[inline]
    #[must_use]
    pub fn tailroom(&self) -> usize {
        self.bytes.capacity() - self.bytes.len()
    }

    /// Claims `n` bytes of headroom in front of the data, for a header, and returns them
    /// (zeroed). The data grows by `n` at the front; nothing is moved.
    ///
    /// # Errors
    ///
    /// [`BufError::NoHeadroom`] if fewer than `n` bytes of headroom are left.
    pub fn push_front(&mut self, n: usize) -> Result<&mut [u8], BufError> {
        if n > self.head {
            return Err(BufError::NoHeadroom {
                requested: n,
                available: self.head,
            });
        }
        let start = self.head - n;
        let end = self.head;
        self.head = start;
        let claimed = &mut self.bytes[start..end];
        claimed.fill(0);
        Ok(claimed)
    }

    /// Strips `n` bytes from the front of the data, for a parsed header, and returns them.
    /// They become headroom again.
    ///
    /// # Errors
    ///
    /// [`BufError::TooShort`] if the data has fewer than `n` bytes.
    pub fn pull_front(&mut self, n: usize) -> Result<&[u8], BufError> {
        let available = self.len();
        if n > available {
            return Err(BufError::TooShort {
                requested: n,
                available,
            });
        }
        let start = self.head;
        self.head += n;
        Ok(&self.bytes[start..self.head])
    }

    /// Appends `data` after the data, growing the allocation if the tailroom is too small.
    ///
    /// # Errors
    ///
    /// [`BufError::AllocFailed`] if the grown buffer cannot be allocated.
    pub fn extend_from_slice(&mut self, data: &[u8]) -> Result<(), BufError> {
        self.bytes
            .try_reserve(data.len())
            .map_err(|_| BufError::AllocFailed)?;
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    /// Shortens the data to its first `len` bytes; does nothing if it is not longer than that.
    /// The removed bytes become tailroom.
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.bytes.truncate(self.head.saturating_add(len));
    }

    /// Empties the buffer for reuse, with `headroom` bytes of headroom, keeping the allocation
    /// (it grows only if `headroom` exceeds it).
    ///
    /// # Errors
    ///
    /// [`BufError::AllocFailed`] if `headroom` bytes cannot be allocated; the buffer is then
    /// unchanged.
    pub fn reset(&mut self, headroom: usize) -> Result<(), BufError> {
        let additional = headroom.saturating_sub(self.bytes.len());
        self.bytes
            .try_reserve_exact(additional)
            .map_err(|_| BufError::AllocFailed)?;
        self.bytes.clear();
        self.bytes.resize(headroom, 0);
        self.head = headroom;
        Ok(())
    }
}

/// A buffer whose data is the whole vector, with no headroom; the vector's spare capacity
/// becomes tailroom. Nothing is copied.
impl From<Vec<u8>> for SegBuf {
    #[inline]
    fn from(bytes: Vec<u8>) -> Self {
        Self { bytes, head: 0 }
    }
}

impl fmt::Debug for SegBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegBuf")
            .field("headroom", &self.headroom())
            .field("data", &self.data())
            .field("tailroom", &self.tailroom())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn new_is_empty() {
        let b = SegBuf::new();
        assert!(b.is_empty());
        assert_eq!((b.len(), b.headroom(), b.tailroom()), (0, 0, 0));
        assert_eq!(b.data(), b"");
        assert_eq!(SegBuf::default().len(), 0);
    }

    #[test]
    fn with_headroom_reserves_both_ends() -> Result<(), BufError> {
        let b = SegBuf::with_headroom(54, 1460)?;
        assert_eq!(b.headroom(), 54);
        assert_eq!(b.len(), 0);
        assert!(b.tailroom() >= 1460);
        Ok(())
    }

    #[test]
    fn with_headroom_rejects_impossible_sizes() {
        assert_eq!(
            SegBuf::with_headroom(usize::MAX, 1).map(|b| b.len()),
            Err(BufError::AllocFailed)
        );
        assert_eq!(
            SegBuf::with_headroom(0, usize::MAX).map(|b| b.len()),
            Err(BufError::AllocFailed)
        );
    }

    #[test]
    fn push_front_prepends_without_moving_the_payload() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(8, 16)?;
        b.extend_from_slice(b"data")?;
        let payload_at = b.data().as_ptr();
        let hdr = b.push_front(3)?;
        assert_eq!(hdr, [0, 0, 0]);
        hdr.copy_from_slice(b"hdr");
        assert_eq!(b.data(), b"hdrdata");
        assert_eq!(b.headroom(), 5);
        assert_eq!(b.data()[3..].as_ptr(), payload_at);
        b.push_front(5)?.copy_from_slice(b"outer");
        assert_eq!(b.data(), b"outerhdrdata");
        assert_eq!(b.headroom(), 0);
        assert_eq!(b.push_front(0)?, []);
        Ok(())
    }

    #[test]
    fn push_front_zeroes_reused_headroom() -> Result<(), BufError> {
        let mut b = SegBuf::from(vec![0xaa; 6]);
        b.pull_front(4)?;
        assert_eq!(b.push_front(4)?, [0; 4]);
        Ok(())
    }

    #[test]
    fn push_front_beyond_headroom_fails() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(4, 4)?;
        b.extend_from_slice(b"xy")?;
        assert_eq!(
            b.push_front(5).map(|s| s.len()),
            Err(BufError::NoHeadroom {
                requested: 5,
                available: 4
            })
        );
        assert!(b.push_front(usize::MAX).is_err());
        assert_eq!(b.data(), b"xy");
        assert_eq!(b.headroom(), 4);
        Ok(())
    }

    #[test]
    fn pull_front_strips_headers() -> Result<(), BufError> {
        let mut b = SegBuf::from(b"ipv4tcp-payload".to_vec());
        assert_eq!(b.pull_front(4)?, b"ipv4");
        assert_eq!(b.pull_front(4)?, b"tcp-");
        assert_eq!(b.data(), b"payload");
        assert_eq!(b.headroom(), 8);
        assert_eq!(b.pull_front(7)?, b"payload");
        assert!(b.is_empty());
        Ok(())
    }

    #[test]
    fn pull_front_beyond_data_fails() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(2, 8)?;
        b.extend_from_slice(b"abc")?;
        assert_eq!(
            b.pull_front(4).map(<[u8]>::len),
            Err(BufError::TooShort {
                requested: 4,
                available: 3
            })
        );
        assert!(b.pull_front(usize::MAX).is_err());
        assert_eq!(b.data(), b"abc");
        assert_eq!(b.headroom(), 2);
        Ok(())
    }

    #[test]
    fn extend_uses_tailroom_then_grows() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(2, 4)?;
        let room = b.tailroom();
        b.extend_from_slice(b"abcd")?;
        assert_eq!(b.tailroom(), room - 4);
        b.extend_from_slice(&[b'e'; 100])?;
        assert_eq!(b.len(), 104);
        assert_eq!(&b.data()[..5], b"abcde");
        assert_eq!(b.headroom(), 2);
        Ok(())
    }

    #[test]
    fn data_mut_writes_the_data() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(3, 3)?;
        b.extend_from_slice(b"abc")?;
        b.data_mut()[1] = b'X';
        assert_eq!(b.data(), b"aXc");
        Ok(())
    }

    #[test]
    fn truncate_shortens_only() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(4, 8)?;
        b.extend_from_slice(b"abcdef")?;
        let room = b.tailroom();
        b.truncate(10);
        assert_eq!(b.data(), b"abcdef");
        b.truncate(usize::MAX);
        assert_eq!(b.data(), b"abcdef");
        b.truncate(2);
        assert_eq!(b.data(), b"ab");
        assert_eq!(b.tailroom(), room + 4);
        assert_eq!(b.headroom(), 4);
        b.truncate(0);
        assert!(b.is_empty());
        Ok(())
    }

    #[test]
    fn reset_reuses_the_allocation() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(16, 64)?;
        b.extend_from_slice(&[1; 64])?;
        b.push_front(16)?;
        let at = b.data().as_ptr();
        b.reset(32)?;
        assert_eq!((b.headroom(), b.len()), (32, 0));
        assert!(b.tailroom() >= 48);
        b.reset(0)?;
        assert_eq!(b.data().as_ptr(), at);
        assert_eq!((b.headroom(), b.len()), (0, 0));
        b.reset(1000)?;
        assert_eq!(b.headroom(), 1000);
        Ok(())
    }

    #[test]
    fn reset_failure_leaves_the_buffer_alone() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(2, 4)?;
        b.extend_from_slice(b"keep")?;
        assert_eq!(b.reset(usize::MAX), Err(BufError::AllocFailed));
        assert_eq!(b.data(), b"keep");
        assert_eq!(b.headroom(), 2);
        Ok(())
    }

    #[test]
    fn errors_display() {
        let e = BufError::NoHeadroom {
            requested: 20,
            available: 4,
        };
        assert_eq!(
            e.to_string(),
            "cannot prepend 20 bytes: only 4 bytes of headroom"
        );
        let e = BufError::TooShort {
            requested: 20,
            available: 3,
        };
        assert_eq!(
            e.to_string(),
            "cannot strip 20 bytes: the buffer holds only 3"
        );
        assert_eq!(
            BufError::AllocFailed.to_string(),
            "cannot allocate the buffer: size too large or out of memory"
        );
    }

    #[test]
    fn debug_shows_the_layout() -> Result<(), BufError> {
        let mut b = SegBuf::with_headroom(1, 0)?;
        b.extend_from_slice(&[7])?;
        let s = alloc::format!("{b:?}");
        assert!(s.starts_with("SegBuf { headroom: 1, data: [7], tailroom: "));
        Ok(())
    }
}
