//! Layer Nagle (`tcp/nagle.pc`; RFC 9293 §3.7.4, RFC 896, RFC 1122 §4.2.3.4): while data is
//! unacknowledged, a segment smaller than the send MSS (1000 bytes here, the peer's) waits, so
//! that small writes coalesce (SHLD-7); full-sized segments and retransmissions are never held;
//! NoDelay turns the algorithm off (MUST-17). The peer's window (8192) and the initial
//! congestion window (4000) do not limit these tests.

mod common;

use common::*;
use protocols::tcp::TcpOption;

/// SHLD-7: the first small write goes (nothing is unacknowledged); the next ones wait while it
/// is, and go as one segment when its ACK arrives (MAY-16: data of successive SENDs, which
/// cannot ask for a push, is aggregated without being sent).
#[test]
fn small_writes_wait_while_data_is_unacknowledged_then_coalesce() {
    let mut c = established_opts(&[]);
    c.send(&data(100), 0);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 1, 100)]);
    c.send(&data(100), 10);
    c.send(&data(100), 20);
    silent(&mut c);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 101), 50);
    let d = only(&mut c);
    assert_eq!((d.seq, d.payload.len(), d.ack), (ISS + 101, 200, IRS + 1));
    let mut expected = data(100);
    expected.extend_from_slice(&data(100));
    assert_eq!(d.payload, expected);
}

/// SHLD-7: a partial ACK is not enough — the small segment waits until nothing is
/// unacknowledged.
#[test]
fn a_small_segment_waits_for_all_data_to_be_acknowledged() {
    let mut c = established_opts(&[]);
    c.send(&data(300), 0);
    sent(&mut c);
    c.send(&data(10), 0);
    silent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 201));
    silent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 301));
    assert_eq!(shape(&sent(&mut c)), [(ISS + 301, 10)]);
}

/// MUST-17: NoDelay turns Nagle off — every write goes at once; turned on again, small
/// writes wait again.
#[test]
fn no_delay_turns_nagle_off() {
    let mut c = established_opts(&[TcpOption::NoDelay(true)]);
    c.send(&data(100), 0);
    c.send(&data(100), 0);
    c.send(&data(100), 0);
    assert_eq!(
        shape(&sent(&mut c)),
        [(ISS + 1, 100), (ISS + 101, 100), (ISS + 201, 100)]
    );
    assert!(c.set_option(TcpOption::NoDelay(false)));
    c.send(&data(100), 0);
    silent(&mut c);
}

/// SHLD-28: full-sized segments are never held: with 100 bytes unacknowledged, 2500 more go
/// as two full segments at once; only the 500-byte tail waits.
#[test]
fn full_sized_segments_are_never_held() {
    let mut c = established_opts(&[]);
    c.send(&data(100), 0);
    sent(&mut c);
    c.send(&data(2500), 0);
    assert_eq!(
        shape(&sent(&mut c)),
        [(ISS + 101, 1000), (ISS + 1101, 1000)]
    );
    arrive(&mut c, peer_ack(IRS + 1, ISS + 2101));
    assert_eq!(shape(&sent(&mut c)), [(ISS + 2101, 500)]);
}

/// Held data goes as soon as it fills a segment.
#[test]
fn held_data_goes_once_it_fills_a_segment() {
    let mut c = established_opts(&[]);
    c.send(&data(100), 0);
    sent(&mut c);
    c.send(&data(500), 0);
    silent(&mut c);
    c.send(&data(600), 0);
    assert_eq!(shape(&sent(&mut c)), [(ISS + 101, 1000)]);
    assert_eq!(
        c.send_queued(),
        1200,
        "100 in flight before, 1000 now, 100 held"
    );
}

/// Held data is not held past a close: the user will write no more, so the FIN goes at once
/// with the data before it on one segment (Linux's `tcp_nagle_test` exempts the final FIN,
/// and 4.4BSD's `tcp_output` sends a segment that can carry it); held, the last piece of every
/// response would wait for the peer's ACK — a delayed one, up to its delayed-ACK time.
#[test]
fn a_close_sends_the_held_data_with_the_fin() {
    let mut c = established_opts(&[]);
    c.send(&data(100), 0);
    sent(&mut c);
    c.send(&data(50), 0);
    silent(&mut c);
    c.shutdown(0);
    let d = only(&mut c);
    assert_eq!((d.seq, d.payload.len()), (ISS + 101, 50));
    assert_eq!(d.flags, ACK | PSH | FIN);
}

/// A retransmission is never held: on a timeout the unacknowledged 100 bytes go again at
/// once, together with the 50 held behind them.
#[test]
fn a_retransmission_is_not_held() {
    let mut c = established_opts(&[]);
    c.send(&data(100), 0);
    sent(&mut c);
    c.send(&data(50), 0);
    silent(&mut c);
    c.poll(RTO);
    let d = only(&mut c);
    assert_eq!((d.seq, d.payload.len()), (ISS + 1, 150));
    let mut expected = data(100);
    expected.extend_from_slice(&data(50));
    assert_eq!(d.payload, expected);
}
