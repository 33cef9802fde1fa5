//! ESTABLISHED (RFC 9293 §3.10.7.4): every kind of arriving segment — acceptable, old and
//! future ACKs, resets and SYNs in and out of the window, data in order, early, old,
//! overlapping and beyond the window, FINs, zero-window probes, bad headers — and the user
//! calls. The connection was opened passively: SND.NXT=ISS+1, RCV.NXT=IRS+1.

mod common;

use common::*;
use protocols::tcp::{Config, Connection, Event, State};

/// A peer segment acknowledging `ack`, at the peer's next sequence number `seq`.
fn peer(seq: u32, ack: u32) -> Seg {
    seg(ACK).seq(seq).ack(ack)
}

/// ESTABLISHED with a receive buffer of `n` bytes.
fn with_receive_buffer(n: usize) -> Connection {
    established_with(Config {
        receive_capacity: n,
        ..config()
    })
}

// Fifth step: the ACK field.

/// SND.UNA advances to an acceptable SEG.ACK and the host forgets what it covers; a bare ACK
/// is not answered.
#[test]
fn an_acceptable_ack_frees_the_data_it_covers() {
    let mut c = established();
    c.send(&data(300), 0);
    sent(&mut c);
    arrive(&mut c, peer(IRS + 1, ISS + 101));
    assert_eq!((c.snd_una(), c.send_queued()), (ISS + 101, 200));
    arrive(&mut c, peer(IRS + 1, ISS + 301));
    assert_eq!((c.snd_una(), c.send_queued()), (ISS + 301, 0));
    silent(&mut c);
}

/// "If the ACK is a duplicate (SEG.ACK =< SND.UNA), it can be ignored" — the rest of the
/// segment is still processed.
#[test]
fn an_old_ack_is_ignored_but_its_data_is_taken() {
    let mut c = established();
    c.send(&data(100), 0);
    sent(&mut c);
    arrive(&mut c, peer(IRS + 1, ISS + 101));
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(b"abc"));
    assert_eq!(c.snd_una(), ISS + 101);
    assert_eq!(read_all(&mut c), b"abc");
    assert_ack(&only(&mut c), ISS + 101, IRS + 4);
}

/// "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the
/// segment, and return."
#[test]
fn an_ack_of_unsent_data_is_answered_with_an_ack_and_the_segment_dropped() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 50).payload(b"x"));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.readable(), 0);
    assert_eq!(c.snd_una(), ISS + 1);
    assert_eq!(c.state(), State::Established);
}

/// SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK: the window is taken.
#[test]
fn a_window_update_is_taken() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).window(100));
    assert_eq!(c.snd_wnd(), 100);
}

/// The window is updated only "If SND.UNA =< SEG.ACK =< SND.NXT": a segment carrying an old
/// ACK says nothing about the current window, however new its sequence number.
#[test]
fn a_segment_with_an_old_ack_does_not_update_the_window() {
    let mut c = established();
    c.send(&data(100), 0);
    sent(&mut c);
    arrive(&mut c, peer(IRS + 1, ISS + 101).payload(&data(10)));
    sent(&mut c);
    arrive(&mut c, peer(IRS + 11, ISS + 1).window(0));
    assert_eq!(c.snd_wnd(), u32::from(PEER_WND));
    c.send(b"more", 0);
    assert_eq!(only(&mut c).payload, b"more", "the window is still open");
}

/// SND.WL1 > SEG.SEQ: a reordered, older segment does not update the window.
#[test]
fn an_older_segment_does_not_update_the_window() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(10)));
    arrive(&mut c, peer(IRS + 11, ISS + 1).window(5000));
    arrive(
        &mut c,
        peer(IRS + 6, ISS + 1).window(100).payload(&data(10)),
    );
    assert_eq!(c.snd_wnd(), 5000);
    assert_eq!(c.rcv_nxt(), IRS + 16, "its new half was still taken");
}

/// MUST-1: the window is unsigned (65535 is not -1).
#[test]
fn the_window_is_unsigned() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).window(65535));
    assert_eq!(c.snd_wnd(), 65535);
    c.send(&data(40_000), 0);
    let total: usize = sent(&mut c).iter().map(|o| o.payload.len()).sum();
    assert_eq!(total, 40_000);
}

