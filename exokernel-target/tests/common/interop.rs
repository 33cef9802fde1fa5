//! Helpers of the TCP interop tests (over `exokernel_target::sim`): seeds from the
//! environment, transfers run with the capture of a failure kept, sweeps over seeds that
//! run every seed and list the failures, and the faulty links of the lossy matrix.
//!
//! Environment: `PROLAC_INTEROP_SEED=n` runs only seed `n` of every sweep (to reproduce a
//! failure), `PROLAC_INTEROP_SEEDS=k` runs `k` seeds instead of the default count, and
//! `INTEROP_PCAP_DIR=dir` records every transfer and keeps the capture of a failed one as
//! `dir/<scenario>-<seed>.pcap`.

use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use exokernel_target::netstack::NetStack;
use exokernel_target::prolac_tcp::ProlacTcp;
use exokernel_target::sim::{
    End, Ending, Outcome, Reader, Sim, SimConfig, SmolHost, StackKind, Transfer, TransferError,
    run_transfer,
};
use exokernel_target::wire::LinkConfig;
use protocols::tcp::State;

pub const KIB: usize = 1024;
pub const MIB: usize = 1024 * 1024;

/// The seeds of a sweep: `count` from `base` on, or as the environment says.
pub fn seeds(base: u64, count: u64) -> Range<u64> {
    let var = |name| std::env::var(name).ok().and_then(|n| n.parse::<u64>().ok());
    match (var("PROLAC_INTEROP_SEED"), var("PROLAC_INTEROP_SEEDS")) {
        (Some(seed), _) => seed..seed + 1,
        (None, n) => base..base + n.unwrap_or(count),
    }
}

/// Where the capture of a failed run `name`/`seed` is kept, if asked.
pub fn capture_path(name: &str, seed: u64) -> Option<PathBuf> {
    let dir = std::env::var_os("INTEROP_PCAP_DIR")?;
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Some(PathBuf::from(dir).join(format!("{name}-{seed}.pcap")))
}

/// Runs `t` (recorded if captures are asked for); keeps the capture of a failure.
pub fn try_run(mut t: Transfer) -> Result<Outcome, TransferError> {
    t.record |= std::env::var_os("INTEROP_PCAP_DIR").is_some();
    let result = if JIT.load(std::sync::atomic::Ordering::Relaxed) {
        exokernel_target::sim::run_transfer_with::<protocols::tcp::Jit>(&t)
    } else {
        run_transfer(&t)
    };
    result.inspect_err(|e| {
        if let (Some(path), Some(pcap)) = (capture_path(&e.scenario, e.seed), &e.pcap) {
            std::fs::write(&path, pcap).expect("capture written");
            eprintln!("capture of the failed run: {}", path.display());
        }
    })
}

