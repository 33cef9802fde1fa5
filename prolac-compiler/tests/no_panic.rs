//! Semantic analysis, the optimiser and the layout engine never panic, whatever program they
//! are given (the front end's invariant, extended through the pipeline), and what they accept
//! is sound. Seeds: every `.pc` file of `tests/fixtures/sema/{ok,err}`, `tests/programs` and
//! `examples/ping`. Each case makes one to four random edits to a seed:
//!
//! - tokens: delete, duplicate or swap; replace an identifier with another of the file, a type
//!   with another type, an operator with another, an integer with a boundary value;
//! - lines: delete or duplicate one, splice in lines of another seed;
//! - structure: move in members and modules of other seeds, delete members; extra `:>`
//!   parents; inheritance, equation, constant, recursion, containment and include cycles;
//!   `inline[k]`; `hide all`, `using all`, globs and other module operators; `super.`
//!   prefixes; `catch all`; operands, members and items from [`EXPRS`], [`MEMBERS`], [`ITEMS`].
//!
//! One case in eight uses C as the host language, one in eight a `--without` name. Cases run
//! in three rounds, the accepted mutants of one round seeding the next, so edits compound.
//!
//! Each case runs through `check_program` at `-O0` to `-O3` (only once if it is rejected before
//! the optimiser) under `catch_unwind`, on threads with the main thread's 8 MiB of stack, with
//! the seed's directory in memory so includes resolve. A panic anywhere, also in rendering
//! diagnostics or in layout queries, fails; so does an accepted program whose optimised IR does
//! not verify or whose text form does not parse back to the same text, or that either back
//! end refuses with anything but its own diagnostics (the Cranelift back end, at `-O0` and
//! `-O3`, with Cranelift's verifier on), a rejected program
//! without an error whose primary span lies in its file, and a diagnostic pointing outside one.
//!
//! Runs are reproducible: case `i` depends on `i`, `PROLAC_FUZZ_SEED` (default 0) and
//! `PROLAC_FUZZ_SCALE` (which multiplies the 8,000 cases), not on the number of threads. Each
//! failing case is written to `/tmp/sema-fuzz-failures/NNN.pc` (or under
//! `PROLAC_FUZZ_FAILURES`), its options and problems to `NNN.txt`; a case that kills the
//! process (stack overflow) or hangs is left in `in-progress-W.pc` (`W`: the worker thread).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Instant;

use prolac_compiler::fs::{FileSystem, MemFs};
use prolac_compiler::ir::{parse, print, verify};
use prolac_compiler::{HostLang, Options, check_program, layout};
use prolac_syntax::render;

#[path = "no_panic/back_ends.rs"]
mod back_ends;

/// Cases at `PROLAC_FUZZ_SCALE=1`.
const BASE_CASES: u64 = 8_000;
/// Where failing cases are written (unless `PROLAC_FUZZ_FAILURES` names another directory).
fn failure_dir() -> PathBuf {
    std::env::var_os("PROLAC_FUZZ_FAILURES").map_or("/tmp/sema-fuzz-failures".into(), PathBuf::from)
}
/// Rounds; the accepted mutants of a round are seeds of the next.
const ROUNDS: u64 = 3;
/// Seeds added per round, at most.
const MAX_DERIVED: usize = 2000;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

// Random numbers

/// xorshift64*, seeded through splitmix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 if `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `1/n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

// Seeds and the in-memory file system

/// One seed file.
struct Seed {
    /// Its (normalised, absolute) path, also its name in the file system.
    path: PathBuf,
    text: String,
    /// Index of its directory's file system in [`Corpus::fss`].
    fs: usize,
    /// The distinct identifiers of the file.
    idents: Vec<String>,
    /// The names of the modules it defines.
    modules: Vec<String>,
}

struct Corpus {
    fss: Vec<MemFs>,
    seeds: Vec<Seed>,
}

fn pc_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    let mut paths: Vec<PathBuf> = entries.map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            pc_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "pc") {
            out.push(p);
        }
    }
}

fn make_seed(path: PathBuf, text: String, fs: usize) -> Seed {
    let toks = lex(&text);
    let idents = toks
        .iter()
        .filter(|t| t.kind == Kind::Ident)
        .map(|t| t.text.clone());
    let idents = idents.collect::<BTreeSet<_>>().into_iter().collect();
    let modules = shape(&toks)
        .modules
        .into_iter()
        .map(|m| toks[m.1].text.clone());
    let modules = modules.collect::<BTreeSet<_>>().into_iter().collect();
    Seed {
        path,
        text,
        fs,
        idents,
        modules,
    }
}

