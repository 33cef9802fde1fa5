//! Reading the IR's text form (described in [`print`](super::print)) back into a [`Program`].
//!
//! A tokenizer splits the text into logical lines (a newline inside parentheses does not end
//! one); each line is one declaration, read by a small recursive-descent reader. Expression
//! trees are assembled with an explicit stack, so deep nesting cannot overflow the call stack,
//! and nodes are numbered in canonical post-order. Any malformed input gives a [`ParseError`]
//! naming the line; nothing panics. The parser checks syntax and id density only; semantic
//! consistency is [`verify`](super::verify)'s business.

use std::fmt;
use std::iter::Peekable;
use std::str::{CharIndices, FromStr};

use cranelift_entity::EntityRef;
use prolac_syntax::Span;

use super::print::{BIN_OPS, CONVS, INTS, PROVENANCES, UN_OPS, operands};
use super::{
    Body, Callee, Const, Exception, ExprId, ExprKind, Field, Handles, HostRef, HostSubst, Local,
    Method, MethodKind, Module, Program, Selector, Support, TypeKind, Yields,
};

/// A syntax error in IR text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line it was found on.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

type Result<T> = std::result::Result<T, ParseError>;

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T> {
    let message = message.into();
    Err(ParseError { line, message })
}

/// A token.
#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Open,
    Close,
    LBrace,
    RBrace,
    Atom(&'a str),
    Str(Vec<u8>),
}

/// A token and its line.
#[derive(Debug)]
struct Token<'a> {
    tok: Tok<'a>,
    line: usize,
}

/// Splits text into logical lines of tokens, skipping comments and empty lines.
fn tokenize(text: &str) -> Result<Vec<Vec<Token<'_>>>> {
    let (mut lines, mut cur, mut opens) = (Vec::new(), Vec::new(), Vec::new());
    let mut line = 1;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let tok = match c {
            '\n' => {
                line += 1;
                if opens.is_empty() && !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                }
                continue;
            }
            ';' => {
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
                continue;
            }
            c if c.is_whitespace() => continue,
            '(' => {
                opens.push(line);
                Tok::Open
            }
            ')' if opens.pop().is_none() => return fail(line, "unmatched ')'"),
            ')' => Tok::Close,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            '"' => Tok::Str(string(&mut chars, line)?),
            _ => {
                let delimits = |c: char| c.is_whitespace() || "(){}\";".contains(c);
                while chars.next_if(|&(_, c)| !delimits(c)).is_some() {}
                let end = chars.peek().map_or(text.len(), |&(j, _)| j);
                Tok::Atom(text.get(i..end).unwrap_or(""))
            }
        };
        cur.push(Token { tok, line });
    }
    if let Some(&open) = opens.first() {
        return fail(open, "unclosed '('");
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    Ok(lines)
}

/// Reads the rest of a quoted string, unescaping it to bytes.
fn string(chars: &mut Peekable<CharIndices<'_>>, line: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0; 4];
    loop {
        let c = match chars.next().map(|(_, c)| c) {
            None | Some('\n') => return fail(line, "unterminated string"),
            Some('"') => return Ok(out),
            Some('\\') => match chars.next().map(|(_, c)| c) {
                Some('"') => '"',
                Some('\\') => '\\',
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('x') => {
                    let mut digit = || chars.next().and_then(|(_, c)| c.to_digit(16));
                    match (digit(), digit()) {
                        (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                        _ => return fail(line, "bad \\x escape"),
                    }
                    continue;
                }
                Some('u') if chars.next_if(|&(_, c)| c == '{').is_some() => {
                    let (mut v, mut digits) = (0u32, 0);
                    while let Some((_, d)) = chars.next_if(|&(_, c)| c.is_ascii_hexdigit()) {
                        v = v
                            .saturating_mul(16)
                            .saturating_add(d.to_digit(16).unwrap_or(0));
                        digits += 1;
                    }
                    let closed = chars.next_if(|&(_, c)| c == '}').is_some();
                    match char::from_u32(v) {
                        Some(c) if closed && (1..=6).contains(&digits) => c,
                        _ => return fail(line, "bad \\u{…} escape"),
                    }
                }
                _ => return fail(line, "unknown escape in string"),
            },
            Some(c) => c,
        };
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

/// Parses `prefix` followed by a decimal id.
fn id<E: EntityRef>(s: &str, prefix: &str) -> Option<E> {
    let n: u32 = number(s.strip_prefix(prefix)?)?;
    (n < u32::MAX).then(|| E::new(n as usize))
}

/// Parses an unsigned decimal number (digits only).
fn number<T: FromStr>(s: &str) -> Option<T> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| s.parse().ok()).flatten()
}

/// Parses a constant: a `u64`, or a negative `i64` standing for its bits.
fn constant(s: &str) -> Option<Const> {
    match s.strip_prefix('-') {
        Some(rest) => number::<u64>(rest)
            .and(s.parse::<i64>().ok())
            .map(|v| Const(v as u64)),
        None => number(s).map(Const),
    }
}

/// Looks up a name in one of the printer's tables.
fn lookup<T: Copy>(table: &[(T, &str)], s: &str) -> Option<T> {
    table.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
}

/// A cursor over the tokens of one line (or of one node's attributes).
struct Cur<'l, 'a> {
    toks: &'l [Token<'a>],
    pos: usize,
    line: usize,
}

