//! The Internet checksum (RFC 1071), computed eight bytes at a time, with RFC 1624 updates.
//!
//! The checksum is the one's complement of the one's-complement sum of the data taken as
//! big-endian 16-bit words (an odd trailing byte is padded with a zero byte). IPv4, ICMP, UDP
//! and TCP all use it.
//!
//! # How it is fast
//!
//! One's-complement addition is associative and commutative, and a sum over 64-bit words
//! with end-around carry folds down to the same 16-bit sum as a sum over 16-bit words
//! (2¹⁶ − 1 divides 2⁶⁴ − 1). It is also independent of byte order up to a final byte
//! swap (RFC 1071 §2(B)). So the inner loop reads 8-byte chunks with `u64::from_ne_bytes`
//! (no byte swapping, any alignment), adds them into four independent `u64` accumulators
//! with end-around carry (32 bytes per iteration), and only the final 16-bit result is
//! converted to network byte order.
//!
//! # Pieces
//!
//! [`Checksum`] accumulates a checksum over several pieces (a pseudo header, a header, a
//! payload spread over buffers). Pieces may have odd lengths: a piece that starts at an odd
//! position of the overall byte stream has its partial sum rotated by one byte before being
//! added, which is the same as re-pairing its bytes.
//!
//! ```
//! use prolac_runtime::checksum::{Checksum, checksum};
//!
//! let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
//! assert_eq!(checksum(&data), 0x220d);
//!
//! let mut c = Checksum::new();
//! c.add_bytes(&data[..3]);
//! c.add_bytes(&data[3..]);
//! assert_eq!(c.sum(), 0xddf2);
//! assert_eq!(c.finish(), 0x220d);
//! ```

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::mem::MaybeUninit;
use core::ops::{Deref, Range};

/// Adds two one's-complement values modulo 2⁶⁴ − 1 (addition with end-around carry).
#[inline(always)]
const fn add_carry(a: u64, b: u64) -> u64 {
    let (sum, carry) = a.overflowing_add(b);
    sum + carry as u64
}

/// Folds a one's-complement value modulo 2⁶⁴ − 1 into one modulo 2¹⁶ − 1.
///
/// A non-zero input gives a non-zero output, so the result is zero only for all-zero data,
/// exactly as with a 16-bit-at-a-time sum.
#[inline]
const fn fold(x: u64) -> u16 {
    let x = (x & 0xffff_ffff) + (x >> 32); // < 2^33
    let x = (x & 0xffff) + (x >> 16); // < 2^16 + 2^17
    let x = (x & 0xffff) + (x >> 16); // <= 0x1_0001
    let x = (x & 0xffff) + (x >> 16); // <= 0xffff
    x as u16
}

/// One 8-byte word, read in native byte order.
#[inline(always)]
const fn word(bytes: &[u8; 8]) -> u64 {
    u64::from_ne_bytes(*bytes)
}

/// The one's-complement sum of `data` as 16-bit words read in *native* byte order (an odd
/// trailing byte padded with zero), modulo 2⁶⁴ − 1. Assumes `data` starts at an even position.
///
/// On x86-64 data of 64 bytes or more is summed in 16-byte blocks with SSE2 (part of every
/// x86-64 CPU), or 32-byte ones with AVX2 where the CPU has it (checked at run time), and the
/// rest eight bytes at a time; shorter data eight bytes at a time.
#[inline]
fn sum_native(data: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if data.len() < SHORT {
            return sum_short(data);
        }
        if data.len() >= 128 && avx2::available() {
            let (blocks, rest) = data.as_chunks::<32>();
            let (halves, rest) = rest.as_chunks::<16>();
            return add_carry(
                avx2::sum_blocks(blocks),
                add_carry(sse2::sum_blocks(halves), sum_words(rest)),
            );
        }
        let (blocks, rest) = data.as_chunks::<16>();
        add_carry(sse2::sum_blocks(blocks), sum_words(rest))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        sum_words(data)
    }
}

/// Below this many bytes (a header, the edges of a [`SummedBytes`] range) eight bytes at a
/// time beat the vector blocks, whose set-up and reduction cost more than they save.
#[cfg(target_arch = "x86_64")]
const SHORT: usize = 64;

/// [`sum_native`] of fewer than [`SHORT`] bytes: whole 8-byte words, and the last 1–7 bytes
/// read as the top of the data's last word, shifted down (x86-64 is little-endian: the
/// bytes keep their places in their 16-bit words, and the rest is zero).
#[cfg(target_arch = "x86_64")]
#[inline]
fn sum_short(data: &[u8]) -> u64 {
    let n = data.len();
    if n < 8 {
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(data) {
            *d = *s;
        }
        return word(&w);
    }
    let (words, rest) = data.as_chunks::<8>();
    let mut sum = 0;
    for w in words {
        sum = add_carry(sum, word(w));
    }
    if let Some(last) = data.last_chunk::<8>()
        && !rest.is_empty()
    {
        sum = add_carry(sum, word(last) >> (8 * (8 - rest.len())));
    }
    sum
}

