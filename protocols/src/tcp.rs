//! A TCP connection: the TCB generated from `tcp/*.pc` and the host side its extern methods
//! call (send and receive buffers, the outgoing segment queue, events).
//!
//! Segments are TCP headers plus data, without IP: the caller wraps them (and fills in the
//! checksum, which needs the IP pseudo-header) on the way out, and verifies the checksum and
//! strips IP on the way in. Each connection is one [`Connection`]; a listening connection takes
//! one SYN (the caller gives each SYN for a listening port a fresh listening connection).
//!
//! The TCP is compiled in four [`Variant`]s, each its own generated module with the same host
//! functions: [`Full`] (every layer but CUBIC, the default), [`Cubic`] (every layer: CUBIC
//! congestion control instead of Reno's), [`NoPrediction`] (without the header-prediction fast
//! path, for comparison) and [`BaseOnly`] (every optional layer left out: no timers, no
//! congestion control, …). Which one a connection runs is its type
//! parameter; the generated entry points have the same names in each (`poll__Tcp_Api`, …).

// The generated code dereferences raw pointers inside documented `unsafe` blocks, and the host
// functions below receive the raw TCB pointer the protocol passes them.
#![allow(unsafe_code)]

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;

use send_queue::SendQueue;

use prolac_runtime::checksum::{Gathered, PieceSums, SummedBytes};

#[cfg(feature = "jit")]
pub mod jit;
mod send_queue;
pub mod stack;
#[cfg(feature = "jit")]
pub use jit::Jit;
pub use stack::{Arrival, FourTuple, Stack, StackConfig, StackError};

/// One generated variant of the TCP (`$file` in `OUT_DIR`) and the host functions its extern
/// methods name.
macro_rules! generated_variant {
    ($module:ident, $file:literal) => {
        #[allow(missing_docs, unreachable_pub, clippy::all)]
        mod $module {
            use super::Host;

            /// The host side of the connection whose TCB is `tcb` (its cookie is the address of
            /// the connection's boxed [`Host`], which outlives every call into the protocol).
            fn host<'a>(tcb: *mut TcbRef) -> &'a mut Host {
                // SAFETY: the protocol only passes TCBs of live `Connection`s, whose cookie was
                // set to the address of their `Host` box; nothing else borrows that box during
                // the call.
                unsafe { &mut *((*tcb).cookie as usize as *mut Host) }
            }

            pub(crate) extern "C" fn tcp_segment_buffer(tcb: *mut TcbRef, len: u32) -> *mut u8 {
                host(tcb).segment_buffer(len as usize)
            }
            pub(crate) extern "C" fn tcp_transmit(tcb: *mut TcbRef, _seg: *mut u8, len: u32) {
                host(tcb).transmit(len as usize);
            }
            #[allow(dead_code)] // not in every variant's output path
            pub(crate) extern "C" fn tcp_split(tcb: *mut TcbRef, size: u32) {
                host(tcb).split_next = size as usize;
            }
            pub(crate) extern "C" fn tcp_send_queued(tcb: *mut TcbRef) -> u32 {
                u32::try_from(host(tcb).send_buffer.len()).unwrap_or(u32::MAX)
            }
            pub(crate) extern "C" fn tcp_send_copy(
                tcb: *mut TcbRef,
                offset: u32,
                dst: *mut u8,
                n: u32,
            ) {
                host(tcb).send_copy(offset as usize, dst, n as usize);
            }
            pub(crate) extern "C" fn tcp_send_acked(tcb: *mut TcbRef, n: u32) {
                host(tcb).send_buffer.drain(n as usize);
            }
            pub(crate) extern "C" fn tcp_receive_space(tcb: *mut TcbRef) -> u32 {
                u32::try_from(host(tcb).receive_space()).unwrap_or(u32::MAX)
            }
            #[allow(dead_code)] // the Window layer's
            pub(crate) extern "C" fn tcp_receive_capacity(tcb: *mut TcbRef) -> u32 {
                u32::try_from(host(tcb).receive_capacity).unwrap_or(u32::MAX)
            }
            pub(crate) extern "C" fn tcp_deliver(tcb: *mut TcbRef, data: *mut u8, n: u32) {
                // SAFETY: `data` points into the arriving segment, which holds `n` more bytes.
                let bytes = unsafe { core::slice::from_raw_parts(data, n as usize) };
                host(tcb).deliver(bytes);
            }
            pub(crate) extern "C" fn tcp_store_early(
                tcb: *mut TcbRef,
                offset: u32,
                data: *mut u8,
                n: u32,
            ) {
                // SAFETY: `data` points into the arriving segment, which holds `n` more bytes.
                let bytes = unsafe { core::slice::from_raw_parts(data, n as usize) };
                host(tcb).store_early(offset, bytes);
            }
            pub(crate) extern "C" fn tcp_discard_early(tcb: *mut TcbRef) {
                host(tcb).early.clear();
            }
            pub(crate) extern "C" fn tcp_reassemble(tcb: *mut TcbRef) -> u32 {
                u32::try_from(host(tcb).reassemble()).unwrap_or(u32::MAX)
            }
            pub(crate) extern "C" fn tcp_event(tcb: *mut TcbRef, kind: u32) {
                host(tcb).events.push(kind);
            }
            pub(crate) extern "C" fn tcp_initial_seq(tcb: *mut TcbRef) -> u32 {
                host(tcb).initial_seq
            }

            /// The public view of the TCP's `Tcp-Info` structure.
            pub(crate) fn public_info(i: &TcpInfo) -> super::TcpInfo {
                use super::{IcmpError, State};
                super::TcpInfo {
                    state: State::from_code(i.state),
                    snd_una: i.snd_una,
                    snd_nxt: i.snd_nxt,
                    snd_max: i.snd_max,
                    snd_wnd: i.snd_wnd,
                    snd_mss: i.snd_mss,
                    rcv_nxt: i.rcv_nxt,
                    rcv_wnd: i.rcv_wnd,
                    retransmitted: i.retransmitted,
                    rto_ms: i.rto,
                    backoff: i.backoff,
                    srtt_ms: i.srtt,
                    rttvar_ms: i.rttvar,
                    cwnd: i.cwnd,
                    ssthresh: i.ssthresh,
                    dupacks: i.dupacks,
                    in_recovery: i.in_recovery,
                    sack_ok: i.sack_ok,
                    sacked: i.sacked,
                    dsacks: i.dsacks,
                    urgent: i.urgent,
                    rcv_up: i.rcv_up,
                    window_scale: i
                        .scaling
                        .then_some((i.snd_wscale as u8, i.rcv_wscale as u8)),
                    timestamps: i.stamping,
                    soft_error: IcmpError::from_code(i.soft_error),
                }
            }

            include!(concat!(env!("OUT_DIR"), "/", $file));
        }
    };
}

generated_variant!(full, "tcp.rs");
generated_variant!(cubic, "tcp_cubic.rs");
generated_variant!(no_prediction, "tcp_no_prediction.rs");
generated_variant!(base_only, "tcp_base.rs");

mod sealed {
    pub trait Sealed {}
}

