//! The data a run sends, generated from its seed, and the checks on what arrives.
//!
//! A [`Payload`] is a seeded byte stream whose bytes can be produced at any offset, so a
//! sender needs no copy of the whole transfer ([`Source`] keeps a window of it) and a
//! receiver checks each byte as it arrives ([`Sink`]): intact, in order, exactly once, with
//! the offset of the first difference when one is not. Both keep a [`Digest`] of the bytes
//! that passed through them, for a report.

use core::fmt;

use crate::rng::SplitMix64;

/// The golden-ratio increment of SplitMix64 (block `k` of a payload is output `k` of a
/// SplitMix64 generator seeded with the payload's key).
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// How many bytes a [`Source`] or [`Sink`] generates at a time.
const CHUNK: usize = 256 * 1024;

/// A seeded byte stream of a fixed length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload {
    key: u64,
    len: usize,
}

impl Payload {
    /// The `len` bytes that side `stream` of run `seed` sends.
    #[must_use]
    pub fn new(seed: u64, stream: u64, len: usize) -> Self {
        let mut rng = SplitMix64::derive(seed, 0x70a1_0ad0 + stream);
        Self {
            key: rng.next_u64(),
            len,
        }
    }

    /// The length in bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the payload is empty.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The eight bytes of block `k` (bytes `8k..8k+8`).
    fn block(&self, k: u64) -> [u8; 8] {
        SplitMix64::new(self.key.wrapping_add(k.wrapping_mul(GAMMA)))
            .next_u64()
            .to_le_bytes()
    }

    /// Fills `out` with the stream's bytes from `offset` on (the stream goes on past
    /// [`len`](Self::len); callers stay within it).
    pub fn fill(&self, offset: usize, out: &mut [u8]) {
        let mut pos = offset;
        let mut filled = 0;
        while filled < out.len() {
            let bytes = self.block((pos / 8) as u64);
            let within = pos % 8;
            let n = (8 - within).min(out.len() - filled);
            out[filled..filled + n].copy_from_slice(&bytes[within..within + n]);
            filled += n;
            pos += n;
        }
    }

    /// The whole payload.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; self.len];
        self.fill(0, &mut out);
        out
    }
}

/// A 64-bit FNV-1a digest of a byte stream (for reports and quick comparison; not
/// cryptographic).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Digest(u64);

impl Digest {
    /// The digest of nothing.
    pub const EMPTY: Self = Self(0xcbf2_9ce4_8422_2325);

    /// Adds `bytes` to the digest.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The digest's value.
    #[must_use]
    pub const fn value(self) -> u64 {
        self.0
    }
}

impl Default for Digest {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The sending side of a payload: the bytes not yet handed to the TCP, a chunk at a time.
#[derive(Clone, Debug)]
pub struct Source {
    payload: Payload,
    sent: usize,
    /// `payload[window_start..window_start + window.len()]`.
    window: Vec<u8>,
    window_start: usize,
    digest: Digest,
}

impl Source {
    /// The sender of `payload`, nothing sent yet.
    #[must_use]
    pub const fn new(payload: Payload) -> Self {
        Self {
            payload,
            sent: 0,
            window: Vec::new(),
            window_start: 0,
            digest: Digest::EMPTY,
        }
    }

    /// The payload.
    #[must_use]
    pub const fn payload(&self) -> &Payload {
        &self.payload
    }

    /// Bytes handed to the TCP so far.
    #[must_use]
    pub const fn sent(&self) -> usize {
        self.sent
    }

    /// Whether every byte has been handed to the TCP.
    #[must_use]
    pub const fn is_done(&self) -> bool {
        self.sent >= self.payload.len
    }

    /// The digest of the bytes handed to the TCP so far.
    #[must_use]
    pub const fn digest(&self) -> Digest {
        self.digest
    }

    /// The next bytes to send (empty when done): up to a chunk, at least half a chunk
    /// unless the payload ends sooner.
    pub fn pending(&mut self) -> &[u8] {
        let end = self.payload.len;
        let window_end = self.window_start + self.window.len();
        if window_end < end && window_end - self.sent < CHUNK / 2 {
            let new_end = end.min(self.sent + CHUNK);
            self.window.resize(new_end - self.sent, 0);
            self.payload.fill(self.sent, &mut self.window);
            self.window_start = self.sent;
        }
        let from = self.sent - self.window_start;
        self.window.get(from..).unwrap_or_default()
    }

