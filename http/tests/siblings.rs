//! Siblings over HTTP: `300 Multiple Choices` as a vtag list or a multipart
//! body, `?vtag=` to pick one, and resolving with the returned vclock.

mod common;

use common::{Node, multipart_parts};
use serde_json::json;
use std::collections::BTreeSet;

async fn two_siblings(node: &Node, path: &str) {
    node.make_type("sib", json!({"allow_mult": true})).await;
    for v in ["apple", "banana"] {
        let resp = node.put(path, "text/plain", v.as_bytes()).await;
        assert_eq!(resp.status, 204, "{}", resp.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_writes_make_siblings_listed_as_vtags() {
    let node = Node::start().await;
    let path = "/types/sib/buckets/fruit/keys/k";
    two_siblings(&node, path).await;

    let resp = node.get(path).await;
    assert_eq!(resp.status, 300);
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert_eq!(resp.header("vary"), Some("Accept"));
    assert!(resp.header("x-riak-vclock").is_some());
    assert!(resp.header("etag").is_some());
    let text = resp.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Siblings:"));
    let vtags: BTreeSet<&str> = lines.collect();
    assert_eq!(vtags.len(), 2, "{text:?}");
    assert!(text.ends_with('\n'));
    assert!(vtags.iter().all(|v| v.len() == 22));

    // Each vtag selects its sibling.
    let mut values = BTreeSet::new();
    for vtag in &vtags {
        let one = node.get(&format!("{path}?vtag={vtag}")).await;
        assert_eq!(one.status, 200);
        assert_eq!(one.header("etag"), Some(format!("\"{vtag}\"").as_str()));
        values.insert(one.text());
    }
    assert_eq!(
        values,
        BTreeSet::from(["apple".to_string(), "banana".to_string()])
    );
    let unknown = node.get(&format!("{path}?vtag=nosuchvtag")).await;
    assert_eq!(unknown.status, 404);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_body_carries_every_sibling() {
    let node = Node::start().await;
    let path = "/types/sib/buckets/fruit/keys/mp";
    two_siblings(&node, path).await;

    for accept in [
        "multipart/mixed",
        "multipart/mixed, application/json, */*;q=0.5",
    ] {
        let resp = node.req("GET", path, &[("Accept", accept)], b"").await;
        assert_eq!(resp.status, 300);
        let ctype = resp.header("content-type").unwrap().to_string();
        assert!(ctype.starts_with("multipart/mixed; boundary="), "{ctype}");
        assert!(resp.body.starts_with(b"\r\n--"));
        assert!(resp.body.ends_with(b"--\r\n"));
        let parts = multipart_parts(&ctype, &resp.body);
        assert_eq!(parts.len(), 2);
        let mut values = BTreeSet::new();
        for (headers, value) in &parts {
            let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["Content-Type", "Link", "Etag", "Last-Modified"]);
            assert_eq!(headers[0].1, "text/plain");
            assert_eq!(headers[1].1, "</buckets/fruit>; rel=\"up\"");
            assert_eq!(headers[2].1.len(), 22);
            assert!(headers[3].1.ends_with(" GMT"));
            values.insert(String::from_utf8(value.clone()).unwrap());
        }
        assert_eq!(
            values,
            BTreeSet::from(["apple".to_string(), "banana".to_string()])
        );
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_with_the_vclock_resolves_siblings() {
    let node = Node::start().await;
    let path = "/types/sib/buckets/fruit/keys/res";
    two_siblings(&node, path).await;
    let listing = node.get(path).await;
    assert_eq!(listing.status, 300);
    let clock = listing.header("x-riak-vclock").unwrap().to_string();
    let resp = node
        .req(
            "PUT",
            path,
            &[("Content-Type", "text/plain"), ("X-Riak-Vclock", &clock)],
            b"fruit salad",
        )
        .await;
    assert_eq!(resp.status, 204);
    let got = node.get(path).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"fruit salad");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returnbody_with_siblings_is_300_multipart_by_default() {
    let node = Node::start().await;
    let path = "/types/sib/buckets/fruit/keys/rb";
    two_siblings(&node, path).await;
    let resp = node
        .req(
            "PUT",
            &format!("{path}?returnbody=true"),
            &[("Content-Type", "text/plain")],
            b"cherry",
        )
        .await;
    assert_eq!(resp.status, 300);
    let ctype = resp.header("content-type").unwrap().to_string();
    assert!(ctype.starts_with("multipart/mixed; boundary="));
    assert_eq!(multipart_parts(&ctype, &resp.body).len(), 3);
    // A client that asks for text gets the vtag list.
    let resp = node
        .req(
            "PUT",
            &format!("{path}?returnbody=true"),
            &[("Content-Type", "text/plain"), ("Accept", "text/plain")],
            b"date",
        )
        .await;
    assert_eq!(resp.status, 300);
    assert!(resp.text().starts_with("Siblings:\n"));
    assert_eq!(resp.text().lines().count(), 5);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_type_keeps_last_write() {
    let node = Node::start().await;
    node.put("/buckets/lww/keys/k", "text/plain", b"first")
        .await;
    node.put("/buckets/lww/keys/k", "text/plain", b"second")
        .await;
    let got = node.get("/buckets/lww/keys/k").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"second");
    node.stop().await;
}
