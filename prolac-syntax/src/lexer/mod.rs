//! The lexer: source text to tokens, lexical diagnostics and line directives.
//!
//! The logos-generated [`raw`] lexer recognises the context-free tokens. This driver adds what
//! needs context or hand scanning:
//!
//! - block comments, string and character literals (with C escapes);
//! - number tokens validated as integer literals (floats rejected, P0105);
//! - host blocks: a `{` between a `::=` and the `;` that ends the definition opens a host block,
//!   captured as one token up to its matching `}` ([`host`] knows the host language's comments
//!   and literals); everywhere else `{` is punctuation;
//! - support blocks `%{ … %}`;
//! - `min=` and `max=`, which are single tokens only when the `=` is not followed by another `=`;
//! - line directives (`# 120 "file"`, `#line 120 "file"`) at the start of a line.
//!
//! The lexer never fails: every problem becomes a diagnostic, and the token stream stays
//! usable (a malformed number still yields an integer token, an unterminated literal ends at
//! the end of its line), so one mistake yields one diagnostic.

pub(crate) mod host;
pub(crate) mod literal;
mod raw;

use std::sync::Arc;

use logos::Logos;

use crate::codes::*;
use crate::diagnostic::Diagnostic;
use crate::source_map::LineDirective;
use crate::span::{FileId, Span};
use crate::token::{IntLit, IntSuffix, Radix, Tok};
pub use host::HostLang;
use raw::Raw;

/// What the lexer produces.
#[derive(Debug, Default)]
pub struct Lexed {
    /// Tokens with their spans, in source order.
    pub tokens: Vec<(Tok, Span)>,
    /// Lexical diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Line directives, in source order.
    pub directives: Vec<LineDirective>,
}

/// Length of the UTF-8 character whose first byte is `b`.
pub(crate) fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

struct Driver<'s> {
    src: &'s str,
    file: FileId,
    host: HostLang,
    out: Lexed,
    /// Between a `::=` and the `;` that ends its definition: `{` opens a host block.
    in_body: bool,
}

impl<'s> Driver<'s> {
    fn span(&self, lo: usize, hi: usize) -> Span {
        Span::new(self.file, lo, hi)
    }

    fn push(&mut self, tok: Tok, lo: usize, hi: usize) {
        let span = self.span(lo, hi);
        self.out.tokens.push((tok, span));
    }

    fn error(&mut self, d: Diagnostic) {
        self.out.diagnostics.push(d);
    }

    /// The offset of the end of the line containing `at` (the `\n`, or the end of the text).
    fn line_end(&self, at: usize) -> usize {
        self.src[at..].find('\n').map_or(self.src.len(), |p| at + p)
    }

