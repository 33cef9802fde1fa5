//! The file-system boundary. The compiler core reads source files only through
//! [`FileSystem`]; [`RealFs`] is the implementation the `prolacc` driver and build scripts use,
//! [`MemFs`] an in-memory one for tests and for embedding programs that hold their sources in
//! memory.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Read access to source files.
pub trait FileSystem {
    /// The bytes of a file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// True if `path` names a readable regular file.
    fn is_file(&self, path: &Path) -> bool;
    /// A canonical name for the file, used to read each file at most once.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;
}

/// The operating system's file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl FileSystem for RealFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}

/// Files held in memory, keyed by normalised path.
#[derive(Clone, Debug, Default)]
pub struct MemFs {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

/// Removes `.` components and folds `..` into its parent, without touching a disk.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

impl MemFs {
    /// An empty file system.
    pub fn new() -> MemFs {
        MemFs::default()
    }

    /// Adds (or replaces) a file.
    pub fn add(&mut self, path: impl AsRef<Path>, text: impl Into<Vec<u8>>) -> &mut MemFs {
        self.files.insert(normalise(path.as_ref()), text.into());
        self
    }
}

impl FileSystem for MemFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files
            .get(&normalise(path))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(&normalise(path))
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        let p = normalise(path);
        if self.files.contains_key(&p) {
            Ok(p)
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "no such file"))
        }
    }
}

/// A file system with a few in-memory files laid over another (used for the synthetic
/// `export` that `prolacc run --entry` adds to a program).
pub struct Overlay<'a> {
    /// The in-memory files, consulted first.
    pub extra: MemFs,
    /// Everything else.
    pub base: &'a dyn FileSystem,
}

impl FileSystem for Overlay<'_> {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if self.extra.is_file(path) {
            self.extra.read(path)
        } else {
            self.base.read(path)
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        self.extra.is_file(path) || self.base.is_file(path)
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        if self.extra.is_file(path) {
            self.extra.canonicalize(path)
        } else {
            self.base.canonicalize(path)
        }
    }
}
