//! The row cache: recently read values, shared by all the stores of a backend,
//! in front of their point reads.
//!
//! A hit costs a hash lookup and a copy; a miss in the engine searches the
//! memtables and, table by table, a filter, an index block and a data block.
//! A put caches the value it wrote (the read-before-write of the next update
//! of that key then hits). Reads fill the cache after a miss, but only when no
//! write of that key's shard completed since the reader looked, so a value
//! read before a write can never be cached after it (see [`RowCache::fill`]).
//! The fjall backend's one commit thread reports each write after the engine
//! applied it, in the order it applied them, so the cache follows the engine.

use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, PoisonError};

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};

/// Values larger than this are not cached: one large object would evict
/// hundreds of small ones, and its read cost is dominated by the copy anyway.
const MAX_ROW: usize = 64 * 1024;

/// Bookkeeping per entry beyond its key and value bytes, for the budget.
const ENTRY_OVERHEAD: u64 = 64;

/// Write epochs: one counter per shard of the key space.
const EPOCH_SHARDS: usize = 256;

#[derive(Clone, PartialEq, Eq, Hash)]
struct RowKey {
    store: u32,
    key: Box<[u8]>,
}

/// A borrowed [`RowKey`]: hashes the same way (derived `Hash`, same fields in
/// the same order), so lookups need no allocation.
#[derive(Hash)]
struct RowRef<'a> {
    store: u32,
    key: &'a [u8],
}

impl Equivalent<RowKey> for RowRef<'_> {
    fn equivalent(&self, k: &RowKey) -> bool {
        self.store == k.store && *self.key == *k.key
    }
}

#[derive(Clone)]
struct RowWeight;

impl Weighter<RowKey, Vec<u8>> for RowWeight {
    fn weight(&self, k: &RowKey, v: &Vec<u8>) -> u64 {
        (k.key.len() + v.len()) as u64 + ENTRY_OVERHEAD
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
    rows: Cache<RowKey, Vec<u8>, RowWeight>,
    epochs: Box<[Mutex<u64>]>,
    hasher: std::hash::RandomState,
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
        })
    }

    pub(crate) fn get(&self, store: u32, key: &[u8]) -> Option<Vec<u8>> {
        self.rows.get(&RowRef { store, key })
    }

    /// Call before reading the engine for a value that may go to [`fill`](Self::fill).
    pub(crate) fn ticket(&self, store: u32, key: &[u8]) -> Ticket {
        let shard = self.shard(store, key);
        Ticket {
            shard,
            epoch: *self.lock(shard),
        }
    }

    /// Caches a value read from the engine after `ticket` was taken, unless a
    /// write of the same shard completed since: the value may predate it.
    pub(crate) fn fill(&self, ticket: Ticket, store: u32, key: &[u8], value: &[u8]) {
        let epoch = self.lock(ticket.shard);
        if *epoch == ticket.epoch {
            self.keep(store, key, value);
        }
    }

    /// Brings the cache in line with a write the engine has applied: `value`
    /// is what the key now holds, `None` for a delete, a failed write (it may
    /// still have landed) or a write that should not fill the cache (a batch).
    pub(crate) fn written(&self, store: u32, key: &[u8], value: Option<&[u8]>) {
        let mut epoch = self.lock(self.shard(store, key));
        match value {
            Some(value) => self.keep(store, key, value),
            None => self.forget(store, key),
        }
        *epoch += 1;
    }

    /// Caches `value`, or drops any older one when it is too large to keep.
    /// Callers hold the key's shard lock.
    fn keep(&self, store: u32, key: &[u8], value: &[u8]) {
        if value.len() > MAX_ROW {
            return self.forget(store, key);
        }
        let row = RowKey {
            store,
            key: key.into(),
        };
        self.rows.insert(row, value.to_vec());
    }

    fn forget(&self, store: u32, key: &[u8]) {
        self.rows.remove(&RowRef { store, key });
    }

    fn shard(&self, store: u32, key: &[u8]) -> usize {
        (self.hasher.hash_one(RowRef { store, key }) as usize) % EPOCH_SHARDS
    }

    fn lock(&self, shard: usize) -> std::sync::MutexGuard<'_, u64> {
        self.epochs[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_fills_and_a_write_invalidates() {
        let c = RowCache::new(1 << 20).unwrap();
        let t = c.ticket(1, b"k");
        c.fill(t, 1, b"k", b"v1");
        assert_eq!(c.get(1, b"k").as_deref(), Some(&b"v1"[..]));
        assert_eq!(c.get(2, b"k"), None, "stores do not share rows");
        c.written(1, b"k", None);
        assert_eq!(c.get(1, b"k"), None);
    }

    #[test]
    fn a_value_read_before_a_write_is_not_cached_after_it() {
        let c = RowCache::new(1 << 20).unwrap();
        let t = c.ticket(1, b"k");
        // The reader read "old" from the engine; a write lands before it fills.
        c.written(1, b"k", None);
        c.fill(t, 1, b"k", b"old");
        assert_eq!(c.get(1, b"k"), None);
        // A reader that starts after the write may fill.
        let t = c.ticket(1, b"k");
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
        let t = c.ticket(1, b"k");
        c.written(1, b"k", Some(b"new"));
        c.fill(t, 1, b"k", b"old");
        assert_eq!(c.get(1, b"k").as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn large_values_and_a_zero_budget_are_not_cached() {
        assert!(RowCache::new(0).is_none());
        let c = RowCache::new(1 << 20).unwrap();
        let big = vec![7u8; MAX_ROW + 1];
        c.fill(c.ticket(1, b"k"), 1, b"k", &big);
        assert_eq!(c.get(1, b"k"), None);
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let c = RowCache::new(64 * 1024).unwrap();
        for i in 0..1000u32 {
            let k = i.to_be_bytes();
            c.fill(c.ticket(1, &k), 1, &k, &[0u8; 1000]);
        }
        let kept = (0..1000u32)
            .filter(|i| c.get(1, &i.to_be_bytes()).is_some())
            .count();
        assert!(kept > 0 && kept <= 64, "kept {kept}");
    }
}