/// A zero window stops data; a window update lets the queued data go.
#[test]
fn a_zero_window_holds_data_until_the_window_opens() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).window(0));
    c.send(&data(100), 0);
    silent(&mut c);
    arrive(&mut c, peer(IRS + 1, ISS + 1).window(1000));
    let d = only(&mut c);
    assert_eq!((d.seq, d.payload.len()), (ISS + 1, 100));
}

/// Data never goes beyond SND.UNA+SND.WND. A usable window smaller than an MSS, than what is
/// queued and than half the largest window the peer has offered is used only when the
/// override timeout (the persist timer) fires: sender silly window avoidance (MUST-38).
#[test]
fn data_is_limited_to_the_send_window() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).window(250));
    c.send(&data(1000), 0);
    silent(&mut c);
    let at = c.poll_at().expect("the override timer runs");
    c.poll(at);
    let out = only(&mut c);
    assert_eq!(
        (out.seq, out.payload.len()),
        (ISS + 1, 250),
        "up to UNA+WND"
    );
    // All of it acknowledged and a window of 1000: the remaining 750 bytes go at once (all
    // that is queued).
    arrive_at(&mut c, peer(IRS + 1, ISS + 251).window(1000), at);
    let more = only(&mut c);
    assert_eq!((more.seq, more.payload.len()), (ISS + 251, 750));
}

/// SHLD-28, MUST-14: full-sized segments of the peer's MSS; each carries ACK and PSH, our
/// window, and no options (MUST-65: MSS only on SYNs).
#[test]
fn data_is_sent_in_mss_sized_segments() {
    let mut c = established();
    c.send(&data(2500), 0);
    let out = sent(&mut c);
    let shape: Vec<(u32, usize)> = out.iter().map(|o| (o.seq, o.payload.len())).collect();
    assert_eq!(
        shape,
        [(ISS + 1, 1000), (ISS + 1001, 1000), (ISS + 2001, 500)]
    );
    for o in &out {
        assert_eq!(o.flags, ACK | PSH);
        assert_eq!(o.ack, IRS + 1);
        assert_eq!(usize::from(o.window), RCV_BUF);
        assert_eq!(o.header_len, 20);
    }
    let bytes: Vec<u8> = out.iter().flat_map(|o| o.payload.clone()).collect();
    assert_eq!(bytes, data(2500));
}

/// RFC 6298 (5.3): an ACK of new data restarts the timer; (5.2) an ACK of everything stops it.
#[test]
fn acks_restart_then_stop_the_retransmission_timer() {
    let mut c = established();
    c.send(&data(2000), 100);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(100 + RTO));
    arrive_at(&mut c, peer(IRS + 1, ISS + 1001), 400);
    assert_eq!(c.poll_at(), Some(400 + RTO));
    arrive_at(&mut c, peer(IRS + 1, ISS + 1), 500);
    assert_eq!(c.poll_at(), Some(400 + RTO), "an old ACK changes nothing");
    arrive_at(&mut c, peer(IRS + 1, ISS + 2001), 600);
    assert_eq!(c.poll_at(), None);
}

/// RFC 6298 (5.4)-(5.6), MUST-19: on expiry the earliest unacknowledged segment goes again,
/// the timeout doubles and the timer restarts.
#[test]
fn the_earliest_unacknowledged_segment_is_retransmitted_on_timeout() {
    let mut c = established();
    c.send(&data(2500), 0);
    let first = sent(&mut c).remove(0);
    arrive(&mut c, peer(IRS + 1, ISS + 1001));
    let second_at = c.poll_at().expect("data in flight");
    c.poll(second_at - 1);
    silent(&mut c);
    c.poll(second_at);
    let again = sent(&mut c);
    assert_eq!((again[0].seq, again[0].payload.len()), (ISS + 1001, 1000));
    assert_eq!(again[0].payload, data(2500)[1000..2000]);
    assert_ne!(again[0].seq, first.seq, "acknowledged data is not resent");
    assert_eq!(c.poll_at(), Some(second_at + 2 * RTO));
}

/// After a timeout, an ACK for everything sent before it is still acceptable.
#[test]
fn a_late_ack_after_a_timeout_acknowledges_everything() {
    let mut c = established();
    c.send(&data(2500), 0);
    sent(&mut c);
    c.poll(RTO);
    sent(&mut c);
    arrive_at(&mut c, peer(IRS + 1, ISS + 2501), RTO + 10);
    assert_eq!((c.snd_una(), c.send_queued()), (ISS + 2501, 0));
    assert_eq!(c.poll_at(), None);
    silent(&mut c);
}

