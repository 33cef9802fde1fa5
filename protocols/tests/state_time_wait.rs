//! TIME-WAIT (RFC 9293 §3.10.7.4): both FINs acknowledged (SND.NXT=ISS+2, RCV.NXT=IRS+2).
//! "The only thing that can arrive in this state is a retransmission of the remote FIN." The
//! 2 MSL timer (MUST-13) deletes the TCB.

mod common;

use common::*;
use protocols::tcp::{Event, State};

/// "Acknowledge it": a retransmitted FIN is below RCV.NXT, so the first step acknowledges it.
#[test]
fn a_retransmitted_fin_is_acknowledged_again() {
    let mut c = time_wait();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::TimeWait);
    assert!(c.events().is_empty());
}

/// §3.10.7.4 second step: a reset in TIME-WAIT deletes the TCB.
#[test]
fn a_reset_closes_the_connection() {
    let mut c = time_wait();
    arrive(&mut c, seg(RST).seq(IRS + 2));
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
}

/// RFC 5961 §4: a SYN gets a challenge ACK (MAY-2, a new connection from TIME-WAIT, is an
/// option: `bsd_behaviour::a_newer_syn_reopens_time_wait`).
#[test]
fn a_syn_gets_a_challenge_ack() {
    let mut c = time_wait();
    arrive(&mut c, seg(SYN).seq(IRS + 100).mss(PEER_MSS));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::TimeWait);
}

#[test]
fn text_is_ignored() {
    let mut c = time_wait();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2).payload(b"ghost"));
    assert_eq!(c.readable(), 0);
    assert_eq!(c.rcv_nxt(), IRS + 2);
    assert_eq!(c.state(), State::TimeWait);
}

#[test]
fn a_segment_beyond_the_window_is_answered_with_an_ack() {
    let mut c = time_wait();
    arrive(&mut c, seg(ACK).seq(IRS + 2 + RCV_BUF as u32).ack(ISS + 2));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
}

#[test]
fn an_ack_of_unsent_data_is_answered_with_an_ack() {
    let mut c = time_wait();
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 5));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::TimeWait);
}

/// Everything is acknowledged: only the 2 MSL timer runs, and polling sends nothing.
#[test]
fn only_the_time_wait_timer_runs_and_polling_sends_nothing() {
    let mut c = time_wait();
    assert_eq!(c.poll_at(), Some(TWO_MSL));
    c.poll(100 * RTO);
    silent(&mut c);
    assert_eq!(c.state(), State::TimeWait);
}

/// MUST-13 / §3.10.8: "If the time-wait timeout expires on a connection, delete the TCB, enter
/// the CLOSED state" (the user was told "closed" on entering TIME-WAIT, and is not told again).
#[test]
fn the_time_wait_timeout_deletes_the_tcb() {
    let mut c = time_wait();
    c.events();
    c.poll(TWO_MSL - 1);
    assert_eq!(c.state(), State::TimeWait);
    c.poll(TWO_MSL);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_at(), None);
    assert_eq!(c.events(), []);
    silent(&mut c);
}

/// A retransmitted FIN in TIME-WAIT (our ACK was lost) is below RCV.NXT: the first step answers
/// it with an ACK, and TIME-WAIT still ends 2 MSL after it began.
#[test]
fn a_retransmitted_fin_is_acknowledged_in_time_wait() {
    let mut c = time_wait();
    arrive_at(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2), 1000);
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.poll_at(), Some(TWO_MSL));
}

/// CLOSE in TIME-WAIT ("error: connection closing"): nothing happens.
#[test]
fn close_sends_nothing() {
    let mut c = time_wait();
    c.shutdown(0);
    silent(&mut c);
    assert_eq!(c.state(), State::TimeWait);
}

/// §3.10.5: ABORT in TIME-WAIT: "Respond with 'ok' and delete the TCB" — no reset.
#[test]
fn abort_closes_without_a_reset() {
    let mut c = time_wait();
    c.abort();
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Closed]);
    silent(&mut c);
}

/// With a bad header length (under 20 bytes, or past the segment's end) even a reset is
/// dropped unread.
#[test]
fn a_segment_with_a_bad_header_length_is_dropped() {
    let mut c = time_wait();
    arrive(&mut c, seg(RST).seq(IRS + 2).data_offset(4));
    arrive(&mut c, seg(RST).seq(IRS + 2).data_offset(6));
    silent(&mut c);
    assert_eq!(c.state(), State::TimeWait);
}
