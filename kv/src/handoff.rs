//! Handoff: moving a vnode's data to another node.
//!
//! Ownership handoff sends a partition to its next owner after a committed
//! plan; hinted handoff returns what a fallback vnode stored for a primary
//! that was down. Both stream the vnode's records in batches, each
//! acknowledged by the receiver before the next is sent (back-pressure);
//! writes that reach the sending vnode meanwhile are forwarded too, and the
//! sender drops its copy only after everything was acknowledged. A failed
//! transfer resumes from the last acknowledged key. What to move is decided
//! by `plan`, a pure function; the manager only runs the jobs.

use crate::error::{KvError, Result};
use crate::object::encode_object;
use crate::remote::{self, KvWire, WireKey};
use crate::service::Inner;
use crate::vnode::{Forwarder, KvCommand};
use rill_core::apl::PrefEntry;
use rill_core::{NodeName, PartitionId};
use serde::Serialize;
use serde_bytes::ByteBuf;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// Objects per handoff batch, as riak_core's `handoff_batch_threshold_count`.
const BATCH_ITEMS: usize = 500;
/// Bytes per batch, whichever limit comes first.
const BATCH_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandoffKind {
    Ownership,
    Hinted,
}

/// One partition to move.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Job {
    pub partition: PartitionId,
    pub target: NodeName,
    pub kind: HandoffKind,
}

/// What the handoff manager sees of the cluster.
pub struct View<'a> {
    pub me: &'a str,
    pub owners: &'a [NodeName],
    /// Pending ownership transfers `(partition, from, to)` of the committed plan.
    pub next: &'a [(PartitionId, NodeName, NodeName)],
    /// Transfers already reported complete.
    pub completed: &'a HashSet<PartitionId>,
    pub running: &'a [PartitionId],
    pub active: &'a HashSet<PartitionId>,
    pub limit: usize,
}

/// The transfers to start now (pure). Ownership transfers first; then a
/// vnode this node runs for a partition it does not own (a fallback, or an
/// old owner whose transfer finished) goes back to the partition's owner.
pub fn plan(view: &View, is_up: impl Fn(&str) -> bool) -> Vec<Job> {
    let mut jobs = Vec::new();
    let room = view.limit.saturating_sub(view.active.len());
    for (p, from, to) in view.next {
        if from == view.me && !view.completed.contains(p) && !view.active.contains(p) && is_up(to) {
            jobs.push(Job {
                partition: *p,
                target: to.clone(),
                kind: HandoffKind::Ownership,
            });
        }
    }
    for p in view.running {
        let owner = &view.owners[*p as usize];
        let incoming = view.next.iter().any(|(q, _, to)| q == p && to == view.me);
        let outgoing = view
            .next
            .iter()
            .any(|(q, from, _)| q == p && from == view.me);
        if owner != view.me && !incoming && !outgoing && !view.active.contains(p) && is_up(owner) {
            jobs.push(Job {
                partition: *p,
                target: owner.clone(),
                kind: HandoffKind::Hinted,
            });
        }
    }
    jobs.truncate(room);
    jobs
}

/// Progress of one transfer, for `rill admin transfers`.
#[derive(Debug, Clone, Serialize)]
pub struct TransferStatus {
    pub partition: PartitionId,
    pub target: NodeName,
    pub kind: HandoffKind,
    pub started_unix_ms: u64,
    pub objects: u64,
    pub bytes: u64,
}

type OnComplete = Arc<dyn Fn(PartitionId, &str) + Send + Sync>;

pub struct HandoffManager {
    inner: Weak<Inner>,
    active: Mutex<BTreeMap<PartitionId, TransferStatus>>,
    /// Last acknowledged key per partition and target, to resume a failed
    /// transfer (to the same target only: another has none of the keys).
    resume: Mutex<HashMap<(PartitionId, NodeName), Vec<u8>>>,
    /// Ownership transfers this node finished (the claimant flips them).
    completed: Mutex<HashSet<PartitionId>>,
    on_complete: OnComplete,
    pub limit: usize,
}

