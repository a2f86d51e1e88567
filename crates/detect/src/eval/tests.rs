//! Unit tests of the evaluator: the atom + memo + index path gives exactly the verdicts of evaluating every
//! rule's tree item by item, on random records built from the rules' own literals.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::RuleSet;
use crate::plan::atoms::Check;
use crate::plan::matcher::Test;
use model::{ColumnType, Value, schema};

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

pub(super) fn sigmahq() -> RuleSet {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/sigma-azure/rules");
    let (set, diags) = RuleSet::load_dir(dir);
    assert!(diags.is_empty(), "{diags:?}");
    assert!(set.len() >= 123);
    set
}

impl Engine {
    /// Ids of the rules that match `record`, every rule of its category evaluated item by item: no index,
    /// no atoms, no memo.
    fn naive(&self, record: &Record) -> Vec<String> {
        let plan = &self.plans[record.category as usize];
        let members = std::cell::RefCell::default();
        let cx = access::Ctx {
            cols: access::Cols::Owned(&record.values),
            members: &members,
        };
        let mut buf = String::new();
        let mut out: Vec<String> = plan
            .rules
            .iter()
            .filter(|c| c.emit && node::eval_direct(&c.root, &cx, &mut buf))
            .map(|c| self.infos[c.info].id.to_string())
            .collect();
        out.sort();
        out
    }
}

/// Text a value of an atom might be: its needles in various cases and with surroundings.
fn texts_for(check: &Check, rng: &mut Rng) -> Vec<String> {
    let mut out = vec![String::new(), "0".into(), "success".into(), "x".into()];
    match check {
        Check::Test {
            test: Test::Text(t),
            ..
        } => {
            for n in &t.needles {
                out.push(n.clone());
                out.push(n.to_uppercase());
                out.push(format!("pre {n}"));
                out.push(format!("{n} post"));
                if n.len() > 1 {
                    out.push(n[..n.len() - 1].to_owned());
                }
            }
        }
        Check::Test {
            test: Test::Cidr(_),
            ..
        } => out.extend(["10.1.2.3".into(), "192.168.0.1".into(), "::1".into()]),
        Check::Test {
            test: Test::Num(_, x),
            ..
        } => out.extend([x.to_string(), (x + 1.0).to_string(), (x - 1.0).to_string()]),
        _ => out.push(format!("r{}", rng.below(5))),
    }
    out
}

/// Wraps `leaf` (JSON text) in the objects (and filtered arrays) of a path, keys in random case.
fn wrap(path: &[crate::mapping::Step], leaf: String, rng: &mut Rng) -> String {
    let Some((step, rest)) = path.split_first() else {
        return leaf;
    };
    let inner = wrap(rest, leaf, rng);
    let key = if rng.below(2) == 0 {
        step.key.to_uppercase()
    } else {
        step.key.clone()
    };
    match &step.filter {
        Some((k, v)) => {
            format!("{{\"{key}\":[{{\"{k}\":\"other\"}},{{\"{k}\":\"{v}\",\"x\":{inner}}}]}}")
        }
        None if step.key.is_empty() => inner,
        None => format!("{{\"a\":1,\"{key}\":{inner},\"z\":[\"{key}\"]}}"),
    }
}

/// Random records of a category whose columns hold the rules' literals often, from small pools so values
/// repeat (memo hits) unless `unique`, which makes every text distinct (memo misses, then memo off).
pub(super) fn records(
    engine: &Engine,
    category: Category,
    n: usize,
    unique: bool,
    seed: u64,
) -> Vec<Record> {
    let plan = &engine.plans[category as usize];
    let s = schema(category);
    let mut rng = Rng(seed | 1);
    // Per column: a pool of candidate values.
    let mut pools: Vec<(usize, Vec<Value>)> = Vec::new();
    for g in &plan.atoms.groups {
        let col = &s.columns[g.column];
        let mut pool = vec![Value::Null];
        for a in &plan.atoms.atoms[g.start as usize..g.end as usize] {
            for t in texts_for(&a.check, &mut rng) {
                let text = if a.target.path.is_empty() {
                    t
                } else {
                    let leaf = match rng.below(4) {
                        0 => "null".to_owned(),
                        1 => "false".to_owned(),
                        _ => serde_json::Value::String(t).to_string(),
                    };
                    wrap(&a.target.path, leaf, &mut rng)
                };
                pool.push(match col.ty {
                    ColumnType::Dynamic => Value::Dynamic(text),
                    ColumnType::Int | ColumnType::Long => text
                        .parse()
                        .map_or(Value::Int(rng.below(3) as i64), Value::Int),
                    ColumnType::Bool => Value::Bool(rng.below(2) == 0),
                    ColumnType::String => Value::String(text),
                    _ => Value::Null,
                });
            }
        }
        pools.push((g.column, pool));
    }
    (0..n)
        .map(|i| {
            let mut values = vec![Value::Null; s.columns.len()];
            for (col, pool) in &pools {
                let mut v = rng.pick(pool).clone();
                if unique && let Value::String(t) | Value::Dynamic(t) = &mut v {
                    if t.starts_with('{') {
                        t.insert_str(1, &format!("\"u{i}\":0,"));
                    } else {
                        t.push_str(&format!(" u{i}"));
                    }
                }
                values[*col] = v;
            }
            Record {
                category,
                event_time: i as i64,
                ingest_time: 0,
                key: format!("k{i}"),
                content_hash: 0,
                revision: 0,
                source: "test".into(),
                shape: model::Shape::Graph,
                values,
                raw: String::new(),
            }
        })
        .collect()
}

