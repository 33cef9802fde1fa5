//! Layer Header-Prediction (`tcp/header-prediction.pc`; Van Jacobson's fast path as in 4.4BSD,
//! which RFC 9293 leaves to the implementation): in ESTABLISHED, a segment with just ACK (and
//! PSH), no options, SEQ = RCV.NXT, the same window and nothing being retransmitted is either a
//! pure ACK of new data or the next in-order data acknowledging nothing new, and takes a short
//! path. The fast path must not change what the TCP does: every test runs the same exchange on
//! `Connection<Full>` and on `Connection<NoPrediction>` (the TCP without the layer) and asks for
//! byte-identical segments and identical `TcpInfo` — scripted exchanges that check the fast
//! path's effects (SND.UNA, timers, cwnd, RTT, delivery, delayed ACK, SND.WL1/WL2), and seeded
//! simulations of two connections back to back over a link that loses, duplicates and
//! reorders segments.

mod common;

use common::*;
use protocols::tcp::{Config, Connection, Full, NoPrediction, State, TcpInfo, TcpOption, Variant};

/// What an exchange produced: every segment sent, the connection's final view, the bytes it
/// received.
type Outcome = (Vec<Out>, TcpInfo, Vec<u8>);

/// `s` arrives at `c` at `now`; returns what `c` sent in answer.
fn feed<V: Variant>(c: &mut Connection<V>, s: Seg, now: u64, log: &mut Vec<Out>) -> Vec<Out> {
    c.input(&s.bytes(), now);
    let out = sent_by(c);
    log.extend(out.iter().cloned());
    out
}

/// Everything `c` received and has not read.
fn received<V: Variant>(c: &mut Connection<V>) -> Vec<u8> {
    let mut buf = vec![0; 1 << 17];
    let n = c.recv(&mut buf, 0);
    buf.truncate(n);
    buf
}

/// Runs `script` on both variants and asks for the same outcome.
fn same_on_both(script: fn(&mut dyn Driver)) {
    let full = run_script::<Full>(script);
    let plain = run_script::<NoPrediction>(script);
    assert_eq!(full.0, plain.0, "the segments sent");
    assert_eq!(full.1, plain.1, "TcpInfo");
    assert_eq!(full.2, plain.2, "the bytes received");
}

/// A connection of either variant, as the scripts see it.
trait Driver {
    fn feed(&mut self, s: Seg, now: u64) -> Vec<Out>;
    fn send(&mut self, n: usize, now: u64) -> Vec<Out>;
    fn poll(&mut self, now: u64) -> Vec<Out>;
    fn poll_at(&mut self) -> Option<u64>;
    fn info(&mut self) -> TcpInfo;
    fn readable(&self) -> usize;
}

struct Driven<V: Variant> {
    c: Connection<V>,
    log: Vec<Out>,
}

impl<V: Variant> Driver for Driven<V> {
    fn feed(&mut self, s: Seg, now: u64) -> Vec<Out> {
        feed(&mut self.c, s, now, &mut self.log)
    }
    fn send(&mut self, n: usize, now: u64) -> Vec<Out> {
        self.c.send(&data(n), now);
        let out = sent_by(&mut self.c);
        self.log.extend(out.iter().cloned());
        out
    }
    fn poll(&mut self, now: u64) -> Vec<Out> {
        self.c.poll(now);
        let out = sent_by(&mut self.c);
        self.log.extend(out.iter().cloned());
        out
    }
    fn poll_at(&mut self) -> Option<u64> {
        self.c.poll_at()
    }
    fn info(&mut self) -> TcpInfo {
        self.c.info()
    }
    fn readable(&self) -> usize {
        self.c.readable()
    }
}

/// ESTABLISHED by a passive open (handshake RTT 0, every option at its default), then
/// `script`.
fn run_script<V: Variant>(script: fn(&mut dyn Driver)) -> Outcome {
    run_script_with::<V>(config(), script)
}

fn run_script_with<V: Variant>(cfg: Config, script: fn(&mut dyn Driver)) -> Outcome {
    let c = open_passive::<V>(cfg, &[], peer_syn(), 0, 0);
    let mut d = Driven { c, log: Vec::new() };
    script(&mut d);
    let info = d.c.info();
    let got = received(&mut d.c);
    (d.log, info, got)
}

