//! Bucket and bucket-type properties: read, update, reset, and the checks
//! on the request body (415 for non-JSON, 400 for bad JSON or values).

mod common;

use common::Node;
use serde_json::json;

const SHAPE: &str =
    "bucket PUT must be a JSON object of the form:\n{\"props\":{...bucket properties...}}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_props_set_and_reset() {
    let node = Node::start().await;
    let got = node.get("/buckets/pb/props").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    let props = &got.json()["props"];
    assert_eq!(props["name"], "pb");
    assert_eq!(props["n_val"], 3);
    assert_eq!(props["allow_mult"], false);

    let body = json!({"props": {"n_val": 2, "allow_mult": true}}).to_string();
    let put = node
        .put("/buckets/pb/props", "application/json", body.as_bytes())
        .await;
    assert_eq!(put.status, 204, "{}", put.text());
    let props = node.get("/buckets/pb/props").await.json()["props"].clone();
    assert_eq!(props["n_val"], 2);
    assert_eq!(props["allow_mult"], true);
    // The same bucket seen through the typed and v1 families.
    assert_eq!(
        node.get("/types/default/buckets/pb/props").await.json()["props"]["n_val"],
        2
    );
    assert_eq!(node.get("/riak/pb").await.json()["props"]["n_val"], 2);

    let del = node.req("DELETE", "/buckets/pb/props", &[], b"").await;
    assert_eq!(del.status, 204);
    let props = node.get("/buckets/pb/props").await.json()["props"].clone();
    assert_eq!(props["n_val"], 3);
    assert_eq!(props["allow_mult"], false);

    // v1: PUT /riak/B sets props.
    let body = json!({"props": {"allow_mult": true}}).to_string();
    let put = node
        .put("/riak/pb", "application/json", body.as_bytes())
        .await;
    assert_eq!(put.status, 204);
    assert_eq!(
        node.get("/buckets/pb/props").await.json()["props"]["allow_mult"],
        true
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_props_requests() {
    let node = Node::start().await;
    node.put("/buckets/canary/keys/k", "text/plain", b"alive")
        .await;

    let not_json = node
        .put("/buckets/pb/props", "application/json", b"{nope")
        .await;
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.text(), SHAPE);
    let no_props = node
        .put("/buckets/pb/props", "application/json", b"{\"n_val\":2}")
        .await;
    assert_eq!(no_props.status, 400);
    assert_eq!(no_props.text(), SHAPE);
    let wrong_type = node
        .put(
            "/buckets/pb/props",
            "text/plain",
            b"{\"props\":{\"n_val\":2}}",
        )
        .await;
    assert_eq!(wrong_type.status, 415);

    let bad_n = node
        .put(
            "/buckets/pb/props",
            "application/json",
            b"{\"props\":{\"n_val\":\"three\"}}",
        )
        .await;
    assert_eq!(bad_n.status, 400);
    assert_eq!(bad_n.header("content-type"), Some("application/json"));
    assert_eq!(bad_n.json(), json!({"n_val": "not_integer"}));
    let two_bad = node
        .put(
            "/buckets/pb/props",
            "application/json",
            b"{\"props\":{\"n_val\":0,\"allow_mult\":\"perhaps\"}}",
        )
        .await;
    assert_eq!(two_bad.status, 400);
    let errors = two_bad.json();
    assert!(
        errors.get("n_val").is_some() && errors.get("allow_mult").is_some(),
        "{errors}"
    );

    // Nothing changed, and the node still serves.
    assert_eq!(
        node.get("/buckets/pb/props").await.json()["props"]["n_val"],
        3
    );
    assert_eq!(node.get("/buckets/canary/keys/k").await.body, b"alive");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_props_read_and_update() {
    let node = Node::start().await;
    node.make_type("tp", json!({"n_val": 2})).await;
    let got = node.get("/types/tp/props").await;
    assert_eq!(got.status, 200);
    let props = &got.json()["props"];
    assert_eq!(props["n_val"], 2);
    assert_eq!(props["allow_mult"], true);

    let body = json!({"props": {"r": 1}}).to_string();
    let put = node
        .put("/types/tp/props", "application/json", body.as_bytes())
        .await;
    assert_eq!(put.status, 204, "{}", put.text());
    assert_eq!(node.get("/types/tp/props").await.json()["props"]["r"], 1);
    // Buckets in the type inherit its props.
    let bucket = node.get("/types/tp/buckets/x/props").await.json();
    assert_eq!(bucket["props"]["n_val"], 2);
    assert_eq!(bucket["props"]["r"], 1);

    let unknown = node
        .put("/types/none/props", "application/json", body.as_bytes())
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.text(), "Unknown bucket type: none");
    node.stop().await;
}
