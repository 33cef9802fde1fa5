//! `prolac-drill`: packetdrill scripts run in-process against the Prolac TCP. The script
//! language ([`ast`], [`lexer`], [`parser`]) is packetdrill's; [`kernel`] is the socket layer a
//! script talks to, [`wire`] translates segments between the script's numbers and the TCP's,
//! and [`runner`] plays the script on a virtual clock.

pub mod ast;
pub mod kernel;
pub mod lexer;
pub mod parser;
pub mod runner;
pub mod wire;

use std::path::{Path, PathBuf};

pub use kernel::System;
pub use parser::{ParseError, parse};
pub use runner::{Verdict, run};

/// Runs the script in file `path`.
#[must_use]
pub fn run_file(path: &Path, system: System) -> Verdict {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Verdict::Fail(format!("cannot read it: {e}")),
    };
    match parse(&text) {
        Ok(script) => run(&script, system),
        Err(e) => Verdict::Fail(format!("parse error at {e}")),
    }
}

/// The `.pkt` files under each path (files as given, directories searched recursively, in
/// name order).
///
/// # Errors
///
/// A path that does not exist or a directory that cannot be read.
pub fn collect_scripts(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "pkt") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or directory", p.display()),
            ));
        }
    }
    Ok(out)
}
