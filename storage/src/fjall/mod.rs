//! The fjall backend: one fjall `Database` per node, one fjall keyspace per store.
//!
//! This is the only module that imports fjall. It maps fjall errors to
//! [`StorageError`], applies writes many at a time through one commit
//! queue ([`committer`]), runs group commit for [`Durability::Sync`] and the
//! background fsync thread for [`Durability::Interval`].

mod committer;
mod journal_sync;
mod stalls;
mod write_buffer;

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable, Slice};

use self::committer::{Change, CommitQueue, Done, Job, Msg, StoreState};
use self::journal_sync::{JournalSync, SyncError};
use self::stalls::Stalls;
use self::write_buffer::WriteBuffer;
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
    let write_buffer = cfg.write_buffer_mb.saturating_mul(MIB);
    let db = Database::builder(path)
        .cache_size(cfg.cache_mb.saturating_mul(MIB))
        .max_journaling_size(journal_budget(write_buffer))
        .worker_threads(cfg.engine_threads.max(1))
        .manual_journal_persist(false)
        // Large values (data types, big objects) were lz4-compressed into
        // the journal on the writing vnode's thread, the largest single
        // cost of updating a large set; the journal is short-lived and
        // tables are still compressed when memtables are flushed.
        .journal_compression(fjall::CompressionType::None)
        .open()
        .map_err(engine_error)?;
    let memtable_bytes = cfg.memtable_mb.max(1).saturating_mul(MIB);
    let (buffer, seal_thread) = WriteBuffer::start(write_buffer, memtable_bytes)?;
    let inner = Arc::new(Inner {
        db,
        durability: cfg.durability,
        commit: GroupCommit::default(),
        memtable_bytes,
        syncer: Mutex::new(None),
        rows: RowCache::new(cfg.row_cache_mb.saturating_mul(MIB)),
        store_ids: AtomicU32::new(0),
        queue: CommitQueue::new(buffer),
        write_seqs: AtomicU64::new(0),
        journal: JournalSync::new(path),
        poisoned: AtomicBool::new(false),
        stalls: Stalls::default(),
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
        seal_thread: Some(seal_thread),
        flusher,
        syncer,
    }))
}

/// fjall's own memtable limit, as a multiple of `memtable_mb`. Past its
/// limit fjall asks its worker to seal the memtable once per write until
/// one does, and a single worker that finds its channel full of those
/// requests blocks on it for good (fjall PR 323); the seal thread keeps
/// every memtable under `memtable_mb`, so only a stuck seal thread would
/// let one reach this.
const FJALL_BACKSTOP: u64 = 4;

/// fjall's default journal limit, which we keep when it is enough.
const JOURNAL_FLOOR: u64 = 512 * MIB;

/// The journal size past which fjall seals the memtables that hold its
/// oldest file back. The write buffer spreads memtable ages evenly, so the
/// oldest unflushed write is about two budgets back: below that, fjall would
/// seal many memtables at once, the burst the budget is there to avoid. The
/// extra covers fjall's 64 MB journal files. A larger journal is also
/// longer to replay after a crash (docs/decisions/0013).
fn journal_budget(write_buffer: u64) -> u64 {
    write_buffer
        .saturating_mul(2)
        .saturating_add(256 * MIB)
        .max(JOURNAL_FLOOR)
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
    /// Every write goes through it (`committer`).
    queue: CommitQueue,
    /// Numbers deferred writes in the stores' pending maps.
    write_seqs: AtomicU64,
    /// fsyncs the journal without fjall's journal lock.
    journal: JournalSync,
    /// Set when one of our fsyncs failed: what reached the disk is unknown,
    /// so writes are refused until a restart (as fjall does after its own).
    poisoned: AtomicBool,
    /// How long fjall took over each batch.
    stalls: Stalls,
}

impl Inner {
    /// Called after a blocking write with its group-commit ticket: the write
    /// is in the OS already; under `sync` it waits for its fsync.
    fn after_write(&self, ticket: u64) -> Result<()> {
        match self.durability {
            Durability::Sync => self.wait_durable(ticket),
            Durability::Interval(_) => Ok(()),
        }
    }

    /// Runs `done` once the write with `ticket` (in the OS already) is as
    /// durable as the backend's durability asks: at once under `interval`,
    /// after the sync thread's next group fsync under `sync`.
    fn when_durable(&self, ticket: u64, done: Durable) {
        if let Durability::Interval(_) = self.durability {
            return done(Ok(()));
        }
        let queued = {
            let syncer = self.syncer.lock().unwrap_or_else(PoisonError::into_inner);
            match syncer.as_ref() {
                Some(tx) => tx.send((ticket, done)).map_err(|e| e.0.1),
                None => Err(done),
            }
        };
        // The backend is closing: wait here.
        if let Err(done) = queued {
            done(self.wait_durable(ticket));
        }
    }

    /// Queues `job`. Refused once the backend closed: the job, dropped,
    /// reports that the storage is closed.
    fn submit(&self, job: Job) {
        if let Err(Msg::Job(job)) = self.queue.push(Msg::Job(job)) {
            committer::forget_pending(&job);
        }
    }

