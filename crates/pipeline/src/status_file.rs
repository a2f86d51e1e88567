//! What the continuous sources (Event Hubs, Blob, syslog) share: their status snapshots
//! (`<kind>-status.json` in the data directory: written atomically, read leniently), the error text of a
//! failed source, and the loop that runs the sources while saving snapshots.

use crate::runtime::PipelineError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sources::graph::CancellationToken;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// Writes `value` as pretty JSON to `path` (temp file, then rename); a failure is logged, never fatal.
pub(crate) fn save<T: Serialize + ?Sized>(path: &Path, value: &T, what: &str) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let tmp = path.with_extension("json.tmp");
    let r = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = r {
        tracing::warn!(path = %path.display(), error = %e, "writing {what} status");
    }
}

/// Reads a snapshot [`save`] wrote: the default when the file is missing or unreadable (logged).
pub(crate) fn load<T: DeserializeOwned + Default>(path: &Path, what: &str) -> T {
    let Ok(file) = std::fs::File::open(path) else {
        return T::default();
    };
    let parsed = model::limits::read_capped(file, 16 << 20)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
    parsed.unwrap_or_else(|e| {
        tracing::warn!(path = %path.display(), error = %e, "{what} status unreadable");
        T::default()
    })
}

/// A source's failure with its whole cause chain in the text.
pub(crate) fn source_error(id: &str, e: &dyn std::error::Error) -> PipelineError {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    PipelineError::SourceStopped {
        id: id.to_owned(),
        message,
    }
}

/// Runs every source future to its end while `save` writes a snapshot every `every` (and once at the end);
/// the first error wins.
pub(crate) async fn run_with_snapshots<F>(
    runs: impl IntoIterator<Item = F>,
    shutdown: &CancellationToken,
    every: Duration,
    save: impl Fn(),
) -> Result<(), PipelineError>
where
    F: Future<Output = Result<(), PipelineError>>,
{
    let snapshots = async {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(every) => save(),
            }
        }
    };
    let (results, ()) = tokio::join!(futures::future::join_all(runs), snapshots);
    save();
    results
        .into_iter()
        .collect::<Result<Vec<()>, _>>()
        .map(|_| ())
}