    fn keyword(raw: Raw) -> Option<Tok> {
        use Raw as R;
        Some(match raw {
            R::All => Tok::All,
            R::AllStatic => Tok::AllStatic,
            R::Bool => Tok::Bool,
            R::Catch => Tok::Catch,
            R::Char => Tok::Char,
            R::Class => Tok::Class,
            R::Constructor => Tok::Constructor,
            R::DefaultInline => Tok::DefaultInline,
            R::Else => Tok::Else,
            R::ElseIf => Tok::ElseIf,
            R::End => Tok::End,
            R::Exception => Tok::Exception,
            R::Export => Tok::Export,
            R::False => Tok::False,
            R::Field => Tok::Field,
            R::Has => Tok::Has,
            R::Hide => Tok::Hide,
            R::If => Tok::If,
            R::In => Tok::In,
            R::Inline => Tok::Inline,
            R::Int => Tok::Int,
            R::Let => Tok::Let,
            R::Long => Tok::Long,
            R::Max => Tok::Max,
            R::Min => Tok::Min,
            R::Module => Tok::Module,
            R::NoInline => Tok::NoInline,
            R::NotUsing => Tok::NotUsing,
            R::Outline => Tok::Outline,
            R::PathInline => Tok::PathInline,
            R::Rename => Tok::Rename,
            R::SelfKw => Tok::SelfKw,
            R::SeqInt => Tok::SeqInt,
            R::Short => Tok::Short,
            R::Show => Tok::Show,
            R::Static => Tok::Static,
            R::Super => Tok::Super,
            R::Then => Tok::Then,
            R::True => Tok::True,
            R::UChar => Tok::UChar,
            R::UInt => Tok::UInt,
            R::ULong => Tok::ULong,
            R::UShort => Tok::UShort,
            R::Using => Tok::Using,
            R::Void => Tok::Void,
            R::Arrow => Tok::Arrow,
            R::PlusPlus => Tok::PlusPlus,
            R::MinusMinus => Tok::MinusMinus,
            R::ColonGt => Tok::ColonGt,
            R::Shl => Tok::Shl,
            R::Shr => Tok::Shr,
            R::Le => Tok::Le,
            R::Ge => Tok::Ge,
            R::EqEq => Tok::EqEq,
            R::Ne => Tok::Ne,
            R::AndAnd => Tok::AndAnd,
            R::OrOr => Tok::OrOr,
            R::PlusEq => Tok::PlusEq,
            R::MinusEq => Tok::MinusEq,
            R::StarEq => Tok::StarEq,
            R::SlashEq => Tok::SlashEq,
            R::PercentEq => Tok::PercentEq,
            R::CaretEq => Tok::CaretEq,
            R::AmpEq => Tok::AmpEq,
            R::PipeEq => Tok::PipeEq,
            R::ShlEq => Tok::ShlEq,
            R::ShrEq => Tok::ShrEq,
            R::Implies => Tok::Implies,
            R::CaseBar => Tok::CaseBar,
            R::Define => Tok::Define,
            R::LParen => Tok::LParen,
            R::RParen => Tok::RParen,
            R::LBracket => Tok::LBracket,
            R::RBracket => Tok::RBracket,
            R::LBrace => Tok::LBrace,
            R::RBrace => Tok::RBrace,
            R::Comma => Tok::Comma,
            R::Semi => Tok::Semi,
            R::Dot => Tok::Dot,
            R::Colon => Tok::Colon,
            R::Question => Tok::Question,
            R::Plus => Tok::Plus,
            R::Minus => Tok::Minus,
            R::Star => Tok::Star,
            R::Slash => Tok::Slash,
            R::Percent => Tok::Percent,
            R::Caret => Tok::Caret,
            R::Amp => Tok::Amp,
            R::Pipe => Tok::Pipe,
            R::Tilde => Tok::Tilde,
            R::Bang => Tok::Bang,
            R::Eq => Tok::Eq,
            R::Lt => Tok::Lt,
            R::Gt => Tok::Gt,
            R::At => Tok::At,
            R::BlockComment
            | R::DoubleQuote
            | R::SingleQuote
            | R::SupportOpen
            | R::SupportClose
            | R::Hash
            | R::Ident
            | R::Number => return None,
        })
    }

