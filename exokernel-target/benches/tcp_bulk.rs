//! Bulk TCP benchmark (issue 5): the Prolac TCP against smoltcp's in this process, over an
//! in-memory link. The method and the modes are documented in
//! `exokernel_target::bench::memory`, which this runs; `docs/BENCHMARKS.md` has the figures.

fn main() {
    exokernel_target::bench::memory::run_cli(std::env::args().skip(1));
}
