//! A simulated host: smoltcp's TCP on a smoltcp `Interface`, or the Prolac TCP on the
//! library-OS stack, behind one application interface.
//!
//! [`Host`] numbers its connections ([`Conn`]) and maps each to what the TCP underneath
//! knows it by — a smoltcp socket, or the Prolac connection's [`FourTuple`] — so that a
//! scenario can be written once for either TCP. Both report RFC 9293 states
//! ([`protocols::tcp::State`]); a Prolac connection the adapter has forgotten has none.
//! What only one TCP has (the Prolac adapter's events and counters, a smoltcp socket's
//! settings) is reached through [`Host::prolac_connection`], [`Host::smol_socket`],
//! [`Host::prolac_stack_mut`] and [`Host::smol_mut`].

use core::fmt;
use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU32, Ordering};

use protocols::tcp::{Full, State, Variant};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

use super::{End, TIME_WAIT_US, state_name};
use crate::device::{FrameDevice, SmoltcpDevice};
use crate::netstack::{FourTuple, NetConfig, NetStack};
use crate::prolac_tcp::{ConnectError, ProlacConfig, ProlacConnection, ProlacStack, ProlacTcp};
use crate::wire::Wire;

/// Which TCP a host runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackKind {
    /// smoltcp's TCP on a smoltcp `Interface`.
    Smoltcp,
    /// The Prolac TCP ([`ProlacTcp`]) on the library-OS [`NetStack`].
    Prolac,
}

impl fmt::Display for StackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Smoltcp => "smoltcp",
            Self::Prolac => "Prolac",
        })
    }
}

/// How a host is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostConfig {
    /// Which TCP it runs.
    pub kind: StackKind,
    /// The settings of the Prolac TCP's connections (a Prolac host).
    pub prolac: ProlacConfig,
    /// The size of each smoltcp socket's send and receive buffers (a smoltcp host). Above
    /// 65,535 bytes smoltcp asks for window scaling.
    pub smol_buffer: usize,
    /// smoltcp's random seed (its ISNs and ephemeral choices; a smoltcp host).
    pub smol_seed: u64,
    /// Whether smoltcp's sockets offer and accept timestamps (RFC 7323; off by default, as in
    /// smoltcp).
    pub smol_timestamps: bool,
    /// Whether the application hands its data to the Prolac TCP without a copy
    /// ([`ProlacStack::prolac_send_shared`], each chunk made a
    /// [`SummedBytes`](prolac_runtime::checksum::SummedBytes)) instead of copying it in (a
    /// Prolac host; off by default).
    pub prolac_shared_send: bool,
}

impl HostConfig {
    /// The harness's defaults for a host of `kind` on `end` in run `seed`: the Prolac
    /// adapter's defaults with a TIME-WAIT of [`TIME_WAIT_US`] and ISNs drawn from `seed`;
    /// smoltcp sockets with 64 KiB buffers.
    #[must_use]
    pub fn new(kind: StackKind, end: End, seed: u64) -> Self {
        Self {
            kind,
            prolac: ProlacConfig {
                time_wait_us: TIME_WAIT_US,
                isn_seed: seed,
                ..ProlacConfig::default()
            },
            smol_buffer: 64 * 1024,
            smol_seed: seed ^ 0x5eed ^ ((end.index() as u64) << 32),
            smol_timestamps: false,
            prolac_shared_send: false,
        }
    }
}

/// Why a host refused a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostError {
    /// The library-OS stack's configuration is invalid.
    Config(String),
    /// smoltcp refused to listen or connect.
    Smoltcp(String),
    /// The Prolac adapter refused to connect.
    Prolac(ConnectError),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "invalid host: {e}"),
            Self::Smoltcp(e) => write!(f, "smoltcp: {e}"),
            Self::Prolac(e) => write!(f, "Prolac TCP: {e}"),
        }
    }
}

impl std::error::Error for HostError {}

/// The smoltcp host: an `Interface` and its TCP sockets.
pub struct SmolHost {
    iface: Interface,
    sockets: SocketSet<'static>,
    handles: Vec<SocketHandle>,
    buffer_len: usize,
    tx_errors: u64,
    timestamps: bool,
}

impl fmt::Debug for SmolHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmolHost")
            .field("sockets", &self.handles.len())
            .field("buffer_len", &self.buffer_len)
            .field("tx_errors", &self.tx_errors)
            .finish_non_exhaustive()
    }
}

/// smoltcp's TSval source: a counter that only grows (shared by every smoltcp host in the
/// process; PAWS needs nothing more).
fn next_tsval() -> u32 {
    static CLOCK: AtomicU32 = AtomicU32::new(1);
    CLOCK.fetch_add(1, Ordering::Relaxed)
}