/// Copies `src` into `dst` (of the same length) and returns [`sum_native`] of `src`: one pass
/// over the data where the CPU has AVX2, a copy and then a sum otherwise.
#[inline]
fn copy_sum_native(src: &[u8], dst: &mut [MaybeUninit<u8>]) -> u64 {
    assert_eq!(src.len(), dst.len(), "copy_sum_native: lengths differ");
    #[cfg(target_arch = "x86_64")]
    {
        if src.len() >= 128 && avx2::available() {
            let (blocks, rest) = src.as_chunks::<32>();
            let (out, out_rest) = dst.as_chunks_mut::<32>();
            let head = avx2::copy_sum_blocks(blocks, out);
            copy_into(rest, out_rest);
            // The rest starts at a multiple of 32: an even position.
            return add_carry(head, sum_native(rest));
        }
    }
    copy_into(src, dst);
    sum_native(src)
}

/// Copies `src` into `dst` (of the same length); a plain copy loop, which compiles to one.
#[inline]
fn copy_into(src: &[u8], dst: &mut [MaybeUninit<u8>]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.write(*s);
    }
}

/// SSE2 kernel of [`sum_native`].
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_loadu_si128, _mm_madd_epi16, _mm_set1_epi16, _mm_setzero_si128,
        _mm_storeu_si128, _mm_xor_si128,
    };

    /// Blocks per run of the accumulators: each 32-bit lane gains at most 2¹⁶ in magnitude
    /// per block, so 2¹⁴ blocks (256 KiB) stay far from overflow.
    const RUN: usize = 1 << 14;

    /// The sum of the native-order 16-bit words of `blocks`, exactly (it fits in 64 bits
    /// for any slice in memory).
    #[inline]
    pub(super) fn sum_blocks(blocks: &[[u8; 16]]) -> u64 {
        blocks.chunks(RUN).map(sum_run).sum()
    }

    /// Each word is biased into a signed one (`w - 2¹⁵`, by flipping its top bit), pairs of
    /// them are added into 32-bit lanes by `pmaddwd` against ones, and the bias is added back
    /// at the end: four instructions per 16 bytes.
    #[inline]
    fn sum_run(blocks: &[[u8; 16]]) -> u64 {
        // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are always
        // available; each load reads one 16-byte array of `blocks` (unaligned loads).
        let lanes: [i32; 8] = unsafe {
            let bias = _mm_set1_epi16(i16::MIN);
            let ones = _mm_set1_epi16(1);
            let (mut a, mut b) = (_mm_setzero_si128(), _mm_setzero_si128());
            let (pairs, last) = blocks.as_chunks::<2>();
            for [x, y] in pairs {
                let x = _mm_loadu_si128(x.as_ptr().cast::<__m128i>());
                let y = _mm_loadu_si128(y.as_ptr().cast::<__m128i>());
                a = _mm_add_epi32(a, _mm_madd_epi16(_mm_xor_si128(x, bias), ones));
                b = _mm_add_epi32(b, _mm_madd_epi16(_mm_xor_si128(y, bias), ones));
            }
            if let [x] = last {
                let x = _mm_loadu_si128(x.as_ptr().cast::<__m128i>());
                a = _mm_add_epi32(a, _mm_madd_epi16(_mm_xor_si128(x, bias), ones));
            }
            let mut out = [0i32; 8];
            _mm_storeu_si128(out.as_mut_ptr().cast::<__m128i>(), a);
            _mm_storeu_si128(out.as_mut_ptr().add(4).cast::<__m128i>(), b);
            out
        };
        let signed: i64 = lanes.iter().map(|&l| i64::from(l)).sum();
        // Eight words per block, each biased by −2¹⁵.
        (signed + (blocks.len() as i64) * 8 * 32768) as u64
    }
}

