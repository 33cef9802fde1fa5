//! Layer Window (`tcp/window.pc`; RFC 9293 §3.8.6.2, RFC 1122 §4.2.3.3-4): silly window
//! syndrome avoidance on both sides. The receiver moves the right edge of the window it offers
//! only by a full segment or half its buffer (MUST-39) and sends a window update of its own when
//! a read opens the window by two segments or half the buffer; the sender holds back a segment
//! smaller than a full one, than what is queued and than half the largest window the peer has
//! offered, until the persist (override) timer fires (MUST-38).
//!
//! Receiver tests turn on QuickAck (the Delayed-Ack layer would otherwise hold the ACKs that
//! show the offered window); sender tests keep every default. Our MSS is 1460 (so a full
//! segment for the receiver rule is 1460 bytes); the peer's is 1000.

mod common;

use common::*;
use protocols::tcp::{Config, Connection, TcpOption};

/// ESTABLISHED with a receive buffer of `n` bytes, acknowledging every segment at once.
fn receiver(n: usize) -> Connection {
    established_cfg(
        Config {
            receive_capacity: n,
            ..config()
        },
        &[TcpOption::QuickAck(true)],
    )
}

/// Reads `n` bytes.
fn read(c: &mut Connection, n: usize) {
    let mut buf = vec![0; n];
    assert_eq!(c.recv(&mut buf, 0), n, "{n} bytes were there to read");
}

/// MUST-39 (§3.8.6.2.2): with a 10000-byte buffer the right edge moves only when it can move
/// by min(MSS, buffer/2) = 1460 bytes: a read of 1459 bytes leaves it where it was (never to
/// the left, SHLD-14), one more byte moves it to the whole buffer.
#[test]
fn the_right_edge_moves_only_by_a_full_segment() {
    let mut c = receiver(10_000);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(1459)));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1460);
    read(&mut c, 1459);
    silent(&mut c);
    c.send(b"x", 0);
    let x = only(&mut c);
    assert_eq!(
        x.window,
        10_000 - 1459,
        "1459 bytes free again: the edge stays"
    );
    arrive(&mut c, peer_ack(IRS + 1460, ISS + 2).payload(b"y"));
    let a = only(&mut c);
    assert_ack(&a, ISS + 2, IRS + 1461);
    assert_eq!(a.window, 10_000 - 1460, "the same right edge, IRS+1+10000");
    read(&mut c, 1);
    silent(&mut c);
    c.send(b"z", 0);
    assert_eq!(
        only(&mut c).window,
        10_000,
        "1460 bytes free: the edge moves"
    );
}

/// MUST-39: with a buffer of 1000 bytes (half of it less than an MSS) the step is half the
/// buffer, 500 bytes; a read that frees that much moves the edge and, being half the buffer,
/// sends a window update of its own.
#[test]
fn with_a_small_buffer_the_edge_moves_by_half_the_buffer() {
    let mut c = receiver(1000);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(300)));
    assert_eq!(only(&mut c).window, 700);
    read(&mut c, 300);
    silent(&mut c);
    arrive(&mut c, peer_ack(IRS + 301, ISS + 1).payload(&data(200)));
    assert_eq!(
        only(&mut c).window,
        500,
        "the edge has not moved: 300+200 in"
    );
    read(&mut c, 200);
    let update = only(&mut c);
    assert_ack(&update, ISS + 1, IRS + 501);
    assert_eq!(update.window, 1000);
}

/// MUST-39 and §3.8.6.2.2's "the window update": a read sends an update at once when it opens
/// the window by at least min(2·MSS, buffer/2) = 2920 bytes and to at least twice what the peer
/// was last told (with less, the ACKs of the data still coming carry the window soon enough).
#[test]
fn a_read_that_opens_the_window_by_two_segments_sends_an_update() {
    let mut c = receiver(20_000);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(12_000)));
    assert_eq!(only(&mut c).window, 8_000);
    read(&mut c, 4_000);
    silent(&mut c);
    read(&mut c, 3_999);
    silent(&mut c);
    read(&mut c, 1);
    let update = only(&mut c);
    assert_ack(&update, ISS + 1, IRS + 12_001);
    assert_eq!(update.window, 16_000, "4000 bytes are still unread");
    assert_eq!(c.info().rcv_wnd, 16_000, "the window last advertised");
}

/// Two segments' worth more is not enough when the window was large already: 17,000 → 19,920
/// sends nothing.
#[test]
fn a_read_that_does_not_double_a_large_window_sends_no_update() {
    let mut c = receiver(20_000);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(3000)));
    assert_eq!(only(&mut c).window, 17_000);
    read(&mut c, 2920);
    silent(&mut c);
    assert_eq!(c.info().rcv_wnd, 17_000, "the peer still knows 17000");
}

