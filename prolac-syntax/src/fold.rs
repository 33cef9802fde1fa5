//! Operator precedence.
//!
//! The grammar reads an operator expression as a flat sequence of [`Elem`]s — operands, prefix
//! operators, infix operators and postfix operators (`catch X`, `:> T`) — and this module folds
//! the sequence into a tree by precedence climbing over the levels of §12.1. Doing it here
//! rather than in the LR grammar keeps two of the language's rules simple:
//!
//! - `catch` is asymmetric: its left operand is everything to its left, and after its operand
//!   the fold continues with the whole `… catch X` as a left operand of any operator;
//! - prefix operators bind at different levels (`-e` at 26, `outline e` at 6).
//!
//! The `|||` rewrite of §12.7 happens as each case bar is folded.

use crate::ast::*;
use crate::codes::*;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// A prefix operator in a sequence.
#[derive(Clone, Debug)]
pub(crate) enum Prefix {
    Op(PrefixOp),
    Code(CodeOp),
    Outline(Option<Box<Expr>>),
    Cast(Box<Type>),
}

/// An infix operator in a sequence.
#[derive(Clone, Debug)]
pub(crate) enum Infix {
    Bin {
        op: BinOp,
        implicit: bool,
    },
    CaseBar,
    Assign(AssignOp),
    /// `? middle :`
    Ternary(Box<Expr>),
}

/// A postfix operator in a sequence.
#[derive(Clone, Debug)]
pub(crate) enum Post {
    Catch(CatchList),
    TypeAssert(Box<Type>),
}

/// One element of an operator sequence.
#[derive(Clone, Debug)]
pub(crate) enum Elem {
    Operand(Expr),
    Prefix(Prefix, Span),
    Infix(Infix, Span),
    Post(Post, Span),
}

impl Infix {
    fn level(&self) -> u8 {
        match self {
            Infix::Bin { op, .. } => op.level(),
            Infix::CaseBar => 2,
            Infix::Assign(_) => 10,
            Infix::Ternary(_) => 11,
        }
    }

    fn right_assoc(&self) -> bool {
        match self {
            Infix::Bin { op, .. } => op.is_right_assoc(),
            Infix::CaseBar => false,
            Infix::Assign(_) | Infix::Ternary(_) => true,
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Infix::Bin { op, implicit: true } if *op == BinOp::Seq => "host block",
            Infix::Bin { op, .. } => op.symbol(),
            Infix::CaseBar => "|||",
            Infix::Assign(op) => op.symbol(),
            Infix::Ternary(_) => "?:",
        }
    }
}

impl Post {
    fn level(&self) -> u8 {
        match self {
            Post::Catch(_) => 1,
            Post::TypeAssert(_) => 27,
        }
    }
}

/// The lowest level an argument-level expression may contain (§12.2); implicit commas next to
/// host blocks are the one exception (level 5).
const ARG_LEVEL: u8 = 6;

struct Folder<'d> {
    elems: std::vec::IntoIter<Elem>,
    peeked: Option<Elem>,
    diags: &'d mut Vec<Diagnostic>,
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

fn error_expr(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Error,
        span,
    }
}

