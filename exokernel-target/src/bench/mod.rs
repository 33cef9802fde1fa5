//! Measurements against the Linux kernel for `prolac-bench` (issue 8): bulk transfers and
//! 1-byte round trips between the kernel's TCP (std sockets in a private namespace) and a
//! TCP on the TAP device's other end — the Prolac TCP on the library-OS stack, smoltcp, or
//! [`null_tcp`], the do-nothing endpoint that is the ceiling for any user-space TCP over TAP —
//! and the kernel against itself over a veth pair. Every figure is measured on the kernel's
//! side, the same way for every contender: a bulk transfer from `connect` to the end of the
//! stream (the contender's FIN), a round trip from `write` to the `read` of the answer.

pub mod latency;
pub mod memory;
pub mod null_tcp;

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prolac_runtime::checksum::SummedBytes;
use smoltcp::wire::EthernetAddress;

use crate::device::SmoltcpDevice;
use crate::netns::{Netns, ip};
use crate::netstack::{FourTuple, NetConfig, NetStack};
use crate::prolac_tcp::{ProlacConfig, ProlacStack, ProlacTcp};
use crate::realtime::{Clock, Runner};
use crate::tap::TapDevice;

/// The kernel's end of the TAP device.
pub const KERNEL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The contender's address.
pub const STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const PORT: u16 = 5201;
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// Which way the data goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The kernel sends, the contender receives.
    ToStack,
    /// The contender sends, the kernel receives.
    FromStack,
}

/// The TCP on the TAP device's other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contender {
    /// The Prolac TCP on the library-OS stack.
    Prolac,
    /// The Prolac TCP, its application sending without a copy into the send buffer
    /// ([`crate::prolac_tcp::ProlacStack::prolac_send_shared`]
    /// of one 64 KiB buffer, summed once), as a server sends a file from its cache; receiving,
    /// the same as [`Contender::Prolac`].
    ProlacShared,
    /// [`Contender::ProlacShared`] with TCP timestamps off: the frames the ceiling and smoltcp
    /// send and take (1,460 bytes of data, no options), and no timestamp work in the kernel's
    /// TCP — either way.
    ProlacSharedPlain,
    /// [`Contender::Prolac`] writing each frame of a segment cut in software with a system
    /// call of its own, as the ceiling does (the device's batched writes off:
    /// [`TapDevice::set_batched_writes`]).
    ProlacPerFrame,
    /// [`Contender::ProlacShared`], one system call per frame.
    ProlacSharedPerFrame,
    /// smoltcp's TCP.
    Smoltcp,
    /// The do-nothing endpoint ([`null_tcp`]).
    Ceiling,
}

/// A namespace with a TAP device's kernel end in it (192.0.2.1/24).
pub struct TapBench {
    ns: Netns,
    tap: Option<TapDevice>,
}

impl TapBench {
    /// Makes the namespace and the device.
    ///
    /// # Errors
    ///
    /// No permission, or `ip` failed.
    pub fn new() -> io::Result<TapBench> {
        Self::build(false)
    }

