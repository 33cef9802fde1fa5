//! The Cranelift back end's run tier over `tests/fixtures/run/*.pc` (the same programs and
//! expectations as the Rust back end's `run.rs`): each program is compiled in this process and
//! its entry run; the value (or escaping exception) must equal the file's `// expect:` (or
//! `// expect-raise:`) header, at `-O0` and `-O3`, with Cranelift's verifier on. The programs
//! with Rust host code are rejected with P1105 instead, and an extern method nobody provides
//! with P1109. Both back ends passing against the same headers is what "identical results"
//! means for the run tier.

use prolac_compiler::clif::{HostFunction, JitOptions, LoadError, OptLevel, load};
use prolac_compiler::fs::RealFs;
use prolac_compiler::{HostLang, Options, check_program};
use prolac_syntax::codes::{P1105, P1109, P1110};

mod run_cases;
use run_cases::cases;

/// Programs with Rust host code (host blocks, support blocks): the JIT rejects them.
const RUST_ONLY: &[&str] = &["host_block_counter", "host_block_let", "host_extern_triple"];

/// The host function the `host_extern_*` programs call.
extern "C" fn triple(x: u32) -> u32 {
    x.wrapping_mul(3)
}

fn options(entry: prolac_compiler::ir::MethodId, opt: OptLevel) -> JitOptions {
    JitOptions {
        opt,
        verify: true,
        keep_clif: false,
        main_entry: Some(entry),
        stub_missing_hosts: false,
        ..JitOptions::default()
    }
}

fn hosts() -> [HostFunction<'static>; 1] {
    [HostFunction {
        name: "triple",
        address: triple as *const u8,
    }]
}

#[test]
fn run_programs_through_the_jit_at_o0_and_o3() {
    let cases = cases();
    assert!(cases.len() >= 60, "only {} run programs", cases.len());
    let mut failures = Vec::new();
    let mut ran = 0;
    for level in [0u8, 3] {
        // Cranelift's own optimiser on at -O3, off at -O0: both must give the same results.
        let opt = if level == 3 {
            OptLevel::Speed
        } else {
            OptLevel::None
        };
        for case in &cases {
            let (program, entry) = case.analyse(level);
            let result = load(&program, &hosts(), &options(entry, opt));
            if RUST_ONLY.contains(&case.name.as_str()) {
                match result {
                    Err(LoadError::Diagnostics(d)) if d.iter().any(|d| d.code == P1105) => {}
                    other => failures.push(format!(
                        "-O{level} {}: want P1105, got {:?}",
                        case.name,
                        other.map(|_| ())
                    )),
                }
                continue;
            }
            let loaded = match result {
                Ok(l) => l,
                Err(e) => {
                    let text = match e {
                        LoadError::Diagnostics(d) => format!("{d:?}"),
                        LoadError::Jit(e) => e.to_string(),
                    };
                    failures.push(format!("-O{level} {}: not compiled: {text}", case.name));
                    continue;
                }
            };
            let got = loaded.run_main().expect("a main entry was asked for");
            let want = case.expect.clone();
            let got = got.map(|v| v.to_string());
            if got != want {
                failures.push(format!(
                    "-O{level} {}: want {want:?}, got {got:?}",
                    case.name
                ));
            }
            ran += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(ran, 2 * (cases.len() - RUST_ONLY.len()));
}

/// W03, W05: an extern method the host does not provide is P1109 naming the link name, and
/// nothing runs; a support block is P1105 even when nothing calls into it.
#[test]
fn missing_host_functions_and_support_blocks_are_diagnostics() {
    let cases = cases();
    let convert = cases
        .iter()
        .find(|c| c.name == "host_extern_link_name")
        .expect("fixture");
    let (program, entry) = convert.analyse(3);
    match load(&program, &[], &options(entry, OptLevel::Speed)) {
        Err(LoadError::Diagnostics(d)) => {
            assert_eq!(d.len(), 1, "{d:?}");
            assert_eq!(d[0].code, P1109);
            assert!(d[0].message.contains("`triple`"), "{}", d[0].message);
        }
        other => panic!("want P1109, got {:?}", other.map(|_| ())),
    }
    let triple = cases
        .iter()
        .find(|c| c.name == "host_extern_triple")
        .expect("fixture");
    let (program, entry) = triple.analyse(3);
    match load(&program, &hosts(), &options(entry, OptLevel::Speed)) {
        Err(LoadError::Diagnostics(d)) => {
            assert_eq!(d[0].code, P1105);
            let text = &program.sources;
            let _ = text;
        }
        other => panic!("want P1105, got {:?}", other.map(|_| ())),
    }
}

/// `--emit clif` text: every function of a program, deterministic across runs.
#[test]
fn clif_text_names_every_function_and_is_deterministic() {
    let cases = cases();
    let case = cases
        .iter()
        .find(|c| c.name == "dispatch_siblings")
        .expect("fixture");
    let (program, _) = case.analyse(3);
    let a = prolac_compiler::clif::emit_clif(&program, OptLevel::Speed).expect("clif");
    let b = prolac_compiler::clif::emit_clif(&program, OptLevel::Speed).expect("clif");
    assert_eq!(a, b);
    assert!(a.contains("function u0:"), "{a}");
    assert!(
        a.contains("call_indirect"),
        "a dispatched call stays dynamic:\n{a}"
    );
}

/// A method whose module values would need more than a frame can hold is P1110, not a
/// Cranelift failure.
#[test]
fn too_large_a_frame_is_p1110() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("big.pc");
    std::fs::write(
        &path,
        "module Big {\n  field bytes :> uchar[1500000000];\n}\n\
         module Main has Big {\n  static run :> uint ::= let b :> Big in b.bytes[3] end;\n}\n\
         export Main.run;\n",
    )
    .expect("write");
    let options = Options {
        host: HostLang::Rust,
        include_dirs: Vec::new(),
        without: Vec::new(),
        opt_level: 3,
        generate: true,
    };
    let program = check_program(&[path], &RealFs, &options).expect("loads");
    assert!(!program.has_errors(), "{:?}", program.diagnostics);
    match load(&program, &[], &JitOptions::default()) {
        Err(LoadError::Diagnostics(d)) => {
            assert!(d.iter().any(|d| d.code == P1110), "{d:?}");
        }
        other => panic!("want P1110, got {:?}", other.map(|_| ())),
    }
}
