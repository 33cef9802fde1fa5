//! The interface to the generated LR parser: the context its actions use, and the one place
//! where lalrpop's error type becomes a [`Diagnostic`].

use lalrpop_util::{ErrorRecovery, ParseError};

use crate::ast::*;
use crate::codes::*;
use crate::diagnostic::Diagnostic;
use crate::fold::{self, Elem, expr_to_type};
use crate::lexer::literal::decode_string;
use crate::span::{FileId, Span};
use crate::token::Tok;

#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    unreachable_pub,
    missing_docs,
    unused_qualifications
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/grammar.rs"));
}

/// The parser's error type: the token stream never fails.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Never {}

/// What grammar actions need: the source, the file, and a place for diagnostics.
pub(crate) struct Ctx<'s> {
    src: &'s str,
    file: FileId,
    /// Diagnostics from grammar actions (casts, folding).
    pub(crate) diags: Vec<Diagnostic>,
    /// Syntax errors the parser recovered from, filtered before they are reported.
    parse_errors: Vec<Diagnostic>,
    /// Where each error recovery resumed normal parsing.
    recovery_ends: Vec<usize>,
}

impl<'s> Ctx<'s> {
    pub(crate) fn span(&self, l: usize, r: usize) -> Span {
        Span::new(self.file, l, r)
    }

    fn text(&self, l: usize, r: usize) -> &'s str {
        self.src.get(l..r).unwrap_or("")
    }

    pub(crate) fn ident(&self, l: usize, r: usize) -> Ident {
        Ident {
            text: self.text(l, r).into(),
            span: self.span(l, r),
        }
    }

    pub(crate) fn str_lit(&self, l: usize, r: usize) -> StrLit {
        StrLit {
            bytes: decode_string(self.text(l, r)),
            span: self.span(l, r),
        }
    }

    fn block(&self, l: usize, r: usize, open: &str, close: &str) -> HostText {
        let inner_lo = (l + open.len()).min(r);
        let text = self.text(l, r);
        let inner_hi = if text.len() >= open.len() + close.len() && text.ends_with(close) {
            r - close.len()
        } else {
            r // unterminated: runs to the end of the file
        };
        HostText {
            text: self.text(inner_lo, inner_hi).into(),
            span: self.span(l, r),
            content: self.span(inner_lo, inner_hi),
        }
    }

    pub(crate) fn host(&self, l: usize, r: usize) -> HostText {
        self.block(l, r, "{", "}")
    }

    pub(crate) fn support(&self, l: usize, r: usize) -> HostText {
        self.block(l, r, "%{", "%}")
    }

    pub(crate) fn fold_full(&mut self, elems: Vec<Elem>, l: usize, r: usize) -> Expr {
        let span = self.span(l, r);
        fold::fold_full(elems, span, &mut self.diags)
    }

    pub(crate) fn fold_arg(&mut self, elems: Vec<Elem>, l: usize, r: usize) -> Expr {
        let span = self.span(l, r);
        fold::fold_arg(elems, span, &mut self.diags)
    }

    /// `T[a][b]`: the array suffixes apply to the (pointer) type on their left.
    pub(crate) fn array_type(&self, l: usize, base: Type, suffixes: Vec<(Expr, usize)>) -> Type {
        suffixes.into_iter().fold(base, |elem, (len, r)| Type {
            kind: TypeKind::Array(Box::new(elem), Box::new(len)),
            span: self.span(l, r),
        })
    }

    /// A module expression used as a type; `(T)` without operators is a grouping.
    pub(crate) fn module_type(&self, m: ModuleExpr) -> Type {
        let span = m.span;
        match m.base {
            ModuleRef::Paren(inner) if m.ops.is_empty() => Type {
                kind: TypeKind::Paren(inner),
                span,
            },
            base => Type {
                kind: TypeKind::Module(Box::new(ModuleExpr { base, ..m })),
                span,
            },
        }
    }

    /// The parenthesised part of a cast, parsed as an expression, read back as a type.
    pub(crate) fn cast_type(&mut self, e: Expr) -> Type {
        let span = e.span;
        expr_to_type(e).unwrap_or_else(|| {
            self.diags.push(
                Diagnostic::new(P0203, span, "expected a type in a cast")
                    .with_label("parentheses followed by an operand form a cast")
                    .with_help(
                        "put an operator between the parenthesised expression and what follows",
                    ),
            );
            Type {
                kind: TypeKind::Error,
                span,
            }
        })
    }

    /// Turns a recovered parse error into a diagnostic.
    pub(crate) fn recover(&mut self, e: ErrorRecovery<usize, Tok, Never>) {
        let d = self.convert(e.error);
        self.parse_errors.push(d);
    }

    /// Records that a recovery skipped input up to offset `end`.
    pub(crate) fn recovered_to(&mut self, end: usize) {
        self.recovery_ends.push(end);
    }

    /// The one conversion from lalrpop's error type.
    fn convert(&self, e: ParseError<usize, Tok, Never>) -> Diagnostic {
        match e {
            ParseError::UnrecognizedToken {
                token: (l, tok, r),
                expected,
            } => {
                let found = match tok {
                    Tok::Ident => format!("identifier `{}`", self.text(l, r)),
                    Tok::Seq => "host block".to_string(),
                    t => t.describe().to_string(),
                };
                let mut d = Diagnostic::new(
                    P0200,
                    self.span(l, r),
                    format!("expected {}, found {found}", describe_expected(&expected)),
                )
                .with_label("unexpected here");
                if let Some(help) = hint(tok, &expected) {
                    d = d.with_help(help);
                }
                d
            }
            ParseError::UnrecognizedEof { location, expected } => Diagnostic::new(
                P0204,
                self.span(location, location),
                format!(
                    "unexpected end of file; expected {}",
                    describe_expected(&expected)
                ),
            )
            .with_label("the file ends here"),
            ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::new(
                P0200,
                self.span(l, r),
                format!("unexpected {}", tok.describe()),
            ),
            ParseError::InvalidToken { location } => {
                Diagnostic::new(P0200, self.span(location, location), "invalid token")
            }
            ParseError::User { error } => match error {},
        }
    }
}

