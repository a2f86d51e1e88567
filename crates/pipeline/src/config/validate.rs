//! Validation: every problem at once, each named by its path, no I/O.

use super::*;
use model::Category;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

fn category(name: &str, path: &str, errors: &mut Vec<ConfigError>) -> Option<Category> {
    let c = Category::from_name(name);
    if c.is_none() {
        let known: Vec<_> = Category::ALL.iter().map(|c| c.name()).collect();
        errors.push(ConfigError::new(
            path,
            format!("unknown category {name:?}; known: {}", known.join(", ")),
        ));
    }
    c
}

fn valid_id(id: &str, path: &str, seen: &mut Vec<String>, errors: &mut Vec<ConfigError>) {
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        errors.push(ConfigError::new(
            path,
            format!("{id:?} must be non-empty letters, digits, '_', '-' or '.'"),
        ));
    }
    if seen.iter().any(|s| s == id) {
        errors.push(ConfigError::new(
            path,
            format!("{id:?} is used twice (source and sink ids must be unique)"),
        ));
    }
    if ["archive", "import"].contains(&id) {
        errors.push(ConfigError::new(path, format!("{id:?} is reserved")));
    }
    seen.push(id.to_owned());
}

impl RawConfig {
    /// Checks everything and returns every problem at once. No I/O.
    pub fn validate(self) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.version != 1 {
            errors.push(ConfigError::new(
                "version",
                format!("must be 1, got {}", self.version),
            ));
        }
        let segment_mib = self.log.segment_mib.unwrap_or(128);
        if !(1..=4096).contains(&segment_mib) {
            errors.push(ConfigError::new(
                "log.segment_mib",
                format!("must be 1..=4096, got {segment_mib}"),
            ));
        }
        let commit_delay_ms = self.log.commit_delay_ms.unwrap_or(5);
        if commit_delay_ms > 500 {
            errors.push(ConfigError::new(
                "log.commit_delay_ms",
                format!("must be at most 500, got {commit_delay_ms}"),
            ));
        }
        let dedupe_horizon =
            match humantime::parse_duration(self.log.dedupe_horizon.as_deref().unwrap_or("72h")) {
                Ok(d) if d >= Duration::from_secs(3600) => d,
                Ok(d) => {
                    errors.push(ConfigError::new(
                        "log.dedupe_horizon",
                        format!("must be at least 1h, got {d:?}"),
                    ));
                    d
                }
                Err(e) => {
                    errors.push(ConfigError::new(
                        "log.dedupe_horizon",
                        format!("not a duration: {e}"),
                    ));
                    Duration::ZERO
                }
            };
        let zstd_level = self.archive.zstd_level.unwrap_or(1);
        if !(1..=22).contains(&zstd_level) {
            errors.push(ConfigError::new(
                "archive.zstd_level",
                format!("must be 1..=22, got {zstd_level}"),
            ));
        }
        if let Some(level) = self.archive.compact_zstd_level
            && !(1..=22).contains(&level)
        {
            errors.push(ConfigError::new(
                "archive.compact_zstd_level",
                format!("must be 1..=22, got {level}"),
            ));
        }
        let row_group_rows = self.archive.row_group_rows.unwrap_or(131_072);
        if !(1024..=4_194_304).contains(&row_group_rows) {
            errors.push(ConfigError::new(
                "archive.row_group_rows",
                format!("must be 1024..=4194304, got {row_group_rows}"),
            ));
        }
        let spill = self.archive.spill.unwrap_or(true);
        let max_buffer_mib = self
            .archive
            .max_buffer_mib
            .unwrap_or(store::archive::ArchiveConfig::default_buffer_bytes(spill) >> 20);
        if !(1..=4096).contains(&max_buffer_mib) {
            errors.push(ConfigError::new(
                "archive.max_buffer_mib",
                format!("must be 1..=4096, got {max_buffer_mib}"),
            ));
        }
        let mut retention = BTreeMap::new();
        for (name, r) in &self.archive.retention {
            let path = format!("archive.retention.{name}");
            if let Some(c) = category(name, &path, &mut errors) {
                if r.days == Some(0) {
                    errors.push(ConfigError::new(
                        format!("{path}.days"),
                        "must be at least 1 (omit it to keep forever)",
                    ));
                }
                retention.insert(c, (r.days, r.legal_hold));
            }
        }
        if self.archive.default_retention_days == Some(0) {
            errors.push(ConfigError::new(
                "archive.default_retention_days",
                "must be at least 1 (omit it to keep forever)",
            ));
        }
        let mut ids = Vec::new();
        let mut sources = Vec::new();
        for (i, s) in self.sources.into_iter().enumerate() {
            // A component source: its id checked here (unique across sources and sinks), its own
            // problems nested under `sources[i]`.
            macro_rules! check_source {
                ($c:expr) => {{
                    let p = format!("sources[{i}]");
                    valid_id(&$c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    let problems = $c.validate().err().unwrap_or_default();
                    nested(
                        &p,
                        problems
                            .into_iter()
                            .map(|e| (e.field.to_string(), e.message)),
                        &mut errors,
                    );
                }};
            }
            match s {
                RawSourceConfig::File {
                    id,
                    paths,
                    category: cat,
                    shape,
                } => {
                    let p = format!("sources[{i}]");
                    valid_id(&id, &format!("{p}.id"), &mut ids, &mut errors);
                    if paths.is_empty() {
                        errors.push(ConfigError::new(
                            format!("{p}.paths"),
                            "must name at least one path or glob",
                        ));
                    }
                    let cat = cat.and_then(|c| category(&c, &format!("{p}.category"), &mut errors));
                    let shape = shape.and_then(|s| {
                        let parsed = model::Shape::parse(&s);
                        if parsed.is_none() {
                            errors.push(ConfigError::new(
                                format!("{p}.shape"),
                                format!(
                                    "unknown shape {s:?}; use graph, diagnostic or log_analytics"
                                ),
                            ));
                        }
                        parsed
                    });
                    sources.push(SourceConfig::File {
                        id,
                        paths,
                        category: cat,
                        shape,
                    });
                }
                RawSourceConfig::Graph(g) => {
                    check_source!(g);
                    sources.push(SourceConfig::Graph(g));
                }
                RawSourceConfig::Eventhubs(c) => {
                    check_source!(c);
                    sources.push(SourceConfig::Eventhubs(c));
                }
                RawSourceConfig::Syslog(c) => {
                    check_source!(c);
                    sources.push(SourceConfig::Syslog(c));
                }
                RawSourceConfig::Blob(c) => {
                    check_source!(c);
                    sources.push(SourceConfig::Blob(c));
                }
            }
        }
        let mut sinks = Vec::new();
        for (i, s) in self.sinks.into_iter().enumerate() {
            match s {
                RawSinkConfig::File {
                    id,
                    path,
                    rotate_mib,
                    categories,
                    encoding,
                } => {
                    let p = format!("sinks[{i}]");
                    valid_id(&id, &format!("{p}.id"), &mut ids, &mut errors);
                    if path.as_os_str().is_empty() {
                        errors.push(ConfigError::new(format!("{p}.path"), "must not be empty"));
                    }
                    let rotate_mib = rotate_mib.unwrap_or(256);
                    if rotate_mib == 0 {
                        errors.push(ConfigError::new(
                            format!("{p}.rotate_mib"),
                            "must be at least 1",
                        ));
                    }
                    let categories = categories
                        .iter()
                        .enumerate()
                        .filter_map(|(j, c)| {
                            category(c, &format!("{p}.categories[{j}]"), &mut errors)
                        })
                        .collect();
                    sinks.push(SinkConfig::File {
                        id,
                        path,
                        rotate_bytes: rotate_mib * 1024 * 1024,
                        categories,
                        encoding,
                    });
                }
                RawSinkConfig::SplunkHec(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::SplunkHec(c));
                }
                RawSinkConfig::Syslog(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Syslog(c));
                }
                RawSinkConfig::Kafka(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Kafka(c));
                }
                RawSinkConfig::Elasticsearch(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Elasticsearch(c));
                }
                RawSinkConfig::Sentinel(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Sentinel(c));
                }
                RawSinkConfig::Lake(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Lake(c));
                }
            }
        }
        let coverage = crate::coverage::validate_config(self.coverage, &sources, &mut errors);
        let integrity = integrity_config(&self.integrity, &mut errors);
        let legal_holds = legal_holds(&self.archive.legal_hold, &mut errors);
        let detection = crate::detection::validate(self.detection, self.alerts, &mut errors);
        let mut watch = crate::watch::validate(&self.lag, &self.clock, self.silence, &mut errors);
        watch.publish_head = self.integrity.publish_alerts && integrity.is_some();
        // Routes apply to log-consuming sinks only (the lake replicates the archive's files).
        let sink_ids: Vec<&str> = sinks
            .iter()
            .filter(|s| s.consumes_log())
            .map(SinkConfig::id)
            .collect();
        let routes =
            crate::routes::validate(&self.routes, &self.sink_priority, &sink_ids, &mut errors);
        let report = crate::report::validate_config(self.report, &mut errors);
        let metrics = crate::metrics::validate_config(&self.metrics, &mut errors);
        if self.log.disk_budget_bytes == Some(0) {
            errors.push(ConfigError::new(
                "log.disk_budget_bytes",
                "must be at least 1 (omit it for no budget)",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            data_dir: self
                .data_dir
                .unwrap_or_else(|| PathBuf::from("entrail-data")),
            segment_bytes: segment_mib * 1024 * 1024,
            commit_delay: Duration::from_millis(commit_delay_ms),
            dedupe_horizon,
            zstd_level,
            compact_zstd_level: self.archive.compact_zstd_level,
            compaction: self.archive.compaction.unwrap_or_default(),
            row_group_rows,
            compact_below_bytes: self.archive.compact_below_mib.unwrap_or(64) * 1024 * 1024,
            archive_max_buffer_bytes: max_buffer_mib * 1024 * 1024,
            archive_spill: spill,
            archive_raw: self.archive.raw.unwrap_or_default(),
            default_retention_days: self.archive.default_retention_days,
            retention,
            legal_holds,
            sources,
            sinks,
            coverage,
            integrity,
            detection,
            watch,
            routes,
            report,
            disk_budget_bytes: self.log.disk_budget_bytes,
            metrics,
        })
    }
}