/// A small read sends no update even when it moves the edge: the next segment carries it.
#[test]
fn a_small_read_sends_no_window_update() {
    let mut c = receiver(20_000);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(2000)));
    assert_eq!(only(&mut c).window, 18_000);
    read(&mut c, 2000);
    silent(&mut c);
    assert_eq!(c.info().rcv_wnd, 18_000, "the peer still knows 18000");
    arrive(&mut c, peer_ack(IRS + 2001, ISS + 1).payload(b"a"));
    assert_eq!(
        only(&mut c).window,
        19_999,
        "the ACK carries the moved edge"
    );
}

/// The layer's own promise (window.pc, `window-update-wanted`): "a zero window that reopens
/// always is [worth an update]" — otherwise the peer learns of it only from its next probe,
/// a persist interval later.
#[test]
fn a_zero_window_that_reopens_sends_an_update() {
    let mut c = receiver(4096);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(4096)));
    assert_eq!(only(&mut c).window, 0);
    read(&mut c, 1500);
    let update = only(&mut c);
    assert_ack(&update, ISS + 1, IRS + 4097);
    assert_eq!(update.window, 1500);
}

/// MUST-38 (§3.8.6.2.1): a usable window (300 bytes) smaller than an MSS, than what is queued
/// (1000) and than half the largest window offered (8192/2) is not used at once; the override
/// timeout — the persist timer, one RTO — sends what it allows.
#[test]
fn a_small_usable_window_waits_for_the_override_timeout() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(300));
    c.send(&data(1000), 0);
    silent(&mut c);
    assert_eq!(c.poll_at(), Some(RTO));
    c.poll(RTO - 1);
    silent(&mut c);
    c.poll(RTO);
    let out = only(&mut c);
    assert_eq!((out.seq, out.payload.len()), (ISS + 1, 300));
    assert_eq!(out.payload, data(300));
}

/// MUST-38: a small window is used at once when the segment takes everything queued.
#[test]
fn a_small_window_is_used_when_it_takes_all_that_is_queued() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(300));
    c.send(&data(300), 0);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 300)]);
}

/// MUST-38: a usable window of at least half the largest the peer has offered (1200 bytes, in
/// its SYN and its ACK) is used at once; one byte less waits.
#[test]
fn a_window_of_half_the_largest_offered_is_used_at_once() {
    let mut c = Connection::new(config());
    c.listen(LOCAL);
    arrive(&mut c, peer_syn().window(1200));
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(1200));
    sent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(599));
    c.send(&data(1000), 0);
    silent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(600));
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 600)]);
}

/// The largest window offered is remembered: after the peer's window shrinks, a window under
/// half the largest (8192) still waits, though it is the whole of the current one.
#[test]
fn the_largest_window_offered_is_remembered() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(1000));
    c.send(&data(100), 0);
    sent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 101).window(800));
    c.send(&data(1000), 0);
    silent(&mut c);
    assert_eq!(c.poll_at(), Some(RTO), "the persist timer runs instead");
}

/// Reading everything (`recv_to`) into an empty vector with room hands the connection's buffer
/// over and goes on in the vector's allocation; into one that holds bytes (or has too little
/// room), it appends. Either way every
/// byte comes out once, in order, after a partial read too (the ring's start moved), and the
/// window reopens as for any read.
#[test]
fn reading_everything_hands_the_bytes_over_in_order() {
    let mut c = receiver(10_000);
    let stream: Vec<u8> = (0..9_000u32).map(|i| (i * 13 + i / 7) as u8).collect();
    let mut seq = IRS + 1;
    let give = |c: &mut Connection, seq: &mut u32, bytes: &[u8]| {
        arrive(c, peer_ack(*seq, ISS + 1).payload(bytes));
        *seq += bytes.len() as u32;
    };
    give(&mut c, &mut seq, &stream[..3_000]);
    let mut head = vec![0; 1_000];
    assert_eq!(c.recv(&mut head, 0), 1_000);
    give(&mut c, &mut seq, &stream[3_000..7_000]);
    let mut got = Vec::with_capacity(6_000);
    assert_eq!(c.recv_to(&mut got, 0), 6_000);
    assert_eq!(got, stream[1_000..7_000]);
    let _ = sent(&mut c);
    // The buffer now lives in the allocation handed in.
    give(&mut c, &mut seq, &stream[7_000..8_000]);
    give(&mut c, &mut seq, &stream[8_000..]);
    let after = sent(&mut c);
    assert_eq!(
        after.last().map(|o| o.ack),
        Some(seq),
        "both segments acknowledged: {after:?}"
    );
    let mut more = b"kept".to_vec();
    assert_eq!(c.recv_to(&mut more, 0), 2_000);
    assert_eq!(more[..4], *b"kept");
    assert_eq!(more[4..], stream[7_000..]);
    give(&mut c, &mut seq, &stream[..500]);
    let mut small = Vec::with_capacity(10);
    assert_eq!(c.recv_to(&mut small, 0), 500);
    assert_eq!(small, stream[..500]);
    let mut none = Vec::new();
    assert_eq!(c.recv_to(&mut none, 0), 0);
    assert!(none.is_empty());
}
