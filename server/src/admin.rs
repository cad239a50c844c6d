//! `rill admin …`: a small HTTP client of a running node's `/admin` API.
//! Bucket types (`create`, `activate`, `status`, `list`), `status`, and
//! cluster administration (`cluster join/leave/…/plan/commit/clear`,
//! `member-status`, `ring-status`, `transfers`), printed as tables with
//! riak-admin's phrasing, or as the server's JSON with `--json`. A failed
//! request prints the server's message and exits non-zero.

use anyhow::{Context, bail};
use bytes::Bytes;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

/// Administer a running node over its HTTP API.
#[derive(clap::Args, Debug, Clone)]
pub struct AdminArgs {
    /// Base URL of the node's HTTP API.
    #[arg(
        long,
        global = true,
        env = "RILL_URL",
        default_value = "http://127.0.0.1:8098"
    )]
    pub url: String,
    /// Print the JSON the node returns instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum AdminCommand {
    /// Create, activate and inspect bucket types.
    #[command(name = "bucket-type", subcommand)]
    BucketType(BucketTypeCommand),
    /// Print the node's statistics (`/stats`).
    Status,
    /// Stage, plan and commit changes to the cluster's membership.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Members, their status and their share of the ring now and pending.
    MemberStatus,
    /// The claimant, ownership handoffs still to do and unreachable nodes.
    RingStatus,
    /// Handoffs waiting in the committed plan and active on this node.
    Transfers {
        /// Poll until no transfer is waiting or active, showing progress.
        #[arg(long)]
        wait: bool,
        /// With `--wait`, give up after this many seconds (default: never).
        #[arg(long, value_name = "SECS", requires = "wait")]
        timeout: Option<u64>,
    },
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum ClusterCommand {
    /// Stage a join of the node you run this against to the cluster of
    /// NODE: a member's cluster address `host:port`, or `name@host` (port 8099).
    Join { node: String },
    /// Stage a leave: the node hands off its partitions, then shuts down
    /// (default: the node you run this against).
    Leave { node: Option<String> },
    /// Stage removing a node without handoff (its replicas are lost until
    /// repaired).
    ForceRemove { node: String },
    /// Stage moving every partition of OLD to NEW (a joining node), with handoff.
    Replace { old: String, new: String },
    /// Stage giving OLD's partitions to NEW at once, without handoff.
    ForceReplace { old: String, new: String },
    /// Show what committing the staged changes would do.
    Plan,
    /// Apply the staged changes.
    Commit,
    /// Drop the staged changes.
    Clear,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum BucketTypeCommand {
    /// Create a bucket type: `create T '{"props":{"allow_mult":true}}'`.
    Create {
        name: String,
        /// `{"props":{...}}`; without it the type gets the defaults.
        props: Option<String>,
    },
    /// Activate a created bucket type so buckets can use it.
    Activate { name: String },
    /// Show a bucket type's status and properties.
    Status { name: String },
    /// List every bucket type and its status.
    List,
}

/// Runs one admin command, printing to standard output.
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let mut out = Vec::new();
    let result = execute(&args, &mut out).await;
    std::io::stdout().write_all(&out)?;
    result
}

/// Runs one admin command, writing what it prints to `out`.
pub async fn execute(args: &AdminArgs, out: &mut Vec<u8>) -> anyhow::Result<()> {
    let api = Api::new(&args.url);
    match &args.command {
        AdminCommand::Status => {
            let stats = api.json(Method::GET, "/admin/status", None).await?;
            if args.json {
                writeln!(out, "{stats}")?;
            } else {
                let mut table = table(&["Stat", "Value"]);
                if let Value::Object(map) = &stats {
                    let mut names: Vec<&String> = map.keys().collect();
                    names.sort();
                    for name in names {
                        table.add_row(vec![name.clone(), plain(&map[name])]);
                    }
                }
                writeln!(out, "{table}")?;
            }
        }
        AdminCommand::BucketType(cmd) => bucket_type(&api, cmd, args.json, out).await?,
        AdminCommand::Cluster(cmd) => cluster(&api, cmd, args.json, out).await?,
        AdminCommand::MemberStatus => {
            let v = api
                .json(Method::GET, "/admin/cluster/members", None)
                .await?;
            if args.json {
                writeln!(out, "{v}")?;
            } else {
                member_status(&v, out)?;
            }
        }
        AdminCommand::RingStatus => {
            let v = api.json(Method::GET, "/admin/cluster/ring", None).await?;
            if args.json {
                writeln!(out, "{v}")?;
            } else {
                ring_status(&v, out)?;
            }
        }
        AdminCommand::Transfers { wait, timeout } => {
            let v = if *wait {
                wait_for_transfers(&api, timeout.map(Duration::from_secs)).await?
            } else {
                api.json(Method::GET, "/admin/cluster/transfers", None)
                    .await?
            };
            if args.json {
                writeln!(out, "{v}")?;
            } else {
                transfers(&v, out)?;
            }
        }
    }
    Ok(())
}

