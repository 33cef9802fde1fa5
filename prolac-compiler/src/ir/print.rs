//! The IR's text form: a deterministic, line-oriented listing of a whole [`Program`].
//!
//! [`program`] prints everything; [`parse::program`](super::parse::program) reads it back, and
//! `print(parse(print(p))) == print(p)` for every program whose bodies are trees (which
//! [`verify`](super::verify) checks). Spans are not printed.
//!
//! # Format
//!
//! One declaration per line, sections separated by blank lines; `;` starts a comment. Every
//! entity is introduced by its id, and ids of one kind appear densely, in order:
//!
//! ```text
//! t0 = void                  ; also bool seqint never i8..i64 u8..u64
//! t4 = ptr t3                ;      array t2 4, module m0
//! m1 "Ping.Peer" parent m0 fields f3 vtable sel0=fn3 sel1=fn2 constructor fn4
//! f1 "buf" owner m0 type t9 static pinned 8
//! x0 "Ping.bad" owner m0
//! sel0 "reply" origin m0
//! exports fn6 fn1
//! support prologue "use std::io;\n"
//! fn5 "putc" owner m0 extern "putchar" params (t2) ret t2 inline 0 raises () written
//! fn1 "reply" owner m0 dynamic sel0 params (t2) ret t2 inline 0 raises (x0) written {
//!   v0 "self" t6
//!   v1 "x" t2
//!   root (if:t2
//!     (binary:t1 lt (local:t2 v1) (const:t2 0))
//!     (raise:t11 x0)
//!     (binary:t2 add (local:t2 v1) (field:t2 f0 (deref:t5 (local:t6 v0)))))
//! }
//! ```
//!
//! Method kinds are `static`, `dynamic selN`, `constructor` and `extern "link"`; provenances
//! `written`, `synthesised` and `forwarder`. A method with a body ends its line with `{`; the
//! body lists its locals, then `root` and the expression tree, then `}` on a line of its own.
//!
//! Expressions are S-expressions `(kind:type attributes… operands…)`; attributes are atoms or
//! strings and always precede the operands, which are themselves expressions, in evaluation
//! order. Newlines inside parentheses are insignificant; a node that does not fit
//! in the line width is broken with one operand per line (indentation stops growing at column
//! 60). The kinds and their attributes:
//! `const N` (the 64 bits, printed as an `i64` when the top bit is set), `str "bytes"`, `zero`,
//! `local vN`, `field fN`, `static fN`, `deref`, `index`, `addr`, `binary OP`, `unary OP`,
//! `convert CONV`, `assign`, `update OP new|old`, `call direct fnN [inline N]`,
//! `call virtual selN [inline N]`, `seq`, `if` (two or three operands), `loop vA vB…`, `recur`,
//! `raise xN`, `catch all`, `catch only xA xB…`, `host "text" SUBST…`, `abort "name"` and
//! `cold N`. A host substitution is `LO..HI=self`, `=field:fN`, `=static:fN`, `=local:vN` or
//! `=const:N:tN`.
//!
//! Strings are printed in double quotes with only printable ASCII verbatim: `\"`, `\\`, `\n`,
//! `\t`, `\r`, then `\u{…}` for other characters of text and `\xNN` for other bytes of
//! [`ExprKind::Str`] literals, so any content survives and the output is pure ASCII.
//!
//! # Canonical numbering
//!
//! Node ids are not printed. The parser numbers a body's nodes in *post-order* (operands left
//! to right, then the node itself), so the root is the last node; a body built bottom-up in that
//! order parses back with identical ids. A body that is not a tree is still printed, for
//! diagnosis, with `(invalid eN)`, `(shared eN)` and an `unreachable eN…` line marking the
//! problems; the parser rejects those.

use std::fmt::Write as _;

use cranelift_entity::EntityRef;

use super::{
    BinOp, Body, Callee, Const, ConvKind, Expr, ExprId, ExprKind, Handles, HostRef, HostSubst,
    IntWidth, Method, MethodKind, Program, Provenance, TypeKind, UnOp, Yields,
};

/// The line width beyond which an expression is broken over several lines.
const WIDTH: usize = 100;

/// The deepest indentation; deeper operands line up there (keeps output linear in size).
const MAX_INDENT: usize = 60;

/// Binary operator names.
pub(super) const BIN_OPS: [(BinOp, &str); 20] = [
    (BinOp::Add, "add"),
    (BinOp::Sub, "sub"),
    (BinOp::Mul, "mul"),
    (BinOp::Div, "div"),
    (BinOp::Rem, "rem"),
    (BinOp::Shl, "shl"),
    (BinOp::Shr, "shr"),
    (BinOp::BitAnd, "bit_and"),
    (BinOp::BitOr, "bit_or"),
    (BinOp::BitXor, "bit_xor"),
    (BinOp::Eq, "eq"),
    (BinOp::Ne, "ne"),
    (BinOp::Lt, "lt"),
    (BinOp::Le, "le"),
    (BinOp::Gt, "gt"),
    (BinOp::Ge, "ge"),
    (BinOp::Min, "min"),
    (BinOp::Max, "max"),
    (BinOp::PtrAdd, "ptr_add"),
    (BinOp::PtrDiff, "ptr_diff"),
];

