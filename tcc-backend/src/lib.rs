//! Run-time code generation in the spirit of `C/tcc, built on Cranelift.
//!
//! A program describes code while it runs — functions, blocks, variables, loads and stores at
//! known offsets, calls to other generated functions and to host functions — compiles it in
//! batches, and calls the result. Prolac's Cranelift back end is one client
//! (`prolac_compiler::clif`); anything else that wants machine code specialised to run-time
//! values (a packet filter for one port, a checksum for one length) is another.
//!
//! # The pieces
//!
//! - [`JitBuilder`] collects the host functions generated code may call (by name, with their
//!   addresses) and the options (optimisation level, verifier, keeping the Cranelift IR text),
//!   then [`JitBuilder::build`] makes a [`Jit`] for the machine running the program.
//! - [`Jit::declare`] names a function and its [`Sig`]nature; [`Jit::declare_host`] names a
//!   registered host function (an unregistered name is [`Error::UnknownHost`], never a silent
//!   symbol lookup); [`Jit::data`] lays out a data object (constant or writable, with function
//!   addresses patched in).
//! - [`Jit::define`] builds one function's body through a [`FnBuilder`] (its entry block is
//!   current and holds the parameters) and compiles it at once: the verifier runs first when
//!   enabled (always in debug builds), so malformed code is an [`Error::Verify`] naming the
//!   function and showing its IR, never a crash later; [`Jit::try_define`] takes a body that
//!   can fail (a fragment's [`Error::Arity`]). A failed definition compiles nothing and leaves
//!   the function undefined.
//! - [`Jit::finalize`] links everything defined since the last call (a *batch*) and makes it
//!   executable; [`Jit::function_ptr`] and [`Jit::data_ptr`] then give addresses. Batches may
//!   follow each other: later functions can call earlier ones. A call to a declared function
//!   that was never defined is an [`Error::Undefined`] at `finalize`, never a lookup among the
//!   process's symbols.
//! - [`Fragment`]s are reusable pieces of code — tcc's composable code specifications: a
//!   fragment emits instructions given its argument values and yields result values;
//!   [`FnBuilder::splice`] inlines one into the function being built, [`Fragment::then`]
//!   composes two, and [`Jit::define_fragment`] makes a whole function of one.
//!
//! The full Cranelift builder stays within reach ([`FnBuilder::ins`], [`FnBuilder::raw`]); this
//! crate adds the bookkeeping (declarations, references between functions and data, host
//! symbols, verification, batches, statistics), not a new instruction set.
//!
//! # Safety
//!
//! Describing and compiling code is safe. Calling it is not: a function pointer from
//! [`Jit::function_ptr`] must be transmuted to an `extern "C"` function type matching its
//! [`Sig`] (every signature uses the platform's C calling convention), must not be called after
//! its [`Jit`] is dropped (dropping frees the code), and does whatever the code it was built
//! from does with the pointers it is given.
//!
//! # Cost
//!
//! `tcc-backend/examples/compile_cost.rs` measures the compile cost per generated instruction
//! and per function; the figures are in `docs/BENCHMARKS.md`. [`Jit::stats`] counts what a
//! [`Jit`] compiled.

use std::collections::{HashMap, HashSet};
use std::mem::ManuallyDrop;
use std::rc::Rc;
use std::time::{Duration, Instant};

use cranelift_codegen::ir::{self, AbiParam, UserFuncName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, print_errors};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module, ModuleError};

pub use cranelift_codegen::ir::condcodes::IntCC;
pub use cranelift_codegen::ir::{
    Block, BlockArg, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, TrapCode, Type,
    Value, types,
};
pub use cranelift_frontend::{FunctionBuilder, Variable};

/// What can go wrong describing, compiling or linking code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Cranelift cannot generate code for this machine.
    #[error("Cranelift does not support this machine: {0}")]
    UnsupportedHost(String),
    /// A Cranelift setting was refused.
    #[error("Cranelift setting: {0}")]
    Setting(#[from] settings::SetError),
    /// Generated code names a host function that was not registered with
    /// [`JitBuilder::host_function`].
    #[error("host function `{0}` is not registered with the JIT")]
    UnknownHost(String),
    /// A function's IR is malformed (the verifier's report, with the IR).
    #[error("function `{name}` does not verify:\n{report}")]
    Verify {
        /// The function.
        name: String,
        /// The verifier's errors, shown in the function's IR.
        report: String,
    },
    /// A function or data object was used before [`Jit::finalize`] made it available (or its
    /// definition failed).
    #[error("`{0}` is not finalized yet (call Jit::finalize)")]
    NotFinalized(String),
    /// [`Jit::finalize`] found generated code (or a data object) referring to a function that was
    /// declared with [`Jit::declare`] but never defined; it is never looked up among the
    /// process's symbols.
    #[error("function `{0}` is referred to but never defined")]
    Undefined(String),
    /// A function was defined twice.
    #[error("function `{0}` is already defined")]
    Redefined(String),
    /// A fragment got the wrong number of values.
    #[error("fragment `{name}` takes {want} values, got {got}")]
    Arity {
        /// The fragment.
        name: String,
        /// Values it takes.
        want: usize,
        /// Values given.
        got: usize,
    },
    /// Cranelift's module layer refused something (a name declared twice with different
    /// signatures, a failed code-memory allocation, a compilation error). Boxed: a
    /// `ModuleError` is large, and every `Result` of this crate would carry its size.
    #[error("{0}")]
    Module(Box<ModuleError>),
}

