//! A running node: storage, the KV service and its listeners, and one
//! shutdown signal that reaches them all. Tests start one in-process on
//! port 0 with a temporary data directory.

use crate::config::Config;
use anyhow::Context;
use rill_kv::KvService;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Node {
    pub kv: KvService,
    http_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Node {
    /// Opens storage, starts the vnodes and binds every listener.
    pub async fn start(cfg: Config) -> anyhow::Result<Node> {
        let storage = cfg.storage()?;
        let kv_cfg = cfg.kv()?;
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("creating data dir {}", cfg.data_dir.display()))?;
        let dir = cfg.data_dir.join("storage");
        let kv = tokio::task::spawn_blocking(move || -> anyhow::Result<KvService> {
            let backend = rill_storage::open_fjall(&dir, &storage)
                .with_context(|| format!("opening storage in {}", dir.display()))?;
            Ok(KvService::open(kv_cfg, backend)?)
        })
        .await??;
        let (shutdown, rx) = watch::channel(false);
        let http = TcpListener::bind(cfg.http)
            .await
            .with_context(|| format!("binding HTTP listener {}", cfg.http))?;
        let http_addr = http.local_addr()?;
        let mut tasks = Vec::new();
        let kv2 = kv.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = rill_http::serve(http, kv2, wait_for(rx)).await {
                tracing::error!(error = %e, "HTTP listener failed");
            }
        }));
        tracing::info!(node = %cfg.node, http = %http_addr, data_dir = %cfg.data_dir.display(), "node started");
        Ok(Node {
            kv,
            http_addr,
            shutdown,
            tasks,
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Stops listeners, then vnodes, then syncs storage.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let kv = self.kv.clone();
        let _ = tokio::task::spawn_blocking(move || kv.shutdown()).await;
        tracing::info!("node stopped");
    }
}

async fn wait_for(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}
