//! Types (§11): resolving written types, implicit conversions, casts and common types.
//!
//! Module views matter for names and for module values (a module value converts only within
//! one view, §9.5); the IR types underneath are view-free, so a sema [`Ty`] carries the view
//! next to the IR type.

use prolac_syntax::ast::{self, BuiltinType, TypeKind as AstType};
use prolac_syntax::codes::{P0410, P0617, P0722};
use prolac_syntax::{Diagnostic, Span};

use super::{Member, NsId, Sema, Ty, ViewId};
use crate::ir::{ConvKind, IntWidth, ModuleId, TypeId, TypeKind};

/// Where a type is written: the module whose names it may use, and the namespaces enclosing
/// the definition (outermost first).
#[derive(Clone, Debug)]
pub(crate) struct TypeCtx {
    pub(crate) module: ModuleId,
    pub(crate) ns_path: Vec<NsId>,
}

/// The views of two module values of one module, named for a message (§9.5).
pub(crate) struct ViewPhrases {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) note: Option<String>,
}

/// Why an implicit conversion is impossible.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ConvError {
    /// Different types.
    Mismatch,
    /// A module value to another view or module (P0601).
    ModuleValue,
    /// A non-null integer to a pointer (P0606).
    NotNull,
    /// A `void` value used.
    Void,
}

impl<'a> Sema<'a> {
    pub(crate) fn ty(&self, id: TypeId) -> Ty {
        Ty { id, view: None }
    }

    pub(crate) fn kind(&self, t: TypeId) -> TypeKind {
        self.ir.types.kind(t)
    }

    pub(crate) fn builtin(&mut self, b: BuiltinType) -> TypeId {
        let t = &mut self.ir.types;
        match b {
            BuiltinType::Void => t.void(),
            BuiltinType::Bool => t.bool(),
            BuiltinType::Char => t.int(IntWidth::W8, true),
            BuiltinType::Short => t.int(IntWidth::W16, true),
            BuiltinType::Int => t.int(IntWidth::W32, true),
            BuiltinType::Long => t.int(IntWidth::W64, true),
            BuiltinType::UChar => t.int(IntWidth::W8, false),
            BuiltinType::UShort => t.int(IntWidth::W16, false),
            BuiltinType::UInt => t.int(IntWidth::W32, false),
            BuiltinType::ULong => t.int(IntWidth::W64, false),
            BuiltinType::SeqInt => t.intern(TypeKind::SeqInt),
        }
    }

    pub(crate) fn int_ty(&mut self) -> TypeId {
        self.ir.types.int(IntWidth::W32, true)
    }

    pub(crate) fn long_ty(&mut self) -> TypeId {
        self.ir.types.int(IntWidth::W64, true)
    }

    pub(crate) fn never_ty(&mut self) -> TypeId {
        self.ir.types.intern(TypeKind::Never)
    }

    /// A pointer type, keeping the pointee's view for member lookup through it.
    pub(crate) fn ptr_to(&mut self, t: Ty) -> Ty {
        Ty {
            id: self.ir.types.ptr(t.id),
            view: t.view,
        }
    }

    /// The type a pointer points to, with the view it was seen through.
    pub(crate) fn pointee(&self, t: Ty) -> Option<Ty> {
        match self.kind(t.id) {
            TypeKind::Ptr(inner) => Some(Ty {
                id: inner,
                view: t.view,
            }),
            _ => None,
        }
    }

    /// The module type of a view (a module value).
    pub(crate) fn module_ty(&mut self, v: ViewId) -> Ty {
        let m = self.views[v].module;
        Ty {
            id: self.ir.types.intern(TypeKind::Module(m)),
            view: Some(v),
        }
    }

