//! Two Prolac TCPs wired back to back in memory (segments handed over directly, no loss):
//! the three-way handshake, data both ways, and a graceful close from either side, with the
//! states each side passes through. Tagged with RFC 9293 requirement IDs where one applies.

use protocols::tcp::{Config, Connection, Event, State};

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
    let mut server = Connection::new(config(5000));
    server.listen(SERVER);
    let mut client = Connection::new(config(100));
    client.connect(CLIENT, SERVER, 0);
    exchange(&mut client, &mut server, 0);
    (client, server)
}

#[test]
fn three_way_handshake_establishes_both_sides() {
    let mut server = Connection::new(config(5000));
    server.listen(SERVER);
    assert_eq!(server.state(), State::Listen);
    let mut client = Connection::new(config(100));
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
    let n = server.recv(&mut got);
    assert_eq!(&got[..n], &request[..], "every byte, in order, once");
    let reply = b"HTTP/1.0 200 OK\r\n\r\nhello";
    server.send(reply, 2);
    exchange(&mut client, &mut server, 2);
    let n = client.recv(&mut got);
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
    client.close(3);
    assert_eq!(client.state(), State::FinWait1);
    exchange(&mut client, &mut server, 3);
    assert_eq!(server.state(), State::CloseWait);
    assert_eq!(client.state(), State::FinWait2);
    assert!(server.events().contains(&Event::PeerClosed));
    server.close(4);
    exchange(&mut client, &mut server, 4);
    assert_eq!(server.state(), State::Closed);
    assert_eq!(client.state(), State::TimeWait);
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let (mut client, mut server) = open();
    client.close(3);
    server.close(3);
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
    let mut closed = Connection::new(config(1));
    let mut client = Connection::new(config(100));
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
    let mut server = Connection::new(config(5000));
    server.listen(SERVER);
    let mut client = Connection::new(config(100));
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
    let mut server = Connection::new(config(5000));
    server.listen(SERVER);
    let mut client = Connection::new(config(100));
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
    let n = server.recv(&mut got);
    assert_eq!(&got[..n], &data[..], "every byte once, in order");
    client.input(&ack, 1);
    assert_eq!(client.send_queued(), 0);
}

/// RFC 6298 §5: a lost segment is sent again when the retransmission timer expires (initially
/// 1 s), the timeout doubles on each expiry, and an ACK for everything stops the timer.
#[test]
fn a_lost_segment_is_retransmitted_after_the_timeout() {
    let (mut client, mut server) = open();
    assert_eq!(client.poll_at(), None, "nothing in flight, no timer");
    client.send(b"lost once", 10);
    let lost = client.poll_transmit().expect("the data");
    assert_eq!(client.poll_at(), Some(1010), "(5.1) started at send");
    client.poll(1009);
    assert!(client.poll_transmit().is_none(), "not yet");
    client.poll(1010);
    let again = client.poll_transmit().expect("(5.4) retransmitted");
    assert_eq!(again, lost, "the same segment");
    assert_eq!(
        client.poll_at(),
        Some(1010 + 2000),
        "(5.5) the timeout doubled"
    );
    server.input(&again, 1011);
    exchange(&mut client, &mut server, 1011);
    let mut buf = [0; 32];
    let n = server.recv(&mut buf);
    assert_eq!(&buf[..n], b"lost once");
    assert_eq!(client.poll_at(), None, "(5.2) all acknowledged: stopped");
}

#[test]
fn a_lost_syn_is_sent_again() {
    let mut server = Connection::new(config(5000));
    server.listen(SERVER);
    let mut client = Connection::new(config(100));
    client.connect(CLIENT, SERVER, 0);
    let first = client.poll_transmit().expect("SYN");
    client.poll(1000);
    let second = client.poll_transmit().expect("SYN again");
    assert_eq!(first, second);
    server.input(&second, 1000);
    exchange(&mut client, &mut server, 1000);
    assert_eq!(client.state(), State::Established);
    assert_eq!(server.state(), State::Established);
}

