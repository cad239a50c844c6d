//! Connection pools: `Pool` keeps up to N PB connections to one node and
//! reopens any that broke; `Client` is a pool with the request methods.
//!
//! A checkout holds its connection exclusively until dropped. Requests are
//! not retried here: a failed request returns its error and the next
//! checkout reconnects (see `ClusterClient` for failover across nodes).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use prost::Message;
use rill_proto::messages::RpbBucketProps;
use rill_proto::{Frame, MsgCode};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::connection::{ConnectOptions, Connection};
use crate::datatype::{DtFetched, DtUpdate, DtUpdated};
use crate::error::Result;
use crate::object::{Content, Object, PutResult, ServerInfo};
use crate::options::{
    DeleteOptions, DtFetchOptions, DtUpdateOptions, GetOptions, ListOptions, PutOptions,
};

/// How long a node counts as suspect after a failed connect.
const SUSPECT_FOR: Duration = Duration::from_secs(1);

type Slot = Arc<Mutex<Option<Connection>>>;

/// Up to `size` connections to one node, opened on demand.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    addr: String,
    opts: ConnectOptions,
    slots: Vec<Slot>,
    next: AtomicUsize,
    failed_at: std::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("addr", &self.inner.addr)
            .field("size", &self.inner.slots.len())
            .finish()
    }
}

impl Pool {
    /// A pool of at most `size` (at least 1) connections to `addr`.
    /// Nothing is opened until the first checkout.
    pub fn new(addr: impl Into<String>, size: usize, opts: ConnectOptions) -> Pool {
        let slots = (0..size.max(1))
            .map(|_| Arc::new(Mutex::new(None)))
            .collect();
        Pool {
            inner: Arc::new(PoolInner {
                addr: addr.into(),
                opts,
                slots,
                next: AtomicUsize::new(0),
                failed_at: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The node's address.
    pub fn addr(&self) -> &str {
        &self.inner.addr
    }

    /// The most connections this pool opens.
    pub fn size(&self) -> usize {
        self.inner.slots.len()
    }

    /// Whether a connect to this node failed within the last second.
    pub fn is_suspect(&self) -> bool {
        let failed = self
            .inner
            .failed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        failed.is_some_and(|t| t.elapsed() < SUSPECT_FOR)
    }

    /// Takes a connection for exclusive use, waiting for a free one and
    /// opening it if needed. Fails only with `ClientError::Connect`.
    pub async fn get(&self) -> Result<PooledConnection> {
        let slots = &self.inner.slots;
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed) % slots.len();
        let free = (0..slots.len())
            .map(|i| &slots[(start + i) % slots.len()])
            .find_map(|slot| slot.clone().try_lock_owned().ok());
        let mut guard = match free {
            Some(guard) => guard,
            None => slots[start].clone().lock_owned().await,
        };
        if guard.as_ref().is_none_or(Connection::is_broken) {
            *guard = None;
            match Connection::connect_with(&self.inner.addr, &self.inner.opts).await {
                Ok(conn) => {
                    *guard = Some(conn);
                    *self
                        .inner
                        .failed_at
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = None;
                }
                Err(e) => {
                    *self
                        .inner
                        .failed_at
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                    return Err(e);
                }
            }
        }
        Ok(PooledConnection { guard })
    }
}

/// A connection checked out of a [`Pool`]; it goes back when dropped, and
/// is closed instead if it broke.
pub struct PooledConnection {
    guard: OwnedMutexGuard<Option<Connection>>,
}

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.guard.fmt(f)
    }
}

impl Deref for PooledConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.guard
            .as_ref()
            .expect("checked-out slot holds a connection")
    }
}

impl DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        self.guard
            .as_mut()
            .expect("checked-out slot holds a connection")
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if self.guard.as_ref().is_some_and(Connection::is_broken) {
            *self.guard = None;
        }
    }
}

/// A client for one node: a [`Pool`] plus the request methods, each on a
/// checked-out connection.
#[derive(Clone, Debug)]
pub struct Client {
    pool: Pool,
}

impl Client {
    /// A client keeping up to `connections` connections to `addr`.
    pub fn new(addr: impl Into<String>, connections: usize) -> Client {
        Client::with_options(addr, connections, ConnectOptions::default())
    }

    /// Like [`Client::new`] with explicit connect and timeout options.
    pub fn with_options(
        addr: impl Into<String>,
        connections: usize,
        opts: ConnectOptions,
    ) -> Client {
        Client {
            pool: Pool::new(addr, connections, opts),
        }
    }

    /// The underlying pool, e.g. to hold one connection for several calls.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub async fn ping(&self) -> Result<()> {
        self.pool.get().await?.ping().await
    }

    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.pool.get().await?.server_info().await
    }

    pub async fn get(
        &self,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &GetOptions,
    ) -> Result<Option<Object>> {
        self.pool.get().await?.get(bucket, key, opts).await
    }

    pub async fn put(
        &self,
        bucket: impl AsRef<[u8]>,
        key: Option<&[u8]>,
        content: &Content,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        self.pool.get().await?.put(bucket, key, content, opts).await
    }

    pub async fn delete(
        &self,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &DeleteOptions,
    ) -> Result<()> {
        self.pool.get().await?.delete(bucket, key, opts).await
    }

    pub async fn list_keys(
        &self,
        bucket: impl AsRef<[u8]>,
        opts: &ListOptions,
    ) -> Result<Vec<Bytes>> {
        self.pool.get().await?.list_keys(bucket, opts).await
    }

    pub async fn list_buckets(&self, opts: &ListOptions) -> Result<Vec<Bytes>> {
        self.pool.get().await?.list_buckets(opts).await
    }

    pub async fn get_bucket_props(
        &self,
        bucket: impl AsRef<[u8]>,
        bucket_type: Option<&[u8]>,
    ) -> Result<RpbBucketProps> {
        self.pool
            .get()
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
        self.pool
            .get()
            .await?
            .set_bucket_props(bucket, bucket_type, props)
            .await
    }

    pub async fn reset_bucket_props(
        &self,
        bucket: impl AsRef<[u8]>,
        bucket_type: Option<&[u8]>,
    ) -> Result<()> {
        self.pool
            .get()
            .await?
            .reset_bucket_props(bucket, bucket_type)
            .await
    }

    pub async fn fetch_datatype(
        &self,
        bucket_type: impl AsRef<[u8]>,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &DtFetchOptions,
    ) -> Result<DtFetched> {
        let mut conn = self.pool.get().await?;
        conn.fetch_datatype(bucket_type, bucket, key, opts).await
    }

    pub async fn update_datatype(
        &self,
        bucket_type: impl AsRef<[u8]>,
        bucket: impl AsRef<[u8]>,
        key: Option<&[u8]>,
        update: &DtUpdate,
        opts: &DtUpdateOptions,
    ) -> Result<DtUpdated> {
        let mut conn = self.pool.get().await?;
        conn.update_datatype(bucket_type, bucket, key, update, opts)
            .await
    }

    /// Any request; returns the first reply frame (see
    /// [`Connection::request`]). For codes that may stream, the connection
    /// is closed afterwards rather than left mid-stream: read whole streams
    /// on a connection of your own (`pool().get()` and `next_frame`).
    pub async fn request<M: Message>(&self, code: MsgCode, msg: &M) -> Result<Frame> {
        let mut conn = self.pool.get().await?;
        let reply = conn.request(code, msg).await;
        if code.may_stream() {
            conn.discard();
        }
        reply
    }
}
