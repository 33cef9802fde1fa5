//! The Cranelift back end: optimised IR to machine code at run time, through
//! [`tcc_backend`] (`prolacc run --backend jit`, `prolacc --emit clif`, [`load`]).
//!
//! It consumes exactly what the Rust back end consumes — the optimised IR, the optimiser's
//! [`Report`](crate::opt::Report), the [layouts](crate::layout) and the same
//! [`EmitSet`](crate::emit_set::EmitSet) — so both back ends contain the same functions and
//! objects built by one can be handed to the other.
//!
//! # The machine-level ABI
//!
//! Every function uses the platform's C calling convention.
//!
//! - Types: `bool` is a byte holding 0 or 1; integers and `seqint` (32 bits, circular
//!   comparison in the code) are integers of their width; every pointer is a machine pointer.
//!   Module values and arrays live in memory and travel as pointers.
//! - A method's function takes, in order: a pointer to the caller's result memory if it
//!   returns a module value; the receiver pointer if it has one; its parameters (a module value
//!   as a pointer to a copy the callee owns). It returns its scalar value (if any), then, if its
//!   exception set is not empty, a 32-bit status: 0, or the raised exception's identity —
//!   exceptions numbered from 1 in the order of their full names, as the Rust back end's
//!   `Exception` enum. Dispatched calls load the function from the object's dispatch table;
//!   a table entry of a method that cannot raise, reached through a selector that can, is an
//!   adapter that adds status 0.
//! - Exported methods are called by the host through [`Entry`] points: the method's own
//!   function when its signature is already C-friendly (no module values, no status),
//!   otherwise a wrapper taking the receiver, the parameters (module values by pointer, copied
//!   in) and, for a value result with a status or a module result, a pointer to write the
//!   result to; it returns the status, if any. An exported constructor of a constructed module
//!   installs the object's dispatch tables first, as the Rust back end's entry wrapper does.
//! - Extern methods call host functions registered under their link names ([`HostFunction`]),
//!   `extern "C"` functions with the mapped types. A reachable extern method the host does not
//!   provide is P1109; a host block reachable from compiled code, or any support block, is
//!   P1105 (the JIT compiles Prolac, not Rust).
//! - A fresh object (`Zero`) is all zero bytes with the dispatch tables of constructed modules
//!   installed, as the Rust back end's `ZERO` constants; static fields start the same way.
//! - Arithmetic is the Rust back end's: wrapping, shift counts modulo the width, signed
//!   division of the minimum by -1 wraps. Where the Rust code panics — a division by zero, a
//!   call of a method without body — the JIT-compiled code prints the message (Rust's, or the
//!   method's name) and ends the process with status 1: it cannot unwind.

mod body;
mod entry;
mod objects;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cranelift_entity::SecondaryMap;
use prolac_syntax::codes::{P1105, P1109, P1110};
use prolac_syntax::{Diagnostic, Span};
pub use tcc_backend::OptLevel;
use tcc_backend::{Data, Func, Jit, JitBuilder, Sig, Type, types};

use crate::emit_set::{EmitSet, origin_definition};
use crate::ir::{
    ExceptionId, ExprKind, FieldId, MethodId, MethodKind, ModuleId, Program as Ir, SelectorId,
    TypeId, TypeKind,
};
use crate::layout::{Layouts, size_align};
use crate::load::Program;
use crate::opt::Report;

/// A host function for extern methods: the link name and the address of an `extern "C"`
/// function with the mapped signature.
#[derive(Clone, Copy, Debug)]
pub struct HostFunction<'n> {
    /// The link name.
    pub name: &'n str,
    /// The function's address.
    pub address: *const u8,
}

/// How to compile.
#[derive(Clone, Debug)]
pub struct JitOptions {
    /// Cranelift's optimisation level.
    pub opt: OptLevel,
    /// Run Cranelift's verifier on every function (default: in debug builds).
    pub verify: bool,
    /// Keep the Cranelift IR text ([`Loaded::clif`]).
    pub keep_clif: bool,
    /// Also build a runner for this static entry method ([`Loaded::run_main`]).
    pub main_entry: Option<MethodId>,
    /// Extern methods without a registered host function call a stub that aborts, instead of
    /// being an error (for `--emit clif`, which prints code nobody runs).
    pub stub_missing_hosts: bool,
    /// Calls of generated functions of at most this many Cranelift instructions are inlined
    /// (callees are compiled first); 0 inlines nothing.
    pub inline_limit: usize,
    /// Threads compiling functions (default: the machine's parallelism); the code is the
    /// same whatever the number.
    pub threads: usize,
}

