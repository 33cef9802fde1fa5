//! The tokens the parser sees.
//!
//! Tokens are small `Copy` values; their text is read back from the source through their span
//! when needed. Besides the tokens of the language, the cooking pass ([`crate::cook`]) produces
//! three synthetic kinds: [`Tok::Seq`] (the implicit comma next to a host block),
//! [`Tok::CastLParen`] (a `(` that opens a cast) and the contextual keywords.

use std::fmt;

/// The base in which an integer literal was written.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Radix {
    /// `1460`
    Decimal,
    /// `0755`
    Octal,
    /// `0xFFFF`
    Hex,
}

/// An integer literal's suffix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IntSuffix {
    /// No suffix.
    None,
    /// `u`
    U,
    /// `l` (also `ll`)
    L,
    /// `ul` / `lu`
    UL,
    /// `q`: a `seqint` literal.
    Q,
}

/// A validated integer literal.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct IntLit {
    /// The value (low 64 bits if the literal overflowed).
    pub value: u64,
    /// How it was written.
    pub radix: Radix,
    /// Its suffix.
    pub suffix: IntSuffix,
}

/// A token kind, with the value of literals.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(missing_docs)] // the variants are the language's tokens, named after their spelling
pub enum Tok {
    Ident,
    IntLit(IntLit),
    /// A character literal, with its byte value.
    CharLit(u8),
    /// A string literal; its decoded bytes are read from the source when needed.
    Str,
    /// A host block `{ … }`; the span covers the braces.
    Host,
    /// A support block `%{ … %}`; the span covers the delimiters.
    Support,
    /// The implicit sequencing comma inserted next to a host block.
    Seq,
    /// A `(` that opens a cast `(T) e`.
    CastLParen,

    // keywords
    All,
    AllStatic,
    Bool,
    Catch,
    Char,
    Class,
    Constructor,
    DefaultInline,
    Else,
    ElseIf,
    End,
    Exception,
    Export,
    False,
    Field,
    Has,
    Hide,
    If,
    In,
    Inline,
    Int,
    Let,
    Long,
    Max,
    Min,
    Module,
    NoInline,
    NotUsing,
    Outline,
    PathInline,
    Rename,
    SelfKw,
    SeqInt,
    Short,
    Show,
    Static,
    Super,
    Then,
    True,
    UChar,
    UInt,
    ULong,
    UShort,
    Using,
    Void,

    // contextual keywords (only in the positions the cooking pass recognises)
    Include,
    Layer,
    Compose,
    Requires,
    Extern,

    // punctuation
    Arrow,
    PlusPlus,
    MinusMinus,
    ColonGt,
    Shl,
    Shr,
    Le,
    Ge,
    EqEq,
    Ne,
    AndAnd,
    OrOr,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    PercentEq,
    CaretEq,
    AmpEq,
    PipeEq,
    ShlEq,
    ShrEq,
    Implies,
    CaseBar,
    Define,
    MinEq,
    MaxEq,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Dot,
    Colon,
    Question,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Amp,
    Pipe,
    Tilde,
    Bang,
    Eq,
    Lt,
    Gt,
    At,
}

impl Tok {
    /// How the token is shown in "expected one of …" messages.
    pub fn describe(self) -> &'static str {
        use Tok::*;
        match self {
            Ident => "identifier",
            IntLit(_) => "integer literal",
            CharLit(_) => "character literal",
            Str => "string literal",
            Host => "host block",
            Support => "support block",
            Seq => "host block",
            CastLParen => "`(`",
            All => "`all`",
            AllStatic => "`allstatic`",
            Bool => "`bool`",
            Catch => "`catch`",
            Char => "`char`",
            Class => "`class`",
            Constructor => "`constructor`",
            DefaultInline => "`defaultinline`",
            Else => "`else`",
            ElseIf => "`elseif`",
            End => "`end`",
            Exception => "`exception`",
            Export => "`export`",
            False => "`false`",
            Field => "`field`",
            Has => "`has`",
            Hide => "`hide`",
            If => "`if`",
            In => "`in`",
            Inline => "`inline`",
            Int => "`int`",
            Let => "`let`",
            Long => "`long`",
            Max => "`max`",
            Min => "`min`",
            Module => "`module`",
            NoInline => "`noinline`",
            NotUsing => "`notusing`",
            Outline => "`outline`",
            PathInline => "`pathinline`",
            Rename => "`rename`",
            SelfKw => "`self`",
            SeqInt => "`seqint`",
            Short => "`short`",
            Show => "`show`",
            Static => "`static`",
            Super => "`super`",
            Then => "`then`",
            True => "`true`",
            UChar => "`uchar`",
            UInt => "`uint`",
            ULong => "`ulong`",
            UShort => "`ushort`",
            Using => "`using`",
            Void => "`void`",
            Include => "`include`",
            Layer => "`layer`",
            Compose => "`compose`",
            Requires => "`requires`",
            Extern => "`extern`",
            Arrow => "`->`",
            PlusPlus => "`++`",
            MinusMinus => "`--`",
            ColonGt => "`:>`",
            Shl => "`<<`",
            Shr => "`>>`",
            Le => "`<=`",
            Ge => "`>=`",
            EqEq => "`==`",
            Ne => "`!=`",
            AndAnd => "`&&`",
            OrOr => "`||`",
            PlusEq => "`+=`",
            MinusEq => "`-=`",
            StarEq => "`*=`",
            SlashEq => "`/=`",
            PercentEq => "`%=`",
            CaretEq => "`^=`",
            AmpEq => "`&=`",
            PipeEq => "`|=`",
            ShlEq => "`<<=`",
            ShrEq => "`>>=`",
            Implies => "`==>`",
            CaseBar => "`|||`",
            Define => "`::=`",
            MinEq => "`min=`",
            MaxEq => "`max=`",
            LParen => "`(`",
            RParen => "`)`",
            LBracket => "`[`",
            RBracket => "`]`",
            LBrace => "`{`",
            RBrace => "`}`",
            Comma => "`,`",
            Semi => "`;`",
            Dot => "`.`",
            Colon => "`:`",
            Question => "`?`",
            Plus => "`+`",
            Minus => "`-`",
            Star => "`*`",
            Slash => "`/`",
            Percent => "`%`",
            Caret => "`^`",
            Amp => "`&`",
            Pipe => "`|`",
            Tilde => "`~`",
            Bang => "`!`",
            Eq => "`=`",
            Lt => "`<`",
            Gt => "`>`",
            At => "`@`",
        }
    }

    /// True for the words that name built-in types.
    pub fn is_type_word(self) -> bool {
        use Tok::*;
        matches!(
            self,
            Bool | Char | Short | Int | Long | UChar | UShort | UInt | ULong | SeqInt | Void
        )
    }

    /// True for the expression inline operators (`inline`, `noinline`, …).
    pub fn is_code_op(self) -> bool {
        matches!(
            self,
            Tok::Inline | Tok::NoInline | Tok::DefaultInline | Tok::PathInline
        )
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}
