//! The layout engine: the size and alignment of every type, and the byte offset of every field
//! and hidden dispatch-table pointer of every module (language reference §7.5, §11.1, §13.7).
//! Both back ends use exactly this layout, so objects pass between the code they produce and
//! host code.
//!
//! # API
//!
//! - [`compute`]`(program, target, dispatch_origins)` lays out every module and returns the
//!   [`Layouts`] with the diagnostics found (P0714, P0715, P0716, P0720, P0721). It never
//!   panics, whatever the program; after an error the layouts are still complete and
//!   consistent (see *Error recovery*).
//! - [`Layouts::of`] gives a module's [`ModuleLayout`]: its `size`, its `align` and its
//!   `slots`, sorted by offset and covering `[0, size)` exactly, without gaps or overlap. A
//!   slot is a field ([`SlotKind::Field`]), the dispatch-table pointer of an origin module
//!   ([`SlotKind::Dispatch`]) or explicit padding ([`SlotKind::Padding`]). Inherited slots are
//!   listed too, so the Rust back end can emit a flat `#[repr(C)]` structure repeating every
//!   ancestor slot.
//! - [`Layouts::field_offset`] and [`Layouts::dispatch_offset`] find one slot.
//! - [`size_align`] and [`checked_size_align`] give `(size, alignment)` in bytes of any type.
//! - [`Target`] says how big pointers are ([`Target::host`] for the machine running the
//!   compiler).
//!
//! # Rules
//!
//! | Type | Size | Alignment |
//! |---|---|---|
//! | `void`, never | 0 | 1 |
//! | `bool` | 1 | 1 |
//! | integers | 1, 2, 4, 8 by width | as size |
//! | `seqint` | 4 | 4 |
//! | `*T` | `pointer_size` | `pointer_size` |
//! | `T[n]` | `n` × size of `T` (0 allowed) | alignment of `T` |
//! | module `M` | `M`'s layout size | `M`'s layout alignment |
//!
//! Modules are laid out parents first, and after the modules they embed by value, whatever
//! their ids. A module's layout is its parent's, unchanged, then its own dynamic fields (static
//! fields take no space):
//!
//! 1. pinned fields (`@`), in declaration order, at their offsets;
//! 2. if the module is in `dispatch_origins`, its dispatch-table pointer, at the lowest free
//!    pointer-aligned offset (so at the first new place unless a pin took it);
//! 3. the other fields, in declaration order, each at the lowest suitably aligned offset that
//!    overlaps nothing — which may be a hole in the inherited part, so a parent's padding may
//!    be subdivided or filled by a child, but no other inherited slot moves.
//!
//! The alignment is the largest member alignment (at least 1, never less than the parent's);
//! the size is the largest member end (never less than the parent's size) rounded up to the
//! alignment. Descendants of an origin inherit its dispatch slot; a module needing none has
//! no hidden slot.
//!
//! **Decision — zero-sized fields.** A field of size 0 (`uchar[0]`, an empty module) overlaps
//! nothing, so "the lowest free offset" would put it at 0. Instead an unpinned zero-sized
//! field is placed at the first suitably aligned offset after everything placed so far, as C
//! places a trailing `uchar data[0]`, which makes it usable for a variable-length tail
//! (§11.7). A zero-sized slot may start where another slot starts or ends, but never strictly
//! inside a non-empty slot (a `#[repr(C)]` structure cannot express that): a pinned one that
//! would is reported as an overlap (P0715).
//!
//! # Diagnostics
//!
//! - P0714: a pinned offset that is not a multiple of the field type's alignment.
//! - P0715: a pinned field overlapping an earlier pinned field or an inherited field.
//! - P0716: a pinned field overlapping an inherited dispatch-table pointer.
//! - P0720: a module that contains itself by value (through fields, arrays of modules or,
//!   for malformed IR, a cycle of parents); one diagnostic per cycle-closing field.
//! - P0721: an object larger than [`MAX_OBJECT_SIZE`] (4 GiB): a field whose type is that
//!   large, a field that would end beyond it, or a module whose rounded size exceeds it.
//!
//! An `@` on a static field is ignored here; warning about it (P0717) is the front end's job.
//!
//! # Error recovery
//!
//! A pinned field that is misaligned, overlaps or lies too far is placed as if it were not
//! pinned; a field whose type is too large, or that closes a containment cycle, gets no slot
//! (so [`Layouts::field_offset`] returns `None` for it). Malformed IR (ids out of range) is
//! tolerated silently: unknown types have size 0, unknown modules and fields are skipped; the
//! IR verifier reports such problems.

