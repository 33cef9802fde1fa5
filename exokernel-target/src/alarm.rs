//! A thread's alarm: a signal that interrupts a blocking system call of that thread when a
//! deadline passes, so that a server can wait for its next frame with the read itself (as a
//! blocking server does: `read`, then `write` the answer — two system calls per request, not
//! three with a `poll` before the read) and still run its timers on time.
//!
//! An [`Alarm`] is a POSIX timer (`timer_create`, `CLOCK_MONOTONIC`) that sends a real-time
//! signal to the thread that made it (`SIGEV_THREAD_ID`); the process handles that signal with
//! a handler that does nothing and is installed without `SA_RESTART`, so a read blocked when
//! it arrives returns `EINTR`. Arming is lazy: a wait whose deadline is no earlier than the
//! alarm already set, and that one not yet passed, costs no system call — a server that
//! pushes its deadline on with every request (a retransmission timer) re-arms once per
//! expiry, not once per request. A signal that arrives between the check and the read would be
//! lost, so the timer repeats every [`REPEAT`] until the waiter has seen its deadline pass and
//! disarms it: a wait ends at most that late. A device that stops waiting (a runner handing
//! it back, `Runner::into_device`) disarms it, so that the thread is not interrupted every
//! millisecond by an alarm nobody waits for.
//!
//! The signal is `SIGRTMAX - 2`. If another handler already holds it, or the thread blocks
//! it, no alarm can be had (and the TAP device waits with `poll` instead).

use std::io;
use std::sync::OnceLock;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// How often the timer fires again after its deadline until it is disarmed.
pub(crate) const REPEAT: Duration = Duration::from_millis(1);

/// The signal the alarms send.
fn signal() -> libc::c_int {
    libc::SIGRTMAX() - 2
}

/// The handler: the signal's whole work is interrupting a system call.
extern "C" fn wake(_: libc::c_int) {}

/// Installs the handler once per process: `Ok`, or why it cannot be.
fn install() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            // SAFETY: sigaction with a zeroed, then filled, `struct sigaction`; the handler is
            // async-signal-safe (it does nothing). The old action is read first so that
            // another owner of the signal is not displaced.
            #[allow(unsafe_code)]
            unsafe {
                let mut old: libc::sigaction = core::mem::zeroed();
                if libc::sigaction(signal(), core::ptr::null(), &raw mut old) != 0 {
                    return Err(io::Error::last_os_error().to_string());
                }
                if old.sa_sigaction != libc::SIG_DFL {
                    return Err(format!("signal {} has a handler already", signal()));
                }
                let mut action: libc::sigaction = core::mem::zeroed();
                action.sa_sigaction = wake as *const () as libc::sighandler_t;
                // No SA_RESTART: the interrupted call returns EINTR.
                action.sa_flags = 0;
                libc::sigemptyset(&raw mut action.sa_mask);
                if libc::sigaction(signal(), &raw const action, core::ptr::null_mut()) != 0 {
                    return Err(io::Error::last_os_error().to_string());
                }
            }
            Ok(())
        })
        .clone()
}

/// A timer signalling the thread that made it (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Alarm {
    timer: libc::timer_t,
    owner: ThreadId,
    /// The deadline the timer is set for, if it is set.
    armed: Option<Instant>,
}

// SAFETY: a POSIX timer is a process-wide kernel object named by its id; any thread may set
// or delete it (its signal still goes to the thread that made it, which `owner` records).
#[allow(unsafe_code)]
unsafe impl Send for Alarm {}

