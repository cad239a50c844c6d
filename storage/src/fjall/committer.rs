//! The commit queue: every change to a backend's stores is applied through
//! it, many at a time, by whichever writer holds its lead.
//!
//! fjall applies a write under its one journal lock: the journal append, a
//! `write` call that hands it to the OS, and the memtable insert. Vnode
//! threads writing one key at a time took turns on that lock, and paid a
//! system call per write. Here a writer queues its change; the thread that
//! holds the lead takes everything queued, applies it as one fjall batch
//! (one lock, one `write`), brings the row cache in line, and reports to
//! each writer. One thread at a time leads, so changes are applied in the
//! order queued, and fjall's lock is never contended.
//!
//! A dedicated thread used to lead. Each batch then cost two wake-ups (the
//! commit thread's, then the writers'), a millisecond's wait for a core on
//! a loaded node, and one more thread to share the cores with. Now the
//! writers lead: a vnode worker defers its writes ([`crate::defer_commits`])
//! and applies the queue when its mailbox runs dry, so the writes of a
//! burst of commands go out together without waking anyone
//! (docs/decisions/0020).
//!
//! Until its batch is applied a deferred write (`put_then`) waits in its
//! store's [`Pending`] map, which reads look at first, so the write is
//! visible as soon as it is queued. Blocking writes (`put`, `delete`,
//! `write_batch`) queue, lead if no one does, and wait for their batch;
//! scans and store drops do the same with a [`Msg::Barrier`], so they see
//! every write queued before them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

use fjall::{Keyspace, Slice};

use super::write_buffer::WriteBuffer;
use super::{Inner, encode_key, engine_error};
use crate::{Durable, Result, StorageError};

/// Most messages applied as one batch: bounds the batch's memory and the
/// time its first writer waits.
const MAX_BATCH: usize = 4096;

/// What the commit queue needs of a store.
pub(super) struct StoreState {
    pub(super) id: u32,
    pub(super) name: String,
    pub(super) keyspace: Keyspace,
    /// Set by `drop_store`; queued changes of a dropped store are refused.
    pub(super) dropped: AtomicBool,
    pub(super) pending: Pending,
    /// Held while the seal thread seals this store's memtable, and by
    /// `drop_store` before it deletes the keyspace.
    pub(super) seal_lock: Mutex<()>,
}

impl StoreState {
    /// A live store on `keyspace`, with nothing pending.
    pub(super) fn new(id: u32, name: String, keyspace: Keyspace) -> StoreState {
        StoreState {
            id,
            name,
            keyspace,
            dropped: AtomicBool::new(false),
            pending: Pending::default(),
            seal_lock: Mutex::default(),
        }
    }
}

/// Key → (the queued write's sequence number, its value or `None` for a delete).
type PendingMap = HashMap<Box<[u8]>, (u64, Option<Slice>)>;

/// Deferred writes of one store that are queued and not yet applied.
#[derive(Default)]
pub(super) struct Pending(Mutex<PendingMap>);

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, PendingMap> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The queued value of `key`: `Some(None)` for a queued delete, `None`
    /// when no write of the key is waiting.
    pub(super) fn get(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let map = self.lock();
        map.get(key).map(|(_, v)| v.as_ref().map(|v| v.to_vec()))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub(super) fn insert(&self, key: &[u8], seq: u64, value: Option<Slice>) {
        self.lock().insert(key.into(), (seq, value));
    }

    /// Forgets the write `seq` of `key` unless a later one replaced it.
    pub(super) fn remove(&self, key: &[u8], seq: u64) {
        let mut map = self.lock();
        if map.get(key).is_some_and(|(s, _)| *s == seq) {
            map.remove(key);
        }
    }
}

/// One key's new value (`None`: removed).
pub(super) struct Change {
    pub(super) key: Box<[u8]>,
    pub(super) value: Option<Slice>,
}

/// Who hears how a job went.
pub(super) enum Done {
    /// A deferred write: `done` runs once it is durable; its change is in the
    /// store's pending map under `seq`.
    Deferred { seq: u64, done: Durable },
    /// A blocked caller, told the group-commit ticket of the write.
    Wait(mpsc::SyncSender<Result<u64>>),
}

/// The changes of one store call, applied together.
pub(super) struct Job {
    pub(super) store: Arc<StoreState>,
    pub(super) changes: Vec<Change>,
    /// Write the new values into the row cache (a batch only forgets them:
    /// handoff batches would flood it).
    pub(super) cache: bool,
    /// Taken when reported; a job dropped unreported (the thread is gone)
    /// reports that the storage closed.
    pub(super) done: Option<Done>,
}

impl Done {
    /// Tells the writer how its job went: a deferred write once it is as
    /// durable as the backend asks, a blocked caller at once.
    fn report(self, inner: &Inner, result: Result<u64>) {
        match (self, result) {
            (Done::Deferred { done, .. }, Ok(ticket)) => inner.when_durable(ticket, done),
            (done, Err(e)) => done.fail(e),
            (Done::Wait(tx), ok) => {
                let _ = tx.send(ok);
            }
        }
    }

    fn fail(self, e: StorageError) {
        match self {
            Done::Deferred { done, .. } => done(Err(e)),
            Done::Wait(tx) => {
                let _ = tx.send(Err(e));
            }
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            done.fail(super::closed());
        }
    }
}

pub(super) enum Msg {
    Job(Job),
    /// Answered once every message queued before it is applied.
    Barrier(mpsc::SyncSender<()>),
}

/// What is queued, and whether the backend still takes writes.
#[derive(Default)]
struct Queued {
    msgs: Vec<Msg>,
    closed: bool,
}

