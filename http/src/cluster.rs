//! Rill's cluster admin API under `/admin/cluster`: join, stage leave /
//! force-remove / replace, plan, commit, clear, and the member, ring and
//! transfer reports behind `rill admin cluster …`, `member-status`,
//! `ring-status` and `transfers`. Decisions stay with the claimant
//! (`Membership::admin`); this file turns requests and cluster state into
//! JSON. Shapes are documented in `docs/api/admin-http.md`.

use crate::admin::json_response;
use crate::error::{HttpError, HttpResult};
use crate::routes::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use rill_core::NodeName;
use rill_core::claim;
use rill_core::membership::{
    AdminCommand, AdminReply, ClusterState, MemberStatus, Membership, Plan, StagedChange, Transfer,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Riak's node-to-node port, assumed when a join target names no port.
pub const DEFAULT_CLUSTER_PORT: u16 = 8099;

/// The largest preference list checked for replicas on one node (Riak's
/// default `n_val`).
const RING_STATUS_N_VAL: usize = 3;

/// What the HTTP API needs to administer the cluster this node is part of.
pub struct ClusterCtl {
    pub membership: Arc<Membership>,
    /// This node's cluster address (`host:port`), announced when joining.
    pub cluster_addr: String,
}

fn ctl(st: &AppState) -> Result<&ClusterCtl, HttpError> {
    st.cluster.as_deref().ok_or_else(|| {
        HttpError::new(
            StatusCode::NOT_IMPLEMENTED,
            "This node is not part of a cluster\n",
        )
    })
}

fn ok(body: Value) -> HttpResult {
    Ok(json_response(StatusCode::OK, &body))
}

fn result(text: String) -> HttpResult {
    ok(json!({ "result": text }))
}

/// A failed admin command: a refused change is the client's (400); a
/// claimant or join target that cannot be reached is a gateway failure (502).
fn refused(msg: String) -> HttpError {
    let unreachable = msg.starts_with("cannot reach ")
        || (msg.starts_with("claimant ") && msg.contains(" unreachable"));
    let status = if unreachable {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::BAD_REQUEST
    };
    HttpError::new(status, format!("{msg}\n"))
}

fn unexpected(reply: &AdminReply) -> HttpError {
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("unexpected reply from the claimant: {reply:?}\n"),
    )
}

/// The request body as a JSON object; an empty body is `{}`.
fn body_object(body: &[u8]) -> Result<Map<String, Value>, HttpError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(HttpError::bad_request(
            "The request body must be a JSON object\n",
        )),
    }
}

/// A non-empty string field of the body.
fn field(body: &Map<String, Value>, name: &str) -> Result<Option<String>, HttpError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(_) => Err(HttpError::bad_request(format!(
            "\"{name}\" must be a non-empty string\n"
        ))),
    }
}

fn required(body: &Map<String, Value>, name: &str) -> Result<String, HttpError> {
    field(body, name)?
        .ok_or_else(|| HttpError::bad_request(format!("The request body needs \"{name}\"\n")))
}

/// The cluster address of a join target given as `host:port`, as a node
/// name `name@host` (port 8099, as in Riak), or as `name@host:port`.
pub fn join_address(target: &str) -> String {
    let host = target.rsplit_once('@').map_or(target, |(_, h)| h);
    if host.parse::<SocketAddr>().is_ok() {
        return host.to_string();
    }
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return SocketAddr::new(ip, DEFAULT_CLUSTER_PORT).to_string();
    }
    match host.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => host.to_string(),
        _ => format!("{host}:{DEFAULT_CLUSTER_PORT}"),
    }
}

/// A partition count as a percentage of the ring, one decimal.
pub fn pct(count: usize, ring_size: usize) -> f64 {
    if ring_size == 0 {
        return 0.0;
    }
    (count as f64 * 1000.0 / ring_size as f64).round() / 10.0
}

fn counts(owners: &[NodeName]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for o in owners {
        *m.entry(o.as_str()).or_insert(0) += 1;
    }
    m
}

/// Ownership once every transfer of the committed plan has finished.
pub fn pending_owners(state: &ClusterState) -> Vec<NodeName> {
    let mut owners = state.ownership.value.owners.clone();
    for t in &state.ownership.value.next {
        if let Some(o) = owners.get_mut(t.partition as usize) {
            *o = t.to.clone();
        }
    }
    owners
}

/// Transfers of the committed plan not reported finished yet.
pub fn unfinished(state: &ClusterState) -> Vec<&Transfer> {
    let epoch = state.ownership.value.epoch;
    state
        .ownership
        .value
        .next
        .iter()
        .filter(|t| !state.completed.contains(&(epoch, (*t).clone())))
        .collect()
}

