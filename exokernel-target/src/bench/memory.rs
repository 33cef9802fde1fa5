//! Bulk TCP benchmark (issue 5): the Prolac TCP against smoltcp's, both in this process, each
//! talking to itself over the same kind of in-memory link.
//!
//! `cargo bench -p exokernel-target --bench tcp_bulk` runs [`run_cli`] (throughput);
//! `exokernel-target/benches/callgrind.sh` counts instructions per segment with that binary's
//! `--segments` mode, and `prolac-bench` uses [`throughput_figures`] and [`segments_of`] for its
//! report. `docs/BENCHMARKS.md` has the figures.
//!
//! # Method
//!
//! Each stack runs twice, as a client (192.0.2.1) that sends and a server (192.0.2.2) that
//! receives, on the full path: Ethernet, ARP, IPv4 and TCP, every checksum computed in software
//! and checked on arrival.
//!
//! - **smoltcp ↔ smoltcp**: two `Interface`s with one TCP socket each, tuned for bulk: 1 MiB
//!   send and receive buffers (so window scaling), Nagle off, delayed ACK off, no congestion
//!   control (the crate is built without it).
//! - **Prolac ↔ Prolac**: two `NetStack<ProlacTcp>`s driven through the `ProlacStack` calls;
//!   1 MiB send and receive buffers, of which the TCP offers at most 65,535 bytes (it has no
//!   window scaling yet), Nagle off (`TcpOption::NoDelay`) on both ends, the application
//!   reading the TCP's receive buffer itself (`auto_read` off, as smoltcp's application reads
//!   its socket buffer), and the rest at the adapter's defaults: the TCP's delayed ACK (an ACK for every
//!   second full-sized segment at the latest, RFC 9293's SHLD-19) and ACK batching
//!   (`batch_acks`: the in-order segments handed over between two `NetStack::poll`s, here a
//!   window's worth, are answered by one ACK at the end, as Linux does with GRO).
//! - **Prolac ↔ Prolac, no header prediction**: the same with the TCP variant
//!   `protocols::tcp::NoPrediction` (the full TCP without its header-prediction fast path).
//! - `--segments` mode only: **Prolac ↔ Prolac, ACKs not batched** (`batch_acks` off: the
//!   delayed ACK alone, one ACK per two segments) and **Prolac ↔ Prolac, quick ACK, not
//!   batched** (`TcpOption::QuickAck` as well: one ACK per segment), to show what ACKs cost.
//!
//! The link is a pair of frame queues (`VecDeque<Vec<u8>>`): zero latency, no loss, no copy.
//! A smoltcp transmit token allocates the frame and the queue takes it; the Prolac stack's
//! outgoing frames are taken with `pop_frame` and arriving ones handed to `receive_frame`, so
//! both stacks pay one frame allocation and no device copy. One loop drives every pair the same
//! way: the client application queues as much data as its socket takes, the client host runs
//! (every arrived frame in, everything it may send out: smoltcp's `poll` is repeated while it
//! still transmits), then the server host, then the server application reads everything
//! readable. Virtual time stands still while anything moves and advances to the next timer
//! only when nothing does (the count of such advances is printed; it is 0 during transfers).
//!
//! The client sends a fixed amount (64 MiB) cut from a 1 MiB pattern that it sends round and
//! round; the server reads into a 64 KiB buffer. Application buffers and smoltcp's socket
//! buffers are placed at chosen offsets within a page (see `--alias`). Throughput is that
//! amount divided by the wall time from the first send to the last byte read (connection setup
//! is not timed). Every round runs smoltcp, Prolac and Prolac without header prediction, in
//! that order; the first round of each is a warm-up that also checks every byte received
//! against the pattern, and is not counted. Medians and min–max of the counted rounds are
//! printed as a Markdown table, with the per-round ratios (Prolac / smoltcp, Prolac without
//! header prediction / smoltcp, Prolac / Prolac without header prediction), every round's
//! figure, and how many CPUs other processes kept busy meanwhile (from `/proc`; the VM's two
//! cores are shared).
//!
//! # Modes
//!
//! - *(default)* `[--rounds R] [--mib M]`: the interleaved throughput rounds (11 and 64 MiB).
//! - `--segments N --stack S`, S one of `smoltcp`, `prolac`, `prolac-nohp`,
//!   `prolac-unbatched`, `prolac-quickack`: set up one pair, transfer N × 1460 bytes, print
//!   the segment counts, exit. For callgrind's difference method (instructions of 2N segments
//!   less those of N, over N): every fixed cost cancels. `callgrind.sh` automates it.
//! - `--alias [--rounds R] [--mib M]`: the 4 KiB-aliasing checks: glibc `memcpy` speed by the
//!   distance of destination from source modulo 4 KiB, then both transfers with the
//!   application buffers (and smoltcp's socket buffers) moved within their pages, all
//!   placements and both stacks (smoltcp and Prolac) interleaved.

