//! The active replay of a flow: the Prolac TCP takes the place of the recorded server. The
//! recorded client's segments are fed to it in capture order, on the capture's clock, each
//! translated into the Prolac TCP's sequence space (acknowledgments, SACK blocks, echoed
//! timestamps), and each only once the Prolac TCP has sent what it acknowledges. The server's
//! application writes the recorded server's byte stream as the recorded server sent it, and
//! closes or aborts where it did. At the end, the bytes the Prolac TCP delivered to its
//! application must be the recorded client's stream, the bytes it sent the recorded server's,
//! and the connection must have ended the same way (FIN or reset, from each side).

use std::collections::BTreeMap;

use protocols::tcp::{Config, Connection, Event, State, TcpOption};

use super::{Checksum, Flow, Segment, decode_tcp, encode_tcp, tcp_checksum};

/// How a replay ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replay {
    /// Both streams and the ending match the capture.
    Pass(String),
    /// They do not: what differs.
    Fail(String),
    /// The flow cannot be replayed: why.
    Skip(String),
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// One direction's bytes, by offset from its ISN + 1 (the first data byte at 0).
#[derive(Default)]
struct Stream {
    bytes: BTreeMap<u64, u8>,
    fin: Option<u64>,
    rst: bool,
}

impl Stream {
    fn note(&mut self, isn: u32, seq: u32, flags: u8, payload: &[u8]) {
        let start = u64::from(seq.wrapping_sub(isn).wrapping_sub(1)) + u64::from(flags & SYN != 0);
        for (i, b) in payload.iter().enumerate() {
            self.bytes.entry(start + i as u64).or_insert(*b);
        }
        if flags & FIN != 0 {
            self.fin.get_or_insert(start + payload.len() as u64);
        }
        if flags & RST != 0 {
            self.rst = true;
        }
    }

    /// The bytes from offset 0, if there is no hole.
    fn contiguous(&self) -> Result<Vec<u8>, u64> {
        let mut out = Vec::with_capacity(self.bytes.len());
        for (i, (offset, b)) in self.bytes.iter().enumerate() {
            if *offset != i as u64 {
                return Err(i as u64);
            }
            out.push(*b);
        }
        Ok(out)
    }
}

fn flags(s: &Segment) -> u8 {
    s.tcp[13]
}

fn seq(s: &Segment) -> u32 {
    u32::from_be_bytes([s.tcp[4], s.tcp[5], s.tcp[6], s.tcp[7]])
}

fn payload(s: &Segment) -> &[u8] {
    let hlen = usize::from(s.tcp[12] >> 4) * 4;
    s.tcp.get(hlen..).unwrap_or_default()
}

/// The TSval of a segment's timestamps option.
fn tsval(tcp: &[u8]) -> Option<u32> {
    let h = decode_tcp(tcp).ok()?;
    h.options.iter().find_map(|(k, v)| match (k, v) {
        (8, Some(v)) if v.len() == 8 => Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]])),
        _ => None,
    })
}