use std::collections::BTreeSet;

use cranelift_entity::{EntityRef, SecondaryMap};
use prolac_syntax::codes::{P0714, P0715, P0716, P0720, P0721};
use prolac_syntax::{Diagnostic, Span};

use crate::ir::{FieldId, IntWidth, ModuleId, Program, TypeId, TypeKind};

/// The largest size of any object or type, in bytes: 4 GiB. Larger objects are errors
/// (P0721); keeping every size and offset at most 2^32 also keeps the engine's arithmetic far
/// from overflow.
pub const MAX_OBJECT_SIZE: u64 = 1 << 32;

/// The machine the generated code runs on, as far as layout cares.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Target {
    /// Size of a pointer in bytes, which is also its alignment (a power of two in practice).
    pub pointer_size: u64,
}

impl Target {
    /// The machine running the compiler: 8-byte pointers on a 64-bit host.
    pub fn host() -> Target {
        Target {
            pointer_size: u64::from(usize::BITS / 8),
        }
    }

    /// The alignment of pointers (at least 1, even for a nonsensical pointer size of 0).
    fn pointer_align(self) -> u64 {
        self.pointer_size.max(1)
    }
}

impl Default for Target {
    fn default() -> Target {
        Target::host()
    }
}

/// What occupies a slot of a module layout.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum SlotKind {
    /// A dynamic field (declared by the module or by an ancestor).
    Field(FieldId),
    /// The hidden dispatch-table pointer of an origin module: the module (this one or an
    /// ancestor) that introduced methods still needing dynamic dispatch.
    Dispatch(ModuleId),
    /// Padding: bytes no member uses.
    Padding,
}

/// One slot of a module layout: a byte range and what lies there.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Slot {
    /// First byte, from the start of the object.
    pub offset: u64,
    /// Number of bytes (0 for zero-sized fields).
    pub size: u64,
    /// What lies there.
    pub kind: SlotKind,
}

impl Slot {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.size)
    }

    /// The sort key of slots: by offset, a zero-sized slot before a non-empty one starting at
    /// the same place.
    fn key(&self) -> (u64, bool) {
        (self.offset, self.size > 0)
    }
}

/// The layout of a module's objects.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModuleLayout {
    /// Size in bytes, a multiple of `align`.
    pub size: u64,
    /// Alignment in bytes, at least 1.
    pub align: u64,
    /// Every slot, inherited ones included, sorted by offset: each starts where the previous
    /// one ends, the first at 0 and the last ends at `size`. Padding is explicit (never empty,
    /// never two padding slots in a row).
    pub slots: Vec<Slot>,
}

impl Default for ModuleLayout {
    /// An empty object: size 0, alignment 1, no slots.
    fn default() -> ModuleLayout {
        ModuleLayout {
            size: 0,
            align: 1,
            slots: Vec::new(),
        }
    }
}

impl ModuleLayout {
    /// The offset of a field in this layout, if it has a slot here.
    pub fn field_offset(&self, f: FieldId) -> Option<u64> {
        self.slots
            .iter()
            .find(|s| s.kind == SlotKind::Field(f))
            .map(|s| s.offset)
    }

    /// The offset of the dispatch-table pointer of origin module `origin`, if there is one.
    pub fn dispatch_offset(&self, origin: ModuleId) -> Option<u64> {
        self.slots
            .iter()
            .find(|s| s.kind == SlotKind::Dispatch(origin))
            .map(|s| s.offset)
    }
}

/// The layouts of every module of a program, as computed by [`compute`].
#[derive(Clone, Debug)]
pub struct Layouts {
    target: Target,
    modules: SecondaryMap<ModuleId, ModuleLayout>,
    /// The program's type table when the layouts were computed (types are only ever added).
    kinds: Vec<TypeKind>,
}

