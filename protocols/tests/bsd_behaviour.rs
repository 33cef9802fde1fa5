//! The behaviours the BSD profile switches on (issue 7: what FreeBSD's conformance scripts
//! expect), each against the default: 4.4BSD's receive-window rule, a delayed ACK for every
//! second segment whatever its size, no quick ACKs after a gap, TIME-WAIT ignoring resets
//! (RFC 1337), an unacknowledged FIN repeated on the ACKs that follow. Connections as the state
//! tests build them (ISS 1000, IRS 5000), with `plain()`'s options unless a test says otherwise.

mod common;

use common::*;
use protocols::tcp::{Config, Connection, Event, State, TcpOption};

fn with(options: &[TcpOption]) -> Connection {
    established_cfg(
        Config {
            initial_seq: ISS,
            receive_capacity: 65_700,
            ..Config::default()
        },
        &[
            &[TcpOption::NoDelay(true), TcpOption::WindowScale(false)][..],
            options,
        ]
        .concat(),
    )
}

/// 4.4BSD offers all the space there is (clamped to the field) unless it is small; RFC 9293's
/// receiver rule keeps the right edge until it can move by a segment.
#[test]
fn the_bsd_window_rule_offers_the_space_there_is() {
    for (bsd, want) in [(true, 65_535), (false, 65_535 - 99)] {
        let mut c = with(&[TcpOption::BsdReceiveWindow(bsd), TcpOption::QuickAck(true)]);
        arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(99)));
        let ack = only(&mut c);
        assert_eq!(u32::from(ack.window), want, "BSD rule {bsd}");
    }
}

/// 4.4BSD acknowledges every second segment whatever its size; the default waits for 2·MSS
/// bytes or the delay.
#[test]
fn every_second_segment_is_acknowledged_in_the_bsd_way() {
    for (bsd, acked) in [(true, true), (false, false)] {
        let mut c = with(&[TcpOption::AckEverySecondSegment(bsd)]);
        arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(10)));
        silent(&mut c);
        arrive(&mut c, peer_ack(IRS + 11, ISS + 1).payload(&data(10)));
        assert_eq!(!sent(&mut c).is_empty(), acked, "BSD way {bsd}");
    }
}

/// Without quick ACKs after a gap, the in-order segment after a filled gap waits for the
/// delayed ACK as any other (FreeBSD); with them (the default, Linux's way) it is acknowledged
/// at once.
#[test]
fn quick_acks_after_a_gap_are_an_option() {
    for (quick, acked) in [(false, false), (true, true)] {
        let mut c = with(&[TcpOption::QuickAckAfterGap(quick)]);
        arrive(&mut c, peer_ack(IRS + 11, ISS + 1).payload(&data(10)));
        only(&mut c);
        arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(10)));
        only(&mut c);
        arrive(&mut c, peer_ack(IRS + 21, ISS + 1).payload(&data(10)));
        assert_eq!(!sent(&mut c).is_empty(), acked, "quick ACKs {quick}");
    }
}

/// RFC 5681 §4.2: a segment that fills part of a gap, with data still held above it, is
/// acknowledged at once (whatever the delayed ACK's rule).
#[test]
fn filling_part_of_a_gap_is_acknowledged_at_once() {
    let mut c = with(&[
        TcpOption::QuickAckAfterGap(false),
        TcpOption::AckEverySecondSegment(true),
    ]);
    arrive(&mut c, peer_ack(IRS + 101, ISS + 1).payload(&data(10)));
    only(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(50)));
    let ack = only(&mut c);
    assert_eq!(ack.ack, IRS + 51);
}

/// RFC 1337: with the option TIME-WAIT ignores a reset (against TIME-WAIT assassination);
/// without it the reset ends TIME-WAIT (RFC 9293 §3.10.7.4 second step).
#[test]
fn time_wait_may_ignore_resets() {
    for (ignore, state) in [(true, State::TimeWait), (false, State::Closed)] {
        let mut c = time_wait();
        assert!(c.set_option(TcpOption::IgnoreResetInTimeWait(ignore)));
        arrive(&mut c, seg(RST).seq(IRS + 2));
        assert_eq!(c.state(), state, "RFC 1337 {ignore}");
    }
}

