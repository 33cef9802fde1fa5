// Tests of retransmission, included by tcp_basic.rs for the variants that have the Timers layer
// (after basic/core.rs, whose helpers they use).

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
    let n = server.recv(&mut buf, 1011);
    assert_eq!(&buf[..n], b"lost once");
    assert_eq!(client.poll_at(), None, "(5.2) all acknowledged: stopped");
}

#[test]
fn a_lost_syn_is_sent_again() {
    let mut server = new_connection(config(5000));
    server.listen(SERVER);
    let mut client = new_connection(config(100));
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
        let mut server = new_connection(config(5000));
        server.listen(SERVER);
        let mut client = new_connection(config(100));
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
                client.shutdown(now);
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
            let n = server.recv(&mut buf, now);
            got.extend_from_slice(&buf[..n]);
            if server.state() == State::CloseWait {
                server.shutdown(now);
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
        let n = server.recv(&mut buf, now);
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
