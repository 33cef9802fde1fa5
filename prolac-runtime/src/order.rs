//! Network byte order: big-endian reads and writes at an offset, and big-endian field types.
//!
//! The `read_*` functions return `None` and the `write_*` functions return [`OutOfBounds`]
//! when the field does not fit in the slice (including when `offset + width` overflows), so
//! a truncated packet is an ordinary error rather than a panic.
//!
//! [`NetU16`] and [`NetU32`] store a value as its big-endian bytes. They have alignment 1 and
//! the size of the integer, so header layouts can use them for fields at any offset.

use core::fmt;

/// A field of `width` bytes at `offset` does not fit in a slice of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutOfBounds {
    /// Where the field starts.
    pub offset: usize,
    /// How many bytes the field has.
    pub width: usize,
    /// How many bytes the slice has.
    pub len: usize,
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-byte field at offset {} does not fit in {} bytes",
            self.width, self.offset, self.len
        )
    }
}

impl core::error::Error for OutOfBounds {}

/// The `N` bytes at `offset`, if they are all inside `buf`.
#[inline]
fn field<const N: usize>(buf: &[u8], offset: usize) -> Option<[u8; N]> {
    let end = offset.checked_add(N)?;
    let bytes: &[u8; N] = buf.get(offset..end)?.try_into().ok()?;
    Some(*bytes)
}

/// The `N` bytes at `offset` for writing, or the error describing why they do not fit.
#[inline]
fn field_mut<const N: usize>(buf: &mut [u8], offset: usize) -> Result<&mut [u8; N], OutOfBounds> {
    let len = buf.len();
    let err = OutOfBounds {
        offset,
        width: N,
        len,
    };
    let end = offset.checked_add(N).ok_or(err)?;
    buf.get_mut(offset..end)
        .and_then(|s| s.try_into().ok())
        .ok_or(err)
}

/// Reads a big-endian `u16` at `offset`; `None` if `buf` is too short.
#[inline]
#[must_use]
pub fn read_u16_be(buf: &[u8], offset: usize) -> Option<u16> {
    field(buf, offset).map(u16::from_be_bytes)
}

/// Reads a big-endian `u32` at `offset`; `None` if `buf` is too short.
#[inline]
#[must_use]
pub fn read_u32_be(buf: &[u8], offset: usize) -> Option<u32> {
    field(buf, offset).map(u32::from_be_bytes)
}

/// Reads a big-endian `u64` at `offset`; `None` if `buf` is too short.
#[inline]
#[must_use]
pub fn read_u64_be(buf: &[u8], offset: usize) -> Option<u64> {
    field(buf, offset).map(u64::from_be_bytes)
}

/// Writes `value` big-endian at `offset`. On error `buf` is unchanged.
#[inline]
pub fn write_u16_be(buf: &mut [u8], offset: usize, value: u16) -> Result<(), OutOfBounds> {
    *field_mut(buf, offset)? = value.to_be_bytes();
    Ok(())
}

/// Writes `value` big-endian at `offset`. On error `buf` is unchanged.
#[inline]
pub fn write_u32_be(buf: &mut [u8], offset: usize, value: u32) -> Result<(), OutOfBounds> {
    *field_mut(buf, offset)? = value.to_be_bytes();
    Ok(())
}

/// Writes `value` big-endian at `offset`. On error `buf` is unchanged.
#[inline]
pub fn write_u64_be(buf: &mut [u8], offset: usize, value: u64) -> Result<(), OutOfBounds> {
    *field_mut(buf, offset)? = value.to_be_bytes();
    Ok(())
}

/// A `u16` stored in network byte order (big-endian), with alignment 1.
///
/// ```
/// use prolac_runtime::NetU16;
///
/// let mut port = NetU16::new(80);
/// assert_eq!(port.to_bytes(), [0x00, 0x50]);
/// port.set(0x1234);
/// assert_eq!(port.get(), 0x1234);
/// assert_eq!(port.to_bytes(), [0x12, 0x34]);
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NetU16([u8; 2]);

impl NetU16 {
    /// Stores `value` in network byte order.
    #[inline]
    #[must_use]
    pub const fn new(value: u16) -> Self {
        Self(value.to_be_bytes())
    }

    /// The value, in host byte order.
    #[inline]
    #[must_use]
    pub const fn get(self) -> u16 {
        u16::from_be_bytes(self.0)
    }

    /// Replaces the value (given in host byte order).
    #[inline]
    pub const fn set(&mut self, value: u16) {
        self.0 = value.to_be_bytes();
    }

    /// Wraps bytes that are already in network byte order.
    #[inline]
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 2]) -> Self {
        Self(bytes)
    }

    /// The stored bytes, in network byte order.
    #[inline]
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 2] {
        self.0
    }
}

impl From<u16> for NetU16 {
    #[inline]
    fn from(value: u16) -> Self {
        Self::new(value)
    }
}

impl From<NetU16> for u16 {
    #[inline]
    fn from(value: NetU16) -> Self {
        value.get()
    }
}

impl fmt::Debug for NetU16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NetU16").field(&self.get()).finish()
    }
}

