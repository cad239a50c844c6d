//! A Riak object: a clock plus siblings, each tagged with the dot of the
//! write that created it (dotted version vectors, as riak_kv's `dvv_enabled`).
//!
//! Coordinated puts, replica merges, last-write-wins collapse and tombstones
//! are pure functions here; the vnode and the FSMs decide when to call them.

use super::error::{ObjectError, Result};
use super::meta::Metadata;
use super::vclock::{Actor, Dot, VClock};

/// Siblings above this count are logged by the put path.
pub const SIBLINGS_WARN: usize = 25;
/// Siblings above this count fail the write (`too_many_siblings`).
pub const SIBLINGS_MAX: usize = 100;
/// Objects above this size are logged by the put path.
pub const SIZE_WARN: usize = 5 * 1024 * 1024;
/// Objects above this size fail the write (`too_large`).
pub const SIZE_MAX: usize = 50 * 1024 * 1024;

/// A value and its metadata before a coordinator gives it a dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub value: Vec<u8>,
    pub meta: Metadata,
}

impl Content {
    pub fn new(value: Vec<u8>, meta: Metadata) -> Self {
        Content { value, meta }
    }

    /// The content of a delete: an empty value marked deleted.
    pub fn tombstone(vtag: String, last_modified_us: u64) -> Self {
        Content {
            value: Vec::new(),
            meta: Metadata::tombstone(vtag, last_modified_us),
        }
    }
}

/// One concurrent version of an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sibling {
    /// The write that created this value; unique per value.
    pub dot: Dot,
    pub value: Vec<u8>,
    pub meta: Metadata,
}

impl Sibling {
    pub fn is_tombstone(&self) -> bool {
        self.meta.deleted
    }

    /// Order used by last-write-wins: newest timestamp, then a value beats a
    /// tombstone, then the larger vtag, then the larger dot. Dots are unique,
    /// so this is a total order on the siblings of realistic objects.
    fn lww_key(&self) -> (u64, bool, &str, Dot) {
        (
            self.meta.last_modified_us,
            !self.meta.deleted,
            self.meta.vtag.as_str(),
            self.dot,
        )
    }

    fn approx_size(&self) -> usize {
        self.value.len() + self.meta.approx_size() + 16
    }
}

/// A stored object; bucket and key live in the storage key, outside it.
///
/// Invariant (kept by every constructor here and checked by the decoder):
/// siblings are sorted by dot with unique dots, and the clock covers every
/// sibling's dot. The derived equality relies on the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiakObject {
    pub clock: VClock,
    pub siblings: Vec<Sibling>,
}

/// What a write-limit check found short of a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitCheck {
    Ok,
    /// Over the warning thresholds; the write proceeds but is worth a log line.
    Warn {
        siblings: usize,
        size: usize,
    },
}

impl RiakObject {
    /// The result of a put coordinated by `actor` on top of the vnode's
    /// `local` copy, for a client that read `context`.
    ///
    /// The new value gets dot (actor, max(local[actor], context[actor]) + 1);
    /// taking the max with the context keeps the dot fresh even if the vnode
    /// lost data the client had seen. Local siblings the context covers were
    /// seen by the client and are replaced; the others are concurrent and stay.
    pub fn coordinate_put(
        local: Option<&RiakObject>,
        context: &VClock,
        content: Content,
        actor: Actor,
    ) -> RiakObject {
        let empty = RiakObject::default();
        let local = local.unwrap_or(&empty);
        let counter = local.clock.get(actor).max(context.get(actor)) + 1;
        let dot = Dot { actor, counter };
        let mut clock = local.clock.merged(context);
        clock.set(actor, counter);
        let mut siblings: Vec<Sibling> = local
            .siblings
            .iter()
            .filter(|s| !context.covers(s.dot))
            .cloned()
            .collect();
        siblings.push(Sibling {
            dot,
            value: content.value,
            meta: content.meta,
        });
        let mut obj = RiakObject { clock, siblings };
        obj.normalize();
        obj
    }

    /// A delete coordinated by `actor`: a put of a tombstone.
    pub fn coordinate_delete(
        local: Option<&RiakObject>,
        context: &VClock,
        actor: Actor,
        vtag: String,
        last_modified_us: u64,
    ) -> RiakObject {
        RiakObject::coordinate_put(
            local,
            context,
            Content::tombstone(vtag, last_modified_us),
            actor,
        )
    }