impl Layouts {
    /// The target the layouts were computed for.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The layout of a module (an empty layout for an id the program does not have).
    pub fn of(&self, m: ModuleId) -> &ModuleLayout {
        &self.modules[m]
    }

    /// The offset of field `f` in objects of module `m` (`f` may be declared by an ancestor);
    /// `None` if `m`'s layout has no slot for it.
    pub fn field_offset(&self, m: ModuleId, f: FieldId) -> Option<u64> {
        self.of(m).field_offset(f)
    }

    /// The offset, in objects of module `m`, of the dispatch-table pointer of origin module
    /// `origin`; `None` if `m` has no such slot.
    pub fn dispatch_offset(&self, m: ModuleId, origin: ModuleId) -> Option<u64> {
        self.of(m).dispatch_offset(origin)
    }
}

/// The size and alignment in bytes of type `t` (see the table in the module documentation).
/// For a type larger than [`MAX_OBJECT_SIZE`] the size is `u64::MAX`; use
/// [`checked_size_align`] where that can happen.
pub fn size_align(program: &Program, layouts: &Layouts, t: TypeId) -> (u64, u64) {
    let (size, align) = size_align_inner(program, layouts, t);
    (size.unwrap_or(u64::MAX), align)
}

/// The size and alignment in bytes of type `t`, or `None` if it is larger than
/// [`MAX_OBJECT_SIZE`] (or is a malformed, cyclic array type).
pub fn checked_size_align(program: &Program, layouts: &Layouts, t: TypeId) -> Option<(u64, u64)> {
    let (size, align) = size_align_inner(program, layouts, t);
    size.map(|s| (s, align))
}

fn size_align_inner(program: &Program, layouts: &Layouts, t: TypeId) -> (Option<u64>, u64) {
    let count = program.types.iter().count().max(layouts.kinds.len());
    let kind_of = |t: TypeId| {
        layouts
            .kinds
            .get(t.index())
            .copied()
            .or_else(|| program.types.iter().nth(t.index()).map(|(_, k)| k))
    };
    type_size(&kind_of, count, &layouts.modules, layouts.target, t)
}

/// Size (`None` if too large) and alignment of a type, given how to find a type's kind and
/// the layouts of the modules it may embed. `type_count` bounds chains of array types, so a
/// malformed cyclic one ends (as too large).
fn type_size(
    kind_of: &dyn Fn(TypeId) -> Option<TypeKind>,
    type_count: usize,
    modules: &SecondaryMap<ModuleId, ModuleLayout>,
    target: Target,
    t: TypeId,
) -> (Option<u64>, u64) {
    let mut t = t;
    let mut count: Option<u64> = Some(1);
    let mut empty = false;
    for _ in 0..=type_count {
        let (size, align) = match kind_of(t) {
            None | Some(TypeKind::Void | TypeKind::Never) => (0, 1),
            Some(TypeKind::Array(elem, n)) => {
                empty |= n == 0;
                count = count.and_then(|c| c.checked_mul(n));
                t = elem;
                continue;
            }
            Some(TypeKind::Bool) => (1, 1),
            Some(TypeKind::Int { width, .. }) => (width.bytes(), width.bytes()),
            Some(TypeKind::SeqInt) => (4, 4),
            Some(TypeKind::Ptr(_)) => (target.pointer_size, target.pointer_align()),
            Some(TypeKind::Module(m)) => {
                let layout = &modules[m];
                (layout.size, layout.align.max(1))
            }
        };
        let total = if empty || size == 0 {
            Some(0)
        } else {
            count.and_then(|c| c.checked_mul(size))
        };
        return (total.filter(|&s| s <= MAX_OBJECT_SIZE), align);
    }
    (None, 1)
}