impl From<ModuleError> for Error {
    fn from(e: ModuleError) -> Error {
        Error::Module(Box::new(e))
    }
}

/// Result of this crate's operations.
pub type Result<T> = std::result::Result<T, Error>;

/// How hard Cranelift optimises.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum OptLevel {
    /// No optimisation (fastest compile).
    None,
    /// Optimise for speed (the default).
    #[default]
    Speed,
    /// Optimise for speed and size.
    SpeedAndSize,
}

/// A function signature: parameter and result types, platform C calling convention.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Sig {
    /// Parameter types.
    pub params: Vec<Type>,
    /// Result types (at most two integer results fit the C convention's registers).
    pub results: Vec<Type>,
}

impl Sig {
    /// A signature without parameters or results.
    pub fn new() -> Sig {
        Sig::default()
    }

    /// Adds a parameter.
    pub fn param(mut self, ty: Type) -> Sig {
        self.params.push(ty);
        self
    }

    /// Adds a result.
    pub fn result(mut self, ty: Type) -> Sig {
        self.results.push(ty);
        self
    }

    fn to_cranelift(&self, call_conv: CallConv) -> ir::Signature {
        let mut s = ir::Signature::new(call_conv);
        s.params
            .extend(self.params.iter().map(|&t| AbiParam::new(t)));
        s.returns
            .extend(self.results.iter().map(|&t| AbiParam::new(t)));
        s
    }
}

/// A declared function (generated or host).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Func(FuncId);

/// A declared data object.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Data(DataId);

/// The contents of a data object.
#[derive(Clone, Debug)]
pub struct DataSpec {
    /// The bytes (their length is the object's size).
    pub bytes: Vec<u8>,
    /// Alignment in bytes.
    pub align: u64,
    /// Writable (statics) or read-only (constants, dispatch tables).
    pub writable: bool,
    /// Function addresses to write at byte offsets (pointer-sized slots in `bytes`).
    pub function_addrs: Vec<(u32, Func)>,
    /// Addresses of other data objects to write at byte offsets.
    pub data_addrs: Vec<(u32, Data)>,
}

/// What a [`Jit`] has compiled so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Functions compiled.
    pub functions: usize,
    /// Cranelift IR instructions in them, as described (before inlining and Cranelift's
    /// optimisation).
    pub instructions: usize,
    /// Instructions added by inlining ([`JitBuilder::inline_limit`]).
    pub inlined_instructions: usize,
    /// Bytes of machine code produced.
    pub code_bytes: usize,
    /// Time spent verifying and compiling (not describing).
    pub compile_time: Duration,
}

/// Collects the host functions and options for a [`Jit`].
pub struct JitBuilder {
    hosts: Vec<(String, *const u8)>,
    opt: OptLevel,
    verify: bool,
    keep_clif: bool,
    inline_limit: usize,
    threads: usize,
}

impl Default for JitBuilder {
    fn default() -> JitBuilder {
        JitBuilder::new()
    }
}

impl JitBuilder {
    /// Defaults: optimise for speed; verify in debug builds; keep no IR text.
    pub fn new() -> JitBuilder {
        JitBuilder {
            hosts: Vec::new(),
            opt: OptLevel::Speed,
            verify: cfg!(debug_assertions),
            keep_clif: false,
            inline_limit: 0,
            threads: 1,
        }
    }

    /// Sets the optimisation level.
    pub fn opt_level(mut self, opt: OptLevel) -> JitBuilder {
        self.opt = opt;
        self
    }

    /// Runs Cranelift's verifier on every function before compiling it (on by default in debug
    /// builds).
    pub fn verify(mut self, on: bool) -> JitBuilder {
        self.verify = on;
        self
    }

    /// Inlines calls of generated functions of at most `instructions` Cranelift instructions
    /// (after their own inlining) defined earlier: define callees first to profit. 0 (the
    /// default) inlines nothing. Host functions and calls through pointers are never inlined.
    pub fn inline_limit(mut self, instructions: usize) -> JitBuilder {
        self.inline_limit = instructions;
        self
    }

    /// Compiles a batch on up to `threads` threads (default 1); the code is the same.
    pub fn threads(mut self, threads: usize) -> JitBuilder {
        self.threads = threads.max(1);
        self
    }

    /// Keeps each function's Cranelift IR as text ([`Jit::clif`]).
    pub fn keep_clif(mut self, on: bool) -> JitBuilder {
        self.keep_clif = on;
        self
    }

    /// Registers a host function generated code may call as `name`. The address must be an
    /// `extern "C"` function whose type matches the [`Sig`] the code declares it with
    /// ([`Jit::declare_host`]); that is checked only when the generated code is called.
    pub fn host_function(mut self, name: impl Into<String>, address: *const u8) -> JitBuilder {
        self.hosts.push((name.into(), address));
        self
    }

