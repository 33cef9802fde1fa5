//! Every packetdrill script of the shared conformance corpus parses (`PROLAC_CONFORMANCE_DIR`
//! overrides `../shared/conformance`; without it the test says so and passes), and so do our
//! own scripts in `tests/scripts/`.

use std::path::{Path, PathBuf};

use prolac_conformance::drill::parse;

fn scripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            scripts(&path, out);
        } else if path.extension().is_some_and(|e| e == "pkt") {
            out.push(path);
        }
    }
}

fn parse_all(dir: &Path) -> usize {
    let mut files = Vec::new();
    scripts(dir, &mut files);
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if let Err(e) = parse(&text) {
            failures.push(format!("{}:{e}", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scripts do not parse:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    files.len()
}

#[test]
fn every_script_of_the_corpus_parses() {
    let dir = std::env::var_os("PROLAC_CONFORMANCE_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
        PathBuf::from,
    );
    if !dir.is_dir() {
        println!(
            "skipping: no conformance corpus at {} (set PROLAC_CONFORMANCE_DIR)",
            dir.display()
        );
        return;
    }
    let n = parse_all(&dir);
    println!("{n} scripts parsed");
    assert!(n > 400, "the corpus has more than 400 scripts, found {n}");
}
