//! Tests of the parent module.
use super::super::print::tests::*;
use super::super::*;
use super::verify;

type Mutation<'a> = &'a dyn Fn(&mut Program);

/// `invariant! { name, n, [mutations] }`: a test that each mutation makes `n` fire.
macro_rules! invariant {
    ($name:ident, $n:expr, [$($case:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            fires($n, &[$(&$case),+]);
        }
    };
}

/// Asserts that each mutation of the (valid) sample makes invariant `n` fire.
fn fires(n: u8, mutations: &[Mutation<'_>]) {
    for (i, mutate) in mutations.iter().enumerate() {
        let mut p = sample();
        mutate(&mut p);
        let errors = verify(&p).err().unwrap_or_default();
        assert!(
            errors.iter().any(|e| e.invariant == n),
            "case {i}: {errors:#?}"
        );
    }
}

fn body(p: &mut Program, m: u32) -> &mut Body {
    p.methods[fm(m)]
        .body
        .as_mut()
        .expect("sample method has a body")
}

fn e(i: u32) -> ExprId {
    ExprId::from_u32(i)
}

/// Node `n` of method `m` (see the sample's construction for the numbering).
fn at(p: &mut Program, m: u32, n: u32) -> &mut Expr {
    &mut body(p, m).exprs[e(n)]
}

fn retype(m: u32, n: u32, ty: u32) -> impl Fn(&mut Program) {
    move |p| at(p, m, n).ty = t(ty)
}

fn rekind(m: u32, n: u32, kind: ExprKind) -> impl Fn(&mut Program) {
    move |p| at(p, m, n).kind = kind.clone()
}

fn new_body(kind: ExprKind, ty: u32) -> impl Fn(&mut Program) {
    move |p| p.methods[fm(6)].body = B::new(&[]).done_with(kind.clone(), t(ty))
}

/// Edits the substitutions of fn2's host block.
fn host(edit: impl Fn(&mut Vec<HostSubst>)) -> impl Fn(&mut Program) {
    move |p| {
        if let ExprKind::Host { subst, .. } = &mut at(p, 2, 6).kind {
            edit(subst);
        }
    }
}

#[test]
fn the_sample_verifies() {
    assert_eq!(verify(&sample()), Ok(()));
    super::verify_in_debug(&sample());
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "IR verification failed")]
fn verify_in_debug_panics() {
    let mut p = sample();
    p.methods[fm(1)].inline = 9;
    super::verify_in_debug(&p);
}

#[test]
fn errors_name_the_method_and_node() {
    let mut p = sample();
    retype(1, 2, I32)(&mut p);
    let errors = verify(&p).expect_err("broken");
    let text = errors[0].to_string();
    assert!(
        text.starts_with("invariant 17: fn1 \"reply\": e2 (binary): "),
        "{text}"
    );
}

#[test]
fn invariant_numbers_match_the_documentation() {
    let doc = include_str!("../verify.rs");
    for n in 1..=23 {
        assert!(
            doc.contains(&format!("//! {n}. **")),
            "invariant {n} undocumented"
        );
    }
    assert!(!doc.contains(&format!("//! {}. ", 24)));
}

invariant! { ids_exist, 1, [
    |p| p.modules[m(0)].fields.push(f(9)),
    |p| p.exports.push(fm(40)),
    |p| {
        p.types.intern(TypeKind::Module(m(7)));
    },
    |p| p.methods[fm(2)].raises.push(x(5)),
    rekind(1, 0, ExprKind::Local(v(8))),
    retype(1, 3, 99),
    |p| body(p, 1).root = Some(e(77)),
    host(|s| s[2].target = HostRef::Local(v(9))),
] }

invariant! { types_are_finite, 2, [
    |p| {
        p.types.intern(TypeKind::Ptr(t(19)));
    },
    |p| {
        p.types.intern(TypeKind::Array(t(VOID), 3));
    },
] }

invariant! { parents_are_acyclic, 3, [|p| p.modules[m(0)].parent = Some(m(1))] }

invariant! { fields_belong_to_their_owner, 4, [
    |p| p.fields[f(3)].owner = m(0),
    |p| p.modules[m(1)].fields.push(f(0)),
] }

invariant! { vtable_entries_are_sound, 5, [
    |p| p.modules[m(0)].vtable.reverse(),
    |p| p.modules[m(0)].vtable[0].1 = fm(3), // an override from below
    |p| p.modules[m(0)].vtable[1].1 = fm(6), // a static method
] }

invariant! { vtables_are_complete, 6, [
    |p| p.modules[m(1)].vtable.truncate(1),
    |p| {
        p.selectors.push(Selector { name: "idle".into(), origin: m(1) });
    },
] }

invariant! { constructors, 7, [
    |p| p.modules[m(0)].constructor = Some(fm(4)),
    |p| p.modules[m(1)].constructor = Some(fm(6)),
] }

invariant! { value_types, 8, [
    |p| p.fields[f(0)].ty = t(VOID),
    |p| body(p, 6).locals[v(0)].ty = t(NEVER),
] }

invariant! { exports_are_unique, 9, [|p| p.exports.push(fm(1))] }

invariant! { method_attributes, 10, [
    |p| p.methods[fm(6)].raises = vec![x(1), x(0)],
    |p| p.methods[fm(1)].raises.push(x(0)),
    |p| p.methods[fm(2)].inline = 4,
    |p| p.methods[fm(5)].body = Some(Body::default()),
] }

invariant! { selectors_are_consistent, 11, [
    |p| p.selectors[sel(0)].origin = m(1),
    |p| p.methods[fm(3)].ret = t(BOOL),
] }

invariant! { receiver_and_parameters, 12, [
    |p| body(p, 1).locals[v(0)].ty = t(M1P),
    |p| body(p, 1).locals[v(1)].ty = t(I64),
    |p| p.methods[fm(6)].params.push(t(I32)),
] }

invariant! { bodies_are_trees, 13, [
    |p| body(p, 6).root = None,
    |p| {
        body(p, 1).push(ExprKind::Zero, t(I32), Default::default());
    },
    rekind(1, 9, ExprKind::Seq(vec![e(0), e(0)])), // shared; the rest unreachable
    rekind(1, 0, ExprKind::Deref(e(9))),            // a cycle through the root
] }

invariant! { the_value_fits, 14, [|p| p.methods[fm(6)].ret = t(BOOL)] }

invariant! { constants, 15, [
    rekind(0, 9, ExprKind::Const(Const(1 << 40))),
    retype(6, 46, U8), // -1 as u8
    retype(6, 29, I32P),
    new_body(ExprKind::Zero, VOID),
    new_body(ExprKind::Const(Const(0)), M0),
] }

invariant! { places, 16, [
    retype(1, 0, I64),
    |p| p.fields[f(0)].is_static = true,
    |p| p.fields[f(2)].is_static = false,
    rekind(1, 6, ExprKind::AddrOf(e(5))), // a field of a non-place
    retype(0, 10, I64),                    // index
    retype(6, 7, BOOL),                    // an index that is no integer
    retype(6, 9, 4),                       // addr
    retype(4, 5, M0),                      // deref
] }

invariant! { operators, 17, [
    retype(1, 2, I32), // lt
    retype(1, 1, I64), // lt of i32 and i64
    retype(6, 19, I32), // ptr_diff
    retype(6, 25, I64), // neg
    rekind(6, 36, ExprKind::Unary(UnOp::Neg, e(35))), // neg of bool
    rekind(2, 5, ExprKind::Binary(BinOp::PtrAdd, e(3), e(4))),
] }

invariant! { conversions, 18, [
    retype(0, 5, I32), // to_void
    retype(3, 4, I32), // ptr
    retype(6, 2, 4),   // decay to the wrong pointer
    retype(6, 42, BOOL), // from_bool
    retype(6, 44, I32),  // to_bool
    retype(6, 26, 4),    // int
] }

invariant! { assignments, 19, [
    retype(0, 11, I64),
    retype(6, 14, I32),
    rekind(6, 27, ExprKind::Update {
        place: e(22), op: BinOp::Lt, value: e(26), yields: Yields::New,
    }),
    rekind(0, 2, ExprKind::AddrOf(e(1))),
] }

fn call(callee: Callee, args: Vec<ExprId>, inline: Option<u8>) -> ExprKind {
    ExprKind::Call {
        callee,
        args,
        inline,
    }
}

invariant! { calls, 20, [
    rekind(4, 3, call(Callee::Direct(fm(0)), vec![e(1), e(2)], Some(4))), // inline level
    rekind(3, 1, call(Callee::Virtual(sel(0)), vec![e(0)], None)),     // `reply` takes an i32
    rekind(4, 3, call(Callee::Direct(fm(0)), vec![e(2), e(1)], None)), // receiver swapped
    retype(3, 1, I32),
    |p| {
        p.modules[m(1)].parent = None;
        p.modules[m(1)].vtable.retain(|e| e.0 != sel(1));
    },
    retype(6, 32, BOOL),
] }

invariant! { control, 21, [
    retype(1, 2, I32),
    retype(1, 3, I32P),
    retype(6, 39, I32),
    rekind(3, 7, ExprKind::Cold { level: 11, expr: e(6) }),
    retype(6, 41, I32),
    rekind(6, 35, ExprKind::Catch { body: e(34), handles: Handles::Only(vec![x(0), x(0)]) }),
    new_body(ExprKind::Seq(Vec::new()), I32),
    retype(0, 14, I32),
] }

invariant! { loops, 22, [
    retype(2, 10, I32),
    rekind(2, 12, ExprKind::Seq(vec![e(11)])),
    rekind(2, 12, ExprKind::Loop { vars: vec![v(1), v(0)], body: e(11) }),
    rekind(2, 12, ExprKind::Loop { vars: vec![v(0)], body: e(11) }),
    rekind(2, 12, ExprKind::Loop { vars: vec![v(1), v(1)], body: e(11) }),
    retype(2, 12, I32),
] }

invariant! { host_blocks, 23, [
    retype(2, 6, I32),
    host(|s| s[0].range = 3..4), // inside `é`
    host(|s| s.swap(0, 1)),
    host(|s| s[4].range = 36..99),
    host(|s| s[1].target = HostRef::Field(f(2))),
    host(|s| s[4].target = HostRef::Const(Const(1 << 33), t(I32))),
    |p| p.methods[fm(2)].kind = MethodKind::Static,
] }
