//! The Prolac TCP against smoltcp in both roles (Prolac client with a smoltcp server, smoltcp
//! client with a Prolac server), and smoltcp against itself as the harness's control, on the
//! `exokernel_target::sim` harness: transfers each way and both ways at once, a graceful
//! close begun by either side, an abort by either side, a receiver that lets its window
//! close and stay closed, and the lossy matrix.
//!
//! The lossy matrix runs 1 %, 5 % and 10 % loss, each with 2 % duplication, 5 % reordering
//! (frames held back by up to 10 ms) and 1 % corruption (a flipped bit, which the checksums
//! must catch), over 20 seeds per cell, both directions at once, in each pairing, twice:
//! with ordered closes (smoltcp closes first, the Prolac side once the FIN has arrived) and
//! with crossing closes (each side closes once its data is handed over, so the FINs may
//! cross and a side may go through CLOSING). Each transfer is 256 KiB each way: about 180
//! full segments per direction, enough for tens of losses, reorderings and duplicates per
//! run and for losses of SYNs, FINs and last ACKs across the seeds, while the whole file
//! stays within seconds of wall time on two cores (virtual time costs nothing; every
//! segment costs a simulation step). The clean transfers are 1 MiB; the 64 MiB ones are in
//! `interop_large.rs`, Prolac↔Prolac in `interop_prolac_prolac.rs`.
//!
//! Ordered closes have smoltcp close first because smoltcp 0.12 loses its retransmission
//! timer in CLOSE-WAIT, CLOSING and LAST-ACK (any ACK that does not acknowledge its FIN sets
//! the idle timer), so a lost last segment of a smoltcp that closes second is never sent
//! again; that is smoltcp's bug, and the smoltcp↔smoltcp control below shows it.
//!
//! Every check is `exokernel_target::sim::run_transfer`'s: every byte delivered intact, in
//! order and exactly once, both connections closed on both ends and forgotten by both
//! hosts, resets only where they belong. `common/interop.rs` lists the environment
//! variables that reproduce a seed and keep its capture.

mod common;

use common::interop::{
    KIB, MIB, PROLAC_CLIENT_SMOL_SERVER, Role, SMOL_CLIENT_PROLAC_SERVER, SMOL_SMOL, abort_by,
    close_first_by, crossing, each_way_and_both_ways, faulty_link, first_by, half_close,
    lossy_matrix, run, zero_window_stall,
};
use exokernel_target::sim::{End, Ending, StackKind, Transfer, clean_link, lossy_link};

/// Transfer size of the lossy matrix (see the header).
const LOSSY_LEN: usize = 256 * KIB;

/// smoltcp's end in both smoltcp↔Prolac pairings.
const SMOL: End = End::A;

#[test]
fn smoltcp_client_prolac_server_each_way_and_both_ways() {
    each_way_and_both_ways(SMOL_CLIENT_PROLAC_SERVER, 1000, MIB, 1_000_000, true);
}

#[test]
fn prolac_client_smoltcp_server_each_way_and_both_ways() {
    each_way_and_both_ways(PROLAC_CLIENT_SMOL_SERVER, 1010, MIB, 1_000_000, true);
}

#[test]
fn smoltcp_smoltcp_each_way_and_both_ways() {
    each_way_and_both_ways(SMOL_SMOL, 1020, MIB, 1_000_000, true);
}

#[test]
fn graceful_close_begun_by_either_side() {
    for (i, pairing) in [
        SMOL_CLIENT_PROLAC_SERVER,
        PROLAC_CLIENT_SMOL_SERVER,
        SMOL_SMOL,
    ]
    .into_iter()
    .enumerate()
    {
        for role in [Role::Client, Role::Server] {
            let out = close_first_by(pairing, role, 1100 + i as u64, &clean_link());
            println!("{}", out.summary());
        }
    }
}

/// Over loss the Prolac side closes first (a smoltcp that closes second may hang in
/// LAST-ACK; see the header); either role.
#[test]
fn graceful_close_begun_by_the_prolac_side_over_5_percent_loss() {
    for pairing in [SMOL_CLIENT_PROLAC_SERVER, PROLAC_CLIENT_SMOL_SERVER] {
        let role = if pairing.kind(Role::Client) == StackKind::Prolac {
            Role::Client
        } else {
            Role::Server
        };
        for seed in common::interop::seeds(1200, 10) {
            let out = close_first_by(pairing, role, seed, &lossy_link(0.05));
            println!("{}", out.summary());
        }
    }
}

