//! Canonical schemas: one table per category, with the Log Analytics column names and types
//! (`data/schemas/la_table_schemas.json`), or derived ones where Log Analytics has no table in that file
//! (`data/schemas/derived_tables.json`, each entry saying what it was derived from).
//!
//! Every table also carries entrail's meta columns ([`META_COLUMNS`]), filled from the [`crate::Record`] itself.

use crate::Category;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The Log Analytics column types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// UTF-8 text.
    String,
    /// true/false.
    Bool,
    /// 32-bit integer.
    Int,
    /// 64-bit integer.
    Long,
    /// 64-bit float.
    Real,
    /// UTC timestamp, microsecond precision.
    DateTime,
    /// Nested JSON, kept as compact JSON text.
    Dynamic,
}

impl ColumnType {
    /// Parses a Log Analytics type name (`string`, `bool`, `int`, `long`, `real`, `datetime`, `dynamic`, `guid`).
    pub fn parse(name: &str) -> Option<ColumnType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "string" | "guid" => ColumnType::String,
            "bool" | "boolean" => ColumnType::Bool,
            "int" => ColumnType::Int,
            "long" => ColumnType::Long,
            "real" | "double" => ColumnType::Real,
            "datetime" => ColumnType::DateTime,
            "dynamic" => ColumnType::Dynamic,
            _ => return None,
        })
    }

    /// The Log Analytics name of the type.
    pub const fn as_str(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Bool => "bool",
            ColumnType::Int => "int",
            ColumnType::Long => "long",
            ColumnType::Real => "real",
            ColumnType::DateTime => "datetime",
            ColumnType::Dynamic => "dynamic",
        }
    }
}

/// One column of a canonical table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name, as in Log Analytics (`UserPrincipalName`).
    pub name: String,
    /// Column type.
    pub ty: ColumnType,
}

/// The canonical table of one category: data columns, in a fixed order that [`crate::Record::values`] follows.
#[derive(Debug, Clone)]
pub struct TableSchema {
    /// Table name (`SigninLogs`).
    pub table: &'static str,
    /// Data columns (meta columns not included).
    pub columns: Vec<Column>,
    /// Where the schema comes from: `log-analytics` or the derivation note.
    pub origin: String,
    by_lower_name: HashMap<String, usize>,
}

impl TableSchema {
    fn new(table: &'static str, columns: Vec<Column>, origin: String) -> TableSchema {
        let by_lower_name = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.to_ascii_lowercase(), i))
            .collect();
        TableSchema {
            table,
            columns,
            origin,
            by_lower_name,
        }
    }

    /// Index of a column by name, ignoring ASCII case.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.columns.iter().position(|c| c.name == name) {
            return Some(i);
        }
        self.by_lower_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// The column at `index`.
    pub fn column(&self, index: usize) -> Option<&Column> {
        self.columns.get(index)
    }
}

/// A meta column that every canonical table has, filled from the record's own fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaColumn {
    /// Column name.
    pub name: &'static str,
    /// Column type.
    pub ty: ColumnType,
    /// What it holds.
    pub doc: &'static str,
}

/// The meta columns, appended after the data columns in the archive and in queries.
pub const META_COLUMNS: &[MetaColumn] = &[
    MetaColumn {
        name: "_EventTime",
        ty: ColumnType::DateTime,
        doc: "event time (the category's time field)",
    },
    MetaColumn {
        name: "_IngestTime",
        ty: ColumnType::DateTime,
        doc: "when entrail accepted the record",
    },
    MetaColumn {
        name: "_Key",
        ty: ColumnType::String,
        doc: "dedupe key: the category's id, or a content hash",
    },
    MetaColumn {
        name: "_Revision",
        ty: ColumnType::Int,
        doc: "0 for the first content under a key, then 1, 2, ...",
    },
    MetaColumn {
        name: "_Source",
        ty: ColumnType::String,
        doc: "name of the source that delivered the record",
    },
    MetaColumn {
        name: "_Shape",
        ty: ColumnType::String,
        doc: "wire shape: graph, diagnostic or log_analytics",
    },
    MetaColumn {
        name: "_Raw",
        ty: ColumnType::String,
        doc: "the record as received (JSON)",
    },
];

