//! `GET …/keys/K/preflist` (Riak 2.1): the vnodes a request on the key
//! uses now, primaries and fallbacks, as
//! `{"preflist":[{"partition":P,"node":N,"primary":true},…]}`. Other paths
//! under a key are link walks, not served yet.

use crate::error::HttpError;
use crate::routes::{AppState, Target};
use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use rill_kv::BucketKey;
use serde_json::json;

pub async fn under_key(State(st): State<AppState>, uri: Uri, target: Target) -> Response {
    if !uri.path().ends_with("/preflist") {
        return HttpError::not_implemented("Link walking").into_response();
    }
    let Some(key) = target.key else {
        return HttpError::bad_request("missing key\n").into_response();
    };
    let bk = BucketKey {
        bucket_type: target.bucket_type,
        bucket: target.bucket,
        key,
    };
    match st.kv.preflist(&bk).await {
        Ok(pl) => {
            let items: Vec<_> = pl
                .iter()
                .map(|e| json!({"partition": e.partition, "node": e.node, "primary": e.primary}))
                .collect();
            Json(json!({ "preflist": items })).into_response()
        }
        Err(e) => HttpError::from(e).into_response(),
    }
}
