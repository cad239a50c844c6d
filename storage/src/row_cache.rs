//! The row cache: recently read values, shared by all the stores of a backend,
//! in front of their point reads.
//!
//! A hit costs a hash lookup and a copy; a miss in the engine searches the
//! memtables and, table by table, a filter, an index block and a data block.
//! A put caches the value it wrote (the read-before-write of the next update
//! of that key then hits). Reads fill the cache after a miss, but only when no
//! write of that key completed since the reader looked, so a value read
//! before a write can never be cached after it (see [`RowCache::fill`]).
//! The fjall backend's commit queue, applied by one thread at a time,
//! reports each write after the engine applied it, in the order applied,
//! so the cache follows the engine.
//!
//! An entry is one key's value and the stores that hold exactly those bytes.
//! The replicas of a key that live on one node (every replica, on a single
//! node) usually hold the same bytes, so they share one entry, and the cache
//! holds up to `n_val` times more keys than with an entry per store.
//!
//! An entry also keeps the value before the latest one, for the stores that
//! still hold it. An update writes the coordinating replica first; the other
//! replicas then read the old value before writing the new one, and without
//! it each of those reads would go to the engine. Once every store wrote the
//! new value the old one is dropped.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::RowCacheStats;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// Values larger than this are not cached: one large object would evict
/// hundreds of small ones, and its read cost is dominated by the copy anyway.
const MAX_ROW: usize = 64 * 1024;

/// Bookkeeping per entry beyond its key and value bytes, for the budget.
const ENTRY_OVERHEAD: u64 = 96;

/// Write epochs: one counter per shard of the key space.
const EPOCH_SHARDS: usize = 256;

/// Most stores one entry records; more replicas of a key on one node than
/// this are rare (n_val above 7), and the others just miss.
const MAX_HOLDERS: usize = 7;

/// The stores known to hold a row's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Holders {
    ids: [u32; MAX_HOLDERS],
    len: u8,
}

impl Holders {
    fn one(store: u32) -> Holders {
        Holders::default().with(store)
    }

    fn ids(&self) -> &[u32] {
        &self.ids[..usize::from(self.len)]
    }

    fn contains(&self, store: u32) -> bool {
        self.ids().contains(&store)
    }

    /// These holders and `store` (unchanged when full or already there).
    fn with(mut self, store: u32) -> Holders {
        if !self.contains(store) && usize::from(self.len) < MAX_HOLDERS {
            self.ids[usize::from(self.len)] = store;
            self.len += 1;
        }
        self
    }

    fn without(self, store: u32) -> Holders {
        let mut rest = Holders::default();
        for &id in self.ids().iter().filter(|&&id| id != store) {
            rest = rest.with(id);
        }
        rest
    }
}

/// One value of a key and the stores known to hold it.
#[derive(Clone)]
struct Version {
    value: Arc<[u8]>,
    holders: Holders,
}

impl Version {
    fn new(value: &[u8], store: u32) -> Version {
        Version {
            value: value.into(),
            holders: Holders::one(store),
        }
    }

    /// This version held by `holders` instead, or nothing if none.
    fn with_holders(&self, holders: Holders) -> Option<Version> {
        (holders.len > 0).then(|| Version {
            value: self.value.clone(),
            holders,
        })
    }
}

/// One key's cached value, and the value before it while some store still
/// holds that one.
#[derive(Clone)]
struct Row {
    latest: Version,
    previous: Option<Version>,
}

impl Row {
    /// The version `store` holds, if cached.
    fn held_by(&self, store: u32) -> Option<&Version> {
        std::iter::once(&self.latest)
            .chain(&self.previous)
            .find(|v| v.holders.contains(store))
    }

    /// Whether one of the versions is exactly `value`.
    fn has_value(&self, value: &[u8]) -> bool {
        std::iter::once(&self.latest)
            .chain(&self.previous)
            .any(|v| *v.value == *value)
    }

