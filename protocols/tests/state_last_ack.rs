//! LAST-ACK (RFC 9293 §3.10.7.4): the peer closed first, then we did; our FIN (SEQ=ISS+1)
//! waits for its ACK, RCV.NXT=IRS+2.

mod common;

use common::*;
use protocols::tcp::{Event, State};

/// §3.10.7.4 fifth step: "If our FIN is now acknowledged, delete the TCB, enter the CLOSED
/// state"; nothing is sent and no timer remains.
#[test]
fn the_ack_of_our_fin_closes_the_connection() {
    let mut c = last_ack();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Closed]);
    assert_eq!(c.poll_at(), None);
    silent(&mut c);
}

/// After the last ACK the connection is gone: a late segment gets a reset.
#[test]
fn after_the_last_ack_segments_are_answered_with_resets() {
    let mut c = last_ack();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2));
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2));
    assert_rst(&only(&mut c), ISS + 2);
}

#[test]
fn an_ack_short_of_our_fin_stays_in_last_ack() {
    let mut c = last_ack();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 1));
    assert_eq!(c.state(), State::LastAck);
    silent(&mut c);
}

/// The peer's FIN again: acknowledged again, LAST-ACK kept.
#[test]
fn a_retransmitted_fin_is_acknowledged_again() {
    let mut c = last_ack();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::LastAck);
}

#[test]
fn text_is_ignored() {
    let mut c = last_ack();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 1).payload(b"late"));
    assert_eq!(c.readable(), 0);
    assert_eq!(c.state(), State::LastAck);
}

#[test]
fn a_reset_closes_the_connection() {
    let mut c = last_ack();
    arrive(&mut c, seg(RST).seq(IRS + 2));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_at(), None);
}

/// RFC 5961 §4: a SYN gets a challenge ACK.
#[test]
fn a_syn_gets_a_challenge_ack() {
    let mut c = last_ack();
    arrive(&mut c, seg(SYN).seq(IRS + 2));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::LastAck);
}

#[test]
fn an_ack_beyond_our_fin_is_answered_with_an_ack() {
    let mut c = last_ack();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 3));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::LastAck);
}

/// RFC 6298 (5.4): the FIN is sent again.
#[test]
fn our_fin_is_retransmitted_on_timeout() {
    let mut c = last_ack();
    c.poll(RTO);
    let f = only(&mut c);
    assert_eq!(f.flags, FIN | ACK);
    assert_eq!((f.seq, f.ack), (ISS + 1, IRS + 2));
}

/// CLOSE again ("error: connection closing"): nothing is sent.
#[test]
fn close_again_sends_nothing() {
    let mut c = last_ack();
    c.shutdown(0);
    silent(&mut c);
    assert_eq!(c.state(), State::LastAck);
}

/// §3.10.5: ABORT in LAST-ACK: "Respond with 'ok' and delete the TCB" — no reset.
#[test]
fn abort_closes_without_a_reset() {
    let mut c = last_ack();
    c.abort();
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
}

/// With a bad header length (under 20 bytes, or past the segment's end) even the ACK of our FIN is
/// dropped unread.
#[test]
fn a_segment_with_a_bad_header_length_is_dropped() {
    let mut c = last_ack();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2).data_offset(4));
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2).data_offset(6));
    silent(&mut c);
    assert_eq!(c.state(), State::LastAck);
}
