//! Finding the end of host-language text: host blocks `{ … }` (brace-balanced) and support
//! blocks `%{ … %}` (up to the first `%}`), skipping the host language's comments and literals
//! so that braces and `%}` inside them do not count.
//!
//! | Construct | C host | Rust host |
//! |---|---|---|
//! | `// …` | skipped | skipped |
//! | `/* … */` | skipped, not nested | skipped, nested |
//! | `"…"` with `\` escapes | skipped | skipped (also `b"…"`, `c"…"`) |
//! | `r"…"`, `r#"…"#`, `br#"…"#` | — | skipped |
//! | complete character literals | skipped | skipped |
//! | a `'` that starts no complete literal (a lifetime) | text | text |

/// The language inside host blocks and support blocks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum HostLang {
    /// C, as in programs written for the 1999 compiler (`--host c`).
    C,
    /// Rust, the default.
    #[default]
    Rust,
}

enum Skip {
    /// Nothing to skip at this position.
    Not,
    /// A comment or literal ends just before this offset.
    To(usize),
    /// A comment or literal runs to the end of the text.
    Unterminated,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Length of the UTF-8 character starting with byte `b` (1 for invalid lead bytes).
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn skip_block_comment(src: &[u8], mut i: usize, lang: HostLang) -> Skip {
    // `i` points at the `/` of `/*`.
    i += 2;
    let mut depth = 1usize;
    while i < src.len() {
        if src[i] == b'*' && src.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Skip::To(i);
            }
        } else if lang == HostLang::Rust && src[i] == b'/' && src.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    Skip::Unterminated
}

fn skip_string(src: &[u8], mut i: usize) -> Skip {
    // `i` points at the opening `"`.
    i += 1;
    while i < src.len() {
        match src[i] {
            b'\\' => i += 2,
            b'"' => return Skip::To(i + 1),
            _ => i += 1,
        }
    }
    Skip::Unterminated
}

/// A Rust raw string starting at `i` (`r"`, `r#"`, `br"`, `cr#"`…), if there is one.
fn skip_raw_string(src: &[u8], i: usize) -> Skip {
    if i > 0 && is_ident_byte(src[i - 1]) {
        return Skip::Not;
    }
    let mut j = i;
    if matches!(src[j], b'b' | b'c') {
        j += 1;
    }
    if src.get(j) != Some(&b'r') {
        return Skip::Not;
    }
    j += 1;
    let hashes = src[j..].iter().take_while(|&&b| b == b'#').count();
    j += hashes;
    if src.get(j) != Some(&b'"') {
        return Skip::Not; // `r#ident` or an ordinary identifier
    }
    j += 1;
    while j < src.len() {
        if src[j] == b'"'
            && src[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&b| b == b'#')
                .count()
                == hashes
        {
            return Skip::To(j + 1 + hashes);
        }
        j += 1;
    }
    Skip::Unterminated
}

/// A complete character literal starting at the `'` at `i`, if there is one. Anything else (a
/// Rust lifetime or label, a C multi-character constant) is not skipped.
fn skip_char_literal(src: &[u8], i: usize, lang: HostLang) -> Skip {
    let mut j = i + 1;
    let Some(&first) = src.get(j) else {
        return Skip::Not;
    };
    match first {
        b'\'' | b'\n' | b'\r' => return Skip::Not,
        b'\\' => {
            j += 1;
            let Some(&e) = src.get(j) else {
                return Skip::Not;
            };
            j += 1;
            match (e, lang) {
                (b'x', _) => {
                    j += src[j..]
                        .iter()
                        .take_while(|b| b.is_ascii_hexdigit())
                        .count()
                }
                (b'u', HostLang::Rust) if src.get(j) == Some(&b'{') => {
                    match src[j..].iter().position(|&b| b == b'}') {
                        Some(close) if close <= 8 => j += close + 1,
                        _ => return Skip::Not,
                    }
                }
                (b'0'..=b'7', HostLang::C) => {
                    j += src[j..]
                        .iter()
                        .take(2)
                        .take_while(|b| (b'0'..=b'7').contains(b))
                        .count()
                }
                _ => {}
            }
        }
        b => j += char_len(b),
    }
    if src.get(j) == Some(&b'\'') {
        Skip::To(j + 1)
    } else {
        Skip::Not
    }
}

