//! Conformance tools for the Prolac TCP (issue 7): `prolac-drill` runs packetdrill scripts
//! in-process against the TCP with a virtual clock ([`drill`]); `prolac-replay` checks the TCP
//! flows of pcap captures ([`replay`]).

pub mod drill;
pub mod replay;