/// Riak's section title: the name centred in a line of `=`.
fn section(title: &str) -> String {
    let width = 79usize;
    let inner = format!(" {title} ");
    let left = width.saturating_sub(inner.len()) / 2;
    let right = width.saturating_sub(inner.len() + left);
    format!("{}{inner}{}", "=".repeat(left), "=".repeat(right))
}

async fn cluster(
    api: &Api,
    cmd: &ClusterCommand,
    json: bool,
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    let (path, body) = match cmd {
        ClusterCommand::Join { node } => ("join", serde_json::json!({ "node": node })),
        ClusterCommand::Leave { node } => (
            "leave",
            node.as_ref().map_or_else(
                || serde_json::json!({}),
                |n| serde_json::json!({ "node": n }),
            ),
        ),
        ClusterCommand::ForceRemove { node } => {
            ("force-remove", serde_json::json!({ "node": node }))
        }
        ClusterCommand::Replace { old, new } => {
            ("replace", serde_json::json!({ "old": old, "new": new }))
        }
        ClusterCommand::ForceReplace { old, new } => (
            "force-replace",
            serde_json::json!({ "old": old, "new": new }),
        ),
        ClusterCommand::Commit => ("commit", Value::Null),
        ClusterCommand::Clear => ("clear", Value::Null),
        ClusterCommand::Plan => {
            let (status, bytes) = api.call(Method::GET, "/admin/cluster/plan", None).await?;
            let text = message(status, &bytes);
            if !status.is_success() {
                // Nothing staged is an answer, not a failure (as in Riak).
                if status == StatusCode::BAD_REQUEST && text == NOTHING_STAGED && !json {
                    writeln!(out, "{text}")?;
                    return Ok(());
                }
                bail!("{text}");
            }
            let plan = parse(&bytes)?;
            if json {
                writeln!(out, "{plan}")?;
            } else {
                print_plan(&plan, out)?;
            }
            return Ok(());
        }
    };
    let body = (!body.is_null()).then(|| body.to_string());
    let path = format!("/admin/cluster/{path}");
    let reply = api.json(Method::POST, &path, body).await?;
    if json {
        writeln!(out, "{reply}")?;
    } else {
        writeln!(out, "{}", plain(&reply["result"]))?;
    }
    Ok(())
}

const NOTHING_STAGED: &str = "There are no staged changes";

fn quoted(v: &Value) -> String {
    format!("'{}'", plain(v))
}

fn percent(v: &Value) -> String {
    format!("{:.1}%", v.as_f64().unwrap_or(0.0))
}

