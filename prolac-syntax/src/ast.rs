//! The syntax tree.
//!
//! The tree records what was written, with a span on every node, and resolves nothing. Three
//! rewrites happen during parsing because the language defines them syntactically:
//! operator precedence (including the asymmetric `catch`), `|||` case bars (§12.7), and the
//! implicit commas next to host blocks. Parentheses are kept as [`ExprKind::Paren`] nodes,
//! because grouping matters to later rules (`(X) * e` may turn out to be a cast).
//!
//! One [`Item`] type serves every level (file, namespace, module body, layer); the validator
//! reports items in the wrong place, so that a misplaced definition gets a precise diagnostic
//! instead of a syntax error.

use crate::span::Span;
use crate::token::IntLit;

/// An identifier as written (hyphens kept). Two identifiers denote the same name if their
/// [`Ident::key`]s are equal.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Ident {
    /// The spelling in the source (`send-next`).
    pub text: Box<str>,
    /// Where.
    pub span: Span,
}

impl Ident {
    /// The underscore spelling, which identifies the name (`send_next`).
    pub fn key(&self) -> String {
        self.text.replace('-', "_")
    }

    /// True if this is the keyword `all` used as a name component.
    pub fn is_all(&self) -> bool {
        &*self.text == "all"
    }
}

/// A string literal.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StrLit {
    /// Decoded bytes, without the terminating NUL.
    pub bytes: Vec<u8>,
    /// Where, including the quotes.
    pub span: Span,
}

impl StrLit {
    /// The bytes as text (lossy for non-UTF-8 escapes).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Host-language text: the content of a host block or a support block.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HostText {
    /// The text between the delimiters, verbatim.
    pub text: Box<str>,
    /// Where the whole block is, delimiters included.
    pub span: Span,
    /// Where the text between the delimiters is.
    pub content: Span,
}

/// A whole file.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct File {
    /// Top-level items, in source order.
    pub items: Vec<Item>,
}

/// A definition or other item.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// Where, from its first to its last token.
    pub span: Span,
}

/// The kinds of items.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ItemKind {
    /// `module Name :> Parent has Import { … } ops;`
    Module(Box<ModuleDef>),
    /// `module Name ::= module-expression;`
    Equation(Box<ModuleEq>),
    /// `Name { … }`
    Namespace(Box<Namespace>),
    /// `export A.b, C.all;`
    Export(Vec<ExportRef>),
    /// `%{ … %}`
    Support(HostText),
    /// `include "file.pc";`
    Include(StrLit),
    /// `layer Name requires A, B { … }`
    Layer(Box<Layer>),
    /// `compose Name = A, B, C;`
    Compose(Box<Compose>),
    /// A method or constructor.
    Method(Box<Method>),
    /// `field name :> T @ k;`
    Field(Box<Field>),
    /// `exception name;`
    Exception(DefName),
    /// Something that did not parse; its diagnostic has been reported.
    Error,
}

/// A defining name: `a`, `S.closing`, `(htons)`, `constructor`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DefName {
    /// The components, outermost first.
    pub parts: Vec<DefPart>,
    /// Where.
    pub span: Span,
}

impl DefName {
    /// The last component (the name itself; the others are namespaces).
    pub fn last(&self) -> &Ident {
        // The grammar never builds an empty defining name.
        &self.parts[self.parts.len() - 1].ident
    }
}

/// One component of a defining name.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DefPart {
    /// The name.
    pub ident: Ident,
    /// Written in parentheses (`(htons)`), which has no meaning beyond protecting it from a C
    /// preprocessor.
    pub parenthesized: bool,
}

/// `module Name :> parents has imports { body } ops`
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModuleDef {
    /// `module` or `class`.
    pub keyword: Span,
    /// The module's name, possibly qualified.
    pub name: DefName,
    /// The parent list (more than one entry only to re-list ancestors).
    pub parents: Vec<ParentEntry>,
    /// The import list.
    pub imports: Vec<ImportEntry>,
    /// The definitions inside the braces.
    pub body: Vec<Item>,
    /// After-module operators.
    pub ops: Vec<ModOp>,
}