fn corpus() -> Corpus {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = [
        manifest.join("tests/fixtures/sema/ok"),
        manifest.join("tests/fixtures/sema/err"),
        manifest.join("tests/programs"),
        manifest.join("../examples/ping"),
    ];
    let (mut fss, mut seeds) = (Vec::new(), Vec::new());
    for dir in dirs.iter().filter_map(|d| std::fs::canonicalize(d).ok()) {
        let mut files = Vec::new();
        pc_files(&dir, &mut files);
        let mut fs = MemFs::new();
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            fs.add(&path, text.clone());
            seeds.push(make_seed(path, text, fss.len()));
        }
        fss.push(fs);
    }
    Corpus { fss, seeds }
}

/// A seed directory with one file replaced by the case's text.
struct Overlay<'a> {
    base: &'a MemFs,
    path: &'a Path,
    text: &'a str,
}

impl FileSystem for Overlay<'_> {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.base.canonicalize(path) {
            Ok(p) if p == self.path => Ok(self.text.as_bytes().to_vec()),
            _ => self.base.read(path),
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        self.base.is_file(path)
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.base.canonicalize(path)
    }
}

// A rough lexer, good enough to pick edit positions

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Whitespace and comments.
    Trivia,
    Ident,
    Keyword,
    TypeWord,
    Int,
    /// Operators that may replace one another.
    Op,
    /// Everything else: brackets, `;`, `,`, `.`, `:>`, `::=`, literals.
    Punct,
}

#[derive(Clone, Debug)]
struct Tok {
    kind: Kind,
    text: String,
}

/// Reserved and contextual words.
const KEYWORDS: &str = "all allstatic catch class constructor defaultinline else elseif end \
    exception export false field has hide if in inline let max min module noinline notusing \
    outline pathinline rename self show static super then true using __inline include layer \
    compose requires extern";

const TYPE_WORDS: &str = "void bool char short int long uchar ushort uint ulong seqint";

/// Operator symbols, longest first.
const SYMBOLS: &str = "<<= >>= ==> ||| ::= :> -> ++ -- << >> <= >= == != && || += -= *= /= %= \
    ^= &= |= + - * / % < > = ! ~ & | ^ ? : @";

/// What an operator may become.
const OPERATORS: &str = "+ - * / % << >> < <= > >= == != & | ^ && || = += -= *= /= %= <<= >>= \
    &= |= ^= min= max= ==> ||| ! ~ ++ -- -> ? : @ ,";

/// Replacement integers.
const INTEGERS: &str = "0 -1 255 4294967295 18446744073709551615 1 256 65536 2147483648 \
    9223372036854775808 0x7FFFFFFF 0q 4294967295q 18446744073709551616";

/// Replacement types (placeholders: see [`instantiate`]).
const TYPES: &str = "int $ uint $ seqint $ bool $ *X $ X[3] $ void $ X $ **X $ *X[2] $ uchar $ \
    ulong $ *void $ X[0] $ *bool $ long[4294967296] $ X[18446744073709551615] $ S $ *S $ S[2]";

/// Module operators to add (placeholders: see [`instantiate`]).
const MODULE_OPS: &str = "inline[0] all $ inline[4] all $ inline[4294967296] all $ \
    inline[-1] all $ hide \"[!\" $ hide \"\\\\\" $ hide \"[a-\" $ hide \"*.*\" $ hide \"S.*\" $ \
    hide all $ using all $ show all $ notusing all $ using allstatic $ inline all $ \
    inline[3] all $ noinline all $ pathinline all $ defaultinline all $ hide \"*\" $ hide (I) $ \
    show J = I $ rename J = I $ using (I) $ inline[3] I $ hide X.all $ inline X.all $ hide X.I";

/// The words of a whitespace-separated list.
fn words(list: &str) -> Vec<&str> {
    list.split_whitespace().collect()
}

