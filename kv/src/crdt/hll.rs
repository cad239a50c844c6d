//! HyperLogLog sets (Riak's `riak_kv_hll`): 2^p six-bit registers fed by a
//! 64-bit xxh3 hash of each member; merge takes the register-wise maximum
//! (after reducing both sides to the smaller precision). The estimate uses
//! Ertl's improved estimator, which needs no bias tables and is accurate from
//! empty to very large cardinalities.

use super::error::{CrdtError, Result};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

pub const MIN_PRECISION: u32 = 4;
pub const MAX_PRECISION: u32 = 16;
/// Riak's default `hll_precision`.
pub const DEFAULT_PRECISION: u32 = 14;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "HllRepr", try_from = "HllRepr")]
pub struct Hll {
    p: u32,
    /// 2^p registers: the largest "leading zeros + 1" seen per bucket.
    registers: Vec<u8>,
}

impl Default for Hll {
    fn default() -> Self {
        Hll::new()
    }
}

impl Hll {
    /// An empty HLL at the default precision (14).
    pub fn new() -> Self {
        Hll {
            p: DEFAULT_PRECISION,
            registers: vec![0; 1 << DEFAULT_PRECISION],
        }
    }

    pub fn with_precision(p: u32) -> Result<Self> {
        check_precision(p)?;
        Ok(Hll {
            p,
            registers: vec![0; 1 << p],
        })
    }

    pub fn precision(&self) -> u32 {
        self.p
    }

    pub fn add(&mut self, member: &[u8]) {
        let hash = xxh3_64(member);
        let index = (hash >> (64 - self.p)) as usize;
        // The remaining 64 − p bits, left-aligned; an all-zero tail counts as
        // 64 − p + 1, the largest register value at this precision.
        let tail = hash << self.p;
        let rank = (tail.leading_zeros().min(64 - self.p) + 1) as u8;
        let r = &mut self.registers[index];
        *r = (*r).max(rank);
    }

    /// Lowers the precision to `p` (never raises it), as Riak does when a
    /// bucket's `hll_precision` is reduced. The result is what adding the
    /// same members at precision `p` would have given.
    pub fn reduce(&mut self, p: u32) -> Result<()> {
        check_precision(p)?;
        if p >= self.p {
            return Ok(());
        }
        let shift = self.p - p;
        let mut registers = vec![0u8; 1 << p];
        for (i, &r) in self.registers.iter().enumerate() {
            if r == 0 {
                continue;
            }
            // The low `shift` bits of the old index become the head of the
            // new tail: they decide the rank unless they are all zero.
            let moved = (i as u64) & ((1 << shift) - 1);
            let rank = if moved == 0 {
                r as u32 + shift
            } else {
                shift - (64 - moved.leading_zeros()) + 1
            };
            let slot = &mut registers[i >> shift];
            *slot = (*slot).max(rank as u8);
        }
        self.p = p;
        self.registers = registers;
        Ok(())
    }

    pub fn merge(&mut self, other: &Hll) {
        let p = self.p.min(other.p);
        // Precisions are valid here, so reducing cannot fail.
        let _ = self.reduce(p);
        let mut theirs;
        let other = if other.p > p {
            theirs = other.clone();
            let _ = theirs.reduce(p);
            &theirs
        } else {
            other
        };
        for (a, &b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(b);
        }
    }

    /// The cardinality estimate, rounded as Riak rounds it.
    pub fn value(&self) -> u64 {
        self.estimate().round() as u64
    }

    /// Ertl, "New cardinality estimation algorithms for HyperLogLog
    /// sketches" (2017), the improved raw estimator.
    pub fn estimate(&self) -> f64 {
        let q = 64 - self.p as usize;
        let m = self.registers.len() as f64;
        let mut counts = vec![0u32; q + 2];
        for &r in &self.registers {
            counts[(r as usize).min(q + 1)] += 1;
        }
        let mut z = m * tau(1.0 - f64::from(counts[q + 1]) / m);
        for k in (1..=q).rev() {
            z = 0.5 * (z + f64::from(counts[k]));
        }
        z += m * sigma(f64::from(counts[0]) / m);
        let alpha_inf = 1.0 / (2.0 * std::f64::consts::LN_2);
        alpha_inf * m * m / z
    }
}

