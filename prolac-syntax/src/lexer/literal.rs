//! Validation and decoding of literals: integer number tokens, character and string literals
//! with C escapes.

use crate::token::{IntLit, IntSuffix, Radix};

/// Why a number token is not a valid integer literal.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum NumberError {
    /// It is a floating-point literal (P0105).
    Float,
    /// It is malformed (P0109); the string says how.
    Malformed(String),
}

/// A valid integer literal, with the facts that deserve a warning.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Number {
    pub(crate) lit: IntLit,
    /// The value did not fit in 64 bits (P0106).
    pub(crate) overflowed: bool,
    /// The suffix used `ll` (P0111).
    pub(crate) long_long: bool,
}

/// Does the token have the shape of a C floating literal (`1.5`, `.5`, `1.`, `2e3`, `1e-3f`)?
fn looks_like_float(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    let has_dot = b.get(i) == Some(&b'.');
    if has_dot {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    let mut has_exp = false;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_digits = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits == 0 {
            return false;
        }
        has_exp = true;
        i = j + exp_digits;
    }
    if !has_dot && !has_exp {
        return false;
    }
    matches!(&t[i..], "" | "f" | "F" | "l" | "L")
}

fn suffix(s: &str) -> Option<(IntSuffix, bool)> {
    let lower = s.to_ascii_lowercase();
    // Mixed-case `lL` is not a C suffix.
    if lower.contains("ll") && !(s.contains("ll") || s.contains("LL")) {
        return None;
    }
    Some(match lower.as_str() {
        "" => (IntSuffix::None, false),
        "u" => (IntSuffix::U, false),
        "l" => (IntSuffix::L, false),
        "ll" => (IntSuffix::L, true),
        "ul" | "lu" => (IntSuffix::UL, false),
        "ull" | "llu" => (IntSuffix::UL, true),
        "q" => (IntSuffix::Q, false),
        _ => return None,
    })
}

/// Validates a number token (as scanned by the lexer) as an integer literal.
pub(crate) fn parse_number(t: &str) -> Result<Number, NumberError> {
    if looks_like_float(t) {
        return Err(NumberError::Float);
    }
    let (radix, digits_start) = if t.len() > 1 && (t.starts_with("0x") || t.starts_with("0X")) {
        (Radix::Hex, 2)
    } else if t.starts_with('0') {
        (Radix::Octal, 0)
    } else {
        (Radix::Decimal, 0)
    };
    let base: u64 = match radix {
        Radix::Hex => 16,
        Radix::Octal => 8,
        Radix::Decimal => 10,
    };
    let body = &t[digits_start..];
    let digits_len = body
        .bytes()
        .take_while(|b| match radix {
            Radix::Hex => b.is_ascii_hexdigit(),
            _ => b.is_ascii_digit(),
        })
        .count();
    let (digits, rest) = body.split_at(digits_len);
    if digits.is_empty() {
        return Err(NumberError::Malformed(if radix == Radix::Hex {
            "hexadecimal literal has no digits".into()
        } else {
            "number has no digits".into()
        }));
    }
    if t.contains('.') {
        return Err(NumberError::Malformed(
            "`.` cannot appear in an integer literal".into(),
        ));
    }
    let Some((suffix, long_long)) = suffix(rest) else {
        let bad = rest.chars().next().unwrap_or(' ');
        return Err(NumberError::Malformed(format!(
            "invalid suffix `{rest}` (unexpected `{bad}`)"
        )));
    };
    let mut value: u64 = 0;
    let mut overflowed = false;
    for c in digits.chars() {
        let d = c.to_digit(16).unwrap_or(0) as u64;
        if d >= base {
            return Err(NumberError::Malformed(format!(
                "invalid digit `{c}` in an octal literal"
            )));
        }
        match value.checked_mul(base).and_then(|v| v.checked_add(d)) {
            Some(v) => value = v,
            None => {
                overflowed = true;
                value = value.wrapping_mul(base).wrapping_add(d);
            }
        }
    }
    Ok(Number {
        lit: IntLit {
            value,
            radix,
            suffix,
        },
        overflowed,
        long_long,
    })
}

/// Why an escape sequence or a character literal is invalid.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct EscapeError {
    /// Byte offset of the problem, relative to the start of the scanned text.
    pub(crate) offset: usize,
    /// Its length in bytes.
    pub(crate) len: usize,
    pub(crate) message: String,
}