fn now_ms() -> u64 {
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl HandoffManager {
    pub(crate) fn new(inner: Weak<Inner>, on_complete: OnComplete, limit: usize) -> Arc<Self> {
        Arc::new(HandoffManager {
            inner,
            active: Mutex::new(BTreeMap::new()),
            resume: Mutex::new(HashMap::new()),
            completed: Mutex::new(HashSet::new()),
            on_complete,
            limit,
        })
    }

    pub fn transfers(&self) -> Vec<TransferStatus> {
        self.active
            .lock()
            .expect("handoff lock")
            .values()
            .cloned()
            .collect()
    }

    /// Starts what `plan` says, given the pending transfers of the ring.
    pub(crate) fn tick(self: &Arc<Self>, next: &[(PartitionId, NodeName, NodeName)]) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let ring = inner.ring();
        let me = inner.cfg.node_name.clone();
        // Ownership moved away after a completed transfer: drop the old copy.
        let finished: Vec<PartitionId> = {
            let completed = self.completed.lock().expect("handoff lock");
            completed
                .iter()
                .copied()
                .filter(|p| *ring.owner(*p) != me && !next.iter().any(|(q, _, _)| q == p))
                .collect()
        };
        for p in finished {
            self.completed.lock().expect("handoff lock").remove(&p);
            drop_vnode(&inner, p);
        }
        let running = inner.vnodes.running();
        let active: HashSet<PartitionId> = self
            .active
            .lock()
            .expect("handoff lock")
            .keys()
            .copied()
            .collect();
        let completed = self.completed.lock().expect("handoff lock").clone();
        let jobs = plan(
            &View {
                me: &me,
                owners: ring.owners_vec(),
                next,
                completed: &completed,
                running: &running,
                active: &active,
                limit: self.limit,
            },
            |n| inner.is_up(n),
        );
        for job in jobs {
            self.active.lock().expect("handoff lock").insert(
                job.partition,
                TransferStatus {
                    partition: job.partition,
                    target: job.target.clone(),
                    kind: job.kind,
                    started_unix_ms: now_ms(),
                    objects: 0,
                    bytes: 0,
                },
            );
            let me = self.clone();
            let inner = inner.clone();
            tokio::spawn(async move {
                let result = me.run(&inner, &job).await;
                me.active
                    .lock()
                    .expect("handoff lock")
                    .remove(&job.partition);
                match result {
                    Ok(()) => me.finish(&inner, &job),
                    Err(e) => {
                        tracing::warn!(partition = job.partition, target = %job.target, error = %e, "handoff failed; will resume");
                        // A vnode left with a dropped store is restarted fresh.
                        if matches!(e, KvError::StoreDropped(_)) {
                            let inner = inner.clone();
                            let p = job.partition;
                            tokio::task::spawn_blocking(move || inner.vnodes.stop(p));
                        }
                    }
                }
            });
        }
    }

    fn finish(&self, inner: &Arc<Inner>, job: &Job) {
        self.forget_resume_point(job);
        tracing::info!(partition = job.partition, target = %job.target, kind = ?job.kind, "handoff complete");
        match job.kind {
            HandoffKind::Ownership => {
                self.completed
                    .lock()
                    .expect("handoff lock")
                    .insert(job.partition);
                (self.on_complete)(job.partition, &job.target);
            }
            HandoffKind::Hinted => drop_vnode(inner, job.partition),
        }
    }

    /// The last key `job`'s target acknowledged in an earlier attempt.
    fn resume_point(&self, job: &Job) -> Option<Vec<u8>> {
        self.resume
            .lock()
            .expect("handoff lock")
            .get(&resume_key(job))
            .cloned()
    }

    fn forget_resume_point(&self, job: &Job) {
        self.resume
            .lock()
            .expect("handoff lock")
            .remove(&resume_key(job));
    }

    fn progress(&self, p: PartitionId, objects: usize, bytes: usize) {
        if let Some(s) = self.active.lock().expect("handoff lock").get_mut(&p) {
            s.objects += objects as u64;
            s.bytes += bytes as u64;
        }
    }

    async fn run(&self, inner: &Arc<Inner>, job: &Job) -> Result<()> {
        let rpc = inner
            .rpc
            .get()
            .cloned()
            .ok_or_else(|| KvError::Storage("no cluster network".into()))?;
        let local = PrefEntry {
            partition: job.partition,
            node: inner.cfg.node_name.clone(),
            primary: true,
        };
        inner.cast(
            &local,
            KvCommand::HandoffStart {
                forward: forwarder(rpc.clone(), job, inner.cfg.default_timeout),
            },
        );
        let store = inner
            .call(&local, |reply| KvCommand::Store { reply })
            .await?;
        let start = self.resume_point(job);
        let (tx, mut rx) = mpsc::channel::<Result<Batch>>(2);
        tokio::task::spawn_blocking(move || read_batches(store.as_ref(), start, tx));
        let timeout = inner.cfg.default_timeout;
        while let Some(batch) = rx.recv().await {
            let batch = batch?;
            let last = batch.last().map(|(k, _)| k.clone());
            let bytes: usize = batch.iter().map(|(k, v)| k.len() + v.len()).sum();
            let n = batch.len();
            let msg = KvWire::Handoff {
                partition: job.partition,
                items: batch
                    .into_iter()
                    .map(|(k, v)| (WireKey::from_stored(&k), ByteBuf::from(v)))
                    .collect(),
            };
            remote::call(&rpc, &job.target, &msg, timeout).await?;
            self.progress(job.partition, n, bytes);
            if let Some(k) = last {
                self.resume
                    .lock()
                    .expect("handoff lock")
                    .insert(resume_key(job), k);
            }
        }
        let forward_failed = inner
            .call(&local, |reply| KvCommand::HandoffEnd {
                reply,
                retire: job.kind == HandoffKind::Hinted,
            })
            .await?;
        if forward_failed {
            // A write forwarded during the transfer was lost: send it all again.
            self.forget_resume_point(job);
            return Err(KvError::Storage("a forwarded write failed".into()));
        }
        Ok(())
    }
}