/// A pure ACK of new data, as predicted: SND.UNA advances, the acknowledged bytes are freed,
/// the retransmission timer restarts, cwnd grows, the timed segment gives its RTT sample, and
/// nothing is sent in answer.
#[test]
fn the_fast_path_takes_a_pure_ack_of_new_data() {
    same_on_both(|d| {
        assert_eq!(d.send(3000, 0).len(), 3);
        let cwnd = d.info().cwnd;
        assert!(d.feed(peer_ack(IRS + 1, ISS + 1001), 100).is_empty());
        let i = d.info();
        assert_eq!(i.snd_una, ISS + 1001);
        assert_eq!(i.cwnd, cwnd + 1000, "slow start");
        assert_eq!(
            (i.srtt_ms, i.rttvar_ms),
            (12, 25),
            "a sample of 100 ms after one of 0"
        );
        assert_eq!(d.poll_at(), Some(100 + RTO));
        assert!(d.feed(peer_ack(IRS + 1, ISS + 3001), 150).is_empty());
        assert_eq!(d.poll_at(), None, "all acknowledged");
    });
}

/// A predicted ACK that opens the congestion window lets queued data go at once.
#[test]
fn a_fast_ack_lets_queued_data_go() {
    same_on_both(|d| {
        assert_eq!(d.send(6000, 0).len(), 4);
        let out = d.feed(peer_ack(IRS + 1, ISS + 1001), 10);
        assert_eq!(shape(&out), [(ISS + 4001, 1000), (ISS + 5001, 1000)]);
    });
}

/// In-order data, as predicted: delivered, RCV.NXT advanced, the ACK delayed (200 ms) and then
/// sent with the window reduced by the unread data.
#[test]
fn the_fast_path_takes_in_order_data() {
    same_on_both(|d| {
        assert!(
            d.feed(peer_ack(IRS + 1, ISS + 1).payload(&data(300)), 0)
                .is_empty()
        );
        assert!(
            d.feed(peer_ack(IRS + 301, ISS + 1).payload(&data(300)), 10)
                .is_empty()
        );
        assert_eq!(d.readable(), 600);
        assert_eq!(d.info().rcv_nxt, IRS + 601);
        assert_eq!(d.poll_at(), Some(200));
        let a = d.poll(200);
        assert_eq!(a.len(), 1);
        assert_ack(&a[0], ISS + 1, IRS + 601);
        assert_eq!(usize::from(a[0].window), RCV_BUF - 600);
    });
}

/// The fast path records SND.WL1 (RFC 9293 §3.10.7.4 fifth step): after two predicted data
/// segments WL1 is IRS+11, so a later segment starting at IRS+6 (overlapping, new from IRS+21
/// to IRS+26) is older and its window of 100 is not taken — though its new data is. (Had WL1
/// stayed at IRS+1, the window would have been taken.)
#[test]
fn the_fast_path_records_snd_wl1() {
    same_on_both(|d| {
        d.feed(peer_ack(IRS + 1, ISS + 1).payload(&data(10)), 0);
        d.feed(peer_ack(IRS + 11, ISS + 1).payload(&data(10)), 0);
        d.feed(peer_ack(IRS + 6, ISS + 1).window(100).payload(&data(20)), 0);
        let i = d.info();
        assert_eq!(i.snd_wnd, u32::from(PEER_WND));
        assert_eq!(i.rcv_nxt, IRS + 26);
    });
}

/// The fast path records SND.WL2: after a predicted pure ACK of ISS+1001, a segment with the
/// same sequence number and an older ACK (ISS+1) says nothing about the window.
#[test]
fn the_fast_path_records_snd_wl2() {
    same_on_both(|d| {
        d.send(2000, 0);
        d.feed(peer_ack(IRS + 1, ISS + 1001), 10);
        d.feed(peer_ack(IRS + 1, ISS + 1).window(0), 20);
        assert_eq!(d.info().snd_wnd, u32::from(PEER_WND));
    });
}

/// A segment that would be predicted but for a new window takes the full path, which takes
/// the window.
#[test]
fn a_new_window_takes_the_full_path_and_is_taken() {
    same_on_both(|d| {
        d.send(500, 0);
        d.feed(peer_ack(IRS + 1, ISS + 501).window(3000), 10);
        assert_eq!(d.info().snd_wnd, 3000);
        assert_eq!(d.info().snd_una, ISS + 501);
    });
}

/// Duplicate ACKs (SEG.ACK = SND.UNA, no data) are never fast-path ACKs: they are counted and
/// the third retransmits, the same with and without prediction.
#[test]
fn duplicate_acks_take_the_full_path() {
    same_on_both(|d| {
        d.send(6000, 0);
        for k in 1..=3 {
            d.feed(peer_ack(IRS + 1, ISS + 1), k);
        }
        let i = d.info();
        assert_eq!((i.dupacks, i.in_recovery, i.retransmitted), (3, true, 1));
    });
}