impl Alarm {
    /// An alarm for this thread.
    ///
    /// # Errors
    ///
    /// The signal is taken by another handler, or the kernel refused the timer.
    pub(crate) fn new() -> io::Result<Alarm> {
        install().map_err(io::Error::other)?;
        // SAFETY: pthread_sigmask only reads this thread's mask into `mask` (no new mask).
        #[allow(unsafe_code)]
        let blocked = unsafe {
            let mut mask: libc::sigset_t = core::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, core::ptr::null(), &raw mut mask) == 0
                && libc::sigismember(&raw const mask, signal()) == 1
        };
        if blocked {
            // A blocked signal would never end the read.
            return Err(io::Error::other(format!(
                "signal {} is blocked on this thread",
                signal()
            )));
        }
        // SAFETY: timer_create with a zeroed, then filled, sigevent naming this thread; the
        // timer id is written to `timer` on success.
        #[allow(unsafe_code)]
        let timer = unsafe {
            let mut event: libc::sigevent = core::mem::zeroed();
            event.sigev_notify = libc::SIGEV_THREAD_ID;
            event.sigev_signo = signal();
            event.sigev_notify_thread_id = libc::gettid();
            let mut timer: libc::timer_t = core::ptr::null_mut();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &raw mut event, &raw mut timer) != 0 {
                return Err(io::Error::last_os_error());
            }
            timer
        };
        Ok(Alarm {
            timer,
            owner: std::thread::current().id(),
            armed: None,
        })
    }

    /// Whether the alarm signals this thread.
    pub(crate) fn owned_here(&self) -> bool {
        self.owner == std::thread::current().id()
    }

    /// Sets the timer to `value` from now (zero: disarmed), repeating every `repeat`.
    fn set(&mut self, value: Duration, repeat: Duration) -> io::Result<()> {
        let spec = |d: Duration| libc::timespec {
            tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(d.subsec_nanos().cast_signed()),
        };
        let value = libc::itimerspec {
            it_interval: spec(repeat),
            it_value: spec(value),
        };
        // SAFETY: `self.timer` is a live timer (deleted only in `drop`); `value` is valid.
        #[allow(unsafe_code)]
        let r =
            unsafe { libc::timer_settime(self.timer, 0, &raw const value, core::ptr::null_mut()) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Makes sure the thread is interrupted by `deadline` (or at most [`REPEAT`] later): no
    /// system call when the timer is set for no later than it and not yet passed.
    ///
    /// # Errors
    ///
    /// The kernel refused to set the timer.
    pub(crate) fn arm(&mut self, now: Instant, deadline: Instant) -> io::Result<()> {
        if self.armed.is_some_and(|at| at > now && at <= deadline) {
            return Ok(());
        }
        // A deadline already passed still fires (a zero value would disarm).
        let value = deadline
            .saturating_duration_since(now)
            .max(Duration::from_nanos(1));
        self.set(value, REPEAT)?;
        self.armed = Some(deadline);
        Ok(())
    }

    /// After a wait: disarms the timer if its deadline has passed (so that it stops
    /// repeating), else leaves it for the next wait.
    ///
    /// # Errors
    ///
    /// The kernel refused to change the timer.
    pub(crate) fn settle(&mut self, now: Instant) -> io::Result<()> {
        if self.armed.is_some_and(|at| at <= now) {
            self.armed = None;
            self.set(Duration::ZERO, Duration::ZERO)?;
        }
        Ok(())
    }
}

impl Alarm {
    /// Disarms the timer, whatever it was set for: the thread is left alone until the next
    /// [`arm`](Self::arm).
    ///
    /// # Errors
    ///
    /// The kernel refused to change the timer.
    pub(crate) fn disarm(&mut self) -> io::Result<()> {
        if self.armed.take().is_some() {
            self.set(Duration::ZERO, Duration::ZERO)?;
        }
        Ok(())
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        // SAFETY: the timer was made by `new` and is deleted once, here.
        #[allow(unsafe_code)]
        unsafe {
            libc::timer_delete(self.timer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    use std::sync::mpsc;

    /// Runs `f` on a thread of its own, failing (instead of hanging) after 10 s.
    fn on_a_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the thread finished")
    }

    /// A read from a socket nothing is written to, until it is interrupted: how long it took.
    fn blocked_read() -> Duration {
        let (mut a, _b) = UnixStream::pair().expect("a socket pair");
        let start = Instant::now();
        let err = a.read(&mut [0u8; 1]).expect_err("interrupted");
        assert_eq!(err.kind(), io::ErrorKind::Interrupted);
        start.elapsed()
    }

    /// An alarm of this thread, armed for `ms` from now, and that now.
    fn armed_in(ms: u64) -> (Alarm, Instant) {
        let mut alarm = Alarm::new().expect("an alarm");
        let now = Instant::now();
        alarm
            .arm(now, now + Duration::from_millis(ms))
            .expect("armed");
        (alarm, now)
    }

    #[test]
    fn an_alarm_interrupts_a_blocking_read_at_its_deadline() {
        let took = on_a_thread(|| {
            let (mut alarm, _) = armed_in(30);
            let took = blocked_read();
            alarm.settle(Instant::now()).expect("settled");
            assert_eq!(alarm.armed, None, "disarmed once its deadline passed");
            took
        });
        assert!(took >= Duration::from_millis(25), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn arming_is_lazy_and_a_later_deadline_keeps_the_earlier_alarm() {
        let took = on_a_thread(|| {
            let (mut alarm, now) = armed_in(30);
            // A later deadline: the alarm set stays (no system call); the wait ends early
            // and its caller waits again.
            alarm
                .arm(now, now + Duration::from_secs(60))
                .expect("armed");
            assert_eq!(alarm.armed, Some(now + Duration::from_millis(30)));
            // An earlier one moves it.
            alarm
                .arm(now, now + Duration::from_millis(20))
                .expect("armed");
            assert_eq!(alarm.armed, Some(now + Duration::from_millis(20)));
            blocked_read()
        });
        // Ended by the 20 ms alarm: not before it, and not at the minute.
        assert!(took >= Duration::from_millis(15), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn a_disarmed_alarm_leaves_the_thread_alone() {
        use std::io::Write;
        let interrupted = on_a_thread(|| {
            let (mut alarm, _) = armed_in(5);
            alarm.disarm().expect("disarmed");
            assert_eq!(alarm.armed, None);
            // A read that blocks past the deadline and its repeats, until a byte comes.
            let (mut a, mut b) = UnixStream::pair().expect("a socket pair");
            let writer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                b.write_all(&[1]).expect("a byte");
                b
            });
            let read = a.read(&mut [0u8; 1]);
            let _ = writer.join();
            read.is_err()
        });
        assert!(!interrupted, "a signal after the alarm was disarmed");
    }

    #[test]
    fn a_thread_that_blocks_the_signal_gets_no_alarm() {
        let made = on_a_thread(|| {
            // SAFETY: blocks one signal on this thread only, with a zeroed then filled set.
            #[allow(unsafe_code)]
            unsafe {
                let mut set: libc::sigset_t = core::mem::zeroed();
                libc::sigemptyset(&raw mut set);
                libc::sigaddset(&raw mut set, signal());
                libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, core::ptr::null_mut());
            }
            Alarm::new().map(|_| ())
        });
        assert!(made.is_err());
    }
}
