//! CLOSE-WAIT (RFC 9293 §3.10.7.4): the peer's FIN (SEQ=IRS+1) arrived, RCV.NXT=IRS+2. We may
//! still send (MAY-1); the peer's later text is ignored; CLOSE sends our FIN.

mod common;

use common::*;
use protocols::tcp::{Event, State};

/// MAY-1: our side is still open.
#[test]
fn send_still_transmits_data() {
    let mut c = close_wait();
    c.send(b"reply", 0);
    let d = only(&mut c);
    assert_eq!(d.flags, ACK | PSH);
    assert_eq!((d.seq, d.ack), (ISS + 1, IRS + 2));
    assert_eq!(d.payload, b"reply");
}

/// An ACK of our data frees it.
#[test]
fn an_ack_of_our_data_frees_it() {
    let mut c = close_wait();
    c.send(&data(50), 0);
    sent(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 51));
    assert_eq!((c.snd_una(), c.send_queued()), (ISS + 51, 0));
    assert_eq!(c.poll_at(), None);
}

/// §3.10.7.4 seventh step: "This should not occur since a FIN has been received from the
/// remote side. Ignore the segment text."
#[test]
fn text_after_the_peers_fin_is_ignored() {
    let mut c = close_wait();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 1).payload(b"late"));
    assert_eq!(c.readable(), 0);
    assert_eq!(c.rcv_nxt(), IRS + 2);
    assert_eq!(c.state(), State::CloseWait);
}

/// The peer's FIN again (our ACK was lost) is old: answered with an ACK; nothing else
/// changes, and the user is not told twice.
#[test]
fn a_retransmitted_fin_is_acknowledged_again() {
    let mut c = close_wait();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1));
    assert_ack(&only(&mut c), ISS + 1, IRS + 2);
    assert_eq!(c.state(), State::CloseWait);
    assert!(c.events().is_empty());
}

/// §3.10.4: CLOSE in CLOSE-WAIT sends our FIN and enters LAST-ACK.
#[test]
fn close_sends_a_fin_and_moves_to_last_ack() {
    let mut c = close_wait();
    c.shutdown(0);
    assert_eq!(c.state(), State::LastAck);
    let f = only(&mut c);
    assert_eq!(f.flags, FIN | ACK);
    assert_eq!((f.seq, f.ack), (ISS + 1, IRS + 2));
}

/// The FIN follows what is queued.
#[test]
fn close_puts_the_fin_after_the_data() {
    let mut c = close_wait();
    c.send(&data(10), 0);
    c.shutdown(0);
    let out = sent(&mut c);
    assert_eq!(
        out.last().map(|o| (o.seq, o.flags)),
        Some((ISS + 11, FIN | ACK))
    );
    let bytes: Vec<u8> = out.iter().flat_map(|o| o.payload.clone()).collect();
    assert_eq!(bytes, data(10));
}

#[test]
fn a_reset_closes_the_connection() {
    let mut c = close_wait();
    arrive(&mut c, seg(RST).seq(IRS + 2));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reset, Event::Closed]);
}

/// RFC 5961 §4: a SYN gets a challenge ACK.
#[test]
fn a_syn_gets_a_challenge_ack() {
    let mut c = close_wait();
    arrive(&mut c, seg(SYN).seq(IRS + 2));
    assert_ack(&only(&mut c), ISS + 1, IRS + 2);
    assert_eq!(c.state(), State::CloseWait);
}

/// SEG.ACK > SND.NXT: ACK and drop.
#[test]
fn an_ack_of_unsent_data_is_answered_with_an_ack() {
    let mut c = close_wait();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 7));
    assert_ack(&only(&mut c), ISS + 1, IRS + 2);
    assert_eq!(c.snd_una(), ISS + 1);
}

/// §3.10.5: ABORT in CLOSE-WAIT sends <SEQ=SND.NXT><CTL=RST>.
#[test]
fn abort_sends_a_reset() {
    let mut c = close_wait();
    c.abort();
    assert_rst(&only(&mut c), ISS + 1);
    assert_eq!(c.state(), State::Closed);
}

/// With a bad header length (under 20 bytes, or past the segment's end) even a reset is
/// dropped unread.
#[test]
fn a_segment_with_a_bad_header_length_is_dropped() {
    let mut c = close_wait();
    arrive(&mut c, seg(RST).seq(IRS + 2).data_offset(4));
    arrive(&mut c, seg(RST).seq(IRS + 2).data_offset(6));
    silent(&mut c);
    assert_eq!(c.state(), State::CloseWait);
}