    /// This row with `store` moved to the version of `value`, or out of
    /// both when neither has it (or for `None`). A row no store holds is
    /// `None`.
    fn moved(&self, store: u32, value: Option<&[u8]>) -> Option<Row> {
        let place = |v: &Version| {
            let holders = if value.is_some_and(|x| *v.value == *x) {
                v.holders.with(store)
            } else {
                v.holders.without(store)
            };
            v.with_holders(holders)
        };
        let latest = place(&self.latest);
        let previous = self.previous.as_ref().and_then(place);
        match (latest, previous) {
            (Some(latest), previous) => Some(Row { latest, previous }),
            // Only the old value is still held: it is what the cache knows.
            (None, Some(previous)) => Some(Row {
                latest: previous,
                previous: None,
            }),
            (None, None) => None,
        }
    }

    /// This row after `store` wrote `value` (`None`: it holds nothing known).
    /// A value neither version has becomes the latest, and the latest
    /// before it is kept for its other holders.
    fn after_write(&self, store: u32, value: Option<&[u8]>) -> Option<Row> {
        match value {
            Some(value) if !self.has_value(value) => Some(Row {
                latest: Version::new(value, store),
                previous: self.latest.with_holders(self.latest.holders.without(store)),
            }),
            value => self.moved(store, value),
        }
    }
}

#[derive(Clone)]
struct RowWeight;

impl Weighter<Box<[u8]>, Row> for RowWeight {
    fn weight(&self, k: &Box<[u8]>, v: &Row) -> u64 {
        let previous = v.previous.as_ref().map_or(0, |p| p.value.len());
        (k.len() + v.latest.value.len() + previous) as u64 + ENTRY_OVERHEAD
    }
}

/// Taken before a read that may fill the cache: which shard, and how many
/// writes it had seen.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    shard: usize,
    epoch: u64,
}

