//! Module operators (§9): views of one module that differ in which names are visible, which
//! names implicit search admits, and which inline level each method prefers.
//!
//! A view is built from a *recipe* and materialised on demand: the default view of a module
//! (its original namespace without forwarders, then its after-module operators), its original
//! view (what its own methods see), or an existing view followed by more operators (a header
//! entry, an equation, a type). Materialising is memoised; a view needed while it is being
//! built is a cycle (reported once).

use std::collections::BTreeMap;

use cranelift_entity::EntityRef;

use prolac_syntax::ast::{self, ModOpKind, OpItem};
use prolac_syntax::codes::{P0403, P0409, P0810, P0811, P0812, P0902, P0906, P0907, P0909};
use prolac_syntax::{Diagnostic, Span};

use super::names::Sym;
use super::{Entry, FeatureKey, Member, NsId, Sema, State, Using, View, ViewId};
use crate::ir::ModuleId;

/// How a view is made.
#[derive(Clone, Debug)]
pub(crate) enum Recipe<'a> {
    /// The module's default view: original namespace minus forwarders, after-module operators.
    Default(ModuleId),
    /// The module's original namespace, as its own methods see it.
    Original(ModuleId),
    /// Another view followed by operators, written in the context of `context` (the module
    /// whose constants the operands' levels may use), if any.
    Apply {
        base: ViewId,
        ops: &'a [ast::ModOp],
        context: Option<ModuleId>,
    },
}

/// A view's recipe and materialisation state.
pub(crate) struct ViewSlot<'a> {
    pub(crate) recipe: Recipe<'a>,
    pub(crate) state: State<()>,
}

fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // Shell wildcards: `*` any run except `.`, `?` one character except `.`, `[...]` classes
    // (`[!...]`/`[^...]` negated), `\` quotes the next character.
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => {
            let mut i = 0;
            loop {
                if glob_match(rest, &text[i..]) {
                    return true;
                }
                if i == text.len() || text[i] == b'.' {
                    return false;
                }
                i += 1;
            }
        }
        Some((b'?', rest)) => {
            matches!(text.first(), Some(c) if *c != b'.') && glob_match(rest, &text[1..])
        }
        Some((b'[', rest)) => {
            let Some((&c, text_rest)) = text.split_first() else {
                return false;
            };
            let (negated, mut rest) = match rest.first() {
                Some(b'!' | b'^') => (true, &rest[1..]),
                _ => (false, rest),
            };
            let mut matched = false;
            let mut first = true;
            loop {
                match rest.split_first() {
                    None => return false,
                    Some((b']', r)) if !first => {
                        rest = r;
                        break;
                    }
                    Some((&lo, r)) => {
                        if r.len() >= 2 && r[0] == b'-' && r[1] != b']' {
                            matched |= (lo..=r[1]).contains(&c);
                            rest = &r[2..];
                        } else {
                            matched |= lo == c;
                            rest = r;
                        }
                    }
                }
                first = false;
            }
            matched != negated && glob_match(rest, text_rest)
        }
        Some((b'\\', rest)) => match (rest.split_first(), text.split_first()) {
            (Some((p, prest)), Some((t, trest))) => p == t && glob_match(prest, trest),
            _ => false,
        },
        Some((p, rest)) => {
            matches!(text.split_first(), Some((t, _)) if t == p) && glob_match(rest, &text[1..])
        }
    }
}

impl<'a> Sema<'a> {
    /// Creates a view to be materialised later.
    pub(crate) fn new_view(&mut self, module: ModuleId, recipe: Recipe<'a>) -> ViewId {
        let ns = self.new_ns();
        let id = self.views.push(View {
            module,
            ns,
            using: Using::default(),
            closed: false,
            own_closing: None,
            failed: Vec::new(),
            inline: BTreeMap::new(),
            key: String::new(),
        });
        self.view_slots.push(ViewSlot {
            recipe,
            state: State::Todo,
        });
        id
    }

