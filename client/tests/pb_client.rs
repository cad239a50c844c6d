//! The PB client against an in-test fake node: typed calls, error replies,
//! streamed listings, raw requests, and how pools handle broken connections.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use common::{FakeNode, dead_addr};
use rill_client::{
    Client, ClientError, ConnectOptions, Connection, Content, DeleteOptions, GetOptions,
    ListOptions, Pool, PutOptions, Quorum, RpbBucketProps,
};
use rill_proto::MsgCode;

mod objects {
    use super::*;

    #[tokio::test]
    async fn put_then_get_returns_value_and_context() {
        let node = FakeNode::start().await;
        let mut conn = Connection::connect(&node.addr).await.unwrap();
        conn.ping().await.unwrap();
        let info = conn.server_info().await.unwrap();
        assert_eq!(info.server_version.as_deref(), Some("3.0.16"));

        assert_eq!(
            conn.get("b", "k", &GetOptions::default()).await.unwrap(),
            None
        );
        let put = conn
            .put(
                "b",
                Some(b"k"),
                &Content::new("hello", "text/plain"),
                &PutOptions {
                    w: Some(Quorum::Quorum),
                    return_body: true,
                    ..PutOptions::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(put.key, None);
        assert_eq!(put.siblings.len(), 1);
        let obj = conn
            .get("b", "k", &GetOptions::default())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(obj.value(), Some(&Bytes::from_static(b"hello")));
        assert_eq!(obj.siblings[0].content_type.as_deref(), Some("text/plain"));
        assert_eq!(obj.vclock, put.vclock);

        conn.delete("b", "k", &DeleteOptions::default())
            .await
            .unwrap();
        assert_eq!(
            conn.get("b", "k", &GetOptions::default()).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn put_without_key_returns_the_generated_key() {
        let node = FakeNode::start().await;
        let mut conn = Connection::connect(&node.addr).await.unwrap();
        let put = conn
            .put(
                "b",
                None,
                &Content::new("v", "text/plain"),
                &PutOptions::default(),
            )
            .await
            .unwrap();
        let key = put.key.expect("generated key");
        let obj = conn.get("b", &key, &GetOptions::default()).await.unwrap();
        assert_eq!(obj.unwrap().value(), Some(&Bytes::from_static(b"v")));
    }

    #[tokio::test]
    async fn bucket_type_separates_keyspaces() {
        let node = FakeNode::start().await;
        let mut conn = Connection::connect(&node.addr).await.unwrap();
        let typed = PutOptions {
            bucket_type: Some(Bytes::from_static(b"t")),
            ..PutOptions::default()
        };
        conn.put("b", Some(b"k"), &Content::new("v", "text/plain"), &typed)
            .await
            .unwrap();
        assert_eq!(
            conn.get("b", "k", &GetOptions::default()).await.unwrap(),
            None
        );
        let get_typed = GetOptions {
            bucket_type: Some(Bytes::from_static(b"t")),
            ..GetOptions::default()
        };
        assert!(conn.get("b", "k", &get_typed).await.unwrap().is_some());
    }
}

mod errors {
    use super::*;

    #[tokio::test]
    async fn error_reply_is_riak_error_and_connection_stays_usable() {
        let node = FakeNode::start().await;
        let mut conn = Connection::connect(&node.addr).await.unwrap();
        let err = conn
            .get("b", "overload", &GetOptions::default())
            .await
            .unwrap_err();
        match &err {
            ClientError::Riak { errmsg, .. } => assert_eq!(errmsg, "overload"),
            other => panic!("expected a Riak error, got {other:?}"),
        }
        assert_eq!(err.kind(), "overload");
        assert!(!conn.is_broken());
        conn.ping().await.unwrap();
    }

    #[tokio::test]
    async fn raw_request_returns_frames_and_error_replies() {
        let node = FakeNode::start().await;
        let mut conn = Connection::connect(&node.addr).await.unwrap();
        let frame = conn
            .request(MsgCode::PingReq, &rill_proto::messages::RpbPingReq {})
            .await
            .unwrap();
        assert_eq!(frame.code, MsgCode::PingResp.as_u8());
        let err = conn
            .request_frame(&rill_proto::Frame::empty(MsgCode::GetClientIdResp))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Riak { ref errmsg, .. } if errmsg.contains("Unknown message code"))
        );
        conn.ping().await.unwrap();
    }

    #[tokio::test]
    async fn request_timeout_breaks_the_connection() {
        let node = FakeNode::start().await;
        let opts = ConnectOptions {
            request_timeout: Some(Duration::from_millis(100)),
            ..ConnectOptions::default()
        };
        let mut conn = Connection::connect_with(&node.addr, &opts).await.unwrap();
        let err = conn
            .get("b", "slow", &GetOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Timeout), "{err:?}");
        assert!(conn.is_broken());
        assert!(matches!(conn.ping().await, Err(ClientError::Closed)));
    }

    #[tokio::test]
    async fn connect_failure_is_unsent() {
        let addr = dead_addr().await;
        let err = Connection::connect(&addr).await.unwrap_err();
        assert!(err.is_unsent());
        assert_eq!(err.kind(), "connection");
    }
}

mod listing {
    use super::*;

