//! A module's own definitions entering its original namespace (§5.2, §5.7, §6.5, §7): methods
//! (overriding or shadowing what is inherited), fields, exceptions, explicit namespaces,
//! qualified defining names, inner modules, and the synthesised constructor (§6.8).

use prolac_syntax::ast::{self, ItemKind, MethodBody};
use prolac_syntax::codes::{P0301, P0406, P0407, P0707, P0724};
use prolac_syntax::{Diagnostic, Span};

use super::names::Sym;
use super::{Entry, Header, Member, MethodSrc, NsId, Sema, State};
use crate::ir::{self, ExceptionId, ModuleId};

impl<'a> Sema<'a> {
    pub(crate) fn synthesise_constructor(&mut self, m: ModuleId, ns: NsId) {
        let void = self.ir.types.void();
        let span = self.ir.modules[m].span;
        let id = self.ir.methods.push(ir::Method {
            name: "constructor".into(),
            owner: m,
            kind: ir::MethodKind::Constructor,
            params: Vec::new(),
            ret: void,
            body: None,
            inline: 2,
            raises: Vec::new(),
            provenance: ir::Provenance::SynthesisedConstructor,
            span,
        });
        let name = self.names.intern("constructor");
        self.methods[id] = Some(MethodSrc {
            ast: None,
            module: m,
            ns_path: vec![ns],
            param_names: Vec::new(),
            forward: None,
            typed: State::Todo,
            checked: false,
            constant: State::Todo,
        });
        self.info_mut(m).constructor = Some(id);
        self.namespaces[ns].entries.insert(
            name,
            Entry {
                member: Member::Constructor,
                origin: m,
                forwarder: false,
                span,
            },
        );
    }

    pub(crate) fn collision(
        &mut self,
        span: Span,
        existing: Entry,
        m: ModuleId,
        what: &str,
        name: &str,
    ) {
        if existing.origin == m && !matches!(existing.member, Member::Module(_)) {
            self.error(
                Diagnostic::new(P0301, span, format!("`{name}` is defined twice"))
                    .with_secondary(existing.span, "first defined here")
                    .with_help("rename one of the definitions"),
            );
        } else {
            let old = match existing.member {
                Member::Field(_) => "a field",
                Member::Static(_) => "a static method",
                Member::Dynamic(_) => "a dynamic method",
                Member::Constructor => "the constructor",
                Member::Exception(_) => "an exception",
                Member::Namespace(_) => "a namespace",
                Member::Module(_) => "a module name",
            };
            self.error(
                Diagnostic::new(P0407, span, format!("{what} `{name}` collides with {old}"))
                    .with_secondary(existing.span, "defined here")
                    .with_help("choose another name"),
            );
        }
    }

