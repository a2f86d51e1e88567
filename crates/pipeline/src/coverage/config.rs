//! `[coverage]`: where ARM is, whose credentials to use (a Graph source's, or its own), which subscriptions and
//! resources to check, and after how long without a record a category counts as silent.

use crate::config::{ConfigError, SourceConfig};
use model::Category;
use serde::Deserialize;
use sources::arm::{ArmClientConfig, DEFAULT_ARM_ENDPOINT};
use sources::graph::{GraphAuth, GraphSourceConfig};
use std::collections::BTreeMap;
use std::time::Duration;

/// `[coverage]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCoverageConfig {
    /// The Graph source whose tenant, authority and credentials to use (default: the only Graph source).
    pub source: Option<String>,
    /// The tenant, when not taken from a Graph source (then `auth` is required too).
    pub tenant_id: Option<String>,
    /// The token flow, when not taken from a Graph source (same keys as a Graph source's `auth`).
    pub auth: Option<GraphAuth>,
    /// The login host (default: the Graph source's, else `https://login.microsoftonline.com`).
    pub authority_host: Option<String>,
    /// ARM (default `https://management.azure.com`).
    pub arm_endpoint: Option<String>,
    /// Subscriptions whose Activity Log settings to check (default: every subscription the identity sees;
    /// `[]`: none).
    pub subscriptions: Option<Vec<String>>,
    /// Resource ids whose diagnostic settings to check.
    #[serde(default)]
    pub resources: Vec<String>,
    /// A category with no record received for this long is silent (default `24h`; `"off"`: not checked).
    pub silence_after: Option<String>,
    /// Per category (`RiskyUsers = "7d"`, `ADFSSignInLogs = "off"`), overriding `silence_after` and the
    /// built-in defaults for low-volume categories.
    #[serde(default)]
    pub silence: BTreeMap<String, String>,
    /// Name of the Entra diagnostic setting `--fix` creates (default `entrail`).
    pub fix_setting_name: Option<String>,
}

/// Validated `[coverage]`.
#[derive(Debug, Clone)]
pub struct CoverageConfig {
    /// ARM endpoint and credentials.
    pub arm: ArmClientConfig,
    /// Subscriptions to check; `None`: every one visible.
    pub subscriptions: Option<Vec<String>>,
    /// Resources to check.
    pub resources: Vec<String>,
    /// Silence threshold per category (`None`: arrival not checked).
    pub silence: BTreeMap<Category, Option<Duration>>,
    /// Name of the setting `--fix` creates.
    pub fix_setting_name: String,
    /// Categories the configured Graph sources collect.
    pub graph_categories: Vec<Category>,
}

impl CoverageConfig {
    /// The silence threshold of a category (`None`: not checked).
    pub fn silence_after(&self, category: Category) -> Option<Duration> {
        self.silence.get(&category).copied().flatten()
    }
}

/// Categories that can stay empty for days in a healthy tenant: arrival is not checked unless configured.
pub const LOW_VOLUME: &[Category] = &[
    Category::AdfsSignInLogs,
    Category::RiskyUsers,
    Category::UserRiskEvents,
    Category::RiskyServicePrincipals,
    Category::ServicePrincipalRiskEvents,
    Category::RiskyAgents,
    Category::AgentRiskEvents,
    Category::NetworkAccessAlerts,
    Category::RemoteNetworkHealthLogs,
    Category::ProvisioningLogs,
    Category::AzureActivity,
    Category::ResourceDiagnostics,
];

fn threshold(text: &str) -> Result<Option<Duration>, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d >= Duration::from_secs(60) => Ok(Some(d)),
        Ok(_) => Err("must be at least 1m (or \"off\")".to_owned()),
        Err(e) => Err(format!("not a duration ({e}); use e.g. \"24h\" or \"off\"")),
    }
}

