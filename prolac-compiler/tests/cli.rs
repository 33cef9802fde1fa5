//! The `prolacc` command-line contract: exit statuses (0 success, 1 compile errors, 2 usage or
//! IO error), `--emit ast|check|ir`, `-o`, `--stats` keys, `-I`, `--without`, `--host`,
//! `--deny-warnings`, `--explain`, and diagnostics on standard error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn prolacc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prolacc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("prolacc runs")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

#[test]
fn the_example_program_checks_cleanly_with_stats() {
    let o = prolacc(&["--stats", "examples/ping/ping.pc"], &repo());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    for key in [
        "files: 4",
        "modules: 8",
        "layers: 3",
        "errors: 0",
        "warnings: 0",
    ] {
        assert!(err.lines().any(|l| l == key), "missing `{key}` in:\n{err}");
    }
    assert!(stdout(&o).is_empty(), "--emit check writes nothing");
}

#[test]
fn emit_ast_writes_the_tree_of_every_file_to_the_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("ping.ast");
    let o = prolacc(
        &[
            "--emit",
            "ast",
            "-o",
            out.to_str().unwrap_or_default(),
            "examples/ping/ping.pc",
        ],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).expect("output written");
    assert!(text.contains("; file: examples/ping/layers.pc"), "{text}");
    assert!(
        text.contains("(compose Ping-Stack Base Rtt Rate-Limit)"),
        "{text}"
    );
    // Deterministic: a second run writes the same bytes.
    let o2 = prolacc(&["--emit", "ast", "examples/ping/ping.pc"], &repo());
    assert_eq!(stdout(&o2), text);
}

#[test]
fn a_syntax_error_exits_1_with_a_located_diagnostic() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "bad.pc", "module M {\n  f ::= 1 +;\n}\n");
    let o = prolacc(&["bad.pc"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("error[P0200]: expected an expression, found `;`"),
        "{err}"
    );
    assert!(
        err.contains("--> bad.pc:2:12") || err.contains("─ bad.pc:2:12"),
        "{err}"
    );
    assert!(err.contains("error: aborting due to 1 error"), "{err}");
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = prolacc(&["nope.pc"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot read `nope.pc`"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(
        prolacc(&["--no-such-flag", "x.pc"], dir.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        prolacc(&["-O", "7", "x.pc"], dir.path()).status.code(),
        Some(2)
    );
    assert_eq!(
        prolacc(&["--emit", "bogus", "x.pc"], dir.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        prolacc(&[], dir.path()).status.code(),
        Some(2),
        "a file is required"
    );
    write(dir.path(), "ok.pc", "module M { }\n");
    let check_with_output = prolacc(&["-o", "out.txt", "ok.pc"], dir.path());
    assert_eq!(check_with_output.status.code(), Some(2));
    assert!(!dir.path().join("out.txt").exists());
}

#[test]
fn explain_prints_the_registry_entry() {
    let o = prolacc(&["--explain", "P0105"], &repo());
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with("P0105 (error): floating-point literal"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("Fix:"));
    assert_eq!(
        prolacc(&["--explain", "P9999"], &repo()).status.code(),
        Some(2)
    );
    assert_eq!(
        prolacc(&["--explain", "banana"], &repo()).status.code(),
        Some(2)
    );
}

#[test]
fn includes_resolve_relative_to_the_including_file_then_include_dirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "src/main.pc",
        "include \"sub/a.pc\";\ninclude \"lib.pc\";\nmodule Main { }\n",
    );
    write(
        dir.path(),
        "src/sub/a.pc",
        "include \"b.pc\";\nmodule A { }\n",
    );
    // b.pc includes a.pc back: a cycle, harmless because each file is read once.
    write(
        dir.path(),
        "src/sub/b.pc",
        "include \"a.pc\";\nmodule B { }\n",
    );
    write(dir.path(), "libs/lib.pc", "module Lib { }\n");
    let without_dir = prolacc(&["src/main.pc"], dir.path());
    assert_eq!(without_dir.status.code(), Some(1));
    let err = stderr(&without_dir);
    assert!(
        err.contains("error[P0501]: cannot find included file `lib.pc`"),
        "{err}"
    );
    assert!(
        err.contains("src/main.pc:2:9"),
        "reported at the string: {err}"
    );
    assert!(err.contains("-I DIR"), "{err}");

    let o = prolacc(
        &["-I", "libs", "--stats", "--emit", "ast", "src/main.pc"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).lines().any(|l| l == "files: 4"),
        "{}",
        stderr(&o)
    );
    let out = stdout(&o);
    let order: Vec<&str> = out.lines().filter(|l| l.starts_with("; file:")).collect();
    assert_eq!(
        order,
        [
            "; file: src/main.pc",
            "; file: src/sub/a.pc",
            "; file: src/sub/b.pc",
            "; file: libs/lib.pc"
        ],
        "depth first, in reading order"
    );
}

#[test]
fn without_names_a_layer_case_insensitively() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "p.pc",
        "layer Base { module M { } }\nlayer Delay-Ack requires Base { module M :> super { } }\ncompose S = Base, Delay-Ack;\n",
    );
    assert_eq!(
        prolacc(&["--without", "delay_ACK", "p.pc"], dir.path())
            .status
            .code(),
        Some(0)
    );
    let o = prolacc(
        &["--without", "delay-ack", "--without", "slow-start", "p.pc"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("error[P0506]: no layer named `slow-start`"),
        "{err}"
    );
    assert!(
        err.contains("the program's layers: Base, Delay-Ack"),
        "{err}"
    );
    assert!(err.contains("<command line>"), "{err}");
}

