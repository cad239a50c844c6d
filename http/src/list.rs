//! List buckets and list keys (riak_kv_wm_buckets, riak_kv_wm_keylist):
//! `?buckets=true|stream`, `?keys=true|stream`, and the v1 `/riak/B`
//! resource that answers props, keys or both. Streaming sends concatenated
//! JSON objects as the coverage fold finds names, then `{"keys":[]}`.

use crate::error::{HttpError, HttpResult};
use crate::params::{self, Query};
use crate::props;
use crate::routes::{AppState, Target};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rill_kv::error::KvError;
use rill_kv::service::NameStream;
use std::convert::Infallible;

/// `GET /riak`, `/buckets`, `/types/T/buckets`.
pub async fn buckets(State(st): State<AppState>, RawQuery(raw): RawQuery, t: Target) -> Response {
    let q = Query::parse(raw.as_deref());
    buckets_inner(&st, &q, &t)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn buckets_inner(st: &AppState, q: &Query, t: &Target) -> HttpResult {
    let timeout = params::timeout(q)?;
    match q.get("buckets") {
        Some("true") => {
            let rx = st.kv.list_buckets(&t.bucket_type, timeout).await?;
            let names = collect(rx).await?;
            Ok(json(format!("{{\"buckets\":{}}}", names_json(&names))))
        }
        Some("stream") => {
            let rx = st.kv.list_buckets(&t.bucket_type, timeout).await?;
            Ok(streaming(rx, "buckets", None))
        }
        _ => Ok(json("{\"buckets\":[]}".to_string())),
    }
}

/// `GET /buckets/B/keys`, `/types/T/buckets/B/keys`.
pub async fn keys(State(st): State<AppState>, RawQuery(raw): RawQuery, t: Target) -> Response {
    let q = Query::parse(raw.as_deref());
    keys_inner(&st, &q, &t, false)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `GET /riak/B`: bucket props, plus keys with `?keys=true|stream`;
/// `?props=false` leaves the props out.
pub async fn v1_bucket(State(st): State<AppState>, RawQuery(raw): RawQuery, t: Target) -> Response {
    let q = Query::parse(raw.as_deref());
    let with_props = !q.is("props", "false");
    keys_inner(&st, &q, &t, with_props)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn keys_inner(st: &AppState, q: &Query, t: &Target, with_props: bool) -> HttpResult {
    let timeout = params::timeout(q)?;
    let props = if with_props {
        let p = st.kv.bucket_props(&t.bucket_type, &t.bucket).await?;
        Some(props::props_json(&p, &t.bucket))
    } else {
        None
    };
    let props_field = props.map(|p| format!("\"props\":{p}"));
    match q.get("keys") {
        Some("true") => {
            let rx = st.kv.list_keys(&t.bucket_type, &t.bucket, timeout).await?;
            let names = collect(rx).await?;
            let keys = format!("\"keys\":{}", names_json(&names));
            Ok(json(match props_field {
                Some(p) => format!("{{{p},{keys}}}"),
                None => format!("{{{keys}}}"),
            }))
        }
        Some("stream") => {
            let rx = st.kv.list_keys(&t.bucket_type, &t.bucket, timeout).await?;
            // The v1 resource opens with the props (or an empty object).
            let first = match (t.api, props_field) {
                (crate::routes::ApiVersion::V1, Some(p)) => Some(format!("{{{p}}}")),
                (crate::routes::ApiVersion::V1, None) => Some("{}".to_string()),
                _ => None,
            };
            Ok(streaming(rx, "keys", first))
        }
        _ => Ok(json(match props_field {
            Some(p) => format!("{{{p}}}"),
            None => "{}".to_string(),
        })),
    }
}

/// Drains a name stream; any error fails the whole listing.
async fn collect(mut rx: NameStream) -> Result<Vec<Vec<u8>>, HttpError> {
    let mut all = Vec::new();
    while let Some(batch) = rx.recv().await {
        all.extend(batch?);
    }
    Ok(all)
}

/// A JSON array of names (bytes shown as UTF-8, invalid sequences replaced).
fn names_json(names: &[Vec<u8>]) -> String {
    let list: Vec<serde_json::Value> = names
        .iter()
        .map(|n| serde_json::Value::String(String::from_utf8_lossy(n).into_owned()))
        .collect();
    serde_json::Value::Array(list).to_string()
}

fn json(body: String) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A chunked body of `{"<field>":[...]}` objects, one per non-empty batch,
/// closed by `{"<field>":[]}`; a failure mid-stream sends `{"error":...}`
/// and ends the body (the status line has already gone out).
fn streaming(rx: NameStream, field: &'static str, first: Option<String>) -> Response {
    let head = futures_util::stream::iter(first.map(|f| Ok::<_, Infallible>(Bytes::from(f))));
    let batches = futures_util::stream::unfold(Some(rx), move |state| async move {
        let mut rx = state?;
        loop {
            match rx.recv().await {
                Some(Ok(names)) if names.is_empty() => continue,
                Some(Ok(names)) => {
                    let chunk = format!("{{\"{field}\":{}}}", names_json(&names));
                    return Some((Ok(Bytes::from(chunk)), Some(rx)));
                }
                Some(Err(e)) => {
                    let chunk = serde_json::json!({ "error": stream_error(&e) }).to_string();
                    return Some((Ok(Bytes::from(chunk)), None));
                }
                None => {
                    let chunk = format!("{{\"{field}\":[]}}");
                    return Some((Ok(Bytes::from(chunk)), None));
                }
            }
        }
    });
    let mut resp = (StatusCode::OK, Body::from_stream(head.chain(batches))).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The `error` text of a failed stream: Riak sends the reason's atom.
fn stream_error(e: &KvError) -> String {
    match e {
        KvError::Timeout => "timeout".to_string(),
        other => other.to_string(),
    }
}
