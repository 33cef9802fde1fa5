//! `prolac-replay`: checks every TCP flow of pcap captures. First the passive check (every
//! segment decodes, its checksums verify — a segment corrupted on the way is noted and counts
//! as lost, one whose checksum was left to the sending host's card is noted — and decoding and
//! encoding give back its bytes), then the active replay (the Prolac TCP in the place of the
//! recorded server, client, or each in turn: see `replay::active`), IPv4 and IPv6 alike.
//! Prints a verdict per flow and a final `N passed, N failed, N skipped`; exits 0 if and only
//! if nothing failed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use prolac_conformance::replay::{
    Replay, Role, checksum_notes, flows, passive_check, read_capture, replay,
};

/// Checks the TCP flows of pcap captures (classic libpcap: Ethernet, raw IP, Linux cooked,
/// BSD loopback).
///
/// Each TCP flow (IPv4 or IPv6) gets the passive check: every segment decodes, its IP and TCP
/// checksums verify (segments cut by the snapshot length are not summed), and encoding the
/// decoded header gives back the captured bytes. A capture that cannot be read fails.
///
/// A flow that passes is then replayed: the Prolac TCP takes the place of the recorded server
/// (or client), the other end's recorded segments are fed to it on the capture's clock with
/// sequence numbers translated, and the byte streams delivered both ways and the way the
/// connection ended must equal the recorded ones. A flow that cannot be replayed (no
/// handshake in the capture, TCP headers cut short, text on the replaced end's SYN) is skipped
/// with the reason; bytes the snapshot length cut off are not compared.
///
/// Example: `prolac-replay --role both ../shared/pcaps`
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
struct Args {
    /// Capture files, or directories searched for `.pcap` files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Which recorded end the Prolac TCP replaces. With `both`, a flow passes only if both
    /// replays pass, and fails if either fails.
    #[arg(long, value_enum, default_value_t = Ends::Both)]
    role: Ends,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Ends {
    Server,
    Client,
    Both,
}

/// The replays of one flow, combined into one verdict.
fn replays(flow: &prolac_conformance::replay::Flow, ends: Ends) -> Replay {
    let roles: &[Role] = match ends {
        Ends::Server => &[Role::Server],
        Ends::Client => &[Role::Client],
        Ends::Both => &[Role::Server, Role::Client],
    };
    let mut passes = Vec::new();
    let mut skips = Vec::new();
    for &role in roles {
        let name = match role {
            Role::Server => "server",
            Role::Client => "client",
        };
        match replay(flow, role) {
            Replay::Pass(what) => passes.push(format!("as {name}: {what}")),
            Replay::Fail(why) => return Replay::Fail(format!("as {name}: {why}")),
            Replay::Skip(why) => skips.push((name, why)),
        }
    }
    if passes.is_empty() {
        // Mostly the flow itself cannot be replayed, whichever the role: say it once.
        let mut whys: Vec<String> = skips.into_iter().map(|(_, why)| why).collect();
        whys.dedup();
        return Replay::Skip(whys.join("; "));
    }
    for (name, why) in skips {
        passes.push(format!("as {name}: not replayed: {why}"));
    }
    Replay::Pass(passes.join("; "))
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
        for flow in flows(&capture) {
            let name = format!(
                "{} {} -> {}",
                file.display(),
                std::net::SocketAddr::from(flow.client),
                std::net::SocketAddr::from(flow.server)
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
                    match replays(&flow, args.role) {
                        Replay::Pass(what) => {
                            passed += 1;
                            println!("PASS {name}: {passive}; replayed with the Prolac TCP {what}");
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
