//! The delete coordinator (riak_kv_delete): a delete is a put of a
//! tombstone, written against the clock the client sent or, without one,
//! the clock read first. Once every primary holds the same tombstone it is
//! reaped from storage after `delete_mode`.

use crate::bucket::BucketProps;
use crate::config::DeleteMode;
use crate::error::Result;
use crate::get::core::GetOutcome;
use crate::get::fsm as get_fsm;
use crate::keys;
use crate::object::{Content, RiakObject, new_vtag};
use crate::put::fsm::{self as put_fsm, Write};
use crate::request::{BucketKey, DeleteOptions, DeleteOutcome, DeleteRequest, GetOptions};
use crate::service::Inner;
use crate::vnode::KvCommand;
use rill_core::apl;
use rill_core::chash;
use std::sync::Arc;
use std::time::Duration;

/// Riak waits this long after the tombstone write before checking replicas.
const TOMBSTONE_PAUSE: Duration = Duration::from_millis(2);

pub(crate) async fn execute(inner: &Arc<Inner>, req: DeleteRequest) -> Result<DeleteOutcome> {
    let props = inner.types.props(&req.key.bucket_type, &req.key.bucket)?;
    let opts = &req.options;
    let n = get_fsm::request_n(&props, opts.n_val)?;
    // `rw` stands in for `r` and `w` when those are not given.
    let r = opts.r.or(opts.rw);
    let w = opts.w.or(opts.rw);
    let quorum = put_fsm::write_quorum(&props, n, w, opts.dw, opts.pw)?;
    let context = match &req.context {
        Some(c) => c.clone(),
        None => match read_current(inner, &req.key, &props, opts, r).await? {
            Some(o) => o.clock,
            None => return Ok(DeleteOutcome::NotFound),
        },
    };
    let sloppy = opts.sloppy_quorum.unwrap_or(true);
    let timeout = inner.timeout(opts.timeout);
    if let Some(node) = put_fsm::remote_coordinator(inner, &req.key, n, sloppy) {
        let put_opts = crate::request::PutOptions {
            timeout: opts.timeout,
            n_val: opts.n_val,
            sloppy_quorum: opts.sloppy_quorum,
            ..Default::default()
        };
        let mut wire = crate::remote::wire_put(
            &req.key,
            Some(context),
            &Default::default(),
            &put_opts,
            &quorum,
        );
        wire.delete = true;
        put_fsm::forward(inner, &node, wire, opts.timeout).await?;
        return Ok(DeleteOutcome::Deleted);
    }
    tombstone(inner, &props, &req.key, context, n, quorum, sloppy, timeout).await?;
    Ok(DeleteOutcome::Deleted)
}

/// Writes a tombstone against `context` and, once every primary holds it,
/// has it reaped.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn tombstone(
    inner: &Arc<Inner>,
    props: &BucketProps,
    bk: &BucketKey,
    context: crate::object::VClock,
    n: u32,
    quorum: put_fsm::WriteQuorum,
    sloppy: bool,
    timeout: Duration,
) -> Result<()> {
    let content = Content::tombstone(new_vtag(&mut rand::rng()), inner.clock.now_us());
    let tomb = put_fsm::write(
        inner,
        props,
        Write {
            bk: bk.clone(),
            op: put_fsm::coordinate(props, context, content),
            n,
            quorum,
            sloppy,
            timeout,
        },
    )
    .await?;
    if tomb.is_tombstone() {
        let inner = inner.clone();
        let bk = bk.clone();
        tokio::spawn(async move { reap(&inner, &bk, n, tomb).await });
    }
    Ok(())
}

async fn read_current(
    inner: &Arc<Inner>,
    bk: &BucketKey,
    props: &BucketProps,
    opts: &DeleteOptions,
    r: Option<crate::bucket::Quorum>,
) -> Result<Option<RiakObject>> {
    let gopts = GetOptions {
        r,
        pr: opts.pr,
        timeout: opts.timeout,
        n_val: opts.n_val,
        sloppy_quorum: opts.sloppy_quorum,
        ..GetOptions::default()
    };
    let plan = get_fsm::plan(inner, bk, props, &gopts)?;
    match get_fsm::read(inner, plan, props, &gopts).await? {
        GetOutcome::Found(o) => Ok(Some(o)),
        GetOutcome::NotFound(_) => Ok(None),
        GetOutcome::Error(e) => Err(e),
    }
}

/// Ask every primary for its copy; only if all hold this very tombstone
/// may they drop it (otherwise a stale replica could resurrect the value).
async fn reap(inner: &Arc<Inner>, bk: &BucketKey, n: u32, tomb: RiakObject) {
    let delay = match inner.cfg.delete_mode {
        DeleteMode::Keep => return,
        DeleteMode::Immediate => None,
        DeleteMode::Delay(d) => Some(d),
    };
    tokio::time::sleep(TOMBSTONE_PAUSE).await;
    let Ok(key) = keys::object_key(bk) else {
        return;
    };
    let hash = chash::key_hash(&bk.bucket_type, &bk.bucket, &bk.key);
    let ring = inner.ring();
    let primaries = apl::primaries(&ring, ring.partition_of(&hash), n as usize);
    for e in &primaries {
        let k = key.clone();
        match inner
            .call(e, |reply| KvCommand::Get { key: k, reply })
            .await
        {
            Ok(Some(o)) if o.is_tombstone() && o.clock == tomb.clock => {}
            _ => return,
        }
    }
    for e in &primaries {
        inner.cast(
            e,
            KvCommand::Reap {
                key: key.clone(),
                clock: tomb.clock.clone(),
                delay,
            },
        );
    }
}
