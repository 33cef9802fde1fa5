//! Places and what changes them (§12.6, §12.8): assignment and compound assignment, `++`/`--`,
//! indexing and pointer arithmetic, array decay, and casts (§11.9), including `(X) * e`.

use prolac_syntax::ast::{self, AssignOp, BinOp as A, ExprKind as E, PrefixOp};
use prolac_syntax::codes::{P0601, P0605, P0607, P0608, P0609, P0613, P0614, P0618};
use prolac_syntax::{Diagnostic, Span};

use super::{Fcx, Val};
use crate::ir::{BinOp, Const, ConvKind, ExprKind, TypeKind, UnOp, Yields};
use crate::sema::Ty;

impl<'a> Fcx<'_, 'a> {
    /// An array used as a value decays to a pointer to its first element (§11.7).
    pub(crate) fn decay(&mut self, v: Val, span: Span) -> Val {
        if let TypeKind::Array(elem, _) = self.s.kind(v.ty.id) {
            // Only an array stored somewhere has an address to point at.
            if !self.body.exprs[v.e].kind.is_place() {
                return self.report(
                    Diagnostic::new(
                        P0618,
                        span,
                        "this array is a value stored nowhere; it has no address",
                    )
                    .with_help("use the field or variable that holds the array"),
                );
            }
            let p = self.s.ir.types.ptr(elem);
            let t = Ty {
                id: p,
                view: v.ty.view,
            };
            return self.val(ExprKind::Convert(ConvKind::Decay, v.e), t, span);
        }
        v
    }

    /// A place that may be assigned (P0613).
    pub(crate) fn place(&mut self, e: &'a ast::Expr) -> Option<Val> {
        if let E::SelfValue = e.strip_parens().kind {
            self.report(
                Diagnostic::new(P0613, e.span, "`self` cannot be assigned")
                    .with_help("assign its fields"),
            );
            return None;
        }
        let v = self.lower(e);
        if self.is_error(v) {
            return None;
        }
        if !self.body.exprs[v.e].kind.is_place() {
            self.report(
                Diagnostic::new(P0613, e.span, "this cannot be assigned")
                    .with_help("assign a field, a variable, `*p` or `a[i]`"),
            );
            return None;
        }
        if let TypeKind::Array(..) = self.s.kind(v.ty.id) {
            self.report(
                Diagnostic::new(P0608, e.span, "an array cannot be assigned as a whole")
                    .with_help("assign its elements"),
            );
            return None;
        }
        Some(v)
    }

    pub(crate) fn increment(
        &mut self,
        operand: &'a ast::Expr,
        op: BinOp,
        yields: Yields,
        span: Span,
    ) -> Val {
        let Some(p) = self.place(operand) else {
            return self.error_val(span);
        };
        let decrement = op == BinOp::Sub;
        let (op, one_t) = match self.s.kind(p.ty.id) {
            TypeKind::Int { .. } | TypeKind::SeqInt => (op, p.ty),
            TypeKind::Ptr(_) => {
                let l = self.s.long_ty();
                (BinOp::PtrAdd, self.s.ty(l))
            }
            _ => {
                let name = self.s.type_name(p.ty.id);
                return self.report(Diagnostic::new(
                    P0618,
                    span,
                    format!("`++`/`--` do not apply to `{name}`"),
                ));
            }
        };
        // A pointer moves by one element, backwards for `--`.
        let step = if op == BinOp::PtrAdd && decrement {
            u64::MAX
        } else {
            1
        };
        let one = self.konst(step, one_t, span);
        self.val(
            ExprKind::Update {
                place: p.e,
                op,
                value: one.e,
                yields,
            },
            p.ty,
            span,
        )
    }

    pub(crate) fn assign(
        &mut self,
        op: AssignOp,
        place: &'a ast::Expr,
        value: &'a ast::Expr,
        span: Span,
    ) -> Val {
        let Some(p) = self.place(place) else {
            self.lower(value);
            return self.error_val(span);
        };
        let v = self.lower(value);
        let v = self.value(v, value.span);
        match op {
            AssignOp::Assign => {
                let ve = self.coerce(v, p.ty, value.span, "assignment");
                self.val(
                    ExprKind::Assign {
                        place: p.e,
                        value: ve,
                    },
                    p.ty,
                    span,
                )
            }
            _ => {
                let bop = match op {
                    AssignOp::Compound(A::Add) => BinOp::Add,
                    AssignOp::Compound(A::Sub) => BinOp::Sub,
                    AssignOp::Compound(A::Mul) => BinOp::Mul,
                    AssignOp::Compound(A::Div) => BinOp::Div,
                    AssignOp::Compound(A::Rem) => BinOp::Rem,
                    AssignOp::Compound(A::Shl) => BinOp::Shl,
                    AssignOp::Compound(A::Shr) => BinOp::Shr,
                    AssignOp::Compound(A::BitAnd) => BinOp::BitAnd,
                    AssignOp::Compound(A::BitOr) => BinOp::BitOr,
                    AssignOp::Compound(A::BitXor) => BinOp::BitXor,
                    AssignOp::Min => BinOp::Min,
                    AssignOp::Max => BinOp::Max,
                    _ => BinOp::Add,
                };
                if self.is_error(v) {
                    return self.error_val(span);
                }
                let pk = self.s.kind(p.ty.id);
                if let (TypeKind::Ptr(_), BinOp::Add | BinOp::Sub) = (pk, bop) {
                    let long = self.s.long_ty();
                    let long = self.s.ty(long);
                    let mut off = self.coerce(v, long, value.span, "pointer offset");
                    if bop == BinOp::Sub {
                        off = self.push(ExprKind::Unary(UnOp::Neg, off), long.id, span);
                    }
                    return self.val(
                        ExprKind::Update {
                            place: p.e,
                            op: BinOp::PtrAdd,
                            value: off,
                            yields: Yields::New,
                        },
                        p.ty,
                        span,
                    );
                }
                let valid = matches!(pk, TypeKind::Int { .. } | TypeKind::SeqInt)
                    && self.s.is_integral(v.ty.id);
                if !valid {
                    let (pt, vt) = (self.s.type_name(p.ty.id), self.s.type_name(v.ty.id));
                    let code = if pk == TypeKind::Bool || self.s.kind(v.ty.id) == TypeKind::Bool {
                        P0605
                    } else {
                        P0618
                    };
                    return self.report(Diagnostic::new(
                        code,
                        span,
                        format!("`{}` does not apply to `{pt}` and `{vt}`", op.symbol()),
                    ));
                }
                let ve = self.coerce(v, p.ty, value.span, "compound assignment");
                self.val(
                    ExprKind::Update {
                        place: p.e,
                        op: bop,
                        value: ve,
                        yields: Yields::New,
                    },
                    p.ty,
                    span,
                )
            }
        }
    }

    pub(crate) fn index(&mut self, base: &'a ast::Expr, index: &'a ast::Expr, span: Span) -> Val {
        let b = self.lower(base);
        let i = self.lower(index);
        let i = self.value(i, index.span);
        if self.is_error(b) || self.is_error(i) {
            return self.error_val(span);
        }
        if !matches!(self.s.kind(i.ty.id), TypeKind::Int { .. }) {
            let name = self.s.type_name(i.ty.id);
            return self.report(Diagnostic::new(
                P0618,
                index.span,
                format!("an index must be an integer, found `{name}`"),
            ));
        }
        match self.s.kind(b.ty.id) {
            TypeKind::Array(elem, n) => {
                if let ExprKind::Const(Const(k)) = self.body.exprs[i.e].kind
                    && k >= n
                {
                    self.s.error(
                        Diagnostic::new(
                            P0609,
                            index.span,
                            format!("index {k} is out of range for an array of {n}"),
                        )
                        .with_help(format!("indexes run from 0 to {}", n.saturating_sub(1))),
                    );
                }
                if self.body.exprs[b.e].kind.is_place() {
                    let t = Ty {
                        id: elem,
                        view: b.ty.view,
                    };
                    self.val(
                        ExprKind::Index {
                            array: b.e,
                            index: i.e,
                        },
                        t,
                        span,
                    )
                } else {
                    let p = self.decay(b, base.span);
                    self.pointer_index(p, i, span)
                }
            }
            TypeKind::Ptr(_) => self.pointer_index(b, i, span),
            _ => {
                let name = self.s.type_name(b.ty.id);
                self.report(Diagnostic::new(
                    P0618,
                    span,
                    format!("`[]` needs an array or a pointer, found `{name}`"),
                ))
            }
        }
    }

    pub(crate) fn pointer_index(&mut self, p: Val, i: Val, span: Span) -> Val {
        let long = self.s.long_ty();
        let long = self.s.ty(long);
        let off = self.coerce(i, long, span, "index");
        let sum = self.val(ExprKind::Binary(BinOp::PtrAdd, p.e, off), p.ty, span);
        match self.s.pointee(p.ty) {
            Some(t) if self.s.kind(t.id) == TypeKind::Void => self.report(
                Diagnostic::new(P0607, span, "a `*void` cannot be indexed")
                    .with_help("cast it to a typed pointer first"),
            ),
            Some(t) => self.val(ExprKind::Deref(sum.e), t, span),
            None => self.error_val(span),
        }
    }

    pub(crate) fn cast_expr(
        &mut self,
        ty: &'a ast::Type,
        operand: &'a ast::Expr,
        span: Span,
    ) -> Val {
        let v = self.lower(operand);
        let Some(t) = self.resolve_type(ty) else {
            return self.error_val(span);
        };
        self.cast_val(t, v, operand.span, span)
    }

    /// An expression in cast parentheses that names a type — a module, or pointers to one
    /// (`(*Timer)`, `(**Timer)`) — looked up without reporting anything.
    pub(crate) fn quiet_type(&mut self, e: &'a ast::Expr) -> Option<Ty> {
        match &e.kind {
            E::Paren(inner) => self.quiet_type(inner),
            E::Prefix {
                op: PrefixOp::Deref,
                operand,
            } => {
                let t = self.quiet_type(operand)?;
                Some(self.s.ptr_to(t))
            }
            E::Name(id) => {
                let s = self.s.sym(id);
                if self.local(s).is_some() {
                    return None;
                }
                let path = self.ns_path.clone();
                let entry = path
                    .iter()
                    .rev()
                    .find_map(|ns| self.s.namespaces[*ns].entries.get(&s).copied())?;
                match entry.member {
                    crate::sema::Member::Module(v) => Some(self.s.module_ty(v)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Casts a lowered value to `t` (§11.9).
    pub(crate) fn cast_val(&mut self, t: Ty, v: Val, operand: Span, span: Span) -> Val {
        let v = self.value(v, operand);
        let v = self.decay(v, operand);
        // An error, or a raise (which has every type).
        if self.s.kind(v.ty.id) == TypeKind::Never {
            return v;
        }
        if matches!(self.s.kind(t.id), TypeKind::Module(_))
            || matches!(self.s.kind(v.ty.id), TypeKind::Module(_))
        {
            if v.ty.id == t.id {
                return Val { ty: t, ..v };
            }
            return self.report(
                Diagnostic::new(P0601, span, "module values cannot be cast")
                    .with_help("cast pointers to modules instead"),
            );
        }
        match self.s.cast(v.ty, t, v.null) {
            Some(None) => Val { ty: t, ..v },
            Some(Some(kind)) => Val {
                e: self.convert(kind, v.e, t.id, span),
                ty: t,
                null: false,
            },
            None => {
                let (from, to) = (self.s.type_name(v.ty.id), self.s.type_name(t.id));
                self.report(
                    Diagnostic::new(P0614, span, format!("no cast from `{from}` to `{to}`"))
                        .with_help("pointers to non-module types convert through `*void`; there are no integer/pointer casts"),
                )
            }
        }
    }
}
