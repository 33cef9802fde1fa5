//! Function bodies: the structured expression IR to Rust expressions and statements.
//!
//! Prolac is expression-oriented like Rust, so most nodes map one to one. The points of care:
//!
//! - **Precedence.** Every emitted expression carries its Rust precedence; an operand is
//!   parenthesised only where Rust needs it, so the output has no unnecessary parentheses.
//! - **Evaluation order** is left to right as in Prolac: operands, arguments and
//!   `place op= value` evaluate in source order; a place with side effects is evaluated once
//!   through a raw pointer.
//! - **Arithmetic** wraps at the type's width (`wrapping_*`); division traps only on zero;
//!   shift counts are taken modulo the width; `seqint` compares circularly.
//! - **Divergence.** A raise, a loop restart or an abort has type `!`; code after it is not
//!   emitted, so the output has no unreachable code.
//! - **Exceptions.** `catch` becomes a labelled block; a raise breaks out of the innermost
//!   block that handles it or returns `Err`; a call to a method that can raise matches its
//!   `Result` and routes each exception the same way.
//! - **Loops.** Self tail calls arrive as `Loop`/`Recur`: a labelled `loop` whose restart
//!   assigns the loop variables and `continue`s.

use cranelift_entity::EntityRef;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::items::Gen;
use super::names::{Taken, ident, sanitize};
use crate::ir::{
    Body, Callee, ConvKind, ExprId, ExprKind, Handles, LocalId, MethodId, MethodKind, TypeId,
    TypeKind, UnOp,
};

/// Rust operator precedence, weakest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) enum Prec {
    /// `return`, `break`, `continue`, assignment.
    Jump,
    Or,
    And,
    Cmp,
    BitOr,
    BitXor,
    BitAnd,
    Shift,
    Add,
    Mul,
    As,
    Unary,
    /// Literals, paths, calls, method calls, field access, blocks.
    Atom,
}

/// An emitted expression.
pub(super) struct Code {
    pub(super) ts: TokenStream,
    pub(super) prec: Prec,
    /// Never completes.
    pub(super) never: bool,
    /// Has no side effects (may be dropped or evaluated twice).
    pub(super) pure: bool,
    /// A block `{ stmts; tail }` whose contents can be spliced into another block.
    pub(super) block: Option<(Vec<TokenStream>, Option<TokenStream>)>,
    /// A block-like expression (`{…}`, `if`, `match`, `loop`): parenthesised as an operand,
    /// since at the start of a statement Rust would end the expression after it.
    pub(super) blocklike: bool,
    /// A call of a function (its result may be ignored without `let _`).
    pub(super) call: bool,
}

impl Code {
    pub(super) fn new(ts: TokenStream, prec: Prec) -> Code {
        Code {
            ts,
            prec,
            never: false,
            pure: false,
            block: None,
            blocklike: false,
            call: false,
        }
    }

    pub(super) fn blocky(mut self) -> Code {
        self.blocklike = true;
        self
    }

    pub(super) fn pure(mut self) -> Code {
        self.pure = true;
        self
    }

    pub(super) fn never(ts: TokenStream) -> Code {
        Code {
            never: true,
            ..Code::new(ts, Prec::Jump)
        }
    }

