//! Per-request options: quorums, timeouts, bucket type and the flags of
//! get, put, delete and listing requests. Absent values are left out of the
//! request, so the bucket's properties decide (Riak's rule).
//!
//! Each options struct builds its wire request here; nothing is validated
//! beyond what the wire format itself requires.

use bytes::Bytes;
use rill_proto::Quorum;
use rill_proto::messages::{
    DtFetchReq, DtUpdateReq, RpbDelReq, RpbGetReq, RpbListBucketsReq, RpbListKeysReq, RpbPutReq,
};

use crate::datatype::DtUpdate;
use crate::object::Content;

fn q(v: Option<Quorum>) -> Option<u32> {
    v.map(Quorum::to_wire)
}

fn bytes(v: &Option<Bytes>) -> Option<Vec<u8>> {
    v.as_ref().map(|b| b.to_vec())
}

/// Options of a get (`RpbGetReq`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetOptions {
    pub r: Option<Quorum>,
    pub pr: Option<Quorum>,
    pub basic_quorum: Option<bool>,
    pub notfound_ok: Option<bool>,
    /// Server-side timeout in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Fetch metadata only (values come back empty).
    pub head: bool,
    /// Return a tombstone's vclock instead of not-found.
    pub deletedvclock: bool,
    /// Answer `unchanged` if the object's vclock still equals this one.
    pub if_modified: Option<Bytes>,
    /// Bucket type; `None` means `default`.
    pub bucket_type: Option<Bytes>,
}

impl GetOptions {
    pub(crate) fn request(&self, bucket: &[u8], key: &[u8]) -> RpbGetReq {
        RpbGetReq {
            bucket: bucket.to_vec(),
            key: key.to_vec(),
            r: q(self.r),
            pr: q(self.pr),
            basic_quorum: self.basic_quorum,
            notfound_ok: self.notfound_ok,
            if_modified: bytes(&self.if_modified),
            head: self.head.then_some(true),
            deletedvclock: self.deletedvclock.then_some(true),
            timeout: self.timeout_ms,
            sloppy_quorum: None,
            n_val: None,
            r#type: bytes(&self.bucket_type),
            node_confirms: None,
        }
    }
}

/// Options of a put (`RpbPutReq`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// The causal context read before this write; `None` writes blind.
    pub vclock: Option<Bytes>,
    pub w: Option<Quorum>,
    pub dw: Option<Quorum>,
    pub pw: Option<Quorum>,
    /// Return the stored siblings and the new vclock.
    pub return_body: bool,
    /// Like `return_body`, with empty values.
    pub return_head: bool,
    /// Fail with `match_found` if the key exists.
    pub if_none_match: bool,
    /// Fail with `modified` if the stored vclock differs from `vclock`.
    pub if_not_modified: bool,
    /// Server-side timeout in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Bucket type; `None` means `default`.
    pub bucket_type: Option<Bytes>,
}

impl PutOptions {
    pub(crate) fn request(
        &self,
        bucket: &[u8],
        key: Option<&[u8]>,
        content: &Content,
    ) -> RpbPutReq {
        RpbPutReq {
            bucket: bucket.to_vec(),
            key: key.map(<[u8]>::to_vec),
            vclock: bytes(&self.vclock),
            content: content.to_wire(),
            w: q(self.w),
            dw: q(self.dw),
            return_body: self.return_body.then_some(true),
            pw: q(self.pw),
            if_not_modified: self.if_not_modified.then_some(true),
            if_none_match: self.if_none_match.then_some(true),
            return_head: self.return_head.then_some(true),
            timeout: self.timeout_ms,
            asis: None,
            sloppy_quorum: None,
            n_val: None,
            r#type: bytes(&self.bucket_type),
            node_confirms: None,
        }
    }
}

/// Options of a delete (`RpbDelReq`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// The context of the object being deleted; without it the server reads
    /// the object first.
    pub vclock: Option<Bytes>,
    pub rw: Option<Quorum>,
    pub r: Option<Quorum>,
    pub w: Option<Quorum>,
    pub pr: Option<Quorum>,
    pub pw: Option<Quorum>,
    pub dw: Option<Quorum>,
    /// Server-side timeout in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Bucket type; `None` means `default`.
    pub bucket_type: Option<Bytes>,
}

