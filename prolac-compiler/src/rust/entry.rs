//! Entry points of generated Rust: the `pub` wrappers through which the host calls exported
//! methods (objects by `&mut`, raw pointers only in `unsafe fn`s with a `# Safety` section).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::items::Gen;
use super::names::ident;
use crate::ir::{MethodId, MethodKind, TypeKind};

/// The `pub` wrapper of an exported method with a receiver or pointer parameters: objects by
/// `&mut`, other pointers raw (then the wrapper is an `unsafe fn` with a `# Safety` section).
pub(super) fn entry_wrapper(g: &Gen<'_>, m: MethodId) -> TokenStream {
    let ir = g.ir;
    let method = &ir.methods[m];
    if !g.needs_wrapper(m) {
        return TokenStream::new();
    }
    let name = ident(&g.names.methods[m]);
    let raw = ident(&g.fn_name(m));
    let ret = g.ret_ty(m);
    let mut params = Vec::new();
    let mut args = Vec::new();
    if method.has_receiver() {
        let owner = ident(&g.names.structs[method.owner]);
        params.push(quote!(this: &mut #owner));
        args.push(quote!(this));
    }
    // Pointers to objects become references; other pointers stay raw, and make the entry
    // point `unsafe`.
    let mut raw_pointers = false;
    for (i, &t) in method.params.iter().enumerate() {
        let id = format_ident!("a{i}");
        match ir.types.kind(t) {
            TypeKind::Ptr(inner) if matches!(ir.types.kind(inner), TypeKind::Module(_)) => {
                let target = g.ty(inner);
                params.push(quote!(#id: &mut #target));
                args.push(quote!(#id));
            }
            TypeKind::Ptr(_) => {
                raw_pointers = true;
                let ty = g.ty(t);
                params.push(quote!(#id: #ty));
                args.push(quote!(#id));
            }
            _ => {
                let ty = g.ty(t);
                params.push(quote!(#id: #ty));
                args.push(quote!(#id));
            }
        }
    }
    // Objects the host creates get their dispatch tables from their constructor.
    let install =
        if method.kind == MethodKind::Constructor && g.report.constructed.contains(&method.owner) {
            let mut set = Vec::new();
            for slot in &g.layouts.of(method.owner).slots {
                if let crate::layout::SlotKind::Dispatch(origin) = slot.kind {
                    let f = ident(&g.names.vtable_slot(origin));
                    let table = ident(&g.names.vtable_static(method.owner, origin));
                    set.push(quote!(this.#f = &#table;));
                }
            }
            quote!(#(#set)*)
        } else {
            TokenStream::new()
        };
    let loc = g
        .program
        .sources
        .location(method.span.file, method.span.lo as usize);
    let what = format!(
        " Entry point `{}.{}` ({}:{}:{}).",
        ir.modules[method.owner].name, method.name, loc.file, loc.line, loc.column
    );
    let objects = " Objects passed by reference must be constructed (their dispatch tables are \
                   installed by `ZERO` and by exported constructors).";
    let call = quote!(#raw(#(#args),*));
    if raw_pointers {
        quote! {
            #[doc = #what]
            #[doc = ""]
            #[doc = #objects]
            #[doc = ""]
            #[doc = " # Safety"]
            #[doc = ""]
            #[doc = " Every raw pointer argument must be valid for the reads and writes the method"]
            #[doc = " makes through it while it runs."]
            #[allow(dead_code, non_snake_case)]
            pub unsafe fn #name(#(#params),*) #ret {
                #install
                #call
            }
        }
    } else {
        quote! {
            #[doc = #what]
            #[doc = ""]
            #[doc = #objects]
            #[allow(dead_code, non_snake_case)]
            pub fn #name(#(#params),*) #ret {
                #install
                #call
            }
        }
    }
}
