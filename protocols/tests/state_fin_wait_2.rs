//! FIN-WAIT-2 (RFC 9293 §3.10.7.4): our FIN is acknowledged; we wait for the peer's, taking
//! its data meanwhile (MAY-1). Its FIN leads to TIME-WAIT.

mod common;

use common::*;
use protocols::tcp::{Event, State, TcpOption};

/// MAY-1: the peer's side is still open: data is delivered and acknowledged.
#[test]
fn data_from_the_peer_is_delivered() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2).payload(b"more"));
    assert_eq!(read_all(&mut c), b"more");
    assert_ack(&only(&mut c), ISS + 2, IRS + 5);
    assert_eq!(c.state(), State::FinWait2);
}

/// §3.10.7.4 eighth step: FIN-WAIT-2 → TIME-WAIT; the FIN is acknowledged and the user hears
/// "connection closing".
#[test]
fn the_peers_fin_moves_to_time_wait() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.events(), [Event::PeerClosed, Event::Closed]);
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
}

#[test]
fn a_fin_with_data_delivers_the_data_then_moves_to_time_wait() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2).payload(b"tail"));
    assert_eq!(read_all(&mut c), b"tail");
    assert_eq!(c.state(), State::TimeWait);
    assert_ack(&only(&mut c), ISS + 2, IRS + 6);
}

#[test]
fn an_early_fin_is_not_processed() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(FIN).seq(IRS + 3).ack(ISS + 2));
    assert_eq!(c.state(), State::FinWait2);
    assert!(c.events().is_empty());
    assert_ack(&only(&mut c), ISS + 2, IRS + 1);
}

/// An old duplicate is answered with an ACK and not delivered again.
#[test]
fn an_old_duplicate_is_answered_with_an_ack() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2).payload(b"once"));
    sent(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2).payload(b"once"));
    assert_ack(&only(&mut c), ISS + 2, IRS + 5);
    assert_eq!(read_all(&mut c), b"once");
}

#[test]
fn a_reset_closes_the_connection() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reset, Event::Closed]);
}

/// RFC 5961 §4: a SYN gets a challenge ACK.
#[test]
fn a_syn_gets_a_challenge_ack() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(SYN).seq(IRS + 1));
    assert_ack(&only(&mut c), ISS + 2, IRS + 1);
    assert_eq!(c.state(), State::FinWait2);
}

/// A repeated ACK of our FIN changes nothing and is not answered.
#[test]
fn a_repeated_ack_of_our_fin_is_not_answered() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
    silent(&mut c);
    assert_eq!(c.state(), State::FinWait2);
}

/// Nothing is in flight after a half-close (SHUTDOWN): no timer at all, since the peer may go
/// on sending for as long as it likes.
#[test]
fn after_a_shutdown_no_timer_runs_and_polling_sends_nothing() {
    let mut c = fin_wait_2();
    assert_eq!(c.poll_at(), None);
    c.poll(100 * RTO);
    silent(&mut c);
}

/// After a full CLOSE (the user will not read again) FIN-WAIT-2 is bounded: 60 s by default,
/// then the TCB is deleted (as Linux's `tcp_fin_timeout`), so a vanished peer cannot hold it.
#[test]
fn after_a_close_fin_wait_2_times_out() {
    let mut c = established();
    c.close(0);
    sent(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
    assert_eq!(c.state(), State::FinWait2);
    c.events();
    assert_eq!(c.poll_at(), Some(60_000));
    c.poll(60_000);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Closed]);
}

/// The FIN-WAIT-2 timeout is a per-connection option.
#[test]
fn the_fin_wait_2_timeout_is_an_option() {
    let mut c = established();
    assert!(c.set_option(TcpOption::FinWait2Ms(5_000)));
    c.close(0);
    sent(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
    assert_eq!(c.poll_at(), Some(5_000));
}

/// CLOSE again ("error: connection closing"): nothing is sent.
#[test]
fn close_again_sends_nothing() {
    let mut c = fin_wait_2();
    c.shutdown(0);
    silent(&mut c);
    assert_eq!(c.state(), State::FinWait2);
}

/// §3.10.5: ABORT in FIN-WAIT-2 sends <SEQ=SND.NXT><CTL=RST>.
#[test]
fn abort_sends_a_reset() {
    let mut c = fin_wait_2();
    c.abort();
    assert_rst(&only(&mut c), ISS + 2);
    assert_eq!(c.state(), State::Closed);
}

/// With a bad header length (under 20 bytes, or past the segment's end) even the peer's FIN is
/// dropped unread.
#[test]
fn a_segment_with_a_bad_header_length_is_dropped() {
    let mut c = fin_wait_2();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2).data_offset(4));
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 2).data_offset(6));
    silent(&mut c);
    assert_eq!(c.state(), State::FinWait2);
}