/// Replays `flow` with the Prolac TCP as its server.
#[must_use]
pub fn replay_server(flow: &Flow) -> Replay {
    let from_client = |s: &&Segment| s.src == flow.client;
    let Some(syn) = flow
        .segments
        .iter()
        .filter(from_client)
        .find(|s| flags(s) & (SYN | ACK) == SYN)
    else {
        return Replay::Skip("the capture has no SYN from the client".into());
    };
    let Some(syn_ack) = flow
        .segments
        .iter()
        .find(|s| s.src == flow.server && flags(s) & (SYN | ACK) == SYN | ACK)
    else {
        return refused(flow, syn);
    };
    if !payload(syn).is_empty() {
        return Replay::Skip("data on the SYN (TCP Fast Open) is not supported".into());
    }
    if flow.segments.iter().any(|s| !s.complete) {
        return Replay::Skip("the capture cut segments short (snapshot length)".into());
    }
    let (client_isn, server_isn) = (seq(syn), seq(syn_ack));
    // The recorded streams, from the segments whose checksums verify (a corrupted one was
    // dropped by its receiver).
    let usable = |s: &&Segment| tcp_checksum(s) != Checksum::Bad;
    let mut client_stream = Stream::default();
    let mut server_stream = Stream::default();
    for s in flow.segments.iter().filter(usable) {
        if s.src == flow.client {
            client_stream.note(client_isn, seq(s), flags(s), payload(s));
        } else {
            server_stream.note(server_isn, seq(s), flags(s), payload(s));
        }
    }
    let (client_bytes, server_bytes) =
        match (client_stream.contiguous(), server_stream.contiguous()) {
            (Ok(c), Ok(s)) => (c, s),
            (Err(at), _) => {
                return Replay::Skip(format!("the client's stream has a hole at byte {at}"));
            }
            (_, Err(at)) => {
                return Replay::Skip(format!("the server's stream has a hole at byte {at}"));
            }
        };

    let mut tcp = Connection::new(Config {
        initial_seq: 0x4000_0000,
        send_capacity: server_bytes.len().max(1) + 1,
        receive_capacity: 1 << 22,
        headroom: 0,
    });
    for o in [
        TcpOption::NoDelay(true),
        TcpOption::InitialWindow(1000),
        TcpOption::QuickAck(true),
        TcpOption::TolerateMissingTimestamps(true),
    ] {
        tcp.set_option(o);
    }
    tcp.listen(flow.server.1);
    let start_ms = flow.segments[0].time_us / 1000;
    let mut sent_stream = Stream::default();
    let mut our_isn = None;
    let mut ts_offset = None;
    let mut received = Vec::new();
    let mut written = 0usize;
    let mut closed = false;
    let mut aborted = false;
    let mut sent_rst = false;
    let mut reset_by_peer = false;
    let mut saw_fin = false;
    let mut now;

    let drain = |tcp: &mut Connection,
                 sent_stream: &mut Stream,
                 our_isn: &mut Option<u32>,
                 ts_offset: &mut Option<u32>,
                 sent_rst: &mut bool| {
        while let Some(out) = tcp.poll_transmit() {
            let f = out[13];
            let seq = u32::from_be_bytes([out[4], out[5], out[6], out[7]]);
            if f & SYN != 0 {
                our_isn.get_or_insert(seq);
                if let (Some(ours), Some(theirs)) = (tsval(&out), tsval(&syn_ack.tcp)) {
                    ts_offset.get_or_insert(ours.wrapping_sub(theirs));
                }
            }
            if let Some(isn) = *our_isn {
                let hlen = usize::from(out[12] >> 4) * 4;
                sent_stream.note(isn, seq, f, &out[hlen..]);
            }
            *sent_rst |= f & RST != 0;
        }
    };

    let segments: Vec<&Segment> = flow.segments.iter().filter(usable).collect();
    for (i, s) in segments.iter().enumerate() {
        // The same frame captured again at the same instant is the capture's duplicate, not
        // the wire's.
        if segments[..i]
            .iter()
            .rev()
            .take_while(|p| p.time_us == s.time_us)
            .any(|p| p.src == s.src && p.tcp == s.tcp)
        {
            continue;
        }
        now = s.time_us / 1000 - start_ms;
        if s.src == flow.server {
            // The recorded server's application: what it had written by now, and its close.
            let f = flags(s);
            let end = u64::from(seq(s).wrapping_sub(server_isn).wrapping_sub(1))
                + u64::from(f & SYN != 0)
                + payload(s).len() as u64;
            let end = usize::try_from(end)
                .unwrap_or(usize::MAX)
                .min(server_bytes.len());
            if end > written && !closed {
                written += tcp.send(&server_bytes[written..end], now);
            }
            if f & FIN != 0 && !closed {
                if written < server_bytes.len() {
                    written += tcp.send(&server_bytes[written..], now);
                }
                tcp.shutdown(now);
                closed = true;
            }
            // A reset the client went on regardless of (more data or a FIN after it) was not
            // the server's: injected on the way, it is not replayed.
            let ignored = segments[i + 1..].iter().any(|later| {
                later.src == flow.client && (!payload(later).is_empty() || flags(later) & FIN != 0)
            });
            if f & RST != 0 && !ignored && !sent_rst && !aborted && tcp.state() != State::Closed {
                // Unless the Prolac TCP reset the connection itself, the application aborts.
                drain(
                    &mut tcp,
                    &mut sent_stream,
                    &mut our_isn,
                    &mut ts_offset,
                    &mut sent_rst,
                );
                if !sent_rst {
                    tcp.abort();
                    aborted = true;
                }
            }
            drain(
                &mut tcp,
                &mut sent_stream,
                &mut our_isn,
                &mut ts_offset,
                &mut sent_rst,
            );
            continue;
        }
        // A client segment: its ACK must not run ahead of what the Prolac TCP has sent.
        let Ok(mut h) = decode_tcp(&s.tcp) else {
            return Replay::Fail(format!("frame {}: does not decode", s.frame));
        };
        if h.flags & u16::from(ACK) != 0 {
            let Some(isn) = our_isn else {
                return Replay::Fail(format!(
                    "frame {}: the client acknowledges before the Prolac TCP sent its SYN,ACK",
                    s.frame
                ));
            };
            let offset = h.ack.wrapping_sub(server_isn);
            let target = isn.wrapping_add(offset);
            // Give the TCP time to send what is acknowledged (its timers, the window).
            let mut waited = 0;
            while (target.wrapping_sub(isn) as i64) > sent_end(&sent_stream) as i64 + 1
                && waited < 20
            {
                match tcp.poll_at() {
                    Some(t) => {
                        now = now.max(t);
                        tcp.poll(now);
                    }
                    None => break,
                }
                drain(
                    &mut tcp,
                    &mut sent_stream,
                    &mut our_isn,
                    &mut ts_offset,
                    &mut sent_rst,
                );
                waited += 1;
            }
            h.ack = target;
        }
        for (kind, value) in &mut h.options {
            match (*kind, value) {
                (5, Some(v)) => {
                    for block in v.chunks_exact_mut(4) {
                        let edge = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                        let ours = our_isn
                            .unwrap_or(0)
                            .wrapping_add(edge.wrapping_sub(server_isn));
                        block.copy_from_slice(&ours.to_be_bytes());
                    }
                }
                (8, Some(v)) if v.len() == 8 => {
                    let ecr = u32::from_be_bytes([v[4], v[5], v[6], v[7]]);
                    if ecr != 0 {
                        let ecr = ecr.wrapping_add(ts_offset.unwrap_or(0));
                        v[4..].copy_from_slice(&ecr.to_be_bytes());
                    }
                }
                _ => {}
            }
        }
        let mut bytes = encode_tcp(&h);
        bytes.extend_from_slice(payload(s));
        tcp.input(&bytes, now);
        for e in tcp.events() {
            match e {
                Event::Reset => reset_by_peer = true,
                Event::PeerClosed => saw_fin = true,
                _ => {}
            }
        }
        let mut buf = vec![0; 1 << 16];
        loop {
            let n = tcp.recv(&mut buf, now);
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        drain(
            &mut tcp,
            &mut sent_stream,
            &mut our_isn,
            &mut ts_offset,
            &mut sent_rst,
        );
    }

    // The verdict.
    if received != client_bytes {
        let at = received
            .iter()
            .zip(&client_bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(received.len().min(client_bytes.len()));
        return Replay::Fail(format!(
            "the Prolac server received {} of the client's {} bytes (first difference at {at})",
            received.len(),
            client_bytes.len()
        ));
    }
    let sent = sent_stream.contiguous().unwrap_or_default();
    if sent.len() < server_bytes.len() || sent[..server_bytes.len()] != server_bytes[..] {
        return Replay::Fail(format!(
            "the Prolac server sent {} of the server's {} bytes, or other bytes",
            sent.len(),
            server_bytes.len()
        ));
    }
    // A FIN counts where it ends the stream (one elsewhere was bogus, and not taken).
    let client_fin = client_stream.fin == Some(client_bytes.len() as u64);
    let server_fin = server_stream.fin == Some(server_bytes.len() as u64);
    let recorded_end = ending(client_fin, server_fin, client_stream.rst, server_stream.rst);
    let our_end = ending(saw_fin, sent_stream.fin.is_some(), reset_by_peer, sent_rst);
    if recorded_end != our_end {
        return Replay::Fail(format!(
            "ended with {our_end}, the capture with {recorded_end}"
        ));
    }
    Replay::Pass(format!(
        "{} bytes in, {} out, {recorded_end}",
        client_bytes.len(),
        server_bytes.len()
    ))
}

/// A SYN the recorded server answered with a reset (a closed port): a Prolac TCP with no
/// listener must answer the same, <SEQ=0><ACK=SYN+1><CTL=RST,ACK> (RFC 9293 §3.10.7.1).
fn refused(flow: &Flow, syn: &Segment) -> Replay {
    let Some(recorded) = flow
        .segments
        .iter()
        .find(|s| s.src == flow.server && flags(s) & RST != 0)
    else {
        return Replay::Skip("the capture has no SYN,ACK nor reset from the server".into());
    };
    let mut tcp = Connection::new(Config::default());
    tcp.input(&syn.tcp, 0);
    let Some(out) = tcp.poll_transmit() else {
        return Replay::Fail("the SYN to a closed port drew no reset".into());
    };
    let ack_of = |b: &[u8]| u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
    let same_ack = out[13] & ACK == 0 || ack_of(&out) == ack_of(&recorded.tcp);
    if out[13] == flags(recorded) && same_ack {
        Replay::Pass("refused: the same reset as recorded".into())
    } else {
        Replay::Fail(format!(
            "answered the SYN with flags {:#04x}, ack {}; the capture with {:#04x}, ack {}",
            out[13],
            ack_of(&out),
            flags(recorded),
            ack_of(&recorded.tcp)
        ))
    }
}

/// The end of the data the Prolac TCP has sent, as an offset.
fn sent_end(s: &Stream) -> u64 {
    s.bytes
        .keys()
        .next_back()
        .map_or(0, |k| k + 1)
        .max(s.fin.map_or(0, |f| f + 1))
}

fn ending(client_fin: bool, server_fin: bool, client_rst: bool, server_rst: bool) -> String {
    let mut parts = Vec::new();
    if client_fin {
        parts.push("client FIN");
    }
    if server_fin {
        parts.push("server FIN");
    }
    if client_rst {
        parts.push("client RST");
    }
    if server_rst {
        parts.push("server RST");
    }
    if parts.is_empty() {
        "no close".into()
    } else {
        parts.join(", ")
    }
}
