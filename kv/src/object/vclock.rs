//! Actors, dots and version vectors: the causal bookkeeping of an object.
//!
//! A `VClock` maps each actor (a vnode that coordinated writes) to the number
//! of writes it has coordinated that this clock has seen. Comparisons use the
//! counters only; pruning and timestamps are left out on purpose (see `docs/`).

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// The id of a vnode that coordinates writes (vnodes are the actors, as in
/// Riak ≥ 1.0), so the number of actors is bounded by the ring, not by clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(pub u64);

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// One write event: the `counter`-th write coordinated by `actor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dot {
    pub actor: Actor,
    pub counter: u64,
}

impl Dot {
    pub fn new(actor: Actor, counter: u64) -> Self {
        Dot { actor, counter }
    }
}

/// A version vector.
///
/// Invariant: entries are sorted by actor, actors are unique and no counter
/// is zero. Holding it makes the derived equality semantic (two clocks that
/// describe the same history compare equal), which merge laws rely on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<(Actor, u64)>", into = "Vec<(Actor, u64)>")]
pub struct VClock {
    entries: Vec<(Actor, u64)>,
}

impl VClock {
    pub fn new() -> Self {
        VClock::default()
    }

    /// Builds a clock from entries in any order; a repeated actor keeps its
    /// largest counter and zero counters are dropped.
    pub fn from_entries(entries: impl IntoIterator<Item = (Actor, u64)>) -> Self {
        let mut entries: Vec<(Actor, u64)> = entries.into_iter().filter(|e| e.1 > 0).collect();
        // Decoded clocks are already in shape: keep them without a copy.
        if entries.windows(2).all(|w| w[0].0 < w[1].0) {
            return VClock { entries };
        }
        entries.sort_unstable();
        // After sorting, the last entry of a run of equal actors is the largest.
        let mut out: Vec<(Actor, u64)> = Vec::with_capacity(entries.len());
        for (a, c) in entries {
            match out.last_mut() {
                Some(last) if last.0 == a => last.1 = c,
                _ => out.push((a, c)),
            }
        }
        VClock { entries: out }
    }

    /// The counter of `actor`, 0 when the actor is absent.
    pub fn get(&self, actor: Actor) -> u64 {
        match self.entries.binary_search_by_key(&actor, |e| e.0) {
            Ok(i) => self.entries[i].1,
            Err(_) => 0,
        }
    }

    /// Sets `actor`'s counter; 0 removes the entry.
    pub fn set(&mut self, actor: Actor, counter: u64) {
        match self.entries.binary_search_by_key(&actor, |e| e.0) {
            Ok(i) if counter == 0 => {
                self.entries.remove(i);
            }
            Ok(i) => self.entries[i].1 = counter,
            Err(_) if counter == 0 => {}
            Err(i) => self.entries.insert(i, (actor, counter)),
        }
    }

    /// Counts one more write by `actor` and returns its dot.
    pub fn increment(&mut self, actor: Actor) -> Dot {
        let counter = self.get(actor) + 1;
        self.set(actor, counter);
        Dot { actor, counter }
    }

    /// Whether this clock has seen the write `dot`.
    pub fn covers(&self, dot: Dot) -> bool {
        self.get(dot.actor) >= dot.counter
    }

    /// `self ≥ other` pointwise: self has seen everything other has.
    pub fn descends(&self, other: &VClock) -> bool {
        other.entries.iter().all(|&(a, c)| self.get(a) >= c)
    }

    /// Descends and differs: self has seen strictly more than other.
    pub fn dominates(&self, other: &VClock) -> bool {
        self != other && self.descends(other)
    }

    /// Neither clock descends the other.
    pub fn concurrent(&self, other: &VClock) -> bool {
        !self.descends(other) && !other.descends(self)
    }