impl Folder<'_> {
    fn peek(&mut self) -> Option<&Elem> {
        if self.peeked.is_none() {
            self.peeked = self.elems.next();
        }
        self.peeked.as_ref()
    }

    fn next(&mut self) -> Option<Elem> {
        self.peeked.take().or_else(|| self.elems.next())
    }

    /// `binary(min)`: an operand followed by operators of level `min` or tighter. Chains of
    /// prefix operators and right-associative operators recurse here, so the stack grows on
    /// the heap when needed; the nesting limit is applied to the finished tree (`depth.rs`).
    fn expr(&mut self, min: u8, fallback: Span) -> Expr {
        stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, || self.expr_now(min, fallback))
    }

    fn expr_now(&mut self, min: u8, fallback: Span) -> Expr {
        let mut lhs = self.unary(fallback);
        loop {
            match self.peek() {
                Some(Elem::Infix(op, _)) if op.level() >= min => {
                    let Some(Elem::Infix(op, op_span)) = self.next() else {
                        unreachable!("peeked an infix operator")
                    };
                    let next = if op.right_assoc() {
                        op.level()
                    } else {
                        op.level() + 1
                    };
                    let rhs = self.expr(next, op_span.end());
                    lhs = self.combine(op, op_span, lhs, rhs);
                }
                Some(Elem::Post(post, _)) if post.level() >= min => {
                    let Some(Elem::Post(post, post_span)) = self.next() else {
                        unreachable!("peeked a postfix operator")
                    };
                    let span = lhs.span.to(post_span);
                    lhs = match post {
                        Post::Catch(list) => Expr {
                            kind: ExprKind::Catch {
                                body: boxed(lhs),
                                list,
                            },
                            span,
                        },
                        Post::TypeAssert(ty) => Expr {
                            kind: ExprKind::TypeAssert {
                                expr: boxed(lhs),
                                ty,
                            },
                            span,
                        },
                    };
                }
                _ => return lhs,
            }
        }
    }

    fn unary(&mut self, fallback: Span) -> Expr {
        match self.next() {
            Some(Elem::Operand(e)) => self.cast_of_prefix(e),
            Some(Elem::Prefix(prefix, span)) => {
                let operand = match &prefix {
                    Prefix::Outline(_) => self.expr(ARG_LEVEL, span.end()),
                    Prefix::Cast(_) => self.cast_operand(span),
                    Prefix::Op(_) | Prefix::Code(_) => self.expr(26, span.end()),
                };
                let whole = span.to(operand.span);
                Expr {
                    kind: prefix_kind(prefix, boxed(operand)),
                    span: whole,
                }
            }
            // The grammar guarantees an operand after every operator; keep going if not.
            other => {
                let span = match &other {
                    Some(Elem::Infix(_, s) | Elem::Post(_, s)) => *s,
                    _ => fallback,
                };
                error_expr(span)
            }
        }
    }

    /// The operand of a cast: a postfix expression, another cast, or a prefix expression
    /// introduced by `!`, `~` or an expression inline operator (§12.2).
    fn cast_operand(&mut self, cast_span: Span) -> Expr {
        let allowed = match self.peek() {
            Some(Elem::Operand(_)) => true,
            Some(Elem::Prefix(p, _)) => matches!(
                p,
                Prefix::Cast(_)
                    | Prefix::Code(_)
                    | Prefix::Op(PrefixOp::Not)
                    | Prefix::Op(PrefixOp::BitNot)
            ),
            _ => true,
        };
        if !allowed && let Some(Elem::Prefix(_, span)) = self.peek() {
            let span = *span;
            self.diags.push(
                Diagnostic::new(
                    P0208,
                    span,
                    "this operator cannot start the operand of a cast",
                )
                .with_secondary(cast_span, "cast")
                .with_help("parenthesise the operand: `(T)(outline e)`"),
            );
        }
        stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, || self.unary(cast_span.end()))
    }

    /// `(T) * e` and `(T) & e` were read as binary operators because `*` and `&` may be
    /// either; when `T` is visibly a type (built on a built-in type word), they are the cast
    /// `(T)(*e)` / `(T)(&e)` (§12.6). The cast binds at level 29 and its operand is a prefix
    /// expression (level 26), whatever operators surround it: `(long) &x + 1` is
    /// `((long)(&x)) + 1` and `a * (int) *p` is `a * ((int)(*p))`. Deciding this where the
    /// parenthesised type is read as an operand makes it work wherever an operand may stand,
    /// including as the operand of another cast: `(*uchar)(*void) &w` is
    /// `(*uchar)((*void)(&w))`. Module names are left to name resolution.
    fn cast_of_prefix(&mut self, e: Expr) -> Expr {
        let op = match (&e.kind, self.peek()) {
            (
                ExprKind::Paren(inner),
                Some(Elem::Infix(
                    Infix::Bin {
                        op: op @ (BinOp::Mul | BinOp::BitAnd),
                        ..
                    },
                    _,
                )),
            ) if is_builtin_type(inner) => *op,
            _ => return e,
        };
        let Some(Elem::Infix(_, op_span)) = self.next() else {
            unreachable!("peeked an infix operator")
        };
        let rhs = self.expr(26, op_span.end());
        let span = e.span.to(rhs.span);
        let ExprKind::Paren(inner) = e.kind else {
            unreachable!("matched a parenthesis")
        };
        let Some(ty) = expr_to_type(*inner) else {
            return error_expr(span);
        };
        let prefix = if op == BinOp::Mul {
            PrefixOp::Deref
        } else {
            PrefixOp::AddrOf
        };
        let operand = Expr {
            span: op_span.to(rhs.span),
            kind: ExprKind::Prefix {
                op: prefix,
                operand: boxed(rhs),
            },
        };
        Expr {
            kind: ExprKind::Cast {
                ty: Box::new(ty),
                operand: boxed(operand),
            },
            span,
        }
    }

    fn combine(&mut self, op: Infix, op_span: Span, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        let kind = match op {
            Infix::Bin { op, implicit } => ExprKind::Binary {
                op,
                lhs: boxed(lhs),
                rhs: boxed(rhs),
                implicit,
            },
            Infix::Assign(op) => ExprKind::Assign {
                op,
                place: boxed(lhs),
                value: boxed(rhs),
            },
            Infix::Ternary(middle) => ExprKind::Cond {
                cond: boxed(lhs),
                then: middle,
                otherwise: boxed(rhs),
                origin: CondOrigin::Ternary,
            },
            Infix::CaseBar => return self.case_bar(lhs, rhs, op_span),
        };
        Expr { kind, span }
    }

    /// `L ||| X` (§12.7), looking through parentheses on the left:
    ///
    /// | `L` | becomes |
    /// |---|---|
    /// | `A ==> B` | `A ? B : X` |
    /// | `A ? B : C`, `if … else C end` | `A ? B : (C \|\|\| X)`, `if … else (C \|\|\| X) end` |
    /// | `A, B` | `A, (B \|\|\| X)` |
    /// | `if … end` without `else` | error P0616 |
    /// | anything else | `L \|\| X` |
    fn case_bar(&mut self, lhs: Expr, x: Expr, bar: Span) -> Expr {
        stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, || {
            self.case_bar_now(lhs, x, bar)
        })
    }

    fn case_bar_now(&mut self, lhs: Expr, x: Expr, bar: Span) -> Expr {
        let span = lhs.span.to(x.span);
        let mut l = lhs;
        while let ExprKind::Paren(_) = l.kind {
            let ExprKind::Paren(inner) = l.kind else {
                unreachable!("matched a parenthesis")
            };
            l = *inner;
        }
        let kind = match l.kind {
            ExprKind::Binary {
                op: BinOp::Implies,
                lhs: a,
                rhs: b,
                ..
            } => ExprKind::Cond {
                cond: a,
                then: b,
                otherwise: boxed(x),
                origin: CondOrigin::CaseBar,
            },
            ExprKind::Cond {
                cond,
                then,
                otherwise,
                origin,
            } => ExprKind::Cond {
                cond,
                then,
                otherwise: boxed(self.case_bar(*otherwise, x, bar)),
                origin,
            },
            ExprKind::If {
                arms,
                otherwise: Some(otherwise),
            } => ExprKind::If {
                arms,
                otherwise: Some(boxed(self.case_bar(*otherwise, x, bar))),
            },
            ExprKind::If {
                arms,
                otherwise: None,
            } => {
                self.diags.push(
                    Diagnostic::new(P0616, l.span, "`if` without `else` on the left of `|||`")
                        .with_secondary(bar, "case bar")
                        .with_help("add an `else` branch, or write the conditions with `==>`"),
                );
                // Keep both operands so that nothing of the program is lost.
                ExprKind::Binary {
                    op: BinOp::CaseOr,
                    lhs: boxed(Expr {
                        kind: ExprKind::If {
                            arms,
                            otherwise: None,
                        },
                        span: l.span,
                    }),
                    rhs: boxed(x),
                    implicit: false,
                }
            }
            ExprKind::Binary {
                op: BinOp::Seq,
                lhs: a,
                rhs: b,
                implicit,
            } => ExprKind::Binary {
                op: BinOp::Seq,
                lhs: a,
                rhs: boxed(self.case_bar(*b, x, bar)),
                implicit,
            },
            other => ExprKind::Binary {
                op: BinOp::CaseOr,
                lhs: boxed(Expr {
                    kind: other,
                    span: l.span,
                }),
                rhs: boxed(x),
                implicit: false,
            },
        };
        Expr { kind, span }
    }
}

