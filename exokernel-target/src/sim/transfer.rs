//! Whole transfers: a connection between the two hosts, data each way, an ending, and the
//! checks that the TCPs did their job.
//!
//! [`run_transfer`] opens the connection (the client connects from [`CLIENT_PORT`] to the
//! server's [`SERVER_PORT`]), lets each end's application send its payload and read the
//! other's, ends the connection as [`Ending`] says, and waits until both hosts have
//! forgotten it. It then checks:
//!
//! - every byte arrived intact, in order and exactly once (for an abort: what arrived is an
//!   intact beginning of what was sent);
//! - a graceful close is one: each Prolac connection reported `Established` first and
//!   `Closed` last and the peer's FIN at most once; when one side closes first it goes
//!   through TIME-WAIT and the other through LAST-ACK;
//! - a side sends resets only once its connection is over (TIME-WAIT or CLOSED: answers to
//!   segments still in flight or sent late — duplicates of a last ACK, retransmissions queued
//!   behind it, a FIN retransmitted after smoltcp's 10 s TIME-WAIT ended; RFC 9293
//!   §3.10.7.1), and for an abort only the aborting side sends any;
//! - the Prolac adapter's count of the segments it sent matches what the sniffer saw leave
//!   the host, less what the stack dropped (packets waiting for ARP when a resolution
//!   failed or its queue overflowed);
//! - smoltcp never built a frame the wire refused.

use protocols::tcp::{Event, Full, State, Variant};

use super::app::EndApp;
use super::outcome::{EndOutcome, Outcome, TransferError};
use super::{
    CLIENT_PORT, End, HostConfig, MAX_ITERATIONS, Payload, SERVER_PORT, Sim, SimConfig, Sink,
    Source, StackKind, clean_link,
};
use crate::wire::LinkConfig;

/// smoltcp's TIME-WAIT, in µs.
const SMOLTCP_TIME_WAIT_US: u64 = 10_000_000;

/// How an end's application reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// Reads everything as soon as it arrives.
    Prompt,
    /// Reads nothing until its host has advertised a zero window for `hold_us`, then reads
    /// promptly. The sender must then learn that the window opened again (a window update,
    /// or its own zero-window probe). A Prolac end that stalls has the adapter's
    /// [`auto_read`](crate::prolac_tcp::ProlacConfig::auto_read) turned off.
    StallUntilZeroWindow {
        /// How long the window stays closed, in µs.
        hold_us: u64,
    },
}

/// When an application stalled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    /// Since when the host had advertised a zero window, in µs.
    pub zero_window_since_us: u64,
    /// When the application began reading, in µs.
    pub resumed_at_us: u64,
}

/// How the connection ends. Closing is RFC 9293's CLOSE (a half-close): a side goes on
/// receiving after its FIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Gracefully. With `first: None` each side closes once it has handed all its data to
    /// the TCP (a side with nothing to send waits for the peer's FIN; the FINs may cross);
    /// with `Some(end)` that end closes first (once its data is handed over) and the other
    /// only after the FIN.
    Close {
        /// Which side closes first, if one must.
        first: Option<End>,
    },
    /// Gracefully, each side as soon as its own data is handed to the TCP — a side with
    /// nothing to send at once — reading on after its close (a half-close when the other
    /// side still sends).
    CloseEagerly,
    /// End `by` aborts once it has received `after_received` bytes (neither side closes).
    Abort {
        /// The aborting end.
        by: End,
        /// How many bytes it receives first.
        after_received: usize,
    },
}

/// One run: which TCP on each end, who connects, how much each side sends, the wire, how it
/// ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfer {
    /// The scenario's name, for messages.
    pub name: String,
    /// The seed every random decision derives from.
    pub seed: u64,
    /// The hosts on ends A and B.
    pub hosts: [HostConfig; 2],
    /// The end that connects.
    pub client: End,
    /// Bytes ends A and B send.
    pub sends: [usize; 2],
    /// How ends A and B read.
    pub readers: [Reader; 2],
    /// How the connection ends.
    pub ending: Ending,
    /// Every direction of the wire.
    pub link: LinkConfig,
    /// Whether to record the frames crossing end A ([`Outcome::pcap`]).
    pub record: bool,
    /// The bound on virtual time until both sides have closed, in µs.
    pub max_us: u64,
    /// The bound on steps.
    pub max_iterations: u64,
}