/// Names the expected tokens the way a reader thinks of them.
fn describe_expected(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|s| s.trim_matches('"')).collect();
    let has = |n: &str| names.contains(&n);
    let expression = has("intlit") && has("ident") && has("(");
    let operator = has("+") && has("*") && has("==");
    let definition = has("module") && has("field") && has("exception");
    let ty = !expression && has("uint") && has("seqint") && has("*");
    let modop = !operator && has("hide") && has("show") && has("using");
    let mut parts: Vec<String> = Vec::new();
    if definition {
        parts.push("a definition".into());
    }
    if ty {
        parts.push("a type".into());
    }
    if modop {
        parts.push("a module operator".into());
    }
    if expression {
        parts.push("an expression".into());
    }
    if operator {
        parts.push("an operator".into());
    }
    let definition_start = [
        "module",
        "class",
        "field",
        "static",
        "exception",
        "export",
        "include",
        "layer",
        "compose",
        "support",
        "ident",
        "(",
        "constructor",
    ];
    let type_start = [
        "void", "bool", "char", "short", "int", "long", "uchar", "ushort", "uint", "ulong",
        "seqint", "*", "(", ".", "ident",
    ];
    let expression_start = [
        "intlit",
        "charlit",
        "string",
        "true",
        "false",
        "self",
        "super",
        "ident",
        "all",
        "allstatic",
        "constructor",
        ".",
        "(",
        "(cast",
        "host",
        "if",
        "let",
        "min",
        "max",
        "&",
        "*",
        "+",
        "-",
        "~",
        "!",
        "++",
        "--",
        "inline",
        "noinline",
        "defaultinline",
        "pathinline",
        "outline",
        "void",
        "bool",
        "char",
        "short",
        "int",
        "long",
        "uchar",
        "ushort",
        "uint",
        "ulong",
        "seqint",
    ];
    let operators = [
        "seq",
        "==>",
        "|||",
        "?",
        "=",
        "+=",
        "-=",
        "*=",
        "/=",
        "%=",
        "^=",
        "&=",
        "|=",
        "<<=",
        ">>=",
        "min=",
        "max=",
        "||",
        "&&",
        "|",
        "^",
        "&",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "<<",
        ">>",
        "+",
        "-",
        "*",
        "/",
        "%",
        "catch",
        ":>",
        ".",
        "->",
        "[",
        "(",
        "++",
        "--",
        "hide",
        "show",
        "rename",
        "using",
        "notusing",
        "inline",
        "noinline",
        "defaultinline",
        "pathinline",
    ];
    let module_ops = [
        "hide",
        "show",
        "rename",
        "using",
        "notusing",
        "inline",
        "noinline",
        "defaultinline",
        "pathinline",
    ];
    let mut rest: Vec<String> = names
        .iter()
        .filter(|n| !(modop && module_ops.contains(n)))
        .filter(|n| !(definition && definition_start.contains(n)))
        .filter(|n| !(ty && type_start.contains(n)))
        .filter(|n| !(expression && expression_start.contains(n)))
        .filter(|n| !(operator && operators.contains(n)))
        .map(|n| describe_terminal(n))
        .collect();
    rest.sort();
    rest.dedup();
    let shown = 6usize.saturating_sub(parts.len());
    let more = rest.len().saturating_sub(shown);
    parts.splice(0..0, rest.into_iter().take(shown));
    if more > 0 {
        parts.push(format!("{more} other tokens"));
    }
    match parts.len() {
        0 => "something else".into(),
        1 => parts.remove(0),
        n => {
            let last = parts.remove(n - 1);
            format!("{} or {last}", parts.join(", "))
        }
    }
}

