//! A sans-IO TCP stack: many [`Connection`]s of one host address, demultiplexed by four-tuple,
//! with listeners, checksums, and resets for segments that belong to no connection.
//!
//! The caller moves IPv4 payloads: [`Stack::input`] takes a TCP segment with its source and
//! destination addresses (the stack verifies the checksum), and [`Stack::poll_transmit`] hands
//! out segments with their checksums filled, each with the four-tuple it belongs to. Time is
//! the caller's: every call takes `now` in milliseconds, and [`Stack::poll_at`] says when
//! timers want [`Stack::poll`]. A listener takes any number of connections: each SYN to a
//! listening port gets a fresh connection, which is registered if it accepts the SYN and is
//! announced by [`Stack::accept`] once established.

use core::net::{Ipv4Addr, SocketAddrV4};
use core::ops::Range;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use prolac_runtime::checksum::SummedBytes;

use super::{Config, Connection, Event, Full, State, TcpInfo, TcpOption, Variant};

/// A connection's addresses, seen from this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FourTuple {
    /// This host's address and port.
    pub local: SocketAddrV4,
    /// The peer's address and port.
    pub remote: SocketAddrV4,
}

/// Settings of a [`Stack`].
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// This host's address: segments to any other address are not ours.
    pub address: Ipv4Addr,
    /// Buffers of every connection (its `initial_seq` is replaced per connection).
    pub connection: Config,
    /// Options set on every connection.
    pub options: Vec<TcpOption>,
    /// The secret of the initial sequence numbers (RFC 6528: a keyed function of the
    /// four-tuple, plus the clock).
    pub isn_secret: u64,
}

impl StackConfig {
    /// Default buffers and options for `address`.
    #[must_use]
    pub fn new(address: Ipv4Addr) -> StackConfig {
        StackConfig {
            address,
            connection: Config::default(),
            options: Vec::new(),
            isn_secret: 0x5eed_15b5_0f7c_9a1d,
        }
    }
}

/// Why a call on a [`Stack`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackError {
    /// No connection has this four-tuple.
    NoConnection(FourTuple),
    /// A connection with this four-tuple exists already.
    InUse(FourTuple),
}

impl core::fmt::Display for StackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StackError::NoConnection(k) => write!(f, "no connection {} -> {}", k.local, k.remote),
            StackError::InUse(k) => write!(f, "{} -> {} is in use", k.local, k.remote),
        }
    }
}

impl std::error::Error for StackError {}

/// What became of an arriving segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Handed to the connection with this four-tuple (possibly new, from a listener).
    Connection(FourTuple),
    /// No connection or listener: answered with a reset if it was not one.
    Refused,
    /// Not for this host's address.
    NotOurs,
    /// Shorter than a TCP header, or longer than IPv4 allows.
    Malformed,
    /// The checksum is wrong.
    BadChecksum,
}

/// Many connections of one host (see the [module documentation](self)).
pub struct Stack<V: Variant = Full> {
    config: StackConfig,
    connections: BTreeMap<FourTuple, Connection<V>>,
    listeners: BTreeSet<u16>,
    /// Connections from listeners that have not been handed out by `accept` yet.
    unaccepted: BTreeSet<FourTuple>,
    accepted: VecDeque<FourTuple>,
    /// Segments to send that belong to no connection (resets).
    loose: VecDeque<(FourTuple, Vec<u8>)>,
}

impl Stack<Full> {
    /// A stack of full TCP connections for `config.address`.
    #[must_use]
    pub fn new(config: StackConfig) -> Stack<Full> {
        Stack::with_variant(config)
    }
}

impl<V: Variant> Stack<V> {
    /// A stack whose connections run the TCP variant `V`.
    #[must_use]
    pub fn with_variant(config: StackConfig) -> Stack<V> {
        Stack {
            config,
            connections: BTreeMap::new(),
            listeners: BTreeSet::new(),
            unaccepted: BTreeSet::new(),
            accepted: VecDeque::new(),
            loose: VecDeque::new(),
        }
    }

    /// OPEN, passive: accept connections to `port`.
    pub fn listen(&mut self, port: u16) {
        self.listeners.insert(port);
    }

    /// Stops accepting connections to `port` (established ones go on).
    pub fn unlisten(&mut self, port: u16) {
        self.listeners.remove(&port);
    }

    /// OPEN, active: a connection from `local_port` to `remote`; its SYN is queued.
    ///
    /// # Errors
    ///
    /// [`StackError::InUse`] if the four-tuple has a connection.
    pub fn connect(
        &mut self,
        local_port: u16,
        remote: SocketAddrV4,
        now: u64,
    ) -> Result<FourTuple, StackError> {
        let key = FourTuple {
            local: SocketAddrV4::new(self.config.address, local_port),
            remote,
        };
        if self.connections.contains_key(&key) {
            return Err(StackError::InUse(key));
        }
        let mut c = self.new_connection(&key, now);
        c.connect(local_port, remote.port(), now);
        self.connections.insert(key, c);
        Ok(key)
    }

