//! Layer Window-Scale (RFC 7323 §2): negotiation in both roles, scaled windows both ways, the
//! unscaled window field of SYNs, the shift's upper bound, and the per-connection switch.
//! Connections here are built with the layer's defaults (no `plain()` options but Nagle,
//! delayed ACK and the initial window set out of the way), so the option is in play.

mod common;

use common::*;
use protocols::tcp::{Config, Connection, State, TcpOption};

const MIB: usize = 1 << 20;

/// A connection with `receive` bytes of receive buffer and nothing else in the way.
fn conn(receive: usize, options: &[TcpOption]) -> Connection {
    let mut c = Connection::new(Config {
        initial_seq: ISS,
        receive_capacity: receive,
        send_capacity: MIB,
        ..Config::default()
    });
    for o in [
        TcpOption::QuickAck(true),
        TcpOption::NoDelay(true),
        TcpOption::InitialWindow(1000),
        TcpOption::Timestamps(false),
        TcpOption::Sack(false),
    ]
    .iter()
    .chain(options)
    {
        assert!(c.set_option(*o));
    }
    c
}

/// Our SYN,ACK to `syn` in a passive open with `receive` bytes of buffer.
fn answer(receive: usize, syn: Seg, options: &[TcpOption]) -> (Connection, Out) {
    let mut c = conn(receive, options);
    c.listen(LOCAL);
    arrive(&mut c, syn);
    let syn_ack = only(&mut c);
    (c, syn_ack)
}

/// §2.2: a receive buffer larger than the window field can offer makes our SYN carry the
/// option, after the MSS, NOP-aligned: NOP, kind 3, length 3, shift 5 for 1 MiB (65,535 << 5
/// is the first to cover it).
#[test]
fn a_large_receive_buffer_is_offered_with_a_shift() {
    let mut c = conn(MIB, &[]);
    c.connect(LOCAL, REMOTE, 0);
    let syn = only(&mut c);
    assert_eq!(syn.header_len, 28);
    assert_eq!(syn.options, [2, 4, 0x05, 0xb4, 1, 3, 3, 5]);
    assert_eq!(
        syn.window, 65_535,
        "the window field of a SYN is not scaled"
    );
}

/// A buffer the field can offer whole needs no scaling: the SYN carries the MSS alone.
#[test]
fn a_small_receive_buffer_is_not_offered() {
    let mut c = conn(65_535, &[]);
    c.connect(LOCAL, REMOTE, 0);
    let syn = only(&mut c);
    assert_eq!(syn.header_len, 24);
    assert_eq!(syn.options, [2, 4, 0x05, 0xb4]);
}

/// §2.2: a peer's offer is answered even when we need no scaling (shift 0), and from then on
/// the peer's window fields are scaled by its shift — but not the one in its SYN.
#[test]
fn a_peers_offer_is_answered_and_its_windows_are_scaled() {
    let syn = peer_syn().options(&[1, 3, 3, 7]).window(1000);
    let (mut c, syn_ack) = answer(4096, syn, &[]);
    assert_eq!(syn_ack.options, [2, 4, 0x05, 0xb4, 1, 3, 3, 0]);
    assert_eq!(c.snd_wnd(), 1000, "the SYN's window is taken as it is");
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(100));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.snd_wnd(), 100 << 7);
}

/// Without the peer's offer there is no scaling, whatever our buffer: the SYN,ACK carries the
/// MSS alone and windows are taken as they are, ours capped at 65,535.
#[test]
fn without_the_peers_offer_nothing_is_scaled() {
    let (mut c, syn_ack) = answer(MIB, peer_syn(), &[]);
    assert_eq!(syn_ack.options, [2, 4, 0x05, 0xb4]);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(100));
    assert_eq!(c.snd_wnd(), 100);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).payload(b"x"));
    // The field's 65,535 less the byte taken: the right edge stays where it was (MUST-39).
    assert_eq!(only(&mut c).window, 65_534);
}

