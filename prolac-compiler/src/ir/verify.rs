//! The IR's invariants, checked by [`verify`]. Each [`VerifyError`] carries the number of the
//! invariant it violates:
//!
//! 1. **Ids exist.** Every id stored in the program names an existing entity: the types inside
//!    types, module parents, fields, vtable entries and constructors, owners, field types,
//!    selector origins, exports, composition aliases, method selectors, parameter and return types and raises; and in
//!    bodies, local types, node types, operands, the root, and every local, field, method,
//!    selector, exception and type a node or host substitution names.
//! 2. **Types are finite.** A `ptr`/`array` type refers to a type with a smaller id (as
//!    [`Types::intern`](super::Types::intern) always produces); array elements are neither
//!    `void` nor `never`.
//! 3. **Module parents are acyclic.**
//! 4. **Fields belong to their owner.** A static field is listed in no module's `fields` (it
//!    is a global, outside every object). Each dynamic field is listed in exactly one module's `fields`,
//!    its owner's.
//! 5. **Vtable entries are sound.** A vtable is strictly ascending by selector (so without
//!    duplicates); each entry's method is `Dynamic` with that selector and owned by the module
//!    or an ancestor; the selector originates in the module or an ancestor.
//! 6. **Vtables are complete.** A module's vtable has every selector of its parent's vtable,
//!    and a selector's origin module has it in its vtable.
//! 7. **Constructors.** A module's constructor is a `Constructor` method owned by the module.
//! 8. **Value types.** Fields, parameters and locals have types other than `void` and `never`.
//! 9. **Exports are unique.**
//! 10. **Method attributes.** The inline level is at most 3; `raises` is strictly ascending
//!     (sorted, unique); extern methods have no body.
//! 11. **Selectors are consistent.** A `Dynamic` method's owner is its selector's origin or
//!     descends from it; every method of a selector can stand for the origin module's method
//!     (§6.5): as many parameters, each of the same type or a pointer to an ancestor module of
//!     the original's, and the same return type or a pointer to a descendant module of it.
//! 12. **Receiver and parameters.** In a method with a receiver, local `v0` is a pointer to the
//!     owner's module type; the parameters occupy the next locals, with the declared types.
//! 13. **A body is a tree.** It has a root; every node but the root has exactly one parent; the
//!     root has none; every node is reachable from the root (so there are no cycles).
//! 14. **The body's value fits.** The root's type is the return type, or `never`, or the
//!     return type is `void`.
//! 15. **Constants.** `const` has a `bool`, integer, `seqint` or pointer type and a value that
//!     is the normalised bits of that type (bool 0 or 1, integers zero- or sign-extended);
//!     `zero` has any type but `void` and `never`; `str` has type pointer to an 8-bit integer.
//! 16. **Places.** `local`'s type is the local's; `field` names a non-static field, its object
//!     is a place of the owner's module type or a descendant's, and the node has the field's
//!     type; `static` names a static field and has its type; `deref`'s operand points to the
//!     node's (non-void) type; `index` takes a place of array type and an integer, and has the
//!     element type; `addr` takes a place and is a pointer to its type.
//! 17. **Operators.** Binary operands have equal types, except `ptr_add` (pointer and integer,
//!     yielding the pointer type) and `ptr_diff` (two equal pointer types, yielding `i64`);
//!     comparisons yield `bool` and take integers, `seqint` or pointers (`eq`/`ne` also
//!     `bool`); arithmetic, shifts, `min` and `max` take integers or `seqint`, bitwise
//!     operators also `bool`, and yield the operand type. `not` maps `bool` to `bool`; `neg`
//!     and `bit_not` map an integer or `seqint` type to itself.
//! 18. **Conversions.** `int`: integer/`seqint` to integer/`seqint`; `to_bool`: integer,
//!     `seqint` or pointer to `bool`; `from_bool`: `bool` to an integer; `ptr`: pointer to
//!     pointer; `decay`: a place of type `T[n]` to `*T`; `to_void`: anything to `void`.
//! 19. **Assignments.** `assign` and `update` take a place and have its type; `assign`'s value
//!     has the place's type (or `never`); `update` applies an arithmetic, bitwise, `min` or `max` operator to
//!     a value of the place's type (as in 17), or `ptr_add` to a pointer place and an integer.
//! 20. **Calls.** The inline level, if any, is at most 3. A direct call of a method with a receiver
//!     passes first a pointer to an object of the owner's module or a descendant; the other
//!     arguments match the parameters in number and type (an argument of type `never` fits
//!     any parameter); the node has the return type. A
//!     virtual call passes first a pointer to an object of a module whose vtable has the
//!     selector or that descends from its origin, then arguments matching the selector's
//!     methods' parameters, and has their return type.
//! 21. **Control.** `seq` has its last element's type (or that element is `never`), or is
//!     empty and `void` (the no-op); `if`'s condition is
//!     `bool`, each branch has the node's type unless it is `never`, and an `if` without else
//!     is `void`; `raise` has type `never`; `catch` has type `bool` and handles distinct
//!     exceptions; `cold`'s level is at most 10 and it has its operand's type.
//! 22. **Loops.** `loop`'s variables are distinct locals and its body has the node's type or
//!     `never`; `recur` has type `never`, lies inside a `loop`, and passes as many arguments as
//!     the innermost enclosing loop has variables, with their types.
//! 23. **Host blocks.** `host` has type `bool`; substitution ranges lie within the text on
//!     character boundaries, in order, without overlap; `self` and `field` substitutions occur
//!     only in methods with a receiver, `field` names a non-static field of the method's owner
//!     or an ancestor, `static` a static field, and a constant fits its type (as in 15).
//!
//! `abort` nodes may have any type (they stand for a call).

