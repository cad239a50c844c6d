//! The HTTP transport against a fake HTTP node: object URLs, the vclock
//! header, status handling and keep-alive.

mod common;

use std::sync::atomic::Ordering;

use bytes::Bytes;
use common::{FakeHttpNode, dead_addr};
use rill_client::{HttpClient, HttpOptions, Quorum};

mod objects {
    use super::*;

    #[tokio::test]
    async fn put_get_delete_with_context_over_one_connection() {
        let node = FakeHttpNode::start().await;
        let client = HttpClient::new([node.addr.clone()], None).unwrap();
        client.ping().await.unwrap();
        let opts = HttpOptions {
            bucket_type: Some("t".into()),
            r: Some(Quorum::One),
            w: Some(Quorum::All),
        };
        assert_eq!(client.get("b", "k 1", &opts).await.unwrap(), None);
        client
            .put(
                "b",
                "k 1",
                Bytes::from_static(b"one"),
                "text/plain",
                None,
                &opts,
            )
            .await
            .unwrap();
        let got = client.get("b", "k 1", &opts).await.unwrap().unwrap();
        assert_eq!(got.value, Bytes::from_static(b"one"));
        assert_eq!(got.content_type.as_deref(), Some("text/plain"));
        assert_eq!(got.vclock.as_deref(), Some("vc1"));
        client
            .put(
                "b",
                "k 1",
                Bytes::from_static(b"two"),
                "text/plain",
                got.vclock.as_deref(),
                &opts,
            )
            .await
            .unwrap();
        client.delete("b", "k 1", &opts).await.unwrap();
        // Deleting again is a 404, which still counts as deleted.
        client.delete("b", "k 1", &opts).await.unwrap();

        let log = node.log.lock().unwrap().clone();
        assert_eq!(log[1].0, "GET /types/t/buckets/b/keys/k%201?r=one HTTP/1.1");
        assert_eq!(log[2].0, "PUT /types/t/buckets/b/keys/k%201?w=all HTTP/1.1");
        assert_eq!(log[2].1, None);
        assert_eq!(log[4].1.as_deref(), Some("vc1"));
        assert_eq!(
            node.accepted.load(Ordering::SeqCst),
            1,
            "keep-alive reuses the connection"
        );
    }

    #[tokio::test]
    async fn error_statuses_become_http_errors() {
        let node = FakeHttpNode::start().await;
        let client = HttpClient::new([node.addr.clone()], None).unwrap();
        let err = client
            .put(
                "b",
                "overload",
                Bytes::new(),
                "text/plain",
                None,
                &HttpOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "overload", "{err:?}");
    }

    #[tokio::test]
    async fn unreachable_node_is_a_connect_error() {
        let client = HttpClient::new([dead_addr().await], None).unwrap();
        let err = client
            .get("b", "k", &HttpOptions::default())
            .await
            .unwrap_err();
        assert!(err.is_unsent(), "{err:?}");
    }
}
