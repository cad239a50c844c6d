//! The put coordinator (riak_kv_put_fsm): validate quorums, let the first
//! local vnode of the preference list coordinate (it becomes the write's
//! actor), replicate its result to the other replicas (or let that vnode
//! send it to them, when all are local), and answer once `PutCore` has
//! enough acknowledgements.

use super::core::PutCore;
use crate::bucket::{BucketProps, Quorum};
use crate::error::{KvError, Result};
use crate::get::fsm as get_fsm;
use crate::keys;
use crate::object::{Content, Metadata, RiakObject, VClock, new_vtag};
use crate::remote;
use crate::request::{BucketKey, GetOptions, NewContent, PutOptions, PutRequest, PutResult};
use crate::service::Inner;
use crate::vnode::{Early, Handed, KvCommand, PutOp, Reply};
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use rill_core::apl::PrefEntry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Quorums of a write, resolved against n.
pub(crate) struct WriteQuorum {
    pub w: u32,
    pub dw: u32,
    pub pw: u32,
}

pub(crate) fn write_quorum(
    props: &BucketProps,
    n: u32,
    w: Option<Quorum>,
    dw: Option<Quorum>,
    pw: Option<Quorum>,
) -> Result<WriteQuorum> {
    let w = w.unwrap_or(Quorum::Default).resolve(n, props.w);
    let dw = dw.unwrap_or(Quorum::Default).resolve(n, props.dw);
    let pw = pw.unwrap_or(Quorum::Default).resolve(n, props.pw);
    if w > n || dw > n || pw > n {
        return Err(KvError::NValViolation(n));
    }
    Ok(WriteQuorum { w, dw, pw })
}

/// A key for a POST without one: 160 random bits in base 62, like Riak's.
pub(crate) fn generate_key() -> Vec<u8> {
    const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut n: [u8; 20] = rand::random();
    let mut out = Vec::with_capacity(28);
    // Repeated division of the 160-bit number by 62.
    while n.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for b in n.iter_mut() {
            let cur = (rem << 8) | *b as u32;
            *b = (cur / 62) as u8;
            rem = cur % 62;
        }
        out.push(B62[rem as usize]);
    }
    out.reverse();
    out
}

/// The client's content with the server's vtag and timestamp.
pub(crate) fn stamp(inner: &Inner, c: NewContent) -> Content {
    let meta = Metadata {
        content_type: c
            .content_type
            .unwrap_or_else(|| crate::object::DEFAULT_CONTENT_TYPE.to_string()),
        charset: c.charset,
        content_encoding: c.content_encoding,
        vtag: new_vtag(&mut rand::rng()),
        last_modified_us: inner.clock.now_us(),
        usermeta: c.usermeta,
        links: c.links,
        indexes: c.indexes,
        deleted: false,
    };
    Content::new(c.value, meta)
}

/// Everything a coordinated write needs. `op` is what the coordinating
/// vnode does: `PutOp::Coordinate` (a put or delete, see `coordinate`) or
/// `PutOp::DtUpdate`.
pub(crate) struct Write {
    pub bk: BucketKey,
    pub op: PutOp,
    pub n: u32,
    pub quorum: WriteQuorum,
    pub sloppy: bool,
    pub timeout: Duration,
}

/// The coordinating op of a put of `content` by a client that read `context`.
pub(crate) fn coordinate(props: &BucketProps, context: VClock, content: Content) -> PutOp {
    PutOp::Coordinate {
        context,
        content,
        allow_mult: props.allow_mult,
        last_write_wins: props.last_write_wins,
    }
}

