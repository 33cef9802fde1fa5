//! Layer Delayed-Ack (`tcp/delayed-ack.pc`; RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681
//! §4.2): in-order data is acknowledged within the delay (200 ms by default, DelayedAckMs;
//! MUST-40: under 0.5 s) or as soon as 2·RMSS bytes (2920) are unacknowledged (SHLD-19);
//! out-of-order data, data that fills a gap and a FIN are acknowledged at once; an ACK due
//! rides on any segment sent meanwhile (MUST-58); QuickAck acknowledges every segment at once.
//! The passive open completes at 0; our MSS (RMSS) is 1460.

mod common;

use common::*;
use protocols::tcp::TcpOption;

/// SHLD-18, MUST-40: one in-order segment is acknowledged when the delay (200 ms) is up, not
/// before.
#[test]
fn one_segment_is_acknowledged_after_the_delay() {
    let mut c = established_opts(&[]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(500)), 1000);
    silent(&mut c);
    assert_eq!(c.readable(), 500, "delivered at once all the same");
    assert_eq!(c.poll_at(), Some(1200));
    c.poll(1199);
    silent(&mut c);
    c.poll(1200);
    assert_ack(&only(&mut c), ISS + 1, IRS + 501);
    assert_eq!(c.poll_at(), None);
}

/// MUST-40: the delay runs from the first unacknowledged segment; later ones do not push it
/// back, and the one ACK covers them all (MUST-58).
#[test]
fn the_delay_runs_from_the_first_unacknowledged_segment() {
    let mut c = established_opts(&[]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(500)), 0);
    arrive_at(
        &mut c,
        peer_ack(IRS + 501, ISS + 1).payload(&data(500)),
        150,
    );
    silent(&mut c);
    assert_eq!(c.poll_at(), Some(200));
    c.poll(200);
    assert_ack(&only(&mut c), ISS + 1, IRS + 1001);
}

/// SHLD-19: the second full-sized segment (2·1460 bytes unacknowledged) is acknowledged at once.
#[test]
fn a_second_full_sized_segment_is_acknowledged_at_once() {
    let mut c = established_opts(&[]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(1460)), 10);
    silent(&mut c);
    arrive_at(
        &mut c,
        peer_ack(IRS + 1461, ISS + 1).payload(&data(1460)),
        20,
    );
    assert_ack(&only(&mut c), ISS + 1, IRS + 2921);
    assert_eq!(c.poll_at(), None, "nothing left to acknowledge");
    arrive_at(
        &mut c,
        peer_ack(IRS + 2921, ISS + 1).payload(&data(1460)),
        30,
    );
    silent(&mut c);
    assert_eq!(c.poll_at(), Some(230), "the count starts again");
}

/// SHLD-19 counts bytes (2·RMSS): smaller segments are acknowledged once 2920 bytes are
/// unacknowledged — the third of 1000 bytes.
#[test]
fn smaller_segments_are_acknowledged_every_two_rmss_bytes() {
    let mut c = established_opts(&[]);
    for k in 0..2 {
        arrive(
            &mut c,
            peer_ack(IRS + 1 + k * 1000, ISS + 1).payload(&data(1000)),
        );
        silent(&mut c);
    }
    arrive(&mut c, peer_ack(IRS + 2001, ISS + 1).payload(&data(1000)));
    assert_ack(&only(&mut c), ISS + 1, IRS + 3001);
}

/// RFC 5681 §4.2, MAY-13: out-of-order data is acknowledged at once (a duplicate ACK for the
/// gap), and so is the segment that fills the gap.
#[test]
fn out_of_order_data_and_the_segment_filling_the_gap_are_acknowledged_at_once() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 101, ISS + 1).payload(&data(100)));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(100)));
    assert_ack(&only(&mut c), ISS + 1, IRS + 201);
}

/// §3.10.7.4 eighth step: a FIN is acknowledged at once, with the data delayed before it.
#[test]
fn a_fin_is_acknowledged_at_once() {
    let mut c = established_opts(&[]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(300)), 0);
    silent(&mut c);
    arrive_at(&mut c, seg(FIN).seq(IRS + 301).ack(ISS + 1), 50);
    assert_ack(&only(&mut c), ISS + 1, IRS + 302);
    assert_eq!(c.poll_at(), None);
}

