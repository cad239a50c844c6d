//! Property tests of the data types: merge is a join (commutative,
//! associative, idempotent) on states reached by realistic histories,
//! replicas converge whatever order and duplication states arrive in, and
//! the observed-remove, reset-remove and deferred-remove rules hold.

use super::*;
use crate::object::Actor;
use proptest::prelude::*;
use std::collections::BTreeSet;

const REPLICAS: usize = 3;

fn actor(replica: usize) -> Actor {
    Actor(replica as u64 + 1)
}

/// Which context a client sends with an update.
#[derive(Debug, Clone)]
enum Ctx {
    None,
    /// What the coordinating replica holds.
    Own,
    /// What another replica held (the client read there): may be ahead.
    From(usize),
}

#[derive(Debug, Clone)]
enum Step {
    Update { at: usize, op: DtOp, ctx: Ctx },
    Merge { into: usize, from: usize },
}

/// Replays `steps`, returning every replica's final state and every state
/// any replica passed through. A failed update must change nothing.
fn run(kind: DataKind, steps: &[Step]) -> (Vec<DataType>, Vec<DataType>) {
    let mut replicas = vec![DataType::new(kind); REPLICAS];
    let mut seen = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Update { at, op, ctx } => {
                let ctx = match ctx {
                    Ctx::None => None,
                    Ctx::Own => Some(replicas[*at].context()),
                    Ctx::From(j) => Some(replicas[*j].context()),
                };
                let before = replicas[*at].clone();
                let now = 1_000 + i as u64;
                if replicas[*at]
                    .apply(op.clone(), actor(*at), ctx.as_ref(), now)
                    .is_err()
                {
                    assert_eq!(replicas[*at], before, "a failed update changed the state");
                }
            }
            Step::Merge { into, from } => {
                let other = replicas[*from].clone();
                replicas[*into].merge(&other);
            }
        }
        seen.extend(replicas.iter().cloned());
    }
    (replicas, seen)
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(|s| s.as_bytes().to_vec())
}

fn members(max: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(member(), 0..=max)
}

fn set_op() -> impl Strategy<Value = SetOp> {
    (members(2), members(2)).prop_map(|(adds, removes)| SetOp { adds, removes })
}

fn field_kind(nested: bool) -> impl Strategy<Value = FieldKind> {
    let mut kinds = vec![
        FieldKind::Counter,
        FieldKind::Set,
        FieldKind::Register,
        FieldKind::Flag,
    ];
    if nested {
        kinds.push(FieldKind::Map);
    }
    prop::sample::select(kinds)
}

fn field(nested: bool) -> impl Strategy<Value = Field> {
    (prop::sample::select(vec!["x", "y"]), field_kind(nested))
        .prop_map(|(n, k)| Field::new(n.as_bytes(), k))
}

fn field_op(kind: FieldKind) -> BoxedStrategy<FieldOp> {
    match kind {
        FieldKind::Counter => (-3i64..=3)
            .prop_map(|n| FieldOp::Counter(CounterOp { increment: n }))
            .boxed(),
        FieldKind::Set => set_op().prop_map(FieldOp::Set).boxed(),
        FieldKind::Register => member()
            .prop_map(|v| FieldOp::Register(RegisterOp { assign: v }))
            .boxed(),
        FieldKind::Flag => prop::sample::select(vec![FlagOp::Enable, FlagOp::Disable])
            .prop_map(FieldOp::Flag)
            .boxed(),
        FieldKind::Map => map_op(false).prop_map(FieldOp::Map).boxed(),
    }
}

fn map_op(nested: bool) -> impl Strategy<Value = MapOp> {
    let update = field(nested).prop_flat_map(|f| {
        let kind = f.kind;
        (Just(f), field_op(kind))
    });
    (
        prop::collection::vec(field(nested), 0..=1),
        prop::collection::vec(update, 0..=2),
    )
        .prop_map(|(removes, updates)| MapOp { removes, updates })
}

fn op(kind: DataKind) -> BoxedStrategy<DtOp> {
    match kind {
        DataKind::Counter => (-5i64..=5)
            .prop_map(|n| DtOp::Counter(CounterOp { increment: n }))
            .boxed(),
        DataKind::Set => set_op().prop_map(DtOp::Set).boxed(),
        DataKind::Map => map_op(true).prop_map(DtOp::Map).boxed(),
        DataKind::Hll => prop::collection::vec(0u8..40, 0..4)
            .prop_map(|v| {
                DtOp::Hll(HllOp {
                    adds: v.into_iter().map(|b| vec![b]).collect(),
                })
            })
            .boxed(),
        DataKind::GSet => members(2)
            .prop_map(|adds| DtOp::GSet(GSetOp { adds }))
            .boxed(),
    }
}

