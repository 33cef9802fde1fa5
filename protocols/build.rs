//! Compiles the TCP (`tcp/tcp.pc` and the files it includes) to Rust in `OUT_DIR`, four times:
//! every layer but CUBIC (`tcp.rs`: Reno's congestion avoidance), every layer (`tcp_cubic.rs`),
//! without header prediction (`tcp_no_prediction.rs`, for the benchmark's comparison), and the
//! base alone (`tcp_base.rs`, every optional layer left out).

/// The layers after `Base`, in composition order.
const OPTIONAL_LAYERS: [&str; 18] = [
    "Window-Scale",
    "Window",
    "Timers",
    "Rtt",
    "Timestamps",
    "Keepalive",
    "Delayed-Ack",
    "Nagle",
    "Congestion",
    "Cubic",
    "Fast-Recovery",
    "Sack",
    "Sack-Recovery",
    "Challenge-Ack",
    "Urgent",
    "Isn",
    "Icmp",
    "Header-Prediction",
];

fn main() {
    prolac_compiler::Build::new()
        .file("tcp/tcp.pc")
        .without("Cubic")
        .compile();
    prolac_compiler::Build::new()
        .file("tcp/tcp.pc")
        .output("tcp_cubic.rs")
        .compile();
    prolac_compiler::Build::new()
        .file("tcp/tcp.pc")
        .without("Cubic")
        .without("Header-Prediction")
        .output("tcp_no_prediction.rs")
        .compile();
    let mut base = prolac_compiler::Build::new();
    base.file("tcp/tcp.pc").output("tcp_base.rs");
    for layer in OPTIONAL_LAYERS {
        base.without(layer);
    }
    base.compile();
}
