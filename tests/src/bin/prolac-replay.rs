//! `prolac-replay`: checks every TCP flow of pcap captures. For now the passive check (every
//! segment decodes, its checksums verify — a segment corrupted on the way is noted and counts
//! as lost, one whose checksum was left to the sending host's card is noted — and decoding and
//! encoding give back its bytes); a flow
//! that passes it is reported as skipped until the active replay (the Prolac TCP in the place
//! of a recorded end) exists. IPv6 flows are skipped. Prints a verdict per flow and a final
//! `N passed, N failed, N skipped`; exits 0 if and only if nothing failed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use prolac_conformance::replay::{
    Replay, checksum_notes, flows, passive_check, read_capture, replay_server,
};

/// Checks the TCP flows of pcap captures (classic libpcap: Ethernet, raw IP, Linux cooked,
/// BSD loopback).
///
/// Each IPv4 TCP flow gets the passive check: every segment decodes, its IPv4 and TCP
/// checksums verify (segments cut by the snapshot length are not summed), and encoding the
/// decoded header gives back the captured bytes. A capture that cannot be read fails.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Capture files, or directories searched for `.pcap` files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

fn captures(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "pcap") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let files = match captures(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("prolac-replay: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                failed += 1;
                println!("FAIL {}: cannot read it: {e}", file.display());
                continue;
            }
        };
        let capture = match read_capture(&bytes) {
            Ok(c) => c,
            Err(e) => {
                failed += 1;
                println!("FAIL {}: {e}", file.display());
                continue;
            }
        };
        for flow in &capture.ipv6_flows {
            skipped += 1;
            println!("SKIP {} {flow}: IPv6 is not supported yet", file.display());
        }
        for flow in flows(&capture) {
            let name = format!(
                "{} {}:{} -> {}:{}",
                file.display(),
                flow.client.0,
                flow.client.1,
                flow.server.0,
                flow.server.1
            );
            match flow.segments.iter().find_map(passive_check) {
                Some(why) => {
                    failed += 1;
                    println!("FAIL {name}: {why}");
                }
                None => {
                    let (bad, offloaded) = checksum_notes(&flow);
                    let mut notes = String::new();
                    if !bad.is_empty() {
                        notes.push_str(&format!(", bad TCP checksums (dropped) in frames {bad:?}"));
                    }
                    if !offloaded.is_empty() {
                        notes
                            .push_str(&format!(", {} checksums left to the card", offloaded.len()));
                    }
                    let passive = format!("{} segments{notes}", flow.segments.len());
                    match replay_server(&flow) {
                        Replay::Pass(what) => {
                            passed += 1;
                            println!(
                                "PASS {name}: {passive}; replayed with the Prolac TCP as server: {what}"
                            );
                        }
                        Replay::Fail(why) => {
                            failed += 1;
                            println!("FAIL {name}: {passive}; replay: {why}");
                        }
                        Replay::Skip(why) => {
                            skipped += 1;
                            println!("SKIP {name}: {passive}; not replayed: {why}");
                        }
                    }
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