/// In-order data longer than the free receive space is not predicted; the full path trims it
/// to the window, the same either way.
#[test]
fn data_beyond_the_receive_space_takes_the_full_path() {
    let script: fn(&mut dyn Driver) = |d| {
        assert!(
            d.feed(peer_ack(IRS + 1, ISS + 1).payload(&data(150)), 0)
                .is_empty()
        );
        assert_eq!(d.readable(), 100);
        let a = d.poll(200);
        assert_eq!(a.len(), 1, "the delayed ACK");
        assert_ack(&a[0], ISS + 1, IRS + 101);
        assert_eq!(a[0].window, 0);
    };
    let cfg = Config {
        receive_capacity: 100,
        ..config()
    };
    let full = run_script_with::<Full>(cfg, script);
    let plain = run_script_with::<NoPrediction>(cfg, script);
    assert_eq!(full, plain);
    assert_eq!(full.2, data(100));
}

// Seeded simulations.

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The link's character, in percent per segment.
#[derive(Clone, Copy)]
struct Link {
    loss: u64,
    duplicate: u64,
    /// Delay: 10 ms plus up to this much more, so segments overtake one another.
    jitter: u64,
    /// Both receive buffers. Over 64 KiB the window offered stays 65535 while the reader keeps
    /// up, so pure ACKs keep the window and are predicted; small ones move the window.
    receive: usize,
    /// Whether the connections negotiate window scaling and timestamps (off, the window field
    /// stays pinned and every header is 20 bytes, which the prediction counts assume).
    options: bool,
}

/// What a simulation produced.
#[derive(Debug, PartialEq)]
struct Run {
    /// Every segment either side sent: time, from the client?, bytes.
    trace: Vec<(u64, bool, Vec<u8>)>,
    client: TcpInfo,
    server: TcpInfo,
    server_got: Vec<u8>,
    client_got: Vec<u8>,
    /// Segments that arrived in a shape header prediction takes: pure ACKs of new data and
    /// in-order data (judged from the receiver's state before it took them).
    predicted_acks: usize,
    predicted_data: usize,
    /// Times either side entered fast recovery.
    recoveries: usize,
    /// All data arrived both ways and both sides closed.
    complete: bool,
}

/// Whether `seg` arriving at `c` matches the prediction: ESTABLISHED, ACK (PSH) only, no
/// options, SEQ = RCV.NXT, the same window, nothing being retransmitted. Returns (a pure ACK of
/// new data, in-order data acknowledging nothing new).
fn prediction<V: Variant>(c: &mut Connection<V>, seg: &[u8]) -> (bool, bool) {
    let i = c.info();
    let o = Out::parse(seg);
    let shape = i.state == State::Established
        && o.flags & !PSH == ACK
        && o.header_len == 20
        && o.seq == i.rcv_nxt
        && u32::from(o.window) == i.snd_wnd
        && i.snd_nxt == i.snd_max;
    let new_ack = o.ack > i.snd_una && o.ack <= i.snd_max;
    (
        shape && o.payload.is_empty() && new_ack,
        shape && !o.payload.is_empty() && o.ack == i.snd_una,
    )
}

