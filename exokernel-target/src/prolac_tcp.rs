//! The Prolac TCP (`protocols::tcp`) as the library-OS stack's [`TcpHandler`].
//!
//! [`ProlacTcp`] is the handler type of a `NetStack<ProlacTcp>`: either a
//! [`ProlacListener`] registered on a port, or a [`ProlacConnection`] registered under its
//! [`FourTuple`]. The Prolac TCP takes one SYN per listening connection, so the listener keeps
//! no TCB of its own: every segment that reaches it gets a fresh listening
//! [`Connection`]; if that connection accepts the segment (a SYN, now SYN-RECEIVED) it is
//! registered for the segment's four-tuple, otherwise whatever it answered (a reset to a
//! stray ACK) is sent and it is dropped.
//!
//! Segments cross the boundary as the Prolac TCP expects them: the stack has verified the
//! checksum of an arriving segment and hands over the TCP bytes; the connection's outgoing
//! segments get their checksum filled (pseudo header of the four-tuple) and are wrapped in
//! IPv4 by the stack. The stack's clock is in microseconds, the Prolac TCP's in milliseconds:
//! `now_ms = now_us / 1000`, and a timer due at `t` ms is polled at `t * 1000` µs.
//!
//! What the adapter adds to the TCP, as a host must:
//!
//! - **Reading.** By default ([`ProlacConfig::auto_read`]) arriving data is moved out of the
//!   connection into its inbox right after every call, as an application that always reads
//!   at once would, and [`ProlacConnection::take_received`] hands the inbox over
//!   ([`ProlacConnection::consume_received`] lends it, keeping its buffer). Without
//!   `auto_read` the data waits in the TCP's receive buffer (and the offered window shrinks)
//!   until [`ProlacStack::prolac_recv`]; the read that reopens the window makes the TCP send a
//!   window update (its Window layer), and its persist timer probes a zero window.
//! - **Sending without a copy.** Every connection gathers ([`Connection::set_gather`]):
//!   a large segment whose data the application handed over as shared buffers
//!   ([`ProlacStack::prolac_send_shared`]) leaves with that data by reference, for the
//!   device to write from where it is.
//! - **TIME-WAIT and cleanup.** The TCP's own TIME-WAIT timer is set to
//!   [`ProlacConfig::time_wait_us`] (an MSL of half that); a connection that reaches TIME-WAIT
//!   stays registered that long (answering what still arrives, so that a retransmitted FIN is
//!   acknowledged again), one that reaches CLOSED for [`ProlacConfig::closed_linger_us`], and
//!   is then removed. An accepted connection that a reset sends back to LISTEN (RFC 9293
//!   MUST-11) is removed at once: the listener makes a fresh TCB for every SYN anyway.
//! - **Initial sequence numbers**, drawn from a seeded generator per connection.
//!
//! The application side (open, send — copied, or shared without a copy — close, abort) is
//! [`ProlacStack`], implemented for
//! `NetStack<ProlacTcp>`: each call runs the connection and sends what it produced at once.

use core::net::Ipv4Addr;
use core::ops::Range;

use prolac_runtime::checksum::SummedBytes;
use protocols::tcp::{
    Config, Connection, Event, Full, Outgoing, State, TcpInfo, TcpOption, Variant,
};

use crate::netstack::{
    FRAME_HEADROOM, FourTuple, NetStack, SendError, TcpContext, TcpHandler, TcpSegment,
    fill_tcp_checksum_summed,
};
use crate::rng::SplitMix64;

