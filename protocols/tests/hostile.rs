//! Hostile input: random and mutated segments — any flags, sequence and acknowledgment
//! numbers near the windows or anywhere, bad header lengths, option lists of random bytes,
//! truncations, any amount of data — fed to connections in every state, with timers run at
//! random times, and to a `Stack` as raw bytes. Nothing may panic, and the connection's
//! variables and its output stay sane: SND.UNA ≤ SND.NXT ≤ SND.MAX, every segment it sends
//! has a well-formed header and no more data than the effective send MSS allows.
//!
//! `PROLAC_FUZZ_SCALE` multiplies the number of cases, as in the other crates.

mod common;

use core::net::Ipv4Addr;

use common::*;
use proptest::prelude::*;
use protocols::tcp::{Config, Connection, Stack, StackConfig, TcpOption};

fn cases(base: u32) -> ProptestConfig {
    let scale = std::env::var("PROLAC_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    ProptestConfig::with_cases(base.saturating_mul(scale))
}

/// A connection in one of the states the fixtures build.
fn fixture(which: u8) -> Connection {
    match which % 12 {
        0 => closed(),
        1 => listen(),
        2 => syn_sent(),
        3 => syn_received(),
        4 => syn_received_active(),
        5 => established(),
        6 => fin_wait_1(),
        7 => fin_wait_2(),
        8 => close_wait(),
        9 => closing(),
        10 => last_ack(),
        _ => time_wait(),
    }
}

/// An established connection that negotiated window scaling (shift 7 from the peer, ours for a
/// 1 MiB buffer) and timestamps, so that hostile segments meet those layers too.
fn negotiated() -> Connection {
    let mut c = Connection::new(Config {
        initial_seq: ISS,
        receive_capacity: 1 << 20,
        ..Config::default()
    });
    assert!(c.set_option(TcpOption::NoDelay(true)));
    c.listen(LOCAL);
    let mut ts = vec![1, 3, 3, 7, 1, 1, 8, 10];
    ts.extend_from_slice(&100u32.to_be_bytes());
    ts.extend_from_slice(&0u32.to_be_bytes());
    arrive(&mut c, peer_syn().options(&ts));
    sent(&mut c);
    let mut echo = vec![1, 1, 8, 10];
    echo.extend_from_slice(&101u32.to_be_bytes());
    echo.extend_from_slice(&ISS.to_be_bytes());
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1).options(&echo));
    assert_eq!(c.state(), protocols::tcp::State::Established);
    sent(&mut c);
    c
}

/// A sequence number: near what the connection expects, or anywhere.
fn near(base: u32) -> impl Strategy<Value = u32> {
    prop_oneof![
        (-3000i64..3000).prop_map(move |d| base.wrapping_add(d as u32)),
        any::<u32>(),
    ]
}

#[derive(Clone, Debug)]
struct Hostile {
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: Vec<u8>,
    payload_len: usize,
    data_offset: Option<u8>,
    truncate: Option<usize>,
    at: u64,
}

fn hostile() -> impl Strategy<Value = Hostile> {
    (
        near(IRS + 1),
        near(ISS + 1),
        any::<u8>(),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..40),
        prop_oneof![Just(0usize), 1..100usize, 1000..1600usize],
        proptest::option::of(0u8..16),
        proptest::option::weighted(0.1, 0usize..80),
        0u64..400_000,
    )
        .prop_map(
            |(seq, ack, flags, window, options, payload_len, data_offset, truncate, at)| Hostile {
                seq,
                ack,
                flags,
                window,
                options,
                payload_len,
                data_offset,
                truncate,
                at,
            },
        )
}

impl Hostile {
    fn bytes(&self) -> Vec<u8> {
        let mut s = seg(self.flags)
            .seq(self.seq)
            .ack(self.ack)
            .window(self.window)
            .payload(&data(self.payload_len));
        s = s.options(&self.options[..self.options.len().min(40)]);
        if let Some(words) = self.data_offset {
            s = s.data_offset(words);
        }
        let mut b = s.bytes();
        if let Some(n) = self.truncate {
            b.truncate(n);
        }
        b
    }
}