/// A client sends `up` bytes to a server, which sends `down` bytes back, both in writes of
/// random sizes at random times, reading at random times in random amounts; then both close.
/// Segments cross `link`; time jumps to the next timer, delivery or user action.
fn simulate<V: Variant>(seed: u64, link: Link, up: usize, down: usize) -> Run {
    let mut rng = Rng::new(seed);
    let new = |iss: u32, rcv: usize| {
        let mut c = Connection::<V>::with_variant(Config {
            initial_seq: iss,
            send_capacity: 32_768,
            receive_capacity: rcv,
            headroom: 0,
        });
        assert!(c.set_option(TcpOption::MslMs(500)));
        // The large buffers test the window field pinned at 65,535 (pure ACKs then keep the
        // window and are predicted); with scaling the field follows the free space exactly.
        // Timestamps would make every header 32 bytes; the harness counts 20-byte ones.
        assert!(c.set_option(TcpOption::WindowScale(link.options)));
        assert!(c.set_option(TcpOption::Timestamps(link.options)));
        c
    };
    let mut client = new(100, link.receive);
    let mut server = new(7000, link.receive);
    server.listen(80);
    client.connect(40000, 80, 0);
    let up_data: Vec<u8> = (0..up).map(|i| (i * 7 + 1) as u8).collect();
    let down_data: Vec<u8> = (0..down).map(|i| (i * 13 + 5) as u8).collect();
    let (mut up_sent, mut down_sent) = (0, 0);
    let (mut server_got, mut client_got) = (Vec::new(), Vec::new());
    let (mut client_closed, mut server_closed) = (false, false);
    // In flight: (arrival time, order sent, to the server?, bytes).
    let mut wire: Vec<(u64, u64, bool, Vec<u8>)> = Vec::new();
    let mut order = 0;
    let mut trace = Vec::new();
    let (mut predicted_acks, mut predicted_data, mut recoveries) = (0, 0, 0);
    let mut now = 0;
    let mut next_user = 1;
    while now < 600_000 {
        // What both sent: onto the wire.
        for from_client in [true, false] {
            let c_out = |c: &mut Connection<V>| std::iter::from_fn(|| c.poll_transmit()).collect();
            let out: Vec<Vec<u8>> = if from_client {
                c_out(&mut client)
            } else {
                c_out(&mut server)
            };
            for s in out {
                trace.push((now, from_client, s.clone()));
                if rng.chance(link.loss) {
                    continue;
                }
                let copies = if rng.chance(link.duplicate) { 2 } else { 1 };
                for _ in 0..copies {
                    let at = now + 10 + rng.below(link.jitter + 1);
                    wire.push((at, order, from_client, s.clone()));
                    order += 1;
                }
            }
        }
        if client.state() == State::Closed && server.state() == State::Closed {
            break;
        }
        // The next thing to happen.
        let next = [
            wire.iter().map(|w| w.0).min(),
            client.poll_at(),
            server.poll_at(),
            Some(next_user),
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("the user acts");
        now = now.max(next);
        // Deliveries due, in order of arrival.
        wire.sort_by_key(|w| (w.0, w.1));
        while wire.first().is_some_and(|w| w.0 <= now) {
            let (_, _, to_server, s) = wire.remove(0);
            let c = if to_server { &mut server } else { &mut client };
            let (a, d) = prediction(c, &s);
            predicted_acks += usize::from(a);
            predicted_data += usize::from(d);
            let before = c.info().in_recovery;
            c.input(&s, now);
            recoveries += usize::from(!before && c.info().in_recovery);
        }
        if client.poll_at().is_some_and(|t| t <= now) {
            client.poll(now);
        }
        if server.poll_at().is_some_and(|t| t <= now) {
            server.poll(now);
        }
        // The users: write, read, close.
        if now >= next_user {
            next_user = now + 1 + rng.below(40);
            if up_sent < up && rng.chance(60) {
                let n = (1 + rng.below(3000) as usize).min(up - up_sent);
                up_sent += client.send(&up_data[up_sent..up_sent + n], now);
            }
            if down_sent < down && server.state() != State::Listen && rng.chance(40) {
                let n = (1 + rng.below(2000) as usize).min(down - down_sent);
                down_sent += server.send(&down_data[down_sent..down_sent + n], now);
            }
            for (c, got) in [
                (&mut client, &mut client_got),
                (&mut server, &mut server_got),
            ] {
                if rng.chance(50) {
                    let mut buf = vec![0; 1 + rng.below(4000) as usize];
                    let n = c.recv(&mut buf, now);
                    got.extend_from_slice(&buf[..n]);
                }
            }
            if up_sent == up && !client_closed {
                client.shutdown(now);
                client_closed = true;
            }
            if down_sent == down && !server_closed && server.state() == State::CloseWait {
                server.shutdown(now);
                server_closed = true;
            }
        }
    }
    let mut buf = vec![0; 1 << 17];
    let n = client.recv(&mut buf, now);
    client_got.extend_from_slice(&buf[..n]);
    let n = server.recv(&mut buf, now);
    server_got.extend_from_slice(&buf[..n]);
    // Whatever arrived arrived intact and in order.
    assert!(
        up_data.starts_with(&server_got),
        "seed {seed}: the server's data"
    );
    assert!(
        down_data.starts_with(&client_got),
        "seed {seed}: the client's data"
    );
    let complete = server_got == up_data
        && client_got == down_data
        && (client.state(), server.state()) == (State::Closed, State::Closed);
    Run {
        trace,
        client: client.info(),
        server: server.info(),
        server_got,
        client_got,
        predicted_acks,
        predicted_data,
        recoveries,
        complete,
    }
}

/// Runs the simulation with and without prediction and compares: the first differing segment
/// is reported by its index.
fn differential(seed: u64, link: Link, up: usize, down: usize) -> Run {
    let full = simulate::<Full>(seed, link, up, down);
    let plain = simulate::<NoPrediction>(seed, link, up, down);
    let diverge = full
        .trace
        .iter()
        .zip(&plain.trace)
        .position(|(a, b)| a != b);
    if let Some(k) = diverge {
        let show = |t: &(u64, bool, Vec<u8>)| (t.0, t.1, Out::parse(&t.2));
        panic!(
            "seed {seed}: segment {k} differs: Full {:?}, NoPrediction {:?}",
            show(&full.trace[k]),
            show(&plain.trace[k])
        );
    }
    assert_eq!(
        full.trace.len(),
        plain.trace.len(),
        "seed {seed}: trace length"
    );
    assert_eq!(
        full.client, plain.client,
        "seed {seed}: the client's TcpInfo"
    );
    assert_eq!(
        full.server, plain.server,
        "seed {seed}: the server's TcpInfo"
    );
    assert_eq!(full, plain, "seed {seed}");
    full
}

/// A clean link: both variants produce the same segments, byte for byte, the transfer
/// completes, and much of the exchange is predicted — pure ACKs with large buffers, data with
/// either.
#[test]
fn without_loss_both_variants_send_the_same_segments() {
    for (seed, receive) in [(1, 200_000), (2, 6000)] {
        let link = Link {
            loss: 0,
            duplicate: 0,
            jitter: 0,
            receive,
            options: false,
        };
        let run = differential(seed, link, 200_000, 20_000);
        assert!(run.complete, "seed {seed}: the transfer completes");
        if receive > 65_535 {
            assert!(
                run.predicted_acks > 20,
                "{} predicted ACKs",
                run.predicted_acks
            );
        }
        assert!(
            run.predicted_data > 20,
            "{} predicted data",
            run.predicted_data
        );
    }
}

/// The lossy links of the simulations: loss 2, 5 or 10 %, 2 % duplicated, delays spread over
/// 5, 30 or 100 ms, small and large buffers.
fn lossy(seed: u64) -> Link {
    Link {
        loss: [2, 5, 10][seed as usize % 3],
        duplicate: 2,
        jitter: [5, 30, 100][seed as usize / 3 % 3],
        receive: if seed.is_multiple_of(2) {
            6000
        } else {
            200_000
        },
        options: false,
    }
}

/// Loss, duplication and reordering (seeded): the same segments, byte for byte, the same final
/// `TcpInfo` on both sides, the same data delivered, intact. Retransmissions, fast recovery and
/// out-of-order arrivals all happen across the seeds.
#[test]
fn with_loss_and_reordering_both_variants_send_the_same_segments() {
    let (mut acks, mut data, mut retransmitted, mut recoveries, mut complete) = (0, 0, 0, 0, 0);
    for seed in 1..=48 {
        let run = differential(seed, lossy(seed), 100_000, 15_000);
        acks += run.predicted_acks;
        data += run.predicted_data;
        retransmitted += run.client.retransmitted + run.server.retransmitted;
        recoveries += run.recoveries;
        complete += usize::from(run.complete);
    }
    assert!(recoveries > 5, "{recoveries} fast recoveries");
    assert!(
        acks > 200 && data > 1000,
        "{acks} predicted ACKs, {data} data"
    );
    assert!(retransmitted > 100, "{retransmitted} retransmissions");
    assert!(complete >= 40, "{complete} of 48 transfers complete");
}

/// Every one of the lossy transfers completes (with either variant): both sides get all the
/// data and close.
#[test]
fn every_lossy_transfer_completes() {
    for seed in 1..=48 {
        let run = simulate::<Full>(seed, lossy(seed), 100_000, 15_000);
        assert!(run.complete, "seed {seed}");
    }
}

/// With window scaling and timestamps negotiated (32-byte headers, scaled windows, PAWS and
/// RTT samples on the fast path too), both variants still send the same segments, byte for
/// byte, and end with the same `TcpInfo`, over clean and lossy links.
#[test]
fn with_window_scaling_and_timestamps_both_variants_send_the_same_segments() {
    let mut complete = 0;
    for seed in 1..=16 {
        let link = Link {
            options: true,
            ..lossy(seed)
        };
        complete += usize::from(differential(seed, link, 100_000, 15_000).complete);
    }
    let clean = Link {
        loss: 0,
        duplicate: 0,
        jitter: 0,
        receive: 200_000,
        options: true,
    };
    assert!(differential(99, clean, 200_000, 20_000).complete);
    assert!(complete >= 12, "{complete} of 16 lossy transfers complete");
}
