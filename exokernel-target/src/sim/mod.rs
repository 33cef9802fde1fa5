//! A simulation harness for TCP over the in-memory wire: two hosts, each running either
//! smoltcp's TCP or the Prolac TCP, on the two ends of a [`Wire`] with seeded faults, driven
//! by one virtual clock.
//!
//! - [`Sim`] owns the wire and the two [`Host`]s (end A is 192.0.2.1, end B 192.0.2.2) and
//!   moves the clock from event to event ([`Sim::step`]); every frame a host sends is
//!   counted per sender by a sniffer ([`Flows`]: segments, retransmissions, resets, window
//!   advertisements), and the frames crossing end A can be recorded as a pcap capture.
//! - [`Host`] gives both TCPs one application interface (listen, connect, send, receive,
//!   close, abort, state) over connection handles ([`Conn`]), and still lets a caller reach
//!   the smoltcp socket or the Prolac stack underneath.
//! - [`run_transfer`] runs a whole [`Transfer`] — a connection, data each way, a graceful
//!   close or an abort — and checks it: every byte delivered intact, in order and exactly
//!   once, each side's close, the resets, the connection forgotten on both hosts. Its
//!   [`Outcome`] has what was measured; a failure is a [`TransferError`] naming the scenario
//!   and the seed.
//! - [`Payload`] generates a run's data on demand from the seed, so transfers of any size
//!   need no copy of the data; [`Source`] and [`Sink`] send it and verify it as it arrives.
//! - [`run_recovery`] is the loss-recovery experiment: one bulk transfer between two Prolac
//!   TCPs of any compiled variant (NewReno or CUBIC) and options (SACK on or off) over a
//!   faulty wire, measuring what the sender sent again ([`Recovery`], [`RecoveryOutcome`]).
//!
//! A run is a function of its seed: the wire's faults, smoltcp's random seed and the Prolac
//! ISNs all derive from it, and the clock is virtual (nothing here reads the time or does
//! IO). Loops are bounded by iterations and by virtual time; a run that does not finish is
//! an error, not a hang.

mod app;
mod flows;
mod host;
mod outcome;
mod payload;
mod recovery;
mod transfer;

use core::fmt;
use core::net::Ipv4Addr;

use protocols::tcp::{Full, State, Variant};
use smoltcp::wire::EthernetAddress;

use crate::pcap::PcapRecorder;
use crate::wire::{EndId, LinkConfig, LinkStats, Wire, WireConfig};

pub use flows::{FlowStats, Flows, Sniff};
pub use host::{Conn, Host, HostConfig, HostError, SmolHost, StackKind};
pub use outcome::{EndOutcome, Outcome, TransferError};
pub use payload::{Digest, Payload, Sink, Source};
pub use recovery::{Recovery, RecoveryOutcome, run_recovery};
pub use transfer::{Ending, Reader, Stall, Transfer, run_transfer, run_transfer_with};

/// The port the server of a [`Transfer`] listens on.
pub const SERVER_PORT: u16 = 80;
/// The port the client of a [`Transfer`] connects from.
pub const CLIENT_PORT: u16 = 49_152;
/// How long the Prolac TCP's TIME-WAIT lasts in the harness by default (2 MSL with an MSL of
/// 30 s), in µs. smoltcp's TIME-WAIT is fixed at 10 s.
pub const TIME_WAIT_US: u64 = 60_000_000;
/// The most loop iterations of one run by default.
pub const MAX_ITERATIONS: u64 = 3_000_000;

/// One of the two ends of the simulated wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// Wire end A: host 192.0.2.1.
    A,
    /// Wire end B: host 192.0.2.2.
    B,
}

impl End {
    /// Both ends, A first.
    pub const BOTH: [Self; 2] = [Self::A, Self::B];

    /// 0 for A, 1 for B.
    #[must_use]
    pub const fn index(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }

    /// The other end.
    #[must_use]
    pub const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    /// The wire endpoint.
    #[must_use]
    pub const fn wire_end(self) -> EndId {
        match self {
            Self::A => EndId::A,
            Self::B => EndId::B,
        }
    }

    /// The host's IPv4 address, 192.0.2.1 or 192.0.2.2 (RFC 5737's documentation range).
    #[must_use]
    pub const fn ip(self) -> Ipv4Addr {
        match self {
            Self::A => Ipv4Addr::new(192, 0, 2, 1),
            Self::B => Ipv4Addr::new(192, 0, 2, 2),
        }
    }

    /// The host's Ethernet address (locally administered, ending in 1 or 2).
    #[must_use]
    pub const fn mac(self) -> EthernetAddress {
        match self {
            Self::A => EthernetAddress([0x02, 0, 0, 0, 0, 1]),
            Self::B => EthernetAddress([0x02, 0, 0, 0, 0, 2]),
        }
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::A => "A",
            Self::B => "B",
        })
    }
}

