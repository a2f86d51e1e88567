//! The alert store under `<data_dir>/alerts/`:
//!
//! - `alerts.jsonl`: every version of every alert (OCSF JSON), appended and fsynced before the detection
//!   consumer commits its log offset. The latest line of a `finding_info.uid` is the alert as it stands.
//! - `delivered.json`: per destination, the byte offset in `alerts.jsonl` up to which every alert was
//!   delivered (or filtered out). Written atomically after each delivery: at least once per destination.
//! - `Alerts.jsonl`: one flat row per alert (latest version), rewritten after each run; `entrail query`
//!   registers it as the `Alerts` table.

use detect::alert::Alert;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// File of alert versions.
const VERSIONS: &str = "alerts.jsonl";
/// Per-destination delivery offsets.
const DELIVERED: &str = "delivered.json";
/// The flat table file.
pub const TABLE_FILE: &str = "Alerts.jsonl";

/// Alert store failures.
#[derive(Debug, thiserror::Error)]
#[error("alert store {path}")]
pub struct AlertStoreError {
    /// The file.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: io::Error,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> AlertStoreError + '_ {
    move |source| AlertStoreError {
        path: path.to_path_buf(),
        source,
    }
}

/// One data directory's alerts.
#[derive(Debug)]
pub struct AlertStore {
    dir: PathBuf,
    file: File,
    /// Bytes of whole lines in `alerts.jsonl`.
    end: u64,
    latest: BTreeMap<String, Alert>,
    delivered: BTreeMap<String, u64>,
}

