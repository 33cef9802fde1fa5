//! Conformance tools for the Prolac TCP (issue 7): `prolac-drill` runs packetdrill scripts
//! in-process against the TCP with a virtual clock ([`drill`]).

pub mod drill;
