//! The vnode manager: runs a vnode for each partition this node holds and
//! routes commands to them by partition.
//!
//! On one node it holds every partition. Handoff starts vnodes for
//! partitions moving in and retires those that moved out: a retired
//! partition starts again only once its data is gone (`stop_and`).

use super::actor::Scheduler;
use super::{Vnode, VnodeConfig, VnodeFactory, VnodeHandle};
use crate::error::{CoreError, Result};
use crate::ring::PartitionId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};

pub struct VnodeManager<V: Vnode> {
    factory: Arc<dyn VnodeFactory<V>>,
    scheduler: Scheduler<V>,
    running: RwLock<HashMap<PartitionId, Arc<VnodeHandle<V>>>>,
    /// Partitions inside `stop_and`; starts of them wait on `retired`.
    retiring: Mutex<HashSet<PartitionId>>,
    retired: Condvar,
}

impl<V: Vnode> VnodeManager<V> {
    pub fn new(factory: impl VnodeFactory<V>, cfg: VnodeConfig) -> Self {
        VnodeManager {
            factory: Arc::new(factory),
            scheduler: Scheduler::new(&cfg),
            running: RwLock::new(HashMap::new()),
            retiring: Mutex::new(HashSet::new()),
            retired: Condvar::new(),
        }
    }

    /// Start the vnode for `partition` unless it runs already. Returns
    /// whether one runs afterwards. Blocks while the partition is being
    /// retired (`stop_and`).
    pub fn ensure_started(&self, partition: PartitionId) -> bool {
        // Held to the end, so a retirement cannot begin during the start.
        let retiring = self
            .retired
            .wait_while(self.retiring_set(), |set| set.contains(&partition))
            .unwrap_or_else(PoisonError::into_inner);
        let mut running = self.running.write().expect("vnode table lock");
        if running.contains_key(&partition) {
            return true;
        }
        let started = match self.factory.start(partition) {
            Ok(vnode) => {
                let handle = self.scheduler.spawn(partition, vnode);
                running.insert(partition, Arc::new(handle));
                true
            }
            Err(e) => {
                tracing::error!(partition, error = %e, "cannot start vnode");
                false
            }
        };
        drop(retiring);
        started
    }