use core::net::Ipv4Addr;
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

use super::median_min_max as stats;
use crate::netstack::{FourTuple, NetConfig, NetStack};
use crate::prolac_tcp::{ProlacConfig, ProlacStack, ProlacTcp};
use crate::rng::SplitMix64;
use protocols::tcp::{Full, Jit, NoPrediction, State as PState, TcpOption, Variant};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
/// The MSS both stacks use on a 1500-byte MTU.
const MSS: usize = 1460;
/// Socket buffers (send and receive, each side).
const SOCKET_BUFFER: usize = MIB;
/// The client application's data: a pattern of this size, sent round and round.
const PATTERN: usize = MIB;
/// The server application's read buffer.
const SINK: usize = 64 * KIB;
const SERVER_PORT: u16 = 80;
const CLIENT_PORT: u16 = 49_152;
/// Loop turns without progress before a transfer is declared stuck.
const MAX_IDLE: u32 = 100_000;

/// Host `n`'s Ethernet address.
const fn mac(n: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0, 0, 0, 0, n])
}

/// Host `n`'s IPv4 address.
const fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, n)
}

/// Frames in flight one way.
type Queue = VecDeque<Vec<u8>>;

/// What one side transmitted.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    frames: u64,
    /// TCP segments carrying data, and their data bytes.
    data_segments: u64,
    data_bytes: u64,
    /// TCP segments without data (ACKs, window updates, SYN, FIN).
    empty_segments: u64,
}

impl Counts {
    /// Notes one Ethernet frame.
    fn note(&mut self, frame: &[u8]) {
        self.frames += 1;
        let Some(ip) = frame.get(14..) else { return };
        if frame[12..14] != [0x08, 0x00] || ip.len() < 20 || ip[9] != 6 {
            return;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let Some(tcp) = ip.get(ihl..total) else {
            return;
        };
        let Some(&offset) = tcp.get(12) else { return };
        let data = tcp.len().saturating_sub(usize::from(offset >> 4) * 4);
        if data > 0 {
            self.data_segments += 1;
            self.data_bytes += data as u64;
        } else {
            self.empty_segments += 1;
        }
    }
}

/// A slice of `len` bytes starting `offset` bytes into a page of `storage` (which has room).
fn at_page_offset(storage: &mut [u8], offset: usize, len: usize) -> &mut [u8] {
    let addr = storage.as_ptr() as usize;
    let start = (4096 - addr % 4096) % 4096 + offset % 4096;
    &mut storage[start..start + len]
}

/// Storage for a buffer of `len` bytes at any page offset.
fn page_storage(len: usize) -> Vec<u8> {
    vec![0; len + 8192]
}

/// Where the application's buffers (and smoltcp's socket buffers) lie within their pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Placement {
    /// Page offset of the client's pattern.
    source: usize,
    /// Page offset of the server's read buffer.
    sink: usize,
    /// Page offset of smoltcp's four socket buffers.
    socket: usize,
}

impl Placement {
    const ALIGNED: Self = Self {
        source: 0,
        sink: 0,
        socket: 0,
    };
}

/// One connection between two hosts of one stack, set up and ready for data.
trait Pair {
    /// The client application queues data; returns how much the socket took.
    fn send(&mut self, data: &[u8]) -> usize;
    /// The server application reads into `buf`; returns how much it read.
    fn recv(&mut self, buf: &mut [u8]) -> usize;
    /// Runs the client host, then the server host; returns whether a frame moved.
    fn step(&mut self) -> bool;
    /// Moves the virtual clock to the next timer (at least one microsecond on).
    fn advance_clock(&mut self);
    /// What the client and the server transmitted so far.
    fn counts(&self) -> (Counts, Counts);
    /// How often the clock was moved so far.
    fn clock_advances(&self) -> u64;
}

// ----- smoltcp -----

/// smoltcp's device on one end of the link.
struct QueueDevice<'q> {
    rx: &'q mut Queue,
    tx: &'q mut Queue,
    counts: &'q mut Counts,
}

struct QueueRxToken(Vec<u8>);

impl phy::RxToken for QueueRxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

struct QueueTxToken<'a> {
    tx: &'a mut Queue,
    counts: &'a mut Counts,
}

impl phy::TxToken for QueueTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let result = f(&mut frame);
        self.counts.note(&frame);
        self.tx.push_back(frame);
        result
    }
}