/// The Membership table and its status footer, for `member-status` and
/// `cluster plan`.
fn membership(members: &[Value], out: &mut Vec<u8>) -> anyhow::Result<()> {
    writeln!(out, "{}", section("Membership"))?;
    let mut t = table(&["Status", "Ring", "Pending", "Node"]);
    let mut counts = [0usize; 5];
    const NAMES: [&str; 5] = ["valid", "leaving", "exiting", "joining", "down"];
    for m in members {
        let status = plain(&m["status"]);
        if let Some(i) = NAMES.iter().position(|n| *n == status) {
            counts[i] += 1;
        }
        let shown = if m["up"] == false {
            format!("{status} (unreachable)")
        } else {
            status
        };
        let pending = if m["pending_pct"] == m["ring_pct"] {
            "--".to_string()
        } else {
            percent(&m["pending_pct"])
        };
        t.add_row(vec![
            shown,
            percent(&m["ring_pct"]),
            pending,
            quoted(&m["node"]),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "Valid:{} / Leaving:{} / Exiting:{} / Joining:{} / Down:{}",
        counts[0], counts[1], counts[2], counts[3], counts[4]
    )?;
    Ok(())
}

fn member_status(v: &Value, out: &mut Vec<u8>) -> anyhow::Result<()> {
    membership(v["members"].as_array().map_or(&[], Vec::as_slice), out)
}

fn print_plan(plan: &Value, out: &mut Vec<u8>) -> anyhow::Result<()> {
    writeln!(out, "{}", section("Staged Changes"))?;
    let mut t = table(&["Action", "Details(s)"]);
    for c in plan["changes"].as_array().into_iter().flatten() {
        let details = if c["new"].is_null() {
            quoted(&c["node"])
        } else {
            format!("{} with {}", quoted(&c["node"]), quoted(&c["new"]))
        };
        t.add_row(vec![plain(&c["action"]), details]);
    }
    writeln!(out, "{t}\n")?;
    writeln!(
        out,
        "NOTE: Applying these changes will result in 1 cluster transition\n"
    )?;
    membership(plan["members"].as_array().map_or(&[], Vec::as_slice), out)?;
    if plan["violations"].as_u64().unwrap_or(0) > 0 {
        writeln!(out, "\nWARNING: Not all replicas will be on distinct nodes")?;
    }
    let transfers = plan["transfers"].as_array().map_or(&[][..], Vec::as_slice);
    if !transfers.is_empty() {
        writeln!(
            out,
            "\nTransfers resulting from cluster changes: {}",
            transfers.len()
        )?;
        let mut moves: std::collections::BTreeMap<(String, String), usize> = Default::default();
        for t in transfers {
            *moves
                .entry((plain(&t["from"]), plain(&t["to"])))
                .or_insert(0) += 1;
        }
        for ((from, to), n) in moves {
            writeln!(out, "  {n} transfers from '{from}' to '{to}'")?;
        }
    }
    Ok(())
}

fn ring_status(v: &Value, out: &mut Vec<u8>) -> anyhow::Result<()> {
    let unreachable = v["unreachable"].as_array().map_or(&[][..], Vec::as_slice);
    writeln!(out, "{}", section("Claimant"))?;
    if v["claimant"].is_null() {
        writeln!(out, "Claimant:  none")?;
    } else {
        let up = !unreachable.contains(&v["claimant"]);
        writeln!(out, "Claimant:  {}", quoted(&v["claimant"]))?;
        writeln!(out, "Status:     {}", if up { "up" } else { "down" })?;
    }
    writeln!(out, "Ring Ready: {}\n", v["ring_ready"] == true)?;

    writeln!(out, "{}", section("Ownership Handoff"))?;
    let pending = v["pending"].as_array().map_or(&[][..], Vec::as_slice);
    if pending.is_empty() {
        writeln!(out, "No pending changes.")?;
    } else {
        let mut t = table(&["Partition", "Owner", "Next Owner"]);
        for p in pending {
            t.add_row(vec![
                plain(&p["partition"]),
                quoted(&p["from"]),
                quoted(&p["to"]),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    let violations = &v["violations"];
    if violations["count"].as_u64().unwrap_or(0) > 0 {
        writeln!(
            out,
            "WARNING: Not all replicas are on distinct nodes: {} preference lists of {} repeat a node",
            violations["count"], violations["n_val"]
        )?;
    }
    writeln!(out)?;

    writeln!(out, "{}", section("Unreachable Nodes"))?;
    if unreachable.is_empty() {
        writeln!(out, "All nodes are up and reachable")?;
    } else {
        let names: Vec<String> = unreachable.iter().map(quoted).collect();
        writeln!(
            out,
            "The following nodes are unreachable: [{}]\n",
            names.join(",")
        )?;
        writeln!(
            out,
            "WARNING: The cluster state will not converge until all nodes are up. \
             If an outage is permanent, remove the node with \
             `rill admin cluster force-remove NODE`."
        )?;
    }
    Ok(())
}

fn transfers(v: &Value, out: &mut Vec<u8>) -> anyhow::Result<()> {
    let active = v["active"].as_array().map_or(&[][..], Vec::as_slice);
    if let Value::Object(by_node) = &v["waiting_by_node"] {
        for (node, n) in by_node {
            writeln!(out, "'{node}' waiting to handoff {n} partitions")?;
        }
    }
    if active.is_empty() {
        if v["waiting"].as_u64().unwrap_or(0) == 0 {
            writeln!(out, "No transfers active")?;
        }
        return Ok(());
    }
    writeln!(out, "\nActive Transfers:\n")?;
    use rill_core::clock::{Clock, SystemClock};
    let now_ms = SystemClock.now_us() / 1000;
    let mut t = table(&[
        "Node",
        "Type",
        "Partition",
        "Target",
        "Objects",
        "Bytes",
        "Started",
    ]);
    for a in active {
        let started = a["started_unix_ms"].as_u64().unwrap_or(now_ms);
        let ago = now_ms.saturating_sub(started) as f64 / 1000.0;
        t.add_row(vec![
            quoted(&a["node"]),
            plain(&a["kind"]),
            plain(&a["partition"]),
            quoted(&a["target"]),
            plain(&a["objects"]),
            plain(&a["bytes"]),
            format!("{ago:.1} s ago"),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

/// Polls `transfers` until nothing waits or runs; the bar counts the
/// committed plan's partitions done of the most ever seen waiting.
async fn wait_for_transfers(api: &Api, timeout: Option<Duration>) -> anyhow::Result<Value> {
    let started = tokio::time::Instant::now();
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} partitions {msg}",
        )
        .expect("progress template"),
    );
    let mut total = 0u64;
    loop {
        let v = api
            .json(Method::GET, "/admin/cluster/transfers", None)
            .await?;
        let waiting = v["waiting"].as_u64().unwrap_or(0);
        let active = v["active"].as_array().map_or(0, Vec::len);
        total = total.max(waiting);
        bar.set_length(total);
        bar.set_position(total - waiting);
        bar.set_message(format!("({active} active here)"));
        if waiting == 0 && active == 0 {
            bar.finish_and_clear();
            return Ok(v);
        }
        if let Some(limit) = timeout
            && started.elapsed() >= limit
        {
            bar.abandon();
            bail!(
                "Timed out after {} s: {waiting} transfers waiting, {active} active",
                limit.as_secs()
            );
        }
        tokio::time::sleep(WAIT_POLL).await;
    }
}

/// How often `transfers --wait` asks the node.
const WAIT_POLL: Duration = Duration::from_millis(500);

async fn bucket_type(
    api: &Api,
    cmd: &BucketTypeCommand,
    json: bool,
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    match cmd {
        BucketTypeCommand::Create { name, props } => {
            let body = props.clone().unwrap_or_default();
            let path = type_path(name);
            let created = match api.call(Method::PUT, &path, Some(body)).await? {
                (status, body) if status.is_success() => parse(&body)?,
                // Invalid properties come back as a JSON object of reasons.
                (StatusCode::BAD_REQUEST, body)
                    if serde_json::from_slice::<Value>(&body).is_ok() =>
                {
                    bail!(
                        "Error creating bucket type {name}:\n{}",
                        message(StatusCode::BAD_REQUEST, &body)
                    )
                }
                (status, body) => bail!("{}", message(status, &body)),
            };
            if json {
                writeln!(out, "{created}")?;
            } else {
                writeln!(out, "{name} created")?;
            }
        }
        BucketTypeCommand::Activate { name } => {
            let path = format!("{}/activate", type_path(name));
            match api.call(Method::POST, &path, None).await? {
                (status, _) if status.is_success() => {}
                (StatusCode::NOT_FOUND, _) => bail!("{name} is not an existing bucket type"),
                (status, body) => bail!("{}", message(status, &body)),
            }
            if json {
                let desc = api.json(Method::GET, &type_path(name), None).await?;
                writeln!(out, "{desc}")?;
            } else {
                writeln!(out, "{name} has been activated")?;
            }
        }
        BucketTypeCommand::Status { name } => {
            let desc = match api.call(Method::GET, &type_path(name), None).await? {
                (status, body) if status.is_success() => parse(&body)?,
                (StatusCode::NOT_FOUND, _) => bail!("{name} is not an existing bucket type"),
                (status, body) => bail!("{}", message(status, &body)),
            };
            if json {
                writeln!(out, "{desc}")?;
            } else {
                let line = match desc["status"].as_str() {
                    Some("active") => format!("{name} is active"),
                    Some("ready") => format!("{name} has been created and may be activated"),
                    _ => format!("{name} has been created but cannot be activated yet"),
                };
                writeln!(out, "{line}\n")?;
                let mut table = table(&["Property", "Value"]);
                if let Value::Object(props) = &desc["props"] {
                    for (k, v) in props {
                        table.add_row(vec![k.clone(), plain(v)]);
                    }
                }
                writeln!(out, "{table}")?;
            }
        }
        BucketTypeCommand::List => {
            let list = api.json(Method::GET, "/admin/bucket-types", None).await?;
            if json {
                writeln!(out, "{list}")?;
            } else {
                let mut table = table(&["Bucket type", "Status"]);
                for t in list["bucket_types"].as_array().into_iter().flatten() {
                    table.add_row(vec![plain(&t["name"]), plain(&t["status"])]);
                }
                writeln!(out, "{table}")?;
            }
        }
    }
    Ok(())
}

fn type_path(name: &str) -> String {
    let mut path = String::from("/admin/bucket-types/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            path.push(b as char);
        } else {
            path.push_str(&format!("%{b:02X}"));
        }
    }
    path
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// A JSON value as a table cell: strings without quotes, the rest as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse(body: &[u8]) -> anyhow::Result<Value> {
    serde_json::from_slice(body).context("the node answered something that is not JSON")
}

/// The server's error text, or the status when it sent none.
fn message(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body).trim().to_string();
    if text.is_empty() {
        format!("the node answered {status}")
    } else {
        text
    }
}

/// The node's HTTP API at a base URL.
struct Api {
    base: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Api {
    fn new(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends a request; returns the status and body, whatever the status.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let url = format!("{}{path}", self.base);
        let mut req = Request::builder().method(method).uri(&url);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .with_context(|| format!("invalid URL {url}"))?;
        let resp = self
            .client
            .request(req)
            .await
            .with_context(|| format!("cannot reach the node at {}", self.base))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .context("the node closed the connection mid-answer")?
            .to_bytes();
        Ok((status, bytes))
    }

    /// Sends a request and parses a successful JSON answer; any other status
    /// is an error carrying the server's message.
    async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> anyhow::Result<Value> {
        let (status, bytes) = self.call(method, path, body).await?;
        if !status.is_success() {
            bail!("{}", message(status, &bytes));
        }
        parse(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_kv::{KvConfig, KvService};
    use tokio::net::TcpListener;

    async fn node() -> (String, tokio::sync::oneshot::Sender<()>) {
        let kv = KvService::open(KvConfig::default(), rill_storage::memory()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(rill_http::serve(listener, kv, None, async move {
            let _ = rx.await;
        }));
        (url, tx)
    }

    async fn admin(url: &str, json: bool, command: AdminCommand) -> (anyhow::Result<()>, String) {
        let args = AdminArgs {
            url: url.to_string(),
            json,
            command,
        };
        let mut out = Vec::new();
        let r = execute(&args, &mut out).await;
        (r, String::from_utf8(out).unwrap())
    }

    fn bt(cmd: BucketTypeCommand) -> AdminCommand {
        AdminCommand::BucketType(cmd)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bucket_type_commands_print_riak_phrasing() {
        let (url, _stop) = node().await;
        let create = BucketTypeCommand::Create {
            name: "maps".into(),
            props: Some(r#"{"props":{"allow_mult":true}}"#.into()),
        };
        let (r, out) = admin(&url, false, bt(create.clone())).await;
        r.unwrap();
        assert_eq!(out, "maps created\n");

        let (r, _) = admin(&url, false, bt(create)).await;
        assert_eq!(
            r.unwrap_err().to_string(),
            "Bucket type maps already exists"
        );

        let (r, out) = admin(
            &url,
            false,
            bt(BucketTypeCommand::Status {
                name: "maps".into(),
            }),
        )
        .await;
        r.unwrap();
        assert!(
            out.starts_with("maps has been created and may be activated\n\n"),
            "{out}"
        );
        assert!(out.contains("allow_mult"));

        let (r, out) = admin(
            &url,
            false,
            bt(BucketTypeCommand::Activate {
                name: "maps".into(),
            }),
        )
        .await;
        r.unwrap();
        assert_eq!(out, "maps has been activated\n");

        let (r, out) = admin(
            &url,
            true,
            bt(BucketTypeCommand::Status {
                name: "maps".into(),
            }),
        )
        .await;
        r.unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["status"], "active");
        assert_eq!(v["props"]["allow_mult"], true);

        let (r, out) = admin(&url, false, bt(BucketTypeCommand::List)).await;
        r.unwrap();
        assert!(
            out.contains("default") && out.contains("maps") && out.contains("active"),
            "{out}"
        );

        let (r, _) = admin(
            &url,
            false,
            bt(BucketTypeCommand::Status {
                name: "nope".into(),
            }),
        )
        .await;
        assert_eq!(
            r.unwrap_err().to_string(),
            "nope is not an existing bucket type"
        );
        let (r, _) = admin(
            &url,
            false,
            bt(BucketTypeCommand::Activate {
                name: "nope".into(),
            }),
        )
        .await;
        assert_eq!(
            r.unwrap_err().to_string(),
            "nope is not an existing bucket type"
        );

        let bad = BucketTypeCommand::Create {
            name: "bad".into(),
            props: Some("{".into()),
        };
        let (r, _) = admin(&url, false, bt(bad)).await;
        assert_eq!(
            r.unwrap_err().to_string(),
            "Cannot create bucket type bad: invalid json"
        );
        let bad = BucketTypeCommand::Create {
            name: "bad".into(),
            props: Some(r#"{"props":{"n_val":"x"}}"#.into()),
        };
        let (r, _) = admin(&url, false, bt(bad)).await;
        assert_eq!(
            r.unwrap_err().to_string(),
            "Error creating bucket type bad:\n{\"n_val\":\"not_integer\"}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn status_prints_a_table_or_json() {
        let (url, _stop) = node().await;
        let (r, out) = admin(&url, false, AdminCommand::Status).await;
        r.unwrap();
        assert!(
            out.contains("riak_kv_version") && out.contains("3.0.16"),
            "{out}"
        );
        let (r, out) = admin(&url, true, AdminCommand::Status).await;
        r.unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["nodename"], "rill@127.0.0.1");
    }

    #[tokio::test]
    async fn unreachable_node_is_an_error() {
        let (r, _) = admin("http://127.0.0.1:1", false, AdminCommand::Status).await;
        assert!(
            r.unwrap_err()
                .to_string()
                .starts_with("cannot reach the node")
        );
    }

    /// A node of a real cluster on loopback: membership over TCP, a KV
    /// service wired to it (so handoff runs) when `with_kv`, and the HTTP API.
    struct Member {
        url: String,
        cluster: String,
        transport: std::sync::Arc<rill_core::net::TcpTransport>,
        _stop: tokio::sync::oneshot::Sender<()>,
    }

    const RING: u32 = 16;

    async fn member(s: &str, with_kv: bool) -> Member {
        use rill_core::membership::{Membership, MembershipConfig};
        use rill_core::net::{NetConfig, Rpc, TcpTransport};
        let name = format!("{s}@127.0.0.1");
        let t = TcpTransport::bind(
            name.clone(),
            "127.0.0.1:0".parse().unwrap(),
            NetConfig::default(),
        )
        .await
        .unwrap();
        let cluster = t.local_addr().to_string();
        let rpc = Rpc::new(t.clone());
        let cfg = MembershipConfig {
            gossip_interval: std::time::Duration::from_millis(100),
            heartbeat_interval: std::time::Duration::from_millis(50),
            down_after: std::time::Duration::from_secs(2),
            state_file: None,
            rpc_timeout: std::time::Duration::from_secs(5),
        };
        let m = Membership::start(&name, &cluster, RING, rpc.clone(), cfg).unwrap();
        let kv_cfg = KvConfig {
            node_name: name,
            ring_size: RING,
            ..KvConfig::default()
        };
        let kv = KvService::open(kv_cfg, rill_storage::memory()).unwrap();
        if with_kv {
            kv.attach_cluster(rpc, m.clone());
        }
        let ctl = rill_http::ClusterCtl {
            membership: m,
            cluster_addr: cluster.clone(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(rill_http::serve(listener, kv, Some(ctl), async move {
            let _ = rx.await;
        }));
        Member {
            url,
            cluster,
            transport: t,
            _stop: tx,
        }
    }

    fn cl(cmd: ClusterCommand) -> AdminCommand {
        AdminCommand::Cluster(cmd)
    }

    async fn ok(url: &str, json: bool, command: AdminCommand) -> String {
        let (r, out) = admin(url, json, command).await;
        r.unwrap();
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cluster_join_plan_commit_and_wait_for_handoff() {
        let a = member("a", true).await;
        let b = member("b", true).await;
        let url = &b.url;

        let out = ok(
            url,
            false,
            cl(ClusterCommand::Join {
                node: a.cluster.clone(),
            }),
        )
        .await;
        assert_eq!(
            out,
            "Success: staged join request for 'b@127.0.0.1' to 'a@127.0.0.1'\n"
        );
        let out = ok(url, false, AdminCommand::MemberStatus).await;
        assert!(out.starts_with(&section("Membership")), "{out}");
        assert!(
            out.contains("joining") && out.contains("'b@127.0.0.1'"),
            "{out}"
        );
        assert!(
            out.ends_with("Valid:1 / Leaving:0 / Exiting:0 / Joining:1 / Down:0\n"),
            "{out}"
        );

        let out = ok(url, false, cl(ClusterCommand::Plan)).await;
        assert!(out.starts_with(&section("Staged Changes")), "{out}");
        assert!(
            out.contains("join") && out.contains("'b@127.0.0.1'"),
            "{out}"
        );
        assert!(
            out.contains("NOTE: Applying these changes will result in 1 cluster transition"),
            "{out}"
        );
        assert!(
            out.contains("Valid:2 / Leaving:0 / Exiting:0 / Joining:0 / Down:0\n"),
            "{out}"
        );
        assert!(out.contains("100.0%") && out.contains("50.0%"), "{out}");
        assert!(!out.contains("WARNING"), "{out}");
        assert!(
            out.ends_with(
                "\nTransfers resulting from cluster changes: 8\n  \
                 8 transfers from 'a@127.0.0.1' to 'b@127.0.0.1'\n"
            ),
            "{out}"
        );
        let plan: Value =
            serde_json::from_str(&ok(url, true, cl(ClusterCommand::Plan)).await).unwrap();
        assert_eq!(plan["changes"][0]["action"], "join");
        assert_eq!(plan["transfers"].as_array().unwrap().len(), 8);

        let out = ok(url, false, cl(ClusterCommand::Commit)).await;
        assert_eq!(out, "Cluster changes committed\n");
        let out = ok(url, false, cl(ClusterCommand::Plan)).await;
        assert_eq!(out, "There are no staged changes\n");
        let (r, _) = admin(url, true, cl(ClusterCommand::Plan)).await;
        assert_eq!(r.unwrap_err().to_string(), "There are no staged changes");

        let transfers = AdminCommand::Transfers {
            wait: true,
            timeout: Some(60),
        };
        let out = ok(url, false, transfers.clone()).await;
        assert_eq!(out, "No transfers active\n");
        let v: Value = serde_json::from_str(&ok(url, true, transfers).await).unwrap();
        assert_eq!(v["waiting"], 0);
        assert_eq!(v["active"], serde_json::json!([]));

        let v: Value =
            serde_json::from_str(&ok(url, true, AdminCommand::MemberStatus).await).unwrap();
        let members = v["members"].as_array().unwrap();
        assert_eq!(members.len(), 2);
        for m in members {
            assert_eq!(m["status"], "valid");
            assert_eq!(m["ring_pct"], 50.0);
        }
        let out = ok(url, false, AdminCommand::MemberStatus).await;
        assert!(out.contains("--"), "{out}");
        assert!(out.ends_with("Valid:2 / Leaving:0 / Exiting:0 / Joining:0 / Down:0\n"));

        let out = ok(url, false, AdminCommand::RingStatus).await;
        for line in [
            "Claimant:  'a@127.0.0.1'\n",
            "Status:     up\n",
            "Ring Ready: true\n",
            "No pending changes.\n",
            "All nodes are up and reachable\n",
        ] {
            assert!(out.contains(line), "{line:?} in {out}");
        }

        let (r, _) = admin(
            url,
            false,
            cl(ClusterCommand::Leave {
                node: Some("x@h".into()),
            }),
        )
        .await;
        assert_eq!(
            r.unwrap_err().to_string(),
            "x@h is not a member of the cluster"
        );
        let out = ok(url, false, cl(ClusterCommand::Leave { node: None })).await;
        assert_eq!(out, "Success: staged leave request for 'b@127.0.0.1'\n");
        let out = ok(url, false, cl(ClusterCommand::Clear)).await;
        assert_eq!(out, "Cleared staged cluster changes\n");

        // A joined node that went away before the commit: its partitions
        // wait for it, and so does `transfers --wait`, until the timeout.
        let c = member("c", false).await;
        ok(
            &c.url,
            false,
            cl(ClusterCommand::Join {
                node: a.cluster.clone(),
            }),
        )
        .await;
        rill_core::net::Transport::shutdown(&*c.transport);
        let mut gone = false;
        for _ in 0..200 {
            let v: Value =
                serde_json::from_str(&ok(url, true, AdminCommand::RingStatus).await).unwrap();
            if v["unreachable"] == serde_json::json!(["c@127.0.0.1"]) {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(gone, "c never became unreachable");
        let out = ok(url, false, AdminCommand::RingStatus).await;
        assert!(out.contains("Ring Ready: false\n"), "{out}");
        assert!(
            out.contains("The following nodes are unreachable: ['c@127.0.0.1']"),
            "{out}"
        );
        let out = ok(url, false, AdminCommand::MemberStatus).await;
        assert!(out.contains("joining (unreachable)"), "{out}");
        let out = ok(url, false, cl(ClusterCommand::Commit)).await;
        assert_eq!(out, "Cluster changes committed\n");
        let out = ok(
            url,
            false,
            AdminCommand::Transfers {
                wait: false,
                timeout: None,
            },
        )
        .await;
        assert!(out.contains("' waiting to handoff "), "{out}");
        let wait = AdminCommand::Transfers {
            wait: true,
            timeout: Some(1),
        };
        let (r, _) = admin(url, false, wait).await;
        let err = r.unwrap_err().to_string();
        assert!(err.starts_with("Timed out after 1 s: "), "{err}");
    }

    #[test]
    fn plan_and_transfer_reports_render_riak_lines() {
        let plan = serde_json::json!({
            "changes": [{"action": "replace", "node": "a", "new": "c"}],
            "transfers": [
                {"partition": 0, "from": "a", "to": "c"},
                {"partition": 1, "from": "b", "to": "c"},
                {"partition": 2, "from": "a", "to": "c"},
            ],
            "violations": 2,
            "members": [
                {"node": "a", "status": "leaving", "ring_pct": 50.0, "pending_pct": 0.0},
                {"node": "b", "status": "valid", "ring_pct": 50.0, "pending_pct": 50.0},
                {"node": "c", "status": "valid", "ring_pct": 0.0, "pending_pct": 50.0},
            ],
        });
        let mut out = Vec::new();
        print_plan(&plan, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("'a' with 'c'"), "{out}");
        assert!(out.contains("Valid:2 / Leaving:1 / Exiting:0 / Joining:0 / Down:0\n"));
        assert!(out.contains("\nWARNING: Not all replicas will be on distinct nodes\n"));
        assert!(out.ends_with(
            "Transfers resulting from cluster changes: 3\n  \
             2 transfers from 'a' to 'c'\n  1 transfers from 'b' to 'c'\n"
        ));

        let report = serde_json::json!({
            "active": [{"partition": 7, "target": "b", "kind": "ownership", "objects": 12,
                        "bytes": 3400, "started_unix_ms": 0, "node": "a"}],
            "waiting": 3,
            "waiting_by_node": {"a": 3},
        });
        let mut out = Vec::new();
        transfers(&report, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("'a' waiting to handoff 3 partitions\n\nActive Transfers:\n"));
        assert!(out.contains("ownership") && out.contains("3400") && out.contains("'b'"));
        let mut out = Vec::new();
        let idle = serde_json::json!({"active": [], "waiting": 0, "waiting_by_node": {}});
        transfers(&idle, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "No transfers active\n");

        let ring = serde_json::json!({
            "claimant": "a", "ring_ready": false,
            "pending": [{"partition": 3, "from": "a", "to": "b"}],
            "unreachable": ["a", "b"],
            "violations": {"n_val": 2, "count": 5, "partitions": [0, 1, 2, 3, 4]},
        });
        let mut out = Vec::new();
        ring_status(&ring, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("Status:     down\nRing Ready: false\n"),
            "{out}"
        );
        assert!(
            out.contains("The following nodes are unreachable: ['a','b']"),
            "{out}"
        );
        assert!(
            out.contains("5 preference lists of 2 repeat a node"),
            "{out}"
        );
        assert_eq!(section("Membership").len(), 79);
    }
}