/// A compiled variant of the TCP: which of its layers are in. Implemented by [`Full`],
/// [`Cubic`], [`NoPrediction`] and [`BaseOnly`] only.
pub trait Variant: sealed::Sealed {
    /// The variant's TCB.
    #[doc(hidden)]
    type Tcb;
    /// The layers left out, for reports.
    const WITHOUT: &'static str;
    #[doc(hidden)]
    fn new_tcb(cookie: u64) -> Box<Self::Tcb>;
    #[doc(hidden)]
    fn listen(tcb: &mut Self::Tcb, port: u16);
    #[doc(hidden)]
    fn connect(tcb: &mut Self::Tcb, local: u16, remote: u16, now: u64);
    /// # Safety
    /// `bytes` points to `n` bytes, valid and unaliased for the call.
    #[doc(hidden)]
    unsafe fn input(tcb: &mut Self::Tcb, bytes: *mut u8, n: u32, now: u64);
    /// # Safety
    /// As [`Variant::input`].
    #[doc(hidden)]
    unsafe fn input_batched(tcb: &mut Self::Tcb, bytes: *mut u8, n: u32, now: u64);
    #[doc(hidden)]
    fn flush(tcb: &mut Self::Tcb, now: u64);
    #[doc(hidden)]
    fn send(tcb: &mut Self::Tcb, now: u64);
    #[doc(hidden)]
    fn read(tcb: &mut Self::Tcb, now: u64);
    #[doc(hidden)]
    fn shutdown(tcb: &mut Self::Tcb, now: u64);
    #[doc(hidden)]
    fn close(tcb: &mut Self::Tcb, now: u64);
    #[doc(hidden)]
    fn abort(tcb: &mut Self::Tcb);
    #[doc(hidden)]
    fn poll(tcb: &mut Self::Tcb, now: u64);
    #[doc(hidden)]
    fn icmp(tcb: &mut Self::Tcb, error: u32, seq: u32, now: u64);
    #[doc(hidden)]
    fn poll_at(tcb: &mut Self::Tcb) -> u64;
    #[doc(hidden)]
    fn set_option(tcb: &mut Self::Tcb, opt: u32, value: u64) -> bool;
    #[doc(hidden)]
    fn info(tcb: &mut Self::Tcb) -> TcpInfo;
    /// The base TCB's state and SND.UNA, SND.NXT, SND.WND, RCV.NXT, effective send MSS.
    #[doc(hidden)]
    fn base_fields(tcb: &Self::Tcb) -> (u8, [u32; 5]);
}

macro_rules! variant_impl {
    ($ty:ident, $module:ident, $without:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $ty;
        impl sealed::Sealed for $ty {}
        impl Variant for $ty {
            type Tcb = $module::TcpTcb;
            const WITHOUT: &'static str = $without;
            fn new_tcb(cookie: u64) -> Box<Self::Tcb> {
                let mut tcb = Box::new($module::TcpTcb::ZERO);
                tcb.cookie = cookie;
                $module::constructor__Tcp_Tcb(&mut tcb);
                tcb
            }
            fn listen(tcb: &mut Self::Tcb, port: u16) {
                $module::listen__Tcp_Api(tcb, port);
            }
            fn connect(tcb: &mut Self::Tcb, local: u16, remote: u16, now: u64) {
                $module::connect__Tcp_Api(tcb, local, remote, now);
            }
            unsafe fn input(tcb: &mut Self::Tcb, bytes: *mut u8, n: u32, now: u64) {
                // SAFETY: the caller's guarantee.
                unsafe { $module::input__Tcp_Api(tcb, bytes, n, now) };
            }
            unsafe fn input_batched(tcb: &mut Self::Tcb, bytes: *mut u8, n: u32, now: u64) {
                // SAFETY: the caller's guarantee.
                unsafe { $module::input_batched__Tcp_Api(tcb, bytes, n, now) };
            }
            fn flush(tcb: &mut Self::Tcb, now: u64) {
                $module::flush__Tcp_Api(tcb, now);
            }
            fn send(tcb: &mut Self::Tcb, now: u64) {
                $module::send__Tcp_Api(tcb, now);
            }
            fn read(tcb: &mut Self::Tcb, now: u64) {
                $module::read__Tcp_Api(tcb, now);
            }
            fn shutdown(tcb: &mut Self::Tcb, now: u64) {
                $module::shutdown__Tcp_Api(tcb, now);
            }
            fn close(tcb: &mut Self::Tcb, now: u64) {
                $module::close__Tcp_Api(tcb, now);
            }
            fn abort(tcb: &mut Self::Tcb) {
                $module::abort__Tcp_Api(tcb);
            }
            fn poll(tcb: &mut Self::Tcb, now: u64) {
                $module::poll__Tcp_Api(tcb, now);
            }
            fn icmp(tcb: &mut Self::Tcb, error: u32, seq: u32, now: u64) {
                $module::icmp__Tcp_Api(tcb, error, seq, now);
            }
            fn poll_at(tcb: &mut Self::Tcb) -> u64 {
                $module::poll_at__Tcp_Api(tcb)
            }
            fn set_option(tcb: &mut Self::Tcb, opt: u32, value: u64) -> bool {
                $module::set_option__Tcp_Api(tcb, opt, value)
            }
            fn info(tcb: &mut Self::Tcb) -> TcpInfo {
                let mut i = $module::TcpInfo::ZERO;
                $module::info__Tcp_Api(tcb, &mut i);
                $module::public_info(&i)
            }
            fn base_fields(tcb: &Self::Tcb) -> (u8, [u32; 5]) {
                let t = tcb;
                (
                    t.state,
                    [t.snd_una, t.snd_nxt, t.snd_wnd, t.rcv_nxt, t.snd_mss],
                )
            }
        }
    };
}

variant_impl!(
    Full,
    full,
    "Cubic",
    "Every layer of the TCP, with Reno's congestion avoidance (NewReno or SACK recovery)."
);
variant_impl!(
    Cubic,
    cubic,
    "",
    "Every layer of the TCP, with CUBIC congestion control (RFC 9438) in place of Reno's."
);
variant_impl!(
    NoPrediction,
    no_prediction,
    "Cubic, Header-Prediction",
    "The TCP without its header-prediction fast path (and with Reno's congestion avoidance)."
);
variant_impl!(
    BaseOnly,
    base_only,
    "Window-Scale, Window, Timers, Rtt, Timestamps, Keepalive, Delayed-Ack, Nagle, Congestion, Cubic, Fast-Recovery, \
     Sack, Sack-Recovery, Challenge-Ack, Urgent, Isn, Icmp, Header-Prediction",
    "The base TCP alone: every optional layer left out (no timers, no congestion control)."
);

/// Connection states (RFC 9293 §3.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    fn from_code(code: u8) -> State {
        match code {
            1 => State::Listen,
            2 => State::SynSent,
            3 => State::SynReceived,
            4 => State::Established,
            5 => State::FinWait1,
            6 => State::FinWait2,
            7 => State::CloseWait,
            8 => State::Closing,
            9 => State::LastAck,
            10 => State::TimeWait,
            _ => State::Closed,
        }
    }
}

/// Something the connection reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed.
    Established,
    /// The peer sent FIN: no more data will arrive.
    PeerClosed,
    /// The connection is gone.
    Closed,
    /// The peer reset the connection.
    Reset,
    /// The peer stopped answering: data stayed unacknowledged for the user timeout, or
    /// keepalive probes went unanswered. The connection is gone.
    TimedOut,
    /// The peer's urgent pointer appeared or moved on (RFC 9293 MUST-32):
    /// [`Connection::urgent_pending`] says how far the urgent data reaches.
    Urgent,
    /// A SYN above RCV.NXT arrived in TIME-WAIT and [`TcpOption::ReopenOnSyn`] is on: the
    /// connection is gone, and the host hands the same segment to the port's listener, which
    /// opens a new connection (RFC 9293 MAY-2, RFC 1122 §4.2.2.13).
    Reopen,
    /// An ICMP error about the connection that does not end it (RFC 9293 SHLD-25, MUST-56):
    /// the user may want to know, for instance to report it if the connection times out.
    SoftError(IcmpError),
    /// An ICMP error ended the connection (a hard error, SHLD-26; which errors are hard is
    /// [`TcpOption::IcmpPolicy`]). The connection is gone.
    Unreachable(IcmpError),
}

