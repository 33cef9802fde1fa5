//! Repository hygiene that review would otherwise have to catch:
//!
//! - every Rust source file starts with a `//!` header saying what it is for;
//! - every diagnostic code the sources mention (`P0105`) is in the registry, and every
//!   registered code is used somewhere outside the registry (no dead entries);
//! - no source file grows past 1,000 lines (split before ~800).

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') && name != "snapshots" {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for krate in ["prolac-syntax", "prolac-compiler"] {
        rust_files(&workspace().join(krate), &mut files);
    }
    files.sort();
    files
}

#[test]
fn every_source_file_has_a_module_header() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` header:\n{}",
        missing.join("\n")
    );
}

#[test]
fn source_files_stay_small() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter_map(|p| {
            let n = std::fs::read_to_string(&p)
                .unwrap_or_default()
                .lines()
                .count();
            (n > 1000).then(|| format!("{}: {n} lines", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}

fn codes_in(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (i, _) in text.match_indices('P') {
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let digits = bytes.get(i + 1..i + 5);
        let after_ok = bytes.get(i + 5).is_none_or(|b| !b.is_ascii_alphanumeric());
        if before_ok && after_ok && digits.is_some_and(|d| d.iter().all(u8::is_ascii_digit)) {
            out.push(text[i..i + 5].to_string());
        }
    }
    out
}

#[test]
fn diagnostic_codes_are_registered_and_used() {
    let registry = workspace().join("prolac-syntax/src/codes.rs");
    let registered: Vec<String> = prolac_syntax::codes::REGISTRY
        .iter()
        .map(|i| i.code.to_string())
        .collect();
    let mut used = std::collections::BTreeSet::new();
    for p in sources() {
        if p == registry || p.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        used.extend(codes_in(&text));
    }
    let unregistered: Vec<&String> = used.iter().filter(|c| !registered.contains(c)).collect();
    assert!(
        unregistered.is_empty(),
        "codes used but not registered: {unregistered:?}"
    );
    let unused: Vec<&String> = registered.iter().filter(|c| !used.contains(*c)).collect();
    assert!(
        unused.is_empty(),
        "codes registered but never reported: {unused:?}"
    );
}
