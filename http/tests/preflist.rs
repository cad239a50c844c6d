//! `GET …/keys/K/preflist`: the key's preference list in Riak 2.1's format.

mod common;

use common::Node;

#[tokio::test]
async fn preflist_lists_the_keys_vnodes_in_ring_order() {
    let node = Node::start().await;
    // mybucket/mykey hashes to partition 31 of 64, as in Riak.
    let r = node.get("/buckets/mybucket/keys/mykey/preflist").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let want = serde_json::json!({"preflist": [
        {"partition": 31, "node": "rill@127.0.0.1", "primary": true},
        {"partition": 32, "node": "rill@127.0.0.1", "primary": true},
        {"partition": 33, "node": "rill@127.0.0.1", "primary": true},
    ]});
    assert_eq!(r.json(), want);
    let typed = node
        .get("/types/default/buckets/mybucket/keys/mykey/preflist")
        .await;
    assert_eq!(typed.json(), want);
    node.stop().await;
}

#[tokio::test]
async fn preflist_follows_n_val_and_refuses_unknown_types() {
    let node = Node::start().await;
    let r = node
        .put(
            "/buckets/one/props",
            "application/json",
            br#"{"props":{"n_val":1}}"#,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = node.get("/buckets/one/keys/k/preflist").await;
    assert_eq!(r.json()["preflist"].as_array().unwrap().len(), 1);
    let r = node.get("/types/nope/buckets/b/keys/k/preflist").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), "Unknown bucket type: nope");
    // Other paths under a key are link walks: not served yet.
    let r = node.get("/buckets/b/keys/k/_,_,1").await;
    assert_eq!(r.status, 501);
    node.stop().await;
}