/// An ICMP error quoting a segment of a connection ([`Connection::icmp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpError {
    /// Destination Unreachable, code 0.
    NetUnreachable,
    /// Destination Unreachable, code 1.
    HostUnreachable,
    /// Destination Unreachable, code 2 (a hard error).
    ProtocolUnreachable,
    /// Destination Unreachable, code 3 (a hard error).
    PortUnreachable,
    /// Destination Unreachable, code 4: the packet needs fragmenting (path MTU discovery).
    FragmentationNeeded,
    /// Destination Unreachable, code 5.
    SourceRouteFailed,
    /// Destination Unreachable, codes 9, 10 and 13: communication administratively prohibited.
    Prohibited,
    /// Destination Unreachable, any other code.
    OtherUnreachable,
    /// Time Exceeded, code 0: the TTL ran out in transit.
    TimeExceeded,
    /// Time Exceeded, code 1: fragment reassembly timed out.
    ReassemblyTimeExceeded,
    /// Parameter Problem.
    ParameterProblem,
    /// Source Quench (deprecated, RFC 6633): always discarded (MUST-55).
    SourceQuench,
}

impl IcmpError {
    /// The error an ICMPv4 message of `kind` and `code` reports, if it is one a TCP hears
    /// (Destination Unreachable 3, Source Quench 4, Time Exceeded 11, Parameter Problem 12).
    #[must_use]
    pub const fn from_icmpv4(kind: u8, code: u8) -> Option<IcmpError> {
        Some(match (kind, code) {
            (3, 0) => IcmpError::NetUnreachable,
            (3, 1) => IcmpError::HostUnreachable,
            (3, 2) => IcmpError::ProtocolUnreachable,
            (3, 3) => IcmpError::PortUnreachable,
            (3, 4) => IcmpError::FragmentationNeeded,
            (3, 5) => IcmpError::SourceRouteFailed,
            (3, 9 | 10 | 13) => IcmpError::Prohibited,
            (3, _) => IcmpError::OtherUnreachable,
            (4, _) => IcmpError::SourceQuench,
            (11, 0) => IcmpError::TimeExceeded,
            (11, _) => IcmpError::ReassemblyTimeExceeded,
            (12, _) => IcmpError::ParameterProblem,
            _ => return None,
        })
    }

    /// The protocol's code (`Tcb.Icmp`).
    const fn code(self) -> u32 {
        match self {
            IcmpError::NetUnreachable => 1,
            IcmpError::HostUnreachable => 2,
            IcmpError::ProtocolUnreachable => 3,
            IcmpError::PortUnreachable => 4,
            IcmpError::FragmentationNeeded => 5,
            IcmpError::SourceRouteFailed => 6,
            IcmpError::Prohibited => 7,
            IcmpError::OtherUnreachable => 8,
            IcmpError::TimeExceeded => 9,
            IcmpError::ParameterProblem => 10,
            IcmpError::SourceQuench => 11,
            IcmpError::ReassemblyTimeExceeded => 12,
        }
    }

    /// The error with the protocol's code `code`.
    const fn from_code(code: u32) -> Option<IcmpError> {
        Some(match code {
            1 => IcmpError::NetUnreachable,
            2 => IcmpError::HostUnreachable,
            3 => IcmpError::ProtocolUnreachable,
            4 => IcmpError::PortUnreachable,
            5 => IcmpError::FragmentationNeeded,
            6 => IcmpError::SourceRouteFailed,
            7 => IcmpError::Prohibited,
            8 => IcmpError::OtherUnreachable,
            9 => IcmpError::TimeExceeded,
            10 => IcmpError::ParameterProblem,
            11 => IcmpError::SourceQuench,
            12 => IcmpError::ReassemblyTimeExceeded,
            _ => return None,
        })
    }
}

/// Which ICMP errors end a connection ([`TcpOption::IcmpPolicy`]; layer Icmp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpPolicy {
    /// RFC 9293's (SHLD-26): Protocol and Port Unreachable, in every state. The default.
    Rfc,
    /// None: every error is soft (FreeBSD's `icmp_may_rst=0`).
    None,
    /// Linux's: Protocol and Port Unreachable and administrative prohibition, and only before
    /// the connection is synchronized (RFC 5461 §4); afterwards they are soft.
    Linux,
    /// FreeBSD's (`icmp_may_rst=1`): Linux's, and Time Exceeded in transit too.
    FreeBsd,
}

