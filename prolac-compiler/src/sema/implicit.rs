//! Implicit methods (§8): a name a module's methods call but do not define is looked for in
//! the module's imports (static methods, exceptions) and in the objects its fields hold
//! (dynamic methods), generation by generation up the parent chain. The first generation with
//! a hit decides; two hits in it are ambiguous (P0801). A hit becomes a *forwarding method* in
//! the module's original namespace (inline level 2, absent from the default view), or, for an
//! exception, the exception itself.

use std::collections::BTreeMap;

use prolac_syntax::codes::P0801;
use prolac_syntax::{Diagnostic, Span};

use super::names::Sym;
use super::{Entry, Member, MethodSrc, Sema, State, ViewId};
use crate::ir::{self, FieldId, MethodId, MethodKind, ModuleId, TypeKind};

/// How a forwarder reaches its target.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Through {
    /// Through a field holding the object (or a pointer to it).
    Field(FieldId),
    /// Through an import (static methods).
    Import,
}

/// A forwarder's target.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Forward {
    pub(crate) via: Through,
    pub(crate) target: MethodId,
}

/// One candidate hit of the search.
#[derive(Clone, Copy, Debug)]
struct Hit {
    entry: Entry,
    via: Through,
    span: Span,
    what: &'static str,
}

impl<'a> Sema<'a> {
    /// Runs the implicit search for `name` on behalf of module `m`; returns the forwarder's
    /// entry (creating it once), or the exception found.
    pub(crate) fn implicit_forwarder(
        &mut self,
        m: ModuleId,
        name: Sym,
        span: Span,
    ) -> Option<Entry> {
        if let Some(e) = self.forwarders.get(&(m, name)) {
            return *e;
        }
        self.forwarders.insert((m, name), None);
        let found = self.search(m, name, span);
        let entry = found.and_then(|hit| self.make_forwarder(m, name, hit));
        self.forwarders.insert((m, name), entry);
        entry
    }

