//! The cluster state ("the ring", riak_core's chstate): members and their
//! status, partition ownership with pending transfers, staged changes and
//! cluster-wide metadata, as one value that nodes gossip and merge.
//!
//! Every field merges as a join-semilattice, so `reconcile` is commutative,
//! associative and idempotent and all nodes converge whatever the order in
//! which gossip reaches them: members, staged changes, ownership and each
//! metadata entry are last-writer-wins by a Lamport `Stamp`; completed
//! transfers are a grow-only set scoped to the ownership epoch.

use crate::ring::{NodeName, PartitionId, Ring};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A Lamport timestamp with the writing node as tie-break: a total order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Stamp {
    pub lamport: u64,
    pub node: NodeName,
}

/// A value with the stamp of its last write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped<T> {
    pub stamp: Stamp,
    pub value: T,
}

impl<T: Clone> Stamped<T> {
    fn join(&self, other: &Stamped<T>) -> Stamped<T> {
        if other.stamp > self.stamp {
            other.clone()
        } else {
            self.clone()
        }
    }
}

/// Riak's member states; `Removed` is the tombstone of a member that left
/// (riak_core's `invalid`), kept so that merges cannot resurrect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MemberStatus {
    Joining,
    Valid,
    Leaving,
    Exiting,
    Down,
    Removed,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Joining => "joining",
            MemberStatus::Valid => "valid",
            MemberStatus::Leaving => "leaving",
            MemberStatus::Exiting => "exiting",
            MemberStatus::Down => "down",
            MemberStatus::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub status: MemberStatus,
    /// The node's cluster address, `host:port`.
    pub addr: String,
}

/// One partition moving from one node to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Transfer {
    pub partition: PartitionId,
    pub from: NodeName,
    pub to: NodeName,
}

/// Who owns each partition, and the transfers of the committed plan still
/// under way. Written only by the claimant; `epoch` grows with each write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    pub epoch: u64,
    pub owners: Vec<NodeName>,
    pub next: Vec<Transfer>,
}

/// A change staged by `cluster join/leave/…`, applied by `commit`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StagedChange {
    Join(NodeName),
    Leave(NodeName),
    ForceRemove(NodeName),
    Replace(NodeName, NodeName),
    ForceReplace(NodeName, NodeName),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    pub ring_size: u32,
    pub members: BTreeMap<NodeName, Stamped<Member>>,
    pub ownership: Stamped<Ownership>,
    /// Transfers reported finished, tagged with the ownership epoch they
    /// belong to; entries of older epochs are dropped on merge.
    pub completed: BTreeSet<(u64, Transfer)>,
    pub staged: Stamped<Vec<StagedChange>>,
    /// Cluster-wide metadata (bucket types, bucket properties), opaque here;
    /// `None` is a deletion.
    pub metadata: BTreeMap<String, Stamped<Option<Vec<u8>>>>,
    /// The largest Lamport counter seen, so every new write stamps later.
    pub lamport: u64,
}

impl ClusterState {
    /// A one-node cluster: `node` valid and owning every partition.
    pub fn new(node: &str, addr: &str, ring_size: u32) -> ClusterState {
        let stamp = Stamp {
            lamport: 1,
            node: node.to_string(),
        };
        let mut members = BTreeMap::new();
        members.insert(
            node.to_string(),
            Stamped {
                stamp: stamp.clone(),
                value: Member {
                    status: MemberStatus::Valid,
                    addr: addr.to_string(),
                },
            },
        );
        ClusterState {
            ring_size,
            members,
            ownership: Stamped {
                stamp: stamp.clone(),
                value: Ownership {
                    epoch: 1,
                    owners: vec![node.to_string(); ring_size as usize],
                    next: Vec::new(),
                },
            },
            completed: BTreeSet::new(),
            staged: Stamped {
                stamp,
                value: Vec::new(),
            },
            metadata: BTreeMap::new(),
            lamport: 1,
        }
    }

    /// A fresh stamp for a write by `node`, later than anything seen.
    pub fn next_stamp(&mut self, node: &str) -> Stamp {
        self.lamport += 1;
        Stamp {
            lamport: self.lamport,
            node: node.to_string(),
        }
    }

    /// The merge of two states (see the module doc for the laws).
    pub fn reconcile(&self, other: &ClusterState) -> ClusterState {
        let mut members = self.members.clone();
        for (n, m) in &other.members {
            members
                .entry(n.clone())
                .and_modify(|mine| *mine = mine.join(m))
                .or_insert_with(|| m.clone());
        }
        let ownership = self.ownership.join(&other.ownership);
        let epoch = ownership.value.epoch;
        let completed = self
            .completed
            .union(&other.completed)
            .filter(|(e, _)| *e == epoch)
            .cloned()
            .collect();
        let mut metadata = self.metadata.clone();
        for (k, v) in &other.metadata {
            metadata
                .entry(k.clone())
                .and_modify(|mine| *mine = mine.join(v))
                .or_insert_with(|| v.clone());
        }
        ClusterState {
            ring_size: self.ring_size.max(other.ring_size),
            members,
            ownership,
            completed,
            staged: self.staged.join(&other.staged),
            metadata,
            lamport: self.lamport.max(other.lamport),
        }
    }

    pub fn status(&self, node: &str) -> Option<MemberStatus> {
        self.members.get(node).map(|m| m.value.status)
    }

    /// Members that are not removed, sorted by name.
    pub fn active_members(&self) -> Vec<NodeName> {
        self.members
            .iter()
            .filter(|(_, m)| m.value.status != MemberStatus::Removed)
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn addr_of(&self, node: &str) -> Option<&str> {
        self.members.get(node).map(|m| m.value.addr.as_str())
    }

    /// The claimant: the first valid member by name. Derived, so every node
    /// that has the same state agrees on it.
    pub fn claimant(&self) -> Option<NodeName> {
        self.members
            .iter()
            .find(|(_, m)| m.value.status == MemberStatus::Valid)
            .map(|(n, _)| n.clone())
    }

    /// The ownership table as a `Ring`.
    pub fn ring(&self) -> Ring {
        Ring::from_owners(self.ownership.value.owners.clone())
    }

    /// Sets a member's entry (a write by `by`).
    pub fn set_member(&mut self, by: &str, node: &str, status: MemberStatus, addr: &str) {
        let stamp = self.next_stamp(by);
        self.members.insert(
            node.to_string(),
            Stamped {
                stamp,
                value: Member {
                    status,
                    addr: addr.to_string(),
                },
            },
        );
    }

    pub fn set_metadata(&mut self, by: &str, key: &str, value: Option<Vec<u8>>) {
        let stamp = self.next_stamp(by);
        self.metadata
            .insert(key.to_string(), Stamped { stamp, value });
    }

    pub fn metadata(&self, key: &str) -> Option<&[u8]> {
        self.metadata.get(key).and_then(|v| v.value.as_deref())
    }

    /// Metadata entries under a prefix that are not deleted.
    pub fn metadata_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.metadata
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter_map(|(k, v)| v.value.as_deref().map(|b| (k.as_str(), b)))
    }
}
