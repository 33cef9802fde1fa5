//! The TCP compiled to machine code at run time: the [`Jit`] variant.
//!
//! The same `tcp/*.pc` sources the build script compiles to Rust are embedded in this crate;
//! the first [`Jit`] connection (or [`Jit::load`]) compiles them in this process with the
//! Cranelift back end (`prolac_compiler::clif`), the layers of [`Full`](super::Full), no
//! `rustc` involved. The result is the same protocol through another back end: the TCB is the
//! very structure the Rust-compiled [`Full`](super::Full) uses (both back ends lay objects out
//! with one engine, and [`Jit::load`] checks the two agree), and the extern methods call the
//! same host functions. So a [`Connection<Jit>`](super::Connection) behaves byte for byte as a
//! [`Connection<Full>`](super::Connection) does, which `tests/differential.rs` checks.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use prolac_compiler::clif::OptLevel;
use prolac_compiler::clif::{self, EntrySig, HostFunction, JitOptions, Loaded};
use prolac_compiler::fs::MemFs;
use prolac_compiler::{HostLang, Options};

use super::full;
use super::{TcpInfo, Variant, sealed};

/// Every source file of the TCP, by its path under `protocols/`.
const SOURCES: &[(&str, &str)] = &[
    ("tcp/tcp.pc", include_str!("../../tcp/tcp.pc")),
    ("tcp/wire.pc", include_str!("../../tcp/wire.pc")),
    ("tcp/host.pc", include_str!("../../tcp/host.pc")),
    ("tcp/tcb.pc", include_str!("../../tcp/tcb.pc")),
    ("tcp/output.pc", include_str!("../../tcp/output.pc")),
    ("tcp/input.pc", include_str!("../../tcp/input.pc")),
    ("tcp/api.pc", include_str!("../../tcp/api.pc")),
    ("tcp/window.pc", include_str!("../../tcp/window.pc")),
    (
        "tcp/window-scale.pc",
        include_str!("../../tcp/window-scale.pc"),
    ),
    ("tcp/timers.pc", include_str!("../../tcp/timers.pc")),
    ("tcp/rtt.pc", include_str!("../../tcp/rtt.pc")),
    ("tcp/timestamps.pc", include_str!("../../tcp/timestamps.pc")),
    ("tcp/keepalive.pc", include_str!("../../tcp/keepalive.pc")),
    (
        "tcp/delayed-ack.pc",
        include_str!("../../tcp/delayed-ack.pc"),
    ),
    ("tcp/nagle.pc", include_str!("../../tcp/nagle.pc")),
    ("tcp/congestion.pc", include_str!("../../tcp/congestion.pc")),
    ("tcp/cubic.pc", include_str!("../../tcp/cubic.pc")),
    (
        "tcp/fast-recovery.pc",
        include_str!("../../tcp/fast-recovery.pc"),
    ),
    ("tcp/sack.pc", include_str!("../../tcp/sack.pc")),
    (
        "tcp/sack-recovery.pc",
        include_str!("../../tcp/sack-recovery.pc"),
    ),
    (
        "tcp/challenge-ack.pc",
        include_str!("../../tcp/challenge-ack.pc"),
    ),
    ("tcp/urgent.pc", include_str!("../../tcp/urgent.pc")),
    ("tcp/isn.pc", include_str!("../../tcp/isn.pc")),
    ("tcp/icmp.pc", include_str!("../../tcp/icmp.pc")),
    (
        "tcp/header-prediction.pc",
        include_str!("../../tcp/header-prediction.pc"),
    ),
];

type Tcb = full::TcpTcb;
type Info = full::TcpInfo;

/// The entry points, as C function pointers with the types the TCP's exports have.
struct Entries {
    constructor: extern "C" fn(*mut Tcb),
    listen: extern "C" fn(*mut Tcb, u16),
    connect: extern "C" fn(*mut Tcb, u16, u16, u64),
    input: extern "C" fn(*mut Tcb, *mut u8, u32, u64),
    input_batched: extern "C" fn(*mut Tcb, *mut u8, u32, u64),
    flush: extern "C" fn(*mut Tcb, u64),
    send: extern "C" fn(*mut Tcb, u64),
    read: extern "C" fn(*mut Tcb, u64),
    shutdown: extern "C" fn(*mut Tcb, u64),
    close: extern "C" fn(*mut Tcb, u64),
    abort: extern "C" fn(*mut Tcb),
    poll: extern "C" fn(*mut Tcb, u64),
    icmp: extern "C" fn(*mut Tcb, u32, u32, u64),
    poll_at: extern "C" fn(*mut Tcb) -> u64,
    set_option: extern "C" fn(*mut Tcb, u32, u64) -> bool,
    info: extern "C" fn(*mut Tcb, *mut Info),
}

