//! Tests of the parent module.
use super::*;
use crate::ir::{Field, Module};
use prolac_syntax::FileId;
use prolac_syntax::codes::Code;

/// Builds programs by hand; every module and field gets a distinct span.
#[derive(Default)]
struct Builder {
    p: Program,
    next_lo: usize,
}

impl Builder {
    fn span(&mut self) -> Span {
        let lo = self.next_lo;
        self.next_lo += 10;
        Span::new(FileId(0), lo, lo + 5)
    }

    fn module(&mut self, name: &str, parent: Option<ModuleId>) -> ModuleId {
        let span = self.span();
        self.p.modules.push(Module {
            name: name.to_string(),
            parent,
            fields: Vec::new(),
            vtable: Vec::new(),
            constructor: None,
            span,
        })
    }

    fn add_field(
        &mut self,
        m: ModuleId,
        name: &str,
        ty: TypeId,
        pinned: Option<u64>,
        is_static: bool,
    ) -> FieldId {
        let span = self.span();
        let f = self.p.fields.push(Field {
            name: name.to_string(),
            owner: m,
            ty,
            is_static,
            pinned,
            span,
        });
        self.p.modules[m].fields.push(f);
        f
    }

    fn field(&mut self, m: ModuleId, name: &str, ty: TypeId) -> FieldId {
        self.add_field(m, name, ty, None, false)
    }

    fn pinned(&mut self, m: ModuleId, name: &str, ty: TypeId, offset: u64) -> FieldId {
        self.add_field(m, name, ty, Some(offset), false)
    }

    fn ty(&mut self, kind: TypeKind) -> TypeId {
        self.p.types.intern(kind)
    }

    fn int(&mut self, width: IntWidth, signed: bool) -> TypeId {
        self.p.types.int(width, signed)
    }

    fn uchar(&mut self) -> TypeId {
        self.int(IntWidth::W8, false)
    }

    fn ushort(&mut self) -> TypeId {
        self.int(IntWidth::W16, false)
    }

    fn uint(&mut self) -> TypeId {
        self.int(IntWidth::W32, false)
    }

    fn ulong(&mut self) -> TypeId {
        self.int(IntWidth::W64, false)
    }

    fn seqint(&mut self) -> TypeId {
        self.ty(TypeKind::SeqInt)
    }

    fn array(&mut self, elem: TypeId, n: u64) -> TypeId {
        self.ty(TypeKind::Array(elem, n))
    }

    fn module_ty(&mut self, m: ModuleId) -> TypeId {
        self.ty(TypeKind::Module(m))
    }
}

const T64: Target = Target { pointer_size: 8 };

/// Lays out with 8-byte pointers and checks every invariant on the result.
fn run(p: &Program, origins: &[ModuleId]) -> (Layouts, Vec<Diagnostic>) {
    run_on(p, T64, origins)
}

fn run_on(p: &Program, target: Target, origins: &[ModuleId]) -> (Layouts, Vec<Diagnostic>) {
    let origins: BTreeSet<ModuleId> = origins.iter().copied().collect();
    let (layouts, diagnostics) = compute(p, target, &origins);
    check_invariants(p, &layouts, &origins);
    let (again, diagnostics_again) = compute(p, target, &origins);
    for m in p.modules.keys() {
        assert_eq!(
            layouts.of(m),
            again.of(m),
            "layout of {m} is not deterministic"
        );
    }
    assert_eq!(diagnostics, diagnostics_again);
    (layouts, diagnostics)
}

/// Every promise of the module documentation that can be checked on one layout.
fn check_cover(layout: &ModuleLayout) {
    assert!(layout.align >= 1);
    assert!(layout.size <= MAX_OBJECT_SIZE);
    let mut cursor = 0;
    let mut previous_padding = false;
    for slot in &layout.slots {
        assert_eq!(
            slot.offset, cursor,
            "gap or overlap at {slot:?} in {layout:?}"
        );
        let padding = slot.kind == SlotKind::Padding;
        if padding {
            assert!(slot.size > 0, "empty padding in {layout:?}");
            assert!(
                !previous_padding,
                "two padding slots in a row in {layout:?}"
            );
        }
        previous_padding = padding;
        cursor = slot.end();
    }
    assert_eq!(
        cursor, layout.size,
        "slots do not end at the size: {layout:?}"
    );
}

