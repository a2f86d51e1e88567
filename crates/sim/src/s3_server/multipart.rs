//! Multipart upload of the S3 server: CreateMultipartUpload, UploadPart, CompleteMultipartUpload (part list
//! checked: order, ETags, the 5 MiB minimum of non-last parts, `If-None-Match`) and AbortMultipartUpload.

use super::handlers::{Reply, Req, err, no_such_upload, same_etag, xml_ok};
use super::md5::md5;
use super::xml::{NS, elements, escape, hex, unescape};
use super::{MIN_PART_BYTES, Object, Part, Upload};
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::Utc;
use std::sync::atomic::Ordering;

impl Req<'_> {
    pub(super) fn create_upload(&self) -> Reply {
        let id = {
            let mut store = self.app.store();
            store.next_upload += 1;
            let id = format!(
                "{}-{:016x}",
                store.next_upload,
                u64::from_le_bytes(md5(self.key.as_bytes())[..8].try_into().unwrap_or([0; 8]))
                    ^ store.next_upload
            );
            store.uploads.insert(
                id.clone(),
                Upload {
                    bucket: self.bucket.to_owned(),
                    key: self.key.to_owned(),
                    parts: Default::default(),
                    content_type: self.content_type(),
                },
            );
            id
        };
        Ok(xml_ok(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult xmlns=\"{NS}\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
            escape(self.bucket),
            escape(self.key),
            escape(&id)
        )))
    }

    /// The upload named by `uploadId`, which must be for this bucket and key.
    fn upload_id(&self) -> &str {
        self.param("uploadId").unwrap_or_default()
    }

    pub(super) fn upload_part(&self) -> Reply {
        let number = self
            .param("partNumber")
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                err(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    "Part number must be an integer between 1 and 10000, inclusive",
                )
            })?;
        self.check_digests()?;
        let digest = md5(&self.body);
        {
            let mut store = self.app.store();
            let upload = store
                .uploads
                .get_mut(self.upload_id())
                .filter(|u| u.bucket == self.bucket && u.key == self.key)
                .ok_or_else(no_such_upload)?;
            upload.parts.insert(
                number,
                Part {
                    data: self.body.clone(),
                    md5: digest,
                },
            );
        }
        self.app.stats.parts.fetch_add(1, Ordering::Relaxed);
        Ok((
            StatusCode::OK,
            [(header::ETAG, format!("\"{}\"", hex(&digest)))],
        )
            .into_response())
    }

    pub(super) fn complete_upload(&self) -> Reply {
        let doc = String::from_utf8_lossy(&self.body);
        let malformed = || {
            err(
                StatusCode::BAD_REQUEST,
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
            )
        };
        let mut listed = Vec::new();
        for part in elements(&doc, "Part") {
            let number = elements(part, "PartNumber")
                .first()
                .and_then(|n| n.trim().parse::<u32>().ok())
                .ok_or_else(malformed)?;
            let etag = elements(part, "ETag")
                .first()
                .map(|e| unescape(e))
                .ok_or_else(malformed)?;
            listed.push((number, etag));
        }
        if listed.is_empty() {
            return Err(malformed());
        }
        if listed.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
            ));
        }
        let mut store = self.app.store();
        let upload = store
            .uploads
            .get(self.upload_id())
            .filter(|u| u.bucket == self.bucket && u.key == self.key)
            .ok_or_else(no_such_upload)?;
        let mut parts: Vec<&Part> = Vec::with_capacity(listed.len());
        for (number, etag) in &listed {
            match upload.parts.get(number) {
                Some(p) if same_etag(&hex(&p.md5), etag) => parts.push(p),
                _ => {
                    return Err(err(
                        StatusCode::BAD_REQUEST,
                        "InvalidPart",
                        format!("part {number} was not uploaded or its ETag does not match"),
                    ));
                }
            }
        }
        if let Some((i, small)) = parts
            .iter()
            .enumerate()
            .take(parts.len() - 1)
            .find(|(_, p)| p.data.len() < MIN_PART_BYTES)
        {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "EntityTooSmall",
                format!(
                    "Your proposed upload is smaller than the minimum allowed object size: part {} has {} bytes, the minimum is {MIN_PART_BYTES}",
                    listed[i].0,
                    small.data.len()
                ),
            ));
        }
        let mut data = Vec::with_capacity(parts.iter().map(|p| p.data.len()).sum());
        let mut digests = Vec::with_capacity(parts.len() * 16);
        for p in &parts {
            data.extend_from_slice(&p.data);
            digests.extend_from_slice(&p.md5);
        }
        let etag = format!("\"{}-{}\"", hex(&md5(&digests)), parts.len());
        let content_type = upload.content_type.clone();
        let objects = store.buckets.entry(self.bucket.to_owned()).or_default();
        self.check_write_conditions(objects.get(self.key))?;
        objects.insert(
            self.key.to_owned(),
            Object {
                data: Bytes::from(data),
                etag: etag.clone(),
                modified: Utc::now(),
                content_type,
            },
        );
        store.uploads.remove(self.upload_id());
        drop(store);
        self.app
            .stats
            .completed_uploads
            .fetch_add(1, Ordering::Relaxed);
        Ok(xml_ok(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult xmlns=\"{NS}\"><Location>/{}/{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
            escape(self.bucket),
            escape(self.key),
            escape(self.bucket),
            escape(self.key),
            escape(&etag)
        )))
    }

    pub(super) fn abort_upload(&self) -> Reply {
        let mut store = self.app.store();
        let found = store
            .uploads
            .get(self.upload_id())
            .is_some_and(|u| u.bucket == self.bucket && u.key == self.key);
        if !found {
            return Err(no_such_upload());
        }
        store.uploads.remove(self.upload_id());
        drop(store);
        self.app
            .stats
            .aborted_uploads
            .fetch_add(1, Ordering::Relaxed);
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}
