//! Phase 3: the types of fields and method signatures, synthesised constructors' parameters,
//! and the overriding rules (§6.5: same parameter count, contravariant parameters, covariant
//! results, exact match for everything that is not a pointer to a module), extern method
//! restrictions (§14.2).

use std::collections::BTreeMap;

use prolac_syntax::Diagnostic;
use prolac_syntax::codes::{P0617, P0708, P0709, P0717, P0722, P1103, P1104, P1106};

use super::types::TypeCtx;
use super::{Sema, State, Ty};
use crate::ir::{FieldId, MethodId, MethodKind, ModuleId, Provenance, TypeKind};

/// A method's signature with the views of its types.
#[derive(Clone, Debug)]
pub(crate) struct Sig {
    pub(crate) params: Vec<Ty>,
    pub(crate) ret: Ty,
}

impl<'a> Sema<'a> {
    /// Types every field and method of a module, and checks its overrides.
    pub(crate) fn type_members(&mut self, m: ModuleId) {
        let fields: Vec<FieldId> = self
            .ir
            .fields
            .iter()
            .filter(|(_, f)| f.owner == m)
            .map(|(id, _)| id)
            .collect();
        for f in fields {
            self.field_type(f);
        }
        let methods: Vec<MethodId> = self
            .ir
            .methods
            .iter()
            .filter(|(_, x)| x.owner == m)
            .map(|(id, _)| id)
            .collect();
        for &id in &methods {
            self.signature(id);
        }
        let parent = self.ir.modules[m].parent;
        for id in methods {
            if let (MethodKind::Dynamic(sel), Some(p)) = (self.ir.methods[id].kind.clone(), parent)
                && let Some(&over) = self.vtables.get(&p).and_then(|t| t.get(&sel))
            {
                self.check_override(id, over);
            }
        }
    }

    /// The type of a field (resolved on first use).
    pub(crate) fn field_type(&mut self, f: FieldId) -> Option<Ty> {
        if let Some(t) = self.field_tys[f] {
            return Some(t);
        }
        let (ast, m) = self.field_src[f]?;
        if !self.typing_fields.insert(f) {
            // Reached again while its own type is being resolved (`field buf :> uchar[buf]`).
            if self.cyclic_fields.insert(f) {
                let name = self.ir.fields[f].name.clone();
                self.error(
                    Diagnostic::new(
                        P0722,
                        ast.ty.span,
                        format!("the type of `{name}` depends on `{name}` itself"),
                    )
                    .with_help(
                        "array sizes are constant expressions: literals and symbolic constants",
                    ),
                );
            }
            return None;
        }
        let ns = self.original_ns(m)?;
        let ctx = TypeCtx {
            module: m,
            ns_path: vec![ns],
        };
        let t = self.resolve_type(&ast.ty, &ctx);
        if let Some(t) = t {
            if self.kind(t.id) == TypeKind::Void {
                self.error(Diagnostic::new(
                    P0617,
                    ast.ty.span,
                    "a field cannot have type `void`",
                ));
            }
            self.ir.fields[f].ty = t.id;
            self.field_tys[f] = Some(t);
        }
        if let Some(offset) = &ast.offset {
            if ast.is_static {
                self.error(
                    Diagnostic::new(
                        P0717,
                        offset.span,
                        "an offset on a static field has no effect",
                    )
                    .with_help("remove the `@ offset`"),
                );
            } else if let Some(n) = self.const_u64(offset, m) {
                self.ir.fields[f].pinned = Some(n);
            }
        }
        self.typing_fields.remove(&f);
        t
    }

    /// A method's signature (resolved on first use).
    pub(crate) fn signature(&mut self, id: MethodId) -> Option<Sig> {
        if let Some(sig) = &self.sigs[id] {
            return Some(sig.clone());
        }
        if self.src(id).typed != State::Todo {
            return None;
        }
        self.src_mut(id).typed = State::Busy;
        let sig = self.compute_signature(id);
        self.src_mut(id).typed = State::Done(());
        if let Some(sig) = &sig {
            self.ir.methods[id].params = sig.params.iter().map(|t| t.id).collect();
            self.ir.methods[id].ret = sig.ret.id;
            self.sigs[id] = Some(sig.clone());
        }
        sig
    }