fn transfer_json(t: &Transfer) -> Value {
    json!({ "partition": t.partition, "from": t.from, "to": t.to })
}

/// `GET /admin/cluster/members` for a state and a liveness test.
pub fn members_json(state: &ClusterState, is_up: impl Fn(&str) -> bool) -> Value {
    let owners = &state.ownership.value.owners;
    let size = owners.len();
    let now = counts(owners);
    let pending = pending_owners(state);
    let later = counts(&pending);
    let members: Vec<Value> = state
        .active_members()
        .iter()
        .map(|n| {
            json!({
                "node": n,
                "status": state.status(n).map_or("removed", |s| s.as_str()),
                "ring_pct": pct(now.get(n.as_str()).copied().unwrap_or(0), size),
                "pending_pct": pct(later.get(n.as_str()).copied().unwrap_or(0), size),
                "up": is_up(n),
                "addr": state.addr_of(n).unwrap_or_default(),
            })
        })
        .collect();
    json!({ "members": members })
}

/// `GET /admin/cluster/ring` for a state and a liveness test.
pub fn ring_json(state: &ClusterState, is_up: impl Fn(&str) -> bool) -> Value {
    let members = state.active_members();
    let unreachable: Vec<&NodeName> = members.iter().filter(|n| !is_up(n)).collect();
    let owning = members
        .iter()
        .filter(|n| {
            matches!(
                state.status(n),
                Some(MemberStatus::Valid | MemberStatus::Leaving | MemberStatus::Down)
            )
        })
        .count();
    let n_val = RING_STATUS_N_VAL.min(owning.max(1));
    let partitions = claim::violations(&state.ownership.value.owners, n_val);
    let pending: Vec<Value> = unfinished(state).into_iter().map(transfer_json).collect();
    json!({
        "claimant": state.claimant(),
        "ring_ready": unreachable.is_empty(),
        "pending": pending,
        "unreachable": unreachable,
        "violations": {
            "n_val": n_val,
            "count": partitions.len(),
            "partitions": partitions,
        },
    })
}

fn change_json(c: &StagedChange) -> Value {
    match c {
        StagedChange::Join(n) => json!({ "action": "join", "node": n }),
        StagedChange::Leave(n) => json!({ "action": "leave", "node": n }),
        StagedChange::ForceRemove(n) => json!({ "action": "force-remove", "node": n }),
        StagedChange::Replace(a, b) => json!({ "action": "replace", "node": a, "new": b }),
        StagedChange::ForceReplace(a, b) => {
            json!({ "action": "force-replace", "node": a, "new": b })
        }
    }
}

/// `GET /admin/cluster/plan`: the plan, with each member's share of the
/// ring now (`ring_pct`, from `state`) and once the plan is done
/// (`pending_pct`). Members the plan removes are left out, as in Riak.
pub fn plan_json(state: &ClusterState, plan: &Plan) -> Value {
    let owners = &state.ownership.value.owners;
    let now = counts(owners);
    let later = counts(&plan.owners);
    let members: Vec<Value> = plan
        .members
        .iter()
        .filter(|(_, s)| *s != MemberStatus::Removed)
        .map(|(n, s)| {
            json!({
                "node": n,
                "status": s.as_str(),
                "ring_pct": pct(now.get(n.as_str()).copied().unwrap_or(0), owners.len()),
                "pending_pct": pct(later.get(n.as_str()).copied().unwrap_or(0), plan.owners.len()),
            })
        })
        .collect();
    json!({
        "changes": plan.changes.iter().map(change_json).collect::<Vec<_>>(),
        "transfers": plan.transfers.iter().map(transfer_json).collect::<Vec<_>>(),
        "violations": plan.violations,
        "members": members,
    })
}

/// `POST /admin/cluster/join` with `{"node":"HOST:PORT"}`: asks that member
/// to add this node (a staged join, applied by `commit`).
pub async fn join(State(st): State<AppState>, body: Bytes) -> HttpResult {
    let ctl = ctl(&st)?;
    let target = required(&body_object(&body)?, "node")?;
    let text = join_address(&target);
    let addr = tokio::net::lookup_host(&text)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| HttpError::bad_request(format!("Cannot resolve {text}\n")))?;
    if ctl.cluster_addr.parse::<SocketAddr>().ok() == Some(addr) {
        return Err(HttpError::bad_request(
            "This node cannot join itself in a cluster\n",
        ));
    }
    let m = &ctl.membership;
    m.join(addr, &ctl.cluster_addr).await.map_err(|e| {
        // Name the target as the client gave it, not the transport's alias.
        match (e.starts_with("cannot reach "), e.split_once(": ")) {
            (true, Some((_, why))) => refused(format!("cannot reach {addr}: {why}")),
            _ => refused(e),
        }
    })?;
    // The target's node name, now that its state is ours.
    let state = m.state();
    let name = state
        .members
        .iter()
        .find(|(n, v)| v.value.addr == addr.to_string() && *n != m.node())
        .map_or(target, |(n, _)| n.clone());
    result(format!(
        "Success: staged join request for '{}' to '{name}'",
        m.node()
    ))
}

