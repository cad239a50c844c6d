//! The `/admin/cluster` API as a client sees it: 501 on a node outside any
//! cluster; on a one-node cluster the exact member, ring, transfer and plan
//! answers and the refusals of impossible changes; and a second node joining
//! over HTTP, planned, committed and reported while its transfers wait.

mod common;

use common::Node;
use rill_core::membership::{Membership, MembershipConfig};
use rill_core::net::{NetConfig, Rpc, TcpTransport};
use rill_http::ClusterCtl;
use rill_kv::KvConfig;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const RING: u32 = 64;

fn name(s: &str) -> String {
    format!("{s}@127.0.0.1")
}

/// A membership runtime of node `s` over TCP on port 0; returns it and its
/// cluster address.
async fn member(s: &str) -> (Arc<Membership>, String) {
    let t = TcpTransport::bind(
        name(s),
        "127.0.0.1:0".parse().unwrap(),
        NetConfig::default(),
    )
    .await
    .unwrap();
    let addr = t.local_addr().to_string();
    let cfg = MembershipConfig {
        gossip_interval: Duration::from_millis(100),
        heartbeat_interval: Duration::from_millis(50),
        down_after: Duration::from_secs(2),
        state_file: None,
        rpc_timeout: Duration::from_secs(3),
    };
    let m = Membership::start(&name(s), &addr, RING, Rpc::new(t), cfg).unwrap();
    (m, addr)
}

/// An HTTP node of `s` administering its own membership runtime.
async fn http_member(s: &str) -> (Node, Arc<Membership>, String) {
    let (m, addr) = member(s).await;
    let kv = KvConfig {
        node_name: name(s),
        ring_size: RING,
        ..KvConfig::default()
    };
    let ctl = ClusterCtl {
        membership: m.clone(),
        cluster_addr: addr.clone(),
    };
    (Node::start_in(kv, Some(ctl)).await, m, addr)
}

