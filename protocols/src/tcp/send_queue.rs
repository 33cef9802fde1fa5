//! The send queue of a connection: every byte from SND.UNA on, sent or not — bytes the
//! application copied in ([`Connection::send`](super::Connection::send)) and ranges of shared
//! buffers it handed over without a copy
//! ([`Connection::send_shared`](super::Connection::send_shared)), in stream order.
//!
//! Copied bytes live in one ring; a shared range is a clone of its [`SummedBytes`] (a
//! reference count) and the range. Segments take their data from the queue with
//! [`SendQueue::copy_into`], which sums what it copies — except shared data, whose sums are
//! looked up in its buffer's table: data sent from a cache is summed once, not once per
//! segment (or retransmission) that carries it. A segment whose data is all shared may carry
//! it by reference instead ([`SendQueue::gather`]): the device's write gathers it, never
//! copied at all.

use std::collections::VecDeque;
use std::ops::Range;

use prolac_runtime::checksum::{Gathered, PieceSums, Span, SummedBytes, copy_pieces, copy_spans};

/// The most ranges a gathered segment is made of: data in smaller runs is copied.
const MAX_GATHERED_RANGES: usize = 16;

/// A run of the queue.
#[derive(Debug)]
enum Run {
    /// This many bytes from the front of the ring (what is left of them).
    Copied(usize),
    /// Bytes of a shared buffer.
    Shared(SummedBytes, Range<usize>),
}

impl Run {
    fn len(&self) -> usize {
        match self {
            Run::Copied(n) => *n,
            Run::Shared(_, r) => r.len(),
        }
    }
}

/// A run's part of a window of the queue ([`SendQueue::parts`]).
enum Part<'a> {
    /// Copied bytes: this range of the ring.
    Ring(Range<usize>),
    /// This range of a shared buffer.
    Shared(&'a SummedBytes, Range<usize>),
}

/// The bytes waiting to be sent or acknowledged, in order.
#[derive(Debug, Default)]
pub(super) struct SendQueue {
    /// The copied bytes, in order (shared ranges are not in it).
    ring: VecDeque<u8>,
    /// The runs of the queue, in order, when a shared range is in it; empty while every byte
    /// is in the ring (the common case costs nothing over a plain ring).
    runs: VecDeque<Run>,
    /// Bytes in the queue.
    len: usize,
}

impl SendQueue {
    /// Bytes in the queue.
    pub(super) const fn len(&self) -> usize {
        self.len
    }

    /// Appends a copy of `data`.
    pub(super) fn push_copied(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.ring.extend(data);
        self.len += data.len();
        if !self.runs.is_empty() {
            match self.runs.back_mut() {
                Some(Run::Copied(n)) => *n += data.len(),
                _ => self.runs.push_back(Run::Copied(data.len())),
            }
        }
    }

    /// Appends up to `max` bytes of `range` of `data` without copying them (a range past the
    /// end of `data` is cut at it); returns how many.
    pub(super) fn push_shared(
        &mut self,
        data: &SummedBytes,
        range: Range<usize>,
        max: usize,
    ) -> usize {
        let end = range.end.min(data.len());
        let start = range.start.min(end);
        let end = end.min(start.saturating_add(max));
        if start == end {
            return 0;
        }
        if self.runs.is_empty() && !self.ring.is_empty() {
            self.runs.push_back(Run::Copied(self.ring.len()));
        }
        self.runs.push_back(Run::Shared(data.clone(), start..end));
        self.len += end - start;
        end - start
    }

    /// Drops the first `n` bytes (acknowledged).
    pub(super) fn drain(&mut self, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        if self.runs.is_empty() {
            self.ring.drain(..n);
            return;
        }
        while n > 0 {
            let Some(run) = self.runs.front_mut() else {
                break;
            };
            let take = n.min(run.len());
            match run {
                Run::Copied(k) => {
                    self.ring.drain(..take);
                    *k -= take;
                }
                Run::Shared(_, r) => r.start += take,
            }
            n -= take;
            if run.len() == 0 {
                self.runs.pop_front();
            }
        }
        // Back to the plain ring once the shared runs are all acknowledged.
        if self.runs.iter().all(|r| matches!(r, Run::Copied(_))) {
            self.runs.clear();
        }
    }

    /// Appends the `n` bytes from `offset` (from the front) to `dst`, summed in pieces of
    /// `size` bytes as [`copy_pieces`] does: copied bytes summed as they are copied, shared
    /// ones looked up. Fewer if the queue holds fewer.
    pub(super) fn copy_into(
        &self,
        offset: usize,
        n: usize,
        size: usize,
        dst: &mut Vec<u8>,
    ) -> PieceSums {
        if self.runs.is_empty() {
            let (front, back) = ring_slices(&self.ring, offset, offset.saturating_add(n));
            return copy_pieces(&[front, back], size, dst);
        }
        // The runs that overlap offset..offset + n, as spans.
        let mut spans: Vec<Span<'_>> = Vec::with_capacity(4);
        for part in self.parts(offset, offset.saturating_add(n)) {
            match part {
                Part::Ring(r) => {
                    let (front, back) = ring_slices(&self.ring, r.start, r.end);
                    spans.extend([Span::Bytes(front), Span::Bytes(back)]);
                }
                Part::Shared(data, r) => spans.push(Span::Summed(data, r)),
            }
        }
        copy_spans(&spans, size, dst)
    }