/// A resume point holds for one receiver only: another has none of the keys.
fn resume_key(job: &Job) -> (PartitionId, NodeName) {
    (job.partition, job.target.clone())
}

/// Sends each write made during a handoff to the receiving vnode too.
fn forwarder(rpc: rill_core::net::Rpc, job: &Job, timeout: Duration) -> Forwarder {
    let (partition, target) = (job.partition, job.target.clone());
    // The forwarder runs on the vnode's worker thread, outside the runtime.
    let runtime = tokio::runtime::Handle::current();
    Forwarder {
        send: Arc::new(move |key, obj, done| {
            let rpc = rpc.clone();
            let target = target.clone();
            let msg = KvWire::Handoff {
                partition,
                items: vec![(
                    WireKey::from_stored(&key),
                    ByteBuf::from(encode_object(&obj)),
                )],
            };
            runtime.spawn(async move {
                done(remote::call(&rpc, &target, &msg, timeout).await.is_ok());
            });
        }),
    }
}

type Batch = Vec<(Vec<u8>, Vec<u8>)>;

/// Reads the store's object records in key order, after `start`, in batches.
fn read_batches(
    store: &dyn rill_storage::Store,
    start: Option<Vec<u8>>,
    tx: mpsc::Sender<Result<Batch>>,
) {
    let first = vec![crate::keys::OBJECTS_START];
    let from = match start {
        Some(k) => Bound::Excluded(k),
        None => Bound::Included(first),
    };
    let mut batch = Vec::new();
    let mut bytes = 0;
    for item in store.range(from, Bound::Unbounded) {
        match item {
            Ok((k, v)) => {
                // The receiver may run an older version: send the wire form.
                let v = crate::object::to_wire(v);
                bytes += k.len() + v.len();
                batch.push((k, v));
                if batch.len() >= BATCH_ITEMS || bytes >= BATCH_BYTES {
                    bytes = 0;
                    if tx.blocking_send(Ok(std::mem::take(&mut batch))).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e.into()));
                return;
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Ok(batch));
    }
}