async fn post(node: &Node, path: &str, body: &str) -> common::Resp {
    node.req(
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .await
}

/// Polls `path` until `cond` holds on its JSON (bounded: a guard against
/// hangs, not a timing check).
async fn eventually(node: &Node, path: &str, cond: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let r = node.get(path).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        if cond(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{path} never reached the expected state");
}

#[tokio::test]
async fn cluster_api_outside_a_cluster_is_not_implemented() {
    let node = Node::start().await;
    for (method, path) in [
        ("POST", "/admin/cluster/join"),
        ("POST", "/admin/cluster/leave"),
        ("POST", "/admin/cluster/force-remove"),
        ("POST", "/admin/cluster/replace"),
        ("POST", "/admin/cluster/force-replace"),
        ("GET", "/admin/cluster/plan"),
        ("POST", "/admin/cluster/commit"),
        ("POST", "/admin/cluster/clear"),
        ("GET", "/admin/cluster/members"),
        ("GET", "/admin/cluster/ring"),
        ("GET", "/admin/cluster/transfers"),
    ] {
        let r = node.req(method, path, &[], b"").await;
        assert_eq!(r.status, 501, "{method} {path}");
        assert_eq!(r.text(), "This node is not part of a cluster\n");
        assert_eq!(r.header("content-type"), Some("text/plain"));
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_one_node_reports_and_refusals() {
    let (node, _m, addr) = http_member("a").await;
    let a = name("a");

    let r = node.get("/admin/cluster/members").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"members": [{"node": a, "status": "valid", "ring_pct": 100.0,
                            "pending_pct": 100.0, "up": true, "addr": addr}]})
    );
    assert_eq!(
        node.get("/admin/cluster/ring").await.json(),
        json!({"claimant": a, "ring_ready": true, "pending": [], "unreachable": [],
               "violations": {"n_val": 1, "count": 0, "partitions": []}})
    );
    assert_eq!(
        node.get("/admin/cluster/transfers").await.json(),
        json!({"active": [], "waiting": 0, "waiting_by_node": {}})
    );

    for (method, path) in [
        ("GET", "/admin/cluster/plan"),
        ("POST", "/admin/cluster/commit"),
    ] {
        let r = node.req(method, path, &[], b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "There are no staged changes\n")
        );
    }
    let r = post(&node, "/admin/cluster/leave", "{}").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.text(), format!("{a} is the only member\n"));
    let r = post(&node, "/admin/cluster/leave", "").await;
    assert_eq!(r.text(), format!("{a} is the only member\n"));
    let r = post(&node, "/admin/cluster/force-remove", r#"{"node":"x@h"}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.text(), "x@h is not a member of the cluster\n");
    let r = post(
        &node,
        "/admin/cluster/replace",
        &format!(r#"{{"old":"{a}","new":"x@h"}}"#),
    )
    .await;
    assert_eq!(
        (r.status, r.text()),
        (
            400,
            "x@h is not joining: run `cluster join` on it first\n".into()
        )
    );

    // Malformed requests.
    let r = post(&node, "/admin/cluster/force-remove", "{}").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "The request body needs \"node\"\n")
    );
    let r = post(&node, "/admin/cluster/force-replace", r#"{"old":"x@h"}"#).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "The request body needs \"new\"\n")
    );
    let r = post(&node, "/admin/cluster/leave", "[1]").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "The request body must be a JSON object\n")
    );
    let r = post(&node, "/admin/cluster/leave", r#"{"node":7}"#).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "\"node\" must be a non-empty string\n")
    );
    assert_eq!(node.get("/admin/cluster/commit").await.status, 405);
    assert_eq!(post(&node, "/admin/cluster/members", "").await.status, 405);

    // Joins that cannot happen.
    let r = post(
        &node,
        "/admin/cluster/join",
        &format!(r#"{{"node":"{addr}"}}"#),
    )
    .await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "This node cannot join itself in a cluster\n")
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = closed.local_addr().unwrap();
    drop(closed);
    let r = post(
        &node,
        "/admin/cluster/join",
        &format!(r#"{{"node":"{gone}"}}"#),
    )
    .await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.text().starts_with(&format!("cannot reach {gone}")),
        "{}",
        r.text()
    );

    let r = post(&node, "/admin/cluster/clear", "").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"result": "Cleared staged cluster changes"})
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_join_plan_commit_over_http() {
    let (_a, a_addr) = member("a").await;
    let (node, _b, _) = http_member("b").await;
    let (a, b) = (name("a"), name("b"));

    let r = post(
        &node,
        "/admin/cluster/join",
        &format!(r#"{{"node":"{a_addr}"}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"result": format!("Success: staged join request for '{b}' to '{a}'")})
    );
    let r = post(
        &node,
        "/admin/cluster/join",
        &format!(r#"{{"node":"{a_addr}"}}"#),
    )
    .await;
    assert_eq!(
        (r.status, r.text()),
        (400, "Node is already a member of a cluster\n".to_string())
    );

    let members = node.get("/admin/cluster/members").await.json();
    assert_eq!(members["members"][1]["node"], b);
    assert_eq!(members["members"][1]["status"], "joining");
    assert_eq!(members["members"][1]["ring_pct"], 0.0);

    // The plan comes from the claimant, `a`.
    let r = node.get("/admin/cluster/plan").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let plan = r.json();
    assert_eq!(plan["changes"], json!([{"action": "join", "node": b}]));
    let transfers = plan["transfers"].as_array().unwrap();
    assert_eq!(transfers.len(), 32);
    assert!(transfers.iter().all(|t| t["from"] == a && t["to"] == b));
    assert_eq!(plan["violations"], 0);
    assert_eq!(
        plan["members"],
        json!([
            {"node": a, "status": "valid", "ring_pct": 100.0, "pending_pct": 50.0},
            {"node": b, "status": "valid", "ring_pct": 0.0, "pending_pct": 50.0},
        ])
    );

    let r = post(&node, "/admin/cluster/commit", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"result": "Cluster changes committed"}));

    // No KV service takes part here, so the transfers stay waiting.
    let members = eventually(&node, "/admin/cluster/members", |v| {
        v["members"][1]["status"] == "valid" && v["members"][0]["up"] == true
    })
    .await;
    assert_eq!(members["members"][0]["ring_pct"], 100.0);
    assert_eq!(members["members"][0]["pending_pct"], 50.0);
    assert_eq!(members["members"][1]["ring_pct"], 0.0);
    assert_eq!(members["members"][1]["pending_pct"], 50.0);
    assert_eq!(members["members"][0]["addr"], a_addr);
    assert_eq!(
        node.get("/admin/cluster/transfers").await.json(),
        json!({"active": [], "waiting": 32, "waiting_by_node": {a.clone(): 32}})
    );
    let ring = node.get("/admin/cluster/ring").await.json();
    assert_eq!(ring["claimant"], a);
    assert_eq!(ring["ring_ready"], true);
    assert_eq!(ring["unreachable"], json!([]));
    assert_eq!(ring["pending"].as_array().unwrap().len(), 32);
    assert_eq!(ring["pending"][0]["from"], a);
    // Until the transfers finish every partition is on `a` alone.
    assert_eq!(ring["violations"]["n_val"], 2);
    assert_eq!(ring["violations"]["count"], 64);

    let r = post(&node, "/admin/cluster/leave", "{}").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"result": format!("Success: staged leave request for '{b}'")})
    );
    let r = post(&node, "/admin/cluster/commit", "").await;
    assert_eq!(
        (r.status, r.text()),
        (
            400,
            "ownership transfers of the last plan are still under way\n".to_string()
        )
    );
    node.stop().await;
}