    fn new_connection(&mut self, key: &FourTuple, now: u64) -> Connection<V> {
        let mut config = self.config.connection;
        config.initial_seq = self.initial_seq(key, now);
        let mut c = Connection::with_variant(config);
        for option in &self.config.options {
            c.set_option(*option);
        }
        c
    }

    /// RFC 6528's F: a keyed hash of the four-tuple (the Isn layer adds the 4 µs clock; a
    /// variant without it adds the clock here).
    fn initial_seq(&self, key: &FourTuple, now: u64) -> u32 {
        let mut h = self.config.isn_secret;
        for word in [
            u64::from(key.local.ip().to_bits()),
            u64::from(key.local.port()),
            u64::from(key.remote.ip().to_bits()),
            u64::from(key.remote.port()),
        ] {
            h = (h ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            h ^= h >> 29;
        }
        let clock = if V::WITHOUT.contains("Isn") {
            now.wrapping_mul(250) as u32
        } else {
            0
        };
        (h as u32).wrapping_add(clock)
    }

    /// A TCP segment arrived from `src` to `dst` (the IPv4 payload, checksum included).
    pub fn input(&mut self, src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8], now: u64) -> Arrival {
        if dst != self.config.address {
            return Arrival::NotOurs;
        }
        if segment.len() < 20 || u16::try_from(segment.len()).is_err() {
            return Arrival::Malformed;
        }
        if tcp_checksum(src, dst, segment) != 0 {
            return Arrival::BadChecksum;
        }
        let sport = u16::from_be_bytes([segment[0], segment[1]]);
        let dport = u16::from_be_bytes([segment[2], segment[3]]);
        let key = FourTuple {
            local: SocketAddrV4::new(dst, dport),
            remote: SocketAddrV4::new(src, sport),
        };
        if let Some(c) = self.connections.get_mut(&key) {
            c.input(segment, now);
            // A SYN that ended TIME-WAIT (`TcpOption::ReopenOnSyn`) goes on to the listener as
            // if the old connection had gone already.
            if !c.peek_events().contains(&Event::Reopen) {
                self.note_events(&key);
                return Arrival::Connection(key);
            }
            self.connections.remove(&key);
        }
        // A fresh TCB answers: listening if the port listens, closed otherwise (a reset).
        let mut c = self.new_connection(&key, now);
        let listening = self.listeners.contains(&dport);
        if listening {
            c.listen(dport);
        }
        c.input(segment, now);
        if listening && c.state() == State::SynReceived {
            self.connections.insert(key, c);
            self.unaccepted.insert(key);
            return Arrival::Connection(key);
        }
        while let Some(s) = c.poll_transmit() {
            self.loose.push_back((key, s));
        }
        Arrival::Refused
    }

    /// Moves a connection from a listener to `accepted` once it is established.
    fn note_events(&mut self, key: &FourTuple) {
        if self.unaccepted.contains(key)
            && self
                .connections
                .get(key)
                .is_some_and(|c| c.state() != State::SynReceived)
        {
            self.unaccepted.remove(key);
            let c = self.connections.get(key);
            if c.is_some_and(|c| c.state() == State::Listen) {
                // A reset sent it back to LISTEN (MUST-11): the listener makes a fresh
                // connection for the next SYN, so this one just goes.
                self.connections.remove(key);
            } else {
                self.accepted.push_back(*key);
            }
        }
    }

    /// The next connection a listener accepted (established, or closed already if the peer
    /// was quick).
    pub fn accept(&mut self) -> Option<FourTuple> {
        self.accepted.pop_front()
    }

    /// Runs the timers due at `now` on every connection.
    pub fn poll(&mut self, now: u64) {
        let due: Vec<FourTuple> = self
            .connections
            .iter_mut()
            .filter_map(|(k, c)| c.poll_at().is_some_and(|t| t <= now).then_some(*k))
            .collect();
        for key in due {
            if let Some(c) = self.connections.get_mut(&key) {
                c.poll(now);
            }
            self.note_events(&key);
        }
    }

    /// When [`Stack::poll`] should next be called, if any timer runs.
    pub fn poll_at(&mut self) -> Option<u64> {
        self.connections
            .values_mut()
            .filter_map(Connection::poll_at)
            .min()
    }

    /// The next segment to send, with its checksum, and the four-tuple it goes out on.
    pub fn poll_transmit(&mut self) -> Option<(FourTuple, Vec<u8>)> {
        let (key, mut segment) = match self.loose.pop_front() {
            Some(out) => out,
            None => self.connections.iter_mut().find_map(|(k, c)| {
                let mut out = None;
                c.transmit_one(|s| out = Some(s.to_vec()));
                out.map(|s| (*k, s))
            })?,
        };
        fill_checksum(&key, &mut segment);
        Some((key, segment))
    }

