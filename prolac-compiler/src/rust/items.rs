//! Items of the generated file: the exception enum, object structs with their layout
//! assertions, dispatch tables, static storage, functions and entry points.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Literal, TokenStream};
use prolac_syntax::{Diagnostic, Span};
use quote::{format_ident, quote};

use super::names::{Names, ident};
use crate::ir::{IntWidth, MethodId, ModuleId, Program as Ir, SelectorId, TypeId, TypeKind};
use crate::layout::{Layouts, SlotKind};
use crate::load::Program;
use crate::opt::Report;

/// The generator's shared state.
pub(crate) struct Gen<'a> {
    pub(crate) program: &'a Program,
    pub(crate) ir: &'a Ir,
    pub(crate) report: &'a Report,
    pub(crate) layouts: &'a Layouts,
    pub(crate) names: Names,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) first_host_span: Option<Span>,
    /// Methods that get a function, in id order.
    pub(crate) functions: BTreeSet<MethodId>,
    /// Exported methods.
    pub(crate) exported: BTreeSet<MethodId>,
    /// Selectors called dynamically by emitted code.
    pub(crate) virtual_selectors: BTreeSet<SelectorId>,
    /// Per selector: its methods' exception sets joined (a dispatched call returns `Result`
    /// when any target can raise).
    pub(crate) selector_raises: BTreeMap<SelectorId, bool>,
    /// Per selector: the exceptions a dispatched call can raise.
    pub(crate) selector_exceptions: BTreeMap<SelectorId, Vec<crate::ir::ExceptionId>>,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(
        program: &'a Program,
        ir: &'a Ir,
        report: &'a Report,
        layouts: &'a Layouts,
    ) -> Gen<'a> {
        let set = crate::emit_set::EmitSet::new(ir, report);
        Gen {
            program,
            ir,
            report,
            layouts,
            names: Names::new(ir),
            diagnostics: Vec::new(),
            first_host_span: None,
            functions: set.functions,
            exported: ir.exports.iter().copied().collect(),
            virtual_selectors: set.virtual_selectors,
            selector_raises: set.selector_raises,
            selector_exceptions: set.selector_exceptions,
        }
    }

    /// True if a dispatched call through `sel` returns a `Result`.
    pub(crate) fn selector_raises(&self, sel: SelectorId) -> bool {
        self.selector_raises.get(&sel).copied().unwrap_or(false)
    }

    /// "`Module.method` (file.pc:3:5)".
    pub(crate) fn origin_doc(&self, what: &str, span: Span) -> TokenStream {
        let loc = self.program.sources.location(span.file, span.lo as usize);
        let text = format!(" {what} ({}:{}:{})", loc.file, loc.line, loc.column);
        quote!(#[doc = #text])
    }

    /// The Rust type of a Prolac type.
    pub(crate) fn ty(&self, t: TypeId) -> TokenStream {
        match self.ir.types.kind(t) {
            TypeKind::Void | TypeKind::Never => quote!(()),
            TypeKind::Bool => quote!(bool),
            TypeKind::Int { width, signed } => {
                let name = int_name(width, signed);
                let id = ident(name);
                quote!(#id)
            }
            TypeKind::SeqInt => quote!(u32),
            TypeKind::Ptr(inner) => match self.ir.types.kind(inner) {
                TypeKind::Void | TypeKind::Never => quote!(*mut core::ffi::c_void),
                _ => {
                    let inner = self.ty(inner);
                    quote!(*mut #inner)
                }
            },
            TypeKind::Array(elem, n) => {
                let elem = self.ty(elem);
                let n = Literal::usize_unsuffixed(usize::try_from(n).unwrap_or(usize::MAX));
                quote!([#elem; #n])
            }
            TypeKind::Module(m) => {
                let id = ident(&self.names.structs[m]);
                quote!(#id)
            }
        }
    }

    /// The all-zero value of a type, as a constant expression.
    pub(crate) fn zero(&self, t: TypeId) -> TokenStream {
        match self.ir.types.kind(t) {
            TypeKind::Void | TypeKind::Never => quote!(()),
            TypeKind::Bool => quote!(false),
            TypeKind::Int { width, signed } => {
                let lit: TokenStream = format!("0{}", int_name(width, signed))
                    .parse()
                    .unwrap_or_default();
                lit
            }
            TypeKind::SeqInt => quote!(0u32),
            TypeKind::Ptr(_) => quote!(core::ptr::null_mut()),
            TypeKind::Array(elem, n) => {
                let z = self.zero(elem);
                let n = Literal::usize_unsuffixed(usize::try_from(n).unwrap_or(usize::MAX));
                quote!([#z; #n])
            }
            TypeKind::Module(m) => {
                let id = ident(&self.names.structs[m]);
                quote!(#id::ZERO)
            }
        }
    }

    /// The return type of a method's function.
    pub(crate) fn ret_ty(&self, m: MethodId) -> TokenStream {
        let method = &self.ir.methods[m];
        let void = matches!(
            self.ir.types.kind(method.ret),
            TypeKind::Void | TypeKind::Never
        );
        let t = self.ty(method.ret);
        match (method.raises.is_empty(), void) {
            (true, true) => TokenStream::new(),
            (true, false) => quote!(-> #t),
            (false, _) => quote!(-> Result<#t, Exception>),
        }
    }

    /// The whole file.
    pub(crate) fn file(&mut self, options: &super::RustOptions) -> TokenStream {
        let mut out = TokenStream::new();
        for s in self.ir.support.iter().filter(|s| s.prologue) {
            out.extend(self.support(&s.text, s.span));
        }
        out.extend(self.exception_enum());
        let modules = self.used_modules();
        for &m in &modules {
            out.extend(self.object_struct(m));
        }
        out.extend(self.aliases(&modules));
        out.extend(self.vtables());
        out.extend(self.statics());
        let functions: Vec<MethodId> = self.functions.iter().copied().collect();
        for m in functions {
            let f = super::body::function(self, m);
            out.extend(f);
        }
        if let Some(entry) = options.main_entry {
            out.extend(self.main_fn(entry));
        }
        for s in self.ir.support.iter().filter(|s| !s.prologue) {
            out.extend(self.support(&s.text, s.span));
        }
        out
    }

    fn support(&mut self, text: &str, span: Span) -> TokenStream {
        match super::host_tokens(text) {
            Some(t) => t,
            None => {
                self.diagnostics.push(
                    Diagnostic::new(
                        prolac_syntax::codes::P1107,
                        span,
                        "this support block is not valid Rust".to_string(),
                    )
                    .with_help("support blocks hold Rust items; check delimiters and literals"),
                );
                TokenStream::new()
            }
        }
    }

    fn exception_enum(&self) -> TokenStream {
        if self.ir.exceptions.is_empty() {
            return TokenStream::new();
        }
        let mut order: Vec<_> = self.ir.exceptions.keys().collect();
        order.sort_by_key(|x| self.names.exception_ids[*x]);
        let mut variants = Vec::new();
        let mut names = Vec::new();
        let mut from = Vec::new();
        for x in order {
            let v = ident(&self.names.exceptions[x]);
            let id = Literal::u32_unsuffixed(self.names.exception_ids[x]);
            let full = &self.ir.exceptions[x].name;
            let doc = self.origin_doc(&format!("`{full}`"), self.ir.exceptions[x].span);
            variants.push(quote!(#doc #v = #id,));
            names.push(quote!(Exception::#v => #full,));
            from.push(quote!(#id => Some(Exception::#v),));
        }
        quote! {
            /// The program's exceptions; the discriminant is the exception identity (from 1,
            /// in the order of full names).
            #[repr(u32)]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            #[allow(dead_code)]
            pub enum Exception { #(#variants)* }
            #[allow(dead_code)]
            impl Exception {
                /// The exception's full Prolac name.
                pub const fn name(self) -> &'static str { match self { #(#names)* } }
                /// The exception identity.
                pub const fn id(self) -> u32 { self as u32 }
                /// The exception with this identity.
                pub const fn from_id(id: u32) -> Option<Exception> {
                    match id { #(#from)* _ => None }
                }
            }
            impl core::fmt::Display for Exception {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str(self.name())
                }
            }
            impl core::error::Error for Exception {}
        }
    }

    /// Modules whose structs the generated code needs: every module type mentioned by an
    /// emitted function or a constructed module, and the module types inside those.
    fn used_modules(&self) -> Vec<ModuleId> {
        let mut types: Vec<TypeId> = Vec::new();
        for &m in &self.functions {
            let method = &self.ir.methods[m];
            types.push(method.ret);
            types.extend(method.params.iter().copied());
            if let Some(b) = &method.body {
                types.extend(b.locals.values().map(|l| l.ty));
                types.extend(b.exprs.values().map(|e| e.ty));
            }
        }
        for &e in &self.exported {
            types.extend(self.ir.methods[e].params.iter().copied());
        }
        for field in self.ir.fields.values() {
            if field.is_static {
                types.push(field.ty);
            }
        }
        let mut used = BTreeSet::new();
        let mut modules: Vec<ModuleId> = self.report.constructed.iter().copied().collect();
        let mut seen_types = BTreeSet::new();
        loop {
            if let Some(t) = types.pop() {
                if seen_types.insert(t) {
                    match self.ir.types.kind(t) {
                        TypeKind::Ptr(i) | TypeKind::Array(i, _) => types.push(i),
                        TypeKind::Module(m) => modules.push(m),
                        _ => {}
                    }
                }
            } else if let Some(m) = modules.pop() {
                if used.insert(m) {
                    for s in &self.layouts.of(m).slots {
                        if let SlotKind::Field(f) = s.kind {
                            types.push(self.ir.fields[f].ty);
                        }
                    }
                }
            } else {
                break;
            }
        }
        let mut out: Vec<ModuleId> = used.into_iter().collect();
        out.sort();
        out
    }

    fn object_struct(&self, m: ModuleId) -> TokenStream {
        let layout = self.layouts.of(m);
        let name = ident(&self.names.structs[m]);
        let mut fields = Vec::new();
        let mut zeros = Vec::new();
        let mut asserts = Vec::new();
        for slot in &layout.slots {
            let offset = Literal::u64_unsuffixed(slot.offset);
            match slot.kind {
                SlotKind::Field(f) => {
                    let field = &self.ir.fields[f];
                    let id = ident(&self.names.fields[f]);
                    let ty = self.ty(field.ty);
                    let owner = &self.ir.modules[field.owner].name;
                    let doc = self.origin_doc(&format!("`{owner}.{}`", field.name), field.span);
                    fields.push(quote!(#doc pub #id: #ty,));
                    let z = self.zero(field.ty);
                    zeros.push(quote!(#id: #z,));
                    asserts.push(quote!(
                        const _: () = assert!(core::mem::offset_of!(#name, #id) == #offset);
                    ));
                }
                SlotKind::Dispatch(origin) => {
                    let id = ident(&self.names.vtable_slot(origin));
                    let vt = ident(&self.names.vtable_type(origin));
                    let text = format!(
                        " Dispatch table for the methods of `{}`.",
                        self.ir.modules[origin].name
                    );
                    fields.push(quote!(#[doc = #text] pub #id: *const #vt,));
                    if self.report.constructed.contains(&m) {
                        let table = ident(&self.names.vtable_static(m, origin));
                        zeros.push(quote!(#id: &#table,));
                    } else {
                        zeros.push(quote!(#id: core::ptr::null(),));
                    }
                    asserts.push(quote!(
                        const _: () = assert!(core::mem::offset_of!(#name, #id) == #offset);
                    ));
                }
                SlotKind::Padding => {
                    let id = format_ident!("_pad{}", slot.offset);
                    let n = Literal::u64_unsuffixed(slot.size);
                    fields.push(
                        quote!(#[doc = " Padding placed by the layout engine."] pub #id: [u8; #n],),
                    );
                    zeros.push(quote!(#id: [0; #n],));
                }
            }
        }
        let size_msg = format!(
            "the size of `{}` differs from the layout engine's",
            self.names.structs[m]
        );
        let align_msg = format!(
            "the alignment of `{}` differs from the layout engine's",
            self.names.structs[m]
        );
        let size = Literal::u64_unsuffixed(layout.size);
        let align = Literal::u64_unsuffixed(layout.align);
        let module = &self.ir.modules[m];
        let doc = self.origin_doc(&format!("Objects of module `{}`", module.name), module.span);
        quote! {
            #doc
            #[repr(C)]
            #[derive(Clone, Copy)]
            #[allow(non_snake_case)]
            pub struct #name { #(#fields)* }
            #[allow(dead_code)]
            impl #name {
                /// A fresh object before its constructor runs: every field zero, dispatch
                /// tables installed.
                pub const ZERO: #name = #name { #(#zeros)* };
            }
            const _: () = if core::mem::size_of::<#name>() != #size {
                panic!(#size_msg)
            };
            const _: () = if core::mem::align_of::<#name>() != #align {
                panic!(#align_msg)
            };
            #(#asserts)*
        }
    }

    /// `pub type` names for a composition's final modules (`TcpTcb` for `Tcp.Tcb`), stable
    /// whichever layers are present; skipped when the name is the struct's own or is taken.
    fn aliases(&self, emitted: &[ModuleId]) -> TokenStream {
        let mut out = TokenStream::new();
        let mut taken: std::collections::BTreeSet<String> =
            self.names.structs.values().cloned().collect();
        for (name, m) in &self.ir.aliases {
            if !emitted.contains(m) {
                continue;
            }
            let alias = super::names::camel(name);
            if !taken.insert(alias.clone()) {
                continue;
            }
            let id = ident(&alias);
            let target = ident(&self.names.structs[*m]);
            let text = format!(
                " `{name}`: the composition's final `{}`.",
                self.ir.modules[*m].name
            );
            out.extend(quote! {
                #[doc = #text]
                #[allow(dead_code)]
                pub type #id = #target;
            });
        }
        out.extend(self.function_aliases(emitted));
        out
    }

    /// Stable names for the exported functions a composition's final module offers
    /// (`poll__Tcp_Api` for whichever layer defines `Tcp.Api.poll`, `constructor__Tcp_Tcb`), so
    /// that a host keeps compiling when layers are left out; skipped when taken.
    fn function_aliases(&self, emitted: &[ModuleId]) -> TokenStream {
        let mut out = TokenStream::new();
        let mut taken: std::collections::BTreeSet<String> = self
            .ir
            .methods
            .iter()
            .filter(|(id, _)| self.functions.contains(id))
            .map(|(id, _)| self.names.methods[id].clone())
            .collect();
        for (name, m) in &self.ir.aliases {
            if !emitted.contains(m) {
                continue;
            }
            // The exported definitions `m` uses, nearest first: its constructor, its dynamic
            // methods' actuals, then static methods of `m` and its ancestors.
            let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
            let mut chosen: Vec<MethodId> = Vec::new();
            let module = &self.ir.modules[*m];
            let dynamic = module.vtable.iter().map(|&(_, e)| e);
            let mut chain = Vec::new();
            let mut at = Some(*m);
            while let Some(c) = at {
                chain.push(c);
                at = self.ir.modules[c].parent;
            }
            let statics = chain.iter().flat_map(|&c| {
                self.ir
                    .methods
                    .iter()
                    .filter(move |(_, meth)| meth.owner == c && !meth.has_receiver())
                    .map(|(id, _)| id)
            });
            for e in module.constructor.into_iter().chain(dynamic).chain(statics) {
                if self.exported.contains(&e) && seen.insert(self.ir.methods[e].name.as_str()) {
                    chosen.push(e);
                }
            }
            for e in chosen {
                let alias = format!(
                    "{}__{}",
                    super::names::sanitize(&self.ir.methods[e].name),
                    super::names::sanitize(name)
                );
                if !taken.insert(alias.clone()) {
                    continue;
                }
                let (from, to) = (ident(&self.names.methods[e]), ident(&alias));
                let text = format!(
                    " `{name}.{}`, by its composition's name.",
                    self.ir.methods[e].name
                );
                out.extend(quote! {
                    #[doc = #text]
                    #[allow(unused_imports)]
                    pub use self::#from as #to;
                });
            }
        }
        out
    }

    /// The dispatch-table structs and one static table per (constructed module, origin).
    fn vtables(&self) -> TokenStream {
        let mut by_origin: BTreeMap<ModuleId, Vec<SelectorId>> = BTreeMap::new();
        for &o in &self.report.dispatch_origins {
            by_origin.entry(o).or_default();
        }
        for &sel in &self.virtual_selectors {
            by_origin
                .entry(self.ir.selectors[sel].origin)
                .or_default()
                .push(sel);
        }
        let mut out = TokenStream::new();
        for (&origin, sels) in &by_origin {
            let vt = ident(&self.names.vtable_type(origin));
            let origin_ty = ident(&self.names.structs[origin]);
            let mut slots = Vec::new();
            for &sel in sels {
                let id = ident(&super::names::sanitize(&self.ir.selectors[sel].name));
                let sig = self.selector_signature(sel);
                let (params, ret) = sig;
                let text = format!(" `{}`", self.ir.selectors[sel].name);
                slots.push(quote!(#[doc = #text] pub #id: fn(*mut #origin_ty #(, #params)*) #ret,));
            }
            let text = format!(
                " Dispatch table of the methods introduced by `{}`.",
                self.ir.modules[origin].name
            );
            out.extend(quote! {
                #[doc = #text]
                #[repr(C)]
                #[allow(dead_code, non_snake_case)]
                pub struct #vt { #(#slots)* }
            });
            for &m in &self.report.constructed {
                if !self.ir.is_subclass(m, origin)
                    || self.layouts.dispatch_offset(m, origin).is_none()
                {
                    continue;
                }
                let table = ident(&self.names.vtable_static(m, origin));
                let mut entries = Vec::new();
                for &sel in sels {
                    let id = ident(&super::names::sanitize(&self.ir.selectors[sel].name));
                    let (params, _) = self.selector_signature(sel);
                    let args: Vec<_> = (0..params.len()).map(|i| format_ident!("a{i}")).collect();
                    let entry = match self.ir.actual(m, sel) {
                        Some(t) if self.functions.contains(&t) => {
                            let f = ident(&self.fn_name(t));
                            // Overrides may narrow results and widen parameters (§6.5):
                            // convert pointers between the table's types and theirs.
                            let target = &self.ir.methods[t];
                            let passed: Vec<TokenStream> = args
                                .iter()
                                .zip(&target.params)
                                .zip(&params)
                                .map(|((a, &pt), origin_ty)| {
                                    if self.ty(pt).to_string() == origin_ty.to_string() {
                                        quote!(#a)
                                    } else {
                                        quote!(#a.cast())
                                    }
                                })
                                .collect();
                            let (_, origin_ret) = self.selector_value_type(sel);
                            let narrowed = origin_ret.is_some_and(|r| {
                                self.ty(r).to_string() != self.ty(target.ret).to_string()
                            });
                            let mut call = quote!(#f(this.cast() #(, #passed)*));
                            if narrowed {
                                call = if target.raises.is_empty() {
                                    quote!(#call.cast())
                                } else {
                                    quote!(#call.map(|r| r.cast()))
                                };
                            }
                            let wrapped = if self.selector_raises(sel)
                                && self.ir.methods[t].raises.is_empty()
                            {
                                quote!(Ok(#call))
                            } else {
                                call
                            };
                            quote!(#id: |this #(, #args)*| #wrapped,)
                        }
                        _ => {
                            let msg = format!(
                                "`{}` has no definition for `{}`",
                                self.ir.modules[m].name, self.ir.selectors[sel].name
                            );
                            quote!(#id: |_this #(, #args)*| panic!(#msg),)
                        }
                    };
                    entries.push(entry);
                }
                let text = format!(
                    " `{}`'s table for the methods of `{}`.",
                    self.ir.modules[m].name, self.ir.modules[origin].name
                );
                out.extend(quote! {
                    #[doc = #text]
                    #[allow(dead_code)]
                    static #table: #vt = #vt { #(#entries)* };
                });
            }
        }
        out
    }

    /// The origin definition of a selector and its declared result type.
    pub(crate) fn selector_value_type(
        &self,
        sel: SelectorId,
    ) -> (Option<MethodId>, Option<TypeId>) {
        match crate::emit_set::origin_definition(self.ir, sel) {
            Some(id) => (Some(id), Some(self.ir.methods[id].ret)),
            None => (None, None),
        }
    }

    /// Parameter types (receiver excluded) and result type of a dispatched call.
    pub(crate) fn selector_signature(&self, sel: SelectorId) -> (Vec<TokenStream>, TokenStream) {
        let Some(m) = self
            .selector_value_type(sel)
            .0
            .map(|id| &self.ir.methods[id])
        else {
            return (Vec::new(), quote!(()));
        };
        let params = m.params.iter().map(|&t| self.ty(t)).collect();
        let t = self.ty(m.ret);
        let void = matches!(self.ir.types.kind(m.ret), TypeKind::Void | TypeKind::Never);
        let ret = match (self.selector_raises(sel), void) {
            (true, _) => quote!(-> Result<#t, Exception>),
            (false, true) => TokenStream::new(),
            (false, false) => quote!(-> #t),
        };
        (params, ret)
    }

    fn statics(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for (f, field) in self.ir.fields.iter() {
            if !field.is_static {
                continue;
            }
            let id = ident(&self.names.statics[f]);
            let ty = self.ty(field.ty);
            let z = self.zero(field.ty);
            let doc = self.origin_doc(
                &format!(
                    "Static field `{}.{}`",
                    self.ir.modules[field.owner].name, field.name
                ),
                field.span,
            );
            out.extend(quote! {
                #doc
                #[allow(dead_code)]
                static mut #id: #ty = #z;
            });
        }
        out
    }

    /// True if an exported method gets a `pub` wrapper around its raw function: it has a
    /// receiver or pointer parameters (which the wrapper takes as references where it can).
    pub(crate) fn needs_wrapper(&self, m: MethodId) -> bool {
        let method = &self.ir.methods[m];
        self.exported.contains(&m)
            && (method.has_receiver()
                || method
                    .params
                    .iter()
                    .any(|&t| matches!(self.ir.types.kind(t), TypeKind::Ptr(_))))
    }

    /// The Rust name of a method's function (the raw one, for exported dynamic methods).
    pub(crate) fn fn_name(&self, m: MethodId) -> String {
        let base = &self.names.methods[m];
        if self.needs_wrapper(m) {
            format!("{base}__ptr")
        } else {
            base.clone()
        }
    }

    /// `prolac_entry()` and `fn main()` for `prolacc run` and the run tests: run the entry;
    /// `main` prints its result as a decimal number, or reports an uncaught exception on
    /// standard error with exit status 1.
    fn main_fn(&self, entry: MethodId) -> TokenStream {
        let f = ident(&self.names.methods[entry]);
        let method = &self.ir.methods[entry];
        let call = if method.raises.is_empty() {
            quote!(Ok(i128::from(#f())))
        } else {
            quote!(#f().map(i128::from).map_err(Exception::name))
        };
        quote! {
            /// Runs the entry point: its value, or the full name of the exception that escaped.
            #[allow(dead_code)]
            pub fn prolac_entry() -> Result<i128, &'static str> {
                #call
            }
            #[allow(dead_code)]
            fn main() {
                match prolac_entry() {
                    Ok(v) => println!("{v}"),
                    Err(name) => {
                        eprintln!("uncaught exception {name}");
                        std::process::exit(1);
                    }
                }
            }
        }
    }
}

/// `u32`, `i8`, …
pub(crate) fn int_name(width: IntWidth, signed: bool) -> &'static str {
    match (width, signed) {
        (IntWidth::W8, true) => "i8",
        (IntWidth::W16, true) => "i16",
        (IntWidth::W32, true) => "i32",
        (IntWidth::W64, true) => "i64",
        (IntWidth::W8, false) => "u8",
        (IntWidth::W16, false) => "u16",
        (IntWidth::W32, false) => "u32",
        (IntWidth::W64, false) => "u64",
    }
}
