//! Assembling a program from its files: the root files, then every file reached through
//! `include "path";`, each read at most once (identified by canonical path), depth first in
//! reading order.
//!
//! An include path is resolved relative to the directory of the physical file that contains
//! it (not a name set by a line directive), then in each `-I` directory in order. A missing or
//! unreadable included file is a diagnostic (P0501) at the string; a missing root file is an
//! IO error for the caller to report.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use prolac_syntax::ast::{self, ItemKind};
use prolac_syntax::codes::{P0114, P0501};
use prolac_syntax::{Diagnostic, FileId, ParseOptions, SourceMap, Span};

use crate::Options;
use crate::fs::FileSystem;

/// One source file of a program.
#[derive(Debug)]
pub struct ProgramFile {
    /// Its id in the program's source map.
    pub id: FileId,
    /// The path it was read from, as given or as resolved.
    pub path: PathBuf,
    /// Its syntax tree.
    pub ast: ast::File,
    /// For each top-level `include` item, in order: the item's span and the file it loaded
    /// (`None` if it was missing or had been read before).
    pub includes: Vec<(Span, Option<FileId>)>,
    /// Number of tokens.
    pub tokens: usize,
}

/// A whole program: every file, their syntax trees, and what was reported so far.
#[derive(Debug, Default)]
pub struct Program {
    /// The text of every file, for rendering diagnostics.
    pub sources: SourceMap,
    /// The files, in the order they were read (roots in order, includes depth first).
    pub files: Vec<ProgramFile>,
    /// Diagnostics, in the order they were found.
    pub diagnostics: Vec<Diagnostic>,
    /// The analysed and optimised program, once semantic analysis has run without errors.
    pub ir: Option<crate::ir::Program>,
    /// What the optimiser did.
    pub report: Option<crate::opt::Report>,
    /// Object layouts of the optimised program.
    pub layouts: Option<crate::layout::Layouts>,
}

impl Program {
    /// True if an error (not only warnings) has been reported.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A root file could not be read.
#[derive(Debug)]
pub struct LoadError {
    /// The path given.
    pub path: PathBuf,
    /// Why.
    pub error: io::Error,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read `{}`: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for LoadError {}

struct Loader<'a> {
    fs: &'a dyn FileSystem,
    options: &'a Options,
    program: Program,
    seen: HashMap<PathBuf, FileId>,
}

/// Reads and parses the root files and everything they include.
pub fn load_program(
    roots: &[PathBuf],
    fs: &dyn FileSystem,
    options: &Options,
) -> Result<Program, LoadError> {
    let mut loader = Loader {
        fs,
        options,
        program: Program::default(),
        seen: HashMap::new(),
    };
    for root in roots {
        let bytes = fs.read(root).map_err(|error| LoadError {
            path: root.clone(),
            error,
        })?;
        let canonical = fs.canonicalize(root).unwrap_or_else(|_| root.clone());
        if loader.seen.contains_key(&canonical) {
            continue; // the same file named twice
        }
        loader.add(root.clone(), canonical, bytes);
    }
    Ok(loader.program)
}

impl Loader<'_> {
    fn add(&mut self, path: PathBuf, canonical: PathBuf, bytes: Vec<u8>) -> FileId {
        let (text, bad_utf8) = match String::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
            }
        };
        let id = self.program.sources.add(path.display().to_string(), text);
        self.seen.insert(canonical, id);
        if let Some(at) = bad_utf8 {
            self.program.diagnostics.push(
                // The invalid bytes became U+FFFD, which starts at the same offset.
                Diagnostic::new(
                    P0114,
                    Span::new(id, at, at + '\u{FFFD}'.len_utf8()),
                    "source file is not valid UTF-8",
                )
                .with_label("the first invalid byte is here")
                .with_help("convert the file to UTF-8"),
            );
        }
        let text = self.program.sources.file(id).text();
        let parsed = prolac_syntax::parse(
            id,
            text,
            ParseOptions {
                host: self.options.host,
            },
        );
        self.program
            .sources
            .set_line_directives(id, &parsed.directives);
        self.program.diagnostics.extend(parsed.diagnostics);
        let index = self.program.files.len();
        self.program.files.push(ProgramFile {
            id,
            path: path.clone(),
            ast: parsed.file,
            includes: Vec::new(),
            tokens: parsed.token_count,
        });
        // Includes are read depth first, in the order they appear.
        let wanted: Vec<(Span, ast::StrLit)> = self.program.files[index]
            .ast
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ItemKind::Include(s) => Some((item.span, s.clone())),
                _ => None,
            })
            .collect();
        for (span, target) in wanted {
            let loaded = self.include(&path, &target);
            self.program.files[index].includes.push((span, loaded));
        }
        id
    }

    /// Resolves and loads one include; returns the new file, if one was read.
    fn include(&mut self, from: &Path, target: &ast::StrLit) -> Option<FileId> {
        let name = target.text();
        let relative = Path::new(&name);
        let mut candidates = Vec::new();
        if relative.is_absolute() {
            candidates.push(relative.to_path_buf());
        } else {
            let dir = from.parent().unwrap_or(Path::new(""));
            candidates.push(dir.join(relative));
            candidates.extend(self.options.include_dirs.iter().map(|d| d.join(relative)));
        }
        let Some(found) = candidates.iter().find(|c| self.fs.is_file(c)) else {
            let searched: Vec<String> = candidates
                .iter()
                .map(|c| format!("`{}`", c.display()))
                .collect();
            let mut d = Diagnostic::new(
                P0501,
                target.span,
                format!("cannot find included file `{name}`"),
            )
            .with_label("not found")
            .with_note(format!("searched {}", searched.join(", ")));
            if self.options.include_dirs.is_empty() && !relative.is_absolute() {
                d = d.with_help("add a directory to search with `-I DIR`");
            }
            self.program.diagnostics.push(d);
            return None;
        };
        let canonical = self
            .fs
            .canonicalize(found)
            .unwrap_or_else(|_| found.clone());
        if self.seen.contains_key(&canonical) {
            return None; // read once per program; include cycles are harmless
        }
        match self.fs.read(found) {
            Ok(bytes) => Some(self.add(found.clone(), canonical, bytes)),
            Err(e) => {
                self.program.diagnostics.push(
                    Diagnostic::new(
                        P0501,
                        target.span,
                        format!("cannot read included file `{name}`"),
                    )
                    .with_label(e.to_string()),
                );
                None
            }
        }
    }
}