    /// The connection with this four-tuple.
    #[must_use]
    pub fn connection(&self, key: &FourTuple) -> Option<&Connection<V>> {
        self.connections.get(key)
    }

    /// The connection with this four-tuple, for calls the stack does not wrap.
    pub fn connection_mut(&mut self, key: &FourTuple) -> Option<&mut Connection<V>> {
        self.connections.get_mut(key)
    }

    fn with<R>(
        &mut self,
        key: &FourTuple,
        f: impl FnOnce(&mut Connection<V>) -> R,
    ) -> Result<R, StackError> {
        let c = self
            .connections
            .get_mut(key)
            .ok_or(StackError::NoConnection(*key))?;
        let r = f(c);
        self.note_events(key);
        Ok(r)
    }

    /// SEND on a connection; returns how much the send buffer took.
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn send(&mut self, key: &FourTuple, data: &[u8], now: u64) -> Result<usize, StackError> {
        self.with(key, |c| c.send(data, now))
    }

    /// SEND without a copy ([`Connection::send_shared`]) on a connection; returns how much
    /// the send buffer took.
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn send_shared(
        &mut self,
        key: &FourTuple,
        data: &SummedBytes,
        range: Range<usize>,
        now: u64,
    ) -> Result<usize, StackError> {
        self.with(key, |c| c.send_shared(data, range, now))
    }

    /// RECEIVE on a connection; returns how many bytes were copied into `buf`.
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn recv(&mut self, key: &FourTuple, buf: &mut [u8], now: u64) -> Result<usize, StackError> {
        self.with(key, |c| c.recv(buf, now))
    }

    /// SHUTDOWN (a half-close) on a connection.
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn shutdown(&mut self, key: &FourTuple, now: u64) -> Result<(), StackError> {
        self.with(key, |c| c.shutdown(now))
    }

    /// CLOSE on a connection: a half-close after which nothing more is read.
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn close(&mut self, key: &FourTuple, now: u64) -> Result<(), StackError> {
        self.with(key, |c| c.close(now))
    }

    /// ABORT on a connection (its reset is queued; the connection stays until
    /// [`Stack::remove`] so that its events can be read).
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn abort(&mut self, key: &FourTuple) -> Result<(), StackError> {
        self.with(key, Connection::abort)
    }

    /// Sets an option on a connection; `Ok(false)` if the variant does not know it.
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn set_option(&mut self, key: &FourTuple, option: TcpOption) -> Result<bool, StackError> {
        self.with(key, |c| c.set_option(option))
    }

    /// A connection's events since the last call.
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn events(&mut self, key: &FourTuple) -> Result<Vec<Event>, StackError> {
        self.with(key, Connection::events)
    }

    /// A connection's variables.
    ///
    /// # Errors
    ///
    /// [`StackError::NoConnection`].
    pub fn info(&mut self, key: &FourTuple) -> Result<TcpInfo, StackError> {
        self.with(key, Connection::info)
    }

    /// Forgets a connection (after it closed, or to drop it silently).
    pub fn remove(&mut self, key: &FourTuple) -> Option<Connection<V>> {
        self.unaccepted.remove(key);
        self.accepted.retain(|k| k != key);
        self.connections.remove(key)
    }

    /// Forgets every CLOSED connection whose data has been read; returns their four-tuples.
    pub fn reap(&mut self) -> Vec<FourTuple> {
        let gone: Vec<FourTuple> = self
            .connections
            .iter()
            .filter(|(_, c)| c.state() == State::Closed && c.readable() == 0)
            .map(|(k, _)| *k)
            .collect();
        for k in &gone {
            self.remove(k);
        }
        gone
    }

    /// The four-tuples of the connections.
    pub fn connections(&self) -> impl Iterator<Item = &FourTuple> {
        self.connections.keys()
    }
}

/// The TCP checksum of `segment` from `src` to `dst` over the segment as it is (0 when a
/// stored checksum is right).
fn tcp_checksum(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    let len = u16::try_from(segment.len()).unwrap_or(u16::MAX);
    let mut sum = prolac_runtime::checksum::pseudo_header_ipv4(src.octets(), dst.octets(), 6, len);
    sum.add_bytes(segment);
    sum.finish()
}

fn fill_checksum(key: &FourTuple, segment: &mut [u8]) {
    if segment.len() < 20 {
        return;
    }
    segment[16] = 0;
    segment[17] = 0;
    let sum = tcp_checksum(*key.local.ip(), *key.remote.ip(), segment);
    segment[16..18].copy_from_slice(&sum.to_be_bytes());
}
