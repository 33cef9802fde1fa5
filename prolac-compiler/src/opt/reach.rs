//! Reachability and devirtualisation by rapid type analysis (§13.2).
//!
//! From the exports, every method a reachable method can call is reachable. A module is
//! *constructed* if reachable code constructs an object of it (a constructor call that is not
//! a parent-subobject construction inside a child's constructor) or if its constructor is
//! exported. A dynamic call through a receiver of static type `*X` can reach the definitions
//! that the constructed modules `C ≤ X` use for its selector; the two sets grow together to a
//! fixed point. A call whose possible definitions are all one is then bound statically; a
//! call no constructed module can receive is bound to `X`'s own definition (it never runs).

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{
    Body, Callee, ConvKind, ExprId, ExprKind, LocalId, MethodId, MethodKind, ModuleId, Program,
    SelectorId, TypeKind,
};

/// The result of the analysis.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    /// Methods reachable from the exports.
    pub reachable: BTreeSet<MethodId>,
    /// Modules constructed by reachable code.
    pub constructed: BTreeSet<ModuleId>,
    /// For each dynamic call site (method, node): the definitions it can reach.
    pub targets: BTreeMap<(MethodId, ExprId), BTreeSet<MethodId>>,
}

/// What is known of a receiver: the module it points to, and whether the object is exactly
/// of that module (the address of a module value, whose run-time type is its static type).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Receiver {
    pub(crate) module: ModuleId,
    pub(crate) exact: bool,
}

/// Locals assigned exactly once and never updated or addressed: their value's facts are theirs.
pub(crate) fn single_assignments(body: &Body) -> BTreeMap<LocalId, ExprId> {
    let mut assigned: BTreeMap<LocalId, (usize, ExprId)> = BTreeMap::new();
    let mut spoiled: BTreeSet<LocalId> = BTreeSet::new();
    for (_, node) in body.exprs.iter() {
        match &node.kind {
            ExprKind::Assign { place, value } => {
                if let ExprKind::Local(l) = body.exprs[*place].kind {
                    let entry = assigned.entry(l).or_insert((0, *value));
                    entry.0 += 1;
                }
            }
            ExprKind::Update { place, .. } | ExprKind::AddrOf(place) => {
                if let ExprKind::Local(l) = body.exprs[*place].kind {
                    spoiled.insert(l);
                }
            }
            ExprKind::Loop { vars, .. } => spoiled.extend(vars.iter().copied()),
            _ => {}
        }
    }
    assigned
        .into_iter()
        .filter(|(l, (n, _))| *n == 1 && !spoiled.contains(l))
        .map(|(l, (_, v))| (l, v))
        .collect()
}

/// The receiver facts of a pointer expression: its static module, refined through pointer
/// conversions, single-assignment locals and addresses of module values.
pub(crate) fn receiver(
    p: &Program,
    body: &Body,
    single: &BTreeMap<LocalId, ExprId>,
    e: ExprId,
) -> Option<Receiver> {
    receiver_at(p, body, single, e, 0)
}

fn receiver_at(
    p: &Program,
    body: &Body,
    single: &BTreeMap<LocalId, ExprId>,
    e: ExprId,
    depth: u32,
) -> Option<Receiver> {
    if depth > 64 {
        return None;
    }
    let static_module = match p.types.kind(body.exprs[e].ty) {
        TypeKind::Ptr(inner) => match p.types.kind(inner) {
            TypeKind::Module(m) => Some(m),
            _ => None,
        },
        _ => None,
    };
    let refined = match &body.exprs[e].kind {
        ExprKind::Convert(ConvKind::Ptr, inner) => receiver_at(p, body, single, *inner, depth + 1),
        ExprKind::AddrOf(place) => match &body.exprs[*place].kind {
            ExprKind::Deref(ptr) => receiver_at(p, body, single, *ptr, depth + 1),
            _ => match p.types.kind(body.exprs[*place].ty) {
                TypeKind::Module(m) => Some(Receiver {
                    module: m,
                    exact: true,
                }),
                _ => None,
            },
        },
        ExprKind::Local(l) => single
            .get(l)
            .and_then(|v| receiver_at(p, body, single, *v, depth + 1)),
        ExprKind::Seq(items) => items
            .last()
            .and_then(|last| receiver_at(p, body, single, *last, depth + 1)),
        _ => None,
    };
    match (static_module, refined) {
        (Some(m), Some(r)) if p.is_subclass(r.module, m) => Some(r),
        (Some(m), _) => Some(Receiver {
            module: m,
            exact: false,
        }),
        (None, r) => r,
    }
}

/// The module a receiver pointer points to (looking through pointer conversions).
pub(crate) fn receiver_module(p: &Program, body: &crate::ir::Body, e: ExprId) -> Option<ModuleId> {
    receiver(p, body, &BTreeMap::new(), e).map(|r| r.module)
}

/// Is this constructor call the construction of `self`'s parent part?
fn is_subobject(p: &Program, caller: MethodId, body: &crate::ir::Body, receiver: ExprId) -> bool {
    if p.methods[caller].kind != MethodKind::Constructor {
        return false;
    }
    let mut e = receiver;
    loop {
        match body.exprs[e].kind {
            ExprKind::Convert(ConvKind::Ptr, inner) => e = inner,
            ExprKind::Local(l) => return l.as_u32() == 0,
            _ => return false,
        }
    }
}