use std::collections::HashMap;
use std::fmt;

use cranelift_entity::EntityRef;

use super::print::{BIN_OPS, CONVS, kind_name, name, operands};
use super::{
    BinOp, Body, Callee, Const, ConvKind, Expr, ExprId, ExprKind, Handles, HostRef, HostSubst,
    IntWidth, LocalId, Method, MethodId, MethodKind, ModuleId, Program, SelectorId, TypeId,
    TypeKind, UnOp,
};

/// A violated invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The invariant's number in the module documentation.
    pub invariant: u8,
    /// What is wrong, naming the module or method (and node) concerned.
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant {}: {}", self.invariant, self.message)
    }
}

impl std::error::Error for VerifyError {}

/// Checks every invariant listed in the module documentation.
pub fn verify(p: &Program) -> Result<(), Vec<VerifyError>> {
    let kinds = p.types.iter().map(|(_, k)| k).collect();
    let (sigs, errors) = (HashMap::new(), Vec::new());
    let mut c = Checker {
        p,
        kinds,
        sigs,
        errors,
    };
    c.types();
    c.modules();
    c.methods();
    match c.errors.is_empty() {
        true => Ok(()),
        false => Err(c.errors),
    }
}

/// In debug builds, panics with every violated invariant if `p` does not verify.
pub fn verify_in_debug(p: &Program) {
    #[cfg(debug_assertions)]
    if let Err(errors) = verify(p) {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("IR verification failed:\n{}", lines.join("\n"));
    }
    #[cfg(not(debug_assertions))]
    let _ = p;
}

/// Does constant `c` hold the normalised bits of a value of kind `k`?
fn fits(c: Const, k: TypeKind) -> bool {
    match k {
        TypeKind::Bool => c.0 <= 1,
        TypeKind::SeqInt => c.0 >> 32 == 0,
        TypeKind::Ptr(_) => true,
        TypeKind::Int { width, signed } => {
            let shift = 64 - width.bits();
            let wide = if signed {
                ((c.0 << shift) as i64 >> shift) as u64
            } else {
                c.0
            };
            wide == c.0 && (signed || shift == 0 || c.0 >> width.bits() == 0)
        }
        TypeKind::Void | TypeKind::Never | TypeKind::Module(_) | TypeKind::Array(..) => false,
    }
}

fn intlike(k: Option<TypeKind>) -> bool {
    matches!(k, Some(TypeKind::Int { .. } | TypeKind::SeqInt))
}

fn is_int(k: Option<TypeKind>) -> bool {
    matches!(k, Some(TypeKind::Int { .. }))
}

fn is_ptr(k: Option<TypeKind>) -> bool {
    matches!(k, Some(TypeKind::Ptr(_)))
}

fn is_comparison(op: BinOp) -> bool {
    use BinOp as B;
    matches!(op, B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge)
}

