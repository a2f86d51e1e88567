//! The ECS (Elastic Common Schema) mapping per category family, as data: which canonical column (or
//! `Column.path` inside a dynamic column) fills which ECS field, and the `event.*` categorization.
//! `crates/sinks/docs/ecs-mapping.md` documents the same table; keep both in step.

use model::{Category, Family, FieldLookup, Record};
use serde_json::{Map, Value};

/// How `event.outcome` is derived.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// `success` when the first non-empty column is `0`, else `failure` (sign-in `ResultType`).
    ZeroIsSuccess(&'static [&'static str]),
    /// `success` / `failure` from words (`success`, `succeeded`, `failure`, `failed`), else `unknown`.
    Words(&'static [&'static str]),
    /// Not derived (ECS: leave it out).
    None,
}

/// How `event.type` is derived.
#[derive(Debug, Clone, Copy)]
enum Types {
    /// Always these.
    Fixed(&'static [&'static str]),
    /// From the operation name's first word: `Add`/`Create`/`Register` creation, `Delete`/`Remove`
    /// deletion, else change.
    FromOperation,
}

/// The ECS mapping of one group of categories.
#[derive(Debug)]
pub(crate) struct EcsMapping {
    kind: &'static str,
    categories: &'static [&'static str],
    types: Types,
    action: &'static [&'static str],
    outcome: Outcome,
    /// (ECS field, columns tried in order; the first non-empty wins).
    fields: &'static [(&'static str, &'static [&'static str])],
}

const SIGN_IN: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["authentication"],
    types: Types::Fixed(&["start"]),
    action: &["OperationName"],
    outcome: Outcome::ZeroIsSuccess(&["ResultType"]),
    fields: &[
        ("event.id", &["Id"]),
        ("event.code", &["ResultType"]),
        ("event.reason", &["ResultDescription"]),
        (
            "user.name",
            &["UserPrincipalName", "ServicePrincipalName", "Identity"],
        ),
        ("user.id", &["UserId", "ServicePrincipalId"]),
        ("user.full_name", &["UserDisplayName"]),
        ("source.ip", &["IPAddress"]),
        ("source.geo.city_name", &["LocationDetails.city"]),
        ("source.geo.region_name", &["LocationDetails.state"]),
        (
            "source.geo.country_iso_code",
            &["LocationDetails.countryOrRegion", "Location"],
        ),
        ("source.as.number", &["AutonomousSystemNumber"]),
        ("user_agent.original", &["UserAgent"]),
        (
            "cloud.account.id",
            &["AADTenantId", "TenantId", "HomeTenantId"],
        ),
        ("service.name", &["ResourceDisplayName"]),
        ("trace.id", &["CorrelationId"]),
    ],
};

const AUDIT: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["iam"],
    types: Types::FromOperation,
    action: &["OperationName", "ActivityDisplayName"],
    outcome: Outcome::Words(&["Result"]),
    fields: &[
        ("event.id", &["Id"]),
        ("event.reason", &["ResultReason"]),
        (
            "user.name",
            &[
                "InitiatedBy.user.userPrincipalName",
                "InitiatedBy.app.displayName",
            ],
        ),
        (
            "user.id",
            &["InitiatedBy.user.id", "InitiatedBy.app.servicePrincipalId"],
        ),
        ("source.ip", &["InitiatedBy.user.ipAddress"]),
        ("cloud.account.id", &["AADTenantId", "TenantId"]),
        ("service.name", &["LoggedByService"]),
        ("trace.id", &["CorrelationId"]),
    ],
};

const PROVISIONING: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["iam"],
    types: Types::Fixed(&["change"]),
    action: &["ProvisioningAction", "OperationName"],
    outcome: Outcome::Words(&["ProvisioningStatusInfo.status", "ResultType"]),
    fields: &[
        ("event.id", &["Id"]),
        ("user.name", &["InitiatedBy.name", "Identity"]),
        ("user.target.name", &["TargetIdentity.displayName"]),
        ("user.target.id", &["TargetIdentity.id"]),
        ("cloud.account.id", &["AADTenantId", "TenantId"]),
        ("trace.id", &["CorrelationId"]),
    ],
};

const ACTIVITY: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["configuration"],
    types: Types::Fixed(&["change"]),
    action: &["OperationNameValue", "OperationName"],
    outcome: Outcome::Words(&["ActivityStatusValue", "ActivityStatus"]),
    fields: &[
        ("event.id", &["EventDataId"]),
        ("user.name", &["Caller"]),
        ("source.ip", &["CallerIpAddress"]),
        ("cloud.account.id", &["SubscriptionId", "_SubscriptionId"]),
        ("cloud.service.name", &["ResourceProviderValue"]),
        ("trace.id", &["CorrelationId"]),
    ],
};

