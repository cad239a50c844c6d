//! The fjall backend: one fjall `Database` per node, one fjall keyspace per store.
//!
//! This is the only file that imports fjall. It maps fjall errors to
//! [`StorageError`], runs group commit for [`Durability::Sync`] and the
//! background fsync thread for [`Durability::Interval`].

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable};

use crate::commit::GroupCommit;
use crate::row_cache::RowCache;
use crate::{
    Backend, Durability, Durable, KvIter, Result, StorageConfig, StorageError, Store, WriteBatch,
    check_key, check_name, check_value, range_is_empty,
};

const MIB: u64 = 1024 * 1024;

/// Leading byte of every stored key. fjall rejects empty keys (it panics while
/// holding its journal and poisons the database); with the tag the empty user key
/// is storable and user keys keep their order.
const KEY_TAG: u8 = 0;

fn encode_key(key: &[u8]) -> Vec<u8> {
    let mut stored = Vec::with_capacity(key.len() + 1);
    stored.push(KEY_TAG);
    stored.extend_from_slice(key);
    stored
}

fn encode_start(bound: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(k) => Bound::Included(encode_key(&k)),
        Bound::Excluded(k) => Bound::Excluded(encode_key(&k)),
        Bound::Unbounded => Bound::Included(vec![KEY_TAG]),
    }
}

fn encode_end(bound: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(k) => Bound::Included(encode_key(&k)),
        Bound::Excluded(k) => Bound::Excluded(encode_key(&k)),
        Bound::Unbounded => Bound::Excluded(vec![KEY_TAG + 1]),
    }
}

/// Opens (or creates) the fjall database in `path`. One per node: a second open of
/// the same directory fails with [`StorageError::Locked`] until the first backend
/// and every store handle from it are dropped.
///
/// fjall writes its journal through a user-space `BufWriter`. With
/// `manual_journal_persist` off (pinned here and on each keyspace) every insert,
/// remove and batch commit flushes that buffer to the OS before returning, so an
/// acknowledged write survives a kill of the process in every durability mode.
pub fn open_fjall(path: &Path, cfg: &StorageConfig) -> Result<Arc<dyn Backend>> {
    let db = Database::builder(path)
        .cache_size(cfg.cache_mb.saturating_mul(MIB))
        .worker_threads(cfg.engine_threads.max(1))
        .manual_journal_persist(false)
        // Large values (data types, big objects) were lz4-compressed into
        // the journal on the writing vnode's thread, the largest single
        // cost of updating a large set; the journal is short-lived and
        // tables are still compressed when memtables are flushed.
        .journal_compression(fjall::CompressionType::None)
        .open()
        .map_err(engine_error)?;
    let inner = Arc::new(Inner {
        db,
        durability: cfg.durability,
        commit: GroupCommit::default(),
        memtable_bytes: cfg.memtable_mb.max(1).saturating_mul(MIB),
        syncer: Mutex::new(None),
        rows: RowCache::new(cfg.row_cache_mb.saturating_mul(MIB)),
        store_ids: AtomicU32::new(0),
    });
    let (flusher, syncer) = match cfg.durability {
        Durability::Sync => (None, Some(Syncer::start(Arc::clone(&inner))?)),
        Durability::Interval(every) => (Some(Flusher::start(Arc::clone(&inner), every)?), None),
    };
    tracing::info!(
        path = %path.display(),
        durability = ?cfg.durability,
        journals = inner.db.journal_count(),
        "opened fjall storage"
    );
    Ok(Arc::new(FjallBackend {
        inner,
        stores: Mutex::default(),
        flusher,
        syncer,
    }))
}

/// State shared by the backend, its stores and the fsync thread.
struct Inner {
    db: Database,
    durability: Durability,
    commit: GroupCommit,
    memtable_bytes: u64,
    /// Under `sync` durability: where deferred writes wait for their fsync
    /// (`put_then`); taken when the backend closes.
    syncer: Mutex<Option<mpsc::Sender<(u64, Durable)>>>,
    /// Recently read values of every store; `None` when its budget is 0.
    rows: Option<RowCache>,
    /// Names each store handle in the row cache. A store dropped and created
    /// again gets a new id, so rows of the old one are never found.
    store_ids: AtomicU32,
}

