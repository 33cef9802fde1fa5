//! The registry of diagnostic codes.
//!
//! Every diagnostic carries a stable code `Pxxxx`; the registry fixes its severity and holds a
//! title and an explanation with an example and a fix (shown by `prolacc --explain CODE`).
//! Ranges: P01xx lexical structure, P02xx syntax, P03xx program structure, P04xx modules and
//! namespaces, P05xx includes and layers, P06xx types and expressions, P07xx methods, fields and
//! constructors, P08xx implicit methods, P09xx module operators, P10xx exceptions, P11xx host
//! code and back ends.
//!
//! Codes are never reused or renumbered. A test checks that the table is sorted and that every
//! code constant used in the workspace has an entry.

use std::fmt;

use crate::diagnostic::Severity;

/// A diagnostic code: `P` followed by four digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub u16);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{:04}", self.0)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Code {
    /// Parses `P0105` (the `P` may be lower case or omitted).
    pub fn parse(text: &str) -> Option<Code> {
        let digits = text
            .strip_prefix('P')
            .or_else(|| text.strip_prefix('p'))
            .unwrap_or(text);
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(Code)
    }
}

/// What the registry knows about one code.
#[derive(Debug)]
pub struct CodeInfo {
    /// The code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// A short title.
    pub title: &'static str,
    /// What it means, an example, and how to fix it (Markdown).
    pub explanation: &'static str,
}

macro_rules! registry {
    ($( $name:ident = $num:literal, $sev:ident, $title:literal, $expl:literal; )*) => {
        $(
            #[doc = $title]
            pub const $name: Code = Code($num);
        )*
        /// Every registered code, sorted by number.
        pub static REGISTRY: &[CodeInfo] = &[
            $( CodeInfo { code: Code($num), severity: Severity::$sev, title: $title, explanation: $expl }, )*
        ];
    };
}