/// Stops a vnode this node no longer needs and drops its data.
fn drop_vnode(inner: &Arc<Inner>, p: PartitionId) {
    let inner = inner.clone();
    tokio::task::spawn_blocking(move || {
        // Stopped either way: a vnode that still serves restarts on its
        // data without the handoff's forwarding. A request restarting it
        // meanwhile waits, and then opens a fresh store, not this one.
        inner.vnodes.stop_and(p, || {
            if *inner.ring().owner(p) == inner.cfg.node_name {
                // The partition became this node's meanwhile: keep the data.
                return;
            }
            inner.read_stores.remove(p);
            if let Err(e) = inner.backend.drop_store(&format!("kv.{p}")) {
                tracing::warn!(partition = p, error = %e, "dropping handed-off vnode data failed");
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handoff_sends_stored_records_in_the_wire_form() {
        use crate::object::{Actor, Content, Metadata, RiakObject, VClock, encode_record};
        let obj = RiakObject::coordinate_put(
            None,
            &VClock::new(),
            Content::new(b"v".to_vec(), Metadata::default()),
            Actor(1),
        );
        let backend = rill_storage::memory();
        let store = backend.store("kv.0").unwrap();
        let key = crate::keys::object_key(&crate::request::BucketKey::new(b"default", b"b", b"k"))
            .unwrap();
        store.put(&key, &encode_record(&obj)).unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        read_batches(store.as_ref(), None, tx);
        let batch = rx.try_recv().unwrap().unwrap();
        assert_eq!(batch, vec![(key, encode_object(&obj))]);
    }

    fn owners(v: &[&str]) -> Vec<NodeName> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ownership_transfers_come_first_and_respect_the_limit() {
        let owners = owners(&["a", "a", "a", "a"]);
        let next = vec![
            (0, "a".to_string(), "b".to_string()),
            (1, "a".to_string(), "b".to_string()),
            (2, "a".to_string(), "c".to_string()),
        ];
        let view = View {
            me: "a",
            owners: &owners,
            next: &next,
            completed: &HashSet::new(),
            running: &[0, 1, 2, 3],
            active: &HashSet::new(),
            limit: 2,
        };
        let jobs = plan(&view, |_| true);
        assert_eq!(jobs.len(), 2);
        assert!(jobs.iter().all(|j| j.kind == HandoffKind::Ownership));
        // A target that is down waits.
        let jobs = plan(&view, |n| n != "b");
        assert_eq!(
            jobs.iter().map(|j| j.partition).collect::<Vec<_>>(),
            vec![2]
        );
    }

    #[test]
    fn fallback_data_goes_home_when_the_owner_is_up() {
        let owners = owners(&["a", "b", "a", "b"]);
        let view = View {
            me: "a",
            owners: &owners,
            next: &[],
            completed: &HashSet::new(),
            running: &[0, 1, 2],
            active: &HashSet::new(),
            limit: 2,
        };
        let jobs = plan(&view, |_| true);
        assert_eq!(
            jobs,
            vec![Job {
                partition: 1,
                target: "b".into(),
                kind: HandoffKind::Hinted
            }]
        );
        assert!(plan(&view, |n| n != "b").is_empty());
    }

    #[test]
    fn incoming_partitions_and_finished_ones_are_left_alone() {
        let owners = owners(&["b", "b"]);
        let next = vec![(0, "b".to_string(), "a".to_string())];
        let completed: HashSet<PartitionId> = [1].into_iter().collect();
        let active: HashSet<PartitionId> = HashSet::new();
        let view = View {
            me: "a",
            owners: &owners,
            next: &next,
            completed: &completed,
            running: &[0],
            active: &active,
            limit: 2,
        };
        assert!(plan(&view, |_| true).is_empty());
    }
}
