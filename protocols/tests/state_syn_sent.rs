//! SYN-SENT (RFC 9293 §3.10.7.3): after an active OPEN. An acceptable SYN,ACK establishes the
//! connection, a SYN alone is a simultaneous open, an unacceptable ACK is answered with a reset,
//! a reset is believed only with an acceptable ACK. The SYN is retransmitted on the RFC 6298
//! timer.

mod common;

use common::*;
use protocols::tcp::{Event, State};

/// The peer's SYN,ACK for our SYN.
fn syn_ack() -> Seg {
    seg(SYN).seq(IRS).ack(ISS + 1).mss(PEER_MSS)
}

/// MUST-14: the SYN carries our MSS option; no ACK bit before we know the peer's ISS.
#[test]
fn connect_sends_a_syn_with_our_mss_and_no_ack() {
    let mut c = plain(config());
    c.connect(LOCAL, REMOTE, 0);
    assert_eq!(c.state(), State::SynSent);
    let s = only(&mut c);
    assert_eq!(s.flags, SYN);
    assert_eq!(s.seq, ISS);
    assert_eq!((s.src, s.dst), (LOCAL, REMOTE));
    assert_eq!(s.header_len, 24);
    assert_eq!(s.mss(), Some(OUR_MSS));
    assert_eq!(usize::from(s.window), RCV_BUF);
    assert!(s.payload.is_empty());
    assert_eq!((c.snd_una(), c.snd_nxt()), (ISS, ISS + 1));
}

/// RFC 6298 (5.1), (2.1): the SYN starts the timer at 1 s.
#[test]
fn connect_starts_the_retransmission_timer_at_one_second() {
    let mut c = plain(config());
    c.connect(LOCAL, REMOTE, 70);
    assert_eq!(c.poll_at(), Some(70 + RTO));
}

/// §3.10.7.3: SND.UNA advances to SEG.ACK, ESTABLISHED, and <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>;
/// RFC 6298 (5.2): everything is acknowledged, so the timer stops.
#[test]
fn an_acceptable_syn_ack_establishes_and_is_acknowledged() {
    let mut c = syn_sent();
    arrive(&mut c, syn_ack());
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.events(), [Event::Established]);
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!((c.snd_una(), c.rcv_nxt()), (ISS + 1, IRS + 1));
    assert_eq!(c.poll_at(), None);
}

/// MUST-14: the SYN,ACK's MSS option is the send MSS; segments are cut to it.
#[test]
fn the_syn_ack_mss_option_sets_the_segment_size() {
    let mut c = syn_sent();
    arrive(&mut c, syn_ack());
    sent(&mut c);
    c.send(&data(1500), 0);
    let sizes: Vec<usize> = sent(&mut c).iter().map(|o| o.payload.len()).collect();
    assert_eq!(sizes, [1000, 500]);
}

/// MUST-15: no MSS option on the SYN,ACK means 536.
#[test]
fn a_syn_ack_without_mss_means_536() {
    let mut c = syn_sent();
    arrive(&mut c, seg(SYN).seq(IRS).ack(ISS + 1));
    assert_eq!(c.snd_mss(), 536);
}

/// §3.10.7.3: SND.WND is taken from the SYN,ACK, and limits what is sent.
#[test]
fn the_syn_ack_window_limits_the_first_data() {
    let mut c = syn_sent();
    arrive(&mut c, syn_ack().window(300));
    sent(&mut c);
    assert_eq!(c.snd_wnd(), 300);
    c.send(&data(1000), 0);
    let out = sent(&mut c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload.len(), 300);
}

/// §3.10.7.3: SEG.ACK =< ISS → <SEQ=SEG.ACK><CTL=RST>, and we keep waiting.
#[test]
fn a_syn_ack_acknowledging_too_little_is_answered_with_a_reset() {
    let mut c = syn_sent();
    arrive(&mut c, seg(SYN).seq(IRS).ack(ISS));
    assert_rst(&only(&mut c), ISS);
    assert_eq!(c.state(), State::SynSent);
    assert!(c.events().is_empty());
}

/// §3.10.7.3: SEG.ACK > SND.NXT → <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn a_syn_ack_acknowledging_too_much_is_answered_with_a_reset() {
    let mut c = syn_sent();
    arrive(&mut c, seg(SYN).seq(IRS).ack(ISS + 5));
    assert_rst(&only(&mut c), ISS + 5);
    assert_eq!(c.state(), State::SynSent);
}