impl phy::Device for QueueDevice<'_> {
    type RxToken<'a>
        = QueueRxToken
    where
        Self: 'a;
    type TxToken<'a>
        = QueueTxToken<'a>
    where
        Self: 'a;

    fn receive(
        &mut self,
        _timestamp: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((
            QueueRxToken(frame),
            QueueTxToken {
                tx: self.tx,
                counts: self.counts,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        Some(QueueTxToken {
            tx: self.tx,
            counts: self.counts,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps
    }
}

/// A smoltcp host with one TCP socket.
struct SmolHost<'a> {
    iface: Interface,
    sockets: SocketSet<'a>,
    handle: SocketHandle,
}

impl<'a> SmolHost<'a> {
    fn new(n: u8, rx: &'a mut [u8], tx: &'a mut [u8], link: &mut (Queue, Queue)) -> Self {
        let mut config = Config::new(HardwareAddress::Ethernet(mac(n)));
        config.random_seed = u64::from(n);
        let mut counts = Counts::default();
        let mut device = QueueDevice {
            rx: &mut link.0,
            tx: &mut link.1,
            counts: &mut counts,
        };
        let mut iface = Interface::new(config, &mut device, smoltcp::time::Instant::ZERO);
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::Ipv4(ip(n)), 24))
                .expect("room for one address");
        });
        let mut socket = tcp::Socket::new(tcp::SocketBuffer::new(rx), tcp::SocketBuffer::new(tx));
        socket.set_nagle_enabled(false);
        socket.set_ack_delay(None);
        let mut sockets = SocketSet::new(vec![]);
        let handle = sockets.add(socket);
        Self {
            iface,
            sockets,
            handle,
        }
    }

    fn socket(&mut self) -> &mut tcp::Socket<'a> {
        self.sockets.get_mut::<tcp::Socket>(self.handle)
    }

    /// Takes every frame in `rx` and transmits until the stack has nothing more to send.
    fn run(&mut self, rx: &mut Queue, tx: &mut Queue, counts: &mut Counts, now: i64) -> bool {
        let now = smoltcp::time::Instant::from_micros(now);
        let mut moved = !rx.is_empty();
        let mut device = QueueDevice { rx, tx, counts };
        loop {
            let before = device.counts.frames;
            self.iface.poll(now, &mut device, &mut self.sockets);
            if device.counts.frames == before && device.rx.is_empty() {
                return moved;
            }
            moved = true;
        }
    }

    fn poll_at(&mut self, now: i64) -> Option<i64> {
        self.iface
            .poll_at(smoltcp::time::Instant::from_micros(now), &self.sockets)
            .map(|t| t.total_micros())
    }
}

/// smoltcp ↔ smoltcp.
struct SmolPair<'a> {
    client: SmolHost<'a>,
    server: SmolHost<'a>,
    /// Frames to the server, frames to the client.
    link: (Queue, Queue),
    up: Counts,
    down: Counts,
    now: i64,
    clock_advances: u64,
}

impl<'a> SmolPair<'a> {
    /// A connected pair whose four socket buffers are cut from `storage`.
    fn new(storage: &'a mut [Vec<u8>; 4], offset: usize) -> Self {
        let [a, b, c, d] = storage;
        let mut link = (Queue::new(), Queue::new());
        let client = SmolHost::new(
            1,
            at_page_offset(a, offset, SOCKET_BUFFER),
            at_page_offset(b, offset, SOCKET_BUFFER),
            &mut link,
        );
        let server = SmolHost::new(
            2,
            at_page_offset(c, offset, SOCKET_BUFFER),
            at_page_offset(d, offset, SOCKET_BUFFER),
            &mut link,
        );
        let mut pair = Self {
            client,
            server,
            link,
            up: Counts::default(),
            down: Counts::default(),
            now: 0,
            clock_advances: 0,
        };
        pair.server
            .socket()
            .listen(SERVER_PORT)
            .expect("server listens");
        let cx = pair.client.iface.context();
        pair.client
            .sockets
            .get_mut::<tcp::Socket>(pair.client.handle)
            .connect(cx, (IpAddress::Ipv4(ip(2)), SERVER_PORT), CLIENT_PORT)
            .expect("client connects");
        let established = |p: &mut Self| {
            p.client.socket().state() == tcp::State::Established
                && p.server.socket().state() == tcp::State::Established
        };
        for _ in 0..1000 {
            if established(&mut pair) {
                return pair;
            }
            if !pair.step() {
                pair.advance_clock();
            }
        }
        panic!("smoltcp: no connection");
    }
}

impl Pair for SmolPair<'_> {
    fn send(&mut self, data: &[u8]) -> usize {
        self.client.socket().send_slice(data).expect("may send")
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        let socket = self.server.socket();
        if !socket.can_recv() {
            return 0;
        }
        socket.recv_slice(buf).expect("may receive")
    }

    fn step(&mut self) -> bool {
        let (to_server, to_client) = &mut self.link;
        let a = self
            .client
            .run(to_client, to_server, &mut self.up, self.now);
        let b = self
            .server
            .run(to_server, to_client, &mut self.down, self.now);
        a || b
    }

    fn advance_clock(&mut self) {
        let now = self.now;
        let next = [self.client.poll_at(now), self.server.poll_at(now)]
            .into_iter()
            .flatten()
            .min();
        self.now = next.map_or(now + 1, |t| t.max(now + 1));
        self.clock_advances += 1;
    }

    fn counts(&self) -> (Counts, Counts) {
        (self.up, self.down)
    }

    fn clock_advances(&self) -> u64 {
        self.clock_advances
    }
}

