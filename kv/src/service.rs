//! The KV service of one node: the entry point the HTTP and PB servers call.
//!
//! It resolves bucket properties, builds preference lists from the ring and
//! runs the get/put/delete coordinators; vnodes do the storage work.
//! (riak_client in Riak.) Cheap to clone.

use crate::bucket::{BucketProps, PbProps};
use crate::config::KvConfig;
use crate::error::{KvError, Result};
use crate::request::*;
use crate::stats::KvStats;
use crate::types::BucketTypes;
use crate::vnode::{KvCommand, KvVnode, Reply};
use arc_swap::ArcSwap;
use rill_core::apl::PrefEntry;
use rill_core::clock::{Clock, SystemClock};
use rill_core::vnode::VnodeManager;
use rill_core::{PartitionId, Ring};
use rill_storage::Backend;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A change to bucket or type properties, as either wire sends it.
#[derive(Debug, Clone)]
pub enum PropsUpdate {
    /// The inner object of HTTP's `{"props":{...}}`.
    Json(serde_json::Value),
    Pb(Box<PbProps>),
}

impl PropsUpdate {
    fn apply(
        &self,
        p: &BucketProps,
    ) -> std::result::Result<BucketProps, crate::bucket::PropsError> {
        match self {
            PropsUpdate::Json(v) => p.apply_json_update(v),
            PropsUpdate::Pb(pb) => p.apply_pb_update(pb),
        }
    }
}

/// Riak's bucket type life cycle (ready = created and seen by every node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeStatus {
    Created,
    Ready,
    Active,
}

impl TypeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TypeStatus::Created => "created",
            TypeStatus::Ready => "ready",
            TypeStatus::Active => "active",
        }
    }
}

/// Batches of names, streamed as the coverage fold finds them.
pub type NameStream = mpsc::Receiver<Result<Vec<Vec<u8>>>>;

/// Tells whether a node is up.
pub type NodeWatcher = Box<dyn Fn(&str) -> bool + Send + Sync>;

pub(crate) struct Inner {
    pub cfg: Arc<KvConfig>,
    pub ring: ArcSwap<Ring>,
    /// Which nodes are up; one node: only itself until a cluster says more.
    pub watcher: ArcSwap<NodeWatcher>,
    pub vnodes: VnodeManager<KvVnode>,
    pub backend: Arc<dyn Backend>,
    pub types: BucketTypes,
    pub stats: Arc<KvStats>,
    /// Local vnodes' stores, for gets that skip the vnode threads.
    pub read_stores: Arc<crate::vnode::ReadStores>,
    pub read_pool: crate::read_pool::ReadPool,
    pub clock: Arc<dyn Clock>,
    /// The node-to-node RPC endpoint once this node is part of a cluster.
    pub rpc: std::sync::OnceLock<rill_core::net::Rpc>,
    pub handoff: std::sync::OnceLock<Arc<crate::handoff::HandoffManager>>,
    /// Set by `shutdown`: no vnode starts again, background loops end.
    pub closed: std::sync::atomic::AtomicBool,
    /// Wakes background loops at shutdown.
    pub closing: tokio::sync::Notify,
}

#[derive(Clone)]
pub struct KvService {
    pub(crate) inner: Arc<Inner>,
}

/// Runs blocking work (storage, metadata writes) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| KvError::Storage(format!("blocking task failed: {e}")))?
}

impl KvService {
    /// Opens the service on `backend` and starts a vnode for every partition
    /// this node owns. Blocking (opens storage).
    pub fn open(cfg: KvConfig, backend: Arc<dyn Backend>) -> Result<KvService> {
        Self::open_with_clock(cfg, backend, Arc::new(SystemClock))
    }

