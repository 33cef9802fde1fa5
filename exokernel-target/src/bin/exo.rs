//! `exo`: the library-OS stack with the Prolac TCP on a TAP device, so that real programs
//! (nc, curl, socat, Python, the kernel's TCP) can talk to it. It serves (`echo`, `discard`,
//! `source`, `http`) or connects (`send`, `recv`); Ctrl-C closes its connections gracefully
//! and ends it. See `--help` and the README's recipe.
//!
//! Exit status: 0 on success (a served run ended by Ctrl-C, a transfer that completed), 1 when
//! a transfer failed (refused, reset, timed out, short), 2 for a usage or setup error.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use exokernel_target::netns::ip;
use exokernel_target::netstack::{FourTuple, NetConfig, NetStack};
use exokernel_target::pcap::PcapRecorder;
use exokernel_target::prolac_tcp::{ProlacConfig, ProlacStack, ProlacTcp};
use exokernel_target::realtime::{Runner, WaitDevice};
use exokernel_target::tap::TapDevice;
use exokernel_target::wire::{FaultyDevice, LinkConfig};
use prolac_runtime::checksum::SummedBytes;
use protocols::tcp::{Event, Full, Jit, State, Variant};
use smoltcp::wire::EthernetAddress;

/// The library-OS stack with the Prolac TCP on a TAP device.
#[derive(Debug, Parser)]
#[command(
    name = "exo",
    version,
    long_about = "\
Runs the library-OS network stack (Ethernet, ARP, IPv4, ICMP echo) with the TCP written in \
Prolac on a TAP device, so that the kernel's TCP and real programs can talk to it.

exo creates the TAP interface --tap and answers as --addr on it. The interface's other end \
belongs to the kernel: give it an address with --kernel-addr, in a network namespace with \
--netns (which must exist: `ip netns add NS`), and programs in that namespace reach exo at \
--addr. Needs root (CAP_NET_ADMIN) and /dev/net/tun.

Examples (in the README, with the namespace set up and removed):
  exo --netns exo-demo serve echo --port 7
  ip netns exec exo-demo nc 192.0.2.2 7
  exo --netns exo-demo serve http --port 80   # curl http://192.0.2.2/ or /1048576
  exo --netns exo-demo connect 192.0.2.1:5001 send 100000000

