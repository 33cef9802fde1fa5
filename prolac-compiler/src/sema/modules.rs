//! Phase 2: module headers and namespaces.
//!
//! - Header names resolve in the scope enclosing the module definition, outwards to file level
//!   (§5.6); `.X` starts at the file namespace, or at the composition inside a layer (§14.4).
//! - A module's parent is its single parent entry, the most derived of several entries on one
//!   ancestor chain (NEW, §4.2), or for a layer refinement the same module of the previous layer.
//! - The *original namespace* (§5.7) is the parent entry's view minus module names, the
//!   module's own name and header names, and its own definitions merged in: a method over an
//!   inherited method overrides it, namespaces merge, anything else collides.
//! - The *default view* is the original namespace minus forwarders, with the after-module
//!   operators applied ([`super::views`]).

use std::collections::BTreeMap;

use prolac_syntax::ast::{self, ModuleRef, ParentEntry};
use prolac_syntax::codes::{P0402, P0403, P0404, P0405, P0410, P0502, P0503};
use prolac_syntax::{Diagnostic, Span};

use super::names::Sym;
use super::views::Recipe;
use super::{Entry, Header, Member, NsId, ScopeEntry, ScopeId, Sema, State, ViewId};
use crate::ir::{MethodId, ModuleId, SelectorId};

impl<'a> Sema<'a> {
    /// Resolves every module: headers, namespaces, default views, then member types.
    pub(crate) fn resolve_all_modules(&mut self) {
        let all: Vec<ModuleId> = self.ir.modules.keys().collect();
        for &m in &all {
            self.header(m);
        }
        for &m in &all {
            self.original_ns(m);
        }
        // Every equation is checked, used or not (an export may be its only use).
        let eqs: Vec<super::EqId> = self.equations.keys().collect();
        for eq in eqs {
            self.equation_view(eq);
        }
        // Inner modules are created while their outer module's namespace is built, at any
        // depth: go on until no new module appears.
        let mut i = 0;
        while i < self.ir.modules.len() {
            let m = ModuleId::from_u32(i as u32);
            self.original_ns(m);
            let v = self.default_view(m);
            self.materialize(v);
            i += 1;
        }
        let all: Vec<ModuleId> = self.ir.modules.keys().collect();
        for &m in &all {
            self.type_members(m);
        }
        for &m in &all {
            let table: Vec<(SelectorId, MethodId)> = self
                .vtables
                .get(&m)
                .map(|t| t.iter().map(|(s, f)| (*s, *f)).collect())
                .unwrap_or_default();
            self.ir.modules[m].vtable = table;
            self.ir.modules[m].constructor = self.info(m).constructor;
        }
    }

    /// The module's default view (created lazily; materialise it to use it).
    pub(crate) fn default_view(&mut self, m: ModuleId) -> ViewId {
        if let State::Done(v) = self.info(m).default {
            return v;
        }
        let v = self.new_view(m, Recipe::Default(m));
        self.info_mut(m).default = State::Done(v);
        v
    }

    /// The module's original view: what its own methods see.
    pub(crate) fn self_view(&mut self, m: ModuleId) -> ViewId {
        if let Some(v) = self.info(m).self_view {
            return v;
        }
        let v = self.new_view(m, Recipe::Original(m));
        self.info_mut(m).self_view = Some(v);
        v
    }

