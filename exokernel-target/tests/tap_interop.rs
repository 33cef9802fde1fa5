//! The Prolac TCP against the Linux kernel's TCP over a TAP device (issue 8). Each test makes
//! a private network namespace with the TAP device's kernel end in it (192.0.2.1/24), runs
//! the library-OS stack with the Prolac TCP on the other end (192.0.2.2) in the test's
//! thread, and the kernel's TCP through std sockets in threads inside the namespace. Every
//! byte is checked against a seeded pattern, every connection must close as the test says,
//! and the namespace and device are gone afterwards. Needs root and /dev/net/tun: without
//! them each test says why and passes. Sizes: `PROLAC_TAP_MIB` (default 256) MiB each way.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use exokernel_target::netns::{Netns, exists};
use exokernel_target::netstack::{FourTuple, NetConfig, NetStack};
use exokernel_target::prolac_tcp::{ProlacConfig, ProlacStack, ProlacTcp};
use exokernel_target::realtime::{Runner, WaitDevice};
use exokernel_target::tap::{TapDevice, tap_available};
use exokernel_target::wire::{FaultyDevice, LinkConfig};
use protocols::tcp::{Event, State};
use smoltcp::wire::EthernetAddress;

const KERNEL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PROLAC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

/// Bytes each way in the bulk tests.
fn bulk_bytes() -> u64 {
    std::env::var("PROLAC_TAP_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(256)
        << 20
}

/// A namespace with a TAP device's kernel end in it; the namespace (and so the device) goes
/// on drop, and the test checks that it did.
struct Bench {
    ns: Option<Netns>,
    ns_name: String,
    tap_name: String,
    /// The Prolac TCP's settings.
    config: ProlacConfig,
}

impl Bench {
    fn ns(&self) -> &Netns {
        self.ns.as_ref().expect("the namespace")
    }

    /// Drops what holds the device, deletes the namespace and checks that neither it nor
    /// the device is left.
    fn finish(mut self, holder: impl Sized) {
        drop(holder);
        self.ns.take();
        assert!(
            !exists(&self.ns_name),
            "namespace {} left behind",
            self.ns_name
        );
        let link = std::process::Command::new("ip")
            .args(["link", "show", &self.tap_name])
            .output()
            .expect("ip");
        assert!(
            !link.status.success(),
            "device {} left behind",
            self.tap_name
        );
    }
}

fn bench() -> Option<(Bench, TapDevice)> {
    bench_with(false, config())
}

/// [`bench`], the device with the offloads on or off, the Prolac TCP set up by `config`.
fn bench_with(offloads: bool, config: ProlacConfig) -> Option<(Bench, TapDevice)> {
    if let Err(why) = tap_available() {
        println!("skipping: {why}");
        return None;
    }
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let id = format!(
        "{}x{}",
        std::process::id() % 100_000,
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    let ns_name = format!("prolac-t{id}");
    let ns = Netns::create(&ns_name).expect("a fresh namespace");
    let tap_name = format!("pt{id}");
    let tap = if offloads {
        TapDevice::create_offloaded(&tap_name, 1500)
    } else {
        TapDevice::create(&tap_name, 1500)
    }
    .expect("a TAP device");
    ns.adopt(&tap_name, "192.0.2.1/24")
        .expect("the kernel end set up");
    Some((
        Bench {
            ns: Some(ns),
            ns_name,
            tap_name,
            config,
        },
        tap,
    ))
}

fn stack() -> NetStack<ProlacTcp> {
    NetStack::new(NetConfig::new(
        EthernetAddress([0x02, 0, 0, 0, 0, 2]),
        PROLAC,
    ))
    .expect("a valid configuration")
}

/// Connections with room for a bandwidth-delay product well beyond the TAP's, with Linux's
/// timers (a 200 ms minimum RTO: recovery from loss is bound by it).
fn config() -> ProlacConfig {
    ProlacConfig {
        send_capacity: 1 << 20,
        receive_capacity: 1 << 20,
        options: protocols::tcp::Profile::Linux.options(),
        ..ProlacConfig::default()
    }
}

/// [`config`] with the TCP's segmentation offload: segments of up to 44 wire segments, cut by
/// the device (in software over a plain TAP, by the kernel with offloads).
fn config_segmenting() -> ProlacConfig {
    ProlacConfig {
        segmentation: 44,
        ..config()
    }
}

/// A seeded byte pattern: `len` bytes of stream `seed` from offset `from`.
fn pattern(seed: u64, from: u64, len: usize) -> Vec<u8> {
    (from..from + len as u64)
        .map(|i| {
            let x = ((i / 8) ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x.to_le_bytes()[(i % 8) as usize]
        })
        .collect()
}

/// What the Prolac side's application does on one connection.
#[derive(Clone, Debug)]
struct App {
    /// Bytes to send (stream `seed`), then close (a FIN) unless `abort`.
    send: u64,
    /// Bytes expected (stream `seed ^ 1`).
    expect: u64,
    seed: u64,
    /// Echo what arrives instead of checking it.
    echo: bool,
    /// Close when the peer has closed (otherwise when everything was sent).
    close_after_peer: bool,
    /// Abort (a reset) when everything expected has arrived.
    abort: bool,
    sent: u64,
    received: u64,
    closed: bool,
    /// What the echo has still to send back.
    pending: Vec<u8>,
}

impl App {
    fn new(send: u64, expect: u64, seed: u64) -> Self {
        Self {
            send,
            expect,
            seed,
            echo: false,
            close_after_peer: false,
            abort: false,
            sent: 0,
            received: 0,
            closed: false,
            pending: Vec::new(),
        }
    }

    /// One round on connection `key`: read and check, send, close. Whether it is done.
    fn step(&mut self, stack: &mut NetStack<ProlacTcp>, key: &FourTuple, now: u64) -> bool {
        let Some(conn) = stack.prolac_connection_mut(key) else {
            return self.closed;
        };
        let data = conn.take_received();
        let peer_closed = conn.events().contains(&Event::PeerClosed);
        let reset = conn.events().contains(&Event::Reset);
        let finished = conn.is_finished();
        assert!(!reset || self.abort, "{key}: reset by the kernel");
        if self.echo {
            self.send += data.len() as u64;
            self.pending.extend_from_slice(&data);
            self.received += data.len() as u64;
            assert!(self.received <= self.expect, "{key}: more than expected");
        } else if !data.is_empty() {
            // The stream, then — only for an abort, whose peer waits for the reset — the zero
            // bytes the peer pokes with while none has come (a lost segment can hold the
            // stream's end back longer than the peer waits).
            let stream = usize::try_from(self.expect - self.received)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let want = pattern(self.seed ^ 1, self.received, stream);
            assert!(
                data[..stream] == want,
                "{key}: wrong bytes at {}",
                self.received
            );
            assert!(
                stream == data.len() || (self.abort && data[stream..].iter().all(|&b| b == 0)),
                "{key}: more than expected"
            );
            self.received += stream as u64;
        }
        while self.sent < self.send {
            let n = (self.send - self.sent).min(64 * 1024) as usize;
            let chunk = if self.echo {
                self.pending[..n].to_vec()
            } else {
                pattern(self.seed, self.sent, n)
            };
            let taken = stack.prolac_send(key, &chunk, now).unwrap_or(0);
            if self.echo {
                self.pending.drain(..taken);
            }
            self.sent += taken as u64;
            if taken < chunk.len() {
                break;
            }
        }
        if self.abort && self.received == self.expect && !self.closed {
            stack.prolac_abort(key, now);
            self.closed = true;
        }
        let may_close = self.sent == self.send && (!self.close_after_peer || peer_closed);
        if may_close && !self.closed && !self.abort && (!self.echo || peer_closed) {
            stack.prolac_close(key, now);
            self.closed = true;
        }
        self.closed && self.received == self.expect && (finished || self.abort)
    }
}

/// Runs the stack until `done` says so (it may act on the stack) or `limit` passes.
fn run_until<D: WaitDevice>(
    runner: &mut Runner<D>,
    stack: &mut NetStack<ProlacTcp>,
    limit: Duration,
    mut done: impl FnMut(&mut NetStack<ProlacTcp>, u64) -> bool,
) {
    let start = Instant::now();
    loop {
        let (now, _) = runner.turn(stack);
        let finished = done(stack, now);
        runner.send(stack);
        if finished {
            return;
        }
        assert!(start.elapsed() < limit, "not done within {limit:?}");
        runner.wait(stack, Duration::from_millis(2)).expect("wait");
    }
}

/// The kernel side of one connection: sends `send` bytes of stream `seed ^ 1`, checks `expect`
/// bytes of stream `seed`, then closes — or, with `reset`, waits for the peer's reset (a
/// reset is not sent again if lost, so while none has come it pokes the peer with a byte,
/// which a peer that has forgotten the connection answers with another). Returns the bytes
/// received.
fn kernel_side(s: TcpStream, send: u64, expect: u64, seed: u64, reset: bool) -> u64 {
    let timeout = if reset { 200 } else { 60_000 };
    s.set_read_timeout(Some(Duration::from_millis(timeout)))
        .expect("timeout");
    let mut reader = s.try_clone().expect("clone");
    let mut poker = s.try_clone().expect("clone");
    let mut s = s;
    let writer = std::thread::spawn(move || {
        let mut sent = 0;
        while sent < send {
            let n = (send - sent).min(256 * 1024) as usize;
            s.write_all(&pattern(seed ^ 1, sent, n))
                .expect("kernel write");
            sent += n as u64;
        }
        if !reset {
            s.shutdown(Shutdown::Write).expect("shutdown");
        }
    });
    let mut got = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    let start = Instant::now();
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                assert!(
                    buf[..n] == pattern(seed, got, n)[..],
                    "kernel: wrong bytes at {got}"
                );
                got += n as u64;
            }
            Err(e) if reset && e.kind() == ErrorKind::ConnectionReset => break,
            Err(e)
                if reset
                    && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
                    && got == expect =>
            {
                assert!(start.elapsed() < Duration::from_secs(60), "no reset came");
                if poker.write_all(&[0]).is_err() {
                    break;
                }
            }
            Err(e) if reset && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "kernel: data stalled"
                );
            }
            Err(e) => panic!("kernel read after {got} bytes: {e}"),
        }
    }
    assert_eq!(got, expect, "kernel: bytes received");
    writer.join().expect("the kernel writer");
    got
}