/// True if `op` applies to operands of kind `k` (false for the pointer operators).
fn applies(op: BinOp, k: Option<TypeKind>) -> bool {
    use BinOp as B;
    let bool = k == Some(TypeKind::Bool);
    match op {
        B::Eq | B::Ne => intlike(k) || is_ptr(k) || bool,
        B::Lt | B::Le | B::Gt | B::Ge => intlike(k) || is_ptr(k),
        B::BitAnd | B::BitOr | B::BitXor => intlike(k) || bool,
        B::PtrAdd | B::PtrDiff => false,
        _ => intlike(k),
    }
}

/// `i64`, the type of pointer differences.
const I64: TypeKind = TypeKind::Int {
    width: IntWidth::W64,
    signed: true,
};

/// Violations found at one node: invariant number and message.
type Found = Vec<(u8, String)>;

/// Records a violation of invariant `$n` in `$out` unless `$ok`.
macro_rules! rule {
    ($out:ident, $ok:expr, $n:expr, $($fmt:tt)+) => {
        if !$ok {
            $out.push(($n, format!($($fmt)+)));
        }
    };
}

struct Checker<'a> {
    p: &'a Program,
    kinds: Vec<TypeKind>,
    /// The first method of each selector (all must share its signature).
    sigs: HashMap<SelectorId, MethodId>,
    errors: Vec<VerifyError>,
}

/// The method whose body is being checked, and the body's parent links.
struct Ctx<'b> {
    m: &'b Method,
    b: &'b Body,
    parent: Vec<Option<ExprId>>,
}

