//! What run-time code generation costs with `tcc-backend`, and when it pays.
//!
//! Run with `cargo run --release -p tcc-backend --example compile_cost` (under 10 s; a debug
//! build measures the debug build of Cranelift, which is many times slower).
//!
//! # Compile cost
//!
//! Each row compiles one batch of generated functions into a fresh `Jit` — `declare`, `define`
//! (describing the body through `FnBuilder`, then verifying if on, and compiling) for every
//! function, then one `finalize` (linking, making the code executable) — and times the whole
//! batch on the wall clock. The functions are realistic straight-line-and-diamond code: chains
//! of integer arithmetic on a running value with a load from a pointer every few operations,
//! and every third step an if/else diamond (compare, branch to two blocks with parameters,
//! merge) whose result is stored back. Sizes of about 10, 100 and 1000 Cranelift IR
//! instructions are made by repeating such steps.
//!
//! Columns:
//! - *size*: the target number of instructions per function;
//! - *opt*, *verify*: Cranelift's optimisation level and whether the IR verifier ran;
//! - *functions*, *instructions*: in the batch; instructions are counted as described, before
//!   Cranelift optimises (`Jit::stats`);
//! - *µs / function*, *ns / instruction*: batch wall time divided by those counts, describing
//!   included (the repetition with the median wall time; repetitions go round all rows);
//! - *in Cranelift*: the share of that time spent in verification, compilation and linking
//!   (`Stats::compile_time`); the rest is describing the IR through the builder;
//! - *code bytes / instruction*: machine code produced per IR instruction.
//!
//! Creating a `Jit` (`JitBuilder::build`: detecting the CPU, setting up the module) is a one-off
//! cost, printed separately.
//!
//! # Specialisation
//!
//! The second table is the reason to pay the compile cost: a function generated for a value
//! known only at run time. A checksum-style sum of `n` 16-bit words is compiled twice — as a
//! generic loop taking `n`, and specialised to one `n` (fully unrolled, offsets constant) —
//! and both are called in the same run, with Rust's own loop for reference. *break-even* is
//! how many calls it takes for the time saved per call to repay the specialised function's
//! compile time.
//!
//! Numbers are medians, but a busy machine (another build running) still shows up in them;
//! compare rows of one run, not runs.
#![allow(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use tcc_backend::{
    FnBuilder, InstBuilder, IntCC, JitBuilder, OptLevel, Result, Sig, Stats, Type, types,
};

const I16: Type = types::I16;
const I64: Type = types::I64;

fn main() -> Result<()> {
    println!("{}", machine());
    if cfg!(debug_assertions) {
        println!("(debug build: these numbers measure unoptimised Cranelift; use --release)");
    }
    println!();

    let mut builds = (0..10).map(|_| {
        let t = Instant::now();
        let jit = JitBuilder::new().build();
        let d = t.elapsed();
        drop(black_box(jit));
        d
    });
    let first_us = builds.next().unwrap_or_default().as_secs_f64() * 1e6;
    let later_us = median(builds).as_secs_f64() * 1e6;
    println!(
        "JitBuilder::build (one-off, per Jit): first {first_us:.1} µs, later ones {later_us:.1} µs"
    );
    println!();

    println!("## Compile cost");
    println!();
    println!(
        "| size | opt | verify | functions | instructions | µs / function | ns / instruction | in Cranelift | code bytes / instruction |"
    );
    println!("|---:|---|---|---:|---:|---:|---:|---:|---:|");
    let rows = [
        (10, OptLevel::None, false, 400),
        (10, OptLevel::Speed, false, 400),
        (100, OptLevel::None, false, 100),
        (100, OptLevel::Speed, false, 100),
        (100, OptLevel::Speed, true, 100),
        (1000, OptLevel::None, false, 20),
        (1000, OptLevel::Speed, false, 20),
    ];
    // Repetitions go round the rows, so that a burst of load from elsewhere on the machine hits
    // every row alike rather than a few rows wholesale.
    const REPS: usize = 11;
    let mut samples: Vec<Vec<(Duration, Stats)>> = vec![Vec::with_capacity(REPS); rows.len()];
    for rep in 0..REPS {
        for (&(size, opt, verify, functions), row) in rows.iter().zip(&mut samples) {
            row.push(compile_batch(size, opt, verify, functions, rep == 0)?);
        }
    }
    for ((size, opt, verify, functions), mut row) in rows.into_iter().zip(samples) {
        // The repetition with the median wall time, with its own statistics.
        row.sort_by_key(|&(wall, _)| wall);
        let (wall, stats) = row[row.len() / 2];
        let per_fn_us = wall.as_secs_f64() * 1e6 / functions as f64;
        let per_inst_ns = wall.as_secs_f64() * 1e9 / stats.instructions as f64;
        let share = stats.compile_time.as_secs_f64() / wall.as_secs_f64() * 100.0;
        let bytes = stats.code_bytes as f64 / stats.instructions as f64;
        println!(
            "| ~{size} | {opt:?} | {} | {functions} | {} | {per_fn_us:.1} | {per_inst_ns:.0} | {share:.0}% | {bytes:.2} |",
            if verify { "on" } else { "off" },
            stats.instructions,
        );
    }
    println!();

    println!("## Specialisation: sum of n u16 words (OptLevel::Speed)");
    println!();
    println!(
        "| n | generic JIT loop, ns / call | specialised JIT (unrolled), ns / call | Rust loop, ns / call | specialised: instructions, compile µs | break-even calls |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for n in [10usize, 64] {
        specialisation_row(n)?;
    }
    Ok(())
}

