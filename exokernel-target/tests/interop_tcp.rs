//! Interoperation of the Prolac TCP (through `prolac_tcp::ProlacTcp` on the library-OS stack,
//! end B, 192.0.2.2) with smoltcp's TCP (a smoltcp `Interface` on end A, 192.0.2.1) over the
//! in-memory wire: 1 MiB each way and both ways at once with a graceful close, on a clean
//! wire and under loss with duplication and reordering over many seeds, and a capture of a
//! transfer checked by tshark.
//!
//! Every run is a function of its seed (wire faults, smoltcp's random seed, the Prolac ISNs);
//! a failing run prints its scenario and seed. Loops are bounded by iterations and by
//! virtual time.

mod common;

use core::net::Ipv4Addr;
use std::collections::BTreeMap;

use common::{ip, mac};
use exokernel_target::device::{DeviceError, FrameDevice, SmoltcpDevice};
use exokernel_target::netstack::{FourTuple, NetStack};
use exokernel_target::pcap::{PcapRecorder, parse_pcap};
use exokernel_target::prolac_tcp::{
    ConnectionStats, ProlacConfig, ProlacConnection, ProlacStack, ProlacTcp,
};
use exokernel_target::rng::SplitMix64;
use exokernel_target::wire::{EndId, LinkConfig, Wire, WireConfig};
use protocols::tcp::{Event, State as PState};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, HardwareAddress, IpAddress, IpCidr, IpProtocol, Ipv4Packet,
    TcpOption, TcpPacket,
};

const MIB: usize = 1024 * 1024;
/// smoltcp's host (end A) and the Prolac host (end B).
const SMOL: u8 = 1;
const PROLAC: u8 = 2;
/// The server's port and the client's.
const SERVER_PORT: u16 = 80;
const CLIENT_PORT: u16 = 49_152;

/// How long the TIME-WAIT of the Prolac host lasts here (2 MSL with an MSL of 30 s).
const TIME_WAIT_US: u64 = 60_000_000;

/// Which side opens the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    Smol,
    Prolac,
}

/// One run: who connects, how much each side sends, the wire.
#[derive(Clone, Debug)]
struct Transfer {
    name: &'static str,
    seed: u64,
    client: Client,
    smol_sends: usize,
    prolac_sends: usize,
    link: LinkConfig,
    record: bool,
    /// Virtual-time bound of the whole run, in µs.
    max_us: u64,
}

/// Prints the scenario and seed if the test fails while it is alive.
struct SeedGuard<'a>(&'a Transfer);

impl Drop for SeedGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "FAILED: scenario {} with seed {} ({:?} client, smoltcp sends {} B, Prolac sends {} B, link {:?})",
                self.0.name,
                self.0.seed,
                self.0.client,
                self.0.smol_sends,
                self.0.prolac_sends,
                self.0.link
            );
        }
    }
}

/// What a sniffer saw one sender send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct FlowStats {
    segments: u64,
    data_bytes: u64,
    retransmitted_segments: u64,
    retransmitted_bytes: u64,
    resets: u64,
    first_reset_us: Option<u64>,
    snd_max: Option<u32>,
    /// The window scale option of the sender's SYN, if it had one.
    syn_window_scale: Option<u8>,
}

/// TCP segments sent, per sender address.
type Flows = BTreeMap<(Ipv4Addr, u16), FlowStats>;

/// A device that counts the TCP segments sent through it, retransmissions included.
struct Sniff<'f, D> {
    inner: D,
    flows: &'f mut Flows,
}

impl<D: FrameDevice> FrameDevice for Sniff<'_, D> {
    fn send_frame(&mut self, frame: &[u8], now_us: u64) -> Result<(), DeviceError> {
        note_segment(self.flows, frame, now_us);
        self.inner.send_frame(frame, now_us)
    }

    fn recv_frame(&mut self, now_us: u64) -> Option<Vec<u8>> {
        self.inner.recv_frame(now_us)
    }

    fn max_frame_len(&self) -> usize {
        self.inner.max_frame_len()
    }
}

fn note_segment(flows: &mut Flows, frame: &[u8], now_us: u64) {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return;
    };
    if eth.ethertype() != EthernetProtocol::Ipv4 {
        return;
    }
    let Ok(ipv4) = Ipv4Packet::new_checked(eth.payload()) else {
        return;
    };
    if ipv4.next_header() != IpProtocol::Tcp {
        return;
    }
    let Ok(tcp) = TcpPacket::new_checked(ipv4.payload()) else {
        return;
    };
    let flow = flows.entry((ipv4.src_addr(), tcp.src_port())).or_default();
    let data = tcp.payload().len() as u64;
    flow.segments += 1;
    flow.data_bytes += data;
    if tcp.rst() {
        flow.resets += 1;
        flow.first_reset_us.get_or_insert(now_us);
    }
    if tcp.syn() {
        let mut options = tcp.options();
        while let Ok((rest, option)) = TcpOption::parse(options) {
            match option {
                TcpOption::EndOfList => break,
                TcpOption::WindowScale(shift) => flow.syn_window_scale = Some(shift),
                _ => {}
            }
            options = rest;
        }
    }
    let seq = tcp.seq_number().0 as u32;
    let len = tcp.segment_len() as u32;
    if len == 0 {
        return;
    }
    let end = seq.wrapping_add(len);
    match flow.snd_max {
        Some(max) if (seq.wrapping_sub(max) as i32) < 0 => {
            flow.retransmitted_segments += 1;
            flow.retransmitted_bytes += data;
            if (max.wrapping_sub(end) as i32) < 0 {
                flow.snd_max = Some(end);
            }
        }
        _ => flow.snd_max = Some(end),
    }
}

/// The smoltcp host with its TCP sockets (the first made with the host).
struct SmolHost {
    iface: Interface,
    sockets: SocketSet<'static>,
    handles: Vec<SocketHandle>,
}

