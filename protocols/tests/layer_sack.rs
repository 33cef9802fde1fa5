//! Layer Sack (`tcp/sack.pc`; RFC 2018, RFC 2883): SACK-permitted negotiation in both roles and
//! the receiver's half — blocks for the data held out of order, the block of the latest
//! segment first (RFC 2018 §4), as many as the option space allows, merged as gaps fill, gone
//! once RCV.NXT passes them; D-SACK blocks (RFC 2883 §4) for data that arrives twice, reported
//! once, ahead of the others. Connections offer 4096 bytes of window, timestamps off (four
//! blocks fit) unless a test says otherwise.

mod common;

use common::*;
use protocols::tcp::{Connection, TcpOption};

/// NOP, NOP, SACK-permitted: what the peer's SYN carries.
const PERMITTED: [u8; 4] = [1, 1, 4, 2];

/// The options every connection here starts from: segments acknowledged at once, no Nagle,
/// no window scaling or timestamps (tests add them).
fn options(extra: &[TcpOption]) -> Vec<TcpOption> {
    let mut o = vec![
        TcpOption::QuickAck(true),
        TcpOption::NoDelay(true),
        TcpOption::InitialWindow(1000),
        TcpOption::WindowScale(false),
        TcpOption::Timestamps(false),
    ];
    o.extend_from_slice(extra);
    o
}

/// ESTABLISHED after a passive open whose SYN permitted SACK.
fn sacking(extra: &[TcpOption]) -> Connection {
    let mut c: Connection = open_passive(
        config(),
        &options(extra),
        peer_syn().options(&PERMITTED),
        0,
        0,
    );
    assert!(c.info().sack_ok, "set-up: SACK negotiated");
    c
}

/// The SACK blocks of `o` (left, right), if it carries the option.
fn blocks(o: &Out) -> Option<Vec<(u32, u32)>> {
    let v = o.option(5)?;
    assert_eq!(v.len() % 8, 0, "whole blocks: {v:?}");
    Some(
        v.chunks(8)
            .map(|b| {
                (
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                    u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                )
            })
            .collect(),
    )
}

/// `n` bytes of the peer's data starting `offset` bytes after its first data byte.
fn data_at(offset: u32, n: usize) -> Seg {
    peer_ack(IRS + 1 + offset, ISS + 1).payload(&data(n))
}

/// `s` arrives; the one ACK it draws.
fn ack_for(c: &mut Connection, s: Seg) -> Out {
    arrive(c, s);
    only(c)
}

/// RFC 2018 §2: our SYN permits SACK (Linux's layout without timestamps: NOP, NOP, sackOK
/// after the MSS).
#[test]
fn our_syn_permits_sack() {
    let mut c = Connection::new(config());
    for o in options(&[]) {
        assert!(c.set_option(o));
    }
    c.connect(LOCAL, REMOTE, 0);
    let syn = only(&mut c);
    assert_eq!(syn.option(4), Some(&[][..]), "sackOK: {:?}", syn.options);
    assert_eq!(syn.option_kinds(), [2, 1, 1, 4]);
}

/// RFC 2018 §2: a SYN that permits SACK is answered in kind, and SACK is on.
#[test]
fn a_peers_permission_is_answered() {
    let mut c = Connection::new(config());
    for o in options(&[]) {
        assert!(c.set_option(o));
    }
    c.listen(LOCAL);
    arrive(&mut c, peer_syn().options(&PERMITTED));
    let syn_ack = only(&mut c);
    assert!(
        syn_ack.option(4).is_some(),
        "sackOK in {:?}",
        syn_ack.options
    );
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1));
    assert!(c.info().sack_ok);
}

/// RFC 2018 §2: SACK-permitted "MUST NOT be sent on non-SYN segments"; without the peer's
/// permission our SYN,ACK does not carry it and out-of-order data draws no blocks.
#[test]
fn without_the_peers_permission_there_are_no_blocks() {
    let mut c: Connection = open_passive(config(), &options(&[]), peer_syn(), 0, 0);
    assert!(!c.info().sack_ok);
    let ack = ack_for(&mut c, data_at(100, 100));
    assert_ack(&ack, ISS + 1, IRS + 1);
    assert_eq!(blocks(&ack), None);
}