    /// The causal order: `None` for concurrent clocks.
    pub fn compare(&self, other: &VClock) -> Option<Ordering> {
        match (self.descends(other), other.descends(self)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Greater),
            (false, true) => Some(Ordering::Less),
            (false, false) => None,
        }
    }

    /// Pointwise maximum, in place.
    pub fn merge(&mut self, other: &VClock) {
        *self = self.merged(other);
    }

    /// Pointwise maximum of two clocks.
    pub fn merged(&self, other: &VClock) -> VClock {
        let (a, b) = (&self.entries, &other.entries);
        let mut out = Vec::with_capacity(a.len().max(b.len()));
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    out.push(a[i]);
                    i += 1;
                }
                Ordering::Greater => {
                    out.push(b[j]);
                    j += 1;
                }
                Ordering::Equal => {
                    out.push((a[i].0, a[i].1.max(b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        VClock { entries: out }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of actors in the clock.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entries sorted by actor.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Actor, u64)> + '_ {
        self.entries.iter().copied()
    }

    /// Entries sorted by actor.
    pub fn entries(&self) -> &[(Actor, u64)] {
        &self.entries
    }
}

impl From<Vec<(Actor, u64)>> for VClock {
    fn from(entries: Vec<(Actor, u64)>) -> Self {
        VClock::from_entries(entries)
    }
}

impl From<VClock> for Vec<(Actor, u64)> {
    fn from(clock: VClock) -> Self {
        clock.entries
    }
}

impl FromIterator<(Actor, u64)> for VClock {
    fn from_iter<I: IntoIterator<Item = (Actor, u64)>>(iter: I) -> Self {
        VClock::from_entries(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vc(entries: &[(u64, u64)]) -> VClock {
        entries.iter().map(|&(a, c)| (Actor(a), c)).collect()
    }

    #[test]
    fn from_entries_normalises() {
        let c = vc(&[(3, 1), (1, 2), (3, 5), (2, 0)]);
        assert_eq!(c.entries(), &[(Actor(1), 2), (Actor(3), 5)]);
        assert_eq!(c.get(Actor(2)), 0);
        assert_eq!(c.get(Actor(3)), 5);
    }

    #[test]
    fn increment_returns_fresh_dots() {
        let mut c = VClock::new();
        assert!(c.is_empty());
        assert_eq!(c.increment(Actor(7)), Dot::new(Actor(7), 1));
        assert_eq!(c.increment(Actor(7)), Dot::new(Actor(7), 2));
        assert_eq!(c.increment(Actor(2)), Dot::new(Actor(2), 1));
        assert!(c.covers(Dot::new(Actor(7), 2)));
        assert!(!c.covers(Dot::new(Actor(7), 3)));
        assert!(!c.covers(Dot::new(Actor(9), 1)));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn set_zero_removes() {
        let mut c = vc(&[(1, 1), (2, 2)]);
        c.set(Actor(1), 0);
        assert_eq!(c, vc(&[(2, 2)]));
        c.set(Actor(5), 0);
        assert_eq!(c, vc(&[(2, 2)]));
    }

    #[test]
    fn compare_orders_causally() {
        let a = vc(&[(1, 1)]);
        let b = vc(&[(1, 2)]);
        let c = vc(&[(2, 1)]);
        assert!(b.dominates(&a));
        assert!(!a.dominates(&a));
        assert!(a.descends(&a));
        assert!(a.descends(&VClock::new()));
        assert_eq!(a.compare(&b), Some(Ordering::Less));
        assert_eq!(b.compare(&a), Some(Ordering::Greater));
        assert_eq!(a.compare(&c), None);
        assert!(a.concurrent(&c));
        assert_eq!(a.merged(&c), vc(&[(1, 1), (2, 1)]));
    }

    fn clock() -> impl Strategy<Value = VClock> {
        prop::collection::vec((0u64..6, 0u64..5), 0..6)
            .prop_map(|es| es.into_iter().map(|(a, c)| (Actor(a), c)).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn merge_is_a_join(a in clock(), b in clock(), c in clock()) {
            prop_assert_eq!(a.merged(&b), b.merged(&a));
            prop_assert_eq!(a.merged(&b).merged(&c), a.merged(&b.merged(&c)));
            prop_assert_eq!(a.merged(&a), a.clone());
            // The join is an upper bound, and the least one.
            let ab = a.merged(&b);
            prop_assert!(ab.descends(&a) && ab.descends(&b));
            if c.descends(&a) && c.descends(&b) {
                prop_assert!(c.descends(&ab));
            }
        }

        #[test]
        fn descends_is_a_partial_order(a in clock(), b in clock(), c in clock()) {
            prop_assert!(a.descends(&a));
            if a.descends(&b) && b.descends(&a) {
                prop_assert_eq!(&a, &b);
            }
            if a.descends(&b) && b.descends(&c) {
                prop_assert!(a.descends(&c));
            }
            // Consistent with merge: a ≥ b exactly when merging b changes nothing.
            prop_assert_eq!(a.descends(&b), a.merged(&b) == a);
            prop_assert_eq!(a.dominates(&b), a.descends(&b) && a != b);
        }

        #[test]
        fn covers_matches_descends(a in clock(), actor in 0u64..6, counter in 1u64..6) {
            let dot = Dot::new(Actor(actor), counter);
            let single = VClock::from_entries([(dot.actor, dot.counter)]);
            prop_assert_eq!(a.covers(dot), a.descends(&single));
        }

        #[test]
        fn serde_round_trip(a in clock()) {
            let bytes = rmp_serde::to_vec_named(&a).unwrap();
            let back: VClock = rmp_serde::from_slice(&bytes).unwrap();
            prop_assert_eq!(back, a);
        }
    }
}