/// Decodes one escape sequence; `s` starts just after the backslash. Returns the byte value and
/// the number of bytes consumed.
fn escape(s: &[u8]) -> Result<(u8, usize), String> {
    let Some(&e) = s.first() else {
        return Err("incomplete escape sequence".into());
    };
    Ok(match e {
        b'n' => (b'\n', 1),
        b't' => (b'\t', 1),
        b'r' => (b'\r', 1),
        b'\\' => (b'\\', 1),
        b'\'' => (b'\'', 1),
        b'"' => (b'"', 1),
        b'?' => (b'?', 1),
        b'a' => (7, 1),
        b'b' => (8, 1),
        b'f' => (12, 1),
        b'v' => (11, 1),
        b'x' => {
            let n = s[1..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
            if n == 0 {
                return Err("`\\x` must be followed by hexadecimal digits".into());
            }
            if n > 2 {
                return Err("a `\\x` escape holds at most two hexadecimal digits".into());
            }
            let text = std::str::from_utf8(&s[1..1 + n]).unwrap_or("0");
            (u8::from_str_radix(text, 16).unwrap_or(0), 1 + n)
        }
        b'0'..=b'7' => {
            let n = s
                .iter()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .count();
            let text = std::str::from_utf8(&s[..n]).unwrap_or("0");
            let v = u32::from_str_radix(text, 8).unwrap_or(0);
            let v = u8::try_from(v)
                .map_err(|_| format!("octal escape `\\{text}` is larger than 255"))?;
            (v, n)
        }
        other => {
            return Err(format!(
                "unknown escape sequence `\\{}`",
                char::from(other).escape_default()
            ));
        }
    })
}

/// Scans the body of a string or character literal (`s` starts just after the opening quote)
/// up to the closing `quote` on the same line. Returns the decoded bytes, the offset just past
/// the closing quote (or `None` if the literal is unterminated) and any escape errors.
pub(crate) fn scan_quoted(s: &[u8], quote: u8) -> (Vec<u8>, Option<usize>, Vec<EscapeError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b if b == quote => return (out, Some(i + 1), errors),
            b'\n' => break,
            b'\r' if s.get(i + 1) == Some(&b'\n') => break,
            b'\\' => match escape(&s[i + 1..]) {
                Ok((byte, n)) => {
                    out.push(byte);
                    i += 1 + n;
                }
                Err(message) => {
                    if s.get(i + 1).is_none_or(|&b| b == b'\n') {
                        i += 1;
                        continue;
                    }
                    let len = 1 + crate::lexer::utf8_len(s[i + 1]);
                    errors.push(EscapeError {
                        offset: i,
                        len,
                        message,
                    });
                    i += len;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    (out, None, errors)
}

/// Decodes the text of a string literal including its quotes (escapes already validated by the
/// lexer; invalid ones are dropped).
pub(crate) fn decode_string(literal: &str) -> Vec<u8> {
    let body = literal.strip_prefix('"').unwrap_or(literal);
    scan_quoted(body.as_bytes(), b'"').0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(t: &str) -> (u64, Radix, IntSuffix) {
        let n = parse_number(t).unwrap_or_else(|e| panic!("{t}: {e:?}"));
        (n.lit.value, n.lit.radix, n.lit.suffix)
    }

    #[test]
    fn integer_literals_in_every_base_and_suffix() {
        assert_eq!(ok("1460"), (1460, Radix::Decimal, IntSuffix::None));
        assert_eq!(ok("0755"), (0o755, Radix::Octal, IntSuffix::None));
        assert_eq!(ok("0"), (0, Radix::Octal, IntSuffix::None));
        assert_eq!(ok("0xFFFF"), (0xFFFF, Radix::Hex, IntSuffix::None));
        assert_eq!(ok("10u"), (10, Radix::Decimal, IntSuffix::U));
        assert_eq!(ok("10UL"), (10, Radix::Decimal, IntSuffix::UL));
        assert_eq!(ok("10lu"), (10, Radix::Decimal, IntSuffix::UL));
        assert_eq!(ok("5q"), (5, Radix::Decimal, IntSuffix::Q));
        assert_eq!(ok("0x10L"), (16, Radix::Hex, IntSuffix::L));
        assert!(parse_number("7ll").is_ok_and(|n| n.long_long && n.lit.suffix == IntSuffix::L));
    }

    #[test]
    fn floats_and_malformed_numbers() {
        for f in ["1.5", ".5", "2e3", "1.", "1e-3", "3.0f"] {
            assert_eq!(parse_number(f), Err(NumberError::Float), "{f}");
        }
        for m in ["23x", "0x1e+3", "1..2", "09", "0x", "10lL", "5uq"] {
            assert!(
                matches!(parse_number(m), Err(NumberError::Malformed(_))),
                "{m}"
            );
        }
    }

    #[test]
    fn overflow_keeps_low_bits() {
        let n = parse_number("18446744073709551617").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(n.overflowed);
        assert_eq!(n.lit.value, 1);
        let max = parse_number("0xFFFFFFFFFFFFFFFF").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!max.overflowed);
        assert_eq!(max.lit.value, u64::MAX);
    }

    #[test]
    fn escapes() {
        let (bytes, end, errors) = scan_quoted(br#"a\n\t\x41\101\0\\\"" rest"#, b'"');
        assert_eq!(bytes, b"a\n\tAA\0\\\"");
        assert_eq!(end, Some(20));
        assert!(errors.is_empty());
        let (_, _, errors) = scan_quoted(br#"\q\777\x123""#, b'"');
        assert_eq!(errors.len(), 3);
        let (_, end, _) = scan_quoted(b"abc\n\"", b'"');
        assert_eq!(end, None);
    }
}
