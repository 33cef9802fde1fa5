//! Source locations: which file, and which byte range inside it.
//!
//! A [`Span`] is a half-open byte range `lo..hi` in one physical file. Line and column numbers,
//! and the effect of `# line` directives, are computed only when a diagnostic is rendered
//! (see [`crate::SourceMap`]).

use std::fmt;

/// Identifies one physical source file inside a [`crate::SourceMap`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct FileId(pub u32);

impl FileId {
    /// The index of the file inside its source map.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A half-open byte range `lo..hi` in one file.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The file the range lies in.
    pub file: FileId,
    /// First byte.
    pub lo: u32,
    /// One past the last byte.
    pub hi: u32,
}

impl Span {
    /// A span from byte offsets. Offsets beyond `u32::MAX` are clamped (sources are limited to
    /// 4 GiB by the lexer, so this never happens for spans it creates).
    pub fn new(file: FileId, lo: usize, hi: usize) -> Span {
        let clamp = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Span {
            file,
            lo: clamp(lo),
            hi: clamp(hi.max(lo)),
        }
    }

    /// The smallest span covering both `self` and `other` (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
    }

    /// An empty span at the start of `self`.
    pub fn start(self) -> Span {
        Span {
            hi: self.lo,
            ..self
        }
    }

    /// An empty span at the end of `self`.
    pub fn end(self) -> Span {
        Span {
            lo: self.hi,
            ..self
        }
    }

    /// The byte range, for slicing the file's text.
    pub fn range(self) -> std::ops::Range<usize> {
        self.lo as usize..self.hi as usize
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.hi - self.lo) as usize
    }

    /// True if the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.hi == self.lo
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}..{}", self.file.0, self.lo, self.hi)
    }
}
