//! Laws of the sibling model, checked on objects produced by simulated
//! histories: coordinated puts at a few replicas with contexts read from
//! earlier states, interleaved with replica merges. Unrelated random objects
//! would reuse dots, which real histories never do, so they are not used.

use super::meta::Metadata;
use super::riak_object::{Content, RiakObject};
use super::vclock::{Actor, Dot, VClock};
use proptest::prelude::*;
use proptest::sample::Index;

const REPLICAS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    /// A client read `read` (an earlier state, or nothing) and writes through
    /// replica `at`, which coordinates.
    Put {
        at: usize,
        read: Option<Index>,
        delete: bool,
    },
    /// Replica `to` merges in the state of replica `from`.
    Sync { from: usize, to: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..REPLICAS, prop::option::weighted(0.7, any::<Index>()), prop::bool::weighted(0.15))
            .prop_map(|(at, read, delete)| Op::Put { at, read, delete }),
        2 => (0..REPLICAS, 0..REPLICAS).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..40)
}

struct Write {
    dot: Dot,
    value: Vec<u8>,
}

/// The state of a simulated cluster.
struct Sim {
    /// Last-write-wins bucket: collapse after every put and merge.
    lww: bool,
    replicas: Vec<RiakObject>,
    /// Every state any replica has been in, in order.
    history: Vec<RiakObject>,
    writes: Vec<Write>,
    /// The contexts puts carried.
    contexts: Vec<VClock>,
    /// Global time: a put's timestamp is later than anything it could have read.
    now: u64,
}

impl Sim {
    fn new(lww: bool) -> Self {
        Sim {
            lww,
            replicas: vec![RiakObject::default(); REPLICAS],
            history: Vec::new(),
            writes: Vec::new(),
            contexts: Vec::new(),
            now: 0,
        }
    }

    fn run(lww: bool, ops: &[Op]) -> Self {
        let mut sim = Sim::new(lww);
        for op in ops {
            sim.apply(op);
        }
        sim
    }

    fn actor(replica: usize) -> Actor {
        Actor(100 + replica as u64)
    }

    fn content(&mut self, delete: bool) -> Content {
        self.now += 1;
        let vtag = format!("w{}", self.now);
        if delete {
            Content::tombstone(vtag, self.now)
        } else {
            let meta = Metadata {
                vtag,
                last_modified_us: self.now,
                ..Metadata::default()
            };
            Content::new(self.now.to_be_bytes().to_vec(), meta)
        }
    }

    fn read(&self, read: &Option<Index>) -> VClock {
        match read {
            Some(i) if !self.history.is_empty() => {
                self.history[i.index(self.history.len())].clock.clone()
            }
            _ => VClock::new(),
        }
    }

    fn put(&mut self, at: usize, context: VClock, delete: bool) -> Dot {
        let content = self.content(delete);
        let value = content.value.clone();
        let local = &self.replicas[at];
        let mut obj = RiakObject::coordinate_put(Some(local), &context, content, Sim::actor(at));
        let dot = obj
            .siblings
            .iter()
            .map(|s| s.dot)
            .find(|d| d.actor == Sim::actor(at) && !local.has_dot(*d));
        let dot = dot.expect("the put's own sibling");
        if self.lww {
            obj.collapse_lww();
        }
        self.writes.push(Write { dot, value });
        self.contexts.push(context);
        self.set(at, obj);
        dot
    }

    fn set(&mut self, at: usize, obj: RiakObject) {
        self.history.push(obj.clone());
        self.replicas[at] = obj;
    }

    fn merge(&self, a: &RiakObject, b: &RiakObject) -> RiakObject {
        let mut m = a.merge(b);
        if self.lww {
            m.collapse_lww();
        }
        m
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Put { at, read, delete } => {
                let context = self.read(read);
                self.put(*at, context, *delete);
            }
            Op::Sync { from, to } => {
                let merged = self.merge(&self.replicas[*to], &self.replicas[*from]);
                self.set(*to, merged);
            }
        }
    }

    /// Every replica merged into every other, as after anti-entropy.
    fn converge(&mut self) -> RiakObject {
        let all = self
            .replicas
            .iter()
            .fold(RiakObject::default(), |acc, r| self.merge(&acc, r));
        for at in 0..REPLICAS {
            self.set(at, all.clone());
        }
        all
    }

    fn pick(&self, i: &Index) -> RiakObject {
        if self.history.is_empty() {
            RiakObject::default()
        } else {
            self.history[i.index(self.history.len())].clone()
        }
    }
}

