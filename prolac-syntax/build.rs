//! Generates the LR(1) parser from `src/grammar.lalrpop` into `OUT_DIR`.
//!
//! The grammar is LR(1) but not LALR(1)-friendly (operator sequences and module-operator
//! operands share prefixes in several contexts), and lalrpop's default lane-table construction
//! reports spurious conflicts for it; the canonical LR(1) construction builds it in about two
//! seconds. lalrpop selects the construction only through an environment variable.
#![allow(unsafe_code)]

fn main() {
    // SAFETY: the build script is single-threaded; nothing else reads the environment while it
    // is written.
    unsafe { std::env::set_var("LALRPOP_LANE_TABLE", "disabled") };
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .emit_rerun_directives(true)
        .process()
        .expect("the Prolac grammar must be a conflict-free LR(1) grammar");
}
