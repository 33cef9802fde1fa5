//! `prolacc run FILE… --entry Module.method`: compile a program and run its entry, passing the
//! result on: the entry's value as a decimal number on standard output and exit status 0, or an
//! uncaught exception on standard error and exit status 1. Status 2 is a usage or IO error
//! (including a missing `rustc` with `--backend rust`).
//!
//! Two back ends, one contract: `--backend jit` (the default) compiles to machine code in
//! this process with Cranelift — no `rustc` needed; `--backend rust` generates Rust with a
//! `main` that calls the entry and builds it with `rustc` in a cache directory.
//!
//! The entry must be a static method without parameters returning an integer or `bool`
//! (printed as 1 or 0). It need not be exported: `run` adds the export itself, through a
//! synthetic root file `<entry>` holding `export Module.method;`.
//!
//! Builds are cached by a hash of the generated source and the `rustc` version in
//! `$PROLAC_CACHE_DIR`, else `$XDG_CACHE_HOME/prolac`, else `~/.cache/prolac`.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::Parser;
use prolac_compiler::clif::{self, JitOptions, LoadError};
use prolac_compiler::fs::{MemFs, Overlay, RealFs};
use prolac_compiler::ir::TypeKind;
use prolac_compiler::rust::RustOptions;
use prolac_compiler::{HostLang, Options};
use prolac_syntax::codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use prolac_syntax::render;

/// Compile a Prolac program, run its entry method and print the result.
///
/// The JIT (Cranelift, the default) compiles in this process; `--backend rust` generates Rust
/// and builds it with rustc (cached). Both print the same value or the same uncaught exception.
#[derive(Parser, Debug)]
#[command(name = "prolacc run", max_term_width = 100)]
struct RunCli {
    /// The program's root files.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,

    /// The entry: a static method without parameters returning an integer or bool.
    #[arg(long, value_name = "MODULE.METHOD")]
    entry: String,

    /// Optimisation level of the Prolac compiler (0-3).
    #[arg(short = 'O', value_name = "LEVEL", default_value_t = 3,
          value_parser = clap::value_parser!(u8).range(0..=3))]
    opt_level: u8,

    /// Also search DIR for `include` files.
    #[arg(short = 'I', value_name = "DIR")]
    include: Vec<PathBuf>,

    /// Leave layer NAME out of every composition (repeatable).
    #[arg(long, value_name = "NAME")]
    without: Vec<String>,

    /// The back end: `jit` compiles to machine code here (Cranelift); `rust` generates Rust
    /// and builds it with rustc.
    #[arg(long, value_enum, default_value_t = Backend::Jit)]
    backend: Backend,

    /// Keep the generated Rust here (for inspection; `--backend rust` only).
    #[arg(long, value_name = "PATH")]
    keep_rust: Option<PathBuf>,
}

/// Which back end runs the program.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
enum Backend {
    /// Cranelift machine code, compiled in this process.
    Jit,
    /// Rust source, built with rustc.
    Rust,
}

const ENTRY_FILE: &str = "<entry>";