/// Per-connection options ([`Connection::set_option`]); a variant without the layer that
/// implements one does not know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption {
    /// Turns Nagle's algorithm off (`TCP_NODELAY`; layer Nagle).
    NoDelay(bool),
    /// The longest delay of an ACK, in ms; 0 restores 200 ms (layer Delayed-Ack).
    DelayedAckMs(u64),
    /// Turns keepalive on with the default idle time of two hours (RFC 9293 MUST-28), or off
    /// unless an idle time is set (layer Keepalive).
    Keepalive(bool),
    /// Idle time before keepalive probes, in ms (turns keepalive on); 0 restores the default:
    /// off unless [`TcpOption::Keepalive`] is on.
    KeepaliveIdleMs(u64),
    /// Time between keepalive probes, in ms; 0 restores 75 s.
    KeepaliveIntervalMs(u64),
    /// Unanswered keepalive probes before the connection is dropped; 0 restores 9.
    KeepaliveCount(u32),
    /// How long data may stay unacknowledged before the connection is dropped, in ms; 0
    /// restores 5 minutes (layer Timers).
    UserTimeoutMs(u64),
    /// The lower bound of the retransmission timeout, in ms; 0 restores 1 s (layer Rtt).
    MinRtoMs(u64),
    /// The maximum segment lifetime, in ms (TIME-WAIT lasts two); 0 restores 2 minutes.
    MslMs(u64),
    /// How long FIN-WAIT-2 may last after [`Connection::close`], in ms; 0 restores 60 s.
    FinWait2Ms(u64),
    /// The initial congestion window in segments; 0 restores RFC 3390's (layer Congestion).
    InitialWindow(u32),
    /// Acknowledges every segment at once (`TCP_QUICKACK`, kept on; layer Delayed-Ack).
    QuickAck(bool),
    /// Window scaling (RFC 7323), on by default: offered when the receive buffer exceeds
    /// 65,535 bytes, accepted when the peer offers it; off neither offers nor accepts it
    /// (layer Window-Scale). Set before the connection opens.
    WindowScale(bool),
    /// Timestamps (RFC 7323 §3–5), on by default: offered in the SYN, accepted when the peer
    /// offers them; off neither offers nor accepts them (layer Timestamps). Set before the
    /// connection opens.
    Timestamps(bool),
    /// Challenge ACKs (RFC 5961) allowed per second; 0 restores 100 (layer Challenge-Ack).
    ChallengeAckLimit(u32),
    /// Selective acknowledgment (RFC 2018, RFC 6675), on by default: permitted in the SYN,
    /// accepted when the peer permits it; off neither permits nor accepts it (layers Sack and
    /// Sack-Recovery). Set before the connection opens.
    Sack(bool),
    /// The order of the SYN's options (the base's layout).
    SynLayout(SynLayout),
    /// The window shift to offer (RFC 7323 §2.3, at most 14); 0 restores the default: the
    /// smallest shift that covers the receive buffer, and no offer below 64 KiB (layer
    /// Window-Scale). Set before the connection opens.
    WindowShift(u8),
    /// The MSS to announce, and the most to send (`TCP_MAXSEG`, or the host's MTU less 40
    /// when it is not Ethernet's): 1 to 65,495; 0 restores 1460. Set before the connection
    /// opens.
    MaxSegment(u16),
    /// Takes segments without timestamps once timestamps are on (Linux's behaviour); off by
    /// default, such a segment (not a reset) is dropped silently, as RFC 7323 §3.2 says it
    /// SHOULD be (and FreeBSD does). Layer Timestamps.
    TolerateMissingTimestamps(bool),
    /// The receiver offers windows by 4.4BSD's rule (all the space there is, unless under a
    /// quarter of the buffer and under a segment; the right edge never moves back) instead of
    /// RFC 9293's (the right edge moves by a segment or half the buffer at least, MUST-39);
    /// in the BSD profile. Layer Window.
    BsdReceiveWindow(bool),
    /// Acknowledges the 16 in-order segments after data out of order at once (Linux's
    /// quick-ACK mode), on by default; off (the BSD profile) they wait for the delayed ACK's
    /// rule as any other. Layer Delayed-Ack.
    QuickAckAfterGap(bool),
    /// Acknowledges every second in-order segment whatever its size (4.4BSD: a segment that
    /// finds the delayed ACK pending is acknowledged at once), instead of every 2·MSS bytes;
    /// in the BSD profile. Layer Delayed-Ack.
    AckEverySecondSegment(bool),
    /// TIME-WAIT ignores resets (RFC 1337, against TIME-WAIT assassination), as FreeBSD does;
    /// in the BSD profile.
    IgnoreResetInTimeWait(bool),
    /// An ACK due while our FIN is unacknowledged carries the FIN again (4.4BSD's output); in
    /// the BSD profile.
    RepeatFin(bool),
    /// A reset anywhere in the window resets the connection (the rule before RFC 5961 §3;
    /// FreeBSD's `insecure_rst`); off by default: only one at RCV.NXT does, others are
    /// challenged.
    InsecureReset(bool),
    /// A SYN in the window resets the connection (RFC 793's rule; FreeBSD's `insecure_syn`);
    /// off by default: it is challenged (RFC 5961 §4).
    InsecureSyn(bool),
    /// Added to every retransmission timeout but the first SYN's, in ms (FreeBSD's
    /// `rexmit_slop`); 0 (the default) adds nothing. Layer Timers.
    RtoSlopMs(u64),
    /// Which ICMP errors end the connection (layer Icmp); [`IcmpPolicy::Rfc`] by default.
    IcmpPolicy(IcmpPolicy),
    /// A SYN above RCV.NXT in TIME-WAIT ends it so that a new connection can start
    /// ([`Event::Reopen`]; RFC 9293 MAY-2, as Linux and FreeBSD do, in their profiles); off by
    /// default: such a SYN is challenged (RFC 5961 §4).
    ReopenOnSyn(bool),
    /// The ACK field of an old duplicate segment (wholly below RCV.NXT) is processed before
    /// the segment is dropped and acknowledged, as 4.4BSD does (an ACK that ends LAST-ACK or
    /// CLOSING then goes unanswered); off by default: RFC 9293 §3.10.7.4 drops it at the
    /// first step. In the BSD profile.
    AckOfOldSegments(bool),
    /// TIME-WAIT answers by FreeBSD's rules (`tcp_twcheck`): resets and segments without ACK
    /// are dropped silently, a repeated FIN restarts the 2 MSL timer, everything but the
    /// exact final ACK is acknowledged. Off by default (RFC 9293's steps); in the BSD profile.
    BsdTimeWait(bool),
    /// How long the handshake may take, in ms, from the first SYN (FreeBSD's `TCP_KEEPINIT`,
    /// 75 s in the BSD profile); 0 (the default) leaves it to the user timeout. Layer Timers.
    ConnectTimeoutMs(u64),
    /// Segmentation offload: new data goes in segments of up to this many wire segments'
    /// worth (1 to 64; 1, the default, is off), which the host cuts
    /// ([`Connection::transmit_segment`] says where); slow start then grows the window by up
    /// to that many segments per ACK, as a receiver acknowledges an offloaded segment whole.
    Segmentation(u8),
}

/// The protocol's code for marking queued data urgent (`Tcb.Opt.urgent-mark`).
const URGENT_MARK: u32 = 19;

/// The order in which a SYN carries its options: conformance scripts written against a system
/// expect its order byte for byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynLayout {
    /// Linux's (the default): `mss, sackOK, TS, nop, wscale` (`nop, nop, sackOK` last when
    /// there are no timestamps).
    Linux,
    /// FreeBSD's: `mss, nop, wscale, sackOK, TS`, NOPs before the timestamps to align them and
    /// EOLs to a whole word.
    Bsd,
}

impl TcpOption {
    /// The protocol's option code (`Tcb.Opt` in `tcb.pc`) and value.
    fn code(self) -> (u32, u64) {
        match self {
            TcpOption::NoDelay(on) => (1, u64::from(on)),
            TcpOption::DelayedAckMs(ms) => (2, ms),
            TcpOption::KeepaliveIdleMs(ms) => (3, ms),
            TcpOption::KeepaliveIntervalMs(ms) => (4, ms),
            TcpOption::KeepaliveCount(n) => (5, u64::from(n)),
            TcpOption::UserTimeoutMs(ms) => (6, ms),
            TcpOption::MinRtoMs(ms) => (7, ms),
            TcpOption::MslMs(ms) => (8, ms),
            TcpOption::FinWait2Ms(ms) => (9, ms),
            TcpOption::InitialWindow(n) => (10, u64::from(n)),
            TcpOption::QuickAck(on) => (11, u64::from(on)),
            TcpOption::Keepalive(on) => (12, u64::from(on)),
            TcpOption::WindowScale(on) => (13, u64::from(on)),
            TcpOption::Timestamps(on) => (14, u64::from(on)),
            TcpOption::ChallengeAckLimit(n) => (15, u64::from(n)),
            TcpOption::Sack(on) => (16, u64::from(on)),
            TcpOption::SynLayout(l) => (17, u64::from(l == SynLayout::Bsd)),
            TcpOption::WindowShift(s) => (18, u64::from(s)),
            TcpOption::MaxSegment(n) => (20, u64::from(n)),
            TcpOption::TolerateMissingTimestamps(on) => (21, u64::from(on)),
            TcpOption::BsdReceiveWindow(on) => (22, u64::from(on)),
            TcpOption::QuickAckAfterGap(on) => (23, u64::from(on)),
            TcpOption::AckEverySecondSegment(on) => (24, u64::from(on)),
            TcpOption::IgnoreResetInTimeWait(on) => (25, u64::from(on)),
            TcpOption::RepeatFin(on) => (26, u64::from(on)),
            TcpOption::InsecureReset(on) => (27, u64::from(on)),
            TcpOption::InsecureSyn(on) => (28, u64::from(on)),
            TcpOption::RtoSlopMs(ms) => (29, ms),
            TcpOption::ConnectTimeoutMs(ms) => (31, ms),
            TcpOption::ReopenOnSyn(on) => (32, u64::from(on)),
            TcpOption::AckOfOldSegments(on) => (33, u64::from(on)),
            TcpOption::BsdTimeWait(on) => (34, u64::from(on)),
            TcpOption::Segmentation(n) => (35, u64::from(n)),
            TcpOption::IcmpPolicy(p) => (
                30,
                match p {
                    IcmpPolicy::Rfc => 0,
                    IcmpPolicy::None => 1,
                    IcmpPolicy::Linux => 2,
                    IcmpPolicy::FreeBsd => 3,
                },
            ),
        }
    }
}

