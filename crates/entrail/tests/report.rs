//! `entrail report volume` and `entrail report --html` over an archive of three simulated days: the figures
//! equal what was ingested (records per category and day = generated events = manifest rows; archive bytes =
//! the Parquet files on disk; cost arithmetic exact), a hostile alert title is shown as text, and the page
//! renders in headless Chromium with charts that carry data (DOM) and a screenshot that is not blank.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // the test reads its own small outputs (manifest, page, screenshot) whole

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use testkit::cli::{Entrail, ok};

const ENTRAIL: Entrail = testkit::entrail!();

const CATEGORIES: &[&str] = &[
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "AuditLogs",
    "ServicePrincipalSignInLogs",
];

/// Three days from Monday 2024-03-04 of a 30-user tenant; returns the generated count per (category, day).
fn write_days(path: &Path) -> BTreeMap<(String, String), u64> {
    let cfg = sim::TenantConfig {
        users: 30,
        days: 3,
        duplicate_rate: 0.0,
        republish_rate: 0.0,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut counts = BTreeMap::new();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for e in sim::Generator::new(&tenant, &cfg)
        .with_category_names(CATEGORIES)
        .with_truth(false)
    {
        if let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) {
            serde_json::to_writer(&mut out, &serde_json::json!({ "records": [v] })).unwrap();
            out.write_all(b"\n").unwrap();
            *counts
                .entry((
                    e.category.to_string(),
                    e.time.format("%Y-%m-%d").to_string(),
                ))
                .or_default() += 1;
        }
    }
    out.flush().unwrap();
    counts
}

/// Sink traffic for the three days (and one day outside the window): splunk sends 1 GB/day and its route
/// filter keeps 0.25 GB/day out; `archive-copy` is not priced.
fn write_volume(data: &Path) {
    let day = |sent: u64, filtered: u64| {
        serde_json::json!({"sent_records": sent / 1000, "sent_bytes": sent,
                           "filtered_records": filtered / 1000, "filtered_bytes": filtered})
    };
    let v = serde_json::json!({"version": 1, "sinks": {
        "splunk": {"2024-03-04": day(1_000_000_000, 250_000_000), "2024-03-05": day(1_000_000_000, 250_000_000),
                   "2024-03-06": day(1_000_000_000, 250_000_000), "2024-03-07": day(7_000_000_000, 0)},
        "archive-copy": {"2024-03-05": day(123_456, 0)}
    }});
    std::fs::create_dir_all(data.join("sinks")).unwrap();
    std::fs::write(data.join("sinks/volume.json"), v.to_string()).unwrap();
}

struct Fixture {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    generated: BTreeMap<(String, String), u64>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("days.json");
    let generated = write_days(&file);
    let data = dir.path().join("data");
    let config = dir.path().join("entrail.toml");
    std::fs::write(
        &config,
        "[report.price_per_gb]\nsplunk = 2.5\nsentinel = 4.0\n",
    )
    .unwrap();
    ok(&ENTRAIL.run_data_config(
        &data,
        &config,
        &["import", "--quiet", file.to_str().unwrap()],
    ));
    write_volume(&data);
    Fixture {
        _dir: dir,
        data,
        config,
        generated,
    }
}

const WINDOW: &[&str] = &["--since", "2024-03-04", "--until", "2024-03-07"];

