//! The TCP's size budget (issue 5, `docs/TCP.md`): the base at most 2,500 non-empty lines and
//! each optional layer at most 150, counted over the `.pc` sources; and the full TCP keeps zero
//! dynamic dispatches, with and without each optional layer.

use std::path::Path;

/// Files of the base; every other `.pc` file but `tcp.pc` is one optional layer.
const BASE: &[&str] = &[
    "wire.pc",
    "host.pc",
    "tcb.pc",
    "output.pc",
    "input.pc",
    "api.pc",
];

fn non_empty_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .expect("readable source")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

fn tcp_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tcp")
}

#[test]
fn the_base_and_each_layer_stay_within_their_budgets() {
    let dir = tcp_dir();
    let base: usize = BASE.iter().map(|f| non_empty_lines(&dir.join(f))).sum();
    assert!(
        base <= 2500,
        "the base has {base} non-empty lines (budget 2,500)"
    );
    for entry in std::fs::read_dir(&dir).expect("tcp/") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.ends_with(".pc") || name == "tcp.pc" || BASE.contains(&name.as_str()) {
            continue;
        }
        let n = non_empty_lines(&path);
        assert!(
            n <= 150,
            "layer file {name} has {n} non-empty lines (budget 150)"
        );
    }
}

fn stats(without: &[&str]) -> prolac_compiler::stats::Stats {
    let options = prolac_compiler::Options {
        without: without.iter().map(|s| s.to_string()).collect(),
        ..prolac_compiler::Options::default()
    };
    let program = prolac_compiler::check_program(
        &[tcp_dir().join("tcp.pc")],
        &prolac_compiler::fs::RealFs,
        &options,
    )
    .expect("the TCP loads");
    prolac_compiler::stats::Stats::of(&program)
}

#[test]
fn no_dynamic_dispatch_with_or_without_optional_layers() {
    // Each optional layer alone (with those that require it), and all of them at once.
    let all = [
        "window-scale",
        "window",
        "timers",
        "rtt",
        "timestamps",
        "keepalive",
        "delayed-ack",
        "nagle",
        "congestion",
        "cubic",
        "fast-recovery",
        "sack",
        "sack-recovery",
        "challenge-ack",
        "urgent",
        "isn",
        "icmp",
        "header-prediction",
    ];
    let mut cases: Vec<Vec<&str>> = vec![vec![], all.to_vec()];
    for layer in all {
        let mut out = vec![layer];
        match layer {
            "timers" => out.extend(["rtt", "timestamps", "cubic"]),
            "rtt" => out.extend(["timestamps", "cubic"]),
            "congestion" => out.extend(["cubic", "fast-recovery", "sack-recovery"]),
            "fast-recovery" | "sack" => out.push("sack-recovery"),
            _ => {}
        }
        cases.push(out);
    }
    for without in &cases {
        let without = &without[..];
        let s = stats(without);
        assert_eq!((s.errors, s.warnings), (0, 0), "without {without:?}");
        assert_eq!(s.dynamic_dispatches, 0, "without {without:?}");
        assert!(s.methods_emitted > 0);
    }
}
