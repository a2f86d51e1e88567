//! Crate tests.

use crate::*;

#[test]
fn smoke_print() {
    let cfg = TenantConfig {
        days: 1,
        ..TenantConfig::default()
    };
    let tenant = Tenant::new(&cfg);
    let t0 = std::time::Instant::now();
    let n = Generator::new(&tenant, &cfg).count();
    println!("generate only: {n} in {:?}", t0.elapsed());
    let t0 = std::time::Instant::now();
    let mut g = Generator::new(&tenant, &cfg);
    let mut counts = std::collections::BTreeMap::new();
    let mut sizes = std::collections::BTreeMap::new();
    let mut samples = std::collections::BTreeMap::new();
    for ev in g.by_ref() {
        *counts.entry(ev.category).or_insert(0u64) += 1;
        let d = render(&ev, Shape::Diagnostic, false, &tenant).unwrap();
        let s = serde_json::to_string(&d).unwrap();
        *sizes.entry(ev.category).or_insert(0usize) += s.len();
        samples.entry(ev.category).or_insert(s);
    }
    println!("elapsed {:?}", t0.elapsed());
    for (c, n) in &counts {
        println!("{c:35} {n:7} avg {}", sizes[c] / *n as usize);
    }
    let dir = std::path::Path::new("/tmp/simsamples");
    std::fs::create_dir_all(dir).unwrap();
    for (c, s) in &samples {
        std::fs::write(dir.join(format!("{c}.json")), s).unwrap();
    }
    println!(
        "{}",
        serde_json::to_string(&g.truth().unwrap().summary())
            .unwrap()
            .len()
    );
}
