//! The Prolac front end: lexer, parser, syntax tree and diagnostics.
//!
//! [`parse`] turns one file's text into a syntax tree plus every lexical and syntax
//! diagnostic; it never fails and never panics. Multi-file programs (`include`) are assembled
//! by `prolac-compiler`, which owns all IO.

pub mod ast;
pub mod codes;
mod cook;
mod depth;
pub mod diagnostic;
mod fold;
pub mod lexer;
mod parser;
pub mod print;
pub mod render;
pub mod source_map;
pub mod span;
pub mod token;
mod validate;

/// Re-exported so that drivers render diagnostics with the same version.
pub use codespan_reporting;
pub use depth::MAX_DEPTH;
pub use diagnostic::{Diagnostic, Severity};
pub use lexer::HostLang;
pub use source_map::SourceMap;
pub use span::{FileId, Span};

/// Options for parsing.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseOptions {
    /// The language inside host blocks and support blocks.
    pub host: HostLang,
}

/// The result of parsing one file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The syntax tree (with error nodes where parsing failed).
    pub file: ast::File,
    /// All lexical and syntax diagnostics, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Line directives found in the file; give them to [`SourceMap::set_line_directives`].
    pub directives: Vec<source_map::LineDirective>,
    /// Number of tokens (for statistics).
    pub token_count: usize,
}

/// Parses one file.
pub fn parse(file: FileId, text: &str, options: ParseOptions) -> Parsed {
    let lexed = lexer::lex(file, text, options.host);
    let mut diagnostics = lexed.diagnostics;
    let token_count = lexed.tokens.len();
    let tokens = cook::cook(lexed.tokens, text, &mut diagnostics);
    let lexical_errors: Vec<Span> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.primary.span)
        .collect();
    let items = parser::parse_tokens(file, text, tokens, &lexical_errors, &mut diagnostics);
    let mut file = ast::File { items };
    depth::limit(&mut file, &mut diagnostics);
    validate::validate(&file, &mut diagnostics);
    diagnostic::sort(&mut diagnostics);
    Parsed {
        file,
        diagnostics,
        directives: lexed.directives,
        token_count,
    }
}
