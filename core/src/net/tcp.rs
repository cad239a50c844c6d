//! The production transport: frames over TCP on the cluster port.
//!
//! Each peer gets one outbound connection, fed by a bounded queue and a
//! writer task that connects on demand and backs off after failures.
//! Accepted connections are read-only: they start with `Hello` and carry
//! frames to the inbound receiver. Replies travel on the replier's own
//! outbound connection, to the address the requester announced.

use super::frame::{self, PROTOCOL_VERSION};
use super::{Envelope, Inbound, Msg, Transport};
use crate::error::{CoreError, Result};
use crate::ring::NodeName;
use bytes::Bytes;
use futures_util::StreamExt;
use rand::RngExt;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// Limits and timings of the TCP transport.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Largest frame accepted or sent (length field, in bytes).
    pub max_frame_len: usize,
    /// Frames queued per peer before `send` answers `Overload`.
    pub peer_queue_len: usize,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// How long an accepted connection may take to send its `Hello`.
    pub hello_timeout: Duration,
    /// First pause after a failed connection attempt; doubles up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// The address announced in `Hello` (default: the bound address; an
    /// unspecified IP there is replaced by the one the peer sees).
    pub advertise_addr: Option<SocketAddr>,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            max_frame_len: frame::DEFAULT_MAX_FRAME_LEN,
            peer_queue_len: 1024,
            connect_timeout: Duration::from_secs(2),
            hello_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
            advertise_addr: None,
        }
    }
}

/// Counters since `bind`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetStats {
    pub frames_sent: u64,
    pub frames_received: u64,
    /// Frames dropped because their peer could not be reached.
    pub frames_dropped: u64,
    pub connects: u64,
    pub connect_failures: u64,
    /// Inbound connections closed for a protocol error (bad length,
    /// version, payload or handshake).
    pub bad_connections: u64,
}

#[derive(Default)]
struct Counters {
    frames_sent: AtomicU64,
    frames_received: AtomicU64,
    frames_dropped: AtomicU64,
    connects: AtomicU64,
    connect_failures: AtomicU64,
    bad_connections: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// See the module docs. Dropping the last `Arc` (or `shutdown`) stops all
/// of its tasks.
pub struct TcpTransport {
    local: NodeName,
    local_addr: SocketAddr,
    cfg: NetConfig,
    /// This node's `Hello` frame, sent first on every outbound connection.
    hello: Bytes,
    runtime: Handle,
    peers: Mutex<HashMap<NodeName, Peer>>,
    inbound: RwLock<Option<Inbound>>,
    heard: Mutex<HashMap<NodeName, Instant>>,
    counters: Arc<Counters>,
    stop: CancellationToken,
}

#[derive(Clone)]
struct Peer {
    link: Arc<Link>,
    tx: mpsc::Sender<Bytes>,
}

/// What the sender side and the writer task share about one peer.
struct Link {
    node: NodeName,
    state: Mutex<LinkState>,
}

struct LinkState {
    addr: SocketAddr,
    /// Bumped when `addr` changes, so the writer drops its old connection.
    generation: u64,
    /// After a failed connection attempt: `send` answers `Unreachable`
    /// until then.
    down_until: Option<Instant>,
    backoff: Duration,
}

impl Link {
    fn target(&self) -> (SocketAddr, u64, bool) {
        let s = self.state.lock().expect("link lock");
        let down = s.down_until.is_some_and(|t| Instant::now() < t);
        (s.addr, s.generation, down)
    }

    fn is_down(&self) -> bool {
        self.target().2
    }

    fn connected(&self, min: Duration) {
        let mut s = self.state.lock().expect("link lock");
        s.down_until = None;
        s.backoff = min;
    }

    /// Records a failed attempt; returns the pause before the next one.
    fn failed(&self, max: Duration) -> Duration {
        let mut s = self.state.lock().expect("link lock");
        // Jitter to 50–100 % of the step, so peers don't retry in lockstep.
        let wait = s.backoff.mul_f64(rand::rng().random_range(0.5..=1.0));
        s.down_until = Some(Instant::now() + wait);
        s.backoff = (s.backoff * 2).min(max);
        wait
    }
}

impl TcpTransport {
    /// Listens on `addr` (port 0 picks a free port) as node `local`.
    pub async fn bind(
        local: NodeName,
        addr: SocketAddr,
        cfg: NetConfig,
    ) -> io::Result<Arc<TcpTransport>> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let advertise = cfg.advertise_addr.unwrap_or(local_addr);
        let hello = Envelope {
            from: local.clone(),
            msg: Msg::Hello {
                node: local.clone(),
                cluster_addr: advertise.to_string(),
                protocol: PROTOCOL_VERSION as u32,
            },
        };
        let hello = frame::encode(&hello, cfg.max_frame_len).map_err(io::Error::other)?;
        let t = Arc::new(TcpTransport {
            local,
            local_addr,
            cfg,
            hello,
            runtime: Handle::current(),
            peers: Mutex::new(HashMap::new()),
            inbound: RwLock::new(None),
            heard: Mutex::new(HashMap::new()),
            counters: Arc::default(),
            stop: CancellationToken::new(),
        });
        info!(node = %t.local, addr = %local_addr, "cluster transport listening");
        tokio::spawn(accept_loop(Arc::downgrade(&t), listener, t.stop.clone()));
        Ok(t)
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> NetStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        NetStats {
            frames_sent: get(&c.frames_sent),
            frames_received: get(&c.frames_received),
            frames_dropped: get(&c.frames_dropped),
            connects: get(&c.connects),
            connect_failures: get(&c.connect_failures),
            bad_connections: get(&c.bad_connections),
        }
    }