    pub(super) fn block(stmts: Vec<TokenStream>, tail: Option<TokenStream>, never: bool) -> Code {
        let ts = quote!({ #(#stmts)* #tail });
        Code {
            ts,
            prec: Prec::Atom,
            never,
            pure: false,
            block: Some((stmts, tail)),
            blocklike: true,
            call: false,
        }
    }

    /// The tokens, parenthesised if weaker than `min`.
    pub(super) fn at(&self, min: Prec) -> TokenStream {
        let ts = &self.ts;
        if self.prec < min || (self.blocklike && min > Prec::Jump) {
            quote!((#ts))
        } else {
            ts.clone()
        }
    }

    /// The contents to put between braces.
    pub(super) fn inner(&self) -> TokenStream {
        match &self.block {
            Some((stmts, tail)) => quote!(#(#stmts)* #tail),
            None => self.ts.clone(),
        }
    }
}

/// Where a raise goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// The catch frame at this index.
    Catch(usize),
    /// Out of the method.
    Return,
}

pub(super) struct CatchFrame {
    pub(super) label: syn::Lifetime,
    pub(super) handles: Handles,
    /// The block yields `bool` (used as a value) rather than `()`.
    pub(super) value: bool,
    pub(super) used: bool,
}

pub(super) struct LoopFrame {
    pub(super) label: syn::Lifetime,
    pub(super) vars: Vec<LocalId>,
    pub(super) used: bool,
}

/// The state of one function's emission.
pub(super) struct Fx<'g, 'a> {
    pub(super) g: &'g mut Gen<'a>,
    pub(super) body: &'a Body,
    pub(super) method: MethodId,
    pub(super) locals: Vec<proc_macro2::Ident>,
    pub(super) catches: Vec<CatchFrame>,
    pub(super) loops: Vec<LoopFrame>,
    pub(super) labels: u32,
    pub(super) temps: u32,
    pub(super) needs_unsafe: bool,
    pub(super) has_host: bool,
}

/// Emits the function (and entry wrapper) of method `m`.
pub(crate) fn function(g: &mut Gen<'_>, m: MethodId) -> TokenStream {
    let ir = g.ir;
    let method = &ir.methods[m];
    let name = ident(&g.fn_name(m));
    let ret = g.ret_ty(m);
    let owner = &ir.modules[method.owner].name;
    let what = if method.has_receiver() {
        format!("`{owner}.{}`", method.name)
    } else {
        format!("static `{owner}.{}`", method.name)
    };
    let doc = g.origin_doc(&what, method.span);
    let vis = if g.exported.contains(&m) && !g.needs_wrapper(m) {
        quote!(pub)
    } else {
        TokenStream::new()
    };
    let mut out = TokenStream::new();
    let Some(body) = &method.body else {
        // A method without body: calling it aborts.
        let mut params = Vec::new();
        if method.has_receiver() {
            let owner_ty = ident(&g.names.structs[method.owner]);
            params.push(quote!(_this: *mut #owner_ty));
        }
        for (i, &t) in method.params.iter().enumerate() {
            let id = format_ident!("_a{i}");
            let ty = g.ty(t);
            params.push(quote!(#id: #ty));
        }
        let msg = format!("`{owner}.{}` has no body", method.name);
        out.extend(quote! {
            #doc
            #[allow(dead_code, non_snake_case)]
            #vis fn #name(#(#params),*) #ret { panic!(#msg) }
        });
        out.extend(super::entry::entry_wrapper(g, m));
        return out;
    };
    let mut fx = Fx {
        g,
        body,
        method: m,
        locals: Vec::new(),
        catches: Vec::new(),
        loops: Vec::new(),
        labels: 0,
        temps: 0,
        needs_unsafe: false,
        has_host: false,
    };
    let mut taken = Taken::default();
    for (l, local) in body.locals.iter() {
        let base = if local.name == "self" {
            "this".to_string()
        } else {
            sanitize(&local.name)
        };
        let name = taken.claim(base, l.as_u32());
        fx.locals.push(ident(&name));
    }
    let receiver = usize::from(method.has_receiver());
    let n_params = receiver + method.params.len();
    let mut params = Vec::new();
    for (i, (l, local)) in body.locals.iter().enumerate().take(n_params) {
        let id = &fx.locals[l.index()];
        let ty = fx.g.ty(local.ty);
        let _ = i;
        params.push(quote!(mut #id: #ty));
    }
    let mut stmts = Vec::new();
    for (l, local) in body.locals.iter().skip(n_params) {
        if matches!(ir.types.kind(local.ty), TypeKind::Void | TypeKind::Never) {
            continue;
        }
        let id = &fx.locals[l.index()];
        let ty = fx.g.ty(local.ty);
        let z = fx.g.zero(local.ty);
        stmts.push(quote!(let mut #id: #ty = #z;));
    }
    let raises = !method.raises.is_empty();
    let void = matches!(ir.types.kind(method.ret), TypeKind::Void | TypeKind::Never);
    let tail = match body.root {
        None => {
            if raises {
                Some(quote!(Ok(())))
            } else {
                None
            }
        }
        Some(root) if void => {
            let diverged = fx.stmts(root, &mut stmts);
            match (diverged, raises) {
                (true, _) => None,
                (false, true) => Some(quote!(Ok(()))),
                (false, false) => None,
            }
        }
        Some(root) => {
            let code = fx.value(root);
            if code.never {
                if let Some((s, t)) = code.block {
                    stmts.extend(s);
                    t
                } else {
                    Some(code.ts)
                }
            } else if raises {
                let ts = &code.ts;
                Some(quote!(Ok(#ts)))
            } else if let Some((s, t)) = code.block {
                stmts.extend(s);
                t
            } else {
                Some(code.ts)
            }
        }
    };
    let inner = quote!(#(#stmts)* #tail);
    let block = if fx.needs_unsafe {
        quote!({ unsafe { #inner } })
    } else {
        quote!({ #inner })
    };
    let unused_unsafe = if fx.has_host {
        quote!(unused_unsafe, unused_parens,)
    } else {
        TokenStream::new()
    };
    out.extend(quote! {
        #doc
        #[allow(unknown_lints, dangling_pointers_from_locals, dead_code, non_snake_case, unconditional_recursion, unused_comparisons, unused_mut, unused_variables, unused_assignments, #unused_unsafe)]
        #vis fn #name(#(#params),*) #ret #block
    });
    out.extend(super::entry::entry_wrapper(fx.g, m));
    out
}

impl Fx<'_, '_> {
    fn kind(&self, e: ExprId) -> &ExprKind {
        &self.body.exprs[e].kind
    }

    pub(super) fn ty_of(&self, e: ExprId) -> TypeId {
        self.body.exprs[e].ty
    }

    pub(super) fn tk(&self, t: TypeId) -> TypeKind {
        self.g.ir.types.kind(t)
    }

    pub(super) fn label(&mut self, prefix: &str) -> syn::Lifetime {
        self.labels += 1;
        syn::Lifetime::new(
            &format!("'{prefix}{}", self.labels),
            proc_macro2::Span::call_site(),
        )
    }

    pub(super) fn temp(&mut self, prefix: &str) -> proc_macro2::Ident {
        self.temps += 1;
        format_ident!("{prefix}{}", self.temps)
    }

    /// `if c { t } else { f }` as a value.
    fn if_value(&mut self, c: Code, t: Code, f: Code) -> Code {
        let (before, cond) = self.condition(c);
        let (ti, fi) = (t.inner(), f.inner());
        let never = t.never && f.never;
        let expr = quote!(if #cond { #ti } else { #fi });
        if before.is_empty() {
            let mut out = Code::new(expr.clone(), Prec::Atom).blocky();
            out.never = never;
            out.block = Some((Vec::new(), Some(expr)));
            out
        } else {
            Code::block(before, Some(expr), never)
        }
    }

    /// Splits a condition into statements to run first and a simple expression, so that no
    /// block appears between `if` and its braces.
    fn condition(&mut self, c: Code) -> (Vec<TokenStream>, TokenStream) {
        match c.block {
            Some((stmts, Some(tail))) => {
                if !starts_block(&tail) {
                    (stmts, tail)
                } else {
                    let t = self.temp("cond");
                    let mut stmts = stmts;
                    stmts.push(quote!(let #t = #tail;));
                    (stmts, quote!(#t))
                }
            }
            _ if c.blocklike => {
                let t = self.temp("cond");
                let ts = c.ts;
                (vec![quote!(let #t = #ts;)], quote!(#t))
            }
            _ => (Vec::new(), c.ts),
        }
    }

    /// Emits operands in order; if one never completes, returns the block that evaluates the
    /// earlier ones for their effects and then it.
    pub(super) fn operands(&mut self, es: &[ExprId]) -> Result<Vec<Code>, Code> {
        let mut out: Vec<Code> = Vec::with_capacity(es.len());
        for &e in es {
            let c = self.value(e);
            if c.never {
                let mut stmts: Vec<TokenStream> = out
                    .iter()
                    .filter(|c| !c.pure)
                    .map(|c| {
                        let ts = &c.ts;
                        quote!(let _ = #ts;)
                    })
                    .collect();
                if stmts.is_empty() {
                    return Err(c);
                }
                let (s, t) = match c.block {
                    Some((s, t)) => (s, t),
                    None => (Vec::new(), Some(c.ts)),
                };
                stmts.extend(s);
                return Err(Code::block(stmts, t, true));
            }
            out.push(c);
        }
        Ok(out)
    }

    /// Emits `e` for its effects; returns true if it never completes.
    pub(super) fn stmts(&mut self, e: ExprId, out: &mut Vec<TokenStream>) -> bool {
        crate::deep(|| self.stmts_now(e, out))
    }

    fn stmts_now(&mut self, e: ExprId, out: &mut Vec<TokenStream>) -> bool {
        match self.kind(e).clone() {
            ExprKind::Seq(items) => {
                for i in items {
                    if self.stmts(i, out) {
                        return true;
                    }
                }
                false
            }
            ExprKind::Convert(ConvKind::ToVoid, x) | ExprKind::Cold { expr: x, .. } => {
                self.stmts(x, out)
            }
            ExprKind::Assign { place, value } => self.assign(place, value, false, out),
            ExprKind::Update {
                place,
                op,
                value,
                yields,
            } => self.update(place, op, value, yields, false, out),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.value(cond);
                if c.never {
                    out.push(stmt(c));
                    return true;
                }
                let mut t = Vec::new();
                let t_never = self.stmts(then, &mut t);
                let mut f = Vec::new();
                let f_never = match otherwise {
                    Some(o) => self.stmts(o, &mut f),
                    None => false,
                };
                let (before, cond) = self.condition(c);
                out.extend(before);
                if f.is_empty() {
                    out.push(quote!(if #cond { #(#t)* }));
                } else {
                    out.push(quote!(if #cond { #(#t)* } else { #(#f)* }));
                }
                t_never && f_never
            }
            ExprKind::Catch { body, handles } => {
                let c = self.catch(body, handles, false);
                if c.pure {
                    return false;
                }
                let never = c.never;
                out.push(stmt(c));
                never
            }
            ExprKind::Loop { vars, body } => {
                let c = self.looped(vars, body, false);
                let never = c.never;
                out.push(c.ts);
                never
            }
            ExprKind::Host { text, subst } => {
                if let Some(ts) = self.host(e, &text, &subst) {
                    out.push(ts);
                }
                false
            }
            _ => {
                let before = self.needs_unsafe;
                let c = self.value(e);
                if c.pure && !c.never {
                    // Dropped: it must not make the body unsafe.
                    self.needs_unsafe = before;
                    return false;
                }
                let never = c.never;
                out.push(stmt(c));
                never
            }
        }
    }

    /// Emits `e` as a value.
    pub(super) fn value(&mut self, e: ExprId) -> Code {
        crate::deep(|| self.value_now(e))
    }

    fn value_now(&mut self, e: ExprId) -> Code {
        let ty = self.ty_of(e);
        match self.kind(e).clone() {
            ExprKind::Const(c) => self.constant(c, ty),
            ExprKind::Str(bytes) => {
                let mut b = bytes.clone();
                b.push(0);
                let lit = Literal::byte_string(&b);
                let pointee = match self.tk(ty) {
                    TypeKind::Ptr(t) => self.pointee(t),
                    _ => quote!(u8),
                };
                Code::new(
                    quote!(#lit.as_ptr().cast::<#pointee>().cast_mut()),
                    Prec::Atom,
                )
                .pure()
            }
            ExprKind::Zero => Code::new(self.g.zero(ty), Prec::Atom).pure(),
            ExprKind::Local(_)
            | ExprKind::Field { .. }
            | ExprKind::Static(_)
            | ExprKind::Deref(_)
            | ExprKind::Index { .. } => self.place(e),
            // `&*p` is `p`.
            ExprKind::AddrOf(p) if matches!(self.kind(p), ExprKind::Deref(_)) => {
                let ExprKind::Deref(inner) = *self.kind(p) else {
                    unreachable!("matched above")
                };
                self.value(inner)
            }
            ExprKind::AddrOf(p) => {
                let c = self.place(p);
                if c.never {
                    return c;
                }
                let pure = c.pure;
                let ts = c.at(Prec::Unary);
                let mut out = Code::new(quote!(&raw mut #ts), Prec::Unary);
                out.pure = pure;
                out
            }
            ExprKind::Binary(op, a, b) => {
                let operand_ty = self.ty_of(a);
                match self.operands(&[a, b]) {
                    Err(c) => c,
                    Ok(mut v) => {
                        let cb = v.pop().unwrap_or_else(|| Code::new(quote!(()), Prec::Atom));
                        let ca = v.pop().unwrap_or_else(|| Code::new(quote!(()), Prec::Atom));
                        self.binary(op, operand_ty, ca, cb)
                    }
                }
            }
            ExprKind::Unary(op, a) => {
                let c = self.value(a);
                if c.never {
                    return c;
                }
                let pure = c.pure;
                let mut out = match op {
                    UnOp::Neg => {
                        let ts = c.at(Prec::Atom);
                        Code::new(quote!(#ts.wrapping_neg()), Prec::Atom)
                    }
                    UnOp::BitNot | UnOp::Not => {
                        let ts = c.at(Prec::Unary);
                        Code::new(quote!(!#ts), Prec::Unary)
                    }
                };
                out.pure = pure;
                out
            }
            ExprKind::Convert(kind, x) => self.convert(kind, x, ty),
            ExprKind::Assign { place, value } => {
                let mut stmts = Vec::new();
                if self.assign(place, value, true, &mut stmts) {
                    return block_of(stmts, true);
                }
                let last = stmts.pop();
                Code::block(stmts, last, false)
            }
            ExprKind::Update {
                place,
                op,
                value,
                yields,
            } => {
                let mut stmts = Vec::new();
                if self.update(place, op, value, yields, true, &mut stmts) {
                    return block_of(stmts, true);
                }
                let last = stmts.pop();
                Code::block(stmts, last, false)
            }
            ExprKind::Call { callee, args, .. } => self.call(callee, &args, ty),
            ExprKind::Seq(items) => {
                let Some((&last, init)) = items.split_last() else {
                    return Code::new(quote!(()), Prec::Atom).pure();
                };
                let mut stmts = Vec::new();
                for &i in init {
                    if self.stmts(i, &mut stmts) {
                        return block_of(stmts, true);
                    }
                }
                let c = self.value(last);
                if stmts.is_empty() {
                    return c;
                }
                let never = c.never;
                match c.block {
                    Some((s, t)) => {
                        stmts.extend(s);
                        Code::block(stmts, t, never)
                    }
                    None => Code::block(stmts, Some(c.ts), never),
                }
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                let Some(otherwise) = otherwise else {
                    let mut stmts = Vec::new();
                    let never = self.stmts(e, &mut stmts);
                    return block_of(stmts, never);
                };
                let bool_const = |fx: &Self, x: ExprId, v: u64| {
                    matches!(fx.kind(x), ExprKind::Const(k) if k.0 == v)
                        && fx.tk(fx.ty_of(x)) == TypeKind::Bool
                };
                let c = self.value(cond);
                if c.never {
                    return c;
                }
                // `a || b` and `a && b` arrive as conditionals on bools: give them back.
                if bool_const(self, then, 1) || bool_const(self, otherwise, 0) {
                    let or = bool_const(self, then, 1);
                    let other = if or { otherwise } else { then };
                    let b = self.value(other);
                    if !b.never
                        && b.block.is_none()
                        && !b.blocklike
                        && c.block.is_none()
                        && !c.blocklike
                    {
                        let pure = c.pure && b.pure;
                        let (prec, right) = if or {
                            (Prec::Or, Prec::And)
                        } else {
                            (Prec::And, Prec::Cmp)
                        };
                        let at = c.at(prec);
                        let bt = b.at(right);
                        let mut out = if or {
                            Code::new(quote!(#at || #bt), prec)
                        } else {
                            Code::new(quote!(#at && #bt), prec)
                        };
                        out.pure = pure;
                        return out;
                    }
                    let (t, f) = if or {
                        (Code::new(quote!(true), Prec::Atom), b)
                    } else {
                        (b, Code::new(quote!(false), Prec::Atom))
                    };
                    return self.if_value(c, t, f);
                }
                let t = self.value(then);
                let f = self.value(otherwise);
                self.if_value(c, t, f)
            }
            ExprKind::Loop { vars, body } => self.looped(vars, body, true),

            ExprKind::Recur(args) => self.recur(&args),
            ExprKind::Raise(x) => {
                let target = self.target(x);
                let v = ident(&self.g.names.exceptions[x]);
                Code::never(self.jump(target, quote!(Exception::#v)))
            }
            ExprKind::Catch { body, handles } => self.catch(body, handles, true),
            ExprKind::Host { text, subst } => {
                let mut stmts = Vec::new();
                if let Some(ts) = self.host(e, &text, &subst) {
                    stmts.push(ts);
                }
                Code::block(stmts, Some(quote!(true)), false)
            }
            ExprKind::Abort(name) => {
                let msg = format!("`{name}` has no body");
                Code::never(quote!(panic!(#msg)))
            }
            ExprKind::Cold { expr, .. } => self.value(expr),
        }
    }

    pub(super) fn pointee(&self, t: TypeId) -> TokenStream {
        match self.tk(t) {
            TypeKind::Void | TypeKind::Never => quote!(core::ffi::c_void),
            _ => self.g.ty(t),
        }
    }

    /// A place expression.
    pub(super) fn place(&mut self, e: ExprId) -> Code {
        match self.kind(e).clone() {
            ExprKind::Local(l) => {
                let id = &self.locals[l.index()];
                Code::new(quote!(#id), Prec::Atom).pure()
            }
            ExprKind::Static(f) => {
                self.needs_unsafe = true;
                let id = ident(&self.g.names.statics[f]);
                Code::new(quote!(*&raw mut #id), Prec::Unary).pure()
            }
            ExprKind::Deref(p) => {
                let c = self.value(p);
                if c.never {
                    return c;
                }
                self.needs_unsafe = true;
                let pure = c.pure;
                let ts = c.at(Prec::Unary);
                let mut out = Code::new(quote!(*#ts), Prec::Unary);
                out.pure = pure;
                out
            }
            ExprKind::Field { object, field } => {
                let c = self.place(object);
                if c.never {
                    return c;
                }
                let pure = c.pure;
                let ts = c.at(Prec::Atom);
                let f = ident(&self.g.names.fields[field]);
                let mut out = Code::new(quote!(#ts.#f), Prec::Atom);
                out.pure = pure;
                out
            }
            ExprKind::Index { array, index } => {
                let a = self.place(array);
                if a.never {
                    return a;
                }
                let i = self.value(index);
                if i.never {
                    return seq_never(a, i);
                }
                let pure = a.pure && i.pure;
                let it = i.at(Prec::Unary);
                let flexible = matches!(self.tk(self.ty_of(array)), TypeKind::Array(_, 0));
                let mut out = if flexible {
                    // A zero-length array is a variable-length tail (§11.7): index the memory
                    // after it, unchecked, as C does.
                    self.needs_unsafe = true;
                    let pt = a.at(Prec::Unary);
                    let elem = self.g.ty(self.ty_of(e));
                    Code::new(
                        quote!(*(&raw mut #pt).cast::<#elem>().wrapping_offset(#it as isize)),
                        Prec::Unary,
                    )
                } else {
                    let at = a.at(Prec::Atom);
                    Code::new(quote!(#at[#it as usize]), Prec::Atom)
                };
                out.pure = pure;
                out
            }
            // Not a place: evaluate it into a temporary.
            _ => {
                let c = self.value(e);
                if c.never {
                    return c;
                }
                let t = self.temp("tmp");
                let ts = c.ts;
                Code::block(vec![quote!(let mut #t = #ts;)], Some(quote!(#t)), false)
            }
        }
    }

    fn call(&mut self, callee: Callee, args: &[ExprId], ty: TypeId) -> Code {
        let values = match self.operands(args) {
            Ok(v) => v,
            Err(c) => return c,
        };
        let (call, raises) = match callee {
            Callee::Direct(m) => {
                let method = &self.g.ir.methods[m];
                let args = values.iter().map(|c| &c.ts);
                match &method.kind {
                    MethodKind::Extern { link_name } => {
                        if syn::parse_str::<syn::Ident>(link_name).is_err() {
                            let span = method.span;
                            let reported = self.g.diagnostics.iter().any(|d| {
                                d.code == prolac_syntax::codes::P1108 && d.primary.span == span
                            });
                            if !reported {
                                self.g.diagnostics.push(
                                    prolac_syntax::Diagnostic::new(
                                        prolac_syntax::codes::P1108,
                                        span,
                                        format!(
                                            "the link name `{link_name}` is not a Rust identifier"
                                        ),
                                    )
                                    .with_help(
                                        "give an explicit link name: `::= extern \"host_name\";`",
                                    ),
                                );
                            }
                            return Code::never(quote!(unreachable!()));
                        }
                        let f = ident(link_name);
                        (quote!(#f(#(#args),*)), Vec::new())
                    }
                    _ => {
                        let f = ident(&self.g.fn_name(m));
                        (quote!(#f(#(#args),*)), method.raises.clone())
                    }
                }
            }
            Callee::Virtual(sel) => {
                self.needs_unsafe = true;
                let origin = self.g.ir.selectors[sel].origin;
                let slot = ident(&self.g.names.vtable_slot(origin));
                let name = ident(&sanitize(&self.g.ir.selectors[sel].name));
                let r = self.temp("recv");
                let (table_params, _) = self.g.selector_signature(sel);
                let (_, table_ret) = self.g.selector_value_type(sel);
                let mut it = values.iter();
                let recv = it.next().map(|c| c.ts.clone()).unwrap_or_default();
                // Pointers convert between the site's types and the table's (§6.5 variance).
                let rest: Vec<TokenStream> = it
                    .zip(args.iter().skip(1))
                    .zip(&table_params)
                    .map(|((c, &a), want)| {
                        if self.g.ty(self.ty_of(a)).to_string() == want.to_string() {
                            c.ts.clone()
                        } else {
                            let ts = c.at(Prec::Atom);
                            quote!(#ts.cast())
                        }
                    })
                    .collect();
                let mut call = quote!(((*(*#r).#slot).#name)(#r.cast() #(, #rest)*));
                if table_ret.is_some_and(|t| self.g.ty(t).to_string() != self.g.ty(ty).to_string())
                {
                    call = if self.g.selector_raises(sel) {
                        quote!(#call.map(|v| v.cast()))
                    } else {
                        quote!(#call.cast())
                    };
                }
                let call = quote!({
                    let #r = #recv;
                    #call
                });
                let raises = self
                    .g
                    .selector_exceptions
                    .get(&sel)
                    .cloned()
                    .unwrap_or_default();
                (call, raises)
            }
        };
        if raises.is_empty() {
            let mut c = Code::new(call, Prec::Atom);
            c.call = true;
            return if matches!(callee, Callee::Virtual(_)) {
                c.blocky()
            } else {
                c
            };
        }
        let handler = self.route(&raises);
        Code::new(
            quote!(match #call { Ok(v) => v, Err(e) => #handler }),
            Prec::Atom,
        )
        .blocky()
    }
}

/// True if the tokens begin with a block-like expression (`if`, `match`, `loop`, `unsafe`,
/// a block or a label).
fn starts_block(ts: &TokenStream) -> bool {
    match ts.clone().into_iter().next() {
        Some(proc_macro2::TokenTree::Ident(i)) => {
            matches!(
                i.to_string().as_str(),
                "if" | "match" | "loop" | "unsafe" | "while"
            )
        }
        Some(proc_macro2::TokenTree::Group(g)) => g.delimiter() == proc_macro2::Delimiter::Brace,
        Some(proc_macro2::TokenTree::Punct(p)) => p.as_char() == '\'',
        _ => false,
    }
}

/// A statement evaluating `c` for its effects.
pub(super) fn stmt(c: Code) -> TokenStream {
    if let Some((stmts, tail)) = &c.block
        && tail.is_none()
    {
        return quote!(#(#stmts)*);
    }
    let ts = c.ts;
    if c.never || c.blocklike || c.call {
        quote!(#ts;)
    } else {
        quote!(let _ = #ts;)
    }
}

/// A block of statements (the last may be a diverging expression statement).
pub(super) fn block_of(stmts: Vec<TokenStream>, never: bool) -> Code {
    Code::block(stmts, None, never)
}

pub(super) fn block_of_tail(stmts: Vec<TokenStream>, tail: TokenStream) -> Code {
    if stmts.is_empty() {
        return Code::never(tail);
    }
    Code::block(stmts, Some(tail), true)
}

/// `a` evaluated for effect, then the diverging `b`.
fn seq_never(a: Code, b: Code) -> Code {
    if a.pure {
        return b;
    }
    let at = a.ts;
    let bt = b.ts;
    Code::block(vec![quote!(let _ = #at;)], Some(bt), true)
}
