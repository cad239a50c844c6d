//! Coordinator choice across several nodes: a consistent-hash ring of the
//! configured node addresses (100 points per node) maps each key to an
//! ordered list of distinct nodes, primary first, failovers after.
//!
//! This only spreads client load and gives key affinity; where data lives
//! is the server's own ring, which this crate knows nothing of.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use hashring::HashRing;
use prost::Message;
use rill_proto::messages::RpbBucketProps;
use rill_proto::{Frame, MsgCode};

use crate::connection::ConnectOptions;
use crate::datatype::{DtFetched, DtUpdate, DtUpdated};
use crate::error::{ClientError, Result};
use crate::object::{Content, Object, PutResult, ServerInfo};
use crate::options::{
    DeleteOptions, DtFetchOptions, DtUpdateOptions, GetOptions, ListOptions, PutOptions,
};
use crate::pool::{Pool, PooledConnection};

/// Virtual points per node on the client's ring.
pub const POINTS_PER_NODE: u32 = 100;

/// One virtual point: hashed from the node's address string and the point's
/// number, so placement is the same in every process.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Point {
    node: String,
    replica: u32,
}

/// The client's ring over node addresses.
#[derive(Debug)]
pub struct NodeRing {
    nodes: Vec<String>,
    ring: HashRing<Point>,
    /// For each point: every node index, in failover order from that point.
    orders: HashMap<Point, Vec<usize>>,
}

impl NodeRing {
    /// A ring over `nodes` (duplicates are ignored).
    pub fn new(nodes: impl IntoIterator<Item = impl Into<String>>) -> NodeRing {
        let mut names: Vec<String> = Vec::new();
        for node in nodes {
            let node = node.into();
            if !names.contains(&node) {
                names.push(node);
            }
        }
        let mut ring = HashRing::new();
        ring.batch_add(
            names
                .iter()
                .flat_map(|node| {
                    (0..POINTS_PER_NODE).map(|replica| Point {
                        node: node.clone(),
                        replica,
                    })
                })
                .collect(),
        );
        let orders = failover_orders(&ring, &names);
        NodeRing {
            nodes: names,
            ring,
            orders,
        }
    }

    /// The node addresses, in the order given.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// Indices into [`NodeRing::nodes`] for `key`: the coordinator first,
    /// then each other node once, in failover order. Empty without nodes.
    pub fn preference<K: Hash + ?Sized>(&self, key: &K) -> &[usize] {
        self.ring
            .get(&key)
            .and_then(|point| self.orders.get(point))
            .map_or(&[], Vec::as_slice)
    }

    /// The coordinator's address for `key`.
    pub fn primary<K: Hash + ?Sized>(&self, key: &K) -> Option<&str> {
        self.preference(key)
            .first()
            .map(|&i| self.nodes[i].as_str())
    }
}

/// Walks the ring once from every point, collecting distinct nodes.
fn failover_orders(ring: &HashRing<Point>, names: &[String]) -> HashMap<Point, Vec<usize>> {
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    // The whole ring in order, starting at an arbitrary point.
    let all = ring
        .get_with_replicas(&(), ring.len().saturating_sub(1))
        .unwrap_or_default();
    let mut orders = HashMap::with_capacity(all.len());
    for start in 0..all.len() {
        let mut order = Vec::with_capacity(names.len());
        for step in 0..all.len() {
            let node = index[all[(start + step) % all.len()].node.as_str()];
            if !order.contains(&node) {
                order.push(node);
                if order.len() == names.len() {
                    break;
                }
            }
        }
        orders.insert(all[start].clone(), order);
    }
    orders
}

/// The ring key of an object: bucket type (`default` when absent), bucket
/// and key.
fn object_key<'a>(
    bucket_type: Option<&'a [u8]>,
    bucket: &'a [u8],
    key: &'a [u8],
) -> (&'a [u8], &'a [u8], &'a [u8]) {
    (bucket_type.unwrap_or(b"default"), bucket, key)
}

/// A client for several nodes: one [`Pool`] per node, and per key the
/// coordinator chosen on a [`NodeRing`].
///
/// A node that cannot be connected to is skipped for the next node in the
/// key's failover order (such a request was never sent, so this is safe for
/// any request). Requests that fail after being sent are not retried.
#[derive(Debug)]
pub struct ClusterClient {
    ring: NodeRing,
    pools: Vec<Pool>,
    /// Spreads requests that are not about one key over the nodes.
    next: AtomicUsize,
}

