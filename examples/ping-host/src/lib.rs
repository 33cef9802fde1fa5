//! The ping example protocol (`examples/ping/`), compiled to Rust by `build.rs` through
//! `prolac_compiler::Build`, linked with the host functions its extern methods name.
//!
//! The host here is a simulation: transmitted packets go to a per-thread wire, packets are
//! allocated from the heap, and the clock is a per-thread counter the caller sets.

#![deny(warnings)]
// Generated code dereferences raw pointers (each such body is one documented `unsafe` block),
// and the host functions take raw packet pointers.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};

/// Host state, per thread.
pub mod host {
    use super::{Cell, RefCell};

    thread_local! {
        static WIRE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
        static DROPS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
        static NOW: Cell<u64> = const { Cell::new(0) };
        static ALLOCATED: Cell<usize> = const { Cell::new(0) };
    }

    /// Sets the clock `now_ms` returns.
    pub fn set_now(ms: u64) {
        NOW.with(|n| n.set(ms));
    }

    /// Takes every packet transmitted so far, as bytes.
    pub fn take_wire() -> Vec<Vec<u8>> {
        WIRE.with(|w| std::mem::take(&mut *w.borrow_mut()))
    }

    /// Takes the sequence numbers passed to `trace_drop` so far.
    pub fn take_drops() -> Vec<u32> {
        DROPS.with(|d| std::mem::take(&mut *d.borrow_mut()))
    }

    /// How many packets the protocol has allocated.
    pub fn allocated() -> usize {
        ALLOCATED.with(Cell::get)
    }

    pub(crate) fn now() -> u64 {
        NOW.with(Cell::get)
    }

    pub(crate) fn record_drop(seq: u32) {
        DROPS.with(|d| d.borrow_mut().push(seq));
    }

    pub(crate) fn record_alloc() {
        ALLOCATED.with(|a| a.set(a.get() + 1));
    }

    pub(crate) fn record_packet(bytes: Vec<u8>) {
        WIRE.with(|w| w.borrow_mut().push(bytes));
    }
}

/// The extern methods of `examples/ping/host.pc`, as Rust functions in the generated code's
/// scope (one set per generated module: each has its own `PingPacket` type).
macro_rules! host_functions {
    () => {
        fn transmit(p: *mut PingPacket, len: u32) {
            let n = (len as usize).min(core::mem::size_of::<PingPacket>());
            // SAFETY: `p` comes from `ping_alloc`, a live heap packet of `size_of` bytes.
            let bytes = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), n) }.to_vec();
            crate::host::record_packet(bytes);
            // SAFETY: allocated by `ping_alloc` with `Box::into_raw`, and not used again.
            drop(unsafe { Box::from_raw(p) });
        }
        fn ping_alloc() -> *mut PingPacket {
            crate::host::record_alloc();
            Box::into_raw(Box::new(PingPacket::ZERO))
        }
        fn now_ms() -> u64 {
            crate::host::now()
        }
        fn trace_drop(seq: u32) {
            crate::host::record_drop(seq);
        }
    };
}

/// The whole stack: `Base`, `Rtt`, `Rate-Limit`.
pub mod ping {
    host_functions!();
    include!(concat!(env!("OUT_DIR"), "/ping.rs"));
}

/// The stack built `--without rate-limit`.
pub mod ping_without_rate_limit {
    host_functions!();
    include!(concat!(env!("OUT_DIR"), "/ping_without_rate_limit.rs"));
}
