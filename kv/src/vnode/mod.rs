//! The KV vnode: one partition's objects, on the vnode's worker thread.
//!
//! It coordinates writes as the causal actor (its id is persisted in its own
//! store, so a vnode whose data is lost starts over as a new actor), merges
//! replicated writes, serves reads, and reaps tombstones after `delete_mode`.
//! Folds (list keys, handoff) leave the vnode: it hands out its store.

mod commands;
pub mod dt_cache;
pub mod read_stores;
mod replica;

pub use commands::{Early, Forwarder, Handed, KvCommand, PutOp, Record, Reply};
pub use dt_cache::DtCache;
pub use read_stores::ReadStores;
use replica::{Merged, Replica, merge_replica};

use crate::config::KvConfig;
use crate::crdt::{self, Context, DataKind, DataType, DtOp};
use crate::error::{KvError, Result};
use crate::keys;
use crate::object::{Actor, Content, RiakObject, decode_object, encode_record};
use crate::stats::KvStats;
use rill_core::PartitionId;
use rill_core::vnode::Vnode;
use rill_storage::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What a write does to the local object.
enum Prepared {
    /// Nothing to store (a replicated object this vnode already had).
    Unchanged(RiakObject),
    /// The object to store, its record when one came with it, and the
    /// local record it replaces.
    Write {
        obj: RiakObject,
        record: Option<Record>,
        replaced: Option<Record>,
    },
}

pub struct KvVnode {
    partition: PartitionId,
    store: Arc<dyn Store>,
    actor: Actor,
    /// Set when a write failed in the store after the vnode went on: a
    /// coordinated write may have reached other replicas (see `Early`)
    /// while this vnode lost it, so its next dot could repeat one they
    /// hold. The next coordinated write takes a new actor first.
    actor_stale: Arc<AtomicBool>,
    cfg: Arc<KvConfig>,
    stats: Arc<KvStats>,
    pub(crate) dt_cache: Arc<DtCache>,
    /// Tombstones to remove when due, if still unchanged.
    reaps: Vec<(Instant, Vec<u8>, crate::object::VClock)>,
    /// During a handoff: where writes are also sent, and whether one failed.
    handoff: Option<Handoff>,
}

impl KvVnode {
    pub fn open(
        partition: PartitionId,
        store: Arc<dyn Store>,
        cfg: Arc<KvConfig>,
        stats: Arc<KvStats>,
        dt_cache: Arc<DtCache>,
    ) -> Result<KvVnode> {
        let actor = load_or_create_actor(store.as_ref())?;
        let moved = keys::migrate(store.as_ref())?;
        if moved > 0 {
            tracing::info!(
                partition,
                keys = moved,
                "object keys rewritten to the stored form"
            );
        }
        Ok(KvVnode {
            partition,
            store,
            actor,
            actor_stale: Arc::new(AtomicBool::new(false)),
            cfg,
            stats,
            dt_cache,
            reaps: Vec::new(),
            handoff: None,
        })
    }

    pub fn actor(&self) -> Actor {
        self.actor
    }

    /// The stored object; a corrupt record is reported, never served.
    fn read(&self, key: &[u8]) -> Result<Option<RiakObject>> {
        read_object(self.store.as_ref(), key, self.partition, &self.stats)
    }

    /// The local copy as a base for a write: a corrupt one is replaced (the
    /// other replicas and read repair still hold the data).
    fn read_for_write(&self, key: &[u8]) -> Result<Option<RiakObject>> {
        let record = self.store.get(key)?;
        self.base(record.as_deref())
    }

    /// The object of a local record, as a base for a write (`read_for_write`).
    fn base(&self, record: Option<&[u8]>) -> Result<Option<RiakObject>> {
        match record.map(|r| decode_record(r, self.partition, &self.stats)) {
            None | Some(Err(KvError::Corrupt(_))) => Ok(None),
            Some(other) => other.map(Some),
        }
    }