/// Is `e` a type built on a built-in type word: `int`, `*uchar`, `uint[4]`?
fn is_builtin_type(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::TypeWord(_) => true,
        ExprKind::Prefix {
            op: PrefixOp::Deref,
            operand,
        } => is_builtin_type(operand),
        ExprKind::Index { base, .. } => is_builtin_type(base),
        ExprKind::Paren(inner) => is_builtin_type(inner),
        _ => false,
    }
}

fn prefix_kind(prefix: Prefix, operand: Box<Expr>) -> ExprKind {
    match prefix {
        Prefix::Op(op) => ExprKind::Prefix { op, operand },
        Prefix::Code(op) => ExprKind::CodeOp { op, operand },
        Prefix::Outline(level) => ExprKind::Outline { level, operand },
        Prefix::Cast(ty) => ExprKind::Cast { ty, operand },
    }
}

/// Folds a full expression (every level).
pub(crate) fn fold_full(elems: Vec<Elem>, span: Span, diags: &mut Vec<Diagnostic>) -> Expr {
    let mut folder = Folder {
        elems: elems.into_iter(),
        peeked: None,
        diags,
    };
    folder.expr(1, span)
}

/// Folds an argument-level expression (§12.2): no top-level `==>`, `|||` or `catch` (P0205),
/// but implicit commas next to host blocks are allowed.
pub(crate) fn fold_arg(elems: Vec<Elem>, span: Span, diags: &mut Vec<Diagnostic>) -> Expr {
    let loose = elems.iter().find_map(|e| match e {
        Elem::Infix(op, s)
            if op.level() < ARG_LEVEL && !matches!(op, Infix::Bin { implicit: true, .. }) =>
        {
            Some((op.symbol(), *s))
        }
        Elem::Post(Post::Catch(_), s) => Some(("catch", *s)),
        _ => None,
    });
    // Every such operator at the top of the sequence is left over by a fold at the argument
    // level (prefix operands and ternary branches stop before it), so report it and fold the
    // whole sequence as a full expression to keep a meaningful tree.
    let (min, loose) = match loose {
        None => (5, None),
        Some(l) => (1, Some(l)),
    };
    if let Some((symbol, at)) = loose {
        diags.push(
            Diagnostic::new(
                P0205,
                at,
                format!("`{symbol}` must be parenthesised inside an argument"),
            )
            .with_label("binds more loosely than the `,` between arguments")
            .with_help("wrap the whole argument in parentheses"),
        );
    }
    let mut folder = Folder {
        elems: elems.into_iter(),
        peeked: None,
        diags,
    };
    folder.expr(min, span)
}

/// Reads an expression parsed inside cast parentheses as a type. `*T[4]` parses as
/// `*(T[4])` but means an array of pointers: the dereferences are collected first, then the
/// index suffixes, as in the type grammar.
pub(crate) fn expr_to_type(e: Expr) -> Option<Type> {
    stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, || expr_to_type_now(e))
}

fn expr_to_type_now(e: Expr) -> Option<Type> {
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
                kind: TypeKind::Module(Box::new(ModuleExpr {
                    base: module_ref,
                    ops,
                    span: base_span,
                })),
                span: base_span,
            }
        }
        kind => Type {
            kind: TypeKind::Module(Box::new(ModuleExpr {
                base: module_ref(Expr {
                    kind,
                    span: base_span,
                })?,
                ops: Vec::new(),
                span: base_span,
            })),
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
