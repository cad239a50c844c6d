//! The set: Riak's ORSWOT (observed-remove set without tombstones). A clock
//! of every add the replica has seen plus, per member, the dots of the adds
//! that put it there. A remove drops only dots it observed, so a concurrent
//! add survives; a remove carrying a context the replica has not caught up
//! with is kept as a deferred operation and re-applied after each merge.

use super::clock::{ClockKey, clock_of, dot_clock, key_of, subtract_dots};
use super::error::{CrdtError, Result};
use super::{Origin, SetOp, seq};
use crate::object::VClock;
use serde::{Deserialize, Serialize};
use serde_bytes::{ByteBuf, Bytes};
use std::collections::{BTreeMap, BTreeSet};

/// Riak's `riak_dt_orswot`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orswot {
    clock: VClock,
    /// member → dots of the adds that support it (one per actor at most).
    #[serde(deserialize_with = "super::sorted_map::deserialize")]
    entries: BTreeMap<ByteBuf, VClock>,
    /// context → members whose removal waits for the replica to see the context.
    #[serde(with = "seq")]
    deferred: BTreeMap<ClockKey, BTreeSet<ByteBuf>>,
}

impl Orswot {
    pub fn new() -> Self {
        Orswot::default()
    }

    /// Members in byte order.
    pub fn value(&self) -> Vec<Vec<u8>> {
        self.entries.keys().map(|k| k.to_vec()).collect()
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.entries.contains_key(Bytes::new(member))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The causal context handed to clients.
    pub fn clock(&self) -> &VClock {
        &self.clock
    }

    /// Removes waiting for the replica to catch up.
    pub fn deferred_len(&self) -> usize {
        self.deferred.len()
    }

    /// Inside a map the set shares the map's clock (Riak's `parent_clock`).
    pub(crate) fn set_clock(&mut self, clock: VClock) {
        self.clock = clock;
    }

    /// Applies a top-level set operation as `actor`: every added member gets
    /// a fresh dot. See `apply_at`.
    pub fn apply(
        &mut self,
        op: &SetOp,
        actor: crate::object::Actor,
        ctx: Option<&VClock>,
    ) -> Result<()> {
        self.apply_at(op, Origin::Actor(actor), ctx)
    }

    /// Adds first, then removes (Riak's order). Without a context a remove of
    /// an absent member fails the whole operation with nothing changed; with
    /// one, removes drop what the context saw and never fail.
    pub(crate) fn apply_at(
        &mut self,
        op: &SetOp,
        origin: Origin,
        ctx: Option<&VClock>,
    ) -> Result<()> {
        if ctx.is_none() {
            self.check_removes(op)?;
        }
        for member in &op.adds {
            self.add(origin, member);
        }
        for member in &op.removes {
            match ctx {
                None => {
                    self.entries.remove(Bytes::new(member));
                }
                Some(ctx) => self.remove_seen(member, ctx),
            }
        }
        Ok(())
    }

    /// Would the context-free removes of `op` all find their member?
    fn check_removes(&self, op: &SetOp) -> Result<()> {
        if op.removes.is_empty() {
            return Ok(());
        }
        let adds: BTreeSet<&[u8]> = op.adds.iter().map(Vec::as_slice).collect();
        let mut removed: BTreeSet<&[u8]> = BTreeSet::new();
        for member in &op.removes {
            let present =
                self.entries.contains_key(Bytes::new(member)) || adds.contains(member.as_slice());
            if !present || !removed.insert(member.as_slice()) {
                return Err(CrdtError::member_not_present(member));
            }
        }
        Ok(())
    }

    fn add(&mut self, origin: Origin, member: &[u8]) {
        let dot = origin.next_dot(&mut self.clock);
        // The new dot supersedes every dot the replica saw for the member.
        self.entries.insert(ByteBuf::from(member), dot_clock(dot));
    }

    /// Removes the dots of `member` that `ctx` saw; if the replica has not
    /// seen all of `ctx` yet, keeps the remove to re-apply after merges.
    fn remove_seen(&mut self, member: &[u8], ctx: &VClock) {
        if !self.clock.descends(ctx) {
            self.deferred
                .entry(key_of(ctx))
                .or_default()
                .insert(ByteBuf::from(member));
        }
        if let Some(dots) = self.entries.get_mut(Bytes::new(member)) {
            let remaining = subtract_dots(dots, ctx);
            if remaining.is_empty() {
                self.entries.remove(Bytes::new(member));
            } else {
                *dots = remaining;
            }
        }
    }

    /// A dot both sides hold stays. A dot one side holds stays unless the
    /// other side has seen it (then the other side removed it).
    ///
    /// One walk over both member lists in order: a member with the same dots
    /// on both sides (most of them, between replicas) is kept as it is.
    pub fn merge(&mut self, other: &Orswot) {
        if self == other {
            return;
        }
        let mine = std::mem::take(&mut self.entries);
        let mut merged = Vec::with_capacity(mine.len().max(other.entries.len()));
        let mut a = mine.into_iter().peekable();
        let mut b = other.entries.iter().peekable();
        loop {
            let order = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
            };
            let (member, dots) = match order {
                std::cmp::Ordering::Less => {
                    let (m, d) = a.next().expect("peeked");
                    (m, unseen_dots(d, &other.clock))
                }
                std::cmp::Ordering::Greater => {
                    let (m, d) = b.next().expect("peeked");
                    (m.clone(), unseen_dots(d.clone(), &self.clock))
                }
                std::cmp::Ordering::Equal => {
                    let (m, mine) = a.next().expect("peeked");
                    let (_, theirs) = b.next().expect("peeked");
                    let dots = if &mine == theirs {
                        mine
                    } else {
                        merge_dots(&mine, &self.clock, theirs, &other.clock)
                    };
                    (m, dots)
                }
            };
            if !dots.is_empty() {
                merged.push((member, dots));
            }
        }
        // Built from a sorted list, the tree is built in one pass.
        self.entries = merged.into_iter().collect();
        self.clock.merge(&other.clock);
        let mut deferred = std::mem::take(&mut self.deferred);
        for (ctx, members) in &other.deferred {
            deferred
                .entry(ctx.clone())
                .or_default()
                .extend(members.iter().cloned());
        }
        for (ctx, members) in deferred {
            let ctx = clock_of(&ctx);
            for member in members {
                self.remove_seen(&member, &ctx);
            }
        }
    }

