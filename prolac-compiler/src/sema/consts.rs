//! Symbolic constants and constant expressions (§6.10).
//!
//! A constant expression is lowered like any expression (in a static context of its module)
//! and then folded: literals, `true`/`false`, symbolic constants (static methods without
//! parameters whose body folds), casts to integral types, the binary operators, prefix `!`,
//! `?:`, `min` and `max`. The prefix operators `-`, `+` and `~` do not fold. Division by zero
//! is an error (P0713).

use prolac_syntax::Diagnostic;
use prolac_syntax::ast;
use prolac_syntax::codes::{P0713, P0722};

use super::body::Fcx;
use super::{Sema, State};
use crate::ir::eval::{self, EvalError};
use crate::ir::{
    Body, Callee, Const, ConvKind, ExprId, ExprKind, MethodId, MethodKind, ModuleId, TypeId,
    TypeKind, UnOp,
};

/// Why a fold failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fail {
    NotConstant,
    DivisionByZero(ExprId),
    /// A symbolic constant it uses was already reported.
    Reported,
}

impl<'a> Sema<'a> {
    /// Evaluates a constant expression written in `module` (or at file level: literals only).
    pub(crate) fn const_eval(
        &mut self,
        e: &'a ast::Expr,
        module: ModuleId,
    ) -> Option<(Const, TypeId)> {
        let mut f = Fcx::new(self, None, module);
        let v = f.expr(e);
        let failed = f.failed;
        let body = f.finish(Some(v.e));
        if failed {
            return None;
        }
        let root = body.root?;
        match self.fold(&body, root) {
            Ok(c) => Some((c, body.exprs[root].ty)),
            Err(Fail::DivisionByZero(at)) => {
                self.error(
                    Diagnostic::new(
                        P0713,
                        body.exprs[at].span,
                        "division by zero in a constant expression",
                    )
                    .with_help("change the divisor"),
                );
                None
            }
            Err(Fail::Reported) => None,
            Err(Fail::NotConstant) => {
                self.error(
                    Diagnostic::new(P0722, e.span, "a constant expression is required here")
                        .with_label("this does not fold to a constant")
                        .with_help("use literals, symbolic constants, casts and operators (not prefix `-`, `+`, `~`; write `0 - 1`)"),
                );
                None
            }
        }
    }

    /// An `inline[k]`/`outline[k]` level; `context` is the module whose constants it may use.
    pub(crate) fn const_level(
        &mut self,
        e: &'a ast::Expr,
        context: Option<ModuleId>,
    ) -> Option<u64> {
        match context {
            Some(m) => self.const_u64(e, m),
            None => match &e.kind {
                ast::ExprKind::Int(lit) => Some(lit.value),
                _ => {
                    self.error(
                        Diagnostic::new(P0722, e.span, "a literal level is required here")
                            .with_help("outside a module only literals are constant"),
                    );
                    None
                }
            },
        }
    }

    /// The value of a symbolic constant: a static method without parameters whose body folds.
    pub(crate) fn method_constant(&mut self, id: MethodId) -> Option<(Const, TypeId)> {
        match self.src(id).constant {
            State::Done(v) => return v,
            State::Busy | State::Failed => return None,
            State::Todo => {}
        }
        if self.ir.methods[id].kind != MethodKind::Static || !self.ir.methods[id].params.is_empty()
        {
            self.src_mut(id).constant = State::Done(None);
            return None;
        }
        self.src_mut(id).constant = State::Busy;
        self.check_method(id);
        let body = self.ir.methods[id].body.clone();
        let ret = self.ir.methods[id].ret;
        let value = body.and_then(|b| {
            let root = b.root?;
            let c = match self.fold(&b, root) {
                Ok(c) => c,
                Err(Fail::DivisionByZero(at)) => {
                    self.error(
                        Diagnostic::new(P0713, b.exprs[at].span, "division by zero in a constant expression")
                            .with_label("the divisor folds to 0")
                            .with_help("a static method without parameters whose body folds is a symbolic constant"),
                    );
                    self.const_errors.insert(id);
                    return None;
                }
                Err(Fail::Reported) => {
                    self.const_errors.insert(id);
                    return None;
                }
                Err(Fail::NotConstant) => return None,
            };
            let from = self.kind(b.exprs[root].ty);
            let to = self.kind(ret);
            let c = if from == to { c } else { eval::convert(c, from, to).ok()? };
            Some((c, ret))
        });
        self.src_mut(id).constant = State::Done(value);
        value
    }

    fn fold(&mut self, body: &Body, e: ExprId) -> Result<Const, Fail> {
        crate::deep(|| self.fold_now(body, e))
    }

    fn fold_now(&mut self, body: &Body, e: ExprId) -> Result<Const, Fail> {
        let node = &body.exprs[e];
        let ty = self.kind(node.ty);
        match &node.kind {
            ExprKind::Const(c) => Ok(*c),
            ExprKind::Convert(kind, inner) => {
                let c = self.fold(body, *inner)?;
                let from = self.kind(body.exprs[*inner].ty);
                match kind {
                    ConvKind::Int | ConvKind::ToBool | ConvKind::FromBool => {
                        eval::convert(c, from, ty).map_err(|_| Fail::NotConstant)
                    }
                    _ => Err(Fail::NotConstant),
                }
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.fold(body, *a)?;
                let y = self.fold(body, *b)?;
                let operand = self.kind(body.exprs[*a].ty);
                eval::binary(*op, x, y, operand).map_err(|err| match err {
                    EvalError::DivisionByZero => Fail::DivisionByZero(e),
                    EvalError::NotConstant => Fail::NotConstant,
                })
            }
            ExprKind::Unary(UnOp::Not, a) => {
                let x = self.fold(body, *a)?;
                eval::unary(UnOp::Not, x, TypeKind::Bool).map_err(|_| Fail::NotConstant)
            }
            ExprKind::If {
                cond,
                then,
                otherwise: Some(otherwise),
            } => {
                let c = self.fold(body, *cond)?;
                self.fold(body, if c.0 != 0 { *then } else { *otherwise })
            }
            ExprKind::Call {
                callee: Callee::Direct(m),
                args,
                ..
            } if args.is_empty() => match self.method_constant(*m) {
                Some((c, _)) => Ok(c),
                None if self.const_errors.contains(m) => Err(Fail::Reported),
                None => Err(Fail::NotConstant),
            },
            ExprKind::Cold { expr, .. } => self.fold(body, *expr),
            _ => Err(Fail::NotConstant),
        }
    }
}