    /// Applies `changes` of `store` (with whatever else is queued, or lets
    /// the thread applying the queue do it) and waits for them; the
    /// result is the write's group-commit ticket.
    fn write_and_wait(
        &self,
        store: &Arc<StoreState>,
        changes: Vec<Change>,
        cache: bool,
    ) -> Result<u64> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(Job {
            store: Arc::clone(store),
            changes,
            cache,
            done: Some(Done::Wait(tx)),
        });
        self.queue.drain(self);
        rx.recv().unwrap_or_else(|_| Err(closed()))
    }

    /// Returns once everything queued before this call is applied.
    fn barrier(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        if self.queue.push(Msg::Barrier(tx)).is_ok() {
            self.queue.drain(self);
            let _ = rx.recv();
        }
    }

    fn wait_durable(&self, ticket: u64) -> Result<()> {
        self.commit.wait_durable(ticket, || self.fsync())
    }

    /// One fsync of the journal, covering every write already in the OS.
    fn fsync(&self) -> Result<()> {
        if self.poisoned.load(Ordering::SeqCst) {
            return Err(StorageError::Poisoned);
        }
        match self.journal.sync() {
            Ok(()) => Ok(()),
            Err(SyncError::NotFound(e)) => {
                tracing::warn!(error = %e, "journal file not found; fsync through the engine");
                self.db.persist(PersistMode::SyncData).map_err(engine_error)
            }
            Err(SyncError::Failed(e)) => {
                self.poisoned.store(true, Ordering::SeqCst);
                Err(StorageError::Io(e))
            }
        }
    }

    fn keyspace(&self, name: &str) -> Result<Keyspace> {
        // The seal thread keeps memtables under `memtable_bytes`; fjall's
        // own limit is only a backstop (decision 0022).
        let memtable = self.memtable_bytes.saturating_mul(FJALL_BACKSTOP);
        self.db
            .keyspace(name, || {
                KeyspaceCreateOptions::default()
                    .max_memtable_size(memtable)
                    .manual_journal_persist(false)
            })
            .map_err(engine_error)
    }
}

impl crate::deferred::Drain for Inner {
    fn drain(&self) {
        self.queue.drain(self);
    }
}

struct FjallBackend {
    inner: Arc<Inner>,
    stores: Mutex<HashMap<String, Arc<FjallStore>>>,
    /// Ends once the commit queue (and its sender) is dropped.
    seal_thread: Option<JoinHandle<()>>,
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
            state: Arc::new(StoreState::new(
                self.inner.store_ids.fetch_add(1, Ordering::Relaxed),
                name.to_owned(),
                keyspace,
            )),
            inner: Arc::clone(&self.inner),
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
                // Writes queued from now on are refused; the barrier waits
                // for those a leader has already taken.
                store.state.dropped.store(true, Ordering::SeqCst);
                self.inner.barrier();
                // A seal under way finishes first; later ones skip the store.
                drop(
                    store
                        .state
                        .seal_lock
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner),
                );
                store.state.keyspace.clone()
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

    fn row_cache_stats(&self) -> Option<crate::RowCacheStats> {
        self.inner.rows.as_ref().map(RowCache::stats)
    }

    fn commit_stats(&self) -> Option<crate::CommitStats> {
        Some(self.inner.stalls.stats())
    }
}

impl Drop for FjallBackend {
    fn drop(&mut self) {
        // First what is queued, which hands deferred writes to the sync thread.
        self.inner.queue.close(&self.inner);
        if let Some(sealer) = self.seal_thread.take()
            && sealer.join().is_err()
        {
            tracing::error!("storage seal thread panicked");
        }
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
                        done(result.as_ref().copied().map_err(committer::copy_error));
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
    state: Arc<StoreState>,
    inner: Arc<Inner>,
}

impl FjallStore {
    fn error(&self, e: fjall::Error) -> StorageError {
        match e {
            fjall::Error::KeyspaceDeleted => StorageError::StoreDropped(self.state.name.clone()),
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

    /// A point read from the engine, past the pending writes and the row cache.
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.state
            .keyspace
            .get(encode_key(key))
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.error(e))
    }

    fn alive(&self) -> Result<()> {
        if self.state.dropped.load(Ordering::SeqCst) {
            Err(StorageError::StoreDropped(self.state.name.clone()))
        } else {
            Ok(())
        }
    }

    /// Before a read of the whole store: deferred writes are applied first,
    /// so the engine's snapshot holds them.
    fn settle(&self) {
        if !self.state.pending.is_empty() {
            self.inner.barrier();
        }
    }