/// Kernel clients connect to a Prolac listener; each connection runs `app` (a copy) on the
/// Prolac side and `kernel_side` on the kernel's.
fn kernel_clients<D: WaitDevice>(
    b: &Bench,
    runner: &mut Runner<D>,
    count: usize,
    app: &App,
    reset_expected: bool,
    limit: Duration,
) -> Vec<(FourTuple, App)> {
    let mut stack = stack();
    stack.listen(5001, ProlacTcp::listener(5001, b.config));
    let (send, expect, seed) = (app.expect, app.send, app.seed);
    let clients: JoinHandle<u64> = b
        .ns()
        .spawn(move || {
            let threads: Vec<_> = (0..count)
                .map(|i| {
                    std::thread::spawn(move || {
                        let s = TcpStream::connect_timeout(
                            &SocketAddr::from((PROLAC, 5001)),
                            Duration::from_secs(10),
                        )
                        .unwrap_or_else(|e| panic!("connection {i}: {e}"));
                        kernel_side(s, send, expect, seed, reset_expected)
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().expect("a client"))
                .sum()
        })
        .expect("a thread in the namespace");
    let mut apps: BTreeMap<FourTuple, (App, bool)> = BTreeMap::new();
    run_until(runner, &mut stack, limit, |stack, now| {
        let keys: Vec<FourTuple> = stack.connections().map(|(k, _)| *k).collect();
        for key in keys {
            let entry = apps.entry(key).or_insert_with(|| (app.clone(), false));
            if !entry.1 {
                entry.1 = entry.0.step(stack, &key, now);
            }
        }
        apps.len() == count && apps.values().all(|(_, done)| *done) && clients.is_finished()
    });
    let total = clients.join().expect("the kernel clients");
    assert_eq!(total, app.send * count as u64);
    apps.into_iter().map(|(k, (a, _))| (k, a)).collect()
}

/// Handshake, data both ways, graceful close with the Prolac side second: a kernel client
/// sends a message to the Prolac TCP's echo service and reads it back.
#[test]
fn kernel_client_and_prolac_echo_server() {
    let Some((b, tap)) = bench() else { return };
    let mut runner = Runner::new(tap);
    let mut app = App::new(0, 13, 7);
    app.echo = true;
    app.expect = 13;
    let mut stack = stack();
    stack.listen(7, ProlacTcp::listener(7, ProlacConfig::default()));
    let client = b
        .ns()
        .spawn(|| {
            let mut s =
                TcpStream::connect_timeout(&SocketAddr::from((PROLAC, 7)), Duration::from_secs(5))
                    .expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            s.write_all(b"hello, Prolac").expect("write");
            s.shutdown(Shutdown::Write).expect("shutdown");
            let mut back = Vec::new();
            s.read_to_end(&mut back).expect("read");
            back
        })
        .expect("a thread in the namespace");
    let mut apps: BTreeMap<FourTuple, App> = BTreeMap::new();
    run_until(
        &mut runner,
        &mut stack,
        Duration::from_secs(10),
        |stack, now| {
            let keys: Vec<FourTuple> = stack.connections().map(|(k, _)| *k).collect();
            let mut all = !keys.is_empty();
            for key in keys {
                all &= apps
                    .entry(key)
                    .or_insert_with(|| app.clone())
                    .step(stack, &key, now);
            }
            all && client.is_finished()
        },
    );
    assert_eq!(client.join().expect("client"), b"hello, Prolac");
    b.finish(runner);
}

/// 256 MiB from the kernel to the Prolac TCP and 256 MiB back, one after the other on two
/// connections (kernel client, Prolac server), then both at once on one connection.
#[test]
fn bulk_both_ways_against_the_kernel() {
    let Some((b, tap)) = bench() else { return };
    let mut runner = Runner::new(tap);
    bulk_three_ways(&b, &mut runner, 11, "");
    // The kernel's back-to-back segments reached the TCP coalesced, every byte still right.
    println!(
        "coalesced: {} frames into {} segments",
        runner.coalesced.0, runner.coalesced.1
    );
    assert!(runner.coalesced.1 > 1000);
    assert!(runner.coalesced.0 > 3 * runner.coalesced.1);
    // Every frame, written one system call each (`RWF_NOWAIT` where the kernel takes it),
    // went in: more than 512 MiB of data the other way, nothing dropped or failed.
    let stats = runner.device().stats();
    assert!(stats.tx_bytes > 2 * bulk_bytes(), "{stats:?}");
    assert_eq!((stats.tx_dropped, stats.errors), (0, 0), "{stats:?}");
    b.finish(runner);
}

/// `bulk_bytes()` from the kernel (as client) to the Prolac TCP, then back, then both ways at
/// once, each on its own connection; the rate of each, its line prefixed by `label`.
fn bulk_three_ways<D: WaitDevice>(b: &Bench, runner: &mut Runner<D>, seed: u64, label: &str) {
    let n = bulk_bytes();
    for (send, expect, what) in [
        (0, n, "kernel to Prolac"),
        (n, 0, "Prolac to kernel"),
        (n, n, "both ways at once"),
    ] {
        let start = Instant::now();
        let app = App::new(send, expect, seed);
        let done = kernel_clients(b, runner, 1, &app, false, Duration::from_secs(300));
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{label}{what}: {:.0} Mbit/s ({} MiB in {secs:.2} s)",
            ((send + expect) * 8) as f64 / secs / 1e6,
            (send + expect) >> 20
        );
        assert_eq!(done.len(), 1);
    }
}

/// The Prolac TCP as client: it connects to a kernel listener, sends 256 MiB and receives
/// 256 MiB at once, and each end closes once it has sent everything.
#[test]
fn prolac_client_and_kernel_server() {
    // The TCP's large segments, cut in software by the device: every byte still checked.
    let Some((b, tap)) = bench_with(false, config_segmenting()) else {
        return;
    };
    let mut runner = Runner::new(tap);
    // On where the kernel has io_uring, and said so.
    let batching = runner.device_mut().set_batched_writes(true);
    assert_eq!(batching, exokernel_target::uring::WriteBatch::new().is_ok());
    prolac_client(&b, &mut runner, bulk_bytes(), 6001);
    // The pieces of each segment cut here went to the kernel together (one system call for
    // a segment's), every write taken.
    let stats = runner.device().stats();
    println!(
        "batched writes: {} frames in {} system calls",
        stats.tx_batched.0, stats.tx_batched.1
    );
    if batching {
        assert!(stats.tx_batched.0 > bulk_bytes() / 1448 / 2, "{stats:?}");
        assert!(stats.tx_batched.0 > 8 * stats.tx_batched.1, "{stats:?}");
    }
    assert_eq!((stats.tx_dropped, stats.errors), (0, 0), "{stats:?}");
    b.finish(runner);
}

/// The Prolac client of [`prolac_client_and_kernel_server`] on `runner`'s device.
fn prolac_client<D: WaitDevice>(b: &Bench, runner: &mut Runner<D>, n: u64, port: u16) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let server = b
        .ns()
        .spawn(move || {
            let listener = TcpListener::bind((KERNEL, port)).expect("bind");
            ready_tx.send(()).expect("ready");
            let (s, _) = listener.accept().expect("accept");
            kernel_side(s, n, n, 21, false)
        })
        .expect("a thread in the namespace");
    ready_rx.recv().expect("the server is listening");
    let mut stack = stack();
    let now = runner.now_us();
    let key = stack
        .prolac_connect(40000, (KERNEL, port), b.config, now)
        .expect("connect");
    let mut app = App::new(n, n, 21);
    let start = Instant::now();
    run_until(
        runner,
        &mut stack,
        Duration::from_secs(300),
        |stack, now| app.step(stack, &key, now) && server.is_finished(),
    );
    println!(
        "Prolac client, both ways at once: {:.0} Mbit/s",
        (2 * n * 8) as f64 / start.elapsed().as_secs_f64() / 1e6
    );
    assert_eq!(server.join().expect("server"), n);
    // Both ends close when they have sent everything, so either FIN may come first: TIME-WAIT
    // (ours first) or CLOSED (the kernel's), never a reset.
    let conn = stack.prolac_connection(&key).expect("still registered");
    assert!(
        matches!(conn.state(), State::TimeWait | State::Closed),
        "{:?}",
        conn.state()
    );
    assert!(!conn.events().contains(&Event::Reset));
}

/// With the offloads on (virtio-net headers, the kernel's segments of up to 64 KiB both
/// ways, checksums left undone): 256 MiB each way and both at once with the kernel as
/// client, then the Prolac TCP as client both ways at once. The device's counters show that
/// the large segments went both ways and that the kernel's checksums were taken on its word.
#[test]
fn with_offloads_bulk_both_ways_in_both_roles() {
    let Some((b, tap)) = bench_with(true, config_segmenting()) else {
        return;
    };
    let mut runner = Runner::new(tap);
    let n = bulk_bytes();
    bulk_three_ways(&b, &mut runner, 12, "with offloads, ");
    prolac_client(&b, &mut runner, n, 6002);
    let stats = runner.device().stats();
    println!("{stats:?}");
    assert!(stats.rx_large_segments > 1000, "{stats:?}");
    assert!(stats.tx_large_segments > 1000, "{stats:?}");
    assert!(
        stats.tx_merged_frames > 10 * stats.tx_large_segments,
        "{stats:?}"
    );
    assert!(stats.rx_checksum_trusted > 1000, "{stats:?}");
    b.finish(runner);
}

/// Offloads and 5 % loss each way on the Prolac side (each frame the stack builds, and each
/// large segment of the kernel's, lost whole): 4 MiB each way at once, every byte checked,
/// and 50 connections of 64 KiB each way.
#[test]
fn with_offloads_and_five_percent_loss() {
    let Some((b, tap)) = bench_with(true, config_segmenting()) else {
        return;
    };
    let lossy = LinkConfig {
        loss: 0.05,
        ..LinkConfig::PERFECT
    };
    let mut runner = Runner::new(FaultyDevice::new(tap, lossy.clone(), lossy, 6));
    let app = App::new(4 << 20, 4 << 20, 55);
    kernel_clients(&b, &mut runner, 1, &app, false, Duration::from_secs(300));
    let mut many = App::new(64 << 10, 64 << 10, 56);
    many.close_after_peer = true;
    let done = kernel_clients(&b, &mut runner, 50, &many, false, Duration::from_secs(300));
    assert_eq!(done.len(), 50);
    let lost = runner.device().inbound_stats().lost + runner.device().outbound_stats().lost;
    assert!(lost > 50, "the faults ran: {lost} frames lost");
    assert!(runner.device().inner().stats().tx_large_segments > 0);
    b.finish(runner);
}

/// Resets both ways: the Prolac TCP aborts a connection once it has the kernel's data (the
/// kernel's read fails with ECONNRESET); the kernel aborts one (SO_LINGER 0) and the Prolac
/// TCP reports the reset.
#[test]
fn resets_both_ways() {
    let Some((b, tap)) = bench() else { return };
    let mut runner = Runner::new(tap);
    let mut app = App::new(0, 4096, 31);
    app.abort = true;
    let done = kernel_clients(&b, &mut runner, 1, &app, true, Duration::from_secs(30));
    assert!(done.iter().all(|(_, a)| a.closed));

    // The kernel aborts: it connects, sends, and closes with SO_LINGER 0.
    let mut stack = stack();
    stack.listen(5002, ProlacTcp::listener(5002, config()));
    let client = b
        .ns()
        .spawn(|| {
            let mut s = TcpStream::connect((PROLAC, 5002)).expect("connect");
            s.write_all(&pattern(33, 0, 1000)).expect("write");
            std::thread::sleep(Duration::from_millis(50));
            rustix::net::sockopt::set_socket_linger(&s, Some(Duration::ZERO)).expect("linger");
            drop(s);
        })
        .expect("a thread in the namespace");
    let mut seen = None;
    run_until(
        &mut runner,
        &mut stack,
        Duration::from_secs(10),
        |stack, _| {
            for (key, h) in stack.connections() {
                if let Some(c) = h.as_connection()
                    && c.events().contains(&Event::Reset)
                {
                    seen = Some(*key);
                }
            }
            seen.is_some() && client.is_finished()
        },
    );
    client.join().expect("client");
    b.finish(runner);
}

/// 200 kernel connections at once to the Prolac TCP, each sending 64 KiB and receiving
/// 64 KiB; the kernel closes first.
#[test]
fn two_hundred_concurrent_connections() {
    let Some((b, tap)) = bench() else { return };
    let mut runner = Runner::new(tap);
    let mut app = App::new(64 << 10, 64 << 10, 41);
    app.close_after_peer = true;
    let done = kernel_clients(&b, &mut runner, 200, &app, false, Duration::from_secs(120));
    assert_eq!(done.len(), 200);
    assert!(
        done.iter()
            .all(|(_, a)| a.received == 64 << 10 && a.sent == 64 << 10)
    );
    b.finish(runner);
}

/// The same with 5 % of the frames lost each way on the Prolac side: 4 MiB each way at once
/// on one connection (loss recovery is bound by the 200 ms minimum RTO: see
/// `docs/BENCHMARKS.md`), a reset, and 50 connections of 64 KiB each way.
#[test]
fn with_five_percent_loss() {
    let Some((b, tap)) = bench() else { return };
    let lossy = LinkConfig {
        loss: 0.05,
        ..LinkConfig::PERFECT
    };
    let mut runner = Runner::new(FaultyDevice::new(tap, lossy.clone(), lossy, 5));
    let app = App::new(4 << 20, 4 << 20, 51);
    let start = Instant::now();
    kernel_clients(&b, &mut runner, 1, &app, false, Duration::from_secs(300));
    println!(
        "5 % loss, both ways at once: {:.1} Mbit/s",
        (2 * (4u64 << 20) * 8) as f64 / start.elapsed().as_secs_f64() / 1e6
    );
    let mut abort = App::new(0, 4096, 53);
    abort.abort = true;
    kernel_clients(&b, &mut runner, 1, &abort, true, Duration::from_secs(60));
    let mut many = App::new(64 << 10, 64 << 10, 52);
    many.close_after_peer = true;
    let done = kernel_clients(&b, &mut runner, 50, &many, false, Duration::from_secs(300));
    assert_eq!(done.len(), 50);
    let lost = runner.device().inbound_stats().lost + runner.device().outbound_stats().lost;
    assert!(lost > 100, "the faults ran: {lost} frames lost");
    b.finish(runner);
}

/// The reference: smoltcp's TCP on the same kind of TAP device against the kernel — the
/// kernel sends it 64 MiB and it sends 64 MiB back, both at once, every byte checked.
#[test]
fn smoltcp_over_tap_against_the_kernel() {
    use exokernel_target::device::SmoltcpDevice;
    use exokernel_target::realtime::Clock;
    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::socket::tcp;
    use smoltcp::time::Instant as SmolInstant;
    use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

    let Some((b, tap)) = bench() else { return };
    let n: u64 = 64 << 20;
    let clock = Clock::process();
    let mut device = SmoltcpDevice::new(tap);
    let now = || SmolInstant::from_micros(i64::try_from(clock.now_us()).unwrap_or(i64::MAX));
    let mut iface = Interface::new(
        Config::new(HardwareAddress::Ethernet(EthernetAddress([
            2, 0, 0, 0, 0, 3,
        ]))),
        &mut device,
        now(),
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(IpAddress::Ipv4(PROLAC), 24))
            .expect("room for an address");
    });
    let mut sockets = SocketSet::new(Vec::new());
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 1 << 20]),
        tcp::SocketBuffer::new(vec![0; 1 << 20]),
    );
    socket.listen(5003).expect("listen");
    let handle = sockets.add(socket);
    let client = b
        .ns()
        .spawn(move || {
            let s = TcpStream::connect_timeout(
                &SocketAddr::from((PROLAC, 5003)),
                Duration::from_secs(10),
            )
            .expect("connect");
            kernel_side(s, n, n, 61, false)
        })
        .expect("a thread in the namespace");
    let (mut sent, mut received, mut closed) = (0u64, 0u64, false);
    let start = Instant::now();
    loop {
        iface.poll(now(), &mut device, &mut sockets);
        let s = sockets.get_mut::<tcp::Socket>(handle);
        while s.can_recv() {
            let got = s
                .recv(|buf| {
                    assert!(
                        buf == pattern(61 ^ 1, received, buf.len()).as_slice(),
                        "smoltcp: wrong bytes"
                    );
                    (buf.len(), buf.len())
                })
                .expect("recv");
            received += got as u64;
        }
        while sent < n && s.can_send() {
            let chunk = pattern(61, sent, (n - sent).min(64 * 1024) as usize);
            let taken = s.send_slice(&chunk).expect("send");
            sent += taken as u64;
            if taken < chunk.len() {
                break;
            }
        }
        if sent == n && !closed && s.send_queue() == 0 {
            s.close();
            closed = true;
        }
        iface.poll(now(), &mut device, &mut sockets);
        if client.is_finished() && received == n {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "smoltcp run stalled"
        );
        let delay = iface
            .poll_delay(now(), &sockets)
            .map_or(Duration::from_millis(2), |d| {
                Duration::from_micros(d.total_micros())
            })
            .min(Duration::from_millis(2));
        TapDevice::wait(device.inner(), Some(delay)).expect("wait");
    }
    println!(
        "smoltcp over TAP, both ways at once: {:.0} Mbit/s",
        (2 * n * 8) as f64 / start.elapsed().as_secs_f64() / 1e6
    );
    assert_eq!(client.join().expect("the kernel side"), n);
    b.finish(device);
}

