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