/// The AVX2 kernel of [`sum_native`], for CPUs that have it (checked at run time, once):
/// [`sse2`]'s method on 32-byte blocks.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use core::mem::MaybeUninit;

    use core::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_set1_epi16,
        _mm256_setzero_si256, _mm256_storeu_si256, _mm256_xor_si256,
    };

    cpufeatures::new!(cpu_avx2, "avx2");

    /// Blocks per run: each 32-bit lane gains at most 2¹⁶ in magnitude per block added to
    /// it, and each of the two accumulators takes half the blocks: far from overflow.
    const RUN: usize = 1 << 13;

    /// Whether this CPU (and its OS) runs AVX2.
    #[inline]
    pub(super) fn available() -> bool {
        cpu_avx2::get()
    }

    /// The sum of the native-order 16-bit words of `blocks`, exactly. Call only when
    /// [`available`] says so.
    #[inline]
    pub(super) fn sum_blocks(blocks: &[[u8; 32]]) -> u64 {
        debug_assert!(available());
        blocks
            .chunks(RUN)
            // SAFETY: the caller checked that the CPU has AVX2.
            .map(|run| unsafe { sum_run(run) })
            .sum()
    }

    /// As in [`super::sse2`]: words biased to signed ones, pairs added by `vpmaddwd`
    /// against ones, the bias added back at the end.
    #[target_feature(enable = "avx2")]
    fn sum_run(blocks: &[[u8; 32]]) -> u64 {
        let bias = _mm256_set1_epi16(i16::MIN);
        let ones = _mm256_set1_epi16(1);
        let (mut a, mut b) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        let (pairs, last) = blocks.as_chunks::<2>();
        for [x, y] in pairs {
            // SAFETY: each load reads one 32-byte array of `blocks` (unaligned loads).
            let (x, y) = unsafe {
                (
                    _mm256_loadu_si256(x.as_ptr().cast::<__m256i>()),
                    _mm256_loadu_si256(y.as_ptr().cast::<__m256i>()),
                )
            };
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_xor_si256(x, bias), ones));
            b = _mm256_add_epi32(b, _mm256_madd_epi16(_mm256_xor_si256(y, bias), ones));
        }
        if let [x] = last {
            // SAFETY: as above.
            let x = unsafe { _mm256_loadu_si256(x.as_ptr().cast::<__m256i>()) };
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_xor_si256(x, bias), ones));
        }
        let mut out = [0i32; 16];
        // SAFETY: `out` holds two 32-byte vectors (unaligned stores).
        unsafe {
            _mm256_storeu_si256(out.as_mut_ptr().cast::<__m256i>(), a);
            _mm256_storeu_si256(out.as_mut_ptr().add(8).cast::<__m256i>(), b);
        }
        let signed: i64 = out.iter().map(|&l| i64::from(l)).sum();
        // Sixteen words per block, each biased by −2¹⁵.
        (signed + (blocks.len() as i64) * 16 * 32768) as u64
    }

    /// [`sum_blocks`] that also copies each block into `out` (as long as `blocks`). Call
    /// only when [`available`] says so.
    #[inline]
    pub(super) fn copy_sum_blocks(blocks: &[[u8; 32]], out: &mut [[MaybeUninit<u8>; 32]]) -> u64 {
        debug_assert!(available());
        assert_eq!(blocks.len(), out.len(), "copy_sum_blocks: lengths differ");
        blocks
            .chunks(RUN)
            .zip(out.chunks_mut(RUN))
            // SAFETY: the caller checked that the CPU has AVX2.
            .map(|(run, out)| unsafe { copy_sum_run(run, out) })
            .sum()
    }

    /// [`sum_run`] storing each block it loads into `out` (as long as `blocks`): the copy
    /// costs one store per 32 bytes on top of the sum. Four blocks per step, two
    /// accumulators.
    #[target_feature(enable = "avx2")]
    fn copy_sum_run(blocks: &[[u8; 32]], out: &mut [[MaybeUninit<u8>; 32]]) -> u64 {
        let bias = _mm256_set1_epi16(i16::MIN);
        let ones = _mm256_set1_epi16(1);
        let (mut a, mut b) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        let n = blocks.len().min(out.len());
        let (quads, rest) = blocks[..n].as_chunks::<4>();
        let (out_quads, out_rest) = out[..n].as_chunks_mut::<4>();
        for (q, o) in quads.iter().zip(out_quads) {
            // SAFETY: each load reads one 32-byte array of `blocks` and each store writes one
            // 32-byte array of `out` (unaligned loads and stores).
            unsafe {
                let w = _mm256_loadu_si256(q[0].as_ptr().cast::<__m256i>());
                let x = _mm256_loadu_si256(q[1].as_ptr().cast::<__m256i>());
                let y = _mm256_loadu_si256(q[2].as_ptr().cast::<__m256i>());
                let z = _mm256_loadu_si256(q[3].as_ptr().cast::<__m256i>());
                _mm256_storeu_si256(o[0].as_mut_ptr().cast::<__m256i>(), w);
                _mm256_storeu_si256(o[1].as_mut_ptr().cast::<__m256i>(), x);
                _mm256_storeu_si256(o[2].as_mut_ptr().cast::<__m256i>(), y);
                _mm256_storeu_si256(o[3].as_mut_ptr().cast::<__m256i>(), z);
                let wx = _mm256_add_epi32(
                    _mm256_madd_epi16(_mm256_xor_si256(w, bias), ones),
                    _mm256_madd_epi16(_mm256_xor_si256(x, bias), ones),
                );
                let yz = _mm256_add_epi32(
                    _mm256_madd_epi16(_mm256_xor_si256(y, bias), ones),
                    _mm256_madd_epi16(_mm256_xor_si256(z, bias), ones),
                );
                a = _mm256_add_epi32(a, wx);
                b = _mm256_add_epi32(b, yz);
            }
        }
        for (x, ox) in rest.iter().zip(out_rest) {
            // SAFETY: as above.
            unsafe {
                let x = _mm256_loadu_si256(x.as_ptr().cast::<__m256i>());
                _mm256_storeu_si256(ox.as_mut_ptr().cast::<__m256i>(), x);
                a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_xor_si256(x, bias), ones));
            }
        }
        let mut lanes = [0i32; 16];
        // SAFETY: `lanes` holds two 32-byte vectors (unaligned stores).
        unsafe {
            _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>(), a);
            _mm256_storeu_si256(lanes.as_mut_ptr().add(8).cast::<__m256i>(), b);
        }
        let signed: i64 = lanes.iter().map(|&l| i64::from(l)).sum();
        (signed + (n as i64) * 16 * 32768) as u64
    }
}

/// [`sum_native`] eight bytes at a time.
#[inline]
fn sum_words(data: &[u8]) -> u64 {
    let (words, rest) = data.as_chunks::<8>();
    let (quads, words) = words.as_chunks::<4>();
    let (mut a, mut b, mut c, mut d) = (0u64, 0u64, 0u64, 0u64);
    for [w0, w1, w2, w3] in quads {
        a = add_carry(a, word(w0));
        b = add_carry(b, word(w1));
        c = add_carry(c, word(w2));
        d = add_carry(d, word(w3));
    }
    for w in words {
        a = add_carry(a, word(w));
    }
    // At most 7 bytes remain: at most three pairs and one single byte. Their sum fits easily.
    let (pairs, last) = rest.as_chunks::<2>();
    let mut e = 0u64;
    for pair in pairs {
        e += u64::from(u16::from_ne_bytes(*pair));
    }
    if let [byte] = last {
        e += u64::from(u16::from_ne_bytes([*byte, 0]));
    }
    add_carry(add_carry(add_carry(a, b), add_carry(c, d)), e)
}

