//! Layer Challenge-Ack (RFC 5961, RFC 9293 §3.10.7.4): challenge ACKs for resets in the window
//! but not at RCV.NXT (§3), SYNs on synchronized connections (§4) and ACKs older than the
//! largest window the peer has offered (§5), limited per second (§7); without the layer a reset
//! anywhere in the window resets.

mod common;

use common::*;
use protocols::tcp::{BaseOnly, Config, Connection, Event, State, TcpOption};

/// RFC 9293 §3.10.7.4 second step: after the challenge ACK, the reset the peer sends at
/// RCV.NXT (a genuine peer learns it from the ACK) resets.
#[test]
fn a_challenged_peer_resets_at_rcv_nxt() {
    let mut c = established();
    arrive(&mut c, seg(RST).seq(IRS + 500));
    let challenge = only(&mut c);
    assert_ack(&challenge, ISS + 1, IRS + 1);
    arrive(&mut c, seg(RST).seq(challenge.ack));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reset, Event::Closed]);
}

/// §4 and §7: SYNs on an established connection are answered with challenge ACKs, at most
/// 100 a second by default; the next second has its own 100.
#[test]
fn syn_challenges_are_limited_per_second() {
    let mut c = established();
    for _ in 0..150 {
        arrive_at(&mut c, seg(SYN).seq(IRS + 7), 5_000);
    }
    assert_eq!(sent(&mut c).len(), 100);
    arrive_at(&mut c, seg(SYN).seq(IRS + 7), 6_000);
    assert_ack(&only(&mut c), ISS + 1, IRS + 1);
    assert_eq!(c.state(), State::Established);
}

/// §7: the limit is a per-connection option.
#[test]
fn the_limit_is_an_option() {
    let mut c = established();
    assert!(c.set_option(TcpOption::ChallengeAckLimit(2)));
    for _ in 0..5 {
        arrive_at(&mut c, seg(RST).seq(IRS + 9), 1_000);
    }
    assert_eq!(sent(&mut c).len(), 2);
    assert_eq!(c.state(), State::Established);
}

/// §5.2: an ACK below SND.UNA − MAX.SND.WND is challenged and its data not taken; one within
/// that range (an old duplicate's ACK) is taken as usual.
#[test]
fn an_ack_older_than_the_largest_window_is_challenged() {
    let mut c = established();
    // SND.UNA moves 3000 bytes on; MAX.SND.WND is the peer's 8192.
    c.send(&data(3000), 0);
    sent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 3001));
    let old = ISS.wrapping_add(3001).wrapping_sub(u32::from(PEER_WND) + 1);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(old).payload(b"injected"));
    assert_ack(&only(&mut c), ISS + 3001, IRS + 1);
    assert_eq!(read_all(&mut c), b"");
    let in_range = (ISS + 3001).wrapping_sub(u32::from(PEER_WND));
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(in_range).payload(b"fine"));
    assert_ack(&only(&mut c), ISS + 3001, IRS + 5);
    assert_eq!(read_all(&mut c), b"fine");
}

/// Without the layer (`BaseOnly`), a reset anywhere in the window resets, as RFC 793 had it.
#[test]
fn without_the_layer_a_reset_in_the_window_resets() {
    let mut c = Connection::<BaseOnly>::with_variant(Config {
        initial_seq: ISS,
        ..Config::default()
    });
    assert!(!c.set_option(TcpOption::ChallengeAckLimit(1)));
    c.listen(LOCAL);
    let syn = peer_syn().bytes();
    c.input(&syn, 0);
    while c.poll_transmit().is_some() {}
    c.input(&seg(ACK).seq(IRS + 1).ack(ISS + 1).bytes(), 0);
    assert_eq!(c.state(), State::Established);
    c.input(&seg(RST).seq(IRS + 1000).bytes(), 0);
    assert_eq!(c.state(), State::Closed);
}