/// Validates `[[archive.legal_hold]]`.
fn legal_holds(
    raw: &[RawLegalHold],
    errors: &mut Vec<ConfigError>,
) -> Vec<store::archive::LegalHold> {
    let mut out = Vec::new();
    for (i, h) in raw.iter().enumerate() {
        let path = format!("archive.legal_hold[{i}]");
        let mut day = |field: &str, v: &Option<String>| {
            v.as_deref().and_then(|d| {
                let parsed = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
                if parsed.is_none() {
                    errors.push(ConfigError::new(
                        format!("{path}.{field}"),
                        format!("{d:?} is not a day (YYYY-MM-DD)"),
                    ));
                }
                parsed
            })
        };
        let (from, to) = (day("from", &h.from), day("to", &h.to));
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            errors.push(ConfigError::new(
                format!("{path}.to"),
                format!("{t} is before from {f}"),
            ));
        }
        let categories = h
            .categories
            .iter()
            .enumerate()
            .filter_map(|(j, c)| category(c, &format!("{path}.categories[{j}]"), errors))
            .collect();
        out.push(store::archive::LegalHold {
            categories,
            from,
            to,
            reason: h.reason.clone(),
        });
    }
    out
}

/// Validates `[integrity]`; `None` when disabled.
fn integrity_config(
    raw: &RawIntegrityConfig,
    errors: &mut Vec<ConfigError>,
) -> Option<store::seal::SealConfig> {
    let defaults = store::seal::SealConfig::default();
    let interval = match raw
        .checkpoint_interval
        .as_deref()
        .map(humantime::parse_duration)
    {
        None => defaults.checkpoint_interval,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            errors.push(ConfigError::new(
                "integrity.checkpoint_interval",
                format!("not a duration: {e}"),
            ));
            defaults.checkpoint_interval
        }
    };
    let hash = match raw.hash.as_deref() {
        None => defaults.hash,
        Some(name) => store::seal::HashAlg::from_name(name).unwrap_or_else(|| {
            errors.push(ConfigError::new(
                "integrity.hash",
                format!("{name:?} is not a hash; use \"blake3\" or \"sha256\""),
            ));
            defaults.hash
        }),
    };
    let cfg = store::seal::SealConfig {
        hash,
        signing_key_file: raw.signing_key_file.clone(),
        verify_key_file: raw.verify_key_file.clone(),
        checkpoint_every: raw.checkpoint_every.unwrap_or(defaults.checkpoint_every),
        checkpoint_interval: interval,
        publish_file: raw.publish_file.clone(),
        publish_log: raw.publish_log,
        ..defaults
    };
    if let Err(store::seal::SealError::Config { problems }) = cfg.validate() {
        for p in problems {
            let (field, message) = p.split_once(": ").unwrap_or(("", p.as_str()));
            errors.push(ConfigError::new(format!("integrity.{field}"), message));
        }
    }
    raw.enabled.unwrap_or(true).then_some(cfg)
}

/// A sink's own validation problems, under its path (its id is checked by `valid_id`).
fn sink_errors(
    path: &str,
    result: Result<(), Vec<sinks::ConfigError>>,
    errors: &mut Vec<ConfigError>,
) {
    if let Err(problems) = result {
        errors.extend(
            problems
                .into_iter()
                .filter(|e| e.field != "id")
                .map(|e| ConfigError::new(format!("{path}.{}", e.field), e.message)),
        );
    }
}

/// Adds a component's own validation problems (`(field, message)`) under `prefix`; its `id` is checked by
/// the caller (unique across sources), so an `id` problem is not reported twice.
fn nested(
    prefix: &str,
    problems: impl Iterator<Item = (String, String)>,
    errors: &mut Vec<ConfigError>,
) {
    errors.extend(
        problems
            .filter(|(field, _)| field != "id")
            .map(|(field, message)| ConfigError::new(format!("{prefix}.{field}"), message)),
    );
}
