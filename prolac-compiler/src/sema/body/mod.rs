//! Phase 4: checking method bodies and lowering them to IR.
//!
//! A [`Fcx`] (function context) lowers one body: it resolves names (§5.3), types every
//! expression (§11, §12), inserts the implicit conversions, and builds the IR nodes. Every
//! method of every module is checked, reachable or not (§13.1). Errors produce `Error`-typed
//! placeholders (a `void` zero) so that one mistake gives one diagnostic.
//!
//! - [`names`]: names, member access, calls, constructors, `super`.
//! - [`ops`]: literals, operators, assignments, conversions, `let`, `catch`.
//! - [`host`]: Prolac names inside host blocks.

mod catch_names;
mod construct;
mod control;
mod host;
mod names;
mod ops;
mod places;

use prolac_syntax::ast::{self, MethodBody};
use prolac_syntax::codes::{P0601, P0602, P0604, P0606, P0723};
use prolac_syntax::{Diagnostic, Span};

use super::names::Sym;
use super::{NsId, Sema, Ty};
use crate::ir::{
    self, Body, ConvKind, ExprId, ExprKind, LocalId, MethodId, MethodKind, ModuleId, TypeKind,
};

use super::types::ConvError;

/// A lowered expression with its sema type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Val {
    pub(crate) e: ExprId,
    pub(crate) ty: Ty,
    /// A null pointer constant: an integer or character literal equal to zero (§11.5).
    pub(crate) null: bool,
}

/// The context of one body being lowered.
pub(crate) struct Fcx<'s, 'a> {
    pub(crate) s: &'s mut Sema<'a>,
    /// The method, or `None` when a constant expression is evaluated.
    pub(crate) method: Option<MethodId>,
    pub(crate) module: ModuleId,
    /// No receiver.
    pub(crate) is_static: bool,
    /// The receiver pointer.
    pub(crate) self_local: Option<LocalId>,
    pub(crate) body: Body,
    /// `let` scopes, innermost last; parameters in the first.
    pub(crate) scopes: Vec<Vec<(Sym, LocalId, Ty)>>,
    /// The namespaces enclosing the definition, outermost first.
    pub(crate) ns_path: Vec<NsId>,
    /// Expression inline operators around the current point, innermost last.
    pub(crate) inline: Vec<u8>,
    /// Set once an error placeholder is produced (suppresses follow-on errors in places that
    /// would only restate it).
    pub(crate) failed: bool,
}

impl<'a> Sema<'a> {
    /// Checks every method body of the program.
    pub(crate) fn check_all_bodies(&mut self) {
        self.check_link_names();
        // Checking a body can create methods (forwarders, §8.6): check until none are new.
        let mut i = 0;
        while i < self.ir.methods.len() {
            self.check_method(MethodId::from_u32(i as u32));
            i += 1;
        }
        let ids: Vec<MethodId> = self.ir.methods.keys().collect();
        // Every symbolic constant is folded, used or not, so that P0713 is always reported.
        for id in ids {
            if self.methods[id].is_some() {
                self.method_constant(id);
            }
        }
    }

    /// Checks one method's body and stores its IR (idempotent).
    pub(crate) fn check_method(&mut self, id: MethodId) {
        if self.methods[id].is_none() || self.src(id).checked {
            return;
        }
        self.src_mut(id).checked = true;
        let Some(sig) = self.signature(id) else {
            return;
        };
        let module = self.src(id).module;
        let kind = self.ir.methods[id].kind.clone();
        if matches!(kind, MethodKind::Extern { .. }) {
            return;
        }
        let mut f = Fcx::new(self, Some(id), module);
        f.bind_params(&sig);
        let root = match kind {
            MethodKind::Constructor => Some(f.constructor_body(id, &sig)),
            _ => match f.s.src(id).ast.map(|a| &a.body) {
                Some(MethodBody::Expr(e)) => {
                    let v = f.expr(e);
                    Some(f.coerce_result(v, sig.ret, e.span))
                }
                Some(MethodBody::Empty) | None => {
                    if f.s.src(id).forward.is_some() {
                        Some(f.forwarder_body(id, &sig))
                    } else {
                        None
                    }
                }
                Some(MethodBody::Extern(_)) => None,
            },
        };
        let body = f.finish(root);
        if root.is_some() {
            self.ir.methods[id].body = Some(body);
        }
    }
}

