//! Segmentation offload (`TcpOption::Segmentation`, `tcp/output.pc`'s `burst`): new data
//! goes in segments of up to N wire segments' worth, each marked with the size the host must
//! cut it at (`Connection::transmit_segment`); retransmissions go one wire segment at a time;
//! slow start grows the window by up to N segments per ACK. Off (the default), every segment
//! is one wire segment and the host is never asked to cut.

mod common;

use common::*;
use protocols::tcp::{Connection, TcpOption};

/// ESTABLISHED actively with `options` (Nagle off), the peer's MSS 1000 and window 60000.
fn open(options: &[TcpOption]) -> Connection {
    let mut all = vec![TcpOption::NoDelay(true), TcpOption::InitialWindow(10)];
    all.extend_from_slice(options);
    open_active(config(), &all, peer_syn_ack().window(60_000), 0)
}

/// Every segment sent since the last call, with its cut size.
fn segments(c: &mut Connection) -> Vec<(Out, usize)> {
    std::iter::from_fn(|| c.transmit_segment())
        .map(|(frame, cut)| (Out::parse(&frame), cut))
        .collect()
}

#[test]
fn new_data_goes_in_large_segments_cut_at_the_mss() {
    let mut c = open(&[TcpOption::Segmentation(8)]);
    assert_eq!(c.send(&vec![7u8; 20_000], 0), 20_000);
    let out = segments(&mut c);
    // The initial window (10 segments of 1000) goes as one segment of 8 and one of 2.
    let sizes: Vec<(usize, usize)> = out.iter().map(|(o, cut)| (o.payload.len(), *cut)).collect();
    assert_eq!(sizes, [(8000, 1000), (2000, 1000)]);
    assert_eq!(out[0].0.seq, ISS + 1);
    assert_eq!(out[1].0.seq, ISS + 1 + 8000);
    assert_eq!(c.info().cwnd, 10_000);
    // A receiver acknowledges the first segment whole: slow start grows by up to 8 segments.
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1 + 8000).window(60_000));
    assert_eq!(c.info().cwnd, 18_000);
}

#[test]
fn without_the_option_every_segment_is_one_wire_segment() {
    let mut c = open(&[]);
    assert_eq!(c.send(&vec![7u8; 20_000], 0), 20_000);
    let out = segments(&mut c);
    assert_eq!(out.len(), 10);
    assert!(
        out.iter()
            .all(|(o, cut)| o.payload.len() == 1000 && *cut == 0)
    );
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1 + 8000).window(60_000));
    // RFC 5681: one MSS per ACK at most.
    assert_eq!(c.info().cwnd, 11_000);
}

#[test]
fn a_segment_that_fits_one_wire_segment_is_not_cut() {
    let mut c = open(&[TcpOption::Segmentation(8)]);
    assert_eq!(c.send(&[1u8; 1000], 0), 1000);
    assert_eq!(c.send(&[2u8; 10], 0), 10);
    let cuts: Vec<usize> = segments(&mut c).iter().map(|(_, cut)| *cut).collect();
    assert!(cuts.iter().all(|cut| *cut == 0), "{cuts:?}");
}

#[test]
fn retransmissions_go_one_wire_segment_at_a_time() {
    let mut c = open(&[TcpOption::Segmentation(8)]);
    assert_eq!(c.send(&vec![7u8; 8000], 0), 8000);
    let first = segments(&mut c);
    assert_eq!(first.len(), 1);
    // No ACK: the retransmission timer (1 s at first) sends the oldest data again, one MSS.
    c.poll(1_000);
    let again = segments(&mut c);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(
        (again[0].0.seq, again[0].0.payload.len(), again[0].1),
        (ISS + 1, 1000, 0)
    );
}

#[test]
fn the_option_takes_one_to_sixty_four_segments() {
    let mut c = Connection::new(config());
    assert!(c.set_option(TcpOption::Segmentation(1)));
    assert!(c.set_option(TcpOption::Segmentation(64)));
    assert!(!c.set_option(TcpOption::Segmentation(0)));
    assert!(!c.set_option(TcpOption::Segmentation(65)));
}

/// The one's-complement sum of `data` (big-endian pairs, an odd byte padded).
fn sum16(data: &[u8]) -> u16 {
    let mut c = prolac_runtime::checksum::Checksum::new();
    c.add_bytes(data);
    c.sum()
}

