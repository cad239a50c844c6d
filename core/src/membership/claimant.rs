//! The claimant's decisions, as pure functions over `ClusterState`:
//! validate staged changes, compute a plan (new owners and the transfers
//! they cause), commit it, and advance ownership as transfers complete.
//!
//! Same verbs and meanings as `riak admin cluster`: a join or leave is only
//! staged until `commit`; ownership changes partition by partition as each
//! handoff finishes; force-remove and force-replace move ownership at once,
//! without handoff.

use super::state::{ClusterState, MemberStatus, StagedChange, Transfer};
use crate::claim;
use crate::ring::NodeName;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Riak's default `target_n_val`.
pub const TARGET_N_VAL: usize = 4;

#[derive(Debug, Clone, Error, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanError {
    #[error("There are no staged changes")]
    NothingStaged,
    #[error("{0} is not a member of the cluster")]
    NotMember(NodeName),
    #[error("{0} is the only member")]
    OnlyMember(NodeName),
    #[error("{0} is not joining: run `cluster join` on it first")]
    NotJoining(NodeName),
    #[error("a change to {0} is already staged")]
    AlreadyStaged(NodeName),
    #[error("ownership transfers of the last plan are still under way")]
    TransfersPending,
    #[error(
        "{0} is the claimant and cannot leave while others remain; stage the leave from another node"
    )]
    ClaimantCannotLeave(NodeName),
}

/// What `commit` would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub changes: Vec<StagedChange>,
    /// Ownership once every transfer has finished.
    pub owners: Vec<NodeName>,
    /// Partitions that move with handoff.
    pub transfers: Vec<Transfer>,
    /// Preference lists of `target_n_val` partitions with a repeated node.
    pub violations: usize,
    /// Members and their status after the commit.
    pub members: Vec<(NodeName, MemberStatus)>,
}

fn touches(c: &StagedChange) -> Vec<&NodeName> {
    match c {
        StagedChange::Join(n) | StagedChange::Leave(n) | StagedChange::ForceRemove(n) => vec![n],
        StagedChange::Replace(a, b) | StagedChange::ForceReplace(a, b) => vec![a, b],
    }
}

/// Checks a change before staging it.
pub fn validate_stage(state: &ClusterState, change: &StagedChange) -> Result<(), PlanError> {
    for n in touches(change) {
        if state.staged.value.iter().any(|c| touches(c).contains(&n)) {
            return Err(PlanError::AlreadyStaged(n.clone()));
        }
    }
    let status = |n: &NodeName| state.status(n).filter(|s| *s != MemberStatus::Removed);
    let owning = |n: &NodeName| {
        matches!(
            status(n),
            Some(MemberStatus::Valid | MemberStatus::Leaving | MemberStatus::Down)
        )
    };
    match change {
        StagedChange::Join(n) => match status(n) {
            Some(MemberStatus::Joining) => Ok(()),
            Some(_) => Err(PlanError::AlreadyStaged(n.clone())),
            None => Err(PlanError::NotMember(n.clone())),
        },
        StagedChange::Leave(n) | StagedChange::ForceRemove(n) => {
            if !owning(n) {
                return Err(PlanError::NotMember(n.clone()));
            }
            let others = state
                .active_members()
                .into_iter()
                .filter(|m| m != n && owning(m))
                .count();
            if others == 0 {
                return Err(PlanError::OnlyMember(n.clone()));
            }
            Ok(())
        }
        StagedChange::Replace(old, new) | StagedChange::ForceReplace(old, new) => {
            if !owning(old) {
                return Err(PlanError::NotMember(old.clone()));
            }
            if status(new) != Some(MemberStatus::Joining) {
                return Err(PlanError::NotJoining(new.clone()));
            }
            Ok(())
        }
    }
}

