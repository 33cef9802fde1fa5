//! Checks on the syntax tree that the grammar leaves to a later pass, so that a mistake gets a
//! precise diagnostic instead of a generic syntax error:
//!
//! - items in the wrong place (P0201, P0202, P0206, P0304);
//! - `:> super` outside a layer (P0503) or next to another parent (P0502);
//! - a constructor with a return type (P0710), an extern method that is not static (P1102);
//! - module-operator forms that are never valid (`show all` P0905, renaming the constructor
//!   P0904, `rename` without `new =` P0910);
//! - expressions: a built-in type used as a value (P0615), a `let` binding with neither type nor
//!   initial value (P0611), `min`/`max` with other than two operands (P0207).

use crate::ast::*;
use crate::codes::*;
use crate::diagnostic::Diagnostic;

/// Where an item appears.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    File,
    FileNamespace,
    Module,
    ModuleNamespace,
    Layer,
    LayerNamespace,
}

impl Place {
    fn in_module(self) -> bool {
        matches!(self, Place::Module | Place::ModuleNamespace)
    }

    fn in_layer(self) -> bool {
        matches!(self, Place::Layer | Place::LayerNamespace)
    }

    fn describe(self) -> &'static str {
        match self {
            Place::File => "at file level",
            Place::FileNamespace => "in a file-level namespace",
            Place::Module => "inside a module",
            Place::ModuleNamespace => "in a namespace inside a module",
            Place::Layer => "inside a layer",
            Place::LayerNamespace => "in a namespace inside a layer",
        }
    }
}

struct Validator<'d> {
    diags: &'d mut Vec<Diagnostic>,
}

/// Validates a parsed file, appending diagnostics.
pub(crate) fn validate(file: &File, diags: &mut Vec<Diagnostic>) {
    let mut v = Validator { diags };
    v.items(&file.items, Place::File);
}

