//! Phase 1: file-level structure.
//!
//! Walks every file in reading order (an `include` is expanded where it appears, depth
//! first), binds module definitions, equations and file-level namespaces in their scopes
//! (§3.3, §3.4), records export lists and support blocks (§3.5, §3.6), and instantiates every
//! composition's layers (§14.4): each layer of `compose C = L1, …, Ln` is instantiated in a new
//! scope `C.Li`, its module definitions refine the same module of the nearest earlier layer,
//! and `C.X` names the last definition of each module `X`.

use std::collections::{BTreeMap, BTreeSet};

use prolac_syntax::ast::{self, ItemKind};
use prolac_syntax::codes::{P0301, P0303, P0504, P0505, P0507, P0508};
use prolac_syntax::{Diagnostic, FileId, Span};

use super::names::Sym;
use super::{EqDef, ModInfo, Scope, ScopeEntry, ScopeId, Sema, State};
use crate::ir::{self, ModuleId};

/// A layer definition found at file level.
struct LayerDef<'a> {
    ast: &'a ast::Layer,
    span: Span,
    composed: bool,
}

/// State of the reading-order walk.
struct Walk<'a> {
    prologue: bool,
    layers: BTreeMap<String, LayerDef<'a>>,
    layer_order: Vec<String>,
    compositions: Vec<(&'a ast::Compose, Span)>,
}

impl<'a> Sema<'a> {
    pub(crate) fn collect(&mut self) {
        let included: BTreeSet<FileId> = self
            .program
            .files
            .iter()
            .flat_map(|f| f.includes.iter().filter_map(|(_, id)| *id))
            .collect();
        let mut walk = Walk {
            prologue: true,
            layers: BTreeMap::new(),
            layer_order: Vec::new(),
            compositions: Vec::new(),
        };
        let program = self.program;
        for (index, file) in program.files.iter().enumerate() {
            if !included.contains(&file.id) {
                self.walk_file(index, &mut walk);
            }
        }
        let compositions = std::mem::take(&mut walk.compositions);
        for (c, span) in compositions {
            self.compose(c, span, &mut walk);
        }
        let unused: Vec<(String, Span)> = walk
            .layer_order
            .iter()
            .filter(|k| walk.layers.get(*k).is_some_and(|l| !l.composed))
            .filter(|k| !self.without(k))
            .filter_map(|k| {
                walk.layers
                    .get(k)
                    .map(|l| (l.ast.name.text.to_string(), l.span))
            })
            .collect();
        for (name, span) in unused {
            self.error(
                Diagnostic::new(P0507, span, format!("layer `{name}` is in no composition"))
                    .with_label("never instantiated, so not checked")
                    .with_help(format!(
                        "add it to a composition: `compose Stack = …, {name};`"
                    )),
            );
        }
    }

    /// Is a layer removed with `--without`?
    fn without(&self, key: &str) -> bool {
        self.options
            .without
            .iter()
            .any(|w| crate::check::layer_key(w) == key)
    }

    fn walk_file(&mut self, index: usize, walk: &mut Walk<'a>) {
        let program = self.program;
        let file = &program.files[index];
        let mut includes = file.includes.iter();
        for item in &file.ast.items {
            if let ItemKind::Include(_) = item.kind {
                let target = includes
                    .find(|(span, _)| *span == item.span)
                    .and_then(|(_, id)| *id);
                if let Some(id) = target
                    && let Some(inner) = program.files.iter().position(|f| f.id == id)
                {
                    self.walk_file(inner, walk);
                }
                continue;
            }
            self.file_item(item, self.root, walk);
        }
    }