impl AlertStore {
    /// Opens (creating) the store in `dir`; a torn last line (crash mid-append) is cut off.
    pub fn open(dir: &Path) -> Result<AlertStore, AlertStoreError> {
        std::fs::create_dir_all(dir).map_err(err(dir))?;
        let path = dir.join(VERSIONS);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(err(&path))?;
        let mut latest = BTreeMap::new();
        let mut end = 0u64;
        let mut reader = BufReader::new(&file);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(err(&path))?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            match serde_json::from_str::<Alert>(line.trim_end()) {
                Ok(a) => {
                    latest.insert(a.finding_info.uid.clone(), a);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), offset = end, error = %e, "skipping an unreadable alert line");
                }
            }
            end += n as u64;
        }
        drop(reader);
        if file.metadata().map_err(err(&path))?.len() > end {
            file.set_len(end).map_err(err(&path))?;
            file.sync_all().map_err(err(&path))?;
        }
        file.seek(SeekFrom::End(0)).map_err(err(&path))?;
        let dpath = dir.join(DELIVERED);
        let delivered = match File::open(&dpath) {
            Ok(f) => {
                let bytes =
                    model::limits::read_capped(f, 1 << 20).map_err(|e| AlertStoreError {
                        path: dpath.clone(),
                        source: io::Error::other(e.to_string()),
                    })?;
                serde_json::from_slice(&bytes).map_err(|e| AlertStoreError {
                    path: dpath.clone(),
                    source: io::Error::other(e),
                })?
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(err(&dpath)(e)),
        };
        Ok(AlertStore {
            dir: dir.to_path_buf(),
            file,
            end,
            latest,
            delivered,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every alert as it stands, by id.
    pub fn alerts(&self) -> &BTreeMap<String, Alert> {
        &self.latest
    }

    /// Appends alert versions and makes them durable.
    pub fn append(&mut self, alerts: &[Alert]) -> Result<(), AlertStoreError> {
        if alerts.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(VERSIONS);
        let mut buf = Vec::new();
        for a in alerts {
            serde_json::to_writer(&mut buf, a).map_err(|e| err(&path)(io::Error::other(e)))?;
            buf.push(b'\n');
        }
        self.file.write_all(&buf).map_err(err(&path))?;
        self.file.sync_data().map_err(err(&path))?;
        self.end += buf.len() as u64;
        for a in alerts {
            self.latest.insert(a.finding_info.uid.clone(), a.clone());
        }
        Ok(())
    }

    /// Byte offset up to which `destination` has everything.
    pub fn delivered(&self, destination: &str) -> u64 {
        self.delivered.get(destination).copied().unwrap_or(0)
    }

    /// End of the versions file (whole lines).
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Alert versions from byte offset `from`: (offset after the line, the OCSF JSON).
    pub fn versions_from(
        &self,
        from: u64,
    ) -> Result<Vec<(u64, serde_json::Value)>, AlertStoreError> {
        let path = self.dir.join(VERSIONS);
        let mut f = File::open(&path).map_err(err(&path))?;
        f.seek(SeekFrom::Start(from)).map_err(err(&path))?;
        let mut reader = BufReader::new(f);
        let mut out = Vec::new();
        let mut at = from;
        let mut line = String::new();
        while at < self.end {
            line.clear();
            let n = reader.read_line(&mut line).map_err(err(&path))?;
            if n == 0 {
                break;
            }
            at += n as u64;
            if let Ok(v) = serde_json::from_str(line.trim_end()) {
                out.push((at, v));
            }
        }
        Ok(out)
    }

    /// Records that `destination` has everything before byte offset `offset` (atomic write).
    pub fn mark_delivered(
        &mut self,
        destination: &str,
        offset: u64,
    ) -> Result<(), AlertStoreError> {
        self.delivered.insert(destination.to_owned(), offset);
        let path = self.dir.join(DELIVERED);
        let tmp = self.dir.join("delivered.json.tmp");
        let body = serde_json::to_vec_pretty(&self.delivered)
            .map_err(|e| err(&path)(io::Error::other(e)))?;
        let mut f = File::create(&tmp).map_err(err(&tmp))?;
        f.write_all(&body).map_err(err(&tmp))?;
        f.sync_all().map_err(err(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(err(&path))?;
        Ok(())
    }

    /// Rewrites `Alerts.jsonl`, one flat row per alert (see [`table_row`]).
    pub fn write_table(&self) -> Result<(), AlertStoreError> {
        let path = self.dir.join(TABLE_FILE);
        let tmp = self.dir.join("Alerts.jsonl.tmp");
        let mut buf = Vec::new();
        for a in self.latest.values() {
            serde_json::to_writer(&mut buf, &table_row(a))
                .map_err(|e| err(&path)(io::Error::other(e)))?;
            buf.push(b'\n');
        }
        let mut f = File::create(&tmp).map_err(err(&tmp))?;
        f.write_all(&buf).map_err(err(&tmp))?;
        f.sync_all().map_err(err(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(err(&path))?;
        Ok(())
    }
}

/// Columns of the `Alerts` table: (name, type).
pub const TABLE_COLUMNS: &[(&str, model::ColumnType)] = {
    use model::ColumnType::{DateTime, Long, String};
    &[
        ("AlertId", String),
        ("Time", DateTime),
        ("FirstSeen", DateTime),
        ("LastSeen", DateTime),
        ("RuleId", String),
        ("Title", String),
        ("Severity", String),
        ("SeverityId", Long),
        ("Status", String),
        ("Count", Long),
        ("Entity", String),
        ("Users", String),
        ("IPAddresses", String),
        ("Applications", String),
        ("Resources", String),
        ("Techniques", String),
        ("Tactics", String),
        ("Categories", String),
        ("EvidenceKeys", String),
        ("EvidenceTotal", Long),
        ("Finding", String),
    ]
};

fn ms(t: i64) -> String {
    model::format_micros(t.saturating_mul(1000))
}

/// One flat row of the `Alerts` table (lists joined with `, `; `Finding` is the OCSF JSON).
pub fn table_row(a: &Alert) -> serde_json::Value {
    let join = |name: &str| a.entities(name).collect::<Vec<_>>().join(", ");
    let techniques: Vec<&str> = a
        .attacks
        .iter()
        .filter_map(|x| x.sub_technique.as_ref().or(x.technique.as_ref()))
        .map(|n| n.uid.as_str())
        .collect();
    let mut tactics: Vec<&str> = a
        .attacks
        .iter()
        .filter_map(|x| x.tactic.as_ref().map(|t| t.name.as_str()))
        .collect();
    tactics.dedup();
    serde_json::json!({
        "AlertId": a.finding_info.uid,
        "Time": ms(a.time),
        "FirstSeen": ms(a.finding_info.first_seen_time),
        "LastSeen": ms(a.finding_info.last_seen_time),
        "RuleId": a.finding_info.analytic.uid,
        "Title": a.finding_info.title,
        "Severity": a.severity,
        "SeverityId": a.severity_id,
        "Status": a.status,
        "Count": a.count,
        "Entity": a.unmapped.entity,
        "Users": join("user"),
        "IPAddresses": join("ip"),
        "Applications": join("application"),
        "Resources": join("resource"),
        "Techniques": techniques.join(", "),
        "Tactics": tactics.join(", "),
        "Categories": a.finding_info.types.join(", "),
        "EvidenceKeys": a.evidences.iter().map(|e| e.data.key.as_str()).collect::<Vec<_>>().join(", "),
        "EvidenceTotal": a.unmapped.evidence_total,
        "Finding": serde_json::to_string(a).unwrap_or_default(),
    })
}
