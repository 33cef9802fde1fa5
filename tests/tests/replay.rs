//! `prolac-replay` over the shared captures (`PROLAC_PCAP_DIR`, default `../shared/pcaps`;
//! skipped with a message when absent): every capture reads, every flow (IPv4 and IPv6)
//! decodes and encodes back, our checksum verdicts agree with tshark's frame by frame (when
//! tshark is installed), every flow with a handshake replays with the Prolac TCP as its server
//! and as its client, and an altered capture fails the replay in either role. A truncated or garbled capture is an error, never a panic.

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
        .args(["-o", "tcp.check_checksum:TRUE", "-Y", "tcp"])
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
fn every_flow_with_a_handshake_replays_with_the_prolac_tcp_as_server_and_as_client() {
    use prolac_conformance::replay::{Replay, Role, replay};
    let Some(dir) = pcap_dir() else {
        println!("skipping: no captures at ../shared/pcaps (set PROLAC_PCAP_DIR)");
        return;
    };
    for (role, at_least) in [(Role::Server, 23), (Role::Client, 22)] {
        let (mut passed, mut skipped, mut ipv6) = (0, 0, 0);
        for f in captures(&dir) {
            let capture = read_capture(&std::fs::read(&f).expect("readable")).expect("reads");
            for flow in flows(&capture) {
                match replay(&flow, role) {
                    Replay::Pass(_) => {
                        passed += 1;
                        ipv6 += usize::from(flow.client.0.is_ipv6());
                    }
                    Replay::Skip(why) => {
                        println!("{role:?}: {}: skipped: {why}", f.display());
                        skipped += 1;
                    }
                    Replay::Fail(why) => panic!("{role:?}: {}: {why}", f.display()),
                }
            }
        }
        println!("{role:?}: {passed} flows replayed ({ipv6} IPv6), {skipped} skipped");
        assert!(passed >= at_least, "{role:?}: {passed} replayed");
        assert!(ipv6 >= 4, "{role:?}: {ipv6} IPv6 flows replayed");
    }
}

/// The replay can fail: the same capture, altered so that the peer's FIN acknowledges 100
/// bytes the replaced end never sent (its checksum made right again), no longer replays — the
/// Prolac TCP, server or client, does not take an ACK for data it has not sent.
#[test]
fn an_altered_capture_fails_the_replay() {
    use prolac_conformance::replay::{Replay, Role, replay};
    let Some(dir) = pcap_dir() else {
        println!("skipping: no captures at ../shared/pcaps (set PROLAC_PCAP_DIR)");
        return;
    };
    let file = dir.join("pcapplusplus/one_http_stream_fin.pcap");
    let capture = read_capture(&std::fs::read(&file).expect("readable")).expect("reads");
    for role in [Role::Server, Role::Client] {
        let mut flow = flows(&capture).remove(0);
        assert!(matches!(replay(&flow, role), Replay::Pass(_)), "{role:?}");
        let peer = match role {
            Role::Server => flow.client,
            Role::Client => flow.server,
        };
        let fin = flow
            .segments
            .iter_mut()
            .rev()
            .find(|s| s.src == peer && s.tcp[13] & 0x01 != 0)
            .expect("the peer's FIN");
        let ack = u32::from_be_bytes([fin.tcp[8], fin.tcp[9], fin.tcp[10], fin.tcp[11]]) + 100;
        fin.tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        // Keep the checksum right so that the segment is not taken for a corrupted one.
        fin.tcp[16] = 0;
        fin.tcp[17] = 0;
        let sum = checksum_of(fin);
        fin.tcp[16..18].copy_from_slice(&sum.to_be_bytes());
        let verdict = replay(&flow, role);
        assert!(matches!(verdict, Replay::Fail(_)), "{role:?}: {verdict:?}");
    }
}