impl SmolHost {
    fn new(wire: &mut Wire, seed: u64) -> Self {
        let mut config = Config::new(HardwareAddress::Ethernet(mac(SMOL)));
        config.random_seed = seed;
        let mut device = SmoltcpDevice::new(wire.port(EndId::A).expect("A"));
        let mut iface = Interface::new(config, &mut device, Instant::from_micros(0));
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::Ipv4(ip(SMOL)), 24))
                .expect("room for one address");
        });
        let mut host = Self {
            iface,
            sockets: SocketSet::new(vec![]),
            handles: Vec::new(),
        };
        host.add_socket();
        host
    }

    /// Adds a socket with 64 KiB buffers; returns its index.
    fn add_socket(&mut self) -> usize {
        self.add_socket_with(64 * 1024)
    }

    /// Adds a socket with buffers of `len` bytes; returns its index.
    fn add_socket_with(&mut self, len: usize) -> usize {
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; len]),
            tcp::SocketBuffer::new(vec![0; len]),
        );
        self.handles.push(self.sockets.add(socket));
        self.handles.len() - 1
    }

    fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.socket_at(0)
    }

    fn socket_at(&mut self, i: usize) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(self.handles[i])
    }

    fn connect(&mut self, remote: (Ipv4Addr, u16), local_port: u16) {
        self.connect_at(0, remote, local_port);
    }

    fn connect_at(&mut self, i: usize, remote: (Ipv4Addr, u16), local_port: u16) {
        let socket = self.sockets.get_mut::<tcp::Socket>(self.handles[i]);
        socket
            .connect(
                self.iface.context(),
                (IpAddress::Ipv4(remote.0), remote.1),
                local_port,
            )
            .expect("connect");
    }

    fn poll<D: FrameDevice>(&mut self, device: D, now: u64) {
        let mut device = SmoltcpDevice::new(device);
        self.iface.poll(micros(now), &mut device, &mut self.sockets);
        assert_eq!(
            device.tx_errors(),
            0,
            "smoltcp built a frame the wire refused"
        );
    }

    fn poll_at(&mut self, now: u64) -> Option<u64> {
        self.iface
            .poll_at(micros(now), &self.sockets)
            .and_then(|t| u64::try_from(t.total_micros()).ok())
    }
}

fn micros(now: u64) -> Instant {
    Instant::from_micros(i64::try_from(now).expect("virtual time fits"))
}

/// The bytes side `side` of run `seed` sends.
fn payload(seed: u64, side: u64, len: usize) -> Vec<u8> {
    let mut rng = SplitMix64::derive(seed, 0x70a1_0ad0 + side);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The two hosts, the wire between them, and the clock.
struct Sim {
    wire: Wire,
    smol: SmolHost,
    stack: NetStack<ProlacTcp>,
    flows: Flows,
    rec: Option<PcapRecorder<Vec<u8>>>,
    now: u64,
    /// The time of the last step: what the applications see happened then.
    last_step: u64,
    /// When an application wants to run next, if it does.
    wake: Option<u64>,
    iterations: u64,
    /// Where the capture of a failing run goes (`INTEROP_PCAP_DIR`), and its file name.
    keep_failed: Option<std::path::PathBuf>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        if let (Some(path), Some(rec)) = (self.keep_failed.take(), self.rec.take())
            && let Ok(bytes) = rec.finish()
        {
            let _ = std::fs::write(&path, bytes);
            eprintln!("capture of the failed run: {}", path.display());
        }
    }
}

/// The most loop iterations of one run.
const MAX_ITERATIONS: u64 = 3_000_000;

impl Sim {
    fn new(t: &Transfer) -> Self {
        Self::build(t.name, t.seed, &t.link, t.record)
    }

    /// The two hosts on a wire whose links are all `link`, recorded if `record`.
    fn build(name: &str, seed: u64, link: &LinkConfig, record: bool) -> Self {
        let mut wire =
            Wire::new(WireConfig::new(seed, 2).all_links(link.clone())).expect("valid wire");
        let smol = SmolHost::new(&mut wire, seed ^ 0x5eed);
        let stack = common::stack::<ProlacTcp>(PROLAC);
        let keep_failed = std::env::var_os("INTEROP_PCAP_DIR").map(|dir| {
            let name: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            std::path::PathBuf::from(dir).join(format!("{name}-{seed}.pcap"))
        });
        let rec = (record || keep_failed.is_some())
            .then(|| PcapRecorder::new(Vec::new()).expect("header"));
        Self {
            wire,
            smol,
            stack,
            flows: Flows::new(),
            rec,
            now: 0,
            last_step: 0,
            wake: None,
            iterations: 0,
            keep_failed,
        }
    }

    /// Runs both hosts at the current time and moves the clock to the next event. Returns
    /// false when nothing is pending at all (no frame in flight, no timer).
    fn step(&mut self) -> bool {
        self.iterations += 1;
        let now = self.now;
        self.last_step = now;
        {
            let sniff = Sniff {
                inner: self.wire.port(EndId::A).expect("A"),
                flows: &mut self.flows,
            };
            match self.rec.as_mut() {
                Some(rec) => self.smol.poll(rec.tap(sniff), now),
                None => self.smol.poll(sniff, now),
            }
        }
        let mut sniff = Sniff {
            inner: self.wire.port(EndId::B).expect("B"),
            flows: &mut self.flows,
        };
        self.stack.drive(&mut sniff, now);
        let next = [
            self.wire.next_event_at(),
            self.smol.poll_at(now),
            self.stack.poll_at(),
            self.wake.filter(|t| *t > now),
        ]
        .into_iter()
        .flatten()
        .min();
        match next {
            // smoltcp reports "now" while it has work queued: step past it.
            Some(t) => {
                self.now = t.max(now + 1);
                true
            }
            None => {
                self.now = now + 1;
                false
            }
        }
    }

    /// Steps until `done` holds (checked before each step), within the iteration bound and
    /// `max_us` of virtual time.
    fn run_until(&mut self, seed: u64, max_us: u64, mut done: impl FnMut(&mut Self) -> bool) {
        while !done(self) {
            assert!(
                self.iterations <= MAX_ITERATIONS && self.now <= max_us,
                "seed {seed}: not done at {} µs after {} iterations (smoltcp {})",
                self.now,
                self.iterations,
                self.smol.socket().state()
            );
            self.step();
        }
    }

    /// The Prolac connection's state (`None` once it is forgotten).
    fn prolac_state(&self, key: &FourTuple) -> Option<PState> {
        self.stack
            .prolac_connection(key)
            .map(ProlacConnection::state)
    }
}

/// The application on both hosts during a transfer.
struct Apps {
    smol_data: Vec<u8>,
    prolac_data: Vec<u8>,
    smol_sent: usize,
    prolac_sent: usize,
    smol_received: Vec<u8>,
    prolac_received: Vec<u8>,
    smol_closed: bool,
    prolac_closed: bool,
    key: FourTuple,
    /// The Prolac connection's last state seen, its events and counters.
    prolac_state: Option<PState>,
    prolac_events: Vec<Event>,
    prolac_stats: ConnectionStats,
    /// When each side was first seen in TIME-WAIT or CLOSED, in µs.
    prolac_closed_at: Option<u64>,
    smol_closed_at: Option<u64>,
}

