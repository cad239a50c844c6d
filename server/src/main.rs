//! The `rill` binary: `rill start` runs a node in the foreground;
//! `rill admin …` talks to a running node over HTTP.

use clap::{Args, Parser, Subcommand};
use rill::{Config, Node};
use std::net::SocketAddr;
use std::path::PathBuf;

// glibc's malloc took a fifth of a loaded node's CPU (per-thread arenas,
// consolidation on free); mimalloc's thread-local free lists suit the many
// short-lived request buffers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's option enum.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory for reuse instead of returning it to the OS. By
/// default mimalloc returns pages a second after they are freed; memtables,
/// evicted cache blocks and compaction buffers churn faster than that, and
/// each page given back was faulted in and zeroed again (as a 2 MiB huge
/// page), which took a quarter of a node's CPU with 10 million keys. The
/// node's memory is bounded by its caches instead (docs/decisions/0006).
fn keep_freed_memory() {
    // SAFETY: called before any other thread exists, as mimalloc asks.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

#[derive(Parser)]
#[command(
    name = "rill",
    version,
    about = "A Dynamo-style key-value store that speaks Riak's protocols"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node in the foreground (Ctrl-C or SIGTERM stops it cleanly).
    Start(StartArgs),
    /// Administer a running node (bucket types, status).
    Admin(rill::admin::AdminArgs),
}

/// Each flag overrides its `RILL_*` variable, which overrides the config file.
#[derive(Args)]
struct StartArgs {
    /// TOML configuration file.
    #[arg(long, env = "RILL_CONFIG")]
    config: Option<PathBuf>,
    /// Node name [default: rill@127.0.0.1].
    #[arg(long, env = "RILL_NODE")]
    node: Option<String>,
    /// Data directory [default: ./rill-data].
    #[arg(long, env = "RILL_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Riak HTTP API address [default: 127.0.0.1:8098].
    #[arg(long, env = "RILL_HTTP")]
    http: Option<SocketAddr>,
    /// Riak Protocol Buffers address [default: 127.0.0.1:8087].
    #[arg(long, env = "RILL_PB")]
    pb: Option<SocketAddr>,
    /// Node-to-node address [default: 127.0.0.1:8099].
    #[arg(long, env = "RILL_CLUSTER")]
    cluster: Option<SocketAddr>,
    /// Number of partitions, a power of two [default: 64].
    #[arg(long, env = "RILL_RING_SIZE")]
    ring_size: Option<u32>,
    /// `interval` (fsync every few ms) or `sync` (fsync before each ack) [default: interval].
    #[arg(long, env = "RILL_DURABILITY")]
    durability: Option<String>,
    /// Tombstone removal: `keep`, `immediate` or milliseconds [default: 3000].
    #[arg(long, env = "RILL_DELETE_MODE")]
    delete_mode: Option<String>,
    /// Log filter [default: info].
    #[arg(long, env = "RILL_LOG")]
    log: Option<String>,
}

impl StartArgs {
    fn config(self) -> anyhow::Result<Config> {
        let mut c = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(v) = self.node {
            c.node = v;
        }
        if let Some(v) = self.data_dir {
            c.data_dir = v;
        }
        if let Some(v) = self.http {
            c.http = v;
        }
        if let Some(v) = self.pb {
            c.pb = v;
        }
        if let Some(v) = self.cluster {
            c.cluster = v;
        }
        if let Some(v) = self.ring_size {
            c.ring_size = v;
        }
        if let Some(v) = self.durability {
            c.durability = v;
        }
        if let Some(v) = self.delete_mode {
            c.delete_mode = v;
        }
        if let Some(v) = self.log {
            c.log = v;
        }
        Ok(c)
    }
}

async fn start(args: StartArgs) -> anyhow::Result<()> {
    let cfg = args.config()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cfg.log))
        // Logs on stderr; stdout carries only the `listening` line.
        .with_writer(std::io::stderr)
        .init();
    let node = Node::start(cfg).await?;
    // One line scripts and tests can parse for the bound addresses.
    println!(
        "rill: node {} listening http={} pb={} cluster={}",
        node.kv.node_name(),
        node.http_addr(),
        node.pb_addr(),
        node.cluster_addr()
    );
    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutting down"),
        _ = node.departed() => tracing::info!("left the cluster; shutting down"),
    }
    node.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Start(args) => start(args).await,
            Command::Admin(args) => rill::admin::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