    /// Applies a write and answers once it is stored (and durable, under
    /// `sync` durability: the worker does not wait for that, the store
    /// answers when the group's fsync is done).
    fn put(&mut self, key: &[u8], op: PutOp, reply: Reply<RiakObject>, early: Option<Early>) {
        let (obj, record, replaced) = match self.prepare_put(key, op) {
            Ok(Prepared::Unchanged(obj)) => return reply.send(Ok(obj)),
            Ok(Prepared::Write {
                obj,
                record,
                replaced,
            }) => (obj, record, replaced),
            Err(e) => return reply.send(Err(e)),
        };
        self.stats.vnode_puts.incr();
        let bytes = match record {
            Some(record) => {
                debug_assert_eq!(*record, encode_record(&obj), "a record of another object");
                record
            }
            None => Record::from(encode_record(&obj)),
        };
        if let Some(handoff) = &self.handoff {
            // During a handoff the write is forwarded before the next command
            // runs, as the handoff's end relies on: wait for the store here.
            if let Err(e) = self.store.put(key, &bytes) {
                return reply.send(Err(e.into()));
            }
            return handoff.forward(key, obj, reply);
        }
        let handed = early.map(|e| (e, obj.clone()));
        let stale = self.actor_stale.clone();
        self.store.put_then(
            key,
            &bytes,
            Box::new(move |r| {
                if r.is_err() {
                    stale.store(true, Ordering::Relaxed);
                }
                reply.send(r.map(|()| obj).map_err(KvError::from))
            }),
        );
        // After the write is queued: the store applies writes in the order
        // they are queued, so a local replica's copy is never stored before
        // this one.
        if let Some((early, obj)) = handed {
            let handed = Handed {
                record: bytes,
                replaced,
            };
            early.hand_over(obj, handed);
        }
    }

    /// The object a write leaves, or the unchanged local one.
    fn prepare_put(&mut self, key: &[u8], op: PutOp) -> Result<Prepared> {
        let replaced = self.store.get(key)?.map(Record::from);
        let mut obj = match op {
            PutOp::Coordinate {
                context,
                mut content,
                allow_mult,
                last_write_wins,
            } => {
                let local = self.coordinating_base(replaced.as_deref())?;
                // Stamp later than what this write replaces, so that
                // last-write-wins agrees with causality despite clock skew.
                if let Some(latest) = local.as_ref().and_then(RiakObject::latest_modified_us) {
                    let m = &mut content.meta;
                    m.last_modified_us = m.last_modified_us.max(latest + 1);
                }
                let base = if last_write_wins {
                    None
                } else {
                    local.as_ref()
                };
                let mut obj = RiakObject::coordinate_put(base, &context, content, self.actor);
                if last_write_wins {
                    // Keep the actor's counter moving so dots stay unique.
                    if let Some(l) = &local {
                        obj.clock.merge(&l.clock);
                    }
                }
                if !allow_mult {
                    obj.collapse_lww();
                }
                obj
            }
            PutOp::DtUpdate {
                op,
                context,
                kind,
                hll_precision,
                mut meta,
            } => {
                let local = self.coordinating_base(replaced.as_deref())?;
                if let Some(latest) = local.as_ref().and_then(RiakObject::latest_modified_us) {
                    meta.last_modified_us = meta.last_modified_us.max(latest + 1);
                }
                let current = self.current_datatype(key, local.as_ref())?;
                let dt = apply_datatype(
                    current,
                    op,
                    context.as_ref(),
                    kind,
                    hll_precision,
                    self.actor,
                    meta.last_modified_us,
                )?;
                // The context is the local clock: the new value replaces
                // every local sibling, it was computed from all of them.
                let clock = local.as_ref().map(|l| l.clock.clone()).unwrap_or_default();
                let stored = crdt::encode(&dt);
                if stored.len() >= dt_cache::MIN_CACHED_BYTES {
                    self.dt_cache.put(self.partition, key, stored.clone(), dt);
                }
                let content = Content::new(stored, meta);
                RiakObject::coordinate_put(local.as_ref(), &clock, content, self.actor)
            }
            PutOp::Replicate {
                object,
                allow_mult,
                last_write_wins,
                handed,
            } => {
                let replica = Replica {
                    object: *object,
                    allow_mult,
                    last_write_wins,
                    handed,
                };
                return self.prepare_replica(replica, replaced);
            }
        };
        self.check_siblings(&mut obj)?;
        Ok(Prepared::Write {
            obj,
            record: None,
            replaced,
        })
    }