fn lex(text: &str) -> Vec<Tok> {
    let b = text.as_bytes();
    let word = |j: usize| {
        b.get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    };
    // The end of the run of bytes from `i` on that satisfy `f`.
    let run =
        |i: usize, f: &dyn Fn(usize) -> bool| (i..b.len()).find(|&j| !f(j)).unwrap_or(b.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let (start, c, rest) = (i, b[i], &text[i..]);
        let kind = if c.is_ascii_whitespace() {
            i = run(i, &|j| b[j].is_ascii_whitespace());
            Kind::Trivia
        } else if rest.starts_with("//") {
            i = run(i, &|j| b[j] != b'\n');
            Kind::Trivia
        } else if let Some(comment) = rest.strip_prefix("/*") {
            i = comment.find("*/").map_or(b.len(), |n| i + n + 4);
            Kind::Trivia
        } else if c.is_ascii_alphabetic() || c == b'_' {
            i = run(i, &|j| word(j) || (b[j] == b'-' && word(j + 1)));
            let w = &text[start..i];
            match () {
                _ if words(TYPE_WORDS).contains(&w) => Kind::TypeWord,
                _ if words(KEYWORDS).contains(&w) => Kind::Keyword,
                _ => Kind::Ident,
            }
        } else if c.is_ascii_digit() {
            i = run(i, &|j| b[j].is_ascii_alphanumeric());
            Kind::Int
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != c && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            Kind::Punct
        } else if let Some(sym) = words(SYMBOLS).into_iter().find(|s| rest.starts_with(*s)) {
            i += sym.len();
            if sym == ":>" || sym == "::=" {
                Kind::Punct
            } else {
                Kind::Op
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            Kind::Punct
        };
        i = (i.min(b.len())..)
            .find(|&j| text.is_char_boundary(j))
            .unwrap_or(b.len());
        out.push(Tok {
            kind,
            text: text[start..i].to_string(),
        });
    }
    out
}

fn join(toks: &[Tok]) -> String {
    toks.iter().map(|t| t.text.as_str()).collect()
}

/// The text of the last non-trivia token before `i`.
fn prev_text(toks: &[Tok], i: usize) -> &str {
    (0..i)
        .rev()
        .find(|&j| toks[j].kind != Kind::Trivia)
        .map_or("", |j| toks[j].text.as_str())
}

/// Index of the next non-trivia token after `i`.
fn next_sig(toks: &[Tok], i: usize) -> Option<usize> {
    (i + 1..toks.len()).find(|&j| toks[j].kind != Kind::Trivia)
}

/// What the edits need to know about a file's structure.
#[derive(Default)]
struct Shape {
    /// Whether each token lies in a method body (between `::=` and its `;`).
    in_body: Vec<bool>,
    /// The `;` tokens that end method bodies.
    body_ends: Vec<usize>,
    /// Module definitions with a body: the keyword's, the name's and the closing brace's index.
    modules: Vec<(usize, usize, usize)>,
    /// Members of module bodies: the first and the last (`;`) token's index.
    members: Vec<(usize, usize)>,
}

fn shape(toks: &[Tok]) -> Shape {
    let mut s = Shape {
        in_body: vec![false; toks.len()],
        ..Shape::default()
    };
    // Open braces: the module whose body each opens (if it does), and the last member boundary.
    let mut braces: Vec<(Option<(usize, usize)>, usize)> = Vec::new();
    let mut pending = None; // a module header seen, its body not yet opened
    let mut body = None; // the brace depth of the `::=` whose body we are in
    for (i, t) in toks.iter().enumerate() {
        let depth = braces.len();
        match t.text.as_str() {
            "module" | "class" => {
                pending = next_sig(toks, i)
                    .filter(|&n| toks[n].kind == Kind::Ident)
                    .map(|n| (i, n));
            }
            "{" => braces.push((pending.take().filter(|_| body.is_none()), i)),
            "}" => {
                if let Some((Some((kw, name)), _)) = braces.pop() {
                    s.modules.push((kw, name, i));
                }
                if let Some(last) = braces.last_mut() {
                    last.1 = i;
                }
            }
            "::=" if pending.is_none() && body.is_none() => body = Some(depth),
            ";" if body.is_none_or(|d| d == depth) => {
                if body.take().is_some() {
                    s.body_ends.push(i);
                }
                pending = None;
                if let Some((Some(_), last)) = braces.last_mut() {
                    s.members.push((*last + 1, i));
                    *last = i;
                }
                continue;
            }
            _ => {}
        }
        s.in_body[i] = body.is_some() && t.text != "::=";
    }
    s
}

// Mutations

/// Expressions that replace an operand `O` (placeholders: see [`instantiate`]).
const EXPRS: &str = "inline[0] O $ inline[3] O $ inline[4] O $ inline[4294967296] O $ \
    inline[-1] O $ super.O $ super.super.O $ super.X.O $ O catch all $ { self; I } $ \
    { \"\\\\\" I } $ { '\\\\' } $ { /* I */ I.J } $ { X.I } $ (X) I $ (*X) I $ (uint) I $ \
    (bool) I $ (*void) I $ (seqint) I $ (ulong) -1 $ I :> *X $ I :> S $ &I $ *I $ I->J $ I.J $ \
    X.I $ .X.I $ self $ *self $ super $ super.I $ X.constructor $ min(I, J) $ max(I, K) $ I[K] $ \
    I[-1] $ let v :> X in v.I end $ let v = I in v end $ let v :> *X = I in v->J end $ \
    let v :> X(I, K) in v end $ if I then J end $ I ? J : K $ outline[11] I $ inline[3] X.I $ \
    (I catch all) $ (I catch (J)) $ (I ||| J) $ (I ==> J) $ (I, J) $ X.constructor(I) $ \
    I->constructor() $ I = K $ I += I $ I <<= K $ K / 0 $ K % (I - I) $ I << 64 $ -(K) $ ~I $ \
    !I $ I++ $ --I $ I min= K $ (I :> uint) $ S.I $ S";

/// Members added to a module.
const MEMBERS: &str = "field f1 :> X @ K; $ field f2 :> uchar[0]; $ static field s1 :> X; $ \
    exception e1; $ constructor(a :> uint) ::= I = a; $ NS1 { static k :> uint ::= K; } $ \
    static m1 :> uint ::= extern; $ m2 ::= ; $ m3 :> S ::= *self; $ field f3 :> uint @ K; $ \
    field f4 :> X[K]; $ field f5 :> *X hide all; $ field me :> S; $ field many :> S[2]; $ \
    static k1 :> uint ::= k2 + 1; static k2 :> uint ::= k1 * 2; field arr :> uint[k1]; $ \
    static rec(x :> uint) :> uint ::= inline[3] rec(x + 1) + 1; static r :> uint ::= rec(1); $ \
    field other :> X; ping :> bool ::= pong; pong :> bool ::= ping; $ \
    static k :> uint ::= k; field buf :> uchar[k]; $ \
    rec :> bool ::= inline[3] super.rec || rec; $ I :> uint ::= super.I + 1; $ I ::= ; $ \
    static I ::= I; $ module Inner { } $ export I; $ %{ support %} $ field I :> X; $ \
    exception I; $ I(a :> X, b :> *Y) :> X ::= a; $ static big :> uchar[4294967296]; $ \
    field huge :> ulong[536870912]; $ field bits :> bool @ 3; $ \
    static down(n :> uint) :> uint ::= n == 0 ? 0 : down(n - 1); $ spin ::= inline[3] spin; $ \
    static even(n :> uint) :> bool ::= n == 0 || odd(n - 1); \
    static odd(n :> uint) :> bool ::= n != 0 && inline even(n - 1); $ \
    count(n :> uint) ::= n > 0 ==> count(n - 1) ||| I; $ walk(p :> *S) ::= p->walk(p); $ \
    static swap(a :> uint, b :> uint) :> uint ::= if a == 0 then b else swap(b, a - 1) end;";

/// Top-level items added to a file; `FILE` is the file's own name.
const ITEMS: &str = "module Eq-1 ::= Eq-2 hide all; module Eq-2 ::= Eq-1; $ \
    module Cyc-1 :> Cyc-2 { } module Cyc-2 :> Cyc-1 { } $ include \"FILE\"; include \"./FILE\"; $ \
    module Imp-1 has Imp-2, X { field p :> *Imp-2; } \
    module Imp-2 :> Y has Imp-1 { field q :> Imp-1; } $ \
    export X.all; $ export X.I, X.constructor; $ export .X.I; $ module Z1 ::= X show all; $ \
    module Z2 ::= (X[3]); $ module Z3 ::= (*X); $ \
    layer L1 requires L1 { module X :> super { } } $ compose C1 = L1, L1; $ compose C2 = I, J; $ \
    N1 { module X { } } $ module Z4 :> X has Y { I :> uint ::= super.I; } $ \
    module Z5 :> X inline[3] all, Y hide all { } $ module X { } $ module X :> X { } $ \
    module Z6 :> X { field z :> Z6; } $ %{ support %}";

/// A random module name of the seed (or a made-up one).
fn module_name(rng: &mut Rng, seed: &Seed) -> String {
    match rng.pick(&seed.modules) {
        Some(m) if !rng.one_in(8) => m.clone(),
        _ => "Nowhere".to_string(),
    }
}

fn ident(rng: &mut Rng, seed: &Seed) -> String {
    let fallback = "x".to_string();
    rng.pick(&seed.idents).cloned().unwrap_or(fallback)
}

/// A random entry of a `$`-separated list, with its placeholders filled in: `X` and `Y`
/// (module names), `I` and `J` (identifiers), `K` (an integer), `FILE` (the seed's file name),
/// and those `given` gives (`S`, the enclosing module; `O`, the operand replaced).
fn instantiate(rng: &mut Rng, seed: &Seed, list: &str, given: &[(&str, &String)]) -> String {
    let entries: Vec<&str> = list.split('$').map(str::trim).collect();
    let file = seed.path.file_name().map(|f| f.to_string_lossy());
    let template = entries[rng.below(entries.len())].replace("FILE", &file.unwrap_or_default());
    let given = |s: &str| given.iter().find(|g| g.0 == s).map(|g| g.1.clone());
    let toks = lex(&template);
    toks.iter()
        .map(|t| match (t.text.as_str(), given(&t.text)) {
            (_, Some(text)) => text,
            ("X" | "Y", _) => module_name(rng, seed),
            ("I" | "J", _) => ident(rng, seed),
            ("K", _) => words(INTEGERS)[rng.below(words(INTEGERS).len())].to_string(),
            (other, _) => other.to_string(),
        })
        .collect()
}

fn pick_index(rng: &mut Rng, toks: &[Tok], pred: impl Fn(usize, &Tok) -> bool) -> Option<usize> {
    let candidates: Vec<usize> = (0..toks.len()).filter(|&i| pred(i, &toks[i])).collect();
    rng.pick(&candidates).copied()
}

/// Makes module `name` (a token index) a child of `parent` as well.
fn add_parent(toks: &mut [Tok], name: usize, parent: &str) {
    match next_sig(toks, name) {
        _ if toks[name].text.contains(" :> ") => toks[name].text += &format!(", {parent}"),
        Some(j) if toks[j].text.starts_with(":>") => {
            toks[j].text = format!(":> {parent},{}", &toks[j].text[2..])
        }
        Some(j) if toks[j].text == "::=" => {
            if let Some(k) = next_sig(toks, j) {
                toks[k].text = parent.to_string();
            }
        }
        _ => toks[name].text = format!("{} :> {parent}", toks[name].text),
    }
}

fn lines_of(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Applies one random edit; `None` if the chosen edit found no place to apply.
fn mutate(rng: &mut Rng, text: &str, seed: &Seed, corpus: &Corpus) -> Option<String> {
    let mut toks = lex(text);
    let sh = shape(&toks);
    let sig = |_: usize, t: &Tok| t.kind != Kind::Trivia;
    // An identifier in a method body that does not follow `.` or `->`.
    let operand = |i: usize, t: &Tok| {
        let binding = next_sig(&toks, i).is_some_and(|n| toks[n].text == ":>");
        let prev = prev_text(&toks, i);
        sh.in_body[i]
            && t.kind == Kind::Ident
            && !binding
            && !matches!(prev, "." | "->" | "catch" | ":>" | "let" | "*")
    };
    // The module a token lies in.
    let owner = |i: usize| {
        let m = sh.modules.iter().find(|m| m.1 < i && i < m.2);
        m.map_or("Nowhere".to_string(), |m| toks[m.1].text.clone())
    };
    let other = rng
        .pick(&corpus.seeds)
        .filter(|_| !rng.one_in(3))
        .unwrap_or(seed);
    let (other_toks, module) = (lex(&other.text), rng.pick(&sh.modules).copied());
    let other_shape = shape(&other_toks);
    let edit = rng.below(40);
    match edit {
        0 | 1 => {
            let i = pick_index(rng, &toks, sig)?;
            toks[i].text.clear();
        }
        2 => {
            let i = pick_index(rng, &toks, sig)?;
            toks[i].text = format!("{0} {0}", toks[i].text);
        }
        3 => {
            let i = pick_index(rng, &toks, sig)?;
            let j = match rng.one_in(2) {
                true => (i + 1 + rng.below(8)).min(toks.len() - 1),
                false => pick_index(rng, &toks, sig)?,
            };
            let (a, b) = (toks[i].text.clone(), toks[j].text.clone());
            (toks[i].text, toks[j].text) = (b, a);
        }
        4..=6 => {
            let i = pick_index(rng, &toks, |_, t| t.kind == Kind::Ident)?;
            toks[i].text = ident(rng, seed);
        }
        7 | 8 => {
            let i = pick_index(rng, &toks, |i, t| {
                t.kind == Kind::TypeWord || (t.kind == Kind::Ident && prev_text(&toks, i) == ":>")
            })?;
            toks[i].text = instantiate(rng, seed, TYPES, &[("S", &owner(i))]);
        }
        9 => {
            let i = pick_index(rng, &toks, |_, t| t.kind == Kind::Op)?;
            toks[i].text = (*rng.pick(&words(OPERATORS))?).to_string();
        }
        10 | 11 => {
            let i = pick_index(rng, &toks, |_, t| t.kind == Kind::Int)?;
            toks[i].text = (*rng.pick(&words(INTEGERS))?).to_string();
        }
        12..=14 => {
            let mut lines = lines_of(text);
            let at = rng.below(lines.len() + 1);
            match edit {
                12 if at < lines.len() => drop(lines.remove(at)),
                13 if at < lines.len() => lines.insert(at, lines[at]),
                _ => {
                    let from = lines_of(&other.text);
                    let start = rng.below(from.len());
                    let end = (start + 1 + rng.below(8)).min(from.len());
                    let piece = from.get(start..end)?.concat();
                    let (before, after) = (lines[..at].concat(), lines[at..].concat());
                    return Some(format!("{before}{piece}\n{after}"));
                }
            }
            return Some(lines.concat());
        }
        15 | 16 => {
            // A member of another module, moved into a module of this file.
            let (a, b) = *rng.pick(&other_shape.members)?;
            toks[module?.2].text = format!("{}\n}}", join(&other_toks[a..=b]));
        }
        17 => {
            let (kw, _, close) = *rng.pick(&other_shape.modules)?;
            return Some(format!("{text}\n{}\n", join(&other_toks[kw..=close])));
        }
        18 => {
            let (a, b) = *rng.pick(&sh.members)?;
            toks[a..=b].iter_mut().for_each(|t| t.text.clear());
        }
        19 | 20 => {
            let parent = match rng.one_in(10) {
                true => "super".to_string(),
                false => module_name(rng, seed),
            };
            add_parent(&mut toks, module?.1, &parent);
        }
        21 | 22 => {
            // Inheritance cycles: between two modules of the file, or through new modules.
            let (_, a, _) = module?;
            let (_, b, _) = *rng.pick(&sh.modules)?;
            let (na, nb) = (toks[a].text.clone(), toks[b].text.clone());
            add_parent(&mut toks, a, if edit == 21 { &nb } else { "Cyc-1" });
            add_parent(&mut toks, b, if edit == 21 { &na } else { "Eq-1" });
            if edit == 22 {
                let items = "module Cyc-1 :> Cyc-2 { } module Cyc-2 :> Cyc-1 { }\n\
                             module Eq-1 ::= Eq-2 hide all; module Eq-2 ::= Eq-1;";
                return Some(format!("{}\n{items}\n", join(&toks)));
            }
        }
        23..=26 => {
            let op = instantiate(rng, seed, MODULE_OPS, &[("S", &owner(module?.1))]);
            match rng.below(3) {
                0 => toks[module?.2].text = format!("}} {op}"),
                1 => {
                    // After a parent or import entry, or a type.
                    let i = pick_index(rng, &toks, |i, t| {
                        t.kind == Kind::Ident && matches!(prev_text(&toks, i), ":>" | "has" | "*")
                    })?;
                    toks[i].text = format!("{} {op}", toks[i].text);
                }
                _ => {
                    let name = &toks[module?.1].text;
                    return Some(format!("{text}\nmodule Eq-View ::= {name} {op};\n"));
                }
            }
        }
        29 | 30 => {
            let end = *rng.pick(&sh.body_ends)?;
            let handler = match rng.below(4) {
                0 => format!(" catch {}", ident(rng, seed)),
                1 => format!(" catch ({}, {})", ident(rng, seed), ident(rng, seed)),
                _ => " catch all".to_string(),
            };
            toks[end].text = format!("{handler};");
        }
        27 | 28 | 31..=34 => {
            let i = pick_index(rng, &toks, operand)?;
            let fixed = [("S", &owner(i)), ("O", &toks[i].text)];
            toks[i].text = format!("({})", instantiate(rng, seed, EXPRS, &fixed));
        }
        35..=37 => {
            let (_, name, close) = module?;
            let member = instantiate(rng, seed, MEMBERS, &[("S", &toks[name].text)]);
            toks[close].text = format!("  {member}\n}}");
        }
        _ => {
            let own = module.map_or(String::new(), |m| toks[m.1].text.clone());
            let item = instantiate(rng, seed, ITEMS, &[("S", &own)]);
            return Some(format!("{text}\n{item}\n"));
        }
    }
    Some(join(&toks))
}

/// One generated program and the options it is checked with.
struct Case {
    number: u64,
    /// Index of its seed in [`Corpus::seeds`].
    seed: usize,
    text: String,
    host: HostLang,
    without: Vec<String>,
}

fn generate(number: u64, base_seed: u64, corpus: &Corpus) -> Case {
    let mut rng = Rng::new(number ^ base_seed.rotate_left(32));
    let index = rng.below(corpus.seeds.len());
    let seed = &corpus.seeds[index];
    let edits = [1, 1, 1, 1, 1, 2, 2, 2, 3, 4][rng.below(10)];
    let mut text = seed.text.clone();
    let mut done = 0;
    for _ in 0..50 {
        if done < edits
            && let Some(t) = mutate(&mut rng, &text, seed, corpus)
        {
            (text, done) = (t, done + 1);
        }
    }
    let host = [HostLang::Rust, HostLang::C][usize::from(rng.one_in(8))];
    let without = (0..usize::from(rng.one_in(8)))
        .map(|_| ident(&mut rng, seed))
        .collect();
    Case {
        number,
        seed: index,
        text,
        host,
        without,
    }
}

// Running a case

thread_local! {
    /// True while a case runs: its panics are recorded, not printed.
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
    /// The message and location of the last panic in a case.
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_CASE.get() {
                return default(info);
            }
            let (payload, at) = (info.payload(), info.location());
            let message = payload.downcast_ref::<&str>().map(|s| (*s).to_string());
            let message = message.or_else(|| payload.downcast_ref::<String>().cloned());
            let location = at.map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            LAST_PANIC.set(Some((
                message.unwrap_or_default(),
                location.unwrap_or_default(),
            )));
        }));
    });
}

