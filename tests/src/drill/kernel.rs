//! The kernel a script talks to: sockets (file descriptors from 3 up, as a kernel numbers
//! them) over Prolac TCP connections, one local and one remote address, a virtual clock in µs,
//! and the settings `sysctl` lines change. Segments go in and out as TCP bytes without IP.

use std::collections::{BTreeMap, VecDeque};

use protocols::tcp::{
    Config, Connection, Event, IcmpError, IcmpPolicy, Profile, State, TcpInfo, TcpOption,
};

/// Which system the script was written against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// FreeBSD (the freebsd-tcp-testsuite).
    FreeBsd,
    /// Linux (packetdrill's own scripts).
    Linux,
}

/// Settings of the stack that `sysctl` lines change.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Window scaling (FreeBSD's `rfc1323`, Linux's `tcp_window_scaling`).
    pub window_scaling: bool,
    /// Timestamps (FreeBSD's `rfc1323`, Linux's `tcp_timestamps`).
    pub timestamps: bool,
    /// SACK.
    pub sack: bool,
    /// Receive buffer of a new socket.
    pub recvspace: usize,
    /// Send buffer of a new socket.
    pub sendspace: usize,
    /// `net.inet.tcp.blackhole`: 1 sends no reset for a SYN to a closed port, 2 for nothing.
    pub blackhole: u8,
    /// Whether a segment with both SYN and FIN is dropped (`drop_synfin`).
    pub drop_synfin: bool,
    /// The delayed ACK's delay, in ms.
    pub delack_ms: Option<u64>,
    /// `insecure_rst`: any reset in the window resets.
    pub insecure_rst: bool,
    /// `insecure_syn`: a SYN in the window resets.
    pub insecure_syn: bool,
    /// The interface's MTU (`--mtu`): the MSS is 40 less.
    pub mtu: Option<u32>,
    /// The window shift offered, from FreeBSD's `kern.ipc.maxsockbuf` (the smallest that
    /// covers it); `None` keeps the profile's.
    pub window_shift: Option<u8>,
    /// FreeBSD's `rexmit_slop`, in ms, when a script sets it.
    pub rto_slop_ms: u64,
    /// FreeBSD's `icmp_may_rst`: hard ICMP errors end connections in SYN-SENT.
    pub icmp_may_rst: bool,
    /// FreeBSD's `keepinit`: how long a handshake may take, in ms.
    pub keepinit_ms: u64,
    /// Linux's `tcp_rfc1337`, when a script sets it.
    pub rfc1337: Option<bool>,
    /// Linux's `tcp_fin_timeout`, in ms, when a script sets it.
    pub fin_wait_2_ms: Option<u64>,
    /// Linux's `tcp_keepalive_time`, in ms: the idle time of a socket with `SO_KEEPALIVE`.
    pub keepalive_idle_ms: Option<u64>,
    /// Linux's `tcp_keepalive_intvl`, in ms.
    pub keepalive_interval_ms: Option<u64>,
    /// Linux's `tcp_keepalive_probes`.
    pub keepalive_count: Option<u32>,
}

/// A socket: what a file descriptor names.
#[derive(Clone, Debug)]
pub struct Socket {
    /// Its role.
    pub kind: SocketKind,
    /// `O_NONBLOCK`.
    pub nonblock: bool,
    /// The pending error (`SO_ERROR`), as an errno name.
    pub error: Option<&'static str>,
    /// The last soft error (an ICMP error that did not end the connection), which Linux
    /// reports through `SO_ERROR` when no other error is pending, and FreeBSD does not.
    pub soft_error: Option<&'static str>,
    /// `SO_LINGER` with a zero time: CLOSE resets.
    pub linger_zero: bool,
    /// Options set on the socket, given to its connection.
    pub options: Vec<TcpOption>,
    /// `SO_RCVBUF` and `SO_SNDBUF` as set (bytes asked for), if they were.
    pub buffers: (Option<usize>, Option<usize>),
    /// The values `setsockopt` set, by option name, for `getsockopt`.
    pub values: BTreeMap<String, i64>,
    /// Whether the socket's connection has ever been established.
    pub connected: bool,
    /// Whether its connection has taken the peer's SYN (FreeBSD sizes the buffer then).
    pub synced: bool,
}

