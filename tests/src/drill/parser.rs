//! The packetdrill script parser: tokens ([`super::lexer`]) to a [`Script`]. Line-oriented, as
//! packetdrill is: an event is a time and an action ending at a newline (a code block may span
//! lines). Errors name the line and column and say what was expected.

use super::ast::{
    Action, Direction, Event, Expr, Guard, Icmp, Packet, PacketBody, Script, SeqSpec, Syscall,
    TcpOption, TcpOptions, TcpSegment, Time, TimePoint,
};
use super::lexer::{LexError, Spanned, Tok, tokenize};

/// A parse (or lexical) error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for ParseError {}

impl From<LexError> for ParseError {
    fn from(e: LexError) -> Self {
        Self {
            line: e.line,
            col: e.col,
            message: e.message,
        }
    }
}

/// Parses a whole script.
///
/// # Errors
///
/// The first lexical or syntax error, with its place.
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let toks = tokenize(text)?;
    let last_line = text.lines().count().max(1);
    Parser {
        toks,
        pos: 0,
        last_line,
    }
    .script()
}

struct Parser {
    toks: Vec<Spanned>,
    pos: usize,
    last_line: usize,
}

type Res<T> = Result<T, ParseError>;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|s| &s.tok)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|s| &s.tok)
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|s| s.tok.clone());
        self.pos += 1;
        t
    }

    fn error<T>(&self, message: impl Into<String>) -> Res<T> {
        let (line, col) = self
            .toks
            .get(self.pos)
            .map_or((self.last_line, 1), |s| (s.line, s.col));
        Err(ParseError {
            line,
            col,
            message: message.into(),
        })
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the script".into(),
            Some(Tok::Newline) => "the end of the line".into(),
            Some(Tok::Ident(s)) => format!("`{s}`"),
            Some(Tok::Int(n) | Tok::Hex(n)) => format!("`{n}`"),
            Some(Tok::Float(f)) => format!("`{f}`"),
            Some(Tok::Str(s)) => format!("the string {s:?}"),
            Some(Tok::Shell(_)) => "a `command`".into(),
            Some(Tok::Code(_)) => "a %{ code block }%".into(),
            Some(Tok::OptionLine(n, _)) => format!("the option line --{n}"),
            Some(Tok::Directive(d, _)) => format!("#{d}"),
            Some(Tok::Ellipsis) => "`...`".into(),
            Some(Tok::Punct(c)) => format!("`{c}`"),
        }
    }

    fn expect_punct(&mut self, c: char, what: &str) -> Res<()> {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            Ok(())
        } else {
            self.error(format!("expected `{c}` {what}, found {}", self.describe()))
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_ident(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(s)) if s == name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some(Tok::Newline))
    }

    fn end_line(&mut self) -> Res<()> {
        if self.at_line_end() {
            self.pos += 1;
            Ok(())
        } else {
            self.error(format!(
                "expected the end of the line, found {}",
                self.describe()
            ))
        }
    }

    fn script(mut self) -> Res<Script> {
        let mut script = Script::default();
        // Open #ifdef blocks: the guard and whether an #else has been seen.
        let mut guards: Vec<Guard> = Vec::new();
        let mut open_lines: Vec<usize> = Vec::new();
        while let Some(tok) = self.peek().cloned() {
            let line = self.toks[self.pos].line;
            match tok {
                Tok::Newline => self.pos += 1,
                Tok::OptionLine(name, value) => {
                    self.pos += 1;
                    script.options.push((name, value));
                }
                Tok::Directive(d, arg) => {
                    match d.as_str() {
                        "ifdef" | "ifndef" if !arg.is_empty() => {
                            guards.push(Guard {
                                name: arg,
                                defined: d == "ifdef",
                            });
                            open_lines.push(line);
                        }
                        "else" => match guards.last_mut() {
                            Some(g) => g.defined = !g.defined,
                            None => return self.error("#else without #ifdef"),
                        },
                        "endif" => {
                            if guards.pop().is_none() {
                                return self.error("#endif without #ifdef");
                            }
                            open_lines.pop();
                        }
                        "ifdef" | "ifndef" => return self.error(format!("#{d} needs a name")),
                        other => return self.error(format!("unknown directive #{other}")),
                    }
                    self.pos += 1;
                }
                // packetdrill's init command: a shell line without a time before the first
                // event (Linux scripts source their defaults so), run at time 0.
                Tok::Shell(cmd) if script.events.is_empty() => {
                    self.pos += 1;
                    self.end_line()?;
                    script.events.push(Event {
                        line,
                        time: Time::At(TimePoint {
                            relative: false,
                            usecs: 0,
                        }),
                        action: Action::Shell(cmd),
                        guards: guards.clone(),
                    });
                }
                _ => {
                    let time = self.time()?;
                    let action = self.action()?;
                    self.end_line()?;
                    script.events.push(Event {
                        line,
                        time,
                        action,
                        guards: guards.clone(),
                    });
                }
            }
        }
        if let Some(line) = open_lines.last() {
            return Err(ParseError {
                line: *line,
                col: 1,
                message: "#ifdef without #endif".into(),
            });
        }
        Ok(script)
    }

    /// `[+]number`, in µs.
    fn time_point(&mut self) -> Res<TimePoint> {
        let relative = self.eat_punct('+');
        let negative = !relative && self.eat_punct('-');
        let usecs = match self.bump() {
            Some(Tok::Int(n)) => i64::try_from(n).ok().and_then(|n| n.checked_mul(1_000_000)),
            Some(Tok::Float(f)) => seconds_to_usecs(&f),
            _ => {
                self.pos -= 1;
                return self.error(format!(
                    "expected a time (`0.100`, `+0.1`, `*`, `a~b`), found {}",
                    self.describe()
                ));
            }
        };
        let Some(usecs) = usecs else {
            self.pos -= 1;
            return self.error("the time is too large");
        };
        Ok(TimePoint {
            relative,
            usecs: if negative { -usecs } else { usecs },
        })
    }

    fn time(&mut self) -> Res<Time> {
        if self.eat_punct('*') {
            return Ok(Time::Any);
        }
        let start = self.time_point()?;
        if self.eat_punct('~') {
            return Ok(Time::Range(start, self.time_point()?));
        }
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            return Ok(Time::Blocking(start, self.time_point()?));
        }
        Ok(Time::At(start))
    }

    fn action(&mut self) -> Res<Action> {
        match self.peek().cloned() {
            Some(Tok::Punct('<')) => {
                self.pos += 1;
                self.packet(Direction::Inbound).map(Action::Packet)
            }
            Some(Tok::Punct('>')) => {
                self.pos += 1;
                self.packet(Direction::Outbound).map(Action::Packet)
            }
            Some(Tok::Shell(s)) => {
                self.pos += 1;
                Ok(Action::Shell(s))
            }
            Some(Tok::Code(s)) => {
                self.pos += 1;
                Ok(Action::Code(s))
            }
            Some(Tok::Ident(_)) => self.syscall().map(Action::Syscall),
            _ => self.error(format!(
                "expected a packet (`<` or `>`), a system call, a `command` or a %{{ block }}%, \
                 found {}",
                self.describe()
            )),
        }
    }

    fn packet(&mut self, direction: Direction) -> Res<Packet> {
        let ip_note = if self.eat_punct('[') {
            let mut words = Vec::new();
            while !self.eat_punct(']') {
                match self.bump() {
                    Some(Tok::Ident(s)) => words.push(s),
                    Some(Tok::Int(n)) => words.push(n.to_string()),
                    _ => {
                        self.pos -= 1;
                        return self.error("expected `]` closing the IP note");
                    }
                }
            }
            Some(words.join(" "))
        } else {
            None
        };
        let body = if self.eat_ident("icmp") {
            PacketBody::Icmp(self.icmp()?)
        } else if self.eat_ident("udp") {
            self.expect_punct('(', "before the UDP length")?;
            let len = self.number_u32("the UDP length")?;
            self.expect_punct(')', "after the UDP length")?;
            PacketBody::Udp(len)
        } else {
            PacketBody::Tcp(self.tcp()?)
        };
        Ok(Packet {
            direction,
            ip_note,
            body,
        })
    }

    fn tcp(&mut self) -> Res<TcpSegment> {
        let mut flags = String::new();
        loop {
            match self.peek() {
                Some(Tok::Ident(s))
                    if flags.is_empty() && s.chars().all(|c| "FSRPUEWAC".contains(c)) =>
                {
                    flags.push_str(s);
                    self.pos += 1;
                }
                Some(Tok::Punct('.')) => {
                    flags.push('.');
                    self.pos += 1;
                    break;
                }
                _ => break,
            }
        }
        if flags.is_empty() {
            return self.error(format!(
                "expected TCP flags (`S`, `S.`, `.`, `P.`, `F.`, `R`, …), found {}",
                self.describe()
            ));
        }
        let seq = if matches!(self.peek(), Some(Tok::Int(_) | Tok::Ellipsis)) {
            Some(self.seq_spec()?)
        } else {
            None
        };
        let mut seg = TcpSegment {
            flags,
            seq,
            ack: None,
            win: None,
            urg: None,
            options: None,
        };
        loop {
            if self.eat_ident("ack") {
                seg.ack = Some(self.number_u32("after `ack`")?);
            } else if self.eat_ident("win") {
                seg.win = Some(self.number_u32("after `win`")?);
            } else if self.eat_ident("urg") {
                seg.urg = Some(self.number_u32("after `urg`")?);
            } else if self.eat_punct('<') {
                seg.options = Some(self.tcp_options()?);
            } else {
                break;
            }
        }
        Ok(seg)
    }

    /// `start:end(len)` or `...(len)`.
    fn seq_spec(&mut self) -> Res<SeqSpec> {
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            self.expect_punct('(', "before the data length")?;
            let len = self.number_u32("as the data length")?;
            self.expect_punct(')', "after the data length")?;
            return Ok(SeqSpec {
                any: true,
                start: 0,
                end: 0,
                len,
            });
        }
        let start = self.number_u32("as the first sequence number")?;
        self.expect_punct(':', "between the sequence numbers")?;
        let end = self.number_u32("as the sequence number after the data")?;
        self.expect_punct('(', "before the data length")?;
        let len = self.number_u32("as the data length")?;
        self.expect_punct(')', "after the data length")?;
        Ok(SeqSpec {
            any: false,
            start,
            end,
            len,
        })
    }

    fn number_u32(&mut self, what: &str) -> Res<u32> {
        match self.peek() {
            Some(Tok::Int(n) | Tok::Hex(n)) => match u32::try_from(*n) {
                Ok(v) => {
                    self.pos += 1;
                    Ok(v)
                }
                Err(_) => self.error(format!("{n} does not fit 32 bits ({what})")),
            },
            _ => self.error(format!(
                "expected a number {what}, found {}",
                self.describe()
            )),
        }
    }

    /// After `<`: options up to `>`.
    fn tcp_options(&mut self) -> Res<TcpOptions> {
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            self.expect_punct('>', "after `<...`")?;
            return Ok(TcpOptions::Any);
        }
        let mut list = Vec::new();
        if self.eat_punct('>') {
            return Ok(TcpOptions::List(list));
        }
        loop {
            list.push(self.tcp_option()?);
            if self.eat_punct('>') {
                return Ok(TcpOptions::List(list));
            }
            self.expect_punct(',', "between TCP options")?;
        }
    }

    fn tcp_option(&mut self) -> Res<TcpOption> {
        let Some(Tok::Ident(name)) = self.peek().cloned() else {
            return self.error(format!(
                "expected a TCP option (`mss`, `nop`, `wscale`, `sackOK`, `sack`, `TS`, `eol`, \
                 …), found {}",
                self.describe()
            ));
        };
        self.pos += 1;
        Ok(match name.as_str() {
            "nop" => TcpOption::Nop,
            "eol" => TcpOption::Eol,
            "mss" => {
                let v = self.number_u32("after `mss`")?;
                match u16::try_from(v) {
                    Ok(v) => TcpOption::Mss(v),
                    Err(_) => return self.error(format!("mss {v} does not fit 16 bits")),
                }
            }
            "wscale" => {
                let v = self.number_u32("after `wscale`")?;
                match u8::try_from(v) {
                    Ok(v) => TcpOption::WindowScale(v),
                    Err(_) => return self.error(format!("wscale {v} does not fit 8 bits")),
                }
            }
            "sackOK" => TcpOption::SackPermitted,
            "sack" => {
                let mut blocks = Vec::new();
                while matches!(self.peek(), Some(Tok::Int(_))) {
                    let l = self.number_u32("as a SACK block's left edge")?;
                    self.expect_punct(':', "in a SACK block")?;
                    let r = self.number_u32("as a SACK block's right edge")?;
                    blocks.push((l, r));
                }
                TcpOption::Sack(blocks)
            }
            "TS" => {
                if !self.eat_ident("val") {
                    return self.error("expected `val` after `TS`");
                }
                let val = self.number_u32("after `val`")?;
                if !self.eat_ident("ecr") {
                    return self.error("expected `ecr` after the TSval");
                }
                let ecr = self.number_u32("after `ecr`")?;
                TcpOption::Timestamps { val, ecr }
            }
            "FO" | "FOEXP" => {
                let mut cookie = Vec::new();
                while let Some(Tok::Hex(n) | Tok::Int(n)) = self.peek().cloned() {
                    self.pos += 1;
                    cookie.extend(n.to_be_bytes().into_iter().skip_while(|b| *b == 0));
                }
                if let Some(Tok::Ident(s)) = self.peek().cloned()
                    && s.chars().all(|c| c.is_ascii_hexdigit())
                {
                    self.pos += 1;
                    cookie.extend(hex_bytes(&s));
                }
                TcpOption::FastOpen(cookie)
            }
            _ => {
                // Any other option: its words, up to `,` or `>`.
                let mut words = vec![name];
                while !matches!(
                    self.peek(),
                    Some(Tok::Punct(',' | '>')) | None | Some(Tok::Newline)
                ) {
                    match self.bump() {
                        Some(Tok::Ident(s) | Tok::Float(s)) => words.push(s),
                        Some(Tok::Int(n) | Tok::Hex(n)) => words.push(n.to_string()),
                        Some(Tok::Punct(c)) => words.push(c.to_string()),
                        _ => {
                            self.pos -= 1;
                            return self.error("unexpected token in a TCP option");
                        }
                    }
                }
                TcpOption::Other(words.join(" "))
            }
        })
    }

    /// After `icmp`: `TYPE [CODE] [words] [[seq:end(len)]]`.
    fn icmp(&mut self) -> Res<Icmp> {
        let kind = match self.bump() {
            Some(Tok::Ident(s)) => s,
            _ => {
                self.pos -= 1;
                return self.error("expected the ICMP type after `icmp`");
            }
        };
        let mut words = Vec::new();
        let mut seq = None;
        while !self.at_line_end() {
            if self.eat_punct('[') {
                seq = Some(self.seq_spec()?);
                self.expect_punct(']', "after the quoted sequence numbers")?;
                continue;
            }
            match self.bump() {
                Some(Tok::Ident(s)) => words.push(s),
                Some(Tok::Int(n)) => words.push(n.to_string()),
                _ => {
                    self.pos -= 1;
                    return self.error(format!("unexpected {} in an ICMP line", self.describe()));
                }
            }
        }
        let mut words = words.into_iter();
        let code = words.next();
        Ok(Icmp {
            kind,
            code,
            extra: words.collect(),
            seq,
        })
    }

    /// `name(args) = result [ERRNO] [(note)]`.
    fn syscall(&mut self) -> Res<Syscall> {
        let Some(Tok::Ident(name)) = self.bump() else {
            self.pos -= 1;
            return self.error("expected a system call's name");
        };
        self.expect_punct('(', &format!("after the system call's name `{name}`"))?;
        let args = self.exprs(')')?;
        self.expect_punct('=', "before the expected result")?;
        let result = self.expr()?;
        let errno = match self.peek() {
            Some(Tok::Ident(s)) if s.starts_with('E') => {
                let s = s.clone();
                self.pos += 1;
                Some(s)
            }
            _ => None,
        };
        let note = if self.peek() == Some(&Tok::Punct('(')) {
            Some(self.note()?)
        } else {
            None
        };
        Ok(Syscall {
            name,
            args,
            result,
            errno,
            note,
        })
    }

    /// A parenthesised note: its words, nested parentheses kept.
    fn note(&mut self) -> Res<String> {
        self.expect_punct('(', "opening a note")?;
        let mut depth = 1;
        let mut words: Vec<String> = Vec::new();
        loop {
            match self.bump() {
                Some(Tok::Punct('(')) => {
                    depth += 1;
                    words.push("(".into());
                }
                Some(Tok::Punct(')')) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(words.join(" "));
                    }
                    words.push(")".into());
                }
                Some(Tok::Ident(s) | Tok::Float(s) | Tok::Str(s)) => words.push(s),
                Some(Tok::Int(n) | Tok::Hex(n)) => words.push(n.to_string()),
                Some(Tok::Punct(c)) => words.push(c.to_string()),
                Some(Tok::Ellipsis) => words.push("...".into()),
                _ => {
                    self.pos -= 1;
                    return self.error("unterminated note: expected `)`");
                }
            }
        }
    }

    /// Expressions separated by commas, up to `close` (consumed).
    fn exprs(&mut self, close: char) -> Res<Vec<Expr>> {
        let mut list = Vec::new();
        if self.eat_punct(close) {
            return Ok(list);
        }
        loop {
            list.push(self.expr()?);
            if self.eat_punct(close) {
                return Ok(list);
            }
            self.expect_punct(',', &format!("or `{close}` after an argument"))?;
        }
    }

    fn expr(&mut self) -> Res<Expr> {
        let first = self.primary()?;
        if self.peek() != Some(&Tok::Punct('|')) {
            return Ok(first);
        }
        let mut terms = vec![first];
        while self.eat_punct('|') {
            terms.push(self.primary()?);
        }
        Ok(Expr::Or(terms))
    }

    fn primary(&mut self) -> Res<Expr> {
        match self.peek().cloned() {
            Some(Tok::Ellipsis) => {
                self.pos += 1;
                Ok(Expr::Ellipsis)
            }
            Some(Tok::Int(n) | Tok::Hex(n)) => {
                self.pos += 1;
                match i64::try_from(n) {
                    Ok(v) => Ok(Expr::Int(v)),
                    Err(_) => Ok(Expr::Int(n as i64)),
                }
            }
            Some(Tok::Punct('-')) => {
                self.pos += 1;
                match self.bump() {
                    Some(Tok::Int(n)) => Ok(Expr::Int(-i64::try_from(n).unwrap_or(i64::MAX))),
                    _ => {
                        self.pos -= 1;
                        self.error("expected a number after `-`")
                    }
                }
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Some(Tok::Punct('[')) => {
                self.pos += 1;
                Ok(Expr::Array(self.exprs(']')?))
            }
            Some(Tok::Punct('{')) => {
                self.pos += 1;
                let mut fields = Vec::new();
                if self.eat_punct('}') {
                    return Ok(Expr::Struct(fields));
                }
                loop {
                    let named = matches!(
                        (self.peek(), self.peek_at(1)),
                        (Some(Tok::Ident(_)), Some(Tok::Punct('=')))
                    );
                    if named {
                        let Some(Tok::Ident(field)) = self.bump() else {
                            return self.error("expected a field name");
                        };
                        self.pos += 1;
                        fields.push((field, self.expr()?));
                    } else {
                        fields.push((String::new(), self.expr()?));
                    }
                    if self.eat_punct('}') {
                        return Ok(Expr::Struct(fields));
                    }
                    self.expect_punct(',', "or `}` in a struct")?;
                }
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.eat_punct('(') {
                    Ok(Expr::Call(name, self.exprs(')')?))
                } else {
                    Ok(Expr::Ident(name))
                }
            }
            _ => self.error(format!(
                "expected an argument (a number, a name, a string, `...`, `[…]`, `{{…}}`), \
                 found {}",
                self.describe()
            )),
        }
    }
}