/// One entry of a parent list.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ParentEntry {
    /// A module expression.
    Module(ModuleExpr),
    /// `super` with operators: the same module in the previous layer.
    Super {
        /// The `super` keyword.
        span: Span,
        /// Operators applied to it.
        ops: Vec<ModOp>,
    },
}

/// One entry of an import list: `Window using all` or `Local :> Wire.Header`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ImportEntry {
    /// The local name of a named import.
    pub local: Option<Ident>,
    /// The imported module.
    pub module: ModuleExpr,
}

/// `module Name ::= module-expression;`
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModuleEq {
    /// `module` or `class`.
    pub keyword: Span,
    /// The bound name.
    pub name: DefName,
    /// What it denotes.
    pub value: ModuleExpr,
}

/// `Name { items }`
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Namespace {
    /// The namespace's name, possibly qualified.
    pub name: DefName,
    /// Its items.
    pub items: Vec<Item>,
}

/// One entry of an export list: `.Ping.Api.all`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ExportRef {
    /// Starts with `.`.
    pub global: bool,
    /// The name components (the last may be `all` or `constructor`).
    pub path: Vec<Ident>,
    /// Where.
    pub span: Span,
}

/// `layer Name requires A, B { items }`
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Layer {
    /// The layer's name.
    pub name: Ident,
    /// Layers that must come earlier in a composition.
    pub requires: Vec<Ident>,
    /// Its items.
    pub items: Vec<Item>,
}

/// `compose Name = A, B, C;`
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Compose {
    /// The composition's name.
    pub name: Ident,
    /// Its layers, in order.
    pub layers: Vec<Ident>,
}

/// A method (or constructor) definition.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Method {
    /// `static` was written.
    pub is_static: bool,
    /// The name, possibly qualified.
    pub name: DefName,
    /// Parameters; `None` if the parameter list was omitted (`f ::= …`), which means none.
    pub params: Option<Vec<Param>>,
    /// The declared return type (`void` if omitted).
    pub ret: Option<Type>,
    /// The body.
    pub body: MethodBody,
}

/// A parameter `name :> type`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Param {
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: Type,
}

/// What follows `::=`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MethodBody {
    /// An expression.
    Expr(Expr),
    /// Nothing: calling the method aborts the program (it exists to be overridden).
    Empty,
    /// `extern` or `extern "link_name"`: a host function.
    Extern(Option<StrLit>),
}

/// `[static] field name :> type [@ offset];`
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Field {
    /// `static` was written.
    pub is_static: bool,
    /// Its name, possibly qualified.
    pub name: DefName,
    /// Its type.
    pub ty: Type,
    /// The pinned offset.
    pub offset: Option<Expr>,
}

/// A module reference with operators: `Window using (fits) inline all`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModuleExpr {
    /// The module named.
    pub base: ModuleRef,
    /// Operators, applied left to right.
    pub ops: Vec<ModOp>,
    /// Where.
    pub span: Span,
}

/// The module part of a module expression.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ModuleRef {
    /// `Ping.Header` or `.Header`.
    Path {
        /// Starts with `.`.
        global: bool,
        /// The components.
        path: Vec<Ident>,
    },
    /// `( … )`, a parenthesised type or module expression.
    Paren(Box<Type>),
}

/// The module operators.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ModOpKind {
    /// `hide`
    Hide,
    /// `show`
    Show,
    /// `rename`
    Rename,
    /// `using`
    Using,
    /// `notusing`
    NotUsing,
    /// `inline` / `inline[k]` (the level, if written, is in [`ModOp::level`])
    Inline,
    /// `noinline`
    NoInline,
    /// `defaultinline`
    DefaultInline,
    /// `pathinline`
    PathInline,
}

impl ModOpKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            ModOpKind::Hide => "hide",
            ModOpKind::Show => "show",
            ModOpKind::Rename => "rename",
            ModOpKind::Using => "using",
            ModOpKind::NotUsing => "notusing",
            ModOpKind::Inline => "inline",
            ModOpKind::NoInline => "noinline",
            ModOpKind::DefaultInline => "defaultinline",
            ModOpKind::PathInline => "pathinline",
        }
    }
}