/// An Internet checksum being accumulated over one or more pieces of data.
///
/// Pieces are added in order with [`add_bytes`](Self::add_bytes), [`add_u16`](Self::add_u16)
/// and [`add_u32`](Self::add_u32); the result is the same as for the concatenation of all
/// pieces, whatever their lengths. [`finish`](Self::finish) gives the checksum to store in a
/// header, [`sum`](Self::sum) the uncomplemented sum.
///
/// ```
/// use prolac_runtime::checksum::{Checksum, checksum, pseudo_header_ipv4};
///
/// let segment = [0x12, 0x34, 0x00, 0x50, 0xab];
/// let mut c = pseudo_header_ipv4([10, 0, 0, 1], [10, 0, 0, 2], 6, segment.len() as u16);
/// c.add_bytes(&segment);
///
/// let mut whole = vec![10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 5];
/// whole.extend_from_slice(&segment);
/// assert_eq!(c.finish(), checksum(&whole));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Checksum {
    /// The sum so far in native-byte-order lanes, modulo 2⁶⁴ − 1.
    sum: u64,
    /// Whether an odd number of bytes has been added so far.
    odd: bool,
}

impl Checksum {
    /// An empty accumulator.
    #[inline]
    #[must_use]
    pub const fn new() -> Self {
        Self { sum: 0, odd: false }
    }

    /// Adds a partial sum computed as if its data started at an even position.
    #[inline]
    const fn add_native(&mut self, partial: u64) {
        // Starting at an odd position swaps every byte's place in its 16-bit word, which is a
        // multiplication by 2^8 modulo 2^16 - 1: a rotation by 8 bits of the 64-bit sum.
        let partial = if self.odd {
            partial.rotate_left(8)
        } else {
            partial
        };
        self.sum = add_carry(self.sum, partial);
    }

    /// Adds `len` bytes whose native sum, paired from their own first byte, is `partial`.
    #[inline]
    const fn add_partial(&mut self, partial: u64, len: usize) {
        self.add_native(partial);
        self.odd ^= len % 2 == 1;
    }

    /// Adds the bytes of `data`, which follow the bytes added so far.
    #[inline]
    pub fn add_bytes(&mut self, data: &[u8]) {
        self.add_native(sum_native(data));
        self.odd ^= data.len() % 2 == 1;
    }

    /// Appends `src` to `dst` and adds its bytes, in one pass over them where the CPU allows
    /// (AVX2): the checksum folded into the copy.
    #[allow(unsafe_code)]
    pub fn add_copied(&mut self, src: &[u8], dst: &mut Vec<u8>) {
        dst.reserve(src.len());
        let len = dst.len();
        let partial = copy_sum_native(src, &mut dst.spare_capacity_mut()[..src.len()]);
        // SAFETY: `copy_sum_native` initialised all `src.len()` bytes after `len`, which the
        // `reserve` above made room for.
        unsafe { dst.set_len(len + src.len()) };
        self.add_native(partial);
        self.odd ^= src.len() % 2 == 1;
    }

    /// Adds `len` bytes whose own one's-complement sum (their [`sum`](Self::sum), computed
    /// from their first byte) is `sum`: the same as adding the bytes again.
    #[inline]
    pub const fn add_sum(&mut self, sum: u16, len: usize) {
        self.add_u16(sum);
        self.odd ^= len % 2 == 1;
    }

    /// Adds a 16-bit value as its two big-endian bytes (the same as
    /// `add_bytes(&value.to_be_bytes())`).
    #[inline]
    pub const fn add_u16(&mut self, value: u16) {
        self.add_native(u16::from_ne_bytes(value.to_be_bytes()) as u64);
    }

    /// Adds a 32-bit value as its four big-endian bytes (the same as
    /// `add_bytes(&value.to_be_bytes())`).
    #[inline]
    pub const fn add_u32(&mut self, value: u32) {
        self.add_native(u32::from_ne_bytes(value.to_be_bytes()) as u64);
    }

    /// The one's-complement sum of everything added so far, as a host-order value of the
    /// big-endian 16-bit sum (zero only if every byte added was zero).
    #[inline]
    #[must_use]
    pub const fn sum(&self) -> u16 {
        u16::from_be(fold(self.sum))
    }

    /// The checksum: the one's complement of [`sum`](Self::sum). Store it big-endian.
    ///
    /// Over data that already contains a correct checksum the result is `0`.
    #[inline]
    #[must_use]
    pub const fn finish(&self) -> u16 {
        !self.sum()
    }
}

/// The most pieces [`PieceSums`] records: a 64 KiB segment cut at 1,024 bytes or more.
pub const MAX_PIECES: usize = 64;

/// The one's-complement sums of a segment's data cut in pieces of `size` bytes (the last may
/// be shorter; size 0: one piece), each summed from its own first byte, as each piece becomes
/// a segment of its own. Made while the data is copied ([`copy_pieces`]), so that the
/// checksum of each piece's segment needs only its headers added. Empty by default: sums
/// that were not made, which [`piece`](Self::piece) never gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PieceSums {
    size: u32,
    len: u32,
    count: u8,
    sums: [u16; MAX_PIECES],
}

impl Default for PieceSums {
    fn default() -> Self {
        Self::NONE
    }
}

impl PieceSums {
    /// No sums.
    pub const NONE: PieceSums = PieceSums {
        size: 0,
        len: 0,
        count: 0,
        sums: [0; MAX_PIECES],
    };

