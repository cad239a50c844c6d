//! Ordered byte stores for vnodes: the [`Backend`] and [`Store`] traits, a fjall
//! backend ([`open_fjall`]) and an in-memory one for tests and simulation ([`memory`]).
//! Knows nothing about objects or rings; every call blocks, so callers run it on
//! their own threads. Default durability is `Interval(10ms)`: a write survives a process
//! crash once it returns and a power loss ~10 ms later; Riak's N replicas on other
//! machines cover that window (see [`Durability`], `docs/decisions/0001-durability.md`).

mod commit;
mod deferred;
mod error;
mod fjall;
mod memory;
mod row_cache;

#[cfg(test)]
mod conformance;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

pub use crate::deferred::{commit_deferred, defer_commits};
pub use crate::error::{Result, StorageError};
pub use crate::fjall::open_fjall;
pub use crate::memory::memory;

/// Largest key a store accepts, in bytes (fjall's 65,535 minus the one byte the
/// fjall backend puts in front of every key). Empty keys are allowed.
pub const MAX_KEY_LEN: usize = u16::MAX as usize - 1;
/// Largest value a store accepts, in bytes.
pub const MAX_VALUE_LEN: usize = u32::MAX as usize;

/// When an acknowledged write becomes safe against a power loss.
///
/// In both modes a write is in the OS page cache when the call returns, so it
/// survives a crash (or `kill -9`) of the process. The modes differ on power loss
/// or a kernel crash. The default, `Interval(10ms)`, may lose the last ~10 ms of
/// writes on this node; Riak writes every object to N vnodes on different
/// machines, and read repair and anti-entropy restore a replica that lost them.
/// `Sync` closes that window at the cost of an fsync per write (shared between
/// concurrent writers), which suits single-node setups and `dw`-style guarantees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A write returns only after its data is fsynced. Concurrent writers share
    /// fsyncs (group commit), so throughput grows with the number of writers.
    /// Survives process crash and power loss.
    Sync,
    /// A write returns once its data is handed to the OS (survives a crash of the
    /// process); a background thread fsyncs every given interval, so a power loss
    /// loses at most about one interval of writes. A zero interval is treated as 1 ms.
    Interval(Duration),
}

impl Default for Durability {
    fn default() -> Self {
        Durability::Interval(Duration::from_millis(10))
    }
}

/// Settings of one node's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// When writes become durable; see [`Durability`].
    pub durability: Durability,
    /// Block cache shared by all stores of the node, in MiB.
    pub cache_mb: u64,
    /// Memtable size per store, in MiB (minimum 1): a store's memtable is
    /// sealed when it passes this alone.
    pub memtable_mb: u64,
    /// Budget of the active memtables of all stores together, in MiB (0:
    /// none, each store seals at `memtable_mb` alone). Over it, the largest
    /// memtable is sealed, so that stores filling at one pace do not all
    /// seal and flush at once.
    pub write_buffer_mb: u64,
    /// Row cache shared by all stores of the node, in MiB (0: none): recently
    /// read values, found without searching the engine. Values over 64 KiB
    /// are never kept.
    pub row_cache_mb: u64,
    /// Threads for the engine's memtable flushes and compactions (minimum 1).
    /// One by default: with more, fjall 3.1's first worker re-queues every
    /// compaction request it receives while the others compact, and spins
    /// on that queue (a quarter of a two-core node's CPU with 10 million
    /// keys; docs/decisions/0009-one-engine-thread.md).
    pub engine_threads: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            durability: Durability::default(),
            cache_mb: 64,
            memtable_mb: 4,
            write_buffer_mb: 0,
            row_cache_mb: 0,
            engine_threads: 1,
        }
    }
}