/// Validates `[coverage]` against the sources; `None` when there is neither a `[coverage]` table nor a Graph
/// source to borrow credentials from.
pub(crate) fn validate(
    raw: Option<RawCoverageConfig>,
    sources: &[SourceConfig],
    errors: &mut Vec<ConfigError>,
) -> Option<CoverageConfig> {
    let graphs: Vec<&GraphSourceConfig> = sources
        .iter()
        .filter_map(|s| match s {
            SourceConfig::Graph(g) => Some(&**g),
            _ => None,
        })
        .collect();
    let explicit = raw.is_some();
    let raw = raw.unwrap_or_default();
    let mut err = |path: &str, message: String| {
        errors.push(ConfigError {
            path: format!("coverage{}{path}", if path.is_empty() { "" } else { "." }),
            message,
        })
    };
    let own_credentials = raw.tenant_id.is_some() || raw.auth.is_some();
    let credentials = match (&raw.source, &raw.tenant_id, &raw.auth) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            err(
                "source",
                "give either source or tenant_id + auth, not both".into(),
            );
            None
        }
        (Some(id), None, None) => match graphs.iter().find(|g| &g.id == id) {
            Some(g) => Some((*g).clone()),
            None => {
                err("source", format!("{id:?} is not a Graph source"));
                None
            }
        },
        (None, Some(tenant), Some(auth)) => {
            let mut g = GraphSourceConfig::new("coverage", tenant.clone(), auth.clone());
            if let Some(a) = &graphs.first() {
                g.authority_host = a.authority_host.clone();
            }
            Some(g)
        }
        (None, Some(_), None) => {
            err("auth", "required with tenant_id".into());
            None
        }
        (None, None, Some(_)) => {
            err("tenant_id", "required with auth".into());
            None
        }
        (None, None, None) => match graphs.as_slice() {
            [one] => Some((*one).clone()),
            [] if explicit => {
                err(
                    "",
                    "needs credentials: a [[sources]] type = \"graph\" section, or tenant_id and auth here"
                        .into(),
                );
                None
            }
            [] => return None,
            _ => {
                err(
                    "source",
                    "several Graph sources: name the one to use".into(),
                );
                None
            }
        },
    };
    let mut silence = BTreeMap::new();
    let default = match threshold(raw.silence_after.as_deref().unwrap_or("24h")) {
        Ok(d) => d,
        Err(m) => {
            err("silence_after", m);
            None
        }
    };
    for c in Category::ALL {
        silence.insert(
            *c,
            if LOW_VOLUME.contains(c) {
                None
            } else {
                default
            },
        );
    }
    for (name, text) in &raw.silence {
        let path = format!("silence.{name}");
        match (Category::from_name(name), threshold(text)) {
            (Some(c), Ok(d)) => {
                silence.insert(c, d);
            }
            (None, _) => err(&path, format!("unknown category {name:?}")),
            (_, Err(m)) => err(&path, m),
        }
    }
    for (i, r) in raw.resources.iter().enumerate() {
        let lower = r.to_ascii_lowercase();
        if !lower.starts_with("/subscriptions/") || !lower.contains("/providers/") {
            err(
                &format!("resources[{i}]"),
                format!(
                    "{r:?} is not a resource id (/subscriptions/{{id}}/resourceGroups/{{rg}}/providers/...)"
                ),
            );
        }
    }
    for (i, s) in raw.subscriptions.iter().flatten().enumerate() {
        if s.len() != 36 || !s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            err(
                &format!("subscriptions[{i}]"),
                format!("{s:?} is not a subscription GUID"),
            );
        }
    }
    let fix_setting_name = raw.fix_setting_name.unwrap_or_else(|| "entrail".to_owned());
    if fix_setting_name.is_empty()
        || fix_setting_name.len() > 260
        || fix_setting_name.chars().any(|c| "<>*%&:\\?/+#".contains(c))
    {
        err(
            "fix_setting_name",
            format!("{fix_setting_name:?} is not a valid setting name"),
        );
    }
    let mut arm = ArmClientConfig::new(credentials?);
    arm.endpoint = raw
        .arm_endpoint
        .unwrap_or_else(|| DEFAULT_ARM_ENDPOINT.to_owned());
    if let Some(a) = raw.authority_host {
        arm.credentials.authority_host = a;
    }
    if let Err(problems) = arm.validate() {
        for (field, message) in problems {
            // A borrowed Graph source's own problems are reported under its path already.
            if !own_credentials && !matches!(field.as_str(), "endpoint" | "request_timeout") {
                continue;
            }
            let field = if field == "endpoint" {
                "arm_endpoint".to_owned()
            } else {
                field
            };
            err(&field, message);
        }
    }
    let mut graph_categories: Vec<Category> = graphs
        .iter()
        .filter_map(|g| g.validate().ok())
        .flatten()
        .collect();
    graph_categories.sort();
    graph_categories.dedup();
    Some(CoverageConfig {
        graph_categories,
        arm,
        subscriptions: raw.subscriptions,
        resources: raw.resources,
        silence,
        fix_setting_name,
    })
}
