//! Prints a syntax tree back as Prolac source.
//!
//! The output parses back to the same tree (up to parentheses): the printer adds parentheses
//! exactly where the precedence of §12.1 requires them, keeps those the tree records, and
//! prints case bars in their `|||` form. Comments and layout are not preserved. The guarantee
//! that `print(parse(print(t))) == print(t)` is tested over every accepted fixture.

use std::fmt::Write;

use crate::ast::*;
use crate::token::{IntSuffix, Radix};

/// Prints a file.
pub fn file(f: &File) -> String {
    let mut p = Printer::default();
    for (i, item) in f.items.iter().enumerate() {
        if i > 0 {
            p.out.push_str("\n\n");
        }
        p.item(item);
    }
    p.out.push('\n');
    p.out
}

/// Prints one expression (as a full expression).
pub fn expr(e: &Expr) -> String {
    let mut p = Printer::default();
    p.expr(e, Ctx::FULL);
    p.out
}

/// Prints one type.
pub fn ty(t: &Type) -> String {
    let mut p = Printer::default();
    p.ty(t);
    p.out
}

/// Where an expression is printed: the loosest level allowed bare there, whether nothing of
/// the enclosing bracket is to its left (so a `catch` may extend to the bracket), and whether
/// it is an argument (where `,` separates rather than sequences).
#[derive(Clone, Copy)]
struct Ctx {
    min: u8,
    leftmost: bool,
    arg: bool,
}

impl Ctx {
    const FULL: Ctx = Ctx {
        min: 1,
        leftmost: true,
        arg: false,
    };
    const ARG: Ctx = Ctx {
        min: 6,
        leftmost: false,
        arg: true,
    };

    fn left(self, min: u8) -> Ctx {
        Ctx { min, ..self }
    }

    fn right(self, min: u8) -> Ctx {
        Ctx {
            min,
            leftmost: false,
            ..self
        }
    }
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
}

fn level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => op.level(),
        ExprKind::Assign { .. } => 10,
        ExprKind::Cond {
            origin: CondOrigin::Ternary,
            ..
        } => 11,
        ExprKind::Cond {
            origin: CondOrigin::CaseBar,
            ..
        } => 2,
        ExprKind::Catch { .. } => 1,
        ExprKind::Outline { .. } => 6,
        ExprKind::Prefix { .. } | ExprKind::CodeOp { .. } | ExprKind::Cast { .. } => 26,
        ExprKind::TypeAssert { .. } => 27,
        ExprKind::ModOps { .. } => 28,
        _ => 30,
    }
}

/// The level of `e` as printed in context `c`: inside an argument, an implicit comma next to a
/// host block binds like the argument level itself (it joins the block to its neighbours).
fn effective_level(e: &Expr, c: Ctx) -> u8 {
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::Seq,
            implicit: true,
            ..
        } if c.arg => 6,
        _ => level(e),
    }
}

/// Does `e` need parentheses in context `c`?
fn needs_parens(e: &Expr, c: Ctx) -> bool {
    match &e.kind {
        // `catch` takes everything to its left and then continues as a left operand, so it is
        // bare exactly when nothing of the enclosing bracket is to its left.
        ExprKind::Catch { .. } => !c.leftmost,
        _ => effective_level(e, c) < c.min,
    }
}

/// The tokens that may follow a cast's `)` so that it stays a cast (§12.2).
fn starts_cast_operand(text: &str) -> bool {
    !(text.starts_with('.') || text.starts_with('{'))
}

