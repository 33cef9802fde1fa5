//! What a back end emits: the functions, the selectors still called dynamically and whether a
//! dispatched call can raise. Both back ends ask this one question the same way, so the Rust
//! source and the machine code contain the same functions.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{Callee, ExceptionId, ExprKind, MethodId, MethodKind, Program as Ir, SelectorId};
use crate::opt::Report;

/// The functions and dispatch a back end generates for an optimised program.
#[derive(Clone, Debug, Default)]
pub struct EmitSet {
    /// Methods that get a function, in id order: the exports, the optimiser's emitted set,
    /// the constructors of constructed modules, and everything they call directly or through
    /// dispatch tables. Extern methods (the host's functions) are not included.
    pub functions: BTreeSet<MethodId>,
    /// Selectors called dynamically by emitted code.
    pub virtual_selectors: BTreeSet<SelectorId>,
    /// Per dynamically called selector: true if any definition it may reach can raise (a
    /// dispatched call then carries a status).
    pub selector_raises: BTreeMap<SelectorId, bool>,
    /// Per dynamically called selector: the exceptions its definitions can raise, sorted.
    pub selector_exceptions: BTreeMap<SelectorId, Vec<ExceptionId>>,
}

impl EmitSet {
    /// Computes the set for an optimised program.
    pub fn new(ir: &Ir, report: &Report) -> EmitSet {
        let mut set = EmitSet::default();
        let mut work: Vec<MethodId> = ir.exports.clone();
        work.extend(report.emitted.iter().copied());
        for &m in &report.constructed {
            if let Some(c) = ir.modules[m].constructor {
                work.push(c);
            }
        }
        while let Some(m) = work.pop() {
            if !set.functions.insert(m) {
                continue;
            }
            let Some(body) = &ir.methods[m].body else {
                continue;
            };
            for (_, e) in body.exprs.iter() {
                if let ExprKind::Call { callee, .. } = &e.kind {
                    match *callee {
                        Callee::Direct(t) => work.push(t),
                        Callee::Virtual(sel) => {
                            if set.virtual_selectors.insert(sel) {
                                work.extend(targets(ir, sel));
                            }
                        }
                    }
                }
            }
        }
        set.functions
            .retain(|&m| !matches!(ir.methods[m].kind, MethodKind::Extern { .. }));
        for &sel in &set.virtual_selectors {
            let mut all: Vec<ExceptionId> = ir
                .methods
                .values()
                .filter(|m| m.kind == MethodKind::Dynamic(sel))
                .flat_map(|m| m.raises.iter().copied())
                .collect();
            all.sort();
            all.dedup();
            set.selector_raises.insert(sel, !all.is_empty());
            set.selector_exceptions.insert(sel, all);
        }
        set
    }

    /// The exceptions a dispatched call through `sel` can raise, sorted.
    pub fn selector_exceptions(&self, sel: SelectorId) -> &[ExceptionId] {
        self.selector_exceptions
            .get(&sel)
            .map_or(&[], Vec::as_slice)
    }

    /// True if a dispatched call through `sel` carries a status.
    pub fn selector_raises(&self, sel: SelectorId) -> bool {
        self.selector_raises.get(&sel).copied().unwrap_or(false)
    }
}

/// Every definition a dispatched call through `sel` may reach: the actuals of the modules at
/// or below the selector's origin, in id order.
pub fn targets(ir: &Ir, sel: SelectorId) -> Vec<MethodId> {
    let origin = ir.selectors[sel].origin;
    let mut out = BTreeSet::new();
    for m in ir.modules.keys() {
        if ir.is_subclass(m, origin)
            && let Some(t) = ir.actual(m, sel)
        {
            out.insert(t);
        }
    }
    out.into_iter().collect()
}

/// The definition that fixes a selector's signature: the origin module's own, else any
/// definition sharing the selector (overrides differ only by pointer variance, §6.5).
pub fn origin_definition(ir: &Ir, sel: SelectorId) -> Option<MethodId> {
    let origin = ir.selectors[sel].origin;
    ir.methods
        .iter()
        .find(|(_, m)| m.kind == MethodKind::Dynamic(sel) && m.owner == origin)
        .or_else(|| {
            ir.methods
                .iter()
                .find(|(_, m)| m.kind == MethodKind::Dynamic(sel))
        })
        .map(|(id, _)| id)
}