    /// The sum of piece `i` of `len` data bytes cut at `size` (0: one piece), if these sums
    /// were made for exactly that data and cut.
    #[inline]
    #[must_use]
    pub fn piece(&self, size: usize, len: usize, i: usize) -> Option<u16> {
        let pieces = if size == 0 {
            1
        } else {
            len.div_ceil(size).max(1)
        };
        (self.count > 0
            && self.size as usize == size
            && self.len as usize == len
            && usize::from(self.count) == pieces
            && i < pieces)
            .then(|| self.sums[i])
    }
}

/// Appends the bytes of `parts` (one run of data spread over buffers, such as the two halves
/// of a ring) to `dst` and sums them in pieces of `size` bytes (0: one piece), each piece
/// summed from its own first byte; the copy and the sums in one pass where the CPU allows.
/// The sums are empty ([`PieceSums::NONE`]) when there would be more than [`MAX_PIECES`]
/// pieces (the data is copied all the same), or more than 4 GiB of data.
pub fn copy_pieces(parts: &[&[u8]], size: usize, dst: &mut Vec<u8>) -> PieceSums {
    let len = parts.iter().map(|p| p.len()).sum();
    copy_in_pieces(parts.iter().map(|p| Span::Bytes(p)), len, size, dst)
}

/// One run of data to copy into a segment ([`copy_spans`]): bytes to sum as they are copied,
/// or a range of a [`SummedBytes`], whose sums are looked up.
#[derive(Clone, Debug)]
pub enum Span<'a> {
    /// Bytes summed as they are copied.
    Bytes(&'a [u8]),
    /// `.1` of the bytes of `.0`: copied, their sums taken from its table.
    Summed(&'a SummedBytes, Range<usize>),
}

impl Span<'_> {
    /// How many bytes the span holds (an out-of-range [`Span::Summed`] holds none).
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Span::Bytes(b) => b.len(),
            Span::Summed(s, r) => s.get(r.clone()).map_or(0, <[u8]>::len),
        }
    }

    /// Whether the span holds no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`copy_pieces`] over spans of which some are [`SummedBytes`]: those are copied without
/// being summed again. The same bytes and sums as `copy_pieces` over the spans' bytes (a sum
/// may be `0xFFFF` where that gives `0`: the same number in one's complement).
pub fn copy_spans(spans: &[Span<'_>], size: usize, dst: &mut Vec<u8>) -> PieceSums {
    let len = spans.iter().map(Span::len).sum();
    copy_in_pieces(spans.iter().cloned(), len, size, dst)
}

/// The loop of [`copy_pieces`] and [`copy_spans`]: `len` bytes in `spans`.
fn copy_in_pieces<'a>(
    spans: impl Iterator<Item = Span<'a>>,
    len: usize,
    size: usize,
    dst: &mut Vec<u8>,
) -> PieceSums {
    let Some(mut sums) = PieceSumsBuilder::new(len, size) else {
        spans.for_each(|s| s.copy_to(dst));
        return PieceSums::NONE;
    };
    if len < 128 && (size == 0 || size >= len) {
        // One short piece (a request, an answer): no vector loop to gain from.
        for span in spans {
            span.copy_summed(&mut sums.sum, dst, false);
        }
        return sums.finish();
    }
    dst.reserve(len);
    for mut span in spans {
        while !span.is_empty() {
            let take = span.len().min(sums.room());
            let (head, rest) = span.split_at(take);
            head.copy_summed(&mut sums.sum, dst, true);
            span = rest;
            sums.added(take);
        }
    }
    sums.finish()
}

/// [`PieceSums`] being made, piece after piece, as the bytes are added to `sum`.
struct PieceSumsBuilder {
    out: PieceSums,
    pieces: usize,
    /// The bytes of a piece.
    step: usize,
    /// The sum of the current piece so far.
    sum: Checksum,
    /// Its bytes so far.
    in_piece: usize,
}

impl PieceSumsBuilder {
    /// For `len` bytes cut at `size` (0: one piece); `None` when the sums cannot be kept
    /// (more than [`MAX_PIECES`] pieces, or more than 4 GiB).
    fn new(len: usize, size: usize) -> Option<PieceSumsBuilder> {
        let pieces = if size == 0 {
            1
        } else {
            len.div_ceil(size).max(1)
        };
        let (Ok(size32), Ok(len32)) = (u32::try_from(size), u32::try_from(len)) else {
            return None;
        };
        (pieces <= MAX_PIECES).then(|| PieceSumsBuilder {
            out: PieceSums {
                size: size32,
                len: len32,
                count: 0,
                sums: [0; MAX_PIECES],
            },
            pieces,
            step: if size == 0 { len.max(1) } else { size },
            sum: Checksum::new(),
            in_piece: 0,
        })
    }

    /// How many more bytes the current piece takes.
    const fn room(&self) -> usize {
        self.step - self.in_piece
    }

    /// `n` more bytes of the current piece are in `sum` (at most [`room`](Self::room)): a
    /// full piece's sum is kept.
    fn added(&mut self, n: usize) {
        self.in_piece += n;
        if self.in_piece == self.step {
            self.close();
        }
    }

    fn close(&mut self) {
        self.out.sums[usize::from(self.out.count)] = self.sum.sum();
        self.out.count += 1;
        self.sum = Checksum::new();
        self.in_piece = 0;
    }