/// Whether [`try_run`] runs the Prolac hosts on the JIT-compiled TCP (`protocols::tcp::Jit`)
/// instead of the Rust-compiled one; set by [`use_the_jit`], for a whole test binary.
static JIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on, this test binary's transfers run the Prolac hosts on the JIT-compiled TCP
/// (compiled here if it is not yet).
pub fn use_the_jit() {
    if let Err(e) = protocols::tcp::Jit::load() {
        panic!("the JIT-compiled TCP does not load: {e}");
    }
    JIT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Runs `t` and prints its summary; panics with the failure.
pub fn run(t: Transfer) -> Outcome {
    match try_run(t) {
        Ok(out) => {
            println!("{}", out.summary());
            out
        }
        Err(e) => panic!("{e}"),
    }
}

/// Runs `make(seed)` for every seed and `check` on each outcome; every seed runs, and the
/// failures (each with its seed and message) are listed at the end. Returns the outcomes.
pub fn sweep(
    name: &str,
    seeds: Range<u64>,
    make: impl Fn(u64) -> Transfer,
    check: impl Fn(&Outcome),
) -> Vec<Outcome> {
    let count = seeds.end - seeds.start;
    let mut outcomes = Vec::new();
    let mut failed = Vec::new();
    for seed in seeds {
        match try_run(make(seed)) {
            Ok(mut out) => {
                println!("{}", out.summary());
                match std::panic::catch_unwind(AssertUnwindSafe(|| check(&out))) {
                    Ok(()) => {
                        out.pcap = None;
                        outcomes.push(out);
                    }
                    Err(_) => failed.push(format!("seed {seed}: check failed (see above)")),
                }
            }
            Err(e) => {
                eprintln!("FAILED: {e}");
                failed.push(e.to_string());
            }
        }
    }
    let mut closed: Vec<u64> = outcomes.iter().map(|o| o.closed_at_us).collect();
    closed.sort_unstable();
    let rexmits: u64 = outcomes.iter().map(Outcome::retransmitted_segments).sum();
    if let (Some(median), Some(max)) = (closed.get(closed.len() / 2), closed.last()) {
        println!(
            "{name}: {} of {count} seeds passed, {rexmits} retransmissions, closed after \
             {:.1} s (median), {:.1} s (max)",
            closed.len(),
            *median as f64 / 1e6,
            *max as f64 / 1e6
        );
    }
    assert!(
        failed.is_empty(),
        "{name}: {} of {count} seeds failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    outcomes
}

/// The lossy matrix's link: `loss`, and 2 % duplicated, 5 % held back by up to 10 ms, 1 %
/// with a flipped bit (which the checksums must catch), on a 1 ms, 100 Mbit/s link.
pub fn faulty_link(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        duplicate: 0.02,
        reorder: 0.05,
        reorder_extra_max_us: 10_000,
        corrupt: 0.01,
        ..exokernel_target::sim::clean_link()
    }
}

/// Two hosts of `kinds` on a wire of `link`; the capture is kept if the test fails and
/// captures are asked for.
pub fn sim(name: &str, seed: u64, kinds: [StackKind; 2], link: LinkConfig) -> Sim {
    let mut config = SimConfig::new(seed, kinds, link);
    if let Some(path) = capture_path(name, seed) {
        config.on_panic_capture = Some(Box::new(move |pcap| {
            if std::fs::write(&path, pcap).is_ok() {
                eprintln!("capture of the failed run: {}", path.display());
            }
        }));
    }
    Sim::new(config).expect("valid simulation")
}

/// The smoltcp host on `end`.
pub fn smol(sim: &mut Sim, end: End) -> &mut SmolHost {
    sim.host_mut(end).smol_mut().expect("a smoltcp host")
}

/// The Prolac host's stack on `end`.
pub fn prolac(sim: &mut Sim, end: End) -> &mut NetStack<ProlacTcp> {
    sim.host_mut(end).prolac_stack_mut().expect("a Prolac host")
}

/// Which TCP runs on each end, and which end connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pairing {
    pub name: &'static str,
    pub kinds: [StackKind; 2],
    pub client: End,
}

/// smoltcp (A) connects to a Prolac server (B).
pub const SMOL_CLIENT_PROLAC_SERVER: Pairing = Pairing {
    name: "smoltcp client, Prolac server",
    kinds: [StackKind::Smoltcp, StackKind::Prolac],
    client: End::A,
};

/// The Prolac TCP (B) connects to a smoltcp server (A).
pub const PROLAC_CLIENT_SMOL_SERVER: Pairing = Pairing {
    name: "Prolac client, smoltcp server",
    kinds: [StackKind::Smoltcp, StackKind::Prolac],
    client: End::B,
};

/// The Prolac TCP on both ends (A connects).
pub const PROLAC_PROLAC: Pairing = Pairing {
    name: "Prolac client, Prolac server",
    kinds: [StackKind::Prolac, StackKind::Prolac],
    client: End::A,
};

/// smoltcp on both ends (A connects): the harness's control.
pub const SMOL_SMOL: Pairing = Pairing {
    name: "smoltcp client, smoltcp server",
    kinds: [StackKind::Smoltcp, StackKind::Smoltcp],
    client: End::A,
};

/// One side of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

impl Pairing {
    /// The end playing `role`.
    pub fn end(&self, role: Role) -> End {
        match role {
            Role::Client => self.client,
            Role::Server => self.client.other(),
        }
    }

    /// The TCP playing `role`.
    pub fn kind(&self, role: Role) -> StackKind {
        self.kinds[self.end(role).index()]
    }