async fn stage(ctl: &ClusterCtl, change: StagedChange) -> Result<(), HttpError> {
    match ctl.membership.admin(AdminCommand::Stage(change)).await {
        AdminReply::Ok => Ok(()),
        AdminReply::Error(e) => Err(refused(e)),
        other => Err(unexpected(&other)),
    }
}

/// `POST /admin/cluster/leave` with `{"node":N}`, or `{}` for this node.
pub async fn leave(State(st): State<AppState>, body: Bytes) -> HttpResult {
    let ctl = ctl(&st)?;
    let node =
        field(&body_object(&body)?, "node")?.unwrap_or_else(|| ctl.membership.node().clone());
    stage(ctl, StagedChange::Leave(node.clone())).await?;
    result(format!("Success: staged leave request for '{node}'"))
}

/// `POST /admin/cluster/force-remove` with `{"node":N}`.
pub async fn force_remove(State(st): State<AppState>, body: Bytes) -> HttpResult {
    let ctl = ctl(&st)?;
    let node = required(&body_object(&body)?, "node")?;
    stage(ctl, StagedChange::ForceRemove(node.clone())).await?;
    result(format!("Success: staged remove request for '{node}'"))
}

/// `POST /admin/cluster/replace` with `{"old":A,"new":B}`.
pub async fn replace(State(st): State<AppState>, body: Bytes) -> HttpResult {
    let ctl = ctl(&st)?;
    let body = body_object(&body)?;
    let (old, new) = (required(&body, "old")?, required(&body, "new")?);
    stage(ctl, StagedChange::Replace(old.clone(), new.clone())).await?;
    result(format!(
        "Success: staged replacement of '{old}' with '{new}'"
    ))
}

/// `POST /admin/cluster/force-replace` with `{"old":A,"new":B}`.
pub async fn force_replace(State(st): State<AppState>, body: Bytes) -> HttpResult {
    let ctl = ctl(&st)?;
    let body = body_object(&body)?;
    let (old, new) = (required(&body, "old")?, required(&body, "new")?);
    stage(ctl, StagedChange::ForceReplace(old.clone(), new.clone())).await?;
    result(format!(
        "Success: staged forced replacement of '{old}' with '{new}'"
    ))
}

/// `GET /admin/cluster/plan`.
pub async fn plan(State(st): State<AppState>) -> HttpResult {
    let ctl = ctl(&st)?;
    match ctl.membership.admin(AdminCommand::Plan).await {
        AdminReply::Plan(plan) => ok(plan_json(&ctl.membership.state(), &plan)),
        AdminReply::Error(e) => Err(refused(e)),
        other => Err(unexpected(&other)),
    }
}

/// `POST /admin/cluster/commit`.
pub async fn commit(State(st): State<AppState>) -> HttpResult {
    let ctl = ctl(&st)?;
    match ctl.membership.admin(AdminCommand::Commit).await {
        AdminReply::Plan(_) => result("Cluster changes committed".into()),
        AdminReply::Error(e) => Err(refused(e)),
        other => Err(unexpected(&other)),
    }
}

/// `POST /admin/cluster/clear`.
pub async fn clear(State(st): State<AppState>) -> HttpResult {
    let ctl = ctl(&st)?;
    match ctl.membership.admin(AdminCommand::Clear).await {
        AdminReply::Ok => result("Cleared staged cluster changes".into()),
        AdminReply::Error(e) => Err(refused(e)),
        other => Err(unexpected(&other)),
    }
}

/// `GET /admin/cluster/members`.
pub async fn members(State(st): State<AppState>) -> HttpResult {
    let m = &ctl(&st)?.membership;
    ok(members_json(&m.state(), |n| m.is_up(n)))
}

/// `GET /admin/cluster/ring`.
pub async fn ring(State(st): State<AppState>) -> HttpResult {
    let m = &ctl(&st)?.membership;
    ok(ring_json(&m.state(), |n| m.is_up(n)))
}

