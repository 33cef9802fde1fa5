//! The README's `exo` recipe, run as written: the shell block after `<!-- exo-recipe -->` is
//! executed by bash (`-euo pipefail`), with the `exo` this test build made standing in for
//! `./target/release/exo` and the block's `cargo build` line (a build inside `cargo test`
//! would wait for the lock `cargo test` holds). It must print the page and the 100 MB
//! transfer, exo must end cleanly on Ctrl-C, and the namespace must be gone afterwards.
//! Needs root, /dev/net/tun and curl; says why it skips otherwise.

use std::path::Path;
use std::process::Command;

use exokernel_target::netns::exists;
use exokernel_target::tap::tap_available;

fn recipe() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("the README");
    let start = readme
        .find("<!-- exo-recipe -->")
        .expect("the recipe marker");
    let block = &readme[start..];
    let open = block.find("```sh\n").expect("the recipe's shell block") + "```sh\n".len();
    let close = block[open..].find("```").expect("the block's end");
    block[open..open + close].to_string()
}

#[test]
fn the_readme_recipe_works_as_written() {
    let script = recipe();
    assert!(
        script.contains("ip netns del exo-demo"),
        "the recipe cleans up"
    );
    if let Err(why) = tap_available() {
        println!("skipping: {why}");
        return;
    }
    if Command::new("curl").arg("--version").output().is_err() {
        println!("skipping: curl is not installed (apt-get install -y curl)");
        return;
    }
    if exists("exo-demo") {
        println!("skipping: a namespace exo-demo exists already (not ours to delete)");
        return;
    }
    let exo = env!("CARGO_BIN_EXE_exo");
    let script: String = script
        .lines()
        .filter(|l| !l.starts_with("cargo build"))
        .map(|l| l.replace("./target/release/exo", exo))
        .collect::<Vec<_>>()
        .join("\n");
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = Command::new("ip")
        .args(["netns", "del", "exo-demo"])
        .output();
    assert!(
        out.status.success(),
        "the recipe failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("Served by the Prolac TCP"), "{stdout}");
    assert!(stdout.contains("100000000 bytes at"), "{stdout}");
    assert!(stderr.contains("served 2 connections"), "{stderr}");
    assert!(!exists("exo-demo"), "the recipe's namespace is gone");
}