const RISK_EVENT: EcsMapping = EcsMapping {
    kind: "alert",
    categories: &["intrusion_detection"],
    types: Types::Fixed(&["indicator"]),
    action: &["RiskEventType"],
    outcome: Outcome::None,
    fields: &[
        ("event.id", &["Id"]),
        (
            "user.name",
            &[
                "UserPrincipalName",
                "ServicePrincipalDisplayName",
                "AgentDisplayName",
            ],
        ),
        ("user.id", &["UserId", "ServicePrincipalId", "AgentId"]),
        ("source.ip", &["IpAddress"]),
        ("source.geo.city_name", &["Location.city"]),
        ("source.geo.country_iso_code", &["Location.countryOrRegion"]),
        ("cloud.account.id", &["TenantId"]),
        ("trace.id", &["CorrelationId"]),
    ],
};

const RISK_STATE: EcsMapping = EcsMapping {
    kind: "state",
    categories: &["iam"],
    types: Types::Fixed(&["info"]),
    action: &["OperationName"],
    outcome: Outcome::None,
    fields: &[
        ("user.id", &["Id"]),
        (
            "user.name",
            &["UserPrincipalName", "DisplayName", "AgentDisplayName"],
        ),
        ("cloud.account.id", &["TenantId"]),
    ],
};

const NETWORK: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["network"],
    types: Types::Fixed(&["connection"]),
    action: &["Action", "EventType", "OperationName"],
    outcome: Outcome::None,
    fields: &[
        ("event.id", &["TransactionId", "ConnectionId", "Id"]),
        ("user.name", &["UserPrincipalName"]),
        ("user.id", &["UserId"]),
        ("source.ip", &["SourceIp", "SrcIp"]),
        ("source.port", &["SourcePort", "SrcPort"]),
        ("source.bytes", &["SentBytes", "BytesSrcToDest"]),
        ("destination.ip", &["DestinationIp", "DestIp"]),
        ("destination.port", &["DestinationPort", "DestPort"]),
        ("destination.bytes", &["ReceivedBytes", "BytesDestToSrc"]),
        ("destination.domain", &["DestinationFqdn"]),
        ("url.original", &["DestinationUrl"]),
        ("network.transport", &["TransportProtocol", "L4Protocol"]),
        ("network.direction", &["FlowDirection"]),
        ("rule.name", &["PolicyRuleId", "AclRule"]),
        ("cloud.account.id", &["TenantId"]),
    ],
};

const API: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["web"],
    types: Types::Fixed(&["access"]),
    action: &["RequestMethod"],
    outcome: Outcome::None,
    fields: &[
        ("event.id", &["RequestId"]),
        ("user.id", &["UserId", "ServicePrincipalId"]),
        ("source.ip", &["IPAddress"]),
        ("user_agent.original", &["UserAgent"]),
        ("http.request.method", &["RequestMethod"]),
        ("http.response.status_code", &["ResponseStatusCode"]),
        ("url.original", &["RequestUri"]),
        ("cloud.account.id", &["TenantId", "AadTenantId"]),
    ],
};

const OFFICE: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["web"],
    types: Types::Fixed(&["info"]),
    action: &["Operation"],
    outcome: Outcome::Words(&["ResultStatus"]),
    fields: &[
        ("event.id", &["Id"]),
        ("user.name", &["UserId"]),
        ("source.ip", &["ClientIp", "SourceIp"]),
        ("cloud.account.id", &["OrganizationId", "TenantId"]),
        ("cloud.service.name", &["Workload"]),
    ],
};

const RESOURCE: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["configuration"],
    types: Types::Fixed(&["info"]),
    action: &["OperationName"],
    outcome: Outcome::None,
    fields: &[
        ("event.code", &["ResultType"]),
        ("user.name", &["Identity"]),
        ("source.ip", &["CallerIpAddress"]),
        ("cloud.account.id", &["SubscriptionId", "TenantId"]),
        ("trace.id", &["CorrelationId"]),
    ],
};

const SYSLOG: EcsMapping = EcsMapping {
    kind: "event",
    categories: &["host"],
    types: Types::Fixed(&["info"]),
    action: &["ProcessName"],
    outcome: Outcome::None,
    fields: &[
        ("host.hostname", &["HostName", "Computer"]),
        ("source.ip", &["HostIP"]),
        ("process.name", &["ProcessName"]),
        ("process.pid", &["ProcessID"]),
        ("log.syslog.facility.name", &["Facility"]),
        ("log.syslog.severity.name", &["SeverityLevel"]),
        ("message", &["SyslogMessage"]),
    ],
};

/// The ECS mapping of a category.
pub(crate) fn mapping(category: Category) -> &'static EcsMapping {
    match category.family() {
        Family::SignIn => &SIGN_IN,
        Family::Audit => &AUDIT,
        Family::Provisioning => &PROVISIONING,
        Family::Activity => &ACTIVITY,
        Family::Risk if category.is_state() => &RISK_STATE,
        Family::Risk => &RISK_EVENT,
        Family::NetworkAccess | Family::Flow => &NETWORK,
        Family::GraphActivity => &API,
        Family::Office => &OFFICE,
        Family::Resource => &RESOURCE,
        Family::Syslog => &SYSLOG,
    }
}