    pub fn open_with_clock(
        cfg: KvConfig,
        backend: Arc<dyn Backend>,
        clock: Arc<dyn Clock>,
    ) -> Result<KvService> {
        let cfg = Arc::new(cfg);
        let ring = Arc::new(match &cfg.initial_ring {
            Some(r) => r.clone(),
            None => Ring::new(cfg.ring_size, &cfg.node_name)
                .map_err(|e| KvError::BadRequest(e.to_string()))?,
        });
        let types = BucketTypes::load(backend.store("meta")?)?;
        let stats = Arc::new(KvStats::default());
        let dt_cache = Arc::new(crate::vnode::DtCache::new(cfg.dt_cache_bytes));
        let read_stores = Arc::new(crate::vnode::ReadStores::default());
        let read_pool = crate::read_pool::ReadPool::new(match cfg.read_threads {
            0 => rill_core::vnode::two_per_core(),
            n => n,
        });
        // Open every vnode's store first so a storage failure stops start-up.
        let mut opened = std::collections::HashMap::new();
        // Owned partitions, plus any whose data is still here (fallback data
        // or a transfer cut short by a restart): handoff sends it home.
        let mut partitions = ring.partitions_of(&cfg.node_name);
        for name in backend.store_names()? {
            if let Some(p) = name.strip_prefix("kv.").and_then(|p| p.parse().ok())
                && p < ring.size()
                && !partitions.contains(&p)
            {
                partitions.push(p);
            }
        }
        // One way to start a vnode, at start-up and later (fallback,
        // handoff): open its store, open the vnode (which migrates its keys,
        // 0015), and only then let reads go to the store.
        let open_vnode = {
            let (cfg, backend, stats) = (cfg.clone(), backend.clone(), stats.clone());
            let (dt_cache, read_stores) = (dt_cache.clone(), read_stores.clone());
            move |p: PartitionId| -> Result<KvVnode> {
                let store = backend.store(&format!("kv.{p}"))?;
                let v = KvVnode::open(
                    p,
                    store.clone(),
                    cfg.clone(),
                    stats.clone(),
                    dt_cache.clone(),
                )?;
                read_stores.insert(p, store);
                Ok(v)
            }
        };
        for &p in &partitions {
            opened.insert(p, open_vnode(p)?);
        }
        let opened = std::sync::Mutex::new(opened);
        let manager = VnodeManager::new(
            move |p: PartitionId| {
                if let Some(v) = opened.lock().expect("vnode start lock").remove(&p) {
                    return Ok(v);
                }
                open_vnode(p).map_err(|e| e.to_string())
            },
            rill_core::vnode::VnodeConfig {
                ring_size: cfg.ring_size,
                // The vnodes' writes are applied on their own workers.
                hooks: rill_core::vnode::WorkerHooks {
                    start: rill_storage::defer_commits,
                    idle: rill_storage::commit_deferred,
                },
                ..cfg.vnode.clone()
            },
        );
        for p in partitions {
            manager.ensure_started(p);
        }
        Ok(KvService {
            inner: Arc::new(Inner {
                watcher: ArcSwap::from_pointee(Box::new({
                    let me = cfg.node_name.clone();
                    move |n: &str| n == me
                })),
                cfg,
                ring: ArcSwap::new(ring),
                vnodes: manager,
                backend,
                types,
                stats,
                read_stores,
                read_pool,
                clock,
                rpc: std::sync::OnceLock::new(),
                handoff: std::sync::OnceLock::new(),
                closed: std::sync::atomic::AtomicBool::new(false),
                closing: tokio::sync::Notify::new(),
            }),
        })
    }

    /// Stops every vnode after it drained its mailbox, then syncs storage.
    pub fn shutdown(&self) {
        self.inner
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.inner.closing.notify_waiters();
        if let Some(rpc) = self.inner.rpc.get() {
            rpc.unregister(rill_core::net::service::KV);
        }
        self.inner.read_pool.close();
        self.inner.vnodes.shutdown();
        if let Err(e) = self.inner.backend.sync() {
            tracing::warn!(error = %e, "final storage sync failed");
        }
    }

    pub async fn get(&self, key: BucketKey, opts: GetOptions) -> Result<GetResult> {
        self.inner.stats.node_gets.incr();
        let t0 = Instant::now();
        let r = crate::get::fsm::execute(&self.inner, key, opts).await;
        timed(&self.inner.stats.get_fsm_time, t0, r)
    }

    pub async fn put(&self, req: PutRequest) -> Result<PutResult> {
        self.inner.stats.node_puts.incr();
        let t0 = Instant::now();
        let r = crate::put::fsm::execute(&self.inner, req).await;
        timed(&self.inner.stats.put_fsm_time, t0, r)
    }

