//! The Prolac examples in the documentation are checked: every ```prolac block of
//! `docs/language.md` and `README.md` must pass `prolacc --emit check` with no diagnostics,
//! unless the block names the diagnostics it demonstrates (`error[P0205]` in a comment), in
//! which case exactly those codes must be reported.
//!
//! A block starting with `// file: NAME` is stored under that name, so that examples can
//! include each other; includes no block provides resolve to empty files. A block containing
//! `// prolacc --host c` is checked with C host rules.
//!
//! The guide's examples build on each other (a `Timer` defined once is refined and viewed in
//! later sections), so a block that names a module it does not define is checked together with
//! the first block that defines it (and, in turn, that block's own context). Only blocks that
//! demonstrate no diagnostics serve as context.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use prolac_compiler::fs::MemFs;
use prolac_compiler::{HostLang, Options, check_program};

fn blocks(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_end() == "```prolac" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => out.extend(current.take()),
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    out
}

fn codes_named(text: &str) -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    for kind in ["error[", "warning["] {
        for (i, _) in text.match_indices(kind) {
            let code = &text[i + kind.len()..];
            if code.len() >= 5 && code.as_bytes()[0] == b'P' {
                codes.insert(code[..5].to_string());
            }
        }
    }
    codes
}

fn check_markdown(file: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let markdown = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let blocks = blocks(&markdown);
    let mut fs = MemFs::new();
    let mut names = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let name = b
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// file: "))
            .map_or_else(|| format!("block{:02}.pc", i + 1), |n| n.trim().to_string());
        fs.add(&name, b.as_bytes());
        names.push(name);
    }
    for b in &blocks {
        for line in b.lines() {
            if let Some(rest) = line.trim().strip_prefix("include \"")
                && let Some(inc) = rest.split('"').next()
                && !names.iter().any(|n| n == inc)
            {
                fs.add(inc, "// provided by the test\n");
            }
        }
    }
    let defines: Vec<BTreeSet<String>> = blocks.iter().map(|b| modules_defined(b)).collect();
    let mut failures = Vec::new();
    for (i, (b, name)) in blocks.iter().zip(&names).enumerate() {
        let mut roots: Vec<PathBuf> = context(i, &blocks, &defines)
            .into_iter()
            .map(|j| PathBuf::from(&names[j]))
            .collect();
        roots.push(PathBuf::from(name));
        let options = Options {
            host: if b.contains("// prolacc --host c") {
                HostLang::C
            } else {
                HostLang::Rust
            },
            ..Options::default()
        };
        let program = check_program(&roots, &fs, &options).expect("in memory");
        let got: BTreeSet<String> = program
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        let expected = codes_named(b);
        if got != expected {
            failures.push(format!(
                "{file} {name}: expected {expected:?}, got {got:?}:\n{}",
                prolac_syntax::render::to_string(&program.sources, &program.diagnostics)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    blocks.len()
}

/// The modules a block defines (`module X`, `module X ::= …`, qualified names by their last
/// component).
fn modules_defined(block: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in block.lines() {
        let mut words = line.split_whitespace();
        while let Some(w) = words.next() {
            if w == "module"
                && let Some(name) = words.next()
            {
                let name = name.trim_end_matches(['{', ';']);
                out.insert(name.rsplit('.').next().unwrap_or(name).to_string());
            }
        }
    }
    out
}

/// Capitalised words of a block, outside comments: the module names it may use.
fn capitalised_words(block: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in block.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for w in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            if w.starts_with(|c: char| c.is_ascii_uppercase()) {
                out.insert(w.trim_end_matches('-').to_string());
            }
        }
    }
    out
}

/// The blocks block `i` is checked with: for each module it names but does not define, the
/// first clean block that defines it, with that block's own context, in guide order.
fn context(i: usize, blocks: &[String], defines: &[BTreeSet<String>]) -> Vec<usize> {
    let mut chosen: BTreeSet<usize> = BTreeSet::new();
    let mut todo = vec![i];
    let mut provided: BTreeSet<String> = defines[i].clone();
    while let Some(k) = todo.pop() {
        for word in capitalised_words(&blocks[k]) {
            if provided.contains(&word) {
                continue;
            }
            let found = (0..blocks.len()).find(|&j| {
                j != i && defines[j].contains(&word) && codes_named(&blocks[j]).is_empty()
            });
            if let Some(j) = found
                && chosen.insert(j)
            {
                provided.extend(defines[j].iter().cloned());
                todo.push(j);
            }
        }
    }
    chosen.into_iter().collect()
}

#[test]
fn language_guide_examples_check() {
    let n = check_markdown("docs/language.md");
    assert!(n >= 20, "only {n} examples found in the guide");
}

#[test]
fn readme_examples_check() {
    check_markdown("README.md");
}

/// Every fixture the checklist of `docs/language.md` cites exists.
#[test]
fn checklist_cites_existing_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let guide = std::fs::read_to_string(root.join("docs/language.md")).expect("guide");
    let checklist = &guide[guide
        .find("## Appendix B")
        .expect("the guide has a checklist")..];
    let (mut cited, mut semantic) = (0, 0);
    for piece in checklist.split('`') {
        if !piece.ends_with(".pc") {
            continue;
        }
        let path = if piece.starts_with("ok/") || piece.starts_with("err/") {
            root.join("prolac-syntax/tests/fixtures").join(piece)
        } else if let Some(rest) = piece.strip_prefix("sema/") {
            semantic += 1;
            root.join("prolac-compiler/tests/fixtures/sema").join(rest)
        } else {
            continue;
        };
        assert!(
            path.is_file(),
            "the checklist cites {piece}, which does not exist"
        );
        cited += 1;
    }
    assert!(cited >= 40, "only {cited} fixtures cited");
    assert!(semantic >= 100, "only {semantic} semantic fixtures cited");
    // Every row is proven: nothing is left pending.
    let pending: Vec<&str> = checklist
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("*pending*"))
        .collect();
    assert!(
        pending.is_empty(),
        "rows still pending:\n{}",
        pending.join("\n")
    );
}
