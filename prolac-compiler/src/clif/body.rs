//! Function bodies: the structured expression IR to Cranelift blocks (see [`super`] for the
//! ABI).
//!
//! Each node lowers to a value ([`V`]) in the current block, or to `None` when control never
//! comes back (a raise, a loop restart, an abort): the current block is then terminated and
//! nothing more is emitted into it. Scalar locals are Cranelift variables (SSA construction is
//! Cranelift's), unless their address is taken; module values and arrays live in stack slots
//! and travel as addresses. Evaluation order is the Rust back end's: operands and arguments
//! left to right, an assignment's place before its value, a compound assignment's place once
//! (its old value read before the operand runs).
//!
//! Control: `if` is a branch and a merge block with the value as parameter; `catch` is a done
//! block taking "a handled exception escaped" as parameter, which raises and the status
//! checks after calls jump to; a self tail loop is a header block that restarts assign the
//! loop variables and jump back to.

use cranelift_entity::{EntityRef, SecondaryMap};
use tcc_backend::{Block, FnBuilder, InstBuilder, IntCC, Jit, Value, Variable, types};

use super::{FnSig, LoadError, Lower, Repr};
use crate::ir::{
    BinOp, Body, Callee, ConvKind, ExceptionId, ExprId, ExprKind, Handles, LocalId, MethodId,
    MethodKind, TypeId, TypeKind, UnOp, Yields,
};

/// A lowered value.
#[derive(Clone, Copy, Debug)]
enum V {
    /// No value (`void`).
    Unit,
    /// A scalar.
    S(Value),
    /// The address of a module value or array.
    M(Value),
}

impl V {
    /// The machine value to pass or merge (`None` for `void`).
    fn raw(self) -> Option<Value> {
        match self {
            V::Unit => None,
            V::S(v) | V::M(v) => Some(v),
        }
    }
}

/// Where a local lives.
#[derive(Clone, Copy, Debug, Default)]
enum Slot {
    /// Nothing (a `void` local).
    #[default]
    None,
    /// A Cranelift variable.
    Var(Variable),
    /// Memory at this address (defined in the entry block).
    Mem(Value),
}

/// A place.
#[derive(Clone, Copy, Debug)]
enum Place {
    Var(Variable),
    Mem(Value),
    None,
}

struct CatchFrame {
    handles: Handles,
    done: Block,
    used: bool,
}

struct LoopFrame {
    header: Block,
    vars: Vec<LocalId>,
}

/// Where an exception goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Catch(usize),
    Return,
}

struct Fx<'l, 'a, 'f> {
    l: &'l Lower<'a>,
    fb: &'l mut FnBuilder<'f>,
    body: &'a Body,
    locals: SecondaryMap<LocalId, Slot>,
    catches: Vec<CatchFrame>,
    loops: Vec<LoopFrame>,
    sret: Option<Value>,
    /// The method's machine signature.
    sig: FnSig,
}

/// A lowered result: `None` if control does not come back.
type R<T> = Option<T>;

