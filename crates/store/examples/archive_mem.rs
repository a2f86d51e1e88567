//! The archive phase alone, for heap profiling (heaptrack, valgrind): generated diagnostic sign-ins are
//! decoded, encoded as log entries and written through [`Archive::write_encoded`] with the pipeline's
//! settings (64 MiB of partition buffers), committed and compacted in rounds, as `entrail run`'s archive
//! consumer does. Uses the system allocator, so heap profilers see every allocation.
//!
//! ```sh
//! cargo build -p store --example archive_mem
//! heaptrack /var/tmp/entrail-target/debug/examples/archive_mem --records 20000 --rounds 4 --dir /var/tmp/am
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;

use store::archive::{Archive, ArchiveConfig};
use store::query::bench::decode_generated;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut records = 20_000u64;
    let mut rounds = 4u64;
    let mut dir = PathBuf::from("/var/tmp/archive-mem");
    let mut buffer_mib = 64u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or("missing value")?;
        match a.as_str() {
            "--records" => records = v.parse()?,
            "--rounds" => rounds = v.parse()?,
            "--dir" => dir = PathBuf::from(v),
            "--buffer-mib" => buffer_mib = v.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = ArchiveConfig {
        flush_bytes: buffer_mib << 20,
        max_buffered_bytes: buffer_mib << 20,
        ..ArchiveConfig::default()
    };
    let mut archive = Archive::open(&dir, cfg)?;
    let tenant_cfg = sim::TenantConfig {
        seed: 42,
        users: 10_000,
        days: 3650,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&tenant_cfg);
    let mut events = sim::Generator::sign_ins_only(&tenant, &tenant_cfg).with_truth(false);
    let ingest = chrono::Utc::now().timestamp_micros();
    let per_round = records / rounds.max(1);
    let mut offset = 0u64;
    let mut entry = Vec::new();
    for round in 0..rounds {
        let mut n = 0;
        while n < per_round {
            let Some(event) = events.next() else { break };
            let Some(v) = sim::render(&event, sim::Shape::Diagnostic, tenant_cfg.quirks, &tenant)
            else {
                continue;
            };
            let json = serde_json::to_string(&v)?;
            for r in decode_generated(&json, ingest) {
                entry.clear();
                model::codec::encode(&r, &mut entry);
                archive.write_encoded(offset, &entry)?;
                offset += 1;
            }
            n += 1;
        }
        archive.commit()?;
        let c = archive.compact()?;
        eprintln!(
            "round {round}: {offset} entries, compaction merged {} files into {}",
            c.files_merged, c.files_written
        );
    }
    let bytes: u64 = archive.stats().iter().map(|t| t.bytes).sum();
    eprintln!("archive {bytes} bytes");
    Ok(())
}