    /// The sums, the last piece's (short, or the one piece of no bytes) included.
    fn finish(mut self) -> PieceSums {
        if self.in_piece > 0 || self.out.count == 0 {
            self.close();
        }
        debug_assert_eq!(usize::from(self.out.count), self.pieces);
        self.out
    }
}

impl<'a> Span<'a> {
    /// Appends the span's bytes to `dst`.
    fn copy_to(&self, dst: &mut Vec<u8>) {
        match self {
            Span::Bytes(b) => dst.extend_from_slice(b),
            Span::Summed(s, r) => dst.extend_from_slice(s.get(r.clone()).unwrap_or_default()),
        }
    }

    /// Appends the span's bytes to `dst` and adds them to `c`: summed in the copy
    /// (`vector`: in the vector loop), or looked up.
    fn copy_summed(&self, c: &mut Checksum, dst: &mut Vec<u8>, vector: bool) {
        match self {
            Span::Bytes(b) if vector => c.add_copied(b, dst),
            Span::Bytes(b) => {
                c.add_bytes(b);
                dst.extend_from_slice(b);
            }
            Span::Summed(s, r) => {
                self.copy_to(dst);
                s.add_range(c, r.clone());
            }
        }
    }

    /// The first `at` bytes of the span and the rest.
    fn split_at(&self, at: usize) -> (Span<'a>, Span<'a>) {
        match self {
            Span::Bytes(b) => {
                let (x, y) = b.split_at(at.min(b.len()));
                (Span::Bytes(x), Span::Bytes(y))
            }
            Span::Summed(s, r) => {
                let mid = r.start.saturating_add(at).min(r.end);
                (Span::Summed(s, r.start..mid), Span::Summed(s, mid..r.end))
            }
        }
    }
}

/// The bytes between two entries of a [`SummedBytes`] table.
const SUMMED_BLOCK: usize = 32;

/// Bytes that never change, with their running one's-complement sum at every 32nd byte:
/// the sum of any range of them is two table entries and two edges of fewer than 32 bytes,
/// each read as one masked 16-byte window (an edge of more than 16 bytes is its block less
/// the rest), however long the range. For data sent again and again (a file's contents
/// served from a cache, a fixed payload), summed once when made instead of once per segment
/// that carries it, as Cheetah and XIO did with the checksums of cached files. Clones share
/// the bytes and the table (4 bytes per 32 of data).
///
/// ```
/// use prolac_runtime::checksum::{Checksum, SummedBytes, checksum};
///
/// let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
/// let summed = SummedBytes::new(data.clone());
/// let mut c = Checksum::new();
/// summed.add_range(&mut c, 1001..4321);
/// assert_eq!(c.finish(), checksum(&data[1001..4321]));
/// ```
#[derive(Clone)]
pub struct SummedBytes(Arc<Summed>);

struct Summed {
    data: Box<[u8]>,
    /// `prefix[i]`: the native-order sum of `data[..32 * i]`, modulo 2³² − 1 (which 2¹⁶ − 1
    /// divides: the same checksum).
    prefix: Box<[u32]>,
}

impl fmt::Debug for SummedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SummedBytes")
            .field("len", &self.0.data.len())
            .finish_non_exhaustive()
    }
}

/// `BELOW[k]`: the bits of a 16-byte little-endian number's first `k` bytes.
const BELOW: [u128; 17] = {
    let mut masks = [0u128; 17];
    let mut k = 1;
    while k <= 16 {
        masks[k] = u128::MAX >> (128 - 8 * k);
        k += 1;
    }
    masks
};

/// Adds modulo 2³² − 1 (end-around carry).
#[inline]
const fn add_carry32(a: u32, b: u32) -> u32 {
    let (sum, carry) = a.overflowing_add(b);
    sum + carry as u32
}

impl SummedBytes {
    /// Takes `data` and sums it, 32 bytes at a time.
    #[must_use]
    pub fn new(data: impl Into<Box<[u8]>>) -> SummedBytes {
        let data = data.into();
        let mut prefix = Vec::with_capacity(data.len() / SUMMED_BLOCK + 1);
        let mut sum = 0u32;
        prefix.push(sum);
        for block in data.chunks_exact(SUMMED_BLOCK) {
            let s = sum_native(block);
            sum = add_carry32(sum, add_carry32(s as u32, (s >> 32) as u32));
            prefix.push(sum);
        }
        SummedBytes(Arc::new(Summed {
            data,
            prefix: prefix.into_boxed_slice(),
        }))
    }

    /// Adds the bytes of `range` to `c`, as [`Checksum::add_bytes`] of them would. A range
    /// reaching past the end adds the bytes up to it.
    pub fn add_range(&self, c: &mut Checksum, range: Range<usize>) {
        let end = range.end.min(self.0.data.len());
        let start = range.start.min(end);
        if end - start < SUMMED_BLOCK {
            c.add_bytes(&self.0.data[start..end]);
            return;
        }
        let sum = self.between(self.prefix_at(start), self.prefix_at(end), start);
        c.add_partial(sum, end - start);
    }

    /// The native sum of the bytes between two positions, from their
    /// [`prefix_at`](Self::prefix_at) sums, paired from `from` (the first position).
    #[inline]
    const fn between(&self, at_from: u64, at_to: u64, from: usize) -> u64 {
        let sum = ones_sub(at_to, at_from);
        if from % 2 == 1 {
            sum.rotate_left(8)
        } else {
            sum
        }
    }

