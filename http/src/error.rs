//! The one place where failures become HTTP responses: every handler returns
//! `Result<Response, HttpError>`, and `KvError`s are mapped to Riak's status
//! codes and bodies here (riak_kv_wm_object's `handle_common_error`).
//! Handlers build request-validation errors with the constructors below.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rill_kv::error::KvError;

/// An error response: status, body, content type and any extra headers.
#[derive(Debug, Clone)]
pub struct HttpError {
    pub status: StatusCode,
    pub body: String,
    pub content_type: &'static str,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl HttpError {
    pub fn new(status: StatusCode, body: impl Into<String>) -> Self {
        HttpError {
            status,
            body: body.into(),
            content_type: "text/plain",
            headers: Vec::new(),
        }
    }

    /// `400 Bad Request` with a text body.
    pub fn bad_request(body: impl Into<String>) -> Self {
        HttpError::new(StatusCode::BAD_REQUEST, body)
    }

    /// `404` for an object or sibling that is not there.
    pub fn not_found() -> Self {
        HttpError::new(StatusCode::NOT_FOUND, "not found\n")
    }

    /// `404` for a bucket type that does not exist (Riak's wording, no newline).
    pub fn unknown_type(bucket_type: &str) -> Self {
        HttpError::new(
            StatusCode::NOT_FOUND,
            format!("Unknown bucket type: {bucket_type}"),
        )
    }

    /// `412 Precondition Failed`, empty body as webmachine sends it.
    pub fn precondition_failed() -> Self {
        HttpError::new(StatusCode::PRECONDITION_FAILED, "")
    }

    /// `409 Conflict` for `X-Riak-If-Not-Modified`.
    pub fn conflict() -> Self {
        HttpError::new(StatusCode::CONFLICT, "")
    }

    /// `415` with a text body.
    pub fn unsupported_media(body: impl Into<String>) -> Self {
        HttpError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, body)
    }

    /// `501` for Riak endpoints this node does not serve yet.
    pub fn not_implemented(what: &str) -> Self {
        HttpError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{what} is not implemented by this node\n"),
        )
    }

    pub fn with_content_type(mut self, content_type: &'static str) -> Self {
        self.content_type = content_type;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Maps a KV outcome to Riak's HTTP answer.
    pub fn from_kv(err: KvError) -> Self {
        use KvError::*;
        let unavailable = StatusCode::SERVICE_UNAVAILABLE;
        match err {
            NotFound => HttpError::not_found(),
            UnknownBucketType(t) => HttpError::unknown_type(&t),
            Timeout => HttpError::new(unavailable, "request timed out\n"),
            // Riak prints Got/Needed.
            RValUnsatisfied { needed, got } => HttpError::new(
                unavailable,
                format!("R-value unsatisfied: {got}/{needed}\n"),
            ),
            PrValUnsatisfied { needed, got } => HttpError::new(
                unavailable,
                format!("PR-value unsatisfied: {got}/{needed}\n"),
            ),
            WValUnsatisfied { needed, got } => HttpError::new(
                unavailable,
                format!("W-value unsatisfied: {got}/{needed}\n"),
            ),
            DwValUnsatisfied { needed, got } => HttpError::new(
                unavailable,
                format!("DW-value unsatisfied: {got}/{needed}\n"),
            ),
            PwValUnsatisfied { needed, got } => HttpError::new(
                unavailable,
                format!("PW-value unsatisfied: {got}/{needed}\n"),
            ),
            TooManyFails => {
                HttpError::new(unavailable, "Too Many write failures to satisfy W/DW\n")
            }
            NValViolation(n) => HttpError::bad_request(format!(
                "Specified w/dw/pw/node_confirms values invalid for bucket n value of {n}\n"
            )),
            // Riak answers a full mailbox with a generic 500; a 503 tells
            // clients and load balancers to back off and retry, which is what
            // overload means.
            Overload => HttpError::new(unavailable, "Error:\noverload\n"),
            ShuttingDown => HttpError::new(unavailable, "Error:\nshutting_down\n"),
            MatchFound => HttpError::precondition_failed(),
            Modified => HttpError::conflict(),
            BadRequest(msg) => HttpError::bad_request(msg),
            // Riak's props resource: a JSON object from property to reason.
            InvalidProps(e) => {
                HttpError::bad_request(e.to_http_body()).with_content_type("application/json")
            }
            TypeExists(name) => HttpError::new(
                StatusCode::CONFLICT,
                format!("Bucket type {name} already exists\n"),
            ),
            // riak_kv_wm_crdt refuses buckets that cannot hold data types
            // as forbidden.
            DatatypeNeedsAllowMult => {
                HttpError::new(StatusCode::FORBIDDEN, "Bucket must be allow_mult=true\n")
            }
            NotDatatypeBucket => HttpError::new(
                StatusCode::FORBIDDEN,
                "Bucket datatype 'undefined' is not a supported type.\n",
            ),
            Datatype(msg) => HttpError::bad_request(format!("{msg}\n")),
            // Everything else is Riak's catch-all: 500 and the error term
            // (a failed data type precondition among them).
            other @ (InsufficientVnodes { .. }
            | Precondition(_)
            | TooManySiblings(_)
            | TooLarge(_)
            | Corrupt(_)
            | Storage(_)
            | StoreDropped(_)) => HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Error:\n{other}\n"),
            ),
        }
    }
}

impl From<KvError> for HttpError {
    fn from(err: KvError) -> Self {
        HttpError::from_kv(err)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.body).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        resp
    }
}

pub type HttpResult = Result<Response, HttpError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_failures_print_got_over_needed() {
        let e = HttpError::from_kv(KvError::RValUnsatisfied { needed: 3, got: 1 });
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.body, "R-value unsatisfied: 1/3\n");
        let e = HttpError::from_kv(KvError::NValViolation(3));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            e.body,
            "Specified w/dw/pw/node_confirms values invalid for bucket n value of 3\n"
        );
    }

    #[test]
    fn catch_all_is_500_with_term() {
        let e = HttpError::from_kv(KvError::TooManySiblings(101));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.body, "Error:\n{too_many_siblings,101}\n");
        let e = HttpError::from_kv(KvError::UnknownBucketType("nope".into()));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.body, "Unknown bucket type: nope");
    }
}