    /// Makes the namespace and a device with the offloads on
    /// ([`TapDevice::create_offloaded`]): the kernel's segments of up to 64 KiB both ways.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn offloaded() -> io::Result<TapBench> {
        Self::build(true)
    }

    fn build(offloads: bool) -> io::Result<TapBench> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}b{}",
            std::process::id() % 100_000,
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let ns = Netns::create(&format!("prolac-bench{id}"))?;
        no_metrics_saved(&ns)?;
        let name = format!("pb{id}");
        let tap = if offloads {
            TapDevice::create_offloaded(&name, 1500)?
        } else {
            TapDevice::create(&name, 1500)?
        };
        ns.adopt(&name, "192.0.2.1/24")?;
        Ok(TapBench { ns, tap: Some(tap) })
    }

    fn take(&mut self) -> TapDevice {
        self.tap.take().expect("the device is back after each run")
    }

    /// One bulk transfer of `bytes` in `dir` with `who`: the time from the start (the
    /// kernel's `connect`) to the last byte received — by the contender for
    /// [`Direction::ToStack`], by the kernel (its end of stream) for
    /// [`Direction::FromStack`].
    ///
    /// # Errors
    ///
    /// The run failed or took longer than a minute.
    pub fn bulk(&mut self, who: Contender, dir: Direction, bytes: u64) -> io::Result<Duration> {
        // Every contender starts with the kernel asking for its address (ARP), so that it
        // learns the kernel's: smoltcp drops the answer it cannot address otherwise.
        self.ns.ip(&["neigh", "flush", "all"])?;
        // The two ends on CPUs of their own, the same for every contender: left to the
        // scheduler, where it put them depended on the contender before (one that kept its
        // CPU busy had the next one's transfer run ~20 % slower).
        pin_to(CONTENDER_CPU);
        let result = self.bulk_pinned(who, dir, bytes);
        unpin();
        result
    }

    fn bulk_pinned(&mut self, who: Contender, dir: Direction, bytes: u64) -> io::Result<Duration> {
        let start = Instant::now();
        let kernel = self.ns.spawn(move || kernel_bulk(dir, bytes))?;
        let mut tap = self.take();
        let per_frame = matches!(
            who,
            Contender::ProlacPerFrame | Contender::ProlacSharedPerFrame
        );
        tap.set_batched_writes(!per_frame);
        let (mut tap, last) = match who {
            Contender::Prolac | Contender::ProlacPerFrame => {
                prolac_serve(tap, dir, bytes, &kernel, (false, true))
            }
            Contender::ProlacShared | Contender::ProlacSharedPerFrame => {
                prolac_serve(tap, dir, bytes, &kernel, (true, true))
            }
            Contender::ProlacSharedPlain => prolac_serve(tap, dir, bytes, &kernel, (true, false)),
            Contender::Smoltcp => smoltcp_serve(tap, dir, bytes, &kernel),
            Contender::Ceiling => ceiling_serve(tap, dir, bytes),
        };
        tap.set_batched_writes(true);
        self.tap = Some(tap);
        let kernel = kernel
            .join()
            .map_err(|_| io::Error::other("the kernel side panicked"))?;
        let last = last?;
        match dir {
            Direction::ToStack => last
                .map(|t| t.duration_since(start))
                .ok_or_else(|| io::Error::other("not every byte arrived")),
            Direction::FromStack => kernel,
        }
    }
}

/// Makes the kernel's TCP in `ns` start every connection afresh: it keeps no metrics of a
/// closed connection for the next one to the same address (`net.ipv4.tcp_no_metrics_save`).
/// Every contender talks to the same address; without this a connection would start with the
/// RTT — and, after losses, the slow-start threshold — that the one before it, another
/// contender's, left behind.
fn no_metrics_saved(ns: &Netns) -> io::Result<()> {
    ns.run(|| std::fs::write("/proc/sys/net/ipv4/tcp_no_metrics_save", "1"))?
}

/// The CPU of the kernel's application in a bulk transfer (its writes, or its reads).
pub const KERNEL_CPU: usize = 0;
/// The CPU of the contender's thread in a bulk transfer (the kernel's work on the frames it
/// writes runs there too, in its system calls).
pub const CONTENDER_CPU: usize = 1;

/// Pins the calling thread to `cpu` (nothing happens on a machine without it).
pub fn pin_to(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    let _ = rustix::thread::sched_setaffinity(None, &set);
}

/// Lets the calling thread run on every CPU again.
pub fn unpin() {
    let mut set = rustix::thread::CpuSet::new();
    let cpus = std::fs::read_to_string("/sys/devices/system/cpu/possible")
        .ok()
        .and_then(|s| {
            s.trim()
                .rsplit('-')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
        })
        .unwrap_or(0);
    for cpu in 0..=cpus.min(1023) {
        set.set(cpu);
    }
    let _ = rustix::thread::sched_setaffinity(None, &set);
}

/// Pins the calling thread to CPU 0 (the same-core round trip of the issue).
pub fn pin_to_cpu0() {
    pin_to(0);
}