    fn compute_signature(&mut self, id: MethodId) -> Option<Sig> {
        let m = self.src(id).module;
        let void = self.ir.types.void();
        if self.ir.methods[id].provenance == Provenance::SynthesisedConstructor {
            // The parent's constructor's parameters (§6.8).
            let params = match self.ir.modules[m].parent {
                Some(p) => {
                    self.original_ns(p);
                    match self.info(p).constructor {
                        Some(pc) => self.signature(pc).map(|s| s.params).unwrap_or_default(),
                        None => Vec::new(),
                    }
                }
                None => Vec::new(),
            };
            self.src_mut(id).param_names = (0..params.len())
                .map(|i| self.names.intern(&format!("arg{i}")))
                .collect();
            return Some(Sig {
                params,
                ret: self.ty(void),
            });
        }
        if self.src(id).forward.is_some() {
            // Forwarders copy their target's signature when they are made.
            return None;
        }
        let ast = self.src(id).ast?;
        let ctx = TypeCtx {
            module: m,
            ns_path: self.src(id).ns_path.clone(),
        };
        let mut params = Vec::new();
        for p in ast.params.iter().flatten() {
            let t = self.resolve_type(&p.ty, &ctx)?;
            if self.kind(t.id) == TypeKind::Void {
                self.error(Diagnostic::new(
                    P0617,
                    p.ty.span,
                    format!("parameter `{}` cannot have type `void`", p.name.text),
                ));
            }
            params.push(t);
        }
        let ret = match &ast.ret {
            Some(t) => self.resolve_type(t, &ctx)?,
            None => self.ty(void),
        };
        if let MethodKind::Extern { .. } = self.ir.methods[id].kind {
            let ok = |s: &Sema<'_>, t: Ty, is_ret: bool| match s.kind(t.id) {
                TypeKind::Bool | TypeKind::Int { .. } | TypeKind::SeqInt | TypeKind::Ptr(_) => true,
                TypeKind::Void => is_ret,
                _ => false,
            };
            let spans: Vec<_> = ast.params.iter().flatten().map(|p| p.ty.span).collect();
            for (t, span) in params.iter().zip(spans) {
                if !ok(self, *t, false) {
                    let name = self.type_name(t.id);
                    self.error(
                        Diagnostic::new(
                            P1103,
                            span,
                            format!("an extern method cannot take a `{name}`"),
                        )
                        .with_help("pass a pointer"),
                    );
                }
            }
            if !ok(self, ret, true) {
                let span = ast.ret.as_ref().map_or(ast.name.span, |t| t.span);
                let name = self.type_name(ret.id);
                self.error(
                    Diagnostic::new(
                        P1103,
                        span,
                        format!("an extern method cannot return a `{name}`"),
                    )
                    .with_help("return a pointer"),
                );
            }
        }
        if &*ast.name.last().text == "extern" {
            self.error(
                Diagnostic::new(P1106, ast.name.span, "a method is named `extern`")
                    .with_help("a body made of the single word `extern` is an extern marker; rename the method"),
            );
        }
        Some(Sig { params, ret })
    }

    /// §6.5: an override keeps the parameter count; parameters may be more general and the
    /// result more specific (pointers to modules only); everything else matches exactly.
    fn check_override(&mut self, new: MethodId, old: MethodId) {
        let (Some(ns), Some(os)) = (self.signature(new), self.signature(old)) else {
            return;
        };
        let span = self.ir.methods[new].span;
        let old_span = self.ir.methods[old].span;
        let name = self.ir.methods[new].name.clone();
        if ns.params.len() != os.params.len() {
            self.error(
                Diagnostic::new(
                    P0708,
                    span,
                    format!(
                        "`{name}` takes {} parameter(s) but the method it overrides takes {}",
                        ns.params.len(),
                        os.params.len()
                    ),
                )
                .with_secondary(old_span, "the overridden method"),
            );
            return;
        }
        for (i, (n, o)) in ns.params.iter().zip(&os.params).enumerate() {
            let fits = n.id == o.id
                || matches!((self.ptr_module(n.id), self.ptr_module(o.id)), (Some(nm), Some(om)) if self.descends(om, nm));
            if !fits {
                let (nt, ot) = (self.type_name(n.id), self.type_name(o.id));
                self.error(
                    Diagnostic::new(P0709, span, format!("parameter {} of `{name}` has type `{nt}`, but the overridden one has `{ot}`", i + 1))
                        .with_secondary(old_span, "the overridden method")
                        .with_help("a parameter may only become a pointer to an ancestor module"),
                );
            }
        }
        let fits = ns.ret.id == os.ret.id
            || matches!((self.ptr_module(ns.ret.id), self.ptr_module(os.ret.id)), (Some(nm), Some(om)) if self.descends(nm, om));
        if !fits {
            let (nt, ot) = (self.type_name(ns.ret.id), self.type_name(os.ret.id));
            self.error(
                Diagnostic::new(
                    P0709,
                    span,
                    format!("`{name}` returns `{nt}`, but the overridden method returns `{ot}`"),
                )
                .with_secondary(old_span, "the overridden method")
                .with_help("a result may only become a pointer to a descendant module"),
            );
        }
    }

    /// P1104: extern methods sharing a link name must have one signature.
    pub(crate) fn check_link_names(&mut self) {
        let mut by_name: BTreeMap<String, Vec<MethodId>> = BTreeMap::new();
        for (id, method) in self.ir.methods.iter() {
            if let MethodKind::Extern { link_name } = &method.kind {
                by_name.entry(link_name.clone()).or_default().push(id);
            }
        }
        for (link, ids) in by_name {
            let first = ids[0];
            for &other in &ids[1..] {
                let (a, b) = (&self.ir.methods[first], &self.ir.methods[other]);
                if a.params != b.params || a.ret != b.ret {
                    let (span, first_span) = (b.span, a.span);
                    self.error(
                        Diagnostic::new(
                            P1104,
                            span,
                            format!("link name `{link}` is used with another signature"),
                        )
                        .with_secondary(first_span, "first extern method with this link name")
                        .with_help("give one of them another link name: `::= extern \"name\";`"),
                    );
                }
            }
        }
    }
}
