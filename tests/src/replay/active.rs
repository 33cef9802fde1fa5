//! The active replay of a flow: the Prolac TCP takes the place of the recorded server (or
//! client). The other end's recorded segments are fed to it in capture order, on the capture's
//! clock, each translated into the Prolac TCP's sequence space (acknowledgments, SACK blocks,
//! echoed timestamps), and each only once the Prolac TCP has sent what it acknowledges. The
//! replaced end's application opens as it did (a client's SYN offers the recorded SYN's
//! options), writes its recorded byte stream as it sent it, and closes or aborts where it did.
//! At the end, the bytes the Prolac TCP delivered to its application must be the other end's
//! recorded stream, the bytes it sent the replaced end's, and the connection must have ended
//! the same way (FIN or reset, from each side).

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

/// One direction's bytes, by offset from its ISN + 1 (the first data byte at 0); `None` for a
/// byte the capture cut off (snapshot length): its place is known, its value is not.
#[derive(Default)]
struct Stream {
    bytes: BTreeMap<u64, Option<u8>>,
    fin: Option<u64>,
    rst: bool,
}

impl Stream {
    fn note(&mut self, isn: u32, s: &Segment) {
        self.note_bytes(isn, seq(s), flags(s), payload(s), text_len(s));
    }

    /// A segment of `len` bytes of text, of which `captured` are known.
    fn note_bytes(&mut self, isn: u32, seq: u32, flags: u8, captured: &[u8], len: usize) {
        // A SYN's text starts just after it: offset 0 is ISN + 1 either way.
        let syn = u32::from(flags & SYN != 0);
        let start = u64::from(seq.wrapping_add(syn).wrapping_sub(isn).wrapping_sub(1));
        for i in 0..len {
            let byte = captured.get(i).copied();
            let slot = self.bytes.entry(start + i as u64).or_insert(byte);
            if slot.is_none() {
                *slot = byte;
            }
        }
        if flags & FIN != 0 {
            self.fin.get_or_insert(start + len as u64);
        }
        if flags & RST != 0 {
            self.rst = true;
        }
    }

    /// The bytes from offset 0, if there is no hole.
    fn contiguous(&self) -> Result<Vec<Option<u8>>, u64> {
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

/// Where `got` first differs from the recorded `want` (a byte not captured matches anything),
/// or where the shorter ends; `None` if they are the same.
fn difference(got: &[u8], want: &[Option<u8>]) -> Option<usize> {
    got.iter()
        .zip(want)
        .position(|(g, w)| w.is_some_and(|w| w != *g))
        .or((got.len() != want.len()).then(|| got.len().min(want.len())))
}

fn flags(s: &Segment) -> u8 {
    s.tcp[13]
}

fn seq(s: &Segment) -> u32 {
    u32::from_be_bytes([s.tcp[4], s.tcp[5], s.tcp[6], s.tcp[7]])
}

/// The payload as captured (cut short by the snapshot length, perhaps).
fn payload(s: &Segment) -> &[u8] {
    let hlen = usize::from(s.tcp[12] >> 4) * 4;
    s.tcp.get(hlen..).unwrap_or_default()
}

/// The payload's length on the wire.
fn text_len(s: &Segment) -> usize {
    s.wire_len.saturating_sub(usize::from(s.tcp[12] >> 4) * 4)
}

/// The payload as sent: what was captured, then zeros for what was not.
fn text(s: &Segment) -> Vec<u8> {
    let mut t = payload(s).to_vec();
    t.resize(text_len(s), 0);
    t
}

/// The TSval of a segment's timestamps option.
fn tsval(tcp: &[u8]) -> Option<u32> {
    let h = decode_tcp(tcp).ok()?;
    h.options.iter().find_map(|(k, v)| match (k, v) {
        (8, Some(v)) if v.len() == 8 => Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]])),
        _ => None,
    })
}

/// Which recorded end the Prolac TCP replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The end that answered the SYN.
    Server,
    /// The end that sent it.
    Client,
}

/// Replays `flow` with the Prolac TCP as its server.
#[must_use]
pub fn replay_server(flow: &Flow) -> Replay {
    replay(flow, Role::Server)
}

/// Replays `flow` with the Prolac TCP as its client.
#[must_use]
pub fn replay_client(flow: &Flow) -> Replay {
    replay(flow, Role::Client)
}

/// The options of a SYN, as `TcpOption`s a Prolac TCP should set to send the same ones.
fn syn_options(syn: &Segment) -> Vec<TcpOption> {
    let Ok(h) = decode_tcp(&syn.tcp) else {
        return Vec::new();
    };
    let has = |kind: u8| h.options.iter().any(|(k, _)| *k == kind);
    let shift = h.options.iter().find_map(|(k, v)| match (k, v) {
        (3, Some(v)) if v.len() == 1 => Some(v[0]),
        _ => None,
    });
    let mut o = vec![
        TcpOption::Timestamps(has(8)),
        TcpOption::Sack(has(4)),
        TcpOption::WindowScale(shift.is_some()),
    ];
    if let Some(s) = shift {
        o.push(TcpOption::WindowShift(s.clamp(1, 14)));
    }
    o
}