/// Named sets of defaults for the timing options, after the systems conformance scripts are
/// written against (issue 6). A profile is a list of [`TcpOption`]s: set them on a connection
/// ([`Connection::set_option`]) or a stack ([`StackConfig::options`]), the SYN's option order
/// ([`SynLayout`]) and window shift included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// The layers' own defaults: RFC 3390's initial window, a 200 ms delayed ACK, an RTO of at
    /// least 1 s (RFC 6298 (2.4)).
    Rfc,
    /// Linux's defaults: an initial window of 10 segments (RFC 6928), a 40 ms delayed ACK, an
    /// RTO of at least 200 ms.
    Linux,
    /// FreeBSD's defaults: an initial window of 10 segments, a 100 ms delayed ACK, an RTO of
    /// at least 30 ms.
    Bsd,
}

impl Profile {
    /// The profile's options.
    #[must_use]
    pub const fn options(self) -> &'static [TcpOption] {
        match self {
            Profile::Rfc => &[
                TcpOption::InitialWindow(0),
                TcpOption::DelayedAckMs(0),
                TcpOption::MinRtoMs(0),
                TcpOption::SynLayout(SynLayout::Linux),
                TcpOption::WindowShift(0),
                TcpOption::TolerateMissingTimestamps(false),
                TcpOption::BsdReceiveWindow(false),
                TcpOption::QuickAckAfterGap(true),
                TcpOption::AckEverySecondSegment(false),
                TcpOption::IgnoreResetInTimeWait(false),
                TcpOption::RepeatFin(false),
                TcpOption::IcmpPolicy(IcmpPolicy::Rfc),
                TcpOption::ConnectTimeoutMs(0),
                TcpOption::ReopenOnSyn(false),
                TcpOption::AckOfOldSegments(false),
                TcpOption::BsdTimeWait(false),
            ],
            Profile::Linux => &[
                TcpOption::InitialWindow(10),
                TcpOption::DelayedAckMs(40),
                TcpOption::MinRtoMs(200),
                TcpOption::SynLayout(SynLayout::Linux),
                TcpOption::WindowShift(7),
                TcpOption::TolerateMissingTimestamps(true),
                TcpOption::BsdReceiveWindow(false),
                TcpOption::QuickAckAfterGap(true),
                TcpOption::AckEverySecondSegment(false),
                TcpOption::IgnoreResetInTimeWait(false),
                TcpOption::RepeatFin(false),
                TcpOption::IcmpPolicy(IcmpPolicy::Linux),
                TcpOption::ConnectTimeoutMs(0),
                TcpOption::ReopenOnSyn(true),
                TcpOption::AckOfOldSegments(false),
                TcpOption::BsdTimeWait(false),
            ],
            Profile::Bsd => &[
                TcpOption::InitialWindow(10),
                TcpOption::DelayedAckMs(100),
                TcpOption::MinRtoMs(30),
                TcpOption::SynLayout(SynLayout::Bsd),
                TcpOption::WindowShift(6),
                TcpOption::TolerateMissingTimestamps(false),
                TcpOption::BsdReceiveWindow(true),
                TcpOption::QuickAckAfterGap(false),
                TcpOption::AckEverySecondSegment(true),
                TcpOption::IgnoreResetInTimeWait(true),
                TcpOption::RepeatFin(true),
                TcpOption::IcmpPolicy(IcmpPolicy::FreeBsd),
                TcpOption::ConnectTimeoutMs(75_000),
                TcpOption::ReopenOnSyn(true),
                TcpOption::AckOfOldSegments(true),
                TcpOption::BsdTimeWait(true),
            ],
        }
    }
}

/// A read-only view of a connection (in the manner of Linux's `tcp_info`). What a layer the
/// variant lacks would keep is 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    /// The state.
    pub state: State,
    /// SND.UNA: the oldest sequence number not yet acknowledged.
    pub snd_una: u32,
    /// SND.NXT: the next sequence number to send.
    pub snd_nxt: u32,
    /// The highest sequence number sent.
    pub snd_max: u32,
    /// SND.WND: the window the peer last offered.
    pub snd_wnd: u32,
    /// The effective send MSS (RFC 9293 §3.7.1).
    pub snd_mss: u32,
    /// RCV.NXT: the next sequence number expected from the peer.
    pub rcv_nxt: u32,
    /// What is left of the window last advertised.
    pub rcv_wnd: u32,
    /// Segments sent again.
    pub retransmitted: u32,
    /// The current retransmission timeout, in ms (Timers).
    pub rto_ms: u64,
    /// Retransmission timeouts since the last new ACK (Timers).
    pub backoff: u32,
    /// The smoothed round-trip time, in ms (Rtt).
    pub srtt_ms: u64,
    /// The round-trip time variation, in ms (Rtt).
    pub rttvar_ms: u64,
    /// The congestion window, in bytes (Congestion).
    pub cwnd: u32,
    /// The slow-start threshold, in bytes (Congestion).
    pub ssthresh: u32,
    /// Duplicate ACKs counted (Fast-Recovery).
    pub dupacks: u32,
    /// Whether fast recovery is under way (Fast-Recovery).
    pub in_recovery: bool,
    /// Whether both SYNs permitted SACK (Sack).
    pub sack_ok: bool,
    /// Bytes above SND.UNA the peer reported holding (Sack-Recovery's scoreboard).
    pub sacked: u32,
    /// Duplicate segments reported to the peer as D-SACK blocks (Sack).
    pub dsacks: u32,
    /// Whether the peer has sent an urgent pointer (Urgent).
    pub urgent: bool,
    /// RCV.UP: the sequence number just after the peer's urgent data (Urgent).
    pub rcv_up: u32,
    /// The window shifts (the peer's, ours) if both SYNs carried the option (Window-Scale).
    pub window_scale: Option<(u8, u8)>,
    /// Whether both SYNs carried timestamps (Timestamps).
    pub timestamps: bool,
    /// The last soft ICMP error about the connection (Icmp).
    pub soft_error: Option<IcmpError>,
}

/// Per-connection settings.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The initial send sequence number (a host chooses it per RFC 9293 §3.4.1).
    pub initial_seq: u32,
    /// Bytes the send buffer holds.
    pub send_capacity: usize,
    /// Bytes the receive buffer holds (the largest window offered).
    pub receive_capacity: usize,
    /// Bytes left free in front of each outgoing segment, for the headers of the layers below
    /// ([`Connection::transmit_frame`]); 0 by default.
    pub headroom: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            initial_seq: 1,
            send_capacity: 64 * 1024,
            receive_capacity: 64 * 1024,
            headroom: 0,
        }
    }
}

/// A segment the TCP built, ready to send ([`Connection::transmit_summed`]).
#[derive(Debug)]
pub struct Outgoing {
    /// [`Config::headroom`] free bytes, then the segment (its checksum left zero).
    pub frame: Vec<u8>,
    /// The data size to cut it at: 0 for a segment that goes as it is (see
    /// [`Connection::transmit_segment`]).
    pub cut: usize,
    /// The one's-complement sums of the data of each wire segment it becomes, made while the
    /// data was copied in ([`PieceSums::piece`] with `cut` and the data's length); empty for
    /// a segment without data.
    pub data_sums: PieceSums,
    /// The segment's data when it stays in the application's shared buffers
    /// ([`Connection::send_shared`], with [`Connection::set_gather`] on): the frame then
    /// ends at the TCP header, and the data follows from these ranges. Empty otherwise.
    pub gathered: Gathered,
}

