//! Framing and connection behaviour over real TCP: exact bytes for ping,
//! pipelining, bad input (oversized, truncated, empty and undecodable
//! frames, unknown and unserved codes), the connection cap, the idle
//! timeout and shutdown.

mod common;

use std::time::Duration;

use common::{Server, errmsg};
use rill_pb::PbConfig;
use rill_proto::MsgCode;
use rill_proto::messages::{RpbGetReq, RpbMapRedReq, RpbPutReq};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_reply_is_exactly_five_bytes() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.stream.write_all(&[0, 0, 0, 1, 1]).await.unwrap();
    let mut reply = [0u8; 5];
    c.stream.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply, [0, 0, 0, 1, 2]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order() {
    let server = Server::start().await;
    let mut c = server.client().await;
    // Ping, server info, ping in one write.
    c.send_raw(&[0, 0, 0, 1, 1, 0, 0, 0, 1, 7, 0, 0, 0, 1, 1])
        .await;
    assert_eq!(c.recv().await.code, 2);
    assert_eq!(c.recv().await.code, 8);
    assert_eq!(c.recv().await.code, 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_over_the_limit_gets_an_error_then_close() {
    let server = Server::start_with(PbConfig {
        max_frame_len: 1024,
        ..PbConfig::default()
    })
    .await;
    let mut c = server.client().await;
    c.ping().await;
    // Declares 1025 bytes; only the prefix and code are sent.
    c.send_raw(&[0, 0, 0x04, 0x01, 9]).await;
    let frame = c.recv().await;
    assert_eq!(
        errmsg(&frame),
        "Invalid message packet, reason: frame length 1025 exceeds the limit of 1024 bytes"
    );
    c.expect_closed().await;

    // A frame of exactly the limit is fine (and here: undecodable).
    let mut c = server.client().await;
    let mut frame = vec![0, 0, 0x04, 0x00, 9];
    frame.extend(std::iter::repeat_n(0xffu8, 1023));
    c.send_raw(&frame).await;
    let reply = c.recv().await;
    assert!(errmsg(&reply).starts_with("Message decoding error: "));
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_declared_length_with_default_limit_is_refused() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.send_raw(&[0xff, 0xff, 0xff, 0xff, 9]).await;
    let frame = c.recv().await;
    assert_eq!(
        errmsg(&frame),
        "Invalid message packet, reason: frame length 4294967295 exceeds the limit of 67108864 bytes"
    );
    c.expect_closed().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_length_frame_gets_an_error_then_close() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.send_raw(&[0, 0, 0, 0]).await;
    let frame = c.recv().await;
    assert_eq!(
        errmsg(&frame),
        "Invalid message packet, reason: empty frame: length prefix is zero"
    );
    c.expect_closed().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_frame_then_close_leaves_the_server_serving() {
    let server = Server::start().await;
    let mut bad = server.client().await;
    // A get request that declares 100 bytes and sends 10, then hangs up.
    bad.send_raw(&[0, 0, 0, 100, 9, 10, 1, b'b', 18, 1, b'k', 0, 0, 0])
        .await;
    // Meanwhile another client is served normally.
    let mut good = server.client().await;
    good.ping().await;
    drop(bad);
    tokio::time::sleep(Duration::from_millis(50)).await;
    good.ping().await;
    let mut again = server.client().await;
    again.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_code_keeps_the_connection() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.send_raw(&[0, 0, 0, 3, 99, 1, 2]).await;
    assert_eq!(errmsg(&c.recv().await), "Unknown message code: 99");
    c.ping().await;
    // A response code sent as a request is unknown too.
    c.send_empty(2).await;
    assert_eq!(errmsg(&c.recv().await), "Unknown message code: 2");
    // So are the codes Riak 3.0 registers no service for.
    for code in [27u8, 54, 58, 253, 90, 128, 210] {
        c.send_empty(code).await;
        assert_eq!(
            errmsg(&c.recv().await),
            format!("Unknown message code: {code}")
        );
    }
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_protobuf_is_a_decoding_error_and_the_connection_survives() {
    let server = Server::start().await;
    let mut c = server.client().await;
    // Field 1, length-delimited, length 50 but only 2 bytes follow.
    c.send_raw(&[0, 0, 0, 5, 9, 0x0a, 50, b'a', b'b']).await;
    let msg = errmsg(&c.recv().await);
    assert!(msg.starts_with("Message decoding error: "), "{msg}");
    c.ping().await;
    // Wire type 7 does not exist.
    c.send_raw(&[0, 0, 0, 3, 11, 0x0f, 0x00]).await;
    let msg = errmsg(&c.recv().await);
    assert!(msg.starts_with("Message decoding error: "), "{msg}");
    // A field-less request with a bad body is a decoding error too.
    c.send_raw(&[0, 0, 0, 2, 1, 0xff]).await;
    let msg = errmsg(&c.recv().await);
    assert!(msg.starts_with("Message decoding error: "), "{msg}");
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_without_security_is_refused() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.send_empty(255).await;
    assert_eq!(
        errmsg(&c.recv().await),
        "Security not enabled; STARTTLS not allowed."
    );
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_but_unserved_requests_get_not_implemented() {
    let server = Server::start().await;
    let mut c = server.client().await;
    let mapred = RpbMapRedReq {
        request: b"{}".to_vec(),
        content_type: b"application/json".to_vec(),
    };
    assert_eq!(
        c.call_err(MsgCode::MapRedReq, &mapred).await,
        "RpbMapRedReq (code 23) is not implemented by this node"
    );
    for (code, name) in [
        (25u8, "RpbIndexReq"),
        (40, "RpbCSBucketReq"),
        (70, "RpbCoverageReq"),
    ] {
        c.send_empty(code).await;
        assert_eq!(
            errmsg(&c.recv().await),
            format!("{name} (code {code}) is not implemented by this node")
        );
    }
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_with_a_key_and_an_empty_bucket_is_an_error() {
    let server = Server::start().await;
    let mut c = server.client().await;
    let req = RpbGetReq {
        bucket: Vec::new(),
        key: b"k".to_vec(),
        ..RpbGetReq::default()
    };
    assert_eq!(
        c.call_err(MsgCode::GetReq, &req).await,
        "Bucket cannot be zero-length"
    );
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_connection_does_not_disturb_others() {
    let server = Server::start().await;
    let mut bad = server.client().await;
    // Half a frame, then silence.
    bad.send_raw(&[0, 0, 0, 50, 11, 1, 2]).await;
    let mut good = server.client().await;
    good.ping().await;
    let put = RpbPutReq {
        bucket: b"b".to_vec(),
        key: Some(b"k".to_vec()),
        content: rill_proto::messages::RpbContent {
            value: b"v".to_vec(),
            ..Default::default()
        },
        ..RpbPutReq::default()
    };
    let frame = good.call_empty(MsgCode::PutReq, &put).await;
    assert_eq!(frame.code, 12);
    assert!(frame.body.is_empty());
    // The bad client finishes its frame with garbage: it gets an error and
    // stays usable.
    let mut rest = vec![0u8; 47];
    rest[0] = 0x0f;
    bad.send_raw(&rest).await;
    assert!(errmsg(&bad.recv().await).starts_with("Message decoding error: "));
    bad.ping().await;
    good.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_told_and_closed() {
    let server = Server::start_with(PbConfig {
        max_connections: 2,
        ..PbConfig::default()
    })
    .await;
    let mut a = server.client().await;
    a.ping().await;
    let mut b = server.client().await;
    b.ping().await;

    let mut over = server.client().await;
    let frame = over.recv().await;
    assert_eq!(errmsg(&frame), "Too many connections (limit 2)");
    over.expect_closed().await;
    a.ping().await;
    b.ping().await;

    // Once a slot is free, a new connection is served.
    drop(a);
    let mut served = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut c = server.client().await;
        c.send_empty(1).await;
        let frame = c.recv().await;
        if frame.code == 2 {
            served = true;
            break;
        }
        assert_eq!(errmsg(&frame), "Too many connections (limit 2)");
    }
    assert!(served, "a freed slot is reused");
    b.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed() {
    let server = Server::start_with(PbConfig {
        idle_timeout: Duration::from_millis(300),
        ..PbConfig::default()
    })
    .await;
    let mut idle = server.client().await;
    idle.ping().await;
    let mut busy = server.client().await;
    // The busy client keeps talking for longer than the timeout.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        busy.ping().await;
    }
    idle.expect_closed().await;
    busy.ping().await;

    // A frame trickled in slower than the timeout does not keep a
    // connection alive either.
    let mut slow = server.client().await;
    slow.send_raw(&[0, 0]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    slow.send_raw(&[0]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    slow.expect_closed().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_accepting_and_closes_idle_connections() {
    let server = Server::start().await;
    let addr = server.addr;
    let mut c = server.client().await;
    c.ping().await;
    server.stop().await;
    c.expect_closed().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener is closed"
    );
}
