//! `--stats`: facts about a compilation as `key: value` lines. The keys are a contract relied
//! on by scripts and outside checks; new keys may be added, existing ones keep their meaning.

use prolac_syntax::ast::{Item, ItemKind};

use crate::Program;

/// Counts over a program's syntax trees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Source files read.
    pub files: usize,
    /// Physical lines in them.
    pub lines: usize,
    /// Tokens.
    pub tokens: usize,
    /// Modules: of the analysed program (layer modules once per composition), or module
    /// definitions if analysis did not run.
    pub modules: usize,
    /// Method definitions (including constructors).
    pub methods: usize,
    /// Layer definitions.
    pub layers: usize,
    /// Methods that generate code after optimisation.
    pub methods_emitted: usize,
    /// Dynamic dispatches left after devirtualisation.
    pub dynamic_dispatches: usize,
    /// Call sites expanded by inlining.
    pub inlined_calls: usize,
    /// Errors reported.
    pub errors: usize,
    /// Warnings reported.
    pub warnings: usize,
}

fn count(items: &[Item], s: &mut Stats) {
    for item in items {
        match &item.kind {
            ItemKind::Module(m) => {
                s.modules += 1;
                count(&m.body, s);
            }
            ItemKind::Namespace(ns) => count(&ns.items, s),
            ItemKind::Layer(l) => {
                s.layers += 1;
                count(&l.items, s);
            }
            ItemKind::Method(_) => s.methods += 1,
            _ => {}
        }
    }
}

impl Stats {
    /// Computes the statistics of a program.
    pub fn of(program: &Program) -> Stats {
        let mut s = Stats {
            files: program.files.len(),
            ..Stats::default()
        };
        for f in &program.files {
            let text = program.sources.file(f.id).text();
            s.lines += text.lines().count();
            s.tokens += f.tokens;
            count(&f.ast.items, &mut s);
        }
        if let Some(ir) = &program.ir {
            s.modules = ir.modules.len();
        }
        if let Some(r) = &program.report {
            s.methods_emitted = r.emitted.len();
            s.dynamic_dispatches = r.dynamic_dispatches;
            s.inlined_calls = r.inlined_calls;
        }
        s.errors = program.diagnostics.iter().filter(|d| d.is_error()).count();
        s.warnings = program.diagnostics.len() - s.errors;
        s
    }

    /// The `key: value` lines, in a fixed order.
    pub fn lines(&self) -> Vec<String> {
        [
            ("files", self.files),
            ("lines", self.lines),
            ("tokens", self.tokens),
            ("modules", self.modules),
            ("methods", self.methods),
            ("layers", self.layers),
            ("methods-emitted", self.methods_emitted),
            ("dynamic-dispatches", self.dynamic_dispatches),
            ("inlined-calls", self.inlined_calls),
            ("errors", self.errors),
            ("warnings", self.warnings),
        ]
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect()
    }
}