    fn deliver_local(&self, env: Envelope) -> Result<()> {
        super::deliver_local(self.inbound_receiver(), &self.local, env)
    }

    /// Records `addr` for `node`, creating its queue and writer if new.
    /// `alive` (a `Hello` just arrived from it) also lifts any back-off.
    fn learn(&self, node: &NodeName, addr: SocketAddr, alive: bool) {
        if self.stop.is_cancelled() || node == &self.local {
            return;
        }
        let mut peers = self.peers.lock().expect("peers lock");
        if let Some(peer) = peers.get(node) {
            let mut s = peer.link.state.lock().expect("link lock");
            if s.addr != addr {
                debug!(peer = %node, old = %s.addr, new = %addr, "peer address changed");
                s.addr = addr;
                s.generation += 1;
                s.down_until = None;
                s.backoff = self.cfg.backoff_min;
            } else if alive {
                s.down_until = None;
                s.backoff = self.cfg.backoff_min;
            }
            return;
        }
        let link = Arc::new(Link {
            node: node.clone(),
            state: Mutex::new(LinkState {
                addr,
                generation: 0,
                down_until: None,
                backoff: self.cfg.backoff_min,
            }),
        });
        let (tx, rx) = mpsc::channel(self.cfg.peer_queue_len.max(1));
        let writer = Writer {
            link: link.clone(),
            rx,
            hello: self.hello.clone(),
            cfg: self.cfg.clone(),
            counters: self.counters.clone(),
            stop: self.stop.clone(),
        };
        self.runtime.spawn(writer.run());
        peers.insert(node.clone(), Peer { link, tx });
    }

    fn heard_from(&self, node: &NodeName) {
        self.heard
            .lock()
            .expect("heard lock")
            .insert(node.clone(), Instant::now());
    }

    fn inbound_receiver(&self) -> Option<Inbound> {
        self.inbound.read().expect("inbound lock").clone()
    }
}

impl Drop for TcpTransport {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Transport for TcpTransport {
    fn local(&self) -> &NodeName {
        &self.local
    }

    fn send(&self, to: &NodeName, env: Envelope) -> Result<()> {
        if self.stop.is_cancelled() {
            return Err(CoreError::Shutdown);
        }
        if to == &self.local {
            return self.deliver_local(env);
        }
        let peer = self.peers.lock().expect("peers lock").get(to).cloned();
        let peer = peer.ok_or_else(|| CoreError::Unreachable(to.clone()))?;
        if peer.link.is_down() {
            return Err(CoreError::Unreachable(to.clone()));
        }
        let bytes = frame::encode(&env, self.cfg.max_frame_len)
            .map_err(|e| CoreError::Codec(e.to_string()))?;
        peer.tx.try_send(bytes).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => CoreError::Overload,
            mpsc::error::TrySendError::Closed(_) => CoreError::Shutdown,
        })
    }

    fn set_peer_addr(&self, node: &NodeName, addr: SocketAddr) {
        self.learn(node, addr, false);
    }

    fn peer_addr(&self, node: &NodeName) -> Option<SocketAddr> {
        let peers = self.peers.lock().expect("peers lock");
        let peer = peers.get(node)?;
        let addr = peer.link.state.lock().expect("link lock").addr;
        Some(addr)
    }

    fn set_inbound(&self, inbound: Inbound) {
        if !self.stop.is_cancelled() {
            *self.inbound.write().expect("inbound lock") = Some(inbound);
        }
    }

    fn last_heard(&self, node: &NodeName) -> Option<Instant> {
        self.heard.lock().expect("heard lock").get(node).copied()
    }

    /// Later `send`s answer `Shutdown`.
    fn shutdown(&self) {
        self.stop.cancel();
        *self.inbound.write().expect("inbound lock") = None;
        self.peers.lock().expect("peers lock").clear();
    }
}

