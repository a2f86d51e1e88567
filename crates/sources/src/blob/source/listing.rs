//! Listing for the Blob source: the containers to read, the resource folders of a container (walked with
//! the delimiter and cached for `discover_every`), and the hour folders `y=/m=/d=/h=` of one resource from
//! the container's open hour to now; plus the hour arithmetic of blob names.

use super::BlobSource;
use super::BlobSourceError;
use crate::blob::client::BlobError;
use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use object_store::ObjectStore;
use object_store::path::Path;
use std::time::Instant;

/// Maps an object_store error to a [`BlobError`] naming what was being done.
pub(super) fn store_err(
    action: impl Into<String>,
) -> impl FnOnce(object_store::Error) -> BlobError {
    let action = action.into();
    move |source| BlobError::Store { action, source }
}

/// `t` cut down to the start of its hour.
pub(super) fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(t.year(), t.month(), t.day(), t.hour(), 0, 0)
        .single()
        .unwrap_or(t)
}

/// The hour of a blob from its `y=/m=/d=/h=` folders.
pub(crate) fn hour_of(name: &str) -> Option<DateTime<Utc>> {
    let mut v = [None::<u32>; 4];
    let mut i = 0;
    for seg in name.split('/') {
        let want = ["y=", "m=", "d=", "h="][i];
        if let Some(n) = seg.strip_prefix(want).and_then(|n| n.parse().ok()) {
            v[i] = Some(n);
            i += 1;
            if i == 4 {
                break;
            }
        }
    }
    let [Some(y), Some(m), Some(d), Some(h)] = v else {
        return None;
    };
    Utc.with_ymd_and_hms(i32::try_from(y).ok()?, m, d, h, 0, 0)
        .single()
}

/// The last segment of a path (a folder name such as `y=2024`).
fn last_part(p: &Path) -> String {
    p.parts()
        .next_back()
        .map(|x| x.as_ref().to_owned())
        .unwrap_or_default()
}

/// Year, month, day and hour of `t`, to compare with the `y=/m=/d=/h=` folders.
fn parts_of(t: DateTime<Utc>) -> [u32; 4] {
    [
        u32::try_from(t.year()).unwrap_or(0),
        t.month(),
        t.day(),
        t.hour(),
    ]
}

impl BlobSource {
    pub(super) async fn containers(&self) -> Result<Vec<String>, BlobSourceError> {
        if !self.config.containers.is_empty() {
            return Ok(self.config.containers.clone());
        }
        if let Some((at, list)) = &*self.containers.lock().unwrap_or_else(|p| p.into_inner())
            && at.elapsed() < self.settings.discover_every
        {
            return Ok(list.clone());
        }
        let mut list: Vec<String> = self
            .client
            .list_containers("insights-")
            .await?
            .into_iter()
            .filter(|c| c.starts_with("insights-logs-") || c == "insights-activity-logs")
            .collect();
        list.sort();
        *self.containers.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// The folders directly above a `y=` level (resource ids), walked with the delimiter and cached.
    pub(super) async fn resources(
        &self,
        container: &str,
        store: &dyn ObjectStore,
    ) -> Result<Vec<Option<Path>>, BlobError> {
        if let Some((at, list)) = self
            .resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(container)
            && at.elapsed() < self.settings.discover_every
        {
            return Ok(list.clone());
        }
        let mut out = Vec::new();
        let mut stack: Vec<Option<Path>> = vec![None];
        while let Some(p) = stack.pop() {
            let r = store
                .list_with_delimiter(p.as_ref())
                .await
                .map_err(store_err(format!(
                    "listing {container}/{}",
                    p.clone().unwrap_or_default()
                )))?;
            let mut is_resource = false;
            for cp in r.common_prefixes {
                if last_part(&cp).starts_with("y=") {
                    is_resource = true;
                } else {
                    stack.push(Some(cp));
                }
            }
            if is_resource {
                out.push(p);
            }
        }
        out.sort();
        self.resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(container.to_owned(), (Instant::now(), out.clone()));
        Ok(out)
    }

    /// The existing hour folders of one resource from `from` to `now`, oldest first.
    pub(super) async fn hours(
        &self,
        container: &str,
        store: &dyn ObjectStore,
        resource: &Option<Path>,
        from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, Path)>, BlobError> {
        let (lo, hi) = (parts_of(from), parts_of(now));
        let mut level: Vec<(Option<Path>, Vec<u32>)> = vec![(resource.clone(), Vec::new())];
        for tag in ["y=", "m=", "d=", "h="] {
            let mut next = Vec::new();
            for (p, nums) in level {
                let r = store
                    .list_with_delimiter(p.as_ref())
                    .await
                    .map_err(store_err(format!(
                        "listing {container}/{}",
                        p.clone().unwrap_or_default()
                    )))?;
                for cp in r.common_prefixes {
                    let Some(v) = last_part(&cp)
                        .strip_prefix(tag)
                        .and_then(|v| v.parse::<u32>().ok())
                    else {
                        continue;
                    };
                    let mut n = nums.clone();
                    n.push(v);
                    let k = n.len();
                    if n.as_slice() >= &lo[..k] && n.as_slice() <= &hi[..k] {
                        next.push((Some(cp), n));
                    }
                }
            }
            level = next;
        }
        let mut out: Vec<(DateTime<Utc>, Path)> = level
            .into_iter()
            .filter_map(|(p, n)| {
                let t = Utc
                    .with_ymd_and_hms(i32::try_from(n[0]).ok()?, n[1], n[2], n[3], 0, 0)
                    .single()?;
                Some((t, p?))
            })
            .collect();
        out.sort();
        Ok(out)
    }
}
