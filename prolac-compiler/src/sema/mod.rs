//! Semantic analysis: from the syntax trees of a whole program to the IR.
//!
//! The analysis is staged over the whole program, so that definitions may appear in any order
//! and in any file (§3.1):
//!
//! 1. [`collect`] walks the files in reading order (includes expanded where they appear),
//!    builds the file-level scopes (namespaces, compositions and their layer instances),
//!    creates a module for every module definition (layer modules once per composition), and
//!    records equations, exports and support blocks.
//! 2. [`modules`] resolves module headers (parents, imports, equations), checks inheritance,
//!    and builds each module's *original* namespace and *default view* on demand, parents
//!    first; [`views`] applies module operators.
//! 3. [`members`] gives fields and methods their types, synthesises constructors, and checks
//!    overriding.
//! 4. [`body`] checks every method body and lowers it to IR; [`implicit`] finds implicit
//!    methods; [`consts`] folds symbolic constants.
//! 5. [`exceptions`] computes exception sets to a fixed point; [`exports`] resolves export
//!    lists.
//!
//! Results that depend on each other (a module's default view needs its parent's; a constant
//! needs another constant) are computed lazily with memoisation and an in-progress marker, so
//! cycles become diagnostics instead of loops.

mod body;
mod collect;
mod consts;
mod define;
mod exceptions;
mod exports;
mod implicit;
mod members;
mod modules;
pub(crate) mod names;
mod types;
mod views;

use std::collections::{BTreeMap, BTreeSet};

use cranelift_entity::{PrimaryMap, SecondaryMap, entity_impl};
use prolac_syntax::ast;
use prolac_syntax::{Diagnostic, Span};

use crate::Options;
use crate::ir::{self, ExceptionId, FieldId, MethodId, ModuleId, SelectorId, TypeId};
use crate::load;
use names::{Names, Sym};

/// A file-level scope: the file namespace, a file-level namespace, a composition, or one
/// layer's instance inside a composition.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ScopeId(u32);
entity_impl!(ScopeId, "scope");

/// A namespace of members (a module's namespace, or a namespace inside one).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NsId(u32);
entity_impl!(NsId, "ns");

/// A view of a module: the module seen through module operators.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ViewId(u32);
entity_impl!(ViewId, "view");

/// A module equation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EqId(u32);
entity_impl!(EqId, "eq");

/// What a name denotes in a file-level scope.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ScopeEntry {
    /// A nested scope (file-level namespace, composition, layer instance).
    Scope(ScopeId),
    /// A module definition.
    Module(ModuleId),
    /// A module equation.
    Equation(EqId),
}

/// A file-level scope.
#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) entries: BTreeMap<Sym, (ScopeEntry, Span)>,
    pub(crate) parent: Option<ScopeId>,
    /// The full name (empty for the file namespace).
    pub(crate) path: String,
    /// Where a global name `.X` starts its search from inside this scope.
    pub(crate) global: ScopeId,
}

/// A module equation's source and resolution state.
#[derive(Clone)]
pub(crate) struct EqDef<'a> {
    pub(crate) ast: &'a ast::ModuleEq,
    pub(crate) scope: ScopeId,
    pub(crate) state: State<ViewId>,
}

/// The state of a lazily computed result.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) enum State<T> {
    /// Not computed yet.
    #[default]
    Todo,
    /// Being computed (seeing this again means a cycle).
    Busy,
    /// Computed.
    Done(T),
    /// Failed (a diagnostic was reported).
    Failed,
}

/// A member of a module namespace.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Member {
    /// A dynamic or static field.
    Field(FieldId),
    /// A static method (also extern methods and symbolic constants).
    Static(MethodId),
    /// A dynamic method, by selector.
    Dynamic(SelectorId),
    /// The module's constructor.
    Constructor,
    /// An exception.
    Exception(ExceptionId),
    /// A nested namespace.
    Namespace(NsId),
    /// A module name (header names and inner modules).
    Module(ViewId),
}