    /// Looks a dotted module name up from a file-level scope, searching outwards.
    pub(crate) fn scope_lookup(
        &mut self,
        scope: ScopeId,
        global: bool,
        path: &'a [ast::Ident],
        span: Span,
    ) -> Option<ViewId> {
        let first = self.names.intern(&path[0].text);
        let mut current = if global {
            self.scopes[scope].global
        } else {
            scope
        };
        let mut entry = None;
        loop {
            if let Some((e, _)) = self.scopes[current].entries.get(&first) {
                entry = Some(*e);
                break;
            }
            match self.scopes[current].parent {
                Some(p) => current = p,
                None if global && current != self.root => current = self.root,
                None => break,
            }
        }
        let Some(mut entry) = entry else {
            self.unknown_module(path, span);
            return None;
        };
        for (i, part) in path.iter().enumerate().skip(1) {
            let s = self.names.intern(&part.text);
            entry = match entry {
                ScopeEntry::Scope(sc) => match self.scopes[sc].entries.get(&s) {
                    Some((e, _)) => *e,
                    None if self.broken.contains(&sc) => return None, // P0505 said why
                    None => {
                        self.unknown_module(&path[..=i], span);
                        return None;
                    }
                },
                ScopeEntry::Module(_) | ScopeEntry::Equation(_) => {
                    // `M.Window`: a header name seen through M's default view.
                    let v = self.entry_view(entry)?;
                    return self.view_module_path(v, &path[i..], span);
                }
            };
        }
        match entry {
            ScopeEntry::Scope(_) => {
                let name = path.iter().map(|p| &*p.text).collect::<Vec<_>>().join(".");
                self.error(
                    Diagnostic::new(
                        P0410,
                        span,
                        format!("`{name}` is a namespace, not a module"),
                    )
                    .with_help("name a module inside it"),
                );
                None
            }
            e => self.entry_view(e),
        }
    }

    pub(crate) fn entry_view(&mut self, e: ScopeEntry) -> Option<ViewId> {
        match e {
            ScopeEntry::Module(m) => Some(self.default_view(m)),
            ScopeEntry::Equation(eq) => self.equation_view(eq),
            ScopeEntry::Scope(_) => None,
        }
    }

    /// Continues a dotted module name through the module names a view contains.
    pub(crate) fn view_module_path(
        &mut self,
        v: ViewId,
        rest: &'a [ast::Ident],
        span: Span,
    ) -> Option<ViewId> {
        if !self.materialize(v) {
            return None;
        }
        let ns = self.views[v].ns;
        let syms: Vec<Sym> = rest.iter().map(|i| self.names.intern(&i.text)).collect();
        match self.ns_lookup(ns, &syms).map(|e| e.member) {
            Some(Member::Module(inner)) => Some(inner),
            _ => {
                self.unknown_module(rest, span);
                None
            }
        }
    }

    pub(crate) fn unknown_module(&mut self, path: &[ast::Ident], span: Span) {
        let name = path.iter().map(|p| &*p.text).collect::<Vec<_>>().join(".");
        // Every module name bound at file level or in a file-level namespace, for a suggestion.
        let known: Vec<String> = self
            .scopes
            .values()
            .flat_map(|sc| sc.entries.keys())
            .map(|n| self.names.text(*n).to_string())
            .collect();
        let last = path.last().map_or("", |i| &*i.text);
        let help = match super::names::suggest(last, known.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None => "inside a module, list other modules in its header (`has Window`)".to_string(),
        };
        self.error(
            Diagnostic::new(P0410, span, format!("unknown module `{name}`")).with_help(help),
        );
    }

    pub(crate) fn equation_view(&mut self, eq: super::EqId) -> Option<ViewId> {
        match self.equations[eq].state {
            State::Done(v) => return Some(v),
            State::Failed => return None,
            State::Busy => {
                let ast = self.equations[eq].ast;
                self.error(
                    Diagnostic::new(
                        P0405,
                        ast.name.span,
                        format!(
                            "module equation `{}` refers to itself",
                            ast.name.last().text
                        ),
                    )
                    .with_help("make one equation in the cycle name a module definition"),
                );
                self.equations[eq].state = State::Failed;
                return None;
            }
            State::Todo => {}
        }
        self.equations[eq].state = State::Busy;
        let ast = self.equations[eq].ast;
        let scope = self.equations[eq].scope;
        let v = self.module_expr_in_scope(scope, &ast.value, None);
        if self.equations[eq].state == State::Busy {
            self.equations[eq].state = match v {
                Some(v) => State::Done(v),
                None => State::Failed,
            };
        }
        v
    }

