//! `cargo bench -p prolac-compiler --bench check`: how long `prolacc --emit check` takes on a
//! generated layered TCP-shaped program of about 2,000 lines (the budget: 50 ms; the
//! 1999 compiler took about 0.1 s for its whole TCP, code generation included).
//!
//! Prints the median and minimum over many runs of (1) the whole `prolacc` process and (2)
//! each phase in process: loading and parsing, semantic analysis, optimisation at `-O3`.
//! `PROLAC_BENCH_LAYERS` changes the program's size (default 45 layers), `PROLAC_BENCH_RUNS`
//! the number of runs (default 30); `PROLAC_BENCH_WRITE=FILE` only writes the program to FILE
//! (for profiling `prolacc` on it).

mod layered;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use prolac_compiler::fs::RealFs;
use prolac_compiler::{Options, load_program, opt, sema};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<28} median {:>7.2} ms   min {:>7.2} ms",
        ms(samples[samples.len() / 2]),
        ms(samples[0])
    );
}

fn main() {
    let layers = env_usize("PROLAC_BENCH_LAYERS", 45);
    let runs = env_usize("PROLAC_BENCH_RUNS", 30).max(1);
    let text = layered::program(layers);
    if let Ok(out) = std::env::var("PROLAC_BENCH_WRITE") {
        std::fs::write(&out, &text).expect("write the program");
        return;
    }
    let dir = std::env::temp_dir().join(format!("prolac-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let path = dir.join("layered.pc");
    std::fs::write(&path, &text).expect("write the program");
    println!(
        "program: {} lines, {} bytes, {} layers; {runs} runs",
        text.lines().count(),
        text.len(),
        layers + 1
    );

    // The whole process, as a user runs it.
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_prolacc"));
    let mut process = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(&exe)
            .args(["--emit", "check"])
            .arg(&path)
            .output()
            .expect("prolacc runs");
        process.push(start.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    summary("prolacc --emit check", process);

    // The phases, in process.
    let options = Options::default();
    let (mut load, mut analyse, mut optimise) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = Instant::now();
        let program = load_program(std::slice::from_ref(&path), &RealFs, &options).expect("loads");
        let t1 = Instant::now();
        let analysis = sema::analyse(&program, &options);
        let t2 = Instant::now();
        assert!(
            analysis.diagnostics.is_empty(),
            "the generated program is valid"
        );
        let mut ir = analysis.program;
        let report = opt::optimise(&mut ir, 3);
        let t3 = Instant::now();
        assert_eq!(report.dynamic_dispatches, 0);
        load.push(t1 - t0);
        analyse.push(t2 - t1);
        optimise.push(t3 - t2);
    }
    summary("  load + parse", load);
    summary("  semantic analysis", analyse);
    summary("  optimisation (-O3)", optimise);
    let _ = std::fs::remove_dir_all(&dir);
}
