//! Field mapping: which canonical columns a Sigma field name means, per logsource. The tables are data
//! files (`data/mappings/<service>.toml`, embedded at build time); their header comment documents the
//! target syntax. Resolution happens once, at compile time: a field becomes a list of [`Target`]s (column
//! index + JSON path) for one category.

use model::{Category, ColumnType, schema};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

const FILES: &[(&str, &str)] = &[
    (
        "activitylogs",
        include_str!("../../data/mappings/activitylogs.toml"),
    ),
    (
        "auditlogs",
        include_str!("../../data/mappings/auditlogs.toml"),
    ),
    (
        "graphactivitylogs",
        include_str!("../../data/mappings/graphactivitylogs.toml"),
    ),
    (
        "networkaccess",
        include_str!("../../data/mappings/networkaccess.toml"),
    ),
    ("pim", include_str!("../../data/mappings/pim.toml")),
    (
        "provisioninglogs",
        include_str!("../../data/mappings/provisioninglogs.toml"),
    ),
    (
        "riskdetection",
        include_str!("../../data/mappings/riskdetection.toml"),
    ),
    (
        "riskyusers",
        include_str!("../../data/mappings/riskyusers.toml"),
    ),
    (
        "signinlogs",
        include_str!("../../data/mappings/signinlogs.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    product: String,
    service: String,
    categories: Vec<String>,
    #[serde(default)]
    fields: HashMap<String, Vec<String>>,
}

/// One logsource's mapping: its categories and field aliases (keys lower-cased).
#[derive(Debug, Clone)]
pub struct Mapping {
    /// `product`.
    pub product: String,
    /// `service`.
    pub service: String,
    /// Categories the logsource covers, in preference order.
    pub categories: Vec<Category>,
    fields: HashMap<String, Vec<String>>,
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Object key, lower-cased (matched ignoring ASCII case).
    pub key: String,
    /// Keep only array elements whose `.0` key equals `.1` (ignoring case).
    pub filter: Option<(String, String)>,
}

/// Where a field's value is read from in a canonical record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Column index in the category's schema.
    pub column: usize,
    /// Column name (for messages and test generators).
    pub column_name: String,
    /// Column type.
    pub ty: ColumnType,
    /// JSON path inside the column (empty: the column itself).
    pub path: Vec<Step>,
    /// `@outcome:`: the value is read as success / failure.
    pub outcome: bool,
}

/// Why a mapping file is wrong (only the unit tests see this: the files are embedded).
#[derive(Debug, thiserror::Error)]
#[error("mapping {file}: {message}")]
pub struct MappingError {
    file: String,
    message: String,
}

/// Every embedded mapping.
pub fn mappings() -> &'static [Mapping] {
    static ALL: OnceLock<Vec<Mapping>> = OnceLock::new();
    ALL.get_or_init(|| FILES.iter().filter_map(|(n, t)| parse(n, t).ok()).collect())
}

/// Parses one mapping file.
pub fn parse(name: &str, text: &str) -> Result<Mapping, MappingError> {
    let err = |message: String| MappingError {
        file: name.to_owned(),
        message,
    };
    let raw: RawMapping = toml::from_str(text).map_err(|e| err(e.to_string()))?;
    let categories = raw
        .categories
        .iter()
        .map(|c| Category::from_name(c).ok_or_else(|| err(format!("unknown category {c}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Mapping {
        product: raw.product.to_ascii_lowercase(),
        service: raw.service.to_ascii_lowercase(),
        categories,
        fields: raw
            .fields
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
    })
}

/// The mapping of a logsource, if we have one. A service named like a category (`AuditLogs`,
/// `AADNonInteractiveUserSignInLogs`) gets that category with the default resolution.
pub fn for_logsource(product: Option<&str>, service: Option<&str>) -> Option<Mapping> {
    let product = product.unwrap_or("azure");
    let service = service?;
    if let Some(m) = mappings()
        .iter()
        .find(|m| m.product == product && m.service == service)
    {
        return Some(m.clone());
    }
    let cat = Category::from_name(service)?;
    Some(Mapping {
        product: product.to_owned(),
        service: service.to_owned(),
        categories: vec![cat],
        fields: HashMap::new(),
    })
}

impl Mapping {
    /// The targets of `field` in `category`, or `None` when the field means nothing there.
    pub fn resolve(&self, field: &str, category: Category) -> Option<Vec<Target>> {
        if let Some(spec) = self.fields.get(&field.to_ascii_lowercase()) {
            let targets: Vec<Target> = spec
                .iter()
                .filter_map(|s| parse_target(s, category))
                .collect();
            return (!targets.is_empty()).then_some(targets);
        }
        default_target(field, category).map(|t| vec![t])
    }

    /// Every alias spec, for the tests that check each names a real column.
    pub fn alias_specs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .flat_map(|(k, v)| v.iter().map(move |s| (k.as_str(), s.as_str())))
    }
}

/// Parses a target spec (`Column/path[key=value]/leaf`, `@outcome:Column`) for a category.
pub fn parse_target(spec: &str, category: Category) -> Option<Target> {
    let (outcome, spec) = match spec.strip_prefix("@outcome:") {
        Some(rest) => (true, rest),
        None => (false, spec),
    };
    let mut parts = split_steps(spec).into_iter();
    let first = parts.next()?;
    let s = schema(category);
    let column = s.index_of(&first.key)?;
    let col = s.column(column)?;
    Some(Target {
        column,
        column_name: col.name.clone(),
        ty: col.ty,
        path: parts.collect(),
        outcome,
    })
    .map(|mut t| {
        if let Some(f) = first.filter {
            // `Column[key=value]/leaf`: the filter applies to the column's own array.
            t.path.insert(
                0,
                Step {
                    key: String::new(),
                    filter: Some(f),
                },
            );
        }
        t
    })
}

/// Splits `a/b[k=v]/c` into steps (keys lower-cased).
fn split_steps(spec: &str) -> Vec<Step> {
    spec.split('/')
        .filter(|s| !s.is_empty())
        .map(|seg| match seg.split_once('[') {
            Some((key, rest)) => {
                let inner = rest.trim_end_matches(']');
                let filter = inner
                    .split_once('=')
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()));
                Step {
                    key: key.to_ascii_lowercase(),
                    filter,
                }
            }
            None => Step {
                key: seg.to_ascii_lowercase(),
                filter: None,
            },
        })
        .collect()
}

