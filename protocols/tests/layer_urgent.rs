//! Layer Urgent (`tcp/urgent.pc`; RFC 9293 §3.8.5, §3.10.7.4 sixth step, RFC 6093): the
//! receive side — RCV.UP from SEG.SEQ + SEG.UP (the first octet after the urgent data), the
//! largest pointer kept, the user told when one appears or moves, how much urgent data is left
//! to read — and the send side — SEND with the urgent flag marks what is queued, segments below
//! the mark carry URG and the pointer, 65535 when the mark is further off, and go at once.
//! Connections as the state tests build them (ISS 1000, IRS 5000, peer MSS 1000).

mod common;

use common::*;
use protocols::tcp::{Event, State, TcpOption};

const URG: u8 = 0x20;

/// Peer data at `offset` from its first data byte, with URG and pointer `up`.
fn urgent_data(offset: u32, n: usize, up: u16) -> Seg {
    let mut s = peer_ack(IRS + 1 + offset, ISS + 1).payload(&data(n));
    s = s.urgent(up);
    s
}

/// The urgent pointer field of `o` (bytes 18-19 of its header, which `Out` does not parse).
fn pointer(o: &Out, raw: &[u8]) -> u16 {
    assert!(o.has(URG), "URG set: {o:?}");
    u16::from_be_bytes([raw[18], raw[19]])
}

/// MUST-30, MUST-62: SEG.SEQ + SEG.UP is the first octet after the urgent data; the user is
/// told (MUST-32) and can learn how much urgent data there is to read (MUST-33).
#[test]
fn an_urgent_pointer_marks_the_end_of_urgent_data() {
    let mut c = established();
    arrive(&mut c, urgent_data(0, 100, 40));
    assert_eq!(c.events(), [Event::Urgent]);
    let i = c.info();
    assert!(i.urgent);
    assert_eq!(i.rcv_up, IRS + 1 + 40);
    assert_eq!(c.urgent_pending(), Some(40), "40 bytes up to the mark");
}

/// The urgent data stays in the stream (RFC 9293 §3.8.5 / RFC 6093: "inline"); reading past
/// the mark leaves none pending (MUST-33).
#[test]
fn urgent_data_is_read_in_line() {
    let mut c = established();
    arrive(&mut c, urgent_data(0, 100, 40));
    let mut buf = [0; 30];
    assert_eq!(c.recv(&mut buf, 0), 30);
    assert_eq!(c.urgent_pending(), Some(10));
    assert_eq!(read_all(&mut c), data(100)[30..]);
    assert_eq!(c.urgent_pending(), None);
}

/// MUST-32: the user hears again when the pointer moves on, not when it is repeated.
#[test]
fn the_user_hears_of_a_pointer_when_it_moves_on() {
    let mut c = established();
    arrive(&mut c, urgent_data(0, 100, 100));
    c.events();
    arrive(&mut c, urgent_data(100, 100, 0));
    assert_eq!(c.events(), [], "the same mark, repeated");
    arrive(&mut c, urgent_data(200, 100, 50));
    assert_eq!(c.events(), [Event::Urgent]);
    assert_eq!(c.info().rcv_up, IRS + 1 + 250);
}

/// §3.10.7.4: RCV.UP = max(RCV.UP, SEG.UP): a smaller mark (here on data that arrives after a
/// later segment) does not move it back.
#[test]
fn a_smaller_pointer_does_not_move_the_mark_back() {
    let mut c = established();
    arrive(&mut c, urgent_data(200, 100, 100));
    assert_eq!(c.events(), [Event::Urgent]);
    // The data before it, with an older mark.
    arrive(&mut c, urgent_data(0, 100, 50));
    assert_eq!(c.events(), []);
    assert_eq!(c.info().rcv_up, IRS + 1 + 300);
}

