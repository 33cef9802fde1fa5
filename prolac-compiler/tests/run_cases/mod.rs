//! The run fixtures (`tests/fixtures/run/*.pc`, see its README) as test cases, for both back
//! ends' run tiers (`run.rs`, `jit.rs`): the entry, the expected value or exception, and the
//! options each file's header gives.

use std::path::{Path, PathBuf};

use prolac_compiler::fs::RealFs;
use prolac_compiler::ir::MethodId;
use prolac_compiler::{HostLang, Options, Program, check_program};

/// One run fixture.
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) entry: String,
    pub(crate) expect: Result<String, String>,
    pub(crate) without: Vec<String>,
    pub(crate) opt: Option<u8>,
}

fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .take_while(|l| l.starts_with("//"))
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
}

/// Every run fixture, in file-name order.
pub(crate) fn cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("run fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pc"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let entry = header(&text, "// run:")
                .unwrap_or_else(|| panic!("{name}: no `// run:` header"))
                .to_string();
            let expect = match (
                header(&text, "// expect:"),
                header(&text, "// expect-raise:"),
            ) {
                (Some(v), None) => Ok(v.to_string()),
                (None, Some(x)) => Err(x.to_string()),
                _ => panic!("{name}: exactly one of `// expect:` and `// expect-raise:`"),
            };
            let mut without = Vec::new();
            let mut opt = None;
            if let Some(options) = header(&text, "// options:") {
                let mut words = options.split_whitespace();
                while let Some(w) = words.next() {
                    match w {
                        "--without" => without.extend(words.next().map(String::from)),
                        o if o.starts_with("-O") => opt = o[2..].parse().ok(),
                        other => panic!("{name}: unknown option {other}"),
                    }
                }
            }
            Case {
                name,
                path,
                entry,
                expect,
                without,
                opt,
            }
        })
        .collect()
}

impl Case {
    /// The program analysed at optimisation level `level` (unless its header fixes one), and
    /// its entry method; panics if it does not check cleanly.
    pub(crate) fn analyse(&self, level: u8) -> (Program, MethodId) {
        let options = Options {
            host: HostLang::Rust,
            include_dirs: Vec::new(),
            without: self.without.clone(),
            opt_level: self.opt.unwrap_or(level),
            generate: true,
        };
        let program = check_program(std::slice::from_ref(&self.path), &RealFs, &options)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        assert!(
            !program.has_errors(),
            "{}: {:?}",
            self.name,
            program.diagnostics
        );
        let ir = program.ir.as_ref().expect("IR");
        let entry = ir
            .exports
            .iter()
            .copied()
            .find(|&m| {
                let method = &ir.methods[m];
                format!("{}.{}", ir.modules[method.owner].name, method.name) == self.entry
            })
            .unwrap_or_else(|| panic!("{}: `{}` is not exported", self.name, self.entry));
        (program, entry)
    }
}