    /// How a type is written, for messages.
    pub(crate) fn type_name(&self, t: TypeId) -> String {
        match self.kind(t) {
            TypeKind::Void => "void".into(),
            TypeKind::Bool => "bool".into(),
            TypeKind::Int { width, signed } => match (width, signed) {
                (IntWidth::W8, true) => "char".into(),
                (IntWidth::W16, true) => "short".into(),
                (IntWidth::W32, true) => "int".into(),
                (IntWidth::W64, true) => "long".into(),
                (IntWidth::W8, false) => "uchar".into(),
                (IntWidth::W16, false) => "ushort".into(),
                (IntWidth::W32, false) => "uint".into(),
                (IntWidth::W64, false) => "ulong".into(),
            },
            TypeKind::SeqInt => "seqint".into(),
            TypeKind::Ptr(inner) => format!("*{}", self.type_name(inner)),
            TypeKind::Array(elem, n) => format!("{}[{n}]", self.type_name(elem)),
            TypeKind::Module(m) => self.module_name(m).to_string(),
            TypeKind::Never => "(raise)".into(),
        }
    }

    /// For two module values of one module seen through different views (§9.5), phrases
    /// naming the views, for messages: "the original view of `M`", "the default view of `M`",
    /// "the view `M inline all`", and a note when one is the original view, which no written
    /// type denotes. `None` unless `from` and `to` are such values.
    pub(crate) fn view_phrases(&mut self, from: Ty, to: Ty) -> Option<ViewPhrases> {
        let (TypeKind::Module(m), Some(a), Some(b)) = (self.kind(from.id), from.view, to.view)
        else {
            return None;
        };
        if from.id != to.id || !self.materialize(a) || !self.materialize(b) {
            return None;
        }
        let name = self.module_name(m).to_string();
        let original = format!("{name} (original)");
        let phrase = |key: &str| {
            if key == original {
                format!("the original view of `{name}`")
            } else if key == name {
                format!("the default view of `{name}`")
            } else {
                format!("the view `{key}`")
            }
        };
        let (ka, kb) = (&self.views[a].key, &self.views[b].key);
        Some(ViewPhrases {
            from: phrase(ka),
            to: phrase(kb),
            note: (*ka == original || *kb == original).then(|| {
                format!(
                    "`self` has the original view of `{name}`, which no written type denotes: \
                     `{name}` in a type is the view its header entry or definition gives"
                )
            }),
        })
    }

    pub(crate) fn is_integral(&self, t: TypeId) -> bool {
        matches!(self.kind(t), TypeKind::Int { .. } | TypeKind::SeqInt)
    }

    /// Integer promotion (§11.3): `char`, `short`, `uchar`, `ushort` become `int`.
    pub(crate) fn promote(&mut self, t: TypeId) -> TypeId {
        match self.kind(t) {
            TypeKind::Int { width, .. } if width.bits() < 32 => self.int_ty(),
            _ => t,
        }
    }

    fn rank(&self, t: TypeId) -> u8 {
        match self.kind(t) {
            TypeKind::Int {
                width: IntWidth::W64,
                signed: false,
            } => 5,
            TypeKind::Int {
                width: IntWidth::W64,
                signed: true,
            } => 4,
            TypeKind::SeqInt => 3,
            TypeKind::Int {
                width: IntWidth::W32,
                signed: false,
            } => 2,
            _ => 1,
        }
    }

    /// The common type of two integral types after promotion (§11.3).
    pub(crate) fn arith_common(&mut self, a: TypeId, b: TypeId) -> TypeId {
        let (a, b) = (self.promote(a), self.promote(b));
        if self.rank(a) >= self.rank(b) { a } else { b }
    }

    /// The module a pointer-to-module type points to.
    pub(crate) fn ptr_module(&self, t: TypeId) -> Option<ModuleId> {
        match self.kind(t) {
            TypeKind::Ptr(inner) => match self.kind(inner) {
                TypeKind::Module(m) => Some(m),
                _ => None,
            },
            _ => None,
        }
    }

    /// Is `a` an ancestor of `b` (or `b` itself)?
    pub(crate) fn descends(&self, b: ModuleId, a: ModuleId) -> bool {
        self.ir.is_subclass(b, a)
    }

