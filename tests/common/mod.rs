//! In-process clusters over the simulated network, shared by the
//! simulation tests: boot, crash and restart a node, form a cluster and
//! wait until it has settled, create bucket types everywhere.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use rill_core::membership::{AdminCommand, AdminReply, Membership, MembershipConfig};
use rill_core::net::Rpc;
use rill_kv::*;
use rill_storage::Backend;
use rill_testkit::sim::SimNetwork;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct SimNode {
    pub name: String,
    pub kv: KvService,
    pub m: Arc<Membership>,
    /// Kept across a crash: the memory backend stands for the node's disk.
    pub backend: Arc<dyn Backend>,
    pub up: bool,
}

/// How nodes are booted; the same for every node of a cluster.
#[derive(Clone)]
pub struct Setup {
    pub ring_size: u32,
    /// The KV layer's default request timeout.
    pub timeout: Duration,
    pub delete_mode: DeleteMode,
    /// Where membership keeps its state, so a restarted node rejoins with
    /// the ring it had. None: nodes are never restarted.
    pub state_dir: Option<PathBuf>,
}

pub async fn boot(
    net: &SimNetwork,
    name: &str,
    backend: Arc<dyn Backend>,
    setup: &Setup,
) -> SimNode {
    let rpc = Rpc::new(net.transport(name));
    let cfg = MembershipConfig {
        gossip_interval: Duration::from_millis(200),
        heartbeat_interval: Duration::from_millis(100),
        down_after: Duration::from_millis(1000),
        state_file: setup
            .state_dir
            .as_ref()
            .map(|d| d.join(format!("{name}.state"))),
        rpc_timeout: Duration::from_secs(2),
    };
    let address = format!("{name}.sim");
    let m = Membership::start(name, &address, setup.ring_size, rpc.clone(), cfg).unwrap();
    let kv_cfg = KvConfig {
        node_name: name.to_string(),
        initial_ring: Some(m.state().ring()),
        default_timeout: setup.timeout,
        delete_mode: setup.delete_mode,
        ..KvConfig::default()
    };
    let b = backend.clone();
    let kv = tokio::task::spawn_blocking(move || KvService::open(kv_cfg, b).unwrap())
        .await
        .unwrap();
    kv.attach_cluster(rpc, m.clone());
    SimNode {
        name: name.to_string(),
        kv,
        m,
        backend,
        up: true,
    }
}

/// Stops a node as a process crash: its backend (the node's disk) is kept
/// for `restart`.
pub async fn crash(net: &SimNetwork, n: &mut SimNode) {
    net.crash(&n.name);
    n.m.stop();
    let kv = n.kv.clone();
    tokio::task::spawn_blocking(move || kv.shutdown())
        .await
        .unwrap();
    n.up = false;
}

/// Boots a crashed node again on the disk it had.
pub async fn restart(net: &SimNetwork, n: &mut SimNode, setup: &Setup) {
    net.restart(&n.name);
    *n = boot(net, &n.name, n.backend.clone(), setup).await;
}

/// Boots `count` nodes, joins them to n0 and waits until the ring settled.
pub async fn start_cluster(net: &SimNetwork, count: usize, setup: &Setup) -> Vec<SimNode> {
    let mut nodes = Vec::new();
    for i in 0..count {
        nodes.push(boot(net, &format!("n{i}"), rill_storage::memory(), setup).await);
    }
    for n in &nodes[1..] {
        n.m.join_node(&"n0".to_string(), &format!("{}.sim", n.name))
            .await
            .unwrap();
    }
    let reply = nodes[0].m.admin(AdminCommand::Commit).await;
    assert!(matches!(reply, AdminReply::Plan(_)), "{reply:?}");
    wait_settled(&nodes, Duration::from_secs(60)).await;
    nodes
}

/// Every node has the same cluster state, nothing is pending, and each runs
/// only the vnodes it owns (fallback data went home).
pub fn settled(nodes: &[SimNode]) -> bool {
    let states: Vec<_> = nodes.iter().map(|n| n.m.state()).collect();
    states.windows(2).all(|w| w[0] == w[1])
        && states[0].ownership.value.next.is_empty()
        && nodes.iter().all(|n| {
            n.kv.transfers().is_empty()
                && n.kv.stats()["vnodes_running"].as_u64()
                    == Some(n.kv.ring().partitions_of(&n.name).len() as u64)
        })
}

pub async fn wait_settled(nodes: &[SimNode], within: Duration) {
    let deadline = Instant::now() + within;
    while !settled(nodes) {
        if Instant::now() > deadline {
            for n in nodes {
                let s = n.m.state();
                eprintln!(
                    "{}: pending {}, transfers {:?}, vnodes {:?} owned {:?}, members {:?}",
                    n.name,
                    s.ownership.value.next.len(),
                    n.kv.transfers(),
                    n.kv.running_vnodes(),
                    n.kv.ring().partitions_of(&n.name),
                    s.members
                        .iter()
                        .map(|(k, v)| (k.clone(), v.value.status))
                        .collect::<Vec<_>>()
                );
            }
            panic!("cluster did not settle");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates and activates bucket types on n0, then waits until every node
/// knows them.
pub async fn create_types(nodes: &[SimNode], types: &[(&str, serde_json::Value)]) {
    let kv = &nodes[0].kv;
    for (name, props) in types {
        kv.create_type(name, PropsUpdate::Json(props.clone()))
            .await
            .unwrap();
        kv.activate_type(name).await.unwrap();
    }
    for n in nodes {
        let deadline = Instant::now() + Duration::from_secs(10);
        for (name, _) in types {
            while n.kv.bucket_props(name.as_bytes(), b"b").await.is_err() {
                assert!(Instant::now() < deadline, "{name} did not reach {}", n.name);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