impl<'l, 'a> Cur<'l, 'a> {
    fn new(toks: &'l [Token<'a>], line: usize) -> Self {
        Cur { toks, pos: 0, line }
    }

    fn line(&self) -> usize {
        self.toks.get(self.pos).map_or(self.line, |t| t.line)
    }

    fn fail<T>(&self, what: &str) -> Result<T> {
        let found = match self.toks.get(self.pos).map(|t| &t.tok) {
            None => "end of line".to_string(),
            Some(Tok::Atom(a)) => format!("`{a}`"),
            Some(Tok::Str(_)) => "a string".into(),
            Some(t) => format!("{t:?}"),
        };
        fail(self.line(), format!("expected {what}, found {found}"))
    }

    fn bump<T>(&mut self, t: T) -> T {
        self.pos += 1;
        t
    }

    /// The next token, if it is an atom that `f` accepts, turned into a value.
    fn take<T>(&mut self, what: &str, f: impl FnOnce(&'a str) -> Option<T>) -> Result<T> {
        match self.peek().and_then(f) {
            Some(v) => Ok(self.bump(v)),
            None => self.fail(what),
        }
    }

    fn peek(&self) -> Option<&'a str> {
        match self.toks.get(self.pos).map(|t| &t.tok) {
            Some(Tok::Atom(a)) => Some(a),
            _ => None,
        }
    }

    fn atom(&mut self, what: &str) -> Result<&'a str> {
        self.take(what, Some)
    }

    fn keyword(&mut self, kw: &str) -> Result<()> {
        self.take(&format!("`{kw}`"), |a| (a == kw).then_some(()))
    }

    fn eat(&mut self, kw: &str) -> bool {
        self.peek() == Some(kw) && self.bump(true)
    }

    fn id<E: EntityRef>(&mut self, prefix: &str) -> Result<E> {
        self.take(&format!("a `{prefix}` id"), |a| id(a, prefix))
    }

    /// Ids with this prefix, for as long as there are some.
    fn ids<E: EntityRef>(&mut self, prefix: &str) -> Vec<E> {
        std::iter::from_fn(|| self.take("", |a| id(a, prefix)).ok()).collect()
    }

    /// `kw value`, or nothing.
    fn opt<T>(&mut self, kw: &str, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<Option<T>> {
        if self.eat(kw) {
            f(self).map(Some)
        } else {
            Ok(None)
        }
    }

    fn number<T: FromStr>(&mut self, what: &str) -> Result<T> {
        self.take(what, number)
    }

    fn name<T: Copy>(&mut self, table: &[(T, &str)], what: &str) -> Result<T> {
        self.take(what, |a| lookup(table, a))
    }

    fn bytes(&mut self) -> Result<Vec<u8>> {
        match self.toks.get(self.pos).map(|t| &t.tok) {
            Some(Tok::Str(s)) => Ok(self.bump(s.clone())),
            _ => self.fail("a string"),
        }
    }

    fn text(&mut self) -> Result<String> {
        let line = self.line();
        String::from_utf8(self.bytes()?).or_else(|_| fail(line, "string is not UTF-8"))
    }

    fn punct(&mut self, want: &Tok<'_>, what: &str) -> Result<()> {
        match self.toks.get(self.pos) {
            Some(t) if t.tok == *want => {
                self.pos += 1;
                Ok(())
            }
            _ => self.fail(what),
        }
    }

    /// A parenthesised list of ids.
    fn list<E: EntityRef>(&mut self, prefix: &str) -> Result<Vec<E>> {
        self.punct(&Tok::Open, "'('")?;
        let ids = self.ids(prefix);
        self.punct(&Tok::Close, &format!("a `{prefix}` id or ')'"))?;
        Ok(ids)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn end(&self) -> Result<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.fail("end of line")
        }
    }
}