const LA_TABLES: &str = include_str!("../../../data/schemas/la_table_schemas.json");
const DERIVED_TABLES: &str = include_str!("../../../data/schemas/derived_tables.json");

/// The canonical schema of `category`.
pub fn schema(category: Category) -> &'static TableSchema {
    static SCHEMAS: OnceLock<Vec<TableSchema>> = OnceLock::new();
    let all = SCHEMAS.get_or_init(|| Category::ALL.iter().map(|c| load(c.table())).collect());
    let index = Category::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or(0);
    &all[index]
}

/// Builds one table's schema from the embedded files. A table missing from both yields no data columns,
/// which the unit tests reject, so this cannot ship.
fn load(table: &'static str) -> TableSchema {
    let la: serde_json::Value = serde_json::from_str(LA_TABLES).unwrap_or_default();
    let derived: serde_json::Value = serde_json::from_str(DERIVED_TABLES).unwrap_or_default();
    if let Some(cols) = la
        .get(table.to_ascii_lowercase())
        .and_then(|v| v.as_array())
    {
        let columns = cols
            .iter()
            .filter_map(|c| {
                let name = c.get("name")?.as_str()?;
                let ty = ColumnType::parse(c.get("type")?.as_str()?)?;
                Some(Column {
                    name: name.to_owned(),
                    ty,
                })
            })
            .collect();
        return TableSchema::new(table, sorted(columns), "log-analytics".to_owned());
    }
    let Some(entry) = derived.get(table) else {
        return TableSchema::new(table, Vec::new(), "missing".to_owned());
    };
    let origin = entry
        .get("derived_from")
        .and_then(|v| v.as_str())
        .unwrap_or("derived")
        .to_owned();
    let mut columns: Vec<Column> = match entry.get("like").and_then(|v| v.as_str()) {
        Some(like) => {
            let like = Category::ALL
                .iter()
                .find(|c| c.table() == like)
                .map(|c| load(c.table()).columns);
            like.unwrap_or_default()
        }
        None => Vec::new(),
    };
    for c in entry
        .get("columns")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(ty)) = (
            c.get(0).and_then(|v| v.as_str()),
            c.get(1)
                .and_then(|v| v.as_str())
                .and_then(ColumnType::parse),
        ) else {
            continue;
        };
        if !columns.iter().any(|x| x.name == name) {
            columns.push(Column {
                name: name.to_owned(),
                ty,
            });
        }
    }
    TableSchema::new(table, sorted(columns), origin)
}

/// Columns in a stable order: `TimeGenerated` first, then by name. The source file's order is arbitrary.
fn sorted(mut columns: Vec<Column>) -> Vec<Column> {
    columns.sort_by(|a, b| {
        (a.name != "TimeGenerated", a.name.to_ascii_lowercase())
            .cmp(&(b.name != "TimeGenerated", b.name.to_ascii_lowercase()))
    });
    columns.dedup_by(|a, b| a.name.eq_ignore_ascii_case(&b.name));
    columns
}

