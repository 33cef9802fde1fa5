//! The nesting limit (§12.2): an expression or type nested more than [`MAX_DEPTH`] levels deep
//! — `1 + 1 + … + 1` with thousands of terms, thousands of parentheses — is rejected with
//! P0209 and replaced by an error node. Every later pass recurses over trees, so the limit is
//! what lets them run on any input without exhausting the stack. The check and the disposal
//! of a rejected tree are themselves iterative (a deep tree's ordinary drop would recurse).

use crate::ast::{
    CodeOp, Expr, ExprKind, File, Item, ItemKind, MethodBody, ModOp, ModuleExpr, ModuleRef, Type,
    TypeKind,
};
use crate::codes::P0209;
use crate::diagnostic::Diagnostic;

/// The deepest nesting of expressions and types accepted.
pub const MAX_DEPTH: usize = 1000;

/// A node of the syntax tree that can nest.
enum Node<'a> {
    Expr(&'a Expr),
    Type(&'a Type),
}

/// Checks every expression and type of the file; a tree too deep is reported and replaced.
pub(crate) fn limit(file: &mut File, diagnostics: &mut Vec<Diagnostic>) {
    items(&mut file.items, diagnostics);
}

fn items(list: &mut [Item], diagnostics: &mut Vec<Diagnostic>) {
    for item in list {
        match &mut item.kind {
            ItemKind::Module(m) => {
                for op in &mut m.ops {
                    mod_op(op, diagnostics);
                }
                items(&mut m.body, diagnostics);
            }
            ItemKind::Namespace(n) => items(&mut n.items, diagnostics),
            ItemKind::Layer(l) => items(&mut l.items, diagnostics),
            ItemKind::Method(m) => {
                for p in m.params.iter_mut().flatten() {
                    ty(&mut p.ty, diagnostics);
                }
                if let Some(t) = &mut m.ret {
                    ty(t, diagnostics);
                }
                if let MethodBody::Expr(e) = &mut m.body {
                    expr(e, diagnostics);
                }
            }
            ItemKind::Field(f) => {
                ty(&mut f.ty, diagnostics);
                if let Some(e) = &mut f.offset {
                    expr(e, diagnostics);
                }
            }
            _ => {}
        }
    }
}

fn mod_op(op: &mut ModOp, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(level) = &mut op.level {
        expr(level, diagnostics);
    }
}

fn expr(e: &mut Expr, diagnostics: &mut Vec<Diagnostic>) {
    if too_deep(Node::Expr(e)) {
        diagnostics.push(too_deep_diagnostic(e.span, "expression"));
        let span = e.span;
        let deep = std::mem::replace(
            e,
            Expr {
                kind: ExprKind::Error,
                span,
            },
        );
        dismantle(vec![deep], Vec::new());
    }
}

fn ty(t: &mut Type, diagnostics: &mut Vec<Diagnostic>) {
    if too_deep(Node::Type(t)) {
        diagnostics.push(too_deep_diagnostic(t.span, "type"));
        let span = t.span;
        let deep = std::mem::replace(
            t,
            Type {
                kind: TypeKind::Error,
                span,
            },
        );
        dismantle(Vec::new(), vec![deep]);
    }
}

fn too_deep_diagnostic(span: crate::Span, what: &str) -> Diagnostic {
    // Only the start is marked: such an expression is usually enormous.
    let span = crate::Span::new(span.file, span.lo as usize, span.lo as usize);
    Diagnostic::new(
        P0209,
        span,
        format!("this {what} is nested more than {MAX_DEPTH} levels deep"),
    )
    .with_label("too deeply nested")
    .with_help("split it: give parts of it names with `let`, or move them into methods")
}

/// True if the tree under `root` is deeper than [`MAX_DEPTH`] (an iterative walk that stops
/// as soon as it knows).
fn too_deep(root: Node<'_>) -> bool {
    let mut stack: Vec<(Node<'_>, usize)> = vec![(root, 1)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return true;
        }
        let next = depth + 1;
        match node {
            Node::Expr(e) => expr_children(e, &mut |c| stack.push((c, next))),
            Node::Type(t) => type_children(t, &mut |c| stack.push((c, next))),
        }
    }
    false
}

