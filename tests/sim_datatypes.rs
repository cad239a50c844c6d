//! Data types on a three-node cluster in one process over the simulated
//! network: updates sent to every node at once (coordinated by different
//! vnodes, or forwarded when the receiving node holds no replica) converge
//! to one value that every node fetches.

use rill_core::membership::{AdminCommand, AdminReply, Membership, MembershipConfig};
use rill_core::net::Rpc;
use rill_kv::crdt::{CounterOp, DtOp, DtValue, SetOp};
use rill_kv::dt::DtUpdateRequest;
use rill_kv::*;
use rill_testkit::sim::SimNetwork;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct SimNode {
    name: String,
    kv: KvService,
    m: Arc<Membership>,
}

async fn boot(net: &SimNetwork, name: &str) -> SimNode {
    let rpc = Rpc::new(net.transport(name));
    let cfg = MembershipConfig {
        gossip_interval: Duration::from_millis(200),
        heartbeat_interval: Duration::from_millis(100),
        down_after: Duration::from_millis(1000),
        state_file: None,
        rpc_timeout: Duration::from_secs(2),
    };
    let m = Membership::start(name, &format!("{name}.sim"), 16, rpc.clone(), cfg).unwrap();
    let kv_cfg = KvConfig {
        node_name: name.to_string(),
        initial_ring: Some(m.state().ring()),
        default_timeout: Duration::from_secs(5),
        ..KvConfig::default()
    };
    let kv = tokio::task::spawn_blocking(move || {
        KvService::open(kv_cfg, rill_storage::memory()).unwrap()
    })
    .await
    .unwrap();
    kv.attach_cluster(rpc, m.clone());
    SimNode {
        name: name.to_string(),
        kv,
        m,
    }
}

fn settled(nodes: &[SimNode]) -> bool {
    let states: Vec<_> = nodes.iter().map(|n| n.m.state()).collect();
    states.windows(2).all(|w| w[0] == w[1])
        && states[0].ownership.value.next.is_empty()
        && nodes.iter().all(|n| n.kv.transfers().is_empty())
}

fn update(t: &str, key: &str, op: DtOp) -> DtUpdateRequest {
    DtUpdateRequest {
        bucket_type: t.into(),
        bucket: b"b".to_vec(),
        key: Some(key.into()),
        op,
        context: None,
        options: PutOptions {
            w: Some(rill_kv::bucket::Quorum::All),
            ..PutOptions::default()
        },
    }
}

async fn fetch(n: &SimNode, t: &str, key: &str) -> Option<DtValue> {
    let opts = GetOptions {
        r: Some(rill_kv::bucket::Quorum::All),
        ..GetOptions::default()
    };
    let bk = BucketKey::new(t.as_bytes(), b"b", key.as_bytes());
    n.kv.dt_fetch(bk, opts)
        .await
        .unwrap()
        .value
        .map(|v| v.value())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_through_every_node_converge() {
    let net = SimNetwork::new(11);
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(boot(&net, &format!("n{i}")).await);
    }
    for n in &nodes[1..] {
        n.m.join_node(&"n0".to_string(), &format!("{}.sim", n.name))
            .await
            .unwrap();
    }
    let reply = nodes[0].m.admin(AdminCommand::Commit).await;
    assert!(matches!(reply, AdminReply::Plan(_)), "{reply:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !settled(&nodes) {
        assert!(Instant::now() < deadline, "cluster did not settle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kv = &nodes[0].kv;
    // n_val 1: most keys have no replica on the receiving node, so the
    // update is forwarded.
    for (name, props) in [
        ("sets", serde_json::json!({"datatype": "set"})),
        (
            "counters",
            serde_json::json!({"datatype": "counter", "n_val": 1}),
        ),
    ] {
        kv.create_type(name, PropsUpdate::Json(props))
            .await
            .unwrap();
        kv.activate_type(name).await.unwrap();
    }
    for n in &nodes {
        let deadline = Instant::now() + Duration::from_secs(10);
        while n.kv.bucket_props(b"counters", b"b").await.is_err()
            || n.kv.bucket_props(b"sets", b"b").await.is_err()
        {
            assert!(Instant::now() < deadline, "types did not reach {}", n.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let keys: Vec<String> = (0..6).map(|i| format!("k{i}")).collect();
    let mut tasks = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        for k in &keys {
            let kv = n.kv.clone();
            let k = k.clone();
            tasks.push(tokio::spawn(async move {
                let add = DtOp::Set(SetOp {
                    adds: vec![format!("m{i}").into_bytes()],
                    removes: vec![],
                });
                kv.dt_update(update("sets", &k, add)).await.unwrap();
                let inc = DtOp::Counter(CounterOp {
                    increment: 1 + i as i64,
                });
                kv.dt_update(update("counters", &k, inc)).await.unwrap();
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let members = DtValue::Set(vec![b"m0".to_vec(), b"m1".to_vec(), b"m2".to_vec()]);
    for n in &nodes {
        for k in &keys {
            assert_eq!(
                fetch(n, "sets", k).await,
                Some(members.clone()),
                "{} {k}",
                n.name
            );
            assert_eq!(
                fetch(n, "counters", k).await,
                Some(DtValue::Counter(6)),
                "{} {k}",
                n.name
            );
        }
    }
}
