//! List keys and list buckets: JSON and streamed forms, the v1 `/riak/B`
//! resource with and without props, and typed buckets.

mod common;

use common::Node;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Parses a body of concatenated JSON objects.
fn objects(body: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .map(|v| v.expect("a JSON object"))
        .collect()
}

fn names(v: &Value, field: &str) -> BTreeSet<String> {
    v[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

async fn fill(node: &Node, prefix: &str, bucket: &str, n: usize) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for i in 0..n {
        let key = format!("key{i}");
        let path = if prefix == "/riak" {
            format!("/riak/{bucket}/{key}")
        } else {
            format!("{prefix}/{bucket}/keys/{key}")
        };
        let resp = node.put(&path, "text/plain", b"v").await;
        assert_eq!(resp.status, 204);
        keys.insert(key);
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_as_json_and_as_a_stream() {
    let node = Node::start().await;
    let keys = fill(&node, "/buckets", "lk", 25).await;

    let resp = node.get("/buckets/lk/keys?keys=true").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body = resp.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    assert_eq!(names(&body, "keys"), keys);

    let resp = node.get("/buckets/lk/keys?keys=stream").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    let parts = objects(&resp.body);
    assert_eq!(parts.last(), Some(&json!({"keys": []})));
    let mut streamed = BTreeSet::new();
    for p in &parts {
        assert_eq!(p.as_object().unwrap().len(), 1, "{p}");
        streamed.extend(names(p, "keys"));
    }
    assert_eq!(streamed, keys);

    // Without the parameter the v2 resource answers an empty object.
    assert_eq!(node.get("/buckets/lk/keys").await.json(), json!({}));
    // An empty bucket lists no keys.
    assert_eq!(
        node.get("/buckets/empty/keys?keys=true").await.json(),
        json!({"keys": []})
    );
    let empty = node.get("/buckets/empty/keys?keys=stream").await;
    assert_eq!(objects(&empty.body), vec![json!({"keys": []})]);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_bucket_resource_serves_props_and_keys() {
    let node = Node::start().await;
    let keys = fill(&node, "/buckets", "v1b", 3).await;

    let props_only = node.get("/riak/v1b").await.json();
    assert_eq!(props_only.as_object().unwrap().len(), 1);
    assert_eq!(props_only["props"]["name"], "v1b");
    assert_eq!(props_only["props"]["n_val"], 3);

    let both = node.get("/riak/v1b?keys=true").await.json();
    assert_eq!(both["props"]["name"], "v1b");
    assert_eq!(names(&both, "keys"), keys);

    let keys_only = node.get("/riak/v1b?keys=true&props=false").await.json();
    assert_eq!(keys_only.as_object().unwrap().len(), 1);
    assert_eq!(names(&keys_only, "keys"), keys);

    // The v1 stream opens with the props.
    let stream = node.get("/riak/v1b?keys=stream").await;
    let parts = objects(&stream.body);
    assert_eq!(parts[0]["props"]["name"], "v1b");
    assert_eq!(parts.last(), Some(&json!({"keys": []})));
    let streamed: BTreeSet<String> = parts[1..].iter().flat_map(|p| names(p, "keys")).collect();
    assert_eq!(streamed, keys);
    let stream = node.get("/riak/v1b?keys=stream&props=false").await;
    assert_eq!(objects(&stream.body)[0], json!({}));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_buckets_per_type() {
    let node = Node::start().await;
    node.make_type("typed", json!({})).await;
    fill(&node, "/buckets", "alpha", 1).await;
    fill(&node, "/riak", "beta", 1).await;
    fill(&node, "/types/typed/buckets", "gamma", 2).await;

    let plain = node.get("/buckets?buckets=true").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-type"), Some("application/json"));
    assert_eq!(
        names(&plain.json(), "buckets"),
        BTreeSet::from(["alpha".into(), "beta".into()])
    );
    let v1 = node.get("/riak?buckets=true").await.json();
    assert_eq!(
        names(&v1, "buckets"),
        BTreeSet::from(["alpha".into(), "beta".into()])
    );
    let typed = node.get("/types/typed/buckets?buckets=true").await.json();
    assert_eq!(
        names(&typed, "buckets"),
        BTreeSet::from(["gamma".to_string()])
    );

    let stream = node.get("/buckets?buckets=stream").await;
    assert_eq!(stream.status, 200);
    let parts = objects(&stream.body);
    assert_eq!(parts.last(), Some(&json!({"buckets": []})));
    let streamed: BTreeSet<String> = parts.iter().flat_map(|p| names(p, "buckets")).collect();
    assert_eq!(streamed, BTreeSet::from(["alpha".into(), "beta".into()]));

    assert_eq!(node.get("/buckets").await.json(), json!({"buckets": []}));

    let keys = node
        .get("/types/typed/buckets/gamma/keys?keys=true")
        .await
        .json();
    assert_eq!(
        names(&keys, "keys"),
        BTreeSet::from(["key0".into(), "key1".into()])
    );
    node.stop().await;
}