/// A capture cut by its snapshot length still replays: the bytes not captured are sent as
/// placeholders and not compared, while everything else (sequence numbers, lengths, the
/// captured bytes, the ending) is. Here every segment of a flow keeps 10 bytes of its text.
#[test]
fn a_capture_cut_by_its_snapshot_length_still_replays() {
    use prolac_conformance::replay::{Replay, Role, replay};
    let Some(dir) = pcap_dir() else {
        println!("skipping: no captures at ../shared/pcaps (set PROLAC_PCAP_DIR)");
        return;
    };
    let file = dir.join("pcapplusplus/one_http_stream_fin.pcap");
    let capture = read_capture(&std::fs::read(&file).expect("readable")).expect("reads");
    let mut flow = flows(&capture).remove(0);
    for s in &mut flow.segments {
        let hlen = usize::from(s.tcp[12] >> 4) * 4;
        s.tcp.truncate(hlen + 10);
        s.complete = s.tcp.len() == s.wire_len;
    }
    assert!(flow.segments.iter().any(|s| !s.complete));
    for role in [Role::Server, Role::Client] {
        match replay(&flow, role) {
            Replay::Pass(what) => assert!(what.contains("not captured"), "{what}"),
            other => panic!("{role:?}: {other:?}"),
        }
    }
}

fn checksum_of(s: &prolac_conformance::replay::Segment) -> u16 {
    let pseudo = prolac_conformance::replay::pseudo_sum(s);
    prolac_conformance::replay::checksum(&s.tcp, pseudo)
}

/// A classic pcap file (raw IP link type) holding `packets`, all at time 0.
fn raw_ip_pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for w in [0u32, 0, 65535, 101] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for p in packets {
        let len = u32::try_from(p.len()).expect("small");
        for w in [0, 0, len, len] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(p);
    }
    out
}

/// IPv6 (RFC 8200 §4): the TCP segment is found after a hop-by-hop and a destination-options
/// header, its checksum verifies with the IPv6 pseudo-header; a fragment is not taken for a
/// segment, nor is a packet whose extension-header chain runs past its end.
#[test]
fn ipv6_extension_headers_are_walked_and_fragments_left_out() {
    let tcp = |sum: [u8; 2]| {
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&80u16.to_be_bytes());
        t[4..8].copy_from_slice(&1000u32.to_be_bytes());
        t[12] = 5 << 4;
        t[13] = 0x02;
        t[14..16].copy_from_slice(&65535u16.to_be_bytes());
        t[16..18].copy_from_slice(&sum);
        t
    };
    let packet = |next: u8, ext: &[u8], tcp: &[u8]| {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(
            &u16::try_from(ext.len() + tcp.len())
                .expect("small")
                .to_be_bytes(),
        );
        p.push(next);
        p.push(64);
        let mut src = [0u8; 16];
        src[0] = 0x20;
        src[1] = 0x01;
        src[2] = 0x0d;
        src[3] = 0xb8;
        src[15] = 1;
        let mut dst = src;
        dst[15] = 2;
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(ext);
        p.extend_from_slice(tcp);
        p
    };
    // Hop-by-hop (next: destination options), 8 bytes; destination options (next: TCP), 8.
    let ext = [60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0];
    let unsummed = read_capture(&raw_ip_pcap(&[packet(0, &ext, &tcp([0, 0]))])).expect("reads");
    assert_eq!(unsummed.segments.len(), 1);
    let sum = checksum_of(&unsummed.segments[0]);
    let good = packet(0, &ext, &tcp(sum.to_be_bytes()));
    // A fragment header (44) in the chain, and a chain longer than the packet.
    let fragment = packet(44, &[6, 0, 0, 1, 0, 0, 0, 7], &tcp([0, 0]));
    let mut runaway = packet(0, &[60, 200, 1, 4, 0, 0, 0, 0], &[]);
    runaway.truncate(48);
    let capture = read_capture(&raw_ip_pcap(&[good, fragment, runaway])).expect("reads");
    assert_eq!(capture.segments.len(), 1, "{capture:?}");
    assert_eq!(capture.other_frames, 2);
    let s = &capture.segments[0];
    assert!(s.src.0.is_ipv6() && s.src.1 == 40000 && s.dst.1 == 80);
    assert_eq!(tcp_checksum(s), Checksum::Good);
    assert_eq!(passive_check(s), None);
    // One bit off in the payload's checksum: bad.
    let mut bad = s.clone();
    bad.tcp[16] ^= 0x01;
    assert_eq!(tcp_checksum(&bad), Checksum::Bad);
}
