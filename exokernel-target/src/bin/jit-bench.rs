//! `jit-bench`: what the Cranelift back end costs and delivers for the TCP, in one run, written
//! into `docs/BENCHMARKS.md` (between the `jit-bench` markers):
//!
//! - the compile time of the whole TCP (the layers of `Full`) from its embedded sources to
//!   callable machine code — parsing, analysis and optimisation, then Cranelift — over several
//!   fresh compilations: median and min–max, and Cranelift's share;
//! - instructions per MSS-sized data segment of the JIT-compiled TCP against the Rust-compiled
//!   one on the same in-memory transfer (callgrind, difference of N and 2N segments, so the
//!   compilation itself cancels out), at several inlining limits.
//!
//! Needs valgrind for the second part (skipped with a note otherwise).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use exokernel_target::bench::{instructions_per_segment, median_min_max};
use protocols::tcp::jit::{self, OptLevel};

/// Measures the JIT-compiled TCP: compile time, and instructions per segment against the
/// Rust-compiled TCP.
#[derive(Debug, Parser)]
#[command(name = "jit-bench", version)]
struct Args {
    /// Fresh compilations of the TCP for the compile-time figures.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Segments per callgrind run (the difference of N and 2N segments, over N).
    #[arg(long, default_value_t = 4000)]
    callgrind_segments: usize,
    /// Where to write the report's section (default docs/BENCHMARKS.md).
    #[arg(long)]
    write: Option<PathBuf>,
    /// Print only; write nothing.
    #[arg(long)]
    no_write: bool,
    /// Internal: one in-memory transfer of this many segments (what callgrind runs).
    #[arg(long, hide = true, requires = "stack")]
    segments: Option<usize>,
    /// Internal: the stack of --segments.
    #[arg(long, hide = true)]
    stack: Option<String>,
}

fn run(args: &Args) -> Result<String, String> {
    let rounds = args.rounds.max(1);
    let mut out = String::new();
    out.push_str(&format!(
        "Measured by `jit-bench` (`cargo run --release -p exokernel-target --bin jit-bench`) \
         on {}.\n\n",
        exokernel_target::bench::machine()
    ));
    out.push_str(
        "| compiling the whole TCP (layers of `Full`) to machine code | median (min–max) |\n|---|---:|\n",
    );
    for (opt, name) in [(OptLevel::Speed, "speed"), (OptLevel::None, "none")] {
        let mut total = Vec::new();
        let mut cranelift = Vec::new();
        let mut front = Vec::new();
        let mut last = None;
        // A warm-up compilation, not counted.
        for round in 0..=rounds {
            let c = jit::compile(opt)?;
            if round > 0 {
                total.push(c.compile_time.as_secs_f64() * 1e3);
                cranelift.push(c.stats.compile_time.as_secs_f64() * 1e3);
                front.push(c.front_end_time.as_secs_f64() * 1e3);
            }
            last = Some(c.stats);
        }
        let (m, lo, hi) = median_min_max(&total);
        let (cm, clo, chi) = median_min_max(&cranelift);
        let (fm, flo, fhi) = median_min_max(&front);
        out.push_str(&format!(
            "| Cranelift opt level `{name}`: sources to callable code, ms | {m:.1} ({lo:.1}–{hi:.1}) |\n\
             | of which the front end (parse, analyse, optimise, lay out), ms | {fm:.1} ({flo:.1}–{fhi:.1}) |\n\
             | of which Cranelift (inline, compile, link; verifier off), ms | {cm:.1} ({clo:.1}–{chi:.1}) |\n"
        ));
        if let Some(s) = last {
            out.push_str(&format!(
                "| … functions, IR instructions described (+ inlined), bytes of machine code | {} functions, {} (+{}), {} bytes |\n",
                s.functions, s.instructions, s.inlined_instructions, s.code_bytes
            ));
        }
        eprintln!("jit-bench: compile times at opt level {name} measured");
    }
    let rust = instructions_per_segment("prolac", args.callgrind_segments)?;
    let jit = instructions_per_segment("prolac-jit", args.callgrind_segments)?;
    match (rust, jit) {
        (Some(r), Some(j)) => out.push_str(&format!(
            "\nInstructions per MSS-sized data segment, both ends, in-memory transfer \
             (callgrind, difference of {n} and {m} segments, vector copies): Rust-compiled TCP \
             {r:.0}, JIT-compiled TCP {j:.0}, ratio {:.2} (goal ≤ 1.5).\n",
            j / r,
            n = args.callgrind_segments,
            m = 2 * args.callgrind_segments
        )),
        _ => {
            out.push_str("\nInstructions per segment: not measured (valgrind is not installed).\n")
        }
    }
    Ok(out)
}

const BEGIN: &str = "<!-- jit-bench: begin -->";
const END: &str = "<!-- jit-bench: end -->";

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(status) =
        exokernel_target::bench::segments_mode("jit-bench", args.segments, args.stack.as_deref())
    {
        return status;
    }
    exokernel_target::bench::publish(
        "jit-bench",
        run(&args),
        args.write.as_deref(),
        args.no_write,
        (BEGIN, END, "## The JIT-compiled TCP (issue 9)"),
    )
}