impl<'s, 'a> Fcx<'s, 'a> {
    pub(crate) fn new(
        s: &'s mut Sema<'a>,
        method: Option<MethodId>,
        module: ModuleId,
    ) -> Fcx<'s, 'a> {
        let (is_static, ns_path) = match method {
            Some(id) => (!s.ir.methods[id].has_receiver(), s.src(id).ns_path.clone()),
            None => (true, s.original_ns(module).into_iter().collect()),
        };
        let mut body = Body::default();
        let self_local = if is_static {
            None
        } else {
            let sv = s.self_view(module);
            let mt = s.module_ty(sv);
            let pt = s.ptr_to(mt);
            Some(body.local("self", pt.id))
        };
        Fcx {
            s,
            method,
            module,
            is_static,
            self_local,
            body,
            scopes: vec![Vec::new()],
            ns_path,
            inline: Vec::new(),
            failed: false,
        }
    }

    /// The finished body: nodes that lowering built and then discarded are dropped, so the
    /// arena is exactly the tree (verifier invariant 13).
    pub(crate) fn finish(self, root: Option<ExprId>) -> Body {
        let mut body = self.body;
        body.root = root;
        crate::ir::walk::compact(&mut body);
        body
    }

    fn bind_params(&mut self, sig: &super::members::Sig) {
        let Some(id) = self.method else { return };
        let names = self.s.src(id).param_names.clone();
        for (name, ty) in names.into_iter().zip(&sig.params) {
            let text = self.s.names.text(name).to_string();
            let l = self.body.local(text, ty.id);
            self.scopes[0].push((name, l, *ty));
        }
    }

    /// The sema type of the receiver object (`self`).
    pub(crate) fn self_ty(&mut self) -> Ty {
        let v = self.s.self_view(self.module);
        self.s.module_ty(v)
    }

    /// A conversion node; a null pointer constant (an integer that folds to 0, §11.5) becomes
    /// the pointer constant itself, since integers never convert to pointers otherwise.
    pub(crate) fn convert(
        &mut self,
        kind: ConvKind,
        e: ExprId,
        to: ir::TypeId,
        span: Span,
    ) -> ExprId {
        if kind == ConvKind::Ptr && !matches!(self.s.kind(self.body.exprs[e].ty), TypeKind::Ptr(_))
        {
            return self.push(ExprKind::Const(ir::Const(0)), to, span);
        }
        // An array decays to a pointer to its elements; to reach `*void` that pointer
        // converts on (the IR's decay is always `T[n]` to `*T`).
        if kind == ConvKind::Decay
            && let TypeKind::Array(elem, _) = self.s.kind(self.body.exprs[e].ty)
            && self.s.kind(to) != TypeKind::Ptr(elem)
        {
            let elem_ptr = self.s.ir.types.ptr(elem);
            let decayed = self.push(ExprKind::Convert(ConvKind::Decay, e), elem_ptr, span);
            return self.push(ExprKind::Convert(ConvKind::Ptr, decayed), to, span);
        }
        self.push(ExprKind::Convert(kind, e), to, span)
    }

    pub(crate) fn push(&mut self, kind: ExprKind, ty: ir::TypeId, span: Span) -> ExprId {
        self.body.push(kind, ty, span)
    }

    pub(crate) fn val(&mut self, kind: ExprKind, ty: Ty, span: Span) -> Val {
        let e = self.body.push(kind, ty.id, span);
        Val { e, ty, null: false }
    }

    /// A placeholder after an error: a `void` zero that converts to nothing, so no further
    /// errors are reported about it... unless it is used as a value, which is suppressed too.
    pub(crate) fn error_val(&mut self, span: Span) -> Val {
        self.failed = true;
        let never = self.s.never_ty();
        let t = self.s.ty(never);
        self.val(ExprKind::Zero, t, span)
    }