/// The RFC 9293 name of a TCP state (`ESTABLISHED`, `TIME-WAIT`, …).
#[must_use]
pub const fn state_name(state: State) -> &'static str {
    match state {
        State::Closed => "CLOSED",
        State::Listen => "LISTEN",
        State::SynSent => "SYN-SENT",
        State::SynReceived => "SYN-RECEIVED",
        State::Established => "ESTABLISHED",
        State::FinWait1 => "FIN-WAIT-1",
        State::FinWait2 => "FIN-WAIT-2",
        State::CloseWait => "CLOSE-WAIT",
        State::Closing => "CLOSING",
        State::LastAck => "LAST-ACK",
        State::TimeWait => "TIME-WAIT",
    }
}

/// A clean link: 1 ms each way, 100 Mbit/s, no faults.
#[must_use]
pub fn clean_link() -> LinkConfig {
    LinkConfig {
        latency_us: 1_000,
        rate_bytes_per_sec: Some(12_500_000),
        ..LinkConfig::PERFECT
    }
}

/// A [`clean_link`] losing `loss` of its frames, duplicating 1 %, holding back 2 % by up to
/// 5 ms (so that later frames overtake them).
#[must_use]
pub fn lossy_link(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        duplicate: 0.01,
        reorder: 0.02,
        reorder_extra_max_us: 5_000,
        ..clean_link()
    }
}

/// What the simulation is built from.
pub struct SimConfig {
    /// The seed of the wire's faults (each host's own seed is in its [`HostConfig`]).
    pub seed: u64,
    /// Every direction of the wire.
    pub link: LinkConfig,
    /// The hosts on ends A and B.
    pub hosts: [HostConfig; 2],
    /// Whether the frames crossing end A are recorded (see [`Sim::take_capture`]).
    pub record: bool,
    /// Called with the capture (recording is then on) if the thread panics while the
    /// simulation is alive: a test can keep the capture of a failed run.
    pub on_panic_capture: Option<Box<dyn FnOnce(Vec<u8>) + Send>>,
}

impl SimConfig {
    /// Hosts of `kinds` (end A, end B) with [`HostConfig::new`]'s settings for `seed`, on a
    /// wire whose directions are all `link`, not recorded.
    #[must_use]
    pub fn new(seed: u64, kinds: [StackKind; 2], link: LinkConfig) -> Self {
        Self {
            seed,
            link,
            hosts: [
                HostConfig::new(kinds[0], End::A, seed),
                HostConfig::new(kinds[1], End::B, seed),
            ],
            record: false,
            on_panic_capture: None,
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("seed", &self.seed)
            .field("link", &self.link)
            .field("hosts", &self.hosts)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// Why the simulation could not be built or did not get where it was asked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// The wire or a host configuration is invalid.
    Config(String),
    /// [`Sim::run_until`] hit its bound of virtual time or iterations.
    NotDone {
        /// The virtual time reached, in µs.
        now_us: u64,
        /// The iterations run.
        iterations: u64,
        /// The hosts' connections and their states.
        hosts: String,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "invalid simulation: {e}"),
            Self::NotDone {
                now_us,
                iterations,
                hosts,
            } => write!(
                f,
                "not done at {now_us} µs after {iterations} iterations ({hosts})"
            ),
        }
    }
}

impl std::error::Error for SimError {}

/// The two hosts, the wire between them, the sniffer, the recorder, and the clock. Prolac
/// hosts run the TCP variant `V` (the Rust-compiled [`Full`] unless asked otherwise, for
/// instance the JIT-compiled `protocols::tcp::Jit`).
pub struct Sim<V: Variant = Full> {
    wire: Wire,
    hosts: [Host<V>; 2],
    flows: Flows,
    rec: Option<PcapRecorder<Vec<u8>>>,
    now: u64,
    last_step: u64,
    wake: Option<u64>,
    iterations: u64,
    max_iterations: u64,
    on_panic_capture: Option<Box<dyn FnOnce(Vec<u8>) + Send>>,
}

impl<V: Variant> fmt::Debug for Sim<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("now", &self.now)
            .field("iterations", &self.iterations)
            .field("hosts", &self.hosts)
            .field("flows", &self.flows)
            .finish_non_exhaustive()
    }
}

impl<V: Variant> Drop for Sim<V> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        if let (Some(keep), Some(rec)) = (self.on_panic_capture.take(), self.rec.take())
            && let Ok(bytes) = rec.finish()
        {
            keep(bytes);
        }
    }
}

impl Sim {
    /// The simulation `config` describes, at time 0, Prolac hosts running [`Full`].
    ///
    /// # Errors
    ///
    /// [`SimError::Config`] for an invalid link or host configuration.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        Self::with_variant(config)
    }
}