Ctrl-C closes every connection (a FIN each), waits up to 2 s for them to finish, prints \
what was done and ends; a pcap (--pcap) is complete then."
)]
struct Args {
    /// The TAP interface to create (at most 15 bytes).
    #[arg(long, default_value = "exo0")]
    tap: String,
    /// The stack's address and prefix length.
    #[arg(long, default_value = "192.0.2.2/24", value_parser = parse_cidr)]
    addr: (Ipv4Addr, u8),
    /// The kernel end's address and prefix length (default: the prefix's first address, or
    /// its second when that is --addr); with --netns it is set in the namespace.
    #[arg(long, value_parser = parse_cidr)]
    kernel_addr: Option<(Ipv4Addr, u8)>,
    /// Move the TAP's kernel end into this existing network namespace and configure it
    /// there (an address and up).
    #[arg(long)]
    netns: Option<String>,
    /// Leave the kernel end as created: no address, down (configure it yourself).
    #[arg(long, conflicts_with_all = ["netns", "kernel_addr"])]
    no_configure: bool,
    /// The stack's MAC address.
    #[arg(long, default_value = "02:00:00:00:00:02", value_parser = parse_mac)]
    mac: EthernetAddress,
    /// The interface's IP MTU.
    #[arg(long, default_value_t = 1500, value_parser = clap::value_parser!(u16).range(576..=9000))]
    mtu: u16,
    /// Turn the device's offloads on (virtio-net headers): the kernel hands over whole TCP
    /// segments of up to 64 KiB with checksums it vouches for, and the stack's back-to-back
    /// data frames go to it merged into such segments. Much faster for bulk data; a
    /// --pcap recording then holds the large segments, their checksums left undone.
    #[arg(long)]
    offloads: bool,
    /// Record every frame the stack sends and receives to this pcap file.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Drop this fraction of the frames, each way (0 to 1), at random.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    loss: f64,
    /// The seed of --loss's random decisions.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Which defaults the TCP takes.
    #[arg(long, value_enum, default_value_t = ProfileArg::Linux)]
    profile: ProfileArg,
    /// Which compilation of the Prolac TCP runs: `rust` (compiled to Rust when exo was
    /// built) or `jit` (compiled from the same sources to machine code by Cranelift when exo
    /// starts); they behave identically.
    #[arg(long, value_enum, default_value_t = TcpArg::Rust)]
    tcp: TcpArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TcpArg {
    /// The TCP compiled to Rust at build time.
    Rust,
    /// The TCP compiled by the Cranelift back end at start-up.
    Jit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProfileArg {
    /// RFC 9293's defaults (1 s minimum RTO, 200 ms delayed ACK).
    Rfc,
    /// Linux's (200 ms minimum RTO, 40 ms delayed ACK, initial window 10).
    Linux,
    /// FreeBSD's.
    Bsd,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Accept connections on --port and serve them until Ctrl-C.
    Serve {
        /// What to do with each connection.
        #[arg(value_enum)]
        service: Service,
        /// The port to listen on.
        #[arg(long)]
        port: u16,
        /// `source`: bytes to send on each connection before closing (default: until the
        /// peer closes).
        #[arg(long)]
        bytes: Option<u64>,
    },
    /// Connect to ADDR:PORT and send or receive BYTES, then close.
    Connect {
        /// The peer, as ADDR:PORT.
        #[arg(value_parser = parse_endpoint)]
        peer: (Ipv4Addr, u16),
        /// Send BYTES (a seeded pattern), or receive until BYTES or the peer's FIN.
        #[arg(value_enum)]
        direction: Direction,
        /// How many bytes.
        bytes: u64,
        /// The local port.
        #[arg(long, default_value_t = 40000)]
        local_port: u16,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Service {
    /// Send back what arrives.
    Echo,
    /// Read and drop what arrives.
    Discard,
    /// Send a byte pattern (--bytes of it, or until the peer closes).
    Source,
    /// A small HTTP/1.0 server: `/` is a page, `/N` is N bytes.
    Http,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Direction {
    Send,
    Recv,
}

fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (a, p) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?}: expected ADDRESS/PREFIX, like 192.0.2.2/24"))?;
    let addr: Ipv4Addr = a.parse().map_err(|e| format!("{a:?}: {e}"))?;
    let prefix: u8 = p
        .parse()
        .ok()
        .filter(|p| (1..=30).contains(p))
        .ok_or_else(|| format!("{p:?}: the prefix length must be 1 to 30"))?;
    Ok((addr, prefix))
}

fn parse_mac(s: &str) -> Result<EthernetAddress, String> {
    let bytes: Vec<u8> = s
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{s:?}: expected six hexadecimal bytes, like 02:00:00:00:00:02"))?;
    let mac: [u8; 6] = bytes
        .try_into()
        .map_err(|_| format!("{s:?}: expected six bytes"))?;
    let mac = EthernetAddress(mac);
    if !mac.is_unicast() {
        return Err(format!("{s}: not a unicast address"));
    }
    Ok(mac)
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|f| (0.0..=1.0).contains(f))
        .ok_or_else(|| format!("{s:?}: expected a fraction from 0 to 1, like 0.05"))
}

fn parse_endpoint(s: &str) -> Result<(Ipv4Addr, u16), String> {
    let (a, p) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?}: expected ADDRESS:PORT, like 192.0.2.1:5001"))?;
    Ok((
        a.parse().map_err(|e| format!("{a:?}: {e}"))?,
        p.parse().map_err(|e| format!("{p:?}: {e}"))?,
    ))
}

/// A seeded byte pattern: `len` bytes from offset `from`.
fn pattern(from: u64, len: usize) -> Vec<u8> {
    (from..from + len as u64)
        .map(|i| b"0123456789abcdefghijklmnopqrstuvwxyz\n"[(i % PERIOD as u64) as usize])
        .collect()
}

/// The pattern's period.
const PERIOD: usize = 37;

/// The pattern as shared data: whole periods, 64 KiB and one more long, summed once (the
/// stack copies sent data from it, its checksums looked up, instead of a copy and a sum per
/// write).
fn shared_pattern() -> &'static SummedBytes {
    static PATTERN: OnceLock<SummedBytes> = OnceLock::new();
    PATTERN.get_or_init(|| SummedBytes::new(pattern(0, (64 * 1024 / PERIOD + 2) * PERIOD)))
}

