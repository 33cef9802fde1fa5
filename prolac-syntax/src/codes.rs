//! The registry of diagnostic codes.
//!
//! Every diagnostic carries a stable code `Pxxxx`; the registry fixes its severity and holds a
//! title and an explanation with an example and a fix (shown by `prolacc --explain CODE`).
//! Ranges: P01xx lexical structure, P02xx syntax, P03xx program structure, P04xx modules and
//! namespaces, P05xx includes and layers, P06xx types and expressions, P07xx methods, fields and
//! constructors, P08xx implicit methods, P09xx module operators, P10xx exceptions, P11xx host
//! code and back ends.
//!
//! Codes are never reused or renumbered. A test checks that the table is sorted and that every
//! code constant used in the workspace has an entry.

use std::fmt;

use crate::diagnostic::Severity;

/// A diagnostic code: `P` followed by four digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub u16);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{:04}", self.0)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Code {
    /// Parses `P0105` (the `P` may be lower case or omitted).
    pub fn parse(text: &str) -> Option<Code> {
        let digits = text
            .strip_prefix('P')
            .or_else(|| text.strip_prefix('p'))
            .unwrap_or(text);
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(Code)
    }
}

/// What the registry knows about one code.
#[derive(Debug)]
pub struct CodeInfo {
    /// The code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// A short title.
    pub title: &'static str,
    /// What it means, an example, and how to fix it (Markdown).
    pub explanation: &'static str,
}

macro_rules! registry {
    ($( $name:ident = $num:literal, $sev:ident, $title:literal, $expl:literal; )*) => {
        $(
            #[doc = $title]
            pub const $name: Code = Code($num);
        )*
        /// Every registered code, sorted by number.
        pub static REGISTRY: &[CodeInfo] = &[
            $( CodeInfo { code: Code($num), severity: Severity::$sev, title: $title, explanation: $expl }, )*
        ];
    };
}