    /// The base of a write this vnode coordinates: its actor renewed first
    /// if a store write failed, since the write stamps a dot of it.
    fn coordinating_base(&mut self, record: Option<&[u8]>) -> Result<Option<RiakObject>> {
        self.renew_actor_if_stale()?;
        self.base(record)
    }

    /// A replicated write over the local record `replaced`
    /// ([`merge_replica`] decides).
    fn prepare_replica(&self, r: Replica, replaced: Option<Record>) -> Result<Prepared> {
        let local = || self.base(replaced.as_deref());
        match merge_replica(r, replaced.as_ref(), local)? {
            Merged::Unchanged(obj) => Ok(Prepared::Unchanged(obj)),
            Merged::Write(mut obj, record) => {
                self.check_siblings(&mut obj)?;
                Ok(Prepared::Write {
                    obj,
                    record,
                    replaced,
                })
            }
        }
    }

    fn renew_actor_if_stale(&mut self) -> Result<()> {
        if !self.actor_stale.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.actor = create_actor(self.store.as_ref())?;
        self.actor_stale.store(false, Ordering::Relaxed);
        tracing::warn!(
            partition = self.partition,
            "a write failed in the store: this vnode coordinates as a new actor"
        );
        Ok(())
    }

    /// The join of the local data type siblings: from the cache when the
    /// object holds one sibling whose bytes the cache knows, else decoded.
    fn current_datatype(&self, key: &[u8], local: Option<&RiakObject>) -> Result<Option<DataType>> {
        let Some(l) = local else { return Ok(None) };
        if let [only] = l.siblings.as_slice()
            && !only.is_tombstone()
            && let Some(dt) = self.dt_cache.take(self.partition, key, &only.value)
        {
            return Ok(Some(dt));
        }
        crate::dt::datatype_of([l])
    }

    fn check_siblings(&self, obj: &mut RiakObject) -> Result<()> {
        let n = obj.siblings.len();
        if n > self.cfg.max_siblings {
            return Err(KvError::TooManySiblings(n));
        }
        if n > self.cfg.warn_siblings {
            self.stats.siblings_warnings.incr();
            tracing::warn!(
                partition = self.partition,
                siblings = n,
                "too many siblings"
            );
        }
        Ok(())
    }

    /// Merges handed-off records into this vnode, as replicated writes.
    fn receive_handoff(&mut self, items: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        for (key, bytes) in items {
            let theirs = match decode_object(&bytes) {
                Ok(o) => o,
                Err(e) => {
                    // A record corrupt at the sender: the other replicas still have it.
                    tracing::warn!(partition = self.partition, error = %e, "corrupt handoff record skipped");
                    continue;
                }
            };
            let merged = match self.read_for_write(&key)? {
                Some(mine) => crate::dt::merge_datatype(&mine, &theirs),
                None => theirs,
            };
            self.store.put(&key, &encode_record(&merged))?;
        }
        Ok(())
    }

    fn reap_now(&mut self, key: &[u8], clock: &crate::object::VClock) {
        let Ok(Some(obj)) = self.read(key) else {
            return;
        };
        if obj.is_tombstone() && &obj.clock == clock {
            match self.store.delete(key) {
                Ok(()) => self.stats.tombstones_reaped.incr(),
                Err(e) => tracing::warn!(error = %e, "tombstone reap failed"),
            }
        }
    }
}