/// A socket's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketKind {
    /// Created, perhaps bound.
    Fresh {
        /// The bound port.
        port: Option<u16>,
    },
    /// Listening.
    Listening {
        /// The port.
        port: u16,
        /// The backlog.
        backlog: u32,
        /// Established connections waiting for `accept`.
        ready: VecDeque<Key>,
    },
    /// A connection's endpoint.
    Stream {
        /// The connection.
        key: Key,
        /// The peer's FIN has been read (reads return 0).
        eof: bool,
    },
}

/// What `poll()` reports of a descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Data, the peer's FIN, a pending error, or (listening) a connection to accept.
    pub readable: bool,
    /// Room in the send buffer of a connection that may send.
    pub writable: bool,
    /// An error is pending.
    pub error: bool,
    /// Both directions are closed (or the socket never connected).
    pub hangup: bool,
}

/// A connection: local port, remote port.
pub type Key = (u16, u16);

/// Who holds a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A listener, during the handshake.
    Listener(i32),
    /// A listener, established and waiting for `accept`.
    Queued(i32),
    /// A socket.
    Socket(i32),
    /// Nobody (closed by the application, still finishing).
    Orphan,
}

/// A connection and its holder.
pub struct Conn {
    /// The TCP.
    pub tcp: Connection,
    /// Its holder.
    pub owner: Owner,
}

/// The kernel.
pub struct Kernel {
    /// The clock, in µs.
    pub now_us: u64,
    /// The system being imitated.
    pub system: System,
    /// Stack settings.
    pub settings: Settings,
    /// Connections by key.
    pub conns: BTreeMap<Key, Conn>,
    /// Sockets by file descriptor.
    pub sockets: BTreeMap<i32, Socket>,
    /// Segments sent, with the time, oldest first.
    pub sent: VecDeque<(u64, Vec<u8>)>,
    /// The most recent socket created or accepted (the one `%{ }%` blocks look at).
    pub last_fd: Option<i32>,
    next_port: u16,
    isn: u32,
}

/// The port a script's `bind(…, ..., …)` binds and `connect` connects to.
pub const SCRIPT_PORT: u16 = 8080;

impl Kernel {
    /// A kernel imitating `system` at time 0.
    #[must_use]
    pub fn new(system: System) -> Self {
        Self {
            now_us: 0,
            system,
            settings: Settings {
                window_scaling: true,
                timestamps: true,
                sack: true,
                recvspace: 65536,
                sendspace: 32768,
                blackhole: 0,
                drop_synfin: false,
                delack_ms: None,
                insecure_rst: false,
                insecure_syn: false,
                mtu: None,
                window_shift: None,
                rto_slop_ms: 0,
                icmp_may_rst: true,
                keepinit_ms: 75_000,
                rfc1337: None,
                fin_wait_2_ms: None,
                keepalive_idle_ms: None,
                keepalive_interval_ms: None,
                keepalive_count: None,
            },
            conns: BTreeMap::new(),
            sockets: BTreeMap::new(),
            sent: VecDeque::new(),
            last_fd: None,
            next_port: 40_000,
            isn: 0x3a5b_7000,
        }
    }

    /// The clock in the TCP's ms.
    const fn now_ms(&self) -> u64 {
        self.now_us / 1000
    }

    fn profile(&self) -> Profile {
        match self.system {
            System::FreeBsd => Profile::Bsd,
            System::Linux => Profile::Linux,
        }
    }

