//! Dispatch: one frame in, one reply (or one stream of replies) out.
//!
//! Decides what a message code means here (served, known but not served,
//! unknown), decodes the body and calls the handler. Handlers do no socket
//! I/O; streaming replies are handed back to the connection as a `Reply`.

use rill_kv::{KvService, NameStream};
use rill_proto::messages::{RpbListBucketsResp, RpbListKeysResp};
use rill_proto::{Frame, MsgCode, Request, Response};

use crate::error::PbError;
use crate::{bucket, dt, info, object};

/// What the connection sends back for one request.
#[allow(clippy::large_enum_variant)] // one per request, moved once
pub(crate) enum Reply {
    /// A single frame (a success reply or an `RpbErrorResp`).
    One(Response),
    /// Batches of names, one frame each, then a final `done` frame.
    Names(NameStream, Listing),
}

impl From<Result<Response, PbError>> for Reply {
    fn from(r: Result<Response, PbError>) -> Reply {
        Reply::One(r.unwrap_or_else(|e| e.to_response()))
    }
}

/// Which listing a name stream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listing {
    Keys,
    Buckets,
}

impl Listing {
    /// The frame carrying one batch of names.
    pub(crate) fn batch(self, names: Vec<Vec<u8>>) -> Response {
        match self {
            Listing::Keys => Response::ListKeys(RpbListKeysResp {
                keys: names,
                done: None,
            }),
            Listing::Buckets => Response::ListBuckets(RpbListBucketsResp {
                buckets: names,
                done: None,
            }),
        }
    }

    /// The last frame of the stream.
    pub(crate) fn done(self) -> Response {
        match self {
            Listing::Keys => Response::ListKeys(RpbListKeysResp {
                keys: Vec::new(),
                done: Some(true),
            }),
            Listing::Buckets => Response::ListBuckets(RpbListBucketsResp {
                buckets: Vec::new(),
                done: Some(true),
            }),
        }
    }
}

/// Per-connection state that outlives a request.
pub(crate) struct Session {
    /// The legacy client id: what `RpbSetClientIdReq` stored, or a random
    /// id drawn when the connection opened. Meaningless with vnode clocks.
    pub client_id: Vec<u8>,
}

impl Session {
    pub(crate) fn new() -> Session {
        Session {
            client_id: info::fresh_client_id(),
        }
    }
}

/// The request handlers of one node, shared by every connection.
#[derive(Clone)]
pub(crate) struct Service {
    pub kv: KvService,
}

/// Codes Riak 3.0 registers no service for (Yokozuna was removed; auth is
/// only read during the security handshake): riak_api answers "Unknown
/// message code" to them, and so do we, without decoding the body.
fn unregistered(code: MsgCode) -> bool {
    use MsgCode::*;
    matches!(
        code,
        SearchQueryReq
            | YokozunaIndexGetReq
            | YokozunaIndexPutReq
            | YokozunaIndexDeleteReq
            | YokozunaSchemaGetReq
            | YokozunaSchemaPutReq
            | AuthReq
    )
}

impl Service {
    pub(crate) fn new(kv: KvService) -> Service {
        Service { kv }
    }

    /// Answers one frame. Never fails: every failure is an error reply.
    pub(crate) async fn handle(&self, session: &mut Session, frame: Frame) -> Reply {
        let code = match frame.msg_code() {
            Some(MsgCode::StartTls) => {
                return Reply::One(PbError::starttls_not_allowed().to_response());
            }
            Some(code) if !unregistered(code) && Request::CODES.contains(&code) => code,
            _ => return Reply::One(PbError::unknown_code(frame.code).to_response()),
        };
        let request = match Request::decode(&frame) {
            Ok(r) => r,
            Err(e) => return Reply::One(PbError::decoding(&e).to_response()),
        };
        tracing::trace!(%code, "pb request");
        let kv = &self.kv;
        match request {
            Request::Ping => Reply::One(info::ping()),
            Request::GetServerInfo => Reply::One(info::server_info(kv)),
            Request::GetClientId => Reply::One(info::get_client_id(session)),
            Request::SetClientId(req) => Reply::One(info::set_client_id(session, req)),
            Request::Get(req) => object::get(kv, req).await.into(),
            Request::Put(req) => object::put(kv, req).await.into(),
            Request::Del(req) => object::delete(kv, req).await.into(),
            Request::ListBuckets(req) => bucket::list_buckets(kv, req).await,
            Request::ListKeys(req) => bucket::list_keys(kv, req).await,
            Request::GetBucket(req) => bucket::get_bucket(kv, req).await.into(),
            Request::SetBucket(req) => bucket::set_bucket(kv, req).await.into(),
            Request::ResetBucket(req) => bucket::reset_bucket(kv, req).await.into(),
            Request::GetBucketType(req) => bucket::get_type(kv, req).await.into(),
            Request::SetBucketType(req) => bucket::set_type(kv, req).await.into(),
            Request::DtFetch(req) => dt::fetch(kv, req).await.into(),
            Request::DtUpdate(req) => dt::update(kv, req).await.into(),
            Request::CounterUpdate(req) => dt::counter_update(kv, req).await.into(),
            Request::CounterGet(req) => dt::counter_get(kv, req).await.into(),
            Request::GetBucketKeyPreflist(req) => object::preflist(kv, req).await.into(),
            // Known to Riak, not served here yet: MapReduce, 2i,
            // CS bucket folds, coverage plans.
            _ => Reply::One(PbError::not_implemented(code).to_response()),
        }
    }
}
