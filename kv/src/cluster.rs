//! Joins the KV service to a cluster: vnode requests travel over the
//! node-to-node RPC, the ring and liveness come from membership, bucket
//! types and properties are kept in the cluster's metadata, and the handoff
//! manager moves data as ownership changes.

use crate::handoff::HandoffManager;
use crate::service::KvService;
use rill_core::membership::{ClusterState, Membership, Transfer};
use rill_core::net::Rpc;
use std::sync::Arc;
use std::time::Duration;

/// Cluster metadata keys of bucket types and properties: `bt:` + hex of
/// the key in the local store.
const META_PREFIX: &str = "bt:";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The bucket type entries of a cluster state, keyed as in the local store.
fn type_entries(state: &ClusterState) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    state
        .metadata
        .range(META_PREFIX.to_string()..)
        .take_while(|(k, _)| k.starts_with(META_PREFIX))
        .filter_map(|(k, v)| Some((unhex(&k[META_PREFIX.len()..])?, v.value.clone())))
        .collect()
}

/// Handoffs allowed at once per node (Riak's `transfer_limit`).
pub const TRANSFER_LIMIT: usize = 2;

impl KvService {
    /// Wires this service into the cluster. Returns the handoff manager
    /// (for `transfers`). Call once, inside the runtime.
    pub fn attach_cluster(&self, rpc: Rpc, membership: Arc<Membership>) -> Arc<HandoffManager> {
        self.attach_rpc(rpc);
        let m = membership.clone();
        self.set_node_watcher(move |n| m.is_up(n));
        let me = self.node_name().to_string();
        let m = membership.clone();
        let handoff = HandoffManager::new(
            Arc::downgrade(&self.inner),
            Arc::new(move |partition, to: &str| {
                m.transfer_complete(&Transfer {
                    partition,
                    from: me.clone(),
                    to: to.to_string(),
                })
            }),
            TRANSFER_LIMIT,
        );
        let _ = self.inner.handoff.set(handoff.clone());
        let m = membership.clone();
        let publish = Box::new(move |key: &[u8], value: Option<Vec<u8>>| {
            m.set_metadata(&format!("{META_PREFIX}{}", hex(key)), value)
        });
        if let Err(e) = self.inner.types.publish_to(publish) {
            tracing::error!(error = %e, "cannot publish bucket types to the cluster");
        }
        let svc = self.clone();
        let weak_handoff = Arc::downgrade(&handoff);
        tokio::spawn(async move {
            let mut rx = membership.subscribe();
            loop {
                if svc.inner.is_closed() {
                    return;
                }
                let state = rx.borrow_and_update().clone();
                svc.apply_state(&state, &membership).await;
                let Some(h) = weak_handoff.upgrade() else {
                    return;
                };
                let next: Vec<_> = state
                    .ownership
                    .value
                    .next
                    .iter()
                    .map(|t| (t.partition, t.from.clone(), t.to.clone()))
                    .collect();
                h.tick(&next);
                drop(h);
                tokio::select! {
                    r = rx.changed() => if r.is_err() { return },
                    _ = svc.inner.closing.notified() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        });
        handoff
    }

    /// Adopts the ring and metadata of a new cluster state.
    async fn apply_state(&self, state: &ClusterState, membership: &Arc<Membership>) {
        let ring = state.ring();
        if *self.inner.ring() != ring {
            let svc = self.clone();
            let _ = tokio::task::spawn_blocking(move || svc.set_ring(ring)).await;
        }
        let inner = self.inner.clone();
        let m = membership.clone();
        let absorbed =
            tokio::task::spawn_blocking(move || inner.types.absorb(|| type_entries(&m.state())))
                .await;
        if let Ok(Err(e)) = absorbed {
            tracing::error!(error = %e, "cannot store cluster bucket types");
        }
    }

    /// Handoffs under way on this node.
    pub fn transfers(&self) -> Vec<crate::handoff::TransferStatus> {
        self.inner
            .handoff
            .get()
            .map(|h| h.transfers())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let b = vec![0u8, 1, 0xab, 0xff];
        assert_eq!(unhex(&hex(&b)), Some(b));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