/// `prolac-bench`'s measurements run: every contender (the Prolac TCP, smoltcp, the do-nothing
/// endpoint) moves 8 MiB each way against the kernel over TAP, the round trips are answered,
/// and the kernel against itself over veth works with and without offloads.
#[test]
fn benchmark_measurements_run() {
    use exokernel_target::bench::{Contender, Direction, TapBench, VethBench};
    if let Err(why) = tap_available() {
        println!("skipping: {why}");
        return;
    }
    let mut tap = TapBench::new().expect("a TAP bench");
    for who in [Contender::Ceiling, Contender::Prolac, Contender::Smoltcp] {
        for dir in [Direction::ToStack, Direction::FromStack] {
            let t = tap.bulk(who, dir, 8 << 20).expect("a bulk run");
            println!(
                "{who:?} {dir:?}: {:.2} Gbit/s",
                (8u64 << 23) as f64 / t.as_secs_f64() / 1e9
            );
        }
    }
    let has_ethtool = std::process::Command::new("ethtool")
        .arg("--version")
        .output()
        .is_ok();
    for offloads in [true, false] {
        if !offloads && !has_ethtool {
            println!("ethtool is missing: the veth run without offloads is not tried");
            continue;
        }
        let veth = VethBench::new(offloads).expect("a veth pair");
        assert!(veth.bulk(8 << 20).expect("a veth run") > Duration::ZERO);
        if offloads {
            // The three contenders' round trips, interleaved: 2 rounds of 150 in blocks of
            // 50, every one counted and echoed right (a wrong byte is an error).
            let mut polling_tap = TapBench::new().expect("a second TAP bench");
            let mut smoltcp_tap = TapBench::new().expect("a third TAP bench");
            let trips = exokernel_target::bench::latency::round_trips(
                [&mut tap, &mut polling_tap, &mut smoltcp_tap],
                &veth,
                2,
                150,
                50,
            )
            .expect("round trips");
            assert_eq!(trips.round_medians.len(), 2);
            assert_eq!(trips.all.len(), 4, "every contender measured");
            for (i, all) in trips.all.iter().enumerate() {
                assert_eq!(all.len(), 300, "contender {i}");
                assert!(all.iter().all(|&us| us > 0.0 && us < 10e6));
            }
            // The devices came back: the benches still run.
            tap.bulk(Contender::Prolac, Direction::ToStack, 1 << 20)
                .expect("a run after the round trips");
        }
    }
}

