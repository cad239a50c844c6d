//! The commit thread's share of the cores.
//!
//! Every write of a node passes through the commit thread, so whenever it
//! waits for a core, every writer waits with it. On a loaded two-core node it
//! was runnable but not running for a third of the time, behind the vnode and
//! network threads whose requests it was about to complete. A lower nice
//! value gives it a larger share when the cores are contended; it only ever
//! runs when there is work queued, so it takes nothing from the others when
//! idle. Raising a thread's priority needs `CAP_SYS_NICE` (or root, or a
//! `RLIMIT_NICE` that allows it); without it the thread keeps the default
//! and the node works the same, only slower under load
//! (docs/decisions/0013).

/// The nice value asked for: a weight of about ten times a default thread's
/// under Linux's scheduler.
pub(super) const COMMIT_NICE: i32 = -10;

/// Gives the calling thread the nice value `nice`; says whether it took.
#[cfg(target_os = "linux")]
pub(super) fn set_this_thread_nice(nice: i32) -> bool {
    // SAFETY: plain system calls on the calling thread, no memory passed.
    // On Linux a nice value belongs to a thread, and `gettid` names this one.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS as _, tid as libc::id_t, nice) == 0
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn set_this_thread_nice(_nice: i32) -> bool {
    false
}

/// This thread's nice value (Linux; `None` elsewhere or on failure).
#[cfg(all(test, target_os = "linux"))]
fn this_thread_nice() -> Option<i32> {
    // SAFETY: as above; -1 is also a valid nice value, so errno tells.
    unsafe {
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS as _, libc::gettid() as libc::id_t);
        (*libc::__errno_location() == 0).then_some(nice)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Lowering the priority is always allowed, and only this thread moves.
    #[test]
    fn sets_the_calling_thread_only() {
        let before = this_thread_nice().unwrap();
        let lower = (before + 1).min(19);
        let moved = std::thread::spawn(move || {
            assert!(set_this_thread_nice(lower));
            this_thread_nice().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(moved, lower);
        assert_eq!(this_thread_nice().unwrap(), before);
    }

    /// Raising it either takes or leaves the thread as it was.
    #[test]
    fn raising_takes_or_changes_nothing() {
        std::thread::spawn(|| {
            let before = this_thread_nice().unwrap();
            let took = set_this_thread_nice(COMMIT_NICE);
            let after = this_thread_nice().unwrap();
            assert_eq!(after, if took { COMMIT_NICE } else { before });
        })
        .join()
        .unwrap();
    }
}