/// A seeded lossy exchange: segments are dropped at random both ways, and the connection still
/// delivers every byte, in order, exactly once, and closes.
#[test]
fn data_survives_random_loss() {
    for seed in 1..=20u64 {
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut lose = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % 10 == 0 // 10 %
        };
        let mut server = Connection::new(config(5000));
        server.listen(SERVER);
        let mut client = Connection::new(config(100));
        let mut now = 0;
        client.connect(CLIENT, SERVER, now);
        let data: Vec<u8> = (0..100_000u32)
            .map(|i| (i * 31 + seed as u32) as u8)
            .collect();
        let (mut sent, mut got) = (0, Vec::new());
        let mut closed = false;
        for _ in 0..200_000 {
            if client.state() == State::Established || client.state() == State::CloseWait {
                sent += client.send(&data[sent..], now);
            }
            if sent == data.len() && !closed {
                client.close(now);
                closed = true;
            }
            let mut moved = false;
            while let Some(s) = client.poll_transmit() {
                moved = true;
                if !lose() {
                    server.input(&s, now);
                }
            }
            while let Some(s) = server.poll_transmit() {
                moved = true;
                if !lose() {
                    client.input(&s, now);
                }
            }
            let mut buf = [0; 4096];
            let n = server.recv(&mut buf);
            got.extend_from_slice(&buf[..n]);
            if server.state() == State::CloseWait {
                server.close(now);
            }
            if client.state() == State::TimeWait && server.state() == State::Closed {
                break;
            }
            if !moved {
                // Quiet: jump to the next timer.
                let next = [client.poll_at(), server.poll_at()]
                    .into_iter()
                    .flatten()
                    .min();
                match next {
                    Some(t) => now = now.max(t),
                    None => now += 1,
                }
                client.poll(now);
                server.poll(now);
            }
        }
        let mut buf = vec![0; 1 << 17];
        let n = server.recv(&mut buf);
        got.extend_from_slice(&buf[..n]);
        assert!(
            got == data,
            "seed {seed}: {} of {} bytes, intact: {}; client {:?} queued {} timer {:?}, server {:?} timer {:?}, now {now}",
            got.len(),
            data.len(),
            data.starts_with(&got),
            client.state(),
            client.send_queued(),
            client.poll_at(),
            server.state(),
            server.poll_at()
        );
        assert_eq!(client.state(), State::TimeWait, "seed {seed}");
        assert_eq!(server.state(), State::Closed, "seed {seed}");
    }
}

/// §3.10.2: after CLOSE no data is accepted, and a closed connection accepts none.
#[test]
fn send_after_close_is_refused() {
    let (mut client, mut server) = open();
    client.close(3);
    assert_eq!(client.send(b"late", 3), 0, "connection closing");
    exchange(&mut client, &mut server, 3);
    let mut buf = [0; 8];
    assert_eq!(server.recv(&mut buf), 0, "nothing after the FIN");
    let mut fresh = Connection::new(config(1));
    assert_eq!(fresh.send(b"x", 0), 0, "connection does not exist");
}

/// After a retransmission timeout SND.NXT goes back to SND.UNA, and with a window the peer
/// has shrunk meanwhile the resend stops short; an ACK for data sent before the timeout (above
/// the new SND.NXT, up to the highest sequence sent) is accepted and moves SND.NXT forward,
/// instead of being dropped as acknowledging unsent data (found by the smoltcp interop tests).
#[test]
fn an_ack_for_data_sent_before_a_timeout_is_accepted() {
    let (mut client, mut server) = open();
    client.send(&[7; 3000], 10);
    let segs: Vec<Vec<u8>> = std::iter::from_fn(|| client.poll_transmit()).collect();
    assert_eq!(segs.len(), 3);
    let una = client.snd_una();
    // The peer shrinks its window to 1000 bytes (a duplicate ACK carrying the new window).
    let mut shrink = vec![0u8; 20];
    shrink[0..2].copy_from_slice(&SERVER.to_be_bytes());
    shrink[2..4].copy_from_slice(&CLIENT.to_be_bytes());
    shrink[4..8].copy_from_slice(&server.snd_nxt().to_be_bytes());
    shrink[8..12].copy_from_slice(&una.to_be_bytes());
    shrink[12] = 5 << 4;
    shrink[13] = 0x10;
    shrink[14..16].copy_from_slice(&1000u16.to_be_bytes());
    client.input(&shrink, 11);
    client.poll(1010); // the timer expires: go back, resend within the window
    assert_eq!(
        client.snd_nxt(),
        una + 1000,
        "SND.NXT went back; 1000 bytes resent"
    );
    let _ = std::iter::from_fn(|| client.poll_transmit()).count();
    for s in &segs {
        server.input(s, 1011);
    }
    let ack = std::iter::from_fn(|| server.poll_transmit())
        .last()
        .expect("an ACK for all");
    client.input(&ack, 1012);
    assert_eq!(client.send_queued(), 0, "all 3000 bytes acknowledged");
    assert_eq!(
        client.snd_nxt(),
        una + 3000,
        "SND.NXT moved forward to the ACK"
    );
    assert_eq!(client.poll_at(), None, "timer stopped");
}