impl Default for JitOptions {
    fn default() -> JitOptions {
        JitOptions {
            opt: OptLevel::Speed,
            verify: cfg!(debug_assertions),
            keep_clif: false,
            main_entry: None,
            stub_missing_hosts: false,
            inline_limit: DEFAULT_INLINE_LIMIT,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// [`JitOptions::inline_limit`]'s default.
pub const DEFAULT_INLINE_LIMIT: usize = 60;

/// Why a program could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The program cannot be compiled by this back end (P1105, P1109), or was not analysed.
    Diagnostics(Vec<Diagnostic>),
    /// Cranelift refused the code (a back-end bug: the verifier's report names the function).
    Jit(tcc_backend::Error),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Diagnostics(d) => write!(f, "{} diagnostics", d.len()),
            LoadError::Jit(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<tcc_backend::Error> for LoadError {
    fn from(e: tcc_backend::Error) -> LoadError {
        LoadError::Jit(e)
    }
}

/// The machine-level signature of an entry point (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntrySig {
    /// Parameter types, receiver first (module values as pointers).
    pub params: Vec<Type>,
    /// The scalar result returned, if any (absent when it goes through `out`).
    pub ret: Option<Type>,
    /// A last parameter points to where the result is written.
    pub out: bool,
    /// Returns a 32-bit status (0 or an exception identity).
    pub status: bool,
}

/// A callable exported method.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The function's address, valid while the [`Loaded`] lives.
    pub address: *const u8,
    /// How to call it.
    pub sig: EntrySig,
    /// The method.
    pub method: MethodId,
}

/// A program compiled to machine code: entry points by name, exception names by identity.
pub struct Loaded {
    jit: Jit,
    entries: BTreeMap<String, Entry>,
    exceptions: Vec<String>,
    main: Option<(*const u8, bool)>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("entries", &self.entries.keys().collect::<Vec<_>>())
            .field("stats", &self.jit.stats())
            .finish()
    }
}

impl Loaded {
    /// The entry point of exported method `Module.method`, by the module's full name or by
    /// the name a composition gives its final module (`Tcp.Api.poll`).
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// Every entry point, by name.
    pub fn entries(&self) -> &BTreeMap<String, Entry> {
        &self.entries
    }

    /// The full name of the exception with this identity (a non-zero status).
    pub fn exception_name(&self, status: u32) -> Option<&str> {
        let i = usize::try_from(status).ok()?.checked_sub(1)?;
        self.exceptions.get(i).map(String::as_str)
    }

    /// The Cranelift IR of every function, as text (with [`JitOptions::keep_clif`]).
    pub fn clif(&self) -> String {
        let mut out = String::new();
        for (_, text) in self.jit.clif() {
            out.push_str(text);
            out.push('\n');
        }
        out
    }

    /// What Cranelift compiled.
    pub fn stats(&self) -> tcc_backend::Stats {
        self.jit.stats()
    }