    fn file_item(&mut self, item: &'a ast::Item, scope: ScopeId, walk: &mut Walk<'a>) {
        match &item.kind {
            ItemKind::Support(text) => {
                self.ir.support.push(ir::Support {
                    text: text.text.to_string(),
                    prologue: walk.prologue,
                    span: item.span,
                });
                return;
            }
            ItemKind::Error | ItemKind::Include(_) => return,
            _ => {}
        }
        walk.prologue = false;
        match &item.kind {
            ItemKind::Module(m) => {
                self.define_module(m, item.span, scope, None, None);
            }
            ItemKind::Equation(eq) => {
                let (target, name) = self.scope_for_name(scope, &eq.name);
                let id = self.equations.push(EqDef {
                    ast: eq,
                    scope: target,
                    state: State::Todo,
                });
                self.bind(target, name, ScopeEntry::Equation(id), eq.name.span);
            }
            ItemKind::Namespace(ns) => {
                let (target, name) = self.scope_for_name(scope, &ns.name);
                let inner = self.namespace_scope(target, name, ns.name.span);
                for i in &ns.items {
                    self.file_item(i, inner, walk);
                }
            }
            ItemKind::Export(refs) => {
                self.export_items.extend(refs.iter().map(|r| (r, scope)));
            }
            ItemKind::Layer(l) if scope == self.root => {
                let key = crate::check::layer_key(&l.name.text);
                if let Some(first) = walk.layers.get(&key) {
                    let first = first.span;
                    self.error(
                        Diagnostic::new(
                            P0301,
                            l.name.span,
                            format!("layer `{}` is defined twice", l.name.text),
                        )
                        .with_secondary(first, "first defined here"),
                    );
                } else {
                    walk.layer_order.push(key.clone());
                    walk.layers.insert(
                        key,
                        LayerDef {
                            ast: l,
                            span: l.name.span,
                            composed: false,
                        },
                    );
                }
            }
            ItemKind::Compose(c) if scope == self.root => walk.compositions.push((c, item.span)),
            // Misplaced items were reported by the parser's validation.
            _ => {}
        }
    }

    /// The scope a dotted defining name lands in, and its last component.
    fn scope_for_name(&mut self, mut scope: ScopeId, name: &ast::DefName) -> (ScopeId, Sym) {
        let n = name.parts.len();
        for part in &name.parts[..n - 1] {
            let s = self.sym(&part.ident);
            scope = self.namespace_scope(scope, s, part.ident.span);
        }
        let last = self.sym(name.last());
        (scope, last)
    }

    /// The nested scope `name` of `scope`, created if needed (namespaces are open, §5.1).
    pub(crate) fn namespace_scope(&mut self, scope: ScopeId, name: Sym, span: Span) -> ScopeId {
        match self.scopes[scope].entries.get(&name) {
            Some((ScopeEntry::Scope(s), _)) => *s,
            Some((_, first)) => {
                let first = *first;
                let text = self.names.text(name).to_string();
                self.error(
                    Diagnostic::new(
                        P0301,
                        span,
                        format!("`{text}` is already a module, not a namespace"),
                    )
                    .with_secondary(first, "defined here"),
                );
                self.new_scope(None, name, span)
            }
            None => self.new_scope(Some(scope), name, span),
        }
    }

    fn new_scope(&mut self, parent: Option<ScopeId>, name: Sym, span: Span) -> ScopeId {
        let (path, global) = match parent {
            Some(p) => {
                let parent_path = &self.scopes[p].path;
                let text = self.names.text(name);
                let path = if parent_path.is_empty() {
                    text.to_string()
                } else {
                    format!("{parent_path}.{text}")
                };
                (path, self.scopes[p].global)
            }
            None => (self.names.text(name).to_string(), self.root),
        };
        let id = self.scopes.push(Scope {
            entries: BTreeMap::new(),
            parent,
            path,
            global,
        });
        if let Some(p) = parent {
            self.scopes[p]
                .entries
                .insert(name, (ScopeEntry::Scope(id), span));
        }
        id
    }