/// A named member with where it comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Entry {
    pub(crate) member: Member,
    /// The module that first defined the name (§6.4).
    pub(crate) origin: ModuleId,
    /// An implicit forwarder (§8.6): in the original namespace only.
    pub(crate) forwarder: bool,
    /// Where the name was defined.
    pub(crate) span: Span,
}

/// A namespace of members.
#[derive(Clone, Debug, Default)]
pub(crate) struct Namespace {
    pub(crate) entries: BTreeMap<Sym, Entry>,
}

/// Which names a view admits for implicit search (§8.5).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct Using {
    pub(crate) all: bool,
    pub(crate) all_static: bool,
    pub(crate) added: BTreeSet<Sym>,
    pub(crate) removed: BTreeSet<Sym>,
}

impl Using {
    pub(crate) fn admits(&self, name: Sym, is_static: bool) -> bool {
        !self.removed.contains(&name)
            && (self.all || self.added.contains(&name) || (self.all_static && is_static))
    }

    pub(crate) fn clear(&mut self) {
        *self = Using::default();
    }
}

/// The identity of a method for inline preferences: dynamic methods by selector (all
/// definitions), static ones by definition.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) enum FeatureKey {
    Selector(SelectorId),
    Method(MethodId),
}

/// A view of a module.
#[derive(Clone, Debug)]
pub(crate) struct View {
    pub(crate) module: ModuleId,
    /// The names visible through the view.
    pub(crate) ns: NsId,
    pub(crate) using: Using,
    /// The last using/notusing that took effect was `notusing all` (§8.3).
    pub(crate) closed: bool,
    /// Whether this view's own operators (not its base's) set `closed`, and to what.
    pub(crate) own_closing: Option<bool>,
    /// Names an operator failed to introduce (already reported; uses are not reported again).
    pub(crate) failed: Vec<Sym>,
    /// Inline preferences set through this view.
    pub(crate) inline: BTreeMap<FeatureKey, u8>,
    /// A canonical description, for telling views apart (§9.5) and for messages.
    pub(crate) key: String,
}

/// The resolved header of a module.
#[derive(Clone, Debug, Default)]
pub(crate) struct Header {
    /// The parent and the view its entry gives of it.
    pub(crate) parent: Option<(ModuleId, ViewId, Span)>,
    /// Ancestors listed again with operators (NEW, §4.2).
    pub(crate) relisted: Vec<(ModuleId, ViewId)>,
    /// Import entries: local name, view, span.
    pub(crate) imports: Vec<(Sym, ViewId, Span)>,
    /// An entry failed to resolve (already reported), or the module inherits from itself.
    pub(crate) incomplete: bool,
    /// The names of entries that failed to resolve: later uses are not reported again.
    pub(crate) unresolved: Vec<Sym>,
}

/// What the analysis knows about one module.
#[derive(Clone)]
pub(crate) struct ModInfo<'a> {
    pub(crate) ast: Option<&'a ast::ModuleDef>,
    /// The scope its header names resolve in (outwards from here).
    pub(crate) scope: ScopeId,
    /// For a layer refinement: the previous layer's module.
    pub(crate) refines: Option<ModuleId>,
    /// The simple name.
    pub(crate) name: Sym,
    pub(crate) header: State<std::rc::Rc<Header>>,
    pub(crate) original: State<NsId>,
    pub(crate) default: State<ViewId>,
    /// The original view (what its own methods see).
    pub(crate) self_view: Option<ViewId>,
    /// The module's constructor.
    pub(crate) constructor: Option<MethodId>,
    /// Own members defined (methods, fields, exceptions) — filled when the namespace is built.
    pub(crate) members_done: bool,
    /// Defined among another module's definitions (§4.5): its name is inherited.
    pub(crate) inner: bool,
}

