//! Shared by the `state_*` tests: segments from the peer built by hand field by field, a parsed
//! view of the segments the connection sends, and set-ups that drive one [`Connection`] into
//! each RFC 9293 state with known sequence numbers (no peer TCP involved).
//!
//! The numbers are fixed so that tests can state exact expectations: our ISS is [`ISS`], the
//! peer's is [`IRS`]; the peer offers [`PEER_WND`] and an MSS of [`PEER_MSS`]; we offer a window
//! of [`RCV_BUF`] and an MSS of 1460. Set-ups run at time 0 and leave no segments or events
//! behind.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use protocols::tcp::{Config, Connection, State, TcpOption};

/// Our port.
pub(crate) const LOCAL: u16 = 80;
/// The peer's port.
pub(crate) const REMOTE: u16 = 40000;
/// Our initial send sequence number.
pub(crate) const ISS: u32 = 1000;
/// The peer's initial sequence number.
pub(crate) const IRS: u32 = 5000;
/// Our receive buffer: the window we offer while it is empty.
pub(crate) const RCV_BUF: usize = 4096;
/// The window the peer offers.
pub(crate) const PEER_WND: u16 = 8192;
/// The MSS option in the peer's SYN.
pub(crate) const PEER_MSS: u16 = 1000;
/// The MSS option we send (our MTU less 40).
pub(crate) const OUR_MSS: u16 = 1460;
/// The initial retransmission timeout (RFC 6298 (2.1)), in ms.
pub(crate) const RTO: u64 = 1000;
/// TIME-WAIT lasts 2 MSL (RFC 9293 §3.4.2: an MSL of 2 minutes), from time 0 in these tests.
pub(crate) const TWO_MSL: u64 = 240_000;

pub(crate) const FIN: u8 = 0x01;
pub(crate) const SYN: u8 = 0x02;
pub(crate) const RST: u8 = 0x04;
pub(crate) const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;

/// A segment from the peer (REMOTE → LOCAL), built field by field.
#[derive(Clone, Debug)]
pub(crate) struct Seg {
    src: u16,
    dst: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: Vec<u8>,
    payload: Vec<u8>,
    data_offset: Option<u8>,
    urgent: u16,
}

/// A segment with `flags` (add [`ACK`] with [`Seg::ack`]), sequence number 0 and the peer's
/// usual window.
pub(crate) fn seg(flags: u8) -> Seg {
    Seg {
        src: REMOTE,
        dst: LOCAL,
        seq: 0,
        ack: 0,
        flags,
        window: PEER_WND,
        options: Vec::new(),
        payload: Vec::new(),
        data_offset: None,
        urgent: 0,
    }
}

impl Seg {
    pub(crate) fn seq(mut self, seq: u32) -> Seg {
        self.seq = seq;
        self
    }

    /// Sets the acknowledgment number and the ACK flag.
    pub(crate) fn ack(mut self, ack: u32) -> Seg {
        self.ack = ack;
        self.flags |= ACK;
        self
    }

    pub(crate) fn window(mut self, window: u16) -> Seg {
        self.window = window;
        self
    }

    pub(crate) fn ports(mut self, src: u16, dst: u16) -> Seg {
        self.src = src;
        self.dst = dst;
        self
    }

    /// Appends an MSS option.
    pub(crate) fn mss(mut self, mss: u16) -> Seg {
        let [hi, lo] = mss.to_be_bytes();
        self.options.extend_from_slice(&[2, 4, hi, lo]);
        self
    }

    /// Appends raw option bytes (padded with zeros to a word when built).
    pub(crate) fn options(mut self, bytes: &[u8]) -> Seg {
        self.options.extend_from_slice(bytes);
        self
    }

    pub(crate) fn payload(mut self, data: &[u8]) -> Seg {
        self.payload = data.to_vec();
        self
    }

    /// Sets URG and the urgent pointer.
    pub(crate) fn urgent(mut self, pointer: u16) -> Seg {
        self.flags |= 0x20;
        self.urgent = pointer;
        self
    }