    /// The data type under a key, joined from the replicas (Riak's
    /// `DtFetchReq`); `value` is None when nothing is stored.
    pub async fn dt_fetch(
        &self,
        key: BucketKey,
        opts: GetOptions,
    ) -> Result<crate::dt::DtFetchResult> {
        self.inner.stats.node_gets.incr();
        let t0 = Instant::now();
        let r = crate::dt::fetch::execute(&self.inner, key, opts).await;
        timed(&self.inner.stats.get_fsm_time, t0, r)
    }

    /// Applies a data type operation (Riak's `DtUpdateReq`).
    pub async fn dt_update(
        &self,
        req: crate::dt::DtUpdateRequest,
    ) -> Result<crate::dt::DtUpdateResult> {
        self.inner.stats.node_puts.incr();
        let t0 = Instant::now();
        let r = crate::dt::update::execute(&self.inner, req).await;
        timed(&self.inner.stats.put_fsm_time, t0, r)
    }

    pub async fn delete(&self, req: DeleteRequest) -> Result<DeleteOutcome> {
        self.inner.stats.node_deletes.incr();
        crate::delete::execute(&self.inner, req).await
    }

    pub async fn list_buckets(
        &self,
        bucket_type: &[u8],
        timeout: Option<Duration>,
    ) -> Result<NameStream> {
        self.inner.types.type_props(bucket_type)?;
        Ok(crate::list::buckets(&self.inner, bucket_type, timeout))
    }

    pub async fn list_keys(
        &self,
        bucket_type: &[u8],
        bucket: &[u8],
        timeout: Option<Duration>,
    ) -> Result<NameStream> {
        let props = self.inner.types.props(bucket_type, bucket)?;
        Ok(crate::list::keys(
            &self.inner,
            bucket_type,
            bucket,
            props.n_val,
            timeout,
        ))
    }

    pub async fn bucket_props(&self, bucket_type: &[u8], bucket: &[u8]) -> Result<BucketProps> {
        self.inner.types.props(bucket_type, bucket)
    }

    pub async fn set_bucket_props(
        &self,
        bucket_type: &[u8],
        bucket: &[u8],
        update: PropsUpdate,
    ) -> Result<()> {
        let inner = self.inner.clone();
        let (t, b) = (bucket_type.to_vec(), bucket.to_vec());
        blocking(move || inner.types.update_bucket(&t, &b, |p| update.apply(p))).await
    }

    pub async fn reset_bucket_props(&self, bucket_type: &[u8], bucket: &[u8]) -> Result<()> {
        let inner = self.inner.clone();
        let (t, b) = (bucket_type.to_vec(), bucket.to_vec());
        blocking(move || inner.types.reset_bucket(&t, &b)).await
    }

    pub async fn type_props(&self, bucket_type: &[u8]) -> Result<BucketProps> {
        self.inner.types.type_props(bucket_type)
    }

    pub async fn set_type_props(&self, bucket_type: &[u8], update: PropsUpdate) -> Result<()> {
        let inner = self.inner.clone();
        let name = String::from_utf8_lossy(bucket_type).into_owned();
        blocking(move || inner.types.update_type(&name, |p| update.apply(p))).await
    }

    pub async fn create_type(&self, name: &str, props: PropsUpdate) -> Result<()> {
        let props = match &props {
            PropsUpdate::Json(v) => BucketProps::create_type_from_json(v),
            PropsUpdate::Pb(pb) => BucketProps::new_type_defaults().apply_pb_update(pb),
        }
        .map_err(KvError::InvalidProps)?;
        let inner = self.inner.clone();
        let name = name.to_string();
        blocking(move || inner.types.create(&name, props)).await
    }

    pub async fn activate_type(&self, name: &str) -> Result<()> {
        let inner = self.inner.clone();
        let name = name.to_string();
        blocking(move || inner.types.activate(&name)).await
    }

    /// None when no such type exists.
    pub async fn type_status(&self, name: &str) -> Result<Option<TypeStatus>> {
        Ok(self.inner.types.status(name))
    }

