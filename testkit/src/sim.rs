//! A simulated network for in-process clusters: `SimTransport` implements
//! core's `Transport`, and `SimNetwork` decides each message's fate — drop,
//! duplicate, delay, partition, crash — from one seeded RNG.
//!
//! Like TCP, each ordered pair of nodes is a FIFO link; unlike TCP, the sim
//! can also duplicate messages. Time is tokio's, so paused clocks apply.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rill_core::net::{Envelope, Inbound, Transport};
use rill_core::{CoreError, NodeName};
use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::trace;

/// What happened to messages so far. `sent` counts accepted `send` calls
/// between distinct nodes; a duplicated message adds one to `duplicated`
/// and may then be delivered twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
}

/// The network all simulated nodes share. Cheap to clone.
#[derive(Clone)]
pub struct SimNetwork {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    runtime: Handle,
}

struct State {
    rng: StdRng,
    drop_rate: f64,
    dup_rate: f64,
    delay: (Duration, Duration),
    /// Ordered pairs that cannot talk (both directions are inserted).
    blocked: HashSet<(NodeName, NodeName)>,
    isolated: HashSet<NodeName>,
    nodes: HashMap<NodeName, Node>,
    links: HashMap<(NodeName, NodeName), Link>,
    stats: SimStats,
}

struct Node {
    addr: SocketAddr,
    inbound: Option<Inbound>,
    crashed: bool,
    /// Bumped by `crash`; a message in flight to an older epoch is lost.
    epoch: u64,
    heard: HashMap<NodeName, Instant>,
}

/// One direction between two nodes: a queue drained in order by a task.
struct Link {
    tx: mpsc::UnboundedSender<Delivery>,
    /// When the last queued message is due; later ones never overtake it.
    last_due: Instant,
}

struct Delivery {
    due: Instant,
    epoch: u64,
    env: Envelope,
}

impl State {
    fn can_talk(&self, from: &NodeName, to: &NodeName) -> bool {
        !(self.isolated.contains(from)
            || self.isolated.contains(to)
            || self.blocked.contains(&(from.clone(), to.clone())))
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (p >= 1.0 || self.rng.random::<f64>() < p)
    }

    fn pick_delay(&mut self) -> Duration {
        let (min, max) = self.delay;
        if max <= min {
            return min;
        }
        let nanos = self
            .rng
            .random_range(min.as_nanos() as u64..=max.as_nanos() as u64);
        Duration::from_nanos(nanos)
    }
}

impl SimNetwork {
    /// A network with no faults and no delay. Call inside a tokio runtime.
    pub fn new(seed: u64) -> SimNetwork {
        SimNetwork {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    rng: StdRng::seed_from_u64(seed),
                    drop_rate: 0.0,
                    dup_rate: 0.0,
                    delay: (Duration::ZERO, Duration::ZERO),
                    blocked: HashSet::new(),
                    isolated: HashSet::new(),
                    nodes: HashMap::new(),
                    links: HashMap::new(),
                    stats: SimStats::default(),
                }),
                runtime: Handle::current(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// The transport of `node`, joining it to the network if new. Calling
    /// it again for the same name gives another handle to the same node.
    pub fn transport(&self, node: &str) -> Arc<SimTransport> {
        let mut s = self.lock();
        let n = s.nodes.len() as u32 + 1;
        s.nodes.entry(node.to_string()).or_insert_with(|| Node {
            addr: SocketAddr::from((Ipv4Addr::from(0x0a00_0000 + n), 8099)),
            inbound: None,
            crashed: false,
            epoch: 0,
            heard: HashMap::new(),
        });
        Arc::new(SimTransport {
            node: node.to_string(),
            net: self.shared.clone(),
        })
    }

    /// Probability that a message is lost, `0.0..=1.0`.
    pub fn set_drop_rate(&self, p: f64) {
        self.lock().drop_rate = p;
    }

    /// Probability that a message is delivered twice, `0.0..=1.0`.
    pub fn set_duplicate_rate(&self, p: f64) {
        self.lock().dup_rate = p;
    }

    /// Each message's delay, uniform in `min..=max`.
    pub fn set_delay(&self, min: Duration, max: Duration) {
        self.lock().delay = (min, max);
    }

    /// Cuts every link between a node of `a` and a node of `b`, both ways.
    /// Messages already in flight across the cut are lost.
    pub fn partition<A: AsRef<str>, B: AsRef<str>>(&self, a: &[A], b: &[B]) {
        let mut s = self.lock();
        for x in a {
            for y in b {
                let (x, y) = (x.as_ref().to_string(), y.as_ref().to_string());
                s.blocked.insert((x.clone(), y.clone()));
                s.blocked.insert((y, x));
            }
        }
    }

    /// Cuts `node` off from every other node, present and future.
    pub fn isolate(&self, node: &str) {
        self.lock().isolated.insert(node.to_string());
    }

    /// Undoes every `partition` and `isolate`.
    pub fn heal(&self) {
        let mut s = self.lock();
        s.blocked.clear();
        s.isolated.clear();
    }

    /// Stops `node`: messages to it are lost (also those in flight), its
    /// own sends vanish, and its inbound receiver and liveness records are
    /// dropped. Rebuild its RPC endpoint after `restart`.
    pub fn crash(&self, node: &str) {
        let mut s = self.lock();
        if let Some(n) = s.nodes.get_mut(node) {
            n.crashed = true;
            n.epoch += 1;
            n.inbound = None;
            n.heard.clear();
        }
    }

    /// Lets a crashed `node` send and receive again.
    pub fn restart(&self, node: &str) {
        if let Some(n) = self.lock().nodes.get_mut(node) {
            n.crashed = false;
        }
    }

    pub fn is_crashed(&self, node: &str) -> bool {
        self.lock().nodes.get(node).is_some_and(|n| n.crashed)
    }

    pub fn stats(&self) -> SimStats {
        self.lock().stats.clone()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("sim network lock")
    }
}

/// One node's view of a `SimNetwork`.
pub struct SimTransport {
    node: NodeName,
    net: Arc<Shared>,
}

impl Transport for SimTransport {
    fn local(&self) -> &NodeName {
        &self.node
    }