    /// The implicit conversion from `from` to `to` (§11.8), or why there is none.
    /// `null` says the expression is a null pointer constant.
    pub(crate) fn implicit(
        &mut self,
        from: Ty,
        to: Ty,
        null: bool,
    ) -> Result<Option<ConvKind>, ConvError> {
        let (fk, tk) = (self.kind(from.id), self.kind(to.id));
        if fk == TypeKind::Never {
            return Ok(None);
        }
        if tk == TypeKind::Void {
            return Ok(if fk == TypeKind::Void {
                None
            } else {
                Some(ConvKind::ToVoid)
            });
        }
        if fk == TypeKind::Void {
            return Err(ConvError::Void);
        }
        if from.id == to.id {
            if let (TypeKind::Module(_), Some(a), Some(b)) = (fk, from.view, to.view)
                && a != b
                && self.materialize(a)
                && self.materialize(b)
                && self.views[a].key != self.views[b].key
            {
                return Err(ConvError::ModuleValue);
            }
            return Ok(None);
        }
        match (fk, tk) {
            (TypeKind::Int { .. } | TypeKind::SeqInt, TypeKind::Int { .. } | TypeKind::SeqInt) => {
                Ok(Some(ConvKind::Int))
            }
            (TypeKind::Int { .. } | TypeKind::SeqInt | TypeKind::Ptr(_), TypeKind::Bool) => {
                Ok(Some(ConvKind::ToBool))
            }
            (TypeKind::Int { .. }, TypeKind::Ptr(_)) => {
                if null {
                    Ok(Some(ConvKind::Ptr))
                } else {
                    Err(ConvError::NotNull)
                }
            }
            (TypeKind::Ptr(a), TypeKind::Ptr(b)) => {
                let (ak, bk) = (self.kind(a), self.kind(b));
                let ok = ak == TypeKind::Void
                    || bk == TypeKind::Void
                    || matches!((ak, bk), (TypeKind::Module(x), TypeKind::Module(y)) if self.descends(x, y));
                if ok {
                    Ok(Some(ConvKind::Ptr))
                } else {
                    Err(ConvError::Mismatch)
                }
            }
            (TypeKind::Array(elem, _), TypeKind::Ptr(p))
                if elem == p || self.kind(p) == TypeKind::Void =>
            {
                Ok(Some(ConvKind::Decay))
            }
            (TypeKind::Module(_), _) | (_, TypeKind::Module(_)) => Err(ConvError::ModuleValue),
            _ => Err(ConvError::Mismatch),
        }
    }

    /// The conversion a cast `(T) e` performs (§11.9), or `None` if the cast is invalid.
    pub(crate) fn cast(&mut self, from: Ty, to: Ty, null: bool) -> Option<Option<ConvKind>> {
        if let Ok(c) = self.implicit(from, to, null) {
            return Some(c);
        }
        match (self.kind(from.id), self.kind(to.id)) {
            (TypeKind::Bool, TypeKind::Int { .. }) => Some(Some(ConvKind::FromBool)),
            (TypeKind::Ptr(a), TypeKind::Ptr(b))
                if matches!(
                    (self.kind(a), self.kind(b)),
                    (TypeKind::Module(_), TypeKind::Module(_))
                ) =>
            {
                Some(Some(ConvKind::Ptr))
            }
            _ => None,
        }
    }

