//! Test harness: a PB server on 127.0.0.1:0 over an in-memory KV service,
//! and a raw client that writes and reads frames byte for byte.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use prost::Message;
use rill_kv::{DeleteMode, KvConfig, KvService, PropsUpdate};
use rill_pb::{PbConfig, serve};
use rill_proto::messages::RpbErrorResp;
use rill_proto::{Frame, MsgCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for any one reply.
pub const REPLY_WAIT: Duration = Duration::from_secs(10);

pub struct Server {
    pub addr: SocketAddr,
    pub kv: KvService,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

pub fn kv_config() -> KvConfig {
    KvConfig {
        node_name: "rill@127.0.0.1".into(),
        ring_size: 16,
        delete_mode: DeleteMode::Keep,
        ..KvConfig::default()
    }
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(PbConfig::default()).await
    }

    pub async fn start_with(cfg: PbConfig) -> Server {
        let kv = KvService::open(kv_config(), rill_storage::memory()).expect("open kv");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, kv.clone(), cfg, async move {
            let _ = rx.await;
        }));
        Server {
            addr,
            kv,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Creates and activates a bucket type with the given JSON props.
    pub async fn create_type(&self, name: &str, props: serde_json::Value) {
        self.kv
            .create_type(name, PropsUpdate::Json(props))
            .await
            .expect("create type");
        self.kv.activate_type(name).await.expect("activate type");
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(REPLY_WAIT, task)
                .await
                .expect("serve returns after shutdown")
                .expect("serve task")
                .expect("serve result");
        }
        self.kv.shutdown();
    }
}

pub struct Client {
    pub stream: TcpStream,
    buf: BytesMut,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.expect("connect"),
            buf: BytesMut::new(),
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Sends `msg` under `code`.
    pub async fn send<M: Message>(&mut self, code: MsgCode, msg: &M) {
        let bytes = rill_proto::encode_msg_bytes(code, msg);
        self.send_raw(&bytes).await;
    }

    /// Sends a frame with no body.
    pub async fn send_empty(&mut self, code: u8) {
        self.send_raw(&[0, 0, 0, 1, code]).await;
    }

    /// The next frame, or `None` when the server closed the connection
    /// (cleanly or by reset) before a whole frame arrived.
    pub async fn try_recv(&mut self) -> Option<Frame> {
        loop {
            if self.buf.len() >= 4 {
                let len = u32::from_be_bytes(self.buf[..4].try_into().unwrap()) as usize;
                if self.buf.len() >= 4 + len {
                    self.buf.advance(4);
                    let code = self.buf.get_u8();
                    let body = self.buf.split_to(len - 1).freeze();
                    return Some(Frame { code, body });
                }
            }
            let mut chunk = [0u8; 8192];
            let n = tokio::time::timeout(REPLY_WAIT, self.stream.read(&mut chunk))
                .await
                .expect("reply within the wait");
            match n {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    pub async fn recv(&mut self) -> Frame {
        self.try_recv()
            .await
            .expect("a frame, not a closed connection")
    }

    /// Waits for the server to close the connection, failing if a frame
    /// arrives first.
    pub async fn expect_closed(&mut self) {
        if let Some(f) = self.try_recv().await {
            panic!(
                "expected the connection to close, got frame code {}",
                f.code
            );
        }
    }

    /// Sends a request and decodes the reply as `R`, which must carry
    /// `expect`; an error reply fails the test with its text.
    pub async fn call<M: Message, R: Message + Default>(
        &mut self,
        code: MsgCode,
        msg: &M,
        expect: MsgCode,
    ) -> R {
        self.send(code, msg).await;
        let frame = self.recv().await;
        if frame.code == 0 {
            panic!("{} failed: {}", code.name(), errmsg(&frame));
        }
        assert_eq!(frame.code, expect.as_u8(), "reply code to {}", code.name());
        R::decode(frame.body.as_ref()).expect("decode reply")
    }

    /// Sends a request expecting a reply with no body; returns its code.
    pub async fn call_empty<M: Message>(&mut self, code: MsgCode, msg: &M) -> Frame {
        self.send(code, msg).await;
        self.recv().await
    }

    /// Sends a request expecting an `RpbErrorResp`; returns its text.
    pub async fn call_err<M: Message>(&mut self, code: MsgCode, msg: &M) -> String {
        self.send(code, msg).await;
        let frame = self.recv().await;
        assert_eq!(frame.code, 0, "expected an error reply to {}", code.name());
        errmsg(&frame)
    }

    /// A ping that must be answered with exactly `00 00 00 01 02`.
    pub async fn ping(&mut self) {
        self.send_empty(1).await;
        let frame = self.recv().await;
        assert_eq!(frame.code, 2, "ping reply code");
        assert!(frame.body.is_empty(), "ping reply body");
    }
}

/// The text of an `RpbErrorResp` frame; also checks `errcode` is 0.
pub fn errmsg(frame: &Frame) -> String {
    assert_eq!(frame.code, 0, "not an error frame");
    let e = RpbErrorResp::decode(frame.body.as_ref()).expect("decode RpbErrorResp");
    assert_eq!(e.errcode, 0, "errcode");
    String::from_utf8(e.errmsg).expect("utf-8 errmsg")
}