    /// Makes the JIT for the machine running the program.
    pub fn build(self) -> Result<Jit> {
        let mut flags = settings::builder();
        flags.set("use_colocated_libcalls", "false")?;
        flags.set("is_pic", "false")?;
        // Verified explicitly (with a readable report) when asked.
        flags.set("enable_verifier", "false")?;
        flags.set(
            "opt_level",
            match self.opt {
                OptLevel::None => "none",
                OptLevel::Speed => "speed",
                OptLevel::SpeedAndSize => "speed_and_size",
            },
        )?;
        let isa_builder =
            cranelift_native::builder().map_err(|e| Error::UnsupportedHost(e.to_string()))?;
        let isa: OwnedTargetIsa = isa_builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| Error::UnsupportedHost(e.to_string()))?;
        let call_conv = isa.default_call_conv();
        let ptr = isa.pointer_type();
        let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
        let mut hosts = HashSet::new();
        for (name, address) in self.hosts {
            builder.symbol(name.clone(), address);
            hosts.insert(name);
        }
        Ok(Jit {
            module: ManuallyDrop::new(JITModule::new(builder)),
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
            hosts,
            call_conv,
            ptr,
            verify: self.verify,
            keep_clif: self.keep_clif,
            inline_limit: self.inline_limit,
            threads: self.threads,
            inlinable: HashMap::new(),
            bodies: HashMap::new(),
            body_refs: HashMap::new(),
            compiled: HashSet::new(),
            data_refs: HashSet::new(),
            names: HashMap::new(),
            defined: HashSet::new(),
            pending: HashSet::new(),
            referenced: HashSet::new(),
            data_names: HashMap::new(),
            pending_data: HashSet::new(),
            clif: Vec::new(),
            stats: Stats::default(),
        })
    }
}

/// A code generator and the code it has compiled. Dropping it frees the code.
pub struct Jit {
    module: ManuallyDrop<JITModule>,
    ctx: Context,
    fctx: FunctionBuilderContext,
    hosts: HashSet<String>,
    call_conv: CallConv,
    ptr: Type,
    verify: bool,
    keep_clif: bool,
    inline_limit: usize,
    threads: usize,
    /// Bodies of defined functions small enough to inline ([`JitBuilder::inline_limit`]).
    inlinable: HashMap<FuncId, ir::Function>,
    /// Defined functions not compiled yet, and the functions each refers to.
    bodies: HashMap<FuncId, ir::Function>,
    body_refs: HashMap<FuncId, Vec<FuncId>>,
    /// Functions compiled.
    compiled: HashSet<FuncId>,
    /// Functions data objects point to (always compiled).
    data_refs: HashSet<FuncId>,
    names: HashMap<FuncId, String>,
    /// Functions whose definition succeeded.
    defined: HashSet<FuncId>,
    /// Functions defined since the last [`Jit::finalize`].
    pending: HashSet<FuncId>,
    /// Functions referred to by code or data defined since the last [`Jit::finalize`].
    referenced: HashSet<FuncId>,
    data_names: HashMap<DataId, String>,
    /// Data objects defined since the last [`Jit::finalize`].
    pending_data: HashSet<DataId>,
    clif: Vec<(String, String)>,
    stats: Stats,
}

impl Jit {
    /// The pointer type of the machine (`I64` on 64-bit machines).
    pub fn pointer_type(&self) -> Type {
        self.ptr
    }

    /// Declares a function to be defined by [`Jit::define`]. Names are unique per [`Jit`];
    /// declaring a name again with the same signature gives the same function.
    pub fn declare(&mut self, name: &str, sig: &Sig) -> Result<Func> {
        let s = sig.to_cranelift(self.call_conv);
        let id = self.module.declare_function(name, Linkage::Local, &s)?;
        self.names.insert(id, name.to_string());
        Ok(Func(id))
    }

    /// Declares a host function registered with [`JitBuilder::host_function`].
    pub fn declare_host(&mut self, name: &str, sig: &Sig) -> Result<Func> {
        if !self.hosts.contains(name) {
            return Err(Error::UnknownHost(name.to_string()));
        }
        let s = sig.to_cranelift(self.call_conv);
        let id = self.module.declare_function(name, Linkage::Import, &s)?;
        self.names.insert(id, name.to_string());
        Ok(Func(id))
    }

    /// True if `name` was registered as a host function.
    pub fn has_host(&self, name: &str) -> bool {
        self.hosts.contains(name)
    }

    /// Defines a data object (named for diagnostics; names are unique per [`Jit`]).
    pub fn data(&mut self, name: &str, spec: DataSpec) -> Result<Data> {
        let id = self
            .module
            .declare_data(name, Linkage::Local, spec.writable, false)?;
        let mut d = DataDescription::new();
        d.define(spec.bytes.into_boxed_slice());
        d.set_align(spec.align.max(1));
        for &(offset, f) in &spec.function_addrs {
            let r = self.module.declare_func_in_data(f.0, &mut d);
            d.write_function_addr(offset, r);
        }
        for &(offset, target) in &spec.data_addrs {
            let gv = self.module.declare_data_in_data(target.0, &mut d);
            d.write_data_addr(offset, gv, 0);
        }
        self.module.define_data(id, &d)?;
        self.data_names.insert(id, name.to_string());
        self.pending_data.insert(id);
        self.referenced
            .extend(spec.function_addrs.iter().map(|&(_, f)| f.0));
        self.data_refs
            .extend(spec.function_addrs.iter().map(|&(_, f)| f.0));
        Ok(Data(id))
    }