impl Inner {
    /// Called after every write, which fjall has already handed to the OS.
    fn after_write(&self) -> Result<()> {
        let ticket = self.commit.written();
        match self.durability {
            Durability::Sync => self.wait_durable(ticket),
            Durability::Interval(_) => Ok(()),
        }
    }

    fn wait_durable(&self, ticket: u64) -> Result<()> {
        self.commit
            .wait_durable(ticket, || self.db.persist(PersistMode::SyncData))
            .map_err(engine_error)
    }

    fn keyspace(&self, name: &str) -> Result<Keyspace> {
        let memtable = self.memtable_bytes;
        self.db
            .keyspace(name, || {
                KeyspaceCreateOptions::default()
                    .max_memtable_size(memtable)
                    .manual_journal_persist(false)
            })
            .map_err(engine_error)
    }
}

struct FjallBackend {
    inner: Arc<Inner>,
    stores: Mutex<HashMap<String, Arc<FjallStore>>>,
    flusher: Option<Flusher>,
    syncer: Option<Syncer>,
}

impl Backend for FjallBackend {
    fn store(&self, name: &str) -> Result<Arc<dyn Store>> {
        check_name(name)?;
        let mut stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = stores.get(name) {
            return Ok(Arc::clone(store) as Arc<dyn Store>);
        }
        let keyspace = self.inner.keyspace(name)?;
        let store = Arc::new(FjallStore {
            id: self.inner.store_ids.fetch_add(1, Ordering::Relaxed),
            name: name.to_owned(),
            keyspace,
            inner: Arc::clone(&self.inner),
            dropped: AtomicBool::new(false),
        });
        stores.insert(name.to_owned(), Arc::clone(&store));
        Ok(store as Arc<dyn Store>)
    }

    fn drop_store(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let mut stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = stores.remove(name);
        if !self.inner.db.keyspace_exists(name) {
            return Ok(());
        }
        let keyspace = match cached {
            Some(store) => {
                store.dropped.store(true, Ordering::SeqCst);
                store.keyspace.clone()
            }
            None => self.inner.keyspace(name)?,
        };
        // O(1): fjall forgets the keyspace and removes its folder once the last
        // handle is gone. Never `Keyspace::clear`, which is not journal-safe.
        self.inner
            .db
            .delete_keyspace(keyspace)
            .map_err(engine_error)?;
        tracing::debug!(store = name, "dropped store");
        Ok(())
    }

    fn store_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .inner
            .db
            .list_keyspace_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    fn sync(&self) -> Result<()> {
        // A fresh ticket forces an fsync that covers every earlier write.
        let ticket = self.inner.commit.written();
        self.inner.wait_durable(ticket)
    }

    fn durability(&self) -> Durability {
        self.inner.durability
    }

    fn name(&self) -> &'static str {
        "fjall"
    }

    fn journal_count(&self) -> Option<usize> {
        Some(self.inner.db.journal_count())
    }
}

impl Drop for FjallBackend {
    fn drop(&mut self) {
        if let Some(flusher) = self.flusher.take() {
            flusher.stop();
        }
        if let Some(syncer) = self.syncer.take() {
            syncer.stop(&self.inner);
        }
        if let Err(e) = self.inner.db.persist(PersistMode::SyncAll) {
            tracing::error!(error = %e, "final fsync of the storage journal failed");
        }
    }
}

/// Under `sync` durability, the thread deferred writes wait on: it takes
/// every write queued so far, makes them durable with one group commit, and
/// reports to each.
struct Syncer {
    thread: JoinHandle<()>,
}

