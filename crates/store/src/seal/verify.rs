//! Verification: replays the chain (hashes, links, checkpoint signatures, published heads), then checks
//! every sealed file against its seal and every file on disk against the chain. Each problem is a
//! [`Finding`] naming the file and the exact region (block and record range, row group, footer) or chain
//! entry; deletions by policy are listed apart as [`PolicyDeletion`]s.
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ed25519_dalek::{Signature, Verifier};

use super::chain::{ChainState, read_lines};
use super::entry::Body;
use super::files::{check_files, check_unsealed};
use super::report::{FindingKind, PolicyDeletion, VerifyOptions, VerifyReport};
use super::{CHAIN_FILE, SealError, hex, key_id, unhex};

/// Verifies the data directory in `opts`; see the module docs.
pub fn verify(opts: &VerifyOptions) -> Result<VerifyReport, SealError> {
    let mut report = VerifyReport {
        signatures_checked: opts.verify_key.is_some(),
        ..VerifyReport::default()
    };
    let (state, hashes, history, times) = replay(opts, &mut report)?;
    if let Some(path) = &opts.published {
        check_published(path, &hashes, &mut report)?;
    }
    check_files(opts, &state, &history, &times, &mut report)?;
    check_unsealed(opts, &state, &history, &mut report)?;
    Ok(report)
}

type Replayed = (
    ChainState,
    BTreeMap<u64, String>,
    BTreeMap<String, (u64, Body)>,
    BTreeMap<u64, i64>,
);

/// Replays the chain: links, hashes, signatures. Returns the state, every entry's hash by seq, the last
/// seal of every path ever sealed, and entry times.
fn replay(opts: &VerifyOptions, report: &mut VerifyReport) -> Result<Replayed, SealError> {
    let (lines, _, _) = read_lines(&opts.data_dir.join(CHAIN_FILE))?;
    let mut state = ChainState::new();
    let mut hashes = BTreeMap::new();
    let mut history = BTreeMap::new();
    let mut times = BTreeMap::new();
    let mut prev_hash = super::GENESIS.to_owned();
    let mut unsigned_deletions = Vec::new();
    let want_key = opts.verify_key.as_ref().map(key_id);
    for line in &lines {
        let expected = line.number as u64 - 1;
        let e = match &line.entry {
            Ok(e) => e,
            Err(reason) => {
                report.find(
                    FindingKind::ChainEntryEdited,
                    None,
                    Some(expected),
                    format!("{CHAIN_FILE} line {}", line.number),
                    format!("not a chain entry: {reason}"),
                );
                continue;
            }
        };
        report.entries += 1;
        let at = format!("{CHAIN_FILE} line {}", line.number);
        if e.seq != expected {
            report.find(FindingKind::ChainBroken, None, Some(e.seq), &at, format!("sequence {} where {expected} was expected: entries removed, inserted or reordered", e.seq));
        }
        if e.prev != prev_hash {
            report.find(FindingKind::ChainBroken, None, Some(e.seq), &at, "prev does not match the hash of the entry before it: entries removed, inserted or reordered");
        }
        let computed = hex(&e.compute_hash()?);
        if computed != e.hash {
            report.find(
                FindingKind::ChainEntryEdited,
                e.body.path(),
                Some(e.seq),
                &at,
                format!("{} entry content does not match its hash", e.body.kind()),
            );
        }
        prev_hash.clone_from(&e.hash);
        if let Body::Checkpoint {
            covered,
            key_id: signer,
        } = &e.body
        {
            report.checkpoints += 1;
            if *covered != e.seq {
                report.find(
                    FindingKind::ChainBroken,
                    None,
                    Some(e.seq),
                    &at,
                    format!("checkpoint covers {covered} entries but is entry {}", e.seq),
                );
            }
            if let (Some(key), Some(want)) = (&opts.verify_key, &want_key) {
                let ok = e
                    .sig
                    .as_deref()
                    .and_then(unhex)
                    .and_then(|s| Signature::from_slice(&s).ok())
                    .zip(unhex(&e.hash))
                    .is_some_and(|(sig, msg)| key.verify(&msg, &sig).is_ok());
                if ok && computed == e.hash {
                    report.signed_through = e.seq + 1;
                    unsigned_deletions.clear();
                } else {
                    let by = if signer.is_empty() {
                        "unsigned".to_owned()
                    } else {
                        format!("signed by key {signer}")
                    };
                    report.find(FindingKind::ChainRewritten, None, Some(e.seq), &at, format!("checkpoint signature does not verify with key {want} ({by}): the chain up to here was rewritten"));
                }
            }
        }
        if let Body::Deletion {
            path,
            reason,
            detail,
            ..
        } = &e.body
        {
            report.deleted_by_policy.push(PolicyDeletion {
                path: path.clone(),
                seq: e.seq,
                time_us: e.time_us,
                reason: reason.clone(),
                detail: detail.clone(),
            });
            unsigned_deletions.push((path.clone(), e.seq, at.clone()));
        }
        if let Some(p) = e.body.path()
            && !matches!(e.body, Body::Deletion { .. })
        {
            history.insert(p.to_owned(), (e.seq, e.body.clone()));
        }
        hashes.insert(e.seq, e.hash.clone());
        times.insert(e.seq, e.time_us);
        state.apply(e);
    }
    report.unsigned_tail = report.entries.saturating_sub(report.signed_through);
    if opts.verify_key.is_some() {
        for (path, seq, at) in unsigned_deletions {
            report.find(
                FindingKind::UnsignedDeletion,
                Some(&path),
                Some(seq),
                at,
                "deletion is not covered by a checkpoint signed with the configured key",
            );
        }
    }
    Ok((state, hashes, history, times))
}

/// Compares every published head with the chain entry of the same seq.
fn check_published(
    path: &Path,
    hashes: &BTreeMap<u64, String>,
    report: &mut VerifyReport,
) -> Result<(), SealError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if report.checkpoints > 0 {
                report.find(
                    FindingKind::ChainRewritten,
                    None,
                    None,
                    path.display().to_string(),
                    "the published heads file is missing although the chain has checkpoints",
                );
            }
            return Ok(());
        }
        Err(e) => return Err(SealError::io(path, e)),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(1 << 16)
            .read_until(b'\n', &mut line)
            .map_err(|e| SealError::io(path, e))?;
        if n == 0 {
            break;
        }
        number += 1;
        let at = format!("{} line {number}", path.display());
        let head: Option<(u64, String)> = serde_json::from_slice::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| Some((v.get("seq")?.as_u64()?, v.get("hash")?.as_str()?.to_owned())));
        let Some((seq, hash)) = head else {
            report.find(
                FindingKind::ChainRewritten,
                None,
                None,
                at,
                "published head is not readable",
            );
            continue;
        };
        report.published_heads += 1;
        match hashes.get(&seq) {
            None => report.find(FindingKind::ChainRewritten, None, Some(seq), at, format!("published checkpoint {seq} is not in the chain: the chain was truncated")),
            Some(h) if *h != hash => report.find(FindingKind::ChainRewritten, None, Some(seq), at, format!("published head {seq} has hash {hash}, the chain has {h}: the chain was rewritten")),
            Some(_) => {}
        }
    }
    Ok(())
}