/// Unary operator names.
pub(super) const UN_OPS: [(UnOp, &str); 3] = [
    (UnOp::Neg, "neg"),
    (UnOp::BitNot, "bit_not"),
    (UnOp::Not, "not"),
];

/// Conversion names.
pub(super) const CONVS: [(ConvKind, &str); 6] = [
    (ConvKind::Int, "int"),
    (ConvKind::ToBool, "to_bool"),
    (ConvKind::FromBool, "from_bool"),
    (ConvKind::Ptr, "ptr"),
    (ConvKind::Decay, "decay"),
    (ConvKind::ToVoid, "to_void"),
];

/// Integer type names.
pub(super) const INTS: [((IntWidth, bool), &str); 8] = [
    ((IntWidth::W8, true), "i8"),
    ((IntWidth::W16, true), "i16"),
    ((IntWidth::W32, true), "i32"),
    ((IntWidth::W64, true), "i64"),
    ((IntWidth::W8, false), "u8"),
    ((IntWidth::W16, false), "u16"),
    ((IntWidth::W32, false), "u32"),
    ((IntWidth::W64, false), "u64"),
];

/// Provenance names.
pub(super) const PROVENANCES: [(Provenance, &str); 3] = [
    (Provenance::Written, "written"),
    (Provenance::SynthesisedConstructor, "synthesised"),
    (Provenance::Forwarder, "forwarder"),
];

