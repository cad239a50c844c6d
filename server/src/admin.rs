//! `rill admin …`: a small HTTP client of a running node's `/admin` API.
//! Bucket types (`create`, `activate`, `status`, `list`) and `status`, printed
//! as tables with riak-admin's phrasing, or as the server's JSON with `--json`.
//! A failed request prints the server's message and exits non-zero.

use anyhow::{Context, bail};
use bytes::Bytes;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::io::Write;

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
    }
    Ok(())
}

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
        tokio::spawn(rill_http::serve(listener, kv, async move {
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
}
