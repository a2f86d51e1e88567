//! Azure Activity analytics: diagnostic settings deleted or changed (log tampering), for Azure resources
//! (`MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE|WRITE`) and Entra ID itself
//! (`microsoft.aadiam/diagnosticSettings/delete|write`).

use super::info::Fired;
use super::{Analytics, text};
use crate::eval::Match;
use model::Record;

/// Whether an operation deletes or writes diagnostic settings (case ignored).
pub(super) fn diagnostic_change(op: &str) -> bool {
    let op = op.trim().to_ascii_lowercase();
    op.contains("/diagnosticsettings/") && (op.ends_with("/delete") || op.ends_with("/write"))
}

impl Analytics {
    /// Azure Activity records.
    pub(super) fn observe_activity(&mut self, r: &Record, out: &mut Vec<Match>) {
        let op = text(r, "OperationNameValue").or_else(|| text(r, "OperationName"));
        if !op.is_some_and(diagnostic_change) {
            return;
        }
        // One alert per operation: the final event, not its `Start`, and not a failure.
        let status = text(r, "ActivityStatusValue")
            .or_else(|| text(r, "ActivityStatus"))
            .unwrap_or("")
            .to_ascii_lowercase();
        if status.starts_with("fail") || status.starts_with("start") {
            return;
        }
        let resource = text(r, "ResourceId")
            .or_else(|| text(r, "_ResourceId"))
            .unwrap_or("");
        let f = Fired::single(r, "ResourceId", resource);
        out.push(f.into_match(&self.infos[super::DIAGNOSTIC_I]));
    }
}
