//! Preference lists ("active preference lists", riak_core_apl), as pure functions.
//!
//! The primaries of a key are the owners of the `n_val` partitions starting at
//! its first partition. A primary whose node is down is replaced by a fallback:
//! the owner of the next partition further round the ring whose node is up
//! (sloppy quorum). The fallback holds the primary's partition on its behalf.

use crate::ring::{NodeName, PartitionId, Ring};
use serde::{Deserialize, Serialize};

/// One target of a request: a partition on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefEntry {
    pub partition: PartitionId,
    pub node: NodeName,
    /// False for a fallback standing in for a down primary.
    pub primary: bool,
}

/// The `n` partitions starting at `first`, in ring order.
pub fn partitions(ring: &Ring, first: PartitionId, n: usize) -> Vec<PartitionId> {
    let size = ring.size();
    (0..n.min(size as usize) as u32)
        .map(|i| (first + i) % size)
        .collect()
}

/// The primary preference list, ignoring liveness.
pub fn primaries(ring: &Ring, first: PartitionId, n: usize) -> Vec<PrefEntry> {
    partitions(ring, first, n)
        .into_iter()
        .map(|p| PrefEntry {
            partition: p,
            node: ring.owner(p).clone(),
            primary: true,
        })
        .collect()
}

/// Primaries that are up, then one fallback for each primary that is down.
pub fn preflist(
    ring: &Ring,
    first: PartitionId,
    n: usize,
    is_up: impl Fn(&str) -> bool,
) -> Vec<PrefEntry> {
    let size = ring.size() as usize;
    let all = partitions(ring, first, size);
    let (prim, rest) = all.split_at(n.min(size));
    let mut out: Vec<PrefEntry> = Vec::with_capacity(n);
    let mut down = Vec::new();
    for &p in prim {
        let node = ring.owner(p);
        if is_up(node) {
            out.push(PrefEntry {
                partition: p,
                node: node.clone(),
                primary: true,
            });
        } else {
            down.push(p);
        }
    }
    let mut fallbacks = rest.iter().map(|&p| ring.owner(p)).filter(|n| is_up(n));
    for p in down {
        match fallbacks.next() {
            Some(node) => out.push(PrefEntry {
                partition: p,
                node: node.clone(),
                primary: false,
            }),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_node_ring() -> Ring {
        // Alternate owners a, b, a, b, ...
        let mut ring = Ring::new(8, "a").unwrap();
        ring = ring_with(&mut ring, |p| if p % 2 == 0 { "a" } else { "b" });
        ring
    }

    fn ring_with(ring: &mut Ring, f: impl Fn(u32) -> &'static str) -> Ring {
        let owners: Vec<String> = (0..ring.size()).map(|p| f(p).to_string()).collect();
        serde_json::from_value(serde_json::json!({ "owners": owners })).unwrap()
    }

    #[test]
    fn primaries_wrap_round_the_ring() {
        let ring = Ring::new(8, "a").unwrap();
        let ps: Vec<u32> = primaries(&ring, 7, 3).iter().map(|e| e.partition).collect();
        assert_eq!(ps, vec![7, 0, 1]);
    }

    #[test]
    fn all_up_gives_primaries() {
        let ring = two_node_ring();
        let pl = preflist(&ring, 2, 3, |_| true);
        assert_eq!(pl, primaries(&ring, 2, 3));
    }

    #[test]
    fn down_primary_is_replaced_by_next_up_owner() {
        let ring = two_node_ring();
        let pl = preflist(&ring, 2, 3, |n| n != "b");
        // Primaries 2(a) 3(b) 4(a); b is down, fallback is the owner of 5.. that is up: 6(a).
        assert_eq!(pl.len(), 3);
        assert!(pl[0].primary && pl[1].primary);
        assert_eq!(
            pl[2],
            PrefEntry {
                partition: 3,
                node: "a".into(),
                primary: false
            }
        );
    }

    #[test]
    fn n_larger_than_ring_is_capped() {
        let ring = Ring::new(8, "a").unwrap();
        assert_eq!(primaries(&ring, 0, 20).len(), 8);
    }
}