    /// Binds a module or equation name; a later definition replaces an earlier one (§3.4).
    pub(crate) fn bind(&mut self, scope: ScopeId, name: Sym, entry: ScopeEntry, span: Span) {
        if let Some((old, first)) = self.scopes[scope].entries.get(&name).copied() {
            let text = self.names.text(name).to_string();
            let what = match old {
                ScopeEntry::Scope(_) => "namespace",
                ScopeEntry::Module(_) => "module",
                ScopeEntry::Equation(_) => "module equation",
            };
            self.error(
                Diagnostic::new(
                    P0303,
                    span,
                    format!("`{text}` replaces an earlier {what} of the same name"),
                )
                .with_secondary(first, "earlier definition, still checked")
                .with_help(
                    "to refine a module, inherit from it and rebind the name, or use a layer",
                ),
            );
        }
        self.scopes[scope].entries.insert(name, (entry, span));
    }

    /// Creates a module for a definition and binds its name (file-level definitions only).
    pub(crate) fn define_module(
        &mut self,
        m: &'a ast::ModuleDef,
        span: Span,
        scope: ScopeId,
        refines: Option<ModuleId>,
        outer: Option<ModuleId>,
    ) -> ModuleId {
        let (target, name) = if outer.is_some() {
            (scope, self.sym(m.name.last()))
        } else {
            self.scope_for_name(scope, &m.name)
        };
        let full = {
            let prefix = match outer {
                Some(o) => self.ir.modules[o].name.clone(),
                None => self.scopes[target].path.clone(),
            };
            let text = &m.name.last().text;
            if prefix.is_empty() {
                text.to_string()
            } else {
                format!("{prefix}.{text}")
            }
        };
        let id = self.ir.modules.push(ir::Module {
            name: full,
            parent: None,
            fields: Vec::new(),
            vtable: Vec::new(),
            constructor: None,
            span: m.name.span,
        });
        self.mods[id] = Some(ModInfo {
            ast: Some(m),
            scope: target,
            refines,
            name,
            header: State::Todo,
            original: State::Todo,
            default: State::Todo,
            self_view: None,
            constructor: None,
            members_done: false,
            inner: outer.is_some(),
        });
        if outer.is_none() {
            self.bind(
                target,
                name,
                ScopeEntry::Module(id),
                span.start().to(m.name.span),
            );
        }
        id
    }

