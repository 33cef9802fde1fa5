//! The application on one end of a [`Transfer`](super::Transfer): it sends its payload,
//! reads and checks what arrives (promptly, or only once its receive window has been closed
//! for a while), closes or aborts when the scenario says, and notes what its connection did
//! along the way (states, the Prolac adapter's events and counters, when it finished).
//!
//! Closing is RFC 9293's CLOSE, a half-close: the application goes on reading what the peer
//! still sends.

use protocols::tcp::{Event, State, Variant};

use super::transfer::{Ending, Reader, Stall};
use super::{CLIENT_PORT, Conn, End, SERVER_PORT, Sim, Sink, Source};
use crate::prolac_tcp::ConnectionStats;

/// How many bytes one read asks for.
const READ_LEN: usize = 16 * 1024;

/// One end's application and what it saw.
#[derive(Debug)]
pub(super) struct EndApp {
    pub(super) end: End,
    pub(super) conn: Conn,
    /// The port of the end's connection.
    pub(super) port: u16,
    pub(super) source: Source,
    pub(super) sink: Sink,
    reader: Reader,
    /// Whether the application reads (false while it stalls).
    reading: bool,
    pub(super) stall: Option<Stall>,
    /// Whether the application has called close.
    pub(super) closed: bool,
    /// When the application aborted, in µs.
    pub(super) aborted_at: Option<u64>,
    /// Whether the connection has been seen with a state (a Prolac server's connection has
    /// none before the SYN arrives, and none again once forgotten).
    seen: bool,
    /// Every state seen, in order, without repeats (`None`: forgotten).
    pub(super) states: Vec<Option<State>>,
    /// The Prolac adapter's events and counters, as last seen.
    pub(super) events: Vec<Event>,
    pub(super) stats: Option<ConnectionStats>,
    /// When the connection was first seen in TIME-WAIT or CLOSED (or forgotten), in µs.
    pub(super) finished_at: Option<u64>,
    /// When the application had received the whole payload, in µs.
    pub(super) received_all_at: Option<u64>,
    buf: Vec<u8>,
}

impl EndApp {
    pub(super) fn new(end: End, client: End, conn: Conn, source: Source, sink: Sink) -> Self {
        Self {
            end,
            conn,
            port: if end == client {
                CLIENT_PORT
            } else {
                SERVER_PORT
            },
            source,
            sink,
            reader: Reader::Prompt,
            reading: true,
            stall: None,
            closed: false,
            aborted_at: None,
            seen: false,
            states: Vec::new(),
            events: Vec::new(),
            stats: None,
            finished_at: None,
            received_all_at: None,
            buf: vec![0; READ_LEN],
        }
    }

    /// Sets how the application reads.
    pub(super) fn set_reader(&mut self, reader: Reader) {
        self.reader = reader;
        self.reading = matches!(reader, Reader::Prompt);
    }

    /// The connection's state as last seen.
    pub(super) fn state(&self) -> Option<State> {
        self.states.last().copied().flatten()
    }

    /// Whether the connection is over: TIME-WAIT, CLOSED, or forgotten.
    pub(super) fn is_finished(&self) -> bool {
        match self.states.last() {
            Some(Some(state)) => matches!(state, State::TimeWait | State::Closed),
            Some(None) => true,
            None => false,
        }
    }

    /// Whether the connection was ever seen in `state`.
    pub(super) fn was_in(&self, state: State) -> bool {
        self.states.contains(&Some(state))
    }

    /// Notes the connection's state after a step.
    pub(super) fn observe<V: Variant>(&mut self, sim: &Sim<V>) {
        let host = sim.host(self.end);
        let state = host.state(self.conn);
        self.seen |= state.is_some();
        if self.seen && self.states.last() != Some(&state) {
            self.states.push(state);
        }
        if let Some(conn) = host.prolac_connection(self.conn) {
            if conn.events().len() != self.events.len() {
                self.events = conn.events().to_vec();
            }
            self.stats = Some(*conn.stats());
            if self.finished_at.is_none() {
                self.finished_at = conn.finished_at();
            }
        }
        if self.finished_at.is_none() && self.is_finished() {
            self.finished_at = Some(sim.last_step());
        }
    }

    /// When the application wants a step even if nothing else happens (the end of a stall).
    pub(super) fn wake_at<V: Variant>(&self, sim: &Sim<V>) -> Option<u64> {
        match self.reader {
            Reader::StallUntilZeroWindow { hold_us } if !self.reading => sim
                .flows()
                .get(self.end.ip(), self.port)
                .zero_window_since
                .map(|since| since.saturating_add(hold_us)),
            _ => None,
        }
    }

    /// One turn of the application at the current time: send what fits, read what arrived,
    /// close or abort when due. Returns whether it did anything.
    pub(super) fn turn<V: Variant>(&mut self, sim: &mut Sim<V>, ending: Ending) -> bool {
        self.observe(sim);
        if self.aborted_at.is_some() {
            return false;
        }
        let now = sim.now();
        if !self.reading
            && let Reader::StallUntilZeroWindow { hold_us } = self.reader
            && let Some(since) = sim.flows().get(self.end.ip(), self.port).zero_window_since
            && now >= since.saturating_add(hold_us)
        {
            self.reading = true;
            self.stall = Some(Stall {
                zero_window_since_us: since,
                resumed_at_us: now,
            });
        }
        let mut progress = false;
        // What is read now arrived in the last step.
        let arrived_at = sim.last_step();
        let host = sim.host_mut(self.end);
        if !self.source.is_done() {
            let n = host.send(self.conn, self.source.pending(), now);
            self.source.consume(n);
            progress |= n > 0;
        }
        if self.reading {
            loop {
                let n = host.recv(self.conn, &mut self.buf, now);
                if n == 0 {
                    break;
                }
                self.sink.push(&self.buf[..n]);
                progress = true;
            }
            if self.received_all_at.is_none() && self.sink.is_complete() {
                self.received_all_at = Some(arrived_at);
            }
        }
        let state = host.state(self.conn);
        match ending {
            Ending::Abort { by, after_received } => {
                if by == self.end && self.sink.received() >= after_received {
                    host.abort(self.conn, now);
                    self.aborted_at = Some(now);
                    progress = true;
                }
            }
            Ending::Close { .. } | Ending::CloseEagerly => {
                let open = matches!(state, Some(State::Established | State::CloseWait));
                if !self.closed && open && self.source.is_done() {
                    let peer_closed = state == Some(State::CloseWait);
                    let may = match ending {
                        Ending::Close { first: None } => {
                            !self.source.payload().is_empty() || peer_closed
                        }
                        Ending::Close { first: Some(first) } => first == self.end || peer_closed,
                        Ending::CloseEagerly | Ending::Abort { .. } => true,
                    };
                    if may {
                        host.close(self.conn, now);
                        self.closed = true;
                        progress = true;
                    }
                }
            }
        }
        progress
    }
}