/// A module operator with its operands.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModOp {
    /// Which operator.
    pub kind: ModOpKind,
    /// For `inline[k]`: `k`.
    pub level: Option<Box<Expr>>,
    /// The operands.
    pub items: Vec<OpItem>,
    /// The operands were written in parentheses.
    pub parenthesized: bool,
    /// Where, keyword and operands.
    pub span: Span,
}

/// An operand of a module operator.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum OpItem {
    /// A name or dotted name: `bump`, `S.open`, `Window.all`.
    Name(Vec<Ident>),
    /// `all`
    All(Span),
    /// `allstatic`
    AllStatic(Span),
    /// A glob: `"count_*"`.
    Glob(StrLit),
    /// `new = old`
    Alias {
        /// The new name.
        new: Ident,
        /// The existing name.
        old: Vec<Ident>,
    },
}

/// The built-in types.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(missing_docs)]
pub enum BuiltinType {
    Void,
    Bool,
    Char,
    Short,
    Int,
    Long,
    UChar,
    UShort,
    UInt,
    ULong,
    SeqInt,
}

impl BuiltinType {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            BuiltinType::Void => "void",
            BuiltinType::Bool => "bool",
            BuiltinType::Char => "char",
            BuiltinType::Short => "short",
            BuiltinType::Int => "int",
            BuiltinType::Long => "long",
            BuiltinType::UChar => "uchar",
            BuiltinType::UShort => "ushort",
            BuiltinType::UInt => "uint",
            BuiltinType::ULong => "ulong",
            BuiltinType::SeqInt => "seqint",
        }
    }
}

/// A type expression.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Type {
    /// What type.
    pub kind: TypeKind,
    /// Where.
    pub span: Span,
}

/// The kinds of type expressions.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TypeKind {
    /// `uint`, `seqint`, …
    Builtin(BuiltinType),
    /// A module, through a view.
    Module(Box<ModuleExpr>),
    /// `*T`
    Pointer(Box<Type>),
    /// `T[k]`
    Array(Box<Type>, Box<Expr>),
    /// `( T )`
    Paren(Box<Type>),
    /// Not a type; its diagnostic has been reported.
    Error,
}

/// An expression.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Expr {
    /// What expression.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// Prefix operators (level 26).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PrefixOp {
    /// `&e`
    AddrOf,
    /// `*e`
    Deref,
    /// `+e`
    Plus,
    /// `-e`
    Neg,
    /// `~e`
    BitNot,
    /// `!e`
    Not,
    /// `++e`
    PreInc,
    /// `--e`
    PreDec,
}

impl PrefixOp {
    /// The operator's spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            PrefixOp::AddrOf => "&",
            PrefixOp::Deref => "*",
            PrefixOp::Plus => "+",
            PrefixOp::Neg => "-",
            PrefixOp::BitNot => "~",
            PrefixOp::Not => "!",
            PrefixOp::PreInc => "++",
            PrefixOp::PreDec => "--",
        }
    }
}

/// Binary operators, with their precedence levels (§12.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BinOp {
    /// `a, b` (level 5); also the implicit comma next to a host block.
    Seq,
    /// `a ==> b` (level 3, right-associative)
    Implies,
    /// `a || b` produced by the `|||` rewrite (level 2), where `a` has no case structure.
    CaseOr,
    /// `||` (15)
    Or,
    /// `&&` (16)
    And,
    /// `|` (17)
    BitOr,
    /// `^` (18)
    BitXor,
    /// `&` (19)
    BitAnd,
    /// `==` (20)
    Eq,
    /// `!=` (20)
    Ne,
    /// `<` (22)
    Lt,
    /// `<=` (22)
    Le,
    /// `>` (22)
    Gt,
    /// `>=` (22)
    Ge,
    /// `<<` (23)
    Shl,
    /// `>>` (23)
    Shr,
    /// `+` (24)
    Add,
    /// `-` (24)
    Sub,
    /// `*` (25)
    Mul,
    /// `/` (25)
    Div,
    /// `%` (25)
    Rem,
}