fn check_invariants(p: &Program, layouts: &Layouts, origins: &BTreeSet<ModuleId>) {
    let target = layouts.target();
    for (m, module) in p.modules.iter() {
        let layout = layouts.of(m);
        check_cover(layout);
        // (Not so only after a P0721 on the module's rounding, which tests avoid.)
        assert!(
            layout.size.is_multiple_of(layout.align),
            "size of {m} is not aligned"
        );
        // Each field and dispatch slot at most once, aligned, with its type's size.
        let mut seen = BTreeSet::new();
        for slot in &layout.slots {
            match slot.kind {
                SlotKind::Field(f) => {
                    assert!(seen.insert(slot.kind), "{f} twice");
                    let (size, align) = size_align(p, layouts, p.fields[f].ty);
                    assert_eq!(slot.size, size, "size of {f}");
                    assert!(slot.offset.is_multiple_of(align), "alignment of {f}");
                    assert!(layout.align >= align);
                    assert!(!p.fields[f].is_static, "static field {f} has a slot");
                }
                SlotKind::Dispatch(o) => {
                    assert!(seen.insert(slot.kind), "{o} twice");
                    assert!(origins.contains(&o), "dispatch slot for non-origin {o}");
                    assert!(p.is_subclass(m, o), "{m} has a slot of unrelated {o}");
                    assert_eq!(slot.size, target.pointer_size);
                    assert!(slot.offset.is_multiple_of(target.pointer_align()));
                }
                SlotKind::Padding => {}
            }
        }
        // Every ancestor origin has its slot.
        for &o in origins {
            if no_parent_cycle(p, m) && p.modules.get(o).is_some() && p.is_subclass(m, o) {
                assert!(layout.dispatch_offset(o).is_some(), "{m} lacks slot of {o}");
            }
        }
        // The parent's layout is a prefix: same non-padding slots, at least as big.
        if let Some(parent) = module.parent {
            let pl = layouts.of(parent);
            if pl.slots.is_empty() && pl.size == 0 {
                continue;
            }
            assert!(layout.size >= pl.size);
            assert!(layout.align >= pl.align);
            for slot in pl.slots.iter().filter(|s| s.kind != SlotKind::Padding) {
                assert!(layout.slots.contains(slot), "{m} lost {slot:?} of {parent}");
            }
            // The child's slots within the parent's padding are new members or padding.
            for slot in &layout.slots {
                if slot.offset < pl.size && slot.kind != SlotKind::Padding {
                    let inherited = pl.slots.contains(slot);
                    let new = match slot.kind {
                        SlotKind::Field(f) => module.fields.contains(&f),
                        SlotKind::Dispatch(o) => o == m,
                        SlotKind::Padding => false,
                    };
                    assert!(
                        inherited || new,
                        "{m}: {slot:?} is neither new nor inherited"
                    );
                }
            }
        }
    }
}

