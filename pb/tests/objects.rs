//! Object requests over raw PB frames: server info and client ids, put /
//! get / delete with full metadata, generated keys, head and return_body,
//! conditional requests, tombstones, siblings, quorum errors and bad names.

mod common;

use common::{Client, Server, errmsg};
use rill_proto::MsgCode;
use rill_proto::messages::{
    RpbContent, RpbDelReq, RpbGetClientIdResp, RpbGetReq, RpbGetResp, RpbGetServerInfoResp,
    RpbLink, RpbPair, RpbPutReq, RpbPutResp, RpbSetClientIdReq,
};
use rill_proto::quorum;
use serde_json::json;

fn get_req(bucket: &str, key: &str) -> RpbGetReq {
    RpbGetReq {
        bucket: bucket.as_bytes().to_vec(),
        key: key.as_bytes().to_vec(),
        ..RpbGetReq::default()
    }
}

fn put_req(bucket: &str, key: Option<&str>, value: &str) -> RpbPutReq {
    RpbPutReq {
        bucket: bucket.as_bytes().to_vec(),
        key: key.map(|k| k.as_bytes().to_vec()),
        content: RpbContent {
            value: value.as_bytes().to_vec(),
            content_type: Some(b"text/plain".to_vec()),
            ..RpbContent::default()
        },
        ..RpbPutReq::default()
    }
}

fn del_req(bucket: &str, key: &str) -> RpbDelReq {
    RpbDelReq {
        bucket: bucket.as_bytes().to_vec(),
        key: key.as_bytes().to_vec(),
        ..RpbDelReq::default()
    }
}

async fn get(c: &mut Client, req: &RpbGetReq) -> RpbGetResp {
    c.call(MsgCode::GetReq, req, MsgCode::GetResp).await
}

