//! Listing and bucket properties over raw PB frames: list keys (always
//! streamed, ending with `done`), list buckets (single reply or streamed),
//! bucket props get / set / reset, bucket-type props, and their errors.

mod common;

use std::collections::BTreeSet;

use common::{Client, Server, errmsg};
use rill_proto::MsgCode;
use rill_proto::messages::{
    RpbBucketProps, RpbContent, RpbGetBucketReq, RpbGetBucketResp, RpbGetBucketTypeReq,
    RpbListBucketsReq, RpbListBucketsResp, RpbListKeysReq, RpbListKeysResp, RpbPutReq,
    RpbResetBucketReq, RpbSetBucketReq, RpbSetBucketTypeReq,
};
use rill_proto::quorum;
use serde_json::json;

async fn store(c: &mut Client, bucket_type: Option<&str>, bucket: &str, key: &str) {
    let req = RpbPutReq {
        bucket: bucket.as_bytes().to_vec(),
        key: Some(key.as_bytes().to_vec()),
        content: RpbContent {
            value: b"v".to_vec(),
            ..RpbContent::default()
        },
        r#type: bucket_type.map(|t| t.as_bytes().to_vec()),
        ..RpbPutReq::default()
    };
    let frame = c.call_empty(MsgCode::PutReq, &req).await;
    assert_eq!(frame.code, 12);
}

/// Reads a list-keys stream to its end, checking its shape.
async fn read_key_stream(c: &mut Client) -> BTreeSet<Vec<u8>> {
    let mut keys = BTreeSet::new();
    loop {
        let frame = c.recv().await;
        if frame.code == 0 {
            panic!("list keys failed: {}", errmsg(&frame));
        }
        assert_eq!(frame.code, 18);
        let resp: RpbListKeysResp = prost::Message::decode(frame.body.as_ref()).unwrap();
        if resp.done == Some(true) {
            assert!(resp.keys.is_empty(), "the done frame carries no keys");
            return keys;
        }
        assert_eq!(resp.done, None);
        assert!(!resp.keys.is_empty(), "no empty batches mid-stream");
        for k in resp.keys {
            assert!(keys.insert(k), "each key is listed once");
        }
    }
}

