//! Parse benchmark: how long the front end takes on a generated 2,000-line program.
//!
//! `cargo bench -p prolac-syntax --bench parse` prints a Markdown table (copied into
//! `docs/BENCHMARKS.md`). With `--once` it parses the program a single time and prints
//! nothing, and with `--generate-only` it only builds the program: under
//! `valgrind --tool=callgrind` the difference of the two is the instruction count of one parse.
//! With `--lines N` it generates a program of about N lines instead of 2,000.
//!
//! The program mixes what real protocol code contains: modules with headers and operators,
//! `@`-placed fields, namespaces of constants, methods of one to five lines using every
//! operator level, case bars, `catch` chains, `let`, casts, and layers refining modules.

use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

use prolac_syntax::{FileId, HostLang, ParseOptions, lexer, parse};

/// A deterministic program of about `lines` lines.
fn program(lines: usize) -> String {
    let mut out = String::from("// generated benchmark program\n");
    let mut m = 0;
    while out.bytes().filter(|&b| b == b'\n').count() < lines {
        let _ = writeln!(
            out,
            "module Bench-{m} :> Base-{m} has Window using (fits, advance-to), Stats inline all {{"
        );
        for f in 0..6 {
            let _ = writeln!(out, "  field f{f} :> uint @ {};", f * 4);
        }
        out.push_str("  field win :> *Window using all;\n  S {\n");
        for c in 0..4 {
            let _ = writeln!(out, "    static c{c} :> uint ::= {c} * 4 + 1;");
        }
        out.push_str("  }\n  exception drop;\n");
        for k in 0..14 {
            let _ = match k % 7 {
                0 => writeln!(
                    out,
                    "  step-{k}(s :> seqint) :> bool ::= fits(s) ==> advance-to(s + 1), f0 += 1 ||| drop;"
                ),
                1 => writeln!(
                    out,
                    "  calc-{k}(a :> uint, b :> uint) :> uint ::=\n    (a * 7 + b << 2) / 8 - (a & 0xFF | b ^ S.c1) % 3;"
                ),
                2 => writeln!(
                    out,
                    "  guard-{k} ::=\n    check(f1) catch drop ==> count-dropped\n    catch overflow ==> f2 = 0, reset;"
                ),
                3 => writeln!(
                    out,
                    "  pick-{k}(x :> int) :> int ::= if x < 0 then -x elseif x == 0 then 1 else x end;"
                ),
                4 => writeln!(
                    out,
                    "  local-{k} :> uint ::= let w :> Window(0, 64), n = f3 + 1 in w.size + n end;"
                ),
                5 => writeln!(
                    out,
                    "  cast-{k}(p :> *void) :> uint ::= (uint) ((*uchar) p)[2] + min(f4, f5) max= f0;"
                ),
                _ => writeln!(
                    out,
                    "  hook-{k}(seq :> seqint) ::= inline super.hook-{k}(seq), outline[3] trace(seq);"
                ),
            };
        }
        out.push_str("} hide (f0, f1) inline all;\n\n");
        let _ = writeln!(
            out,
            "layer L{m} requires Base {{\n  module Bench-{m} :> super {{\n    field extra :> ushort;\n    hook-6(seq :> seqint) ::= super.hook-6(seq), extra += 1;\n  }}\n}}\n"
        );
        m += 1;
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lines = args
        .iter()
        .position(|a| a == "--lines")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let text = program(lines);
    let options = ParseOptions {
        host: HostLang::Rust,
    };
    if args.iter().any(|a| a == "--generate-only") {
        black_box(&text);
        return;
    }
    if args.iter().any(|a| a == "--once") {
        black_box(parse(FileId(0), black_box(&text), options));
        return;
    }
    let first = parse(FileId(0), &text, options);
    assert!(
        first.diagnostics.is_empty(),
        "the generated program must be valid: {:?}",
        first.diagnostics.first()
    );
    let tokens = first.token_count;
    let n_lines = text.lines().count();

    // Warm up, then interleave lexing and full parsing rounds so that both see the same
    // machine conditions.
    for _ in 0..5 {
        black_box(parse(FileId(0), black_box(&text), options));
    }
    let rounds = 41;
    let mut lex_times = Vec::with_capacity(rounds);
    let mut parse_times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(lexer::lex(FileId(0), black_box(&text), HostLang::Rust));
        lex_times.push(t.elapsed());
        let t = Instant::now();
        black_box(parse(FileId(0), black_box(&text), options));
        parse_times.push(t.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (pmin, pmax) = (
        parse_times.iter().min().copied().unwrap_or_default(),
        parse_times.iter().max().copied().unwrap_or_default(),
    );
    let pmed = median(parse_times);
    let lmed = median(lex_times);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("Machine: {cpu}, {cores} cores; release build; {rounds} rounds after 5 warm-up runs.");
    println!();
    println!(
        "| input | lines | bytes | tokens | lex (median) | lex + parse (median) | min–max | lines/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| generated program | {n_lines} | {} | {tokens} | {:.2} ms | {:.2} ms | {:.2}–{:.2} ms | {:.0} |",
        text.len(),
        ms(lmed),
        ms(pmed),
        ms(pmin),
        ms(pmax),
        n_lines as f64 / pmed.as_secs_f64()
    );
}
