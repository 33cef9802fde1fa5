//! `cargo bench -p prolac-compiler --bench rust_backend`: generated Rust against hand-written
//! Rust, side by side in one process (the issue's goal: within 1.2×).
//!
//! The Prolac program is `benches/checksum.pc`, the Internet checksum over a buffer by a self
//! tail call per 16-bit word. The bench generates Rust for it with the library, writes a
//! driver that also holds the same algorithm written by hand in idiomatic Rust (a slice, an
//! iterator over 2-byte chunks), builds both with `rustc -C opt-level=3` into one program,
//! and runs it: interleaved rounds over a 64 MiB buffer, medians, the ratio, and a check that
//! both compute the same checksum. `PROLAC_BENCH_MIB` changes the buffer size,
//! `PROLAC_BENCH_ROUNDS` the number of rounds (default 15).

use std::path::Path;
use std::process::Command;

use prolac_compiler::fs::RealFs;
use prolac_compiler::rust::{RustOptions, generate};
use prolac_compiler::{HostLang, Options, check_program};

const DRIVER: &str = r#"
mod generated { include!("checksum.rs"); }

/// The same algorithm, written by hand.
fn by_hand(data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(2);
    let mut acc: u64 = 0;
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let mib: usize = std::env::var("PROLAC_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    let rounds: usize = std::env::var("PROLAC_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    let n = mib << 20;
    let mut x: u32 = 0x2545_f491;
    let mut data: Vec<u8> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let (mut prolac, mut hand) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        for which in [round % 2, 1 - round % 2] {
            let t = std::time::Instant::now();
            let sum = if which == 0 {
                // SAFETY: the pointer and length describe `data`, which the checksum only reads.
                unsafe { generated::checksum__Sum(std::hint::black_box(data.as_mut_ptr()), n as u64) }
            } else {
                by_hand(std::hint::black_box(&data))
            };
            let ms = t.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(sum);
            if which == 0 { prolac.push(ms) } else { hand.push(ms) }
        }
    }
    // SAFETY: as above.
    let a = unsafe { generated::checksum__Sum(data.as_mut_ptr(), n as u64) };
    let b = by_hand(&data);
    assert_eq!(a, b, "the generated and the hand-written checksum differ");
    let (p, h) = (median(prolac), median(hand));
    println!("checksum over {mib} MiB, {rounds} interleaved rounds, medians:");
    println!("  generated from Prolac  {p:8.2} ms  {:6.2} GB/s", n as f64 / p / 1e6);
    println!("  hand-written Rust      {h:8.2} ms  {:6.2} GB/s", n as f64 / h / 1e6);
    println!("  ratio generated/hand   {:8.3}", p / h);
    println!("  checksum               0x{a:04x}");
}
"#;

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/checksum.pc");
    let options = Options {
        host: HostLang::Rust,
        generate: true,
        ..Options::default()
    };
    let program = check_program(std::slice::from_ref(&src), &RealFs, &options).expect("loads");
    assert!(!program.has_errors(), "{:?}", program.diagnostics);
    let rust = generate(&program, HostLang::Rust, &RustOptions::default()).expect("generates");
    let dir = std::env::temp_dir().join(format!("prolac-bench-rust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    std::fs::write(dir.join("checksum.rs"), rust).expect("write generated code");
    std::fs::write(dir.join("driver.rs"), DRIVER).expect("write driver");
    let exe = dir.join("driver");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args(["--edition", "2024", "-C", "opt-level=3", "-o"])
        .arg(&exe)
        .arg(dir.join("driver.rs"))
        .output()
        .expect("rustc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = Command::new(&exe).status().expect("driver runs");
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
