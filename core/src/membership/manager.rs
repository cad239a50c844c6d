//! The membership runtime of one node: holds the cluster state, persists
//! it, gossips it, detects failed peers, runs the claimant's steps when
//! this node is the claimant, and serves `cluster` admin commands.
//!
//! Decisions are the pure functions of `claimant` and `state`; this file
//! only moves state between nodes and over time.

use super::claimant::{self, Plan, PlanError};
use super::state::{ClusterState, MemberStatus, StagedChange, Transfer};
use crate::error::{CoreError, Result};
use crate::net::{Rpc, service};
use crate::ring::NodeName;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct MembershipConfig {
    /// Push-pull gossip with one random member this often.
    pub gossip_interval: Duration,
    /// Ping every member this often.
    pub heartbeat_interval: Duration,
    /// A member not heard from for this long is down.
    pub down_after: Duration,
    /// Where the state is kept across restarts (None: memory only).
    pub state_file: Option<PathBuf>,
    pub rpc_timeout: Duration,
}

impl Default for MembershipConfig {
    fn default() -> Self {
        MembershipConfig {
            gossip_interval: Duration::from_millis(1000),
            heartbeat_interval: Duration::from_millis(500),
            down_after: Duration::from_secs(3),
            state_file: None,
            rpc_timeout: Duration::from_secs(10),
        }
    }
}

/// `rill admin cluster …` commands, executed by the claimant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminCommand {
    /// Sent by a joining node to any member.
    Join {
        node: NodeName,
        addr: String,
    },
    Stage(StagedChange),
    Plan,
    Commit,
    Clear,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminReply {
    Ok,
    Plan(Plan),
    /// The cluster state, for a node that just joined.
    State(Box<ClusterState>),
    Error(String),
}

pub struct Membership {
    node: NodeName,
    rpc: Rpc,
    cfg: MembershipConfig,
    state: Mutex<Arc<ClusterState>>,
    tx: watch::Sender<Arc<ClusterState>>,
    /// When each member last answered (or sent) anything.
    heard: Mutex<HashMap<NodeName, Instant>>,
    /// Set by `stop`: loops end and requests are refused.
    stopped: std::sync::atomic::AtomicBool,
    /// Serialises writes of the state file.
    persisting: Mutex<()>,
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(v).expect("membership messages encode")
}

fn decode<T: for<'de> Deserialize<'de>>(b: &[u8]) -> std::result::Result<T, String> {
    rmp_serde::from_slice(b).map_err(|e| format!("undecodable membership message: {e}"))
}

impl Membership {
    /// Loads the persisted state (or starts a one-node cluster of `node`
    /// at `addr`), registers the gossip and admin services and starts the
    /// background loops. Must run inside a tokio runtime.
    pub fn start(
        node: &str,
        addr: &str,
        ring_size: u32,
        rpc: Rpc,
        cfg: MembershipConfig,
    ) -> Result<Arc<Membership>> {
        let mut state = match &cfg.state_file {
            Some(p) if p.exists() => {
                let bytes = std::fs::read(p)
                    .map_err(|e| CoreError::Codec(format!("reading {}: {e}", p.display())))?;
                decode::<ClusterState>(&bytes).map_err(CoreError::Codec)?
            }
            _ => ClusterState::new(node, addr, ring_size),
        };
        // A node that left (or was removed) starts over as a cluster of one.
        if matches!(
            state.status(node),
            Some(MemberStatus::Exiting | MemberStatus::Removed) | None
        ) {
            state = ClusterState::new(node, addr, state.ring_size);
        }
        // A restarted node may listen elsewhere: announce the new address.
        if let Some(m) = state.members.get(node)
            && m.value.addr != addr
        {
            let status = m.value.status;
            state.set_member(node, node, status, addr);
        }
        let state = Arc::new(state);
        let (tx, _) = watch::channel(state.clone());
        let m = Arc::new(Membership {
            node: node.to_string(),
            rpc: rpc.clone(),
            cfg,
            state: Mutex::new(state.clone()),
            tx,
            heard: Mutex::new(HashMap::new()),
            stopped: std::sync::atomic::AtomicBool::new(false),
            persisting: Mutex::new(()),
        });
        m.persist();
        m.learn_addrs(&state);
        let weak = Arc::downgrade(&m);
        rpc.register_fn(service::GOSSIP, move |_from, payload| {
            let weak = weak.clone();
            async move {
                let m = weak.upgrade().ok_or("shutting down")?;
                let theirs: ClusterState = decode(&payload)?;
                let merged = m.merge(&theirs);
                Ok(encode(&*merged))
            }
        });
        let weak = Arc::downgrade(&m);
        rpc.register_fn(service::ADMIN, move |_from, payload| {
            let weak = weak.clone();
            async move {
                let m = weak.upgrade().ok_or("shutting down")?;
                let cmd: AdminCommand = decode(&payload)?;
                Ok(encode(&m.admin(cmd).await))
            }
        });
        tokio::spawn(gossip_loop(Arc::downgrade(&m)));
        tokio::spawn(heartbeat_loop(Arc::downgrade(&m)));
        tokio::spawn(claimant_loop(Arc::downgrade(&m)));
        Ok(m)
    }