/// Parses the id that starts a declaration, which must be the next of its kind.
fn declared<E: EntityRef + fmt::Display>(
    head: &str,
    prefix: &str,
    next: usize,
    line: usize,
) -> Result<()> {
    match id::<E>(head, prefix) {
        None => fail(line, format!("bad id `{head}`")),
        Some(e) if e.index() != next => fail(line, format!("{e} out of order (expected {next})")),
        Some(_) => Ok(()),
    }
}

/// Parses a whole program.
pub fn program(text: &str) -> Result<Program> {
    let lines = tokenize(text)?;
    let (mut p, span) = (Program::default(), Span::default());
    let (mut rest, mut ntypes) = (lines.iter(), 0);
    while let Some(toks) = rest.next() {
        let mut c = Cur::new(toks, toks.first().map_or(0, |t| t.line));
        let line = c.line();
        let head = c.atom("a declaration")?;
        match head.trim_end_matches(|c: char| c.is_ascii_digit()) {
            "exports" => p.exports.extend(c.ids::<super::MethodId>("fn")),
            "alias" => {
                let name = c.text()?;
                let m = c.id::<super::ModuleId>("m")?;
                p.aliases.push((name, m));
            }
            "support" => {
                let prologue = c.name(&[(true, "prologue"), (false, "epilogue")], "a place")?;
                let text = c.text()?;
                p.support.push(Support {
                    text,
                    prologue,
                    span,
                });
            }
            "t" => {
                declared::<super::TypeId>(head, "t", ntypes, line)?;
                c.keyword("=")?;
                let kind = type_kind(&mut c)?;
                if p.types.intern(kind).index() != ntypes {
                    return fail(line, "duplicate type");
                }
                ntypes += 1;
            }
            "m" => {
                declared::<super::ModuleId>(head, "m", p.modules.len(), line)?;
                let name = c.text()?;
                let parent = c.opt("parent", |c| c.id("m"))?;
                c.keyword("fields")?;
                let fields = c.ids("f");
                c.keyword("vtable")?;
                let entry = |a: &str| {
                    let (s, m) = a.split_once('=')?;
                    Some((id(s, "sel")?, id(m, "fn")?))
                };
                let vtable = std::iter::from_fn(|| c.take("", entry).ok()).collect();
                let constructor = c.opt("constructor", |c| c.id("fn"))?;
                let module = Module {
                    name,
                    parent,
                    fields,
                    vtable,
                    constructor,
                    span,
                };
                p.modules.push(module);
            }
            "f" => {
                declared::<super::FieldId>(head, "f", p.fields.len(), line)?;
                let name = c.text()?;
                c.keyword("owner")?;
                let owner = c.id("m")?;
                c.keyword("type")?;
                let (ty, is_static) = (c.id("t")?, c.eat("static"));
                let pinned = c.opt("pinned", |c| c.number("an offset"))?;
                p.fields.push(Field {
                    name,
                    owner,
                    ty,
                    is_static,
                    pinned,
                    span,
                });
            }
            "x" => {
                declared::<super::ExceptionId>(head, "x", p.exceptions.len(), line)?;
                let name = c.text()?;
                c.keyword("owner")?;
                let owner = c.id("m")?;
                p.exceptions.push(Exception { name, owner, span });
            }
            "sel" => {
                declared::<super::SelectorId>(head, "sel", p.selectors.len(), line)?;
                let name = c.text()?;
                c.keyword("origin")?;
                let origin = c.id("m")?;
                p.selectors.push(Selector { name, origin });
            }
            "fn" => {
                declared::<super::MethodId>(head, "fn", p.methods.len(), line)?;
                let mut m = method(&mut c)?;
                if !c.at_end() {
                    c.punct(&Tok::LBrace, "'{' or end of line")?;
                    c.end()?;
                    m.body = Some(body(&mut rest, line)?);
                }
                p.methods.push(m);
            }
            _ => return fail(line, format!("unknown declaration `{head}`")),
        }
        c.end()?;
    }
    Ok(p)
}

/// Parses a type kind.
fn type_kind(c: &mut Cur<'_, '_>) -> Result<TypeKind> {
    Ok(match c.atom("a type")? {
        "void" => TypeKind::Void,
        "bool" => TypeKind::Bool,
        "seqint" => TypeKind::SeqInt,
        "never" => TypeKind::Never,
        "ptr" => TypeKind::Ptr(c.id("t")?),
        "array" => TypeKind::Array(c.id("t")?, c.number("a length")?),
        "module" => TypeKind::Module(c.id("m")?),
        word => match lookup(&INTS, word) {
            Some((width, signed)) => TypeKind::Int { width, signed },
            None => return fail(c.line, format!("unknown type `{word}`")),
        },
    })
}

