//! `prolac-replay` over the shared captures (`PROLAC_PCAP_DIR`, default `../shared/pcaps`;
//! skipped with a message when absent): every capture reads, every IPv4 flow decodes and
//! encodes back, our checksum verdicts agree with tshark's frame by frame (when tshark is
//! installed), every flow with a handshake replays with the Prolac TCP as its server, and an
//! altered capture fails the replay. A truncated or garbled capture is an error, never a panic.

use std::path::{Path, PathBuf};

use prolac_conformance::replay::{Checksum, flows, passive_check, read_capture, tcp_checksum};

fn pcap_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PROLAC_PCAP_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcaps"),
        PathBuf::from,
    );
    dir.is_dir().then_some(dir)
}

fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .expect("readable")
            .filter_map(Result::ok)
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_capture_reads_and_every_flow_passes_the_passive_check() {
    let Some(dir) = pcap_dir() else {
        println!("skipping: no captures at ../shared/pcaps (set PROLAC_PCAP_DIR)");
        return;
    };
    let files = captures(&dir);
    assert!(files.len() >= 10, "{files:?}");
    let mut segments = 0;
    for f in &files {
        let bytes = std::fs::read(f).expect("readable");
        let capture = read_capture(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for flow in flows(&capture) {
            segments += flow.segments.len();
            if let Some(why) = flow.segments.iter().find_map(passive_check) {
                panic!("{}: {why}", f.display());
            }
        }
    }
    println!("{segments} IPv4 TCP segments in {} captures", files.len());
    assert!(segments > 1000);
}

fn tshark_checksums(file: &Path) -> Option<Vec<(usize, bool)>> {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-o", "tcp.check_checksum:TRUE", "-Y", "ip && tcp"])
        .args([
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.checksum.status",
        ])
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (n, s) = l.split_once('\t')?;
                Some((n.parse().ok()?, s.trim() == "1"))
            })
            .collect()
    })
}

#[test]
fn checksum_verdicts_agree_with_tshark() {
    let Some(dir) = pcap_dir() else {
        println!("skipping: no captures at ../shared/pcaps (set PROLAC_PCAP_DIR)");
        return;
    };
    let mut compared = 0;
    for f in captures(&dir) {
        let Some(theirs) = tshark_checksums(&f) else {
            println!("skipping: tshark is not installed (apt-get install -y tshark)");
            return;
        };
        let capture = read_capture(&std::fs::read(&f).expect("readable")).expect("reads");
        for s in capture.segments.iter().filter(|s| s.complete) {
            let Some((_, good)) = theirs.iter().find(|(n, _)| *n == s.frame) else {
                continue;
            };
            let ours = tcp_checksum(s) == Checksum::Good;
            assert_eq!(ours, *good, "{} frame {}", f.display(), s.frame);
            compared += 1;
        }
    }
    println!("{compared} checksums compared with tshark's");
    assert!(compared > 500, "only {compared} compared");
}

#[test]
fn truncated_and_garbled_captures_are_errors_not_panics() {
    let Some(dir) = pcap_dir() else {
        println!("skipping: no captures at ../shared/pcaps (set PROLAC_PCAP_DIR)");
        return;
    };
    for f in captures(&dir).iter().take(8) {
        let bytes = std::fs::read(f).expect("readable");
        for cut in [0, 10, 24, 30, bytes.len() / 2, bytes.len() - 1] {
            let r = read_capture(&bytes[..cut.min(bytes.len())]);
            if cut < 24 {
                assert!(r.is_err(), "{} cut at {cut}", f.display());
            }
            // Otherwise: an error (a frame cut short) or the frames before the cut.
        }
        let mut garbled = bytes.clone();
        for (i, b) in garbled.iter_mut().enumerate().skip(24) {
            *b = b.wrapping_mul(31).wrapping_add(i as u8);
        }
        let _ = read_capture(&garbled).map(|c| flows(&c).len());
    }
}

#[test]
fn every_flow_with_a_handshake_replays_with_the_prolac_tcp_as_server() {
    use prolac_conformance::replay::{Replay, replay_server};
    let Some(dir) = pcap_dir() else {
        println!("skipping: no captures at ../shared/pcaps (set PROLAC_PCAP_DIR)");
        return;
    };
    let (mut passed, mut skipped) = (0, 0);
    for f in captures(&dir) {
        let capture = read_capture(&std::fs::read(&f).expect("readable")).expect("reads");
        for flow in flows(&capture) {
            match replay_server(&flow) {
                Replay::Pass(_) => passed += 1,
                Replay::Skip(why) => {
                    println!("{}: skipped: {why}", f.display());
                    skipped += 1;
                }
                Replay::Fail(why) => panic!("{}: {why}", f.display()),
            }
        }
    }
    println!("{passed} flows replayed, {skipped} skipped");
    assert!(passed >= 17, "{passed} replayed");
}

/// The replay can fail: the same capture, altered so that the client's FIN acknowledges 100
/// bytes the server never sent (its checksum made right again), no longer replays — the
/// Prolac TCP does not take an ACK for data it has not sent.
#[test]
fn an_altered_capture_fails_the_replay() {
    use prolac_conformance::replay::{Replay, replay_server};
    let Some(dir) = pcap_dir() else {
        println!("skipping: no captures at ../shared/pcaps (set PROLAC_PCAP_DIR)");
        return;
    };
    let file = dir.join("pcapplusplus/one_http_stream_fin.pcap");
    let capture = read_capture(&std::fs::read(&file).expect("readable")).expect("reads");
    let mut flow = flows(&capture).remove(0);
    assert!(matches!(replay_server(&flow), Replay::Pass(_)));
    // The client's FIN segment made to acknowledge 100 bytes more than the server sent: the
    // Prolac TCP never sent them.
    let fin = flow
        .segments
        .iter_mut()
        .rev()
        .find(|s| s.src == flow.client && s.tcp[13] & 0x01 != 0)
        .expect("the client's FIN");
    let ack = u32::from_be_bytes([fin.tcp[8], fin.tcp[9], fin.tcp[10], fin.tcp[11]]) + 100;
    fin.tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    // Keep the checksum right so that the segment is not taken for a corrupted one.
    fin.tcp[16] = 0;
    fin.tcp[17] = 0;
    let sum = checksum_of(fin);
    fin.tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    let verdict = replay_server(&flow);
    assert!(matches!(verdict, Replay::Fail(_)), "{verdict:?}");
}

fn checksum_of(s: &prolac_conformance::replay::Segment) -> u16 {
    let mut pseudo = 0u32;
    for addr in [s.src.0, s.dst.0] {
        let o = addr.octets();
        pseudo += u32::from(u16::from_be_bytes([o[0], o[1]]));
        pseudo += u32::from(u16::from_be_bytes([o[2], o[3]]));
    }
    pseudo += 6 + u32::try_from(s.tcp.len()).expect("small");
    prolac_conformance::replay::checksum(&s.tcp, pseudo)
}
