//! Exception sets (§10.4): the exceptions that can escape each method, as the least fixed point
//! of its uncaught raises, the sets of the methods it calls outside a catching `catch`, and —
//! for a dynamic method — the sets of every method that overrides it. Then only methods
//! returning `void` or `bool` may have a non-empty set (P1001, with the path by which the
//! exception escapes). Extern methods and host blocks never raise.

use cranelift_entity::EntityRef;
use std::collections::{BTreeMap, BTreeSet};

use prolac_syntax::codes::P1001;
use prolac_syntax::{Diagnostic, Span};

use super::Sema;
use crate::ir::{
    Body, Callee, ExceptionId, ExprId, ExprKind, Handles, MethodId, MethodKind, SelectorId,
    TypeKind,
};

/// How an exception first reaches a method: raised directly, or through a call.
#[derive(Clone, Copy, Debug)]
enum Cause {
    Raise(Span),
    Call(Span, MethodId),
}

/// The exceptions a `catch` around a call stops (`None` = stops everything), innermost first.
type Stops = Vec<Option<BTreeSet<ExceptionId>>>;

/// Raises and calls of one body that escape its catches.
#[derive(Default)]
struct Escapes {
    raises: Vec<(ExceptionId, Span)>,
    /// Calls with the exceptions a `catch` around them stops (`None` = stops everything).
    calls: Vec<(Callee, Span, Stops)>,
}

fn walk(
    body: &Body,
    e: ExprId,
    caught: &mut Vec<Option<BTreeSet<ExceptionId>>>,
    out: &mut Escapes,
) {
    let stopped = |caught: &[Option<BTreeSet<ExceptionId>>], x: ExceptionId| {
        caught
            .iter()
            .any(|c| c.as_ref().is_none_or(|set| set.contains(&x)))
    };
    match &body.exprs[e].kind {
        ExprKind::Raise(x) => {
            if !stopped(caught, *x) {
                out.raises.push((*x, body.exprs[e].span));
            }
        }
        ExprKind::Catch {
            body: inner,
            handles,
        } => {
            caught.push(match handles {
                Handles::All => None,
                Handles::Only(xs) => Some(xs.iter().copied().collect()),
            });
            crate::deep(|| walk(body, *inner, caught, out));
            caught.pop();
        }
        ExprKind::Call { callee, args, .. } => {
            for a in args {
                crate::deep(|| walk(body, *a, caught, out));
            }
            out.calls
                .push((*callee, body.exprs[e].span, caught.clone()));
        }
        other => {
            for child in children(other) {
                crate::deep(|| walk(body, child, caught, out));
            }
        }
    }
}

/// The direct children of a node.
pub(crate) fn children(k: &ExprKind) -> Vec<ExprId> {
    match k {
        ExprKind::Const(_)
        | ExprKind::Str(_)
        | ExprKind::Zero
        | ExprKind::Local(_)
        | ExprKind::Static(_) => Vec::new(),
        ExprKind::Raise(_) | ExprKind::Host { .. } | ExprKind::Abort(_) => Vec::new(),
        ExprKind::Field { object, .. } => vec![*object],
        ExprKind::Deref(a)
        | ExprKind::AddrOf(a)
        | ExprKind::Unary(_, a)
        | ExprKind::Convert(_, a) => vec![*a],
        ExprKind::Index { array, index } => vec![*array, *index],
        ExprKind::Binary(_, a, b) => vec![*a, *b],
        ExprKind::Assign { place, value } | ExprKind::Update { place, value, .. } => {
            vec![*place, *value]
        }
        ExprKind::Call { args, .. } | ExprKind::Seq(args) | ExprKind::Recur(args) => args.clone(),
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            let mut v = vec![*cond, *then];
            v.extend(otherwise);
            v
        }
        ExprKind::Loop { body, .. } | ExprKind::Catch { body, .. } => vec![*body],
        ExprKind::Cold { expr, .. } => vec![*expr],
    }
}

/// For each module, the entry and exit times of a depth-first walk of the inheritance forest
/// (iterative, any depth): a module is entered after its ancestors, and `a` descends from `b`
/// exactly when `a`'s interval lies in `b`'s.
fn subclass_intervals(p: &crate::ir::Program) -> Vec<(u32, u32)> {
    let n = p.modules.len();
    let mut children: Vec<Vec<crate::ir::ModuleId>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (m, module) in p.modules.iter() {
        match module.parent {
            Some(parent) if parent.index() < n && parent != m => children[parent.index()].push(m),
            _ => roots.push(m),
        }
    }
    let mut out = vec![(u32::MAX, 0); n];
    let mut clock = 0u32;
    let mut stack: Vec<(crate::ir::ModuleId, bool)> =
        roots.into_iter().rev().map(|r| (r, false)).collect();
    while let Some((m, done)) = stack.pop() {
        if done {
            out[m.index()].1 = clock;
            clock += 1;
            continue;
        }
        if out[m.index()].0 != u32::MAX {
            continue;
        }
        out[m.index()].0 = clock;
        clock += 1;
        stack.push((m, true));
        stack.extend(children[m.index()].iter().rev().map(|&c| (c, false)));
    }
    out
}

