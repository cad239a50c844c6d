//! Whole clusters of `Node`s in one process, over real TCP on loopback:
//! join, plan, commit, ownership handoff, and leave.

use rill::{Config, Node};
use rill_core::membership::{AdminCommand, AdminReply, StagedChange};
use rill_kv::bucket::Quorum;
use rill_kv::*;
use std::path::Path;
use std::time::{Duration, Instant};

async fn start(name: &str, dir: &Path) -> Node {
    start_on(name, dir, "127.0.0.1:0").await
}

/// Starts node `name` with its cluster listener on `cluster` (a restarted
/// node keeps its address, as a production node does).
async fn start_on(name: &str, dir: &Path, cluster: &str) -> Node {
    let cfg = Config {
        node: format!("{name}@127.0.0.1"),
        data_dir: dir.join(name),
        http: "127.0.0.1:0".parse().unwrap(),
        pb: "127.0.0.1:0".parse().unwrap(),
        cluster: cluster.parse().unwrap(),
        log: "warn".into(),
        ..Config::default()
    };
    // A node stopped in this process may take a moment to let go of its
    // storage (background tasks finishing).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Node::start(cfg.clone()).await {
            Ok(n) => return n,
            Err(e) if Instant::now() < deadline && format!("{e:#}").contains("locked") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("node starts: {e:#}"),
        }
    }
}

fn put(key: &str) -> PutRequest {
    PutRequest {
        bucket_type: b"default".to_vec(),
        bucket: b"data".to_vec(),
        key: Some(key.as_bytes().to_vec()),
        context: None,
        content: NewContent {
            value: format!("value-{key}").into_bytes(),
            content_type: Some("text/plain".into()),
            ..Default::default()
        },
        options: PutOptions::default(),
    }
}

async fn admin(node: &Node, cmd: AdminCommand) -> AdminReply {
    let reply = node.membership.admin(cmd).await;
    if let AdminReply::Error(e) = &reply {
        panic!("admin command failed: {e}");
    }
    reply
}