impl BinOp {
    /// The operator's spelling (`|||` for [`BinOp::CaseOr`], which came from one).
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Seq => ",",
            BinOp::Implies => "==>",
            BinOp::CaseOr => "|||",
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::BitAnd => "&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }

    /// The precedence level (§12.1).
    pub fn level(self) -> u8 {
        match self {
            BinOp::CaseOr => 2,
            BinOp::Implies => 3,
            BinOp::Seq => 5,
            BinOp::Or => 15,
            BinOp::And => 16,
            BinOp::BitOr => 17,
            BinOp::BitXor => 18,
            BinOp::BitAnd => 19,
            BinOp::Eq | BinOp::Ne => 20,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 22,
            BinOp::Shl | BinOp::Shr => 23,
            BinOp::Add | BinOp::Sub => 24,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 25,
        }
    }

    /// Right-associative operators.
    pub fn is_right_assoc(self) -> bool {
        self == BinOp::Implies
    }
}

/// Assignment operators (level 10, right-associative). `a op= b` means `a = a op b` with `a`
/// evaluated once.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AssignOp {
    /// `=`
    Assign,
    /// `op=` for an arithmetic or bitwise operator.
    Compound(BinOp),
    /// `min=`
    Min,
    /// `max=`
    Max,
}

impl AssignOp {
    /// The operator's spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            AssignOp::Assign => "=",
            AssignOp::Compound(BinOp::Add) => "+=",
            AssignOp::Compound(BinOp::Sub) => "-=",
            AssignOp::Compound(BinOp::Mul) => "*=",
            AssignOp::Compound(BinOp::Div) => "/=",
            AssignOp::Compound(BinOp::Rem) => "%=",
            AssignOp::Compound(BinOp::BitXor) => "^=",
            AssignOp::Compound(BinOp::BitAnd) => "&=",
            AssignOp::Compound(BinOp::BitOr) => "|=",
            AssignOp::Compound(BinOp::Shl) => "<<=",
            AssignOp::Compound(BinOp::Shr) => ">>=",
            AssignOp::Compound(_) => "?=",
            AssignOp::Min => "min=",
            AssignOp::Max => "max=",
        }
    }
}

/// Expression inline operators: `inline[k] e` and friends (§12.14).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CodeOp {
    /// `inline e` (level 2) or `inline[k] e`.
    Inline(Option<Box<Expr>>),
    /// `noinline e` (level 0)
    NoInline,
    /// `defaultinline e` (level 1)
    DefaultInline,
    /// `pathinline e` (level 3)
    PathInline,
}

/// Where a conditional came from, for messages and printing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CondOrigin {
    /// Written as `a ? b : c`.
    Ternary,
    /// Produced by rewriting `a ==> b ||| c` (§12.7).
    CaseBar,
}

/// The operand of `catch`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CatchList {
    /// `catch all`
    All(Span),
    /// `catch X` or `catch (X, Y)`: dotted exception names.
    Names(Vec<Vec<Ident>>),
}

/// `min` or `max`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum MinMax {
    /// `min(a, b)`
    Min,
    /// `max(a, b)`
    Max,
}

/// One binding of a `let`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Binding {
    /// The variable.
    pub name: Ident,
    /// Its declared type.
    pub ty: Option<Type>,
    /// Constructor arguments written after the type (`x :> M(5)`, NEW).
    pub ctor_args: Option<Vec<Expr>>,
    /// Its initial value.
    pub init: Option<Expr>,
    /// Where.
    pub span: Span,
}

