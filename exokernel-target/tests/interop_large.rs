//! 64 MiB from the client, from the server, and both ways at once, on a clean link (1 ms
//! each way, 100 Mbit/s), on the `exokernel_target::sim` harness: the Prolac TCP as client
//! and as server against smoltcp, and against itself. The Prolac TCP sends nothing twice,
//! and each transfer ends within 200 ms of virtual time per MiB (the link carries a MiB in
//! 84 ms, 64 MiB in 5.4 s).
//!
//! smoltcp, sending, does retransmit here: its retransmission timer is restarted only when
//! everything sent has been acknowledged (RFC 6298 §5.3 restarts it on every ACK of new
//! data), and against the Prolac TCP, whose window (at most 65,535 bytes, no scaling) keeps
//! its pipe full, that moment stops coming: the timer expires mid-stream and smoltcp resends
//! its whole window (18,720 of 64,803 segments for 64 MiB one way, 39,410 of 86,749 with
//! data both ways; none sending 16 MiB to itself). That costs it about twice the link's
//! time, hence the bound.
//!
//! The payload is generated from the seed as it is sent and checked as it arrives, so the
//! runs hold no copy of the data; each costs a simulation step per segment (about 46,000
//! per 64 MiB each way).

mod common;

use common::interop::{
    MIB, PROLAC_CLIENT_SMOL_SERVER, PROLAC_PROLAC, SMOL_CLIENT_PROLAC_SERVER,
    each_way_and_both_ways,
};

const LEN: usize = 64 * MIB;

#[test]
fn prolac_client_smoltcp_server_64_mib() {
    each_way_and_both_ways(PROLAC_CLIENT_SMOL_SERVER, 5000, LEN, 200_000, false);
}

#[test]
fn smoltcp_client_prolac_server_64_mib() {
    each_way_and_both_ways(SMOL_CLIENT_PROLAC_SERVER, 5010, LEN, 200_000, false);
}

#[test]
fn prolac_prolac_64_mib() {
    each_way_and_both_ways(PROLAC_PROLAC, 5020, LEN, 200_000, false);
}