/// Settings of the connections a listener accepts or [`ProlacStack::prolac_connect`] opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProlacConfig {
    /// Bytes the send buffer holds.
    pub send_capacity: usize,
    /// Bytes the receive buffer holds (the largest window offered; at most 65,535 is
    /// advertised, there is no window scaling).
    pub receive_capacity: usize,
    /// How long a connection in TIME-WAIT stays registered, in microseconds (2 MSL; RFC 9293
    /// suggests an MSL of 2 minutes).
    pub time_wait_us: u64,
    /// How long a CLOSED connection stays registered, in microseconds: time for the
    /// application to collect its data and events (segments that arrive meanwhile are
    /// answered by the closed TCB, with a reset).
    pub closed_linger_us: u64,
    /// The seed of the initial sequence numbers.
    pub isn_seed: u64,
    /// Whether arriving data is taken out of the TCP's receive buffer at once (see the
    /// [module documentation](self)).
    pub auto_read: bool,
    /// Whether a batch of segments that arrive together is answered at its end
    /// ([`NetStack::flush`]): one ACK for the batch instead of one per two segments, as Linux
    /// does with GRO. Segments out of order are still answered one by one.
    pub batch_acks: bool,
    /// Options set on every connection (Nagle off, delayed-ACK time, keepalive, …).
    pub options: &'static [TcpOption],
    /// Segmentation offload: the TCP builds segments of up to this many wire segments,
    /// which the device cuts ([`crate::device::FrameDevice::send_segmented`]; in software,
    /// or by the kernel for a TAP device with offloads); 1 (the default) is off, at most 64.
    pub segmentation: u8,
}

impl Default for ProlacConfig {
    fn default() -> Self {
        Self {
            send_capacity: 64 * 1024,
            receive_capacity: 64 * 1024,
            time_wait_us: 240_000_000,
            closed_linger_us: 1_000_000,
            isn_seed: 0x150_5eed,
            auto_read: true,
            batch_acks: true,
            options: &[],
            segmentation: 1,
        }
    }
}

/// What one connection has done, as seen at the adapter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Segments handed to the connection.
    pub segments_in: u64,
    /// Data bytes in the segments handed to the connection (duplicates included).
    pub data_bytes_in: u64,
    /// Segments the connection sent.
    pub segments_out: u64,
    /// Data bytes the connection sent (retransmissions included).
    pub data_bytes_out: u64,
    /// Of those, bytes sent without a copy: left in the application's shared buffers
    /// ([`ProlacStack::prolac_send_shared`]) and gathered by the device as it wrote them.
    pub gathered_bytes_out: u64,
    /// Sent segments occupying sequence space that had been sent before (a SYN, data or a
    /// FIN sent again).
    pub retransmitted_segments: u64,
    /// Data bytes in those retransmitted segments.
    pub retransmitted_bytes: u64,
    /// Resets sent.
    pub resets_out: u64,
    /// Bytes read out of the TCP's receive buffer, in order.
    pub delivered: u64,
    /// Segments the stack refused to send (too long for the MTU, a bad address): the TCP
    /// treats them as lost, so they should stay at 0.
    pub send_errors: u64,
}

/// A connection of the Prolac TCP with its host side; see the [module documentation](self).
pub struct ProlacConnection<V: Variant = Full> {
    key: FourTuple,
    config: ProlacConfig,
    tcp: Connection<V>,
    inbox: Vec<u8>,
    /// An empty list for the segments of one call, kept for its allocation.
    outgoing: Vec<Outgoing>,
    events: Vec<Event>,
    stats: ConnectionStats,
    /// The end of the highest sequence space sent so far (to recognise retransmissions).
    snd_max: Option<u32>,
    /// When the connection reached TIME-WAIT or CLOSED, in µs, and when it is removed.
    finished_at: Option<(u64, u64)>,
    /// When the handler next needs a poll, in µs.
    next_poll_us: Option<u64>,
    /// Whether a listener accepted it (it has left LISTEN once).
    accepted: bool,
    /// Segments arrived whose answers wait for the end of the batch.
    unflushed: bool,
}

impl<V: Variant> core::fmt::Debug for ProlacConnection<V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProlacConnection")
            .field("key", &self.key)
            .field("state", &self.tcp.state())
            .field("inbox", &self.inbox.len())
            .field("events", &self.events)
            .field("stats", &self.stats)
            .field("finished_at", &self.finished_at)
            .field("next_poll_us", &self.next_poll_us)
            .finish_non_exhaustive()
    }
}

/// Milliseconds of the TCP's clock at `now_us`.
const fn ms(now_us: u64) -> u64 {
    now_us / 1_000
}