impl Sema<'_> {
    pub(crate) fn compute_exceptions(&mut self) {
        self.propagate_forwarders();
        let ids: Vec<MethodId> = self.ir.methods.keys().collect();
        let mut escapes: BTreeMap<MethodId, Escapes> = BTreeMap::new();
        for &id in &ids {
            let mut out = Escapes::default();
            if let Some(body) = &self.ir.methods[id].body
                && let Some(root) = body.root
            {
                walk(body, root, &mut Vec::new(), &mut out);
            }
            escapes.insert(id, out);
        }
        // Every definition answering a selector, for dynamic calls and overriders.
        let mut by_selector: BTreeMap<SelectorId, BTreeSet<MethodId>> = BTreeMap::new();
        for &id in &ids {
            if let MethodKind::Dynamic(sel) = self.ir.methods[id].kind {
                by_selector.entry(sel).or_default().insert(id);
            }
        }
        // Depth-first entry times: a module is entered after all of its ancestors.
        let order = subclass_intervals(&self.ir);
        let mut sets: BTreeMap<MethodId, BTreeMap<ExceptionId, Cause>> =
            ids.iter().map(|&id| (id, BTreeMap::new())).collect();
        for (&id, esc) in &escapes {
            for (x, span) in &esc.raises {
                sets.entry(id)
                    .or_default()
                    .entry(*x)
                    .or_insert(Cause::Raise(*span));
            }
        }
        // A selector's origin definition: its set will include every overrider's.
        let mut origin_method: BTreeMap<SelectorId, MethodId> = BTreeMap::new();
        for (&sel, methods) in &by_selector {
            let origin = self.ir.selectors[sel].origin;
            if let Some(&m) = methods
                .iter()
                .find(|&&m| self.ir.methods[m].owner == origin)
            {
                origin_method.insert(sel, m);
            }
        }
        // Each override's exceptions join the definition it overrides (§6.5): the one its
        // owner's parent uses. Descendants first, so one sweep carries a set to the top.
        let mut overrides: Vec<(u32, MethodId, MethodId)> = Vec::new();
        for &id in &ids {
            if let MethodKind::Dynamic(sel) = self.ir.methods[id].kind
                && let Some(parent) = self.ir.modules[self.ir.methods[id].owner].parent
                && let Some(overridden) = self.ir.actual(parent, sel)
                && overridden != id
            {
                let entered = order[self.ir.methods[id].owner.index()].0;
                overrides.push((entered, id, overridden));
            }
        }
        overrides.sort_by_key(|b| std::cmp::Reverse(b.0));
        let mut changed = true;
        while changed {
            changed = false;
            for &(_, o, overridden) in &overrides {
                let new: Vec<ExceptionId> = sets[&o]
                    .keys()
                    .filter(|x| !sets[&overridden].contains_key(x))
                    .copied()
                    .collect();
                for x in new {
                    sets.entry(overridden)
                        .or_default()
                        .insert(x, Cause::Call(self.ir.methods[o].span, o));
                    changed = true;
                }
            }
            for &id in &ids {
                let mut add: Vec<(ExceptionId, Cause)> = Vec::new();
                for (callee, span, caught) in &escapes[&id].calls {
                    // A dynamic call can reach any definition; the origin's set has them all.
                    let target = match callee {
                        Callee::Direct(m) => Some(*m),
                        Callee::Virtual(sel) => origin_method.get(sel).copied(),
                    };
                    let Some(t) = target else { continue };
                    for &x in sets[&t].keys() {
                        let stopped = caught
                            .iter()
                            .any(|c| c.as_ref().is_none_or(|set| set.contains(&x)));
                        if !stopped && !sets[&id].contains_key(&x) {
                            add.push((x, Cause::Call(*span, t)));
                        }
                    }
                }
                for (x, cause) in add {
                    if let std::collections::btree_map::Entry::Vacant(slot) =
                        sets.entry(id).or_default().entry(x)
                    {
                        slot.insert(cause);
                        changed = true;
                    }
                }
            }
        }
        for &id in &ids {
            let set = &sets[&id];
            self.ir.methods[id].raises = set.keys().copied().collect();
            if set.is_empty() {
                continue;
            }
            let ret = self.kind(self.ir.methods[id].ret);
            if matches!(ret, TypeKind::Void | TypeKind::Bool) {
                continue;
            }
            let Some((&x, _)) = set.iter().next() else {
                continue;
            };
            let path = self.escape_path(id, x, &sets);
            let name = self.ir.methods[id].name.clone();
            let rt = self.type_name(self.ir.methods[id].ret);
            let xname = self.ir.exceptions[x].name.clone();
            let mut d = Diagnostic::new(
                P1001,
                self.ir.methods[id].span,
                format!("exception `{xname}` can escape `{name}`, which returns `{rt}`"),
            )
            .with_label("only methods returning `void` or `bool` may let exceptions escape")
            .with_help("catch it inside the method, or make the method return `bool` or `void`");
            for (span, what) in path {
                d = d.with_secondary(span, what);
            }
            self.error(d);
        }
    }

    /// The chain of calls by which `x` reaches `id`, ending at the raise.
    fn escape_path(
        &self,
        id: MethodId,
        x: ExceptionId,
        sets: &BTreeMap<MethodId, BTreeMap<ExceptionId, Cause>>,
    ) -> Vec<(Span, String)> {
        let mut out = Vec::new();
        let mut cur = id;
        let mut seen = BTreeSet::new();
        while seen.insert(cur) {
            match sets.get(&cur).and_then(|s| s.get(&x)) {
                Some(Cause::Raise(span)) => {
                    out.push((*span, "raised here".to_string()));
                    break;
                }
                Some(Cause::Call(span, next)) => {
                    let name = self.ir.methods[*next].name.clone();
                    out.push((*span, format!("escapes through `{name}`")));
                    cur = *next;
                }
                None => break,
            }
        }
        out
    }
}
