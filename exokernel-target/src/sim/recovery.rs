//! The loss-recovery experiment (issue 6): one bulk transfer, Prolac TCP ↔ Prolac TCP, over
//! a faulty in-memory wire, for any compiled variant of the TCP and any connection options —
//! to compare SACK with NewReno alone, and CUBIC with Reno's congestion avoidance, by what the
//! sender had to send again and how long the transfer took.
//!
//! The client sends a [`Payload`] of the requested length and closes; the server reads every
//! byte (checked against the payload as it arrives) and closes when the client's FIN arrives.
//! Everything runs in virtual time on the [`Wire`]; the run is a function of its seed. The
//! counts are the sender adapter's ([`ConnectionStats`]): what the TCP handed to the wire.

use core::net::Ipv4Addr;

use protocols::tcp::{State, TcpOption, Variant};

use super::payload::{Payload, Sink, Source};
use crate::netstack::{FourTuple, NetConfig, NetStack};
use crate::prolac_tcp::{ConnectionStats, ProlacConfig, ProlacStack, ProlacTcp};
use crate::wire::{EndId, LinkConfig, Wire, WireConfig};

/// One run of the experiment.
#[derive(Clone, Debug)]
pub struct Recovery {
    /// Bytes the client sends.
    pub bytes: usize,
    /// The seed of the wire's faults and the payload.
    pub seed: u64,
    /// Both directions of the wire.
    pub link: LinkConfig,
    /// Options set on both connections.
    pub options: &'static [TcpOption],
    /// Send and receive buffers of both connections.
    pub buffer: usize,
    /// The run gives up after this much virtual time, in µs.
    pub max_us: u64,
}

/// What a run measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoveryOutcome {
    /// The sender's counts.
    pub sender: ConnectionStats,
    /// When the receiver had every byte, in µs of virtual time.
    pub done_us: u64,
    /// Frames the wire dropped.
    pub frames_lost: u64,
    /// Duplicate segments the receiver reported (D-SACK blocks; 0 without SACK): what the
    /// sender need not have sent again, or the wire duplicated.
    pub receiver_dsacks: u32,
}

impl RecoveryOutcome {
    /// Goodput: payload bytes per second of virtual time, in Mbit/s.
    #[must_use]
    pub fn goodput_mbit(&self, bytes: usize) -> f64 {
        bytes as f64 * 8.0 / self.done_us.max(1) as f64
    }
}

const CLIENT_PORT: u16 = 40_000;
const SERVER_PORT: u16 = 80;

fn mac(n: u8) -> smoltcp::wire::EthernetAddress {
    smoltcp::wire::EthernetAddress([0x02, 0, 0, 0, 0, n])
}

/// Runs `r` with the TCP variant `V` on both ends.
///
/// # Errors
///
/// A message if the stacks refuse their configuration, the data arrives damaged, or the
/// transfer does not finish within `max_us`.
pub fn run_recovery<V: Variant>(r: &Recovery) -> Result<RecoveryOutcome, String> {
    let ip = |n| Ipv4Addr::new(192, 0, 2, n);
    let config = ProlacConfig {
        send_capacity: r.buffer,
        receive_capacity: r.buffer,
        options: r.options,
        auto_read: false,
        isn_seed: r.seed,
        ..ProlacConfig::default()
    };
    let stack = |n| NetStack::new(NetConfig::new(mac(n), ip(n))).map_err(|e| e.to_string());
    let mut client: NetStack<ProlacTcp<V>> = stack(1)?;
    let mut server: NetStack<ProlacTcp<V>> = stack(2)?;
    server.listen(SERVER_PORT, ProlacTcp::listener(SERVER_PORT, config));
    let wire_config = WireConfig::new(r.seed, 2).all_links(r.link.clone());
    let mut wire = Wire::new(wire_config).map_err(|e| e.to_string())?;
    let key = client
        .prolac_connect(CLIENT_PORT, (ip(2), SERVER_PORT), config, 0)
        .map_err(|e| format!("{e:?}"))?;
    let server_key = FourTuple {
        local_ip: ip(2),
        local_port: SERVER_PORT,
        remote_ip: ip(1),
        remote_port: CLIENT_PORT,
    };
    let payload = Payload::new(r.seed, 1, r.bytes);
    let mut source = Source::new(payload);
    let mut sink = Sink::new(payload);
    let mut buf = vec![0; 64 * 1024];
    let mut now = 0;
    let mut closed = false;
    let mut sender = ConnectionStats::default();
    let mut done_us = None;
    let mut receiver_dsacks = 0;
    while now <= r.max_us {
        for (end, stack) in [(EndId::A, &mut client), (EndId::B, &mut server)] {
            let mut port = wire.port(end).map_err(|e| e.to_string())?;
            stack.drive(&mut port, now);
        }
        // The client's application: keep the send buffer full, then close.
        while !source.is_done() {
            let n = client.prolac_send(&key, source.pending(), now).unwrap_or(0);
            if n == 0 {
                break;
            }
            source.consume(n);
        }
        if source.is_done() && !closed {
            client.prolac_close(&key, now);
            closed = true;
        }
        if let Some(c) = client.prolac_connection(&key) {
            sender = *c.stats();
        }
        // The server's: read everything, check it, close after the FIN.
        loop {
            let n = server.prolac_recv(&server_key, &mut buf, now).unwrap_or(0);
            if n == 0 {
                break;
            }
            sink.push(&buf[..n]);
        }
        if let Some(problem) = sink.problem(false) {
            return Err(format!("seed {}: {problem}", r.seed));
        }
        if sink.is_complete() && done_us.is_none() {
            done_us = Some(now);
        }
        if let Some(c) = server.prolac_connection_mut(&server_key) {
            receiver_dsacks = c.info().dsacks;
        }
        let server_state = server.prolac_connection(&server_key).map(|c| c.state());
        if server_state == Some(State::CloseWait) {
            server.prolac_close(&server_key, now);
        }
        if let Some(done_us) = done_us
            && client.prolac_connection(&key).is_none_or(|c| {
                matches!(c.state(), State::TimeWait | State::Closed | State::FinWait2)
            })
        {
            return Ok(RecoveryOutcome {
                sender,
                done_us,
                frames_lost: wire.stats().lost,
                receiver_dsacks,
            });
        }
        let next = [wire.next_event_at(), client.poll_at(), server.poll_at()]
            .into_iter()
            .flatten()
            .min();
        now = next.map_or(now + 1, |t| t.max(now + 1));
    }
    Err(format!(
        "seed {}: not done after {} µs: {} of {} bytes received; sender {sender:?}",
        r.seed,
        r.max_us,
        sink.received(),
        r.bytes
    ))
}