    pub(crate) fn validate(&self) -> bool {
        self.entries.values().all(|d| !d.is_empty())
            && self.deferred.values().all(|m| !m.is_empty())
    }
}

/// The dots of a member only one side holds that the other side has not
/// seen (a dot it saw and does not hold, it removed).
fn unseen_dots(dots: VClock, other_clock: &VClock) -> VClock {
    if dots.iter().all(|(a, c)| other_clock.get(a) < c) {
        dots
    } else {
        subtract_dots(&dots, other_clock)
    }
}

/// The surviving dots of one member given both sides' dots and clocks: a
/// dot both hold stays, a dot one side holds stays if the other has not
/// seen it. Both dot lists are sorted by actor, so one walk over both.
pub(crate) fn merge_dots(
    mine: &VClock,
    my_clock: &VClock,
    theirs: &VClock,
    their_clock: &VClock,
) -> VClock {
    let (mine, theirs) = (mine.entries(), theirs.entries());
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(mine.len().max(theirs.len()));
    while i < mine.len() || j < theirs.len() {
        let (actor, m, t) = match (mine.get(i), theirs.get(j)) {
            (Some(&(a, m)), Some(&(b, t))) if a == b => {
                (i, j) = (i + 1, j + 1);
                (a, m, t)
            }
            (Some(&(a, m)), Some(&(b, _))) if a < b => {
                i += 1;
                (a, m, 0)
            }
            (Some(&(a, m)), None) => {
                i += 1;
                (a, m, 0)
            }
            (_, Some(&(b, t))) => {
                j += 1;
                (b, 0, t)
            }
            (None, None) => unreachable!("loop condition"),
        };
        let kept = if m > 0 && m == t {
            m
        } else {
            let m = if m > 0 && their_clock.get(actor) < m {
                m
            } else {
                0
            };
            let t = if t > 0 && my_clock.get(actor) < t {
                t
            } else {
                0
            };
            m.max(t)
        };
        if kept > 0 {
            out.push((actor, kept));
        }
    }
    VClock::from_entries(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crdt::error::{Absent, Precondition};
    use crate::object::Actor;

    fn op(adds: &[&str], removes: &[&str]) -> SetOp {
        SetOp {
            adds: adds.iter().map(|s| s.as_bytes().to_vec()).collect(),
            removes: removes.iter().map(|s| s.as_bytes().to_vec()).collect(),
        }
    }

    fn members(s: &Orswot) -> Vec<String> {
        s.value()
            .into_iter()
            .map(|m| String::from_utf8(m).unwrap())
            .collect()
    }

    #[test]
    fn remove_without_context_needs_the_member() {
        let mut s = Orswot::new();
        s.apply(&op(&["a", "b"], &[]), Actor(1), None).unwrap();
        let before = s.clone();
        let err = s
            .apply(&op(&["c"], &["a", "x"]), Actor(1), None)
            .unwrap_err();
        assert_eq!(
            err,
            CrdtError::Precondition(Precondition::NotPresent(Absent::Member(b"x".to_vec())))
        );
        assert_eq!(err.to_string(), "{precondition,{not_present,<<\"x\">>}}");
        assert_eq!(s, before, "a failed operation changes nothing");
        // Removing the same member twice in one op fails as in Riak.
        assert!(s.apply(&op(&[], &["a", "a"]), Actor(1), None).is_err());
        // A member added by the same op may be removed by it.
        s.apply(&op(&["c"], &["c", "a"]), Actor(1), None).unwrap();
        assert_eq!(members(&s), ["b"]);
    }

    #[test]
    fn add_wins_over_concurrent_remove() {
        let mut a = Orswot::new();
        a.apply(&op(&["x"], &[]), Actor(1), None).unwrap();
        let mut b = a.clone();
        let ctx = a.clock().clone();
        a.apply(&op(&[], &["x"]), Actor(1), Some(&ctx)).unwrap();
        b.apply(&op(&["x"], &[]), Actor(2), None).unwrap();
        let mut m1 = a.clone();
        m1.merge(&b);
        let mut m2 = b.clone();
        m2.merge(&a);
        assert_eq!(members(&m1), ["x"]);
        assert_eq!(m1, m2);
    }

    #[test]
    fn unseen_remove_is_deferred_until_the_add_arrives() {
        let mut a = Orswot::new();
        a.apply(&op(&["x"], &[]), Actor(1), None).unwrap();
        let ctx = a.clock().clone();
        // b has not seen a's add; with a context the remove cannot fail.
        let mut b = Orswot::new();
        b.apply(&op(&[], &["x"]), Actor(2), Some(&ctx)).unwrap();
        assert_eq!(b.deferred_len(), 1);
        b.merge(&a);
        assert!(b.is_empty());
        assert_eq!(b.deferred_len(), 0);
        // The add reaching b later does not resurrect it either.
        a.merge(&b);
        assert!(a.is_empty());
    }
}
