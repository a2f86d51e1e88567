//! The compiled plan: a rule's condition with every detection inlined, each field resolved to canonical
//! columns for one category, every literal lowered once, and an index per category that picks the
//! candidate rules for a record with one lookup per indexed column (and decides the column's equality
//! atoms on the way). Each condition also becomes flat bytecode over the category's atoms (`program`).

pub(crate) mod atoms;
pub(crate) mod compile;
pub(crate) mod encode;
pub(crate) mod index;
pub(crate) mod matcher;
pub(crate) mod optimize;
pub(crate) mod program;
pub(crate) mod values;

use crate::mapping::Target;
use matcher::{Test, TextOp, TextTest};

/// A compiled condition tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// All children hold.
    And(Vec<Node>),
    /// Any child holds.
    Or(Vec<Node>),
    /// At least `n` children hold (`2 of selection_*`).
    AtLeast(usize, Vec<Node>),
    /// Negation.
    Not(Box<Node>),
    /// A constant (an empty `1 of` pattern, a removed branch).
    Const(bool),
    /// A field test.
    Item(Box<ItemPlan>),
}

/// One field test: where to read, what to check.
#[derive(Debug, Clone)]
pub(crate) struct ItemPlan {
    /// Where the value is read (any target may match).
    pub(crate) targets: Vec<Target>,
    /// The check.
    pub(crate) kind: ItemKind,
    /// For targets inside JSON text: needles that must appear in the column's raw text for the test to
    /// pass (set by [`optimize::prefilters`]); the path is not followed when none does.
    pub(crate) prefilter: Option<TextTest>,
    /// One atom id per target (set by [`atoms::Atoms::build`]; empty for `fieldref` items, which are
    /// evaluated directly).
    pub(crate) atoms: Vec<u32>,
}

/// What an item checks.
#[derive(Debug, Clone)]
pub(crate) enum ItemKind {
    /// No target has a value (`field: null`).
    Null,
    /// Some target has a value (`exists: true`) or none has (`exists: false`).
    Exists(bool),
    /// Some value passes the test.
    Test(Test),
    /// Some value equals (or contains, …) some value of another field (`fieldref`).
    FieldRef {
        /// The other field's targets.
        other: Vec<Target>,
        /// Comparison.
        op: TextOp,
        /// Case-sensitive.
        cased: bool,
    },
}
