//! Operators, conversions and constants of function bodies (see [`super::body`]): wrapping
//! integer arithmetic, circular `seqint` comparison, pointer arithmetic, typed literals.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::body::{Code, Fx, Prec, block_of};
use super::items::int_name;
use super::names::ident;
use crate::ir::{BinOp, ConvKind, ExprId, TypeId, TypeKind};

impl Fx<'_, '_> {
    pub(super) fn constant(&self, c: crate::ir::Const, ty: TypeId) -> Code {
        let code = match self.tk(ty) {
            TypeKind::Bool => {
                if c.0 != 0 {
                    Code::new(quote!(true), Prec::Atom)
                } else {
                    Code::new(quote!(false), Prec::Atom)
                }
            }
            TypeKind::Int { width, signed } => {
                let name = int_name(width, signed);
                let bits = width.bits();
                if signed {
                    let v = c.0 as i64;
                    let min = if bits == 64 {
                        i64::MIN
                    } else {
                        -(1i64 << (bits - 1))
                    };
                    if v == min {
                        let t = ident(name);
                        Code::new(quote!(#t::MIN), Prec::Atom)
                    } else if v < 0 {
                        let lit: TokenStream = format!("{}{name}", v.unsigned_abs())
                            .parse()
                            .unwrap_or_default();
                        Code::new(quote!(-#lit), Prec::Unary)
                    } else {
                        let lit: TokenStream = format!("{v}{name}").parse().unwrap_or_default();
                        Code::new(lit, Prec::Atom)
                    }
                } else {
                    let lit: TokenStream = format!("{}{name}", c.0).parse().unwrap_or_default();
                    Code::new(lit, Prec::Atom)
                }
            }
            TypeKind::SeqInt => {
                let lit = Literal::u32_suffixed(c.0 as u32);
                Code::new(quote!(#lit), Prec::Atom)
            }
            TypeKind::Ptr(t) => {
                let p = self.pointee(t);
                if c.0 == 0 {
                    Code::new(quote!(core::ptr::null_mut::<#p>()), Prec::Atom)
                } else {
                    let lit = Literal::usize_unsuffixed(c.0 as usize);
                    Code::new(
                        quote!(core::ptr::without_provenance_mut::<#p>(#lit)),
                        Prec::Atom,
                    )
                }
            }
            _ => Code::new(quote!(()), Prec::Atom),
        };
        code.pure()
    }

    pub(super) fn binary(&mut self, op: BinOp, ty: TypeId, a: Code, b: Code) -> Code {
        let pure = a.pure && b.pure;
        let kind = self.tk(ty);
        let seq = kind == TypeKind::SeqInt;
        let method = |name: &str, a: &Code, b: &Code| {
            let m = format_ident!("{name}");
            let at = a.at(Prec::Atom);
            let bt = &b.ts;
            Code::new(quote!(#at.#m(#bt)), Prec::Atom)
        };
        let infix = |tok: TokenStream, prec: Prec, a: &Code, b: &Code| {
            let min = if prec == Prec::Cmp { Prec::BitOr } else { prec };
            // `x as T < y` would parse as generics: parenthesise casts on the left.
            let at = if a.prec == Prec::As {
                a.at(Prec::Unary)
            } else {
                a.at(min)
            };
            let bt = b.at(if prec == Prec::Cmp {
                Prec::BitOr
            } else {
                next(prec)
            });
            Code::new(quote!(#at #tok #bt), prec)
        };
        let mut out = match op {
            BinOp::Add => method("wrapping_add", &a, &b),
            BinOp::Sub => method("wrapping_sub", &a, &b),
            BinOp::Mul => method("wrapping_mul", &a, &b),
            BinOp::Div => method("wrapping_div", &a, &b),
            BinOp::Rem => method("wrapping_rem", &a, &b),
            BinOp::Shl | BinOp::Shr => {
                let name = if op == BinOp::Shl {
                    "wrapping_shl"
                } else {
                    "wrapping_shr"
                };
                let m = format_ident!("{name}");
                let at = a.at(Prec::Atom);
                let bt = b.at(Prec::Unary);
                Code::new(quote!(#at.#m(#bt as u32)), Prec::Atom)
            }
            BinOp::BitAnd => infix(quote!(&), Prec::BitAnd, &a, &b),
            BinOp::BitOr => infix(quote!(|), Prec::BitOr, &a, &b),
            BinOp::BitXor => infix(quote!(^), Prec::BitXor, &a, &b),
            BinOp::Eq | BinOp::Ne if is_null(&a) || is_null(&b) => {
                let p = if is_null(&b) { &a } else { &b };
                let pt = p.at(Prec::Atom);
                if op == BinOp::Eq {
                    Code::new(quote!(#pt.is_null()), Prec::Atom)
                } else {
                    Code::new(quote!(!#pt.is_null()), Prec::Unary)
                }
            }
            BinOp::Eq => infix(quote!(==), Prec::Cmp, &a, &b),
            BinOp::Ne => infix(quote!(!=), Prec::Cmp, &a, &b),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge if seq => {
                let tok = match op {
                    BinOp::Lt => quote!(<),
                    BinOp::Le => quote!(<=),
                    BinOp::Gt => quote!(>),
                    _ => quote!(>=),
                };
                let d = method("wrapping_sub", &a, &b).ts;
                Code::new(quote!((#d as i32) #tok 0), Prec::Cmp)
            }
            BinOp::Lt => infix(quote!(<), Prec::Cmp, &a, &b),
            BinOp::Le => infix(quote!(<=), Prec::Cmp, &a, &b),
            BinOp::Gt => infix(quote!(>), Prec::Cmp, &a, &b),
            BinOp::Ge => infix(quote!(>=), Prec::Cmp, &a, &b),
            BinOp::Min | BinOp::Max if seq => {
                let (x, y) = (self.temp("x"), self.temp("y"));
                let (at, bt) = (a.ts, b.ts);
                let cmp = if op == BinOp::Min {
                    quote!(<)
                } else {
                    quote!(>)
                };
                Code::block(
                    vec![quote!(let #x = #at;), quote!(let #y = #bt;)],
                    Some(quote!(if (#x.wrapping_sub(#y) as i32) #cmp 0 { #x } else { #y })),
                    false,
                )
            }
            BinOp::Min => {
                let (at, bt) = (a.ts, b.ts);
                Code::new(quote!(core::cmp::min(#at, #bt)), Prec::Atom)
            }
            BinOp::Max => {
                let (at, bt) = (a.ts, b.ts);
                Code::new(quote!(core::cmp::max(#at, #bt)), Prec::Atom)
            }
            BinOp::PtrAdd => {
                let at = a.at(Prec::Atom);
                let bt = b.at(Prec::Unary);
                match kind {
                    TypeKind::Ptr(t) if matches!(self.tk(t), TypeKind::Void | TypeKind::Never) => {
                        Code::new(
                            quote!(#at.cast::<u8>().wrapping_offset(#bt as isize).cast::<core::ffi::c_void>()),
                            Prec::Atom,
                        )
                    }
                    _ => Code::new(quote!(#at.wrapping_offset(#bt as isize)), Prec::Atom),
                }
            }
            BinOp::PtrDiff => {
                let elem = match kind {
                    TypeKind::Ptr(t) => self.pointee(t),
                    _ => quote!(u8),
                };
                let at = a.at(Prec::Unary);
                let bt = b.at(Prec::Unary);
                Code::new(
                    quote!(((#at as usize).wrapping_sub(#bt as usize) as isize
                        / core::mem::size_of::<#elem>().max(1) as isize) as i64),
                    Prec::As,
                )
            }
        };
        out.pure = pure;
        out
    }

    pub(super) fn convert(&mut self, kind: ConvKind, x: ExprId, to: TypeId) -> Code {
        if kind == ConvKind::Decay {
            let p = self.place(x);
            if p.never {
                return p;
            }
            let elem = match self.tk(to) {
                TypeKind::Ptr(t) => self.pointee(t),
                _ => quote!(u8),
            };
            let pure = p.pure;
            let pt = p.at(Prec::Unary);
            let mut out = Code::new(quote!((&raw mut #pt).cast::<#elem>()), Prec::Atom);
            out.pure = pure;
            return out;
        }
        if kind == ConvKind::ToVoid {
            let mut stmts = Vec::new();
            let never = self.stmts(x, &mut stmts);
            if stmts.is_empty() {
                return Code::new(quote!(()), Prec::Atom).pure();
            }
            return block_of(stmts, never);
        }
        let from = self.ty_of(x);
        let c = self.value(x);
        if c.never {
            return c;
        }
        let pure = c.pure;
        let mut out = match kind {
            ConvKind::Int => {
                if self.g.ty(from).to_string() == self.g.ty(to).to_string() {
                    return c;
                }
                let ts = c.at(Prec::Unary);
                let t = self.g.ty(to);
                Code::new(quote!(#ts as #t), Prec::As)
            }
            ConvKind::ToBool => match self.tk(from) {
                TypeKind::Bool => return c,
                TypeKind::Ptr(_) => {
                    let ts = c.at(Prec::Atom);
                    Code::new(quote!(!#ts.is_null()), Prec::Unary)
                }
                _ => {
                    let ts = if c.prec == Prec::As {
                        c.at(Prec::Unary)
                    } else {
                        c.at(Prec::BitOr)
                    };
                    Code::new(quote!(#ts != 0), Prec::Cmp)
                }
            },
            ConvKind::FromBool => {
                let t = self.g.ty(to);
                let ts = c.ts;
                Code::new(quote!(#t::from(#ts)), Prec::Atom)
            }
            ConvKind::Ptr => {
                if self.g.ty(from).to_string() == self.g.ty(to).to_string() {
                    return c;
                }
                let p = match self.tk(to) {
                    TypeKind::Ptr(t) => self.pointee(t),
                    _ => quote!(u8),
                };
                let ts = c.at(Prec::Atom);
                Code::new(quote!(#ts.cast::<#p>()), Prec::Atom)
            }
            ConvKind::Decay | ConvKind::ToVoid => c,
        };
        out.pure = pure;
        out
    }
}

/// True for the null pointer constant.
fn is_null(c: &Code) -> bool {
    c.pure && c.ts.to_string().starts_with("core :: ptr :: null_mut")
}

/// The next stronger precedence (for right operands of left-associative operators).
fn next(p: Prec) -> Prec {
    match p {
        Prec::Jump => Prec::Or,
        Prec::Or => Prec::And,
        Prec::And => Prec::Cmp,
        Prec::Cmp => Prec::BitOr,
        Prec::BitOr => Prec::BitXor,
        Prec::BitXor => Prec::BitAnd,
        Prec::BitAnd => Prec::Shift,
        Prec::Shift => Prec::Add,
        Prec::Add => Prec::Mul,
        Prec::Mul => Prec::As,
        Prec::As => Prec::Unary,
        Prec::Unary | Prec::Atom => Prec::Atom,
    }
}