    pub(crate) fn report(&mut self, d: Diagnostic) -> Val {
        let span = d.primary.span;
        self.s.error(d);
        self.error_val(span)
    }

    pub(crate) fn void_ty(&mut self) -> Ty {
        let v = self.s.ir.types.void();
        self.s.ty(v)
    }

    pub(crate) fn bool_ty(&mut self) -> Ty {
        let b = self.s.ir.types.bool();
        self.s.ty(b)
    }

    /// A value of type `never`: an error placeholder or a raise. Operations on it report
    /// nothing more (a raise never completes, so nothing after it can go wrong).
    /// The value stands for an error already reported (`error_val`), not for a raise (which is
    /// also of type `never` but is a real expression).
    pub(crate) fn is_error(&self, v: Val) -> bool {
        self.s.kind(v.ty.id) == TypeKind::Never
            && matches!(self.body.exprs[v.e].kind, ExprKind::Zero)
    }

    /// Converts a value implicitly to `to`, reporting failure (`what` names the context).
    pub(crate) fn coerce(&mut self, v: Val, to: Ty, span: Span, what: &str) -> ExprId {
        if self.is_error(v) {
            return self.retype_error(v, to);
        }
        // A raise converts to every type (§11.8): a sequence of the target type holds it, so
        // that every node keeps the type its parent expects.
        if self.s.kind(v.ty.id) == TypeKind::Never
            && !matches!(self.s.kind(to.id), TypeKind::Never | TypeKind::Void)
        {
            return self.push(ExprKind::Seq(vec![v.e]), to.id, span);
        }
        match self.s.implicit(v.ty, to, v.null) {
            Ok(None) => v.e,
            Ok(Some(kind)) => self.convert(kind, v.e, to.id, span),
            Err(err) => {
                let (from, to_name) = (self.s.type_name(v.ty.id), self.s.type_name(to.id));
                let d = match err {
                    ConvError::ModuleValue => {
                        let views = self.s.view_phrases(v.ty, to);
                        let message = match &views {
                            Some(p) => format!(
                                "a value of {} cannot become a value of {} ({what})",
                                p.from, p.to
                            ),
                            None => format!("a `{from}` value cannot become `{to_name}` ({what})"),
                        };
                        let d = Diagnostic::new(P0601, span, message)
                            .with_label("module values convert only to the same module and view")
                            .with_help("pass a pointer instead (`&x`)");
                        match views.and_then(|p| p.note) {
                            Some(note) => d.with_note(note),
                            None => d,
                        }
                    }
                    ConvError::NotNull => Diagnostic::new(
                        P0606,
                        span,
                        format!("`{from}` is not a null pointer constant ({what})"),
                    )
                    .with_label(format!("expected `{to_name}`"))
                    .with_help("only the literal `0` converts to a pointer"),
                    ConvError::Void => Diagnostic::new(
                        P0604,
                        span,
                        format!("a `void` expression is used as a value ({what})"),
                    )
                    .with_label(format!("expected `{to_name}`")),
                    ConvError::Mismatch => Diagnostic::new(
                        P0602,
                        span,
                        format!("expected `{to_name}`, found `{from}` ({what})"),
                    )
                    .with_label(format!("this is a `{from}`")),
                };
                let err = self.report(d);
                self.retype_error(err, to)
            }
        }
    }

    /// An error placeholder of a given type (so the tree stays well typed).
    fn retype_error(&mut self, v: Val, to: Ty) -> ExprId {
        let never = self.s.never_ty();
        if to.id == never || self.s.kind(to.id) == TypeKind::Void {
            return v.e;
        }
        self.body.exprs[v.e].ty = never;
        v.e
    }

