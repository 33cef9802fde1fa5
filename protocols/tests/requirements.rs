//! RFC 9293 requirement coverage: which tests exercise which requirement of the RFC 9293
//! Appendix B table, kept in the `## RFC 9293 requirement coverage` section of `docs/TCP.md`.
//!
//! The table (`docs/rfc9293-requirements.md`, rows like `| Window | MUST-36 | MUST | sender probes
//! zero window |`) lives in the shared directory next to the workspace, never in the repository:
//! its path is taken from `PROLAC_SHARED_DIR` (default `<workspace root>/../shared`). Without it
//! the test says so and passes.
//!
//! Tests are tagged with ReqIDs (`MUST-<n>`, `SHLD-<n>`, `MAY-<n>`, `REC-<n>`) in comments,
//! doc comments, attributes or strings. Every `*.rs` file under `protocols/tests/` and
//! `exokernel-target/tests/` (subdirectories included, this file excluded) is scanned by a small
//! hand-written lexer, and each tag is attributed to the function it sits in (the outermost
//! enclosing `fn`) or, outside a function, to the `fn` that the comment or attribute documents
//! (the next item, if it is a `fn`). Tags in inner doc comments (`//!`, module headers) and
//! tags before an item that is not a `fn` are not attributed to any test and do not count as
//! coverage. A function marked `#[ignore]` is listed with "(ignored)" but does not count either.
//!
//! The rendered section (a summary by ID kind, one row per table row in table order, and the
//! tags that are not in the table) must match `docs/TCP.md`; regenerate it with
//! `UPDATE_REQUIREMENTS=1 cargo test -p protocols --test requirements`. Tags not in the table
//! (typos) fail the test, and so does coverage below [`MIN_COVERED`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Floor on the number of distinct ReqIDs covered by at least one (non-ignored) test, so that
/// coverage cannot silently drop. Set to the count last measured minus a margin of 3: 33 of
/// 119 when this test was written, 80 once `requirements_extra.rs` (both crates) and the tags
/// on existing tests were added, 86 with urgent data and the Isn layer (issue 6), 90 with the
/// Icmp layer (issue 7, no margin).
/// Raise it as more requirements get tests.
const MIN_COVERED: usize = 90;

/// Why a MUST row has no test: it does not apply to this TCP, or what it needs is not built
/// (yet). Every MUST row must have a test or a reason here (`every_must_row_has_a_test_or_a_reason`).
const REASONS: &[(&str, &str)] = &[
    (
        "MUST-43",
        "does not apply: a stack has one address (`NetConfig`, `StackConfig`); OPEN takes the local port only",
    ),
    (
        "MUST-44",
        "does not apply: the source address of a SYN is the stack's one address",
    ),
    (
        "MUST-48",
        "not built: the IPv4 layer sends DSCP 0 and has no per-connection setting",
    ),
    (
        "MUST-51",
        "not built: the IPv4 layer passes over IP options; no source routing (RFC 7126 advises dropping source-routed datagrams)",
    ),
    ("MUST-52", "not built: no source routing (see MUST-51)"),
    ("MUST-53", "not built: no source routing (see MUST-51)"),
];

/// The heading of the generated section in `docs/TCP.md`.
const HEADING: &str = "## RFC 9293 requirement coverage";

/// The command that regenerates the section.
const REGENERATE: &str = "UPDATE_REQUIREMENTS=1 cargo test -p protocols --test requirements";

/// How many test names a table cell lists before `+N more`.
const MAX_LISTED: usize = 3;

/// The four kinds of ReqID, in the order of the summary.
const KINDS: [&str; 4] = ["MUST", "SHLD", "MAY", "REC"];

// ---------------------------------------------------------------------------------------------
// The requirement table

/// One row of the RFC 9293 requirement table.
#[derive(Debug)]
struct Row {
    section: String,
    id: String,
    level: String,
    paraphrase: String,
}

/// Splits a Markdown table line into its cells (`\|` does not split).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in inner.chars() {
        if c == '|' && !escaped {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
        escaped = c == '\\';
    }
    out.iter().map(|c| c.trim().to_string()).collect()
}

