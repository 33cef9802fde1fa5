//! Fixture-driven tests of the front end.
//!
//! - `fixtures/ok/*.pc` must parse without errors; each snapshot holds the source, the tree and
//!   any warnings.
//! - `fixtures/err/*.pc` must produce errors; each snapshot holds the source and the rendered
//!   diagnostics. A fixture holds one mistake and must produce exactly one error, unless its
//!   first lines say `// expect-errors: N` (W15, one diagnostic per mistake).
//! - Every ok fixture round-trips through the source printer: the printed program parses back
//!   to the same tree, and printing it again gives the same text.
//!
//! A fixture may start with `// host: c` to be scanned with C host rules.
//! Review changed snapshots with `cargo insta review`.

use std::path::Path;

use prolac_syntax::print::{source, tree};
use prolac_syntax::{HostLang, ParseOptions, Parsed, SourceMap, parse, render};

fn options(text: &str) -> ParseOptions {
    let host = if text.lines().take(3).any(|l| l.trim() == "// host: c") {
        HostLang::C
    } else {
        HostLang::Rust
    };
    ParseOptions { host }
}

fn load(path: &Path) -> (SourceMap, String, Parsed) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut sm = SourceMap::new();
    let id = sm.add(name, text.clone());
    let parsed = parse(id, &text, options(&text));
    sm.set_line_directives(id, &parsed.directives);
    (sm, text, parsed)
}

fn expected_errors(text: &str) -> usize {
    text.lines()
        .take(3)
        .find_map(|l| l.trim().strip_prefix("// expect-errors:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1)
}

#[test]
fn ok_fixtures() {
    insta::glob!("fixtures/ok/*.pc", |path| {
        let (sm, text, parsed) = load(path);
        let errors: Vec<_> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        assert!(
            errors.is_empty(),
            "{} has errors:\n{}",
            path.display(),
            render::to_string(&sm, &errors)
        );
        let mut snapshot = format!(
            "{text}\n=== tree ===\n{}",
            tree::file(&parsed.file, tree::Options::default())
        );
        if !parsed.diagnostics.is_empty() {
            snapshot.push_str("\n=== warnings ===\n");
            snapshot.push_str(&render::to_string(&sm, &parsed.diagnostics));
        }
        insta::assert_snapshot!(snapshot);
    });
}

#[test]
fn err_fixtures() {
    let mut wrong = Vec::new();
    insta::glob!("fixtures/err/*.pc", |path| {
        let (sm, text, parsed) = load(path);
        let errors = parsed.diagnostics.iter().filter(|d| d.is_error()).count();
        let expected = expected_errors(&text);
        let rendered = render::to_string(&sm, &parsed.diagnostics);
        if errors != expected {
            wrong.push(format!(
                "{}: expected {expected} error(s), got {errors}:\n{rendered}",
                path.display()
            ));
        }
        insta::assert_snapshot!(format!("{text}\n=== diagnostics ===\n{rendered}"));
    });
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Print → parse → print is stable, and the reparsed tree equals the original up to
/// parentheses.
#[test]
fn ok_fixtures_round_trip_through_the_printer() {
    let mut checked = 0;
    insta::glob!("fixtures/ok/*.pc", |path| {
        let (_, text, parsed) = load(path);
        let printed = source::file(&parsed.file);
        let mut sm = SourceMap::new();
        let id = sm.add("printed.pc", printed.clone());
        let reparsed = parse(id, &printed, options(&text));
        let errors: Vec<_> = reparsed
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        assert!(
            errors.is_empty(),
            "{}: the printed program does not parse:\n{printed}\n{}",
            path.display(),
            render::to_string(&sm, &errors)
        );
        let flat = tree::Options { parens: false };
        assert_eq!(
            tree::file(&parsed.file, flat),
            tree::file(&reparsed.file, flat),
            "{}: the printed program means something else:\n{printed}",
            path.display()
        );
        assert_eq!(
            source::file(&reparsed.file),
            printed,
            "{}: printing is not stable",
            path.display()
        );
        checked += 1;
    });
    assert!(checked >= 50, "only {checked} ok fixtures");
}

#[test]
fn there_are_at_least_eighty_fixtures() {
    let count = |dir: &str| {
        std::fs::read_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(dir),
        )
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "pc"))
                .count()
        })
        .unwrap_or(0)
    };
    let (ok, err) = (count("ok"), count("err"));
    assert!(ok + err >= 80, "{ok} ok + {err} err fixtures");
    assert!(ok >= 40 && err >= 40, "{ok} ok, {err} err");
}
