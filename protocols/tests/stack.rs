//! The sans-IO multi-connection [`Stack`]: demultiplexing by four-tuple, listeners that accept
//! many connections, checksums, resets for segments nobody owns (RFC 9293 §3.10.7.1), and the
//! per-connection calls through the stack.

use core::net::{Ipv4Addr, SocketAddrV4};

use protocols::tcp::{
    Arrival, BaseOnly, Event, FourTuple, Stack, StackConfig, StackError, State, Variant,
};

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

fn stacks<V: Variant>() -> (Stack<V>, Stack<V>) {
    let client = Stack::with_variant(StackConfig::new(CLIENT));
    let mut server = Stack::with_variant(StackConfig::new(SERVER));
    server.listen(80);
    (client, server)
}

/// Moves every queued segment between the two stacks (each to the other's address); returns
/// how many were moved.
fn exchange<V: Variant>(a: &mut Stack<V>, b: &mut Stack<V>, now: u64) -> usize {
    let mut moved = 0;
    loop {
        let mut any = false;
        while let Some((k, s)) = a.poll_transmit() {
            b.input(*k.local.ip(), *k.remote.ip(), &s, now);
            moved += 1;
            any = true;
        }
        while let Some((k, s)) = b.poll_transmit() {
            a.input(*k.local.ip(), *k.remote.ip(), &s, now);
            moved += 1;
            any = true;
        }
        if !any {
            return moved;
        }
        assert!(moved < 100_000, "does not settle");
    }
}

