//! The syntax tree of a packetdrill script: options (`--name=value`), then events, each a time
//! and an action — a packet in or out (TCP or ICMP), a system call with its expected result, a
//! shell command in backticks, or a `%{ … }%` code block. Conditional lines (`#ifdef NAME` …
//! `#else` … `#endif`) stay in the tree as guards on the events; the runner picks.

/// A parsed script.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Script {
    /// `--name=value` lines, in order (a bare `--name` has the value `""`).
    pub options: Vec<(String, String)>,
    /// The events, in order.
    pub events: Vec<Event>,
}

impl Script {
    /// The value of option `name`, if set (the last setting wins).
    #[must_use]
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The events whose guards hold when exactly the names in `defined` are defined.
    pub fn active_events<'a>(&'a self, defined: &'a [&str]) -> impl Iterator<Item = &'a Event> {
        self.events.iter().filter(move |e| {
            e.guards
                .iter()
                .all(|g| defined.contains(&g.name.as_str()) == g.defined)
        })
    }
}

/// A condition an event sits under: `#ifdef name` (`defined`) or `#ifndef name` / the `#else`
/// of an `#ifdef` (not `defined`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guard {
    /// The macro name.
    pub name: String,
    /// Whether the name must be defined.
    pub defined: bool,
}

/// One line of the script (or a code block).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The 1-based line the event starts on.
    pub line: usize,
    /// When it happens.
    pub time: Time,
    /// What happens.
    pub action: Action,
    /// The `#ifdef` conditions it sits under, outermost first.
    pub guards: Vec<Guard>,
}

/// A moment in a script, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimePoint {
    /// `+t`: relative to the previous event's time.
    pub relative: bool,
    /// The time, in µs.
    pub usecs: i64,
}

/// When an event happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    /// At a time (within the script's tolerance).
    At(TimePoint),
    /// `*`: at any time.
    Any,
    /// `a~b`: at some time between a and b.
    Range(TimePoint, TimePoint),
    /// `a...b`: a system call that starts at a and returns (blocking) at b.
    Blocking(TimePoint, TimePoint),
}

/// What an event does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A packet injected (`<`) or expected (`>`).
    Packet(Packet),
    /// A system call and what it must return.
    Syscall(Syscall),
    /// A shell command (`` `…` ``), interpreted by the runner, never executed.
    Shell(String),
    /// A `%{ … }%` block (packetdrill runs it as Python over `tcp_info`).
    Code(String),
}

/// Inbound or outbound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the script sends it to the TCP.
    Inbound,
    /// `>`: the TCP must send it.
    Outbound,
}

/// A packet line.
#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    /// `<` or `>`.
    pub direction: Direction,
    /// The IP-level note in brackets (`[noecn]`, `[ect0]`, `[ce]`, …), if any.
    pub ip_note: Option<String>,
    /// The transport part.
    pub body: PacketBody,
}

/// The transport part of a packet line.
#[derive(Clone, Debug, PartialEq)]
pub enum PacketBody {
    /// A TCP segment.
    Tcp(TcpSegment),
    /// An ICMP message (`icmp TYPE [CODE] [extra…] [[seq:end(len)]]`).
    Icmp(Icmp),
    /// A UDP datagram (`udp (len)`).
    Udp(u32),
}

/// Sequence numbers as a script writes them: `start:end(len)`, or `...(len)` for any sequence
/// number (`any`; `start` and `end` are then 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqSpec {
    /// `...(len)`: any sequence number.
    pub any: bool,
    /// The first sequence number.
    pub start: u32,
    /// The sequence number after the data.
    pub end: u32,
    /// The payload length.
    pub len: u32,
}

/// A TCP segment line: `FLAGS start:end(len) [ack N] [win N] [urg N] [<options>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpSegment {
    /// The flags as written: letters of `FSRPUEWA` and `.` for ACK (`S.`, `P.`, `.`, `SEW`).
    pub flags: String,
    /// The sequence numbers (packetdrill allows them to be left out of outbound lines).
    pub seq: Option<SeqSpec>,
    /// `ack N`.
    pub ack: Option<u32>,
    /// `win N`.
    pub win: Option<u32>,
    /// `urg N`.
    pub urg: Option<u32>,
    /// The option list, if the line has one (`<>` is an empty list; `<...>` means any).
    pub options: Option<TcpOptions>,
}

impl TcpSegment {
    /// Whether flag letter `f` (one of `FSRPUEWA`; `A` also for `.`) is set.
    #[must_use]
    pub fn has(&self, f: char) -> bool {
        self.flags.contains(f) || (f == 'A' && self.flags.contains('.'))
    }
}

/// An option list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOptions {
    /// `<...>`: any options.
    Any,
    /// The options, in order.
    List(Vec<TcpOption>),
}

/// One TCP option as a script writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOption {
    /// `nop`.
    Nop,
    /// `eol`.
    Eol,
    /// `mss N`.
    Mss(u16),
    /// `wscale N`.
    WindowScale(u8),
    /// `sackOK`.
    SackPermitted,
    /// `sack L:R L:R …` (possibly none).
    Sack(Vec<(u32, u32)>),
    /// `TS val N ecr N`.
    Timestamps {
        /// TSval.
        val: u32,
        /// TSecr.
        ecr: u32,
    },
    /// `FO` / `FOEXP` (TCP Fast Open) with its cookie bytes, if any.
    FastOpen(Vec<u8>),
    /// `md5 …` or any other named option the runner does not model, with its words.
    Other(String),
}

/// An ICMP line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icmp {
    /// The type's name (`unreachable`, `time_exceeded`, `source_quench`, …).
    pub kind: String,
    /// The code's name, if given (`packet_filtered`, `port_unreachable`, …).
    pub code: Option<String>,
    /// Further words (`mtu 1200`).
    pub extra: Vec<String>,
    /// The quoted TCP sequence numbers, if given.
    pub seq: Option<SeqSpec>,
}

/// A system call line: `name(args) = result [ERRNO (text)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Syscall {
    /// The call's name.
    pub name: String,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// The expected result.
    pub result: Expr,
    /// The expected errno's name, when the result is -1.
    pub errno: Option<String>,
    /// The parenthesised note after the result (`(flags O_RDWR)`, the errno's text).
    pub note: Option<String>,
}

/// An expression in a system call.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `...`: anything (the runner supplies what the call needs).
    Ellipsis,
    /// A number (decimal, hexadecimal or negative).
    Int(i64),
    /// A string literal.
    Str(String),
    /// A name: a constant (`SOCK_STREAM`) or an errno.
    Ident(String),
    /// `A | B | …`.
    Or(Vec<Expr>),
    /// `[a, b, …]`.
    Array(Vec<Expr>),
    /// `{name=value, …}` (a bare value inside braces gets the name `""`).
    Struct(Vec<(String, Expr)>),
    /// `name(args)`: `htons(8080)`, `inet_addr("192.0.2.1")`.
    Call(String, Vec<Expr>),
}
