//! The TCP transport and RPC end to end on loopback: calls both ways, remote
//! errors, restarts on a new port, stopped peers, hostile frames, full
//! queues, and a throughput loop that prints its rate.

use super::*;
use crate::error::CoreError;
use bytes::{BufMut, Bytes};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ECHO: ServiceId = 100;
const FAIL: ServiceId = 101;
const PANIC: ServiceId = 102;
const T: Duration = Duration::from_secs(5);

fn name(s: &str) -> NodeName {
    format!("{s}@127.0.0.1")
}

async fn node_with(n: &str, cfg: NetConfig) -> (Arc<TcpTransport>, Rpc) {
    let t = TcpTransport::bind(name(n), "127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .unwrap();
    let rpc = Rpc::new(t.clone());
    let me = name(n);
    rpc.register_fn(ECHO, move |from, mut p| {
        let me = me.clone();
        async move {
            p.extend_from_slice(format!("|{from}->{me}").as_bytes());
            Ok(p)
        }
    });
    rpc.register_fn(FAIL, |_, _| async { Err("no such thing".to_string()) });
    rpc.register_fn(PANIC, |_, _| async { panic!("handler bug") });
    (t, rpc)
}

async fn node(n: &str) -> (Arc<TcpTransport>, Rpc) {
    node_with(n, NetConfig::default()).await
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
async fn net_rpc_both_ways_over_tcp() {
    let (ta, a) = node("a").await;
    let (tb, b) = node("b").await;
    ta.set_peer_addr(&name("b"), tb.local_addr());

    let got = a.call(&name("b"), ECHO, b"hi".to_vec(), T).await.unwrap();
    assert_eq!(got, b"hi|a@127.0.0.1->b@127.0.0.1");
    // b learned a's address from a's hello, so it can call back unaided.
    assert_eq!(tb.peer_addr(&name("a")), Some(ta.local_addr()));
    let got = b.call(&name("a"), ECHO, b"yo".to_vec(), T).await.unwrap();
    assert_eq!(got, b"yo|b@127.0.0.1->a@127.0.0.1");

    a.ping(&name("b"), T).await.unwrap();
    assert!(a.last_heard(&name("b")).is_some());
    assert!(b.last_heard(&name("a")).is_some());
    assert_eq!(a.pending_calls(), 0);
    let s = ta.stats();
    assert!(s.frames_sent >= 2 && s.frames_received >= 2, "{s:?}");
    assert_eq!(s.bad_connections, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_calls_to_self_stay_local() {
    let (ta, a) = node("a").await;
    let got = a.call(&name("a"), ECHO, b"x".to_vec(), T).await.unwrap();
    assert_eq!(got, b"x|a@127.0.0.1->a@127.0.0.1");
    assert_eq!(ta.stats().connects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_handler_errors_come_back_as_remote() {
    let (ta, a) = node("a").await;
    let (tb, _b) = node("b").await;
    ta.set_peer_addr(&name("b"), tb.local_addr());
    let b = name("b");
    assert_eq!(
        a.call(&b, FAIL, vec![], T).await,
        Err(CoreError::Remote("no such thing".into()))
    );
    assert!(matches!(
        a.call(&b, 999, vec![], T).await,
        Err(CoreError::Remote(m)) if m.contains("no handler for service 999")
    ));
    assert!(matches!(
        a.call(&b, PANIC, vec![], T).await,
        Err(CoreError::Remote(m)) if m.contains("panicked")
    ));
    // The node still serves after a handler panic.
    assert!(a.call(&b, ECHO, vec![], T).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_unknown_peer_is_unreachable() {
    let (_ta, a) = node("a").await;
    assert_eq!(
        a.call(&name("zed"), ECHO, vec![], T).await,
        Err(CoreError::Unreachable(name("zed")))
    );
    assert_eq!(a.pending_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_slow_handler_does_not_block_the_connection() {
    let (ta, a) = node("a").await;
    let (tb, b) = node("b").await;
    ta.set_peer_addr(&name("b"), tb.local_addr());
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    b.register_fn(7, move |_, _| {
        let g = g.clone();
        async move {
            g.notified().await;
            Ok(b"slow".to_vec())
        }
    });
    let a2 = a.clone();
    let slow = tokio::spawn(async move { a2.call(&name("b"), 7, vec![], T).await });
    // The fast call overtakes the slow one on the same connection.
    assert!(a.call(&name("b"), ECHO, vec![], T).await.is_ok());
    assert!(!slow.is_finished());
    gate.notify_one();
    assert_eq!(slow.await.unwrap().unwrap(), b"slow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_timeout_removes_the_pending_call() {
    let (ta, a) = node("a").await;
    let (tb, b) = node("b").await;
    ta.set_peer_addr(&name("b"), tb.local_addr());
    b.register_fn(7, |_, _| std::future::pending());
    let r = a
        .call(&name("b"), 7, vec![], Duration::from_millis(100))
        .await;
    assert_eq!(r, Err(CoreError::Timeout));
    assert_eq!(a.pending_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_peer_restarted_on_a_new_port() {
    let (ta, a) = node("a").await;
    let (tb, _b) = node("b").await;
    ta.set_peer_addr(&name("b"), tb.local_addr());
    assert!(a.call(&name("b"), ECHO, vec![1], T).await.is_ok());

    let old = tb.local_addr();
    tb.shutdown();
    drop(tb);
    let short = Duration::from_millis(300);
    assert!(a.call(&name("b"), ECHO, vec![2], short).await.is_err());

    let (tb2, b2) = node("b").await;
    assert_ne!(tb2.local_addr(), old);
    ta.set_peer_addr(&name("b"), tb2.local_addr());
    let got = a.call(&name("b"), ECHO, vec![3], T).await.unwrap();
    assert_eq!(got[0], 3);
    // And the new b reaches a through the address in a's hello.
    assert!(
        b2.call(&name("a"), ECHO, vec![4], T).await.is_ok(),
        "new b calls a"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_call_to_a_stopped_peer_fails() {
    let (ta, a) = node("a").await;
    let (tb, _b) = node("b").await;
    ta.set_peer_addr(&name("b"), tb.local_addr());
    assert!(a.call(&name("b"), ECHO, vec![], T).await.is_ok());
    tb.shutdown();
    let env = Envelope {
        from: name("b"),
        msg: Msg::Cast {
            service: ECHO,
            payload: vec![],
        },
    };
    assert_eq!(tb.send(&name("a"), env), Err(CoreError::Shutdown));
    drop(tb);
    let timeout = Duration::from_millis(500);
    // The first call may be written before the close is noticed (timeout);
    // once a connection attempt is refused the peer reads as unreachable.
    for _ in 0..3 {
        let r = a.call(&name("b"), ECHO, vec![], timeout).await;
        assert!(
            matches!(r, Err(CoreError::Timeout | CoreError::Unreachable(_))),
            "{r:?}"
        );
    }
    assert_eq!(a.pending_calls(), 0);
    assert!(ta.stats().connect_failures >= 1);
}

async fn read_to_close(mut s: TcpStream) {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(T, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => panic!("connection was not closed"),
        }
    }
}

fn raw_hello(node: &str) -> Bytes {
    let env = Envelope {
        from: node.into(),
        msg: Msg::Hello {
            node: node.into(),
            cluster_addr: "127.0.0.1:1".into(),
            protocol: 1,
        },
    };
    frame::encode(&env, DEFAULT_MAX_FRAME_LEN).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_bad_frames_close_only_their_connection() {
    let (ta, a) = node("a").await;
    let (tb, _b) = node("b").await;
    ta.set_peer_addr(&name("b"), tb.local_addr());
    assert!(a.call(&name("b"), ECHO, vec![], T).await.is_ok());

    // A length field far above the limit, after a valid hello.
    let mut s = TcpStream::connect(tb.local_addr()).await.unwrap();
    let mut bytes = raw_hello("evil").to_vec();
    bytes.put_u32(1 << 30);
    bytes.put_u8(1);
    s.write_all(&bytes).await.unwrap();
    read_to_close(s).await;

    // An unknown protocol version.
    let mut s = TcpStream::connect(tb.local_addr()).await.unwrap();
    s.write_all(&[0, 0, 0, 2, 9, 0x80]).await.unwrap();
    read_to_close(s).await;

    // A valid frame whose payload is not an envelope.
    let mut s = TcpStream::connect(tb.local_addr()).await.unwrap();
    let mut bytes = raw_hello("evil2").to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 3, 1, 0xc1, 0xc1]);
    s.write_all(&bytes).await.unwrap();
    read_to_close(s).await;

    // No hello at all: a request first.
    let mut s = TcpStream::connect(tb.local_addr()).await.unwrap();
    let req = Envelope {
        from: "evil3".into(),
        msg: Msg::Cast {
            service: ECHO,
            payload: vec![],
        },
    };
    s.write_all(&frame::encode(&req, DEFAULT_MAX_FRAME_LEN).unwrap())
        .await
        .unwrap();
    read_to_close(s).await;

    eventually(|| tb.stats().bad_connections == 4).await;
    // The established connection is untouched.
    for i in 0..10u8 {
        let got = a.call(&name("b"), ECHO, vec![i], T).await.unwrap();
        assert_eq!(got[0], i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_full_peer_queue_is_overload() {
    let cfg = NetConfig {
        peer_queue_len: 4,
        ..NetConfig::default()
    };
    let (ta, _a) = node_with("a", cfg).await;
    // A peer that accepts connections and never reads: the writer blocks
    // once the socket buffers fill, and the queue behind it fills up.
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ta.set_peer_addr(&name("sink"), sink.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((s, _)) = sink.accept().await {
            conns.push(s);
        }
    });
    let big = vec![7u8; 1 << 20];
    let mut overloaded = false;
    for _ in 0..500 {
        let env = Envelope {
            from: name("a"),
            msg: Msg::Cast {
                service: ECHO,
                payload: big.clone(),
            },
        };
        match ta.send(&name("sink"), env) {
            Ok(()) => tokio::task::yield_now().await,
            Err(CoreError::Overload) => {
                overloaded = true;
                break;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(overloaded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_ten_thousand_rpcs() {
    let (ta, a) = node("a").await;
    let (tb, _b) = node("b").await;
    ta.set_peer_addr(&name("b"), tb.local_addr());
    let b = name("b");
    let n = 10_000u32;

    let start = std::time::Instant::now();
    for i in 0..n {
        let got = a.call(&b, ECHO, i.to_be_bytes().to_vec(), T).await.unwrap();
        assert_eq!(got[..4], i.to_be_bytes());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sequential: {n} RPCs in {secs:.2} s = {:.0} round trips/s",
        n as f64 / secs
    );

    let done = Arc::new(AtomicUsize::new(0));
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..32u32 {
        let (a, b, done) = (a.clone(), b.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..n / 32 {
                let p = (w * n + i).to_be_bytes().to_vec();
                let got = a.call(&b, ECHO, p.clone(), T).await.unwrap();
                assert_eq!(got[..4], p[..]);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let total = done.load(Ordering::Relaxed);
    println!(
        "32 concurrent callers: {total} RPCs in {secs:.2} s = {:.0} RPCs/s",
        total as f64 / secs
    );
    assert_eq!(total, (n / 32 * 32) as usize);
    assert_eq!(a.pending_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_requests_in_flight_are_bounded() {
    const HOLD: ServiceId = 103;
    let (ta, a) = node("a").await;
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let gate = release.clone();
    a.register_fn(HOLD, move |_, _| {
        let gate = gate.clone();
        async move {
            let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
            Ok(Vec::new())
        }
    });
    let cast = || Envelope {
        from: name("a"),
        msg: Msg::Cast {
            service: HOLD,
            payload: Vec::new(),
        },
    };
    // Casts to itself go straight to the Rpc, which refuses once the bound
    // of running handlers is reached, and accepts again as they finish.
    for _ in 0..rpc::MAX_IN_FLIGHT {
        ta.send(&name("a"), cast()).unwrap();
    }
    assert_eq!(ta.send(&name("a"), cast()), Err(CoreError::Overload));
    release.add_permits(rpc::MAX_IN_FLIGHT);
    eventually(|| ta.send(&name("a"), cast()).is_ok()).await;
}