/// smoltcp's time for virtual microseconds.
fn micros(now: u64) -> Instant {
    Instant::from_micros(i64::try_from(now).unwrap_or(i64::MAX))
}

impl SmolHost {
    /// A smoltcp interface with `mac` and `ip`/24 on `device`, no sockets yet; sockets get
    /// buffers of `buffer_len` bytes.
    pub fn new<D: FrameDevice>(
        device: D,
        mac: EthernetAddress,
        ip: Ipv4Addr,
        seed: u64,
        buffer_len: usize,
    ) -> Self {
        Self::with_timestamps(device, mac, ip, seed, buffer_len, false)
    }

    /// As [`SmolHost::new`], with sockets that offer and accept timestamps (RFC 7323) if
    /// `timestamps`. smoltcp takes their TSvals from a plain function: here a process-wide
    /// counter, which only ever grows. smoltcp 0.12 does not count the option in its segment
    /// sizes (`min(peer's MSS, IP MTU − 40)` bytes of data, then 12 bytes of option): full
    /// segments fit the link only if the peer announces an MSS at least 12 bytes below it.
    pub fn with_timestamps<D: FrameDevice>(
        device: D,
        mac: EthernetAddress,
        ip: Ipv4Addr,
        seed: u64,
        buffer_len: usize,
        timestamps: bool,
    ) -> Self {
        let mut config = Config::new(HardwareAddress::Ethernet(mac));
        config.random_seed = seed;
        let mut device = SmoltcpDevice::new(device);
        let mut iface = Interface::new(config, &mut device, Instant::from_micros(0));
        iface.update_ip_addrs(|addrs| {
            // The list is empty, so it has room for one address.
            let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(ip), 24));
        });
        Self {
            iface,
            sockets: SocketSet::new(vec![]),
            handles: Vec::new(),
            buffer_len,
            tx_errors: 0,
            timestamps,
        }
    }

    /// Adds a socket with the host's buffer size; returns its index.
    pub fn add_socket(&mut self) -> usize {
        self.add_socket_with(self.buffer_len)
    }

    /// Adds a socket with buffers of `len` bytes; returns its index.
    pub fn add_socket_with(&mut self, len: usize) -> usize {
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; len]),
            tcp::SocketBuffer::new(vec![0; len]),
        );
        if self.timestamps {
            socket.set_tsval_generator(Some(next_tsval));
        }
        self.handles.push(self.sockets.add(socket));
        self.handles.len() - 1
    }

    /// The number of sockets.
    #[must_use]
    pub const fn sockets(&self) -> usize {
        self.handles.len()
    }

    /// Socket `i`.
    #[must_use]
    pub fn socket(&self, i: usize) -> Option<&tcp::Socket<'static>> {
        let handle = *self.handles.get(i)?;
        Some(self.sockets.get::<tcp::Socket>(handle))
    }

    /// Socket `i`, mutably.
    pub fn socket_mut(&mut self, i: usize) -> Option<&mut tcp::Socket<'static>> {
        let handle = *self.handles.get(i)?;
        Some(self.sockets.get_mut::<tcp::Socket>(handle))
    }

    /// Connects socket `i` from `local_port` to `remote`.
    ///
    /// # Errors
    ///
    /// smoltcp's refusal, or no socket `i`.
    pub fn connect(
        &mut self,
        i: usize,
        remote: (Ipv4Addr, u16),
        local_port: u16,
    ) -> Result<(), HostError> {
        let handle = *self
            .handles
            .get(i)
            .ok_or_else(|| HostError::Smoltcp(format!("no socket {i}")))?;
        self.sockets
            .get_mut::<tcp::Socket>(handle)
            .connect(
                self.iface.context(),
                (IpAddress::Ipv4(remote.0), remote.1),
                local_port,
            )
            .map_err(|e| HostError::Smoltcp(e.to_string()))
    }

    /// Frames smoltcp built that the device refused (always a bug).
    #[must_use]
    pub const fn tx_errors(&self) -> u64 {
        self.tx_errors
    }

    /// Runs the interface on `device` at `now`.
    pub fn poll<D: FrameDevice>(&mut self, device: D, now: u64) {
        let mut device = SmoltcpDevice::new(device);
        self.iface.poll(micros(now), &mut device, &mut self.sockets);
        self.tx_errors += device.tx_errors();
    }

    /// When the interface next needs a poll, in µs.
    #[must_use]
    pub fn poll_at(&mut self, now: u64) -> Option<u64> {
        self.iface
            .poll_at(micros(now), &self.sockets)
            .and_then(|t| u64::try_from(t.total_micros()).ok())
    }
}