/// Frames written between two flushes, at most.
const WRITE_BATCH: usize = 256;

/// The task that owns one peer's outbound connection.
struct Writer {
    link: Arc<Link>,
    rx: mpsc::Receiver<Bytes>,
    hello: Bytes,
    cfg: NetConfig,
    counters: Arc<Counters>,
    stop: CancellationToken,
}

struct Conn {
    generation: u64,
    rd: OwnedReadHalf,
    wr: BufWriter<OwnedWriteHalf>,
}

impl Conn {
    /// The peer never writes on our outbound connection, so readable
    /// means closed (end of stream or an error).
    fn is_closed(&self) -> bool {
        let mut buf = [0u8; 64];
        match self.rd.try_read(&mut buf) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        }
    }
}

impl Writer {
    async fn run(mut self) {
        let stop = self.stop.clone();
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = self.serve() => {}
        }
    }

    /// Returns when the queue closes (the transport dropped the peer).
    async fn serve(&mut self) {
        let node = self.link.node.clone();
        let mut conn: Option<Conn> = None;
        while let Some(first) = self.rx.recv().await {
            let (addr, generation, down) = self.link.target();
            if down {
                // Queued just before the last failure was recorded.
                self.drop_queued(1);
                continue;
            }
            if conn
                .as_ref()
                .is_some_and(|c| c.generation != generation || c.is_closed())
            {
                debug!(peer = %node, "outbound connection closed");
                conn = None;
            }
            if conn.is_none() {
                match self.connect(addr, generation).await {
                    Ok(c) => {
                        bump(&self.counters.connects, 1);
                        self.link.connected(self.cfg.backoff_min);
                        debug!(peer = %node, %addr, "connected");
                        conn = Some(c);
                    }
                    Err(e) => {
                        bump(&self.counters.connect_failures, 1);
                        let wait = self.link.failed(self.cfg.backoff_max);
                        let dropped = self.drop_queued(1);
                        warn!(peer = %node, %addr, error = %e, dropped, retry_after = ?wait,
                            "cannot connect to peer");
                        continue;
                    }
                }
            }
            let c = conn.as_mut().expect("connected above");
            let mut written = 0u64;
            let res = async {
                c.wr.write_all(&first).await?;
                written += 1;
                let mut yielded = false;
                while written < WRITE_BATCH as u64 {
                    let next = match self.rx.try_recv() {
                        Ok(next) => next,
                        // Under load more frames are on their way: let the
                        // tasks making them run once, then send them all in
                        // one write (each write is a syscall and a trip
                        // through the loopback or network stack). Idle, the
                        // queue stays empty and this costs one reschedule.
                        Err(_) if !yielded => {
                            yielded = true;
                            tokio::task::yield_now().await;
                            continue;
                        }
                        Err(_) => break,
                    };
                    c.wr.write_all(&next).await?;
                    written += 1;
                }
                c.wr.flush().await
            }
            .await;
            match res {
                Ok(()) => bump(&self.counters.frames_sent, written),
                Err(e) => {
                    // What the kernel had accepted may or may not arrive;
                    // callers rely on timeouts, not on this counter.
                    warn!(peer = %node, %addr, error = %e, "write to peer failed; reconnecting");
                    conn = None;
                }
            }
        }
    }

    async fn connect(&self, addr: SocketAddr, generation: u64) -> io::Result<Conn> {
        let stream = tokio::time::timeout(self.cfg.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        let (rd, wr) = stream.into_split();
        let mut wr = BufWriter::with_capacity(64 * 1024, wr);
        // Flushed together with the first frame.
        wr.write_all(&self.hello).await?;
        Ok(Conn { generation, rd, wr })
    }

    /// Drops `held` frames already taken plus everything queued; returns
    /// how many.
    fn drop_queued(&mut self, held: u64) -> u64 {
        let mut n = held;
        while self.rx.try_recv().is_ok() {
            n += 1;
        }
        bump(&self.counters.frames_dropped, n);
        n
    }
}

async fn accept_loop(t: Weak<TcpTransport>, listener: TcpListener, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, remote)) => {
                let Some(tt) = t.upgrade() else { return };
                let _ = stream.set_nodelay(true);
                let cfg = (tt.cfg.max_frame_len, tt.cfg.hello_timeout);
                drop(tt);
                let (t, stop) = (t.clone(), stop.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = serve_inbound(t, stream, remote, cfg.0, cfg.1) => {}
                    }
                });
            }
            Err(e) => {
                // Usually out of file descriptors: pause instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
        }
    }
}