    fn run(mut self) -> Lexed {
        let mut lex = Raw::lexer(self.src);
        // A byte-order mark is not part of the program.
        if self.src.starts_with('\u{feff}') {
            lex.bump(3);
        }
        while let Some(result) = lex.next() {
            let range = lex.span();
            let (lo, hi) = (range.start, range.end);
            let raw = match result {
                Ok(raw) => raw,
                Err(()) => {
                    self.bad_char(&mut lex, lo);
                    continue;
                }
            };
            let consumed_to = match raw {
                Raw::BlockComment => self.block_comment(lo),
                Raw::DoubleQuote => self.string(lo),
                Raw::SingleQuote => self.char_literal(lo),
                Raw::SupportOpen => self.support(lo),
                Raw::SupportClose => {
                    self.error(
                        Diagnostic::new(P0101, self.span(lo, hi), "`%}` without a matching `%{`")
                            .with_label("no support block is open"),
                    );
                    hi
                }
                Raw::Hash => self.hash(lo),
                Raw::Number => {
                    self.number(lo, hi);
                    hi
                }
                Raw::Ident => {
                    self.ident(lo, hi);
                    hi
                }
                Raw::LBrace if self.in_body => self.host_block(lo),
                Raw::Min | Raw::Max if self.assign_suffix(hi) => {
                    let tok = if raw == Raw::Min {
                        Tok::MinEq
                    } else {
                        Tok::MaxEq
                    };
                    self.push(tok, lo, hi + 1);
                    hi + 1
                }
                _ => {
                    let Some(tok) = Self::keyword(raw) else {
                        continue;
                    };
                    self.track_body(tok);
                    self.push(tok, lo, hi);
                    hi
                }
            };
            if consumed_to > hi {
                lex.bump(consumed_to - hi);
            }
        }
        self.out
    }

    /// Keeps track of whether a `{` would open a host block. Besides `::=` … `;`, tokens that
    /// can only start a definition end a body, so that a missing `;` does not turn the next
    /// module's body into a host block.
    fn track_body(&mut self, tok: Tok) {
        match tok {
            Tok::Define => self.in_body = true,
            Tok::Semi
            | Tok::RBrace
            | Tok::Module
            | Tok::Class
            | Tok::Field
            | Tok::Static
            | Tok::Exception
            | Tok::Export => self.in_body = false,
            _ => {}
        }
    }

    /// `min=` / `max=`: the keyword is directly followed by `=` that is not part of `==`.
    fn assign_suffix(&self, hi: usize) -> bool {
        let b = self.src.as_bytes();
        b.get(hi) == Some(&b'=') && b.get(hi + 1) != Some(&b'=')
    }

    fn bad_char(&mut self, lex: &mut logos::Lexer<'s, Raw>, lo: usize) {
        let ch = self.src[lo..].chars().next().unwrap_or('?');
        let mut end = lo + ch.len_utf8();
        if ch.is_ascii() {
            self.error(
                Diagnostic::new(
                    P0101,
                    self.span(lo, end),
                    format!("unexpected character `{}`", ch.escape_default()),
                )
                .with_label("not part of any Prolac token"),
            );
        } else {
            // A word with non-ASCII letters (`Größe`) is reported once and kept as one
            // identifier, so that the parser sees the word the user wrote.
            let word = |c: char| c.is_alphanumeric() || c == '_';
            if word(ch) {
                end += self.src[end..]
                    .chars()
                    .take_while(|&c| word(c))
                    .map(char::len_utf8)
                    .sum::<usize>();
            }
            self.error(
                Diagnostic::new(
                    P0100,
                    self.span(lo, lo + ch.len_utf8()),
                    format!("non-ASCII character `{ch}` (U+{:04X})", ch as u32),
                )
                .with_label("only ASCII may appear here")
                .with_help("non-ASCII text may appear in comments, literals and host code"),
            );
            if word(ch) {
                match self.out.tokens.last_mut() {
                    Some((Tok::Ident, span)) if span.hi as usize == lo => {
                        *span = Span::new(self.file, span.lo as usize, end);
                    }
                    _ => self.push(Tok::Ident, lo, end),
                }
            }
        }
        let at = lex.span().end;
        if end > at {
            lex.bump(end - at);
        }
    }

    fn block_comment(&mut self, lo: usize) -> usize {
        match self.src[lo + 2..].find("*/") {
            Some(p) => lo + 2 + p + 2,
            None => {
                self.error(
                    Diagnostic::new(P0102, self.span(lo, lo + 2), "unterminated block comment")
                        .with_label("this comment runs to the end of the file")
                        .with_help("add `*/`"),
                );
                self.src.len()
            }
        }
    }