    /// A method's result: converted to its return type (`void` discards the value).
    fn coerce_result(&mut self, v: Val, ret: Ty, span: Span) -> ExprId {
        if self.is_error(v) || self.s.kind(ret.id) == TypeKind::Void {
            return self.discard(v, span);
        }
        match self.s.implicit(v.ty, ret, v.null) {
            Ok(None) => v.e,
            Ok(Some(kind)) => self.convert(kind, v.e, ret.id, span),
            Err(err) => {
                let (from, to) = (self.s.type_name(v.ty.id), self.s.type_name(ret.id));
                // A module value of one view is never returned as another view of its
                // module (§9.5): the two are spelled alike, so the message names the views.
                let d = match self.s.view_phrases(v.ty, ret) {
                    Some(p) if err == ConvError::ModuleValue => {
                        let d = Diagnostic::new(
                            P0601,
                            span,
                            format!(
                                "the body is a value of {}, but the method returns a value of {}",
                                p.from, p.to
                            ),
                        )
                        .with_label("module values convert only to the same module and view")
                        .with_help(format!(
                            "return a pointer instead (`:> *{to}`, `&x`): pointers convert \
                             between views"
                        ));
                        match p.note {
                            Some(note) => d.with_note(note),
                            None => d,
                        }
                    }
                    _ => Diagnostic::new(
                        P0723,
                        span,
                        format!("the body has type `{from}`, but the method returns `{to}`"),
                    )
                    .with_help("change the body or the declared return type"),
                };
                self.report(d);
                v.e
            }
        }
    }

    /// Discards a value.
    pub(crate) fn discard(&mut self, v: Val, span: Span) -> ExprId {
        match self.s.kind(v.ty.id) {
            TypeKind::Void | TypeKind::Never => v.e,
            _ => {
                let void = self.s.ir.types.void();
                self.push(ExprKind::Convert(ConvKind::ToVoid, v.e), void, span)
            }
        }
    }

    /// A value that must not be `void` (P0604).
    pub(crate) fn value(&mut self, v: Val, span: Span) -> Val {
        if self.s.kind(v.ty.id) == TypeKind::Void {
            return self.report(
                Diagnostic::new(P0604, span, "a `void` expression is used as a value")
                    .with_label("this has no value"),
            );
        }
        v
    }

    /// Looks a name up among `let` variables and parameters.
    pub(crate) fn local(&self, name: Sym) -> Option<(LocalId, Ty)> {
        self.scopes.iter().rev().find_map(|scope| {
            scope
                .iter()
                .rev()
                .find(|(n, _, _)| *n == name)
                .map(|(_, l, t)| (*l, *t))
        })
    }

    /// The receiver pointer, if there is one.
    pub(crate) fn self_ptr(&mut self, span: Span) -> Option<Val> {
        let l = self.self_local?;
        let ty = self.body.locals[l].ty;
        let sv = self.s.self_view(self.module);
        let t = Ty {
            id: ty,
            view: Some(sv),
        };
        Some(self.val(ExprKind::Local(l), t, span))
    }

    /// The effective inline level requested by expression operators around this point.
    pub(crate) fn code_level(&self) -> Option<u8> {
        self.inline.last().copied()
    }

    /// All methods a module's header, or its nearest ancestor's, asks to inline (§9.6).
    pub(crate) fn header_inline(&mut self, target: ModuleId) -> Vec<super::ViewId> {
        let mut m = Some(self.module);
        while let Some(cur) = m {
            if let Some(h) = self.s.header(cur) {
                let entries: Vec<super::ViewId> = h
                    .imports
                    .iter()
                    .map(|(_, v, _)| *v)
                    .chain(h.parent.map(|(_, v, _)| v))
                    .filter(|v| self.s.views[*v].module == target)
                    .collect();
                if !entries.is_empty() {
                    return entries;
                }
            }
            m = self.s.ir.modules[cur].parent;
        }
        Vec::new()
    }

    /// A fresh temporary.
    pub(crate) fn temp(&mut self, ty: ir::TypeId) -> LocalId {
        self.body.local("tmp", ty)
    }

    /// Lowers an expression given as a whole method body or full expression.
    pub(crate) fn expr(&mut self, e: &'a ast::Expr) -> Val {
        self.lower(e)
    }
}
