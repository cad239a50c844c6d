//! A minimal HTTP transport for Riak's object API: GET, PUT and DELETE of
//! `/types/T/buckets/B/keys/K`, carrying the causal context in
//! `X-Riak-Vclock`; fetches and updates of data types under
//! `/types/T/buckets/B/datatypes/K` in Riak's JSON; a bucket type's
//! properties. Built on hyper's pooled keep-alive HTTP/1.1 client.
//!
//! Requests go to the configured nodes in turn. Siblings, links, indexes
//! and user metadata are out of scope: the PB client covers the full API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rill_proto::Quorum;

use crate::datatype::{DtFetched, DtUpdate, DtUpdated, json as dt_json};
use crate::error::{ClientError, Result};
use crate::options::{DtFetchOptions, DtUpdateOptions};

/// Characters escaped in a path segment: everything but RFC 3986's
/// unreserved set.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The causal context header.
pub const VCLOCK_HEADER: &str = "x-riak-vclock";

/// Options of HTTP object requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpOptions {
    /// Bucket type; `None` means `default`.
    pub bucket_type: Option<String>,
    pub r: Option<Quorum>,
    pub w: Option<Quorum>,
}

/// A fetched object over HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpObject {
    /// The value; for `300 Multiple Choices` the sibling list body.
    pub value: Bytes,
    /// `X-Riak-Vclock` as sent (base64 text), to send back on the next write.
    pub vclock: Option<String>,
    pub content_type: Option<String>,
    /// The server answered `300`: the object has siblings.
    pub has_siblings: bool,
}

/// An HTTP client for one or more nodes (`host:port`).
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: HyperClient<HttpConnector, Full<Bytes>>,
    nodes: std::sync::Arc<Vec<String>>,
    next: std::sync::Arc<AtomicUsize>,
    timeout: Option<Duration>,
}

fn quorum_text(q: Quorum) -> String {
    match q {
        Quorum::One => "one".into(),
        Quorum::Quorum => "quorum".into(),
        Quorum::All => "all".into(),
        Quorum::Default => "default".into(),
        Quorum::N(n) => n.to_string(),
    }
}