/// The kernel's side of a bulk transfer: connect, send or receive, until the contender's
/// FIN; the time from connect to that FIN.
fn kernel_bulk(dir: Direction, bytes: u64) -> io::Result<Duration> {
    pin_to(KERNEL_CPU);
    let start = Instant::now();
    let mut s = connect_retrying(SocketAddr::from((STACK, PORT)))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut buf = vec![0u8; 256 * 1024];
    match dir {
        Direction::ToStack => {
            let mut sent = 0u64;
            while sent < bytes {
                let n = (bytes - sent).min(buf.len() as u64) as usize;
                s.write_all(&buf[..n])?;
                sent += n as u64;
            }
            s.shutdown(Shutdown::Write)?;
            // The contender's end of stream, if it comes soon (its time is taken on its side).
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        }
        Direction::FromStack => {
            let mut got = 0u64;
            loop {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                got += n as u64;
            }
            if got != bytes {
                return Err(io::Error::other(format!("{got} of {bytes} bytes arrived")));
            }
        }
    }
    buf.clear();
    Ok(start.elapsed())
}

fn connect_retrying(addr: SocketAddr) -> io::Result<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(4)) {
            Ok(s) => return Ok(s),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e),
        }
    }
}

/// The Prolac TCP's stack, its connections with the Linux profile's options — without
/// timestamps unless `timestamps`.
fn prolac_stack(timestamps: bool) -> io::Result<NetStack<ProlacTcp>> {
    static PLAIN: OnceLock<Vec<protocols::tcp::TcpOption>> = OnceLock::new();
    let mut stack = NetStack::new(NetConfig::new(EthernetAddress(MAC), STACK))
        .map_err(|e| io::Error::other(e.to_string()))?;
    let linux = protocols::tcp::Profile::Linux.options();
    let config = ProlacConfig {
        send_capacity: 1 << 20,
        receive_capacity: 1 << 20,
        options: if timestamps {
            linux
        } else {
            PLAIN.get_or_init(|| {
                let mut options = linux.to_vec();
                options.push(protocols::tcp::TcpOption::Timestamps(false));
                options
            })
        },
        // Segments of up to 44 wire segments (63,712 bytes of data at an MSS of 1448), cut
        // by the device: in software over a plain TAP, by the kernel with offloads.
        segmentation: 44,
        ..ProlacConfig::default()
    };
    stack.listen(PORT, ProlacTcp::listener(PORT, config));
    Ok(stack)
}

/// Runs the Prolac TCP until the kernel's side is done: its application sending shared data
/// or copying it in, with timestamps or without.
fn prolac_serve<T>(
    tap: TapDevice,
    dir: Direction,
    bytes: u64,
    kernel: &JoinHandle<T>,
    (shared, timestamps): (bool, bool),
) -> (TapDevice, io::Result<Option<Instant>>) {
    let mut stack = match prolac_stack(timestamps) {
        Ok(s) => s,
        Err(e) => return (tap, Err(e)),
    };
    let mut runner = Runner::new(tap);
    let result = prolac_bulk_loop(&mut runner, &mut stack, (dir, bytes, shared), kernel);
    // Let the last ACKs and FINs go before the device is reused.
    let until = Instant::now() + Duration::from_millis(20);
    while Instant::now() < until {
        runner.turn(&mut stack);
        runner.send(&mut stack);
        let _ = runner.wait(&stack, Duration::from_millis(1));
    }
    (runner.into_device(), result)
}

