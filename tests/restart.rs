//! Crash safety of a real `rill` process: acknowledged writes survive
//! `kill -9` and a restart on the same data directory.

use rill_testkit::http::Client;
use rill_testkit::process::RillProcess;
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_rill");

fn write_keys(node: &RillProcess, bucket: &str, n: usize) -> usize {
    let mut c = Client::new(node.http);
    let mut acked = 0;
    for i in 0..n {
        let r = c
            .put(
                &format!("/buckets/{bucket}/keys/k{i}"),
                "text/plain",
                format!("value-{i}").as_bytes(),
            )
            .expect("put");
        assert_eq!(r.status, 204, "put k{i}: {}", r.text());
        acked += 1;
    }
    acked
}

fn read_back(node: &RillProcess, bucket: &str, n: usize) {
    let mut c = Client::new(node.http);
    let mut missing = Vec::new();
    for i in 0..n {
        let r = c.get(&format!("/buckets/{bucket}/keys/k{i}")).expect("get");
        if r.status != 200 || r.body != format!("value-{i}").as_bytes() {
            missing.push(i);
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {n} acknowledged keys lost after restart, first: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

fn crash_and_check(dir: &Path, extra: &[&str], n: usize) {
    let node = RillProcess::start(Path::new(BIN), dir, extra);
    let acked = write_keys(&node, "crash", n);
    node.kill9();
    let node = RillProcess::start(Path::new(BIN), dir, extra);
    read_back(&node, "crash", acked);
    assert!(node.stop(), "node did not stop cleanly after SIGTERM");
}

#[test]
fn ten_thousand_keys_survive_kill_9_with_default_durability() {
    let dir = tempfile::tempdir().unwrap();
    crash_and_check(dir.path(), &[], 10_000);
}

#[test]
fn keys_survive_kill_9_with_sync_durability() {
    let dir = tempfile::tempdir().unwrap();
    crash_and_check(dir.path(), &["--durability", "sync"], 2_000);
}

#[test]
fn clean_restart_keeps_data_and_bucket_props() {
    let dir = tempfile::tempdir().unwrap();
    let node = RillProcess::start(Path::new(BIN), dir.path(), &[]);
    write_keys(&node, "clean", 10);
    let mut c = Client::new(node.http);
    let r = c
        .put(
            "/buckets/clean/props",
            "application/json",
            br#"{"props":{"n_val":2}}"#,
        )
        .unwrap();
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(node.stop());
    let node = RillProcess::start(Path::new(BIN), dir.path(), &[]);
    read_back(&node, "clean", 10);
    let r = Client::new(node.http).get("/buckets/clean/props").unwrap();
    assert!(r.text().contains(r#""n_val":2"#), "{}", r.text());
}