    #[tokio::test]
    async fn list_keys_reads_every_streamed_batch() {
        let node = FakeNode::start().await;
        let mut conn = Connection::connect(&node.addr).await.unwrap();
        for i in 0..5 {
            let key = format!("k{i}");
            conn.put(
                "b",
                Some(key.as_bytes()),
                &Content::new("v", "text/plain"),
                &PutOptions::default(),
            )
            .await
            .unwrap();
        }
        conn.put(
            "other",
            Some(b"x"),
            &Content::new("v", "text/plain"),
            &PutOptions::default(),
        )
        .await
        .unwrap();
        let mut keys = conn.list_keys("b", &ListOptions::default()).await.unwrap();
        keys.sort();
        let expected: Vec<Bytes> = (0..5).map(|i| Bytes::from(format!("k{i}"))).collect();
        assert_eq!(keys, expected);
        // The stream ended cleanly, so the connection carries on.
        assert!(!conn.is_broken());
        let buckets = conn.list_buckets(&ListOptions::default()).await.unwrap();
        assert_eq!(buckets, vec![Bytes::from("b"), Bytes::from("other")]);
    }

    #[tokio::test]
    async fn abandoned_key_stream_leaves_connection_broken() {
        let node = FakeNode::start().await;
        let mut conn = Connection::connect(&node.addr).await.unwrap();
        for key in ["a", "b", "c"] {
            conn.put(
                "b",
                Some(key.as_bytes()),
                &Content::new("v", "text/plain"),
                &PutOptions::default(),
            )
            .await
            .unwrap();
        }
        {
            let mut stream = conn
                .stream_keys("b", &ListOptions::default())
                .await
                .unwrap();
            let first = stream.next().await.unwrap().unwrap();
            assert_eq!(first.len(), 2);
        }
        assert!(conn.is_broken());
    }
}

mod bucket_props {
    use super::*;

    #[tokio::test]
    async fn set_get_and_reset_round_trip() {
        let node = FakeNode::start().await;
        let client = Client::new(&node.addr, 2);
        let before = client.get_bucket_props("b", None).await.unwrap();
        assert_eq!(before.allow_mult, Some(false));
        client
            .set_bucket_props(
                "b",
                None,
                RpbBucketProps {
                    allow_mult: Some(true),
                    ..RpbBucketProps::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            client.get_bucket_props("b", None).await.unwrap().allow_mult,
            Some(true)
        );
        client.reset_bucket_props("b", None).await.unwrap();
        assert_eq!(
            client.get_bucket_props("b", None).await.unwrap().allow_mult,
            Some(false)
        );
    }
}

mod pool {
    use super::*;

    #[tokio::test]
    async fn pool_reuses_connections_and_reconnects_after_a_drop() {
        let node = FakeNode::start().await;
        let client = Client::new(&node.addr, 1);
        for _ in 0..3 {
            client.ping().await.unwrap();
        }
        assert_eq!(node.accepted.load(Ordering::SeqCst), 1);
        let err = client
            .get("b", "drop", &GetOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "connection", "{err:?}");
        client.ping().await.unwrap();
        assert_eq!(node.accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn pool_opens_at_most_its_size_under_concurrency() {
        let node = FakeNode::start().await;
        let client = Client::new(&node.addr, 3);
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let key = format!("k{i}");
                    client
                        .put(
                            "b",
                            Some(key.as_bytes()),
                            &Content::new("v", "text/plain"),
                            &PutOptions::default(),
                        )
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(node.accepted.load(Ordering::SeqCst) <= 3);
        assert_eq!(
            client
                .list_keys("b", &ListOptions::default())
                .await
                .unwrap()
                .len(),
            20
        );
    }

    #[tokio::test]
    async fn failed_connect_marks_the_node_suspect() {
        let pool = Pool::new(dead_addr().await, 2, ConnectOptions::default());
        assert!(!pool.is_suspect());
        assert!(pool.get().await.unwrap_err().is_unsent());
        assert!(pool.is_suspect());
    }
}
