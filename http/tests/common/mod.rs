//! Test harness: a one-node KV service on the in-memory backend behind the
//! HTTP server on port 0, and a raw HTTP/1.1 client that writes request bytes
//! itself and parses status line, headers and (possibly chunked) body.

#![allow(dead_code)]

use rill_kv::{DeleteMode, KvConfig, KvService};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub struct Node {
    pub addr: SocketAddr,
    pub kv: KvService,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Node {
    pub async fn start() -> Node {
        Node::start_with(KvConfig::default()).await
    }

    /// Tombstones are kept, so tests can see them after a delete.
    pub async fn start_keeping_tombstones() -> Node {
        Node::start_with(KvConfig {
            delete_mode: DeleteMode::Keep,
            ..KvConfig::default()
        })
        .await
    }

    pub async fn start_with(cfg: KvConfig) -> Node {
        Node::start_in(cfg, None).await
    }

    /// A node whose `/admin/cluster` API administers `cluster` (None: 501s).
    pub async fn start_in(cfg: KvConfig, cluster: Option<rill_http::ClusterCtl>) -> Node {
        let kv = KvService::open(cfg, rill_storage::memory()).expect("kv opens");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(rill_http::serve(
            listener,
            kv.clone(),
            cluster,
            async move {
                let _ = rx.await;
            },
        ));
        Node {
            addr,
            kv,
            stop: Some(tx),
            server: Some(server),
        }
    }

    /// A type with the given props JSON, created and activated.
    pub async fn make_type(&self, name: &str, props: serde_json::Value) {
        self.kv
            .create_type(name, rill_kv::PropsUpdate::Json(props))
            .await
            .expect("type created");
        self.kv.activate_type(name).await.expect("type activated");
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[], b"").await
    }

    pub async fn put(&self, path: &str, ctype: &str, body: &[u8]) -> Resp {
        self.req("PUT", path, &[("Content-Type", ctype)], body)
            .await
    }

    pub async fn req(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        Box::pin(request(self.addr, method, path, headers, body)).await
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self.kv.shutdown();
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }
}

/// Builds request bytes with `Host`, `Content-Length` and `Connection: close`.
pub fn build(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "PUT" | "POST") {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let head_only = method == "HEAD";
    // Boxed so that tests with many requests keep a small future.
    Box::pin(raw(addr, &build(method, path, headers, body), head_only)).await
}

/// Sends raw bytes and reads the whole response (the server closes).
pub async fn raw(addr: SocketAddr, bytes: &[u8], head_only: bool) -> Resp {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before reading all of a refused body.
    let _ = stream.write_all(bytes).await;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 65536];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if !buf.is_empty() => {
                eprintln!("read ended with {e} after {} bytes", buf.len());
                break;
            }
            Err(e) => panic!("no response: {e}"),
        }
    }
    parse(&buf, head_only)
}

pub fn parse(buf: &[u8], head_only: bool) -> Resp {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(buf)));
    let head = std::str::from_utf8(&buf[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(
        parts.next(),
        Some("HTTP/1.1"),
        "status line {status_line:?}"
    );
    let status: u16 = parts.next().unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("header line");
            (n.trim().to_string(), v.trim().to_string())
        })
        .collect();
    let rest = &buf[split + 4..];
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let body = if head_only || status == 204 || status == 304 {
        Vec::new()
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)
    } else if let Some(len) = find("content-length") {
        let len: usize = len.parse().unwrap();
        assert!(rest.len() >= len, "body shorter than Content-Length");
        rest[..len].to_vec()
    } else {
        rest.to_vec()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[..size]);
        assert_eq!(&data[size..size + 2], b"\r\n", "chunk terminator");
        data = &data[size + 2..];
    }
    out
}

/// A multipart part: its headers in order and its body.
pub type Part = (Vec<(String, String)>, Vec<u8>);

/// Splits a multipart body on its boundary into (headers, body) parts.
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("boundary parameter")
        .trim();
    let body = std::str::from_utf8(body).expect("test values are text");
    let delim = format!("\r\n--{boundary}");
    let mut parts = Vec::new();
    let mut pieces = body.split(delim.as_str());
    assert_eq!(pieces.next(), Some(""), "body starts with a delimiter");
    for piece in pieces {
        if piece == "--\r\n" {
            break;
        }
        let piece = piece.strip_prefix("\r\n").expect("CRLF after delimiter");
        let (head, value) = piece.split_once("\r\n\r\n").expect("part head");
        let headers = head
            .split("\r\n")
            .map(|l| {
                let (n, v) = l.split_once(": ").expect("part header");
                (n.to_string(), v.to_string())
            })
            .collect();
        parts.push((headers, value.as_bytes().to_vec()));
    }
    parts
}
