//! A five-node cluster in one process over the simulated network: random
//! partitions, message loss and node restarts while clients write; after
//! healing, every acknowledged write (allow_mult=true) is present as a
//! value or sibling on every replica, and every node has the same ring.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rill_core::membership::{AdminCommand, AdminReply, Membership, MembershipConfig};
use rill_core::net::Rpc;
use rill_kv::bucket::Quorum;
use rill_kv::*;
use rill_storage::Backend;
use rill_testkit::sim::SimNetwork;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NODES: usize = 5;
const KEYS: usize = 20;
const STEPS: usize = 300;

struct SimNode {
    name: String,
    kv: KvService,
    m: Arc<Membership>,
    backend: Arc<dyn Backend>,
    state_file: PathBuf,
    up: bool,
}

async fn boot(net: &SimNetwork, name: &str, backend: Arc<dyn Backend>, dir: &Path) -> SimNode {
    let rpc = Rpc::new(net.transport(name));
    let state_file = dir.join(format!("{name}.state"));
    let cfg = MembershipConfig {
        gossip_interval: Duration::from_millis(200),
        heartbeat_interval: Duration::from_millis(100),
        down_after: Duration::from_millis(1000),
        state_file: Some(state_file.clone()),
        rpc_timeout: Duration::from_secs(2),
    };
    let m = Membership::start(name, &format!("{name}.sim"), 64, rpc.clone(), cfg).unwrap();
    let kv_cfg = KvConfig {
        node_name: name.to_string(),
        initial_ring: Some(m.state().ring()),
        default_timeout: Duration::from_secs(2),
        delete_mode: DeleteMode::Keep,
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
        state_file,
        up: true,
    }
}

async fn crash(net: &SimNetwork, n: &mut SimNode) {
    net.crash(&n.name);
    n.m.stop();
    let kv = n.kv.clone();
    tokio::task::spawn_blocking(move || kv.shutdown())
        .await
        .unwrap();
    n.up = false;
}

async fn restart(net: &SimNetwork, n: &mut SimNode, dir: &Path) {
    net.restart(&n.name);
    let fresh = boot(net, &n.name, n.backend.clone(), dir).await;
    assert_eq!(fresh.state_file, n.state_file);
    *n = fresh;
}

/// Every node has the same cluster state, nothing is pending, and each runs
/// only the vnodes it owns (fallback data went home).
fn settled(nodes: &[SimNode]) -> bool {
    let states: Vec<_> = nodes.iter().map(|n| n.m.state()).collect();
    states.windows(2).all(|w| w[0] == w[1])
        && states[0].ownership.value.next.is_empty()
        && nodes.iter().all(|n| {
            n.kv.transfers().is_empty()
                && n.kv.stats()["vnodes_running"].as_u64()
                    == Some(n.kv.ring().partitions_of(&n.name).len() as u64)
        })
}

async fn wait_settled(nodes: &[SimNode], within: Duration) {
    let deadline = Instant::now() + within;
    while !settled(nodes) {
        if Instant::now() > deadline {
            let states: Vec<_> = nodes.iter().map(|n| n.m.state()).collect();
            for (n, s) in nodes.iter().zip(&states) {
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

fn put(key: usize, value: &str) -> PutRequest {
    PutRequest {
        bucket_type: b"sim".to_vec(),
        bucket: b"b".to_vec(),
        key: Some(format!("k{key}").into_bytes()),
        context: None,
        content: NewContent {
            value: value.as_bytes().to_vec(),
            ..Default::default()
        },
        options: PutOptions::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_partitions_loss_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let net = SimNetwork::new(7);
    let mut nodes = Vec::new();
    for i in 0..NODES {
        nodes.push(boot(&net, &format!("n{i}"), rill_storage::memory(), dir.path()).await);
    }
    for n in &nodes[1..] {
        n.m.join_node(&"n0".to_string(), &format!("{}.sim", n.name))
            .await
            .unwrap();
    }
    let reply = nodes[0].m.admin(AdminCommand::Commit).await;
    assert!(matches!(reply, AdminReply::Plan(_)), "{reply:?}");
    wait_settled(&nodes, Duration::from_secs(60)).await;
    let kv = &nodes[0].kv;
    kv.create_type("sim", PropsUpdate::Json(serde_json::json!({})))
        .await
        .unwrap();
    kv.activate_type("sim").await.unwrap();
    for n in &nodes {
        let deadline = Instant::now() + Duration::from_secs(10);
        while n.kv.bucket_props(b"sim", b"b").await.is_err() {
            assert!(Instant::now() < deadline, "type did not reach {}", n.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    let mut rng = StdRng::seed_from_u64(42);
    let mut acked: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let (mut writes, mut failed) = (0, 0);
    for step in 0..STEPS {
        let roll = rng.random_range(0..100);
        let live: Vec<usize> = (0..NODES).filter(|&i| nodes[i].up).collect();
        if roll < 65 {
            let at = live[rng.random_range(0..live.len())];
            let key = rng.random_range(0..KEYS);
            let value = format!("v{step}");
            writes += 1;
            let req = put(key, &value);
            match tokio::time::timeout(Duration::from_secs(3), nodes[at].kv.put(req)).await {
                Ok(Ok(_)) => acked.entry(key).or_default().push(value),
                _ => failed += 1,
            }
        } else if roll < 73 {
            let split = rng.random_range(1..NODES);
            let names: Vec<String> = (0..NODES).map(|i| format!("n{i}")).collect();
            net.partition(&names[..split], &names[split..]);
        } else if roll < 81 {
            net.heal();
        } else if roll < 86 {
            net.set_drop_rate(if rng.random_bool(0.5) { 0.1 } else { 0.0 });
        } else if roll < 91 && live.len() > 3 {
            let i = live[rng.random_range(0..live.len())];
            crash(&net, &mut nodes[i]).await;
        } else if roll < 97 {
            if let Some(i) = (0..NODES).find(|&i| !nodes[i].up) {
                restart(&net, &mut nodes[i], dir.path()).await;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    println!(
        "{writes} writes, {} acknowledged, {failed} not",
        writes - failed
    );

    // Heal everything and let gossip and hinted handoff finish.
    net.heal();
    net.set_drop_rate(0.0);
    for node in nodes.iter_mut() {
        if !node.up {
            restart(&net, node, dir.path()).await;
        }
    }
    wait_settled(&nodes, Duration::from_secs(120)).await;

    // One read per key repairs replicas that missed writes while apart.
    for key in 0..KEYS {
        let bk = BucketKey::new(b"sim", b"b", format!("k{key}").as_bytes());
        let opts = GetOptions {
            r: Some(Quorum::All),
            ..Default::default()
        };
        let _ = nodes[0].kv.get(bk, opts).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut lost = Vec::new();
    for (key, values) in &acked {
        let bk = BucketKey::new(b"sim", b"b", format!("k{key}").as_bytes());
        for (entry, copy) in nodes[0].kv.replica_objects(&bk).await.unwrap() {
            let have: Vec<Vec<u8>> = match copy {
                Ok(Some(o)) => o.siblings.iter().map(|s| s.value.clone()).collect(),
                _ => Vec::new(),
            };
            for v in values {
                if !have.contains(&v.as_bytes().to_vec()) {
                    lost.push((key, v.clone(), entry.node.clone(), entry.partition));
                }
            }
        }
    }
    assert!(
        lost.is_empty(),
        "{} acknowledged writes missing from a replica, first: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let states: Vec<_> = nodes.iter().map(|n| n.m.state()).collect();
    assert!(states.windows(2).all(|w| w[0] == w[1]), "rings differ");
}