/// `s` seconds (`"0.100"`) in µs, if it fits.
fn seconds_to_usecs(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let whole: i64 = whole.parse().ok()?;
    let mut digits: String = frac.chars().take(6).collect();
    while digits.len() < 6 {
        digits.push('0');
    }
    let frac: i64 = digits.parse().ok()?;
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

fn hex_bytes(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Event {
        let s = parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.events.len(), 1, "{s:?}");
        s.events[0].clone()
    }

    #[test]
    fn an_init_command_runs_at_time_zero() {
        let s = parse("`../common/defaults.sh\nsysctl -q a=1`\n\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
            .expect("parses");
        assert_eq!(s.events.len(), 2);
        assert!(matches!(&s.events[0].action, Action::Shell(c) if c.contains("defaults.sh")));
        assert!(matches!(
            s.events[0].time,
            Time::At(TimePoint {
                relative: false,
                usecs: 0
            })
        ));
        assert!(
            parse("0 close(3) = 0\n`echo late`\n").is_err(),
            "only before the first event"
        );
    }

    #[test]
    fn times() {
        assert_eq!(
            one("+0.1 close(3) = 0").time,
            Time::At(TimePoint {
                relative: true,
                usecs: 100_000
            })
        );
        assert_eq!(one("* close(3) = 0").time, Time::Any);
        let e = one("0.1~0.25 close(3) = 0");
        assert!(matches!(e.time, Time::Range(a, b) if a.usecs == 100_000 && b.usecs == 250_000));
        let e = one("0...0.2 read(3, ..., 1) = 1");
        assert!(matches!(e.time, Time::Blocking(_, b) if b.usecs == 200_000));
    }

    #[test]
    fn a_segment_with_everything() {
        let e = one(
            "+0 > S. 0:0(0) ack 1 win 65535 urg 3 <mss 1460,sackOK,TS val 100 ecr 7,nop,wscale 6,sack 1:2 3:4,eol>",
        );
        let Action::Packet(p) = e.action else {
            panic!("a packet")
        };
        assert_eq!(p.direction, Direction::Outbound);
        let PacketBody::Tcp(t) = p.body else {
            panic!("TCP")
        };
        assert_eq!(t.flags, "S.");
        assert!(t.has('S') && t.has('A') && !t.has('F'));
        assert_eq!(
            t.seq,
            Some(SeqSpec {
                any: false,
                start: 0,
                end: 0,
                len: 0
            })
        );
        assert_eq!((t.ack, t.win, t.urg), (Some(1), Some(65535), Some(3)));
        assert_eq!(
            t.options,
            Some(TcpOptions::List(vec![
                TcpOption::Mss(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { val: 100, ecr: 7 },
                TcpOption::Nop,
                TcpOption::WindowScale(6),
                TcpOption::Sack(vec![(1, 2), (3, 4)]),
                TcpOption::Eol,
            ]))
        );
    }

    #[test]
    fn icmp_and_ip_notes() {
        let e = one("+0.1 < icmp unreachable packet_filtered [1:1(0)]");
        let Action::Packet(p) = e.action else {
            panic!("a packet")
        };
        assert_eq!(
            p.body,
            PacketBody::Icmp(Icmp {
                kind: "unreachable".into(),
                code: Some("packet_filtered".into()),
                extra: vec![],
                seq: Some(SeqSpec {
                    any: false,
                    start: 1,
                    end: 1,
                    len: 0
                })
            })
        );
        let e = one("+0 >[ect0] P. 1:11(10) ack 1");
        let Action::Packet(p) = e.action else {
            panic!("a packet")
        };
        assert_eq!(p.ip_note.as_deref(), Some("ect0"));
    }

    #[test]
    fn syscalls() {
        let e = one("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)");
        let Action::Syscall(s) = e.action else {
            panic!("a syscall")
        };
        assert_eq!(s.name, "connect");
        assert_eq!(s.args, [Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis]);
        assert_eq!(s.result, Expr::Int(-1));
        assert_eq!(s.errno.as_deref(), Some("EINPROGRESS"));
        assert_eq!(s.note.as_deref(), Some("Operation now in progress"));
        let e = one("0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0");
        let Action::Syscall(s) = e.action else {
            panic!("a syscall")
        };
        assert_eq!(
            s.args[3],
            Expr::Struct(vec![
                ("onoff".into(), Expr::Int(1)),
                ("linger".into(), Expr::Int(0))
            ])
        );
        let e = one("0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0");
        let Action::Syscall(s) = e.action else {
            panic!("a syscall")
        };
        assert_eq!(
            s.args[2],
            Expr::Or(vec![
                Expr::Ident("O_RDWR".into()),
                Expr::Ident("O_NONBLOCK".into())
            ])
        );
        let e = one("0 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)");
        let Action::Syscall(s) = e.action else {
            panic!("a syscall")
        };
        assert_eq!(
            (s.result, s.note.as_deref()),
            (Expr::Int(2), Some("flags O_RDWR"))
        );
    }

    #[test]
    fn guards_and_options() {
        let s = parse(
            "--tolerance_usecs=10000\n0 close(3) = 0\n#ifdef FreeBSD\n0 close(4) = 0\n#else\n0 close(5) = 0\n#endif\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.option("tolerance_usecs"), Some("10000"));
        let lines =
            |defined: &[&str]| -> Vec<usize> { s.active_events(defined).map(|e| e.line).collect() };
        assert_eq!(lines(&["FreeBSD"]), [2, 4]);
        assert_eq!(lines(&[]), [2, 6]);
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse("0 close(3) = 0\n+0 < S 0:0 win 1").expect_err("no (len)");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("before the data length"), "{e}");
        let e = parse("#ifdef X\n0 close(3) = 0\n").expect_err("open #ifdef");
        assert_eq!(e.line, 1);
        let e = parse("0 < Q 1:1(0)").expect_err("bad flags");
        assert!(e.message.contains("TCP flags"), "{e}");
    }
}
