//! Literals, operators, assignments, conversions, conditionals, `let` and `catch` (§11, §12).

use prolac_syntax::ast::{self, BinOp as A, CondOrigin, ExprKind as E, PrefixOp};
use prolac_syntax::codes::{P0601, P0604, P0605, P0607, P0610, P0613, P0618, P0908};
use prolac_syntax::token::{IntLit, IntSuffix, Radix};
use prolac_syntax::{Diagnostic, Span};

use super::{Fcx, Val};
use crate::ir::{BinOp, Const, ConvKind, ExprKind, IntWidth, TypeKind, UnOp, Yields};
use crate::sema::Ty;

/// The type of an integer literal: the first candidate that holds its value (§2.5).
fn literal_type(lit: IntLit) -> (IntWidth, bool, bool) {
    let v = lit.value;
    let fits = |w: IntWidth, signed: bool| {
        let bits = w.bits();
        if signed {
            v < (1u64 << (bits - 1))
        } else {
            bits == 64 || v < (1u64 << bits)
        }
    };
    let candidates: &[(IntWidth, bool)] = match (lit.suffix, lit.radix) {
        (IntSuffix::None, Radix::Decimal) => &[(IntWidth::W32, true), (IntWidth::W64, true)],
        (IntSuffix::None, _) => &[
            (IntWidth::W32, true),
            (IntWidth::W32, false),
            (IntWidth::W64, true),
            (IntWidth::W64, false),
        ],
        (IntSuffix::U, _) => &[(IntWidth::W32, false), (IntWidth::W64, false)],
        (IntSuffix::L, _) => &[(IntWidth::W64, true), (IntWidth::W64, false)],
        (IntSuffix::UL, _) => &[(IntWidth::W64, false)],
        (IntSuffix::Q, _) => return (IntWidth::W32, false, true),
    };
    let (w, s) = candidates
        .iter()
        .copied()
        .find(|&(w, s)| fits(w, s))
        .unwrap_or((IntWidth::W64, false));
    (w, s, false)
}

