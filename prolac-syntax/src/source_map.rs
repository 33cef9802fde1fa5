//! The set of source files of a program, and the mapping from byte offsets to the file names
//! and line numbers a user should see.
//!
//! A physical file may contain line directives (`# 120 "ping.pc"`). Each directive starts a
//! *region*: from the line after the directive, locations are reported against the named file
//! and line. A location is therefore identified, for rendering, by a [`RegionId`]: the physical
//! file plus the region its byte offset falls in. The [`codespan_reporting::files::Files`]
//! implementation works on region ids, so the renderer shows the directive's file name and line
//! numbers next to the text that is actually in the physical file.

use std::ops::Range;
use std::sync::Arc;

use codespan_reporting::files::{Error as FilesError, Files};

use crate::span::{FileId, Span};

/// A line directive found by the lexer: physical line `applies_from` (0-based) and the lines
/// after it are line `line`, `line + 1`, … of `file`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LineDirective {
    /// The 0-based physical line the directive describes (the line after the directive).
    pub applies_from: u32,
    /// The 1-based line number that physical line has in the original file.
    pub line: u32,
    /// The original file name, if the directive names one; otherwise the previous one stays.
    pub file: Option<Arc<str>>,
}

/// One physical source file.
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<u32>,
    /// Regions after the first: directive plus the file name in effect.
    regions: Vec<(LineDirective, Arc<str>)>,
}

impl SourceFile {
    /// The display name (usually the path given on the command line or in an `include`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 0-based physical line containing byte `offset`.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&(offset as u32)) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// The region containing physical line `line`: 0 before any directive, `k` after the
    /// `k`-th directive.
    fn region_of_line(&self, line: usize) -> u32 {
        self.regions
            .partition_point(|(d, _)| d.applies_from as usize <= line) as u32
    }

    fn region_name(&self, region: u32) -> &str {
        match region {
            0 => &self.name,
            r => &self.regions[r as usize - 1].1,
        }
    }

    /// The 1-based line number shown for physical line `line` in `region`.
    fn shown_line(&self, region: u32, line: usize) -> usize {
        match region {
            0 => line + 1,
            r => {
                let d = &self.regions[r as usize - 1].0;
                (d.line as usize + line).saturating_sub(d.applies_from as usize)
            }
        }
    }
}

/// A source location as a user sees it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Location<'a> {
    /// The file name, after line directives.
    pub file: &'a str,
    /// 1-based line, after line directives.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Identifies a region (a physical file, and the part of it governed by one line directive) for
/// rendering.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RegionId {
    file: FileId,
    region: u32,
}

/// All source files of a program.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty source map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id. Texts longer than 4 GiB are truncated so that every
    /// offset fits a `u32` (the lexer relies on that).
    pub fn add(&mut self, name: impl Into<String>, mut text: String) -> FileId {
        if text.len() > u32::MAX as usize - 1 {
            let mut cut = u32::MAX as usize - 1;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let mut line_starts = vec![0u32];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            name: name.into(),
            text,
            line_starts,
            regions: Vec::new(),
        });
        id
    }

    /// Records the line directives the lexer found in a file (in source order).
    pub fn set_line_directives(&mut self, file: FileId, directives: &[LineDirective]) {
        let Some(f) = self.files.get_mut(file.index()) else {
            return;
        };
        let mut current: Arc<str> = Arc::from(f.name.as_str());
        f.regions = directives
            .iter()
            .map(|d| {
                if let Some(name) = &d.file {
                    current = name.clone();
                }
                (d.clone(), current.clone())
            })
            .collect();
    }

    /// The file with this id.
    ///
    /// # Panics
    /// If the id does not come from this map.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.index()]
    }

    /// The file with this id, if there is one.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.index())
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True if there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The text a span covers (empty if the span is out of range).
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.range()))
            .unwrap_or("")
    }

    /// The region a byte offset lies in.
    pub fn region_id(&self, file: FileId, offset: usize) -> RegionId {
        let region = self
            .get(file)
            .map_or(0, |f| f.region_of_line(f.line_index(offset)));
        RegionId { file, region }
    }

    /// File name, line and column of a byte offset, as a user sees them.
    pub fn location(&self, file: FileId, offset: usize) -> Location<'_> {
        let Some(f) = self.get(file) else {
            return Location {
                file: "<unknown>",
                line: 0,
                column: 0,
            };
        };
        let offset = offset.min(f.text.len());
        let line = f.line_index(offset);
        let region = f.region_of_line(line);
        let start = f.line_starts[line] as usize;
        let column = f
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Location {
            file: f.region_name(region),
            line: f.shown_line(region, line),
            column,
        }
    }
}

impl<'a> Files<'a> for SourceMap {
    type FileId = RegionId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: RegionId) -> Result<&'a str, FilesError> {
        let f = self.get(id.file).ok_or(FilesError::FileMissing)?;
        Ok(f.region_name(id.region))
    }

    fn source(&'a self, id: RegionId) -> Result<&'a str, FilesError> {
        Ok(&self.get(id.file).ok_or(FilesError::FileMissing)?.text)
    }

    fn line_index(&'a self, id: RegionId, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self
            .get(id.file)
            .ok_or(FilesError::FileMissing)?
            .line_index(byte_index))
    }

    fn line_number(&'a self, id: RegionId, line_index: usize) -> Result<usize, FilesError> {
        let f = self.get(id.file).ok_or(FilesError::FileMissing)?;
        Ok(f.shown_line(id.region, line_index))
    }

    fn line_range(&'a self, id: RegionId, line_index: usize) -> Result<Range<usize>, FilesError> {
        let f = self.get(id.file).ok_or(FilesError::FileMissing)?;
        let start = *f
            .line_starts
            .get(line_index)
            .ok_or(FilesError::LineTooLarge {
                given: line_index,
                max: f.line_starts.len() - 1,
            })? as usize;
        let end = f
            .line_starts
            .get(line_index + 1)
            .map_or(f.text.len(), |&s| s as usize);
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_follow_line_directives() {
        let mut sm = SourceMap::new();
        let text = "aa\n# 10 \"orig.pc\"\nbb\ncc\n#line 3\ndd\n".to_string();
        let id = sm.add("pre.i", text.clone());
        sm.set_line_directives(
            id,
            &[
                LineDirective {
                    applies_from: 2,
                    line: 10,
                    file: Some("orig.pc".into()),
                },
                LineDirective {
                    applies_from: 5,
                    line: 3,
                    file: None,
                },
            ],
        );
        let at = |s: &str| {
            let loc = sm.location(id, text.find(s).unwrap_or(usize::MAX));
            (loc.file.to_string(), loc.line, loc.column)
        };
        assert_eq!(at("aa"), ("pre.i".into(), 1, 1));
        assert_eq!(at("bb"), ("orig.pc".into(), 10, 1));
        assert_eq!(at("cc"), ("orig.pc".into(), 11, 1));
        assert_eq!(at("dd"), ("orig.pc".into(), 3, 1));
    }

    #[test]
    fn columns_count_characters() {
        let mut sm = SourceMap::new();
        let id = sm.add("x.pc", "// é\n  x".to_string());
        assert_eq!(sm.location(id, 8).column, 3); // `x`
        assert_eq!(sm.location(id, 5).column, 5); // the line end after `é`
    }
}
