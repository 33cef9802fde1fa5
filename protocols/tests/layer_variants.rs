//! The compiled variants of the TCP (`protocols/build.rs`, `tcp.pc`'s `compose`): `Full` (every
//! layer), `NoPrediction` (without Header-Prediction) and `BaseOnly` (RFC 9293 alone: no
//! Window, Timers, Rtt, Keepalive, Delayed-Ack, Nagle, Congestion or Fast-Recovery layer).
//! Tested: which options each variant knows (`set_option`), that two `BaseOnly` connections
//! carry data both ways and close, and that `BaseOnly` behaves as the base alone — no timers, no
//! congestion window, no silly-window avoidance, no delayed ACK, no window updates, zeros in the
//! `TcpInfo` fields of the layers it lacks.

mod common;

use common::*;
use protocols::tcp::{
    BaseOnly, Config, Connection, Event, NoPrediction, State, TcpOption, Variant,
};

/// One value of every option.
const EVERY_OPTION: [TcpOption; 11] = [
    TcpOption::NoDelay(true),
    TcpOption::DelayedAckMs(100),
    TcpOption::KeepaliveIdleMs(60_000),
    TcpOption::KeepaliveIntervalMs(10_000),
    TcpOption::KeepaliveCount(5),
    TcpOption::UserTimeoutMs(30_000),
    TcpOption::MinRtoMs(200),
    TcpOption::MslMs(30_000),
    TcpOption::FinWait2Ms(30_000),
    TcpOption::InitialWindow(10),
    TcpOption::QuickAck(true),
];

fn base() -> Connection<BaseOnly> {
    open_passive(config(), &[], peer_syn(), 0, 0)
}

fn base_with(cfg: Config) -> Connection<BaseOnly> {
    open_passive(cfg, &[], peer_syn(), 0, 0)
}

/// Every option belongs to an optional layer: the base alone knows none, before and after the
/// connection opens.
#[test]
fn base_only_rejects_every_option() {
    let mut closed = Connection::<BaseOnly>::with_variant(config());
    let mut open = base();
    for o in EVERY_OPTION {
        assert!(!closed.set_option(o), "{o:?} on a closed connection");
        assert!(!open.set_option(o), "{o:?} on an open connection");
    }
}

/// `Full` and `NoPrediction` know every option.
#[test]
fn full_and_no_prediction_accept_every_option() {
    fn accepts<V: Variant>() {
        let mut c = Connection::<V>::with_variant(config());
        for o in EVERY_OPTION {
            assert!(c.set_option(o), "{o:?} in {}", std::any::type_name::<V>());
        }
    }
    accepts::<protocols::tcp::Full>();
    accepts::<NoPrediction>();
}

/// Two `BaseOnly` connections: the handshake, 50000 bytes one way and 10000 the other, and a
/// graceful close (MAY-1). The reader reads after every segment, since without the Window
/// layer a read sends no window update and nothing would reopen a closed window.
#[test]
fn two_base_only_connections_transfer_data_and_close() {
    let mut server = Connection::<BaseOnly>::with_variant(Config {
        initial_seq: 9000,
        ..Config::default()
    });
    server.listen(80);
    let mut client = Connection::<BaseOnly>::with_variant(Config {
        initial_seq: 300,
        ..Config::default()
    });
    client.connect(40000, 80, 0);
    let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
    let pump = |client: &mut Connection<BaseOnly>,
                server: &mut Connection<BaseOnly>,
                to_server: &mut Vec<u8>,
                to_client: &mut Vec<u8>| {
        let mut buf = vec![0; 1 << 17];
        for _ in 0..100_000 {
            let mut moved = false;
            if let Some(s) = client.poll_transmit() {
                server.input(&s, 0);
                let n = server.recv(&mut buf, 0);
                to_server.extend_from_slice(&buf[..n]);
                moved = true;
            }
            if let Some(s) = server.poll_transmit() {
                client.input(&s, 0);
                let n = client.recv(&mut buf, 0);
                to_client.extend_from_slice(&buf[..n]);
                moved = true;
            }
            if !moved {
                return;
            }
        }
        panic!("the connections do not settle");
    };
    pump(&mut client, &mut server, &mut to_server, &mut to_client);
    assert_eq!(
        (client.state(), server.state()),
        (State::Established, State::Established)
    );
    assert_eq!(client.events(), [Event::Established]);
    assert_eq!(server.events(), [Event::Established]);

    let up: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
    let down: Vec<u8> = (0..10_000u32).map(|i| (i % 241) as u8).collect();
    assert_eq!(client.send(&up, 0), up.len());
    assert_eq!(server.send(&down, 0), down.len());
    pump(&mut client, &mut server, &mut to_server, &mut to_client);
    assert!(
        to_server == up,
        "{} of {} bytes up",
        to_server.len(),
        up.len()
    );
    assert!(
        to_client == down,
        "{} of {} bytes down",
        to_client.len(),
        down.len()
    );
    assert_eq!((client.send_queued(), server.send_queued()), (0, 0));

    client.shutdown(0);
    pump(&mut client, &mut server, &mut to_server, &mut to_client);
    assert_eq!(
        (client.state(), server.state()),
        (State::FinWait2, State::CloseWait)
    );
    server.shutdown(0);
    pump(&mut client, &mut server, &mut to_server, &mut to_client);
    assert_eq!(
        (client.state(), server.state()),
        (State::TimeWait, State::Closed)
    );
    assert_eq!(client.events(), [Event::PeerClosed, Event::Closed]);
    assert_eq!(server.events(), [Event::PeerClosed, Event::Closed]);
    assert_eq!(
        client.poll_at(),
        None,
        "no TIME-WAIT timer without the Timers layer"
    );
}