/// §3.10.7.3: an acceptable ACK without SYN or RST: "drop the segment and return".
#[test]
fn an_acceptable_ack_without_syn_is_dropped() {
    let mut c = syn_sent();
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).payload(b"x"));
    silent(&mut c);
    assert_eq!(c.state(), State::SynSent);
    assert_eq!(c.snd_una(), ISS, "the ACK was not taken");
}

/// §3.10.7.3: a reset with an acceptable ACK: "connection reset", CLOSED (MUST-12: the user is
/// told); the SYN's timer goes with the TCB.
#[test]
fn a_reset_with_an_acceptable_ack_refuses_the_connection() {
    let mut c = syn_sent();
    arrive(&mut c, seg(RST).seq(0).ack(ISS + 1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reset, Event::Closed]);
    silent(&mut c);
    assert_eq!(c.poll_at(), None);
}

/// §3.10.7.3: a reset without ACK cannot be matched to our SYN: dropped.
#[test]
fn a_reset_without_ack_is_ignored() {
    let mut c = syn_sent();
    arrive(&mut c, seg(RST).seq(IRS));
    silent(&mut c);
    assert_eq!(c.state(), State::SynSent);
    assert!(c.events().is_empty());
}

/// §3.10.7.3: a reset with an unacceptable ACK is dropped (and never answered with a reset).
#[test]
fn a_reset_with_an_unacceptable_ack_is_ignored_without_reply() {
    let mut c = syn_sent();
    arrive(&mut c, seg(RST).seq(IRS).ack(ISS + 9));
    silent(&mut c);
    assert_eq!(c.state(), State::SynSent);
}

/// MUST-10, §3.10.7.3: a SYN without ACK is a simultaneous open: SYN-RECEIVED and
/// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> (our SYN again, now with the ACK).
#[test]
fn a_syn_without_ack_is_a_simultaneous_open_answered_with_syn_ack() {
    let mut c = syn_sent();
    arrive(&mut c, peer_syn());
    assert_eq!(c.state(), State::SynReceived);
    let s = only(&mut c);
    assert_eq!(s.flags, SYN | ACK);
    assert_eq!((s.seq, s.ack), (ISS, IRS + 1));
    assert_eq!(s.mss(), Some(OUR_MSS));
    assert_eq!(c.snd_mss(), u32::from(PEER_MSS), "MUST-14 on this path too");
    assert!(c.events().is_empty());
}

/// MUST-10: two active opens that cross complete, and both report it.
#[test]
fn crossing_active_opens_both_reach_established() {
    let mut a = plain(config());
    let mut b = plain(protocols::tcp::Config {
        initial_seq: IRS,
        ..config()
    });
    a.connect(LOCAL, REMOTE, 0);
    b.connect(REMOTE, LOCAL, 0);
    let (syn_a, syn_b) = (a.poll_transmit(), b.poll_transmit());
    b.input(&syn_a.expect("A's SYN"), 0);
    a.input(&syn_b.expect("B's SYN"), 0);
    assert_eq!(
        (a.state(), b.state()),
        (State::SynReceived, State::SynReceived)
    );
    exchange(&mut a, &mut b, 0);
    assert_eq!(
        (a.state(), b.state()),
        (State::Established, State::Established)
    );
    assert_eq!(a.events(), [Event::Established]);
    assert_eq!(b.events(), [Event::Established]);
    assert_eq!((a.snd_nxt(), a.rcv_nxt()), (ISS + 1, IRS + 1));
    b.send(b"after a simultaneous open", 0);
    exchange(&mut a, &mut b, 0);
    assert_eq!(read_all(&mut a), b"after a simultaneous open");
}

/// §3.10.7.3: "If there are other controls or text in the segment, then continue processing
/// at the sixth step": data on the SYN,ACK is delivered and acknowledged.
#[test]
fn data_on_the_syn_ack_is_delivered_and_acknowledged() {
    let mut c = syn_sent();
    arrive(&mut c, syn_ack().payload(b"hello"));
    assert_eq!(c.state(), State::Established);
    assert_eq!(read_all(&mut c), b"hello");
    assert_ack(&only(&mut c), ISS + 1, IRS + 6);
}

/// §3.10.7.3 then §3.10.7.4 eighth step: a FIN on the SYN,ACK closes the peer's side.
#[test]
fn a_fin_on_the_syn_ack_moves_to_close_wait() {
    let mut c = syn_sent();
    arrive(&mut c, seg(SYN | FIN).seq(IRS).ack(ISS + 1).payload(b"bye"));
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.events(), [Event::Established, Event::PeerClosed]);
    assert_eq!(read_all(&mut c), b"bye");
    assert_ack(&only(&mut c), ISS + 1, IRS + 5);
}

