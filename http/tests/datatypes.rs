//! Data types over raw HTTP: `/types/T/buckets/B/datatypes[/K]` with Riak's
//! JSON operations, values and error texts, and the 1.4 counters.

mod common;

use common::Node;

const JSON: (&str, &str) = ("Content-Type", "application/json");

async fn node() -> Node {
    let n = Node::start().await;
    for (name, dt) in [
        ("counters", "counter"),
        ("sets", "set"),
        ("maps", "map"),
        ("hlls", "hll"),
        ("gsets", "gset"),
    ] {
        n.make_type(name, serde_json::json!({ "datatype": dt }))
            .await;
    }
    n.make_type("plain", serde_json::json!({})).await;
    n
}

async fn post(n: &Node, path: &str, body: &str) -> common::Resp {
    n.req("POST", path, &[JSON], body.as_bytes()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_update_and_fetch() {
    let n = node().await;
    let path = "/types/counters/buckets/b/datatypes/k";
    let r = n.get(path).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), r#"{"type":"counter","error":"notfound"}"#);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(post(&n, path, "5").await.status, 204);
    assert_eq!(post(&n, path, r#"{"decrement":2}"#).await.status, 204);
    let r = post(&n, &format!("{path}?returnbody=true"), r#""increment""#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"{"type":"counter","value":4}"#);
    let r = n.get(path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"{"type":"counter","value":4}"#);
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_with_context_and_precondition() {
    let n = node().await;
    let r = post(
        &n,
        "/types/sets/buckets/b/datatypes",
        r#"{"add_all":["b","a"]}"#,
    )
    .await;
    assert_eq!(r.status, 201);
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.starts_with("/types/sets/buckets/b/keys/"), "{loc}");
    let key = loc.rsplit('/').next().unwrap();
    let path = format!("/types/sets/buckets/b/datatypes/{key}");
    let r = n.get(&path).await;
    let v = r.json();
    assert_eq!(v["type"], "set");
    assert_eq!(v["value"], serde_json::json!(["a", "b"]));
    let ctx = v["context"].as_str().unwrap().to_string();
    assert!(
        r.text()
            .starts_with(r#"{"type":"set","value":["a","b"],"context":""#)
    );
    let r = post(&n, &path, r#"{"remove":"zz"}"#).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text(),
        "Error:\n{precondition,{not_present,<<\"zz\">>}}\n"
    );
    let body = format!(r#"{{"remove":"a","context":"{ctx}"}}"#);
    let r = post(
        &n,
        &format!("{path}?returnbody=true&include_context=false"),
        &body,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"{"type":"set","value":["b"]}"#);
    let r = n.get(&format!("{path}?include_context=false")).await;
    assert_eq!(r.text(), r#"{"type":"set","value":["b"]}"#);
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_nested_ops_and_values() {
    let n = node().await;
    let path = "/types/maps/buckets/b/datatypes/k";
    let body = r#"{"update":{"c_counter":3,"f_flag":"enable","r_register":"x",
        "s_set":{"add":"m"},"m_map":{"update":{"r_register":{"assign":"deep"}}}}}"#;
    assert_eq!(post(&n, path, body).await.status, 204);
    let v = n.get(path).await.json();
    assert_eq!(v["type"], "map");
    assert_eq!(
        v["value"],
        serde_json::json!({
            "c_counter": 3, "f_flag": true, "r_register": "x", "s_set": ["m"],
            "m_map": {"r_register": "deep"}
        })
    );
    assert!(v["context"].is_string());
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hll_and_gset() {
    let n = node().await;
    let path = "/types/hlls/buckets/b/datatypes/k";
    assert_eq!(
        post(&n, path, r#"{"add_all":["a","b","a"]}"#).await.status,
        204
    );
    assert_eq!(n.get(path).await.text(), r#"{"type":"hll","value":2}"#);
    let path = "/types/gsets/buckets/b/datatypes/k";
    assert_eq!(post(&n, path, r#"{"add":"y"}"#).await.status, 204);
    assert_eq!(post(&n, path, r#"{"add_all":["x"]}"#).await.status, 204);
    assert_eq!(
        n.get(path).await.text(),
        r#"{"type":"gset","value":["x","y"]}"#
    );
    let r = post(&n, path, r#"{"remove":"x"}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "Invalid operation on datatype 'gset': {\"remove\":\"x\"}\n"
    );
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals() {
    let n = node().await;
    let r = post(
        &n,
        "/types/counters/buckets/b/datatypes/k",
        r#"{"add":"x"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "Invalid operation on datatype 'counter': {\"add\":\"x\"}\n"
    );
    let r = post(
        &n,
        "/types/maps/buckets/b/datatypes/k",
        r#"{"update":{"x":1}}"#,
    )
    .await;
    assert_eq!(r.text(), "Invalid map field name 'x'\n");
    let r = post(&n, "/types/plain/buckets/b/datatypes/k", r#"{"add":"x"}"#).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.text(),
        "Bucket datatype 'undefined' is not a supported type.\n"
    );
    let r = n.get("/types/plain/buckets/b/datatypes/k").await;
    assert_eq!(r.status, 403);
    let r = n.get("/types/nope/buckets/b/datatypes/k").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), "Unknown bucket type: nope");
    let r = n
        .req(
            "POST",
            "/types/sets/buckets/b/datatypes/k",
            &[("Content-Type", "text/plain")],
            b"{}",
        )
        .await;
    assert_eq!(r.status, 406);
    let r = n.get("/types/default/buckets/b/datatypes/k").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/buckets/b/counters/k"));
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_counters() {
    let n = node().await;
    // The Python client finds the counters resource in the index.
    let index = n
        .req("GET", "/", &[("Accept", "application/json")], b"")
        .await
        .json();
    assert_eq!(index["riak_kv_wm_counter"], "/buckets");
    let path = "/buckets/lc/counters/k";
    let r = n.req("POST", path, &[], b"1").await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.text(),
        "Counters require bucket property 'allow_mult=true'"
    );
    let r = n
        .put(
            "/buckets/lc/props",
            "application/json",
            br#"{"props":{"allow_mult":true}}"#,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(n.get(path).await.status, 404);
    assert_eq!(n.req("POST", path, &[], b"5").await.status, 204);
    let r = n
        .req("POST", &format!("{path}?returnvalue=true"), &[], b"-2")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "3");
    let r = n.get(path).await;
    assert_eq!((r.status, r.text().as_str()), (200, "3"));
    assert_eq!(n.req("POST", path, &[], b"x").await.status, 400);
    n.stop().await;
}
