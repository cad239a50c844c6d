//! Wall-clock time behind a trait, so simulations and tests can own time.
//!
//! Logic takes a `&dyn Clock`; only `SystemClock` reads the system time
//! (clippy's `disallowed-methods` keeps it that way).

use std::sync::atomic::{AtomicU64, Ordering};

pub trait Clock: Send + Sync + 'static {
    /// Microseconds since the Unix epoch.
    fn now_us(&self) -> u64;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now_us(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn new(start_us: u64) -> Self {
        ManualClock(AtomicU64::new(start_us))
    }
    pub fn advance(&self, us: u64) {
        self.0.fetch_add(us, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_us(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_when_told() {
        let c = ManualClock::new(5);
        assert_eq!(c.now_us(), 5);
        c.advance(10);
        assert_eq!(c.now_us(), 15);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_us() > 1_577_836_800_000_000);
    }
}