/// smoltcp closes at once, with nothing to send, and the Prolac side sends 1 MiB in
/// CLOSE-WAIT.
#[test]
fn half_close_by_smoltcp() {
    half_close(SMOL_CLIENT_PROLAC_SERVER, Role::Client, 1150, MIB);
    half_close(PROLAC_CLIENT_SMOL_SERVER, Role::Server, 1151, MIB);
    half_close(SMOL_SMOL, Role::Client, 1152, MIB);
}

/// The Prolac side closes at once, with nothing to send, and smoltcp sends 1 MiB after the
/// FIN.
#[test]
fn half_close_by_the_prolac_side() {
    half_close(SMOL_CLIENT_PROLAC_SERVER, Role::Server, 1153, MIB);
    half_close(PROLAC_CLIENT_SMOL_SERVER, Role::Client, 1154, MIB);
}

/// The Prolac client queues 64 KiB and closes at once; the smoltcp server, with nothing to
/// send, closes at once too, so its FIN arrives while the data is still going out and the
/// Prolac connection enters CLOSING with data queued. RFC 9293 keeps sending in CLOSING
/// what was queued before CLOSE, and the FIN after it.
#[test]
fn prolac_sends_data_queued_before_close_while_closing() {
    run(Transfer {
        ending: Ending::CloseEagerly,
        ..PROLAC_CLIENT_SMOL_SERVER.transfer("CLOSING with data queued", 1500, 64 * KIB, 0)
    });
}

#[test]
fn abort_by_either_side() {
    for (i, pairing) in [
        SMOL_CLIENT_PROLAC_SERVER,
        PROLAC_CLIENT_SMOL_SERVER,
        SMOL_SMOL,
    ]
    .into_iter()
    .enumerate()
    {
        for role in [Role::Client, Role::Server] {
            let out = abort_by(pairing, role, 1300 + i as u64);
            // A Prolac peer reports the reset.
            let peer = out.end(pairing.end(role).other());
            if peer.kind == StackKind::Prolac {
                assert!(peer.was_reset(), "{}", out.summary());
            }
        }
    }
}

#[test]
fn zero_window_at_a_smoltcp_receiver_prolac_client_sending() {
    zero_window_stall(PROLAC_CLIENT_SMOL_SERVER, Role::Server, 1400, &clean_link());
}

#[test]
fn zero_window_at_a_smoltcp_receiver_prolac_server_sending() {
    zero_window_stall(SMOL_CLIENT_PROLAC_SERVER, Role::Client, 1401, &clean_link());
}

#[test]
fn zero_window_at_a_smoltcp_receiver_over_5_percent_loss() {
    for seed in common::interop::seeds(1410, 10) {
        zero_window_stall(
            PROLAC_CLIENT_SMOL_SERVER,
            Role::Server,
            seed,
            &faulty_link(0.05),
        );
    }
}

#[test]
fn zero_window_at_a_prolac_receiver_smoltcp_client_sending() {
    zero_window_stall(SMOL_CLIENT_PROLAC_SERVER, Role::Server, 1402, &clean_link());
}

#[test]
fn zero_window_at_a_prolac_receiver_smoltcp_server_sending() {
    zero_window_stall(PROLAC_CLIENT_SMOL_SERVER, Role::Client, 1403, &clean_link());
}

#[test]
fn zero_window_at_a_prolac_receiver_over_5_percent_loss() {
    for seed in common::interop::seeds(1420, 10) {
        zero_window_stall(
            SMOL_CLIENT_PROLAC_SERVER,
            Role::Server,
            seed,
            &faulty_link(0.05),
        );
    }
}

#[test]
fn smoltcp_smoltcp_zero_window() {
    zero_window_stall(SMOL_SMOL, Role::Server, 1430, &clean_link());
}

// The lossy matrix with ordered closes (smoltcp first).

#[test]
fn lossy_1_percent_smoltcp_client_prolac_server() {
    lossy_matrix(
        SMOL_CLIENT_PROLAC_SERVER,
        0.01,
        LOSSY_LEN,
        2600,
        first_by(SMOL),
    );
}

#[test]
fn lossy_5_percent_smoltcp_client_prolac_server() {
    lossy_matrix(
        SMOL_CLIENT_PROLAC_SERVER,
        0.05,
        LOSSY_LEN,
        2700,
        first_by(SMOL),
    );
}

#[test]
fn lossy_10_percent_smoltcp_client_prolac_server() {
    lossy_matrix(
        SMOL_CLIENT_PROLAC_SERVER,
        0.10,
        LOSSY_LEN,
        2800,
        first_by(SMOL),
    );
}

#[test]
fn lossy_1_percent_prolac_client_smoltcp_server() {
    lossy_matrix(
        PROLAC_CLIENT_SMOL_SERVER,
        0.01,
        LOSSY_LEN,
        2900,
        first_by(SMOL),
    );
}

