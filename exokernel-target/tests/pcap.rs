//! pcap recording of wire endpoints and reading captures back: round trips through memory
//! and a file, deferred write errors, and truncated or damaged captures giving errors.

mod common;

use std::io::Write;

use common::{ip, stack};
use exokernel_target::device::FrameDevice;
use exokernel_target::netstack::NoTcp;
use exokernel_target::pcap::{PcapError, PcapFrame, PcapRecorder, parse_pcap, read_pcap};
use exokernel_target::wire::{EndId, LinkConfig, Wire, WireConfig};

/// Frames of assorted sizes and contents.
fn frames(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| (0..14 + (i * 97) % 1_500).map(|k| (k * i) as u8).collect())
        .collect()
}

/// A capture of `frames(n)` at 1 ms intervals, and the offsets where each record starts.
fn capture(n: usize) -> (Vec<u8>, Vec<usize>) {
    let mut rec = PcapRecorder::new(Vec::new()).expect("header");
    let mut starts = Vec::new();
    let mut offset = 24;
    for (i, f) in frames(n).iter().enumerate() {
        starts.push(offset);
        offset += 16 + f.len();
        rec.record(i as u64 * 1_000, f).expect("recorded");
    }
    starts.push(offset);
    (rec.finish().expect("flushed"), starts)
}

#[test]
fn recorded_frames_read_back_identically() {
    let (bytes, _) = capture(50);
    let read = parse_pcap(&bytes).expect("valid capture");
    assert_eq!(read.len(), 50);
    for (i, (got, sent)) in read.iter().zip(frames(50)).enumerate() {
        assert_eq!(got.time_us, i as u64 * 1_000);
        assert_eq!(got.orig_len as usize, sent.len());
        assert_eq!(got.data, sent);
    }
}

#[test]
fn a_wire_endpoint_records_everything_crossing_it() {
    let link = LinkConfig {
        latency_us: 1_000,
        ..LinkConfig::PERFECT
    };
    let mut wire = Wire::new(WireConfig::new(31, 2).all_links(link)).expect("valid");
    let (mut a, mut b) = (stack::<NoTcp>(1), stack::<NoTcp>(2));
    let mut rec = PcapRecorder::new(Vec::new()).expect("header");
    let mut log: Vec<(u64, Vec<u8>)> = Vec::new();
    for seq in 0..3 {
        a.send_ping(ip(2), 1, seq, b"recorded", 0).expect("queued");
    }
    let mut now = 0;
    while now < 1_000_000 {
        {
            // A's endpoint, recorded; the log keeps our own view for comparison.
            let mut tap = rec.tap(wire.port(EndId::A).expect("A"));
            while let Some(f) = tap.recv_frame(now) {
                log.push((now, f.clone()));
                a.receive_frame(&f, now);
            }
            a.poll(now);
            while let Some(f) = a.pop_frame() {
                tap.send_frame(&f, now).expect("fits");
                log.push((now, f));
            }
        }
        b.drive(&mut wire.port(EndId::B).expect("B"), now);
        match wire.next_event_at() {
            Some(t) => now = t,
            None => break,
        }
    }
    assert_eq!(a.take_echo_replies().len(), 3);
    // ARP request, ARP reply, three requests, three replies.
    assert_eq!(rec.frames(), 8);
    let bytes = rec.finish().expect("no deferred error");
    let read = parse_pcap(&bytes).expect("valid capture");
    let expected: Vec<PcapFrame> = log
        .iter()
        .map(|(t, f)| PcapFrame {
            time_us: *t,
            orig_len: u32::try_from(f.len()).expect("small"),
            data: f.clone(),
        })
        .collect();
    assert_eq!(read, expected);
    let total: usize = read.iter().map(|f| f.data.len()).sum();
    assert_eq!(total, log.iter().map(|(_, f)| f.len()).sum::<usize>());
    assert_eq!(read.last().map(|f| f.time_us), Some(4_000));
}

