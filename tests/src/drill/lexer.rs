//! Tokens of a packetdrill script. Logos matches the context-free ones; the driver
//! ([`tokenize`]) finishes those with scanning rules of their own — block comments, strings,
//! backtick commands, `%{ … }%` code blocks, and the `--option` and `#ifdef` lines — and keeps
//! newlines, which end events.

use logos::Logos;

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\x0C]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
enum Raw {
    #[token("\n")]
    Newline,
    #[token("/*")]
    BlockComment,
    #[token("\"")]
    Quote,
    #[token("`")]
    Backtick,
    #[token("%{")]
    CodeOpen,
    #[token("--")]
    DashDash,
    #[token("#")]
    Hash,
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    #[regex(r"0[xX][0-9A-Fa-f]+")]
    Hex,
    #[regex(r"[0-9]+")]
    Int,
    #[regex(r"[0-9]+\.[0-9]+")]
    Float,
    #[token("...")]
    Ellipsis,
    #[token(".")]
    Dot,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("~")]
    Tilde,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token("=")]
    Eq,
    #[token("|")]
    Pipe,
    #[token("&")]
    Amp,
    #[token("/")]
    Slash,
    #[token("!")]
    Bang,
}

/// A token of a script.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// The end of a line.
    Newline,
    /// A name.
    Ident(String),
    /// A decimal integer.
    Int(u64),
    /// A hexadecimal integer.
    Hex(u64),
    /// A decimal number with a fraction, as written.
    Float(String),
    /// A string literal's contents (escapes `\"` and `\\` resolved).
    Str(String),
    /// A backtick command's text.
    Shell(String),
    /// A `%{ … }%` block's text.
    Code(String),
    /// A `--name[=value]` line.
    OptionLine(String, String),
    /// A `#directive rest` line.
    Directive(String, String),
    /// `...`
    Ellipsis,
    /// A punctuation character: one of `. + - * ~ < > [ ] ( ) { } , : = | & / !`.
    Punct(char),
}

/// A token and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned {
    /// The token.
    pub tok: Tok,
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column.
    pub col: usize,
}

/// A lexical error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

/// Line and column of each byte offset.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    fn at(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        (line, offset - self.starts[line - 1] + 1)
    }
}