fn check(engine: &mut Engine, recs: &[Record]) -> usize {
    let mut matched = 0;
    for r in recs {
        let want = engine.naive(r);
        let mut got: Vec<String> = engine.evaluate(r).map(|m| m.rule_id.to_string()).collect();
        got.sort();
        assert_eq!(got, want, "record {}: {:?}", r.key, r.values);
        matched += got.len();
    }
    matched
}

#[test]
fn atoms_memo_and_index_give_the_verdicts_of_direct_evaluation() {
    let set = sigmahq();
    let mut engine = Engine::new(&set, EngineConfig::default());
    let mut total = 0;
    for (i, cat) in Category::ALL.iter().enumerate() {
        if engine.plans[*cat as usize].rules.is_empty() {
            continue;
        }
        let recs = records(&engine, *cat, 1500, false, 7 + i as u64);
        // Twice: the second pass reads every column's results from the memo.
        let first = check(&mut engine, &recs);
        let second = check(&mut engine, &recs);
        assert_eq!(first, second);
        total += first;
    }
    // The generated records exercise matches, not only misses.
    assert!(total > 1000, "only {total} matches");
}

#[test]
fn distinct_values_turn_the_memo_off_without_changing_verdicts() {
    let set = sigmahq();
    let mut engine = Engine::new(&set, EngineConfig::default());
    let recs = records(
        &engine,
        Category::SignInLogs,
        2 * memo::WINDOW as usize + 100,
        true,
        3,
    );
    let matched = check(&mut engine, &recs);
    assert!(matched > 0);
    // Then repeated values again: the memo samples again later and the verdicts stay the same.
    let recs = records(&engine, Category::SignInLogs, 3000, false, 5);
    check(&mut engine, &recs);
}

#[test]
fn atoms_are_shared_across_rules_and_grouped_by_column() {
    let set = sigmahq();
    let engine = Engine::new(&set, EngineConfig::default());
    let plan = &engine.plans[Category::NonInteractiveUserSignInLogs as usize];
    let items: usize = plan
        .rules
        .iter()
        .map(|r| {
            let mut n = 0;
            count_atoms(&r.root, &mut n);
            n
        })
        .sum();
    // `Status: Success` and `AuthenticationRequirement: singleFactorAuthentication` appear in several rules.
    assert!(
        plan.atoms.atoms.len() < items,
        "{} atoms for {items} uses",
        plan.atoms.atoms.len()
    );
    for (gi, g) in plan.atoms.groups.iter().enumerate() {
        for a in g.start..g.end {
            assert_eq!(plan.atoms.atoms[a as usize].target.column, g.column);
            assert_eq!(plan.atoms.group_of[a as usize] as usize, gi);
        }
    }
}

fn count_atoms(n: &Node, out: &mut usize) {
    match n {
        Node::And(v) | Node::Or(v) | Node::AtLeast(_, v) => {
            v.iter().for_each(|c| count_atoms(c, out))
        }
        Node::Not(x) => count_atoms(x, out),
        Node::Const(_) => {}
        Node::Item(ip) => *out += ip.atoms.len(),
    }
}

