//! CLOSING (RFC 9293 §3.10.7.4): a simultaneous close — both FINs crossed; ours (SEQ=ISS+1)
//! waits for its ACK, RCV.NXT=IRS+2.

mod common;

use common::*;
use protocols::tcp::{Event, State};

/// §3.10.7.4 fifth step: "if the ACK acknowledges our FIN, then enter the TIME-WAIT state".
#[test]
fn the_ack_of_our_fin_moves_to_time_wait() {
    let mut c = closing();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.events(), [Event::Closed]);
    assert_eq!(c.poll_at(), Some(TWO_MSL), "only the TIME-WAIT timer runs");
    silent(&mut c);
}

/// "otherwise, ignore the segment".
#[test]
fn an_ack_short_of_our_fin_stays_in_closing() {
    let mut c = closing();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 1));
    assert_eq!(c.state(), State::Closing);
    silent(&mut c);
}

/// The peer's FIN again: acknowledged again, CLOSING kept.
#[test]
fn a_retransmitted_fin_is_acknowledged_again() {
    let mut c = closing();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::Closing);
    assert!(c.events().is_empty());
}

/// §3.10.7.4 seventh step: text after the peer's FIN is ignored.
#[test]
fn text_is_ignored() {
    let mut c = closing();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 1).payload(b"x"));
    assert_eq!(c.readable(), 0);
    assert_eq!(c.rcv_nxt(), IRS + 2);
    assert_eq!(c.state(), State::Closing);
}

#[test]
fn a_reset_closes_the_connection() {
    let mut c = closing();
    arrive(&mut c, seg(RST).seq(IRS + 2));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_at(), None);
}

/// RFC 5961 §4: a SYN gets a challenge ACK.
#[test]
fn a_syn_gets_a_challenge_ack() {
    let mut c = closing();
    arrive(&mut c, seg(SYN).seq(IRS + 2));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::Closing);
}

#[test]
fn an_ack_beyond_our_fin_is_answered_with_an_ack() {
    let mut c = closing();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 9));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::Closing);
}

/// RFC 6298 (5.4): our FIN is sent again, now acknowledging the peer's.
#[test]
fn our_fin_is_retransmitted_on_timeout() {
    let mut c = closing();
    c.poll(RTO);
    let f = only(&mut c);
    assert_eq!(f.flags, FIN | ACK);
    assert_eq!((f.seq, f.ack), (ISS + 1, IRS + 2));
    assert_eq!(c.state(), State::Closing);
}

/// CLOSE again ("error: connection closing"): nothing is sent.
#[test]
fn close_again_sends_nothing() {
    let mut c = closing();
    c.shutdown(0);
    silent(&mut c);
    assert_eq!(c.state(), State::Closing);
}

/// §3.10.5: ABORT in CLOSING: "Respond with 'ok' and delete the TCB" — no reset.
#[test]
fn abort_closes_without_a_reset() {
    let mut c = closing();
    c.abort();
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
    assert_eq!(c.poll_at(), None);
}

/// With a bad header length (under 20 bytes, or past the segment's end) even the ACK of our FIN is
/// dropped unread.
#[test]
fn a_segment_with_a_bad_header_length_is_dropped() {
    let mut c = closing();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2).data_offset(4));
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2).data_offset(6));
    silent(&mut c);
    assert_eq!(c.state(), State::Closing);
}
