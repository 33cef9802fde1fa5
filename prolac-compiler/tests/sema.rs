//! Semantic analysis, fixture-driven.
//!
//! - `fixtures/sema/ok/*.pc` must check with no diagnostics (or exactly the warnings its first
//!   lines list as `// expect-warnings: P0303, …`). Its snapshot holds the source, the
//!   `--stats` figures of the optimiser and the optimised IR.
//! - `fixtures/sema/err/*.pc` starts with `// P0xxx (rule): what it shows` and must produce
//!   exactly one error, of that code (or N of them with `// expect-errors: N`), and the
//!   warnings listed; a fixture that demonstrates a warning starts with `// expect-warnings:`
//!   and must produce no error. The snapshot holds the rendered diagnostics.
//! - Every accepted program's IR passes the verifier before and after optimisation, and its
//!   text form parses back to the same text.
//!
//! Review changed snapshots with `cargo insta review`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use prolac_compiler::fs::RealFs;
use prolac_compiler::ir::{parse, print, verify};
use prolac_compiler::stats::Stats;
use prolac_compiler::{Options, check_program, load_program, opt, sema};
use prolac_syntax::render;

fn header_list(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .take(4)
        .filter_map(|l| l.trim().strip_prefix(key))
        .flat_map(|rest| rest.split(',').map(|c| c.trim().to_string()))
        .filter(|c| !c.is_empty())
        .collect()
}

fn expected_errors(text: &str) -> usize {
    header_list(text, "// expect-errors:")
        .first()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The code named at the start of a reject fixture's first line (`// P0410 (W15): …`), unless
/// the fixture only expects warnings.
fn expected_code(text: &str) -> Option<String> {
    let first = text.lines().next()?.trim().strip_prefix("//")?.trim_start();
    let code = first.get(..5)?;
    (code.starts_with('P') && code[1..].bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.to_string())
}

/// The fixture's path relative to the crate (the tests' working directory), so that rendered
/// diagnostics name `tests/fixtures/…` wherever the repository is checked out.
fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

fn run(path: &Path) -> (String, prolac_compiler::Program) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let program = check_program(&[relative(path)], &RealFs, &Options::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (text, program)
}

fn rel(path: &Path) -> PathBuf {
    path.file_name().map(PathBuf::from).unwrap_or_default()
}

#[test]
fn accepted_programs() {
    let mut problems = Vec::new();
    insta::glob!("fixtures/sema/ok/*.pc", |path| {
        let (text, program) = run(path);
        let warnings: BTreeSet<String> = header_list(&text, "// expect-warnings:")
            .into_iter()
            .collect();
        let codes: BTreeSet<String> = program
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        if codes != warnings || program.has_errors() {
            problems.push(format!(
                "{}:\n{}",
                rel(path).display(),
                render::to_string(&program.sources, &program.diagnostics)
            ));
            return;
        }
        let stats = Stats::of(&program);
        let ir = program.ir.as_ref().map(print::program).unwrap_or_default();
        insta::assert_snapshot!(format!(
            "{text}\n=== stats ===\nmodules: {}\nmethods-emitted: {}\ndynamic-dispatches: {}\ninlined-calls: {}\n=== ir ===\n{ir}",
            stats.modules, stats.methods_emitted, stats.dynamic_dispatches, stats.inlined_calls
        ));
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rejected_programs() {
    let mut problems = Vec::new();
    insta::glob!("fixtures/sema/err/*.pc", |path| {
        let (text, program) = run(path);
        let rendered = render::to_string(&program.sources, &program.diagnostics);
        let errors = program.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings: Vec<String> = program
            .diagnostics
            .iter()
            .filter(|d| !d.is_error())
            .map(|d| d.code.to_string())
            .collect();
        let expected_warnings: BTreeSet<String> = header_list(&text, "// expect-warnings:")
            .into_iter()
            .collect();
        let got_warnings: BTreeSet<String> = warnings.into_iter().collect();
        // The error a fixture demonstrates is the code its first line names.
        let expected_code = expected_code(&text);
        let error_codes: Vec<String> = program
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.to_string())
            .collect();
        let errors_ok = match &expected_code {
            Some(code) => errors == expected_errors(&text) && error_codes.iter().all(|c| c == code),
            None => errors == 0,
        };
        if !errors_ok
            || got_warnings != expected_warnings
            || (expected_code.is_none() && expected_warnings.is_empty())
        {
            problems.push(format!(
                "{}: expected {:?} (x{}) and warnings {expected_warnings:?}, got {error_codes:?} and {got_warnings:?}:\n{rendered}",
                rel(path).display(),
                expected_code,
                expected_errors(&text),
            ));
        }
        insta::assert_snapshot!(format!("{text}\n=== diagnostics ===\n{rendered}"));
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The IR of every accepted program verifies before and after optimisation at every level,
/// and its text form round-trips.
#[test]
fn ir_of_accepted_programs_verifies_and_round_trips() {
    let mut problems = Vec::new();
    let mut checked = 0;
    insta::glob!("fixtures/sema/ok/*.pc", |path| {
        let options = Options::default();
        let Ok(loaded) = load_program(&[relative(path)], &RealFs, &options) else {
            return;
        };
        let analysis = sema::analyse(&loaded, &options);
        if analysis.diagnostics.iter().any(|d| d.is_error()) {
            return; // reported by `accepted_programs`
        }
        if let Err(errors) = verify::verify(&analysis.program) {
            problems.push(format!(
                "{} (before optimisation): {errors:?}",
                rel(path).display()
            ));
        }
        for level in 0..=3 {
            let mut p = analysis.program.clone();
            opt::optimise(&mut p, level);
            if let Err(errors) = verify::verify(&p) {
                problems.push(format!("{} (-O{level}): {errors:?}", rel(path).display()));
            }
            let text = print::program(&p);
            match parse::program(&text) {
                Ok(back) => {
                    let again = print::program(&back);
                    if again != text {
                        problems.push(format!(
                            "{} (-O{level}): the IR text does not round-trip",
                            rel(path).display()
                        ));
                    }
                }
                Err(e) => problems.push(format!(
                    "{} (-O{level}): the IR text does not parse: {e}",
                    rel(path).display()
                )),
            }
        }
        checked += 1;
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 60, "only {checked} accepted programs");
}

#[test]
fn there_are_enough_semantic_fixtures() {
    let count = |dir: &str| {
        std::fs::read_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/sema")
                .join(dir),
        )
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "pc"))
                .count()
        })
        .unwrap_or(0)
    };
    assert!(count("ok") >= 60, "{} accept fixtures", count("ok"));
    assert!(count("err") >= 40, "{} reject fixtures", count("err"));
}