// ----- Prolac -----

/// How both ends of a Prolac pair are set up.
#[derive(Clone, Copy, Debug)]
struct ProlacSetup {
    /// Options set on the connections.
    options: &'static [TcpOption],
    /// [`ProlacConfig::batch_acks`].
    batch_acks: bool,
}

impl ProlacSetup {
    /// For bulk data: Nagle off; the delayed ACK and ACK batching at their defaults (one ACK
    /// for the in-order segments that arrive together).
    const BULK: Self = Self {
        options: &[TcpOption::NoDelay(true)],
        batch_acks: true,
    };
    /// [`Self::BULK`] with window scaling refused: a 65,535-byte window whatever the buffers.
    const BULK_64K: Self = Self {
        options: &[TcpOption::NoDelay(true), TcpOption::WindowScale(false)],
        batch_acks: true,
    };
    /// Nagle off, ACK batching off: the delayed ACK alone, an ACK for every second full-sized
    /// segment.
    const UNBATCHED: Self = Self {
        options: &[TcpOption::NoDelay(true)],
        batch_acks: false,
    };
    /// Nagle off, ACK batching off, and every segment acknowledged at once.
    const QUICK_ACK: Self = Self {
        options: &[TcpOption::NoDelay(true), TcpOption::QuickAck(true)],
        batch_acks: false,
    };
}

/// Prolac ↔ Prolac, running the TCP variant `V`.
struct ProlacPair<V: Variant> {
    client: NetStack<ProlacTcp<V>>,
    server: NetStack<ProlacTcp<V>>,
    client_key: FourTuple,
    server_key: FourTuple,
    /// Frames to the server, frames to the client.
    link: (Queue, Queue),
    /// Buffers of frames the client sent and the server received, and the other way: back
    /// to their sender once received, as a driver hands back a buffer once sent.
    spent: (Vec<Vec<u8>>, Vec<Vec<u8>>),
    up: Counts,
    down: Counts,
    now: u64,
    clock_advances: u64,
}

/// Hands every frame in `rx` to `stack` (their buffers go to `received`, for their sender),
/// gives the stack back the buffers of its own frames in `returned`, runs its timers, and
/// moves its output to `tx`.
fn run_netstack<V: Variant>(
    stack: &mut NetStack<ProlacTcp<V>>,
    (rx, tx): (&mut Queue, &mut Queue),
    (received, returned): (&mut Vec<Vec<u8>>, &mut Vec<Vec<u8>>),
    counts: &mut Counts,
    now: u64,
) -> bool {
    let mut moved = false;
    for frame in returned.drain(..) {
        stack.recycle(frame);
    }
    while let Some(frame) = rx.pop_front() {
        stack.receive_frame(&frame, now);
        received.push(frame);
        moved = true;
    }
    stack.poll(now);
    while let Some(frame) = stack.pop_frame() {
        counts.note(&frame);
        tx.push_back(frame);
        moved = true;
    }
    moved
}

impl<V: Variant> ProlacPair<V> {
    /// A connected pair whose connections (both ends) are set up as `setup` says.
    fn new(setup: ProlacSetup) -> Self {
        let config = ProlacConfig {
            send_capacity: SOCKET_BUFFER,
            receive_capacity: SOCKET_BUFFER,
            options: setup.options,
            batch_acks: setup.batch_acks,
            // The application reads the TCP's receive buffer itself, as smoltcp's reads its
            // socket buffer (no inbox in between).
            auto_read: false,
            ..ProlacConfig::default()
        };
        let stack = |n| NetStack::new(NetConfig::new(mac(n), ip(n))).expect("valid config");
        let mut client: NetStack<ProlacTcp<V>> = stack(1);
        let mut server: NetStack<ProlacTcp<V>> = stack(2);
        server.listen(SERVER_PORT, ProlacTcp::listener(SERVER_PORT, config));
        let client_key = client
            .prolac_connect(CLIENT_PORT, (ip(2), SERVER_PORT), config, 0)
            .expect("SYN queued");
        let server_key = FourTuple {
            local_ip: ip(2),
            local_port: SERVER_PORT,
            remote_ip: ip(1),
            remote_port: CLIENT_PORT,
        };
        let mut pair = Self {
            client,
            server,
            client_key,
            server_key,
            link: (Queue::new(), Queue::new()),
            spent: (Vec::new(), Vec::new()),
            up: Counts::default(),
            down: Counts::default(),
            now: 0,
            clock_advances: 0,
        };
        let established = |p: &Self| {
            let state = |s: &NetStack<ProlacTcp<V>>, k| s.prolac_connection(k).map(|c| c.state());
            state(&p.client, &p.client_key) == Some(PState::Established)
                && state(&p.server, &p.server_key) == Some(PState::Established)
        };
        for _ in 0..1000 {
            if established(&pair) {
                return pair;
            }
            if !pair.step() {
                pair.advance_clock();
            }
        }
        panic!("Prolac: no connection");
    }

