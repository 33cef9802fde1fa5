//! 1-byte round trips for `prolac-bench` (issue 8): the kernel's TCP (std sockets, Nagle
//! off) against the Prolac TCP over a TAP device, the Prolac TCP again over another with its
//! waits made with `poll` before the read (what the wait in the read itself saves: one system
//! call per round trip), smoltcp over a third, and itself over a veth pair — every thread
//! pinned to CPU 0, the same-core round trip of the issue.
//!
//! The contenders are measured side by side. One client thread holds a connection to each
//! of the four echo servers at once and takes its round trips in small blocks, contender
//! after contender, over and over: the VM this runs on drifts within a second (a contender
//! measured alone for a few thousand round trips can meet a machine 50 % slower than the one
//! before it), and blocks of a hundred interleaved this way put every contender on the same
//! machine. A round is `per_round` round trips of each contender; a warm-up block of each
//! goes first and is not counted. Each round trip is timed from the client's `write` to the
//! `read` of the echoed byte.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{PORT, STACK, TapBench, VethBench, connect_retrying, pin_to_cpu0, unpin};
use crate::netstack::FourTuple;
use crate::prolac_tcp::ProlacStack;
use crate::realtime::Runner;
use crate::tap::TapDevice;

/// The contenders, in the order of [`RoundTrips`]'s arrays.
pub const CONTENDERS: [&str; 4] = [
    "Prolac TCP over TAP",
    "Prolac TCP over TAP, waiting with poll",
    "smoltcp over TAP",
    "kernel ↔ kernel over veth",
];

/// What [`round_trips`] measured, in µs.
#[derive(Clone, Debug, Default)]
pub struct RoundTrips {
    /// Each round's median round trip of each contender.
    pub round_medians: Vec<[f64; 4]>,
    /// Every counted round trip of each contender.
    pub all: [Vec<f64>; 4],
}

/// The kernel's port of the echo server over veth.
const VETH_PORT: u16 = PORT + 1;

/// `rounds` rounds of `per_round` 1-byte round trips with each contender, in interleaved
/// blocks of `block` (see the module's documentation): the Prolac TCP on the first device of
/// `taps`, the Prolac TCP waiting with `poll` on the second, smoltcp on the third, the kernel
/// over `veth`.
///
/// # Errors
///
/// A connection failed, a round trip took over 10 s, or a server failed.
pub fn round_trips(
    taps: [&mut TapBench; 3],
    veth: &VethBench,
    rounds: usize,
    per_round: usize,
    block: usize,
) -> io::Result<RoundTrips> {
    let block = block.max(1);
    let stop = AtomicBool::new(false);
    let [prolac, polling, smoltcp] = taps;
    for b in [&*prolac, &*polling, &*smoltcp] {
        b.ns.ip(&["neigh", "flush", "all"])?;
    }
    let (prolac_tap, polling_tap, smoltcp_tap) = (prolac.take(), polling.take(), smoltcp.take());
    let (tx, rx) = std::sync::mpsc::channel();
    let kernel_echo = veth.b.spawn(move || -> io::Result<()> {
        pin_to_cpu0();
        let l = TcpListener::bind(("198.51.100.2", VETH_PORT))?;
        let _ = tx.send(());
        let (mut s, _) = l.accept()?;
        s.set_nodelay(true)?;
        let mut b = [0u8; 1];
        while s.read(&mut b)? == 1 {
            s.write_all(&b)?;
        }
        Ok(())
    })?;
    let result = std::thread::scope(|scope| {
        let done = || stop.load(Ordering::Relaxed);
        let prolac_echoing = scope.spawn(move || {
            pin_to_cpu0();
            prolac_echo(prolac_tap, true, done)
        });
        let polling_echo = scope.spawn(move || {
            pin_to_cpu0();
            prolac_echo(polling_tap, false, done)
        });
        let smoltcp_echo = scope.spawn(move || {
            pin_to_cpu0();
            smoltcp_echo(smoltcp_tap, done)
        });
        let measured = (|| {
            rx.recv_timeout(Duration::from_secs(10))
                .map_err(|_| io::Error::other("the kernel's echo server did not start"))?;
            let mut sockets = [
                prolac
                    .ns
                    .spawn(|| connect_retrying(SocketAddr::from((STACK, PORT))))?,
                polling
                    .ns
                    .spawn(|| connect_retrying(SocketAddr::from((STACK, PORT))))?,
                smoltcp
                    .ns
                    .spawn(|| connect_retrying(SocketAddr::from((STACK, PORT))))?,
                veth.a
                    .spawn(|| connect_retrying(SocketAddr::from(([198, 51, 100, 2], VETH_PORT))))?,
            ]
            .map(|h| {
                h.join()
                    .map_err(|_| io::Error::other("connecting panicked"))
                    .and_then(|s| s)
            });
            let mut streams = Vec::new();
            for s in &mut sockets {
                let s = std::mem::replace(s, Err(io::Error::other("taken")))?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_secs(10)))?;
                streams.push(s);
            }
            pin_to_cpu0();
            let measured = client(&mut streams, rounds, per_round, block);
            unpin();
            for s in &streams {
                let _ = s.shutdown(Shutdown::Write);
            }
            measured
        })();
        stop.store(true, Ordering::Relaxed);
        let (tap, served) = prolac_echoing
            .join()
            .map_err(|_| io::Error::other("the Prolac echo panicked"))?;
        prolac.tap = Some(tap);
        let (tap, polled) = polling_echo
            .join()
            .map_err(|_| io::Error::other("the polling Prolac echo panicked"))?;
        polling.tap = Some(tap);
        let (tap, smol_served) = smoltcp_echo
            .join()
            .map_err(|_| io::Error::other("the smoltcp echo panicked"))?;
        smoltcp.tap = Some(tap);
        served?;
        polled?;
        smol_served?;
        measured
    });
    let kernel = kernel_echo
        .join()
        .map_err(|_| io::Error::other("the kernel's echo panicked"))?;
    let measured = result?;
    kernel?;
    Ok(measured)
}