/// `GET /admin/cluster/transfers`: this node's active handoffs, and how
/// many transfers of the committed plan are still to finish cluster-wide
/// (`waiting`, and per sending node in `waiting_by_node`).
pub async fn transfers(State(st): State<AppState>) -> HttpResult {
    let m = &ctl(&st)?.membership;
    let me = m.node();
    let active: Vec<Value> = st
        .kv
        .transfers()
        .into_iter()
        .map(|t| {
            json!({
                "partition": t.partition,
                "target": t.target,
                "kind": t.kind,
                "objects": t.objects,
                "bytes": t.bytes,
                "started_unix_ms": t.started_unix_ms,
                "node": me,
            })
        })
        .collect();
    let state = m.state();
    let next = &state.ownership.value.next;
    let mut by_node: BTreeMap<&str, usize> = BTreeMap::new();
    for t in next {
        *by_node.entry(t.from.as_str()).or_insert(0) += 1;
    }
    ok(json!({
        "active": active,
        "waiting": next.len(),
        "waiting_by_node": by_node,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_core::membership::claimant;

    #[test]
    fn join_targets_default_to_the_cluster_port() {
        assert_eq!(join_address("10.0.0.1:9000"), "10.0.0.1:9000");
        assert_eq!(join_address("rill@10.0.0.1"), "10.0.0.1:8099");
        assert_eq!(join_address("rill@10.0.0.1:9000"), "10.0.0.1:9000");
        assert_eq!(join_address("rill@db1.example"), "db1.example:8099");
        assert_eq!(join_address("db1.example:7000"), "db1.example:7000");
        assert_eq!(join_address("rill@::1"), "[::1]:8099");
        assert_eq!(join_address("[::1]:9000"), "[::1]:9000");
    }

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(pct(1, 3), 33.3);
        assert_eq!(pct(2, 3), 66.7);
        assert_eq!(pct(64, 64), 100.0);
        assert_eq!(pct(0, 0), 0.0);
    }

    fn two_nodes_committed() -> ClusterState {
        let mut s = ClusterState::new("a", "a:8099", 8);
        s.set_member("a", "b", MemberStatus::Joining, "b:8099");
        claimant::stage(&mut s, "a", StagedChange::Join("b".into())).unwrap();
        claimant::commit(&mut s, "a").unwrap();
        s
    }

    #[test]
    fn members_show_ring_now_and_pending() {
        let s = two_nodes_committed();
        let v = members_json(&s, |n| n == "a");
        assert_eq!(
            v,
            json!({"members": [
                {"node": "a", "status": "valid", "ring_pct": 100.0, "pending_pct": 50.0,
                 "up": true, "addr": "a:8099"},
                {"node": "b", "status": "valid", "ring_pct": 0.0, "pending_pct": 50.0,
                 "up": false, "addr": "b:8099"},
            ]})
        );
    }

    #[test]
    fn ring_reports_pending_unreachable_and_violations() {
        let mut s = two_nodes_committed();
        let first = s.ownership.value.next[0].clone();
        claimant::transfer_complete(&mut s, &first);
        let v = ring_json(&s, |n| n == "a");
        assert_eq!(v["claimant"], "a");
        assert_eq!(v["ring_ready"], false);
        assert_eq!(v["unreachable"], json!(["b"]));
        assert_eq!(v["pending"].as_array().unwrap().len(), 3);
        assert!(
            !v["pending"]
                .as_array()
                .unwrap()
                .contains(&transfer_json(&first))
        );
        // Everything is still on `a`: every preference list of two repeats it.
        assert_eq!(v["violations"]["n_val"], 2);
        assert_eq!(v["violations"]["count"], 8);
        let v = ring_json(&ClusterState::new("a", "a:8099", 8), |_| true);
        assert_eq!(
            v,
            json!({"claimant": "a", "ring_ready": true, "pending": [], "unreachable": [],
                   "violations": {"n_val": 1, "count": 0, "partitions": []}})
        );
    }

    #[test]
    fn plan_lists_changes_transfers_and_members() {
        let mut s = ClusterState::new("a", "a:8099", 8);
        s.set_member("a", "b", MemberStatus::Joining, "b:8099");
        claimant::stage(&mut s, "a", StagedChange::Join("b".into())).unwrap();
        let plan = claimant::plan(&s).unwrap();
        let v = plan_json(&s, &plan);
        assert_eq!(v["changes"], json!([{"action": "join", "node": "b"}]));
        assert_eq!(v["transfers"].as_array().unwrap().len(), 4);
        assert_eq!(v["transfers"][0]["from"], "a");
        assert_eq!(v["violations"], 0);
        assert_eq!(
            v["members"],
            json!([
                {"node": "a", "status": "valid", "ring_pct": 100.0, "pending_pct": 50.0},
                {"node": "b", "status": "valid", "ring_pct": 0.0, "pending_pct": 50.0},
            ])
        );
        assert_eq!(
            change_json(&StagedChange::ForceReplace("a".into(), "c".into())),
            json!({"action": "force-replace", "node": "a", "new": "c"})
        );
    }
}