/// Our offer without the peer's in its SYN,ACK: neither side scales (§2.2).
#[test]
fn an_offer_the_peer_ignores_means_no_scaling() {
    let mut c = conn(MIB, &[]);
    c.connect(LOCAL, REMOTE, 0);
    sent(&mut c);
    arrive(
        &mut c,
        seg(SYN | ACK)
            .seq(IRS)
            .ack(ISS + 1)
            .mss(PEER_MSS)
            .window(100),
    );
    assert_eq!(c.state(), State::Established);
    let ack = only(&mut c);
    assert_eq!(
        ack.window, 65_535,
        "our window unscaled, capped at the field"
    );
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(200));
    assert_eq!(c.snd_wnd(), 200);
}

/// Both offers: our window fields after the handshake are the free space shifted by our
/// shift, and the peer's are shifted by its own.
#[test]
fn with_both_offers_windows_are_scaled_both_ways() {
    let mut c = conn(MIB, &[]);
    c.connect(LOCAL, REMOTE, 0);
    sent(&mut c);
    let syn_ack = seg(SYN | ACK)
        .seq(IRS)
        .ack(ISS + 1)
        .mss(PEER_MSS)
        .options(&[1, 3, 3, 2]);
    arrive(&mut c, syn_ack.window(5000));
    let ack = only(&mut c);
    assert_eq!(
        usize::from(ack.window),
        MIB >> 5,
        "the whole buffer, in units of 32 bytes"
    );
    assert_eq!(c.snd_wnd(), 5000, "the SYN,ACK's window is not scaled");
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(5000));
    assert_eq!(c.snd_wnd(), 20_000);
    // 100 KiB arriving unread take 3,200 units off the offered window.
    arrive(
        &mut c,
        seg(ACK)
            .seq(IRS + 1)
            .ack(ISS + 1)
            .window(5000)
            .payload(&data(1000)),
    );
    assert_eq!(usize::from(only(&mut c).window), (MIB - 1000) >> 5);
}

/// §2.3: a shift above 14 is taken as 14.
#[test]
fn a_shift_above_fourteen_is_taken_as_fourteen() {
    let syn = peer_syn().options(&[1, 3, 3, 20]);
    let (mut c, _) = answer(4096, syn, &[]);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(3));
    assert_eq!(c.snd_wnd(), 3 << 14);
}

/// The per-connection switch: off, neither offered with a large buffer nor answered.
#[test]
fn switched_off_it_is_neither_offered_nor_answered() {
    let mut c = conn(MIB, &[TcpOption::WindowScale(false)]);
    c.connect(LOCAL, REMOTE, 0);
    assert_eq!(only(&mut c).options, [2, 4, 0x05, 0xb4]);
    let syn = peer_syn().options(&[1, 3, 3, 7]);
    let (mut c, syn_ack) = answer(MIB, syn, &[TcpOption::WindowScale(false)]);
    assert_eq!(syn_ack.options, [2, 4, 0x05, 0xb4]);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(100));
    assert_eq!(c.snd_wnd(), 100);
}

/// Duplicate ACKs are recognised by the scaled window (RFC 5681 §2: "the advertised window in
/// the incoming acknowledgment equals the advertised window in the last incoming
/// acknowledgment"): three of them retransmit the first segment at once.
#[test]
fn duplicate_acks_with_scaled_windows_start_fast_retransmit() {
    let mut c = conn(MIB, &[]);
    c.connect(LOCAL, REMOTE, 0);
    sent(&mut c);
    let syn_ack = seg(SYN | ACK)
        .seq(IRS)
        .ack(ISS + 1)
        .mss(PEER_MSS)
        .options(&[1, 3, 3, 2]);
    arrive(&mut c, syn_ack.window(5000));
    sent(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(5000));
    c.send(&data(5 * usize::from(PEER_MSS)), 0);
    assert_eq!(sent(&mut c).len(), 5);
    for _ in 0..2 {
        arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(5000));
        silent(&mut c);
    }
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).window(5000));
    let again = only(&mut c);
    assert_eq!(
        (again.seq, again.payload.len()),
        (ISS + 1, usize::from(PEER_MSS))
    );
    assert!(c.info().in_recovery);
}