    /// Overrides the data offset field (in 32-bit words), to make a bad header length.
    pub(crate) fn data_offset(mut self, words: u8) -> Seg {
        self.data_offset = Some(words);
        self
    }

    /// The segment's bytes: header, options padded to a word, payload.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut options = self.options.clone();
        while !options.len().is_multiple_of(4) {
            options.push(0);
        }
        let words = u8::try_from((20 + options.len()) / 4).expect("options fit the header");
        let mut b = Vec::with_capacity(20 + options.len() + self.payload.len());
        b.extend_from_slice(&self.src.to_be_bytes());
        b.extend_from_slice(&self.dst.to_be_bytes());
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.ack.to_be_bytes());
        b.push(self.data_offset.unwrap_or(words) << 4);
        b.push(self.flags);
        b.extend_from_slice(&self.window.to_be_bytes());
        b.extend_from_slice(&[0, 0]); // checksum (the host checks it)
        b.extend_from_slice(&self.urgent.to_be_bytes());
        b.extend_from_slice(&options);
        b.extend_from_slice(&self.payload);
        b
    }
}

/// A segment the connection sent, parsed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Out {
    pub(crate) src: u16,
    pub(crate) dst: u16,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) flags: u8,
    pub(crate) window: u16,
    pub(crate) header_len: usize,
    pub(crate) options: Vec<u8>,
    pub(crate) payload: Vec<u8>,
}

// Short enough to read in a failed assertion: the payload by its length.
impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (SYN, "SYN"),
            (ACK, "ACK"),
            (FIN, "FIN"),
            (RST, "RST"),
            (PSH, "PSH"),
        ];
        let flags: Vec<&str> = names
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, name)| *name)
            .collect();
        write!(
            f,
            "<{}→{} SEQ={} ACK={} CTL={} WND={} hlen={} len={}>",
            self.src,
            self.dst,
            self.seq,
            self.ack,
            flags.join(","),
            self.window,
            self.header_len,
            self.payload.len()
        )
    }
}

impl Out {
    pub(crate) fn parse(b: &[u8]) -> Out {
        assert!(b.len() >= 20, "a segment of {} bytes", b.len());
        let header_len = usize::from(b[12] >> 4) * 4;
        assert!(
            (20..=b.len()).contains(&header_len),
            "header length {header_len} in a {}-byte segment",
            b.len()
        );
        let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        Out {
            src: be16(0),
            dst: be16(2),
            seq: be32(4),
            ack: be32(8),
            flags: b[13],
            window: be16(14),
            header_len,
            options: b[20..header_len].to_vec(),
            payload: b[header_len..].to_vec(),
        }
    }

    /// The MSS option's value, if the segment carries one.
    pub(crate) fn mss(&self) -> Option<u16> {
        let v = self.option(2).filter(|v| v.len() == 2)?;
        Some(u16::from_be_bytes([v[0], v[1]]))
    }

    /// The value (the bytes after kind and length) of the first option of `kind`, if the
    /// segment carries one; the list is parsed as a receiver would (NOPs skipped, EOL ends it).
    pub(crate) fn option(&self, kind: u8) -> Option<&[u8]> {
        let o = &self.options;
        let mut at = 0;
        while at < o.len() {
            match o[at] {
                0 => return None,
                1 => at += 1,
                k => {
                    let len = usize::from(*o.get(at + 1)?);
                    if len < 2 || at + len > o.len() {
                        return None;
                    }
                    if k == kind {
                        return Some(&o[at + 2..at + len]);
                    }
                    at += len;
                }
            }
        }
        None
    }

    /// The kinds of the options, in order, NOP (1) and EOL (0) included.
    pub(crate) fn option_kinds(&self) -> Vec<u8> {
        let o = &self.options;
        let mut kinds = Vec::new();
        let mut at = 0;
        while at < o.len() {
            kinds.push(o[at]);
            at += match o[at] {
                0 | 1 => 1,
                _ => usize::from(o.get(at + 1).copied().unwrap_or(2)).max(2),
            };
        }
        kinds
    }

    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The sequence space the segment occupies (data, SYN, FIN).
    pub(crate) fn seq_len(&self) -> u32 {
        let n = u32::try_from(self.payload.len()).expect("small segments");
        n + u32::from(self.has(SYN)) + u32::from(self.has(FIN))
    }
}

