//! Pre-generated data and visibility. Every served record is rendered once at start into a per-endpoint byte
//! arena; entries are sorted by the endpoint's time property so a time window is a binary search. An entry is
//! visible in a snapshot `s` when `visible <= s < hidden`: `visible` is when it was received (plus any
//! late-arrival delay), `hidden` is when a republication of the same id replaced it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, mpsc};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::config::ServerConfig;
use super::endpoints::{ENDPOINTS, endpoint_of, sign_in_bit};
use super::faults::late_shift;
use crate::{Category, EventKind, Generator, Shape, SimEvent, Tenant, render_owned};

/// Nanoseconds since the epoch (saturating).
pub(crate) fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// One served record version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The endpoint's time property, ns.
    pub(crate) time: i64,
    /// Sim time (ns) from which it is served.
    pub(crate) visible: i64,
    /// Sim time (ns) from which a newer version replaces it (`i64::MAX`: never).
    pub(crate) hidden: i64,
    start: u64,
    len: u32,
    /// Sign-in event type bit (sign-ins only).
    pub(crate) types: u8,
}

impl Entry {
    /// Whether the entry is served in snapshot `s`.
    pub(crate) fn visible_at(&self, s: i64) -> bool {
        self.visible <= s && s < self.hidden
    }
}

/// The records of one endpoint, sorted by (time, visible).
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub(crate) entries: Vec<Entry>,
    arena: Vec<u8>,
}

impl Index {
    /// The rendered JSON of an entry.
    pub(crate) fn bytes(&self, e: &Entry) -> &[u8] {
        let start = e.start as usize;
        self.arena.get(start..start + e.len as usize).unwrap_or(&[])
    }

    /// Entry positions with `lower <= time <= upper` (bounds already adjusted for strictness).
    pub(crate) fn range(&self, lower: i64, upper: i64) -> std::ops::Range<usize> {
        let a = self.entries.partition_point(|e| e.time < lower);
        let b = self.entries.partition_point(|e| e.time <= upper);
        a..b.max(a)
    }
}

/// One made-visible record, for ground truth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TruthItem {
    pub(crate) visible: i64,
    /// Index into [`super::GRAPH_CATEGORIES`].
    pub(crate) category: u8,
    /// Index into [`Data::ids`].
    pub(crate) id: u32,
    pub(crate) duplicate: bool,
    pub(crate) hash: u64,
}

/// Everything pre-generated.
#[derive(Debug, Default)]
pub(crate) struct Data {
    /// Parallel to [`ENDPOINTS`].
    pub(crate) indexes: Vec<Index>,
    /// Sorted by `visible`.
    pub(crate) truth: Vec<TruthItem>,
    pub(crate) ids: Vec<Box<str>>,
    /// Originals delayed by the late-arrival fault.
    pub(crate) late_records: u64,
    /// Records stored (all versions, all endpoints).
    pub(crate) records: u64,
    /// Bytes of rendered JSON held.
    pub(crate) bytes: u64,
}

fn time_of(obj: &Value, field: &str) -> Option<i64> {
    let s = obj.get(field)?.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| nanos(t.to_utc()))
}

const BATCH: usize = 256;

/// Bookkeeping while building.
#[derive(Default)]
struct BuildState {
    id_of: HashMap<(u8, String), u32>,
    /// Id number -> entry positions (endpoint, index) of every earlier version.
    versions: HashMap<u32, Vec<(usize, usize)>>,
    /// Late-arrival shift per record seed (versions share it).
    shifts: HashMap<u64, i64>,
}

/// One event, rendered (on a worker thread).
struct Rendered {
    cat: Category,
    ep: usize,
    cat_ix: u8,
    id: String,
    kind: EventKind,
    seed: u64,
    received: i64,
    ev_time: i64,
    time: i64,
    bytes: Vec<u8>,
}

fn render(
    ev: SimEvent,
    tenant: &Tenant,
    cfg: &ServerConfig,
    served: &[Category],
) -> Option<Rendered> {
    let cat = ev.category_enum()?;
    let ep = endpoint_of(cat)?;
    let cat_ix = super::category_index(cat)?;
    if !served.contains(&cat) {
        return None;
    }
    let id = ev.id().map(str::to_owned).unwrap_or_default();
    let (kind, seed, received, ev_time) = (ev.kind, ev.seed, nanos(ev.received), nanos(ev.time));
    let obj = render_owned(ev, Shape::Graph, cfg.tenant.quirks, tenant)?;
    let time = time_of(&obj, ENDPOINTS[ep].time_field).unwrap_or(ev_time);
    let bytes = serde_json::to_vec(&obj).ok()?;
    Some(Rendered {
        cat,
        ep,
        cat_ix,
        id,
        kind,
        seed,
        received,
        ev_time,
        time,
        bytes,
    })
}