/// Reads one accepted connection until it closes or breaks the protocol.
async fn serve_inbound(
    t: Weak<TcpTransport>,
    stream: TcpStream,
    remote: SocketAddr,
    max_frame_len: usize,
    hello_timeout: Duration,
) {
    let mut frames = FramedRead::new(stream, frame::codec(max_frame_len));
    let first = match tokio::time::timeout(hello_timeout, frames.next()).await {
        Ok(f) => f,
        Err(_) => Some(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no hello in time",
        ))),
    };
    let peer = match read_envelope(first) {
        Ok(Some(Envelope {
            from,
            msg:
                Msg::Hello {
                    node,
                    cluster_addr,
                    protocol,
                },
        })) if from == node && protocol == PROTOCOL_VERSION as u32 => {
            let Some(tt) = t.upgrade() else { return };
            if node == tt.local {
                warn!(%remote, "connection claims to be this node; closing");
                bump(&tt.counters.bad_connections, 1);
                return;
            }
            match resolve(&cluster_addr, remote) {
                Some(addr) => tt.learn(&node, addr, true),
                None => warn!(peer = %node, %cluster_addr, "unusable cluster address in hello"),
            }
            tt.heard_from(&node);
            node
        }
        Ok(None) => return,
        Ok(Some(other)) => {
            warn!(%remote, first = ?short(&other), "connection did not start with a valid hello; closing");
            if let Some(tt) = t.upgrade() {
                bump(&tt.counters.bad_connections, 1);
            }
            return;
        }
        Err(e) => {
            warn!(%remote, error = %e, "bad frame before hello; closing connection");
            if let Some(tt) = t.upgrade() {
                bump(&tt.counters.bad_connections, 1);
            }
            return;
        }
    };
    debug!(peer = %peer, %remote, "inbound connection");
    loop {
        let env = match read_envelope(frames.next().await) {
            Ok(Some(env)) => env,
            Ok(None) => {
                debug!(peer = %peer, "inbound connection closed");
                return;
            }
            Err(e) => {
                warn!(peer = %peer, %remote, error = %e, "bad frame; closing connection");
                if let Some(tt) = t.upgrade() {
                    bump(&tt.counters.bad_connections, 1);
                }
                return;
            }
        };
        let Some(tt) = t.upgrade() else { return };
        if env.from != peer {
            warn!(peer = %peer, from = %env.from, "frame from another node on this connection; closing");
            bump(&tt.counters.bad_connections, 1);
            return;
        }
        tt.heard_from(&peer);
        bump(&tt.counters.frames_received, 1);
        if matches!(env.msg, Msg::Hello { .. }) {
            continue;
        }
        let inbound = tt.inbound_receiver();
        drop(tt);
        let Some(inbound) = inbound else {
            debug!(peer = %peer, "no inbound receiver; frame dropped");
            continue;
        };
        // Waiting here pushes back on the sender through TCP.
        if !super::deliver_waiting(&inbound, env).await {
            debug!(peer = %peer, "inbound receiver closed; frame dropped");
        }
    }
}

fn read_envelope(
    next: Option<io::Result<bytes::BytesMut>>,
) -> std::result::Result<Option<Envelope>, String> {
    match next {
        None => Ok(None),
        Some(Err(e)) => Err(e.to_string()),
        Some(Ok(body)) => frame::decode(&body).map(Some).map_err(|e| e.to_string()),
    }
}

/// The advertised address, with an unspecified IP replaced by the one the
/// connection came from.
fn resolve(cluster_addr: &str, remote: SocketAddr) -> Option<SocketAddr> {
    let addr: SocketAddr = cluster_addr.parse().ok()?;
    if addr.ip().is_unspecified() {
        Some(SocketAddr::new(remote.ip(), addr.port()))
    } else {
        Some(addr)
    }
}

/// A log-friendly description of a message, without its payload.
fn short(env: &Envelope) -> String {
    match &env.msg {
        Msg::Hello { node, protocol, .. } => format!("hello from {node}, protocol {protocol}"),
        Msg::Request { id, service, .. } => format!("request {id} to service {service}"),
        Msg::Reply { id, .. } => format!("reply {id}"),
        Msg::Cast { service, .. } => format!("cast to service {service}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_advertised_ip_takes_the_remote_ip() {
        let remote: SocketAddr = "10.0.0.7:51000".parse().unwrap();
        assert_eq!(
            resolve("0.0.0.0:8099", remote),
            Some("10.0.0.7:8099".parse().unwrap())
        );
        assert_eq!(
            resolve("10.0.0.9:8099", remote),
            Some("10.0.0.9:8099".parse().unwrap())
        );
        assert_eq!(resolve("not an address", remote), None);
    }
}