/// Queues up to `n` (at most 64 KiB) bytes of the pattern from offset `from` on `key`'s
/// connection, without copying them into the send buffer; returns how many were taken.
fn send_pattern<V: Variant>(
    stack: &mut NetStack<ProlacTcp<V>>,
    key: &FourTuple,
    from: u64,
    n: usize,
    now: u64,
) -> usize {
    let at = (from % PERIOD as u64) as usize;
    let n = n.min(64 * 1024);
    stack
        .prolac_send_shared(key, shared_pattern(), at..at + n, now)
        .unwrap_or(0)
}

/// One served connection's state.
#[derive(Default)]
struct Session {
    /// Bytes waiting to go (echo, HTTP).
    outgoing: Vec<u8>,
    /// `source`: bytes sent so far.
    sourced: u64,
    /// HTTP: the request so far.
    request: Vec<u8>,
    received: u64,
    sent: u64,
    closed: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("exo: {e}");
            ExitCode::from(2)
        }
    }
}

/// The kernel end's default address: the prefix's first host, or its second when that is
/// the stack's own.
fn kernel_default((addr, prefix): (Ipv4Addr, u8)) -> (Ipv4Addr, u8) {
    let mask = u32::MAX << (32 - prefix);
    let first = (addr.to_bits() & mask) + 1;
    let pick = if first == addr.to_bits() {
        first + 1
    } else {
        first
    };
    (Ipv4Addr::from_bits(pick), prefix)
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let (ip_addr, prefix) = args.addr;
    let (kernel_ip, kernel_prefix) = args
        .kernel_addr
        .unwrap_or_else(|| kernel_default(args.addr));
    let mask = u32::MAX << (32 - prefix);
    if kernel_ip.to_bits() & mask != ip_addr.to_bits() & mask || kernel_ip == ip_addr {
        return Err(format!(
            "--kernel-addr {kernel_ip} must be another address in {ip_addr}/{prefix}"
        ));
    }
    if let Some(ns) = &args.netns
        && !exokernel_target::netns::exists(ns)
    {
        return Err(format!(
            "network namespace {ns} does not exist (create it: ip netns add {ns})"
        ));
    }
    let tap = if args.offloads {
        TapDevice::create_offloaded(&args.tap, args.mtu)
    } else {
        TapDevice::create(&args.tap, args.mtu)
    }
    .map_err(|e| e.to_string())?;
    let kernel = format!("{kernel_ip}/{kernel_prefix}");
    if !args.no_configure {
        match &args.netns {
            Some(ns) => {
                ip(&["link", "set", &args.tap, "netns", ns]).map_err(|e| e.to_string())?;
                ip(&["-n", ns, "addr", "add", &kernel, "dev", &args.tap])
                    .map_err(|e| e.to_string())?;
                ip(&["-n", ns, "link", "set", &args.tap, "up"]).map_err(|e| e.to_string())?;
            }
            None => {
                ip(&["addr", "add", &kernel, "dev", &args.tap]).map_err(|e| e.to_string())?;
                ip(&["link", "set", &args.tap, "up"]).map_err(|e| e.to_string())?;
            }
        }
    }
    let where_ = args
        .netns
        .as_deref()
        .map_or_else(String::new, |ns| format!(" in namespace {ns}"));
    eprintln!(
        "exo: {} up: the stack is {ip_addr}/{prefix}, the kernel end {kernel}{where_}",
        args.tap
    );
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .map_err(|e| format!("cannot catch Ctrl-C: {e}"))?;
    }
    let lossy = LinkConfig {
        loss: args.loss,
        ..LinkConfig::PERFECT
    };
    let device = FaultyDevice::new(tap, lossy.clone(), lossy, args.seed);
    let mut config = NetConfig::new(args.mac, ip_addr);
    config.mtu = usize::from(args.mtu);
    let tcp = match args.tcp {
        TcpArg::Rust => Tcp::Rust(NetStack::new(config).map_err(|e| e.to_string())?),
        TcpArg::Jit => {
            let compiled = Jit::load().map_err(|e| format!("the JIT-compiled TCP: {e}"))?;
            eprintln!(
                "exo: the TCP compiled by Cranelift in {:.1} ms ({} functions, {} bytes of code)",
                compiled.compile_time.as_secs_f64() * 1e3,
                compiled.stats.functions,
                compiled.stats.code_bytes
            );
            Tcp::Jit(NetStack::new(config).map_err(|e| e.to_string())?)
        }
    };
    let mut recorder = match &args.pcap {
        Some(path) => Some(
            PcapRecorder::new(BufWriter::new(
                File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
            ))
            .map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => None,
    };
    let code = match (tcp, &mut recorder) {
        (Tcp::Rust(stack), Some(r)) => drive(args, stack, r.tap(device), &stop),
        (Tcp::Rust(stack), None) => drive(args, stack, device, &stop),
        (Tcp::Jit(stack), Some(r)) => drive(args, stack, r.tap(device), &stop),
        (Tcp::Jit(stack), None) => drive(args, stack, device, &stop),
    };
    if let (Some(r), Some(path)) = (recorder, &args.pcap) {
        let frames = r.frames();
        r.finish().map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("exo: {frames} frames recorded in {}", path.display());
    }
    Ok(code)
}

