//! Streaming file writers for the three shapes. Every writer consumes an event iterator, renders one
//! record at a time into a `BufWriter` and returns the number of bytes written.
//!
//! | Shape | Writer | Like |
//! |---|---|---|
//! | Diagnostic | [`write_records_batches`] | Event Hubs bodies: one `{"records":[…]}` document per line |
//! | Diagnostic | [`write_json_lines`] | Storage `PT1H.json` blobs: one record per line |
//! | LogAnalytics | [`write_json_lines`], [`write_json_array`] | LA JSON exports |
//! | LogAnalytics | [`write_csv`], [`write_csv_per_table`] | the portal's CSV download |
//! | Graph | [`write_graph_pages`] | Graph list responses, one page per line |

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::SimEvent;
use crate::category::Category;
use crate::shape::{ColType, Shape, la_columns, render_owned};
use crate::tenant::Tenant;

const BUF: usize = 1 << 16;

/// Counts bytes on their way to the inner writer.
struct Counting<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn counting<W: Write>(out: W) -> Counting<BufWriter<W>> {
    Counting {
        inner: BufWriter::with_capacity(BUF, out),
        bytes: 0,
    }
}

fn finish<W: Write>(mut w: Counting<W>) -> io::Result<u64> {
    w.flush()?;
    Ok(w.bytes)
}

/// Writes diagnostic records as Event Hubs bodies: `{"records":[…]}` with up to `per_batch` records, one
/// document per line.
pub fn write_records_batches<W: Write>(
    out: W,
    events: impl IntoIterator<Item = SimEvent>,
    per_batch: usize,
    quirks: bool,
    tenant: &Tenant,
) -> io::Result<u64> {
    let per_batch = per_batch.max(1);
    let mut w = counting(out);
    let mut in_batch = 0;
    let mut buf = Vec::with_capacity(8192);
    for ev in events {
        let Some(rec) = render_owned(ev, Shape::Diagnostic, quirks, tenant) else {
            continue;
        };
        buf.clear();
        buf.extend_from_slice(if in_batch == 0 {
            b"{\"records\":["
        } else {
            b","
        });
        serde_json::to_writer(&mut buf, &rec)?;
        w.write_all(&buf)?;
        in_batch += 1;
        if in_batch == per_batch {
            w.write_all(b"]}\n")?;
            in_batch = 0;
        }
    }
    if in_batch > 0 {
        w.write_all(b"]}\n")?;
    }
    finish(w)
}

/// Writes one rendered record per line (Storage blobs for [`Shape::Diagnostic`], LA JSON-lines exports
/// for [`Shape::LogAnalytics`], bare objects for [`Shape::Graph`]). Events without the shape are skipped.
pub fn write_json_lines<W: Write>(
    out: W,
    events: impl IntoIterator<Item = SimEvent>,
    shape: Shape,
    quirks: bool,
    tenant: &Tenant,
) -> io::Result<u64> {
    let mut w = counting(out);
    let mut buf = Vec::with_capacity(8192);
    for ev in events {
        if let Some(rec) = render_owned(ev, shape, quirks, tenant) {
            buf.clear();
            serde_json::to_writer(&mut buf, &rec)?;
            buf.push(b'\n');
            w.write_all(&buf)?;
        }
    }
    finish(w)
}

/// Writes the rendered records as one JSON array (like a Log Analytics JSON export).
pub fn write_json_array<W: Write>(
    out: W,
    events: impl IntoIterator<Item = SimEvent>,
    shape: Shape,
    quirks: bool,
    tenant: &Tenant,
) -> io::Result<u64> {
    let mut w = counting(out);
    w.write_all(b"[")?;
    let mut first = true;
    for ev in events {
        if let Some(rec) = render_owned(ev, shape, quirks, tenant) {
            w.write_all(if first { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut w, &rec)?;
            first = false;
        }
    }
    w.write_all(b"\n]\n")?;
    finish(w)
}

/// The portal's datetime rendering: `3/24/2022, 2:42:35.644 PM`.
fn portal_time(s: &str) -> String {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => {
            let t = t.with_timezone(&Utc);
            let us = crate::util::us_locale(t);
            let (date, rest) = us.split_once(' ').unwrap_or((&us, ""));
            let (clock, ampm) = rest.split_once(' ').unwrap_or((rest, ""));
            format!("{date}, {clock}.{:03} {ampm}", t.timestamp_subsec_millis())
        }
        Err(_) => s.to_owned(),
    }
}

fn cell(v: &Value, ty: ColType, quirks: bool) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if ty == ColType::T && quirks => portal_time(s),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_header(table: &str, quirks: bool) -> Vec<String> {
    la_columns(table)
        .unwrap_or(&[])
        .iter()
        .map(|(n, t)| {
            if quirks && *t == ColType::T {
                format!("{n} [UTC]")
            } else {
                (*n).to_owned()
            }
        })
        .collect()
}

fn csv_row(row: &Value, table: &str, quirks: bool) -> Vec<String> {
    la_columns(table)
        .unwrap_or(&[])
        .iter()
        .map(|(n, t)| {
            row.get(*n)
                .map_or_else(String::new, |v| cell(v, *t, quirks))
        })
        .collect()
}

