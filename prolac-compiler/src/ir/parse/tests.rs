//! Tests of the IR text parser: round trips, error positions, escapes.
use super::super::print::tests::{B, I32, sample, t};
use super::super::{print, verify::verify, *};
use super::program as parse;

fn round_trip(p: &Program) -> Program {
    let text = print::program(p);
    let q = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(print::program(&q), text);
    q
}

fn id(i: u32) -> ExprId {
    ExprId::from_u32(i)
}

#[test]
fn the_sample_round_trips_exactly() {
    let p = sample();
    let q = round_trip(&p);
    assert_eq!(q.methods, p.methods, "bodies come back node for node");
    assert_eq!((&q.modules, &q.fields), (&p.modules, &p.fields));
    assert_eq!((&q.exceptions, &q.selectors), (&p.exceptions, &p.selectors));
    assert_eq!((&q.exports, &q.support), (&p.exports, &p.support));
    assert!(q.types.iter().eq(p.types.iter()));
    assert_eq!(verify(&q), Ok(()));
}

#[test]
fn other_numberings_come_back_in_post_order() {
    let mut b = B::new(&[]); // the root first, then its operands: not canonical
    b.e(ExprKind::Binary(BinOp::Add, id(1), id(2)), t(I32));
    b.e(ExprKind::Const(Const(1)), t(I32));
    b.e(ExprKind::Const(Const(2)), t(I32));
    let mut p = sample();
    p.methods[MethodId::from_u32(6)].body = b.done(id(0));
    assert_eq!(verify(&p), Ok(()));
    let q = round_trip(&p);
    let body = q.methods[MethodId::from_u32(6)]
        .body
        .as_ref()
        .expect("body");
    assert_eq!(body.root, Some(id(2)));
    assert_eq!(
        body.exprs[id(2)].kind,
        ExprKind::Binary(BinOp::Add, id(0), id(1))
    );
    assert_eq!(verify(&q), Ok(()));
}

#[test]
fn any_text_and_bytes_survive() {
    let mut p = sample();
    let chars = (0..0x250u32).chain([0x2028, 0xfeff, 0x10ffff]);
    let weird: String = chars.filter_map(char::from_u32).collect();
    p.modules[ModuleId::from_u32(0)].name = weird.clone();
    p.support[1].text = weird.clone();
    let mut b = B::new(&[]);
    let s = b.e(ExprKind::Str((0..=255).collect()), t(4));
    let h = b.e(
        ExprKind::Host {
            text: weird.clone(),
            subst: Vec::new(),
        },
        t(1),
    );
    let a = b.e(ExprKind::Abort(weird), t(I32));
    let root = b.e(ExprKind::Seq(vec![s, h, a]), t(I32));
    p.methods[MethodId::from_u32(6)].body = b.done(root);
    let q = round_trip(&p);
    assert_eq!(
        (q.methods, q.modules, q.support),
        (p.methods, p.modules, p.support)
    );
}