/// The per-connection switch: off, neither permitted in our SYN nor accepted from the peer.
#[test]
fn switched_off_it_is_neither_permitted_nor_accepted() {
    let mut c = Connection::new(config());
    for o in options(&[TcpOption::Sack(false)]) {
        assert!(c.set_option(o));
    }
    c.connect(LOCAL, REMOTE, 0);
    assert_eq!(only(&mut c).option(4), None);
    let mut c: Connection = open_passive(
        config(),
        &options(&[TcpOption::Sack(false)]),
        peer_syn().options(&PERMITTED),
        0,
        0,
    );
    assert!(!c.info().sack_ok);
}

/// RFC 2018 §4: data out of order draws an ACK for RCV.NXT with the block it fills.
#[test]
fn out_of_order_data_is_reported_as_a_block() {
    let mut c = sacking(&[]);
    let ack = ack_for(&mut c, data_at(100, 100));
    assert_ack(&ack, ISS + 1, IRS + 1);
    assert_eq!(blocks(&ack), Some(vec![(IRS + 101, IRS + 201)]));
    assert_eq!(ack.option_kinds(), [1, 1, 5], "NOP-aligned");
}

/// RFC 2018 §4: "the first SACK block ... MUST specify the contiguous block of data containing
/// the segment which triggered this ACK"; the others repeat the most recent blocks.
#[test]
fn the_latest_block_comes_first() {
    let mut c = sacking(&[]);
    ack_for(&mut c, data_at(100, 100));
    ack_for(&mut c, data_at(300, 100));
    let ack = ack_for(&mut c, data_at(500, 100));
    assert_eq!(
        blocks(&ack),
        Some(vec![
            (IRS + 501, IRS + 601),
            (IRS + 301, IRS + 401),
            (IRS + 101, IRS + 201)
        ])
    );
    // A segment joining the oldest block moves it to the front, grown.
    let ack = ack_for(&mut c, data_at(200, 50));
    assert_eq!(
        blocks(&ack),
        Some(vec![
            (IRS + 101, IRS + 251),
            (IRS + 501, IRS + 601),
            (IRS + 301, IRS + 401)
        ])
    );
}

/// A segment that bridges two blocks merges them into one.
#[test]
fn a_segment_between_two_blocks_merges_them() {
    let mut c = sacking(&[]);
    ack_for(&mut c, data_at(100, 100));
    ack_for(&mut c, data_at(300, 100));
    let ack = ack_for(&mut c, data_at(200, 100));
    assert_eq!(blocks(&ack), Some(vec![(IRS + 101, IRS + 401)]));
}

/// Filling the gap at RCV.NXT acknowledges everything held; no block is left to report.
#[test]
fn filling_the_gap_ends_the_blocks() {
    let mut c = sacking(&[]);
    ack_for(&mut c, data_at(100, 100));
    let ack = ack_for(&mut c, data_at(0, 100));
    assert_ack(&ack, ISS + 1, IRS + 201);
    assert_eq!(blocks(&ack), None);
    assert_eq!(read_all(&mut c), [data(100), data(100)].concat());
}

/// RCV.NXT passing one block leaves the others reported.
#[test]
fn a_block_below_rcv_nxt_is_no_longer_reported() {
    let mut c = sacking(&[]);
    ack_for(&mut c, data_at(300, 100));
    ack_for(&mut c, data_at(100, 100));
    let ack = ack_for(&mut c, data_at(0, 100));
    assert_ack(&ack, ISS + 1, IRS + 201);
    assert_eq!(blocks(&ack), Some(vec![(IRS + 301, IRS + 401)]));
}

/// RFC 2018 §3: at most four blocks fit (40 bytes of options); the most recent are kept.
#[test]
fn at_most_four_blocks_without_timestamps() {
    let mut c = sacking(&[]);
    for k in 1..=5 {
        ack_for(&mut c, data_at(200 * k, 100));
    }
    let ack = ack_for(&mut c, data_at(1200, 100));
    let b = blocks(&ack).expect("blocks");
    assert_eq!(b.len(), 4);
    assert_eq!(b[0], (IRS + 1201, IRS + 1301));
    assert_eq!(b[1], (IRS + 1001, IRS + 1101));
    assert_eq!(ack.header_len, 20 + 4 + 32);
}