/// The plan for the staged changes.
pub fn plan(state: &ClusterState) -> Result<Plan, PlanError> {
    let changes = state.staged.value.clone();
    if changes.is_empty() {
        return Err(PlanError::NothingStaged);
    }
    let mut status: Vec<(NodeName, MemberStatus)> = state
        .active_members()
        .into_iter()
        .map(|n| {
            let s = state.status(&n).expect("member");
            (n, s)
        })
        .collect();
    let set = |status: &mut Vec<(NodeName, MemberStatus)>, n: &NodeName, s: MemberStatus| {
        if let Some(e) = status.iter_mut().find(|(m, _)| m == n) {
            e.1 = s;
        }
    };
    // Forced moves reassign ownership directly, before claim runs.
    let mut owners = state.ownership.value.owners.clone();
    for c in &changes {
        match c {
            StagedChange::Join(n) => set(&mut status, n, MemberStatus::Valid),
            StagedChange::Leave(n) => set(&mut status, n, MemberStatus::Leaving),
            StagedChange::ForceRemove(n) => set(&mut status, n, MemberStatus::Removed),
            StagedChange::Replace(old, new) => {
                set(&mut status, old, MemberStatus::Leaving);
                set(&mut status, new, MemberStatus::Valid);
            }
            StagedChange::ForceReplace(old, new) => {
                set(&mut status, old, MemberStatus::Removed);
                set(&mut status, new, MemberStatus::Valid);
                for o in owners.iter_mut().filter(|o| *o == old) {
                    *o = new.clone();
                }
            }
        }
    }
    let claimants: Vec<NodeName> = status
        .iter()
        .filter(|(_, s)| matches!(s, MemberStatus::Valid | MemberStatus::Down))
        .map(|(n, _)| n.clone())
        .collect();
    // A replace hands the old node's partitions to the new one, one for one.
    let mut target = owners.clone();
    for c in &changes {
        if let StagedChange::Replace(old, new) = c {
            for o in target.iter_mut().filter(|o| *o == old) {
                *o = new.clone();
            }
        }
    }
    let target = claim::claim(&target, &claimants, TARGET_N_VAL);
    let removed: Vec<&NodeName> = status
        .iter()
        .filter(|(_, s)| *s == MemberStatus::Removed)
        .map(|(n, _)| n)
        .collect();
    // Partitions of force-removed nodes have no one to hand off from.
    for (o, t) in owners.iter_mut().zip(&target) {
        if removed.contains(&&*o) {
            *o = t.clone();
        }
    }
    let transfers: Vec<Transfer> = owners
        .iter()
        .zip(&target)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(p, (a, b))| Transfer {
            partition: p as u32,
            from: a.clone(),
            to: b.clone(),
        })
        .collect();
    let n = TARGET_N_VAL.min(claimants.len().max(1));
    Ok(Plan {
        changes,
        violations: claim::violations(&target, n).len(),
        owners: target,
        transfers,
        members: status,
    })
}

/// The ownership right after commit: forced moves applied, transfers pending.
fn owners_at_commit(state: &ClusterState, plan: &Plan) -> Vec<NodeName> {
    let mut owners = state.ownership.value.owners.clone();
    for (p, o) in owners.iter_mut().enumerate() {
        let moving = plan.transfers.iter().any(|t| t.partition as usize == p);
        if !moving {
            *o = plan.owners[p].clone();
        }
    }
    owners
}

/// Applies the staged changes (the claimant's `commit`). Returns the plan.
pub fn commit(state: &mut ClusterState, by: &str) -> Result<Plan, PlanError> {
    if !state.ownership.value.next.is_empty() {
        return Err(PlanError::TransfersPending);
    }
    let plan = plan(state)?;
    for (n, s) in &plan.members {
        if state.status(n) != Some(*s) {
            let addr = state.addr_of(n).unwrap_or_default().to_string();
            state.set_member(by, n, *s, &addr);
        }
    }
    let mut ownership = state.ownership.value.clone();
    ownership.epoch += 1;
    ownership.owners = owners_at_commit(state, &plan);
    ownership.next = plan.transfers.clone();
    state.ownership.value = ownership;
    state.ownership.stamp = state.next_stamp(by);
    state.staged.value.clear();
    state.staged.stamp = state.next_stamp(by);
    Ok(plan)
}

/// Stages a change after validating it.
pub fn stage(state: &mut ClusterState, by: &str, change: StagedChange) -> Result<(), PlanError> {
    validate_stage(state, &change)?;
    state.staged.value.push(change);
    state.staged.value.sort();
    state.staged.stamp = state.next_stamp(by);
    Ok(())
}

pub fn clear(state: &mut ClusterState, by: &str) {
    state.staged.value.clear();
    state.staged.stamp = state.next_stamp(by);
}

/// Records a finished transfer (any node may, for its own transfers).
pub fn transfer_complete(state: &mut ClusterState, t: &Transfer) {
    let epoch = state.ownership.value.epoch;
    state.completed.insert((epoch, t.clone()));
}

/// The claimant's periodic step: flip ownership of completed transfers,
/// move leavers that hold nothing to `exiting`, and remove exiting nodes
/// that are gone. Returns whether anything changed.
pub fn tick(state: &mut ClusterState, by: &str, is_up: impl Fn(&str) -> bool) -> bool {
    let mut changed = false;
    let epoch = state.ownership.value.epoch;
    let done: Vec<Transfer> = state
        .ownership
        .value
        .next
        .iter()
        .filter(|t| state.completed.contains(&(epoch, (*t).clone())))
        .cloned()
        .collect();
    if !done.is_empty() {
        let mut own = state.ownership.value.clone();
        for t in &done {
            own.owners[t.partition as usize] = t.to.clone();
        }
        own.next.retain(|t| !done.contains(t));
        state.ownership.value = own;
        state.ownership.stamp = state.next_stamp(by);
        changed = true;
    }
    for n in state.active_members() {
        let status = state.status(&n).expect("member");
        let owns = state.ownership.value.owners.contains(&n);
        let pending = state
            .ownership
            .value
            .next
            .iter()
            .any(|t| t.from == n || t.to == n);
        let addr = state.addr_of(&n).unwrap_or_default().to_string();
        if status == MemberStatus::Leaving && !owns && !pending {
            state.set_member(by, &n, MemberStatus::Exiting, &addr);
            changed = true;
        } else if status == MemberStatus::Exiting && !is_up(&n) {
            state.set_member(by, &n, MemberStatus::Removed, &addr);
            changed = true;
        }
    }
    changed
}