    /// Runs the [`JitOptions::main_entry`] method: its value widened to 128 bits by its
    /// signedness, or the full name of the exception that escaped. `None` without a main entry.
    ///
    /// The method takes no arguments, so the code runs only on memory it creates itself, under
    /// the same contract as the Rust back end's `prolac_entry`.
    pub fn run_main(&self) -> Option<Result<i128, String>> {
        let (address, signed) = self.main?;
        let mut value = 0u64;
        // SAFETY: `address` is the runner built by `load` for this Jit (still alive: `self`
        // owns it) with the C signature `fn(*mut u64) -> u32`; it writes one u64 through a
        // pointer to a live local.
        #[allow(unsafe_code)]
        let status = unsafe {
            let f: extern "C" fn(*mut u64) -> u32 = std::mem::transmute(address);
            f(&mut value)
        };
        Some(if status == 0 {
            Ok(if signed {
                i128::from(value as i64)
            } else {
                i128::from(value)
            })
        } else {
            Err(self
                .exception_name(status)
                .map_or_else(|| format!("exception #{status}"), str::to_string))
        })
    }
}

/// Compiles an analysed, error-free program to machine code, with these host functions for
/// its extern methods.
pub fn load(
    program: &Program,
    hosts: &[HostFunction<'_>],
    options: &JitOptions,
) -> Result<Loaded, LoadError> {
    let (Some(ir), Some(report), Some(layouts)) = (&program.ir, &program.report, &program.layouts)
    else {
        return Err(LoadError::Diagnostics(Vec::new()));
    };
    let set = EmitSet::new(ir, report);
    let mut diagnostics = check(ir, &set, hosts, options);
    diagnostics.extend(check_frames(ir, layouts, &set));
    if !diagnostics.is_empty() {
        return Err(LoadError::Diagnostics(diagnostics));
    }
    let mut builder = JitBuilder::new()
        .opt_level(options.opt)
        .verify(options.verify)
        .keep_clif(options.keep_clif)
        .inline_limit(options.inline_limit)
        .threads(options.threads)
        .host_function(ABORT, prolac_abort as *const u8);
    for h in hosts {
        builder = builder.host_function(h.name, h.address);
    }
    if options.stub_missing_hosts {
        for m in ir.methods.values() {
            if let MethodKind::Extern { link_name } = &m.kind
                && !hosts.iter().any(|h| h.name == link_name)
            {
                builder = builder.host_function(link_name.clone(), missing_host as *const u8);
            }
        }
    }
    let mut jit = builder.build()?;
    let mut l = Lower::new(ir, report, layouts, set, jit.pointer_type());
    l.declare(&mut jit)?;
    l.string(&mut jit, GENERIC_ABORT.as_bytes())?;
    l.string(&mut jit, DIVIDE_BY_ZERO.as_bytes())?;
    l.tables(&mut jit)?;
    for m in l.definition_order() {
        l.function(&mut jit, m)?;
    }
    l.adapters(&mut jit)?;
    let entries = l.entries(&mut jit)?;
    let main = match options.main_entry {
        Some(m) => Some(l.runner(&mut jit, m)?),
        None => None,
    };
    // Only what the host can reach is compiled: entry points, the runner, and what they
    // call (functions inlined everywhere cost nothing more); dispatch tables are data and
    // keep their functions.
    let mut roots: Vec<Func> = entries.values().map(|(f, _, _)| *f).collect();
    roots.extend(main.map(|(f, _)| f));
    jit.finalize_roots(&roots)?;
    let mut out = BTreeMap::new();
    for (name, (f, sig, method)) in entries {
        let address = jit.function_ptr(f)?;
        let entry = Entry {
            address,
            sig,
            method,
        };
        // Also under the composition's stable names (`Tcp.Api.poll` for
        // `Tcp.Header-Prediction.Api.poll`), whichever layers are in.
        for (alias, m) in &ir.aliases {
            if *m == ir.methods[method].owner {
                let short = format!("{alias}.{}", ir.methods[method].name);
                out.entry(short).or_insert_with(|| entry.clone());
            }
        }
        out.insert(name, entry);
    }
    let main = match main {
        Some((f, signed)) => Some((jit.function_ptr(f)?, signed)),
        None => None,
    };
    let mut exceptions = vec![String::new(); ir.exceptions.len()];
    for (x, &id) in l.exception_ids.iter() {
        if let Some(slot) = (id as usize)
            .checked_sub(1)
            .and_then(|i| exceptions.get_mut(i))
        {
            *slot = ir.exceptions[x].name.clone();
        }
    }
    Ok(Loaded {
        jit,
        entries: out,
        exceptions,
        main,
    })
}

/// The Cranelift IR of a program (`prolacc --emit clif`): every function as Cranelift
/// prints it, extern methods bound to stubs.
pub fn emit_clif(program: &Program, opt: OptLevel) -> Result<String, LoadError> {
    let options = JitOptions {
        opt,
        verify: true,
        keep_clif: true,
        main_entry: None,
        stub_missing_hosts: true,
        ..JitOptions::default()
    };
    Ok(load(program, &[], &options)?.clif())
}

/// The abort host function's link name.
const ABORT: &str = "__prolac_abort";

/// The message of aborts that cannot happen in a well-formed program.
pub(crate) const GENERIC_ABORT: &str = "internal error in JIT-compiled code";

/// The message of a division by zero (Rust's).
pub(crate) const DIVIDE_BY_ZERO: &str = "attempt to divide by zero";

/// Called by generated code for a method without body, a dispatch-table hole or a division by
/// zero: prints the NUL-terminated message and ends the process with status 1 (JIT-compiled
/// code cannot unwind; the Rust back end panics in the same places).
extern "C" fn prolac_abort(message: *const u8) {
    let text = if message.is_null() {
        String::from("(no message)")
    } else {
        // SAFETY: generated code passes a pointer to a NUL-terminated string literal in its
        // own read-only data.
        #[allow(unsafe_code)]
        unsafe {
            std::ffi::CStr::from_ptr(message.cast())
                .to_string_lossy()
                .into_owned()
        }
    };
    eprintln!("prolac: {text}");
    std::process::exit(1);
}

/// The stub bound to extern methods nobody provided under `--emit clif`.
extern "C" fn missing_host() {
    eprintln!("prolac: an extern method without a host function was called");
    std::process::abort();
}

/// P1105 at the first host or support block compiled code would need; P1109 for every
/// reachable extern method whose link name no host function provides.
fn check(
    ir: &Ir,
    set: &EmitSet,
    hosts: &[HostFunction<'_>],
    options: &JitOptions,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut first_host: Option<Span> = ir.support.first().map(|s| s.span);
    let mut externs: BTreeSet<MethodId> = BTreeSet::new();
    for &m in &set.functions {
        let Some(body) = &ir.methods[m].body else {
            continue;
        };
        for (_, e) in body.exprs.iter() {
            match &e.kind {
                ExprKind::Host { .. }
                    if first_host.is_none_or(|s| (e.span.file, e.span.lo) < (s.file, s.lo)) =>
                {
                    first_host = Some(e.span);
                }
                ExprKind::Call {
                    callee: crate::ir::Callee::Direct(t),
                    ..
                } if matches!(ir.methods[*t].kind, MethodKind::Extern { .. }) => {
                    externs.insert(*t);
                }
                _ => {}
            }
        }
    }
    if let Some(span) = first_host {
        out.push(
            Diagnostic::new(
                P1105,
                span,
                "the Cranelift back end cannot compile host code".to_string(),
            )
            .with_help("replace it with an extern method, or use the Rust back end"),
        );
    }
    if !options.stub_missing_hosts {
        let mut seen = BTreeSet::new();
        for m in externs {
            let method = &ir.methods[m];
            let MethodKind::Extern { link_name } = &method.kind else {
                continue;
            };
            if hosts.iter().any(|h| h.name == link_name) || !seen.insert(link_name.clone()) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    P1109,
                    method.span,
                    format!(
                        "extern method `{}` needs a host function `{link_name}`, and none was \
                         registered",
                        method.name
                    ),
                )
                .with_help(format!(
                    "register an `extern \"C\"` function as `{link_name}`"
                )),
            );
        }
    }
    out
}

/// The most stack one function may use for module values and arrays: Cranelift's frames are
/// limited to well under 4 GiB, and a thread's stack is far smaller anyway.
pub const MAX_FRAME: u64 = 1 << 30;

/// P1110 for each function whose module values and arrays (locals, temporaries, copies of
/// arguments) could need more than [`MAX_FRAME`] bytes of stack: an upper bound, every node
/// of such a type counted once.
fn check_frames(ir: &Ir, layouts: &Layouts, set: &EmitSet) -> Vec<Diagnostic> {
    let in_memory = |t: TypeId| -> u64 {
        match ir.types.kind(t) {
            TypeKind::Module(_) | TypeKind::Array(..) => size_align(ir, layouts, t).0,
            _ => 0,
        }
    };
    let mut out = Vec::new();
    for &m in &set.functions {
        let method = &ir.methods[m];
        let Some(body) = &method.body else {
            continue;
        };
        let total = body
            .locals
            .values()
            .map(|l| in_memory(l.ty))
            .chain(body.exprs.values().map(|e| in_memory(e.ty)))
            .fold(0u64, u64::saturating_add);
        if total > MAX_FRAME {
            out.push(
                Diagnostic::new(
                    P1110,
                    method.span,
                    format!(
                        "`{}` may need {total} bytes of stack for module values and arrays, \
                         more than the Cranelift back end's {MAX_FRAME}",
                        method.name
                    ),
                )
                .with_help("keep large objects in static fields or host memory and use pointers"),
            );
        }
    }
    out
}

/// How a value of a type is represented.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Repr {
    /// No value.
    Void,
    /// In a register.
    Scalar(Type),
    /// In memory (module values, arrays): size and alignment.
    Mem(u64, u64),
}