/// Without Timers there is no timer at all: unacknowledged data is not retransmitted, however
/// long one waits; and the fields of the layers left out read 0.
#[test]
fn base_only_runs_no_timers_and_reports_zeros_for_the_missing_layers() {
    let mut c = base();
    c.send(&data(500), 0);
    assert_eq!(shape(&sent_by(&mut c)), [(ISS + 1, 500)]);
    assert_eq!(c.poll_at(), None);
    c.poll(3_600_000);
    assert!(sent_by(&mut c).is_empty());
    let i = c.info();
    assert_eq!((i.rto_ms, i.backoff, i.srtt_ms, i.rttvar_ms), (0, 0, 0, 0));
    assert_eq!(
        (i.cwnd, i.ssthresh, i.dupacks, i.in_recovery),
        (0, 0, 0, false)
    );
    assert_eq!(
        (i.snd_una, i.snd_nxt, i.snd_wnd),
        (ISS + 1, ISS + 501, 8192)
    );
}

/// Without Congestion, Nagle or sender SWS avoidance, everything the peer's window allows goes
/// at once, down to a final 192-byte segment.
#[test]
fn base_only_sends_all_the_window_allows_at_once() {
    let mut c = base();
    c.send(&data(10_000), 0);
    let out = sent_by(&mut c);
    assert_eq!(out.len(), 9);
    assert!(out[..8].iter().all(|o| o.payload.len() == 1000));
    assert_eq!((out[8].seq, out[8].payload.len()), (ISS + 8001, 192));
    let mut full = established_opts(&[]);
    full.send(&data(10_000), 0);
    assert_eq!(
        sent(&mut full).len(),
        4,
        "Full: the initial congestion window"
    );
}

/// Without sender SWS avoidance a small window is used at once (Full waits for the persist
/// timer, `layer_window.rs`).
#[test]
fn base_only_uses_a_small_window_at_once() {
    let mut c = base();
    c.input(&peer_ack(IRS + 1, ISS + 1).window(300).bytes(), 0);
    c.send(&data(1000), 0);
    assert_eq!(shape(&sent_by(&mut c)), [(ISS + 1, 300)]);
}

/// Without Delayed-Ack every in-order segment is acknowledged at once.
#[test]
fn base_only_acknowledges_every_segment_at_once() {
    let mut c = base();
    for k in 0..3 {
        c.input(
            &peer_ack(IRS + 1 + 100 * k, ISS + 1)
                .payload(&data(100))
                .bytes(),
            0,
        );
        let a = sent_by(&mut c);
        assert_eq!(a.len(), 1);
        assert_ack(&a[0], ISS + 1, IRS + 101 + 100 * k);
    }
}

/// Without the Window layer the whole free space is offered (no receiver SWS avoidance) and a
/// read sends no window update: after 96 bytes are read the next ACK offers the full buffer.
#[test]
fn base_only_offers_all_its_free_space_and_sends_no_update() {
    let mut c = base_with(config());
    c.input(&peer_ack(IRS + 1, ISS + 1).payload(&data(96)).bytes(), 0);
    assert_eq!(usize::from(sent_by(&mut c)[0].window), RCV_BUF - 96);
    let mut buf = [0; 96];
    assert_eq!(c.recv(&mut buf, 0), 96);
    assert!(sent_by(&mut c).is_empty(), "no window update");
    c.input(&peer_ack(IRS + 97, ISS + 1).payload(b"x").bytes(), 0);
    assert_eq!(usize::from(sent_by(&mut c)[0].window), RCV_BUF - 1);
    // A whole buffer read sends no update either.
    let mut c = base_with(config());
    c.input(
        &peer_ack(IRS + 1, ISS + 1).payload(&data(RCV_BUF)).bytes(),
        0,
    );
    assert_eq!(sent_by(&mut c)[0].window, 0);
    let mut buf = vec![0; RCV_BUF];
    assert_eq!(c.recv(&mut buf, 0), RCV_BUF);
    assert!(sent_by(&mut c).is_empty());
}
