//! The messages a KV vnode answers (riak_kv_vnode's requests).

use crate::crdt::{Context, DataKind, DtOp};
use crate::error::Result;
use crate::object::{Content, Metadata, RiakObject, VClock};
use rill_storage::Store;
use std::sync::Arc;

/// Sends one stored object to the vnode receiving a handoff, then calls
/// `done` with whether the receiver stored it.
pub type ForwardFn = dyn Fn(Vec<u8>, RiakObject, Done) + Send + Sync;

/// Told whether a forwarded write reached the receiver.
pub type Done = Box<dyn FnOnce(bool) + Send>;

#[derive(Clone)]
pub struct Forwarder {
    pub send: Arc<ForwardFn>,
}
use std::time::Duration;
use tokio::sync::oneshot;

/// A reply channel; a dropped receiver (timed-out coordinator) is fine.
pub struct Reply<T>(pub oneshot::Sender<Result<T>>);

impl<T> Reply<T> {
    pub fn channel() -> (Reply<T>, oneshot::Receiver<Result<T>>) {
        let (tx, rx) = oneshot::channel();
        (Reply(tx), rx)
    }

    pub fn send(self, v: Result<T>) {
        let _ = self.0.send(v);
    }
}

/// An object's stored record (`encode_record`), shared by the vnodes of one
/// node without a copy.
pub type Record = bytes::Bytes;

/// What a coordinating vnode hands the replicas on its node with the
/// object it stores: the object's record, and the record it replaced
/// (`None`: it had none). A replica that holds the replaced record holds
/// what the object was made from, so the object is its merge as it is.
#[derive(Debug, Clone)]
pub struct Handed {
    pub record: Record,
    pub replaced: Option<Record>,
}

/// What a coordinating vnode does with the object it is about to store,
/// once the write is queued for the store and before it is committed (see
/// `put::fsm::write`). Dropped unused when the vnode answers without
/// writing (an unchanged object, an error, a handoff in progress).
pub enum Early {
    /// Hand it to the put coordinator, which replicates it.
    Return(oneshot::Sender<RiakObject>),
    /// Send it, with its records, to the other replicas from here: every
    /// one is on this node, and the vnode's worker queues their commands
    /// without waking anyone.
    Replicate(Box<SendReplicas>),
}

/// Sends a stored object and its records to the replicas on this node.
pub type SendReplicas = dyn FnOnce(RiakObject, Handed) + Send;

impl Early {
    pub(crate) fn hand_over(self, obj: RiakObject, handed: Handed) {
        match self {
            Early::Return(tx) => {
                let _ = tx.send(obj);
            }
            Early::Replicate(send) => send(obj, handed),
        }
    }
}

// Commands are moved once, into a mailbox; boxing would cost an allocation.
#[allow(clippy::large_enum_variant)]
pub enum PutOp {
    /// This vnode is the coordinator: it is the actor of the new write.
    Coordinate {
        context: VClock,
        content: Content,
        allow_mult: bool,
        last_write_wins: bool,
    },
    /// A data type update; this vnode is the coordinator and the actor. It
    /// applies `op` to its value (the join of its data type siblings, or a
    /// new value of `kind`) and stores the result as the one sibling, with
    /// `meta` (stamped by the coordinator; its time also stamps register
    /// assignments).
    DtUpdate {
        op: DtOp,
        context: Option<Context>,
        kind: DataKind,
        /// The bucket's `hll_precision` (HLL buckets).
        hll_precision: Option<u8>,
        meta: Metadata,
    },
    /// A write coordinated elsewhere, or a read repair: merge it in.
    Replicate {
        object: Box<RiakObject>,
        allow_mult: bool,
        last_write_wins: bool,
        /// Set when the coordinating vnode on this node hands the object
        /// over: a replica that holds the record it replaced, or whose
        /// merge leaves `object` as it is, stores `object`'s record
        /// instead of decoding, merging and encoding again.
        handed: Option<Handed>,
    },
}

#[allow(clippy::large_enum_variant)]
pub enum KvCommand {
    Get {
        key: Vec<u8>,
        reply: Reply<Option<RiakObject>>,
    },
    Put {
        key: Vec<u8>,
        op: PutOp,
        reply: Reply<RiakObject>,
        /// Only for a coordinating op (`Coordinate`, `DtUpdate`).
        early: Option<Early>,
    },
    /// Remove a tombstone (after `delay`) if it is still the stored object.
    Reap {
        key: Vec<u8>,
        clock: VClock,
        delay: Option<Duration>,
    },
    /// The vnode's store, for folds that run off the vnode's worker.
    Store { reply: Reply<Arc<dyn Store>> },
    /// A handoff of this vnode's data begins: from now on every write is
    /// also sent to the receiving vnode (`Forwarder`), so that the fold of
    /// the store plus the forwarded writes cover everything.
    HandoffStart { forward: Forwarder },
    /// The handoff ended; the reply says whether a forwarded write failed
    /// (then the data must be sent again). With `retire` (a hinted handoff,
    /// whose vnode is dropped next) and no failure, the vnode goes on
    /// forwarding until it stops, and acknowledges a write only once the
    /// receiver has it: its own copy is about to go.
    HandoffEnd { reply: Reply<bool>, retire: bool },
    /// Stored records handed off from another vnode: merge each in.
    HandoffData {
        items: Vec<(Vec<u8>, Vec<u8>)>,
        reply: Reply<()>,
    },
}