    /// The `n` bytes from `offset` as references to their shared buffers, when they are all
    /// shared data (in at most a few ranges); `None` when some were copied in or the queue
    /// holds fewer.
    pub(super) fn gather(&self, offset: usize, n: usize) -> Option<Gathered> {
        if self.runs.is_empty() {
            return None;
        }
        let mut out = Gathered::new();
        for part in self.parts(offset, offset.checked_add(n)?) {
            match part {
                Part::Ring(_) => return None,
                Part::Shared(_, _) if out.ranges() == MAX_GATHERED_RANGES => return None,
                Part::Shared(data, r) => out.push(data, r),
            }
        }
        (out.len() == n).then_some(out)
    }

    /// The parts of the runs that overlap `offset..end`, in order: copied bytes by their
    /// place in the ring (found by the copied bytes before them), shared ones as ranges of
    /// their buffers.
    fn parts(&self, offset: usize, end: usize) -> impl Iterator<Item = Part<'_>> {
        let (mut at, mut in_ring) = (0usize, 0usize);
        self.runs
            .iter()
            .map_while(move |run| {
                (at < end).then(|| {
                    let len = run.len();
                    let (from, to) = (offset.max(at), end.min(at + len));
                    let (a, b) = (from - at, to - at);
                    let part = (from < to).then(|| match run {
                        Run::Copied(_) => Part::Ring(in_ring + a..in_ring + b),
                        Run::Shared(data, r) => Part::Shared(data, r.start + a..r.start + b),
                    });
                    if let Run::Copied(k) = run {
                        in_ring += k;
                    }
                    at += len;
                    part
                })
            })
            .flatten()
    }
}

/// Bytes `from..to` of `ring` (cut at its end) as its two slices.
fn ring_slices(ring: &VecDeque<u8>, from: usize, to: usize) -> (&[u8], &[u8]) {
    let (front, back) = ring.as_slices();
    let to = to.min(ring.len());
    let from = from.min(to);
    if to <= front.len() {
        (&front[from..to], &[])
    } else if from >= front.len() {
        (&back[from - front.len()..to - front.len()], &[])
    } else {
        (&front[from..], &back[..to - front.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn copied_and_shared_bytes_come_out_in_order_with_their_sums() {
        let shared = SummedBytes::new(bytes(10_000, 7));
        let (a, c) = (bytes(1_001, 1), bytes(333, 3));
        let mut q = SendQueue::default();
        q.push_copied(&a);
        q.push_shared(&shared, 17..6_017, usize::MAX);
        q.push_copied(&c);
        q.push_shared(&shared, 9_990..20_000, usize::MAX); // cut at the end: 10 bytes
        let mut all = a.clone();
        all.extend_from_slice(&shared[17..6_017]);
        all.extend_from_slice(&c);
        all.extend_from_slice(&shared[9_990..]);
        assert_eq!(q.len(), all.len());
        // Every window, cut in pieces, as copy_pieces of the same bytes gives.
        for (offset, n, size) in [(0, 7_344, 1448), (999, 5_000, 1000), (7_000, 344, 0)] {
            let mut got = Vec::new();
            let sums = q.copy_into(offset, n, size, &mut got);
            let mut want = Vec::new();
            let want_sums = copy_pieces(&[&all[offset..offset + n]], size, &mut want);
            assert_eq!(got, want, "{offset}+{n}");
            let pieces = if size == 0 { 1 } else { n.div_ceil(size) };
            for i in 0..pieces {
                assert_eq!(sums.piece(size, n, i), want_sums.piece(size, n, i));
            }
        }
        // Acknowledged in steps across the runs' ends: the rest stays in order.
        let mut gone = 0;
        for step in [500, 501, 6_000, 300, 40] {
            q.drain(step);
            gone += step;
            let mut got = Vec::new();
            let _ = q.copy_into(0, q.len(), 0, &mut got);
            assert_eq!(got, &all[gone..], "after {gone}");
        }
        assert_eq!(q.len(), 3);
        q.drain(10);
        assert_eq!(q.len(), 0);
        assert!(q.runs.is_empty() && q.ring.is_empty());
    }

    #[test]
    fn the_queue_is_a_plain_ring_again_once_its_shared_runs_are_acknowledged() {
        let shared = SummedBytes::new(bytes(100, 9));
        let (a, b) = (bytes(50, 1), bytes(70, 2));
        let mut q = SendQueue::default();
        q.push_copied(&a);
        assert!(q.runs.is_empty());
        q.push_shared(&shared, 0..100, usize::MAX);
        q.push_copied(&b);
        assert_eq!(q.runs.len(), 3);
        q.drain(149);
        assert_eq!(q.runs.len(), 2, "one shared byte is left");
        q.drain(1);
        assert!(q.runs.is_empty(), "only copied bytes are left");
        let mut got = Vec::new();
        let _ = q.copy_into(0, 70, 0, &mut got);
        assert_eq!(got, b);
        // Empty ranges add nothing.
        q.push_shared(&shared, 100..200, usize::MAX);
        assert!(q.runs.is_empty());
        assert_eq!(q.len(), 70);
    }
}
