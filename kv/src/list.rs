//! List keys and list buckets: coverage folds over the vnodes.
//!
//! For each partition `p`, one vnode that holds replicas of the keys whose
//! preference list starts at `p` (the owner of `p`, or of a following
//! partition when that node is down) reports those keys, so every key is
//! listed once whatever its bucket's n_val. Folds run on blocking threads
//! over a snapshot of a vnode's store, never on the vnode itself, which
//! keeps serving gets and puts meanwhile.

use crate::error::{KvError, Result};
use crate::keys;
use crate::remote::{self, FoldKind, KvWire, KvWireReply};
use crate::service::{Inner, NameStream};
use crate::vnode::KvCommand;
use rill_core::apl::PrefEntry;
use rill_core::{PartitionId, Ring, chash};
use rill_storage::Store;
use serde_bytes::ByteBuf;
use std::collections::HashSet;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

const BATCH: usize = 1000;

/// The names in one store: keys of a bucket whose first partition is
/// `first`, or every bucket of a type.
fn fold_store(
    store: &dyn Store,
    ring: &Ring,
    first: PartitionId,
    kind: FoldKind,
    bucket_type: &[u8],
    bucket: &[u8],
) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    match kind {
        FoldKind::Keys => {
            for item in store.prefix(&keys::bucket_prefix(bucket_type, bucket)) {
                let (k, _) = item?;
                let Some(bk) = keys::decode_object_key(&k) else {
                    continue;
                };
                let hash = chash::key_hash(&bk.bucket_type, &bk.bucket, &bk.key);
                if ring.partition_of(&hash) == first {
                    out.push(bk.key);
                }
            }
        }
        FoldKind::Buckets => {
            let tprefix = keys::type_prefix(bucket_type);
            let end = match keys::prefix_successor(&tprefix) {
                Some(s) => Bound::Excluded(s),
                None => Bound::Unbounded,
            };
            let mut start = Bound::Included(tprefix);
            // Skip-scan: read one key, then seek past the rest of its bucket.
            while let Some(item) = store.range(start.clone(), end.clone()).next() {
                let (k, _) = item?;
                let Some(bk) = keys::decode_object_key(&k) else {
                    break;
                };
                let next =
                    keys::prefix_successor(&keys::bucket_prefix(&bk.bucket_type, &bk.bucket));
                out.push(bk.bucket);
                match next {
                    Some(s) => start = Bound::Included(s),
                    None => break,
                }
            }
        }
    }
    Ok(out)
}

/// Folds the store of this node's vnode for `store_partition`.
pub(crate) async fn fold_local(
    inner: &Arc<Inner>,
    store_partition: PartitionId,
    first: PartitionId,
    kind: FoldKind,
    bucket_type: &[u8],
    bucket: &[u8],
) -> Result<Vec<Vec<u8>>> {
    if !inner.vnodes.running().contains(&store_partition) {
        return Ok(Vec::new());
    }
    let entry = PrefEntry {
        partition: store_partition,
        node: inner.cfg.node_name.clone(),
        primary: true,
    };
    let store = inner
        .call(&entry, |reply| KvCommand::Store { reply })
        .await?;
    let ring = inner.ring();
    let (t, b) = (bucket_type.to_vec(), bucket.to_vec());
    tokio::task::spawn_blocking(move || fold_store(store.as_ref(), &ring, first, kind, &t, &b))
        .await
        .map_err(|e| KvError::Storage(format!("fold failed: {e}")))?
}

/// What a coverage fold lists.
struct FoldSpec {
    kind: FoldKind,
    bucket_type: Vec<u8>,
    bucket: Vec<u8>,
    /// How many partitions from the first hold replicas.
    n: u32,
    timeout: Duration,
}

/// One partition's names, from the first up node holding its keys.
async fn fold_partition(
    inner: &Arc<Inner>,
    ring: &Ring,
    first: PartitionId,
    spec: &FoldSpec,
) -> Result<Vec<Vec<u8>>> {
    let FoldSpec {
        kind,
        bucket_type,
        bucket,
        n,
        timeout,
    } = spec;
    let (kind, n, timeout) = (*kind, *n, *timeout);
    for i in 0..n.max(1) {
        let sp = (first + i) % ring.size();
        let node = ring.owner(sp);
        if !inner.is_up(node) {
            continue;
        }
        if *node == inner.cfg.node_name {
            return fold_local(inner, sp, first, kind, bucket_type, bucket).await;
        }
        let Some(rpc) = inner.rpc.get() else { continue };
        let msg = KvWire::Fold {
            partition: sp,
            first,
            kind,
            bucket_type: ByteBuf::from(bucket_type.to_vec()),
            bucket: ByteBuf::from(bucket.to_vec()),
        };
        match remote::call(rpc, node, &msg, timeout).await {
            Ok(KvWireReply::Names(names)) => {
                return Ok(names.into_iter().map(ByteBuf::into_vec).collect());
            }
            Ok(other) => return Err(KvError::Storage(format!("unexpected reply {other:?}"))),
            Err(e) => {
                tracing::warn!(partition = first, %node, error = %e, "fold failed, trying the next replica")
            }
        }
    }
    Err(KvError::InsufficientVnodes { got: 0, needed: 1 })
}

/// Streams the folds of every partition in batches.
fn coverage(
    inner: &Arc<Inner>,
    n: u32,
    kind: FoldKind,
    bucket_type: &[u8],
    bucket: &[u8],
    timeout: Option<Duration>,
) -> NameStream {
    let (tx, rx) = mpsc::channel(8);
    let inner = inner.clone();
    let timeout = timeout.unwrap_or(Duration::from_secs(300));
    let deadline = Instant::now() + timeout;
    let spec = FoldSpec {
        kind,
        bucket_type: bucket_type.to_vec(),
        bucket: bucket.to_vec(),
        n,
        timeout,
    };
    tokio::spawn(async move {
        let ring = inner.ring();
        let mut seen = HashSet::new();
        let mut batch = Vec::new();
        for p in 0..ring.size() {
            let fold = fold_partition(&inner, &ring, p, &spec);
            let names = match tokio::time::timeout_at(deadline, fold).await {
                Ok(Ok(names)) => names,
                Ok(Err(e)) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                Err(_) => {
                    let _ = tx.send(Err(KvError::Timeout)).await;
                    return;
                }
            };
            for name in names {
                // Buckets show up in many partitions; keys only once.
                if kind == FoldKind::Keys || seen.insert(name.clone()) {
                    batch.push(name);
                }
            }
            if batch.len() >= BATCH && tx.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(Ok(batch)).await;
        }
    });
    rx
}

pub(crate) fn keys(
    inner: &Arc<Inner>,
    bucket_type: &[u8],
    bucket: &[u8],
    n_val: u32,
    timeout: Option<Duration>,
) -> NameStream {
    coverage(inner, n_val, FoldKind::Keys, bucket_type, bucket, timeout)
}

pub(crate) fn buckets(
    inner: &Arc<Inner>,
    bucket_type: &[u8],
    timeout: Option<Duration>,
) -> NameStream {
    // Any replica sees every bucket with keys there; three covers the usual n_val.
    coverage(inner, 3, FoldKind::Buckets, bucket_type, b"", timeout)
}
