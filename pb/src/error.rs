//! The one place where failures become `RpbErrorResp` replies: KV outcomes,
//! bad input, codes this node does not serve and framing violations all get
//! their `errmsg` here. Riak renders most errors as Erlang terms (`notfound`,
//! `{n_val_violation,3}`) and clients match on the text, so the spelling is
//! Riak's wherever Riak has one. `errcode` is always 0, as riak_api sends it.

use rill_kv::KvError;
use rill_proto::messages::RpbErrorResp;
use rill_proto::{Frame, MsgCode, ProtoError, Response};
use thiserror::Error;

/// A failed request, as the client will read it in `RpbErrorResp.errmsg`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{errmsg}")]
pub struct PbError {
    errmsg: String,
}

impl PbError {
    fn new(errmsg: impl Into<String>) -> PbError {
        PbError {
            errmsg: errmsg.into(),
        }
    }

    /// The text sent to the client.
    pub fn errmsg(&self) -> &str {
        &self.errmsg
    }

    /// The reply carrying this error (`errcode` 0).
    pub fn to_response(&self) -> Response {
        Response::Error(RpbErrorResp::new(self.errmsg.as_bytes()))
    }

    /// The reply as a frame.
    pub fn to_frame(&self) -> Frame {
        self.to_response().encode()
    }

    /// A text worded by the handler (data type requests word some errors
    /// their own way).
    pub(crate) fn text(errmsg: impl Into<String>) -> PbError {
        PbError::new(errmsg)
    }

    /// A required name was sent empty: `what` is `Bucket`, `Key` or `Type`.
    pub fn zero_length(what: &str) -> PbError {
        PbError::new(format!("{what} cannot be zero-length"))
    }

    /// A code with no service behind it (riak_api's wording).
    pub fn unknown_code(code: u8) -> PbError {
        PbError::new(format!("Unknown message code: {code}"))
    }

    /// A body that is not a valid encoding of its message.
    pub fn decoding(err: &ProtoError) -> PbError {
        let reason = match err {
            ProtoError::Decode(e) => e.to_string(),
            other => other.to_string(),
        };
        PbError::new(format!("Message decoding error: {reason}"))
    }

    /// `RpbStartTls` while security is off (riak_api's wording).
    pub fn starttls_not_allowed() -> PbError {
        PbError::new("Security not enabled; STARTTLS not allowed.")
    }

    /// A request Riak serves that this node does not (yet).
    pub fn not_implemented(code: MsgCode) -> PbError {
        PbError::new(format!(
            "{} (code {}) is not implemented by this node",
            code.name(),
            code.as_u8()
        ))
    }

    /// A frame the codec refused (too long, or a zero length prefix); the
    /// connection closes after this reply.
    pub fn bad_packet(err: &ProtoError) -> PbError {
        PbError::new(format!("Invalid message packet, reason: {err}"))
    }

    /// Sent on a connection refused because the server is at its limit.
    pub fn too_many_connections(limit: usize) -> PbError {
        PbError::new(format!("Too many connections (limit {limit})"))
    }

    /// A `vclock` / `if_modified` value that is not a context this server
    /// issued.
    pub fn bad_vclock(reason: impl std::fmt::Display) -> PbError {
        PbError::new(format!("Invalid vclock: {reason}"))
    }

    /// A handler failed unexpectedly; the connection closes after this.
    pub fn internal(what: &str) -> PbError {
        PbError::new(format!("Error processing incoming message: {what}"))
    }

    /// `RpbSetBucketTypeReq` on the `default` type, which Riak keeps in its
    /// configuration file rather than in cluster metadata.
    pub fn no_default_update() -> PbError {
        PbError::new("Invalid bucket properties: no_default_update")
    }

