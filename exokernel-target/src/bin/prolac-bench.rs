//! `prolac-bench`: one command that measures the Prolac TCP against the Linux kernel's and
//! smoltcp's on this machine and prints a Markdown report (and writes it into
//! `docs/BENCHMARKS.md`). Every figure of a table comes from the same run, the contenders
//! interleaved round by round so that the machine's drift hits them alike; medians with the
//! min–max over the rounds. See `--help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use exokernel_target::bench::{
    Contender, Direction, TapBench, VethBench, instructions_per_segment, latency,
};
use exokernel_target::tap::tap_available;

/// Measures the Prolac TCP against the kernel's and smoltcp's, and writes the report.
#[derive(Debug, Parser)]
#[command(
    name = "prolac-bench",
    version,
    long_about = "\
Measures, in one run, on this machine:

- over a TAP device against the kernel's TCP (in a private network namespace): bulk \
throughput each way for the Prolac TCP, smoltcp and the do-nothing endpoint (the ceiling for \
any user-space TCP at one system call per frame) — the Prolac TCP also with timestamps off \
(the ceiling's and smoltcp's frames) both ways, and sending from shared buffers without a \
copy — \
and 1-byte round trips for the Prolac TCP and smoltcp with both ends pinned to CPU 0;
- the Prolac TCP over a TAP device with its offloads on (64 KiB segments both ways);
- the kernel against itself over a veth pair, with and without offloads, and its round trip.

Contenders are interleaved round by round; the report gives medians and min-max, the machine \
it ran on, and is written between the markers of the section `## Against the Linux kernel` \
in docs/BENCHMARKS.md (or --write FILE). Needs root, /dev/net/tun, iproute2 and ethtool."
)]
struct Args {
    /// Rounds of each measurement (at least 9 for the report).
    #[arg(long, default_value_t = 15)]
    rounds: usize,
    /// MiB per bulk figure and round (a transfer of 256 MiB takes about a quarter of a
    /// second: long enough that a connection's start and the scheduler's moments weigh
    /// little).
    #[arg(long, default_value_t = 256)]
    mib: u64,
    /// Transfers each round's MiB are split into, the contenders taking turns transfer by
    /// transfer (more slices: less of the machine's drift within a round, more of each
    /// connection's start in the figures).
    #[arg(long, default_value_t = 1)]
    slices: usize,
    /// Round trips per contender and latency round.
    #[arg(long, default_value_t = 3000)]
    pings: usize,
    /// Round trips in a row with one contender before the next takes its turn.
    #[arg(long, default_value_t = 100)]
    ping_block: usize,
    /// Where to write the report's section (default docs/BENCHMARKS.md).
    #[arg(long)]
    write: Option<PathBuf>,
    /// Print only; write nothing.
    #[arg(long)]
    no_write: bool,
    /// Segments per callgrind run (the difference of N and 2N segments, over N).
    #[arg(long, default_value_t = 4000)]
    callgrind_segments: usize,
    /// Internal: one in-memory transfer of this many segments (what callgrind runs).
    #[arg(long, hide = true, requires = "stack")]
    segments: Option<usize>,
    /// Internal: the stack of --segments.
    #[arg(long, hide = true)]
    stack: Option<String>,
}

fn cell(v: &[f64], digits: usize) -> String {
    if v.is_empty() {
        return "—".to_string();
    }
    let (m, lo, hi) = exokernel_target::bench::median_min_max(v);
    format!("{m:.digits$} ({lo:.digits$}–{hi:.digits$})")
}

/// The `p` quantile of `v` (µs).
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let i = ((s.len() as f64 - 1.0) * p).round() as usize;
    s[i.min(s.len() - 1)]
}

fn gbits(bytes: u64, d: Duration) -> f64 {
    bytes as f64 * 8.0 / d.as_secs_f64() / 1e9
}

