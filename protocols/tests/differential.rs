//! Differential testing of the two back ends: the same seeded scenarios driven through the
//! Rust-compiled TCP ([`Full`]) and the JIT-compiled TCP ([`Jit`], the same layers compiled by
//! Cranelift at run time) must produce byte-identical traces — every segment either end sent,
//! with the time it was sent — and the same data, events and final states.
//!
//! Each seed picks a scenario and its parameters: a handshake and bulk transfer (one way or
//! both ways), loss, reordering, a receiver that lets its window close and stay closed for a
//! while (zero-window probes), a graceful close begun by either side, or an abort (RST). The
//! network is two queues with seeded latency, loss and reordering on a virtual millisecond
//! clock; both runs of a seed see the same faults because the faults are drawn from the seed,
//! not from what the TCP sends. `PROLAC_DIFF_SEEDS=N` runs N seeds (default 64).

use protocols::tcp::{Config, Connection, Event, Full, Jit, State, Variant};

/// SplitMix64: the seeded source of every choice and fault.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bulk,
    BothWays,
    Lossy,
    Reordering,
    ZeroWindow,
    CloseByServer,
    Reset,
}

#[derive(Clone, Copy, Debug)]
struct Scenario {
    kind: Kind,
    /// Bytes A sends to B, and B to A.
    a_to_b: usize,
    b_to_a: usize,
    loss: u64,
    reorder: u64,
    latency_ms: u64,
    /// B reads nothing before this time.
    b_reads_after: u64,
    receive_capacity: usize,
}

impl Scenario {
    fn of(seed: u64) -> Scenario {
        let mut r = Rng(seed ^ 0x00d1_ff00);
        let kinds = [
            Kind::Bulk,
            Kind::BothWays,
            Kind::Lossy,
            Kind::Reordering,
            Kind::ZeroWindow,
            Kind::CloseByServer,
            Kind::Reset,
        ];
        let kind = kinds[(seed % kinds.len() as u64) as usize];
        let size = 20_000 + r.below(200_000) as usize;
        Scenario {
            kind,
            a_to_b: size,
            b_to_a: match kind {
                Kind::BothWays | Kind::CloseByServer => 10_000 + r.below(100_000) as usize,
                _ => r.below(2_000) as usize,
            },
            loss: match kind {
                Kind::Lossy => 2 + r.below(8),
                Kind::Reordering => r.below(2),
                _ => 0,
            },
            reorder: if kind == Kind::Reordering {
                5 + r.below(20)
            } else {
                0
            },
            latency_ms: 1 + r.below(20),
            b_reads_after: if kind == Kind::ZeroWindow {
                2_000 + r.below(5_000)
            } else {
                0
            },
            receive_capacity: if kind == Kind::ZeroWindow {
                8_192
            } else {
                [16_384, 65_536, 262_144][r.below(3) as usize]
            },
        }
    }
}

/// What a run produced.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    /// Every segment sent: time, sender (0 = A), bytes.
    trace: Vec<(u64, u8, Vec<u8>)>,
    a_got: Vec<u8>,
    b_got: Vec<u8>,
    a_events: Vec<Event>,
    b_events: Vec<Event>,
    states: (State, State),
    /// Data segments of A the network dropped.
    dropped_data: usize,
}

fn pattern(seed: u64, who: u8, len: usize) -> Vec<u8> {
    let mut r = Rng(seed.wrapping_mul(31).wrapping_add(u64::from(who)));
    (0..len).map(|_| r.next() as u8).collect()
}