/// Parses the rest of a method's signature line (after its id).
fn method(c: &mut Cur<'_, '_>) -> Result<Method> {
    let name = c.text()?;
    c.keyword("owner")?;
    let owner = c.id("m")?;
    let kind = match c.atom("a method kind")? {
        "static" => MethodKind::Static,
        "dynamic" => MethodKind::Dynamic(c.id("sel")?),
        "constructor" => MethodKind::Constructor,
        "extern" => MethodKind::Extern {
            link_name: c.text()?,
        },
        other => return fail(c.line, format!("unknown method kind `{other}`")),
    };
    c.keyword("params")?;
    let params = c.list("t")?;
    c.keyword("ret")?;
    let ret = c.id("t")?;
    c.keyword("inline")?;
    let inline = c.number("an inline level")?;
    c.keyword("raises")?;
    let raises = c.list("x")?;
    let provenance = c.name(&PROVENANCES, "a provenance")?;
    let (body, span) = (None, Span::default());
    Ok(Method {
        name,
        owner,
        kind,
        params,
        ret,
        body,
        inline,
        raises,
        provenance,
        span,
    })
}

/// Parses a body's lines up to its closing `}`.
fn body<'l, 'a: 'l>(
    rest: &mut impl Iterator<Item = &'l Vec<Token<'a>>>,
    start: usize,
) -> Result<Body> {
    let mut b = Body::default();
    for toks in rest.by_ref() {
        let mut c = Cur::new(toks, toks.first().map_or(start, |t| t.line));
        let line = c.line();
        if c.punct(&Tok::RBrace, "").is_ok() {
            c.end()?;
            return Ok(b);
        }
        let head = c.atom("a local, `root` or '}'")?;
        if b.root.is_some() {
            return fail(line, "expected '}' after the root");
        }
        match head {
            "root" => b.root = Some(expr(&mut b, toks.get(1..).unwrap_or(&[]), line)?),
            "unreachable" => return fail(line, "unreachable nodes: the text form holds trees"),
            _ => {
                declared::<super::LocalId>(head, "v", b.locals.len(), line)?;
                let (name, ty) = (c.text()?, c.id("t")?);
                c.end()?;
                b.locals.push(Local { name, ty });
            }
        }
    }
    fail(start, "body not closed by '}'")
}

/// A node being read: its kind name and type, its attribute tokens (a range of the line) and
/// the operands read so far.
struct Frame<'a> {
    name: &'a str,
    ty: super::TypeId,
    attrs: std::ops::Range<usize>,
    kids: Vec<ExprId>,
}