/// MUST-58: data sent while an ACK is delayed carries it, and no separate ACK follows.
#[test]
fn the_ack_rides_on_data_sent_meanwhile() {
    let mut c = established_opts(&[]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(500)), 0);
    c.send(b"reply", 50);
    let d = only(&mut c);
    assert_eq!((d.seq, d.ack, d.payload.len()), (ISS + 1, IRS + 501, 5));
    assert_eq!(c.poll_at(), Some(50 + RTO), "only the retransmission timer");
    c.poll(200);
    silent(&mut c);
}

/// DelayedAckMs sets the delay.
#[test]
fn the_delay_is_an_option() {
    let mut c = established_opts(&[TcpOption::DelayedAckMs(40)]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(b"x"), 1000);
    silent(&mut c);
    assert_eq!(c.poll_at(), Some(1040));
    c.poll(1040);
    assert_ack(&only(&mut c), ISS + 1, IRS + 2);
}

/// QuickAck acknowledges every segment at once; turned off, the delay is back.
#[test]
fn quick_ack_acknowledges_every_segment_at_once() {
    let mut c = established_opts(&[TcpOption::QuickAck(true)]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(b"a"));
    assert_ack(&only(&mut c), ISS + 1, IRS + 2);
    assert!(c.set_option(TcpOption::QuickAck(false)));
    arrive(&mut c, peer_ack(IRS + 2, ISS + 1).payload(b"b"));
    silent(&mut c);
    assert_eq!(c.poll_at(), Some(200));
}

/// MUST-40: "the delay MUST be less than 0.5 seconds" — whatever delay the application asks
/// for.
#[test]
fn the_delay_stays_under_half_a_second_whatever_the_option() {
    let mut c = established_opts(&[TcpOption::DelayedAckMs(1000)]);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1).payload(b"x"), 1000);
    silent(&mut c);
    let due = c.poll_at().expect("the delayed ACK is due");
    assert!(due < 1500, "the ACK is due at {due}");
}

/// After data out of order, the next in-order segments are acknowledged at once (Linux's
/// quick-ACK mode): a sender recovering from a loss with a window of one or two segments is
/// not kept waiting for the delay.
#[test]
fn after_data_out_of_order_the_next_segments_are_acknowledged_at_once() {
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1001, ISS + 1).payload(&data(500)));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(1000)));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1501);
    // A lone small segment after the gap filled: no delay either.
    arrive(&mut c, peer_ack(IRS + 1501, ISS + 1).payload(&data(100)));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1601);
}

/// SHLD-19 with timestamps negotiated: a full-sized segment from the peer carries 12 bytes
/// less (1448), and two of them are acknowledged at once.
#[test]
fn with_timestamps_two_segments_of_1448_bytes_are_acknowledged_at_once() {
    let ts = |v: u32| {
        let mut o = vec![1, 1, 8, 10];
        o.extend_from_slice(&v.to_be_bytes());
        o.extend_from_slice(&0u32.to_be_bytes());
        o
    };
    let mut c = open_passive::<protocols::tcp::Full>(
        protocols::tcp::Config {
            initial_seq: ISS,
            receive_capacity: 1 << 16,
            ..protocols::tcp::Config::default()
        },
        // The handshake's ACK (`open_passive`'s) carries no timestamps.
        &[
            TcpOption::WindowScale(false),
            TcpOption::TolerateMissingTimestamps(true),
        ],
        peer_syn().options(&ts(1)),
        0,
        0,
    );
    arrive(
        &mut c,
        peer_ack(IRS + 1, ISS + 1)
            .options(&ts(2))
            .payload(&data(1448)),
    );
    silent(&mut c);
    arrive(
        &mut c,
        peer_ack(IRS + 1449, ISS + 1)
            .options(&ts(3))
            .payload(&data(1448)),
    );
    let ack = only(&mut c);
    assert_eq!((ack.flags, ack.ack), (ACK, IRS + 2897));
}