    fn compose(&mut self, c: &'a ast::Compose, span: Span, walk: &mut Walk<'a>) {
        let name = self.sym(&c.name);
        let scope = self.namespace_scope(self.root, name, c.name.span);
        self.scopes[scope].global = scope;
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut present: Vec<(String, &'a ast::Ident)> = Vec::new();
        for layer in &c.layers {
            let key = crate::check::layer_key(&layer.text);
            if !seen.insert(key.clone()) {
                self.error(
                    Diagnostic::new(
                        P0508,
                        layer.span,
                        format!("layer `{}` is listed twice", layer.text),
                    )
                    .with_help("a composition lists each layer once"),
                );
                continue;
            }
            match walk.layers.get_mut(&key) {
                None => self.error(
                    Diagnostic::new(
                        P0504,
                        layer.span,
                        format!("no layer named `{}`", layer.text),
                    )
                    .with_label("unknown layer"),
                ),
                Some(def) => {
                    def.composed = true;
                    if !self.without(&key) {
                        present.push((key, layer));
                    }
                }
            }
        }
        // Each layer's `requires` must be present and earlier (§14.4). A layer whose
        // requirement fails is left out (after one report), and so, silently, is every layer
        // that requires a layer left out: their bodies would only repeat the same mistake.
        let mut dropped: BTreeSet<String> = BTreeSet::new();
        for (i, (key, _)) in present.iter().enumerate() {
            let Some(def) = walk.layers.get(key) else {
                continue;
            };
            for req in &def.ast.requires {
                let rk = crate::check::layer_key(&req.text);
                let position = present.iter().position(|(k, _)| *k == rk);
                let problem = match position {
                    Some(_) if dropped.contains(&rk) => {
                        dropped.insert(key.clone());
                        None
                    }
                    Some(p) if p < i => None,
                    Some(_) => Some("comes later in the composition"),
                    None if self.without(&rk) => Some("is removed with `--without`"),
                    None => Some("is not in the composition"),
                };
                if let Some(problem) = problem {
                    dropped.insert(key.clone());
                    self.error(
                        Diagnostic::new(
                            P0505,
                            req.span,
                            format!(
                                "layer `{}` requires `{}`, which {problem}",
                                def.ast.name.text, req.text
                            ),
                        )
                        .with_secondary(span, "in this composition"),
                    );
                }
            }
        }
        if !dropped.is_empty() {
            self.broken.insert(scope);
        }
        present.retain(|(k, _)| !dropped.contains(k));
        // Instantiate the layers in order; remember the latest definition of each path.
        let mut latest: BTreeMap<Vec<Sym>, ModuleId> = BTreeMap::new();
        let mut first_seen: Vec<Vec<Sym>> = Vec::new();
        for (key, layer_ident) in &present {
            let Some(def) = walk.layers.get(key) else {
                continue;
            };
            let ast = def.ast;
            let lname = self.sym(layer_ident);
            let instance = self.namespace_scope(scope, lname, layer_ident.span);
            self.scopes[instance].global = scope;
            self.instantiate(
                &ast.items,
                instance,
                Vec::new(),
                &mut latest,
                &mut first_seen,
            );
        }
        // `C.X` names the last definition of `X`.
        for path in first_seen {
            let Some(&m) = latest.get(&path) else {
                continue;
            };
            let mut target = scope;
            for part in &path[..path.len() - 1] {
                target = self.namespace_scope(target, *part, self.ir.modules[m].span);
            }
            let last = path[path.len() - 1];
            let span = self.ir.modules[m].span;
            self.scopes[target]
                .entries
                .insert(last, (ScopeEntry::Module(m), span));
            let mut full = self.names.text(name).to_string();
            for part in &path {
                full.push('.');
                full.push_str(self.names.text(*part));
            }
            self.ir.aliases.push((full, m));
        }
    }

    fn instantiate(
        &mut self,
        items: &'a [ast::Item],
        scope: ScopeId,
        prefix: Vec<Sym>,
        latest: &mut BTreeMap<Vec<Sym>, ModuleId>,
        first_seen: &mut Vec<Vec<Sym>>,
    ) {
        for item in items {
            match &item.kind {
                ItemKind::Module(m) => {
                    let mut path = prefix.clone();
                    for part in &m.name.parts {
                        path.push(self.names.intern(&part.ident.text));
                    }
                    let refines = latest.get(&path).copied();
                    let id = self.define_module(m, item.span, scope, refines, None);
                    if refines.is_none() {
                        first_seen.push(path.clone());
                    }
                    latest.insert(path, id);
                }
                ItemKind::Equation(eq) => {
                    let (target, name) = self.scope_for_name(scope, &eq.name);
                    let id = self.equations.push(EqDef {
                        ast: eq,
                        scope: target,
                        state: State::Todo,
                    });
                    self.bind(target, name, ScopeEntry::Equation(id), eq.name.span);
                }
                ItemKind::Namespace(ns) => {
                    let (target, name) = self.scope_for_name(scope, &ns.name);
                    let inner = self.namespace_scope(target, name, ns.name.span);
                    let mut p = prefix.clone();
                    for part in &ns.name.parts {
                        p.push(self.names.intern(&part.ident.text));
                    }
                    self.instantiate(&ns.items, inner, p, latest, first_seen);
                }
                ItemKind::Support(text) => {
                    let span = text.span;
                    if !self.ir.support.iter().any(|s| s.span == span) {
                        self.ir.support.push(ir::Support {
                            text: text.text.to_string(),
                            prologue: false,
                            span,
                        });
                    }
                }
                _ => {}
            }
        }
    }
}
