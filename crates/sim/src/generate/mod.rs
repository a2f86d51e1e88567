//! The streaming generator. Time is cut into one-minute slices; for each slice every enabled stream draws
//! a Poisson number of events whose mean follows its daily/weekly curve (per home city for people-driven
//! streams). Only lightweight schedule entries (time, seed) are kept; an event's JSON is built from its
//! seed when it is emitted, so memory stays flat however many events a day holds. Rare categories are
//! scheduled once per simulated day (at least one each), state categories (risky users, SPs, agents)
//! cascade from their detections, and duplicates / republications wait in a queue ordered by delivery time.

mod activity;
mod audit;
mod ctx;
mod flow;
mod graph_activity;
mod network;
mod office;
mod parts;
mod provisioning;
mod resource;
mod risk;
mod signin;
mod streams;
mod workload;

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};

use chrono::{DateTime, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::catalog::CITIES;
use crate::category::Category;
use crate::config::TenantConfig;
use crate::tenant::Tenant;
use crate::truth::GroundTruth;
use crate::util::{add_ticks, hit_p, mix2, mix3, poisson};
use crate::{EventKind, SimEvent};
pub(crate) use ctx::{Built, Ctx, Origin, into_map, keep, office_ip, origin};
pub(crate) use streams::Stream;
use streams::{Sched, StreamPlan};

const TICKS_PER_SEC: i64 = 10_000_000;
const TICKS_PER_MIN: i64 = 60 * TICKS_PER_SEC;
const SALT_DUP: u64 = 0xD0B1;
const SALT_REPUB: u64 = 0x2E9B;
const SALT_LATENCY: u64 = 0x1A7E;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    at: i64,
    seed: u64,
    stream: Stream,
    slot: u32,
}

#[derive(Debug, Clone, Copy)]
struct Delayed {
    emit_at: i64,
    order: u64,
    pending: Pending,
    kind: EventKind,
    partial: bool,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.emit_at, self.order).cmp(&(other.emit_at, other.order))
    }
}

/// Streams [`SimEvent`]s for a tenant. Iterate it; read [`Generator::truth`] afterwards (use `by_ref()`).
pub struct Generator<'a> {
    tenant: &'a Tenant,
    cfg: TenantConfig,
    plans: Vec<(usize, StreamPlan)>,
    emit: BTreeSet<Category>,
    minute: i64,
    total_minutes: i64,
    pending: Vec<Pending>,
    pos: usize,
    scheduled: BinaryHeap<Reverse<Pending>>,
    delayed: BinaryHeap<Reverse<Delayed>>,
    order: u64,
    truth: Option<GroundTruth>,
    /// Attack records still to merge in (`TenantConfig::attacks`), and their labels.
    attacks: crate::attacks::Injector,
    attack_labels: Vec<crate::attacks::AttackLabel>,
}

impl<'a> Generator<'a> {
    /// A generator of every category over the configured window, collecting ground truth.
    pub fn new(tenant: &'a Tenant, cfg: &TenantConfig) -> Generator<'a> {
        let mut g = Generator {
            tenant,
            cfg: cfg.clone(),
            plans: Vec::new(),
            emit: Category::ALL.iter().copied().collect(),
            minute: 0,
            total_minutes: i64::from(cfg.days) * 1440,
            pending: Vec::new(),
            pos: 0,
            scheduled: BinaryHeap::new(),
            delayed: BinaryHeap::new(),
            order: 0,
            truth: Some(GroundTruth::default()),
            attacks: crate::attacks::Injector::default(),
            attack_labels: Vec::new(),
        };
        g.plans = streams::plan(tenant, cfg, &g.emit);
        if cfg.attacks {
            let (events, labels) = crate::attacks::inject(tenant, cfg);
            g.attacks = crate::attacks::Injector::new(events);
            g.attack_labels = labels;
            g = g.with_truth(true);
        }
        g
    }

    /// A generator of the five sign-in categories only (for benchmarks), without ground truth.
    pub fn sign_ins_only(tenant: &'a Tenant, cfg: &TenantConfig) -> Generator<'a> {
        Generator::new(tenant, cfg)
            .with_categories(Category::SIGN_INS)
            .with_truth(false)
    }

    /// Restricts output to these categories. Skipped categories cost (almost) nothing.
    pub fn with_categories(mut self, categories: &[Category]) -> Generator<'a> {
        self.emit = categories.iter().copied().collect();
        self.plans = streams::plan(self.tenant, &self.cfg, &self.emit);
        self
    }

    /// Restricts output to these diagnostic-settings category names (unknown names are ignored).
    pub fn with_category_names(self, names: &[&str]) -> Generator<'a> {
        let cats: Vec<Category> = names
            .iter()
            .filter_map(|n| Category::from_name(n))
            .collect();
        self.with_categories(&cats)
    }

