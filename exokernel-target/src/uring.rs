//! Many frames in one system call: writes to a descriptor queued on an io_uring and submitted
//! together. A TAP device takes one frame per write; a large segment cut in software becomes
//! up to 44 of them, which [`crate::tap::TapDevice`] hands to the kernel in one
//! `io_uring_enter` instead of 44 `writev`s: the entry into the kernel and the descriptor
//! lookup are paid once per segment, the rest of each write (the device's own work) as before.
//!
//! A [`WriteBatch`] copies each frame's headers into a slot of its own and refers to its data
//! where it lies; every write of a batch has completed when [`submit`](Queue::submit)
//! returns, so the data need only outlive that call — which the borrow of the batch ensures:
//! [`Queue::push`] takes the data's lifetime, and `submit` ends it.

use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd};

use io_uring::{IoUring, opcode, types};

use crate::offload::{MAX_HEADERS, PIECE_PARTS};

/// Writes queued at most before a batch must be submitted: the ring's size.
pub const BATCH: usize = 64;

/// The ring and the slots of the writes queued on it; see the module's documentation.
pub struct WriteBatch {
    ring: IoUring,
    /// Each queued write's headers (copied).
    heads: Box<[[u8; MAX_HEADERS]; BATCH]>,
    /// Each queued write's pieces: its headers, then its data.
    iovecs: Box<[[libc::iovec; 1 + PIECE_PARTS]; BATCH]>,
    /// Each queued write's length in bytes.
    lens: [usize; BATCH],
    queued: usize,
    /// `io_uring_enter` failed, or a queue was forgotten with writes on it: writes may be
    /// left in the ring, which is never submitted again.
    broken: bool,
}

// SAFETY: the raw pointers in `iovecs` are addresses for the kernel, written by `push` and
// read only by the kernel during `submit`, both under the borrow of a `Queue` whose data
// lifetime covers them; between batches they are stale and never dereferenced. Everything
// else in the batch (the ring included) may move between threads.
#[allow(unsafe_code)]
unsafe impl Send for WriteBatch {}

impl core::fmt::Debug for WriteBatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WriteBatch")
            .field("queued", &self.queued)
            .finish_non_exhaustive()
    }
}

/// Writes queued on a [`WriteBatch`], whose data must live for `'a`.
#[derive(Debug)]
pub struct Queue<'b, 'a> {
    batch: &'b mut WriteBatch,
    fd: BorrowedFd<'b>,
    data: PhantomData<&'a [u8]>,
}

impl WriteBatch {
    /// A batch with a ring of its own.
    ///
    /// # Errors
    ///
    /// The kernel has no io_uring, or refuses it (`kernel.io_uring_disabled`, a seccomp
    /// filter, a memory limit).
    pub fn new() -> io::Result<WriteBatch> {
        let ring = IoUring::new(BATCH as u32)?;
        let empty = libc::iovec {
            iov_base: core::ptr::null_mut(),
            iov_len: 0,
        };
        Ok(WriteBatch {
            ring,
            heads: Box::new([[0; MAX_HEADERS]; BATCH]),
            iovecs: Box::new([[empty; 1 + PIECE_PARTS]; BATCH]),
            lens: [0; BATCH],
            queued: 0,
            broken: false,
        })
    }

    /// Starts queueing writes to `fd` of data that lives for `'a`; `None` once the ring has
    /// failed (writes go one by one then).
    pub fn queue<'b, 'a>(&'b mut self, fd: BorrowedFd<'b>) -> Option<Queue<'b, 'a>> {
        // Writes left queued by a queue that was forgotten instead of dropped refer to data
        // that may be gone: the ring is never submitted again.
        if self.queued > 0 || !self.ring.submission().is_empty() {
            self.broken = true;
        }
        (!self.broken).then(|| Queue {
            batch: self,
            fd,
            data: PhantomData,
        })
    }
}

