//! File source configuration (validated by the pipeline's config; this is the built form).

use model::{Category, Shape};

/// What to read and how.
#[derive(Debug, Clone)]
pub struct FileSourceConfig {
    /// Source name (goes into `_Source` and quarantine positions).
    pub id: String,
    /// Paths or glob patterns.
    pub paths: Vec<String>,
    /// Category of every record, instead of detecting it.
    pub category: Option<Category>,
    /// Shape of every record, instead of detecting it.
    pub shape: Option<Shape>,
    /// Records per batch (default 4096).
    pub batch_records: usize,
}

impl FileSourceConfig {
    /// A config for `paths` with detection on and default batching.
    pub fn new(id: impl Into<String>, paths: Vec<String>) -> FileSourceConfig {
        FileSourceConfig {
            id: id.into(),
            paths,
            category: None,
            shape: None,
            batch_records: 4096,
        }
    }
}