    /// Records that the first `n` bytes of [`pending`](Self::pending) were handed over.
    pub fn consume(&mut self, n: usize) {
        let from = self.sent - self.window_start;
        let to = (from + n).min(self.window.len());
        if let Some(bytes) = self.window.get(from..to) {
            self.digest.update(bytes);
        }
        self.sent += to - from;
    }
}

/// The receiving side of a payload: checks each arriving byte against the payload.
#[derive(Clone, Debug)]
pub struct Sink {
    expected: Payload,
    received: usize,
    first_difference: Option<usize>,
    digest: Digest,
    scratch: Vec<u8>,
}

impl Sink {
    /// A receiver expecting `expected`.
    #[must_use]
    pub const fn new(expected: Payload) -> Self {
        Self {
            expected,
            received: 0,
            first_difference: None,
            digest: Digest::EMPTY,
            scratch: Vec::new(),
        }
    }

    /// The payload expected.
    #[must_use]
    pub const fn expected(&self) -> &Payload {
        &self.expected
    }

    /// Bytes received so far (including any beyond the payload's end).
    #[must_use]
    pub const fn received(&self) -> usize {
        self.received
    }

    /// The offset of the first byte that differed from the payload (a byte beyond the
    /// payload's end counts as different).
    #[must_use]
    pub const fn first_difference(&self) -> Option<usize> {
        self.first_difference
    }

    /// The digest of the bytes received.
    #[must_use]
    pub const fn digest(&self) -> Digest {
        self.digest
    }

    /// Whether everything received so far is the payload's beginning.
    #[must_use]
    pub const fn is_intact(&self) -> bool {
        self.first_difference.is_none()
    }

    /// Whether the whole payload and nothing else has been received, intact.
    #[must_use]
    pub const fn is_complete(&self) -> bool {
        self.is_intact() && self.received == self.expected.len
    }

    /// Checks and counts `data`, the next bytes received.
    pub fn push(&mut self, data: &[u8]) {
        self.digest.update(data);
        let mut done = 0;
        while done < data.len() && self.first_difference.is_none() {
            let at = self.received + done;
            if at >= self.expected.len {
                self.first_difference = Some(at);
                break;
            }
            let n = (data.len() - done).min(CHUNK).min(self.expected.len - at);
            self.scratch.resize(n, 0);
            self.expected.fill(at, &mut self.scratch);
            let got = &data[done..done + n];
            if let Some(i) = got.iter().zip(&self.scratch).position(|(a, b)| a != b) {
                self.first_difference = Some(at + i);
            }
            done += n;
        }
        self.received += data.len();
    }

    /// A description of what is wrong with what arrived, if anything (`complete`: whether
    /// the whole payload should have arrived).
    #[must_use]
    pub fn problem(&self, complete: bool) -> Option<String> {
        let expected = self.expected.len;
        if let Some(at) = self.first_difference {
            return Some(if at >= expected {
                format!(
                    "{} bytes received, more than the {expected} sent",
                    self.received
                )
            } else {
                format!("byte {at} differs from what was sent ({expected} bytes sent)")
            });
        }
        (complete && self.received != expected)
            .then(|| format!("{} of {expected} bytes received", self.received))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_the_same_at_any_offset() {
        let p = Payload::new(7, 1, 1000);
        let all = p.to_vec();
        for offset in [0, 1, 7, 8, 9, 500, 993] {
            let mut part = vec![0; 1000 - offset];
            p.fill(offset, &mut part);
            assert_eq!(part, all[offset..]);
        }
        assert_ne!(Payload::new(7, 0, 1000).to_vec(), all);
        assert_ne!(Payload::new(8, 1, 1000).to_vec(), all);
    }

    #[test]
    fn a_source_hands_out_the_payload_in_order() {
        let p = Payload::new(3, 0, 3 * CHUNK + 5);
        let mut source = Source::new(p);
        let mut out = Vec::new();
        let mut step = 1;
        while !source.is_done() {
            let pending = source.pending();
            let n = pending.len().min(step);
            out.extend_from_slice(&pending[..n]);
            source.consume(n);
            step = step * 3 + 1;
        }
        assert!(source.pending().is_empty());
        assert_eq!(out, p.to_vec());
        let mut digest = Digest::EMPTY;
        digest.update(&out);
        assert_eq!(source.digest(), digest);
    }

    #[test]
    fn a_sink_finds_the_first_difference_and_excess() {
        let p = Payload::new(4, 0, 100);
        let data = p.to_vec();
        let mut sink = Sink::new(p);
        sink.push(&data[..40]);
        sink.push(&data[40..]);
        assert!(sink.is_complete());
        assert_eq!(sink.problem(true), None);
        sink.push(b"x");
        assert_eq!(sink.first_difference(), Some(100));
        assert!(!sink.is_complete());

        let mut sink = Sink::new(p);
        let mut bad = data.clone();
        bad[57] ^= 1;
        sink.push(&bad);
        assert_eq!(sink.first_difference(), Some(57));

        let mut sink = Sink::new(p);
        sink.push(&data[..10]);
        assert!(sink.is_intact() && !sink.is_complete());
        assert!(sink.problem(false).is_none());
        assert!(sink.problem(true).is_some());
    }
}