/// The tokens of `text`.
///
/// # Errors
///
/// An unknown character, an unterminated string, command, comment or code block, or a
/// number too large for 64 bits.
pub fn tokenize(text: &str) -> Result<Vec<Spanned>, LexError> {
    let lines = Lines::new(text);
    let mut out = Vec::new();
    let mut lex = Raw::lexer(text);
    let err = |offset: usize, message: String| {
        let (line, col) = lines.at(offset);
        LexError { line, col, message }
    };
    while let Some(raw) = lex.next() {
        let span = lex.span();
        let start = span.start;
        let (line, col) = lines.at(start);
        let slice = lex.slice();
        let Ok(raw) = raw else {
            return Err(err(start, format!("unexpected character {slice:?}")));
        };
        let rest = &text[span.end..];
        let tok = match raw {
            Raw::Newline => Tok::Newline,
            Raw::BlockComment => {
                let end = rest
                    .find("*/")
                    .ok_or_else(|| err(start, "unterminated /* comment".into()))?;
                // A comment spanning lines still ends the line it started on.
                let newlines = rest[..end].matches('\n').count();
                lex.bump(end + 2);
                if newlines > 0 {
                    Tok::Newline
                } else {
                    continue;
                }
            }
            Raw::Quote => {
                let mut s = String::new();
                let mut chars = rest.char_indices();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '"' => {
                            end = Some(i + 1);
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, 'n')) => s.push('\n'),
                            Some((_, 't')) => s.push('\t'),
                            Some((_, c)) => s.push(c),
                            None => break,
                        },
                        '\n' => break,
                        c => s.push(c),
                    }
                }
                let end = end.ok_or_else(|| err(start, "unterminated string".into()))?;
                lex.bump(end);
                Tok::Str(s)
            }
            Raw::Backtick => {
                let end = rest
                    .find('`')
                    .ok_or_else(|| err(start, "unterminated `command`".into()))?;
                lex.bump(end + 1);
                Tok::Shell(rest[..end].trim().to_string())
            }
            Raw::CodeOpen => {
                let end = rest
                    .find("}%")
                    .ok_or_else(|| err(start, "unterminated %{ code block".into()))?;
                lex.bump(end + 2);
                Tok::Code(rest[..end].trim().to_string())
            }
            Raw::DashDash if at_line_start(text, start) => {
                let len = rest.find('\n').unwrap_or(rest.len());
                lex.bump(len);
                let body = rest[..len].trim();
                match body.split_once('=') {
                    Some((name, value)) => {
                        Tok::OptionLine(name.trim().to_string(), value.trim().to_string())
                    }
                    None => Tok::OptionLine(body.to_string(), String::new()),
                }
            }
            Raw::DashDash => {
                out.push(Spanned {
                    tok: Tok::Punct('-'),
                    line,
                    col,
                });
                Tok::Punct('-')
            }
            Raw::Hash if at_line_start(text, start) => {
                let len = rest.find('\n').unwrap_or(rest.len());
                lex.bump(len);
                let body = rest[..len].trim();
                let (name, arg) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
                Tok::Directive(name.to_string(), arg.trim().to_string())
            }
            Raw::Hash => {
                return Err(err(
                    start,
                    "`#` is only a directive at a line's start".into(),
                ));
            }
            Raw::Ident => Tok::Ident(slice.to_string()),
            Raw::Hex => Tok::Hex(
                u64::from_str_radix(&slice[2..], 16)
                    .map_err(|_| err(start, format!("{slice} does not fit 64 bits")))?,
            ),
            Raw::Int => Tok::Int(
                slice
                    .parse()
                    .map_err(|_| err(start, format!("{slice} does not fit 64 bits")))?,
            ),
            Raw::Float => Tok::Float(slice.to_string()),
            Raw::Ellipsis => Tok::Ellipsis,
            Raw::Dot => Tok::Punct('.'),
            Raw::Plus => Tok::Punct('+'),
            Raw::Minus => Tok::Punct('-'),
            Raw::Star => Tok::Punct('*'),
            Raw::Tilde => Tok::Punct('~'),
            Raw::Lt => Tok::Punct('<'),
            Raw::Gt => Tok::Punct('>'),
            Raw::LBracket => Tok::Punct('['),
            Raw::RBracket => Tok::Punct(']'),
            Raw::LParen => Tok::Punct('('),
            Raw::RParen => Tok::Punct(')'),
            Raw::LBrace => Tok::Punct('{'),
            Raw::RBrace => Tok::Punct('}'),
            Raw::Comma => Tok::Punct(','),
            Raw::Colon => Tok::Punct(':'),
            Raw::Eq => Tok::Punct('='),
            Raw::Pipe => Tok::Punct('|'),
            Raw::Amp => Tok::Punct('&'),
            Raw::Slash => Tok::Punct('/'),
            Raw::Bang => Tok::Punct('!'),
        };
        out.push(Spanned { tok, line, col });
    }
    Ok(out)
}

/// Whether only blanks precede `offset` on its line.
fn at_line_start(text: &str, offset: usize) -> bool {
    text[..offset]
        .rsplit('\n')
        .next()
        .is_none_or(|before| before.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        tokenize(text)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .into_iter()
            .map(|s| s.tok)
            .collect()
    }

    #[test]
    fn a_packet_line() {
        assert_eq!(
            toks("+0.1 < S. 0:0(0) win 65535 <mss 1460>"),
            [
                Tok::Punct('+'),
                Tok::Float("0.1".into()),
                Tok::Punct('<'),
                Tok::Ident("S".into()),
                Tok::Punct('.'),
                Tok::Int(0),
                Tok::Punct(':'),
                Tok::Int(0),
                Tok::Punct('('),
                Tok::Int(0),
                Tok::Punct(')'),
                Tok::Ident("win".into()),
                Tok::Int(65535),
                Tok::Punct('<'),
                Tok::Ident("mss".into()),
                Tok::Int(1460),
                Tok::Punct('>'),
            ]
        );
    }

    #[test]
    fn lines_with_rules_of_their_own() {
        assert_eq!(
            toks("--tolerance_usecs=75000\n#ifdef FreeBSD\n0 `sysctl -w a=1` // c\n%{ x\n }%"),
            [
                Tok::OptionLine("tolerance_usecs".into(), "75000".into()),
                Tok::Newline,
                Tok::Directive("ifdef".into(), "FreeBSD".into()),
                Tok::Newline,
                Tok::Int(0),
                Tok::Shell("sysctl -w a=1".into()),
                Tok::Newline,
                Tok::Code("x".into()),
            ]
        );
    }

    #[test]
    fn errors_name_their_place() {
        let e = tokenize("0 `never closed").expect_err("unterminated");
        assert_eq!((e.line, e.col), (1, 3));
        let e = tokenize("\n  $").expect_err("unknown character");
        assert_eq!((e.line, e.col), (2, 3));
        assert!(tokenize("99999999999999999999999").is_err());
    }
}
