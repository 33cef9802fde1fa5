//! LISTEN (RFC 9293 §3.10.7.2): a SYN starts the handshake (and its MSS option sets the send
//! MSS), an ACK is answered with a reset, anything else is dropped; CLOSE and ABORT end the
//! listen quietly.

mod common;

use common::*;
use protocols::tcp::{Config, Event, State};

#[test]
fn listen_sends_nothing_and_starts_no_timer() {
    let mut c = listen();
    assert_eq!(c.state(), State::Listen);
    silent(&mut c);
    assert_eq!(c.poll_at(), None);
}

/// §3.10.7.2: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, with our MSS option (MUST-14) and the
/// window of our empty receive buffer.
#[test]
fn a_syn_is_answered_with_a_syn_ack_carrying_our_mss() {
    let mut c = listen();
    arrive(&mut c, peer_syn());
    assert_eq!(c.state(), State::SynReceived);
    let s = only(&mut c);
    assert_eq!(s.flags, SYN | ACK);
    assert_eq!((s.seq, s.ack), (ISS, IRS + 1));
    assert_eq!((s.src, s.dst), (LOCAL, REMOTE));
    assert_eq!(s.header_len, 24);
    assert_eq!(s.mss(), Some(OUR_MSS));
    assert_eq!(usize::from(s.window), RCV_BUF);
    assert!(s.payload.is_empty());
    assert_eq!(
        (c.snd_una(), c.snd_nxt(), c.rcv_nxt()),
        (ISS, ISS + 1, IRS + 1)
    );
    assert!(
        c.events().is_empty(),
        "nothing to report before ESTABLISHED"
    );
}

/// RFC 6298 (5.1): the SYN,ACK occupies sequence space, so the timer starts.
#[test]
fn the_syn_ack_starts_the_retransmission_timer() {
    let mut c = listen();
    arrive_at(&mut c, peer_syn(), 50);
    assert_eq!(c.poll_at(), Some(50 + RTO));
}

/// MUST-14: the MSS option of the SYN is the send MSS.
#[test]
fn the_syn_mss_option_sets_the_send_mss() {
    let mut c = listen();
    arrive(&mut c, peer_syn());
    assert_eq!(c.snd_mss(), u32::from(PEER_MSS));
}

/// MUST-15: without an MSS option the send MSS is 536 (IPv4).
#[test]
fn without_an_mss_option_the_send_mss_is_536() {
    let mut c = listen();
    arrive(&mut c, seg(SYN).seq(IRS));
    assert_eq!(c.snd_mss(), 536);
}

/// MUST-16: the effective send MSS is at most what our own MTU allows.
#[test]
fn an_mss_option_larger_than_ours_is_capped_at_ours() {
    let mut c = listen();
    arrive(&mut c, seg(SYN).seq(IRS).mss(9000));
    assert_eq!(c.snd_mss(), u32::from(OUR_MSS));
}

/// MUST-5, MUST-6, MUST-64, MUST-68: NOPs and unknown options (by their length) are skipped,
/// whatever the alignment of what follows.
#[test]
fn the_mss_option_is_found_after_nops_and_an_unknown_option() {
    let mut c = listen();
    arrive(
        &mut c,
        seg(SYN)
            .seq(IRS)
            .options(&[1, 99, 3, 7])
            .options(&[2, 4, 0x02, 0x00]),
    );
    assert_eq!(c.snd_mss(), 512);
}

/// MUST-7: an option with an illegal length (< 2) ends the search without harm: the default
/// MSS applies and the SYN is still accepted.
#[test]
fn an_illegal_option_length_is_survived_and_the_default_mss_applies() {
    let mut c = listen();
    arrive(
        &mut c,
        seg(SYN).seq(IRS).options(&[99, 0, 2, 4, 0x02, 0x00]),
    );
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(c.snd_mss(), 536);
}

/// The window of the SYN bounds what we may send once established.
#[test]
fn the_syn_window_is_the_send_window() {
    let mut c = listen();
    arrive(&mut c, peer_syn().window(1234));
    assert_eq!(c.snd_wnd(), 1234);
}

/// Text on a SYN is not acknowledged by the SYN,ACK (the peer sends it again).
#[test]
fn data_on_a_syn_is_not_acknowledged() {
    let mut c = listen();
    arrive(&mut c, peer_syn().payload(b"early"));
    let s = only(&mut c);
    assert_eq!(s.ack, IRS + 1, "the SYN only");
    assert_eq!(c.readable(), 0);
}