fn run(args: &Args) -> Result<String, String> {
    tap_available()?;
    let described = exokernel_target::bench::machine();
    let bytes = args.mib << 20;
    let rounds = args.rounds.max(1);
    eprintln!(
        "prolac-bench: in memory, {rounds} rounds of {} MiB",
        args.mib
    );
    let (mem_smoltcp, mem_prolac) = exokernel_target::bench::memory::throughput_figures(
        rounds,
        usize::try_from(bytes).unwrap_or(usize::MAX),
    );
    eprintln!("prolac-bench: instructions per segment (callgrind)");
    let instr_smoltcp = instructions_per_segment("smoltcp", args.callgrind_segments)?;
    let instr_prolac = instructions_per_segment("prolac", args.callgrind_segments)?;
    let mut tap = TapBench::new().map_err(|e| e.to_string())?;
    let mut tap_offloaded = TapBench::offloaded().map_err(|e| e.to_string())?;
    let mut offloaded = vec![Vec::new(); 2];
    let contenders = [
        Contender::Ceiling,
        Contender::Prolac,
        Contender::ProlacShared,
        Contender::ProlacSharedPlain,
        Contender::ProlacPerFrame,
        Contender::ProlacSharedPerFrame,
        Contender::Smoltcp,
    ];
    let dirs = [Direction::ToStack, Direction::FromStack];
    let mut bulk = vec![vec![Vec::new(); contenders.len()]; dirs.len()];
    let veth_on = VethBench::new(true).map_err(|e| e.to_string())?;
    let veth_off = VethBench::new(false).map_err(|e| e.to_string())?;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    eprintln!("prolac-bench: {rounds} rounds of {} MiB", args.mib);
    // A warm-up round of each, not counted.
    // Each round moves `bytes` per figure in `slices` transfers, the contenders taking turns
    // slice by slice, so that the machine's drift within a round hits them alike.
    let slices = args.slices.clamp(1, 64);
    let slice = (bytes / slices as u64).max(1);
    let moved = slice * slices as u64;
    for round in 0..=rounds {
        let mut t_bulk = vec![vec![Duration::ZERO; contenders.len()]; dirs.len()];
        let mut t_offloaded = vec![Duration::ZERO; dirs.len()];
        let (mut t_on, mut t_off) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..slices {
            for (d, dir) in dirs.iter().enumerate() {
                // Every other round in the reverse order: no contender always runs first
                // (or right after another), so that an effect of the position in the round
                // hits them alike.
                let order: Vec<usize> = if round % 2 == 0 {
                    (0..contenders.len()).collect()
                } else {
                    (0..contenders.len()).rev().collect()
                };
                for (c, who) in order.into_iter().map(|c| (c, &contenders[c])) {
                    if !matches!(
                        who,
                        Contender::Prolac
                            | Contender::ProlacSharedPlain
                            | Contender::Smoltcp
                            | Contender::Ceiling
                    ) && *dir == Direction::ToStack
                    {
                        // Receiving, they are the Prolac TCP.
                        continue;
                    }
                    t_bulk[d][c] += tap
                        .bulk(*who, *dir, slice)
                        .map_err(|e| format!("{who:?} {dir:?}: {e}"))?;
                }
                t_offloaded[d] += tap_offloaded
                    .bulk(Contender::Prolac, *dir, slice)
                    .map_err(|e| format!("Prolac with offloads {dir:?}: {e}"))?;
            }
            t_on += veth_on.bulk(slice).map_err(|e| format!("veth: {e}"))?;
            t_off += veth_off
                .bulk(slice)
                .map_err(|e| format!("veth without offloads: {e}"))?;
        }
        if round > 0 {
            for d in 0..dirs.len() {
                for c in 0..contenders.len() {
                    if !t_bulk[d][c].is_zero() {
                        bulk[d][c].push(gbits(moved, t_bulk[d][c]));
                    }
                }
                offloaded[d].push(gbits(moved, t_offloaded[d]));
            }
            on.push(gbits(moved, t_on));
            off.push(gbits(moved, t_off));
            eprintln!("prolac-bench: round {round} of {rounds}");
        }
    }
    // Round trips: every contender connected at once, interleaved in blocks.
    let latency_rounds = rounds;
    eprintln!("prolac-bench: {latency_rounds} rounds of round trips");
    let mut polling_tap = TapBench::new().map_err(|e| e.to_string())?;
    let mut smoltcp_tap = TapBench::new().map_err(|e| e.to_string())?;
    let trips = latency::round_trips(
        [&mut tap, &mut polling_tap, &mut smoltcp_tap],
        &veth_on,
        latency_rounds,
        args.pings,
        args.ping_block,
    )
    .map_err(|e| format!("round trips: {e}"))?;
    let medians: Vec<Vec<f64>> = (0..latency::CONTENDERS.len())
        .map(|i| trips.round_medians.iter().map(|m| m[i]).collect())
        .collect();
    let mut out = String::new();
    out.push_str(&format!(
        "Measured by `prolac-bench` (`cargo run --release -p exokernel-target --bin prolac-bench`) \
         on {}: {rounds} rounds of {} MiB per bulk figure (after a warm-up round), {} (in \
         reverse order every other round); medians with min–max; Gbit/s of TCP payload.\n\n",
        described,
        args.mib,
        match args.slices.clamp(1, 64) {
            1 => "contenders interleaved in every round".to_string(),
            n => format!(
                "each round's MiB moved in {n} transfers, the contenders taking turns transfer \
                 by transfer"
            ),
        }
    ));
    let mem_ratio: Vec<f64> = mem_prolac
        .iter()
        .zip(&mem_smoltcp)
        .map(|(p, s)| p / s)
        .collect();
    out.push_str(&format!(
        "| in memory (one process, both ends) | Gbit/s |\n|---|---:|\n| Prolac ↔ Prolac | {} |\n| smoltcp ↔ smoltcp | {} |\n| Prolac / smoltcp, per round | {} |\n",
        cell(&mem_prolac, 2),
        cell(&mem_smoltcp, 2),
        cell(&mem_ratio, 3)
    ));
    match (instr_prolac, instr_smoltcp) {
        (Some(p), Some(s)) => out.push_str(&format!(
            "\nInstructions per MSS-sized data segment, both ends (callgrind, difference of {n} and {m} segments, vector copies): Prolac {p:.0}, smoltcp {s:.0}, ratio {:.2}.\n\n",
            p / s,
            n = args.callgrind_segments,
            m = 2 * args.callgrind_segments
        )),
        _ => out.push_str("\nInstructions per segment: not measured (valgrind is not installed).\n\n"),
    }
    out.push_str("| over TAP, against the kernel's TCP | kernel → stack | stack → kernel |\n|---|---:|---:|\n");
    let names = [
        "do-nothing endpoint (ceiling)",
        "Prolac TCP (sending: data copied in with `send`)",
        "Prolac TCP, sending shared data without a copy (`send_shared`, as `exo` sends)",
        "Prolac TCP, timestamps off as in the ceiling's frames (sending shared data)",
        "Prolac TCP, copied data, one system call per frame sent (as the ceiling)",
        "Prolac TCP, sending shared data, one system call per frame sent",
        "smoltcp",
    ];
    for (c, name) in names.iter().enumerate() {
        out.push_str(&format!(
            "| {name} | {} | {} |\n",
            cell(&bulk[0][c], 2),
            cell(&bulk[1][c], 2)
        ));
    }
    let ratio = |c: usize, d: usize| {
        let r: Vec<f64> = bulk[d][c]
            .iter()
            .zip(&bulk[d][0])
            .map(|(x, ceiling)| x / ceiling)
            .collect();
        cell(&r, 3)
    };
    out.push_str(&format!(
        "| Prolac (sending copied data) / ceiling, per round | {} | {} |\n| Prolac sending shared data / ceiling, per round | — | {} |\n| Prolac, timestamps off (sending shared data) / ceiling, per round | {} | {} |\n| Prolac copied data, one system call per frame / ceiling, per round | — | {} |\n| Prolac sending shared data, one system call per frame / ceiling, per round | — | {} |\n| smoltcp / ceiling, per round | {} | {} |\n",
        ratio(1, 0),
        ratio(1, 1),
        ratio(2, 1),
        ratio(3, 0),
        ratio(3, 1),
        ratio(4, 1),
        ratio(5, 1),
        ratio(6, 0),
        ratio(6, 1)
    ));
    out.push_str(&format!(
        "\n| kernel ↔ kernel over veth | Gbit/s |\n|---|---:|\n| with offloads (TSO, GSO, GRO, checksums) | {} |\n| without offloads | {} |\n",
        cell(&on, 2),
        cell(&off, 2)
    ));
    let against_veth = |d: usize| {
        let r: Vec<f64> = offloaded[d]
            .iter()
            .zip(&off)
            .map(|(x, veth)| x / veth)
            .collect();
        cell(&r, 2)
    };
    out.push_str(&format!(
        "\nPast the per-frame ceiling: the TAP device with its offloads on (virtio-net headers; the kernel's TCP segments of up to 64 KiB, checksums left undone, both ways).\n\n| over TAP with offloads | kernel → stack | stack → kernel |\n|---|---:|---:|\n| Prolac TCP | {} | {} |\n| Prolac / kernel over veth without offloads, per round | {} | {} |\n",
        cell(&offloaded[0], 2),
        cell(&offloaded[1], 2),
        against_veth(0),
        against_veth(1)
    ));
    out.push_str(&format!(
        "\n1-byte round trips (TCP, Nagle off), every thread pinned to CPU 0: the kernel's client holds a connection to each contender at once and takes its round trips in blocks of {}, contender after contender ({} per contender and round, {latency_rounds} rounds, a warm-up block of each first). Median of the round medians (min–max), and the 99th percentile of all, in µs.\n\n| round trip | median µs | p99 µs |\n|---|---:|---:|\n",
        args.ping_block, args.pings
    ));
    for (i, name) in latency::CONTENDERS.iter().enumerate() {
        out.push_str(&format!(
            "| {name} | {} | {:.1} |\n",
            cell(&medians[i], 2),
            percentile(&trips.all[i], 0.99)
        ));
    }
    let ratio = |i: usize, to: usize| {
        let r: Vec<f64> = medians[i]
            .iter()
            .zip(&medians[to])
            .map(|(x, y)| x / y)
            .collect();
        cell(&r, 3)
    };
    out.push_str(&format!(
        "| Prolac / kernel, per round | {} | |\n| smoltcp / kernel, per round | {} | |\n| Prolac waiting in the read / with poll, per round | {} | |\n",
        ratio(0, 3),
        ratio(2, 3),
        ratio(0, 1)
    ));
    Ok(out)
}

const BEGIN: &str = "<!-- prolac-bench: begin -->";
const END: &str = "<!-- prolac-bench: end -->";

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(status) =
        exokernel_target::bench::segments_mode("prolac-bench", args.segments, args.stack.as_deref())
    {
        return status;
    }
    exokernel_target::bench::publish(
        "prolac-bench",
        run(&args),
        args.write.as_deref(),
        args.no_write,
        (BEGIN, END, "## Against the Linux kernel (issue 8)"),
    )
}