    /// Turns ground-truth collection on or off (off saves memory in benchmarks).
    pub fn with_truth(mut self, on: bool) -> Generator<'a> {
        self.truth = on.then(|| GroundTruth {
            attacks: self.attack_labels.clone(),
            ..GroundTruth::default()
        });
        self
    }

    /// Ground truth of everything emitted so far (`None` when turned off).
    pub fn truth(&self) -> Option<&GroundTruth> {
        self.truth.as_ref()
    }

    /// Takes the ground truth out.
    pub fn into_truth(self) -> Option<GroundTruth> {
        self.truth
    }

    fn time_of(&self, ticks: i64) -> DateTime<Utc> {
        add_ticks(self.cfg.start, ticks)
    }

    fn fill_minute(&mut self) {
        let m = self.minute;
        self.minute += 1;
        self.pending.clear();
        self.pos = 0;
        let base = m * TICKS_PER_MIN;
        let mid = self.time_of(base + 30 * TICKS_PER_SEC);
        if m % 1440 == 0 {
            self.schedule_day(m / 1440);
        }
        for (si, plan) in self.plans.iter().map(|(i, p)| (*i, p)) {
            let mut rng = SmallRng::seed_from_u64(mix3(self.cfg.seed, m as u64, si as u64));
            let push = |rng: &mut SmallRng, slot: u32, pending: &mut Vec<Pending>| {
                pending.push(Pending {
                    at: base + rng.random_range(0..TICKS_PER_MIN),
                    seed: rng.random(),
                    stream: plan.stream,
                    slot,
                });
            };
            match &plan.sched {
                Sched::PerCity {
                    base_per_min,
                    profile,
                } => {
                    for (c, b) in base_per_min.iter().enumerate() {
                        if *b <= 0.0 {
                            continue;
                        }
                        let lambda = b * profile.intensity(mid, CITIES[c].utc_offset_min);
                        for _ in 0..poisson(&mut rng, lambda) {
                            push(&mut rng, c as u32, &mut self.pending);
                        }
                    }
                }
                Sched::Flat {
                    base_per_min,
                    profile,
                } => {
                    let lambda = base_per_min * profile.intensity(mid, CITIES[0].utc_offset_min);
                    for _ in 0..poisson(&mut rng, lambda) {
                        push(&mut rng, 0, &mut self.pending);
                    }
                }
                Sched::Periodic { every_min, count } => {
                    if m % i64::from(*every_min) == 0 {
                        for k in 0..*count {
                            push(&mut rng, k, &mut self.pending);
                        }
                    }
                }
                Sched::Daily { .. } => {}
            }
        }
        let end = base + TICKS_PER_MIN;
        while let Some(Reverse(p)) = self.scheduled.peek() {
            if p.at >= end {
                break;
            }
            let p = *p;
            self.scheduled.pop();
            self.pending.push(p);
        }
        self.pending.sort_unstable();
    }

    fn schedule_day(&mut self, day: i64) {
        let day_ticks = day * 1440 * TICKS_PER_MIN;
        let total = self.total_minutes * TICKS_PER_MIN;
        for (si, plan) in self.plans.iter().map(|(i, p)| (*i, p)) {
            let Sched::Daily { mean, profile } = &plan.sched else {
                continue;
            };
            let (mean, profile) = (*mean, *profile);
            let mut rng =
                SmallRng::seed_from_u64(mix3(self.cfg.seed ^ 0xDA11, day as u64, si as u64));
            let n = poisson(&mut rng, mean).max(1);
            for _ in 0..n {
                // Leave two hours for cascades (risky-state updates) before the day ends.
                let mut minute = 0;
                for _ in 0..64 {
                    minute = rng.random_range(0..1320i64);
                    let t = self.time_of(day_ticks + minute * TICKS_PER_MIN);
                    if rng.random::<f64>() * profile.max()
                        <= profile.intensity(t, CITIES[0].utc_offset_min)
                    {
                        break;
                    }
                }
                let at = day_ticks + minute * TICKS_PER_MIN + rng.random_range(0..TICKS_PER_MIN);
                if at < total {
                    let slot = rng.random_range(0..CITIES.len() as u32);
                    self.scheduled.push(Reverse(Pending {
                        at,
                        seed: rng.random(),
                        stream: plan.stream,
                        slot,
                    }));
                }
            }
        }
    }

    fn build(&self, p: &Pending, partial: bool) -> Built {
        let ctx = Ctx {
            tenant: self.tenant,
            at: self.time_of(p.at),
            slot: p.slot,
            seed: p.seed,
            partial,
        };
        streams::build(p.stream, &ctx)
    }

    fn push_delayed(&mut self, emit_at: i64, pending: Pending, kind: EventKind, partial: bool) {
        self.order += 1;
        self.delayed.push(Reverse(Delayed {
            emit_at,
            order: self.order,
            pending,
            kind,
            partial,
        }));
    }

    fn emit_original(&mut self, p: Pending) -> Option<SimEvent> {
        let cat = p.stream.category();
        if let Some((target, delay_min)) = p.stream.cascade()
            && self.emit.contains(&target.category())
        {
            let at = p.at + delay_min * TICKS_PER_MIN + (p.seed % 60) as i64 * TICKS_PER_SEC;
            self.scheduled.push(Reverse(Pending {
                at,
                seed: p.seed,
                stream: target,
                slot: p.slot,
            }));
        }
        if !self.emit.contains(&cat) {
            return None;
        }
        let republish =
            cat.id_field().is_some() && hit_p(p.seed, SALT_REPUB, self.cfg.republish_rate);
        let latency =
            20 * TICKS_PER_SEC + (mix2(p.seed, SALT_LATENCY) % (240 * TICKS_PER_SEC as u64)) as i64;
        let built = self.build(&p, republish);
        if hit_p(p.seed, SALT_DUP, self.cfg.duplicate_rate) {
            let extra = (mix2(p.seed, SALT_DUP + 1) % (180 * TICKS_PER_SEC as u64)) as i64;
            self.push_delayed(
                p.at + latency + extra,
                p,
                EventKind::ExactDuplicate,
                republish,
            );
        }
        if republish {
            let later = 5 * TICKS_PER_MIN
                + (mix2(p.seed, SALT_REPUB + 1) % (115 * TICKS_PER_MIN as u64)) as i64;
            self.push_delayed(p.at + latency + later, p, EventKind::Republished, false);
        }
        Some(self.finish(built, &p, EventKind::Original, self.time_of(p.at + latency)))
    }

    fn finish(
        &mut self,
        built: Built,
        p: &Pending,
        kind: EventKind,
        received: DateTime<Utc>,
    ) -> SimEvent {
        let ev = SimEvent {
            category: p.stream.category().name(),
            time: built.time,
            received,
            graph: built.graph,
            envelope: built.envelope,
            kind,
            seed: p.seed,
        };
        if let Some(truth) = self.truth.as_mut() {
            truth.record(&ev);
        }
        ev
    }
}

