//! Group commit: many writers, one fsync.
//!
//! Writers take a ticket after their write reached the OS; a writer whose ticket
//! is not yet durable either runs the fsync itself (covering every ticket issued
//! so far) or waits for the fsync already in flight. The engine call is a closure,
//! so this file knows nothing about fjall.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

#[derive(Default)]
struct State {
    /// Every ticket `<= synced` is durable.
    synced: u64,
    /// An fsync is in flight (run by some writer outside the lock).
    syncing: bool,
}

/// Sequence of written batches and the sequence known to be durable.
#[derive(Default)]
pub(crate) struct GroupCommit {
    written: AtomicU64,
    state: Mutex<State>,
    synced_cv: Condvar,
}

impl GroupCommit {
    /// Records one write that has already been handed to the OS and returns its ticket.
    pub(crate) fn written(&self) -> u64 {
        self.written.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Highest ticket handed out so far.
    pub(crate) fn last_written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Highest ticket known to be durable.
    #[cfg(test)]
    pub(crate) fn last_synced(&self) -> u64 {
        self.lock().synced
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once `ticket` is durable. `fsync` must make durable every write whose
    /// ticket was issued before it is called. A failed fsync is returned to the writer
    /// that ran it; waiting writers then try again themselves.
    pub(crate) fn wait_durable<E>(
        &self,
        ticket: u64,
        fsync: impl Fn() -> Result<(), E>,
    ) -> Result<(), E> {
        let mut state = self.lock();
        loop {
            if state.synced >= ticket {
                return Ok(());
            }
            if state.syncing {
                state = self
                    .synced_cv
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Every ticket up to `target` belongs to a write that is already in the
            // OS, so one fsync started now covers all of them.
            let target = self.last_written();
            state.syncing = true;
            drop(state);
            let in_flight = InFlight(self);
            let result = fsync();
            state = self.lock();
            if result.is_ok() {
                state.synced = state.synced.max(target);
            }
            state.syncing = false;
            std::mem::forget(in_flight);
            self.synced_cv.notify_all();
            result?;
        }
    }
}

/// Clears the `syncing` flag if the fsync closure panics, so waiters are not stranded.
struct InFlight<'a>(&'a GroupCommit);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.lock().syncing = false;
        self.0.synced_cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[test]
    fn single_writer_syncs_its_own_ticket() {
        let gc = GroupCommit::default();
        let calls = AtomicUsize::new(0);
        let t = gc.written();
        gc.wait_durable(t, || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(gc.last_synced(), 1);
        // Already durable: no second fsync.
        gc.wait_durable(t, || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn concurrent_writers_share_fsyncs() {
        const THREADS: usize = 8;
        const PER_THREAD: usize = 50;
        let gc = Arc::new(GroupCommit::default());
        let fsyncs = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let gc = Arc::clone(&gc);
                let fsyncs = Arc::clone(&fsyncs);
                std::thread::spawn(move || {
                    for _ in 0..PER_THREAD {
                        let t = gc.written();
                        gc.wait_durable(t, || {
                            fsyncs.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(1));
                            Ok::<_, ()>(())
                        })
                        .unwrap();
                        assert!(gc.last_synced() >= t);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let total = (THREADS * PER_THREAD) as u64;
        assert_eq!(gc.last_synced(), total);
        let n = fsyncs.load(Ordering::SeqCst) as u64;
        assert!(
            n < total,
            "expected shared fsyncs, got {n} for {total} writes"
        );
    }

    #[test]
    fn failed_fsync_is_reported_and_retried() {
        let gc = GroupCommit::default();
        let t = gc.written();
        assert_eq!(gc.wait_durable(t, || Err("disk gone")), Err("disk gone"));
        assert_eq!(gc.last_synced(), 0);
        gc.wait_durable(t, || Ok::<_, &str>(())).unwrap();
        assert_eq!(gc.last_synced(), 1);
    }

    #[test]
    fn panicking_fsync_does_not_strand_waiters() {
        let gc = Arc::new(GroupCommit::default());
        let t = gc.written();
        let gc2 = Arc::clone(&gc);
        let r = std::thread::spawn(move || {
            gc2.wait_durable(t, || -> Result<(), ()> { panic!("boom") })
        })
        .join();
        assert!(r.is_err());
        gc.wait_durable(t, || Ok::<_, ()>(())).unwrap();
        assert_eq!(gc.last_synced(), 1);
    }
}
