//! The interface to the generated LR parser: the context its actions use, and the one place
//! where lalrpop's error type becomes a [`Diagnostic`].

use lalrpop_util::{ErrorRecovery, ParseError};

use crate::ast::*;
use crate::codes::*;
use crate::diagnostic::Diagnostic;
use crate::fold::{self, Elem};
use crate::lexer::literal::decode_string;
use crate::span::{FileId, Span};
use crate::token::Tok;

#[allow(
    clippy::all,
    clippy::pedantic,
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
    pub(crate) diags: Vec<Diagnostic>,
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
                kind: TypeKind::Module(ModuleExpr { base, ..m }),
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
        self.diags.push(d);
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

/// Reads an expression parsed inside cast parentheses as a type. `*T[4]` parses as
/// `*(T[4])` but means an array of pointers: the dereferences are collected first, then the
/// index suffixes, as in the type grammar.
fn expr_to_type(e: Expr) -> Option<Type> {
    let span = e.span;
    let mut stars = Vec::new();
    let mut e = e;
    while let ExprKind::Prefix {
        op: PrefixOp::Deref,
        operand,
    } = e.kind
    {
        stars.push(e.span);
        e = *operand;
    }
    let mut suffixes = Vec::new();
    while let ExprKind::Index { base, index } = e.kind {
        suffixes.push((*index, e.span));
        e = *base;
    }
    let base_span = e.span;
    let mut ty = match e.kind {
        ExprKind::TypeWord(b) => Type {
            kind: TypeKind::Builtin(b),
            span: base_span,
        },
        ExprKind::Paren(inner) => Type {
            kind: TypeKind::Paren(Box::new(expr_to_type(*inner)?)),
            span: base_span,
        },
        ExprKind::ModOps { base, ops } => {
            let module_ref = module_ref(*base)?;
            Type {
                kind: TypeKind::Module(ModuleExpr {
                    base: module_ref,
                    ops,
                    span: base_span,
                }),
                span: base_span,
            }
        }
        kind => Type {
            kind: TypeKind::Module(ModuleExpr {
                base: module_ref(Expr {
                    kind,
                    span: base_span,
                })?,
                ops: Vec::new(),
                span: base_span,
            }),
            span: base_span,
        },
    };
    for star in stars.into_iter().rev() {
        ty = Type {
            kind: TypeKind::Pointer(Box::new(ty)),
            span: star.to(base_span),
        };
    }
    for (len, at) in suffixes.into_iter().rev() {
        ty = Type {
            kind: TypeKind::Array(Box::new(ty), Box::new(len)),
            span: at,
        };
    }
    ty.span = span;
    Some(ty)
}

/// A module reference written as an expression: `M`, `.M`, `A.B`, `(T)`.
fn module_ref(e: Expr) -> Option<ModuleRef> {
    match e.kind {
        ExprKind::Name(id) => Some(ModuleRef::Path {
            global: false,
            path: vec![id],
        }),
        ExprKind::GlobalName(id) => Some(ModuleRef::Path {
            global: true,
            path: vec![id],
        }),
        ExprKind::Member {
            base,
            name,
            arrow: false,
        } => match module_ref(*base)? {
            ModuleRef::Path { global, mut path } => {
                path.push(name);
                Some(ModuleRef::Path { global, path })
            }
            ModuleRef::Paren(_) => None,
        },
        ExprKind::Paren(inner) => Some(ModuleRef::Paren(Box::new(expr_to_type(*inner)?))),
        _ => None,
    }
}

/// Names the expected tokens the way a reader thinks of them.
fn describe_expected(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|s| s.trim_matches('"')).collect();
    let has = |n: &str| names.contains(&n);
    let expression = has("intlit") && has("ident") && has("(");
    let operator = has("+") && has("*") && has("==");
    let mut parts: Vec<String> = Vec::new();
    if expression {
        parts.push("an expression".into());
    }
    if operator {
        parts.push("an operator".into());
    }
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
    let mut rest: Vec<String> = names
        .iter()
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
pub(crate) fn parse_tokens(
    file: FileId,
    src: &str,
    tokens: Vec<(Tok, Span)>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Item> {
    let mut ctx = Ctx {
        src,
        file,
        diags: Vec::new(),
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
            ctx.diags.push(d);
            vec![Item {
                kind: ItemKind::Error,
                span,
            }]
        }
    };
    diags.append(&mut ctx.diags);
    items
}