/// A method function's machine signature.
#[derive(Clone, Debug)]
pub(crate) struct FnSig {
    pub(crate) sret: bool,
    pub(crate) receiver: bool,
    pub(crate) params: Vec<Repr>,
    pub(crate) ret: Repr,
    pub(crate) status: bool,
}

impl FnSig {
    fn to_sig(&self, ptr: Type) -> Sig {
        let mut s = Sig::new();
        if self.sret {
            s = s.param(ptr);
        }
        if self.receiver {
            s = s.param(ptr);
        }
        for p in &self.params {
            match *p {
                Repr::Void => {}
                Repr::Scalar(t) => s = s.param(t),
                Repr::Mem(..) => s = s.param(ptr),
            }
        }
        if let Repr::Scalar(t) = self.ret {
            s = s.result(t);
        }
        if self.status {
            s = s.result(types::I32);
        }
        s
    }
}

/// The state of one compilation.
pub(crate) struct Lower<'a> {
    pub(crate) ir: &'a Ir,
    pub(crate) report: &'a Report,
    pub(crate) layouts: &'a Layouts,
    pub(crate) set: EmitSet,
    pub(crate) ptr: Type,
    /// Generated functions.
    pub(crate) funcs: SecondaryMap<MethodId, Option<Func>>,
    /// Host functions by link name.
    pub(crate) hosts: HashMap<String, Func>,
    pub(crate) abort: Option<Func>,
    pub(crate) statics: SecondaryMap<FieldId, Option<Data>>,
    pub(crate) strings: HashMap<Vec<u8>, Data>,
    /// Dispatch tables by (constructed module, origin).
    pub(crate) tables: BTreeMap<(ModuleId, ModuleId), Data>,
    /// Per origin: its dynamically called selectors in id order (slot order).
    pub(crate) slots: BTreeMap<ModuleId, Vec<SelectorId>>,
    /// Zero images of types holding dispatch pointers.
    pub(crate) templates: HashMap<TypeId, Option<Data>>,
    pub(crate) exception_ids: SecondaryMap<ExceptionId, u32>,
    /// Adapters (target method that cannot raise, used through a raising selector).
    adapters: BTreeMap<MethodId, Func>,
    names: BTreeSet<String>,
}