/// Default resolution: drop a `properties.` prefix, then a column of that name, then `Column.json.path`.
fn default_target(field: &str, category: Category) -> Option<Target> {
    let s = schema(category);
    let mut name = field;
    if let Some(rest) = strip_prefix_ci(name, "properties.")
        && s.index_of(name).is_none()
    {
        name = rest;
    }
    if let Some(i) = s.index_of(name) {
        let col = s.column(i)?;
        return Some(Target {
            column: i,
            column_name: col.name.clone(),
            ty: col.ty,
            path: Vec::new(),
            outcome: false,
        });
    }
    let (first, rest) = name.split_once('.')?;
    let i = s.index_of(first)?;
    let col = s.column(i)?;
    if !matches!(col.ty, ColumnType::Dynamic | ColumnType::String) {
        return None;
    }
    Some(Target {
        column: i,
        column_name: col.name.clone(),
        ty: col.ty,
        path: rest
            .split('.')
            .map(|k| Step {
                key: k.to_ascii_lowercase(),
                filter: None,
            })
            .collect(),
        outcome: false,
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_and_every_alias_names_a_column() {
        assert_eq!(mappings().len(), FILES.len());
        for (name, text) in FILES {
            let m = parse(name, text).unwrap();
            assert_eq!(&m.service, name);
            for (field, spec) in m.alias_specs() {
                assert!(
                    m.categories
                        .iter()
                        .any(|c| parse_target(spec, *c).is_some()),
                    "{name}: {field} -> {spec} names no column of {:?}",
                    m.categories
                );
            }
        }
    }

    #[test]
    fn resolves_aliases_envelope_paths_and_json_paths() {
        let m = for_logsource(Some("azure"), Some("signinlogs")).unwrap();
        let c = Category::SignInLogs;
        assert_eq!(
            m.resolve("resulttype", c).unwrap()[0].column_name,
            "ResultType"
        );
        assert_eq!(
            m.resolve("ClientApp", c).unwrap()[0].column_name,
            "ClientAppUsed"
        );
        let dd = &m.resolve("DeviceDetail.trusttype", c).unwrap()[0];
        assert_eq!(dd.column_name, "DeviceDetail");
        assert_eq!(dd.path[0].key, "trusttype");
        assert_eq!(
            m.resolve("properties.userAgent", c).unwrap()[0].column_name,
            "UserAgent"
        );
        assert!(m.resolve("TargetUserName", c).is_none());
        let status = m.resolve("Status", c).unwrap();
        assert!(status[0].outcome);
        let a = for_logsource(Some("azure"), Some("auditlogs")).unwrap();
        let t = &a
            .resolve("ConsentContext.IsAdminConsent", Category::AuditLogs)
            .unwrap()[0];
        assert_eq!(t.column_name, "TargetResources");
        assert_eq!(
            t.path[0].filter,
            Some(("displayname".into(), "ConsentContext.IsAdminConsent".into()))
        );
        let k = &a
            .resolve("additionalDetails.additionalInfo", Category::AuditLogs)
            .unwrap()[0];
        assert_eq!(
            k.path[0].filter,
            Some(("key".into(), "additionalInfo".into()))
        );
        assert_eq!(k.path[1].key, "value");
        assert_eq!(
            for_logsource(Some("azure"), Some("AuditLogs"))
                .unwrap()
                .categories,
            [Category::AuditLogs]
        );
        assert!(for_logsource(Some("azure"), Some("nope")).is_none());
    }
}
