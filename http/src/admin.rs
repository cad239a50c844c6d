//! Rill's bucket-type admin API (Riak only had `riak-admin bucket-type`):
//! list, inspect, create (201, 409 when taken) and activate (204) types.
//! `rill admin bucket-type …` is a client of these routes; the JSON shapes
//! are documented in `docs/api/admin-http.md`.

use crate::error::{HttpError, HttpResult};
use crate::props::invalid_props;
use crate::routes::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rill_kv::bucket::BucketProps;
use rill_kv::service::{PropsUpdate, TypeStatus};
use serde_json::{Value, json};

const DEFAULT_TYPE: &str = "default";

/// The type named in `/admin/bucket-types/{T}[/...]`, decoded.
fn type_name(uri: &Uri) -> Result<String, HttpError> {
    let raw = uri.path().split('/').nth(3).unwrap_or("");
    String::from_utf8(crate::params::form_decode(raw))
        .map_err(|_| HttpError::bad_request("Bucket type names must be UTF-8\n"))
}

/// A type's status; the default type always exists and is active.
async fn status_of(st: &AppState, name: &str) -> Result<Option<TypeStatus>, HttpError> {
    match st.kv.type_status(name).await? {
        None if name == DEFAULT_TYPE => Ok(Some(TypeStatus::Active)),
        other => Ok(other),
    }
}

async fn describe(st: &AppState, name: &str, status: TypeStatus) -> Result<Value, HttpError> {
    let props = st.kv.type_props(name.as_bytes()).await?;
    Ok(json!({
        "name": name,
        "status": status.as_str(),
        "props": props.to_type_json(),
    }))
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// `GET /admin/bucket-types`: every type, `default` first.
pub async fn list_types(State(st): State<AppState>) -> HttpResult {
    let mut types = st.kv.list_types().await?;
    if !types.iter().any(|(n, _)| n == DEFAULT_TYPE) {
        types.insert(0, (DEFAULT_TYPE.to_string(), TypeStatus::Active));
    }
    let mut out = Vec::with_capacity(types.len());
    for (name, status) in &types {
        out.push(describe(&st, name, *status).await?);
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({ "bucket_types": out }),
    ))
}

/// `GET /admin/bucket-types/{T}`.
pub async fn get_type(State(st): State<AppState>, uri: Uri) -> HttpResult {
    let name = type_name(&uri)?;
    let status = status_of(&st, &name)
        .await?
        .ok_or_else(|| HttpError::unknown_type(&name))?;
    Ok(json_response(
        StatusCode::OK,
        &describe(&st, &name, status).await?,
    ))
}

/// `PUT /admin/bucket-types/{T}` with `{"props":{...}}` (or no body).
pub async fn create_type(
    State(st): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResult {
    let name = type_name(&uri)?;
    if name.is_empty() {
        return Err(HttpError::bad_request("A bucket type needs a name\n"));
    }
    let props = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
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
        if media.as_deref().is_some_and(|m| m != "application/json") {
            return Err(HttpError::unsupported_media(
                "Content-Type must be application/json\n",
            ));
        }
        let parsed: Value = serde_json::from_slice(&body).map_err(|_| {
            HttpError::bad_request(format!("Cannot create bucket type {name}: invalid json\n"))
        })?;
        match parsed.get("props") {
            Some(p @ Value::Object(_)) => p.clone(),
            _ => {
                return Err(HttpError::bad_request(format!(
                    "Cannot create bucket type {name}: no props field found in json\n"
                )));
            }
        }
    };
    BucketProps::create_type_from_json(&props).map_err(invalid_props)?;
    if status_of(&st, &name).await?.is_some() {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            format!("Bucket type {name} already exists\n"),
        ));
    }
    st.kv.create_type(&name, PropsUpdate::Json(props)).await?;
    let status = status_of(&st, &name).await?.unwrap_or(TypeStatus::Created);
    let mut resp = json_response(StatusCode::CREATED, &describe(&st, &name, status).await?);
    if let Ok(loc) = HeaderValue::from_str(uri.path()) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// `POST /admin/bucket-types/{T}/activate`.
pub async fn activate_type(State(st): State<AppState>, uri: Uri) -> HttpResult {
    let name = type_name(&uri)?;
    match status_of(&st, &name).await? {
        None => Err(HttpError::unknown_type(&name)),
        Some(TypeStatus::Active) => Ok(StatusCode::NO_CONTENT.into_response()),
        Some(_) => {
            st.kv.activate_type(&name).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }
}
