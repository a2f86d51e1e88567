//! Golden-file assertions for tests: compare output with a checked-in file; `UPDATE_GOLDEN=1` rewrites it.

use std::io::Read;
use std::path::Path;

/// Largest golden file read back (64 MiB).
const MAX_GOLDEN_BYTES: u64 = 64 << 20;

/// Whether `UPDATE_GOLDEN` asks for files to be rewritten (set, non-empty and not `0`).
pub fn update_requested() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Compares `actual` with the file at `path`.
///
/// With `UPDATE_GOLDEN=1` the file (and its parent directories) is written instead. A missing file fails
/// with a message telling to run with `UPDATE_GOLDEN=1`; a mismatch fails showing the first differing line.
#[track_caller]
pub fn assert_golden(path: &Path, actual: &str) {
    if update_requested() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let mut expected = String::new();
    let read = std::fs::File::open(path)
        .and_then(|f| f.take(MAX_GOLDEN_BYTES).read_to_string(&mut expected));
    if let Err(e) = read {
        panic!(
            "golden file {} cannot be read ({e}); run with UPDATE_GOLDEN=1 to create it",
            path.display()
        );
    }
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "golden mismatch: {} (first difference at line {}; expected {} lines, got {}); review and rerun with UPDATE_GOLDEN=1",
            path.display(),
            line + 1,
            expected.lines().count(),
            actual.lines().count()
        );
    }
}