    pub(crate) fn define_members(
        &mut self,
        m: ModuleId,
        ns: NsId,
        items: &'a [ast::Item],
        path: &mut Vec<NsId>,
        header: &Header,
    ) {
        for item in items {
            match &item.kind {
                ItemKind::Field(f) => {
                    let Some((target, name)) =
                        self.member_target(m, ns, &f.name, path.len() == 1, header)
                    else {
                        continue;
                    };
                    let text = f.name.last().text.to_string();
                    if let Some(existing) = self.namespaces[target].entries.get(&name).copied() {
                        self.collision(f.name.span, existing, m, "field", &text);
                        continue;
                    }
                    let void = self.ir.types.void();
                    let id = self.ir.fields.push(ir::Field {
                        name: text,
                        owner: m,
                        ty: void,
                        is_static: f.is_static,
                        pinned: None,
                        span: f.name.span,
                    });
                    self.field_src[id] = Some((f, m));
                    if !f.is_static {
                        self.ir.modules[m].fields.push(id);
                    }
                    self.namespaces[target].entries.insert(
                        name,
                        Entry {
                            member: Member::Field(id),
                            origin: m,
                            forwarder: false,
                            span: f.name.span,
                        },
                    );
                }
                ItemKind::Method(me) => self.define_method(m, ns, me, path, header),
                ItemKind::Exception(name) => {
                    let Some((target, s)) =
                        self.member_target(m, ns, name, path.len() == 1, header)
                    else {
                        continue;
                    };
                    let text = name.last().text.to_string();
                    if let Some(existing) = self.namespaces[target].entries.get(&s).copied() {
                        let shadows = existing.origin != m
                            && matches!(existing.member, Member::Exception(_) | Member::Static(_));
                        if !shadows {
                            if matches!(existing.member, Member::Dynamic(_)) && existing.origin != m
                            {
                                self.error(
                                    Diagnostic::new(
                                        P0707,
                                        name.span,
                                        format!("exception `{text}` replaces a dynamic method"),
                                    )
                                    .with_secondary(existing.span, "the inherited method"),
                                );
                            } else {
                                self.collision(name.span, existing, m, "exception", &text);
                            }
                            continue;
                        }
                    }
                    let full = format!(
                        "{}.{}",
                        self.module_name(m),
                        name.parts
                            .iter()
                            .map(|p| &*p.ident.text)
                            .collect::<Vec<_>>()
                            .join(".")
                    );
                    let id: ExceptionId = self.ir.exceptions.push(ir::Exception {
                        name: full,
                        owner: m,
                        span: name.span,
                    });
                    self.namespaces[target].entries.insert(
                        s,
                        Entry {
                            member: Member::Exception(id),
                            origin: m,
                            forwarder: false,
                            span: name.span,
                        },
                    );
                }
                ItemKind::Namespace(n) => {
                    let Some((target, s)) =
                        self.member_target(m, ns, &n.name, path.len() == 1, header)
                    else {
                        continue;
                    };
                    let inner = match self.namespaces[target].entries.get(&s).copied() {
                        Some(Entry {
                            member: Member::Namespace(inner),
                            ..
                        }) => inner,
                        Some(existing) => {
                            let text = n.name.last().text.to_string();
                            self.collision(n.name.span, existing, m, "namespace", &text);
                            continue;
                        }
                        None => {
                            let inner = self.new_ns();
                            self.namespaces[target].entries.insert(
                                s,
                                Entry {
                                    member: Member::Namespace(inner),
                                    origin: m,
                                    forwarder: false,
                                    span: n.name.span,
                                },
                            );
                            inner
                        }
                    };
                    path.push(inner);
                    self.define_members(m, inner, &n.items, path, header);
                    path.pop();
                }
                ItemKind::Module(inner) => {
                    let scope = self.info(m).scope;
                    let id = self.define_module(inner, item.span, scope, None, Some(m));
                    let s = self.info(id).name;
                    let v = self.default_view(id);
                    if let Some(existing) = self.namespaces[ns].entries.get(&s).copied()
                        && existing.origin == m
                    {
                        let text = inner.name.last().text.to_string();
                        self.collision(inner.name.span, existing, m, "module", &text);
                        continue;
                    }
                    self.namespaces[ns].entries.insert(
                        s,
                        Entry {
                            member: Member::Module(v),
                            origin: m,
                            forwarder: false,
                            span: inner.name.span,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    /// The namespace a (possibly dotted) defining name lands in, and its last component.
    /// Reports a defining name that starts with a header name (P0406).
    pub(crate) fn member_target(
        &mut self,
        m: ModuleId,
        ns: NsId,
        name: &'a ast::DefName,
        top: bool,
        header: &Header,
    ) -> Option<(NsId, Sym)> {
        self.member_chain(m, ns, name, top, header)
            .map(|(chain, s)| (chain.last().copied().unwrap_or(ns), s))
    }

    /// Like [`Self::member_target`], with every namespace between `ns` and the target.
    pub(crate) fn member_chain(
        &mut self,
        m: ModuleId,
        ns: NsId,
        name: &'a ast::DefName,
        top: bool,
        header: &Header,
    ) -> Option<(Vec<NsId>, Sym)> {
        let first = self.names.intern(&name.parts[0].ident.text);
        if name.parts.len() > 1 && top {
            let is_header = header.imports.iter().any(|(s, _, _)| *s == first)
                || header
                    .parent
                    .is_some_and(|(p, _, _)| self.info(p).name == first)
                || self.info(m).name == first;
            if is_header {
                self.error(
                    Diagnostic::new(
                        P0406,
                        name.parts[0].ident.span,
                        format!(
                            "a defining name may not start with `{}`",
                            name.parts[0].ident.text
                        ),
                    )
                    .with_label("the name of a parent or import")
                    .with_help("override by plain name"),
                );
                return None;
            }
        }
        let mut target = ns;
        let mut chain = Vec::new();
        for part in &name.parts[..name.parts.len() - 1] {
            let s = self.names.intern(&part.ident.text);
            target = match self.namespaces[target].entries.get(&s).copied() {
                Some(Entry {
                    member: Member::Namespace(inner),
                    ..
                }) => inner,
                Some(existing) => {
                    let text = part.ident.text.to_string();
                    self.collision(part.ident.span, existing, m, "namespace", &text);
                    return None;
                }
                None => {
                    let inner = self.new_ns();
                    self.namespaces[target].entries.insert(
                        s,
                        Entry {
                            member: Member::Namespace(inner),
                            origin: m,
                            forwarder: false,
                            span: part.ident.span,
                        },
                    );
                    inner
                }
            };
            chain.push(target);
        }
        Some((chain, self.names.intern(&name.last().text)))
    }

    pub(crate) fn define_method(
        &mut self,
        m: ModuleId,
        ns: NsId,
        me: &'a ast::Method,
        path: &[NsId],
        header: &Header,
    ) {
        let is_ctor = me.name.parts.len() == 1 && &*me.name.last().text == "constructor";
        if is_ctor && path.len() > 1 {
            self.error(
                Diagnostic::new(
                    P0724,
                    me.name.span,
                    "a constructor is defined at the module's top level",
                )
                .with_help("move it out of the namespace"),
            );
            return;
        }
        let Some((chain, name)) = self.member_chain(m, ns, &me.name, path.len() == 1, header)
        else {
            return;
        };
        let target = chain.last().copied().unwrap_or(ns);
        let text = me
            .name
            .parts
            .iter()
            .map(|p| &*p.ident.text)
            .collect::<Vec<_>>()
            .join(".");
        let is_static = me.is_static || matches!(me.body, MethodBody::Extern(_));
        let existing = self.namespaces[target].entries.get(&name).copied();
        // The enclosing namespaces, outermost first, down to the one holding the method.
        let mut ns_path = path.to_vec();
        ns_path.extend(chain);
        let kind = if is_ctor {
            if let Some(e) = existing
                && e.origin == m
            {
                self.collision(me.name.span, e, m, "constructor", "constructor");
                return;
            }
            ir::MethodKind::Constructor
        } else if is_static {
            match existing {
                Some(e) if e.origin == m => {
                    self.collision(me.name.span, e, m, "method", &text);
                    return;
                }
                Some(e) if matches!(e.member, Member::Dynamic(_)) => {
                    self.error(
                        Diagnostic::new(P0707, me.name.span, format!("static method `{text}` overrides a dynamic method"))
                            .with_secondary(e.span, "the inherited dynamic method")
                            .with_help("a static method overrides only a static method; remove `static` or rename"),
                    );
                    return;
                }
                Some(e) if !matches!(e.member, Member::Static(_) | Member::Exception(_)) => {
                    self.collision(me.name.span, e, m, "method", &text);
                    return;
                }
                _ => {}
            }
            match &me.body {
                MethodBody::Extern(link) => ir::MethodKind::Extern {
                    link_name: link
                        .as_ref()
                        .map_or_else(|| me.name.last().text.replace('-', "_"), |l| l.text()),
                },
                _ => ir::MethodKind::Static,
            }
        } else {
            match existing {
                Some(e) if e.origin == m => {
                    self.collision(me.name.span, e, m, "method", &text);
                    return;
                }
                Some(Entry {
                    member: Member::Dynamic(sel),
                    ..
                }) => ir::MethodKind::Dynamic(sel),
                Some(e) if matches!(e.member, Member::Static(_) | Member::Exception(_)) => {
                    self.error(
                        Diagnostic::new(P0707, me.name.span, format!("dynamic method `{text}` overrides a static one"))
                            .with_secondary(e.span, "the inherited static method or exception")
                            .with_help("a dynamic method overrides only a dynamic method; add `static` or rename"),
                    );
                    return;
                }
                Some(e) => {
                    self.collision(me.name.span, e, m, "method", &text);
                    return;
                }
                None => {
                    let sel = self.ir.selectors.push(ir::Selector {
                        name: text.clone(),
                        origin: m,
                    });
                    ir::MethodKind::Dynamic(sel)
                }
            }
        };
        let void = self.ir.types.void();
        let id = self.ir.methods.push(ir::Method {
            name: text,
            owner: m,
            kind: kind.clone(),
            params: Vec::new(),
            ret: void,
            body: None,
            inline: 1,
            raises: Vec::new(),
            provenance: ir::Provenance::Written,
            span: me.name.span,
        });
        let param_names = me
            .params
            .iter()
            .flatten()
            .map(|p| self.names.intern(&p.name.text))
            .collect();
        self.methods[id] = Some(MethodSrc {
            ast: Some(me),
            module: m,
            ns_path,
            param_names,
            forward: None,
            typed: State::Todo,
            checked: false,
            constant: State::Todo,
        });
        let member = match kind {
            ir::MethodKind::Constructor => {
                self.info_mut(m).constructor = Some(id);
                Member::Constructor
            }
            ir::MethodKind::Dynamic(sel) => {
                self.vtables.entry(m).or_default().insert(sel, id);
                Member::Dynamic(sel)
            }
            _ => Member::Static(id),
        };
        // An override keeps the name's origin (§6.4).
        let origin = match (existing, member) {
            (Some(e), Member::Dynamic(_)) => e.origin,
            _ => m,
        };
        self.namespaces[target].entries.insert(
            name,
            Entry {
                member,
                origin,
                forwarder: false,
                span: me.name.span,
            },
        );
    }
}
