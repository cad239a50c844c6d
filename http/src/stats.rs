//! Server resources: `/ping`, `/stats` (Riak-named statistics plus the
//! version and system names clients read, e.g. `riak_kv_version`), the
//! `/` resource index clients use for feature detection, and `/admin/status`.
//! The numbers themselves come from `KvService::stats`.

use crate::headers::choose_media;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rill_kv::service::KvService;
use serde_json::{Map, Value};

/// The Riak release whose HTTP behaviour this node follows; clients gate
/// features on `riak_kv_version`.
pub const RIAK_VERSION: &str = "3.0.16";

/// Resources listed at `/`: what clients look up to find paths and
/// features. Only resources this node serves are listed.
const RESOURCES: &[(&str, &str)] = &[
    ("riak_kv_wm_bucket_type", "/types"),
    ("riak_kv_wm_buckets", "/buckets"),
    ("riak_kv_wm_counter", "/buckets"),
    ("riak_kv_wm_crdt", "/types"),
    ("riak_kv_wm_keylist", "/buckets"),
    ("riak_kv_wm_object", "/buckets"),
    ("riak_kv_wm_ping", "/ping"),
    ("riak_kv_wm_props", "/buckets"),
    ("riak_kv_wm_raw", "/riak"),
    ("riak_kv_wm_stats", "/stats"),
];

fn with_type(mut resp: Response, content_type: &'static str) -> Response {
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// `GET /ping`.
pub async fn ping() -> Response {
    with_type((StatusCode::OK, "OK").into_response(), "text/html")
}

/// `GET /`: JSON when the client prefers it, otherwise an HTML list; both
/// with a `Link` header naming every resource.
pub async fn root(headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let link = RESOURCES
        .iter()
        .map(|(name, path)| format!("<{path}>; rel=\"{name}\""))
        .collect::<Vec<_>>()
        .join(",");
    let mut resp = match choose_media(accept, &["text/html", "application/json"]) {
        Some("application/json") => {
            let map: Map<String, Value> = RESOURCES
                .iter()
                .map(|(n, p)| (n.to_string(), Value::String(p.to_string())))
                .collect();
            with_type(
                (StatusCode::OK, Value::Object(map).to_string()).into_response(),
                "application/json",
            )
        }
        _ => {
            let mut html = String::from("<html><body><ul>");
            for (name, path) in RESOURCES {
                html.push_str(&format!("<li><a href=\"{path}\">{name}</a></li>"));
            }
            html.push_str("</ul></body></html>");
            with_type((StatusCode::OK, html).into_response(), "text/html")
        }
    };
    if let Ok(v) = HeaderValue::from_str(&link) {
        resp.headers_mut().insert(header::LINK, v);
    }
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    resp
}

/// The statistics object: the KV service's counters, completed with the
/// version and system entries Riak reports (the service's values win).
pub fn stats_json(kv: &KvService) -> Map<String, Value> {
    let mut stats = kv.stats();
    let node = kv.node_name().to_string();
    let mut defaults: Vec<(&str, Value)> = vec![
        ("nodename", Value::from(node.clone())),
        ("connected_nodes", Value::Array(Vec::new())),
        ("ring_members", Value::Array(vec![Value::from(node)])),
        ("riak_kv_version", Value::from(RIAK_VERSION)),
        ("riak_core_version", Value::from(RIAK_VERSION)),
        ("riak_api_version", Value::from(RIAK_VERSION)),
        ("riak_pb_version", Value::from(RIAK_VERSION)),
        ("rill_version", Value::from(env!("CARGO_PKG_VERSION"))),
        (
            "sys_system_version",
            Value::from(format!("Rill {}", env!("CARGO_PKG_VERSION"))),
        ),
        (
            "sys_system_architecture",
            Value::from(std::env::consts::ARCH),
        ),
    ];
    if let Ok(n) = std::thread::available_parallelism() {
        defaults.push(("cpu_nprocs", Value::from(n.get())));
        defaults.push(("sys_logical_processors", Value::from(n.get())));
    }
    for (k, v) in defaults {
        stats.entry(k.to_string()).or_insert(v);
    }
    stats
}

/// `GET /stats`: JSON, or pretty-printed JSON for `Accept: text/plain`.
pub async fn stats(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let value = Value::Object(stats_json(&st.kv));
    match choose_media(accept, &["application/json", "text/plain"]) {
        Some("text/plain") => with_type(
            (
                StatusCode::OK,
                serde_json::to_string_pretty(&value).unwrap_or_default(),
            )
                .into_response(),
            "text/plain",
        ),
        _ => with_type(
            (StatusCode::OK, value.to_string()).into_response(),
            "application/json",
        ),
    }
}

/// `GET /admin/status`: the same object, always JSON.
pub async fn stats_json_only(State(st): State<AppState>) -> Response {
    with_type(
        (
            StatusCode::OK,
            Value::Object(stats_json(&st.kv)).to_string(),
        )
            .into_response(),
        "application/json",
    )
}