/// Parses the rows of the requirement table: every `|` line with four cells, except separator
/// and header rows.
fn parse_table(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if !line.trim_start().starts_with('|') {
            continue;
        }
        let c = cells(line);
        if c.iter()
            .all(|c| !c.is_empty() && c.chars().all(|c| matches!(c, '-' | ':' | ' ')))
        {
            continue;
        }
        assert_eq!(
            c.len(),
            4,
            "requirement table line {}: expected 4 cells: {line}",
            n + 1
        );
        if c[1] == "ReqID" {
            continue;
        }
        let tags = find_tags(&c[1]);
        assert!(
            tags.len() == 1 && tags[0] == c[1],
            "requirement table line {}: `{}` is not a ReqID",
            n + 1,
            c[1]
        );
        let mut c = c.into_iter();
        let mut next = || c.next().unwrap_or_default();
        rows.push(Row {
            section: next(),
            id: next(),
            level: next(),
            paraphrase: next(),
        });
    }
    rows
}

/// The ReqID tags in a text: `MUST-<n>`, `SHLD-<n>`, `MAY-<n>` or `REC-<n>`, not preceded by a
/// letter, digit or underscore.
fn find_tags(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let kind = KINDS
            .iter()
            .find(|k| bytes[i..].starts_with(format!("{k}-").as_bytes()));
        if let (true, Some(kind)) = (boundary, kind) {
            let start = i + kind.len() + 1;
            let end = start
                + bytes[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            if end > start {
                tags.push(format!("{kind}-{}", &text[start..end]));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    tags
}

// ---------------------------------------------------------------------------------------------
// A small Rust lexer: just enough to tell comments, strings and code apart and to follow braces

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommentKind {
    /// `///` or `/** */`: documents the next item.
    Outer,
    /// `//!` or `/*! */`: documents the enclosing module.
    Inner,
    /// Any other comment.
    Plain,
}

#[derive(Debug)]
enum Tok {
    Ident(String),
    Punct(char),
    Comment(CommentKind, String),
    Str(String),
    /// Numbers, character literals, lifetimes.
    Other,
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits Rust source into tokens, with the line each starts on.
fn lex(src: &str) -> Vec<Token> {
    let s: Vec<char> = src.chars().collect();
    let at = |i: usize| s.get(i).copied().unwrap_or('\0');
    let text = |a: usize, b: usize| s[a..b.min(s.len())].iter().collect::<String>();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let start_line = line;
        let start = i;
        let tok = if c.is_whitespace() {
            if c == '\n' {
                line += 1;
            }
            i += 1;
            continue;
        } else if c == '/' && at(i + 1) == '/' {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
            let body = text(start, i);
            let kind = if body.starts_with("//!") {
                CommentKind::Inner
            } else if body.starts_with("///") && !body.starts_with("////") {
                CommentKind::Outer
            } else {
                CommentKind::Plain
            };
            Tok::Comment(kind, body)
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if s[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
            let body = text(start, i);
            let kind = if body.starts_with("/*!") {
                CommentKind::Inner
            } else if body.starts_with("/**") && !body.starts_with("/***") && body != "/**/" {
                CommentKind::Outer
            } else {
                CommentKind::Plain
            };
            Tok::Comment(kind, body)
        } else if c == '"' {
            i = lex_string(&s, i + 1, &mut line);
            Tok::Str(text(start, i))
        } else if c == '\'' {
            i = lex_quote(&s, i);
            Tok::Other
        } else if c.is_ascii_digit() {
            while i < s.len()
                && (is_ident_continue(s[i]) || (s[i] == '.' && at(i + 1).is_ascii_digit()))
            {
                i += 1;
            }
            Tok::Other
        } else if is_ident_start(c) {
            while i < s.len() && is_ident_continue(s[i]) {
                i += 1;
            }
            let ident = text(start, i);
            let raw = matches!(ident.as_str(), "r" | "br" | "cr");
            if raw && (at(i) == '"' || at(i) == '#') {
                let hashes = s[i..].iter().take_while(|&&c| c == '#').count();
                if at(i + hashes) == '"' {
                    // A raw string: ends at `"` followed by as many `#`.
                    i += hashes + 1;
                    while i < s.len() {
                        if s[i] == '"'
                            && s[i + 1..]
                                .iter()
                                .take(hashes)
                                .filter(|&&c| c == '#')
                                .count()
                                == hashes
                        {
                            i += 1 + hashes;
                            break;
                        }
                        if s[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                    out.push(Token {
                        tok: Tok::Str(text(start, i)),
                        line: start_line,
                    });
                    continue;
                } else if ident == "r" && hashes == 1 && is_ident_start(at(i + 1)) {
                    // A raw identifier.
                    i += 1;
                    let name_start = i;
                    while i < s.len() && is_ident_continue(s[i]) {
                        i += 1;
                    }
                    out.push(Token {
                        tok: Tok::Ident(text(name_start, i)),
                        line: start_line,
                    });
                    continue;
                }
            }
            if matches!(ident.as_str(), "b" | "c") && at(i) == '"' {
                i = lex_string(&s, i + 1, &mut line);
                Tok::Str(text(start, i))
            } else if ident == "b" && at(i) == '\'' {
                i = lex_quote(&s, i);
                Tok::Other
            } else {
                Tok::Ident(ident)
            }
        } else {
            i += 1;
            Tok::Punct(c)
        };
        out.push(Token {
            tok,
            line: start_line,
        });
    }
    out
}

/// Skips a string body from just after its opening quote; returns the index after the closing
/// quote.
fn lex_string(s: &[char], mut i: usize, line: &mut usize) -> usize {
    while i < s.len() {
        match s[i] {
            '\\' => {
                if s.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            '"' => return i + 1,
            '\n' => {
                *line += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

/// Skips a character literal or a lifetime starting at the quote at `i`; returns the index after
/// it.
fn lex_quote(s: &[char], i: usize) -> usize {
    let at = |i: usize| s.get(i).copied().unwrap_or('\0');
    if at(i + 1) == '\\' {
        // An escape: '\n', '\'', '\u{..}'.
        let mut j = i + 3;
        while j < s.len() && s[j] != '\'' && s[j] != '\n' {
            j += 1;
        }
        j + 1
    } else if at(i + 2) == '\'' {
        i + 3
    } else {
        // A lifetime or a label.
        let mut j = i + 1;
        while j < s.len() && is_ident_continue(s[j]) {
            j += 1;
        }
        j
    }
}

// ---------------------------------------------------------------------------------------------
// Attributing tags to functions

/// A tag found in a test source file.
#[derive(Debug)]
struct Found {
    tag: String,
    /// The file, as shown in the table (`state_listen`, `basic/core`, `exokernel-target/wire`).
    file: String,
    /// The file relative to the workspace root, for messages.
    path: String,
    line: usize,
    /// The function the tag is attributed to, if any.
    test: Option<String>,
    ignored: bool,
}

impl Found {
    fn test_name(&self) -> Option<String> {
        self.test.as_ref().map(|t| format!("{}::{t}", self.file))
    }
}

/// Finds the tags in one source file and attributes them to functions.
fn scan(src: &str, file: &str, path: &str) -> Vec<Found> {
    let toks = lex(src);
    let mut found = Vec::new();
    let mut push = |tag: String, line: usize, test: Option<&str>, ignored: bool| {
        found.push(Found {
            tag,
            file: file.to_string(),
            path: path.to_string(),
            line,
            test: test.map(str::to_string),
            ignored,
        });
    };

    // Brace and parenthesis/bracket depth.
    let mut depth = 0usize;
    let mut paren = 0usize;
    // The outermost function whose body we are in: name, ignored, depth outside its body.
    let mut current: Option<(String, bool, usize)> = None;
    // A function whose name we have seen but whose body has not begun: name, ignored, paren.
    let mut awaiting: Option<(String, bool, usize)> = None;
    let mut expect_fn_name = false;
    // Tags outside any function, waiting for the item they document: tag, line.
    let mut pending: Vec<(String, usize)> = Vec::new();
    let mut pending_ignored = false;
    // Inside an attribute `#[..]` outside functions: bracket depth, and whether its path has
    // been seen.
    let mut attr: Option<(usize, bool)> = None;

    for (k, t) in toks.iter().enumerate() {
        let next_is = |off: usize, c: char| matches!(toks.get(k + off), Some(Token { tok: Tok::Punct(p), .. }) if *p == c);
        let text = match &t.tok {
            Tok::Comment(kind, text) => Some((*kind, text, false)),
            Tok::Str(text) => Some((CommentKind::Plain, text, true)),
            _ => None,
        };
        if let Some((kind, text, is_str)) = text {
            for tag in find_tags(text) {
                if let Some((name, ignored, _)) = &current {
                    push(tag, t.line, Some(name), *ignored);
                } else if kind == CommentKind::Inner {
                    push(tag, t.line, None, false);
                } else if let Some((name, ignored, _)) = &awaiting {
                    push(tag, t.line, Some(name), *ignored);
                } else if is_str && attr.is_none() {
                    // A string in a `const` or `static` item.
                    push(tag, t.line, None, false);
                } else {
                    pending.push((tag, t.line));
                }
            }
            continue;
        }
        match &t.tok {
            Tok::Comment(..) | Tok::Str(_) | Tok::Other => {}
            Tok::Punct(c) => match c {
                '#' if current.is_none() && attr.is_none() && next_is(1, '[') => {
                    attr = Some((0, false));
                }
                '#' if current.is_none()
                    && attr.is_none()
                    && next_is(1, '!')
                    && next_is(2, '[') =>
                {
                    // An inner attribute: its path is never `ignore` for a test.
                    attr = Some((0, true));
                }
                '(' | '[' => {
                    paren += 1;
                    if let Some((d, _)) = &mut attr {
                        *d += usize::from(*c == '[');
                    }
                }
                ')' | ']' => {
                    paren = paren.saturating_sub(1);
                    if let Some((d, _)) = &mut attr
                        && *c == ']'
                    {
                        *d = d.saturating_sub(1);
                        if *d == 0 {
                            attr = None;
                        }
                    }
                }
                '{' => {
                    if let Some((name, ignored, p)) = awaiting.take() {
                        if p == paren {
                            current = Some((name, ignored, depth));
                        } else {
                            awaiting = Some((name, ignored, p));
                        }
                    }
                    depth += 1;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if current.as_ref().is_some_and(|(_, _, d)| *d == depth) {
                        current = None;
                    }
                }
                ';' if awaiting.as_ref().is_some_and(|(_, _, p)| *p == paren) => {
                    awaiting = None;
                }
                _ => {}
            },
            Tok::Ident(id) => {
                if let Some((_, seen)) = &mut attr {
                    if !*seen {
                        *seen = true;
                        pending_ignored |= id == "ignore";
                    }
                    continue;
                }
                if expect_fn_name {
                    expect_fn_name = false;
                    if current.is_none() && awaiting.is_none() {
                        for (tag, line) in pending.drain(..) {
                            push(tag, line, Some(id), pending_ignored);
                        }
                        awaiting = Some((id.clone(), pending_ignored, paren));
                        pending_ignored = false;
                    }
                    continue;
                }
                if id == "fn" {
                    expect_fn_name = true;
                } else if current.is_none()
                    && awaiting.is_none()
                    && !matches!(
                        id.as_str(),
                        "pub"
                            | "crate"
                            | "super"
                            | "self"
                            | "in"
                            | "async"
                            | "const"
                            | "unsafe"
                            | "extern"
                    )
                {
                    // The comments before this item document something that is not a `fn`.
                    for (tag, line) in pending.drain(..) {
                        push(tag, line, None, false);
                    }
                    pending_ignored = false;
                }
            }
        }
    }
    for (tag, line) in pending {
        push(tag, line, None, false);
    }
    found
}

/// Every `*.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Scans the test directories of the workspace at `root`.
fn scan_workspace(root: &Path) -> Vec<Found> {
    let this_file = root.join("protocols/tests/requirements.rs");
    let mut files = Vec::new();
    for (dir, prefix) in [
        ("protocols/tests", ""),
        ("exokernel-target/tests", "exokernel-target/"),
    ] {
        let dir = root.join(dir);
        let mut paths = Vec::new();
        rust_files(&dir, &mut paths);
        for path in paths {
            if path == this_file {
                continue;
            }
            let rel_to = |base: &Path| {
                let rel = path.strip_prefix(base).unwrap_or(&path);
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            };
            let in_tests = rel_to(&dir);
            let file = format!(
                "{prefix}{}",
                in_tests.strip_suffix(".rs").unwrap_or(&in_tests)
            );
            files.push((file, rel_to(root), path));
        }
    }
    files.sort();
    let mut found = Vec::new();
    for (file, rel, path) in files {
        let src = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        found.extend(scan(&src, &file, &rel));
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Rendering and checking

/// Coverage of the table by the tags found.
struct Coverage {
    /// ReqID → the tests tagged with it, in file order then source order (ignored ones marked).
    tests: BTreeMap<String, Vec<(String, bool)>>,
    /// Distinct ReqIDs of the table with at least one non-ignored test.
    covered: BTreeSet<String>,
    /// Tags that are not in the table.
    unknown: Vec<String>,
}

fn coverage(rows: &[Row], found: &[Found]) -> Coverage {
    let ids: BTreeSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut tests: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
    let mut covered = BTreeSet::new();
    let mut unknown = Vec::new();
    for f in found {
        if !ids.contains(f.tag.as_str()) {
            let place = f
                .test
                .as_ref()
                .map(|t| format!(" (`{t}`)"))
                .unwrap_or_default();
            unknown.push(format!("`{}` at `{}:{}`{place}", f.tag, f.path, f.line));
            continue;
        }
        let Some(name) = f.test_name() else { continue };
        let list = tests.entry(f.tag.clone()).or_default();
        if let Some(entry) = list.iter_mut().find(|(n, _)| *n == name) {
            entry.1 &= f.ignored;
        } else {
            list.push((name, f.ignored));
        }
        if !f.ignored {
            covered.insert(f.tag.clone());
        }
    }
    Coverage {
        tests,
        covered,
        unknown,
    }
}

fn kind(id: &str) -> &str {
    id.split('-').next().unwrap_or(id)
}

/// Renders the `## RFC 9293 requirement coverage` section, ending with a newline.
fn render(rows: &[Row], cov: &Coverage) -> String {
    let mut s = String::new();
    let distinct: BTreeSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let by_kind = KINDS
        .iter()
        .map(|k| {
            let total = distinct.iter().filter(|id| kind(id) == *k).count();
            let covered = cov.covered.iter().filter(|id| kind(id) == *k).count();
            format!("{k} {covered}/{total}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(s, "{HEADING}\n");
    let _ = writeln!(
        s,
        "Generated by `protocols/tests/requirements.rs` from the RFC 9293 Appendix B requirement table\n\
         (kept outside the repository) and the ReqID tags in `protocols/tests/` and\n\
         `exokernel-target/tests/`; regenerate with\n\
         `{REGENERATE}`. A tag counts for the test\n\
         function it sits in or documents; tags in module headers do not count, and ignored tests\n\
         are listed but do not count. Test files are relative to `protocols/tests/` or\n\
         `exokernel-target/tests/`.\n"
    );
    let _ = writeln!(
        s,
        "Covered by at least one test: {} of {} distinct ReqIDs ({by_kind}).\n",
        cov.covered.len(),
        distinct.len()
    );
    let _ = writeln!(
        s,
        "| Section | ReqID | Level | Requirement (paraphrased) | Tests |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for r in rows {
        let tests = cov.tests.get(&r.id).map(Vec::as_slice).unwrap_or_default();
        let mut cell = tests
            .iter()
            .take(MAX_LISTED)
            .map(|(name, ignored)| {
                if *ignored {
                    format!("`{name}` (ignored)")
                } else {
                    format!("`{name}`")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        if tests.len() > MAX_LISTED {
            let _ = write!(cell, " +{} more", tests.len() - MAX_LISTED);
        }
        if cell.is_empty() {
            cell = match REASONS.iter().find(|(id, _)| *id == r.id) {
                Some((_, why)) => format!("— *{why}*"),
                None => "—".to_string(),
            };
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {cell} |",
            r.section, r.id, r.level, r.paraphrase
        );
    }
    let _ = writeln!(s);
    if cov.unknown.is_empty() {
        let _ = writeln!(s, "Tags in tests that are not in the table: none.");
    } else {
        let _ = writeln!(s, "Tags in tests that are not in the table (typos):\n");
        for u in &cov.unknown {
            let _ = writeln!(s, "- {u}");
        }
    }
    s
}

/// The byte range of the section in `doc`: from its heading to the next `## ` heading or the
/// end.
fn section_range(doc: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    let mut start = None;
    for line in doc.split_inclusive('\n') {
        let heading = line.trim_end();
        if start.is_none() && heading == HEADING {
            start = Some(offset);
        } else if start.is_some() && heading.starts_with("## ") {
            return start.map(|s| (s, offset));
        }
        offset += line.len();
    }
    start.map(|s| (s, doc.len()))
}

/// `doc` with the section replaced by `section` (or appended at the end).
fn splice(doc: &str, section: &str) -> String {
    match section_range(doc) {
        Some((start, end)) => {
            let gap = if end < doc.len() { "\n" } else { "" };
            format!("{}{section}{gap}{}", &doc[..start], &doc[end..])
        }
        None => {
            let body = doc.trim_end();
            format!("{body}\n\n{section}")
        }
    }
}

/// Issue 6: for every MUST row of the table, a test that proves it or the reason it does not
/// apply; and no reason kept for a row that has a test.
#[test]
fn every_must_row_has_a_test_or_a_reason() {
    let root = workspace_root();
    let Some(rows) = table_rows(&root) else {
        return;
    };
    let cov = coverage(&rows, &scan_workspace(&root));
    for r in rows.iter().filter(|r| kind(&r.id) == "MUST") {
        let reason = REASONS.iter().any(|(id, _)| *id == r.id);
        let tested = cov.covered.contains(&r.id);
        assert!(
            tested || reason,
            "{} ({}) has neither a test nor a reason",
            r.id,
            r.paraphrase
        );
        assert!(!(tested && reason), "{} has a test: drop its reason", r.id);
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the protocols crate is inside the workspace")
        .to_path_buf()
}

/// The requirement table's rows, or `None` (with the reason printed) if the shared table is
/// absent.
fn table_rows(root: &Path) -> Option<Vec<Row>> {
    let shared =
        std::env::var_os("PROLAC_SHARED_DIR").map_or_else(|| root.join("../shared"), PathBuf::from);
    let table_path = shared.join("docs/rfc9293-requirements.md");
    let Ok(table) = fs::read_to_string(&table_path) else {
        eprintln!(
            "skipping the RFC 9293 requirement check: the requirement table {} is absent (set \
             PROLAC_SHARED_DIR to the shared directory that holds docs/rfc9293-requirements.md)",
            table_path.display()
        );
        return None;
    };
    let rows = parse_table(&table);
    assert!(
        !rows.is_empty(),
        "no requirement rows in {}",
        table_path.display()
    );
    Some(rows)
}

#[test]
fn requirement_coverage_matches_docs() {
    let root = workspace_root();
    let Some(rows) = table_rows(&root) else {
        return;
    };
    let found = scan_workspace(&root);
    let cov = coverage(&rows, &found);
    let section = render(&rows, &cov);

    let doc_path = root.join("docs/TCP.md");
    let doc = fs::read_to_string(&doc_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", doc_path.display()));
    if std::env::var("UPDATE_REQUIREMENTS").is_ok_and(|v| v == "1") {
        let updated = splice(&doc, &section);
        if updated != doc {
            fs::write(&doc_path, updated)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", doc_path.display()));
            eprintln!("updated `{HEADING}` in {}", doc_path.display());
        }
    } else {
        let current = section_range(&doc).map(|(a, b)| &doc[a..b]);
        match current {
            None => {
                panic!("docs/TCP.md has no `{HEADING}` section; run `{REGENERATE}` to regenerate")
            }
            Some(current) if current.trim_end() != section.trim_end() => {
                let diff = current
                    .lines()
                    .zip(section.lines())
                    .enumerate()
                    .find(|(_, (a, b))| a != b)
                    .map(|(n, (a, b))| {
                        format!(
                            "first difference at line {} of the section:\n  docs: {a}\n  now:  {b}",
                            n + 1
                        )
                    })
                    .unwrap_or_else(|| "the sections differ in length".to_string());
                panic!(
                    "the `{HEADING}` section of docs/TCP.md is out of date; run \
                     `{REGENERATE}` to regenerate\n{diff}"
                );
            }
            Some(_) => {}
        }
    }

    assert!(
        cov.unknown.is_empty(),
        "ReqID tags in tests that are not in the RFC 9293 table (typos?):\n{}",
        cov.unknown.join("\n")
    );
    assert!(
        cov.covered.len() >= MIN_COVERED,
        "only {} distinct ReqIDs are covered by tests, fewer than the floor of {MIN_COVERED}",
        cov.covered.len()
    );
}

#[test]
fn the_scanner_attributes_tags_to_functions() {
    let src = r##"
//! Module header: MUST-1 is not attributed.

/// MUST-2 and SHLD-3 document `a`.
#[test]
fn a() {
    // MAY-4 sits in `a`.
    let s = "REC-1 in a string"; let c = '{'; let l: &'static str = r#"}"#;
    fn inner() { /* MUST-5 belongs to the outer test */ }
}

/// MUST-6 documents a constant, not a test.
const X: u32 = 1;

/// MUST-7
#[ignore = "MUST-8 in the attribute"]
#[test]
fn b<'a>(x: &'a str) -> Option<u32> where u32: Copy { Some(1) }
// MUST-9 trails at the end.
"##;
    let found = scan(src, "f", "f.rs");
    let got: Vec<(String, Option<String>, bool)> = found
        .iter()
        .map(|f| (f.tag.clone(), f.test.clone(), f.ignored))
        .collect();
    let a = Some("a".to_string());
    let b = Some("b".to_string());
    assert_eq!(
        got,
        [
            ("MUST-1".to_string(), None, false),
            ("MUST-2".to_string(), a.clone(), false),
            ("SHLD-3".to_string(), a.clone(), false),
            ("MAY-4".to_string(), a.clone(), false),
            ("REC-1".to_string(), a.clone(), false),
            ("MUST-5".to_string(), a, false),
            ("MUST-6".to_string(), None, false),
            ("MUST-7".to_string(), b.clone(), true),
            ("MUST-8".to_string(), b, true),
            ("MUST-9".to_string(), None, false),
        ]
    );
    assert_eq!(find_tags("XMUST-1, MUST-, (SHLD-12)"), ["SHLD-12"]);
}

#[test]
fn the_section_is_spliced_in_place_or_appended() {
    let section = format!("{HEADING}\n\nnew\n");
    let doc = "# T\n\n## A\n\na\n";
    assert_eq!(
        splice(doc, &section),
        format!("# T\n\n## A\n\na\n\n{section}")
    );
    let doc = format!("# T\n\n{HEADING}\n\nold\n\n## B\n\nb\n");
    assert_eq!(
        splice(&doc, &section),
        format!("# T\n\n{section}\n## B\n\nb\n")
    );
    let doc = format!("# T\n\n{HEADING}\n\nold\n");
    assert_eq!(splice(&doc, &section), format!("# T\n\n{section}"));
}
