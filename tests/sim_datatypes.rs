//! Data types on in-process clusters over the simulated network.
//!
//! - Three nodes, no faults: updates sent to every node at once (coordinated
//!   by different vnodes, or forwarded when the receiving node holds no
//!   replica) converge to one value that every node fetches.
//! - Five nodes under random partitions, message loss and node restarts:
//!   concurrent clients increment counters and add distinct elements to
//!   sets. After healing, every node fetches the same values, each counter
//!   lies between the sum of its acknowledged increments and that sum plus
//!   every unacknowledged one, and each set holds every acknowledged add and
//!   nothing that was never attempted.

mod common;

use common::{Setup, SimNode, create_types, start_cluster, wait_settled};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rill_kv::bucket::Quorum;
use rill_kv::crdt::{CounterOp, DtOp, DtValue, SetOp};
use rill_kv::dt::{DtUpdateRequest, datatype_of};
use rill_kv::*;
use rill_testkit::sim::SimNetwork;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn update(t: &str, key: &str, op: DtOp, options: PutOptions) -> DtUpdateRequest {
    DtUpdateRequest {
        bucket_type: t.into(),
        bucket: b"b".to_vec(),
        key: Some(key.into()),
        op,
        context: None,
        options,
    }
}

fn bucket_key(t: &str, key: &str) -> BucketKey {
    BucketKey::new(t.as_bytes(), b"b", key.as_bytes())
}

fn read_all() -> GetOptions {
    GetOptions {
        r: Some(Quorum::All),
        timeout: Some(Duration::from_secs(2)),
        ..GetOptions::default()
    }
}

