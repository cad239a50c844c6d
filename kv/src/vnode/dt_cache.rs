//! Decoded values of recently updated large data types, shared by the
//! node's vnodes, so that an update to a large set or map does not decode
//! the stored value again: decoding a 100,000-member set costs tens of
//! milliseconds, comparing its stored bytes with the cached ones a fraction
//! of one.
//!
//! An entry is the stored bytes of a data type with their decoded value. A
//! vnode takes the value out only when the bytes it just read are exactly
//! the cached ones, so the cache never needs invalidating: a value replaced
//! by any other path (replication, handoff, a delete) simply stops
//! matching. Small values are not cached, they decode fast. The budget
//! counts stored bytes times `MEMORY_FACTOR` (the decoded form is larger).

use crate::crdt::DataType;
use rill_core::PartitionId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Stored values smaller than this decode fast enough not to be cached.
pub const MIN_CACHED_BYTES: usize = 32 * 1024;

/// Memory of an entry per stored byte: the bytes themselves plus the
/// decoded value (tree nodes, one allocation per member and per dot list).
const MEMORY_FACTOR: usize = 5;

type Key = (PartitionId, Vec<u8>);

struct Entry {
    stored: Vec<u8>,
    value: DataType,
    last_use: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    used: usize,
    tick: u64,
}

pub struct DtCache {
    budget: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
}

impl DtCache {
    /// A cache using about `budget` bytes of memory; 0 disables it.
    pub fn new(budget: usize) -> DtCache {
        DtCache {
            budget,
            inner: Mutex::new(Inner::default()),
            hits: AtomicU64::new(0),
        }
    }

    fn cost(stored: &[u8]) -> usize {
        stored.len().saturating_mul(MEMORY_FACTOR)
    }

    /// The decoded value of `stored` (the bytes just read for `key`), taken
    /// out of the cache; None when the cache holds other bytes or nothing.
    pub fn take(&self, partition: PartitionId, key: &[u8], stored: &[u8]) -> Option<DataType> {
        if stored.len() < MIN_CACHED_BYTES {
            return None;
        }
        let mut inner = self.inner.lock().expect("dt cache lock");
        let k = (partition, key.to_vec());
        let entry = inner.entries.remove(&k)?;
        inner.used -= Self::cost(&entry.stored);
        let hit = entry.stored == stored;
        if hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit.then_some(entry.value)
    }

    /// Remembers that `stored` decodes to `value`, evicting the least
    /// recently used entries beyond the budget.
    pub fn put(&self, partition: PartitionId, key: &[u8], stored: Vec<u8>, value: DataType) {
        let cost = Self::cost(&stored);
        if stored.len() < MIN_CACHED_BYTES || cost > self.budget {
            return;
        }
        let mut inner = self.inner.lock().expect("dt cache lock");
        inner.tick += 1;
        let last_use = inner.tick;
        let entry = Entry {
            stored,
            value,
            last_use,
        };
        if let Some(old) = inner.entries.insert((partition, key.to_vec()), entry) {
            inner.used -= Self::cost(&old.stored);
        }
        inner.used += cost;
        while inner.used > self.budget {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_use)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            let e = inner.entries.remove(&oldest).expect("entry just found");
            inner.used -= Self::cost(&e.stored);
        }
    }

    /// How many times a value was handed back.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Bytes of memory the entries account for.
    pub fn used(&self) -> usize {
        self.inner.lock().expect("dt cache lock").used
    }

    /// Drops every entry of `partition` (its vnode was deleted).
    pub fn forget_partition(&self, partition: PartitionId) {
        let mut inner = self.inner.lock().expect("dt cache lock");
        let gone: Vec<Key> = inner
            .entries
            .keys()
            .filter(|(p, _)| *p == partition)
            .cloned()
            .collect();
        for k in gone {
            let e = inner.entries.remove(&k).expect("listed key");
            inner.used -= Self::cost(&e.stored);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crdt::{DataKind, DtOp, SetOp};
    use crate::object::Actor;

    fn set(members: usize) -> (Vec<u8>, DataType) {
        let mut dt = DataType::new(DataKind::Set);
        let adds = (0..members)
            .map(|i| format!("m{i:06}").into_bytes())
            .collect();
        let op = DtOp::Set(SetOp {
            adds,
            removes: vec![],
        });
        dt.apply(op, Actor(1), None, 0).unwrap();
        (crate::crdt::encode(&dt), dt)
    }

    #[test]
    fn hands_back_the_value_only_for_the_same_bytes() {
        let cache = DtCache::new(64 << 20);
        let (bytes, dt) = set(5_000);
        assert!(bytes.len() >= MIN_CACHED_BYTES);
        cache.put(1, b"k", bytes.clone(), dt.clone());
        assert_eq!(cache.take(1, b"other", &bytes), None);
        assert_eq!(cache.take(2, b"k", &bytes), None);
        let mut changed = bytes.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert_eq!(cache.take(1, b"k", &changed), None);
        // A mismatch dropped the entry.
        assert_eq!(cache.take(1, b"k", &bytes), None);
        cache.put(1, b"k", bytes.clone(), dt.clone());
        assert_eq!(cache.take(1, b"k", &bytes), Some(dt));
        assert_eq!(cache.used(), 0, "taking removes the entry");
    }

    #[test]
    fn small_values_are_not_cached_and_the_budget_evicts_the_oldest() {
        let (small, small_dt) = set(10);
        let cache = DtCache::new(64 << 20);
        cache.put(1, b"s", small.clone(), small_dt);
        assert_eq!(cache.take(1, b"s", &small), None);

        let (bytes, dt) = set(5_000);
        let cache = DtCache::new(2 * DtCache::cost(&bytes));
        cache.put(1, b"a", bytes.clone(), dt.clone());
        cache.put(1, b"b", bytes.clone(), dt.clone());
        cache.put(1, b"c", bytes.clone(), dt.clone());
        assert_eq!(cache.used(), 2 * DtCache::cost(&bytes));
        assert_eq!(cache.take(1, b"a", &bytes), None, "oldest evicted");
        assert!(cache.take(1, b"c", &bytes).is_some());
        cache.forget_partition(1);
        assert_eq!(cache.used(), 0);
    }
}
