//! The cooking pass: three token-level decisions that the language makes lexically, so that the
//! LR grammar stays conflict-free.
//!
//! 1. **Contextual keywords** (NEW words kept usable as identifiers, §2.4): `include` before a
//!    string, `layer` and `compose` before a name, `requires` after `layer NAME`, and `extern`
//!    as a whole method body (`::= extern;` or `::= extern "name";`).
//! 2. **Casts** (§12.2): a `(` in operand position whose matching `)` is followed by a token that
//!    can only begin an operand opens a cast and becomes [`Tok::CastLParen`]. The one exception
//!    is `(name)(…)`, which stays a call of a parenthesised name (the C-preprocessor idiom
//!    `(htons)(x)`); name resolution turns it into a cast if `name` is a module.
//! 3. **Implicit commas** (§12.10): a [`Tok::Seq`] is inserted before a host block that follows
//!    the end of an operand, and after one that is followed by the start of an operand.

use crate::codes::P0615;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::token::Tok;

fn ends_operand(t: Tok) -> bool {
    use Tok::*;
    t.is_type_word()
        || matches!(
            t,
            Ident
                | IntLit(_)
                | CharLit(_)
                | Str
                | True
                | False
                | SelfKw
                | RParen
                | RBracket
                | End
                | PlusPlus
                | MinusMinus
                | Host
                | All
                | AllStatic
                | Constructor
        )
}

fn begins_operand(t: Tok) -> bool {
    use Tok::*;
    t.is_code_op()
        || matches!(
            t,
            Ident
                | IntLit(_)
                | CharLit(_)
                | Str
                | True
                | False
                | LParen
                | CastLParen
                | Dot
                | Amp
                | Star
                | Plus
                | Minus
                | Tilde
                | Bang
                | PlusPlus
                | MinusMinus
                | If
                | Let
                | SelfKw
                | Super
                | Min
                | Max
                | Outline
                | Host
                | All
                | AllStatic
                | Constructor
        )
}

/// Tokens after a `)` that make the parenthesised part a cast (§12.2).
fn starts_cast_operand(t: Tok) -> bool {
    use Tok::*;
    t.is_type_word()
        || t.is_code_op()
        || matches!(
            t,
            Ident
                | IntLit(_)
                | CharLit(_)
                | Str
                | SelfKw
                | Super
                | True
                | False
                | Bang
                | Tilde
                | If
                | Let
                | Min
                | Max
                | Outline
                | LParen
                | All
                | AllStatic
                | Constructor
        )
}

/// After these tokens an operand is expected, so a `(` there is a grouping or a cast.
fn operator_before_operand(t: Tok) -> bool {
    use Tok::*;
    matches!(
        t,
        Comma
            | Seq
            | Implies
            | CaseBar
            | Eq
            | PlusEq
            | MinusEq
            | StarEq
            | SlashEq
            | PercentEq
            | CaretEq
            | AmpEq
            | PipeEq
            | ShlEq
            | ShrEq
            | MinEq
            | MaxEq
            | Question
            | Colon
            | OrOr
            | AndAnd
            | Pipe
            | Caret
            | Amp
            | EqEq
            | Ne
            | Lt
            | Le
            | Gt
            | Ge
            | Shl
            | Shr
            | Plus
            | Minus
            | Star
            | Slash
            | Percent
            | Tilde
            | Bang
            | PlusPlus
            | MinusMinus
            | LParen
            | CastLParen
            | LBracket
            | Define
            | Then
            | Else
            | ElseIf
            | If
            | In
            | At
            | Outline
            | Host
    )
}

fn contextual_keywords(tokens: &mut [(Tok, Span)], src: &str) {
    let text = |s: Span| src.get(s.range()).unwrap_or("");
    for i in 0..tokens.len() {
        if tokens[i].0 != Tok::Ident {
            continue;
        }
        let next = tokens.get(i + 1).map(|t| t.0);
        let prev = |k: usize| i.checked_sub(k).map(|j| tokens[j].0);
        let new = match text(tokens[i].1) {
            "include" if next == Some(Tok::Str) => Tok::Include,
            "layer" if next == Some(Tok::Ident) => Tok::Layer,
            "compose" if next == Some(Tok::Ident) => Tok::Compose,
            "requires" if prev(2) == Some(Tok::Layer) && prev(1) == Some(Tok::Ident) => {
                Tok::Requires
            }
            "extern"
                if prev(1) == Some(Tok::Define)
                    && (next == Some(Tok::Semi)
                        || (next == Some(Tok::Str)
                            && tokens.get(i + 2).map(|t| t.0) == Some(Tok::Semi))) =>
            {
                Tok::Extern
            }
            _ => continue,
        };
        tokens[i].0 = new;
    }
}

