//! The optimiser (§13): what makes Prolac's abstractions free.
//!
//! 1. [`reach`]: reachability from the exports and the *constructed set* by rapid type analysis
//!    (closed world, §13.2), then devirtualisation — every dynamic call whose possible
//!    receivers all select one definition is bound statically.
//! 2. [`tail`]: self tail calls become loops, at every level (§6.11).
//! 3. [`fold`]: constant folding and dead branches (§13.5), symbolic constants inlined.
//! 4. [`inline`]: inlining by level (§13.3): the innermost expression operator, else module
//!    preferences, else the method's default (2 for forwarders, synthesised and small
//!    constructors, small methods; 1 otherwise); `-O0`/`-O1` inline nothing, `-O2` levels ≥ 2,
//!    `-O3` also path inlining.
//! 5. Reachability again, for what is emitted, and the dispatch that remains.
//!
//! Devirtualisation and folding do not depend on `-O`; only inlining does.

pub mod fold;
pub mod inline;
pub mod reach;
pub mod tail;

use std::collections::BTreeSet;

use prolac_syntax::Span;

use crate::ir::{Callee, ExprKind, MethodId, MethodKind, ModuleId, Program};

/// What the optimiser did, for `--stats` and the back ends.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Methods that generate code (reachable after inlining, with a body).
    pub emitted: BTreeSet<MethodId>,
    /// Modules constructed by reachable code (the closed world).
    pub constructed: BTreeSet<ModuleId>,
    /// Dynamic calls left in emitted code.
    pub dynamic_dispatches: usize,
    /// Call sites expanded by inlining.
    pub inlined_calls: usize,
    /// Origin modules of the selectors still dispatched (they need dispatch slots).
    pub dispatch_origins: BTreeSet<ModuleId>,
}

/// Optimises a program in place at level `level` (0–3).
pub fn optimise(p: &mut Program, level: u8) -> Report {
    // Binding a call can make more code reachable (a call no constructed module receives is
    // bound to its static receiver's definition): analyse again until nothing changes.
    let mut first = reach::analyse(p);
    while reach::devirtualise(p, &first) > 0 {
        first = reach::analyse(p);
    }
    for m in first.reachable.iter().copied().collect::<Vec<_>>() {
        tail::loops(p, m);
    }
    for m in first.reachable.iter().copied().collect::<Vec<_>>() {
        fold::method(p, m);
    }
    inline::defaults(p);
    let mut inlined = 0;
    if level >= 2 {
        let exports = p.exports.clone();
        inlined += inline::methods(p, &exports, &first.reachable, level >= 3);
        for &m in &first.reachable {
            fold::method(p, m);
        }
    }
    for &m in &first.reachable {
        if let Some(body) = &mut p.methods[m].body {
            crate::ir::walk::compact(body);
        }
    }
    // Inlining exposes receivers' exact modules: devirtualise again.
    let seed = first.constructed.clone();
    let mut after = reach::analyse_seeded(p, &seed);
    if level >= 2 {
        while reach::devirtualise(p, &after) > 0 {
            after = reach::analyse_seeded(p, &seed);
        }
        let exports = p.exports.clone();
        inlined += inline::methods(p, &exports, &after.reachable, level >= 3);
        for &m in &after.reachable {
            fold::method(p, m);
        }
        after = reach::analyse_seeded(p, &seed);
    }
    // Every body the passes touched (inlining also expands methods that end up unreachable).
    for (_, method) in p.methods.iter_mut() {
        if let Some(body) = &mut method.body {
            crate::ir::walk::compact(body);
        }
    }
    let mut report = Report {
        constructed: after.constructed.clone(),
        inlined_calls: inlined,
        ..Report::default()
    };
    for &m in &after.reachable {
        let Some(body) = &p.methods[m].body else {
            continue;
        };
        report.emitted.insert(m);
        for (_, e) in body.exprs.iter() {
            if let ExprKind::Call {
                callee: Callee::Virtual(sel),
                ..
            } = e.kind
            {
                report.dynamic_dispatches += 1;
                report.dispatch_origins.insert(p.selectors[sel].origin);
            }
        }
    }
    report
}

/// Statically bound calls, in emitted code, of methods without a body (calling one aborts):
/// the call's span and the method, each span once. Devirtualisation creates some of these.
pub fn bodyless_calls(p: &Program, report: &Report) -> Vec<(Span, MethodId)> {
    let mut out: Vec<(Span, MethodId)> = Vec::new();
    for &m in &report.emitted {
        let Some(body) = &p.methods[m].body else {
            continue;
        };
        for (_, e) in body.exprs.iter() {
            if let ExprKind::Call {
                callee: Callee::Direct(target),
                ..
            } = e.kind
                && p.methods[target].body.is_none()
                && !matches!(p.methods[target].kind, MethodKind::Extern { .. })
                && !out.iter().any(|(s, _)| *s == e.span)
            {
                out.push((e.span, target));
            }
        }
    }
    out
}
