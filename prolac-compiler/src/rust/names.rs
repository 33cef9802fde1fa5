//! Rust names for Prolac entities: deterministic, readable, collision-free.
//!
//! | Entity | Rust name | Example |
//! |---|---|---|
//! | module `Ping-Stack.Peer` | `PingStackPeer` (a `#[repr(C)]` struct) | |
//! | method `M.m` | `m__M` (the 1999 scheme `method__Module`) | `on_segment__Tcb` |
//! | field `snd-nxt` | `snd_nxt` | |
//! | static field `M.count` | `M_COUNT` | |
//! | exception `M.bad-sum` | `Exception::MBadSum` | |
//! | dispatch table of origin `O` | type `VtO`, slot `vt_o`, static `VT_M_O` | |
//!
//! Hyphens and dots become underscores. A name that would collide with an earlier one (in id
//! order) gets the entity's id as a suffix; a Rust keyword gets a trailing underscore.

use std::collections::HashSet;

use cranelift_entity::SecondaryMap;
use proc_macro2::{Ident, Span};

use crate::ir::{ExceptionId, FieldId, MethodId, ModuleId, Program};

/// Words that cannot be identifiers in Rust 2024 (strict and reserved keywords).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "union",
];

/// Names used by the generated file's own items.
const RESERVED: &[&str] = &["Exception", "prolac_rt", "core", "alloc", "std", "this"];

/// Turns a Prolac name into a Rust identifier text: `-` and `.` become `_`, other characters
/// outside `[A-Za-z0-9_]` become `_`, a leading digit gets `_`, a keyword gets a trailing `_`.
pub(crate) fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if s == "_" {
        s.push('x');
    }
    if KEYWORDS.contains(&s.as_str()) || RESERVED.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// `Ping-Stack.peer-input` → `PingStackPeerInput`.
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'M');
    }
    if KEYWORDS.contains(&out.as_str()) || RESERVED.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Makes an identifier.
pub(crate) fn ident(text: &str) -> Ident {
    Ident::new(text, Span::call_site())
}

/// Allocates unique texts in one namespace.
#[derive(Default)]
pub(crate) struct Taken(HashSet<String>);

impl Taken {
    /// `base`, or `base_{suffix}` (then `base_{suffix}_{n}`) if `base` is taken.
    pub(crate) fn claim(&mut self, base: String, suffix: impl std::fmt::Display) -> String {
        if self.0.insert(base.clone()) {
            return base;
        }
        let mut candidate = format!("{base}_{suffix}");
        let mut n = 2;
        while !self.0.insert(candidate.clone()) {
            candidate = format!("{base}_{suffix}_{n}");
            n += 1;
        }
        candidate
    }
}

impl Taken {
    /// Like [`Taken::claim`], keeping `UpperCamelCase`: `Name`, then `NameX{suffix}`.
    pub(crate) fn claim_camel(&mut self, base: String, suffix: u32) -> String {
        if self.0.insert(base.clone()) {
            return base;
        }
        let mut candidate = format!("{base}X{suffix}");
        while !self.0.insert(candidate.clone()) {
            candidate.push('X');
        }
        candidate
    }
}

/// Every program-wide name.
pub(crate) struct Names {
    pub(crate) structs: SecondaryMap<ModuleId, String>,
    pub(crate) methods: SecondaryMap<MethodId, String>,
    pub(crate) fields: SecondaryMap<FieldId, String>,
    pub(crate) statics: SecondaryMap<FieldId, String>,
    pub(crate) exceptions: SecondaryMap<ExceptionId, String>,
    /// Exception identities, from 1 in the order of full names.
    pub(crate) exception_ids: SecondaryMap<ExceptionId, u32>,
}