/// `a` is before `b` in sequence space.
const fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// The host's part of the initial sequence number of a connection `key` of variant `V` opened
/// at `now_us` (RFC 6528, RFC 9293 §3.4.1 MUST-8, SHLD-1): a keyed function of the four-tuple,
/// the key being the host's secret `seed`. The TCP's Isn layer adds the clock that ticks every
/// 4 µs; for a variant without it, the clock is added here.
fn initial_seq<V: Variant>(seed: u64, key: &FourTuple, now_us: u64) -> u32 {
    let ports = (u64::from(key.local_port) << 16) | u64::from(key.remote_port);
    let ips = (u64::from(key.local_ip.to_bits()) << 32) | u64::from(key.remote_ip.to_bits());
    let mut rng = SplitMix64::derive(seed ^ ips, ports);
    let clock = if V::WITHOUT.contains("Isn") {
        now_us / 4
    } else {
        0
    };
    clock.wrapping_add(rng.next_u64()) as u32
}

/// What the counters need of an outgoing segment.
#[derive(Clone, Copy)]
struct SegmentCounts {
    seq: u32,
    flags: u8,
    data: usize,
    seqlen: u32,
}

/// The sequence number, flags, data length and sequence length of a segment (`None` if it is
/// shorter than a header).
fn segment_counts(segment: &[u8], gathered: usize) -> Option<SegmentCounts> {
    let header = segment.get(..20)?;
    let seq = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    let flags = header[13];
    let data = segment
        .len()
        .saturating_sub(usize::from(header[12] >> 4) * 4)
        + gathered;
    let seqlen = data as u32 + u32::from(flags & 0x02 != 0) + u32::from(flags & 0x01 != 0);
    Some(SegmentCounts {
        seq,
        flags,
        data,
        seqlen,
    })
}

impl<V: Variant> ProlacConnection<V> {
    fn new(key: FourTuple, config: ProlacConfig, initial_seq: u32) -> Self {
        let mut tcp = Connection::<V>::with_variant(Config {
            initial_seq,
            send_capacity: config.send_capacity,
            receive_capacity: config.receive_capacity,
            headroom: FRAME_HEADROOM,
        });
        // The TCP's own TIME-WAIT lasts as long as this host keeps the connection registered.
        tcp.set_option(TcpOption::MslMs((config.time_wait_us / 2000).max(1)));
        for option in config.options {
            tcp.set_option(*option);
        }
        if config.segmentation > 1 {
            tcp.set_option(TcpOption::Segmentation(config.segmentation.min(64)));
        }
        // The stack passes gathered data down to the device, which writes it from the
        // application's shared buffers (`prolac_send_shared`) without a copy.
        tcp.set_gather(true);
        Self {
            key,
            config,
            tcp,
            inbox: Vec::new(),
            outgoing: Vec::new(),
            events: Vec::new(),
            stats: ConnectionStats::default(),
            snd_max: None,
            finished_at: None,
            next_poll_us: None,
            unflushed: false,
            accepted: false,
        }
    }

    /// The connection's four-tuple, seen from this host.
    #[must_use]
    pub const fn key(&self) -> FourTuple {
        self.key
    }

    /// The TCP state.
    #[must_use]
    pub fn state(&self) -> State {
        self.tcp.state()
    }

    /// The TCP's view of itself (`tcp_info`): sequence variables, timers, congestion window,
    /// SACK and urgent state.
    #[must_use]
    pub fn info(&mut self) -> TcpInfo {
        self.tcp.info()
    }

    /// Every event the connection reported, in order.
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The counters.
    #[must_use]
    pub const fn stats(&self) -> &ConnectionStats {
        &self.stats
    }

    /// Bytes received in order and not yet read.
    #[must_use]
    pub fn readable(&self) -> usize {
        self.inbox.len() + self.tcp.readable()
    }

