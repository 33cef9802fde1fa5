//! RFC 9293 requirements that the TCP meets but that no state or layer test was about: initial
//! sequence numbers of the [`Stack`] (clock plus a keyed function of the four-tuple), one ACK
//! for a batch of segments, a peer that shrinks its window, PUSH without a push flag on SEND,
//! the MSS option and header padding, a receive window kept closed, the mandatory options,
//! more passive opens on a port in use, and the default user timeout.
//!
//! Single-connection tests use the set-ups of `common` (our ISS 1000, the peer's IRS 5000, the
//! peer's MSS 1000 and window 8192, our receive buffer 4096); [`established`] acknowledges every
//! segment at once and has Nagle off, `established_opts(&[])` keeps every layer's default.

mod common;

use core::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use protocols::tcp::{Event, FourTuple, Stack, StackConfig, State};

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

// ---------------------------------------------------------------------------------------------
// Initial sequence numbers (§3.4.1, RFC 6528)

/// The ISN of the first connection a fresh stack at `local` with `secret` opens from
/// `local_port` to `remote` at `now` (ms): the sequence number of its SYN.
fn first_isn(local: Ipv4Addr, secret: u64, local_port: u16, remote: SocketAddrV4, now: u64) -> u32 {
    let mut config = StackConfig::new(local);
    config.isn_secret = secret;
    let mut s = Stack::new(config);
    let key = s
        .connect(local_port, remote, now)
        .expect("a free four-tuple");
    let (k, syn) = s.poll_transmit().expect("the SYN");
    assert_eq!(k, key);
    let o = Out::parse(&syn);
    assert_eq!(o.flags, SYN);
    o.seq
}

const SECRET: u64 = 0x0123_4567_89ab_cdef;

fn at_server(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(SERVER, port)
}

/// MUST-8 (§3.4.1): the ISN has a clock-driven part, a 4 µs tick. The same four-tuple opened
/// by two stacks with the same secret 1 ms and 1000 s apart gets ISNs 250 and 250,000,000
/// apart (modulo 2^32): the clock alone moves it.
#[test]
fn the_isn_advances_with_a_four_microsecond_clock() {
    let at = |now| first_isn(CLIENT, SECRET, 40000, at_server(80), now);
    let base = at(0);
    assert_eq!(at(1).wrapping_sub(base), 250);
    assert_eq!(at(1000).wrapping_sub(base), 250_000);
    assert_eq!(at(1_000_000).wrapping_sub(base), 250_000_000);
    // 2^32 ticks of 4 µs (about 4.77 hours) bring it round.
    let wrap = (1u64 << 32) / 250;
    assert_eq!(
        at(wrap).wrapping_sub(base),
        ((wrap * 250) & 0xffff_ffff) as u32
    );
}

/// SHLD-1 (RFC 6528): ISN = M + F(localip, localport, remoteip, remoteport, secretkey). At one
/// time the same four-tuple and secret give the same ISN, and changing any part of the
/// four-tuple changes it; the part that is not the clock is the same at every time.
#[test]
fn the_isn_adds_a_keyed_function_of_the_four_tuple() {
    let isn = |local: Ipv4Addr, port: u16, remote: SocketAddrV4, now: u64| {
        first_isn(local, SECRET, port, remote, now)
    };
    let base = isn(CLIENT, 40000, at_server(80), 0);
    assert_eq!(isn(CLIENT, 40000, at_server(80), 0), base, "a function");
    let others = [
        isn(CLIENT, 40001, at_server(80), 0),
        isn(CLIENT, 40000, at_server(81), 0),
        isn(
            CLIENT,
            40000,
            SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 3), 80),
            0,
        ),
        isn(Ipv4Addr::new(192, 0, 2, 9), 40000, at_server(80), 0),
    ];
    for (i, other) in others.iter().enumerate() {
        assert_ne!(*other, base, "four-tuple change {i}");
    }
    // F does not depend on the time: ISN - M is the same whenever the connection is opened.
    for now in [7, 1234, 99_999] {
        let m = (now * 250) as u32;
        assert_eq!(isn(CLIENT, 40000, at_server(80), now).wrapping_sub(m), base);
        assert_eq!(
            isn(CLIENT, 40001, at_server(80), now).wrapping_sub(m),
            others[0]
        );
    }
}