/// The capacity of a frame the host allocates at least: an Ethernet frame of MTU 1500 and
/// then some.
const POOLED_FRAME: usize = 2048;
/// The longest TCP header: 60 bytes.
const MAX_TCP_HEADER: usize = 60;
/// Spare frames a connection keeps at most.
const SPARE_FRAMES: usize = 64;

/// The host side of one connection.
struct Host {
    initial_seq: u32,
    send_capacity: usize,
    send_buffer: SendQueue,
    receive_capacity: usize,
    receive_buffer: VecDeque<u8>,
    /// The user closed: arriving data is acknowledged and dropped.
    discard: bool,
    /// Bytes delivered in order since the connection began.
    received: u64,
    /// Data that arrived early, by stream position.
    early: BTreeMap<u64, Vec<u8>>,
    /// Outgoing segments, each in its own frame after `headroom` bytes, with the data size
    /// the host must cut it at (0: it is one segment on the wire) and its data's sums.
    out: VecDeque<Outgoing>,
    /// The sums of the data copied into the frame being built.
    building_sums: PieceSums,
    /// Segments to cut may carry shared data by reference ([`Connection::set_gather`]).
    gather: bool,
    /// The data of the frame being built, when gathered instead of copied.
    building_gathered: Gathered,
    /// The cut size of the segment being built (`tcp_split`).
    split_next: usize,
    /// The frame being built (from `segment_buffer` to `transmit`), or a spare one.
    building: Vec<u8>,
    /// Frames the caller handed back after sending them ([`Connection::stock_buffers`]),
    /// for the next segments: no allocation per segment once the pool is stocked.
    spare: Vec<Vec<u8>>,
    headroom: usize,
    events: Vec<u32>,
}

impl Host {
    /// A buffer for the next segment: a frame of `headroom + len` bytes (the spare one if
    /// there is one), its segment part handed to the TCP.
    fn segment_buffer(&mut self, len: usize) -> *mut u8 {
        let need = self.headroom + len;
        if self.building.capacity() < need {
            self.building = match self.spare.pop() {
                Some(frame) if frame.capacity() >= need => frame,
                // Room for a full-sized frame even for a bare ACK, so that every frame the
                // caller hands back can carry any segment.
                _ => Vec::with_capacity(need.max(POOLED_FRAME)),
            };
        }
        // The headroom and the longest header start zeroed; the data is appended by
        // `send_copy` (which sums it as it copies), so the data part is never cleared first.
        // The room for it is reserved: the TCP's pointer into the frame stays valid.
        let headers = need.min(self.headroom + MAX_TCP_HEADER);
        self.building.clear();
        self.building.resize(headers, 0);
        self.building.reserve(need - headers);
        self.building_sums = PieceSums::NONE;
        self.building_gathered = Gathered::new();
        // SAFETY: `headers >= headroom`, so the offset is within the allocation.
        #[allow(unsafe_code)]
        unsafe {
            self.building.as_mut_ptr().add(self.headroom)
        }
    }

    /// The next segment's frame, for the callers that never asked for segmentation.
    fn pop_uncut(&mut self) -> Option<Vec<u8>> {
        let out = self.out.pop_front()?;
        debug_assert_eq!(
            out.cut, 0,
            "with TcpOption::Segmentation, use transmit_segment"
        );
        Some(out.frame)
    }

    /// The segment in the buffer last handed out is complete: `len` bytes.
    fn transmit(&mut self, len: usize) {
        let mut frame = core::mem::take(&mut self.building);
        let gathered = core::mem::take(&mut self.building_gathered);
        // Bytes the TCP asked for but did not write (it always copies its data) stay zero;
        // gathered data is not in the frame.
        frame.resize(self.headroom + len.saturating_sub(gathered.len()), 0);
        self.out.push_back(Outgoing {
            frame,
            cut: core::mem::take(&mut self.split_next),
            data_sums: self.building_sums,
            gathered,
        });
    }

    /// Appends `n` queued bytes from `offset` after SND.UNA to the frame being built at
    /// `dst`, the TCP's pointer into it (just after the header), summing them as they are
    /// copied (shared data: looked up), per wire segment when the segment is to be cut. With
    /// gathering on, a segment to cut whose data is all shared takes it by reference instead.
    fn send_copy(&mut self, offset: usize, dst: *mut u8, n: usize) {
        let at = (dst as usize).wrapping_sub(self.building.as_ptr() as usize);
        if at > self.building.len() {
            // Not a pointer into the frame being built: nothing sensible to copy to.
            debug_assert!(false, "send_copy outside the segment buffer");
            return;
        }
        self.building.truncate(at);
        if self.split_next > 0 && self.gather && self.gather_from(offset, n) {
            return;
        }
        self.building_sums =
            self.send_buffer
                .copy_into(offset, n, self.split_next, &mut self.building);
    }

    /// Takes the `n` queued bytes from `offset` by reference, with their sums per wire
    /// segment, if they are all shared data: whether it did.
    #[inline(never)]
    fn gather_from(&mut self, offset: usize, n: usize) -> bool {
        let Some(gathered) = self.send_buffer.gather(offset, n) else {
            return false;
        };
        self.building_sums = gathered.sums(self.split_next);
        self.building_gathered = gathered;
        true
    }

    fn receive_space(&self) -> usize {
        self.receive_capacity
            .saturating_sub(self.receive_buffer.len())
    }

    fn deliver(&mut self, bytes: &[u8]) {
        if !self.discard {
            self.receive_buffer.extend(bytes);
        }
        self.received += bytes.len() as u64;
    }

    fn store_early(&mut self, offset: u32, bytes: &[u8]) {
        let at = self.received + u64::from(offset);
        // Keep the longest run seen at each position; overlaps are resolved on reassembly.
        let keep = self
            .early
            .get(&at)
            .is_none_or(|old| old.len() < bytes.len());
        if keep {
            self.early.insert(at, bytes.to_vec());
        }
    }

    fn reassemble(&mut self) -> u64 {
        let start = self.received;
        while let Some((&at, _)) = self.early.first_key_value() {
            if at > self.received {
                break;
            }
            let Some(bytes) = self.early.remove(&at) else {
                break;
            };
            let skip = (self.received - at) as usize;
            if skip < bytes.len() {
                let room = self.receive_space();
                let new = &bytes[skip..bytes.len().min(skip + room)];
                self.deliver(new);
            }
        }
        self.received - start
    }
}

/// One TCP connection, running the TCP variant `V` ([`Full`] unless said otherwise).
pub struct Connection<V: Variant = Full> {
    tcb: Box<V::Tcb>,
    host: Box<Host>,
    /// CLOSE or SHUTDOWN was called: no more data may be queued.
    closing: bool,
}

impl Connection<Full> {
    /// A closed connection running every layer of the TCP.
    pub fn new(config: Config) -> Connection<Full> {
        Connection::with_variant(config)
    }
}

impl<V: Variant> Connection<V> {
    /// A closed connection running the variant `V`.
    pub fn with_variant(config: Config) -> Connection<V> {
        let mut host = Box::new(Host {
            initial_seq: config.initial_seq,
            send_capacity: config.send_capacity,
            send_buffer: SendQueue::default(),
            receive_capacity: config.receive_capacity,
            receive_buffer: VecDeque::new(),
            discard: false,
            received: 0,
            early: BTreeMap::new(),
            out: VecDeque::new(),
            building_sums: PieceSums::NONE,
            gather: false,
            building_gathered: Gathered::new(),
            split_next: 0,
            building: Vec::new(),
            spare: Vec::new(),
            headroom: config.headroom,
            events: Vec::new(),
        });
        let tcb = V::new_tcb(&mut *host as *mut Host as usize as u64);
        Connection {
            tcb,
            host,
            closing: false,
        }
    }