impl<'a> Lower<'a> {
    fn new(ir: &'a Ir, report: &'a Report, layouts: &'a Layouts, set: EmitSet, ptr: Type) -> Self {
        let mut order: Vec<ExceptionId> = ir.exceptions.keys().collect();
        order.sort_by(|a, b| {
            ir.exceptions[*a]
                .name
                .cmp(&ir.exceptions[*b].name)
                .then(a.cmp(b))
        });
        let mut exception_ids = SecondaryMap::new();
        for (i, x) in order.into_iter().enumerate() {
            exception_ids[x] = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        Lower {
            ir,
            report,
            layouts,
            set,
            ptr,
            funcs: SecondaryMap::new(),
            hosts: HashMap::new(),
            abort: None,
            statics: SecondaryMap::new(),
            strings: HashMap::new(),
            tables: BTreeMap::new(),
            slots: BTreeMap::new(),
            templates: HashMap::new(),
            exception_ids,
            adapters: BTreeMap::new(),
            names: BTreeSet::new(),
        }
    }

    /// A unique symbol name.
    fn name(&mut self, base: String) -> String {
        let mut name = base.clone();
        let mut i = 1;
        while !self.names.insert(name.clone()) {
            i += 1;
            name = format!("{base}#{i}");
        }
        name
    }

    /// "Module.method".
    pub(crate) fn method_name(&self, m: MethodId) -> String {
        let method = &self.ir.methods[m];
        format!("{}.{}", self.ir.modules[method.owner].name, method.name)
    }

    pub(crate) fn repr(&self, t: TypeId) -> Repr {
        match self.ir.types.kind(t) {
            TypeKind::Void | TypeKind::Never => Repr::Void,
            TypeKind::Bool => Repr::Scalar(types::I8),
            TypeKind::Int { width, .. } => Repr::Scalar(int_type(width.bits())),
            TypeKind::SeqInt => Repr::Scalar(types::I32),
            TypeKind::Ptr(_) => Repr::Scalar(self.ptr),
            TypeKind::Array(..) | TypeKind::Module(_) => {
                let (size, align) = self.size_align(t);
                Repr::Mem(size, align)
            }
        }
    }

    pub(crate) fn size_align(&self, t: TypeId) -> (u64, u64) {
        let (size, align) = size_align(self.ir, self.layouts, t);
        (size.min(crate::layout::MAX_OBJECT_SIZE), align.max(1))
    }

    pub(crate) fn fn_sig(&self, m: MethodId) -> FnSig {
        let method = &self.ir.methods[m];
        let ret = self.repr(method.ret);
        FnSig {
            sret: matches!(ret, Repr::Mem(..)),
            receiver: method.has_receiver(),
            params: method.params.iter().map(|&t| self.repr(t)).collect(),
            ret,
            status: !method.raises.is_empty(),
        }
    }

    /// The signature of a dispatched call through `sel`.
    pub(crate) fn selector_sig(&self, sel: SelectorId) -> FnSig {
        let mut sig = match origin_definition(self.ir, sel) {
            Some(m) => self.fn_sig(m),
            None => FnSig {
                sret: false,
                receiver: true,
                params: Vec::new(),
                ret: Repr::Void,
                status: false,
            },
        };
        sig.status = self.set.selector_raises(sel);
        sig
    }

    /// The functions in the order they are compiled: callees before callers (a depth-first
    /// post-order of the direct calls, from the functions in id order), so that small callees
    /// can be inlined.
    fn definition_order(&self) -> Vec<MethodId> {
        let mut order = Vec::with_capacity(self.set.functions.len());
        let mut seen = BTreeSet::new();
        for &root in &self.set.functions {
            if !seen.insert(root) {
                continue;
            }
            // (method, its direct callees still to visit)
            let mut stack = vec![(root, self.callees(root))];
            while let Some((m, rest)) = stack.last_mut() {
                match rest.pop() {
                    Some(c) => {
                        if seen.insert(c) {
                            let next = self.callees(c);
                            stack.push((c, next));
                        }
                    }
                    None => {
                        order.push(*m);
                        stack.pop();
                    }
                }
            }
        }
        order
    }

    /// The generated functions `m` calls directly, in reverse id order (popped in id order).
    fn callees(&self, m: MethodId) -> Vec<MethodId> {
        let mut out = BTreeSet::new();
        if let Some(body) = &self.ir.methods[m].body {
            for (_, e) in body.exprs.iter() {
                if let ExprKind::Call {
                    callee: crate::ir::Callee::Direct(t),
                    ..
                } = e.kind
                    && self.set.functions.contains(&t)
                {
                    out.insert(t);
                }
            }
        }
        out.into_iter().rev().collect()
    }

    /// Declares every function, host function, static and the abort function.
    fn declare(&mut self, jit: &mut Jit) -> Result<(), LoadError> {
        let abort = jit.declare_host(ABORT, &Sig::new().param(self.ptr))?;
        self.abort = Some(abort);
        for &m in &self.set.functions.clone() {
            let name = self.name(self.method_name(m));
            let sig = self.fn_sig(m).to_sig(self.ptr);
            self.funcs[m] = Some(jit.declare(&name, &sig)?);
        }
        for (_, method) in self.ir.methods.iter() {
            let MethodKind::Extern { link_name } = &method.kind else {
                continue;
            };
            if self.hosts.contains_key(link_name) || !jit.has_host(link_name) {
                continue;
            }
            let mut sig = Sig::new();
            for &p in &method.params {
                if let Repr::Scalar(t) = self.repr(p) {
                    sig = sig.param(t);
                }
            }
            if let Repr::Scalar(t) = self.repr(method.ret) {
                sig = sig.result(t);
            }
            let f = jit.declare_host(link_name, &sig)?;
            self.hosts.insert(link_name.clone(), f);
        }
        for &sel in &self.set.virtual_selectors {
            let origin = self.ir.selectors[sel].origin;
            self.slots.entry(origin).or_default().push(sel);
        }
        for &o in &self.report.dispatch_origins {
            self.slots.entry(o).or_default();
        }
        Ok(())
    }
}

/// The integer type of a width in bits.
pub(crate) fn int_type(bits: u32) -> Type {
    match bits {
        8 => types::I8,
        16 => types::I16,
        32 => types::I32,
        _ => types::I64,
    }
}