/// A connection with our ISS and receive buffer.
/// A connection that behaves as RFC 9293 alone describes, for tests of the state machine: every
/// segment acknowledged at once, no Nagle, and a congestion window that never limits.
pub(crate) fn plain(cfg: Config) -> Connection {
    let mut c = Connection::new(cfg);
    assert!(c.set_option(TcpOption::QuickAck(true)));
    assert!(c.set_option(TcpOption::NoDelay(true)));
    assert!(c.set_option(TcpOption::InitialWindow(1000)));
    assert!(c.set_option(TcpOption::WindowScale(false)));
    assert!(c.set_option(TcpOption::Timestamps(false)));
    assert!(c.set_option(TcpOption::Sack(false)));
    c
}

pub(crate) fn config() -> Config {
    Config {
        initial_seq: ISS,
        receive_capacity: RCV_BUF,
        ..Config::default()
    }
}

/// `s` arrives at `c` at time 0.
pub(crate) fn arrive(c: &mut Connection, s: Seg) {
    c.input(&s.bytes(), 0);
}

/// `s` arrives at `c` at time `now`.
pub(crate) fn arrive_at(c: &mut Connection, s: Seg, now: u64) {
    c.input(&s.bytes(), now);
}

/// Every segment `c` has sent since the last call.
pub(crate) fn sent(c: &mut Connection) -> Vec<Out> {
    std::iter::from_fn(|| c.poll_transmit())
        .map(|b| Out::parse(&b))
        .collect()
}

/// The one segment `c` has sent.
pub(crate) fn only(c: &mut Connection) -> Out {
    let mut all = sent(c);
    assert_eq!(all.len(), 1, "exactly one segment expected: {all:?}");
    all.remove(0)
}

/// `c` has sent nothing.
pub(crate) fn silent(c: &mut Connection) {
    let all = sent(c);
    assert!(all.is_empty(), "no segment expected: {all:?}");
}

/// `o` is a bare ACK (no other flag, no data) with these numbers, from LOCAL to REMOTE.
pub(crate) fn assert_ack(o: &Out, seq: u32, ack: u32) {
    assert_eq!(o.flags, ACK, "a bare ACK: {o:?}");
    assert_eq!((o.seq, o.ack), (seq, ack), "SEQ, ACK of {o:?}");
    assert!(o.payload.is_empty(), "no data: {o:?}");
    assert_eq!((o.src, o.dst), (LOCAL, REMOTE), "ports of {o:?}");
}

/// `o` is a reset <SEQ=seq><CTL=RST> (no ACK) back to the peer.
pub(crate) fn assert_rst(o: &Out, seq: u32) {
    assert_eq!(o.flags, RST, "RST without ACK: {o:?}");
    assert_eq!(o.seq, seq, "SEQ of {o:?}");
    assert!(o.payload.is_empty(), "no data: {o:?}");
    assert_eq!((o.src, o.dst), (LOCAL, REMOTE), "ports of {o:?}");
}

/// Everything received and not yet read.
pub(crate) fn read_all(c: &mut Connection) -> Vec<u8> {
    let mut buf = vec![0; 1 << 17];
    let n = c.recv(&mut buf, 0);
    buf.truncate(n);
    buf
}

/// `n` bytes of recognisable data.
pub(crate) fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// The peer's SYN.
pub(crate) fn peer_syn() -> Seg {
    seg(SYN).seq(IRS).mss(PEER_MSS)
}

// Set-ups, one per state. Each asserts the state it reaches and drains segments and events.

fn settle(mut c: Connection, state: State) -> Connection {
    assert_eq!(c.state(), state, "set-up");
    sent(&mut c);
    c.events();
    c
}

