//! The intermediate representation: a whole analysed program, as both back ends consume it.
//!
//! The IR is a *typed, structured expression IR*. Prolac has no statements, so a method body is
//! a tree of expression nodes stored in an arena ([`Body::exprs`], typed [`ExprId`] indices);
//! control flow is structured (`If`, `Seq`, `Loop`/`Recur`, `Catch`/`Raise`), which lowers
//! directly to Rust blocks and to Cranelift blocks alike. Every node carries its type; names are
//! resolved, conversions are explicit, and calls say how they are bound.
//!
//! Entities (modules, fields, methods, exceptions, selectors, types) live in dense maps indexed
//! by typed `u32` ids ([`cranelift_entity`]). Everything that is iterated to produce output is
//! ordered by id, so output is deterministic.
//!
//! Places and values share one node type: a node is a *place* (it can be assigned or have its
//! address taken) when [`ExprKind::is_place`] says so — locals, fields, static fields,
//! dereferences and array elements. Reading a place is using the node as a value.
//!
//! The text form is produced by [`print`] and read back by [`parse`]; [`verify`] checks the
//! invariants listed in its module documentation.

pub mod eval;
pub mod parse;
pub mod print;
pub mod verify;
pub mod walk;

use cranelift_entity::{PrimaryMap, entity_impl};
use prolac_syntax::Span;

/// A module (class).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleId(u32);
entity_impl!(ModuleId, "m");

/// A field (dynamic or static).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldId(u32);
entity_impl!(FieldId, "f");

/// A method definition (including constructors, extern methods, forwarders).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MethodId(u32);
entity_impl!(MethodId, "fn");

/// An exception.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExceptionId(u32);
entity_impl!(ExceptionId, "x");

/// A dynamic method name as introduced by its origin module; every override shares it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SelectorId(u32);
entity_impl!(SelectorId, "sel");

/// An interned type.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(u32);
entity_impl!(TypeId, "t");

/// A local variable slot of one body (parameters first).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalId(u32);
entity_impl!(LocalId, "v");

/// An expression node of one body.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExprId(u32);
entity_impl!(ExprId, "e");

/// Integer widths.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum IntWidth {
    /// 8 bits.
    W8,
    /// 16 bits.
    W16,
    /// 32 bits.
    W32,
    /// 64 bits.
    W64,
}

impl IntWidth {
    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            IntWidth::W8 => 8,
            IntWidth::W16 => 16,
            IntWidth::W32 => 32,
            IntWidth::W64 => 64,
        }
    }

    /// Width in bytes (also the alignment).
    pub fn bytes(self) -> u64 {
        u64::from(self.bits() / 8)
    }
}

/// The kinds of types.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum TypeKind {
    /// No value.
    Void,
    /// `true`/`false`, one byte.
    Bool,
    /// `char`…`ulong`.
    Int {
        /// Size.
        width: IntWidth,
        /// Two's complement signed.
        signed: bool,
    },
    /// 32-bit sequence number with circular comparison.
    SeqInt,
    /// `*T`.
    Ptr(TypeId),
    /// `T[n]`.
    Array(TypeId, u64),
    /// An object of a module (views are a front-end notion and do not appear here).
    Module(ModuleId),
    /// The type of an expression that never completes (a raise); converts to anything.
    Never,
}

/// The type table: every type interned once.
#[derive(Clone, Debug, Default)]
pub struct Types {
    kinds: PrimaryMap<TypeId, TypeKind>,
    index: std::collections::HashMap<TypeKind, TypeId>,
}

impl Types {
    /// Interns a type.
    pub fn intern(&mut self, kind: TypeKind) -> TypeId {
        if let Some(&id) = self.index.get(&kind) {
            return id;
        }
        let id = self.kinds.push(kind);
        self.index.insert(kind, id);
        id
    }

    /// The kind of a type.
    pub fn kind(&self, t: TypeId) -> TypeKind {
        self.kinds[t]
    }

    /// Every type, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, TypeKind)> + '_ {
        self.kinds.iter().map(|(id, k)| (id, *k))
    }

    /// `void`
    pub fn void(&mut self) -> TypeId {
        self.intern(TypeKind::Void)
    }

    /// `bool`
    pub fn bool(&mut self) -> TypeId {
        self.intern(TypeKind::Bool)
    }

    /// An integer type.
    pub fn int(&mut self, width: IntWidth, signed: bool) -> TypeId {
        self.intern(TypeKind::Int { width, signed })
    }

    /// `*t`
    pub fn ptr(&mut self, t: TypeId) -> TypeId {
        self.intern(TypeKind::Ptr(t))
    }
}