    /// The client connection's retransmitted segments (expected 0 on this link).
    fn retransmitted(&self) -> u64 {
        self.client
            .prolac_connection(&self.client_key)
            .map_or(0, |c| c.stats().retransmitted_segments)
    }
}

impl<V: Variant> Pair for ProlacPair<V> {
    fn send(&mut self, data: &[u8]) -> usize {
        self.client
            .prolac_send(&self.client_key, data, self.now)
            .expect("registered")
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        let readable = self
            .server
            .prolac_connection(&self.server_key)
            .map_or(0, |c| c.readable());
        if readable == 0 {
            return 0;
        }
        self.server
            .prolac_recv(&self.server_key, buf, self.now)
            .expect("registered")
    }

    fn step(&mut self) -> bool {
        let (to_server, to_client) = &mut self.link;
        let (by_client, by_server) = &mut self.spent;
        let a = run_netstack(
            &mut self.client,
            (to_client, to_server),
            (by_server, by_client),
            &mut self.up,
            self.now,
        );
        let b = run_netstack(
            &mut self.server,
            (to_server, to_client),
            (by_client, by_server),
            &mut self.down,
            self.now,
        );
        a || b
    }

    fn advance_clock(&mut self) {
        let now = self.now;
        let next = [self.client.poll_at(), self.server.poll_at()]
            .into_iter()
            .flatten()
            .min();
        self.now = next.map_or(now + 1, |t| t.max(now + 1));
        self.clock_advances += 1;
    }

    fn counts(&self) -> (Counts, Counts) {
        (self.up, self.down)
    }

    fn clock_advances(&self) -> u64 {
        self.clock_advances
    }
}

// ----- the transfer -----

/// The client application's data and the server application's buffer.
struct Apps {
    pattern_storage: Vec<u8>,
    sink_storage: Vec<u8>,
    placement: Placement,
}

impl Apps {
    fn new(placement: Placement) -> Self {
        let mut pattern_storage = page_storage(PATTERN);
        let mut rng = SplitMix64::new(0x7cb_b01c);
        for chunk in at_page_offset(&mut pattern_storage, placement.source, PATTERN).chunks_mut(8) {
            let word = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Self {
            pattern_storage,
            sink_storage: page_storage(SINK),
            placement,
        }
    }
}

/// What one transfer measured.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    elapsed: Duration,
    client: Counts,
    server: Counts,
    /// Times the loop found nothing to do and moved the clock.
    clock_advances: u64,
}

/// Sends `total` bytes from the client application to the server application; checks every
/// byte if `check`.
fn transfer(pair: &mut impl Pair, apps: &mut Apps, total: usize, check: bool) -> Duration {
    let Apps {
        pattern_storage,
        sink_storage,
        placement,
    } = apps;
    let pattern = &at_page_offset(pattern_storage, placement.source, PATTERN)[..];
    let sink = at_page_offset(sink_storage, placement.sink, SINK);
    let (mut sent, mut received, mut idle) = (0, 0, 0);
    let start = Instant::now();
    while received < total {
        let mut progress = false;
        while sent < total {
            let at = sent % PATTERN;
            let want = (total - sent).min(PATTERN - at);
            let n = pair.send(&pattern[at..at + want]);
            sent += n;
            progress |= n > 0;
            if n < want {
                break;
            }
        }
        progress |= pair.step();
        loop {
            let n = pair.recv(sink);
            if n == 0 {
                break;
            }
            if check {
                for (i, &byte) in sink[..n].iter().enumerate() {
                    assert_eq!(
                        byte,
                        pattern[(received + i) % PATTERN],
                        "byte {}",
                        received + i
                    );
                }
            }
            received += n;
            progress = true;
        }
        assert!(received <= total, "more received than sent");
        if progress {
            idle = 0;
        } else {
            idle += 1;
            assert!(idle < MAX_IDLE, "stuck at {received} of {total} bytes");
            pair.advance_clock();
        }
    }
    black_box(&sink);
    start.elapsed()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stack {
    Smoltcp,
    /// The full Prolac TCP, [`ProlacSetup::BULK`].
    Prolac,
    /// The Prolac TCP without header prediction, [`ProlacSetup::BULK`].
    ProlacNoHp,
    /// The full Prolac TCP, [`ProlacSetup::BULK_64K`].
    Prolac64k,
    /// The full Prolac TCP, [`ProlacSetup::UNBATCHED`].
    ProlacUnbatched,
    /// The full Prolac TCP, [`ProlacSetup::QUICK_ACK`].
    ProlacQuickAck,
    /// The full Prolac TCP compiled by the Cranelift back end (`protocols::tcp::Jit`),
    /// [`ProlacSetup::BULK`].
    ProlacJit,
}

impl Stack {
    /// Every stack, in the order of `--stack`'s names.
    const ALL: [Self; 7] = [
        Self::Smoltcp,
        Self::Prolac,
        Self::ProlacNoHp,
        Self::Prolac64k,
        Self::ProlacUnbatched,
        Self::ProlacQuickAck,
        Self::ProlacJit,
    ];
    /// The stacks of the interleaved throughput rounds, in each round's order.
    const ROUNDS: [Self; 4] = [
        Self::Smoltcp,
        Self::Prolac,
        Self::ProlacNoHp,
        Self::Prolac64k,
    ];

    const fn name(self) -> &'static str {
        match self {
            Self::Smoltcp => "smoltcp ↔ smoltcp",
            Self::Prolac => "Prolac ↔ Prolac",
            Self::ProlacNoHp => "Prolac ↔ Prolac, no header prediction",
            Self::Prolac64k => "Prolac ↔ Prolac, 64 KiB window (no window scaling)",
            Self::ProlacUnbatched => "Prolac ↔ Prolac, ACKs not batched",
            Self::ProlacQuickAck => "Prolac ↔ Prolac, quick ACK, not batched",
            Self::ProlacJit => "Prolac ↔ Prolac, JIT-compiled (Cranelift)",
        }
    }

    /// The name `--stack` takes.
    const fn flag(self) -> &'static str {
        match self {
            Self::Smoltcp => "smoltcp",
            Self::Prolac => "prolac",
            Self::ProlacNoHp => "prolac-nohp",
            Self::Prolac64k => "prolac-64k",
            Self::ProlacUnbatched => "prolac-unbatched",
            Self::ProlacQuickAck => "prolac-quickack",
            Self::ProlacJit => "prolac-jit",
        }
    }
}

