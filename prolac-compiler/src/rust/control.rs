//! Control flow of function bodies (see [`super::body`]): `catch` as labelled blocks, raises
//! and exception routing after calls, self tail calls as labelled loops, host blocks with
//! Prolac names substituted.

use cranelift_entity::EntityRef;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::body::{CatchFrame, Code, Fx, LoopFrame, Prec, Target, block_of_tail};
use super::names::ident;
use crate::ir::{ExceptionId, ExprId, Handles, HostRef, LocalId, TypeKind};

impl Fx<'_, '_> {
    /// The handler for exceptions `xs` held in `e`.
    pub(super) fn route(&mut self, xs: &[ExceptionId]) -> TokenStream {
        let mut groups: Vec<(Target, Vec<ExceptionId>)> = Vec::new();
        for &x in xs {
            let t = self.target(x);
            match groups.iter_mut().find(|(g, _)| *g == t) {
                Some((_, v)) => v.push(x),
                None => groups.push((t, vec![x])),
            }
        }
        if groups.len() == 1 {
            return self.jump(groups[0].0, quote!(e));
        }
        let last = groups.pop().map(|g| g.0).unwrap_or(Target::Return);
        let mut arms = Vec::new();
        for (t, xs) in groups {
            let pats: Vec<TokenStream> = xs
                .iter()
                .map(|&x| {
                    let v = ident(&self.g.names.exceptions[x]);
                    quote!(Exception::#v)
                })
                .collect();
            let j = self.jump(t, quote!(e));
            arms.push(quote!(#(#pats)|* => #j,));
        }
        let j = self.jump(last, quote!(e));
        quote!(match e { #(#arms)* _ => #j })
    }

    /// The innermost handler of `x`.
    pub(super) fn target(&self, x: ExceptionId) -> Target {
        for (i, f) in self.catches.iter().enumerate().rev() {
            if f.handles.covers(x) {
                return Target::Catch(i);
            }
        }
        Target::Return
    }

    pub(super) fn jump(&mut self, t: Target, exception: TokenStream) -> TokenStream {
        match t {
            Target::Catch(i) => {
                let f = &mut self.catches[i];
                f.used = true;
                let label = &f.label;
                if f.value {
                    quote!(break #label true)
                } else {
                    quote!(break #label)
                }
            }
            Target::Return => {
                let _ = self.method;
                quote!(return Err(#exception))
            }
        }
    }

    /// `body catch handles`: a labelled block yielding whether a handled exception escaped.
    pub(super) fn catch(&mut self, body: ExprId, handles: Handles, value: bool) -> Code {
        let label = self.label("catch");
        self.catches.push(CatchFrame {
            label,
            handles,
            value,
            used: false,
        });
        let mut stmts = Vec::new();
        let never = self.stmts(body, &mut stmts);
        let frame = self.catches.pop();
        let tail = (!never && value).then(|| quote!(false));
        match frame {
            Some(f) if f.used => {
                let label = f.label;
                Code::new(quote!(#label: { #(#stmts)* #tail }), Prec::Atom).blocky()
            }
            _ if stmts.is_empty() => match tail {
                Some(t) => Code::new(t, Prec::Atom).pure(),
                None => Code::new(quote!(()), Prec::Atom).pure(),
            },
            _ => Code::block(stmts, tail, never),
        }
    }

    pub(super) fn looped(&mut self, vars: Vec<LocalId>, body: ExprId, value: bool) -> Code {
        let label = self.label("tail");
        self.loops.push(LoopFrame {
            label,
            vars,
            used: false,
        });
        let void = !value || matches!(self.tk(self.ty_of(body)), TypeKind::Void | TypeKind::Never);
        let (inner, never) = if void {
            let mut stmts = Vec::new();
            let never = self.stmts(body, &mut stmts);
            if never {
                (quote!(#(#stmts)*), true)
            } else {
                (quote!(#(#stmts)* break;), false)
            }
        } else {
            let c = self.value(body);
            if c.never {
                let ts = c.inner();
                (quote!(#ts), true)
            } else {
                let ts = c.ts;
                (quote!(break #ts;), false)
            }
        };
        let frame = self.loops.pop();
        let ts = match frame {
            Some(f) if f.used => {
                let label = f.label;
                quote!(#label: loop { #inner })
            }
            _ => quote!(loop { #inner }),
        };
        let mut c = Code::new(ts, Prec::Atom).blocky();
        c.never = never;
        c
    }

    pub(super) fn recur(&mut self, args: &[ExprId]) -> Code {
        let values = match self.operands(args) {
            Ok(v) => v,
            Err(c) => return c,
        };
        let Some(frame) = self.loops.last_mut() else {
            return Code::never(quote!(unreachable!("restart outside a loop")));
        };
        frame.used = true;
        let label = frame.label.clone();
        let vars = frame.vars.clone();
        let mut stmts = Vec::new();
        let mut assigns = Vec::new();
        for (i, (v, c)) in vars.iter().zip(values).enumerate() {
            let var = self.locals[v.index()].clone();
            if var == c.ts.to_string() {
                continue;
            }
            let t = format_ident!("next_{i}");
            let ts = c.ts;
            stmts.push(quote!(let #t = #ts;));
            assigns.push(quote!(#var = #t;));
        }
        stmts.extend(assigns);
        block_of_tail(stmts, quote!(continue #label))
    }

    /// A host block with Prolac names substituted.
    pub(super) fn host(
        &mut self,
        e: ExprId,
        text: &str,
        subst: &[crate::ir::HostSubst],
    ) -> Option<TokenStream> {
        self.has_host = true;
        let span = self.body.exprs[e].span;
        if self.g.first_host_span.is_none() {
            self.g.first_host_span = Some(span);
        }
        let mut subst: Vec<_> = subst.to_vec();
        subst.sort_by_key(|s| s.range.start);
        let mut out = String::with_capacity(text.len() + 64);
        let mut at = 0usize;
        for s in &subst {
            let (lo, hi) = (s.range.start as usize, s.range.end as usize);
            if lo < at
                || hi > text.len()
                || !text.is_char_boundary(lo)
                || !text.is_char_boundary(hi)
            {
                continue;
            }
            out.push_str(&text[at..lo]);
            let replacement = match s.target {
                HostRef::SelfObject => {
                    self.needs_unsafe = true;
                    "(*this)".to_string()
                }
                HostRef::Field(f) => {
                    self.needs_unsafe = true;
                    format!("(*this).{}", self.g.names.fields[f])
                }
                HostRef::Static(f) => {
                    self.needs_unsafe = true;
                    format!("(*&raw mut {})", self.g.names.statics[f])
                }
                HostRef::Local(l) => self.locals[l.index()].to_string(),
                HostRef::Const(c, t) => self.constant(c, t).at(Prec::Atom).to_string(),
            };
            out.push_str(&replacement);
            at = hi;
        }
        out.push_str(&text[at.min(text.len())..]);
        match super::host_tokens(&out) {
            Some(ts) => Some(quote!({ #ts })),
            None => {
                self.g.diagnostics.push(
                    prolac_syntax::Diagnostic::new(
                        prolac_syntax::codes::P1107,
                        span,
                        "this host block is not valid Rust".to_string(),
                    )
                    .with_help("host blocks hold Rust statements; check delimiters and literals"),
                );
                None
            }
        }
    }
}