/// §3.10.7.3: no SYN, no RST, no ACK: dropped.
#[test]
fn a_segment_without_syn_rst_or_ack_is_dropped() {
    let mut c = syn_sent();
    arrive(&mut c, seg(FIN).seq(IRS));
    arrive(&mut c, seg(PSH).seq(IRS).payload(b"?"));
    silent(&mut c);
    assert_eq!(c.state(), State::SynSent);
}

#[test]
fn a_syn_ack_with_a_bad_header_length_is_dropped() {
    let mut c = syn_sent();
    arrive(&mut c, syn_ack().data_offset(4));
    arrive(&mut c, syn_ack().data_offset(8)); // 32 claimed, 24 there
    silent(&mut c);
    assert_eq!(c.state(), State::SynSent);
}

/// RFC 6298 (5.4)-(5.6), MUST-19: the SYN is sent again, unchanged, when the timer expires,
/// and the timeout doubles.
#[test]
fn the_syn_is_retransmitted_with_exponential_backoff() {
    let mut c = plain(config());
    c.connect(LOCAL, REMOTE, 0);
    let first = only(&mut c);
    c.poll(RTO - 1);
    silent(&mut c);
    c.poll(RTO);
    assert_eq!(only(&mut c), first);
    assert_eq!(c.poll_at(), Some(RTO + 2 * RTO));
    c.poll(3 * RTO);
    assert_eq!(only(&mut c), first);
    assert_eq!(c.poll_at(), Some(3 * RTO + 4 * RTO));
}

/// RFC 6298 (5.7): after the SYN timed out, the RTO is 3 s once data transmission begins.
#[test]
fn after_a_syn_timeout_data_is_timed_with_three_seconds() {
    let mut c = syn_sent();
    c.poll(RTO);
    sent(&mut c);
    arrive_at(&mut c, syn_ack(), 1500);
    sent(&mut c);
    assert_eq!(c.poll_at(), None);
    c.send(b"data", 1600);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(1600 + 3000));
}

/// RFC 6298 (2.1): without a SYN timeout the first data is timed with the initial 1 s.
#[test]
fn without_a_syn_timeout_data_is_timed_with_one_second() {
    let mut c = syn_sent();
    arrive_at(&mut c, syn_ack(), 200);
    sent(&mut c);
    c.send(b"data", 300);
    sent(&mut c);
    assert_eq!(c.poll_at(), Some(300 + RTO));
}

/// SEND in SYN-SENT: queued, and sent (carrying the ACK) as soon as the handshake completes.
#[test]
fn data_sent_during_the_handshake_follows_the_syn_ack() {
    let mut c = syn_sent();
    assert_eq!(c.send(b"queued", 0), 6);
    silent(&mut c);
    arrive(&mut c, syn_ack());
    let d = only(&mut c);
    assert_eq!(d.flags, ACK | PSH);
    assert_eq!((d.seq, d.ack), (ISS + 1, IRS + 1));
    assert_eq!(d.payload, b"queued");
}

/// CLOSE in SYN-SENT: the TCB is deleted; nothing is sent, the SYN is not retransmitted.
#[test]
fn close_deletes_the_connection_and_its_timer() {
    let mut c = syn_sent();
    c.shutdown(0);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Closed]);
    silent(&mut c);
    assert_eq!(c.poll_at(), None);
    c.poll(10 * RTO);
    silent(&mut c);
}

/// ABORT in SYN-SENT (§3.10.5): no reset; the peer has nothing to forget.
#[test]
fn abort_sends_no_reset() {
    let mut c = syn_sent();
    c.abort();
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
    assert_eq!(c.poll_at(), None);
}

/// §3.10.7.3, simultaneous open: text on the peer's SYN is queued until ESTABLISHED — our
/// SYN,ACK acknowledges the SYN alone, and the ACK that completes the handshake makes it
/// readable.
#[test]
fn text_on_a_simultaneous_syn_waits_for_established() {
    let mut c = syn_sent();
    arrive(&mut c, peer_syn().payload(b"abc"));
    let syn_ack = only(&mut c);
    assert!(syn_ack.has(SYN) && syn_ack.has(ACK) && syn_ack.ack == IRS + 1);
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(read_all(&mut c), b"");
    arrive(&mut c, seg(ACK).seq(IRS + 4).ack(ISS + 1));
    assert_eq!(c.state(), State::Established);
    assert_eq!(read_all(&mut c), b"abc");
}