fn steps(kind: DataKind) -> impl Strategy<Value = Vec<Step>> {
    let ctx = prop_oneof![
        1 => Just(Ctx::None),
        2 => Just(Ctx::Own),
        1 => (0..REPLICAS).prop_map(Ctx::From),
    ];
    let step = prop_oneof![
        3 => (0..REPLICAS, op(kind), ctx).prop_map(|(at, op, ctx)| Step::Update { at, op, ctx }),
        2 => (0..REPLICAS, 0..REPLICAS).prop_map(|(into, from)| Step::Merge { into, from }),
    ];
    prop::collection::vec(step, 0..24)
}

fn any_kind() -> impl Strategy<Value = DataKind> {
    prop::sample::select(vec![
        DataKind::Counter,
        DataKind::Set,
        DataKind::Map,
        DataKind::Hll,
        DataKind::GSet,
    ])
}

fn history() -> impl Strategy<Value = (DataKind, Vec<Step>)> {
    any_kind().prop_flat_map(|k| (Just(k), steps(k)))
}

/// State equality up to map tombstones, plus equal values: what "the same
/// state" means for the laws.
fn same(a: &DataType, b: &DataType) -> bool {
    let strip = |d: &DataType| match d {
        DataType::Map(m) => DataType::Map(m.without_tombstones()),
        other => other.clone(),
    };
    a.value() == b.value() && strip(a) == strip(b)
}

macro_rules! prop_assert_same {
    ($a:expr, $b:expr) => {{
        let (a, b) = (&$a, &$b);
        prop_assert!(same(a, b), "states differ:\n{:?}\n{:?}", a, b);
    }};
}

fn merged(a: &DataType, b: &DataType) -> DataType {
    let mut m = a.clone();
    m.merge(b);
    m
}