async fn fetch(n: &SimNode, t: &str, key: &str) -> Option<DtValue> {
    n.kv.dt_fetch(bucket_key(t, key), read_all())
        .await
        .unwrap()
        .value
        .map(|v| v.value())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_through_every_node_converge() {
    let net = SimNetwork::new(11);
    let setup = Setup {
        ring_size: 16,
        timeout: Duration::from_secs(5),
        delete_mode: KvConfig::default().delete_mode,
        state_dir: None,
    };
    let nodes = start_cluster(&net, 3, &setup).await;
    // n_val 1: most keys have no replica on the receiving node, so the
    // update is forwarded.
    create_types(
        &nodes,
        &[
            ("sets", serde_json::json!({"datatype": "set"})),
            (
                "counters",
                serde_json::json!({"datatype": "counter", "n_val": 1}),
            ),
        ],
    )
    .await;
    let w_all = PutOptions {
        w: Some(Quorum::All),
        ..PutOptions::default()
    };
    let keys: Vec<String> = (0..6).map(|i| format!("k{i}")).collect();
    let mut tasks = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        for k in &keys {
            let kv = n.kv.clone();
            let k = k.clone();
            let opts = w_all.clone();
            tasks.push(tokio::spawn(async move {
                let add = DtOp::Set(SetOp {
                    adds: vec![format!("m{i}").into_bytes()],
                    removes: vec![],
                });
                kv.dt_update(update("sets", &k, add, opts.clone()))
                    .await
                    .unwrap();
                let inc = DtOp::Counter(CounterOp {
                    increment: 1 + i as i64,
                });
                kv.dt_update(update("counters", &k, inc, opts))
                    .await
                    .unwrap();
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let members = DtValue::Set(vec![b"m0".to_vec(), b"m1".to_vec(), b"m2".to_vec()]);
    for n in &nodes {
        for k in &keys {
            assert_eq!(
                fetch(n, "sets", k).await,
                Some(members.clone()),
                "{} {k}",
                n.name
            );
            assert_eq!(
                fetch(n, "counters", k).await,
                Some(DtValue::Counter(6)),
                "{} {k}",
                n.name
            );
        }
    }
}

const NODES: usize = 5;
const CLIENTS: usize = 5;
/// How long clients write while faults are injected.
const WORKLOAD: Duration = Duration::from_secs(20);
const COUNTER_KEYS: usize = 2;
const SET_KEYS: usize = 2;
/// The seed when `SIM_SEED` is not set (set it to explore other runs).
const SEED: u64 = 2026;

/// The nodes clients can reach: None while a node is down. Clients pick
/// from here; the fault task swaps entries on crash and restart.
type Handles = Arc<Mutex<Vec<Option<KvService>>>>;

/// What one client (or all of them) did: per key, what was acknowledged and
/// what was attempted without an acknowledgement (applied or not).
#[derive(Default)]
struct Ledger {
    counter_acked: BTreeMap<String, i64>,
    counter_unacked: BTreeMap<String, i64>,
    set_acked: BTreeMap<String, BTreeSet<Vec<u8>>>,
    set_unacked: BTreeMap<String, BTreeSet<Vec<u8>>>,
    attempted: usize,
    acked: usize,
    /// Attempted while a partition, message loss or a crash was in effect.
    during_faults: usize,
    acked_during_faults: usize,
}

impl Ledger {
    fn count(&mut self, ok: bool, faulty: bool) {
        self.attempted += 1;
        self.acked += ok as usize;
        self.during_faults += faulty as usize;
        self.acked_during_faults += (ok && faulty) as usize;
    }

    fn absorb(&mut self, o: Ledger) {
        for (k, v) in o.counter_acked {
            *self.counter_acked.entry(k).or_default() += v;
        }
        for (k, v) in o.counter_unacked {
            *self.counter_unacked.entry(k).or_default() += v;
        }
        for (k, v) in o.set_acked {
            self.set_acked.entry(k).or_default().extend(v);
        }
        for (k, v) in o.set_unacked {
            self.set_unacked.entry(k).or_default().extend(v);
        }
        self.attempted += o.attempted;
        self.acked += o.acked;
        self.during_faults += o.during_faults;
        self.acked_during_faults += o.acked_during_faults;
    }
}

/// A node that is up, trying them in turn from `start`.
fn pick(handles: &Handles, start: usize) -> Option<KvService> {
    let hs = handles.lock().unwrap();
    (0..NODES).find_map(|i| hs[(start + i) % NODES].clone())
}

/// Applies one update with the bucket's default quorums and a short
/// timeout, so that under faults it fails instead of waiting. The outer
/// timeout also bounds a forwarded request whose reply was lost.
async fn try_update(kv: &KvService, t: &str, key: &str, op: DtOp) -> bool {
    let opts = PutOptions {
        timeout: Some(Duration::from_millis(1500)),
        ..PutOptions::default()
    };
    let req = update(t, key, op, opts);
    matches!(
        tokio::time::timeout(Duration::from_secs(3), kv.dt_update(req)).await,
        Ok(Ok(_))
    )
}

/// One client until `until`: each step increments a random counter by a
/// random amount and adds its own element `c{id}-{step}` to a random set,
/// rotating the node it talks to. A short pause between steps spreads the
/// updates over the faults.
async fn client(
    id: usize,
    seed: u64,
    until: Instant,
    handles: Handles,
    faulty: Arc<AtomicBool>,
) -> Ledger {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1 + id as u64));
    let mut l = Ledger::default();
    for step in 0.. {
        if Instant::now() >= until {
            break;
        }
        let pause = rng.random_range(10..60);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let Some(kv) = pick(&handles, id + step) else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let key = format!("k{}", rng.random_range(0..COUNTER_KEYS));
        let by = rng.random_range(1..=10i64);
        let f = faulty.load(Ordering::SeqCst);
        let op = DtOp::Counter(CounterOp { increment: by });
        let ok = try_update(&kv, "counters", &key, op).await;
        l.count(ok, f);
        let sum = if ok {
            &mut l.counter_acked
        } else {
            &mut l.counter_unacked
        };
        *sum.entry(key).or_default() += by;

        let key = format!("k{}", rng.random_range(0..SET_KEYS));
        let element = format!("c{id}-{step}").into_bytes();
        let f = faulty.load(Ordering::SeqCst);
        let op = DtOp::Set(SetOp {
            adds: vec![element.clone()],
            removes: vec![],
        });
        let ok = try_update(&kv, "sets", &key, op).await;
        l.count(ok, f);
        let set = if ok {
            &mut l.set_acked
        } else {
            &mut l.set_unacked
        };
        set.entry(key).or_default().insert(element);
    }
    l
}

/// The cluster as the fault task drives it.
struct Faulty {
    net: SimNetwork,
    nodes: Vec<SimNode>,
    setup: Setup,
    handles: Handles,
    partitioned: bool,
    lossy: bool,
    /// Whether any fault is in effect, for the clients' ledgers.
    flag: Arc<AtomicBool>,
    counts: BTreeMap<&'static str, usize>,
}

impl Faulty {
    /// Stops a node as a process crash: its backend (the node's disk) is
    /// kept and reopened on restart, as in sim_cluster. Losing the disk is
    /// a different fault, not tested here.
    async fn crash(&mut self, i: usize) {
        self.handles.lock().unwrap()[i] = None;
        common::crash(&self.net, &mut self.nodes[i]).await;
    }

    async fn restart(&mut self, i: usize) {
        common::restart(&self.net, &mut self.nodes[i], &self.setup).await;
        self.handles.lock().unwrap()[i] = Some(self.nodes[i].kv.clone());
    }

    /// A random split of the nodes into two non-empty groups, replacing
    /// any earlier split.
    fn partition(&mut self, rng: &mut StdRng) {
        self.net.heal();
        let names: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for n in names {
            if rng.random_bool(0.5) { &mut a } else { &mut b }.push(n);
        }
        if a.is_empty() || b.is_empty() {
            // Always a real split: move one node across.
            let (from, to) = if a.is_empty() {
                (&mut b, &mut a)
            } else {
                (&mut a, &mut b)
            };
            to.push(from.pop().unwrap());
        }
        self.net.partition(&a, &b);
        self.partitioned = true;
    }

    async fn step(&mut self, rng: &mut StdRng) {
        let down: Vec<usize> = (0..NODES).filter(|&i| !self.nodes[i].up).collect();
        let what = match rng.random_range(0..100) {
            0..30 => {
                self.partition(rng);
                "partition"
            }
            30..55 => {
                self.net.heal();
                self.partitioned = false;
                "heal"
            }
            55..75 => {
                self.lossy = rng.random_bool(0.6);
                self.net.set_drop_rate(if self.lossy { 0.1 } else { 0.0 });
                if self.lossy { "loss on" } else { "loss off" }
            }
            // At most one node down at a time, so most keys keep a quorum.
            75..87 if down.is_empty() => {
                self.crash(rng.random_range(0..NODES)).await;
                "crash"
            }
            87..100 if !down.is_empty() => {
                self.restart(down[0]).await;
                "restart"
            }
            _ => "pause",
        };
        *self.counts.entry(what).or_default() += 1;
        let any_down = self.nodes.iter().any(|n| !n.up);
        let faulty = self.partitioned || self.lossy || any_down;
        self.flag.store(faulty, Ordering::SeqCst);
    }

    /// Undoes every fault and waits until the ring and handoffs settled.
    async fn heal_all(&mut self) {
        self.net.heal();
        self.net.set_drop_rate(0.0);
        for i in 0..NODES {
            if !self.nodes[i].up {
                self.restart(i).await;
            }
        }
        self.partitioned = false;
        self.lossy = false;
        self.flag.store(false, Ordering::SeqCst);
        wait_settled(&self.nodes, Duration::from_secs(60)).await;
    }
}

/// Injects a fault every few hundred milliseconds until `until`.
async fn run_faults(mut f: Faulty, seed: u64, until: Instant) -> Faulty {
    let mut rng = StdRng::seed_from_u64(seed);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..600))).await;
        f.step(&mut rng).await;
    }
    f
}