    /// Materialises a view (idempotent). Returns false if it could not be built.
    pub(crate) fn materialize(&mut self, v: ViewId) -> bool {
        match self.view_slots[v.index()].state {
            State::Done(()) => return true,
            State::Failed => return false,
            State::Busy => {
                let m = self.views[v].module;
                let name = self.module_name(m).to_string();
                let span = self.ir.modules[m].span;
                self.error(
                    Diagnostic::new(
                        P0403,
                        span,
                        format!("the view of `{name}` depends on itself"),
                    )
                    .with_help("a module's operators or header refer back to it through a cycle"),
                );
                self.view_slots[v.index()].state = State::Failed;
                return false;
            }
            State::Todo => {}
        }
        self.view_slots[v.index()].state = State::Busy;
        let ok = self.build_view(v);
        self.view_slots[v.index()].state = if ok { State::Done(()) } else { State::Failed };
        ok
    }

    fn build_view(&mut self, v: ViewId) -> bool {
        let recipe = self.view_slots[v.index()].recipe.clone();
        match recipe {
            Recipe::Original(m) => {
                let Some(ns) = self.original_ns(m) else {
                    return false;
                };
                let name = self.module_name(m).to_string();
                let view = &mut self.views[v];
                view.ns = ns;
                view.key = format!("{name} (original)");
                true
            }
            Recipe::Default(m) => {
                let Some(original) = self.original_ns(m) else {
                    return false;
                };
                let ns = self.copy_ns(original);
                self.drop_forwarders(ns);
                let name = self.module_name(m).to_string();
                {
                    let view = &mut self.views[v];
                    view.ns = ns;
                    view.key = name;
                }
                let ops = self.info(m).ast.map_or(&[][..], |a| &a.ops[..]);
                self.apply_ops(v, ops, Some(m));
                true
            }
            Recipe::Apply { base, ops, context } => {
                if !self.materialize(base) {
                    return false;
                }
                let b = self.views[base].clone();
                let ns = if ops.iter().any(|o| {
                    matches!(
                        o.kind,
                        ModOpKind::Hide | ModOpKind::Show | ModOpKind::Rename
                    )
                }) {
                    self.copy_ns(b.ns)
                } else {
                    b.ns
                };
                let view = &mut self.views[v];
                view.ns = ns;
                view.using = b.using;
                view.closed = b.closed;
                view.inline = b.inline;
                view.key = b.key;
                self.apply_ops(v, ops, context);
                true
            }
        }
    }

    /// Is `name` defined in the module but not visible in view `v`?
    fn hidden_in(&mut self, v: ViewId, name: Sym) -> bool {
        let m = self.views[v].module;
        self.original_ns(m)
            .is_some_and(|ns| self.namespaces[ns].entries.contains_key(&name))
    }

    /// An operand that names one feature, not a group (`all`, `S.all`, a glob).
    fn names_one_feature(item: &OpItem) -> bool {
        match item {
            OpItem::Name(path) => !path.last().is_some_and(|i| i.is_all()),
            OpItem::Alias { .. } => true,
            OpItem::All(_) | OpItem::AllStatic(_) | OpItem::Glob(_) => false,
        }
    }

    fn drop_forwarders(&mut self, ns: NsId) {
        let entries: Vec<(Sym, Entry)> = self.namespaces[ns]
            .entries
            .iter()
            .map(|(k, e)| (*k, *e))
            .collect();
        for (k, e) in entries {
            if e.forwarder {
                self.namespaces[ns].entries.remove(&k);
            } else if let Member::Namespace(inner) = e.member {
                self.drop_forwarders(inner);
            }
        }
    }

