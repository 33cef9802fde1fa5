//! Constant folding (§13.5): operations on constants, symbolic constants (calls of static
//! methods without parameters whose body is a constant), conditions that fold remove the dead
//! branch. Folding uses [`crate::ir::eval`], the generated code's arithmetic.

use crate::ir::eval;
use crate::ir::{Body, Callee, ConvKind, ExprId, ExprKind, MethodId, MethodKind, Program};

/// The constant value of a symbolic constant method, if it is one: a static method without
/// parameters whose body evaluates to a constant (whether or not it was folded yet).
fn constant_of(p: &Program, m: MethodId, depth: u32) -> Option<crate::ir::Const> {
    let method = &p.methods[m];
    if depth > 64
        || method.kind != MethodKind::Static
        || !method.params.is_empty()
        || !method.raises.is_empty()
    {
        return None;
    }
    let body = method.body.as_ref()?;
    let root = body.root?;
    (body.exprs[root].ty == method.ret).then_some(())?;
    evaluate(p, body, root, depth + 1)
}

/// Evaluates a side-effect-free constant tree without changing it.
fn evaluate(p: &Program, body: &Body, e: ExprId, depth: u32) -> Option<crate::ir::Const> {
    crate::deep(|| evaluate_now(p, body, e, depth))
}

fn evaluate_now(p: &Program, body: &Body, e: ExprId, depth: u32) -> Option<crate::ir::Const> {
    let node = &body.exprs[e];
    let ty = p.types.kind(node.ty);
    match &node.kind {
        ExprKind::Const(c) => Some(*c),
        ExprKind::Convert(ConvKind::Int | ConvKind::ToBool | ConvKind::FromBool, a) => {
            let from = p.types.kind(body.exprs[*a].ty);
            eval::convert(evaluate(p, body, *a, depth)?, from, ty).ok()
        }
        ExprKind::Binary(op, a, b) => {
            let operand = p.types.kind(body.exprs[*a].ty);
            eval::binary(
                *op,
                evaluate(p, body, *a, depth)?,
                evaluate(p, body, *b, depth)?,
                operand,
            )
            .ok()
        }
        ExprKind::Unary(op, a) => eval::unary(*op, evaluate(p, body, *a, depth)?, ty).ok(),
        ExprKind::If {
            cond,
            then,
            otherwise: Some(otherwise),
        } => {
            let c = evaluate(p, body, *cond, depth)?;
            evaluate(p, body, if c.0 != 0 { *then } else { *otherwise }, depth)
        }
        ExprKind::Seq(items) if items.len() == 1 => evaluate(p, body, items[0], depth),
        ExprKind::Call {
            callee: Callee::Direct(m),
            args,
            ..
        } if args.is_empty() => constant_of(p, *m, depth),
        _ => None,
    }
}

/// Folds the tree at `e`, children first. `stack` is scratch space shared by the recursion
/// (each level uses the slice it pushed), so the walk does not allocate per node.
fn fold_node(p: &Program, body: &mut Body, e: ExprId, stack: &mut Vec<ExprId>) {
    let start = stack.len();
    body.exprs[e].kind.for_each_child(|c| stack.push(c));
    let end = stack.len();
    for i in start..end {
        let child = stack[i];
        crate::deep(|| fold_node(p, body, child, stack));
    }
    stack.truncate(start);
    let ty = p.types.kind(body.exprs[e].ty);
    let konst = |body: &Body, x: ExprId| match body.exprs[x].kind {
        ExprKind::Const(c) => Some(c),
        _ => None,
    };
    let new = match &body.exprs[e].kind {
        ExprKind::Binary(op, a, b) => match (konst(body, *a), konst(body, *b)) {
            (Some(x), Some(y)) => {
                let operand = p.types.kind(body.exprs[*a].ty);
                eval::binary(*op, x, y, operand).ok().map(ExprKind::Const)
            }
            _ => None,
        },
        ExprKind::Unary(op, a) => konst(body, *a)
            .and_then(|x| eval::unary(*op, x, ty).ok())
            .map(ExprKind::Const),
        ExprKind::Convert(ConvKind::Int | ConvKind::ToBool | ConvKind::FromBool, a) => {
            let from = p.types.kind(body.exprs[*a].ty);
            konst(body, *a)
                .and_then(|x| eval::convert(x, from, ty).ok())
                .map(ExprKind::Const)
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            // A constant condition keeps only the branch taken.
            let taken = match konst(body, *cond) {
                Some(c) if c.0 != 0 => Some(*then),
                Some(_) => *otherwise,
                None => return,
            };
            match taken {
                // The node keeps its type: a branch that raises (`never`) stays under a
                // sequence of the `if`'s type.
                Some(b) if body.exprs[b].ty == body.exprs[e].ty => {
                    body.exprs[e].kind = body.exprs[b].kind.clone()
                }
                Some(b) => body.exprs[e].kind = ExprKind::Seq(vec![b]),
                None => body.exprs[e].kind = ExprKind::Seq(Vec::new()),
            }
            return;
        }
        ExprKind::Call {
            callee: Callee::Direct(m),
            args,
            ..
        } if args.is_empty() => constant_of(p, *m, 0).map(ExprKind::Const),
        // A sequence of one element is that element.
        ExprKind::Seq(items) if items.len() == 1 && body.exprs[items[0]].ty == body.exprs[e].ty => {
            Some(body.exprs[items[0]].kind.clone())
        }
        // Nested sequences flatten into their parent.
        ExprKind::Seq(items) => flatten(p, body, body.exprs[e].ty, items).map(ExprKind::Seq),
        _ => None,
    };
    if let Some(kind) = new {
        body.exprs[e].kind = kind;
    }
}

/// The items of a sequence of type `ty` with nested sequences spliced in — a `void` one
/// anywhere but last, one of the sequence's own type last — or `None` if there are none.
fn flatten(
    p: &Program,
    body: &Body,
    ty: crate::ir::TypeId,
    items: &[ExprId],
) -> Option<Vec<ExprId>> {
    let void = |t| p.types.kind(t) == crate::ir::TypeKind::Void;
    let splice = |k: usize, i: ExprId| match &body.exprs[i].kind {
        ExprKind::Seq(inner) if k + 1 < items.len() => void(body.exprs[i].ty).then_some(inner),
        ExprKind::Seq(inner) => {
            (body.exprs[i].ty == ty && (!inner.is_empty() || void(ty))).then_some(inner)
        }
        _ => None,
    };
    if !items
        .iter()
        .enumerate()
        .any(|(k, &i)| splice(k, i).is_some())
    {
        return None;
    }
    let mut flat = Vec::with_capacity(items.len());
    for (k, &i) in items.iter().enumerate() {
        match splice(k, i) {
            Some(inner) => flat.extend(inner.iter().copied()),
            None => flat.push(i),
        }
    }
    Some(flat)
}

/// Folds one method's body.
pub fn method(p: &mut Program, m: MethodId) {
    let Some(mut body) = p.methods[m].body.take() else {
        return;
    };
    if let Some(root) = body.root {
        fold_node(p, &mut body, root, &mut Vec::new());
    }
    p.methods[m].body = Some(body);
}
