//! The Prolac TCP against itself (end A connects to end B, both on the library-OS stack) on
//! the `exokernel_target::sim` harness: transfers each way and both ways at once, a graceful
//! close begun by either side, a half-close, an abort by either side, a receiver that lets
//! its window close and stay closed, and the lossy matrix.
//!
//! The lossy matrix runs 1 %, 5 % and 10 % loss, each with 2 % duplication, 5 % reordering
//! (frames held back by up to 10 ms) and 1 % corruption (a flipped bit, which the checksums
//! must catch), over 20 seeds per cell, both directions at once, twice: with ordered closes
//! (the client first for even seeds, the server for odd ones; the other side once the FIN
//! has arrived) and with crossing closes (each side once its data is handed over, so the
//! FINs may cross and a side may go through CLOSING). Each transfer is 256 KiB
//! each way: about 180 full segments per direction, enough for tens of losses, reorderings
//! and duplicates per run and for losses of SYNs, FINs and last ACKs across the seeds,
//! while the file stays within seconds of wall time on two cores (virtual time costs
//! nothing; every segment costs a simulation step). 64 MiB transfers are in
//! `interop_large.rs`.
//!
//! Every check is `exokernel_target::sim::run_transfer`'s: every byte delivered intact, in
//! order and exactly once, both connections closed on both ends and forgotten by both
//! hosts, resets only where they belong, and the adapter's counters agreeing with the
//! frames on the wire. `common/interop.rs` lists the environment variables that reproduce a
//! seed and keep its capture.

mod common;

use common::interop::{
    KIB, MIB, PROLAC_PROLAC, Role, abort_by, alternating, close_first_by, crossing,
    each_way_and_both_ways, faulty_link, half_close, lossy_matrix, try_run, zero_window_stall,
};
use exokernel_target::sim::{Transfer, clean_link, lossy_link};

/// Transfer size of the lossy matrix (see the header).
const LOSSY_LEN: usize = 256 * KIB;

#[test]
fn transfers_each_way_and_both_ways() {
    each_way_and_both_ways(PROLAC_PROLAC, 3000, MIB, 1_000_000, true);
}

#[test]
fn graceful_close_begun_by_either_side() {
    for role in [Role::Client, Role::Server] {
        close_first_by(PROLAC_PROLAC, role, 3100, &clean_link());
    }
}

#[test]
fn graceful_close_begun_by_either_side_over_5_percent_loss() {
    for seed in common::interop::seeds(3110, 10) {
        let role = if seed.is_multiple_of(2) {
            Role::Client
        } else {
            Role::Server
        };
        let out = close_first_by(PROLAC_PROLAC, role, seed, &lossy_link(0.05));
        println!("{}", out.summary());
    }
}

#[test]
fn half_close_by_either_side() {
    half_close(PROLAC_PROLAC, Role::Client, 3150, MIB);
    half_close(PROLAC_PROLAC, Role::Server, 3151, MIB);
}

#[test]
fn abort_by_either_side() {
    for role in [Role::Client, Role::Server] {
        let out = abort_by(PROLAC_PROLAC, role, 3200);
        let peer = out.end(PROLAC_PROLAC.end(role).other());
        assert!(peer.was_reset(), "{}", out.summary());
    }
}

#[test]
fn zero_window_at_the_server() {
    zero_window_stall(PROLAC_PROLAC, Role::Server, 3300, &clean_link());
}

#[test]
fn zero_window_at_the_client() {
    zero_window_stall(PROLAC_PROLAC, Role::Client, 3301, &clean_link());
}

#[test]
fn zero_window_over_5_percent_loss() {
    for seed in common::interop::seeds(3310, 10) {
        let role = if seed.is_multiple_of(2) {
            Role::Client
        } else {
            Role::Server
        };
        zero_window_stall(PROLAC_PROLAC, role, seed, &faulty_link(0.05));
    }
}