impl Transfer {
    /// A run of `kinds` (ends A and B) in which `client` connects and the ends send `sends`
    /// bytes, on a [`clean_link`], reading promptly, closing when done, within 600 s of
    /// virtual time.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        seed: u64,
        kinds: [StackKind; 2],
        client: End,
        sends: [usize; 2],
    ) -> Self {
        Self {
            name: name.into(),
            seed,
            hosts: [
                HostConfig::new(kinds[0], End::A, seed),
                HostConfig::new(kinds[1], End::B, seed),
            ],
            client,
            sends,
            readers: [Reader::Prompt; 2],
            ending: Ending::Close { first: None },
            link: clean_link(),
            record: false,
            max_us: 600_000_000,
            max_iterations: MAX_ITERATIONS,
        }
    }

    /// The TCP on `end`.
    #[must_use]
    pub const fn kind(&self, end: End) -> StackKind {
        self.hosts[end.index()].kind
    }

    /// A one-line description: kinds, client, sizes, link.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "A {} sends {} B, B {} sends {} B, {} connects, {:?}, link {:?}",
            self.kind(End::A),
            self.sends[0],
            self.kind(End::B),
            self.sends[1],
            self.client,
            self.ending,
            self.link
        )
    }
}

/// The failure of run `t` in `sim`, with the capture if it was recorded.
fn fail<V: Variant>(t: &Transfer, sim: &mut Sim<V>, message: String) -> TransferError {
    TransferError {
        scenario: t.name.clone(),
        seed: t.seed,
        message: format!("{message} [{}]", t.describe()),
        pcap: sim.take_capture(),
    }
}

/// Runs a transfer to its end and checks it.
///
/// The client connects from [`CLIENT_PORT`] to the server's [`SERVER_PORT`]; each end's
/// application sends its payload and reads the other's; the connection ends as
/// [`Transfer::ending`] says; the run goes on until both hosts have forgotten the
/// connection. Then: every byte arrived intact, in order and exactly once (for an abort, an
/// intact beginning); each Prolac connection reported `Established` first, `Closed` last and
/// the peer's FIN at most once; a side that closed first went through TIME-WAIT and the
/// other through LAST-ACK; resets came only after a side's connection was over (or, for an
/// abort, only from the aborting side); the Prolac adapter's count of segments sent matches
/// what the sniffer saw leave the host, less the stack's drops; smoltcp never built a frame
/// the wire refused.
///
/// # Errors
///
/// A [`TransferError`] naming the scenario, the seed and the first check that failed (or
/// the bound that was hit), with the capture if the run was recorded.
pub fn run_transfer(t: &Transfer) -> Result<Outcome, TransferError> {
    run_transfer_with::<Full>(t)
}

/// [`run_transfer`] with Prolac hosts running TCP variant `V` (for instance the JIT-compiled
/// `protocols::tcp::Jit`).
///
/// # Errors
///
/// As [`run_transfer`].
pub fn run_transfer_with<V: Variant>(t: &Transfer) -> Result<Outcome, TransferError> {
    let mut hosts = t.hosts;
    for (host, reader) in hosts.iter_mut().zip(t.readers) {
        if matches!(reader, Reader::StallUntilZeroWindow { .. }) {
            host.prolac.auto_read = false;
        }
    }
    let mut sim = Sim::<V>::with_variant(SimConfig {
        seed: t.seed,
        link: t.link.clone(),
        hosts,
        record: t.record,
        on_panic_capture: None,
    })
    .map_err(|e| TransferError {
        scenario: t.name.clone(),
        seed: t.seed,
        message: e.to_string(),
        pcap: None,
    })?;
    sim.set_max_iterations(t.max_iterations);
    let server = t.client.other();
    let server_conn = sim
        .host_mut(server)
        .listen(SERVER_PORT, (t.client.ip(), CLIENT_PORT));
    let server_conn = match server_conn {
        Ok(c) => c,
        Err(e) => return Err(fail(t, &mut sim, format!("the server cannot listen: {e}"))),
    };
    let client_conn = sim
        .host_mut(t.client)
        .connect(CLIENT_PORT, (server.ip(), SERVER_PORT), 0);
    let client_conn = match client_conn {
        Ok(c) => c,
        Err(e) => return Err(fail(t, &mut sim, format!("the client cannot connect: {e}"))),
    };
    let payloads = [
        Payload::new(t.seed, 0, t.sends[0]),
        Payload::new(t.seed, 1, t.sends[1]),
    ];
    let mut apps = End::BOTH.map(|end| {
        let conn = if end == server {
            server_conn
        } else {
            client_conn
        };
        let mut app = EndApp::new(
            end,
            t.client,
            conn,
            Source::new(payloads[end.index()]),
            Sink::new(payloads[end.other().index()]),
        );
        app.set_reader(t.readers[end.index()]);
        app
    });

    let closed_at_us = transfer_phase(t, &mut sim, &mut apps)?;
    let cleaned_at_us = cleanup_phase(t, &mut sim, &mut apps, closed_at_us)?;
    if let Err(message) = check(t, &sim, &apps) {
        return Err(fail(t, &mut sim, message));
    }
    let ends = apps.map(|app| {
        let flow = sim.flows().get(app.end.ip(), app.port);
        EndOutcome {
            end: app.end,
            kind: t.kind(app.end),
            client: app.end == t.client,
            flow,
            prolac_stats: app.stats,
            events: app.events,
            states: app.states,
            sent: app.source.sent(),
            sent_digest: app.source.digest(),
            received: app.sink.received(),
            received_digest: app.sink.digest(),
            received_intact: app.sink.is_complete(),
            received_all_at_us: app.received_all_at,
            finished_at_us: app.finished_at,
            aborted_at_us: app.aborted_at,
            stall: app.stall,
        }
    });
    Ok(Outcome {
        name: t.name.clone(),
        seed: t.seed,
        closed_at_us,
        cleaned_at_us,
        iterations: sim.iterations(),
        ends,
        wire: sim.wire_stats(),
        pcap: sim.take_capture(),
    })
}

