//! The smoltcp interop suite with every combination of the modern options (issue 6): window
//! scaling, timestamps and SACK, each on or off on the Prolac side (smoltcp always offers
//! scaling with its 1 MiB buffers and permits SACK; its timestamps follow the combination).
//! For each of the eight combinations, in both roles (Prolac client and Prolac server), 1 MiB
//! goes each way at once over a faulty wire (3 % loss, duplication, reordering, corruption)
//! and is checked byte for byte by the harness, with a graceful close. The wire shows what was
//! negotiated: the options of the Prolac SYN, whether windows are scaled, whether segments
//! carry timestamps, and that SACK blocks are sent exactly when SACK is on.
//!
//! smoltcp 0.12 sizes its segments without counting the timestamps option (`min(peer's MSS,
//! IP MTU − 40)` bytes of data, then 12 bytes of option), so with timestamps on its full
//! segments would exceed the link's MTU; the Prolac side then announces an MSS of 1448
//! (`TcpOption::MaxSegment`, as `TCP_MAXSEG` would), which smoltcp's segments fit.

mod common;

use common::interop::{MIB, faulty_link, run};
use exokernel_target::sim::{End, StackKind, Transfer};
use protocols::tcp::TcpOption;

const SMOL: End = End::A;
const PROLAC: End = End::B;

/// One combination of the three options.
#[derive(Clone, Copy, Debug)]
struct Options {
    scale: bool,
    stamps: bool,
    sack: bool,
}

/// The eight combinations.
fn combinations() -> impl Iterator<Item = Options> {
    (0..8u8).map(|bits| Options {
        scale: bits & 1 != 0,
        stamps: bits & 2 != 0,
        sack: bits & 4 != 0,
    })
}

/// 1 MiB each way between smoltcp (A) and the Prolac TCP (B) with `o`, `client` connecting.
fn transfer(o: Options, client: End, seed: u64) -> Transfer {
    let name = format!(
        "options ws={} ts={} sack={} client={client:?}",
        o.scale, o.stamps, o.sack
    );
    let mut t = Transfer::new(
        &name,
        seed,
        [StackKind::Smoltcp, StackKind::Prolac],
        client,
        [MIB, MIB],
    );
    let options: &'static [TcpOption] = Box::leak(Box::new([
        TcpOption::WindowScale(o.scale),
        TcpOption::Timestamps(o.stamps),
        TcpOption::Sack(o.sack),
        TcpOption::MaxSegment(if o.stamps { 1448 } else { 0 }),
    ]));
    let prolac = &mut t.hosts[PROLAC.index()];
    prolac.prolac.options = options;
    prolac.prolac.receive_capacity = MIB;
    prolac.prolac.send_capacity = MIB;
    let smol = &mut t.hosts[SMOL.index()];
    smol.smol_buffer = MIB;
    smol.smol_timestamps = o.stamps;
    t.link = faulty_link(0.03);
    t.max_us = 120_000_000;
    t
}

fn check(o: Options, client: End, seed: u64) {
    let out = run(transfer(o, client, seed));
    let ours = out.end(PROLAC).flow;
    let theirs = out.end(SMOL).flow;
    let what = format!("{o:?}, client {client:?}, seed {seed}");
    // Our SYN offers what is on (scaling: our 1 MiB buffer needs it; as the server we answer
    // smoltcp's offer).
    assert_eq!(ours.syn_window_scale.is_some(), o.scale, "{what}");
    assert_eq!(ours.syn_timestamps, o.stamps, "{what}");
    assert_eq!(ours.syn_sack_permitted, o.sack, "{what}");
    // smoltcp permits SACK in its SYN, and answers a permission in its SYN,ACK.
    assert_eq!(
        theirs.syn_sack_permitted,
        client == SMOL || o.sack,
        "{what}"
    );
    // Timestamps ride on every later segment when both sides agreed.
    assert_eq!(ours.timestamped_segments > 0, o.stamps, "{what}");
    assert_eq!(theirs.timestamped_segments > 0, o.stamps, "{what}");
    // With 3 % loss some of smoltcp's data arrives out of order: we report it with SACK blocks
    // exactly when SACK is on.
    assert_eq!(ours.sack_segments > 0, o.sack, "{what}: {ours:?}");
    // Scaled windows: with scaling on, the window field of our ACKs is below 65,535 >> 3
    // for a 1 MiB buffer only when scaled (shift 5: at most 32,767).
    if o.scale {
        assert!(
            ours.last_window.is_some_and(|w| w <= 32_768),
            "{what}: {ours:?}"
        );
    }
}

#[test]
fn every_combination_with_a_prolac_server() {
    for (k, o) in combinations().enumerate() {
        check(o, SMOL, 600 + k as u64);
    }
}

#[test]
fn every_combination_with_a_prolac_client() {
    for (k, o) in combinations().enumerate() {
        check(o, PROLAC, 700 + k as u64);
    }
}