fn names(n: usize, prefix: &str) -> BTreeSet<Vec<u8>> {
    (0..n)
        .map(|i| format!("{prefix}{i}").into_bytes())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_is_streamed_and_ends_with_done() {
    let server = Server::start().await;
    server.create_type("t", json!({})).await;
    let mut c = server.client().await;
    for i in 0..40 {
        store(&mut c, None, "keys", &format!("k{i}")).await;
    }
    store(&mut c, None, "elsewhere", "x").await;
    store(&mut c, Some("t"), "keys", "typed").await;

    let req = RpbListKeysReq {
        bucket: b"keys".to_vec(),
        timeout: Some(10_000),
        r#type: None,
    };
    c.send(MsgCode::ListKeysReq, &req).await;
    assert_eq!(read_key_stream(&mut c).await, names(40, "k"));

    // The typed bucket of the same name holds only its own key.
    let typed = RpbListKeysReq {
        r#type: Some(b"t".to_vec()),
        ..req.clone()
    };
    c.send(MsgCode::ListKeysReq, &typed).await;
    assert_eq!(
        read_key_stream(&mut c).await,
        BTreeSet::from([b"typed".to_vec()])
    );

    // An empty bucket: just the done frame.
    let empty = RpbListKeysReq {
        bucket: b"nothing-here".to_vec(),
        timeout: None,
        r#type: None,
    };
    c.send(MsgCode::ListKeysReq, &empty).await;
    assert!(read_key_stream(&mut c).await.is_empty());

    let unknown = RpbListKeysReq {
        r#type: Some(b"nope".to_vec()),
        ..req
    };
    assert_eq!(
        c.call_err(MsgCode::ListKeysReq, &unknown).await,
        "No bucket-type named 'nope'"
    );
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_during_a_stream_is_answered_after_it() {
    let server = Server::start().await;
    let mut c = server.client().await;
    for i in 0..20 {
        store(&mut c, None, "b", &format!("k{i}")).await;
    }
    let req = RpbListKeysReq {
        bucket: b"b".to_vec(),
        timeout: None,
        r#type: None,
    };
    let mut bytes = rill_proto::encode_msg_bytes(MsgCode::ListKeysReq, &req).to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 1, 1]);
    c.send_raw(&bytes).await;
    assert_eq!(read_key_stream(&mut c).await, names(20, "k"));
    let frame = c.recv().await;
    assert_eq!((frame.code, frame.body.len()), (2, 0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_buckets_single_reply_and_streamed() {
    let server = Server::start().await;
    server.create_type("t", json!({})).await;
    let mut c = server.client().await;
    for b in 0..12 {
        for k in 0..3 {
            store(&mut c, None, &format!("b{b}"), &format!("k{k}")).await;
        }
    }
    store(&mut c, Some("t"), "typed", "k").await;

    let plain = RpbListBucketsReq::default();
    let resp: RpbListBucketsResp = c
        .call(MsgCode::ListBucketsReq, &plain, MsgCode::ListBucketsResp)
        .await;
    assert_eq!(resp.done, None, "a single reply has no done flag");
    let got: BTreeSet<_> = resp.buckets.iter().cloned().collect();
    assert_eq!(got.len(), resp.buckets.len(), "each bucket once");
    assert_eq!(got, names(12, "b"));

    let streamed = RpbListBucketsReq {
        stream: Some(true),
        timeout: Some(10_000),
        r#type: None,
    };
    c.send(MsgCode::ListBucketsReq, &streamed).await;
    let mut got = BTreeSet::new();
    loop {
        let frame = c.recv().await;
        assert_eq!(frame.code, 16);
        let resp: RpbListBucketsResp = prost::Message::decode(frame.body.as_ref()).unwrap();
        for b in resp.buckets {
            assert!(got.insert(b), "each bucket once");
        }
        if resp.done == Some(true) {
            break;
        }
    }
    assert_eq!(got, names(12, "b"));

    let typed = RpbListBucketsReq {
        r#type: Some(b"t".to_vec()),
        ..RpbListBucketsReq::default()
    };
    let resp: RpbListBucketsResp = c
        .call(MsgCode::ListBucketsReq, &typed, MsgCode::ListBucketsResp)
        .await;
    assert_eq!(resp.buckets, vec![b"typed".to_vec()]);

    let unknown = RpbListBucketsReq {
        r#type: Some(b"nope".to_vec()),
        ..RpbListBucketsReq::default()
    };
    assert_eq!(
        c.call_err(MsgCode::ListBucketsReq, &unknown).await,
        "No bucket-type named 'nope'"
    );
    server.stop().await;
}

async fn bucket_props(c: &mut Client, bucket_type: Option<&str>, bucket: &str) -> RpbBucketProps {
    let req = RpbGetBucketReq {
        bucket: bucket.as_bytes().to_vec(),
        r#type: bucket_type.map(|t| t.as_bytes().to_vec()),
    };
    let resp: RpbGetBucketResp = c
        .call(MsgCode::GetBucketReq, &req, MsgCode::GetBucketResp)
        .await;
    resp.props
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_props_get_set_reset() {
    let server = Server::start().await;
    let mut c = server.client().await;

    let props = bucket_props(&mut c, None, "b").await;
    assert_eq!(props.n_val, Some(3));
    assert_eq!(props.allow_mult, Some(false));
    assert_eq!(props.last_write_wins, Some(false));
    assert_eq!(props.r, Some(quorum::QUORUM));
    assert_eq!(props.w, Some(quorum::QUORUM));
    assert_eq!(props.pr, Some(0));
    assert_eq!(props.notfound_ok, Some(true));
    assert_eq!(props.basic_quorum, Some(false));
    assert_eq!(props.has_precommit, Some(true));
    assert_eq!(
        props.chash_keyfun.as_ref().map(|m| m.function.clone()),
        Some(b"chash_std_keyfun".to_vec())
    );

    let set = RpbSetBucketReq {
        bucket: b"b".to_vec(),
        props: RpbBucketProps {
            n_val: Some(2),
            allow_mult: Some(true),
            r: Some(quorum::ONE),
            ..RpbBucketProps::default()
        },
        r#type: None,
    };
    let frame = c.call_empty(MsgCode::SetBucketReq, &set).await;
    assert_eq!((frame.code, frame.body.len()), (22, 0));
    let props = bucket_props(&mut c, None, "b").await;
    assert_eq!(props.n_val, Some(2));
    assert_eq!(props.allow_mult, Some(true));
    assert_eq!(props.r, Some(quorum::ONE));
    assert_eq!(
        props.w,
        Some(quorum::QUORUM),
        "unset fields keep their value"
    );
    // Other buckets are untouched.
    assert_eq!(bucket_props(&mut c, None, "other").await.n_val, Some(3));

    let reset = RpbResetBucketReq {
        bucket: b"b".to_vec(),
        r#type: None,
    };
    let frame = c.call_empty(MsgCode::ResetBucketReq, &reset).await;
    assert_eq!((frame.code, frame.body.len()), (30, 0));
    let props = bucket_props(&mut c, None, "b").await;
    assert_eq!(props.n_val, Some(3));
    assert_eq!(props.allow_mult, Some(false));

    let bad = RpbSetBucketReq {
        bucket: b"b".to_vec(),
        props: RpbBucketProps {
            n_val: Some(0),
            ..RpbBucketProps::default()
        },
        r#type: None,
    };
    assert_eq!(
        c.call_err(MsgCode::SetBucketReq, &bad).await,
        "Invalid bucket properties: [{n_val,not_integer}]"
    );

    let unknown = RpbGetBucketReq {
        bucket: b"b".to_vec(),
        r#type: Some(b"nope".to_vec()),
    };
    assert_eq!(
        c.call_err(MsgCode::GetBucketReq, &unknown).await,
        "No bucket-type named 'nope'"
    );
    let unknown_set = RpbSetBucketReq {
        r#type: Some(b"nope".to_vec()),
        ..set
    };
    assert_eq!(
        c.call_err(MsgCode::SetBucketReq, &unknown_set).await,
        "No bucket-type named 'nope'"
    );
    c.ping().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_type_props() {
    let server = Server::start().await;
    server.create_type("mult", json!({"n_val": 2})).await;
    let mut c = server.client().await;

    let get_type = |t: &str| RpbGetBucketTypeReq {
        r#type: t.as_bytes().to_vec(),
    };
    let resp: RpbGetBucketResp = c
        .call(
            MsgCode::GetBucketTypeReq,
            &get_type("mult"),
            MsgCode::GetBucketResp,
        )
        .await;
    assert_eq!(resp.props.n_val, Some(2));
    assert_eq!(
        resp.props.allow_mult,
        Some(true),
        "custom types default to allow_mult"
    );
    let resp: RpbGetBucketResp = c
        .call(
            MsgCode::GetBucketTypeReq,
            &get_type("default"),
            MsgCode::GetBucketResp,
        )
        .await;
    assert_eq!(resp.props.allow_mult, Some(false));

    // A bucket in the type inherits its props.
    let props = bucket_props(&mut c, Some("mult"), "any").await;
    assert_eq!(props.n_val, Some(2));
    assert_eq!(props.allow_mult, Some(true));

    let set = RpbSetBucketTypeReq {
        r#type: b"mult".to_vec(),
        props: RpbBucketProps {
            notfound_ok: Some(false),
            ..RpbBucketProps::default()
        },
    };
    let frame = c.call_empty(MsgCode::SetBucketTypeReq, &set).await;
    assert_eq!((frame.code, frame.body.len()), (22, 0));
    let resp: RpbGetBucketResp = c
        .call(
            MsgCode::GetBucketTypeReq,
            &get_type("mult"),
            MsgCode::GetBucketResp,
        )
        .await;
    assert_eq!(resp.props.notfound_ok, Some(false));
    assert_eq!(
        bucket_props(&mut c, Some("mult"), "any").await.notfound_ok,
        Some(false)
    );

    assert_eq!(
        c.call_err(MsgCode::GetBucketTypeReq, &get_type("nope"))
            .await,
        "Invalid bucket type: <<\"nope\">>"
    );
    let unknown_set = RpbSetBucketTypeReq {
        r#type: b"nope".to_vec(),
        ..set.clone()
    };
    assert_eq!(
        c.call_err(MsgCode::SetBucketTypeReq, &unknown_set).await,
        "Invalid bucket properties: not_active"
    );
    let default_set = RpbSetBucketTypeReq {
        r#type: b"default".to_vec(),
        ..set
    };
    assert_eq!(
        c.call_err(MsgCode::SetBucketTypeReq, &default_set).await,
        "Invalid bucket properties: no_default_update"
    );
    c.ping().await;
    server.stop().await;
}