/// Computes reachability and the constructed set.
pub fn analyse(p: &Program) -> Reach {
    analyse_seeded(p, &BTreeSet::new())
}

/// Like [`analyse`], with modules known to be constructed already. Inlining a constructor
/// removes the call that showed the construction, not the construction: analyses after
/// inlining are seeded with the constructed set found before it.
pub fn analyse_seeded(p: &Program, seed: &BTreeSet<ModuleId>) -> Reach {
    let mut r = Reach {
        constructed: seed.clone(),
        ..Reach::default()
    };
    let mut work: Vec<MethodId> = Vec::new();
    let mark = |m: MethodId, r: &mut Reach, work: &mut Vec<MethodId>| {
        if r.reachable.insert(m) {
            work.push(m);
        }
    };
    for &m in &p.exports {
        mark(m, &mut r, &mut work);
        if p.methods[m].kind == MethodKind::Constructor {
            r.constructed.insert(p.methods[m].owner);
        }
    }
    let mut sites: Vec<(MethodId, ExprId, SelectorId, Receiver)> = Vec::new();
    loop {
        while let Some(m) = work.pop() {
            let Some(body) = &p.methods[m].body else {
                continue;
            };
            let single = single_assignments(body);
            for (id, node) in body.exprs.iter() {
                let ExprKind::Call { callee, args, .. } = &node.kind else {
                    continue;
                };
                match callee {
                    Callee::Direct(t) => {
                        mark(*t, &mut r, &mut work);
                        if p.methods[*t].kind == MethodKind::Constructor
                            && let Some(&recv) = args.first()
                            && !is_subobject(p, m, body, recv)
                        {
                            r.constructed.insert(p.methods[*t].owner);
                        }
                    }
                    Callee::Virtual(sel) => {
                        let x = args
                            .first()
                            .and_then(|a| receiver(p, body, &single, *a))
                            .unwrap_or(Receiver {
                                module: p.selectors[*sel].origin,
                                exact: false,
                            });
                        sites.push((m, id, *sel, x));
                    }
                }
            }
        }
        let mut grew = false;
        for &(m, id, sel, x) in &sites {
            let targets: BTreeSet<MethodId> = if x.exact {
                p.actual(x.module, sel).into_iter().collect()
            } else {
                r.constructed
                    .iter()
                    .filter(|c| p.is_subclass(**c, x.module))
                    .filter_map(|c| p.actual(*c, sel))
                    .collect()
            };
            for &t in &targets {
                if r.reachable.insert(t) {
                    work.push(t);
                    grew = true;
                }
            }
            r.targets.insert((m, id), targets);
        }
        if !grew && work.is_empty() {
            break;
        }
    }
    r
}

/// Binds every dynamic call with one possible definition statically; returns how many.
pub fn devirtualise(p: &mut Program, r: &Reach) -> usize {
    let mut bound = 0;
    for (&(m, id), targets) in &r.targets {
        let (sel, x) = {
            let Some(body) = &p.methods[m].body else {
                continue;
            };
            let ExprKind::Call {
                callee: Callee::Virtual(sel),
                args,
                ..
            } = &body.exprs[id].kind
            else {
                continue;
            };
            let x = args
                .first()
                .and_then(|a| receiver_module(p, body, *a))
                .unwrap_or(p.selectors[*sel].origin);
            (*sel, x)
        };
        let target = match targets.len() {
            1 => targets.iter().next().copied(),
            0 => p.actual(x, sel),
            _ => None,
        };
        let Some(t) = target else { continue };
        let owner = p.methods[t].owner;
        let module_ty = p.types.intern(TypeKind::Module(owner));
        let ptr_ty = p.types.ptr(module_ty);
        let (params, ret) = (p.methods[t].params.clone(), p.methods[t].ret);
        let never = p.types.intern(TypeKind::Never);
        let Some(body) = &mut p.methods[m].body else {
            continue;
        };
        let ExprKind::Call { args, .. } = &body.exprs[id].kind else {
            continue;
        };
        let mut args = args.clone();
        let inline = match &body.exprs[id].kind {
            ExprKind::Call { inline, .. } => *inline,
            _ => None,
        };
        if let Some(recv) = args.first_mut()
            && body.exprs[*recv].ty != ptr_ty
        {
            let span = body.exprs[*recv].span;
            *recv = body.push(ExprKind::Convert(ConvKind::Ptr, *recv), ptr_ty, span);
        }
        // An override may take more general pointers and return a more specific one (§6.5):
        // the direct call gets exactly its target's types, converted where they differ.
        for (arg, &want) in args.iter_mut().skip(1).zip(&params) {
            let have = body.exprs[*arg].ty;
            if have != want && have != never {
                let span = body.exprs[*arg].span;
                *arg = body.push(ExprKind::Convert(ConvKind::Ptr, *arg), want, span);
            }
        }
        let call = ExprKind::Call {
            callee: Callee::Direct(t),
            args,
            inline,
        };
        bound += 1;
        if body.exprs[id].ty == ret {
            body.exprs[id].kind = call;
        } else {
            // The node keeps its id and type; the call moves under a conversion.
            let span = body.exprs[id].span;
            let inner = body.push(call, ret, span);
            body.exprs[id].kind = ExprKind::Convert(ConvKind::Ptr, inner);
        }
    }
    bound
}