    /// A module expression written at file level or in a header.
    pub(crate) fn module_expr_in_scope(
        &mut self,
        scope: ScopeId,
        e: &'a ast::ModuleExpr,
        context: Option<ModuleId>,
    ) -> Option<ViewId> {
        let base = match &e.base {
            ModuleRef::Path { global, path } => self.scope_lookup(scope, *global, path, e.span)?,
            ModuleRef::Paren(t) => match &t.kind {
                ast::TypeKind::Module(inner) => self.module_expr_in_scope(scope, inner, context)?,
                _ => {
                    self.error(
                        Diagnostic::new(P0410, t.span, "expected a module")
                            .with_label("not a module expression"),
                    );
                    return None;
                }
            },
        };
        Some(self.with_ops(base, &e.ops, context))
    }

    /// A view followed by operators (the view itself if there are none).
    pub(crate) fn with_ops(
        &mut self,
        base: ViewId,
        ops: &'a [ast::ModOp],
        context: Option<ModuleId>,
    ) -> ViewId {
        if ops.is_empty() {
            return base;
        }
        let m = self.views[base].module;
        self.new_view(m, Recipe::Apply { base, ops, context })
    }

    /// The resolved header of a module (`None` if it has none or it failed).
    pub(crate) fn header(&mut self, m: ModuleId) -> Option<std::rc::Rc<Header>> {
        match &self.info(m).header {
            State::Done(h) => return Some(h.clone()),
            State::Failed => return None,
            State::Busy => {
                let span = self.ir.modules[m].span;
                let name = self.module_name(m).to_string();
                if self.cyclic.insert(m) {
                    self.error(
                        Diagnostic::new(
                            P0403,
                            span,
                            format!("module `{name}` inherits from itself"),
                        )
                        .with_help("break the inheritance cycle"),
                    );
                }
                self.info_mut(m).header = State::Failed;
                return None;
            }
            State::Todo => {}
        }
        self.info_mut(m).header = State::Busy;
        let h = std::rc::Rc::new(self.compute_header(m));
        if matches!(self.info(m).header, State::Busy) {
            self.info_mut(m).header = State::Done(h);
        }
        let parent = match &self.info(m).header {
            State::Done(h) => h.parent.map(|(p, _, _)| p),
            _ => None,
        };
        self.ir.modules[m].parent = parent;
        match &self.info(m).header {
            State::Done(h) => Some(h.clone()),
            _ => None,
        }
    }

    /// True if `m` or an ancestor has a header entry that failed to resolve (or an
    /// inheritance cycle): names it would have provided are not reported again (§14.6).
    pub(crate) fn incomplete(&mut self, m: ModuleId) -> bool {
        let mut cur = Some(m);
        let mut steps = 0;
        while let Some(c) = cur {
            steps += 1;
            if steps > 10_000 {
                return true;
            }
            match &self.info(c).header {
                State::Failed => return true,
                State::Done(h) if h.incomplete => return true,
                State::Done(h) => cur = h.parent.map(|(p, _, _)| p),
                _ => return false,
            }
        }
        false
    }

    /// True if `a` is `b` or an ancestor of `b` (by resolved headers).
    pub(crate) fn is_ancestor_or_self(&mut self, a: ModuleId, b: ModuleId) -> bool {
        let mut cur = Some(b);
        let mut steps = 0;
        while let Some(c) = cur {
            if c == a {
                return true;
            }
            steps += 1;
            if steps > 10_000 {
                return false;
            }
            cur = self.header(c).and_then(|h| h.parent.map(|(p, _, _)| p));
        }
        false
    }