/// A constant value, as the bits of its type (integers zero- or sign-extended to 64 bits as
/// their type says; `bool` is 0 or 1; a null pointer is 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Const(pub u64);

/// Binary operators on values of one type (after conversion to the common type). Signedness
/// and circular order come from the operand type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BinOp {
    /// `+` (wrapping)
    Add,
    /// `-` (wrapping)
    Sub,
    /// `*` (wrapping)
    Mul,
    /// `/` (truncating; traps on zero)
    Div,
    /// `%` (traps on zero)
    Rem,
    /// `<<` (count modulo the width)
    Shl,
    /// `>>` (arithmetic for signed types; count modulo the width)
    Shr,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `==` (yields bool)
    Eq,
    /// `!=`
    Ne,
    /// `<` (circular for seqint)
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `min(a, b)` (circular for seqint)
    Min,
    /// `max(a, b)`
    Max,
    /// pointer + integer (scaled by the pointee size; bytes for `*void`)
    PtrAdd,
    /// pointer - pointer, in elements (`long`)
    PtrDiff,
}

/// Unary operators.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum UnOp {
    /// `-x` (wrapping)
    Neg,
    /// `~x`
    BitNot,
    /// `!b` on bool
    Not,
}

/// Conversions, all explicit in the IR.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ConvKind {
    /// Integer or seqint to another integer type or seqint: truncate, or extend by the
    /// source's signedness (seqint extends by zero).
    Int,
    /// Integer, seqint or pointer to bool (non-zero is true).
    ToBool,
    /// bool to integer (0 or 1).
    FromBool,
    /// Pointer to pointer (no code).
    Ptr,
    /// An array place to a pointer to its first element.
    Decay,
    /// Any value to void (discarded).
    ToVoid,
}

/// How a call is bound.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Callee {
    /// A static method, an extern method, or a statically bound dynamic method (the receiver is
    /// the first argument).
    Direct(MethodId),
    /// Dispatch on the run-time type of the receiver (the first argument) through a selector.
    Virtual(SelectorId),
}

/// Which exceptions a `catch` handles.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Handles {
    /// `catch all`
    All,
    /// `catch X` / `catch (X, Y)`
    Only(Vec<ExceptionId>),
}

impl Handles {
    /// True if a `catch` with these handles catches `x`.
    pub fn covers(&self, x: ExceptionId) -> bool {
        match self {
            Handles::All => true,
            Handles::Only(v) => v.contains(&x),
        }
    }
}

/// What a compound assignment yields.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Yields {
    /// The new value (`a += 1`, `++a`).
    New,
    /// The old value (`a++`).
    Old,
}

/// A Prolac entity named inside a host block, substituted by the back end.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum HostRef {
    /// `self` (the receiver object).
    SelfObject,
    /// A field of the receiver.
    Field(FieldId),
    /// A static field.
    Static(FieldId),
    /// A parameter or `let` variable.
    Local(LocalId),
    /// A symbolic constant's value, with its type.
    Const(Const, TypeId),
}

/// One substitution in a host block: the byte range of the name in the text, and what it is.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct HostSubst {
    /// Byte range in [`ExprKind::Host`]'s text.
    pub range: std::ops::Range<u32>,
    /// The entity.
    pub target: HostRef,
}