// First step: sequence numbers and the window.

/// §3.10.7.4: a segment starting at or beyond RCV.NXT+RCV.WND is not acceptable:
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, segment dropped.
#[test]
fn data_beyond_the_window_is_answered_with_an_ack_and_dropped() {
    let mut c = established();
    arrive(
        &mut c,
        peer(IRS + 1 + RCV_BUF as u32, ISS + 1).payload(b"far"),
    );
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.readable(), 0);
    assert_eq!(c.rcv_nxt(), IRS + 1);
}

/// An old duplicate (entirely below RCV.NXT) is answered with an ACK and not delivered twice.
#[test]
fn an_old_duplicate_is_answered_with_an_ack() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(b"abc"));
    sent(&mut c);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(b"abc"));
    assert_ack(&only(&mut c), ISS + 1, IRS + 4);
    assert_eq!(read_all(&mut c), b"abc");
}

/// A zero-length segment at RCV.NXT is acceptable with a zero window, so its ACK is taken.
#[test]
fn with_a_zero_window_a_bare_ack_at_rcv_nxt_is_taken() {
    let mut c = with_receive_buffer(10);
    c.send(b"12345", 0);
    sent(&mut c);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(10)));
    assert_eq!(only(&mut c).window, 0);
    arrive(&mut c, peer(IRS + 11, ISS + 6));
    assert_eq!(c.snd_una(), ISS + 6);
    silent(&mut c);
}

/// A zero-window probe (one byte at RCV.NXT while our window is 0) is not accepted: it is
/// answered with an ACK for RCV.NXT that repeats the zero window.
#[test]
fn a_zero_window_probe_is_answered_with_the_zero_window() {
    let mut c = with_receive_buffer(10);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(10)));
    sent(&mut c);
    arrive(&mut c, peer(IRS + 11, ISS + 1).payload(b"p"));
    let a = only(&mut c);
    assert_ack(&a, ISS + 1, IRS + 11);
    assert_eq!(a.window, 0);
    assert_eq!(read_all(&mut c), data(10), "the probe byte is not taken");
}

/// Once the application has read, a probe's byte fits and is taken.
#[test]
fn a_zero_window_probe_is_taken_once_the_window_has_opened() {
    let mut c = with_receive_buffer(10);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(10)));
    sent(&mut c);
    assert_eq!(read_all(&mut c).len(), 10);
    let update = only(&mut c);
    assert_ack(&update, ISS + 1, IRS + 11);
    assert_eq!(
        update.window, 10,
        "the read reopens the window: an update goes out"
    );
    arrive(&mut c, peer(IRS + 11, ISS + 1).payload(b"p"));
    let a = only(&mut c);
    assert_ack(&a, ISS + 1, IRS + 12);
    assert_eq!(a.window, 9);
    assert_eq!(read_all(&mut c), b"p");
}

// Seventh step: the segment text.

/// In-order data is delivered and acknowledged; the window shrinks by what is unread.
#[test]
fn in_order_data_is_delivered_and_acknowledged() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(b"hello"));
    assert_eq!(c.rcv_nxt(), IRS + 6);
    let a = only(&mut c);
    assert_ack(&a, ISS + 1, IRS + 6);
    assert_eq!(usize::from(a.window), RCV_BUF - 5);
    assert_eq!(read_all(&mut c), b"hello");
}

/// SHLD-31, MAY-13: early data is kept and answered with an ACK for the gap; when the gap
/// fills, everything is delivered in order and acknowledged at once.
#[test]
fn early_data_is_kept_until_the_gap_fills() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 11, ISS + 1).payload(b"world"));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.readable(), 0);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(b"0123456789"));
    assert_ack(&only(&mut c), ISS + 1, IRS + 16);
    assert_eq!(read_all(&mut c), b"0123456789world");
}

/// Two early segments arriving in reverse order join the stream in the right order.
#[test]
fn early_segments_in_reverse_order_are_reassembled() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 7, ISS + 1).payload(b"ghi"));
    arrive(&mut c, peer(IRS + 4, ISS + 1).payload(b"def"));
    sent(&mut c);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(b"abc"));
    assert_ack(&only(&mut c), ISS + 1, IRS + 10);
    assert_eq!(read_all(&mut c), b"abcdefghi");
}

