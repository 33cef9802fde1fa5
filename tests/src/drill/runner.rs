//! Runs a parsed script against the [`Kernel`]: events in order on the virtual clock,
//! inbound segments built and injected, outbound ones awaited within the script's tolerance and
//! compared field by field, system calls made and their results compared, shell lines and
//! `%{ }%` blocks interpreted. The first difference fails the script; anything the runner does
//! not model skips it, with the reason.

use protocols::tcp::IcmpError;

use super::ast::{
    Action, Direction, Event, Expr, Icmp, PacketBody, Script, SeqSpec, Syscall, Time, TimePoint,
};
use super::kernel::{Kernel, SCRIPT_PORT, SocketKind, System, state_name};
use super::wire::{Translation, Wire, build_inbound, describe, match_outbound, parse_outbound};

/// How a script ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every event happened as written.
    Pass,
    /// The TCP (or the kernel model) did something else: the line and what.
    Fail(String),
    /// The script needs something the runner does not model: what.
    Skip(String),
}

/// The port inbound segments come from on a passive open.
const REMOTE_PORT: u16 = 47_000;
/// The remote side's ISN (script sequence numbers of inbound segments count from it).
const REMOTE_ISN: u32 = 0x5f3c_0000;

enum Stop {
    Fail(String),
    Skip(String),
}

fn fail<T>(line: usize, msg: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Fail(format!("line {line}: {}", msg.into())))
}

fn skip<T>(line: usize, msg: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Skip(format!("line {line}: {}", msg.into())))
}

/// Runs `script` as `system` would: FreeBSD unless the script selects Linux.
#[must_use]
pub fn run(script: &Script, system: System) -> Verdict {
    let mut r = Runner {
        k: Kernel::new(system),
        tr: Translation {
            remote_isn: REMOTE_ISN,
            ..Translation::default()
        },
        tolerance_us: 4_000,
        last_time: 0,
        remote_port: REMOTE_PORT,
        local_port: SCRIPT_PORT,
        pending: None,
    };
    if let Some(t) = script.option("tolerance_usecs") {
        match t.parse() {
            Ok(t) => r.tolerance_us = t,
            Err(_) => return Verdict::Skip(format!("--tolerance_usecs={t} is not a number")),
        }
    }
    for (name, value) in &script.options {
        match name.as_str() {
            "ip_version" if value == "ipv4" => {}
            "ip_version" => return Verdict::Skip(format!("--ip_version={value}: IPv4 only")),
            "tolerance_usecs" => {}
            "mtu" => match value.parse::<u32>() {
                Ok(mtu) if (41..=65535).contains(&mtu) => r.k.settings.mtu = Some(mtu),
                _ => return Verdict::Skip(format!("--mtu={value} is not a usable MTU")),
            },
            other => return Verdict::Skip(format!("--{other}={value} is not modelled")),
        }
    }
    let defined: &[&str] = match system {
        System::FreeBsd => &["FreeBSD"],
        System::Linux => &["Linux"],
    };
    let mut result = Ok(());
    for e in script.active_events(defined) {
        result = r.event(e);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = r.finish_pending();
    }
    match result {
        Ok(()) => Verdict::Pass,
        Err(Stop::Fail(m)) => Verdict::Fail(m),
        Err(Stop::Skip(m)) => Verdict::Skip(m),
    }
}

struct Runner {
    k: Kernel,
    tr: Translation,
    tolerance_us: u64,
    last_time: u64,
    remote_port: u16,
    local_port: u16,
    /// A blocking call (`a...b`) in progress: the script goes on while it waits, as
    /// packetdrill's does in its own thread.
    pending: Option<Pending>,
}

/// A blocking system call waiting to return.
struct Pending {
    line: usize,
    call: Syscall,
    /// When the script says it returns, in µs.
    end: u64,
    what: Blocked,
}

/// What a blocking call waits for.
enum Blocked {
    /// `connect()`: the handshake's end.
    Connect(i32),
    /// `accept()`: an established connection.
    Accept(i32),
    /// `read()`/`recv()`: data, the peer's FIN or an error.
    Read { fd: i32, n: usize, peek: bool },
    /// `write()`/`send()`: room for the rest of `n` bytes.
    Write { fd: i32, n: usize, done: usize },
    /// `poll()`: a requested event, or the timeout (µs, absolute).
    Poll { deadline: Option<u64> },
}

/// The `poll()` event names the runner reports, with the systems' bits.
const POLL_NAMES: [(&str, i64); 6] = [
    ("POLLIN", 0x1),
    ("POLLPRI", 0x2),
    ("POLLOUT", 0x4),
    ("POLLERR", 0x8),
    ("POLLHUP", 0x10),
    ("POLLRDNORM", 0x40),
];

impl Runner {
    fn at(&self, p: TimePoint) -> u64 {
        let base = if p.relative { self.last_time as i64 } else { 0 };
        u64::try_from(base + p.usecs).unwrap_or(0)
    }