/// Lays out every module of `program` for `target`.
///
/// `dispatch_origins` holds the origin modules of the selectors that still need dynamic
/// dispatch after devirtualisation (§13.2): each such module, and every module descending
/// from it, gets a pointer-sized dispatch-table slot for it. Ids that are not modules of the
/// program are ignored.
///
/// Returns the layouts and the diagnostics, in the order found (callers sort them).
pub fn compute(
    program: &Program,
    target: Target,
    dispatch_origins: &BTreeSet<ModuleId>,
) -> (Layouts, Vec<Diagnostic>) {
    let mut engine = Engine {
        program,
        target,
        origins: dispatch_origins,
        kinds: program.types.iter().map(|(_, k)| k).collect(),
        modules: SecondaryMap::new(),
        broken: BTreeSet::new(),
        diagnostics: Vec::new(),
    };
    let order = engine.order();
    for m in order {
        engine.layout_module(m);
    }
    let layouts = Layouts {
        target,
        modules: engine.modules,
        kinds: engine.kinds,
    };
    (layouts, engine.diagnostics)
}

/// How one module depends on another's layout.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Via {
    /// It is the parent.
    Parent,
    /// The field embeds it by value (possibly in an array).
    Field(FieldId),
}

/// A field waiting to be placed.
struct NewField {
    id: FieldId,
    size: u64,
    align: u64,
    pinned: Option<u64>,
    span: Span,
}

struct Engine<'a> {
    program: &'a Program,
    target: Target,
    origins: &'a BTreeSet<ModuleId>,
    kinds: Vec<TypeKind>,
    modules: SecondaryMap<ModuleId, ModuleLayout>,
    /// Dependencies that close a containment cycle: ignored when laying out.
    broken: BTreeSet<(ModuleId, Via)>,
    diagnostics: Vec<Diagnostic>,
}

