//! The smoltcp interop suite with the JIT-compiled TCP: the same scenarios as
//! `interop_matrix.rs` for the two smoltcp↔Prolac pairings, but every Prolac host runs
//! `protocols::tcp::Jit` — the TCP compiled at run time by the Cranelift back end — instead
//! of the Rust-compiled `Full`: transfers each way and both ways at once, a graceful close
//! begun by either side, a half-close, an abort by either side, zero windows at either
//! receiver (clean and over 5 % loss), and the lossy matrix at 1 %, 5 % and 10 % loss with
//! ordered and crossing closes, 20 seeds per cell. Every check is
//! `exokernel_target::sim::run_transfer`'s (see `interop_matrix.rs`).

mod common;

use common::interop::{
    KIB, MIB, PROLAC_CLIENT_SMOL_SERVER, Role, SMOL_CLIENT_PROLAC_SERVER, abort_by, close_first_by,
    crossing, each_way_and_both_ways, faulty_link, first_by, half_close, lossy_matrix, use_the_jit,
    zero_window_stall,
};
use exokernel_target::sim::{End, StackKind, clean_link};

/// Transfer size of the lossy matrix.
const LOSSY_LEN: usize = 256 * KIB;

/// smoltcp's end in both pairings.
const SMOL: End = End::A;

const PAIRINGS: [common::interop::Pairing; 2] =
    [SMOL_CLIENT_PROLAC_SERVER, PROLAC_CLIENT_SMOL_SERVER];

#[test]
fn transfers_each_way_and_both_ways() {
    use_the_jit();
    each_way_and_both_ways(SMOL_CLIENT_PROLAC_SERVER, 5000, MIB, 1_000_000, true);
    each_way_and_both_ways(PROLAC_CLIENT_SMOL_SERVER, 5010, MIB, 1_000_000, true);
}

#[test]
fn graceful_close_half_close_and_abort_by_either_side() {
    use_the_jit();
    for (i, pairing) in PAIRINGS.into_iter().enumerate() {
        for role in [Role::Client, Role::Server] {
            let seed = 5100 + i as u64;
            println!(
                "{}",
                close_first_by(pairing, role, seed, &clean_link()).summary()
            );
            let out = abort_by(pairing, role, 5300 + i as u64);
            let peer = out.end(pairing.end(role).other());
            if peer.kind == StackKind::Prolac {
                assert!(peer.was_reset(), "{}", out.summary());
            }
        }
    }
    half_close(SMOL_CLIENT_PROLAC_SERVER, Role::Client, 5150, MIB);
    half_close(PROLAC_CLIENT_SMOL_SERVER, Role::Client, 5154, MIB);
}

#[test]
fn zero_windows_at_either_receiver() {
    use_the_jit();
    zero_window_stall(PROLAC_CLIENT_SMOL_SERVER, Role::Server, 5400, &clean_link());
    zero_window_stall(SMOL_CLIENT_PROLAC_SERVER, Role::Server, 5402, &clean_link());
    for seed in common::interop::seeds(5410, 5) {
        zero_window_stall(
            SMOL_CLIENT_PROLAC_SERVER,
            Role::Server,
            seed,
            &faulty_link(0.05),
        );
    }
}

#[test]
fn lossy_matrix_ordered_closes() {
    use_the_jit();
    for (i, loss) in [0.01, 0.05, 0.10].into_iter().enumerate() {
        for (j, pairing) in PAIRINGS.into_iter().enumerate() {
            let base = 5600 + 100 * i as u64 + 50 * j as u64;
            lossy_matrix(pairing, loss, LOSSY_LEN, base, first_by(SMOL));
        }
    }
}

#[test]
fn lossy_matrix_crossing_closes() {
    use_the_jit();
    for (i, loss) in [0.01, 0.05, 0.10].into_iter().enumerate() {
        for (j, pairing) in PAIRINGS.into_iter().enumerate() {
            let base = 5900 + 100 * i as u64 + 50 * j as u64;
            lossy_matrix(pairing, loss, LOSSY_LEN, base, crossing);
        }
    }
}
