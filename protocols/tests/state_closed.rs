//! CLOSED (RFC 9293 §3.10.7.1): a segment to no connection is answered with a reset unless it
//! is one; the user calls do nothing visible. Also: a connection closed by a reset behaves the
//! same.

mod common;

use common::*;
use protocols::tcp::{Event, State};

#[test]
fn a_new_connection_is_closed_silent_and_has_no_timer() {
    let mut c = closed();
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
    assert_eq!(c.poll_at(), None);
    assert!(c.events().is_empty());
}

/// §3.10.7.1: no ACK bit → <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting the SYN.
#[test]
fn a_syn_is_answered_with_rst_ack_acknowledging_the_syn() {
    let mut c = closed();
    arrive(&mut c, peer_syn());
    let r = only(&mut c);
    assert_eq!(r.flags, RST | ACK);
    assert_eq!((r.seq, r.ack), (0, IRS + 1));
    assert_eq!(
        (r.src, r.dst),
        (LOCAL, REMOTE),
        "back to where the SYN came from"
    );
    assert_eq!(r.window, 0);
    assert!(r.payload.is_empty());
    assert_eq!(c.state(), State::Closed);
}

/// §3.10.7.1: the ACK bit on → <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn an_ack_is_answered_with_a_reset_at_its_ack_number() {
    let mut c = closed();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(777));
    assert_rst(&only(&mut c), 777);
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn a_syn_ack_is_answered_with_a_reset_at_its_ack_number() {
    let mut c = closed();
    arrive(&mut c, seg(SYN).seq(IRS).ack(ISS + 1).mss(PEER_MSS));
    assert_rst(&only(&mut c), ISS + 1);
}

/// SEG.LEN counts the data.
#[test]
fn data_without_ack_is_answered_with_rst_ack_covering_the_data() {
    let mut c = closed();
    arrive(&mut c, seg(PSH).seq(IRS + 1).payload(&data(10)));
    let r = only(&mut c);
    assert_eq!(r.flags, RST | ACK);
    assert_eq!((r.seq, r.ack), (0, IRS + 11));
}

/// SEG.LEN counts the FIN.
#[test]
fn a_fin_without_ack_is_answered_with_rst_ack_covering_the_fin() {
    let mut c = closed();
    arrive(&mut c, seg(FIN).seq(IRS + 1).payload(&data(3)));
    let r = only(&mut c);
    assert_eq!(r.flags, RST | ACK);
    assert_eq!(r.ack, IRS + 5, "3 bytes and the FIN");
}

/// §3.10.7.1: "An incoming segment containing a RST is discarded."
#[test]
fn a_reset_is_dropped_without_reply() {
    let mut c = closed();
    arrive(&mut c, seg(RST).seq(IRS));
    arrive(&mut c, seg(RST).seq(IRS).ack(ISS));
    silent(&mut c);
    assert_eq!(c.state(), State::Closed);
    assert!(c.events().is_empty());
}

#[test]
fn a_segment_with_a_header_length_under_20_bytes_is_dropped_without_reply() {
    let mut c = closed();
    arrive(&mut c, peer_syn().data_offset(4));
    silent(&mut c);
}

#[test]
fn a_segment_whose_header_length_exceeds_the_segment_is_dropped_without_reply() {
    let mut c = closed();
    arrive(&mut c, seg(SYN).seq(IRS).data_offset(6)); // 24 claimed, 20 there
    arrive(&mut c, seg(SYN).seq(IRS).data_offset(15).payload(&data(20)));
    silent(&mut c);
}

#[test]
fn a_segment_shorter_than_a_header_is_dropped_without_reply() {
    let mut c = closed();
    c.input(&peer_syn().bytes()[..19], 0);
    c.input(&[], 0);
    silent(&mut c);
}

/// CLOSE and ABORT on a closed connection ("error: connection does not exist"): nothing is
/// sent and no event is reported.
#[test]
fn close_and_abort_send_nothing() {
    let mut c = closed();
    c.shutdown(0);
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
    assert!(c.events().is_empty());
    c.abort();
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
}

#[test]
fn send_transmits_nothing_and_starts_no_timer() {
    let mut c = closed();
    c.send(b"nobody listens", 0);
    silent(&mut c);
    assert_eq!(c.poll_at(), None);
    c.poll(10_000);
    silent(&mut c);
}

/// A connection the peer reset is CLOSED like a new one: later segments get resets, and
/// no timer is left running (the TCB is deleted, §3.10.7.4 second step).
#[test]
fn after_a_reset_segments_are_answered_with_resets_and_no_timer_runs() {
    let mut c = established();
    c.send(&data(100), 0);
    sent(&mut c);
    assert!(c.poll_at().is_some(), "data in flight");
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reset, Event::Closed]);
    assert_eq!(
        c.poll_at(),
        None,
        "the retransmission timer went with the TCB"
    );
    c.poll(10 * RTO);
    silent(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 101));
    assert_rst(&only(&mut c), ISS + 101);
}