    /// Stops the vnode of `partition`, then runs `retire` (which drops its
    /// data, say) before any start of the partition can happen: a request
    /// that would restart the vnode meanwhile waits, and then opens what
    /// `retire` left instead of data about to be deleted.
    pub fn stop_and<R>(&self, partition: PartitionId, retire: impl FnOnce() -> R) -> R {
        self.retiring_set().insert(partition);
        // Cleared however `retire` ends, a panic included.
        struct Done<'a, V: Vnode>(&'a VnodeManager<V>, PartitionId);
        impl<V: Vnode> Drop for Done<'_, V> {
            fn drop(&mut self) {
                self.0.retiring_set().remove(&self.1);
                self.0.retired.notify_all();
            }
        }
        let _done = Done(self, partition);
        self.stop(partition);
        retire()
    }

    fn retiring_set(&self) -> std::sync::MutexGuard<'_, HashSet<PartitionId>> {
        self.retiring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Send a command to the vnode for `partition`; never blocks.
    pub fn send(&self, partition: PartitionId, cmd: V::Command) -> Result<()> {
        self.try_send(partition, cmd).map_err(|(e, _)| e)
    }

    /// Like [`VnodeManager::send`], handing the command back when it could
    /// not be queued (no such vnode, or its mailbox is full).
    pub fn try_send(
        &self,
        partition: PartitionId,
        cmd: V::Command,
    ) -> std::result::Result<(), (CoreError, V::Command)> {
        let handle = self
            .running
            .read()
            .expect("vnode table lock")
            .get(&partition)
            .cloned();
        match handle {
            Some(handle) => handle.try_send(cmd),
            None => Err((CoreError::VnodeNotRunning(partition), cmd)),
        }
    }

    /// Stops the vnode of `partition` (after it drained its mailbox).
    /// Returns whether one was running.
    pub fn stop(&self, partition: PartitionId) -> bool {
        let handle = self
            .running
            .write()
            .expect("vnode table lock")
            .remove(&partition);
        // In-flight senders may hold clones; the thread ends with the last.
        handle.is_some()
    }

    pub fn is_running(&self, partition: PartitionId) -> bool {
        self.running
            .read()
            .expect("vnode table lock")
            .contains_key(&partition)
    }

    pub fn running(&self) -> Vec<PartitionId> {
        let mut v: Vec<_> = self
            .running
            .read()
            .expect("vnode table lock")
            .keys()
            .copied()
            .collect();
        v.sort_unstable();
        v
    }

    /// Stop every vnode, letting each drain its mailbox first.
    pub fn shutdown(&self) {
        let all: Vec<_> = self
            .running
            .write()
            .expect("vnode table lock")
            .drain()
            .collect();
        // Handles shared with in-flight senders stop when the last clone drops.
        drop(all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    struct Counter {
        partition: PartitionId,
        n: u64,
    }

    enum Cmd {
        Add(u64, mpsc::Sender<(PartitionId, u64)>),
        Block(mpsc::Receiver<()>),
        Panic,
        /// Answers how many times the workers' idle hook has run.
        Idles(mpsc::Sender<usize>),
    }

    impl Vnode for Counter {
        type Command = Cmd;
        fn handle_command(&mut self, cmd: Cmd) {
            match cmd {
                Cmd::Add(k, reply) => {
                    self.n += k;
                    let _ = reply.send((self.partition, self.n));
                }
                Cmd::Block(rx) => {
                    let _ = rx.recv();
                }
                Cmd::Panic => panic!("a bug in one command"),
                Cmd::Idles(reply) => {
                    let _ = reply.send(IDLES.load(std::sync::atomic::Ordering::SeqCst));
                }
            }
        }
        fn is_empty(&mut self) -> bool {
            self.n == 0
        }
        fn delete(&mut self) {
            self.n = 0;
        }
    }

    static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static IDLES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    #[test]
    fn a_worker_runs_its_idle_hook_when_its_mailbox_is_empty_and_every_few_commands() {
        use crate::vnode::{BUSY_COMMANDS, WorkerHooks};
        use std::sync::atomic::Ordering::SeqCst;
        let m = counters(VnodeConfig {
            workers: 1,
            hooks: WorkerHooks {
                start: || {
                    STARTS.fetch_add(1, SeqCst);
                },
                idle: || {
                    IDLES.fetch_add(1, SeqCst);
                },
            },
            ..Default::default()
        });
        m.ensure_started(1);
        // A backlog: 64 commands queued behind a blocked one.
        let (release, blocked) = mpsc::channel();
        m.send(1, Cmd::Block(blocked)).unwrap();
        let (tx, rx) = mpsc::channel();
        for _ in 0..64 {
            m.send(1, Cmd::Idles(tx.clone())).unwrap();
        }
        release.send(()).unwrap();
        let seen: Vec<usize> = (0..64).map(|_| rx.recv().unwrap()).collect();
        let longest_run = seen
            .chunk_by(|a, b| a == b)
            .map(<[usize]>::len)
            .max()
            .unwrap();
        assert!(longest_run <= BUSY_COMMANDS as usize, "{seen:?}");
        assert!(seen.last() > seen.first(), "{seen:?}");
        // With the mailbox empty, the hook runs before the worker waits.
        let last = *seen.last().unwrap();
        let mut now = last;
        for _ in 0..100 {
            m.send(1, Cmd::Idles(tx.clone())).unwrap();
            now = rx.recv().unwrap();
            if now > last {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(now > last, "no idle hook after the backlog");
        assert_eq!(STARTS.load(SeqCst), 1);
        m.shutdown();
    }

    /// A manager of counter vnodes, run as `cfg` says.
    fn counters(cfg: VnodeConfig) -> VnodeManager<Counter> {
        VnodeManager::new(|partition| Ok(Counter { partition, n: 0 }), cfg)
    }

    fn manager(mailbox: usize) -> VnodeManager<Counter> {
        counters(VnodeConfig {
            mailbox,
            ..Default::default()
        })
    }

    #[test]
    fn routes_commands_by_partition() {
        let m = manager(16);
        m.ensure_started(1);
        m.ensure_started(2);
        let (tx, rx) = mpsc::channel();
        m.send(1, Cmd::Add(5, tx.clone())).unwrap();
        m.send(2, Cmd::Add(7, tx.clone())).unwrap();
        m.send(1, Cmd::Add(1, tx)).unwrap();
        let mut got: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
        got.sort();
        assert_eq!(got, vec![(1, 5), (1, 6), (2, 7)]);
        assert_eq!(m.running(), vec![1, 2]);
        assert!(m.stop(1));
        assert!(!m.is_running(1));
        assert!(!m.stop(1));
        m.shutdown();
        assert!(m.running().is_empty());
    }

    #[test]
    fn vnodes_sharing_a_worker_survive_a_panic_and_keep_their_order() {
        let m = counters(VnodeConfig {
            workers: 1,
            ..Default::default()
        });
        m.ensure_started(1);
        m.ensure_started(2);
        let (tx, rx) = mpsc::channel();
        m.send(1, Cmd::Add(1, tx.clone())).unwrap();
        m.send(1, Cmd::Panic).unwrap();
        m.send(2, Cmd::Add(10, tx.clone())).unwrap();
        m.send(1, Cmd::Add(2, tx)).unwrap();
        let got: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(got, vec![(1, 1), (2, 10), (1, 3)]);
        // Stopping waits for the vnode to be dropped; the other runs on.
        assert!(m.stop(1));
        let (tx, rx) = mpsc::channel();
        m.send(2, Cmd::Add(1, tx)).unwrap();
        assert_eq!(rx.recv().unwrap(), (2, 11));
    }

    #[test]
    fn a_start_during_a_retirement_waits_for_its_end() {
        let m = Arc::new(manager(16));
        m.ensure_started(3);
        let events = Arc::new(Mutex::new(Vec::new()));
        let (entered, in_retire) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let retiring = {
            let (m, events) = (m.clone(), events.clone());
            std::thread::spawn(move || {
                m.stop_and(3, || {
                    entered.send(()).unwrap();
                    released.recv().unwrap();
                    events.lock().unwrap().push("retired");
                })
            })
        };
        in_retire.recv().unwrap();
        assert!(!m.is_running(3), "stopped before retire runs");
        let starting = {
            let (m, events) = (m.clone(), events.clone());
            std::thread::spawn(move || {
                let started = m.ensure_started(3);
                events.lock().unwrap().push("started");
                started
            })
        };
        // Other partitions start meanwhile.
        assert!(m.ensure_started(4));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(events.lock().unwrap().is_empty(), "the start waited");
        release.send(()).unwrap();
        retiring.join().unwrap();
        assert!(starting.join().unwrap());
        assert_eq!(*events.lock().unwrap(), vec!["retired", "started"]);
        assert!(m.is_running(3));
    }

    #[test]
    fn unknown_partition_is_not_running() {
        let m = manager(16);
        let (tx, _rx) = mpsc::channel();
        assert_eq!(
            m.send(9, Cmd::Add(1, tx)).unwrap_err(),
            CoreError::VnodeNotRunning(9)
        );
    }

    #[test]
    fn full_mailbox_is_overload() {
        let m = manager(1);
        m.ensure_started(0);
        let (unblock, blocked) = mpsc::channel();
        m.send(0, Cmd::Block(blocked)).unwrap();
        // Wait until the vnode has taken the blocking command off the mailbox.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let (tx, rx) = mpsc::channel();
        m.send(0, Cmd::Add(1, tx.clone())).unwrap();
        assert_eq!(
            m.send(0, Cmd::Add(1, tx.clone())).unwrap_err(),
            CoreError::Overload
        );
        // try_send hands the refused command back, to be answered.
        match m.try_send(0, Cmd::Add(40, tx.clone())) {
            Err((CoreError::Overload, Cmd::Add(40, _))) => {}
            _ => panic!("the refused command comes back"),
        }
        match m.try_send(9, Cmd::Add(41, tx)) {
            Err((CoreError::VnodeNotRunning(9), Cmd::Add(41, _))) => {}
            _ => panic!("the refused command comes back"),
        }
        unblock.send(()).unwrap();
        assert_eq!(rx.recv().unwrap(), (0, 1));
    }
}
