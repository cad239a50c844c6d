//! Object requests (`RpbGetReq`, `RpbPutReq`, `RpbDelReq`) and the mapping
//! between `RpbContent` and the KV layer's content and sibling metadata
//! (riak_kv_pb_object and riak_pb_kv_codec in Riak).
//!
//! Quorums, conditionals and sibling handling are the KV service's job;
//! this module validates names, translates options and shapes replies.

use std::time::Duration;

use rill_kv::bucket::Quorum;
use rill_kv::object::{Link, Sibling, VClock, decode_context, encode_context};
use rill_kv::{
    BucketKey, DeleteOptions, DeleteRequest, GetOptions, GetResult, KvError, KvService, NewContent,
    PutOptions, PutRequest,
};
use rill_proto::Response;
use rill_proto::messages::{
    RpbContent, RpbDelReq, RpbGetReq, RpbGetResp, RpbLink, RpbPair, RpbPutReq, RpbPutResp,
};

use crate::error::PbError;

/// The bucket type a request names; absent means `default`.
pub(crate) fn type_or_default(bucket_type: Option<Vec<u8>>) -> Vec<u8> {
    bucket_type.unwrap_or_else(|| b"default".to_vec())
}

/// Riak's checks, in Riak's order: bucket, then key, then type.
fn check_names(
    bucket: &[u8],
    key: Option<&[u8]>,
    bucket_type: Option<&[u8]>,
) -> Result<(), PbError> {
    if bucket.is_empty() {
        return Err(PbError::zero_length("Bucket"));
    }
    if key.is_some_and(<[u8]>::is_empty) {
        return Err(PbError::zero_length("Key"));
    }
    if bucket_type.is_some_and(<[u8]>::is_empty) {
        return Err(PbError::zero_length("Type"));
    }
    Ok(())
}

fn quorum(v: Option<u32>) -> Option<Quorum> {
    v.map(Quorum::from_pb)
}

/// PB timeouts are milliseconds.
pub(crate) fn timeout(ms: Option<u32>) -> Option<Duration> {
    ms.map(|ms| Duration::from_millis(u64::from(ms)))
}

/// A client context; `None` when absent or empty (a blind write).
fn context(vclock: Option<&[u8]>) -> Result<Option<VClock>, PbError> {
    match vclock {
        None | Some([]) => Ok(None),
        Some(bytes) => decode_context(bytes).map(Some).map_err(PbError::bad_vclock),
    }
}