fn skip(src: &[u8], i: usize, lang: HostLang) -> Skip {
    match src[i] {
        b'/' if src.get(i + 1) == Some(&b'/') => Skip::To(
            src[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(src.len(), |p| i + p),
        ),
        b'/' if src.get(i + 1) == Some(&b'*') => skip_block_comment(src, i, lang),
        b'"' => skip_string(src, i),
        b'\'' => skip_char_literal(src, i, lang),
        b'r' | b'b' | b'c' if lang == HostLang::Rust => skip_raw_string(src, i),
        _ => Skip::Not,
    }
}

/// Given the offset just after a host block's `{`, returns the offset just after its matching
/// `}`, or `None` if the block is not closed.
pub(crate) fn scan_host_block(src: &[u8], start: usize, lang: HostLang) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = start;
    while i < src.len() {
        match skip(src, i, lang) {
            Skip::To(j) => i = j,
            Skip::Unterminated => return None,
            Skip::Not => {
                match src[i] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
    }
    None
}

/// Given the offset just after `%{`, returns the offset just after the first `%}` outside host
/// comments and literals, or `None` if there is none.
pub(crate) fn scan_support_block(src: &[u8], start: usize, lang: HostLang) -> Option<usize> {
    let mut i = start;
    while i < src.len() {
        match skip(src, i, lang) {
            Skip::To(j) => i = j,
            Skip::Unterminated => return None,
            Skip::Not if src[i] == b'%' && src.get(i + 1) == Some(&b'}') => return Some(i + 2),
            Skip::Not => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(text: &str, lang: HostLang) -> Option<&str> {
        let end = scan_host_block(text.as_bytes(), 1, lang)?;
        Some(&text[..end])
    }

    #[test]
    fn braces_balance() {
        assert_eq!(
            host("{ a { b } c } d", HostLang::Rust),
            Some("{ a { b } c }")
        );
        assert_eq!(host("{ a { b }", HostLang::Rust), None);
    }

    #[test]
    fn c_comments_strings_and_chars_hide_braces() {
        let c = HostLang::C;
        assert_eq!(host("{ /* } */ x } y", c), Some("{ /* } */ x }"));
        assert_eq!(host("{ // }\n x } y", c), Some("{ // }\n x }"));
        assert_eq!(host("{ \"}\\\"}\" } y", c), Some("{ \"}\\\"}\" }"));
        assert_eq!(host("{ c = '}'; } y", c), Some("{ c = '}'; }"));
        assert_eq!(
            host("{ c = '\\''; d = '\\175'; } y", c),
            Some("{ c = '\\''; d = '\\175'; }")
        );
        // C block comments do not nest: the first `*/` ends the comment.
        assert_eq!(host("{ /* /* */ } */ } y", c), Some("{ /* /* */ }"));
    }

    #[test]
    fn rust_nested_comments_raw_strings_and_lifetimes() {
        let r = HostLang::Rust;
        assert_eq!(
            host("{ /* /* } */ } */ x } y", r),
            Some("{ /* /* } */ } */ x }")
        );
        assert_eq!(host("{ r#\"}\"# } y", r), Some("{ r#\"}\"# }"));
        assert_eq!(host("{ br##\"\"#}\"## } y", r), Some("{ br##\"\"#}\"## }"));
        assert_eq!(
            host("{ let s: &'static str = \"}\"; } y", r),
            Some("{ let s: &'static str = \"}\"; }")
        );
        assert_eq!(
            host("{ 'outer: loop { break 'outer; } } y", r),
            Some("{ 'outer: loop { break 'outer; } }")
        );
        assert_eq!(
            host("{ let c = '\\u{7D}'; } y", r),
            Some("{ let c = '\\u{7D}'; }")
        );
        assert_eq!(host("{ let c = '}'; } y", r), Some("{ let c = '}'; }"));
        // `for"` is not a raw string prefix.
        assert_eq!(host("{ r#type } y", r), Some("{ r#type }"));
    }

    #[test]
    fn support_blocks_end_at_the_first_real_close() {
        let src = b"%{ /* %} */ int x = '%'; \"%}\" } %} after";
        let end = scan_support_block(src, 2, HostLang::C);
        assert_eq!(end, Some(src.len() - 6));
        assert_eq!(scan_support_block(b"%{ never", 2, HostLang::C), None);
    }
}
