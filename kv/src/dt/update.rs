//! The data type update coordinator (riak_kv_put_fsm with a `crdt_op`):
//! check the bucket and the op, then let a local vnode of the preference
//! list apply the op as the actor (`PutOp::DtUpdate`) and replicate its
//! result like a put. Without a local vnode the whole request is forwarded
//! to a node that has one.

use super::{DtUpdateRequest, DtUpdateResult, bucket_kind, datatype_of};
use crate::bucket::{BucketProps, Quorum};
use crate::crdt::{Context, DataKind, DtOp, check_op_kind};
use crate::error::{KvError, Result};
use crate::get::fsm as get_fsm;
use crate::object::{Metadata, RiakObject, new_vtag};
use crate::put::fsm::{self as put_fsm, Write, WriteQuorum};
use crate::remote;
use crate::request::BucketKey;
use crate::service::Inner;
use crate::vnode::PutOp;
use std::sync::Arc;
use std::time::Duration;

/// The bucket's kind, after Riak's checks of the bucket and of the op.
fn check(props: &BucketProps, bucket_type: &[u8], op: &DtOp) -> Result<DataKind> {
    let kind = bucket_kind(props, bucket_type)?;
    check_op_kind(op.kind(), kind)?;
    Ok(kind)
}

/// A client context: absent or empty means none.
fn context(bytes: Option<&[u8]>) -> Result<Option<Context>> {
    match bytes {
        None | Some([]) => Ok(None),
        Some(b) => Ok(Some(Context::decode(b)?)),
    }
}

/// Everything the coordinating node needs, resolved.
struct Coordinated {
    bk: BucketKey,
    op: DtOp,
    context: Option<Context>,
    kind: DataKind,
    n: u32,
    quorum: WriteQuorum,
    sloppy: bool,
    timeout: Duration,
}

async fn coordinate(inner: &Arc<Inner>, props: &BucketProps, c: Coordinated) -> Result<RiakObject> {
    let meta = Metadata {
        content_type: c.kind.content_type().to_string(),
        vtag: new_vtag(&mut rand::rng()),
        last_modified_us: inner.clock.now_us(),
        ..Metadata::default()
    };
    let op = PutOp::DtUpdate {
        op: c.op,
        context: c.context,
        kind: c.kind,
        hll_precision: props.hll_precision,
        meta,
    };
    put_fsm::write(
        inner,
        props,
        Write {
            bk: c.bk,
            op,
            n: c.n,
            quorum: c.quorum,
            sloppy: c.sloppy,
            timeout: c.timeout,
        },
    )
    .await
}

pub(crate) async fn execute(inner: &Arc<Inner>, req: DtUpdateRequest) -> Result<DtUpdateResult> {
    let props = inner.types.props(&req.bucket_type, &req.bucket)?;
    let kind = check(&props, &req.bucket_type, &req.op)?;
    let ctx = context(req.context.as_deref())?;
    let opts = &req.options;
    let n = get_fsm::request_n(&props, opts.n_val)?;
    let quorum = put_fsm::write_quorum(&props, n, opts.w, opts.dw, opts.pw)?;
    let bk = BucketKey {
        bucket_type: req.bucket_type,
        bucket: req.bucket,
        key: req.key.unwrap_or_else(put_fsm::generate_key),
    };
    let sloppy = opts.sloppy_quorum.unwrap_or(true);
    let stored = if let Some(node) = put_fsm::remote_coordinator(inner, &bk, n, sloppy) {
        let wire = remote::WireDtUpdate {
            bucket_type: bk.bucket_type.clone().into(),
            bucket: bk.bucket.clone().into(),
            key: bk.key.clone().into(),
            op: req.op,
            context: req.context.map(Into::into),
            w: Some(quorum.w),
            dw: Some(quorum.dw),
            pw: Some(quorum.pw),
            return_body: opts.return_body,
            timeout_ms: opts.timeout.map(|t| t.as_millis() as u64),
            n_val: opts.n_val,
            sloppy_quorum: opts.sloppy_quorum,
        };
        let rpc = inner
            .rpc
            .get()
            .ok_or_else(|| KvError::Storage(format!("node {node} unreachable")))?;
        let msg = remote::KvWire::DtUpdate(Box::new(wire));
        let r = remote::call(rpc, &node, &msg, inner.timeout(opts.timeout)).await?;
        remote::put_reply(r)?.object
    } else {
        let c = Coordinated {
            bk: bk.clone(),
            op: req.op,
            context: ctx,
            kind,
            n,
            quorum,
            sloppy,
            timeout: inner.timeout(opts.timeout),
        };
        Some(coordinate(inner, &props, c).await?)
    };
    let value = match stored {
        Some(obj) if opts.return_body => datatype_of([&obj])?,
        _ => None,
    };
    Ok(DtUpdateResult { key: bk.key, value })
}

/// An update forwarded here by another node: never forwarded again. The
/// stored object comes back with `return_body`.
pub(crate) async fn execute_forwarded(
    inner: &Arc<Inner>,
    w: remote::WireDtUpdate,
) -> Result<(Vec<u8>, Option<RiakObject>)> {
    let props = inner.types.props(&w.bucket_type, &w.bucket)?;
    let kind = check(&props, &w.bucket_type, &w.op)?;
    let ctx = context(w.context.as_ref().map(|b| b.as_slice()))?;
    let n = get_fsm::request_n(&props, w.n_val)?;
    let quorum = put_fsm::write_quorum(
        &props,
        n,
        w.w.map(Quorum::N),
        w.dw.map(Quorum::N),
        w.pw.map(Quorum::N),
    )?;
    let bk = BucketKey {
        bucket_type: w.bucket_type.into_vec(),
        bucket: w.bucket.into_vec(),
        key: w.key.into_vec(),
    };
    let c = Coordinated {
        bk: bk.clone(),
        op: w.op,
        context: ctx,
        kind,
        n,
        quorum,
        sloppy: w.sloppy_quorum.unwrap_or(true),
        timeout: inner.timeout(w.timeout_ms.map(Duration::from_millis)),
    };
    let stored = coordinate(inner, &props, c).await?;
    Ok((bk.key, w.return_body.then_some(stored)))
}