/// The value of a key as each node fetches it (r=all) and as each primary
/// replica holds it, once all of them agree. Repeated fetches read-repair
/// replicas that missed updates; there is no active anti-entropy.
async fn converged(nodes: &[SimNode], t: &str, key: &str) -> Option<DtValue> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut last, mut rounds) = (Vec::new(), 0);
    while Instant::now() < deadline {
        let mut seen = Vec::new();
        for n in nodes {
            let r = n.kv.dt_fetch(bucket_key(t, key), read_all()).await;
            seen.push(r.map(|r| r.value.map(|v| v.value())).ok());
        }
        match nodes[0].kv.replica_objects(&bucket_key(t, key)).await {
            Ok(replicas) => {
                for (_, copy) in replicas {
                    seen.push(match copy {
                        Ok(Some(o)) => datatype_of([&o]).ok().map(|v| v.map(|v| v.value())),
                        Ok(None) => Some(None),
                        Err(_) => None,
                    });
                }
            }
            Err(_) => seen.push(None),
        }
        rounds += 1;
        if seen.iter().all(|v| v.is_some() && *v == seen[0]) {
            eprintln!(
                "{t}/{key}: {} views agree after {rounds} rounds",
                seen.len()
            );
            return seen[0].clone().unwrap();
        }
        last = seen;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{t}/{key} did not converge: nodes then replicas saw {last:?}");
}

fn check_counter(key: &str, value: Option<DtValue>, l: &Ledger) {
    let acked = l.counter_acked.get(key).copied().unwrap_or(0);
    let unacked = l.counter_unacked.get(key).copied().unwrap_or(0);
    let v = match value {
        Some(DtValue::Counter(v)) => v,
        None => 0,
        other => panic!("counter {key} holds {other:?}"),
    };
    eprintln!("counter {key}: {v}, acknowledged {acked}, unacknowledged {unacked}");
    assert!(v >= acked, "counter {key} lost increments: {v} < {acked}");
    assert!(
        v <= acked + unacked,
        "counter {key} counts more than was sent: {v} > {acked} + {unacked}"
    );
}

