//! Counters behind `/stats`, with Riak's names.
//!
//! Riak reports both a one-minute count (`node_gets`) and a total since start
//! (`node_gets_total`); a minute window of per-second buckets serves the first.
//! Coordinator times (`node_get_fsm_time_95`, …) are percentiles over about
//! the last minute, in microseconds, as Riak's sliding histograms are.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// A counter with a total and a sliding one-minute count.
///
/// Lock-free: every vnode and coordinator bumps these, and a thread that a
/// full core preempts while holding a lock would stall all the others.
#[derive(Debug)]
pub struct Counter {
    start: Instant,
    total: AtomicU64,
    /// One slot per second of the minute: the second (high 32 bits) and the
    /// count within it (low 32 bits).
    slots: [AtomicU64; 60],
}

impl Default for Counter {
    fn default() -> Self {
        Counter {
            start: Instant::now(),
            total: AtomicU64::new(0),
            slots: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Counter {
    pub fn incr(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        self.add_at(self.now(), n);
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Count over the last 60 seconds.
    pub fn last_minute(&self) -> u64 {
        self.last_minute_at(self.now())
    }

    /// Seconds since start, counted from 1 so that a zeroed slot is no second.
    fn now(&self) -> u64 {
        self.start.elapsed().as_secs() + 1
    }

    fn add_at(&self, sec: u64, n: u64) {
        let slot = &self.slots[(sec % 60) as usize];
        let tag = (sec & 0xffff_ffff) << 32;
        let n = n.min(0xffff_ffff);
        let mut cur = slot.load(Ordering::Relaxed);
        loop {
            // A slot still holding an older second starts over.
            let next = if cur & !0xffff_ffff == tag {
                tag | (cur & 0xffff_ffff).saturating_add(n).min(0xffff_ffff)
            } else {
                tag | n
            };
            match slot.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(seen) => cur = seen,
            }
        }
    }

    fn last_minute_at(&self, sec: u64) -> u64 {
        let sec = sec & 0xffff_ffff;
        self.slots
            .iter()
            .map(|slot| slot.load(Ordering::Relaxed))
            .filter(|v| sec.wrapping_sub(v >> 32) & 0xffff_ffff < 60)
            .map(|v| v & 0xffff_ffff)
            .sum()
    }
}

/// Seconds each histogram of a [`Timer`] covers.
const SLOT_SECS: u64 = 10;
/// Histograms a [`Timer`] keeps: the current one and the five before it.
const SLOTS: usize = 6;
/// Longest time recorded exactly; longer ones count as this (µs).
const MAX_US: u64 = 60_000_000;

/// Latencies of about the last minute: six ten-second histograms, the
/// oldest reused for the next ten seconds.
#[derive(Debug)]
pub struct Timer {
    start: Instant,
    window: Mutex<TimerWindow>,
}

#[derive(Debug)]
struct TimerWindow {
    /// Which ten-second period each slot holds.
    periods: [u64; SLOTS],
    hists: Vec<Histogram<u64>>,
}

/// Percentiles of a [`Timer`]'s window, in microseconds; all 0 when empty.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TimerSummary {
    pub count: u64,
    pub mean: u64,
    pub median: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
}

impl Default for Timer {
    fn default() -> Self {
        let hist = Histogram::new_with_bounds(1, MAX_US, 2).expect("static histogram bounds");
        Timer {
            start: Instant::now(),
            window: Mutex::new(TimerWindow {
                periods: [u64::MAX; SLOTS],
                hists: vec![hist; SLOTS],
            }),
        }
    }
}

impl Timer {
    pub fn record(&self, took: Duration) {
        self.record_at(self.start.elapsed(), took);
    }

    pub fn summary(&self) -> TimerSummary {
        self.summary_at(self.start.elapsed())
    }

    fn record_at(&self, now: Duration, took: Duration) {
        let us = u64::try_from(took.as_micros())
            .unwrap_or(MAX_US)
            .clamp(1, MAX_US);
        let period = now.as_secs() / SLOT_SECS;
        let slot = (period % SLOTS as u64) as usize;
        let mut w = self.window.lock().expect("stats lock");
        if w.periods[slot] != period {
            w.periods[slot] = period;
            w.hists[slot].reset();
        }
        w.hists[slot].saturating_record(us);
    }

    fn summary_at(&self, now: Duration) -> TimerSummary {
        let period = now.as_secs() / SLOT_SECS;
        let w = self.window.lock().expect("stats lock");
        let mut all = w.hists[0].clone();
        all.reset();
        for (p, h) in w.periods.iter().zip(&w.hists) {
            // A slot is in the window when it holds one of the last six periods.
            if *p <= period && period - *p < SLOTS as u64 {
                all.add(h).expect("same bounds");
            }
        }
        drop(w);
        if all.is_empty() {
            return TimerSummary::default();
        }
        TimerSummary {
            count: all.len(),
            mean: all.mean().round() as u64,
            median: all.value_at_quantile(0.5),
            p95: all.value_at_quantile(0.95),
            p99: all.value_at_quantile(0.99),
            max: all.max(),
        }
    }
}

/// The node's KV statistics.
#[derive(Debug, Default)]
pub struct KvStats {
    pub node_gets: Counter,
    pub node_puts: Counter,
    pub node_deletes: Counter,
    pub vnode_gets: Counter,
    pub vnode_puts: Counter,
    pub read_repairs: Counter,
    pub corrupt_objects: Counter,
    pub overloads: Counter,
    pub siblings_warnings: Counter,
    pub tombstones_reaped: Counter,
    /// Coordinated gets (plain and data type), from request to reply.
    pub get_fsm_time: Timer,
    /// Coordinated puts (plain and data type), from request to reply.
    pub put_fsm_time: Timer,
}

impl KvStats {
    /// Riak's flat JSON names for what exists.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        let mut put = |name: &str, c: &Counter| {
            m.insert(name.to_string(), c.last_minute().into());
            m.insert(format!("{name}_total"), c.total().into());
        };
        put("node_gets", &self.node_gets);
        put("node_puts", &self.node_puts);
        put("node_deletes", &self.node_deletes);
        put("vnode_gets", &self.vnode_gets);
        put("vnode_puts", &self.vnode_puts);
        put("read_repairs", &self.read_repairs);
        put("corrupt_objects", &self.corrupt_objects);
        put("dropped_vnode_requests", &self.overloads);
        put("siblings_warnings", &self.siblings_warnings);
        put("tombstones_reaped", &self.tombstones_reaped);
        timer(&mut m, "node_get_fsm_time", &self.get_fsm_time);
        timer(&mut m, "node_put_fsm_time", &self.put_fsm_time);
        m
    }
}