/// "If a segment's contents straddle the boundary between old and new, only the new parts
/// are processed."
#[test]
fn overlapping_data_is_trimmed_to_what_is_new() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(b"0123456789"));
    arrive(&mut c, peer(IRS + 6, ISS + 1).payload(b"56789abcde"));
    let out = sent(&mut c);
    assert_ack(&out[1], ISS + 1, IRS + 16);
    assert_eq!(read_all(&mut c), b"0123456789abcde");
}

/// A segment that starts in the window and runs past its right edge is trimmed to the window.
#[test]
fn data_past_the_right_edge_of_the_window_is_trimmed() {
    let mut c = with_receive_buffer(100);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(150)));
    let a = only(&mut c);
    assert_ack(&a, ISS + 1, IRS + 101);
    assert_eq!(a.window, 0);
    assert_eq!(read_all(&mut c), data(100));
}

/// Early data that runs past the right edge is kept only up to the edge.
#[test]
fn early_data_past_the_right_edge_is_kept_up_to_the_edge() {
    let mut c = with_receive_buffer(100);
    arrive(&mut c, peer(IRS + 81, ISS + 1).payload(&data(50)));
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(80)));
    assert_eq!(c.rcv_nxt(), IRS + 101);
    let mut expected = data(80);
    expected.extend_from_slice(&data(20));
    assert_eq!(read_all(&mut c), expected);
}

/// MUST-5, MUST-6: options on a data segment are skipped; the data after them is delivered.
#[test]
fn options_on_a_data_segment_are_skipped() {
    let mut c = established();
    arrive(
        &mut c,
        peer(IRS + 1, ISS + 1)
            .options(&[1, 1, 99, 2, 1, 1, 1, 0])
            .payload(b"after options"),
    );
    assert_eq!(read_all(&mut c), b"after options");
    assert_eq!(c.snd_mss(), u32::from(PEER_MSS));
}

// Second step: the RST bit.

/// §3.10.7.4 second step: "any outstanding RECEIVEs and SEND should receive 'reset'
/// responses", CLOSED (MUST-12: the user is told). No reset answers a reset.
#[test]
fn a_reset_at_rcv_nxt_closes_the_connection() {
    let mut c = established();
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reset, Event::Closed]);
    silent(&mut c);
}

/// §3.10.7.4 second step, 3) (RFC 5961 §3, layer Challenge-Ack): a reset in the window but
/// not at RCV.NXT is answered with a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and
/// dropped; the connection stays.
#[test]
fn a_reset_elsewhere_in_the_window_gets_a_challenge_ack() {
    let mut c = established();
    arrive(&mut c, seg(RST).seq(IRS + 1000));
    assert_eq!(c.state(), State::Established);
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.events(), []);
}

/// §3.10.7.4 first step: a reset outside the window is dropped silently.
#[test]
fn a_reset_beyond_the_window_is_ignored() {
    let mut c = established();
    arrive(&mut c, seg(RST).seq(IRS + 1 + RCV_BUF as u32));
    silent(&mut c);
    assert_eq!(c.state(), State::Established);
    assert!(c.events().is_empty());
}

#[test]
fn an_old_reset_is_ignored() {
    let mut c = established();
    arrive(&mut c, seg(RST).seq(IRS));
    arrive(&mut c, seg(RST).ack(ISS + 1).seq(IRS - 100));
    silent(&mut c);
    assert_eq!(c.state(), State::Established);
}

/// MUST-66: a reset is processed even when our window is zero.
#[test]
fn a_reset_is_processed_with_a_zero_window() {
    let mut c = with_receive_buffer(10);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(10)));
    sent(&mut c);
    arrive(&mut c, seg(RST).seq(IRS + 11));
    assert_eq!(c.state(), State::Closed);
}

/// MUST-66 with SHLD-2: a reset carrying data (a diagnostic) resets even with a zero window;
/// its acceptability is its sequence number.
#[test]
fn a_reset_carrying_data_is_processed_with_a_zero_window() {
    let mut c = with_receive_buffer(10);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(10)));
    sent(&mut c);
    arrive(&mut c, seg(RST).seq(IRS + 11).payload(b"gone away"));
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
}

