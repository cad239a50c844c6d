//! The simulated network under core's RPC: calls, total loss, partitions,
//! duplicates, delays with per-link order, crashes, and seeded determinism.

use rill_core::CoreError;
use rill_core::net::{Envelope, Msg, Rpc, ServiceId, Transport};
use rill_testkit::sim::SimNetwork;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

const ECHO: ServiceId = 100;
const T: Duration = Duration::from_secs(5);
const SHORT: Duration = Duration::from_millis(200);

fn rpc(net: &SimNetwork, node: &str) -> Rpc {
    let rpc = Rpc::new(net.transport(node));
    let me = node.to_string();
    rpc.register_fn(ECHO, move |from, mut p| {
        let me = me.clone();
        async move {
            p.extend_from_slice(format!("|{from}->{me}").as_bytes());
            Ok(p)
        }
    });
    rpc
}

fn n(s: &str) -> String {
    s.to_string()
}

/// Waits (bounded) until `cond` holds; a guard against hangs, not a timing check.
async fn eventually(mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition never held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_rpc_between_two_nodes() {
    let net = SimNetwork::new(1);
    let a = rpc(&net, "a");
    let b = rpc(&net, "b");
    assert_eq!(
        a.call(&n("b"), ECHO, b"x".to_vec(), T).await.unwrap(),
        b"x|a->b"
    );
    assert_eq!(
        b.call(&n("a"), ECHO, b"y".to_vec(), T).await.unwrap(),
        b"y|b->a"
    );
    assert_eq!(
        a.call(&n("a"), ECHO, b"z".to_vec(), T).await.unwrap(),
        b"z|a->a"
    );
    a.ping(&n("b"), T).await.unwrap();
    assert!(a.last_heard(&n("b")).is_some());
    assert!(matches!(
        a.call(&n("b"), 999, vec![], T).await,
        Err(CoreError::Remote(_))
    ));
    assert_eq!(
        a.call(&n("nobody"), ECHO, vec![], T).await,
        Err(CoreError::Unreachable(n("nobody")))
    );
    assert_ne!(
        a.transport().peer_addr(&n("a")),
        a.transport().peer_addr(&n("b"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_total_loss_times_out() {
    let net = SimNetwork::new(2);
    let a = rpc(&net, "a");
    let _b = rpc(&net, "b");
    net.set_drop_rate(1.0);
    assert_eq!(
        a.call(&n("b"), ECHO, vec![], SHORT).await,
        Err(CoreError::Timeout)
    );
    assert_eq!(a.pending_calls(), 0);
    assert!(net.stats().dropped >= 1);
    net.set_drop_rate(0.0);
    assert!(a.call(&n("b"), ECHO, vec![], T).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_partition_then_heal() {
    let net = SimNetwork::new(3);
    let a = rpc(&net, "a");
    let _b = rpc(&net, "b");
    let c = rpc(&net, "c");
    net.partition(&["a", "b"], &["c"]);
    assert!(a.call(&n("b"), ECHO, vec![], T).await.is_ok());
    assert_eq!(
        a.call(&n("c"), ECHO, vec![], SHORT).await,
        Err(CoreError::Timeout)
    );
    assert_eq!(
        c.call(&n("b"), ECHO, vec![], SHORT).await,
        Err(CoreError::Timeout)
    );
    net.heal();
    assert!(a.call(&n("c"), ECHO, vec![], T).await.is_ok());
    assert!(c.call(&n("b"), ECHO, vec![], T).await.is_ok());

    net.isolate("b");
    assert_eq!(
        a.call(&n("b"), ECHO, vec![], SHORT).await,
        Err(CoreError::Timeout)
    );
    assert!(a.call(&n("c"), ECHO, vec![], T).await.is_ok());
    net.heal();
    assert!(a.call(&n("b"), ECHO, vec![], T).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_duplicates_do_not_break_rpc() {
    let net = SimNetwork::new(4);
    let a = rpc(&net, "a");
    let b = rpc(&net, "b");
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    b.register_fn(7, move |_, p| {
        r.fetch_add(1, Ordering::SeqCst);
        async move { Ok(p) }
    });
    net.set_duplicate_rate(1.0);
    net.set_delay(Duration::from_millis(1), Duration::from_millis(5));
    for i in 0..50u32 {
        let p = i.to_be_bytes().to_vec();
        assert_eq!(a.call(&n("b"), 7, p.clone(), T).await.unwrap(), p);
    }
    // Every request ran twice; the extra replies were ignored.
    eventually(|| runs.load(Ordering::SeqCst) == 100).await;
    assert_eq!(a.pending_calls(), 0);
    assert!(net.stats().duplicated >= 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_delays_keep_each_link_in_order() {
    let net = SimNetwork::new(5);
    let ta = net.transport("a");
    let tb = net.transport("b");
    let (tx, mut rx) = mpsc::channel(1024);
    tb.set_inbound(rill_core::net::inbound_channel(tx));
    net.set_delay(Duration::from_millis(0), Duration::from_millis(20));
    for i in 0..200u32 {
        let env = Envelope {
            from: n("a"),
            msg: Msg::Cast {
                service: 1,
                payload: i.to_be_bytes().to_vec(),
            },
        };
        ta.send(&n("b"), env).unwrap();
    }
    for i in 0..200u32 {
        let env = tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap();
        match env.msg {
            Msg::Cast { payload, .. } => assert_eq!(payload, i.to_be_bytes()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(tb.last_heard(&n("a")).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_crash_and_restart() {
    let net = SimNetwork::new(6);
    let a = rpc(&net, "a");
    let b = rpc(&net, "b");
    assert!(a.call(&n("b"), ECHO, vec![], T).await.is_ok());

    net.crash("b");
    assert!(net.is_crashed("b"));
    assert_eq!(
        a.call(&n("b"), ECHO, vec![], SHORT).await,
        Err(CoreError::Timeout)
    );
    // A crashed node's sends vanish.
    assert_eq!(
        b.call(&n("a"), ECHO, vec![], SHORT).await,
        Err(CoreError::Timeout)
    );

    net.restart("b");
    let _b2 = rpc(&net, "b");
    assert_eq!(
        a.call(&n("b"), ECHO, b"again".to_vec(), T).await.unwrap(),
        b"again|a->b"
    );
}

/// Which of 200 casts arrive under a 50 % drop rate, for a given seed.
async fn survivors(seed: u64) -> Vec<u32> {
    let net = SimNetwork::new(seed);
    let ta = net.transport("a");
    let tb = net.transport("b");
    let (tx, mut rx) = mpsc::channel(1024);
    tb.set_inbound(rill_core::net::inbound_channel(tx));
    net.set_drop_rate(0.5);
    for i in 0..200u32 {
        let env = Envelope {
            from: n("a"),
            msg: Msg::Cast {
                service: 1,
                payload: i.to_be_bytes().to_vec(),
            },
        };
        ta.send(&n("b"), env).unwrap();
    }
    let stats = net.stats();
    let mut got = Vec::new();
    for _ in 0..stats.sent - stats.dropped {
        let env = tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap();
        if let Msg::Cast { payload, .. } = env.msg {
            got.push(u32::from_be_bytes(payload.try_into().unwrap()));
        }
    }
    got
}

#[tokio::test]
async fn sim_same_seed_same_faults() {
    let one = survivors(42).await;
    assert_eq!(one, survivors(42).await);
    assert_ne!(one, survivors(43).await);
    assert!(!one.is_empty() && one.len() < 200);
}