    pub async fn list_types(&self) -> Result<Vec<(String, TypeStatus)>> {
        Ok(self.inner.types.list())
    }

    /// A key's annotated preference list as requests use it now: the up
    /// primaries, then fallbacks for the primaries that are down (Riak
    /// 2.1's preflist API).
    pub async fn preflist(&self, key: &BucketKey) -> Result<Vec<PrefEntry>> {
        let props = self.inner.types.props(&key.bucket_type, &key.bucket)?;
        Ok(crate::get::fsm::preflist(
            &self.inner,
            key,
            props.n_val,
            true,
        ))
    }

    /// Each primary replica's own copy of an object, read without merging
    /// or repair: for operators and consistency checks.
    pub async fn replica_objects(
        &self,
        key: &BucketKey,
    ) -> Result<Vec<(PrefEntry, Result<Option<crate::object::RiakObject>>)>> {
        let props = self.inner.types.props(&key.bucket_type, &key.bucket)?;
        let stored = crate::keys::object_key(key)?;
        let ring = self.inner.ring();
        let first = ring.partition_of(&rill_core::chash::key_hash(
            &key.bucket_type,
            &key.bucket,
            &key.key,
        ));
        let mut out = Vec::new();
        for e in rill_core::apl::primaries(&ring, first, props.n_val as usize) {
            let k = stored.clone();
            let r = self
                .inner
                .call(&e, |reply| KvCommand::Get { key: k, reply })
                .await;
            out.push((e, r));
        }
        Ok(out)
    }

    /// Whether `shutdown` was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The partitions this node runs a vnode for (owned and fallback).
    pub fn running_vnodes(&self) -> Vec<PartitionId> {
        self.inner.vnodes.running()
    }

    pub fn node_name(&self) -> &str {
        &self.inner.cfg.node_name
    }

    pub fn ring(&self) -> Arc<Ring> {
        self.inner.ring()
    }

    /// Installs a new ring (from the cluster layer) and starts a vnode for
    /// every partition this node now owns.
    pub fn set_ring(&self, ring: Ring) {
        for p in ring.partitions_of(&self.inner.cfg.node_name) {
            self.inner.vnodes.ensure_started(p);
        }
        self.inner.ring.store(Arc::new(ring));
    }

    /// Joins the node-to-node network: serves KV requests from other nodes
    /// and reaches their vnodes. Once only.
    pub fn attach_rpc(&self, rpc: rill_core::net::Rpc) {
        crate::remote::register(Arc::downgrade(&self.inner), &rpc);
        let _ = self.inner.rpc.set(rpc);
    }

    /// Installs the cluster's view of which nodes are up.
    pub fn set_node_watcher(&self, is_up: impl Fn(&str) -> bool + Send + Sync + 'static) {
        self.inner.watcher.store(Arc::new(Box::new(is_up)));
    }

    pub fn config(&self) -> &KvConfig {
        &self.inner.cfg
    }

    /// Riak-named statistics (`node_gets`, `vnode_puts_total`, …).
    pub fn stats(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = self.inner.stats.to_json();
        let ring = self.inner.ring();
        m.insert("nodename".into(), self.inner.cfg.node_name.clone().into());
        m.insert("ring_num_partitions".into(), ring.size().into());
        m.insert("ring_creation_size".into(), ring.size().into());
        m.insert("ring_members".into(), ring.members().into());
        m.insert(
            "connected_nodes".into(),
            serde_json::Value::Array(Vec::new()),
        );
        m.insert("storage_backend".into(), self.inner.backend.name().into());
        if let Some(c) = self.inner.backend.row_cache_stats() {
            m.insert("rill_row_cache_hits_total".into(), c.hits.into());
            m.insert("rill_row_cache_misses_total".into(), c.misses.into());
            m.insert("rill_row_cache_entries".into(), c.entries.into());
            m.insert("rill_row_cache_bytes".into(), c.bytes.into());
            m.insert(
                "rill_row_cache_capacity_bytes".into(),
                c.capacity_bytes.into(),
            );
        }
        if let Some(c) = self.inner.backend.commit_stats() {
            m.insert("rill_storage_batches_total".into(), c.batches.into());
            m.insert(
                "rill_storage_stalled_batches_total".into(),
                c.stalled.into(),
            );
            m.insert("rill_storage_stalled_us_total".into(), c.stalled_us.into());
        }
        m.insert(
            "vnodes_running".into(),
            self.inner.vnodes.running().len().into(),
        );
        m
    }
}