fn check_set(key: &str, value: Option<DtValue>, l: &Ledger) {
    let empty = BTreeSet::new();
    let acked = l.set_acked.get(key).unwrap_or(&empty);
    let unacked = l.set_unacked.get(key).unwrap_or(&empty);
    let members: BTreeSet<Vec<u8>> = match value {
        Some(DtValue::Set(m)) => m.into_iter().collect(),
        None => BTreeSet::new(),
        other => panic!("set {key} holds {other:?}"),
    };
    let text = |s: &BTreeSet<Vec<u8>>| -> Vec<String> {
        s.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    };
    let lost: BTreeSet<_> = acked.difference(&members).cloned().collect();
    let stray: BTreeSet<_> = members
        .iter()
        .filter(|e| !acked.contains(*e) && !unacked.contains(*e))
        .cloned()
        .collect();
    let applied = members.intersection(unacked).count();
    eprintln!(
        "set {key}: {} members, {} acknowledged, {} unacknowledged of which {applied} applied",
        members.len(),
        acked.len(),
        unacked.len()
    );
    assert!(
        lost.is_empty(),
        "set {key} lost acknowledged adds {:?}",
        text(&lost)
    );
    assert!(
        stray.is_empty(),
        "set {key} holds adds never sent {:?}",
        text(&stray)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_updates_survive_partitions_loss_and_restarts() {
    let started = Instant::now();
    let seed = std::env::var("SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    eprintln!("seed {seed}");
    let dir = tempfile::tempdir().unwrap();
    let net = SimNetwork::new(seed);
    let setup = Setup {
        ring_size: 32,
        timeout: Duration::from_secs(2),
        delete_mode: KvConfig::default().delete_mode,
        state_dir: Some(dir.path().to_path_buf()),
    };
    let nodes = start_cluster(&net, NODES, &setup).await;
    create_types(
        &nodes,
        &[
            ("counters", serde_json::json!({"datatype": "counter"})),
            ("sets", serde_json::json!({"datatype": "set"})),
        ],
    )
    .await;
    eprintln!("cluster up after {:?}", started.elapsed());

    let handles: Handles = Arc::new(Mutex::new(
        nodes.iter().map(|n| Some(n.kv.clone())).collect(),
    ));
    let flag = Arc::new(AtomicBool::new(false));
    let until = Instant::now() + WORKLOAD;
    let faults = Faulty {
        net: net.clone(),
        nodes,
        setup,
        handles: handles.clone(),
        partitioned: false,
        lossy: false,
        flag: flag.clone(),
        counts: BTreeMap::new(),
    };
    let fault_task = tokio::spawn(run_faults(faults, seed, until));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| tokio::spawn(client(id, seed, until, handles.clone(), flag.clone())))
        .collect();
    let mut ledger = Ledger::default();
    for c in clients {
        ledger.absorb(c.await.unwrap());
    }
    let mut faults = fault_task.await.unwrap();
    eprintln!(
        "after {:?}: {} updates, {} acknowledged; {} during faults, {} of them acknowledged; faults {:?}; network {:?}",
        started.elapsed(),
        ledger.attempted,
        ledger.acked,
        ledger.during_faults,
        ledger.acked_during_faults,
        faults.counts,
        net.stats()
    );

    faults.heal_all().await;
    eprintln!("healed and settled after {:?}", started.elapsed());
    let nodes = &faults.nodes;
    for k in 0..COUNTER_KEYS {
        let key = format!("k{k}");
        check_counter(&key, converged(nodes, "counters", &key).await, &ledger);
    }
    for k in 0..SET_KEYS {
        let key = format!("k{k}");
        check_set(&key, converged(nodes, "sets", &key).await, &ledger);
    }
    eprintln!("converged after {:?}", started.elapsed());

    // Not vacuous: most updates went through, many of them while faults
    // were in effect, and the faults did make some fail.
    // The floors are low because a loaded machine makes fewer updates in
    // WORKLOAD (an unloaded one makes over 1000).
    assert!(ledger.attempted >= 200, "few updates: {}", ledger.attempted);
    assert!(ledger.acked * 2 >= ledger.attempted, "few acknowledged");
    assert!(
        ledger.acked_during_faults >= 25,
        "few acknowledged under faults"
    );
    assert!(ledger.acked < ledger.attempted, "no update failed");
}
