//! Terminal output: tables and numbers for people. The only module that prints to stdout.
#![allow(clippy::print_stdout)]

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use pipeline::Status;
use store::quarantine::Entry;

/// Prints one line to stdout.
pub(crate) fn line(s: &str) {
    println!("{s}");
}

/// Human-readable bytes (`1.5 MiB`).
pub(crate) fn bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// A table with our style.
pub(crate) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

pub(crate) fn print_status(s: &Status) {
    line(&format!(
        "log: offsets {}..{}, {} on disk; dedupe index: {} keys",
        s.log_start,
        s.log_end,
        bytes(s.log_bytes),
        s.dedupe_keys
    ));
    let mut t = table(&["consumer", "offset", "lag"]);
    for c in &s.consumers {
        t.add_row(vec![
            c.name.clone(),
            c.offset.to_string(),
            c.lag.to_string(),
        ]);
    }
    line(&t.to_string());
    let mut t = table(&[
        "category",
        "table",
        "appended",
        "revisions",
        "duplicates",
        "archived",
        "quarantined",
        "last event",
    ]);
    for c in &s.categories {
        t.add_row(vec![
            c.category.clone(),
            c.table.clone(),
            c.appended.to_string(),
            c.revisions.to_string(),
            c.duplicates.to_string(),
            c.archived_rows.to_string(),
            c.quarantined.to_string(),
            c.last_event_time.clone().unwrap_or_default(),
        ]);
    }
    line(&t.to_string());
    line(&format!(
        "quarantine: {} open of {}",
        s.quarantine_open, s.quarantine_total
    ));
    if !s.sinks.is_empty() {
        // docs/sinks.md "Routes": backlog, routed counts, and records lost to the log's disk budget.
        let mut t = table(&[
            "sink",
            "priority",
            "routed",
            "backlog",
            "backlog bytes",
            "oldest unsent",
            "sent",
            "filtered",
            "lost",
        ]);
        for k in &s.sinks {
            t.add_row(vec![
                k.sink.clone(),
                k.priority.to_string(),
                if k.routed { "yes" } else { "all" }.to_owned(),
                k.backlog_records.to_string(),
                bytes(k.backlog_bytes),
                k.oldest_unsent_age_seconds
                    .map(|a| format!("{a}s ago"))
                    .unwrap_or_default(),
                k.sent_records.to_string(),
                k.filtered_records.to_string(),
                k.lost_records.to_string(),
            ]);
        }
        line(&t.to_string());
        for k in s.sinks.iter().filter(|k| k.lost_records > 0) {
            line(&format!(
                "ALERT: sink {} lost {} records ({}) to the log's disk budget, last at {}",
                k.sink,
                k.lost_records,
                bytes(k.lost_bytes),
                k.last_loss_at.as_deref().unwrap_or("?")
            ));
        }
    }
    for src in &s.sources {
        line(&format!(
            "source {} (as of {}):",
            src.source,
            src.now.as_deref().unwrap_or("?")
        ));
        let mut t = table(&[
            "category",
            "cursor",
            "lag",
            "seen",
            "new",
            "revised",
            "duplicates",
            "last error",
        ]);
        for c in &src.categories {
            let error = match (&c.last_error, &c.last_error_at) {
                (Some(e), Some(at)) => format!("{at}: {e}"),
                (Some(e), None) => e.clone(),
                _ => String::new(),
            };
            t.add_row(vec![
                c.category.clone(),
                c.cursor.clone().unwrap_or_else(|| "-".into()),
                c.lag_seconds
                    .map(|s| {
                        humantime::format_duration(std::time::Duration::from_secs(s.max(0) as u64))
                            .to_string()
                    })
                    .unwrap_or_else(|| "-".into()),
                c.seen.to_string(),
                c.accepted.new.to_string(),
                c.accepted.revised.to_string(),
                c.accepted.duplicates.to_string(),
                if c.paused {
                    format!("(paused) {error}")
                } else {
                    error
                },
            ]);
        }
        line(&t.to_string());
    }
    for src in &s.blob {
        blob_status(src);
    }
    for src in &s.eventhubs {
        eventhubs_status(src);
    }
    for src in &s.syslog {
        line(&format!(
            "syslog source {} ({}): {} messages, {} new, {} duplicates, {} truncated, {} quarantined, {} UDP dropped, {} connections ({} open), {} TLS failures",
            src.id,
            src.listening.join(", "),
            src.messages,
            src.accepted.new,
            src.accepted.duplicates,
            src.truncated,
            src.quarantined,
            src.udp_dropped,
            src.connections,
            src.open_connections,
            src.tls_failures
        ));
    }
    for l in &s.lake {
        line(&format!(
            "lake sink {} ({}): {} files ({}) in the lake; backlog {} files ({}), oldest {}; {} deletions pending, {} kept after retention; last success {}{}",
            l.id,
            l.target,
            l.lake_files,
            bytes(l.lake_bytes),
            l.pending_files,
            bytes(l.pending_bytes),
            l.oldest_pending.as_deref().unwrap_or("-"),
            l.pending_deletes,
            l.kept_files,
            l.last_success.as_deref().unwrap_or("never"),
            l.last_error
                .as_deref()
                .map(|e| format!("; LAST ERROR: {e}"))
                .unwrap_or_default()
        ));
    }
    crate::health::print_status(s);
}