/// 4.4BSD's output repeats an unacknowledged FIN on the ACK it sends: in FIN-WAIT-1, the
/// peer's FIN (which does not acknowledge ours) is answered by FIN,ACK at our FIN's sequence
/// number; by default with a bare ACK.
#[test]
fn an_unacknowledged_fin_may_ride_on_the_ack() {
    for (repeat, flags) in [(true, FIN | ACK), (false, ACK)] {
        let mut c = fin_wait_1();
        assert!(c.set_option(TcpOption::RepeatFin(repeat)));
        arrive(&mut c, seg(FIN | ACK).seq(IRS + 1).ack(ISS + 1));
        let out = only(&mut c);
        assert_eq!((out.flags, out.ack), (flags, IRS + 2), "repeat {repeat}");
        assert_eq!(out.seq, if repeat { ISS + 1 } else { ISS + 2 });
        assert_eq!(c.state(), State::Closing);
    }
}

/// Once the peer's FIN is in, a second FIN at RCV.NXT (which the peer cannot have sent) is
/// acknowledged without moving RCV.NXT (FreeBSD and Linux do the same).
#[test]
fn a_second_fin_does_not_move_rcv_nxt() {
    let mut c = time_wait();
    arrive(&mut c, seg(FIN | ACK).seq(IRS + 2).ack(ISS + 2));
    let ack = only(&mut c);
    assert_eq!(ack.ack, IRS + 2);
    assert_eq!(c.state(), State::TimeWait);
}

/// `InsecureReset` restores the rule before RFC 5961 §3: a reset anywhere in the window resets
/// the connection; by default only one at RCV.NXT does and the others are challenged.
#[test]
fn an_in_window_reset_resets_only_when_insecure() {
    for (insecure, state) in [(true, State::Closed), (false, State::Established)] {
        let mut c = with(&[
            TcpOption::InsecureReset(insecure),
            TcpOption::QuickAck(true),
        ]);
        arrive(&mut c, seg(RST).seq(IRS + 100));
        assert_eq!(c.state(), state, "insecure {insecure}");
        let out = sent(&mut c);
        assert_eq!(
            out.len(),
            usize::from(!insecure),
            "a challenge ACK: {out:?}"
        );
    }
}

/// `InsecureSyn` restores RFC 793's rule: a SYN in the window is an error and resets the
/// connection with RST,ACK (outside TIME-WAIT); by default it is challenged (RFC 5961 §4).
#[test]
fn an_in_window_syn_resets_only_when_insecure() {
    for insecure in [true, false] {
        let mut c = with(&[TcpOption::InsecureSyn(insecure), TcpOption::QuickAck(true)]);
        arrive(&mut c, seg(SYN).seq(IRS + 100).mss(PEER_MSS));
        let out = only(&mut c);
        if insecure {
            assert_eq!((out.flags, out.seq, out.ack), (RST | ACK, ISS + 1, IRS + 1));
            assert_eq!(c.state(), State::Closed);
        } else {
            assert_ack(&out, ISS + 1, IRS + 1);
            assert_eq!(c.state(), State::Established);
        }
    }
}

/// 4.4BSD judges acceptability by its buffer space: with 65,700 bytes and no window scaling a
/// segment just past the 65,535 advertised is still in its window; by default it is not.
#[test]
fn the_bsd_window_rule_accepts_up_to_the_buffer_space() {
    for (bsd, state) in [(true, State::Closed), (false, State::Established)] {
        let mut c = with(&[
            TcpOption::BsdReceiveWindow(bsd),
            TcpOption::InsecureReset(true),
        ]);
        arrive(&mut c, seg(RST).seq(IRS + 1 + 65_600));
        assert_eq!(c.state(), state, "BSD rule {bsd}");
    }
}

/// FreeBSD's `rexmit_slop` (`RtoSlopMs`): added to every retransmission timeout but the first
/// SYN's — SYNs at 0, 1.0 s, then 2.2 s later with 200 ms of slop; 2.0 s later without.
#[test]
fn the_rto_slop_is_added_after_the_first_syn_timeout() {
    for (slop, second) in [(200, 3200), (0, 3000)] {
        let mut c = Connection::new(config());
        assert!(c.set_option(TcpOption::RtoSlopMs(slop)));
        c.connect(LOCAL, REMOTE, 0);
        only(&mut c);
        let times: Vec<u64> = run_timers(&mut c, 3500)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(times, [1000, second], "slop {slop}");
    }
}