impl Inner {
    pub fn ring(&self) -> Arc<Ring> {
        self.ring.load_full()
    }

    /// Whether a node is up, as the cluster layer sees it.
    pub fn is_up(&self, node: &str) -> bool {
        node == self.cfg.node_name || (self.watcher.load())(node)
    }

    /// Sends a command to the vnode at `entry` (here or on another node)
    /// and awaits its reply.
    pub async fn call<T>(
        self: &Arc<Self>,
        entry: &PrefEntry,
        make: impl FnOnce(Reply<T>) -> KvCommand,
    ) -> Result<T> {
        let (reply, rx) = Reply::channel();
        if entry.node != self.cfg.node_name {
            let rpc = self
                .rpc
                .get()
                .ok_or_else(|| KvError::Storage(format!("node {} unreachable", entry.node)))?;
            let timeout = self.cfg.default_timeout;
            crate::remote::forward(timeout, rpc.clone(), entry.clone(), make(reply)).await;
            return rx.await.map_err(|_| KvError::ShuttingDown)?;
        }
        // A fallback vnode starts on first use.
        if !self.vnodes.is_running(entry.partition) {
            self.start_vnode(entry.partition).await?;
        }
        if let Err((e, _)) = self.send_local(entry.partition, make(reply)) {
            return Err(e);
        }
        rx.await.map_err(|_| KvError::ShuttingDown)?
    }

    /// Queues a command for this node's vnode of `partition` without
    /// waiting (callable from a vnode's worker); a refused command comes
    /// back with the reason, a full mailbox counted as a dropped request.
    // The refused command comes back as it was moved in (commands are not
    // boxed on the hot path, see `KvCommand`).
    #[allow(clippy::result_large_err)]
    pub(crate) fn send_local(
        &self,
        partition: PartitionId,
        cmd: KvCommand,
    ) -> std::result::Result<(), (KvError, KvCommand)> {
        self.vnodes.try_send(partition, cmd).map_err(|(e, cmd)| {
            if e == rill_core::CoreError::Overload {
                self.stats.overloads.incr();
            }
            (e.into(), cmd)
        })
    }

    /// Starts this node's vnode for `p` (opening its store blocks, so off
    /// the async workers).
    pub async fn start_vnode(self: &Arc<Self>, p: PartitionId) -> Result<()> {
        if self.is_closed() {
            return Err(KvError::ShuttingDown);
        }
        let inner = self.clone();
        let started = tokio::task::spawn_blocking(move || inner.vnodes.ensure_started(p))
            .await
            .unwrap_or(false);
        if started {
            Ok(())
        } else {
            Err(KvError::Storage(format!("cannot start vnode {p}")))
        }
    }

    /// Sends a command that expects no reply.
    pub fn cast(self: &Arc<Self>, entry: &PrefEntry, cmd: KvCommand) {
        if entry.node == self.cfg.node_name {
            if self.vnodes.is_running(entry.partition) {
                let _ = self.vnodes.send(entry.partition, cmd);
                return;
            }
            let inner = self.clone();
            let p = entry.partition;
            tokio::spawn(async move {
                if inner.start_vnode(p).await.is_ok() {
                    let _ = inner.vnodes.send(p, cmd);
                }
            });
        } else if let Some(rpc) = self.rpc.get() {
            crate::remote::forward_command(self, rpc.clone(), entry.clone(), cmd);
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn timeout(&self, t: Option<Duration>) -> Duration {
        t.unwrap_or(self.cfg.default_timeout)
    }
}

/// Records how long a coordinated request took, when it succeeded: a failed
/// one (a timeout, too few replicas) would mix the timeout into the figures.
fn timed<T>(timer: &crate::stats::Timer, t0: Instant, r: Result<T>) -> Result<T> {
    if r.is_ok() {
        timer.record(t0.elapsed());
    }
    r
}