/// Merges every replica into one.
fn all_merged(replicas: &[DataType]) -> DataType {
    replicas
        .iter()
        .fold(replicas[0].clone(), |acc, r| merged(&acc, r))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn merge_is_commutative_associative_idempotent((kind, steps) in history()) {
        let (r, _) = run(kind, &steps);
        let (a, b, c) = (&r[0], &r[1], &r[2]);
        prop_assert_same!(merged(a, b), merged(b, a));
        prop_assert_same!(merged(&merged(a, b), c), merged(a, &merged(b, c)));
        prop_assert_eq!(merged(a, a), a.clone());
        // Merging something already included changes nothing.
        let ab = merged(a, b);
        prop_assert_same!(merged(&ab, b), ab.clone());
    }

    #[test]
    fn replicas_converge_in_any_order(
        (kind, steps, next) in history().prop_flat_map(|(k, s)| (Just(k), Just(s), op(k))),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let (_, seen) = run(kind, &steps);
        prop_assume!(!seen.is_empty());
        // Every state once, in history order.
        let in_order = seen.iter().fold(DataType::new(kind), |acc, s| merged(&acc, s));
        // The same states shuffled and duplicated, then each once more.
        let mut shuffled = DataType::new(kind);
        for i in &order {
            shuffled.merge(i.get(&seen));
        }
        for s in seen.iter().rev() {
            shuffled.merge(s);
        }
        prop_assert_eq!(shuffled.value(), in_order.value());
        prop_assert_eq!(shuffled.context(), in_order.context());
        prop_assert_same!(shuffled, in_order);
        // And they stay the same under the same next update.
        let (mut x, mut y) = (shuffled, in_order);
        let ctx = x.context();
        let rx = x.apply(next.clone(), Actor(42), Some(&ctx), 9_999);
        let ry = y.apply(next, Actor(42), Some(&ctx), 9_999);
        prop_assert_eq!(rx, ry);
        prop_assert_same!(x, y);
    }

    #[test]
    fn full_exchange_makes_replicas_equal((kind, steps) in history()) {
        let (r, _) = run(kind, &steps);
        let everything = all_merged(&r);
        for replica in &r {
            prop_assert_same!(merged(replica, &everything), everything);
            prop_assert_same!(merged(&everything, replica), everything);
        }
    }

    #[test]
    fn counter_is_the_sum_of_increments(steps in steps(DataKind::Counter)) {
        let (r, _) = run(DataKind::Counter, &steps);
        let sum: i64 = steps.iter().map(|s| match s {
            Step::Update { op: DtOp::Counter(c), .. } => c.increment,
            _ => 0,
        }).sum();
        prop_assert_eq!(all_merged(&r).value(), DtValue::Counter(sum));
    }

    #[test]
    fn gset_is_the_union_of_adds(steps in steps(DataKind::GSet)) {
        let (r, _) = run(DataKind::GSet, &steps);
        let all: BTreeSet<Vec<u8>> = steps.iter().flat_map(|s| match s {
            Step::Update { op: DtOp::GSet(g), .. } => g.adds.clone(),
            _ => vec![],
        }).collect();
        prop_assert_eq!(all_merged(&r).value(), DtValue::GSet(all.into_iter().collect()));
    }

    #[test]
    fn hll_merge_equals_adding_everything(steps in steps(DataKind::Hll)) {
        let (r, _) = run(DataKind::Hll, &steps);
        let mut direct = Hll::new();
        for s in &steps {
            if let Step::Update { op: DtOp::Hll(h), .. } = s {
                h.adds.iter().for_each(|m| direct.add(m));
            }
        }
        prop_assert_eq!(all_merged(&r), DataType::Hll(direct));
    }

    /// Counter, HLL and GSet ops commute: replaying the same ops (each with
    /// its actor) in another order, some twice for the idempotent types,
    /// gives the same state.
    #[test]
    fn commuting_ops_replay_in_any_order(
        (kind, ops) in prop::sample::select(vec![DataKind::Counter, DataKind::Hll, DataKind::GSet])
            .prop_flat_map(|k| (Just(k), prop::collection::vec((0..REPLICAS, op(k)), 0..16))),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let apply_all = |ops: &[(usize, DtOp)]| {
            let mut dt = DataType::new(kind);
            for (at, op) in ops {
                dt.apply(op.clone(), actor(*at), None, 0).unwrap();
            }
            dt
        };
        let forward = apply_all(&ops);
        let mut reversed = ops.clone();
        reversed.reverse();
        prop_assert_eq!(apply_all(&reversed), forward.clone());
        if kind != DataKind::Counter && !ops.is_empty() {
            let mut replayed = ops.clone();
            replayed.extend(order.iter().map(|i| i.get(&ops).clone()));
            prop_assert_eq!(apply_all(&replayed), forward);
        }
    }

    /// On one replica with no concurrency a set behaves like a plain set.
    #[test]
    fn sequential_set_is_a_set(ops in prop::collection::vec((set_op(), any::<bool>()), 0..20)) {
        let mut s = DataType::new(DataKind::Set);
        let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
        for (op, with_ctx) in ops {
            let ctx = with_ctx.then(|| s.context());
            let mut next = model.clone();
            let mut ok = true;
            if with_ctx {
                // The context predates the op's own adds, which survive.
                for r in &op.removes {
                    next.remove(r);
                }
                next.extend(op.adds.iter().cloned());
            } else {
                next.extend(op.adds.iter().cloned());
                for r in &op.removes {
                    ok &= next.remove(r);
                }
            }
            match s.apply(DtOp::Set(op), Actor(1), ctx.as_ref(), 0) {
                Ok(()) => {
                    prop_assert!(ok, "remove of an absent member without context succeeded");
                    model = next;
                }
                Err(e) => {
                    prop_assert!(!ok);
                    prop_assert!(matches!(e, CrdtError::Precondition(_)));
                }
            }
            prop_assert_eq!(s.value(), DtValue::Set(model.iter().cloned().collect()));
        }
    }

    /// A remove only removes what it observed: an add concurrent with it wins.
    #[test]
    fn observed_remove_keeps_concurrent_add(steps in steps(DataKind::Set), e in member()) {
        let (r, _) = run(DataKind::Set, &steps);
        let mut a = r[0].clone();
        let add = DtOp::Set(SetOp { adds: vec![e.clone()], removes: vec![] });
        let remove = DtOp::Set(SetOp { adds: vec![], removes: vec![e.clone()] });
        a.apply(add.clone(), actor(0), None, 0).unwrap();
        let mut b = a.clone();
        let ctx = a.context();
        a.apply(remove, actor(0), Some(&ctx), 0).unwrap();
        b.apply(add, Actor(99), None, 0).unwrap();
        for m in [merged(&a, &b), merged(&b, &a), merged(&merged(&a, &r[1]), &b)] {
            let DtValue::Set(v) = m.value() else { unreachable!() };
            prop_assert!(v.contains(&e));
        }
    }

    /// A field remove concurrent with an update keeps the field, holding only
    /// the update's concurrent part (reset-remove).
    #[test]
    fn reset_remove_keeps_only_the_concurrent_update(
        steps in steps(DataKind::Map),
        kind in field_kind(true),
    ) {
        let (r, _) = run(DataKind::Map, &steps);
        let f = Field::new("z", kind);
        let mut a = r[0].clone();
        // Give the field some history every replica has seen.
        let seed = MapOp { removes: vec![], updates: vec![(f.clone(), first_update(kind))] };
        a.apply(DtOp::Map(seed), actor(0), None, 10).unwrap();
        let mut b = a.clone();
        let ctx = a.context();
        let rm = MapOp { removes: vec![f.clone()], updates: vec![] };
        a.apply(DtOp::Map(rm), actor(0), Some(&ctx), 20).unwrap();
        let upd = MapOp { removes: vec![], updates: vec![(f.clone(), second_update(kind))] };
        b.apply(DtOp::Map(upd), Actor(99), None, 30).unwrap();
        for m in [merged(&a, &b), merged(&b, &a)] {
            let DtValue::Map(fields) = m.value() else { unreachable!() };
            let got = fields.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone());
            prop_assert_eq!(got, Some(concurrent_part(kind)));
        }
    }

    /// A remove whose context the replica has not seen waits, then applies.
    #[test]
    fn deferred_field_remove_applies_after_merge(steps in steps(DataKind::Map)) {
        let (r, _) = run(DataKind::Map, &steps);
        let f = Field::new("z", FieldKind::Set);
        let mut ahead = r[0].clone();
        let seed = MapOp { removes: vec![], updates: vec![(f.clone(), first_update(f.kind))] };
        ahead.apply(DtOp::Map(seed), actor(0), None, 10).unwrap();
        let ctx = ahead.context();
        let mut behind = r[1].clone();
        prop_assume!(!behind.context().clock().descends(ctx.clock()));
        let rm = MapOp { removes: vec![f.clone()], updates: vec![] };
        behind.apply(DtOp::Map(rm), actor(1), Some(&ctx), 20).unwrap();
        let deferred = |d: &DataType| match d {
            DataType::Map(m) => m.deferred_len(),
            _ => unreachable!(),
        };
        prop_assert!(deferred(&behind) > deferred(&r[1]));
        behind.merge(&ahead);
        // Only removes deferred earlier in the history may still wait.
        prop_assert_eq!(deferred(&behind), deferred(&merged(&r[1], &ahead)));
        let DtValue::Map(fields) = behind.value() else { unreachable!() };
        prop_assert!(fields.iter().all(|(k, _)| *k != f));
    }
}

