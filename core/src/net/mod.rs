//! Node-to-node messaging: the wire messages, the `Transport` trait, the TCP
//! transport and request/reply RPC over any transport.
//!
//! Payloads are opaque bytes tagged with a small service number; the layers
//! above (gossip, KV, handoff, admin) own their meaning. The simulated
//! transport for tests lives in `rill-testkit`.

pub mod frame;
pub mod rpc;
pub mod tcp;

#[cfg(test)]
mod tests;

use crate::error::{CoreError, Result};
use crate::ring::NodeName;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use frame::{DEFAULT_MAX_FRAME_LEN, FrameError, PROTOCOL_VERSION};
pub use rpc::{Handler, Rpc};
pub use tcp::{NetConfig, TcpTransport};

/// A service number: which upper-layer handler receives a request or cast.
pub type ServiceId = u16;

/// The service numbers in use. Core reserves `PING`; the rest are a
/// convention between the crates that register them.
pub mod service {
    use super::ServiceId;

    /// Liveness probe, answered by every `Rpc` with an empty reply.
    pub const PING: ServiceId = 0;
    /// Ring gossip (membership layer).
    pub const GOSSIP: ServiceId = 1;
    /// Requests to KV vnodes.
    pub const KV: ServiceId = 2;
    /// Handoff streams between vnodes.
    pub const HANDOFF: ServiceId = 3;
    /// Cluster administration (join, leave, plan, commit, status).
    pub const ADMIN: ServiceId = 4;
}

/// One message between nodes, with its sender.
///
/// Encoded with `rmp_serde::to_vec_named`; variants and fields are matched
/// by name on the wire, so renaming one is a protocol change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: NodeName,
    pub msg: Msg,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// First frame on every TCP connection: who is speaking, the address
    /// it listens on for the cluster, and its protocol version.
    Hello {
        node: NodeName,
        cluster_addr: String,
        protocol: u32,
    },
    /// A call expecting one `Reply` with the same `id`.
    Request {
        id: u64,
        service: ServiceId,
        #[serde(with = "serde_bytes")]
        payload: Vec<u8>,
    },
    /// The answer to `Request { id, .. }`: the handler's bytes or its error.
    Reply {
        id: u64,
        result: std::result::Result<ByteBuf, String>,
    },
    /// A one-way message; no reply.
    Cast {
        service: ServiceId,
        #[serde(with = "serde_bytes")]
        payload: Vec<u8>,
    },
}

/// Where a transport hands each envelope it receives. It runs on the
/// receiving task (a connection's reader), so it must not block; handing
/// over directly saves a task hop per message.
pub type Inbound = Arc<dyn Fn(Envelope) -> std::result::Result<(), Refused> + Send + Sync>;

/// Why an `Inbound` did not take an envelope.
#[derive(Debug)]
pub enum Refused {
    /// Saturated for now: the envelope comes back. A TCP reader waits and
    /// offers it again, which pushes back on the sender through TCP; a
    /// local send answers `Overload`.
    Full(Envelope),
    /// The receiver is gone; the envelope is dropped.
    Closed,
}

/// Hands `env` to this node's own receiver, as a transport's `send` to
/// itself does: nothing to wait on, so a full receiver is `Overload`.
pub fn deliver_local(inbound: Option<Inbound>, local: &NodeName, env: Envelope) -> Result<()> {
    let inbound = inbound.ok_or_else(|| CoreError::Unreachable(local.clone()))?;
    inbound(env).map_err(|r| match r {
        Refused::Full(_) => CoreError::Overload,
        Refused::Closed => CoreError::Unreachable(local.clone()),
    })
}

/// Hands `env` to `inbound` as a connection's reader does: while the
/// receiver is full it waits and offers the envelope again, which pushes
/// back on the sender. False when the receiver is gone (the envelope is
/// dropped).
pub async fn deliver_waiting(inbound: &Inbound, mut env: Envelope) -> bool {
    loop {
        match inbound(env) {
            Ok(()) => return true,
            Err(Refused::Full(back)) => {
                env = back;
                tokio::time::sleep(INBOUND_RETRY).await;
            }
            Err(Refused::Closed) => return false,
        }
    }
}

/// How long a reader waits before offering a refused envelope again.
const INBOUND_RETRY: std::time::Duration = std::time::Duration::from_millis(1);

/// An `Inbound` that queues into a channel, for receivers that want one
/// (tests, simple tools).
pub fn inbound_channel(tx: mpsc::Sender<Envelope>) -> Inbound {
    Arc::new(move |env| {
        tx.try_send(env).map_err(|e| match e {
            mpsc::error::TrySendError::Full(env) => Refused::Full(env),
            mpsc::error::TrySendError::Closed(_) => Refused::Closed,
        })
    })
}

/// Moves envelopes between nodes. Implemented by `TcpTransport` and by the
/// simulated network in `rill-testkit`.
///
/// Delivery is at most once and, between one pair of nodes, in order.
/// Nothing here waits for the network: `send` only queues.
pub trait Transport: Send + Sync + 'static {
    /// This node's name.
    fn local(&self) -> &NodeName;

    /// Queues `env` for `to` without blocking. `to == local()` is delivered
    /// straight to this node's inbound receiver. Errors: `Unreachable` (no
    /// address known, peer refusing connections, no inbound receiver),
    /// `Overload` (the peer's queue is full), `Codec`, `Shutdown`.
    fn send(&self, to: &NodeName, env: Envelope) -> Result<()>;

    /// Records (or changes) the cluster address of `node`.
    fn set_peer_addr(&self, node: &NodeName, addr: SocketAddr);

    /// The address known for `node`, from `set_peer_addr` or its `Hello`.
    fn peer_addr(&self, node: &NodeName) -> Option<SocketAddr>;

    /// Where received envelopes go (replaces any previous receiver). `Hello`
    /// frames are consumed by the transport and never delivered.
    fn set_inbound(&self, inbound: Inbound);

    /// When a frame from `node` last arrived: the raw input of a failure
    /// detector. `tokio::time::Instant`, so paused test clocks apply.
    fn last_heard(&self, node: &NodeName) -> Option<Instant>;

    /// Stops listening, closes connections and drops queued messages;
    /// later `send`s fail. The default does nothing.
    fn shutdown(&self) {}
}