fn describe_terminal(name: &str) -> String {
    match name {
        "ident" => "identifier".into(),
        "intlit" => "integer literal".into(),
        "charlit" => "character literal".into(),
        "string" => "string literal".into(),
        "host" | "seq" => "host block".into(),
        "support" => "support block".into(),
        "(cast" => "`(`".into(),
        other => format!("`{other}`"),
    }
}

/// A help line for common mistakes.
fn hint(found: Tok, expected: &[String]) -> Option<&'static str> {
    let expects = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
    match found {
        Tok::Colon if expects("has") => {
            Some("a parent is named with `:>`: `module Child :> Parent { … }`")
        }
        Tok::Colon | Tok::Eq if expects("::=") => {
            Some("a method is defined with `::=`: `name ::= body;`")
        }
        _ if expects(";") && !expects("ident") => {
            Some("a definition ends with `;`; is one missing before this?")
        }
        Tok::LBrace => Some(
            "`{` opens a host block only inside a method body; module, namespace and layer bodies follow a name",
        ),
        _ => None,
    }
}

/// Parses a cooked token stream into items; diagnostics go to `diags`.
///
/// Two kinds of syntax errors are consequences of an earlier mistake and are not reported
/// (one mistake, one diagnostic): an error at the first token after a lexical error (the bad
/// text was dropped or swallowed, as in `a $ b` or an unterminated string), and an error at
/// the first token after the input an error recovery skipped.
pub(crate) fn parse_tokens(
    file: FileId,
    src: &str,
    tokens: Vec<(Tok, Span)>,
    lexical_errors: &[Span],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Item> {
    let spans: Vec<(u32, u32)> = tokens.iter().map(|(_, s)| (s.lo, s.hi)).collect();
    let mut ctx = Ctx {
        src,
        file,
        diags: Vec::new(),
        parse_errors: Vec::new(),
        recovery_ends: Vec::new(),
    };
    let stream = tokens
        .into_iter()
        .map(|(t, s)| Ok::<_, Never>((s.lo as usize, t, s.hi as usize)));
    let result = generated::FileParser::new().parse(&mut ctx, stream);
    let items = match result {
        Ok(items) => items,
        Err(e) => {
            let d = ctx.convert(e);
            let span = d.primary.span;
            ctx.parse_errors.push(d);
            vec![Item {
                kind: ItemKind::Error,
                span,
            }]
        }
    };
    let follows_mistake = |lo: u32| {
        let next = spans.partition_point(|s| s.0 < lo);
        let (prev_lo, prev_hi) = match next {
            0 => (0, 0),
            n => spans[n - 1],
        };
        ctx.recovery_ends.contains(&(prev_hi as usize))
            || lexical_errors.iter().any(|e| e.lo < lo && e.hi > prev_lo)
    };
    let parse_errors = std::mem::take(&mut ctx.parse_errors);
    diags.extend(
        parse_errors
            .into_iter()
            .filter(|d| !follows_mistake(d.primary.span.lo)),
    );
    diags.append(&mut ctx.diags);
    items
}
