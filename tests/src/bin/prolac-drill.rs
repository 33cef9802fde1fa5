//! `prolac-drill`: runs packetdrill scripts in-process against the Prolac TCP, with a virtual
//! clock. Prints `PASS path`, `FAIL path: reason` or `SKIP path: reason` per script and a
//! final `N passed, N failed, N skipped`; exits 0 if and only if nothing failed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use prolac_conformance::drill::{System, Verdict, collect_scripts, run_file};

/// Runs packetdrill scripts against the Prolac TCP, in-process, on a virtual clock.
///
/// Each script's inbound segments are built and handed to the TCP; its outbound lines are
/// compared with what the TCP sends (sequence numbers relative to each side's ISN, times within
/// the script's --tolerance_usecs); system calls go to a socket layer over the TCP. Shell lines
/// are interpreted, never run: known sysctls set the stack, `sockstat` checks count
/// connections, `tcpdrop -s STATE` drops them; anything else skips the script with its reason.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// The system the scripts were written against: its defaults (initial window, delayed
    /// ACK, SYN option order, socket buffer accounting) and the `#ifdef` name defined.
    #[arg(long, value_enum, default_value_t = ProfileArg::Freebsd)]
    profile: ProfileArg,
    /// After the scripts, print the counts per directory (as in docs/CONFORMANCE.md).
    #[arg(long)]
    verbose: bool,
    /// Script files or directories (searched for `.pkt` files).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ProfileArg {
    /// FreeBSD (the freebsd-tcp-testsuite).
    Freebsd,
    /// Linux (packetdrill's own scripts).
    Linux,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let system = match args.profile {
        ProfileArg::Freebsd => System::FreeBsd,
        ProfileArg::Linux => System::Linux,
    };
    let scripts = match collect_scripts(&args.paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("prolac-drill: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut by_dir: BTreeMap<PathBuf, [usize; 3]> = BTreeMap::new();
    for path in &scripts {
        let slot = by_dir
            .entry(path.parent().map(PathBuf::from).unwrap_or_default())
            .or_default();
        match run_file(path, system) {
            Verdict::Pass => {
                passed += 1;
                slot[0] += 1;
                println!("PASS {}", path.display());
            }
            Verdict::Fail(why) => {
                failed += 1;
                slot[1] += 1;
                println!("FAIL {}: {why}", path.display());
            }
            Verdict::Skip(why) => {
                skipped += 1;
                slot[2] += 1;
                println!("SKIP {}: {why}", path.display());
            }
        }
    }
    if args.verbose {
        for (dir, [p, f, s]) in &by_dir {
            println!("# {}: {p} passed, {f} failed, {s} skipped", dir.display());
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
