//! The accept loop: limits, per-socket options and shutdown.
//!
//! Each accepted socket gets `TCP_NODELAY` (Riak turns Nagle off too) and a
//! task of its own while a connection slot is free. Over the limit the
//! socket is told why in an `RpbErrorResp` and closed. On shutdown the loop
//! stops accepting, idle connections close, busy ones finish their current
//! request, and whatever is left after the grace period is aborted.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rill_kv::KvService;
use rill_proto::DEFAULT_MAX_FRAME_LEN;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::connection::Connection;
use crate::error::PbError;
use crate::service::Service;

/// Limits of the PB listener. See `docs/decisions/0004-pb-server.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbConfig {
    /// Connections served at once; more are refused with an error reply.
    pub max_connections: usize,
    /// Largest declared frame length accepted (code byte plus body). A
    /// longer frame gets an error reply and the connection is closed.
    pub max_frame_len: usize,
    /// A connection with no complete request for this long is closed; a
    /// reply the peer does not read for this long also closes it.
    pub idle_timeout: Duration,
    /// After shutdown, how long busy connections may take to finish the
    /// request they are on before they are aborted.
    pub shutdown_grace: Duration,
}

impl Default for PbConfig {
    fn default() -> PbConfig {
        PbConfig {
            max_connections: 10_000,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            idle_timeout: Duration::from_secs(600),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Sockets refused at once may linger this long so the peer can read why.
const REFUSE_LINGER: Duration = Duration::from_secs(1);

/// At most this many refused sockets linger at a time; beyond that they
/// are dropped without a word, so a flood costs nothing.
const MAX_REFUSING: usize = 64;

/// Serves Riak PB clients on `listener` until `shutdown` resolves, then
/// stops accepting, lets connections finish their current request (for
/// up to `cfg.shutdown_grace`) and returns.
///
/// Accept errors (such as running out of file descriptors) are logged and
/// retried after a short pause rather than returned.
pub async fn serve(
    listener: TcpListener,
    kv: KvService,
    cfg: PbConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = Service::new(kv);
    let slots = Arc::new(Semaphore::new(cfg.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "pb listener started");
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let socket = match accepted {
                    Ok((socket, _peer)) => socket,
                    Err(e) => {
                        tracing::warn!(error = %e, "pb accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if let Err(e) = socket.set_nodelay(true) {
                    tracing::debug!(error = %e, "pb set_nodelay failed");
                }
                match slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        let conn = Connection::new(
                            socket,
                            service.clone(),
                            cfg.max_frame_len,
                            cfg.idle_timeout,
                            stop_rx.clone(),
                        );
                        tasks.spawn(async move {
                            conn.run().await;
                            drop(slot);
                        });
                    }
                    Err(_) => {
                        tracing::warn!(limit = cfg.max_connections, "pb connection refused: at limit");
                        if let Ok(permit) = refusing.clone().try_acquire_owned() {
                            let limit = cfg.max_connections;
                            tasks.spawn(async move {
                                refuse(socket, limit).await;
                                drop(permit);
                            });
                        }
                    }
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = timeout(cfg.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = tasks.len(),
            "pb connections aborted after the shutdown grace period"
        );
        tasks.shutdown().await;
    }
    tracing::info!("pb listener stopped");
    Ok(())
}

/// Tells a socket over the connection limit why it is being closed, then
/// closes it without resetting the error away: half-close, then read and
/// discard whatever the peer had already sent, briefly.
async fn refuse(mut socket: TcpStream, limit: usize) {
    let frame = PbError::too_many_connections(limit).to_frame().to_bytes();
    let _ = timeout(REFUSE_LINGER, async {
        socket.write_all(&frame).await?;
        socket.shutdown().await?;
        let mut sink = [0u8; 4096];
        while socket.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}
