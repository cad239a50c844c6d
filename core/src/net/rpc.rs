//! Request/reply and one-way messages over any `Transport`.
//!
//! `Rpc` numbers requests, keeps a pending reply slot per call until its
//! reply or deadline, and runs each incoming request in its own task with
//! the handler registered for its service. Late and duplicate replies are
//! ignored. What a payload means is up to the service's owner.

use super::{Envelope, Msg, ServiceId, Transport, service};
use crate::error::{CoreError, Result};
use crate::ring::NodeName;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rand::RngExt;
use serde_bytes::ByteBuf;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::debug;

/// Serves one service: gets the caller's name and the request payload,
/// answers bytes or an error text (which the caller sees as
/// `CoreError::Remote`). Casts run the same handler and drop its answer.
pub type Handler = Arc<
    dyn Fn(NodeName, Vec<u8>) -> BoxFuture<'static, std::result::Result<Vec<u8>, String>>
        + Send
        + Sync,
>;

/// Envelopes waiting for the dispatcher; beyond this, local sends answer
/// `Overload` and TCP readers wait.
const INBOUND_QUEUE: usize = 4096;

type ReplySlot = oneshot::Sender<std::result::Result<Vec<u8>, String>>;

/// A node's RPC endpoint. Cheap to clone; the dispatcher task stops once
/// every clone is dropped.
#[derive(Clone)]
pub struct Rpc {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn Transport>,
    handlers: RwLock<HashMap<ServiceId, Handler>>,
    pending: Mutex<HashMap<u64, ReplySlot>>,
    next_id: AtomicU64,
    runtime: Handle,
}

impl Rpc {
    /// Takes over `transport`'s inbound channel and answers `service::PING`.
    /// Must be called inside a tokio runtime.
    pub fn new(transport: Arc<dyn Transport>) -> Rpc {
        let (tx, rx) = mpsc::channel(INBOUND_QUEUE);
        // A random start keeps a restarted node's ids apart from replies
        // still addressed to its previous run.
        let first_id = rand::rng().random::<u64>() >> 1;
        let inner = Arc::new(Inner {
            transport,
            handlers: RwLock::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(first_id),
            runtime: Handle::current(),
        });
        let rpc = Rpc { inner };
        rpc.register_fn(service::PING, |_, _| async { Ok(Vec::new()) });
        rpc.inner.transport.set_inbound(tx);
        tokio::spawn(dispatch(Arc::downgrade(&rpc.inner), rx));
        rpc
    }

    pub fn local(&self) -> &NodeName {
        self.inner.transport.local()
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.inner.transport
    }

    /// Installs (or replaces) the handler of `service`.
    pub fn register(&self, service: ServiceId, handler: Handler) {
        self.inner
            .handlers
            .write()
            .expect("handlers lock")
            .insert(service, handler);
    }

    /// `register` for a plain async closure.
    pub fn register_fn<F, Fut>(&self, service: ServiceId, f: F)
    where
        F: Fn(NodeName, Vec<u8>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<Vec<u8>, String>> + Send + 'static,
    {
        self.register(
            service,
            Arc::new(move |from, payload| f(from, payload).boxed()),
        );
    }

    pub fn unregister(&self, service: ServiceId) {
        self.inner
            .handlers
            .write()
            .expect("handlers lock")
            .remove(&service);
    }

    /// Sends a request and waits for its reply. Errors: `Timeout` when
    /// nothing came back within `timeout` (the request may still have run),
    /// `Remote` for the handler's error, or the transport's `send` error.
    pub async fn call(
        &self,
        to: &NodeName,
        service: ServiceId,
        payload: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.inner
            .pending
            .lock()
            .expect("pending lock")
            .insert(id, tx);
        // Removes the slot however this future ends: reply, timeout, error
        // or the caller dropping it.
        let _slot = PendingSlot {
            inner: &self.inner,
            id,
        };
        let env = Envelope {
            from: self.local().clone(),
            msg: Msg::Request {
                id,
                service,
                payload,
            },
        };
        self.inner.transport.send(to, env)?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(bytes))) => Ok(bytes),
            Ok(Ok(Err(msg))) => Err(CoreError::Remote(msg)),
            Ok(Err(_)) => Err(CoreError::Shutdown),
            Err(_) => Err(CoreError::Timeout),
        }
    }

    /// Sends a one-way message.
    pub fn cast(&self, to: &NodeName, service: ServiceId, payload: Vec<u8>) -> Result<()> {
        let env = Envelope {
            from: self.local().clone(),
            msg: Msg::Cast { service, payload },
        };
        self.inner.transport.send(to, env)
    }

    /// A round trip to `to`'s ping service.
    pub async fn ping(&self, to: &NodeName, timeout: Duration) -> Result<()> {
        self.call(to, service::PING, Vec::new(), timeout)
            .await
            .map(|_| ())
    }

    /// When anything last arrived from `node` (see `Transport::last_heard`).
    pub fn last_heard(&self, node: &NodeName) -> Option<Instant> {
        self.inner.transport.last_heard(node)
    }

    /// Calls still waiting for a reply.
    pub fn pending_calls(&self) -> usize {
        self.inner.pending.lock().expect("pending lock").len()
    }
}

struct PendingSlot<'a> {
    inner: &'a Inner,
    id: u64,
}

impl Drop for PendingSlot<'_> {
    fn drop(&mut self) {
        self.inner
            .pending
            .lock()
            .expect("pending lock")
            .remove(&self.id);
    }
}

async fn dispatch(inner: Weak<Inner>, mut rx: mpsc::Receiver<Envelope>) {
    while let Some(env) = rx.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        let from = env.from;
        match env.msg {
            Msg::Request {
                id,
                service,
                payload,
            } => {
                let handler = inner.handler(service);
                let transport = inner.transport.clone();
                inner.runtime.spawn(async move {
                    let result = run_handler(handler, service, from.clone(), payload).await;
                    let reply = Envelope {
                        from: transport.local().clone(),
                        msg: Msg::Reply {
                            id,
                            result: result.map(ByteBuf::from),
                        },
                    };
                    if let Err(e) = transport.send(&from, reply) {
                        debug!(to = %from, id, error = %e, "reply not sent");
                    }
                });
            }
            Msg::Reply { id, result } => {
                let slot = inner.pending.lock().expect("pending lock").remove(&id);
                match slot {
                    Some(slot) => {
                        let _ = slot.send(result.map(ByteBuf::into_vec));
                    }
                    None => debug!(from = %from, id, "late or duplicate reply ignored"),
                }
            }
            Msg::Cast { service, payload } => {
                let handler = inner.handler(service);
                inner.runtime.spawn(async move {
                    if let Err(e) = run_handler(handler, service, from.clone(), payload).await {
                        debug!(from = %from, service, error = %e, "cast failed");
                    }
                });
            }
            Msg::Hello { .. } => {}
        }
    }
}

impl Inner {
    fn handler(&self, service: ServiceId) -> Option<Handler> {
        self.handlers
            .read()
            .expect("handlers lock")
            .get(&service)
            .cloned()
    }
}

/// Runs a handler, turning a missing handler or a panic into an error text.
async fn run_handler(
    handler: Option<Handler>,
    service: ServiceId,
    from: NodeName,
    payload: Vec<u8>,
) -> std::result::Result<Vec<u8>, String> {
    let Some(handler) = handler else {
        return Err(format!("no handler for service {service}"));
    };
    AssertUnwindSafe(async move { handler(from, payload).await })
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(format!("handler for service {service} panicked")))
}