/// Index of the matching close for every open parenthesis (`None` if unmatched).
fn matching_parens(tokens: &[(Tok, Span)]) -> Vec<Option<usize>> {
    let mut matches = vec![None; tokens.len()];
    let mut stack = Vec::new();
    for (i, (t, _)) in tokens.iter().enumerate() {
        match t {
            Tok::LParen => stack.push(i),
            Tok::RParen => {
                if let Some(open) = stack.pop() {
                    matches[open] = Some(i);
                }
            }
            _ => {}
        }
    }
    matches
}

/// `(int) ++x`: a type in parentheses followed by `++`/`--` and an operand. The `++` can only
/// be postfix there (§12.2), so the type is used as a value (P0615). Reported here, with a
/// span covering the `++`, so that the syntax error that necessarily follows is recognised as
/// its consequence.
fn type_then_increment(tokens: &[(Tok, Span)], open: usize, close: usize) -> Option<Diagnostic> {
    let inner = &tokens[open + 1..close];
    let (last, stars) = inner.split_last()?;
    if !last.0.is_type_word() || stars.iter().any(|(t, _)| *t != Tok::Star) {
        return None;
    }
    let (op, op_span) = *tokens.get(close + 1)?;
    let next = tokens.get(close + 2)?.0;
    if !matches!(op, Tok::PlusPlus | Tok::MinusMinus) || !begins_operand(next) {
        return None;
    }
    Some(
        Diagnostic::new(
            P0615,
            tokens[open].1.to(op_span),
            "a type is used as a value",
        )
        .with_label("a cast cannot be followed by `++` or `--`: this reads as `(type)++`")
        .with_help("parenthesise the operand: `(int)(++x)`"),
    )
}

/// Marks casts; returns, for each token, whether an operand is expected after it.
fn mark_casts(tokens: &mut [(Tok, Span)], diags: &mut Vec<Diagnostic>) -> Vec<bool> {
    let parens = matching_parens(tokens);
    // expects[i]: after token i, an operand is expected.
    let mut expects = vec![false; tokens.len()];
    let mut brackets: Vec<bool> = Vec::new(); // for each open `[`: does it follow a prefix operator?
    let mut cast_closes = vec![false; tokens.len()]; // the `)` of each cast: an operand follows
    // From `module`/`class` to the `{` of the body (or the `;` of an equation) come only
    // module expressions, where parentheses group and never cast.
    let mut in_header = false;
    for i in 0..tokens.len() {
        let before = i > 0 && expects[i - 1] && !in_header;
        let t = tokens[i].0;
        match t {
            Tok::Module | Tok::Class => in_header = true,
            Tok::LBrace | Tok::Semi | Tok::RBrace | Tok::Host => in_header = false,
            _ => {}
        }
        expects[i] = match t {
            _ if t.is_code_op() => before, // a prefix operator only in operand position
            Tok::LBracket => {
                let prev = i.checked_sub(1).map(|j| tokens[j].0);
                let level_of_prefix = matches!(prev, Some(Tok::Outline))
                    || (prev.is_some_and(Tok::is_code_op) && i >= 2 && expects[i - 2]);
                brackets.push(level_of_prefix);
                true
            }
            Tok::RBracket => brackets.pop().unwrap_or(false),
            Tok::RParen => cast_closes[i],
            _ => operator_before_operand(t),
        };
        if t == Tok::LParen && before {
            let Some(close) = parens[i] else { continue };
            let Some(&(after, _)) = tokens.get(close + 1) else {
                continue;
            };
            if !starts_cast_operand(after) {
                diags.extend(type_then_increment(tokens, i, close));
                continue;
            }
            // `(name)(…)` and `(a.b)(…)` stay calls of a parenthesised name.
            let inner = &tokens[i + 1..close];
            let is_path = !inner.is_empty()
                && inner.iter().enumerate().all(|(k, (t, _))| {
                    if k % 2 == 0 {
                        *t == Tok::Ident
                    } else {
                        *t == Tok::Dot
                    }
                })
                && inner.len() % 2 == 1;
            if after == Tok::LParen && is_path {
                continue;
            }
            tokens[i].0 = Tok::CastLParen;
            cast_closes[close] = true;
        }
    }
    expects
}

