//! Request/reply and one-way messages over any `Transport`.
//!
//! `Rpc` numbers requests, keeps a pending reply slot per call until its
//! reply or deadline, and runs each incoming request in its own task with
//! the handler registered for its service. Envelopes are taken on the
//! transport's receiving task: a reply completes its call there, a request
//! starts its task there. Late and duplicate replies are ignored. What a
//! payload means is up to the service's owner.

use super::{Envelope, Msg, Refused, ServiceId, Transport, service};
use crate::error::{CoreError, Result};
use crate::ring::NodeName;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rand::RngExt;
use serde_bytes::ByteBuf;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::oneshot;
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

/// Requests and casts being handled at once; beyond this, local sends
/// answer `Overload` and TCP readers wait.
pub(crate) const MAX_IN_FLIGHT: usize = 4096;

type ReplySlot = oneshot::Sender<std::result::Result<Vec<u8>, String>>;

/// A node's RPC endpoint. Cheap to clone; the transport stops delivering
/// to it once every clone is dropped.
#[derive(Clone)]
pub struct Rpc {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn Transport>,
    handlers: RwLock<HashMap<ServiceId, Handler>>,
    pending: Mutex<HashMap<u64, ReplySlot>>,
    next_id: AtomicU64,
    /// Requests and casts whose handler is running.
    in_flight: AtomicUsize,
    runtime: Handle,
}

impl Rpc {
    /// Takes over `transport`'s inbound receiver and answers `service::PING`.
    /// Must be called inside a tokio runtime.
    pub fn new(transport: Arc<dyn Transport>) -> Rpc {
        // A random start keeps a restarted node's ids apart from replies
        // still addressed to its previous run.
        let first_id = rand::rng().random::<u64>() >> 1;
        let inner = Arc::new(Inner {
            transport,
            handlers: RwLock::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(first_id),
            in_flight: AtomicUsize::new(0),
            runtime: Handle::current(),
        });
        let rpc = Rpc { inner };
        rpc.register_fn(service::PING, |_, _| async { Ok(Vec::new()) });
        let weak = Arc::downgrade(&rpc.inner);
        rpc.inner
            .transport
            .set_inbound(Arc::new(move |env| receive(&weak, env)));
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

/// Takes one received envelope (see `Inbound`): completes a call, or starts
/// the handler of a request or cast in a task of its own.
fn receive(inner: &Weak<Inner>, env: Envelope) -> std::result::Result<(), Refused> {
    let Some(inner) = inner.upgrade() else {
        return Err(Refused::Closed);
    };
    let from = env.from.clone();
    let (service, payload, reply_id) = match env.msg {
        Msg::Reply { id, result } => {
            let slot = inner.pending.lock().expect("pending lock").remove(&id);
            match slot {
                Some(slot) => {
                    let _ = slot.send(result.map(ByteBuf::into_vec));
                }
                None => debug!(from = %from, id, "late or duplicate reply ignored"),
            }
            return Ok(());
        }
        Msg::Hello { .. } => return Ok(()),
        Msg::Request { service, .. } | Msg::Cast { service, .. }
            if inner.in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT =>
        {
            debug!(from = %from, service, "too many requests in flight; refused for now");
            return Err(Refused::Full(env));
        }
        Msg::Request {
            id,
            service,
            payload,
        } => (service, payload, Some(id)),
        Msg::Cast { service, payload } => (service, payload, None),
    };
    let handler = inner.handler(service);
    let transport = inner.transport.clone();
    inner.in_flight.fetch_add(1, Ordering::Relaxed);
    let guard = InFlight(inner.clone());
    inner.runtime.spawn(async move {
        let _guard = guard;
        let result = run_handler(handler, service, from.clone(), payload).await;
        let Some(id) = reply_id else {
            if let Err(e) = result {
                debug!(from = %from, service, error = %e, "cast failed");
            }
            return;
        };
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
    Ok(())
}

/// Counts a running handler until dropped (however its task ends).
struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
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