    /// A transfer in which the client sends `client_sends` bytes and the server
    /// `server_sends`, on a clean link.
    pub fn transfer(
        &self,
        what: &str,
        seed: u64,
        client_sends: usize,
        server_sends: usize,
    ) -> Transfer {
        let mut sends = [0; 2];
        sends[self.end(Role::Client).index()] = client_sends;
        sends[self.end(Role::Server).index()] = server_sends;
        Transfer::new(
            format!("{what} ({})", self.name),
            seed,
            self.kinds,
            self.client,
            sends,
        )
    }
}

/// `len` bytes from the client, from the server, and both ways at once, on a clean link:
/// each must arrive within `max_us_per_mib` per MiB of virtual time (the 100 Mbit/s link
/// carries 1 MiB in 84 ms), and without a single retransmission by a Prolac sender (and by a
/// smoltcp sender too if `smoltcp_never_retransmits`).
pub fn each_way_and_both_ways(
    pairing: Pairing,
    seed: u64,
    len: usize,
    max_us_per_mib: u64,
    smoltcp_never_retransmits: bool,
) {
    for (i, (c, s)) in [(len, 0), (0, len), (len, len)].into_iter().enumerate() {
        let mut t = pairing.transfer("clean", seed + i as u64, c, s);
        t.max_iterations = 100 * len as u64 / 1000 + MAX_ITERATIONS_BASE;
        let out = run(t);
        for end in &out.ends {
            if end.kind == StackKind::Prolac || smoltcp_never_retransmits {
                assert_eq!(
                    end.flow.retransmitted_segments,
                    0,
                    "{} retransmitted: {}",
                    end.end,
                    out.summary()
                );
            }
        }
        let mib = (len as u64).div_ceil(MIB as u64);
        assert!(
            out.closed_at_us < mib * max_us_per_mib,
            "too slow: {}",
            out.summary()
        );
    }
}

/// The iteration bound of a transfer before its size is added.
const MAX_ITERATIONS_BASE: u64 = 3_000_000;

/// `role` closes first after 256 KiB each way over `link`: it goes through TIME-WAIT, the
/// other side through CLOSE-WAIT and LAST-ACK (the harness checks the states).
pub fn close_first_by(pairing: Pairing, role: Role, seed: u64, link: &LinkConfig) -> Outcome {
    let t = Transfer {
        ending: Ending::Close {
            first: Some(pairing.end(role)),
        },
        link: link.clone(),
        max_us: 4 * 3_600_000_000,
        ..pairing.transfer(
            &format!("{role:?} closes first"),
            seed,
            256 * KIB,
            256 * KIB,
        )
    };
    let out = try_run(t).unwrap_or_else(|e| panic!("{e}"));
    let passive = out.end(pairing.end(role).other());
    assert!(
        passive.was_in(State::CloseWait),
        "{}: {}",
        out.summary(),
        passive.state_path()
    );
    out
}

/// A half-close by `silent`: it sends nothing and closes at once, and receives `len` bytes
/// after its FIN, which the other side sends before closing in turn.
pub fn half_close(pairing: Pairing, silent: Role, seed: u64, len: usize) {
    let (c, s) = match silent {
        Role::Client => (0, len),
        Role::Server => (len, 0),
    };
    let out = run(Transfer {
        ending: Ending::CloseEagerly,
        ..pairing.transfer(&format!("half-close by the {silent:?}"), seed, c, s)
    });
    let closer = out.end(pairing.end(silent));
    assert!(
        closer.was_in(State::FinWait2) || closer.was_in(State::TimeWait),
        "{}",
        closer.state_path()
    );
}

/// `role` aborts after receiving 100 KiB of a 1 MiB both-ways transfer on a clean link: the
/// peer is reset, what each side received is an intact beginning of what the other sent
/// (the harness checks both), and nothing closes gracefully.
pub fn abort_by(pairing: Pairing, role: Role, seed: u64) -> Outcome {
    abort_by_over(pairing, role, seed, &exokernel_target::sim::clean_link())
}