    /// A new connection with the stack's settings and `extra` options.
    fn new_connection(
        &mut self,
        extra: &[TcpOption],
        (rcvbuf, sndbuf): (Option<usize>, Option<usize>),
    ) -> Connection {
        self.isn = self.isn.wrapping_add(0x0101_7c3f);
        // FreeBSD rounds a connected socket's receive buffer for its mbuf accounting: 65,536
        // bytes become 65,700, which its windows show.
        let receive = match (self.system, rcvbuf) {
            (_, Some(n)) => n,
            (System::FreeBsd, None) => self.settings.recvspace + 164,
            (System::Linux, None) => self.settings.recvspace,
        };
        let mut c = Connection::new(Config {
            initial_seq: self.isn,
            send_capacity: sndbuf.unwrap_or(self.settings.sendspace),
            receive_capacity: receive,
            headroom: 0,
        });
        for o in self.profile().options() {
            c.set_option(*o);
        }
        if !self.settings.window_scaling {
            c.set_option(TcpOption::WindowScale(false));
        }
        if !self.settings.timestamps {
            c.set_option(TcpOption::Timestamps(false));
        }
        if let Some(on) = self.settings.rfc1337 {
            c.set_option(TcpOption::IgnoreResetInTimeWait(on));
        }
        if let Some(ms) = self.settings.fin_wait_2_ms {
            c.set_option(TcpOption::FinWait2Ms(ms));
        }
        if !self.settings.sack {
            c.set_option(TcpOption::Sack(false));
        }
        c.set_option(TcpOption::RtoSlopMs(self.settings.rto_slop_ms));
        if self.system == System::FreeBsd {
            c.set_option(TcpOption::ConnectTimeoutMs(self.settings.keepinit_ms));
        }
        if let Some(shift) = self.settings.window_shift {
            c.set_option(TcpOption::WindowShift(shift));
        }
        if let Some(mtu) = self.settings.mtu {
            c.set_option(TcpOption::MaxSegment(
                u16::try_from(mtu.saturating_sub(40).max(1)).unwrap_or(u16::MAX),
            ));
        }
        c.set_option(TcpOption::InsecureReset(self.settings.insecure_rst));
        c.set_option(TcpOption::InsecureSyn(self.settings.insecure_syn));
        if let Some(ms) = self.settings.delack_ms {
            c.set_option(TcpOption::DelayedAckMs(ms));
        }
        for o in extra {
            c.set_option(*o);
        }
        c
    }

    /// The lowest free descriptor from 3.
    fn free_fd(&self) -> i32 {
        (3..).find(|fd| !self.sockets.contains_key(fd)).unwrap_or(3)
    }

    /// `socket()`: a fresh socket.
    pub fn socket(&mut self) -> i32 {
        let fd = self.free_fd();
        self.sockets.insert(
            fd,
            Socket {
                kind: SocketKind::Fresh { port: None },
                nonblock: false,
                error: None,
                soft_error: None,
                linger_zero: false,
                options: Vec::new(),
                buffers: (None, None),
                values: BTreeMap::new(),
                connected: false,
                synced: false,
            },
        );
        self.last_fd = Some(fd);
        fd
    }

    /// A segment arrives from the remote address: `segment` is TCP bytes.
    pub fn input(&mut self, segment: &[u8]) {
        if segment.len() < 20 {
            return;
        }
        let sport = u16::from_be_bytes([segment[0], segment[1]]);
        let dport = u16::from_be_bytes([segment[2], segment[3]]);
        let flags = segment[13];
        let key = (dport, sport);
        let now = self.now_ms();
        // FreeBSD's `drop_synfin` drops a segment with SYN and FIN before any TCB sees it.
        if flags & 0x03 == 0x03 && self.settings.drop_synfin {
            return;
        }
        if let Some(c) = self.conns.get_mut(&key) {
            c.tcp.input(segment, now);
            // A SYN that ended TIME-WAIT goes on to the listener (`Event::Reopen`): the old
            // connection is forgotten, and its socket, if still open, no longer names it.
            if !c.tcp.peek_events().contains(&Event::Reopen) {
                self.settle();
                return;
            }
            self.conns.remove(&key);
            for s in self.sockets.values_mut() {
                if let SocketKind::Stream { key: k, .. } = &mut s.kind
                    && *k == key
                {
                    *k = (0, 0);
                }
            }
        }
        let listener = self.sockets.iter().find_map(|(fd, s)| match &s.kind {
            SocketKind::Listening { port, .. } if *port == dport => {
                Some((*fd, s.options.clone(), s.buffers))
            }
            _ => None,
        });
        match listener {
            Some((fd, options, buffers)) => {
                let mut c = self.new_connection(&options, buffers);
                c.listen(dport);
                c.input(segment, now);
                if c.state() == State::SynReceived {
                    c.events();
                    self.conns.insert(
                        key,
                        Conn {
                            tcp: c,
                            owner: Owner::Listener(fd),
                        },
                    );
                } else {
                    self.loose(c);
                }
            }
            None => {
                let silent = match self.settings.blackhole {
                    0 => false,
                    1 => flags & 0x02 != 0,
                    _ => true,
                };
                let mut c = self.new_connection(&[], (None, None));
                c.input(segment, now);
                if !silent {
                    self.loose(c);
                }
            }
        }
        self.settle();
    }

