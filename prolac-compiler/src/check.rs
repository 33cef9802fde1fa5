//! Checks over the whole program's syntax trees that need more than one file: today, that
//! every `--without NAME` names a layer of the program (P0506).
//!
//! Command-line arguments have no place in a source file, so the check reports against a
//! synthetic file `<command line>` holding the options, which lets the diagnostic point at the
//! offending name like any other.

use prolac_syntax::ast::ItemKind;
use prolac_syntax::codes::P0506;
use prolac_syntax::{Diagnostic, Span};

use crate::{Options, Program};

/// The key under which layer names are compared: case-insensitive, `-` and `_` equivalent.
pub fn layer_key(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

/// The names of all layers defined at file level, in reading order.
pub fn layer_names(program: &Program) -> Vec<String> {
    program
        .files
        .iter()
        .flat_map(|f| &f.ast.items)
        .filter_map(|item| match &item.kind {
            ItemKind::Layer(l) => Some(l.name.text.to_string()),
            _ => None,
        })
        .collect()
}

/// Runs the whole-program syntax checks.
pub fn check(program: &mut Program, options: &Options) {
    check_without(program, options);
}

fn check_without(program: &mut Program, options: &Options) {
    if options.without.is_empty() {
        return;
    }
    let layers = layer_names(program);
    let known: Vec<String> = layers.iter().map(|l| layer_key(l)).collect();
    let unknown: Vec<usize> = options
        .without
        .iter()
        .enumerate()
        .filter(|(_, w)| !known.contains(&layer_key(w)))
        .map(|(i, _)| i)
        .collect();
    if unknown.is_empty() {
        return;
    }
    let mut text = String::new();
    let mut spans = Vec::new();
    for w in &options.without {
        text.push_str("--without ");
        spans.push((text.len(), text.len() + w.len()));
        text.push_str(w);
        text.push(' ');
    }
    let file = program.sources.add("<command line>", text);
    for i in unknown {
        let (lo, hi) = spans[i];
        let name = &options.without[i];
        let mut d = Diagnostic::new(
            P0506,
            Span::new(file, lo, hi),
            format!("no layer named `{name}`"),
        )
        .with_label("unknown layer");
        d = if layers.is_empty() {
            d.with_note("the program defines no layers")
        } else {
            d.with_note(format!("the program's layers: {}", layers.join(", ")))
        };
        program.diagnostics.push(d);
    }
}