/// The CPU model (from /proc/cpuinfo) and the number of cores this process may use.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |names: &[&str]| {
        cpuinfo.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            names.contains(&key.trim()).then(|| value.trim())
        })
    };
    let model = field(&["model name", "Model", "cpu model"]).unwrap_or("unknown CPU");
    let mhz = field(&["cpu MHz"]).map_or(String::new(), |m| format!(" at {m} MHz"));
    let online = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let usable = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "Machine: {model}{mhz}; {online} logical CPUs online, {usable} usable; {} {}",
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

fn median(samples: impl Iterator<Item = Duration>) -> Duration {
    let mut v: Vec<Duration> = samples.collect();
    v.sort();
    v[v.len() / 2]
}

/// `f(p: *mut u64, x: i64) -> i64`, the shape of every benchmark function.
fn bench_sig(ptr: Type) -> Sig {
    Sig::new().param(ptr).param(I64).result(I64)
}

/// Compiles `functions` functions of about `size` instructions into a fresh `Jit`; returns the
/// wall time of the batch (the `Jit`'s creation excluded) and its statistics. With `check`, also
/// calls every function.
fn compile_batch(
    size: usize,
    opt: OptLevel,
    verify: bool,
    functions: usize,
    check: bool,
) -> Result<(Duration, Stats)> {
    let mut jit = JitBuilder::new().opt_level(opt).verify(verify).build()?;
    let sig = bench_sig(jit.pointer_type());
    let started = Instant::now();
    let mut funcs = Vec::with_capacity(functions);
    for k in 0..functions {
        let f = jit.declare(&format!("f{k}"), &sig)?;
        jit.define(f, |fb| describe(fb, size, k as u64))?;
        funcs.push(f);
    }
    jit.finalize()?;
    let wall = started.elapsed();
    if check {
        // The code runs: every function of the batch, called twice on equal buffers, agrees
        // with itself (a cheap check that what was measured is real, callable code).
        for &f in &funcs {
            // SAFETY: every benchmark function has Sig (ptr, i64) -> i64 and loads and stores
            // only the 8 u64 words at its pointer argument, which each buffer provides.
            let g = unsafe {
                std::mem::transmute::<*const u8, extern "C" fn(*mut u64, i64) -> i64>(
                    jit.function_ptr(f)?,
                )
            };
            let (mut one, mut two) = ([0x0123_4567_89ab_cdefu64; 8], [0x0123_4567_89ab_cdefu64; 8]);
            let (a, b) = (g(one.as_mut_ptr(), 7), g(two.as_mut_ptr(), 7));
            assert_eq!((a, one), (b, two), "a benchmark function is deterministic");
        }
    }
    Ok((wall, jit.stats()))
}

/// Describes a benchmark function of about `size` instructions (see the module documentation).
fn describe(fb: &mut FnBuilder<'_>, size: usize, seed: u64) {
    let p = fb.params()[0];
    let mut x = fb.params()[1];
    // Instructions emitted so far, counted as Cranelift does (`*_imm` forms are two: the constant
    // and the operation); the exact count is in `Jit::stats`.
    let mut n = 0;
    let mut step = seed;
    while n + 1 < size {
        let offset = ((step % 8) * 8) as i32;
        let k = (step.wrapping_mul(0x9e37_79b9) >> 7) as i64 | 1;
        if step % 3 == 2 && size - n >= 14 {
            // if (x >> 7) < 2^40 { x + k } else { rotl(x >> 7, 13) }; store it.
            let d = fb.ins().ushr_imm_u(x, 7i64);
            let c = fb.ins().icmp_imm_u(IntCC::UnsignedLessThan, d, 1i64 << 40);
            let (then, t) = fb.block_with(&[I64]);
            let (other, e) = fb.block_with(&[I64]);
            let (merge, m) = fb.block_with(&[I64]);
            fb.brif(c, then, &[x], other, &[d]);
            fb.switch_to(then);
            let t = fb.ins().iadd_imm_s(t[0], k);
            fb.jump(merge, &[t]);
            fb.switch_to(other);
            let e = fb.ins().rotl_imm_u(e[0], 13i64);
            fb.jump(merge, &[e]);
            fb.switch_to(merge);
            fb.store(m[0], p, offset);
            x = m[0];
            n += 12;
        } else {
            match step % 4 {
                0 => {
                    let v = fb.load(I64, p, offset);
                    x = fb.ins().iadd(x, v);
                    n += 2;
                }
                1 => {
                    x = fb.ins().imul_imm_s(x, k);
                    n += 2;
                }
                2 => {
                    let s = fb.ins().ishl_imm_u(x, 5i64);
                    x = fb.ins().bxor(x, s);
                    n += 3;
                }
                _ => {
                    let v = fb.load(I64, p, offset);
                    let s = fb.ins().isub(x, v);
                    x = fb.ins().bor_imm_s(s, k);
                    n += 4;
                }
            }
        }
        step += 1;
    }
    fb.ret(&[x]);
}