/// Coordinate, replicate and count: the heart of put, delete and data
/// type updates.
///
/// The coordinating vnode hands over the object it stores as soon as the
/// write is queued in its store (`Early`), before the commit. Replicas on
/// this node get it at once: the store commits writes in the order they
/// are queued, so no local replica holds the write before the coordinator
/// does, and the two commits overlap instead of following each other.
/// When every replica is on this node and running, the coordinating vnode
/// sends them the object itself (`Early::Replicate`), which spares waking
/// this task and, as a preference list's vnodes mostly share a worker,
/// any thread at all. Replicas on other nodes get the object only once the
/// coordinator's copy is stored, so that a crash of this node cannot leave
/// another node holding a write (and its dot) that this node lost. The
/// write fails if the coordinator's own store fails, as when it came first.
pub(crate) async fn write(inner: &Arc<Inner>, props: &BucketProps, w: Write) -> Result<RiakObject> {
    let deadline = Instant::now() + w.timeout;
    let key = keys::object_key(&w.bk)?;
    let preflist = get_fsm::preflist(inner, &w.bk, w.n, w.sloppy);
    let q = &w.quorum;
    let needed = q.w.max(q.dw).max(q.pw).max(1);
    if (preflist.len() as u32) < needed {
        return Err(KvError::InsufficientVnodes {
            got: preflist.len() as u32,
            needed,
        });
    }
    let primaries = preflist.iter().filter(|e| e.primary).count() as u32;
    if q.pw > primaries {
        return Err(KvError::PwValUnsatisfied {
            needed: q.pw,
            got: primaries,
        });
    }
    let here = &inner.cfg.node_name;
    let coord_idx = preflist
        .iter()
        .position(|e| &e.node == here)
        .ok_or_else(|| KvError::Storage("no local vnode in the preference list".into()))?;
    let coord = preflist[coord_idx].clone();
    let replicas: Vec<PrefEntry> = (preflist.iter().enumerate())
        .filter(|(i, _)| *i != coord_idx)
        .map(|(_, e)| e.clone())
        .collect();
    let all_local = replicas.iter().all(|e| &e.node == here);
    let direct = all_local
        && replicas
            .iter()
            .all(|e| inner.vnodes.is_running(e.partition));

    let mut pending: FuturesUnordered<BoxFuture<'static, Event>> = FuturesUnordered::new();
    let early = if direct {
        let (early, replies) = direct_replication(inner, props, &key, &replicas);
        pending.extend(replies);
        Some(early)
    } else if all_local {
        let (tx, rx) = tokio::sync::oneshot::channel();
        pending.push(rx.map(|r| Event::Early(r.ok())).boxed());
        Some(Early::Return(tx))
    } else {
        None
    };
    let (op, k, at, via) = (w.op, key.clone(), coord.clone(), inner.clone());
    pending.push(
        async move {
            let make = move |reply| KvCommand::Put {
                key: k,
                op,
                reply,
                early,
            };
            Event::Coord(via.call(&at, make).await)
        }
        .boxed(),
    );

    let merge = Merge::of(props);
    let mut core = PutCore::new(preflist.len() as u32, primaries, q.w, q.dw, q.pw);
    // Replicas still to be sent the object by this task (none when the
    // coordinating vnode sends it), and the coordinator's stored object.
    let mut unsent: Vec<PrefEntry> = if direct { Vec::new() } else { replicas };
    let mut stored: Option<RiakObject> = None;
    while !core.enough() || stored.is_none() {
        let event = match tokio::time::timeout_at(deadline, pending.next()).await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(_) => return Err(KvError::Timeout),
        };
        match event {
            Event::Coord(Err(e)) => return Err(e),
            Event::Coord(Ok(obj)) => {
                core.add(coord.primary, Ok(()));
                pending.extend(replicate_all(inner, merge, unsent.drain(..), &key, &obj));
                stored = Some(obj);
            }
            Event::Early(Some(obj)) => {
                pending.extend(replicate_all(inner, merge, unsent.drain(..), &key, &obj));
            }
            Event::Early(None) => {}
            Event::Replica(primary, r) => core.add(primary, r),
            Event::Unsent(e) => match &stored {
                Some(obj) => pending.extend(replicate_all(inner, merge, [e], &key, obj)),
                None => unsent.push(e),
            },
        }
    }
    let stored = stored.ok_or_else(|| KvError::Storage("the coordinator did not answer".into()))?;
    // Remaining replicas finish on their own; their replies are not needed,
    // but one the coordinating vnode never sent the object to still gets it.
    let (inner, obj) = (inner.clone(), stored.clone());
    tokio::spawn(async move {
        while let Some(event) = pending.next().await {
            if let Event::Unsent(e) = event {
                pending.extend(replicate_all(&inner, merge, [e], &key, &obj));
            }
        }
    });
    core.response().map(|()| stored)
}