/// `name=value` pairs of the options that are set, as a query string.
fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if let Some(v) = value {
            out.push(if out.is_empty() { '?' } else { '&' });
            out.push_str(name);
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The URL of a data type (or of its bucket, for a generated key).
fn datatype_url(node: &str, bucket_type: &str, bucket: &str, key: Option<&str>) -> String {
    let mut url = format!(
        "http://{node}/types/{}/buckets/{}/datatypes",
        segment(bucket_type),
        segment(bucket)
    );
    if let Some(key) = key {
        url.push('/');
        url.push_str(&segment(key));
    }
    url
}

fn parse_json(body: &[u8]) -> Result<serde_json::Value> {
    serde_json::from_slice(body)
        .map_err(|e| ClientError::BadReply(format!("a reply that is not JSON: {e}")))
}

impl HttpClient {
    /// A client for `nodes`, waiting at most `timeout` for each reply.
    pub fn new(
        nodes: impl IntoIterator<Item = impl Into<String>>,
        timeout: Option<Duration>,
    ) -> Result<HttpClient> {
        let nodes: Vec<String> = nodes.into_iter().map(Into::into).collect();
        if nodes.is_empty() {
            return Err(ClientError::NoNodes);
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(HttpClient {
            client,
            nodes: std::sync::Arc::new(nodes),
            next: std::sync::Arc::new(AtomicUsize::new(0)),
            timeout,
        })
    }

    fn node(&self) -> &str {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.nodes.len();
        &self.nodes[i]
    }

    /// The URL of an object on `node`, with query parameters.
    fn object_url(
        node: &str,
        bucket: &str,
        key: &str,
        opts: &HttpOptions,
        query: &[(&str, Option<Quorum>)],
    ) -> String {
        let btype = opts.bucket_type.as_deref().unwrap_or("default");
        let pairs: Vec<(&str, Option<String>)> = query
            .iter()
            .map(|&(name, q)| (name, q.map(quorum_text)))
            .collect();
        format!(
            "http://{node}/types/{}/buckets/{}/keys/{}{}",
            segment(btype),
            segment(bucket),
            segment(key),
            query_string(&pairs),
        )
    }

    /// Sends a request and reads the whole reply.
    async fn send(
        &self,
        node: &str,
        req: Request<Full<Bytes>>,
    ) -> Result<(StatusCode, hyper::HeaderMap, Bytes)> {
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| {
                if e.is_connect() {
                    ClientError::Connect {
                        addr: node.to_string(),
                        source: std::io::Error::other(e),
                    }
                } else {
                    ClientError::Io(std::io::Error::other(e))
                }
            })?;
            let (parts, body) = resp.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| ClientError::Io(std::io::Error::other(e)))?
                .to_bytes();
            Ok((parts.status, parts.headers, body))
        };
        match self.timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .unwrap_or(Err(ClientError::Timeout)),
            None => exchange.await,
        }
    }

    fn status_error(status: StatusCode, body: &[u8]) -> ClientError {
        ClientError::Http {
            status: status.as_u16(),
            body: String::from_utf8_lossy(body).trim().to_string(),
        }
    }

    /// `GET /ping`.
    pub async fn ping(&self) -> Result<()> {
        let node = self.node();
        let req = Request::get(format!("http://{node}/ping"))
            .body(Full::new(Bytes::new()))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let (status, _, body) = self.send(node, req).await?;
        if status == StatusCode::OK {
            Ok(())
        } else {
            Err(Self::status_error(status, &body))
        }
    }

    /// Fetches an object; `None` on `404`.
    pub async fn get(
        &self,
        bucket: &str,
        key: &str,
        opts: &HttpOptions,
    ) -> Result<Option<HttpObject>> {
        let node = self.node();
        let url = Self::object_url(node, bucket, key, opts, &[("r", opts.r)]);
        let req = Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let (status, headers, body) = self.send(node, req).await?;
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        match status {
            StatusCode::OK | StatusCode::MULTIPLE_CHOICES => Ok(Some(HttpObject {
                value: body,
                vclock: text(VCLOCK_HEADER),
                content_type: text(CONTENT_TYPE.as_str()),
                has_siblings: status == StatusCode::MULTIPLE_CHOICES,
            })),
            StatusCode::NOT_FOUND => Ok(None),
            other => Err(Self::status_error(other, &body)),
        }
    }

    /// Stores a value, with the context of a previous read if there was one.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        value: Bytes,
        content_type: &str,
        vclock: Option<&str>,
        opts: &HttpOptions,
    ) -> Result<()> {
        let node = self.node();
        let url = Self::object_url(node, bucket, key, opts, &[("w", opts.w)]);
        let mut builder = Request::builder()
            .method(Method::PUT)
            .uri(url)
            .header(CONTENT_TYPE, content_type);
        if let Some(vc) = vclock {
            builder = builder.header(VCLOCK_HEADER, vc);
        }
        let req = builder
            .body(Full::new(value))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let (status, _, body) = self.send(node, req).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(Self::status_error(status, &body))
        }
    }

    /// Deletes an object; a missing one (`404`) counts as deleted.
    pub async fn delete(&self, bucket: &str, key: &str, opts: &HttpOptions) -> Result<()> {
        let node = self.node();
        let url = Self::object_url(node, bucket, key, opts, &[("w", opts.w)]);
        let req = Request::delete(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let (status, _, body) = self.send(node, req).await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(Self::status_error(status, &body))
        }
    }
}