fn no_parent_cycle(p: &Program, m: ModuleId) -> bool {
    let mut seen = BTreeSet::new();
    let mut cur = Some(m);
    while let Some(id) = cur {
        if !seen.insert(id) {
            return false;
        }
        cur = p.modules.get(id).and_then(|module| module.parent);
    }
    true
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<Code> {
    diagnostics.iter().map(|d| d.code).collect()
}

fn slot(offset: u64, size: u64, kind: SlotKind) -> Slot {
    Slot { offset, size, kind }
}

fn pad(offset: u64, size: u64) -> Slot {
    slot(offset, size, SlotKind::Padding)
}

fn fld(offset: u64, size: u64, f: FieldId) -> Slot {
    slot(offset, size, SlotKind::Field(f))
}

#[test]
fn scalar_sizes_and_alignments() {
    let mut b = Builder::default();
    let void = b.ty(TypeKind::Void);
    let never = b.ty(TypeKind::Never);
    let boolean = b.ty(TypeKind::Bool);
    let seq = b.seqint();
    let c = b.int(IntWidth::W8, true);
    let s = b.int(IntWidth::W16, true);
    let i = b.int(IntWidth::W32, true);
    let l = b.int(IntWidth::W64, true);
    let ul = b.ulong();
    let ptr = b.ty(TypeKind::Ptr(void));
    let p = b.p;
    let (layouts, diagnostics) = run(&p, &[]);
    assert!(diagnostics.is_empty());
    let sa = |t| size_align(&p, &layouts, t);
    assert_eq!(sa(void), (0, 1));
    assert_eq!(sa(never), (0, 1));
    assert_eq!(sa(boolean), (1, 1));
    assert_eq!(sa(seq), (4, 4));
    assert_eq!(sa(c), (1, 1));
    assert_eq!(sa(s), (2, 2));
    assert_eq!(sa(i), (4, 4));
    assert_eq!(sa(l), (8, 8));
    assert_eq!(sa(ul), (8, 8));
    assert_eq!(sa(ptr), (8, 8));
    let (layouts32, _) = run_on(&p, Target { pointer_size: 4 }, &[]);
    assert_eq!(size_align(&p, &layouts32, ptr), (4, 4));
    assert_eq!(
        Target::host().pointer_size,
        std::mem::size_of::<usize>() as u64
    );
}

#[test]
fn bool_and_seqint_fields_take_one_and_four_bytes() {
    let mut b = Builder::default();
    let m = b.module("Flags", None);
    let boolean = b.ty(TypeKind::Bool);
    let seq = b.seqint();
    let x = b.field(m, "x", boolean);
    let y = b.field(m, "y", boolean);
    let s = b.field(m, "s", seq);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    let layout = layouts.of(m);
    assert_eq!(
        layout.slots,
        vec![fld(0, 1, x), fld(1, 1, y), pad(2, 2), fld(4, 4, s)]
    );
    assert_eq!((layout.size, layout.align), (8, 4));
}

#[test]
fn parent_layout_is_a_prefix_of_the_child() {
    let mut b = Builder::default();
    let parent = b.module("Base", None);
    let child = b.module("Base.Child", Some(parent));
    let uint = b.uint();
    let ulong = b.ulong();
    let a = b.field(parent, "a", uint);
    let c = b.field(child, "c", ulong);
    let d = b.field(child, "d", uint);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(layouts.of(parent).slots, vec![fld(0, 4, a)]);
    assert_eq!(
        layouts.of(child).slots,
        vec![fld(0, 4, a), fld(4, 4, d), fld(8, 8, c)]
    );
    assert_eq!(layouts.of(child).size, 16);
    assert_eq!(layouts.field_offset(child, a), Some(0));
    assert_eq!(layouts.field_offset(parent, c), None);
}

#[test]
fn child_field_fills_a_hole_in_the_parent() {
    let mut b = Builder::default();
    let parent = b.module("P", None);
    let child = b.module("C", Some(parent));
    let uchar = b.uchar();
    let uint = b.uint();
    let a = b.field(parent, "a", uchar);
    let bf = b.field(parent, "b", uint);
    let c = b.field(child, "c", uchar);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(
        layouts.of(parent).slots,
        vec![fld(0, 1, a), pad(1, 3), fld(4, 4, bf)]
    );
    assert_eq!(
        layouts.of(child).slots,
        vec![fld(0, 1, a), fld(1, 1, c), pad(2, 2), fld(4, 4, bf)]
    );
    assert_eq!(layouts.of(child).size, 8);
}

#[test]
fn child_uses_the_parents_tail_padding() {
    let mut b = Builder::default();
    let parent = b.module("P", None);
    let child = b.module("C", Some(parent));
    let uchar = b.uchar();
    let uint = b.uint();
    let ushort = b.ushort();
    let a = b.field(parent, "a", uint);
    let bf = b.field(parent, "b", uchar);
    let c = b.field(child, "c", ushort);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(layouts.of(parent).size, 8);
    assert_eq!(
        layouts.of(child).slots,
        vec![fld(0, 4, a), fld(4, 1, bf), pad(5, 1), fld(6, 2, c)]
    );
    assert_eq!(layouts.of(child).size, 8);
}

#[test]
fn ping_header_pins_with_padding() {
    let mut b = Builder::default();
    let m = b.module("Ping-Packet", None);
    let uchar = b.uchar();
    let ushort = b.ushort();
    let seq = b.seqint();
    let kind = b.pinned(m, "kind", uchar, 0);
    let flags = b.pinned(m, "flags", uchar, 1);
    let length = b.pinned(m, "length", ushort, 2);
    let s = b.pinned(m, "seq", seq, 8);
    b.add_field(m, "request", uchar, None, true);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let layout = layouts.of(m);
    assert_eq!(
        layout.slots,
        vec![
            fld(0, 1, kind),
            fld(1, 1, flags),
            fld(2, 2, length),
            pad(4, 4),
            fld(8, 4, s)
        ]
    );
    assert_eq!((layout.size, layout.align), (12, 4));
}

#[test]
fn unpinned_fields_fill_holes_left_by_pins() {
    let mut b = Builder::default();
    let m = b.module("M", None);
    let uchar = b.uchar();
    let uint = b.uint();
    let x = b.field(m, "x", uint);
    let p = b.pinned(m, "p", uchar, 2);
    let y = b.field(m, "y", uchar);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(
        layouts.of(m).slots,
        vec![
            fld(0, 1, y),
            pad(1, 1),
            fld(2, 1, p),
            pad(3, 1),
            fld(4, 4, x)
        ]
    );
}

#[test]
fn misaligned_pin_is_p0714_and_the_field_is_placed_anyway() {
    let mut b = Builder::default();
    let m = b.module("M", None);
    let seq = b.seqint();
    let uchar = b.uchar();
    let a = b.pinned(m, "a", uchar, 0);
    let s = b.pinned(m, "seq", seq, 6);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert_eq!(codes(&diagnostics), vec![P0714]);
    let d = &diagnostics[0];
    assert_eq!(d.primary.span, b.p.fields[s].span);
    assert!(d.message.contains("`seq`"), "{}", d.message);
    assert!(d.primary.message.contains("`seqint` has alignment 4"));
    assert_eq!(
        d.help.as_deref(),
        Some("pin it at offset 4 or 8, or remove `@ 6`")
    );
    assert_eq!(layouts.field_offset(m, a), Some(0));
    assert_eq!(layouts.field_offset(m, s), Some(4));
}

#[test]
fn overlapping_pins_are_p0715() {
    let mut b = Builder::default();
    let m = b.module("M", None);
    let uchar = b.uchar();
    let ushort = b.ushort();
    let kind = b.pinned(m, "kind", uchar, 1);
    let length = b.pinned(m, "length", ushort, 0);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert_eq!(codes(&diagnostics), vec![P0715]);
    let d = &diagnostics[0];
    assert_eq!(d.primary.span, b.p.fields[length].span);
    assert_eq!(d.message, "pinned field `length` overlaps field `kind`");
    assert_eq!(d.secondary.len(), 1);
    assert_eq!(d.secondary[0].span, b.p.fields[kind].span);
    assert_eq!(d.secondary[0].message, "`kind` occupies byte 1");
    assert_eq!(layouts.field_offset(m, kind), Some(1));
    assert_eq!(layouts.field_offset(m, length), Some(2));
}

#[test]
fn pin_over_an_inherited_field_is_p0715() {
    let mut b = Builder::default();
    let parent = b.module("Base", None);
    let child = b.module("Sub", Some(parent));
    let uint = b.uint();
    let uchar = b.uchar();
    let a = b.field(parent, "a", uint);
    let x = b.pinned(child, "x", uchar, 3);
    let ok = b.pinned(child, "ok", uchar, 4);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert_eq!(codes(&diagnostics), vec![P0715]);
    let d = &diagnostics[0];
    assert_eq!(d.primary.span, b.p.fields[x].span);
    assert_eq!(
        d.message,
        "pinned field `x` overlaps field `a` inherited from `Base`"
    );
    assert_eq!(d.secondary[0].span, b.p.fields[a].span);
    assert_eq!(layouts.field_offset(child, ok), Some(4));
    assert_eq!(layouts.field_offset(child, x), Some(5));
}

#[test]
fn pin_inside_inherited_padding_is_fine() {
    let mut b = Builder::default();
    let parent = b.module("P", None);
    let child = b.module("C", Some(parent));
    let uchar = b.uchar();
    let uint = b.uint();
    let a = b.field(parent, "a", uchar);
    let bf = b.field(parent, "b", uint);
    let c = b.pinned(child, "c", uchar, 2);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(
        layouts.of(child).slots,
        vec![
            fld(0, 1, a),
            pad(1, 1),
            fld(2, 1, c),
            pad(3, 1),
            fld(4, 4, bf)
        ]
    );
}

#[test]
fn pin_over_a_dispatch_slot_is_p0716() {
    let mut b = Builder::default();
    let base = b.module("Base", None);
    let header = b.module("Header", Some(base));
    let uchar = b.uchar();
    let kind = b.pinned(header, "kind", uchar, 0);
    let (layouts, diagnostics) = run(&b.p, &[base]);
    assert_eq!(codes(&diagnostics), vec![P0716]);
    let d = &diagnostics[0];
    assert_eq!(d.primary.span, b.p.fields[kind].span);
    assert_eq!(
        d.message,
        "pinned field `kind` overlaps the dispatch-table pointer of `Base`"
    );
    assert_eq!(d.secondary[0].span, b.p.modules[base].span);
    assert_eq!(layouts.dispatch_offset(header, base), Some(0));
    assert_eq!(layouts.field_offset(header, kind), Some(8));
    // Without dynamic dispatch on Base, the same pin is fine.
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(layouts.field_offset(header, kind), Some(0));
    assert_eq!(layouts.of(header).size, 1);
}

#[test]
fn dispatch_slot_only_when_the_origin_is_in_the_set() {
    let mut b = Builder::default();
    let m = b.module("Window", None);
    let other = b.module("Other", None);
    let uint = b.uint();
    let left = b.field(m, "left", uint);
    let (layouts, _) = run(&b.p, &[]);
    assert_eq!(layouts.of(m).slots, vec![fld(0, 4, left)]);
    assert_eq!(layouts.dispatch_offset(m, m), None);
    let (layouts, diagnostics) = run(&b.p, &[m]);
    assert!(diagnostics.is_empty());
    assert_eq!(
        layouts.of(m).slots,
        vec![
            slot(0, 8, SlotKind::Dispatch(m)),
            fld(8, 4, left),
            pad(12, 4)
        ]
    );
    assert_eq!((layouts.of(m).size, layouts.of(m).align), (16, 8));
    assert_eq!(layouts.of(other), &ModuleLayout::default());
    // With 4-byte pointers the slot is 4 bytes.
    let (layouts, _) = run_on(&b.p, Target { pointer_size: 4 }, &[m]);
    assert_eq!(
        layouts.of(m).slots,
        vec![slot(0, 4, SlotKind::Dispatch(m)), fld(4, 4, left)]
    );
}

#[test]
fn dispatch_slot_goes_to_the_lowest_free_place_after_pins() {
    let mut b = Builder::default();
    let m = b.module("M", None);
    let uint = b.uint();
    let uchar = b.uchar();
    let p = b.pinned(m, "p", uint, 0);
    let x = b.field(m, "x", uchar);
    let (layouts, diagnostics) = run(&b.p, &[m]);
    assert!(diagnostics.is_empty());
    assert_eq!(
        layouts.of(m).slots,
        vec![
            fld(0, 4, p),
            fld(4, 1, x),
            pad(5, 3),
            slot(8, 8, SlotKind::Dispatch(m))
        ]
    );
}

#[test]
fn descendants_of_an_origin_inherit_its_dispatch_slot() {
    let mut b = Builder::default();
    let base = b.module("Base", None);
    let mid = b.module("Mid", Some(base));
    let leaf = b.module("Leaf", Some(mid));
    let uchar = b.uchar();
    let a = b.field(base, "a", uchar);
    let m1 = b.field(mid, "m", uchar);
    let l1 = b.field(leaf, "l", uchar);
    let (layouts, diagnostics) = run(&b.p, &[base, mid]);
    assert!(diagnostics.is_empty());
    let base_slots = vec![
        slot(0, 8, SlotKind::Dispatch(base)),
        fld(8, 1, a),
        pad(9, 7),
    ];
    assert_eq!(layouts.of(base).slots, base_slots);
    assert_eq!(
        layouts.of(mid).slots,
        vec![
            slot(0, 8, SlotKind::Dispatch(base)),
            fld(8, 1, a),
            fld(9, 1, m1),
            pad(10, 6),
            slot(16, 8, SlotKind::Dispatch(mid)),
        ]
    );
    assert_eq!(layouts.dispatch_offset(leaf, base), Some(0));
    assert_eq!(layouts.dispatch_offset(leaf, mid), Some(16));
    assert_eq!(layouts.field_offset(leaf, l1), Some(10));
    assert_eq!(layouts.of(leaf).size, 24);
}

#[test]
fn embedded_module_values() {
    let mut b = Builder::default();
    let outer = b.module("Outer", None);
    let inner = b.module("Inner", None);
    let uchar = b.uchar();
    let uint = b.uint();
    let ushort = b.ushort();
    b.field(inner, "x", uint);
    b.field(inner, "y", uchar);
    let inner_ty = b.module_ty(inner);
    let tag = b.field(outer, "tag", uchar);
    let stats = b.field(outer, "stats", inner_ty);
    let more = b.field(outer, "more", ushort);
    let pair_ty = b.array(inner_ty, 2);
    let pair = b.field(outer, "pair", pair_ty);
    let (layouts, diagnostics) = run(&b.p, &[inner]);
    assert!(diagnostics.is_empty());
    assert_eq!((layouts.of(inner).size, layouts.of(inner).align), (16, 8));
    assert_eq!(size_align(&b.p, &layouts, inner_ty), (16, 8));
    assert_eq!(size_align(&b.p, &layouts, pair_ty), (32, 8));
    assert_eq!(
        layouts.of(outer).slots,
        vec![
            fld(0, 1, tag),
            pad(1, 1),
            fld(2, 2, more),
            pad(4, 4),
            fld(8, 16, stats),
            fld(24, 32, pair)
        ]
    );
    assert_eq!((layouts.of(outer).size, layouts.of(outer).align), (56, 8));
}

#[test]
fn modules_may_come_in_any_id_order() {
    let mut b = Builder::default();
    // The child and the container have lower ids than what they depend on.
    let holder = b.module("Holder", None);
    let child = b.module("Child", None);
    let parent = b.module("Parent", None);
    b.p.modules[child].parent = Some(parent);
    let uint = b.uint();
    let uchar = b.uchar();
    let a = b.field(parent, "a", uint);
    let c = b.field(child, "c", uchar);
    let child_ty = b.module_ty(child);
    let h = b.field(holder, "h", child_ty);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(
        layouts.of(child).slots,
        vec![fld(0, 4, a), fld(4, 1, c), pad(5, 3)]
    );
    assert_eq!(layouts.of(holder).slots, vec![fld(0, 8, h)]);
}

#[test]
fn arrays_including_empty_ones() {
    let mut b = Builder::default();
    let m = b.module("Frame", None);
    let uchar = b.uchar();
    let uint = b.uint();
    let void = b.ty(TypeKind::Void);
    let ptr = b.ty(TypeKind::Ptr(void));
    let quad = b.array(uint, 4);
    let grid = b.array(quad, 2);
    let ptrs = b.array(ptr, 3);
    let tail_ty = b.array(uchar, 0);
    let len = b.field(m, "len", uchar);
    let tail = b.field(m, "data", tail_ty);
    let g = b.field(m, "grid", grid);
    let p = b.field(m, "ptrs", ptrs);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(size_align(&b.p, &layouts, quad), (16, 4));
    assert_eq!(size_align(&b.p, &layouts, grid), (32, 4));
    assert_eq!(size_align(&b.p, &layouts, ptrs), (24, 8));
    assert_eq!(size_align(&b.p, &layouts, tail_ty), (0, 1));
    assert_eq!(
        layouts.of(m).slots,
        vec![
            fld(0, 1, len),
            fld(1, 0, tail),
            pad(1, 3),
            fld(4, 32, g),
            pad(36, 4),
            fld(40, 24, p)
        ]
    );
    // Everything zero-sized: an empty object.
    let mut b = Builder::default();
    let m = b.module("Empty", None);
    let uint = b.uint();
    let none = b.array(uint, 0);
    let nothing = b.field(m, "nothing", none);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(layouts.of(m).slots, vec![fld(0, 0, nothing)]);
    assert_eq!((layouts.of(m).size, layouts.of(m).align), (0, 4));
}

#[test]
fn a_zero_sized_tail_goes_after_the_fields_before_it() {
    let mut b = Builder::default();
    let parent = b.module("Header", None);
    let child = b.module("Packet", Some(parent));
    let uint = b.uint();
    let uchar = b.uchar();
    let tail_ty = b.array(uchar, 0);
    let len = b.field(parent, "len", uint);
    let tail = b.field(child, "payload", tail_ty);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(
        layouts.of(child).slots,
        vec![fld(0, 4, len), fld(4, 0, tail)]
    );
    assert_eq!(layouts.of(child).size, 4);
}

#[test]
fn a_pinned_zero_sized_field_may_not_start_inside_another() {
    let mut b = Builder::default();
    let m = b.module("M", None);
    let uint = b.uint();
    let uchar = b.uchar();
    let tail_ty = b.array(uchar, 0);
    b.pinned(m, "a", uint, 0);
    let inside = b.pinned(m, "inside", tail_ty, 2);
    let after = b.pinned(m, "after", tail_ty, 16);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert_eq!(codes(&diagnostics), vec![P0715]);
    assert_eq!(diagnostics[0].primary.span, b.p.fields[inside].span);
    assert_eq!(layouts.field_offset(m, after), Some(16));
    assert_eq!(layouts.field_offset(m, inside), Some(16));
    assert_eq!(layouts.of(m).size, 16);
}

#[test]
fn static_fields_take_no_space() {
    let mut b = Builder::default();
    let m = b.module("M", None);
    let ulong = b.ulong();
    let uchar = b.uchar();
    let big = b.array(ulong, 1000);
    let s = b.add_field(m, "table", big, None, true);
    let t = b.add_field(m, "pinned-static", ulong, Some(3), true);
    let x = b.field(m, "x", uchar);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(layouts.of(m).slots, vec![fld(0, 1, x)]);
    assert_eq!(layouts.field_offset(m, s), None);
    assert_eq!(layouts.field_offset(m, t), None);
}

#[test]
fn a_module_containing_itself_is_p0720() {
    let mut b = Builder::default();
    let m = b.module("Loop", None);
    let uchar = b.uchar();
    let own = b.module_ty(m);
    let x = b.field(m, "x", uchar);
    let me = b.field(m, "me", own);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert_eq!(codes(&diagnostics), vec![P0720]);
    let d = &diagnostics[0];
    assert_eq!(d.primary.span, b.p.fields[me].span);
    assert_eq!(d.message, "module `Loop` contains itself");
    assert_eq!(
        d.help.as_deref(),
        Some("embed a pointer instead: declare `me` with type `*Loop`")
    );
    assert_eq!(layouts.of(m).slots, vec![fld(0, 1, x)]);
    // Pointers to itself are fine.
    let mut b = Builder::default();
    let m = b.module("List", None);
    let own = b.module_ty(m);
    let ptr = b.ty(TypeKind::Ptr(own));
    let next = b.field(m, "next", ptr);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(layouts.of(m).slots, vec![fld(0, 8, next)]);
}

#[test]
fn indirect_self_containment_is_one_p0720() {
    let mut b = Builder::default();
    let a = b.module("A", None);
    let bm = b.module("B", None);
    let c = b.module("C", Some(bm));
    let a_ty = b.module_ty(a);
    let c_ty = b.module_ty(c);
    let c_arr = b.array(c_ty, 0);
    let a_has_c = b.field(a, "cs", c_arr);
    let b_has_a = b.field(bm, "a", a_ty);
    let (_, diagnostics) = run(&b.p, &[]);
    assert_eq!(codes(&diagnostics), vec![P0720]);
    let d = &diagnostics[0];
    assert_eq!(d.primary.span, b.p.fields[b_has_a].span);
    assert_eq!(d.message, "module `B` contains itself");
    let secondary: Vec<Span> = d.secondary.iter().map(|l| l.span).collect();
    assert!(secondary.contains(&b.p.fields[a_has_c].span));
    assert!(secondary.contains(&b.p.modules[c].span));
    assert_eq!(
        d.notes[0],
        "the cycle: `A` embeds `C` by value (field `cs`), `C` inherits from `B`, `B` \
         embeds `A` by value (field `a`)"
    );
}

#[test]
fn a_cycle_of_parents_does_not_hang() {
    let mut b = Builder::default();
    let x = b.module("X", None);
    let y = b.module("Y", Some(x));
    b.p.modules[x].parent = Some(y);
    let uchar = b.uchar();
    b.field(x, "a", uchar);
    b.field(y, "b", uchar);
    let origins: BTreeSet<ModuleId> = [x].into_iter().collect();
    let (layouts, diagnostics) = compute(&b.p, T64, &origins);
    assert_eq!(codes(&diagnostics), vec![P0720]);
    for m in [x, y] {
        check_cover(layouts.of(m));
    }
}

#[test]
fn huge_types_are_p0721_without_panicking() {
    let mut b = Builder::default();
    let m = b.module("Huge", None);
    let uchar = b.uchar();
    let ulong = b.ulong();
    let giant = b.array(ulong, u64::MAX);
    let squared = b.array(giant, u64::MAX);
    let empty_of_giants = b.array(squared, 0);
    let just_over = b.array(uchar, MAX_OBJECT_SIZE + 1);
    let exactly = b.array(uchar, MAX_OBJECT_SIZE);
    let g = b.field(m, "g", giant);
    b.field(m, "s", squared);
    let e = b.field(m, "e", empty_of_giants);
    b.field(m, "over", just_over);
    let far = b.pinned(m, "far", uchar, u64::MAX);
    let x = b.field(m, "x", uchar);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert_eq!(codes(&diagnostics), vec![P0721, P0721, P0721, P0721]);
    assert_eq!(diagnostics[0].primary.span, b.p.fields[g].span);
    assert_eq!(diagnostics[3].primary.span, b.p.fields[far].span);
    assert_eq!(layouts.field_offset(m, g), None);
    assert_eq!(layouts.field_offset(m, e), Some(0));
    assert_eq!(layouts.field_offset(m, far), Some(0));
    assert_eq!(layouts.field_offset(m, x), Some(1));
    assert_eq!(checked_size_align(&b.p, &layouts, giant), None);
    assert_eq!(size_align(&b.p, &layouts, giant), (u64::MAX, 8));
    assert_eq!(
        checked_size_align(&b.p, &layouts, empty_of_giants),
        Some((0, 8))
    );
    assert_eq!(
        checked_size_align(&b.p, &layouts, exactly),
        Some((MAX_OBJECT_SIZE, 1))
    );

    // A 4 GiB object is allowed; one more byte is not.
    let mut b = Builder::default();
    let m = b.module("Big", None);
    let uchar = b.uchar();
    let exactly = b.array(uchar, MAX_OBJECT_SIZE);
    b.field(m, "all", exactly);
    let one_more = b.field(m, "one-more", uchar);
    let (layouts, diagnostics) = run(&b.p, &[]);
    assert_eq!(codes(&diagnostics), vec![P0721]);
    assert_eq!(diagnostics[0].primary.span, b.p.fields[one_more].span);
    assert_eq!(layouts.of(m).size, MAX_OBJECT_SIZE);
}

#[test]
fn malformed_ir_does_not_panic() {
    let mut b = Builder::default();
    let m = b.module("M", None);
    // A cyclic array type, a type id out of range, a parent out of range, a module type
    // out of range, a field id out of range, an origin out of range.
    let cyclic = b.ty(TypeKind::Array(TypeId::new(1), 2));
    let cyclic2 = b.ty(TypeKind::Array(TypeId::new(0), 2));
    assert_eq!(cyclic2, TypeId::new(1));
    b.field(m, "cyclic", cyclic);
    b.field(m, "unknown", TypeId::new(99));
    let ghost = b.ty(TypeKind::Module(ModuleId::new(42)));
    b.field(m, "ghost", ghost);
    b.p.modules[m].fields.push(FieldId::new(1000));
    b.p.modules[m].parent = Some(ModuleId::new(7));
    let origins: BTreeSet<ModuleId> = [ModuleId::new(42), m].into_iter().collect();
    let (layouts, diagnostics) = compute(&b.p, Target { pointer_size: 0 }, &origins);
    check_cover(layouts.of(m));
    assert_eq!(codes(&diagnostics), vec![P0721]);
    let _ = size_align(&b.p, &layouts, TypeId::new(12345));
    let _ = layouts.of(ModuleId::new(77));
}

/// A tiny deterministic generator (xorshift64*), so the randomised test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn random_programs_keep_every_invariant() {
    for seed in 1..300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut b = Builder::default();
        let n = 1 + rng.below(8) as usize;
        let modules: Vec<ModuleId> = (0..n).map(|i| b.module(&format!("M{i}"), None)).collect();
        // A random rank order: a module may inherit from or embed only lower-ranked ones,
        // except for an occasional deliberate cycle.
        let mut rank: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            rank.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let by_rank = |r: usize| modules[rank.iter().position(|&x| x == r).unwrap_or(0)];
        let scalars = [
            b.uchar(),
            b.ushort(),
            b.uint(),
            b.ulong(),
            b.seqint(),
            b.ty(TypeKind::Bool),
        ];
        for (i, &m) in modules.iter().enumerate() {
            if rank[i] > 0 && rng.below(2) == 0 {
                b.p.modules[m].parent = Some(by_rank(rng.below(rank[i] as u64) as usize));
            }
            for k in 0..rng.below(6) {
                let mut ty = scalars[rng.below(scalars.len() as u64) as usize];
                match rng.below(8) {
                    0 if rank[i] > 0 || rng.below(20) == 0 => {
                        let r = if rank[i] > 0 {
                            rng.below(rank[i] as u64)
                        } else {
                            0
                        };
                        ty = b.module_ty(by_rank(r as usize));
                    }
                    1 => ty = b.array(ty, rng.below(4)),
                    2 => ty = b.ty(TypeKind::Ptr(ty)),
                    _ => {}
                }
                let pinned = (rng.below(3) == 0).then(|| rng.below(24));
                let is_static = rng.below(8) == 0;
                b.add_field(m, &format!("f{k}"), ty, pinned, is_static);
            }
        }
        let origins: Vec<ModuleId> = modules
            .iter()
            .copied()
            .filter(|_| rng.below(4) == 0)
            .collect();
        let (layouts, diagnostics) = run(&b.p, &origins);
        // A pin without a diagnostic at its field is honoured.
        for (f, field) in b.p.fields.iter() {
            if let Some(offset) = field.pinned
                && !field.is_static
                && !diagnostics.iter().any(|d| d.primary.span == field.span)
            {
                assert_eq!(
                    layouts.field_offset(field.owner, f),
                    Some(offset),
                    "seed {seed}: pin of {f} not honoured"
                );
            }
        }
    }
}
