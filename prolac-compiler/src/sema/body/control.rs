//! Control expressions (§12.5, §12.9, §10.3): conditions, `?:` and case bars, `if … end`,
//! `let`, and `catch`.

use prolac_syntax::ast::{self};
use prolac_syntax::codes::{P0604, P0618, P0701, P1003};
use prolac_syntax::{Diagnostic, Span};

use super::{Fcx, Val};
use crate::ir::{ConvKind, ExprKind, Handles, TypeKind};

impl<'a> Fcx<'_, 'a> {
    /// A condition: bool, integer, seqint or pointer, converted to bool (§11.11).
    pub(crate) fn cond(&mut self, e: &'a ast::Expr) -> Val {
        let v = self.lower(e);
        let v = self.truth(v, e.span);
        // A raise is a condition of every type; an `if` needs one of type `bool`.
        if self.s.kind(v.ty.id) == TypeKind::Never && !self.is_error(v) {
            let b = self.bool_ty();
            let e = self.push(ExprKind::Seq(vec![v.e]), b.id, e.span);
            return Val {
                e,
                ty: b,
                null: false,
            };
        }
        v
    }

    pub(crate) fn truth(&mut self, v: Val, span: Span) -> Val {
        if self.is_error(v) {
            return v;
        }
        let b = self.bool_ty();
        match self.s.kind(v.ty.id) {
            TypeKind::Bool | TypeKind::Never => v,
            TypeKind::Int { .. } | TypeKind::SeqInt | TypeKind::Ptr(_) => {
                self.val(ExprKind::Convert(ConvKind::ToBool, v.e), b, span)
            }
            TypeKind::Void => {
                self.lint_untyped_bool(v.e, span);
                self.report(
                    Diagnostic::new(P0604, span, "a `void` expression is used as a condition")
                        .with_help(
                            "a method without return type returns `void`; declare `:> bool`",
                        ),
                )
            }
            _ => {
                let name = self.s.type_name(v.ty.id);
                self.report(Diagnostic::new(
                    P0618,
                    span,
                    format!("a `{name}` cannot be a condition"),
                ))
            }
        }
    }

    /// P0701: the condition calls a method written without return type whose body is `bool`
    /// (an older dialect made such methods `bool`). Reported once, at the definition.
    pub(crate) fn lint_untyped_bool(&mut self, e: crate::ir::ExprId, use_span: Span) {
        let ExprKind::Call { callee, .. } = &self.body.exprs[e].kind else {
            return;
        };
        let target = match *callee {
            crate::ir::Callee::Direct(m) => m,
            crate::ir::Callee::Virtual(sel) => match self.s.ir.methods.iter().find(|(_, m)| {
                m.kind == crate::ir::MethodKind::Dynamic(sel)
                    && self.s.ir.selectors[sel].origin == m.owner
            }) {
                Some((m, _)) => m,
                None => return,
            },
        };
        let untyped = self.s.methods[target]
            .as_ref()
            .and_then(|src| src.ast)
            .is_some_and(|a| a.ret.is_none());
        if !untyped || !self.s.linted.insert(target) {
            return;
        }
        self.s.check_method(target);
        let bool_body = self.s.ir.methods[target].body.as_ref().is_some_and(|b| {
            b.root.is_some_and(|r| match b.exprs[r].kind {
                ExprKind::Convert(ConvKind::ToVoid, inner) => {
                    self.s.kind(b.exprs[inner].ty) == TypeKind::Bool
                }
                _ => false,
            })
        });
        if bool_body {
            let m = &self.s.ir.methods[target];
            let (name, def) = (m.name.clone(), m.span);
            self.s.error(
                Diagnostic::new(
                    P0701,
                    def,
                    format!("`{name}` has a `bool` body but no return type, so it returns `void`"),
                )
                .with_secondary(use_span, "used as a condition here")
                .with_help("declare the return type after the parameters: `… :> bool ::= …`"),
            );
        }
    }

    /// A branch of an `if` converted to its type; a raising branch stays as it is (an `if`
    /// branch may be `never`).
    fn branch(&mut self, v: Val, t: crate::sema::Ty, span: Span) -> crate::ir::ExprId {
        if self.s.kind(v.ty.id) == TypeKind::Never && !self.is_error(v) {
            return v.e;
        }
        self.coerce(v, t, span, "conditional branch")
    }

    /// `cond ? a : b` and case bars: the common type of the branches (§11.10).
    pub(crate) fn merge(&mut self, c: Val, a: Val, b: Val, span: Span, _case_bar: bool) -> Val {
        let t = match self.s.common(a.ty, b.ty, a.null, b.null) {
            Some(t) => t,
            None => self.void_ty(),
        };
        let void = self.s.kind(t.id) == TypeKind::Void;
        let (ae, be) = if void {
            (self.discard(a, span), self.discard(b, span))
        } else {
            (self.branch(a, t, span), self.branch(b, t, span))
        };
        let e = self.push(
            ExprKind::If {
                cond: c.e,
                then: ae,
                otherwise: Some(be),
            },
            t.id,
            span,
        );
        Val {
            e,
            ty: t,
            null: false,
        }
    }

    pub(crate) fn if_expr(
        &mut self,
        arms: &'a [(ast::Expr, ast::Expr)],
        otherwise: Option<&'a ast::Expr>,
        span: Span,
    ) -> Val {
        let Some(((c, v), rest)) = arms.split_first() else {
            return self.error_val(span);
        };
        let c = self.cond(c);
        let a = self.lower(v);
        match (rest.is_empty(), otherwise) {
            (false, _) => {
                let b = self.if_expr(rest, otherwise, span);
                self.merge(c, a, b, span, false)
            }
            (true, Some(o)) => {
                let b = self.lower(o);
                self.merge(c, a, b, span, false)
            }
            (true, None) => {
                // NEW: an `if` without `else` is void.
                let ae = self.discard(a, span);
                let void = self.void_ty();
                self.val(
                    ExprKind::If {
                        cond: c.e,
                        then: ae,
                        otherwise: None,
                    },
                    void,
                    span,
                )
            }
        }
    }

    pub(crate) fn let_expr(
        &mut self,
        bindings: &'a [ast::Binding],
        body: &'a ast::Expr,
        span: Span,
    ) -> Val {
        // Bindings are simultaneous: no initialiser sees the new variables (§12.9).
        let mut inits = Vec::new();
        let mut new_scope = Vec::new();
        for b in bindings {
            let declared = b.ty.as_ref().and_then(|t| self.resolve_type(t));
            let init = b.init.as_ref().map(|e| {
                let v = self.lower(e);
                (self.value(v, e.span), e.span)
            });
            let ty = match (declared, init) {
                (Some(t), _) => t,
                (None, Some((v, vspan))) => {
                    match self.s.kind(v.ty.id) {
                        TypeKind::Never if !self.is_error(v) => {
                            self.report(
                            Diagnostic::new(
                                prolac_syntax::codes::P0611,
                                vspan,
                                format!("`{}` takes its type from its initialiser, which always raises", b.name.text),
                            )
                            .with_help(format!("declare its type: `let {} :> T = …`", b.name.text)),
                        );
                            v.ty
                        }
                        TypeKind::Never => v.ty,
                        TypeKind::Array(..) => {
                            let d = self.decay(v, b.span);
                            d.ty
                        }
                        _ => v.ty,
                    }
                }
                (None, None) => continue, // P0611, reported by the parser's validation
            };
            let name = self.s.sym(&b.name);
            let local = self.body.local(b.name.text.to_string(), ty.id);
            let place = self.val(ExprKind::Local(local), ty, b.span);
            let init_e = match init {
                Some((v, vspan)) => {
                    let ve = self.coerce(v, ty, vspan, "`let` initialiser");
                    Some(self.push(
                        ExprKind::Assign {
                            place: place.e,
                            value: ve,
                        },
                        ty.id,
                        b.span,
                    ))
                }
                None => match self.s.kind(ty.id) {
                    TypeKind::Module(m) => {
                        Some(self.construct_in_place(place, m, ty, b.ctor_args.as_deref(), b.span))
                    }
                    _ => {
                        let zero = self.push(ExprKind::Zero, ty.id, b.span);
                        Some(self.push(
                            ExprKind::Assign {
                                place: place.e,
                                value: zero,
                            },
                            ty.id,
                            b.span,
                        ))
                    }
                },
            };
            if let Some(i) = init_e {
                let v = Val {
                    e: i,
                    ty,
                    null: false,
                };
                inits.push(self.discard(v, b.span));
            }
            new_scope.push((name, local, ty));
        }
        self.scopes.push(new_scope);
        let v = self.lower(body);
        self.scopes.pop();
        inits.push(v.e);
        let e = self.push(ExprKind::Seq(inits), v.ty.id, span);
        Val { e, ..v }
    }

    pub(crate) fn catch(
        &mut self,
        body: &'a ast::Expr,
        list: &'a ast::CatchList,
        span: Span,
    ) -> Val {
        let b = self.lower(body);
        let be = self.discard(b, body.span);
        let handles = match list {
            ast::CatchList::All(_) => Handles::All,
            ast::CatchList::Names(names) => {
                let mut ids = Vec::new();
                for path in names {
                    if let Some(x) = self.exception_name(path)
                        && !ids.contains(&x)
                    {
                        ids.push(x);
                    }
                }
                ids.sort();
                Handles::Only(ids)
            }
        };
        let t = self.bool_ty();
        self.val(ExprKind::Catch { body: be, handles }, t, span)
    }

    pub(crate) fn not_exception(&mut self, span: Span, name: &str) {
        self.s.error(
            Diagnostic::new(P1003, span, format!("`{name}` is not an exception"))
                .with_help("catch names exceptions declared with `exception name;`"),
        );
    }
}
