//! KV requests between nodes: vnode commands for remote vnodes, whole
//! requests forwarded to a node that holds a vnode of the preference list,
//! coverage folds, and handoff batches. Encoded with rmp-serde (named
//! form); objects travel in their stored, checksummed encoding.

use crate::error::{KvError, Result};
use crate::keys;
use crate::object::{Link, VClock, decode_object, encode_object, to_wire};
use crate::request::*;
use crate::service::Inner;
use crate::vnode::{KvCommand, PutOp};
use rill_core::PartitionId;
use rill_core::apl::PrefEntry;
use rill_core::net::{Rpc, service};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Names listed by a fold: keys of a bucket, or buckets of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FoldKind {
    Keys,
    Buckets,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum WireContent {
    V1 {
        value: ByteBuf,
        content_type: Option<String>,
        charset: Option<String>,
        content_encoding: Option<String>,
        usermeta: Vec<(ByteBuf, ByteBuf)>,
        links: Vec<(ByteBuf, ByteBuf, ByteBuf)>,
        indexes: Vec<(ByteBuf, ByteBuf)>,
    },
}

fn bb(v: &[u8]) -> ByteBuf {
    ByteBuf::from(v.to_vec())
}

impl From<&NewContent> for WireContent {
    fn from(c: &NewContent) -> Self {
        WireContent::V1 {
            value: bb(&c.value),
            content_type: c.content_type.clone(),
            charset: c.charset.clone(),
            content_encoding: c.content_encoding.clone(),
            usermeta: c.usermeta.iter().map(|(k, v)| (bb(k), bb(v))).collect(),
            links: c
                .links
                .iter()
                .map(|l| (bb(&l.bucket), bb(&l.key), bb(&l.tag)))
                .collect(),
            indexes: c.indexes.iter().map(|(k, v)| (bb(k), bb(v))).collect(),
        }
    }
}

impl From<WireContent> for NewContent {
    fn from(w: WireContent) -> Self {
        let WireContent::V1 {
            value,
            content_type,
            charset,
            content_encoding,
            usermeta,
            links,
            indexes,
        } = w;
        NewContent {
            value: value.into_vec(),
            content_type,
            charset,
            content_encoding,
            usermeta: usermeta
                .into_iter()
                .map(|(k, v)| (k.into_vec(), v.into_vec()))
                .collect(),
            links: links
                .into_iter()
                .map(|(bucket, key, tag)| Link {
                    bucket: bucket.into_vec(),
                    key: key.into_vec(),
                    tag: tag.into_vec(),
                })
                .collect(),
            indexes: indexes
                .into_iter()
                .map(|(k, v)| (k.into_vec(), v.into_vec()))
                .collect(),
        }
    }
}

/// A put forwarded to a node with a vnode in the preference list. Options
/// are already resolved by the forwarding node (as numbers or words).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WirePut {
    pub bucket_type: ByteBuf,
    pub bucket: ByteBuf,
    pub key: ByteBuf,
    pub context: Option<VClock>,
    pub content: WireContent,
    pub w: Option<u32>,
    pub dw: Option<u32>,
    pub pw: Option<u32>,
    pub return_body: bool,
    pub return_head: bool,
    pub timeout_ms: Option<u64>,
    pub n_val: Option<u32>,
    pub sloppy_quorum: Option<bool>,
    /// A delete: write a tombstone against `context`.
    pub delete: bool,
}

/// A data type update forwarded to a node with a vnode in the preference
/// list; quorums already resolved by the forwarding node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WireDtUpdate {
    pub bucket_type: ByteBuf,
    pub bucket: ByteBuf,
    pub key: ByteBuf,
    pub op: crate::crdt::DtOp,
    pub context: Option<ByteBuf>,
    pub w: Option<u32>,
    pub dw: Option<u32>,
    pub pw: Option<u32>,
    pub return_body: bool,
    pub timeout_ms: Option<u64>,
    pub n_val: Option<u32>,
    pub sloppy_quorum: Option<bool>,
}

/// An object key as peers exchange it (`keys::to_wire`), not as this node
/// stores it (decision 0015). On the wire it is just its bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct WireKey(ByteBuf);