    /// Maps a KV outcome of an object, bucket-properties or listing request.
    pub fn from_kv(err: KvError) -> PbError {
        use KvError::*;
        match err {
            // riak_kv_pb_bucket / riak_core_pb_bucket print the name with ~s.
            UnknownBucketType(t) => PbError::new(format!("No bucket-type named '{t}'")),
            ShuttingDown => PbError::new("shutting_down"),
            // The rest already display as Riak's errmsg terms (`notfound`,
            // `overload`, `{r_val_unsatisfied,2,1}`, `Invalid bucket
            // properties: [...]`, ...).
            other => PbError::new(other.to_string()),
        }
    }

    /// Maps a KV outcome of `RpbGetBucketTypeReq` (`set` false) or
    /// `RpbSetBucketTypeReq` (`set` true), where Riak words an unknown type
    /// differently: `Invalid bucket type: <<"t">>` on get (the name printed
    /// as an Erlang binary), `Invalid bucket properties: not_active` on set.
    pub fn from_kv_type(err: KvError, bucket_type: &[u8], set: bool) -> PbError {
        match err {
            KvError::UnknownBucketType(_) if set => {
                PbError::new("Invalid bucket properties: not_active")
            }
            KvError::UnknownBucketType(_) => PbError::new(format!(
                "Invalid bucket type: {}",
                erlang_binary(bucket_type)
            )),
            other => PbError::from_kv(other),
        }
    }
}

impl From<KvError> for PbError {
    fn from(err: KvError) -> PbError {
        PbError::from_kv(err)
    }
}

/// A binary as Erlang's `~p` prints it: `<<"text">>` when every byte is
/// printable ASCII, `<<1,2,3>>` otherwise.
pub(crate) fn erlang_binary(bytes: &[u8]) -> String {
    if bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        let mut s = String::from("<<\"");
        for &b in bytes {
            if b == b'"' || b == b'\\' {
                s.push('\\');
            }
            s.push(b as char);
        }
        s.push_str("\">>");
        s
    } else {
        let parts: Vec<String> = bytes.iter().map(u8::to_string).collect();
        format!("<<{}>>", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_errors_keep_riak_terms() {
        assert_eq!(PbError::from_kv(KvError::NotFound).errmsg(), "notfound");
        assert_eq!(PbError::from_kv(KvError::Overload).errmsg(), "overload");
        assert_eq!(
            PbError::from_kv(KvError::NValViolation(3)).errmsg(),
            "{n_val_violation,3}"
        );
        assert_eq!(
            PbError::from_kv(KvError::RValUnsatisfied { needed: 2, got: 1 }).errmsg(),
            "{r_val_unsatisfied,2,1}"
        );
        assert_eq!(
            PbError::from_kv(KvError::UnknownBucketType("t".into())).errmsg(),
            "No bucket-type named 't'"
        );
        assert_eq!(
            PbError::from_kv(KvError::ShuttingDown).errmsg(),
            "shutting_down"
        );
    }

    #[test]
    fn type_errors_use_riak_wording() {
        let unknown = || KvError::UnknownBucketType("no\"pe".into());
        assert_eq!(
            PbError::from_kv_type(unknown(), b"no\"pe", false).errmsg(),
            "Invalid bucket type: <<\"no\\\"pe\">>"
        );
        assert_eq!(
            PbError::from_kv_type(unknown(), b"x", true).errmsg(),
            "Invalid bucket properties: not_active"
        );
        assert_eq!(erlang_binary(&[1, 200]), "<<1,200>>");
    }

    #[test]
    fn errors_encode_with_code_zero_and_errcode_zero() {
        let frame = PbError::unknown_code(99).to_frame();
        assert_eq!(frame.code, 0);
        let msg: RpbErrorResp = rill_proto::decode_body(&frame).unwrap();
        assert_eq!(msg.errmsg, b"Unknown message code: 99");
        assert_eq!(msg.errcode, 0);
        assert_eq!(
            PbError::not_implemented(MsgCode::MapRedReq).errmsg(),
            "RpbMapRedReq (code 23) is not implemented by this node"
        );
    }
}
