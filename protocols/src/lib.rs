//! Protocols written in Prolac, compiled to Rust by the build script, behind safe sans-IO APIs.
//!
//! [`tcp`] is RFC 9293's TCP (`tcp/*.pc`). Nothing here reads a clock or touches a device: the
//! caller passes `now` (milliseconds) in, feeds arriving segments, and takes the segments to
//! send.

pub mod tcp;