/// The transfer over `pair`, set up already.
fn measure(pair: &mut impl Pair, apps: &mut Apps, total: usize, check: bool) -> Outcome {
    let setup = pair.clock_advances();
    let elapsed = transfer(pair, apps, total, check);
    let (client, server) = pair.counts();
    Outcome {
        elapsed,
        client,
        server,
        clock_advances: pair.clock_advances() - setup,
    }
}

/// A Prolac pair running `V` set up as `setup` says and `total` bytes sent over it.
fn run_prolac<V: Variant>(
    setup: ProlacSetup,
    apps: &mut Apps,
    total: usize,
    check: bool,
) -> Outcome {
    let mut pair = ProlacPair::<V>::new(setup);
    let outcome = measure(&mut pair, apps, total, check);
    assert_eq!(pair.retransmitted(), 0, "Prolac retransmitted");
    outcome
}

/// One connection set up and `total` bytes sent over it.
fn run(stack: Stack, apps: &mut Apps, total: usize, check: bool) -> Outcome {
    match stack {
        Stack::Smoltcp => {
            let mut storage: [Vec<u8>; 4] = std::array::from_fn(|_| page_storage(SOCKET_BUFFER));
            let mut pair = SmolPair::new(&mut storage, apps.placement.socket);
            measure(&mut pair, apps, total, check)
        }
        Stack::Prolac => run_prolac::<Full>(ProlacSetup::BULK, apps, total, check),
        Stack::ProlacNoHp => run_prolac::<NoPrediction>(ProlacSetup::BULK, apps, total, check),
        Stack::Prolac64k => run_prolac::<Full>(ProlacSetup::BULK_64K, apps, total, check),
        Stack::ProlacUnbatched => run_prolac::<Full>(ProlacSetup::UNBATCHED, apps, total, check),
        Stack::ProlacQuickAck => run_prolac::<Full>(ProlacSetup::QUICK_ACK, apps, total, check),
        Stack::ProlacJit => run_prolac::<Jit>(ProlacSetup::BULK, apps, total, check),
    }
}

fn gbits(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 * 8.0 / elapsed.as_secs_f64().max(1e-12) / 1e9
}

fn describe(stack: Stack, o: &Outcome, total: usize) {
    let segs = total as f64 / MSS as f64;
    println!(
        "{}: client sent {} frames ({} data segments, {} B of data, {} without data); server \
         sent {} frames ({} without data): {:.3} data segments and {:.3} ACKs per {MSS}-byte \
         MSS of data; clock advanced {} times during the transfer",
        stack.name(),
        o.client.frames,
        o.client.data_segments,
        o.client.data_bytes,
        o.client.empty_segments,
        o.server.frames,
        o.server.empty_segments,
        o.client.data_segments as f64 / segs,
        o.server.empty_segments as f64 / segs,
        o.clock_advances,
    );
}

/// CPU time used so far by the whole machine and by this process, in clock ticks (from
/// `/proc`; zeros where it cannot be read).
fn cpu_ticks() -> (u64, u64) {
    let machine = std::fs::read_to_string("/proc/stat").ok().and_then(|stat| {
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal: all but idle and iowait.
        let busy: u64 = fields.iter().take(8).sum();
        Some(busy - fields.get(3)? - fields.get(4)?)
    });
    let own = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The fields after the command name: state is the first, utime the 12th, stime the 13th.
            let rest = &stat[stat.rfind(')')? + 1..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        });
    (machine.unwrap_or(0), own.unwrap_or(0))
}