/// When both sides have a full window in flight, each side's pure ACK carries SEG.SEQ =
/// SND.NXT = RCV.NXT + RCV.WND of the other. RFC 9293's acceptability test for a
/// zero-length segment (RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND) rejects it, and an
/// unacceptable segment is answered with an ACK, which the other side rejects in turn: an
/// ACK war that only a retransmission timeout ends (4.4BSD and Linux accept a zero-length
/// segment at the right window edge). With the TCP before d01420e seed 4015 sent over
/// 10,000 segments each way for 128 KiB; the test keeps the run to a sane count.
#[test]
fn no_ack_war_when_both_windows_are_full() {
    let out = try_run(Transfer {
        link: faulty_link(0.01),
        ending: crossing(4015),
        max_us: 24 * 3_600_000_000,
        ..PROLAC_PROLAC.transfer("ACK war", 4015, 128 * KIB, 128 * KIB)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    for end in &out.ends {
        // About 100 data segments and as many ACKs, with room for retransmissions.
        assert!(end.flow.segments < 2_000, "{}", out.summary());
    }
}

/// After a retransmission timeout a TCP goes back (SND.NXT = SND.UNA) but must still
/// acknowledge with the sequence number of the next new byte: 4.4BSD's `tcp_output` puts
/// SND.MAX, not SND.NXT, in a segment without data, SYN or FIN. The Prolac TCP puts SND.NXT
/// (output.pc `build`). When both sides have gone back, each side's pure ACKs carry a
/// sequence number below the other's RCV.NXT, are unacceptable (§3.10.7.4), are dropped with
/// their acknowledgment unread and answered with an ACK that meets the same fate: neither
/// SND.UNA moves again, the retransmissions are duplicates, and the user timeout ends both
/// connections after 300 s. Seed 4510, 10 % loss (the capture shows A at SEQ 100741 acking
/// 70081 and B at SEQ 67161 acking 105121, each below the other's RCV.NXT, for 180 s).
#[test]
fn pure_acks_after_a_go_back_timeout_are_accepted() {
    try_run(Transfer {
        link: faulty_link(0.10),
        ending: alternating(4510),
        max_us: 24 * 3_600_000_000,
        ..PROLAC_PROLAC.transfer("go-back ACKs", 4510, LOSSY_LEN, LOSSY_LEN)
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

// The lossy matrix with ordered closes.

#[test]
fn lossy_1_percent() {
    lossy_matrix(PROLAC_PROLAC, 0.01, LOSSY_LEN, 4300, alternating);
}

#[test]
fn lossy_5_percent() {
    lossy_matrix(PROLAC_PROLAC, 0.05, LOSSY_LEN, 4400, alternating);
}

#[test]
fn lossy_10_percent() {
    lossy_matrix(PROLAC_PROLAC, 0.10, LOSSY_LEN, 4500, alternating);
}

// The lossy matrix with crossing closes.

#[test]
fn lossy_1_percent_crossing_closes() {
    lossy_matrix(PROLAC_PROLAC, 0.01, LOSSY_LEN, 4000, crossing);
}

#[test]
fn lossy_5_percent_crossing_closes() {
    lossy_matrix(PROLAC_PROLAC, 0.05, LOSSY_LEN, 4100, crossing);
}

#[test]
fn lossy_10_percent_crossing_closes() {
    lossy_matrix(PROLAC_PROLAC, 0.10, LOSSY_LEN, 4200, crossing);
}

/// Aborts by either side and zero windows at either end, over 1 %, 5 % and 10 % loss, 20
/// seeds each.
#[test]
fn aborts_and_zero_windows_over_every_loss_rate() {
    for (i, loss) in [0.01, 0.05, 0.10].into_iter().enumerate() {
        for seed in common::interop::seeds(8000 + 100 * i as u64, 20) {
            let role = if seed.is_multiple_of(2) {
                Role::Client
            } else {
                Role::Server
            };
            let out = common::interop::abort_by_over(PROLAC_PROLAC, role, seed, &faulty_link(loss));
            println!("{}", out.summary());
            zero_window_stall(PROLAC_PROLAC, role, seed, &faulty_link(loss));
        }
    }
}

/// The TCP's segmentation offload on both ends (segments of up to 16 wire segments, cut in
/// software by the stack as it hands frames to the wire): 1 MiB each way at once over a
/// clean link and, for 20 seeds, over 5 % loss with duplication and reordering (SACK blocks
/// and D-SACKs in the large segments' headers), every check of the harness as for any
/// transfer; the wire sees only MTU-sized frames, and the adapter counts what it sees.
#[test]
fn segmentation_offload_each_way_clean_and_lossy() {
    let runs = std::iter::once((3900, clean_link()))
        .chain(common::interop::seeds(3901, 20).map(|seed| (seed, lossy_link(0.05))));
    segmented_transfers("segmentation offload", runs, false);
}

/// Data handed over without a copy (`prolac_send_shared`: the send queue holds the
/// application's buffers, the segments' checksums come from their tables) on both ends, with
/// segmentation offload (pieces that start and end anywhere in a buffer and span several):
/// 1 MiB each way at once over a clean link and, for 10 seeds, over 5 % loss with
/// duplication, reordering and corruption (retransmissions copy from the shared buffers
/// again; a wrong sum would be dropped by the receiver's checksum check and stall the run),
/// every check of the harness as for any transfer. The large segments carry shared data by
/// reference and the wire's device gathers it: most of the data over the clean link goes
/// without any copy.
#[test]
fn shared_sends_each_way_clean_and_lossy() {
    let runs = std::iter::once((3950, clean_link()))
        .chain(common::interop::seeds(3951, 10).map(|seed| (seed, faulty_link(0.05))));
    segmented_transfers("shared sends", runs, true);
}

/// 1 MiB each way at once for each (seed, link) of `runs`, both ends with segmentation
/// offload (up to 16 wire segments) and 256 KiB buffers, handing their data over with
/// `prolac_send_shared` if `shared`.
fn segmented_transfers(
    name: &'static str,
    runs: impl Iterator<Item = (u64, exokernel_target::wire::LinkConfig)>,
    shared: bool,
) {
    for (seed, link) in runs {
        let mut t = Transfer::new(
            name,
            seed,
            PROLAC_PROLAC.kinds,
            PROLAC_PROLAC.client,
            [MIB, MIB],
        );
        for host in &mut t.hosts {
            host.prolac_shared_send = shared;
            host.prolac.segmentation = 16;
            host.prolac.send_capacity = 256 * KIB;
            host.prolac.receive_capacity = 256 * KIB;
        }
        // Over a faulty link the window stays small: fewer large segments, more copies.
        let least = if link.loss == 0.0 { 0.5 } else { 0.1 };
        t.link = link;
        let out = try_run(t).unwrap_or_else(|e| panic!("{e}"));
        println!("{}", out.summary());
        // Shared data goes without a copy: the large segments carry it by reference, the
        // wire's device gathers it. Copied data never does.
        for end in &out.ends {
            let stats = end.prolac_stats.as_ref().expect("a Prolac end");
            if shared {
                assert!(
                    stats.gathered_bytes_out as f64 > least * stats.data_bytes_out as f64,
                    "{name} seed {seed}: {} of {} bytes gathered",
                    stats.gathered_bytes_out,
                    stats.data_bytes_out
                );
            } else {
                assert_eq!(stats.gathered_bytes_out, 0, "{name} seed {seed}");
            }
        }
    }
}
