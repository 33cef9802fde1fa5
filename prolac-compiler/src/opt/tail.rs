//! Self tail calls become loops (§6.11), at every optimisation level.
//!
//! A call is in tail position if its value becomes the method's result: the body itself, the
//! last element of a sequence, both branches of a conditional, a loop body, the operand of an
//! unlikely-branch mark; in a `void` method also the operand of a discarding conversion, and
//! a sequence's last element that is not a constant (`A ==> B` yields `true` after `B`). A
//! tail call of the method to itself (statically bound; for a dynamic method, on any
//! receiver) becomes `Recur`, and the body is wrapped in a `Loop` over the receiver and the
//! parameters.

use crate::ir::{Body, Callee, ConvKind, ExprId, ExprKind, LocalId, MethodId, Program, TypeKind};

fn tail_calls(body: &Body, e: ExprId, void: bool, me: MethodId, out: &mut Vec<ExprId>) {
    crate::deep(|| tail_calls_now(body, e, void, me, out))
}

fn tail_calls_now(body: &Body, e: ExprId, void: bool, me: MethodId, out: &mut Vec<ExprId>) {
    match &body.exprs[e].kind {
        ExprKind::Call {
            callee: Callee::Direct(t),
            ..
        } if *t == me => out.push(e),
        ExprKind::Seq(items) => {
            let last = if void {
                items
                    .iter()
                    .rev()
                    .find(|i| !matches!(body.exprs[**i].kind, ExprKind::Const(_)))
                    .copied()
            } else {
                items.last().copied()
            };
            if let Some(l) = last {
                tail_calls(body, l, void, me, out);
            }
        }
        ExprKind::If {
            then, otherwise, ..
        } => {
            tail_calls(body, *then, void, me, out);
            if let Some(o) = otherwise {
                tail_calls(body, *o, void, me, out);
            }
        }
        ExprKind::Cold { expr, .. } => tail_calls(body, *expr, void, me, out),
        ExprKind::Convert(ConvKind::ToVoid, inner) if void => {
            tail_calls(body, *inner, void, me, out)
        }
        ExprKind::Convert(ConvKind::Ptr, inner) => tail_calls(body, *inner, void, me, out),
        _ => {}
    }
}

/// Turns the self tail calls of method `m` into a loop.
pub fn loops(p: &mut Program, m: MethodId) {
    let void = matches!(p.types.kind(p.methods[m].ret), TypeKind::Void);
    let never = p.types.intern(TypeKind::Never);
    let has_receiver = p.methods[m].has_receiver();
    let n_params = p.methods[m].params.len();
    let Some(body) = &mut p.methods[m].body else {
        return;
    };
    let Some(root) = body.root else { return };
    if matches!(body.exprs[root].kind, ExprKind::Loop { .. }) {
        return;
    }
    let mut calls = Vec::new();
    tail_calls(body, root, void, m, &mut calls);
    if calls.is_empty() {
        return;
    }
    for c in calls {
        let ExprKind::Call { args, .. } = &body.exprs[c].kind else {
            continue;
        };
        let args = args.clone();
        body.exprs[c].kind = ExprKind::Recur(args);
        body.exprs[c].ty = never;
    }
    let count = n_params + usize::from(has_receiver);
    let vars: Vec<LocalId> = body.locals.keys().take(count).collect();
    let ty = body.exprs[root].ty;
    let span = body.exprs[root].span;
    let new_root = body.push(ExprKind::Loop { vars, body: root }, ty, span);
    body.root = Some(new_root);
}