    fn event(&mut self, e: &Event) -> Result<(), Stop> {
        let (time, any_time) = match e.time {
            Time::At(p) => (self.at(p), false),
            Time::Any => (self.last_time, true),
            Time::Range(a, _) => (self.at(a), true),
            Time::Blocking(a, b) => {
                let start = self.at(a);
                let end = if b.relative {
                    start + u64::try_from(b.usecs).unwrap_or(0)
                } else {
                    u64::try_from(b.usecs).unwrap_or(0)
                };
                self.advance_to(start)?;
                self.no_unexpected(e.line)?;
                let Action::Syscall(s) = &e.action else {
                    return skip(e.line, "only a system call can block");
                };
                self.start_blocking(e.line, s, start, end)?;
                // Relative times after a blocking call count from its start.
                self.last_time = start;
                return Ok(());
            }
        };
        let outbound = matches!(&e.action, Action::Packet(p) if p.direction == Direction::Outbound);
        let mut time = time;
        if outbound {
            let sent_at = self.expect(e, time, any_time)?;
            // A segment at any time (`*`, `a~b`) happened when it was sent: later relative
            // times count from then, as packetdrill's do.
            if any_time {
                time = sent_at.unwrap_or(time);
            }
        } else {
            self.advance_to(time)?;
            self.no_unexpected(e.line)?;
            match &e.action {
                Action::Packet(p) => match &p.body {
                    PacketBody::Tcp(t) => {
                        if p.ip_note.as_deref().is_some_and(|n| n != "noecn") {
                            return skip(e.line, "ECN marks are not modelled");
                        }
                        let bytes = build_inbound(t, &self.tr, self.remote_port, self.local_port)
                            .or_else(|m| skip(e.line, m))?;
                        self.k.input(&bytes);
                        self.check_pending()?;
                    }
                    PacketBody::Icmp(icmp) => {
                        self.icmp(e.line, icmp)?;
                        self.check_pending()?;
                    }
                    PacketBody::Udp(_) => return skip(e.line, "UDP is not modelled"),
                },
                Action::Syscall(s) => {
                    self.syscall(e.line, s)?;
                    self.check_pending()?;
                }
                Action::Shell(cmd) => self.shell(e.line, cmd)?,
                Action::Code(code) => self.code(e.line, code)?,
            }
        }
        self.last_time = time;
        Ok(())
    }

    /// Segment aggregation: a line expecting more data than the segment sent may be met by
    /// the segments that follow it back to back — sent within the tolerance, contiguous, with
    /// the same ACK and flags but PSH and FIN (which the last one brings) — as a kernel with
    /// segmentation offload would have sent them in one.
    fn aggregate(&mut self, w: &mut Wire, want: u32, sent_at: u64) {
        const PSH_FIN: u8 = 0x09;
        while w.len < want && w.len > 0 {
            let Some((t, bytes)) = self.k.sent.front() else {
                return;
            };
            if *t > sent_at + self.tolerance_us {
                return;
            }
            let Some(next) = parse_outbound(bytes) else {
                return;
            };
            let contiguous = next.seq == w.seq.wrapping_add(w.len)
                && next.ack == w.ack
                && next.flags & !PSH_FIN == w.flags & !PSH_FIN
                && next.len > 0;
            if !contiguous {
                return;
            }
            w.len += next.len;
            w.flags |= next.flags & PSH_FIN;
            w.win = next.win;
            self.k.sent.pop_front();
        }
    }

    /// Any segment sent so far that no line expected fails the script.
    fn no_unexpected(&mut self, line: usize) -> Result<(), Stop> {
        if let Some((t, bytes)) = self.k.sent.front() {
            let what = parse_outbound(bytes)
                .map_or_else(|| "a malformed segment".into(), |w| describe(&w, &self.tr));
            return fail(
                line,
                format!(
                    "unexpected outbound segment at {:.3} s: {what}",
                    *t as f64 / 1e6
                ),
            );
        }
        Ok(())
    }

    /// An outbound line: the next segment sent must match it, in time. Returns when it was
    /// sent.
    fn expect(&mut self, e: &Event, time: u64, any_time: bool) -> Result<Option<u64>, Stop> {
        let Action::Packet(p) = &e.action else {
            return Ok(None);
        };
        let PacketBody::Tcp(t) = &p.body else {
            return skip(e.line, "only TCP segments are expected");
        };
        if p.ip_note.as_deref().is_some_and(|n| n != "noecn") {
            return skip(e.line, "ECN marks are not modelled");
        }
        let deadline = if any_time {
            time + 600_000_000
        } else {
            time + self.tolerance_us
        };
        if self.k.sent.is_empty() {
            self.advance_to_first_segment(deadline)?;
        } else {
            self.advance_to(time)?;
        }
        let Some((sent_at, bytes)) = self.k.sent.pop_front() else {
            return fail(e.line, "expected an outbound segment, none was sent");
        };
        let Some(mut w) = parse_outbound(&bytes) else {
            return fail(e.line, "the TCP sent a malformed segment");
        };
        if let Some(SeqSpec {
            any: false, len, ..
        }) = t.seq
        {
            self.aggregate(&mut w, len, sent_at);
        }
        let slack = u32::try_from(self.tolerance_us / 1000 + 2).unwrap_or(u32::MAX);
        if let Some(why) = match_outbound(t, &w, &mut self.tr, slack) {
            return fail(e.line, format!("{why}: sent {}", describe(&w, &self.tr)));
        }
        if !any_time && sent_at + self.tolerance_us < time {
            return fail(
                e.line,
                format!(
                    "sent at {:.3} s, expected at {:.3} s: {}",
                    sent_at as f64 / 1e6,
                    time as f64 / 1e6,
                    describe(&w, &self.tr)
                ),
            );
        }
        if sent_at > deadline {
            return fail(e.line, "sent too late");
        }
        Ok(Some(sent_at))
    }

    /// Runs the clock to `until`, timer by timer while a blocking call waits, so that it
    /// returns at the moment it can.
    fn advance_to(&mut self, until: u64) -> Result<(), Stop> {
        self.advance_while(until, |_| false)
    }

    /// Runs the clock towards `until`, stopping early once the TCP has sent something.
    fn advance_to_first_segment(&mut self, until: u64) -> Result<(), Stop> {
        self.advance_while(until, |k| !k.sent.is_empty())
    }

