//! Bucket requests: properties of buckets and bucket types (get, set,
//! reset) and listing buckets and keys, plus the copy between the wire's
//! `RpbBucketProps` and the KV layer's `PbProps`.
//!
//! Validation and storage of properties belong to the KV layer; listings
//! are handed back to the connection to stream.

use rill_kv::bucket::{PbCommitHook, PbModFun, PbProps};
use rill_kv::{KvService, PropsUpdate};
use rill_proto::Response;
use rill_proto::messages::{
    RpbBucketProps, RpbCommitHook, RpbGetBucketReq, RpbGetBucketResp, RpbGetBucketTypeReq,
    RpbListBucketsReq, RpbListBucketsResp, RpbListKeysReq, RpbModFun, RpbResetBucketReq,
    RpbSetBucketReq, RpbSetBucketTypeReq,
};

use crate::error::PbError;
use crate::object::{timeout, type_or_default};
use crate::service::{Listing, Reply};

/// `RpbGetBucketReq` → `RpbGetBucketResp` with the bucket's effective props.
pub(crate) async fn get_bucket(kv: &KvService, req: RpbGetBucketReq) -> Result<Response, PbError> {
    let t = type_or_default(req.r#type);
    let props = kv.bucket_props(&t, &req.bucket).await?;
    Ok(props_response(props.to_pb()))
}

/// `RpbSetBucketReq` → empty `RpbSetBucketResp`.
pub(crate) async fn set_bucket(kv: &KvService, req: RpbSetBucketReq) -> Result<Response, PbError> {
    let t = type_or_default(req.r#type);
    let update = PropsUpdate::Pb(Box::new(props_from_pb(req.props)));
    kv.set_bucket_props(&t, &req.bucket, update).await?;
    Ok(Response::SetBucket)
}

/// `RpbResetBucketReq` → empty `RpbResetBucketResp`; the bucket inherits
/// its type's props again.
pub(crate) async fn reset_bucket(
    kv: &KvService,
    req: RpbResetBucketReq,
) -> Result<Response, PbError> {
    let t = type_or_default(req.r#type);
    kv.reset_bucket_props(&t, &req.bucket).await?;
    Ok(Response::ResetBucket)
}

/// `RpbGetBucketTypeReq` → `RpbGetBucketResp` with the type's props.
pub(crate) async fn get_type(
    kv: &KvService,
    req: RpbGetBucketTypeReq,
) -> Result<Response, PbError> {
    let props = kv
        .type_props(&req.r#type)
        .await
        .map_err(|e| PbError::from_kv_type(e, &req.r#type, false))?;
    Ok(props_response(props.to_pb()))
}

/// `RpbSetBucketTypeReq` → empty `RpbSetBucketResp`. The `default` type
/// cannot be changed over the wire, as in Riak.
pub(crate) async fn set_type(
    kv: &KvService,
    req: RpbSetBucketTypeReq,
) -> Result<Response, PbError> {
    if req.r#type == b"default" {
        return Err(PbError::no_default_update());
    }
    let update = PropsUpdate::Pb(Box::new(props_from_pb(req.props)));
    kv.set_type_props(&req.r#type, update)
        .await
        .map_err(|e| PbError::from_kv_type(e, &req.r#type, true))?;
    Ok(Response::SetBucket)
}

/// `RpbListBucketsReq`: one `RpbListBucketsResp` without `done`, or with
/// `stream` several, the last with `done`.
pub(crate) async fn list_buckets(kv: &KvService, req: RpbListBucketsReq) -> Reply {
    let t = type_or_default(req.r#type);
    let mut names = match kv.list_buckets(&t, timeout(req.timeout)).await {
        Ok(names) => names,
        Err(e) => return Reply::One(PbError::from_kv(e).to_response()),
    };
    if req.stream == Some(true) {
        return Reply::Names(names, Listing::Buckets);
    }
    let mut buckets = Vec::new();
    while let Some(batch) = names.recv().await {
        match batch {
            Ok(batch) => buckets.extend(batch),
            Err(e) => return Reply::One(PbError::from_kv(e).to_response()),
        }
    }
    Reply::One(Response::ListBuckets(RpbListBucketsResp {
        buckets,
        done: None,
    }))
}

/// `RpbListKeysReq`: always streamed, ending with `done`.
pub(crate) async fn list_keys(kv: &KvService, req: RpbListKeysReq) -> Reply {
    let t = type_or_default(req.r#type);
    match kv.list_keys(&t, &req.bucket, timeout(req.timeout)).await {
        Ok(names) => Reply::Names(names, Listing::Keys),
        Err(e) => Reply::One(PbError::from_kv(e).to_response()),
    }
}

fn props_response(props: PbProps) -> Response {
    Response::GetBucket(RpbGetBucketResp {
        props: props_to_pb(props),
    })
}

fn modfun_to_pb(m: PbModFun) -> RpbModFun {
    RpbModFun {
        module: m.module,
        function: m.function,
    }
}

fn modfun_from_pb(m: RpbModFun) -> PbModFun {
    PbModFun {
        module: m.module,
        function: m.function,
    }
}

fn hook_to_pb(h: PbCommitHook) -> RpbCommitHook {
    RpbCommitHook {
        modfun: h.modfun.map(modfun_to_pb),
        name: h.name,
    }
}

fn hook_from_pb(h: RpbCommitHook) -> PbCommitHook {
    PbCommitHook {
        modfun: h.modfun.map(modfun_from_pb),
        name: h.name,
    }
}

/// Field-for-field copy; the two structs share Riak's field list.
pub(crate) fn props_to_pb(p: PbProps) -> RpbBucketProps {
    RpbBucketProps {
        n_val: p.n_val,
        allow_mult: p.allow_mult,
        last_write_wins: p.last_write_wins,
        precommit: p.precommit.into_iter().map(hook_to_pb).collect(),
        has_precommit: p.has_precommit,
        postcommit: p.postcommit.into_iter().map(hook_to_pb).collect(),
        has_postcommit: p.has_postcommit,
        chash_keyfun: p.chash_keyfun.map(modfun_to_pb),
        linkfun: p.linkfun.map(modfun_to_pb),
        old_vclock: p.old_vclock,
        young_vclock: p.young_vclock,
        big_vclock: p.big_vclock,
        small_vclock: p.small_vclock,
        pr: p.pr,
        r: p.r,
        w: p.w,
        pw: p.pw,
        dw: p.dw,
        rw: p.rw,
        basic_quorum: p.basic_quorum,
        notfound_ok: p.notfound_ok,
        backend: p.backend,
        search: p.search,
        repl: p.repl,
        search_index: p.search_index,
        datatype: p.datatype,
        consistent: p.consistent,
        write_once: p.write_once,
        hll_precision: p.hll_precision,
    }
}

/// Field-for-field copy of a set request's props.
pub(crate) fn props_from_pb(p: RpbBucketProps) -> PbProps {
    PbProps {
        n_val: p.n_val,
        allow_mult: p.allow_mult,
        last_write_wins: p.last_write_wins,
        precommit: p.precommit.into_iter().map(hook_from_pb).collect(),
        has_precommit: p.has_precommit,
        postcommit: p.postcommit.into_iter().map(hook_from_pb).collect(),
        has_postcommit: p.has_postcommit,
        chash_keyfun: p.chash_keyfun.map(modfun_from_pb),
        linkfun: p.linkfun.map(modfun_from_pb),
        old_vclock: p.old_vclock,
        young_vclock: p.young_vclock,
        big_vclock: p.big_vclock,
        small_vclock: p.small_vclock,
        pr: p.pr,
        r: p.r,
        w: p.w,
        pw: p.pw,
        dw: p.dw,
        rw: p.rw,
        basic_quorum: p.basic_quorum,
        notfound_ok: p.notfound_ok,
        backend: p.backend,
        search: p.search,
        repl: p.repl,
        search_index: p.search_index,
        datatype: p.datatype,
        consistent: p.consistent,
        write_once: p.write_once,
        hll_precision: p.hll_precision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_kv::bucket::BucketProps;

    #[test]
    fn props_survive_both_copies() {
        let mut pb = BucketProps::default_type().to_pb();
        pb.precommit = vec![
            PbCommitHook {
                modfun: Some(PbModFun {
                    module: b"m".to_vec(),
                    function: b"f".to_vec(),
                }),
                name: None,
            },
            PbCommitHook {
                modfun: None,
                name: Some(b"js".to_vec()),
            },
        ];
        pb.repl = Some(1);
        pb.hll_precision = Some(12);
        pb.datatype = Some(b"set".to_vec());
        let wire = props_to_pb(pb.clone());
        assert_eq!(wire.n_val, Some(3));
        assert_eq!(wire.precommit.len(), 2);
        assert_eq!(props_from_pb(wire), pb);
    }
}