/// §3.10.7.2: "Any acknowledgment is bad if it arrives on a connection still in the LISTEN
/// state": <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn an_ack_is_answered_with_a_reset_and_listen_continues() {
    let mut c = listen();
    arrive(&mut c, seg(ACK).seq(IRS).ack(4242));
    assert_rst(&only(&mut c), 4242);
    assert_eq!(c.state(), State::Listen);
}

#[test]
fn a_syn_ack_is_answered_with_a_reset_and_listen_continues() {
    let mut c = listen();
    arrive(&mut c, peer_syn().ack(99));
    assert_rst(&only(&mut c), 99);
    assert_eq!(c.state(), State::Listen);
}

/// §3.10.7.2: "An incoming RST should be ignored", even with SYN.
#[test]
fn a_reset_is_ignored() {
    let mut c = listen();
    arrive(&mut c, seg(RST).seq(IRS));
    arrive(&mut c, seg(RST | SYN).seq(IRS));
    arrive(&mut c, seg(RST).seq(IRS).ack(ISS));
    silent(&mut c);
    assert_eq!(c.state(), State::Listen);
    assert!(c.events().is_empty());
}

/// §3.10.7.2: neither SYN nor RST nor ACK: "drop the segment and return".
#[test]
fn a_fin_or_bare_data_is_dropped_without_reply() {
    let mut c = listen();
    arrive(&mut c, seg(FIN).seq(IRS));
    arrive(&mut c, seg(PSH).seq(IRS).payload(b"data"));
    silent(&mut c);
    assert_eq!(c.state(), State::Listen);
}

#[test]
fn a_syn_with_a_bad_header_length_is_dropped() {
    let mut c = listen();
    arrive(&mut c, peer_syn().data_offset(3));
    arrive(&mut c, peer_syn().data_offset(7)); // 28 claimed, 24 there
    silent(&mut c);
    assert_eq!(c.state(), State::Listen);
}

/// CLOSE in LISTEN: the TCB is deleted; nothing goes on the wire.
#[test]
fn close_ends_the_listen_quietly() {
    let mut c = listen();
    c.shutdown(0);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Closed]);
    silent(&mut c);
    arrive(&mut c, peer_syn());
    assert_eq!(only(&mut c).flags, RST | ACK, "a SYN now finds no listener");
}

/// ABORT in LISTEN: no reset, nobody to send it to.
#[test]
fn abort_ends_the_listen_without_a_reset() {
    let mut c = listen();
    c.abort();
    assert_eq!(c.state(), State::Closed);
    silent(&mut c);
}

/// The window we offer is the free space of the receive buffer.
#[test]
fn the_offered_window_is_the_receive_buffer() {
    let mut c = listen_with(Config {
        receive_capacity: 300,
        ..config()
    });
    arrive(&mut c, peer_syn());
    assert_eq!(only(&mut c).window, 300);
}

/// §3.10.7.2: text on a SYN is queued for processing after ESTABLISHED: the SYN,ACK
/// acknowledges the SYN alone, nothing is readable in SYN-RECEIVED, and the handshake's ACK
/// makes the text readable and acknowledged.
#[test]
fn text_on_a_syn_waits_for_established() {
    let mut c = listen();
    arrive(&mut c, peer_syn().payload(b"early"));
    let syn_ack = only(&mut c);
    assert!(syn_ack.has(SYN) && syn_ack.ack == IRS + 1);
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(read_all(&mut c), b"");
    arrive(&mut c, seg(ACK).seq(IRS + 6).ack(ISS + 1));
    assert_eq!(c.state(), State::Established);
    assert_eq!(read_all(&mut c), b"early");
    assert_eq!(c.info().rcv_nxt, IRS + 6);
}

/// MUST-11: a passive open reset in SYN-RECEIVED goes back to LISTEN and keeps nothing of the
/// handshake — the text of the first SYN is not delivered on the next connection.
#[test]
fn back_in_listen_the_text_of_an_earlier_syn_is_forgotten() {
    let mut c = listen();
    arrive(
        &mut c,
        peer_syn().payload(b"a stale text, longer than what follows"),
    );
    sent(&mut c);
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Listen);
    arrive(&mut c, seg(SYN).seq(IRS + 1000).mss(PEER_MSS));
    let syn_ack = only(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 1001).ack(syn_ack.seq + 1));
    assert_eq!(c.state(), State::Established);
    arrive(
        &mut c,
        seg(ACK)
            .seq(IRS + 1001)
            .ack(syn_ack.seq + 1)
            .payload(b"fresh"),
    );
    assert_eq!(read_all(&mut c), b"fresh");
}