impl Engine<'_> {
    fn kind(&self, t: TypeId) -> Option<TypeKind> {
        self.kinds.get(t.index()).copied()
    }

    fn module_name(&self, m: ModuleId) -> &str {
        self.program
            .modules
            .get(m)
            .map_or("<unknown module>", |module| module.name.as_str())
    }

    fn field_name(&self, f: FieldId) -> &str {
        self.program
            .fields
            .get(f)
            .map_or("<unknown field>", |field| field.name.as_str())
    }

    fn type_size(&self, t: TypeId) -> (Option<u64>, u64) {
        let kind_of = |t: TypeId| self.kind(t);
        type_size(&kind_of, self.kinds.len(), &self.modules, self.target, t)
    }

    /// The module a type embeds by value: itself if it is a module type, or its element's
    /// for arrays.
    fn embedded_module(&self, t: TypeId) -> Option<ModuleId> {
        let mut t = t;
        for _ in 0..=self.kinds.len() {
            match self.kind(t)? {
                TypeKind::Array(elem, _) => t = elem,
                TypeKind::Module(m) => return self.program.modules.get(m).map(|_| m),
                _ => return None,
            }
        }
        None
    }

    /// The layouts module `m` needs before its own: its parent's, then those of the modules
    /// its dynamic fields embed, in declaration order.
    fn dependencies(&self, m: ModuleId) -> Vec<(ModuleId, Via)> {
        let Some(module) = self.program.modules.get(m) else {
            return Vec::new();
        };
        let mut deps = Vec::new();
        if let Some(p) = module.parent
            && self.program.modules.get(p).is_some()
        {
            deps.push((p, Via::Parent));
        }
        for &f in &module.fields {
            if let Some(field) = self.program.fields.get(f)
                && !field.is_static
                && let Some(e) = self.embedded_module(field.ty)
            {
                deps.push((e, Via::Field(f)));
            }
        }
        deps
    }

    /// Every module, each after the modules its layout depends on. A dependency that closes
    /// a cycle is reported (P0720) and recorded in `broken`, which makes the rest acyclic.
    /// Iterative depth-first search, so deep hierarchies cannot overflow the stack.
    fn order(&mut self) -> Vec<ModuleId> {
        #[derive(Clone, Copy, PartialEq, Eq, Default)]
        enum Mark {
            #[default]
            New,
            Open,
            Done,
        }
        let deps: SecondaryMap<ModuleId, Vec<(ModuleId, Via)>> = {
            let mut map = SecondaryMap::new();
            for m in self.program.modules.keys() {
                map[m] = self.dependencies(m);
            }
            map
        };
        let mut mark: SecondaryMap<ModuleId, Mark> = SecondaryMap::new();
        let mut order = Vec::new();
        for root in self.program.modules.keys() {
            if mark[root] != Mark::New {
                continue;
            }
            mark[root] = Mark::Open;
            // Each entry: a module and the index of its next dependency to visit.
            let mut stack: Vec<(ModuleId, usize)> = vec![(root, 0)];
            while let Some(&(m, i)) = stack.last() {
                let Some(&(to, via)) = deps[m].get(i) else {
                    mark[m] = Mark::Done;
                    order.push(m);
                    stack.pop();
                    continue;
                };
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::Open;
                        stack.push((to, 0));
                    }
                    Mark::Open => {
                        // The cycle: from `to`'s entry on the stack, each module with the
                        // dependency it was followed through, closed by (m, via).
                        let start = stack.iter().position(|&(s, _)| s == to).unwrap_or(0);
                        let mut cycle: Vec<(ModuleId, Via)> = stack[start..]
                            .iter()
                            .map(|&(s, next)| {
                                let via = next
                                    .checked_sub(1)
                                    .and_then(|k| deps[s].get(k))
                                    .map_or(Via::Parent, |&(_, v)| v);
                                (s, via)
                            })
                            .collect();
                        if let Some(last) = cycle.last_mut() {
                            *last = (m, via);
                        }
                        self.report_cycle(&cycle);
                        self.broken.insert((m, via));
                    }
                    Mark::Done => {}
                }
            }
        }
        order
    }

    /// Reports a containment cycle: `cycle[k].0` depends on `cycle[k + 1].0` through
    /// `cycle[k].1`, and the last entry, which closes the cycle, on `cycle[0].0`.
    fn report_cycle(&mut self, cycle: &[(ModuleId, Via)]) {
        let Some(&(closer, closing_via)) = cycle.last() else {
            return;
        };
        let target = |k: usize| cycle.get(k + 1).map_or(cycle[0].0, |&(m, _)| m);
        let describe = |k: usize| {
            let (m, via) = cycle[k];
            match via {
                Via::Parent => format!(
                    "`{}` inherits from `{}`",
                    self.module_name(m),
                    self.module_name(target(k))
                ),
                Via::Field(f) => format!(
                    "`{}` embeds `{}` by value (field `{}`)",
                    self.module_name(m),
                    self.module_name(target(k)),
                    self.field_name(f)
                ),
            }
        };
        let span_of = |m: ModuleId, via: Via| match via {
            Via::Field(f) => self.program.fields.get(f).map(|field| field.span),
            Via::Parent => self.program.modules.get(m).map(|module| module.span),
        };
        let last = cycle.len() - 1;
        let closer_name = self.module_name(closer);
        let mut d = Diagnostic::new(
            P0720,
            span_of(closer, closing_via).unwrap_or_default(),
            format!("module `{closer_name}` contains itself"),
        )
        .with_label(describe(last));
        for (k, &(m, via)) in cycle.iter().enumerate().take(last) {
            if let Some(span) = span_of(m, via) {
                d = d.with_secondary(span, describe(k));
            }
        }
        if cycle.len() > 1 {
            let chain: Vec<String> = (0..cycle.len()).map(describe).collect();
            d = d.with_note(format!("the cycle: {}", chain.join(", ")));
        }
        d = d.with_note("an object containing itself would be infinitely large");
        if let Via::Field(f) = closing_via {
            d = d.with_help(format!(
                "embed a pointer instead: declare `{}` with type `*{}`",
                self.field_name(f),
                self.module_name(target(last))
            ));
        }
        self.diagnostics.push(d);
    }

    fn layout_module(&mut self, m: ModuleId) {
        let program = self.program;
        let Some(module) = program.modules.get(m) else {
            return;
        };
        // The parent's layout, unchanged; its padding is recomputed at the end, which
        // reproduces it except where new members fill it.
        let mut items: Vec<Slot> = Vec::new();
        let mut min_size = 0;
        let mut align = 1;
        if let Some(p) = module.parent
            && program.modules.get(p).is_some()
            && !self.broken.contains(&(m, Via::Parent))
        {
            let parent = &self.modules[p];
            items.extend(parent.slots.iter().filter(|s| s.kind != SlotKind::Padding));
            min_size = parent.size;
            align = parent.align.max(1);
        }

        let mut new_fields = Vec::new();
        for &f in &module.fields {
            let Some(field) = program.fields.get(f) else {
                continue;
            };
            if field.is_static || self.broken.contains(&(m, Via::Field(f))) {
                continue;
            }
            let (size, field_align) = self.type_size(field.ty);
            let Some(size) = size else {
                let d = Diagnostic::new(
                    P0721,
                    field.span,
                    format!("field `{}` is too large", field.name),
                )
                .with_label(format!(
                    "type `{}` needs more than {MAX_OBJECT_SIZE} bytes",
                    self.type_name(field.ty)
                ))
                .with_help("use a smaller array, or a pointer to memory allocated elsewhere");
                self.diagnostics.push(d);
                continue;
            };
            align = align.max(field_align);
            new_fields.push(NewField {
                id: f,
                size,
                align: field_align.max(1),
                pinned: field.pinned,
                span: field.span,
            });
        }

        // 1. Pinned fields at their offsets.
        let mut placed = vec![false; new_fields.len()];
        for (k, nf) in new_fields.iter().enumerate() {
            if let Some(offset) = nf.pinned {
                placed[k] = self.place_pinned(m, &mut items, nf, offset);
            }
        }

        // 2. The dispatch-table pointer, if this module is an origin.
        if self.origins.contains(&m) {
            let size = self.target.pointer_size;
            let ptr_align = self.target.pointer_align();
            align = align.max(ptr_align);
            match lowest_free(&items, size, ptr_align) {
                Some(offset) => insert(
                    &mut items,
                    Slot {
                        offset,
                        size,
                        kind: SlotKind::Dispatch(m),
                    },
                ),
                None => {
                    let d = Diagnostic::new(
                        P0721,
                        module.span,
                        format!("module `{}` is too large", module.name),
                    )
                    .with_label(format!(
                        "its dispatch-table pointer would end beyond {MAX_OBJECT_SIZE} bytes"
                    ));
                    self.diagnostics.push(d);
                }
            }
        }

        // 3. The other fields (and failed pins), in declaration order.
        for (k, nf) in new_fields.iter().enumerate() {
            if placed[k] {
                continue;
            }
            let offset = if nf.size == 0 {
                let end = items.iter().map(Slot::end).max().unwrap_or(0);
                round_up(end, nf.align).filter(|&o| o <= MAX_OBJECT_SIZE)
            } else {
                lowest_free(&items, nf.size, nf.align)
            };
            match offset {
                Some(offset) => insert(
                    &mut items,
                    Slot {
                        offset,
                        size: nf.size,
                        kind: SlotKind::Field(nf.id),
                    },
                ),
                None => {
                    let d = Diagnostic::new(
                        P0721,
                        nf.span,
                        format!("module `{}` is too large", module.name),
                    )
                    .with_label(format!(
                        "field `{}` would end beyond {MAX_OBJECT_SIZE} bytes",
                        self.field_name(nf.id)
                    ));
                    self.diagnostics.push(d);
                }
            }
        }

        let end = items.iter().map(Slot::end).fold(min_size, u64::max);
        let size = match round_up(end, align).filter(|&s| s <= MAX_OBJECT_SIZE) {
            Some(size) => size,
            None => {
                let d = Diagnostic::new(
                    P0721,
                    module.span,
                    format!("module `{}` is too large", module.name),
                )
                .with_label(format!(
                    "its size rounded up to its alignment {align} exceeds {MAX_OBJECT_SIZE} \
                     bytes"
                ));
                self.diagnostics.push(d);
                end
            }
        };
        self.modules[m] = ModuleLayout {
            size,
            align,
            slots: with_padding(items, size),
        };
    }

    /// Places a pinned field at `offset` if it may go there; otherwise reports why and
    /// returns false (the field is then placed as if unpinned).
    fn place_pinned(
        &mut self,
        m: ModuleId,
        items: &mut Vec<Slot>,
        nf: &NewField,
        offset: u64,
    ) -> bool {
        let name = self.field_name(nf.id).to_string();
        if !offset.is_multiple_of(nf.align) {
            let below = offset - offset % nf.align;
            let above = below.saturating_add(nf.align);
            let ty = self
                .program
                .fields
                .get(nf.id)
                .map_or_else(String::new, |f| self.type_name(f.ty));
            let help = if below == 0 {
                format!("pin it at offset {above}, or remove `@ {offset}`")
            } else {
                format!("pin it at offset {below} or {above}, or remove `@ {offset}`")
            };
            let d = Diagnostic::new(
                P0714,
                nf.span,
                format!(
                    "pinned field `{name}` is not aligned: offset {offset} is not a multiple of \
                     {}",
                    nf.align
                ),
            )
            .with_label(format!("`{ty}` has alignment {}", nf.align))
            .with_help(help);
            self.diagnostics.push(d);
            return false;
        }
        let Some(end) = offset
            .checked_add(nf.size)
            .filter(|&e| e <= MAX_OBJECT_SIZE)
        else {
            let d = Diagnostic::new(
                P0721,
                nf.span,
                format!("pinned field `{name}` lies beyond {MAX_OBJECT_SIZE} bytes"),
            )
            .with_label(format!("pinned at offset {offset}"))
            .with_help("objects are limited to 4 GiB; pin the field at a smaller offset");
            self.diagnostics.push(d);
            return false;
        };
        let Some(other) = items
            .iter()
            .find(|s| offset < s.end() && s.offset < end)
            .copied()
        else {
            insert(
                items,
                Slot {
                    offset,
                    size: nf.size,
                    kind: SlotKind::Field(nf.id),
                },
            );
            return true;
        };
        let here = byte_range(offset, nf.size);
        let there = byte_range(other.offset, other.size);
        let d = match other.kind {
            SlotKind::Dispatch(origin) => {
                let origin_name = self.module_name(origin).to_string();
                let mut d = Diagnostic::new(
                    P0716,
                    nf.span,
                    format!(
                        "pinned field `{name}` overlaps the dispatch-table pointer of \
                         `{origin_name}`"
                    ),
                )
                .with_label(format!("`{name}` occupies {here}"))
                .with_note(format!(
                    "methods introduced by `{origin_name}` still need dynamic dispatch, so its \
                     objects and those of its descendants hold a hidden pointer at {there}"
                ))
                .with_help(format!(
                    "pin `{name}` elsewhere, or make the calls of `{origin_name}`'s methods \
                     statically bound (for example, construct only one of the modules that \
                     override them)"
                ));
                if let Some(module) = self.program.modules.get(origin) {
                    d = d.with_secondary(
                        module.span,
                        format!("`{origin_name}` gets a dispatch-table pointer at {there}"),
                    );
                }
                d
            }
            _ => {
                let (other_name, other_span, inherited_from) = match other.kind {
                    SlotKind::Field(g) => match self.program.fields.get(g) {
                        Some(field) => (
                            field.name.clone(),
                            Some(field.span),
                            (field.owner != m).then(|| self.module_name(field.owner).to_string()),
                        ),
                        None => (String::from("<unknown field>"), None, None),
                    },
                    _ => (String::from("<unknown slot>"), None, None),
                };
                let what = match &inherited_from {
                    Some(owner) => format!("field `{other_name}` inherited from `{owner}`"),
                    None => format!("field `{other_name}`"),
                };
                let mut d = Diagnostic::new(
                    P0715,
                    nf.span,
                    format!("pinned field `{name}` overlaps {what}"),
                )
                .with_label(format!("`{name}` occupies {here}"))
                .with_help(format!(
                    "pin `{name}` at an offset where nothing else lies, or remove `@ {offset}` \
                     to let the layout engine place it"
                ));
                if nf.size == 0 || other.size == 0 {
                    d = d.with_note(
                        "a zero-sized field may not start strictly inside another field",
                    );
                }
                if let Some(span) = other_span {
                    d = d.with_secondary(span, format!("`{other_name}` occupies {there}"));
                }
                d
            }
        };
        self.diagnostics.push(d);
        false
    }

    /// A type as written in Prolac (`*Frame[4]`, `uchar[0]`, `Rtt`).
    fn type_name(&self, t: TypeId) -> String {
        self.type_name_at(t, 0)
    }

    fn type_name_at(&self, t: TypeId, depth: u32) -> String {
        if depth > 32 {
            return String::from("…");
        }
        match self.kind(t) {
            None => String::from("<unknown type>"),
            Some(TypeKind::Void) => String::from("void"),
            Some(TypeKind::Never) => String::from("never"),
            Some(TypeKind::Bool) => String::from("bool"),
            Some(TypeKind::SeqInt) => String::from("seqint"),
            Some(TypeKind::Int { width, signed }) => {
                let base = match width {
                    IntWidth::W8 => "char",
                    IntWidth::W16 => "short",
                    IntWidth::W32 => "int",
                    IntWidth::W64 => "long",
                };
                if signed {
                    base.to_string()
                } else {
                    format!("u{base}")
                }
            }
            Some(TypeKind::Ptr(inner)) => {
                let inner_name = self.type_name_at(inner, depth + 1);
                if matches!(self.kind(inner), Some(TypeKind::Array(..))) {
                    format!("*({inner_name})")
                } else {
                    format!("*{inner_name}")
                }
            }
            Some(TypeKind::Array(elem, n)) => {
                format!("{}[{n}]", self.type_name_at(elem, depth + 1))
            }
            Some(TypeKind::Module(m)) => self.module_name(m).to_string(),
        }
    }
}

