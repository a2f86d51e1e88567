//! Encoding records into `_bulk` items: the target (daily index or data stream), a deterministic `_id`, the
//! `create` action line and the document line (ECS, ECS + original, native, raw or OCSF).

use super::config::{ElasticConfig, Encoding, IndexMode};
use super::ecs;
use crate::ocsf::RecordEncoding;
use model::Record;
use serde_json::{Map, Value};

/// Longest `_id` Elasticsearch accepts (bytes).
const MAX_ID_BYTES: usize = 512;

/// The index or data stream `record` goes to.
pub fn target(config: &ElasticConfig, record: &Record) -> String {
    let category = record.category.name().to_ascii_lowercase();
    match config.mode {
        IndexMode::Daily => {
            // `YYYY-MM-DD` of the event time (UTC), as `YYYY.MM.DD`.
            let day: String = model::format_micros(record.event_time)
                .chars()
                .take(10)
                .map(|c| if c == '-' { '.' } else { c })
                .collect();
            format!("{}-{category}-{day}", config.index_prefix)
        }
        IndexMode::DataStream => {
            format!(
                "logs-{}.{category}-{}",
                config.dataset_prefix, config.namespace
            )
        }
    }
}

/// The document `_id`: the record's dedupe key and revision, so a resent batch finds its documents already
/// there (409 on `create`) instead of indexing them twice. Keys too long for an `_id` use the content hash.
pub fn document_id(record: &Record) -> String {
    let id = format!("{}.{}", record.key, record.revision);
    if id.len() <= MAX_ID_BYTES {
        id
    } else {
        format!("h{:032x}.{}", record.content_hash, record.revision)
    }
}

/// The document (source line) of `record`.
pub fn document(config: &ElasticConfig, record: &Record) -> Value {
    let category = record.category.name().to_ascii_lowercase();
    let dataset = format!("{}.{category}", config.dataset_prefix);
    let mut doc = match config.encoding {
        Encoding::Native => match record.to_json() {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        Encoding::Ecs | Encoding::EcsRaw => ecs::ecs_fields(record, &dataset),
        Encoding::Raw => match RecordEncoding::Raw.to_json(record) {
            Value::Object(m) => m,
            other => Map::from_iter([("message".to_owned(), other)]),
        },
        Encoding::Ocsf | Encoding::OcsfRaw => {
            let with_raw = config.encoding == Encoding::OcsfRaw;
            match crate::ocsf::to_ocsf(record, with_raw) {
                Value::Object(m) => m,
                _ => Map::new(),
            }
        }
    };
    doc.insert(
        "@timestamp".into(),
        model::format_micros(record.event_time).into(),
    );
    match config.encoding {
        Encoding::Ecs => {
            doc.insert("entrail".into(), record.to_json());
        }
        Encoding::EcsRaw => {
            if let Some(Value::Object(event)) = doc.get_mut("event") {
                event.insert("original".into(), record.raw.clone().into());
            }
        }
        Encoding::Native | Encoding::Raw | Encoding::Ocsf | Encoding::OcsfRaw => {}
    }
    if config.mode == IndexMode::DataStream {
        doc.insert(
            "data_stream".into(),
            serde_json::json!({"type": "logs", "dataset": dataset, "namespace": config.namespace}),
        );
    }
    Value::Object(doc)
}

/// Appends one `_bulk` item (`create` action line and document line, each ending in `\n`) to `out`.
pub fn encode_item(
    out: &mut Vec<u8>,
    config: &ElasticConfig,
    record: &Record,
) -> serde_json::Result<()> {
    let action = serde_json::json!({"create": {"_index": target(config, record), "_id": document_id(record)}});
    serde_json::to_writer(&mut *out, &action)?;
    out.push(b'\n');
    serde_json::to_writer(&mut *out, &document(config, record))?;
    out.push(b'\n');
    Ok(())
}