/// The writes waiting to be applied, and the lead: the thread holding it
/// applies them, in the order queued, while later writers only queue.
pub(super) struct CommitQueue {
    queued: Mutex<Queued>,
    lead: Mutex<WriteBuffer>,
}

impl CommitQueue {
    pub(super) fn new(buffer: WriteBuffer) -> Self {
        CommitQueue {
            queued: Mutex::default(),
            lead: Mutex::new(buffer),
        }
    }

    fn queued(&self) -> std::sync::MutexGuard<'_, Queued> {
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `msg`; once the backend closed, hands it back instead.
    pub(super) fn push(&self, msg: Msg) -> std::result::Result<(), Msg> {
        let mut queued = self.queued();
        if queued.closed {
            return Err(msg);
        }
        queued.msgs.push(msg);
        Ok(())
    }

    /// Applies everything queued, batch after batch, unless another thread
    /// leads: that one applies what this thread queued before the call.
    pub(super) fn drain(&self, inner: &Inner) {
        loop {
            let mut buffer = match self.lead.try_lock() {
                Ok(buffer) => buffer,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            while let Some(msgs) = self.take_batch() {
                apply(inner, msgs, &mut buffer);
            }
            drop(buffer);
            // A writer that queued after the last look and found the lead
            // taken left its write to the leader, who has just let go.
            if self.queued().msgs.is_empty() {
                return;
            }
        }
    }

    /// The oldest queued messages, at most a batch of them; `None` when
    /// nothing is queued.
    fn take_batch(&self) -> Option<Vec<Msg>> {
        let mut queued = self.queued();
        let n = queued.msgs.len().min(MAX_BATCH);
        (n > 0).then(|| queued.msgs.drain(..n).collect())
    }

    /// Refuses further writes and applies those already queued.
    pub(super) fn close(&self, inner: &Inner) {
        self.queued().closed = true;
        // Waits out a leader, then applies what is left; the seal thread
        // ends once its sender is gone.
        let mut buffer = self.lead.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.stop_sealing();
        drop(buffer);
        self.drain(inner);
    }
}

/// Applies the jobs among `msgs` as one batch, keeps the write buffer in
/// its budget, then reports to every job and barrier.
fn apply(inner: &Inner, msgs: Vec<Msg>, buffer: &mut WriteBuffer) {
    let mut jobs = Vec::with_capacity(msgs.len());
    let mut barriers = Vec::new();
    for msg in msgs {
        match msg {
            Msg::Job(job) => jobs.push(job),
            Msg::Barrier(tx) => barriers.push(tx),
        }
    }
    // A dropped store's changes are refused (the store's keyspace may be gone).
    let (live, refused): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|j| !j.store.dropped.load(Ordering::SeqCst));
    let result = commit(inner, &live).map(|()| inner.commit.written());
    settle_caches(inner, &live, result.is_ok());
    if result.is_ok() {
        buffer.written(&live);
    }
    for mut job in refused {
        let dropped = StorageError::StoreDropped(job.store.name.clone());
        forget_pending(&job);
        if let Some(done) = job.done.take() {
            done.fail(dropped);
        }
    }
    for mut job in live {
        if let Some(done) = job.done.take() {
            done.report(inner, result.as_ref().copied().map_err(copy_error));
        }
    }
    for tx in barriers {
        let _ = tx.send(());
    }
}

/// One fjall batch of every change, the last one of each key only: fjall
/// gives a whole batch one sequence number, so two entries of one key would
/// tie.
fn commit(inner: &Inner, jobs: &[Job]) -> Result<()> {
    if inner.poisoned.load(Ordering::SeqCst) {
        return Err(StorageError::Poisoned);
    }
    // (store, key) → where the key goes and its last value in this batch.
    // The batch is applied at once, so the order of its entries is free.
    type Slot<'a> = (u32, &'a [u8]);
    let mut last: HashMap<Slot, (&Keyspace, &Option<Slice>)> = HashMap::new();
    for job in jobs {
        for change in &job.changes {
            last.insert(
                (job.store.id, &*change.key),
                (&job.store.keyspace, &change.value),
            );
        }
    }
    if last.is_empty() {
        return Ok(());
    }
    let mut batch = inner.db.batch();
    for ((_, key), (keyspace, value)) in last {
        let key = encode_key(key);
        match value {
            Some(value) => batch.insert(keyspace, key, value.clone()),
            None => batch.remove(keyspace, key),
        }
    }
    let started = std::time::Instant::now();
    let applied = batch.commit().map_err(engine_error);
    inner.stalls.record(started.elapsed());
    applied
}

/// The row cache learns each applied value, in the order applied (nothing
/// when the batch failed: it may still have landed), and applied deferred
/// writes leave their pending maps. The cache goes first: a reader that no
/// longer finds the pending write must find the new value in the cache.
fn settle_caches(inner: &Inner, jobs: &[Job], applied: bool) {
    for job in jobs {
        if let Some(rows) = &inner.rows {
            for change in &job.changes {
                let value = change.value.as_deref().filter(|_| applied && job.cache);
                rows.written(job.store.id, &change.key, value);
            }
        }
        forget_pending(job);
    }
}

pub(super) fn forget_pending(job: &Job) {
    if let Some(Done::Deferred { seq, .. }) = &job.done {
        for change in &job.changes {
            job.store.pending.remove(&change.key, *seq);
        }
    }
}

/// Errors are not `Clone`; every job of a failed batch gets its own copy.
pub(super) fn copy_error(e: &StorageError) -> StorageError {
    match e {
        StorageError::Poisoned => StorageError::Poisoned,
        StorageError::Locked => StorageError::Locked,
        StorageError::StoreDropped(name) => StorageError::StoreDropped(name.clone()),
        StorageError::Io(io) => StorageError::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => StorageError::Engine(other.to_string().into()),
    }
}