fn prolac_bulk_loop<T>(
    runner: &mut Runner<TapDevice>,
    stack: &mut NetStack<ProlacTcp>,
    (dir, bytes, shared): (Direction, u64, bool),
    kernel: &JoinHandle<T>,
) -> io::Result<Option<Instant>> {
    let mut received = 0u64;
    let mut last = None;
    let pattern = vec![0x5a_u8; 64 * 1024];
    let summed = shared.then(|| SummedBytes::new(pattern.clone()));
    let mut sent = 0u64;
    let mut closed = false;
    let start = Instant::now();
    while !kernel.is_finished() {
        let (now, _) = runner.turn(stack);
        let keys: Vec<FourTuple> = stack.connections().map(|(k, _)| *k).collect();
        for key in keys {
            let Some(conn) = stack.prolac_connection_mut(&key) else {
                continue;
            };
            received += conn.consume_received(|_| {}) as u64;
            if received >= bytes && last.is_none() {
                last = Some(Instant::now());
            }
            let peer_closed = conn.events().contains(&protocols::tcp::Event::PeerClosed);
            // The buffer is topped up once a third of it is free, as a socket's writer is woken.
            if dir == Direction::FromStack && conn.writable() {
                while sent < bytes {
                    let n = (bytes - sent).min(pattern.len() as u64) as usize;
                    let taken = match &summed {
                        Some(summed) => stack.prolac_send_shared(&key, summed, 0..n, now),
                        None => stack.prolac_send(&key, &pattern[..n], now),
                    }
                    .unwrap_or(0);
                    sent += taken as u64;
                    // Out at once, while the data is in the cache.
                    runner.send(stack);
                    if taken < n {
                        break;
                    }
                }
            }
            let done = match dir {
                Direction::ToStack => peer_closed,
                Direction::FromStack => sent == bytes,
            };
            if done && !closed {
                stack.prolac_close(&key, now);
                closed = true;
            }
        }
        runner.send(stack);
        if start.elapsed() > Duration::from_secs(60) {
            return Err(io::Error::other(
                "the Prolac run did not finish in a minute",
            ));
        }
        runner.wait(stack, Duration::from_millis(1))?;
    }
    Ok(last)
}

type Smoltcp = (
    smoltcp::iface::Interface,
    SmoltcpDevice<TapDevice>,
    smoltcp::iface::SocketSet<'static>,
    smoltcp::iface::SocketHandle,
);

fn smoltcp_host(tap: TapDevice) -> Smoltcp {
    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::socket::tcp;
    use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
    let mut device = SmoltcpDevice::new(tap);
    let mut iface = Interface::new(
        Config::new(HardwareAddress::Ethernet(EthernetAddress(MAC))),
        &mut device,
        smol_now(),
    );
    iface.update_ip_addrs(|a| {
        let _ = a.push(IpCidr::new(IpAddress::Ipv4(STACK), 24));
    });
    let mut sockets = SocketSet::new(Vec::new());
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 1 << 20]),
        tcp::SocketBuffer::new(vec![0; 1 << 20]),
    );
    socket.set_nagle_enabled(false);
    let _ = socket.listen(PORT);
    let handle = sockets.add(socket);
    (iface, device, sockets, handle)
}

fn smol_now() -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(i64::try_from(Clock::process().now_us()).unwrap_or(0))
}

fn smoltcp_serve<T>(
    tap: TapDevice,
    dir: Direction,
    bytes: u64,
    kernel: &JoinHandle<T>,
) -> (TapDevice, io::Result<Option<Instant>>) {
    use smoltcp::socket::tcp;
    let (mut iface, mut device, mut sockets, handle) = smoltcp_host(tap);
    let pattern = vec![0x5a_u8; 64 * 1024];
    let (mut sent, mut closed, mut received, mut last) = (0u64, false, 0u64, None);
    let start = Instant::now();
    while !kernel.is_finished() {
        iface.poll(smol_now(), &mut device, &mut sockets);
        let s = sockets.get_mut::<tcp::Socket>(handle);
        while s.can_recv() {
            received += s.recv(|b| (b.len(), b.len())).unwrap_or(0) as u64;
        }
        if received >= bytes && last.is_none() {
            last = Some(Instant::now());
        }
        if dir == Direction::FromStack {
            while sent < bytes && s.can_send() {
                let n = (bytes - sent).min(pattern.len() as u64) as usize;
                let taken = s.send_slice(&pattern[..n]).unwrap_or(0);
                sent += taken as u64;
                if taken < n {
                    break;
                }
            }
        }
        let done = match dir {
            Direction::ToStack => !s.may_recv() && s.state() != tcp::State::Listen,
            Direction::FromStack => sent == bytes,
        };
        if done && !closed {
            s.close();
            closed = true;
        }
        iface.poll(smol_now(), &mut device, &mut sockets);
        if start.elapsed() > Duration::from_secs(60) {
            return (
                device.into_inner(),
                Err(io::Error::other(
                    "the smoltcp run did not finish in a minute",
                )),
            );
        }
        let delay = iface
            .poll_delay(smol_now(), &sockets)
            .map_or(Duration::from_millis(1), |d| {
                Duration::from_micros(d.total_micros())
            })
            .min(Duration::from_millis(1));
        let _ = device.inner().wait(Some(delay));
    }
    let until = Instant::now() + Duration::from_millis(20);
    while Instant::now() < until {
        iface.poll(smol_now(), &mut device, &mut sockets);
        let _ = device.inner().wait(Some(Duration::from_millis(1)));
    }
    (device.into_inner(), Ok(last))
}