impl Checker<'_> {
    fn err(&mut self, invariant: u8, who: &str, what: impl fmt::Display) {
        let message = format!("{who}: {what}");
        self.errors.push(VerifyError { invariant, message });
    }

    fn kind(&self, t: TypeId) -> Option<TypeKind> {
        self.kinds.get(t.index()).copied()
    }

    fn pointee(&self, t: TypeId) -> Option<TypeId> {
        match self.kind(t) {
            Some(TypeKind::Ptr(x)) => Some(x),
            _ => None,
        }
    }

    fn ptr_module(&self, t: TypeId) -> Option<ModuleId> {
        match self.pointee(t).and_then(|x| self.kind(x)) {
            Some(TypeKind::Module(m)) => Some(m),
            _ => None,
        }
    }

    /// Invariant 11: `m` may stand for `origin` (§6.5): as many parameters, each the same type
    /// or a pointer to an ancestor module of the original's; the same return type or a pointer
    /// to a descendant module of the original's.
    fn overrides_soundly(&self, m: &Method, origin: &Method) -> bool {
        let wider = |mine: TypeId, theirs: TypeId| {
            mine == theirs
                || matches!((self.ptr_module(mine), self.ptr_module(theirs)), (Some(a), Some(b)) if self.descends(b, a))
        };
        m.params.len() == origin.params.len()
            && m.params
                .iter()
                .zip(&origin.params)
                .all(|(&a, &b)| wider(a, b))
            && wider(origin.ret, m.ret)
    }

    /// True if `sub` is `sup` or descends from it (bounded, so parent cycles cannot hang it).
    fn descends(&self, sub: ModuleId, sup: ModuleId) -> bool {
        let mut m = Some(sub);
        for _ in 0..=self.p.modules.len() {
            match m {
                Some(id) if id == sup => return true,
                Some(id) => m = self.p.modules.get(id).and_then(|x| x.parent),
                None => return false,
            }
        }
        false
    }

    /// Checks the type of a field, parameter or local (invariants 1 and 8).
    fn value_type(&mut self, t: TypeId, who: &str) {
        match self.kind(t) {
            None => self.err(1, who, format_args!("type {t} does not exist")),
            Some(TypeKind::Void | TypeKind::Never) => self.err(8, who, "void or never"),
            Some(_) => {}
        }
    }

    fn types(&mut self) {
        for (id, k) in self.p.types.iter() {
            let who = &id.to_string();
            match k {
                TypeKind::Ptr(t) | TypeKind::Array(t, _) => match self.kind(t) {
                    None => self.err(1, who, format_args!("type {t} does not exist")),
                    Some(_) if t >= id => self.err(2, who, format_args!("refers to newer {t}")),
                    Some(TypeKind::Void | TypeKind::Never) if matches!(k, TypeKind::Array(..)) => {
                        self.err(2, who, "array of void or never");
                    }
                    Some(_) => {}
                },
                TypeKind::Module(m) if !self.p.modules.is_valid(m) => {
                    self.err(1, who, format_args!("module {m} does not exist"));
                }
                _ => {}
            }
        }
    }

    fn modules(&mut self) {
        let p = self.p;
        let mut listed = vec![0usize; p.fields.len()];
        for (id, m) in p.modules.iter() {
            let who = &format!("{id} {:?}", m.name);
            match m.parent {
                Some(q) if !p.modules.is_valid(q) => self.err(1, who, format_args!("no {q}")),
                Some(q) if self.descends(q, id) => self.err(3, who, "parent cycle"),
                _ => {}
            }
            for &f in &m.fields {
                match p.fields.get(f) {
                    None => self.err(1, who, format_args!("field {f} does not exist")),
                    Some(field) => {
                        listed[f.index()] += 1;
                        if field.owner != id {
                            self.err(4, who, format_args!("lists {f} of {}", field.owner));
                        }
                    }
                }
            }
            if m.vtable.windows(2).any(|w| w[0].0 >= w[1].0) {
                self.err(5, who, "vtable not strictly ascending by selector");
            }
            for &(sel, meth) in &m.vtable {
                let (Some(s), Some(me)) = (p.selectors.get(sel), p.methods.get(meth)) else {
                    self.err(1, who, format_args!("no vtable entry {sel}={meth}"));
                    continue;
                };
                if me.kind != MethodKind::Dynamic(sel) || !self.descends(id, me.owner) {
                    self.err(5, who, format_args!("{meth} is no {sel} method here"));
                }
                if !self.descends(id, s.origin) {
                    self.err(5, who, format_args!("{sel} is from below"));
                }
            }
            if let Some(parent) = m.parent.and_then(|q| p.modules.get(q)) {
                for (sel, _) in &parent.vtable {
                    if !m.vtable.iter().any(|(s, _)| s == sel) {
                        self.err(6, who, format_args!("vtable lacks its parent's {sel}"));
                    }
                }
            }
            match m.constructor.map(|c| (c, p.methods.get(c))) {
                Some((c, None)) => self.err(1, who, format_args!("no constructor {c}")),
                Some((c, Some(me))) if me.kind != MethodKind::Constructor || me.owner != id => {
                    self.err(7, who, format_args!("{c} is not a constructor of it"));
                }
                _ => {}
            }
        }
        for (f, field) in p.fields.iter() {
            let who = &format!("{f} {:?}", field.name);
            if !p.modules.is_valid(field.owner) {
                self.err(1, who, format_args!("no owner {}", field.owner));
            }
            let expected = usize::from(!field.is_static);
            if listed[f.index()] != expected {
                let n = listed[f.index()];
                self.err(4, who, format_args!("listed by {n} modules"));
            }
            self.value_type(field.ty, who);
        }
        for (x, e) in p.exceptions.iter() {
            if !p.modules.is_valid(e.owner) {
                let who = &format!("{x} {:?}", e.name);
                self.err(1, who, format_args!("no owner {}", e.owner));
            }
        }
        for (sel, s) in p.selectors.iter() {
            let who = &format!("{sel} {:?}", s.name);
            match p.modules.get(s.origin) {
                None => self.err(1, who, format_args!("no origin {}", s.origin)),
                Some(m) if !m.vtable.iter().any(|(x, _)| *x == sel) => {
                    self.err(6, who, "not in its origin's vtable");
                }
                Some(_) => {}
            }
        }
        for (i, &m) in p.exports.iter().enumerate() {
            if !p.methods.is_valid(m) {
                self.err(1, "exports", format_args!("{m} does not exist"));
            } else if p.exports[..i].contains(&m) {
                self.err(9, "exports", format_args!("{m} is exported twice"));
            }
        }
        for (name, m) in &p.aliases {
            if !p.modules.is_valid(*m) {
                self.err(
                    1,
                    "aliases",
                    format_args!("`{name}` names {m}, which does not exist"),
                );
            }
        }
    }

    fn methods(&mut self) {
        let p = self.p;
        // A selector's signature is its origin module's method's (else the first one's).
        for (id, m) in p.methods.iter() {
            if let MethodKind::Dynamic(sel) = m.kind {
                let at_origin = p.selectors.get(sel).is_some_and(|s| s.origin == m.owner);
                let slot = self.sigs.entry(sel).or_insert(id);
                if at_origin {
                    *slot = id;
                }
            }
        }
        for (id, m) in p.methods.iter() {
            let who = &format!("{id} {:?}", m.name);
            let owner_ok = p.modules.is_valid(m.owner);
            if !owner_ok {
                self.err(1, who, format_args!("no owner {}", m.owner));
            }
            for (i, &t) in m.params.iter().enumerate() {
                self.value_type(t, &format!("{who}: parameter {i}"));
            }
            if self.kind(m.ret).is_none() {
                self.err(1, who, format_args!("no return type {}", m.ret));
            }
            if let Some(x) = m.raises.iter().find(|&&x| !p.exceptions.is_valid(x)) {
                self.err(1, who, format_args!("raises missing {x}"));
            }
            if m.raises.windows(2).any(|w| w[0] >= w[1]) {
                self.err(10, who, "raises is not sorted and unique");
            }
            if m.inline > 3 {
                self.err(10, who, format_args!("inline level {} exceeds 3", m.inline));
            }
            if matches!(m.kind, MethodKind::Extern { .. }) && m.body.is_some() {
                self.err(10, who, "extern method with a body");
            }
            if let MethodKind::Dynamic(sel) = m.kind {
                match p.selectors.get(sel) {
                    None => self.err(1, who, format_args!("no selector {sel}")),
                    Some(s) if owner_ok && !self.descends(m.owner, s.origin) => {
                        self.err(11, who, format_args!("owner is below no origin of {sel}"));
                    }
                    Some(_) => {}
                }
                let first = self.sigs.get(&sel).map(|&f| (f, &p.methods[f]));
                if let Some((f, first)) = first
                    && !self.overrides_soundly(m, first)
                {
                    self.err(11, who, format_args!("signature differs from {f}'s"));
                }
            }
            if let Some(b) = &m.body {
                self.body(who, m, b);
            }
        }
    }

    fn body(&mut self, who: &str, m: &Method, b: &Body) {
        for (v, l) in b.locals.iter() {
            self.value_type(l.ty, &format!("{who}: local {v}"));
        }
        let first = usize::from(m.has_receiver());
        let self_ty = b.locals.values().next().and_then(|l| self.ptr_module(l.ty));
        if m.has_receiver() && self_ty != Some(m.owner) {
            self.err(12, who, format_args!("v0 is not a pointer to {}", m.owner));
        }
        for (i, &t) in m.params.iter().enumerate() {
            let v = LocalId::new(first + i);
            if b.locals.get(v).map(|l| l.ty) != Some(t) {
                self.err(12, who, format_args!("parameter {i} is not {v}: {t}"));
            }
        }
        let Some(root) = b.root else {
            return self.err(13, who, "body has no root");
        };
        let before = self.errors.len();
        let mut parent: Vec<Option<ExprId>> = vec![None; b.exprs.len()];
        for (e, x) in b.exprs.iter() {
            for k in operands(&x.kind) {
                match parent.get_mut(k.index()) {
                    None => self.err(1, who, format_args!("{e} has missing operand {k}")),
                    Some(Some(q)) => self.err(13, who, format_args!("{k} has parents {q}, {e}")),
                    Some(slot) => *slot = Some(e),
                }
            }
        }
        match parent.get(root.index()) {
            None => self.err(1, who, format_args!("root {root} does not exist")),
            Some(Some(q)) => self.err(13, who, format_args!("root {root} has parent {q}")),
            Some(None) => {}
        }
        let (mut seen, mut stack) = (vec![false; b.exprs.len()], vec![root]);
        while let Some(e) = stack.pop() {
            let (Some(x), Some(visited)) = (b.exprs.get(e), seen.get_mut(e.index())) else {
                continue;
            };
            if !std::mem::replace(visited, true) {
                let mine = |k: &ExprId| parent.get(k.index()) == Some(&Some(e));
                stack.extend(operands(&x.kind).into_iter().filter(mine));
            }
        }
        let lost = b.exprs.keys().filter(|e| !seen[e.index()]);
        let lost: Vec<String> = lost.map(|e| e.to_string()).collect();
        if !lost.is_empty() {
            self.err(13, who, format_args!("unreachable: {}", lost.join(" ")));
        }
        if self.errors.len() > before {
            return; // typing a broken tree would only add noise
        }
        let cx = Ctx { m, b, parent };
        for (e, x) in b.exprs.iter() {
            for (n, what) in self.node(&cx, e, x) {
                self.err(n, &format!("{who}: {e} ({})", kind_name(&x.kind)), what);
            }
        }
        let ty = b.exprs.get(root).map_or(m.ret, |x| x.ty);
        let (never, void) = (Some(TypeKind::Never), Some(TypeKind::Void));
        if ty != m.ret && self.kind(ty) != never && self.kind(m.ret) != void {
            self.err(14, who, format_args!("root {root}: {ty} is not {}", m.ret));
        }
    }

    /// The violations at one node (of invariants 1 and 15–23).
    fn node(&self, cx: &Ctx<'_>, e: ExprId, x: &Expr) -> Found {
        use ExprKind as K;
        use IntWidth::W8;
        use TypeKind as T;
        let (p, b, t, mut out) = (self.p, cx.b, x.ty, Vec::new());
        let Some(tk) = self.kind(t) else {
            return vec![(1, format!("type {t} does not exist"))];
        };
        let ty = |k: ExprId| b.exprs.get(k).map_or(t, |y| y.ty);
        let kd = |k: ExprId| self.kind(ty(k));
        let place = |k: ExprId| b.exprs.get(k).is_some_and(|y| y.kind.is_place());
        match &x.kind {
            K::Const(c) => rule!(out, fits(*c, tk), 15, "constant {} does not fit {t}", c.0),
            K::Str(_) => {
                let char_ = self.pointee(t).and_then(|c| self.kind(c));
                let ok = matches!(char_, Some(T::Int { width: W8, .. }));
                rule!(out, ok, 15, "type {t} is not a pointer to char");
            }
            K::Zero => {
                let ok = !matches!(tk, T::Void | T::Never);
                rule!(out, ok, 15, "zero of void or never");
            }
            K::Local(v) => match b.locals.get(*v) {
                None => rule!(out, false, 1, "local {v} does not exist"),
                Some(l) => rule!(out, l.ty == t, 16, "type {t} is not {v}'s {}", l.ty),
            },
            K::Field { object, field: f } => match p.fields.get(*f) {
                None => rule!(out, false, 1, "field {f} does not exist"),
                Some(fd) => {
                    let mine = |m| self.descends(m, fd.owner);
                    let obj = matches!(kd(*object), Some(T::Module(m)) if mine(m));
                    rule!(out, !fd.is_static, 16, "{f} is static");
                    let (ok, o) = (place(*object) && obj, fd.owner);
                    rule!(out, ok, 16, "{object} is no {o} place");
                    rule!(out, fd.ty == t, 16, "type {t} is not {f}'s {}", fd.ty);
                }
            },
            K::Static(f) => match p.fields.get(*f) {
                None => rule!(out, false, 1, "field {f} does not exist"),
                Some(fd) => rule!(out, fd.is_static && fd.ty == t, 16, "{f} is no static {t}"),
            },
            K::Deref(q) => {
                let ok = self.pointee(ty(*q)) == Some(t) && tk != T::Void;
                rule!(out, ok, 16, "{q} is no pointer to non-void {t}");
            }
            K::Index { array, index } => {
                let ok = matches!(kd(*array), Some(T::Array(el, _)) if el == t);
                rule!(out, ok && place(*array), 16, "{array} is no place of {t}[]");
                rule!(out, is_int(kd(*index)), 16, "index {index} is no integer");
            }
            K::AddrOf(q) => {
                let ok = place(*q) && self.pointee(t) == Some(ty(*q));
                rule!(out, ok, 16, "{q} is no place of the type {t} points to");
            }
            K::Binary(op, l, r) => {
                let (lt, rt, name) = (ty(*l), ty(*r), name(&BIN_OPS, *op));
                let ok = match op {
                    BinOp::PtrAdd => is_ptr(kd(*l)) && is_int(kd(*r)) && t == lt,
                    BinOp::PtrDiff => is_ptr(kd(*l)) && lt == rt && tk == I64,
                    _ if is_comparison(*op) => lt == rt && applies(*op, kd(*l)) && tk == T::Bool,
                    _ => lt == rt && applies(*op, kd(*l)) && t == lt,
                };
                rule!(out, ok, 17, "{name} does not take {lt}, {rt} to {t}");
            }
            K::Unary(op, a) => {
                let ok = match op {
                    UnOp::Not => tk == T::Bool && kd(*a) == Some(T::Bool),
                    UnOp::Neg | UnOp::BitNot => t == ty(*a) && intlike(kd(*a)),
                };
                rule!(out, ok, 17, "{op:?} does not take {} to {t}", ty(*a));
            }
            K::Convert(conv, a) => {
                let from = kd(*a);
                let ok = match conv {
                    ConvKind::Int => intlike(from) && intlike(Some(tk)),
                    ConvKind::ToBool => (intlike(from) || is_ptr(from)) && tk == T::Bool,
                    ConvKind::FromBool => from == Some(T::Bool) && is_int(Some(tk)),
                    ConvKind::Ptr => is_ptr(from) && is_ptr(Some(tk)),
                    ConvKind::Decay => match from {
                        Some(T::Array(el, _)) => place(*a) && self.pointee(t) == Some(el),
                        _ => false,
                    },
                    ConvKind::ToVoid => tk == T::Void,
                };
                let conv = name(&CONVS, *conv);
                rule!(out, ok, 18, "no {conv} conversion from {} to {t}", ty(*a));
            }
            K::Assign { place: q, value } => {
                let value_fits = ty(*value) == ty(*q) || matches!(kd(*value), Some(T::Never));
                let ok = place(*q) && value_fits && t == ty(*q);
                rule!(out, ok, 19, "{q}, {value} and node differ in type");
            }
            K::Update {
                place: q,
                op,
                value,
                ..
            } => {
                let ok = match op {
                    BinOp::PtrAdd => is_ptr(kd(*q)) && is_int(kd(*value)),
                    _ => ty(*value) == ty(*q) && !is_comparison(*op) && applies(*op, kd(*q)),
                };
                let (op, vt) = (name(&BIN_OPS, *op), ty(*value));
                rule!(out, ok, 19, "{op} cannot update {q} with {vt}");
                let ok = place(*q) && t == ty(*q);
                rule!(out, ok, 19, "{q} is no place of type {t}");
            }
            K::Call { .. } => self.call(x, &ty, &mut out),
            K::Seq(items) => {
                let ok = match items.last() {
                    Some(&l) => ty(l) == t || matches!(kd(l), Some(T::Never)),
                    None => matches!(self.kind(t), Some(T::Void)),
                };
                rule!(
                    out,
                    ok,
                    21,
                    "{t} is not the last element's (an empty seq is void)"
                );
            }
            K::If { cond: c, .. } => {
                let branches = operands(&x.kind).split_off(1);
                rule!(
                    out,
                    kd(*c) == Some(T::Bool),
                    21,
                    "condition {c} is not bool"
                );
                let ok = branches.len() == 2 || tk == T::Void;
                rule!(out, ok, 21, "an if without else is void");
                for br in branches {
                    let ok = ty(br) == t || kd(br) == Some(T::Never);
                    rule!(out, ok, 21, "branch {br} is not of type {t}");
                }
            }
            K::Loop { vars, body } => {
                for (i, v) in vars.iter().enumerate() {
                    rule!(out, b.locals.is_valid(*v), 1, "local {v} does not exist");
                    rule!(out, !vars[..i].contains(v), 22, "variable {v} repeated");
                }
                let ok = ty(*body) == t || kd(*body) == Some(T::Never);
                rule!(out, ok, 22, "body {body} is not of type {t}");
            }
            K::Recur(args) => {
                rule!(out, tk == T::Never, 22, "recur is not never");
                let Some(vars) = enclosing_loop(cx, e) else {
                    out.push((22, "recur outside any loop".into()));
                    return out;
                };
                let local = |v: &LocalId| b.locals.get(*v).map(|l| l.ty);
                let want: Vec<_> = vars.iter().map(local).collect();
                let have: Vec<_> = args.iter().map(|&a| Some(ty(a))).collect();
                rule!(out, want == have, 22, "arguments do not fit {want:?}");
            }
            K::Raise(xid) => {
                rule!(out, p.exceptions.is_valid(*xid), 1, "no exception {xid}");
                rule!(out, tk == T::Never, 21, "raise is not never");
            }
            K::Catch { handles, .. } => {
                rule!(out, tk == T::Bool, 21, "catch is not bool");
                if let Handles::Only(xs) = handles {
                    for (i, xid) in xs.iter().enumerate() {
                        rule!(out, p.exceptions.is_valid(*xid), 1, "no exception {xid}");
                        rule!(out, !xs[..i].contains(xid), 21, "{xid} handled twice");
                    }
                }
            }
            K::Host { text, subst } => {
                rule!(out, tk == T::Bool, 23, "host is not bool");
                self.host(cx, text, subst, &mut out);
            }
            K::Abort(_) => {}
            K::Cold { level, expr } => {
                rule!(out, *level <= 10, 21, "cold level {level} exceeds 10");
                rule!(out, ty(*expr) == t, 21, "type {t} is not its operand's");
            }
        }
        out
    }

    /// Invariant 20 at a call.
    fn call(&self, x: &Expr, ty: &dyn Fn(ExprId) -> TypeId, out: &mut Found) {
        let ExprKind::Call {
            callee,
            args,
            inline,
        } = &x.kind
        else {
            return;
        };
        let ok = inline.is_none_or(|i| i <= 3);
        rule!(out, ok, 20, "inline level {inline:?} exceeds 3");
        let (p, t, callee) = (self.p, x.ty, *callee);
        let target = match callee {
            Callee::Direct(f) => Some(f),
            Callee::Virtual(s) => self.sigs.get(&s).copied(),
        };
        let Some((f, target)) = target.and_then(|f| p.methods.get(f).map(|m| (f, m))) else {
            return out.push((1, format!("{callee:?} does not exist or has no method")));
        };
        let receiver = args.first().and_then(|&a| self.ptr_module(ty(a)));
        let ok = match callee {
            Callee::Direct(_) if !target.has_receiver() => true,
            Callee::Direct(_) => receiver.is_some_and(|r| self.descends(r, target.owner)),
            Callee::Virtual(s) => {
                let origin = p.selectors.get(s).map(|s| s.origin);
                let has = |r| p.modules.is_valid(r) && p.actual(r, s).is_some();
                receiver.is_some_and(|r| has(r) || origin.is_some_and(|o| self.descends(r, o)))
            }
        };
        rule!(out, ok, 20, "the first argument is no suitable receiver");
        let skip = usize::from(matches!(callee, Callee::Virtual(_)) || target.has_receiver());
        let types: Vec<TypeId> = args.iter().skip(skip).map(|&a| ty(a)).collect();
        // An argument that raises (type `never`) fits any parameter.
        let fits = types.len() == target.params.len()
            && types
                .iter()
                .zip(&target.params)
                .all(|(&a, &b)| a == b || matches!(self.kind(a), Some(TypeKind::Never)));
        rule!(out, fits, 20, "arguments {types:?} do not fit {f}");
        let ret = target.ret;
        rule!(out, t == ret, 20, "type {t} is not {f}'s return type {ret}");
    }

    /// Invariant 23 (but the type) at a host block.
    fn host(&self, cx: &Ctx<'_>, text: &str, subst: &[HostSubst], out: &mut Found) {
        let (p, m, mut end) = (self.p, cx.m, 0);
        for s in subst {
            let (lo, hi) = (s.range.start as usize, s.range.end as usize);
            let inside = lo <= hi && text.is_char_boundary(lo) && text.is_char_boundary(hi);
            rule!(
                out,
                inside,
                23,
                "{lo}..{hi} is not on char boundaries of the text"
            );
            rule!(
                out,
                lo >= end,
                23,
                "{lo}..{hi} overlaps or precedes the previous"
            );
            end = end.max(hi);
            let recv = m.has_receiver();
            match s.target {
                HostRef::SelfObject => rule!(out, recv, 23, "self without a receiver"),
                HostRef::Field(f) | HostRef::Static(f) => match p.fields.get(f) {
                    None => rule!(out, false, 1, "field {f} does not exist"),
                    Some(fd) => {
                        let ok = match s.target {
                            HostRef::Static(_) => fd.is_static,
                            _ => recv && !fd.is_static && self.descends(m.owner, fd.owner),
                        };
                        rule!(out, ok, 23, "{f} cannot be substituted as {:?}", s.target);
                    }
                },
                HostRef::Local(v) => rule!(out, cx.b.locals.is_valid(v), 1, "no local {v}"),
                HostRef::Const(c, ct) => match self.kind(ct) {
                    None => rule!(out, false, 1, "type {ct} does not exist"),
                    Some(k) => rule!(out, fits(c, k), 23, "constant {} does not fit {ct}", c.0),
                },
            }
        }
    }
}

/// The variables of the innermost loop around node `e`.
fn enclosing_loop<'b>(cx: &Ctx<'b>, e: ExprId) -> Option<&'b Vec<LocalId>> {
    let mut up = cx.parent.get(e.index()).copied().flatten();
    for _ in 0..cx.b.exprs.len() {
        if let Some(ExprKind::Loop { vars, .. }) = cx.b.exprs.get(up?).map(|y| &y.kind) {
            return Some(vars);
        }
        up = up.and_then(|u| cx.parent.get(u.index()).copied().flatten());
    }
    None
}

#[cfg(test)]
mod tests;