impl Lower<'_> {
    /// Defines the function of method `m`.
    pub(super) fn function(&mut self, jit: &mut Jit, m: MethodId) -> Result<(), LoadError> {
        let Some(f) = self.funcs[m] else {
            return Ok(());
        };
        self.prepare(jit, m)?;
        let method = &self.ir.methods[m];
        let sig = self.fn_sig(m);
        let name = self.method_name(m);
        let this = &*self;
        jit.define(f, |fb| {
            let params = fb.params().to_vec();
            let mut it = params.into_iter();
            let sret = if sig.sret { it.next() } else { None };
            let Some(body) = &method.body else {
                this.abort_with(fb, &no_body(&name));
                return;
            };
            let mut fx = Fx {
                l: this,
                fb,
                body,
                locals: SecondaryMap::new(),
                catches: Vec::new(),
                loops: Vec::new(),
                sret,
                sig: sig.clone(),
            };
            fx.prologue(&mut it, sig.receiver, sig.params.len());
            let value = match body.root {
                Some(root) => fx.expr(root),
                None => Some(V::Unit),
            };
            if let Some(v) = value {
                let zero = fx.fb.iconst(types::I32, 0);
                fx.ret(v, Some(zero));
            }
        })?;
        Ok(())
    }

    /// Makes the data a body needs before it is built: string literals, abort messages, and
    /// the zero images of module values it creates.
    fn prepare(&mut self, jit: &mut Jit, m: MethodId) -> Result<(), LoadError> {
        let ir = self.ir;
        let method = &ir.methods[m];
        let Some(body) = &method.body else {
            return self
                .string(jit, no_body(&self.method_name(m)).as_bytes())
                .map(|_| ());
        };
        for (_, local) in body.locals.iter() {
            if matches!(self.repr(local.ty), Repr::Mem(..)) {
                self.template(jit, local.ty)?;
            }
        }
        for (_, e) in body.exprs.iter() {
            match &e.kind {
                ExprKind::Str(bytes) => {
                    self.string(jit, bytes)?;
                }
                ExprKind::Abort(name) => {
                    self.string(jit, no_body(name).as_bytes())?;
                }
                ExprKind::Zero if matches!(self.repr(e.ty), Repr::Mem(..)) => {
                    self.template(jit, e.ty)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The abort message of a method without body.
fn no_body(name: &str) -> String {
    format!("`{name}` has no body")
}

impl Fx<'_, '_, '_> {
    fn ty(&self, e: ExprId) -> TypeId {
        self.body.exprs[e].ty
    }

    fn kind(&self, t: TypeId) -> TypeKind {
        self.l.ir.types.kind(t)
    }

    /// Binds parameters and initialises every other local to its zero value.
    fn prologue(
        &mut self,
        params: &mut impl Iterator<Item = Value>,
        receiver: bool,
        n_params: usize,
    ) {
        let mut addressed = vec![false; self.body.locals.len()];
        for (_, e) in self.body.exprs.iter() {
            if let ExprKind::AddrOf(p) = e.kind
                && let ExprKind::Local(l) = self.body.exprs[p].kind
                && let Some(a) = addressed.get_mut(l.index())
            {
                *a = true;
            }
        }
        let n_in = usize::from(receiver) + n_params;
        for (i, (l, local)) in self.body.locals.iter().enumerate() {
            let repr = self.l.repr(local.ty);
            let incoming = if i < n_in { params.next() } else { None };
            let slot = match repr {
                Repr::Void => Slot::None,
                Repr::Scalar(t) => {
                    let v = match incoming {
                        Some(v) => v,
                        None => self.fb.iconst(t, 0),
                    };
                    if addressed[i] {
                        let size = t.bytes();
                        let a = self.fb.stack_slot(size, size);
                        self.fb.store(v, a, 0);
                        Slot::Mem(a)
                    } else {
                        let var = self.fb.var(t);
                        self.fb.set(var, v);
                        Slot::Var(var)
                    }
                }
                Repr::Mem(..) => match incoming {
                    // The caller made a copy for us.
                    Some(a) => Slot::Mem(a),
                    None => {
                        let a = self.temp(local.ty);
                        self.zero_into(a, local.ty);
                        Slot::Mem(a)
                    }
                },
            };
            self.locals[l] = slot;
        }
    }

    /// A stack slot for a value of type `t`.
    fn temp(&mut self, t: TypeId) -> Value {
        let (size, align) = self.l.size_align(t);
        self.fb.stack_slot(
            u32::try_from(size).unwrap_or(u32::MAX),
            u32::try_from(align).unwrap_or(8),
        )
    }

    /// Writes the zero value of `t` (dispatch tables installed) at `a`.
    fn zero_into(&mut self, a: Value, t: TypeId) {
        let (size, align) = self.l.size_align(t);
        match self.l.templates.get(&t).copied().flatten() {
            Some(d) => {
                let src = self.fb.data_addr(d);
                self.fb.copy(a, src, size, align.min(8) as u8);
            }
            None => self.fb.zero(a, size, align.min(8) as u8),
        }
    }

    /// Returns `v` (and the status, for a method that can raise).
    fn ret(&mut self, v: V, status: Option<Value>) {
        let mut out = Vec::new();
        match (self.sig.ret, v) {
            (Repr::Mem(size, align), V::M(src)) => {
                if let Some(dst) = self.sret {
                    self.fb.copy(dst, src, size, align.min(8) as u8);
                }
            }
            (Repr::Scalar(_), V::S(x)) => out.push(x),
            (Repr::Scalar(t), _) => out.push(self.fb.iconst(t, 0)),
            _ => {}
        }
        if self.sig.status {
            let s = status.unwrap_or_else(|| self.fb.iconst(types::I32, 0));
            out.push(s);
        }
        self.fb.ret(&out);
    }

    /// Lowers a node; `None` if control does not come back.
    fn expr(&mut self, e: ExprId) -> R<V> {
        crate::deep(|| self.expr_now(e))
    }

    /// Lowers a node that must yield a scalar.
    fn scalar(&mut self, e: ExprId) -> R<Value> {
        match self.expr(e) {
            None => None,
            Some(V::S(v)) => Some(v),
            Some(V::M(v)) => Some(v),
            Some(V::Unit) => Some(self.fb.iconst(types::I8, 0)),
        }
    }

    fn expr_now(&mut self, e: ExprId) -> R<V> {
        let ty = self.ty(e);
        let kind = self.body.exprs[e].kind.clone();
        match kind {
            ExprKind::Const(c) => Some(match self.l.repr(ty) {
                Repr::Scalar(t) => V::S(self.fb.iconst(t, c.0 as i64)),
                _ => V::Unit,
            }),
            ExprKind::Str(bytes) => {
                let d = self.l.strings.get(&bytes).copied()?;
                Some(V::S(self.fb.data_addr(d)))
            }
            ExprKind::Zero => Some(match self.l.repr(ty) {
                Repr::Scalar(t) => V::S(self.fb.iconst(t, 0)),
                Repr::Mem(..) => {
                    let a = self.temp(ty);
                    self.zero_into(a, ty);
                    V::M(a)
                }
                Repr::Void => V::Unit,
            }),
            ExprKind::Local(_)
            | ExprKind::Field { .. }
            | ExprKind::Static(_)
            | ExprKind::Deref(_)
            | ExprKind::Index { .. } => {
                let p = self.place(e)?;
                Some(self.read(p, ty))
            }
            ExprKind::AddrOf(p) => {
                let place = self.place(p)?;
                Some(V::S(self.address(place, self.ty(p))))
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.scalar(a)?;
                let y = self.scalar(b)?;
                let v = self.binary(op, self.ty(a), self.ty(b), x, y);
                Some(V::S(v))
            }
            ExprKind::Unary(op, a) => {
                let x = self.scalar(a)?;
                let is_bool = self.kind(self.ty(a)) == TypeKind::Bool;
                let v = match op {
                    UnOp::Neg => self.fb.ins().ineg(x),
                    UnOp::BitNot if !is_bool => self.fb.ins().bnot(x),
                    UnOp::BitNot | UnOp::Not => self.fb.ins().bxor_imm_s(x, 1),
                };
                Some(V::S(v))
            }
            ExprKind::Convert(kind, x) => self.convert(kind, x, ty),
            ExprKind::Assign { place, value } => {
                let p = self.place(place)?;
                let v = self.expr(value)?;
                let pty = self.ty(place);
                self.write(p, pty, v);
                Some(match v {
                    V::M(_) => self.read(p, pty),
                    other => other,
                })
            }
            ExprKind::Update {
                place,
                op,
                value,
                yields,
            } => {
                let pty = self.ty(place);
                let p = self.place(place)?;
                let old = match self.read(p, pty) {
                    V::S(v) => v,
                    _ => return Some(V::Unit),
                };
                let v = self.scalar(value)?;
                let new = self.binary(op, pty, self.ty(value), old, v);
                self.write(p, pty, V::S(new));
                Some(V::S(match yields {
                    Yields::New => new,
                    Yields::Old => old,
                }))
            }
            ExprKind::Call { callee, args, .. } => self.call(callee, &args, ty),
            ExprKind::Seq(items) => {
                let mut last = V::Unit;
                for i in items {
                    match self.expr(i) {
                        Some(v) => last = v,
                        None => return None,
                    }
                }
                Some(last)
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => self.branch(e, cond, then, otherwise),
            ExprKind::Loop { body, vars } => {
                let header = self.fb.block();
                self.fb.jump(header, &[]);
                self.fb.switch_to(header);
                self.loops.push(LoopFrame { header, vars });
                let v = self.expr(body);
                self.loops.pop();
                v
            }
            ExprKind::Recur(args) => {
                let mut values = Vec::with_capacity(args.len());
                for &a in &args {
                    let v = self.expr(a)?;
                    // Module values are copied before any variable changes (parallel
                    // assignment).
                    let v = match v {
                        V::M(src) => {
                            let t = self.ty(a);
                            let copy = self.temp(t);
                            let (size, align) = self.l.size_align(t);
                            self.fb.copy(copy, src, size, align.min(8) as u8);
                            V::M(copy)
                        }
                        other => other,
                    };
                    values.push(v);
                }
                let Some(frame) = self.loops.last() else {
                    self.l.abort_with(self.fb, super::GENERIC_ABORT);
                    return None;
                };
                let header = frame.header;
                let vars = frame.vars.clone();
                for (var, v) in vars.into_iter().zip(values) {
                    let t = self.body.locals[var].ty;
                    let p = self.local_place(var);
                    self.write(p, t, v);
                }
                self.fb.jump(header, &[]);
                None
            }
            ExprKind::Raise(x) => {
                self.raise_to(self.target(x), x);
                None
            }
            ExprKind::Catch { body, handles } => {
                let (done, flag) = self.fb.block_with(&[types::I8]);
                self.catches.push(CatchFrame {
                    handles,
                    done,
                    used: false,
                });
                let v = self.expr(body);
                let frame = self.catches.pop();
                let used = frame.is_some_and(|f| f.used);
                match (v.is_some(), used) {
                    (true, false) => Some(V::S(self.fb.iconst(types::I8, 0))),
                    (false, false) => None,
                    (completes, true) => {
                        if completes {
                            let f = self.fb.iconst(types::I8, 0);
                            self.fb.jump(done, &[f]);
                        }
                        self.fb.switch_to(done);
                        Some(V::S(flag[0]))
                    }
                }
            }
            ExprKind::Host { .. } => {
                // Rejected before lowering (P1105).
                Some(V::S(self.fb.iconst(types::I8, 1)))
            }
            ExprKind::Abort(name) => {
                self.l.abort_with(self.fb, &no_body(&name));
                None
            }
            ExprKind::Cold { expr, .. } => self.expr(expr),
        }
    }

    /// `if`: a branch and a merge block.
    fn branch(&mut self, e: ExprId, cond: ExprId, then: ExprId, otherwise: Option<ExprId>) -> R<V> {
        let c = self.scalar(cond)?;
        let ty = self.ty(e);
        let repr = match otherwise {
            Some(_) => self.l.repr(ty),
            None => Repr::Void,
        };
        let merge_types: Vec<tcc_backend::Type> = match repr {
            Repr::Scalar(t) => vec![t],
            Repr::Mem(..) => vec![self.l.ptr],
            Repr::Void => Vec::new(),
        };
        let t_block = self.fb.block();
        let f_block = self.fb.block();
        let (merge, merged) = self.fb.block_with(&merge_types);
        self.fb.brif(c, t_block, &[], f_block, &[]);
        let mut reached = false;
        for (block, arm) in [(t_block, Some(then)), (f_block, otherwise)] {
            self.fb.switch_to(block);
            if let Some(arm) = arm
                && let ExprKind::Cold { level, .. } = self.body.exprs[arm].kind
                && level > 0
            {
                self.fb.cold(block);
            }
            let v = match arm {
                Some(a) => self.expr(a),
                None => Some(V::Unit),
            };
            if let Some(v) = v {
                let args: Vec<Value> = match (repr, v.raw()) {
                    (Repr::Void, _) => Vec::new(),
                    (_, Some(x)) => vec![x],
                    (Repr::Scalar(t), None) => vec![self.fb.iconst(t, 0)],
                    (_, None) => vec![self.fb.iconst(self.l.ptr, 0)],
                };
                self.fb.jump(merge, &args);
                reached = true;
            }
        }
        // Both arms diverged: nothing follows.
        if !reached {
            return None;
        }
        self.fb.switch_to(merge);
        Some(match repr {
            Repr::Void => V::Unit,
            Repr::Scalar(_) => V::S(merged[0]),
            Repr::Mem(..) => V::M(merged[0]),
        })
    }

    fn local_place(&self, l: LocalId) -> Place {
        match self.locals[l] {
            Slot::Var(v) => Place::Var(v),
            Slot::Mem(a) => Place::Mem(a),
            Slot::None => Place::None,
        }
    }

    /// Lowers a place.
    fn place(&mut self, e: ExprId) -> R<Place> {
        let kind = self.body.exprs[e].kind.clone();
        match kind {
            ExprKind::Local(l) => Some(self.local_place(l)),
            ExprKind::Static(f) => match self.l.statics[f] {
                Some(d) => Some(Place::Mem(self.fb.data_addr(d))),
                None => Some(Place::None),
            },
            ExprKind::Deref(p) => self.scalar(p).map(Place::Mem),
            ExprKind::Field { object, field } => {
                let obj = self.place(object)?;
                let base = self.address(obj, self.ty(object));
                let offset = match self.kind(self.ty(object)) {
                    TypeKind::Module(m) => self.l.layouts.field_offset(m, field).unwrap_or(0),
                    _ => 0,
                };
                Some(Place::Mem(self.offset(base, offset)))
            }
            ExprKind::Index { array, index } => {
                let arr = self.place(array)?;
                let base = self.address(arr, self.ty(array));
                let i = self.scalar(index)?;
                let (elem_size, _) = self.l.size_align(self.ty(e));
                let i = self.index_value(i, self.ty(index));
                let scaled = if elem_size == 1 {
                    i
                } else {
                    self.fb.ins().imul_imm_s(i, elem_size as i64)
                };
                Some(Place::Mem(self.fb.ins().iadd(base, scaled)))
            }
            _ => {
                let ty = self.ty(e);
                let v = self.expr(e)?;
                Some(match v {
                    V::M(a) => Place::Mem(a),
                    V::S(x) => {
                        let a = self.temp(ty);
                        self.fb.store(x, a, 0);
                        Place::Mem(a)
                    }
                    V::Unit => Place::None,
                })
            }
        }
    }

    /// `base + offset`.
    fn offset(&mut self, base: Value, offset: u64) -> Value {
        if offset == 0 {
            base
        } else {
            self.fb.ins().iadd_imm_s(base, offset as i64)
        }
    }

    /// The address of a place (a variable place is moved to memory: that cannot happen for
    /// locals whose address the body takes, which live in memory from the start).
    fn address(&mut self, p: Place, ty: TypeId) -> Value {
        match p {
            Place::Mem(a) => a,
            Place::Var(v) => {
                let x = self.fb.get(v);
                let a = self.temp(ty);
                self.fb.store(x, a, 0);
                a
            }
            Place::None => self.fb.iconst(self.l.ptr, 0),
        }
    }

    /// Reads a place as a value of type `ty`.
    fn read(&mut self, p: Place, ty: TypeId) -> V {
        match (p, self.l.repr(ty)) {
            (_, Repr::Void) | (Place::None, _) => V::Unit,
            (Place::Var(v), _) => V::S(self.fb.get(v)),
            (Place::Mem(a), Repr::Scalar(t)) => V::S(self.fb.load(t, a, 0)),
            (Place::Mem(a), Repr::Mem(..)) => V::M(a),
        }
    }

    /// Writes `v` to a place of type `ty`.
    fn write(&mut self, p: Place, ty: TypeId, v: V) {
        match (p, v, self.l.repr(ty)) {
            (Place::Var(var), V::S(x), _) => self.fb.set(var, x),
            (Place::Mem(a), V::S(x), Repr::Scalar(_)) => self.fb.store(x, a, 0),
            (Place::Mem(a), V::M(src), Repr::Mem(size, align)) => {
                self.fb.copy(a, src, size, align.min(8) as u8)
            }
            _ => {}
        }
    }

    /// An integer index widened to the pointer width by its signedness.
    fn index_value(&mut self, i: Value, t: TypeId) -> Value {
        let bits = self.fb.value_type(i).bits();
        let ptr = self.l.ptr;
        if bits >= ptr.bits() {
            return i;
        }
        let signed = matches!(self.kind(t), TypeKind::Int { signed: true, .. });
        if signed {
            self.fb.ins().sextend(ptr, i)
        } else {
            self.fb.ins().uextend(ptr, i)
        }
    }

    /// The size of what a pointer type points to (1 for `*void`).
    fn pointee_size(&self, t: TypeId) -> u64 {
        match self.kind(t) {
            TypeKind::Ptr(p) => match self.kind(p) {
                TypeKind::Void | TypeKind::Never => 1,
                _ => self.l.size_align(p).0.max(1),
            },
            _ => 1,
        }
    }

    fn binary(&mut self, op: BinOp, ty: TypeId, bty: TypeId, a: Value, b: Value) -> Value {
        let kind = self.kind(ty);
        let seq = kind == TypeKind::SeqInt;
        let signed = matches!(kind, TypeKind::Int { signed: true, .. });
        match op {
            BinOp::Add => self.fb.ins().iadd(a, b),
            BinOp::Sub => self.fb.ins().isub(a, b),
            BinOp::Mul => self.fb.ins().imul(a, b),
            BinOp::Div | BinOp::Rem => self.divide(op == BinOp::Div, signed, a, b),
            BinOp::Shl => self.fb.ins().ishl(a, b),
            BinOp::Shr if signed => self.fb.ins().sshr(a, b),
            BinOp::Shr => self.fb.ins().ushr(a, b),
            BinOp::BitAnd => self.fb.ins().band(a, b),
            BinOp::BitOr => self.fb.ins().bor(a, b),
            BinOp::BitXor => self.fb.ins().bxor(a, b),
            BinOp::Eq => self.fb.ins().icmp(IntCC::Equal, a, b),
            BinOp::Ne => self.fb.ins().icmp(IntCC::NotEqual, a, b),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge if seq => {
                let d = self.fb.ins().isub(a, b);
                self.fb.ins().icmp_imm_s(cc(op, true), d, 0)
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                self.fb.ins().icmp(cc(op, signed), a, b)
            }
            BinOp::Min | BinOp::Max => {
                let pick_a = if seq {
                    let d = self.fb.ins().isub(a, b);
                    let c = if op == BinOp::Min {
                        IntCC::SignedLessThan
                    } else {
                        IntCC::SignedGreaterThan
                    };
                    self.fb.ins().icmp_imm_s(c, d, 0)
                } else {
                    let c = match (op == BinOp::Min, signed) {
                        (true, true) => IntCC::SignedLessThan,
                        (true, false) => IntCC::UnsignedLessThan,
                        (false, true) => IntCC::SignedGreaterThan,
                        (false, false) => IntCC::UnsignedGreaterThan,
                    };
                    self.fb.ins().icmp(c, a, b)
                };
                // On ties Rust's `min`/`max` pick one operand or the other; equal values make
                // the choice invisible.
                self.fb.ins().select(pick_a, a, b)
            }
            BinOp::PtrAdd => {
                let i = self.index_value(b, bty);
                let size = self.pointee_size(ty);
                let scaled = if size == 1 {
                    i
                } else {
                    self.fb.ins().imul_imm_s(i, size as i64)
                };
                self.fb.ins().iadd(a, scaled)
            }
            BinOp::PtrDiff => {
                let d = self.fb.ins().isub(a, b);
                let size = self.pointee_size(ty);
                let q = if size == 1 {
                    d
                } else {
                    self.fb.ins().sdiv_imm_s(d, size as i64)
                };
                let bits = self.fb.value_type(q).bits();
                if bits < 64 {
                    self.fb.ins().sextend(types::I64, q)
                } else {
                    q
                }
            }
        }
    }

    /// Wrapping division and remainder: the minimum divided by -1 wraps (quotient: the
    /// minimum, remainder: 0); division by zero traps.
    fn divide(&mut self, quotient: bool, signed: bool, a: Value, b: Value) -> Value {
        // Division by zero stops the program with Rust's message, as the Rust back end's
        // `wrapping_div` panics (a bare trap would kill the process without a word).
        let (zero, nonzero) = (self.fb.block(), self.fb.block());
        self.fb.brif(b, nonzero, &[], zero, &[]);
        self.fb.switch_to(zero);
        self.fb.cold(zero);
        self.l.abort_with(self.fb, super::DIVIDE_BY_ZERO);
        self.fb.switch_to(nonzero);
        if !signed {
            return if quotient {
                self.fb.ins().udiv(a, b)
            } else {
                self.fb.ins().urem(a, b)
            };
        }
        let t = self.fb.value_type(a);
        let minus_one = self.fb.ins().icmp_imm_s(IntCC::Equal, b, -1);
        let (special, normal) = (self.fb.block(), self.fb.block());
        let (done, result) = self.fb.block_with(&[t]);
        self.fb.brif(minus_one, special, &[], normal, &[]);
        self.fb.switch_to(special);
        self.fb.cold(special);
        let s = if quotient {
            self.fb.ins().ineg(a)
        } else {
            self.fb.iconst(t, 0)
        };
        self.fb.jump(done, &[s]);
        self.fb.switch_to(normal);
        let n = if quotient {
            self.fb.ins().sdiv(a, b)
        } else {
            self.fb.ins().srem(a, b)
        };
        self.fb.jump(done, &[n]);
        self.fb.switch_to(done);
        result[0]
    }

    fn convert(&mut self, kind: ConvKind, x: ExprId, to: TypeId) -> R<V> {
        match kind {
            ConvKind::Decay => {
                let p = self.place(x)?;
                Some(V::S(self.address(p, self.ty(x))))
            }
            ConvKind::ToVoid => self.expr(x).map(|_| V::Unit),
            ConvKind::Ptr => self.expr(x),
            ConvKind::ToBool => {
                let v = self.scalar(x)?;
                if self.kind(self.ty(x)) == TypeKind::Bool {
                    return Some(V::S(v));
                }
                Some(V::S(self.fb.ins().icmp_imm_s(IntCC::NotEqual, v, 0)))
            }
            ConvKind::FromBool | ConvKind::Int => {
                let v = self.scalar(x)?;
                let Repr::Scalar(target) = self.l.repr(to) else {
                    return Some(V::S(v));
                };
                let from = self.fb.value_type(v);
                let signed = kind == ConvKind::Int
                    && matches!(self.kind(self.ty(x)), TypeKind::Int { signed: true, .. });
                let out = if from.bits() == target.bits() {
                    v
                } else if from.bits() > target.bits() {
                    self.fb.ins().ireduce(target, v)
                } else if signed {
                    self.fb.ins().sextend(target, v)
                } else {
                    self.fb.ins().uextend(target, v)
                };
                Some(V::S(out))
            }
        }
    }

    /// The innermost handler of `x`.
    fn target(&self, x: ExceptionId) -> Target {
        for (i, f) in self.catches.iter().enumerate().rev() {
            if f.handles.covers(x) {
                return Target::Catch(i);
            }
        }
        Target::Return
    }

    /// Transfers control to a handler (with `true`) or out of the method with a status.
    fn jump_to(&mut self, t: Target, status: Value) {
        match t {
            Target::Catch(i) => {
                self.catches[i].used = true;
                let done = self.catches[i].done;
                let one = self.fb.iconst(types::I8, 1);
                self.fb.jump(done, &[one]);
            }
            // The value is meaningless beside a non-zero status.
            Target::Return => self.ret(V::Unit, Some(status)),
        }
    }

    fn raise_to(&mut self, t: Target, x: ExceptionId) {
        let id = self.l.exception_ids[x];
        let status = self.fb.iconst(types::I32, i64::from(id));
        self.jump_to(t, status);
    }

    /// After a call with a status: continue when it is 0, else route the exception.
    fn route(&mut self, status: Value, raises: &[ExceptionId]) {
        let mut groups: Vec<(Target, Vec<ExceptionId>)> = Vec::new();
        for &x in raises {
            let t = self.target(x);
            match groups.iter_mut().find(|(g, _)| *g == t) {
                Some((_, v)) => v.push(x),
                None => groups.push((t, vec![x])),
            }
        }
        let cont = self.fb.block();
        let landing = self.fb.block();
        self.fb.brif(status, landing, &[], cont, &[]);
        self.fb.switch_to(landing);
        self.fb.cold(landing);
        let last = groups.pop().map_or(Target::Return, |g| g.0);
        for (t, xs) in groups {
            let mut hit = None;
            for x in xs {
                let id = i64::from(self.l.exception_ids[x]);
                let c = self.fb.ins().icmp_imm_s(IntCC::Equal, status, id);
                hit = Some(match hit {
                    None => c,
                    Some(h) => self.fb.ins().bor(h, c),
                });
            }
            let (yes, no) = (self.fb.block(), self.fb.block());
            let c = hit.unwrap_or_else(|| self.fb.iconst(types::I8, 0));
            self.fb.brif(c, yes, &[], no, &[]);
            self.fb.switch_to(yes);
            self.fb.cold(yes);
            self.jump_to(t, status);
            self.fb.switch_to(no);
            self.fb.cold(no);
        }
        self.jump_to(last, status);
        self.fb.switch_to(cont);
    }

    fn call(&mut self, callee: Callee, args: &[ExprId], ty: TypeId) -> R<V> {
        let mut values = Vec::with_capacity(args.len() + 1);
        for &a in args {
            let v = self.expr(a)?;
            match v {
                V::Unit => {}
                V::S(x) => values.push(x),
                V::M(src) => {
                    // The callee owns a copy.
                    let t = self.ty(a);
                    let copy = self.temp(t);
                    let (size, align) = self.l.size_align(t);
                    self.fb.copy(copy, src, size, align.min(8) as u8);
                    values.push(copy);
                }
            }
        }
        let ret = self.l.repr(ty);
        let sret = match ret {
            Repr::Mem(..) => {
                let a = self.temp(ty);
                values.insert(0, a);
                Some(a)
            }
            _ => None,
        };
        let (results, status, raises) = match callee {
            Callee::Direct(m) => {
                let method = &self.l.ir.methods[m];
                match &method.kind {
                    MethodKind::Extern { link_name } => {
                        let Some(&f) = self.l.hosts.get(link_name) else {
                            self.l.abort_with(self.fb, super::GENERIC_ABORT);
                            return None;
                        };
                        (self.fb.call(f, &values), false, Vec::new())
                    }
                    _ => {
                        let Some(f) = self.l.funcs[m] else {
                            self.l.abort_with(self.fb, super::GENERIC_ABORT);
                            return None;
                        };
                        let raises = method.raises.clone();
                        (self.fb.call(f, &values), !raises.is_empty(), raises)
                    }
                }
            }
            Callee::Virtual(sel) => {
                let origin = self.l.ir.selectors[sel].origin;
                let index = self
                    .l
                    .slots
                    .get(&origin)
                    .and_then(|s| s.iter().position(|&x| x == sel))
                    .unwrap_or(0);
                let offset = self.l.layouts.dispatch_offset(origin, origin).unwrap_or(0);
                let recv = values[usize::from(sret.is_some())];
                let ptr = self.l.ptr;
                let table = self.fb.load(ptr, recv, offset as i32);
                let f = self.fb.load(ptr, table, (index * 8) as i32);
                let sig = self.l.selector_sig(sel);
                let raises = self.l.set.selector_exceptions(sel).to_vec();
                let csig = sig.to_sig(ptr);
                (self.fb.call_indirect(&csig, f, &values), sig.status, raises)
            }
        };
        if status && let Some(&s) = results.last() {
            self.route(s, &raises);
        }
        Some(match (ret, sret) {
            (_, Some(a)) => V::M(a),
            (Repr::Scalar(_), None) => match results.first() {
                Some(&v) => V::S(v),
                None => V::Unit,
            },
            _ => V::Unit,
        })
    }
}

fn cc(op: BinOp, signed: bool) -> IntCC {
    match (op, signed) {
        (BinOp::Lt, true) => IntCC::SignedLessThan,
        (BinOp::Le, true) => IntCC::SignedLessThanOrEqual,
        (BinOp::Gt, true) => IntCC::SignedGreaterThan,
        (BinOp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
        (BinOp::Lt, false) => IntCC::UnsignedLessThan,
        (BinOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
        (BinOp::Gt, false) => IntCC::UnsignedGreaterThan,
        _ => IntCC::UnsignedGreaterThanOrEqual,
    }
}
