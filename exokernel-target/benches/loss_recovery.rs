//! The loss-recovery benchmark (issue 6): what SACK and CUBIC change when the wire loses
//! frames. `cargo bench -p exokernel-target --bench loss_recovery [-- --mib M] [--seeds S]
//! [--loss P] [--reorder R] [--reorder-ms D] [--min-rto MS]` runs, for each seed, a bulk transfer of M MiB (64 by default) Prolac ↔ Prolac
//! over the in-memory wire (`exokernel_target::sim::run_recovery`) with four TCPs:
//!
//! - NewReno: the `Full` variant with SACK refused (`TcpOption::Sack(false)`);
//! - NewReno + SACK: `Full` as it is (RFC 6675 recovery);
//! - CUBIC: the `Cubic` variant with SACK refused;
//! - CUBIC + SACK.
//!
//! The wire: 100 Mbit/s, 1 ms each way, P % of frames lost (5 by default) in both directions,
//! 1 % duplicated, R % (2 by default) held back by up to D ms (5 by default: later frames
//! overtake them), 1 % with a flipped bit (dropped by the checksums). Both ends have 1 MiB buffers (window scaling on), timestamps on, Nagle
//! off, the RFC profile otherwise (a minimum RTO of 1 s; `--min-rto` sets another, e.g. Linux's
//! 200 ms). Every byte is checked as it arrives.
//!
//! Printed: a Markdown table per TCP — bytes and segments the sender sent again, virtual time
//! to deliver everything and goodput, D-SACKs the receiver reported — per seed and summed,
//! then the ratios SACK/no-SACK and CUBIC/NewReno of the sums. The clock is virtual: the
//! figures are a function of the seeds, not of this machine.

use exokernel_target::sim::{Recovery, RecoveryOutcome, run_recovery};
use exokernel_target::wire::LinkConfig;
use protocols::tcp::{Cubic, Full, TcpOption, Variant};

const MIB: usize = 1 << 20;
const SACK: &[TcpOption] = &[TcpOption::NoDelay(true)];
const NO_SACK: &[TcpOption] = &[TcpOption::NoDelay(true), TcpOption::Sack(false)];

struct Args {
    mib: usize,
    seeds: u64,
    loss: f64,
    reorder: f64,
    reorder_ms: u64,
    min_rto_ms: u64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        mib: 64,
        seeds: 3,
        loss: 5.0,
        reorder: 2.0,
        reorder_ms: 5,
        min_rto_ms: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--mib" => a.mib = value("--mib")?.parse().map_err(|e| format!("--mib: {e}"))?,
            "--seeds" => {
                a.seeds = value("--seeds")?
                    .parse()
                    .map_err(|e| format!("--seeds: {e}"))?;
            }
            "--loss" => {
                a.loss = value("--loss")?
                    .parse()
                    .map_err(|e| format!("--loss: {e}"))?;
            }
            "--reorder" => {
                a.reorder = value("--reorder")?
                    .parse()
                    .map_err(|e| format!("--reorder: {e}"))?;
            }
            "--reorder-ms" => {
                a.reorder_ms = value("--reorder-ms")?
                    .parse()
                    .map_err(|e| format!("--reorder-ms: {e}"))?;
            }
            "--min-rto" => {
                a.min_rto_ms = value("--min-rto")?
                    .parse()
                    .map_err(|e| format!("--min-rto: {e}"))?;
            }
            // cargo bench passes --bench.
            "--bench" => {}
            "--help" | "-h" => {
                return Err("usage: loss_recovery [--mib M] [--seeds S] [--loss PERCENT] [--reorder PERCENT] \
                     [--reorder-ms MS] [--min-rto MS]".into());
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    if !(0.0..100.0).contains(&a.loss) || !(0.0..100.0).contains(&a.reorder) {
        return Err("--loss and --reorder must be in [0, 100)".into());
    }
    if a.mib == 0 || a.seeds == 0 {
        return Err("--mib and --seeds must be above 0".into());
    }
    Ok(a)
}

fn link(a: &Args) -> LinkConfig {
    LinkConfig {
        latency_us: 1_000,
        rate_bytes_per_sec: Some(12_500_000),
        loss: a.loss / 100.0,
        duplicate: 0.01,
        reorder: a.reorder / 100.0,
        reorder_extra_max_us: a.reorder_ms * 1000,
        corrupt: 0.01,
        ..LinkConfig::PERFECT
    }
}

fn run<V: Variant>(a: &Args, seed: u64, options: &'static [TcpOption]) -> RecoveryOutcome {
    let options: &'static [TcpOption] = if a.min_rto_ms == 0 {
        options
    } else {
        let mut all = options.to_vec();
        all.push(TcpOption::MinRtoMs(a.min_rto_ms));
        Box::leak(all.into_boxed_slice())
    };
    let r = Recovery {
        bytes: a.mib * MIB,
        seed,
        link: link(a),
        options,
        buffer: MIB,
        max_us: 3_600_000_000,
    };
    match run_recovery::<V>(&r) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("loss_recovery: {e}");
            std::process::exit(1);
        }
    }
}