/// One storage engine instance per node, holding many named stores.
pub trait Backend: Send + Sync + 'static {
    /// Opens the store `name` (for example `kv.5` or `meta`), creating it if it does not
    /// exist. The same name gives the same store until it is dropped. Names are 1–255
    /// characters from `[A-Za-z0-9_.#$-]`.
    fn store(&self, name: &str) -> Result<Arc<dyn Store>>;

    /// Deletes the store and all its data in O(1). Handles still held elsewhere fail
    /// with [`StorageError::StoreDropped`]; opening the name again gives an empty store.
    /// Dropping a store that does not exist is not an error.
    fn drop_store(&self, name: &str) -> Result<()>;

    /// Names of all existing stores, sorted.
    fn store_names(&self) -> Result<Vec<String>>;

    /// Makes every write acknowledged so far durable against power loss, now.
    fn sync(&self) -> Result<()>;

    /// The durability every write of this backend honours.
    fn durability(&self) -> Durability;

    /// Short engine name for logs and `/stats`: `"fjall"` or `"memory"`.
    fn name(&self) -> &'static str;

    /// Number of journal files the engine keeps, if it has any (for `/stats`; a
    /// number that keeps growing means idle stores pin old journals).
    fn journal_count(&self) -> Option<usize> {
        None
    }

    /// The row cache's counters, if the backend has one (for `/stats`: the
    /// hit rate tells whether `row_cache_mb` fits the working set).
    fn row_cache_stats(&self) -> Option<RowCacheStats> {
        None
    }

    /// How many write batches the engine applied, and how many of them it
    /// was slow to apply, if it counts them (for `/stats`).
    fn commit_stats(&self) -> Option<CommitStats> {
        None
    }
}

/// Write batches applied since start, and those that took over a
/// millisecond: while one is applied every other write of the node waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub batches: u64,
    /// Batches that took over 1 ms.
    pub stalled: u64,
    /// Their time, in microseconds, all together.
    pub stalled_us: u64,
}

/// What the row cache holds and how often it answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCacheStats {
    /// Point reads answered from the cache, since start.
    pub hits: u64,
    /// Point reads that went to the engine, since start.
    pub misses: u64,
    /// Keys cached now.
    pub entries: u64,
    /// Bytes the cached entries count against `row_cache_mb`.
    pub bytes: u64,
    pub capacity_bytes: u64,
}

/// Boxed ascending iterator over `(key, value)` pairs of a store.
/// Called once a deferred write (`Store::put_then`) is durable as the
/// backend's `Durability` asks, or has failed.
pub type Durable = Box<dyn FnOnce(Result<()>) + Send>;

pub type KvIter<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + Send + 'a>;

/// One ordered byte store (a keyspace). Keys are ordered bytewise (unsigned,
/// shorter prefix first). Writes honour the backend's [`Durability`].
///
/// Iterators from [`Store::range`] and [`Store::prefix`] read a snapshot taken
/// when the call is made: writes made afterwards (even by the caller, while
/// iterating) are not visible to them, and they hold no lock, so writing to the
/// same store while iterating cannot deadlock. Keep iterators short-lived: an open
/// fjall snapshot keeps old versions from being compacted away, and the memory
/// backend copies the range up front.
pub trait Store: Send + Sync {
    /// The value stored under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The value of `key` when it is at hand without a read that may block
    /// (a row cache hit), so an async task may call this. `None` only says
    /// that [`Store::get`] must be asked; it never means the key is absent.
    fn get_if_cached(&self, _key: &[u8]) -> Option<Vec<u8>> {
        None
    }
    /// Stores `value` under `key`, replacing any earlier value.
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()>;
    /// `put` without waiting for durability: the write is visible to reads
    /// when this returns, and `done` runs (here or on another thread) once
    /// it is as durable as `put` would have made it. Under `sync`
    /// durability a caller keeps working while the fsync of a group of
    /// writes is under way, instead of blocking its thread on it. On a
    /// thread that called [`defer_commits`], the write may wait in memory
    /// (visible all the same) until the thread's next [`commit_deferred`].
    fn put_then(&self, key: &[u8], value: &[u8], done: Durable) {
        done(self.put(key, value));
    }
    /// Removes `key`; removing a missing key is not an error.
    fn delete(&self, key: &[u8]) -> Result<()>;
    /// Applies every operation of the batch atomically: readers see all or none.
    fn write_batch(&self, batch: WriteBatch) -> Result<()>;
    /// Ascending pairs with keys between `start` and `end`. An empty or inverted
    /// range yields nothing.
    fn range(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> KvIter<'_>;
    /// Ascending pairs whose key starts with `prefix` (all pairs for an empty prefix).
    fn prefix(&self, prefix: &[u8]) -> KvIter<'_>;
    /// `true` if the store holds no key.
    fn is_empty(&self) -> Result<bool>;
    /// Cheap estimate of the number of keys (fjall counts overwrites and deletes
    /// until compaction); exact for the memory backend.
    fn approximate_len(&self) -> u64;
}

/// A set of puts and deletes applied atomically by [`Store::write_batch`].
/// A later operation on the same key replaces an earlier one in the batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    /// Key → `Some(value)` to put, `None` to delete.
    ops: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put of `value` under `key`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.insert(key.into(), Some(value.into()));
        self
    }

    /// Adds a delete of `key`.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.insert(key.into(), None);
        self
    }

    /// Number of distinct keys touched.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// `true` if the batch touches no key.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Checks every key and value against the size limits, before anything is applied.
    pub(crate) fn validate(&self) -> Result<()> {
        for (key, value) in &self.ops {
            check_key(key)?;
            if let Some(value) = value {
                check_value(value)?;
            }
        }
        Ok(())
    }

    pub(crate) fn into_ops(self) -> impl Iterator<Item = (Vec<u8>, Option<Vec<u8>>)> {
        self.ops.into_iter()
    }
}

