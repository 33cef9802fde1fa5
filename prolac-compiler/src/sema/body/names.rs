//! Names in method bodies (§5.3–§5.5), member access (§12.11), calls (§6.2, §6.3), `super`
//! (§6.6), exceptions as names (§10.2). Constructors live in [`super::construct`].
//!
//! A name or member chain first resolves to a [`Res`] — a value, a namespace, a module, a
//! method not yet called, an exception — and is then *finished* according to its use: a
//! method is called (with or without parentheses), an exception is raised, a namespace is
//! called through its same-named method.

use prolac_syntax::ast::{self, ExprKind as E};
use prolac_syntax::codes::{
    P0408, P0612, P0617, P0618, P0702, P0703, P0704, P0705, P0706, P0719, P0802,
};
use prolac_syntax::{Diagnostic, Span};

use super::{Fcx, Val};
use crate::ir::{Callee, ExceptionId, ExprKind, MethodId, MethodKind, TypeKind};
use crate::sema::members::Sig;
use crate::sema::names::Sym;
use crate::sema::{Entry, FeatureKey, Member, NsId, Ty, ViewId};

/// What a name or member chain denotes before it is used.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Res {
    /// A value or place.
    Value(Val),
    /// A namespace; `object` is the receiver pointer for its dynamic members.
    Ns {
        ns: NsId,
        name: Sym,
        object: Option<Obj>,
        via: Via,
    },
    /// A module name (a qualifier, or a constructor when called).
    Module(ViewId),
    /// A method to be called.
    Method(Pending),
    /// An exception.
    Exception(ExceptionId),
    /// `super`, or `super.A`.
    Super,
}

/// How a member was reached.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Via {
    /// An unqualified name in the current module.
    Unqualified,
    /// Through a module name `M.n`.
    ModuleName(ViewId),
    /// Through an object.
    Object,
    /// Through `super`.
    Super,
}

/// An object whose member is accessed: the pointer to it, and how it was written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Obj {
    pub(crate) ptr: Val,
    /// Written as `self` (or implicitly): dynamic calls dispatch on it.
    pub(crate) is_self: bool,
    /// A module value (not reached through a pointer): calls bind statically.
    pub(crate) exact: bool,
}

/// A method about to be called.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pending {
    pub(crate) callee: Callee,
    pub(crate) method: MethodId,
    pub(crate) receiver: Option<Val>,
    pub(crate) view: Option<ViewId>,
    pub(crate) feature: FeatureKey,
}