/// The data type value after `op`: `current` (the join of the local data
/// type siblings) or a new value of `kind`, brought to the bucket's HLL
/// precision, with `op` applied as `actor`.
fn apply_datatype(
    current: Option<DataType>,
    op: DtOp,
    context: Option<&Context>,
    kind: DataKind,
    hll_precision: Option<u8>,
    actor: Actor,
    now_us: u64,
) -> Result<DataType> {
    let mut dt = match current {
        Some(dt) if dt.kind() == kind => dt,
        _ if kind == DataKind::Hll => {
            DataType::new_hll(hll_precision.map_or(crdt::DEFAULT_PRECISION, u32::from))?
        }
        _ => DataType::new(kind),
    };
    if let (DataType::Hll(h), Some(p)) = (&mut dt, hll_precision)
        && h.precision() > u32::from(p)
    {
        h.reduce(u32::from(p))?;
    }
    dt.apply(op, actor, context, now_us)?;
    Ok(dt)
}

/// The object stored under `key` in a vnode's store; a corrupt record is
/// counted and logged, never served. Used by the vnode and by reads that
/// skip its thread (`ReadStores`).
pub(crate) fn read_object(
    store: &dyn Store,
    key: &[u8],
    partition: PartitionId,
    stats: &KvStats,
) -> Result<Option<RiakObject>> {
    match store.get(key)? {
        None => Ok(None),
        Some(bytes) => decode_record(&bytes, partition, stats).map(Some),
    }
}

/// `read_object` for the local replicas of one key.
pub(crate) fn read_replicas<'a>(
    stores: impl IntoIterator<Item = (&'a dyn Store, PartitionId)>,
    key: &[u8],
    stats: &KvStats,
) -> Vec<Result<Option<RiakObject>>> {
    decode_replicas(stores.into_iter().map(|(s, p)| (s.get(key), p)), stats)
}

/// The local replicas of one key when every one is at hand without a read
/// that may block (`Store::get_if_cached`), so an async task may call this;
/// `None` when any of them needs `read_replicas`.
pub(crate) fn cached_replicas<'a>(
    stores: impl IntoIterator<Item = (&'a dyn Store, PartitionId)>,
    key: &[u8],
    stats: &KvStats,
) -> Option<Vec<Result<Option<RiakObject>>>> {
    let records = stores
        .into_iter()
        .map(|(s, p)| Some((Ok(Some(s.get_if_cached(key)?)), p)))
        .collect::<Option<Vec<_>>>()?;
    Some(decode_replicas(records, stats))
}

/// Decodes the records read from a key's local replicas. Replicas usually
/// agree, so a record byte-identical to the one before it is cloned instead
/// of checked and decoded again (the decode is most of a get's CPU outside
/// the storage engine).
fn decode_replicas(
    records: impl IntoIterator<Item = (rill_storage::Result<Option<Vec<u8>>>, PartitionId)>,
    stats: &KvStats,
) -> Vec<Result<Option<RiakObject>>> {
    let mut out: Vec<Result<Option<RiakObject>>> = Vec::new();
    // The last record decoded, and where its object is in `out`.
    let mut last: Option<(Vec<u8>, usize)> = None;
    for (record, partition) in records {
        stats.vnode_gets.incr();
        let bytes = match record {
            Ok(Some(bytes)) => bytes,
            other => {
                out.push(other.map(|_| None).map_err(KvError::from));
                continue;
            }
        };
        if let Some((prev, i)) = &last
            && *prev == bytes
            && let Ok(Some(same)) = &out[*i]
        {
            let same = same.clone();
            out.push(Ok(Some(same)));
            continue;
        }
        let decoded = decode_record(&bytes, partition, stats);
        if decoded.is_ok() {
            last = Some((bytes, out.len()));
        }
        out.push(decoded.map(Some));
    }
    out
}

fn decode_record(bytes: &[u8], partition: PartitionId, stats: &KvStats) -> Result<RiakObject> {
    decode_object(bytes).map_err(|e| {
        stats.corrupt_objects.incr();
        tracing::error!(partition, error = %e, "corrupt object");
        KvError::Corrupt(e.to_string())
    })
}

