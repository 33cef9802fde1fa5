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

fn mark_casts(tokens: &mut [(Tok, Span)]) {
    let parens = matching_parens(tokens);
    // expects[i]: after token i, an operand is expected.
    let mut expects = vec![false; tokens.len()];
    let mut brackets: Vec<bool> = Vec::new(); // for each open `[`: does it follow a prefix operator?
    for i in 0..tokens.len() {
        let before = i > 0 && expects[i - 1];
        let t = tokens[i].0;
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
            _ => operator_before_operand(t),
        };
        if t == Tok::LParen && before {
            let Some(close) = parens[i] else { continue };
            let Some(&(after, _)) = tokens.get(close + 1) else {
                continue;
            };
            if !starts_cast_operand(after) {
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
        }
    }
}

fn insert_seqs(tokens: Vec<(Tok, Span)>) -> Vec<(Tok, Span)> {
    let mut out: Vec<(Tok, Span)> = Vec::with_capacity(tokens.len());
    for (t, span) in tokens {
        if let Some(&(prev, prev_span)) = out.last() {
            let after_host = prev == Tok::Host && begins_operand(t);
            let before_host = t == Tok::Host && ends_operand(prev);
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

/// Applies the three decisions to a token stream.
pub(crate) fn cook(mut tokens: Vec<(Tok, Span)>, src: &str) -> Vec<(Tok, Span)> {
    contextual_keywords(&mut tokens, src);
    mark_casts(&mut tokens);
    if tokens.iter().any(|(t, _)| *t == Tok::Host) {
        tokens = insert_seqs(tokens);
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
        cook(lexed.tokens, src)
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
        assert_eq!(kinds("f ::= inline[2] (int) x;")[6], CastLParen);
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