/// Whether the transfer phase is over.
fn done(ending: Ending, apps: &[EndApp; 2]) -> bool {
    match ending {
        Ending::Close { .. } | Ending::CloseEagerly => {
            apps.iter().all(|a| a.sink.is_complete() && a.is_finished())
        }
        Ending::Abort { by, .. } => {
            apps[by.index()].aborted_at.is_some() && apps[by.other().index()].is_finished()
        }
    }
}

/// Runs the applications until the data is across and both sides have closed (or the abort
/// has reached the peer); returns when, in µs.
fn transfer_phase<V: Variant>(
    t: &Transfer,
    sim: &mut Sim<V>,
    apps: &mut [EndApp; 2],
) -> Result<u64, TransferError> {
    let mut idle = 0;
    loop {
        let [a, b] = apps;
        let progress_a = a.turn(sim, t.ending);
        let progress_b = b.turn(sim, t.ending);
        if done(t.ending, apps) {
            return Ok(sim.last_step());
        }
        let wake = apps.iter().filter_map(|a| a.wake_at(sim)).min();
        sim.wake_at(wake);
        let pending = sim.step();
        idle = if pending || progress_a || progress_b {
            0
        } else {
            idle + 1
        };
        let stuck = idle > 100;
        // The bound is on the time simulated so far: the applications see what the step
        // just run did before the next (perhaps much later) step.
        if stuck || sim.iterations() > t.max_iterations || sim.last_step() > t.max_us {
            let sides: Vec<String> = apps
                .iter()
                .map(|a| {
                    format!(
                        "{} sent {}/{}, received {}/{}{}",
                        a.end,
                        a.source.sent(),
                        a.source.payload().len(),
                        a.sink.received(),
                        a.sink.expected().len(),
                        a.stall.map_or(String::new(), |s| format!(
                            ", stalled until {} µs",
                            s.resumed_at_us
                        ))
                    )
                })
                .collect();
            let message = format!(
                "not done ({}) at {} µs after {} iterations: {}; {}",
                if stuck {
                    "stalled: nothing pending"
                } else {
                    "out of time"
                },
                sim.last_step(),
                sim.iterations(),
                sides.join("; "),
                sim.describe(),
            );
            return Err(fail(t, sim, message));
        }
    }
}

/// Runs until both hosts have forgotten the connection (smoltcp after its TIME-WAIT, the
/// Prolac host after its own or at once after LAST-ACK); returns when, in µs.
fn cleanup_phase<V: Variant>(
    t: &Transfer,
    sim: &mut Sim<V>,
    apps: &mut [EndApp; 2],
    closed_at_us: u64,
) -> Result<u64, TransferError> {
    let longest_time_wait = t
        .hosts
        .iter()
        .map(|h| match h.kind {
            StackKind::Prolac => h.prolac.time_wait_us.max(h.prolac.closed_linger_us),
            StackKind::Smoltcp => SMOLTCP_TIME_WAIT_US,
        })
        .max()
        .unwrap_or(SMOLTCP_TIME_WAIT_US);
    let deadline = closed_at_us.saturating_add(2 * longest_time_wait);
    loop {
        for app in apps.iter_mut() {
            app.observe(sim);
        }
        if sim.host(End::A).is_idle() && sim.host(End::B).is_idle() {
            return Ok(sim.last_step());
        }
        sim.step();
        if sim.iterations() > t.max_iterations || sim.last_step() > deadline {
            let message = format!(
                "the connection is not forgotten at {} µs ({})",
                sim.last_step(),
                sim.describe()
            );
            return Err(fail(t, sim, message));
        }
    }
}