fn read_all<V: Variant>(s: &mut Stack<V>, key: &FourTuple, now: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let n = s.recv(key, &mut buf, now).expect("connection");
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn transfer_both_ways<V: Variant>() {
    let (mut client, mut server) = stacks::<V>();
    let key = client
        .connect(40000, SocketAddrV4::new(SERVER, 80), 0)
        .expect("free four-tuple");
    exchange(&mut client, &mut server, 0);
    let accepted = server
        .accept()
        .expect("the listener accepted the connection");
    assert_eq!(accepted.local, SocketAddrV4::new(SERVER, 80));
    assert_eq!(accepted.remote, SocketAddrV4::new(CLIENT, 40000));
    assert_eq!(client.events(&key), Ok(vec![Event::Established]));
    let up: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let down: Vec<u8> = (0..30_000u32).map(|i| (i % 241) as u8).collect();
    let (mut got_up, mut got_down) = (Vec::new(), Vec::new());
    let (mut sent_up, mut sent_down) = (0, 0);
    for now in 1..2000 {
        sent_up += client.send(&key, &up[sent_up..], now).expect("open");
        sent_down += server
            .send(&accepted, &down[sent_down..], now)
            .expect("open");
        exchange(&mut client, &mut server, now);
        got_up.extend(read_all(&mut server, &accepted, now));
        got_down.extend(read_all(&mut client, &key, now));
        client.poll(now);
        server.poll(now);
        if got_up.len() == up.len() && got_down.len() == down.len() {
            break;
        }
    }
    assert!(
        got_up == up,
        "client to server: every byte in order, once ({} of {} bytes)",
        got_up.len(),
        up.len()
    );
    assert!(
        got_down == down,
        "server to client: every byte in order, once ({} of {} bytes)",
        got_down.len(),
        down.len()
    );
    client.shutdown(&key, 300).expect("open");
    exchange(&mut client, &mut server, 300);
    server.shutdown(&accepted, 301).expect("open");
    exchange(&mut client, &mut server, 301);
    assert_eq!(
        client.connection(&key).map(|c| c.state()),
        Some(State::TimeWait)
    );
    assert_eq!(
        server.connection(&accepted).map(|c| c.state()),
        Some(State::Closed)
    );
    assert_eq!(server.reap(), vec![accepted]);
    assert!(server.connection(&accepted).is_none());
}

/// A connection through two stacks: handshake, data both ways, graceful close (MUST-10 for
/// the passive open that accepts it). MUST-2: each stack fills in the checksum of every
/// segment it sends and the other verifies it (a wrong one is dropped, every time it is sent),
/// so every byte arriving in order, once, shows the sender's checksums are right.
#[test]
fn two_stacks_transfer_both_ways_and_close() {
    transfer_both_ways::<protocols::tcp::Full>();
}

/// The same with every optional layer of the TCP left out.
#[test]
fn two_base_only_stacks_transfer_both_ways_and_close() {
    transfer_both_ways::<BaseOnly>();
}

/// §3.10.7.1: a SYN to a port nobody listens on is answered with <SEQ=0><ACK=SEG.SEQ+1>
/// <CTL=RST,ACK>, and nothing is registered.
#[test]
fn a_syn_to_a_closed_port_is_reset() {
    let (mut client, mut server) = stacks::<protocols::tcp::Full>();
    let key = client
        .connect(40001, SocketAddrV4::new(SERVER, 81), 0)
        .expect("free");
    let (_, syn) = client.poll_transmit().expect("the SYN");
    assert_eq!(server.input(CLIENT, SERVER, &syn, 0), Arrival::Refused);
    assert_eq!(server.connections().count(), 0);
    let (k, rst) = server.poll_transmit().expect("a reset");
    assert_eq!(k.remote, SocketAddrV4::new(CLIENT, 40001));
    assert_eq!(rst[13], 0x14, "RST,ACK");
    client.input(SERVER, CLIENT, &rst, 0);
    assert_eq!(
        client.connection(&key).map(|c| c.state()),
        Some(State::Closed)
    );
    assert_eq!(client.events(&key), Ok(vec![Event::Reset, Event::Closed]));
}

/// MUST-3: the receiver verifies the checksum — a segment with one bit flipped is reported as
/// `BadChecksum`, dropped unanswered and makes no connection, while the intact one does. One
/// for another address or too short to be TCP is not taken either.
#[test]
fn bad_checksums_foreign_addresses_and_short_segments_are_dropped() {
    let (mut client, mut server) = stacks::<protocols::tcp::Full>();
    client
        .connect(40002, SocketAddrV4::new(SERVER, 80), 0)
        .expect("free");
    let (_, mut syn) = client.poll_transmit().expect("the SYN");
    let good = syn.clone();
    syn[4] ^= 0x40;
    assert_eq!(server.input(CLIENT, SERVER, &syn, 0), Arrival::BadChecksum);
    assert_eq!(
        server.input(CLIENT, Ipv4Addr::new(192, 0, 2, 9), &good, 0),
        Arrival::NotOurs
    );
    assert_eq!(
        server.input(CLIENT, SERVER, &good[..19], 0),
        Arrival::Malformed
    );
    assert!(server.poll_transmit().is_none(), "nothing answered");
    assert_eq!(server.connections().count(), 0);
    assert!(matches!(
        server.input(CLIENT, SERVER, &good, 0),
        Arrival::Connection(_)
    ));
}

/// One listener, three clients: each connection has its own four-tuple and its own data.
/// MUST-42: the three SYNs arrive before any handshake completes, so the port goes on
/// listening while connections on it are in SYN-RECEIVED; MUST-41: each SYN meets a fresh
/// listening TCB, which leaves the connections made before it alone (each keeps its data).
#[test]
fn a_listener_accepts_many_connections() {
    let (mut client, mut server) = stacks::<protocols::tcp::Full>();
    let keys: Vec<FourTuple> = (0..3)
        .map(|i| {
            client
                .connect(41000 + i, SocketAddrV4::new(SERVER, 80), 0)
                .expect("free")
        })
        .collect();
    exchange(&mut client, &mut server, 0);
    let accepted: Vec<FourTuple> = std::iter::from_fn(|| server.accept()).collect();
    assert_eq!(accepted.len(), 3);
    for (i, key) in keys.iter().enumerate() {
        let msg = format!("hello from {i}");
        client.send(key, msg.as_bytes(), 1).expect("open");
    }
    exchange(&mut client, &mut server, 1);
    for a in &accepted {
        let i = a.remote.port() - 41000;
        assert_eq!(
            read_all(&mut server, a, 1),
            format!("hello from {i}").into_bytes()
        );
    }
}

/// The four-tuple of a connection cannot be opened twice; calls on an unknown one fail.
#[test]
fn four_tuples_are_unique_and_unknown_ones_are_errors() {
    let (mut client, _) = stacks::<protocols::tcp::Full>();
    let key = client
        .connect(40003, SocketAddrV4::new(SERVER, 80), 0)
        .expect("free");
    assert_eq!(
        client.connect(40003, SocketAddrV4::new(SERVER, 80), 0),
        Err(StackError::InUse(key))
    );
    let other = FourTuple {
        local: SocketAddrV4::new(CLIENT, 1),
        remote: SocketAddrV4::new(SERVER, 2),
    };
    assert_eq!(
        client.send(&other, b"x", 0),
        Err(StackError::NoConnection(other))
    );
}

/// A lost data segment is sent again when the stack's timer says (RFC 6298 (5.4)).
#[test]
fn poll_at_drives_retransmission() {
    let (mut client, mut server) = stacks::<protocols::tcp::Full>();
    let key = client
        .connect(40004, SocketAddrV4::new(SERVER, 80), 0)
        .expect("free");
    exchange(&mut client, &mut server, 0);
    let accepted = server.accept().expect("accepted");
    client.send(&key, b"lost once", 10).expect("open");
    let (_, lost) = client.poll_transmit().expect("the data");
    assert_eq!(
        lost.len(),
        32 + 9,
        "the header with its timestamps option, and the data"
    );
    let at = client.poll_at().expect("the retransmission timer");
    assert_eq!(at, 1010);
    client.poll(at);
    exchange(&mut client, &mut server, at);
    assert_eq!(read_all(&mut server, &accepted, at), b"lost once");
}

/// RFC 9293 MAY-2 with `TcpOption::ReopenOnSyn`: the server closed first and holds the
/// connection in TIME-WAIT; the client connects again from the same port (its clock-driven
/// ISN is above the old RCV.NXT), and the stack hands the SYN to the listener, which accepts a
/// new connection on the same four-tuple. Without the option the SYN is challenged (RFC 5961
/// §4), the client answers the challenge ACK with a reset, which ends TIME-WAIT (the hazard of
/// RFC 1337), and no new connection is accepted then.
#[test]
fn a_new_syn_reopens_a_four_tuple_in_time_wait() {
    for reopen in [true, false] {
        let mut client: Stack = Stack::new(StackConfig::new(CLIENT));
        let mut config = StackConfig::new(SERVER);
        config
            .options
            .push(protocols::tcp::TcpOption::ReopenOnSyn(reopen));
        let mut server: Stack = Stack::new(config);
        server.listen(80);
        let key = client
            .connect(40000, SocketAddrV4::new(SERVER, 80), 0)
            .expect("free");
        exchange(&mut client, &mut server, 0);
        let accepted = server.accept().expect("accepted");
        server.shutdown(&accepted, 10).expect("open");
        exchange(&mut client, &mut server, 10);
        client.shutdown(&key, 11).expect("open");
        exchange(&mut client, &mut server, 11);
        assert_eq!(
            server.connection(&accepted).map(|c| c.state()),
            Some(State::TimeWait)
        );
        client.reap();
        assert!(client.connection(&key).is_none(), "the client is done");
        let again = client
            .connect(40000, SocketAddrV4::new(SERVER, 80), 1_000)
            .expect("free again");
        exchange(&mut client, &mut server, 1_000);
        if reopen {
            assert_eq!(
                server.accept(),
                Some(accepted),
                "a new connection, same four-tuple"
            );
            assert_eq!(
                server.connection(&accepted).map(|c| c.state()),
                Some(State::Established)
            );
            assert_eq!(
                client.connection(&again).map(|c| c.state()),
                Some(State::Established)
            );
        } else {
            assert_eq!(server.accept(), None);
            assert_eq!(
                server.connection(&accepted).map(|c| c.state()),
                Some(State::Closed)
            );
            assert_eq!(
                client.connection(&again).map(|c| c.state()),
                Some(State::SynSent)
            );
        }
    }
}