/// Does token `i` end an operand, for the implicit-comma rule? As §12.10 lists, except that
/// a `++`/`--` in prefix position and the `]` of an `inline[k]`/`outline[k]` level are
/// operators, not operand ends (so `outline[2] {C}` and `++ {C}` are not split by a comma).
fn ends_operand_at(tokens: &[(Tok, Span)], expects: &[bool], i: usize) -> bool {
    match tokens[i].0 {
        Tok::PlusPlus | Tok::MinusMinus => i > 0 && !expects[i - 1],
        Tok::RBracket => !expects[i],
        t => ends_operand(t),
    }
}

fn insert_seqs(tokens: Vec<(Tok, Span)>, expects: &[bool]) -> Vec<(Tok, Span)> {
    let mut out: Vec<(Tok, Span)> = Vec::with_capacity(tokens.len() + 8);
    for (i, &(t, span)) in tokens.iter().enumerate() {
        if let Some(&(prev, prev_span)) = out.last() {
            let after_host = prev == Tok::Host && begins_operand(t);
            let before_host =
                t == Tok::Host && prev != Tok::Seq && ends_operand_at(&tokens, expects, i - 1);
            if after_host || before_host {
                out.push((
                    Tok::Seq,
                    if after_host {
                        prev_span.end()
                    } else {
                        span.start()
                    },
                ));
            }
        }
        out.push((t, span));
    }
    out
}

/// Applies the three decisions to a token stream; reports what it can already tell is wrong.
pub(crate) fn cook(
    mut tokens: Vec<(Tok, Span)>,
    src: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(Tok, Span)> {
    contextual_keywords(&mut tokens, src);
    let expects = mark_casts(&mut tokens, diags);
    if tokens.iter().any(|(t, _)| *t == Tok::Host) {
        tokens = insert_seqs(tokens, &expects);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::{HostLang, lex};
    use crate::span::FileId;

    fn kinds(src: &str) -> Vec<Tok> {
        let lexed = lex(FileId(0), src, HostLang::Rust);
        cook(lexed.tokens, src, &mut Vec::new())
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn casts_are_decided_by_the_token_after_the_parenthesis() {
        use Tok::*;
        assert_eq!(kinds("f ::= (int) x;")[2], CastLParen);
        assert_eq!(kinds("f ::= (int) -x;")[2], LParen);
        assert_eq!(kinds("f ::= (X) *p;")[2], LParen);
        assert_eq!(kinds("f ::= (uint)(x);")[2], CastLParen);
        assert_eq!(kinds("f ::= (htons)(x);")[2], LParen);
        assert_eq!(kinds("f ::= g(x) + (a) y;")[7], CastLParen);
        // A call's parentheses and module-operator lists are never casts.
        assert!(!kinds("f ::= g(x) y;").contains(&CastLParen));
        assert!(!kinds("module M has A hide (a, b) inline all {}").contains(&CastLParen));
        // Parentheses in module expressions group.
        assert!(!kinds("module Q ::= (Counter) inline all;").contains(&CastLParen));
        assert!(
            !kinds("module M has A, (B) inline all { f ::= (int) x; }")[..12].contains(&CastLParen)
        );
        assert!(kinds("module M has A, (B) inline all { f ::= (int) x; }").contains(&CastLParen));
        assert_eq!(kinds("f ::= inline[2] (int) x;")[6], CastLParen);
        // A cast's operand may itself be a cast.
        assert_eq!(kinds("f ::= (int) (uint) x;")[5], CastLParen);
    }

    #[test]
    fn implicit_commas_around_host_blocks() {
        use Tok::*;
        assert_eq!(
            kinds("f ::= x {a} y;"),
            vec![Ident, Define, Ident, Seq, Host, Seq, Ident, Semi]
        );
        assert_eq!(
            kinds("f ::= {a}{b};"),
            vec![Ident, Define, Host, Seq, Host, Semi]
        );
        assert_eq!(
            kinds("f ::= x, {a};"),
            vec![Ident, Define, Ident, Comma, Host, Semi]
        );
    }

    #[test]
    fn contextual_keywords_only_in_their_positions() {
        use Tok::*;
        assert_eq!(kinds("include \"a.pc\";")[0], Include);
        assert_eq!(
            kinds("layer L requires B {}")[..3],
            [Layer, Ident, Requires]
        );
        assert_eq!(kinds("f ::= extern;")[2], Extern);
        assert_eq!(kinds("f ::= extern + 1;")[2], Ident);
        assert_eq!(kinds("f ::= layer;")[2], Ident);
    }
}