/// Runs `f`, turning a panic into `Err((message, location))`.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, (String, String)> {
    IN_CASE.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_CASE.set(false);
    result.map_err(|_| LAST_PANIC.take().unwrap_or_default())
}

/// One thing wrong with a case: what identifies the bug (the panic's location or the kind of
/// failure), and the details.
type Problem = (String, String);

/// How far a case got at `-O0`, `|`-separated.
const OUTCOMES: &str = "rejected by the front end|rejected by semantic analysis|\
    rejected by the layout engine|accepted|panicked";
const ACCEPTED: usize = 3;

/// Checks one case at every optimisation level; returns the problems and the outcome.
fn run_case(fs: &dyn FileSystem, root: &Path, case: &Case) -> (Vec<Problem>, usize) {
    let mut problems = Vec::new();
    let mut first_outcome = None;
    for level in 0..=3u8 {
        let options = Options {
            host: case.host,
            without: case.without.clone(),
            opt_level: level,
            ..Options::default()
        };
        let outcome = catch(|| {
            let Ok(program) = check_program(&[root.to_path_buf()], fs, &options) else {
                return (Vec::new(), 0);
            };
            let mut found = Vec::new();
            let mut problem = |key: &str, detail: String| {
                found.push((key.to_string(), format!("-O{level}: {detail}")))
            };
            let in_file = |span: prolac_syntax::Span| {
                program
                    .sources
                    .get(span.file)
                    .is_some_and(|f| span.lo <= span.hi && span.hi as usize <= f.text().len())
            };
            for d in &program.diagnostics {
                if !std::iter::once(&d.primary)
                    .chain(&d.secondary)
                    .all(|l| in_file(l.span))
                {
                    problem("span outside its file", format!("{d:?}"));
                }
            }
            let _ = render::to_string(&program.sources, &program.diagnostics);
            if let (Some(ir), Some(layouts)) = (&program.ir, &program.layouts) {
                for (t, _) in ir.types.iter() {
                    let _ = layout::size_align(ir, layouts, t);
                }
                for m in ir.modules.keys() {
                    let _ = layouts.of(m);
                }
            }
            let errors = program.diagnostics.iter().filter(|d| d.is_error());
            if program.has_errors() {
                if !errors.clone().any(|d| in_file(d.primary.span)) {
                    problem("rejected without an error in a file", format!("{errors:?}"));
                }
            } else if let Some(ir) = &program.ir {
                if let Err(errors) = verify::verify(ir) {
                    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    let key = format!("verifier: invariant {}", errors[0].invariant);
                    problem(&key, lines.join("\n"));
                }
                let text = print::program(ir);
                match parse::program(&text) {
                    Ok(back) if print::program(&back) == text => {}
                    Ok(_) => problem("IR text does not round-trip", text),
                    Err(e) => problem("IR text does not parse", format!("{e}\n{text}")),
                }
                back_ends::check(&program, level, &mut problem);
            }
            let outcome = match (&program.ir, &program.report, program.has_errors()) {
                (None, _, _) => 0,
                (Some(_), None, _) => 1,
                (Some(_), Some(_), true) => 2,
                (Some(_), Some(_), false) => ACCEPTED,
            };
            (found, outcome)
        });
        match outcome {
            Ok((found, outcome)) => {
                problems.extend(found);
                first_outcome.get_or_insert(outcome);
                if outcome < 2 {
                    break; // rejected before optimisation: every level does the same
                }
            }
            Err((message, location)) => {
                first_outcome.get_or_insert(4);
                let detail = format!("-O{level}: panicked at {location}: {message}");
                problems.push((location, detail));
            }
        }
    }
    (problems, first_outcome.unwrap_or(0))
}