registry! {
    P0100 = 100, Error, "non-ASCII character outside comments, literals and host code",
        "Prolac source is ASCII outside comments, string and character literals, host blocks \
         and support blocks.\n\nExample: `field größe :> uint;`\n\nFix: use an ASCII name; \
         non-ASCII text may appear in comments and literals.";
    P0101 = 101, Error, "unexpected character",
        "The character cannot begin any Prolac token (for example `$`, `` ` `` or a `#` that \
         is not the first character of a line).\n\nFix: remove it, or move a `# line` \
         directive to the start of its line.";
    P0102 = 102, Warning, "unterminated block comment",
        "A `/*` comment has no closing `*/`; it runs to the end of the file. Block comments do \
         not nest, so an inner `/*` does not need its own `*/`.\n\nFix: add the closing `*/`.";
    P0103 = 103, Warning, "identifier uses a reserved spelling",
        "Identifiers whose underscore spelling contains `__` (also `-_` and `_-`) are reserved \
         because generated code joins name components with `__`. They are accepted.\n\n\
         Example: `field rcv__next :> seqint;`\n\nFix: use a single `-` or `_`.";
    P0104 = 104, Error, "unterminated string or character literal",
        "A string or character literal must close on the line it starts.\n\nExample: \
         `include \"window.pc;`\n\nFix: add the closing quote.";
    P0105 = 105, Error, "floating-point literal",
        "Prolac has no floating-point types. A number containing `.` or a decimal exponent \
         (`1.5`, `.5`, `2e3`) is rejected.\n\nFix: use integer arithmetic, for example scaled \
         fixed-point values (`rtt * 7 / 8`).";
    P0106 = 106, Warning, "integer literal too large for `ulong`",
        "The literal does not fit in 64 bits; its low 64 bits are kept.\n\nFix: write a value \
         below 2^64.";
    P0107 = 107, Error, "unterminated host block",
        "A `{` in a method body opens a host block, whose matching `}` is found by counting \
         braces outside the host language's comments and literals. None was found.\n\nFix: \
         close the block; check for an unbalanced brace inside it, or run with `--host c` for \
         C host code (C and Rust comments nest differently).";
    P0108 = 108, Error, "unsupported `#` directive",
        "Only line directives (`# 120 \"file.pc\"` and `#line 120 \"file.pc\"`) may start a \
         line with `#`. Preprocessor directives such as `#include` and `#define` are not \
         interpreted.\n\nFix: use `include \"file.pc\";`, or run a C preprocessor first and \
         compile its output.";
    P0109 = 109, Error, "malformed number",
        "A number token runs from its first digit through every following letter, digit and \
         `.`; the whole token must be an integer literal. So `23x`, `0x1g`, `09` and `1..2` \
         are errors rather than several tokens.\n\nFix: separate the number from what follows \
         (`23 x`), or correct the digits.";
    P0110 = 110, Error, "invalid character literal or escape",
        "Character and string literals use C escapes: `\\n \\t \\r \\0 \\\\ \\' \\\" \\a \\b \
         \\f \\v \\xHH \\ooo`. A character literal holds exactly one byte.\n\nFix: correct the \
         escape, or use a string literal for several characters.";
    P0111 = 111, Warning, "`ll` suffix read as `l`",
        "Prolac's `long` is already 64 bits, so `ll`/`LL` means the same as `l`.\n\nFix: \
         write `l`.";
    P0112 = 112, Error, "unterminated support block",
        "A `%{` support block has no closing `%}` outside host comments and literals.\n\n\
         Fix: add `%}`.";
    P0113 = 113, Error, "malformed line directive",
        "A line directive is `# LINE [\"FILE\" [FLAGS…]]` or `#line LINE [\"FILE\"]`, where \
         LINE is a decimal number.\n\nFix: correct the directive, or remove it.";
    P0114 = 114, Error, "source file is not valid UTF-8",
        "Prolac source files are UTF-8 text. The invalid bytes are replaced by U+FFFD and the \
         file is checked as far as possible.\n\nFix: convert the file to UTF-8 (for example \
         with `iconv -f latin1 -t utf-8`).";
    P0200 = 200, Error, "syntax error",
        "The parser met a token that cannot continue the construct it was reading. The \
         message lists what could have come instead.\n\nFix: see the message; the most common \
         causes are a missing `;` after a definition, a missing operator, or an unbalanced \
         parenthesis.";
    P0201 = 201, Error, "definition outside a module",
        "Methods, fields and exceptions exist only inside modules (or namespaces inside \
         modules).\n\nExample: `counter :> uint ::= 0;` at file level.\n\nFix: move it into a \
         module: `module Counter { counter :> uint ::= 0; }`.";
    P0202 = 202, Error, "module defined inside a module has a header",
        "A module written among another module's definitions is a restricted form: it may not \
         have a parent or import list.\n\nFix: define it at file level, in a namespace: \
         `module Outer.Inner :> Base { … }`.";
    P0203 = 203, Error, "expected a type in a cast",
        "Parentheses followed directly by an operand form a cast `(T) e`, and must contain a \
         type.\n\nFix: write a type inside the parentheses, or put an operator between the \
         parenthesised expression and what follows.";
    P0204 = 204, Error, "unexpected end of input",
        "The file ended inside a construct, usually an unclosed `{`, `(` or `[`, or a \
         definition without its final `;`.\n\nFix: close the construct.";
    P0205 = 205, Error, "operator must be parenthesised inside an argument",
        "Call arguments, `min`/`max` operands and `let` initialisers are argument-level \
         expressions: they may not contain a top-level `==>`, `|||` or `catch`, which bind \
         more loosely than the `,` that separates arguments.\n\nExample: \
         `f(a ==> b)`\n\nFix: `f((a ==> b))`.";
    P0206 = 206, Error, "item not allowed here",
        "`include`, `layer` and `compose` are file-level items; layers contain only modules, \
         module equations, namespaces and support blocks.\n\nFix: move the item to file \
         level.";
    P0207 = 207, Error, "`min` and `max` take exactly two operands",
        "`min(a, b)` and `max(a, b)` are operators with two operands.\n\nFix: nest them: \
         `min(a, min(b, c))`.";
    P0208 = 208, Error, "invalid cast operand",
        "The operand of a cast `(T) e` is a postfix expression, or a prefix expression \
         introduced by `!`, `~` or an expression inline operator.\n\nFix: parenthesise the \
         operand: `(T)(outline e)`.";
    P0209 = 209, Error, "nested too deeply",
        "An expression or type may nest at most 1000 levels deep (operators, parentheses, \
         prefix operators, pointer stars all count). Deeper nesting is almost always generated \
         text, and the limit keeps every pass of the compiler within its stack.\n\nFix: give \
         parts of the expression names with `let`, or move them into methods.";
    P0301 = 301, Error, "duplicate definition",
        "A name is defined twice in one namespace of a module, a layer is defined twice, or a \
         qualified name's prefix is a module rather than a namespace. Namespaces are open and \
         merge; other definitions do not.\n\nExample: `field count :> uint; count ::= 0;`\n\n\
         Fix: rename one of the definitions.";
    P0302 = 302, Warning, "program exports nothing",
        "Only exported methods, and what they can reach, generate code. The program is checked \
         completely but produces no code.\n\nFix: add an export list: `export Main.run;`.";
    P0303 = 303, Warning, "a module definition replaces an earlier one",
        "A later file-level module definition or equation for a name that is already bound \
         replaces the earlier binding; the earlier module can no longer be named but is still \
         checked.\n\nFix: to refine a module, inherit from it and rebind the name with an \
         equation, or use a layer.";
    P0304 = 304, Error, "`export` inside a module",
        "Export lists are file-level items (or items of a file-level namespace).\n\nFix: move \
         the `export` after the module: `export Counter.bump;`.";
    P0305 = 305, Error, "export names no method",
        "An export entry must name a method (`M.m`), a callable namespace (`M.ns`), a \
         constructor (`M.constructor`) or `M.all`.\n\nExample: `export Counter.value;` where \
         `value` is a field.\n\nFix: export the methods that read or change the field.";
    P0402 = 402, Error, "multiple inheritance is not supported",
        "A module has one parent. Several entries in a parent list are allowed only if they all \
         lie on one ancestor chain (the others are re-listed ancestors, NEW).\n\nFix: keep one \
         parent; import the other module with `has`.";
    P0403 = 403, Error, "cyclic inheritance",
        "A module is its own ancestor.\n\nFix: break the cycle.";
    P0404 = 404, Error, "two header entries have the same name",
        "The rightmost name components of a module's parents and imports must differ, because \
         each becomes a name inside the module.\n\nExample: `has Wire.Header, Ping.Header`\n\n\
         Fix: rename one with a named import: `has Wire.Header, Ping-Header :> Ping.Header`.";
    P0405 = 405, Error, "cyclic module equation",
        "A module equation refers to itself, directly or through other equations.\n\nFix: make \
         one equation name a module definition.";
    P0406 = 406, Error, "defining name starts with a header name",
        "Overriding is done by plain name; a defining name may not start with the name of the \
         parent or an import.\n\nExample: `Counter.bump ::= …` in a child of `Counter`.\n\n\
         Fix: write `bump ::= …`.";
    P0407 = 407, Error, "definition collides with an inherited one",
        "Fields cannot be overridden or redefined, a method cannot replace a field, and a \
         namespace cannot replace a method (or the other way round).\n\nFix: choose another \
         name.";
    P0408 = 408, Error, "namespace called but has no method of its name",
        "Naming a namespace where a value is expected calls the method of the same name inside \
         it (one level deep).\n\nFix: call the method explicitly: `ns.method`.";
    P0409 = 409, Error, "a name is required here",
        "Operator operands, export entries and `catch` operands must be names of features or \
         namespaces, not call chains or other expressions.\n\nFix: write the name of the \
         feature.";
    P0410 = 410, Error, "unknown module",
        "A module name in a header, type or equation does not resolve. Inside a module only its \
         own name and the names in its own header are visible (§5.6).\n\nFix: list the module \
         in the header (`has Window`), or use a global name (`.Window`).";
    P0501 = 501, Error, "included file not found",
        "An `include` path is resolved relative to the directory of the file containing it, \
         then in each `-I` directory in order.\n\nFix: correct the path or add `-I DIR`.";
    P0502 = 502, Error, "refinement lists another parent",
        "A module that refines the previous layer's version (`:> super`) has exactly that \
         parent.\n\nFix: remove the other parent entries.";
    P0503 = 503, Error, "`:> super` outside a refinement",
        "`:> super` names the same module in the nearest previous layer, so it is only \
         meaningful for a module defined inside a `layer` that refines an earlier layer.\n\n\
         Fix: name the parent module explicitly.";
    P0504 = 504, Error, "unknown layer in a composition",
        "A composition lists a layer that is not defined.\n\nFix: check the spelling or \
         define the layer.";
    P0505 = 505, Error, "required layer missing or later",
        "A layer's `requires` list names layers that must appear earlier in every composition \
         that contains it.\n\nFix: add the required layer before it, or do not remove it with \
         `--without`.";
    P0506 = 506, Error, "unknown layer in `--without`",
        "`--without NAME` must name a layer of the program (case-insensitive, `-` and `_` \
         equivalent).\n\nFix: check the spelling; `prolacc --emit ast` lists the layers.";
    P0507 = 507, Warning, "layer in no composition",
        "A layer that no composition lists is never instantiated, so it is not checked (its \
         meaning depends on the composition).\n\nFix: add it to a composition, or remove it.";
    P0508 = 508, Error, "layer listed twice",
        "A composition lists each layer at most once.\n\nFix: remove the repetition.";
    P0601 = 601, Error, "module value conversion",
        "Module values are never converted to another module type or view, and cannot be cast, \
         compared or sliced (§4.8, §9.5).\n\nExample: passing `self` to a parameter of type `M` \
         (the default view).\n\nFix: pass a pointer (`&self`, type `*M`), which converts \
         freely between views and to ancestors.";
    P0602 = 602, Error, "mismatched types",
        "A value cannot be converted implicitly to the type required here (an argument, an \
         assignment, a result, an initialiser).\n\nFix: convert explicitly with a cast where \
         one exists, or change a declaration.";
    P0604 = 604, Error, "no value of the required kind",
        "A `void` expression is used as a value, or two values have no common type (pointers to \
         unrelated types, `*T` and `*void`) and are compared or merged.\n\nFix: cast one side \
         first, or do not use the value.";
    P0605 = 605, Error, "arithmetic on bool",
        "`bool` is a real boolean: arithmetic and bitwise operators do not apply.\n\nFix: \
         combine conditions with `&&`, `||`, `!`; cast to an integer for arithmetic.";
    P0606 = 606, Error, "not a null pointer constant",
        "Only an integer or character literal whose value is zero converts to a pointer; not \
         even a constant expression that folds to zero does.\n\nFix: write `0`.";
    P0607 = 607, Error, "dereference of `*void`",
        "An untyped pointer has no pointee to read.\n\nFix: cast it to a typed pointer first.";
    P0608 = 608, Error, "array used as a whole",
        "Arrays cannot be assigned or passed as a whole; used as a value they decay to a \
         pointer to their first element.\n\nFix: copy element by element, or pass a pointer.";
    P0609 = 609, Warning, "constant index out of range",
        "A constant array index is outside the array; at run time this is undefined.\n\nFix: \
         use an index below the array length.";
    P0610 = 610, Error, "type assertion fails",
        "`e :> T` converts `e` to `T` with implicit conversions only.\n\nFix: use a cast \
         `(T) e` if one exists.";
    P0611 = 611, Error, "`let` binding without type or initial value",
        "Each `let` binding needs a type (`x :> uint`), an initial value (`x = 5`), or \
         both.\n\nFix: add one.";
    P0612 = 612, Error, "`.` on a pointer or `->` on a value",
        "`e.n` needs a module value (or a namespace or module name), `e->n` a pointer to a \
         module.\n\nFix: use the other operator.";
    P0613 = 613, Error, "not assignable",
        "Assignment, compound assignment, `++` and `--` need an assignable place: a field, a \
         static field, a parameter, a `let` variable, `*p` or `a[i]`.\n\nFix: assign to a \
         place.";
    P0614 = 614, Error, "invalid cast",
        "Casts convert between integers, to and from `bool`, and between pointers to modules; \
         pointers to non-module types convert only through `*void`; there are no casts between \
         integers and pointers, nor of module values or arrays.\n\nFix: convert through `*void` \
         or rewrite without the cast.";
    P0615 = 615, Error, "type used as a value",
        "A built-in type word appears where a value is needed. A common cause is a cast \
         followed by a prefix operator: `(int) -x` is a grouping followed by a subtraction, \
         because `-` can also be a binary operator.\n\nFix: parenthesise the operand: \
         `(int)(-x)`.";
    P0616 = 616, Error, "`if` without `else` on the left of `|||`",
        "`L ||| X` rewrites an `if … else C end` on its left into `if … else (C ||| X) end`; \
         an `if` without `else` has no branch to extend.\n\nFix: add an `else` branch, or \
         use `==>` for the conditions.";
    P0617 = 617, Error, "not a type",
        "A name used as a type does not denote a module, or a module name is used as a value.\n\n\
         Fix: use a module name or a built-in type; call a static method through the module \
         name (`M.f`).";
    P0618 = 618, Error, "wrong operand type",
        "The operator does not apply to operands of this type: arithmetic needs integers or \
         `seqint`, `!` and conditions need a `bool`, integer or pointer, `*` and `->` need a \
         pointer, `.` needs a module value.\n\nFix: convert the operand or use another \
         operator.";
    P0701 = 701, Warning, "method without return type used as a condition",
        "A method without a return type returns `void` (an older dialect made it `bool`).\n\n\
         Fix: declare `:> bool`.";
    P0702 = 702, Warning, "call of a method without body",
        "A method without body aborts the program when called; it exists to be overridden. \
         This call is bound statically to it.\n\nFix: override the method, or give it a body.";
    P0703 = 703, Error, "wrong number of arguments",
        "A call passes a different number of arguments than the method has parameters.\n\nFix: \
         pass one argument per parameter.";
    P0704 = 704, Error, "receiver used where there is none",
        "A static method has no `self`, and cannot name dynamic fields or dynamic methods of its \
         module unqualified. Forwarders through fields are dynamic too.\n\nFix: make the method \
         dynamic, or pass an object and call through it.";
    P0705 = 705, Error, "dynamic feature named through a module",
        "A dynamic field or method belongs to an object; `Counter.bump` is valid only inside a \
         dynamic method when `Counter` is the current module or an ancestor (it then means \
         `self`'s feature).\n\nFix: call it on an object: `c.bump`, `p->bump`.";
    P0706 = 706, Error, "static feature named through an object",
        "Static methods and fields are named through a module or namespace, not an object.\n\n\
         Fix: write `Module.name`.";
    P0707 = 707, Error, "static and dynamic definitions mixed",
        "A static method overrides only a static method, a dynamic one only a dynamic one; a \
         dynamic method cannot replace an inherited exception.\n\nFix: match the `static`, or \
         choose another name.";
    P0708 = 708, Error, "override changes the number of parameters",
        "An overriding method has the same number of parameters as the method it overrides.\n\n\
         Fix: keep the signature.";
    P0709 = 709, Error, "override changes a type",
        "Parameters may become more general (a pointer to an ancestor module) and the result \
         more specific (a pointer to a descendant module); every other type must match \
         exactly.\n\nFix: use the overridden method's types.";
    P0710 = 710, Error, "constructor with a return type",
        "A constructor returns nothing.\n\nFix: remove `:> T` from the constructor.";
    P0711 = 711, Error, "subobject constructor needs arguments",
        "A parent or module-valued field not constructed explicitly is constructed with no \
         arguments, but its constructor takes some.\n\nFix: construct it explicitly: \
         `Parent(args)` or `field.constructor(args)` at the start of the constructor.";
    P0712 = 712, Warning, "subobject constructions reordered",
        "The parent is constructed first, then module-valued fields in declaration order, \
         whatever order the constructor writes them in.\n\nFix: write them in that order.";
    P0713 = 713, Error, "division by zero in a constant expression",
        "A constant expression divides by zero.\n\nFix: change the divisor.";
    P0714 = 714, Error, "pinned field is misaligned",
        "A field placed with `@` must start at an offset that is a multiple of its type's \
         alignment: 2 for `short`, 4 for `int`, `uint` and `seqint`, 8 for `long`, the \
         pointer size for pointers, the element's alignment for arrays and the module's \
         alignment for module values. The field is laid out as if it had no `@`.\n\n\
         Example: `field seq :> seqint @ 6;`\n\nFix: pin the field at an aligned offset \
         (`@ 4` or `@ 8`), or remove `@` and let the layout engine place it.";
    P0715 = 715, Error, "pinned field overlaps another field",
        "A field placed with `@` occupies the bytes from its offset up to its offset plus its \
         size. They must not overlap an earlier pinned field of the same module, or any field \
         inherited from the parent: a parent's layout is a prefix of every descendant's, so \
         inherited fields never move. A zero-sized field (`uchar[0]`) may not start strictly \
         inside another field.\n\nExample: `field kind :> uchar @ 1; field length :> ushort \
         @ 0;`\n\nFix: move one field to bytes nothing else uses, or remove its `@` and let \
         the layout engine place it.";
    P0716 = 716, Error, "pinned field overlaps a dispatch-table pointer",
        "When calls of methods introduced by a module still need dynamic dispatch after \
         devirtualisation, that module and all its descendants get a hidden, pointer-sized \
         dispatch-table pointer, placed like a field of that module. A pinned field of a \
         descendant may not cover it. The pointer exists only when analysis needs it, so this \
         error can appear when a program starts constructing a second subclass that overrides \
         a method.\n\nFix: pin the field at an offset after the pointer, make the calls \
         statically bound (for example, construct only one of the overriding modules), or \
         describe the pinned memory in a module that does not inherit from a dispatched one.";
    P0717 = 717, Warning, "offset on a static field",
        "`@` places dynamic fields inside objects; a static field is a global and the offset \
         has no effect.\n\nFix: remove the offset.";
    P0718 = 718, Error, "subobject constructed twice",
        "A constructor constructs its parent or a module-valued field more than once.\n\nFix: \
         remove the repetition.";
    P0719 = 719, Error, "hidden constructor",
        "The view through which a module is constructed hides its constructor; a child cannot \
         construct a parent whose constructor its parent entry hides.\n\nFix: re-expose it: \
         `module Child :> Parent show constructor { … }`.";
    P0720 = 720, Error, "module contains itself",
        "A module value embeds all of its fields, so a module cannot contain a field of its \
         own type, directly or through other modules, arrays or its parent: the object \
         would be infinitely large. This includes arrays of length 0. Pointers are fine.\n\n\
         Example: `module Node { field next :> Node; }`\n\nFix: use a pointer: `field next \
         :> *Node;`.";
    P0721 = 721, Error, "object too large",
        "No type or object may be larger than 4 GiB (2^32 bytes). This error is reported for \
         a field whose type is larger, for a field pinned or placed so that it would end \
         beyond that, and for a module whose size is larger.\n\nExample: `field buffer :> \
         uchar[5000000000];`\n\nFix: use a smaller array, or a pointer to memory allocated \
         elsewhere.";
    P0722 = 722, Error, "constant expression required",
        "Array sizes, `@` offsets and `inline[k]`/`outline[k]` levels must be constant \
         expressions: literals, symbolic constants, casts to integers and the operators of \
         §6.10 (not prefix `-`, `+`, `~`).\n\nFix: write a constant, or define a symbolic \
         constant (`static mss :> uint ::= 536;`).";
    P0723 = 723, Error, "method body does not match its return type",
        "The value of a method's body must convert to its declared return type.\n\nFix: change \
         the body or the declared type.";
    P0724 = 724, Error, "constructor defined in a namespace",
        "A constructor is defined at the module's top level.\n\nFix: move it out of the \
         namespace.";
    P0801 = 801, Error, "ambiguous implicit method",
        "The implicit method search found the name in two places of the same generation \
         (§8.3), even if both are the same method reached twice.\n\nFix: narrow a `using` list, \
         or call the method explicitly (`win->fits(s)`).";
    P0802 = 802, Error, "undefined name",
        "The name is not a `let` variable, a parameter, or a member of the enclosing \
         namespaces, and the implicit method search did not find it (fields are never found \
         implicitly).\n\nFix: check the spelling, name the object (`win->left`), or admit the \
         name with `using`.";
    P0810 = 810, Error, "dotted name in `using`",
        "`using` and `notusing` take simple names of the view's top-level namespace.\n\nFix: \
         use the simple name.";
    P0811 = 811, Warning, "`notusing allstatic` means `notusing all`",
        "There is no separate static using-set to remove.\n\nFix: write `notusing all`.";
    P0812 = 812, Warning, "name not in the view",
        "A `using` or `notusing` operand names nothing in the view; it changes nothing.\n\nFix: \
         check the spelling.";
    P0902 = 902, Warning, "operator operand matches nothing",
        "A name or glob given to `hide`, `show`, `rename` or an inline operator matches no \
         feature of the view. Globs match underscore spellings (`\"count_*\"`).\n\nFix: check the \
         spelling.";
    P0904 = 904, Error, "the constructor cannot be renamed",
        "`show (x = constructor)` and `rename (x = constructor)` are not supported: a module \
         has exactly one constructor name.\n\nFix: `show constructor` exposes it under its \
         own name.";
    P0905 = 905, Error, "`show all` is not supported",
        "`show` exposes chosen names of the original namespace.\n\nFix: list the names: \
         `show (a, b)`.";
    P0906 = 906, Error, "alias conflicts",
        "`show (new = old)` and `rename (new = old)` cannot give a name that already names a \
         different feature; `rename` needs a visible simple name.\n\nFix: choose another name.";
    P0907 = 907, Warning, "inline level above 3",
        "Module operators treat `inline[k]` with `k > 3` as 3.\n\nFix: use a level from 0 to \
         3.";
    P0908 = 908, Error, "expression inline level out of range",
        "`inline[k] e` takes a level from 0 to 3, `outline[k] e` from 0 to 10.\n\nFix: use a \
         level in range.";
    P0909 = 909, Error, "inline operator on a field",
        "Inline preferences apply to methods; a field has none.\n\nFix: name methods only.";
    P0910 = 910, Error, "`rename` item without a new name",
        "`rename` takes `(new = old)` items.\n\nFix: `rename (step = bump)`; to hide a name \
         use `hide`.";
    P1001 = 1001, Error, "exception escapes a method that cannot report it",
        "Only methods returning `void` or `bool` may let an exception escape; others must catch \
         it inside.\n\nFix: catch the exception in the method, or make it return `bool` or \
         `void`.";
    P1002 = 1002, Error, "exception named through an import",
        "A `catch` operand names an exception of the current module, its namespaces or its \
         parent; an imported module's exception is caught by its simple name, found by the \
         implicit search.\n\nFix: admit the name with `using` and catch it by its simple \
         name.";
    P1003 = 1003, Error, "not an exception",
        "A `catch` operand must name an exception.\n\nFix: name an exception declared with \
         `exception name;`.";
    P1101 = 1101, Error, "Rust generated from a program scanned as C",
        "Host blocks and support blocks were read with the C rules (`--host c`), so their text \
         is C and cannot be compiled as Rust. Check mode accepts such programs; code \
         generation does not.\n\nFix: translate the host code to Rust and drop `--host c`, \
         or use `--emit check`.";
    P1102 = 1102, Error, "extern method is not static",
        "Extern methods are host functions and have no receiver.\n\nFix: write `static` \
         before the name, and pass a receiver explicitly as a pointer parameter if needed.";
    P1103 = 1103, Error, "extern method with an unsupported type",
        "Extern methods take and return only `bool`, integers, `seqint` and pointers (and may \
         return `void`); module values and arrays are not passed.\n\nFix: pass a pointer.";
    P1104 = 1104, Error, "two extern methods share a link name with different signatures",
        "Each link name denotes one host function.\n\nFix: give one of them another link name: \
         `::= extern \"name\";`.";
    P1105 = 1105, Error, "host code cannot be compiled to machine code",
        "The Cranelift back end (the JIT) compiles Prolac, not the host language: a host block \
         reachable from the compiled code, or any support block, needs the Rust back end.\n\n\
         Fix: replace it with an extern method (`static name(...) :> T ::= extern;`) whose \
         function the host registers, or use the Rust back end.";
    P1106 = 1106, Warning, "a method is named `extern`",
        "A body made of the single word `extern` is an extern marker, not a call of this \
         method.\n\nFix: rename the method.";
    P1107 = 1107, Error, "host text is not Rust",
        "The Rust back end inserts host blocks and support blocks as Rust tokens; this text \
         does not form valid Rust tokens (an unbalanced delimiter or an invalid literal), \
         after Prolac names were substituted.\n\nFix: correct the Rust inside the block.";
    P1108 = 1108, Error, "extern link name is not a Rust identifier",
        "With the Rust back end an extern method is a call of the function named by its link \
         name, so the name must be a Rust identifier (not a keyword).\n\nFix: give an \
         explicit link name: `::= extern \"host_name\";`.";
    P1109 = 1109, Error, "extern method not provided by the host",
        "With the Cranelift back end an extern method is a call of a host function registered \
         under its link name when the program is loaded; this one was not registered.\n\n\
         Fix: register a function for the link name, or give the method a Prolac body.";
    P1110 = 1110, Error, "a function needs too much stack for the Cranelift back end",
        "The Cranelift back end keeps module values and arrays that a method creates, copies \
         or receives by value in its stack frame, and a frame is limited to 1 GiB (a thread's \
         stack is far smaller).\n\nFix: keep large objects in static fields or in host memory \
         and pass pointers to them.";
}

/// The registry entry for a code, if the code exists.
pub fn lookup(code: Code) -> Option<&'static CodeInfo> {
    REGISTRY
        .binary_search_by_key(&code, |info| info.code)
        .ok()
        .map(|i| &REGISTRY[i])
}

/// The severity of a code. Unregistered codes count as errors.
pub fn severity(code: Code) -> Severity {
    lookup(code).map_or(Severity::Error, |info| info.severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        for pair in REGISTRY.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} before {}",
                pair[0].code,
                pair[1].code
            );
        }
    }

    #[test]
    fn every_code_has_a_title_and_an_explanation_with_a_fix() {
        for info in REGISTRY {
            assert!(!info.title.is_empty(), "{}", info.code);
            assert!(
                info.explanation.contains("Fix"),
                "{} explains no fix",
                info.code
            );
        }
    }

    #[test]
    fn codes_print_and_parse() {
        assert_eq!(P0105.to_string(), "P0105");
        assert_eq!(Code::parse("P0105"), Some(P0105));
        assert_eq!(Code::parse("p1102"), Some(P1102));
        assert_eq!(Code::parse("0201"), Some(P0201));
        assert_eq!(Code::parse("P10"), None);
        assert_eq!(Code::parse("Pabcd"), None);
    }
}