/// The compiled TCP: the code (kept alive for the process) and how long compiling took.
pub struct Compiled {
    entries: Entries,
    /// Keeps the machine code mapped.
    loaded: Loaded,
    /// Wall-clock time of the whole compilation: parsing, analysis, optimisation, Cranelift.
    pub compile_time: Duration,
    /// The front end's share: parsing, analysis, optimisation and layout (the Rust back end
    /// pays it too, at build time).
    pub front_end_time: Duration,
    /// Cranelift's share of it, and what it produced.
    pub stats: tcc_backend::Stats,
}

// SAFETY: the compiled code is immutable once finalized and reentrant (it keeps no state of
// its own: every TCB is the caller's), and `Loaded` is only read after compilation.
#[allow(unsafe_code)]
unsafe impl Send for Compiled {}
// SAFETY: as above.
#[allow(unsafe_code)]
unsafe impl Sync for Compiled {}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("loaded", &self.loaded)
            .field("compile_time", &self.compile_time)
            .finish()
    }
}

static COMPILED: OnceLock<Result<Compiled, String>> = OnceLock::new();

/// The TCP compiled at run time by the Cranelift back end, with the layers of
/// [`Full`](super::Full): every layer but CUBIC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Jit;

impl Jit {
    /// Compiles the TCP now (at most once per process; later calls return the same result).
    /// Connections compile it on first use; call this first to see errors or the cost.
    pub fn load() -> Result<&'static Compiled, String> {
        COMPILED
            .get_or_init(|| compile(OptLevel::Speed))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn get() -> &'static Entries {
        match Jit::load() {
            Ok(c) => &c.entries,
            // A Connection cannot report an error from `new`: fail loudly, with the reason.
            Err(e) => panic!("the JIT-compiled TCP failed to load: {e}"),
        }
    }
}

/// Compiles the embedded TCP with Cranelift at optimisation level `opt` and checks its layout
/// against the Rust-compiled TCP's (a fresh compilation each call: for benchmarks).
pub fn compile(opt: OptLevel) -> Result<Compiled, String> {
    let started = Instant::now();
    let mut fs = MemFs::new();
    for (path, text) in SOURCES {
        fs.add(path, *text);
    }
    let options = Options {
        host: HostLang::Rust,
        include_dirs: Vec::new(),
        without: vec!["Cubic".to_string()],
        opt_level: 3,
        generate: true,
    };
    let program = prolac_compiler::check_program(&["tcp/tcp.pc".into()], &fs, &options)
        .map_err(|e| e.to_string())?;
    if program.has_errors() {
        let first = program
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.message.clone())
            .unwrap_or_default();
        return Err(format!("the TCP does not compile: {first}"));
    }
    let front_end_time = started.elapsed();
    check_layout(&program)?;
    let hosts = hosts();
    let jit_options = JitOptions {
        opt,
        verify: cfg!(debug_assertions),
        ..JitOptions::default()
    };
    let loaded = clif::load(&program, &hosts, &jit_options).map_err(|e| match e {
        clif::LoadError::Diagnostics(d) => d
            .first()
            .map_or_else(|| "not analysed".to_string(), |d| d.message.clone()),
        clif::LoadError::Jit(e) => e.to_string(),
    })?;
    let entries = entries(&loaded)?;
    let stats = loaded.stats();
    Ok(Compiled {
        entries,
        loaded,
        compile_time: started.elapsed(),
        front_end_time,
        stats,
    })
}