#[test]
fn a_stack_driven_through_a_tap_is_recorded() {
    let mut wire = Wire::new(WireConfig::new(32, 2)).expect("valid");
    let (mut a, mut b) = (stack::<NoTcp>(1), stack::<NoTcp>(2));
    let mut rec = PcapRecorder::new(Vec::new()).expect("header");
    a.send_ping(ip(2), 1, 1, b"x", 0).expect("queued");
    for now in 0..4 {
        a.drive(&mut rec.tap(wire.port(EndId::A).expect("A")), now);
        b.drive(&mut wire.port(EndId::B).expect("B"), now);
    }
    assert_eq!(rec.frames(), 4);
    let read = parse_pcap(&rec.finish().expect("ok")).expect("valid");
    assert_eq!(read.len(), 4);
}

#[test]
fn a_capture_file_round_trips() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("wire.pcap");
    let file = std::fs::File::create(&path).expect("created");
    let mut rec = PcapRecorder::new(std::io::BufWriter::new(file)).expect("header");
    for (i, f) in frames(20).iter().enumerate() {
        rec.record(i as u64 * 7, f).expect("recorded");
    }
    drop(rec.finish().expect("flushed"));
    let read = read_pcap(std::fs::File::open(&path).expect("opened")).expect("valid");
    assert_eq!(read.len(), 20);
    assert_eq!(
        read.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        frames(20)
    );
}

#[test]
fn every_truncation_is_an_error_or_a_shorter_valid_capture() {
    let (bytes, starts) = capture(6);
    for cut in 0..bytes.len() {
        let result = parse_pcap(&bytes[..cut]);
        if cut >= 24 && starts.contains(&cut) {
            // A cut between records leaves a valid, shorter capture.
            let n = starts.iter().position(|&s| s == cut).expect("boundary");
            assert_eq!(result.expect("valid prefix").len(), n, "cut at {cut}");
        } else {
            assert!(
                matches!(result, Err(PcapError::Truncated)),
                "cut at {cut}: {result:?}"
            );
        }
    }
}

#[test]
fn damaged_captures_are_errors() {
    let (bytes, _) = capture(2);
    let mut bad_magic = bytes.clone();
    bad_magic[0] ^= 0xff;
    assert!(matches!(parse_pcap(&bad_magic), Err(PcapError::Invalid(_))));

    // A record claiming 4 GiB: refused without allocating it.
    let mut huge = bytes.clone();
    let native = |v: u32| v.to_ne_bytes();
    huge[24 + 8..24 + 12].copy_from_slice(&native(u32::MAX));
    assert!(parse_pcap(&huge).is_err());

    // incl_len > orig_len.
    let mut lying = bytes.clone();
    let first_len = u32::from_ne_bytes(lying[24 + 8..24 + 12].try_into().expect("4"));
    lying[24 + 12..24 + 16].copy_from_slice(&native(first_len - 1));
    assert!(matches!(parse_pcap(&lying), Err(PcapError::Invalid(_))));

    // Microseconds out of range.
    let mut late = bytes;
    late[24 + 4..24 + 8].copy_from_slice(&native(2_000_000));
    assert!(matches!(parse_pcap(&late), Err(PcapError::Invalid(_))));
}

/// A writer that fails once it has accepted `budget` bytes.
struct Failing {
    budget: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.budget {
            return Err(std::io::Error::other("disk full"));
        }
        self.budget -= buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_errors_surface_without_stopping_the_frames() {
    assert!(matches!(
        PcapRecorder::new(Failing { budget: 3 }),
        Err(PcapError::Io(_))
    ));
    let mut wire = Wire::new(WireConfig::new(33, 2)).expect("valid");
    let mut rec = PcapRecorder::new(Failing { budget: 24 + 16 }).expect("header fits");
    {
        let mut tap = rec.tap(wire.port(EndId::A).expect("A"));
        tap.send_frame(&[0; 60], 0)
            .expect("the frame still goes out");
        assert_eq!(tap.max_frame_len(), 1_514);
        assert!(
            tap.send_frame(&[0; 2_000], 0).is_err(),
            "refused, not recorded"
        );
        let port = tap.into_inner();
        assert_eq!(port.end(), EndId::A);
    }
    assert!(matches!(rec.error(), Some(PcapError::Io(_))));
    assert_eq!(wire.recv(EndId::B, 0).map(|f| f.len()), Some(60));
    assert!(matches!(rec.finish(), Err(PcapError::Io(_))));
}