pub(crate) fn closed() -> Connection {
    settle(plain(config()), State::Closed)
}

pub(crate) fn listen() -> Connection {
    listen_with(config())
}

pub(crate) fn listen_with(cfg: Config) -> Connection {
    let mut c = plain(cfg);
    c.listen(LOCAL);
    settle(c, State::Listen)
}

/// Active OPEN: our SYN (SEQ=ISS) is out.
pub(crate) fn syn_sent() -> Connection {
    let mut c = plain(config());
    c.connect(LOCAL, REMOTE, 0);
    settle(c, State::SynSent)
}

/// Passive OPEN and the peer's SYN: our SYN,ACK (SEQ=ISS, ACK=IRS+1) is out.
pub(crate) fn syn_received() -> Connection {
    syn_received_with(config())
}

pub(crate) fn syn_received_with(cfg: Config) -> Connection {
    let mut c = listen_with(cfg);
    arrive(&mut c, peer_syn());
    settle(c, State::SynReceived)
}

/// Simultaneous open: SYN-SENT, then the peer's SYN without an ACK.
pub(crate) fn syn_received_active() -> Connection {
    let mut c = syn_sent();
    arrive(&mut c, peer_syn());
    settle(c, State::SynReceived)
}

/// A passive open, completed: SND.NXT=ISS+1, RCV.NXT=IRS+1, SND.WND=PEER_WND, send MSS
/// PEER_MSS.
pub(crate) fn established() -> Connection {
    established_with(config())
}

pub(crate) fn established_with(cfg: Config) -> Connection {
    let mut c = syn_received_with(cfg);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1));
    settle(c, State::Established)
}

/// ESTABLISHED, then CLOSE: our FIN (SEQ=ISS+1) is out, SND.NXT=ISS+2.
pub(crate) fn fin_wait_1() -> Connection {
    let mut c = established();
    c.shutdown(0);
    settle(c, State::FinWait1)
}

/// FIN-WAIT-1, and the peer acknowledged our FIN.
pub(crate) fn fin_wait_2() -> Connection {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
    settle(c, State::FinWait2)
}

/// ESTABLISHED, and the peer's FIN (SEQ=IRS+1) arrived: RCV.NXT=IRS+2.
pub(crate) fn close_wait() -> Connection {
    let mut c = established();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1));
    settle(c, State::CloseWait)
}

/// Simultaneous close: FIN-WAIT-1, and the peer's FIN arrived before its ACK of ours.
pub(crate) fn closing() -> Connection {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1));
    settle(c, State::Closing)
}

/// CLOSE-WAIT, then CLOSE: our FIN (SEQ=ISS+1) is out.
pub(crate) fn last_ack() -> Connection {
    let mut c = close_wait();
    c.shutdown(0);
    settle(c, State::LastAck)
}

/// FIN-WAIT-2, and the peer's FIN arrived: RCV.NXT=IRS+2, SND.NXT=ISS+2.
pub(crate) fn time_wait() -> Connection {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2));
    settle(c, State::TimeWait)
}

/// Delivers every queued segment both ways until both are quiet.
pub(crate) fn exchange(a: &mut Connection, b: &mut Connection, now: u64) {
    for _ in 0..10_000 {
        let mut any = false;
        while let Some(s) = a.poll_transmit() {
            b.input(&s, now);
            any = true;
        }
        while let Some(s) = b.poll_transmit() {
            a.input(&s, now);
            any = true;
        }
        if !any {
            return;
        }
    }
    panic!("the connections do not settle");
}

// For the layer tests (`layer_*.rs`): connections with the layers' own defaults (not `plain`),
// of any variant, and helpers generic over the variant.

/// The peer's segment <SEQ=seq><ACK=ack><CTL=ACK> with the peer's usual window.
pub(crate) fn peer_ack(seq: u32, ack: u32) -> Seg {
    seg(ACK).seq(seq).ack(ack)
}