    /// An ICMP error quoting a segment of connection `key` with sequence number `seq`: the
    /// system's policy (FreeBSD's `icmp_may_rst` as it is now) decides what is hard.
    pub fn icmp(&mut self, key: Key, error: IcmpError, seq: u32) {
        let now = self.now_ms();
        let policy = match (self.system, self.settings.icmp_may_rst) {
            (System::FreeBsd, true) => IcmpPolicy::FreeBsd,
            (System::FreeBsd, false) => IcmpPolicy::None,
            (System::Linux, _) => IcmpPolicy::Linux,
        };
        if let Some(c) = self.conns.get_mut(&key) {
            c.tcp.set_option(TcpOption::IcmpPolicy(policy));
            c.tcp.icmp(error, seq, now);
        }
        self.settle();
    }

    /// Sends what a connection that is not kept produced (a reset).
    fn loose(&mut self, mut c: Connection) {
        while let Some(s) = c.poll_transmit() {
            self.sent.push_back((self.now_us, s));
        }
    }

    /// Collects what every connection sent, hands established connections to their
    /// listeners, records errors and forgets finished connections.
    pub fn settle(&mut self) {
        let now = self.now_us;
        let keys: Vec<Key> = self.conns.keys().copied().collect();
        for key in keys {
            let Some(c) = self.conns.get_mut(&key) else {
                continue;
            };
            while let Some(s) = c.tcp.poll_transmit() {
                self.sent.push_back((now, s));
            }
            let events = c.tcp.events();
            let state = c.tcp.state();
            let owner = c.owner;
            if let Owner::Socket(fd) = owner
                && let Some(s) = self.sockets.get_mut(&fd)
            {
                s.synced |= !matches!(state, State::SynSent | State::Closed | State::Listen);
                for e in &events {
                    match e {
                        Event::Established => s.connected = true,
                        // A reset before the handshake completed refuses the connection.
                        Event::Reset if s.connected => s.error = Some("ECONNRESET"),
                        Event::Reset => s.error = Some("ECONNREFUSED"),
                        Event::TimedOut => s.error = Some("ETIMEDOUT"),
                        Event::Unreachable(e) => s.error = Some(errno(self.system, *e)),
                        Event::SoftError(e) if self.system == System::Linux => {
                            s.soft_error = Some(errno(self.system, *e));
                        }
                        _ => {}
                    }
                }
            }
            if let Owner::Listener(fd) = owner {
                match state {
                    State::SynReceived => {}
                    State::Listen | State::Closed => {
                        self.conns.remove(&key);
                        continue;
                    }
                    _ => {
                        if let Some(Socket {
                            kind: SocketKind::Listening { ready, .. },
                            ..
                        }) = self.sockets.get_mut(&fd)
                        {
                            ready.push_back(key);
                        }
                        if let Some(c) = self.conns.get_mut(&key) {
                            c.owner = Owner::Queued(fd);
                        }
                    }
                }
            }
            if owner == Owner::Orphan && state == State::Closed {
                self.conns.remove(&key);
            }
        }
    }

    /// Runs every timer due up to `until` (in µs), in order.
    pub fn advance(&mut self, until: u64) {
        loop {
            let next = self
                .conns
                .values_mut()
                .filter_map(|c| c.tcp.poll_at())
                .min()
                .map(|ms| ms * 1000);
            match next {
                Some(t) if t <= until => {
                    self.now_us = self.now_us.max(t);
                    let now = self.now_ms();
                    for c in self.conns.values_mut() {
                        if c.tcp.poll_at().is_some_and(|at| at <= now) {
                            c.tcp.poll(now);
                        }
                    }
                    self.settle();
                }
                _ => break,
            }
        }
        self.now_us = self.now_us.max(until);
    }