/// smoltcp's state as the RFC 9293 state.
const fn from_smoltcp(state: tcp::State) -> State {
    match state {
        tcp::State::Closed => State::Closed,
        tcp::State::Listen => State::Listen,
        tcp::State::SynSent => State::SynSent,
        tcp::State::SynReceived => State::SynReceived,
        tcp::State::Established => State::Established,
        tcp::State::FinWait1 => State::FinWait1,
        tcp::State::FinWait2 => State::FinWait2,
        tcp::State::CloseWait => State::CloseWait,
        tcp::State::Closing => State::Closing,
        tcp::State::LastAck => State::LastAck,
        tcp::State::TimeWait => State::TimeWait,
    }
}

/// A connection of a [`Host`] (its index in the host's list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Conn(pub usize);

/// What a [`Conn`] is to the TCP underneath.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Socket(usize),
    Prolac(FourTuple),
}

/// The TCP of a host.
enum Stack<V: Variant> {
    Smol(Box<SmolHost>),
    Prolac(Box<NetStack<ProlacTcp<V>>>),
}

/// A simulated host: smoltcp's TCP or the Prolac TCP behind one application interface.
///
/// The host numbers its connections ([`Conn`]) and maps each to what the TCP underneath knows
/// it by (a smoltcp socket, or the Prolac connection's [`FourTuple`]). Both TCPs report RFC
/// 9293 states; a Prolac connection the adapter has forgotten has none.
pub struct Host<V: Variant = Full> {
    end: End,
    config: HostConfig,
    stack: Stack<V>,
    conns: Vec<Slot>,
}

impl<V: Variant> fmt::Debug for Host<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Host({} on {}: {})",
            self.config.kind,
            self.end,
            self.describe()
        )
    }
}

impl<V: Variant> Host<V> {
    /// A host on `wire`'s end `end` as `config` says.
    ///
    /// # Errors
    ///
    /// [`HostError::Config`] if the library-OS stack refuses its configuration.
    pub fn new(wire: &mut Wire, end: End, config: HostConfig) -> Result<Self, HostError> {
        let stack = match config.kind {
            StackKind::Smoltcp => {
                let port = wire
                    .port(end.wire_end())
                    .map_err(|e| HostError::Config(e.to_string()))?;
                Stack::Smol(Box::new(SmolHost::with_timestamps(
                    port,
                    end.mac(),
                    end.ip(),
                    config.smol_seed,
                    config.smol_buffer,
                    config.smol_timestamps,
                )))
            }
            StackKind::Prolac => Stack::Prolac(Box::new(
                NetStack::new(NetConfig::new(end.mac(), end.ip()))
                    .map_err(|e| HostError::Config(e.to_string()))?,
            )),
        };
        Ok(Self {
            end,
            config,
            stack,
            conns: Vec::new(),
        })
    }

    /// Which TCP the host runs.
    #[must_use]
    pub const fn kind(&self) -> StackKind {
        self.config.kind
    }

    /// The host's end of the wire.
    #[must_use]
    pub const fn end(&self) -> End {
        self.end
    }

    /// The host's configuration.
    #[must_use]
    pub const fn config(&self) -> &HostConfig {
        &self.config
    }

    /// The configuration, mutably: a change applies to later listens and connects.
    pub const fn config_mut(&mut self) -> &mut HostConfig {
        &mut self.config
    }

    /// The host's IPv4 address.
    #[must_use]
    pub const fn ip(&self) -> Ipv4Addr {
        self.end.ip()
    }

    /// The smoltcp host, if this is one.
    pub fn smol_mut(&mut self) -> Option<&mut SmolHost> {
        match &mut self.stack {
            Stack::Smol(s) => Some(s),
            Stack::Prolac(_) => None,
        }
    }

    /// The smoltcp host, if this is one.
    #[must_use]
    pub fn smol(&self) -> Option<&SmolHost> {
        match &self.stack {
            Stack::Smol(s) => Some(s),
            Stack::Prolac(_) => None,
        }
    }

    /// The library-OS stack of a Prolac host.
    #[must_use]
    pub fn prolac_stack(&self) -> Option<&NetStack<ProlacTcp<V>>> {
        match &self.stack {
            Stack::Prolac(s) => Some(s),
            Stack::Smol(_) => None,
        }
    }

