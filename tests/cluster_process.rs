//! Real `rill` processes on loopback forming a cluster with `rill admin`:
//! join, plan, commit and handoff with data in place, leave, and a node
//! killed with `kill -9` while writes go on through fallbacks.

use rill_testkit::http::Client;
use rill_testkit::process::RillProcess;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rill");

fn start(dir: &Path, name: &str) -> RillProcess {
    let node = format!("{name}@127.0.0.1");
    RillProcess::start(Path::new(BIN), &dir.join(name), &["--node", &node])
}

/// Runs `rill admin --url URL ARGS…`; panics with its output on failure.
fn admin(node: &RillProcess, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["admin", "--url", &node.url()])
        .args(args)
        .output()
        .expect("run rill admin");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "rill admin {args:?} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn admin_json(node: &RillProcess, args: &[&str]) -> Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    serde_json::from_str(&admin(node, &full)).expect("admin --json output is JSON")
}

fn write_keys(node: &RillProcess, keys: std::ops::Range<usize>, query: &str) -> usize {
    let mut c = Client::new(node.http);
    let mut acked = 0;
    for i in keys {
        let r = c
            .put(
                &format!("/buckets/data/keys/k{i}{query}"),
                "text/plain",
                format!("value-{i}").as_bytes(),
            )
            .unwrap();
        if r.status == 204 {
            acked += 1;
        }
    }
    acked
}

/// Every key read with r=all where a notfound does not count: all three
/// replicas must hold it.
fn assert_all_replicas(node: &RillProcess, keys: std::ops::Range<usize>) {
    let mut c = Client::new(node.http);
    let mut bad = Vec::new();
    for i in keys {
        let r = c
            .get(&format!("/buckets/data/keys/k{i}?r=all&notfound_ok=false"))
            .unwrap();
        if r.status != 200 || r.body != format!("value-{i}").as_bytes() {
            bad.push((i, r.status, r.text()));
        }
    }
    // Where the missing keys live tells a lost fallback write (keys of
    // every partition) from a lost handoff (keys of a few partitions).
    let first_partitions: std::collections::BTreeSet<String> = bad
        .iter()
        .map(|(i, _, _)| {
            let r = c.get(&format!("/buckets/data/keys/k{i}/preflist")).unwrap();
            let v: Value = serde_json::from_slice(&r.body).unwrap_or_default();
            v["preflist"][0]["partition"].to_string()
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} keys not on all replicas, first: {:?}; their first partitions: {:?}",
        bad.len(),
        &bad[..bad.len().min(3)],
        first_partitions
    );
}