    /// Runs the clock to `until` timer by timer, checking the blocking call after each,
    /// unless `stop` says to stop (the clock then stays where it is).
    fn advance_while(&mut self, until: u64, stop: impl Fn(&Kernel) -> bool) -> Result<(), Stop> {
        for _ in 0..1_000_000 {
            let deadline = match self.pending.as_ref().map(|p| &p.what) {
                Some(Blocked::Poll { deadline }) => *deadline,
                _ => None,
            };
            let next = [self.k.next_timer_us(), deadline]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= until => {
                    self.k.advance(t.max(self.k.now_us));
                    self.check_pending()?;
                    if stop(&self.k) {
                        return Ok(());
                    }
                }
                _ => break,
            }
        }
        self.k.advance(until);
        self.check_pending()
    }

    /// Starts a blocking call at `start` that the script says returns at `end` (µs).
    fn start_blocking(
        &mut self,
        line: usize,
        s: &Syscall,
        start: u64,
        end: u64,
    ) -> Result<(), Stop> {
        if self.pending.is_some() {
            return skip(line, "two blocking calls at once are not modelled");
        }
        let fd = match s.args.first() {
            Some(Expr::Int(n)) => i32::try_from(*n).unwrap_or(-1),
            _ => -1,
        };
        let int = |i: usize| match s.args.get(i) {
            Some(Expr::Int(n)) => usize::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        let what = match s.name.as_str() {
            "connect" => {
                self.local_port = 0;
                if let Err(e) = self.k.connect(fd) {
                    return self.complete(line, s, end, Err(e));
                }
                if let Some((key, _)) = self.k.stream(fd) {
                    self.local_port = key.0;
                    self.remote_port = key.1;
                }
                Blocked::Connect(fd)
            }
            "accept" => Blocked::Accept(fd),
            "read" | "recv" => Blocked::Read {
                fd,
                n: int(2),
                peek: s.name == "recv"
                    && matches!(s.args.get(3), Some(e) if expr_mentions(e, "MSG_PEEK")),
            },
            "write" | "send" => Blocked::Write {
                fd,
                n: int(2),
                done: 0,
            },
            "poll" => {
                let timeout = match s.args.get(2) {
                    Some(Expr::Int(ms)) if *ms >= 0 => Some(start + 1000 * (*ms as u64)),
                    _ => None,
                };
                Blocked::Poll { deadline: timeout }
            }
            other => return skip(line, format!("a blocking {other} is not modelled")),
        };
        self.pending = Some(Pending {
            line,
            call: s.clone(),
            end,
            what,
        });
        self.check_pending()
    }

    /// Returns the blocking call if it can return now.
    fn check_pending(&mut self) -> Result<(), Stop> {
        let Some(mut p) = self.pending.take() else {
            return Ok(());
        };
        let outcome = match &mut p.what {
            Blocked::Connect(fd) => self.k.connect_outcome(*fd).map(|r| r.map(|()| 0)),
            Blocked::Accept(fd) => match self.k.accept(*fd) {
                Err("EAGAIN") => None,
                r => Some(r.map(i64::from)),
            },
            Blocked::Read { fd, n, peek } => match self.k.read(*fd, *n, *peek) {
                Err("EWOULDBLOCK_BLOCKING") => None,
                r => Some(r.map(|n| i64::try_from(n).unwrap_or(i64::MAX))),
            },
            Blocked::Write { fd, n, done } => match self.k.write(*fd, *n - *done) {
                Ok(k) if *done + k >= *n => Some(Ok(i64::try_from(*n).unwrap_or(i64::MAX))),
                Ok(k) => {
                    *done += k;
                    None
                }
                Err("EAGAIN") => None,
                Err(e) => Some(Err(e)),
            },
            Blocked::Poll { deadline } => {
                let deadline = *deadline;
                match self.poll_now(p.line, &p.call)? {
                    0 if deadline.is_none_or(|d| self.k.now_us < d) => None,
                    n => Some(Ok(n)),
                }
            }
        };
        match outcome {
            None => {
                self.pending = Some(p);
                Ok(())
            }
            Some(result) => self.complete(p.line, &p.call, p.end, result),
        }
    }

    /// A blocking call returned `result` now: the result and the time must be the script's.
    fn complete(
        &mut self,
        line: usize,
        s: &Syscall,
        end: u64,
        result: Result<i64, &'static str>,
    ) -> Result<(), Stop> {
        let now = self.k.now_us;
        if now + self.tolerance_us < end || now > end + self.tolerance_us {
            return fail(
                line,
                format!(
                    "{} returned at {:.3} s, expected at {:.3} s",
                    s.name,
                    now as f64 / 1e6,
                    end as f64 / 1e6
                ),
            );
        }
        self.check_result(line, s, result)
    }

    /// At the end of the script a blocking call must have returned (it is given until its
    /// time plus the tolerance).
    fn finish_pending(&mut self) -> Result<(), Stop> {
        let Some(end) = self.pending.as_ref().map(|p| p.end) else {
            return Ok(());
        };
        self.advance_to(end + self.tolerance_us)?;
        match &self.pending {
            Some(p) => fail(p.line, format!("{} never returned", p.call.name)),
            None => Ok(()),
        }
    }

    /// `poll(fds, nfds, timeout)` now: how many descriptors have a requested event (or an
    /// error or a hang-up); the `revents` the script gives are checked.
    fn poll_now(&mut self, line: usize, s: &Syscall) -> Result<i64, Stop> {
        let Some(Expr::Array(fds)) = s.args.first() else {
            return skip(line, "poll without an array of pollfd structs");
        };
        let mut ready = 0;
        for entry in fds {
            let Expr::Struct(fields) = entry else {
                return skip(line, "a pollfd that is not a struct");
            };
            let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, e)| e);
            let Some(Expr::Int(fd)) = field("fd") else {
                return skip(line, "a pollfd without fd");
            };
            let events = field("events").map_or(0, poll_bits);
            let Some(r) = self.k.readiness(i32::try_from(*fd).unwrap_or(-1)) else {
                ready += 1; // POLLNVAL
                continue;
            };
            let mut got = 0;
            if r.readable {
                got |= events & (0x1 | 0x40);
            }
            if r.writable {
                got |= events & 0x4;
            }
            if r.error {
                got |= 0x8;
            }
            if r.hangup {
                got |= 0x10;
            }
            if got != 0 {
                ready += 1;
            }
            // A descriptor with events is what the call returns with: its revents must be the
            // script's. (With none the call waits, or returns 0 and the count tells.)
            if let Some(want) = field("revents")
                && got != 0
                && poll_bits(want) != got
            {
                let names: Vec<&str> = POLL_NAMES
                    .iter()
                    .filter(|(_, b)| got & b != 0)
                    .map(|(n, _)| *n)
                    .collect();
                return fail(
                    line,
                    format!("poll: revents of fd {fd} are {}", names.join("|")),
                );
            }
        }
        Ok(ready)
    }

    fn syscall(&mut self, line: usize, s: &Syscall) -> Result<(), Stop> {
        let fd = |i: usize| match s.args.get(i) {
            Some(Expr::Int(n)) => i32::try_from(*n).ok(),
            _ => None,
        };
        let int = |i: usize| match s.args.get(i) {
            Some(Expr::Int(n)) => Some(*n),
            _ => None,
        };
        let result: Result<i64, &'static str> = match s.name.as_str() {
            "socket" => Ok(i64::from(self.k.socket())),
            "bind" => self.k.bind(fd(0).unwrap_or(-1), SCRIPT_PORT).map(|()| 0),
            "listen" => self
                .k
                .listen(
                    fd(0).unwrap_or(-1),
                    u32::try_from(int(1).unwrap_or(1)).unwrap_or(1),
                )
                .map(|()| 0),
            "accept" => self.k.accept(fd(0).unwrap_or(-1)).map(i64::from),
            "connect" => {
                let fd = fd(0).unwrap_or(-1);
                self.local_port = 0;
                let r = self.k.connect(fd);
                if let Some((key, _)) = self.k.stream(fd) {
                    self.local_port = key.0;
                    self.remote_port = key.1;
                }
                let nonblock = self.k.sockets.get(&fd).is_some_and(|s| s.nonblock);
                match r {
                    Ok(()) if nonblock => Err("EINPROGRESS"),
                    Ok(()) => return skip(line, "blocking connect is not modelled yet"),
                    Err(e) => Err(e),
                }
            }
            "close" => self.k.close(fd(0).unwrap_or(-1)).map(|()| 0),
            "shutdown" => {
                let how = match s.args.get(1) {
                    Some(Expr::Ident(h)) => match h.as_str() {
                        "SHUT_RD" => 0,
                        "SHUT_WR" => 1,
                        _ => 2,
                    },
                    Some(Expr::Int(n)) => *n,
                    _ => 2,
                };
                self.k.shutdown(fd(0).unwrap_or(-1), how).map(|()| 0)
            }
            "read" | "recv" => {
                let peek = s.name == "recv"
                    && matches!(s.args.get(3), Some(e) if expr_mentions(e, "MSG_PEEK"));
                let n = usize::try_from(int(2).unwrap_or(0)).unwrap_or(0);
                match self.k.read(fd(0).unwrap_or(-1), n, peek) {
                    Err("EWOULDBLOCK_BLOCKING") => {
                        return fail(line, "the read would block: nothing to read yet");
                    }
                    r => r.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                }
            }
            "write" | "send" => {
                let n = usize::try_from(int(2).unwrap_or(0)).unwrap_or(0);
                self.k
                    .write(fd(0).unwrap_or(-1), n)
                    .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
            }
            "poll" => {
                if matches!(s.args.get(2), Some(Expr::Int(t)) if *t != 0)
                    && self.poll_now(line, s)? == 0
                {
                    return skip(line, "a poll that waits needs the blocking form `a...b`");
                }
                Ok(self.poll_now(line, s)?)
            }
            "fcntl" => self.fcntl(line, s)?,
            "setsockopt" => self.setsockopt(line, s)?,
            "getsockopt" => return self.getsockopt(line, s),
            other => return skip(line, format!("the system call {other} is not modelled")),
        };
        self.check_result(line, s, result)
    }

    fn check_result(
        &self,
        line: usize,
        s: &Syscall,
        got: Result<i64, &'static str>,
    ) -> Result<(), Stop> {
        let want = match &s.result {
            Expr::Int(n) => *n,
            Expr::Ellipsis => return Ok(()),
            other => return skip(line, format!("result {other:?} is not compared")),
        };
        let same_errno = |a: &str, b: &str| {
            a == b
                || (matches!(a, "EAGAIN" | "EWOULDBLOCK") && matches!(b, "EAGAIN" | "EWOULDBLOCK"))
        };
        match got {
            Ok(v) if v == want => Ok(()),
            Ok(v) => fail(line, format!("{} returned {v}, not {want}", s.name)),
            Err(e) if want == -1 && s.errno.as_deref().is_none_or(|w| same_errno(w, e)) => Ok(()),
            Err(e) => fail(
                line,
                format!(
                    "{} failed with {e}, expected {want} {}",
                    s.name,
                    s.errno.as_deref().unwrap_or("")
                ),
            ),
        }
    }

    fn fcntl(&mut self, line: usize, s: &Syscall) -> Result<Result<i64, &'static str>, Stop> {
        let Some(Expr::Int(fd)) = s.args.first() else {
            return skip(line, "fcntl on an unknown descriptor");
        };
        let fd = i32::try_from(*fd).unwrap_or(-1);
        let nonblock_bit = match self.k.system {
            System::FreeBsd => 0x4,
            System::Linux => 0x800,
        };
        let Some(sock) = self.k.sockets.get_mut(&fd) else {
            return Ok(Err("EBADF"));
        };
        match s.args.get(1) {
            Some(Expr::Ident(c)) if c == "F_GETFL" => {
                Ok(Ok(0x2 | if sock.nonblock { nonblock_bit } else { 0 }))
            }
            Some(Expr::Ident(c)) if c == "F_SETFL" => {
                sock.nonblock = s
                    .args
                    .get(2)
                    .is_some_and(|e| expr_mentions(e, "O_NONBLOCK"));
                Ok(Ok(0))
            }
            _ => skip(line, "fcntl command not modelled"),
        }
    }

    fn setsockopt(&mut self, line: usize, s: &Syscall) -> Result<Result<i64, &'static str>, Stop> {
        use protocols::tcp::TcpOption as O;
        let fd = match s.args.first() {
            Some(Expr::Int(fd)) => i32::try_from(*fd).unwrap_or(-1),
            _ => return skip(line, "setsockopt on an unknown descriptor"),
        };
        let (Some(Expr::Ident(level)), Some(Expr::Ident(name))) = (s.args.get(1), s.args.get(2))
        else {
            return skip(line, "setsockopt level or name not understood");
        };
        let value = match s.args.get(3) {
            Some(Expr::Array(v)) => match v.first() {
                Some(Expr::Int(n)) => Some(*n),
                _ => None,
            },
            Some(Expr::Int(n)) => Some(*n),
            _ => None,
        };
        let v = value.unwrap_or(0);
        let mut options = Vec::new();
        let mut linger = None;
        let mut buffers = (None, None);
        let Some(sock) = self.k.sockets.get(&fd) else {
            return Ok(Err("EBADF"));
        };
        let keepalive_on = sock.values.get("SO_KEEPALIVE").is_some_and(|v| *v != 0);
        let keepidle = sock.values.get("TCP_KEEPIDLE").map(|s| ms_of(*s * 1000));
        let set = &self.k.settings;
        let bytes = |n: i64| usize::try_from(n).unwrap_or(0);
        match (level.as_str(), name.as_str()) {
            ("SOL_SOCKET", "SO_REUSEADDR" | "SO_REUSEPORT") => {}
            ("SOL_SOCKET", "SO_RCVBUF") => buffers.0 = Some(bytes(v)),
            ("SOL_SOCKET", "SO_SNDBUF") => buffers.1 = Some(bytes(v)),
            // Keepalive probes only with SO_KEEPALIVE; the idle time is the socket's, else
            // the system's (`tcp_keepalive_time`), else the TCP's two hours.
            ("SOL_SOCKET", "SO_KEEPALIVE") if v != 0 => {
                options.push(O::Keepalive(true));
                if let Some(idle) = keepidle.or(set.keepalive_idle_ms) {
                    options.push(O::KeepaliveIdleMs(idle));
                }
                if let Some(intvl) = set.keepalive_interval_ms
                    && !sock.values.contains_key("TCP_KEEPINTVL")
                {
                    options.push(O::KeepaliveIntervalMs(intvl));
                }
                if let Some(count) = set.keepalive_count
                    && !sock.values.contains_key("TCP_KEEPCNT")
                {
                    options.push(O::KeepaliveCount(count));
                }
            }
            ("SOL_SOCKET", "SO_KEEPALIVE") => {
                options.extend([O::Keepalive(false), O::KeepaliveIdleMs(0)]);
            }
            ("SOL_SOCKET", "SO_LINGER") => {
                let field = |n: &str| match s.args.get(3) {
                    Some(Expr::Struct(f)) => {
                        f.iter().find(|(k, _)| k == n).and_then(|(_, e)| match e {
                            Expr::Int(v) => Some(*v),
                            _ => None,
                        })
                    }
                    _ => None,
                };
                linger = Some(
                    field("l_onoff").or_else(|| field("onoff")).unwrap_or(0) != 0
                        && field("l_linger").or_else(|| field("linger")).unwrap_or(1) == 0,
                );
            }
            ("IPPROTO_TCP", "TCP_NODELAY") => options.push(O::NoDelay(v != 0)),
            ("IPPROTO_TCP", "TCP_MAXSEG") => {
                options.push(O::MaxSegment(u16::try_from(v).unwrap_or(0)))
            }
            ("IPPROTO_TCP", "TCP_NOOPT") => {
                options.extend([
                    O::WindowScale(v == 0),
                    O::Timestamps(v == 0),
                    O::Sack(v == 0),
                ]);
            }
            ("IPPROTO_TCP", "TCP_KEEPIDLE") if keepalive_on => {
                options.push(O::KeepaliveIdleMs(ms_of(v * 1000)));
            }
            ("IPPROTO_TCP", "TCP_KEEPIDLE") => {}
            ("IPPROTO_TCP", "TCP_KEEPINTVL") => {
                options.push(O::KeepaliveIntervalMs(u64::try_from(v).unwrap_or(0) * 1000))
            }
            ("IPPROTO_TCP", "TCP_KEEPCNT") => {
                options.push(O::KeepaliveCount(u32::try_from(v).unwrap_or(0)))
            }
            ("IPPROTO_TCP", "TCP_KEEPINIT") => {
                options.push(O::ConnectTimeoutMs(u64::try_from(v).unwrap_or(0) * 1000));
            }
            ("IPPROTO_TCP", "TCP_USER_TIMEOUT") => {
                options.push(O::UserTimeoutMs(u64::try_from(v).unwrap_or(0)))
            }
            (l, n) => return skip(line, format!("setsockopt {l} {n} is not modelled")),
        }
        let Some(sock) = self.k.sockets.get_mut(&fd) else {
            return Ok(Err("EBADF"));
        };
        if let Some(l) = linger {
            sock.linger_zero = l;
        }
        sock.values.insert(name.clone(), v);
        if let Some(b) = buffers.0 {
            sock.buffers.0 = Some(b);
        }
        if let Some(b) = buffers.1 {
            sock.buffers.1 = Some(b);
        }
        sock.options.extend(options.iter().copied());
        if let Some((_, c)) = self.k.stream(fd) {
            for o in options {
                c.tcp.set_option(o);
            }
        }
        Ok(Ok(0))
    }

    fn getsockopt(&mut self, line: usize, s: &Syscall) -> Result<(), Stop> {
        let fd = match s.args.first() {
            Some(Expr::Int(fd)) => i32::try_from(*fd).unwrap_or(-1),
            _ => return skip(line, "getsockopt on an unknown descriptor"),
        };
        let (Some(Expr::Ident(level)), Some(Expr::Ident(name))) = (s.args.get(1), s.args.get(2))
        else {
            return skip(line, "getsockopt level or name not understood");
        };
        let want = match s.args.get(3) {
            Some(Expr::Array(v)) => v.first().cloned(),
            _ => None,
        };
        let system = self.k.system;
        let (recvspace, sendspace) = (self.k.settings.recvspace, self.k.settings.sendspace);
        // The effective send MSS of a connected socket (TCP_MAXSEG).
        let mss = self.k.info(fd).filter(|i| i.snd_mss > 0).map(|i| i.snd_mss);
        let Some(sock) = self.k.sockets.get_mut(&fd) else {
            return fail(line, "getsockopt on a closed descriptor");
        };
        let (rcvbuf, sndbuf) = sock.buffers;
        let int = |n: usize| Expr::Int(i64::try_from(n).unwrap_or(i64::MAX));
        // Linux doubles what SO_RCVBUF and SO_SNDBUF ask for (room for its bookkeeping).
        let doubled = |n: usize, floor: usize| match system {
            System::Linux => (2 * n).max(floor),
            System::FreeBsd => n,
        };
        let value =
            |name: &str, default: i64| Expr::Int(*sock.values.get(name).unwrap_or(&default));
        let got = match (level.as_str(), name.as_str()) {
            ("SOL_SOCKET", "SO_ERROR") => Expr::Ident(
                sock.error
                    .take()
                    .or_else(|| sock.soft_error.take())
                    .unwrap_or("0")
                    .to_string(),
            ),
            ("SOL_SOCKET", "SO_RCVBUF") if rcvbuf.is_some() => {
                int(doubled(rcvbuf.unwrap_or(0), 2304))
            }
            ("SOL_SOCKET", "SO_SNDBUF") if sndbuf.is_some() => {
                int(doubled(sndbuf.unwrap_or(0), 4608))
            }
            // FreeBSD reports the buffer rounded for its mbuf accounting once connected.
            ("SOL_SOCKET", "SO_RCVBUF") => Expr::Int(
                i64::try_from(recvspace).unwrap_or(0)
                    + if sock.synced && system == System::FreeBsd {
                        164
                    } else {
                        0
                    },
            ),
            ("SOL_SOCKET", "SO_SNDBUF") => Expr::Int(i64::try_from(sendspace).unwrap_or(0)),
            ("SOL_SOCKET", n @ ("SO_REUSEADDR" | "SO_REUSEPORT" | "SO_KEEPALIVE")) => value(n, 0),
            ("IPPROTO_TCP", n @ ("TCP_NODELAY" | "TCP_NOOPT" | "TCP_USER_TIMEOUT")) => value(n, 0),
            ("IPPROTO_TCP", "TCP_KEEPIDLE") => value("TCP_KEEPIDLE", 7200),
            ("IPPROTO_TCP", "TCP_KEEPINTVL") => value("TCP_KEEPINTVL", 75),
            ("IPPROTO_TCP", "TCP_KEEPCNT") => value(
                "TCP_KEEPCNT",
                match system {
                    System::Linux => 9,
                    System::FreeBsd => 8,
                },
            ),
            ("IPPROTO_TCP", "TCP_KEEPINIT") => value("TCP_KEEPINIT", 75),
            // Connected: the MSS in use; before: what was set, else the default of 536.
            ("IPPROTO_TCP", "TCP_MAXSEG") => match mss {
                Some(m) => Expr::Int(i64::from(m)),
                None => value("TCP_MAXSEG", 536),
            },
            (l, n) => return skip(line, format!("getsockopt {l} {n} is not modelled")),
        };
        let same = match (&want, &got) {
            (Some(Expr::Int(0)), Expr::Ident(e)) | (Some(Expr::Ident(e)), Expr::Int(0)) => e == "0",
            (Some(Expr::Ident(a)), Expr::Ident(b)) => a == b,
            (Some(Expr::Int(a)), Expr::Int(b)) => a == b,
            (Some(Expr::Ellipsis) | None, _) => true,
            _ => false,
        };
        if !same {
            return fail(
                line,
                format!("getsockopt {name} gave {got:?}, not {want:?}"),
            );
        }
        Ok(())
    }

    /// A shell line, interpreted (never executed): its commands (lines, or joined by `;` or
    /// `&&`) one by one.
    fn shell(&mut self, line: usize, cmd: &str) -> Result<(), Stop> {
        for one in cmd.split(['\n', ';']).flat_map(|c| c.split("&&")) {
            let one = one.trim();
            if !one.is_empty() {
                self.shell_command(line, one)?;
            }
        }
        Ok(())
    }

    fn shell_command(&mut self, line: usize, cmd: &str) -> Result<(), Stop> {
        // `sysctl [-w] [-q] name=value` (FreeBSD and Linux).
        if let Some(rest) = cmd.strip_prefix("sysctl ") {
            let assignment = rest
                .split_whitespace()
                .skip_while(|w| w.starts_with('-'))
                .collect::<Vec<_>>()
                .join(" ");
            let Some((name, value)) = assignment.split_once('=') else {
                return skip(line, format!("sysctl line not understood: {cmd}"));
            };
            return self.sysctl(line, name.trim(), value.trim());
        }
        // `echo value > /proc/sys/net/ipv4/name` (Linux).
        if let Some(rest) = cmd.strip_prefix("echo ")
            && let Some((value, path)) = rest.split_once('>')
            && let Some(name) = path.trim().strip_prefix("/proc/sys/")
        {
            return self.sysctl(line, &name.replace('/', "."), value.trim());
        }
        if cmd.starts_with("sockstat") {
            return self.sockstat(line, cmd);
        }
        if let Some(state) = cmd.strip_prefix("tcpdrop -s ") {
            self.k.drop_state(state.trim());
            return Ok(());
        }
        if cmd.contains("defaults.sh") {
            self.k.system = System::Linux;
            return Ok(());
        }
        skip(line, format!("shell command not interpreted: {cmd}"))
    }

    /// An inbound ICMP error quoting one of the TCP's segments: `[seq]` is relative to the
    /// TCP's ISN, as packetdrill has it. A message a TCP does not hear (a redirect, an echo)
    /// changes nothing.
    fn icmp(&mut self, line: usize, icmp: &Icmp) -> Result<(), Stop> {
        let Some((kind, code)) = icmp_numbers(icmp) else {
            return skip(
                line,
                format!("ICMP {} {:?} is not known", icmp.kind, icmp.code),
            );
        };
        let Some(error) = IcmpError::from_icmpv4(kind, code) else {
            return Ok(());
        };
        let Some(spec) = &icmp.seq else {
            return skip(line, "an ICMP error without a quoted sequence number");
        };
        let seq = self.tr.local_isn.wrapping_add(spec.start);
        self.k.icmp((self.local_port, self.remote_port), error, seq);
        Ok(())
    }

    /// A sysctl of FreeBSD (`net.inet.…`, `kern.ipc.…`) or Linux (`net.ipv4.…`): those that
    /// configure what the stack models map to its settings, the defaults of others are
    /// accepted, anything else skips the script.
    fn sysctl(&mut self, line: usize, name: &str, value: &str) -> Result<(), Stop> {
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        // `tcp_rmem` and `tcp_wmem` are three numbers: min, default, max.
        let words: Vec<i64> = value
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        let n = match words.as_slice() {
            [n] => *n,
            [_, default, _] if name.ends_with("mem") => *default,
            _ => return skip(line, format!("sysctl {name}={value}: not a number")),
        };
        let ms = |secs: i64| u64::try_from(secs).unwrap_or(0) * 1000;
        let set = &mut self.k.settings;
        match name {
            "net.inet.tcp.rfc1323" => (set.window_scaling, set.timestamps) = (n != 0, n != 0),
            "net.inet.tcp.sack.enable" => set.sack = n != 0,
            "net.inet.tcp.recvspace" => set.recvspace = usize::try_from(n).unwrap_or(65536),
            "net.inet.tcp.sendspace" => set.sendspace = usize::try_from(n).unwrap_or(32768),
            "net.inet.tcp.blackhole" => set.blackhole = u8::try_from(n).unwrap_or(2),
            "net.inet.tcp.drop_synfin" => set.drop_synfin = n != 0,
            "net.inet.tcp.delacktime" => set.delack_ms = Some(u64::try_from(n).unwrap_or(100)),
            "net.inet.tcp.hostcache.purgenow" | "net.inet.tcp.ecn.maxretries" => {}
            // FreeBSD offers the smallest shift that lets its largest buffer be offered.
            "kern.ipc.maxsockbuf" => {
                let max = u64::try_from(n).unwrap_or(0);
                let shift = (0..14u8).find(|s| 65_535u64 << s >= max).unwrap_or(14);
                set.window_shift = Some(shift);
            }
            "net.inet.tcp.insecure_rst" => set.insecure_rst = n != 0,
            "net.inet.tcp.insecure_syn" => set.insecure_syn = n != 0,
            "net.inet.tcp.rexmit_initial" if n == 1000 => {}
            "net.inet.tcp.rexmit_slop" => set.rto_slop_ms = u64::try_from(n).unwrap_or(200),
            "net.inet.tcp.rexmit_drop_options" if n == 0 => {}
            "net.inet.tcp.keepinit" => set.keepinit_ms = u64::try_from(n).unwrap_or(75_000),
            "net.inet.tcp.icmp_may_rst" => set.icmp_may_rst = n != 0,
            "net.inet.tcp.syncookies" | "net.inet.tcp.syncookies_only" => {}
            // ECN is not implemented: 0 says so; 2 only answers requests, which the scripts
            // that do not request it never see.
            "net.inet.tcp.ecn.enable" | "net.ipv4.tcp_ecn" if n == 0 || n == 2 => {}
            // Linux.
            "net.ipv4.tcp_sack" => set.sack = n != 0,
            "net.ipv4.tcp_timestamps" => set.timestamps = n != 0,
            "net.ipv4.tcp_window_scaling" => set.window_scaling = n != 0,
            "net.ipv4.tcp_rfc1337" => set.rfc1337 = Some(n != 0),
            "net.ipv4.tcp_fin_timeout" => set.fin_wait_2_ms = Some(ms(n)),
            "net.ipv4.tcp_keepalive_time" => set.keepalive_idle_ms = Some(ms(n)),
            "net.ipv4.tcp_keepalive_intvl" => set.keepalive_interval_ms = Some(ms(n)),
            "net.ipv4.tcp_keepalive_probes" => set.keepalive_count = u32::try_from(n).ok(),
            "net.ipv4.tcp_rmem" => set.recvspace = usize::try_from(n).unwrap_or(87_380),
            "net.ipv4.tcp_wmem" => set.sendspace = usize::try_from(n).unwrap_or(16_384),
            "net.ipv4.tcp_fastopen" if n == 0 => {}
            "net.ipv4.tcp_syncookies" | "net.ipv4.tcp_no_metrics_save" => {}
            _ => return skip(line, format!("sysctl {name}={value} is not modelled")),
        }
        Ok(())
    }

    /// `sockstat … [-p PORT] … | grep -c STATE | grep N`.
    fn sockstat(&mut self, line: usize, cmd: &str) -> Result<(), Stop> {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let port = words
            .iter()
            .position(|w| *w == "-p")
            .and_then(|i| words.get(i + 1))
            .and_then(|p| p.parse().ok());
        let state = words
            .iter()
            .position(|w| *w == "-c")
            .and_then(|i| words.get(i + 1));
        let count: Option<usize> = words.last().and_then(|n| n.parse().ok());
        let (Some(state), Some(count)) = (state, count) else {
            return skip(line, format!("sockstat line not understood: {cmd}"));
        };
        let found = self.k.count_state(state, port);
        if found != count {
            return fail(
                line,
                format!("{count} connections in {state} expected, {found} found"),
            );
        }
        Ok(())
    }

    /// `%{ assert tcpi_NAME == VALUE [and …] }%`.
    fn code(&mut self, line: usize, code: &str) -> Result<(), Stop> {
        for stmt in code.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let Some(cond) = stmt.strip_prefix("assert ") else {
                return skip(line, format!("code not interpreted: {stmt}"));
            };
            for clause in cond.split(" and ") {
                let parts: Vec<&str> = clause.split_whitespace().collect();
                let [field, op, value] = parts[..] else {
                    return skip(line, format!("assertion not understood: {clause}"));
                };
                let got = self.tcpi(line, field)?;
                let want: i64 = match value.strip_prefix("TCPI_") {
                    Some(state) => tcpi_state_code(state)
                        .ok_or_else(|| Stop::Skip(format!("line {line}: unknown state {value}")))?,
                    None => value.parse().map_err(|_| {
                        Stop::Skip(format!("line {line}: value {value} not understood"))
                    })?,
                };
                let holds = match op {
                    "==" => got == want,
                    "!=" => got != want,
                    "<" => got < want,
                    "<=" => got <= want,
                    ">" => got > want,
                    ">=" => got >= want,
                    _ => return skip(line, format!("operator {op} not understood")),
                };
                if !holds {
                    return fail(line, format!("assertion {clause} failed: {field} is {got}"));
                }
            }
        }
        Ok(())
    }

    fn tcpi(&mut self, line: usize, field: &str) -> Result<i64, Stop> {
        let Some(fd) = self.k.last_fd else {
            return skip(line, "no socket for tcp_info");
        };
        let listening = matches!(
            self.k.sockets.get(&fd).map(|s| &s.kind),
            Some(SocketKind::Listening { .. })
        );
        let info = self.k.info(fd);
        Ok(match (field, info) {
            ("tcpi_state", Some(i)) => {
                tcpi_state_code(&state_name(i.state).replace("SYN_RCVD", "SYN_RECEIVED"))
                    .unwrap_or(-1)
            }
            ("tcpi_state", None) if listening => tcpi_state_code("LISTEN").unwrap_or(-1),
            ("tcpi_state", None) => tcpi_state_code("CLOSED").unwrap_or(-1),
            ("tcpi_options", Some(i)) => {
                i64::from(i.timestamps)
                    | (i64::from(i.sack_ok) << 1)
                    | (i64::from(i.window_scale.is_some()) << 2)
            }
            ("tcpi_options", None) => 0,
            ("tcpi_snd_mss", Some(i)) => i64::from(i.snd_mss),
            ("tcpi_rto", Some(i)) => i64::try_from(i.rto_ms * 1000).unwrap_or(i64::MAX),
            ("tcpi_rtt", Some(i)) => i64::try_from(i.srtt_ms * 1000).unwrap_or(i64::MAX),
            ("tcpi_rttvar", Some(i)) => i64::try_from(i.rttvar_ms * 1000).unwrap_or(i64::MAX),
            ("tcpi_snd_cwnd", Some(i)) => i64::from(i.cwnd),
            ("tcpi_snd_ssthresh", Some(i)) => i64::from(i.ssthresh),
            (f, _) => return skip(line, format!("{f} is not modelled")),
        })
    }
}