/// What the workers of one round found.
#[derive(Default)]
struct Results {
    /// Failing cases and their problems.
    failures: Vec<(Case, Vec<Problem>)>,
    /// Cases per outcome.
    outcomes: [u64; 5],
    /// Accepted cases without problems.
    accepted: Vec<Case>,
}

impl Results {
    fn absorb(&mut self, other: Results) {
        self.failures.extend(other.failures);
        self.accepted.extend(other.accepted);
        self.outcomes
            .iter_mut()
            .zip(other.outcomes)
            .for_each(|(a, b)| *a += b);
    }
}

/// Runs `cases` on every core; failures and accepted cases come back in case order.
fn run_round(cases: Range<u64>, corpus: &Corpus, base_seed: u64) -> Results {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8)) as u64;
    let run = |w: u64| {
        let in_progress = failure_dir().join(format!("in-progress-{w}.pc"));
        let mut results = Results::default();
        for number in cases.clone().filter(|n| n % workers == w) {
            let case = generate(number, base_seed, corpus);
            let seed = &corpus.seeds[case.seed];
            let _ = std::fs::write(&in_progress, &case.text);
            let base = &corpus.fss[seed.fs];
            let fs = Overlay {
                base,
                path: &seed.path,
                text: &case.text,
            };
            let (problems, outcome) = run_case(&fs, &seed.path, &case);
            results.outcomes[outcome] += 1;
            if !problems.is_empty() {
                results.failures.push((case, problems));
            } else if outcome == ACCEPTED {
                results.accepted.push(case);
            }
        }
        let _ = std::fs::remove_file(&in_progress);
        results
    };
    let mut all = Results::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let run = &run;
                std::thread::Builder::new()
                    .stack_size(8 << 20) // as the driver's main thread
                    .spawn_scoped(s, move || run(w))
                    .expect("a worker thread starts")
            })
            .collect();
        handles
            .into_iter()
            .for_each(|h| all.absorb(h.join().unwrap_or_default()));
    });
    all.failures.sort_by_key(|f| f.0.number);
    all.accepted.sort_by_key(|c| c.number);
    all
}