/// Times `calls` calls of `f` (median of 5 runs); returns nanoseconds per call.
fn ns_per_call(calls: u32, mut f: impl FnMut() -> u64) -> f64 {
    let d = median((0..5).map(|_| {
        let t = Instant::now();
        let mut acc = 0u64;
        for _ in 0..calls {
            acc = acc.wrapping_add(f());
        }
        black_box(acc);
        t.elapsed()
    }));
    d.as_secs_f64() * 1e9 / f64::from(calls)
}

fn specialisation_row(n: usize) -> Result<()> {
    let words: Vec<u16> = (0..n as u16)
        .map(|i| i.wrapping_mul(40_503) ^ 0x5a5a)
        .collect();
    let want: u64 = words.iter().map(|&w| u64::from(w)).sum();

    let mut jit = JitBuilder::new().opt_level(OptLevel::Speed).build()?;
    let ptr = jit.pointer_type();
    // generic(p, n) = p[0] + ... + p[n-1] (u16 words, zero-extended)
    let generic = jit.declare("sum_words", &Sig::new().param(ptr).param(I64).result(I64))?;
    jit.define(generic, |fb| {
        let (p, n) = (fb.params()[0], fb.params()[1]);
        let zero = fb.iconst(I64, 0);
        let (header, hv) = fb.block_with(&[ptr, I64, I64]); // (cursor, remaining, acc)
        let (body, bv) = fb.block_with(&[ptr, I64, I64]);
        let (exit, acc) = fb.block_with(&[I64]);
        fb.jump(header, &[p, n, zero]);
        fb.switch_to(header);
        fb.brif(hv[1], body, &[hv[0], hv[1], hv[2]], exit, &[hv[2]]);
        fb.switch_to(body);
        let w = fb.load(I16, bv[0], 0);
        let w = fb.ins().uextend(I64, w);
        let a = fb.ins().iadd(bv[2], w);
        let next = fb.ins().iadd_imm_s(bv[0], 2i64);
        let left = fb.ins().iadd_imm_s(bv[1], -1i64);
        fb.jump(header, &[next, left, a]);
        fb.switch_to(exit);
        fb.ret(&[acc[0]]);
    })?;
    jit.finalize()?;

    // The specialised function, compiled a few times to time it; the last one is called.
    let mut compile = Vec::new();
    let mut special = None;
    let mut special_insts = 0;
    for rep in 0..7 {
        let before = jit.stats().instructions;
        let t = Instant::now();
        let f = jit.declare(
            &format!("sum_{n}_words_{rep}"),
            &Sig::new().param(ptr).result(I64),
        )?;
        jit.define(f, |fb| {
            let p = fb.params()[0];
            let mut acc = fb.iconst(I64, 0);
            for i in 0..n {
                let w = fb.load(I16, p, 2 * i as i32);
                let w = fb.ins().uextend(I64, w);
                acc = fb.ins().iadd(acc, w);
            }
            fb.ret(&[acc]);
        })?;
        jit.finalize()?;
        compile.push(t.elapsed());
        special_insts = jit.stats().instructions - before;
        special = Some(f);
    }
    let compile = median(compile.into_iter());
    let special = jit.function_ptr(special.expect("seven repetitions"))?;

    // SAFETY: `sum_words` has Sig (ptr, i64) -> i64 and reads `n` u16 words at its pointer;
    // it is called with `words` and its length. `jit` outlives the calls.
    let generic = unsafe {
        std::mem::transmute::<*const u8, extern "C" fn(*const u16, i64) -> i64>(
            jit.function_ptr(generic)?,
        )
    };
    // SAFETY: the specialised function has Sig (ptr) -> i64 and reads exactly `n` u16 words
    // at its pointer, which `words` holds.
    let special =
        unsafe { std::mem::transmute::<*const u8, extern "C" fn(*const u16) -> i64>(special) };
    assert_eq!(generic(words.as_ptr(), n as i64) as u64, want);
    assert_eq!(special(words.as_ptr()) as u64, want);

    let calls = 2_000_000;
    let g = ns_per_call(calls, || {
        generic(black_box(words.as_ptr()), black_box(n as i64)) as u64
    });
    let s = ns_per_call(calls, || special(black_box(words.as_ptr())) as u64);
    let r = ns_per_call(calls, || {
        black_box(&words[..black_box(n)])
            .iter()
            .map(|&w| u64::from(w))
            .sum()
    });
    let compile_us = compile.as_secs_f64() * 1e6;
    let break_even = if g > s {
        format!("{:.0}", compile.as_secs_f64() * 1e9 / (g - s))
    } else {
        "never".to_string()
    };
    println!(
        "| {n} | {g:.2} | {s:.2} | {r:.2} | {special_insts}, {compile_us:.0} | {break_even} |"
    );
    Ok(())
}