/// Replays `flow` with the Prolac TCP in the place of `role`.
#[must_use]
pub fn replay(flow: &Flow, role: Role) -> Replay {
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
        return match role {
            Role::Server => refused(flow, syn),
            Role::Client => refused_client(flow, syn),
        };
    };
    // Text on the peer's SYN is queued until ESTABLISHED (RFC 9293 §3.10.7.2, 3); text on the
    // replaced end's own SYN would need TCP Fast Open (RFC 7413), which the Prolac TCP lacks.
    let my_syn_text = match role {
        Role::Server => !payload(syn_ack).is_empty(),
        Role::Client => !payload(syn).is_empty(),
    };
    if my_syn_text {
        return Replay::Skip(
            "the replaced end sent text on its SYN (TCP Fast Open), which the Prolac TCP does not"
                .into(),
        );
    }
    // Segments cut short by the snapshot length replay with their missing bytes unknown; only
    // a cut header stops the replay.
    if flow
        .segments
        .iter()
        .any(|s| s.tcp.len() < 20 || s.tcp.len() < usize::from(s.tcp[12] >> 4) * 4)
    {
        return Replay::Skip("the capture cut TCP headers short (snapshot length)".into());
    }
    if role == Role::Client
        && flow
            .segments
            .iter()
            .any(|s| s.src == flow.client && flags(s) & FIN != 0 && s.time_us < syn_ack.time_us)
    {
        return Replay::Skip(
            "the recorded client sent a FIN in SYN-SENT, which an RFC 9293 TCP does not \
             (CLOSE there deletes the connection, §3.10.4)"
                .into(),
        );
    }
    let (me, peer, my_syn) = match role {
        Role::Server => (flow.server, flow.client, syn_ack),
        Role::Client => (flow.client, flow.server, syn),
    };
    let (my_isn, peer_isn) = match role {
        Role::Server => (seq(syn_ack), seq(syn)),
        Role::Client => (seq(syn), seq(syn_ack)),
    };
    // The recorded streams, from the segments whose checksums verify (a corrupted one was
    // dropped by its receiver; one cut short cannot be summed, and is taken).
    let usable = |s: &&Segment| !s.complete || tcp_checksum(s) != Checksum::Bad;
    let mut my_stream = Stream::default();
    let mut peer_stream = Stream::default();
    for s in flow.segments.iter().filter(usable) {
        if s.src == me {
            my_stream.note(my_isn, s);
        } else {
            peer_stream.note(peer_isn, s);
        }
    }
    let (my_text, peer_bytes) = match (my_stream.contiguous(), peer_stream.contiguous()) {
        (Ok(m), Ok(p)) => (m, p),
        (Err(at), _) | (_, Err(at)) => {
            return Replay::Skip(format!(
                "a recorded stream has a hole at byte {at} (segments missing from the capture, \
                 or dropped as corrupted)"
            ));
        }
    };
    let unknown = my_text
        .iter()
        .chain(&peer_bytes)
        .filter(|b| b.is_none())
        .count();
    // What the replaced end's application writes: the bytes not captured as zeros.
    let my_bytes: Vec<u8> = my_text.iter().map(|b| b.unwrap_or(0)).collect();

    let mut tcp = Connection::new(Config {
        initial_seq: 0x4000_0000,
        send_capacity: my_bytes.len().max(1) + 1,
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
    if role == Role::Client {
        // The client's SYN offers what the recorded one did, so that the recorded server's
        // answers mean the same.
        for o in syn_options(syn) {
            tcp.set_option(o);
        }
    } else {
        tcp.listen(me.1);
    }
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
                if let (Some(ours), Some(theirs)) = (tsval(&out), tsval(&my_syn.tcp)) {
                    ts_offset.get_or_insert(ours.wrapping_sub(theirs));
                }
            }
            if let Some(isn) = *our_isn {
                let hlen = usize::from(out[12] >> 4) * 4;
                sent_stream.note_bytes(isn, seq, f, &out[hlen..], out.len() - hlen);
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
        if s.src == me {
            // The recorded end's application: its OPEN, what it had written by now, its close.
            let f = flags(s);
            if role == Role::Client && f & SYN != 0 && our_isn.is_none() {
                tcp.connect(me.1, peer.1, now);
            }
            let end = u64::from(seq(s).wrapping_sub(my_isn).wrapping_sub(1))
                + u64::from(f & SYN != 0)
                + text_len(s) as u64;
            let end = usize::try_from(end)
                .unwrap_or(usize::MAX)
                .min(my_bytes.len());
            if end > written && !closed {
                written += tcp.send(&my_bytes[written..end], now);
            }
            if f & FIN != 0 && !closed {
                if written < my_bytes.len() {
                    written += tcp.send(&my_bytes[written..], now);
                }
                tcp.shutdown(now);
                closed = true;
            }
            // A reset the peer went on regardless of (more data or a FIN after it) was not
            // this end's: injected on the way, it is not replayed.
            let ignored = segments[i + 1..]
                .iter()
                .any(|later| later.src == peer && (text_len(later) > 0 || flags(later) & FIN != 0));
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
        // A peer segment: its ACK must not run ahead of what the Prolac TCP has sent.
        let Ok(mut h) = decode_tcp(&s.tcp) else {
            return Replay::Fail(format!("frame {}: does not decode", s.frame));
        };
        if h.flags & u16::from(ACK) != 0 {
            let Some(isn) = our_isn else {
                return Replay::Fail(format!(
                    "frame {}: the peer acknowledges before the Prolac TCP sent its SYN",
                    s.frame
                ));
            };
            let target = isn.wrapping_add(h.ack.wrapping_sub(my_isn));
            // Give the TCP time to send what is acknowledged (its timers, the window).
            let mut waited = 0;
            while i64::from(target.wrapping_sub(isn)) > sent_end(&sent_stream) as i64 + 1
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
                        let ours = our_isn.unwrap_or(0).wrapping_add(edge.wrapping_sub(my_isn));
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
        bytes.extend_from_slice(&text(s));
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
    let (me_name, peer_name) = match role {
        Role::Server => ("server", "client"),
        Role::Client => ("client", "server"),
    };
    if let Some(at) = difference(&received, &peer_bytes) {
        return Replay::Fail(format!(
            "the Prolac {me_name} received {} of the {peer_name}'s {} bytes (first difference at {at})",
            received.len(),
            peer_bytes.len()
        ));
    }
    let sent = sent_stream.contiguous().unwrap_or_default();
    let sent: Vec<u8> = sent.iter().map(|b| b.unwrap_or(0)).collect();
    if sent.len() < my_text.len() || difference(&sent[..my_text.len()], &my_text).is_some() {
        return Replay::Fail(format!(
            "the Prolac {me_name} sent {} of the {me_name}'s {} bytes, or other bytes",
            sent.len(),
            my_text.len()
        ));
    }
    // A FIN counts where it ends the stream (one elsewhere was bogus, and not taken).
    let peer_fin = peer_stream.fin == Some(peer_bytes.len() as u64);
    let my_fin = my_stream.fin == Some(my_bytes.len() as u64);
    let recorded_end = ending(role, peer_fin, my_fin, peer_stream.rst, my_stream.rst);
    let our_end = ending(
        role,
        saw_fin,
        sent_stream.fin.is_some(),
        reset_by_peer,
        sent_rst,
    );
    if recorded_end != our_end {
        return Replay::Fail(format!(
            "ended with {our_end}, the capture with {recorded_end}"
        ));
    }
    let cut = if unknown > 0 {
        format!(" ({unknown} bytes not captured, not compared)")
    } else {
        String::new()
    };
    Replay::Pass(format!(
        "{} bytes in, {} out{cut}, {recorded_end}",
        peer_bytes.len(),
        my_bytes.len()
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

/// A SYN the recorded server refused with a reset, with the Prolac TCP as the client: the
/// recorded reset, its acknowledgment translated, must refuse the Prolac TCP's SYN
/// (RFC 9293 §3.10.7.3: "error: connection reset", then CLOSED).
fn refused_client(flow: &Flow, syn: &Segment) -> Replay {
    let Some(recorded) = flow
        .segments
        .iter()
        .find(|s| s.src == flow.server && flags(s) & RST != 0)
    else {
        return Replay::Skip("the capture has no SYN,ACK nor reset from the server".into());
    };
    let Ok(mut h) = decode_tcp(&recorded.tcp) else {
        return Replay::Fail(format!("frame {}: does not decode", recorded.frame));
    };
    let mut tcp = Connection::new(Config {
        initial_seq: 0x4000_0000,
        ..Config::default()
    });
    for o in syn_options(syn) {
        tcp.set_option(o);
    }
    tcp.connect(flow.client.1, flow.server.1, 0);
    let Some(our_syn) = tcp.poll_transmit() else {
        return Replay::Fail("connect sent no SYN".into());
    };
    let our_isn = u32::from_be_bytes([our_syn[4], our_syn[5], our_syn[6], our_syn[7]]);
    if h.flags & u16::from(ACK) != 0 {
        h.ack = our_isn.wrapping_add(h.ack.wrapping_sub(seq(syn)));
    }
    let mut bytes = encode_tcp(&h);
    bytes.extend_from_slice(payload(recorded));
    tcp.input(&bytes, 1);
    let reset = tcp.events().iter().any(|e| matches!(e, Event::Reset));
    if reset && tcp.state() == State::Closed {
        Replay::Pass("refused: the recorded reset closed the connection".into())
    } else {
        Replay::Fail(format!(
            "the recorded reset left the Prolac client in {:?}",
            tcp.state()
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

/// How a connection ended, in the capture's words: which ends sent a FIN and a reset.
fn ending(role: Role, peer_fin: bool, my_fin: bool, peer_rst: bool, my_rst: bool) -> String {
    let (client_fin, server_fin, client_rst, server_rst) = match role {
        Role::Server => (peer_fin, my_fin, peer_rst, my_rst),
        Role::Client => (my_fin, peer_fin, my_rst, peer_rst),
    };
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
