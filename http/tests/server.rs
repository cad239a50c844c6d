//! Server resources and Rill's admin API: `/ping`, `/`, `/stats`,
//! `/admin/bucket-types…`, `/admin/status`, and the 501 answers for Riak
//! endpoints this node does not serve yet.

mod common;

use common::Node;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_and_resource_index() {
    let node = Node::start().await;
    let ping = node.get("/ping").await;
    assert_eq!(ping.status, 200);
    assert_eq!(ping.text(), "OK");
    assert_eq!(ping.header("content-type"), Some("text/html"));

    let root = node
        .req("GET", "/", &[("Accept", "application/json")], b"")
        .await;
    assert_eq!(root.status, 200);
    assert_eq!(root.header("content-type"), Some("application/json"));
    let index = root.json();
    assert_eq!(index["riak_kv_wm_buckets"], "/buckets");
    assert_eq!(index["riak_kv_wm_bucket_type"], "/types");
    assert_eq!(index["riak_kv_wm_raw"], "/riak");
    assert_eq!(index["riak_kv_wm_stats"], "/stats");
    assert_eq!(index["riak_kv_wm_ping"], "/ping");
    let link = root.header("link").unwrap();
    assert!(
        link.contains("</buckets>; rel=\"riak_kv_wm_buckets\""),
        "{link}"
    );

    // The Python client's default Accept picks JSON too.
    let py = node
        .req(
            "GET",
            "/",
            &[("Accept", "multipart/mixed, application/json, */*;q=0.5")],
            b"",
        )
        .await;
    assert_eq!(py.header("content-type"), Some("application/json"));

    let html = node.get("/").await;
    assert_eq!(html.header("content-type"), Some("text/html"));
    assert!(
        html.text()
            .contains("<a href=\"/buckets\">riak_kv_wm_buckets</a>")
    );
    assert!(html.header("link").is_some());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_report_versions_and_ring() {
    let node = Node::start().await;
    node.put("/buckets/s/keys/k", "text/plain", b"v").await;
    node.get("/buckets/s/keys/k").await;
    let resp = node.get("/stats").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let stats = resp.json();
    assert_eq!(stats["riak_kv_version"], "3.0.16");
    assert_eq!(stats["nodename"], "rill@127.0.0.1");
    assert_eq!(stats["ring_num_partitions"], 64);
    assert!(stats["storage_backend"].is_string());
    assert!(stats["node_gets_total"].as_u64().unwrap() >= 1, "{stats}");
    assert!(stats["node_puts_total"].as_u64().unwrap() >= 1);
    // The one put and the one get were timed (µs, at least 1).
    for op in ["get", "put"] {
        let slowest = stats[format!("node_{op}_fsm_time_100")].as_u64().unwrap();
        let median = stats[format!("node_{op}_fsm_time_median")]
            .as_u64()
            .unwrap();
        assert!(slowest >= 1 && median <= slowest, "{stats}");
    }

    let pretty = node
        .req("GET", "/stats", &[("Accept", "text/plain")], b"")
        .await;
    assert_eq!(pretty.header("content-type"), Some("text/plain"));
    assert!(
        pretty
            .text()
            .contains("\n  \"riak_kv_version\": \"3.0.16\"")
    );

    let admin = node.get("/admin/status").await;
    assert_eq!(admin.status, 200);
    assert_eq!(admin.json()["nodename"], "rill@127.0.0.1");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_type_admin_life_cycle() {
    let node = Node::start().await;
    let list = node.get("/admin/bucket-types").await;
    assert_eq!(list.status, 200);
    let types = list.json()["bucket_types"].as_array().unwrap().clone();
    assert_eq!(types[0]["name"], "default");
    assert_eq!(types[0]["status"], "active");
    assert_eq!(types[0]["props"]["allow_mult"], false);

    let body = json!({"props": {"allow_mult": true, "n_val": 2}}).to_string();
    let created = node
        .put(
            "/admin/bucket-types/maps",
            "application/json",
            body.as_bytes(),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("location"), Some("/admin/bucket-types/maps"));
    let desc = created.json();
    assert_eq!(desc["name"], "maps");
    assert_eq!(desc["status"], "ready");
    assert_eq!(desc["props"]["n_val"], 2);

    let again = node
        .put(
            "/admin/bucket-types/maps",
            "application/json",
            body.as_bytes(),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.text(), "Bucket type maps already exists\n");
    let taken = node
        .put("/admin/bucket-types/default", "application/json", b"")
        .await;
    assert_eq!(taken.status, 409);

    // Not active yet: the type cannot be used.
    let early = node
        .put("/types/maps/buckets/b/keys/k", "text/plain", b"v")
        .await;
    assert_eq!(early.status, 404);

    let act = node
        .req("POST", "/admin/bucket-types/maps/activate", &[], b"")
        .await;
    assert_eq!(act.status, 204, "{}", act.text());
    let one = node.get("/admin/bucket-types/maps").await.json();
    assert_eq!(one["status"], "active");
    assert_eq!(one["props"]["allow_mult"], true);
    assert_eq!(
        node.put("/types/maps/buckets/b/keys/k", "text/plain", b"v")
            .await
            .status,
        204
    );

    let listed = node.get("/admin/bucket-types").await.json();
    let names: Vec<&str> = listed["bucket_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "maps"]);

    let missing = node.get("/admin/bucket-types/nosuch").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text(), "Unknown bucket type: nosuch");
    let missing = node
        .req("POST", "/admin/bucket-types/nosuch/activate", &[], b"")
        .await;
    assert_eq!(missing.status, 404);

    let bad = node
        .put(
            "/admin/bucket-types/bad",
            "application/json",
            b"{\"props\":{\"n_val\":\"x\"}}",
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json(), json!({"n_val": "not_integer"}));
    let nojson = node
        .put("/admin/bucket-types/bad", "application/json", b"{")
        .await;
    assert_eq!(nojson.status, 400);
    assert_eq!(
        nojson.text(),
        "Cannot create bucket type bad: invalid json\n"
    );
    assert_eq!(node.get("/admin/bucket-types/bad").await.status, 404);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_endpoints_answer_501_and_unknown_paths_404() {
    let node = Node::start().await;
    for (method, path) in [
        ("POST", "/mapred"),
        ("GET", "/buckets/b/index/field_bin/value"),
        ("GET", "/types/default/buckets/b/index/field_int/1/5"),
        ("GET", "/riak/b/k/_,_,1"),
        ("GET", "/search/query/idx"),
    ] {
        let resp = node.req(method, path, &[], b"").await;
        assert_eq!(resp.status, 501, "{method} {path}");
        assert!(resp.text().ends_with(" is not implemented by this node\n"));
    }
    let resp = node.get("/nowhere").await;
    assert_eq!(resp.status, 404);
    let resp = node.req("PATCH", "/buckets/b/keys/k", &[], b"").await;
    assert_eq!(resp.status, 405);
    node.stop().await;
}