impl<'a> Fcx<'_, 'a> {
    /// A name-like expression used as a value (`args: None`) or called.
    pub(crate) fn name_expr(
        &mut self,
        e: &'a ast::Expr,
        args: Option<(&'a [ast::Expr], Span)>,
    ) -> Val {
        let r = self.resolve(e);
        self.use_res(r, args, e.span)
    }

    pub(crate) fn call_expr(
        &mut self,
        e: &'a ast::Expr,
        callee: &'a ast::Expr,
        args: &'a [ast::Expr],
    ) -> Val {
        match &callee.kind {
            E::Name(_)
            | E::GlobalName(_)
            | E::Member { .. }
            | E::Super
            | E::ModOps { .. }
            | E::Paren(_) => {
                let r = self.resolve(callee);
                // `(M)(e)`: a parenthesised module name called with one argument is a cast.
                if let (E::Paren(_), Res::Module(v)) = (&callee.kind, r)
                    && args.len() == 1
                {
                    return self.module_cast(v, &args[0], e.span);
                }
                self.use_res(r, Some((args, e.span)), e.span)
            }
            _ => {
                let v = self.lower(callee);
                if self.is_error(v) {
                    return v;
                }
                self.report(Diagnostic::new(
                    P0618,
                    callee.span,
                    "this is not a method and cannot be called",
                ))
            }
        }
    }

    pub(crate) fn module_cast(&mut self, v: ViewId, arg: &'a ast::Expr, span: Span) -> Val {
        let x = self.lower(arg);
        let t = self.s.module_ty(v);
        if x.ty.id == t.id {
            return Val { ty: t, ..x };
        }
        self.report(
            Diagnostic::new(
                prolac_syntax::codes::P0601,
                span,
                "module values cannot be cast",
            )
            .with_help("cast pointers to modules instead"),
        )
    }

    /// Resolves a name-like expression.
    pub(crate) fn resolve(&mut self, e: &'a ast::Expr) -> Res {
        match &e.kind {
            E::Name(id) => self.resolve_simple(id),
            E::GlobalName(id) => {
                let s = self.s.sym(id);
                let top = self.ns_path[0];
                match self.s.namespaces[top].entries.get(&s).copied() {
                    Some(entry) => self.entry_res(entry, s, None, Via::Unqualified, id.span),
                    None => self.undefined(id),
                }
            }
            E::Super => Res::Super,
            E::Paren(inner) => self.resolve(inner),
            E::ModOps { base, ops } => match self.resolve(base) {
                Res::Module(v) => Res::Module(self.s.with_ops(v, ops, Some(self.module))),
                _ => {
                    self.s.error(Diagnostic::new(
                        P0617,
                        base.span,
                        "module operators apply to module names",
                    ));
                    Res::Value(self.error_val(e.span))
                }
            },
            E::Member { base, name, arrow } => self.member(base, name, *arrow, e.span),
            _ => Res::Value(self.lower(e)),
        }
    }

    pub(crate) fn resolve_simple(&mut self, id: &'a ast::Ident) -> Res {
        let s = self.s.sym(id);
        if let Some((l, t)) = self.local(s) {
            return Res::Value(self.val(ExprKind::Local(l), t, id.span));
        }
        let path = self.ns_path.clone();
        for ns in path.iter().rev() {
            if let Some(entry) = self.s.namespaces[*ns].entries.get(&s).copied() {
                return self.entry_res(entry, s, None, Via::Unqualified, id.span);
            }
        }
        if let Some(entry) = self.s.implicit_forwarder(self.module, s, id.span) {
            return self.entry_res(entry, s, None, Via::Unqualified, id.span);
        }
        if self.s.ambiguous.contains(&(self.module, s)) {
            return Res::Value(self.error_val(id.span));
        }
        self.undefined(id)
    }

    pub(crate) fn undefined(&mut self, id: &ast::Ident) -> Res {
        if self.s.incomplete(self.module) {
            // The module's header already failed; its features are unknown, not missing.
            return Res::Value(self.error_val(id.span));
        }
        let module = self.s.module_name(self.module).to_string();
        let mut known: Vec<String> = self
            .scopes
            .iter()
            .flatten()
            .map(|(n, _, _)| self.s.names.text(*n).to_string())
            .collect();
        for ns in &self.ns_path {
            known.extend(
                self.s.namespaces[*ns]
                    .entries
                    .keys()
                    .map(|n| self.s.names.text(*n).to_string()),
            );
        }
        let help = match crate::sema::names::suggest(&id.text, known.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None => "name the object that has it (`win->left`), or admit it with `using` for the implicit search".to_string(),
        };
        Res::Value(
            self.report(
                Diagnostic::new(
                    P0802,
                    id.span,
                    format!("`{}` is not defined in `{module}`", id.text),
                )
                .with_label("unknown name")
                .with_help(help),
            ),
        )
    }

    /// Interprets a namespace entry.
    pub(crate) fn entry_res(
        &mut self,
        entry: Entry,
        name: Sym,
        object: Option<Obj>,
        via: Via,
        span: Span,
    ) -> Res {
        match entry.member {
            Member::Field(f) => {
                let Some(t) = self.s.field_type(f) else {
                    return Res::Value(self.error_val(span));
                };
                if self.s.ir.fields[f].is_static {
                    if via == Via::Object {
                        return Res::Value(self.static_through_object(span, name));
                    }
                    return Res::Value(self.val(ExprKind::Static(f), t, span));
                }
                let Some(obj) = self.object_for(object, via, span, name) else {
                    return Res::Value(self.error_val(span));
                };
                let t = self.field_view(f, t);
                let place = self.object_place(obj.ptr, span);
                Res::Value(self.val(
                    ExprKind::Field {
                        object: place,
                        field: f,
                    },
                    t,
                    span,
                ))
            }
            Member::Static(mid) => {
                if via == Via::Object {
                    return Res::Value(self.static_through_object(span, name));
                }
                Res::Method(Pending {
                    callee: Callee::Direct(mid),
                    method: mid,
                    receiver: None,
                    view: self.via_view(via),
                    feature: FeatureKey::Method(mid),
                })
            }
            Member::Dynamic(sel) => {
                let Some(obj) = self.object_for(object, via, span, name) else {
                    return Res::Value(self.error_val(span));
                };
                let target_module = self.s.ptr_module(obj.ptr.ty.id).unwrap_or(self.module);
                let Some(actual) = self
                    .s
                    .vtables
                    .get(&target_module)
                    .and_then(|t| t.get(&sel))
                    .copied()
                else {
                    return Res::Value(self.error_val(span));
                };
                let callee = if obj.exact && !obj.is_self {
                    Callee::Direct(actual)
                } else {
                    Callee::Virtual(sel)
                };
                let view = match via {
                    Via::Object => obj.ptr.ty.view,
                    other => self.via_view(other),
                };
                Res::Method(Pending {
                    callee,
                    method: actual,
                    receiver: Some(obj.ptr),
                    view,
                    feature: FeatureKey::Selector(sel),
                })
            }
            Member::Constructor => {
                let m = match object {
                    Some(o) => self.s.ptr_module(o.ptr.ty.id).unwrap_or(self.module),
                    None => self.module,
                };
                let Some(ctor) = self.s.info(m).constructor else {
                    return Res::Value(self.error_val(span));
                };
                let receiver = match object {
                    Some(o) => Some(o.ptr),
                    None => self.self_ptr(span),
                };
                Res::Method(Pending {
                    callee: Callee::Direct(ctor),
                    method: ctor,
                    receiver,
                    view: None,
                    feature: FeatureKey::Method(ctor),
                })
            }
            Member::Exception(x) => Res::Exception(x),
            Member::Namespace(ns) => Res::Ns {
                ns,
                name,
                object,
                via,
            },
            Member::Module(v) => Res::Module(v),
        }
    }

    pub(crate) fn via_view(&self, via: Via) -> Option<ViewId> {
        match via {
            Via::ModuleName(v) => Some(v),
            _ => None,
        }
    }

    /// The field's type, seen through the view its declaration gives (`using` on fields).
    pub(crate) fn field_view(&mut self, _f: crate::ir::FieldId, t: Ty) -> Ty {
        t
    }

    pub(crate) fn static_through_object(&mut self, span: Span, name: Sym) -> Val {
        let text = self.s.names.text(name).to_string();
        self.report(
            Diagnostic::new(
                P0706,
                span,
                format!("static `{text}` is named through an object"),
            )
            .with_help("name it through its module: `Module.name`"),
        )
    }

    /// The object a dynamic member belongs to: the one given, or `self`.
    pub(crate) fn object_for(
        &mut self,
        object: Option<Obj>,
        via: Via,
        span: Span,
        name: Sym,
    ) -> Option<Obj> {
        if let Some(o) = object {
            return Some(o);
        }
        let text = self.s.names.text(name).to_string();
        if let Via::ModuleName(v) = via {
            let target = self.s.views[v].module;
            let ok = !self.is_static && self.s.descends(self.module, target);
            if !ok {
                let module = self.s.module_name(target).to_string();
                self.s.error(
                    Diagnostic::new(
                        P0705,
                        span,
                        format!("dynamic `{text}` is named through the module `{module}`"),
                    )
                    .with_help(format!(
                        "name it through an object: `x.{text}` or `p->{text}`"
                    )),
                );
                return None;
            }
        }
        match self.self_ptr(span) {
            Some(p) => Some(Obj {
                ptr: p,
                is_self: true,
                exact: false,
            }),
            None if self.method.is_none() => {
                self.s.error(
                    Diagnostic::new(prolac_syntax::codes::P0722, span, format!("`{text}` is not a constant"))
                        .with_label("a field or dynamic method has no value here")
                        .with_help("a constant expression uses literals and symbolic constants (`static n :> uint ::= 4;`)"),
                );
                None
            }
            None => {
                self.s.error(
                    Diagnostic::new(
                        P0704,
                        span,
                        format!("`{text}` needs a receiver, but this method is static"),
                    )
                    .with_help("make the method dynamic, or call it through an object"),
                );
                None
            }
        }
    }

    /// `*ptr` as a place, folding `*&x` to `x`.
    pub(crate) fn object_place(&mut self, ptr: Val, span: Span) -> crate::ir::ExprId {
        if let ExprKind::AddrOf(inner) = self.body.exprs[ptr.e].kind {
            return inner;
        }
        let t = self.s.pointee(ptr.ty).map_or(ptr.ty.id, |t| t.id);
        self.push(ExprKind::Deref(ptr.e), t, span)
    }

    /// A pointer to an object value: its address if it is a place, else a temporary's.
    pub(crate) fn address_of(&mut self, v: Val, span: Span) -> Val {
        if let ExprKind::Deref(p) = self.body.exprs[v.e].kind {
            let t = self.s.ptr_to(v.ty);
            return Val {
                e: p,
                ty: t,
                null: false,
            };
        }
        let t = self.s.ptr_to(v.ty);
        if self.body.exprs[v.e].kind.is_place() {
            return self.val(ExprKind::AddrOf(v.e), t, span);
        }
        let tmp = self.temp(v.ty.id);
        let place = self.push(ExprKind::Local(tmp), v.ty.id, span);
        let set = self.push(ExprKind::Assign { place, value: v.e }, v.ty.id, span);
        let place2 = self.push(ExprKind::Local(tmp), v.ty.id, span);
        let addr = self.push(ExprKind::AddrOf(place2), t.id, span);
        let void = self.s.ir.types.void();
        let set = self.push(
            ExprKind::Convert(crate::ir::ConvKind::ToVoid, set),
            void,
            span,
        );
        let e = self.push(ExprKind::Seq(vec![set, addr]), t.id, span);
        Val {
            e,
            ty: t,
            null: false,
        }
    }

    pub(crate) fn member(
        &mut self,
        base: &'a ast::Expr,
        name: &'a ast::Ident,
        arrow: bool,
        span: Span,
    ) -> Res {
        let s = self.s.sym(name);
        let r = match &base.kind {
            E::Super => Res::Super,
            _ => self.resolve(base),
        };
        match r {
            Res::Super => self.super_member(s, name, span),
            Res::Ns {
                ns, object, via, ..
            } => match self.s.namespaces[ns].entries.get(&s).copied() {
                Some(entry) => self.entry_res(entry, s, object, via, span),
                None => self.not_a_member(name, span),
            },
            Res::Module(v) => {
                if !self.s.materialize(v) {
                    return Res::Value(self.error_val(span));
                }
                let ns = self.s.views[v].ns;
                match self.s.namespaces[ns].entries.get(&s).copied() {
                    Some(entry) => self.entry_res(entry, s, None, Via::ModuleName(v), span),
                    None => self.not_a_member(name, span),
                }
            }
            Res::Exception(_) => {
                Res::Value(self.report(Diagnostic::new(P0618, span, "an exception has no members")))
            }
            Res::Method(p) => {
                let v = self.call(p, None, base.span);
                self.object_member(v, name, s, arrow, span)
            }
            Res::Value(v) => self.object_member(v, name, s, arrow, span),
        }
    }

    pub(crate) fn not_a_member(&mut self, name: &ast::Ident, span: Span) -> Res {
        Res::Value(
            self.report(
                Diagnostic::new(P0802, span, format!("`{}` is not a member here", name.text))
                    .with_label("unknown member"),
            ),
        )
    }

    pub(crate) fn object_member(
        &mut self,
        v: Val,
        name: &'a ast::Ident,
        s: Sym,
        arrow: bool,
        span: Span,
    ) -> Res {
        if self.is_error(v) {
            return Res::Value(v);
        }
        let kind = self.s.kind(v.ty.id);
        let (ptr, exact, is_self) = match (kind, arrow) {
            (TypeKind::Module(_), false) => {
                let is_self = self.is_self_object(v);
                let p = self.address_of(v, span);
                (p, true, is_self)
            }
            (TypeKind::Ptr(_), true) if self.s.ptr_module(v.ty.id).is_some() => (v, false, false),
            (TypeKind::Ptr(_), false) if self.s.ptr_module(v.ty.id).is_some() => {
                return Res::Value(
                    self.report(
                        Diagnostic::new(P0612, span, format!("`.{}` on a pointer", name.text))
                            .with_help(format!("use `->{}`", name.text)),
                    ),
                );
            }
            (TypeKind::Module(_), true) => {
                return Res::Value(
                    self.report(
                        Diagnostic::new(
                            P0612,
                            span,
                            format!("`->{}` on a module value", name.text),
                        )
                        .with_help(format!("use `.{}`", name.text)),
                    ),
                );
            }
            _ => {
                let t = self.s.type_name(v.ty.id);
                return Res::Value(self.report(Diagnostic::new(
                    P0618,
                    span,
                    format!("a `{t}` has no member `{}`", name.text),
                )));
            }
        };
        let Some(m) = self.s.ptr_module(ptr.ty.id) else {
            return Res::Value(self.error_val(span));
        };
        let view = match ptr.ty.view.filter(|v| self.s.views[*v].module == m) {
            Some(v) => v,
            None => self.s.default_view(m),
        };
        if !self.s.materialize(view) {
            return Res::Value(self.error_val(span));
        }
        let ns = self.s.views[view].ns;
        let ptr = Val {
            ty: Ty {
                view: Some(view),
                ..ptr.ty
            },
            ..ptr
        };
        match self.s.namespaces[ns].entries.get(&s).copied() {
            Some(entry) => self.entry_res(
                entry,
                s,
                Some(Obj {
                    ptr,
                    is_self,
                    exact,
                }),
                Via::Object,
                span,
            ),
            None if self.s.views[view].failed.contains(&s) => Res::Value(self.error_val(span)),
            None if &*name.text == "constructor" && self.s.info(m).constructor.is_some() => {
                let module = self.s.module_name(m).to_string();
                Res::Value(
                    self.report(
                        Diagnostic::new(
                            P0719,
                            name.span,
                            format!("the constructor of `{module}` is hidden in this view"),
                        )
                        .with_help(format!(
                            "show it in the pointer's type: `*({module} show constructor)`"
                        )),
                    ),
                )
            }
            None => {
                let module = self.s.module_name(m).to_string();
                let visible: Vec<String> = self.s.namespaces[ns]
                    .entries
                    .keys()
                    .map(|n| self.s.names.text(*n).to_string())
                    .collect();
                let mut d = Diagnostic::new(
                    P0802,
                    name.span,
                    format!("`{module}` has no visible member `{}`", name.text),
                )
                .with_label("not in the view of its type");
                if let Some(close) =
                    crate::sema::names::suggest(&name.text, visible.iter().map(String::as_str))
                {
                    d = d.with_help(format!("did you mean `{close}`?"));
                } else if let Some(entry) = self
                    .s
                    .original_ns(m)
                    .and_then(|o| self.s.namespaces[o].entries.get(&s).copied())
                {
                    d = d.with_help(if entry.forwarder {
                        format!("`{module}` finds `{}` implicitly for its own methods only; `show {}` re-exposes it", name.text, name.text)
                    } else {
                        format!("`{}` is hidden in this view of `{module}`", name.text)
                    });
                }
                Res::Value(self.report(d))
            }
        }
    }

    pub(crate) fn is_self_object(&self, v: Val) -> bool {
        matches!(self.body.exprs[v.e].kind, ExprKind::Deref(p) if matches!(self.body.exprs[p].kind, ExprKind::Local(l) if Some(l) == self.self_local))
    }

    /// `super.n`: the parent's definition, statically bound (§6.6).
    pub(crate) fn super_member(&mut self, s: Sym, name: &ast::Ident, span: Span) -> Res {
        let Some(parent) = self.s.ir.modules[self.module].parent else {
            return Res::Value(self.report(Diagnostic::new(
                P0618,
                span,
                "`super` in a module without parent",
            )));
        };
        let Some((_, pv, _)) = self.s.header(self.module).and_then(|h| h.parent) else {
            return Res::Value(self.error_val(span));
        };
        if !self.s.materialize(pv) {
            return Res::Value(self.error_val(span));
        }
        let ns = self.s.views[pv].ns;
        let entry = self.s.namespaces[ns].entries.get(&s).copied();
        let entry = match entry {
            Some(e) => e,
            None => {
                // `super.A.m` with `A` a module name visible in the parent.
                let orig = self.s.original_ns(parent);
                match orig.and_then(|o| self.s.namespaces[o].entries.get(&s).copied()) {
                    Some(Entry {
                        member: Member::Module(_),
                        ..
                    }) => return Res::Super,
                    Some(e) => e,
                    None => return self.not_a_member(name, span),
                }
            }
        };
        match entry.member {
            // `super.A.m`: `A` names the method, the parent's definition runs (§6.6).
            Member::Module(_) => Res::Super,
            Member::Dynamic(sel) => {
                let Some(actual) = self
                    .s
                    .vtables
                    .get(&parent)
                    .and_then(|t| t.get(&sel))
                    .copied()
                else {
                    return Res::Value(self.error_val(span));
                };
                let Some(p) = self.self_ptr(span) else {
                    return Res::Value(self.report(Diagnostic::new(
                        P0704,
                        span,
                        "`super` of a dynamic method in a static method",
                    )));
                };
                Res::Method(Pending {
                    callee: Callee::Direct(actual),
                    method: actual,
                    receiver: Some(p),
                    view: Some(pv),
                    feature: FeatureKey::Selector(sel),
                })
            }
            Member::Constructor => {
                let Some(ctor) = self.s.info(parent).constructor else {
                    return Res::Value(self.error_val(span));
                };
                let receiver = self.self_ptr(span);
                Res::Method(Pending {
                    callee: Callee::Direct(ctor),
                    method: ctor,
                    receiver,
                    view: Some(pv),
                    feature: FeatureKey::Method(ctor),
                })
            }
            _ => self.entry_res(entry, s, None, Via::Super, span),
        }
    }

    /// Uses a resolved name: calls methods, raises exceptions, calls namespaces.
    pub(crate) fn use_res(
        &mut self,
        r: Res,
        args: Option<(&'a [ast::Expr], Span)>,
        span: Span,
    ) -> Val {
        match r {
            Res::Value(v) => match args {
                None => v,
                Some(_) if self.is_error(v) => v,
                Some(_) => self.report(Diagnostic::new(
                    P0618,
                    span,
                    "this is not a method and cannot be called",
                )),
            },
            Res::Method(p) => self.call(p, args.map(|a| a.0), span),
            Res::Exception(x) => {
                if let Some((a, _)) = args
                    && !a.is_empty()
                {
                    return self.report(Diagnostic::new(
                        P0703,
                        span,
                        "an exception takes no arguments",
                    ));
                }
                let never = self.s.never_ty();
                let t = self.s.ty(never);
                self.val(ExprKind::Raise(x), t, span)
            }
            Res::Ns {
                ns,
                name,
                object,
                via,
            } => match self.s.namespaces[ns].entries.get(&name).copied() {
                Some(entry) if matches!(entry.member, Member::Static(_) | Member::Dynamic(_)) => {
                    let r = self.entry_res(entry, name, object, via, span);
                    self.use_res(r, args, span)
                }
                _ => {
                    let text = self.s.names.text(name).to_string();
                    self.report(
                        Diagnostic::new(
                            P0408,
                            span,
                            format!("namespace `{text}` has no method `{text}` to call"),
                        )
                        .with_help(format!("call a method inside it: `{text}.method`")),
                    )
                }
            },
            Res::Module(v) => match args {
                Some((a, _)) => self.construct_temp(v, a, span),
                None => {
                    let name = self.s.module_name(self.s.views[v].module).to_string();
                    self.report(
                        Diagnostic::new(
                            P0617,
                            span,
                            format!("the module `{name}` is used as a value"),
                        )
                        .with_help(format!(
                            "construct an object with `{name}(…)`, or name a member: `{name}.x`"
                        )),
                    )
                }
            },
            Res::Super => match args {
                // `super(args)`: the parent's construction (checked in constructors).
                Some((a, _)) => match self.s.ir.modules[self.module].parent {
                    Some(p) => {
                        let Some(ctor) = self.s.info(p).constructor else {
                            return self.error_val(span);
                        };
                        let receiver = self.self_ptr(span);
                        let pending = Pending {
                            callee: Callee::Direct(ctor),
                            method: ctor,
                            receiver,
                            view: None,
                            feature: FeatureKey::Method(ctor),
                        };
                        self.call(pending, Some(a), span)
                    }
                    None => self.report(Diagnostic::new(
                        P0618,
                        span,
                        "`super` in a module without parent",
                    )),
                },
                None => self.report(
                    Diagnostic::new(P0618, span, "`super` alone is not a value")
                        .with_help("write `super.method`"),
                ),
            },
        }
    }

    /// Calls a method.
    pub(crate) fn call(&mut self, p: Pending, args: Option<&'a [ast::Expr]>, span: Span) -> Val {
        let Some(sig) = self.s.signature(p.method) else {
            if let Some(a) = args {
                for x in a {
                    self.lower(x);
                }
            }
            return self.error_val(span);
        };
        let given = args.map_or(0, <[ast::Expr]>::len);
        if given != sig.params.len() {
            let name = self.s.ir.methods[p.method].name.clone();
            if let Some(a) = args {
                for x in a {
                    self.lower(x);
                }
            }
            return self.report(
                Diagnostic::new(
                    P0703,
                    span,
                    format!(
                        "`{name}` takes {} argument(s), but {given} were given",
                        sig.params.len()
                    ),
                )
                .with_secondary(self.s.ir.methods[p.method].span, "defined here"),
            );
        }
        let has_receiver = self.s.ir.methods[p.method].has_receiver();
        let mut exprs = Vec::with_capacity(given + 1);
        if has_receiver {
            let Some(r) = p.receiver else {
                let name = self.s.ir.methods[p.method].name.clone();
                return self.report(
                    Diagnostic::new(
                        P0704,
                        span,
                        format!("`{name}` needs a receiver, but this method is static"),
                    )
                    .with_help("call it through an object"),
                );
            };
            let owner = self.s.ir.methods[p.method].owner;
            let sv = self.s.default_view(owner);
            let mt = self.s.module_ty(sv);
            let pt = self.s.ptr_to(mt);
            let r = self.coerce(r, pt, span, "receiver");
            exprs.push(r);
        }
        for (a, t) in args.unwrap_or(&[]).iter().zip(&sig.params) {
            let v = self.lower(a);
            let v = self.decay(v, a.span);
            exprs.push(self.coerce(v, *t, a.span, "argument"));
        }
        if self.s.ir.methods[p.method].body.is_none()
            && matches!(p.callee, Callee::Direct(_))
            && let Some(src) = self.s.methods[p.method].as_ref()
            && let Some(ast) = src.ast
            && matches!(ast.body, ast::MethodBody::Empty)
        {
            let name = self.s.ir.methods[p.method].name.clone();
            let def = self.s.ir.methods[p.method].span;
            self.s.error(
                Diagnostic::new(
                    P0702,
                    span,
                    format!("`{name}` has no body; calling it aborts the program"),
                )
                .with_secondary(def, "defined without a body")
                .with_help("override it, or give it a body"),
            );
        }
        let inline = self.site_inline(&p);
        let ret = sig.ret;
        let e = self.push(
            ExprKind::Call {
                callee: p.callee,
                args: exprs,
                inline,
            },
            ret.id,
            span,
        );
        Val {
            e,
            ty: ret,
            null: false,
        }
    }

    /// The inline level a call site requests (§13.3): the innermost expression operator, else
    /// the view's preference (and the current module's header entry, §9.6).
    pub(crate) fn site_inline(&mut self, p: &Pending) -> Option<u8> {
        if let Some(k) = self.code_level() {
            return Some(k);
        }
        let mut level = None;
        let owner = self.s.ir.methods[p.method].owner;
        let info_default = self.s.default_view(owner);
        if self.s.materialize(info_default) {
            level = self.s.views[info_default].inline.get(&p.feature).copied();
        }
        if let Some(v) = p.view
            && let Some(k) = self.s.views[v].inline.get(&p.feature).copied()
        {
            level = Some(k);
        }
        let target = p.receiver.and_then(|r| self.s.ptr_module(r.ty.id));
        if let Some(t) = target {
            for v in self.header_inline(t) {
                if self.s.materialize(v)
                    && let Some(k) = self.s.views[v].inline.get(&p.feature).copied()
                {
                    level = Some(k);
                }
            }
        }
        level
    }

    /// A forwarder's body: call the target through the field or import (§8.6).
    pub(crate) fn forwarder_body(&mut self, id: MethodId, sig: &Sig) -> crate::ir::ExprId {
        let span = self.s.ir.methods[id].span;
        let Some(fwd) = self.s.src(id).forward else {
            return self.error_val(span).e;
        };
        let mut args = Vec::new();
        let target = fwd.target;
        let callee = match fwd.via {
            crate::sema::implicit::Through::Field(f) => {
                let Some(t) = self.s.field_type(f) else {
                    return self.error_val(span).e;
                };
                let Some(sp) = self.self_ptr(span) else {
                    return self.error_val(span).e;
                };
                let obj = self.object_place(sp, span);
                let field = self.val(
                    ExprKind::Field {
                        object: obj,
                        field: f,
                    },
                    t,
                    span,
                );
                let ptr = match self.s.kind(t.id) {
                    TypeKind::Ptr(_) => field,
                    _ => self.address_of(field, span),
                };
                let owner = self.s.ir.methods[target].owner;
                let r = self.coerce_ptr(ptr, owner, span);
                args.push(r);
                match self.s.ir.methods[target].kind {
                    MethodKind::Dynamic(sel) if matches!(self.s.kind(t.id), TypeKind::Ptr(_)) => {
                        Callee::Virtual(sel)
                    }
                    _ => Callee::Direct(target),
                }
            }
            crate::sema::implicit::Through::Import => Callee::Direct(target),
        };
        for (i, t) in sig.params.iter().enumerate() {
            let Some(l) = self.scopes[0].get(i).map(|x| x.1) else {
                break;
            };
            let v = self.val(ExprKind::Local(l), *t, span);
            args.push(v.e);
        }
        let ret = sig.ret;
        self.push(
            ExprKind::Call {
                callee,
                args,
                inline: None,
            },
            ret.id,
            span,
        )
    }
}