    /// The library-OS stack of a Prolac host, mutably.
    pub fn prolac_stack_mut(&mut self) -> Option<&mut NetStack<ProlacTcp<V>>> {
        match &mut self.stack {
            Stack::Prolac(s) => Some(s),
            Stack::Smol(_) => None,
        }
    }

    /// Waits for a connection from `peer` on `port`: smoltcp listens with a new socket (which
    /// takes whichever SYN comes first); the Prolac host registers a listener on `port`
    /// (once) and the connection is the one `peer` opens.
    ///
    /// # Errors
    ///
    /// smoltcp's refusal to listen.
    pub fn listen(&mut self, port: u16, peer: (Ipv4Addr, u16)) -> Result<Conn, HostError> {
        let slot = match &mut self.stack {
            Stack::Smol(smol) => {
                let i = smol.add_socket();
                smol.socket_mut(i)
                    .ok_or_else(|| HostError::Smoltcp("socket just added".into()))?
                    .listen(port)
                    .map_err(|e| HostError::Smoltcp(e.to_string()))?;
                Slot::Socket(i)
            }
            Stack::Prolac(stack) => {
                if stack.listener(port).is_none() {
                    stack.listen(port, ProlacTcp::listener(port, self.config.prolac));
                }
                Slot::Prolac(FourTuple {
                    local_ip: self.end.ip(),
                    local_port: port,
                    remote_ip: peer.0,
                    remote_port: peer.1,
                })
            }
        };
        self.conns.push(slot);
        Ok(Conn(self.conns.len() - 1))
    }

    /// Opens a connection from `local_port` to `remote` at `now`.
    ///
    /// # Errors
    ///
    /// The TCP's refusal.
    pub fn connect(
        &mut self,
        local_port: u16,
        remote: (Ipv4Addr, u16),
        now: u64,
    ) -> Result<Conn, HostError> {
        let slot = match &mut self.stack {
            Stack::Smol(smol) => {
                let i = smol.add_socket();
                smol.connect(i, remote, local_port)?;
                Slot::Socket(i)
            }
            Stack::Prolac(stack) => Slot::Prolac(
                stack
                    .prolac_connect(local_port, remote, self.config.prolac, now)
                    .map_err(HostError::Prolac)?,
            ),
        };
        self.conns.push(slot);
        Ok(Conn(self.conns.len() - 1))
    }

    /// The connections, in the order they were made.
    pub fn conns(&self) -> impl Iterator<Item = Conn> {
        (0..self.conns.len()).map(Conn)
    }

