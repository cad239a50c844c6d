//! The node's write buffer: one memory budget for the active memtables of
//! all stores together, kept by sealing the largest memtable first.
//!
//! fjall seals a keyspace's memtable when that memtable alone passes its
//! size. With uniform keys every vnode's memtable fills at the same pace, so
//! all of a node's memtables sealed within a moment, and the flushes and
//! compactions that followed took both cores for one to three seconds: the
//! put tail came from there. Here the commit queue's leader, which applies
//! every write, counts what it writes, and a seal thread seals the largest
//! memtable whenever the total passes the budget.
//! After the first round the sizes are spread evenly from empty to full, and
//! memtables seal one at a time, at a steady pace (RocksDB's
//! `db_write_buffer_size` works this way). The sealed memtables are about
//! twice the budget's average share, so flushes also write fewer, larger
//! tables.
//!
//! The seal thread also seals any memtable that reaches three quarters of
//! the per-memtable cap (`memtable_mb`), as a hot keyspace's can before the
//! total reaches the budget. fjall's own limit, set well above the cap,
//! stays a backstop: past it fjall floods its single worker's channel with
//! seal requests, on which that worker can block for good (decision 0022).
//!
//! The seal thread also frees the memtables it sealed, once fjall has
//! flushed them and let go of them ([`Retired`]): fjall would free them
//! while holding locks every write needs.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, PoisonError, Weak};
use std::thread::JoinHandle;

use fjall::AbstractTree;

use super::committer::{Job, StoreState};

/// How many times per budget's worth of writes the sizes are looked at: the
/// total passes the budget by at most 1/64 of it.
const CHECKS_PER_BUDGET: u64 = 64;

/// How many times per cap's worth of writes the sizes are looked at, at
/// least. Memtables are sealed from three quarters of the cap, so one
/// stays under seven eighths of it: under fjall's limit even on stores
/// that an earlier build created with the cap itself as fjall's limit.
const CHECKS_PER_CAP: u64 = 8;

/// The size from which the seal thread seals a memtable: three quarters
/// of the cap.
fn seal_from(cap: u64) -> u64 {
    (cap / 4 * 3).max(1)
}

/// How the commit queue hands the stores it has written to to the seal thread.
type SealRequests = mpsc::SyncSender<Vec<Arc<StoreState>>>;

/// The commit queue's side: counts what it writes, and every 1/64 of the
/// budget hands the stores it has written to to the seal thread.
pub(super) struct WriteBuffer {
    /// Bytes written between two looks at the sizes (1/64 of the budget).
    check_every: u64,
    /// Bytes written since the sizes were last looked at.
    since_check: u64,
    /// Every store written to, by id; dead and dropped ones are pruned.
    stores: HashMap<u32, Weak<StoreState>>,
    /// To the seal thread; `None` once closing stopped sealing. Room for
    /// one request: while it seals, further checks are skipped, and the
    /// next one after it brings fresh sizes.
    sealer: Option<SealRequests>,
}

