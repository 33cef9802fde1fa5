//! The conformance ratchet (issue 7): `prolac-drill` over the FreeBSD TCP test suite of the
//! shared corpus (`PROLAC_CONFORMANCE_DIR`, default `../shared/conformance`; skipped with a
//! message when absent) with the FreeBSD profile. Every script listed in
//! `tests/conformance/freebsd-baseline.txt` passed once and must still pass; a script that
//! passes and is not listed is reported, so that the list can grow
//! (`UPDATE_BASELINE=1 cargo test -p prolac-conformance --test conformance` rewrites it).
//! Our own scripts (`tests/scripts/`) must all pass.

use std::path::{Path, PathBuf};

use prolac_conformance::drill::{System, Verdict, collect_scripts, run_file};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PROLAC_CONFORMANCE_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
        PathBuf::from,
    );
    let suite = dir.join("freebsd-tcp-testsuite");
    suite.is_dir().then_some(suite)
}

fn baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/freebsd-baseline.txt")
}

#[test]
fn scripts_that_passed_still_pass() {
    let Some(suite) = corpus() else {
        println!(
            "skipping: no FreeBSD test suite under the conformance corpus (set PROLAC_CONFORMANCE_DIR)"
        );
        return;
    };
    let scripts = collect_scripts(std::slice::from_ref(&suite)).expect("the suite is readable");
    let mut passing = Vec::new();
    let (mut failed, mut skipped) = (0, 0);
    for path in &scripts {
        let name = path
            .strip_prefix(&suite)
            .expect("under the suite")
            .to_string_lossy()
            .into_owned();
        match run_file(path, System::FreeBsd) {
            Verdict::Pass => passing.push(name),
            Verdict::Fail(_) => failed += 1,
            Verdict::Skip(_) => skipped += 1,
        }
    }
    println!(
        "{} passed, {failed} failed, {skipped} skipped of {}",
        passing.len(),
        scripts.len()
    );
    if std::env::var_os("UPDATE_BASELINE").is_some() {
        std::fs::write(baseline_path(), passing.join("\n") + "\n").expect("baseline written");
        return;
    }
    let baseline = std::fs::read_to_string(baseline_path()).expect("the baseline is checked in");
    let lost: Vec<&str> = baseline
        .lines()
        .filter(|l| !l.is_empty() && !passing.iter().any(|p| p == l))
        .collect();
    let gained: Vec<&String> = passing
        .iter()
        .filter(|p| !baseline.lines().any(|l| l == p.as_str()))
        .collect();
    if !gained.is_empty() {
        println!(
            "{} scripts pass that the baseline does not list (UPDATE_BASELINE=1 adds them): {gained:?}",
            gained.len()
        );
    }
    assert!(
        lost.is_empty(),
        "{} scripts of the baseline no longer pass (run `prolac-drill` on them for the reason):\n{}",
        lost.len(),
        lost.join("\n")
    );
    assert!(baseline.lines().count() > 250, "the baseline has shrunk");
}

#[test]
fn our_own_scripts_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let scripts = collect_scripts(&[dir]).expect("tests/scripts is readable");
    assert!(scripts.len() >= 4, "our scripts: {scripts:?}");
    let mut bad = Vec::new();
    for path in &scripts {
        let verdict = run_file(path, System::FreeBsd);
        if verdict != Verdict::Pass {
            bad.push(format!("{}: {verdict:?}", path.display()));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
