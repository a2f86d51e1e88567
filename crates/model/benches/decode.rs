//! Decode speed: generated diagnostic-settings sign-ins (the `bench ingest` input) through
//! [`model::normalize::decode_stream`], in MiB of input per CPU-second of the decoding thread.
//!
//! `cargo bench -p model --bench decode -- [RECORDS] [PASSES]` (defaults 20000 and 5; 200 and 1 when run as a test). Decoding runs on one
//! thread; CPU time is that thread's, from `/proc/thread-self/schedstat`, so other load on the machine
//! changes wall time but not the figure much. Each pass also parses the same lines into `serde_json::Value`
//! (parsing alone, no normalization) as an in-run baseline, and reports the ratio.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use model::normalize::{DecodeContext, Format, decode_stream};

/// The allocator the `entrail` binary uses, so allocation costs what it costs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

fn thread_cpu_ns() -> u64 {
    #[allow(clippy::disallowed_methods)]
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn generate(records: usize) -> Vec<u8> {
    let cfg = sim::TenantConfig {
        seed: 7,
        users: 10_000,
        days: 3650,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut out = Vec::new();
    let mut n = 0;
    for event in sim::Generator::sign_ins_only(&tenant, &cfg).with_truth(false) {
        if n >= records {
            break;
        }
        let Some(v) = sim::render(&event, sim::Shape::Diagnostic, cfg.quirks, &tenant) else {
            continue;
        };
        serde_json::to_writer(&mut out, &v).unwrap();
        out.push(b'\n');
        n += 1;
    }
    out
}

/// `DECODE_DUMP=<file>`: instead of measuring, writes every field of every record (content hash and raw
/// included) decoded from the bench input and from every file under `data/testdata/normalize` and
/// `../shared/testdata`, to compare two builds byte for byte.
fn dump(path: &str, input: &[u8]) {
    use std::io::{BufRead, Write};
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                files(&p, out);
            } else if p
                .extension()
                .is_some_and(|e| e == "jsonl" || e == "json" || e == "csv")
                && !p.to_string_lossy().contains(".expected.")
            {
                out.push(p);
            }
        }
    }
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut list = Vec::new();
    files(&root.join("data/testdata/normalize"), &mut list);
    files(&root.join("../shared/testdata"), &mut list);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut one = |name: &str, mut reader: &mut dyn BufRead| {
        let format = model::normalize::detect_format(reader.fill_buf().unwrap());
        let cx = DecodeContext {
            source: "dump".into(),
            location: name.into(),
            ingest_time: 1_709_600_000_000_000,
            ..DecodeContext::default()
        };
        writeln!(out, "== {name}").unwrap();
        for r in decode_stream(&mut reader, format, cx) {
            writeln!(out, "{r:?}").unwrap();
        }
    };
    one("bench", &mut &input[..]);
    for p in list {
        #[allow(clippy::disallowed_methods)]
        let bytes = std::fs::read(&p).unwrap();
        one(&p.to_string_lossy(), &mut &bytes[..]);
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // `cargo test --all-targets` runs this binary without `--bench`, to prove it works: a few records do.
    let measuring = std::env::args().any(|a| a == "--bench");
    let (records, passes) = if measuring { (20_000, 5) } else { (200, 1) };
    let records: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(records);
    let passes: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(passes);
    let input = generate(records);
    if let Ok(path) = std::env::var("DECODE_DUMP") {
        dump(&path, &input);
        return;
    }
    let mib = input.len() as f64 / (1024.0 * 1024.0);
    println!(
        "decode: {records} diagnostic sign-ins, {mib:.1} MiB ({} bytes/record), {passes} passes",
        input.len() / records.max(1)
    );
    let mut rates = Vec::new();
    let mut ratios = Vec::new();
    for pass in 0..passes {
        let cx = DecodeContext {
            source: "bench".into(),
            location: "memory".into(),
            ..DecodeContext::default()
        };
        let cpu0 = thread_cpu_ns();
        let wall0 = Instant::now();
        let mut ok = 0usize;
        let mut bad = 0usize;
        for r in decode_stream(&input[..], Format::JsonLines, cx) {
            match r {
                Ok(rec) => {
                    ok += 1;
                    std::hint::black_box(&rec);
                }
                Err(_) => bad += 1,
            }
        }
        let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e9;
        let rate = mib / cpu.max(1e-9);
        let base0 = thread_cpu_ns();
        for line in input.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line).expect("generated JSON");
            std::hint::black_box(&v);
        }
        let base = (thread_cpu_ns() - base0) as f64 / 1e9;
        let base_rate = mib / base.max(1e-9);
        println!(
            "pass {pass}: {ok} records ({bad} rejected), CPU {cpu:.3} s, wall {:.3} s, {rate:.1} MiB per CPU-second, {:.1} µs per record; serde_json::Value parse alone {base_rate:.1} MiB per CPU-second, ratio {:.2}x",
            wall0.elapsed().as_secs_f64(),
            cpu * 1e6 / ok.max(1) as f64,
            rate / base_rate
        );
        rates.push(rate);
        ratios.push(rate / base_rate);
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    ratios.sort_by(|a, b| a.total_cmp(b));
    println!(
        "median: {:.1} MiB per CPU-second, {:.2}x serde_json::Value parsing",
        rates[rates.len() / 2],
        ratios[ratios.len() / 2]
    );
}
