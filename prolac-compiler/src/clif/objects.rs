//! The data of a compiled program (see [`super`]): dispatch tables, static fields, zero
//! images of objects holding dispatch pointers, string literals, the adapters that give a
//! method without status the signature of a raising selector, and the holes of tables.

use tcc_backend::{Data, DataSpec, FnBuilder, Func, InstBuilder, Jit, types};

use super::{GENERIC_ABORT, LoadError, Lower};
use crate::ir::{MethodId, ModuleId, SelectorId, TypeId, TypeKind};
use crate::layout::SlotKind;

impl Lower<'_> {
    /// Dispatch tables, then statics (whose zero images may point at tables).
    pub(super) fn tables(&mut self, jit: &mut Jit) -> Result<(), LoadError> {
        let origins: Vec<(ModuleId, Vec<SelectorId>)> =
            self.slots.iter().map(|(o, s)| (*o, s.clone())).collect();
        for (origin, sels) in origins {
            for &m in &self.report.constructed.clone() {
                if !self.ir.is_subclass(m, origin)
                    || self.layouts.dispatch_offset(m, origin).is_none()
                {
                    continue;
                }
                let mut function_addrs = Vec::new();
                for (i, &sel) in sels.iter().enumerate() {
                    let f = match self.ir.actual(m, sel) {
                        Some(t) if self.set.functions.contains(&t) => {
                            if self.set.selector_raises(sel) && self.ir.methods[t].raises.is_empty()
                            {
                                self.adapter(jit, t)?
                            } else {
                                self.funcs[t].ok_or(LoadError::Diagnostics(Vec::new()))?
                            }
                        }
                        _ => self.hole(jit, m, sel)?,
                    };
                    function_addrs.push((u32::try_from(i * 8).unwrap_or(0), f));
                }
                let size = (sels.len() * 8).max(8);
                let name = self.name(format!(
                    "{}'s table for {}",
                    self.ir.modules[m].name, self.ir.modules[origin].name
                ));
                let data = jit.data(
                    &name,
                    DataSpec {
                        bytes: vec![0; size],
                        align: 8,
                        writable: false,
                        function_addrs,
                        data_addrs: Vec::new(),
                    },
                )?;
                self.tables.insert((m, origin), data);
            }
        }
        for (f, field) in self.ir.fields.iter() {
            if !field.is_static {
                continue;
            }
            let (size, align) = self.size_align(field.ty);
            let data_addrs = self.dispatch_pointers(field.ty);
            let name = self.name(format!(
                "static {}.{}",
                self.ir.modules[field.owner].name, field.name
            ));
            let size = usize::try_from(size).unwrap_or(0).max(1);
            let d = jit.data(
                &name,
                DataSpec {
                    bytes: vec![0; size],
                    align,
                    writable: true,
                    function_addrs: Vec::new(),
                    data_addrs,
                },
            )?;
            self.statics[f] = Some(d);
        }
        Ok(())
    }

    /// The dispatch-table pointers inside a zero value of type `t`: (offset, table).
    pub(crate) fn dispatch_pointers(&self, t: TypeId) -> Vec<(u32, Data)> {
        let mut out = Vec::new();
        self.collect_pointers(t, 0, &mut out);
        out
    }

    fn collect_pointers(&self, t: TypeId, base: u64, out: &mut Vec<(u32, Data)>) {
        match self.ir.types.kind(t) {
            TypeKind::Module(m) => {
                for slot in &self.layouts.of(m).slots {
                    let at = base + slot.offset;
                    match slot.kind {
                        SlotKind::Dispatch(origin) => {
                            if let Some(&d) = self.tables.get(&(m, origin)) {
                                out.push((u32::try_from(at).unwrap_or(u32::MAX), d));
                            }
                        }
                        SlotKind::Field(f) => self.collect_pointers(self.ir.fields[f].ty, at, out),
                        SlotKind::Padding => {}
                    }
                }
            }
            TypeKind::Array(elem, n) => {
                let before = out.len();
                self.collect_pointers(elem, base, out);
                if out.len() > before {
                    let (size, _) = self.size_align(elem);
                    let first: Vec<(u32, Data)> = out[before..].to_vec();
                    for i in 1..n.min(1 << 16) {
                        for &(o, d) in &first {
                            let at = u64::from(o) + i * size;
                            out.push((u32::try_from(at).unwrap_or(u32::MAX), d));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The zero image of a type that holds dispatch pointers (`None`: all zero bytes).
    pub(crate) fn template(&mut self, jit: &mut Jit, t: TypeId) -> Result<Option<Data>, LoadError> {
        if let Some(&d) = self.templates.get(&t) {
            return Ok(d);
        }
        let data_addrs = self.dispatch_pointers(t);
        let d = if data_addrs.is_empty() {
            None
        } else {
            let (size, align) = self.size_align(t);
            let name = self.name(format!("zero {t}"));
            Some(jit.data(
                &name,
                DataSpec {
                    bytes: vec![0; usize::try_from(size).unwrap_or(0).max(1)],
                    align,
                    writable: false,
                    function_addrs: Vec::new(),
                    data_addrs,
                },
            )?)
        };
        self.templates.insert(t, d);
        Ok(d)
    }

    /// A string literal's bytes, NUL-terminated, in read-only data.
    pub(crate) fn string(&mut self, jit: &mut Jit, bytes: &[u8]) -> Result<Data, LoadError> {
        if let Some(&d) = self.strings.get(bytes) {
            return Ok(d);
        }
        let mut b = bytes.to_vec();
        b.push(0);
        let name = self.name(format!("string {}", self.strings.len()));
        let d = jit.data(
            &name,
            DataSpec {
                bytes: b,
                align: 1,
                writable: false,
                function_addrs: Vec::new(),
                data_addrs: Vec::new(),
            },
        )?;
        self.strings.insert(bytes.to_vec(), d);
        Ok(d)
    }

    /// Calls the abort function with a message (made beforehand by [`Lower::string`], else a
    /// generic one), then traps.
    pub(crate) fn abort_with(&self, fb: &mut FnBuilder<'_>, message: &str) {
        let d = self
            .strings
            .get(message.as_bytes())
            .or_else(|| self.strings.get(GENERIC_ABORT.as_bytes()))
            .copied();
        if let (Some(abort), Some(d)) = (self.abort, d) {
            let p = fb.data_addr(d);
            fb.call(abort, &[p]);
        }
        fb.ins().trap(tcc_backend::TrapCode::unwrap_user(1));
    }

    /// An adapter adding status 0 to a method that cannot raise (for a raising selector).
    pub(super) fn adapter(&mut self, jit: &mut Jit, t: MethodId) -> Result<Func, LoadError> {
        if let Some(&f) = self.adapters.get(&t) {
            return Ok(f);
        }
        let mut sig = self.fn_sig(t);
        sig.status = true;
        let name = self.name(format!("{} (with status)", self.method_name(t)));
        let f = jit.declare(&name, &sig.to_sig(self.ptr))?;
        self.adapters.insert(t, f);
        Ok(f)
    }

    pub(super) fn adapters(&mut self, jit: &mut Jit) -> Result<(), LoadError> {
        for (t, f) in self.adapters.clone() {
            let Some(target) = self.funcs[t] else {
                continue;
            };
            jit.define(f, |fb| {
                let args = fb.params().to_vec();
                let mut results = fb.call(target, &args);
                let zero = fb.iconst(types::I32, 0);
                results.push(zero);
                fb.ret(&results);
            })?;
        }
        Ok(())
    }

    /// A dispatch-table entry for a selector module `m` has no definition for: aborts.
    pub(super) fn hole(
        &mut self,
        jit: &mut Jit,
        m: ModuleId,
        sel: SelectorId,
    ) -> Result<Func, LoadError> {
        let sig = self.selector_sig(sel).to_sig(self.ptr);
        let message = format!(
            "`{}` has no definition for `{}`",
            self.ir.modules[m].name, self.ir.selectors[sel].name
        );
        let name = self.name(format!("hole {}", message));
        let f = jit.declare(&name, &sig)?;
        self.string(jit, message.as_bytes())?;
        let this = &*self;
        jit.define(f, |fb| this.abort_with(fb, &message))?;
        Ok(f)
    }
}