async fn put(c: &mut Client, req: &RpbPutReq) -> RpbPutResp {
    c.call(MsgCode::PutReq, req, MsgCode::PutResp).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_info_and_client_ids() {
    let server = Server::start().await;
    let mut c = server.client().await;
    let info: RpbGetServerInfoResp = c
        .call(
            MsgCode::GetServerInfoReq,
            &rill_proto::messages::RpbGetServerInfoReq {},
            MsgCode::GetServerInfoResp,
        )
        .await;
    assert_eq!(info.node.as_deref(), Some(&b"rill@127.0.0.1"[..]));
    assert_eq!(info.server_version.as_deref(), Some(&b"3.0.16"[..]));

    let empty = rill_proto::messages::RpbGetClientIdReq {};
    let first: RpbGetClientIdResp = c
        .call(MsgCode::GetClientIdReq, &empty, MsgCode::GetClientIdResp)
        .await;
    assert_eq!(first.client_id.len(), 4);
    let again: RpbGetClientIdResp = c
        .call(MsgCode::GetClientIdReq, &empty, MsgCode::GetClientIdResp)
        .await;
    assert_eq!(again.client_id, first.client_id, "stable per connection");

    let set = RpbSetClientIdReq {
        client_id: b"abcd".to_vec(),
    };
    let frame = c.call_empty(MsgCode::SetClientIdReq, &set).await;
    assert_eq!((frame.code, frame.body.len()), (6, 0));
    let now: RpbGetClientIdResp = c
        .call(MsgCode::GetClientIdReq, &empty, MsgCode::GetClientIdResp)
        .await;
    assert_eq!(now.client_id, b"abcd");

    // Another connection has its own id.
    let mut other = server.client().await;
    let theirs: RpbGetClientIdResp = other
        .call(MsgCode::GetClientIdReq, &empty, MsgCode::GetClientIdResp)
        .await;
    assert_ne!(theirs.client_id, b"abcd");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_delete_round_trip_with_metadata() {
    let server = Server::start().await;
    let mut c = server.client().await;

    // Not found: just the code byte.
    c.send(MsgCode::GetReq, &get_req("b", "k")).await;
    let frame = c.recv().await;
    assert_eq!((frame.code, frame.body.len()), (10, 0));

    let mut req = put_req("b", Some("k"), "hello");
    req.content.charset = Some(b"utf-8".to_vec());
    req.content.content_encoding = Some(b"identity".to_vec());
    req.content.links = vec![RpbLink {
        bucket: Some(b"other".to_vec()),
        key: Some(b"k2".to_vec()),
        tag: Some(b"friend".to_vec()),
    }];
    req.content.usermeta = vec![RpbPair::new("color", "blue")];
    req.content.indexes = vec![
        RpbPair::new("email_bin", "a@example.com"),
        RpbPair::new("age_int", "42"),
    ];
    // Client-sent vtag and last_mod are ignored.
    req.content.vtag = Some(b"client-vtag".to_vec());
    req.content.last_mod = Some(1);
    let frame = c.call_empty(MsgCode::PutReq, &req).await;
    assert_eq!((frame.code, frame.body.len()), (12, 0), "plain put reply");

    let resp = get(&mut c, &get_req("b", "k")).await;
    assert_eq!(resp.content.len(), 1);
    assert!(resp.vclock.as_ref().is_some_and(|v| !v.is_empty()));
    assert_eq!(resp.unchanged, None);
    let content = &resp.content[0];
    assert_eq!(content.value, b"hello");
    assert_eq!(content.content_type.as_deref(), Some(&b"text/plain"[..]));
    assert_eq!(content.charset.as_deref(), Some(&b"utf-8"[..]));
    assert_eq!(content.content_encoding.as_deref(), Some(&b"identity"[..]));
    assert_eq!(content.links, req.content.links);
    assert_eq!(content.usermeta, req.content.usermeta);
    let mut indexes = content.indexes.clone();
    indexes.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        indexes,
        vec![
            RpbPair::new("age_int", "42"),
            RpbPair::new("email_bin", "a@example.com"),
        ]
    );
    let vtag = content.vtag.clone().expect("vtag");
    assert!(!vtag.is_empty() && vtag != b"client-vtag");
    let secs = content.last_mod.expect("last_mod");
    assert!(secs > 1_600_000_000, "last_mod is a recent Unix time");
    assert!(content.last_mod_usecs.expect("usecs") < 1_000_000);
    assert_eq!(content.deleted, None);

    // head: metadata without the value.
    let mut head = get_req("b", "k");
    head.head = Some(true);
    let resp = get(&mut c, &head).await;
    assert_eq!(resp.content.len(), 1);
    assert!(resp.content[0].value.is_empty());
    assert_eq!(resp.content[0].usermeta, req.content.usermeta);

    // Delete, then it is gone; deleting again still succeeds.
    let frame = c.call_empty(MsgCode::DelReq, &del_req("b", "k")).await;
    assert_eq!((frame.code, frame.body.len()), (14, 0));
    c.send(MsgCode::GetReq, &get_req("b", "k")).await;
    let frame = c.recv().await;
    assert_eq!((frame.code, frame.body.len()), (10, 0));
    let frame = c.call_empty(MsgCode::DelReq, &del_req("b", "k")).await;
    assert_eq!((frame.code, frame.body.len()), (14, 0));
    let frame = c.call_empty(MsgCode::DelReq, &del_req("b", "never")).await;
    assert_eq!((frame.code, frame.body.len()), (14, 0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_with_deletedvclock() {
    let server = Server::start().await;
    let mut c = server.client().await;
    put(&mut c, &put_req("b", Some("k"), "v")).await;
    let frame = c.call_empty(MsgCode::DelReq, &del_req("b", "k")).await;
    assert_eq!(frame.code, 14);

    let mut req = get_req("b", "k");
    req.deletedvclock = Some(true);
    let resp = get(&mut c, &req).await;
    assert!(resp.content.is_empty());
    let tomb_clock = resp.vclock.expect("tombstone vclock");
    assert!(!tomb_clock.is_empty());

    // Writing with the tombstone's clock replaces it: one live value.
    let mut again = put_req("b", Some("k"), "back");
    again.vclock = Some(tomb_clock);
    again.return_body = Some(true);
    let resp = put(&mut c, &again).await;
    assert_eq!(resp.content.len(), 1);
    assert_eq!(resp.content[0].value, b"back");
    assert_eq!(resp.key, None, "the key is returned only when generated");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_keys_and_return_body_or_head() {
    let server = Server::start().await;
    let mut c = server.client().await;

    let resp = put(&mut c, &put_req("b", None, "anon")).await;
    let key = resp.key.expect("generated key");
    assert!(!key.is_empty());
    assert!(resp.content.is_empty() && resp.vclock.is_none());
    let got = get(&mut c, &get_req("b", std::str::from_utf8(&key).unwrap())).await;
    assert_eq!(got.content[0].value, b"anon");

    let mut body = put_req("b", None, "with body");
    body.return_body = Some(true);
    let resp = put(&mut c, &body).await;
    assert!(resp.key.is_some());
    assert_eq!(resp.content.len(), 1);
    assert_eq!(resp.content[0].value, b"with body");
    assert!(resp.vclock.is_some());

    let mut head = put_req("b", Some("h"), "with head");
    head.return_head = Some(true);
    let resp = put(&mut c, &head).await;
    assert_eq!(resp.key, None);
    assert_eq!(resp.content.len(), 1);
    assert!(resp.content[0].value.is_empty());
    assert_eq!(
        resp.content[0].content_type.as_deref(),
        Some(&b"text/plain"[..])
    );

    // return_head wins over return_body, as in Riak.
    let mut both = put_req("b", Some("h"), "both");
    both.return_head = Some(true);
    both.return_body = Some(true);
    both.vclock = resp.vclock.clone();
    let resp = put(&mut c, &both).await;
    assert_eq!(resp.content.len(), 1);
    assert!(resp.content[0].value.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_requests() {
    let server = Server::start().await;
    let mut c = server.client().await;

    // if_not_modified on a missing object: notfound.
    let mut req = put_req("b", Some("k"), "v1");
    req.if_not_modified = Some(true);
    assert_eq!(c.call_err(MsgCode::PutReq, &req).await, "notfound");

    // if_none_match on a missing object writes it...
    let mut req = put_req("b", Some("k"), "v1");
    req.if_none_match = Some(true);
    req.return_body = Some(true);
    let first = put(&mut c, &req).await;
    let clock = first.vclock.expect("vclock");
    // ... and on an existing one fails.
    assert_eq!(c.call_err(MsgCode::PutReq, &req).await, "match_found");

    // if_not_modified with a stale or missing clock: modified.
    let mut stale = put_req("b", Some("k"), "v2");
    stale.if_not_modified = Some(true);
    assert_eq!(c.call_err(MsgCode::PutReq, &stale).await, "modified");
    // With the current clock it succeeds.
    stale.vclock = Some(clock.clone());
    stale.return_body = Some(true);
    let second = put(&mut c, &stale).await;
    assert_eq!(second.content[0].value, b"v2");
    let new_clock = second.vclock.expect("vclock");
    stale.vclock = Some(clock.clone());
    assert_eq!(c.call_err(MsgCode::PutReq, &stale).await, "modified");

    // if_modified with the current clock: unchanged; with an old one: the object.
    let mut g = get_req("b", "k");
    g.if_modified = Some(new_clock);
    let resp = get(&mut c, &g).await;
    assert_eq!(resp.unchanged, Some(true));
    assert!(resp.content.is_empty());
    g.if_modified = Some(clock);
    let resp = get(&mut c, &g).await;
    assert_eq!(resp.unchanged, None);
    assert_eq!(resp.content[0].value, b"v2");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn siblings_in_an_allow_mult_type() {
    let server = Server::start().await;
    server
        .create_type("mult", json!({"allow_mult": true}))
        .await;
    let mut c = server.client().await;

    let typed = |mut r: RpbPutReq| {
        r.r#type = Some(b"mult".to_vec());
        r
    };
    put(&mut c, &typed(put_req("b", Some("k"), "one"))).await;
    put(&mut c, &typed(put_req("b", Some("k"), "two"))).await;

    let mut g = get_req("b", "k");
    g.r#type = Some(b"mult".to_vec());
    let resp = get(&mut c, &g).await;
    let mut values: Vec<_> = resp.content.iter().map(|c| c.value.clone()).collect();
    values.sort();
    assert_eq!(values, vec![b"one".to_vec(), b"two".to_vec()]);
    let vtags: Vec<_> = resp.content.iter().map(|c| c.vtag.clone()).collect();
    assert_ne!(vtags[0], vtags[1], "siblings have their own vtags");

    // The same key in the default type (allow_mult=false) is separate.
    c.send(MsgCode::GetReq, &get_req("b", "k")).await;
    assert_eq!(c.recv().await.body.len(), 0);

    // A put with the context that saw both resolves them.
    let mut resolve = typed(put_req("b", Some("k"), "merged"));
    resolve.vclock = resp.vclock.clone();
    put(&mut c, &resolve).await;
    let resp = get(&mut c, &g).await;
    assert_eq!(resp.content.len(), 1);
    assert_eq!(resp.content[0].value, b"merged");

    // Default-type buckets collapse blind writes to the newest value.
    put(&mut c, &put_req("plain", Some("k"), "a")).await;
    put(&mut c, &put_req("plain", Some("k"), "b")).await;
    let resp = get(&mut c, &get_req("plain", "k")).await;
    assert_eq!(resp.content.len(), 1);
    assert_eq!(resp.content[0].value, b"b");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_values_and_violations() {
    let server = Server::start().await;
    let mut c = server.client().await;

    let mut req = put_req("b", Some("k"), "v");
    req.w = Some(4);
    assert_eq!(
        c.call_err(MsgCode::PutReq, &req).await,
        "{n_val_violation,3}"
    );
    req.w = Some(quorum::ALL);
    req.dw = Some(quorum::ONE);
    req.pw = Some(quorum::DEFAULT);
    put(&mut c, &req).await;

    let mut g = get_req("b", "k");
    g.r = Some(4);
    assert_eq!(c.call_err(MsgCode::GetReq, &g).await, "{n_val_violation,3}");
    g.r = Some(quorum::QUORUM);
    g.pr = Some(quorum::ONE);
    g.basic_quorum = Some(true);
    g.notfound_ok = Some(false);
    g.timeout = Some(5000);
    let resp = get(&mut c, &g).await;
    assert_eq!(resp.content[0].value, b"v");

    let mut d = del_req("b", "k");
    d.rw = Some(4);
    assert_eq!(c.call_err(MsgCode::DelReq, &d).await, "{n_val_violation,3}");
    d.rw = Some(quorum::ALL);
    d.w = Some(quorum::QUORUM);
    let frame = c.call_empty(MsgCode::DelReq, &d).await;
    assert_eq!(frame.code, 14);
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_names_and_unknown_types() {
    let server = Server::start().await;
    let mut c = server.client().await;

    assert_eq!(
        c.call_err(MsgCode::GetReq, &get_req("", "k")).await,
        "Bucket cannot be zero-length"
    );
    assert_eq!(
        c.call_err(MsgCode::GetReq, &get_req("b", "")).await,
        "Key cannot be zero-length"
    );
    let mut g = get_req("b", "k");
    g.r#type = Some(Vec::new());
    assert_eq!(
        c.call_err(MsgCode::GetReq, &g).await,
        "Type cannot be zero-length"
    );
    assert_eq!(
        c.call_err(MsgCode::PutReq, &put_req("", Some("k"), "v"))
            .await,
        "Bucket cannot be zero-length"
    );
    assert_eq!(
        c.call_err(MsgCode::PutReq, &put_req("b", Some(""), "v"))
            .await,
        "Key cannot be zero-length"
    );
    assert_eq!(
        c.call_err(MsgCode::DelReq, &del_req("", "k")).await,
        "Bucket cannot be zero-length"
    );
    assert_eq!(
        c.call_err(MsgCode::DelReq, &del_req("b", "")).await,
        "Key cannot be zero-length"
    );

    g.r#type = Some(b"nope".to_vec());
    assert_eq!(
        c.call_err(MsgCode::GetReq, &g).await,
        "No bucket-type named 'nope'"
    );
    let mut p = put_req("b", Some("k"), "v");
    p.r#type = Some(b"nope".to_vec());
    assert_eq!(
        c.call_err(MsgCode::PutReq, &p).await,
        "No bucket-type named 'nope'"
    );
    // Explicit "default" is the default type.
    let mut p = put_req("b", Some("k"), "v");
    p.r#type = Some(b"default".to_vec());
    put(&mut c, &p).await;
    assert_eq!(get(&mut c, &get_req("b", "k")).await.content.len(), 1);
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vclock_this_server_did_not_issue_is_refused() {
    let server = Server::start().await;
    let mut c = server.client().await;
    let mut req = put_req("b", Some("k"), "v");
    req.vclock = Some(b"\x83garbage".to_vec());
    let msg = c.call_err(MsgCode::PutReq, &req).await;
    assert!(msg.starts_with("Invalid vclock: "), "{msg}");
    let mut g = get_req("b", "k");
    g.if_modified = Some(b"\x83garbage".to_vec());
    let msg = c.call_err(MsgCode::GetReq, &g).await;
    assert!(msg.starts_with("Invalid vclock: "), "{msg}");
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_frames_have_errcode_zero() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.send(MsgCode::GetReq, &get_req("", "k")).await;
    let frame = c.recv().await;
    // errmsg() checks errcode == 0 as well as decoding.
    assert_eq!(errmsg(&frame), "Bucket cannot be zero-length");
    server.stop().await;
}

#[tokio::test]
async fn preflist_of_a_key() {
    use rill_proto::messages::{RpbGetBucketKeyPreflistReq, RpbGetBucketKeyPreflistResp};
    let server = Server::start().await;
    let mut c = server.client().await;
    let req = RpbGetBucketKeyPreflistReq {
        bucket: b"mybucket".to_vec(),
        key: b"mykey".to_vec(),
        r#type: None,
    };
    let resp: RpbGetBucketKeyPreflistResp = c
        .call(
            MsgCode::GetBucketKeyPreflistReq,
            &req,
            MsgCode::GetBucketKeyPreflistResp,
        )
        .await;
    let parts: Vec<i64> = resp.preflist.iter().map(|i| i.partition).collect();
    // The test server's ring has 16 partitions: mybucket/mykey hashes into
    // partition 7, so its preference list starts at 8 (31 on Riak's 64).
    assert_eq!(parts, vec![8, 9, 10]);
    assert!(resp.preflist.iter().all(|i| i.primary));
    let req = RpbGetBucketKeyPreflistReq {
        bucket: Vec::new(),
        key: b"k".to_vec(),
        r#type: None,
    };
    let err = c.call_err(MsgCode::GetBucketKeyPreflistReq, &req).await;
    assert_eq!(err, "Bucket cannot be zero-length");
    server.stop().await;
}