    /// Takes the bytes in the inbox: with [`ProlacConfig::auto_read`], everything received so
    /// far (reading does not change the offered window; see the
    /// [module documentation](self)). Without it the inbox stays empty: use
    /// [`ProlacStack::prolac_recv`].
    pub fn take_received(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.inbox)
    }

    /// Hands the bytes in the inbox to `f` where they are and empties it, keeping its buffer
    /// for the next ones: reading without a copy or an allocation, for a sink that looks at
    /// the data once. Returns how many bytes `f` was given.
    pub fn consume_received(&mut self, f: impl FnOnce(&[u8])) -> usize {
        f(&self.inbox);
        let n = self.inbox.len();
        self.inbox.clear();
        n
    }

    /// Moves the bytes in the inbox to the end of `out`, as
    /// [`take_received`](Self::take_received) gives them, without allocating: both keep
    /// their buffers.
    pub fn read_into(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.inbox);
    }

    /// Reads up to `buf.len()` received bytes: the inbox first, then the TCP's buffer.
    fn read(&mut self, buf: &mut [u8], now_us: u64) -> usize {
        let from_inbox = buf.len().min(self.inbox.len());
        buf[..from_inbox].copy_from_slice(&self.inbox[..from_inbox]);
        self.inbox.drain(..from_inbox);
        let from_tcp = self.tcp.recv(&mut buf[from_inbox..], now_us / 1000);
        self.stats.delivered += from_tcp as u64;
        from_inbox + from_tcp
    }

    /// Bytes queued for sending and not yet acknowledged.
    #[must_use]
    pub fn send_queued(&self) -> usize {
        self.tcp.send_queued()
    }

    /// Room left in the send buffer.
    #[must_use]
    pub fn send_room(&self) -> usize {
        self.config
            .send_capacity
            .saturating_sub(self.tcp.send_queued())
    }

    /// Whether a writer that keeps the send buffer full should add to it now: there is room
    /// for a third of it (the point at which the kernel wakes a socket's writer). Writing only
    /// then makes writes — and the segments they let go — come in bursts, not a few frames
    /// after each ACK (`docs/BENCHMARKS.md`: ~2 % more throughput sending over TAP).
    #[must_use]
    pub fn writable(&self) -> bool {
        self.send_room() >= self.config.send_capacity.div_ceil(3).max(1)
    }

    /// Whether the connection has reached TIME-WAIT or CLOSED.
    #[must_use]
    pub const fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }

    /// When the connection reached TIME-WAIT or CLOSED, in virtual microseconds.
    #[must_use]
    pub fn finished_at(&self) -> Option<u64> {
        self.finished_at.map(|(at, _)| at)
    }

    /// Collects what the connection produced during a call at `now_us`: reads its data and
    /// events, returns its outgoing segments with their checksums filled, re-arms its timer,
    /// and says whether the handler should now be removed.
    fn after_call(&mut self, now_us: u64, mut send: impl FnMut(Outgoing)) -> bool {
        // Read first: a read may open the window, and the update goes out with the rest (or
        // at the end of the batch, when answers wait for it).
        if self.config.auto_read {
            let n = if self.unflushed {
                self.tcp.take_received_to(&mut self.inbox)
            } else {
                self.tcp.recv_to(&mut self.inbox, now_us / 1000)
            };
            self.stats.delivered += n as u64;
        }
        let (src, dst) = (self.key.local_ip, self.key.remote_ip);
        while let Some(mut out) = self.tcp.transmit_summed() {
            let cut = out.cut;
            let segment = &mut out.frame[FRAME_HEADROOM..];
            // A segment the TCP built always has a full header and fits IPv4; a failure here
            // would leave a zero checksum, which the peer drops. A large segment's pieces get
            // theirs when it is cut. Either way the data was summed as the TCP copied it in.
            if cut == 0 {
                let _ = fill_tcp_checksum_summed(src, dst, segment, &out.data_sums);
            }
            let counts = segment_counts(segment, out.gathered.len());
            self.stats.gathered_bytes_out += out.gathered.len() as u64;
            // Counted as the wire segments it becomes (retransmissions are never cut).
            let pieces = match counts {
                Some(c) if cut > 0 => c.data.div_ceil(cut).max(1) as u64,
                _ => 1,
            };
            self.count_output(counts);
            self.stats.segments_out += pieces - 1;
            send(out);
        }
        self.events.extend(self.tcp.events());
        if self.finished_at.is_none() {
            let hold = match self.state() {
                State::TimeWait => Some(self.config.time_wait_us),
                State::Closed => Some(self.config.closed_linger_us),
                _ => None,
            };
            self.finished_at = hold.map(|hold| (now_us, now_us.saturating_add(hold)));
        }
        let expiry = self.finished_at.map(|(_, until)| until);
        let timer = self.tcp.poll_at().map(|t| t.saturating_mul(1_000));
        self.next_poll_us = [timer, expiry].into_iter().flatten().min();
        // A passive open reset in SYN-RECEIVED goes back to LISTEN (RFC 9293 MUST-11); the
        // listener makes a fresh TCB for every SYN, so the four-tuple's handler just goes.
        let back_to_listen = self.accepted && self.state() == State::Listen;
        back_to_listen || expiry.is_some_and(|t| now_us >= t)
    }

    fn count_output(&mut self, counts: Option<SegmentCounts>) {
        let Some(SegmentCounts {
            seq,
            flags,
            data,
            seqlen,
        }) = counts
        else {
            return;
        };
        self.stats.segments_out += 1;
        self.stats.data_bytes_out += data as u64;
        if flags & 0x04 != 0 {
            self.stats.resets_out += 1;
        }
        if seqlen == 0 {
            return;
        }
        let end = seq.wrapping_add(seqlen);
        match self.snd_max {
            Some(max) if seq_lt(seq, max) => {
                self.stats.retransmitted_segments += 1;
                self.stats.retransmitted_bytes += data as u64;
                if seq_lt(max, end) {
                    self.snd_max = Some(end);
                }
            }
            _ => self.snd_max = Some(end),
        }
    }

    fn input(&mut self, segment: &TcpSegment<'_>, now_us: u64) {
        self.stats.segments_in += 1;
        self.stats.data_bytes_in += segment.payload().len() as u64;
        if self.config.batch_acks {
            self.tcp.input_batched(segment.bytes(), ms(now_us));
            self.unflushed = true;
        } else {
            self.tcp.input(segment.bytes(), ms(now_us));
        }
    }
}