    pub(crate) fn compute_header(&mut self, m: ModuleId) -> Header {
        let mut header = Header::default();
        let Some(ast) = self.info(m).ast else {
            return header;
        };
        let scope = self.info(m).scope;
        let refines = self.info(m).refines;
        let mut names: Vec<(Sym, Span)> = Vec::new();

        if let Some(prev) = refines {
            let mut ops: &'a [ast::ModOp] = &[];
            let mut span = ast.name.span;
            for entry in &ast.parents {
                match entry {
                    ParentEntry::Super { span: s, ops: o } => {
                        ops = o;
                        span = *s;
                    }
                    ParentEntry::Module(me) => self.error(
                        Diagnostic::new(P0502, me.span, "a refinement lists another parent")
                            .with_label("the previous layer's module is this module's parent")
                            .with_help("remove this entry"),
                    ),
                }
            }
            let base = self.default_view(prev);
            let view = self.with_ops(base, ops, Some(m));
            header.parent = Some((prev, view, span));
        } else {
            let mut candidates: Vec<(ModuleId, ViewId, Span)> = Vec::new();
            for entry in &ast.parents {
                match entry {
                    ParentEntry::Super { span, .. } => {
                        if self.in_layer(scope) {
                            self.error(
                                Diagnostic::new(P0503, *span, "`:> super` on a module no earlier layer defines")
                                    .with_label("this is a base definition")
                                    .with_help("name the parent module explicitly, or define the module in an earlier layer"),
                            );
                        }
                    }
                    ParentEntry::Module(me) => {
                        if let Some(v) = self.module_expr_in_scope(scope, me, Some(m)) {
                            let pm = self.views[v].module;
                            candidates.push((pm, v, me.span));
                            if let Some(name) = Self::header_name(me) {
                                let s = self.names.intern(&name.text);
                                names.push((s, name.span));
                            }
                        } else {
                            header.incomplete = true;
                            if let Some(name) = Self::header_name(me) {
                                header.unresolved.push(self.names.intern(&name.text));
                            }
                        }
                    }
                }
            }
            header.parent = match candidates.len() {
                0 => None,
                1 => Some(candidates[0]),
                _ => {
                    let most = candidates.iter().copied().find(|(c, _, _)| {
                        let c = *c;
                        candidates.iter().all(|(o, _, _)| {
                            let o = *o;
                            self.is_ancestor_or_self(o, c)
                        })
                    });
                    match most {
                        Some(p) => {
                            header.relisted = candidates
                                .iter()
                                .filter(|(c, _, _)| *c != p.0)
                                .map(|(c, v, _)| (*c, *v))
                                .collect();
                            Some(p)
                        }
                        None => {
                            let second = candidates[1].2;
                            self.error(
                                Diagnostic::new(
                                    P0402,
                                    second,
                                    "multiple inheritance is not supported",
                                )
                                .with_secondary(
                                    candidates[0].2,
                                    "another parent, not an ancestor of this one",
                                )
                                .with_help(
                                    "keep one parent and import the other module with `has`",
                                ),
                            );
                            Some(candidates[0])
                        }
                    }
                }
            };
        }
        // A module whose ancestors include itself.
        if let Some((p, _, span)) = header.parent
            && self.is_ancestor_or_self(m, p)
        {
            let name = self.module_name(m).to_string();
            if self.cyclic.insert(m) {
                self.error(
                    Diagnostic::new(P0403, span, format!("module `{name}` inherits from itself"))
                        .with_help("break the inheritance cycle"),
                );
            }
            header.parent = None;
            header.incomplete = true;
        }
        for imp in &ast.imports {
            let Some(v) = self.module_expr_in_scope(scope, &imp.module, Some(m)) else {
                header.incomplete = true;
                if let Some(name) = imp
                    .local
                    .as_ref()
                    .or_else(|| Self::header_name(&imp.module))
                {
                    header.unresolved.push(self.names.intern(&name.text));
                }
                continue;
            };
            let name = imp
                .local
                .as_ref()
                .or_else(|| Self::header_name(&imp.module));
            let (s, span) = match name {
                Some(n) => (self.names.intern(&n.text), n.span),
                None => continue,
            };
            names.push((s, span));
            header.imports.push((s, v, span));
        }
        let mut seen: BTreeMap<Sym, Span> = BTreeMap::new();
        for (s, span) in names {
            if let Some(first) = seen.insert(s, span) {
                let text = self.names.text(s).to_string();
                self.error(
                    Diagnostic::new(
                        P0404,
                        span,
                        format!("two header entries are named `{text}`"),
                    )
                    .with_secondary(first, "first entry with this name")
                    .with_help(format!(
                        "rename one with a named import: `has Other-{text} :> …`"
                    )),
                );
            }
        }
        header
    }