#[test]
fn every_operator_conversion_and_callee_round_trips() {
    use print::{BIN_OPS, CONVS, UN_OPS};
    let mut b = B::new(&[]);
    let mut items = Vec::new();
    for &(op, _) in &BIN_OPS {
        let (l, r) = (b.e(ExprKind::Zero, t(I32)), b.e(ExprKind::Zero, t(I32)));
        items.push(b.e(ExprKind::Binary(op, l, r), t(I32)));
        for yields in [Yields::New, Yields::Old] {
            let (place, value) = (b.e(ExprKind::Zero, t(I32)), b.e(ExprKind::Zero, t(I32)));
            items.push(b.e(
                ExprKind::Update {
                    place,
                    op,
                    value,
                    yields,
                },
                t(I32),
            ));
        }
    }
    for &(op, _) in &UN_OPS {
        let a = b.e(ExprKind::Zero, t(I32));
        items.push(b.e(ExprKind::Unary(op, a), t(I32)));
    }
    for &(conv, _) in &CONVS {
        let a = b.e(ExprKind::Zero, t(I32));
        items.push(b.e(ExprKind::Convert(conv, a), t(I32)));
    }
    for callee in [
        Callee::Direct(MethodId::from_u32(5)),
        Callee::Virtual(SelectorId::from_u32(1)),
    ] {
        for inline in [None, Some(0), Some(3), Some(255)] {
            items.push(b.e(
                ExprKind::Call {
                    callee,
                    args: Vec::new(),
                    inline,
                },
                t(I32),
            ));
        }
    }
    let handles = Handles::Only(Vec::new());
    let z = b.e(ExprKind::Zero, t(I32));
    items.push(b.e(ExprKind::Catch { body: z, handles }, t(1)));
    let z = b.e(ExprKind::Zero, t(I32));
    items.push(b.e(
        ExprKind::Loop {
            vars: Vec::new(),
            body: z,
        },
        t(I32),
    ));
    items.push(b.e(ExprKind::Recur(Vec::new()), t(11)));
    let root = b.e(ExprKind::Seq(items), t(I32));
    let mut p = sample();
    p.methods[MethodId::from_u32(6)].body = b.done(root);
    p.methods[MethodId::from_u32(6)].kind = MethodKind::Extern {
        link_name: "\"".into(),
    };
    assert_eq!(round_trip(&p).methods, p.methods);
}

/// A program whose only method's signature is `sig` and whose body lines follow it.
fn program_with(sig: &str, body: &str) -> String {
    let head = "t0 = void\nt1 = bool\nm0 \"M\" fields vtable\nfn0 \"f\" owner m0";
    format!("{head} {sig}{body}")
}

const SIG: &str = "static params () ret t0 inline 0 raises () written";

/// Line 5 holds the root.
fn with_root(root: &str) -> String {
    program_with(SIG, &format!(" {{\n  root {root}\n}}\n"))
}

fn rejects(text: &str, line: usize, message: &str) {
    let Err(e) = parse(text) else {
        panic!("accepted:\n{text}")
    };
    assert!(
        e.line == line && e.message.contains(message),
        "{e} for\n{text}"
    );
    assert_eq!(e.to_string(), format!("line {line}: {}", e.message));
}