/// [`abort_by`] over `link`.
pub fn abort_by_over(pairing: Pairing, role: Role, seed: u64, link: &LinkConfig) -> Outcome {
    let t = Transfer {
        ending: Ending::Abort {
            by: pairing.end(role),
            after_received: 100 * KIB,
        },
        link: link.clone(),
        max_us: 4 * 3_600_000_000,
        ..pairing.transfer(&format!("{role:?} aborts"), seed, MIB, MIB)
    };
    let out = run(t);
    let aborter = out.end(pairing.end(role));
    let peer = out.end(pairing.end(role).other());
    assert!(aborter.received >= 100 * KIB, "{}", out.summary());
    // On a clean link the abort cuts the transfer short; over a lossy one the aborter may
    // have sent everything before it has received enough to abort.
    if link.loss == 0.0 {
        assert!(peer.received < MIB, "{}", out.summary());
    }
    assert!(aborter.aborted_at_us.is_some());
    assert!(peer.states.contains(&Some(State::Closed)) || peer.states.last() == Some(&None));
    out
}

/// `receiver` stops reading a 1 MiB transfer until its window has been zero for 1 s, then
/// reads everything; the transfer must finish.
pub fn zero_window_stall(pairing: Pairing, receiver: Role, seed: u64, link: &LinkConfig) {
    let (c, s) = match receiver {
        Role::Client => (0, MIB),
        Role::Server => (MIB, 0),
    };
    let end = pairing.end(receiver);
    let mut t = Transfer {
        link: link.clone(),
        max_us: 4 * 3_600_000_000,
        ..pairing.transfer(&format!("zero window at the {receiver:?}"), seed, c, s)
    };
    t.readers[end.index()] = Reader::StallUntilZeroWindow { hold_us: 1_000_000 };
    let out = try_run(t).unwrap_or_else(|e| panic!("{e}"));
    println!("{}", out.summary());
    let r = out.end(end);
    let stall = r.stall.expect("the receiver stalled");
    assert!(r.flow.zero_window_adverts > 0, "{}", out.summary());
    assert!(stall.resumed_at_us >= stall.zero_window_since_us + 1_000_000);
    println!(
        "window zero from {:.3} s, reading again at {:.3} s, done at {:.3} s",
        stall.zero_window_since_us as f64 / 1e6,
        stall.resumed_at_us as f64 / 1e6,
        out.closed_at_us as f64 / 1e6
    );
}

/// The lossy matrix: over [`faulty_link`] with `loss`, `len` bytes each way at once,
/// 20 seeds from `base` (who connects as the pairing says), ending as `ending(seed)` says.
pub fn lossy_matrix(
    pairing: Pairing,
    loss: f64,
    len: usize,
    base: u64,
    ending: impl Fn(u64) -> Ending,
) {
    let closes = match ending(base) {
        Ending::Close { first: None } => "crossing closes",
        _ => "ordered closes",
    };
    let name = format!("{} at {} % loss, {closes}", pairing.name, loss * 100.0);
    let outcomes = sweep(
        &name,
        seeds(base, 20),
        |seed| Transfer {
            ending: ending(seed),
            link: faulty_link(loss),
            max_us: 24 * 3_600_000_000,
            ..pairing.transfer(
                &format!("{} % loss, {closes}", loss * 100.0),
                seed,
                len,
                len,
            )
        },
        |_| {},
    );
    // The faults happened (at 1 % a run may well lose nothing; the seeds together do).
    let lost: u64 = outcomes.iter().map(|o| o.wire.lost).sum();
    let corrupted: u64 = outcomes.iter().map(|o| o.wire.corrupted).sum();
    assert!(
        lost > 0 && corrupted > 0,
        "{name}: lost {lost}, corrupted {corrupted}"
    );
}

/// Each side closes once its data is handed over; the FINs may cross (a simultaneous
/// close: CLOSING on one or both sides).
pub fn crossing(_seed: u64) -> Ending {
    Ending::Close { first: None }
}

/// `end` closes first, the other side once the FIN has arrived.
pub fn first_by(end: End) -> impl Fn(u64) -> Ending {
    move |_| Ending::Close { first: Some(end) }
}

/// End A closes first for even seeds, end B for odd ones.
pub fn alternating(seed: u64) -> Ending {
    Ending::Close {
        first: Some(if seed.is_multiple_of(2) {
            End::A
        } else {
            End::B
        }),
    }
}
