//! Deferred writes and the threads that apply them.
//!
//! A write queued with `Store::put_then` is applied by whichever thread
//! drains its backend's queue next, many writes to one engine batch. A
//! thread that handles requests one after another (a vnode worker) calls
//! [`defer_commits`] once: from then on its deferred writes wait until it
//! calls [`commit_deferred`], which it does whenever its queue of requests
//! runs dry and every few requests meanwhile. So the writes of a burst of
//! requests go to the engine together, on the thread that made them,
//! without waking another thread. Any other thread applies its deferred
//! write at once.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

/// A backend with writes queued to apply.
pub(crate) trait Drain: Send + Sync {
    /// Applies everything queued (or leaves it to the thread already doing so).
    fn drain(&self);
}

thread_local! {
    /// `None` on threads that apply their writes at once; otherwise the
    /// backends this thread queued writes on since it last committed (weak:
    /// a closed backend applied its queue as it closed).
    static OWED: RefCell<Option<Vec<Weak<dyn Drain>>>> = const { RefCell::new(None) };
}

/// From now on, this thread's deferred writes wait for its next
/// [`commit_deferred`]; the thread promises to call it before it waits for
/// anything and at least every few milliseconds while it works.
pub fn defer_commits() {
    OWED.with(|owed| {
        owed.borrow_mut().get_or_insert_with(Vec::new);
    });
}

/// Applies the writes this thread deferred, with whatever else is queued
/// on their backends.
pub fn commit_deferred() {
    let due = OWED.with(|owed| owed.borrow_mut().as_mut().map(std::mem::take));
    for backend in due.into_iter().flatten() {
        if let Some(backend) = backend.upgrade() {
            backend.drain();
        }
    }
}

/// Notes that this thread queued a write on `backend`; false when the
/// thread does not defer, and the caller must drain now.
pub(crate) fn owe<D: Drain + 'static>(backend: &Arc<D>) -> bool {
    let this = Arc::as_ptr(backend).cast::<()>();
    OWED.with(|owed| match owed.borrow_mut().as_mut() {
        None => false,
        Some(list) => {
            if !list.iter().any(|b| b.as_ptr().cast::<()>() == this) {
                let weak: Weak<D> = Arc::downgrade(backend);
                list.push(weak);
            }
            true
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Drain for Counter {
        fn drain(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_thread_that_does_not_defer_drains_at_once() {
        std::thread::spawn(|| {
            assert!(!owe(&Arc::new(Counter::default())));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_deferring_thread_drains_each_backend_once_when_it_commits() {
        std::thread::spawn(|| {
            defer_commits();
            let a = Arc::new(Counter::default());
            let b = Arc::new(Counter::default());
            assert!(owe(&a) && owe(&a) && owe(&b));
            assert_eq!(
                a.0.load(Ordering::SeqCst),
                0,
                "nothing applied before the commit"
            );
            commit_deferred();
            assert_eq!(
                (a.0.load(Ordering::SeqCst), b.0.load(Ordering::SeqCst)),
                (1, 1)
            );
            // Nothing owed: the next commit drains nothing.
            commit_deferred();
            assert_eq!(a.0.load(Ordering::SeqCst), 1);
            // Still deferring afterwards; a backend gone meanwhile is skipped.
            assert!(owe(&a) && owe(&b));
            drop(b);
            commit_deferred();
            assert_eq!(a.0.load(Ordering::SeqCst), 2);
        })
        .join()
        .unwrap();
    }
}