/// Checks the data sums of every segment sent since the last call: the bytes sent, and how
/// many wire segments had an odd length.
fn check_sums(c: &mut Connection) -> (usize, usize) {
    let (mut bytes, mut odd) = (0, 0);
    while let Some(o) = c.transmit_summed() {
        let seg = Out::parse(&o.frame);
        let size = if o.cut == 0 { seg.payload.len() } else { o.cut };
        for (i, piece) in seg.payload.chunks(size.max(1)).enumerate() {
            assert_eq!(
                o.data_sums.piece(o.cut, seg.payload.len(), i),
                Some(sum16(piece)),
                "segment at {} piece {i}",
                seg.seq
            );
            odd += piece.len() % 2;
        }
        bytes += seg.payload.len();
    }
    (bytes, odd)
}

#[test]
fn the_data_of_each_wire_segment_is_summed_as_it_is_copied() {
    let mut c = open(&[TcpOption::Segmentation(8)]);
    let first: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + 3) as u8).collect();
    assert_eq!(c.send(&first, 0), first.len());
    assert_eq!(check_sums(&mut c), (10_000, 0));
    let mut acked = 10_000u32;
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1 + acked).window(60_000));
    // More than the ring held before: the data wraps it, within and between wire segments,
    // and ends with an odd byte.
    let more: Vec<u8> = (0..30_001u32).map(|i| (i * 13 + 1) as u8).collect();
    assert_eq!(c.send(&more, 0), more.len());
    let (mut sent, mut odd) = (0, 0);
    for _ in 0..10 {
        let (bytes, o) = check_sums(&mut c);
        sent += bytes;
        odd += o;
        acked += bytes as u32;
        arrive(&mut c, peer_ack(IRS + 1, ISS + 1 + acked).window(60_000));
    }
    assert_eq!(sent, 30_001);
    assert_eq!(odd, 1);
}

#[test]
fn a_bare_ack_has_no_data_sums_to_use() {
    let mut c = open(&[TcpOption::Segmentation(8)]);
    arrive(
        &mut c,
        peer_ack(IRS + 1, ISS + 1)
            .window(60_000)
            .payload(&[5u8; 100]),
    );
    c.poll(1_000);
    let o = c.transmit_summed().expect("an ACK of the data");
    let seg = Out::parse(&o.frame);
    assert!(seg.payload.is_empty());
    assert_eq!(o.cut, 0);
    assert_eq!(o.data_sums.piece(0, 0, 0), None);
}

/// Nagle's rule under segmentation offload (RFC 9293 §3.7.4, SHLD-7): a large segment whose
/// last wire segment would be short goes without it while data is in flight — as its wire
/// segments sent one by one would — and the short piece waits for more data or for the ACK
/// of all that is out; with Nagle off it goes at once.
#[test]
fn with_nagle_a_large_segment_goes_without_its_short_last_piece() {
    for nodelay in [false, true] {
        let mut c = open(&[TcpOption::Segmentation(8), TcpOption::NoDelay(nodelay)]);
        // 8,500 bytes: 8 full pieces and a short one of 500, all within the initial window.
        assert_eq!(c.send(&vec![7u8; 8500], 0), 8500);
        let sizes: Vec<(usize, usize)> = segments(&mut c)
            .iter()
            .map(|(o, cut)| (o.payload.len(), *cut))
            .collect();
        if nodelay {
            assert_eq!(sizes, [(8000, 1000), (500, 0)]);
            continue;
        }
        assert_eq!(sizes, [(8000, 1000)], "the short piece waits");
        // More data makes it whole: 500 + 700 goes as one full piece and a short one that
        // waits again.
        assert_eq!(c.send(&vec![8u8; 700], 0), 700);
        let sizes: Vec<usize> = segments(&mut c)
            .iter()
            .map(|(o, _)| o.payload.len())
            .collect();
        assert_eq!(sizes, [1000]);
        // Everything out acknowledged: the short rest goes (nothing in flight).
        arrive(&mut c, peer_ack(IRS + 1, ISS + 1 + 9000).window(60_000));
        let out = segments(&mut c);
        let sizes: Vec<usize> = out.iter().map(|(o, _)| o.payload.len()).collect();
        assert_eq!(sizes, [200]);
        assert_eq!(out[0].0.seq, ISS + 1 + 9000);
    }
}