/// Tracks how busy the rest of the machine was (the VM's cores are shared).
struct LoadMonitor {
    start: Instant,
    ticks: (u64, u64),
}

impl LoadMonitor {
    fn start() -> Self {
        Self {
            start: Instant::now(),
            ticks: cpu_ticks(),
        }
    }

    /// CPUs kept busy by other processes since the start, on average (100 ticks a second).
    fn others(&self) -> f64 {
        let (machine, own) = cpu_ticks();
        let others = (machine - self.ticks.0).saturating_sub(own - self.ticks.1);
        others as f64 / 100.0 / self.start.elapsed().as_secs_f64().max(1e-9)
    }
}

/// Runs `rounds` interleaved rounds of `stacks` for each placement (placements interleaved
/// too); returns the throughputs (Gbit/s) by placement, then stack, then round.
fn interleaved(
    placements: &[Placement],
    stacks: &[Stack],
    rounds: usize,
    total: usize,
) -> Vec<Vec<Vec<f64>>> {
    let mut apps: Vec<Apps> = placements.iter().map(|&p| Apps::new(p)).collect();
    let mut results: Vec<Vec<Vec<f64>>> = placements
        .iter()
        .map(|_| vec![Vec::new(); stacks.len()])
        .collect();
    for _ in 0..rounds {
        for (apps, results) in apps.iter_mut().zip(&mut results) {
            for (&stack, results) in stacks.iter().zip(results.iter_mut()) {
                let o = run(stack, apps, total, false);
                results.push(gbits(total, o.elapsed));
            }
        }
    }
    results
}

/// Prints the median and min–max of `a / b` round by round.
fn ratio_line(label: &str, a: &[f64], b: &[f64]) {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    let (median, min, max) = stats(&ratios);
    println!("{label}, per round: median {median:.3}, min–max {min:.3}–{max:.3}");
}

/// The interleaved throughput rounds.
fn throughput(rounds: usize, total: usize) {
    println!(
        "{} rounds (after a checked warm-up round each) of {} MiB, interleaved\n",
        rounds,
        total / MIB
    );
    let mut apps = Apps::new(Placement::ALIGNED);
    for stack in Stack::ROUNDS {
        let o = run(stack, &mut apps, total, true);
        describe(stack, &o, total);
    }
    let load = LoadMonitor::start();
    let [results] = &interleaved(&[Placement::ALIGNED], &Stack::ROUNDS, rounds, total)[..] else {
        unreachable!("one placement")
    };
    println!(
        "\nOther processes kept {:.2} CPUs busy on average during the rounds.",
        load.others()
    );
    println!("\n| stack | median | min–max | median time |");
    println!("|---|---:|---:|---:|");
    for (stack, results) in Stack::ROUNDS.into_iter().zip(results) {
        let (median, min, max) = stats(results);
        println!(
            "| {} | {median:.2} Gbit/s | {min:.2}–{max:.2} Gbit/s | {:.2} ms |",
            stack.name(),
            total as f64 * 8.0 / median / 1e6
        );
    }
    let [smoltcp, prolac, no_hp, small_window] = &results[..] else {
        unreachable!("four stacks")
    };
    println!();
    ratio_line("Prolac / smoltcp throughput", prolac, smoltcp);
    ratio_line("Prolac without header prediction / smoltcp", no_hp, smoltcp);
    ratio_line("Prolac / Prolac without header prediction", prolac, no_hp);
    ratio_line(
        "Prolac with a 64 KiB window / smoltcp",
        small_window,
        smoltcp,
    );
    for (stack, results) in Stack::ROUNDS.into_iter().zip(results) {
        let each: Vec<String> = results.iter().map(|g| format!("{g:.2}")).collect();
        println!("{} by round (Gbit/s): {}", stack.name(), each.join(" "));
    }
}

/// The interleaved throughput rounds without the report: Gbit/s per round of smoltcp ↔
/// smoltcp and of Prolac ↔ Prolac (the first round of each, a checked warm-up, not counted).
#[must_use]
pub fn throughput_figures(rounds: usize, total: usize) -> (Vec<f64>, Vec<f64>) {
    let mut apps = Apps::new(Placement::ALIGNED);
    let stacks = [Stack::Smoltcp, Stack::Prolac];
    for stack in stacks {
        run(stack, &mut apps, total, true);
    }
    let mut results = interleaved(&[Placement::ALIGNED], &stacks, rounds, total);
    let mut one = results.remove(0);
    let prolac = one.remove(1);
    let smoltcp = one.remove(0);
    (smoltcp, prolac)
}