    /// The native sum of `data[..x]` (`x` at most the length), paired from the start: its
    /// block's table entry and the rest of the way — fewer than 32 bytes, summed, or the next
    /// entry less what is left of the block, whichever is at most 16 bytes.
    #[inline]
    fn prefix_at(&self, x: usize) -> u64 {
        const B: usize = SUMMED_BLOCK;
        let (block, len) = (x / B, self.0.data.len());
        let base = block * B;
        let entry = u64::from(self.0.prefix[block]);
        if x == base {
            entry
        } else if x - base <= B / 2 {
            add_carry(entry, self.window(base, base, x))
        } else if base + B <= len {
            let next = u64::from(self.0.prefix[block + 1]);
            ones_sub(next, self.window(base + B / 2, x, base + B))
        } else {
            // In the short last block: summed.
            let head = self.window(base, base, base + B / 2);
            add_carry(
                entry,
                add_carry(head, self.window(base + B / 2, base + B / 2, x)),
            )
        }
    }

    /// The native sum of `data[lo..hi]`, paired as in the buffer, where `lo..hi` lies in the
    /// 16 bytes from `w` (an even position): one 16-byte read with the bytes outside the
    /// range masked off, when the 16 bytes are all in the buffer.
    #[inline]
    fn window(&self, w: usize, lo: usize, hi: usize) -> u64 {
        debug_assert!(w <= lo && lo <= hi && hi <= w + 16 && w.is_multiple_of(2));
        if lo == hi {
            return 0;
        }
        #[cfg(target_endian = "little")]
        if let Some(bytes) = self
            .0
            .data
            .get(w..w + 16)
            .and_then(|b| b.first_chunk::<16>())
        {
            // Little-endian: the byte at w + i is bits 8i..8i + 8 of the number, and every
            // 8-byte half keeps its 16-bit pairs.
            let v = u128::from_le_bytes(*bytes) & BELOW[hi - w] & !BELOW[lo - w];
            return add_carry(v as u64, (v >> 64) as u64);
        }
        let sum = sum_native(&self.0.data[lo..hi]);
        if lo % 2 == 1 { sum.rotate_left(8) } else { sum }
    }
}

/// Data left where it is: ranges of [`SummedBytes`], in order. A segment's data sent
/// without a copy — the write that sends it gathers the bytes from the shared buffers, as
/// XIO sent cached files — with its sums looked up in their tables ([`sums`](Self::sums)).
/// Clones share the bytes.
///
/// ```
/// use prolac_runtime::checksum::{Gathered, SummedBytes, copy_pieces};
///
/// let a = SummedBytes::new(vec![7u8; 3000]);
/// let b = SummedBytes::new((0..=255u8).collect::<Vec<_>>());
/// let mut g = Gathered::new();
/// g.push(&a, 1000..2999);
/// g.push(&b, 5..200);
/// let mut bytes = Vec::new();
/// g.copy_to(&mut bytes);
/// assert_eq!(g.len(), bytes.len());
/// let mut copy = Vec::new();
/// assert_eq!(g.sums(1448), copy_pieces(&[&bytes], 1448, &mut copy));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Gathered {
    ranges: Vec<(SummedBytes, Range<usize>)>,
    len: usize,
}

impl Gathered {
    /// No data.
    #[must_use]
    pub const fn new() -> Gathered {
        Gathered {
            ranges: Vec::new(),
            len: 0,
        }
    }

    /// Appends `range` of `data` (cut at its end; an empty range adds nothing). A range that
    /// continues the last one in the same buffer extends it.
    pub fn push(&mut self, data: &SummedBytes, range: Range<usize>) {
        let end = range.end.min(data.len());
        let start = range.start.min(end);
        if start == end {
            return;
        }
        self.len += end - start;
        match self.ranges.last_mut() {
            Some((last, r)) if Arc::ptr_eq(&last.0, &data.0) && r.end == start => r.end = end,
            _ => self.ranges.push((data.clone(), start..end)),
        }
    }

    /// How many bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many ranges hold them.
    #[must_use]
    pub fn ranges(&self) -> usize {
        self.ranges.len()
    }

    /// The bytes, range by range.
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> + Clone {
        self.ranges
            .iter()
            .map(|(d, r)| d.get(r.clone()).unwrap_or_default())
    }

    /// Appends the bytes to `dst`.
    pub fn copy_to(&self, dst: &mut Vec<u8>) {
        dst.reserve(self.len);
        for slice in self.slices() {
            dst.extend_from_slice(slice);
        }
    }

    /// The one's-complement sums of the bytes in pieces of `size` (0: one piece), from the
    /// tables: what [`copy_spans`] gives for them, without reading them.
    #[must_use]
    pub fn sums(&self, size: usize) -> PieceSums {
        let Some(mut sums) = PieceSumsBuilder::new(self.len, size) else {
            return PieceSums::NONE;
        };
        for (data, r) in &self.ranges {
            // Each cut's running sum is looked up once: a piece's sum is its end's less its
            // start's.
            let mut at = r.start;
            let mut at_sum = data.prefix_at(at);
            while at < r.end {
                let take = (r.end - at).min(sums.room());
                let next_sum = data.prefix_at(at + take);
                sums.sum
                    .add_partial(data.between(at_sum, next_sum, at), take);
                (at, at_sum) = (at + take, next_sum);
                sums.added(take);
            }
        }
        sums.finish()
    }
}

/// One's-complement subtraction modulo 2⁶⁴ − 1: adding the complement.
#[inline]
const fn ones_sub(a: u64, b: u64) -> u64 {
    add_carry(a, !b)
}

