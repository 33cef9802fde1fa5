//! The Rust back end: optimised IR to Rust source (`prolacc --emit rust`, [`crate::Build`]).
//!
//! The output is built as token streams (`quote`), parsed into a `syn` syntax tree and printed
//! by `prettyplease`, so it is always syntactically valid, formatted, and byte-for-byte
//! deterministic. It needs only `core`, so it builds in `no_std` crates; the file holds items
//! only (no inner attributes), so it can be `include!`d into any module.
//!
//! # What the generated file contains, in order
//!
//! 1. A header comment ("generated — do not edit") and the prologue support blocks.
//! 2. `pub enum Exception` (`#[repr(u32)]`, identities from 1 in the order of full names) if
//!    the program declares exceptions.
//! 3. One `#[repr(C)]` struct per module used by the generated code, repeating every ancestor
//!    slot flat (never embedding the parent: a child may use its tail padding), with explicit
//!    `_padN` fields, a `ZERO` constant, and compile-time assertions of its size, alignment and
//!    every field offset against the [layout engine](crate::layout).
//! 4. Dispatch tables, only for selectors still called dynamically: a `#[repr(C)]` struct of
//!    function pointers per origin module and one `static` per constructed module.
//! 5. `static mut` storage for static fields, then one function per emitted method.
//! 6. The epilogue support blocks.
//!
//! # Conventions (the ABI shared with host code)
//!
//! - Types map as the language guide §14.1 says; `seqint` is `u32` (comparisons are circular
//!   in the generated code), pointers are `*mut T`, `*void` is `*mut core::ffi::c_void`.
//! - A method whose exception set is empty returns its value; otherwise it returns
//!   `Result<T, Exception>`: the status travels apart from the value.
//! - Every method becomes `fn method__Module`; a dynamic method takes the receiver as
//!   `this: *mut Module`. An exported method is `pub`: as it is when its signature has no
//!   pointers; otherwise through a `pub` wrapper of that name (the raw function becomes
//!   `method__Module__ptr`) that takes the receiver and object pointers as `&mut Module`, and
//!   is an `unsafe fn` with a `# Safety` section only if other raw pointers remain.
//! - An extern method is a call of its link name, a function the including module must have
//!   in scope (defined beside the `include!`, or imported by a support block
//!   `%{ use crate::host::*; %}`), with the mapped parameter and result types.
//! - Host blocks become Rust block statements with Prolac names substituted by places.
//!
//! # Safety
//!
//! Generated functions dereference raw pointers: the receiver, pointer fields and parameters,
//! and the addresses of locals. Bodies that do are wrapped in one `unsafe` block, preceded by a
//! `// SAFETY:` comment stating the contract: every pointer the program dereferences was made
//! from a live object (a reference passed to an entry point, a local, a field of a live object)
//! or was supplied by the host, which guarantees it is valid and unaliased while the entry point
//! runs. Static fields are `static mut` accessed only through raw pointers (`&raw mut`), never
//! references; the host must not run two entry points concurrently.

mod assign;
mod body;
mod control;
mod entry;
mod items;
mod names;
mod ops;

use std::fmt::Write as _;

use proc_macro2::TokenStream;
use prolac_syntax::{Diagnostic, HostLang, Span};

use crate::ir::MethodId;
use crate::load::Program;

/// How to generate.
#[derive(Clone, Debug, Default)]
pub struct RustOptions {
    /// Also emit `fn main()` that runs this static entry method and prints its result
    /// (`prolacc run`).
    pub main_entry: Option<MethodId>,
}

/// Generates Rust for an analysed, error-free program. Returns the source text, or the
/// diagnostics that prevent generation (P1101, P1107).
pub fn generate(
    program: &Program,
    host: HostLang,
    options: &RustOptions,
) -> Result<String, Vec<Diagnostic>> {
    let (Some(ir), Some(report), Some(layouts)) = (&program.ir, &program.report, &program.layouts)
    else {
        return Err(Vec::new());
    };
    if host == HostLang::C {
        let span = ir
            .support
            .first()
            .map(|s| s.span)
            .or_else(|| program.files.first().map(|f| Span::new(f.id, 0, 0)))
            .unwrap_or_else(|| Span::new(prolac_syntax::FileId(0), 0, 0));
        return Err(vec![
            Diagnostic::new(
                prolac_syntax::codes::P1101,
                span,
                "cannot generate Rust: host code was read as C (`--host c`)".to_string(),
            )
            .with_help("translate host blocks and support blocks to Rust, or use `--emit check`"),
        ]);
    }
    let mut g = items::Gen::new(program, ir, report, layouts);
    let tokens = g.file(options);
    if !g.diagnostics.is_empty() {
        return Err(g.diagnostics);
    }
    if let Some(dump) = std::env::var_os("PROLAC_DUMP_TOKENS") {
        let _ = std::fs::write(dump, tokens.to_string());
    }
    let text = tokens.to_string();
    let file = syn::parse_file(&text).map_err(|e| {
        let at = e.span().start().column;
        let mut lo = at.saturating_sub(150).min(text.len());
        while !text.is_char_boundary(lo) {
            lo -= 1;
        }
        let mut hi = (at + 60).min(text.len());
        while !text.is_char_boundary(hi) {
            hi += 1;
        }
        let e = format!("{e} near `{}`", &text[lo..hi]);
        vec![Diagnostic::new(
            prolac_syntax::codes::P1107,
            g.first_host_span
                .unwrap_or_else(|| Span::new(prolac_syntax::FileId(0), 0, 0)),
            format!("the generated Rust does not parse: {e}"),
        )]
    })?;
    let text = prettyplease::unparse(&file);
    let mut out = String::new();
    let roots: Vec<String> = program
        .files
        .first()
        .map(|f| f.path.display().to_string())
        .into_iter()
        .collect();
    let _ = writeln!(
        out,
        "// @generated by prolacc {} from {} — do not edit.",
        env!("CARGO_PKG_VERSION"),
        roots.join(", ")
    );
    out.push_str(
        "//\n// Every item names the Prolac source it comes from. Include this file in a module\n\
         // (`include!` or `mod`); extern methods call functions of their link names in scope.\n\n",
    );
    out.push_str(&annotate_unsafe(&text));
    Ok(out)
}

/// The comment placed before every `unsafe` block of generated code.
const SAFETY: &[&str] = &[
    "// SAFETY: every pointer dereferenced here comes from a live object (a reference given to",
    "// an entry point, a local, a field of a live object) or from the host, which keeps it",
    "// valid and unaliased while the entry point runs (see this file's conventions).",
];

/// Puts the `// SAFETY:` comment before every line that opens an `unsafe` block.
fn annotate_unsafe(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1024);
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("unsafe {") {
            let indent = &line[..line.len() - trimmed.len()];
            for l in SAFETY {
                out.push_str(indent);
                out.push_str(l);
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Parses host text as Rust tokens.
fn host_tokens(text: &str) -> Option<TokenStream> {
    text.parse::<TokenStream>().ok()
}