impl HttpClient {
    /// `GET /types/T/props`: the bucket type's properties as JSON (the
    /// `props` object).
    pub async fn bucket_type_props(&self, bucket_type: &str) -> Result<serde_json::Value> {
        let node = self.node();
        let url = format!("http://{node}/types/{}/props", segment(bucket_type));
        let req = Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let (status, _, body) = self.send(node, req).await?;
        if status != StatusCode::OK {
            return Err(Self::status_error(status, &body));
        }
        let mut json = parse_json(&body)?;
        Ok(json["props"].take())
    }

    /// `GET …/datatypes/K`: [`DtFetched::value`] is `None` on `404`.
    pub async fn fetch_datatype(
        &self,
        bucket_type: &str,
        bucket: &str,
        key: &str,
        opts: &DtFetchOptions,
    ) -> Result<DtFetched> {
        let node = self.node();
        let mut url = datatype_url(node, bucket_type, bucket, Some(key));
        url.push_str(&query_string(&[
            ("r", opts.r.map(quorum_text)),
            ("pr", opts.pr.map(quorum_text)),
            ("basic_quorum", opts.basic_quorum.map(|b| b.to_string())),
            ("notfound_ok", opts.notfound_ok.map(|b| b.to_string())),
            ("timeout", opts.timeout_ms.map(|t| t.to_string())),
            (
                "include_context",
                opts.include_context.map(|b| b.to_string()),
            ),
        ]));
        let req = Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let (status, _, body) = self.send(node, req).await?;
        match status {
            StatusCode::OK | StatusCode::NOT_FOUND => dt_json::fetched(&parse_json(&body)?),
            other => Err(Self::status_error(other, &body)),
        }
    }

    /// `POST …/datatypes[/K]` with Riak's JSON form of `update`. Without a
    /// key the server generates one, returned in [`DtUpdated::key`].
    pub async fn update_datatype(
        &self,
        bucket_type: &str,
        bucket: &str,
        key: Option<&str>,
        update: &DtUpdate,
        opts: &DtUpdateOptions,
    ) -> Result<DtUpdated> {
        let body = dt_json::update_body(update, opts.context.as_deref())?;
        let node = self.node();
        let mut url = datatype_url(node, bucket_type, bucket, key);
        url.push_str(&query_string(&[
            ("w", opts.w.map(quorum_text)),
            ("dw", opts.dw.map(quorum_text)),
            ("pw", opts.pw.map(quorum_text)),
            ("returnbody", opts.return_body.then(|| "true".to_string())),
            (
                "include_context",
                opts.include_context.map(|b| b.to_string()),
            ),
            ("timeout", opts.timeout_ms.map(|t| t.to_string())),
        ]));
        let req = Request::post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let (status, headers, body) = self.send(node, req).await?;
        if !status.is_success() {
            return Err(Self::status_error(status, &body));
        }
        // The generated key is the last segment of `Location`.
        let key = headers
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.rsplit('/').next())
            .map(|k| {
                let k = percent_encoding::percent_decode_str(k).collect::<Vec<u8>>();
                Bytes::from(k)
            });
        let mut updated = DtUpdated {
            key,
            ..DtUpdated::default()
        };
        if opts.return_body && !body.is_empty() {
            let fetched = dt_json::fetched(&parse_json(&body)?)?;
            updated.value = fetched.value;
            updated.context = fetched.context;
        }
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_urls_escape_segments_and_carry_quorums() {
        let opts = HttpOptions {
            bucket_type: Some("t y".into()),
            ..HttpOptions::default()
        };
        let url = HttpClient::object_url(
            "h:1",
            "b/1",
            "k?é",
            &opts,
            &[
                ("r", Some(Quorum::One)),
                ("w", None),
                ("pw", Some(Quorum::N(2))),
            ],
        );
        assert_eq!(
            url,
            "http://h:1/types/t%20y/buckets/b%2F1/keys/k%3F%C3%A9?r=one&pw=2"
        );
        let plain = HttpClient::object_url("h:1", "b", "k", &HttpOptions::default(), &[]);
        assert_eq!(plain, "http://h:1/types/default/buckets/b/keys/k");
    }
}