impl ClusterClient {
    /// A client with `connections` connections per node.
    pub fn new(
        nodes: impl IntoIterator<Item = impl Into<String>>,
        connections: usize,
    ) -> Result<ClusterClient> {
        ClusterClient::with_options(nodes, connections, ConnectOptions::default())
    }

    /// Like [`ClusterClient::new`] with explicit connect and timeout options.
    pub fn with_options(
        nodes: impl IntoIterator<Item = impl Into<String>>,
        connections: usize,
        opts: ConnectOptions,
    ) -> Result<ClusterClient> {
        let ring = NodeRing::new(nodes);
        if ring.nodes().is_empty() {
            return Err(ClientError::NoNodes);
        }
        let pools = ring
            .nodes()
            .iter()
            .map(|addr| Pool::new(addr.clone(), connections, opts.clone()))
            .collect();
        Ok(ClusterClient {
            ring,
            pools,
            next: AtomicUsize::new(0),
        })
    }

    /// The ring choosing coordinators.
    pub fn ring(&self) -> &NodeRing {
        &self.ring
    }

    /// One pool per node, in the order of [`NodeRing::nodes`].
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// A connection to the first reachable node of `order`. Nodes that
    /// failed to connect within the last second are tried last.
    async fn checkout(&self, order: &[usize]) -> Result<PooledConnection> {
        let (fresh, suspect): (Vec<usize>, Vec<usize>) =
            order.iter().partition(|&&i| !self.pools[i].is_suspect());
        let mut last = ClientError::NoNodes;
        for i in fresh.into_iter().chain(suspect) {
            match self.pools[i].get().await {
                Ok(conn) => return Ok(conn),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// A connection to the coordinator for an object (or its failover).
    pub async fn connection_for(
        &self,
        bucket_type: Option<&[u8]>,
        bucket: &[u8],
        key: &[u8],
    ) -> Result<PooledConnection> {
        let order = self.ring.preference(&object_key(bucket_type, bucket, key));
        self.checkout(order).await
    }

    /// A connection to any node, for requests not about one key.
    pub async fn connection(&self) -> Result<PooledConnection> {
        let order: Vec<usize> = (0..self.pools.len()).collect();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % order.len();
        let mut rotated = order[start..].to_vec();
        rotated.extend_from_slice(&order[..start]);
        self.checkout(&rotated).await
    }

    pub async fn ping(&self) -> Result<()> {
        self.connection().await?.ping().await
    }

    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.connection().await?.server_info().await
    }

    pub async fn get(
        &self,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &GetOptions,
    ) -> Result<Option<Object>> {
        let (bucket, key) = (bucket.as_ref(), key.as_ref());
        self.connection_for(opts.bucket_type.as_deref(), bucket, key)
            .await?
            .get(bucket, key, opts)
            .await
    }

    /// Stores an object. Without a key the server picks one, on any node.
    pub async fn put(
        &self,
        bucket: impl AsRef<[u8]>,
        key: Option<&[u8]>,
        content: &Content,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        let bucket = bucket.as_ref();
        let mut conn = match key {
            Some(key) => {
                self.connection_for(opts.bucket_type.as_deref(), bucket, key)
                    .await?
            }
            None => self.connection().await?,
        };
        conn.put(bucket, key, content, opts).await
    }

    pub async fn delete(
        &self,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &DeleteOptions,
    ) -> Result<()> {
        let (bucket, key) = (bucket.as_ref(), key.as_ref());
        self.connection_for(opts.bucket_type.as_deref(), bucket, key)
            .await?
            .delete(bucket, key, opts)
            .await
    }

    pub async fn list_keys(
        &self,
        bucket: impl AsRef<[u8]>,
        opts: &ListOptions,
    ) -> Result<Vec<Bytes>> {
        self.connection().await?.list_keys(bucket, opts).await
    }

    pub async fn list_buckets(&self, opts: &ListOptions) -> Result<Vec<Bytes>> {
        self.connection().await?.list_buckets(opts).await
    }

    pub async fn get_bucket_props(
        &self,
        bucket: impl AsRef<[u8]>,
        bucket_type: Option<&[u8]>,
    ) -> Result<RpbBucketProps> {
        self.connection()
            .await?
            .get_bucket_props(bucket, bucket_type)
            .await
    }

    pub async fn set_bucket_props(
        &self,
        bucket: impl AsRef<[u8]>,
        bucket_type: Option<&[u8]>,
        props: RpbBucketProps,
    ) -> Result<()> {
        self.connection()
            .await?
            .set_bucket_props(bucket, bucket_type, props)
            .await
    }

    pub async fn reset_bucket_props(
        &self,
        bucket: impl AsRef<[u8]>,
        bucket_type: Option<&[u8]>,
    ) -> Result<()> {
        self.connection()
            .await?
            .reset_bucket_props(bucket, bucket_type)
            .await
    }

    /// A bucket type's properties, from any node.
    pub async fn get_bucket_type_props(
        &self,
        bucket_type: impl AsRef<[u8]>,
    ) -> Result<RpbBucketProps> {
        self.connection()
            .await?
            .get_bucket_type_props(bucket_type)
            .await
    }

    /// Fetches a data type on the key's coordinator.
    pub async fn fetch_datatype(
        &self,
        bucket_type: impl AsRef<[u8]>,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &DtFetchOptions,
    ) -> Result<DtFetched> {
        let (t, b, k) = (bucket_type.as_ref(), bucket.as_ref(), key.as_ref());
        self.connection_for(Some(t), b, k)
            .await?
            .fetch_datatype(t, b, k, opts)
            .await
    }

    /// Updates a data type on the key's coordinator; without a key the
    /// server picks one, on any node.
    pub async fn update_datatype(
        &self,
        bucket_type: impl AsRef<[u8]>,
        bucket: impl AsRef<[u8]>,
        key: Option<&[u8]>,
        update: &DtUpdate,
        opts: &DtUpdateOptions,
    ) -> Result<DtUpdated> {
        let (t, b) = (bucket_type.as_ref(), bucket.as_ref());
        let mut conn = match key {
            Some(k) => self.connection_for(Some(t), b, k).await?,
            None => self.connection().await?,
        };
        conn.update_datatype(t, b, key, update, opts).await
    }

    /// Any request, on any node; see [`crate::Client::request`].
    pub async fn request<M: Message>(&self, code: MsgCode, msg: &M) -> Result<Frame> {
        let mut conn = self.connection().await?;
        let reply = conn.request(code, msg).await;
        if code.may_stream() {
            conn.discard();
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("10.0.0.{i}:8087")).collect()
    }

    fn key(i: u32) -> (&'static [u8], Vec<u8>, Vec<u8>) {
        (
            b"default",
            b"bucket".to_vec(),
            format!("key-{i}").into_bytes(),
        )
    }

    #[test]
    fn preference_lists_every_node_once() {
        let ring = NodeRing::new(nodes(4));
        for i in 0..500 {
            let mut pref = ring.preference(&key(i)).to_vec();
            assert_eq!(pref.len(), 4);
            pref.sort();
            assert_eq!(pref, vec![0, 1, 2, 3]);
        }
    }

    #[test]
    fn placement_is_stable_and_independent_of_node_order() {
        let a = NodeRing::new(nodes(3));
        let mut reversed = nodes(3);
        reversed.reverse();
        let b = NodeRing::new(reversed);
        for i in 0..500 {
            assert_eq!(a.primary(&key(i)), b.primary(&key(i)));
        }
    }

    #[test]
    fn load_is_spread_over_nodes() {
        let ring = NodeRing::new(nodes(3));
        let mut counts = [0usize; 3];
        for i in 0..30_000 {
            counts[ring.preference(&key(i))[0]] += 1;
        }
        for c in counts {
            assert!((6_000..=14_000).contains(&c), "unbalanced: {counts:?}");
        }
    }

    #[test]
    fn removing_a_node_moves_only_its_keys_to_their_failover() {
        let all = NodeRing::new(nodes(4));
        let without: Vec<String> = nodes(4)
            .into_iter()
            .filter(|n| n != "10.0.0.2:8087")
            .collect();
        let fewer = NodeRing::new(without);
        for i in 0..2_000 {
            let k = key(i);
            let before: Vec<&str> = all
                .preference(&k)
                .iter()
                .map(|&n| all.nodes()[n].as_str())
                .collect();
            let after = fewer.primary(&k).unwrap();
            if before[0] == "10.0.0.2:8087" {
                assert_eq!(after, before[1]);
            } else {
                assert_eq!(after, before[0]);
            }
        }
    }

    #[test]
    fn duplicates_are_ignored_and_empty_ring_has_no_preference() {
        let ring = NodeRing::new(["a:1", "a:1", "b:2"]);
        assert_eq!(ring.nodes(), ["a:1", "b:2"]);
        let empty = NodeRing::new(Vec::<String>::new());
        assert!(empty.preference(&key(1)).is_empty());
        assert!(matches!(
            ClusterClient::new(Vec::<String>::new(), 1),
            Err(ClientError::NoNodes)
        ));
    }
}
