//! A running node: storage, the KV service, membership over the cluster
//! network, and the client listeners, with one shutdown signal that reaches
//! them all. Tests start one in-process on port 0 with a temporary data
//! directory.

use crate::config::Config;
use anyhow::Context;
use rill_core::membership::{MemberStatus, Membership, MembershipConfig};
use rill_core::net::{NetConfig, Rpc, TcpTransport};
use rill_kv::KvService;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Node {
    pub kv: KvService,
    pub membership: Arc<Membership>,
    http_addr: SocketAddr,
    pb_addr: SocketAddr,
    cluster_addr: SocketAddr,
    transport: Arc<TcpTransport>,
    shutdown: watch::Sender<bool>,
    /// Set once this node has left the cluster (exiting or removed).
    left: watch::Receiver<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Node {
    /// Opens storage, joins the cluster network, starts the vnodes and binds
    /// every listener.
    pub async fn start(cfg: Config) -> anyhow::Result<Node> {
        let storage = cfg.storage()?;
        let mut kv_cfg = cfg.kv()?;
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("creating data dir {}", cfg.data_dir.display()))?;

        let transport = TcpTransport::bind(cfg.node.clone(), cfg.cluster, NetConfig::default())
            .await
            .with_context(|| format!("binding cluster listener {}", cfg.cluster))?;
        let cluster_addr = transport.local_addr();
        let rpc = Rpc::new(transport.clone());
        let membership = Membership::start(
            &cfg.node,
            &cluster_addr.to_string(),
            kv_cfg.ring_size,
            rpc.clone(),
            MembershipConfig {
                state_file: Some(cfg.data_dir.join("cluster.state")),
                ..MembershipConfig::default()
            },
        )?;
        // The ring this node had, so vnodes start where they were.
        kv_cfg.initial_ring = Some(membership.state().ring());

        let dir = cfg.data_dir.join("storage");
        let kv = tokio::task::spawn_blocking(move || -> anyhow::Result<KvService> {
            let backend = rill_storage::open_fjall(&dir, &storage)
                .with_context(|| format!("opening storage in {}", dir.display()))?;
            Ok(KvService::open(kv_cfg, backend)?)
        })
        .await??;
        kv.attach_cluster(rpc, membership.clone());

        let (shutdown, rx) = watch::channel(false);
        let http = TcpListener::bind(cfg.http)
            .await
            .with_context(|| format!("binding HTTP listener {}", cfg.http))?;
        let http_addr = http.local_addr()?;
        let pb = TcpListener::bind(cfg.pb)
            .await
            .with_context(|| format!("binding PB listener {}", cfg.pb))?;
        let pb_addr = pb.local_addr()?;
        let mut tasks = Vec::new();
        let kv2 = kv.clone();
        let rx2 = rx.clone();
        let ctl = rill_http::ClusterCtl {
            membership: membership.clone(),
            cluster_addr: cluster_addr.to_string(),
        };
        tasks.push(tokio::spawn(async move {
            if let Err(e) = rill_http::serve(http, kv2, Some(ctl), wait_for(rx2)).await {
                tracing::error!(error = %e, "HTTP listener failed");
            }
        }));
        let kv2 = kv.clone();
        tasks.push(tokio::spawn(async move {
            let cfg = rill_pb::PbConfig::default();
            if let Err(e) = rill_pb::serve(pb, kv2, cfg, wait_for(rx)).await {
                tracing::error!(error = %e, "PB listener failed");
            }
        }));
        let left = watch_departure(membership.clone(), kv.clone());
        tracing::info!(node = %cfg.node, http = %http_addr, pb = %pb_addr, cluster = %cluster_addr,
            data_dir = %cfg.data_dir.display(), "node started");
        Ok(Node {
            kv,
            membership,
            http_addr,
            pb_addr,
            cluster_addr,
            transport,
            shutdown,
            left,
            tasks,
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn pb_addr(&self) -> SocketAddr {
        self.pb_addr
    }

    pub fn cluster_addr(&self) -> SocketAddr {
        self.cluster_addr
    }

    /// Resolves once this node has left the cluster and handed off its data
    /// (`cluster leave` committed and finished): the process should stop.
    pub async fn departed(&self) {
        let mut left = self.left.clone();
        while !*left.borrow_and_update() {
            if left.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Stops listeners, then vnodes, then syncs storage.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let kv = self.kv.clone();
        let _ = tokio::task::spawn_blocking(move || kv.shutdown()).await;
        rill_core::net::Transport::shutdown(&*self.transport);
        tracing::info!("node stopped");
    }
}

/// Signals when this node's status becomes exiting or removed and it has
/// no transfers left: as in Riak, a node that left shuts down.
fn watch_departure(membership: Arc<Membership>, kv: KvService) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut states = membership.subscribe();
        loop {
            if kv.is_closed() {
                return;
            }
            let me = membership.node().clone();
            let status = states.borrow_and_update().status(&me);
            if matches!(status, Some(MemberStatus::Exiting | MemberStatus::Removed))
                && kv.transfers().is_empty()
            {
                tracing::info!("this node has left the cluster");
                let _ = tx.send(true);
                return;
            }
            tokio::select! {
                r = states.changed() => if r.is_err() { return },
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    });
    rx
}

async fn wait_for(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}
