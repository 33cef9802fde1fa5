//! The Rust back end's test tiers over `tests/fixtures/run/*.pc` (see its README):
//!
//! - *pass*: every program generates Rust, byte-identical across two runs;
//! - *link*: all programs' generated code, each in its own module, plus a hand-written driver
//!   compile together with `rustc` under `#![deny(warnings)]`;
//! - *run*: the driver runs every entry; each value (or escaping exception) must equal the
//!   file's `// expect:` (or `// expect-raise:`) header.
//!
//! The tiers run at `-O0` and at `-O3`: behaviour must not depend on the optimisation level.
//! The *fail* tier (diagnostics of the back end) is in `cli.rs`. Needs `rustc` (`$RUSTC`).

use std::path::Path;
use std::process::Command;

use prolac_compiler::HostLang;
use prolac_compiler::rust::{RustOptions, generate};

mod run_cases;
use run_cases::{Case, cases};

/// Generates one program's Rust with a `prolac_entry` for its entry method.
fn rust_for(case: &Case, level: u8) -> String {
    let (program, entry) = case.analyse(level);
    generate(
        &program,
        HostLang::Rust,
        &RustOptions {
            main_entry: Some(entry),
        },
    )
    .unwrap_or_else(|d| panic!("{}: generation failed: {d:?}", case.name))
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())
}

/// Builds and runs all programs at one level; returns the failures.
fn tier(cases: &[Case], level: u8, dir: &Path) -> Vec<String> {
    let mut driver = String::from(
        "//! Run-tier driver: every program in its own module.\n#![deny(warnings)]\n\n\
         /// Host functions of the programs' extern methods (also registered with the JIT).\n\
         mod host {\n    #[allow(dead_code)]\n    pub extern \"C\" fn triple(x: u32) -> u32 {\n        x.wrapping_mul(3)\n    }\n}\n\n",
    );
    for (i, case) in cases.iter().enumerate() {
        let text = rust_for(case, level);
        if level == 3 {
            assert_eq!(
                text,
                rust_for(case, level),
                "{}: generated Rust differs between two runs",
                case.name
            );
        }
        let file = dir.join(format!("p{i}.rs"));
        std::fs::write(&file, &text).expect("write generated code");
        driver.push_str(&format!(
            "mod p{i} {{ #[allow(unused_imports)] use super::host::*; include!({:?}); }}\n",
            file.display().to_string()
        ));
    }
    driver.push_str("\nfn main() {\n");
    for (i, case) in cases.iter().enumerate() {
        driver.push_str(&format!(
            "    println!(\"{} {{:?}}\", p{i}::prolac_entry());\n",
            case.name
        ));
    }
    driver.push_str("}\n");
    let main = dir.join("driver.rs");
    std::fs::write(&main, driver).expect("write driver");
    let exe = dir.join("driver");
    let out = Command::new(rustc())
        .args(["--edition", "2024", "-C", "opt-level=1", "-o"])
        .arg(&exe)
        .arg(&main)
        .output()
        .expect("rustc runs (set RUSTC)");
    assert!(
        out.status.success(),
        "link tier at -O{level}: rustc rejected the generated code:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe).output().expect("driver runs");
    assert!(out.status.success(), "driver at -O{level} failed: {out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut failures = Vec::new();
    let mut lines = stdout.lines();
    for case in cases {
        let want = match &case.expect {
            Ok(v) => format!("{} Ok({v})", case.name),
            Err(x) => format!("{} Err({x:?})", case.name),
        };
        let got = lines.next().unwrap_or("(nothing)");
        if got != want {
            failures.push(format!(
                "-O{level} {}: want `{want}`, got `{got}`",
                case.name
            ));
        }
    }
    failures
}

#[test]
fn run_programs_at_o0_and_o3() {
    let cases = cases();
    assert!(
        cases.len() >= 60,
        "the run tier needs at least 60 programs, has {}",
        cases.len()
    );
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mut failures = Vec::new();
    for level in [0, 3] {
        let dir = tmp.path().join(format!("o{level}"));
        std::fs::create_dir_all(&dir).expect("directory");
        failures.extend(tier(&cases, level, &dir));
    }
    assert!(
        failures.is_empty(),
        "{} of {} runs wrong:\n{}",
        failures.len(),
        cases.len() * 2,
        failures.join("\n")
    );
}
