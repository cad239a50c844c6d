//! The vnode actor: a vnode, its bounded mailbox, and the worker thread
//! that runs it.
//!
//! A node runs a few worker threads (`Scheduler`), each hosting many vnodes,
//! as Erlang's schedulers host riak_core's vnode processes. A vnode always
//! runs on the same worker, so its commands are handled one at a time and
//! in order, and it may block (storage calls do). Compared with a thread
//! per vnode this spares most thread wake-ups: a put touches three vnodes,
//! and a busy worker takes the next command without going to sleep.
//!
//! Senders never block: a full mailbox is reported as `Overload` at once, as
//! riak_core's vnode proxy does. Dropping every handle stops the vnode after
//! its queued commands.

use super::{Vnode, VnodeConfig};
use crate::error::{CoreError, Result};
use crate::ring::PartitionId;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, channel, sync_channel};
use std::time::{Duration, Instant};

enum Msg<V: Vnode> {
    /// A vnode and its mailbox count (commands sent, not yet taken).
    Start(PartitionId, V, Arc<AtomicUsize>),
    Command(PartitionId, V::Command),
    /// Drop the vnode (after the commands queued before), then acknowledge.
    Stop(PartitionId, SyncSender<()>),
}

thread_local! {
    /// Set on worker threads: a handle dropped there must not wait for a
    /// worker (possibly itself) to acknowledge the stop.
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// The worker threads of one vnode manager.
pub struct Scheduler<V: Vnode> {
    workers: Vec<Sender<Msg<V>>>,
    mailbox: usize,
}

impl<V: Vnode> Scheduler<V> {
    pub fn new(cfg: &VnodeConfig) -> Scheduler<V> {
        let n = match cfg.workers {
            0 => super::two_per_core(),
            n => n,
        };
        let workers = (0..n)
            .map(|i| {
                let (tx, rx) = channel();
                let tick = cfg.tick_interval;
                std::thread::Builder::new()
                    .name(format!("vnode-worker-{i}"))
                    .spawn(move || run_worker(rx, tick))
                    .expect("spawn vnode worker");
                tx
            })
            .collect();
        Scheduler {
            workers,
            mailbox: cfg.mailbox,
        }
    }

    /// Starts `vnode` on its worker.
    pub fn spawn(&self, partition: PartitionId, vnode: V) -> VnodeHandle<V> {
        let worker = partition as usize % self.workers.len();
        let tx = self.workers[worker].clone();
        let queued = Arc::new(AtomicUsize::new(0));
        let _ = tx.send(Msg::Start(partition, vnode, queued.clone()));
        VnodeHandle {
            partition,
            tx,
            queued,
            mailbox: self.mailbox,
        }
    }
}

struct Slot<V> {
    vnode: V,
    queued: Arc<AtomicUsize>,
    next_tick: Instant,
}

fn run_worker<V: Vnode>(rx: Receiver<Msg<V>>, tick: Duration) {
    ON_WORKER.with(|w| w.set(true));
    let mut vnodes: HashMap<PartitionId, Slot<V>> = HashMap::new();
    let mut next_due = Instant::now() + tick;
    loop {
        let wait = next_due.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Msg::Start(p, vnode, queued)) => {
                let next_tick = Instant::now() + tick;
                let slot = Slot {
                    vnode,
                    queued,
                    next_tick,
                };
                vnodes.insert(p, slot);
            }
            Ok(Msg::Command(p, cmd)) => match vnodes.get_mut(&p) {
                Some(slot) => {
                    slot.queued.fetch_sub(1, Ordering::AcqRel);
                    // A bug in one command must not kill the vnode (nor the
                    // others on this worker): its caller sees the reply
                    // channel dropped.
                    let run = std::panic::AssertUnwindSafe(|| slot.vnode.handle_command(cmd));
                    if std::panic::catch_unwind(run).is_err() {
                        tracing::error!(partition = p, "vnode command panicked");
                    }
                }
                // Stopped meanwhile: dropping the command drops its reply.
                None => drop(cmd),
            },
            Ok(Msg::Stop(p, ack)) => {
                vnodes.remove(&p);
                let _ = ack.send(());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if now >= next_due {
            next_due = now + tick;
            for (&p, slot) in vnodes.iter_mut() {
                if now >= slot.next_tick {
                    let run = std::panic::AssertUnwindSafe(|| slot.vnode.tick());
                    if std::panic::catch_unwind(run).is_err() {
                        tracing::error!(partition = p, "vnode tick panicked");
                    }
                    slot.next_tick = Instant::now() + tick;
                }
                next_due = next_due.min(slot.next_tick);
            }
        }
    }
}

/// A handle to send commands to one running vnode.
pub struct VnodeHandle<V: Vnode> {
    partition: PartitionId,
    tx: Sender<Msg<V>>,
    /// Commands sent and not yet taken by the worker.
    queued: Arc<AtomicUsize>,
    mailbox: usize,
}

impl<V: Vnode> VnodeHandle<V> {
    pub fn partition(&self) -> PartitionId {
        self.partition
    }

    /// Queue a command; never blocks.
    pub fn send(&self, cmd: V::Command) -> Result<()> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.mailbox {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(CoreError::Overload);
        }
        let p = self.partition;
        self.tx
            .send(Msg::Command(p, cmd))
            .map_err(|_| CoreError::VnodeNotRunning(p))
    }
}

impl<V: Vnode> Drop for VnodeHandle<V> {
    fn drop(&mut self) {
        let (ack, done) = sync_channel(1);
        if self.tx.send(Msg::Stop(self.partition, ack)).is_err() {
            return;
        }
        if !ON_WORKER.with(Cell::get) {
            let _ = done.recv();
        }
    }
}
