//! The route table: Riak's three URL families (`/riak/B/K`, `/buckets/B/keys/K`,
//! `/types/T/buckets/B/keys/K`), the server resources, the `/admin` API
//! (bucket types, status, cluster), and
//! clear 501 answers for Riak endpoints not served yet.
//! Path segments are percent-decoded here (with `+` as a space) into a
//! [`Target`]; the handlers never see raw URLs.

use crate::cluster::ClusterCtl;
use crate::error::HttpError;
use crate::params::form_decode;
use crate::{admin, cluster, list, object, props, stats};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{MethodRouter, any, get, post};
use rill_kv::service::KvService;
use std::sync::Arc;

/// Largest request body accepted: Riak's hard object size limit (50 MB).
pub const MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub kv: KvService,
    /// The cluster this node belongs to; None on a standalone service.
    pub cluster: Option<Arc<ClusterCtl>>,
}

/// Which URL family a request came in on; responses (Link, Location) answer
/// in the same family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/riak/B/K`
    V1,
    /// `/buckets/B/keys/K`
    V2,
    /// `/types/T/buckets/B/keys/K`
    V3,
}

/// The bucket type, bucket and (maybe) key a request addresses, decoded.
#[derive(Debug, Clone)]
pub struct Target {
    pub api: ApiVersion,
    pub bucket_type: Vec<u8>,
    pub bucket: Vec<u8>,
    pub key: Option<Vec<u8>>,
}

impl<S: Send + Sync> FromRequestParts<S> for Target {
    type Rejection = std::convert::Infallible;

    /// Reads the still-encoded path (axum's own path extractors decode and
    /// reject keys that are not UTF-8, which Riak keys need not be).
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let segs: Vec<&str> = parts
            .uri
            .path()
            .trim_start_matches('/')
            .split('/')
            .collect();
        let seg = |i: usize| segs.get(i).map(|s| form_decode(s));
        let keyed = |i: usize, marker: &str| {
            if segs.get(i - 1) == Some(&marker) {
                seg(i)
            } else {
                None
            }
        };
        let target = match segs.first().copied() {
            Some("riak") => Target {
                api: ApiVersion::V1,
                bucket_type: b"default".to_vec(),
                bucket: seg(1).unwrap_or_default(),
                key: seg(2),
            },
            Some("types") => Target {
                api: ApiVersion::V3,
                bucket_type: seg(1).unwrap_or_default(),
                bucket: if segs.get(2) == Some(&"buckets") {
                    seg(3)
                } else {
                    None
                }
                .unwrap_or_default(),
                key: keyed(5, "keys"),
            },
            _ => Target {
                api: ApiVersion::V2,
                bucket_type: b"default".to_vec(),
                bucket: seg(1).unwrap_or_default(),
                key: keyed(3, "keys"),
            },
        };
        Ok(target)
    }
}

/// A method router that sends every object method to one handler.
fn object_methods() -> MethodRouter<AppState> {
    get(object::handle)
        .head(object::handle)
        .put(object::handle)
        .post(object::handle)
        .delete(object::handle)
}

fn not_yet(what: &'static str) -> MethodRouter<AppState> {
    any(move || async move { HttpError::not_implemented(what) })
}

/// The whole HTTP API over one KV service.
pub fn build(kv: KvService, cluster: Option<ClusterCtl>) -> Router {
    let state = AppState {
        kv,
        cluster: cluster.map(Arc::new),
    };
    Router::new()
        // Server resources.
        .route("/", get(stats::root))
        .route("/ping", get(stats::ping))
        .route("/stats", get(stats::stats))
        // v1: /riak
        .route("/riak", get(list::buckets))
        .route(
            "/riak/{b}",
            get(list::v1_bucket)
                .put(props::put_bucket)
                .post(object::handle),
        )
        .route("/riak/{b}/{k}", object_methods())
        .route("/riak/{b}/{k}/{*walk}", not_yet("Link walking"))
        // v2: /buckets
        .route("/buckets", get(list::buckets))
        .route(
            "/buckets/{b}/props",
            get(props::get_bucket)
                .put(props::put_bucket)
                .delete(props::reset_bucket),
        )
        .route("/buckets/{b}/keys", get(list::keys).post(object::handle))
        .route("/buckets/{b}/keys/{k}", object_methods())
        .route(
            "/buckets/{b}/keys/{k}/{*rest}",
            get(crate::preflist::under_key),
        )
        .route(
            "/buckets/{b}/index/{*rest}",
            not_yet("Secondary index query"),
        )
        .route(
            "/buckets/{b}/counters/{k}",
            get(crate::datatypes::counter_get).post(crate::datatypes::counter_update),
        )
        // v3: /types/T
        .route(
            "/types/{t}/props",
            get(props::get_type).put(props::put_type),
        )
        .route("/types/{t}/buckets", get(list::buckets))
        .route(
            "/types/{t}/buckets/{b}/props",
            get(props::get_bucket)
                .put(props::put_bucket)
                .delete(props::reset_bucket),
        )
        .route(
            "/types/{t}/buckets/{b}/keys",
            get(list::keys).post(object::handle),
        )
        .route("/types/{t}/buckets/{b}/keys/{k}", object_methods())
        .route(
            "/types/{t}/buckets/{b}/keys/{k}/{*rest}",
            get(crate::preflist::under_key),
        )
        .route(
            "/types/{t}/buckets/{b}/index/{*rest}",
            not_yet("Secondary index query"),
        )
        .route(
            "/types/{t}/buckets/{b}/datatypes",
            post(crate::datatypes::update),
        )
        .route(
            "/types/{t}/buckets/{b}/datatypes/{k}",
            get(crate::datatypes::fetch).post(crate::datatypes::update),
        )
        // Later work.
        .route("/mapred", not_yet("MapReduce"))
        .route("/search/{*rest}", not_yet("Search"))
        // Rill's admin API.
        .route("/admin/status", get(stats::stats_json_only))
        .route("/admin/bucket-types", get(admin::list_types))
        .route(
            "/admin/bucket-types/{t}",
            get(admin::get_type).put(admin::create_type),
        )
        .route(
            "/admin/bucket-types/{t}/activate",
            post(admin::activate_type),
        )
        .route("/admin/cluster/join", post(cluster::join))
        .route("/admin/cluster/leave", post(cluster::leave))
        .route("/admin/cluster/force-remove", post(cluster::force_remove))
        .route("/admin/cluster/replace", post(cluster::replace))
        .route("/admin/cluster/force-replace", post(cluster::force_replace))
        .route("/admin/cluster/plan", get(cluster::plan))
        .route("/admin/cluster/commit", post(cluster::commit))
        .route("/admin/cluster/clear", post(cluster::clear))
        .route("/admin/cluster/members", get(cluster::members))
        .route("/admin/cluster/ring", get(cluster::ring))
        .route("/admin/cluster/transfers", get(cluster::transfers))
        .fallback(|| async { HttpError::new(StatusCode::NOT_FOUND, "not found\n") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