/// The checks of the [module documentation](self).
fn check<V: Variant>(t: &Transfer, sim: &Sim<V>, apps: &[EndApp; 2]) -> Result<(), String> {
    let graceful = matches!(t.ending, Ending::Close { .. } | Ending::CloseEagerly);
    for app in apps {
        let end = app.end;
        let kind = t.kind(end);
        if let Some(problem) = app.sink.problem(graceful) {
            return Err(format!("{end} ({kind}) received wrong data: {problem}"));
        }
        if sim.host(end).smol_tx_errors() > 0 {
            return Err(format!("{end} (smoltcp) built a frame the wire refused"));
        }
        let flow = sim.flows().get(end.ip(), app.port);
        let events = &app.events;
        if graceful {
            if kind == StackKind::Prolac {
                let peer_closed = events.iter().filter(|e| **e == Event::PeerClosed).count();
                if events.first() != Some(&Event::Established)
                    || events.last() != Some(&Event::Closed)
                    || peer_closed > 1
                {
                    return Err(format!("{end} (Prolac) reported events {events:?}"));
                }
                // Every segment the TCP built left the host (none too long, none misaddressed).
                if let Some(errors) = app.stats.map(|s| s.send_errors).filter(|&e| e > 0) {
                    return Err(format!(
                        "{end} (Prolac): the stack refused {errors} segments"
                    ));
                }
                // What the connection sent, against what left the host.
                let stack = sim
                    .host(end)
                    .prolac_stack()
                    .map(|s| s.stats().clone())
                    .unwrap_or_default();
                let out = app.stats.map_or(0, |s| s.segments_out);
                let seen = flow.segments + stack.tx_pending_drops + stack.tx_queue_drops;
                if out != seen {
                    return Err(format!(
                        "{end} (Prolac): the adapter counted {out} segments sent, the sniffer \
                         {} (stack {stack:?})",
                        flow.segments
                    ));
                }
            }
            // Resets only once the connection is over.
            if let Some(reset) = flow.first_reset_us
                && app.finished_at.is_none_or(|f| reset < f)
            {
                return Err(format!(
                    "{end} ({kind}) sent a reset at {reset} µs before it closed (at {:?})",
                    app.finished_at
                ));
            }
        }
        if let Ending::Close { first: Some(first) } = t.ending {
            let path = |a: &EndApp| format!("{:?}", a.states);
            let ok = if end == first {
                app.was_in(State::TimeWait) && !app.was_in(State::LastAck)
            } else {
                app.was_in(State::LastAck) && !app.was_in(State::TimeWait)
            };
            if !ok {
                return Err(format!(
                    "{first} closed first, but {end} ({kind}) went through {}",
                    path(app)
                ));
            }
        }
        if let Ending::Abort { by, .. } = t.ending {
            if end == by && flow.resets == 0 {
                return Err(format!("{end} ({kind}) aborted without sending a reset"));
            }
            // (Over a link that duplicates or reorders, a late copy of the aborter's data can
            // reach the peer after it closed, which answers it with a reset, as it must.)
            let late_copies = t.link.duplicate > 0.0 || t.link.reorder > 0.0;
            if end != by {
                if flow.resets > 0 && !late_copies {
                    return Err(format!(
                        "{end} ({kind}) sent a reset after the peer aborted"
                    ));
                }
                if app.state() != Some(State::Closed) && app.state().is_some() {
                    return Err(format!("{end} ({kind}) is not closed by the reset"));
                }
                if app.was_in(State::TimeWait) || app.was_in(State::LastAck) {
                    return Err(format!(
                        "{end} ({kind}) closed gracefully although the peer aborted: {:?}",
                        app.states
                    ));
                }
                if kind == StackKind::Prolac && !events.contains(&Event::Reset) {
                    return Err(format!(
                        "{end} (Prolac) did not report the reset: events {events:?}"
                    ));
                }
            }
        }
    }
    Ok(())
}