/// Polls `ring-status --json` on each of `nodes` until it lists `down` as
/// unreachable.
fn wait_unreachable(nodes: &[&RillProcess], down: &str, within: Duration) {
    let deadline = Instant::now() + within;
    for n in nodes {
        while !admin_json(n, &["ring-status"])["unreachable"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == down))
        {
            assert!(Instant::now() < deadline, "{down} was never seen down");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Polls `transfers --json` until nothing waits and nothing is active.
fn wait_transfers(nodes: &[&RillProcess], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let idle = nodes.iter().all(|n| {
            let t = admin_json(n, &["transfers"]);
            t["waiting"] == 0 && t["active"].as_array().is_some_and(|a| a.is_empty())
        });
        if idle {
            return;
        }
        assert!(Instant::now() < deadline, "transfers did not finish");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn join(node: &RillProcess, to: &RillProcess) {
    let target = to.cluster.expect("cluster address").to_string();
    let out = admin(node, &["cluster", "join", &target]);
    assert!(out.contains("Success"), "{out}");
}

fn violations(node: &RillProcess) -> u64 {
    admin_json(node, &["ring-status"])["violations"]["count"]
        .as_u64()
        .expect("violations count")
}

/// The node's `/stats`.
fn stats(node: &RillProcess) -> Value {
    serde_json::from_slice(&Client::new(node.http).get("/stats").unwrap().body).unwrap()
}

/// Whether each node's running vnodes are exactly the partitions it owns.
fn runs_only_its_own(nodes: &[&RillProcess]) -> bool {
    let members = admin_json(nodes[0], &["member-status"]);
    nodes.iter().all(|n| {
        let stats = stats(n);
        let name = stats["nodename"].clone();
        let pct = members["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["node"] == name)
            .and_then(|m| m["ring_pct"].as_f64())
            .unwrap_or(0.0);
        let owned = (pct / 100.0 * 64.0).round() as u64;
        stats["vnodes_running"].as_u64() == Some(owned)
    })
}

#[test]
fn grow_to_three_and_four_then_leave() {
    let dir = tempfile::tempdir().unwrap();
    let keys = 10_000;
    let a = start(dir.path(), "a");
    assert_eq!(write_keys(&a, 0..keys, ""), keys);
    let stats = stats(&a);
    let batches = stats["rill_storage_batches_total"].as_u64().unwrap();
    assert!(batches >= 1 && batches <= keys as u64 * 3, "{stats}");
    let stalled = stats["rill_storage_stalled_batches_total"]
        .as_u64()
        .unwrap();
    assert!(stalled <= batches, "{stats}");
    let b = start(dir.path(), "b");
    let c = start(dir.path(), "c");
    join(&b, &a);
    join(&c, &a);
    let plan = admin(&a, &["cluster", "plan"]);
    assert!(plan.contains("join"), "{plan}");
    let committed = admin(&a, &["cluster", "commit"]);
    assert!(
        committed.contains("Cluster changes committed"),
        "{committed}"
    );
    let t0 = Instant::now();
    wait_transfers(&[&a, &b, &c], Duration::from_secs(300));
    println!("3 nodes: transfers done in {:?}", t0.elapsed());
    let members = admin_json(&a, &["member-status"]);
    let members = members["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    assert!(members.iter().all(|m| m["status"] == "valid"));
    // 64 partitions on 3 nodes: the wrap-around repeats a node, at most twice.
    assert!(violations(&a) <= 2);
    assert_all_replicas(&c, 0..keys);

    let d = start(dir.path(), "d");
    join(&d, &b);
    admin(&b, &["cluster", "plan"]);
    admin(&b, &["cluster", "commit"]);
    wait_transfers(&[&a, &b, &c, &d], Duration::from_secs(300));
    assert_eq!(violations(&d), 0, "4 nodes: every preference list distinct");
    let pl: Value = serde_json::from_slice(
        &Client::new(a.http)
            .get("/buckets/data/keys/k1/preflist")
            .unwrap()
            .body,
    )
    .unwrap();
    let pl = pl["preflist"].as_array().unwrap();
    let mut nodes: Vec<&str> = pl.iter().map(|e| e["node"].as_str().unwrap()).collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!((pl.len(), nodes.len()), (3, 3), "{pl:?}");
    assert!(pl.iter().all(|e| e["primary"] == true));
    assert_all_replicas(&d, 0..keys);

    let mut leaver = b;
    let leaver_name = "b@127.0.0.1";
    admin(&a, &["cluster", "leave", leaver_name]);
    admin(&a, &["cluster", "commit"]);
    wait_transfers(&[&a, &c, &d], Duration::from_secs(300));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !leaver.exited() {
        assert!(Instant::now() < deadline, "the leaving node did not exit");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_all_replicas(&a, 0..keys);
}

#[test]
fn writes_go_on_through_fallbacks_and_come_home() {
    let dir = tempfile::tempdir().unwrap();
    let a = start(dir.path(), "a");
    let b = start(dir.path(), "b");
    let c = start(dir.path(), "c");
    join(&b, &a);
    join(&c, &a);
    admin(&a, &["cluster", "plan"]);
    admin(&a, &["cluster", "commit"]);
    wait_transfers(&[&a, &b, &c], Duration::from_secs(120));

    let c_dir = c.data_dir.clone();
    c.kill9();
    // Once a and b see c down, each write's third replica goes to a
    // fallback; before that it would only reach c's dead address.
    wait_unreachable(&[&a, &b], "c@127.0.0.1", Duration::from_secs(30));
    let n = 500;
    assert_eq!(write_keys(&a, 0..n, "?w=2"), n, "w=2 puts must succeed");
    // c comes back; hinted handoff returns what its fallbacks took.
    let c = RillProcess::start(Path::new(BIN), &c_dir, &["--node", "c@127.0.0.1"]);
    // Hinted handoff starts once the owners are seen up again; wait until
    // every node runs only the vnodes it owns (the fallbacks went home).
    let deadline = Instant::now() + Duration::from_secs(120);
    while !runs_only_its_own(&[&a, &b, &c]) {
        assert!(Instant::now() < deadline, "fallback data did not go home");
        std::thread::sleep(Duration::from_millis(300));
    }
    wait_transfers(&[&a, &b, &c], Duration::from_secs(60));
    // One pass, no retries: a replica missing a key would fail the read.
    assert_all_replicas(&a, 0..n);

    // With two primaries down, pw=2 cannot be met (Riak's error).
    b.kill9();
    c.kill9();
    wait_unreachable(&[&a], "b@127.0.0.1", Duration::from_secs(30));
    wait_unreachable(&[&a], "c@127.0.0.1", Duration::from_secs(30));
    let r = Client::new(a.http)
        .put("/buckets/pw/keys/k?pw=2", "text/plain", b"v")
        .unwrap();
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("PW-value unsatisfied"), "{}", r.text());
}
