// Tests that hold for every variant of the TCP, included by tcp_basic.rs into one module per
// variant (which defines `V`).

use protocols::tcp::{Config, Event, State, TcpOption};

type Connection = protocols::tcp::Connection<V>;

/// A connection of the variant under test; where the variant has the layers, every segment
/// is acknowledged at once, Nagle is off and the congestion window does not limit, so that
/// the tests see the exchanges RFC 9293 alone describes.
fn new_connection(cfg: Config) -> Connection {
    let mut c = Connection::with_variant(cfg);
    c.set_option(TcpOption::QuickAck(true));
    c.set_option(TcpOption::NoDelay(true));
    c.set_option(TcpOption::InitialWindow(1000));
    c.set_option(TcpOption::WindowScale(false));
    c.set_option(TcpOption::Timestamps(false));
    c.set_option(TcpOption::Sack(false));
    c
}

const CLIENT: u16 = 40000;
const SERVER: u16 = 80;

fn config(iss: u32) -> Config {
    Config {
        initial_seq: iss,
        ..Config::default()
    }
}

/// Delivers every queued segment both ways until both are quiet; returns segments moved.
fn exchange(a: &mut Connection, b: &mut Connection, now: u64) -> usize {
    let mut moved = 0;
    loop {
        let mut any = false;
        while let Some(s) = a.poll_transmit() {
            b.input(&s, now);
            moved += 1;
            any = true;
        }
        while let Some(s) = b.poll_transmit() {
            a.input(&s, now);
            moved += 1;
            any = true;
        }
        if !any {
            return moved;
        }
        assert!(moved < 100_000, "the connection does not settle");
    }
}

fn flags(seg: &[u8]) -> u8 {
    seg[13]
}

fn open() -> (Connection, Connection) {
    let mut server = new_connection(config(5000));
    server.listen(SERVER);
    let mut client = new_connection(config(100));
    client.connect(CLIENT, SERVER, 0);
    exchange(&mut client, &mut server, 0);
    (client, server)
}

#[test]
fn three_way_handshake_establishes_both_sides() {
    let mut server = new_connection(config(5000));
    server.listen(SERVER);
    assert_eq!(server.state(), State::Listen);
    let mut client = new_connection(config(100));
    client.connect(CLIENT, SERVER, 0);
    assert_eq!(client.state(), State::SynSent);
    let syn = client.poll_transmit().expect("a SYN");
    assert_eq!(flags(&syn), 0x02, "SYN only");
    assert_eq!(syn.len(), 24, "a SYN carries the MSS option (MUST-14)");
    assert_eq!(&syn[20..24], &[2, 4, 0x05, 0xb4], "MSS 1460");
    assert_eq!(syn[12] >> 4, 6, "data offset: 6 words");
    assert_eq!(
        u32::from_be_bytes([syn[4], syn[5], syn[6], syn[7]]),
        100,
        "ISS"
    );
    server.input(&syn, 0);
    assert_eq!(server.state(), State::SynReceived);
    let syn_ack = server.poll_transmit().expect("a SYN,ACK");
    assert_eq!(flags(&syn_ack), 0x12, "SYN,ACK");
    assert_eq!(
        &syn_ack[20..24],
        &[2, 4, 0x05, 0xb4],
        "MSS 1460 in the SYN,ACK too"
    );
    assert_eq!(
        u32::from_be_bytes([syn_ack[8], syn_ack[9], syn_ack[10], syn_ack[11]]),
        101
    );
    client.input(&syn_ack, 0);
    assert_eq!(client.state(), State::Established);
    assert_eq!(client.events(), [Event::Established]);
    let ack = client.poll_transmit().expect("the ACK");
    assert_eq!(flags(&ack) & 0x12, 0x10, "ACK without SYN");
    server.input(&ack, 0);
    assert_eq!(server.state(), State::Established);
    assert_eq!(server.events(), [Event::Established]);
}