impl Syncer {
    fn start(inner: Arc<Inner>) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<(u64, Durable)>();
        *inner.syncer.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
        let thread = std::thread::Builder::new()
            .name("storage-sync".into())
            .spawn(move || {
                // Ends when the backend takes the sender and the queue is empty.
                while let Ok(first) = rx.recv() {
                    let mut group = vec![first];
                    group.extend(rx.try_iter());
                    let ticket = group.iter().map(|(t, _)| *t).max().unwrap_or(0);
                    let result = inner.wait_durable(ticket);
                    for (_, done) in group {
                        done(match &result {
                            Ok(()) => Ok(()),
                            Err(e) => Err(StorageError::Io(std::io::Error::other(e.to_string()))),
                        });
                    }
                }
            })?;
        Ok(Syncer { thread })
    }

    fn stop(self, inner: &Inner) {
        inner
            .syncer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if self.thread.join().is_err() {
            tracing::error!("storage sync thread panicked");
        }
    }
}

/// How often the fsync thread repeats that it keeps failing.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(60);

/// Background thread that fsyncs the journal every interval (when anything was written).
struct Flusher {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Flusher {
    fn start(inner: Arc<Inner>, every: Duration) -> Result<Self> {
        let every = every.max(Duration::from_millis(1));
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("storage-fsync".into())
            .spawn(move || {
                let mut last_logged: Option<Instant> = None;
                loop {
                    match stopped.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let ticket = inner.commit.last_written();
                    match inner.wait_durable(ticket) {
                        Ok(()) => last_logged = None,
                        // A failed fsync poisons the storage until a restart, so
                        // every later tick fails too (a full disk, say): once a
                        // minute is enough to say so, not a hundred times a second.
                        Err(e) if last_logged.is_none_or(|t| t.elapsed() >= FAILURE_LOG_EVERY) => {
                            tracing::error!(error = %e, "background fsync of the storage journal failed");
                            last_logged = Some(Instant::now());
                        }
                        Err(_) => {}
                    }
                }
            })?;
        Ok(Flusher { stop, thread })
    }

    fn stop(self) {
        drop(self.stop);
        if self.thread.join().is_err() {
            tracing::error!("storage fsync thread panicked");
        }
    }
}

struct FjallStore {
    id: u32,
    name: String,
    keyspace: Keyspace,
    inner: Arc<Inner>,
    /// Set by `drop_store`; every handle to a keyspace is this one cached `Arc`.
    dropped: AtomicBool,
}

impl FjallStore {
    fn error(&self, e: fjall::Error) -> StorageError {
        match e {
            fjall::Error::KeyspaceDeleted => StorageError::StoreDropped(self.name.clone()),
            other => engine_error(other),
        }
    }

    /// Reads a snapshot: writes after this call are invisible to the iterator.
    fn iter(&self, iter: fjall::Iter) -> KvIter<'_> {
        Box::new(iter.map(move |guard| {
            guard
                .into_inner()
                .map(|(k, v)| (k.get(1..).unwrap_or_default().to_vec(), v.to_vec()))
                .map_err(|e| self.error(e))
        }))
    }

    /// A point read from the engine, past the row cache.
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.keyspace
            .get(encode_key(key))
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.error(e))
    }

    /// Writes `value` (`None`: removes) under `key` through the row cache.
    fn write(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        write: impl FnOnce() -> fjall::Result<()>,
    ) -> Result<()> {
        let written = match &self.inner.rows {
            Some(rows) => rows.write(self.id, key, value, write),
            None => write(),
        };
        written.map_err(|e| self.error(e))
    }

    /// After a batch wrote `key`, applied or not.
    fn written(&self, key: &[u8]) {
        if let Some(rows) = &self.inner.rows {
            rows.invalidate(self.id, key);
        }
    }

    fn alive(&self) -> Result<()> {
        if self.dropped.load(Ordering::SeqCst) {
            Err(StorageError::StoreDropped(self.name.clone()))
        } else {
            Ok(())
        }
    }
}