/// What the put coordinator hears while a write is under way.
enum Event {
    /// The coordinating vnode's answer: the object it stored.
    Coord(Result<RiakObject>),
    /// The object handed over early (`None`: the vnode answered first).
    Early(Option<RiakObject>),
    /// A replica's answer; the flag says whether it is a primary.
    Replica(bool, Result<()>),
    /// A replica the coordinating vnode never sent the object to (it did
    /// not write): this task sends it the stored object instead.
    Unsent(PrefEntry),
}

/// The hand-over by which the coordinating vnode sends the object it
/// stores to the local `replicas` itself, and the replicas' answers. A
/// replica whose command cannot be queued (a full mailbox) is answered
/// with the error at once; if the vnode never writes, every replica
/// reports `Event::Unsent`.
fn direct_replication(
    inner: &Arc<Inner>,
    props: &BucketProps,
    key: &[u8],
    replicas: &[PrefEntry],
) -> (Early, Vec<BoxFuture<'static, Event>>) {
    let sent = Arc::new(AtomicBool::new(false));
    let mut replies = Vec::with_capacity(replicas.len());
    let mut answers = Vec::with_capacity(replicas.len());
    for entry in replicas {
        let (reply, rx) = Reply::channel();
        replies.push((entry.partition, reply));
        let (sent, entry) = (sent.clone(), entry.clone());
        answers.push(
            async move {
                match rx.await {
                    Ok(r) => Event::Replica(entry.primary, r.map(drop)),
                    Err(_) if !sent.load(Ordering::Acquire) => Event::Unsent(entry),
                    Err(_) => Event::Replica(entry.primary, Err(KvError::ShuttingDown)),
                }
            }
            .boxed(),
        );
    }
    let (inner, key, merge) = (inner.clone(), key.to_vec(), Merge::of(props));
    let send = move |obj: RiakObject, handed: Handed| {
        sent.store(true, Ordering::Release);
        let send_one = |(partition, reply), obj, handed| {
            let cmd = KvCommand::Put {
                key: key.clone(),
                op: merge.op(obj, Some(handed)),
                reply,
                early: None,
            };
            if let Err((e, KvCommand::Put { reply, .. })) = inner.send_local(partition, cmd) {
                reply.send(Err(e));
            }
        };
        let mut replies = replies;
        let last = replies.pop();
        for replica in replies {
            send_one(replica, obj.clone(), handed.clone());
        }
        // The last replica takes the object itself.
        if let Some(replica) = last {
            send_one(replica, obj, handed);
        }
    };
    (Early::Replicate(Box::new(send)), answers)
}

/// How a replica merges a replicated object: the bucket's flags.
#[derive(Clone, Copy)]
struct Merge {
    allow_mult: bool,
    last_write_wins: bool,
}

impl Merge {
    fn of(props: &BucketProps) -> Merge {
        Merge {
            allow_mult: props.allow_mult,
            last_write_wins: props.last_write_wins,
        }
    }

    /// The replicated write of `stored`, with its records when the
    /// coordinating vnode hands it over.
    fn op(self, stored: RiakObject, handed: Option<Handed>) -> PutOp {
        PutOp::Replicate {
            object: Box::new(stored),
            allow_mult: self.allow_mult,
            last_write_wins: self.last_write_wins,
            handed,
        }
    }
}

/// Sends `stored` to each of `entries`: their answers, to await.
fn replicate_all(
    inner: &Arc<Inner>,
    merge: Merge,
    entries: impl IntoIterator<Item = PrefEntry>,
    key: &[u8],
    stored: &RiakObject,
) -> Vec<BoxFuture<'static, Event>> {
    (entries.into_iter())
        .map(|e| replicate(inner, merge, e, key.to_vec(), stored).boxed())
        .collect()
}