/// Writes every failing case and its report; returns the summary for the assertion.
fn report(failures: &[(Case, Vec<Problem>)], corpus: &Corpus) -> String {
    let dir = &failure_dir();
    let mut distinct: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (n, (case, problems)) in failures.iter().enumerate() {
        let details: Vec<&str> = problems.iter().map(|p| p.1.as_str()).collect();
        let _ = std::fs::write(dir.join(format!("{n:03}.pc")), &case.text);
        let _ = std::fs::write(
            dir.join(format!("{n:03}.txt")),
            format!(
                "case {} from seed {}, host {:?}, without {:?}\n\n{}\n",
                case.number,
                corpus.seeds[case.seed].path.display(),
                case.host,
                case.without,
                details.join("\n")
            ),
        );
        let mut keys: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
        keys.dedup();
        for key in keys {
            distinct.entry(key).or_insert((n, 0)).1 += 1;
        }
    }
    let mut out = format!(
        "{} cases failed (written to {}/NNN.pc, reports in NNN.txt); {} distinct problems:\n",
        failures.len(),
        dir.display(),
        distinct.len()
    );
    for (key, (first, count)) in &distinct {
        out += &format!("  {key}: {count} case(s), first {first:03}.pc\n");
    }
    for (n, (case, problems)) in failures.iter().take(5).enumerate() {
        let detail: String = problems[0].1.chars().take(600).collect();
        out += &format!("\n{n:03}.pc (case {}): {detail}\n", case.number);
    }
    out
}

