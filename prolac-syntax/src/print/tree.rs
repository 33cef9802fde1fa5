//! Prints a syntax tree as indented S-expressions (`prolacc --emit ast`).
//!
//! Every operator application is explicit, so the output shows exactly how precedence,
//! `catch`, `|||` and implicit commas were resolved. Items go on their own lines; expressions
//! stay on one line. With [`Options::parens`] off, parentheses nodes are elided, which makes
//! two trees that differ only in redundant parentheses print the same.

use std::fmt::Write;

use crate::ast::*;
use crate::token::IntSuffix;

/// Printing options.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Show `(paren …)` nodes.
    pub parens: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { parens: true }
    }
}

/// Prints a file.
pub fn file(f: &File, options: Options) -> String {
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        options,
    };
    for item in &f.items {
        p.item(item);
        p.out.push('\n');
    }
    p.out
}

/// Prints one expression.
pub fn expr(e: &Expr, options: Options) -> String {
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        options,
    };
    p.expr(e);
    p.out
}

struct Printer {
    out: String,
    indent: usize,
    options: Options,
}

fn path(p: &[Ident]) -> String {
    p.iter().map(|i| &*i.text).collect::<Vec<_>>().join(".")
}

fn def_name(n: &DefName) -> String {
    n.parts
        .iter()
        .map(|p| {
            if p.parenthesized {
                format!("({})", p.ident.text)
            } else {
                p.ident.text.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl Printer {
    fn line(&mut self) {
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    fn block(&mut self, items: &[Item]) {
        self.indent += 1;
        for item in items {
            self.line();
            self.item(item);
        }
        self.indent -= 1;
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Module(m) => {
                let _ = write!(self.out, "(module {}", def_name(&m.name));
                if !m.parents.is_empty() {
                    self.out.push_str(" (parents");
                    for p in &m.parents {
                        self.out.push(' ');
                        match p {
                            ParentEntry::Module(me) => self.module_expr(me),
                            ParentEntry::Super { ops, .. } => {
                                if ops.is_empty() {
                                    self.out.push_str("super");
                                } else {
                                    self.out.push_str("(view super");
                                    self.ops(ops);
                                    self.out.push(')');
                                }
                            }
                        }
                    }
                    self.out.push(')');
                }
                if !m.imports.is_empty() {
                    self.out.push_str(" (has");
                    for imp in &m.imports {
                        self.out.push(' ');
                        match &imp.local {
                            Some(local) => {
                                let _ = write!(self.out, "(as {} ", local.text);
                                self.module_expr(&imp.module);
                                self.out.push(')');
                            }
                            None => self.module_expr(&imp.module),
                        }
                    }
                    self.out.push(')');
                }
                if !m.ops.is_empty() {
                    self.out.push_str(" (ops");
                    self.ops(&m.ops);
                    self.out.push(')');
                }
                self.block(&m.body);
                self.out.push(')');
            }
            ItemKind::Equation(eq) => {
                let _ = write!(self.out, "(equation {} ", def_name(&eq.name));
                self.module_expr(&eq.value);
                self.out.push(')');
            }
            ItemKind::Namespace(ns) => {
                let _ = write!(self.out, "(namespace {}", def_name(&ns.name));
                self.block(&ns.items);
                self.out.push(')');
            }
            ItemKind::Export(refs) => {
                self.out.push_str("(export");
                for r in refs {
                    let _ = write!(
                        self.out,
                        " {}{}",
                        if r.global { "." } else { "" },
                        path(&r.path)
                    );
                }
                self.out.push(')');
            }
            ItemKind::Support(text) => {
                let _ = write!(self.out, "(support {:?})", &*text.text);
            }
            ItemKind::Include(s) => {
                let _ = write!(self.out, "(include {:?})", s.text());
            }
            ItemKind::Layer(layer) => {
                let _ = write!(self.out, "(layer {}", layer.name.text);
                if !layer.requires.is_empty() {
                    self.out.push_str(" (requires");
                    for r in &layer.requires {
                        let _ = write!(self.out, " {}", r.text);
                    }
                    self.out.push(')');
                }
                self.block(&layer.items);
                self.out.push(')');
            }
            ItemKind::Compose(c) => {
                let _ = write!(self.out, "(compose {}", c.name.text);
                for l in &c.layers {
                    let _ = write!(self.out, " {}", l.text);
                }
                self.out.push(')');
            }
            ItemKind::Method(m) => {
                let _ = write!(
                    self.out,
                    "(method {}{}",
                    if m.is_static { "static " } else { "" },
                    def_name(&m.name)
                );
                if let Some(params) = &m.params {
                    self.out.push_str(" (params");
                    for p in params {
                        let _ = write!(self.out, " ({} ", p.name.text);
                        self.ty(&p.ty);
                        self.out.push(')');
                    }
                    self.out.push(')');
                }
                if let Some(ret) = &m.ret {
                    self.out.push_str(" (returns ");
                    self.ty(ret);
                    self.out.push(')');
                }
                self.indent += 1;
                self.line();
                match &m.body {
                    MethodBody::Empty => self.out.push_str("(no-body)"),
                    MethodBody::Extern(None) => self.out.push_str("(extern)"),
                    MethodBody::Extern(Some(link)) => {
                        let _ = write!(self.out, "(extern {:?})", link.text());
                    }
                    MethodBody::Expr(e) => self.expr(e),
                }
                self.indent -= 1;
                self.out.push(')');
            }
            ItemKind::Field(f) => {
                let _ = write!(
                    self.out,
                    "(field {}{} ",
                    if f.is_static { "static " } else { "" },
                    def_name(&f.name)
                );
                self.ty(&f.ty);
                if let Some(offset) = &f.offset {
                    self.out.push_str(" @ ");
                    self.expr(offset);
                }
                self.out.push(')');
            }
            ItemKind::Exception(name) => {
                let _ = write!(self.out, "(exception {})", def_name(name));
            }
            ItemKind::Error => self.out.push_str("(error)"),
        }
    }

    fn module_expr(&mut self, m: &ModuleExpr) {
        if !m.ops.is_empty() {
            self.out.push_str("(view ");
        }
        match &m.base {
            ModuleRef::Path { global, path: p } => {
                let _ = write!(self.out, "{}{}", if *global { "." } else { "" }, path(p));
            }
            ModuleRef::Paren(t) => {
                self.out.push_str("(paren ");
                self.ty(t);
                self.out.push(')');
            }
        }
        if !m.ops.is_empty() {
            self.ops(&m.ops);
            self.out.push(')');
        }
    }

    fn ops(&mut self, ops: &[ModOp]) {
        for op in ops {
            let _ = write!(self.out, " ({}", op.kind.keyword());
            if let Some(level) = &op.level {
                self.out.push('[');
                self.expr(level);
                self.out.push(']');
            }
            for item in &op.items {
                self.out.push(' ');
                match item {
                    OpItem::Name(p) => self.out.push_str(&path(p)),
                    OpItem::All(_) => self.out.push_str("all"),
                    OpItem::AllStatic(_) => self.out.push_str("allstatic"),
                    OpItem::Glob(s) => {
                        let _ = write!(self.out, "(glob {:?})", s.text());
                    }
                    OpItem::Alias { new, old } => {
                        let _ = write!(self.out, "(= {} {})", new.text, path(old));
                    }
                }
            }
            self.out.push(')');
        }
    }

    fn ty(&mut self, t: &Type) {
        match &t.kind {
            TypeKind::Builtin(b) => self.out.push_str(b.keyword()),
            TypeKind::Module(m) => self.module_expr(m),
            TypeKind::Pointer(inner) => {
                self.out.push_str("(* ");
                self.ty(inner);
                self.out.push(')');
            }
            TypeKind::Array(elem, len) => {
                self.out.push_str("(array ");
                self.ty(elem);
                self.out.push(' ');
                self.expr(len);
                self.out.push(')');
            }
            TypeKind::Paren(inner) => {
                if self.options.parens {
                    self.out.push_str("(paren ");
                    self.ty(inner);
                    self.out.push(')');
                } else {
                    self.ty(inner);
                }
            }
            TypeKind::Error => self.out.push_str("(error)"),
        }
    }

    fn list(&mut self, head: &str, es: &[&Expr]) {
        let _ = write!(self.out, "({head}");
        for e in es {
            self.out.push(' ');
            self.expr(e);
        }
        self.out.push(')');
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int(lit) => {
                let suffix = match lit.suffix {
                    IntSuffix::None => "",
                    IntSuffix::U => "u",
                    IntSuffix::L => "l",
                    IntSuffix::UL => "ul",
                    IntSuffix::Q => "q",
                };
                let _ = write!(self.out, "{}{suffix}", lit.value);
            }
            ExprKind::Char(b) => {
                let _ = write!(self.out, "(char {b})");
            }
            ExprKind::Str(s) => {
                let _ = write!(self.out, "{:?}", s.text());
            }
            ExprKind::Bool(b) => {
                let _ = write!(self.out, "{b}");
            }
            ExprKind::SelfValue => self.out.push_str("self"),
            ExprKind::Super => self.out.push_str("super"),
            ExprKind::Name(id) => self.out.push_str(&id.text),
            ExprKind::GlobalName(id) => {
                let _ = write!(self.out, ".{}", id.text);
            }
            ExprKind::TypeWord(b) => {
                let _ = write!(self.out, "(type {})", b.keyword());
            }
            ExprKind::Host(h) => {
                let _ = write!(self.out, "(host {:?})", &*h.text);
            }
            ExprKind::Paren(inner) => {
                if self.options.parens {
                    self.list("paren", &[inner]);
                } else {
                    self.expr(inner);
                }
            }
            ExprKind::Member { base, name, arrow } => {
                let _ = write!(self.out, "({} ", if *arrow { "->" } else { "." });
                self.expr(base);
                let _ = write!(self.out, " {})", name.text);
            }
            ExprKind::Call { callee, args } => {
                self.out.push_str("(call ");
                self.expr(callee);
                for a in args {
                    self.out.push(' ');
                    self.expr(a);
                }
                self.out.push(')');
            }
            ExprKind::Index { base, index } => self.list("index", &[base, index]),
            ExprKind::PostIncDec { operand, increment } => {
                self.list(if *increment { "post++" } else { "post--" }, &[operand]);
            }
            ExprKind::Prefix { op, operand } => {
                let head = match op {
                    PrefixOp::AddrOf => "addr",
                    PrefixOp::Deref => "deref",
                    PrefixOp::Plus => "plus",
                    PrefixOp::Neg => "neg",
                    PrefixOp::BitNot => "~",
                    PrefixOp::Not => "!",
                    PrefixOp::PreInc => "pre++",
                    PrefixOp::PreDec => "pre--",
                };
                self.list(head, &[operand]);
            }
            ExprKind::CodeOp { op, operand } => {
                match op {
                    CodeOp::Inline(None) => self.out.push_str("(inline "),
                    CodeOp::Inline(Some(level)) => {
                        self.out.push_str("(inline[");
                        self.expr(level);
                        self.out.push_str("] ");
                    }
                    CodeOp::NoInline => self.out.push_str("(noinline "),
                    CodeOp::DefaultInline => self.out.push_str("(defaultinline "),
                    CodeOp::PathInline => self.out.push_str("(pathinline "),
                }
                self.expr(operand);
                self.out.push(')');
            }
            ExprKind::Outline { level, operand } => {
                self.out.push_str("(outline");
                if let Some(level) = level {
                    self.out.push('[');
                    self.expr(level);
                    self.out.push(']');
                }
                self.out.push(' ');
                self.expr(operand);
                self.out.push(')');
            }
            ExprKind::Cast { ty, operand } => {
                self.out.push_str("(cast ");
                self.ty(ty);
                self.out.push(' ');
                self.expr(operand);
                self.out.push(')');
            }
            ExprKind::TypeAssert { expr, ty } => {
                self.out.push_str("(:> ");
                self.expr(expr);
                self.out.push(' ');
                self.ty(ty);
                self.out.push(')');
            }
            ExprKind::ModOps { base, ops } => {
                self.out.push_str("(view ");
                self.expr(base);
                self.ops(ops);
                self.out.push(')');
            }
            ExprKind::Binary {
                op,
                lhs,
                rhs,
                implicit,
            } => {
                let head = if *op == BinOp::Seq && *implicit {
                    "seq"
                } else {
                    op.symbol()
                };
                self.list(head, &[lhs, rhs]);
            }
            ExprKind::Assign { op, place, value } => self.list(op.symbol(), &[place, value]),
            ExprKind::Cond {
                cond,
                then,
                otherwise,
                origin,
            } => {
                let head = match origin {
                    CondOrigin::Ternary => "?",
                    CondOrigin::CaseBar => "case",
                };
                self.list(head, &[cond, then, otherwise]);
            }
            ExprKind::Catch { body, list } => {
                self.out.push_str("(catch ");
                self.expr(body);
                match list {
                    CatchList::All(_) => self.out.push_str(" all"),
                    CatchList::Names(names) => {
                        for n in names {
                            let _ = write!(self.out, " {}", path(n));
                        }
                    }
                }
                self.out.push(')');
            }
            ExprKind::If { arms, otherwise } => {
                self.out.push_str("(if");
                for (c, v) in arms {
                    self.out.push_str(" (");
                    self.expr(c);
                    self.out.push(' ');
                    self.expr(v);
                    self.out.push(')');
                }
                if let Some(o) = otherwise {
                    self.out.push_str(" (else ");
                    self.expr(o);
                    self.out.push(')');
                }
                self.out.push(')');
            }
            ExprKind::Let { bindings, body } => {
                self.out.push_str("(let (");
                for (i, b) in bindings.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    let _ = write!(self.out, "({}", b.name.text);
                    if let Some(t) = &b.ty {
                        self.out.push_str(" :> ");
                        self.ty(t);
                    }
                    if let Some(args) = &b.ctor_args {
                        self.out.push_str(" (args");
                        for a in args {
                            self.out.push(' ');
                            self.expr(a);
                        }
                        self.out.push(')');
                    }
                    if let Some(init) = &b.init {
                        self.out.push_str(" = ");
                        self.expr(init);
                    }
                    self.out.push(')');
                }
                self.out.push_str(") ");
                self.expr(body);
                self.out.push(')');
            }
            ExprKind::MinMax { which, args } => {
                let refs: Vec<&Expr> = args.iter().collect();
                self.list(
                    match which {
                        MinMax::Min => "min",
                        MinMax::Max => "max",
                    },
                    &refs,
                );
            }
            ExprKind::Error => self.out.push_str("(error)"),
        }
    }
}