/// The kinds of expressions.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ExprKind {
    /// An integer literal.
    Int(IntLit),
    /// A character literal (type `int`, the byte value).
    Char(u8),
    /// A string literal.
    Str(StrLit),
    /// `true` / `false`
    Bool(bool),
    /// `self`
    SelfValue,
    /// `super`, used as `super.m`, `super(args)` or `super.constructor(args)`.
    Super,
    /// A simple name.
    Name(Ident),
    /// `.n`, a global name.
    GlobalName(Ident),
    /// A built-in type word where an expression was parsed (only valid inside a cast's
    /// parentheses, where the content is a type).
    TypeWord(BuiltinType),
    /// A host block.
    Host(HostText),
    /// `( e )`
    Paren(Box<Expr>),
    /// `e.n` or `e->n`
    Member {
        /// The object or namespace.
        base: Box<Expr>,
        /// The member.
        name: Ident,
        /// Written with `->`.
        arrow: bool,
    },
    /// `f(args)`
    Call {
        /// What is called.
        callee: Box<Expr>,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `a[i]`
    Index {
        /// The array or pointer.
        base: Box<Expr>,
        /// The index.
        index: Box<Expr>,
    },
    /// `e++` (`true`) or `e--` (`false`)
    PostIncDec {
        /// The place.
        operand: Box<Expr>,
        /// Increment rather than decrement.
        increment: bool,
    },
    /// A prefix operator.
    Prefix {
        /// Which.
        op: PrefixOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// `inline[k] e`, `noinline e`, …
    CodeOp {
        /// Which.
        op: CodeOp,
        /// The code it applies to.
        operand: Box<Expr>,
    },
    /// `outline[k] e`
    Outline {
        /// `k`, if written (default 5).
        level: Option<Box<Expr>>,
        /// The unlikely code.
        operand: Box<Expr>,
    },
    /// `(T) e`
    Cast {
        /// The target type.
        ty: Box<Type>,
        /// The converted expression.
        operand: Box<Expr>,
    },
    /// `e :> T`
    TypeAssert {
        /// The expression.
        expr: Box<Expr>,
        /// The type it must convert to.
        ty: Box<Type>,
    },
    /// `M hide x`: module operators on a module name used in an expression.
    ModOps {
        /// The module.
        base: Box<Expr>,
        /// The operators.
        ops: Vec<ModOp>,
    },
    /// A binary operator.
    Binary {
        /// Which.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// For [`BinOp::Seq`]: the implicit comma next to a host block.
        implicit: bool,
    },
    /// An assignment.
    Assign {
        /// Which.
        op: AssignOp,
        /// The place.
        place: Box<Expr>,
        /// The value.
        value: Box<Expr>,
    },
    /// `c ? a : b`, also produced by `|||`.
    Cond {
        /// The condition.
        cond: Box<Expr>,
        /// Value if it holds.
        then: Box<Expr>,
        /// Value otherwise.
        otherwise: Box<Expr>,
        /// How it was written.
        origin: CondOrigin,
    },
    /// `e catch X`
    Catch {
        /// The guarded expression.
        body: Box<Expr>,
        /// The exceptions caught.
        list: CatchList,
    },
    /// `if c then e elseif … else … end`
    If {
        /// `(condition, value)` pairs, the `if` first, then each `elseif`.
        arms: Vec<(Expr, Expr)>,
        /// The `else` branch.
        otherwise: Option<Box<Expr>>,
    },
    /// `let bindings in body end`
    Let {
        /// The bindings (simultaneous).
        bindings: Vec<Binding>,
        /// The body.
        body: Box<Expr>,
    },
    /// `min(a, b)` / `max(a, b)`
    MinMax {
        /// Which.
        which: MinMax,
        /// The operands (exactly two in a valid program).
        args: Vec<Expr>,
    },
    /// Something that did not parse; its diagnostic has been reported.
    Error,
}

impl Expr {
    /// Looks through parentheses.
    pub fn strip_parens(&self) -> &Expr {
        match &self.kind {
            ExprKind::Paren(inner) => inner.strip_parens(),
            _ => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// L02: names are equal after `-` is replaced by `_`.
    #[test]
    fn hyphen_and_underscore_spellings_are_one_name() {
        let id = |t: &str| Ident {
            text: t.into(),
            span: Span::default(),
        };
        assert_eq!(id("send-next").key(), id("send_next").key());
        assert_eq!(id("snd-una").key(), "snd_una");
        assert_ne!(
            id("Send-next").key(),
            id("send-next").key(),
            "case-sensitive"
        );
    }
}
