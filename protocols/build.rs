//! Compiles the TCP (`tcp/tcp.pc` and the files it includes) to Rust in `OUT_DIR`.

fn main() {
    prolac_compiler::Build::new().file("tcp/tcp.pc").compile();
}