/// Rejects names the engines cannot store (fjall documents this character set).
pub(crate) fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'#' | b'$'));
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidName(name.to_owned()))
    }
}

pub(crate) fn check_key(key: &[u8]) -> Result<()> {
    if key.len() > MAX_KEY_LEN {
        return Err(StorageError::KeyTooLarge(key.len()));
    }
    Ok(())
}

pub(crate) fn check_value(value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_LEN {
        return Err(StorageError::ValueTooLarge(value.len()));
    }
    Ok(())
}

/// `true` if no key can lie between the bounds (engines may panic on such ranges).
pub(crate) fn range_is_empty(start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    use Bound::{Excluded, Included};
    match (start, end) {
        (Included(s), Included(e)) => s > e,
        (Included(s), Excluded(e)) | (Excluded(s), Included(e)) | (Excluded(s), Excluded(e)) => {
            s >= e
        }
        // Nothing sorts below the empty key.
        (Bound::Unbounded, Excluded(e)) => e.is_empty(),
        _ => false,
    }
}

/// The exclusive upper bound of all keys starting with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["kv.5", "meta", "2i.1023", "a_b-c#d$e", &"x".repeat(255)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "kv/5", "kv 5", "ü", &"x".repeat(256)] {
            assert!(
                matches!(check_name(bad), Err(StorageError::InvalidName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn prefix_end_bounds() {
        assert_eq!(prefix_end(b"ab"), Bound::Excluded(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Bound::Excluded(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), Bound::Unbounded);
        assert_eq!(prefix_end(b""), Bound::Unbounded);
    }

    #[test]
    fn empty_ranges() {
        use Bound::*;
        let v = |s: &str| s.as_bytes().to_vec();
        assert!(range_is_empty(&Included(v("b")), &Included(v("a"))));
        assert!(!range_is_empty(&Included(v("a")), &Included(v("a"))));
        assert!(range_is_empty(&Included(v("a")), &Excluded(v("a"))));
        assert!(range_is_empty(&Excluded(v("a")), &Excluded(v("a"))));
        assert!(range_is_empty(&Unbounded, &Excluded(v(""))));
        assert!(!range_is_empty(&Unbounded, &Included(v(""))));
        assert!(!range_is_empty(&Excluded(v("a")), &Unbounded));
    }

    #[test]
    fn batch_last_op_per_key_wins() {
        let mut b = WriteBatch::new();
        b.put(b"k", b"1").delete(b"k").put(b"j", b"2");
        assert_eq!(b.len(), 2);
        let ops: Vec<_> = b.into_ops().collect();
        assert_eq!(
            ops,
            vec![(b"j".to_vec(), Some(b"2".to_vec())), (b"k".to_vec(), None)]
        );
    }
}