/// What the analysis knows about one method beyond the IR.
#[derive(Clone)]
pub(crate) struct MethodSrc<'a> {
    pub(crate) ast: Option<&'a ast::Method>,
    pub(crate) module: ModuleId,
    /// The namespaces enclosing the definition, outermost (the module's original namespace)
    /// first.
    pub(crate) ns_path: Vec<NsId>,
    /// Parameter names.
    pub(crate) param_names: Vec<Sym>,
    /// For a forwarder: how it forwards.
    pub(crate) forward: Option<implicit::Forward>,
    /// Signature resolved.
    pub(crate) typed: State<()>,
    /// Body checked.
    pub(crate) checked: bool,
    /// A symbolic constant's value, once folded.
    pub(crate) constant: State<Option<(ir::Const, TypeId)>>,
}

/// A sema-level type: an IR type, plus, for module values and pointers to modules, the view
/// through which names are looked up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Ty {
    pub(crate) id: TypeId,
    pub(crate) view: Option<ViewId>,
}

/// The whole analysis state.
pub(crate) struct Sema<'a> {
    pub(crate) program: &'a load::Program,
    pub(crate) options: &'a Options,
    pub(crate) names: Names,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) ir: ir::Program,
    pub(crate) scopes: PrimaryMap<ScopeId, Scope>,
    pub(crate) root: ScopeId,
    pub(crate) equations: PrimaryMap<EqId, EqDef<'a>>,
    pub(crate) mods: SecondaryMap<ModuleId, Option<ModInfo<'a>>>,
    pub(crate) namespaces: PrimaryMap<NsId, Namespace>,
    pub(crate) views: PrimaryMap<ViewId, View>,
    pub(crate) methods: SecondaryMap<MethodId, Option<MethodSrc<'a>>>,
    /// Field declarations not yet typed: the AST and the module.
    pub(crate) field_src: SecondaryMap<FieldId, Option<(&'a ast::Field, ModuleId)>>,
    /// Export items with the scope they resolve in.
    pub(crate) export_items: Vec<(&'a ast::ExportRef, ScopeId)>,
    /// Fields whose type is being resolved (cycle guard for array sizes).
    pub(crate) typing_fields: BTreeSet<FieldId>,
    /// How each view is made, by view index.
    pub(crate) view_slots: Vec<views::ViewSlot<'a>>,
    /// Each module's dispatch table under construction: selector to definition.
    pub(crate) vtables: BTreeMap<ModuleId, BTreeMap<SelectorId, MethodId>>,
    /// Field types with their views.
    pub(crate) field_tys: SecondaryMap<FieldId, Option<Ty>>,
    /// Method signatures with their views.
    pub(crate) sigs: SecondaryMap<MethodId, Option<members::Sig>>,
    /// Implicit search results per module and name (`None`: searched, nothing found).
    pub(crate) forwarders: BTreeMap<(ModuleId, Sym), Option<Entry>>,
    /// Implicit searches that already reported an ambiguity (no follow-on P0802).
    pub(crate) ambiguous: std::collections::BTreeSet<(ModuleId, Sym)>,
    /// Modules already reported as inheriting from themselves.
    pub(crate) cyclic: std::collections::BTreeSet<ModuleId>,
    /// Symbolic constants whose folding reported an error (P0713).
    pub(crate) const_errors: std::collections::BTreeSet<MethodId>,
    /// Compositions that left out a layer (P0505): names missing inside them are not reported.
    pub(crate) broken: std::collections::BTreeSet<ScopeId>,
    /// Methods already linted with P0701.
    pub(crate) linted: std::collections::BTreeSet<MethodId>,
    /// Fields whose type was found to depend on itself (reported once).
    pub(crate) cyclic_fields: std::collections::BTreeSet<FieldId>,
}

/// The result of analysing a program.
pub struct Analysis {
    /// The IR of the whole program (before optimisation).
    pub program: ir::Program,
    /// Diagnostics, in reporting order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Analyses a loaded program. Never fails: problems are diagnostics, and the IR holds what
/// could be analysed.
pub fn analyse(program: &load::Program, options: &Options) -> Analysis {
    let mut s = Sema::new(program, options);
    s.collect();
    s.resolve_all_modules();
    s.check_all_bodies();
    s.compute_exceptions();
    s.resolve_exports();
    s.materialize_all_views();
    let mut diagnostics = s.diags;
    prolac_syntax::diagnostic::sort(&mut diagnostics);
    dedup(&mut diagnostics);
    Analysis {
        program: s.ir,
        diagnostics,
    }
}

/// Removes diagnostics reported twice for the same place and message (a member reached
/// through several paths is checked once, but its type may be resolved from two places).
fn dedup(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    diagnostics.retain(|d| {
        seen.insert((
            d.primary.span.file,
            d.primary.span.lo,
            d.primary.span.hi,
            d.code,
            d.message.clone(),
        ))
    });
}

impl<'a> Sema<'a> {
    /// Every module expression written in the program is checked, whether or not a name is
    /// ever looked up through it (§13.1).
    fn materialize_all_views(&mut self) {
        let mut i = 0;
        while i < self.views.len() {
            self.materialize(ViewId::from_u32(i as u32));
            i += 1;
        }
    }

    fn new(program: &'a load::Program, options: &'a Options) -> Sema<'a> {
        let mut scopes = PrimaryMap::new();
        let root = scopes.push(Scope {
            entries: BTreeMap::new(),
            parent: None,
            path: String::new(),
            global: ScopeId::from_u32(0),
        });
        Sema {
            program,
            options,
            names: Names::default(),
            diags: Vec::new(),
            ir: ir::Program::default(),
            scopes,
            root,
            equations: PrimaryMap::new(),
            mods: SecondaryMap::new(),
            namespaces: PrimaryMap::new(),
            views: PrimaryMap::new(),
            methods: SecondaryMap::new(),
            field_src: SecondaryMap::new(),
            export_items: Vec::new(),
            typing_fields: BTreeSet::new(),
            view_slots: Vec::new(),
            vtables: BTreeMap::new(),
            field_tys: SecondaryMap::new(),
            sigs: SecondaryMap::new(),
            forwarders: BTreeMap::new(),
            ambiguous: std::collections::BTreeSet::new(),
            cyclic: std::collections::BTreeSet::new(),
            const_errors: std::collections::BTreeSet::new(),
            broken: std::collections::BTreeSet::new(),
            linted: std::collections::BTreeSet::new(),
            cyclic_fields: std::collections::BTreeSet::new(),
        }
    }

    pub(crate) fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(crate) fn sym(&mut self, id: &ast::Ident) -> Sym {
        self.names.intern(&id.text)
    }

    pub(crate) fn info(&self, m: ModuleId) -> &ModInfo<'a> {
        self.mods[m].as_ref().expect("every module has its info")
    }

    pub(crate) fn info_mut(&mut self, m: ModuleId) -> &mut ModInfo<'a> {
        self.mods[m].as_mut().expect("every module has its info")
    }

    pub(crate) fn src(&self, m: MethodId) -> &MethodSrc<'a> {
        self.methods[m]
            .as_ref()
            .expect("every method has its source")
    }

    pub(crate) fn src_mut(&mut self, m: MethodId) -> &mut MethodSrc<'a> {
        self.methods[m]
            .as_mut()
            .expect("every method has its source")
    }

    /// A module's full name.
    pub(crate) fn module_name(&self, m: ModuleId) -> &str {
        &self.ir.modules[m].name
    }

    /// A new empty namespace.
    pub(crate) fn new_ns(&mut self) -> NsId {
        self.namespaces.push(Namespace::default())
    }

    /// A deep copy of a namespace (nested namespaces copied too).
    pub(crate) fn copy_ns(&mut self, ns: NsId) -> NsId {
        let entries = self.namespaces[ns].entries.clone();
        let mut out = Namespace::default();
        for (k, mut e) in entries {
            if let Member::Namespace(inner) = e.member {
                e.member = Member::Namespace(self.copy_ns(inner));
            }
            out.entries.insert(k, e);
        }
        self.namespaces.push(out)
    }
}
