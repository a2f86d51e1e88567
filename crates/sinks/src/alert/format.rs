//! Message formats built from an alert's OCSF JSON: Teams (Adaptive Card), Slack (Block Kit), email.

use serde_json::{Value, json};

/// The attributes people read, taken from an OCSF Detection Finding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertSummary {
    /// `finding_info.uid`.
    pub uid: String,
    /// `finding_info.title`.
    pub title: String,
    /// `severity`.
    pub severity: String,
    /// `finding_info.analytic.uid`.
    pub rule: String,
    /// `count`.
    pub count: u64,
    /// `finding_info.first_seen_time` as RFC 3339.
    pub first_seen: String,
    /// `finding_info.last_seen_time` as RFC 3339.
    pub last_seen: String,
    /// `observables[]`: (name, value).
    pub entities: Vec<(String, String)>,
    /// ATT&CK technique and tactic ids.
    pub attacks: Vec<String>,
    /// `unmapped.evidence_total` (or the number of `evidences`).
    pub evidence: u64,
    /// Whether this is an update of an earlier alert.
    pub update: bool,
}

fn ms_text(v: &Value) -> String {
    v.as_i64()
        .map(|ms| model::format_micros(ms.saturating_mul(1000)))
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

impl AlertSummary {
    /// Reads the summary out of an alert's OCSF JSON; missing attributes stay empty.
    pub fn of(alert: &Value) -> AlertSummary {
        let fi = &alert["finding_info"];
        let mut attacks = Vec::new();
        for a in alert["attacks"].as_array().into_iter().flatten() {
            // A sub-technique names its technique already.
            let technique = if a["sub_technique"]["uid"].is_string() {
                text(&a["sub_technique"]["uid"])
            } else {
                text(&a["technique"]["uid"])
            };
            for uid in [technique, text(&a["tactic"]["uid"])] {
                if !uid.is_empty() && !attacks.contains(&uid) {
                    attacks.push(uid);
                }
            }
        }
        AlertSummary {
            uid: text(&fi["uid"]),
            title: text(&fi["title"]),
            severity: text(&alert["severity"]),
            rule: text(&fi["analytic"]["uid"]),
            count: alert["count"].as_u64().unwrap_or(1),
            first_seen: ms_text(&fi["first_seen_time"]),
            last_seen: ms_text(&fi["last_seen_time"]),
            entities: alert["observables"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| (text(&o["name"]), text(&o["value"])))
                .take(20)
                .collect(),
            attacks,
            evidence: alert["unmapped"]["evidence_total"]
                .as_u64()
                .unwrap_or_else(|| alert["evidences"].as_array().map_or(0, |e| e.len() as u64)),
            update: alert["activity_id"].as_u64() == Some(2),
        }
    }

    /// `(label, value)` lines shown in every format.
    pub fn facts(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("Severity".to_owned(), self.severity.clone()),
            ("Rule".to_owned(), self.rule.clone()),
            ("Detections".to_owned(), self.count.to_string()),
            ("First seen".to_owned(), self.first_seen.clone()),
            ("Last seen".to_owned(), self.last_seen.clone()),
        ];
        for (name, value) in &self.entities {
            f.push((capitalize(name), value.clone()));
        }
        if !self.attacks.is_empty() {
            f.push(("ATT&CK".to_owned(), self.attacks.join(", ")));
        }
        f.push(("Evidence records".to_owned(), self.evidence.to_string()));
        f.push(("Alert id".to_owned(), self.uid.clone()));
        f
    }

    fn heading(&self) -> String {
        let prefix = if self.update { "Updated: " } else { "" };
        format!("{prefix}{} ({})", self.title, self.severity)
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Cuts to `max` characters (Slack and Teams limit text lengths).
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A Teams message: an Adaptive Card 1.4 in a `message` attachment (the body Teams Workflows' "post to a
/// channel when a webhook request is received" and incoming webhooks accept).
pub fn teams_message(alert: &Value) -> Value {
    let s = AlertSummary::of(alert);
    let color = match s.severity.as_str() {
        "Critical" | "High" => "Attention",
        "Medium" => "Warning",
        _ => "Default",
    };
    let facts: Vec<Value> = s
        .facts()
        .into_iter()
        .map(|(title, value)| json!({ "title": title, "value": cut(&value, 1000) }))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "size": "Large",
                        "weight": "Bolder",
                        "color": color,
                        "wrap": true,
                        "text": cut(&s.heading(), 500)
                    },
                    { "type": "TextBlock", "wrap": true, "isSubtle": true,
                      "text": cut(alert["message"].as_str().unwrap_or_default(), 1000) },
                    { "type": "FactSet", "facts": facts }
                ]
            }
        }]
    })
}

/// Escapes Slack mrkdwn control characters.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack message (incoming webhook): `text` as the notification fallback, then Block Kit blocks.
pub fn slack_message(alert: &Value) -> Value {
    let s = AlertSummary::of(alert);
    // A section holds at most 10 fields of at most 2000 characters.
    let fields: Vec<Value> = s
        .facts()
        .into_iter()
        .take(10)
        .map(|(k, v)| {
            json!({ "type": "mrkdwn", "text": cut(&format!("*{}*\n{}", slack_escape(&k), slack_escape(&v)), 2000) })
        })
        .collect();
    json!({
        "text": cut(&format!("entrail alert: {}", s.heading()), 3000),
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": cut(&s.heading(), 150) } },
            { "type": "section", "text": { "type": "mrkdwn",
              "text": cut(&slack_escape(alert["message"].as_str().unwrap_or_default()), 3000) } },
            { "type": "section", "fields": fields },
            { "type": "context", "elements": [
                { "type": "mrkdwn", "text": cut(&format!("entrail alert `{}`", s.uid), 3000) }
            ] }
        ]
    })
}

/// The email subject: `[entrail] High: title`.
pub fn email_subject(alert: &Value) -> String {
    let s = AlertSummary::of(alert);
    let prefix = if s.update { "Updated " } else { "" };
    // Header text: no line breaks.
    cut(
        &format!("[entrail] {prefix}{}: {}", s.severity, s.title).replace(['\r', '\n'], " "),
        200,
    )
}

/// The email body (plain text): the facts, then the OCSF JSON.
pub fn email_body(alert: &Value) -> String {
    let s = AlertSummary::of(alert);
    let mut body = format!("{}\n\n", s.heading());
    if let Some(m) = alert["message"].as_str() {
        body.push_str(m);
        body.push_str("\n\n");
    }
    for (k, v) in s.facts() {
        body.push_str(&format!("{k}: {v}\n"));
    }
    body.push_str("\nOCSF Detection Finding:\n");
    body.push_str(&serde_json::to_string_pretty(alert).unwrap_or_default());
    body.push('\n');
    body
}
