//! Tests of `tcc-backend`'s whole API: describing functions, compiling them in batches, calling
//! them, data objects, fragments, and every error the crate reports.
//!
//! Calling generated code is `unsafe`: each call transmutes a `Jit::function_ptr` result to an
//! `extern "C"` function type matching the function's `Sig` (the crate's *Safety* contract).
#![allow(unsafe_code)]

use std::mem::{offset_of, transmute};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tcc_backend::{
    DataSpec, Error, Fragment, InstBuilder, IntCC, Jit, JitBuilder, OptLevel, Result, Sig, Type,
    types,
};

const I8: Type = types::I8;
const I16: Type = types::I16;
const I32: Type = types::I32;
const I64: Type = types::I64;

/// A JIT with the verifier forced on (it is on in debug builds anyway).
fn jit() -> Jit {
    JitBuilder::new()
        .verify(true)
        .build()
        .expect("a JIT for this machine")
}

fn sig(params: &[Type], results: &[Type]) -> Sig {
    Sig {
        params: params.to_vec(),
        results: results.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// Straight-line arithmetic

#[test]
fn straight_line_i32_and_i64() -> Result<()> {
    let mut jit = jit();
    // f32(a, b) = (a * b + 7) - (a >> 1)   (arithmetic shift, wrapping)
    let f32 = jit.declare("arith32", &sig(&[I32, I32], &[I32]))?;
    jit.define(f32, |fb| {
        let (a, b) = (fb.params()[0], fb.params()[1]);
        let p = fb.ins().imul(a, b);
        let seven = fb.iconst(I32, 7);
        let s = fb.ins().iadd(p, seven);
        let h = fb.ins().sshr_imm_u(a, 1i64);
        let r = fb.ins().isub(s, h);
        fb.ret(&[r]);
    })?;
    // f64(a, b) = ((a ^ b) << 3) + (a / 3 unsigned) - b * 1_000_003
    let f64_ = jit.declare("arith64", &sig(&[I64, I64], &[I64]))?;
    jit.define(f64_, |fb| {
        let (a, b) = (fb.params()[0], fb.params()[1]);
        let x = fb.ins().bxor(a, b);
        let x = fb.ins().ishl_imm_u(x, 3i64);
        let d = fb.ins().udiv_imm_u(a, 3i64);
        let x = fb.ins().iadd(x, d);
        let m = fb.ins().imul_imm_s(b, 1_000_003i64);
        let r = fb.ins().isub(x, m);
        fb.ret(&[r]);
    })?;
    jit.finalize()?;
    // SAFETY: `arith32` has Sig (i32, i32) -> i32 and touches no memory; `jit` outlives the calls.
    let g32 =
        unsafe { transmute::<*const u8, extern "C" fn(i32, i32) -> i32>(jit.function_ptr(f32)?) };
    // SAFETY: `arith64` has Sig (i64, i64) -> i64 and touches no memory.
    let g64 =
        unsafe { transmute::<*const u8, extern "C" fn(i64, i64) -> i64>(jit.function_ptr(f64_)?) };
    let want32 = |a: i32, b: i32| a.wrapping_mul(b).wrapping_add(7).wrapping_sub(a >> 1);
    let want64 = |a: i64, b: i64| {
        ((a ^ b) << 3)
            .wrapping_add(((a as u64) / 3) as i64)
            .wrapping_sub(b.wrapping_mul(1_000_003))
    };
    for (a, b) in [
        (0, 0),
        (1, 2),
        (-5, 9),
        (i32::MAX, 2),
        (i32::MIN, -1),
        (12345, -678),
    ] {
        assert_eq!(g32(a, b), want32(a, b), "arith32({a}, {b})");
    }
    for (a, b) in [
        (0, 0),
        (1, 2),
        (-5, 9),
        (i64::MAX, 3),
        (i64::MIN, -1),
        (0x1234_5678_9abc, -0x77),
    ] {
        assert_eq!(g64(a, b), want64(a, b), "arith64({a}, {b})");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Control flow: variables, blocks, block parameters, cold blocks

#[test]
fn loop_with_variables_and_cold_block() -> Result<()> {
    let mut jit = jit();
    // sum(n) = 1 + 2 + ... + n, or -1 (in a cold block) when n < 0.
    let sum = jit.declare("sum", &sig(&[I64], &[I64]))?;
    let terminated_after_ret = jit.define(sum, |fb| {
        let n = fb.params()[0];
        let (i, acc) = (fb.var(I64), fb.var(I64));
        let one = fb.iconst(I64, 1);
        let zero = fb.iconst(I64, 0);
        fb.set(i, one);
        fb.set(acc, zero);
        let (negative, header, body, exit) = (fb.block(), fb.block(), fb.block(), fb.block());
        fb.cold(negative);
        let is_neg = fb.ins().icmp_imm_s(IntCC::SignedLessThan, n, 0i64);
        fb.brif(is_neg, negative, &[], header, &[]);

        fb.switch_to(negative);
        let minus_one = fb.iconst(I64, -1);
        fb.ret(&[minus_one]);
        let terminated = fb.is_terminated();

        fb.switch_to(header);
        let iv = fb.get(i);
        let more = fb.ins().icmp(IntCC::SignedLessThanOrEqual, iv, n);
        fb.brif(more, body, &[], exit, &[]);

        fb.switch_to(body);
        let (iv, av) = (fb.get(i), fb.get(acc));
        let av = fb.ins().iadd(av, iv);
        fb.set(acc, av);
        let iv = fb.ins().iadd_imm_s(iv, 1i64);
        fb.set(i, iv);
        fb.jump(header, &[]);

        fb.switch_to(exit);
        let av = fb.get(acc);
        fb.ret(&[av]);
        terminated
    })?;
    assert!(terminated_after_ret, "is_terminated after a return");
    jit.finalize()?;
    // SAFETY: `sum` has Sig (i64) -> i64 and touches no memory.
    let sum = unsafe { transmute::<*const u8, extern "C" fn(i64) -> i64>(jit.function_ptr(sum)?) };
    for n in [0i64, 1, 2, 10, 1000, 65_536] {
        assert_eq!(sum(n), n * (n + 1) / 2, "sum({n})");
    }
    assert_eq!(sum(-1), -1);
    assert_eq!(sum(i64::MIN), -1);
    Ok(())
}

#[test]
fn gcd_with_block_parameters() -> Result<()> {
    let mut jit = jit();
    let gcd = jit.declare("gcd", &sig(&[I32, I32], &[I32]))?;
    jit.define(gcd, |fb| {
        let (a, b) = (fb.params()[0], fb.params()[1]);
        let (lp, xy) = fb.block_with(&[I32, I32]);
        let (step, step_xy) = fb.block_with(&[I32, I32]);
        let (done, g) = fb.block_with(&[I32]);
        fb.jump(lp, &[a, b]);

        fb.switch_to(lp);
        fb.brif(xy[1], step, &[xy[0], xy[1]], done, &[xy[0]]);

        fb.switch_to(step);
        let r = fb.ins().urem(step_xy[0], step_xy[1]);
        fb.jump(lp, &[step_xy[1], r]);

        fb.switch_to(done);
        fb.ret(&[g[0]]);
    })?;
    jit.finalize()?;
    // SAFETY: `gcd` has Sig (i32, i32) -> i32; u32 has the same C ABI as i32.
    let gcd =
        unsafe { transmute::<*const u8, extern "C" fn(u32, u32) -> u32>(jit.function_ptr(gcd)?) };
    fn want(mut a: u32, mut b: u32) -> u32 {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }
    for (a, b) in [
        (0, 0),
        (12, 18),
        (18, 12),
        (17, 5),
        (0, 7),
        (7, 0),
        (u32::MAX, 3),
        (1 << 20, 1 << 12),
    ] {
        assert_eq!(gcd(a, b), want(a, b), "gcd({a}, {b})");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Memory: loads and stores at known offsets, stack slots, copy, zero

#[repr(C)]
#[derive(Debug, Default, PartialEq)]
struct Header {
    kind: u8,
    port: u16,
    seq: u32,
    total: u64,
}

#[test]
fn loads_and_stores_through_a_repr_c_struct() -> Result<()> {
    let mut jit = jit();
    let ptr = jit.pointer_type();
    // touch(h): h.seq += 1; h.total = kind + port + seq(old); returns old total.
    let touch = jit.declare("touch", &sig(&[ptr], &[I64]))?;
    let (o_kind, o_port, o_seq, o_total) = (
        offset_of!(Header, kind) as i32,
        offset_of!(Header, port) as i32,
        offset_of!(Header, seq) as i32,
        offset_of!(Header, total) as i32,
    );
    jit.define(touch, |fb| {
        let h = fb.params()[0];
        let kind = fb.load(I8, h, o_kind);
        let port = fb.load(I16, h, o_port);
        let seq = fb.load(I32, h, o_seq);
        let old_total = fb.load(I64, h, o_total);
        let seq1 = fb.ins().iadd_imm_s(seq, 1i64);
        fb.store(seq1, h, o_seq);
        let kind = fb.ins().uextend(I64, kind);
        let port = fb.ins().uextend(I64, port);
        let seq = fb.ins().uextend(I64, seq);
        let t = fb.ins().iadd(kind, port);
        let t = fb.ins().iadd(t, seq);
        fb.store(t, h, o_total);
        fb.ret(&[old_total]);
    })?;
    jit.finalize()?;
    // SAFETY: `touch` has Sig (ptr) -> i64 and reads and writes only the fields of the `Header`
    // it is given, which is a live, exclusive borrow for the call.
    let touch = unsafe {
        transmute::<*const u8, extern "C" fn(*mut Header) -> u64>(jit.function_ptr(touch)?)
    };
    let mut h = Header {
        kind: 200,
        port: 40_000,
        seq: u32::MAX,
        total: 0xdead_beef_0000_0001,
    };
    assert_eq!(touch(&mut h), 0xdead_beef_0000_0001);
    assert_eq!(
        h,
        Header {
            kind: 200,
            port: 40_000,
            seq: 0,
            total: 200 + 40_000 + u64::from(u32::MAX),
        }
    );
    // The second call returns the total the first wrote; seq was 0 (wrapped) this time.
    assert_eq!(touch(&mut h), 200 + 40_000 + u64::from(u32::MAX));
    assert_eq!(h.seq, 1);
    assert_eq!(h.total, 40_200);
    Ok(())
}

#[test]
fn unaligned_u32_at_an_odd_offset() -> Result<()> {
    let mut jit = jit();
    let ptr = jit.pointer_type();
    // bump(buf): v = u32 at buf+3; u32 at buf+9 = v + 1; returns v.
    let bump = jit.declare("bump_unaligned", &sig(&[ptr], &[I32]))?;
    jit.define(bump, |fb| {
        let buf = fb.params()[0];
        let v = fb.load(I32, buf, 3);
        let w = fb.ins().iadd_imm_s(v, 1i64);
        fb.store(w, buf, 9);
        fb.ret(&[v]);
    })?;
    jit.finalize()?;
    // SAFETY: `bump_unaligned` has Sig (ptr) -> i32 and touches bytes 3..7 and 9..13 of its
    // argument, a 16-byte buffer borrowed exclusively for the call.
    let bump =
        unsafe { transmute::<*const u8, extern "C" fn(*mut u8) -> u32>(jit.function_ptr(bump)?) };
    let mut buf = [0xeeu8; 16];
    buf[3..7].copy_from_slice(&0x0102_0304u32.to_ne_bytes());
    assert_eq!(bump(buf.as_mut_ptr()), 0x0102_0304);
    assert_eq!(buf[9..13], 0x0102_0305u32.to_ne_bytes());
    // Everything else untouched.
    assert!(
        buf[..3]
            .iter()
            .chain(&buf[7..9])
            .chain(&buf[13..])
            .all(|&b| b == 0xee)
    );
    Ok(())
}

#[repr(C, align(8))]
struct Buf<const N: usize>([u8; N]);

#[test]
fn stack_slot_copy_and_zero() -> Result<()> {
    let mut jit = jit();
    let ptr = jit.pointer_type();
    // scramble(src, dst): a 16-byte stack slot gets src; its bytes 4..10 are zeroed; byte 15
    // becomes 0x5a; the slot is copied to dst. Then dst+16..dst+22 get src+0..6 (a 6-byte copy
    // between 8-aligned addresses), dst+24..dst+136 get src+24..src+136 (a copy large enough to
    // be a call to memcpy), and dst+136..dst+256 are zeroed (a call to memset).
    let scramble = jit.declare("scramble", &sig(&[ptr, ptr], &[]))?;
    jit.define(scramble, |fb| {
        let (src, dst) = (fb.params()[0], fb.params()[1]);
        let slot = fb.stack_slot(16, 8);
        fb.copy(slot, src, 16, 8);
        let at4 = fb.ins().iadd_imm_s(slot, 4i64);
        fb.zero(at4, 6, 4);
        let x = fb.iconst(I8, 0x5a);
        fb.store(x, slot, 15);
        fb.copy(dst, slot, 16, 8);
        let d16 = fb.ins().iadd_imm_s(dst, 16i64);
        fb.copy(d16, src, 6, 8);
        let d24 = fb.ins().iadd_imm_s(dst, 24i64);
        let s24 = fb.ins().iadd_imm_s(src, 24i64);
        fb.copy(d24, s24, 112, 8);
        let d136 = fb.ins().iadd_imm_s(dst, 136i64);
        fb.zero(d136, 120, 8);
        fb.ret(&[]);
    })?;
    jit.finalize()?;
    // SAFETY: `scramble` has Sig (ptr, ptr) -> () and reads 136 bytes of `src` and writes 256
    // bytes of `dst`, two distinct 8-aligned 256-byte buffers.
    let scramble = unsafe {
        transmute::<*const u8, extern "C" fn(*const u8, *mut u8)>(jit.function_ptr(scramble)?)
    };
    let mut src = Buf([0u8; 256]);
    for (i, b) in src.0.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(7).wrapping_add(1);
    }
    let mut dst = Buf([0xffu8; 256]);
    scramble(src.0.as_ptr(), dst.0.as_mut_ptr());
    let (s, d) = (&src.0, &dst.0);
    assert_eq!(d[..4], s[..4]);
    assert_eq!(d[4..10], [0; 6]);
    assert_eq!(d[10..15], s[10..15]);
    assert_eq!(d[15], 0x5a);
    assert_eq!(d[16..22], s[..6]);
    assert_eq!(
        d[22..24],
        [0xff; 2],
        "bytes after the 6-byte copy are untouched"
    );
    assert_eq!(d[24..136], s[24..136]);
    assert_eq!(d[136..], [0; 120]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Calls: host functions, generated functions, later batches

extern "C" fn host_mix(a: i64, b: i64) -> i64 {
    a * 1000 + b
}

#[test]
fn calls_between_host_and_generated_functions_across_batches() -> Result<()> {
    let mut jit = JitBuilder::new()
        .verify(true)
        .host_function("host_mix", host_mix as *const u8)
        .build()?;
    assert!(jit.has_host("host_mix"));
    assert!(!jit.has_host("host_other"));
    let two = sig(&[I64, I64], &[I64]);
    let one = sig(&[I64], &[I64]);
    let mix = jit.declare_host("host_mix", &two)?;
    // Batch 1: inner(x) = host_mix(x, 3); outer(x) = inner(x) * 2 (declared before inner is
    // defined: order of definition within a batch does not matter).
    let inner = jit.declare("inner", &one)?;
    let outer = jit.declare("outer", &one)?;
    jit.define(outer, |fb| {
        let x = fb.params()[0];
        let r = fb.call(inner, &[x])[0];
        let r = fb.ins().imul_imm_s(r, 2i64);
        fb.ret(&[r]);
    })?;
    jit.define(inner, |fb| {
        let x = fb.params()[0];
        let three = fb.iconst(I64, 3);
        let r = fb.call(mix, &[x, three]);
        fb.ret(&r);
    })?;
    jit.finalize()?;
    // SAFETY: `outer` has Sig (i64) -> i64; it calls `inner` and `host_mix`, both pure.
    let outer_fn =
        unsafe { transmute::<*const u8, extern "C" fn(i64) -> i64>(jit.function_ptr(outer)?) };
    assert_eq!(outer_fn(5), (5 * 1000 + 3) * 2);
    assert_eq!(outer_fn(-1), (-1000 + 3) * 2);

    // Batch 2: later(x) = outer(x) + host_mix(x, x) — calls into batch 1 and the host again.
    let later = jit.declare("later", &one)?;
    jit.define(later, |fb| {
        let x = fb.params()[0];
        let a = fb.call(outer, &[x])[0];
        let b = fb.call(mix, &[x, x])[0];
        let r = fb.ins().iadd(a, b);
        fb.ret(&[r]);
    })?;
    jit.finalize()?;
    // SAFETY: `later` has Sig (i64) -> i64 and calls only pure functions.
    let later_fn =
        unsafe { transmute::<*const u8, extern "C" fn(i64) -> i64>(jit.function_ptr(later)?) };
    assert_eq!(later_fn(7), (7 * 1000 + 3) * 2 + 7 * 1001);
    // Batch 1's function is still callable and unchanged.
    assert_eq!(outer_fn(5), 10_006);
    // Declaring the same name with the same signature gives the same function.
    assert_eq!(jit.declare("outer", &one)?, outer);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Data objects

#[test]
fn writable_counter_updated_by_generated_code() -> Result<()> {
    let mut jit = jit();
    let counter = jit.data(
        "counter",
        DataSpec {
            bytes: 40u64.to_ne_bytes().to_vec(),
            align: 8,
            writable: true,
            function_addrs: vec![],
            data_addrs: vec![],
        },
    )?;
    // A read-only object holding the counter's address.
    let width = jit.pointer_type().bytes() as usize;
    let where_ = jit.data(
        "counter_address",
        DataSpec {
            bytes: vec![0; width],
            align: width as u64,
            writable: false,
            function_addrs: vec![],
            data_addrs: vec![(0, counter)],
        },
    )?;
    // tick(by) -> new value
    let tick = jit.declare("tick", &sig(&[I64], &[I64]))?;
    jit.define(tick, |fb| {
        let by = fb.params()[0];
        let p = fb.data_addr(counter);
        let v = fb.load(I64, p, 0);
        let v = fb.ins().iadd(v, by);
        fb.store(v, p, 0);
        fb.ret(&[v]);
    })?;
    assert!(matches!(jit.data_ptr(counter), Err(Error::NotFinalized(n)) if n == "counter"));
    jit.finalize()?;
    // SAFETY: `tick` has Sig (i64) -> i64 and writes only the counter, which `jit` owns.
    let tick =
        unsafe { transmute::<*const u8, extern "C" fn(i64) -> i64>(jit.function_ptr(tick)?) };
    let p = jit.data_ptr(counter)?.cast::<u64>();
    assert!(p.is_aligned(), "the counter is 8-aligned");
    // SAFETY: `counter_address` is one live, aligned pointer owned by `jit`.
    let stored = unsafe { jit.data_ptr(where_)?.cast::<*const u64>().read() };
    assert_eq!(stored, p, "data_addrs holds the counter's address");
    // SAFETY: the counter is 8 live, aligned bytes owned by `jit`; no generated code runs
    // during the read.
    let read = || unsafe { p.read_volatile() };
    assert_eq!(read(), 40);
    for i in 1..=5 {
        assert_eq!(tick(i), 40 + (1..=i as u64).sum::<u64>() as i64);
    }
    assert_eq!(read(), 55);
    Ok(())
}

/// Emits a one-operand operation.
type UnaryOp = fn(&mut tcc_backend::FnBuilder<'_>, tcc_backend::Value) -> tcc_backend::Value;

#[test]
fn read_only_table_of_function_addresses_with_call_indirect() -> Result<()> {
    let mut jit = jit();
    let ptr = jit.pointer_type();
    let width = ptr.bytes();
    let one = sig(&[I64], &[I64]);
    let ops: [(&str, UnaryOp); 3] = [
        ("double", |fb, x| fb.ins().iadd(x, x)),
        ("square", |fb, x| fb.ins().imul(x, x)),
        ("negate", |fb, x| fb.ins().ineg(x)),
    ];
    let mut funcs = Vec::new();
    for (name, op) in ops {
        let f = jit.declare(name, &one)?;
        jit.define(f, |fb| {
            let x = fb.params()[0];
            let r = op(fb, x);
            fb.ret(&[r]);
        })?;
        funcs.push(f);
    }
    let table = jit.data(
        "ops",
        DataSpec {
            bytes: vec![0; 3 * width as usize],
            align: u64::from(width),
            writable: false,
            function_addrs: funcs
                .iter()
                .enumerate()
                .map(|(i, &f)| (i as u32 * width, f))
                .collect(),
            data_addrs: vec![],
        },
    )?;
    // dispatch(i, x) = ops[i](x)
    let dispatch = jit.declare("dispatch", &sig(&[I64, I64], &[I64]))?;
    let one_for_call = one.clone();
    jit.define(dispatch, |fb| {
        let (i, x) = (fb.params()[0], fb.params()[1]);
        let base = fb.data_addr(table);
        let off = fb.ins().imul_imm_s(i, i64::from(width));
        let at = fb.ins().iadd(base, off);
        let callee = fb.load(ptr, at, 0);
        let r = fb.call_indirect(&one_for_call, callee, &[x]);
        fb.ret(&r);
    })?;
    jit.finalize()?;
    // The table holds exactly the functions' addresses.
    let t = jit.data_ptr(table)?.cast::<*const u8>();
    for (i, &f) in funcs.iter().enumerate() {
        // SAFETY: the table is 3 live, aligned pointers owned by `jit`.
        let entry = unsafe { t.add(i).read() };
        assert_eq!(entry, jit.function_ptr(f)?, "table entry {i}");
    }
    // SAFETY: `dispatch` has Sig (i64, i64) -> i64 and indexes the 3-entry table with its first
    // argument, which the calls below keep in 0..3.
    let dispatch = unsafe {
        transmute::<*const u8, extern "C" fn(i64, i64) -> i64>(jit.function_ptr(dispatch)?)
    };
    for x in [-3i64, 0, 9, 1 << 20] {
        assert_eq!(dispatch(0, x), 2 * x);
        assert_eq!(dispatch(1, x), x * x);
        assert_eq!(dispatch(2, x), -x);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Fragments

fn add(name: &str, k: i64) -> Fragment {
    Fragment::new(name, &[I32], &[I32], move |fb, a| {
        vec![fb.ins().iadd_imm_s(a[0], k)]
    })
}

fn double() -> Fragment {
    Fragment::new("double", &[I32], &[I32], |fb, a| {
        vec![fb.ins().imul_imm_s(a[0], 2i64)]
    })
}

#[test]
fn fragments_splice_then_and_define_fragment() -> Result<()> {
    let mut jit = jit();
    let add3 = add("add3", 3);
    assert_eq!(add3.name(), "add3");
    // spliced(x) = double(add3(x)) + add3(x): the same fragment spliced twice.
    let spliced = jit.declare("spliced", &sig(&[I32], &[I32]))?;
    jit.try_define(spliced, |fb| {
        let x = fb.params()[0];
        let y = fb.splice(&add3, &[x])?;
        let z = fb.splice(&double(), &y)?;
        let w = fb.splice(&add3, &[x])?;
        let r = fb.ins().iadd(z[0], w[0]);
        fb.ret(&[r]);
        Ok(())
    })?;
    // composed = add3; double; add(-1)
    let composed = add3.then(&double())?.then(&add("dec", -1))?;
    assert_eq!(composed.name(), "add3; double; dec");
    let whole = jit.define_fragment("composed", &composed)?;
    // A two-result fragment as a whole function: (x, y) -> (y, x + y).
    let swap_add = Fragment::new("swap_add", &[I64, I64], &[I64, I64], |fb, a| {
        vec![a[1], fb.ins().iadd(a[0], a[1])]
    });
    let pair = jit.define_fragment("swap_add", &swap_add)?;
    jit.finalize()?;
    // SAFETY: `spliced` and `composed` have Sig (i32) -> i32 and touch no memory.
    let (spliced, whole) = unsafe {
        (
            transmute::<*const u8, extern "C" fn(i32) -> i32>(jit.function_ptr(spliced)?),
            transmute::<*const u8, extern "C" fn(i32) -> i32>(jit.function_ptr(whole)?),
        )
    };
    #[repr(C)]
    #[derive(Debug, PartialEq)]
    struct Pair(i64, i64);
    // SAFETY: `swap_add` has Sig (i64, i64) -> (i64, i64); two integer results come back in two
    // registers, as a 16-byte `repr(C)` struct of two i64 does in the C convention of x86-64
    // System V and AArch64.
    #[cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let pair = unsafe {
            transmute::<*const u8, extern "C" fn(i64, i64) -> Pair>(jit.function_ptr(pair)?)
        };
        assert_eq!(pair(4, 10), Pair(10, 14));
    }
    #[cfg(not(all(unix, any(target_arch = "x86_64", target_arch = "aarch64"))))]
    let _ = pair;
    for x in [-10, 0, 1, 50] {
        assert_eq!(spliced(x), (x + 3) * 2 + (x + 3));
        assert_eq!(whole(x), (x + 3) * 2 - 1);
    }
    Ok(())
}

#[test]
fn fragment_arity_errors() -> Result<()> {
    let mut jit = jit();
    let add3 = add("add3", 3);
    let two_params = Fragment::new("two", &[I32, I32], &[I32], |fb, a| {
        vec![fb.ins().iadd(a[0], a[1])]
    });

    // Too many arguments to splice: reported, and nothing was emitted.
    let f = jit.declare("f", &sig(&[I32], &[I32]))?;
    let spliced = jit.define(f, |fb| {
        let x = fb.params()[0];
        let e = fb.splice(&add3, &[x, x]);
        let e2 = fb.splice(&two_params, &[x]);
        fb.ret(&[x]);
        (e, e2)
    })?;
    assert!(
        matches!(&spliced.0, Err(Error::Arity { name, want: 1, got: 2 }) if name == "add3"),
        "{:?}",
        spliced.0
    );
    assert!(
        matches!(
            &spliced.1,
            Err(Error::Arity {
                want: 2,
                got: 1,
                ..
            })
        ),
        "{:?}",
        spliced.1
    );

    // `then` whose second fragment does not take the first's results.
    let e = add3
        .then(&two_params)
        .expect_err("add3 yields one value, two takes two");
    assert!(
        matches!(
            e,
            Error::Arity {
                want: 2,
                got: 1,
                ..
            }
        ),
        "{e:?}"
    );

    // A fragment yielding more values than it declares: define_fragment reports it (no panic,
    // nothing compiled) and the name can then be defined properly.
    let liar = Fragment::new("liar", &[I32], &[I32], |_, a| vec![a[0], a[0]]);
    let e = jit
        .define_fragment("liar", &liar)
        .expect_err("two results, one declared");
    assert!(
        matches!(&e, Error::Arity { name, want: 1, got: 2 } if name == "liar (results)"),
        "{e:?}"
    );
    let liar_fn = jit.declare("liar", &sig(&[I32], &[I32]))?;
    assert!(matches!(
        jit.function_ptr(liar_fn),
        Err(Error::NotFinalized(_))
    ));
    let honest = jit.define_fragment("liar", &add3)?;
    assert_eq!(honest, liar_fn);
    jit.finalize()?;
    assert_eq!(
        jit.stats().functions,
        2,
        "the failed definition compiled nothing"
    );
    // SAFETY: `liar` is now `add3`, Sig (i32) -> i32.
    let g = unsafe { transmute::<*const u8, extern "C" fn(i32) -> i32>(jit.function_ptr(honest)?) };
    assert_eq!(g(1), 4);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn unregistered_host_function() {
    let mut jit = JitBuilder::new()
        .host_function("host_mix", host_mix as *const u8)
        .build()
        .expect("a JIT");
    let e = jit
        .declare_host("puts", &sig(&[I64], &[I32]))
        .expect_err("`puts` is not registered, even though the process has it");
    assert!(matches!(&e, Error::UnknownHost(n) if n == "puts"), "{e:?}");
    assert!(e.to_string().contains("`puts`"));
    assert!(
        jit.declare_host("host_mix", &sig(&[I64, I64], &[I64]))
            .is_ok()
    );
}

#[test]
fn ill_typed_iadd_does_not_verify() -> Result<()> {
    for verify_forced in [false, true] {
        // Verification is on by default in debug builds (the tests' profile); `.verify(true)`
        // forces it in any build.
        let mut jit = if verify_forced {
            JitBuilder::new().verify(true).build()?
        } else if cfg!(debug_assertions) {
            JitBuilder::new().build()?
        } else {
            continue;
        };
        let f = jit.declare("bad_add", &sig(&[I32, I64], &[I64]))?;
        let e = jit
            .define(f, |fb| {
                let (a, b) = (fb.params()[0], fb.params()[1]);
                let s = fb.ins().iadd(b, a);
                fb.ret(&[s]);
            })
            .expect_err("i64 + i32 is ill-typed");
        let Error::Verify { name, report } = &e else {
            panic!("expected Error::Verify, got {e:?}");
        };
        assert_eq!(name, "bad_add");
        assert!(
            report.contains("iadd"),
            "the report shows the IR:\n{report}"
        );
        assert!(
            e.to_string().contains("function `bad_add` does not verify"),
            "{e}"
        );
        // Failed definitions leave the function undefined: not callable, definable again.
        assert!(matches!(jit.function_ptr(f), Err(Error::NotFinalized(_))));
        jit.define(f, |fb| {
            let (a, b) = (fb.params()[0], fb.params()[1]);
            let a = fb.ins().sextend(I64, a);
            let s = fb.ins().iadd(b, a);
            fb.ret(&[s]);
        })?;
        jit.finalize()?;
        // SAFETY: `bad_add` is now well typed with Sig (i32, i64) -> i64.
        let g =
            unsafe { transmute::<*const u8, extern "C" fn(i32, i64) -> i64>(jit.function_ptr(f)?) };
        assert_eq!(g(-2, 10), 8);
    }
    Ok(())
}

#[test]
fn block_without_terminator_does_not_verify() -> Result<()> {
    // Verifier off: a block without a terminator is still reported, never compiled.
    for verify in [true, false] {
        let mut jit = JitBuilder::new().verify(verify).build()?;
        let f = jit.declare("open_end", &sig(&[I32], &[I32]))?;
        let e = jit
            .define(f, |fb| {
                let x = fb.params()[0];
                let _ = fb.ins().iadd_imm_s(x, 1i64);
            })
            .expect_err("no return");
        assert!(
            matches!(&e, Error::Verify { name, .. } if name == "open_end"),
            "{e:?}"
        );
        assert!(e.to_string().contains("terminator"), "{e}");
        // A function whose body emits nothing at all.
        let g = jit.declare("empty", &sig(&[], &[]))?;
        let e = jit.define(g, |_| {}).expect_err("no return");
        assert!(
            matches!(&e, Error::Verify { name, .. } if name == "empty"),
            "{e:?}"
        );
        // An open block after other, well-formed blocks.
        let h = jit.declare("open_later", &sig(&[I32], &[I32]))?;
        let e = jit
            .define(h, |fb| {
                let next = fb.block();
                fb.jump(next, &[]);
                fb.switch_to(next);
                let _ = fb.iconst(I32, 1);
            })
            .expect_err("no return in the second block");
        assert!(
            matches!(&e, Error::Verify { name, .. } if name == "open_later"),
            "{e:?}"
        );
        // The JIT is still usable afterwards.
        jit.define(f, |fb| {
            let x = fb.params()[0];
            let y = fb.ins().iadd_imm_s(x, 1i64);
            fb.ret(&[y]);
        })?;
        jit.finalize()?;
        // SAFETY: `open_end` is now well formed with Sig (i32) -> i32.
        let f = unsafe { transmute::<*const u8, extern "C" fn(i32) -> i32>(jit.function_ptr(f)?) };
        assert_eq!(f(41), 42);
    }
    Ok(())
}

#[test]
fn function_ptr_before_finalize() -> Result<()> {
    let mut jit = jit();
    let f = jit.declare("early", &sig(&[], &[I32]))?;
    // Declared, not defined.
    assert!(matches!(jit.function_ptr(f), Err(Error::NotFinalized(n)) if n == "early"));
    jit.define(f, |fb| {
        let v = fb.iconst(I32, 7);
        fb.ret(&[v]);
    })?;
    // Defined, not finalized.
    let e = jit.function_ptr(f).expect_err("not finalized");
    assert!(
        matches!(&e, Error::NotFinalized(n) if n == "early"),
        "{e:?}"
    );
    assert!(e.to_string().contains("finalize"));
    jit.finalize()?;
    assert!(jit.function_ptr(f).is_ok());
    Ok(())
}

#[test]
fn defining_twice() -> Result<()> {
    let mut jit = jit();
    let f = jit.declare("twice", &sig(&[], &[]))?;
    jit.define(f, |fb| fb.ret(&[]))?;
    let e = jit
        .define(f, |fb| fb.ret(&[]))
        .expect_err("second definition");
    assert!(matches!(&e, Error::Redefined(n) if n == "twice"), "{e:?}");
    // Also after finalizing.
    jit.finalize()?;
    assert!(matches!(
        jit.define(f, |fb| fb.ret(&[])),
        Err(Error::Redefined(_))
    ));
    assert_eq!(jit.stats().functions, 1);
    Ok(())
}

#[test]
fn referring_to_an_undefined_function() -> Result<()> {
    let mut jit = jit();
    // `abs` is also a C library function: an undefined generated `abs` must not silently
    // resolve to it.
    let abs = jit.declare("abs", &sig(&[I32], &[I32]))?;
    let user = jit.declare("user", &sig(&[I32], &[I32]))?;
    jit.define(user, |fb| {
        let x = fb.params()[0];
        let r = fb.call(abs, &[x]);
        fb.ret(&r);
    })?;
    let e = jit.finalize().expect_err("abs is not defined");
    assert!(matches!(&e, Error::Undefined(n) if n == "abs"), "{e:?}");
    // Defining it and finalizing again links the batch.
    jit.define(abs, |fb| {
        let x = fb.params()[0];
        let y = fb.ins().imul_imm_s(x, 100i64);
        fb.ret(&[y]);
    })?;
    jit.finalize()?;
    // SAFETY: `user` has Sig (i32) -> i32 and touches no memory.
    let g = unsafe { transmute::<*const u8, extern "C" fn(i32) -> i32>(jit.function_ptr(user)?) };
    assert_eq!(g(-3), -300, "the generated abs, not libc's");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// IR text and statistics

#[test]
fn keep_clif_and_stats() -> Result<()> {
    let mut jit = JitBuilder::new().keep_clif(true).build()?;
    assert_eq!(jit.stats(), tcc_backend::Stats::default());
    let f = jit.declare("plus", &sig(&[I32, I32], &[I32]))?;
    jit.define(f, |fb| {
        let (a, b) = (fb.params()[0], fb.params()[1]);
        let s = fb.ins().iadd(a, b);
        fb.ret(&[s]);
    })?;
    let s1 = jit.stats();
    assert_eq!(s1.functions, 0, "compiled by finalize");
    assert_eq!(s1.instructions, 2, "iadd and return");
    assert_eq!(s1.code_bytes, 0);
    let g = jit.declare("triple", &sig(&[I64], &[I64]))?;
    jit.define(g, |fb| {
        let x = fb.params()[0];
        let y = fb.ins().imul_imm_s(x, 3i64);
        let z = fb.ins().iadd_imm_s(y, 0i64);
        fb.ret(&[z]);
    })?;
    jit.finalize()?;
    let s2 = jit.stats();
    assert_eq!(s2.functions, 2);
    // `imul_imm` and `iadd_imm` are each an `iconst` and the operation.
    assert_eq!(s2.instructions, 2 + 5);
    assert!(s2.code_bytes > s1.code_bytes);
    assert!(s2.compile_time >= s1.compile_time);

    let clif = jit.clif();
    assert_eq!(clif.len(), 2);
    assert_eq!(clif[0].0, "plus");
    assert!(clif[0].1.contains("; plus"), "{}", clif[0].1);
    assert!(clif[0].1.contains("iadd"), "{}", clif[0].1);
    assert!(clif[0].1.contains("return"), "{}", clif[0].1);
    assert_eq!(clif[1].0, "triple");
    assert!(clif[1].1.contains("imul"), "{}", clif[1].1);

    // Without keep_clif nothing is kept.
    let mut plain = JitBuilder::new().build()?;
    let f = plain.declare("plus", &sig(&[], &[]))?;
    plain.define(f, |fb| fb.ret(&[]))?;
    assert!(plain.clif().is_empty());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property: generated arithmetic agrees with Rust's

/// Defines mix(a, b) = (a * 31 + b) ^ (a >> 3) (logical shift, wrapping) for type `ty`.
fn define_mix(jit: &mut Jit, name: &str, ty: Type) -> Result<tcc_backend::Func> {
    let f = jit.declare(name, &sig(&[ty, ty], &[ty]))?;
    jit.define(f, |fb| {
        let (a, b) = (fb.params()[0], fb.params()[1]);
        let k = fb.iconst(ty, 31);
        let m = fb.ins().imul(a, k);
        let s = fb.ins().iadd(m, b);
        let h = fb.ins().ushr_imm_u(a, 3i64);
        let r = fb.ins().bxor(s, h);
        fb.ret(&[r]);
    })?;
    Ok(f)
}

fn check_mix(opt: OptLevel) -> Result<()> {
    let mut jit = JitBuilder::new().opt_level(opt).verify(true).build()?;
    let m32 = define_mix(&mut jit, "mix32", I32)?;
    let m64 = define_mix(&mut jit, "mix64", I64)?;
    jit.finalize()?;
    // SAFETY: `mix32` has Sig (i32, i32) -> i32 (u32 shares its C ABI), `mix64` (i64, i64) ->
    // i64; neither touches memory; `jit` lives until the end of this function.
    let (m32, m64) = unsafe {
        (
            transmute::<*const u8, extern "C" fn(u32, u32) -> u32>(jit.function_ptr(m32)?),
            transmute::<*const u8, extern "C" fn(u64, u64) -> u64>(jit.function_ptr(m64)?),
        )
    };
    let mut runner = TestRunner::new(Config::with_cases(512));
    runner
        .run(&(any::<u32>(), any::<u32>()), |(a, b)| {
            prop_assert_eq!(m32(a, b), a.wrapping_mul(31).wrapping_add(b) ^ (a >> 3));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("mix32 at {opt:?}: {e}"));
    runner
        .run(&(any::<u64>(), any::<u64>()), |(a, b)| {
            prop_assert_eq!(m64(a, b), a.wrapping_mul(31).wrapping_add(b) ^ (a >> 3));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("mix64 at {opt:?}: {e}"));
    Ok(())
}

#[test]
fn mix_agrees_with_rust_without_optimisation() -> Result<()> {
    check_mix(OptLevel::None)
}

#[test]
fn mix_agrees_with_rust_optimised() -> Result<()> {
    check_mix(OptLevel::Speed)?;
    check_mix(OptLevel::SpeedAndSize)
}

// ---------------------------------------------------------------------------------------------
// Inlining

/// A small callee that reads its own data object, inlined into a caller that first declares
/// other names (a function and another data object): the inlined symbol must still be the
/// callee's data (Cranelift's inliner copies symbols by an index into the wrong table unless
/// the crate spells them out), and the inlining shows in the statistics.
#[test]
fn inlined_callees_keep_their_data_and_function_references() -> Result<()> {
    let mut jit = JitBuilder::new().verify(true).inline_limit(40).build()?;
    let cell = |jit: &mut Jit, name: &str, v: u64| {
        jit.data(
            name,
            DataSpec {
                bytes: v.to_ne_bytes().to_vec(),
                align: 8,
                writable: true,
                function_addrs: vec![],
                data_addrs: vec![],
            },
        )
    };
    let a = cell(&mut jit, "a", 1000)?;
    let b = cell(&mut jit, "b", 7)?;
    let seven = jit.declare("seven", &sig(&[], &[I64]))?;
    jit.define(seven, |fb| {
        let v = fb.iconst(I64, 7);
        fb.ret(&[v]);
    })?;
    // read_b() = *b + seven()
    let read_b = jit.declare("read_b", &sig(&[], &[I64]))?;
    jit.define(read_b, |fb| {
        let p = fb.data_addr(b);
        let v = fb.load(I64, p, 0);
        let s = fb.call(seven, &[])[0];
        let r = fb.ins().iadd(v, s);
        fb.ret(&[r]);
    })?;
    // caller() = *a + seven() + read_b(): its own table names `seven` and `a` first.
    let caller = jit.declare("caller", &sig(&[], &[I64]))?;
    jit.define(caller, |fb| {
        let s = fb.call(seven, &[])[0];
        let p = fb.data_addr(a);
        let v = fb.load(I64, p, 0);
        let x = fb.call(read_b, &[])[0];
        let r = fb.ins().iadd(v, s);
        let r = fb.ins().iadd(r, x);
        fb.ret(&[r]);
    })?;
    jit.finalize()?;
    // SAFETY: `caller` has Sig () -> i64 and reads only data `jit` owns.
    let f = unsafe { transmute::<*const u8, extern "C" fn() -> i64>(jit.function_ptr(caller)?) };
    assert_eq!(f(), 1000 + 7 + (7 + 7));
    assert!(jit.stats().inlined_instructions > 0, "{:?}", jit.stats());
    Ok(())
}

/// `finalize_roots` compiles what the roots reach: a callee inlined into its only caller is
/// not compiled, one still called is, and a function nothing reaches waits.
#[test]
fn finalize_roots_compiles_only_what_the_roots_reach() -> Result<()> {
    let mut jit = JitBuilder::new().verify(true).inline_limit(10).build()?;
    let small = jit.declare("small", &sig(&[I64], &[I64]))?;
    jit.define(small, |fb| {
        let x = fb.params()[0];
        let y = fb.ins().iadd_imm_s(x, 1i64);
        fb.ret(&[y]);
    })?;
    let big = jit.declare("big", &sig(&[I64], &[I64]))?;
    jit.define(big, |fb| {
        let mut x = fb.params()[0];
        for k in 0..20i64 {
            x = fb.ins().imul_imm_s(x, 3i64);
            x = fb.ins().iadd_imm_s(x, k);
        }
        fb.ret(&[x]);
    })?;
    let root = jit.declare("root", &sig(&[I64], &[I64]))?;
    jit.define(root, |fb| {
        let x = fb.params()[0];
        let a = fb.call(small, &[x])[0];
        let b = fb.call(big, &[a])[0];
        fb.ret(&[b]);
    })?;
    let unreached = jit.declare("unreached", &sig(&[], &[]))?;
    jit.define(unreached, |fb| fb.ret(&[]))?;
    jit.finalize_roots(&[root])?;
    assert_eq!(jit.stats().functions, 2, "root and big: {:?}", jit.stats());
    assert!(matches!(
        jit.function_ptr(small),
        Err(Error::NotFinalized(_))
    ));
    assert!(matches!(
        jit.function_ptr(unreached),
        Err(Error::NotFinalized(_))
    ));
    // SAFETY: `root` has Sig (i64) -> i64 and touches no memory.
    let f = unsafe { transmute::<*const u8, extern "C" fn(i64) -> i64>(jit.function_ptr(root)?) };
    let want = (0..20i64).fold(5i64 + 1, |x, k| x.wrapping_mul(3).wrapping_add(k));
    assert_eq!(f(5), want);
    // A later finalization compiles the rest.
    jit.finalize()?;
    assert_eq!(jit.stats().functions, 4);
    assert!(jit.function_ptr(unreached).is_ok());
    Ok(())
}
