//! Object fetch, store and delete over raw HTTP in all three URL families:
//! headers in and out, generated keys, returnbody, tombstones and keys with
//! unusual bytes.

mod common;

use common::Node;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_then_get_returns_value_and_riak_headers() {
    let node = Node::start().await;
    let put = node
        .req(
            "PUT",
            "/buckets/b/keys/k",
            &[
                ("Content-Type", "text/plain; charset=utf-8"),
                ("X-Riak-Meta-Color", "blue"),
                ("X-Riak-Index-Age_int", "10, 5"),
                ("X-Riak-Index-email_bin", "a@example.com"),
                ("Link", "</buckets/other/keys/k2>; riaktag=\"friend\""),
            ],
            b"hello",
        )
        .await;
    assert_eq!(put.status, 204, "{}", put.text());
    assert!(put.body.is_empty());

    let got = node.get("/buckets/b/keys/k").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"hello");
    assert_eq!(
        got.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(got.header("x-riak-vclock").is_some_and(|v| !v.is_empty()));
    let etag = got.header("etag").unwrap();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 24,
        "{etag}"
    );
    let lm = got.header("last-modified").unwrap();
    assert!(lm.ends_with(" GMT") && lm.len() == 29, "{lm}");
    assert_eq!(
        got.header("link"),
        Some("</buckets/b>; rel=\"up\", </buckets/other/keys/k2>; riaktag=\"friend\"")
    );
    assert_eq!(got.header("x-riak-meta-color"), Some("blue"));
    assert_eq!(got.header("x-riak-index-age_int"), Some("5, 10"));
    assert_eq!(got.header("x-riak-index-email_bin"), Some("a@example.com"));
    assert_eq!(got.header("x-riak-deleted"), None);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_url_families_address_the_same_object() {
    let node = Node::start().await;
    let put = node
        .put("/riak/fam/k1", "application/json", b"{\"a\":1}")
        .await;
    assert_eq!(put.status, 204);
    for path in [
        "/riak/fam/k1",
        "/buckets/fam/keys/k1",
        "/types/default/buckets/fam/keys/k1",
    ] {
        let got = node.get(path).await;
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(got.body, b"{\"a\":1}", "{path}");
        assert_eq!(got.header("content-type"), Some("application/json"));
    }
    // Links answer in the family of the request.
    let v1 = node.get("/riak/fam/k1").await;
    assert_eq!(v1.header("link"), Some("</riak/fam>; rel=\"up\""));
    let v2 = node.get("/buckets/fam/keys/k1").await;
    assert_eq!(v2.header("link"), Some("</buckets/fam>; rel=\"up\""));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_without_key_creates_with_generated_key() {
    let node = Node::start().await;
    let mut keys = Vec::new();
    for (post_path, prefix) in [
        ("/buckets/gen/keys", "/buckets/gen/keys/"),
        ("/riak/gen", "/riak/gen/"),
        (
            "/types/default/buckets/gen/keys",
            "/types/default/buckets/gen/keys/",
        ),
    ] {
        let resp = node
            .req(
                "POST",
                post_path,
                &[("Content-Type", "text/plain")],
                b"made",
            )
            .await;
        assert_eq!(resp.status, 201, "{post_path}: {}", resp.text());
        let location = resp.header("location").unwrap().to_string();
        let key = location
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{location}"));
        // 160 random bits in base 62, as Riak writes them: at most 27
        // digits, fewer when the leading digits are zero (about 1 in 37).
        assert!(!key.is_empty() && key.len() <= 27, "{key}");
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(
            !keys.contains(&key.to_string()),
            "key {key} generated twice"
        );
        keys.push(key.to_string());
        let got = node.get(&location).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body, b"made");
    }
    // With returnbody the 201 carries the stored value.
    let resp = node
        .req(
            "POST",
            "/buckets/gen/keys?returnbody=true",
            &[("Content-Type", "text/plain")],
            b"echo",
        )
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.body, b"echo");
    assert!(
        resp.header("location")
            .unwrap()
            .starts_with("/buckets/gen/keys/")
    );
    assert!(resp.header("x-riak-vclock").is_some());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returnbody_answers_200_with_the_object() {
    let node = Node::start().await;
    let resp = node
        .req(
            "PUT",
            "/buckets/rb/keys/k?returnbody=true",
            &[("Content-Type", "text/plain"), ("X-Riak-Meta-Owner", "me")],
            b"v1",
        )
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"v1");
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert_eq!(resp.header("x-riak-meta-owner"), Some("me"));
    assert!(resp.header("etag").is_some());
    assert!(resp.header("x-riak-vclock").is_some());
    // POST to a key behaves as PUT.
    let resp = node
        .req(
            "POST",
            "/buckets/rb/keys/k",
            &[("Content-Type", "text/plain")],
            b"v2",
        )
        .await;
    assert_eq!(resp.status, 204);
    assert_eq!(node.get("/buckets/rb/keys/k").await.body, b"v2");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_sends_headers_without_body() {
    let node = Node::start().await;
    node.put("/buckets/h/keys/k", "text/plain", b"twelve bytes")
        .await;
    let resp = node.req("HEAD", "/buckets/h/keys/k", &[], b"").await;
    assert_eq!(resp.status, 200);
    assert!(resp.body.is_empty());
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert!(resp.header("etag").is_some());
    assert!(resp.header("x-riak-vclock").is_some());
    let missing = node.req("HEAD", "/buckets/h/keys/none", &[], b"").await;
    assert_eq!(missing.status, 404);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_encoding_is_stored_and_returned() {
    let node = Node::start().await;
    let resp = node
        .req(
            "PUT",
            "/buckets/enc/keys/k",
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
            b"\x1f\x8b pretend",
        )
        .await;
    assert_eq!(resp.status, 204);
    let got = node.get("/buckets/enc/keys/k").await;
    assert_eq!(got.header("content-encoding"), Some("gzip"));
    assert_eq!(got.body, b"\x1f\x8b pretend");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_is_404_not_found() {
    let node = Node::start().await;
    let resp = node.get("/buckets/b/keys/absent").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.text(), "not found\n");
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_leaves_a_tombstone_with_its_clock() {
    let node = Node::start_keeping_tombstones().await;
    node.put("/buckets/d/keys/k", "text/plain", b"bye").await;
    let clock = node
        .get("/buckets/d/keys/k")
        .await
        .header("x-riak-vclock")
        .unwrap()
        .to_string();
    let del = node
        .req(
            "DELETE",
            "/buckets/d/keys/k",
            &[("X-Riak-Vclock", &clock)],
            b"",
        )
        .await;
    assert_eq!(del.status, 204);
    let gone = node.get("/buckets/d/keys/k").await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.text(), "not found\n");
    assert_eq!(gone.header("x-riak-deleted"), Some("true"));
    let tomb_clock = gone.header("x-riak-vclock").expect("tombstone clock");
    assert_ne!(tomb_clock, clock);
    // Writing with the tombstone's clock replaces it.
    let put = node
        .req(
            "PUT",
            "/buckets/d/keys/k",
            &[
                ("Content-Type", "text/plain"),
                ("X-Riak-Vclock", tomb_clock),
            ],
            b"back",
        )
        .await;
    assert_eq!(put.status, 204);
    let got = node.get("/buckets/d/keys/k").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"back");
    // Deleting without a clock reads first; a missing key is a 404.
    assert_eq!(
        node.req("DELETE", "/buckets/d/keys/k", &[], b"")
            .await
            .status,
        204
    );
    let missing = node.req("DELETE", "/buckets/d/keys/never", &[], b"").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text(), "not found\n");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_with_unusual_bytes_round_trip() {
    let node = Node::start().await;
    // (path segment as sent, key as stored)
    let cases: [(&str, &str); 5] = [
        ("a%2Fb", "a/b"),
        ("with+space", "with space"),
        ("%C3%A9t%C3%A9", "été"),
        ("nul%00byte", "nul\u{0}byte"),
        ("pct%25sign", "pct%sign"),
    ];
    for (i, (seg, _)) in cases.iter().enumerate() {
        let resp = node
            .put(
                &format!("/buckets/odd/keys/{seg}"),
                "text/plain",
                format!("v{i}").as_bytes(),
            )
            .await;
        assert_eq!(resp.status, 204, "{seg}");
    }
    for (i, (seg, _)) in cases.iter().enumerate() {
        let got = node.get(&format!("/buckets/odd/keys/{seg}")).await;
        assert_eq!(got.status, 200, "{seg}");
        assert_eq!(got.body, format!("v{i}").as_bytes(), "{seg}");
    }
    // A different spelling of the same bytes reaches the same key.
    assert_eq!(node.get("/buckets/odd/keys/with%20space").await.body, b"v1");
    assert_eq!(node.get("/riak/odd/a%2fb").await.body, b"v0");
    // The stored keys are the decoded bytes.
    let listed = node.get("/buckets/odd/keys?keys=true").await.json();
    let mut keys: Vec<String> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    keys.sort();
    let mut expected: Vec<String> = cases.iter().map(|(_, k)| k.to_string()).collect();
    expected.sort();
    assert_eq!(keys, expected);
    // Generated Location and Link URIs quote such bytes again.
    let resp = node
        .req(
            "PUT",
            "/buckets/odd/keys/linker",
            &[
                ("Content-Type", "text/plain"),
                ("Link", "</buckets/odd/keys/a%2Fb>; riaktag=\"slash+tag\""),
            ],
            b"x",
        )
        .await;
    assert_eq!(resp.status, 204);
    assert_eq!(
        node.get("/buckets/odd/keys/linker").await.header("link"),
        Some("</buckets/odd>; rel=\"up\", </buckets/odd/keys/a%2Fb>; riaktag=\"slash+tag\"")
    );
    node.stop().await;
}
