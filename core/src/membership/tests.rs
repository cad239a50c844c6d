//! Laws of the cluster state merge and the claimant's flows.

use super::claimant::{self, PlanError};
use super::state::*;
use proptest::prelude::*;

fn joined(state: &mut ClusterState, by: &str, node: &str) {
    state.set_member(by, node, MemberStatus::Joining, &format!("{node}:8099"));
    claimant::stage(state, by, StagedChange::Join(node.into())).unwrap();
}

fn finish_transfers(state: &mut ClusterState, by: &str) {
    for t in state.ownership.value.next.clone() {
        claimant::transfer_complete(state, &t);
    }
    claimant::tick(state, by, |_| true);
}

#[test]
fn join_plan_commit_and_handoff_flow() {
    let mut s = ClusterState::new("a", "a:8099", 64);
    assert_eq!(claimant::plan(&s).unwrap_err(), PlanError::NothingStaged);
    joined(&mut s, "a", "b");
    joined(&mut s, "a", "c");
    let plan = claimant::plan(&s).unwrap();
    assert!(!plan.transfers.is_empty());
    assert!(plan.transfers.iter().all(|t| t.from == "a"));
    let committed = claimant::commit(&mut s, "a").unwrap();
    assert_eq!(committed, plan);
    assert_eq!(s.status("b"), Some(MemberStatus::Valid));
    // Ownership moves only as transfers complete.
    assert!(s.ownership.value.owners.iter().all(|o| o == "a"));
    assert_eq!(
        claimant::commit(&mut s, "a").unwrap_err(),
        PlanError::TransfersPending
    );
    finish_transfers(&mut s, "a");
    assert!(s.ownership.value.next.is_empty());
    for n in ["a", "b", "c"] {
        let owned = s.ownership.value.owners.iter().filter(|o| *o == n).count();
        assert!((21..=22).contains(&owned), "{n} owns {owned}");
    }
}

#[test]
fn leave_ends_in_removal() {
    let mut s = ClusterState::new("a", "a:8099", 16);
    joined(&mut s, "a", "b");
    claimant::commit(&mut s, "a").unwrap();
    finish_transfers(&mut s, "a");
    claimant::stage(&mut s, "a", StagedChange::Leave("b".into())).unwrap();
    claimant::commit(&mut s, "a").unwrap();
    assert_eq!(s.status("b"), Some(MemberStatus::Leaving));
    finish_transfers(&mut s, "a");
    assert!(s.ownership.value.owners.iter().all(|o| o == "a"));
    assert_eq!(s.status("b"), Some(MemberStatus::Exiting));
    claimant::tick(&mut s, "a", |n| n != "b");
    assert_eq!(s.status("b"), Some(MemberStatus::Removed));
    assert_eq!(s.active_members(), vec!["a".to_string()]);
}

#[test]
fn only_member_cannot_leave_and_unknowns_are_refused() {
    let mut s = ClusterState::new("a", "a:8099", 16);
    assert_eq!(
        claimant::stage(&mut s, "a", StagedChange::Leave("a".into())).unwrap_err(),
        PlanError::OnlyMember("a".into())
    );
    assert_eq!(
        claimant::stage(&mut s, "a", StagedChange::Join("x".into())).unwrap_err(),
        PlanError::NotMember("x".into())
    );
}

#[test]
fn force_remove_reassigns_without_transfers_from_the_removed() {
    let mut s = ClusterState::new("a", "a:8099", 16);
    joined(&mut s, "a", "b");
    joined(&mut s, "a", "c");
    claimant::commit(&mut s, "a").unwrap();
    finish_transfers(&mut s, "a");
    claimant::stage(&mut s, "a", StagedChange::ForceRemove("c".into())).unwrap();
    let plan = claimant::commit(&mut s, "a").unwrap();
    assert!(plan.transfers.iter().all(|t| t.from != "c"));
    assert!(s.ownership.value.owners.iter().all(|o| o != "c"));
    assert_eq!(s.status("c"), Some(MemberStatus::Removed));
}