impl WireKey {
    pub(crate) fn from_stored(stored: &[u8]) -> WireKey {
        WireKey(ByteBuf::from(keys::to_wire(stored)))
    }

    /// The stored form; a key a peer sent malformed is a `BadRequest`.
    pub(crate) fn to_stored(&self) -> Result<Vec<u8>> {
        keys::from_wire(&self.0)
    }
}

/// A message to a peer's KV service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum KvWire {
    Get {
        partition: PartitionId,
        key: WireKey,
    },
    Replicate {
        partition: PartitionId,
        key: WireKey,
        object: ByteBuf,
        allow_mult: bool,
        last_write_wins: bool,
    },
    Reap {
        partition: PartitionId,
        key: WireKey,
        clock: VClock,
        delay_ms: Option<u64>,
    },
    Put(Box<WirePut>),
    Fold {
        partition: PartitionId,
        first: PartitionId,
        kind: FoldKind,
        bucket_type: ByteBuf,
        bucket: ByteBuf,
    },
    Handoff {
        partition: PartitionId,
        items: Vec<(WireKey, ByteBuf)>,
    },
    DtUpdate(Box<WireDtUpdate>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum KvWireReply {
    Object(Option<ByteBuf>),
    Done,
    Put {
        key: ByteBuf,
        object: Option<ByteBuf>,
    },
    Names(Vec<ByteBuf>),
    Error(WireError),
}

/// The errors a remote node can answer, by name, so they stay typed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum WireError {
    NotFound,
    Timeout,
    Overload,
    TooManySiblings(u64),
    TooLarge(u64),
    Quorum { kind: String, needed: u32, got: u32 },
    NValViolation(u32),
    Other(String),
    Precondition(String),
    Datatype(String),
    DatatypeNeedsAllowMult,
    NotDatatypeBucket,
}

impl From<KvError> for WireError {
    fn from(e: KvError) -> Self {
        use KvError::*;
        match e {
            NotFound => WireError::NotFound,
            Timeout => WireError::Timeout,
            Overload => WireError::Overload,
            TooManySiblings(n) => WireError::TooManySiblings(n as u64),
            TooLarge(n) => WireError::TooLarge(n as u64),
            NValViolation(n) => WireError::NValViolation(n),
            RValUnsatisfied { needed, got } => quorum("r", needed, got),
            PrValUnsatisfied { needed, got } => quorum("pr", needed, got),
            WValUnsatisfied { needed, got } => quorum("w", needed, got),
            DwValUnsatisfied { needed, got } => quorum("dw", needed, got),
            PwValUnsatisfied { needed, got } => quorum("pw", needed, got),
            Precondition(s) => WireError::Precondition(s),
            Datatype(s) => WireError::Datatype(s),
            DatatypeNeedsAllowMult => WireError::DatatypeNeedsAllowMult,
            NotDatatypeBucket => WireError::NotDatatypeBucket,
            other => WireError::Other(other.to_string()),
        }
    }
}

fn quorum(kind: &str, needed: u32, got: u32) -> WireError {
    WireError::Quorum {
        kind: kind.into(),
        needed,
        got,
    }
}

impl From<WireError> for KvError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::NotFound => KvError::NotFound,
            WireError::Timeout => KvError::Timeout,
            WireError::Overload => KvError::Overload,
            WireError::TooManySiblings(n) => KvError::TooManySiblings(n as usize),
            WireError::TooLarge(n) => KvError::TooLarge(n as usize),
            WireError::NValViolation(n) => KvError::NValViolation(n),
            WireError::Quorum { kind, needed, got } => match kind.as_str() {
                "r" => KvError::RValUnsatisfied { needed, got },
                "pr" => KvError::PrValUnsatisfied { needed, got },
                "w" => KvError::WValUnsatisfied { needed, got },
                "dw" => KvError::DwValUnsatisfied { needed, got },
                _ => KvError::PwValUnsatisfied { needed, got },
            },
            WireError::Other(s) => KvError::Storage(s),
            WireError::Precondition(s) => KvError::Precondition(s),
            WireError::Datatype(s) => KvError::Datatype(s),
            WireError::DatatypeNeedsAllowMult => KvError::DatatypeNeedsAllowMult,
            WireError::NotDatatypeBucket => KvError::NotDatatypeBucket,
        }
    }
}

fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(v).expect("KV wire messages encode")
}

fn dec<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T> {
    rmp_serde::from_slice(b).map_err(|e| KvError::Storage(format!("bad KV message: {e}")))
}

fn core_err(e: rill_core::CoreError) -> KvError {
    match e {
        rill_core::CoreError::Timeout => KvError::Timeout,
        rill_core::CoreError::Overload => KvError::Overload,
        other => KvError::Storage(other.to_string()),
    }
}

/// Sends a message to `node` and decodes its answer.
pub(crate) async fn call(
    rpc: &Rpc,
    node: &str,
    msg: &KvWire,
    timeout: Duration,
) -> Result<KvWireReply> {
    let bytes = rpc
        .call(&node.to_string(), service::KV, enc(msg), timeout)
        .await
        .map_err(core_err)?;
    match dec::<KvWireReply>(&bytes)? {
        KvWireReply::Error(e) => Err(e.into()),
        r => Ok(r),
    }
}

/// A vnode command for a vnode on another node, as a wire message, sent in
/// a task of its own (for casts). The reply channel stays here and is
/// answered when the remote answers.
pub(crate) fn forward_command(inner: &Arc<Inner>, rpc: Rpc, entry: PrefEntry, cmd: KvCommand) {
    tokio::spawn(forward(inner.cfg.default_timeout, rpc, entry, cmd));
}

/// `forward_command` in the caller's task: a call that waits for the answer
/// anyway saves a task and two wake-ups per remote replica.
pub(crate) async fn forward(timeout: Duration, rpc: Rpc, entry: PrefEntry, cmd: KvCommand) {
    let p = entry.partition;
    let node = entry.node;
    match cmd {
        KvCommand::Get { key, reply } => {
            let msg = KvWire::Get {
                partition: p,
                key: WireKey::from_stored(&key),
            };
            let r = call(&rpc, &node, &msg, timeout)
                .await
                .and_then(|r| match r {
                    KvWireReply::Object(None) => Ok(None),
                    KvWireReply::Object(Some(b)) => decode_object(&b)
                        .map(Some)
                        .map_err(|e| KvError::Corrupt(e.to_string())),
                    other => Err(KvError::Storage(format!("unexpected reply {other:?}"))),
                });
            reply.send(r);
        }
        KvCommand::Put {
            key,
            op:
                PutOp::Replicate {
                    object,
                    allow_mult,
                    last_write_wins,
                    ..
                },
            reply,
            ..
        } => {
            let msg = KvWire::Replicate {
                partition: p,
                key: WireKey::from_stored(&key),
                object: ByteBuf::from(encode_object(&object)),
                allow_mult,
                last_write_wins,
            };
            let r = call(&rpc, &node, &msg, timeout).await.map(|_| *object);
            reply.send(r);
        }
        KvCommand::Put { reply, .. } => reply.send(Err(KvError::Storage(
            "a write is coordinated only by a local vnode".into(),
        ))),
        KvCommand::Reap { key, clock, delay } => {
            let msg = KvWire::Reap {
                partition: p,
                key: WireKey::from_stored(&key),
                clock,
                delay_ms: delay.map(|d| d.as_millis() as u64),
            };
            let _ = call(&rpc, &node, &msg, timeout).await;
        }
        KvCommand::Store { reply } => reply.send(Err(KvError::Storage(
            "a remote vnode's store cannot be borrowed".into(),
        ))),
        KvCommand::HandoffData { reply, .. } => reply.send(Err(KvError::Storage(
            "handoff data goes through the handoff service".into(),
        ))),
        KvCommand::HandoffEnd { reply, .. } => reply.send(Err(KvError::Storage(
            "handoffs are run by the sending node".into(),
        ))),
        KvCommand::HandoffStart { .. } => {}
    }
}

/// Serves KV messages from other nodes.
pub(crate) fn register(inner: Weak<Inner>, rpc: &Rpc) {
    rpc.register_fn(service::KV, move |_from, payload| {
        let inner = inner.clone();
        async move {
            let inner = inner.upgrade().ok_or("shutting down")?;
            let reply = match dec::<KvWire>(&payload) {
                Ok(msg) => handle(&inner, msg)
                    .await
                    .unwrap_or_else(|e| KvWireReply::Error(e.into())),
                Err(e) => KvWireReply::Error(e.into()),
            };
            Ok(enc(&reply))
        }
    });
}