/// The MSS follows the host's MTU through `MaxSegment`, beyond Ethernet's 1460 too (MTU 9000:
/// 8960) and down to a tiny one (MTU 72: 32), as FreeBSD announces them.
#[test]
fn the_announced_mss_follows_the_mtu() {
    for mss in [8960, 32] {
        let mut c = Connection::new(config());
        assert!(c.set_option(TcpOption::MaxSegment(mss)));
        c.connect(LOCAL, REMOTE, 0);
        assert_eq!(only(&mut c).mss(), Some(mss));
    }
}

/// RFC 9293 MAY-2 (RFC 1122 §4.2.2.13) as an option: a SYN above RCV.NXT in TIME-WAIT ends it
/// silently and tells the host to hand the SYN to the listener (`Event::Reopen`); a SYN at or
/// below RCV.NXT, or one with ACK, is challenged as without the option (RFC 5961 §4).
#[test]
fn a_newer_syn_reopens_time_wait() {
    let mut c = time_wait();
    assert!(c.set_option(TcpOption::ReopenOnSyn(true)));
    arrive(&mut c, seg(SYN).seq(IRS + 2).mss(PEER_MSS));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    arrive(
        &mut c,
        seg(SYN | ACK).seq(IRS + 100).ack(ISS + 2).mss(PEER_MSS),
    );
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::TimeWait);
    arrive(&mut c, seg(SYN).seq(IRS + 100).mss(PEER_MSS));
    silent(&mut c);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.events(), [Event::Reopen, Event::Closed]);

    let mut c = time_wait();
    arrive(&mut c, seg(SYN).seq(IRS + 100).mss(PEER_MSS));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.state(), State::TimeWait, "without the option");
}

/// 4.4BSD takes the ACK field of an old duplicate (a segment wholly below RCV.NXT): in
/// LAST-ACK one that acknowledges our FIN closes the connection without a word; RFC 9293 drops
/// it at the first step and acknowledges it.
#[test]
fn the_ack_of_an_old_duplicate_is_taken_in_the_bsd_way() {
    for bsd in [true, false] {
        let mut c = last_ack();
        c.set_option(TcpOption::AckOfOldSegments(bsd));
        arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2));
        if bsd {
            silent(&mut c);
            assert_eq!(c.state(), State::Closed);
        } else {
            assert_ack(&only(&mut c), ISS + 2, IRS + 2);
            assert_eq!(c.state(), State::LastAck);
        }
    }
    // In ESTABLISHED an old duplicate that acknowledges new data moves SND.UNA on, and is
    // acknowledged.
    let mut c = established();
    c.set_option(TcpOption::AckOfOldSegments(true));
    c.send(&data(100), 0);
    sent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(&data(10)));
    sent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 101).payload(&data(10)));
    assert_ack(&only(&mut c), ISS + 101, IRS + 11);
    assert_eq!(c.info().snd_una, ISS + 101);
}

/// FreeBSD's TIME-WAIT (`tcp_twcheck`): resets and segments without ACK are dropped silently,
/// the exact final ACK too, anything else is acknowledged, and a repeated FIN restarts the
/// 2 MSL timer.
#[test]
fn time_wait_in_the_bsd_way() {
    let mut c = time_wait();
    assert!(c.set_option(TcpOption::BsdTimeWait(true)));
    arrive(&mut c, seg(RST).seq(IRS + 2));
    arrive(&mut c, seg(SYN).seq(IRS + 2).mss(PEER_MSS));
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 2));
    silent(&mut c);
    assert_eq!(c.state(), State::TimeWait);
    arrive(&mut c, seg(ACK).seq(IRS + 2).ack(ISS + 1));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    arrive(&mut c, seg(ACK | PSH).seq(IRS + 2).ack(ISS + 2));
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.poll_at(), Some(TWO_MSL));
    arrive_at(&mut c, seg(FIN | ACK).seq(IRS + 1).ack(ISS + 2), 1_000);
    assert_ack(&only(&mut c), ISS + 2, IRS + 2);
    assert_eq!(c.poll_at(), Some(1_000 + TWO_MSL), "restarted");
    assert_eq!(c.state(), State::TimeWait);
}