#[test]
fn c_host_programs_from_the_1999_compiler_check_in_c_mode() {
    let i = repo().join("prolac-syntax/tests/compat/tcp99.i");
    let o = prolacc(
        &["--host", "c", "--stats", i.to_str().unwrap_or_default()],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).lines().any(|l| l == "modules: 7"));
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "w.pc",
        "module M { field rcv__next :> seqint; }\n",
    );
    let o = prolacc(&["w.pc"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("warning[P0103]"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: 1 warning emitted"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        prolacc(&["--deny-warnings", "w.pc"], dir.path())
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn line_directives_move_locations_to_the_original_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "pre.i",
        "# 1 \"ping.pc\"\nmodule M {\n# 40 \"window.pc\"\n  f ::= 2.5;\n}\n",
    );
    let o = prolacc(&["pre.i"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("window.pc:40:9"), "{}", stderr(&o));
}

#[test]
fn a_file_that_is_not_utf8_is_reported_not_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("latin1.pc"),
        b"module M { f ::= \"caf\xe9\"; }\n",
    )
    .expect("write");
    let o = prolacc(&["latin1.pc"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error[P0114]: source file is not valid UTF-8"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn help_teaches_the_options_and_exit_statuses() {
    let o = prolacc(&["--help"], &repo());
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for needle in [
        "--emit",
        "--host",
        "--without",
        "-I <DIR>",
        "Examples:",
        "Exit status: 0 success, 1 compile errors, 2 usage or IO error.",
    ] {
        assert!(text.contains(needle), "help lacks {needle}:\n{text}");
    }
}

#[test]
fn emit_ir_prints_the_optimised_ir_which_parses_back() {
    let o = prolacc(&["--emit", "ir", "examples/ping/ping.pc"], &repo());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("t0 = void\n"), "{text}");
    assert!(text.contains("\nexports fn"), "{text}");
    let back = prolac_compiler::ir::parse::program(&text).expect("the IR text parses");
    assert_eq!(prolac_compiler::ir::print::program(&back), text);
    prolac_compiler::ir::verify::verify(&back).expect("the IR verifies");
    // -O0 inlines nothing; -O3 inlines: the texts differ.
    let o0 = prolacc(&["--emit", "ir", "-O0", "examples/ping/ping.pc"], &repo());
    assert_ne!(stdout(&o0), text);
}

#[test]
fn emit_ir_warns_when_nothing_is_exported() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "n.pc",
        "module M { field x :> uint; bump ::= x += 1; }\n",
    );
    let o = prolacc(&["--emit", "ir", "n.pc"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning[P0302]"), "{}", stderr(&o));
    let o = prolacc(&["n.pc"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    assert!(
        !stderr(&o).contains("P0302"),
        "check mode generates nothing: no warning"
    );
}

#[test]
fn emit_ir_writes_nothing_for_a_program_with_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "e.pc",
        "module M { f ::= nope; }\nexport M.f;\n",
    );
    let o = prolacc(&["--emit", "ir", "e.pc"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("error[P0802]"), "{}", stderr(&o));
}

/// `-o` naming something other than a regular file writes through it: a symbolic link stays a
/// link (its target gets the output), and a device such as `/dev/null` is never replaced by a
/// file (a rename over it would, when run as root).
#[test]
fn output_through_a_link_or_a_device_keeps_it() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "c.pc",
        "module Counter {\n  field n :> uint;\n  bump ::= n += 1;\n}\nexport Counter.all;\n",
    );
    std::fs::write(dir.path().join("target.ir"), "old").expect("write");
    std::os::unix::fs::symlink("target.ir", dir.path().join("link.ir")).expect("symlink");
    let o = prolacc(&["--emit", "ir", "-o", "link.ir", "c.pc"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let meta = std::fs::symlink_metadata(dir.path().join("link.ir")).expect("link");
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    let text = std::fs::read_to_string(dir.path().join("target.ir")).expect("target");
    assert!(text.contains("Counter"), "{text}");
    let o = prolacc(&["--emit", "ir", "-o", "/dev/null", "c.pc"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    use std::os::unix::fs::FileTypeExt;
    let null = std::fs::symlink_metadata("/dev/null").expect("/dev/null");
    assert!(
        null.file_type().is_char_device(),
        "/dev/null is no longer a device"
    );
}