fn expr_children<'a>(e: &'a Expr, f: &mut dyn FnMut(Node<'a>)) {
    use ExprKind as K;
    match &e.kind {
        K::Int(_)
        | K::Char(_)
        | K::Str(_)
        | K::Bool(_)
        | K::SelfValue
        | K::Super
        | K::Name(_)
        | K::GlobalName(_)
        | K::TypeWord(_)
        | K::Host(_)
        | K::Error => {}
        K::Paren(x)
        | K::Member { base: x, .. }
        | K::PostIncDec { operand: x, .. }
        | K::Prefix { operand: x, .. }
        | K::Catch { body: x, .. } => f(Node::Expr(x)),
        K::Call { callee, args } => {
            f(Node::Expr(callee));
            args.iter().for_each(|a| f(Node::Expr(a)));
        }
        K::Index { base, index } => {
            f(Node::Expr(base));
            f(Node::Expr(index));
        }
        K::CodeOp { op, operand } => {
            if let CodeOp::Inline(Some(k)) = op {
                f(Node::Expr(k));
            }
            f(Node::Expr(operand));
        }
        K::Outline { level, operand } => {
            if let Some(k) = level {
                f(Node::Expr(k));
            }
            f(Node::Expr(operand));
        }
        K::Cast { ty, operand } => {
            f(Node::Type(ty));
            f(Node::Expr(operand));
        }
        K::TypeAssert { expr, ty } => {
            f(Node::Expr(expr));
            f(Node::Type(ty));
        }
        K::ModOps { base, ops } => {
            f(Node::Expr(base));
            for op in ops {
                if let Some(k) = &op.level {
                    f(Node::Expr(k));
                }
            }
        }
        K::Binary { lhs, rhs, .. } => {
            f(Node::Expr(lhs));
            f(Node::Expr(rhs));
        }
        K::Assign { place, value, .. } => {
            f(Node::Expr(place));
            f(Node::Expr(value));
        }
        K::Cond {
            cond,
            then,
            otherwise,
            ..
        } => {
            f(Node::Expr(cond));
            f(Node::Expr(then));
            f(Node::Expr(otherwise));
        }
        K::If { arms, otherwise } => {
            for (c, v) in arms {
                f(Node::Expr(c));
                f(Node::Expr(v));
            }
            if let Some(o) = otherwise {
                f(Node::Expr(o));
            }
        }
        K::Let { bindings, body } => {
            for b in bindings {
                if let Some(t) = &b.ty {
                    f(Node::Type(t));
                }
                b.ctor_args.iter().flatten().for_each(|a| f(Node::Expr(a)));
                if let Some(i) = &b.init {
                    f(Node::Expr(i));
                }
            }
            f(Node::Expr(body));
        }
        K::MinMax { args, .. } => args.iter().for_each(|a| f(Node::Expr(a))),
    }
}

fn type_children<'a>(t: &'a Type, f: &mut dyn FnMut(Node<'a>)) {
    match &t.kind {
        TypeKind::Builtin(_) | TypeKind::Error => {}
        TypeKind::Module(m) => module_children(m, f),
        TypeKind::Pointer(inner) | TypeKind::Paren(inner) => f(Node::Type(inner)),
        TypeKind::Array(elem, size) => {
            f(Node::Type(elem));
            f(Node::Expr(size));
        }
    }
}

fn module_children<'a>(m: &'a ModuleExpr, f: &mut dyn FnMut(Node<'a>)) {
    if let ModuleRef::Paren(t) = &m.base {
        f(Node::Type(t));
    }
    for op in &m.ops {
        if let Some(k) = &op.level {
            f(Node::Expr(k));
        }
    }
}