pub(crate) fn main() -> ExitCode {
    let cli = RunCli::parse_from(std::env::args_os().skip(1));
    match run(&cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("prolacc run: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &RunCli) -> Result<ExitCode, String> {
    if !cli.entry.split('.').all(|p| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    }) || !cli.entry.contains('.')
    {
        return Err(format!(
            "`--entry {}` is not of the form Module.method",
            cli.entry
        ));
    }
    let mut extra = MemFs::new();
    extra.add(ENTRY_FILE, format!("export {};\n", cli.entry));
    let fs = Overlay {
        extra,
        base: &RealFs,
    };
    let mut roots = vec![PathBuf::from(ENTRY_FILE)];
    roots.extend(cli.files.iter().cloned());
    let options = Options {
        host: HostLang::Rust,
        include_dirs: cli.include.clone(),
        without: cli.without.clone(),
        opt_level: cli.opt_level,
        generate: true,
    };
    let program =
        prolac_compiler::check_program(&roots, &fs, &options).map_err(|e| e.to_string())?;
    let mut stderr = StandardStream::stderr(ColorChoice::Never);
    let show = |stderr: &mut StandardStream, d: &[prolac_syntax::Diagnostic]| {
        let _ = render::emit(stderr, &program.sources, d);
    };
    show(&mut stderr, &program.diagnostics);
    if program.has_errors() {
        return Ok(ExitCode::from(1));
    }
    let Some(ir) = &program.ir else {
        return Ok(ExitCode::from(1));
    };
    let Some(&entry) = ir.exports.first() else {
        return Err(format!("`{}` names no method", cli.entry));
    };
    let method = &ir.methods[entry];
    let ret = ir.types.kind(method.ret);
    if method.has_receiver()
        || !method.params.is_empty()
        || !matches!(
            ret,
            TypeKind::Int { .. } | TypeKind::Bool | TypeKind::SeqInt
        )
    {
        return Err(format!(
            "the entry `{}` must be a static method without parameters returning an integer \
             or bool",
            cli.entry
        ));
    }
    if cli.backend == Backend::Jit {
        if cli.keep_rust.is_some() {
            return Err("`--keep-rust` needs `--backend rust`".into());
        }
        return run_jit(&program, entry, &mut stderr);
    }
    let text = match prolac_compiler::rust::generate(
        &program,
        HostLang::Rust,
        &RustOptions {
            main_entry: Some(entry),
        },
    ) {
        Ok(t) => t,
        Err(d) => {
            show(&mut stderr, &d);
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(keep) = &cli.keep_rust {
        std::fs::write(keep, &text)
            .map_err(|e| format!("cannot write `{}`: {e}", keep.display()))?;
    }
    let exe = build(&text)?;
    let status = Command::new(&exe)
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", exe.display()))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(1) => ExitCode::from(1),
        _ => {
            eprintln!("prolacc run: the program aborted ({status})");
            ExitCode::from(1)
        }
    })
}

/// Compiles with Cranelift and runs the entry in this process.
fn run_jit(
    program: &prolac_compiler::Program,
    entry: prolac_compiler::ir::MethodId,
    stderr: &mut StandardStream,
) -> Result<ExitCode, String> {
    let options = JitOptions {
        main_entry: Some(entry),
        ..JitOptions::default()
    };
    let loaded = match clif::load(program, &[], &options) {
        Ok(l) => l,
        Err(LoadError::Diagnostics(d)) => {
            let _ = render::emit(stderr, &program.sources, &d);
            return Ok(ExitCode::from(1));
        }
        Err(LoadError::Jit(e)) => {
            return Err(format!(
                "Cranelift rejected the generated code (a compiler bug): {e}"
            ));
        }
    };
    match loaded.run_main() {
        Some(Ok(v)) => {
            println!("{v}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Err(name)) => {
            eprintln!("uncaught exception {name}");
            Ok(ExitCode::from(1))
        }
        None => Err("no entry was compiled".into()),
    }
}

fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PROLAC_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("prolac");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache").join("prolac");
    }
    std::env::temp_dir().join("prolac-cache")
}

/// Builds the program with rustc unless the cache has it; returns the executable.
fn build(text: &str) -> Result<PathBuf, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(&rustc)
        .arg("-V")
        .output()
        .map_err(|e| format!("cannot run `rustc` ({e}); install Rust or set RUSTC"))?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    version.stdout.hash(&mut h);
    let key = format!("run-{:016x}", h.finish());
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let exe = dir.join(&key);
    if exe.is_file() {
        return Ok(exe);
    }
    let src = dir.join(format!("{key}.rs"));
    std::fs::write(&src, text).map_err(|e| format!("cannot write `{}`: {e}", src.display()))?;
    eprintln!(
        "prolacc run: compiling with rustc (cached in {})",
        dir.display()
    );
    let tmp = dir.join(format!("{key}.tmp{}", std::process::id()));
    let out = Command::new(&rustc)
        .args([
            "--edition",
            "2024",
            "-C",
            "opt-level=2",
            "--crate-name",
            "prolac_run",
            "-o",
        ])
        .arg(&tmp)
        .arg(&src)
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rustc rejected the generated code (a compiler bug; the source is {}):\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    rename(&tmp, &exe)?;
    Ok(exe)
}

fn rename(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to).map_err(|e| format!("cannot write `{}`: {e}", to.display()))
}