/// The TCB and info structures the JIT-compiled code works on must be the Rust-compiled
/// TCP's: same size, and `cookie` (which the host functions read) at the same offset.
fn check_layout(program: &prolac_compiler::Program) -> Result<(), String> {
    let (Some(ir), Some(layouts)) = (&program.ir, &program.layouts) else {
        return Err("no layouts".into());
    };
    let module = |name: &str| {
        ir.aliases
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, m)| m)
            .or_else(|| {
                ir.modules
                    .iter()
                    .find(|(_, m)| m.name == name)
                    .map(|(id, _)| id)
            })
            .ok_or_else(|| format!("no module `{name}`"))
    };
    let tcb = module("Tcp.Tcb")?;
    let info = module("Tcp-Info")?;
    let cookie = ir
        .fields
        .iter()
        .find(|(_, f)| f.name == "cookie" && ir.is_subclass(tcb, f.owner))
        .map(|(id, _)| id)
        .ok_or("no field `cookie`")?;
    let want = [
        (
            "Tcp.Tcb size",
            layouts.of(tcb).size,
            size_of::<Tcb>() as u64,
        ),
        (
            "Tcp-Info size",
            layouts.of(info).size,
            size_of::<Info>() as u64,
        ),
        (
            "cookie offset",
            layouts.field_offset(tcb, cookie).unwrap_or(u64::MAX),
            std::mem::offset_of!(Tcb, cookie) as u64,
        ),
    ];
    for (what, jit, rust) in want {
        if jit != rust {
            return Err(format!(
                "{what}: {jit} in the JIT's layout, {rust} in the Rust-compiled TCP's"
            ));
        }
    }
    Ok(())
}

/// The host functions: the Rust-compiled [`full`] module's, which read the same TCB layout.
fn hosts() -> Vec<HostFunction<'static>> {
    let f = |name: &'static str, address: *const u8| HostFunction { name, address };
    vec![
        f("tcp_segment_buffer", full::tcp_segment_buffer as *const u8),
        f("tcp_transmit", full::tcp_transmit as *const u8),
        f("tcp_split", full::tcp_split as *const u8),
        f("tcp_send_queued", full::tcp_send_queued as *const u8),
        f("tcp_send_copy", full::tcp_send_copy as *const u8),
        f("tcp_send_acked", full::tcp_send_acked as *const u8),
        f("tcp_receive_space", full::tcp_receive_space as *const u8),
        f(
            "tcp_receive_capacity",
            full::tcp_receive_capacity as *const u8,
        ),
        f("tcp_deliver", full::tcp_deliver as *const u8),
        f("tcp_store_early", full::tcp_store_early as *const u8),
        f("tcp_discard_early", full::tcp_discard_early as *const u8),
        f("tcp_reassemble", full::tcp_reassemble as *const u8),
        f("tcp_event", full::tcp_event as *const u8),
        f("tcp_initial_seq", full::tcp_initial_seq as *const u8),
    ]
}

/// Finds each entry point and checks its machine signature before trusting a function-pointer
/// type with it.
fn entries(loaded: &Loaded) -> Result<Entries, String> {
    use tcc_backend::types::{I8, I16, I32, I64};
    let p = I64;
    let get = |name: &str, params: &[tcc_backend::Type], ret: Option<tcc_backend::Type>| {
        let e = loaded
            .entry(name)
            .ok_or_else(|| format!("no entry point `{name}`"))?;
        let want = EntrySig {
            params: params.to_vec(),
            ret,
            out: false,
            status: false,
        };
        if e.sig != want {
            return Err(format!(
                "entry `{name}` has signature {:?}, not {want:?}",
                e.sig
            ));
        }
        Ok(e.address)
    };
    macro_rules! entry {
        ($name:literal, [$($t:expr),*], $ret:expr, $f:ty) => {{
            let address = get($name, &[$($t),*], $ret)?;
            // SAFETY: `get` checked the machine signature of the generated function against
            // the pointer type this transmutes to (C calling convention, pointers as I64,
            // `bool` as a byte holding 0 or 1); the code stays mapped for the process
            // (`Compiled` lives in a static).
            #[allow(unsafe_code)]
            unsafe {
                std::mem::transmute::<*const u8, $f>(address)
            }
        }};
    }
    Ok(Entries {
        constructor: entry!("Tcp.Tcb.constructor", [p], None, extern "C" fn(*mut Tcb)),
        listen: entry!(
            "Tcp.Api.listen",
            [p, I16],
            None,
            extern "C" fn(*mut Tcb, u16)
        ),
        connect: entry!(
            "Tcp.Api.connect",
            [p, I16, I16, I64],
            None,
            extern "C" fn(*mut Tcb, u16, u16, u64)
        ),
        input: entry!(
            "Tcp.Api.input",
            [p, p, I32, I64],
            None,
            extern "C" fn(*mut Tcb, *mut u8, u32, u64)
        ),
        input_batched: entry!(
            "Tcp.Api.input-batched",
            [p, p, I32, I64],
            None,
            extern "C" fn(*mut Tcb, *mut u8, u32, u64)
        ),
        flush: entry!(
            "Tcp.Api.flush",
            [p, I64],
            None,
            extern "C" fn(*mut Tcb, u64)
        ),
        send: entry!("Tcp.Api.send", [p, I64], None, extern "C" fn(*mut Tcb, u64)),
        read: entry!("Tcp.Api.read", [p, I64], None, extern "C" fn(*mut Tcb, u64)),
        shutdown: entry!(
            "Tcp.Api.shutdown",
            [p, I64],
            None,
            extern "C" fn(*mut Tcb, u64)
        ),
        close: entry!(
            "Tcp.Api.close",
            [p, I64],
            None,
            extern "C" fn(*mut Tcb, u64)
        ),
        abort: entry!("Tcp.Api.abort", [p], None, extern "C" fn(*mut Tcb)),
        poll: entry!("Tcp.Api.poll", [p, I64], None, extern "C" fn(*mut Tcb, u64)),
        icmp: entry!(
            "Tcp.Api.icmp",
            [p, I32, I32, I64],
            None,
            extern "C" fn(*mut Tcb, u32, u32, u64)
        ),
        poll_at: entry!(
            "Tcp.Api.poll-at",
            [p],
            Some(I64),
            extern "C" fn(*mut Tcb) -> u64
        ),
        set_option: entry!(
            "Tcp.Api.set-option",
            [p, I32, I64],
            Some(I8),
            extern "C" fn(*mut Tcb, u32, u64) -> bool
        ),
        info: entry!(
            "Tcp.Api.info",
            [p, p],
            None,
            extern "C" fn(*mut Tcb, *mut Info)
        ),
    })
}