fn check_precision(p: u32) -> Result<()> {
    if (MIN_PRECISION..=MAX_PRECISION).contains(&p) {
        Ok(())
    } else {
        Err(CrdtError::BadPrecision(p))
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if z == previous {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z == previous {
            return z / 3.0;
        }
    }
}

/// Stored form: registers dense (`[u8; 2^p]`) or, while few are set, sparse
/// as `(index u16 BE, value u8)` triples in index order.
#[derive(Serialize, Deserialize)]
struct HllRepr {
    p: u32,
    #[serde(with = "serde_bytes")]
    dense: Vec<u8>,
    #[serde(with = "serde_bytes")]
    sparse: Vec<u8>,
}

impl From<Hll> for HllRepr {
    fn from(h: Hll) -> HllRepr {
        let set = h.registers.iter().filter(|&&r| r != 0).count();
        if set * 3 < h.registers.len() {
            let mut sparse = Vec::with_capacity(set * 3);
            for (i, &r) in h.registers.iter().enumerate() {
                if r != 0 {
                    sparse.extend_from_slice(&(i as u16).to_be_bytes());
                    sparse.push(r);
                }
            }
            HllRepr {
                p: h.p,
                dense: Vec::new(),
                sparse,
            }
        } else {
            HllRepr {
                p: h.p,
                dense: h.registers,
                sparse: Vec::new(),
            }
        }
    }
}

impl TryFrom<HllRepr> for Hll {
    type Error = String;

    fn try_from(r: HllRepr) -> std::result::Result<Hll, String> {
        check_precision(r.p).map_err(|e| e.to_string())?;
        let len = 1usize << r.p;
        let max_rank = (64 - r.p + 1) as u8;
        let registers = if r.sparse.is_empty() && !r.dense.is_empty() {
            if r.dense.len() != len {
                return Err("hll register count does not match precision".into());
            }
            r.dense
        } else {
            if !r.dense.is_empty() || !r.sparse.len().is_multiple_of(3) {
                return Err("malformed sparse hll".into());
            }
            let mut registers = vec![0u8; len];
            for t in r.sparse.chunks_exact(3) {
                let i = usize::from(u16::from_be_bytes([t[0], t[1]]));
                if i >= len {
                    return Err("hll register index out of range".into());
                }
                registers[i] = t[2];
            }
            registers
        };
        if registers.iter().any(|&v| v > max_rank) {
            return Err("hll register value out of range".into());
        }
        Ok(Hll { p: r.p, registers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(p: u32, n: u32, salt: &str) -> Hll {
        let mut h = Hll::with_precision(p).unwrap();
        for i in 0..n {
            h.add(format!("{salt}-{i}").as_bytes());
        }
        h
    }

    #[test]
    fn estimate_within_error_at_default_precision() {
        assert_eq!(Hll::new().value(), 0);
        let h = filled(14, 10_000, "member");
        let err = (h.value() as f64 - 10_000.0).abs() / 10_000.0;
        assert!(err < 0.02, "estimate {} for 10000", h.value());
        // Adding the same members again changes nothing.
        let mut again = h.clone();
        for i in 0..10_000 {
            again.add(format!("member-{i}").as_bytes());
        }
        assert_eq!(again, h);
    }

    #[test]
    fn small_and_large_cardinalities() {
        for &(p, n, tolerance) in &[
            (14, 10, 0.0),
            (14, 100, 0.02),
            (10, 100_000, 0.1),
            (4, 50, 0.6),
        ] {
            let v = filled(p, n, "x").value() as f64;
            let err = (v - f64::from(n)).abs() / f64::from(n);
            assert!(err <= tolerance, "p={p} n={n}: estimate {v}");
        }
    }

    #[test]
    fn reduce_equals_adding_at_lower_precision() {
        let mut high = filled(14, 3000, "r");
        high.reduce(9).unwrap();
        assert_eq!(high, filled(9, 3000, "r"));
        assert!(high.reduce(17).is_err());
        high.reduce(12).unwrap();
        assert_eq!(high.precision(), 9, "never raised");
    }

    #[test]
    fn merge_is_union_at_the_lower_precision() {
        let a = filled(12, 2000, "a");
        let b = filled(14, 2000, "b");
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.precision(), 12);
        let v = ab.value() as f64;
        assert!((v - 4000.0).abs() / 4000.0 < 0.05, "union estimate {v}");
    }

    #[test]
    fn precision_bounds() {
        assert_eq!(
            Hll::with_precision(3).unwrap_err().to_string(),
            "Precision for HLL datatype must be between 4 and 16, inclusive"
        );
        assert!(Hll::with_precision(17).is_err());
        assert!(Hll::with_precision(4).is_ok() && Hll::with_precision(16).is_ok());
    }
}