/// Every rule's bytecode, its atom tree and its direct tree give the same verdict on every record (no
/// index: every rule of the category is run on every record).
#[test]
fn bytecode_gives_the_verdicts_of_the_tree_and_of_direct_evaluation() {
    let set = sigmahq();
    let mut engine = Engine::new(&set, EngineConfig::default());
    let (mut runs, mut trues) = (0usize, 0usize);
    for (i, cat) in Category::ALL.iter().enumerate() {
        let ci = *cat as usize;
        if engine.plans[ci].rules.is_empty() {
            continue;
        }
        let recs = records(&engine, *cat, 600, false, 11 + i as u64);
        let Engine {
            plans,
            memos,
            known,
            val,
            buf,
            ..
        } = &mut engine;
        let plan = &plans[ci];
        let words = plan.atoms.words();
        for r in &recs {
            let members = std::cell::RefCell::default();
            let cx = access::Ctx {
                cols: access::Cols::Owned(&r.values),
                members: &members,
            };
            let mut direct_buf = String::new();
            // Bytecode first, then the tree on fresh atoms, so each computes the atoms it reads.
            for tree_first in [false, true] {
                known[..words].fill(0);
                let mut run = memo::Run {
                    cx: &cx,
                    atoms: &plan.atoms,
                    memo: &mut memos[ci],
                    known: &mut known[..words],
                    val: &mut val[..words],
                    buf,
                };
                for c in &plan.rules {
                    let (a, b) = if tree_first {
                        let t = node::eval(&c.root, &mut run);
                        (program::run(&c.prog, &mut run), t)
                    } else {
                        let p = program::run(&c.prog, &mut run);
                        (p, node::eval(&c.root, &mut run))
                    };
                    let d = node::eval_direct(&c.root, &cx, &mut direct_buf);
                    assert_eq!((a, b), (d, d), "rule {}, record {}", c.info, r.key);
                    runs += 1;
                    trues += usize::from(a);
                }
            }
        }
    }
    assert!(trues > 500 && trues < runs, "{trues} of {runs} true");
}

/// The bytecode of hand-built trees: short-circuit jumps, negation, constants and `n of` trees.
#[test]
fn bytecode_shapes() {
    use crate::plan::program::{Op, Program};
    let item = |id: u32| {
        Node::Item(Box::new(crate::plan::ItemPlan {
            targets: Vec::new(),
            kind: crate::plan::ItemKind::Exists(true),
            prefilter: None,
            atoms: vec![id],
        }))
    };
    let p = Program::compile(&Node::And(vec![
        item(0),
        Node::Or(vec![item(1), item(2)]),
        item(3),
    ]));
    assert_eq!(
        p.ops,
        [
            Op::Atom { id: 0, neg: false },
            Op::JumpIfFalse(7),
            Op::Atom { id: 1, neg: false },
            Op::JumpIfTrue(6),
            Op::Atom { id: 2, neg: false },
            Op::JumpIfFalse(7),
            Op::Atom { id: 3, neg: false },
        ]
    );
    let p = Program::compile(&Node::Not(Box::new(Node::AtLeast(
        2,
        vec![item(0), item(1)],
    ))));
    assert_eq!(p.ops, [Op::Tree(0), Op::Not]);
    assert_eq!(p.trees.len(), 1);
    let p = Program::compile(&Node::Or(vec![]));
    assert_eq!(p.ops, [Op::Const(false)]);
}

#[test]
fn match_keys_read_back_inline_and_on_the_heap() {
    for s in [
        "",
        "k1",
        "0c1c9e43-8a5e-4d1b-9a5f-2f7e0b3c4d5e",
        &"x".repeat(62),
        &"é".repeat(31),
        &"y".repeat(63),
        &"long-key/".repeat(40),
    ] {
        let k = MatchKey::new(s);
        assert_eq!(k.as_str(), s);
        assert_eq!(k, s);
        assert_eq!(k.to_string(), s);
        assert_eq!(format!("{k:?}"), format!("{s:?}"));
        assert_eq!(String::from(k.clone()), s);
        assert_eq!(k, MatchKey::from(s.to_owned()));
    }
    assert_ne!(MatchKey::new("a"), MatchKey::new("b"));
}

#[test]
fn equality_atoms_are_folded_into_single_column_lookups() {
    let set = sigmahq();
    let engine = Engine::new(&set, EngineConfig::default());
    for cat in [Category::NonInteractiveUserSignInLogs, Category::AuditLogs] {
        let plan = &engine.plans[cat as usize];
        let folded: u32 = plan
            .index
            .columns
            .iter()
            .map(|ic| {
                assert!(ic.folded.is_empty() || ic.columns.len() == 1);
                ic.folded.iter().map(|(_, m)| m.count_ones()).sum::<u32>()
            })
            .sum();
        assert!(folded >= 3, "{cat:?}: {folded} atoms folded");
    }
}