/// The kinds of expression nodes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ExprKind {
    /// A constant of the node's type.
    Const(Const),
    /// A string literal: a `*char` to static NUL-terminated bytes.
    Str(Vec<u8>),
    /// The all-zero value of the node's type (fresh objects and `let` scalars).
    Zero,
    /// A local variable (a place).
    Local(LocalId),
    /// A dynamic field of an object (a place); `object` is a place of module type.
    Field {
        /// The object.
        object: ExprId,
        /// The field.
        field: FieldId,
    },
    /// A static field (a place).
    Static(FieldId),
    /// `*p` (a place).
    Deref(ExprId),
    /// `a[i]` on an array place (a place).
    Index {
        /// The array place.
        array: ExprId,
        /// The index.
        index: ExprId,
    },
    /// `&place`
    AddrOf(ExprId),
    /// A binary operator.
    Binary(BinOp, ExprId, ExprId),
    /// A unary operator.
    Unary(UnOp, ExprId),
    /// A conversion to the node's type.
    Convert(ConvKind, ExprId),
    /// `place = value`; yields the new value.
    Assign {
        /// The place.
        place: ExprId,
        /// The value (already of the place's type).
        value: ExprId,
    },
    /// `place op= value`, `++`/`--`, `min=`/`max=`: the place is evaluated once.
    Update {
        /// The place.
        place: ExprId,
        /// The operator (`Add`, `Sub`, …, `Min`, `Max`, `PtrAdd`).
        op: BinOp,
        /// The operand.
        value: ExprId,
        /// New or old value.
        yields: Yields,
    },
    /// A call. For dynamic methods the first argument is the receiver pointer.
    Call {
        /// How it is bound.
        callee: Callee,
        /// The arguments, converted to the parameter types.
        args: Vec<ExprId>,
        /// The inline level requested at this site (0–3) by an expression operator or a
        /// module operator, before `-O` caps it; `None` leaves it to the callee's default.
        inline: Option<u8>,
    },
    /// Evaluate in order; the value is the last one's (at least one element).
    Seq(Vec<ExprId>),
    /// `if cond then a else b`; without `else` the node is void.
    If {
        /// The condition (bool).
        cond: ExprId,
        /// Taken if true.
        then: ExprId,
        /// Taken if false.
        otherwise: Option<ExprId>,
    },
    /// A loop: the body runs; a `Recur` inside it assigns `vars` and restarts it. Self tail
    /// calls become loops.
    Loop {
        /// The loop variables (for a method body: its parameters).
        vars: Vec<LocalId>,
        /// The body.
        body: ExprId,
    },
    /// Restart the innermost enclosing `Loop` with new values for its variables (evaluated
    /// left to right before any is assigned). Has type `Never`.
    Recur(Vec<ExprId>),
    /// Raise an exception (type `Never`).
    Raise(ExceptionId),
    /// `body catch …`: `false` if the body completes, `true` if a handled exception escapes it.
    Catch {
        /// The guarded expression.
        body: ExprId,
        /// The exceptions handled.
        handles: Handles,
    },
    /// Host-language text, run for effect; yields `true`.
    Host {
        /// The text, verbatim.
        text: String,
        /// Prolac names to substitute.
        subst: Vec<HostSubst>,
    },
    /// Abort the program: a call of a method without body, named here.
    Abort(String),
    /// Marks an unlikely branch (`outline[k]`); behaves as its operand.
    Cold {
        /// How unlikely (1–10; 0 cancels).
        level: u8,
        /// The expression.
        expr: ExprId,
    },
}

impl ExprKind {
    /// True for the kinds that denote places.
    pub fn is_place(&self) -> bool {
        matches!(
            self,
            ExprKind::Local(_)
                | ExprKind::Field { .. }
                | ExprKind::Static(_)
                | ExprKind::Deref(_)
                | ExprKind::Index { .. }
        )
    }
}

/// An expression node.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Its type.
    pub ty: TypeId,
    /// Where it came from (for diagnostics and comments in generated code).
    pub span: Span,
}

/// A local slot.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Local {
    /// The source name (`self` for the receiver, `tmp` for temporaries).
    pub name: String,
    /// Its type.
    pub ty: TypeId,
}

/// A method body.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Body {
    /// Local slots: the receiver pointer (dynamic methods), then the parameters, then `let`
    /// variables and temporaries.
    pub locals: PrimaryMap<LocalId, Local>,
    /// The expression arena.
    pub exprs: PrimaryMap<ExprId, Expr>,
    /// The body's value.
    pub root: Option<ExprId>,
}

impl Body {
    /// Adds a node.
    pub fn push(&mut self, kind: ExprKind, ty: TypeId, span: Span) -> ExprId {
        self.exprs.push(Expr { kind, ty, span })
    }

    /// Adds a local.
    pub fn local(&mut self, name: impl Into<String>, ty: TypeId) -> LocalId {
        self.locals.push(Local {
            name: name.into(),
            ty,
        })
    }
}

/// The kinds of methods.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MethodKind {
    /// No receiver.
    Static,
    /// A receiver; overrides share the selector.
    Dynamic(SelectorId),
    /// A constructor (dynamic, never dispatched).
    Constructor,
    /// A host function (static).
    Extern {
        /// The host's name for it.
        link_name: String,
    },
}