impl WriteBuffer {
    /// The commit queue's write buffer for `budget` bytes in all (0: no
    /// total) and `cap` bytes per memtable, and the seal thread it hands
    /// work to, which ends after the write buffer.
    pub(super) fn start(budget: u64, cap: u64) -> std::io::Result<(WriteBuffer, JoinHandle<()>)> {
        let budget = if budget == 0 { u64::MAX } else { budget };
        let cap = cap.max(1);
        let seal_at = seal_from(cap);
        let (tx, rx) = mpsc::sync_channel::<Vec<Arc<StoreState>>>(1);
        let thread = std::thread::Builder::new()
            .name("storage-seal".into())
            .spawn(move || {
                let mut retired = Retired::default();
                loop {
                    match rx.recv_timeout(SWEEP_EVERY) {
                        Ok(stores) => seal_over_limits(&stores, budget, seal_at, &mut retired),
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                    retired.sweep();
                }
            })?;
        Ok((WriteBuffer::new(budget, cap, tx), thread))
    }

    fn new(budget: u64, cap: u64, sealer: SealRequests) -> Self {
        WriteBuffer {
            check_every: (budget / CHECKS_PER_BUDGET)
                .min(cap / CHECKS_PER_CAP)
                .max(1),
            since_check: 0,
            stores: HashMap::new(),
            sealer: Some(sealer),
        }
    }

    /// Lets the seal thread end: no memtable is sealed from now on.
    pub(super) fn stop_sealing(&mut self) {
        self.sealer = None;
    }

    /// Notes what an applied batch wrote; now and then asks the seal thread
    /// to look at the sizes.
    pub(super) fn written(&mut self, jobs: &[Job]) {
        let Some(sealer) = &self.sealer else {
            return;
        };
        for job in jobs {
            let bytes: usize = job
                .changes
                .iter()
                .map(|c| c.key.len() + c.value.as_ref().map_or(0, |v| v.len()))
                .sum();
            self.since_check += bytes as u64;
            self.stores
                .entry(job.store.id)
                .or_insert_with(|| Arc::downgrade(&job.store));
        }
        if self.since_check < self.check_every {
            return;
        }
        self.since_check = 0;
        let mut live = Vec::with_capacity(self.stores.len());
        self.stores.retain(|_, weak| match weak.upgrade() {
            Some(store) if !store.dropped.load(Ordering::SeqCst) => {
                live.push(store);
                true
            }
            _ => false,
        });
        let _ = sealer.try_send(live);
    }
}

/// The seal thread's work: seals the memtables of `stores` that reached
/// `seal_at`, then the largest until the rest fit in `budget`. It has a thread
/// of its own because sealing a memtable took 2.6–7 ms (fjall then tidies
/// the version history of every keyspace), time the commit queue's leader
/// must not spend while writers wait.
fn seal_over_limits(stores: &[Arc<StoreState>], budget: u64, seal_at: u64, retired: &mut Retired) {
    let sizes: Vec<(usize, u64)> = stores
        .iter()
        .map(|s| s.keyspace.tree.active_memtable().size())
        .enumerate()
        .collect();
    for i in to_seal_capped(&sizes, budget, seal_at) {
        let store = &stores[i];
        // `drop_store` takes this lock after marking the store dropped, so
        // a keyspace is never sealed while it is deleted.
        let _sealing = store
            .seal_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if store.dropped.load(Ordering::SeqCst) {
            continue;
        }
        // A failure leaves the memtable active; fjall's own limit and the
        // next check still apply, so no write fails for it.
        let memtable = store.keyspace.tree.active_memtable();
        match store.keyspace.rotate_memtable() {
            Ok(sealed) => {
                if sealed {
                    retired.hold(memtable);
                }
                tracing::trace!(store = %store.name, "sealed a memtable")
            }
            Err(e) => tracing::warn!(store = %store.name, error = %e, "sealing a memtable failed"),
        }
    }
}

/// How often the seal thread frees retired memtables while no write asks it
/// to look at the sizes.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Memtables this thread sealed, held until fjall no longer needs them.
///
/// A flushed memtable is freed by whichever fjall call drops the last
/// version that refers to it, and fjall drops old versions while it holds
/// that keyspace's version lock (in the version clean-up that every seal
/// runs over all keyspaces). Freeing a memtable of several MiB, entry by
/// entry, took 5–12 ms; every write to the keyspace waited, and with it,
/// as writes go in one batch under fjall's journal lock, every write of the
/// node. Holding one more reference here moves that free to this thread,
/// outside every lock, once fjall's references are gone.
///
/// The memtables are held as `dyn Any`: fjall hands them out but does not
/// export their type.
#[derive(Default)]
struct Retired(Vec<Arc<dyn std::any::Any + Send + Sync>>);

impl Retired {
    fn hold(&mut self, memtable: Arc<dyn std::any::Any + Send + Sync>) {
        self.0.push(memtable);
    }

