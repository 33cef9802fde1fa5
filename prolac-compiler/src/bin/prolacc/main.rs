//! `prolacc`, the Prolac compiler driver: command-line parsing, file and terminal IO, exit
//! status. Everything else lives in the `prolac_compiler` library.
//!
//! Exit status: 0 success (warnings allowed), 1 compile errors, 2 usage or IO error.
//! `prolacc run …` (see [`run`]) compiles a program (JIT by default, or with `rustc`) and runs
//! its entry.

mod run;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use prolac_compiler::stats::Stats;
use prolac_compiler::{HostLang, Options, Program};
use prolac_syntax::codes::Code;
use prolac_syntax::codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use prolac_syntax::print::tree;
use prolac_syntax::render;

const EXAMPLES: &str = "\
Examples:
  prolacc examples/ping/ping.pc              check a program (the default --emit check)
  prolacc --emit ast -o ping.ast ping.pc     write the syntax tree as S-expressions
  prolacc --emit ir -O0 ping.pc              print the IR before inlining (devirtualised)
  prolacc --host c --stats legacy.i          check a preprocessed program with C host code
  prolacc -I lib --without rtt stack.pc      search lib/ for includes, leave out layer `rtt`
  prolacc tcp.pc -o tcp.rs                   generate Rust (the default for `-o *.rs`)
  prolacc --emit clif tcp.pc                  print the Cranelift IR the JIT compiles
  prolacc run prog.pc --entry Main.run       compile in-process (JIT), run, print the result
  prolacc run --backend rust prog.pc --entry Main.run   the same through rustc
  prolacc --explain P0105                    explain a diagnostic code

Exit status: 0 success, 1 compile errors, 2 usage or IO error.";

/// The Prolac protocol compiler.
///
/// Reads a whole program — the given files plus every file they `include` — and checks it.
/// Diagnostics go to standard error in the style of the Rust compiler; output requested with
/// `--emit` goes to standard output or to the file named by `-o`.
#[derive(Parser, Debug)]
#[command(name = "prolacc", version, after_help = EXAMPLES, max_term_width = 100)]
struct Cli {
    /// The program's root files (a preprocessed file with `# line` markers works too).
    #[arg(value_name = "FILE", required_unless_present = "explain")]
    files: Vec<PathBuf>,

    /// What to produce [default: `rust` when `-o` names a `.rs` file, else `check`].
    #[arg(long, value_enum)]
    emit: Option<Emit>,

    /// Write the output here instead of standard output.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,

