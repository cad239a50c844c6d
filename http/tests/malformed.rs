//! Malformed input gets Riak's status and text, and the node keeps serving:
//! every case ends by reading a known object back.

mod common;

use common::Node;
use tokio::io::AsyncWriteExt;

async fn node_with_canary() -> Node {
    let node = Node::start().await;
    let resp = node
        .put("/buckets/canary/keys/k", "text/plain", b"alive")
        .await;
    assert_eq!(resp.status, 204);
    node
}

async fn still_serves(node: &Node) {
    let got = node.get("/buckets/canary/keys/k").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"alive");
}

const QUORUM_TEXT: &str =
    "query parameter must be an integer or one of the following words: 'one', 'quorum' or 'all'\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_vclock_is_400() {
    let node = node_with_canary().await;
    for bad in ["!!!not base64!!!", "AAAA", "a2Fib29t"] {
        let resp = node
            .req(
                "PUT",
                "/buckets/b/keys/k",
                &[("Content-Type", "text/plain"), ("X-Riak-Vclock", bad)],
                b"v",
            )
            .await;
        assert_eq!(resp.status, 400, "{bad}");
        assert!(
            resp.text().starts_with("Invalid X-Riak-Vclock header: "),
            "{}",
            resp.text()
        );
        let del = node
            .req(
                "DELETE",
                "/buckets/b/keys/k",
                &[("X-Riak-Vclock", bad)],
                b"",
            )
            .await;
        assert_eq!(del.status, 400);
        still_serves(&node).await;
    }
    let resp = node
        .req(
            "PUT",
            "/buckets/b/keys/k",
            &[
                ("Content-Type", "text/plain"),
                ("X-Riak-If-Not-Modified", "%%%"),
            ],
            b"v",
        )
        .await;
    assert_eq!(resp.status, 400);
    assert!(
        resp.text()
            .starts_with("Invalid X-Riak-If-Not-Modified header: ")
    );
    still_serves(&node).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_parameters_are_400_with_riak_text() {
    let node = node_with_canary().await;
    let get = node.get("/buckets/canary/keys/k?r=bogus").await;
    assert_eq!(get.status, 400);
    assert_eq!(get.text(), format!("r {QUORUM_TEXT}"));
    assert_eq!(get.header("content-type"), Some("text/plain"));
    still_serves(&node).await;

    let put = node
        .req(
            "PUT",
            "/buckets/canary/keys/x?w=two",
            &[("Content-Type", "text/plain")],
            b"v",
        )
        .await;
    assert_eq!(put.status, 400);
    assert_eq!(put.text(), format!("w {QUORUM_TEXT}"));
    let del = node
        .req("DELETE", "/buckets/canary/keys/k?rw=-1", &[], b"")
        .await;
    assert_eq!(del.status, 400);
    assert_eq!(del.text(), format!("rw {QUORUM_TEXT}"));
    still_serves(&node).await;

    let t = node.get("/buckets/canary/keys/k?timeout=soon").await;
    assert_eq!(t.status, 400);
    assert_eq!(t.text(), "Bad timeout value \"soon\"\n");
    let b = node.get("/buckets/canary/keys/k?notfound_ok=maybe").await;
    assert_eq!(b.status, 400);
    assert_eq!(
        b.text(),
        "notfound_ok query parameter must be true or false\n"
    );
    let b = node.get("/buckets/canary/keys/k?basic_quorum=1").await;
    assert_eq!(b.status, 400);
    assert_eq!(
        b.text(),
        "basic_quorum query parameter must be true or false\n"
    );
    let keys = node.get("/buckets/canary/keys?keys=true&timeout=x").await;
    assert_eq!(keys.status, 400);
    assert_eq!(keys.text(), "Bad timeout value \"x\"\n");
    // Valid words and numbers pass.
    let ok = node
        .get("/buckets/canary/keys/k?r=quorum&pr=0&basic_quorum=true&timeout=5000")
        .await;
    assert_eq!(ok.status, 200);
    // A quorum above n_val is Riak's n_val violation.
    let big = node
        .req(
            "PUT",
            "/buckets/canary/keys/y?w=5",
            &[("Content-Type", "text/plain")],
            b"v",
        )
        .await;
    assert_eq!(big.status, 400);
    assert_eq!(
        big.text(),
        "Specified w/dw/pw/node_confirms values invalid for bucket n value of 3\n"
    );
    still_serves(&node).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_object_headers_are_rejected() {
    let node = node_with_canary().await;
    let none = node.req("PUT", "/buckets/b/keys/k", &[], b"v").await;
    assert_eq!(none.status, 400);
    assert_eq!(none.text(), "Missing Content-Type request header");

    let shape = node.put("/buckets/b/keys/k", "textplain", b"v").await;
    assert_eq!(shape.status, 415);
    assert_eq!(
        shape.text(),
        "\"textplain\" is not a valid media type for the Content-type header.\n"
    );

    let idx = node
        .req(
            "PUT",
            "/buckets/b/keys/k",
            &[
                ("Content-Type", "text/plain"),
                ("X-Riak-Index-age_int", "old"),
            ],
            b"v",
        )
        .await;
    assert_eq!(idx.status, 400);
    assert_eq!(
        idx.text(),
        "Could not parse field 'age_int', value 'old'.\n"
    );
    let field = node
        .req(
            "PUT",
            "/buckets/b/keys/k",
            &[("Content-Type", "text/plain"), ("X-Riak-Index-age", "1")],
            b"v",
        )
        .await;
    assert_eq!(field.status, 400);
    assert_eq!(field.text(), "Unknown field type for field: 'age'.\n");

    let link = node
        .req(
            "PUT",
            "/buckets/b/keys/k",
            &[
                ("Content-Type", "text/plain"),
                ("Link", "<http://elsewhere/>; rel=\"next\""),
            ],
            b"v",
        )
        .await;
    assert_eq!(link.status, 400);
    assert_eq!(
        link.text(),
        "Invalid Link header. Links must be of the form\n</buckets/BUCKET/keys/KEY>; riaktag=\"TAG\"\n"
    );
    let v1 = node
        .req(
            "PUT",
            "/riak/b/k",
            &[
                ("Content-Type", "text/plain"),
                ("Link", "</riak/otherbucket>; rel=\"up\""),
            ],
            b"v",
        )
        .await;
    assert_eq!(v1.status, 400);
    assert_eq!(
        v1.text(),
        "Invalid Link header. Links must be of the form\n</riak/BUCKET/KEY>; riaktag=\"TAG\"\n"
    );
    // Nothing was written by the rejected requests.
    assert_eq!(node.get("/buckets/b/keys/k").await.status, 404);
    still_serves(&node).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_bucket_type_is_404_with_message() {
    let node = node_with_canary().await;
    let expect = "Unknown bucket type: nope";
    let get = node.get("/types/nope/buckets/b/keys/k").await;
    assert_eq!((get.status, get.text().as_str()), (404, expect));
    let put = node
        .put("/types/nope/buckets/b/keys/k", "text/plain", b"v")
        .await;
    assert_eq!((put.status, put.text().as_str()), (404, expect));
    let post = node
        .req(
            "POST",
            "/types/nope/buckets/b/keys",
            &[("Content-Type", "text/plain")],
            b"v",
        )
        .await;
    assert_eq!((post.status, post.text().as_str()), (404, expect));
    let del = node
        .req("DELETE", "/types/nope/buckets/b/keys/k", &[], b"")
        .await;
    assert_eq!((del.status, del.text().as_str()), (404, expect));
    let keys = node.get("/types/nope/buckets/b/keys?keys=true").await;
    assert_eq!((keys.status, keys.text().as_str()), (404, expect));
    let buckets = node.get("/types/nope/buckets?buckets=true").await;
    assert_eq!((buckets.status, buckets.text().as_str()), (404, expect));
    let props = node.get("/types/nope/buckets/b/props").await;
    assert_eq!((props.status, props.text().as_str()), (404, expect));
    let tprops = node.get("/types/nope/props").await;
    assert_eq!((tprops.status, tprops.text().as_str()), (404, expect));
    still_serves(&node).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_object_limit_are_413() {
    let node = node_with_canary().await;
    let limit = rill_http::MAX_BODY_BYTES;
    // Declared one byte over the limit: refused before the body is read.
    let head = format!(
        "PUT /buckets/big/keys/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        limit + 1
    );
    let resp = common::raw(node.addr, head.as_bytes(), false).await;
    assert_eq!(resp.status, 413);
    still_serves(&node).await;

    // Chunked, so the size is only known while reading.
    let mut stream = tokio::net::TcpStream::connect(node.addr).await.unwrap();
    stream
        .write_all(
            b"PUT /buckets/big/keys/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
              Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0usize;
    let mut refused_early = false;
    while sent <= limit {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if stream.write_all(&frame).await.is_err() {
            refused_early = true;
            break;
        }
        sent += chunk.len();
    }
    if !refused_early {
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
    let mut buf = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut buf).await;
    let resp = common::parse(&buf, false);
    assert_eq!(resp.status, 413);
    // Exactly at the limit is accepted by the HTTP layer.
    assert_eq!(node.get("/buckets/big/keys/k").await.status, 404);
    still_serves(&node).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversized_heads_do_not_hurt_the_node() {
    let node = node_with_canary().await;
    let resp = common::raw(node.addr, b"THIS IS NOT HTTP\r\n\r\n", false).await;
    assert_eq!(resp.status, 400);
    still_serves(&node).await;

    let mut many = String::from("GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..(rill_http::MAX_HEADERS + 10) {
        many.push_str(&format!("X-Filler-{i}: y\r\n"));
    }
    many.push_str("\r\n");
    let resp = common::raw(node.addr, many.as_bytes(), false).await;
    assert_eq!(resp.status, 431);
    still_serves(&node).await;

    let huge = format!(
        "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "z".repeat(2 * rill_http::MAX_HEAD_BYTES)
    );
    let resp = common::raw(node.addr, huge.as_bytes(), false).await;
    assert_eq!(resp.status, 431);
    still_serves(&node).await;

    let null_origin = node
        .req("GET", "/buckets/canary/keys/k", &[("Origin", "null")], b"")
        .await;
    assert_eq!(null_origin.status, 403);
    still_serves(&node).await;
    node.stop().await;
}