    /// Every entry of a namespace with its dotted underscore path, depth first.
    fn flatten(
        &self,
        ns: NsId,
        prefix: &str,
        out: &mut Vec<(String, Vec<Sym>, Entry)>,
        path: &mut Vec<Sym>,
    ) {
        for (k, e) in &self.namespaces[ns].entries {
            let key = self.names.key(*k);
            let full = if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            };
            path.push(*k);
            out.push((full.clone(), path.clone(), *e));
            if let Member::Namespace(inner) = e.member {
                self.flatten(inner, &full, out, path);
            }
            path.pop();
        }
    }

    /// Looks up a dotted path in a namespace.
    pub(crate) fn ns_lookup(&self, ns: NsId, path: &[Sym]) -> Option<Entry> {
        let (first, rest) = path.split_first()?;
        let e = *self.namespaces[ns].entries.get(first)?;
        if rest.is_empty() {
            return Some(e);
        }
        match e.member {
            Member::Namespace(inner) => self.ns_lookup(inner, rest),
            _ => None,
        }
    }

    fn ns_remove(&mut self, ns: NsId, path: &[Sym]) -> bool {
        let Some((first, rest)) = path.split_first() else {
            return false;
        };
        if rest.is_empty() {
            return self.namespaces[ns].entries.remove(first).is_some();
        }
        match self.namespaces[ns].entries.get(first).map(|e| e.member) {
            Some(Member::Namespace(inner)) => self.ns_remove(inner, rest),
            _ => false,
        }
    }

    /// Inserts at a dotted path, creating namespaces as needed.
    pub(crate) fn ns_insert(&mut self, ns: NsId, path: &[Sym], entry: Entry) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.namespaces[ns].entries.insert(*first, entry);
            return;
        }
        let inner = match self.namespaces[ns].entries.get(first).map(|e| e.member) {
            Some(Member::Namespace(inner)) => inner,
            _ => {
                let inner = self.new_ns();
                self.namespaces[ns].entries.insert(
                    *first,
                    Entry {
                        member: Member::Namespace(inner),
                        ..entry
                    },
                );
                inner
            }
        };
        self.ns_insert(inner, rest, entry);
    }

    /// The module an operand prefix `S` names, when `S` is the module itself or its parent as
    /// they appear in the module's namespace (§9.3).
    fn origin_prefix(&mut self, m: ModuleId, name: Sym) -> Option<ModuleId> {
        if self.info(m).name == name {
            return Some(m);
        }
        let header = self.header(m)?;
        match header.parent {
            Some((p, _, _)) if self.info(p).name == name => Some(p),
            _ => None,
        }
    }

    /// The names an operand selects in a view: `(path, entry)` pairs.
    fn select(&mut self, v: ViewId, item: &OpItem, kind: ModOpKind) -> Vec<(Vec<Sym>, Entry)> {
        let m = self.views[v].module;
        let ns = self.views[v].ns;
        // A simple name that is in the view selects itself (the common case, and cheap).
        if let OpItem::Name(path) = item {
            let syms: Vec<Sym> = path.iter().map(|i| self.names.intern(&i.text)).collect();
            if let Some(e) = self.ns_lookup(ns, &syms) {
                return vec![(syms, e)];
            }
        }
        let mut all = Vec::new();
        self.flatten(ns, "", &mut all, &mut Vec::new());
        let inline_op = !matches!(kind, ModOpKind::Hide);
        match item {
            OpItem::All(_) => all
                .into_iter()
                .filter(|(_, p, _)| p.len() == 1)
                .map(|(_, p, e)| (p, e))
                .collect(),
            OpItem::AllStatic(_) => Vec::new(),
            OpItem::Name(path) => {
                let syms: Vec<Sym> = path.iter().map(|i| self.names.intern(&i.text)).collect();
                if let Some(e) = self.ns_lookup(ns, &syms) {
                    return vec![(syms, e)];
                }
                // `S.x`, `S.all`: by origin (hide) or by actual (inline operators).
                if syms.len() == 2
                    && let Some(s) = self.origin_prefix(m, syms[0])
                {
                    let all_names = path[1].is_all();
                    let x = syms[1];
                    return all
                        .into_iter()
                        .filter(|(_, p, _)| p.len() == 1 && (all_names || p[0] == x))
                        .filter(|(_, _, e)| {
                            if inline_op {
                                self.actual_owner(m, e) == Some(s)
                            } else {
                                e.origin == s
                            }
                        })
                        .map(|(_, p, e)| (p, e))
                        .collect();
                }
                // `NS.all`: every method in a namespace.
                if syms.len() >= 2
                    && path[path.len() - 1].is_all()
                    && let Some(Entry {
                        member: Member::Namespace(inner),
                        ..
                    }) = self.ns_lookup(ns, &syms[..syms.len() - 1])
                {
                    {
                        let mut inside = Vec::new();
                        self.flatten(inner, "", &mut inside, &mut Vec::new());
                        let prefix = &syms[..syms.len() - 1];
                        return inside
                            .into_iter()
                            .map(|(_, p, e)| {
                                let mut full = prefix.to_vec();
                                full.extend(p);
                                (full, e)
                            })
                            .collect();
                    }
                }
                Vec::new()
            }
            OpItem::Glob(pattern) => {
                let origin_names: Vec<(ModuleId, String)> = {
                    let mut v = vec![(m, self.names.key(self.info(m).name).to_string())];
                    if let Some(h) = self.header(m)
                        && let Some((p, _, _)) = h.parent
                    {
                        v.push((p, self.names.key(self.info(p).name).to_string()));
                    }
                    v
                };
                all.into_iter()
                    .filter(|(full, _, e)| {
                        glob_match(&pattern.bytes, full.as_bytes())
                            || origin_names.iter().any(|(om, on)| {
                                e.origin == *om
                                    && glob_match(&pattern.bytes, format!("{on}.{full}").as_bytes())
                            })
                    })
                    .map(|(_, p, e)| (p, e))
                    .collect()
            }
            OpItem::Alias { old, .. } => {
                let syms: Vec<Sym> = old.iter().map(|i| self.names.intern(&i.text)).collect();
                self.ns_lookup(ns, &syms)
                    .map(|e| vec![(syms, e)])
                    .unwrap_or_default()
            }
        }
    }

    /// The module whose definition a member uses in module `m` (its *actual*, §6.4).
    fn actual_owner(&self, m: ModuleId, e: &Entry) -> Option<ModuleId> {
        match e.member {
            Member::Dynamic(sel) => self
                .vtables
                .get(&m)
                .and_then(|t| t.get(&sel))
                .map(|&mid| self.ir.methods[mid].owner),
            Member::Static(mid) => Some(self.ir.methods[mid].owner),
            _ => Some(e.origin),
        }
    }

    fn item_span(item: &OpItem, op: Span) -> Span {
        match item {
            OpItem::Name(p) => p[0].span.to(p[p.len() - 1].span),
            OpItem::All(s) | OpItem::AllStatic(s) => *s,
            OpItem::Glob(s) => s.span,
            OpItem::Alias { new, old } => new.span.to(old[old.len() - 1].span),
        }
        .to(op.start())
        .to(op.start())
    }

    /// Applies operators to a materialised view, in place.
    pub(crate) fn apply_ops(
        &mut self,
        v: ViewId,
        ops: &'a [ast::ModOp],
        context: Option<ModuleId>,
    ) {
        for op in ops {
            let mut text = format!(" {}", op.kind.keyword());
            for item in &op.items {
                text.push(' ');
                text.push_str(&match item {
                    OpItem::Name(p) => p.iter().map(|i| i.key()).collect::<Vec<_>>().join("."),
                    OpItem::All(_) => "all".into(),
                    OpItem::AllStatic(_) => "allstatic".into(),
                    OpItem::Glob(g) => format!("{:?}", g.text()),
                    OpItem::Alias { new, old } => format!(
                        "{}={}",
                        new.key(),
                        old.iter().map(|i| i.key()).collect::<Vec<_>>().join(".")
                    ),
                });
            }
            self.views[v].key.push_str(&text);
            match op.kind {
                ModOpKind::Hide => self.op_hide(v, op),
                ModOpKind::Show => self.op_show(v, op),
                ModOpKind::Rename => self.op_rename(v, op),
                ModOpKind::Using | ModOpKind::NotUsing => self.op_using(v, op),
                _ => self.op_inline(v, op, context),
            }
        }
    }

    fn warn_unmatched(&mut self, item: &OpItem, op: &ast::ModOp, v: ViewId) {
        let m = self.views[v].module;
        let name = self.module_name(m).to_string();
        let what = match item {
            OpItem::Glob(g) => format!("glob {:?}", g.text()),
            OpItem::Name(p) => format!(
                "`{}`",
                p.iter().map(|i| &*i.text).collect::<Vec<_>>().join(".")
            ),
            OpItem::Alias { old, .. } => format!(
                "`{}`",
                old.iter().map(|i| &*i.text).collect::<Vec<_>>().join(".")
            ),
            _ => "operand".into(),
        };
        // `get.bump` where `get` is a field or method: a call chain, not a name (§5.9).
        if let OpItem::Name(p) = item
            && p.len() >= 2
        {
            let first = self.names.intern(&p[0].text);
            let ns = self.views[v].ns;
            if let Some(e) = self.namespaces[ns].entries.get(&first).copied()
                && matches!(
                    e.member,
                    Member::Field(_) | Member::Dynamic(_) | Member::Static(_) | Member::Constructor
                )
            {
                self.error(
                    Diagnostic::new(P0409, Self::item_span(item, op.span), format!("{what} is a call chain, not a name"))
                        .with_label(format!("`{}` is a field or method, not a namespace", p[0].text))
                        .with_help("operands name features of this module: `name`, `Namespace.name`, `Ancestor.all`"),
                );
                return;
            }
        }
        let help = match item {
            OpItem::Glob(_) => {
                "globs are matched against names spelt with underscores, e.g. \"count_*\""
            }
            _ => "check the spelling; operands name features visible in this view",
        };
        self.error(
            Diagnostic::new(
                P0902,
                Self::item_span(item, op.span),
                format!("{what} matches nothing in `{name}`"),
            )
            .with_label(format!("`{}` changes nothing here", op.kind.keyword()))
            .with_help(help),
        );
    }

    fn op_hide(&mut self, v: ViewId, op: &'a ast::ModOp) {
        for item in &op.items {
            if let OpItem::All(_) = item {
                let ns = self.new_ns();
                let view = &mut self.views[v];
                view.ns = ns;
                view.using.clear();
                view.closed = true;
                view.own_closing = Some(true);
                continue;
            }
            let selected = self.select(v, item, ModOpKind::Hide);
            if selected.is_empty() {
                self.warn_unmatched(item, op, v);
            }
            let ns = self.views[v].ns;
            for (path, _) in selected {
                self.ns_remove(ns, &path);
            }
        }
    }

    fn op_show(&mut self, v: ViewId, op: &'a ast::ModOp) {
        let m = self.views[v].module;
        let Some(original) = self.original_ns(m) else {
            return;
        };
        for item in &op.items {
            let (new, old): (Option<&ast::Ident>, &[ast::Ident]) = match item {
                OpItem::Name(p) => (None, &p[..]),
                OpItem::Alias { new, old } => (Some(new), &old[..]),
                // `show all` and globs are reported by the parser's validation.
                _ => continue,
            };
            let syms: Vec<Sym> = old.iter().map(|i| self.names.intern(&i.text)).collect();
            let mut found = self.ns_lookup(original, &syms);
            if found.is_none() && syms.len() == 1 {
                // NEW (§8.7): `show n` runs the implicit search on the module's behalf.
                found = self.implicit_forwarder(m, syms[0], old[0].span);
            }
            let Some(entry) = found else {
                self.warn_unmatched(item, op, v);
                continue;
            };
            let ns = self.views[v].ns;
            let target: Vec<Sym> = match new {
                Some(n) => vec![self.names.intern(&n.text)],
                None => syms.clone(),
            };
            if let Some(n) = new
                && let Some(existing) = self.ns_lookup(ns, &target)
                && existing.member != entry.member
            {
                self.error(
                    Diagnostic::new(
                        P0906,
                        n.span,
                        format!("`{}` already names another feature", n.text),
                    )
                    .with_secondary(existing.span, "that feature")
                    .with_help("choose another name for the alias"),
                );
                continue;
            }
            self.ns_insert(
                ns,
                &target,
                Entry {
                    forwarder: false,
                    ..entry
                },
            );
        }
    }

    fn op_rename(&mut self, v: ViewId, op: &'a ast::ModOp) {
        for item in &op.items {
            let OpItem::Alias { new, old } = item else {
                continue;
            };
            let ns = self.views[v].ns;
            let old_syms: Vec<Sym> = old.iter().map(|i| self.names.intern(&i.text)).collect();
            let found = if old_syms.len() == 1 {
                self.ns_lookup(ns, &old_syms)
            } else {
                None
            };
            let Some(entry) = found else {
                let new_sym = self.names.intern(&new.text);
                self.views[v].failed.push(new_sym);
                let span = Self::item_span(item, op.span);
                let d = if old_syms.len() != 1 {
                    Diagnostic::new(P0906, span, "`rename` takes a simple name").with_help(
                        "rename the namespace, or use `show (new = S.old)` to alias a nested name",
                    )
                } else if self.hidden_in(v, old_syms[0]) {
                    Diagnostic::new(
                        P0906,
                        span,
                        format!("`{}` is hidden in this view", old[0].text),
                    )
                    .with_help("a hidden name cannot be renamed; `show (new = old)` can expose it")
                } else {
                    let module = self.module_name(self.views[v].module).to_string();
                    Diagnostic::new(
                        P0906,
                        span,
                        format!("`{module}` has no feature `{}` to rename", old[0].text),
                    )
                    .with_help(
                        "check the spelling; `rename` looks names up in the view being modified",
                    )
                };
                self.error(d);
                continue;
            };
            let new_sym = self.names.intern(&new.text);
            if let Some(existing) = self.ns_lookup(ns, &[new_sym])
                && existing.member != entry.member
            {
                self.error(
                    Diagnostic::new(
                        P0906,
                        new.span,
                        format!("`{}` already names another feature", new.text),
                    )
                    .with_secondary(existing.span, "that feature"),
                );
                continue;
            }
            self.ns_remove(ns, &old_syms);
            self.ns_insert(ns, &[new_sym], entry);
        }
    }

    fn op_using(&mut self, v: ViewId, op: &'a ast::ModOp) {
        let adding = op.kind == ModOpKind::Using;
        for item in &op.items {
            match item {
                OpItem::All(_) => {
                    let u = &mut self.views[v];
                    if adding {
                        u.using.all = true;
                        u.using.removed.clear();
                        u.closed = false;
                        u.own_closing = Some(false);
                    } else {
                        u.using.clear();
                        u.closed = true;
                        u.own_closing = Some(true);
                    }
                }
                OpItem::AllStatic(span) => {
                    if adding {
                        let u = &mut self.views[v];
                        u.using.all_static = true;
                        u.closed = false;
                        u.own_closing = Some(false);
                    } else {
                        self.error(
                            Diagnostic::new(
                                P0811,
                                *span,
                                "`notusing allstatic` means `notusing all`",
                            )
                            .with_help("write `notusing all`"),
                        );
                        let u = &mut self.views[v];
                        u.using.clear();
                        u.closed = true;
                        u.own_closing = Some(true);
                    }
                }
                OpItem::Name(path) if path.len() == 1 => {
                    let s = self.names.intern(&path[0].text);
                    let ns = self.views[v].ns;
                    if self.ns_lookup(ns, &[s]).is_none() {
                        let name = self.module_name(self.views[v].module).to_string();
                        self.error(
                            Diagnostic::new(
                                P0812,
                                path[0].span,
                                format!("`{}` is not in the view of `{name}`", path[0].text),
                            )
                            .with_label("this operand changes nothing"),
                        );
                        continue;
                    }
                    let u = &mut self.views[v];
                    if adding {
                        u.using.added.insert(s);
                        u.using.removed.remove(&s);
                    } else {
                        u.using.removed.insert(s);
                        u.using.added.remove(&s);
                    }
                    u.closed = false;
                    u.own_closing = Some(false);
                }
                other => {
                    self.error(
                        Diagnostic::new(
                            P0810,
                            Self::item_span(other, op.span),
                            format!("`{}` takes simple names", op.kind.keyword()),
                        )
                        .with_help("name a member of the view's top-level namespace"),
                    );
                }
            }
        }
    }

    fn op_inline(&mut self, v: ViewId, op: &'a ast::ModOp, context: Option<ModuleId>) {
        let mut level: u8 = match op.kind {
            ModOpKind::NoInline => 0,
            ModOpKind::DefaultInline => 1,
            ModOpKind::PathInline => 3,
            _ => 2,
        };
        if let Some(k) = &op.level {
            let value = self.const_level(k, context);
            if let Some(value) = value {
                if value > 3 {
                    self.error(
                        Diagnostic::new(
                            P0907,
                            k.span,
                            format!("inline level {value} is treated as 3"),
                        )
                        .with_help("inline levels run from 0 to 3"),
                    );
                }
                level = value.min(3) as u8;
            }
        }
        for item in &op.items {
            let selected = self.select(v, item, op.kind);
            if selected.is_empty() {
                if !matches!(item, OpItem::All(_)) {
                    self.warn_unmatched(item, op, v);
                }
                continue;
            }
            for (path, entry) in selected {
                let key = match entry.member {
                    Member::Dynamic(sel) => Some(FeatureKey::Selector(sel)),
                    Member::Static(mid) => Some(FeatureKey::Method(mid)),
                    Member::Constructor => {
                        let m = self.views[v].module;
                        self.info(m).constructor.map(FeatureKey::Method)
                    }
                    Member::Namespace(inner) => {
                        let last = path[path.len() - 1];
                        match self.namespaces[inner].entries.get(&last).map(|e| e.member) {
                            Some(Member::Dynamic(sel)) => Some(FeatureKey::Selector(sel)),
                            Some(Member::Static(mid)) => Some(FeatureKey::Method(mid)),
                            _ => None,
                        }
                    }
                    Member::Field(_) if Self::names_one_feature(item) => {
                        self.error(
                            Diagnostic::new(
                                P0909,
                                Self::item_span(item, op.span),
                                "inline operator on a field",
                            )
                            .with_help("inline preferences apply to methods only"),
                        );
                        None
                    }
                    _ => None,
                };
                if let Some(key) = key {
                    self.views[v].inline.insert(key, level);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_follow_shell_rules_without_crossing_dots() {
        assert!(glob_match(b"count_*", b"count_received"));
        assert!(!glob_match(b"count_*", b"count.received"));
        assert!(glob_match(b"S.*", b"S.open"));
        assert!(glob_match(b"?ack", b"sack"));
        assert!(!glob_match(b"?ack", b".ack"));
        assert!(glob_match(b"[a-c]x", b"bx"));
        assert!(!glob_match(b"[!a-c]x", b"bx"));
        assert!(glob_match(b"[^a-c]x", b"dx"));
        assert!(glob_match(b"a\\*", b"a*"));
        assert!(!glob_match(b"a\\*", b"ab"));
        assert!(
            !glob_match(b"count-*", b"count_x"),
            "a hyphen in a glob matches no name"
        );
    }
}