    fn send(&self, to: &NodeName, env: Envelope) -> rill_core::Result<()> {
        let mut s = self.net.lock();
        let me = s.nodes.get(&self.node).expect("node joined the network");
        if me.crashed {
            return Ok(());
        }
        if to == &self.node {
            // Never on the network, so never faulty.
            let inbound = me.inbound.clone();
            drop(s);
            return rill_core::net::deliver_local(inbound, to, env);
        }
        let Some(dst) = s.nodes.get(to) else {
            return Err(CoreError::Unreachable(to.clone()));
        };
        let (dst_crashed, epoch) = (dst.crashed, dst.epoch);
        s.stats.sent += 1;
        let drop_rate = s.drop_rate;
        if dst_crashed || !s.can_talk(&self.node, to) || s.chance(drop_rate) {
            trace!(from = %self.node, %to, "sim: message dropped");
            s.stats.dropped += 1;
            return Ok(());
        }
        let dup_rate = s.dup_rate;
        let copies = if s.chance(dup_rate) {
            s.stats.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let due = Instant::now() + s.pick_delay();
            let key = (self.node.clone(), to.clone());
            let link = s.links.entry(key).or_insert_with_key(|(from, to)| {
                let (tx, rx) = mpsc::unbounded_channel();
                let weak = Arc::downgrade(&self.net);
                self.net
                    .runtime
                    .spawn(run_link(weak, from.clone(), to.clone(), rx));
                Link {
                    tx,
                    last_due: Instant::now(),
                }
            });
            let due = due.max(link.last_due);
            link.last_due = due;
            let d = Delivery {
                due,
                epoch,
                env: env.clone(),
            };
            // The link task lives as long as the network.
            let _ = link.tx.send(d);
        }
        Ok(())
    }

    fn set_peer_addr(&self, _node: &NodeName, _addr: SocketAddr) {}

    /// A made-up address per node (10.0.0.n:8099), stable for the network's life.
    fn peer_addr(&self, node: &NodeName) -> Option<SocketAddr> {
        self.net.lock().nodes.get(node).map(|n| n.addr)
    }

    fn set_inbound(&self, inbound: Inbound) {
        if let Some(n) = self.net.lock().nodes.get_mut(&self.node) {
            n.inbound = Some(inbound);
        }
    }

    fn last_heard(&self, node: &NodeName) -> Option<Instant> {
        let s = self.net.lock();
        s.nodes.get(&self.node)?.heard.get(node).copied()
    }
}

/// Delivers one link's messages in order, each at its due time, checking
/// partitions and crashes again on arrival.
async fn run_link(
    net: Weak<Shared>,
    from: NodeName,
    to: NodeName,
    mut rx: mpsc::UnboundedReceiver<Delivery>,
) {
    while let Some(d) = rx.recv().await {
        tokio::time::sleep_until(d.due).await;
        let Some(net) = net.upgrade() else { return };
        let inbound = {
            let mut s = net.lock();
            let ok = s.can_talk(&from, &to);
            let dst = s.nodes.get_mut(&to).expect("link to a known node");
            if !ok || dst.crashed || dst.epoch != d.epoch {
                s.stats.dropped += 1;
                continue;
            }
            dst.heard.insert(from.clone(), Instant::now());
            let inbound = dst.inbound.clone();
            if inbound.is_some() {
                s.stats.delivered += 1;
            } else {
                s.stats.dropped += 1;
            }
            inbound
        };
        drop(net);
        let Some(inbound) = inbound else { continue };
        // Waiting here is the link's back-pressure, as on a TCP stream.
        rill_core::net::deliver_waiting(&inbound, d.env).await;
    }
}
