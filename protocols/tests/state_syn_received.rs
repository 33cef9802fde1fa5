//! SYN-RECEIVED (RFC 9293 §3.10.7.4): our SYN,ACK is out. An acceptable ACK establishes the
//! connection (with any data or FIN it carries), an unacceptable one is answered with a reset,
//! a reset returns a passive connection to LISTEN (MUST-11), a SYN gets a challenge ACK.

mod common;

use common::*;
use protocols::tcp::{Event, State};

/// The peer's ACK of our SYN.
fn ack_of_syn() -> Seg {
    seg(ACK).seq(IRS + 1).ack(ISS + 1)
}

/// §3.10.7.4 fifth step: SND.UNA < SEG.ACK =< SND.NXT → ESTABLISHED; RFC 6298 (5.2): nothing
/// is left in flight, so the timer stops. A bare ACK needs no answer.
#[test]
fn the_ack_of_our_syn_establishes() {
    let mut c = syn_received();
    assert!(c.poll_at().is_some());
    arrive(&mut c, ack_of_syn());
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.events(), [Event::Established]);
    assert_eq!(c.snd_una(), ISS + 1);
    assert_eq!(c.poll_at(), None);
    silent(&mut c);
}

/// §3.10.7.4: SND.WND <- SEG.WND on entering ESTABLISHED.
#[test]
fn the_ack_of_our_syn_sets_the_send_window() {
    let mut c = syn_received();
    arrive(&mut c, ack_of_syn().window(3000));
    assert_eq!(c.snd_wnd(), 3000);
}

#[test]
fn data_on_the_ack_of_our_syn_is_delivered_and_acknowledged() {
    let mut c = syn_received();
    arrive(&mut c, ack_of_syn().payload(b"GET /"));
    assert_eq!(c.state(), State::Established);
    assert_eq!(read_all(&mut c), b"GET /");
    let a = only(&mut c);
    assert_ack(&a, ISS + 1, IRS + 6);
    assert_eq!(usize::from(a.window), RCV_BUF - 5);
}

/// §3.10.7.4 eighth step: SYN-RECEIVED (now ESTABLISHED) → CLOSE-WAIT on a FIN.
#[test]
fn a_fin_on_the_ack_of_our_syn_moves_to_close_wait() {
    let mut c = syn_received();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1));
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.events(), [Event::Established, Event::PeerClosed]);
    assert_ack(&only(&mut c), ISS + 1, IRS + 2);
}

/// §3.10.7.4 fifth step: an unacceptable ACK → <SEQ=SEG.ACK><CTL=RST>; we stay.
#[test]
fn an_ack_beyond_our_syn_is_answered_with_a_reset() {
    let mut c = syn_received();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
    assert_rst(&only(&mut c), ISS + 2);
    assert_eq!(c.state(), State::SynReceived);
    assert!(c.events().is_empty());
}

#[test]
fn an_ack_short_of_our_syn_is_answered_with_a_reset() {
    let mut c = syn_received();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS));
    assert_rst(&only(&mut c), ISS);
    assert_eq!(c.state(), State::SynReceived);
}

/// §3.10.7.4 fifth step: "if the ACK bit is off, drop the segment and return".
#[test]
fn a_segment_without_ack_is_dropped() {
    let mut c = syn_received();
    arrive(&mut c, seg(PSH).seq(IRS + 1).payload(b"no ack"));
    silent(&mut c);
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(c.readable(), 0);
}

/// MUST-11, §3.10.7.4 second step: a reset in SYN-RECEIVED that came from LISTEN returns to
/// LISTEN; "the user need not be informed"; the SYN,ACK is no longer retransmitted.
#[test]
fn a_reset_returns_a_passive_open_to_listen() {
    let mut c = syn_received();
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Listen);
    assert!(c.events().is_empty());
    silent(&mut c);
    assert_eq!(c.poll_at(), None);
}

/// MUST-11: back in LISTEN, the connection takes the next SYN.
#[test]
fn after_a_reset_a_passive_open_accepts_a_new_syn() {
    let mut c = syn_received();
    arrive(&mut c, seg(RST).seq(IRS + 1));
    arrive(&mut c, seg(SYN).seq(9000).mss(PEER_MSS));
    assert_eq!(c.state(), State::SynReceived);
    let s = only(&mut c);
    assert_eq!(s.flags, SYN | ACK);
    assert_eq!(s.ack, 9001);
    arrive(&mut c, seg(ACK).seq(9001).ack(ISS + 1));
    assert_eq!(c.state(), State::Established);
}

/// MUST-11 with §3.10.4: after the user's CLOSE, a reset does not bring the connection back
/// to LISTEN — a CLOSE there would delete it — it ends it.
#[test]
fn a_reset_after_close_ends_a_passive_open() {
    let mut c = syn_received();
    c.shutdown(0);
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_at(), None);
    silent(&mut c);
}