impl Store for FjallStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.alive()?;
        let Some(rows) = &self.inner.rows else {
            return self.read(key);
        };
        if let Some(value) = rows.get(self.id, key) {
            return Ok(Some(value));
        }
        let ticket = rows.ticket(self.id, key);
        let value = self.read(key)?;
        if let Some(value) = &value {
            rows.fill(ticket, self.id, key, value);
        }
        Ok(value)
    }

    fn get_if_cached(&self, key: &[u8]) -> Option<Vec<u8>> {
        // A dropped store answers through `get`, with its error.
        self.alive().ok()?;
        self.inner.rows.as_ref()?.get(self.id, key)
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.alive()?;
        check_key(key)?;
        check_value(value)?;
        self.write(key, Some(value), || {
            self.keyspace.insert(encode_key(key), value)
        })?;
        self.inner.after_write()
    }

    fn put_then(&self, key: &[u8], value: &[u8], done: Durable) {
        let written = self.alive().and_then(|()| {
            check_key(key)?;
            check_value(value)?;
            self.write(key, Some(value), || {
                self.keyspace.insert(encode_key(key), value)
            })
        });
        if let Err(e) = written {
            return done(Err(e));
        }
        let ticket = self.inner.commit.written();
        if let Durability::Interval(_) = self.inner.durability {
            return done(Ok(()));
        }
        let queued = {
            let syncer = self
                .inner
                .syncer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match syncer.as_ref() {
                Some(tx) => tx.send((ticket, done)).map_err(|e| e.0.1),
                None => Err(done),
            }
        };
        // The backend is closing: wait here.
        if let Err(done) = queued {
            done(self.inner.wait_durable(ticket));
        }
    }

    fn delete(&self, key: &[u8]) -> Result<()> {
        self.alive()?;
        check_key(key)?;
        self.write(key, None, || self.keyspace.remove(encode_key(key)))?;
        self.inner.after_write()
    }

    fn write_batch(&self, batch: WriteBatch) -> Result<()> {
        self.alive()?;
        batch.validate()?;
        if batch.is_empty() {
            return Ok(());
        }
        let mut fjall_batch = self.inner.db.batch();
        let mut keys = Vec::new();
        for (key, value) in batch.into_ops() {
            let stored = encode_key(&key);
            keys.push(key);
            match value {
                Some(value) => fjall_batch.insert(&self.keyspace, stored, value),
                None => fjall_batch.remove(&self.keyspace, stored),
            }
        }
        let committed = fjall_batch.commit();
        for key in &keys {
            self.written(key);
        }
        committed.map_err(|e| self.error(e))?;
        self.inner.after_write()
    }

    fn range(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> KvIter<'_> {
        if let Err(e) = self.alive() {
            return Box::new(std::iter::once(Err(e)));
        }
        if range_is_empty(&start, &end) {
            return Box::new(std::iter::empty());
        }
        let snapshot = self.inner.db.snapshot();
        self.iter(snapshot.range(&self.keyspace, (encode_start(start), encode_end(end))))
    }

    fn prefix(&self, prefix: &[u8]) -> KvIter<'_> {
        if let Err(e) = self.alive() {
            return Box::new(std::iter::once(Err(e)));
        }
        let snapshot = self.inner.db.snapshot();
        self.iter(snapshot.prefix(&self.keyspace, encode_key(prefix)))
    }

    fn is_empty(&self) -> Result<bool> {
        self.alive()?;
        self.keyspace.is_empty().map_err(|e| self.error(e))
    }

    fn approximate_len(&self) -> u64 {
        self.keyspace.approximate_len() as u64
    }
}

fn engine_error(e: fjall::Error) -> StorageError {
    match e {
        fjall::Error::Io(e) => StorageError::Io(e),
        fjall::Error::Poisoned => StorageError::Poisoned,
        fjall::Error::Locked => StorageError::Locked,
        other => StorageError::Engine(Box::new(other)),
    }
}