/// One transfer of `n` MSS-sized segments by the stack with `--stack` name `flag`, for
/// callgrind's difference method; false if there is no such stack.
pub fn segments_of(flag: &str, n: usize) -> bool {
    match Stack::ALL.into_iter().find(|s| s.flag() == flag) {
        Some(stack) => {
            segments(stack, n);
            true
        }
        None => false,
    }
}

/// `--segments N --stack S`: one transfer of N MSS-sized segments, for callgrind.
fn segments(stack: Stack, n: usize) {
    let mut apps = Apps::new(Placement::ALIGNED);
    let total = n * MSS;
    let o = run(stack, &mut apps, total, false);
    describe(stack, &o, total);
}

/// Nanoseconds per copy of `src` into `dst` (the best of several rounds).
fn copy_ns(src: &[u8], dst: &mut [u8]) -> f64 {
    let reps = (16 * MIB / src.len()).max(8);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..reps {
            black_box(&mut *dst).copy_from_slice(black_box(src));
        }
        best = best.min(start.elapsed().as_nanos() as f64 / reps as f64);
    }
    best
}

/// `--alias`: memcpy by distance modulo 4 KiB, then transfers with buffers moved.
fn alias(rounds: usize, total: usize) {
    println!("glibc memcpy by destination − source modulo 4096, in-cache buffers (GB/s):\n");
    let lens = [1460, 2200, 4 * KIB, 64 * KIB, MIB];
    let distances = [
        0, 1, 8, 16, 17, 32, 63, 64, 65, 128, 2048, 4032, 4064, 4080, 4095,
    ];
    print!("| distance |");
    for len in lens {
        print!(" {len} B |");
    }
    println!("\n|---:|{}", "---:|".repeat(lens.len()));
    let mut src_storage = page_storage(MIB);
    let mut dst_storage = page_storage(MIB);
    for d in distances {
        print!("| {d} |");
        for len in lens {
            let src = &at_page_offset(&mut src_storage, 0, len)[..];
            let dst = at_page_offset(&mut dst_storage, d, len);
            print!(" {:.1} |", len as f64 / copy_ns(src, dst));
        }
        println!();
    }
    let placements: Vec<Placement> = [
        (0, 0, 0),
        (16, 0, 0),
        (4080, 0, 0),
        (2048, 0, 0),
        (0, 16, 0),
        (0, 4080, 0),
        (0, 2048, 0),
        (0, 0, 16),
        (0, 0, 4080),
        (0, 0, 2048),
    ]
    .into_iter()
    .map(|(source, sink, socket)| Placement {
        source,
        sink,
        socket,
    })
    .collect();
    println!(
        "\nTransfers of {} MiB, median Gbit/s of {rounds} rounds (placements and stacks \
         interleaved):\n",
        total / MIB
    );
    println!("| source offset | sink offset | smoltcp buffer offset | smoltcp | Prolac |");
    println!("|---:|---:|---:|---:|---:|");
    let load = LoadMonitor::start();
    let results = interleaved(&placements, &[Stack::Smoltcp, Stack::Prolac], rounds, total);
    for (p, results) in placements.iter().zip(&results) {
        println!(
            "| {} | {} | {} | {:.2} | {:.2} |",
            p.source,
            p.sink,
            p.socket,
            stats(&results[0]).0,
            stats(&results[1]).0
        );
    }
    println!(
        "\nOther processes kept {:.2} CPUs busy on average during the transfers.",
        load.others()
    );
}

/// The names `--stack` takes, separated by `|`.
fn flags() -> String {
    Stack::ALL.map(Stack::flag).join("|")
}

/// The `tcp_bulk` bench's command line (see the module's documentation for the modes).
///
/// # Panics
///
/// On a malformed flag.
pub fn run_cli(mut args: impl Iterator<Item = String>) {
    let (mut rounds, mut mib) = (11, 64);
    let (mut segs, mut stack, mut alias_mode) = (None, None, false);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the flag");
        match arg.as_str() {
            "--rounds" => rounds = value().parse().expect("a number of rounds"),
            "--mib" => mib = value().parse().expect("a number of MiB"),
            "--segments" => segs = Some(value().parse().expect("a number of segments")),
            "--stack" => {
                let name = value();
                stack = Some(
                    Stack::ALL
                        .into_iter()
                        .find(|s| s.flag() == name)
                        .unwrap_or_else(|| panic!("unknown stack {name} ({})", flags())),
                );
            }
            "--alias" => alias_mode = true,
            // `cargo bench` passes `--bench`; filters and other flags are ignored.
            _ => {}
        }
    }
    assert!(rounds > 0 && mib > 0, "rounds and MiB must be positive");
    match (segs, alias_mode) {
        (Some(n), _) => segments(
            stack.unwrap_or_else(|| panic!("--segments needs --stack {}", flags())),
            n,
        ),
        (None, true) => alias(rounds, mib * MIB),
        (None, false) => throughput(rounds, mib * MIB),
    }
}
