//! The Prolac compiler.
//!
//! The pipeline: assemble a program from its files ([`load`]), run the checks that need the
//! whole program's syntax ([`check`]), analyse it into the typed IR ([`sema`], [`ir`]),
//! optimise it ([`opt`]) and lay out its objects ([`layout`]); [`stats`] summarises the result.
//! The back ends come next. The `prolacc` binary is a thin driver over this library.
//!
//! The core does no IO of its own: files are read through a [`fs::FileSystem`].

pub mod build;
pub mod check;
pub mod clif;
pub mod emit_set;
pub mod fs;
pub mod ir;
pub mod layout;
pub mod load;
pub mod opt;
pub mod rust;
pub mod sema;
pub mod stats;

use std::path::PathBuf;

pub use build::{Build, BuildError};
pub use load::{LoadError, Program, load_program};
pub use prolac_syntax::HostLang;

/// Runs `f` with enough stack, growing it on the heap when little is left: analyses that
/// recurse over expression trees call this at each level, so a program nested 100,000 deep
/// is analysed rather than crashing the process.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, f)
}

/// Options that affect what a program means or how it is compiled.
#[derive(Clone, Debug)]
pub struct Options {
    /// The language inside host blocks and support blocks.
    pub host: HostLang,
    /// Directories searched for `include` files after the including file's own directory.
    pub include_dirs: Vec<PathBuf>,
    /// Layers left out of every composition (`--without`).
    pub without: Vec<String>,
    /// Optimisation level, 0 to 3.
    pub opt_level: u8,
    /// The IR is wanted for code generation (`--emit ir` and the back ends), not only checked.
    pub generate: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: HostLang::Rust,
            include_dirs: Vec::new(),
            without: Vec::new(),
            opt_level: 3,
            generate: false,
        }
    }
}

/// Loads a program and runs every check that exists (`prolacc --emit check`).
pub fn check_program(
    roots: &[PathBuf],
    fs: &dyn fs::FileSystem,
    options: &Options,
) -> Result<Program, LoadError> {
    let mut program = load_program(roots, fs, options)?;
    check::check(&mut program, options);
    // Semantic analysis runs on what parsed; syntax errors already explain the rest.
    if !program.has_errors() {
        let analysis = sema::analyse(&program, options);
        program.diagnostics.extend(analysis.diagnostics);
        let mut ir = analysis.program;
        if !program.has_errors() {
            ir::verify::verify_in_debug(&ir);
            let report = opt::optimise(&mut ir, options.opt_level);
            ir::verify::verify_in_debug(&ir);
            for (span, target) in opt::bodyless_calls(&ir, &report) {
                let reported = program
                    .diagnostics
                    .iter()
                    .any(|d| d.code == prolac_syntax::codes::P0702 && d.primary.span == span);
                if !reported {
                    let m = &ir.methods[target];
                    program.diagnostics.push(
                        prolac_syntax::Diagnostic::new(
                            prolac_syntax::codes::P0702,
                            span,
                            format!(
                                "`{}` has no body; this call is bound to it and aborts the program",
                                m.name
                            ),
                        )
                        .with_secondary(m.span, "defined without a body")
                        .with_help(
                            "no constructed module overrides it: override it, or give it a body",
                        ),
                    );
                }
            }
            let (layouts, diagnostics) =
                layout::compute(&ir, layout::Target::host(), &report.dispatch_origins);
            program.diagnostics.extend(diagnostics);
            program.report = Some(report);
            program.layouts = Some(layouts);
        }
        if options.generate && ir.exports.is_empty() && !program.has_errors() {
            program.diagnostics.push(no_exports(&program));
        }
        program.ir = Some(ir);
    }
    prolac_syntax::diagnostic::sort(&mut program.diagnostics);
    Ok(program)
}

/// P0302 at the start of the first root file.
fn no_exports(program: &Program) -> prolac_syntax::Diagnostic {
    let file = program.files.first().map(|f| f.id).unwrap_or_default();
    prolac_syntax::Diagnostic::new(
        prolac_syntax::codes::P0302,
        prolac_syntax::Span::new(file, 0, 0),
        "the program exports nothing, so no code is generated",
    )
    .with_help("export the entry points the host calls: `export Main.run;` (§3.5)")
}