    /// When the next timer of any connection runs, in µs.
    pub fn next_timer_us(&mut self) -> Option<u64> {
        self.conns
            .values_mut()
            .filter_map(|c| c.tcp.poll_at())
            .min()
            .map(|ms| ms * 1000)
    }

    /// How a `connect()` on `fd` has ended: `None` while the handshake goes on.
    pub fn connect_outcome(&mut self, fd: i32) -> Option<Result<(), &'static str>> {
        let s = self.sockets.get_mut(&fd)?;
        if let Some(e) = s.error.take() {
            return Some(Err(e));
        }
        if s.connected {
            return Some(Ok(()));
        }
        let SocketKind::Stream { key, .. } = s.kind else {
            return Some(Err("EBADF"));
        };
        match self.conns.get(&key).map(|c| c.tcp.state()) {
            Some(State::SynSent | State::SynReceived) => None,
            _ => Some(Err("ECONNREFUSED")),
        }
    }

    /// `poll()`'s view of `fd`: readable, writable, error pending, hung up.
    pub fn readiness(&mut self, fd: i32) -> Option<Readiness> {
        let s = self.sockets.get(&fd)?;
        let error = s.error.is_some();
        match &s.kind {
            SocketKind::Fresh { .. } => Some(Readiness {
                hangup: true,
                writable: true,
                ..Readiness::default()
            }),
            SocketKind::Listening { ready, .. } => Some(Readiness {
                readable: !ready.is_empty(),
                error,
                ..Readiness::default()
            }),
            SocketKind::Stream { key, .. } => {
                let key = *key;
                let Some(c) = self.conns.get(&key) else {
                    return Some(Readiness {
                        readable: true,
                        error,
                        hangup: true,
                        ..Readiness::default()
                    });
                };
                let state = c.tcp.state();
                let peer_done = matches!(
                    state,
                    State::CloseWait
                        | State::LastAck
                        | State::Closing
                        | State::TimeWait
                        | State::Closed
                );
                let both_done = matches!(
                    state,
                    State::LastAck | State::Closing | State::TimeWait | State::Closed
                );
                Some(Readiness {
                    readable: c.tcp.readable() > 0 || peer_done || error,
                    writable: matches!(state, State::Established | State::CloseWait)
                        && c.tcp.send_room() > 0
                        || error,
                    error,
                    hangup: both_done,
                })
            }
        }
    }

    /// The connection of a stream socket.
    pub fn stream(&mut self, fd: i32) -> Option<(Key, &mut Conn)> {
        let SocketKind::Stream { key, .. } = self.sockets.get(&fd)?.kind else {
            return None;
        };
        self.conns.get_mut(&key).map(|c| (key, c))
    }

    /// `bind()`.
    pub fn bind(&mut self, fd: i32, port: u16) -> Result<(), &'static str> {
        match self.sockets.get_mut(&fd).map(|s| &mut s.kind) {
            Some(SocketKind::Fresh { port: p }) => {
                *p = Some(port);
                Ok(())
            }
            Some(_) => Err("EINVAL"),
            None => Err("EBADF"),
        }
    }

    /// `listen()`.
    pub fn listen(&mut self, fd: i32, backlog: u32) -> Result<(), &'static str> {
        let s = self.sockets.get_mut(&fd).ok_or("EBADF")?;
        match s.kind {
            SocketKind::Fresh { port } => {
                s.kind = SocketKind::Listening {
                    port: port.unwrap_or(SCRIPT_PORT),
                    backlog,
                    ready: VecDeque::new(),
                };
                Ok(())
            }
            SocketKind::Listening { .. } => Ok(()),
            SocketKind::Stream { .. } => Err("EINVAL"),
        }
    }

    /// `accept()`: the next established connection, as a new socket.
    pub fn accept(&mut self, fd: i32) -> Result<i32, &'static str> {
        let s = self.sockets.get_mut(&fd).ok_or("EBADF")?;
        let SocketKind::Listening { ready, .. } = &mut s.kind else {
            return Err("EINVAL");
        };
        let (options, buffers, values) = (s.options.clone(), s.buffers, s.values.clone());
        let Some(key) = ready.pop_front() else {
            return Err("EAGAIN");
        };
        let new = self.free_fd();
        self.sockets.insert(
            new,
            Socket {
                kind: SocketKind::Stream { key, eof: false },
                nonblock: false,
                error: None,
                soft_error: None,
                linger_zero: false,
                options,
                buffers,
                values,
                connected: true,
                synced: true,
            },
        );
        if let Some(c) = self.conns.get_mut(&key) {
            c.owner = Owner::Socket(new);
        }
        self.last_fd = Some(new);
        Ok(new)
    }

    /// `connect()` to the script's peer; the SYN goes at once.
    pub fn connect(&mut self, fd: i32) -> Result<(), &'static str> {
        let s = self.sockets.get(&fd).ok_or("EBADF")?;
        let local = match s.kind {
            SocketKind::Fresh { port } => port.unwrap_or_else(|| {
                self.next_port += 1;
                self.next_port
            }),
            SocketKind::Stream { .. } => return Err("EISCONN"),
            SocketKind::Listening { .. } => return Err("EINVAL"),
        };
        let (options, buffers) = (s.options.clone(), s.buffers);
        let mut c = self.new_connection(&options, buffers);
        c.connect(local, SCRIPT_PORT, self.now_ms());
        let key = (local, SCRIPT_PORT);
        self.conns.insert(
            key,
            Conn {
                tcp: c,
                owner: Owner::Socket(fd),
            },
        );
        if let Some(s) = self.sockets.get_mut(&fd) {
            s.kind = SocketKind::Stream { key, eof: false };
        }
        self.settle();
        Ok(())
    }

    /// `close()`.
    pub fn close(&mut self, fd: i32) -> Result<(), &'static str> {
        let s = self.sockets.remove(&fd).ok_or("EBADF")?;
        let now = self.now_ms();
        match s.kind {
            SocketKind::Fresh { .. } => {}
            SocketKind::Listening { ready, .. } => {
                // Connections still in the handshake go silently (a kernel's SYN cache or
                // request queue); established ones nobody accepted are reset.
                self.conns.retain(|_, c| c.owner != Owner::Listener(fd));
                let queued: Vec<Key> = self
                    .conns
                    .iter()
                    .filter(|(k, c)| c.owner == Owner::Queued(fd) || ready.contains(k))
                    .map(|(k, _)| *k)
                    .collect();
                for key in queued {
                    if let Some(mut c) = self.conns.remove(&key) {
                        c.tcp.abort();
                        self.loose(c.tcp);
                    }
                }
            }
            SocketKind::Stream { key, .. } => {
                if let Some(c) = self.conns.get_mut(&key) {
                    c.owner = Owner::Orphan;
                    if s.linger_zero {
                        c.tcp.abort();
                    } else {
                        c.tcp.close(now);
                    }
                }
            }
        }
        self.settle();
        Ok(())
    }

    /// `shutdown()`: `how` is 0 (read), 1 (write) or 2 (both).
    pub fn shutdown(&mut self, fd: i32, how: i64) -> Result<(), &'static str> {
        let now = self.now_ms();
        let (_, c) = self.stream(fd).ok_or("ENOTCONN")?;
        if how >= 1 {
            c.tcp.shutdown(now);
        }
        self.settle();
        Ok(())
    }

    /// `write()`/`send()` of `n` bytes: how many the send buffer took.
    pub fn write(&mut self, fd: i32, n: usize) -> Result<usize, &'static str> {
        let now = self.now_ms();
        let error = self.sockets.get(&fd).ok_or("EBADF")?.error;
        if let Some(e) = error {
            return Err(e);
        }
        let (_, c) = self.stream(fd).ok_or("ENOTCONN")?;
        let state = c.tcp.state();
        if !matches!(
            state,
            State::Established | State::CloseWait | State::SynSent | State::SynReceived
        ) {
            return Err("EPIPE");
        }
        let taken = c.tcp.send(&vec![b'x'; n], now);
        self.settle();
        if taken == 0 && n > 0 {
            return Err("EAGAIN");
        }
        Ok(taken)
    }

    /// `read()`/`recv()` of up to `n` bytes (`peek`: leave them).
    pub fn read(&mut self, fd: i32, n: usize, peek: bool) -> Result<usize, &'static str> {
        let now = self.now_ms();
        let s = self.sockets.get(&fd).ok_or("EBADF")?;
        if let Some(e) = s.error {
            if let Some(s) = self.sockets.get_mut(&fd) {
                s.error = None;
            }
            return Err(e);
        }
        let nonblock = s.nonblock;
        let Some((_, c)) = self.stream(fd) else {
            return Err("ENOTCONN");
        };
        let mut buf = vec![0; n];
        let got = if peek {
            c.tcp.peek(&mut buf)
        } else {
            c.tcp.recv(&mut buf, now)
        };
        let state = c.tcp.state();
        self.settle();
        if got > 0 || n == 0 {
            return Ok(got);
        }
        let peer_done = matches!(
            state,
            State::CloseWait | State::LastAck | State::Closing | State::TimeWait | State::Closed
        );
        if peer_done {
            Ok(0)
        } else if nonblock {
            Err("EAGAIN")
        } else {
            Err("EWOULDBLOCK_BLOCKING")
        }
    }

    /// The `tcp_info` of socket `fd`.
    pub fn info(&mut self, fd: i32) -> Option<TcpInfo> {
        self.stream(fd).map(|(_, c)| c.tcp.info())
    }

    /// Connections in `state` on local port `port` (any if `None`), counting listening
    /// sockets as LISTEN.
    #[must_use]
    pub fn count_state(&self, state: &str, port: Option<u16>) -> usize {
        let conns = self
            .conns
            .iter()
            .filter(|((local, _), c)| {
                port.is_none_or(|p| p == *local) && state_name(c.tcp.state()) == state
            })
            .count();
        let listeners = if state == "LISTEN" {
            self.sockets
                .values()
                .filter(|s| {
                    matches!(s.kind, SocketKind::Listening { port: p, .. } if port.is_none_or(|q| q == p))
                })
                .count()
        } else {
            0
        };
        conns + listeners
    }

    /// `tcpdrop -s STATE`: drops every connection in that state, without a segment.
    pub fn drop_state(&mut self, state: &str) {
        self.conns.retain(|_, c| state_name(c.tcp.state()) != state);
    }
}