/// One Blob source's per-container progress (`entrail status`).
fn blob_status(src: &sources::blob::BlobStatus) {
    line(&format!(
        "blob source {} ({}, last poll {}):",
        src.source,
        src.endpoint,
        src.last_poll.as_deref().unwrap_or("-")
    ));
    let mut t = table(&[
        "container",
        "open from",
        "open blobs",
        "blobs read",
        "bytes",
        "records",
        "new",
        "duplicates",
        "quarantined",
        "last error",
    ]);
    for c in &src.containers {
        t.add_row(vec![
            c.container.clone(),
            c.open_from.clone().unwrap_or_else(|| "-".into()),
            c.open_blobs.to_string(),
            c.blobs_read.to_string(),
            bytes(c.bytes_read),
            c.records.to_string(),
            c.accepted.new.to_string(),
            c.accepted.duplicates.to_string(),
            c.accepted.quarantined.to_string(),
            match (&c.last_error, &c.last_error_at) {
                (Some(e), Some(at)) => format!("{at}: {e}"),
                (Some(e), None) => e.clone(),
                _ => String::new(),
            },
        ]);
    }
    line(&t.to_string());
}

/// One Event Hubs source's per-partition offsets and lag (`entrail status`).
fn eventhubs_status(src: &sources::eventhubs::EventHubsStatus) {
    let opt = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    line(&format!(
        "event hubs source {} (group {}, as of {}): {} messages, {} records, {} new, {} duplicates, {} quarantined, total lag {}",
        src.source,
        src.consumer_group,
        src.now.as_deref().unwrap_or("?"),
        src.messages,
        src.records,
        src.accepted.new,
        src.accepted.duplicates,
        src.accepted.quarantined,
        src.total_lag()
    ));
    let mut t = table(&[
        "event hub",
        "partition",
        "held",
        "committed",
        "high watermark",
        "lag",
    ]);
    for p in &src.partitions {
        t.add_row(vec![
            p.event_hub.clone(),
            p.partition.to_string(),
            if p.assigned { "yes" } else { "no" }.to_owned(),
            opt(p.committed),
            opt(p.high_watermark),
            opt(p.lag),
        ]);
    }
    line(&t.to_string());
    if let Some(e) = &src.last_error {
        line(&format!(
            "  last error ({}): {e}",
            src.last_error_at.as_deref().unwrap_or("?")
        ));
    }
}

fn preview(raw: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(raw);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() > max {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    } else {
        one_line
    }
}

pub(crate) fn print_quarantine<'a>(entries: impl Iterator<Item = &'a Entry>) {
    let mut t = table(&["id", "time", "source", "where", "category", "reason", "raw"]);
    let mut n = 0;
    for e in entries {
        n += 1;
        t.add_row(vec![
            e.id.to_string(),
            e.time.clone(),
            e.rejected.position.source.clone(),
            e.rejected.position.to_string(),
            e.rejected.category.clone().unwrap_or_default(),
            e.rejected.reason.clone(),
            preview(&e.rejected.raw, 40),
        ]);
    }
    if n == 0 {
        line("quarantine is empty");
    } else {
        line(&t.to_string());
    }
}

pub(crate) fn print_quarantine_entry(e: &Entry) {
    line(&format!(
        "id:        {}{}",
        e.id,
        if e.resolved { " (resolved)" } else { "" }
    ));
    line(&format!("time:      {}", e.time));
    line(&format!("source:    {}", e.rejected.position.source));
    line(&format!("where:     {}", e.rejected.position));
    line(&format!(
        "category:  {}",
        e.rejected.category.as_deref().unwrap_or("-")
    ));
    line(&format!("reason:    {}", e.rejected.reason));
    line(&format!("raw ({} bytes):", e.rejected.raw.len()));
    line(&String::from_utf8_lossy(&e.rejected.raw));
}