    pub fn node(&self) -> &NodeName {
        &self.node
    }

    /// Stops gossip, heartbeats and the claimant's steps, and refuses
    /// requests (a node shutting down, or a simulated crash).
    pub fn stop(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.rpc.unregister(service::GOSSIP);
        self.rpc.unregister(service::ADMIN);
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn state(&self) -> Arc<ClusterState> {
        self.state.lock().expect("state lock").clone()
    }

    /// Every new state, as it is adopted.
    pub fn subscribe(&self) -> watch::Receiver<Arc<ClusterState>> {
        self.tx.subscribe()
    }

    /// Whether `node` answered within `down_after` (this node always is up).
    pub fn is_up(&self, node: &str) -> bool {
        if node == self.node {
            return true;
        }
        self.heard
            .lock()
            .expect("heard lock")
            .get(node)
            .is_some_and(|t| t.elapsed() < self.cfg.down_after)
    }

    /// Members and whether each is up, for `member-status` / `ring-status`.
    pub fn liveness(&self) -> Vec<(NodeName, bool)> {
        self.state()
            .active_members()
            .into_iter()
            .map(|n| {
                let up = self.is_up(&n);
                (n, up)
            })
            .collect()
    }

    /// Writes the current state to the state file. Writers take turns, so
    /// the file always ends with the latest state and two writers never
    /// share the temp file.
    fn persist(&self) {
        let Some(path) = &self.cfg.state_file else {
            return;
        };
        let _turn = self.persisting.lock().expect("persist lock");
        let latest = self.state();
        let tmp = path.with_extension("tmp");
        let res = std::fs::write(&tmp, encode(&*latest)).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = res {
            tracing::error!(error = %e, "cannot persist cluster state");
        }
    }

    fn learn_addrs(&self, state: &ClusterState) {
        for (n, m) in &state.members {
            if *n != self.node
                && m.value.status != MemberStatus::Removed
                && let Ok(a) = m.value.addr.parse::<SocketAddr>()
            {
                let known = self.rpc.transport().peer_addr(n);
                if known != Some(a) {
                    self.rpc.transport().set_peer_addr(n, a);
                }
            }
        }
    }

    /// Replaces the state with `f(current)`, computed under the state lock
    /// so that no concurrent change (a merge, a local update, a join's
    /// adoption of the cluster's state) is lost between reading and
    /// writing; returns the adopted state.
    fn modify(&self, f: impl FnOnce(&ClusterState) -> ClusterState) -> Arc<ClusterState> {
        let mut cur = self.state.lock().expect("state lock");
        let next = f(&cur);
        if **cur == next {
            return cur.clone();
        }
        let next = Arc::new(next);
        *cur = next.clone();
        drop(cur);
        self.persist();
        self.learn_addrs(&next);
        let _ = self.tx.send(next.clone());
        next
    }

    /// Merges a state received from a peer.
    pub fn merge(&self, theirs: &ClusterState) -> Arc<ClusterState> {
        self.modify(|cur| cur.reconcile(theirs))
    }

    /// Applies a local change and spreads it.
    pub fn update<T>(&self, f: impl FnOnce(&mut ClusterState) -> T) -> T {
        let mut out = None;
        let adopted = self.modify(|cur| {
            let mut s = cur.clone();
            out = Some(f(&mut s));
            s
        });
        self.push_to_all(adopted);
        out.expect("the change ran")
    }

    fn push_to_all(&self, state: Arc<ClusterState>) {
        let payload = encode(&*state);
        for n in state.active_members() {
            if n != self.node {
                let _ = self.rpc.cast(&n, service::GOSSIP, payload.clone());
            }
        }
    }

    /// Records a finished transfer; the claimant flips ownership.
    pub fn transfer_complete(&self, t: &Transfer) {
        self.update(|s| claimant::transfer_complete(s, t));
    }

    /// Writes a cluster-wide metadata entry (None deletes it).
    pub fn set_metadata(&self, key: &str, value: Option<Vec<u8>>) {
        let me = self.node.clone();
        self.update(|s| s.set_metadata(&me, key, value));
    }

    /// Runs an admin command here if this node is the claimant, else at the
    /// claimant.
    pub async fn admin(&self, cmd: AdminCommand) -> AdminReply {
        let claimant = self.state().claimant();
        match claimant {
            Some(c) if c != self.node => self.forward(&c, &cmd).await,
            _ => self.admin_here(cmd),
        }
    }

    async fn forward(&self, to: &NodeName, cmd: &AdminCommand) -> AdminReply {
        match self
            .rpc
            .call(to, service::ADMIN, encode(cmd), self.cfg.rpc_timeout)
            .await
        {
            Ok(b) => decode(&b).unwrap_or_else(AdminReply::Error),
            Err(e) => AdminReply::Error(format!("claimant {to} unreachable: {e}")),
        }
    }

    fn admin_here(&self, cmd: AdminCommand) -> AdminReply {
        let me = self.node.clone();
        let result: std::result::Result<AdminReply, PlanError> = match cmd {
            AdminCommand::Join { node, addr } => self.update(|s| {
                if s.status(&node)
                    .is_some_and(|st| st != MemberStatus::Removed)
                {
                    return Ok(AdminReply::State(Box::new(s.clone())));
                }
                s.set_member(&me, &node, MemberStatus::Joining, &addr);
                claimant::stage(s, &me, StagedChange::Join(node.clone()))?;
                Ok(AdminReply::State(Box::new(s.clone())))
            }),
            AdminCommand::Stage(change) => self.update(|s| {
                claimant::stage(s, &me, change)?;
                Ok(AdminReply::Ok)
            }),
            AdminCommand::Plan => claimant::plan(&self.state()).map(AdminReply::Plan),
            AdminCommand::Commit => self.update(|s| claimant::commit(s, &me).map(AdminReply::Plan)),
            AdminCommand::Clear => {
                self.update(|s| claimant::clear(s, &me));
                Ok(AdminReply::Ok)
            }
        };
        result.unwrap_or_else(|e| AdminReply::Error(e.to_string()))
    }

    /// `cluster join TARGET`, run on the joining node: asks any member (by
    /// cluster address) to add this node, then adopts the cluster's state.
    pub async fn join(&self, target: SocketAddr, my_addr: &str) -> std::result::Result<(), String> {
        // The target's name is unknown until it answers: call it by address.
        let alias = format!("join@{target}");
        self.rpc.transport().set_peer_addr(&alias, target);
        self.join_node(&alias, my_addr).await
    }

    /// `cluster join` by the name of a member whose address the transport
    /// knows (the simulated network knows every node by name).
    pub async fn join_node(
        &self,
        target: &NodeName,
        my_addr: &str,
    ) -> std::result::Result<(), String> {
        let own = self.state();
        if own.active_members().len() > 1 {
            return Err("Node is already a member of a cluster".into());
        }
        let cmd = AdminCommand::Join {
            node: self.node.clone(),
            addr: my_addr.to_string(),
        };
        let reply = self
            .rpc
            .call(target, service::ADMIN, encode(&cmd), self.cfg.rpc_timeout)
            .await
            .map_err(|e| format!("cannot reach {target}: {e}"))?;
        match decode::<AdminReply>(&reply)? {
            AdminReply::State(s) => {
                // The cluster's state replaces this node's one-node state.
                let mut next = (*s).clone();
                next.lamport = next.lamport.max(own.lamport);
                let adopted = {
                    let mut cur = self.state.lock().expect("state lock");
                    *cur = Arc::new(next);
                    cur.clone()
                };
                self.persist();
                self.learn_addrs(&adopted);
                let _ = self.tx.send(adopted);
                Ok(())
            }
            AdminReply::Error(e) => Err(e),
            other => Err(format!("unexpected reply to join: {other:?}")),
        }
    }
}

async fn gossip_loop(m: std::sync::Weak<Membership>) {
    let interval = match m.upgrade() {
        Some(m) => m.cfg.gossip_interval,
        None => return,
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(m) = m.upgrade() else { return };
        if m.is_stopped() {
            return;
        }
        let state = m.state();
        let peers: Vec<NodeName> = state
            .active_members()
            .into_iter()
            .filter(|n| *n != m.node)
            .collect();
        if peers.is_empty() {
            continue;
        }
        let peer = &peers[rand::random_range(0..peers.len())];
        let rpc = m.rpc.clone();
        let timeout = m.cfg.rpc_timeout;
        let payload = encode(&*state);
        let peer = peer.clone();
        drop(state);
        let weak = Arc::downgrade(&m);
        drop(m);
        tokio::spawn(async move {
            if let Ok(b) = rpc.call(&peer, service::GOSSIP, payload, timeout).await
                && let (Some(m), Ok(theirs)) = (weak.upgrade(), decode::<ClusterState>(&b))
            {
                m.merge(&theirs);
            }
        });
    }
}

async fn heartbeat_loop(m: std::sync::Weak<Membership>) {
    let interval = match m.upgrade() {
        Some(m) => m.cfg.heartbeat_interval,
        None => return,
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(m) = m.upgrade() else { return };
        if m.is_stopped() {
            return;
        }
        for n in m.state().active_members() {
            if n == m.node {
                continue;
            }
            let rpc = m.rpc.clone();
            let weak = Arc::downgrade(&m);
            tokio::spawn(async move {
                if rpc.ping(&n, interval * 2).await.is_ok()
                    && let Some(m) = weak.upgrade()
                {
                    m.heard
                        .lock()
                        .expect("heard lock")
                        .insert(n, Instant::now());
                }
            });
        }
    }
}

async fn claimant_loop(m: std::sync::Weak<Membership>) {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Some(m) = m.upgrade() else { return };
        if m.is_stopped() {
            return;
        }
        let state = m.state();
        if state.claimant().as_deref() != Some(m.node.as_str()) {
            continue;
        }
        let me = m.node.clone();
        let mut ticked = false;
        let adopted = m.modify(|cur| {
            let mut next = cur.clone();
            ticked = claimant::tick(&mut next, &me, |n| m.is_up(n));
            next
        });
        if ticked {
            m.push_to_all(adopted);
        }
    }
}
