//! A few threads that serve the reads which skip the vnode threads
//! (`vnode::ReadStores`). Storage calls block, so they stay off the async
//! workers; tokio's blocking pool would do, but it keeps a thread per
//! concurrent call and wakes one for every call. A small fixed pool behind
//! one queue lets a busy thread take the next read without sleeping, which
//! under load saves most of the thread switches a read used to cost.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

pub struct ReadPool {
    shared: Arc<Shared>,
}

/// The pool has shut down (the node is stopping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolClosed;

impl ReadPool {
    /// Starts `threads` threads (at least one).
    pub fn new(threads: usize) -> ReadPool {
        let shared = Arc::new(Shared::default());
        for i in 0..threads.max(1) {
            let s = shared.clone();
            std::thread::Builder::new()
                .name(format!("kv-read-{i}"))
                .spawn(move || work(&s))
                .expect("spawn a read thread");
        }
        ReadPool { shared }
    }

    /// Runs `f` on a pool thread and returns its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolClosed> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        {
            let mut q = self.shared.queue.lock().expect("read pool lock");
            if q.closed {
                return Err(PoolClosed);
            }
            q.jobs.push_back(Box::new(move || {
                let _ = tx.send(f());
            }));
        }
        self.shared.ready.notify_one();
        rx.await.map_err(|_| PoolClosed)
    }
}

impl ReadPool {
    /// Refuses new work; the threads finish what is queued and exit.
    pub fn close(&self) {
        self.shared.queue.lock().expect("read pool lock").closed = true;
        self.shared.ready.notify_all();
    }
}

impl Drop for ReadPool {
    fn drop(&mut self) {
        self.close();
    }
}

fn work(shared: &Shared) {
    loop {
        let job = {
            let mut q = shared.queue.lock().expect("read pool lock");
            loop {
                if let Some(job) = q.jobs.pop_front() {
                    break job;
                }
                if q.closed {
                    return;
                }
                q = shared.ready.wait(q).expect("read pool lock");
            }
        };
        // A panicking read drops its reply (the caller sees PoolClosed for
        // that call); the thread lives on for the others.
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a read panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_survives_a_panic() {
        let pool = ReadPool::new(2);
        assert_eq!(pool.run(|| 40 + 2).await, Ok(42));
        let r: Result<(), _> = pool.run(|| panic!("boom")).await;
        assert_eq!(r, Err(PoolClosed));
        let all = futures_util::future::join_all((0..100).map(|i| pool.run(move || i * 2))).await;
        assert_eq!(all.iter().map(|r| r.unwrap()).sum::<i32>(), 9900);
    }

    #[tokio::test]
    async fn a_closed_pool_refuses_work() {
        let pool = ReadPool::new(1);
        pool.close();
        assert_eq!(pool.run(|| 1).await, Err(PoolClosed));
        let shared = pool.shared.clone();
        drop(pool);
        assert!(shared.queue.lock().unwrap().closed);
    }
}