    /// Frees the memtables no one else refers to any more.
    fn sweep(&mut self) {
        self.0.retain(|m| Arc::strong_count(m) > 1);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Which memtables to seal, given (id, active memtable size) pairs: every
/// one that reached `seal_at`, in the order given, then what [`to_seal`]
/// picks among the others.
pub(super) fn to_seal_capped<Id: Copy + Ord>(
    sizes: &[(Id, u64)],
    budget: u64,
    seal_at: u64,
) -> Vec<Id> {
    let at_cap = |size: u64| size > 0 && size >= seal_at;
    let rest: Vec<(Id, u64)> = sizes.iter().copied().filter(|(_, s)| !at_cap(*s)).collect();
    let mut seal: Vec<Id> = (sizes.iter())
        .filter(|(_, s)| at_cap(*s))
        .map(|(id, _)| *id)
        .collect();
    seal.extend(to_seal(&rest, budget));
    seal
}

/// Which memtables to seal, given (id, active memtable size) pairs: the
/// largest ones, until the rest fit in `budget` (ties: the lowest id first).
/// Nothing while they fit.
pub(super) fn to_seal<Id: Copy + Ord>(sizes: &[(Id, u64)], budget: u64) -> Vec<Id> {
    let mut total: u64 = sizes.iter().map(|(_, size)| size).sum();
    let mut by_size: Vec<(Id, u64)> = sizes.iter().copied().filter(|(_, s)| *s > 0).collect();
    by_size.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut seal = Vec::new();
    for (id, size) in by_size {
        if total <= budget {
            break;
        }
        seal.push(id);
        total -= size;
    }
    seal
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nothing_is_sealed_within_the_budget() {
        assert!(to_seal(&[(1, 10), (2, 20)], 30).is_empty());
        assert!(to_seal::<u32>(&[], 0).is_empty());
    }

    #[test]
    fn the_largest_is_sealed_first() {
        assert_eq!(to_seal(&[(1, 10), (2, 25), (3, 20)], 50), vec![2]);
        assert_eq!(to_seal(&[(1, 10), (2, 25), (3, 20)], 9), vec![2, 3, 1]);
    }

    #[test]
    fn ties_go_to_the_lowest_id() {
        assert_eq!(to_seal(&[(7, 8), (3, 8), (5, 8)], 20), vec![3]);
    }

    #[test]
    fn empty_memtables_are_never_sealed() {
        assert_eq!(to_seal(&[(1, 0), (2, 5)], 0), vec![2]);
    }

    /// The uniform-key case that made flush storms: every store grows at
    /// the same pace. After the first round, seals come one at a time.
    #[test]
    fn equal_growth_seals_one_store_at_a_time() {
        let stores = 64usize;
        let budget = 64 * 100u64;
        let mut sizes: Vec<(u32, u64)> = (0..stores as u32).map(|i| (i, 0)).collect();
        let mut sealed_per_step = Vec::new();
        for _ in 0..10_000 {
            for s in &mut sizes {
                s.1 += 1;
            }
            let seal = to_seal(&sizes, budget);
            for id in &seal {
                sizes[*id as usize].1 = 0;
            }
            sealed_per_step.push(seal.len());
        }
        // From the second round on (the first seals start at step 100),
        // no step seals more than one memtable.
        assert!(sealed_per_step[300..].iter().all(|n| *n <= 1));
        let largest = sizes.iter().map(|s| s.1).max().unwrap();
        assert!(
            largest <= 2 * budget / stores as u64 + 1,
            "largest {largest}"
        );
    }

    /// A store of `db` as the commit queue knows it, on a keyspace with a
    /// memtable limit far above what the tests write.
    fn real_store(db: &fjall::Database, id: u32) -> Arc<StoreState> {
        let name = format!("kv.{id}");
        let keyspace = db
            .keyspace(&name, || {
                fjall::KeyspaceCreateOptions::default().max_memtable_size(64 << 20)
            })
            .unwrap();
        Arc::new(StoreState::new(id, name, keyspace))
    }

    /// Writes `i` → `value` to `store` and tells the buffer, as the commit
    /// queue's leader does after applying a batch.
    fn write_through(buffer: &mut WriteBuffer, store: &Arc<StoreState>, i: u32, value: &[u8]) {
        use super::super::committer::Change;

        let key = i.to_be_bytes();
        store.keyspace.insert(key, value).unwrap();
        let job = Job {
            store: Arc::clone(store),
            changes: vec![Change {
                key: key.into(),
                value: Some(value.into()),
            }],
            cache: false,
            done: None,
        };
        buffer.written(&[job]);
    }

    /// A memtable the seal thread sealed outlives fjall's references: it is
    /// freed by the seal thread's sweep once fjall has flushed it and let
    /// go of it, not by fjall under its locks.
    #[test]
    fn sealed_memtables_are_freed_by_the_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let db = fjall::Database::builder(dir.path()).open().unwrap();
        let (a, b) = (real_store(&db, 1), real_store(&db, 2));
        a.keyspace.insert("k", vec![1u8; 4096]).unwrap();
        let memtable = Arc::downgrade(&a.keyspace.tree.active_memtable());
        let mut retired = Retired::default();
        seal_over_limits(std::slice::from_ref(&a), 0, u64::MAX, &mut retired);
        assert_eq!(retired.len(), 1, "the sealed memtable is held");
        retired.sweep();
        assert!(memtable.upgrade().is_some(), "fjall still needs it");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        // Each seal of another keyspace runs fjall's clean-up of old
        // versions over every keyspace, once `a` is flushed.
        let mut round = 0u32;
        while memtable.strong_count() > 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "fjall kept the memtable"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
            round += 1;
            b.keyspace.insert(round.to_be_bytes(), &b"x"[..]).unwrap();
            seal_over_limits(std::slice::from_ref(&b), 0, u64::MAX, &mut retired);
        }
        assert!(
            memtable.upgrade().is_some(),
            "only the seal thread holds it now"
        );
        retired.sweep();
        assert!(memtable.upgrade().is_none(), "the sweep freed it");
        assert_eq!(a.keyspace.get("k").unwrap().map(|v| v.len()), Some(4096));
    }

