//! Two Prolac TCPs wired back to back in memory (segments handed over directly, no loss):
//! the three-way handshake, data both ways, and a graceful close from either side, with the
//! states each side passes through. Tagged with RFC 9293 requirement IDs where one applies.

//!
//! The same tests run against the full TCP and against the base alone (every optional layer
//! left out); the retransmission tests need the Timers layer and run against the full TCP only.

mod full {
    type V = protocols::tcp::Full;
    include!("basic/core.rs");
    include!("basic/timers.rs");
}

mod base_only {
    type V = protocols::tcp::BaseOnly;
    include!("basic/core.rs");
}
