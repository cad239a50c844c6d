//! A five-node cluster in one process over the simulated network: random
//! partitions, message loss and node restarts while clients write; after
//! healing, every acknowledged write (allow_mult=true) is present as a
//! value or sibling on every replica, and every node has the same ring.

mod common;

use common::{Setup, crash, create_types, restart, start_cluster, wait_settled};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rill_kv::bucket::Quorum;
use rill_kv::*;
use rill_testkit::sim::SimNetwork;
use std::collections::BTreeMap;
use std::time::Duration;

const NODES: usize = 5;
const KEYS: usize = 20;
const STEPS: usize = 300;

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
    let setup = Setup {
        ring_size: 64,
        timeout: Duration::from_secs(2),
        delete_mode: DeleteMode::Keep,
        state_dir: Some(dir.path().to_path_buf()),
    };
    let mut nodes = start_cluster(&net, NODES, &setup).await;
    create_types(&nodes, &[("sim", serde_json::json!({}))]).await;

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
                restart(&net, &mut nodes[i], &setup).await;
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
            restart(&net, node, &setup).await;
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
