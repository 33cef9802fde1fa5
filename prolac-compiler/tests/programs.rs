//! Whole programs whose optimisation results are part of the language's promise (§13.2):
//!
//! - C02: a TCP-shaped program — a TCB refined by ten layers, input steps as modules, hooks
//!   chained with `super`, objects created as the final modules — compiles with no dynamic
//!   dispatch at every `-O` level;
//! - C03: with two sibling subclasses of one module both constructed, dispatch remains only at
//!   the calls whose target differs between them (two here), and at `-O2`/`-O3` inlining
//!   exposes the receivers' exact modules so that none remains.

use std::path::{Path, PathBuf};

use prolac_compiler::fs::RealFs;
use prolac_compiler::stats::Stats;
use prolac_compiler::{Options, check_program};
use prolac_syntax::render;

fn stats(name: &str, level: u8) -> Stats {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name);
    let options = Options {
        opt_level: level,
        ..Options::default()
    };
    let program = check_program(&[path], &RealFs, &options).expect("the program loads");
    assert!(
        program.diagnostics.is_empty(),
        "{}",
        render::to_string(&program.sources, &program.diagnostics)
    );
    Stats::of(&program)
}

#[test]
fn c02_layered_tcp_has_no_dynamic_dispatch_at_any_level() {
    for level in 0..=3 {
        let s = stats("layered_tcp.pc", level);
        assert_eq!(s.dynamic_dispatches, 0, "-O{level}");
        assert_eq!(s.layers, 10);
        if level >= 2 {
            assert!(s.inlined_calls > 0, "-O{level} inlines the hook chains");
        } else {
            assert_eq!(s.inlined_calls, 0, "-O{level} inlines nothing");
        }
    }
}

#[test]
fn c03_sibling_subclasses_dispatch_only_where_targets_differ() {
    for level in 0..=1 {
        assert_eq!(
            stats("sibling_dispatch.pc", level).dynamic_dispatches,
            2,
            "-O{level}"
        );
    }
    for level in 2..=3 {
        assert_eq!(
            stats("sibling_dispatch.pc", level).dynamic_dispatches,
            0,
            "-O{level}"
        );
    }
}

#[path = "../benches/layered.rs"]
mod layered;

/// The benchmark's generated program (`benches/check.rs`) is a valid program of the promised
/// size, and its layered hooks devirtualise completely.
#[test]
fn the_benchmark_program_is_valid_and_large() {
    let text = layered::program(45);
    let lines = text.lines().count();
    assert!(lines >= 2000, "{lines} lines");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("layered.pc");
    std::fs::write(&path, &text).expect("write");
    let program = check_program(&[path], &RealFs, &Options::default()).expect("loads");
    assert!(
        program.diagnostics.is_empty(),
        "{}",
        render::to_string(&program.sources, &program.diagnostics)
    );
    let s = Stats::of(&program);
    assert_eq!(s.layers, 46);
    assert_eq!(s.dynamic_dispatches, 0);
    assert!(s.methods_emitted > 45, "{}", s.methods_emitted);
}

/// W11: `--without L` compiles exactly the program without layer `L` — the same IR as the
/// source with `L`'s definition and its place in the composition deleted — for every layer
/// of the layered TCP that no other layer requires.
#[test]
fn w11_without_a_layer_is_the_program_without_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/layered_tcp.pc");
    let text = std::fs::read_to_string(&path).expect("read");
    // Layer blocks: from `layer NAME` to the next `layer` or `compose` at the start of a line.
    let starts: Vec<usize> = text
        .match_indices("\nlayer ")
        .map(|(i, _)| i + 1)
        .chain(text.find("\ncompose ").map(|i| i + 1))
        .collect();
    let mut blocks: Vec<(String, usize, usize)> = Vec::new();
    for w in starts.windows(2) {
        let header = &text[w[0]..];
        let name: String = header["layer ".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        blocks.push((name, w[0], w[1]));
    }
    let required = |name: &str| {
        blocks.iter().any(|(other, a, _)| {
            let line = text[*a..].lines().next().unwrap_or_default();
            other != name
                && line
                    .split("requires")
                    .nth(1)
                    .is_some_and(|r| r.split([',', '{', ' ']).any(|x| x.trim() == name))
        })
    };
    let ir = |file: &Path, without: Vec<String>| {
        let options = Options {
            without,
            ..Options::default()
        };
        let program = check_program(&[file.to_path_buf()], &RealFs, &options).expect("loads");
        assert!(
            !program.has_errors(),
            "{}",
            render::to_string(&program.sources, &program.diagnostics)
        );
        prolac_compiler::ir::print::program(program.ir.as_ref().expect("analysed"))
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut compared = 0;
    for (name, a, b) in &blocks {
        if name == "Base" || required(name) {
            continue;
        }
        let mut edited = format!("{}{}", &text[..*a], &text[*b..]);
        let compose = edited.find("compose ").expect("a composition");
        let list_end = compose + edited[compose..].find(';').expect("compose ends");
        let list = edited[compose..list_end]
            .replace(&format!(" {name},"), "")
            .replace(&format!(", {name}"), "");
        edited.replace_range(compose..list_end, &list);
        let edited_path = dir.path().join(format!("without-{name}.pc"));
        std::fs::write(&edited_path, &edited).expect("write");
        assert_eq!(
            ir(&path, vec![name.to_lowercase()]),
            ir(&edited_path, Vec::new()),
            "--without {name}"
        );
        compared += 1;
    }
    assert!(compared >= 4, "only {compared} layers compared");
}

/// C07: a condition that folds to a constant keeps only the branch taken, at every `-O`.
#[test]
fn c07_constant_conditions_remove_dead_branches() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sema/ok/fold_dead_branches.pc");
    for level in 0..=3 {
        let options = Options {
            opt_level: level,
            ..Options::default()
        };
        let program = check_program(std::slice::from_ref(&path), &RealFs, &options).expect("loads");
        let ir = program.ir.as_ref().expect("analysed");
        let send = ir
            .methods
            .values()
            .find(|m| m.name == "send")
            .expect("send");
        let body = send.body.as_ref().expect("a body");
        let root = body.root.expect("a root");
        let nodes = prolac_compiler::ir::walk::preorder(body, root);
        let kinds: Vec<&prolac_compiler::ir::ExprKind> =
            nodes.iter().map(|&e| &body.exprs[e].kind).collect();
        assert!(
            !kinds
                .iter()
                .any(|k| matches!(k, prolac_compiler::ir::ExprKind::If { .. })),
            "-O{level}: a branch remains:\n{}",
            prolac_compiler::ir::print::program(ir)
        );
        let window = kinds
            .iter()
            .any(|k| matches!(k, prolac_compiler::ir::ExprKind::Const(c) if c.0 == 2144));
        assert!(window, "-O{level}: `Config.window` folds to 2144");
        // Only `sent` and `budget` are assigned; `traced` is gone with its branch.
        let traced = ir
            .fields
            .iter()
            .find(|(_, f)| f.name == "traced")
            .map(|(id, _)| id)
            .expect("traced");
        assert!(!kinds.iter().any(
            |k| matches!(k, prolac_compiler::ir::ExprKind::Field { field, .. } if *field == traced)
        ));
    }
}