/// SHLD-2: a reset may carry data; it still resets.
#[test]
fn a_reset_carrying_data_closes_the_connection() {
    let mut c = established();
    arrive(&mut c, seg(RST).seq(IRS + 1).payload(b"reason"));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.readable(), 0, "its data is not delivered");
}

// Fourth step: the SYN bit.

/// RFC 5961 §4 (§3.10.7.4 fourth step): a SYN in the window gets a challenge ACK
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped, data and all.
#[test]
fn a_syn_in_the_window_gets_a_challenge_ack() {
    let mut c = established();
    arrive(&mut c, seg(SYN).seq(IRS + 10).payload(b"inject"));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.readable(), 0);
    assert!(c.events().is_empty());
}

/// RFC 5961 §4: "irrespective of the exact sequence number".
#[test]
fn a_syn_outside_the_window_gets_an_ack_too() {
    let mut c = established();
    arrive(&mut c, seg(SYN).seq(IRS + 100_000));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.state(), State::Established);
}

/// The peer's SYN,ACK again (its ACK of ours was lost): old, answered with an ACK.
#[test]
fn a_retransmitted_syn_ack_is_answered_with_an_ack() {
    let mut c = established();
    arrive(&mut c, seg(SYN).seq(IRS).ack(ISS + 1).mss(PEER_MSS));
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.state(), State::Established);
}

/// §3.10.7.4 fifth step: "if the ACK bit is off, drop the segment and return".
#[test]
fn data_without_the_ack_bit_is_dropped() {
    let mut c = established();
    arrive(&mut c, seg(PSH).seq(IRS + 1).payload(b"no ack"));
    silent(&mut c);
    assert_eq!(c.readable(), 0);
    assert_eq!(c.rcv_nxt(), IRS + 1);
}

// Eighth step: the FIN bit.

/// §3.10.7.4 eighth step: RCV.NXT advances over the FIN, it is acknowledged, the user hears
/// "connection closing", CLOSE-WAIT.
#[test]
fn a_fin_in_order_moves_to_close_wait() {
    let mut c = established();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1));
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.events(), [Event::PeerClosed]);
    assert_ack(&only(&mut c), ISS + 1, IRS + 2);
}

#[test]
fn a_fin_after_data_delivers_the_data_then_closes() {
    let mut c = established();
    arrive(
        &mut c,
        seg(FIN).seq(IRS + 1).ack(ISS + 1).payload(b"last words"),
    );
    assert_eq!(read_all(&mut c), b"last words");
    assert_eq!(c.state(), State::CloseWait);
    assert_ack(&only(&mut c), ISS + 1, IRS + 12);
}

/// A FIN after a gap is not processed: its sequence number cannot be reached yet.
#[test]
fn an_early_fin_is_not_processed() {
    let mut c = established();
    arrive(&mut c, seg(FIN).seq(IRS + 11).ack(ISS + 1));
    assert_eq!(c.state(), State::Established);
    assert!(c.events().is_empty());
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
}

/// A FIN whose data does not all fit the window is not reached: only the data that fits is
/// taken.
#[test]
fn a_fin_behind_data_that_does_not_fit_is_not_processed() {
    let mut c = with_receive_buffer(10);
    arrive(
        &mut c,
        seg(FIN).seq(IRS + 1).ack(ISS + 1).payload(&data(15)),
    );
    assert_eq!(c.state(), State::Established);
    let a = only(&mut c);
    assert_ack(&a, ISS + 1, IRS + 11);
    assert_eq!(a.window, 0);
}

// Bad headers.

#[test]
fn a_segment_with_a_header_length_under_20_is_dropped() {
    let mut c = established();
    arrive(
        &mut c,
        peer(IRS + 1, ISS + 1).payload(b"abcdefgh").data_offset(4),
    );
    silent(&mut c);
    assert_eq!(c.readable(), 0);
    assert_eq!(c.state(), State::Established);
}

#[test]
fn a_segment_whose_header_length_exceeds_it_is_dropped() {
    let mut c = established();
    arrive(&mut c, seg(FIN).seq(IRS + 1).ack(ISS + 1).data_offset(6));
    silent(&mut c);
    assert_eq!(c.state(), State::Established);
}

// User calls.