impl DeleteOptions {
    pub(crate) fn request(&self, bucket: &[u8], key: &[u8]) -> RpbDelReq {
        RpbDelReq {
            bucket: bucket.to_vec(),
            key: key.to_vec(),
            rw: q(self.rw),
            vclock: bytes(&self.vclock),
            r: q(self.r),
            w: q(self.w),
            pr: q(self.pr),
            pw: q(self.pw),
            dw: q(self.dw),
            timeout: self.timeout_ms,
            sloppy_quorum: None,
            n_val: None,
            r#type: bytes(&self.bucket_type),
        }
    }
}

/// Options of a data type fetch (`DtFetchReq`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DtFetchOptions {
    pub r: Option<Quorum>,
    pub pr: Option<Quorum>,
    pub basic_quorum: Option<bool>,
    pub notfound_ok: Option<bool>,
    /// Server-side timeout in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Whether the reply carries the causal context; `None` leaves it to
    /// the server, which includes it.
    pub include_context: Option<bool>,
}

impl DtFetchOptions {
    pub(crate) fn request(&self, bucket_type: &[u8], bucket: &[u8], key: &[u8]) -> DtFetchReq {
        DtFetchReq {
            bucket: bucket.to_vec(),
            key: key.to_vec(),
            r#type: bucket_type.to_vec(),
            r: q(self.r),
            pr: q(self.pr),
            basic_quorum: self.basic_quorum,
            notfound_ok: self.notfound_ok,
            timeout: self.timeout_ms,
            sloppy_quorum: None,
            n_val: None,
            include_context: self.include_context,
            node_confirms: None,
        }
    }
}

/// Options of a data type update (`DtUpdateReq`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DtUpdateOptions {
    /// The context of an earlier fetch; removes need it.
    pub context: Option<Bytes>,
    pub w: Option<Quorum>,
    pub dw: Option<Quorum>,
    pub pw: Option<Quorum>,
    /// Return the new value (and, unless `include_context` is false, its
    /// context).
    pub return_body: bool,
    pub include_context: Option<bool>,
    /// Server-side timeout in milliseconds.
    pub timeout_ms: Option<u32>,
}

impl DtUpdateOptions {
    pub(crate) fn request(
        &self,
        bucket_type: &[u8],
        bucket: &[u8],
        key: Option<&[u8]>,
        update: &DtUpdate,
    ) -> DtUpdateReq {
        DtUpdateReq {
            bucket: bucket.to_vec(),
            key: key.map(<[u8]>::to_vec),
            r#type: bucket_type.to_vec(),
            context: bytes(&self.context),
            op: update.to_wire(),
            w: q(self.w),
            dw: q(self.dw),
            pw: q(self.pw),
            return_body: self.return_body.then_some(true),
            timeout: self.timeout_ms,
            sloppy_quorum: None,
            n_val: None,
            include_context: self.include_context,
            node_confirms: None,
        }
    }
}

/// Options of key and bucket listings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Server-side timeout in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Bucket type; `None` means `default`.
    pub bucket_type: Option<Bytes>,
}

impl ListOptions {
    pub(crate) fn keys_request(&self, bucket: &[u8]) -> RpbListKeysReq {
        RpbListKeysReq {
            bucket: bucket.to_vec(),
            timeout: self.timeout_ms,
            r#type: bytes(&self.bucket_type),
        }
    }

    pub(crate) fn buckets_request(&self) -> RpbListBucketsReq {
        RpbListBucketsReq {
            timeout: self.timeout_ms,
            stream: None,
            r#type: bytes(&self.bucket_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_options_stay_off_the_wire() {
        let req = GetOptions::default().request(b"b", b"k");
        assert_eq!(req.r, None);
        assert_eq!(req.head, None);
        assert_eq!(req.deletedvclock, None);
        assert_eq!(req.r#type, None);
    }

    #[test]
    fn symbolic_quorums_use_riak_magic_values() {
        let opts = PutOptions {
            w: Some(Quorum::Quorum),
            dw: Some(Quorum::N(2)),
            bucket_type: Some(Bytes::from_static(b"t")),
            return_body: true,
            ..PutOptions::default()
        };
        let req = opts.request(b"b", None, &Content::new("v", "text/plain"));
        assert_eq!(req.w, Some(rill_proto::quorum::QUORUM));
        assert_eq!(req.dw, Some(2));
        assert_eq!(req.key, None);
        assert_eq!(req.return_body, Some(true));
        assert_eq!(req.r#type.as_deref(), Some(&b"t"[..]));
    }
}
