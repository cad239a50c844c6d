//! Conditional requests: If-None-Match / If-Modified-Since on GET (304),
//! If-None-Match, If-Match, If-Unmodified-Since on PUT (412) and
//! X-Riak-If-Not-Modified (409).

mod common;

use common::Node;

const PAST: &str = "Thu, 01 Jan 1970 00:00:10 GMT";
const FUTURE: &str = "Fri, 01 Jan 2100 00:00:00 GMT";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_get_answers_304() {
    let node = Node::start().await;
    node.put("/buckets/c/keys/k", "text/plain", b"v").await;
    let first = node.get("/buckets/c/keys/k").await;
    let etag = first.header("etag").unwrap().to_string();
    let lm = first.header("last-modified").unwrap().to_string();

    let same = node
        .req("GET", "/buckets/c/keys/k", &[("If-None-Match", &etag)], b"")
        .await;
    assert_eq!(same.status, 304);
    assert!(same.body.is_empty());
    assert_eq!(same.header("etag"), Some(etag.as_str()));

    let other = node
        .req(
            "GET",
            "/buckets/c/keys/k",
            &[("If-None-Match", "\"someothertag\"")],
            b"",
        )
        .await;
    assert_eq!(other.status, 200);
    assert_eq!(other.body, b"v");

    let unmodified = node
        .req(
            "GET",
            "/buckets/c/keys/k",
            &[("If-Modified-Since", &lm)],
            b"",
        )
        .await;
    assert_eq!(unmodified.status, 304);
    let modified = node
        .req(
            "GET",
            "/buckets/c/keys/k",
            &[("If-Modified-Since", PAST)],
            b"",
        )
        .await;
    assert_eq!(modified.status, 200);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_star_creates_only() {
    let node = Node::start().await;
    let ct = ("Content-Type", "text/plain");
    let created = node
        .req(
            "PUT",
            "/buckets/c/keys/new",
            &[ct, ("If-None-Match", "*")],
            b"1",
        )
        .await;
    assert_eq!(created.status, 204);
    let again = node
        .req(
            "PUT",
            "/buckets/c/keys/new",
            &[ct, ("If-None-Match", "*")],
            b"2",
        )
        .await;
    assert_eq!(again.status, 412);
    assert!(again.body.is_empty());
    assert_eq!(node.get("/buckets/c/keys/new").await.body, b"1");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_and_if_unmodified_since_guard_writes() {
    let node = Node::start().await;
    let ct = ("Content-Type", "text/plain");
    node.put("/buckets/c/keys/m", "text/plain", b"1").await;
    let etag = node
        .get("/buckets/c/keys/m")
        .await
        .header("etag")
        .unwrap()
        .to_string();

    let stale = node
        .req(
            "PUT",
            "/buckets/c/keys/m",
            &[ct, ("If-Match", "\"stale\"")],
            b"x",
        )
        .await;
    assert_eq!(stale.status, 412);
    let ok = node
        .req("PUT", "/buckets/c/keys/m", &[ct, ("If-Match", &etag)], b"2")
        .await;
    assert_eq!(ok.status, 204);
    // The etag changed with the write.
    let old = node
        .req("PUT", "/buckets/c/keys/m", &[ct, ("If-Match", &etag)], b"x")
        .await;
    assert_eq!(old.status, 412);
    let absent = node
        .req(
            "PUT",
            "/buckets/c/keys/none",
            &[ct, ("If-Match", "*")],
            b"x",
        )
        .await;
    assert_eq!(absent.status, 412);

    let since_past = node
        .req(
            "PUT",
            "/buckets/c/keys/m",
            &[ct, ("If-Unmodified-Since", PAST)],
            b"x",
        )
        .await;
    assert_eq!(since_past.status, 412);
    let since_future = node
        .req(
            "PUT",
            "/buckets/c/keys/m",
            &[ct, ("If-Unmodified-Since", FUTURE)],
            b"3",
        )
        .await;
    assert_eq!(since_future.status, 204);
    assert_eq!(node.get("/buckets/c/keys/m").await.body, b"3");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_riak_if_not_modified_conflicts_on_a_changed_clock() {
    let node = Node::start().await;
    let ct = ("Content-Type", "text/plain");
    node.put("/buckets/c/keys/n", "text/plain", b"1").await;
    let clock = node
        .get("/buckets/c/keys/n")
        .await
        .header("x-riak-vclock")
        .unwrap()
        .to_string();

    let ok = node
        .req(
            "PUT",
            "/buckets/c/keys/n",
            &[
                ct,
                ("X-Riak-Vclock", &clock),
                ("X-Riak-If-Not-Modified", &clock),
            ],
            b"2",
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text());
    let conflict = node
        .req(
            "PUT",
            "/buckets/c/keys/n",
            &[ct, ("X-Riak-If-Not-Modified", &clock)],
            b"3",
        )
        .await;
    assert_eq!(conflict.status, 409);
    assert_eq!(node.get("/buckets/c/keys/n").await.body, b"2");
    let missing = node
        .req(
            "PUT",
            "/buckets/c/keys/absent",
            &[ct, ("X-Riak-If-Not-Modified", &clock)],
            b"x",
        )
        .await;
    assert_eq!(missing.status, 409);
    node.stop().await;
}