/// The text of a column or path (strings as is, other JSON compact), `None` when absent or empty.
fn text(record: &Record, column: &str) -> Option<String> {
    let s = match record.lookup(column)? {
        Value::Null => return None,
        Value::String(s) => s,
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

fn first(record: &Record, columns: &[&str]) -> Option<String> {
    columns.iter().find_map(|c| text(record, c))
}

/// Sets a dotted ECS path in nested objects (an existing non-object on the way is replaced).
fn set(doc: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            doc.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let slot = doc
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(m) = slot {
                set(m, rest, value);
            }
        }
    }
}

/// The typed ECS value of `field` from text: IPs must parse (else the text goes to `*.address`), ports,
/// byte counts and status codes must be integers, geo coordinates numbers.
fn typed(field: &str, s: String) -> Option<(String, Value)> {
    let name = field.rsplit('.').next().unwrap_or(field);
    match name {
        "ip" => match s.trim().parse::<std::net::IpAddr>() {
            Ok(ip) => Some((field.to_owned(), Value::String(ip.to_string()))),
            Err(_) => Some((field.replace(".ip", ".address"), Value::String(s))),
        },
        "port" | "bytes" | "status_code" | "number" | "pid" => s
            .trim()
            .parse::<i64>()
            .ok()
            .map(|n| (field.to_owned(), n.into())),
        _ => Some((field.to_owned(), Value::String(s))),
    }
}

fn event_types(types: Types, action: Option<&str>) -> Vec<&'static str> {
    match types {
        Types::Fixed(t) => t.to_vec(),
        Types::FromOperation => {
            let op = action.map(str::to_ascii_lowercase).unwrap_or_default();
            let word = op.split_whitespace().next().unwrap_or("");
            match word {
                "add" | "create" | "register" | "invite" => vec!["creation"],
                "delete" | "remove" | "hard" => vec!["deletion"],
                _ => vec!["change"],
            }
        }
    }
}

fn outcome(rule: Outcome, record: &Record) -> Option<&'static str> {
    match rule {
        Outcome::None => None,
        Outcome::ZeroIsSuccess(cols) => first(record, cols).map(|v| {
            if v.trim() == "0" {
                "success"
            } else {
                "failure"
            }
        }),
        Outcome::Words(cols) => Some(match first(record, cols).map(|v| v.to_ascii_lowercase()) {
            Some(v) if v.starts_with("succe") => "success",
            Some(v) if v.starts_with("fail") => "failure",
            _ => "unknown",
        }),
    }
}

/// The ECS fields of `record` (no `@timestamp`, no payload): `event.*` (with `event.dataset` = `dataset`),
/// the mapped fields, `cloud.*`, `related.*`.
pub(crate) fn ecs_fields(record: &Record, dataset: &str) -> Map<String, Value> {
    let m = mapping(record.category);
    let mut doc = Map::new();
    let action = first(record, m.action);
    set(&mut doc, "event.kind", m.kind.into());
    set(&mut doc, "event.category", m.categories.to_vec().into());
    set(
        &mut doc,
        "event.type",
        event_types(m.types, action.as_deref()).into(),
    );
    if let Some(o) = outcome(m.outcome, record) {
        set(&mut doc, "event.outcome", o.into());
    }
    set(&mut doc, "event.dataset", dataset.into());
    set(&mut doc, "event.module", "entrail".into());
    set(&mut doc, "event.provider", record.category.table().into());
    set(
        &mut doc,
        "event.ingested",
        model::format_micros(record.ingest_time).into(),
    );
    if let Some(a) = action {
        set(&mut doc, "event.action", a.into());
    }
    let (mut users, mut ips) = (Vec::<Value>::new(), Vec::<Value>::new());
    for (field, columns) in m.fields {
        let Some((field, value)) = first(record, columns).and_then(|s| typed(field, s)) else {
            continue;
        };
        if field.starts_with("user.") && (field.ends_with(".name") || field.ends_with(".id")) {
            if !users.contains(&value) {
                users.push(value.clone());
            }
            if field == "user.name" && value.as_str().is_some_and(|s| s.contains('@')) {
                set(&mut doc, "user.email", value.clone());
            }
        }
        if field.ends_with(".ip") && !ips.contains(&value) {
            ips.push(value.clone());
        }
        set(&mut doc, &field, value);
    }
    if record.category.family() == Family::SignIn {
        let lat = record.lookup("LocationDetails.geoCoordinates.latitude");
        let lon = record.lookup("LocationDetails.geoCoordinates.longitude");
        if let (Some(lat), Some(lon)) = (
            lat.as_ref().and_then(Value::as_f64),
            lon.as_ref().and_then(Value::as_f64),
        ) && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon)
        {
            set(
                &mut doc,
                "source.geo.location",
                serde_json::json!({"lat": lat, "lon": lon}),
            );
        }
    }
    set(&mut doc, "cloud.provider", "azure".into());
    if !users.is_empty() {
        set(&mut doc, "related.user", users.into());
    }
    if !ips.is_empty() {
        set(&mut doc, "related.ip", ips.into());
    }
    doc
}