    /// Scans a quoted literal starting at `lo`; returns its bytes, its end, and whether it is
    /// well formed (closed, and without bad escapes, which are already reported).
    fn quoted(&mut self, lo: usize, quote: u8) -> (Vec<u8>, usize, bool) {
        let body = &self.src.as_bytes()[lo + 1..];
        let (bytes, end, errors) = literal::scan_quoted(body, quote);
        let clean = errors.is_empty();
        for e in errors {
            let at = lo + 1 + e.offset;
            self.error(
                Diagnostic::new(P0110, self.span(at, at + e.len), e.message).with_help(
                    "valid escapes: \\n \\t \\r \\0 \\\\ \\' \\\" \\a \\b \\f \\v \\xHH \\ooo",
                ),
            );
        }
        match end {
            Some(end) => (bytes, lo + 1 + end, clean),
            None => {
                let what = if quote == b'"' { "string" } else { "character" };
                let eol = self.line_end(lo);
                self.error(
                    Diagnostic::new(
                        P0104,
                        self.span(lo, lo + 1),
                        format!("unterminated {what} literal"),
                    )
                    .with_label(format!("this {what} literal is not closed on its line"))
                    .with_help(format!(
                        "add the closing {}",
                        if quote == b'"' { "`\"`" } else { "`'`" }
                    )),
                );
                (bytes, eol, false)
            }
        }
    }

    fn string(&mut self, lo: usize) -> usize {
        let (_, end, _) = self.quoted(lo, b'"');
        self.push(Tok::Str, lo, end);
        end
    }

