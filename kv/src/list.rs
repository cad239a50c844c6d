//! List keys and list buckets: coverage folds over the vnodes.
//!
//! Each partition reports the keys whose preference list starts at it, so
//! every key is listed once whatever the n_val of its bucket. The folds run
//! on blocking threads over a snapshot of each vnode's store, never on the
//! vnode itself, which keeps serving gets and puts meanwhile.

use crate::error::{KvError, Result};
use crate::keys;
use crate::service::{Inner, NameStream};
use crate::vnode::KvCommand;
use rill_core::apl::PrefEntry;
use rill_core::chash;
use rill_storage::Store;
use std::collections::HashSet;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

const BATCH: usize = 1000;

/// The store of every partition this node runs, in ring order.
async fn stores(inner: &Arc<Inner>) -> Result<Vec<(u32, Arc<dyn Store>)>> {
    let mut out = Vec::new();
    let ring = inner.ring();
    for (p, node) in ring.owners() {
        let entry = PrefEntry {
            partition: p,
            node: node.clone(),
            primary: true,
        };
        let store = inner
            .call(&entry, |reply| KvCommand::Store { reply })
            .await?;
        out.push((p, store));
    }
    Ok(out)
}

/// Runs `fold` over every vnode's store on a blocking thread, streaming batches.
fn coverage<F>(inner: &Arc<Inner>, timeout: Option<Duration>, fold: F) -> NameStream
where
    F: Fn(u32, &dyn Store, &mut dyn FnMut(Vec<u8>) -> bool) -> Result<()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(8);
    let inner = inner.clone();
    let deadline = Instant::now() + timeout.unwrap_or(Duration::from_secs(300));
    tokio::spawn(async move {
        let stores = match stores(&inner).await {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        let tx2 = tx.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::new();
            for (p, store) in stores {
                let mut emit = |name: Vec<u8>| {
                    batch.push(name);
                    if batch.len() >= BATCH {
                        let full = std::mem::take(&mut batch);
                        if tx2.blocking_send(Ok(full)).is_err() {
                            return false;
                        }
                    }
                    Instant::now() < deadline
                };
                fold(p, store.as_ref(), &mut emit)?;
                if Instant::now() >= deadline {
                    return Err(KvError::Timeout);
                }
            }
            if !batch.is_empty() {
                let _ = tx2.blocking_send(Ok(batch));
            }
            Ok(())
        })
        .await;
        let outcome = match result {
            Ok(r) => r,
            Err(e) => Err(KvError::Storage(format!("fold failed: {e}"))),
        };
        if let Err(e) = outcome {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

pub(crate) fn keys(
    inner: &Arc<Inner>,
    bucket_type: &[u8],
    bucket: &[u8],
    timeout: Option<Duration>,
) -> NameStream {
    let prefix = keys::bucket_prefix(bucket_type, bucket);
    let ring = inner.ring();
    coverage(inner, timeout, move |p, store, emit| {
        for item in store.prefix(&prefix) {
            let (k, _) = item?;
            let Some(bk) = keys::decode_object_key(&k) else {
                continue;
            };
            // Only the first partition of the key's preflist reports it.
            let first = ring.partition_of(&chash::key_hash(&bk.bucket_type, &bk.bucket, &bk.key));
            if first == p && !emit(bk.key) {
                break;
            }
        }
        Ok(())
    })
}

pub(crate) fn buckets(
    inner: &Arc<Inner>,
    bucket_type: &[u8],
    timeout: Option<Duration>,
) -> NameStream {
    let tprefix = keys::type_prefix(bucket_type);
    let seen = std::sync::Mutex::new(HashSet::new());
    coverage(inner, timeout, move |_p, store, emit| {
        let mut start = Bound::Included(tprefix.clone());
        let end = match keys::prefix_successor(&tprefix) {
            Some(s) => Bound::Excluded(s),
            None => Bound::Unbounded,
        };
        // Skip-scan: read one key, then seek past the rest of its bucket.
        loop {
            let next = store.range(start.clone(), end.clone()).next();
            let Some(item) = next else { break };
            let (k, _) = item?;
            let Some(bk) = keys::decode_object_key(&k) else {
                break;
            };
            let fresh = seen.lock().expect("seen lock").insert(bk.bucket.clone());
            if fresh && !emit(bk.bucket.clone()) {
                break;
            }
            match keys::prefix_successor(&keys::bucket_prefix(&bk.bucket_type, &bk.bucket)) {
                Some(s) => start = Bound::Included(s),
                None => break,
            }
        }
        Ok(())
    })
}