fn ceiling_serve(
    mut tap: TapDevice,
    dir: Direction,
    bytes: u64,
) -> (TapDevice, io::Result<Option<Instant>>) {
    let me = null_tcp::Addresses {
        mac: MAC,
        ip: STACK,
        port: PORT,
    };
    let role = match dir {
        Direction::ToStack => null_tcp::Role::Sink,
        Direction::FromStack => null_tcp::Role::Source(bytes),
    };
    let result = null_tcp::serve(&mut tap, me, role, bytes, Duration::from_secs(60));
    (tap, result)
}

/// Two namespaces joined by a veth pair (198.51.100.1 and .2), for the kernel against itself.
pub struct VethBench {
    a: Netns,
    b: Netns,
}

impl VethBench {
    /// Makes the namespaces and the pair; `offloads` false turns off segmentation and
    /// receive offloads and checksum offload on both ends (`ethtool -K`).
    ///
    /// # Errors
    ///
    /// `ip` or `ethtool` failed.
    pub fn new(offloads: bool) -> io::Result<VethBench> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}v{}",
            std::process::id() % 100_000,
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let a = Netns::create(&format!("prolac-va{id}"))?;
        let b = Netns::create(&format!("prolac-vb{id}"))?;
        no_metrics_saved(&a)?;
        no_metrics_saved(&b)?;
        let (va, vb) = (format!("va{id}"), format!("vb{id}"));
        ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb])?;
        ip(&["link", "set", &va, "netns", a.name()])?;
        ip(&["link", "set", &vb, "netns", b.name()])?;
        a.ip(&["addr", "add", "198.51.100.1/24", "dev", &va])?;
        b.ip(&["addr", "add", "198.51.100.2/24", "dev", &vb])?;
        a.ip(&["link", "set", &va, "up"])?;
        b.ip(&["link", "set", &vb, "up"])?;
        if !offloads {
            for (ns, dev) in [(&a, &va), (&b, &vb)] {
                let out = std::process::Command::new("ip")
                    .args(["netns", "exec", ns.name(), "ethtool", "-K", dev])
                    .args([
                        "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off",
                    ])
                    .output()?;
                if !out.status.success() {
                    return Err(io::Error::other(format!(
                        "ethtool: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
            }
        }
        Ok(VethBench { a, b })
    }

    /// `bytes` from namespace a to b; the sender's time from connect to the receiver's FIN.
    ///
    /// # Errors
    ///
    /// The run failed.
    pub fn bulk(&self, bytes: u64) -> io::Result<Duration> {
        let (tx, rx) = std::sync::mpsc::channel();
        let server = self.b.spawn(move || -> io::Result<()> {
            // As over TAP: the sender on the kernel's CPU, the receiver on the other.
            pin_to(CONTENDER_CPU);
            let l = TcpListener::bind(("198.51.100.2", PORT))?;
            let _ = tx.send(());
            let (mut s, _) = l.accept()?;
            let mut buf = vec![0u8; 256 * 1024];
            while s.read(&mut buf)? > 0 {}
            Ok(())
        })?;
        rx.recv()
            .map_err(|_| io::Error::other("the receiver died"))?;
        let client = self.a.spawn(move || -> io::Result<Duration> {
            pin_to(KERNEL_CPU);
            let start = Instant::now();
            let mut s = TcpStream::connect(("198.51.100.2", PORT))?;
            let buf = vec![0u8; 256 * 1024];
            let mut sent = 0u64;
            while sent < bytes {
                let n = (bytes - sent).min(buf.len() as u64) as usize;
                s.write_all(&buf[..n])?;
                sent += n as u64;
            }
            s.shutdown(Shutdown::Write)?;
            let mut b = [0u8; 1];
            let _ = s.read(&mut b);
            Ok(start.elapsed())
        })?;
        let t = client
            .join()
            .map_err(|_| io::Error::other("the sender panicked"))??;
        server
            .join()
            .map_err(|_| io::Error::other("the receiver panicked"))??;
        Ok(t)
    }
}

/// Instructions per MSS-sized data segment of one in-memory stack pair (both ends), by
/// callgrind's difference method: a run of 2N segments less one of N, over N. Vector copies
/// (glibc's `rep movsb` counts each byte as an instruction under valgrind). `None` without
/// valgrind. The running executable must take `--segments N --stack FLAG` and run
/// [`memory::segments_of`] (as `prolac-bench` and `jit-bench` do).
pub fn instructions_per_segment(flag: &str, n: usize) -> Result<Option<f64>, String> {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        return Ok(None);
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("prolac-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut totals = Vec::new();
    for k in [n, 2 * n] {
        let out = dir.join(format!("{flag}-{k}.out"));
        let status = std::process::Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .args(["--segments", &k.to_string(), "--stack", flag])
            .env(
                "GLIBC_TUNABLES",
                "glibc.cpu.x86_rep_movsb_threshold=1000000000",
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("callgrind on {flag} failed: {status}"));
        }
        let text = std::fs::read_to_string(&out).map_err(|e| e.to_string())?;
        let total = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("summary:")
                    .or_else(|| l.strip_prefix("totals:"))
            })
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .ok_or("no instruction count in callgrind's output")?;
        totals.push(total);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Some((totals[1] - totals[0]) / n as f64))
}