impl sealed::Sealed for Jit {}

impl Variant for Jit {
    type Tcb = Tcb;
    const WITHOUT: &'static str = "Cubic";

    fn new_tcb(cookie: u64) -> Box<Tcb> {
        let e = Jit::get();
        let mut tcb = Box::new(Tcb::ZERO);
        tcb.cookie = cookie;
        (e.constructor)(&mut *tcb);
        tcb
    }
    fn listen(tcb: &mut Tcb, port: u16) {
        (Jit::get().listen)(tcb, port);
    }
    fn connect(tcb: &mut Tcb, local: u16, remote: u16, now: u64) {
        (Jit::get().connect)(tcb, local, remote, now);
    }
    #[allow(unsafe_code)]
    unsafe fn input(tcb: &mut Tcb, bytes: *mut u8, n: u32, now: u64) {
        (Jit::get().input)(tcb, bytes, n, now);
    }
    #[allow(unsafe_code)]
    unsafe fn input_batched(tcb: &mut Tcb, bytes: *mut u8, n: u32, now: u64) {
        (Jit::get().input_batched)(tcb, bytes, n, now);
    }
    fn flush(tcb: &mut Tcb, now: u64) {
        (Jit::get().flush)(tcb, now);
    }
    fn send(tcb: &mut Tcb, now: u64) {
        (Jit::get().send)(tcb, now);
    }
    fn read(tcb: &mut Tcb, now: u64) {
        (Jit::get().read)(tcb, now);
    }
    fn shutdown(tcb: &mut Tcb, now: u64) {
        (Jit::get().shutdown)(tcb, now);
    }
    fn close(tcb: &mut Tcb, now: u64) {
        (Jit::get().close)(tcb, now);
    }
    fn abort(tcb: &mut Tcb) {
        (Jit::get().abort)(tcb);
    }
    fn poll(tcb: &mut Tcb, now: u64) {
        (Jit::get().poll)(tcb, now);
    }
    fn icmp(tcb: &mut Tcb, error: u32, seq: u32, now: u64) {
        (Jit::get().icmp)(tcb, error, seq, now);
    }
    fn poll_at(tcb: &mut Tcb) -> u64 {
        (Jit::get().poll_at)(tcb)
    }
    fn set_option(tcb: &mut Tcb, opt: u32, value: u64) -> bool {
        (Jit::get().set_option)(tcb, opt, value)
    }
    fn info(tcb: &mut Tcb) -> TcpInfo {
        let mut i = Info::ZERO;
        (Jit::get().info)(tcb, &mut i);
        full::public_info(&i)
    }
    fn base_fields(tcb: &Tcb) -> (u8, [u32; 5]) {
        <super::Full as Variant>::base_fields(tcb)
    }
}