    /// OPEN, passive: wait for a SYN to `port`.
    pub fn listen(&mut self, port: u16) {
        V::listen(&mut self.tcb, port);
    }

    /// OPEN, active: send a SYN from `local` to `remote`.
    pub fn connect(&mut self, local: u16, remote: u16, now: u64) {
        V::connect(&mut self.tcb, local, remote, now);
    }

    /// A segment arrived (TCP header and data; its checksum already verified).
    pub fn input(&mut self, segment: &[u8], now: u64) {
        let n = u32::try_from(segment.len()).unwrap_or(u32::MAX);
        // SAFETY: `segment` is live and unchanged for the whole call and holds `n` bytes. The
        // protocol's parameter is a mutable pointer (Prolac has no read-only one), but it only
        // reads an arriving segment: its `Segment` and `Tcp-Header` views are read through
        // `get16`, `option-byte` and `data`, and the only writes through a `Tcp-Header` (`fill`,
        // `add-mss`) are to buffers from `segment-buffer` (tcp/output.pc). Host functions get
        // the data as a read-only slice.
        unsafe { V::input(&mut self.tcb, segment.as_ptr().cast_mut(), n, now) };
    }

    /// One of a batch of segments that arrived together: like [`Connection::input`], except
    /// that what in-order segments call for (their ACK, more data) waits for
    /// [`Connection::flush`] at the end of the batch, so that one ACK answers the batch.
    /// Segments out of order, old duplicates and handshake segments are answered at once.
    pub fn input_batched(&mut self, segment: &[u8], now: u64) {
        let n = u32::try_from(segment.len()).unwrap_or(u32::MAX);
        // SAFETY: as in `input`: the protocol only reads the segment.
        unsafe { V::input_batched(&mut self.tcb, segment.as_ptr().cast_mut(), n, now) };
    }

    /// The end of a batch of [`Connection::input_batched`] segments (and of reads with
    /// [`Connection::take_received_to`]): sends what they called for.
    pub fn flush(&mut self, now: u64) {
        V::flush(&mut self.tcb, now);
    }

    /// SEND: queues as much of `data` as the send buffer takes; returns how much.
    pub fn send(&mut self, data: &[u8], now: u64) -> usize {
        let n = self.queue(data);
        V::send(&mut self.tcb, now);
        n
    }

    /// Room in the send buffer, if data may be queued at all.
    fn open_room(&self) -> usize {
        // §3.10.2: data is accepted only until the user closes (queued before the handshake
        // completes); afterwards SEND is "connection closing" or "does not exist".
        let open = matches!(
            self.state(),
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        );
        if !open || self.closing {
            return 0;
        }
        self.host
            .send_capacity
            .saturating_sub(self.host.send_buffer.len())
    }

    /// Appends what fits of `data` to the send buffer.
    fn queue(&mut self, data: &[u8]) -> usize {
        let n = self.open_room().min(data.len());
        self.host.send_buffer.push_copied(&data[..n]);
        n
    }

    /// SEND without a copy: queues as much of `range` of `data` as the send buffer takes
    /// (a range past its end is cut at it) and returns how much. The queue holds a reference
    /// to `data` until the bytes are acknowledged; segments copy them from it, their checksums
    /// taken from its table instead of summed again — for data sent many times, such as a
    /// file served from a cache. The same stream, and the same segments, as
    /// [`send`](Self::send) of those bytes.
    pub fn send_shared(&mut self, data: &SummedBytes, range: Range<usize>, now: u64) -> usize {
        let room = self.open_room();
        let n = self.host.send_buffer.push_shared(data, range, room);
        V::send(&mut self.tcb, now);
        n
    }

    /// Whether segments to cut ([`TcpOption::Segmentation`]) whose data is all shared
    /// ([`send_shared`](Self::send_shared)) carry it by reference, in
    /// [`Outgoing::gathered`], instead of a copy in their frame: for a caller of
    /// [`transmit_summed`](Self::transmit_summed) whose device gathers the data as it writes
    /// (zero-copy sending). Off by default.
    pub fn set_gather(&mut self, on: bool) {
        self.host.gather = on;
    }

    /// SEND with the urgent flag (RFC 9293 §3.10.2): queues `data` as [`Connection::send`]
    /// does and marks everything queued so far as urgent — segments up to the mark carry URG
    /// and the urgent pointer, and go without waiting (layer Urgent; a variant without it sends
    /// the data as ordinary data).
    pub fn send_urgent(&mut self, data: &[u8], now: u64) -> usize {
        let n = self.queue(data);
        if n > 0 {
            V::set_option(&mut self.tcb, URGENT_MARK, 0);
        }
        V::send(&mut self.tcb, now);
        n
    }

    /// How many bytes, from the next one [`Connection::recv`] returns, reach up to the end of
    /// the peer's urgent data (RFC 9293 MUST-33); `None` if no urgent data is left to read
    /// (layer Urgent). The urgent data is in the stream like any other.
    #[must_use]
    pub fn urgent_pending(&mut self) -> Option<usize> {
        let i = V::info(&mut self.tcb);
        let buffered = u32::try_from(self.host.receive_buffer.len()).unwrap_or(u32::MAX);
        let read_at = i.rcv_nxt.wrapping_sub(buffered);
        let ahead = i.rcv_up.wrapping_sub(read_at);
        (i.urgent && ahead > 0 && ahead < 1 << 31).then_some(ahead as usize)
    }

