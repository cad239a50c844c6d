//! Latency and error accounting: per operation, an HDR histogram of the
//! successful requests' latencies (µs) and error counts by kind, kept in
//! one-second windows that the reporter drains into totals.
//!
//! Turning these numbers into tables, files and plots is `crate::report`'s.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::args::Op;

/// Highest latency tracked exactly: one hour, in µs.
const MAX_US: u64 = 3_600_000_000;

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("static histogram bounds are valid")
}

/// What happened to one operation during a window or the whole run.
#[derive(Clone, Debug)]
pub struct OpStats {
    /// Latencies of successful requests, µs.
    pub hist: Histogram<u64>,
    pub errors: u64,
    pub error_kinds: BTreeMap<&'static str, u64>,
    /// The first message seen for each error kind.
    pub error_examples: BTreeMap<&'static str, String>,
}

impl Default for OpStats {
    fn default() -> OpStats {
        OpStats {
            hist: new_histogram(),
            errors: 0,
            error_kinds: BTreeMap::new(),
            error_examples: BTreeMap::new(),
        }
    }
}

impl OpStats {
    /// Successful operations.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Adds another window's numbers to these.
    pub fn merge(&mut self, other: &OpStats) {
        self.hist.add(&other.hist).expect("histograms share bounds");
        self.errors += other.errors;
        for (kind, n) in &other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += n;
        }
        for (kind, msg) in &other.error_examples {
            self.error_examples
                .entry(kind)
                .or_insert_with(|| msg.clone());
        }
    }

    /// The `q` quantile in µs, 0 when nothing was recorded.
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.hist.is_empty() {
            0
        } else {
            self.hist.value_at_quantile(q)
        }
    }
}

/// Shared by all workers; one lock per operation.
pub struct Recorder {
    ops: Vec<Op>,
    windows: Vec<Mutex<OpStats>>,
}

impl Recorder {
    pub fn new(ops: &[Op]) -> Recorder {
        Recorder {
            ops: ops.to_vec(),
            windows: ops.iter().map(|_| Mutex::default()).collect(),
        }
    }

    fn window(&self, op: Op) -> std::sync::MutexGuard<'_, OpStats> {
        let i = self
            .ops
            .iter()
            .position(|&o| o == op)
            .expect("op is in the mix");
        self.windows[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record_ok(&self, op: Op, micros: u64) {
        self.window(op).hist.saturating_record(micros.max(1));
    }

    /// Counts a failure; `message` is only called for a kind's first
    /// failure in a window.
    pub fn record_error(&self, op: Op, kind: &'static str, message: impl FnOnce() -> String) {
        let mut w = self.window(op);
        w.errors += 1;
        *w.error_kinds.entry(kind).or_default() += 1;
        if !w.error_examples.contains_key(kind) {
            w.error_examples.insert(kind, message());
        }
    }

    /// Takes the current windows (in `ops()` order), leaving empty ones.
    pub fn take(&self) -> Vec<OpStats> {
        self.windows
            .iter()
            .map(|w| std::mem::take(&mut *w.lock().unwrap_or_else(|e| e.into_inner())))
            .collect()
    }
}

/// One row of the time series: one operation over one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimePoint {
    /// Seconds since the timed run started, at the window's end.
    pub elapsed_s: f64,
    /// Length of the window in seconds (1 except for the last).
    pub window_s: f64,
    pub op: Op,
    pub ops: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p99_us: u64,
}

impl TimePoint {
    pub fn ops_per_sec(&self) -> f64 {
        if self.window_s > 0.0 {
            self.ops as f64 / self.window_s
        } else {
            0.0
        }
    }
}

/// The final figures of one operation (or of all together).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpSummary {
    pub op: String,
    pub count: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    /// The first message seen for each error kind.
    pub error_examples: BTreeMap<String, String>,
    pub ops_per_sec: f64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl OpSummary {
    pub fn new(op: &str, stats: &OpStats, elapsed_s: f64) -> OpSummary {
        OpSummary {
            op: op.to_string(),
            count: stats.count(),
            errors: stats.errors,
            error_kinds: stats
                .error_kinds
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect(),
            error_examples: stats
                .error_examples
                .iter()
                .map(|(k, m)| (k.to_string(), m.clone()))
                .collect(),
            ops_per_sec: if elapsed_s > 0.0 {
                stats.count() as f64 / elapsed_s
            } else {
                0.0
            },
            mean_us: if stats.hist.is_empty() {
                0.0
            } else {
                stats.hist.mean()
            },
            p50_us: stats.quantile_us(0.50),
            p95_us: stats.quantile_us(0.95),
            p99_us: stats.quantile_us(0.99),
            p999_us: stats.quantile_us(0.999),
            max_us: if stats.hist.is_empty() {
                0
            } else {
                stats.hist.max()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_drain_into_totals() {
        let rec = Recorder::new(&[Op::Get, Op::Put]);
        for us in 1..=100 {
            rec.record_ok(Op::Get, us);
        }
        rec.record_error(Op::Put, "timeout", || "first".into());
        rec.record_error(Op::Put, "timeout", || {
            unreachable!("only the first is kept")
        });
        rec.record_error(Op::Put, "overload", || "busy".into());
        let first = rec.take();
        assert_eq!(first[0].count(), 100);
        assert_eq!(first[1].errors, 3);
        assert_eq!(first[1].error_kinds[&"timeout"], 2);
        assert_eq!(first[1].error_examples[&"timeout"], "first");
        // Taking again starts from empty windows.
        assert!(rec.take().iter().all(|w| w.count() == 0 && w.errors == 0));

        let mut total = OpStats::default();
        total.merge(&first[0]);
        total.merge(&first[0]);
        assert_eq!(total.count(), 200);
        let s = OpSummary::new("get", &total, 2.0);
        assert_eq!(s.ops_per_sec, 100.0);
        assert_eq!(s.p50_us, 50);
        assert_eq!(s.p99_us, 99);
        assert_eq!(s.max_us, 100);
    }

    #[test]
    fn empty_stats_summarise_to_zero() {
        let s = OpSummary::new("get", &OpStats::default(), 0.0);
        assert_eq!((s.count, s.p99_us, s.max_us), (0, 0, 0));
        assert_eq!(s.ops_per_sec, 0.0);
    }
}