fn load_or_create_actor(store: &dyn Store) -> Result<Actor> {
    let k = keys::vnode_meta("actor");
    if let Some(b) = store.get(&k)?
        && let Ok(arr) = <[u8; 8]>::try_from(b.as_slice())
    {
        return Ok(Actor(u64::from_be_bytes(arr)));
    }
    create_actor(store)
}

fn create_actor(store: &dyn Store) -> Result<Actor> {
    let k = keys::vnode_meta("actor");
    let actor = Actor(rand::random::<u64>());
    store.put(&k, &actor.0.to_be_bytes())?;
    Ok(actor)
}

/// A handoff under way, or ended with the vnode about to be dropped.
struct Handoff {
    forward: Forwarder,
    /// Set when a write made during the handoff did not reach the receiver.
    failed: Arc<AtomicBool>,
    /// The handoff ended and this copy goes next: a write counts only once
    /// the receiver has it (a write between the end and the drop would
    /// otherwise be acknowledged and then dropped).
    retired: bool,
}

impl Handoff {
    /// Sends a write just stored to the receiver and answers the writer:
    /// at once during the handoff, after the receiver's answer once retired.
    fn forward(&self, key: &[u8], obj: RiakObject, reply: Reply<RiakObject>) {
        let send = &self.forward.send;
        if self.retired {
            let stored = obj.clone();
            send(
                key.to_vec(),
                obj,
                Box::new(move |ok| {
                    reply.send(if ok {
                        Ok(stored)
                    } else {
                        Err(KvError::Storage(
                            "the write did not reach the vnode this one handed off to".into(),
                        ))
                    })
                }),
            );
        } else {
            let failed = self.failed.clone();
            send(
                key.to_vec(),
                obj.clone(),
                Box::new(move |ok| {
                    if !ok {
                        failed.store(true, Ordering::SeqCst);
                    }
                }),
            );
            reply.send(Ok(obj));
        }
    }
}

impl Vnode for KvVnode {
    type Command = KvCommand;

    fn handle_command(&mut self, cmd: KvCommand) {
        match cmd {
            KvCommand::Get { key, reply } => {
                self.stats.vnode_gets.incr();
                reply.send(self.read(&key));
            }
            KvCommand::Put {
                key,
                op,
                reply,
                early,
            } => self.put(&key, op, reply, early),
            KvCommand::Reap { key, clock, delay } => match delay {
                None => self.reap_now(&key, &clock),
                Some(d) => self.reaps.push((Instant::now() + d, key, clock)),
            },
            KvCommand::Store { reply } => reply.send(Ok(self.store.clone())),
            KvCommand::HandoffData { items, reply } => reply.send(self.receive_handoff(items)),
            KvCommand::HandoffStart { forward } => {
                // A retry after a failed attempt (which never sent its end)
                // keeps that attempt's flag: a write whose forward failed in
                // between lies before the resume point and must still make
                // the handoff send everything again.
                let failed = self
                    .handoff
                    .take()
                    .map_or_else(|| Arc::new(AtomicBool::new(false)), |h| h.failed);
                self.handoff = Some(Handoff {
                    forward,
                    failed,
                    retired: false,
                });
            }
            KvCommand::HandoffEnd { reply, retire } => {
                let failed = self
                    .handoff
                    .as_ref()
                    .is_some_and(|h| h.failed.load(Ordering::SeqCst));
                match &mut self.handoff {
                    Some(h) if retire && !failed => h.retired = true,
                    _ => self.handoff = None,
                }
                reply.send(Ok(failed));
            }
        }
    }

    fn tick(&mut self) {
        let now = Instant::now();
        let due: Vec<_> = {
            let (due, wait) = std::mem::take(&mut self.reaps)
                .into_iter()
                .partition(|(at, _, _)| *at <= now);
            self.reaps = wait;
            due
        };
        for (_, key, clock) in due {
            self.reap_now(&key, &clock);
        }
    }