    /// Copies up to `buf.len()` received bytes into `buf` without taking them (`MSG_PEEK`);
    /// returns how many.
    pub fn peek(&self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.host.receive_buffer.len());
        for (dst, src) in buf[..n].iter_mut().zip(self.host.receive_buffer.iter()) {
            *dst = *src;
        }
        n
    }

    /// RECEIVE: takes up to `buf.len()` received bytes; the window may open (a window update
    /// goes out when it is worth one).
    pub fn recv(&mut self, buf: &mut [u8], now: u64) -> usize {
        let n = buf.len().min(self.host.receive_buffer.len());
        let (front, back) = self.host.receive_buffer.as_slices();
        let from_front = n.min(front.len());
        buf[..from_front].copy_from_slice(&front[..from_front]);
        buf[from_front..n].copy_from_slice(&back[..n - from_front]);
        self.host.receive_buffer.drain(..n);
        if n > 0 {
            V::read(&mut self.tcb, now);
        }
        n
    }

    /// RECEIVE everything: all received bytes to the end of `dst`; returns how many. Into an
    /// empty `dst` with room for them nothing is copied: the connection's buffer and `dst`
    /// trade places (the connection goes on receiving in `dst`'s allocation); otherwise they
    /// are appended (one copy).
    pub fn recv_to(&mut self, dst: &mut Vec<u8>, now: u64) -> usize {
        let n = self.take_received_to(dst);
        if n > 0 {
            V::read(&mut self.tcb, now);
        }
        n
    }

    /// Like [`Connection::recv_to`], but a window update the read calls for waits for the next
    /// [`Connection::flush`] (or any other call that sends).
    pub fn take_received_to(&mut self, dst: &mut Vec<u8>) -> usize {
        let n = self.host.receive_buffer.len();
        if dst.is_empty() && dst.capacity() >= n {
            // The buffers trade places: the bytes move without a copy (a ring that has not
            // wrapped is a vector as it is), and the ring goes on in `dst`'s allocation —
            // as large as what it held, so that it does not grow again by doubling (into a
            // vector with less room, the bytes are copied and the ring keeps its own).
            let spare = core::mem::take(dst);
            *dst = Vec::from(core::mem::replace(
                &mut self.host.receive_buffer,
                VecDeque::from(spare),
            ));
            return n;
        }
        let (front, back) = self.host.receive_buffer.as_slices();
        dst.extend_from_slice(front);
        dst.extend_from_slice(back);
        self.host.receive_buffer.clear();
        n
    }

    /// SHUTDOWN (RFC 9293's CLOSE, a half-close): a FIN follows the queued data; data from the
    /// peer can still be read.
    pub fn shutdown(&mut self, now: u64) {
        self.closing = true;
        V::shutdown(&mut self.tcb, now);
    }

    /// CLOSE as sockets have it: a half-close after which nothing more will be read — data
    /// that arrives is acknowledged and dropped, and FIN-WAIT-2 is bounded in time.
    pub fn close(&mut self, now: u64) {
        self.closing = true;
        self.host.discard = true;
        self.host.receive_buffer.clear();
        V::close(&mut self.tcb, now);
    }

    /// ABORT.
    pub fn abort(&mut self) {
        V::abort(&mut self.tcb);
    }

    /// The host's clock reached `now`: runs due timers and sends what is due.
    pub fn poll(&mut self, now: u64) {
        V::poll(&mut self.tcb, now);
    }

    /// When [`Connection::poll`] should next be called, if a timer is running.
    pub fn poll_at(&mut self) -> Option<u64> {
        match V::poll_at(&mut self.tcb) {
            0 => None,
            t => Some(t),
        }
    }

    /// Sets an option; false if this variant of the TCP lacks the layer that knows it.
    pub fn set_option(&mut self, option: TcpOption) -> bool {
        let (code, value) = option.code();
        V::set_option(&mut self.tcb, code, value)
    }

    /// An ICMP error arrived quoting a segment of this connection whose sequence number was
    /// `seq` (RFC 9293 MUST-54; the caller has matched the quoted addresses and ports). The
    /// TCP ignores it unless `seq` is in flight (RFC 5927 §4.1), then ends the connection
    /// ([`Event::Unreachable`]) or reports it ([`Event::SoftError`]) by
    /// [`TcpOption::IcmpPolicy`]; Source Quench is discarded (MUST-55).
    pub fn icmp(&mut self, error: IcmpError, seq: u32, now: u64) {
        V::icmp(&mut self.tcb, error.code(), seq, now);
    }

    /// The next segment to send, if any (without the headroom; not copied when there is
    /// none).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let frame = self.host.pop_uncut()?;
        let headroom = self.host.headroom;
        Some(if headroom == 0 {
            frame
        } else {
            frame[headroom..].to_vec()
        })
    }

    /// The next segment to send in its frame: [`Config::headroom`] free bytes, then the
    /// segment. (With [`TcpOption::Segmentation`] use [`transmit_segment`](Self::transmit_segment).)
    pub fn transmit_frame(&mut self) -> Option<Vec<u8>> {
        self.host.pop_uncut()
    }

    /// The next segment to send in its frame, as [`transmit_frame`](Self::transmit_frame),
    /// and the data size to cut it at: 0 for a segment that goes as it is, or, with
    /// [`TcpOption::Segmentation`], the size of every wire segment's data but the last (the
    /// same headers on each: sequence numbers, lengths and checksums redone; PSH and FIN on
    /// the last only).
    pub fn transmit_segment(&mut self) -> Option<(Vec<u8>, usize)> {
        self.host.out.pop_front().map(|mut o| {
            // Gathered data is copied in: this frame is the whole segment.
            o.gathered.copy_to(&mut o.frame);
            (o.frame, o.cut)
        })
    }

    /// The next segment to send, as [`transmit_segment`](Self::transmit_segment), with the
    /// one's-complement sums of its data made while it was copied in: one per wire segment
    /// it is cut into (one for all of it when it is not cut). The checksum of each wire
    /// segment then needs only its pseudo header and header added
    /// ([`prolac_runtime::checksum::Checksum::add_sum`]). With [`set_gather`](Self::set_gather)
    /// on, its data may be in [`Outgoing::gathered`] instead of its frame.
    pub fn transmit_summed(&mut self) -> Option<Outgoing> {
        self.host.out.pop_front()
    }

    /// Takes frames from `pool` (sent ones, handed back) for the next segments, up to a few
    /// dozen: with a stocked pool, building a segment allocates nothing.
    pub fn stock_buffers(&mut self, pool: &mut Vec<Vec<u8>>) {
        let h = &mut *self.host;
        while h.spare.len() < SPARE_FRAMES {
            match pool.pop() {
                Some(frame) => h.spare.push(frame),
                None => break,
            }
        }
    }

    /// Hands the next segment to send to `f` (its frame is kept for the next segment); false
    /// if there was none.
    pub fn transmit_one(&mut self, f: impl FnOnce(&mut [u8])) -> bool {
        let h = &mut *self.host;
        let Some(mut frame) = h.pop_uncut() else {
            return false;
        };
        f(&mut frame[h.headroom..]);
        if h.building.capacity() < frame.capacity() {
            h.building = frame;
        }
        true
    }

    /// The events reported since the last call.
    pub fn events(&mut self) -> Vec<Event> {
        let events = self.peek_events();
        self.host.events.clear();
        events
    }

    /// The events reported since the last call to [`Connection::events`], left in place.
    #[must_use]
    pub fn peek_events(&self) -> Vec<Event> {
        self.host
            .events
            .iter()
            .filter_map(|&k| match k {
                1 => Some(Event::Established),
                2 => Some(Event::PeerClosed),
                3 => Some(Event::Closed),
                4 => Some(Event::Reset),
                5 => Some(Event::TimedOut),
                6 => Some(Event::Urgent),
                7 => Some(Event::Reopen),
                16..32 => IcmpError::from_code(k - 16).map(Event::SoftError),
                32..48 => IcmpError::from_code(k - 32).map(Event::Unreachable),
                _ => None,
            })
            .collect()
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        State::from_code(V::base_fields(&self.tcb).0)
    }

    /// A read-only view of the connection's variables.
    pub fn info(&mut self) -> TcpInfo {
        V::info(&mut self.tcb)
    }

    /// Bytes received and not yet read.
    pub fn readable(&self) -> usize {
        self.host.receive_buffer.len()
    }

    /// Bytes sent and not yet acknowledged, plus bytes not yet sent.
    pub fn send_queued(&self) -> usize {
        self.host.send_buffer.len()
    }

    /// Free room in the send buffer.
    pub fn send_room(&self) -> usize {
        self.host
            .send_capacity
            .saturating_sub(self.host.send_buffer.len())
    }

    /// SND.UNA: the oldest sequence number not yet acknowledged.
    pub fn snd_una(&self) -> u32 {
        V::base_fields(&self.tcb).1[0]
    }

    /// SND.NXT: the next sequence number to send.
    pub fn snd_nxt(&self) -> u32 {
        V::base_fields(&self.tcb).1[1]
    }

    /// SND.WND: the window the peer last offered.
    pub fn snd_wnd(&self) -> u32 {
        V::base_fields(&self.tcb).1[2]
    }

    /// RCV.NXT: the next sequence number expected from the peer.
    pub fn rcv_nxt(&self) -> u32 {
        V::base_fields(&self.tcb).1[3]
    }

    /// The effective send MSS (RFC 9293 §3.7.1).
    pub fn snd_mss(&self) -> u32 {
        V::base_fields(&self.tcb).1[4]
    }
}
