//! `prolac-drill`: packetdrill scripts run in-process against the Prolac TCP. The script
//! language ([`ast`], [`lexer`], [`parser`]) is packetdrill's.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use parser::{ParseError, parse};