fn run<V: Variant>(seed: u64) -> Run {
    let s = Scenario::of(seed);
    let config = |iss: u32| Config {
        initial_seq: iss,
        send_capacity: 64 * 1024,
        receive_capacity: s.receive_capacity,
        headroom: 0,
    };
    let mut ends = [
        Connection::<V>::with_variant(config(seed as u32 ^ 0x1000)),
        Connection::<V>::with_variant(config((seed as u32).wrapping_mul(7) ^ 0x9000)),
    ];
    let data = [pattern(seed, 0, s.a_to_b), pattern(seed, 1, s.b_to_a)];
    let mut sent = [0usize; 2];
    let mut got: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut events: [Vec<Event>; 2] = [Vec::new(), Vec::new()];
    let mut closed = [false; 2];
    let mut faults = Rng(seed);
    // (deliver at, sequence for a stable order, receiver, bytes)
    let mut flight: Vec<(u64, u64, usize, Vec<u8>)> = Vec::new();
    let mut order = 0u64;
    let mut trace = Vec::new();
    let mut now = 0u64;
    ends[1].listen(80);
    ends[0].connect(40_000, 80, now);
    let mut buf = vec![0u8; 65_536];
    let mut reset_done = false;
    let mut dropped_data = 0;
    for _ in 0..200_000 {
        // The applications.
        for i in 0..2 {
            let reading = i == 0 || now >= s.b_reads_after;
            if reading {
                loop {
                    let n = ends[i].recv(&mut buf, now);
                    if n == 0 {
                        break;
                    }
                    got[i].extend_from_slice(&buf[..n]);
                }
            }
            if matches!(ends[i].state(), State::Established | State::CloseWait)
                && sent[i] < data[i].len()
            {
                sent[i] += ends[i].send(&data[i][sent[i]..], now);
            }
            let done_sending = sent[i] == data[i].len();
            let closer = if s.kind == Kind::CloseByServer { 1 } else { 0 };
            let may_close = i == closer || events[i].contains(&Event::PeerClosed);
            if !closed[i]
                && done_sending
                && may_close
                && matches!(ends[i].state(), State::Established | State::CloseWait)
                && ends[i].send_queued() == 0
            {
                // A half-close: the application still reads what the peer sends.
                closed[i] = true;
                ends[i].shutdown(now);
            }
            if s.kind == Kind::Reset && !reset_done && i == 0 && got[1].len() > s.a_to_b / 2 {
                reset_done = true;
                ends[0].abort();
            }
        }
        // What they sent.
        for i in 0..2 {
            while let Some(seg) = ends[i].poll_transmit() {
                trace.push((now, i as u8, seg.clone()));
                if faults.chance(s.loss) {
                    dropped_data += usize::from(i == 0 && seg.len() > 60);
                    continue;
                }
                let mut at = now + s.latency_ms;
                if faults.chance(s.reorder) {
                    at += 1 + faults.below(30);
                }
                order += 1;
                flight.push((at, order, 1 - i, seg));
            }
            events[i].extend(ends[i].events());
        }
        let gone = |c: &Connection<V>| matches!(c.state(), State::Closed | State::TimeWait);
        if gone(&ends[0]) && gone(&ends[1]) && flight.is_empty() {
            break;
        }
        // The next moment something happens.
        let next_arrival = flight.iter().map(|f| f.0).min();
        let next_timer = ends.iter_mut().filter_map(|c| c.poll_at()).min();
        let Some(next) = [next_arrival, next_timer].into_iter().flatten().min() else {
            break;
        };
        let reads_open = (now < s.b_reads_after).then_some(s.b_reads_after);
        now = match reads_open {
            Some(r) if r < next => r,
            _ => next.max(now),
        };
        if now > 600_000 {
            break;
        }
        flight.sort_by_key(|f| (f.0, f.1));
        while flight.first().is_some_and(|f| f.0 <= now) {
            let (_, _, to, seg) = flight.remove(0);
            ends[to].input(&seg, now);
        }
        for c in &mut ends {
            if c.poll_at().is_some_and(|t| t <= now) {
                c.poll(now);
            }
        }
    }
    let [a_got, b_got] = got;
    let [a_events, b_events] = events;
    Run {
        trace,
        a_got,
        b_got,
        a_events,
        b_events,
        states: (ends[0].state(), ends[1].state()),
        dropped_data,
    }
}

