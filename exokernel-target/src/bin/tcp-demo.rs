//! `tcp-demo`: the Prolac TCP and smoltcp's TCP exchange data over a simulated lossy
//! Ethernet, and the run is reported and captured.
//!
//! Two hosts share an in-memory wire (`exokernel_target::wire`): 192.0.2.1 runs the TCP
//! written in Prolac (`protocols/tcp/*.pc`, compiled to Rust at build time) on the
//! library-OS stack, 192.0.2.2 runs smoltcp. Both send `--size` bytes at once, then close;
//! the run is checked by `exokernel_target::sim::run_transfer` and summarised: bytes each
//! way, virtual time and throughput, retransmissions counted from the frames on the wire,
//! an integrity check of each direction, how each side closed. A pcap of the frames seen at
//! the Prolac host's end of the wire is written for Wireshark or tshark.
//!
//! Exit status: 0 when every byte arrived intact and both sides closed, 1 when the transfer
//! failed a check, 2 for a usage error or a capture that could not be written.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use exokernel_target::pcap::parse_pcap;
use exokernel_target::sim::{
    End, EndOutcome, Outcome, StackKind, Transfer, TransferError, clean_link, run_transfer,
    state_name,
};
use exokernel_target::wire::LinkConfig;

/// Which TCP opens the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ClientSide {
    /// The Prolac TCP connects to smoltcp listening on port 80.
    Prolac,
    /// smoltcp connects to the Prolac TCP listening on port 80.
    Smoltcp,
}

/// The Prolac TCP and smoltcp's TCP exchange data over a simulated lossy Ethernet.
#[derive(Debug, Parser)]
#[command(
    name = "tcp-demo",
    version,
    long_about = "\
The Prolac TCP and smoltcp's TCP exchange data over a simulated lossy Ethernet.

