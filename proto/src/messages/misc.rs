//! Connection-level messages of `riak.proto`: errors, server info, the
//! generic key/value pair, authentication, and the messages that carry no
//! fields at all (sent as a bare code byte).
//!
//! What a server puts in them (error strings, version numbers) is decided
//! by the PB server crate.

/// `RpbErrorResp` (code 0): the reply to any failed request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbErrorResp {
    /// The error text; Riak renders Erlang terms here (`notfound`,
    /// `{n_val_violation,3}`), and clients match on them.
    #[prost(bytes = "vec", required, tag = "1")]
    pub errmsg: Vec<u8>,
    /// Always 0 in practice.
    #[prost(uint32, required, tag = "2")]
    pub errcode: u32,
}

impl RpbErrorResp {
    /// An error reply with `errcode` 0, as Riak sends them.
    pub fn new(errmsg: impl Into<Vec<u8>>) -> RpbErrorResp {
        RpbErrorResp {
            errmsg: errmsg.into(),
            errcode: 0,
        }
    }
}

/// `RpbGetServerInfoResp` (code 8). Clients read `server_version` to decide
/// which features to use.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetServerInfoResp {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub node: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub server_version: Option<Vec<u8>>,
}

/// `RpbPair`: a key with an optional value (user metadata, index entries,
/// 2i results, search document fields).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbPair {
    #[prost(bytes = "vec", required, tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub value: Option<Vec<u8>>,
}

impl RpbPair {
    /// A pair with a value.
    pub fn new(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> RpbPair {
        RpbPair {
            key: key.into(),
            value: Some(value.into()),
        }
    }
}

/// `RpbAuthReq` (code 253): user name and password, sent after STARTTLS.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAuthReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub user: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub password: Vec<u8>,
}

macro_rules! empty_messages {
    ($($name:ident => $doc:literal,)*) => {
        $(
            #[doc = $doc]
            #[doc = ""]
            #[doc = "Has no fields: on the wire it is the code byte alone."]
            #[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
            pub struct $name {}
        )*
    };
}

empty_messages! {
    RpbPingReq => "`RpbPingReq` (code 1).",
    RpbPingResp => "`RpbPingResp` (code 2).",
    RpbGetClientIdReq => "`RpbGetClientIdReq` (code 3).",
    RpbSetClientIdResp => "`RpbSetClientIdResp` (code 6).",
    RpbGetServerInfoReq => "`RpbGetServerInfoReq` (code 7).",
    RpbDelResp => "`RpbDelResp` (code 14).",
    RpbSetBucketResp => "`RpbSetBucketResp` (code 22), also the reply to `RpbSetBucketTypeReq`.",
    RpbResetBucketResp => "`RpbResetBucketResp` (code 30).",
    RpbAuthResp => "`RpbAuthResp` (code 254).",
    RpbStartTls => "`RpbStartTls` (code 255), sent by the client and echoed by the server.",
}
