//! rill-bench: a basho_bench-style load generator for Rill and Riak KV over
//! PB or HTTP. This file only parses flags, wires the driver, runs, and
//! prints or writes the reports; see `run` for the load itself and
//! `report` / `svg` for the outputs.

mod args;
mod driver;
mod keygen;
mod pace;
mod report;
mod rng;
mod run;
mod stats;
mod svg;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;

use crate::args::{Args, Op};
use crate::driver::Driver;

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rill-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rill-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(rate) = args.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        bail!("--rate must be a positive number of operations per second");
    }
    if args.duration == Some(0) || args.ops == Some(0) {
        bail!("--duration and --ops must be above 0");
    }
    let command = report::command_line();
    // A wall-clock stamp for the report only; no logic depends on it.
    #[allow(clippy::disallowed_methods)]
    let started_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut driver = Driver::from_args(&args).context("bad endpoint list")?;
    let nodes = if args.pb.is_empty() {
        &args.http
    } else {
        &args.pb
    };
    driver
        .ping_all()
        .await
        .with_context(|| format!("cannot reach {}", nodes.join(", ")))?;
    if args.mix.has(Op::is_datatype) {
        let Some(dt_type) = args.dt_type() else {
            bail!(
                "dt_update and dt_fetch need --dt-type (or --bucket-type) naming a bucket type \
                 with a datatype property"
            );
        };
        let data_type = driver
            .find_datatype(dt_type)
            .await
            .map_err(anyhow::Error::msg)?;
        eprintln!(
            "rill-bench: data types in bucket type `{dt_type}` ({})",
            data_type.name()
        );
    }
    let driver = Arc::new(driver);

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("rill-bench: interrupted, finishing up");
                stop.store(true, Ordering::Relaxed);
            }
        });
    }

    let preload = if args.preload {
        let report = run::preload(&args, driver.clone(), stop.clone()).await;
        eprintln!(
            "preloaded {} keys in {:.1} s{}",
            report.keys,
            report.elapsed_s,
            if report.errors.is_empty() {
                String::new()
            } else {
                format!(" ({} errors)", report.errors.values().sum::<u64>())
            }
        );
        Some(report)
    } else {
        None
    };
    let mut outcome = run::timed(&args, driver, stop).await;
    outcome.preload = preload;

    let summary = report::summary_json(&args, &command, started_unix_s, &outcome);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", report::table(&outcome));
    }
    if let Some(dir) = &args.out {
        let title = format!(
            "rill-bench: {} over {} with {} workers, {} keys",
            args.mix,
            if args.pb.is_empty() { "HTTP" } else { "PB" },
            args.workers,
            args.keys
        );
        report::write_out(dir, &summary, &outcome, &title)
            .with_context(|| format!("cannot write reports to {}", dir.display()))?;
        eprintln!("reports written to {}", dir.display());
    }
    let succeeded: u64 = outcome.totals.iter().map(|(_, s)| s.count()).sum();
    if succeeded == 0 {
        eprintln!("rill-bench: no operation succeeded");
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