    fn search(&mut self, m: ModuleId, name: Sym, span: Span) -> Option<Hit> {
        let mut generation = Some(m);
        let mut depth = 0;
        while let Some(g) = generation {
            depth += 1;
            if depth > 10_000 {
                return None;
            }
            let header = self.header(g).unwrap_or_default();
            let mut hits: Vec<Hit> = Vec::new();
            for (_, v, ispan) in &header.imports {
                if let Some(e) = self.candidate_in(*v, name, true) {
                    hits.push(Hit {
                        entry: e,
                        via: Through::Import,
                        span: *ispan,
                        what: "through the import",
                    });
                }
            }
            let fields: Vec<FieldId> = self.ir.modules[g].fields.clone();
            for f in fields {
                let Some(t) = self.field_type(f) else {
                    continue;
                };
                let module = match self.kind(t.id) {
                    TypeKind::Module(x) => Some(x),
                    TypeKind::Ptr(inner) => match self.kind(inner) {
                        TypeKind::Module(x) => Some(x),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(x) = module else { continue };
                let view = t.view.unwrap_or_else(|| self.default_view(x));
                if let Some(e) = self.candidate_in(view, name, false) {
                    hits.push(Hit {
                        entry: e,
                        via: Through::Field(f),
                        span: self.ir.fields[f].span,
                        what: "through the field",
                    });
                }
            }
            match hits.len() {
                0 => {}
                1 => return Some(hits[0]),
                _ => {
                    let text = self.names.text(name).to_string();
                    let mut d = Diagnostic::new(
                        P0801,
                        span,
                        format!(
                            "`{text}` is ambiguous: {} candidates at the same distance",
                            hits.len()
                        ),
                    )
                    .with_label("used here");
                    for h in &hits {
                        d = d.with_secondary(h.span, format!("candidate {}", h.what));
                    }
                    self.error(d.with_help(format!(
                        "narrow a `using` list, or call it explicitly through the object or module that has `{text}`"
                    )));
                    self.ambiguous.insert((m, name));
                    return None;
                }
            }
            // Stop at an ancestor that is closed in the view the parent entry gives of it.
            let Some((p, pv, _)) = header.parent else {
                break;
            };
            // The searching module's own re-listing of `p` is applied last (§8.3, NEW).
            let relisted = self
                .header(m)
                .unwrap_or_default()
                .relisted
                .iter()
                .find(|(rm, _)| *rm == p)
                .map(|(_, rv)| *rv);
            let mut closed = self.materialize(pv) && self.views[pv].closed;
            if let Some(rv) = relisted
                && self.materialize(rv)
                && let Some(c) = self.views[rv].own_closing
            {
                closed = c;
            }
            if closed {
                break;
            }
            generation = Some(p);
        }
        None
    }

    /// Does a view provide `name` to the search? Imports provide static methods and
    /// exceptions, fields provide dynamic methods (§8.4).
    fn candidate_in(&mut self, v: ViewId, name: Sym, import: bool) -> Option<Entry> {
        if !self.materialize(v) {
            return None;
        }
        let ns = self.views[v].ns;
        let entry = self.namespaces[ns].entries.get(&name).copied()?;
        let is_static = match entry.member {
            Member::Static(_) | Member::Exception(_) => true,
            Member::Dynamic(_) => false,
            Member::Namespace(inner) => {
                match self.namespaces[inner].entries.get(&name).map(|e| e.member) {
                    Some(Member::Static(_)) => true,
                    Some(Member::Dynamic(_)) => false,
                    _ => return None,
                }
            }
            _ => return None,
        };
        if is_static != import || !self.views[v].using.admits(name, is_static) {
            return None;
        }
        Some(entry)
    }

    fn make_forwarder(&mut self, m: ModuleId, name: Sym, hit: Hit) -> Option<Entry> {
        let target = match hit.entry.member {
            Member::Exception(_) => {
                return Some(Entry {
                    forwarder: true,
                    ..hit.entry
                });
            }
            Member::Static(mid) => mid,
            Member::Dynamic(sel) => {
                let Through::Field(f) = hit.via else {
                    return None;
                };
                let t = self.field_type(f)?;
                let x = match self.kind(t.id) {
                    TypeKind::Module(x) => x,
                    TypeKind::Ptr(inner) => match self.kind(inner) {
                        TypeKind::Module(x) => x,
                        _ => return None,
                    },
                    _ => return None,
                };
                self.original_ns(x);
                *self.vtables.get(&x)?.get(&sel)?
            }
            Member::Namespace(inner) => {
                match self.namespaces[inner].entries.get(&name).map(|e| e.member) {
                    Some(Member::Static(mid)) => mid,
                    Some(Member::Dynamic(sel)) => {
                        let Through::Field(f) = hit.via else {
                            return None;
                        };
                        let t = self.field_type(f)?;
                        let x = self.ptr_module(t.id).or(match self.kind(t.id) {
                            TypeKind::Module(x) => Some(x),
                            _ => None,
                        })?;
                        *self.vtables.get(&x)?.get(&sel)?
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        let sig = self.signature(target)?;
        let is_static = matches!(hit.via, Through::Import);
        let text = self.names.text(name).to_string();
        let kind = if is_static {
            MethodKind::Static
        } else {
            let sel = self.ir.selectors.push(ir::Selector {
                name: text.clone(),
                origin: m,
            });
            MethodKind::Dynamic(sel)
        };
        let span = self.ir.methods[target].span;
        let id = self.ir.methods.push(ir::Method {
            name: text,
            owner: m,
            kind: kind.clone(),
            params: sig.params.iter().map(|t| t.id).collect(),
            ret: sig.ret.id,
            body: None,
            inline: 2,
            raises: Vec::new(),
            provenance: ir::Provenance::Forwarder,
            span,
        });
        let original = self.original_ns(m)?;
        let param_names = (0..sig.params.len())
            .map(|i| self.names.intern(&format!("arg{i}")))
            .collect();
        self.methods[id] = Some(MethodSrc {
            ast: None,
            module: m,
            ns_path: vec![original],
            param_names,
            forward: Some(Forward {
                via: hit.via,
                target,
            }),
            typed: State::Done(()),
            checked: false,
            constant: State::Todo,
        });
        self.sigs[id] = Some(sig);
        let member = match kind {
            MethodKind::Dynamic(sel) => {
                self.vtables.entry(m).or_default().insert(sel, id);
                // Descendants constructed later inherit nothing: forwarders are not in the
                // default namespace. But a descendant's table must still answer this selector
                // for dispatch on `self`.
                Member::Dynamic(sel)
            }
            _ => Member::Static(id),
        };
        let entry = Entry {
            member,
            origin: m,
            forwarder: true,
            span,
        };
        self.namespaces[original].entries.insert(name, entry);
        Some(entry)
    }

    /// Every module's forwarders and the selectors they introduce must be in the dispatch
    /// tables of descendants too; called after all bodies are checked.
    pub(crate) fn propagate_forwarders(&mut self) {
        let mut order: Vec<ModuleId> = self.ir.modules.keys().collect();
        order.sort_by_key(|m| self.depth(*m));
        for m in order {
            if let Some(p) = self.ir.modules[m].parent {
                let parent_table: BTreeMap<_, _> =
                    self.vtables.get(&p).cloned().unwrap_or_default();
                let table = self.vtables.entry(m).or_default();
                for (sel, mid) in parent_table {
                    table.entry(sel).or_insert(mid);
                }
            }
        }
        let all: Vec<ModuleId> = self.ir.modules.keys().collect();
        for m in all {
            let table = self
                .vtables
                .get(&m)
                .map(|t| t.iter().map(|(s, f)| (*s, *f)).collect())
                .unwrap_or_default();
            self.ir.modules[m].vtable = table;
        }
    }

    fn depth(&self, m: ModuleId) -> usize {
        let mut d = 0;
        let mut cur = self.ir.modules[m].parent;
        while let Some(c) = cur {
            d += 1;
            if d > 10_000 {
                break;
            }
            cur = self.ir.modules[c].parent;
        }
        d
    }
}
