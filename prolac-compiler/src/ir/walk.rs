//! Walking and copying expression trees.

use std::collections::BTreeMap;

use super::{Body, ExprId, ExprKind, HostRef, LocalId};

impl ExprKind {
    /// The direct children of a node, in evaluation order.
    pub fn children(&self) -> Vec<ExprId> {
        match self {
            ExprKind::Const(_)
            | ExprKind::Str(_)
            | ExprKind::Zero
            | ExprKind::Local(_)
            | ExprKind::Static(_)
            | ExprKind::Raise(_)
            | ExprKind::Host { .. }
            | ExprKind::Abort(_) => Vec::new(),
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
            ExprKind::Call { args, .. } | ExprKind::Seq(args) | ExprKind::Recur(args) => {
                args.clone()
            }
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

    /// Calls `f` on each direct child, in evaluation order, without allocating.
    pub fn for_each_child(&self, mut f: impl FnMut(ExprId)) {
        match self {
            ExprKind::Const(_)
            | ExprKind::Str(_)
            | ExprKind::Zero
            | ExprKind::Local(_)
            | ExprKind::Static(_)
            | ExprKind::Raise(_)
            | ExprKind::Host { .. }
            | ExprKind::Abort(_) => {}
            ExprKind::Field { object: a, .. }
            | ExprKind::Deref(a)
            | ExprKind::AddrOf(a)
            | ExprKind::Unary(_, a)
            | ExprKind::Convert(_, a)
            | ExprKind::Loop { body: a, .. }
            | ExprKind::Catch { body: a, .. }
            | ExprKind::Cold { expr: a, .. } => f(*a),
            ExprKind::Index { array: a, index: b }
            | ExprKind::Binary(_, a, b)
            | ExprKind::Assign { place: a, value: b }
            | ExprKind::Update {
                place: a, value: b, ..
            } => {
                f(*a);
                f(*b);
            }
            ExprKind::Call { args, .. } | ExprKind::Seq(args) | ExprKind::Recur(args) => {
                args.iter().copied().for_each(f)
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                f(*cond);
                f(*then);
                if let Some(o) = otherwise {
                    f(*o);
                }
            }
        }
    }

    /// Calls `f` on each direct child slot, in evaluation order, for rewriting in place.
    pub fn for_each_child_mut(&mut self, mut f: impl FnMut(&mut ExprId)) {
        match self {
            ExprKind::Const(_)
            | ExprKind::Str(_)
            | ExprKind::Zero
            | ExprKind::Local(_)
            | ExprKind::Static(_)
            | ExprKind::Raise(_)
            | ExprKind::Host { .. }
            | ExprKind::Abort(_) => {}
            ExprKind::Field { object: a, .. }
            | ExprKind::Deref(a)
            | ExprKind::AddrOf(a)
            | ExprKind::Unary(_, a)
            | ExprKind::Convert(_, a)
            | ExprKind::Loop { body: a, .. }
            | ExprKind::Catch { body: a, .. }
            | ExprKind::Cold { expr: a, .. } => f(a),
            ExprKind::Index { array: a, index: b }
            | ExprKind::Binary(_, a, b)
            | ExprKind::Assign { place: a, value: b }
            | ExprKind::Update {
                place: a, value: b, ..
            } => {
                f(a);
                f(b);
            }
            ExprKind::Call { args, .. } | ExprKind::Seq(args) | ExprKind::Recur(args) => {
                args.iter_mut().for_each(f)
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                f(cond);
                f(then);
                if let Some(o) = otherwise {
                    f(o);
                }
            }
        }
    }

    /// The direct children, for rewriting in place.
    pub fn children_mut(&mut self) -> Vec<&mut ExprId> {
        match self {
            ExprKind::Const(_)
            | ExprKind::Str(_)
            | ExprKind::Zero
            | ExprKind::Local(_)
            | ExprKind::Static(_)
            | ExprKind::Raise(_)
            | ExprKind::Host { .. }
            | ExprKind::Abort(_) => Vec::new(),
            ExprKind::Field { object, .. } => vec![object],
            ExprKind::Deref(a)
            | ExprKind::AddrOf(a)
            | ExprKind::Unary(_, a)
            | ExprKind::Convert(_, a) => vec![a],
            ExprKind::Index { array, index } => vec![array, index],
            ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::Assign { place, value } | ExprKind::Update { place, value, .. } => {
                vec![place, value]
            }
            ExprKind::Call { args, .. } | ExprKind::Seq(args) | ExprKind::Recur(args) => {
                args.iter_mut().collect()
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                let mut v = vec![cond, then];
                v.extend(otherwise.as_mut());
                v
            }
            ExprKind::Loop { body, .. } | ExprKind::Catch { body, .. } => vec![body],
            ExprKind::Cold { expr, .. } => vec![expr],
        }
    }
}

/// Every node reachable from `root`, parents before children.
pub fn preorder(body: &Body, root: ExprId) -> Vec<ExprId> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    let mut kids = Vec::new();
    while let Some(e) = stack.pop() {
        out.push(e);
        kids.clear();
        body.exprs[e].kind.for_each_child(|k| kids.push(k));
        stack.extend(kids.iter().rev());
    }
    out
}

/// True if the arena holds exactly the tree at the root: every node reached once, none left
/// over (so [`compact`] would only renumber).
pub fn is_exact_tree(body: &Body) -> bool {
    let Some(root) = body.root else {
        return body.exprs.is_empty();
    };
    let mut seen = vec![false; body.exprs.len()];
    let mut stack = vec![root];
    let mut reached = 0usize;
    while let Some(e) = stack.pop() {
        let Some(slot) = seen.get_mut(e.as_u32() as usize) else {
            return false;
        };
        if *slot {
            return false;
        }
        *slot = true;
        reached += 1;
        body.exprs[e].kind.for_each_child(|k| stack.push(k));
    }
    reached == body.exprs.len()
}

/// Copies the tree at `root` of `src` into `dst`, renaming locals through `locals` (locals
/// not in the map get fresh slots in `dst`). Returns the copy's root. A node reached twice is
/// copied once, so a (wrongly) shared node stays shared and the verifier still sees it.
pub fn copy_tree(
    src: &Body,
    root: ExprId,
    dst: &mut Body,
    locals: &mut BTreeMap<LocalId, LocalId>,
) -> ExprId {
    let mut memo = vec![None; src.exprs.len()];
    copy_memo(src, root, dst, locals, &mut memo)
}

fn copy_memo(
    src: &Body,
    root: ExprId,
    dst: &mut Body,
    locals: &mut BTreeMap<LocalId, LocalId>,
    memo: &mut [Option<ExprId>],
) -> ExprId {
    if let Some(&Some(done)) = memo.get(root.as_u32() as usize) {
        return done;
    }
    let node = &src.exprs[root];
    let mut kind = node.kind.clone();
    let mut map_local = |l: LocalId, dst: &mut Body| -> LocalId {
        *locals.entry(l).or_insert_with(|| {
            let local = &src.locals[l];
            dst.local(local.name.clone(), local.ty)
        })
    };
    match &mut kind {
        ExprKind::Local(l) => *l = map_local(*l, dst),
        ExprKind::Loop { vars, .. } => {
            for v in vars.iter_mut() {
                *v = map_local(*v, dst);
            }
        }
        ExprKind::Host { subst, .. } => {
            for s in subst.iter_mut() {
                if let HostRef::Local(l) = &mut s.target {
                    *l = map_local(*l, dst);
                }
            }
        }
        _ => {}
    }
    kind.for_each_child_mut(|slot| {
        *slot = crate::deep(|| copy_memo(src, *slot, dst, locals, memo))
    });
    let id = dst.push(kind, node.ty, node.span);
    if let Some(m) = memo.get_mut(root.as_u32() as usize) {
        *m = Some(id);
    }
    id
}

/// Rebuilds a body so that its arena holds exactly the nodes of its tree, in a canonical
/// order (children before parents, left to right). Locals keep their ids. Nodes are moved, not
/// cloned, and the walk is iterative (any depth). A node reached twice (which the verifier
/// rejects) stays shared rather than being duplicated.
pub fn compact(body: &mut Body) {
    if is_exact_tree(body) {
        return;
    }
    let Some(root) = body.root else {
        body.exprs = Default::default();
        return;
    };
    let n = body.exprs.len();
    let mut new_id: Vec<Option<ExprId>> = vec![None; n];
    let mut entered = vec![false; n];
    let mut order: Vec<ExprId> = Vec::new();
    // Post-order: (node, children pushed yet?). A node entered but not finished that is
    // reached again lies on a cycle; that edge is not followed.
    let mut stack: Vec<(ExprId, bool)> = vec![(root, false)];
    let mut kids: Vec<ExprId> = Vec::new();
    while let Some((e, expanded)) = stack.pop() {
        let index = e.as_u32() as usize;
        if index >= n || new_id[index].is_some() || (!expanded && entered[index]) {
            continue;
        }
        entered[index] = true;
        if expanded {
            new_id[index] = Some(ExprId::from_u32(order.len() as u32));
            order.push(e);
            continue;
        }
        stack.push((e, true));
        kids.clear();
        body.exprs[e].kind.for_each_child(|k| kids.push(k));
        stack.extend(kids.iter().rev().map(|&k| (k, false)));
    }
    let mut old = std::mem::take(&mut body.exprs);
    for e in order {
        let node = &mut old[e];
        let mut kind = std::mem::replace(&mut node.kind, ExprKind::Zero);
        kind.for_each_child_mut(|c| {
            if let Some(Some(id)) = new_id.get(c.as_u32() as usize) {
                *c = *id;
            }
        });
        body.exprs.push(super::Expr {
            kind,
            ty: node.ty,
            span: node.span,
        });
    }
    body.root = new_id[root.as_u32() as usize];
}
