//! The ring: a fixed number of partitions over the 160-bit SHA-1 space.
//!
//! Partition `i` starts at `i * 2^160 / ring_size`. A key belongs to the first
//! partition *after* its hash, as in riak_core (`(hash / inc + 1) mod size`).
//! Membership, claim and gossip build on this value in later layers; here it
//! is only the ownership table and the arithmetic.

use crate::chash::HashKey;
use crate::error::{CoreError, Result};
use serde::{Deserialize, Serialize};

/// A node's name, e.g. `rill@127.0.0.1`.
pub type NodeName = String;

/// A partition number, `0..ring_size`.
pub type PartitionId = u32;

/// The ownership table: which node owns each partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ring {
    owners: Vec<NodeName>,
}

impl Ring {
    /// A ring of `size` partitions, all owned by `node` (a fresh one-node cluster).
    pub fn new(size: u32, node: &str) -> Result<Ring> {
        if !(8..=1024).contains(&size) || !size.is_power_of_two() {
            return Err(CoreError::InvalidRingSize(size));
        }
        Ok(Ring {
            owners: vec![node.to_string(); size as usize],
        })
    }

    /// A ring with the given owners (their number must be a valid ring size).
    pub fn from_owners(owners: Vec<NodeName>) -> Ring {
        debug_assert!(owners.len().is_power_of_two());
        Ring { owners }
    }

    pub fn owners_vec(&self) -> &[NodeName] {
        &self.owners
    }

    pub fn size(&self) -> u32 {
        self.owners.len() as u32
    }

    pub fn owner(&self, p: PartitionId) -> &NodeName {
        &self.owners[p as usize]
    }

    pub fn owners(&self) -> impl Iterator<Item = (PartitionId, &NodeName)> {
        self.owners.iter().enumerate().map(|(i, n)| (i as u32, n))
    }

    /// Distinct owners, sorted.
    pub fn members(&self) -> Vec<NodeName> {
        let mut m: Vec<NodeName> = self.owners.clone();
        m.sort();
        m.dedup();
        m
    }

    /// The partitions `node` owns.
    pub fn partitions_of(&self, node: &str) -> Vec<PartitionId> {
        self.owners()
            .filter(|(_, n)| n.as_str() == node)
            .map(|(p, _)| p)
            .collect()
    }

    /// The first partition of a key's preference list.
    pub fn partition_of(&self, hash: &HashKey) -> PartitionId {
        let bits = self.size().trailing_zeros();
        let top = u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]);
        let below = top >> (32 - bits);
        (below + 1) % self.size()
    }

    /// Riak's partition index: the 160-bit start of the partition, in decimal.
    pub fn partition_index(&self, p: PartitionId) -> String {
        let bits = self.size().trailing_zeros();
        // p * 2^(160 - bits) as a big number in 20 bytes, then to decimal.
        let mut be = [0u8; 20];
        let shifted = p << (32 - bits);
        be[..4].copy_from_slice(&shifted.to_be_bytes());
        big_to_decimal(&be)
    }
}

/// Decimal rendering of a big-endian unsigned integer.
fn big_to_decimal(be: &[u8]) -> String {
    let mut n: Vec<u8> = be.to_vec();
    let mut digits = Vec::new();
    while n.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for b in n.iter_mut() {
            let cur = (rem << 8) | *b as u32;
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits.reverse();
    String::from_utf8(digits).expect("ascii digits")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chash::key_hash;

    #[test]
    fn riak_vector_lands_on_partition_31() {
        let ring = Ring::new(64, "a").unwrap();
        let h = key_hash(b"default", b"mybucket", b"mykey");
        let p = ring.partition_of(&h);
        assert_eq!(p, 31);
        assert_eq!(
            ring.partition_index(p),
            "707914855582156101004909840846949587645842325504"
        );
    }

    #[test]
    fn last_partition_wraps_to_zero() {
        let ring = Ring::new(8, "a").unwrap();
        assert_eq!(ring.partition_of(&[0xff; 20]), 0);
        assert_eq!(ring.partition_of(&[0x00; 20]), 1);
        assert_eq!(ring.partition_index(0), "0");
    }

    #[test]
    fn rejects_bad_sizes() {
        assert!(Ring::new(63, "a").is_err());
        assert!(Ring::new(4, "a").is_err());
        assert!(Ring::new(2048, "a").is_err());
        assert!(Ring::new(1024, "a").is_ok());
    }
}
