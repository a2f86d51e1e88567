//! The record model: categories, canonical schemas (the Log Analytics tables), the canonical record, its
//! binary encoding, decoders from the three wire shapes, and field lookup. Pure: opens no files or sockets.
pub mod category;
pub mod codec;
pub mod columns;
pub mod limits;
pub mod normalize;
pub mod quarantine;
pub mod record;
pub mod schema;

pub use category::{Category, Family, Requirement};
pub use normalize::{
    DecodeContext, DecodeError, DecodeStream, Format, decode_record, decode_stream, detect_format,
};
pub use quarantine::{Position, Rejected};
pub use record::{FieldLookup, Record, Shape, Value, format_micros};
pub use schema::{ColumnType, TableSchema, schema};
/// Credentials: `Debug` redacts, no `Display`; read with `expose_secret()`.
pub use secrecy::{ExposeSecret, SecretString};