/// MUST-9: F takes a secret (`StackConfig::isn_secret`), so someone who knows the four-tuple
/// and the clock but not the secret cannot compute the ISN: another secret gives other ISNs,
/// and the offsets between the ISNs of neighbouring ports differ from one secret to the other
/// (one connection's ISN does not give its neighbour's). This checks that the secret is an
/// input, not how strong the mixing is; and `StackConfig::new`'s default secret is a constant
/// of the source, which a caller has to replace with a random one.
#[test]
fn the_isn_depends_on_a_secret() {
    let isns = |secret: u64| -> Vec<u32> {
        (40000..40008)
            .map(|port| first_isn(CLIENT, secret, port, at_server(80), 0))
            .collect()
    };
    let a = isns(SECRET);
    let b = isns(SECRET ^ 0x8000_0000_0000_0001);
    for (x, y) in a.iter().zip(&b) {
        assert_ne!(x, y, "another secret, another ISN");
    }
    let steps = |v: &[u32]| -> Vec<u32> { v.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect() };
    let (sa, sb) = (steps(&a), steps(&b));
    assert!(
        sa.iter().zip(&sb).all(|(x, y)| x != y),
        "neighbour offsets depend on the secret: {sa:?} {sb:?}"
    );
    let mut distinct = sa.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), sa.len(), "and are not one constant step");
}

// ---------------------------------------------------------------------------------------------
// ACKs (§3.10.7.4)

/// MUST-59, MUST-58: segments that arrive together (`input_batched`, then `flush` at the end of
/// the batch) are all processed before any ACK: three in-order segments get one ACK covering
/// all three, where one by one (`input`) they get three. A segment out of order is answered at
/// once, inside the batch, with the ACK that tells the peer what is missing.
#[test]
fn a_batch_of_segments_is_processed_before_one_ack() {
    // One by one: every segment is acknowledged (QuickAck).
    let mut c = established();
    for i in 0..3 {
        arrive(
            &mut c,
            peer_ack(IRS + 1 + 100 * i, ISS + 1).payload(&data(100)),
        );
    }
    let acks: Vec<u32> = sent(&mut c).iter().map(|o| o.ack).collect();
    assert_eq!(acks, [IRS + 101, IRS + 201, IRS + 301]);

    // As a batch: nothing until the flush, then one ACK for all of it.
    let mut c = established();
    for i in 0..3 {
        let s = peer_ack(IRS + 1 + 100 * i, ISS + 1).payload(&data(100));
        c.input_batched(&s.bytes(), 0);
        silent(&mut c);
    }
    assert_eq!(c.rcv_nxt(), IRS + 301, "all three processed");
    c.flush(0);
    assert_ack(&only(&mut c), ISS + 1, IRS + 301);
    assert_eq!(read_all(&mut c).len(), 300);

    // Out of order: answered at once, before the flush.
    let early = peer_ack(IRS + 401, ISS + 1).payload(&data(100));
    c.input_batched(&early.bytes(), 0);
    assert_ack(&only(&mut c), ISS + 1, IRS + 301);
    // The segment that fills the gap is in order again: one ACK for both, at the flush.
    let gap = peer_ack(IRS + 301, ISS + 1).payload(&data(100));
    c.input_batched(&gap.bytes(), 0);
    silent(&mut c);
    c.flush(0);
    assert_ack(&only(&mut c), ISS + 1, IRS + 501);
}

// ---------------------------------------------------------------------------------------------
// A peer that shrinks its window (§3.8.6, RFC 1122 §4.2.2.16)