    /// The common type of two values (§11.10); `None` means they have none (rule 8: `void`).
    pub(crate) fn common(&mut self, a: Ty, b: Ty, a_null: bool, b_null: bool) -> Option<Ty> {
        let (ak, bk) = (self.kind(a.id), self.kind(b.id));
        if a.id == b.id {
            if let (TypeKind::Module(_), Some(x), Some(y)) = (ak, a.view, b.view)
                && self.views[x].key != self.views[y].key
            {
                return None;
            }
            return Some(a);
        }
        match (ak, bk) {
            (TypeKind::Never, _) => Some(b),
            (_, TypeKind::Never) => Some(a),
            (TypeKind::Void, _) | (_, TypeKind::Void) => {
                let v = self.ir.types.void();
                Some(self.ty(v))
            }
            (TypeKind::Bool, TypeKind::Int { .. } | TypeKind::SeqInt | TypeKind::Ptr(_))
            | (TypeKind::Int { .. } | TypeKind::SeqInt | TypeKind::Ptr(_), TypeKind::Bool) => {
                let b = self.ir.types.bool();
                Some(self.ty(b))
            }
            (TypeKind::Int { .. } | TypeKind::SeqInt, TypeKind::Int { .. } | TypeKind::SeqInt) => {
                let t = self.arith_common(a.id, b.id);
                Some(self.ty(t))
            }
            (TypeKind::Ptr(x), TypeKind::Ptr(y)) => match (self.kind(x), self.kind(y)) {
                (TypeKind::Module(mx), TypeKind::Module(my)) if self.descends(mx, my) => Some(b),
                (TypeKind::Module(mx), TypeKind::Module(my)) if self.descends(my, mx) => Some(a),
                _ => None,
            },
            (TypeKind::Ptr(_), TypeKind::Int { .. }) if b_null => Some(a),
            (TypeKind::Int { .. }, TypeKind::Ptr(_)) if a_null => Some(b),
            _ => None,
        }
    }

    /// Resolves a type written in a module.
    pub(crate) fn resolve_type(&mut self, t: &'a ast::Type, ctx: &TypeCtx) -> Option<Ty> {
        match &t.kind {
            AstType::Builtin(b) => {
                let id = self.builtin(*b);
                Some(self.ty(id))
            }
            AstType::Pointer(inner) => {
                let inner = self.resolve_type(inner, ctx)?;
                Some(self.ptr_to(inner))
            }
            AstType::Paren(inner) => self.resolve_type(inner, ctx),
            AstType::Array(elem, len) => {
                let elem = self.resolve_type(elem, ctx)?;
                if self.kind(elem.id) == TypeKind::Void {
                    self.error(
                        Diagnostic::new(P0617, t.span, "an array of `void`")
                            .with_help("use `uchar` for bytes"),
                    );
                    return None;
                }
                let n = self.const_u64(len, ctx.module)?;
                let id = self.ir.types.intern(TypeKind::Array(elem.id, n));
                Some(Ty {
                    id,
                    view: elem.view,
                })
            }
            AstType::Module(me) => {
                let v = self.module_expr_in_module(me, ctx)?;
                Some(self.module_ty(v))
            }
            AstType::Error => None,
        }
    }

    /// A constant expression that must be a non-negative integer.
    pub(crate) fn const_u64(&mut self, e: &'a ast::Expr, module: ModuleId) -> Option<u64> {
        match self.const_eval(e, module) {
            Some((value, t)) if self.is_integral(t) => {
                let signed = matches!(self.kind(t), TypeKind::Int { signed: true, .. });
                if signed && (value.0 as i64) < 0 {
                    self.error(Diagnostic::new(
                        P0722,
                        e.span,
                        "a size must not be negative",
                    ));
                    return None;
                }
                Some(value.0)
            }
            Some(_) => {
                self.error(Diagnostic::new(
                    P0722,
                    e.span,
                    "an integer constant is required here",
                ));
                None
            }
            None => None,
        }
    }

    /// A module expression written inside a module (types of fields, parameters, `let`).
    pub(crate) fn module_expr_in_module(
        &mut self,
        me: &'a ast::ModuleExpr,
        ctx: &TypeCtx,
    ) -> Option<ViewId> {
        let base = match &me.base {
            ast::ModuleRef::Path { global, path } => {
                self.module_path_in_module(ctx, *global, path, me.span)?
            }
            ast::ModuleRef::Paren(t) => match &t.kind {
                AstType::Module(inner) => self.module_expr_in_module(inner, ctx)?,
                AstType::Paren(inner) => match &inner.kind {
                    AstType::Module(inner) => self.module_expr_in_module(inner, ctx)?,
                    _ => return self.not_a_module(t.span),
                },
                _ => return self.not_a_module(t.span),
            },
        };
        Some(self.with_ops(base, &me.ops, Some(ctx.module)))
    }