/// Drops trees without recursion: each node's boxed children are moved onto the work lists
/// before the node itself is dropped, so every drop is shallow.
fn dismantle(mut exprs: Vec<Expr>, mut types: Vec<Type>) {
    fn take(out: &mut Vec<Expr>, x: &mut Expr) {
        let span = x.span;
        out.push(std::mem::replace(
            x,
            Expr {
                kind: ExprKind::Error,
                span,
            },
        ));
    }
    fn take_type(out: &mut Vec<Type>, x: &mut Type) {
        let span = x.span;
        out.push(std::mem::replace(
            x,
            Type {
                kind: TypeKind::Error,
                span,
            },
        ));
    }
    loop {
        if let Some(mut e) = exprs.pop() {
            use ExprKind as K;
            let out = &mut exprs;
            match &mut e.kind {
                K::Paren(x)
                | K::Member { base: x, .. }
                | K::PostIncDec { operand: x, .. }
                | K::Prefix { operand: x, .. }
                | K::Catch { body: x, .. } => take(out, x),
                K::Call { callee, args } => {
                    take(out, callee);
                    out.append(args);
                }
                K::Index { base, index } => {
                    take(out, base);
                    take(out, index);
                }
                K::CodeOp { op, operand } => {
                    if let CodeOp::Inline(Some(k)) = op {
                        take(out, k);
                    }
                    take(out, operand);
                }
                K::Outline { level, operand } => {
                    if let Some(k) = level {
                        take(out, k);
                    }
                    take(out, operand);
                }
                K::Cast { ty, operand } => {
                    take(out, operand);
                    take_type(&mut types, ty);
                }
                K::TypeAssert { expr, ty } => {
                    take(out, expr);
                    take_type(&mut types, ty);
                }
                K::ModOps { base, ops } => {
                    take(out, base);
                    for op in ops {
                        if let Some(k) = &mut op.level {
                            take(out, k);
                        }
                    }
                }
                K::Binary { lhs, rhs, .. } => {
                    take(out, lhs);
                    take(out, rhs);
                }
                K::Assign { place, value, .. } => {
                    take(out, place);
                    take(out, value);
                }
                K::Cond {
                    cond,
                    then,
                    otherwise,
                    ..
                } => {
                    take(out, cond);
                    take(out, then);
                    take(out, otherwise);
                }
                K::If { arms, otherwise } => {
                    for (c, v) in arms.drain(..) {
                        out.push(c);
                        out.push(v);
                    }
                    if let Some(o) = otherwise {
                        take(out, o);
                    }
                }
                K::Let { bindings, body } => {
                    take(out, body);
                    for b in bindings.drain(..) {
                        out.extend(b.ctor_args.into_iter().flatten());
                        out.extend(b.init);
                        types.extend(b.ty);
                    }
                }
                K::MinMax { args, .. } => out.append(args),
                _ => {}
            }
            drop(e);
        } else if let Some(mut t) = types.pop() {
            match &mut t.kind {
                TypeKind::Pointer(inner) | TypeKind::Paren(inner) => take_type(&mut types, inner),
                TypeKind::Array(elem, size) => {
                    take_type(&mut types, elem);
                    take(&mut exprs, size);
                }
                TypeKind::Module(m) => {
                    if let ModuleRef::Paren(inner) = &mut m.base {
                        take_type(&mut types, inner);
                    }
                }
                _ => {}
            }
            drop(t);
        } else {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{FileId, HostLang, ParseOptions, parse};

    fn codes(text: &str) -> Vec<String> {
        let parsed = parse(
            FileId::default(),
            text,
            ParseOptions {
                host: HostLang::Rust,
            },
        );
        parsed
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect()
    }

    #[test]
    fn deep_expressions_are_rejected_once_without_exhausting_the_stack() {
        for n in [super::MAX_DEPTH + 1, 200_000] {
            let sum = vec!["1"; n].join(" + ");
            assert_eq!(
                codes(&format!("module M {{ f :> int ::= {sum}; }}")),
                ["P0209"],
                "{n} terms"
            );
            let parens = format!("{}1{}", "(".repeat(n), ")".repeat(n));
            assert_eq!(
                codes(&format!("module M {{ f :> int ::= {parens}; }}")),
                ["P0209"]
            );
            let nots = format!("{}x", "!".repeat(n));
            assert_eq!(
                codes(&format!("module M {{ f :> bool ::= {nots}; }}")),
                ["P0209"]
            );
        }
        let ok = vec!["1"; super::MAX_DEPTH - 10].join(" + ");
        assert!(codes(&format!("module M {{ f :> int ::= {ok}; }}")).is_empty());
    }

    #[test]
    fn deep_types_are_rejected() {
        let ptr = format!("{}int", "*".repeat(100_000));
        assert_eq!(
            codes(&format!("module M {{ field p :> {ptr}; }}")),
            ["P0209"]
        );
    }
}