    /// Real fjall keyspaces written through the commit queue's accounting:
    /// the active memtables stay within the budget (plus one check's worth),
    /// long before any reaches its own 64 MiB limit.
    #[test]
    fn keeps_real_memtables_within_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let db = fjall::Database::builder(dir.path()).open().unwrap();
        let budget = 1 << 20;
        let stores: Vec<Arc<StoreState>> = (0..8u32).map(|id| real_store(&db, id)).collect();
        // The seal thread's work, done here after each batch so the sizes
        // can be checked between batches.
        let (tx, requests) = mpsc::sync_channel(1);
        let mut buffer = WriteBuffer::new(budget, u64::MAX, tx);
        // A dropped store is never sealed, however large.
        stores[7].dropped.store(true, Ordering::SeqCst);
        let value = vec![7u8; 1000];
        let mut most = 0;
        for i in 0..4_000u32 {
            write_through(&mut buffer, &stores[(i % 8) as usize], i, &value);
            if let Ok(live) = requests.try_recv() {
                seal_over_limits(&live, budget, u64::MAX, &mut Retired::default());
            }
            let total: u64 = stores[..7]
                .iter()
                .map(|s| s.keyspace.tree.active_memtable().size())
                .sum();
            most = most.max(total);
        }
        // 3.5 MB written to the live stores: without the budget every
        // memtable would still be active.
        assert!(
            most <= budget + budget / 4,
            "active memtables reached {most}"
        );
        let sealed =
            |s: &StoreState| s.keyspace.sealed_memtable_count() + s.keyspace.table_count() > 0;
        assert!(stores[..7].iter().all(|s| sealed(s)));
        assert!(!sealed(&stores[7]));
    }