/// Whether `e` is or contains the name `name`.
fn expr_mentions(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Ident(n) => n == name,
        Expr::Or(list) | Expr::Array(list) => list.iter().any(|e| expr_mentions(e, name)),
        _ => false,
    }
}

/// packetdrill's `TCPI_*` state numbers (Linux's `TCP_*` order).
fn tcpi_state_code(name: &str) -> Option<i64> {
    Some(match name {
        "ESTABLISHED" => 1,
        "SYN_SENT" => 2,
        "SYN_RECEIVED" | "SYN_RECV" | "SYN_RCVD" => 3,
        "FIN_WAIT_1" | "FIN_WAIT1" => 4,
        "FIN_WAIT_2" | "FIN_WAIT2" => 5,
        "TIME_WAIT" => 6,
        "CLOSED" | "CLOSE" => 7,
        "CLOSE_WAIT" => 8,
        "LAST_ACK" => 9,
        "LISTEN" => 10,
        "CLOSING" => 11,
        _ => return None,
    })
}

/// The ICMPv4 type and code of a script's ICMP line (packetdrill's names).
fn icmp_numbers(icmp: &Icmp) -> Option<(u8, u8)> {
    let kind = match icmp.kind.as_str() {
        "echo_reply" => 0,
        "unreachable" => 3,
        "source_quench" => 4,
        "redirect" => 5,
        "echo_request" => 8,
        "time_exceeded" => 11,
        "parameter_problem" => 12,
        _ => return None,
    };
    let code = match icmp.code.as_deref() {
        None => 0,
        Some(name) => match (kind, name) {
            (3, "net_unreachable") => 0,
            (3, "host_unreachable") => 1,
            (3, "protocol_unreachable") => 2,
            (3, "port_unreachable") => 3,
            (3, "frag_needed") => 4,
            (3, "source_route_failed") => 5,
            (3, "net_unknown") => 6,
            (3, "host_unknown") => 7,
            (3, "source_host_isolated") => 8,
            (3, "net_prohibited") => 9,
            (3, "host_prohibited") => 10,
            (3, "net_unreachable_for_tos") => 11,
            (3, "host_unreachable_for_tos") => 12,
            (3, "packet_filtered") => 13,
            (3, "precedence_violation") => 14,
            (3, "precedence_cutoff") => 15,
            (11, "ttl_exceeded_in_transit") => 0,
            (11, "frag_reass_exceeded") => 1,
            (_, code) => code.strip_prefix("code_")?.parse().ok()?,
        },
    };
    Some((kind, code))
}

/// The bits of a `poll()` event expression (`POLLIN|POLLOUT`, or a number).
fn poll_bits(e: &Expr) -> i64 {
    match e {
        Expr::Int(n) => *n,
        Expr::Ident(name) => POLL_NAMES
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, b)| *b),
        Expr::Or(parts) => parts.iter().map(poll_bits).fold(0, |a, b| a | b),
        _ => 0,
    }
}

/// Milliseconds from a script's number (negative is 0).
fn ms_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