#[test]
fn lossy_5_percent_prolac_client_smoltcp_server() {
    lossy_matrix(
        PROLAC_CLIENT_SMOL_SERVER,
        0.05,
        LOSSY_LEN,
        3000,
        first_by(SMOL),
    );
}

#[test]
fn lossy_10_percent_prolac_client_smoltcp_server() {
    lossy_matrix(
        PROLAC_CLIENT_SMOL_SERVER,
        0.10,
        LOSSY_LEN,
        3100,
        first_by(SMOL),
    );
}

// The lossy matrix with crossing closes.

#[test]
fn lossy_1_percent_crossing_closes_smoltcp_client_prolac_server() {
    lossy_matrix(SMOL_CLIENT_PROLAC_SERVER, 0.01, LOSSY_LEN, 2000, crossing);
}

#[test]
fn lossy_5_percent_crossing_closes_smoltcp_client_prolac_server() {
    lossy_matrix(SMOL_CLIENT_PROLAC_SERVER, 0.05, LOSSY_LEN, 2100, crossing);
}

#[test]
fn lossy_10_percent_crossing_closes_smoltcp_client_prolac_server() {
    lossy_matrix(SMOL_CLIENT_PROLAC_SERVER, 0.10, LOSSY_LEN, 2200, crossing);
}

#[test]
fn lossy_1_percent_crossing_closes_prolac_client_smoltcp_server() {
    lossy_matrix(PROLAC_CLIENT_SMOL_SERVER, 0.01, LOSSY_LEN, 2300, crossing);
}

#[test]
fn lossy_5_percent_crossing_closes_prolac_client_smoltcp_server() {
    lossy_matrix(PROLAC_CLIENT_SMOL_SERVER, 0.05, LOSSY_LEN, 2400, crossing);
}

#[test]
fn lossy_10_percent_crossing_closes_prolac_client_smoltcp_server() {
    lossy_matrix(PROLAC_CLIENT_SMOL_SERVER, 0.10, LOSSY_LEN, 2500, crossing);
}

/// The control: smoltcp against itself, the client closing first.
#[test]
#[ignore = "smoltcp 0.12 bug: in CLOSE-WAIT, CLOSING and LAST-ACK any ACK that does not \
            acknowledge its FIN replaces the retransmission timer by the idle timer, so a lost \
            FIN (or last data) is never sent again: seeds 2600 and 2613 hang with one side in \
            LAST-ACK and the other in FIN-WAIT-2 (with crossing closes, at 128 KiB, 18 of 20 \
            seeds hung in CLOSING, where the move from FIN-WAIT-1 does the same)"]
fn lossy_5_percent_smoltcp_smoltcp() {
    lossy_matrix(SMOL_SMOL, 0.05, LOSSY_LEN, 2600, first_by(End::A));
}

// Aborts and zero windows over every loss rate of the matrix, 20 seeds each; the side that
// aborts, or whose window closes, alternates with the seed.

/// An abort by either side, Prolac against smoltcp in both roles, over `loss`.
fn aborts_over(loss: f64, base: u64) {
    for seed in common::interop::seeds(base, 20) {
        let role = if seed.is_multiple_of(2) {
            Role::Client
        } else {
            Role::Server
        };
        let pairing = if seed % 4 < 2 {
            PROLAC_CLIENT_SMOL_SERVER
        } else {
            SMOL_CLIENT_PROLAC_SERVER
        };
        let out = common::interop::abort_by_over(pairing, role, seed, &faulty_link(loss));
        println!("{}", out.summary());
    }
}

#[test]
fn aborts_over_1_percent_loss() {
    aborts_over(0.01, 7000);
}

#[test]
fn aborts_over_5_percent_loss() {
    aborts_over(0.05, 7100);
}

#[test]
fn aborts_over_10_percent_loss() {
    aborts_over(0.10, 7200);
}

/// A receiver that lets its window close for a second, Prolac or smoltcp, over `loss`.
fn zero_windows_over(loss: f64, base: u64) {
    for seed in common::interop::seeds(base, 20) {
        let (pairing, receiver) = match seed % 4 {
            0 => (PROLAC_CLIENT_SMOL_SERVER, Role::Server),
            1 => (SMOL_CLIENT_PROLAC_SERVER, Role::Server),
            2 => (PROLAC_CLIENT_SMOL_SERVER, Role::Client),
            _ => (SMOL_CLIENT_PROLAC_SERVER, Role::Client),
        };
        zero_window_stall(pairing, receiver, seed, &faulty_link(loss));
    }
}

#[test]
fn zero_windows_over_1_percent_loss() {
    zero_windows_over(0.01, 7300);
}

#[test]
fn zero_windows_over_10_percent_loss() {
    zero_windows_over(0.10, 7400);
}