impl<'a> Fcx<'_, 'a> {
    pub(crate) fn lower(&mut self, e: &'a ast::Expr) -> Val {
        crate::deep(|| self.lower_now(e))
    }

    pub(crate) fn lower_now(&mut self, e: &'a ast::Expr) -> Val {
        let span = e.span;
        match &e.kind {
            E::Int(lit) => {
                let (w, signed, seq) = literal_type(*lit);
                let t = if seq {
                    self.s.ir.types.intern(TypeKind::SeqInt)
                } else {
                    self.s.ir.types.int(w, signed)
                };
                let value = if seq {
                    lit.value & 0xFFFF_FFFF
                } else {
                    lit.value
                };
                let t = self.s.ty(t);
                let mut v = self.val(ExprKind::Const(Const(value)), t, span);
                v.null = lit.value == 0;
                v
            }
            E::Char(b) => {
                let t = self.s.int_ty();
                let t = self.s.ty(t);
                let mut v = self.val(ExprKind::Const(Const(u64::from(*b))), t, span);
                v.null = *b == 0;
                v
            }
            E::Str(s) => {
                let c = self.s.ir.types.int(IntWidth::W8, true);
                let p = self.s.ir.types.ptr(c);
                let t = self.s.ty(p);
                self.val(ExprKind::Str(s.bytes.clone()), t, span)
            }
            E::Bool(b) => {
                let t = self.bool_ty();
                self.val(ExprKind::Const(Const(u64::from(*b))), t, span)
            }
            E::SelfValue => self.self_value(span),
            E::Paren(inner) => {
                let mut v = self.lower(inner);
                v.null = v.null && matches!(inner.kind, E::Int(_) | E::Char(_));
                v
            }
            E::Name(_) | E::GlobalName(_) | E::Member { .. } | E::Super | E::ModOps { .. } => {
                self.name_expr(e, None)
            }
            E::Call { callee, args } => self.call_expr(e, callee, args),
            E::TypeWord(_) => self.error_val(span), // reported by the parser's validation (P0615)
            E::Host(h) => self.host(h),
            E::Index { base, index } => self.index(base, index, span),
            E::PostIncDec { operand, increment } => {
                let op = if *increment { BinOp::Add } else { BinOp::Sub };
                self.increment(operand, op, Yields::Old, span)
            }
            E::Prefix { op, operand } => self.prefix(*op, operand, span),
            E::CodeOp { op, operand } => {
                let level = match op {
                    ast::CodeOp::Inline(None) => 2,
                    ast::CodeOp::Inline(Some(k)) => {
                        match self.s.const_level(k, Some(self.module)) {
                            Some(k) if k <= 3 => k as u8,
                            Some(k) => {
                                self.s.error(
                                    Diagnostic::new(
                                        P0908,
                                        k_span(op, span),
                                        format!("inline level {k} is out of range"),
                                    )
                                    .with_help("`inline[k] e` takes a level from 0 to 3"),
                                );
                                3
                            }
                            None => 2,
                        }
                    }
                    ast::CodeOp::NoInline => 0,
                    ast::CodeOp::DefaultInline => 1,
                    ast::CodeOp::PathInline => 3,
                };
                self.inline.push(level);
                let v = self.lower(operand);
                self.inline.pop();
                v
            }
            E::Outline { level, operand } => {
                let k = match level {
                    None => 5,
                    Some(k) => match self.s.const_level(k, Some(self.module)) {
                        Some(k) if k <= 10 => k as u8,
                        Some(value) => {
                            self.s.error(
                                Diagnostic::new(
                                    P0908,
                                    k.span,
                                    format!("outline level {value} is out of range"),
                                )
                                .with_help("`outline[k] e` takes a level from 0 to 10"),
                            );
                            10
                        }
                        None => 5,
                    },
                };
                let v = self.lower(operand);
                let out = self.push(
                    ExprKind::Cold {
                        level: k,
                        expr: v.e,
                    },
                    v.ty.id,
                    span,
                );
                Val { e: out, ..v }
            }
            E::Cast { ty, operand } => self.cast_expr(ty, operand, span),
            E::TypeAssert { expr, ty } => {
                let v = self.lower(expr);
                let v = self.value(v, expr.span);
                let Some(t) = self.resolve_type(ty) else {
                    return self.error_val(span);
                };
                // An error, or a raise (which has every type).
                if self.s.kind(v.ty.id) == TypeKind::Never {
                    return v;
                }
                match self.s.implicit(v.ty, t, v.null) {
                    Ok(None) => Val { ty: t, ..v },
                    Ok(Some(kind)) => Val {
                        e: self.convert(kind, v.e, t.id, span),
                        ty: t,
                        null: false,
                    },
                    Err(_) => {
                        let (from, to) = (self.s.type_name(v.ty.id), self.s.type_name(t.id));
                        self.report(
                            Diagnostic::new(
                                P0610,
                                span,
                                format!("`{from}` does not convert to `{to}` implicitly"),
                            )
                            .with_help(format!("use a cast if one exists: `({to}) e`")),
                        )
                    }
                }
            }
            E::Binary {
                op,
                lhs,
                rhs,
                implicit: _,
            } => self.binary(*op, lhs, rhs, span),
            E::Assign { op, place, value } => self.assign(*op, place, value, span),
            E::Cond {
                cond,
                then,
                otherwise,
                origin,
            } => {
                let c = self.cond(cond);
                let a = self.lower(then);
                let b = self.lower(otherwise);
                self.merge(c, a, b, span, *origin == CondOrigin::CaseBar)
            }
            E::Catch { body, list } => self.catch(body, list, span),
            E::If { arms, otherwise } => self.if_expr(arms, otherwise.as_deref(), span),
            E::Let { bindings, body } => self.let_expr(bindings, body, span),
            E::MinMax { which, args } => {
                if args.len() != 2 {
                    return self.error_val(span); // reported by the parser's validation (P0207)
                }
                let a = self.lower(&args[0]);
                let b = self.lower(&args[1]);
                let op = match which {
                    ast::MinMax::Min => BinOp::Min,
                    ast::MinMax::Max => BinOp::Max,
                };
                self.arith(op, a, b, span, "min/max")
            }
            E::Error => self.error_val(span),
        }
    }

    pub(crate) fn resolve_type(&mut self, t: &'a ast::Type) -> Option<Ty> {
        let ctx = crate::sema::types::TypeCtx {
            module: self.module,
            ns_path: self.ns_path.clone(),
        };
        self.s.resolve_type(t, &ctx)
    }

    pub(crate) fn self_value(&mut self, span: Span) -> Val {
        match self.self_ptr(span) {
            Some(p) => {
                let t = self.self_ty();
                self.val(ExprKind::Deref(p.e), t, span)
            }
            None => self.report(
                Diagnostic::new(
                    prolac_syntax::codes::P0704,
                    span,
                    "`self` in a static method",
                )
                .with_help("a static method has no receiver"),
            ),
        }
    }

    pub(crate) fn konst(&mut self, value: u64, t: Ty, span: Span) -> Val {
        self.val(ExprKind::Const(Const(value)), t, span)
    }

    /// `(X) * e` / `(X) & e` read as a binary operator, with `lhs` the parenthesised `X`, or a
    /// chain of casts whose innermost operand it is: when `X` names a type, the cast
    /// `(X)(*e)` / `(X)(&e)`, cast in turn by the chain. `None` when `X` is not a type (nothing
    /// has been lowered then).
    fn cast_of_prefix(
        &mut self,
        lhs: &'a ast::Expr,
        prefix: PrefixOp,
        rhs: &'a ast::Expr,
        span: Span,
    ) -> Option<Val> {
        match &lhs.kind {
            E::Paren(inner) => {
                let t = self.quiet_type(inner)?;
                let v = self.prefix(prefix, rhs, rhs.span);
                Some(self.cast_val(t, v, rhs.span, span))
            }
            E::Cast { ty, operand } => {
                let inner_span = operand.span.to(rhs.span);
                let v = crate::deep(|| self.cast_of_prefix(operand, prefix, rhs, inner_span))?;
                let Some(t) = self.resolve_type(ty) else {
                    return Some(self.error_val(span));
                };
                Some(self.cast_val(t, v, inner_span, span))
            }
            _ => None,
        }
    }

    pub(crate) fn binary(
        &mut self,
        op: A,
        lhs: &'a ast::Expr,
        rhs: &'a ast::Expr,
        span: Span,
    ) -> Val {
        // `(X) * e` and `(X) & e` where `X` turns out to be a type are casts (§12.2), also
        // as the operand of other casts: `(*void)(*Timer) &t`.
        if matches!(op, A::Mul | A::BitAnd) {
            let prefix = if op == A::Mul {
                PrefixOp::Deref
            } else {
                PrefixOp::AddrOf
            };
            if let Some(v) = self.cast_of_prefix(lhs, prefix, rhs, span) {
                return v;
            }
        }
        match op {
            A::Seq => {
                let a = self.lower(lhs);
                let b = self.lower(rhs);
                let ae = self.discard(a, lhs.span);
                let mut items = match &self.body.exprs[ae].kind {
                    ExprKind::Seq(items) if self.body.exprs[ae].ty == self.s.ir.types.void() => {
                        items.clone()
                    }
                    _ => vec![ae],
                };
                items.push(b.e);
                let e = self.push(ExprKind::Seq(items), b.ty.id, span);
                Val { e, ..b }
            }
            A::Implies => {
                // `A ==> B`: if A holds, evaluate B and yield true; otherwise false.
                let c = self.cond(lhs);
                let b = self.lower(rhs);
                let be = self.discard(b, rhs.span);
                let t = self.bool_ty();
                let yes = self.konst(1, t, span);
                let no = self.konst(0, t, span);
                let then = self.push(ExprKind::Seq(vec![be, yes.e]), t.id, span);
                self.val(
                    ExprKind::If {
                        cond: c.e,
                        then,
                        otherwise: Some(no.e),
                    },
                    t,
                    span,
                )
            }
            A::And | A::Or | A::CaseOr => self.logic(op, lhs, rhs, span),
            _ => {
                let a = self.lower(lhs);
                let b = self.lower(rhs);
                let op = match op {
                    A::Add => BinOp::Add,
                    A::Sub => BinOp::Sub,
                    A::Mul => BinOp::Mul,
                    A::Div => BinOp::Div,
                    A::Rem => BinOp::Rem,
                    A::Shl => BinOp::Shl,
                    A::Shr => BinOp::Shr,
                    A::BitAnd => BinOp::BitAnd,
                    A::BitOr => BinOp::BitOr,
                    A::BitXor => BinOp::BitXor,
                    A::Eq => BinOp::Eq,
                    A::Ne => BinOp::Ne,
                    A::Lt => BinOp::Lt,
                    A::Le => BinOp::Le,
                    A::Gt => BinOp::Gt,
                    _ => BinOp::Ge,
                };
                self.arith(op, a, b, span, op_symbol(op))
            }
        }
    }

    /// `&&`, `||` and case-bar `||`, with the `void` rule of §12.5.
    pub(crate) fn logic(
        &mut self,
        op: A,
        lhs: &'a ast::Expr,
        rhs: &'a ast::Expr,
        span: Span,
    ) -> Val {
        let c = self.cond(lhs);
        let b = self.lower(rhs);
        let bool_t = self.bool_ty();
        if op != A::And && self.s.kind(b.ty.id) == TypeKind::Void {
            // `A || B` with `void` B: "unless A, do B".
            let not = self.val(ExprKind::Unary(UnOp::Not, c.e), bool_t, span);
            let void = self.void_ty();
            return self.val(
                ExprKind::If {
                    cond: not.e,
                    then: b.e,
                    otherwise: None,
                },
                void,
                span,
            );
        }
        let b = self.truth(b, rhs.span);
        let (then, otherwise) = if op == A::And {
            (b.e, self.konst(0, bool_t, span).e)
        } else {
            (self.konst(1, bool_t, span).e, b.e)
        };
        self.val(
            ExprKind::If {
                cond: c.e,
                then,
                otherwise: Some(otherwise),
            },
            bool_t,
            span,
        )
    }

    /// Arithmetic, comparisons and pointer arithmetic on two values (§11.3, §11.5).
    pub(crate) fn arith(&mut self, op: BinOp, a: Val, b: Val, span: Span, symbol: &str) -> Val {
        let a = self.value(a, span);
        let b = self.value(b, span);
        if self.is_error(a) || self.is_error(b) {
            return self.error_val(span); // already reported
        }
        // A raise has every type (§11.8): evaluation stops there, so the operation is the
        // left operand's evaluation followed by the raise.
        if self.s.kind(a.ty.id) == TypeKind::Never {
            return a;
        }
        if self.s.kind(b.ty.id) == TypeKind::Never {
            let ae = self.discard(a, span);
            let e = self.push(ExprKind::Seq(vec![ae, b.e]), b.ty.id, span);
            return Val { e, ..b };
        }
        // Arrays take part as pointers to their first element (§11.8).
        let (a, b) = (self.decay(a, span), self.decay(b, span));
        if self.is_error(a) || self.is_error(b) {
            return self.error_val(span);
        }
        let (ak, bk) = (self.s.kind(a.ty.id), self.s.kind(b.ty.id));
        let comparison = matches!(
            op,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        );
        let bool_t = self.bool_ty();
        // Pointer arithmetic.
        match (op, ak, bk) {
            (
                BinOp::Add | BinOp::Sub,
                TypeKind::Ptr(_),
                TypeKind::Int { .. } | TypeKind::SeqInt,
            ) => {
                let long = self.s.long_ty();
                let long = self.s.ty(long);
                let mut off = self.coerce(b, long, span, "pointer offset");
                if op == BinOp::Sub {
                    off = self.push(ExprKind::Unary(UnOp::Neg, off), long.id, span);
                }
                return self.val(ExprKind::Binary(BinOp::PtrAdd, a.e, off), a.ty, span);
            }
            (BinOp::Add, TypeKind::Int { .. } | TypeKind::SeqInt, TypeKind::Ptr(_)) => {
                let long = self.s.long_ty();
                let long = self.s.ty(long);
                let off = self.coerce(a, long, span, "pointer offset");
                return self.val(ExprKind::Binary(BinOp::PtrAdd, b.e, off), b.ty, span);
            }
            (BinOp::Sub, TypeKind::Ptr(_), TypeKind::Ptr(_)) => {
                let Some(_) = self.s.common(a.ty, b.ty, false, false) else {
                    return self.no_common(a, b, span, symbol);
                };
                let bq = self.coerce(b, a.ty, span, "pointer difference");
                let long = self.s.long_ty();
                let long = self.s.ty(long);
                return self.val(ExprKind::Binary(BinOp::PtrDiff, a.e, bq), long, span);
            }
            _ => {}
        }
        if comparison {
            if matches!(ak, TypeKind::Module(_)) || matches!(bk, TypeKind::Module(_)) {
                return self.report(
                    Diagnostic::new(P0601, span, "module values cannot be compared")
                        .with_help("compare pointers to the objects instead"),
                );
            }
            let Some(t) = self.s.common(a.ty, b.ty, a.null, b.null) else {
                return self.no_common(a, b, span, symbol);
            };
            if self.s.kind(t.id) == TypeKind::Void {
                return self.no_common(a, b, span, symbol);
            }
            if self.s.kind(t.id) == TypeKind::Bool && !matches!(op, BinOp::Eq | BinOp::Ne) {
                return self.report(
                    Diagnostic::new(
                        P0605,
                        span,
                        format!("`{symbol}` does not order `bool` values"),
                    )
                    .with_help("compare booleans with `==` or `!=`"),
                );
            }
            let ae = self.coerce(a, t, span, "comparison");
            let be = self.coerce(b, t, span, "comparison");
            return self.val(ExprKind::Binary(op, ae, be), bool_t, span);
        }
        for (v, k) in [(a, ak), (b, bk)] {
            match k {
                TypeKind::Int { .. } | TypeKind::SeqInt => {}
                TypeKind::Bool => {
                    return self.report(
                        Diagnostic::new(P0605, span, format!("`{symbol}` on a `bool`"))
                            .with_label("`bool` is a real boolean")
                            .with_help(
                                "combine conditions with `&&`, `||`, `!`, or cast to an integer",
                            ),
                    );
                }
                _ => {
                    let name = self.s.type_name(v.ty.id);
                    return self.report(Diagnostic::new(
                        P0618,
                        span,
                        format!("`{symbol}` does not apply to `{name}`"),
                    ));
                }
            }
        }
        let t = self.s.arith_common(a.ty.id, b.ty.id);
        let t = self.s.ty(t);
        let ae = self.coerce(a, t, span, "operand");
        let be = self.coerce(b, t, span, "operand");
        // seqint - seqint is the signed distance (§11.4).
        if op == BinOp::Sub && ak == TypeKind::SeqInt && bk == TypeKind::SeqInt {
            let diff = self.push(ExprKind::Binary(BinOp::Sub, ae, be), t.id, span);
            let int = self.s.int_ty();
            let int = self.s.ty(int);
            return self.val(ExprKind::Convert(ConvKind::Int, diff), int, span);
        }
        self.val(ExprKind::Binary(op, ae, be), t, span)
    }

    pub(crate) fn no_common(&mut self, a: Val, b: Val, span: Span, symbol: &str) -> Val {
        let (at, bt) = (self.s.type_name(a.ty.id), self.s.type_name(b.ty.id));
        self.report(
            Diagnostic::new(
                P0604,
                span,
                format!("`{at}` and `{bt}` have no common type for `{symbol}`"),
            )
            .with_help("cast one side first"),
        )
    }

    pub(crate) fn prefix(&mut self, op: PrefixOp, operand: &'a ast::Expr, span: Span) -> Val {
        match op {
            PrefixOp::AddrOf => {
                if let E::SelfValue = operand.strip_parens().kind
                    && let Some(p) = self.self_ptr(span)
                {
                    return p;
                }
                let v = self.lower(operand);
                if self.is_error(v) {
                    return v;
                }
                if !self.body.exprs[v.e].kind.is_place() {
                    return self.report(
                        Diagnostic::new(P0613, operand.span, "`&` needs a place")
                            .with_help("take the address of a field, variable, `*p` or `a[i]`"),
                    );
                }
                let t = self.s.ptr_to(v.ty);
                self.val(ExprKind::AddrOf(v.e), t, span)
            }
            PrefixOp::Deref => {
                let v = self.lower(operand);
                let v = self.decay(v, operand.span);
                if self.is_error(v) {
                    return v;
                }
                match self.s.pointee(v.ty) {
                    Some(t) if self.s.kind(t.id) == TypeKind::Void => self.report(
                        Diagnostic::new(P0607, span, "a `*void` cannot be dereferenced")
                            .with_help("cast it to a typed pointer first"),
                    ),
                    Some(t) => self.val(ExprKind::Deref(v.e), t, span),
                    None => {
                        let name = self.s.type_name(v.ty.id);
                        self.report(Diagnostic::new(
                            P0618,
                            span,
                            format!("`*` needs a pointer, found `{name}`"),
                        ))
                    }
                }
            }
            PrefixOp::Plus | PrefixOp::Neg | PrefixOp::BitNot => {
                let v = self.lower(operand);
                let v = self.value(v, operand.span);
                if self.is_error(v) {
                    return v;
                }
                match self.s.kind(v.ty.id) {
                    TypeKind::Int { .. } | TypeKind::SeqInt => {
                        let t = self.s.promote(v.ty.id);
                        let t = self.s.ty(t);
                        let e = self.coerce(v, t, span, "operand");
                        match op {
                            PrefixOp::Plus => Val {
                                e,
                                ty: t,
                                null: false,
                            },
                            PrefixOp::Neg => self.val(ExprKind::Unary(UnOp::Neg, e), t, span),
                            _ => self.val(ExprKind::Unary(UnOp::BitNot, e), t, span),
                        }
                    }
                    TypeKind::Bool => self.report(
                        Diagnostic::new(P0605, span, format!("`{}` on a `bool`", op.symbol()))
                            .with_help("use `!` to negate a condition"),
                    ),
                    _ => {
                        let name = self.s.type_name(v.ty.id);
                        self.report(Diagnostic::new(
                            P0618,
                            span,
                            format!("`{}` does not apply to `{name}`", op.symbol()),
                        ))
                    }
                }
            }
            PrefixOp::Not => {
                let c = self.cond(operand);
                let t = self.bool_ty();
                self.val(ExprKind::Unary(UnOp::Not, c.e), t, span)
            }
            PrefixOp::PreInc => self.increment(operand, BinOp::Add, Yields::New, span),
            PrefixOp::PreDec => self.increment(operand, BinOp::Sub, Yields::New, span),
        }
    }
}

fn k_span(op: &ast::CodeOp, fallback: Span) -> Span {
    match op {
        ast::CodeOp::Inline(Some(k)) => k.span,
        _ => fallback,
    }
}

fn op_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        BinOp::Shl => "<<",
        BinOp::Shr => ">>",
        BinOp::BitAnd => "&",
        BinOp::BitOr => "|",
        BinOp::BitXor => "^",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::Min => "min",
        BinOp::Max => "max",
        BinOp::PtrAdd => "+",
        BinOp::PtrDiff => "-",
    }
}