    /// Builds and compiles the body of a declared function. `build` gets a [`FnBuilder`]
    /// positioned in the entry block, whose parameters are [`FnBuilder::params`]; every block
    /// must end in a terminator (`return`, a jump, a trap) when `build` returns. A block left
    /// without one is an [`Error::Verify`] (verifier on or not). Cranelift itself asserts, in
    /// debug builds, that a block is terminated before [`FnBuilder::switch_to`] leaves it.
    ///
    /// If the definition fails, the function stays undefined and may be defined again.
    pub fn define<R>(&mut self, f: Func, build: impl FnOnce(&mut FnBuilder<'_>) -> R) -> Result<R> {
        self.try_define(f, |fb| Ok(build(fb)))
    }

    /// [`Jit::define`] for a `build` that can fail (say, on a fragment's [`Error::Arity`]): if
    /// it returns an error, nothing is compiled, the function stays undefined, and the error is
    /// returned.
    pub fn try_define<R>(
        &mut self,
        f: Func,
        build: impl FnOnce(&mut FnBuilder<'_>) -> Result<R>,
    ) -> Result<R> {
        let name = self.names.get(&f.0).cloned().unwrap_or_default();
        if self.defined.contains(&f.0) {
            return Err(Error::Redefined(name));
        }
        let decl = self.module.declarations().get_function_decl(f.0);
        self.ctx.clear();
        self.ctx.func.signature = decl.signature.clone();
        self.ctx.func.name = UserFuncName::user(0, f.0.as_u32());
        let (result, open, referenced) = {
            let mut b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            // The entry block is in the layout even if `build` emits nothing into it.
            b.ensure_inserted_block();
            let params = b.block_params(entry).to_vec();
            let mut fb = FnBuilder {
                b,
                module: &mut self.module,
                ptr: self.ptr,
                call_conv: self.call_conv,
                params,
                funcs: HashMap::new(),
                datas: HashMap::new(),
            };
            let r = build(&mut fb);
            // Blocks holding code that does not end in a terminator. (Blocks never switched to
            // and left empty are not in the layout; a branch to one fails verification.)
            let layout = &fb.b.func.layout;
            let open: Vec<Block> = layout
                .blocks()
                .filter(|&blk| {
                    layout
                        .last_inst(blk)
                        .is_none_or(|i| !fb.b.func.dfg.insts[i].opcode().is_terminator())
                })
                .collect();
            let referenced: Vec<FuncId> = fb.funcs.keys().copied().collect();
            if r.is_ok() {
                fb.b.seal_all_blocks();
            }
            if r.is_ok() && open.is_empty() {
                let config = fb.module.target_config();
                fb.b.finalize(config);
            }
            (r, open, referenced)
        };
        // Cranelift's builder cannot finalize a function with open blocks (it asserts that every
        // block is filled); its context is then abandoned, not reused.
        if result.is_err() || !open.is_empty() {
            self.fctx = FunctionBuilderContext::new();
        }
        let result = result?;
        let described = count_instructions(&self.ctx.func);
        if self.inline_limit > 0 && !self.inlinable.is_empty() && open.is_empty() {
            let inlined = self
                .ctx
                .inline(Inliner {
                    bodies: &self.inlinable,
                })
                .map_err(|e| Error::Module(Box::new(ModuleError::Compilation(e))))?;
            if inlined {
                resolve_symbols(&mut self.ctx.func);
            }
        }
        let instructions = count_instructions(&self.ctx.func);
        if self.keep_clif {
            self.clif.push((
                name.clone(),
                format!("; {name}\n{}", self.ctx.func.display()),
            ));
        }
        let started = Instant::now();
        if self.verify || !open.is_empty() {
            let report = match cranelift_codegen::verify_function(&self.ctx.func, self.module.isa())
            {
                Err(errors) => Some(print_errors::pretty_verifier_error(
                    &self.ctx.func,
                    None,
                    errors,
                )),
                // Unreachable in practice: the verifier rejects a block without a terminator.
                Ok(()) if !open.is_empty() => Some(format!(
                    "{} does not end in a terminator instruction\n{}",
                    open[0],
                    self.ctx.func.display()
                )),
                Ok(()) => None,
            };
            if let Some(report) = report {
                return Err(Error::Verify { name, report });
            }
        }
        if instructions <= self.inline_limit {
            self.inlinable
                .insert(f.0, portable_symbols(self.ctx.func.clone()));
        }
        // Compiled by `finalize` (or never, if no root reaches it there).
        let body = std::mem::replace(&mut self.ctx.func, ir::Function::new());
        self.body_refs.insert(f.0, function_refs(&body));
        self.bodies.insert(f.0, body);
        self.stats.compile_time += started.elapsed();
        self.stats.instructions += described;
        self.stats.inlined_instructions += instructions.saturating_sub(described);
        self.defined.insert(f.0);
        self.pending.insert(f.0);
        self.referenced.extend(referenced);
        Ok(result)
    }

    /// Makes a whole function of a fragment: the function's parameters are the fragment's
    /// arguments and its results are the fragment's results.
    pub fn define_fragment(&mut self, name: &str, fragment: &Fragment) -> Result<Func> {
        let sig = Sig {
            params: fragment.params.clone(),
            results: fragment.results.clone(),
        };
        let f = self.declare(name, &sig)?;
        self.try_define(f, |fb| {
            let args = fb.params().to_vec();
            let out = fb.splice(fragment, &args)?;
            fb.ins().return_(&out);
            Ok(())
        })?;
        Ok(f)
    }

    /// Links the functions and data defined since the last call and makes them executable.
    /// Every generated function they refer to must be defined by now ([`Error::Undefined`]
    /// otherwise; nothing is linked then, and defining the missing function and finalizing
    /// again continues).
    pub fn finalize(&mut self) -> Result<()> {
        let roots: Vec<FuncId> = self.bodies.keys().copied().collect();
        self.finalize_from(roots)
    }

    /// As [`Jit::finalize`], but compiles only `roots` and the functions they reach (calls
    /// left after inlining, function addresses taken) and the functions data objects point to:
    /// a function inlined everywhere it is called costs no compilation of its own. The others
    /// stay uncompiled ([`Jit::function_ptr`] says [`Error::NotFinalized`]) until a later
    /// finalization reaches them.
    pub fn finalize_roots(&mut self, roots: &[Func]) -> Result<()> {
        self.finalize_from(roots.iter().map(|f| f.0).collect())
    }

    fn finalize_from(&mut self, roots: Vec<FuncId>) -> Result<()> {
        let started = Instant::now();
        let mut work = roots;
        work.extend(self.data_refs.iter().copied());
        let mut reach = HashSet::new();
        while let Some(f) = work.pop() {
            if reach.insert(f)
                && let Some(refs) = self.body_refs.get(&f)
            {
                work.extend(refs.iter().copied());
            }
        }
        let decls = self.module.declarations();
        if let Some(missing) = reach.iter().chain(&self.referenced).find(|&&id| {
            decls.get_function_decl(id).linkage == Linkage::Local && !self.defined.contains(&id)
        }) {
            let name = self.names.get(missing).cloned().unwrap_or_default();
            return Err(Error::Undefined(name));
        }
        let mut compile: Vec<FuncId> = reach
            .into_iter()
            .filter(|f| self.bodies.contains_key(f))
            .collect();
        compile.sort();
        let batch: Vec<(FuncId, ir::Function)> = compile
            .into_iter()
            .filter_map(|f| {
                self.body_refs.remove(&f);
                self.bodies.remove(&f).map(|b| (f, b))
            })
            .collect();
        for (f, func, code) in compile_in_parallel(self.module.isa(), batch, self.threads)? {
            let relocs: Vec<cranelift_module::ModuleReloc> = code
                .buffer
                .relocs()
                .iter()
                .map(|r| cranelift_module::ModuleReloc::from_mach_reloc(r, &func, f))
                .collect();
            self.module.define_function_bytes(
                f,
                u64::from(code.buffer.alignment),
                code.code_buffer(),
                &relocs,
            )?;
            self.stats.functions += 1;
            self.stats.code_bytes += code.code_buffer().len();
            self.compiled.insert(f);
        }
        let decls = self.module.declarations();
        if let Some(missing) = self.referenced.iter().find(|&&id| {
            decls.get_function_decl(id).linkage == Linkage::Local && !self.defined.contains(&id)
        }) {
            let name = self.names.get(missing).cloned().unwrap_or_default();
            return Err(Error::Undefined(name));
        }
        self.module.finalize_definitions()?;
        self.stats.compile_time += started.elapsed();
        self.pending.retain(|f| !self.compiled.contains(f));
        self.pending_data.clear();
        self.referenced.clear();
        Ok(())
    }

    /// The address of a finalized generated function (see the crate's *Safety*).
    pub fn function_ptr(&self, f: Func) -> Result<*const u8> {
        let name = || self.names.get(&f.0).cloned().unwrap_or_default();
        if !self.compiled.contains(&f.0) || self.pending.contains(&f.0) {
            return Err(Error::NotFinalized(name()));
        }
        Ok(self.module.get_finalized_function(f.0))
    }

    /// The address of a finalized data object (its size is its [`DataSpec::bytes`]'s length).
    /// The object lives, at this address, as long as the [`Jit`].
    pub fn data_ptr(&self, d: Data) -> Result<*const u8> {
        if self.pending_data.contains(&d.0) {
            let name = self.data_names.get(&d.0).cloned().unwrap_or_default();
            return Err(Error::NotFinalized(name));
        }
        Ok(self.module.get_finalized_data(d.0).0)
    }

    /// The Cranelift IR of every function defined so far, as text, in definition order
    /// (empty unless [`JitBuilder::keep_clif`]).
    pub fn clif(&self) -> &[(String, String)] {
        &self.clif
    }

    /// What has been compiled so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        // SAFETY: `module` is taken once, here, and never used again; the code and data it
        // frees are reachable only through raw pointers this Jit handed out, whose contract
        // (crate docs, *Safety*) ends when the Jit is dropped.
        #[allow(unsafe_code)]
        unsafe {
            ManuallyDrop::take(&mut self.module).free_memory();
        }
    }
}

/// Builds one function's body (see [`Jit::define`]).
pub struct FnBuilder<'a> {
    b: FunctionBuilder<'a>,
    module: &'a mut JITModule,
    ptr: Type,
    call_conv: CallConv,
    params: Vec<Value>,
    funcs: HashMap<FuncId, ir::FuncRef>,
    datas: HashMap<DataId, ir::GlobalValue>,
}

