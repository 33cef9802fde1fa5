//! Renders [`Diagnostic`]s in the style of the Rust compiler, through codespan-reporting.
//!
//! This is the only place that turns diagnostics into text. It writes into a `String` or any
//! [`WriteColor`]; it never prints by itself.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor::WriteColor};

use crate::codes;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::source_map::{RegionId, SourceMap};

fn convert(sm: &SourceMap, d: &Diagnostic) -> cs::Diagnostic<RegionId> {
    let label = |style: cs::LabelStyle, l: &Label| {
        // Clamp into the file and onto character boundaries, whatever the span says.
        let text = sm.get(l.span.file).map_or("", |f| f.text());
        let mut lo = (l.span.lo as usize).min(text.len());
        while !text.is_char_boundary(lo) {
            lo -= 1;
        }
        let mut hi = (l.span.hi as usize).clamp(lo, text.len());
        while !text.is_char_boundary(hi) {
            hi += 1;
        }
        cs::Label::new(style, sm.region_id(l.span.file, lo), lo..hi).with_message(&l.message)
    };
    let severity = match d.severity() {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let mut labels = vec![label(cs::LabelStyle::Primary, &d.primary)];
    labels.extend(
        d.secondary
            .iter()
            .map(|l| label(cs::LabelStyle::Secondary, l)),
    );
    let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(help) = &d.help {
        notes.push(format!("help: {help}"));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code.to_string())
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// Writes diagnostics to a terminal-like writer (colours as the writer allows).
pub fn emit(
    out: &mut dyn WriteColor,
    sm: &SourceMap,
    diagnostics: &[Diagnostic],
) -> std::io::Result<()> {
    let config = term::Config::default();
    for d in diagnostics {
        term::emit_to_write_style(out, &config, sm, &convert(sm, d)).map_err(|e| match e {
            codespan_reporting::files::Error::Io(io) => io,
            other => std::io::Error::other(other.to_string()),
        })?;
    }
    Ok(())
}

/// Renders diagnostics to plain text without colours (used by tests and snapshots).
pub fn to_string(sm: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let config = term::Config::default();
    let mut out = String::new();
    for d in diagnostics {
        // Writing into a String cannot fail, and every label was clamped into its file.
        let _ = term::emit_to_string(&mut out, &config, sm, &convert(sm, d));
    }
    out
}

/// A one-line summary such as `error: aborting due to 2 errors; 1 warning emitted`.
pub fn summary(diagnostics: &[Diagnostic]) -> Option<String> {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => None,
        (0, w) => Some(format!("warning: {} emitted", plural(w, "warning"))),
        (e, 0) => Some(format!("error: aborting due to {}", plural(e, "error"))),
        (e, w) => Some(format!(
            "error: aborting due to {}; {} emitted",
            plural(e, "error"),
            plural(w, "warning")
        )),
    }
}

/// The explanation of a code, for `--explain`.
pub fn explain(code: codes::Code) -> Option<String> {
    codes::lookup(code).map(|info| {
        let kind = match info.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "{code} ({kind}): {}\n\n{}\n",
            info.title,
            info.explanation,
            code = info.code
        )
    })
}
