//! Counters. `PnCounter` is the top-level counter: per actor a grow-only
//! count of increments and of decrements, merged by maximum. `EmCounter` is
//! the counter embedded in maps: each actor's totals are tagged with the dot
//! of its latest update, so a map field reset can drop what it observed.

use super::clock::dot_clock;
use crate::object::{Actor, Dot, VClock};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The change an increment of `by` makes to (increments, decrements).
fn split(by: i64) -> (u64, u64) {
    if by >= 0 {
        (by as u64, 0)
    } else {
        (0, by.unsigned_abs())
    }
}

/// Σ increments − Σ decrements, clamped to i64 (Riak's integers are unbounded).
fn total(parts: impl Iterator<Item = (u64, u64)>) -> i64 {
    let sum: i128 = parts.map(|(p, n)| i128::from(p) - i128::from(n)).sum();
    sum.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Riak's `riak_dt_pncounter`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PnCounter {
    /// actor → (increments, decrements).
    entries: BTreeMap<Actor, (u64, u64)>,
}

impl PnCounter {
    pub fn new() -> Self {
        PnCounter::default()
    }

    pub fn value(&self) -> i64 {
        total(self.entries.values().copied())
    }

    /// Adds `by` (negative: subtracts) as `actor`. Zero changes nothing.
    pub fn increment(&mut self, actor: Actor, by: i64) {
        if by == 0 {
            return;
        }
        let (p, n) = split(by);
        let e = self.entries.entry(actor).or_default();
        e.0 = e.0.saturating_add(p);
        e.1 = e.1.saturating_add(n);
    }

    pub fn merge(&mut self, other: &PnCounter) {
        for (&actor, &(p, n)) in &other.entries {
            let e = self.entries.entry(actor).or_default();
            e.0 = e.0.max(p);
            e.1 = e.1.max(n);
        }
    }

    /// Number of actors that ever updated the counter.
    pub fn actor_count(&self) -> usize {
        self.entries.len()
    }
}

/// One actor's share of an embedded counter: the counter of the actor's
/// latest update dot and its running totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EmEntry {
    event: u64,
    inc: u64,
    dec: u64,
}

/// Riak's `riak_dt_emcntr`: the counter inside maps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmCounter {
    clock: VClock,
    entries: BTreeMap<Actor, EmEntry>,
}

impl EmCounter {
    pub fn new() -> Self {
        EmCounter::default()
    }

    pub fn value(&self) -> i64 {
        total(self.entries.values().map(|e| (e.inc, e.dec)))
    }

    pub(crate) fn set_clock(&mut self, clock: VClock) {
        self.clock = clock;
    }

    /// Adds `by` at `dot`; the actor's totals carry over and take the new dot.
    pub(crate) fn increment(&mut self, dot: Dot, by: i64) {
        self.clock.merge(&dot_clock(dot));
        let (p, n) = split(by);
        let e = self.entries.entry(dot.actor).or_insert(EmEntry {
            event: 0,
            inc: 0,
            dec: 0,
        });
        e.event = dot.counter;
        e.inc = e.inc.saturating_add(p);
        e.dec = e.dec.saturating_add(n);
    }

    /// An actor's entry on both sides: the later event wins. On one side
    /// only: kept unless the other side has seen its event (then the other
    /// side dropped it in a reset).
    pub fn merge(&mut self, other: &EmCounter) {
        let mut entries = BTreeMap::new();
        for (&actor, &mine) in &self.entries {
            match other.entries.get(&actor) {
                Some(&theirs) if theirs.event > mine.event => {
                    entries.insert(actor, theirs);
                }
                Some(_) => {
                    entries.insert(actor, mine);
                }
                None if !other.clock.covers(Dot::new(actor, mine.event)) => {
                    entries.insert(actor, mine);
                }
                None => {}
            }
        }
        for (&actor, &theirs) in &other.entries {
            if !self.entries.contains_key(&actor)
                && !self.clock.covers(Dot::new(actor, theirs.event))
            {
                entries.insert(actor, theirs);
            }
        }
        self.clock.merge(&other.clock);
        self.entries = entries;
    }

    pub(crate) fn validate(&self) -> bool {
        self.entries.values().all(|e| e.event > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pn_counter_sums_and_merges() {
        let mut a = PnCounter::new();
        a.increment(Actor(1), 5);
        a.increment(Actor(1), -2);
        let mut b = a.clone();
        b.increment(Actor(2), 10);
        a.increment(Actor(1), 1);
        a.merge(&b);
        assert_eq!(a.value(), 14);
        a.increment(Actor(3), i64::MIN);
        assert_eq!(a.value(), 14 + i64::MIN);
        a.increment(Actor(3), i64::MIN);
        assert_eq!(a.value(), i64::MIN, "clamped, not wrapped");
    }

    #[test]
    fn em_counter_drops_seen_entries() {
        let mut a = EmCounter::new();
        a.increment(Dot::new(Actor(1), 1), 3);
        // The other side saw a1 and has no entry for actor 1: it reset it.
        let mut reset = EmCounter::new();
        reset.set_clock(VClock::from_entries([(Actor(1), 1)]));
        let mut merged = a.clone();
        merged.merge(&reset);
        assert_eq!(merged.value(), 0);
        // A later event by the same actor survives.
        a.increment(Dot::new(Actor(1), 2), 1);
        let mut merged = reset.clone();
        merged.merge(&a);
        assert_eq!(merged.value(), 4);
    }
}