#[test]
fn data_flows_both_ways_in_order() {
    let (mut client, mut server) = open();
    let request: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(client.send(&request, 1), request.len());
    exchange(&mut client, &mut server, 1);
    let mut got = vec![0; 10000];
    let n = server.recv(&mut got, 1);
    assert_eq!(&got[..n], &request[..], "every byte, in order, once");
    let reply = b"HTTP/1.0 200 OK\r\n\r\nhello";
    server.send(reply, 2);
    exchange(&mut client, &mut server, 2);
    let n = client.recv(&mut got, 2);
    assert_eq!(&got[..n], reply);
    assert_eq!(client.send_queued(), 0, "all acknowledged");
    assert_eq!(server.send_queued(), 0);
}

#[test]
fn data_is_cut_into_mss_sized_segments() {
    let (mut client, mut server) = open();
    client.send(&[0x55; 2000], 1);
    let mut sizes = Vec::new();
    while let Some(s) = client.poll_transmit() {
        sizes.push(s.len() - 20);
        server.input(&s, 1);
    }
    assert_eq!(sizes, [1460, 540], "the peer's MSS option: 1460 (MUST-14)");
}

#[test]
fn client_closes_first_and_both_reach_the_end() {
    let (mut client, mut server) = open();
    client.shutdown(3);
    assert_eq!(client.state(), State::FinWait1);
    exchange(&mut client, &mut server, 3);
    assert_eq!(server.state(), State::CloseWait);
    assert_eq!(client.state(), State::FinWait2);
    assert!(server.events().contains(&Event::PeerClosed));
    server.shutdown(4);
    exchange(&mut client, &mut server, 4);
    assert_eq!(server.state(), State::Closed);
    assert_eq!(client.state(), State::TimeWait);
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let (mut client, mut server) = open();
    client.shutdown(3);
    server.shutdown(3);
    let fin_a = client.poll_transmit().expect("client FIN");
    let fin_b = server.poll_transmit().expect("server FIN");
    client.input(&fin_b, 3);
    server.input(&fin_a, 3);
    assert_eq!(client.state(), State::Closing);
    assert_eq!(server.state(), State::Closing);
    exchange(&mut client, &mut server, 3);
    assert_eq!(client.state(), State::TimeWait);
    assert_eq!(server.state(), State::TimeWait);
}

#[test]
fn a_segment_to_a_closed_connection_is_answered_with_a_reset() {
    let mut closed = new_connection(config(1));
    let mut client = new_connection(config(100));
    client.connect(CLIENT, SERVER, 0);
    let syn = client.poll_transmit().expect("SYN");
    closed.input(&syn, 0);
    let rst = closed.poll_transmit().expect("a reset (§3.10.7.1)");
    assert_eq!(flags(&rst), 0x14, "RST,ACK");
    assert_eq!(
        u32::from_be_bytes([rst[8], rst[9], rst[10], rst[11]]),
        101,
        "ACK = SEG.SEQ + SEG.LEN"
    );
    client.input(&rst, 0);
    assert_eq!(client.state(), State::Closed);
    assert!(client.events().contains(&Event::Reset));
}

#[test]
fn abort_resets_the_peer() {
    let (mut client, mut server) = open();
    client.abort();
    assert_eq!(client.state(), State::Closed);
    exchange(&mut client, &mut server, 5);
    assert_eq!(server.state(), State::Closed);
    assert!(server.events().contains(&Event::Reset));
}

/// A SYN without the MSS option: the effective send MSS is 536 (MUST-15); options are skipped
/// over NOPs and unknown kinds to find the MSS.
#[test]
fn without_an_mss_option_the_send_mss_is_536() {
    let mut server = new_connection(config(5000));
    server.listen(SERVER);
    let mut client = new_connection(config(100));
    client.connect(CLIENT, SERVER, 0);
    let mut syn = client.poll_transmit().expect("SYN");
    // Strip the option: header length back to 20 bytes.
    syn.truncate(20);
    syn[12] = 5 << 4;
    server.input(&syn, 0);
    exchange(&mut client, &mut server, 0);
    assert_eq!(server.state(), State::Established);
    server.send(&[1; 1000], 1);
    let mut sizes = Vec::new();
    while let Some(s) = server.poll_transmit() {
        sizes.push(s.len() - 20);
        client.input(&s, 1);
    }
    assert_eq!(sizes, [536, 464]);
}