fn first_update(kind: FieldKind) -> FieldOp {
    match kind {
        FieldKind::Counter => FieldOp::Counter(CounterOp { increment: 5 }),
        FieldKind::Set => FieldOp::Set(SetOp {
            adds: vec![b"old".to_vec()],
            removes: vec![],
        }),
        FieldKind::Register => FieldOp::Register(RegisterOp {
            assign: b"old".to_vec(),
        }),
        FieldKind::Flag => FieldOp::Flag(FlagOp::Enable),
        FieldKind::Map => FieldOp::Map(MapOp {
            removes: vec![],
            updates: vec![(
                Field::new("inner", FieldKind::Set),
                first_update(FieldKind::Set),
            )],
        }),
    }
}

fn second_update(kind: FieldKind) -> FieldOp {
    match kind {
        FieldKind::Counter => FieldOp::Counter(CounterOp { increment: 2 }),
        FieldKind::Set => FieldOp::Set(SetOp {
            adds: vec![b"new".to_vec()],
            removes: vec![],
        }),
        FieldKind::Register => FieldOp::Register(RegisterOp {
            assign: b"new".to_vec(),
        }),
        FieldKind::Flag => FieldOp::Flag(FlagOp::Enable),
        FieldKind::Map => FieldOp::Map(MapOp {
            removes: vec![],
            updates: vec![(
                Field::new("inner", FieldKind::Set),
                second_update(FieldKind::Set),
            )],
        }),
    }
}

/// What survives of `second_update` after a concurrent remove observed
/// `first_update`.
fn concurrent_part(kind: FieldKind) -> FieldValue {
    match kind {
        FieldKind::Counter => FieldValue::Counter(2),
        FieldKind::Set => FieldValue::Set(vec![b"new".to_vec()]),
        FieldKind::Register => FieldValue::Register(b"new".to_vec()),
        FieldKind::Flag => FieldValue::Flag(true),
        FieldKind::Map => FieldValue::Map(vec![(
            Field::new("inner", FieldKind::Set),
            concurrent_part(FieldKind::Set),
        )]),
    }
}