impl<'a> Queue<'_, 'a> {
    /// Queues one frame: `head` (copied; at most [`MAX_HEADERS`] bytes) and then `data` (at
    /// most [`PIECE_PARTS`] slices, written from where they are). False, and nothing queued,
    /// when the batch is full or the frame does not fit those bounds.
    pub fn push(&mut self, head: &[u8], data: &[&'a [u8]]) -> bool {
        let b = &mut *self.batch;
        let i = b.queued;
        if i == BATCH || head.len() > MAX_HEADERS || data.len() > PIECE_PARTS {
            return false;
        }
        b.heads[i][..head.len()].copy_from_slice(head);
        let slot = &mut b.iovecs[i];
        slot[0] = libc::iovec {
            iov_base: b.heads[i].as_mut_ptr().cast(),
            iov_len: head.len(),
        };
        for (iov, d) in slot[1..].iter_mut().zip(data) {
            *iov = libc::iovec {
                iov_base: d.as_ptr().cast_mut().cast(),
                iov_len: d.len(),
            };
        }
        b.lens[i] = head.len() + data.iter().map(|d| d.len()).sum::<usize>();
        let entry = opcode::Writev::new(
            types::Fd(self.fd.as_raw_fd()),
            slot.as_ptr(),
            (1 + data.len()) as u32,
        )
        // A stream: no offset.
        .offset(u64::MAX)
        // Never handed to a kernel worker to finish later, where it could pass the writes
        // after it: a write that would wait fails instead (`EAGAIN`: the frame is dropped,
        // as a full queue drops it). The writes of a submission then run in order, within it.
        .rw_flags(libc::RWF_NOWAIT)
        .build()
        .user_data(i as u64);
        // SAFETY: the entry points at `slot` and `heads[i]`, which the batch owns (boxed: they
        // do not move with it) and leaves alone until `submit` has reaped the write, and at
        // `data`, which lives for 'a — past `submit`, which the queue's borrow of the batch
        // makes the caller reach before the batch can be used again.
        #[allow(unsafe_code)]
        let pushed = unsafe { b.ring.submission().push(&entry) }.is_ok();
        if pushed {
            b.queued += 1;
        }
        pushed
    }

    /// Submits the queued writes and waits until every one has completed; `done` hears each
    /// write's length and result (in no particular order). The batch is empty afterwards.
    ///
    /// # Errors
    ///
    /// `io_uring_enter` failed for another reason than a signal or a full completion queue:
    /// the writes' results are not known, and the batch is not used again.
    pub fn submit(&mut self, mut done: impl FnMut(usize, io::Result<usize>)) -> io::Result<()> {
        let b = &mut *self.batch;
        let want = b.queued;
        if want == 0 || b.broken {
            return Ok(());
        }
        let mut reaped = 0;
        while reaped < want {
            match b.ring.submit_and_wait(want - reaped) {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EINTR | libc::EBUSY | libc::EAGAIN)
                    ) => {}
                Err(e) => {
                    b.broken = true;
                    return Err(e);
                }
            }
            for cqe in b.ring.completion() {
                let i = usize::try_from(cqe.user_data()).unwrap_or(usize::MAX);
                let len = b.lens.get(i).copied().unwrap_or(0);
                let result = cqe.result();
                done(
                    len,
                    if result < 0 {
                        Err(io::Error::from_raw_os_error(-result))
                    } else {
                        Ok(result as usize)
                    },
                );
                reaped += 1;
            }
        }
        b.queued = 0;
        Ok(())
    }
}

impl Drop for Queue<'_, '_> {
    /// Writes queued and not submitted go now: the ring must not keep them past the data's
    /// lifetime.
    fn drop(&mut self) {
        let _ = self.submit(|_, _| {});
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::fd::AsFd;

    use super::*;

    /// A batch, or `None` (and why, printed) where the kernel gives no io_uring.
    fn batch() -> Option<WriteBatch> {
        WriteBatch::new()
            .map_err(|e| eprintln!("skipped: this kernel gives no io_uring ({e})"))
            .ok()
    }

    /// Frame `i`: headers and data that tell it from every other.
    fn frame(i: usize) -> (Vec<u8>, Vec<u8>) {
        let head = vec![i as u8; 20 + i % 7];
        let data = (0..100 + i * 3).map(|k| (k * 31 + i) as u8).collect();
        (head, data)
    }

    #[test]
    fn writes_go_in_order_in_batches_and_none_is_left_behind() {
        let Some(mut batch) = batch() else { return };
        let (mut rx, tx) = std::io::pipe().expect("a pipe");
        let frames: Vec<_> = (0..150).map(frame).collect();
        let mut want = Vec::new();
        let (mut done, mut bytes) = (0, 0);
        {
            let mut q = batch.queue(tx.as_fd()).expect("a fresh batch");
            for (head, data) in &frames {
                // The data in up to four slices.
                let (a, b) = data.split_at(data.len() / 3);
                let (b, c) = b.split_at(b.len() / 2);
                let parts: [&[u8]; 3] = [a, b, c];
                if !q.push(head, &parts) {
                    q.submit(|len, r| {
                        done += 1;
                        bytes += len;
                        assert_eq!(r.expect("written"), len);
                    })
                    .expect("submitted");
                    assert!(q.push(head, &parts), "an empty batch takes a frame");
                }
                want.extend_from_slice(head);
                want.extend_from_slice(data);
            }
            // More than a batch holds went through: the rest goes when the queue ends.
            assert_eq!(done, 2 * BATCH);
        }
        drop(tx);
        let mut got = Vec::new();
        rx.read_to_end(&mut got).expect("read back");
        assert_eq!(got.len(), want.len());
        assert!(got == want, "every frame, in order");
        assert_eq!(
            bytes,
            frames[..2 * BATCH]
                .iter()
                .map(|(h, d)| h.len() + d.len())
                .sum()
        );
    }

    #[test]
    fn a_forgotten_queue_leaves_the_batch_unusable() {
        let data = [7u8; 10];
        let Some(mut batch) = batch() else { return };
        let (mut rx, tx) = std::io::pipe().expect("a pipe");
        let mut q = batch.queue(tx.as_fd()).expect("a fresh batch");
        assert!(q.push(&[1, 2], &[&data]));
        // Not dropped: its write is never submitted, and the batch takes no more.
        std::mem::forget(q);
        assert!(batch.queue(tx.as_fd()).is_none());
        drop(batch);
        drop(tx);
        let mut got = Vec::new();
        rx.read_to_end(&mut got).expect("read back");
        assert!(got.is_empty());
    }

    #[test]
    fn a_frame_the_batch_cannot_hold_is_refused() {
        let data = [0u8; 10];
        let Some(mut batch) = batch() else { return };
        let (_rx, tx) = std::io::pipe().expect("a pipe");
        let mut q = batch.queue(tx.as_fd()).expect("a fresh batch");
        assert!(!q.push(&[0; MAX_HEADERS + 1], &[&data]), "headers too long");
        let slices: [&[u8]; PIECE_PARTS + 1] = [&data; PIECE_PARTS + 1];
        assert!(!q.push(&[0; 20], &slices), "too many slices");
        let mut n = 0;
        q.submit(|_, _| n += 1).expect("nothing to submit");
        assert_eq!(n, 0);
    }
}