/// Indexes one rendered event (in generator order).
fn add(data: &mut Data, st: &mut BuildState, r: Rendered, cfg: &ServerConfig) {
    let Rendered {
        cat,
        ep,
        cat_ix,
        id,
        kind,
        seed,
        received,
        ev_time,
        time,
        bytes,
    } = r;
    let shift = *st.shifts.entry(seed).or_insert_with(|| {
        let s = late_shift(&cfg.faults, seed, ev_time, received);
        if s > 0 {
            data.late_records += 1;
        }
        s
    });
    let visible = received.saturating_add(shift);
    let index = &mut data.indexes[ep];
    let start = index.arena.len() as u64;
    index.arena.extend_from_slice(&bytes);
    index.entries.push(Entry {
        time,
        visible,
        hidden: i64::MAX,
        start,
        len: bytes.len() as u32,
        types: sign_in_bit(cat),
    });
    let pos = index.entries.len() - 1;
    let next_id = data.ids.len() as u32;
    let idn = *st.id_of.entry((cat_ix, id.clone())).or_insert_with(|| {
        data.ids.push(id.into_boxed_str());
        next_id
    });
    let earlier = st.versions.entry(idn).or_default();
    if kind == EventKind::Republished {
        for &(e, p) in earlier.iter() {
            let old = &mut data.indexes[e].entries[p];
            old.hidden = old.hidden.min(visible);
        }
    }
    earlier.push((ep, pos));
    data.truth.push(TruthItem {
        visible,
        category: cat_ix,
        id: idn,
        duplicate: kind == EventKind::ExactDuplicate,
        hash: xxhash_rust::xxh3::xxh3_64(&bytes),
    });
    data.records += 1;
    data.bytes += bytes.len() as u64;
}

/// Generates the tenant and builds every index. CPU-bound: call it from a blocking thread.
pub(crate) fn build(cfg: &ServerConfig, served: &[Category]) -> Data {
    let tenant = Tenant::new(&cfg.tenant);
    let mut data = Data {
        indexes: ENDPOINTS.iter().map(|_| Index::default()).collect(),
        ..Data::default()
    };
    let mut state = BuildState::default();
    // Serializing takes about twice as long as generating: one thread generates, two render, and this one
    // indexes the batches back in generator order (same output as a single thread).
    let (gen_tx, gen_rx) = mpsc::sync_channel::<(usize, Vec<SimEvent>)>(4);
    let gen_rx = Mutex::new(gen_rx);
    let (out_tx, out_rx) = mpsc::sync_channel::<(usize, Vec<Rendered>)>(16);
    let tenant = &tenant;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let generator = Generator::new(tenant, &cfg.tenant)
                .with_categories(served)
                .with_truth(false);
            let mut batch = Vec::with_capacity(BATCH);
            let mut n = 0;
            for ev in generator {
                batch.push(ev);
                if batch.len() == BATCH {
                    if gen_tx.send((n, std::mem::take(&mut batch))).is_err() {
                        return;
                    }
                    n += 1;
                }
            }
            let _ = gen_tx.send((n, batch));
        });
        for _ in 0..2 {
            let (gen_rx, out_tx) = (&gen_rx, out_tx.clone());
            scope.spawn(move || {
                loop {
                    let next = super::lock(gen_rx).recv();
                    let Ok((n, batch)) = next else { return };
                    let rendered = batch
                        .into_iter()
                        .filter_map(|ev| render(ev, tenant, cfg, served))
                        .collect();
                    if out_tx.send((n, rendered)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(out_tx);
        let mut waiting: BTreeMap<usize, Vec<Rendered>> = BTreeMap::new();
        let mut next = 0;
        for (n, batch) in out_rx {
            waiting.insert(n, batch);
            while let Some(batch) = waiting.remove(&next) {
                for r in batch {
                    add(&mut data, &mut state, r, cfg);
                }
                next += 1;
            }
        }
    });
    for index in &mut data.indexes {
        index.entries.sort_by_key(|e| (e.time, e.visible));
        index.arena.shrink_to_fit();
    }
    data.truth.sort_by_key(|t| t.visible);
    data
}