pub(crate) struct RowCache {
    rows: Cache<Box<[u8]>, Row, RowWeight>,
    /// Every change to a key's entry is made under its shard's lock, so an
    /// entry's read-modify-write never races another for the same key.
    epochs: Box<[Mutex<u64>]>,
    hasher: std::hash::RandomState,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl RowCache {
    /// A cache holding about `bytes` of keys and values; `None` for 0.
    pub(crate) fn new(bytes: u64) -> Option<RowCache> {
        if bytes == 0 {
            return None;
        }
        let items = usize::try_from(bytes / 512).unwrap_or(usize::MAX).max(16);
        Some(RowCache {
            rows: Cache::with_weighter(items, bytes, RowWeight),
            epochs: (0..EPOCH_SHARDS).map(|_| Mutex::new(0)).collect(),
            hasher: std::hash::RandomState::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    pub(crate) fn get(&self, store: u32, key: &[u8]) -> Option<Vec<u8>> {
        let value = self
            .rows
            .get(key)
            .and_then(|row| row.held_by(store).map(|v| v.value.to_vec()));
        let counter = if value.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        value
    }

    pub(crate) fn stats(&self) -> RowCacheStats {
        RowCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.rows.len() as u64,
            bytes: self.rows.weight(),
            capacity_bytes: self.rows.capacity(),
        }
    }

    /// Call before reading the engine for a value that may go to [`fill`](Self::fill).
    pub(crate) fn ticket(&self, key: &[u8]) -> Ticket {
        let shard = self.shard(key);
        Ticket {
            shard,
            epoch: *self.lock(shard),
        }
    }

    /// Caches a value `store` read from the engine after `ticket` was taken,
    /// unless a write of the same shard completed since: the value may
    /// predate it. Values cached for other stores stay.
    pub(crate) fn fill(&self, ticket: Ticket, store: u32, key: &[u8], value: &[u8]) {
        let epoch = self.lock(ticket.shard);
        if *epoch != ticket.epoch || value.len() > MAX_ROW {
            return;
        }
        match self.rows.peek(key) {
            // Other bytes stay cached for the other stores; a claim of this
            // store's, if any, is stale.
            Some(row) => self.set(key, &row, row.moved(store, Some(value))),
            None => self.insert(key, value, store),
        }
    }

    /// Brings the cache in line with a write the engine has applied: `value`
    /// is what the key now holds in `store`, `None` for a delete, a failed
    /// write (it may still have landed) or a write that should not fill the
    /// cache (a batch). A new value becomes the latest; the stores that held
    /// the latest before keep it as the previous one.
    pub(crate) fn written(&self, store: u32, key: &[u8], value: Option<&[u8]>) {
        let mut epoch = self.lock(self.shard(key));
        let cached = self.rows.peek(key);
        match (value.filter(|v| v.len() <= MAX_ROW), cached) {
            (value, Some(row)) => self.set(key, &row, row.after_write(store, value)),
            (Some(value), None) => self.insert(key, value, store),
            (None, None) => {}
        }
        *epoch += 1;
    }

    /// Callers of the two below hold the key's shard lock.
    fn insert(&self, key: &[u8], value: &[u8], store: u32) {
        let row = Row {
            latest: Version::new(value, store),
            previous: None,
        };
        self.rows.insert(key.into(), row);
    }

    /// Replaces `old` by `new`: nothing to do when they name the same
    /// stores, no entry when `new` is `None`.
    fn set(&self, key: &[u8], old: &Row, new: Option<Row>) {
        match new {
            None => {
                self.rows.remove(key);
            }
            Some(new) if same_row(old, &new) => {}
            Some(new) => self.rows.insert(key.into(), new),
        }
    }

    fn shard(&self, key: &[u8]) -> usize {
        (self.hasher.hash_one(key) as usize) % EPOCH_SHARDS
    }

    fn lock(&self, shard: usize) -> std::sync::MutexGuard<'_, u64> {
        self.epochs[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether two rows hold the same versions for the same stores.
fn same_row(a: &Row, b: &Row) -> bool {
    let same = |x: &Version, y: &Version| Arc::ptr_eq(&x.value, &y.value) && x.holders == y.holders;
    same(&a.latest, &b.latest)
        && match (&a.previous, &b.previous) {
            (Some(x), Some(y)) => same(x, y),
            (None, None) => true,
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_fills_and_a_write_invalidates() {
        let c = RowCache::new(1 << 20).unwrap();
        let t = c.ticket(b"k");
        c.fill(t, 1, b"k", b"v1");
        assert_eq!(c.get(1, b"k").as_deref(), Some(&b"v1"[..]));
        assert_eq!(c.get(2, b"k"), None, "stores do not share rows");
        c.written(1, b"k", None);
        assert_eq!(c.get(1, b"k"), None);
    }

    #[test]
    fn counts_hits_misses_and_what_it_holds() {
        let c = RowCache::new(1 << 20).unwrap();
        assert_eq!(c.get(1, b"k"), None);
        c.written(1, b"k", Some(b"v"));
        assert!(c.get(1, b"k").is_some());
        assert_eq!(c.get(2, b"k"), None, "another store's read misses");
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries), (1, 2, 1));
        assert_eq!(s.bytes, 2 + ENTRY_OVERHEAD);
        assert_eq!(s.capacity_bytes, 1 << 20);
    }

    #[test]
    fn a_value_read_before_a_write_is_not_cached_after_it() {
        let c = RowCache::new(1 << 20).unwrap();
        let t = c.ticket(b"k");
        // The reader read "old" from the engine; a write lands before it fills.
        c.written(1, b"k", None);
        c.fill(t, 1, b"k", b"old");
        assert_eq!(c.get(1, b"k"), None);
        // A reader that starts after the write may fill.
        let t = c.ticket(b"k");
        c.fill(t, 1, b"k", b"new");
        assert_eq!(c.get(1, b"k").as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn a_write_caches_what_it_wrote_and_a_delete_forgets() {
        let c = RowCache::new(1 << 20).unwrap();
        c.written(1, b"k", Some(b"v1"));
        assert_eq!(c.get(1, b"k").as_deref(), Some(&b"v1"[..]));
        c.written(1, b"k", Some(b"v2"));
        assert_eq!(
            c.get(1, b"k").as_deref(),
            Some(&b"v2"[..]),
            "the later write"
        );
        c.written(1, b"k", None);
        assert_eq!(c.get(1, b"k"), None, "deleted");
    }

    #[test]
    fn a_reader_that_raced_a_write_does_not_fill() {
        let c = RowCache::new(1 << 20).unwrap();
        let t = c.ticket(b"k");
        c.written(1, b"k", Some(b"new"));
        c.fill(t, 1, b"k", b"old");
        assert_eq!(c.get(1, b"k").as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn large_values_and_a_zero_budget_are_not_cached() {
        assert!(RowCache::new(0).is_none());
        let c = RowCache::new(1 << 20).unwrap();
        let big = vec![7u8; MAX_ROW + 1];
        c.fill(c.ticket(b"k"), 1, b"k", &big);
        assert_eq!(c.get(1, b"k"), None);
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let c = RowCache::new(64 * 1024).unwrap();
        for i in 0..1000u32 {
            let k = i.to_be_bytes();
            c.fill(c.ticket(&k), 1, &k, &[0u8; 1000]);
        }
        let kept = (0..1000u32)
            .filter(|i| c.get(1, &i.to_be_bytes()).is_some())
            .count();
        assert!(kept > 0 && kept <= 64, "kept {kept}");
    }

    #[test]
    fn replicas_with_the_same_bytes_share_one_entry() {
        // Room for every row: the count of entries, not eviction, tells.
        // (A tight capacity made this depend on how the cache's shards,
        // each with its share of the capacity, split the random hashes.)
        let c = RowCache::new(1 << 20).unwrap();
        for i in 0..40u32 {
            for store in 1..=3 {
                c.written(store, &i.to_be_bytes(), Some(&[i as u8; 1000]));
            }
        }
        assert_eq!(c.rows.len(), 40, "one entry per key, not per replica");
        for i in 0..40u32 {
            for store in 1..=3 {
                assert_eq!(c.get(store, &i.to_be_bytes()), Some(vec![i as u8; 1000]));
            }
        }
    }

    #[test]
    fn a_new_value_in_one_store_keeps_the_old_for_the_others() {
        let c = RowCache::new(1 << 20).unwrap();
        for store in 1..=3 {
            c.written(store, b"k", Some(b"v1"));
        }
        // The coordinating replica writes first; the others still hold v1.
        c.written(2, b"k", Some(b"v2"));
        assert_eq!(c.get(2, b"k").as_deref(), Some(&b"v2"[..]));
        assert_eq!(c.get(1, b"k").as_deref(), Some(&b"v1"[..]));
        assert_eq!(c.rows.len(), 1, "both versions in one entry");
        // Once every replica wrote v2, v1 is gone and its bytes with it.
        c.written(1, b"k", Some(b"v2"));
        c.written(3, b"k", Some(b"v2"));
        let row = c.rows.peek(&b"k"[..]).unwrap();
        assert!(row.previous.is_none());
        assert_eq!(row.latest.holders.ids(), &[2, 1, 3]);
    }

    #[test]
    fn a_third_value_forgets_the_first() {
        let c = RowCache::new(1 << 20).unwrap();
        c.written(1, b"k", Some(b"v1"));
        c.written(2, b"k", Some(b"v1"));
        c.written(2, b"k", Some(b"v2"));
        c.written(3, b"k", Some(b"v3"));
        assert_eq!(c.get(1, b"k"), None, "store 1 holds v1, read again");
        assert_eq!(c.get(2, b"k").as_deref(), Some(&b"v2"[..]));
        assert_eq!(c.get(3, b"k").as_deref(), Some(&b"v3"[..]));
        // Store 1 reads v1 from the engine: the two cached stay.
        c.fill(c.ticket(b"k"), 1, b"k", b"v1");
        assert_eq!(c.get(1, b"k"), None);
        assert_eq!(c.get(2, b"k").as_deref(), Some(&b"v2"[..]));
        // Deleting the latest's only holder leaves the previous one.
        c.written(3, b"k", None);
        assert_eq!(c.get(2, b"k").as_deref(), Some(&b"v2"[..]));
        assert_eq!(c.get(3, b"k"), None);
    }

    #[test]
    fn a_delete_in_one_store_keeps_the_others() {
        let c = RowCache::new(1 << 20).unwrap();
        for store in 1..=3 {
            c.fill(c.ticket(b"k"), store, b"k", b"v");
        }
        c.written(2, b"k", None);
        assert_eq!(c.get(1, b"k").as_deref(), Some(&b"v"[..]));
        assert_eq!(c.get(2, b"k"), None);
        assert_eq!(c.get(3, b"k").as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn holders_stop_at_their_capacity() {
        let mut h = Holders::default();
        for id in 0..MAX_HOLDERS as u32 + 3 {
            h = h.with(id).with(id);
        }
        assert_eq!(h.ids(), (0..MAX_HOLDERS as u32).collect::<Vec<_>>());
        assert_eq!(h.without(0).without(99).ids().len(), MAX_HOLDERS - 1);
    }

    mod model {
        //! The cache against the engine's truth: whatever the interleaving
        //! of writes, fills (each read from the engine when its ticket was
        //! taken) and evictions, a hit is the store's current value.
        use super::*;
        use proptest::prelude::*;
        use std::collections::HashMap;

        #[derive(Debug, Clone)]
        enum Op {
            Write {
                store: u32,
                key: u8,
                value: Option<u8>,
            },
            /// A reader takes a ticket and reads the engine.
            Read { store: u32, key: u8 },
            /// The oldest reader still out fills with what it read.
            Fill,
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                (1..4u32, 0..3u8, proptest::option::of(0..3u8))
                    .prop_map(|(store, key, value)| Op::Write { store, key, value }),
                (1..4u32, 0..3u8).prop_map(|(store, key)| Op::Read { store, key }),
                Just(Op::Fill),
            ]
        }

        fn bytes(v: u8) -> Vec<u8> {
            // Large enough that a small budget evicts.
            vec![v; 300]
        }

        proptest! {
            #[test]
            fn a_hit_is_always_the_current_value(ops in proptest::collection::vec(op(), 1..200)) {
                let c = RowCache::new(2 * 1024).unwrap();
                let mut engine: HashMap<(u32, u8), Vec<u8>> = HashMap::new();
                let mut readers = std::collections::VecDeque::new();
                for op in ops {
                    match op {
                        Op::Write { store, key, value } => {
                            let value = value.map(bytes);
                            match &value {
                                Some(v) => engine.insert((store, key), v.clone()),
                                None => engine.remove(&(store, key)),
                            };
                            c.written(store, &[key], value.as_deref());
                        }
                        Op::Read { store, key } => {
                            let ticket = c.ticket(&[key]);
                            readers.push_back((ticket, store, key, engine.get(&(store, key)).cloned()));
                        }
                        Op::Fill => {
                            if let Some((ticket, store, key, Some(read))) = readers.pop_front() {
                                c.fill(ticket, store, &[key], &read);
                            }
                        }
                    }
                    for store in 1..4 {
                        for key in 0..3 {
                            if let Some(hit) = c.get(store, &[key]) {
                                prop_assert_eq!(Some(&hit), engine.get(&(store, key)));
                            }
                        }
                    }
                }
            }
        }
    }
}
