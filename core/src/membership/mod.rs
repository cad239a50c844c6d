//! Cluster membership as Riak has it: the cluster state that nodes gossip
//! and merge (`state`), the claimant's decisions over it (`claimant`), and
//! the runtime that gossips, detects failures and serves admin commands
//! (`manager`).

pub mod claimant;
pub mod manager;
pub mod state;

pub use claimant::{Plan, PlanError};
pub use manager::{AdminCommand, AdminReply, Membership, MembershipConfig};
pub use state::{ClusterState, Member, MemberStatus, StagedChange, Stamp, Stamped, Transfer};

#[cfg(test)]
mod tests;
