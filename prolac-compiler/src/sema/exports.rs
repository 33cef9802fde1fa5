//! Export lists (§3.5): `M.m`, `M.ns.m`, `M.ns` (a callable namespace), `M.constructor`, and
//! `M.all` — every method defined in `M`'s own body, nested namespaces and constructor
//! included. An export at file level resolves from the file namespace; one inside a file-level
//! namespace resolves in that namespace only (`.X` reaches the file namespace).

use prolac_syntax::Diagnostic;
use prolac_syntax::ast;
use prolac_syntax::codes::{P0305, P0409, P0410};

use super::{Member, NsId, ScopeEntry, ScopeId, Sema};
use crate::ir::{MethodId, ModuleId};

impl<'a> Sema<'a> {
    pub(crate) fn resolve_exports(&mut self) {
        let items = std::mem::take(&mut self.export_items);
        for (r, scope) in items {
            for m in self.export(r, scope) {
                if !self.ir.exports.contains(&m) {
                    self.ir.exports.push(m);
                }
            }
        }
    }

    fn export(&mut self, r: &'a ast::ExportRef, scope: ScopeId) -> Vec<MethodId> {
        let names: Vec<_> = r.path.iter().map(|i| self.names.intern(&i.text)).collect();
        let mut current = if r.global { self.root } else { scope };
        let mut i = 0;
        // Namespaces, then a module (or equation).
        let module: Option<ModuleId> = loop {
            if i >= names.len() {
                break None;
            }
            match self.scopes[current].entries.get(&names[i]).map(|e| e.0) {
                Some(ScopeEntry::Scope(s)) => {
                    current = s;
                    i += 1;
                }
                Some(ScopeEntry::Module(m)) => {
                    i += 1;
                    break Some(m);
                }
                Some(ScopeEntry::Equation(eq)) => {
                    i += 1;
                    break self.equation_module(eq);
                }
                None => break None,
            }
        };
        let Some(m) = module else {
            if self.broken.contains(&current) {
                return Vec::new(); // a composition with a missing layer (P0505)
            }
            let name = r
                .path
                .iter()
                .map(|p| &*p.text)
                .collect::<Vec<_>>()
                .join(".");
            self.error(
                Diagnostic::new(P0410, r.span, format!("`{name}` names no module"))
                    .with_help("export `Module.method`"),
            );
            return Vec::new();
        };
        let rest = &r.path[i..];
        if rest.len() == 1 && rest[0].is_all() {
            return self.own_methods(m);
        }
        if rest.len() == 1 && &*rest[0].text == "constructor" {
            self.original_ns(m);
            return self.info(m).constructor.into_iter().collect();
        }
        let v = self.default_view(m);
        if rest.is_empty() || !self.materialize(v) {
            self.error(
                Diagnostic::new(P0305, r.span, "an export names a method, not a module")
                    .with_help("export `Module.method` or `Module.all`"),
            );
            return Vec::new();
        }
        let mut ns: NsId = self.views[v].ns;
        for (k, part) in rest.iter().enumerate() {
            let s = self.names.intern(&part.text);
            let last = k + 1 == rest.len();
            let entry = self.namespaces[ns].entries.get(&s).copied();
            match entry.map(|e| e.member) {
                Some(Member::Namespace(inner)) if !last => ns = inner,
                Some(Member::Namespace(inner)) => {
                    // A callable namespace exports its same-named method.
                    return match self.namespaces[inner].entries.get(&s).map(|e| e.member) {
                        Some(Member::Static(id)) => vec![id],
                        Some(Member::Dynamic(sel)) => self
                            .vtables
                            .get(&m)
                            .and_then(|t| t.get(&sel))
                            .copied()
                            .into_iter()
                            .collect(),
                        _ => self.bad_export(r),
                    };
                }
                Some(Member::Static(id)) if last => return vec![id],
                Some(Member::Dynamic(sel)) if last => {
                    return self
                        .vtables
                        .get(&m)
                        .and_then(|t| t.get(&sel))
                        .copied()
                        .into_iter()
                        .collect();
                }
                Some(Member::Constructor) if last => {
                    return self.info(m).constructor.into_iter().collect();
                }
                Some(Member::Static(_) | Member::Dynamic(_) | Member::Field(_)) if !last => {
                    let name = r
                        .path
                        .iter()
                        .map(|p| &*p.text)
                        .collect::<Vec<_>>()
                        .join(".");
                    self.error(
                        Diagnostic::new(
                            P0409,
                            r.span,
                            format!("`{name}` is a call chain, not a name"),
                        )
                        .with_label(format!(
                            "`{}` is a field or method, not a namespace",
                            part.text
                        ))
                        .with_help("export the method through the module that defines it"),
                    );
                    return Vec::new();
                }
                _ if part.is_all() && last => {
                    let mut out = Vec::new();
                    self.methods_in(ns, m, &mut out);
                    return out;
                }
                _ => return self.bad_export(r),
            }
        }
        self.bad_export(r)
    }

    fn bad_export(&mut self, r: &ast::ExportRef) -> Vec<MethodId> {
        let name = r
            .path
            .iter()
            .map(|p| &*p.text)
            .collect::<Vec<_>>()
            .join(".");
        self.error(
            Diagnostic::new(
                P0305,
                r.span,
                format!("`{name}` is not a method that can be exported"),
            )
            .with_help("export methods, callable namespaces, constructors or `Module.all`"),
        );
        Vec::new()
    }

    fn equation_module(&mut self, eq: super::EqId) -> Option<ModuleId> {
        self.equation_view(eq).map(|v| self.views[v].module)
    }

    /// Every method defined in the body of `m` itself, constructor included (`M.all`).
    fn own_methods(&mut self, m: ModuleId) -> Vec<MethodId> {
        self.original_ns(m);
        let mut out: Vec<MethodId> = self
            .ir
            .methods
            .iter()
            .filter(|(_, x)| x.owner == m && x.provenance != crate::ir::Provenance::Forwarder)
            .map(|(id, _)| id)
            .collect();
        out.sort();
        out
    }

    fn methods_in(&self, ns: NsId, m: ModuleId, out: &mut Vec<MethodId>) {
        for e in self.namespaces[ns].entries.values() {
            match e.member {
                Member::Static(id) => out.push(id),
                Member::Dynamic(sel) => {
                    out.extend(self.vtables.get(&m).and_then(|t| t.get(&sel)).copied())
                }
                Member::Namespace(inner) => self.methods_in(inner, m, out),
                _ => {}
            }
        }
    }
}