    /// Optimisation level: 0-1 no inlining, 2 inlining, 3 also path inlining.
    #[arg(short = 'O', value_name = "LEVEL", default_value_t = 3,
          value_parser = clap::value_parser!(u8).range(0..=3))]
    opt_level: u8,

    /// Print statistics as `key: value` lines on standard error.
    #[arg(long)]
    stats: bool,

    /// The language inside host blocks `{ … }` and support blocks `%{ … %}`.
    #[arg(long, value_enum, default_value_t = Host::Rust)]
    host: Host,

    /// Also search DIR for `include` files (after the including file's directory).
    #[arg(short = 'I', value_name = "DIR")]
    include: Vec<PathBuf>,

    /// Leave layer NAME out of every composition (repeatable).
    #[arg(long, value_name = "NAME")]
    without: Vec<String>,

    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,

    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,

    /// Explain a diagnostic code (for example P0105) and exit.
    #[arg(long, value_name = "CODE")]
    explain: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Emit {
    /// Print the syntax tree as indented S-expressions.
    Ast,
    /// Run every analysis and write nothing.
    Check,
    /// Print the optimised IR in its text form (it parses back; see `ir::parse`).
    Ir,
    /// Generate Rust source (formatted, deterministic, warning-free).
    Rust,
    /// Print the Cranelift IR of every function the JIT compiles (extern methods unbound).
    Clif,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Host {
    /// C, as in programs written for the 1999 compiler (check mode only).
    C,
    /// Rust.
    Rust,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// A failure that is not a compile error: exit status 2.
struct UsageError(String);

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|a| a == "run") {
        return run::main();
    }
    let mut cli = Cli::parse();
    cli.emit = Some(cli.emit.unwrap_or_else(
        || match cli.output.as_ref().and_then(|p| p.extension()) {
            Some(ext) if ext == "rs" => Emit::Rust,
            _ => Emit::Check,
        },
    ));
    match run(&cli) {
        Ok(code) => code,
        Err(UsageError(message)) => {
            eprintln!("prolacc: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, UsageError> {
    if let Some(code) = &cli.explain {
        return explain(code);
    }
    let emit = cli.emit.unwrap_or(Emit::Check);
    if emit == Emit::Check && cli.output.is_some() {
        return Err(UsageError(
            "`--emit check` writes nothing; use `--emit ast`, `ir`, `rust` or `clif` with `-o`"
                .into(),
        ));
    }
    let options = Options {
        host: match cli.host {
            Host::C => HostLang::C,
            Host::Rust => HostLang::Rust,
        },
        include_dirs: cli.include.clone(),
        without: cli.without.clone(),
        opt_level: cli.opt_level,
        generate: matches!(emit, Emit::Ir | Emit::Rust | Emit::Clif),
    };
    let program =
        prolac_compiler::check_program(&cli.files, &prolac_compiler::fs::RealFs, &options)
            .map_err(|e| UsageError(e.to_string()))?;

    report(cli, &program)?;
    if cli.stats {
        for line in Stats::of(&program).lines() {
            eprintln!("{line}");
        }
    }
    // The tree is written even when there are errors: it shows how the parser recovered.
    if emit == Emit::Ast {
        write_output(cli, &ast_text(&program))?;
    }
    // The IR exists only for a program without errors.
    if emit == Emit::Ir
        && !program.has_errors()
        && let Some(ir) = &program.ir
    {
        write_output(cli, &prolac_compiler::ir::print::program(ir))?;
    }
    if emit == Emit::Rust && !program.has_errors() {
        match prolac_compiler::rust::generate(&program, options.host, &Default::default()) {
            Ok(text) => write_output(cli, &text)?,
            Err(diagnostics) => {
                let mut with = Program { ..program };
                with.diagnostics = diagnostics;
                report(cli, &with)?;
                return Ok(ExitCode::from(1));
            }
        }
    }
    if emit == Emit::Clif && !program.has_errors() {
        use prolac_compiler::clif::{LoadError, OptLevel, emit_clif};
        match emit_clif(&program, OptLevel::Speed) {
            Ok(text) => write_output(cli, &text)?,
            Err(LoadError::Diagnostics(diagnostics)) => {
                let mut with = Program { ..program };
                with.diagnostics = diagnostics;
                report(cli, &with)?;
                return Ok(ExitCode::from(1));
            }
            Err(LoadError::Jit(e)) => {
                return Err(UsageError(format!(
                    "Cranelift rejected the generated code (a compiler bug): {e}"
                )));
            }
        }
    }
    let failed = program.has_errors() || (cli.deny_warnings && !program.diagnostics.is_empty());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn explain(code: &str) -> Result<ExitCode, UsageError> {
    let parsed = Code::parse(code)
        .ok_or_else(|| UsageError(format!("`{code}` is not a code like P0105")))?;
    let text = render::explain(parsed)
        .ok_or_else(|| UsageError(format!("no diagnostic has the code {parsed}")))?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn report(cli: &Cli, program: &Program) -> Result<(), UsageError> {
    if program.diagnostics.is_empty() {
        return Ok(());
    }
    let choice = match cli.color {
        Color::Always => ColorChoice::Always,
        Color::Never => ColorChoice::Never,
        Color::Auto if std::io::stderr().is_terminal() => ColorChoice::Auto,
        Color::Auto => ColorChoice::Never,
    };
    let mut stderr = StandardStream::stderr(choice);
    render::emit(&mut stderr, &program.sources, &program.diagnostics)
        .map_err(|e| UsageError(format!("cannot write diagnostics: {e}")))?;
    if let Some(summary) = render::summary(&program.diagnostics) {
        let _ = writeln!(stderr, "{summary}");
    }
    Ok(())
}

fn ast_text(program: &Program) -> String {
    let mut out = String::new();
    for f in &program.files {
        if program.files.len() > 1 {
            out.push_str(&format!("; file: {}\n", f.path.display()));
        }
        out.push_str(&tree::file(&f.ast, tree::Options::default()));
    }
    out
}

fn write_output(cli: &Cli, text: &str) -> Result<(), UsageError> {
    match &cli.output {
        // Something other than a regular file (a device such as /dev/null, a FIFO, a symbolic
        // link): written through, never replaced by a rename.
        Some(path) if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) => {
            std::fs::write(path, text)
                .map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))
        }
        // Through a temporary file renamed into place: a failed write leaves the old file.
        Some(path) => {
            let tmp = path.with_extension(format!("prolacc-tmp{}", std::process::id()));
            std::fs::write(&tmp, text)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    UsageError(format!("cannot write `{}`: {e}", path.display()))
                })
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| UsageError(format!("cannot write to standard output: {e}")))
        }
    }
}