/// This node's vnode for `partition` (started on first use by `call`/`cast`).
fn local(inner: &Inner, partition: PartitionId) -> PrefEntry {
    PrefEntry {
        partition,
        node: inner.cfg.node_name.clone(),
        primary: true,
    }
}

async fn handle(inner: &Arc<Inner>, msg: KvWire) -> Result<KvWireReply> {
    match msg {
        KvWire::Get { partition, key } => {
            let key = key.to_stored()?;
            // The record in the wire form, read from the row cache here or
            // else on the read pool; the asking node checks it anyway.
            if let Some(store) = inner.read_stores.get(partition) {
                if let Some(record) = store.get_if_cached(&key) {
                    inner.stats.vnode_gets.incr();
                    return Ok(KvWireReply::Object(Some(ByteBuf::from(to_wire(record)))));
                }
                let k = key.clone();
                let read = move || store.get(&k).map(|r| r.map(to_wire));
                match inner.read_pool.run(read).await {
                    Ok(Ok(bytes)) => {
                        inner.stats.vnode_gets.incr();
                        return Ok(KvWireReply::Object(bytes.map(ByteBuf::from)));
                    }
                    Ok(Err(rill_storage::StorageError::StoreDropped(_))) | Err(_) => {}
                    Ok(Err(e)) => return Err(e.into()),
                }
            }
            let e = local(inner, partition);
            let obj = inner
                .call(&e, |reply| KvCommand::Get { key, reply })
                .await?;
            Ok(KvWireReply::Object(
                obj.map(|o| ByteBuf::from(encode_object(&o))),
            ))
        }
        KvWire::Replicate {
            partition,
            key,
            object,
            allow_mult,
            last_write_wins,
        } => {
            let object = decode_object(&object).map_err(|e| KvError::Corrupt(e.to_string()))?;
            let e = local(inner, partition);
            let op = PutOp::Replicate {
                object: Box::new(object),
                allow_mult,
                last_write_wins,
                handed: None,
            };
            let key = key.to_stored()?;
            inner
                .call(&e, |reply| KvCommand::Put {
                    key,
                    op,
                    reply,
                    early: None,
                })
                .await?;
            Ok(KvWireReply::Done)
        }
        KvWire::Reap {
            partition,
            key,
            clock,
            delay_ms,
        } => {
            let e = local(inner, partition);
            inner.cast(
                &e,
                KvCommand::Reap {
                    key: key.to_stored()?,
                    clock,
                    delay: delay_ms.map(Duration::from_millis),
                },
            );
            Ok(KvWireReply::Done)
        }
        KvWire::Put(p) => {
            let r = crate::put::fsm::execute_forwarded(inner, *p).await?;
            Ok(KvWireReply::Put {
                key: ByteBuf::from(r.key),
                object: r.object.map(|o| ByteBuf::from(encode_object(&o))),
            })
        }
        KvWire::DtUpdate(w) => {
            let (key, object) = crate::dt::update::execute_forwarded(inner, *w).await?;
            Ok(KvWireReply::Put {
                key: ByteBuf::from(key),
                object: object.map(|o| ByteBuf::from(encode_object(&o))),
            })
        }
        KvWire::Fold {
            partition,
            first,
            kind,
            bucket_type,
            bucket,
        } => {
            let names =
                crate::list::fold_local(inner, partition, first, kind, &bucket_type, &bucket)
                    .await?;
            Ok(KvWireReply::Names(
                names.into_iter().map(ByteBuf::from).collect(),
            ))
        }
        KvWire::Handoff { partition, items } => {
            let e = local(inner, partition);
            let items = items
                .into_iter()
                .map(|(k, v)| Ok((k.to_stored()?, v.into_vec())))
                .collect::<Result<Vec<_>>>()?;
            inner
                .call(&e, |reply| KvCommand::HandoffData { items, reply })
                .await?;
            Ok(KvWireReply::Done)
        }
    }
}