/// A listening port: each segment that reaches it meets a fresh listening connection.
#[derive(Clone, Debug)]
pub struct ProlacListener {
    port: u16,
    config: ProlacConfig,
    accepted: u64,
    refused: u64,
}

impl ProlacListener {
    /// The listening port.
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted (SYNs that made a connection).
    #[must_use]
    pub const fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Segments that did not make a connection (answered with a reset or dropped).
    #[must_use]
    pub const fn refused(&self) -> u64 {
        self.refused
    }

    fn segment<V: Variant>(
        &mut self,
        segment: &TcpSegment<'_>,
        ctx: &mut TcpContext<ProlacTcp<V>>,
    ) {
        let key = segment.key();
        let isn = initial_seq::<V>(self.config.isn_seed, &key, ctx.now_us());
        let mut conn = ProlacConnection::<V>::new(key, self.config, isn);
        conn.tcp.listen(self.port);
        conn.input(segment, ctx.now_us());
        let now_us = ctx.now_us();
        let mut errors = 0;
        conn.after_call(now_us, |o| {
            errors += u64::from(
                ctx.send_tcp_gathered(
                    key.local_ip,
                    key.remote_ip,
                    (o.frame, o.gathered),
                    o.cut,
                    &o.data_sums,
                )
                .is_err(),
            );
        });
        conn.stats.send_errors += errors;
        if conn.state() == State::SynReceived {
            conn.accepted = true;
            self.accepted += 1;
            ctx.register(key, ProlacTcp::Connection(Box::new(conn)));
        } else {
            self.refused += 1;
        }
    }
}

/// The stack's TCP handler: a listener or a connection of the Prolac TCP.
#[derive(Debug)]
pub enum ProlacTcp<V: Variant = Full> {
    /// Registered on a port with [`NetStack::listen`] (made by [`ProlacTcp::listener`]).
    Listener(ProlacListener),
    /// Registered under its four-tuple (by the listener, or by
    /// [`ProlacStack::prolac_connect`]).
    Connection(Box<ProlacConnection<V>>),
}

impl<V: Variant> ProlacTcp<V> {
    /// A listener on `port` whose connections have `config`.
    #[must_use]
    pub const fn listener(port: u16, config: ProlacConfig) -> Self {
        Self::Listener(ProlacListener {
            port,
            config,
            accepted: 0,
            refused: 0,
        })
    }

    /// The connection, if this is one.
    #[must_use]
    pub fn as_connection(&self) -> Option<&ProlacConnection<V>> {
        match self {
            Self::Connection(c) => Some(c),
            Self::Listener(_) => None,
        }
    }

    /// The connection, mutably, if this is one.
    pub fn as_connection_mut(&mut self) -> Option<&mut ProlacConnection<V>> {
        match self {
            Self::Connection(c) => Some(c),
            Self::Listener(_) => None,
        }
    }