#[test]
fn wrong_operation_type_is_riaks_text() {
    let mut dt = DataType::new(DataKind::Counter);
    let op = DtOp::Set(SetOp::default());
    let err = dt.apply(op, Actor(1), None, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Operation type is `set` but  bucket type is `counter`."
    );
    assert!(check_op_kind(DataKind::Map, DataKind::Map).is_ok());
}

#[test]
fn precondition_texts() {
    assert_eq!(
        CrdtError::member_not_present(&[0, 200]).to_string(),
        "{precondition,{not_present,<<0,200>>}}"
    );
    assert_eq!(
        CrdtError::member_not_present(b"a\"b").to_string(),
        "{precondition,{not_present,<<\"a\\\"b\">>}}"
    );
    assert_eq!(
        CrdtError::field_not_present(&Field::new("f", FieldKind::Flag)).to_string(),
        "{precondition,{not_present,{<<\"f\">>,riak_dt_od_flag}}}"
    );
}

#[test]
fn context_only_for_sets_and_maps() {
    let mut set = DataType::new(DataKind::Set);
    let add = DtOp::Set(SetOp {
        adds: vec![b"x".to_vec()],
        removes: vec![],
    });
    set.apply(add, Actor(7), None, 0).unwrap();
    let ctx = set.context();
    assert_eq!(Context::decode(&ctx.encode()).unwrap(), ctx);
    assert!(!ctx.is_empty());
    assert!(DataType::new(DataKind::Counter).context().is_empty());
    assert!(DataKind::Map.has_context() && !DataKind::Hll.has_context());
}

#[test]
fn map_values_sort_like_riak() {
    let mut dt = DataType::new(DataKind::Map);
    let mut updates = Vec::new();
    for kind in [
        FieldKind::Set,
        FieldKind::Flag,
        FieldKind::Map,
        FieldKind::Register,
        FieldKind::Counter,
    ] {
        let op = match kind {
            FieldKind::Map => FieldOp::Map(MapOp::default()),
            k => first_update(k),
        };
        updates.push((Field::new("f", kind), op));
    }
    updates.push((
        Field::new("a", FieldKind::Set),
        first_update(FieldKind::Set),
    ));
    let op = DtOp::Map(MapOp {
        removes: vec![],
        updates,
    });
    dt.apply(op, Actor(1), None, 5).unwrap();
    let DtValue::Map(fields) = dt.value() else {
        unreachable!()
    };
    let order: Vec<(String, &str)> = fields
        .iter()
        .map(|(f, _)| (String::from_utf8(f.name.clone()).unwrap(), f.kind.name()))
        .collect();
    let expect = [
        ("a", "set"),
        ("f", "counter"),
        ("f", "register"),
        ("f", "map"),
        ("f", "flag"),
        ("f", "set"),
    ];
    assert_eq!(
        order,
        expect.map(|(n, k)| (n.to_string(), k)).to_vec(),
        "fields sort by name, then by Riak's module name"
    );
}

#[test]
fn flag_disable_is_observed() {
    let f = Field::new("f", FieldKind::Flag);
    let set_flag = |op| {
        DtOp::Map(MapOp {
            removes: vec![],
            updates: vec![(f.clone(), FieldOp::Flag(op))],
        })
    };
    let mut a = DataType::new(DataKind::Map);
    a.apply(set_flag(FlagOp::Enable), Actor(1), None, 0)
        .unwrap();
    let mut b = a.clone();
    let ctx = a.context();
    a.apply(set_flag(FlagOp::Disable), Actor(1), Some(&ctx), 0)
        .unwrap();
    b.apply(set_flag(FlagOp::Enable), Actor(2), None, 0)
        .unwrap();
    let on = DtValue::Map(vec![(f.clone(), FieldValue::Flag(true))]);
    assert_eq!(
        merged(&a, &b).value(),
        on,
        "enable wins over a concurrent disable"
    );
    // Disabling with a context the replica has not seen waits for it.
    let mut lagging = DataType::new(DataKind::Map);
    lagging
        .apply(set_flag(FlagOp::Disable), Actor(3), Some(&b.context()), 0)
        .unwrap();
    lagging.merge(&b);
    assert_eq!(
        lagging.value(),
        DtValue::Map(vec![(f.clone(), FieldValue::Flag(false))])
    );
}
