//! Log consumers: the archive and the sinks, each reading from its own committed offset. An offset is
//! committed only after the consumer made the batch durable (archive commit, sink acknowledgement).

use crate::runtime::PipelineError;
use model::{Record, codec};
use sinks::Sink;
use store::archive::{Archive, ArchiveError};
use store::log::Log;

/// The archive's consumer name in the log.
pub(crate) const ARCHIVE_CONSUMER: &str = "archive";

const BATCH_ENTRIES: usize = 8192;
const BATCH_BYTES: usize = 16 << 20;

/// What a consumer did in one drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumeReport {
    /// Offset the consumer started at.
    pub from: u64,
    /// Offset it reached (next to read).
    pub to: u64,
    /// Records delivered.
    pub records: u64,
}

fn decode(offset: u64, bytes: &[u8]) -> Result<Record, PipelineError> {
    codec::decode(bytes).map_err(|e| PipelineError::Entry {
        offset,
        message: e.to_string(),
    })
}

/// Archives the log from the archive's own offset (kept in its manifest, atomically with its files) to the
/// end, committing every batch. Entries go to the archive encoded, as read (no owned record per entry).
pub(crate) fn archive(log: &Log, archive: &mut Archive) -> Result<ConsumeReport, PipelineError> {
    let from = archive.next_offset().max(log.start_offset());
    archive.skip_to(from);
    let mut report = ConsumeReport {
        from,
        to: from,
        ..ConsumeReport::default()
    };
    let mut reader = log.reader(from);
    while let Some((offset, bytes)) = reader.next_borrowed()? {
        archive.write_encoded(offset, bytes).map_err(|e| match e {
            ArchiveError::Entry { offset, source } => PipelineError::Entry {
                offset,
                message: source.to_string(),
            },
            other => PipelineError::Archive(other),
        })?;
        report.records += 1;
        if report.records.is_multiple_of(BATCH_ENTRIES as u64)
            && archive.uncommitted_rows() >= 1_000_000
        {
            report.to = archive.commit()?;
            log.commit(ARCHIVE_CONSUMER, report.to)?;
        }
    }
    report.to = archive.commit()?;
    log.commit(ARCHIVE_CONSUMER, report.to)?;
    Ok(report)
}

/// Feeds one sink from its committed offset to the end of the log, committing after each acknowledged batch.
/// A failed batch stops the drain with the offset still before it: nothing is skipped. Records the receiver
/// rejected as malformed ([`Sink::take_rejected`]) go to `quarantine` before the offset moves past them.
pub(crate) fn sink(
    log: &Log,
    sink: &mut dyn Sink,
    router: &mut crate::routes::SinkRouter<'_>,
    quarantine: &mut dyn FnMut(Vec<model::Rejected>) -> Result<(), PipelineError>,
) -> Result<ConsumeReport, PipelineError> {
    let from = log
        .committed(sink.id())
        .unwrap_or(0)
        .max(log.start_offset());
    let mut report = ConsumeReport {
        from,
        to: from,
        ..ConsumeReport::default()
    };
    let mut reader = log.reader(from);
    loop {
        let batch = reader.read_batch(BATCH_ENTRIES, BATCH_BYTES)?;
        let Some(last) = batch.last().map(|(o, _)| *o) else {
            break;
        };
        let mut records = Vec::with_capacity(batch.len());
        for (offset, bytes) in &batch {
            let r = decode(*offset, bytes)?;
            if router.admit(sink.accepts(r.category), &r, bytes.len()) {
                records.push(r);
            }
        }
        if let Err(source) = sink.send(&records) {
            router.failed();
            return Err(PipelineError::Sink {
                id: sink.id().to_owned(),
                source,
            });
        }
        let rejected = sink.take_rejected();
        if !rejected.is_empty() {
            quarantine(rejected)?;
        }
        report.records += records.len() as u64;
        report.to = last + 1;
        log.commit(sink.id(), report.to)?;
        router.acknowledged();
    }
    if router.filtered + router.sampled > 0 {
        tracing::info!(sink = %sink.id(), filtered = router.filtered, sampled = router.sampled, "records left out by routes (counted in sinks/volume.json)");
    }
    Ok(report)
}