/// Builds the wire form of a put to forward.
pub(crate) fn wire_put(
    bk: &BucketKey,
    context: Option<VClock>,
    content: &NewContent,
    opts: &PutOptions,
    quorum: &crate::put::fsm::WriteQuorum,
) -> WirePut {
    WirePut {
        bucket_type: bb(&bk.bucket_type),
        bucket: bb(&bk.bucket),
        key: bb(&bk.key),
        context,
        content: content.into(),
        w: Some(quorum.w),
        dw: Some(quorum.dw),
        pw: Some(quorum.pw),
        return_body: opts.return_body,
        return_head: opts.return_head,
        timeout_ms: opts.timeout.map(|t| t.as_millis() as u64),
        n_val: opts.n_val,
        sloppy_quorum: opts.sloppy_quorum,
        delete: false,
    }
}

pub(crate) fn put_reply(r: KvWireReply) -> Result<PutResult> {
    match r {
        KvWireReply::Put { key, object } => Ok(PutResult {
            key: key.into_vec(),
            object: match object {
                Some(b) => Some(decode_object(&b).map_err(|e| KvError::Corrupt(e.to_string()))?),
                None => None,
            },
        }),
        other => Err(KvError::Storage(format!("unexpected reply {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::OBJECT_VERSION;
    use crate::{BucketKey, GetOptions, KvConfig, KvService, NewContent, PutOptions, PutRequest};

    /// A `WireKey` encodes exactly as the plain byte buffer it replaced, so
    /// peers of the version before it read it unchanged.
    #[test]
    fn a_wire_key_encodes_as_its_bytes() {
        let stored = keys::object_key(&BucketKey::new(b"default", b"b", b"k")).unwrap();
        let bytes = ByteBuf::from(keys::to_wire(&stored));
        let key = WireKey::from_stored(&stored);
        assert_eq!(
            rmp_serde::to_vec_named(&key).unwrap(),
            rmp_serde::to_vec_named(&bytes).unwrap()
        );
        let back: WireKey =
            rmp_serde::from_slice(&rmp_serde::to_vec_named(&bytes).unwrap()).unwrap();
        assert_eq!(back.to_stored().unwrap(), stored);
    }

    /// A remote get answers in the wire form (version 1) whether the row
    /// cache has the record (memory backend) or the read pool reads it
    /// (fjall without a row cache): peers of an older version must read it.
    #[tokio::test]
    async fn remote_gets_answer_in_the_wire_form() {
        let dir = tempfile::tempdir().unwrap();
        let no_cache = rill_storage::StorageConfig {
            row_cache_mb: 0,
            ..Default::default()
        };
        let backends = [
            rill_storage::memory(),
            rill_storage::open_fjall(dir.path(), &no_cache).unwrap(),
        ];
        for backend in backends {
            let kv = KvService::open(KvConfig::default(), backend).unwrap();
            let bk = BucketKey::new(b"default", b"b", b"k");
            let put = PutRequest {
                bucket_type: "default".into(),
                bucket: "b".into(),
                key: Some("k".into()),
                context: None,
                content: NewContent {
                    value: b"v".to_vec(),
                    ..Default::default()
                },
                // Every replica written before the reads below.
                options: PutOptions {
                    w: Some(crate::bucket::Quorum::All),
                    ..Default::default()
                },
            };
            kv.put(put).await.unwrap();
            let props = kv.inner.types.props(&bk.bucket_type, &bk.bucket).unwrap();
            let opts = GetOptions::default();
            let plan = crate::get::fsm::plan(&kv.inner, &bk, &props, &opts).unwrap();
            for entry in &plan.preflist {
                let msg = KvWire::Get {
                    partition: entry.partition,
                    key: WireKey::from_stored(&plan.key),
                };
                let Ok(KvWireReply::Object(Some(bytes))) = handle(&kv.inner, msg).await else {
                    panic!("no object from partition {}", entry.partition);
                };
                assert_eq!(bytes[0], OBJECT_VERSION);
                let obj = decode_object(&bytes).unwrap();
                assert_eq!(obj.siblings[0].value, b"v");
            }
            kv.shutdown();
        }
    }
}