/// RFC 2018 §3: with timestamps (10 bytes plus 2 of padding) only three blocks fit.
#[test]
fn three_blocks_fit_beside_timestamps() {
    let ts = |val: u32| {
        let mut v = vec![1, 1, 8, 10];
        v.extend_from_slice(&val.to_be_bytes());
        v.extend_from_slice(&0u32.to_be_bytes());
        v
    };
    let mut c: Connection = open_passive(
        config(),
        &[
            TcpOption::QuickAck(true),
            TcpOption::NoDelay(true),
            TcpOption::WindowScale(false),
            // The handshake's ACK (`open_passive`'s) carries no timestamps.
            TcpOption::TolerateMissingTimestamps(true),
        ],
        peer_syn().options(&[4, 2]).options(&ts(1)),
        0,
        0,
    );
    assert!(c.info().sack_ok);
    for k in 1..=4 {
        ack_for(&mut c, data_at(200 * k, 100).options(&ts(2)));
    }
    let ack = ack_for(&mut c, data_at(1000, 100).options(&ts(3)));
    assert_eq!(blocks(&ack).map(|b| b.len()), Some(3));
    assert_eq!(
        ack.header_len,
        20 + 12 + 4 + 24,
        "timestamps, then the blocks"
    );
    assert!(ack.option(8).is_some());
}

/// RFC 2883 §4 (1): a segment entirely below RCV.NXT is reported in a D-SACK block — the first
/// block — and only in the ACK it draws.
#[test]
fn an_old_duplicate_is_reported_once_as_a_d_sack_block() {
    let mut c = sacking(&[]);
    ack_for(&mut c, data_at(0, 200));
    let ack = ack_for(&mut c, data_at(0, 100));
    assert_ack(&ack, ISS + 1, IRS + 201);
    assert_eq!(blocks(&ack), Some(vec![(IRS + 1, IRS + 101)]));
    assert_eq!(c.info().dsacks, 1);
    let ack = ack_for(&mut c, data_at(200, 100));
    assert_eq!(blocks(&ack), None, "reported once");
}

/// RFC 2883 §4 (2): a duplicate of data held out of order is reported first, and the block
/// that holds it second.
#[test]
fn a_duplicate_above_rcv_nxt_precedes_its_block() {
    let mut c = sacking(&[]);
    ack_for(&mut c, data_at(300, 100));
    ack_for(&mut c, data_at(100, 200));
    let ack = ack_for(&mut c, data_at(200, 100));
    assert_eq!(
        blocks(&ack),
        Some(vec![(IRS + 201, IRS + 301), (IRS + 101, IRS + 401),])
    );
}

/// RFC 2883 §4.1.1: a segment partly below RCV.NXT reports the duplicated part; the new part
/// is taken.
#[test]
fn a_partial_duplicate_reports_the_old_part() {
    let mut c = sacking(&[]);
    ack_for(&mut c, data_at(0, 100));
    let ack = ack_for(&mut c, data_at(50, 100));
    assert_ack(&ack, ISS + 1, IRS + 151);
    assert_eq!(blocks(&ack), Some(vec![(IRS + 51, IRS + 101)]));
}

/// Data we send while blocks are reported carries them too, and is shorter by the option:
/// a full segment still fits the peer's MSS.
#[test]
fn data_segments_make_room_for_the_blocks() {
    let mut c = sacking(&[]);
    ack_for(&mut c, data_at(100, 100));
    c.send(&data(3000), 0);
    let out = sent(&mut c);
    assert!(out.len() >= 3, "{out:?}");
    for o in &out {
        assert_eq!(blocks(o), Some(vec![(IRS + 101, IRS + 201)]));
        assert!(
            o.payload.len() + o.options.len() <= usize::from(PEER_MSS),
            "{o:?}: data and options within the MSS"
        );
    }
    assert_eq!(out[0].payload.len(), usize::from(PEER_MSS) - 12);
}
