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
//! Each worker runs one contiguous range of the ring's partitions. A
//! preference list is a run of consecutive partitions, so the vnodes of one
//! put mostly share a worker: commands sent to them back to back, or by
//! one of them to the others, find that worker awake (a wake-up costs more
//! than a command here, the more so in a virtual machine).
//!
//! Between commands a worker runs its `idle` hook: when its mailbox is
//! empty, before it sleeps, and every `BUSY_COMMANDS` commands while it
//! is not. The storage applies there the writes the worker's vnodes
//! deferred, so the writes of a burst of commands share one batch and no
//! other thread is woken for them.
//!
//! Senders never block: a full mailbox is reported as `Overload` at once, as
//! riak_core's vnode proxy does. Dropping every handle stops the vnode after
//! its queued commands.

use super::{BUSY_COMMANDS, Vnode, VnodeConfig, WorkerHooks};
use crate::error::{CoreError, Result};
use crate::ring::PartitionId;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::TryRecvError;
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
    ring_size: u32,
}

/// The worker of `partition` among `workers`: contiguous ranges of a ring
/// of `ring_size` partitions, or partitions dealt in turn without one.
pub(super) fn worker_of(partition: PartitionId, workers: usize, ring_size: u32) -> usize {
    if ring_size == 0 || partition >= ring_size {
        return partition as usize % workers;
    }
    (partition as u64 * workers as u64 / u64::from(ring_size)) as usize
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
                let (tick, hooks) = (cfg.tick_interval, cfg.hooks);
                std::thread::Builder::new()
                    .name(format!("vnode-worker-{i}"))
                    .spawn(move || run_worker(rx, tick, hooks))
                    .expect("spawn vnode worker");
                tx
            })
            .collect();
        Scheduler {
            workers,
            mailbox: cfg.mailbox,
            ring_size: cfg.ring_size,
        }
    }

    /// Starts `vnode` on its worker.
    pub fn spawn(&self, partition: PartitionId, vnode: V) -> VnodeHandle<V> {
        let worker = worker_of(partition, self.workers.len(), self.ring_size);
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

/// Whether a worker runs its idle hook before its next command: when none
/// is waiting (it is about to sleep), or after `busy` commands in a row.
fn idle_due(command_waiting: bool, busy: u32) -> bool {
    !command_waiting || busy >= BUSY_COMMANDS
}

fn run_worker<V: Vnode>(rx: Receiver<Msg<V>>, tick: Duration, hooks: WorkerHooks) {
    ON_WORKER.with(|w| w.set(true));
    (hooks.start)();
    let mut vnodes: HashMap<PartitionId, Slot<V>> = HashMap::new();
    let mut next_due = Instant::now() + tick;
    let mut busy = 0;
    loop {
        let ready = rx.try_recv();
        if idle_due(ready.is_ok(), busy) {
            if std::panic::catch_unwind(hooks.idle).is_err() {
                tracing::error!("vnode worker's idle hook panicked");
            }
            busy = 0;
        }
        let next = match ready {
            Ok(msg) => Ok(msg),
            Err(TryRecvError::Empty) => {
                rx.recv_timeout(next_due.saturating_duration_since(Instant::now()))
            }
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
        };
        busy += 1;
        match next {
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
        self.try_send(cmd).map_err(|(e, _)| e)
    }

    /// Like [`VnodeHandle::send`], handing the command back when it could
    /// not be queued, so the caller can still answer it.
    pub fn try_send(&self, cmd: V::Command) -> std::result::Result<(), (CoreError, V::Command)> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.mailbox {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err((CoreError::Overload, cmd));
        }
        let p = self.partition;
        match self.tx.send(Msg::Command(p, cmd)) {
            Ok(()) => Ok(()),
            Err(std::sync::mpsc::SendError(Msg::Command(_, cmd))) => {
                Err((CoreError::VnodeNotRunning(p), cmd))
            }
            Err(_) => unreachable!("a command was sent"),
        }
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

#[cfg(test)]
mod tests {
    use super::worker_of;

    #[test]
    fn the_idle_hook_runs_before_sleeping_and_every_few_busy_commands() {
        use super::{BUSY_COMMANDS, idle_due};
        assert!(idle_due(false, 0));
        assert!(!idle_due(true, 0));
        assert!(!idle_due(true, BUSY_COMMANDS - 1));
        assert!(idle_due(true, BUSY_COMMANDS));
    }

    #[test]
    fn workers_get_contiguous_balanced_ranges() {
        let ws: Vec<usize> = (0..64).map(|p| worker_of(p, 4, 64)).collect();
        for w in 0..4 {
            let mine: Vec<u32> = (0..64).filter(|&p| ws[p as usize] == w).collect();
            assert_eq!(mine.len(), 16, "worker {w}");
            assert_eq!(mine, (mine[0]..mine[0] + 16).collect::<Vec<_>>());
        }
        // A three-partition preference list mostly stays on one worker.
        let together = (0..64u32)
            .filter(|&p| {
                let w = worker_of(p, 4, 64);
                (1..3).all(|i| worker_of((p + i) % 64, 4, 64) == w)
            })
            .count();
        assert_eq!(together, 56);
        // Uneven splits and more workers than partitions stay in range.
        assert!((0..64).all(|p| worker_of(p, 3, 64) < 3));
        assert_eq!((0..8).map(|p| worker_of(p, 16, 8)).max(), Some(14));
        // Without a ring size, partitions are dealt in turn.
        assert_eq!(
            (0..5).map(|p| worker_of(p, 4, 0)).collect::<Vec<_>>(),
            [0, 1, 2, 3, 0]
        );
    }
}
