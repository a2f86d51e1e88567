//! Reading a compiled plan's targets from a canonical record, borrowing column values; paths into
//! dynamic (and JSON-text) columns are followed by scanning the text (`jsonpath`), without a tree.

use super::jsonpath;
use crate::mapping::Target;
use crate::plan::matcher::Scalar;
use model::Value;
use model::codec::ValueRef;
use model::columns::Columns;
use std::cell::RefCell;

/// No value for a column in [`Cols::Sparse`].
pub(crate) const NO_SLOT: u16 = u16::MAX;

/// A record's column values, as the engine reads them: an owned record's values, values borrowed
/// from one encoded log entry (one contiguous buffer, `model::codec::decode_ref`), reached through a
/// per-column slot table, or one row of a column-wise batch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cols<'r> {
    /// `Record::values`, aligned with the schema.
    Owned(&'r [Value]),
    /// `slot[column]` is the position of the column's value in `values`, or [`NO_SLOT`].
    Sparse {
        /// Per schema column.
        slot: &'r [u16],
        /// The values read.
        values: &'r [ValueRef<'r>],
    },
    /// Row `row` of a column-wise batch ([`model::columns::Columns`]).
    Columnar {
        /// The batch.
        batch: &'r Columns,
        /// The row.
        row: usize,
    },
}

impl<'r> Cols<'r> {
    /// The value of `column`, `None` when absent (out of range or, sparse, not read).
    #[inline]
    pub(crate) fn get(self, column: usize) -> Option<ValueRef<'r>> {
        match self {
            Cols::Owned(v) => v.get(column).map(ValueRef::from),
            Cols::Sparse { slot, values } => {
                let s = *slot.get(column)?;
                values.get(usize::from(s)).copied()
            }
            Cols::Columnar { batch, row } => batch.get(row, column),
        }
    }

    /// The text of `column` when it holds text.
    #[inline]
    pub(crate) fn text(self, column: usize) -> Option<&'r str> {
        match self.get(column)? {
            ValueRef::String(s) | ValueRef::Dynamic(s) => Some(s),
            _ => None,
        }
    }
}

/// Per-record state: the record's columns, and the top-level members of its JSON-object columns, found
/// once per column and shared by every rule that reads a path there.
pub(crate) struct Ctx<'r> {
    pub(crate) cols: Cols<'r>,
    pub(crate) members: &'r RefCell<Members>,
}

/// Member spans of the JSON columns read so far for the current record.
#[derive(Debug, Default)]
pub(crate) struct Members {
    /// (column, first span, span count); count `u32::MAX` = not an object.
    columns: Vec<(usize, u32, u32)>,
    spans: Vec<[u32; 4]>,
}

impl Members {
    /// Forgets the previous record.
    pub(crate) fn clear(&mut self) {
        self.columns.clear();
        self.spans.clear();
    }

    /// The spans of `column`'s members (scanning `text` the first time), or `None` if not an object.
    fn of(&mut self, column: usize, text: &str) -> Option<(usize, usize)> {
        let (first, n) = match self.columns.iter().find(|(c, _, _)| *c == column) {
            Some((_, first, n)) => (*first, *n),
            None => {
                let first = self.spans.len() as u32;
                let n = if jsonpath::members(text, &mut self.spans) {
                    self.spans.len() as u32 - first
                } else {
                    u32::MAX
                };
                self.columns.push((column, first, n));
                (first, n)
            }
        };
        (n != u32::MAX).then_some((first as usize, n as usize))
    }
}

impl Ctx<'_> {
    /// Calls `f` on every value of `t`; stops and returns `true` as soon as `f` does.
    pub(crate) fn any_value(&self, t: &Target, f: &mut dyn FnMut(Scalar<'_>) -> bool) -> bool {
        let Some(v) = self.cols.get(t.column) else {
            return false;
        };
        if t.outcome {
            let s = match v {
                ValueRef::String("") => return false,
                ValueRef::String(s) => {
                    if s.trim() == "0" || s.eq_ignore_ascii_case("success") {
                        "success"
                    } else {
                        "failure"
                    }
                }
                ValueRef::Int(0) => "success",
                ValueRef::Int(_) => "failure",
                _ => return false,
            };
            return f(Scalar::Str(s));
        }
        if t.path.is_empty() {
            return match v {
                ValueRef::Null => false,
                ValueRef::String(s) | ValueRef::Dynamic(s) => f(Scalar::Str(s)),
                ValueRef::Bool(b) => f(Scalar::Bool(b)),
                ValueRef::Int(i) => f(Scalar::Int(i)),
                ValueRef::Real(r) => f(Scalar::Real(r)),
                ValueRef::DateTime(d) => f(Scalar::Time(d)),
            };
        }
        let (ValueRef::String(text) | ValueRef::Dynamic(text)) = v else {
            return false;
        };
        let Some((step, rest)) = t.path.split_first() else {
            return false;
        };
        if step.key.is_empty() || !text.trim_start().starts_with('{') {
            return jsonpath::walk(text, &t.path, f);
        }
        let mut hits: [(u32, u32); 4] = [(0, 0); 4];
        let mut n = 0;
        {
            let mut m = self.members.borrow_mut();
            let Some((first, count)) = m.of(t.column, text) else {
                return jsonpath::walk(text, &t.path, f);
            };
            for sp in &m.spans[first..first + count] {
                let end = sp[1] & !jsonpath::ESCAPED;
                let key = text.get(sp[0] as usize..end as usize).unwrap_or_default();
                if jsonpath::key_is(key, sp[1] & jsonpath::ESCAPED != 0, &step.key)
                    && n < hits.len()
                {
                    hits[n] = (sp[2], sp[3]);
                    n += 1;
                }
            }
        }
        hits[..n].iter().any(|(vs, ve)| {
            text.get(*vs as usize..*ve as usize)
                .is_some_and(|value| jsonpath::walk_member(value, step, rest, f))
        })
    }

    /// Whether `t` has any value.
    pub(crate) fn has_value(&self, t: &Target) -> bool {
        self.any_value(t, &mut |_| true)
    }
}