impl Printer {
    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    fn items(&mut self, items: &[Item]) {
        self.indent += 1;
        for item in items {
            self.newline();
            self.item(item);
        }
        self.indent -= 1;
        self.newline();
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Module(m) => {
                self.out.push_str("module ");
                self.def_name(&m.name);
                if !m.parents.is_empty() {
                    self.out.push_str(" :> ");
                    for (i, p) in m.parents.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        match p {
                            ParentEntry::Module(me) => self.module_expr(me),
                            ParentEntry::Super { ops, .. } => {
                                self.out.push_str("super");
                                self.mod_ops(ops);
                            }
                        }
                    }
                }
                if !m.imports.is_empty() {
                    self.out.push_str(" has ");
                    for (i, imp) in m.imports.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        if let Some(local) = &imp.local {
                            let _ = write!(self.out, "{} :> ", local.text);
                        }
                        self.module_expr(&imp.module);
                    }
                }
                self.out.push_str(" {");
                self.items(&m.body);
                self.out.push('}');
                self.mod_ops(&m.ops);
                self.out.push(';');
            }
            ItemKind::Equation(eq) => {
                self.out.push_str("module ");
                self.def_name(&eq.name);
                self.out.push_str(" ::= ");
                self.module_expr(&eq.value);
                self.out.push(';');
            }
            ItemKind::Namespace(ns) => {
                self.def_name(&ns.name);
                self.out.push_str(" {");
                self.items(&ns.items);
                self.out.push('}');
            }
            ItemKind::Export(refs) => {
                self.out.push_str("export ");
                for (i, r) in refs.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    if r.global {
                        self.out.push('.');
                    }
                    self.path(&r.path);
                }
                self.out.push(';');
            }
            ItemKind::Support(text) => {
                let _ = write!(self.out, "%{{{}%}}", text.text);
            }
            ItemKind::Include(path) => {
                self.out.push_str("include ");
                self.string(&path.bytes);
                self.out.push(';');
            }
            ItemKind::Layer(layer) => {
                let _ = write!(self.out, "layer {}", layer.name.text);
                if !layer.requires.is_empty() {
                    self.out.push_str(" requires ");
                    self.idents(&layer.requires);
                }
                self.out.push_str(" {");
                self.items(&layer.items);
                self.out.push('}');
            }
            ItemKind::Compose(c) => {
                let _ = write!(self.out, "compose {} = ", c.name.text);
                self.idents(&c.layers);
                self.out.push(';');
            }
            ItemKind::Method(m) => self.method(m),
            ItemKind::Field(f) => {
                if f.is_static {
                    self.out.push_str("static ");
                }
                self.out.push_str("field ");
                self.def_name(&f.name);
                self.out.push_str(" :> ");
                self.ty(&f.ty);
                if let Some(offset) = &f.offset {
                    self.out.push_str(" @ ");
                    self.expr(offset, Ctx::ARG);
                }
                self.out.push(';');
            }
            ItemKind::Exception(name) => {
                self.out.push_str("exception ");
                self.def_name(name);
                self.out.push(';');
            }
            ItemKind::Error => self.out.push_str("/* syntax error */"),
        }
    }

    fn method(&mut self, m: &Method) {
        if m.is_static {
            self.out.push_str("static ");
        }
        self.def_name(&m.name);
        if let Some(params) = &m.params {
            self.out.push('(');
            for (i, p) in params.iter().enumerate() {
                if i > 0 {
                    self.out.push_str(", ");
                }
                let _ = write!(self.out, "{} :> ", p.name.text);
                self.ty(&p.ty);
            }
            self.out.push(')');
        }
        if let Some(ret) = &m.ret {
            self.out.push_str(" :> ");
            self.ty(ret);
        }
        self.out.push_str(" ::=");
        match &m.body {
            MethodBody::Empty => self.out.push(' '),
            MethodBody::Extern(link) => {
                self.out.push_str(" extern");
                if let Some(link) = link {
                    self.out.push(' ');
                    self.string(&link.bytes);
                }
            }
            MethodBody::Expr(e) => {
                let mut body = Printer {
                    out: String::new(),
                    indent: self.indent + 2,
                };
                body.expr(e, Ctx::FULL);
                let line_start = self.out.rfind('\n').map_or(0, |p| p + 1);
                if self.out.len() - line_start + body.out.len() < 96 && !body.out.contains('\n') {
                    self.out.push(' ');
                } else {
                    self.indent += 2;
                    self.newline();
                    self.indent -= 2;
                }
                self.out.push_str(&body.out);
            }
        }
        self.out.push(';');
    }

    fn idents(&mut self, ids: &[Ident]) {
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.out.push_str(&id.text);
        }
    }

    fn path(&mut self, path: &[Ident]) {
        for (i, id) in path.iter().enumerate() {
            if i > 0 {
                self.out.push('.');
            }
            self.out.push_str(&id.text);
        }
    }

    fn def_name(&mut self, name: &DefName) {
        for (i, part) in name.parts.iter().enumerate() {
            if i > 0 {
                self.out.push('.');
            }
            if part.parenthesized {
                let _ = write!(self.out, "({})", part.ident.text);
            } else {
                self.out.push_str(&part.ident.text);
            }
        }
    }

    fn string(&mut self, bytes: &[u8]) {
        self.out.push('"');
        for &b in bytes {
            self.escaped(b, b'"');
        }
        self.out.push('"');
    }

    fn escaped(&mut self, b: u8, quote: u8) {
        match b {
            b'\n' => self.out.push_str("\\n"),
            b'\t' => self.out.push_str("\\t"),
            b'\r' => self.out.push_str("\\r"),
            b'\\' => self.out.push_str("\\\\"),
            _ if b == quote => {
                self.out.push('\\');
                self.out.push(char::from(b));
            }
            0x20..=0x7e => self.out.push(char::from(b)),
            // Three octal digits: a following digit can never extend the escape.
            _ => {
                let _ = write!(self.out, "\\{b:03o}");
            }
        }
    }

    fn module_expr(&mut self, m: &ModuleExpr) {
        match &m.base {
            ModuleRef::Path { global, path } => {
                if *global {
                    self.out.push('.');
                }
                self.path(path);
            }
            ModuleRef::Paren(t) => {
                self.out.push('(');
                self.ty(t);
                self.out.push(')');
            }
        }
        self.mod_ops(&m.ops);
    }

    fn mod_ops(&mut self, ops: &[ModOp]) {
        for op in ops {
            self.out.push(' ');
            self.out.push_str(op.kind.keyword());
            if let Some(level) = &op.level {
                self.out.push('[');
                self.expr(level, Ctx::FULL);
                self.out.push(']');
            }
            self.out.push(' ');
            let parens = op.parenthesized
                || op.items.len() != 1
                || matches!(op.items.first(), Some(OpItem::Alias { .. }));
            if parens {
                self.out.push('(');
            }
            for (i, item) in op.items.iter().enumerate() {
                if i > 0 {
                    self.out.push_str(", ");
                }
                match item {
                    OpItem::Name(path) => self.path(path),
                    OpItem::All(_) => self.out.push_str("all"),
                    OpItem::AllStatic(_) => self.out.push_str("allstatic"),
                    OpItem::Glob(s) => self.string(&s.bytes),
                    OpItem::Alias { new, old } => {
                        let _ = write!(self.out, "{} = ", new.text);
                        self.path(old);
                    }
                }
            }
            if parens {
                self.out.push(')');
            }
        }
    }

    fn ty(&mut self, t: &Type) {
        match &t.kind {
            TypeKind::Builtin(b) => self.out.push_str(b.keyword()),
            TypeKind::Module(m) => self.module_expr(m),
            TypeKind::Pointer(inner) => {
                self.out.push('*');
                self.ty(inner);
            }
            TypeKind::Array(elem, len) => {
                self.ty(elem);
                self.out.push('[');
                self.expr(len, Ctx::FULL);
                self.out.push(']');
            }
            TypeKind::Paren(inner) => {
                self.out.push('(');
                self.ty(inner);
                self.out.push(')');
            }
            TypeKind::Error => self.out.push_str("/* error */ void"),
        }
    }

    fn args(&mut self, args: &[Expr]) {
        self.out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(a, Ctx::ARG);
        }
        self.out.push(')');
    }

    fn expr(&mut self, e: &Expr, c: Ctx) {
        if needs_parens(e, c) {
            self.out.push('(');
            self.bare(e, Ctx::FULL);
            self.out.push(')');
        } else {
            self.bare(e, c);
        }
    }

    /// Prints an operand that must not start with a prefix operator token that would merge
    /// with the one before it (`- -x`, not `--x`).
    fn after_prefix(&mut self, e: &Expr, c: Ctx) {
        let mut inner = Printer::default();
        inner.expr(e, c);
        if inner.out.starts_with(['-', '+', '&', '|', '=']) {
            self.out.push(' ');
        }
        self.out.push_str(&inner.out);
    }

    fn bare(&mut self, e: &Expr, c: Ctx) {
        match &e.kind {
            ExprKind::Int(lit) => {
                let _ = match lit.radix {
                    Radix::Decimal => write!(self.out, "{}", lit.value),
                    Radix::Hex => write!(self.out, "0x{:X}", lit.value),
                    Radix::Octal if lit.value == 0 => write!(self.out, "0"),
                    Radix::Octal => write!(self.out, "0{:o}", lit.value),
                };
                self.out.push_str(match lit.suffix {
                    IntSuffix::None => "",
                    IntSuffix::U => "u",
                    IntSuffix::L => "l",
                    IntSuffix::UL => "ul",
                    IntSuffix::Q => "q",
                });
            }
            ExprKind::Char(b) => {
                self.out.push('\'');
                self.escaped(*b, b'\'');
                self.out.push('\'');
            }
            ExprKind::Str(s) => self.string(&s.bytes),
            ExprKind::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            ExprKind::SelfValue => self.out.push_str("self"),
            ExprKind::Super => self.out.push_str("super"),
            ExprKind::Name(id) => self.out.push_str(&id.text),
            ExprKind::GlobalName(id) => {
                self.out.push('.');
                self.out.push_str(&id.text);
            }
            ExprKind::TypeWord(b) => self.out.push_str(b.keyword()),
            ExprKind::Host(h) => {
                let _ = write!(self.out, "{{{}}}", h.text);
            }
            ExprKind::Paren(inner) => {
                self.out.push('(');
                self.expr(inner, Ctx::FULL);
                self.out.push(')');
            }
            ExprKind::Member { base, name, arrow } => {
                self.expr(base, c.left(30));
                self.out.push_str(if *arrow { "->" } else { "." });
                self.out.push_str(&name.text);
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee, c.left(30));
                self.args(args);
            }
            ExprKind::Index { base, index } => {
                self.expr(base, c.left(30));
                self.out.push('[');
                self.expr(index, Ctx::FULL);
                self.out.push(']');
            }
            ExprKind::PostIncDec { operand, increment } => {
                self.expr(operand, c.left(30));
                self.out.push_str(if *increment { "++" } else { "--" });
            }
            ExprKind::Prefix { op, operand } => {
                self.out.push_str(op.symbol());
                self.after_prefix(operand, c.right(26));
            }
            ExprKind::CodeOp { op, operand } => {
                match op {
                    CodeOp::Inline(None) => self.out.push_str("inline"),
                    CodeOp::Inline(Some(level)) => {
                        self.out.push_str("inline[");
                        self.expr(level, Ctx::FULL);
                        self.out.push(']');
                    }
                    CodeOp::NoInline => self.out.push_str("noinline"),
                    CodeOp::DefaultInline => self.out.push_str("defaultinline"),
                    CodeOp::PathInline => self.out.push_str("pathinline"),
                }
                self.out.push(' ');
                self.expr(operand, c.right(26));
            }
            ExprKind::Outline { level, operand } => {
                self.out.push_str("outline");
                if let Some(level) = level {
                    self.out.push('[');
                    self.expr(level, Ctx::FULL);
                    self.out.push(']');
                }
                self.out.push(' ');
                self.expr(operand, c.right(6));
            }
            ExprKind::Cast { ty, operand } => {
                self.out.push('(');
                self.ty(ty);
                self.out.push(')');
                // The operand is a postfix expression, a cast, or `!`/`~`/inline-prefixed.
                let allowed = match &operand.kind {
                    ExprKind::Prefix { op, .. } => matches!(op, PrefixOp::Not | PrefixOp::BitNot),
                    ExprKind::CodeOp { .. } | ExprKind::Cast { .. } => true,
                    _ => level(operand) >= 30,
                };
                let mut inner = Printer::default();
                inner.expr(operand, c.right(26));
                if allowed && starts_cast_operand(&inner.out) {
                    if !inner.out.starts_with('(') {
                        self.out.push(' ');
                    }
                    self.out.push_str(&inner.out);
                } else {
                    let _ = write!(self.out, "({})", {
                        let mut full = Printer::default();
                        full.expr(operand, Ctx::FULL);
                        full.out
                    });
                }
            }
            ExprKind::TypeAssert { expr, ty } => {
                self.expr(expr, c.left(27));
                self.out.push_str(" :> ");
                self.ty(ty);
            }
            ExprKind::ModOps { base, ops } => {
                self.expr(base, c.left(30));
                self.mod_ops(ops);
            }
            ExprKind::Binary {
                op: BinOp::Seq,
                lhs,
                rhs,
                implicit,
            } => {
                // Inside an argument only implicit commas may stay bare (an explicit one
                // would separate arguments).
                let (lmin, rmin) = if c.arg { (6, 7) } else { (5, 6) };
                // `A {h} ||| X` parses as `A, ({h} ||| X)` by the `|||` rewrite (§12.7): an
                // implicit comma's case-bar right operand is printed bare, since parentheses
                // would separate the host block from its neighbour.
                let case_bar = matches!(
                    rhs.kind,
                    ExprKind::Binary {
                        op: BinOp::CaseOr,
                        ..
                    }
                );
                let rmin = if *implicit && case_bar && !c.arg {
                    2
                } else {
                    rmin
                };
                self.expr(lhs, c.left(lmin));
                self.out.push_str(if *implicit { " " } else { ", " });
                self.expr(rhs, c.right(rmin));
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                let q = op.level();
                let (lmin, rmin) = if op.is_right_assoc() {
                    (q + 1, q)
                } else {
                    (q, q + 1)
                };
                let rmin = if *op == BinOp::CaseOr { 3 } else { rmin };
                self.expr(lhs, c.left(lmin));
                let _ = write!(self.out, " {} ", op.symbol());
                if *op == BinOp::CaseOr {
                    self.case_tail(rhs, c, rmin);
                } else {
                    self.expr(rhs, c.right(rmin));
                }
            }
            ExprKind::Assign { op, place, value } => {
                self.expr(place, c.left(11));
                let _ = write!(self.out, " {} ", op.symbol());
                self.expr(value, c.right(10));
            }
            ExprKind::Cond {
                cond,
                then,
                otherwise,
                origin: CondOrigin::Ternary,
            } => {
                self.expr(cond, c.left(12));
                self.out.push_str(" ? ");
                self.expr(then, Ctx::FULL);
                self.out.push_str(" : ");
                self.expr(otherwise, c.right(11));
            }
            ExprKind::Cond {
                cond,
                then,
                otherwise,
                origin: CondOrigin::CaseBar,
            } => {
                self.expr(cond, c.left(4));
                self.out.push_str(" ==> ");
                self.expr(then, c.right(3));
                self.out.push_str(" ||| ");
                self.case_tail(otherwise, c, 3);
            }
            ExprKind::Catch { body, list } => {
                self.expr(body, c.left(1));
                self.out.push_str(" catch ");
                match list {
                    CatchList::All(_) => self.out.push_str("all"),
                    CatchList::Names(names) if names.len() == 1 => self.path(&names[0]),
                    CatchList::Names(names) => {
                        self.out.push('(');
                        for (i, n) in names.iter().enumerate() {
                            if i > 0 {
                                self.out.push_str(", ");
                            }
                            self.path(n);
                        }
                        self.out.push(')');
                    }
                }
            }
            ExprKind::If { arms, otherwise } => {
                for (i, (cond, value)) in arms.iter().enumerate() {
                    self.out.push_str(if i == 0 { "if " } else { " elseif " });
                    self.expr(cond, Ctx::FULL);
                    self.out.push_str(" then ");
                    self.expr(value, Ctx::FULL);
                }
                if let Some(otherwise) = otherwise {
                    self.out.push_str(" else ");
                    self.expr(otherwise, Ctx::FULL);
                }
                self.out.push_str(" end");
            }
            ExprKind::Let { bindings, body } => {
                self.out.push_str("let ");
                for (i, b) in bindings.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.out.push_str(&b.name.text);
                    if let Some(t) = &b.ty {
                        self.out.push_str(" :> ");
                        self.ty(t);
                        if let Some(args) = &b.ctor_args {
                            self.args(args);
                        }
                    }
                    if let Some(init) = &b.init {
                        self.out.push_str(" = ");
                        self.expr(init, Ctx::ARG);
                    }
                }
                self.out.push_str(" in ");
                self.expr(body, Ctx::FULL);
                self.out.push_str(" end");
            }
            ExprKind::MinMax { which, args } => {
                self.out.push_str(match which {
                    MinMax::Min => "min",
                    MinMax::Max => "max",
                });
                self.args(args);
            }
            ExprKind::Error => self.out.push_str("/* error */ 0"),
        }
    }

    /// The right operand of `|||`: a further case bar continues the chain without parentheses
    /// (`a ==> b ||| c ==> d ||| e` reads back as the same nested conditional).
    fn case_tail(&mut self, e: &Expr, c: Ctx, min: u8) {
        let chain = matches!(
            e.kind,
            ExprKind::Cond {
                origin: CondOrigin::CaseBar,
                ..
            } | ExprKind::Binary {
                op: BinOp::CaseOr,
                ..
            }
        );
        if chain && c.min <= 2 && !c.arg {
            self.bare(e, c.right(2));
        } else {
            self.expr(e, c.right(min));
        }
    }
}