/// One TCP of the comparison: runs a seed.
type Runner = fn(&Args, u64) -> RecoveryOutcome;

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let tcps: [(&str, Runner); 4] = [
        ("NewReno", |a, s| run::<Full>(a, s, NO_SACK)),
        ("NewReno + SACK", |a, s| run::<Full>(a, s, SACK)),
        ("CUBIC", |a, s| run::<Cubic>(a, s, NO_SACK)),
        ("CUBIC + SACK", |a, s| run::<Cubic>(a, s, SACK)),
    ];
    println!(
        "{} MiB Prolac ↔ Prolac, {} % loss, 1 % duplicated, {} % reordered (held ≤ {} ms), 1 % \
         corrupt; 100 Mbit/s, 1 ms each way; minimum RTO {} ms; seeds 1..={}\n",
        a.mib,
        a.loss,
        a.reorder,
        a.reorder_ms,
        if a.min_rto_ms == 0 {
            1000
        } else {
            a.min_rto_ms
        },
        a.seeds
    );
    println!(
        "| TCP | seed | bytes sent again | segments sent again | done (virtual s) | goodput (Mbit/s) | receiver D-SACKs |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut sums = Vec::new();
    for (name, f) in tcps {
        let (mut bytes, mut segments, mut us) = (0, 0, 0);
        for seed in 1..=a.seeds {
            eprintln!("{name}, seed {seed} …");
            let o = f(&a, seed);
            println!(
                "| {name} | {seed} | {} | {} | {:.1} | {:.2} | {} |",
                o.sender.retransmitted_bytes,
                o.sender.retransmitted_segments,
                o.done_us as f64 / 1e6,
                o.goodput_mbit(a.mib * MIB),
                o.receiver_dsacks
            );
            bytes += o.sender.retransmitted_bytes;
            segments += o.sender.retransmitted_segments;
            us += o.done_us;
        }
        println!(
            "| **{name}** | all | **{bytes}** | **{segments}** | **{:.1}** | **{:.2}** | |",
            us as f64 / 1e6,
            (a.mib * MIB) as f64 * 8.0 * a.seeds as f64 / us as f64
        );
        sums.push((bytes as f64, us as f64));
    }
    println!();
    println!(
        "SACK / no SACK, bytes sent again: NewReno {:.3}, CUBIC {:.3}; time: {:.3}, {:.3}",
        sums[1].0 / sums[0].0,
        sums[3].0 / sums[2].0,
        sums[1].1 / sums[0].1,
        sums[3].1 / sums[2].1
    );
    println!(
        "CUBIC / NewReno, bytes sent again: {:.3} (no SACK), {:.3} (SACK); time: {:.3}, {:.3}",
        sums[2].0 / sums[0].0,
        sums[3].0 / sums[1].0,
        sums[2].1 / sums[0].1,
        sums[3].1 / sums[1].1
    );
}