/// The stack, with the TCP `--tcp` chose.
enum Tcp {
    Rust(NetStack<ProlacTcp<Full>>),
    Jit(NetStack<ProlacTcp<Jit>>),
}

fn drive<V: Variant, D: WaitDevice>(
    args: &Args,
    mut stack: NetStack<ProlacTcp<V>>,
    device: D,
    stop: &AtomicBool,
) -> ExitCode {
    let profile = match args.profile {
        ProfileArg::Rfc => protocols::tcp::Profile::Rfc,
        ProfileArg::Linux => protocols::tcp::Profile::Linux,
        ProfileArg::Bsd => protocols::tcp::Profile::Bsd,
    };
    let config = ProlacConfig {
        send_capacity: 1 << 20,
        receive_capacity: 1 << 20,
        options: profile.options(),
        // The TCP's segmentation offload: segments of up to 44 wire segments, cut by the
        // device (by the kernel with --offloads, in software otherwise).
        segmentation: 44,
        ..ProlacConfig::default()
    };
    let mut runner = Runner::new(device);
    match &args.command {
        Command::Serve {
            service,
            port,
            bytes,
        } => {
            stack.listen(*port, ProlacTcp::listener(*port, config));
            eprintln!("exo: serving {service:?} on port {port}; Ctrl-C ends");
            serve(&mut runner, &mut stack, *service, *bytes, stop);
            ExitCode::SUCCESS
        }
        Command::Connect {
            peer,
            direction,
            bytes,
            local_port,
            timeout,
        } => connect(
            &mut runner,
            &mut stack,
            config,
            (*peer, *direction, *bytes, *local_port),
            Duration::from_secs(*timeout),
            stop,
        ),
    }
}