#[test]
fn malformed_text_is_rejected_with_its_line() {
    for (text, line, message) in [
        ("t0 = void\nt1 = wat\n", 2, "unknown type"),
        ("; comment\n\nt1 = void\n", 3, "out of order"),
        ("t0 = void\nt1 = void\n", 2, "duplicate type"),
        ("t4294967295 = void\n", 1, "bad id"),
        ("bogus\n", 1, "unknown declaration"),
        ("{\n", 1, "expected a declaration"),
        ("m0 \"A\" fields vtable sel0\n", 1, "found `sel0`"),
        ("m0 \"A\" fields vtable constructor\n", 1, "`fn` id"),
        ("f0 \"x\" owner m0 type t0 pinned\n", 1, "an offset"),
        ("x0 \"unterminated\n", 1, "unterminated string"),
        ("support prologue \"\\q\"\n", 1, "unknown escape"),
        ("support prologue \"\\u{110000}\"\n", 1, "\\u{…}"),
        ("support prologue \"\\x4\"\n", 1, "\\x"),
        ("support prologue \"\\xff\"\n", 1, "not UTF-8"),
        ("support middle \"\"\n", 1, "a place"),
        ("exports fn1 m0\n", 1, "end of line"),
        ("sel0 \"s\" origin\n", 1, "`m` id"),
        ("\n)\n", 2, "unmatched ')'"),
    ] {
        rejects(text, line, message);
    }
    for (body, line, message) in [
        (" {\n  v0 \"a\" t0\n", 4, "not closed"),
        (" {\n  v1 \"a\" t0\n}\n", 5, "out of order"),
        (" {\n  unreachable e3\n}\n", 5, "unreachable"),
        (
            " {\n  root (zero:t0)\n  root (zero:t0)\n}\n",
            6,
            "after the root",
        ),
        (" {}\n", 4, "end of line"),
    ] {
        rejects(&program_with(SIG, body), line, message);
    }
    for (sig, message) in [
        (
            "dyn params () ret t0 inline 0 raises () written",
            "method kind",
        ),
        ("static params (t0 m0) ret t0", "`t` id or ')'"),
        (
            "static params () ret t0 inline 0 raises () later",
            "provenance",
        ),
    ] {
        rejects(&program_with(sig, ""), 4, message);
    }
    for (root, line, message) in [
        ("(const:t0)", 5, "a constant"),
        ("(const:t0 1x)", 5, "a constant"),
        ("(const:t0 --1)", 5, "a constant"),
        ("(seq:t0\n  (zero:t0)", 5, "unclosed '('"),
        ("(if:t0 (zero:t1))", 5, "takes 2 operand(s), found 1"),
        ("(deref:t0)", 5, "takes 1 operand(s), found 0"),
        ("(binary:t1 frob (zero:t0) (zero:t0))", 5, "an operator"),
        ("(seq:t0 (zero:t0) extra)", 5, "attribute after operand"),
        ("(seq:t0\n\n  (shared e5))", 7, "only trees"),
        ("(zero:t0) (zero:t0)", 5, "after the expression"),
        ("zero:t0", 5, "expected '('"),
        ("(zero)", 5, "`kind:type`"),
        ("(zero:x0)", 5, "`kind:type`"),
        ("(frob:t0)", 5, "unknown expression kind"),
        (
            "(call:t0 indirect fn0 inline 0)",
            5,
            "`direct` or `virtual`",
        ),
        ("(call:t0 direct fn0 inline 256)", 5, "inline level"),
        ("(catch:t1 some (zero:t0))", 5, "`all` or `only`"),
        ("(host:t1 \"x\" 0..1=frob)", 5, "end of line"),
        (
            "(update:t0 add newer (zero:t0) (zero:t0))",
            5,
            "`new` or `old`",
        ),
        ("", 5, "incomplete expression"),
        ("(zero:t0 {)", 5, "brace"),
    ] {
        rejects(&with_root(root), line, message);
    }
}

#[test]
fn every_prefix_parses_or_fails_without_panicking() {
    let text = print::program(&sample());
    for (i, _) in text.char_indices() {
        if let Ok(q) = parse(&text[..i]) {
            // Whatever a prefix means, it prints and parses back to the same text.
            let again = print::program(&q);
            assert_eq!(parse(&again).map(|r| print::program(&r)), Ok(again));
        }
    }
}

#[test]
fn mutations_never_panic() {
    let text: Vec<char> = print::program(&sample()).chars().collect();
    let alphabet: Vec<char> = "()\"\\{}\n :=.-0189tvefnxsel;éu".chars().collect();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..3000 {
        let mut t = text.clone();
        for _ in 0..1 + next(3) {
            let (at, c) = (next(t.len()), alphabet[next(alphabet.len())]);
            match next(3) {
                0 => drop(t.remove(at)),
                1 => t[at] = c,
                _ => t.insert(at, c),
            }
        }
        if let Ok(q) = parse(&t.into_iter().collect::<String>()) {
            let _ = verify(&q); // nor may the verifier panic on parsed nonsense
        }
    }
}

#[test]
fn deep_nesting_needs_no_deep_stack() {
    let depth = 50_000;
    let root = format!(
        "{}(zero:t1){}",
        "(cold:t1 1 ".repeat(depth),
        ")".repeat(depth)
    );
    let q = parse(&with_root(&root)).expect("deep text parses");
    let body = q.methods[MethodId::from_u32(0)]
        .body
        .as_ref()
        .expect("body");
    assert_eq!(
        (body.exprs.len(), body.root),
        (depth + 1, Some(id(depth as u32)))
    );
    assert_eq!(verify(&q), Ok(()));
    round_trip(&q);
}