/// Sends `stored` to the replica `entry`.
fn replicate(
    inner: &Arc<Inner>,
    merge: Merge,
    entry: PrefEntry,
    key: Vec<u8>,
    stored: &RiakObject,
) -> impl Future<Output = Event> + Send + 'static {
    let op = merge.op(stored.clone(), None);
    let inner = inner.clone();
    async move {
        let r = inner
            .call(&entry, |reply| KvCommand::Put {
                key,
                op,
                reply,
                early: None,
            })
            .await;
        Event::Replica(entry.primary, r.map(|_| ()))
    }
}

/// Reads the current object for a conditional put.
async fn check_conditions(
    inner: &Arc<Inner>,
    bk: &BucketKey,
    props: &BucketProps,
    opts: &PutOptions,
) -> Result<()> {
    if !opts.if_none_match && opts.if_not_modified.is_none() {
        return Ok(());
    }
    let gopts = GetOptions {
        timeout: opts.timeout,
        ..GetOptions::default()
    };
    let plan = get_fsm::plan(inner, bk, props, &gopts)?;
    let current = match get_fsm::read(inner, plan, props, &gopts).await? {
        crate::get::core::GetOutcome::Found(o) => Some(o),
        crate::get::core::GetOutcome::NotFound(_) => None,
        crate::get::core::GetOutcome::Error(e) => return Err(e),
    };
    if opts.if_none_match && current.is_some() {
        return Err(KvError::MatchFound);
    }
    if let Some(expected) = &opts.if_not_modified {
        match current {
            None => return Err(KvError::NotFound),
            Some(o) if &o.clock != expected => return Err(KvError::Modified),
            Some(_) => {}
        }
    }
    Ok(())
}

/// The node to forward a write to when no vnode of its preference list
/// runs here (the coordinator must be one of them, as in Riak).
pub(crate) fn remote_coordinator(
    inner: &Inner,
    bk: &BucketKey,
    n: u32,
    sloppy: bool,
) -> Option<rill_core::NodeName> {
    let pl = get_fsm::preflist(inner, bk, n, sloppy);
    if pl.iter().any(|e| e.node == inner.cfg.node_name) {
        return None;
    }
    pl.first().map(|e| e.node.clone())
}

pub(crate) async fn forward(
    inner: &Arc<Inner>,
    node: &str,
    wire: remote::WirePut,
    timeout: Option<Duration>,
) -> Result<PutResult> {
    let rpc = inner
        .rpc
        .get()
        .ok_or_else(|| KvError::Storage(format!("node {node} unreachable")))?;
    let msg = remote::KvWire::Put(Box::new(wire));
    let r = remote::call(rpc, node, &msg, inner.timeout(timeout)).await?;
    remote::put_reply(r)
}

/// A put (or delete) forwarded here by another node: never forwarded again.
pub(crate) async fn execute_forwarded(inner: &Arc<Inner>, p: remote::WirePut) -> Result<PutResult> {
    let props = inner.types.props(&p.bucket_type, &p.bucket)?;
    let n = get_fsm::request_n(&props, p.n_val)?;
    let quorum = write_quorum(
        &props,
        n,
        p.w.map(Quorum::N),
        p.dw.map(Quorum::N),
        p.pw.map(Quorum::N),
    )?;
    let bk = BucketKey {
        bucket_type: p.bucket_type.into_vec(),
        bucket: p.bucket.into_vec(),
        key: p.key.into_vec(),
    };
    let sloppy = p.sloppy_quorum.unwrap_or(true);
    let timeout = inner.timeout(p.timeout_ms.map(Duration::from_millis));
    let context = p.context.unwrap_or_default();
    if p.delete {
        crate::delete::tombstone(inner, &props, &bk, context, n, quorum, sloppy, timeout).await?;
        return Ok(PutResult {
            key: bk.key,
            object: None,
        });
    }
    let content = stamp(inner, p.content.into());
    let stored = write(
        inner,
        &props,
        Write {
            bk: bk.clone(),
            op: coordinate(&props, context, content),
            n,
            quorum,
            sloppy,
            timeout,
        },
    )
    .await?;
    let object = if p.return_body {
        Some(stored)
    } else if p.return_head {
        Some(get_fsm::head_only(stored))
    } else {
        None
    };
    Ok(PutResult {
        key: bk.key,
        object,
    })
}

