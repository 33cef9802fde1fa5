//! What a [`Transfer`](super::Transfer) measured ([`Outcome`], one [`EndOutcome`] per end)
//! and why one failed ([`TransferError`]).

use core::fmt;

use protocols::tcp::{Event, State};

use super::transfer::Stall;
use super::{Digest, End, FlowStats, StackKind, state_name};
use crate::prolac_tcp::ConnectionStats;
use crate::wire::LinkStats;

/// What one end of a transfer did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndOutcome {
    /// The end.
    pub end: End,
    /// Which TCP it ran.
    pub kind: StackKind,
    /// Whether it opened the connection.
    pub client: bool,
    /// What the sniffer saw it send.
    pub flow: FlowStats,
    /// The Prolac adapter's counters (a Prolac end).
    pub prolac_stats: Option<ConnectionStats>,
    /// The Prolac adapter's events (a Prolac end).
    pub events: Vec<Event>,
    /// Every state its connection went through, in order (`None`: forgotten).
    pub states: Vec<Option<State>>,
    /// Bytes its application handed to the TCP.
    pub sent: usize,
    /// The digest of those bytes.
    pub sent_digest: Digest,
    /// Bytes its application received.
    pub received: usize,
    /// The digest of those bytes.
    pub received_digest: Digest,
    /// Whether what it received is exactly what the other end sent.
    pub received_intact: bool,
    /// When its application had received everything the other end sent, in µs.
    pub received_all_at_us: Option<u64>,
    /// When its connection reached TIME-WAIT or CLOSED, in µs.
    pub finished_at_us: Option<u64>,
    /// When its application aborted, in µs.
    pub aborted_at_us: Option<u64>,
    /// Its application's stall, if it stalled.
    pub stall: Option<Stall>,
}

impl EndOutcome {
    /// The states as text: `SYN-SENT → ESTABLISHED → … → forgotten`.
    #[must_use]
    pub fn state_path(&self) -> String {
        self.states
            .iter()
            .map(|s| s.map_or("forgotten", state_name))
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Whether the connection was ever seen in `state`.
    #[must_use]
    pub fn was_in(&self, state: State) -> bool {
        self.states.contains(&Some(state))
    }

    /// Whether the Prolac adapter reported a reset from the peer (always false for a
    /// smoltcp end, whose socket does not say why it closed).
    #[must_use]
    pub fn was_reset(&self) -> bool {
        self.events.contains(&Event::Reset)
    }
}

/// What a run measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The scenario's name.
    pub name: String,
    /// The run's seed.
    pub seed: u64,
    /// Virtual time when both sides had all data and had closed (or, for an abort, when the
    /// peer had seen the reset), in µs.
    pub closed_at_us: u64,
    /// Virtual time when both hosts had forgotten the connection, in µs.
    pub cleaned_at_us: u64,
    /// Steps run.
    pub iterations: u64,
    /// Ends A and B.
    pub ends: [EndOutcome; 2],
    /// The wire's counters, both directions added up.
    pub wire: LinkStats,
    /// The capture of the frames crossing end A, if recorded.
    pub pcap: Option<Vec<u8>>,
}

impl Outcome {
    /// End `end`.
    #[must_use]
    pub const fn end(&self, end: End) -> &EndOutcome {
        &self.ends[end.index()]
    }

    /// The first end running `kind`.
    #[must_use]
    pub fn of_kind(&self, kind: StackKind) -> Option<&EndOutcome> {
        self.ends.iter().find(|e| e.kind == kind)
    }

    /// Segments retransmitted by both ends (counted on the wire).
    #[must_use]
    pub fn retransmitted_segments(&self) -> u64 {
        self.ends
            .iter()
            .map(|e| e.flow.retransmitted_segments)
            .sum()
    }

    /// One paragraph about the run.
    #[must_use]
    pub fn summary(&self) -> String {
        let ends: Vec<String> = self
            .ends
            .iter()
            .map(|e| {
                format!(
                    "{} {}{} sent {} segments ({} retransmitted, {} B data retransmitted, \
                     {} resets), received {} B",
                    e.end,
                    e.kind,
                    if e.client { " (client)" } else { "" },
                    e.flow.segments,
                    e.flow.retransmitted_segments,
                    e.flow.retransmitted_bytes,
                    e.flow.resets,
                    e.received
                )
            })
            .collect();
        format!(
            "{} seed {}: closed at {:.3} s, cleaned up at {:.3} s, {} iterations; {}; wire \
             lost {}, duplicated {}, reordered {}, corrupted {}",
            self.name,
            self.seed,
            self.closed_at_us as f64 / 1e6,
            self.cleaned_at_us as f64 / 1e6,
            self.iterations,
            ends.join("; "),
            self.wire.lost,
            self.wire.duplicated,
            self.wire.reordered,
            self.wire.corrupted,
        )
    }
}

/// Why a transfer failed: the scenario, the seed, what went wrong, and the capture of the
/// run if it was recorded.
#[derive(Clone, PartialEq, Eq)]
pub struct TransferError {
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// What went wrong, with the state of both sides.
    pub message: String,
    /// The capture of the frames crossing end A, if recorded.
    pub pcap: Option<Vec<u8>>,
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} seed {}: {}", self.scenario, self.seed, self.message)
    }
}

impl fmt::Debug for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        if let Some(pcap) = &self.pcap {
            write!(f, " (capture of {} bytes)", pcap.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for TransferError {}
