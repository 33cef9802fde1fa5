//! Diagnostics as data.
//!
//! Every analysis reports problems as [`Diagnostic`] values: a stable [`Code`] (whose registry
//! entry fixes the severity), a one-line message, a primary span, optional secondary labelled
//! spans, notes and a help line. Nothing here renders or prints; see [`crate::render`].

use crate::codes::{self, Code};
use crate::span::Span;

/// Whether a diagnostic stops compilation. Fixed by the diagnostic's code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Severity {
    /// Reported, but compilation continues and succeeds.
    Warning,
    /// Compilation fails.
    Error,
}

/// A span with a message attached.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is there (may be empty).
    pub message: String,
}

/// One problem found in a program.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Diagnostic {
    /// The stable code, `P` followed by four digits.
    pub code: Code,
    /// One line naming the construct concerned.
    pub message: String,
    /// The place the problem is reported at.
    pub primary: Label,
    /// Other places involved (the first definition of a duplicate, another candidate, …).
    pub secondary: Vec<Label>,
    /// Extra facts, each one line.
    pub notes: Vec<String>,
    /// A likely fix.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a code, a message and a primary span.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Sets the label text under the primary span.
    pub fn with_label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// Adds a secondary labelled span.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// The severity, fixed by the code.
    pub fn severity(&self) -> Severity {
        codes::severity(self.code)
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Sorts diagnostics into the deterministic reporting order: by file, then position, then
/// code. The sort is stable, so diagnostics at one place keep the order they were found in.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.primary.span.file, d.primary.span.lo, d.code));
}
