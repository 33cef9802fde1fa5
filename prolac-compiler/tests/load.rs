//! Assembling programs from files through the in-memory file system: include resolution,
//! reading each file once, include cycles, search order, and P0501.

use std::path::PathBuf;

use prolac_compiler::fs::MemFs;
use prolac_compiler::{Options, check_program};

fn names(program: &prolac_compiler::Program) -> Vec<String> {
    program
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect()
}

#[test]
fn includes_are_read_depth_first_and_once() {
    let mut fs = MemFs::new();
    fs.add(
        "root.pc",
        "include \"a.pc\";\ninclude \"b.pc\";\ninclude \"a.pc\";\n",
    )
    .add("a.pc", "include \"c.pc\";\nmodule A { }\n")
    .add("b.pc", "include \"root.pc\";\nmodule B { }\n")
    .add("c.pc", "module C { }\n");
    let program =
        check_program(&[PathBuf::from("root.pc")], &fs, &Options::default()).expect("loads");
    assert!(program.diagnostics.is_empty(), "{:?}", program.diagnostics);
    assert_eq!(names(&program), ["root.pc", "a.pc", "c.pc", "b.pc"]);
    let root = &program.files[0];
    let loaded: Vec<bool> = root.includes.iter().map(|(_, f)| f.is_some()).collect();
    assert_eq!(
        loaded,
        [true, true, false],
        "the second include of a.pc reads nothing"
    );
}

#[test]
fn the_including_files_directory_comes_before_include_dirs() {
    let mut fs = MemFs::new();
    fs.add("proj/main.pc", "include \"w.pc\";\n")
        .add("proj/w.pc", "module Local { }\n")
        .add("lib/w.pc", "module Library { }\n");
    let options = Options {
        include_dirs: vec![PathBuf::from("lib")],
        ..Options::default()
    };
    let program = check_program(&[PathBuf::from("proj/main.pc")], &fs, &options).expect("loads");
    assert_eq!(names(&program), ["proj/main.pc", "proj/w.pc"]);
}

#[test]
fn include_dirs_are_searched_in_order() {
    let mut fs = MemFs::new();
    fs.add("main.pc", "include \"w.pc\";\n")
        .add("second/w.pc", "module Second { }\n")
        .add("first/w.pc", "module First { }\n");
    let options = Options {
        include_dirs: vec![
            PathBuf::from("missing"),
            PathBuf::from("first"),
            PathBuf::from("second"),
        ],
        ..Options::default()
    };
    let program = check_program(&[PathBuf::from("main.pc")], &fs, &options).expect("loads");
    assert_eq!(names(&program), ["main.pc", "first/w.pc"]);
}

#[test]
fn a_missing_include_is_reported_at_its_string_and_the_rest_is_checked() {
    let mut fs = MemFs::new();
    fs.add("main.pc", "include \"gone.pc\";\nmodule M { f ::= 1.5; }\n");
    let program =
        check_program(&[PathBuf::from("main.pc")], &fs, &Options::default()).expect("loads");
    let codes: Vec<String> = program
        .diagnostics
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    assert_eq!(codes, ["P0501", "P0105"]);
    let span = program.diagnostics[0].primary.span;
    assert_eq!(program.sources.snippet(span), "\"gone.pc\"");
}

#[test]
fn includes_inside_namespaces_are_not_followed() {
    let mut fs = MemFs::new();
    fs.add("main.pc", "Ns { include \"a.pc\"; }\n")
        .add("a.pc", "module A { }\n");
    let program =
        check_program(&[PathBuf::from("main.pc")], &fs, &Options::default()).expect("loads");
    assert_eq!(names(&program), ["main.pc"]);
    assert_eq!(program.diagnostics[0].code.to_string(), "P0206");
}

#[test]
fn a_missing_root_is_an_io_error() {
    let fs = MemFs::new();
    let err =
        check_program(&[PathBuf::from("none.pc")], &fs, &Options::default()).expect_err("fails");
    assert!(err.to_string().contains("cannot read `none.pc`"), "{err}");
}

#[test]
fn absolute_include_paths_are_used_as_is() {
    let mut fs = MemFs::new();
    fs.add(
        "proj/main.pc",
        "include \"/opt/pc/w.pc\";\nmodule Main { }\n",
    )
    .add("proj/opt/pc/w.pc", "module Wrong { }\n")
    .add("/opt/pc/w.pc", "module Absolute { }\n");
    let options = Options {
        include_dirs: vec![PathBuf::from("proj")],
        ..Options::default()
    };
    let program = check_program(&[PathBuf::from("proj/main.pc")], &fs, &options).expect("loads");
    assert!(program.diagnostics.is_empty(), "{:?}", program.diagnostics);
    assert_eq!(names(&program), ["proj/main.pc", "/opt/pc/w.pc"]);
}