/// Riak's names for a timer: `<name>_mean`, `_median`, `_95`, `_99`, `_100`.
fn timer(m: &mut serde_json::Map<String, serde_json::Value>, name: &str, t: &Timer) {
    let s = t.summary();
    for (suffix, v) in [
        ("mean", s.mean),
        ("median", s.median),
        ("95", s.p95),
        ("99", s.p99),
        ("100", s.max),
    ] {
        m.insert(format!("{name}_{suffix}"), v.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_total_and_minute() {
        let c = Counter::default();
        c.incr();
        c.add(4);
        assert_eq!(c.total(), 5);
        assert_eq!(c.last_minute(), 5);
        let j = KvStats::default().to_json();
        assert_eq!(j["node_gets_total"], 0);
        assert!(j.contains_key("read_repairs"));
        assert_eq!(j["node_put_fsm_time_99"], 0);
    }

    #[test]
    fn a_counter_forgets_what_is_older_than_a_minute() {
        let c = Counter::default();
        c.add_at(1, 3);
        c.add_at(30, 4);
        assert_eq!(c.last_minute_at(60), 7);
        assert_eq!(c.last_minute_at(61), 4);
        // Second 61 reuses second 1's slot and starts it over.
        c.add_at(61, 2);
        assert_eq!(c.last_minute_at(61), 6);
        assert_eq!(c.last_minute_at(200), 0);
    }

    #[test]
    fn a_timer_reports_percentiles_of_its_window() {
        let t = Timer::default();
        let at = Duration::from_secs(3);
        for ms in 1..=100 {
            t.record_at(at, Duration::from_millis(ms));
        }
        let s = t.summary_at(at);
        assert_eq!(s.count, 100);
        // Two significant digits: values are exact to within 1 %.
        assert!((49_500..=51_000).contains(&s.median), "{s:?}");
        assert!((94_500..=96_000).contains(&s.p95), "{s:?}");
        assert!((98_500..=100_000).contains(&s.p99), "{s:?}");
        assert!((99_000..=101_000).contains(&s.max), "{s:?}");
        assert!((50_000..=51_000).contains(&s.mean), "{s:?}");
    }

    #[test]
    fn a_timer_forgets_what_is_older_than_a_minute() {
        let t = Timer::default();
        t.record_at(Duration::from_secs(5), Duration::from_millis(40));
        t.record_at(Duration::from_secs(25), Duration::from_millis(2));
        // At 59 s both periods are in the window.
        assert_eq!(t.summary_at(Duration::from_secs(59)).count, 2);
        // At 60 s the first ten-second period has left it.
        let s = t.summary_at(Duration::from_secs(60));
        assert_eq!(s.count, 1);
        assert!(s.max < 3_000, "{s:?}");
        // A record in a reused slot replaces that slot's old period.
        t.record_at(Duration::from_secs(65), Duration::from_millis(7));
        let s = t.summary_at(Duration::from_secs(65));
        assert_eq!(s.count, 2);
        assert_eq!(
            t.summary_at(Duration::from_secs(200)),
            TimerSummary::default()
        );
    }
}
