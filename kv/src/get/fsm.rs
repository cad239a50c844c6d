//! The get coordinator (riak_kv_get_fsm): ask every replica in the
//! preference list, answer once `GetCore` has enough, then finish reading
//! in the background and repair the replicas that were stale or missing.

use super::core::{GetCore, GetOutcome, ReplicaReply};
use crate::bucket::{BucketProps, Quorum};
use crate::error::{KvError, Result};
use crate::keys;
use crate::object::RiakObject;
use crate::request::{BucketKey, GetOptions, GetResult};
use crate::service::Inner;
use crate::vnode::{KvCommand, PutOp};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use rill_core::apl::{self, PrefEntry};
use rill_core::chash;
use std::sync::Arc;
use tokio::time::Instant;

/// The resolved request parameters.
pub(crate) struct GetPlan {
    pub key: Vec<u8>,
    pub preflist: Vec<PrefEntry>,
    pub r: u32,
    pub pr: u32,
}

/// n_val of a request: the bucket's, or a smaller one asked for.
pub(crate) fn request_n(props: &BucketProps, asked: Option<u32>) -> Result<u32> {
    match asked {
        Some(n) if n == 0 || n > props.n_val => Err(KvError::BadRequest(format!(
            "n_val {n} must be between 1 and the bucket's n_val {}",
            props.n_val
        ))),
        Some(n) => Ok(n),
        None => Ok(props.n_val),
    }
}

pub(crate) fn preflist(inner: &Inner, bk: &BucketKey, n: u32, sloppy: bool) -> Vec<PrefEntry> {
    let hash = chash::key_hash(&bk.bucket_type, &bk.bucket, &bk.key);
    let ring = inner.ring();
    let first = ring.partition_of(&hash);
    let mut pl = apl::preflist(&ring, first, n as usize, |node| inner.is_up(node));
    if !sloppy {
        pl.retain(|e| e.primary);
    }
    pl
}

pub(crate) fn plan(
    inner: &Inner,
    bk: &BucketKey,
    props: &BucketProps,
    opts: &GetOptions,
) -> Result<GetPlan> {
    let n = request_n(props, opts.n_val)?;
    let r = opts.r.unwrap_or(Quorum::Default).resolve(n, props.r);
    let pr = opts.pr.unwrap_or(Quorum::Default).resolve(n, props.pr);
    if r > n || pr > n {
        return Err(KvError::NValViolation(n));
    }
    let key = keys::object_key(bk)?;
    let preflist = preflist(inner, bk, n, opts.sloppy_quorum.unwrap_or(true));
    if (preflist.len() as u32) < r.max(1) {
        return Err(KvError::InsufficientVnodes {
            got: preflist.len() as u32,
            needed: r.max(1),
        });
    }
    let primaries = preflist.iter().filter(|e| e.primary).count() as u32;
    if pr > primaries {
        return Err(KvError::PrValUnsatisfied {
            needed: pr,
            got: primaries,
        });
    }
    Ok(GetPlan {
        key,
        preflist,
        r,
        pr,
    })
}

/// Run the read and return the core's outcome (shared with delete and put).
pub(crate) async fn read(
    inner: &Arc<Inner>,
    plan: GetPlan,
    props: &BucketProps,
    opts: &GetOptions,
) -> Result<GetOutcome> {
    read_replies(inner, plan, props, opts, false)
        .await
        .map(|(o, _)| o)
}

/// `read`, also returning the objects the replicas answered before the
/// answer was decided when `collect` is set (for the data type fetch).
pub(crate) async fn read_replies(
    inner: &Arc<Inner>,
    plan: GetPlan,
    props: &BucketProps,
    opts: &GetOptions,
    collect: bool,
) -> Result<(GetOutcome, Vec<RiakObject>)> {
    let deadline = Instant::now() + inner.timeout(opts.timeout);
    let primaries = plan.preflist.iter().filter(|e| e.primary).count() as u32;
    let mut core = GetCore::new(
        plan.preflist.len() as u32,
        plan.r,
        plan.pr,
        primaries,
        opts.basic_quorum.unwrap_or(props.basic_quorum),
        opts.notfound_ok.unwrap_or(props.notfound_ok),
        props.allow_mult,
    );
    let mut pending = FuturesUnordered::new();
    let mut direct = Vec::new();
    for (idx, entry) in plan.preflist.iter().cloned().enumerate() {
        let store = (entry.node == inner.cfg.node_name)
            .then(|| inner.read_stores.get(entry.partition))
            .flatten();
        match store {
            Some(store) => direct.push((idx, entry, store)),
            None => pending.push(ask_vnodes(
                inner.clone(),
                vec![(idx, entry)],
                plan.key.clone(),
            )),
        }
    }
    if !direct.is_empty() {
        pending.push(read_directly(inner.clone(), direct, plan.key.clone()));
    }
    while !core.enough() {
        match tokio::time::timeout_at(deadline, pending.next()).await {
            Ok(Some(replies)) => {
                for (idx, primary, reply) in replies {
                    core.add(idx, primary, reply);
                }
            }
            Ok(None) => break,
            Err(_) => return Err(KvError::Timeout),
        }
    }
    let outcome = core.response();
    let found = if collect {
        core.found().cloned().collect()
    } else {
        Vec::new()
    };
    let allow_mult = props.allow_mult;
    if pending.is_empty() {
        // Every replica answered (local reads come in one batch): no task
        // needed to wait for the rest.
        if core.all_replied() {
            read_repair(inner, &plan.key, &plan.preflist, &core, allow_mult);
        }
        return Ok((outcome, found));
    }
    // Finish in the background: the client has its answer already.
    let inner = inner.clone();
    tokio::spawn(async move {
        while let Ok(Some(replies)) = tokio::time::timeout_at(deadline, pending.next()).await {
            for (idx, primary, reply) in replies {
                core.add(idx, primary, reply);
            }
        }
        if core.all_replied() {
            read_repair(&inner, &plan.key, &plan.preflist, &core, allow_mult);
        }
    });
    Ok((outcome, found))
}