fn serve<V: Variant, D: WaitDevice>(
    runner: &mut Runner<D>,
    stack: &mut NetStack<ProlacTcp<V>>,
    service: Service,
    bytes: Option<u64>,
    stop: &AtomicBool,
) {
    let mut sessions: BTreeMap<FourTuple, Session> = BTreeMap::new();
    let (mut served, mut stopping_since) = (0u64, None::<Instant>);
    loop {
        let (now, _) = runner.turn(stack);
        let keys: Vec<FourTuple> = stack.connections().map(|(k, _)| *k).collect();
        for key in &keys {
            let session = sessions.entry(*key).or_insert_with(|| {
                served += 1;
                eprintln!(
                    "exo: connection {served} from {}:{}",
                    key.remote_ip, key.remote_port
                );
                Session::default()
            });
            step_session(
                runner,
                stack,
                key,
                session,
                service,
                bytes,
                now,
                stopping_since.is_some(),
            );
        }
        sessions.retain(|k, _| keys.contains(k));
        runner.send(stack);
        if stop.load(Ordering::SeqCst) && stopping_since.is_none() {
            eprintln!("exo: closing {} connections", sessions.len());
            stopping_since = Some(Instant::now());
        }
        if let Some(since) = stopping_since {
            let open = keys.iter().any(|k| {
                stack
                    .prolac_connection(k)
                    .is_some_and(|c| !matches!(c.state(), State::TimeWait | State::Closed))
            });
            if !open || since.elapsed() > Duration::from_secs(2) {
                eprintln!(
                    "exo: served {served} connections; stack {:?}",
                    stack.stats()
                );
                return;
            }
        }
        let _ = runner.wait(stack, Duration::from_millis(50));
    }
}

/// One turn of a session: takes what arrived, answers, and sends (each write goes out at
/// once, while its data is still in the cache).
#[allow(clippy::too_many_arguments)]
fn step_session<V: Variant, D: WaitDevice>(
    runner: &mut Runner<D>,
    stack: &mut NetStack<ProlacTcp<V>>,
    key: &FourTuple,
    s: &mut Session,
    service: Service,
    bytes: Option<u64>,
    now: u64,
    stopping: bool,
) {
    let Some(conn) = stack.prolac_connection_mut(key) else {
        return;
    };
    let data = conn.take_received();
    let peer_closed = conn.events().contains(&Event::PeerClosed);
    let gone = conn
        .events()
        .iter()
        .any(|e| matches!(e, Event::Reset | Event::TimedOut));
    s.received += data.len() as u64;
    match service {
        Service::Echo => s.outgoing.extend_from_slice(&data),
        Service::Discard => {}
        Service::Source => {}
        Service::Http => {
            s.request.extend_from_slice(&data);
            if s.outgoing.is_empty()
                && s.sent == 0
                && let Some(end) = s.request.windows(4).position(|w| w == b"\r\n\r\n")
            {
                s.outgoing = http_response(&s.request[..end]);
            }
        }
    }
    if gone || s.closed {
        return;
    }
    while !s.outgoing.is_empty() {
        let taken = stack.prolac_send(key, &s.outgoing, now).unwrap_or(0);
        s.outgoing.drain(..taken);
        s.sent += taken as u64;
        runner.send(stack);
        if taken == 0 {
            break;
        }
    }
    // The buffer is topped up once a third of it is free, as a socket's writer is woken.
    let writable = stack.prolac_connection(key).is_some_and(|c| c.writable());
    if service == Service::Source && !peer_closed && !stopping && writable {
        let limit = bytes.unwrap_or(u64::MAX);
        while s.sourced < limit {
            let n = (limit - s.sourced).min(64 * 1024) as usize;
            let taken = send_pattern(stack, key, s.sourced, n, now);
            s.sourced += taken as u64;
            runner.send(stack);
            if taken < n {
                break;
            }
        }
    }
    let done_sending = s.outgoing.is_empty()
        && (service != Service::Source || bytes.is_some_and(|b| s.sourced >= b));
    let http_done = service == Service::Http && s.sent > 0 && s.outgoing.is_empty();
    if (peer_closed && s.outgoing.is_empty())
        || stopping
        || http_done
        || (done_sending && service == Service::Source)
    {
        stack.prolac_close(key, now);
        s.closed = true;
    }
}

/// An HTTP/1.0 answer to a request head: `GET /` a page, `GET /N` N bytes of the pattern.
fn http_response(head: &[u8]) -> Vec<u8> {
    let head = String::from_utf8_lossy(head);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, body): (&str, Vec<u8>) = match (method, path) {
        ("GET" | "HEAD", "/") => (
            "200 OK",
            b"<!doctype html><title>exo</title><p>Served by the Prolac TCP on a library-OS stack.\n"
                .to_vec(),
        ),
        ("GET" | "HEAD", p) => match p.trim_start_matches('/').parse::<u64>() {
            Ok(n) if n <= 1 << 30 => ("200 OK", pattern(0, n as usize)),
            _ => ("404 Not Found", b"not found\n".to_vec()),
        },
        _ => ("405 Method Not Allowed", b"only GET and HEAD\n".to_vec()),
    };
    let mut out = format!(
        "HTTP/1.0 {status}\r\nServer: exo\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(&body);
    }
    out
}