#[test]
fn replace_moves_the_old_nodes_partitions_to_the_new() {
    let mut s = ClusterState::new("a", "a:8099", 16);
    joined(&mut s, "a", "b");
    claimant::commit(&mut s, "a").unwrap();
    finish_transfers(&mut s, "a");
    let b_parts: Vec<usize> = (0..16)
        .filter(|&p| s.ownership.value.owners[p] == "b")
        .collect();
    s.set_member("a", "c", MemberStatus::Joining, "c:8099");
    claimant::stage(&mut s, "a", StagedChange::Replace("b".into(), "c".into())).unwrap();
    let plan = claimant::commit(&mut s, "a").unwrap();
    let moved: Vec<usize> = plan
        .transfers
        .iter()
        .map(|t| t.partition as usize)
        .collect();
    assert_eq!(moved, b_parts);
    finish_transfers(&mut s, "a");
    assert_eq!(s.status("b"), Some(MemberStatus::Exiting));
}

// --- merge laws ---

#[derive(Debug, Clone)]
enum Op {
    Member(u8, u8),
    Meta(u8, Option<u8>),
    Stage(u8),
    Complete(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, 0u8..4).prop_map(|(n, s)| Op::Member(n, s)),
        (0u8..4, proptest::option::of(0u8..4)).prop_map(|(k, v)| Op::Meta(k, v)),
        (0u8..4).prop_map(Op::Stage),
        (0u8..8).prop_map(Op::Complete),
    ]
}

/// Replicas that each applied some local writes and some merges.
fn replicas() -> impl Strategy<Value = Vec<ClusterState>> {
    proptest::collection::vec((0usize..3, op(), any::<bool>(), 0usize..3), 1..30).prop_map(
        |steps| {
            let base = ClusterState::new("n0", "n0:1", 8);
            let mut rs = vec![base.clone(), base.clone(), base];
            for (i, op, merge, j) in steps {
                let by = format!("n{i}");
                let s = &mut rs[i];
                match op {
                    Op::Member(n, st) => {
                        let status = [
                            MemberStatus::Joining,
                            MemberStatus::Valid,
                            MemberStatus::Leaving,
                            MemberStatus::Down,
                        ][st as usize];
                        s.set_member(&by, &format!("m{n}"), status, "x:1");
                    }
                    Op::Meta(k, v) => s.set_metadata(&by, &format!("k{k}"), v.map(|v| vec![v])),
                    Op::Stage(n) => {
                        s.staged.value = vec![StagedChange::Join(format!("m{n}"))];
                        s.staged.stamp = s.next_stamp(&by);
                    }
                    Op::Complete(p) => claimant::transfer_complete(
                        s,
                        &Transfer {
                            partition: p as u32,
                            from: "n0".into(),
                            to: by.clone(),
                        },
                    ),
                }
                if merge {
                    rs[i] = rs[i].reconcile(&rs[j]);
                }
            }
            rs
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn reconcile_is_commutative_associative_idempotent(rs in replicas()) {
        let (a, b, c) = (&rs[0], &rs[1], &rs[2]);
        prop_assert_eq!(a.reconcile(b), b.reconcile(a));
        prop_assert_eq!(a.reconcile(b).reconcile(c), a.reconcile(&b.reconcile(c)));
        prop_assert_eq!(a.reconcile(a), a.clone());
    }

    #[test]
    fn reconcile_never_loses_a_newer_write(rs in replicas()) {
        let m = rs[0].reconcile(&rs[1]).reconcile(&rs[2]);
        for r in &rs {
            for (k, v) in &r.metadata {
                prop_assert!(m.metadata[k].stamp >= v.stamp);
            }
            for (n, v) in &r.members {
                prop_assert!(m.members[n].stamp >= v.stamp);
            }
        }
    }
}