/// MUST-34, SHLD-15, SHLD-16: with 3000 bytes in flight the peer acknowledges the first 1000
/// and offers only 500 more, moving its right edge back from ISS+8193 to ISS+1501, below
/// SND.NXT (ISS+3001). No new data goes, however much is queued; at the retransmission timeout
/// the old data within the window (500 bytes from SND.UNA) is sent again, nothing beyond the
/// edge; when the window opens everything arrives in order.
#[test]
fn a_shrunk_window_stops_new_data_and_old_data_is_retransmitted_within_it() {
    let mut c = established();
    c.send(&data(3000), 0);
    assert_eq!(
        shape(&sent(&mut c)),
        [(ISS + 1, 1000), (ISS + 1001, 1000), (ISS + 2001, 1000)]
    );
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001).window(500), 100);
    silent(&mut c);
    assert_eq!(c.send(&data(1000), 100), 1000);
    silent(&mut c);
    assert_eq!(c.snd_nxt(), ISS + 3001, "nothing new");

    let at = c.poll_at().expect("the retransmission timer");
    c.poll(at - 1);
    silent(&mut c);
    c.poll(at);
    let again = only(&mut c);
    assert_eq!((again.seq, again.payload.len()), (ISS + 1001, 500));
    assert_eq!(again.payload, data(3000)[1000..1500]);
    assert_eq!(c.state(), State::Established);
    assert!(c.events().is_empty());

    // The peer takes it and opens its window again: the rest goes, in order from the edge
    // (as fast as the congestion window, one segment after the timeout, allows).
    let mut next = ISS + 1501;
    let mut now = at + 10;
    while c.snd_una() != ISS + 4001 {
        assert!(now < at + 1000, "stuck at {}", c.snd_una());
        arrive_at(&mut c, peer_ack(IRS + 1, next), now);
        for o in sent(&mut c) {
            assert_eq!(o.seq, next, "in order");
            next += o.seq_len();
        }
        now += 10;
    }
    assert_eq!(next, ISS + 4001, "all 4000 bytes sent");
}

/// MUST-34, SHLD-17: the peer acknowledges 1000 of 3000 bytes and shrinks its window to zero,
/// leaving 2000 bytes sent beyond its right edge. The connection is not timed out for them:
/// the retransmission timeout finds nothing it may send and hands over to the persist timer,
/// whose probes the peer answers for three hours — far past the 5-minute user timeout —
/// without a byte of data going out. When the window opens, the data beyond the old edge is
/// sent again from SND.UNA.
#[test]
fn data_beyond_a_window_shrunk_to_zero_does_not_time_the_connection_out() {
    let mut c = established();
    c.send(&data(3000), 0);
    sent(&mut c);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001).window(0), 100);
    silent(&mut c);
    let mut probes = 0;
    while let Some(t) = c.poll_at() {
        if t > 3 * 3_600_000 {
            break;
        }
        c.poll(t);
        for o in sent(&mut c) {
            assert!(o.payload.is_empty(), "no data into a zero window: {o:?}");
            assert_ack(&o, ISS + 1000, IRS + 1);
            probes += 1;
            arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001).window(0), t + 5);
            silent(&mut c);
        }
    }
    assert!(probes > 100, "{probes} probes");
    assert_eq!(c.state(), State::Established);
    assert!(c.events().is_empty());
    let now = 3 * 3_600_000 + 1;
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001), now);
    let out = sent(&mut c);
    assert_eq!(
        out.first().map(|o| (o.seq, o.payload.len())),
        Some((ISS + 1001, 1000))
    );
    assert_eq!(out[0].payload, data(3000)[1000..2000]);
}

/// MAY-7: old data beyond SND.UNA+SND.WND may be retransmitted. The peer shrinks its window to
/// 500 bytes past SND.UNA, then sends three duplicate ACKs: the fast retransmit sends the whole
/// first unacknowledged segment (1000 bytes, up to ISS+2001), past the right edge (ISS+1501).
#[test]
fn a_fast_retransmit_may_resend_old_data_beyond_a_shrunk_window() {
    let mut c = established();
    c.send(&data(3000), 0);
    sent(&mut c);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001).window(500), 100);
    silent(&mut c);
    for t in [110, 120] {
        arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001).window(500), t);
        silent(&mut c);
    }
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 1001).window(500), 130);
    let again = only(&mut c);
    assert_eq!((again.seq, again.payload.len()), (ISS + 1001, 1000));
    assert!(again.seq + 1000 > ISS + 1001 + 500, "beyond the right edge");
    assert_eq!(c.snd_nxt(), ISS + 3001, "and no new data");
}

// ---------------------------------------------------------------------------------------------
// PUSH (§3.9.1.2): SEND has no push flag here