/// Back in LISTEN, the next handshake starts afresh: the backed-off timeout of the one that
/// was reset is forgotten (RFC 6298 (2.1): 1 s, and no (5.7) 3 s after it).
#[test]
fn after_a_reset_the_next_handshake_starts_with_the_initial_timeout() {
    let mut c = syn_received();
    c.poll(RTO);
    sent(&mut c);
    arrive_at(&mut c, seg(RST).seq(IRS + 1), 1500);
    arrive_at(&mut c, seg(SYN).seq(9000), 1600);
    assert_eq!(c.poll_at(), Some(1600 + RTO));
    // A new ISS, from the 4 µs clock (MUST-8; layer Isn): 250 a millisecond.
    let iss = ISS + 1600 * 250;
    assert_eq!(only(&mut c).seq, iss, "the SYN,ACK");
    arrive_at(&mut c, seg(ACK).seq(9001).ack(iss + 1), 1700);
    sent(&mut c);
    c.send(b"x", 1800);
    assert_eq!(c.poll_at(), Some(1800 + RTO));
}

/// MUST-11, §3.10.7.4 second step: from an active OPEN (simultaneous open) a reset means
/// "connection refused": CLOSED, and the user is told (MUST-12).
#[test]
fn a_reset_refuses_an_active_open() {
    let mut c = syn_received_active();
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reset, Event::Closed]);
    assert_eq!(c.poll_at(), None);
}

/// §3.10.7.4 first step: a reset outside the window is dropped silently.
#[test]
fn a_reset_outside_the_window_is_ignored() {
    let mut c = syn_received();
    arrive(&mut c, seg(RST).seq(IRS + 1 + RCV_BUF as u32));
    arrive(&mut c, seg(RST).seq(IRS));
    silent(&mut c);
    assert_eq!(c.state(), State::SynReceived);
}

/// §3.10.7.4 first step: the peer's SYN again is old (its sequence number is below RCV.NXT):
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, and we stay.
#[test]
fn a_retransmitted_syn_is_answered_with_an_ack() {
    let mut c = syn_received();
    arrive(&mut c, peer_syn());
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.state(), State::SynReceived);
}

/// RFC 5961 §4 (§3.10.7.4 fourth step): a SYN in the window gets a challenge ACK.
#[test]
fn a_syn_in_the_window_gets_a_challenge_ack() {
    let mut c = syn_received();
    arrive(&mut c, seg(SYN).seq(IRS + 100));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.state(), State::SynReceived);
}

/// MUST-10: in a simultaneous open the peer's SYN,ACK repeats its SYN: the answer is the ACK
/// that completes the peer's side.
#[test]
fn the_peers_syn_ack_in_a_simultaneous_open_is_acknowledged() {
    let mut c = syn_received_active();
    arrive(&mut c, seg(SYN).seq(IRS).ack(ISS + 1));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    arrive(&mut c, ack_of_syn());
    assert_eq!(c.state(), State::Established);
}

#[test]
fn data_beyond_the_window_is_answered_with_an_ack() {
    let mut c = syn_received();
    arrive(
        &mut c,
        ack_of_syn().seq(IRS + 1 + RCV_BUF as u32).payload(b"far"),
    );
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.state(), State::SynReceived);
}

#[test]
fn an_ack_with_a_bad_header_length_is_dropped() {
    let mut c = syn_received();
    arrive(&mut c, ack_of_syn().data_offset(2));
    arrive(&mut c, ack_of_syn().data_offset(9));
    silent(&mut c);
    assert_eq!(c.state(), State::SynReceived);
}

/// RFC 6298 (5.4): the SYN,ACK is sent again, unchanged, when the timer expires.
#[test]
fn the_syn_ack_is_retransmitted_on_timeout() {
    let mut c = listen();
    arrive(&mut c, peer_syn());
    let first = only(&mut c);
    c.poll(RTO);
    let again = only(&mut c);
    assert_eq!(again, first);
    assert_eq!(again.mss(), Some(OUR_MSS));
    assert_eq!(c.poll_at(), Some(3 * RTO), "(5.5) doubled");
}

/// §3.10.4 CLOSE in SYN-RECEIVED: the FIN may not go before our SYN is acknowledged (nothing
/// else may either); once it is, the FIN follows: <SEQ=ISS+1><CTL=FIN,ACK>, FIN-WAIT-1.
#[test]
fn close_sends_the_fin_once_the_handshake_completes() {
    let mut c = syn_received();
    c.shutdown(0);
    silent(&mut c);
    arrive(&mut c, ack_of_syn());
    assert_eq!(c.events(), [Event::Established]);
    assert_eq!(c.state(), State::FinWait1);
    let f = only(&mut c);
    assert_eq!(f.flags, FIN | ACK);
    assert_eq!((f.seq, f.ack), (ISS + 1, IRS + 1));
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
    assert_eq!(c.state(), State::FinWait2);
}

/// §3.10.3 SEND in SYN-RECEIVED: "Queue the data for transmission after entering ESTABLISHED".
#[test]
fn data_sent_before_the_handshake_completes_follows_it() {
    let mut c = syn_received();
    c.send(b"early reply", 0);
    silent(&mut c);
    arrive(&mut c, ack_of_syn());
    let d = only(&mut c);
    assert_eq!((d.seq, d.ack, d.flags), (ISS + 1, IRS + 1, ACK | PSH));
    assert_eq!(d.payload, b"early reply");
}

/// §3.10.5 ABORT in SYN-RECEIVED: <SEQ=SND.NXT><CTL=RST>, CLOSED.
#[test]
fn abort_sends_a_reset() {
    let mut c = syn_received();
    c.abort();
    assert_rst(&only(&mut c), ISS + 1);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_at(), None);
}