    /// The name a header entry gives its module inside the module: its last path component.
    pub(crate) fn header_name(me: &'a ast::ModuleExpr) -> Option<&'a ast::Ident> {
        match &me.base {
            ModuleRef::Path { path, .. } => path.last(),
            ModuleRef::Paren(t) => match &t.kind {
                ast::TypeKind::Module(inner) => Self::header_name(inner),
                _ => None,
            },
        }
    }

    pub(crate) fn in_layer(&self, mut scope: ScopeId) -> bool {
        loop {
            if self.scopes[scope].global != self.root {
                return true;
            }
            match self.scopes[scope].parent {
                Some(p) => scope = p,
                None => return false,
            }
        }
    }

    /// The module's original namespace, built on first use.
    pub(crate) fn original_ns(&mut self, m: ModuleId) -> Option<NsId> {
        match self.info(m).original {
            State::Done(ns) => return Some(ns),
            State::Failed => return None,
            State::Busy => {
                let span = self.ir.modules[m].span;
                let name = self.module_name(m).to_string();
                self.error(
                    Diagnostic::new(
                        P0403,
                        span,
                        format!("the namespace of `{name}` depends on itself"),
                    )
                    .with_help("break the inheritance cycle"),
                );
                self.info_mut(m).original = State::Failed;
                return None;
            }
            State::Todo => {}
        }
        self.info_mut(m).original = State::Busy;
        let ns = self.build_original(m);
        if matches!(self.info(m).original, State::Busy) {
            self.info_mut(m).original = State::Done(ns);
        }
        match self.info(m).original {
            State::Done(ns) => Some(ns),
            _ => None,
        }
    }

    pub(crate) fn build_original(&mut self, m: ModuleId) -> NsId {
        let header = self.header(m).unwrap_or_default();
        let ns = match header.parent {
            Some((p, pv, _)) if self.materialize(pv) => {
                let copy = self.copy_ns(self.views[pv].ns);
                // Header names are not inherited (§4.2, §5.7); inner modules are (§4.5).
                let dropped: Vec<Sym> = self.namespaces[copy]
                    .entries
                    .iter()
                    .filter(|(_, e)| match e.member {
                        Member::Module(v) => !self.info(self.views[v].module).inner,
                        _ => false,
                    })
                    .map(|(s, _)| *s)
                    .collect();
                for s in dropped {
                    self.namespaces[copy].entries.remove(&s);
                }
                // The parent's dispatch table is the starting point.
                self.original_ns(p);
                let table = self.vtables.get(&p).cloned().unwrap_or_default();
                self.vtables.insert(m, table);
                copy
            }
            _ => {
                self.vtables.insert(m, BTreeMap::new());
                self.new_ns()
            }
        };
        // The module's own name and its header names.
        let span = self.ir.modules[m].span;
        let own = self.info(m).name;
        // The own name denotes the module as clients see it (its default view, §9.5).
        let sv = self.default_view(m);
        let module_entry = |v: ViewId, span: Span| Entry {
            member: Member::Module(v),
            origin: m,
            forwarder: false,
            span,
        };
        self.namespaces[ns]
            .entries
            .insert(own, module_entry(sv, span));
        if let (Some((_, pv, pspan)), Some(ast)) = (header.parent, self.info(m).ast) {
            for entry in &ast.parents {
                if let ParentEntry::Module(me) = entry
                    && let Some(name) = Self::header_name(me)
                {
                    let s = self.names.intern(&name.text);
                    let v = header
                        .relisted
                        .iter()
                        .find(|(rm, _)| self.info(*rm).name == s)
                        .map_or(pv, |(_, rv)| *rv);
                    self.namespaces[ns]
                        .entries
                        .insert(s, module_entry(v, pspan));
                }
            }
        }
        for (s, v, span) in &header.imports {
            self.namespaces[ns]
                .entries
                .insert(*s, module_entry(*v, *span));
        }
        // Own definitions.
        if let Some(ast) = self.info(m).ast {
            self.define_members(m, ns, &ast.body, &mut vec![ns], &header);
        }
        if self.info(m).constructor.is_none() {
            self.synthesise_constructor(m, ns);
        }
        self.info_mut(m).members_done = true;
        ns
    }
}