/// A passive open of variant `V` with only `options` set (every other option at the layer's
/// default): `syn` arrives at `syn_at`, the peer's ACK of our SYN,ACK at `ack_at` (so the
/// handshake is the Rtt layer's first sample, `ack_at - syn_at`). ESTABLISHED with
/// SND.NXT=ISS+1 and RCV.NXT=seq(syn)+1; segments and events are drained.
pub(crate) fn open_passive<V: protocols::tcp::Variant>(
    cfg: Config,
    options: &[TcpOption],
    syn: Seg,
    syn_at: u64,
    ack_at: u64,
) -> Connection<V> {
    let mut c = Connection::<V>::with_variant(cfg);
    for &o in options {
        assert!(c.set_option(o), "{o:?} is known");
    }
    c.listen(LOCAL);
    let irs = syn.seq;
    c.input(&syn.bytes(), syn_at);
    let syn_ack = sent_by(&mut c);
    assert_eq!(syn_ack.len(), 1, "our SYN,ACK: {syn_ack:?}");
    c.input(&peer_ack(irs + 1, ISS + 1).bytes(), ack_at);
    assert_eq!(c.state(), State::Established, "set-up");
    sent_by(&mut c);
    c.events();
    c
}

/// ESTABLISHED as [`established`] (same numbers, at time 0) but with only `options` set.
pub(crate) fn established_opts(options: &[TcpOption]) -> Connection {
    established_cfg(config(), options)
}

/// ESTABLISHED as [`established_with`] but with only `options` set.
pub(crate) fn established_cfg(cfg: Config, options: &[TcpOption]) -> Connection {
    open_passive(cfg, options, peer_syn(), 0, 0)
}

/// Every segment `c` (of any variant) has sent since the last call.
pub(crate) fn sent_by<V: protocols::tcp::Variant>(c: &mut Connection<V>) -> Vec<Out> {
    std::iter::from_fn(|| c.poll_transmit())
        .map(|b| Out::parse(&b))
        .collect()
}

/// Runs `c`'s timers up to and including `until`: polls at each time [`Connection::poll_at`]
/// names; returns what was sent, with the time it was sent.
pub(crate) fn run_timers<V: protocols::tcp::Variant>(
    c: &mut Connection<V>,
    until: u64,
) -> Vec<(u64, Out)> {
    let mut out = Vec::new();
    let mut last = None;
    while let Some(t) = c.poll_at() {
        if t > until {
            break;
        }
        assert!(
            last.is_none_or(|l| t > l),
            "the timer moves on: {t} after {last:?}"
        );
        last = Some(t);
        c.poll(t);
        out.extend(sent_by(c).into_iter().map(|o| (t, o)));
    }
    out
}

/// The (SEQ, data length) of each segment.
pub(crate) fn shape(segments: &[Out]) -> Vec<(u32, usize)> {
    segments.iter().map(|o| (o.seq, o.payload.len())).collect()
}

/// An active open of variant `V` with only `options` set: our SYN goes at time 0, the peer's
/// `syn_ack` (which should acknowledge ISS+1) arrives at `at`. ESTABLISHED with SND.NXT=ISS+1;
/// segments and events are drained.
pub(crate) fn open_active<V: protocols::tcp::Variant>(
    cfg: Config,
    options: &[TcpOption],
    syn_ack: Seg,
    at: u64,
) -> Connection<V> {
    let mut c = Connection::<V>::with_variant(cfg);
    for &o in options {
        assert!(c.set_option(o), "{o:?} is known");
    }
    c.connect(LOCAL, REMOTE, 0);
    let syn = sent_by(&mut c);
    assert_eq!(syn.len(), 1, "our SYN: {syn:?}");
    c.input(&syn_ack.bytes(), at);
    assert_eq!(c.state(), State::Established, "set-up");
    sent_by(&mut c);
    c.events();
    c
}

/// The peer's SYN,ACK for our SYN, with its usual MSS and window.
pub(crate) fn peer_syn_ack() -> Seg {
    seg(SYN).seq(IRS).ack(ISS + 1).mss(PEER_MSS)
}
