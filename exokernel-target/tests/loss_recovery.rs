//! The loss-recovery experiment (`sim::run_recovery`) at test size: 8 MiB Prolac ↔ Prolac with
//! 1 MiB buffers over a wire losing 5 % of its frames (and duplicating 1 %, holding back 2 % by
//! up to 5 ms so that later frames overtake them), three seeds. Every transfer must arrive intact (the harness
//! checks each byte); with SACK (RFC 2018, RFC 6675) the sender must send fewer bytes again
//! than with NewReno alone, over the three seeds. CUBIC (the `Cubic` variant) must do as well as the
//! default. The 64 MiB figures are `cargo bench -p exokernel-target --bench loss_recovery`'s.

mod common;

use common::interop::MIB;
use exokernel_target::sim::{Recovery, RecoveryOutcome, lossy_link, run_recovery};
use protocols::tcp::{Cubic, Full, TcpOption, Variant};

const SACK: &[TcpOption] = &[TcpOption::NoDelay(true)];
const NO_SACK: &[TcpOption] = &[TcpOption::NoDelay(true), TcpOption::Sack(false)];

fn run<V: Variant>(seed: u64, options: &'static [TcpOption]) -> RecoveryOutcome {
    let r = Recovery {
        bytes: 8 * MIB,
        seed,
        link: lossy_link(0.05),
        options,
        buffer: MIB,
        max_us: 600_000_000,
    };
    let out = run_recovery::<V>(&r).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "without [{}] {options:?} seed {seed}: {} B sent again in {} segments, done at {:.2} s \
         ({:.1} Mbit/s), {} frames lost",
        V::WITHOUT,
        out.sender.retransmitted_bytes,
        out.sender.retransmitted_segments,
        out.done_us as f64 / 1e6,
        out.goodput_mbit(r.bytes),
        out.frames_lost
    );
    out
}

#[test]
fn sack_sends_fewer_bytes_again_than_newreno() {
    let (mut sack, mut newreno) = (0, 0);
    for seed in 1..=3 {
        sack += run::<Full>(seed, SACK).sender.retransmitted_bytes;
        newreno += run::<Full>(seed, NO_SACK).sender.retransmitted_bytes;
    }
    println!("over three seeds: SACK {sack} B, NewReno alone {newreno} B");
    assert!(sack < newreno, "SACK {sack} B, NewReno {newreno} B");
}

#[test]
fn cubic_transfers_intact_under_loss() {
    for seed in 1..=3 {
        let out = run::<Cubic>(seed, SACK);
        assert!(
            out.sender.retransmitted_segments > 0,
            "the wire lost frames"
        );
    }
}