/// How a method came to exist.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Provenance {
    /// Written in the source.
    Written,
    /// A constructor synthesised for a module without one.
    SynthesisedConstructor,
    /// A forwarding method created by the implicit method search.
    Forwarder,
}

/// A method definition.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Method {
    /// The name as written (`on-reply`, `S.closing`).
    pub name: String,
    /// The module that defines it.
    pub owner: ModuleId,
    /// Static, dynamic, constructor or extern.
    pub kind: MethodKind,
    /// Parameter types, receiver excluded.
    pub params: Vec<TypeId>,
    /// The return type.
    pub ret: TypeId,
    /// The body; `None` for bodyless methods (calling one aborts) and extern methods.
    pub body: Option<Body>,
    /// The preferred inline level when nothing else decides (0–3).
    pub inline: u8,
    /// The exceptions that can escape it (its exception set), sorted.
    pub raises: Vec<ExceptionId>,
    /// Where it was defined.
    pub provenance: Provenance,
    /// Its source location.
    pub span: Span,
}

impl Method {
    /// True if the method has a receiver.
    pub fn has_receiver(&self) -> bool {
        matches!(self.kind, MethodKind::Dynamic(_) | MethodKind::Constructor)
    }
}

/// A field.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Field {
    /// The name as written.
    pub name: String,
    /// The module that declares it.
    pub owner: ModuleId,
    /// Its type.
    pub ty: TypeId,
    /// `static field`.
    pub is_static: bool,
    /// A pinned byte offset (`@`).
    pub pinned: Option<u64>,
    /// Its source location.
    pub span: Span,
}

/// An exception.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Exception {
    /// The full name (`Ping-Input.bad-checksum`).
    pub name: String,
    /// The module that declares it.
    pub owner: ModuleId,
    /// Its source location.
    pub span: Span,
}

/// A dynamic method name and the module that introduced it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Selector {
    /// The name.
    pub name: String,
    /// The origin module.
    pub origin: ModuleId,
}

/// A module.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Module {
    /// The full name (`Ping-Stack.Rtt.Peer`).
    pub name: String,
    /// The parent.
    pub parent: Option<ModuleId>,
    /// Fields declared by this module itself, in declaration order.
    pub fields: Vec<FieldId>,
    /// For each selector the module responds to, the definition it uses (its *actual*), in
    /// selector order.
    pub vtable: Vec<(SelectorId, MethodId)>,
    /// The constructor (written or synthesised).
    pub constructor: Option<MethodId>,
    /// Its source location.
    pub span: Span,
}

/// Support code (`%{ … %}`), placed at the top or the bottom of the output.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Support {
    /// The text.
    pub text: String,
    /// Before the first definition (prologue) or after (epilogue).
    pub prologue: bool,
    /// Where.
    pub span: Span,
}

/// A whole analysed program.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Every type.
    pub types: Types,
    /// Every module.
    pub modules: PrimaryMap<ModuleId, Module>,
    /// Every field.
    pub fields: PrimaryMap<FieldId, Field>,
    /// Every method.
    pub methods: PrimaryMap<MethodId, Method>,
    /// Every exception.
    pub exceptions: PrimaryMap<ExceptionId, Exception>,
    /// Every selector.
    pub selectors: PrimaryMap<SelectorId, Selector>,
    /// The entry points, in export order.
    pub exports: Vec<MethodId>,
    /// Support blocks in output order.
    pub support: Vec<Support>,
    /// Names a composition gives its final modules (`Tcp.Tcb` for `Tcp.Timers.Tcb`), so that
    /// host code can name them whichever layers are present; in composition order.
    pub aliases: Vec<(String, ModuleId)>,
}

impl Program {
    /// True if `sub` is `sup` or descends from it.
    pub fn is_subclass(&self, sub: ModuleId, sup: ModuleId) -> bool {
        let mut m = Some(sub);
        while let Some(id) = m {
            if id == sup {
                return true;
            }
            m = self.modules[id].parent;
        }
        false
    }

    /// The definition module `m` uses for a selector.
    pub fn actual(&self, m: ModuleId, sel: SelectorId) -> Option<MethodId> {
        self.modules[m]
            .vtable
            .iter()
            .find(|(s, _)| *s == sel)
            .map(|(_, method)| *method)
    }
}