fn csv_err(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

/// Writes the Log Analytics rows of one table as CSV: a header of the table's columns, then one row per
/// event (events of other tables are skipped). Dynamic columns hold JSON text. With `quirks`, datetime
/// columns are headed `Name [UTC]` and written `3/24/2022, 2:42:35.644 PM`, as the portal does.
pub fn write_csv<W: Write>(
    out: W,
    events: impl IntoIterator<Item = SimEvent>,
    table: &str,
    quirks: bool,
    tenant: &Tenant,
) -> io::Result<u64> {
    let mut w = csv::Writer::from_writer(counting(out));
    w.write_record(csv_header(table, quirks)).map_err(csv_err)?;
    for ev in events {
        if crate::category::la_table(ev.category) != table {
            continue;
        }
        if let Some(row) = render_owned(ev, Shape::LogAnalytics, quirks, tenant) {
            w.write_record(csv_row(&row, table, quirks))
                .map_err(csv_err)?;
        }
    }
    let inner = w
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    finish(inner)
}

/// Writes one CSV file per Log Analytics table (`<dir>/<Table>.csv`), streaming. Returns total bytes.
pub fn write_csv_per_table(
    dir: &Path,
    events: impl IntoIterator<Item = SimEvent>,
    quirks: bool,
    tenant: &Tenant,
) -> io::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut writers: BTreeMap<&'static str, csv::Writer<Counting<BufWriter<File>>>> =
        BTreeMap::new();
    for ev in events {
        let table = crate::category::la_table(ev.category);
        if table.is_empty() {
            continue;
        }
        if !writers.contains_key(table) {
            let mut w =
                csv::Writer::from_writer(counting(File::create(dir.join(format!("{table}.csv")))?));
            w.write_record(csv_header(table, quirks)).map_err(csv_err)?;
            writers.insert(table, w);
        }
        let Some(row) = render_owned(ev, Shape::LogAnalytics, quirks, tenant) else {
            continue;
        };
        if let Some(w) = writers.get_mut(table) {
            w.write_record(csv_row(&row, table, quirks))
                .map_err(csv_err)?;
        }
    }
    let mut total = 0;
    for (_, w) in writers {
        let inner = w
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        total += finish(inner)?;
    }
    Ok(total)
}

fn write_page<W: Write>(
    w: &mut W,
    context: &str,
    next: Option<String>,
    page: &[Value],
) -> io::Result<()> {
    let mut doc = serde_json::Map::new();
    doc.insert("@odata.context".into(), context.into());
    if let Some(next) = next {
        doc.insert("@odata.nextLink".into(), next.into());
    }
    doc.insert("value".into(), Value::Array(page.to_vec()));
    serde_json::to_writer(&mut *w, &Value::Object(doc))?;
    w.write_all(b"\n")
}

/// Writes Graph list responses for one category: pages of `page_size` objects, one JSON document per line,
/// each with `@odata.context` and (except the last) an `@odata.nextLink` carrying a `$skiptoken`.
/// Events of other categories are skipped; a category without a Graph API writes nothing.
pub fn write_graph_pages<W: Write>(
    out: W,
    events: impl IntoIterator<Item = SimEvent>,
    category: &str,
    page_size: usize,
    quirks: bool,
    tenant: &Tenant,
) -> io::Result<u64> {
    let mut w = counting(out);
    let Some(context) = Category::from_name(category).and_then(Category::graph_context) else {
        return finish(w);
    };
    let base = context.replace("$metadata#", "");
    let page_size = page_size.max(1);
    let mut full: Option<Vec<Value>> = None;
    let mut page = Vec::with_capacity(page_size);
    let mut n_pages = 0u64;
    for ev in events {
        if ev.category != category {
            continue;
        }
        let Some(obj) = render_owned(ev, Shape::Graph, quirks, tenant) else {
            continue;
        };
        if let Some(prev) = full.take() {
            n_pages += 1;
            let next = format!(
                "{base}?$top={page_size}&$skiptoken={:016x}_{n_pages}",
                crate::util::mix(n_pages ^ tenant.seed)
            );
            write_page(&mut w, context, Some(next), &prev)?;
        }
        page.push(obj);
        if page.len() == page_size {
            full = Some(std::mem::replace(&mut page, Vec::with_capacity(page_size)));
        }
    }
    match (full, page.is_empty()) {
        (Some(prev), true) => write_page(&mut w, context, None, &prev)?,
        (Some(prev), false) => {
            let next = format!(
                "{base}?$top={page_size}&$skiptoken={:016x}_{}",
                crate::util::mix(n_pages ^ tenant.seed),
                n_pages + 1
            );
            write_page(&mut w, context, Some(next), &prev)?;
            write_page(&mut w, context, None, &page)?;
        }
        (None, false) => write_page(&mut w, context, None, &page)?,
        (None, true) => write_page(&mut w, context, None, &[])?,
    }
    finish(w)
}