/// Queues `send` bytes on `c`, then feeds it `segments`, running its timers when they are due
/// soon, reading what it delivers, and checking it after every step.
fn run_hostile(mut c: Connection, send: usize, segments: &[Hostile]) -> Result<(), TestCaseError> {
    c.send(&data(send), 0);
    sane(&mut c)?;
    let mut now = 0;
    for h in segments {
        now = now.max(h.at);
        c.input(&h.bytes(), now);
        sane(&mut c)?;
        if let Some(t) = c.poll_at().filter(|&t| t <= now + 5_000) {
            c.poll(t.max(now));
            now = now.max(t);
        }
        sane(&mut c)?;
        read_all(&mut c);
        c.events();
    }
    Ok(())
}

/// The checks after every step.
fn sane(c: &mut Connection) -> Result<(), TestCaseError> {
    let info = c.info();
    let le = |a: u32, b: u32| (b.wrapping_sub(a) as i32) >= 0;
    prop_assert!(
        le(info.snd_una, info.snd_nxt),
        "SND.UNA ≤ SND.NXT: {info:?}"
    );
    prop_assert!(
        le(info.snd_nxt, info.snd_max),
        "SND.NXT ≤ SND.MAX: {info:?}"
    );
    let mss = info.snd_mss as usize;
    while let Some(s) = c.poll_transmit() {
        prop_assert!(s.len() >= 20, "a whole header: {s:?}");
        let hlen = usize::from(s[12] >> 4) * 4;
        prop_assert!(
            (20..=s.len()).contains(&hlen),
            "header length {hlen} of {}",
            s.len()
        );
        prop_assert!(
            s.len() - hlen <= mss.max(1),
            "{} bytes of data, MSS {mss}",
            s.len() - hlen
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(1_500))]

    /// Random segments in every state, with reads, sends and timers in between.
    #[test]
    fn hostile_segments_never_panic_or_corrupt_a_connection(
        which in any::<u8>(),
        segments in proptest::collection::vec(hostile(), 1..12),
        send in 0usize..5000,
    ) {
        run_hostile(fixture(which), send, &segments)?;
    }

    /// The same against a connection with window scaling and timestamps negotiated; the
    /// hostile option lists often hold a timestamps option with any values.
    #[test]
    fn hostile_segments_never_panic_a_negotiated_connection(
        segments in proptest::collection::vec(
            (hostile(), any::<bool>(), any::<u32>(), any::<u32>()), 1..12),
        send in 0usize..5000,
    ) {
        let segments: Vec<Hostile> = segments
            .iter()
            .map(|(h, stamped, tsval, tsecr)| {
                let mut h = h.clone();
                if *stamped {
                    let mut opt = vec![1, 1, 8, 10];
                    opt.extend_from_slice(&tsval.to_be_bytes());
                    opt.extend_from_slice(&tsecr.to_be_bytes());
                    h.options = opt;
                    h.data_offset = None;
                }
                h
            })
            .collect();
        run_hostile(negotiated(), send, &segments)?;
    }

    /// Raw bytes of any length through a stack (checksums disabled by computing them).
    #[test]
    fn random_bytes_never_panic_a_stack(
        segments in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..10),
        fix in any::<bool>(),
    ) {
        let a = Ipv4Addr::new(192, 0, 2, 1);
        let b = Ipv4Addr::new(192, 0, 2, 2);
        let mut stack = Stack::new(StackConfig::new(b));
        stack.listen(80);
        for (t, mut s) in segments.into_iter().enumerate() {
            if fix && s.len() >= 20 {
                s[2..4].copy_from_slice(&80u16.to_be_bytes());
                s[16] = 0;
                s[17] = 0;
                let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
                let mut sum = prolac_runtime::checksum::pseudo_header_ipv4(a.octets(), b.octets(), 6, len);
                sum.add_bytes(&s);
                let v = sum.finish();
                s[16..18].copy_from_slice(&v.to_be_bytes());
            }
            stack.input(a, b, &s, t as u64);
            stack.poll(t as u64);
            while stack.poll_transmit().is_some() {}
        }
    }
}
