//! Printers for syntax trees: [`tree`] shows the structure as S-expressions, [`source`] prints
//! Prolac source that parses back to the same tree.

pub mod source;
pub mod tree;