    fn not_a_module(&mut self, span: Span) -> Option<ViewId> {
        self.error(Diagnostic::new(
            P0617,
            span,
            "module operators apply to modules only",
        ));
        None
    }

    /// A module name seen from inside a module: its own name, its header names, inner modules,
    /// in the namespaces enclosing the definition, innermost first (§5.3, §5.6).
    fn module_path_in_module(
        &mut self,
        ctx: &TypeCtx,
        global: bool,
        path: &'a [ast::Ident],
        span: Span,
    ) -> Option<ViewId> {
        let syms: Vec<super::names::Sym> =
            path.iter().map(|i| self.names.intern(&i.text)).collect();
        let scopes: Vec<NsId> = if global {
            ctx.ns_path.first().copied().into_iter().collect()
        } else {
            ctx.ns_path.iter().rev().copied().collect()
        };
        for ns in scopes {
            let Some(first) = self.namespaces[ns].entries.get(&syms[0]).copied() else {
                continue;
            };
            return match first.member {
                Member::Module(v) if syms.len() == 1 => Some(v),
                Member::Module(v) => self.view_path(v, &syms[1..], path, span),
                Member::Namespace(inner) => {
                    match self.ns_lookup(inner, &syms[1..]).map(|e| e.member) {
                        Some(Member::Module(v)) => Some(v),
                        _ => {
                            self.unknown_module(path, span);
                            None
                        }
                    }
                }
                _ => {
                    let name = path.iter().map(|p| &*p.text).collect::<Vec<_>>().join(".");
                    self.error(
                        Diagnostic::new(P0617, span, format!("`{name}` is not a module"))
                            .with_help("a type must name a module or a built-in type"),
                    );
                    None
                }
            };
        }
        if self
            .header(ctx.module)
            .is_some_and(|h| h.unresolved.contains(&syms[0]))
        {
            return None; // the header entry was reported
        }
        let name = path.iter().map(|p| &*p.text).collect::<Vec<_>>().join(".");
        let module = self.module_name(ctx.module).to_string();
        let short = module.rsplit('.').next().unwrap_or(&module).to_string();
        let visible: Vec<String> = ctx
            .ns_path
            .iter()
            .flat_map(|ns| self.namespaces[*ns].entries.iter())
            .filter(|(_, e)| matches!(e.member, Member::Module(_)))
            .map(|(n, _)| self.names.text(*n).to_string())
            .collect();
        if let Some(close) = super::names::suggest(&name, visible.iter().map(String::as_str)) {
            self.error(
                Diagnostic::new(P0410, span, format!("unknown module `{name}`"))
                    .with_label(format!("not visible in `{module}`"))
                    .with_help(format!("did you mean `{close}`?")),
            );
            return None;
        }
        self.error(
            Diagnostic::new(P0410, span, format!("unknown module `{name}`"))
                .with_label(format!("not visible in `{module}`"))
                .with_help(format!(
                    "only a module's own name and its header names are visible inside it: `module {short} … has {name} {{ … }}`"
                )),
        );
        None
    }

    fn view_path(
        &mut self,
        v: ViewId,
        rest: &[super::names::Sym],
        path: &[ast::Ident],
        span: Span,
    ) -> Option<ViewId> {
        if !self.materialize(v) {
            return None;
        }
        let ns = self.views[v].ns;
        match self.ns_lookup(ns, rest).map(|e| e.member) {
            Some(Member::Module(inner)) => Some(inner),
            _ => {
                self.unknown_module(path, span);
                None
            }
        }
    }
}