/// MUST-31: urgent data of any length — the mark may lie beyond the data that has arrived
/// (a pointer of 65535 from a sender whose urgent data is longer still).
#[test]
fn the_mark_may_lie_beyond_the_data_received() {
    let mut c = established();
    arrive(&mut c, urgent_data(0, 100, 65_535));
    assert_eq!(c.info().rcv_up, IRS + 1 + 65_535);
    assert_eq!(c.urgent_pending(), Some(65_535));
}

/// §3.10.7.4 sixth step: in CLOSE-WAIT (a FIN has arrived) URG is ignored.
#[test]
fn after_the_peers_fin_urg_is_ignored() {
    let mut c = close_wait();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 1).urgent(10));
    assert_eq!(c.events(), []);
    assert!(!c.info().urgent);
}

/// MUST-30 (send side): data sent with the urgent flag goes with URG and a pointer to the
/// octet after it.
#[test]
fn urgent_data_is_sent_with_urg_and_the_pointer() {
    let mut c = established();
    assert_eq!(c.send_urgent(b"abort!", 0), 6);
    let raw = c.poll_transmit().expect("a segment");
    let o = Out::parse(&raw);
    assert_eq!(o.payload, b"abort!");
    assert_eq!(pointer(&o, &raw), 6);
}

/// The pointer is relative to each segment's sequence number: every segment below the mark
/// carries it; the first segment past it does not.
#[test]
fn each_segment_below_the_mark_points_at_it() {
    let mut c = established();
    c.send(&data(1500), 0);
    sent(&mut c);
    c.send_urgent(&data(10), 0);
    let raws: Vec<Vec<u8>> = std::iter::from_fn(|| c.poll_transmit()).collect();
    assert_eq!(raws.len(), 1, "the urgent data goes at once");
    let o = Out::parse(&raws[0]);
    assert_eq!(o.seq, ISS + 1 + 1500);
    assert_eq!(pointer(&o, &raws[0]), 10);
    // Acknowledged: data sent later is ordinary.
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1 + 1510));
    sent(&mut c);
    c.send(b"after", 0);
    let o = only(&mut c);
    assert!(!o.has(URG), "{o:?}");
}

/// MUST-31 / RFC 6093 §4: urgent data longer than the field can point: 65535 until the mark is
/// within reach.
#[test]
fn a_far_mark_is_pointed_at_with_65535() {
    let mut c = plain(protocols::tcp::Config {
        initial_seq: ISS,
        receive_capacity: RCV_BUF,
        send_capacity: 1 << 20,
        ..protocols::tcp::Config::default()
    });
    c.listen(LOCAL);
    arrive(&mut c, peer_syn().window(65_535));
    sent(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(65_535));
    c.send_urgent(&data(100_000), 0);
    let raws: Vec<Vec<u8>> = std::iter::from_fn(|| c.poll_transmit()).collect();
    assert!(raws.len() > 2);
    for raw in &raws {
        let o = Out::parse(raw);
        let to_mark = (ISS + 1 + 100_000).wrapping_sub(o.seq);
        let want = u16::try_from(to_mark).unwrap_or(u16::MAX);
        assert_eq!(pointer(&o, raw), want, "{o:?}");
    }
}

/// Urgent data does not wait for Nagle's algorithm.
#[test]
fn urgent_data_is_not_held_back_by_nagle() {
    let mut c = established();
    assert!(c.set_option(TcpOption::NoDelay(false)));
    c.send(b"a", 0);
    assert_eq!(sent(&mut c).len(), 1, "the first small segment goes");
    c.send(b"b", 0);
    silent(&mut c);
    c.send_urgent(b"!", 0);
    let out = sent(&mut c);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].payload, b"b!");
}

/// SEND with the urgent flag after CLOSE: nothing is accepted, nothing marked.
#[test]
fn no_urgent_data_after_close() {
    let mut c = established();
    c.shutdown(0);
    sent(&mut c);
    assert_eq!(c.state(), State::FinWait1);
    assert_eq!(c.send_urgent(b"late", 0), 0);
    silent(&mut c);
}
