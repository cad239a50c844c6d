//! Counters behind `/stats`, with Riak's names.
//!
//! Riak reports both a one-minute count (`node_gets`) and a total since start
//! (`node_gets_total`); a minute window of per-second buckets serves the first.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A counter with a total and a sliding one-minute count.
#[derive(Debug)]
pub struct Counter {
    total: AtomicU64,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    last_sec: u64,
    slots: [u64; 60],
}

impl Default for Counter {
    fn default() -> Self {
        Counter {
            total: AtomicU64::new(0),
            window: Mutex::new(Window {
                start: Instant::now(),
                last_sec: 0,
                slots: [0; 60],
            }),
        }
    }
}

impl Counter {
    pub fn incr(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        let mut w = self.window.lock().expect("stats lock");
        w.advance();
        let slot = (w.last_sec % 60) as usize;
        w.slots[slot] += n;
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Count over the last 60 seconds.
    pub fn last_minute(&self) -> u64 {
        let mut w = self.window.lock().expect("stats lock");
        w.advance();
        w.slots.iter().sum()
    }
}

impl Window {
    fn advance(&mut self) {
        let now = self.start.elapsed().as_secs();
        // Clear the slots of the seconds that passed since the last update.
        let gap = now.saturating_sub(self.last_sec).min(60);
        for i in 1..=gap {
            self.slots[((self.last_sec + i) % 60) as usize] = 0;
        }
        self.last_sec = now;
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
        m
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
    }
}