/// Waits until every node has the same state and no transfer is pending.
async fn settle(nodes: &[&Node], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let states: Vec<_> = nodes.iter().map(|n| n.membership.state()).collect();
        let same = states.windows(2).all(|w| w[0] == w[1]);
        let idle = states[0].ownership.value.next.is_empty()
            && nodes.iter().all(|n| n.kv.transfers().is_empty());
        if same && idle {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "cluster did not settle: pending {:?}",
            states[0].ownership.value.next.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn read_all(node: &Node, keys: usize) {
    let mut missing = Vec::new();
    for i in 0..keys {
        let key = BucketKey::new(b"default", b"data", format!("k{i}").as_bytes());
        // Every replica must hold the value: a notfound does not count.
        let opts = GetOptions {
            r: Some(Quorum::All),
            notfound_ok: Some(false),
            ..Default::default()
        };
        match node.kv.get(key, opts).await {
            Ok(GetResult::Found(o)) if o.siblings[0].value == format!("value-k{i}").as_bytes() => {}
            other => missing.push((i, format!("{other:?}"))),
        }
    }
    assert!(
        missing.is_empty(),
        "{} keys not readable with r=all, first: {:?}",
        missing.len(),
        &missing[..missing.len().min(3)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_handoff_and_leave_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keys = 2000;
    let a = start("a", dir.path()).await;
    for i in 0..keys {
        a.kv.put(put(&format!("k{i}"))).await.unwrap();
    }
    let b = start("b", dir.path()).await;
    let c = start("c", dir.path()).await;
    for n in [&b, &c] {
        n.membership
            .join(a.cluster_addr(), &n.cluster_addr().to_string())
            .await
            .expect("join");
    }
    let AdminReply::Plan(plan) = admin(&b, AdminCommand::Plan).await else {
        panic!("no plan")
    };
    assert_eq!(plan.changes.len(), 2);
    assert!(!plan.transfers.is_empty());
    let started = Instant::now();
    admin(&c, AdminCommand::Commit).await;
    settle(&[&a, &b, &c], Duration::from_secs(120)).await;
    println!("3-node join settled in {:?}", started.elapsed());
    let state = a.membership.state();
    for n in ["a", "b", "c"] {
        let owned = state
            .ownership
            .value
            .owners
            .iter()
            .filter(|o| o.starts_with(n))
            .count();
        assert!((21..=22).contains(&owned), "{n} owns {owned}");
    }
    let bad = rill_core::claim::violations(&state.ownership.value.owners, 3);
    assert!(
        bad.len() <= 2,
        "{} preference lists repeat a node",
        bad.len()
    );
    for n in [&a, &b, &c] {
        read_all(n, keys).await;
    }

    // b leaves: its partitions move to a and c; nothing is lost.
    admin(
        &a,
        AdminCommand::Stage(StagedChange::Leave(b.kv.node_name().into())),
    )
    .await;
    admin(&a, AdminCommand::Commit).await;
    tokio::time::timeout(Duration::from_secs(120), b.departed())
        .await
        .expect("b departs");
    let state = a.membership.state();
    assert!(
        state
            .ownership
            .value
            .owners
            .iter()
            .all(|o| !o.starts_with('b'))
    );
    b.shutdown().await;
    settle(&[&a, &c], Duration::from_secs(60)).await;
    read_all(&a, keys).await;
    read_all(&c, keys).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_types_and_props_are_cluster_wide_and_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let a = start("a", dir.path()).await;
    let b = start("b", dir.path()).await;
    let c = start("c", dir.path()).await;
    for n in [&b, &c] {
        n.membership
            .join(a.cluster_addr(), &n.cluster_addr().to_string())
            .await
            .expect("join");
    }
    admin(&a, AdminCommand::Commit).await;
    settle(&[&a, &b, &c], Duration::from_secs(120)).await;
    // A type created on one node and bucket props set on another reach all.
    a.kv.create_type("carts", PropsUpdate::Json(serde_json::json!({"n_val": 2})))
        .await
        .unwrap();
    a.kv.activate_type("carts").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.kv.bucket_props(b"carts", b"x").await.is_err() {
        assert!(Instant::now() < deadline, "type did not reach b");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.kv.set_bucket_props(
        b"default",
        b"tuned",
        PropsUpdate::Json(serde_json::json!({"n_val": 1})),
    )
    .await
    .unwrap();
    settle(&[&a, &b, &c], Duration::from_secs(30)).await;
    let ring = a.membership.state().ring();

    // Restart every node on its own address.
    let addrs: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|n| n.cluster_addr().to_string())
        .collect();
    for n in [a, b, c] {
        n.shutdown().await;
    }
    let a = start_on("a", dir.path(), &addrs[0]).await;
    let b = start_on("b", dir.path(), &addrs[1]).await;
    let c = start_on("c", dir.path(), &addrs[2]).await;
    settle(&[&a, &b, &c], Duration::from_secs(60)).await;
    for n in [&a, &b, &c] {
        assert_eq!(
            n.membership.state().ring(),
            ring,
            "ring on {}",
            n.kv.node_name()
        );
        assert_eq!(n.membership.state().active_members().len(), 3);
        assert_eq!(n.kv.bucket_props(b"carts", b"x").await.unwrap().n_val, 2);
        assert_eq!(
            n.kv.bucket_props(b"default", b"tuned").await.unwrap().n_val,
            1
        );
    }
}

/// A type is usable the moment its activation returns, while the node
/// keeps absorbing the cluster's metadata (which for an instant still holds
/// the type as only created): the absorb must never undo a local change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activated_type_is_usable_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let node = start("solo", dir.path()).await;
    for i in 0..60 {
        let name = format!("t{i}");
        let props = PropsUpdate::Json(serde_json::json!({"allow_mult": true}));
        node.kv.create_type(&name, props).await.unwrap();
        node.kv.activate_type(&name).await.unwrap();
        for _ in 0..20 {
            let r = node.kv.bucket_props(name.as_bytes(), b"b").await;
            assert!(r.is_ok(), "type {name} inactive after activation: {r:?}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    node.shutdown().await;
}