fn seeds() -> u64 {
    std::env::var("PROLAC_DIFF_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn the_jit_compiled_tcp_sends_exactly_what_the_rust_compiled_tcp_sends() {
    if let Err(e) = Jit::load() {
        panic!("the JIT-compiled TCP does not load: {e}");
    }
    let mut kinds = std::collections::BTreeMap::new();
    let mut segments = 0;
    let mut lost = 0;
    for seed in 0..seeds() {
        let s = Scenario::of(seed);
        let rust = run::<Full>(seed);
        let jit = run::<Jit>(seed);
        if rust.trace != jit.trace {
            let first = rust
                .trace
                .iter()
                .zip(&jit.trace)
                .position(|(a, b)| a != b)
                .unwrap_or(rust.trace.len().min(jit.trace.len()));
            panic!(
                "seed {seed} ({s:?}): traces differ at segment {first} of {} / {}:\n rust {:?}\n jit  {:?}",
                rust.trace.len(),
                jit.trace.len(),
                rust.trace.get(first),
                jit.trace.get(first)
            );
        }
        assert_eq!(rust, jit, "seed {seed} ({s:?})");
        // The scenario did what it was meant to: data moved, and a graceful scenario delivered
        // all of it.
        assert!(
            rust.trace.len() > 10,
            "seed {seed}: only {} segments",
            rust.trace.len()
        );
        assert!(
            !rust.b_got.is_empty(),
            "seed {seed} ({s:?}): nothing arrived"
        );
        if s.kind != Kind::Reset {
            assert!(
                rust.b_got == pattern(seed, 0, s.a_to_b),
                "seed {seed} ({s:?}): B got {} of {} bytes; states {:?}, events {:?} / {:?}, {} segments, last {:?}",
                rust.b_got.len(),
                s.a_to_b,
                rust.states,
                rust.a_events,
                rust.b_events,
                rust.trace.len(),
                rust.trace.last().map(|t| (t.0, t.1, t.2.len()))
            );
            assert!(
                rust.a_got == pattern(seed, 1, s.b_to_a),
                "seed {seed} ({s:?}): A got {} of {} bytes; states {:?}",
                rust.a_got.len(),
                s.b_to_a,
                rust.states
            );
        } else {
            assert!(
                rust.b_events.contains(&Event::Reset),
                "seed {seed}: {:?}",
                rust.b_events
            );
        }
        // Zero-window scenarios saw a zero window; lossy ones retransmitted.
        let window = |seg: &[u8]| u16::from_be_bytes([seg[14], seg[15]]);
        if s.kind == Kind::ZeroWindow {
            assert!(
                rust.trace
                    .iter()
                    .any(|(_, who, seg)| *who == 1 && window(seg) == 0),
                "seed {seed}: the window never closed"
            );
        }
        if s.kind == Kind::Lossy {
            let mut seen = std::collections::BTreeSet::new();
            let again = rust
                .trace
                .iter()
                .filter(|(_, who, seg)| *who == 0 && seg.len() > 60)
                .filter(|(_, _, seg)| !seen.insert(seg[4..8].to_vec()))
                .count();
            assert!(
                again > 0 || rust.dropped_data == 0,
                "seed {seed}: {} data segments lost, none sent again",
                rust.dropped_data
            );
            lost += rust.dropped_data;
        }
        segments += rust.trace.len();
        *kinds.entry(format!("{:?}", s.kind)).or_insert(0) += 1;
    }
    println!(
        "{} seeds, {segments} segments compared byte for byte ({lost} data segments lost in \
         the lossy scenarios); scenarios {kinds:?}",
        seeds()
    );
    assert!(
        seeds() < 50 || lost > 10,
        "the lossy scenarios lost only {lost} data segments"
    );
    assert!(seeds() < 50 || kinds.len() == 7, "{kinds:?}");
}