/// Waits on `tap` for up to `timeout` in a thread of its own (a wait that never ended would
/// fail the test instead of hanging it): what the wait returned, how long it took, and the
/// device.
fn wait_in_thread(mut tap: TapDevice, timeout: Duration) -> (Option<Vec<u8>>, Duration, TapDevice) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        let start = Instant::now();
        let got = tap.wait_recv(&mut buf, timeout).expect("a wait");
        let took = start.elapsed();
        let _ = tx.send((got.map(|n| buf[..n].to_vec()), took, tap));
    });
    rx.recv_timeout(timeout + Duration::from_secs(10))
        .expect("the wait ended")
}

/// The wait in the read (a blocking read that the thread's alarm ends) ends at its timeout
/// when nothing comes — again and again, with the alarm armed lazily, on the thread that made
/// it and on another — and at once when a frame comes; the device's other reads do not block.
#[test]
fn a_wait_in_the_read_ends_at_its_timeout_or_at_a_frame() {
    let Some((b, mut tap)) = bench() else { return };
    if !tap.set_wait_in_read(true) {
        println!("this kernel cannot tell a TAP read not to block: waits use poll");
    }
    let timeout = Duration::from_millis(40);
    let mut quiet = 0;
    for _ in 0..30 {
        // Each wait runs on a new thread: the device makes an alarm for it.
        let (got, took, back) = wait_in_thread(tap, timeout);
        tap = back;
        match got {
            // The kernel's own chatter (IPv6 router solicitations) may end a wait early.
            Some(_) => continue,
            None => {
                assert!(
                    took >= timeout - Duration::from_millis(2),
                    "ended early: {took:?}"
                );
                assert!(took < Duration::from_secs(2), "ended late: {took:?}");
                quiet += 1;
            }
        }
        if quiet == 3 {
            break;
        }
    }
    assert_eq!(quiet, 3, "three waits ended at their timeout");
    // Several waits on one thread: the alarm set for the first serves the later ones.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        let mut took = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            if tap.wait_recv(&mut buf, timeout).expect("a wait").is_none() {
                took.push(start.elapsed());
            }
            // A read that is not a wait returns at once, frame or not.
            let _ = exokernel_target::device::FrameDevice::recv_into(&mut tap, &mut buf, 0);
        }
        let _ = tx.send((took, tap));
    });
    let (took, back) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the waits ended");
    tap = back;
    assert!(!took.is_empty());
    for t in took {
        assert!(
            t >= timeout - Duration::from_millis(2) && t < Duration::from_secs(2),
            "{t:?}"
        );
    }
    // A frame ends the wait: the kernel's side sends a datagram to the stack's address and so
    // first asks for it with ARP.
    let waiting = std::thread::spawn(move || {
        let start = Instant::now();
        let mut arp = None;
        while arp.is_none() && start.elapsed() < Duration::from_secs(5) {
            let (got, _, back) = wait_in_thread(tap, Duration::from_secs(30));
            tap = back;
            arp = got.filter(|f| f.len() >= 14 && f[12..14] == [0x08, 0x06]);
        }
        (arp, start.elapsed(), tap)
    });
    std::thread::sleep(Duration::from_millis(50));
    b.ns()
        .run(|| {
            let s = std::net::UdpSocket::bind((KERNEL, 0)).expect("a socket");
            let _ = s.send_to(b"x", (PROLAC, 9));
        })
        .expect("the namespace");
    let (arp, took, tap) = waiting.join().expect("the waiting thread");
    assert!(arp.is_some(), "the ARP request ended a wait");
    assert!(
        took < Duration::from_secs(5),
        "long before the 30 s timeout: {took:?}"
    );
    b.finish(tap);
}