pub(crate) async fn execute(inner: &Arc<Inner>, req: PutRequest) -> Result<PutResult> {
    let props = inner.types.props(&req.bucket_type, &req.bucket)?;
    let opts = req.options;
    let n = get_fsm::request_n(&props, opts.n_val)?;
    let quorum = write_quorum(&props, n, opts.w, opts.dw, opts.pw)?;
    let size = req.content.value.len();
    if size > inner.cfg.max_object_size {
        return Err(KvError::TooLarge(size));
    }
    if size > inner.cfg.warn_object_size {
        tracing::warn!(size, "large object written");
    }
    let key = req.key.unwrap_or_else(generate_key);
    let bk = BucketKey {
        bucket_type: req.bucket_type,
        bucket: req.bucket,
        key,
    };
    check_conditions(inner, &bk, &props, &opts).await?;
    let sloppy = opts.sloppy_quorum.unwrap_or(true);
    if let Some(node) = remote_coordinator(inner, &bk, n, sloppy) {
        let wire = remote::wire_put(&bk, req.context, &req.content, &opts, &quorum);
        return forward(inner, &node, wire, opts.timeout).await;
    }
    let content = stamp(inner, req.content);
    let stored = write(
        inner,
        &props,
        Write {
            bk: bk.clone(),
            op: coordinate(&props, req.context.unwrap_or_default(), content),
            n,
            quorum,
            sloppy,
            timeout: inner.timeout(opts.timeout),
        },
    )
    .await?;
    let object = if opts.return_body {
        Some(stored)
    } else if opts.return_head {
        Some(get_fsm::head_only(stored))
    } else {
        None
    };
    Ok(PutResult {
        key: bk.key,
        object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::NewContent;
    use crate::vnode::Forwarder;
    use crate::{KvConfig, KvService};

    /// The object each replica of `bk` holds, in preference-list order.
    async fn replicas(inner: &Arc<Inner>, bk: &BucketKey) -> Vec<Option<RiakObject>> {
        let key = keys::object_key(bk).unwrap();
        let mut out = Vec::new();
        for e in get_fsm::preflist(inner, bk, 3, true) {
            let key = key.clone();
            let got = inner.call(&e, |reply| KvCommand::Get { key, reply }).await;
            out.push(got.unwrap());
        }
        out
    }

    /// A coordinating vnode in a handoff forwards its write instead of
    /// handing it to the replicas itself; a put acknowledged by it alone
    /// (w=1) must still reach the other replicas.
    #[tokio::test]
    async fn replicas_get_a_write_the_coordinating_vnode_did_not_send_them() {
        let kv = KvService::open(KvConfig::default(), rill_storage::memory()).unwrap();
        let inner = kv.inner.clone();
        let bk = BucketKey::new(b"default", b"b", b"k");
        let coord = get_fsm::preflist(&inner, &bk, 3, true)[0].clone();
        let forward = Forwarder {
            send: Arc::new(|_key, _obj, done: Box<dyn FnOnce(bool) + Send>| done(true)),
        };
        inner
            .vnodes
            .send(coord.partition, KvCommand::HandoffStart { forward })
            .unwrap();
        let req = PutRequest {
            bucket_type: b"default".to_vec(),
            bucket: b"b".to_vec(),
            key: Some(b"k".to_vec()),
            context: None,
            content: NewContent {
                value: b"v".to_vec(),
                ..NewContent::default()
            },
            options: PutOptions {
                w: Some(Quorum::One),
                dw: Some(Quorum::One),
                ..PutOptions::default()
            },
        };
        kv.put(req).await.unwrap();
        let mut held = Vec::new();
        for _ in 0..200 {
            held = replicas(&inner, &bk).await;
            if held.iter().all(Option::is_some) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            held.iter()
                .all(|o| o.as_ref().map(|o| o.siblings[0].value.as_slice()) == Some(b"v")),
            "every replica holds the write: {held:?}"
        );
    }

    #[test]
    fn generated_keys_are_base62_and_distinct() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert!(a.len() >= 20 && a.len() <= 28, "{}", a.len());
        assert!(a.iter().all(|c| c.is_ascii_alphanumeric()));
    }
}