    fn char_literal(&mut self, lo: usize) -> usize {
        let (bytes, end, well_formed) = self.quoted(lo, b'\'');
        let value = match bytes.as_slice() {
            _ if !well_formed => 0,
            [b] => *b,
            [] => {
                self.error(
                    Diagnostic::new(P0110, self.span(lo, end), "empty character literal")
                        .with_help("write a character between the quotes, e.g. '\\0'"),
                );
                0
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        P0110,
                        self.span(lo, end),
                        "a character literal must hold exactly one byte",
                    )
                    .with_help("use a string literal for several characters (a non-ASCII character is several bytes)"),
                );
                bytes[0]
            }
        };
        self.push(Tok::CharLit(value), lo, end);
        end
    }

    fn support(&mut self, lo: usize) -> usize {
        match host::scan_support_block(self.src.as_bytes(), lo + 2, self.host) {
            Some(end) => {
                self.push(Tok::Support, lo, end);
                end
            }
            None => {
                self.error(
                    Diagnostic::new(P0112, self.span(lo, lo + 2), "unterminated support block")
                        .with_label("no `%}` closes this block")
                        .with_help(
                            "add `%}`; a `%}` inside a host comment or literal does not count",
                        ),
                );
                self.push(Tok::Support, lo, self.src.len());
                self.src.len()
            }
        }
    }

    fn host_block(&mut self, lo: usize) -> usize {
        match host::scan_host_block(self.src.as_bytes(), lo + 1, self.host) {
            Some(end) => {
                self.push(Tok::Host, lo, end);
                end
            }
            None => {
                let help = match self.host {
                    HostLang::Rust => {
                        "close the block with `}`; for C host code use `--host c` (C block comments do not nest)"
                    }
                    HostLang::C => "close the block with `}`",
                };
                self.error(
                    Diagnostic::new(P0107, self.span(lo, lo + 1), "unterminated host block")
                        .with_label("this `{` is never closed")
                        .with_help(help),
                );
                self.push(Tok::Host, lo, self.src.len());
                self.in_body = false;
                self.src.len()
            }
        }
    }

    fn number(&mut self, lo: usize, hi: usize) {
        let text = &self.src[lo..hi];
        let lit = match literal::parse_number(text) {
            Ok(n) => {
                if n.overflowed {
                    self.error(
                        Diagnostic::new(
                            P0106,
                            self.span(lo, hi),
                            "integer literal is too large for `ulong`",
                        )
                        .with_label(format!("its low 64 bits, {}, are kept", n.lit.value)),
                    );
                }
                if n.long_long {
                    self.error(
                        Diagnostic::new(P0111, self.span(lo, hi), "`ll` suffix is read as `l`")
                            .with_help("`long` is 64 bits; write `l`"),
                    );
                }
                n.lit
            }
            Err(literal::NumberError::Float) => {
                self.error(
                    Diagnostic::new(P0105, self.span(lo, hi), "floating-point literal")
                        .with_label("not an integer")
                        .with_help("Prolac has no floating-point types"),
                );
                zero()
            }
            Err(literal::NumberError::Malformed(why)) => {
                let mut d = Diagnostic::new(
                    P0109,
                    self.span(lo, hi),
                    format!("malformed number `{text}`"),
                )
                .with_label(why);
                let starts_ident = text
                    .bytes()
                    .position(|b| b.is_ascii_alphabetic())
                    .filter(|&p| !text[..p].contains(['x', 'X']));
                if let Some(p) =
                    starts_ident.filter(|_| text.bytes().all(|b| b.is_ascii_alphanumeric()))
                {
                    d = d.with_help(format!(
                        "a letter directly after a number is part of the number; write `{} {}`",
                        &text[..p],
                        &text[p..]
                    ));
                }
                self.error(d);
                zero()
            }
        };
        self.push(Tok::IntLit(lit), lo, hi);
    }

    fn ident(&mut self, lo: usize, hi: usize) {
        let text = &self.src[lo..hi];
        let sep = |b: &u8| *b == b'-' || *b == b'_';
        if text.as_bytes().windows(2).any(|w| sep(&w[0]) && sep(&w[1])) {
            self.error(
                Diagnostic::new(
                    P0103,
                    self.span(lo, hi),
                    format!("identifier `{text}` uses the reserved spelling `__`"),
                )
                .with_label("names containing `__` are reserved for generated code")
                .with_help("use a single `-` or `_` between words"),
            );
        }
        self.push(Tok::Ident, lo, hi);
    }

    /// A `#`: a line directive if it is the first non-blank character of its line.
    fn hash(&mut self, lo: usize) -> usize {
        let line_start = self.src[..lo].rfind('\n').map_or(0, |p| p + 1);
        let at_line_start = self.src[line_start..lo]
            .bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\x0C'));
        if !at_line_start {
            self.error(
                Diagnostic::new(P0101, self.span(lo, lo + 1), "unexpected `#`")
                    .with_label("`#` is only meaningful at the start of a line")
                    .with_help("line directives (`# 12 \"file.pc\"`) must start their line"),
            );
            return lo + 1;
        }
        let end = self.line_end(lo);
        let line = &self.src[lo + 1..end];
        self.directive(lo, end, line);
        end
    }

    fn directive(&mut self, lo: usize, end: usize, text: &str) {
        let trimmed = text.trim_start_matches([' ', '\t']);
        let mut rest = trimmed;
        let word_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let word = &rest[..word_len];
        if word == "line" {
            rest = rest[4..].trim_start_matches([' ', '\t']);
        } else if !word.is_empty() && !word.as_bytes()[0].is_ascii_digit() {
            let help = if word == "include" {
                "use `include \"file.pc\";`, or run a C preprocessor first"
            } else {
                "run a C preprocessor first and compile its output, or use `include \"file.pc\";`"
            };
            self.error(
                Diagnostic::new(
                    P0108,
                    self.span(lo, lo + 1 + (text.len() - trimmed.len()) + word_len),
                    format!("unsupported directive `#{word}`"),
                )
                .with_label("only line directives may start a line with `#`")
                .with_help(help),
            );
            return;
        }
        let rest_trim = rest.trim_end_matches(['\r', ' ', '\t', '\x0C']);
        if rest_trim.is_empty() && word.is_empty() {
            return; // a null directive: `#` alone on its line
        }
        match parse_line_directive(rest_trim) {
            Some((line, file)) => {
                let next_line = self.src[..end].matches('\n').count() + 1;
                self.out.directives.push(LineDirective {
                    applies_from: next_line as u32,
                    line,
                    file,
                });
            }
            None => self.error(
                Diagnostic::new(P0113, self.span(lo, end), "malformed line directive")
                    .with_help("write `# LINE \"FILE\"` or `#line LINE \"FILE\"`"),
            ),
        }
    }
}

