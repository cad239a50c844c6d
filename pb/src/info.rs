//! Connection-level requests: ping, server info and the legacy client id.
//!
//! The client id is kept per connection only, as riak_kv does once vnode
//! clocks are on; it never reaches the KV layer.

use std::hash::{BuildHasher, Hasher};

use rill_kv::KvService;
use rill_proto::Response;
use rill_proto::messages::{RpbGetClientIdResp, RpbGetServerInfoResp, RpbSetClientIdReq};

use crate::SERVER_VERSION;
use crate::service::Session;

/// `RpbPingReq` → empty `RpbPingResp`.
pub(crate) fn ping() -> Response {
    Response::Ping
}

/// `RpbGetServerInfoReq` → this node's name and the Riak version we speak.
pub(crate) fn server_info(kv: &KvService) -> Response {
    Response::GetServerInfo(RpbGetServerInfoResp {
        node: Some(kv.node_name().as_bytes().to_vec()),
        server_version: Some(SERVER_VERSION.as_bytes().to_vec()),
    })
}

/// `RpbGetClientIdReq` → the connection's client id.
pub(crate) fn get_client_id(session: &Session) -> Response {
    Response::GetClientId(RpbGetClientIdResp {
        client_id: session.client_id.clone(),
    })
}

/// `RpbSetClientIdReq` → stores the id for this connection; empty reply.
pub(crate) fn set_client_id(session: &mut Session, req: RpbSetClientIdReq) -> Response {
    session.client_id = req.client_id;
    Response::SetClientId
}

/// Four random bytes (std's randomly keyed hasher is random enough for an
/// id nobody relies on).
pub(crate) fn fresh_client_id() -> Vec<u8> {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5249_4c4c);
    (h.finish() as u32).to_be_bytes().to_vec()
}
