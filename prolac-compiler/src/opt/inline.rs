//! Inlining (§13.3).
//!
//! The effective level of a call is the level its site requests (the innermost expression
//! operator, or a module operator's preference), else the callee's default: 2 for forwarders,
//! constructors with small bodies, and small methods — at most [`SMALL`] nodes after folding —
//! and 1 otherwise. Only statically bound calls with a body are inlined. At `-O2` and above,
//! calls of level 2 or more are expanded; at `-O3` a level-3 (path-inline) call also raises
//! the calls inside the expanded body to level 2 unless they ask for 0. Expansion runs
//! top-down from the exports and visits only methods that remain called, so a method that is
//! only ever inlined is not expanded for nothing (a chain of `inline super` hooks costs time
//! linear in the code that remains); a method is never expanded inside its own expansion, so
//! recursive cycles are cut. Bodies that name their receiver from host text are not expanded
//! (the substitution names the receiver implicitly).
//!
//! Expansion is structural: the call becomes a sequence that assigns the arguments to fresh
//! locals for the callee's receiver and parameters, followed by a copy of the callee's body.

use std::collections::{BTreeMap, BTreeSet};

use cranelift_entity::EntityRef;

use crate::ir::walk::{copy_tree, preorder};
use crate::ir::{
    Body, Callee, ExprId, ExprKind, HostRef, MethodId, MethodKind, Program, Provenance,
};

/// A body of at most this many nodes is small (inline level 2 by default).
pub const SMALL: usize = 8;

/// A body this large stops further expansion into it.
const BUDGET: usize = 200_000;

/// Sets each method's default inline level.
pub fn defaults(p: &mut Program) {
    let ids: Vec<MethodId> = p.methods.keys().collect();
    for m in ids {
        let method = &p.methods[m];
        let size = method
            .body
            .as_ref()
            .and_then(|b| b.root.map(|r| preorder(b, r).len()))
            .unwrap_or(usize::MAX);
        let level = match method.provenance {
            Provenance::Forwarder | Provenance::SynthesisedConstructor => 2,
            Provenance::Written if size <= SMALL => 2,
            Provenance::Written if method.kind == MethodKind::Constructor && size <= 2 * SMALL => 2,
            Provenance::Written => 1,
        };
        p.methods[m].inline = level;
    }
}

fn expandable(p: &Program, t: MethodId) -> bool {
    let Some(body) = &p.methods[t].body else {
        return false;
    };
    if body.root.is_none() {
        return false;
    }
    !body.exprs.values().any(|e| match &e.kind {
        ExprKind::Host { subst, .. } => subst
            .iter()
            .any(|s| matches!(s.target, HostRef::SelfObject | HostRef::Field(_))),
        _ => false,
    })
}

/// Expands calls top-down from `roots` (the exports): a method is expanded, then every method
/// its expanded body still calls is expanded in turn. A method that is only ever inlined
/// (the middle of a chain of `inline super` hooks) is therefore never expanded on its own, so
/// the work is proportional to the code that remains. `reachable` bounds the targets of calls
/// still dispatched dynamically. Returns how many calls were expanded.
pub fn methods(
    p: &mut Program,
    roots: &[MethodId],
    reachable: &BTreeSet<MethodId>,
    path_inlining: bool,
) -> usize {
    let n = p.methods.len();
    let can_expand: Vec<bool> = p.methods.keys().map(|t| expandable(p, t)).collect();
    let cx = Cx {
        can_expand: &can_expand,
        void: void_type(p),
        path_inlining,
    };
    let mut done = vec![false; n];
    let mut work: Vec<MethodId> = roots.to_vec();
    let mut count = 0;
    while let Some(m) = work.pop() {
        if std::mem::replace(&mut done[m.index()], true) {
            continue;
        }
        count += expand_method(p, m, &cx);
        let Some(body) = &p.methods[m].body else {
            continue;
        };
        for e in body.exprs.values() {
            match e.kind {
                ExprKind::Call {
                    callee: Callee::Direct(t),
                    ..
                } if !done[t.index()] => work.push(t),
                ExprKind::Call {
                    callee: Callee::Virtual(sel),
                    ..
                } => work.extend(reachable.iter().filter(|t| {
                    p.methods[**t].kind == MethodKind::Dynamic(sel) && !done[t.index()]
                })),
                _ => {}
            }
        }
    }
    count
}

struct Cx<'a> {
    can_expand: &'a [bool],
    void: crate::ir::TypeId,
    path_inlining: bool,
}

fn expand_method(p: &mut Program, m: MethodId, cx: &Cx<'_>) -> usize {
    let Some(mut body) = p.methods[m].body.take() else {
        return 0;
    };
    let mut count = 0;
    if let Some(root) = body.root {
        let mut stack = vec![m];
        expand(p, &mut body, root, &mut stack, false, cx, &mut count);
    }
    p.methods[m].body = Some(body);
    count
}

/// Expands the calls in the tree at `e`; an expanded copy is expanded in turn (with `stack`
/// holding the methods being expanded, so recursion stops at a cycle).
fn expand(
    p: &Program,
    body: &mut Body,
    e: ExprId,
    stack: &mut Vec<MethodId>,
    boosted: bool,
    cx: &Cx<'_>,
    count: &mut usize,
) {
    if let ExprKind::Call {
        callee: Callee::Direct(t),
        args,
        inline,
    } = &body.exprs[e].kind
    {
        let (t, args, site) = (*t, args.clone(), *inline);
        let mut level = site.unwrap_or(p.methods[t].inline);
        if boosted && level != 0 {
            level = level.max(2);
        }
        let wanted = level >= 2
            && !stack.contains(&t)
            && cx.can_expand.get(t.index()).copied().unwrap_or(false)
            && body.exprs.len() < BUDGET;
        if wanted && let Some(callee) = &p.methods[t].body {
            let mut locals = BTreeMap::new();
            let mut seq = Vec::new();
            // The receiver and the parameters are the callee's first locals.
            let params: Vec<_> = callee.locals.keys().take(args.len()).collect();
            for (&param, &arg) in params.iter().zip(&args) {
                let local = &callee.locals[param];
                let fresh = body.local(local.name.clone(), local.ty);
                locals.insert(param, fresh);
                let span = body.exprs[arg].span;
                let place = body.push(ExprKind::Local(fresh), local.ty, span);
                let set = body.push(ExprKind::Assign { place, value: arg }, local.ty, span);
                seq.push(body.push(
                    ExprKind::Convert(crate::ir::ConvKind::ToVoid, set),
                    cx.void,
                    span,
                ));
            }
            let root = callee.root.unwrap_or(e);
            let copy = copy_tree(callee, root, body, &mut locals);
            seq.push(copy);
            body.exprs[e].kind = ExprKind::Seq(seq);
            *count += 1;
            stack.push(t);
            let boost = boosted || (cx.path_inlining && level == 3);
            crate::deep(|| expand(p, body, copy, stack, boost, cx, count));
            stack.pop();
            // The argument expressions are expanded in the caller's context.
            for arg in args {
                crate::deep(|| expand(p, body, arg, stack, boosted, cx, count));
            }
            return;
        }
    }
    let mut kids = Vec::new();
    body.exprs[e].kind.for_each_child(|c| kids.push(c));
    for child in kids {
        crate::deep(|| expand(p, body, child, stack, boosted, cx, count));
    }
}

fn void_type(p: &Program) -> crate::ir::TypeId {
    p.types
        .iter()
        .find(|(_, k)| *k == crate::ir::TypeKind::Void)
        .map(|(id, _)| id)
        .unwrap_or(crate::ir::TypeId::from_u32(0))
}