/// Replies of replicas, by preference list index.
type Replies = Vec<(usize, bool, ReplicaReply)>;

fn reply_of(r: Result<Option<RiakObject>>) -> ReplicaReply {
    match r {
        Ok(Some(o)) => ReplicaReply::Found(o),
        Ok(None) => ReplicaReply::NotFound,
        Err(e) => ReplicaReply::Error(e),
    }
}

/// Asks each vnode (here or remote) for its object, one at a time.
fn ask_vnodes(
    inner: Arc<Inner>,
    entries: Vec<(usize, PrefEntry)>,
    key: Vec<u8>,
) -> futures_util::future::BoxFuture<'static, Replies> {
    Box::pin(async move {
        let mut out = Vec::with_capacity(entries.len());
        for (idx, entry) in entries {
            let key = key.clone();
            let r = inner
                .call(&entry, |reply| KvCommand::Get { key, reply })
                .await;
            out.push((idx, entry.primary, reply_of(r)));
        }
        out
    })
}

/// Reads the local replicas straight from their stores (`ReadStores`): from
/// the row cache when all are there, else in one job of the read pool; a
/// store dropped meanwhile is asked through its vnode instead.
fn read_directly(
    inner: Arc<Inner>,
    reads: Vec<(usize, PrefEntry, Arc<dyn rill_storage::Store>)>,
    key: Vec<u8>,
) -> futures_util::future::BoxFuture<'static, Replies> {
    // Rows in the row cache are read here: a trip to the read pool costs
    // two thread wake-ups, more than the read.
    let stores = reads.iter().map(|(_, e, s)| (s.as_ref(), e.partition));
    if let Some(objects) = crate::vnode::cached_replicas(stores, &key, &inner.stats) {
        let out = reads
            .iter()
            .zip(objects)
            .map(|((idx, entry, _), r)| (*idx, entry.primary, reply_of(r)))
            .collect();
        return Box::pin(std::future::ready(out));
    }
    Box::pin(async move {
        let entries: Vec<(usize, PrefEntry)> =
            reads.iter().map(|(i, e, _)| (*i, e.clone())).collect();
        let (inner2, key2) = (inner.clone(), key.clone());
        let read = inner
            .read_pool
            .run(move || {
                let stores = reads.iter().map(|(_, e, s)| (s.as_ref(), e.partition));
                let objects = crate::vnode::read_replicas(stores, &key2, &inner2.stats);
                reads
                    .into_iter()
                    .zip(objects)
                    .map(|((idx, entry, _), r)| (idx, entry, r))
                    .collect::<Vec<_>>()
            })
            .await;
        let Ok(results) = read else {
            return ask_vnodes(inner, entries, key).await;
        };
        let mut out = Vec::with_capacity(results.len());
        let mut retry = Vec::new();
        for (idx, entry, r) in results {
            match r {
                Err(KvError::StoreDropped(_)) => retry.push((idx, entry)),
                r => out.push((idx, entry.primary, reply_of(r))),
            }
        }
        if !retry.is_empty() {
            out.extend(ask_vnodes(inner, retry, key).await);
        }
        out
    })
}

fn read_repair(
    inner: &Arc<Inner>,
    key: &[u8],
    preflist: &[PrefEntry],
    core: &GetCore,
    allow_mult: bool,
) {
    let Some(merged) = core.merged() else { return };
    for idx in core.repairs() {
        inner.stats.read_repairs.incr();
        let (reply, _rx) = crate::vnode::Reply::channel();
        inner.cast(
            &preflist[idx],
            KvCommand::Put {
                key: key.to_vec(),
                op: PutOp::Replicate {
                    object: Box::new(merged.clone()),
                    allow_mult,
                    last_write_wins: false,
                    handed: None,
                },
                reply,
                early: None,
            },
        );
    }
}

pub(crate) fn head_only(mut o: RiakObject) -> RiakObject {
    for s in &mut o.siblings {
        s.value.clear();
    }
    o
}

pub(crate) async fn execute(
    inner: &Arc<Inner>,
    bk: BucketKey,
    opts: GetOptions,
) -> Result<GetResult> {
    let props = inner.types.props(&bk.bucket_type, &bk.bucket)?;
    let plan = plan(inner, &bk, &props, &opts)?;
    match read(inner, plan, &props, &opts).await? {
        GetOutcome::Found(o) => {
            if opts.if_modified.as_ref() == Some(&o.clock) {
                return Ok(GetResult::Unchanged);
            }
            Ok(GetResult::Found(if opts.head { head_only(o) } else { o }))
        }
        GetOutcome::NotFound(Some(tomb)) if opts.deleted_vclock => {
            Ok(GetResult::Deleted(tomb.clock))
        }
        GetOutcome::NotFound(_) => Ok(GetResult::NotFound),
        GetOutcome::Error(e) => Err(e),
    }
}