/// A state's name as `sockstat` prints it.
#[must_use]
pub const fn state_name(s: State) -> &'static str {
    match s {
        State::Closed => "CLOSED",
        State::Listen => "LISTEN",
        State::SynSent => "SYN_SENT",
        State::SynReceived => "SYN_RCVD",
        State::Established => "ESTABLISHED",
        State::FinWait1 => "FIN_WAIT_1",
        State::FinWait2 => "FIN_WAIT_2",
        State::CloseWait => "CLOSE_WAIT",
        State::Closing => "CLOSING",
        State::LastAck => "LAST_ACK",
        State::TimeWait => "TIME_WAIT",
    }
}

/// The errno a system reports for an ICMP error (FreeBSD's `inetctlerrmap` and
/// `tcp_drop_syn_sent`, Linux's `icmp_err_convert`).
#[must_use]
pub fn errno(system: System, error: IcmpError) -> &'static str {
    match (system, error) {
        (_, IcmpError::PortUnreachable) => "ECONNREFUSED",
        (System::FreeBsd, IcmpError::ProtocolUnreachable | IcmpError::Prohibited) => "ECONNREFUSED",
        (System::Linux, IcmpError::ProtocolUnreachable) => "ENOPROTOOPT",
        (_, IcmpError::NetUnreachable) => "ENETUNREACH",
        (_, IcmpError::FragmentationNeeded) => "EMSGSIZE",
        (System::Linux, IcmpError::SourceRouteFailed) => "EOPNOTSUPP",
        (System::Linux, IcmpError::ParameterProblem) => "EPROTO",
        _ => "EHOSTUNREACH",
    }
}