fn connect<V: Variant, D: WaitDevice>(
    runner: &mut Runner<D>,
    stack: &mut NetStack<ProlacTcp<V>>,
    config: ProlacConfig,
    (peer, direction, bytes, local_port): ((Ipv4Addr, u16), Direction, u64, u16),
    timeout: Duration,
    stop: &AtomicBool,
) -> ExitCode {
    let now = runner.now_us();
    let key = match stack.prolac_connect(local_port, peer, config, now) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("exo: cannot connect to {}:{}: {e}", peer.0, peer.1);
            return ExitCode::FAILURE;
        }
    };
    runner.send(stack);
    let start = Instant::now();
    let mut last_report = Instant::now();
    let (mut sent, mut received, mut closed, mut established_at) = (0u64, 0u64, false, None);
    loop {
        let (now, _) = runner.turn(stack);
        let Some(conn) = stack.prolac_connection_mut(&key) else {
            eprintln!("exo: the connection is gone");
            return ExitCode::FAILURE;
        };
        let events = conn.events().to_vec();
        let state = conn.state();
        received += conn.consume_received(|_| {}) as u64;
        if established_at.is_none() && events.contains(&Event::Established) {
            established_at = Some(Instant::now());
            eprintln!("exo: connected to {}:{}", peer.0, peer.1);
        }
        if let Some(e) = events
            .iter()
            .find(|e| matches!(e, Event::Reset | Event::TimedOut | Event::Unreachable(_)))
        {
            eprintln!("exo: connection ended: {e:?} after {sent} bytes sent, {received} received");
            return ExitCode::FAILURE;
        }
        // The buffer is topped up once a third of it is free, as a socket's writer is woken.
        if direction == Direction::Send && established_at.is_some() && conn.writable() {
            while sent < bytes {
                let n = (bytes - sent).min(64 * 1024) as usize;
                let taken = send_pattern(stack, &key, sent, n, now);
                sent += taken as u64;
                // Out at once, while the data is in the cache.
                runner.send(stack);
                if taken < n {
                    break;
                }
            }
        }
        let want_close = match direction {
            Direction::Send => sent >= bytes,
            Direction::Recv => received >= bytes || events.contains(&Event::PeerClosed),
        };
        if (want_close || stop.load(Ordering::SeqCst)) && !closed && established_at.is_some() {
            stack.prolac_close(&key, now);
            closed = true;
        }
        runner.send(stack);
        if last_report.elapsed() > Duration::from_secs(1) {
            last_report = Instant::now();
            eprintln!("exo: {sent} bytes sent, {received} received");
        }
        let finished = matches!(state, State::TimeWait | State::Closed)
            || (closed
                && stack
                    .prolac_connection(&key)
                    .is_some_and(|c| c.send_queued() == 0)
                && direction == Direction::Send
                && state == State::FinWait2);
        if finished {
            let secs = established_at.map_or(0.0, |t| t.elapsed().as_secs_f64());
            let moved = sent.max(received);
            eprintln!(
                "exo: done: {sent} bytes sent, {received} received in {secs:.3} s ({:.1} Mbit/s)",
                moved as f64 * 8.0 / secs.max(1e-9) / 1e6
            );
            let short = match direction {
                Direction::Send => sent < bytes,
                Direction::Recv => received < bytes,
            };
            return if short && !stop.load(Ordering::SeqCst) {
                eprintln!("exo: short: {bytes} bytes wanted");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
        if start.elapsed() > timeout {
            eprintln!("exo: timed out after {timeout:?} ({sent} sent, {received} received)");
            return ExitCode::FAILURE;
        }
        let _ = runner.wait(stack, Duration::from_millis(50));
    }
}