/// The client: a warm-up block with each stream, then `rounds` rounds of `per_round` round
/// trips with each, `block` at a time.
fn client(
    streams: &mut [TcpStream],
    rounds: usize,
    per_round: usize,
    block: usize,
) -> io::Result<RoundTrips> {
    let mut out = RoundTrips::default();
    let mut byte = 0u8;
    let mut one = |s: &mut TcpStream| -> io::Result<f64> {
        byte = byte.wrapping_add(1);
        let mut b = [0u8; 1];
        let t = Instant::now();
        s.write_all(&[byte])?;
        s.read_exact(&mut b)?;
        let took = t.elapsed().as_secs_f64() * 1e6;
        if b[0] != byte {
            return Err(io::Error::other("the echo sent back another byte"));
        }
        Ok(took)
    };
    for s in streams.iter_mut() {
        for _ in 0..block {
            one(s)?;
        }
    }
    for _ in 0..rounds {
        let mut this_round: [Vec<f64>; 4] = Default::default();
        let mut left = per_round;
        while left > 0 {
            let n = left.min(block);
            for (i, s) in streams.iter_mut().enumerate() {
                for _ in 0..n {
                    this_round[i].push(one(s)?);
                }
            }
            left -= n;
        }
        let mut medians = [0.0; 4];
        for (i, times) in this_round.into_iter().enumerate() {
            medians[i] = super::median_min_max(&times).0;
            out.all[i].extend(times);
        }
        out.round_medians.push(medians);
    }
    Ok(out)
}

/// The Prolac TCP echoing every byte until `done`, waiting in the read (`in_read`) or with
/// `poll`.
fn prolac_echo(
    mut tap: TapDevice,
    in_read: bool,
    done: impl Fn() -> bool,
) -> (TapDevice, io::Result<()>) {
    tap.set_wait_in_read(in_read);
    let mut stack = match super::prolac_stack(true) {
        Ok(s) => s,
        Err(e) => return (tap, Err(e)),
    };
    let mut runner = Runner::new(tap);
    let mut keys: Vec<FourTuple> = Vec::new();
    let mut data = Vec::new();
    while !done() {
        let (now, _) = runner.turn(&mut stack);
        keys.clear();
        keys.extend(stack.connections().map(|(k, _)| *k));
        for key in &keys {
            let Some(conn) = stack.prolac_connection_mut(key) else {
                continue;
            };
            data.clear();
            conn.read_into(&mut data);
            if !data.is_empty() {
                stack.prolac_send(key, &data, now);
            }
        }
        runner.send(&mut stack);
        // Block in the read of the next frame, as a server would.
        if let Err(e) = runner.wait(&stack, Duration::from_millis(20)) {
            return (runner.into_device(), Err(e));
        }
    }
    (runner.into_device(), Ok(()))
}

/// smoltcp echoing every byte until `done`.
fn smoltcp_echo(tap: TapDevice, done: impl Fn() -> bool) -> (TapDevice, io::Result<()>) {
    use smoltcp::socket::tcp;
    let (mut iface, mut device, mut sockets, handle) = super::smoltcp_host(tap);
    let mut held = Vec::new();
    let now = super::smol_now;
    while !done() {
        iface.poll(now(), &mut device, &mut sockets);
        let s = sockets.get_mut::<tcp::Socket>(handle);
        while s.can_recv() {
            let _ = s.recv(|b| {
                held.extend_from_slice(b);
                (b.len(), ())
            });
        }
        if !held.is_empty() && s.can_send() {
            let n = s.send_slice(&held).unwrap_or(0);
            held.drain(..n);
        }
        iface.poll(now(), &mut device, &mut sockets);
        let delay = iface
            .poll_delay(now(), &sockets)
            .map_or(Duration::from_millis(20), |d| {
                Duration::from_micros(d.total_micros())
            })
            .min(Duration::from_millis(20));
        let _ = device.inner().wait(Some(delay));
    }
    (device.into_inner(), Ok(()))
}
