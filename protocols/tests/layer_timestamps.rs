//! Layer Timestamps (RFC 7323 §3–5): negotiation in both roles, the option on every segment,
//! TS.Recent, PAWS, round-trip measurement from echoed timestamps, the effective send MSS, and
//! the per-connection switch. Connections are built with the layer's defaults (Nagle, delayed
//! ACK and the initial window out of the way; the 4 KiB buffer needs no window scaling).

mod common;

use common::*;
use protocols::tcp::{Config, Connection, Event, State, TcpOption};

/// A connection with the timestamps layer at its defaults, plus `options`.
fn conn(options: &[TcpOption]) -> Connection {
    let mut c = Connection::new(Config {
        initial_seq: ISS,
        receive_capacity: RCV_BUF,
        ..Config::default()
    });
    for o in [
        TcpOption::QuickAck(true),
        TcpOption::NoDelay(true),
        TcpOption::InitialWindow(1000),
    ]
    .iter()
    .chain(options)
    {
        assert!(c.set_option(*o));
    }
    c
}

/// The timestamps option of `o`: (TSval, TSecr), if it carries one.
fn stamps(o: &Out) -> Option<(u32, u32)> {
    let v = o.option(8).filter(|v| v.len() == 8)?;
    Some((
        u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
        u32::from_be_bytes([v[4], v[5], v[6], v[7]]),
    ))
}

/// The peer's timestamps option: NOP, NOP, kind 8, length 10, TSval, TSecr.
fn ts(tsval: u32, tsecr: u32) -> Vec<u8> {
    let mut v = vec![1, 1, 8, 10];
    v.extend_from_slice(&tsval.to_be_bytes());
    v.extend_from_slice(&tsecr.to_be_bytes());
    v
}

/// Passive open with stamps both ways: the peer's SYN carries TSval 100.
fn stamped_established() -> Connection {
    let mut c = conn(&[]);
    c.listen(LOCAL);
    arrive(&mut c, peer_syn().options(&ts(100, 0)));
    let syn_ack = only(&mut c);
    assert_eq!(
        stamps(&syn_ack),
        Some((ISS, 100)),
        "TSval = our clock (0) + ISS; TSecr = 100"
    );
    arrive(
        &mut c,
        seg(ACK).seq(IRS + 1).ack(ISS + 1).options(&ts(101, ISS)),
    );
    assert_eq!(c.state(), State::Established);
    c
}

/// §3.2: our SYN offers timestamps, TSecr zero; TSval is the millisecond clock plus an offset
/// of the connection (§5.4), here the ISS (which, at time 7, has the Isn layer's clock in it).
#[test]
fn our_syn_offers_timestamps() {
    let mut c = conn(&[]);
    c.connect(LOCAL, REMOTE, 7);
    let syn = only(&mut c);
    assert_eq!(syn.header_len, 36, "MSS (4) and timestamps (12)");
    assert_eq!(stamps(&syn), Some((syn.seq + 7, 0)));
}

/// §3.2: a peer's offer is answered with TSecr = its TSval.
#[test]
fn a_peers_offer_is_answered() {
    stamped_established();
}

/// Without the peer's offer, none of our segments carries the option.
#[test]
fn without_the_peers_offer_no_segment_carries_timestamps() {
    let mut c = conn(&[]);
    c.listen(LOCAL);
    arrive(&mut c, peer_syn());
    assert_eq!(stamps(&only(&mut c)), None);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1));
    c.send(b"x", 5);
    let d = only(&mut c);
    assert_eq!((d.header_len, stamps(&d)), (20, None));
}

/// §3.2, §4.3: after the handshake every segment carries TSval and TS.Recent as TSecr; a
/// segment that reaches the left edge of the window brings TS.Recent forward.
#[test]
fn every_segment_echoes_ts_recent() {
    let mut c = stamped_established();
    arrive_at(
        &mut c,
        seg(ACK)
            .seq(IRS + 1)
            .ack(ISS + 1)
            .options(&ts(150, ISS))
            .payload(b"ab"),
        20,
    );
    let ack = only(&mut c);
    assert_eq!(stamps(&ack), Some((ISS + 20, 150)));
    c.send(b"y", 30);
    assert_eq!(stamps(&only(&mut c)), Some((ISS + 30, 150)));
}

/// §5.3 PAWS: a segment whose TSval is older than TS.Recent is dropped and answered with an
/// ACK; its data is not taken.
#[test]
fn paws_drops_a_segment_with_an_old_timestamp() {
    let mut c = stamped_established();
    arrive(
        &mut c,
        seg(ACK)
            .seq(IRS + 1)
            .ack(ISS + 1)
            .options(&ts(150, ISS))
            .payload(b"ab"),
    );
    sent(&mut c);
    arrive(
        &mut c,
        seg(ACK)
            .seq(IRS + 3)
            .ack(ISS + 1)
            .options(&ts(140, ISS))
            .payload(b"cd"),
    );
    let ack = only(&mut c);
    assert_eq!(
        ack.ack,
        IRS + 3,
        "the old segment's data is not acknowledged"
    );
    assert_eq!(read_all(&mut c), b"ab");
}

