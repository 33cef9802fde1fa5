//! FIN-WAIT-1 (RFC 9293 §3.10.7.4): our FIN (SEQ=ISS+1) is out, the peer's side still open.
//! The ACK of our FIN leads to FIN-WAIT-2, the peer's FIN to CLOSING or (with that ACK) to
//! TIME-WAIT; data still arrives (MAY-1, half-duplex close).

mod common;

use common::*;
use protocols::tcp::{Event, State};

/// §3.10.7.4 fifth step: "if the FIN segment is now acknowledged, then enter FIN-WAIT-2";
/// RFC 6298 (5.2): nothing left in flight, the timer stops.
#[test]
fn the_ack_of_our_fin_moves_to_fin_wait_2() {
    let mut c = fin_wait_1();
    assert!(c.poll_at().is_some());
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
    assert_eq!(c.state(), State::FinWait2);
    assert_eq!(c.poll_at(), None);
    assert!(c.events().is_empty());
    silent(&mut c);
}

/// An ACK of the data before the FIN, but not of the FIN, leaves us in FIN-WAIT-1.
#[test]
fn an_ack_short_of_our_fin_stays_in_fin_wait_1() {
    let mut c = established();
    c.send(&data(100), 0);
    c.shutdown(0);
    let out = sent(&mut c);
    assert_eq!(
        out.last().map(|o| (o.seq, o.has(FIN))),
        Some((ISS + 101, true))
    );
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 101));
    assert_eq!(c.state(), State::FinWait1);
    assert_eq!(c.snd_una(), ISS + 101);
    assert!(c.poll_at().is_some(), "the FIN is still timed");
}

/// §3.10.7.4 eighth step: FIN-WAIT-1 and the peer's FIN without the ACK of ours → CLOSING;
/// the FIN is acknowledged and the user hears "connection closing".
#[test]
fn the_peers_fin_before_the_ack_of_ours_moves_to_closing() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1));
    assert_eq!(c.state(), State::Closing);
    assert_eq!(c.events(), [Event::PeerClosed]);
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
}

/// §3.10.7.4 eighth step: "If our FIN has been ACKed (perhaps in this segment), then enter
/// TIME-WAIT ... turn off the other timers".
#[test]
fn the_peers_fin_with_the_ack_of_ours_moves_to_time_wait() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.events(), [Event::PeerClosed, Event::Closed]);
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(
        c.poll_at(),
        Some(TWO_MSL),
        "the TIME-WAIT timer, and no other"
    );
}

/// MAY-1: after our CLOSE the peer may still send; its data is delivered and acknowledged.
#[test]
fn data_from_the_peer_is_still_delivered() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).payload(b"half"));
    assert_eq!(read_all(&mut c), b"half");
    assert_ack(&only(&mut c), ISS + 2, IRS + 5);
    assert_eq!(c.state(), State::FinWait1);
}

/// A FIN after a gap is not processed; the ACK asks for the gap.
#[test]
fn an_early_fin_is_not_processed() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(FIN).seq(IRS + 11).ack(ISS + 2));
    assert_eq!(c.state(), State::FinWait2, "its ACK was taken");
    assert!(c.events().is_empty());
    assert_ack(&only(&mut c), ISS + 2, IRS + 1);
}

/// §3.10.7.4 second step: a reset closes; no timer is left.
#[test]
fn a_reset_closes_the_connection() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reset, Event::Closed]);
    assert_eq!(c.poll_at(), None);
    silent(&mut c);
}

#[test]
fn a_reset_outside_the_window_is_ignored() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(RST).seq(IRS + 1 + RCV_BUF as u32));
    assert_eq!(c.state(), State::FinWait1);
    silent(&mut c);
}

/// RFC 5961 §4: a SYN gets a challenge ACK.
#[test]
fn a_syn_gets_a_challenge_ack() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(SYN).seq(IRS + 5));
    assert_ack(&only(&mut c), ISS + 2, IRS + 1);
    assert_eq!(c.state(), State::FinWait1);
}

/// SEG.ACK > SND.NXT: ACK and drop (the FIN it rides on is not taken).
#[test]
fn an_ack_beyond_our_fin_is_answered_with_an_ack() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 3));
    assert_ack(&only(&mut c), ISS + 2, IRS + 1);
    assert_eq!(c.state(), State::FinWait1);
}

/// RFC 6298 (5.4)-(5.6): the FIN is timed like data and sent again.
#[test]
fn the_fin_is_retransmitted_on_timeout() {
    let mut c = established();
    c.shutdown(0);
    let fin = only(&mut c);
    c.poll(RTO);
    assert_eq!(only(&mut c), fin);
    assert_eq!(c.state(), State::FinWait1);
    assert_eq!(c.poll_at(), Some(3 * RTO));
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
    assert_eq!(c.state(), State::FinWait2);
}

/// CLOSE again ("error: connection closing"): nothing more is sent.
#[test]
fn close_again_sends_nothing() {
    let mut c = fin_wait_1();
    c.shutdown(0);
    silent(&mut c);
    assert_eq!(c.state(), State::FinWait1);
}

/// §3.10.5: ABORT in FIN-WAIT-1 sends <SEQ=SND.NXT><CTL=RST>.
#[test]
fn abort_sends_a_reset() {
    let mut c = fin_wait_1();
    c.abort();
    assert_rst(&only(&mut c), ISS + 2);
    assert_eq!(c.state(), State::Closed);
}

/// With a bad header length (under 20 bytes, or past the segment's end) even the ACK of our FIN is
/// dropped unread.
#[test]
fn a_segment_with_a_bad_header_length_is_dropped() {
    let mut c = fin_wait_1();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2).data_offset(4));
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2).data_offset(6));
    silent(&mut c);
    assert_eq!(c.state(), State::FinWait1);
}
