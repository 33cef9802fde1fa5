//! The back ends' part of the no-panic test: an accepted program gives Rust text or the Rust
//! back end's own diagnostics (P11xx), and machine code that passes Cranelift's verifier or the
//! Cranelift back end's own diagnostics (P11xx, at `-O0` and `-O3`); never a panic.

use std::path::Path;

use prolac_compiler::clif::{self, JitOptions, LoadError};
use prolac_compiler::{HostLang, Program};

/// Runs both back ends on an accepted program compiled at `level`, reporting problems.
pub(crate) fn check(program: &Program, level: u8, problem: &mut impl FnMut(&str, String)) {
    let rust = prolac_compiler::rust::generate(program, HostLang::Rust, &Default::default());
    if let Err(d) = &rust
        && d.iter().any(|d| d.code.0 / 100 != 11)
    {
        problem("rust back end: diagnostic outside P11xx", format!("{d:?}"));
    }
    if let (Ok(t), Some(dir)) = (&rust, std::env::var_os("PROLAC_FUZZ_RUST_DIR")) {
        let _ = std::fs::write(Path::new(&dir).join(format!("{}.rs", t.len())), t);
    }
    if level != 0 && level != 3 {
        return;
    }
    let options = JitOptions {
        verify: true,
        stub_missing_hosts: true,
        threads: 1,
        ..JitOptions::default()
    };
    match clif::load(program, &[], &options) {
        Ok(_) => {}
        Err(LoadError::Diagnostics(d)) if d.iter().all(|d| d.code.0 / 100 == 11) => {}
        Err(LoadError::Diagnostics(d)) => {
            problem(
                "cranelift back end: diagnostic outside P11xx",
                format!("{d:?}"),
            );
        }
        Err(LoadError::Jit(e)) => problem("cranelift back end: rejected code", e.to_string()),
    }
}