/// PAWS does not apply to a reset (§5.3: "RST segments ... are not subject to PAWS" when
/// they carry no timestamps; here one without the option resets the connection).
#[test]
fn a_reset_without_timestamps_is_taken() {
    let mut c = stamped_established();
    arrive(&mut c, seg(RST).seq(IRS + 1));
    assert_eq!(c.state(), State::Closed);
    assert!(c.events().contains(&Event::Reset));
}

/// §4.1 RTTM: an ACK that echoes a TSval measures the round trip of that transmission. The
/// handshake's ACK echoed the SYN,ACK's TSval at once (a sample of 0 ms: SRTT 0); the data's
/// ACK, 120 ms after it was sent, gives SRTT = (7·0 + 120) / 8 = 15 (RFC 6298 (2.3)).
#[test]
fn an_echoed_timestamp_measures_the_round_trip() {
    let mut c = stamped_established();
    assert_eq!(c.info().srtt_ms, 0);
    c.send(&data(100), 1000);
    let d = only(&mut c);
    let (tsval, _) = stamps(&d).expect("stamped");
    assert_eq!(tsval, ISS + 1000);
    arrive_at(
        &mut c,
        seg(ACK)
            .seq(IRS + 1)
            .ack(ISS + 101)
            .options(&ts(200, tsval)),
        1120,
    );
    assert_eq!(c.info().srtt_ms, 15);
}

/// RFC 9293 §3.7.1 and RFC 6691: the 12 bytes of the option come out of each segment's data;
/// with the peer's MSS of 1000 a full segment carries 988 bytes.
#[test]
fn the_option_comes_out_of_the_effective_send_mss() {
    let mut c = conn(&[]);
    c.listen(LOCAL);
    arrive(&mut c, peer_syn().options(&ts(100, 0)));
    sent(&mut c);
    arrive(
        &mut c,
        seg(ACK).seq(IRS + 1).ack(ISS + 1).options(&ts(101, ISS)),
    );
    assert_eq!(c.snd_mss(), u32::from(PEER_MSS) - 12);
    c.send(&data(2000), 0);
    let out = sent(&mut c);
    assert_eq!(out[0].payload.len(), usize::from(PEER_MSS) - 12);
    assert!(
        out.iter()
            .all(|o| o.header_len + o.payload.len() <= 20 + usize::from(PEER_MSS))
    );
}

/// The per-connection switch: off, neither offered nor answered.
#[test]
fn switched_off_they_are_neither_offered_nor_answered() {
    let mut c = conn(&[TcpOption::Timestamps(false)]);
    c.connect(LOCAL, REMOTE, 0);
    assert_eq!(stamps(&only(&mut c)), None);
    let mut c = conn(&[TcpOption::Timestamps(false)]);
    c.listen(LOCAL);
    arrive(&mut c, peer_syn().options(&ts(100, 0)));
    assert_eq!(stamps(&only(&mut c)), None);
}

/// §3.2: once timestamps are on, a segment other than a reset that lacks them "SHOULD" be
/// dropped silently: its data is not taken and nothing answers it.
#[test]
fn a_segment_without_timestamps_is_dropped_silently() {
    let mut c = stamped_established();
    arrive(
        &mut c,
        seg(ACK).seq(IRS + 1).ack(ISS + 1).payload(b"no stamps"),
    );
    silent(&mut c);
    assert_eq!(c.readable(), 0);
    assert_eq!(c.info().rcv_nxt, IRS + 1);
}

/// `TolerateMissingTimestamps` (Linux's behaviour, in the Linux profile) takes such a segment.
#[test]
fn tolerated_a_segment_without_timestamps_is_taken() {
    let mut c = stamped_established();
    assert!(c.set_option(TcpOption::TolerateMissingTimestamps(true)));
    arrive(
        &mut c,
        seg(ACK).seq(IRS + 1).ack(ISS + 1).payload(b"no stamps"),
    );
    assert_eq!(read_all(&mut c), b"no stamps");
    assert!(
        protocols::tcp::Profile::Linux
            .options()
            .contains(&TcpOption::TolerateMissingTimestamps(true))
    );
}

/// Probes (the zero-window probe here) carry the timestamps too: a peer that drops segments
/// without them must still answer.
#[test]
fn a_zero_window_probe_carries_timestamps() {
    let mut c = stamped_established();
    arrive(
        &mut c,
        seg(ACK)
            .seq(IRS + 1)
            .ack(ISS + 1)
            .window(0)
            .options(&ts(150, ISS)),
    );
    c.send(b"waiting", 0);
    silent(&mut c);
    let probes = run_timers(&mut c, 10_000);
    let (_, probe) = probes.first().expect("a probe");
    assert_eq!(probe.seq, ISS, "one byte before SND.UNA: {probe:?}");
    assert_eq!(stamps(probe).map(|(_, ecr)| ecr), Some(150));
}
