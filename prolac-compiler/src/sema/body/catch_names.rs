//! Exceptions named in bodies (§10.3, §5.9): `catch` operands resolve to exceptions through
//! the module's namespaces, a module name, or the implicit search; anything else is an error.

use prolac_syntax::ast;
use prolac_syntax::codes::{P0409, P1002};
use prolac_syntax::{Diagnostic, Span};

use super::Fcx;
use super::names::{Res, Via};
use crate::ir::ExceptionId;
use crate::sema::{Entry, Member};

impl<'a> Fcx<'_, 'a> {
    /// A catch operand (§10.3).
    pub(crate) fn exception_name(&mut self, path: &'a [ast::Ident]) -> Option<ExceptionId> {
        let span = path[0].span.to(path[path.len() - 1].span);
        let text = path.iter().map(|p| &*p.text).collect::<Vec<_>>().join(".");
        let r = if path.len() == 1 {
            self.resolve_simple(&path[0])
        } else {
            let first = self.s.sym(&path[0]);
            let entry = self
                .ns_path
                .iter()
                .rev()
                .find_map(|ns| self.s.namespaces[*ns].entries.get(&first).copied());
            match entry {
                Some(Entry {
                    member: Member::Module(v),
                    ..
                }) => {
                    let target = self.s.views[v].module;
                    let parent = self.s.ir.modules[self.module].parent;
                    if target != self.module && Some(target) != parent {
                        self.s.error(
                            Diagnostic::new(
                                P1002,
                                span,
                                format!("`{text}` names an exception through an import"),
                            )
                            .with_help("admit it with `using` and catch it by its simple name"),
                        );
                        return None;
                    }
                    let mut cur = Res::Module(v);
                    for part in &path[1..] {
                        cur = self.step(cur, part, span);
                    }
                    cur
                }
                Some(Entry {
                    member:
                        Member::Field(_) | Member::Dynamic(_) | Member::Static(_) | Member::Constructor,
                    ..
                }) => {
                    self.s.error(
                        Diagnostic::new(P0409, span, format!("`{text}` is member access on a value, not a name"))
                            .with_label(format!("`{}` is a field or method", path[0].text))
                            .with_help("name the exception through its module (`Peer.stale`), or admit it with `using`"),
                    );
                    return None;
                }
                Some(_) => {
                    let mut cur = self.resolve_simple(&path[0]);
                    for part in &path[1..] {
                        cur = self.step(cur, part, span);
                    }
                    cur
                }
                None => self.undefined(&path[0]),
            }
        };
        match r {
            Res::Exception(x) => Some(x),
            Res::Value(v) if self.is_error(v) => None,
            _ => {
                self.not_exception(span, &text);
                None
            }
        }
    }

    pub(crate) fn step(&mut self, r: Res, part: &ast::Ident, span: Span) -> Res {
        let s = self.s.sym(part);
        match r {
            Res::Module(v) => {
                if !self.s.materialize(v) {
                    return Res::Value(self.error_val(span));
                }
                let ns = self.s.views[v].ns;
                match self.s.namespaces[ns].entries.get(&s).copied() {
                    Some(e) => self.entry_res(e, s, None, Via::ModuleName(v), span),
                    None => self.not_a_member(part, span),
                }
            }
            Res::Ns {
                ns, object, via, ..
            } => match self.s.namespaces[ns].entries.get(&s).copied() {
                Some(e) => self.entry_res(e, s, object, via, span),
                None => self.not_a_member(part, span),
            },
            other => other,
        }
    }
}