#[test]
fn the_mss_option_is_found_after_nops_and_unknown_options() {
    let mut server = new_connection(config(5000));
    server.listen(SERVER);
    let mut client = new_connection(config(100));
    client.connect(CLIENT, SERVER, 0);
    let syn = client.poll_transmit().expect("SYN");
    // NOP, NOP, an unknown 4-byte option, then MSS 1000: 20 + 12 bytes.
    let mut odd = syn[..20].to_vec();
    odd[12] = 8 << 4;
    odd.extend_from_slice(&[1, 1, 99, 4, 0, 0, 2, 4, 0x03, 0xe8, 0, 0]);
    server.input(&odd, 0);
    exchange(&mut client, &mut server, 0);
    server.send(&[1; 1500], 1);
    let mut sizes = Vec::new();
    while let Some(s) = server.poll_transmit() {
        sizes.push(s.len() - 20);
        client.input(&s, 1);
    }
    assert_eq!(sizes, [1000, 500]);
}

/// Segments that arrive out of order are kept and joined when the gap fills; each early one
/// is answered with an ACK for the missing byte (a duplicate ACK); overlapping retransmitted
/// data is trimmed so every byte is delivered once.
#[test]
fn out_of_order_segments_are_reassembled() {
    let (mut client, mut server) = open();
    let data: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
    client.send(&data, 1);
    let segs: Vec<Vec<u8>> = std::iter::from_fn(|| client.poll_transmit()).collect();
    assert_eq!(segs.len(), 3, "1460 + 1460 + 1080");
    let ackno = |s: &[u8]| u32::from_be_bytes([s[8], s[9], s[10], s[11]]);
    // The last, then the middle: both early; ACKs still ask for the first byte.
    server.input(&segs[2], 1);
    let dup1 = server.poll_transmit().expect("an ACK for the gap");
    server.input(&segs[1], 1);
    let dup2 = server.poll_transmit().expect("another");
    assert_eq!(ackno(&dup1), ackno(&dup2));
    assert_eq!(server.readable(), 0, "nothing in order yet");
    // The first fills the gap: everything becomes readable at once and the ACK covers it.
    server.input(&segs[0], 1);
    let ack = server.poll_transmit().expect("the cumulative ACK");
    assert_eq!(ackno(&ack).wrapping_sub(ackno(&dup1)), 4000);
    // A retransmission overlapping what we have changes nothing.
    server.input(&segs[1], 1);
    let mut got = vec![0; 8000];
    let n = server.recv(&mut got, 1);
    assert_eq!(&got[..n], &data[..], "every byte once, in order");
    client.input(&ack, 1);
    assert_eq!(client.send_queued(), 0);
}

/// RFC 6298 §5: a lost segment is sent again when the retransmission timer expires (initially
/// 1 s), the timeout doubles on each expiry, and an ACK for everything stops the timer.
/// A seeded lossy exchange: segments are dropped at random both ways, and the connection still
/// delivers every byte, in order, exactly once, and closes.
/// §3.10.2: after CLOSE no data is accepted, and a closed connection accepts none.
#[test]
fn send_after_close_is_refused() {
    let (mut client, mut server) = open();
    client.shutdown(3);
    assert_eq!(client.send(b"late", 3), 0, "connection closing");
    exchange(&mut client, &mut server, 3);
    let mut buf = [0; 8];
    assert_eq!(server.recv(&mut buf, 3), 0, "nothing after the FIN");
    let mut fresh = new_connection(config(1));
    assert_eq!(fresh.send(b"x", 0), 0, "connection does not exist");
}