/// A `u32` stored in network byte order (big-endian), with alignment 1.
///
/// ```
/// use prolac_runtime::NetU32;
///
/// let mut seq = NetU32::from_bytes([0xde, 0xad, 0xbe, 0xef]);
/// assert_eq!(seq.get(), 0xdead_beef);
/// seq.set(1);
/// assert_eq!(seq.to_bytes(), [0, 0, 0, 1]);
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NetU32([u8; 4]);

impl NetU32 {
    /// Stores `value` in network byte order.
    #[inline]
    #[must_use]
    pub const fn new(value: u32) -> Self {
        Self(value.to_be_bytes())
    }

    /// The value, in host byte order.
    #[inline]
    #[must_use]
    pub const fn get(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// Replaces the value (given in host byte order).
    #[inline]
    pub const fn set(&mut self, value: u32) {
        self.0 = value.to_be_bytes();
    }

    /// Wraps bytes that are already in network byte order.
    #[inline]
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(bytes)
    }

    /// The stored bytes, in network byte order.
    #[inline]
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 4] {
        self.0
    }
}

impl From<u32> for NetU32 {
    #[inline]
    fn from(value: u32) -> Self {
        Self::new(value)
    }
}

impl From<NetU32> for u32 {
    #[inline]
    fn from(value: NetU32) -> Self {
        value.get()
    }
}

impl fmt::Debug for NetU32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NetU32").field(&self.get()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn reads_are_big_endian() {
        let buf = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        assert_eq!(read_u16_be(&buf, 0), Some(0x0102));
        assert_eq!(read_u16_be(&buf, 7), Some(0x0809));
        assert_eq!(read_u32_be(&buf, 1), Some(0x0203_0405));
        assert_eq!(read_u64_be(&buf, 1), Some(0x0203_0405_0607_0809));
    }

    #[test]
    fn short_reads_are_none() {
        let buf = [0u8; 8];
        assert_eq!(read_u16_be(&buf, 7), None);
        assert_eq!(read_u16_be(&buf, 8), None);
        assert_eq!(read_u32_be(&buf, 5), None);
        assert_eq!(read_u64_be(&buf, 1), None);
        assert_eq!(read_u64_be(&[], 0), None);
        assert_eq!(read_u16_be(&buf, usize::MAX), None);
        assert_eq!(read_u64_be(&buf, usize::MAX - 3), None);
    }

    #[test]
    fn writes_are_big_endian() {
        let mut buf = [0u8; 10];
        assert_eq!(write_u16_be(&mut buf, 0, 0xa1a2), Ok(()));
        assert_eq!(write_u32_be(&mut buf, 2, 0xb1b2_b3b4), Ok(()));
        assert_eq!(write_u32_be(&mut buf, 6, 0xc1c2_c3c4), Ok(()));
        assert_eq!(
            buf,
            [0xa1, 0xa2, 0xb1, 0xb2, 0xb3, 0xb4, 0xc1, 0xc2, 0xc3, 0xc4]
        );
        assert_eq!(write_u64_be(&mut buf, 1, 0x0102_0304_0506_0708), Ok(()));
        assert_eq!(buf, [0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 0xc4]);
    }

    #[test]
    fn short_writes_fail_and_leave_the_buffer_alone() {
        let mut buf = [0xeeu8; 6];
        let err = OutOfBounds {
            offset: 3,
            width: 4,
            len: 6,
        };
        assert_eq!(write_u32_be(&mut buf, 3, 0), Err(err));
        assert_eq!(
            err.to_string(),
            "4-byte field at offset 3 does not fit in 6 bytes"
        );
        assert!(write_u16_be(&mut buf, 5, 0).is_err());
        assert!(write_u64_be(&mut buf, 0, 0).is_err());
        assert!(write_u16_be(&mut buf, usize::MAX, 0).is_err());
        assert!(write_u64_be(&mut [], 0, 0).is_err());
        assert_eq!(buf, [0xee; 6]);
    }

    #[test]
    fn net_wrappers() {
        assert_eq!(core::mem::size_of::<NetU16>(), 2);
        assert_eq!(core::mem::align_of::<NetU16>(), 1);
        assert_eq!(core::mem::size_of::<NetU32>(), 4);
        assert_eq!(core::mem::align_of::<NetU32>(), 1);

        let mut a = NetU16::from(0xabcd);
        assert_eq!(a.to_bytes(), [0xab, 0xcd]);
        a.set(7);
        assert_eq!(u16::from(a), 7);
        assert_eq!(NetU16::from_bytes([1, 2]).get(), 0x0102);
        assert_eq!(NetU16::default().get(), 0);
        assert_eq!(format!("{a:?}"), "NetU16(7)");

        let mut b = NetU32::from(0x0102_0304);
        assert_eq!(b.to_bytes(), [1, 2, 3, 4]);
        b.set(u32::MAX);
        assert_eq!(u32::from(b), u32::MAX);
        assert_eq!(NetU32::new(9), NetU32::from_bytes([0, 0, 0, 9]));
        assert_eq!(format!("{b:?}"), "NetU32(4294967295)");
    }
}
