//! The grow-only set (Riak's `riak_dt_gset`): members can only be added;
//! merge is union. No clock and no context.

use serde::{Deserialize, Serialize};
use serde_bytes::{ByteBuf, Bytes};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GSet {
    members: BTreeSet<ByteBuf>,
}

impl GSet {
    pub fn new() -> Self {
        GSet::default()
    }

    pub fn add(&mut self, member: &[u8]) {
        if !self.members.contains(Bytes::new(member)) {
            self.members.insert(ByteBuf::from(member));
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.members.contains(Bytes::new(member))
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members in byte order.
    pub fn value(&self) -> Vec<Vec<u8>> {
        self.members.iter().map(|m| m.to_vec()).collect()
    }

    pub fn merge(&mut self, other: &GSet) {
        self.members.extend(other.members.iter().cloned());
    }
}
