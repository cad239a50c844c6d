//! The cluster client against fake nodes: per-key coordinator affinity and
//! failover when a node cannot be reached.

mod common;

use bytes::Bytes;
use common::{FakeNode, dead_addr};
use rill_client::{ClusterClient, Content, GetOptions, PutOptions};

mod affinity {
    use super::*;

    #[tokio::test]
    async fn each_key_goes_to_its_ring_primary() {
        let a = FakeNode::start().await;
        let b = FakeNode::start().await;
        let client = ClusterClient::new([a.addr.clone(), b.addr.clone()], 2).unwrap();
        for i in 0..40 {
            let key = format!("k{i}");
            client
                .put(
                    "b",
                    Some(key.as_bytes()),
                    &Content::new("v", "text/plain"),
                    &PutOptions::default(),
                )
                .await
                .unwrap();
            client
                .get("b", &key, &GetOptions::default())
                .await
                .unwrap()
                .unwrap();
        }
        for node in [&a, &b] {
            let seen = node.seen_keys.lock().unwrap().clone();
            assert!(!seen.is_empty(), "one node got no keys");
            for key in seen {
                let ring_key: (&[u8], &[u8], &[u8]) = (b"default", b"b", &key);
                assert_eq!(client.ring().primary(&ring_key), Some(node.addr.as_str()));
            }
        }
    }
}

mod failover {
    use super::*;

    #[tokio::test]
    async fn unreachable_node_is_skipped_for_the_next_one() {
        let live = FakeNode::start().await;
        let dead = dead_addr().await;
        let client = ClusterClient::new([dead.clone(), live.addr.clone()], 1).unwrap();
        for i in 0..30 {
            let key = format!("k{i}");
            client
                .put(
                    "b",
                    Some(key.as_bytes()),
                    &Content::new("v", "text/plain"),
                    &PutOptions::default(),
                )
                .await
                .unwrap();
            let obj = client
                .get("b", &key, &GetOptions::default())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(obj.value(), Some(&Bytes::from_static(b"v")));
        }
        assert_eq!(live.seen_keys.lock().unwrap().len(), 60);
        client.ping().await.unwrap();
    }

    #[tokio::test]
    async fn all_nodes_down_reports_a_connect_error() {
        let client = ClusterClient::new([dead_addr().await, dead_addr().await], 1).unwrap();
        let err = client
            .get("b", "k", &GetOptions::default())
            .await
            .unwrap_err();
        assert!(err.is_unsent(), "{err:?}");
    }
}
