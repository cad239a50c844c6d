//! Riak's HTTP API (port 8098) over the KV service: objects, siblings,
//! conditional requests, list buckets and keys, bucket and type properties,
//! `/ping`, `/stats`, `/` and Rill's `/admin` API for bucket types and, when
//! the node is part of a cluster, cluster administration.
//!
//! `router` builds the axum app; `serve` runs it on a listener with Riak-sized
//! limits until the shutdown future resolves. Status codes live in `error`.

mod admin;
mod cluster;
mod datatypes;
pub mod error;
mod headers;
mod list;
mod multipart;
mod object;
mod params;
mod preflist;
mod props;
mod routes;
mod stats;

pub use cluster::{ClusterCtl, DEFAULT_CLUSTER_PORT};
pub use error::HttpError;
pub use routes::MAX_BODY_BYTES;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rill_kv::service::KvService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Most request headers accepted (Riak objects may carry many index and
/// metadata headers).
pub const MAX_HEADERS: usize = 1000;
/// Largest request head (request line plus headers) in bytes.
pub const MAX_HEAD_BYTES: usize = 1024 * 1024;
/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP API as an axum router (no listener attached). Without a
/// cluster handle the `/admin/cluster` endpoints answer 501.
pub fn router(kv: KvService, cluster: Option<ClusterCtl>) -> Router {
    routes::build(kv, cluster).layer(middleware::from_fn(guard))
}

/// Checks every request before routing: a declared body over the object
/// size limit is refused at once (413) without reading it, and a request
/// with `Origin: null` (a cross-site form post) is forbidden, as in Riak.
async fn guard(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body larger than the {MAX_BODY_BYTES} byte object limit\n"),
        )
        .into_response();
    }
    if req
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|o| o == "null")
    {
        return HttpError::new(StatusCode::FORBIDDEN, "").into_response();
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // A chunked body that grew past the limit while being read.
        return HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body larger than the {MAX_BODY_BYTES} byte object limit\n"),
        )
        .into_response();
    }
    resp
}

/// Resolves once the shutdown flag is raised (or its sender is gone).
async fn stopped(mut rx: watch::Receiver<bool>) {
    while !is_set(&rx) {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

fn is_set(rx: &watch::Receiver<bool>) -> bool {
    *rx.borrow()
}

/// Serves the HTTP API on `listener` until `shutdown` resolves, then stops
/// accepting, lets in-flight requests finish and returns.
pub async fn serve(
    listener: TcpListener,
    kv: KvService,
    cluster: Option<ClusterCtl>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(kv, cluster);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and similar: back off, keep serving.
                    tracing::warn!(error = %e, "http accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Reap finished connections so the set does not grow without bound.
        while conns.try_join_next().is_some() {}
        let service = TowerToHyperService::new(app.clone());
        let stop = stop_rx.clone();
        conns.spawn(async move {
            let _ = stream.set_nodelay(true);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .max_headers(MAX_HEADERS)
                .max_buf_size(MAX_HEAD_BYTES)
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stopped(stop) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "http connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while conns.join_next().await.is_some() {}
    Ok(())
}
