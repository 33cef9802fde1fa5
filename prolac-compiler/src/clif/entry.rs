//! Entry points of a compiled program (see [`super`]): the C-callable wrappers of exported
//! methods and the runner of `prolacc run`'s entry.

use std::collections::BTreeMap;

use tcc_backend::{Data, Func, InstBuilder, Jit, Sig, Type, types};

use super::{EntrySig, LoadError, Lower, Repr};
use crate::ir::{MethodId, MethodKind, TypeKind};
use crate::layout::SlotKind;

impl Lower<'_> {
    /// The entry points of exported methods.
    #[allow(clippy::type_complexity)]
    pub(super) fn entries(
        &mut self,
        jit: &mut Jit,
    ) -> Result<BTreeMap<String, (Func, EntrySig, MethodId)>, LoadError> {
        let mut out = BTreeMap::new();
        for &m in &self.ir.exports.clone() {
            let Some(target) = self.funcs[m] else {
                continue;
            };
            let method = &self.ir.methods[m];
            let sig = self.fn_sig(m);
            let install = method.kind == MethodKind::Constructor
                && self.report.constructed.contains(&method.owner)
                && self
                    .layouts
                    .of(method.owner)
                    .slots
                    .iter()
                    .any(|s| matches!(s.kind, SlotKind::Dispatch(_)));
            let aggregates = sig.params.iter().any(|p| matches!(p, Repr::Mem(..)));
            let mut params: Vec<Type> = Vec::new();
            if sig.receiver {
                params.push(self.ptr);
            }
            for p in &sig.params {
                match *p {
                    Repr::Scalar(t) => params.push(t),
                    Repr::Mem(..) => params.push(self.ptr),
                    Repr::Void => {}
                }
            }
            let scalar_ret = match sig.ret {
                Repr::Scalar(t) => Some(t),
                _ => None,
            };
            let out_param = sig.sret || (sig.status && scalar_ret.is_some());
            let entry_sig = EntrySig {
                params: params.clone(),
                ret: if out_param { None } else { scalar_ret },
                out: out_param,
                status: sig.status,
            };
            let name = self.method_name(m);
            if !install && !aggregates && !out_param {
                out.insert(name, (target, entry_sig, m));
                continue;
            }
            let mut csig = Sig::new();
            for &t in &params {
                csig = csig.param(t);
            }
            if out_param {
                csig = csig.param(self.ptr);
            }
            if let Some(t) = entry_sig.ret {
                csig = csig.result(t);
            }
            if sig.status {
                csig = csig.result(types::I32);
            }
            let wrapper_name = self.name(format!("entry {name}"));
            let wrapper = jit.declare(&wrapper_name, &csig)?;
            let owner = method.owner;
            let tables: Vec<(u64, Data)> = if install {
                self.layouts
                    .of(owner)
                    .slots
                    .iter()
                    .filter_map(|s| match s.kind {
                        SlotKind::Dispatch(origin) => {
                            self.tables.get(&(owner, origin)).map(|&d| (s.offset, d))
                        }
                        _ => None,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let ptr = self.ptr;
            let params_repr = sig.params.clone();
            jit.define(wrapper, |fb| {
                let incoming = fb.params().to_vec();
                let mut it = incoming.into_iter();
                let mut args = Vec::new();
                if sig.receiver {
                    let recv = it.next().unwrap_or_else(|| fb.iconst(ptr, 0));
                    for &(offset, d) in &tables {
                        let t = fb.data_addr(d);
                        fb.store(t, recv, i32::try_from(offset).unwrap_or(0));
                    }
                    args.push(recv);
                }
                for p in &params_repr {
                    match *p {
                        Repr::Void => {}
                        Repr::Scalar(_) => {
                            let v = it.next().unwrap_or_else(|| fb.iconst(ptr, 0));
                            args.push(v);
                        }
                        Repr::Mem(size, align) => {
                            let src = it.next().unwrap_or_else(|| fb.iconst(ptr, 0));
                            let copy = fb.stack_slot(size as u32, align as u32);
                            fb.copy(copy, src, size, align as u8);
                            args.push(copy);
                        }
                    }
                }
                let out = if out_param { it.next() } else { None };
                let out_ptr_sret = if sig.sret { out } else { None };
                if let Some(o) = out_ptr_sret {
                    args.insert(0, o);
                }
                let results = fb.call(target, &args);
                let mut rets = Vec::new();
                match (scalar_ret, out_param) {
                    (Some(_), true) => {
                        if let (Some(o), Some(&v)) = (out, results.first()) {
                            fb.store(v, o, 0);
                        }
                    }
                    (Some(_), false) => rets.extend(results.first().copied()),
                    _ => {}
                }
                if sig.status
                    && let Some(&s) = results.last()
                {
                    rets.push(s);
                }
                fb.ret(&rets);
            })?;
            out.insert(name, (wrapper, entry_sig, m));
        }
        Ok(out)
    }

    /// `fn(*mut u64) -> u32` running a static parameterless entry (value widened).
    pub(super) fn runner(&mut self, jit: &mut Jit, m: MethodId) -> Result<(Func, bool), LoadError> {
        let Some(target) = self.funcs[m] else {
            return Err(LoadError::Diagnostics(Vec::new()));
        };
        let sig = self.fn_sig(m);
        let signed = matches!(
            self.ir.types.kind(self.ir.methods[m].ret),
            TypeKind::Int { signed: true, .. }
        );
        let name = self.name("prolac main".to_string());
        let f = jit.declare(&name, &Sig::new().param(self.ptr).result(types::I32))?;
        jit.define(f, |fb| {
            let out = fb.params()[0];
            let results = fb.call(target, &[]);
            if let (Repr::Scalar(t), Some(&v)) = (sig.ret, results.first()) {
                let wide = if t == types::I64 {
                    v
                } else if signed {
                    fb.ins().sextend(types::I64, v)
                } else {
                    fb.ins().uextend(types::I64, v)
                };
                fb.store(wide, out, 0);
            }
            let status = if sig.status {
                results
                    .last()
                    .copied()
                    .unwrap_or_else(|| fb.iconst(types::I32, 0))
            } else {
                fb.iconst(types::I32, 0)
            };
            fb.ret(&[status]);
        })?;
        Ok((f, signed))
    }
}