/// Parses one expression tree, pushing its nodes into `b` in post-order.
fn expr(b: &mut Body, toks: &[Token<'_>], line: usize) -> Result<ExprId> {
    let (mut stack, mut root, mut i) = (Vec::<Frame<'_>>::new(), None, 0);
    while let Some(t) = toks.get(i) {
        if root.is_some() {
            return fail(t.line, "unexpected token after the expression");
        }
        match (&t.tok, stack.last_mut()) {
            (Tok::Open, _) => {
                let head = match toks.get(i + 1).map(|t| &t.tok) {
                    Some(Tok::Atom(a)) => *a,
                    _ => return fail(t.line, "expected `kind:type` after '('"),
                };
                let (name, ty) = head.split_once(':').unwrap_or((head, ""));
                if name == "shared" || name == "invalid" {
                    return fail(t.line, format!("{name} node: text holds only trees"));
                }
                let Some(ty) = id(ty, "t") else {
                    return fail(t.line, format!("expected `kind:type`, found `{head}`"));
                };
                let (attrs, kids) = (i + 2..i + 2, Vec::new());
                stack.push(Frame {
                    name,
                    ty,
                    attrs,
                    kids,
                });
                i += 1;
            }
            (Tok::Close, Some(_)) => {
                let Some(f) = stack.pop() else { break };
                let (ty, attrs) = (f.ty, toks.get(f.attrs.clone()).unwrap_or(&[]));
                let e = b.push(node(f, &mut Cur::new(attrs, t.line))?, ty, Span::default());
                match stack.last_mut() {
                    Some(parent) => parent.kids.push(e),
                    None => root = Some(e),
                }
            }
            (Tok::Atom(_) | Tok::Str(_), Some(f)) if f.kids.is_empty() => f.attrs.end = i + 1,
            (Tok::Atom(_) | Tok::Str(_), Some(_)) => {
                return fail(t.line, "attribute after operand");
            }
            (Tok::LBrace | Tok::RBrace, _) => return fail(t.line, "brace in an expression"),
            (_, None) => return fail(t.line, "expected '('"),
        }
        i += 1;
    }
    root.map_or_else(|| fail(line, "missing or incomplete expression"), Ok)
}

/// Builds a node's kind from its attributes and operands; the operand count is checked last,
/// against the kind built.
fn node(f: Frame<'_>, c: &mut Cur<'_, '_>) -> Result<ExprKind> {
    let (name, n, kids) = (f.name, f.kids.len(), f.kids);
    let [k0, k1] = [0, 1].map(|i| kids.get(i).copied().unwrap_or(ExprId::from_u32(0)));
    let kind = match name {
        "const" => ExprKind::Const(c.take("a constant", constant)?),
        "str" => ExprKind::Str(c.bytes()?),
        "zero" => ExprKind::Zero,
        "local" => ExprKind::Local(c.id("v")?),
        "field" => {
            let field = c.id("f")?;
            ExprKind::Field { object: k0, field }
        }
        "static" => ExprKind::Static(c.id("f")?),
        "deref" => ExprKind::Deref(k0),
        "index" => {
            let (array, index) = (k0, k1);
            ExprKind::Index { array, index }
        }
        "addr" => ExprKind::AddrOf(k0),
        "binary" => ExprKind::Binary(c.name(&BIN_OPS, "an operator")?, k0, k1),
        "unary" => ExprKind::Unary(c.name(&UN_OPS, "an operator")?, k0),
        "convert" => ExprKind::Convert(c.name(&CONVS, "a conversion")?, k0),
        "assign" => {
            let (place, value) = (k0, k1);
            ExprKind::Assign { place, value }
        }
        "update" => {
            let (place, op, value) = (k0, c.name(&BIN_OPS, "an operator")?, k1);
            let yields = c.name(
                &[(Yields::New, "new"), (Yields::Old, "old")],
                "`new` or `old`",
            )?;
            ExprKind::Update {
                place,
                op,
                value,
                yields,
            }
        }
        "call" => {
            let callee = match c.atom("`direct` or `virtual`")? {
                "direct" => Callee::Direct(c.id("fn")?),
                "virtual" => Callee::Virtual(c.id("sel")?),
                _ => return fail(c.line, "expected `direct` or `virtual`"),
            };
            let inline = c.opt("inline", |c| c.number("an inline level"))?;
            ExprKind::Call {
                callee,
                args: kids,
                inline,
            }
        }
        "seq" => ExprKind::Seq(kids),
        "recur" => ExprKind::Recur(kids),
        "if" => {
            let otherwise = kids.get(2).copied();
            ExprKind::If {
                cond: k0,
                then: k1,
                otherwise,
            }
        }
        "loop" => ExprKind::Loop {
            vars: c.ids("v"),
            body: k0,
        },
        "raise" => ExprKind::Raise(c.id("x")?),
        "catch" => {
            let handles = match c.atom("`all` or `only`")? {
                "all" => Handles::All,
                "only" => Handles::Only(c.ids("x")),
                _ => return fail(c.line, "expected `all` or `only`"),
            };
            ExprKind::Catch { body: k0, handles }
        }
        "host" => {
            let text = c.text()?;
            let subst = std::iter::from_fn(|| c.take("", host_subst).ok()).collect();
            ExprKind::Host { text, subst }
        }
        "abort" => ExprKind::Abort(c.text()?),
        "cold" => ExprKind::Cold {
            level: c.number("a level")?,
            expr: k0,
        },
        _ => return fail(c.line, format!("unknown expression kind `{name}`")),
    };
    c.end()?;
    let want = operands(&kind).len();
    if want != n {
        return fail(
            c.line,
            format!("`{name}` takes {want} operand(s), found {n}"),
        );
    }
    Ok(kind)
}

/// Parses a host substitution: `LO..HI=target`.
fn host_subst(s: &str) -> Option<HostSubst> {
    let (range, target) = s.split_once('=')?;
    let (lo, hi) = range.split_once("..")?;
    let target = match target.split_once(':') {
        None if target == "self" => HostRef::SelfObject,
        Some(("field", f)) => HostRef::Field(id(f, "f")?),
        Some(("static", f)) => HostRef::Static(id(f, "f")?),
        Some(("local", v)) => HostRef::Local(id(v, "v")?),
        Some(("const", rest)) => {
            let (c, t) = rest.rsplit_once(':')?;
            HostRef::Const(constant(c)?, id(t, "t")?)
        }
        _ => return None,
    };
    let range = number(lo)?..number(hi)?;
    Some(HostSubst { range, target })
}

#[cfg(test)]
mod tests;
