//! tshark as an independent judge (issue 7): transfers recorded as pcap captures — Prolac ↔
//! Prolac and Prolac ↔ smoltcp, on a clean wire and over 1 % and 5 % loss with duplication and
//! reordering (no corruption: a corrupted frame is recorded as such, a bad checksum that is
//! the wire's doing) — are read with `tshark -r FILE -q -z expert`. No capture may have a
//! malformed packet, a bad checksum, or an "ACKed segment that wasn't captured" (an ACK for
//! data never sent); the other expert notes (retransmissions, duplicate ACKs, out-of-order
//! segments, window updates, …) are printed, as the report (`docs/CONFORMANCE.md`) has them.
//! The transfers run on port 80 without HTTP in them; the HTTP dissector is disabled.
//! Skipped, saying so, without tshark.

mod common;

use common::interop::{MIB, run};
use exokernel_target::sim::{End, StackKind, Transfer, clean_link, lossy_link};
use exokernel_target::wire::LinkConfig;

fn tshark_available() -> bool {
    std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// tshark's expert information on `pcap`: (severity, group, summary, frequency) rows.
fn expert(pcap: &[u8]) -> Vec<(String, String, String, u64)> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("capture.pcap");
    std::fs::write(&file, pcap).expect("capture written");
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        // The transfers use port 80 but carry no HTTP: its dissector would only complain.
        .args(["--disable-protocol", "http"])
        .args(["-q", "-z", "expert"])
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = Vec::new();
    let mut severity = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some((name, _)) = trimmed.split_once(" (")
            && matches!(name, "Errors" | "Warns" | "Notes" | "Chats" | "Comments")
        {
            severity = name.to_string();
            continue;
        }
        // "   Frequency      Group           Protocol  Summary"
        let mut words = trimmed.split_whitespace();
        let (Some(freq), Some(group), Some(_protocol)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Ok(freq) = freq.parse::<u64>() else {
            continue;
        };
        let mut summary = words.collect::<Vec<&str>>().join(" ");
        // "Duplicate ACK (#1)", "(#2)", …: one row.
        if summary.starts_with("Duplicate ACK (#") {
            summary = "Duplicate ACK".into();
        }
        match rows
            .iter_mut()
            .find(|(s, g, m, _): &&mut (String, String, String, u64)| {
                *s == severity && g == group && *m == summary
            }) {
            Some(row) => row.3 += freq,
            None => rows.push((severity.clone(), group.to_string(), summary, freq)),
        }
    }
    rows
}

fn judge(name: &str, kinds: [StackKind; 2], link: LinkConfig, seed: u64) {
    let mut t = Transfer::new(name, seed, kinds, End::A, [MIB / 2, MIB / 2]);
    t.link = link;
    t.record = true;
    t.max_us = 600_000_000;
    let out = run(t);
    let pcap = out.pcap.expect("recorded");
    let rows = expert(&pcap);
    println!("{name}: tshark's expert information");
    for (severity, group, summary, freq) in &rows {
        println!("  {severity:8} {freq:6}  {group:10} {summary}");
    }
    let bad: Vec<_> = rows
        .iter()
        .filter(|(severity, group, summary, _)| {
            group == "Malformed"
                || summary.contains("Bad checksum")
                || summary.contains("ACKed segment that wasn't captured")
                || (severity == "Errors" && group != "Sequence")
        })
        .collect();
    assert!(bad.is_empty(), "{name}: {bad:?}");
}

#[test]
fn tshark_finds_nothing_wrong_with_recorded_transfers() {
    if !tshark_available() {
        println!("SKIPPED: tshark is not installed (apt-get install -y tshark)");
        return;
    }
    let prolac = [StackKind::Prolac, StackKind::Prolac];
    let mixed = [StackKind::Smoltcp, StackKind::Prolac];
    judge("Prolac ↔ Prolac, clean", prolac, clean_link(), 11);
    judge("Prolac ↔ Prolac, 1 % loss", prolac, lossy_link(0.01), 12);
    judge("Prolac ↔ Prolac, 5 % loss", prolac, lossy_link(0.05), 13);
    judge("smoltcp ↔ Prolac, clean", mixed, clean_link(), 14);
    judge("smoltcp ↔ Prolac, 1 % loss", mixed, lossy_link(0.01), 15);
    judge("smoltcp ↔ Prolac, 5 % loss", mixed, lossy_link(0.05), 16);
}
