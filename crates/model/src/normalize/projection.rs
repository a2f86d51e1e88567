//! Column projection: a decode that fills only some canonical columns, for readers that look at a few
//! fields of many records (`entrail hunt`, Sigma evaluation). Building the ~80 columns of a sign-in is most of
//! the decoding cost; a rule set usually reads a dozen.
//!
//! A projected record is the full record with every column outside the projection set to
//! [`Value::Null`](crate::Value::Null): same category, event time, key, shape, source, raw text and schema
//! alignment of `values`. Its `content_hash` is computed as in a full decode when the projection asks for it
//! ([`Projection::with_content_hash`]) or when the key is made from it (a record without an id); otherwise
//! it is 0, which saves building the hashed columns.

use crate::Category;
use crate::schema::schema;

/// Which canonical columns a projected decode fills; see [`decode_stream_projected`](super::decode_stream_projected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// Per category (in [`Category::ALL`] order), per schema column: whether it is filled.
    masks: Vec<Vec<bool>>,
    /// Whether `content_hash` is always computed.
    content_hash: bool,
}

impl Projection {
    /// Fills only the columns named in `columns` (ASCII case ignored), in every category whose schema has
    /// them; names no schema has are ignored. Give column names (`LocationDetails`), not paths inside a
    /// dynamic column (`LocationDetails.city`: pass its column).
    pub fn columns<I, S>(columns: I) -> Projection
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let wanted: Vec<String> = columns
            .into_iter()
            .map(|c| c.as_ref().to_ascii_lowercase())
            .collect();
        let masks = Category::ALL
            .iter()
            .map(|c| {
                schema(*c)
                    .columns
                    .iter()
                    .map(|col| wanted.iter().any(|w| w.eq_ignore_ascii_case(&col.name)))
                    .collect()
            })
            .collect();
        Projection {
            masks,
            content_hash: false,
        }
    }

    /// Also computes every record's `content_hash` exactly as a full decode does (it then builds the hashed
    /// columns too, and drops those outside the projection afterwards).
    #[must_use]
    pub fn with_content_hash(mut self) -> Projection {
        self.content_hash = true;
        self
    }

    /// Whether `content_hash` is always computed.
    pub fn keeps_content_hash(&self) -> bool {
        self.content_hash
    }

    /// Whether column `name` of `category` is filled (ASCII case ignored).
    pub fn fills(&self, category: Category, name: &str) -> bool {
        schema(category)
            .index_of(name)
            .is_some_and(|i| self.mask(category).get(i).copied().unwrap_or(false))
    }

    /// Per schema column of `category`: whether it is filled.
    pub(crate) fn mask(&self, category: Category) -> &[bool] {
        Category::ALL
            .iter()
            .position(|c| *c == category)
            .and_then(|i| self.masks.get(i))
            .map_or(&[], Vec::as_slice)
    }
}