    fn is_empty(&mut self) -> bool {
        let mut it = self.store.range(
            std::ops::Bound::Included(vec![keys::OBJECTS_START]),
            std::ops::Bound::Unbounded,
        );
        it.next().is_none()
    }

    fn delete(&mut self) {
        // Dropping the keyspace is the manager's job (it owns the backend);
        // here the vnode forgets what it had scheduled.
        self.reaps.clear();
        self.dt_cache.forget_partition(self.partition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Content, Metadata, VClock, encode_object};

    fn obj(v: &[u8], actor: u64) -> RiakObject {
        let content = Content::new(v.to_vec(), Metadata::default());
        RiakObject::coordinate_put(None, &VClock::new(), content, Actor(actor))
    }

    fn forwarder(ok: bool, sent: Sent) -> Forwarder {
        Forwarder {
            send: Arc::new(move |key, _obj, done| {
                sent.lock().unwrap().push(key);
                done(ok);
            }),
        }
    }

    fn put_cmd(key: &[u8], v: &[u8]) -> KvCommand {
        put_answered(key, v).0
    }

    fn put_answered(
        key: &[u8],
        v: &[u8],
    ) -> (
        KvCommand,
        tokio::sync::oneshot::Receiver<Result<RiakObject>>,
    ) {
        let (reply, rx) = Reply::channel();
        let cmd = KvCommand::Put {
            key: key.to_vec(),
            op: PutOp::Replicate {
                object: Box::new(obj(v, 1)),
                allow_mult: true,
                last_write_wins: false,
                handed: None,
            },
            reply,
            early: None,
        };
        (cmd, rx)
    }

    /// Partition 0's vnode on `store`, with the default configuration.
    pub(super) fn vnode_on(store: Arc<dyn Store>) -> KvVnode {
        KvVnode::open(
            0,
            store,
            Arc::new(KvConfig::default()),
            Arc::new(KvStats::default()),
            Arc::new(DtCache::new(1 << 20)),
        )
        .unwrap()
    }

    fn memory_vnode() -> KvVnode {
        vnode_on(rill_storage::memory().store("kv.0").unwrap())
    }

    type Sent = Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

    /// A vnode whose handoff has begun, forwarding with `ok` as the
    /// receiver's answer, and the keys it forwarded.
    fn handing_off(ok: bool) -> (KvVnode, Sent) {
        let mut vnode = memory_vnode();
        let sent = Sent::default();
        vnode.handle_command(KvCommand::HandoffStart {
            forward: forwarder(ok, sent.clone()),
        });
        (vnode, sent)
    }

    fn end(vnode: &mut KvVnode, retire: bool) -> bool {
        let (reply, mut rx) = Reply::channel();
        vnode.handle_command(KvCommand::HandoffEnd { reply, retire });
        rx.try_recv().unwrap().unwrap()
    }

    /// After a hinted handoff ends, a write reaches the vnode it went to
    /// before it is acknowledged: this copy is dropped next.
    #[test]
    fn a_retired_vnode_acknowledges_what_the_receiver_stored() {
        for ok in [true, false] {
            let (mut vnode, sent) = handing_off(ok);
            assert!(!end(&mut vnode, true));
            let (cmd, mut rx) = put_answered(b"k", b"v");
            vnode.handle_command(cmd);
            assert_eq!(rx.try_recv().unwrap().is_ok(), ok);
            assert_eq!(*sent.lock().unwrap(), vec![b"k".to_vec()]);
        }
    }

    /// An ownership handoff's end stops the forwarding.
    #[test]
    fn an_ended_handoff_forwards_nothing_more() {
        let (mut vnode, sent) = handing_off(true);
        assert!(!end(&mut vnode, false));
        vnode.handle_command(put_cmd(b"k", b"v"));
        assert!(sent.lock().unwrap().is_empty());
    }

    /// A write whose forward failed between a failed handoff attempt and
    /// its retry is reported at the retry's end, so the handoff starts over
    /// instead of trusting its resume point.
    #[test]
    fn a_retried_handoff_reports_a_forward_failed_before_it() {
        let (mut vnode, sent) = handing_off(false);
        // The first attempt fails without an end; a write comes meanwhile.
        vnode.handle_command(put_cmd(b"k1", b"v"));
        vnode.handle_command(KvCommand::HandoffStart {
            forward: forwarder(true, sent.clone()),
        });
        vnode.handle_command(put_cmd(b"k2", b"v"));
        assert!(end(&mut vnode, false), "the failed forward is reported");
        assert_eq!(*sent.lock().unwrap(), vec![b"k1".to_vec(), b"k2".to_vec()]);

        // A handoff after an ended one starts with a clean flag.
        vnode.handle_command(KvCommand::HandoffStart {
            forward: forwarder(true, sent),
        });
        assert!(!end(&mut vnode, false));
    }

    /// A store written before decision 0015 serves its objects once its
    /// vnode opens.
    #[test]
    fn open_rewrites_old_keys() {
        let store = rill_storage::memory().store("kv.0").unwrap();
        let bk = crate::request::BucketKey::new(b"default", b"b", b"k");
        let key = keys::object_key(&bk).unwrap();
        store
            .put(&keys::to_wire(&key), &encode_record(&obj(b"a", 1)))
            .unwrap();
        let vnode = KvVnode::open(
            0,
            store.clone(),
            Arc::new(KvConfig::default()),
            Arc::new(KvStats::default()),
            Arc::new(DtCache::new(1 << 20)),
        )
        .unwrap();
        assert_eq!(vnode.read(&key).unwrap(), Some(obj(b"a", 1)));
        assert_eq!(store.get(&keys::to_wire(&key)).unwrap(), None);
    }

    #[test]
    fn read_replicas_answers_as_read_object_does() {
        let backend = rill_storage::memory();
        let stores: Vec<_> = (0..5)
            .map(|i| backend.store(&format!("kv.{i}")).unwrap())
            .collect();
        let (a, b) = (obj(b"a", 1), obj(b"b", 2));
        let key = b"k";
        stores[0].put(key, &encode_object(&a)).unwrap();
        stores[1].put(key, &encode_object(&a)).unwrap();
        stores[2].put(key, &encode_object(&b)).unwrap();
        stores[3].put(key, b"\x01garbage").unwrap();
        let stats = KvStats::default();
        let got = read_replicas(stores.iter().map(|s| (s.as_ref(), 7)), key, &stats);
        let want: Vec<_> = stores
            .iter()
            .map(|s| read_object(s.as_ref(), key, 7, &stats).ok())
            .collect();
        assert_eq!(
            got.iter()
                .map(|r| r.as_ref().ok().cloned())
                .collect::<Vec<_>>(),
            want
        );
        assert_eq!(
            want[..3],
            [Some(Some(a.clone())), Some(Some(a)), Some(Some(b))]
        );
        assert!(matches!(got[3], Err(KvError::Corrupt(_))));
        assert_eq!(got[4].as_ref().ok(), Some(&None));
    }

    #[test]
    fn cached_replicas_answer_only_when_every_replica_is_at_hand() {
        let backend = rill_storage::memory();
        let stores: Vec<_> = (0..3)
            .map(|i| backend.store(&format!("kv.{i}")).unwrap())
            .collect();
        let (a, b) = (obj(b"a", 1), obj(b"b", 2));
        let key = b"k";
        stores[0].put(key, &encode_record(&a)).unwrap();
        stores[1].put(key, &encode_record(&b)).unwrap();
        let stats = KvStats::default();
        let all = |n: usize| stores[..n].iter().map(|s| (s.as_ref(), 7));
        let got = cached_replicas(all(2), key, &stats).expect("both at hand");
        let got: Vec<_> = got.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(got, [Some(a), Some(b)]);
        // The memory store has nothing at hand for a missing key: `None`
        // sends the read to `read_replicas`, which reports it missing.
        assert!(cached_replicas(all(3), key, &stats).is_none());
    }
}

#[cfg(test)]
mod early_tests;