impl<'a> FnBuilder<'a> {
    /// The function's parameters (values in the entry block).
    pub fn params(&self) -> &[Value] {
        &self.params
    }

    /// The pointer type.
    pub fn pointer_type(&self) -> Type {
        self.ptr
    }

    /// Instructions at the current position.
    pub fn ins(&mut self) -> cranelift_frontend::FuncInstBuilder<'_, 'a> {
        self.b.ins()
    }

    /// The underlying Cranelift builder, for anything this wrapper does not offer.
    pub fn raw(&mut self) -> &mut FunctionBuilder<'a> {
        &mut self.b
    }

    /// A new block.
    pub fn block(&mut self) -> Block {
        self.b.create_block()
    }

    /// A new block with parameters of these types; returns it and its parameter values.
    pub fn block_with(&mut self, types: &[Type]) -> (Block, Vec<Value>) {
        let block = self.b.create_block();
        let values = types
            .iter()
            .map(|&t| self.b.append_block_param(block, t))
            .collect();
        (block, values)
    }

    /// Continues emitting in `block`. The current block must already end in a terminator (or
    /// be empty); Cranelift asserts that in debug builds.
    pub fn switch_to(&mut self, block: Block) {
        self.b.switch_to_block(block);
    }

    /// Marks a block as unlikely (laid out away from the hot path).
    pub fn cold(&mut self, block: Block) {
        self.b.set_cold_block(block);
    }

    /// True if the current block already ended in a terminator (code here is unreachable).
    pub fn is_terminated(&self) -> bool {
        self.b.is_unreachable()
            || self
                .b
                .current_block()
                .and_then(|blk| self.b.func.layout.last_inst(blk))
                .is_some_and(|i| self.b.func.dfg.insts[i].opcode().is_terminator())
    }

    /// A new variable of type `ty` (SSA construction is Cranelift's).
    pub fn var(&mut self, ty: Type) -> Variable {
        self.b.declare_var(ty)
    }

    /// Assigns a variable.
    pub fn set(&mut self, var: Variable, value: Value) {
        self.b.def_var(var, value);
    }

    /// Reads a variable.
    pub fn get(&mut self, var: Variable) -> Value {
        self.b.use_var(var)
    }

    /// An integer constant of type `ty` (the low bits of `value`).
    pub fn iconst(&mut self, ty: Type, value: i64) -> Value {
        let value = if ty.bits() < 64 {
            value & ((1i64 << ty.bits()) - 1)
        } else {
            value
        };
        self.b.ins().iconst(ty, value)
    }

    /// Loads a `ty` at `base + offset` (possibly unaligned; the address must be valid).
    pub fn load(&mut self, ty: Type, base: Value, offset: i32) -> Value {
        self.b.ins().load(ty, mem(), base, offset)
    }

    /// Stores `value` at `base + offset`.
    pub fn store(&mut self, value: Value, base: Value, offset: i32) {
        self.b.ins().store(mem(), value, base, offset);
    }

    /// A stack slot of `size` bytes aligned to `align` (a power of two); returns its address.
    pub fn stack_slot(&mut self, size: u32, align: u32) -> Value {
        let shift = align.max(1).trailing_zeros() as u8;
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size,
            shift,
        ));
        self.b.ins().stack_addr(self.ptr, slot, 0)
    }

    /// Copies `size` bytes from `src` to `dst` (non-overlapping), inline when small (a call to
    /// `memcpy` otherwise). `align` is what both addresses are known to be aligned to (1 if
    /// nothing is known); any value is accepted.
    pub fn copy(&mut self, dst: Value, src: Value, size: u64, align: u8) {
        let config = self.module.target_config();
        let align = access_align(size, align);
        self.b
            .emit_small_memory_copy(config, dst, src, size, align, align, true, mem());
    }

    /// Sets `size` bytes at `dst` to zero, inline when small (a call to `memset` otherwise).
    /// `align` is as for [`FnBuilder::copy`].
    pub fn zero(&mut self, dst: Value, size: u64, align: u8) {
        let config = self.module.target_config();
        let align = access_align(size, align);
        self.b.emit_small_memset(config, dst, 0, size, align, mem());
    }

    /// Calls a declared function (generated or host); returns its results.
    pub fn call(&mut self, f: Func, args: &[Value]) -> Vec<Value> {
        let r = self.func_ref(f);
        let call = self.b.ins().call(r, args);
        self.b.inst_results(call).to_vec()
    }

    /// Calls through a function pointer with signature `sig`; returns its results.
    pub fn call_indirect(&mut self, sig: &Sig, callee: Value, args: &[Value]) -> Vec<Value> {
        let s = self.b.import_signature(sig.to_cranelift(self.call_conv));
        let call = self.b.ins().call_indirect(s, callee, args);
        self.b.inst_results(call).to_vec()
    }

    /// The address of a declared function.
    pub fn func_addr(&mut self, f: Func) -> Value {
        let r = self.func_ref(f);
        let ptr = self.ptr;
        self.b.ins().func_addr(ptr, r)
    }

    /// The address of a data object.
    pub fn data_addr(&mut self, d: Data) -> Value {
        let gv = match self.datas.get(&d.0) {
            Some(&gv) => gv,
            None => {
                let gv = self.module.declare_data_in_func(d.0, self.b.func);
                self.datas.insert(d.0, gv);
                gv
            }
        };
        let ptr = self.ptr;
        self.b.ins().symbol_value(ptr, gv)
    }

    /// Jumps to `block`, passing `args` as its parameters (see [`FnBuilder::block_with`]).
    pub fn jump(&mut self, block: Block, args: &[Value]) {
        let args = block_args(args);
        self.b.ins().jump(block, &args);
    }

    /// Branches to `then` with `then_args` if `cond` is non-zero, else to `otherwise` with
    /// `otherwise_args`.
    pub fn brif(
        &mut self,
        cond: Value,
        then: Block,
        then_args: &[Value],
        otherwise: Block,
        otherwise_args: &[Value],
    ) {
        let (t, o) = (block_args(then_args), block_args(otherwise_args));
        self.b.ins().brif(cond, then, &t, otherwise, &o);
    }

    /// The type of a value.
    pub fn value_type(&self, v: Value) -> Type {
        self.b.func.dfg.value_type(v)
    }

    /// Returns from the function.
    pub fn ret(&mut self, values: &[Value]) {
        self.b.ins().return_(values);
    }

    /// Inlines a fragment here with these arguments; returns its results.
    pub fn splice(&mut self, fragment: &Fragment, args: &[Value]) -> Result<Vec<Value>> {
        if args.len() != fragment.params.len() {
            return Err(Error::Arity {
                name: fragment.name.clone(),
                want: fragment.params.len(),
                got: args.len(),
            });
        }
        let out = (fragment.emit)(self, args);
        if out.len() != fragment.results.len() {
            return Err(Error::Arity {
                name: format!("{} (results)", fragment.name),
                want: fragment.results.len(),
                got: out.len(),
            });
        }
        Ok(out)
    }

    fn func_ref(&mut self, f: Func) -> ir::FuncRef {
        if let Some(&r) = self.funcs.get(&f.0) {
            return r;
        }
        let r = self.module.declare_func_in_func(f.0, self.b.func);
        self.funcs.insert(f.0, r);
        r
    }
}

fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}

/// The alignment to tell Cranelift's small copy and memset helpers: they assert that the alignment
/// is at most the largest power of two dividing `size` (their access width), so a copy of 6 bytes
/// between 4-aligned addresses would panic unless clamped. Clamping only lowers what is claimed.
fn access_align(size: u64, align: u8) -> u8 {
    let widest = if size == 0 {
        1
    } else {
        1u64 << size.trailing_zeros().min(7)
    };
    u8::try_from(widest.min(u64::from(align.max(1)))).unwrap_or(1)
}

/// A compiled function: its id, its IR (for relocations) and its code.
type Compiled = (FuncId, ir::Function, cranelift_codegen::CompiledCode);

/// Compiles functions on up to `threads` threads (Cranelift compiles one function per
/// context, independently); returns them in the order given.
fn compile_in_parallel(
    isa: &dyn cranelift_codegen::isa::TargetIsa,
    batch: Vec<(FuncId, ir::Function)>,
    threads: usize,
) -> Result<Vec<Compiled>> {
    let compile_one = |(f, func): (FuncId, ir::Function)| -> Result<Compiled> {
        let mut ctx = Context::for_function(func);
        ctx.compile(isa, &mut Default::default())
            .map_err(|e| Error::Module(Box::new(ModuleError::Compilation(e.inner))))?;
        let code = ctx.take_compiled_code().ok_or_else(|| {
            Error::Module(Box::new(ModuleError::Compilation(
                cranelift_codegen::CodegenError::Unsupported("no code".into()),
            )))
        })?;
        Ok((f, ctx.func, code))
    };
    let threads = threads.clamp(1, batch.len().max(1));
    if threads == 1 {
        return batch.into_iter().map(compile_one).collect();
    }
    // Deal the functions round-robin (neighbours in id order are often alike in size).
    let mut shares: Vec<Vec<(usize, (FuncId, ir::Function))>> = vec![Vec::new(); threads];
    for (i, item) in batch.into_iter().enumerate() {
        shares[i % threads].push((i, item));
    }
    let mut done: Vec<(usize, Result<Compiled>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                scope.spawn(move || {
                    share
                        .into_iter()
                        .map(|(i, item)| (i, compile_one(item)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The generated functions a function body calls or takes the address of (after inlining:
/// the declarations of inlined callees stay, their calls do not).
fn function_refs(func: &ir::Function) -> Vec<FuncId> {
    let mut out = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let used = match func.dfg.insts[inst] {
                ir::InstructionData::Call { func_ref, .. }
                | ir::InstructionData::FuncAddr { func_ref, .. } => func_ref,
                _ => continue,
            };
            if let ir::ExternalName::User(r) = &func.dfg.ext_funcs[used].name {
                let name = &func.params.user_named_funcs()[*r];
                if name.namespace == 0 {
                    out.push(FuncId::from_u32(name.index));
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The instructions of a function's layout.
fn count_instructions(func: &ir::Function) -> usize {
    func.layout
        .blocks()
        .map(|b| func.layout.block_insts(b).count())
        .sum()
}

/// Cranelift 0.135's inliner copies a callee's symbol global values (data and function
/// addresses) verbatim, but their names are indices into the callee's own table of names,
/// which mean something else in the caller. So an inlinable body keeps its symbols' names
/// spelled out (as test-case names holding the namespace and index), and
/// [`resolve_symbols`] declares them in the caller after inlining.
fn portable_symbols(mut func: ir::Function) -> ir::Function {
    let names: Vec<(ir::GlobalValue, ir::UserExternalName)> = func
        .global_values
        .iter()
        .filter_map(|(gv, data)| match data {
            ir::GlobalValueData::Symbol {
                name: ir::ExternalName::User(r),
                ..
            } => Some((gv, func.params.user_named_funcs()[*r].clone())),
            _ => None,
        })
        .collect();
    for (gv, name) in names {
        if let ir::GlobalValueData::Symbol { name: n, .. } = &mut func.global_values[gv] {
            let mut spelled = name.namespace.to_le_bytes().to_vec();
            spelled.extend_from_slice(&name.index.to_le_bytes());
            *n = ir::ExternalName::testcase(spelled);
        }
    }
    func
}

/// The other half of [`portable_symbols`]: spelled-out symbol names become names of the
/// function's own table.
fn resolve_symbols(func: &mut ir::Function) {
    let spelled: Vec<(ir::GlobalValue, ir::UserExternalName)> = func
        .global_values
        .iter()
        .filter_map(|(gv, data)| match data {
            ir::GlobalValueData::Symbol {
                name: ir::ExternalName::TestCase(t),
                ..
            } => {
                let raw = t.raw();
                let word = |i: usize| -> Option<u32> {
                    Some(u32::from_le_bytes(raw.get(i..i + 4)?.try_into().ok()?))
                };
                Some((gv, ir::UserExternalName::new(word(0)?, word(4)?)))
            }
            _ => None,
        })
        .collect();
    for (gv, name) in spelled {
        let r = func.declare_imported_user_function(name);
        if let ir::GlobalValueData::Symbol { name: n, .. } = &mut func.global_values[gv] {
            *n = ir::ExternalName::User(r);
        }
    }
}

/// Cranelift's inliner, told which callees to inline: those with a stored body.
struct Inliner<'a> {
    bodies: &'a HashMap<FuncId, ir::Function>,
}

impl cranelift_codegen::inline::Inline for Inliner<'_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call: ir::Inst,
        _opcode: ir::Opcode,
        callee: ir::FuncRef,
        _args: &[ir::Value],
    ) -> cranelift_codegen::inline::InlineCommand<'_> {
        use cranelift_codegen::inline::InlineCommand;
        let ir::ExternalName::User(name) = &caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        let name = &caller.params.user_named_funcs()[*name];
        // cranelift-module names functions in namespace 0 by their id.
        if name.namespace != 0 {
            return InlineCommand::KeepCall;
        }
        match self.bodies.get(&FuncId::from_u32(name.index)) {
            Some(body) => InlineCommand::Inline {
                callee: std::borrow::Cow::Borrowed(body),
                visit_callee: false,
            },
            None => InlineCommand::KeepCall,
        }
    }
}

/// The flags of every load and store: possibly unaligned (packet headers are byte views),
/// never trapping (generated code only dereferences pointers its contract makes valid).
fn mem() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

type Emit = dyn Fn(&mut FnBuilder<'_>, &[Value]) -> Vec<Value>;

/// A reusable piece of code: given argument values it emits instructions into the function
/// being built and yields result values (see the crate documentation).
#[derive(Clone)]
pub struct Fragment {
    name: String,
    params: Vec<Type>,
    results: Vec<Type>,
    emit: Rc<Emit>,
}

impl std::fmt::Debug for Fragment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fragment")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("results", &self.results)
            .finish()
    }
}

impl Fragment {
    /// A fragment taking `params` and yielding `results`, emitted by `emit`.
    pub fn new(
        name: impl Into<String>,
        params: &[Type],
        results: &[Type],
        emit: impl Fn(&mut FnBuilder<'_>, &[Value]) -> Vec<Value> + 'static,
    ) -> Fragment {
        Fragment {
            name: name.into(),
            params: params.to_vec(),
            results: results.to_vec(),
            emit: Rc::new(emit),
        }
    }

    /// The fragment's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `self`, then `next` on its results: a fragment with `self`'s parameters and `next`'s
    /// results. Fails if `next` does not take exactly `self`'s results.
    pub fn then(&self, next: &Fragment) -> Result<Fragment> {
        if self.results != next.params {
            return Err(Error::Arity {
                name: format!("{} then {}", self.name, next.name),
                want: next.params.len(),
                got: self.results.len(),
            });
        }
        let (a, b) = (self.clone(), next.clone());
        Ok(Fragment {
            name: format!("{}; {}", self.name, next.name),
            params: self.params.clone(),
            results: next.results.clone(),
            emit: Rc::new(move |fb, args| {
                let mid = (a.emit)(fb, args);
                (b.emit)(fb, &mid)
            }),
        })
    }
}
