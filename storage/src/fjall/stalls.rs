//! Counts the write batches fjall was slow to apply, for `/stats`.
//!
//! A batch holds fjall's journal lock while it inserts into each store's
//! memtable, and an insert waits while fjall's own threads hold that
//! store's version lock (they fsync version files under it after every
//! flush and compaction), so one slow batch holds up every write of the
//! node (docs/performance.md, 2026-12-04 (fourth round)). These counters
//! let an operator see how often that happens and for how long.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::CommitStats;

/// A batch that took longer than this to apply counts as stalled: a
/// normal batch of a few dozen writes takes well under 100 µs.
pub(super) const STALL: Duration = Duration::from_millis(1);

#[derive(Default)]
pub(super) struct Stalls {
    batches: AtomicU64,
    stalled: AtomicU64,
    stalled_us: AtomicU64,
}

impl Stalls {
    /// Notes one batch that took `took` to apply.
    pub(super) fn record(&self, took: Duration) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        if took > STALL {
            self.stalled.fetch_add(1, Ordering::Relaxed);
            let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
            self.stalled_us.fetch_add(us, Ordering::Relaxed);
        }
    }

    pub(super) fn stats(&self) -> CommitStats {
        CommitStats {
            batches: self.batches.load(Ordering::Relaxed),
            stalled: self.stalled.load(Ordering::Relaxed),
            stalled_us: self.stalled_us.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_batches_over_a_millisecond_count_as_stalled() {
        let s = Stalls::default();
        s.record(Duration::from_micros(80));
        s.record(STALL);
        s.record(Duration::from_micros(4_500));
        s.record(Duration::from_millis(2));
        let want = CommitStats {
            batches: 4,
            stalled: 2,
            stalled_us: 6_500,
        };
        assert_eq!(s.stats(), want);
    }
}
