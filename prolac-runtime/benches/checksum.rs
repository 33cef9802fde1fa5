//! Checksum benchmark: the eight-bytes-per-step `checksum` against a naive reference.
//!
//! `cargo bench -p prolac-runtime --bench checksum` sums a 64 KiB buffer and a 1500-byte
//! (Ethernet MTU) buffer, both aligned and starting at an odd address, with the crate's
//! [`checksum`] and with the textbook RFC 1071 loop that adds one big-endian byte pair per
//! step, and prints the throughput of both in GB/s and their ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use prolac_runtime::checksum;

/// The naive reference: one big-endian 16-bit word per step, end-around carry each time.
fn naive(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in data.chunks(2) {
        let word = match *pair {
            [hi, lo] => u16::from_be_bytes([hi, lo]),
            [hi] => u16::from_be_bytes([hi, 0]),
            _ => 0,
        };
        sum += u32::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Bytes per second of `f` over `data`: the best of several timed rounds.
fn throughput(f: fn(&[u8]) -> u16, data: &[u8]) -> f64 {
    // Enough iterations per round for about 64 MiB of data, at least one.
    let iterations = ((64usize << 20) / data.len().max(1)).max(1);
    let mut best = Duration::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        let mut acc = 0u16;
        for _ in 0..iterations {
            acc ^= f(black_box(data));
        }
        black_box(acc);
        best = best.min(start.elapsed());
    }
    (iterations * data.len()) as f64 / best.as_secs_f64().max(1e-12)
}

fn main() {
    // Deterministic pseudo-random bytes (xorshift), one spare byte for the odd-address case.
    let mut state = 0x9e37_79b9u32;
    let bytes: Vec<u8> = (0..(64 << 10) + 1)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();

    println!("| buffer | offset | checksum GB/s | naive GB/s | ratio |");
    println!("|---|---|---|---|---|");
    for (name, len) in [("64 KiB", 64usize << 10), ("1500 B", 1500)] {
        for offset in [0usize, 1] {
            let data = &bytes[offset..offset + len];
            assert_eq!(checksum(data), naive(data), "implementations disagree");
            let fast = throughput(checksum, data);
            let slow = throughput(naive, data);
            println!(
                "| {name} | {offset} | {:.2} | {:.2} | {:.1}x |",
                fast / 1e9,
                slow / 1e9,
                fast / slow
            );
        }
    }
}