/// `RpbGetReq` → `RpbGetResp`: one content per sibling; empty when not
/// found; only the vclock for a tombstone with `deletedvclock`;
/// `unchanged` when `if_modified` matches.
pub(crate) async fn get(kv: &KvService, req: RpbGetReq) -> Result<Response, PbError> {
    check_names(&req.bucket, Some(&req.key), req.r#type.as_deref())?;
    let if_modified = match req.if_modified.as_deref() {
        None => None,
        Some(bytes) => Some(decode_context(bytes).map_err(PbError::bad_vclock)?),
    };
    let opts = GetOptions {
        r: quorum(req.r),
        pr: quorum(req.pr),
        basic_quorum: req.basic_quorum,
        notfound_ok: req.notfound_ok,
        timeout: timeout(req.timeout),
        deleted_vclock: req.deletedvclock.unwrap_or(false),
        head: req.head.unwrap_or(false),
        if_modified,
        n_val: req.n_val,
        sloppy_quorum: req.sloppy_quorum,
    };
    let bk = BucketKey {
        bucket_type: type_or_default(req.r#type),
        bucket: req.bucket,
        key: req.key,
    };
    let resp = match kv.get(bk, opts).await? {
        GetResult::Found(obj) => RpbGetResp {
            vclock: Some(encode_context(&obj.clock)),
            // The values move into the reply rather than being copied.
            content: obj.siblings.into_iter().map(sibling_to_pb).collect(),
            unchanged: None,
        },
        GetResult::NotFound => RpbGetResp::default(),
        GetResult::Deleted(clock) => RpbGetResp {
            vclock: Some(encode_context(&clock)),
            ..RpbGetResp::default()
        },
        GetResult::Unchanged => RpbGetResp {
            unchanged: Some(true),
            ..RpbGetResp::default()
        },
    };
    Ok(Response::Get(resp))
}

/// `RpbPutReq` → `RpbPutResp`: empty, plus the key when the server made
/// one up, plus contents and vclock with `return_body` / `return_head`.
pub(crate) async fn put(kv: &KvService, req: RpbPutReq) -> Result<Response, PbError> {
    check_names(&req.bucket, req.key.as_deref(), req.r#type.as_deref())?;
    let generated = req.key.is_none();
    let if_not_modified = if req.if_not_modified == Some(true) {
        // Riak compares against the sent vclock, or a fresh one if none.
        Some(context(req.vclock.as_deref())?.unwrap_or_default())
    } else {
        None
    };
    let return_head = req.return_head.unwrap_or(false);
    let options = PutOptions {
        w: quorum(req.w),
        dw: quorum(req.dw),
        pw: quorum(req.pw),
        // Riak blanks the values whenever return_head is set, even with
        // return_body.
        return_body: req.return_body.unwrap_or(false) && !return_head,
        return_head,
        if_not_modified,
        if_none_match: req.if_none_match.unwrap_or(false),
        timeout: timeout(req.timeout),
        n_val: req.n_val,
        sloppy_quorum: req.sloppy_quorum,
    };
    let put = PutRequest {
        bucket_type: type_or_default(req.r#type),
        bucket: req.bucket,
        key: req.key,
        context: context(req.vclock.as_deref())?,
        content: content_from_pb(req.content),
        options,
    };
    let result = kv.put(put).await?;
    let mut resp = RpbPutResp::default();
    if generated {
        resp.key = Some(result.key);
    }
    if let Some(obj) = result.object {
        resp.vclock = Some(encode_context(&obj.clock));
        resp.content = obj.siblings.into_iter().map(sibling_to_pb).collect();
    }
    Ok(Response::Put(resp))
}

/// `RpbDelReq` → empty `RpbDelResp`, also when there was nothing to delete.
pub(crate) async fn delete(kv: &KvService, req: RpbDelReq) -> Result<Response, PbError> {
    check_names(&req.bucket, Some(&req.key), req.r#type.as_deref())?;
    let del = DeleteRequest {
        context: context(req.vclock.as_deref())?,
        key: BucketKey {
            bucket_type: type_or_default(req.r#type),
            bucket: req.bucket,
            key: req.key,
        },
        options: DeleteOptions {
            rw: quorum(req.rw),
            r: quorum(req.r),
            pr: quorum(req.pr),
            w: quorum(req.w),
            dw: quorum(req.dw),
            pw: quorum(req.pw),
            timeout: timeout(req.timeout),
            n_val: req.n_val,
            sloppy_quorum: req.sloppy_quorum,
        },
    };
    match kv.delete(del).await {
        Ok(_) | Err(KvError::NotFound) => Ok(Response::Del),
        Err(e) => Err(e.into()),
    }
}

fn text(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn pairs_from_pb(pairs: Vec<RpbPair>) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .into_iter()
        .map(|p| (p.key, p.value.unwrap_or_default()))
        .collect()
}

fn pairs_to_pb(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<RpbPair> {
    pairs
        .iter()
        .map(|(k, v)| RpbPair::new(k.clone(), v.clone()))
        .collect()
}

/// What a client writes. `vtag`, `last_mod` and `deleted` are ignored: the
/// coordinator stamps its own, and deleting is `RpbDelReq`'s job.
pub(crate) fn content_from_pb(c: RpbContent) -> NewContent {
    NewContent {
        value: c.value,
        content_type: text(c.content_type),
        charset: text(c.charset),
        content_encoding: text(c.content_encoding),
        usermeta: pairs_from_pb(c.usermeta),
        links: c
            .links
            .into_iter()
            .map(|l| Link {
                bucket: l.bucket.unwrap_or_default(),
                key: l.key.unwrap_or_default(),
                tag: l.tag.unwrap_or_default(),
            })
            .collect(),
        indexes: pairs_from_pb(c.indexes),
    }
}

/// One sibling as `RpbContent`. `last_mod` is whole seconds and
/// `last_mod_usecs` the microseconds within that second; `deleted` is sent
/// only on tombstones, as Riak does.
pub(crate) fn sibling_to_pb(s: Sibling) -> RpbContent {
    let m = &s.meta;
    let bytes = |v: &Option<String>| v.as_ref().map(|s| s.as_bytes().to_vec());
    RpbContent {
        content_type: Some(m.content_type.as_bytes().to_vec()),
        charset: bytes(&m.charset),
        content_encoding: bytes(&m.content_encoding),
        vtag: (!m.vtag.is_empty()).then(|| m.vtag.as_bytes().to_vec()),
        links: m
            .links
            .iter()
            .map(|l| RpbLink {
                bucket: Some(l.bucket.clone()),
                key: Some(l.key.clone()),
                tag: Some(l.tag.clone()),
            })
            .collect(),
        last_mod: Some((m.last_modified_us / 1_000_000) as u32),
        last_mod_usecs: Some((m.last_modified_us % 1_000_000) as u32),
        usermeta: pairs_to_pb(&m.usermeta),
        indexes: pairs_to_pb(&m.indexes),
        deleted: m.deleted.then_some(true),
        value: s.value,
    }
}

/// `RpbGetBucketKeyPreflistReq` → the vnodes a request on the key uses now
/// (partition numbers, node names, primary or fallback).
pub(crate) async fn preflist(
    kv: &KvService,
    req: rill_proto::messages::RpbGetBucketKeyPreflistReq,
) -> Result<Response, PbError> {
    check_names(&req.bucket, Some(&req.key), req.r#type.as_deref())?;
    let bk = BucketKey {
        bucket_type: type_or_default(req.r#type),
        bucket: req.bucket,
        key: req.key,
    };
    let preflist = kv
        .preflist(&bk)
        .await?
        .into_iter()
        .map(|e| rill_proto::messages::RpbBucketKeyPreflistItem {
            partition: e.partition as i64,
            node: e.node.into_bytes(),
            primary: e.primary,
        })
        .collect();
    Ok(Response::GetBucketKeyPreflist(
        rill_proto::messages::RpbGetBucketKeyPreflistResp { preflist },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_kv::object::{Actor, Dot, Metadata};

    #[test]
    fn zero_length_names_in_riak_order() {
        assert_eq!(
            check_names(b"", Some(b""), Some(b"")).unwrap_err().errmsg(),
            "Bucket cannot be zero-length"
        );
        assert_eq!(
            check_names(b"b", Some(b""), Some(b""))
                .unwrap_err()
                .errmsg(),
            "Key cannot be zero-length"
        );
        assert_eq!(
            check_names(b"b", None, Some(b"")).unwrap_err().errmsg(),
            "Type cannot be zero-length"
        );
        assert!(check_names(b"b", None, None).is_ok());
    }

    #[test]
    fn sibling_metadata_maps_field_for_field() {
        let s = Sibling {
            dot: Dot::new(Actor(1), 1),
            value: b"v".to_vec(),
            meta: Metadata {
                content_type: "text/plain".into(),
                charset: Some("utf-8".into()),
                content_encoding: None,
                vtag: "abc".into(),
                last_modified_us: 1_700_000_000_123_456,
                usermeta: vec![(b"k".to_vec(), b"v".to_vec())],
                links: vec![Link {
                    bucket: b"b".to_vec(),
                    key: b"k".to_vec(),
                    tag: b"t".to_vec(),
                }],
                indexes: vec![(b"f_int".to_vec(), b"7".to_vec())],
                deleted: false,
            },
        };
        let c = sibling_to_pb(s.clone());
        assert_eq!(c.last_mod, Some(1_700_000_000));
        assert_eq!(c.last_mod_usecs, Some(123_456));
        assert_eq!(c.vtag.as_deref(), Some(&b"abc"[..]));
        assert_eq!(c.content_encoding, None);
        assert_eq!(c.deleted, None);
        let back = content_from_pb(c);
        assert_eq!(back.value, b"v");
        assert_eq!(back.content_type.as_deref(), Some("text/plain"));
        assert_eq!(back.charset.as_deref(), Some("utf-8"));
        assert_eq!(back.links, s.meta.links);
        assert_eq!(back.usermeta, s.meta.usermeta);
        assert_eq!(back.indexes, s.meta.indexes);
    }
}