#[test]
fn volume_equals_what_was_ingested_and_cost_is_exact() {
    let f = fixture();
    let mut args = vec!["report", "volume", "--json"];
    args.extend_from_slice(WINDOW);
    let r: serde_json::Value =
        serde_json::from_str(&ok(&ENTRAIL.run_data_config(&f.data, &f.config, &args))).unwrap();
    assert_eq!(r["days"], 3);
    assert_eq!(r["window"]["first_day"], "2024-03-04");
    assert_eq!(r["window"]["last_day"], "2024-03-06");

    // Records per category and day = the events generated, and = the manifest's rows.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.data.join("archive/_manifest.json")).unwrap())
            .unwrap();
    let mut manifest_rows: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut manifest_bytes: BTreeMap<(String, String), u64> = BTreeMap::new();
    for file in manifest["files"].as_array().unwrap() {
        let k = (
            file["table"].as_str().unwrap().to_owned(),
            file["day"].as_str().unwrap().to_owned(),
        );
        *manifest_rows.entry(k.clone()).or_default() += file["rows"].as_u64().unwrap();
        // The file's real size on disk, not the manifest's word for it.
        let on_disk =
            std::fs::metadata(f.data.join("archive").join(file["path"].as_str().unwrap()))
                .unwrap()
                .len();
        *manifest_bytes.entry(k).or_default() += on_disk;
    }
    let cats = r["categories"].as_array().unwrap();
    let names: Vec<&str> = cats
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    for c in CATEGORIES {
        assert!(names.contains(c), "{c} missing from {names:?}");
    }
    let mut seen = 0;
    for c in cats {
        let (category, table) = (
            c["category"].as_str().unwrap(),
            c["table"].as_str().unwrap(),
        );
        let mut records = 0;
        for d in c["days"].as_array().unwrap() {
            let day = d["day"].as_str().unwrap().to_owned();
            let n = d["records"].as_u64().unwrap();
            assert_eq!(
                Some(&n),
                f.generated.get(&(category.to_owned(), day.clone())),
                "{category} {day}: records vs generated"
            );
            assert_eq!(
                Some(&n),
                manifest_rows.get(&(table.to_owned(), day.clone())),
                "{category} {day}: records vs manifest"
            );
            assert_eq!(
                d["archive_bytes"].as_u64(),
                manifest_bytes
                    .get(&(table.to_owned(), day.clone()))
                    .copied(),
                "{category} {day}: archive bytes vs files on disk"
            );
            assert!(
                d["raw_bytes"].as_u64().unwrap() > n * 100,
                "{category} {day}: raw bytes"
            );
            records += n;
            seen += 1;
        }
        assert_eq!(c["records"].as_u64().unwrap(), records);
        let per_day = c["records_per_day"].as_f64().unwrap();
        assert!((per_day - records as f64 / 3.0).abs() < 1e-9);
    }
    assert_eq!(
        seen,
        f.generated.len(),
        "every generated (category, day) is reported"
    );
    let total: u64 = f.generated.values().sum();
    assert_eq!(r["totals"]["records"].as_u64().unwrap(), total);

    // Cost: 3 GB over 3 days = 30 GB/month at 2.5 = 75; 0.75 GB filtered = 7.5 GB/month = 18.75 saved.
    let sinks = r["sinks"].as_array().unwrap();
    let splunk = sinks.iter().find(|s| s["sink"] == "splunk").unwrap();
    assert_eq!(splunk["total"]["sent_bytes"], 3_000_000_000_u64);
    assert_eq!(splunk["monthly_cost"].as_f64(), Some(75.0));
    assert_eq!(splunk["monthly_savings"].as_f64(), Some(18.75));
    let copy = sinks.iter().find(|s| s["sink"] == "archive-copy").unwrap();
    assert!(copy["monthly_cost"].is_null());
    assert_eq!(copy["total"]["sent_bytes"], 123_456);
    assert_eq!(r["totals"]["monthly_cost"].as_f64(), Some(75.0));
    assert_eq!(r["unmatched_prices"], serde_json::json!(["sentinel"]));

    // The table says the same.
    let mut args = vec!["report", "volume", "--daily"];
    args.extend_from_slice(WINDOW);
    let table = ok(&ENTRAIL.run_data_config(&f.data, &f.config, &args));
    assert!(
        table.contains("SignInLogs") && table.contains("2024-03-05"),
        "{table}"
    );
    assert!(
        table.contains("75.00") && table.contains("18.75"),
        "{table}"
    );
    assert!(table.contains("sentinel"), "{table}");

    // A bad price is a config error (exit 2) naming its path.
    std::fs::write(&f.config, "[report.price_per_gb]\nsplunk = -3\n").unwrap();
    let out = ENTRAIL.run_data_config(&f.data, &f.config, &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("report.price_per_gb.splunk"));
}

const HOSTILE_TITLE: &str = "<img src=x onerror=alert(1)><b>pwned</b>";

fn write_alert(data: &Path) {
    let alert = serde_json::json!({
        "activity_id": 1, "activity_name": "Create", "category_uid": 2, "category_name": "Findings",
        "class_uid": 2004, "class_name": "Detection Finding", "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "metadata": {"version": "1.3.0", "product": {"name": "entrail", "vendor_name": "entrail", "version": "0"},
                     "modified_time": 1_709_600_000_000_i64},
        "time": 1_709_600_000_000_i64, "severity_id": 4, "severity": "High", "status_id": 1, "status": "New",
        "count": 3, "message": "password spray",
        "finding_info": {"uid": "alert-1", "title": HOSTILE_TITLE, "types": ["SignInLogs"],
            "analytic": {"uid": "r1", "name": "rule", "type": "Rule", "type_id": 1},
            "first_seen_time": 1_709_600_000_000_i64, "last_seen_time": 1_709_603_600_000_i64},
        "observables": [{"name": "user", "type": "User Name", "type_id": 4,
                         "value": "<script>evil()</script>@contoso.com"}],
        "unmapped": {"entity": "UserPrincipalName=mallory@contoso.com", "evidence_total": 3, "revision": 1}
    });
    std::fs::create_dir_all(data.join("alerts")).unwrap();
    std::fs::write(data.join("alerts/alerts.jsonl"), format!("{alert}\n")).unwrap();
}

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(profile: &Path, args: &[&str], page: &Path) -> Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/install-test-deps (installs Debian's chromium)"
    );
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

/// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) into (width, height, pixels).
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut pos, mut idat) = (8, Vec::new());
    let (mut width, mut height, mut channels) = (0, 0, 0);
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = &bytes[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("PNG colour type {t}"),
                };
                assert_eq!(data[12], 0, "interlaced PNG");
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width * channels;
    assert_eq!(raw.len(), height * (stride + 1), "PNG data size");
    let mut img = vec![0u8; height * stride];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        for x in 0..stride {
            let v = raw[y * (stride + 1) + 1 + x];
            let a = if x >= channels {
                img[y * stride + x - channels]
            } else {
                0
            };
            let b = if y > 0 { img[(y - 1) * stride + x] } else { 0 };
            let c = if x >= channels && y > 0 {
                img[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("PNG filter {f}"),
            };
            img[y * stride + x] = v.wrapping_add(pred);
        }
    }
    let pixels = img
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (width, height, pixels)
}

#[test]
fn html_report_is_escaped_and_renders_in_headless_chromium() {
    let f = fixture();
    write_alert(&f.data);
    let page = f.data.parent().unwrap().join("report.html");
    let mut args = vec!["report", "--html", page.to_str().unwrap()];
    args.extend_from_slice(WINDOW);
    ok(&ENTRAIL.run_data_config(&f.data, &f.config, &args));
    let html = std::fs::read_to_string(&page).unwrap();

    // The hostile title and user name are text, not markup; the page has no script and fetches nothing.
    assert!(!html.contains(HOSTILE_TITLE) && !html.contains("<img") && !html.contains("<b>pwned"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;pwned&lt;/b&gt;"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(html.contains("&lt;script&gt;evil()&lt;/script&gt;@contoso.com"));
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count(),
        "the page refers to nothing outside itself"
    );
    for section in [
        "id=\"coverage\"",
        "id=\"volume\"",
        "id=\"lag\"",
        "id=\"alerts\"",
        "id=\"sinks\"",
    ] {
        assert!(html.contains(section), "missing {section}");
    }

    // The DOM Chromium built: the charts' bars have non-zero sizes, the hostile title is a text node.
    let profile = tempfile::tempdir().unwrap();
    let dom = chromium(profile.path(), &["--dump-dom"], &page);
    let dom_text = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(
        dom.status.success() && dom_text.contains("</html>"),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let bars: Vec<(f64, f64)> = dom_text
        .split("<rect class=\"bar\"")
        .skip(1)
        .map(|r| {
            let attr = |name: &str| -> f64 {
                let start = r.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                r[start..].split('"').next().unwrap().parse().unwrap()
            };
            (attr("width"), attr("height"))
        })
        .collect();
    // Records and raw bytes: 4 categories x 3 days each; sinks: splunk sent + filtered on 3 days, the copy on 1.
    assert_eq!(bars.len(), 2 * 12 + 7, "bars in the DOM");
    assert!(bars.iter().all(|(w, h)| *w > 0.0 && *h > 0.0), "{bars:?}");
    assert_eq!(dom_text.matches("<circle class=\"point\"").count(), 1);
    assert!(
        !dom_text.contains("<img"),
        "the alert title became an element"
    );

    // The screenshot: not blank, many colours (bars of every series, text, table shading).
    let png = profile.path().join("shot.png");
    let shot = chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2000",
        ],
        &page,
    );
    assert!(
        png.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let (w, h, pixels) = decode_png(&std::fs::read(&png).unwrap());
    assert_eq!((w, h), (1280, 2000));
    let non_white = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    let colours: std::collections::HashSet<[u8; 3]> = pixels.iter().copied().collect();
    assert!(
        non_white * 20 > pixels.len(),
        "screenshot nearly blank: {non_white} of {} pixels not white",
        pixels.len()
    );
    assert!(colours.len() > 50, "only {} colours", colours.len());
    // The chart palette's first colour (the first category's bars) is on screen.
    assert!(colours.contains(&[0x4e, 0x79, 0xa7]), "no chart bar colour");
}