    /// The smoltcp socket of `conn`.
    pub fn smol_socket(&mut self, conn: Conn) -> Option<&mut tcp::Socket<'static>> {
        match (&mut self.stack, self.conns.get(conn.0)?) {
            (Stack::Smol(smol), Slot::Socket(i)) => smol.socket_mut(*i),
            _ => None,
        }
    }

    /// The four-tuple of a Prolac connection (whether or not it is registered).
    #[must_use]
    pub fn prolac_key(&self, conn: Conn) -> Option<FourTuple> {
        match self.conns.get(conn.0)? {
            Slot::Prolac(key) => Some(*key),
            Slot::Socket(_) => None,
        }
    }

    /// The Prolac connection of `conn`, while the adapter has it registered.
    #[must_use]
    pub fn prolac_connection(&self, conn: Conn) -> Option<&ProlacConnection<V>> {
        match (&self.stack, self.conns.get(conn.0)?) {
            (Stack::Prolac(stack), Slot::Prolac(key)) => stack.prolac_connection(key),
            _ => None,
        }
    }

    /// The state of `conn`: `None` for a Prolac connection not registered (not yet opened by
    /// the peer, or forgotten).
    #[must_use]
    pub fn state(&self, conn: Conn) -> Option<State> {
        match (&self.stack, self.conns.get(conn.0)?) {
            (Stack::Smol(smol), Slot::Socket(i)) => {
                smol.socket(*i).map(|s| from_smoltcp(s.state()))
            }
            (Stack::Prolac(stack), Slot::Prolac(key)) => stack
                .prolac_connection(key)
                .map(ProlacConnection::<V>::state),
            _ => None,
        }
    }

    /// Queues as much of `data` as the TCP takes at `now`; returns how much (0 unless the
    /// connection is ESTABLISHED or CLOSE-WAIT).
    pub fn send(&mut self, conn: Conn, data: &[u8], now: u64) -> usize {
        if !matches!(
            self.state(conn),
            Some(State::Established | State::CloseWait)
        ) {
            return 0;
        }
        match (&mut self.stack, self.conns.get(conn.0)) {
            (Stack::Smol(smol), Some(Slot::Socket(i))) => smol
                .socket_mut(*i)
                .and_then(|s| s.send_slice(data).ok())
                .unwrap_or(0),
            (Stack::Prolac(stack), Some(Slot::Prolac(key))) => {
                let room = stack
                    .prolac_connection(key)
                    .map_or(0, ProlacConnection::<V>::send_room);
                let n = room.min(data.len());
                if n == 0 {
                    return 0;
                }
                if self.config.prolac_shared_send {
                    let shared = prolac_runtime::checksum::SummedBytes::new(&data[..n]);
                    stack
                        .prolac_send_shared(key, &shared, 0..n, now)
                        .unwrap_or(0)
                } else {
                    stack.prolac_send(key, &data[..n], now).unwrap_or(0)
                }
            }
            _ => 0,
        }
    }

    /// Reads up to `buf.len()` received bytes at `now`; returns how many.
    pub fn recv(&mut self, conn: Conn, buf: &mut [u8], now: u64) -> usize {
        match (&mut self.stack, self.conns.get(conn.0)) {
            (Stack::Smol(smol), Some(Slot::Socket(i))) => match smol.socket_mut(*i) {
                Some(s) if s.can_recv() => s.recv_slice(buf).unwrap_or(0),
                _ => 0,
            },
            (Stack::Prolac(stack), Some(Slot::Prolac(key))) => {
                // Only a call with something to read runs the connection.
                let readable = stack
                    .prolac_connection(key)
                    .map_or(0, ProlacConnection::<V>::readable);
                if readable == 0 {
                    return 0;
                }
                stack.prolac_recv(key, buf, now).unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Closes `conn` (RFC 9293's CLOSE): a FIN follows the queued data, and what the peer
    /// still sends can be read (a half-close).
    pub fn close(&mut self, conn: Conn, now: u64) {
        match (&mut self.stack, self.conns.get(conn.0)) {
            (Stack::Smol(smol), Some(Slot::Socket(i))) => {
                if let Some(s) = smol.socket_mut(*i) {
                    s.close();
                }
            }
            (Stack::Prolac(stack), Some(Slot::Prolac(key))) => {
                let _ = stack.prolac_close(key, now);
            }
            _ => {}
        }
    }

    /// Aborts `conn` (a reset if the peer knows the connection).
    pub fn abort(&mut self, conn: Conn, now: u64) {
        match (&mut self.stack, self.conns.get(conn.0)) {
            (Stack::Smol(smol), Some(Slot::Socket(i))) => {
                if let Some(s) = smol.socket_mut(*i) {
                    s.abort();
                }
            }
            (Stack::Prolac(stack), Some(Slot::Prolac(key))) => {
                let _ = stack.prolac_abort(key, now);
            }
            _ => {}
        }
    }

    /// Whether the host has forgotten every connection: smoltcp's sockets are all CLOSED
    /// (or still listening), the Prolac adapter has none registered.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        match &self.stack {
            Stack::Smol(smol) => (0..smol.sockets()).all(|i| {
                smol.socket(i)
                    .is_none_or(|s| matches!(s.state(), tcp::State::Closed | tcp::State::Listen))
            }),
            Stack::Prolac(stack) => stack.connections().next().is_none(),
        }
    }

    /// Frames smoltcp built that the device refused (always 0 for a Prolac host).
    #[must_use]
    pub fn smol_tx_errors(&self) -> u64 {
        self.smol().map_or(0, SmolHost::tx_errors)
    }

    /// Runs the host on `device` at `now`.
    pub fn poll<D: FrameDevice>(&mut self, mut device: D, now: u64) {
        match &mut self.stack {
            Stack::Smol(smol) => smol.poll(device, now),
            Stack::Prolac(stack) => {
                stack.drive(&mut device, now);
            }
        }
    }

    /// When the host next needs a poll, in µs.
    pub fn poll_at(&mut self, now: u64) -> Option<u64> {
        match &mut self.stack {
            Stack::Smol(smol) => smol.poll_at(now),
            Stack::Prolac(stack) => stack.poll_at(),
        }
    }

    /// The connections and their states, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        let states: Vec<String> = self
            .conns()
            .map(|c| {
                let state = self.state(c).map_or("forgotten", state_name);
                match self.prolac_connection(c) {
                    Some(p) => format!(
                        "{} {state} (events {:?}, {:?}, {} queued)",
                        p.key(),
                        p.events(),
                        p.stats(),
                        p.send_queued()
                    ),
                    None => format!("#{} {state}", c.0),
                }
            })
            .collect();
        format!("{} [{}]", self.config.kind, states.join(", "))
    }
}