    /// The merge a replica, read repair or handoff performs.
    ///
    /// A sibling survives unless the other side has seen its dot (its clock
    /// covers it) and no longer holds it, meaning some write replaced it.
    /// Commutative, associative and idempotent for objects built by
    /// `coordinate_put` and `merge`.
    pub fn merge(&self, other: &RiakObject) -> RiakObject {
        let clock = self.clock.merged(&other.clock);
        let survives =
            |s: &Sibling, theirs: &RiakObject| theirs.has_dot(s.dot) || !theirs.clock.covers(s.dot);
        let siblings = self
            .siblings
            .iter()
            .filter(|s| survives(s, other))
            .chain(other.siblings.iter().filter(|s| survives(s, self)))
            .cloned()
            .collect();
        let mut obj = RiakObject { clock, siblings };
        obj.normalize();
        obj
    }

    /// Whether this object has seen everything `other` has.
    pub fn descends(&self, other: &RiakObject) -> bool {
        self.clock.descends(&other.clock)
    }

    /// Descends and has seen strictly more.
    pub fn dominates(&self, other: &RiakObject) -> bool {
        self.clock.dominates(&other.clock)
    }

    /// Last-write-wins for buckets with `allow_mult=false`: keep only the
    /// sibling that is greatest by timestamp (ties: a value beats a
    /// tombstone, then the larger vtag, then the larger dot). The clock is
    /// kept, so the dropped siblings count as replaced in later merges.
    ///
    /// Merge then collapse gives the same result in any merge order as long
    /// as a write's timestamp is later than those of the values it replaced
    /// (then the winner is the newest write in the object's causal past).
    /// Under clock skew no order-free answer exists, as in Riak.
    pub fn collapse_lww(&mut self) {
        if self.siblings.len() <= 1 {
            return;
        }
        let winner = self
            .siblings
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.lww_key().cmp(&b.1.lww_key()))
            .map(|(i, _)| i)
            .unwrap_or(0);
        let keep = self.siblings.swap_remove(winner);
        self.siblings = vec![keep];
    }

    /// All siblings are tombstones (an object without siblings counts too:
    /// there is nothing to serve).
    pub fn is_tombstone(&self) -> bool {
        self.siblings.iter().all(Sibling::is_tombstone)
    }

    /// The siblings that are not tombstones.
    pub fn live_siblings(&self) -> impl Iterator<Item = &Sibling> {
        self.siblings.iter().filter(|s| !s.is_tombstone())
    }

    pub fn sibling_count(&self) -> usize {
        self.siblings.len()
    }

    /// Values plus an estimate of metadata and clock, for the size limit.
    pub fn approx_size(&self) -> usize {
        self.siblings
            .iter()
            .map(Sibling::approx_size)
            .sum::<usize>()
            + self.clock.len() * 16
    }

    /// The newest `last_modified_us` among the siblings; a coordinator can
    /// stamp a new write later than this to keep timestamps causal.
    pub fn latest_modified_us(&self) -> Option<u64> {
        self.siblings.iter().map(|s| s.meta.last_modified_us).max()
    }

    /// Checks Riak's write limits: more than `SIBLINGS_MAX` siblings or
    /// `SIZE_MAX` bytes is rejected; above the warning thresholds it warns.
    pub fn check_limits(&self) -> Result<LimitCheck> {
        let siblings = self.sibling_count();
        let size = self.approx_size();
        if siblings > SIBLINGS_MAX {
            return Err(ObjectError::TooManySiblings {
                count: siblings,
                max: SIBLINGS_MAX,
            });
        }
        if size > SIZE_MAX {
            return Err(ObjectError::TooLarge {
                size,
                max: SIZE_MAX,
            });
        }
        if siblings > SIBLINGS_WARN || size > SIZE_WARN {
            return Ok(LimitCheck::Warn { siblings, size });
        }
        Ok(LimitCheck::Ok)
    }

    /// Whether a sibling with this dot is present.
    pub fn has_dot(&self, dot: Dot) -> bool {
        self.siblings.iter().any(|s| s.dot == dot)
    }

    /// Restores the sibling invariant: sorted by dot, one sibling per dot.
    /// Two siblings with one dot cannot come from the same write; should it
    /// happen anyway, the greater one (by `Ord`) is kept so that merge stays
    /// order-independent.
    pub fn normalize(&mut self) {
        self.siblings
            .sort_unstable_by(|a, b| a.dot.cmp(&b.dot).then_with(|| b.cmp(a)));
        self.siblings
            .dedup_by(|later, earlier| later.dot == earlier.dot);
    }

    /// Checks the invariant of a decoded object.
    pub(crate) fn validate(&self) -> Result<()> {
        if !self.siblings.windows(2).all(|w| w[0].dot < w[1].dot) {
            return Err(ObjectError::Invalid("siblings not sorted by unique dot"));
        }
        if !self.siblings.iter().all(|s| self.clock.covers(s.dot)) {
            return Err(ObjectError::Invalid("sibling dot not covered by clock"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Actor = Actor(1);
    const B: Actor = Actor(2);

    fn content(v: &str, ts: u64) -> Content {
        Content::new(
            v.as_bytes().to_vec(),
            Metadata {
                vtag: format!("vt-{v}"),
                last_modified_us: ts,
                ..Metadata::default()
            },
        )
    }

    fn values(o: &RiakObject) -> Vec<&[u8]> {
        o.siblings.iter().map(|s| s.value.as_slice()).collect()
    }

    #[test]
    fn first_put_creates_one_sibling() {
        let o = RiakObject::coordinate_put(None, &VClock::new(), content("a", 1), A);
        assert_eq!(values(&o), vec![b"a"]);
        assert_eq!(o.siblings[0].dot, Dot::new(A, 1));
        assert_eq!(o.clock, VClock::from_entries([(A, 1)]));
        assert!(!o.is_tombstone());
    }

    #[test]
    fn blind_put_on_existing_key_makes_siblings() {
        let o1 = RiakObject::coordinate_put(None, &VClock::new(), content("a", 1), A);
        let o2 = RiakObject::coordinate_put(Some(&o1), &VClock::new(), content("b", 2), A);
        assert_eq!(values(&o2), vec![b"a", b"b"]);
        assert_eq!(o2.clock.get(A), 2);
        assert!(o2.dominates(&o1));
    }

    #[test]
    fn put_with_read_context_replaces_what_it_saw() {
        let o1 = RiakObject::coordinate_put(None, &VClock::new(), content("a", 1), A);
        let o2 = RiakObject::coordinate_put(Some(&o1), &VClock::new(), content("b", 2), A);
        let o3 = RiakObject::coordinate_put(Some(&o2), &o2.clock, content("c", 3), A);
        assert_eq!(values(&o3), vec![b"c"]);
        // A concurrent write it did not see survives.
        let o4 = RiakObject::coordinate_put(Some(&o3), &VClock::new(), content("d", 4), A);
        let o5 = RiakObject::coordinate_put(Some(&o4), &o3.clock, content("e", 5), A);
        assert_eq!(values(&o5), vec![b"d", b"e"]);
    }

    #[test]
    fn context_ahead_of_local_still_gets_a_fresh_dot() {
        // The vnode lost its copy but the client has seen A's second write.
        let ctx = VClock::from_entries([(A, 2)]);
        let o = RiakObject::coordinate_put(None, &ctx, content("x", 1), A);
        assert_eq!(o.siblings[0].dot, Dot::new(A, 3));
    }

    #[test]
    fn replica_merge_drops_replaced_and_keeps_concurrent() {
        let base = RiakObject::coordinate_put(None, &VClock::new(), content("a", 1), A);
        // Replica B got `base`, then coordinates a replacement.
        let at_b = RiakObject::coordinate_put(Some(&base), &base.clock, content("b", 2), B);
        // Meanwhile A takes a blind write.
        let at_a = RiakObject::coordinate_put(Some(&base), &VClock::new(), content("c", 3), A);
        let m = at_a.merge(&at_b);
        assert_eq!(values(&m), vec![b"c", b"b"]);
        assert_eq!(m, at_b.merge(&at_a));
        assert!(m.descends(&at_a) && m.descends(&at_b));
    }

    #[test]
    fn merge_with_ancestor_is_a_no_op() {
        let o1 = RiakObject::coordinate_put(None, &VClock::new(), content("a", 1), A);
        let o2 = RiakObject::coordinate_put(Some(&o1), &o1.clock, content("b", 2), A);
        assert_eq!(o2.merge(&o1), o2);
        assert_eq!(o1.merge(&o2), o2);
    }

    #[test]
    fn delete_writes_a_tombstone() {
        let o1 = RiakObject::coordinate_put(None, &VClock::new(), content("a", 1), A);
        let d = RiakObject::coordinate_delete(Some(&o1), &o1.clock, B, "vt-del".into(), 2);
        assert!(d.is_tombstone());
        assert_eq!(d.sibling_count(), 1);
        assert!(d.siblings[0].value.is_empty());
        assert!(d.dominates(&o1));
        // A concurrent blind write at A keeps "a" and adds "b"; merged with
        // the delete, "a" (which the delete saw) goes and "b" stands beside
        // the tombstone.
        let w = RiakObject::coordinate_put(Some(&o1), &VClock::new(), content("b", 3), A);
        let m = d.merge(&w);
        assert!(!m.is_tombstone());
        assert_eq!(values(&m), vec![&b"b"[..], &b""[..]]);
        assert_eq!(m.live_siblings().count(), 1);
    }

    #[test]
    fn lww_keeps_newest_and_tombstone_loses_ties() {
        let o1 = RiakObject::coordinate_put(None, &VClock::new(), content("old", 1), A);
        let mut o2 = RiakObject::coordinate_put(Some(&o1), &VClock::new(), content("new", 9), A);
        let clock = o2.clock.clone();
        o2.collapse_lww();
        assert_eq!(values(&o2), vec![b"new"]);
        assert_eq!(o2.clock, clock);

        let v = RiakObject::coordinate_put(None, &VClock::new(), content("v", 5), A);
        let t = RiakObject::coordinate_delete(None, &VClock::new(), B, "zzz".into(), 5);
        let mut m1 = v.merge(&t);
        let mut m2 = t.merge(&v);
        m1.collapse_lww();
        m2.collapse_lww();
        assert_eq!(values(&m1), vec![b"v"]);
        assert_eq!(m1, m2);
    }

    #[test]
    fn lww_ties_break_on_vtag_then_dot() {
        let x = RiakObject::coordinate_put(None, &VClock::new(), content("x", 5), A);
        let y = RiakObject::coordinate_put(None, &VClock::new(), content("y", 5), B);
        let mut m = x.merge(&y);
        m.collapse_lww();
        assert_eq!(values(&m), vec![b"y"]); // "vt-y" > "vt-x"

        let mut same = content("p", 5);
        same.meta.vtag = "same".into();
        let p = RiakObject::coordinate_put(None, &VClock::new(), same.clone(), A);
        let q = RiakObject::coordinate_put(None, &VClock::new(), same, B);
        let mut m = q.merge(&p);
        m.collapse_lww();
        assert_eq!(m.siblings[0].dot, Dot::new(B, 1));
    }

    #[test]
    fn limits() {
        let mut o = RiakObject::coordinate_put(None, &VClock::new(), content("a", 1), A);
        assert_eq!(o.check_limits(), Ok(LimitCheck::Ok));
        for i in 0..SIBLINGS_WARN {
            o = RiakObject::coordinate_put(Some(&o), &VClock::new(), content(&i.to_string(), 1), A);
        }
        assert_eq!(o.sibling_count(), SIBLINGS_WARN + 1);
        assert!(matches!(o.check_limits(), Ok(LimitCheck::Warn { .. })));
        for i in 0..SIBLINGS_MAX {
            o = RiakObject::coordinate_put(Some(&o), &VClock::new(), content(&i.to_string(), 1), A);
        }
        assert!(matches!(
            o.check_limits(),
            Err(ObjectError::TooManySiblings {
                max: SIBLINGS_MAX,
                ..
            })
        ));

        let big = Content::new(vec![0; SIZE_MAX + 1], Metadata::default());
        let o = RiakObject::coordinate_put(None, &VClock::new(), big, A);
        assert!(o.approx_size() > SIZE_MAX);
        assert!(matches!(
            o.check_limits(),
            Err(ObjectError::TooLarge { .. })
        ));
    }

    #[test]
    fn normalize_sorts_and_dedupes() {
        let s = |a, c, v: &str| Sibling {
            dot: Dot::new(Actor(a), c),
            value: v.as_bytes().to_vec(),
            meta: Metadata::default(),
        };
        let mut o = RiakObject {
            clock: VClock::from_entries([(Actor(1), 2), (Actor(2), 1)]),
            siblings: vec![s(2, 1, "b"), s(1, 2, "a"), s(2, 1, "b")],
        };
        assert!(o.validate().is_err());
        o.normalize();
        assert_eq!(values(&o), vec![b"a", b"b"]);
        assert!(o.validate().is_ok());
    }
}
