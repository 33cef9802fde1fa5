//! Assignments of function bodies (see [`super::body`]): `place = value` and the updating
//! operators, evaluating a place with side effects once, through a raw pointer.

use proc_macro2::TokenStream;
use quote::quote;

use super::body::{Code, Fx, Prec, stmt};
use crate::ir::{BinOp, ExprId, Yields};

impl Fx<'_, '_> {
    /// `place = value`; pushes statements, the last one yielding the value when `want`.
    pub(super) fn assign(
        &mut self,
        place: ExprId,
        value: ExprId,
        want: bool,
        out: &mut Vec<TokenStream>,
    ) -> bool {
        let p = self.place(place);
        if p.never {
            out.push(stmt(p));
            return true;
        }
        if p.pure {
            let v = self.value(value);
            if v.never {
                out.push(stmt(v));
                return true;
            }
            let pt = p.ts;
            if want {
                let t = self.temp("v");
                let vt = v.ts;
                out.push(quote!(let #t = #vt;));
                out.push(quote!(#pt = #t;));
                out.push(quote!(#t));
            } else {
                let vt = v.ts;
                out.push(quote!(#pt = #vt;));
            }
        } else {
            self.needs_unsafe = true;
            let ptr = self.temp("p");
            let pt = p.at(Prec::Unary);
            out.push(quote!(let #ptr = &raw mut #pt;));
            let v = self.value(value);
            if v.never {
                out.push(stmt(v));
                return true;
            }
            let vt = v.ts;
            if want {
                let t = self.temp("v");
                out.push(quote!(let #t = #vt;));
                out.push(quote!(*#ptr = #t;));
                out.push(quote!(#t));
            } else {
                out.push(quote!(*#ptr = #vt;));
            }
        }
        false
    }

    /// `place op= value` (and `++`, `--`, `min=`, `max=`).
    pub(super) fn update(
        &mut self,
        place: ExprId,
        op: BinOp,
        value: ExprId,
        yields: Yields,
        want: bool,
        out: &mut Vec<TokenStream>,
    ) -> bool {
        let ty = self.ty_of(place);
        let p = self.place(place);
        if p.never {
            out.push(stmt(p));
            return true;
        }
        let place_ts = if p.pure {
            p.ts.clone()
        } else {
            self.needs_unsafe = true;
            let ptr = self.temp("p");
            let pt = p.at(Prec::Unary);
            out.push(quote!(let #ptr = &raw mut #pt;));
            quote!(*#ptr)
        };
        let old = self.temp("old");
        out.push(quote!(let #old = #place_ts;));
        let v = self.value(value);
        if v.never {
            out.push(stmt(v));
            return true;
        }
        let new = self.binary(op, ty, Code::new(quote!(#old), Prec::Atom), v);
        let nt = new.ts;
        if want {
            let n = self.temp("new");
            out.push(quote!(let #n = #nt;));
            out.push(quote!(#place_ts = #n;));
            out.push(match yields {
                Yields::New => quote!(#n),
                Yields::Old => quote!(#old),
            });
        } else {
            out.push(quote!(#place_ts = #nt;));
        }
        false
    }
}