Two hosts share an in-memory Ethernet wire. 192.0.2.1 runs the TCP written in Prolac \
(protocols/tcp/*.pc, compiled to Rust by the protocols crate's build script) on this \
crate's library-OS stack (Ethernet, ARP, IPv4); 192.0.2.2 runs smoltcp. One connects to \
the other's port 80, both send --size bytes at the same time, and each closes once its \
data is handed over.

The wire drops, duplicates, delays (reorders) and corrupts frames at the rates given, \
each decision drawn from --seed: the same seed gives the same run, frame for frame. Time \
is virtual: 1 ms of latency each way and 100 Mbit/s, but the simulation runs as fast as \
the machine allows, jumping from one event to the next.

The report gives, for each direction, the bytes sent, when the last one arrived (virtual \
time), the resulting throughput, and the segments the sender transmitted more than once \
(counted from the frames on the wire, not from either TCP's own counters; smoltcp's \
retransmission timer is short, 10 ms at least, and restarts only once everything sent is \
acknowledged, so when the queue at the 100 Mbit/s link delays its acknowledgments it times \
out and resends its whole window: most of its retransmissions are spurious); then an \
integrity check (what arrived is byte for byte what was sent: a 64-bit FNV-1a digest of \
each side, and a byte-by-byte comparison as the data arrives) and how each connection \
closed (its TCP states in order). The capture holds every frame at the Prolac host's end \
of the wire: what it sent before the wire's faults, what reached it after them.",
    after_help = "\
Examples:
  tcp-demo                               4 MiB each way over 1 % loss, capture in tcp-demo.pcap
  tcp-demo --loss 0.05 --reorder 0.02    5 % loss, 2 % of frames held back up to 5 ms
  tcp-demo --size 64MiB --loss 0         a clean link: throughput bound by the 100 Mbit/s link
  tcp-demo --client smoltcp --seed 7     smoltcp connects; another sequence of faults
  tshark -r tcp-demo.pcap -Y tcp.analysis.retransmission    the retransmissions in the capture

Exit status: 0 every byte arrived intact and both sides closed; 1 a check failed; 2 usage
or capture error."
)]
struct Args {
    /// Bytes each side sends (suffixes KiB, MiB, GiB, or k, M, G for powers of ten).
    #[arg(long, default_value = "4MiB", value_parser = parse_size)]
    size: u64,
    /// Fraction of frames the wire loses, in each direction (0 to 1).
    #[arg(long, default_value_t = 0.01, value_parser = parse_fraction)]
    loss: f64,
    /// Fraction of frames the wire delivers twice.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    duplicate: f64,
    /// Fraction of frames held back by up to --reorder-max-us, so that later ones overtake.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    reorder: f64,
    /// The longest extra delay of a reordered frame, in µs.
    #[arg(long, default_value_t = 5_000)]
    reorder_max_us: u64,
    /// Fraction of frames with one bit flipped (the checksums must catch them).
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    corrupt: f64,
    /// The seed of every random decision: the wire's faults, smoltcp's, the Prolac ISNs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Which TCP opens the connection.
    #[arg(long, value_enum, default_value_t = ClientSide::Prolac)]
    client: ClientSide,
    /// Where the capture goes.
    #[arg(long, default_value = "tcp-demo.pcap")]
    pcap: PathBuf,
    /// Write no capture.
    #[arg(long)]
    no_pcap: bool,
}

/// `4MiB`, `512k`, `1048576`: a size in bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a size (examples: 1048576, 512KiB, 4MiB)"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "k" | "K" | "kB" | "KB" => 1_000,
        "M" | "MB" => 1_000_000,
        "G" | "GB" => 1_000_000_000,
        "KiB" | "Ki" => 1 << 10,
        "MiB" | "Mi" => 1 << 20,
        "GiB" | "Gi" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit `{other}` (use KiB, MiB, GiB, k, M, G)"
            ));
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A probability in `[0, 1]`.
fn parse_fraction(text: &str) -> Result<f64, String> {
    let p: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not between 0 and 1 (0.01 is 1 %)"))
    }
}

/// The Prolac TCP's end and smoltcp's.
const PROLAC: End = End::A;
const SMOL: End = End::B;

fn main() -> ExitCode {
    let args = Args::parse();
    let Ok(size) = usize::try_from(args.size) else {
        eprintln!(
            "error: --size {} does not fit this machine's memory",
            args.size
        );
        return ExitCode::from(2);
    };
    let link = LinkConfig {
        loss: args.loss,
        duplicate: args.duplicate,
        reorder: args.reorder,
        reorder_extra_max_us: args.reorder_max_us,
        corrupt: args.corrupt,
        ..clean_link()
    };
    if let Err(e) = link.validate() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let client = match args.client {
        ClientSide::Prolac => PROLAC,
        ClientSide::Smoltcp => SMOL,
    };
    let mut t = Transfer::new(
        "tcp-demo",
        args.seed,
        [StackKind::Prolac, StackKind::Smoltcp],
        client,
        [size, size],
    );
    t.link = link;
    t.record = !args.no_pcap;
    // Generous bounds: timeouts back off to a minute and more under heavy loss.
    t.max_us = 24 * 3_600_000_000;
    t.max_iterations = 1_000 * (args.size / 1024) + 10_000_000;

    print_setup(&args, &t);
    let started = Instant::now();
    let result = run_transfer(&t);
    let wall = started.elapsed().as_secs_f64();
    let (status, pcap) = match result {
        Ok(mut out) => {
            report(&out, wall);
            (ExitCode::SUCCESS, out.pcap.take())
        }
        Err(TransferError { message, pcap, .. }) => {
            println!("\nFAILED after {wall:.2} s of wall time: {message}");
            (ExitCode::from(1), pcap)
        }
    };
    if let Some(pcap) = pcap {
        let frames = parse_pcap(&pcap).map_or(0, |f| f.len());
        if let Err(e) = std::fs::write(&args.pcap, &pcap) {
            eprintln!("error: cannot write {}: {e}", args.pcap.display());
            return ExitCode::from(2);
        }
        println!(
            "capture:   {} ({frames} frames at the Prolac host's end of the wire; \
             `wireshark {0}` or `tshark -r {0}`)",
            args.pcap.display()
        );
    }
    status
}

fn print_setup(args: &Args, t: &Transfer) {
    let who = |end: End| {
        let name = if end == PROLAC {
            "Prolac TCP"
        } else {
            "smoltcp"
        };
        let role = if end == t.client { "client" } else { "server" };
        format!("{name} ({}, {role})", end.ip())
    };
    println!("{} ⇄ {}", who(PROLAC), who(SMOL));
    println!(
        "wire:      1 ms each way, 100 Mbit/s; loss {} %, duplicate {} %, reorder {} % \
         (up to {} µs), corrupt {} %; seed {}",
        percent(args.loss),
        percent(args.duplicate),
        percent(args.reorder),
        args.reorder_max_us,
        percent(args.corrupt),
        args.seed
    );
    println!(
        "transfer:  {} each way at once, then both close\n",
        bytes(args.size)
    );
}

fn report(out: &Outcome, wall: f64) {
    let prolac = out.end(PROLAC);
    let smol = out.end(SMOL);
    println!(
        "{:<18} {:>12} {:>12} {:>14} {:>26}",
        "direction", "bytes", "last byte", "throughput", "retransmitted (on the wire)"
    );
    for (from, to, name) in [
        (prolac, smol, "Prolac → smoltcp"),
        (smol, prolac, "smoltcp → Prolac"),
    ] {
        let at = to.received_all_at_us.unwrap_or(out.closed_at_us);
        println!(
            "{name:<18} {:>12} {:>10.3} s {:>9.2} Mbit/s {:>12} segments ({} B)",
            to.received,
            at as f64 / 1e6,
            mbit_per_s(to.received, at),
            from.flow.retransmitted_segments,
            from.flow.retransmitted_bytes,
        );
    }
    println!(
        "\nvirtual:   both sides closed at {:.3} s, connection forgotten by both hosts at \
         {:.3} s ({:.2} s of wall time, {} steps)",
        out.closed_at_us as f64 / 1e6,
        out.cleaned_at_us as f64 / 1e6,
        wall,
        out.iterations
    );
    println!(
        "wire:      {} frames offered, {} lost, {} duplicated, {} reordered, {} corrupted",
        out.wire.sent_frames,
        out.wire.lost,
        out.wire.duplicated,
        out.wire.reordered,
        out.wire.corrupted
    );
    for (from, to, name) in [
        (prolac, smol, "Prolac → smoltcp"),
        (smol, prolac, "smoltcp → Prolac"),
    ] {
        println!(
            "integrity: {name}: {} ({} B sent, FNV-1a {}; {} B received, FNV-1a {})",
            if to.received_intact && from.sent_digest == to.received_digest {
                "OK, received == sent"
            } else {
                "DIFFERENT"
            },
            from.sent,
            from.sent_digest,
            to.received,
            to.received_digest
        );
    }
    for end in [prolac, smol] {
        println!(
            "close:     {:<8} {}{}",
            if end.end == PROLAC {
                "Prolac"
            } else {
                "smoltcp"
            },
            end.state_path(),
            close_note(end)
        );
    }
}

/// How a side's connection ended, in words.
fn close_note(end: &EndOutcome) -> String {
    let mut notes = Vec::new();
    if end.was_in(protocols::tcp::State::TimeWait) {
        notes.push(format!(
            "closed first, waited in {}",
            state_name(protocols::tcp::State::TimeWait)
        ));
    } else if end.was_in(protocols::tcp::State::LastAck) {
        notes.push("closed second".to_owned());
    }
    if end.flow.resets > 0 {
        notes.push(format!("{} resets sent after closing", end.flow.resets));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

fn percent(p: f64) -> String {
    format!("{}", (p * 10_000.0).round() / 100.0)
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n.is_multiple_of(1 << 20) => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n.is_multiple_of(1 << 10) => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn mbit_per_s(bytes: usize, us: u64) -> f64 {
    if us == 0 {
        0.0
    } else {
        bytes as f64 * 8.0 / us as f64
    }
}