/// MUST-60: with every default (Nagle, delayed ACKs), data is never held waiting for a push
/// or a later SEND. A write on an idle connection goes at once; one Nagle holds back goes with
/// the ACK of what is outstanding — or, if no ACK comes, with the retransmission at the
/// timeout. Every segment carrying data has PSH set.
#[test]
fn data_is_not_held_back_for_want_of_a_push() {
    let mut c = established_opts(&[]);
    c.send(&data(100), 0);
    let first = only(&mut c);
    assert_eq!(
        (first.seq, first.payload.len(), first.flags),
        (ISS + 1, 100, ACK | PSH)
    );
    c.send(&data(50), 10);
    silent(&mut c);
    arrive_at(&mut c, peer_ack(IRS + 1, ISS + 101), 50);
    let held = only(&mut c);
    assert_eq!(
        (held.seq, held.payload.len(), held.flags),
        (ISS + 101, 50, ACK | PSH)
    );

    // No ACK at all: the held data rides on the retransmission.
    c.send(&data(30), 60);
    silent(&mut c);
    let at = c.poll_at().expect("the retransmission timer");
    c.poll(at);
    let again = only(&mut c);
    assert_eq!(
        (again.seq, again.payload.len(), again.flags),
        (ISS + 101, 80, ACK | PSH)
    );
}

/// SHLD-27: successive SENDs (each an implied push) that wait for the window are collapsed
/// into the largest segment that can go: three writes of 300, 300 and 400 bytes held by a zero
/// window leave as one full-sized 1000-byte segment carrying one PSH.
#[test]
fn successive_pushes_are_collapsed_into_one_segment() {
    let mut c = established();
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(0));
    for n in [300, 300, 400] {
        assert_eq!(c.send(&data(n), 0), n);
    }
    silent(&mut c);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1));
    let d = only(&mut c);
    assert_eq!(
        (d.seq, d.payload.len(), d.flags),
        (ISS + 1, 1000, ACK | PSH)
    );
}

// ---------------------------------------------------------------------------------------------
// The MSS option and header padding (§3.1, §3.7.1)

/// SHLD-5, MAY-3: every SYN we send carries an MSS option, 1460 (a 1500-byte MTU less 20
/// bytes of IPv4 header and 20 of TCP header) — on an active open, on its retransmission, and
/// on a passive open's SYN,ACK whatever the peer's SYN said (no option, 536, 9000).
#[test]
fn every_syn_carries_an_mss_option_of_the_mtu_less_40() {
    assert_eq!(OUR_MSS, 1500 - 40);
    let mut c = plain(config());
    c.connect(LOCAL, REMOTE, 0);
    let syn = only(&mut c);
    assert_eq!((syn.flags, syn.mss()), (SYN, Some(OUR_MSS)));
    let at = c.poll_at().expect("the SYN timer");
    c.poll(at);
    let again = only(&mut c);
    assert_eq!(
        (again.flags, again.seq, again.mss()),
        (SYN, ISS, Some(OUR_MSS))
    );

    for peer in [
        seg(SYN).seq(IRS),
        seg(SYN).seq(IRS).mss(536),
        seg(SYN).seq(IRS).mss(9000),
    ] {
        let mut c = listen();
        arrive(&mut c, peer);
        let syn_ack = only(&mut c);
        assert_eq!((syn_ack.flags, syn_ack.mss()), (SYN | ACK, Some(OUR_MSS)));
    }
}

