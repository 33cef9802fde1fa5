//! Prolac names inside host blocks (§12.10): identifiers that begin a path — not after `.`,
//! `->` or `::`, not inside the host language's strings or comments — are substituted when
//! they name `self`, a field of the receiver, a static field (also `Import.name`), a parameter
//! or `let` variable, or a symbolic constant (also `NS.name`). Other identifiers are the host's.

use prolac_syntax::HostLang;
use prolac_syntax::ast;

use super::{Fcx, Val};
use crate::ir::{ExprKind, HostRef, HostSubst};
use crate::sema::{Entry, Member};

/// Identifiers of host text that may name Prolac entities: byte range, and the identifier
/// after a following `.` if there is one.
fn identifiers(
    text: &str,
    lang: HostLang,
) -> Vec<(std::ops::Range<usize>, Option<std::ops::Range<usize>>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_start = |c: u8| c.is_ascii_alphabetic() || c == b'_';
    let ident_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let prev_sig = |i: usize| -> Option<(u8, u8)> {
        let mut j = i;
        while j > 0 && b[j - 1].is_ascii_whitespace() {
            j -= 1;
        }
        (j > 0).then(|| (b[j - 1], if j > 1 { b[j - 2] } else { b' ' }))
    };
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 1;
            i += 2;
            while i < b.len() && depth > 0 {
                if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                } else if lang == HostLang::Rust && b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3;
        } else if c == b'\'' && b.get(i + 1) == Some(&b'\\') {
            let close = b[i + 2..]
                .iter()
                .position(|&x| x == b'\'')
                .map_or(b.len(), |p| i + 3 + p);
            i = close;
        } else if ident_start(c) && (i == 0 || !ident_char(b[i - 1])) {
            let start = i;
            while i < b.len() && ident_char(b[i]) {
                i += 1;
            }
            let after_member = matches!(
                prev_sig(start),
                Some((b'.', _)) | Some((b'>', b'-')) | Some((b':', b':'))
            );
            if !after_member {
                let mut second = None;
                if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(|&x| ident_start(x)) {
                    let s2 = i + 1;
                    let mut j = s2;
                    while j < b.len() && ident_char(b[j]) {
                        j += 1;
                    }
                    second = Some(s2..j);
                }
                out.push((start..i, second));
            }
        } else {
            i += 1;
        }
    }
    out
}

impl<'a> Fcx<'_, 'a> {
    pub(crate) fn host(&mut self, h: &'a ast::HostText) -> Val {
        let text = h.text.to_string();
        let mut subst = Vec::new();
        for (range, second) in identifiers(&text, self.s.options.host) {
            let name = &text[range.clone()];
            if name == "self" {
                if self.self_local.is_some() {
                    subst.push(HostSubst {
                        range: range.start as u32..range.end as u32,
                        target: HostRef::SelfObject,
                    });
                }
                continue;
            }
            let Some(s) = self.s.names.get(name) else {
                continue;
            };
            if let Some((l, _)) = self.local(s) {
                subst.push(HostSubst {
                    range: range.start as u32..range.end as u32,
                    target: HostRef::Local(l),
                });
                continue;
            }
            let entry: Option<Entry> = self
                .ns_path
                .iter()
                .rev()
                .find_map(|ns| self.s.namespaces[*ns].entries.get(&s).copied());
            let Some(entry) = entry else { continue };
            let target = match entry.member {
                Member::Field(f) if self.s.ir.fields[f].is_static => {
                    Some((HostRef::Static(f), range.clone()))
                }
                Member::Field(f) if self.self_local.is_some() => {
                    Some((HostRef::Field(f), range.clone()))
                }
                Member::Static(m) => self
                    .s
                    .method_constant(m)
                    .map(|(c, t)| (HostRef::Const(c, t), range.clone())),
                Member::Namespace(_) | Member::Module(_) if second.is_some() => {
                    let second = second.clone().unwrap_or(0..0);
                    let Some(s2) = self.s.names.get(&text[second.clone()]) else {
                        continue;
                    };
                    let inner_ns = match entry.member {
                        Member::Namespace(ns2) => Some(ns2),
                        Member::Module(v) if self.s.materialize(v) => Some(self.s.views[v].ns),
                        _ => None,
                    };
                    let found =
                        inner_ns.and_then(|n| self.s.namespaces[n].entries.get(&s2).copied());
                    let full = range.start..second.end;
                    match found.map(|e| e.member) {
                        Some(Member::Field(f)) if self.s.ir.fields[f].is_static => {
                            Some((HostRef::Static(f), full))
                        }
                        Some(Member::Static(m)) => self
                            .s
                            .method_constant(m)
                            .map(|(c, t)| (HostRef::Const(c, t), full)),
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some((target, r)) = target {
                subst.push(HostSubst {
                    range: r.start as u32..r.end as u32,
                    target,
                });
            }
        }
        let t = self.bool_ty();
        self.val(ExprKind::Host { text, subst }, t, h.span)
    }
}

#[cfg(test)]
mod tests {
    use super::identifiers;
    use prolac_syntax::HostLang;

    fn names(text: &str) -> Vec<&str> {
        identifiers(text, HostLang::Rust)
            .into_iter()
            .map(|(r, _)| &text[r])
            .collect()
    }

    #[test]
    fn member_names_strings_and_comments_are_not_substituted() {
        assert_eq!(names("trace(seq, answered);"), ["trace", "seq", "answered"]);
        assert_eq!(names("a.b; c->d; e::f;"), ["a", "c", "e"]);
        assert_eq!(names("\"seq\" /* seq */ // seq\n x"), ["x"]);
    }
}