impl Iterator for Generator<'_> {
    type Item = SimEvent;

    fn next(&mut self) -> Option<SimEvent> {
        if self.attacks.is_idle() {
            return self.next_benign();
        }
        loop {
            let mut attacks = std::mem::take(&mut self.attacks);
            let next = attacks.next(|| self.next_benign());
            self.attacks = attacks;
            let (ev, injected) = next?;
            if !injected {
                return Some(ev);
            }
            if ev.category_enum().is_some_and(|c| self.emit.contains(&c)) {
                if let Some(truth) = self.truth.as_mut() {
                    truth.record(&ev);
                }
                return Some(ev);
            }
        }
    }
}

impl Generator<'_> {
    fn next_benign(&mut self) -> Option<SimEvent> {
        loop {
            while self.pos >= self.pending.len() && self.minute < self.total_minutes {
                self.fill_minute();
            }
            let next_pending = self.pending.get(self.pos).map(|p| p.at);
            let next_delayed = self.delayed.peek().map(|Reverse(d)| d.emit_at);
            let take_delayed = match (next_pending, next_delayed) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(p), Some(d)) => d <= p,
            };
            if take_delayed {
                let Some(Reverse(d)) = self.delayed.pop() else {
                    continue;
                };
                let built = self.build(&d.pending, d.partial);
                let received = self.time_of(d.emit_at);
                return Some(self.finish(built, &d.pending, d.kind, received));
            }
            let p = self.pending[self.pos];
            self.pos += 1;
            if let Some(ev) = self.emit_original(p) {
                return Some(ev);
            }
        }
    }
}