/// `x` rounded up to a multiple of `align` (at least 1); `None` on overflow.
fn round_up(x: u64, align: u64) -> Option<u64> {
    let align = align.max(1);
    x.div_ceil(align).checked_mul(align)
}

/// The lowest offset, a multiple of `align`, where `size` (> 0) bytes overlap no item and
/// contain no zero-sized item strictly inside; `None` if it would end beyond
/// [`MAX_OBJECT_SIZE`]. `items` is sorted by [`Slot::key`] and its non-empty items are
/// disjoint, so only the gaps between consecutive items need looking at.
fn lowest_free(items: &[Slot], size: u64, align: u64) -> Option<u64> {
    let fits = |offset: u64| offset.checked_add(size).filter(|&e| e <= MAX_OBJECT_SIZE);
    let mut cursor = 0;
    for item in items {
        let candidate = round_up(cursor, align)?;
        if fits(candidate).is_some_and(|end| end <= item.offset) {
            return Some(candidate);
        }
        cursor = cursor.max(item.end());
    }
    let candidate = round_up(cursor, align)?;
    fits(candidate).map(|_| candidate)
}

/// Inserts a slot, keeping `items` sorted by [`Slot::key`]; after slots with an equal key.
fn insert(items: &mut Vec<Slot>, slot: Slot) {
    let at = items.partition_point(|s| s.key() <= slot.key());
    items.insert(at, slot);
}

/// The final slot list: `items` with padding slots filling every gap up to `size`.
fn with_padding(items: Vec<Slot>, size: u64) -> Vec<Slot> {
    let mut slots = Vec::with_capacity(items.len() * 2 + 1);
    let mut cursor = 0;
    for item in items {
        if item.offset > cursor {
            slots.push(Slot {
                offset: cursor,
                size: item.offset - cursor,
                kind: SlotKind::Padding,
            });
        }
        cursor = cursor.max(item.end());
        slots.push(item);
    }
    if size > cursor {
        slots.push(Slot {
            offset: cursor,
            size: size - cursor,
            kind: SlotKind::Padding,
        });
    }
    slots
}

/// `bytes 4 to 7`, `byte 4`, or `offset 4` for an empty range, for messages.
fn byte_range(offset: u64, size: u64) -> String {
    match size {
        0 => format!("offset {offset}"),
        1 => format!("byte {offset}"),
        _ => format!("bytes {offset} to {}", offset.saturating_add(size - 1)),
    }
}

#[cfg(test)]
mod tests;