/// Looks a name up in one of the tables above (they are complete).
pub(super) fn name<T: PartialEq + Copy>(table: &[(T, &'static str)], x: T) -> &'static str {
    table.iter().find(|(k, _)| *k == x).map_or("?", |(_, n)| n)
}

/// The name of an expression kind, as printed.
pub(super) fn kind_name(kind: &ExprKind) -> &'static str {
    match kind {
        ExprKind::Const(_) => "const",
        ExprKind::Str(_) => "str",
        ExprKind::Zero => "zero",
        ExprKind::Local(_) => "local",
        ExprKind::Field { .. } => "field",
        ExprKind::Static(_) => "static",
        ExprKind::Deref(_) => "deref",
        ExprKind::Index { .. } => "index",
        ExprKind::AddrOf(_) => "addr",
        ExprKind::Binary(..) => "binary",
        ExprKind::Unary(..) => "unary",
        ExprKind::Convert(..) => "convert",
        ExprKind::Assign { .. } => "assign",
        ExprKind::Update { .. } => "update",
        ExprKind::Call { .. } => "call",
        ExprKind::Seq(_) => "seq",
        ExprKind::If { .. } => "if",
        ExprKind::Loop { .. } => "loop",
        ExprKind::Recur(_) => "recur",
        ExprKind::Raise(_) => "raise",
        ExprKind::Catch { .. } => "catch",
        ExprKind::Host { .. } => "host",
        ExprKind::Abort(_) => "abort",
        ExprKind::Cold { .. } => "cold",
    }
}

/// The operands of a node, in canonical order (the order they are printed and numbered in).
pub(super) fn operands(kind: &ExprKind) -> Vec<ExprId> {
    match kind {
        ExprKind::Const(_)
        | ExprKind::Str(_)
        | ExprKind::Zero
        | ExprKind::Local(_)
        | ExprKind::Static(_)
        | ExprKind::Raise(_)
        | ExprKind::Host { .. }
        | ExprKind::Abort(_) => Vec::new(),
        ExprKind::Field { object: e, .. }
        | ExprKind::Deref(e)
        | ExprKind::AddrOf(e)
        | ExprKind::Unary(_, e)
        | ExprKind::Convert(_, e)
        | ExprKind::Loop { body: e, .. }
        | ExprKind::Catch { body: e, .. }
        | ExprKind::Cold { expr: e, .. } => vec![*e],
        ExprKind::Index { array: a, index: b }
        | ExprKind::Binary(_, a, b)
        | ExprKind::Assign { place: a, value: b }
        | ExprKind::Update {
            place: a, value: b, ..
        } => vec![*a, *b],
        ExprKind::Call { args: v, .. } | ExprKind::Seq(v) | ExprKind::Recur(v) => v.clone(),
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => [Some(*cond), Some(*then), *otherwise]
            .into_iter()
            .flatten()
            .collect(),
    }
}

/// A constant's text: the 64 bits as `u64`, or as `i64` when the top bit is set.
pub(super) fn const_text(c: Const) -> String {
    let signed = c.0 as i64;
    if signed < 0 {
        signed.to_string()
    } else {
        c.0.to_string()
    }
}

/// Quotes text (see the module documentation).
pub(super) fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' '..='~' => out.push(c),
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// Quotes bytes (see the module documentation).
pub(super) fn quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            b' '..=b'~' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

/// A type's text.
fn type_text(kind: TypeKind) -> String {
    match kind {
        TypeKind::Void => "void".into(),
        TypeKind::Bool => "bool".into(),
        TypeKind::Int { width, signed } => name(&INTS, (width, signed)).into(),
        TypeKind::SeqInt => "seqint".into(),
        TypeKind::Ptr(t) => format!("ptr {t}"),
        TypeKind::Array(t, n) => format!("array {t} {n}"),
        TypeKind::Module(m) => format!("module {m}"),
        TypeKind::Never => "never".into(),
    }
}

/// Prints a whole program.
pub fn program(p: &Program) -> String {
    let mut sections: Vec<String> = Vec::new();
    let mut s = String::new();
    for (id, kind) in p.types.iter() {
        let _ = writeln!(s, "{id} = {}", type_text(kind));
    }
    sections.push(std::mem::take(&mut s));
    for (id, m) in p.modules.iter() {
        let _ = write!(s, "{id} {}", quote(&m.name));
        if let Some(parent) = m.parent {
            let _ = write!(s, " parent {parent}");
        }
        s.push_str(" fields");
        for f in &m.fields {
            let _ = write!(s, " {f}");
        }
        s.push_str(" vtable");
        for (sel, method) in &m.vtable {
            let _ = write!(s, " {sel}={method}");
        }
        if let Some(c) = m.constructor {
            let _ = write!(s, " constructor {c}");
        }
        s.push('\n');
    }
    sections.push(std::mem::take(&mut s));
    for (id, f) in p.fields.iter() {
        let _ = write!(s, "{id} {} owner {} type {}", quote(&f.name), f.owner, f.ty);
        if f.is_static {
            s.push_str(" static");
        }
        if let Some(at) = f.pinned {
            let _ = write!(s, " pinned {at}");
        }
        s.push('\n');
    }
    sections.push(std::mem::take(&mut s));
    for (id, x) in p.exceptions.iter() {
        let _ = writeln!(s, "{id} {} owner {}", quote(&x.name), x.owner);
    }
    sections.push(std::mem::take(&mut s));
    for (id, sel) in p.selectors.iter() {
        let _ = writeln!(s, "{id} {} origin {}", quote(&sel.name), sel.origin);
    }
    sections.push(std::mem::take(&mut s));
    if !p.exports.is_empty() {
        s.push_str("exports");
        for m in &p.exports {
            let _ = write!(s, " {m}");
        }
        s.push('\n');
    }
    for (name, m) in &p.aliases {
        let _ = writeln!(s, "alias {} {m}", quote(name));
    }
    for sup in &p.support {
        let which = if sup.prologue { "prologue" } else { "epilogue" };
        let _ = writeln!(s, "support {which} {}", quote(&sup.text));
    }
    sections.push(std::mem::take(&mut s));
    for (id, m) in p.methods.iter() {
        sections.push(method(p, id, m));
    }
    sections.retain(|s| !s.is_empty());
    sections.join("\n")
}

/// Prints one method: its signature line and its body.
fn method(p: &Program, id: super::MethodId, m: &Method) -> String {
    let kind = match &m.kind {
        MethodKind::Static => "static".to_string(),
        MethodKind::Dynamic(sel) => format!("dynamic {sel}"),
        MethodKind::Constructor => "constructor".to_string(),
        MethodKind::Extern { link_name } => format!("extern {}", quote(link_name)),
    };
    let list = |ids: Vec<String>| ids.join(" ");
    let mut s = format!(
        "{id} {} owner {} {kind} params ({}) ret {} inline {} raises ({}) {}",
        quote(&m.name),
        m.owner,
        list(m.params.iter().map(ToString::to_string).collect()),
        m.ret,
        m.inline,
        list(m.raises.iter().map(ToString::to_string).collect()),
        name(&PROVENANCES, m.provenance),
    );
    match &m.body {
        Some(b) => {
            s.push_str(" {\n");
            s.push_str(&body(p, b));
            s.push_str("}\n");
        }
        None => s.push('\n'),
    }
    s
}

/// Prints one body: its locals, one per line, then its expression tree (indented by two). The
/// program is not needed today (ids are printed, not resolved); it is taken for symmetry with
/// [`program`] and so that annotations can be added without changing callers.
pub fn body(_p: &Program, b: &Body) -> String {
    let mut s = String::new();
    for (id, local) in b.locals.iter() {
        let _ = writeln!(s, "  {id} {} {}", quote(&local.name), local.ty);
    }
    let mut seen = vec![false; b.exprs.len()];
    if let Some(root) = b.root {
        s.push_str("  root ");
        emit(&mut s, &tree(b, root, &mut seen), "  root ".len(), 2);
        s.push('\n');
    }
    let lost: Vec<String> = b
        .exprs
        .keys()
        .filter(|e| !seen[e.index()])
        .map(|e| e.to_string())
        .collect();
    if !lost.is_empty() {
        let _ = writeln!(s, "  unreachable {}", lost.join(" "));
    }
    s
}

/// One node as laid out: its opening text (without the closing parenthesis), its operands
/// (indices into the item list) and its width on one line.
struct Item {
    head: String,
    children: Vec<usize>,
    width: usize,
}

/// The head of a node: `(kind:type attributes…`.
fn head(x: &Expr) -> String {
    let mut s = format!("({}:{}", kind_name(&x.kind), x.ty);
    let _ = match &x.kind {
        ExprKind::Const(c) => write!(s, " {}", const_text(*c)),
        ExprKind::Str(bytes) => write!(s, " {}", quote_bytes(bytes)),
        ExprKind::Local(v) => write!(s, " {v}"),
        ExprKind::Field { field, .. } | ExprKind::Static(field) => write!(s, " {field}"),
        ExprKind::Binary(op, ..) => write!(s, " {}", name(&BIN_OPS, *op)),
        ExprKind::Unary(op, _) => write!(s, " {}", name(&UN_OPS, *op)),
        ExprKind::Convert(k, _) => write!(s, " {}", name(&CONVS, *k)),
        ExprKind::Update { op, yields, .. } => {
            let y = if *yields == Yields::New { "new" } else { "old" };
            write!(s, " {} {y}", name(&BIN_OPS, *op))
        }
        ExprKind::Call { callee, inline, .. } => {
            let _ = match callee {
                Callee::Direct(m) => write!(s, " direct {m}"),
                Callee::Virtual(sel) => write!(s, " virtual {sel}"),
            };
            inline.map_or(Ok(()), |i| write!(s, " inline {i}"))
        }
        ExprKind::Loop { vars, .. } => vars.iter().try_for_each(|v| write!(s, " {v}")),
        ExprKind::Raise(x) => write!(s, " {x}"),
        ExprKind::Catch { handles, .. } => match handles {
            Handles::All => write!(s, " all"),
            Handles::Only(xs) => {
                s.push_str(" only");
                xs.iter().try_for_each(|x| write!(s, " {x}"))
            }
        },
        ExprKind::Host { text, subst } => {
            s.push(' ');
            s.push_str(&quote(text));
            subst
                .iter()
                .try_for_each(|h| write!(s, " {}", subst_text(h)))
        }
        ExprKind::Abort(n) => write!(s, " {}", quote(n)),
        ExprKind::Cold { level, .. } => write!(s, " {level}"),
        ExprKind::Zero
        | ExprKind::Deref(_)
        | ExprKind::Index { .. }
        | ExprKind::AddrOf(_)
        | ExprKind::Assign { .. }
        | ExprKind::Seq(_)
        | ExprKind::If { .. }
        | ExprKind::Recur(_) => Ok(()),
    };
    s
}

/// A host substitution's text: `LO..HI=target`.
fn subst_text(h: &HostSubst) -> String {
    let target = match h.target {
        HostRef::SelfObject => "self".to_string(),
        HostRef::Field(f) => format!("field:{f}"),
        HostRef::Static(f) => format!("static:{f}"),
        HostRef::Local(v) => format!("local:{v}"),
        HostRef::Const(c, t) => format!("const:{}:{t}", const_text(c)),
    };
    format!("{}..{}={target}", h.range.start, h.range.end)
}

/// Lays out the tree under `root` in pre-order, without recursion, marking visited nodes.
fn tree(b: &Body, root: ExprId, seen: &mut [bool]) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut stack = vec![(root, None::<usize>)];
    while let Some((e, parent)) = stack.pop() {
        let index = items.len();
        if let Some(item) = parent.and_then(|p| items.get_mut(p)) {
            item.children.push(index);
        }
        let (head, kids) = match (b.exprs.get(e), seen.get_mut(e.index())) {
            (Some(x), Some(visited)) if !*visited => {
                *visited = true;
                (head(x), operands(&x.kind))
            }
            (Some(_), _) => (format!("(shared {e}"), Vec::new()),
            (None, _) => (format!("(invalid {e}"), Vec::new()),
        };
        items.push(Item {
            head,
            children: Vec::new(),
            width: 0,
        });
        stack.extend(kids.into_iter().rev().map(|k| (k, Some(index))));
    }
    // Operands come after their node in pre-order, so a reverse sweep sizes them first.
    for i in (0..items.len()).rev() {
        let kids: usize = items[i].children.iter().map(|&c| 1 + items[c].width).sum();
        items[i].width = items[i].head.len() + kids + 1;
    }
    items
}

/// Writes laid-out items; the first starts at column `col` on a line indented by `indent`.
fn emit(out: &mut String, items: &[Item], col: usize, indent: usize) {
    enum Task {
        Item(usize, usize, usize, bool),
        Sep(usize, bool),
        Close,
    }
    let mut stack = vec![Task::Item(0, col, indent, false)];
    while let Some(task) = stack.pop() {
        match task {
            Task::Close => out.push(')'),
            Task::Sep(_, true) => out.push(' '),
            Task::Sep(indent, false) => {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
            }
            Task::Item(i, col, indent, flat) => {
                let Some(item) = items.get(i) else { continue };
                out.push_str(&item.head);
                let flat = flat || col + item.width <= WIDTH;
                stack.push(Task::Close);
                let inner = (indent + 2).min(MAX_INDENT);
                for &c in item.children.iter().rev() {
                    stack.push(Task::Item(c, inner, inner, flat));
                    stack.push(Task::Sep(inner, flat));
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! The sample program shared by the IR tests, and the printer's own tests.

    use super::super::*;
    use prolac_syntax::Span;

    /// Builds a body node by node (callers build operands first: canonical post-order).
    pub(crate) struct B(pub(crate) Body);

    impl B {
        pub(crate) fn new(locals: &[(&str, TypeId)]) -> B {
            let mut b = Body::default();
            for (n, t) in locals {
                b.local(*n, *t);
            }
            B(b)
        }
        pub(crate) fn e(&mut self, kind: ExprKind, ty: TypeId) -> ExprId {
            self.0.push(kind, ty, Span::default())
        }
        pub(crate) fn done(mut self, root: ExprId) -> Option<Body> {
            self.0.root = Some(root);
            Some(self.0)
        }
        /// A body of one node.
        pub(crate) fn done_with(mut self, kind: ExprKind, ty: TypeId) -> Option<Body> {
            let root = self.e(kind, ty);
            self.done(root)
        }
        fn n(&mut self, kind: ExprKind, ty: u32) -> ExprId {
            self.e(kind, t(ty))
        }
        fn local(&mut self, i: u32, ty: u32) -> ExprId {
            self.n(ExprKind::Local(v(i)), ty)
        }
        fn num(&mut self, c: u64, ty: u32) -> ExprId {
            self.n(ExprKind::Const(Const(c)), ty)
        }
        fn conv(&mut self, k: ConvKind, e: ExprId, ty: u32) -> ExprId {
            self.n(ExprKind::Convert(k, e), ty)
        }
        fn void(&mut self, e: ExprId) -> ExprId {
            self.conv(ConvKind::ToVoid, e, VOID)
        }
        fn assign(&mut self, place: ExprId, value: ExprId, ty: u32) -> ExprId {
            self.n(ExprKind::Assign { place, value }, ty)
        }
        fn bin(&mut self, op: BinOp, l: ExprId, r: ExprId, ty: u32) -> ExprId {
            self.n(ExprKind::Binary(op, l, r), ty)
        }
        fn call(
            &mut self,
            callee: Callee,
            args: Vec<ExprId>,
            inline: Option<u8>,
            ty: u32,
        ) -> ExprId {
            self.n(
                ExprKind::Call {
                    callee,
                    args,
                    inline,
                },
                ty,
            )
        }
        /// `self->field`: local `v0` of type `ptr`, dereferenced to `module`, then the field.
        fn own(&mut self, ptr: u32, module: u32, field: u32, ty: u32) -> ExprId {
            let s = self.local(0, ptr);
            let object = self.n(ExprKind::Deref(s), module);
            self.n(
                ExprKind::Field {
                    object,
                    field: f(field),
                },
                ty,
            )
        }
    }

    pub(crate) fn t(i: u32) -> TypeId {
        TypeId::from_u32(i)
    }
    pub(crate) fn fm(i: u32) -> MethodId {
        MethodId::from_u32(i)
    }
    pub(crate) fn v(i: u32) -> LocalId {
        LocalId::from_u32(i)
    }
    pub(crate) fn m(i: u32) -> ModuleId {
        ModuleId::from_u32(i)
    }
    pub(crate) fn f(i: u32) -> FieldId {
        FieldId::from_u32(i)
    }
    pub(crate) fn x(i: u32) -> ExceptionId {
        ExceptionId::from_u32(i)
    }
    pub(crate) fn sel(i: u32) -> SelectorId {
        SelectorId::from_u32(i)
    }

    fn method(
        name: &str,
        owner: u32,
        kind: MethodKind,
        sig: (&[u32], u32),
        body: Option<Body>,
    ) -> Method {
        let params = sig.0.iter().map(|&i| t(i)).collect();
        let (inline, raises, provenance, span) =
            (0, Vec::new(), Provenance::Written, Span::default());
        Method {
            name: name.into(),
            owner: m(owner),
            kind,
            params,
            ret: t(sig.1),
            body,
            inline,
            raises,
            provenance,
            span,
        }
    }

    // Type ids of the sample.
    pub(crate) const VOID: u32 = 0;
    pub(crate) const BOOL: u32 = 1;
    pub(crate) const I32: u32 = 2;
    pub(crate) const U8: u32 = 3;
    pub(crate) const M0: u32 = 5;
    pub(crate) const M0P: u32 = 6;
    pub(crate) const M1: u32 = 7;
    pub(crate) const M1P: u32 = 8;
    pub(crate) const ARR: u32 = 9;
    pub(crate) const I32P: u32 = 10;
    pub(crate) const NEVER: u32 = 11;
    pub(crate) const SEQ: u32 = 12;
    pub(crate) const I64: u32 = 13;

    /// A valid program using every expression kind, operator class, conversion, type kind and
    /// method kind. Bodies are built in canonical post-order.
    #[rustfmt::skip]
    pub(crate) fn sample() -> Program {
        use ExprKind as K;
        use IntWidth::{W8, W16, W32, W64};
        let mut p = Program::default();
        let int = |width, signed| TypeKind::Int { width, signed };
        use TypeKind::{Array, Bool, Module as Mod, Never, Ptr, SeqInt, Void};
        for k in [Void, Bool, int(W32, true), int(W8, false), Ptr(t(U8)), Mod(m(0)), Ptr(t(M0)),
            Mod(m(1)), Ptr(t(M1)), Array(t(I32), 4), Ptr(t(I32)), Never, SeqInt, int(W64, true),
            int(W8, true), int(W16, true), int(W16, false), int(W32, false), int(W64, false)]
        {
            p.types.intern(k);
        }
        let span = Span::default();
        let module = |name: &str, parent, fields: &[u32], vt: [(u32, u32); 2], ctor| Module {
            name: name.into(), parent, fields: fields.iter().map(|&i| f(i)).collect(),
            vtable: vt.iter().map(|&(s, me)| (sel(s), fm(me))).collect(),
            constructor: Some(fm(ctor)), span,
        };
        p.modules.push(module("Ping", None, &[0, 1], [(0, 1), (1, 2)], 0));
        p.modules.push(module("Ping.Peer", Some(m(0)), &[3], [(0, 3), (1, 2)], 4));
        for (name, owner, ty, is_static, pinned) in [("count", 0, I32, false, None),
            ("buf", 0, ARR, false, Some(8)), ("total", 0, I64, true, None),
            ("seq", 1, SEQ, false, None)]
        {
            let (name, owner, ty) = (name.into(), m(owner), t(ty));
            p.fields.push(Field { name, owner, ty, is_static, pinned, span });
        }
        for name in ["Ping.bad", "Ping.timeout"] {
            p.exceptions.push(Exception { name: name.into(), owner: m(0), span });
        }
        for name in ["reply", "tick"] {
            p.selectors.push(Selector { name: name.into(), origin: m(0) });
        }
        p.exports = vec![fm(6), fm(1)];
        let text = "use std::io; // \"q\" \\ \t\u{1}é\n".into();
        p.support.push(Support { text, prologue: true, span });
        p.support.push(Support { text: String::new(), prologue: false, span });

        // fn0: Ping's constructor: count = n; buf[2] = 0.
        let mut b = B::new(&[("self", t(M0P)), ("n", t(I32))]);
        let (fl, n) = (b.own(M0P, M0, 0, I32), b.local(1, I32));
        let a1 = b.assign(fl, n, I32);
        let c1 = b.void(a1);
        let (buf, two) = (b.own(M0P, M0, 1, ARR), b.num(2, I32));
        let el = b.n(K::Index { array: buf, index: two }, I32);
        let z = b.n(K::Zero, I32);
        let a2 = b.assign(el, z, I32);
        let c2 = b.void(a2);
        let root = b.n(K::Seq(vec![c1, c2]), VOID);
        let sig = (&[I32][..], VOID);
        p.methods.push(method("Ping.constructor", 0, MethodKind::Constructor, sig, b.done(root)));

        // fn1: reply(x) = if x < 0 then raise bad else x + count.
        let mut b = B::new(&[("self", t(M0P)), ("x", t(I32))]);
        let (x1, zero) = (b.local(1, I32), b.num(0, I32));
        let lt = b.bin(BinOp::Lt, x1, zero, BOOL);
        let r = b.n(K::Raise(x(0)), NEVER);
        let (x2, count) = (b.local(1, I32), b.own(M0P, M0, 0, I32));
        let add = b.bin(BinOp::Add, x2, count, I32);
        let root = b.n(K::If { cond: lt, then: r, otherwise: Some(add) }, I32);
        let mut m1 = method("reply", 0, MethodKind::Dynamic(sel(0)), (&[I32], I32), b.done(root));
        m1.raises = vec![x(0)];
        p.methods.push(m1);

        // fn2: tick() = i = 0; loop { if i >= 10 then {host} else recur(i + 1) }.
        let mut b = B::new(&[("self", t(M0P)), ("i", t(I32))]);
        let (i0, c0) = (b.local(1, I32), b.num(0, I32));
        let init = b.assign(i0, c0, I32);
        let (i1, ten) = (b.local(1, I32), b.num(10, I32));
        let ge = b.bin(BinOp::Ge, i1, ten, BOOL);
        let text = "/* é */ self->count += i + total * K;".to_string();
        let at = |lo, hi, target| HostSubst { range: lo..hi, target };
        let subst = vec![at(9, 13, HostRef::SelfObject), at(15, 20, HostRef::Field(f(0))),
            at(24, 25, HostRef::Local(v(1))), at(28, 33, HostRef::Static(f(2))),
            at(36, 37, HostRef::Const(Const(u64::MAX), t(I32)))];
        let host = b.n(K::Host { text, subst }, BOOL);
        let (i2, one) = (b.local(1, I32), b.num(1, I32));
        let inc = b.bin(BinOp::Add, i2, one, I32);
        let rec = b.n(K::Recur(vec![inc]), NEVER);
        let body = b.n(K::If { cond: ge, then: host, otherwise: Some(rec) }, BOOL);
        let lp = b.n(K::Loop { vars: vec![v(1)], body }, BOOL);
        let root = b.n(K::Seq(vec![init, lp]), BOOL);
        let mut m2 = method("tick", 0, MethodKind::Dynamic(sel(1)), (&[], BOOL), b.done(root));
        m2.inline = 2;
        p.methods.push(m2);

        // fn3: Ping.Peer's reply: tick(self) virtually, then cold Ping.reply(self, x).
        let mut b = B::new(&[("self", t(M1P)), ("x", t(I32))]);
        let s = b.local(0, M1P);
        let vc = b.call(Callee::Virtual(sel(1)), vec![s], None, BOOL);
        let dv = b.void(vc);
        let s = b.local(0, M1P);
        let (up, xx) = (b.conv(ConvKind::Ptr, s, M0P), b.local(1, I32));
        let dc = b.call(Callee::Direct(fm(1)), vec![up, xx], Some(1), I32);
        let cold = b.n(K::Cold { level: 2, expr: dc }, I32);
        let root = b.n(K::Seq(vec![dv, cold]), I32);
        let kind = MethodKind::Dynamic(sel(0));
        let mut m3 = method("Ping.Peer.reply", 1, kind, (&[I32], I32), b.done(root));
        (m3.raises, m3.provenance) = (vec![x(0)], Provenance::Forwarder);
        p.methods.push(m3);

        // fn4: Ping.Peer's synthesised constructor: Ping's constructor, then seq = 0.
        let mut b = B::new(&[("self", t(M1P))]);
        let s = b.local(0, M1P);
        let (up, z) = (b.conv(ConvKind::Ptr, s, M0P), b.num(0, I32));
        let c = b.call(Callee::Direct(fm(0)), vec![up, z], Some(3), VOID);
        let (sq, z) = (b.own(M1P, M1, 3, SEQ), b.n(K::Zero, SEQ));
        let a = b.assign(sq, z, SEQ);
        let d = b.void(a);
        let root = b.n(K::Seq(vec![c, d]), VOID);
        let kind = MethodKind::Constructor;
        let mut m4 = method("Ping.Peer.constructor", 1, kind, (&[], VOID), b.done(root));
        m4.provenance = Provenance::SynthesisedConstructor;
        p.methods.push(m4);

        // fn5: an extern.
        let link_name = "putchar".to_string();
        p.methods.push(method("putc", 0, MethodKind::Extern { link_name }, (&[I32], I32), None));

        // fn6: main, exercising the remaining kinds.
        let mut b = B::new(&[("p", t(I32P)), ("arr", t(ARR)), ("q", t(I32P))]);
        let mut items = Vec::new();
        let (pl, arr) = (b.local(0, I32P), b.local(1, ARR));
        let dec = b.conv(ConvKind::Decay, arr, I32P);
        let e = b.assign(pl, dec, I32P);
        items.push(b.void(e));
        let (q, arr, three) = (b.local(2, I32P), b.local(1, ARR), b.num(3, I32));
        let el = b.n(K::Index { array: arr, index: three }, I32);
        let ad = b.n(K::AddrOf(el), I32P);
        let e = b.assign(q, ad, I32P);
        items.push(b.void(e));
        let (pl, one) = (b.local(0, I32P), b.num(1, I32));
        let (op, yields) = (BinOp::PtrAdd, Yields::Old);
        let e = b.n(K::Update { place: pl, op, value: one, yields }, I32P);
        items.push(b.void(e));
        let (tot, q, pl) = (b.n(K::Static(f(2)), I64), b.local(2, I32P), b.local(0, I32P));
        let diff = b.bin(BinOp::PtrDiff, q, pl, I64);
        let e = b.assign(tot, diff, I64);
        items.push(b.void(e));
        let (tot, pl) = (b.n(K::Static(f(2)), I64), b.local(0, I32P));
        let de = b.n(K::Deref(pl), I32);
        let ng = b.n(K::Unary(UnOp::Neg, de), I32);
        let wide = b.conv(ConvKind::Int, ng, I64);
        let (op, yields) = (BinOp::Max, Yields::New);
        let e = b.n(K::Update { place: tot, op, value: wide, yields }, I64);
        items.push(b.void(e));
        let st = b.n(K::Str(b"hi \"there\"\n\0\xff\\".to_vec()), 4);
        let ch = b.n(K::Deref(st), U8);
        let arg = b.conv(ConvKind::Int, ch, I32);
        let e = b.call(Callee::Direct(fm(5)), vec![arg], Some(0), I32);
        items.push(b.void(e));
        let r = b.n(K::Raise(x(1)), NEVER);
        let ca = b.n(K::Catch { body: r, handles: Handles::Only(vec![x(0), x(1)]) }, BOOL);
        let nt = b.n(K::Unary(UnOp::Not, ca), BOOL);
        let ab = b.n(K::Abort("Ping.missing \"q\"".into()), I32);
        let th = b.void(ab);
        items.push(b.n(K::If { cond: nt, then: th, otherwise: None }, VOID));
        let zb = b.n(K::Zero, BOOL);
        let ca = b.n(K::Catch { body: zb, handles: Handles::All }, BOOL);
        let fb = b.conv(ConvKind::FromBool, ca, I32);
        let bn = b.n(K::Unary(UnOp::BitNot, fb), I32);
        let tb = b.conv(ConvKind::ToBool, bn, BOOL);
        items.push(b.void(tb));
        items.push(b.num(u64::MAX, I32));
        let root = b.n(K::Seq(items), I32);
        p.methods.push(method("main", 0, MethodKind::Static, (&[], I32), b.done(root)));
        p
    }

    #[test]
    fn prints_the_documented_form() {
        let text = super::program(&sample());
        let expected_fn1 = concat!(
            "fn1 \"reply\" owner m0 dynamic sel0 params (t2) ret t2 inline 0 raises (x0) ",
            "written {\n",
            "  v0 \"self\" t6\n",
            "  v1 \"x\" t2\n",
            "  root (if:t2\n",
            "    (binary:t1 lt (local:t2 v1) (const:t2 0))\n",
            "    (raise:t11 x0)\n",
            "    (binary:t2 add (local:t2 v1) (field:t2 f0 (deref:t5 (local:t6 v0)))))\n",
            "}\n",
        );
        assert!(text.contains(expected_fn1), "{text}");
        for line in [
            "t0 = void\nt1 = bool\nt2 = i32\nt3 = u8\nt4 = ptr t3\nt5 = module m0\n",
            "t9 = array t2 4\n",
            "t12 = seqint\nt13 = i64\nt14 = i8\nt15 = i16\nt16 = u16\nt17 = u32\nt18 = u64\n",
            "m0 \"Ping\" fields f0 f1 vtable sel0=fn1 sel1=fn2 constructor fn0\n",
            "m1 \"Ping.Peer\" parent m0 fields f3 vtable sel0=fn3 sel1=fn2 constructor fn4\n",
            "f1 \"buf\" owner m0 type t9 pinned 8\nf2 \"total\" owner m0 type t13 static\n",
            "x1 \"Ping.timeout\" owner m0\n\nsel0 \"reply\" origin m0\n",
            "exports fn6 fn1\nsupport prologue \"use std::io; // \\\"q\\\" \\\\ \\t\\u{1}\
             \\u{e9}\\n\"\n",
            "support epilogue \"\"\n",
            "fn5 \"putc\" owner m0 extern \"putchar\" params (t2) ret t2 inline 0 raises () \
             written\n",
            "(host:t1 \"/* \\u{e9} */ self->count += i + total * K;\" 9..13=self 15..20=field:f0 \
             24..25=local:v1 28..33=static:f2 36..37=const:-1:t2)",
            "(str:t4 \"hi \\\"there\\\"\\n\\x00\\xff\\\\\")",
            "(call:t1 virtual sel1 (local:t8 v0))",
            "(update:t13 max new\n        (static:t13 f2)",
            "(catch:t1 only x0 x1 (raise:t11 x1))",
            "(const:t2 -1)",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(text.is_ascii());
    }

    #[test]
    fn marks_bodies_that_are_not_trees() {
        let mut b = B::new(&[]);
        let c = b.e(ExprKind::Const(Const(1)), t(I32));
        let _lost = b.e(ExprKind::Zero, t(I32));
        let bad = ExprId::from_u32(99);
        let root = b.e(ExprKind::Seq(vec![c, c, bad]), t(I32));
        let text = super::body(&sample(), &b.0);
        assert_eq!(text, "  unreachable e0 e1 e2\n");
        b.0.root = Some(root);
        let text = super::body(&sample(), &b.0);
        assert!(text.contains("  root (seq:t2 (const:t2 1) (shared e0) (invalid e99))\n"));
        assert!(text.contains("unreachable e1\n"), "{text}");
    }

    #[test]
    fn breaks_long_expressions_deterministically() {
        let mut b = B::new(&[]);
        let mut e = b.e(ExprKind::Const(Const(0)), t(I32));
        for _ in 0..1000 {
            e = b.e(ExprKind::Unary(UnOp::Neg, e), t(I32));
        }
        let once = super::body(&sample(), &b.done(e).unwrap_or_default());
        assert!(once.lines().all(|l| l.len() <= 1_100));
        assert_eq!(once.matches("(unary:t2 neg").count(), 1000);
    }
}
