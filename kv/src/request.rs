//! The requests the KV service answers and their options, independent of
//! the wire (HTTP and PB both build these).
//!
//! Absent options mean "the bucket's default", as in Riak.

use crate::bucket::Quorum;
use crate::object::{Link, RiakObject, VClock};
use std::time::Duration;

/// Where an object lives: bucket type, bucket, key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketKey {
    pub bucket_type: Vec<u8>,
    pub bucket: Vec<u8>,
    pub key: Vec<u8>,
}

impl BucketKey {
    pub fn new(bucket_type: &[u8], bucket: &[u8], key: &[u8]) -> Self {
        BucketKey {
            bucket_type: bucket_type.to_vec(),
            bucket: bucket.to_vec(),
            key: key.to_vec(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct GetOptions {
    pub r: Option<Quorum>,
    pub pr: Option<Quorum>,
    pub basic_quorum: Option<bool>,
    pub notfound_ok: Option<bool>,
    pub timeout: Option<Duration>,
    /// Return the clock of a tombstone (`GetResult::Deleted`) instead of `NotFound`.
    pub deleted_vclock: bool,
    /// Return metadata only (values emptied).
    pub head: bool,
    /// Answer `Unchanged` when the stored clock equals this one.
    pub if_modified: Option<VClock>,
    pub n_val: Option<u32>,
    pub sloppy_quorum: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GetResult {
    /// The merged object; it may hold several siblings, some of them tombstones.
    Found(RiakObject),
    NotFound,
    /// Every sibling is a tombstone; the clock is returned when asked for.
    Deleted(VClock),
    /// `if_modified` matched the stored clock.
    Unchanged,
}

/// The value and metadata a client writes; the server stamps vtag and time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewContent {
    pub value: Vec<u8>,
    /// None → `application/octet-stream`.
    pub content_type: Option<String>,
    pub charset: Option<String>,
    pub content_encoding: Option<String>,
    pub usermeta: Vec<(Vec<u8>, Vec<u8>)>,
    pub links: Vec<Link>,
    pub indexes: Vec<(Vec<u8>, Vec<u8>)>,
}

#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    pub w: Option<Quorum>,
    pub dw: Option<Quorum>,
    pub pw: Option<Quorum>,
    pub return_body: bool,
    /// Return metadata without values.
    pub return_head: bool,
    /// Fail with `Modified` unless the stored clock equals this one.
    pub if_not_modified: Option<VClock>,
    /// Fail with `MatchFound` if the object exists.
    pub if_none_match: bool,
    pub timeout: Option<Duration>,
    pub n_val: Option<u32>,
    pub sloppy_quorum: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct PutRequest {
    pub bucket_type: Vec<u8>,
    pub bucket: Vec<u8>,
    /// None: the server generates a key and returns it.
    pub key: Option<Vec<u8>>,
    /// The causal context the client read (None: a blind write).
    pub context: Option<VClock>,
    pub content: NewContent,
    pub options: PutOptions,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PutResult {
    pub key: Vec<u8>,
    /// With `return_body` / `return_head`: the object as stored.
    pub object: Option<RiakObject>,
}

#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub rw: Option<Quorum>,
    pub r: Option<Quorum>,
    pub pr: Option<Quorum>,
    pub w: Option<Quorum>,
    pub dw: Option<Quorum>,
    pub pw: Option<Quorum>,
    pub timeout: Option<Duration>,
    pub n_val: Option<u32>,
    pub sloppy_quorum: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub key: BucketKey,
    /// The clock to delete against; None: read the object first.
    pub context: Option<VClock>,
    pub options: DeleteOptions,
}

/// Whether a delete found something to delete (HTTP answers 404 when not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
}
