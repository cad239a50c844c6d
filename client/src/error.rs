//! Errors of the SDK: transport failures, protocol violations, and the
//! server's own error replies (`RpbErrorResp`, HTTP error statuses).
//!
//! `ClientError::kind` gives a short, stable label per failure class, which
//! the load generator uses to count errors by kind.

use std::io;

use rill_proto::ProtoError;
use thiserror::Error;

/// A failed client call. Transport variants carry the underlying error as
/// their `source()`, not in their own message.
#[derive(Debug, Error)]
pub enum ClientError {
    /// No connection could be opened; the request was never sent, so it is
    /// safe to try another node.
    #[error("cannot connect to {addr}")]
    Connect {
        addr: String,
        #[source]
        source: io::Error,
    },

    /// The connection failed while a request was in flight; the server may
    /// or may not have applied it.
    #[error("i/o error on an open connection")]
    Io(#[from] io::Error),

    /// The server closed the connection before answering.
    #[error("connection closed by the server")]
    Closed,

    /// No answer within the client's request timeout. The connection is
    /// dropped, since a late answer would be taken for the next request's.
    #[error("no reply within the client timeout")]
    Timeout,

    /// A frame that could not be decoded, or a framing violation.
    #[error("protocol error: {0}")]
    Proto(ProtoError),

    /// A reply with a different message code than the request calls for.
    #[error("unexpected reply code {got} (expected {expected})")]
    UnexpectedResponse { expected: u8, got: u8 },

    /// The server answered with `RpbErrorResp`.
    #[error("server error: {errmsg}")]
    Riak { errmsg: String, errcode: u32 },

    /// The HTTP server answered with an error status.
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },

    /// A reply that decodes but that this client cannot make sense of (a
    /// data type it does not know, a JSON body of another shape). The
    /// stream itself is intact.
    #[error("unexpected reply: {0}")]
    BadReply(String),

    /// The caller asked for something the client cannot send.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A cluster client was built without nodes.
    #[error("no nodes configured")]
    NoNodes,
}

impl ClientError {
    /// A short label for this failure class: `overload`, `timeout`,
    /// `notfound`, `quorum`, `precondition`, `server` (other server error
    /// replies), `connection`, `protocol`, `http_4xx`/`http_5xx`, `invalid`.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::Connect { .. } | ClientError::Io(_) | ClientError::Closed => "connection",
            ClientError::Timeout => "timeout",
            ClientError::Proto(_)
            | ClientError::UnexpectedResponse { .. }
            | ClientError::BadReply(_) => "protocol",
            ClientError::Riak { errmsg, .. } => riak_error_kind(errmsg),
            ClientError::Http { status, body } => match *status {
                503 if body.contains("overload") => "overload",
                503 => "timeout",
                412 | 409 => "precondition",
                404 => "notfound",
                s if s >= 500 => "http_5xx",
                _ => "http_4xx",
            },
            ClientError::InvalidRequest(_) | ClientError::NoNodes => "invalid",
        }
    }

    /// Whether the connection this error came from must not be reused:
    /// transport and protocol failures leave the stream in an unknown state,
    /// while an error reply leaves it ready for the next request.
    pub fn breaks_connection(&self) -> bool {
        matches!(
            self,
            ClientError::Connect { .. }
                | ClientError::Io(_)
                | ClientError::Closed
                | ClientError::Timeout
                | ClientError::Proto(_)
                | ClientError::UnexpectedResponse { .. }
        )
    }

    /// Whether the request certainly never reached a server, so trying
    /// another node cannot apply it twice.
    pub fn is_unsent(&self) -> bool {
        matches!(self, ClientError::Connect { .. })
    }
}

impl From<ProtoError> for ClientError {
    /// Socket failures surfacing through the codec are transport errors.
    fn from(e: ProtoError) -> ClientError {
        match e {
            ProtoError::Io(io) => ClientError::Io(io),
            other => ClientError::Proto(other),
        }
    }
}

/// Classifies an `RpbErrorResp` text (an Erlang term as Riak renders it).
fn riak_error_kind(errmsg: &str) -> &'static str {
    let msg = errmsg.trim();
    if msg == "overload" || msg.contains("overload") {
        "overload"
    } else if msg == "timeout" {
        "timeout"
    } else if msg == "notfound" {
        "notfound"
    } else if msg.contains("_val_unsatisfied") || msg.starts_with("{insufficient_vnodes") {
        "quorum"
    } else if msg == "modified" || msg == "match_found" || msg.starts_with("{precondition") {
        "precondition"
    } else {
        "server"
    }
}

/// Result alias for this crate.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn riak(msg: &str) -> ClientError {
        ClientError::Riak {
            errmsg: msg.into(),
            errcode: 0,
        }
    }

    #[test]
    fn riak_error_texts_map_to_kinds() {
        assert_eq!(riak("overload").kind(), "overload");
        assert_eq!(riak("timeout").kind(), "timeout");
        assert_eq!(riak("notfound").kind(), "notfound");
        assert_eq!(riak("{r_val_unsatisfied,2,1}").kind(), "quorum");
        assert_eq!(riak("{insufficient_vnodes,1,need,2}").kind(), "quorum");
        assert_eq!(riak("match_found").kind(), "precondition");
        assert_eq!(riak("{too_large,100}").kind(), "server");
    }

    #[test]
    fn transport_errors_break_the_connection_but_replies_do_not() {
        assert!(ClientError::Closed.breaks_connection());
        assert!(ClientError::Timeout.breaks_connection());
        assert!(!riak("overload").breaks_connection());
        assert_eq!(ClientError::Closed.kind(), "connection");
        let refused = ClientError::Connect {
            addr: "a".into(),
            source: io::Error::from(io::ErrorKind::ConnectionRefused),
        };
        assert!(refused.is_unsent());
        assert!(!ClientError::Closed.is_unsent());
    }

    #[test]
    fn http_statuses_map_to_kinds() {
        let http = |status, body: &str| ClientError::Http {
            status,
            body: body.into(),
        };
        assert_eq!(http(503, "overload").kind(), "overload");
        assert_eq!(http(503, "request timed out").kind(), "timeout");
        assert_eq!(http(412, "").kind(), "precondition");
        assert_eq!(http(500, "").kind(), "http_5xx");
        assert_eq!(http(400, "").kind(), "http_4xx");
    }
}