    fn write_and_wait(&self, changes: Vec<Change>, cache: bool) -> Result<()> {
        let ticket = self.inner.write_and_wait(&self.state, changes, cache)?;
        self.inner.after_write(ticket)
    }
}

impl Store for FjallStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.alive()?;
        if let Some(queued) = self.state.pending.get(key) {
            return Ok(queued);
        }
        let Some(rows) = &self.inner.rows else {
            return self.read(key);
        };
        if let Some(value) = rows.get(self.state.id, key) {
            return Ok(Some(value));
        }
        let ticket = rows.ticket(key);
        let value = self.read(key)?;
        if let Some(value) = &value {
            rows.fill(ticket, self.state.id, key, value);
        }
        Ok(value)
    }

    fn get_if_cached(&self, key: &[u8]) -> Option<Vec<u8>> {
        // A dropped store answers through `get`, with its error.
        self.alive().ok()?;
        if let Some(queued) = self.state.pending.get(key) {
            return queued;
        }
        self.inner.rows.as_ref()?.get(self.state.id, key)
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.alive()?;
        check_key(key)?;
        check_value(value)?;
        let change = Change {
            key: key.into(),
            value: Some(Slice::from(value)),
        };
        self.write_and_wait(vec![change], true)
    }

    fn put_then(&self, key: &[u8], value: &[u8], done: Durable) {
        let checked = self
            .alive()
            .and_then(|()| check_key(key))
            .and_then(|()| check_value(value));
        if let Err(e) = checked {
            return done(Err(e));
        }
        let value = Slice::from(value);
        let seq = self.inner.write_seqs.fetch_add(1, Ordering::Relaxed);
        // Into the pending map before the queue: it leaves once applied.
        self.state.pending.insert(key, seq, Some(value.clone()));
        self.inner.submit(Job {
            store: Arc::clone(&self.state),
            changes: vec![Change {
                key: key.into(),
                value: Some(value),
            }],
            cache: true,
            done: Some(Done::Deferred { seq, done }),
        });
        if !crate::deferred::owe(&self.inner) {
            self.inner.queue.drain(&self.inner);
        }
    }

    fn delete(&self, key: &[u8]) -> Result<()> {
        self.alive()?;
        check_key(key)?;
        let change = Change {
            key: key.into(),
            value: None,
        };
        self.write_and_wait(vec![change], true)
    }

    fn write_batch(&self, batch: WriteBatch) -> Result<()> {
        self.alive()?;
        batch.validate()?;
        if batch.is_empty() {
            return Ok(());
        }
        let changes = batch
            .into_ops()
            .map(|(key, value)| Change {
                key: key.into(),
                value: value.map(Slice::from),
            })
            .collect();
        self.write_and_wait(changes, false)
    }

    fn range(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> KvIter<'_> {
        if let Err(e) = self.alive() {
            return Box::new(std::iter::once(Err(e)));
        }
        if range_is_empty(&start, &end) {
            return Box::new(std::iter::empty());
        }
        self.settle();
        let snapshot = self.inner.db.snapshot();
        self.iter(snapshot.range(&self.state.keyspace, (encode_start(start), encode_end(end))))
    }

    fn prefix(&self, prefix: &[u8]) -> KvIter<'_> {
        if let Err(e) = self.alive() {
            return Box::new(std::iter::once(Err(e)));
        }
        self.settle();
        let snapshot = self.inner.db.snapshot();
        self.iter(snapshot.prefix(&self.state.keyspace, encode_key(prefix)))
    }

    fn is_empty(&self) -> Result<bool> {
        self.alive()?;
        self.settle();
        self.state.keyspace.is_empty().map_err(|e| self.error(e))
    }

    fn approximate_len(&self) -> u64 {
        self.state.keyspace.approximate_len() as u64
    }
}

/// The error of a write queued after the backend closed.
fn closed() -> StorageError {
    StorageError::Io(std::io::Error::other("the storage is closed"))
}

fn engine_error(e: fjall::Error) -> StorageError {
    match e {
        fjall::Error::Io(e) => StorageError::Io(e),
        fjall::Error::Poisoned => StorageError::Poisoned,
        fjall::Error::Locked => StorageError::Locked,
        other => StorageError::Engine(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_holds_two_budgets_and_a_margin_and_never_less_than_fjall_s_default() {
        assert_eq!(journal_budget(0), JOURNAL_FLOOR);
        assert_eq!(journal_budget(64 * MIB), JOURNAL_FLOOR);
        assert_eq!(journal_budget(512 * MIB), 1280 * MIB);
        assert_eq!(journal_budget(u64::MAX), u64::MAX);
    }

    /// Every batch applied is counted; stalled ones are among them.
    #[test]
    fn counts_the_batches_it_applies() {
        let dir = tempfile::tempdir().unwrap();
        let backend = open_fjall(dir.path(), &crate::StorageConfig::default()).unwrap();
        let before = backend.commit_stats().unwrap();
        let store = backend.store("kv.1").unwrap();
        for i in 0..10u32 {
            store.put(&i.to_be_bytes(), b"v").unwrap();
        }
        let after = backend.commit_stats().unwrap();
        assert!(after.batches > before.batches, "{after:?}");
        assert!(after.batches <= before.batches + 10, "{after:?}");
        assert!(after.stalled <= after.batches);
    }
}