/// A close sends the short last piece at once, with the FIN, even with Nagle on and data in
/// flight: one large segment cut into full pieces and the short one.
#[test]
fn a_close_sends_the_short_last_piece_with_the_fin() {
    let mut c = open(&[TcpOption::Segmentation(8), TcpOption::NoDelay(false)]);
    assert_eq!(c.send(&vec![7u8; 1000], 0), 1000);
    assert_eq!(segments(&mut c).len(), 1);
    // 2,500 bytes behind 1,000 in flight: two full pieces go, 500 wait.
    assert_eq!(c.send(&vec![8u8; 2500], 0), 2500);
    let sizes: Vec<usize> = segments(&mut c)
        .iter()
        .map(|(o, _)| o.payload.len())
        .collect();
    assert_eq!(sizes, [2000]);
    c.shutdown(0);
    let out = segments(&mut c);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].0.seq, out[0].0.payload.len()),
        (ISS + 1 + 3000, 500)
    );
    assert_ne!(out[0].0.flags & FIN, 0, "the FIN rides on it");
}

/// `send_shared` is `send` without the copy: connections in the same state, one handed the
/// data by copy and two as ranges of a shared buffer (ranges that start anywhere in it and
/// segments that span two of them), send the same segments, cut at the same sizes, with the
/// same sums of each wire segment's data — new data and a retransmission alike. The third
/// gathers ([`Connection::set_gather`]): its large segments carry the data as references to
/// the shared buffer, not in their frames, and are the same segments once it is copied in.
#[test]
fn shared_sends_make_the_segments_and_sums_of_copied_ones() {
    use prolac_runtime::checksum::SummedBytes;
    let data: Vec<u8> = (0..30_000u32).map(|i| (i * 7 + i / 300) as u8).collect();
    let shared = SummedBytes::new(data.clone());
    let mut copied = open(&[TcpOption::Segmentation(8)]);
    let mut by_ref = open(&[TcpOption::Segmentation(8)]);
    let mut gathering = open(&[TcpOption::Segmentation(8)]);
    gathering.set_gather(true);
    // In chunks of 3,333 bytes: the 8,000-byte segments span chunks.
    for start in (0..data.len()).step_by(3_333) {
        let end = (start + 3_333).min(data.len());
        assert_eq!(copied.send(&data[start..end], 0), end - start);
        assert_eq!(by_ref.send_shared(&shared, start..end, 0), end - start);
        assert_eq!(gathering.send_shared(&shared, start..end, 0), end - start);
    }
    // The segments, with gathered data copied in after the headers; and how many were
    // gathered.
    let sent = |c: &mut Connection| {
        let mut gathered = 0;
        let segments = std::iter::from_fn(|| c.transmit_summed())
            .map(|mut o| {
                if !o.gathered.is_empty() {
                    assert!(o.cut > 0, "only segments to cut are gathered");
                    gathered += 1;
                }
                o.gathered.copy_to(&mut o.frame);
                (o.frame, o.cut, o.data_sums)
            })
            .collect::<Vec<_>>();
        (segments, gathered)
    };
    let all = |c: &mut [&mut Connection; 3]| c.each_mut().map(|c| sent(c));
    let mut conns = [&mut copied, &mut by_ref, &mut gathering];
    let [(a, 0), (b, 0), (g, gathered)] = all(&mut conns) else {
        panic!("only the gathering connection gathers");
    };
    assert!(
        a.iter().any(|(_, cut, _)| *cut > 0),
        "large segments: {}",
        a.len()
    );
    assert_eq!(a, b);
    assert_eq!(a, g);
    assert_eq!(
        gathered,
        a.iter().filter(|(_, cut, _)| *cut > 0).count(),
        "every large segment gathered"
    );
    // An ACK of the first segment lets more go; no ACK after that: the retransmission of
    // the oldest unacknowledged data comes from the queue again.
    for c in &mut conns {
        arrive(c, peer_ack(IRS + 1, ISS + 1 + 8000).window(60_000));
    }
    let [(a, _), (b, _), (g, _)] = all(&mut conns);
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(a, g);
    for c in &mut conns {
        c.poll(5_000);
    }
    let [(a, _), (b, _), (g, _)] = all(&mut conns);
    assert!(!a.is_empty(), "a retransmission");
    assert_eq!(a, b);
    assert_eq!(a, g);
    assert_eq!(copied.send_queued(), by_ref.send_queued());
    assert_eq!(copied.send_queued(), gathering.send_queued());
}