registry! {
    P0100 = 100, Error, "non-ASCII character outside comments, literals and host code",
        "Prolac source is ASCII outside comments, string and character literals, host blocks \
         and support blocks.\n\nExample: `field größe :> uint;`\n\nFix: use an ASCII name; \
         non-ASCII text may appear in comments and literals.";
    P0101 = 101, Error, "unexpected character",
        "The character cannot begin any Prolac token (for example `$`, `` ` `` or a `#` that \
         is not the first character of a line).\n\nFix: remove it, or move a `# line` \
         directive to the start of its line.";
    P0102 = 102, Warning, "unterminated block comment",
        "A `/*` comment has no closing `*/`; it runs to the end of the file. Block comments do \
         not nest, so an inner `/*` does not need its own `*/`.\n\nFix: add the closing `*/`.";
    P0103 = 103, Warning, "identifier uses a reserved spelling",
        "Identifiers whose underscore spelling contains `__` (also `-_` and `_-`) are reserved \
         because generated code joins name components with `__`. They are accepted.\n\n\
         Example: `field rcv__next :> seqint;`\n\nFix: use a single `-` or `_`.";
    P0104 = 104, Error, "unterminated string or character literal",
        "A string or character literal must close on the line it starts.\n\nExample: \
         `include \"window.pc;`\n\nFix: add the closing quote.";
    P0105 = 105, Error, "floating-point literal",
        "Prolac has no floating-point types. A number containing `.` or a decimal exponent \
         (`1.5`, `.5`, `2e3`) is rejected.\n\nFix: use integer arithmetic, for example scaled \
         fixed-point values (`rtt * 7 / 8`).";
    P0106 = 106, Warning, "integer literal too large for `ulong`",
        "The literal does not fit in 64 bits; its low 64 bits are kept.\n\nFix: write a value \
         below 2^64.";
    P0107 = 107, Error, "unterminated host block",
        "A `{` in a method body opens a host block, whose matching `}` is found by counting \
         braces outside the host language's comments and literals. None was found.\n\nFix: \
         close the block; check for an unbalanced brace inside it, or run with `--host c` for \
         C host code (C and Rust comments nest differently).";
    P0108 = 108, Error, "unsupported `#` directive",
        "Only line directives (`# 120 \"file.pc\"` and `#line 120 \"file.pc\"`) may start a \
         line with `#`. Preprocessor directives such as `#include` and `#define` are not \
         interpreted.\n\nFix: use `include \"file.pc\";`, or run a C preprocessor first and \
         compile its output.";
    P0109 = 109, Error, "malformed number",
        "A number token runs from its first digit through every following letter, digit and \
         `.`; the whole token must be an integer literal. So `23x`, `0x1g`, `09` and `1..2` \
         are errors rather than several tokens.\n\nFix: separate the number from what follows \
         (`23 x`), or correct the digits.";
    P0110 = 110, Error, "invalid character literal or escape",
        "Character and string literals use C escapes: `\\n \\t \\r \\0 \\\\ \\' \\\" \\a \\b \
         \\f \\v \\xHH \\ooo`. A character literal holds exactly one byte.\n\nFix: correct the \
         escape, or use a string literal for several characters.";
    P0111 = 111, Warning, "`ll` suffix read as `l`",
        "Prolac's `long` is already 64 bits, so `ll`/`LL` means the same as `l`.\n\nFix: \
         write `l`.";
    P0112 = 112, Error, "unterminated support block",
        "A `%{` support block has no closing `%}` outside host comments and literals.\n\n\
         Fix: add `%}`.";
    P0113 = 113, Error, "malformed line directive",
        "A line directive is `# LINE [\"FILE\" [FLAGS…]]` or `#line LINE [\"FILE\"]`, where \
         LINE is a decimal number.\n\nFix: correct the directive, or remove it.";
    P0114 = 114, Error, "source file is not valid UTF-8",
        "Prolac source files are UTF-8 text. The invalid bytes are replaced by U+FFFD and the \
         file is checked as far as possible.\n\nFix: convert the file to UTF-8 (for example \
         with `iconv -f latin1 -t utf-8`).";
    P0200 = 200, Error, "syntax error",
        "The parser met a token that cannot continue the construct it was reading. The \
         message lists what could have come instead.\n\nFix: see the message; the most common \
         causes are a missing `;` after a definition, a missing operator, or an unbalanced \
         parenthesis.";
    P0201 = 201, Error, "definition outside a module",
        "Methods, fields and exceptions exist only inside modules (or namespaces inside \
         modules).\n\nExample: `counter :> uint ::= 0;` at file level.\n\nFix: move it into a \
         module: `module Counter { counter :> uint ::= 0; }`.";
    P0202 = 202, Error, "module defined inside a module has a header",
        "A module written among another module's definitions is a restricted form: it may not \
         have a parent or import list.\n\nFix: define it at file level, in a namespace: \
         `module Outer.Inner :> Base { … }`.";
    P0203 = 203, Error, "expected a type in a cast",
        "Parentheses followed directly by an operand form a cast `(T) e`, and must contain a \
         type.\n\nFix: write a type inside the parentheses, or put an operator between the \
         parenthesised expression and what follows.";
    P0204 = 204, Error, "unexpected end of input",
        "The file ended inside a construct, usually an unclosed `{`, `(` or `[`, or a \
         definition without its final `;`.\n\nFix: close the construct.";
    P0205 = 205, Error, "operator must be parenthesised inside an argument",
        "Call arguments, `min`/`max` operands and `let` initialisers are argument-level \
         expressions: they may not contain a top-level `==>`, `|||` or `catch`, which bind \
         more loosely than the `,` that separates arguments.\n\nExample: \
         `f(a ==> b)`\n\nFix: `f((a ==> b))`.";
    P0206 = 206, Error, "item not allowed here",
        "`include`, `layer` and `compose` are file-level items; layers contain only modules, \
         module equations, namespaces and support blocks.\n\nFix: move the item to file \
         level.";
    P0207 = 207, Error, "`min` and `max` take exactly two operands",
        "`min(a, b)` and `max(a, b)` are operators with two operands.\n\nFix: nest them: \
         `min(a, min(b, c))`.";
    P0208 = 208, Error, "invalid cast operand",
        "The operand of a cast `(T) e` is a postfix expression, or a prefix expression \
         introduced by `!`, `~` or an expression inline operator.\n\nFix: parenthesise the \
         operand: `(T)(outline e)`.";
    P0304 = 304, Error, "`export` inside a module",
        "Export lists are file-level items (or items of a file-level namespace).\n\nFix: move \
         the `export` after the module: `export Counter.bump;`.";
    P0501 = 501, Error, "included file not found",
        "An `include` path is resolved relative to the directory of the file containing it, \
         then in each `-I` directory in order.\n\nFix: correct the path or add `-I DIR`.";
    P0502 = 502, Error, "refinement lists another parent",
        "A module that refines the previous layer's version (`:> super`) has exactly that \
         parent.\n\nFix: remove the other parent entries.";
    P0503 = 503, Error, "`:> super` outside a refinement",
        "`:> super` names the same module in the nearest previous layer, so it is only \
         meaningful for a module defined inside a `layer` that refines an earlier layer.\n\n\
         Fix: name the parent module explicitly.";
    P0506 = 506, Error, "unknown layer in `--without`",
        "`--without NAME` must name a layer of the program (case-insensitive, `-` and `_` \
         equivalent).\n\nFix: check the spelling; `prolacc --emit ast` lists the layers.";
    P0611 = 611, Error, "`let` binding without type or initial value",
        "Each `let` binding needs a type (`x :> uint`), an initial value (`x = 5`), or \
         both.\n\nFix: add one.";
    P0615 = 615, Error, "type used as a value",
        "A built-in type word appears where a value is needed. A common cause is a cast \
         followed by a prefix operator: `(int) -x` is a grouping followed by a subtraction, \
         because `-` can also be a binary operator.\n\nFix: parenthesise the operand: \
         `(int)(-x)`.";
    P0616 = 616, Error, "`if` without `else` on the left of `|||`",
        "`L ||| X` rewrites an `if … else C end` on its left into `if … else (C ||| X) end`; \
         an `if` without `else` has no branch to extend.\n\nFix: add an `else` branch, or \
         use `==>` for the conditions.";
    P0710 = 710, Error, "constructor with a return type",
        "A constructor returns nothing.\n\nFix: remove `:> T` from the constructor.";
    P0904 = 904, Error, "the constructor cannot be renamed",
        "`show (x = constructor)` and `rename (x = constructor)` are not supported: a module \
         has exactly one constructor name.\n\nFix: `show constructor` exposes it under its \
         own name.";
    P0905 = 905, Error, "`show all` is not supported",
        "`show` exposes chosen names of the original namespace.\n\nFix: list the names: \
         `show (a, b)`.";
    P0910 = 910, Error, "`rename` item without a new name",
        "`rename` takes `(new = old)` items.\n\nFix: `rename (step = bump)`; to hide a name \
         use `hide`.";
    P1102 = 1102, Error, "extern method is not static",
        "Extern methods are host functions and have no receiver.\n\nFix: write `static` \
         before the name, and pass a receiver explicitly as a pointer parameter if needed.";
}

/// The registry entry for a code, if the code exists.
pub fn lookup(code: Code) -> Option<&'static CodeInfo> {
    REGISTRY
        .binary_search_by_key(&code, |info| info.code)
        .ok()
        .map(|i| &REGISTRY[i])
}

/// The severity of a code. Unregistered codes count as errors.
pub fn severity(code: Code) -> Severity {
    lookup(code).map_or(Severity::Error, |info| info.severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        for pair in REGISTRY.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} before {}",
                pair[0].code,
                pair[1].code
            );
        }
    }

    #[test]
    fn every_code_has_a_title_and_an_explanation_with_a_fix() {
        for info in REGISTRY {
            assert!(!info.title.is_empty(), "{}", info.code);
            assert!(
                info.explanation.contains("Fix"),
                "{} explains no fix",
                info.code
            );
        }
    }

    #[test]
    fn codes_print_and_parse() {
        assert_eq!(P0105.to_string(), "P0105");
        assert_eq!(Code::parse("P0105"), Some(P0105));
        assert_eq!(Code::parse("p1102"), Some(P1102));
        assert_eq!(Code::parse("0201"), Some(P0201));
        assert_eq!(Code::parse("P10"), None);
        assert_eq!(Code::parse("Pabcd"), None);
    }
}
