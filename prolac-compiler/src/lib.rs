//! The Prolac compiler.
//!
//! Today this crate assembles a program from its files ([`load`]), runs the checks that need
//! the whole program's syntax ([`check`]), and reports statistics; semantic analysis, the IR
//! and the back ends come next. The `prolacc` binary is a thin driver over this library.
//!
//! The core does no IO of its own: files are read through a [`fs::FileSystem`].

pub mod check;
pub mod ir;
pub mod fs;
pub mod layout;
pub mod load;
pub mod stats;

use std::path::PathBuf;

pub use load::{LoadError, Program, load_program};
pub use prolac_syntax::HostLang;

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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: HostLang::Rust,
            include_dirs: Vec::new(),
            without: Vec::new(),
            opt_level: 3,
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
    prolac_syntax::diagnostic::sort(&mut program.diagnostics);
    Ok(program)
}