impl Names {
    pub(crate) fn new(p: &Program) -> Names {
        let mut items = Taken::default();
        for r in RESERVED {
            items.0.insert((*r).to_string());
        }
        let mut structs = SecondaryMap::new();
        for (m, module) in p.modules.iter() {
            structs[m] = items.claim_camel(camel(&module.name), m.as_u32());
        }
        let mut methods = SecondaryMap::new();
        for (id, method) in p.methods.iter() {
            let owner = &p.modules[method.owner].name;
            let base = format!("{}__{}", sanitize(&method.name), sanitize(owner))
                .trim_end_matches('_')
                .to_string();
            methods[id] = items.claim(base, id.as_u32());
        }
        let mut statics = SecondaryMap::new();
        let mut fields = SecondaryMap::new();
        // Dynamic fields: unique along each inheritance chain, parents first.
        let mut chain_names: SecondaryMap<ModuleId, Vec<String>> = SecondaryMap::new();
        for m in parents_first(p) {
            let mut taken: Vec<String> = p.modules[m]
                .parent
                .map(|parent| chain_names[parent].clone())
                .unwrap_or_default();
            for &f in &p.modules[m].fields {
                let field = &p.fields[f];
                if field.is_static {
                    continue;
                }
                let mut name = sanitize(&field.name);
                if name.starts_with("vt_") || name.starts_with("_pad") || taken.contains(&name) {
                    name = format!("{name}_f{}", f.as_u32());
                }
                taken.push(name.clone());
                fields[f] = name;
            }
            chain_names[m] = taken;
        }
        for (f, field) in p.fields.iter() {
            if field.is_static {
                let owner = p.modules.get(field.owner).map_or("", |m| m.name.as_str());
                let base =
                    format!("{}_{}", sanitize(owner), sanitize(&field.name)).to_ascii_uppercase();
                statics[f] = items.claim(base, f.as_u32());
            }
        }
        let mut order: Vec<ExceptionId> = p.exceptions.keys().collect();
        order.sort_by(|a, b| {
            p.exceptions[*a]
                .name
                .cmp(&p.exceptions[*b].name)
                .then(a.cmp(b))
        });
        let mut exceptions = SecondaryMap::new();
        let mut exception_ids = SecondaryMap::new();
        let mut variants = Taken::default();
        for (i, x) in order.into_iter().enumerate() {
            exceptions[x] = variants.claim_camel(camel(&p.exceptions[x].name), x.as_u32());
            exception_ids[x] = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        Names {
            structs,
            methods,
            fields,
            statics,
            exceptions,
            exception_ids,
        }
    }

    /// The dispatch-table struct of an origin module.
    pub(crate) fn vtable_type(&self, origin: ModuleId) -> String {
        format!("Vt{}", self.structs[origin])
    }

    /// The dispatch slot of an origin module inside an object.
    pub(crate) fn vtable_slot(&self, origin: ModuleId) -> String {
        format!("vt_{}", self.structs[origin].to_ascii_lowercase())
    }

    /// The dispatch table of module `m` for origin `origin`.
    pub(crate) fn vtable_static(&self, m: ModuleId, origin: ModuleId) -> String {
        format!(
            "VT_{}_{}",
            self.structs[m].to_ascii_uppercase(),
            self.structs[origin].to_ascii_uppercase()
        )
    }
}

/// Modules ordered so that every parent comes before its children (then by id).
pub(crate) fn parents_first(p: &Program) -> Vec<ModuleId> {
    let mut done: SecondaryMap<ModuleId, bool> = SecondaryMap::new();
    let mut out = Vec::with_capacity(p.modules.len());
    for m in p.modules.keys() {
        let mut chain = Vec::new();
        let mut cur = Some(m);
        while let Some(c) = cur {
            if done[c] || chain.contains(&c) {
                break;
            }
            chain.push(c);
            cur = p.modules[c].parent;
        }
        for &c in chain.iter().rev() {
            done[c] = true;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_rust_identifiers() {
        assert_eq!(sanitize("snd-nxt"), "snd_nxt");
        assert_eq!(sanitize("S.closing"), "S_closing");
        assert_eq!(sanitize("type"), "type_");
        assert_eq!(sanitize("self"), "self_");
        assert_eq!(camel("Ping-Stack.peer-input"), "PingStackPeerInput");
        assert_eq!(camel("Exception"), "Exception_");
    }

    #[test]
    fn collisions_get_the_id() {
        let mut t = Taken::default();
        assert_eq!(t.claim("a".into(), 3), "a");
        assert_eq!(t.claim("a".into(), 4), "a_4");
        assert_eq!(t.claim("a".into(), 4), "a_4_2");
    }
}