/// SEND: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK,PSH> with the data (MUST-61: PSH on the last
/// segment), our window, no options.
#[test]
fn send_transmits_a_data_segment() {
    let mut c = established();
    assert_eq!(c.send(b"payload", 0), 7);
    let d = only(&mut c);
    assert_eq!(d.flags, ACK | PSH);
    assert_eq!((d.seq, d.ack), (ISS + 1, IRS + 1));
    assert_eq!(d.payload, b"payload");
    assert_eq!(d.header_len, 20);
    assert_eq!((d.src, d.dst), (LOCAL, REMOTE));
    assert_eq!(c.snd_nxt(), ISS + 8);
}

/// CLOSE: <SEQ=SND.NXT><CTL=FIN,ACK>, FIN-WAIT-1; the FIN is timed like data.
#[test]
fn close_sends_a_fin_and_moves_to_fin_wait_1() {
    let mut c = established();
    c.shutdown(20);
    assert_eq!(c.state(), State::FinWait1);
    let f = only(&mut c);
    assert_eq!(f.flags, FIN | ACK);
    assert_eq!((f.seq, f.ack), (ISS + 1, IRS + 1));
    assert!(f.payload.is_empty());
    assert_eq!(c.poll_at(), Some(20 + RTO));
}

/// CLOSE with data queued: the FIN follows the data, on the last segment.
#[test]
fn close_puts_the_fin_after_the_queued_data() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).window(0));
    c.send(&data(1500), 0);
    c.shutdown(0);
    silent(&mut c);
    arrive(&mut c, peer(IRS + 1, ISS + 1).window(4000));
    let out = sent(&mut c);
    let shape: Vec<(u32, usize, u8)> = out
        .iter()
        .map(|o| (o.seq, o.payload.len(), o.flags))
        .collect();
    assert_eq!(
        shape,
        [
            (ISS + 1, 1000, ACK | PSH),
            (ISS + 1001, 500, ACK | PSH | FIN)
        ]
    );
}

/// ABORT: <SEQ=SND.NXT><CTL=RST>, CLOSED; queued data is dropped and no timer remains.
#[test]
fn abort_sends_a_reset_and_closes() {
    let mut c = established();
    c.send(&data(10), 0);
    sent(&mut c);
    c.abort();
    assert_rst(&only(&mut c), ISS + 11);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Closed]);
    assert_eq!(c.poll_at(), None);
}

/// The window we offer is the free receive space: it closes as data arrives unread. When the
/// application reads, the right edge moves only by a full segment or half the buffer
/// (receiver silly window avoidance, MUST-39), and a read that opens it that far sends an
/// update of its own.
#[test]
fn the_offered_window_follows_the_unread_data() {
    let mut c = established();
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(&data(96)));
    assert_eq!(usize::from(only(&mut c).window), RCV_BUF - 96);
    read_all(&mut c);
    silent(&mut c);
    c.send(b"x", 0);
    assert_eq!(
        usize::from(only(&mut c).window),
        RCV_BUF - 96,
        "96 bytes: the edge stays"
    );
    arrive(&mut c, peer(IRS + 97, ISS + 2).payload(&data(2100)));
    assert_eq!(usize::from(only(&mut c).window), RCV_BUF - 2196);
    read_all(&mut c);
    let update = only(&mut c);
    assert_ack(&update, ISS + 2, IRS + 2197);
    assert_eq!(
        usize::from(update.window),
        RCV_BUF,
        "the whole buffer is offered again"
    );
}

/// §3.10.7.4 eighth step: a FIN is processed in sequence. One that arrives beyond a gap (on
/// early data) is remembered and taken once the gap fills: the data is read in order, then
/// end of file, and the ACK covers the FIN.
#[test]
fn a_fin_beyond_a_gap_is_taken_when_the_gap_fills() {
    let mut c = established();
    arrive(
        &mut c,
        seg(ACK | FIN).seq(IRS + 11).ack(ISS + 1).payload(b"world"),
    );
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.state(), State::Established);
    arrive(&mut c, peer(IRS + 1, ISS + 1).payload(b"hello, the"));
    assert_ack(&only(&mut c), ISS + 1, IRS + 17);
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(read_all(&mut c), b"hello, theworld");
    assert_eq!(c.events(), [Event::PeerClosed]);
}
