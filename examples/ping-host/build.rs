//! Compiles `examples/ping/ping.pc` twice with the build-script API: the whole stack, and the
//! stack without the `Rate-Limit` layer (`--without rate-limit`).

fn main() {
    prolac_compiler::Build::new()
        .file("../ping/ping.pc")
        .output("ping.rs")
        .compile();
    prolac_compiler::Build::new()
        .file("../ping/ping.pc")
        .without("rate-limit")
        .output("ping_without_rate_limit.rs")
        .compile();
}
