//! In-test fake nodes: a small PB server and a small HTTP/1.1 server over
//! loopback, each keeping objects in memory, so the SDK can be tested
//! without a real node. Special keys trigger faults: `slow` never gets an
//! answer, `drop` closes the connection, `overload` gets an error reply.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rill_proto::messages::*;
use rill_proto::{Frame, FrameCodec, Request, Response};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

type ObjKey = (Vec<u8>, Vec<u8>, Vec<u8>);

#[derive(Default)]
struct State {
    objects: BTreeMap<ObjKey, (u64, RpbContent)>,
    props: HashMap<Vec<u8>, RpbBucketProps>,
    generated: u64,
}

/// A fake PB node listening on a loopback port.
#[derive(Clone)]
pub struct FakeNode {
    pub addr: String,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
    /// Keys of the get/put/delete requests this node served, in order.
    pub seen_keys: Arc<Mutex<Vec<Vec<u8>>>>,
    state: Arc<Mutex<State>>,
}

enum Action {
    Reply(Vec<Frame>),
    Close,
    Hang,
}

impl FakeNode {
    pub async fn start() -> FakeNode {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let node = FakeNode {
            addr: listener.local_addr().unwrap().to_string(),
            accepted: Arc::default(),
            seen_keys: Arc::default(),
            state: Arc::default(),
        };
        let server = node.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                server.accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(server.clone().serve(stream));
            }
        });
        node
    }

    async fn serve(self, stream: TcpStream) {
        let mut framed = Framed::new(stream, FrameCodec::default());
        while let Some(Ok(frame)) = framed.next().await {
            match self.handle(&frame) {
                Action::Reply(frames) => {
                    for f in frames {
                        if framed.send(f).await.is_err() {
                            return;
                        }
                    }
                }
                Action::Close => return,
                Action::Hang => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
            }
        }
    }

    fn seen(&self, key: &[u8]) -> Option<Action> {
        self.seen_keys.lock().unwrap().push(key.to_vec());
        match key {
            b"slow" => Some(Action::Hang),
            b"drop" => Some(Action::Close),
            b"overload" => Some(reply(Response::error("overload"))),
            _ => None,
        }
    }

    fn handle(&self, frame: &Frame) -> Action {
        let req = match Request::decode(frame) {
            Ok(req) => req,
            Err(e) => return reply(Response::error(format!("Message decoding error: {e}"))),
        };
        let btype = |t: &Option<Vec<u8>>| t.clone().unwrap_or_else(|| b"default".to_vec());
        let mut st = self.state.lock().unwrap();
        match req {
            Request::Ping => reply(Response::Ping),
            Request::GetServerInfo => reply(Response::GetServerInfo(RpbGetServerInfoResp {
                node: Some(b"fake@127.0.0.1".to_vec()),
                server_version: Some(b"3.0.16".to_vec()),
            })),
            Request::Get(req) => {
                if let Some(action) = self.seen(&req.key) {
                    return action;
                }
                let k = (btype(&req.r#type), req.bucket, req.key);
                reply(Response::Get(match st.objects.get(&k) {
                    Some((clock, content)) => RpbGetResp {
                        content: vec![content.clone()],
                        vclock: Some(clock.to_be_bytes().to_vec()),
                        unchanged: None,
                    },
                    None => RpbGetResp::default(),
                }))
            }
            Request::Put(req) => {
                if let Some(action) = req.key.as_deref().and_then(|k| self.seen(k)) {
                    return action;
                }
                let generated = req.key.is_none();
                let key = req.key.unwrap_or_else(|| {
                    st.generated += 1;
                    format!("gen-{}", st.generated).into_bytes()
                });
                let k = (btype(&req.r#type), req.bucket, key.clone());
                let clock = st.objects.get(&k).map_or(0, |(c, _)| *c) + 1;
                st.objects.insert(k, (clock, req.content.clone()));
                let body = req.return_body == Some(true);
                reply(Response::Put(RpbPutResp {
                    content: if body { vec![req.content] } else { vec![] },
                    vclock: body.then(|| clock.to_be_bytes().to_vec()),
                    key: generated.then_some(key),
                }))
            }
            Request::Del(req) => {
                if let Some(action) = self.seen(&req.key) {
                    return action;
                }
                st.objects
                    .remove(&(btype(&req.r#type), req.bucket, req.key));
                reply(Response::Del)
            }
            Request::ListKeys(req) => {
                let t = btype(&req.r#type);
                let keys: Vec<Vec<u8>> = st
                    .objects
                    .keys()
                    .filter(|(ot, ob, _)| *ot == t && *ob == req.bucket)
                    .map(|(_, _, k)| k.clone())
                    .collect();
                let mut frames: Vec<Frame> = keys
                    .chunks(2)
                    .map(|c| {
                        Response::ListKeys(RpbListKeysResp {
                            keys: c.to_vec(),
                            done: None,
                        })
                        .encode()
                    })
                    .collect();
                frames.push(
                    Response::ListKeys(RpbListKeysResp {
                        keys: vec![],
                        done: Some(true),
                    })
                    .encode(),
                );
                Action::Reply(frames)
            }
            Request::ListBuckets(req) => {
                let t = btype(&req.r#type);
                let mut buckets: Vec<Vec<u8>> = st
                    .objects
                    .keys()
                    .filter(|(ot, _, _)| *ot == t)
                    .map(|(_, b, _)| b.clone())
                    .collect();
                buckets.dedup();
                reply(Response::ListBuckets(RpbListBucketsResp {
                    buckets,
                    done: None,
                }))
            }
            Request::GetBucket(req) => {
                let props = st
                    .props
                    .get(&req.bucket)
                    .cloned()
                    .unwrap_or(RpbBucketProps {
                        n_val: Some(3),
                        allow_mult: Some(false),
                        ..RpbBucketProps::default()
                    });
                reply(Response::GetBucket(RpbGetBucketResp { props }))
            }
            Request::SetBucket(req) => {
                st.props.insert(req.bucket, req.props);
                reply(Response::SetBucket)
            }
            Request::ResetBucket(req) => {
                st.props.remove(&req.bucket);
                reply(Response::ResetBucket)
            }
            Request::Unknown(code) => {
                reply(Response::error(format!("Unknown message code: {code}")))
            }
            other => reply(Response::error(format!("not faked: {}", other.code()))),
        }
    }
}

fn reply(resp: Response) -> Action {
    Action::Reply(vec![resp.encode()])
}

/// A loopback address nothing listens on.
pub async fn dead_addr() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    addr
}

/// A request line and the `X-Riak-Vclock` it carried.
pub type LogEntry = (String, Option<String>);

/// A stored object: write count, content type, value.
type HttpObject = (u64, String, Vec<u8>);

/// A fake HTTP node: PUT stores the body and content type under the path,
/// GET returns it with an `X-Riak-Vclock` counting its writes, DELETE
/// removes it. Keep-alive; requests per connection are counted.
#[derive(Clone)]
pub struct FakeHttpNode {
    pub addr: String,
    pub accepted: Arc<AtomicUsize>,
    /// Request lines and vclock headers received, in order.
    pub log: Arc<Mutex<Vec<LogEntry>>>,
    objects: Arc<Mutex<HashMap<String, HttpObject>>>,
}

impl FakeHttpNode {
    pub async fn start() -> FakeHttpNode {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let node = FakeHttpNode {
            addr: listener.local_addr().unwrap().to_string(),
            accepted: Arc::default(),
            log: Arc::default(),
            objects: Arc::default(),
        };
        let server = node.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                server.accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(server.clone().serve(stream));
            }
        });
        node
    }

    async fn serve(self, stream: TcpStream) {
        let mut reader = BufReader::new(stream);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end().to_string();
            let mut headers = HashMap::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                    return;
                }
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((name, value)) = h.split_once(':') {
                    headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
                }
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            if reader.read_exact(&mut body).await.is_err() {
                return;
            }
            self.log
                .lock()
                .unwrap()
                .push((line.clone(), headers.get("x-riak-vclock").cloned()));
            let mut parts = line.split(' ');
            let method = parts.next().unwrap_or("");
            let target = parts.next().unwrap_or("");
            let path = target.split('?').next().unwrap_or("").to_string();
            let (status, extra, out): (&str, String, Vec<u8>) = {
                let mut objects = self.objects.lock().unwrap();
                match method {
                    "GET" if path == "/ping" => ("200 OK", String::new(), b"OK".to_vec()),
                    "GET" => match objects.get(&path) {
                        Some((clock, ct, value)) => (
                            "200 OK",
                            format!("Content-Type: {ct}\r\nX-Riak-Vclock: vc{clock}\r\n"),
                            value.clone(),
                        ),
                        None => (
                            "404 Object Not Found",
                            String::new(),
                            b"not found\n".to_vec(),
                        ),
                    },
                    "PUT" if path.ends_with("/keys/overload") => (
                        "503 Service Unavailable",
                        String::new(),
                        b"overload\n".to_vec(),
                    ),
                    "PUT" => {
                        let clock = objects.get(&path).map_or(0, |o| o.0) + 1;
                        let ct = headers.get("content-type").cloned().unwrap_or_default();
                        objects.insert(path, (clock, ct, body));
                        ("204 No Content", String::new(), Vec::new())
                    }
                    "DELETE" => match objects.remove(&path) {
                        Some(_) => ("204 No Content", String::new(), Vec::new()),
                        None => ("404 Object Not Found", String::new(), Vec::new()),
                    },
                    _ => ("405 Method Not Allowed", String::new(), Vec::new()),
                }
            };
            let head = format!(
                "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\n\r\n",
                out.len()
            );
            let stream = reader.get_mut();
            if stream.write_all(head.as_bytes()).await.is_err()
                || stream.write_all(&out).await.is_err()
            {
                return;
            }
        }
    }
}