fn zero() -> IntLit {
    IntLit {
        value: 0,
        radix: Radix::Decimal,
        suffix: IntSuffix::None,
    }
}

/// `120 "ping.pc" 1 3` → `(120, Some("ping.pc"))`. Trailing flag numbers are ignored.
fn parse_line_directive(text: &str) -> Option<(u32, Option<Arc<str>>)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let line: u32 = text[..digits].parse().ok()?;
    let rest = text[digits..].trim_start_matches([' ', '\t']);
    if rest.is_empty() {
        return Some((line, None));
    }
    if !text[digits..].starts_with([' ', '\t']) || !rest.starts_with('"') {
        return None;
    }
    let (bytes, end, errors) = literal::scan_quoted(&rest.as_bytes()[1..], b'"');
    let end = end?;
    if !errors.is_empty() {
        return None;
    }
    let flags = &rest[1 + end..];
    if !flags
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b' ' || b == b'\t')
    {
        return None;
    }
    let name = String::from_utf8_lossy(&bytes).into_owned();
    Some((line, Some(Arc::from(name))))
}

/// Lexes one file.
pub fn lex(file: FileId, src: &str, host: HostLang) -> Lexed {
    Driver {
        src,
        file,
        host,
        out: Lexed::default(),
        in_body: false,
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        lex(FileId(0), src, HostLang::Rust)
            .tokens
            .iter()
            .map(|(t, s)| match t {
                Tok::Ident | Tok::IntLit(_) => src[s.range()].to_string(),
                other => other.describe().trim_matches('`').to_string(),
            })
            .collect()
    }

    /// L01, L04: the table of §2.3, row by row.
    #[test]
    fn identifier_table_of_section_2_3() {
        assert_eq!(texts("snd-next+1"), ["snd-next", "+", "1"]);
        assert_eq!(texts("count-1"), ["count-1"]);
        assert_eq!(texts("count - 1"), ["count", "-", "1"]);
        assert_eq!(texts("x--"), ["x", "--"]);
        assert_eq!(texts("ack- "), ["ack", "-"]);
        assert_eq!(texts("23_x"), ["23", "_x"]);
        assert_eq!(texts("a--b"), ["a", "--", "b"]);
        let lexed = lex(FileId(0), "-23x_y-23", HostLang::Rust);
        assert_eq!(texts("-23x_y-23"), ["-", "23x", "_y-23"]);
        assert_eq!(lexed.diagnostics.len(), 1);
        assert_eq!(lexed.diagnostics[0].code, P0109);
    }

    /// L12: `min=` is one token only when `=` is not followed by `=`.
    #[test]
    fn min_assign_is_longest_match_but_not_min_eqeq() {
        assert_eq!(texts("x min= y"), ["x", "min=", "y"]);
        assert_eq!(texts("min==y"), ["min", "==", "y"]);
        assert_eq!(texts("max= min ="), ["max=", "min", "="]);
    }

    #[test]
    fn unknown_directive_words_and_null_directives() {
        let lexed = lex(FileId(0), "#\n# 7\n#pragma once\n", HostLang::C);
        assert_eq!(lexed.directives.len(), 1);
        assert_eq!(lexed.directives[0].line, 7);
        assert_eq!(lexed.directives[0].applies_from, 2);
        assert_eq!(lexed.diagnostics.len(), 1);
        assert_eq!(lexed.diagnostics[0].code, P0108);
    }
}