    /// The listener, if this is one.
    #[must_use]
    pub const fn as_listener(&self) -> Option<&ProlacListener> {
        match self {
            Self::Listener(l) => Some(l),
            Self::Connection(_) => None,
        }
    }
}

/// Sends a connection's output through a handler context and closes the handler if asked.
fn finish_in_context<V: Variant>(
    conn: &mut ProlacConnection<V>,
    ctx: &mut TcpContext<ProlacTcp<V>>,
) {
    let (src, dst) = (conn.key.local_ip, conn.key.remote_ip);
    let now_us = ctx.now_us();
    let mut errors = 0;
    let remove = conn.after_call(now_us, |o| {
        errors += u64::from(
            ctx.send_tcp_gathered(src, dst, (o.frame, o.gathered), o.cut, &o.data_sums)
                .is_err(),
        );
    });
    conn.stats.send_errors += errors;
    if remove {
        ctx.close();
    }
}

impl<V: Variant> TcpHandler for ProlacTcp<V> {
    fn segment(&mut self, segment: &TcpSegment<'_>, ctx: &mut TcpContext<Self>) {
        match self {
            Self::Listener(listener) => listener.segment(segment, ctx),
            Self::Connection(conn) => {
                conn.tcp.stock_buffers(ctx.spare_frames());
                conn.input(segment, ctx.now_us());
                finish_in_context(conn, ctx);
            }
        }
    }

    fn icmp_error(&mut self, kind: u8, code: u8, seq: u32, ctx: &mut TcpContext<Self>) {
        if let (Self::Connection(conn), Some(error)) =
            (self, protocols::tcp::IcmpError::from_icmpv4(kind, code))
        {
            conn.tcp.icmp(error, seq, ms(ctx.now_us()));
            finish_in_context(conn, ctx);
        }
    }

    fn poll(&mut self, ctx: &mut TcpContext<Self>) {
        if let Self::Connection(conn) = self {
            conn.tcp.poll(ms(ctx.now_us()));
            finish_in_context(conn, ctx);
        }
    }

    fn poll_at(&self) -> Option<u64> {
        match self {
            Self::Connection(conn) => conn.next_poll_us,
            Self::Listener(_) => None,
        }
    }

    fn flush(&mut self, ctx: &mut TcpContext<Self>) {
        if let Self::Connection(conn) = self
            && conn.unflushed
        {
            conn.unflushed = false;
            conn.tcp.flush(ms(ctx.now_us()));
            finish_in_context(conn, ctx);
        }
    }

    fn wants_flush(&self) -> bool {
        matches!(self, Self::Connection(conn) if conn.unflushed)
    }
}

/// Why [`ProlacStack::prolac_connect`] did not open a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// A handler is already registered for the four-tuple.
    InUse(FourTuple),
    /// The stack refused the SYN.
    Send(SendError),
}