/// All orders of a small list.
fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first.clone());
            out.push(p);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merge_is_a_semilattice(ops in ops(), a in any::<Index>(), b in any::<Index>(), c in any::<Index>()) {
        let sim = Sim::run(false, &ops);
        let (a, b, c) = (sim.pick(&a), sim.pick(&b), sim.pick(&c));
        prop_assert_eq!(a.merge(&b), b.merge(&a));
        prop_assert_eq!(a.merge(&b).merge(&c), a.merge(&b.merge(&c)));
        prop_assert_eq!(a.merge(&a), a.clone());
        prop_assert_eq!(a.merge(&RiakObject::default()), a.clone());
        // The merge has seen both sides, and merging an ancestor changes nothing.
        let ab = a.merge(&b);
        prop_assert!(ab.descends(&a) && ab.descends(&b));
        if a.descends(&b) {
            prop_assert_eq!(ab, a.clone());
        }
        for obj in [&a, &b, &c] {
            prop_assert!(obj.validate().is_ok());
        }
    }

    #[test]
    fn concurrent_puts_never_lose_a_value(ops in ops()) {
        let mut sim = Sim::run(false, &ops);
        let all = sim.converge();
        for w in &sim.writes {
            let replaced = sim.contexts.iter().any(|c| c.covers(w.dot));
            // Present exactly when no later put saw it.
            prop_assert_eq!(all.has_dot(w.dot), !replaced, "write {:?}", w.dot);
            if let Some(s) = all.siblings.iter().find(|s| s.dot == w.dot) {
                prop_assert_eq!(&s.value, &w.value);
            }
        }
        prop_assert!(all.siblings.iter().all(|s| sim.writes.iter().any(|w| w.dot == s.dot)));
        // Any merge order of the replicas gives the same result.
        let replicas = sim.history.iter().rev().take(4).cloned().collect::<Vec<_>>();
        let first = replicas.iter().fold(RiakObject::default(), |acc, r| acc.merge(r));
        for order in permutations(&replicas) {
            prop_assert_eq!(order.iter().fold(RiakObject::default(), |acc, r| acc.merge(r)), first.clone());
        }
    }

    #[test]
    fn put_with_context_replaces_exactly_what_it_saw(
        ops in ops(),
        read in any::<Index>(),
        at in 0..REPLICAS,
    ) {
        let mut sim = Sim::run(false, &ops);
        let seen = sim.pick(&read);
        let local = sim.replicas[at].clone();
        let dot = sim.put(at, seen.clock.clone(), false);
        let after = sim.replicas[at].clone();

        let mut expected: Vec<Dot> = local
            .siblings
            .iter()
            .map(|s| s.dot)
            .filter(|d| !seen.clock.covers(*d))
            .collect();
        expected.push(dot);
        expected.sort();
        let got: Vec<Dot> = after.siblings.iter().map(|s| s.dot).collect();
        prop_assert_eq!(got, expected);
        prop_assert!(after.descends(&seen) && after.descends(&local));

        // Once every replica has the put, nothing it saw is left anywhere.
        let all = sim.converge();
        prop_assert!(all.has_dot(dot));
        for s in &seen.siblings {
            prop_assert!(!all.has_dot(s.dot), "seen sibling {:?} survived", s.dot);
        }
    }

    #[test]
    fn lww_collapse_is_independent_of_merge_order(ops in ops(), extra in any::<Index>()) {
        let sim = Sim::run(true, &ops);
        let mut objects = sim.replicas.clone();
        objects.push(sim.pick(&extra));
        for obj in &objects {
            prop_assert!(obj.siblings.len() <= 1);
        }
        let reference = objects.iter().fold(RiakObject::default(), |acc, o| sim.merge(&acc, o));
        for order in permutations(&objects) {
            let left = order.iter().fold(RiakObject::default(), |acc, o| sim.merge(&acc, o));
            prop_assert_eq!(&left, &reference);
            let right = order.iter().rev().fold(RiakObject::default(), |acc, o| sim.merge(o, &acc));
            prop_assert_eq!(&right, &reference);
        }
        // The survivor is the newest write the merged clock has seen.
        if let Some(winner) = reference.siblings.first() {
            let newest = sim
                .writes
                .iter()
                .rev()
                .find(|w| reference.clock.covers(w.dot))
                .map(|w| w.dot);
            prop_assert_eq!(Some(winner.dot), newest);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A coordinated put merged into the state it was made from gives the
    /// put back, with any context and in both bucket modes: what lets a
    /// replica holding that state store the coordinator's record as it is
    /// (docs/decisions/0023).
    #[test]
    fn a_put_merged_into_its_base_is_the_put(
        ops in ops(),
        read in any::<Index>(),
        at in 0..REPLICAS,
        lww in any::<bool>(),
        delete in prop::bool::weighted(0.15),
    ) {
        let mut sim = Sim::run(lww, &ops);
        let context = sim.pick(&read).clock;
        let base = sim.replicas[at].clone();
        sim.put(at, context, delete);
        let put = sim.replicas[at].clone();
        prop_assert_eq!(sim.merge(&base, &put), put.clone());
        prop_assert_eq!(crate::dt::merge_datatype(&base, &put), put);
    }
}