/// The reference page `docs/schema.md`: every category with its table, requirement, id and time fields, and
/// every table's columns. A test keeps the committed page equal to this.
pub fn markdown() -> String {
    use std::fmt::Write;
    let mut s = String::from(
        "# Categories and canonical tables\n\nGenerated from `crates/model/src/category.rs` and `data/schemas/` \
         (`UPDATE_GOLDEN=1 cargo test -p model schema_doc` rewrites it). A table's name is what `entrail query` \
         calls it. The requirement column is seed 001's: required, recommended, or not named.\n\n\
         | category (diagnostic settings) | table | requirement | dedupe id (Graph field) | event time (Graph field) |\n\
         |---|---|---|---|---|\n",
    );
    for c in Category::ALL {
        let id = if c.has_id() {
            c.id_fields().join(", ")
        } else {
            "content hash".to_owned()
        };
        let time = if c.time_fields().is_empty() {
            "envelope `time`".to_owned()
        } else {
            c.time_fields().join(", ")
        };
        let _ = writeln!(
            s,
            "| `{}` | `{}` | {:?} | {id} | {time} |",
            c.name(),
            c.table(),
            c.requirement()
        );
    }
    s.push_str("\nAzure Activity Log categories (`Administrative`, `Security`, `ServiceHealth`, `Alert`, `Recommendation`, \
                `Policy`, `Autoscale`, `ResourceHealth`) all go to `AzureActivity`. Diagnostic categories entrail has no \
                table for go to `AzureDiagnostics` (resource diagnostics) with their `Category` kept.\n\n## Meta columns (every table)\n\n\
                | column | type | meaning |\n|---|---|---|\n");
    for m in META_COLUMNS {
        let _ = writeln!(s, "| `{}` | {} | {} |", m.name, m.ty.as_str(), m.doc);
    }
    s.push_str("| `day` | string | partition column in the archive: UTC day of `_EventTime`, `YYYY-MM-DD` |\n");
    for c in Category::ALL {
        let t = schema(*c);
        let origin = if t.origin == "log-analytics" {
            "Log Analytics table".to_owned()
        } else {
            format!("derived: {}", t.origin)
        };
        let _ = writeln!(
            s,
            "\n## `{}` ({})\n\nSource of the schema: {origin}.\n",
            t.table,
            c.name()
        );
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|col| format!("`{}` {}", col.name, col.ty.as_str()))
            .collect();
        let _ = writeln!(s, "{}", cols.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_a_schema_with_time_generated() {
        for c in Category::ALL {
            let s = schema(*c);
            assert!(
                s.columns.len() >= 10,
                "{} has {} columns ({})",
                s.table,
                s.columns.len(),
                s.origin
            );
            assert_eq!(s.columns[0].name, "TimeGenerated", "{}", s.table);
            assert_eq!(s.columns[0].ty, ColumnType::DateTime);
        }
    }

    #[test]
    fn log_analytics_tables_keep_their_columns_and_types() {
        let s = schema(Category::SignInLogs);
        assert_eq!(s.origin, "log-analytics");
        assert_eq!(s.columns.len(), 77);
        let ty = |n: &str| s.columns[s.index_of(n).unwrap()].ty;
        assert_eq!(ty("CreatedDateTime"), ColumnType::DateTime);
        assert_eq!(ty("Status"), ColumnType::Dynamic);
        assert_eq!(ty("ResultType"), ColumnType::String);
        assert_eq!(ty("DurationMs"), ColumnType::Long);
        let ni = schema(Category::NonInteractiveUserSignInLogs);
        assert_eq!(
            ni.columns[ni.index_of("Status").unwrap()].ty,
            ColumnType::String
        );
        assert_eq!(schema(Category::AuditLogs).columns.len(), 31);
    }

    #[test]
    fn schema_doc_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema.md");
        sim::assert_golden(&path, &markdown());
    }

    #[test]
    fn lookup_ignores_case() {
        let s = schema(Category::AuditLogs);
        assert_eq!(s.index_of("operationname"), s.index_of("OperationName"));
        assert!(s.index_of("NoSuchColumn").is_none());
    }

    #[test]
    fn derived_tables_say_where_they_come_from() {
        let adfs = schema(Category::AdfsSignInLogs);
        assert!(adfs.origin.contains("SigninLogs"));
        assert_eq!(
            adfs.columns.len(),
            schema(Category::SignInLogs).columns.len()
        );
        assert!(schema(Category::NsgFlowLogs).index_of("SrcIp").is_some());
    }
}