#[test]
fn the_pipeline_never_panics_on_mutated_programs() {
    let mut corpus = corpus();
    let seeds = corpus.seeds.len();
    assert!(seeds >= 100, "only {seeds} seeds");
    let cases = BASE_CASES.saturating_mul(env_number("PROLAC_FUZZ_SCALE", 1).max(1));
    let dir = failure_dir();
    let _ = std::fs::create_dir_all(&dir);
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.ends_with(".pc") || name.ends_with(".txt");
        if ours && name.starts_with(|c: char| c.is_ascii_digit()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    install_panic_hook();
    let (base_seed, epoch) = (env_number("PROLAC_FUZZ_SEED", 0), Instant::now());
    let mut total = Results::default();
    let per_round = cases.div_ceil(ROUNDS);
    for round in 0..ROUNDS {
        let range = round * per_round..((round + 1) * per_round).min(cases);
        let mut results = run_round(range, &corpus, base_seed);
        let accepted = std::mem::take(&mut results.accepted);
        total.absorb(results);
        // Accepted mutants seed the next round, so edits compound.
        for case in accepted.into_iter().take(MAX_DERIVED) {
            let parent = &corpus.seeds[case.seed];
            let seed = make_seed(parent.path.clone(), case.text, parent.fs);
            corpus.seeds.push(seed);
        }
    }
    let summary: Vec<String> = OUTCOMES
        .split('|')
        .zip(total.outcomes)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    let summary = format!(
        "{cases} cases from {seeds} seeds in {:.1} s: {}",
        epoch.elapsed().as_secs_f64(),
        summary.join(", ")
    );
    eprintln!("{summary}");
    let failures = &total.failures;
    assert!(
        failures.is_empty(),
        "{summary}\n{}",
        report(failures, &corpus)
    );
}