impl Apps {
    /// Notes what the Prolac connection, if still registered, has done.
    fn observe_prolac(&mut self, conn: &ProlacConnection) {
        self.prolac_state = Some(conn.state());
        self.prolac_events = conn.events().to_vec();
        self.prolac_stats = *conn.stats();
        self.prolac_closed_at = self.prolac_closed_at.or(conn.finished_at());
    }

    /// Notes the state of both sides after a step.
    fn observe(&mut self, sim: &mut Sim) {
        if Self::smol_finished(sim) {
            self.smol_closed_at.get_or_insert(sim.last_step);
        }
        if let Some(conn) = sim.stack.prolac_connection(&self.key) {
            self.observe_prolac(conn);
        }
    }

    /// One turn of both applications at `now`: send what fits, read what arrived, close
    /// when done. Returns whether anything was done.
    fn turn(&mut self, sim: &mut Sim) -> bool {
        let mut progress = false;
        let now = sim.now;
        self.observe(sim);
        // smoltcp's application.
        let socket = sim.smol.socket();
        if socket.may_send() && self.smol_sent < self.smol_data.len() {
            let n = socket
                .send_slice(&self.smol_data[self.smol_sent..])
                .expect("may send");
            self.smol_sent += n;
            progress |= n > 0;
        }
        while socket.can_recv() {
            let mut buf = [0u8; 8192];
            let n = socket.recv_slice(&mut buf).expect("can receive");
            self.smol_received.extend_from_slice(&buf[..n]);
            progress |= n > 0;
        }
        let smol_peer_closed = socket.state() == tcp::State::CloseWait;
        if !self.smol_closed
            && self.smol_sent == self.smol_data.len()
            && matches!(
                socket.state(),
                tcp::State::Established | tcp::State::CloseWait
            )
            && (!self.smol_data.is_empty() || smol_peer_closed)
        {
            socket.close();
            self.smol_closed = true;
            progress = true;
        }
        // The Prolac host's application.
        let key = self.key;
        if let Some(conn) = sim.stack.prolac_connection_mut(&key) {
            let got = conn.take_received();
            progress |= !got.is_empty();
            self.prolac_received.extend_from_slice(&got);
            self.observe_prolac(conn);
            let room = conn.send_room();
            let state = conn.state();
            let sendable = matches!(state, PState::Established | PState::CloseWait);
            if sendable && self.prolac_sent < self.prolac_data.len() && room > 0 {
                let end = self.prolac_data.len().min(self.prolac_sent + room);
                let n = sim
                    .stack
                    .prolac_send(&key, &self.prolac_data[self.prolac_sent..end], now)
                    .expect("registered");
                self.prolac_sent += n;
                progress |= n > 0;
            }
            let peer_closed = self.prolac_events.contains(&Event::PeerClosed);
            if !self.prolac_closed
                && sendable
                && self.prolac_sent == self.prolac_data.len()
                && (!self.prolac_data.is_empty() || peer_closed)
            {
                sim.stack.prolac_close(&key, now).expect("registered");
                self.prolac_closed = true;
                progress = true;
            }
        }
        progress
    }

    fn smol_finished(sim: &mut Sim) -> bool {
        matches!(
            sim.smol.socket().state(),
            tcp::State::Closed | tcp::State::TimeWait
        )
    }

    fn prolac_finished(&self) -> bool {
        matches!(self.prolac_state, Some(PState::Closed | PState::TimeWait))
    }

    fn done(&self, sim: &mut Sim) -> bool {
        self.smol_received.len() == self.prolac_data.len()
            && self.prolac_received.len() == self.smol_data.len()
            && Self::smol_finished(sim)
            && self.prolac_finished()
    }
}

/// What a run measured.
struct Outcome {
    /// Virtual time when both sides had all data and had closed.
    closed_at_us: u64,
    /// Virtual time when both hosts had forgotten the connection.
    cleaned_at_us: u64,
    iterations: u64,
    smol_flow: FlowStats,
    prolac_flow: FlowStats,
    prolac_stats: ConnectionStats,
    /// Whether the Prolac connection's end was a reset from a closed smoltcp.
    prolac_reset: bool,
    wire_lost: u64,
    wire_duplicated: u64,
    wire_reordered: u64,
    pcap: Option<Vec<u8>>,
}

impl Outcome {
    fn summary(&self, t: &Transfer) -> String {
        format!(
            "{} seed {}: closed at {:.3} s, cleaned up at {:.3} s, {} iterations; \
             smoltcp sent {} segments ({} retransmitted, {} B data retransmitted); \
             Prolac sent {} segments ({} retransmitted, {} B data retransmitted); \
             wire lost {}, duplicated {}, reordered {}; resets after closing: {} from smoltcp, \
             {} from the Prolac side{}",
            t.name,
            t.seed,
            self.closed_at_us as f64 / 1e6,
            self.cleaned_at_us as f64 / 1e6,
            self.iterations,
            self.smol_flow.segments,
            self.smol_flow.retransmitted_segments,
            self.smol_flow.retransmitted_bytes,
            self.prolac_flow.segments,
            self.prolac_flow.retransmitted_segments,
            self.prolac_flow.retransmitted_bytes,
            self.wire_lost,
            self.wire_duplicated,
            self.wire_reordered,
            self.smol_flow.resets,
            self.prolac_flow.resets,
            if self.prolac_reset {
                "; the Prolac side's LAST-ACK or TIME-WAIT ended by that reset"
            } else {
                ""
            },
        )
    }
}