impl core::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InUse(key) => write!(f, "{key} is already in use"),
            Self::Send(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConnectError {}

/// The application's calls on a stack of Prolac TCP handlers. Each call runs the connection
/// at `now_us` and sends what it produced; a call naming no registered connection does
/// nothing (and returns `None`).
pub trait ProlacStack<V: Variant = Full> {
    /// OPEN, active: registers a connection from `local_port` to `remote` and sends its SYN.
    ///
    /// # Errors
    ///
    /// [`ConnectError::InUse`] if the four-tuple has a handler, [`ConnectError::Send`] if the
    /// stack cannot send to `remote` (nothing is registered then).
    fn prolac_connect(
        &mut self,
        local_port: u16,
        remote: (Ipv4Addr, u16),
        config: ProlacConfig,
        now_us: u64,
    ) -> Result<FourTuple, ConnectError>;

    /// SEND: queues as much of `data` as the send buffer takes; returns how much.
    fn prolac_send(&mut self, key: &FourTuple, data: &[u8], now_us: u64) -> Option<usize>;

    /// SEND without a copy into the send buffer: queues as much of `range` of `data` as the
    /// send buffer takes (a reference to it, kept until acknowledged); returns how much.
    /// Segments copy the bytes from `data` with their checksums looked up in its table
    /// ([`protocols::tcp::Connection::send_shared`]): for data sent more than once, such as
    /// a file's contents or a fixed payload.
    fn prolac_send_shared(
        &mut self,
        key: &FourTuple,
        data: &SummedBytes,
        range: Range<usize>,
        now_us: u64,
    ) -> Option<usize>;

    /// RECEIVE: takes up to `buf.len()` received bytes; returns how many.
    fn prolac_recv(&mut self, key: &FourTuple, buf: &mut [u8], now_us: u64) -> Option<usize>;

    /// CLOSE: a FIN follows the queued data.
    fn prolac_close(&mut self, key: &FourTuple, now_us: u64) -> Option<()>;

    /// ABORT: a reset if the peer knows the connection; the handler is removed.
    fn prolac_abort(&mut self, key: &FourTuple, now_us: u64) -> Option<()>;

    /// The connection registered for `key`.
    fn prolac_connection(&self, key: &FourTuple) -> Option<&ProlacConnection<V>>;

    /// The connection registered for `key`, mutably (for reading; calls that make the TCP
    /// send go through the other methods).
    fn prolac_connection_mut(&mut self, key: &FourTuple) -> Option<&mut ProlacConnection<V>>;
}

/// Queues one of `key`'s segments on the stack, with its data's sums.
fn send_now<V: Variant>(
    stack: &mut NetStack<ProlacTcp<V>>,
    key: &FourTuple,
    o: Outgoing,
    now_us: u64,
) -> Result<(), SendError> {
    stack.send_tcp_gathered(
        key.local_ip,
        key.remote_ip,
        (o.frame, o.gathered),
        o.cut,
        &o.data_sums,
        now_us,
    )
}

/// Runs `call` on the connection registered for `key` and sends what it produced.
fn with_connection<V: Variant, R>(
    stack: &mut NetStack<ProlacTcp<V>>,
    key: &FourTuple,
    now_us: u64,
    call: impl FnOnce(&mut ProlacConnection<V>) -> R,
) -> Option<R> {
    let (handler, spares) = stack.handler_and_spares_mut(key)?;
    let conn = handler.as_connection_mut()?;
    conn.tcp.stock_buffers(spares);
    let result = call(conn);
    // The connection lends its list (and its allocation) for the segments it produced.
    let mut out = std::mem::take(&mut conn.outgoing);
    let delivered = conn.stats.delivered;
    let remove = conn.after_call(now_us, |o| out.push(o));
    // Segments out after the batch came in: the TCP's output has run since and sent every
    // answer the batch deferred (its ACK and window ride on them), so the batch's flush has
    // nothing left to do for this connection — unless reading just now opened the window.
    if !out.is_empty() && conn.stats.delivered == delivered {
        conn.unflushed = false;
    }
    let mut errors = 0;
    for o in out.drain(..) {
        errors += u64::from(send_now(stack, key, o, now_us).is_err());
    }
    if let Some(conn) = stack
        .handler_mut(key)
        .and_then(ProlacTcp::as_connection_mut)
    {
        conn.stats.send_errors += errors;
        conn.outgoing = out;
    }
    if remove {
        stack.unregister(key);
    }
    Some(result)
}

impl<V: Variant> ProlacStack<V> for NetStack<ProlacTcp<V>> {
    fn prolac_connect(
        &mut self,
        local_port: u16,
        remote: (Ipv4Addr, u16),
        config: ProlacConfig,
        now_us: u64,
    ) -> Result<FourTuple, ConnectError> {
        let key = FourTuple {
            local_ip: self.ip(),
            local_port,
            remote_ip: remote.0,
            remote_port: remote.1,
        };
        if self.handler(&key).is_some() {
            return Err(ConnectError::InUse(key));
        }
        let mut conn = ProlacConnection::<V>::new(
            key,
            config,
            initial_seq::<V>(config.isn_seed, &key, now_us),
        );
        conn.tcp.connect(local_port, remote.1, ms(now_us));
        let mut out = Vec::new();
        conn.after_call(now_us, |o| out.push(o));
        for o in out {
            send_now(self, &key, o, now_us).map_err(ConnectError::Send)?;
        }
        self.register(key, ProlacTcp::Connection(Box::new(conn)));
        Ok(key)
    }

    fn prolac_send(&mut self, key: &FourTuple, data: &[u8], now_us: u64) -> Option<usize> {
        with_connection(self, key, now_us, |c| c.tcp.send(data, ms(now_us)))
    }

    fn prolac_send_shared(
        &mut self,
        key: &FourTuple,
        data: &SummedBytes,
        range: Range<usize>,
        now_us: u64,
    ) -> Option<usize> {
        with_connection(self, key, now_us, |c| {
            c.tcp.send_shared(data, range, ms(now_us))
        })
    }

    fn prolac_recv(&mut self, key: &FourTuple, buf: &mut [u8], now_us: u64) -> Option<usize> {
        with_connection(self, key, now_us, |c| c.read(buf, now_us))
    }

    fn prolac_close(&mut self, key: &FourTuple, now_us: u64) -> Option<()> {
        with_connection(self, key, now_us, |c| c.tcp.shutdown(ms(now_us)))
    }

    fn prolac_abort(&mut self, key: &FourTuple, now_us: u64) -> Option<()> {
        let result = with_connection(self, key, now_us, |c| c.tcp.abort());
        self.unregister(key);
        result
    }

    fn prolac_connection(&self, key: &FourTuple) -> Option<&ProlacConnection<V>> {
        self.handler(key)?.as_connection()
    }

    fn prolac_connection_mut(&mut self, key: &FourTuple) -> Option<&mut ProlacConnection<V>> {
        self.handler_mut(key)?.as_connection_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocols::tcp::BaseOnly;

    #[test]
    fn sequence_comparison_wraps() {
        assert!(seq_lt(1, 2));
        assert!(seq_lt(u32::MAX, 3));
        assert!(!seq_lt(3, u32::MAX));
        assert!(!seq_lt(5, 5));
    }

    #[test]
    fn initial_sequence_numbers_follow_the_clock_and_differ_by_connection_and_key() {
        let key = FourTuple {
            local_ip: Ipv4Addr::new(192, 0, 2, 2),
            local_port: 80,
            remote_ip: Ipv4Addr::new(192, 0, 2, 1),
            remote_port: 40_000,
        };
        let other = FourTuple {
            remote_port: 40_001,
            ..key
        };
        let isn = initial_seq::<BaseOnly>;
        assert_eq!(isn(1, &key, 0), isn(1, &key, 0));
        // MUST-8: without the Isn layer the host adds the clock: one every 4 µs (250 a ms).
        assert_eq!(isn(1, &key, 1_000).wrapping_sub(isn(1, &key, 0)), 250);
        // With it, the host gives the keyed part alone (the layer adds the clock).
        assert_eq!(
            initial_seq::<Full>(1, &key, 1_000),
            initial_seq::<Full>(1, &key, 0)
        );
        // SHLD-1, MUST-9: the keyed part differs by four-tuple and by key.
        assert_ne!(isn(1, &key, 0), isn(1, &other, 0));
        assert_ne!(isn(1, &key, 0), isn(2, &key, 0));
    }

    #[test]
    fn a_writer_is_told_to_write_once_a_third_of_the_send_buffer_is_free() {
        let me = Ipv4Addr::new(192, 0, 2, 2);
        let peer = Ipv4Addr::new(192, 0, 2, 1);
        let mut stack: NetStack<ProlacTcp> = NetStack::new(crate::netstack::NetConfig::new(
            smoltcp::wire::EthernetAddress([2, 0, 0, 0, 0, 2]),
            me,
        ))
        .expect("a stack");
        stack.add_arp_entry(peer, smoltcp::wire::EthernetAddress([2, 0, 0, 0, 0, 1]), 0);
        let config = ProlacConfig {
            send_capacity: 3000,
            ..ProlacConfig::default()
        };
        let key = stack
            .prolac_connect(40_000, (peer, 80), config, 0)
            .expect("SYN sent");
        let writable = |stack: &NetStack<ProlacTcp>| {
            stack
                .prolac_connection(&key)
                .expect("registered")
                .writable()
        };
        assert!(writable(&stack), "empty");
        // Queued in SYN-SENT, nothing acknowledged: room for 1,000 of 3,000 is a third.
        assert_eq!(stack.prolac_send(&key, &[7; 2000], 0), Some(2000));
        assert!(writable(&stack));
        assert_eq!(stack.prolac_send(&key, &[7; 1], 0), Some(1));
        assert!(!writable(&stack), "999 free: less than a third");
    }
}
