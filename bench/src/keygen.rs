//! Key choice and value contents for the workers: the sequential, uniform
//! and pareto key generators, drawing from each worker's own [`Rng`].
//!
//! The pareto generator is the self-similar 80/20 distribution: a fraction
//! h of the keys gets 1 − h of the operations, at every scale.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::args::{KeyGenKind, ValueSize};
use crate::rng::Rng;

/// The share of keys that receives `1 - PARETO_H` of the operations.
const PARETO_H: f64 = 0.2;

/// Chooses key indices in `0..keys`.
#[derive(Clone, Debug)]
pub struct KeyGen {
    kind: KeyGenKind,
    keys: u64,
    /// Shared by all workers for `sequential`.
    counter: Arc<AtomicU64>,
}

impl KeyGen {
    pub fn new(kind: KeyGenKind, keys: u64) -> KeyGen {
        KeyGen {
            kind,
            keys: keys.max(1),
            counter: Arc::default(),
        }
    }

    pub fn next(&self, rng: &mut Rng) -> u64 {
        match self.kind {
            KeyGenKind::Sequential => self.counter.fetch_add(1, Ordering::Relaxed) % self.keys,
            KeyGenKind::Uniform => rng.below(self.keys),
            KeyGenKind::Pareto => {
                let exponent = PARETO_H.ln() / (1.0 - PARETO_H).ln();
                let x = (self.keys as f64 * rng.unit().powf(exponent)) as u64;
                x.min(self.keys - 1)
            }
        }
    }
}

/// The key for an index: its decimal form.
pub fn key_name(index: u64) -> String {
    index.to_string()
}

/// Values are slices of one random buffer, so making one costs nothing.
#[derive(Clone, Debug)]
pub struct Values {
    buf: Bytes,
    size: ValueSize,
}

impl Values {
    pub fn new(size: ValueSize, seed: u64) -> Values {
        let mut rng = Rng::new(seed ^ 0x5EED_F00D);
        let mut buf = Vec::with_capacity(size.max + 8);
        while buf.len() < size.max {
            buf.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        buf.truncate(size.max);
        Values {
            buf: Bytes::from(buf),
            size,
        }
    }

    pub fn next(&self, rng: &mut Rng) -> Bytes {
        let span = (self.size.max - self.size.min) as u64;
        let len = self.size.min + rng.below(span + 1) as usize;
        self.buf.slice(..len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_walks_the_key_space_across_clones() {
        let keys_gen = KeyGen::new(KeyGenKind::Sequential, 3);
        let other = keys_gen.clone();
        let mut rng = Rng::new(1);
        let got: Vec<u64> = (0..4)
            .map(|i| {
                if i % 2 == 0 {
                    keys_gen.next(&mut rng)
                } else {
                    other.next(&mut rng)
                }
            })
            .collect();
        assert_eq!(got, vec![0, 1, 2, 0]);
    }

    #[test]
    fn uniform_covers_the_key_space_evenly() {
        let keys_gen = KeyGen::new(KeyGenKind::Uniform, 10);
        let mut rng = Rng::new(7);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[keys_gen.next(&mut rng) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn pareto_sends_most_operations_to_a_fifth_of_the_keys() {
        let keys = 10_000;
        let keys_gen = KeyGen::new(KeyGenKind::Pareto, keys);
        let mut rng = Rng::new(3);
        let n = 100_000;
        let hot = (0..n)
            .filter(|_| keys_gen.next(&mut rng) < keys / 5)
            .count();
        let share = hot as f64 / n as f64;
        assert!((0.78..0.82).contains(&share), "hot share {share}");
        assert!((0..1000).all(|_| keys_gen.next(&mut rng) < keys));
    }

    #[test]
    fn values_stay_within_the_size_range() {
        let values = Values::new(ValueSize { min: 5, max: 9 }, 1);
        let mut rng = Rng::new(2);
        let lens: Vec<usize> = (0..1000).map(|_| values.next(&mut rng).len()).collect();
        assert!(lens.iter().all(|l| (5..=9).contains(l)));
        assert!(lens.contains(&5) && lens.contains(&9));
        let fixed = Values::new(ValueSize { min: 3, max: 3 }, 1);
        assert_eq!(fixed.next(&mut rng).len(), 3);
    }
}