/// MUST-69: the header ends on a 32-bit boundary and whatever follows the last option up to
/// the data is zero. The only option sent is the 4-byte MSS option of SYNs, so in every kind
/// of segment checked here (SYN, SYN,ACK, data, ACK, FIN, probe, resets) the options fill whole
/// words and there is nothing to pad; a non-zero byte after them would fail.
#[test]
fn headers_end_on_a_word_and_any_padding_is_zero() {
    let mut all = Vec::new();
    let mut c = plain(config());
    c.connect(LOCAL, REMOTE, 0);
    all.extend(sent(&mut c));
    let mut c = listen();
    arrive(&mut c, peer_syn());
    all.extend(sent(&mut c));
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1));
    c.send(&data(1500), 0);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).payload(b"x"));
    c.shutdown(0);
    all.extend(sent(&mut c));
    let mut c = established_opts(&[]);
    arrive(&mut c, peer_ack(IRS + 1, ISS + 1).window(0));
    c.send(b"probe me", 0);
    let at = c.poll_at().expect("the persist timer");
    c.poll(at);
    all.extend(sent_by(&mut c));
    let mut c = established();
    c.abort();
    all.extend(sent(&mut c));
    let mut c = listen();
    arrive(&mut c, seg(ACK).seq(IRS).ack(77));
    all.extend(sent(&mut c));
    let kinds: Vec<u8> = all.iter().map(|o| o.flags).collect();
    for flag in [SYN, ACK, PSH, FIN, RST] {
        assert!(
            kinds.iter().any(|k| k & flag != 0),
            "a segment with {flag:#x}"
        );
    }
    for o in &all {
        assert_eq!(o.header_len % 4, 0, "{o:?}");
        let mut at = 0;
        while at < o.options.len() {
            match o.options[at] {
                0 => break,
                1 => at += 1,
                _ => at += usize::from(o.options[at + 1]).max(2),
            }
        }
        assert!(at <= o.options.len(), "options overrun the header: {o:?}");
        assert!(
            o.options[at.min(o.options.len())..].iter().all(|&b| b == 0),
            "non-zero padding in {o:?}: {:?}",
            o.options
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The receive window (§3.8.6)

/// MAY-8: a receiver may keep its window closed as long as the application does not read.
/// The peer fills the 4096-byte buffer; for four hours its zero-window probes are answered
/// with RCV.NXT and a zero window, no byte is taken, no timer runs and nothing is sent on the
/// TCP's own. The first read opens the window with an update.
#[test]
fn the_window_stays_closed_while_the_application_does_not_read() {
    let mut c = established();
    for i in 0..4 {
        arrive(
            &mut c,
            peer_ack(IRS + 1 + 1000 * i, ISS + 1).payload(&data(1000)),
        );
    }
    arrive(&mut c, peer_ack(IRS + 4001, ISS + 1).payload(&data(96)));
    let last = sent(&mut c).pop().expect("ACKs");
    assert_eq!((last.ack, last.window), (IRS + 4097, 0));
    for hour in 1..=4 {
        let now = hour * 3_600_000;
        arrive_at(&mut c, peer_ack(IRS + 4097, ISS + 1).payload(b"?"), now);
        let a = only(&mut c);
        assert_ack(&a, ISS + 1, IRS + 4097);
        assert_eq!(a.window, 0);
        assert_eq!(c.poll_at(), None);
        c.poll(now + 1_000_000);
        silent(&mut c);
    }
    assert_eq!((c.readable(), c.rcv_nxt()), (4096, IRS + 4097));
    let mut buf = vec![0; 4096];
    assert_eq!(c.recv(&mut buf, 5 * 3_600_000), 4096);
    let update = only(&mut c);
    assert_ack(&update, ISS + 1, IRS + 4097);
    assert_eq!(usize::from(update.window), RCV_BUF);
}

// ---------------------------------------------------------------------------------------------
// Options (§3.2)

/// MUST-4: the mandatory options — End of Option List, No-Operation and MSS — are understood:
/// an MSS after NOPs and followed by EOL is taken; an MSS after EOL is not (the list ended),
/// and the SYN is accepted with the default 536.
#[test]
fn the_mandatory_options_eol_nop_and_mss_are_understood() {
    let mut c = listen();
    arrive(
        &mut c,
        seg(SYN).seq(IRS).options(&[1, 1, 2, 4, 0x02, 0x00, 0, 0]),
    );
    assert_eq!((c.state(), c.snd_mss()), (State::SynReceived, 512));
    let mut c = listen();
    arrive(&mut c, seg(SYN).seq(IRS).options(&[0, 2, 4, 0x02, 0x00]));
    assert_eq!((c.state(), c.snd_mss()), (State::SynReceived, 536));
    assert_eq!(only(&mut c).flags, SYN | ACK);
}

// ---------------------------------------------------------------------------------------------
// Passive opens (§3.9.1.1)

/// Moves every queued segment between two stacks (each to the other's address).
fn exchange_stacks(a: &mut Stack, b: &mut Stack, now: u64) {
    for _ in 0..10_000 {
        let mut any = false;
        while let Some((k, s)) = a.poll_transmit() {
            b.input(*k.local.ip(), *k.remote.ip(), &s, now);
            any = true;
        }
        while let Some((k, s)) = b.poll_transmit() {
            a.input(*k.local.ip(), *k.remote.ip(), &s, now);
            any = true;
        }
        if !any {
            return;
        }
    }
    panic!("the stacks do not settle");
}

/// Delivers the one segment `from` has queued to `to`.
fn deliver_one(from: &mut Stack, to: &mut Stack, now: u64) {
    let (k, s) = from.poll_transmit().expect("a segment");
    to.input(*k.local.ip(), *k.remote.ip(), &s, now);
}

fn state(s: &Stack, key: &FourTuple) -> Option<State> {
    s.connection(key).map(|c| c.state())
}

/// MUST-42, MUST-41: port 80 goes on listening while a connection on it is in SYN-RECEIVED —
/// a second SYN gets its own connection — and passive OPENs made again (port 80, and a new
/// port 81) leave the connections already made as they were: the established one keeps its
/// data flowing, the half-open ones complete.
#[test]
fn passive_opens_leave_the_connections_on_the_port_alone() {
    let mut client = Stack::new(StackConfig::new(CLIENT));
    let mut server = Stack::new(StackConfig::new(SERVER));
    server.listen(80);
    let a = client.connect(41000, at_server(80), 0).expect("free");
    exchange_stacks(&mut client, &mut server, 0);
    let a_server = server.accept().expect("the first connection");
    assert_eq!(state(&server, &a_server), Some(State::Established));

    let b = client.connect(41001, at_server(80), 1).expect("free");
    deliver_one(&mut client, &mut server, 1);
    let c = client.connect(41002, at_server(80), 2).expect("free");
    deliver_one(&mut client, &mut server, 2);
    let half_open: Vec<FourTuple> = server
        .connections()
        .filter(|k| **k != a_server)
        .copied()
        .collect();
    assert_eq!(half_open.len(), 2);
    for k in &half_open {
        assert_eq!(state(&server, k), Some(State::SynReceived), "{k:?}");
    }

    server.listen(80);
    server.listen(81);
    assert_eq!(server.connections().count(), 3);
    assert_eq!(state(&server, &a_server), Some(State::Established));
    for k in &half_open {
        assert_eq!(state(&server, k), Some(State::SynReceived));
    }

    exchange_stacks(&mut client, &mut server, 3);
    for k in [a, b, c] {
        assert_eq!(state(&client, &k), Some(State::Established), "{k:?}");
    }
    let accepted: Vec<FourTuple> = std::iter::from_fn(|| server.accept()).collect();
    assert_eq!(accepted.len(), 2);
    client.send(&a, b"still here", 4).expect("open");
    server.send(&a_server, b"and here", 4).expect("open");
    exchange_stacks(&mut client, &mut server, 4);
    let mut buf = [0; 64];
    let n = server.recv(&a_server, &mut buf, 4).expect("open");
    assert_eq!(&buf[..n], b"still here");
    let n = client.recv(&a, &mut buf, 4).expect("open");
    assert_eq!(&buf[..n], b"and here");
    assert_eq!(server.events(&a_server), Ok(vec![Event::Established]));
}

// ---------------------------------------------------------------------------------------------
// Excessive retransmission (§3.8.3)

/// SHLD-11: R2 for data is at least 100 s: with every default, data that is never
/// acknowledged is retransmitted for the 5-minute user timeout before the connection is
/// dropped (TimedOut).
#[test]
fn unacknowledged_data_is_given_up_only_after_five_minutes() {
    let mut c = established_opts(&[]);
    c.send(&data(100), 0);
    sent(&mut c);
    let mut retransmissions = 0;
    let mut closed_at = None;
    while let Some(t) = c.poll_at() {
        c.poll(t);
        retransmissions += sent(&mut c).len();
        if c.state() == State::Closed {
            closed_at = Some(t);
            break;
        }
        assert!(t < 400_000, "still open at {t}");
    }
    assert_eq!(closed_at, Some(300_000));
    assert!(retransmissions >= 5, "{retransmissions} retransmissions");
    assert_eq!(c.events(), [Event::TimedOut, Event::Closed]);
}