/// Runs a transfer to its end and checks it: every byte delivered intact, in order, exactly
/// once, both ways; both sides closed gracefully; both hosts forget the connection.
fn run_transfer(t: &Transfer) -> Outcome {
    let _guard = SeedGuard(t);
    let seed = t.seed;
    let mut sim = Sim::new(t);
    let prolac_config = ProlacConfig {
        time_wait_us: TIME_WAIT_US,
        isn_seed: seed,
        ..ProlacConfig::default()
    };
    let key = match t.client {
        Client::Smol => {
            sim.stack
                .listen(SERVER_PORT, ProlacTcp::listener(SERVER_PORT, prolac_config));
            sim.smol.connect((ip(PROLAC), SERVER_PORT), CLIENT_PORT);
            FourTuple {
                local_ip: ip(PROLAC),
                local_port: SERVER_PORT,
                remote_ip: ip(SMOL),
                remote_port: CLIENT_PORT,
            }
        }
        Client::Prolac => {
            sim.smol
                .socket()
                .listen(SERVER_PORT)
                .expect("smoltcp listens");
            sim.stack
                .prolac_connect(CLIENT_PORT, (ip(SMOL), SERVER_PORT), prolac_config, 0)
                .expect("SYN sent")
        }
    };
    let mut apps = Apps {
        smol_data: payload(seed, 0, t.smol_sends),
        prolac_data: payload(seed, 1, t.prolac_sends),
        smol_sent: 0,
        prolac_sent: 0,
        smol_received: Vec::new(),
        prolac_received: Vec::new(),
        smol_closed: false,
        prolac_closed: false,
        key,
        prolac_state: None,
        prolac_events: Vec::new(),
        prolac_stats: ConnectionStats::default(),
        prolac_closed_at: None,
        smol_closed_at: None,
    };

    // Transfer and close.
    let mut idle = 0;
    let closed_at_us = loop {
        let progress = apps.turn(&mut sim);
        if apps.done(&mut sim) {
            break sim.last_step;
        }
        if std::env::var_os("TRACE").is_some() {
            eprintln!(
                "{} smol {} sent {} rx {} | prolac {:?} sent {} rx {}",
                sim.now,
                sim.smol.socket().state(),
                apps.smol_sent,
                apps.smol_received.len(),
                apps.prolac_state,
                apps.prolac_sent,
                apps.prolac_received.len()
            );
        }
        let pending = sim.step();
        idle = if pending || progress { 0 } else { idle + 1 };
        let stuck = idle > 100;
        if stuck || sim.iterations > MAX_ITERATIONS || sim.now > t.max_us {
            let smol_state = sim.smol.socket().state();
            panic!(
                "seed {seed}: not done ({}) at {} µs after {} iterations: smoltcp {smol_state} \
                 (sent {}/{}, received {}/{}), Prolac {:?} (sent {}/{}, received {}/{}, \
                 events {:?}, stats {:?}), wire in flight {}",
                if stuck { "stalled" } else { "out of time" },
                sim.now,
                sim.iterations,
                apps.smol_sent,
                apps.smol_data.len(),
                apps.smol_received.len(),
                apps.prolac_data.len(),
                apps.prolac_state,
                apps.prolac_sent,
                apps.prolac_data.len(),
                apps.prolac_received.len(),
                apps.smol_data.len(),
                apps.prolac_events,
                apps.prolac_stats,
                sim.wire.in_flight(),
            );
        }
    };

    // Every byte, intact, in order, exactly once.
    assert!(
        apps.prolac_received == apps.smol_data,
        "seed {seed}: the Prolac side received {} bytes that differ from the {} smoltcp sent \
         (first difference at {:?})",
        apps.prolac_received.len(),
        apps.smol_data.len(),
        first_difference(&apps.prolac_received, &apps.smol_data),
    );
    assert!(
        apps.smol_received == apps.prolac_data,
        "seed {seed}: smoltcp received {} bytes that differ from the {} the Prolac side sent \
         (first difference at {:?})",
        apps.smol_received.len(),
        apps.prolac_data.len(),
        first_difference(&apps.smol_received, &apps.prolac_data),
    );
    // The close: established first, closed last, the peer's FIN reported at most once. A
    // `Reset` can only come from a closed smoltcp, which the reset rules below check.
    assert_eq!(
        apps.prolac_events.first(),
        Some(&Event::Established),
        "seed {seed}: events {:?}",
        apps.prolac_events
    );
    assert_eq!(
        apps.prolac_events.last(),
        Some(&Event::Closed),
        "seed {seed}: events {:?}",
        apps.prolac_events
    );
    let peer_closed = apps
        .prolac_events
        .iter()
        .filter(|e| **e == Event::PeerClosed);
    assert!(
        peer_closed.count() <= 1,
        "seed {seed}: events {:?}",
        apps.prolac_events
    );

    // Both hosts forget the connection: smoltcp after its TIME-WAIT, the Prolac host after
    // its own (or at once after LAST-ACK).
    let cleaned_at_us = loop {
        let smol_closed = sim.smol.socket().state() == tcp::State::Closed;
        let prolac_gone = sim.stack.connections().next().is_none();
        if smol_closed && prolac_gone {
            break sim.last_step;
        }
        apps.observe(&mut sim);
        sim.step();
        assert!(
            sim.iterations <= MAX_ITERATIONS && sim.now <= closed_at_us + 2 * TIME_WAIT_US,
            "seed {seed}: the connection is not forgotten at {} µs (smoltcp {}, Prolac {:?})",
            sim.now,
            sim.smol.socket().state(),
            sim.stack.prolac_connection(&key).map(|c| c.state()),
        );
    };
    assert_eq!(
        apps.prolac_events.last(),
        Some(&Event::Closed),
        "seed {seed}: events {:?}",
        apps.prolac_events
    );

    let smol_flow = sim
        .flows
        .get(&(
            ip(SMOL),
            if t.client == Client::Smol {
                CLIENT_PORT
            } else {
                SERVER_PORT
            },
        ))
        .copied()
        .unwrap_or_default();
    let prolac_flow = sim
        .flows
        .get(&(ip(PROLAC), key.local_port))
        .copied()
        .unwrap_or_default();
    // A side sends resets only once it has closed (TIME-WAIT or CLOSED), answering segments
    // still in flight or sent late: duplicates of a last ACK, retransmissions queued behind
    // it, or a FIN retransmitted after smoltcp's 10 s TIME-WAIT ended (RFC 9293 §3.10.7.1:
    // a closed connection answers anything but a reset with a reset). Such a reset may end
    // the other side's LAST-ACK or TIME-WAIT, after every byte has been delivered.
    for (side, flow, closed_at) in [
        ("smoltcp", &smol_flow, apps.smol_closed_at),
        ("the Prolac side", &prolac_flow, apps.prolac_closed_at),
    ] {
        assert!(
            flow.first_reset_us
                .is_none_or(|t| closed_at.is_some_and(|closed| t >= closed)),
            "seed {seed}: {side} sent a reset at {:?} µs before it closed (at {closed_at:?})",
            flow.first_reset_us,
        );
    }
    // The adapter's count of what the Prolac TCP sent matches what reached the device, less
    // what the stack dropped (packets waiting for ARP when the cache entry expired during a
    // long retransmission timeout and the resolution failed or overflowed).
    let stack = sim.stack.stats();
    assert_eq!(
        apps.prolac_stats.segments_out,
        prolac_flow.segments + stack.tx_pending_drops + stack.tx_queue_drops,
        "seed {seed}: adapter and sniffer disagree (stack {stack:?})"
    );
    let wire = sim.wire.stats();
    Outcome {
        closed_at_us,
        cleaned_at_us,
        iterations: sim.iterations,
        smol_flow,
        prolac_flow,
        prolac_stats: apps.prolac_stats,
        prolac_reset: apps.prolac_events.contains(&Event::Reset),
        wire_lost: wire.lost,
        wire_duplicated: wire.duplicated,
        wire_reordered: wire.reordered,
        pcap: sim.rec.take().map(|r| r.finish().expect("recorded")),
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

/// A clean link: 1 ms each way, 100 Mbit/s.
fn clean_link() -> LinkConfig {
    LinkConfig {
        latency_us: 1_000,
        rate_bytes_per_sec: Some(12_500_000),
        ..LinkConfig::PERFECT
    }
}

/// A link losing `loss` of its frames, duplicating 1 %, holding back 2 % by up to 5 ms.
fn lossy_link(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        duplicate: 0.01,
        reorder: 0.02,
        reorder_extra_max_us: 5_000,
        ..clean_link()
    }
}

fn transfer(name: &'static str, seed: u64, client: Client, smol: usize, prolac: usize) -> Transfer {
    Transfer {
        name,
        seed,
        client,
        smol_sends: smol,
        prolac_sends: prolac,
        link: clean_link(),
        record: false,
        max_us: 600_000_000,
    }
}

#[test]
fn smoltcp_client_sends_1_mib_to_a_prolac_server() {
    let t = transfer("smoltcp→Prolac", 1, Client::Smol, MIB, 0);
    let out = run_transfer(&t);
    println!("{}", out.summary(&t));
    assert_eq!(out.prolac_stats.delivered, MIB as u64);
    assert_eq!(out.smol_flow.retransmitted_segments, 0);
    assert_eq!(out.prolac_flow.retransmitted_segments, 0);
    // 1 MiB at 100 Mbit/s is 84 ms on the wire; a 64 KiB window over a 2 ms round trip
    // allows about 32 MB/s.
    assert!(out.closed_at_us < 1_000_000, "{}", out.summary(&t));
}

#[test]
fn prolac_client_sends_1_mib_to_a_smoltcp_server() {
    let t = transfer("Prolac→smoltcp", 2, Client::Prolac, 0, MIB);
    let out = run_transfer(&t);
    println!("{}", out.summary(&t));
    assert_eq!(out.prolac_stats.data_bytes_out, MIB as u64);
    assert_eq!(out.smol_flow.retransmitted_segments, 0);
    assert_eq!(out.prolac_flow.retransmitted_segments, 0);
    assert!(out.closed_at_us < 1_000_000, "{}", out.summary(&t));
}

#[test]
fn both_directions_at_once() {
    for (seed, client) in [(3, Client::Smol), (4, Client::Prolac)] {
        let t = transfer("both ways", seed, client, MIB, MIB);
        let out = run_transfer(&t);
        println!("{}", out.summary(&t));
        assert_eq!(out.prolac_stats.delivered, MIB as u64);
        assert_eq!(out.prolac_flow.retransmitted_segments, 0);
        assert!(out.closed_at_us < 2_000_000, "{}", out.summary(&t));
    }
}

/// The seeds each lossy scenario runs: 100 to 119, or `PROLAC_INTEROP_SEEDS` of them, or
/// only `PROLAC_INTEROP_SEED` (to reproduce a failure).
fn seeds() -> std::ops::Range<u64> {
    let var = |name| std::env::var(name).ok().and_then(|n| n.parse::<u64>().ok());
    match (var("PROLAC_INTEROP_SEED"), var("PROLAC_INTEROP_SEEDS")) {
        (Some(seed), _) => seed..seed + 1,
        (None, count) => 100..100 + count.unwrap_or(20),
    }
}

/// Runs lossy transfers of one shape over [`seed_count`] seeds (`client: None` alternates
/// who connects).
fn lossy(name: &'static str, loss: f64, client: Option<Client>, smol: usize, prolac: usize) {
    let seeds = seeds();
    let count = seeds.end - seeds.start;
    let mut rexmits = 0;
    let mut closed = Vec::new();
    let mut failed = Vec::new();
    for seed in seeds {
        let client = client.unwrap_or(if seed % 2 == 0 {
            Client::Smol
        } else {
            Client::Prolac
        });
        let t = Transfer {
            link: lossy_link(loss),
            // With no RTT estimation the Prolac TCP's timeout only grows (to 60 s).
            max_us: 4 * 3_600_000_000,
            ..transfer(name, seed, client, smol, prolac)
        };
        // Every seed runs; the failures (each printed with its seed) are listed at the end.
        match std::panic::catch_unwind(|| run_transfer(&t)) {
            Ok(out) => {
                println!("{}", out.summary(&t));
                assert!(out.wire_lost > 0, "seed {}: nothing was lost", t.seed);
                rexmits +=
                    out.prolac_flow.retransmitted_segments + out.smol_flow.retransmitted_segments;
                closed.push(out.closed_at_us);
            }
            Err(_) => failed.push(seed),
        }
    }
    closed.sort_unstable();
    if let (Some(median), Some(max)) = (closed.get(closed.len() / 2), closed.last()) {
        println!(
            "{name}: {} of {count} seeds, {rexmits} retransmissions, closed after {:.1} s \
             (median), {:.1} s (max)",
            closed.len(),
            *median as f64 / 1e6,
            *max as f64 / 1e6
        );
    }
    assert!(failed.is_empty(), "{name}: seeds {failed:?} failed");
}

#[test]
fn smoltcp_to_prolac_over_1_percent_loss() {
    lossy("smoltcp→Prolac 1 %", 0.01, Some(Client::Smol), MIB, 0);
}

#[test]
fn smoltcp_to_prolac_over_5_percent_loss() {
    lossy("smoltcp→Prolac 5 %", 0.05, Some(Client::Smol), MIB, 0);
}

#[test]
fn prolac_to_smoltcp_over_1_percent_loss() {
    lossy("Prolac→smoltcp 1 %", 0.01, Some(Client::Prolac), 0, MIB);
}

#[test]
fn prolac_to_smoltcp_over_5_percent_loss() {
    lossy("Prolac→smoltcp 5 %", 0.05, Some(Client::Prolac), 0, MIB);
}

#[test]
fn both_ways_over_1_percent_loss() {
    lossy("both ways 1 %", 0.01, None, MIB, MIB);
}

#[test]
fn both_ways_over_5_percent_loss() {
    lossy("both ways 5 %", 0.05, None, MIB, MIB);
}

/// Whether `tshark` can be run.
fn tshark_available() -> bool {
    std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn tshark(file: &std::path::Path, filter: &str) -> String {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args(["-Y", filter])
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_captured_transfer_has_no_malformed_packets_or_bad_checksums() {
    let t = Transfer {
        record: true,
        ..transfer("pcap", 5, Client::Smol, 256 * 1024, 256 * 1024)
    };
    let out = run_transfer(&t);
    println!("{}", out.summary(&t));
    let bytes = out.pcap.expect("recorded");
    let frames = parse_pcap(&bytes).expect("valid capture");
    let tcp_frames = frames
        .iter()
        .filter(|f| {
            EthernetFrame::new_checked(&f.data[..]).is_ok_and(|e| {
                e.ethertype() == EthernetProtocol::Ipv4
                    && Ipv4Packet::new_checked(e.payload())
                        .is_ok_and(|p| p.next_header() == IpProtocol::Tcp)
            })
        })
        .count();
    assert!(tcp_frames > 300, "{tcp_frames} TCP frames captured");

    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("prolac-smoltcp.pcap");
    std::fs::write(&file, &bytes).expect("capture written");
    if let Ok(keep) = std::env::var("PROLAC_KEEP_PCAP") {
        std::fs::write(&keep, &bytes).expect("capture kept");
    }
    if !tshark_available() {
        println!("SKIPPED the tshark check: tshark is not installed (apt-get install -y tshark)");
        return;
    }
    let bad = tshark(
        &file,
        "_ws.malformed || tcp.checksum.status == 0 || ip.checksum.status == 0",
    );
    assert!(bad.is_empty(), "tshark flags packets:\n{bad}");
    // tshark decoded every TCP segment and verified its checksum.
    let good = tshark(&file, "tcp.checksum.status == 1");
    assert_eq!(
        good.lines().count(),
        tcp_frames,
        "segments with a verified checksum"
    );
    let prolac = tshark(&file, "ip.src == 192.0.2.2 && tcp.checksum.status == 1");
    assert!(prolac.lines().count() > 100, "Prolac segments verified");
}

/// A run that once hit a bug of the Prolac TCP (found in a 300-seed sweep): after a
/// retransmission timeout the TCP goes back to SND.UNA by setting SND.NXT = SND.UNA, and the
/// go-back-N resend is cut short by a window smoltcp had shrunk meanwhile; smoltcp's
/// cumulative ACK for everything sent before the timeout is then above SND.NXT. It must be
/// accepted: the TCB keeps the highest sequence number sent (BSD's `snd_max`) and judges ACKs
/// against it, moving SND.NXT forward.
#[test]
fn prolac_to_smoltcp_seed_191_recovers_after_a_timeout() {
    let t = Transfer {
        link: lossy_link(0.01),
        max_us: 4 * 3_600_000_000,
        ..transfer("Prolac→smoltcp 1 %", 191, Client::Prolac, 0, MIB)
    };
    let out = run_transfer(&t);
    println!("{}", out.summary(&t));
}

/// The Prolac server's key for smoltcp's connection from `client_port`.
fn server_key(client_port: u16) -> FourTuple {
    FourTuple {
        local_ip: ip(PROLAC),
        local_port: SERVER_PORT,
        remote_ip: ip(SMOL),
        remote_port: client_port,
    }
}

fn test_config(seed: u64) -> ProlacConfig {
    ProlacConfig {
        time_wait_us: TIME_WAIT_US,
        isn_seed: seed,
        ..ProlacConfig::default()
    }
}

/// smoltcp connected to a Prolac server, both ESTABLISHED.
fn established(name: &str, seed: u64, config: ProlacConfig) -> (Sim, FourTuple) {
    let mut sim = Sim::build(name, seed, &clean_link(), false);
    sim.stack
        .listen(SERVER_PORT, ProlacTcp::listener(SERVER_PORT, config));
    sim.smol.connect((ip(PROLAC), SERVER_PORT), CLIENT_PORT);
    let key = server_key(CLIENT_PORT);
    sim.run_until(seed, 1_000_000, |sim| {
        sim.smol.socket().state() == tcp::State::Established
            && sim.prolac_state(&key) == Some(PState::Established)
    });
    (sim, key)
}

#[test]
fn a_simultaneous_close_goes_through_closing_on_both_sides() {
    let seed = 6;
    let (mut sim, key) = established("simultaneous close", seed, test_config(seed));
    // Both close at the same instant: the FINs cross on the wire.
    let now = sim.now;
    sim.smol.socket().close();
    sim.stack.prolac_close(&key, now).expect("registered");
    let (mut prolac_states, mut smol_states) = (Vec::new(), Vec::new());
    sim.run_until(seed, 2_000_000, |sim| {
        let p = sim.prolac_state(&key);
        let s = sim.smol.socket().state();
        if prolac_states.last() != Some(&p) {
            prolac_states.push(p);
        }
        if smol_states.last() != Some(&s) {
            smol_states.push(s);
        }
        p == Some(PState::TimeWait) && s == tcp::State::TimeWait
    });
    assert_eq!(
        prolac_states,
        [
            Some(PState::FinWait1),
            Some(PState::Closing),
            Some(PState::TimeWait)
        ]
    );
    assert_eq!(
        smol_states,
        [
            tcp::State::FinWait1,
            tcp::State::Closing,
            tcp::State::TimeWait
        ]
    );
    let conn = sim.stack.prolac_connection(&key).expect("in TIME-WAIT");
    let events = conn.events();
    assert_eq!(events.first(), Some(&Event::Established), "{events:?}");
    assert_eq!(events.last(), Some(&Event::Closed), "{events:?}");
    assert!(!events.contains(&Event::Reset), "{events:?}");
    // TIME-WAIT ends after the configured 2 MSL, and the connection is forgotten.
    let entered = conn.finished_at().expect("finished");
    sim.run_until(seed, entered + 2 * TIME_WAIT_US, |sim| {
        sim.prolac_state(&key).is_none()
    });
    assert!(sim.now >= entered + TIME_WAIT_US);
    let resets: u64 = sim.flows.values().map(|f| f.resets).sum();
    assert_eq!(resets, 0);
}

#[test]
fn a_prolac_abort_resets_smoltcp() {
    let seed = 7;
    let (mut sim, key) = established("Prolac abort", seed, test_config(seed));
    let now = sim.now;
    sim.stack
        .prolac_send(&key, b"some data first", now)
        .expect("registered");
    // Once smoltcp has the data and has acknowledged it, nothing is in flight.
    sim.run_until(seed, 2_000_000, |sim| {
        sim.smol.socket().can_recv()
            && sim
                .stack
                .prolac_connection(&key)
                .is_some_and(|c| c.send_queued() == 0)
    });
    let now = sim.now;
    sim.stack.prolac_abort(&key, now).expect("registered");
    assert!(
        sim.stack.prolac_connection(&key).is_none(),
        "forgotten at once"
    );
    sim.run_until(seed, 3_000_000, |sim| {
        sim.smol.socket().state() == tcp::State::Closed
    });
    let prolac = sim.flows[&(ip(PROLAC), SERVER_PORT)];
    assert_eq!(prolac.resets, 1);
    assert_eq!(sim.flows[&(ip(SMOL), CLIENT_PORT)].resets, 0);
}

#[test]
fn a_smoltcp_abort_resets_the_prolac_connection() {
    let seed = 8;
    let (mut sim, key) = established("smoltcp abort", seed, test_config(seed));
    sim.smol.socket().abort();
    sim.run_until(seed, 2_000_000, |sim| {
        sim.prolac_state(&key) == Some(PState::Closed)
    });
    let conn = sim.stack.prolac_connection(&key).expect("lingers");
    assert_eq!(
        conn.events(),
        [Event::Established, Event::Reset, Event::Closed]
    );
    assert_eq!(sim.flows[&(ip(SMOL), CLIENT_PORT)].resets, 1);
    // The closed connection lingers for `closed_linger_us`, then is forgotten.
    sim.run_until(seed, 5_000_000, |sim| sim.prolac_state(&key).is_none());
}

#[test]
fn a_prolac_connect_to_a_closed_smoltcp_port_is_refused() {
    let seed = 9;
    let mut sim = Sim::build("refused", seed, &clean_link(), false);
    let key = sim
        .stack
        .prolac_connect(CLIENT_PORT, (ip(SMOL), 81), test_config(seed), 0)
        .expect("SYN sent");
    sim.run_until(seed, 1_000_000, |sim| {
        sim.prolac_state(&key) == Some(PState::Closed)
    });
    let conn = sim.stack.prolac_connection(&key).expect("lingers");
    assert_eq!(conn.events(), [Event::Reset, Event::Closed]);
    assert_eq!(sim.flows[&(ip(SMOL), 81)].resets, 1);
}

#[test]
fn a_listener_accepts_each_syn_and_resets_a_stray_ack() {
    let mut stack = common::stack::<ProlacTcp>(PROLAC);
    stack.listen(
        SERVER_PORT,
        ProlacTcp::listener(SERVER_PORT, ProlacConfig::default()),
    );
    stack.add_arp_entry(ip(SMOL), mac(SMOL), 0);
    let from = (mac(SMOL), ip(SMOL));
    let to = (mac(PROLAC), ip(PROLAC));
    let segment = |port: u16, flags: u8| {
        common::tcp_segment((ip(SMOL), port), (ip(PROLAC), SERVER_PORT), 500, flags, b"")
    };
    let reply = |stack: &mut NetStack<ProlacTcp>| {
        let frame = stack.pop_frame().expect("a reply");
        let eth = EthernetFrame::new_checked(&frame[..]).expect("frame");
        let ipv4 = Ipv4Packet::new_checked(eth.payload()).expect("packet");
        let tcp = TcpPacket::new_checked(ipv4.payload()).expect("segment");
        assert!(tcp.verify_checksum(&IpAddress::Ipv4(ip(PROLAC)), &IpAddress::Ipv4(ip(SMOL))));
        (tcp.syn(), tcp.ack(), tcp.rst(), tcp.ack_number().0 as u32)
    };
    // An ACK for no connection: a reset, and nothing registered.
    stack.receive_frame(&common::ipv4_frame(from, to, 6, &segment(1000, 0x10)), 0);
    assert_eq!(reply(&mut stack), (false, false, true, 0));
    // Two SYNs from two ports: two connections, each answered with SYN,ACK.
    for port in [1001, 1002] {
        stack.receive_frame(&common::ipv4_frame(from, to, 6, &segment(port, 0x02)), 0);
        assert_eq!(reply(&mut stack), (true, true, false, 501));
        let conn = stack
            .prolac_connection(&server_key(port))
            .expect("accepted");
        assert_eq!(conn.state(), PState::SynReceived);
    }
    assert!(stack.pop_frame().is_none());
    // A reset for the first: the passive open goes back to LISTEN (RFC 9293 MUST-11) and the
    // adapter forgets the half-open connection at once, without an answer.
    let rst = common::tcp_segment((ip(SMOL), 1001), (ip(PROLAC), SERVER_PORT), 501, 0x04, b"");
    stack.receive_frame(&common::ipv4_frame(from, to, 6, &rst), 1_000);
    assert!(stack.pop_frame().is_none());
    assert!(stack.prolac_connection(&server_key(1001)).is_none());
    let listener = stack
        .listener(SERVER_PORT)
        .and_then(ProlacTcp::as_listener)
        .expect("listening");
    assert_eq!((listener.accepted(), listener.refused()), (2, 1));
    assert_eq!(stack.connections().count(), 1);
}

#[test]
fn three_smoltcp_clients_at_once_each_get_their_own_connection() {
    let seed = 10;
    let mut sim = Sim::build("three clients", seed, &lossy_link(0.01), false);
    sim.stack.listen(
        SERVER_PORT,
        ProlacTcp::listener(SERVER_PORT, test_config(seed)),
    );
    let len = 200 * 1024;
    let clients: Vec<(usize, u16, Vec<u8>)> = (0..3u16)
        .map(|i| {
            let socket = if i == 0 { 0 } else { sim.smol.add_socket() };
            let port = CLIENT_PORT + i;
            sim.smol.connect_at(socket, (ip(PROLAC), SERVER_PORT), port);
            (socket, port, payload(seed, u64::from(i), len))
        })
        .collect();
    let mut sent = [0usize; 3];
    let mut received = [const { Vec::new() }; 3];
    let mut closed = [false; 3];
    let mut gone = [false; 3];
    sim.run_until(seed, 3_600_000_000, |sim| {
        let now = sim.now;
        for (i, (socket, port, data)) in clients.iter().enumerate() {
            let s = sim.smol.socket_at(*socket);
            if s.may_send() && sent[i] < len {
                sent[i] += s.send_slice(&data[sent[i]..]).expect("may send");
            }
            if sent[i] == len && s.state() == tcp::State::Established {
                s.close();
            }
            let key = server_key(*port);
            if let Some(conn) = sim.stack.prolac_connection_mut(&key) {
                received[i].extend(conn.take_received());
                let peer_closed = conn.events().contains(&Event::PeerClosed);
                if peer_closed && !closed[i] {
                    sim.stack.prolac_close(&key, now).expect("registered");
                    closed[i] = true;
                }
                if sim.prolac_state(&key) == Some(PState::Closed) {
                    gone[i] = true;
                }
            }
        }
        gone.iter().all(|g| *g)
    });
    for (i, (_, _, data)) in clients.iter().enumerate() {
        assert!(received[i] == *data, "client {i}: data differs");
    }
    let listener = sim
        .stack
        .listener(SERVER_PORT)
        .and_then(ProlacTcp::as_listener)
        .expect("listening");
    assert_eq!(listener.accepted(), 3);
}

/// smoltcp sends 256 KiB to a Prolac server whose application reads 2 KiB every 10 ms from an
/// 8 KiB receive buffer, so the offered window closes again and again. `lossy` adds 5 % loss.
fn slow_prolac_reader(seed: u64, link: &LinkConfig) {
    let config = ProlacConfig {
        receive_capacity: 8 * 1024,
        auto_read: false,
        ..test_config(seed)
    };
    let (mut sim, key) = established("slow Prolac reader", seed, config);
    let data = payload(seed, 0, 256 * 1024);
    sim.wire
        .set_both_ways(EndId::A, EndId::B, link.clone())
        .expect("two ends");
    let (mut sent, mut received) = (0, Vec::new());
    let mut next_read = sim.now;
    sim.run_until(seed, 3_600_000_000, |sim| {
        let now = sim.now;
        let s = sim.smol.socket();
        if sent < data.len() {
            sent += s.send_slice(&data[sent..]).expect("may send");
        }
        if now >= next_read {
            let mut buf = [0u8; 2048];
            let n = sim.stack.prolac_recv(&key, &mut buf, now).expect("open");
            received.extend_from_slice(&buf[..n]);
            next_read = now + 10_000;
        }
        sim.wake = Some(next_read);
        if std::env::var_os("TRACE_READER").is_some() && now % 600_000_000 < 10_000 {
            eprintln!("{now}: sent {sent} received {}", received.len());
        }
        received.len() == data.len()
    });
    assert!(received == data, "seed {seed}: data differs");
}

#[test]
#[ignore = "missing feature: the Prolac TCP sends no window update when its application reads"]
fn smoltcp_to_a_slow_prolac_reader() {
    slow_prolac_reader(11, &clean_link());
}

/// The Prolac side sends 256 KiB to a smoltcp server whose application reads 2 KiB every
/// 10 ms (smoltcp's window closes and smoltcp announces when it opens).
fn slow_smoltcp_reader(seed: u64, link: &LinkConfig) {
    let mut sim = Sim::build("slow smoltcp reader", seed, &clean_link(), false);
    sim.smol
        .socket()
        .listen(SERVER_PORT)
        .expect("smoltcp listens");
    let key = sim
        .stack
        .prolac_connect(CLIENT_PORT, (ip(SMOL), SERVER_PORT), test_config(seed), 0)
        .expect("SYN sent");
    sim.run_until(seed, 1_000_000, |sim| {
        sim.prolac_state(&key) == Some(PState::Established)
    });
    sim.wire
        .set_both_ways(EndId::A, EndId::B, link.clone())
        .expect("two ends");
    let data = payload(seed, 1, 256 * 1024);
    let (mut sent, mut received) = (0, Vec::new());
    let mut next_read = sim.now;
    sim.run_until(seed, 3_600_000_000, |sim| {
        let now = sim.now;
        if sent < data.len() {
            sent += sim
                .stack
                .prolac_send(&key, &data[sent..], now)
                .expect("open");
        }
        if now >= next_read {
            let mut buf = [0u8; 2048];
            let s = sim.smol.socket();
            if s.can_recv() {
                let n = s.recv_slice(&mut buf).expect("can receive");
                received.extend_from_slice(&buf[..n]);
            }
            next_read = now + 10_000;
        }
        sim.wake = Some(next_read);
        received.len() == data.len()
    });
    assert!(received == data, "seed {seed}: data differs");
}

#[test]
fn prolac_to_a_slow_smoltcp_reader() {
    slow_smoltcp_reader(12, &clean_link());
}

#[test]
fn prolac_to_a_slow_smoltcp_reader_over_loss() {
    for seed in seeds().map(|s| s + 100) {
        slow_smoltcp_reader(seed, &lossy_link(0.05));
    }
}

#[test]
fn a_smoltcp_socket_offering_window_scaling_falls_back_to_none() {
    // With 1 MiB buffers smoltcp asks for window scaling in its SYN; the Prolac TCP does not
    // answer with the option, so neither side may scale (RFC 7323 §2.2).
    for (seed, smol_connects) in [(13, true), (14, false)] {
        let mut sim = Sim::build("window scaling", seed, &clean_link(), false);
        let big = sim.smol.add_socket_with(MIB);
        let key = if smol_connects {
            sim.stack.listen(
                SERVER_PORT,
                ProlacTcp::listener(SERVER_PORT, test_config(seed)),
            );
            sim.smol
                .connect_at(big, (ip(PROLAC), SERVER_PORT), CLIENT_PORT);
            server_key(CLIENT_PORT)
        } else {
            sim.smol
                .socket_at(big)
                .listen(SERVER_PORT)
                .expect("listens");
            sim.stack
                .prolac_connect(CLIENT_PORT, (ip(SMOL), SERVER_PORT), test_config(seed), 0)
                .expect("SYN sent")
        };
        let (to_prolac, to_smol) = (payload(seed, 0, MIB), payload(seed, 1, MIB));
        let (mut smol_sent, mut prolac_sent) = (0, 0);
        let (mut smol_got, mut prolac_got) = (Vec::new(), Vec::new());
        sim.run_until(seed, 60_000_000, |sim| {
            let now = sim.now;
            let s = sim.smol.socket_at(big);
            if s.may_send() && smol_sent < MIB {
                smol_sent += s.send_slice(&to_prolac[smol_sent..]).expect("may send");
            }
            while s.can_recv() {
                let mut buf = [0u8; 8192];
                let n = s.recv_slice(&mut buf).expect("can receive");
                smol_got.extend_from_slice(&buf[..n]);
            }
            if let Some(conn) = sim.stack.prolac_connection_mut(&key) {
                prolac_got.extend(conn.take_received());
                if conn.state() == PState::Established && prolac_sent < MIB {
                    prolac_sent += sim
                        .stack
                        .prolac_send(&key, &to_smol[prolac_sent..], now)
                        .expect("open");
                }
            }
            smol_got.len() == MIB && prolac_got.len() == MIB
        });
        assert!(
            smol_got == to_smol && prolac_got == to_prolac,
            "seed {seed}"
        );
        assert_eq!(
            sim.flows[&(ip(PROLAC), key.local_port)].retransmitted_segments,
            0
        );
    }
}
