//! Constructors (§6.8) and creating objects (§6.9): a constructor's body — the parent's
//! construction, then module-valued fields in declaration order, then the rest, with the
//! checks on subobject calls (P0711, P0712, P0718, P0719) — temporaries `M(args)`, and
//! construction in place for `let` variables.

use prolac_syntax::ast::{self, ExprKind as E};
use prolac_syntax::codes::{P0711, P0712, P0718, P0719};
use prolac_syntax::{Diagnostic, Span};

use super::names::Pending;
use super::{Fcx, Val};
use crate::ir::{Callee, ExprKind, MethodId, ModuleId, TypeKind};
use crate::sema::members::Sig;
use crate::sema::{FeatureKey, Member, Ty, ViewId};

impl<'a> Fcx<'_, 'a> {
    /// `M(args)`: a temporary object, zeroed and constructed (§6.9).
    pub(crate) fn construct_temp(&mut self, v: ViewId, args: &'a [ast::Expr], span: Span) -> Val {
        let t = self.s.module_ty(v);
        let m = self.s.views[v].module;
        let tmp = self.temp(t.id);
        let place = self.val(ExprKind::Local(tmp), t, span);
        let init = self.construct_in_place(place, m, t, Some(args), span);
        let value = self.push(ExprKind::Local(tmp), t.id, span);
        let void = self.s.ir.types.void();
        let init = self.push(
            ExprKind::Convert(crate::ir::ConvKind::ToVoid, init),
            void,
            span,
        );
        let e = self.push(ExprKind::Seq(vec![init, value]), t.id, span);
        Val {
            e,
            ty: t,
            null: false,
        }
    }

    /// Zeroes a module-typed place and runs its constructor (`args: None` means none given).
    pub(crate) fn construct_in_place(
        &mut self,
        place: Val,
        m: ModuleId,
        t: Ty,
        args: Option<&'a [ast::Expr]>,
        span: Span,
    ) -> crate::ir::ExprId {
        let zero = self.push(ExprKind::Zero, t.id, span);
        let clear = self.push(
            ExprKind::Assign {
                place: place.e,
                value: zero,
            },
            t.id,
            span,
        );
        let void = self.s.ir.types.void();
        let clear = self.push(
            ExprKind::Convert(crate::ir::ConvKind::ToVoid, clear),
            void,
            span,
        );
        self.s.original_ns(m);
        let Some(ctor) = self.s.info(m).constructor else {
            return clear;
        };
        let view = t.view.unwrap_or_else(|| self.s.default_view(m));
        if self.s.materialize(view) {
            let ns = self.s.views[view].ns;
            let visible = self.s.namespaces[ns]
                .entries
                .values()
                .any(|e| e.member == Member::Constructor);
            if !visible {
                let name = self.s.module_name(m).to_string();
                self.s.error(
                    Diagnostic::new(P0719, span, format!("the constructor of `{name}` is hidden"))
                        .with_help("the view constructing it hides `constructor`; add `show constructor` to the module reference"),
                );
            }
        }
        // The place is a local: name it again rather than share the node.
        let again = match self.body.exprs[place.e].kind {
            ExprKind::Local(l) => Val {
                e: self.push(ExprKind::Local(l), t.id, span),
                ..place
            },
            _ => place,
        };
        let ptr = self.address_of(again, span);
        let pending = Pending {
            callee: Callee::Direct(ctor),
            method: ctor,
            receiver: Some(ptr),
            view: Some(view),
            feature: FeatureKey::Method(ctor),
        };
        let sig = self.s.signature(ctor);
        if args.is_none() && sig.as_ref().is_some_and(|s| !s.params.is_empty()) {
            let name = self.s.module_name(m).to_string();
            self.s.error(
                Diagnostic::new(
                    P0711,
                    span,
                    format!("the constructor of `{name}` needs arguments"),
                )
                .with_secondary(self.s.ir.methods[ctor].span, "its constructor")
                .with_help(format!("construct it with arguments: `{name}(…)`")),
            );
            return clear;
        }
        let call = self.call(pending, Some(args.unwrap_or(&[])), span);
        let call = self.discard(call, span);
        self.push(ExprKind::Seq(vec![clear, call]), void, span)
    }

    /// The body of a constructor (§6.8): the parent first, then module-valued fields in
    /// declaration order, then the rest of the body.
    pub(crate) fn constructor_body(&mut self, id: MethodId, sig: &Sig) -> crate::ir::ExprId {
        let span = self.s.ir.methods[id].span;
        let parent = self.s.ir.modules[self.module].parent;
        let void = self.s.ir.types.void();
        let ast = self.s.src(id).ast;
        let body = ast.and_then(|a| match &a.body {
            ast::MethodBody::Expr(e) => Some(e),
            _ => None,
        });
        // Split the body into leading subobject calls and the rest.
        let mut leading: Vec<&'a ast::Expr> = Vec::new();
        let mut rest: Vec<&'a ast::Expr> = Vec::new();
        // A field subobject call written after ordinary code (moved before it, P0712).
        let mut moved: Option<Span> = None;
        if let Some(b) = body {
            let mut items = Vec::new();
            flatten_seq(b, &mut items);
            let mut prefix = true;
            for item in items {
                if prefix && self.is_subobject_call(item, parent) {
                    leading.push(item);
                } else if self.is_field_ctor_call(item) {
                    if !prefix && moved.is_none() {
                        moved = Some(item.span);
                    }
                    leading.push(item);
                } else {
                    prefix = false;
                    rest.push(item);
                }
            }
        }
        let mut parent_call: Option<(crate::ir::ExprId, Span)> = None;
        let mut field_calls: Vec<(crate::ir::FieldId, crate::ir::ExprId, Span)> = Vec::new();
        let mut order: Vec<usize> = Vec::new(); // 0 = parent, 1 + field index
        let fields: Vec<crate::ir::FieldId> = self.s.ir.modules[self.module].fields.clone();
        for item in leading {
            let (target, v) = self.subobject_call(item, parent, &fields);
            match target {
                Some(None) => {
                    if let Some((_, first)) = parent_call {
                        self.s.error(
                            Diagnostic::new(P0718, item.span, "the parent is constructed twice")
                                .with_secondary(first, "first construction"),
                        );
                    } else {
                        parent_call = Some((v, item.span));
                        order.push(0);
                    }
                }
                Some(Some(f)) => {
                    if let Some((_, _, first)) = field_calls.iter().find(|(g, _, _)| *g == f) {
                        let first = *first;
                        self.s.error(
                            Diagnostic::new(P0718, item.span, "a field is constructed twice")
                                .with_secondary(first, "first construction"),
                        );
                    } else {
                        field_calls.push((f, v, item.span));
                        order.push(1 + fields.iter().position(|g| *g == f).unwrap_or(0));
                    }
                }
                None => {}
            }
        }
        if let Some(at) = moved {
            self.s.error(
                Diagnostic::new(P0712, at, "this subobject construction is moved before the rest of the body")
                    .with_help("write subobject constructions first: the parent, then module-valued fields in declaration order"),
            );
        } else if order.windows(2).any(|w| w[0] > w[1]) {
            self.s.error(
                Diagnostic::new(P0712, span, "subobject constructions are reordered")
                    .with_help("the parent is constructed first, then module-valued fields in declaration order"),
            );
        }
        let mut seq = Vec::new();
        // The parent.
        match (parent_call, parent) {
            (Some((v, _)), _) => seq.push(v),
            (None, Some(p)) => {
                let pv = self
                    .s
                    .header(self.module)
                    .and_then(|h| h.parent.map(|(_, v, _)| v));
                if let Some(e) = self.implicit_parent_construction(p, pv, sig, span) {
                    seq.push(e);
                }
            }
            (None, None) => {}
        }
        // Module-valued fields.
        for f in fields {
            if let Some((_, v, _)) = field_calls.iter().find(|(g, _, _)| *g == f) {
                seq.push(*v);
                continue;
            }
            let Some(t) = self.s.field_type(f) else {
                continue;
            };
            if let TypeKind::Module(m) = self.s.kind(t.id)
                && let Some(sp) = self.self_ptr(span)
            {
                let obj = self.object_place(sp, span);
                let place = self.val(
                    ExprKind::Field {
                        object: obj,
                        field: f,
                    },
                    t,
                    span,
                );
                let e = self.construct_field(place, m, t, span);
                seq.push(e);
            }
        }
        // The rest.
        for item in rest {
            let v = self.lower(item);
            seq.push(self.discard(v, item.span));
        }
        if seq.is_empty() {
            return self.push(ExprKind::Seq(Vec::new()), void, span);
        }
        self.push(ExprKind::Seq(seq), void, span)
    }

    fn construct_field(&mut self, place: Val, m: ModuleId, t: Ty, span: Span) -> crate::ir::ExprId {
        // The object was zeroed as a whole; a field only needs its constructor.
        self.s.original_ns(m);
        let Some(ctor) = self.s.info(m).constructor else {
            let void = self.s.ir.types.void();
            return self.push(ExprKind::Seq(Vec::new()), void, span);
        };
        let void = self.s.ir.types.void();
        if let Some(v) = t.view
            && self.s.materialize(v)
        {
            let ns = self.s.views[v].ns;
            if !self.s.namespaces[ns]
                .entries
                .values()
                .any(|e| e.member == Member::Constructor)
            {
                let name = self.s.module_name(m).to_string();
                self.s.error(
                    Diagnostic::new(
                        P0719,
                        span,
                        format!("the constructor of `{name}` is hidden in the view of this field"),
                    )
                    .with_help(format!(
                        "show it in the field's type: `{name} show constructor`"
                    )),
                );
                return self.push(ExprKind::Seq(Vec::new()), void, span);
            }
        }
        if self.s.signature(ctor).is_some_and(|s| !s.params.is_empty()) {
            let name = self.s.module_name(m).to_string();
            self.s.error(
                Diagnostic::new(
                    P0711,
                    span,
                    format!("a field of type `{name}` needs constructor arguments"),
                )
                .with_help("construct it explicitly: `field.constructor(args)`"),
            );
            return self.push(ExprKind::Seq(Vec::new()), void, span);
        }
        let ptr = self.address_of(place, span);
        let p = Pending {
            callee: Callee::Direct(ctor),
            method: ctor,
            receiver: Some(ptr),
            view: t.view,
            feature: FeatureKey::Method(ctor),
        };
        let v = self.call(p, Some(&[]), span);
        self.discard(v, span)
    }

    /// The parent's construction when the constructor does not write one: a synthesised
    /// constructor passes its own parameters; a written one passes none (P0711 if needed).
    fn implicit_parent_construction(
        &mut self,
        p: ModuleId,
        pv: Option<ViewId>,
        sig: &Sig,
        span: Span,
    ) -> Option<crate::ir::ExprId> {
        let ctor = self.s.info(p).constructor?;
        let psig = self.s.signature(ctor)?;
        if let Some(v) = pv
            && self.s.materialize(v)
        {
            let ns = self.s.views[v].ns;
            let visible = self.s.namespaces[ns]
                .entries
                .values()
                .any(|e| e.member == Member::Constructor);
            if !visible {
                let name = self.s.module_name(p).to_string();
                self.s.error(
                    Diagnostic::new(
                        P0719,
                        span,
                        format!("the constructor of the parent `{name}` is hidden"),
                    )
                    .with_help(format!(
                        "re-expose it on the parent entry: `:> {name} show constructor`"
                    )),
                );
                return None;
            }
        }
        let synthesised = self.method.is_some_and(|m| {
            self.s.ir.methods[m].provenance == crate::ir::Provenance::SynthesisedConstructor
        });
        let receiver = self.self_ptr(span)?;
        let mut args = vec![self.coerce_ptr(receiver, p, span)];
        if synthesised {
            for (i, t) in sig.params.iter().enumerate() {
                let l = self.scopes[0].get(i).map(|x| x.1)?;
                let v = self.val(ExprKind::Local(l), *t, span);
                args.push(v.e);
            }
        } else if !psig.params.is_empty() {
            let name = self.s.module_name(p).to_string();
            self.s.error(
                Diagnostic::new(
                    P0711,
                    span,
                    format!("the parent `{name}` needs constructor arguments"),
                )
                .with_secondary(self.s.ir.methods[ctor].span, "its constructor")
                .with_help(format!(
                    "construct it at the start of the constructor: `{name}(…)`"
                )),
            );
            return None;
        }
        let void = self.s.ir.types.void();
        let call = self.push(
            ExprKind::Call {
                callee: Callee::Direct(ctor),
                args,
                inline: None,
            },
            void,
            span,
        );
        Some(call)
    }

    pub(crate) fn coerce_ptr(&mut self, v: Val, m: ModuleId, span: Span) -> crate::ir::ExprId {
        let dv = self.s.default_view(m);
        let mt = self.s.module_ty(dv);
        let pt = self.s.ptr_to(mt);
        self.coerce(v, pt, span, "receiver")
    }

    fn is_subobject_call(&mut self, e: &'a ast::Expr, parent: Option<ModuleId>) -> bool {
        let E::Call { callee, .. } = &e.kind else {
            return false;
        };
        match &callee.kind {
            E::Super => true,
            E::Member { base, name, .. }
                if matches!(base.kind, E::Super) && &*name.text == "constructor" =>
            {
                true
            }
            E::Name(id) => {
                let Some(p) = parent else { return false };
                let s = self.s.sym(id);
                let path = self.ns_path.clone();
                path.iter().rev().find_map(|ns| self.s.namespaces[*ns].entries.get(&s).copied()).is_some_and(|entry| {
                    matches!(entry.member, Member::Module(v) if self.s.views[v].module == p)
                })
            }
            _ => self.is_field_ctor_call(e),
        }
    }

    fn is_field_ctor_call(&self, e: &ast::Expr) -> bool {
        let E::Call { callee, .. } = &e.kind else {
            return false;
        };
        matches!(&callee.kind, E::Member { base, name, arrow: false } if &*name.text == "constructor" && matches!(base.kind, E::Name(_)))
    }

    /// Lowers a subobject call; says which subobject it constructs (`Some(None)` the parent).
    fn subobject_call(
        &mut self,
        e: &'a ast::Expr,
        parent: Option<ModuleId>,
        fields: &[crate::ir::FieldId],
    ) -> (Option<Option<crate::ir::FieldId>>, crate::ir::ExprId) {
        let E::Call { callee, args } = &e.kind else {
            let v = self.lower(e);
            return (None, self.discard(v, e.span));
        };
        if let E::Member { base, name, .. } = &callee.kind
            && &*name.text == "constructor"
            && let E::Name(id) = &base.kind
        {
            let s = self.s.sym(id);
            let field = fields.iter().copied().find(|f| {
                let fname = self.s.ir.fields[*f].name.clone();
                self.s.names.get(&fname) == Some(s)
            });
            let v = self.lower(e);
            let v = self.discard(v, e.span);
            return (field.map(Some), v);
        }
        if parent.is_none() {
            let v = self.lower(e);
            return (None, self.discard(v, e.span));
        }
        // `Parent(args)`, `super(args)`, `super.constructor(args)`: construct `self` as the parent.
        let Some(p) = parent else {
            unreachable!("checked above")
        };
        let Some(ctor) = self.s.info(p).constructor else {
            let void = self.s.ir.types.void();
            return (
                Some(None),
                self.push(ExprKind::Seq(Vec::new()), void, e.span),
            );
        };
        let receiver = self.self_ptr(e.span);
        let pending = Pending {
            callee: Callee::Direct(ctor),
            method: ctor,
            receiver,
            view: None,
            feature: FeatureKey::Method(ctor),
        };
        let v = self.call(pending, Some(args), e.span);
        (Some(None), self.discard(v, e.span))
    }
}

/// The items of a comma chain, left to right.
fn flatten_seq<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Expr>) {
    match &e.kind {
        E::Binary {
            op: ast::BinOp::Seq,
            lhs,
            rhs,
            ..
        } => {
            crate::deep(|| flatten_seq(lhs, out));
            flatten_seq(rhs, out);
        }
        _ => out.push(e),
    }
}