    #[test]
    fn memtables_at_the_cap_are_sealed_within_the_budget() {
        assert_eq!(
            to_seal_capped(&[(1, 10), (2, 40), (3, 50)], 1_000, 40),
            vec![2, 3]
        );
        // Then the budget, over what is left.
        assert_eq!(
            to_seal_capped(&[(1, 30), (2, 45), (3, 20)], 40, 40),
            vec![2, 1]
        );
        assert!(to_seal_capped(&[(1, 0), (2, 39)], u64::MAX, 40).is_empty());
    }

    /// One hot keyspace takes every write while the total stays far under
    /// the budget: the seal thread still seals its memtable before the cap,
    /// long before fjall's own limit (which would flood fjall's worker
    /// with seal requests).
    #[test]
    fn a_hot_memtable_is_sealed_before_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let db = fjall::Database::builder(dir.path()).open().unwrap();
        let cap = 256 << 10;
        let hot = real_store(&db, 1);
        let (tx, requests) = mpsc::sync_channel(1);
        let mut buffer = WriteBuffer::new(u64::MAX, cap, tx);
        let value = vec![3u8; 1000];
        let mut most = 0;
        for i in 0..3_000u32 {
            write_through(&mut buffer, &hot, i, &value);
            if let Ok(live) = requests.try_recv() {
                seal_over_limits(&live, u64::MAX, seal_from(cap), &mut Retired::default());
            }
            most = most.max(hot.keyspace.tree.active_memtable().size());
        }
        // 3 MB written, twelve times the cap; fjall's limit is 64 MiB here.
        assert!(most < cap, "the hot memtable reached {most}");
        assert!(hot.keyspace.sealed_memtable_count() + hot.keyspace.table_count() > 0);
    }

    proptest! {
        /// With a cap, no memtable left active has reached it, and what is
        /// left still fits the budget.
        #[test]
        fn nothing_left_reaches_the_cap(
            sizes in proptest::collection::vec(0u64..1_000, 0..80),
            budget in 0u64..50_000,
            cap in 1u64..1_200,
        ) {
            let sizes: Vec<(u32, u64)> =
                sizes.into_iter().enumerate().map(|(i, s)| (i as u32, s)).collect();
            let seal = to_seal_capped(&sizes, budget, cap);
            let kept = || sizes.iter().filter(|(id, _)| !seal.contains(id));
            prop_assert!(kept().all(|(_, s)| *s == 0 || *s < cap));
            prop_assert!(kept().map(|s| s.1).sum::<u64>() <= budget);
            let mut unique = seal.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(unique.len(), seal.len());
        }

        /// What is left after sealing fits the budget, and only the largest
        /// memtables are sealed.
        #[test]
        fn what_is_left_fits(
            sizes in proptest::collection::vec(0u64..1_000, 0..80),
            budget in 0u64..50_000,
        ) {
            let sizes: Vec<(u32, u64)> =
                sizes.into_iter().enumerate().map(|(i, s)| (i as u32, s)).collect();
            let seal = to_seal(&sizes, budget);
            let left: u64 = sizes.iter().filter(|(id, _)| !seal.contains(id)).map(|s| s.1).sum();
            prop_assert!(left <= budget);
            let smallest_sealed = seal.iter().map(|id| sizes[*id as usize].1).min();
            let largest_kept = sizes.iter().filter(|(id, _)| !seal.contains(id)).map(|s| s.1).max();
            if let (Some(sealed), Some(kept)) = (smallest_sealed, largest_kept) {
                prop_assert!(sealed >= kept);
            }
            // Minimal: without the last one sealed, the rest would not fit.
            if let Some(last) = seal.last() {
                prop_assert!(left + sizes[*last as usize].1 > budget);
            }
        }
    }
}
