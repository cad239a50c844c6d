//! The register inside maps: Riak's `riak_dt_lwwreg`, a value and a
//! microsecond timestamp. The larger timestamp wins a merge; on equal
//! timestamps the larger value (byte order) wins, so merges commute.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LwwReg {
    value: ByteBuf,
    ts: u64,
}

impl LwwReg {
    pub fn new() -> Self {
        LwwReg::default()
    }

    /// The value; empty for a register never assigned.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    pub fn timestamp(&self) -> u64 {
        self.ts
    }

    /// Assigns at `now_us`. If the stored timestamp is not older (a clock
    /// that lags), the assignment takes the stored timestamp + 1 so it still
    /// replaces the value it was applied to (Riak would drop it).
    pub(crate) fn assign(&mut self, value: &[u8], now_us: u64) {
        self.ts = now_us.max(self.ts.saturating_add(1));
        self.value = ByteBuf::from(value);
    }

    pub fn merge(&mut self, other: &LwwReg) {
        if (other.ts, &other.value) > (self.ts, &self.value) {
            self.ts = other.ts;
            self.value = other.value.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_timestamp_then_larger_value_wins() {
        let mut a = LwwReg::new();
        a.assign(b"old", 10);
        let mut b = LwwReg::new();
        b.assign(b"new", 20);
        let mut m = a.clone();
        m.merge(&b);
        assert_eq!(m.value(), b"new");
        let mut tie_a = LwwReg::new();
        tie_a.assign(b"apple", 5);
        let mut tie_b = LwwReg::new();
        tie_b.assign(b"banana", 5);
        let (mut x, mut y) = (tie_a.clone(), tie_b.clone());
        x.merge(&tie_b);
        y.merge(&tie_a);
        assert_eq!(x, y);
        assert_eq!(x.value(), b"banana");
    }

    #[test]
    fn assign_with_a_lagging_clock_still_replaces() {
        let mut r = LwwReg::new();
        r.assign(b"one", 100);
        r.assign(b"two", 50);
        assert_eq!(r.value(), b"two");
        assert_eq!(r.timestamp(), 101);
    }
}