/// The machine, for reports: CPU model, cores, kernel release.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".into(), |s| s.trim().to_string());
    format!("{cpu}, {cores} cores, Linux {kernel}")
}

/// Writes `report` into the file at `path` between the lines `begin` and `end`, replacing what
/// was there; a file without the markers gets a new section titled `heading` at its end.
///
/// # Errors
///
/// The file cannot be read or written.
pub fn write_section(
    path: &std::path::Path,
    begin: &str,
    end: &str,
    heading: &str,
    report: &str,
) -> Result<(), String> {
    let doc = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let section = format!("{begin}\n{report}{end}");
    let new = match (doc.find(begin), doc.find(end)) {
        (Some(a), Some(b)) if a < b => format!("{}{section}{}", &doc[..a], &doc[b + end.len()..]),
        _ => format!("{doc}\n{heading}\n\n{section}\n"),
    };
    std::fs::write(path, new).map_err(|e| format!("{}: {e}", path.display()))
}

/// Median, minimum and maximum of measurements (at least one).
#[must_use]
pub fn median_min_max(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

/// The hidden `--segments N --stack S` mode of the benchmark binaries, which callgrind runs
/// ([`instructions_per_segment`]): `Some(status)` when it was asked for.
#[must_use]
pub fn segments_mode(
    tool: &str,
    segments: Option<usize>,
    stack: Option<&str>,
) -> Option<std::process::ExitCode> {
    let (n, stack) = (segments?, stack?);
    Some(if memory::segments_of(stack, n) {
        std::process::ExitCode::SUCCESS
    } else {
        eprintln!("{tool}: no stack {stack}");
        std::process::ExitCode::from(2)
    })
}

/// Prints a benchmark binary's report and, unless `no_write`, writes it into its section
/// (`begin`…`end`, else a new one under `heading`) of `write` or `docs/BENCHMARKS.md`.
#[must_use]
pub fn publish(
    tool: &str,
    report: Result<String, String>,
    write: Option<&std::path::Path>,
    no_write: bool,
    (begin, end, heading): (&str, &str, &str),
) -> std::process::ExitCode {
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{tool}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("{report}");
    if no_write {
        return std::process::ExitCode::SUCCESS;
    }
    let path = write.map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/BENCHMARKS.md"),
        std::path::Path::to_path_buf,
    );
    if let Err(e) = write_section(&path, begin, end, heading, &report) {
        eprintln!("{tool}: {e}");
        return std::process::ExitCode::from(2);
    }
    eprintln!("{tool}: written to {}", path.display());
    std::process::ExitCode::SUCCESS
}