impl Deref for SummedBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0.data
    }
}

/// The Internet checksum of `data`, as a host-order value to store big-endian.
///
/// Verifying a received header or segment: the checksum over the data *including* the
/// checksum field is `0` when the data is intact.
///
/// For UDP, a computed checksum of `0` is transmitted as `0xFFFF` (RFC 768); that is the
/// caller's business.
#[inline]
#[must_use]
pub fn checksum(data: &[u8]) -> u16 {
    !u16::from_be(fold(sum_native(data)))
}

/// An accumulator holding the IPv4 pseudo header of TCP and UDP (RFC 9293 §3.1, RFC 768):
/// source address, destination address, a zero byte, the protocol number and the length of
/// the TCP or UDP header plus data.
///
/// Add the segment to the result and [`finish`](Checksum::finish) it.
#[inline]
#[must_use]
pub fn pseudo_header_ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, len: u16) -> Checksum {
    let [s0, s1, s2, s3] = src;
    let [d0, d1, d2, d3] = dst;
    let [l0, l1] = len.to_be_bytes();
    let mut c = Checksum::new();
    c.add_bytes(&[s0, s1, s2, s3, d0, d1, d2, d3, 0, proto, l0, l1]);
    c
}

/// Updates a checksum after one 16-bit word of the data changed (RFC 1624, equation 3):
/// `HC' = ~(~HC + ~m + m')`.
///
/// `old_checksum` is the stored checksum, and `old_word` / `new_word` the big-endian word
/// at an even offset of the checksummed data, all as host-order values (as read with
/// [`read_u16_be`](crate::order::read_u16_be)).
///
/// The result equals a full recomputation except in one case: if the new data is entirely
/// zero, recomputation gives `0xFFFF` and this gives the equivalent `0x0000` (the two are
/// the same number in one's complement; a real IP header is never all zero).
#[inline]
#[must_use]
pub const fn update_u16(old_checksum: u16, old_word: u16, new_word: u16) -> u16 {
    let sum = (!old_checksum) as u64 + (!old_word) as u64 + new_word as u64;
    !fold(sum)
}

/// Updates a checksum after one 32-bit big-endian value at an even offset of the data
/// changed, such as an IPv4 address or a TCP sequence number: [`update_u16`] for both halves.
#[inline]
#[must_use]
pub const fn update_u32(old_checksum: u16, old_value: u32, new_value: u32) -> u16 {
    let (old_hi, old_lo) = ((old_value >> 16) as u16, old_value as u16);
    let (new_hi, new_lo) = ((new_value >> 16) as u16, new_value as u16);
    let sum = (!old_checksum) as u64
        + (!old_hi) as u64
        + (!old_lo) as u64
        + new_hi as u64
        + new_lo as u64;
    !fold(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC1071: [u8; 8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];

    #[test]
    fn rfc1071_example() {
        let mut c = Checksum::new();
        c.add_bytes(&RFC1071);
        assert_eq!(c.sum(), 0xddf2);
        assert_eq!(c.finish(), 0x220d);
        assert_eq!(checksum(&RFC1071), 0x220d);
    }

    #[test]
    fn empty_and_zero() {
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0; 100]), 0xffff);
        assert_eq!(Checksum::new().finish(), 0xffff);
        assert_eq!(Checksum::default().sum(), 0);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(checksum(&[0xab]), !0xab00);
        assert_eq!(checksum(&[0x12, 0x34, 0xab]), !(0x1234 + 0xab00));
    }

    #[test]
    fn all_ones_sum_to_negative_zero() {
        // Many carries: 0xffff words sum to 0xffff ("negative zero"), not 0.
        let data = [0xffu8; 4099];
        let mut c = Checksum::new();
        c.add_bytes(&data[..4098]);
        assert_eq!(c.sum(), 0xffff);
        assert_eq!(c.finish(), 0);
        // The odd last byte is the high byte of a final word 0xff00.
        c.add_bytes(&data[4098..]);
        assert_eq!(c.sum(), 0xff00);
        assert_eq!(checksum(&data), 0x00ff);
    }

    #[test]
    fn odd_pieces_rejoin() {
        let mut c = Checksum::new();
        c.add_bytes(&RFC1071[..1]);
        c.add_bytes(&RFC1071[1..4]);
        c.add_bytes(&[]);
        c.add_bytes(&RFC1071[4..7]);
        c.add_bytes(&RFC1071[7..]);
        assert_eq!(c.finish(), 0x220d);
    }

    #[test]
    fn words_at_odd_positions() {
        let mut c = Checksum::new();
        c.add_bytes(&[0x00]);
        c.add_u16(0x01f2);
        c.add_u32(0x03f4_f5f6);
        c.add_bytes(&[0xf7]);
        assert_eq!(c.sum(), 0xddf2);
    }

    #[test]
    fn verifying_gives_zero() {
        let mut data = [
            0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0, 0,
        ];
        let sum = checksum(&data);
        data[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&data), 0);
    }

    #[test]
    fn incremental_update() {
        let mut data = RFC1071;
        let old = checksum(&data);
        data[2..4].copy_from_slice(&0x1234u16.to_be_bytes());
        assert_eq!(update_u16(old, 0xf203, 0x1234), checksum(&data));
        let old = checksum(&data);
        data[4..8].copy_from_slice(&0xdead_beefu32.to_be_bytes());
        assert_eq!(update_u32(old, 0xf4f5_f6f7, 0xdead_beef), checksum(&data));
    }
}