impl Validator<'_> {
    fn items(&mut self, items: &[Item], place: Place) {
        for item in items {
            self.item(item, place);
        }
    }

    fn not_here(&mut self, item: &Item, what: &str, place: Place, help: &str) {
        self.diags.push(
            Diagnostic::new(
                P0206,
                item.span,
                format!("{what} is not allowed {}", place.describe()),
            )
            .with_help(help.to_string()),
        );
    }

    fn item(&mut self, item: &Item, place: Place) {
        match &item.kind {
            ItemKind::Module(m) => self.module(item, m, place),
            ItemKind::Equation(eq) => {
                if place.in_module() {
                    self.not_here(
                        item,
                        "a module equation",
                        place,
                        "define the equation at file level or in a file-level namespace",
                    );
                }
                self.module_expr(&eq.value);
            }
            ItemKind::Namespace(ns) => {
                let inner = match place {
                    Place::File | Place::FileNamespace => Place::FileNamespace,
                    Place::Module | Place::ModuleNamespace => Place::ModuleNamespace,
                    Place::Layer | Place::LayerNamespace => Place::LayerNamespace,
                };
                self.items(&ns.items, inner);
            }
            ItemKind::Export(_) => {
                if place.in_module() {
                    self.diags.push(
                        Diagnostic::new(P0304, item.span, "`export` inside a module")
                            .with_help("move the export list after the module, to file level"),
                    );
                } else if place.in_layer() {
                    self.not_here(
                        item,
                        "`export`",
                        place,
                        "export the composed modules at file level: `export Stack.Api.all;`",
                    );
                }
            }
            ItemKind::Support(_) | ItemKind::Error => {}
            ItemKind::Include(_) => {
                if place != Place::File {
                    self.not_here(item, "`include`", place, "`include` is a file-level item");
                }
            }
            ItemKind::Layer(layer) => {
                if place != Place::File {
                    self.not_here(item, "a layer", place, "define layers at file level");
                }
                self.items(&layer.items, Place::Layer);
            }
            ItemKind::Compose(_) => {
                if place != Place::File {
                    self.not_here(
                        item,
                        "a composition",
                        place,
                        "write `compose` at file level",
                    );
                }
            }
            ItemKind::Method(m) => {
                self.outside_module(item, "a method", place);
                self.method(m);
            }
            ItemKind::Field(f) => {
                self.outside_module(item, "a field", place);
                self.ty(&f.ty);
                if let Some(offset) = &f.offset {
                    self.expr(offset);
                }
            }
            ItemKind::Exception(_) => self.outside_module(item, "an exception", place),
        }
    }

    fn outside_module(&mut self, item: &Item, what: &str, place: Place) {
        if !place.in_module() {
            self.diags.push(
                Diagnostic::new(
                    P0201,
                    item.span,
                    format!("{what} cannot be defined {}", place.describe()),
                )
                .with_label("methods, fields and exceptions live inside modules")
                .with_help("put it inside a `module … { … }`"),
            );
        }
    }

    fn module(&mut self, item: &Item, m: &ModuleDef, place: Place) {
        if place.in_module() && (!m.parents.is_empty() || !m.imports.is_empty()) {
            self.diags.push(
                Diagnostic::new(
                    P0202,
                    m.name.span,
                    format!(
                        "module `{}` is defined inside a module and has a header",
                        m.name.last().text
                    ),
                )
                .with_secondary(item.span, "defined here")
                .with_help(
                    "define it at file level, in a namespace: `module Outer.Inner :> Base { … }`",
                ),
            );
        }
        let supers: Vec<_> = m
            .parents
            .iter()
            .filter_map(|p| match p {
                ParentEntry::Super { span, .. } => Some(*span),
                ParentEntry::Module(_) => None,
            })
            .collect();
        if let Some(&first) = supers.first() {
            if !place.in_layer() {
                self.diags.push(
                    Diagnostic::new(P0503, first, "`:> super` outside a layer")
                        .with_label("there is no previous layer to refine")
                        .with_help("name the parent module explicitly"),
                );
            } else if m.parents.len() > 1 {
                self.diags.push(
                    Diagnostic::new(P0502, first, "a refinement lists another parent")
                        .with_label("`super` is this module's parent")
                        .with_help("remove the other parent entries"),
                );
            }
        }
        for p in &m.parents {
            match p {
                ParentEntry::Module(me) => self.module_expr(me),
                ParentEntry::Super { ops, .. } => self.ops(ops),
            }
        }
        for imp in &m.imports {
            self.module_expr(&imp.module);
        }
        self.ops(&m.ops);
        self.items(&m.body, Place::Module);
    }

    fn method(&mut self, m: &Method) {
        let is_ctor = m.name.parts.len() == 1 && &*m.name.last().text == "constructor";
        if is_ctor && let Some(ret) = &m.ret {
            self.diags.push(
                Diagnostic::new(P0710, ret.span, "a constructor cannot have a return type")
                    .with_help("remove `:> …` from the constructor"),
            );
        }
        if let MethodBody::Extern(_) = m.body
            && !m.is_static
        {
            self.diags.push(
                Diagnostic::new(
                    P1102,
                    m.name.span,
                    format!("extern method `{}` is not static", m.name.last().text),
                )
                .with_label("extern methods have no receiver")
                .with_help(
                    "write `static` before the name; pass a receiver as a pointer parameter",
                ),
            );
        }
        for p in m.params.iter().flatten() {
            self.ty(&p.ty);
        }
        if let Some(ret) = &m.ret {
            self.ty(ret);
        }
        if let MethodBody::Expr(e) = &m.body {
            self.expr(e);
        }
    }

    fn module_expr(&mut self, m: &ModuleExpr) {
        if let ModuleRef::Paren(t) = &m.base {
            self.ty(t);
        }
        self.ops(&m.ops);
    }

    fn ops(&mut self, ops: &[ModOp]) {
        for op in ops {
            if let Some(level) = &op.level {
                self.expr(level);
            }
            for item in &op.items {
                match (op.kind, item) {
                    (ModOpKind::Show, OpItem::All(span)) => self.diags.push(
                        Diagnostic::new(P0905, *span, "`show all` is not supported")
                            .with_help("list the names to show: `show (a, b)`"),
                    ),
                    (ModOpKind::Show | ModOpKind::Rename, OpItem::Alias { new, old })
                        if old.len() == 1 && &*old[0].text == "constructor" =>
                    {
                        self.diags.push(
                            Diagnostic::new(
                                P0904,
                                new.span.to(old[0].span),
                                "the constructor cannot be given another name",
                            )
                            .with_help("`show constructor` exposes it under its own name"),
                        )
                    }
                    (ModOpKind::Rename, OpItem::Alias { .. }) => {}
                    (ModOpKind::Rename, other) => {
                        let span = match other {
                            OpItem::Name(p) => p[0].span.to(p[p.len() - 1].span),
                            OpItem::All(s) | OpItem::AllStatic(s) => *s,
                            OpItem::Glob(s) => s.span,
                            OpItem::Alias { new, .. } => new.span,
                        };
                        self.diags.push(
                            Diagnostic::new(P0910, span, "`rename` item without a new name")
                                .with_label("expected `new = old`")
                                .with_help("write `rename (new = old)`; to hide a name use `hide`"),
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    fn ty(&mut self, t: &Type) {
        match &t.kind {
            TypeKind::Builtin(_) | TypeKind::Error => {}
            TypeKind::Module(m) => self.module_expr(m),
            TypeKind::Pointer(inner) | TypeKind::Paren(inner) => self.ty(inner),
            TypeKind::Array(elem, len) => {
                self.ty(elem);
                self.expr(len);
            }
        }
    }

    fn exprs<'a>(&mut self, es: impl IntoIterator<Item = &'a Expr>) {
        for e in es {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int(_)
            | ExprKind::Char(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::SelfValue
            | ExprKind::Super
            | ExprKind::Name(_)
            | ExprKind::GlobalName(_)
            | ExprKind::Host(_)
            | ExprKind::Error => {}
            ExprKind::TypeWord(b) => self.diags.push(
                Diagnostic::new(
                    P0615,
                    e.span,
                    format!("the type `{}` is used as a value", b.keyword()),
                )
                .with_label("a type, not a value")
                .with_help(
                    "a cast is followed directly by its operand; a prefix operator after `(T)` \
                         makes a grouping: write `(T)(-x)`",
                ),
            ),
            ExprKind::Paren(inner)
            | ExprKind::PostIncDec { operand: inner, .. }
            | ExprKind::Prefix { operand: inner, .. } => self.expr(inner),
            ExprKind::Member { base, .. } => self.expr(base),
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                self.exprs(args);
            }
            ExprKind::Index { base, index } => self.exprs([&**base, &**index]),
            ExprKind::CodeOp { op, operand } => {
                if let CodeOp::Inline(Some(level)) = op {
                    self.expr(level);
                }
                self.expr(operand);
            }
            ExprKind::Outline { level, operand } => {
                if let Some(level) = level {
                    self.expr(level);
                }
                self.expr(operand);
            }
            ExprKind::Cast { ty, operand } => {
                self.ty(ty);
                self.expr(operand);
            }
            ExprKind::TypeAssert { expr, ty } => {
                self.expr(expr);
                self.ty(ty);
            }
            ExprKind::ModOps { base, ops } => {
                self.expr(base);
                self.ops(ops);
            }
            ExprKind::Binary { lhs, rhs, .. } => self.exprs([&**lhs, &**rhs]),
            ExprKind::Assign { place, value, .. } => self.exprs([&**place, &**value]),
            ExprKind::Cond {
                cond,
                then,
                otherwise,
                ..
            } => self.exprs([&**cond, &**then, &**otherwise]),
            ExprKind::Catch { body, .. } => self.expr(body),
            ExprKind::If { arms, otherwise } => {
                for (c, v) in arms {
                    self.exprs([c, v]);
                }
                if let Some(o) = otherwise {
                    self.expr(o);
                }
            }
            ExprKind::Let { bindings, body } => {
                for b in bindings {
                    if b.ty.is_none() && b.init.is_none() {
                        self.diags.push(
                            Diagnostic::new(
                                P0611,
                                b.span,
                                format!(
                                    "`let` binding `{}` has neither a type nor a value",
                                    b.name.text
                                ),
                            )
                            .with_help(format!(
                                "give it a type (`{0} :> uint`) or a value (`{0} = 0`)",
                                b.name.text
                            )),
                        );
                    }
                    if let Some(t) = &b.ty {
                        self.ty(t);
                    }
                    self.exprs(b.ctor_args.iter().flatten());
                    if let Some(init) = &b.init {
                        self.expr(init);
                    }
                }
                self.expr(body);
            }
            ExprKind::MinMax { which, args } => {
                if args.len() != 2 {
                    let name = match which {
                        MinMax::Min => "min",
                        MinMax::Max => "max",
                    };
                    self.diags.push(
                        Diagnostic::new(
                            P0207,
                            e.span,
                            format!("`{name}` takes exactly two operands, found {}", args.len()),
                        )
                        .with_help(format!("nest it: `{name}(a, {name}(b, c))`")),
                    );
                }
                self.exprs(args);
            }
        }
    }
}