impl<V: Variant> Sim<V> {
    /// The simulation `config` describes, at time 0, Prolac hosts running variant `V`.
    ///
    /// # Errors
    ///
    /// [`SimError::Config`] for an invalid link or host configuration.
    pub fn with_variant(config: SimConfig) -> Result<Self, SimError> {
        let SimConfig {
            seed,
            link,
            hosts,
            record,
            on_panic_capture,
        } = config;
        let mut wire = Wire::new(WireConfig::new(seed, 2).all_links(link))
            .map_err(|e| SimError::Config(e.to_string()))?;
        let [a, b] = hosts;
        let a = Host::new(&mut wire, End::A, a).map_err(|e| SimError::Config(e.to_string()))?;
        let b = Host::new(&mut wire, End::B, b).map_err(|e| SimError::Config(e.to_string()))?;
        let rec = if record || on_panic_capture.is_some() {
            Some(PcapRecorder::new(Vec::new()).map_err(|e| SimError::Config(e.to_string()))?)
        } else {
            None
        };
        Ok(Self {
            wire,
            hosts: [a, b],
            flows: Flows::default(),
            rec,
            now: 0,
            last_step: 0,
            wake: None,
            iterations: 0,
            max_iterations: MAX_ITERATIONS,
            on_panic_capture,
        })
    }

    /// The current virtual time, in µs: when the next step runs.
    #[must_use]
    pub const fn now(&self) -> u64 {
        self.now
    }

    /// The time of the last step: what the applications see happened then.
    #[must_use]
    pub const fn last_step(&self) -> u64 {
        self.last_step
    }

    /// Steps run so far.
    #[must_use]
    pub const fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Sets the bound of [`run_until`](Self::run_until) on iterations (default
    /// [`MAX_ITERATIONS`]).
    pub const fn set_max_iterations(&mut self, max: u64) {
        self.max_iterations = max;
    }

    /// Asks for a step at `at_us` even if nothing else happens then (an application's own
    /// timer); `None` cancels.
    pub const fn wake_at(&mut self, at_us: Option<u64>) {
        self.wake = at_us;
    }

    /// The host on `end`.
    #[must_use]
    pub const fn host(&self, end: End) -> &Host<V> {
        &self.hosts[end.index()]
    }

    /// The host on `end`, mutably.
    pub const fn host_mut(&mut self, end: End) -> &mut Host<V> {
        &mut self.hosts[end.index()]
    }

    /// The wire.
    #[must_use]
    pub const fn wire(&self) -> &Wire {
        &self.wire
    }

    /// The wire, mutably (to change its links during a run).
    pub const fn wire_mut(&mut self) -> &mut Wire {
        &mut self.wire
    }

    /// Every direction of the wire changed to `link` from now on.
    ///
    /// # Errors
    ///
    /// [`SimError::Config`] for an invalid link.
    pub fn set_link(&mut self, link: &LinkConfig) -> Result<(), SimError> {
        self.wire
            .set_both_ways(EndId::A, EndId::B, link.clone())
            .map_err(|e| SimError::Config(e.to_string()))
    }

    /// The wire's counters, every direction added up.
    #[must_use]
    pub fn wire_stats(&self) -> LinkStats {
        self.wire.stats()
    }

    /// What the sniffer saw each sender send.
    #[must_use]
    pub const fn flows(&self) -> &Flows {
        &self.flows
    }

    /// Ends the recording and returns the capture (pcap bytes), if the simulation records.
    pub fn take_capture(&mut self) -> Option<Vec<u8>> {
        self.rec.take().and_then(|r| r.finish().ok())
    }

    /// Frames recorded so far.
    #[must_use]
    pub fn captured_frames(&self) -> u64 {
        self.rec.as_ref().map_or(0, PcapRecorder::frames)
    }

    /// Runs both hosts at the current time and moves the clock to the next event (a frame's
    /// arrival, a host's timer, an application's wake-up). Returns false when nothing is
    /// pending at all; the clock then moves by 1 µs.
    pub fn step(&mut self) -> bool {
        self.iterations += 1;
        let now = self.now;
        self.last_step = now;
        for end in End::BOTH {
            let Ok(port) = self.wire.port(end.wire_end()) else {
                continue;
            };
            let sniff = Sniff::new(port, &mut self.flows);
            let host = &mut self.hosts[end.index()];
            match self.rec.as_mut() {
                Some(rec) if end == End::A => host.poll(rec.tap(sniff), now),
                _ => host.poll(sniff, now),
            }
        }
        let next = [
            self.wire.next_event_at(),
            self.hosts[0].poll_at(now),
            self.hosts[1].poll_at(now),
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

    /// Steps until `done` holds (checked before each step), within `max_us` of virtual time
    /// and the iteration bound.
    ///
    /// # Errors
    ///
    /// [`SimError::NotDone`] when a bound is reached first.
    pub fn run_until(
        &mut self,
        max_us: u64,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> Result<(), SimError> {
        while !done(self) {
            if self.iterations > self.max_iterations || self.now > max_us {
                return Err(SimError::NotDone {
                    now_us: self.now,
                    iterations: self.iterations,
                    hosts: self.describe(),
                });
            }
            self.step();
        }
        Ok(())
    }

    /// Both hosts' connections and their states, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "A: {}; B: {}; {} frames in flight",
            self.hosts[0].describe(),
            self.hosts[1].describe(),
            self.wire.in_flight()
        )
    }
}
