//! The build-script API: compile Prolac programs to Rust in `OUT_DIR`, in the style of other
//! Rust code generators.
//!
//! ```no_run
//! // In build.rs, inside `fn main`:
//! prolac_compiler::Build::new().file("src/tcp.pc").compile();
//! // Then in src/lib.rs:  mod tcp { include!(concat!(env!("OUT_DIR"), "/tcp.rs")); }
//! ```
//!
//! [`Build::compile`] prints `cargo:rerun-if-changed` for every file the program reads
//! (includes too), renders diagnostics as the compiler would, and on errors panics so that
//! cargo reports the build script's failure with them. [`Build::try_compile`] returns the
//! error instead. The output file is rewritten only when its contents change, so an
//! unchanged program does not rebuild the crate.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::fs::RealFs;
use crate::rust::RustOptions;
use crate::{HostLang, Options};

/// A configured compilation of one Prolac program into one Rust file.
#[derive(Clone, Debug, Default)]
pub struct Build {
    files: Vec<PathBuf>,
    include_dirs: Vec<PathBuf>,
    without: Vec<String>,
    opt_level: Option<u8>,
    out_dir: Option<PathBuf>,
    output: Option<String>,
    quiet: bool,
}

/// Why a build failed.
#[derive(Debug)]
pub enum BuildError {
    /// The configuration is incomplete (no file, no `OUT_DIR`).
    Config(String),
    /// A file could not be read or written.
    Io(String),
    /// The program has errors; the text holds the rendered diagnostics.
    Diagnostics(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Config(m) | BuildError::Io(m) => f.write_str(m),
            BuildError::Diagnostics(text) => write!(f, "the Prolac program has errors:\n{text}"),
        }
    }
}

impl std::error::Error for BuildError {}

impl Build {
    /// A build with no files yet, optimisation level 3, output in `OUT_DIR`.
    pub fn new() -> Build {
        Build::default()
    }

    /// Adds a root file of the program (files it `include`s are found automatically).
    pub fn file(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.files.push(path.as_ref().to_path_buf());
        self
    }

    /// Searches `dir` for `include`d files (`-I`).
    pub fn include_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.include_dirs.push(dir.as_ref().to_path_buf());
        self
    }

    /// Leaves a layer out of every composition (`--without`).
    pub fn without(&mut self, layer: impl Into<String>) -> &mut Build {
        self.without.push(layer.into());
        self
    }

    /// The optimisation level, 0 to 3 (`-O`; default 3).
    pub fn opt_level(&mut self, level: u8) -> &mut Build {
        self.opt_level = Some(level.min(3));
        self
    }

    /// Writes into `dir` instead of `OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The output file's name (default: the first file's stem with `.rs`).
    pub fn output(&mut self, name: impl Into<String>) -> &mut Build {
        self.output = Some(name.into());
        self
    }

    /// Prints no `cargo:` lines (for use outside build scripts).
    pub fn quiet(&mut self, quiet: bool) -> &mut Build {
        self.quiet = quiet;
        self
    }

    /// Compiles, panicking with the rendered diagnostics on failure (the build-script way).
    /// Returns the path of the generated file.
    pub fn compile(&self) -> PathBuf {
        match self.try_compile() {
            Ok(path) => path,
            Err(e) => {
                eprintln!("{e}");
                panic!("prolac: compiling {} failed", self.describe());
            }
        }
    }

    fn describe(&self) -> String {
        let names: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        names.join(", ")
    }

    /// Compiles; returns the path of the generated file.
    pub fn try_compile(&self) -> Result<PathBuf, BuildError> {
        let first = self
            .files
            .first()
            .ok_or_else(|| BuildError::Config("prolac::Build: no file given".into()))?;
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    BuildError::Config(
                        "prolac::Build: OUT_DIR is not set (call it from a build script, or use \
                     `out_dir`)"
                            .into(),
                    )
                })?,
        };
        let name = match &self.output {
            Some(n) => n.clone(),
            None => format!(
                "{}.rs",
                first
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "prolac".into())
            ),
        };
        let options = Options {
            host: HostLang::Rust,
            include_dirs: self.include_dirs.clone(),
            without: self.without.clone(),
            opt_level: self.opt_level.unwrap_or(3),
            generate: true,
        };
        let program = crate::check_program(&self.files, &RealFs, &options)
            .map_err(|e| BuildError::Io(e.to_string()))?;
        if !self.quiet {
            for f in &program.files {
                println!("cargo:rerun-if-changed={}", f.path.display());
            }
        }
        let render = |diagnostics: &[prolac_syntax::Diagnostic]| -> String {
            let mut buf =
                prolac_syntax::codespan_reporting::term::termcolor::NoColor::new(Vec::new());
            let _ = prolac_syntax::render::emit(&mut buf, &program.sources, diagnostics);
            String::from_utf8_lossy(&buf.into_inner()).into_owned()
        };
        if program.has_errors() {
            return Err(BuildError::Diagnostics(render(&program.diagnostics)));
        }
        if !self.quiet {
            for line in render(&program.diagnostics).lines() {
                println!("cargo:warning={line}");
            }
        }
        let text = crate::rust::generate(&program, HostLang::Rust, &RustOptions::default())
            .map_err(|d| BuildError::Diagnostics(render(&d)))?;
        let path = out_dir.join(name);
        write_if_changed(&path, &text)?;
        Ok(path)
    }
}

/// Writes `text` to `path` unless it already holds exactly that, through a temporary file
/// renamed into place (a reader never sees half a file).
pub(crate) fn write_if_changed(path: &Path, text: &str) -> Result<(), BuildError> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| BuildError::Io(format!("cannot write `{}`: {e}", path.display())))
}
