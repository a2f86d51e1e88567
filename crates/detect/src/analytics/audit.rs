//! Reading directory audits whatever shape they came in: `InitiatedBy` and `TargetResources` are JSON (or
//! JSON text inside a JSON string, as some Log Analytics exports have them), and `modifiedProperties`
//! values are plain or JSON-encoded strings (`"[\"value\"]"`).

use super::text;
use model::Record;
use serde_json::Value as Json;

/// Who did it.
#[derive(Debug, Default)]
pub(super) struct Initiator {
    /// The user's UPN, lower-cased.
    pub(super) user: Option<String>,
    /// The user's object id, lower-cased.
    pub(super) user_id: Option<String>,
    /// The address the user acted from.
    pub(super) ip: Option<String>,
    /// The application's display name.
    pub(super) app: Option<String>,
    /// Whether the user's directory roles are listed.
    pub(super) has_roles: bool,
}

/// A target of the action.
#[derive(Debug, Default)]
pub(super) struct Target {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) kind: String,
    /// UPN, lower-cased.
    pub(super) upn: Option<String>,
    /// Modified properties: (name, old value, new value), values decoded to plain text.
    pub(super) props: Vec<(String, String, String)>,
}

impl Target {
    /// The new and old value of a property (name compared ignoring case).
    pub(super) fn prop(&self, name: &str) -> Option<(&str, &str)> {
        self.props
            .iter()
            .find(|p| p.0.eq_ignore_ascii_case(name))
            .map(|p| (p.1.as_str(), p.2.as_str()))
    }
}

/// A JSON column, decoding JSON text inside a string once more.
pub(super) fn json(r: &Record, column: &str) -> Option<Json> {
    let v: Json = serde_json::from_str(text(r, column)?).ok()?;
    match v {
        Json::String(s) => serde_json::from_str(&s).ok(),
        other => Some(other),
    }
}

fn str_of<'j>(v: &'j Json, key: &str) -> Option<&'j str> {
    let found = v
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))?;
    found.1.as_str().filter(|s| !s.is_empty() && *s != "<null>")
}

fn get<'j>(v: &'j Json, key: &str) -> Option<&'j Json> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

/// `InitiatedBy`.
pub(super) fn initiator(r: &Record) -> Initiator {
    let Some(v) = json(r, "InitiatedBy") else {
        return Initiator::default();
    };
    let user = get(&v, "user");
    let app = get(&v, "app");
    Initiator {
        user: user
            .and_then(|u| str_of(u, "userPrincipalName"))
            .map(str::to_ascii_lowercase),
        user_id: user
            .and_then(|u| str_of(u, "id"))
            .map(str::to_ascii_lowercase),
        ip: user.and_then(|u| str_of(u, "ipAddress")).map(str::to_owned),
        app: app
            .and_then(|a| str_of(a, "displayName"))
            .map(str::to_owned),
        has_roles: user
            .and_then(|u| get(u, "roles"))
            .and_then(Json::as_array)
            .is_some_and(|a| !a.is_empty()),
    }
}

/// A modified-property value as plain text: JSON strings are decoded (once or twice), arrays of one
/// string unwrapped, anything else rendered.
fn plain(v: Option<&Json>) -> String {
    let Some(v) = v else {
        return String::new();
    };
    match v {
        Json::Null => String::new(),
        Json::String(s) => match serde_json::from_str::<Json>(s) {
            Ok(Json::String(inner)) => inner,
            Ok(Json::Array(a)) if a.len() == 1 && a[0].is_string() => {
                a[0].as_str().unwrap_or_default().to_owned()
            }
            _ => s.clone(),
        },
        Json::Array(a) if a.len() == 1 && a[0].is_string() => {
            a[0].as_str().unwrap_or_default().to_owned()
        }
        other => other.to_string(),
    }
}

/// `TargetResources`.
pub(super) fn targets(r: &Record) -> Vec<Target> {
    let Some(Json::Array(items)) = json(r, "TargetResources") else {
        return Vec::new();
    };
    items
        .iter()
        .map(|t| Target {
            id: str_of(t, "id").unwrap_or_default().to_ascii_lowercase(),
            name: str_of(t, "displayName").unwrap_or_default().to_owned(),
            kind: str_of(t, "type").unwrap_or_default().to_owned(),
            upn: str_of(t, "userPrincipalName").map(str::to_ascii_lowercase),
            props: get(t, "modifiedProperties")
                .and_then(Json::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            (
                                str_of(p, "displayName").unwrap_or_default().to_owned(),
                                plain(get(p, "oldValue")),
                                plain(get(p, "newValue")),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// The activity name, trimmed and lower-cased (`OperationName`, else `ActivityDisplayName`); the
/// "Update application – Certificates and secrets management" family keeps its dash.
pub(super) fn activity(r: &Record) -> String {
    text(r, "OperationName")
        .or_else(|| text(r, "ActivityDisplayName"))
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

/// Whether the audit says the action failed.
pub(super) fn failed(r: &Record) -> bool {
    text(r, "Result").is_some_and(|s| {
        let s = s.trim();
        s.eq_ignore_ascii_case("failure") || s.eq_ignore_ascii_case("failed") || s == "1"
    })
}

/// Key identifiers in a `KeyDescription` value (`[KeyIdentifier=…,KeyType=…]`, one or more).
pub(super) fn key_ids(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(i) = rest.find("KeyIdentifier=") {
        rest = &rest[i + "KeyIdentifier=".len()..];
        let end = rest.find([',', ']', '"', '\\']).unwrap_or(rest.len());
        out.push(rest[..end].to_ascii_lowercase());
        rest = &rest[end..];
    }
    out
}

/// Words of a permission list (`Scope: Mail.ReadWrite openid`, `["Directory.ReadWrite.All"]`), lower-cased.
pub(super) fn permission_words(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Text with JSON escapes and spaces removed, lower-cased, for looking for `"state":"disabled"`.
pub(super) fn squeezed(v: &str) -> String {
    v.chars()
        .filter(|c| *c != '\\' && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}
