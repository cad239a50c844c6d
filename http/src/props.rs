//! Bucket and bucket-type properties (riak_kv_wm_props, riak_kv_wm_bucket_type):
//! GET `{"props":{...}}`, PUT `{"props":{...}}` (JSON only, 204), DELETE to
//! reset a bucket to its type's defaults. Validation of the values themselves
//! is the KV layer's; this module checks the body's shape and content type.

use crate::error::{HttpError, HttpResult};
use crate::routes::{AppState, Target};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rill_kv::bucket::{BucketProps, PropsError};
use rill_kv::service::PropsUpdate;

/// The inner props object of a bucket named `name`.
pub fn props_json(props: &BucketProps, name: &[u8]) -> serde_json::Value {
    props.to_json(&String::from_utf8_lossy(name))
}

fn props_response(props: serde_json::Value) -> Response {
    let body = serde_json::json!({ "props": props }).to_string();
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// `400` with the problems as a JSON object from property to reason, as
/// Riak's props resource answers.
pub fn invalid_props(e: PropsError) -> HttpError {
    HttpError::bad_request(e.to_http_body()).with_content_type("application/json")
}

/// Checks a props PUT body as Riak does: first the JSON shape (400), then
/// the content type (415). Returns the inner props object.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, HttpError> {
    let shape = || {
        HttpError::bad_request(
            "bucket PUT must be a JSON object of the form:\n{\"props\":{...bucket properties...}}",
        )
    };
    let parsed: serde_json::Value = serde_json::from_slice(body).map_err(|_| shape())?;
    let props = match parsed.get("props") {
        Some(p @ serde_json::Value::Object(_)) => p.clone(),
        _ => return Err(shape()),
    };
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if media.as_deref() != Some("application/json") {
        return Err(HttpError::unsupported_media(
            "Content-Type must be application/json\n",
        ));
    }
    Ok(props)
}

/// `GET|HEAD /buckets/B/props`, `/types/T/buckets/B/props`.
pub async fn get_bucket(State(st): State<AppState>, t: Target) -> HttpResult {
    let props = st.kv.bucket_props(&t.bucket_type, &t.bucket).await?;
    Ok(props_response(props_json(&props, &t.bucket)))
}

/// `PUT /buckets/B/props`, `/types/T/buckets/B/props`, `/riak/B`.
pub async fn put_bucket(
    State(st): State<AppState>,
    headers: HeaderMap,
    t: Target,
    body: Bytes,
) -> HttpResult {
    let props = parse_body(&headers, &body)?;
    // Checked here first so the 400 carries Riak's JSON list of problems.
    let current = st.kv.bucket_props(&t.bucket_type, &t.bucket).await?;
    current.apply_json_update(&props).map_err(invalid_props)?;
    st.kv
        .set_bucket_props(&t.bucket_type, &t.bucket, PropsUpdate::Json(props))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /buckets/B/props`: back to the type's defaults.
pub async fn reset_bucket(State(st): State<AppState>, t: Target) -> HttpResult {
    st.kv.reset_bucket_props(&t.bucket_type, &t.bucket).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET|HEAD /types/T/props`.
pub async fn get_type(State(st): State<AppState>, t: Target) -> HttpResult {
    let props = st.kv.type_props(&t.bucket_type).await?;
    Ok(props_response(props.to_type_json()))
}

/// `PUT /types/T/props`.
pub async fn put_type(
    State(st): State<AppState>,
    headers: HeaderMap,
    t: Target,
    body: Bytes,
) -> HttpResult {
    let props = parse_body(&headers, &body)?;
    let current = st.kv.type_props(&t.bucket_type).await?;
    current.apply_json_update(&props).map_err(invalid_props)?;
    st.kv
        .set_type_props(&t.bucket_type, PropsUpdate::Json(props))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
