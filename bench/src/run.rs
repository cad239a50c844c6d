//! Running the load: the optional preload of the key space, then workers
//! issuing operations until the duration or the operation count is used up,
//! and a reporter draining the windows once a second into a time series and
//! a progress line on stderr.
//!
//! Latency is measured per request from send to reply; with `--rate`, from
//! when the request was due if its worker was still busy then (see
//! `crate::pace`), so a stalled server shows as queueing delay.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::args::{Args, Op};
use crate::driver::Driver;
use crate::keygen::{KeyGen, Values, key_name};
use crate::pace::Schedule;
use crate::rng::Rng;
use crate::stats::{OpStats, Recorder, TimePoint};

/// What the preload did.
#[derive(Clone, Debug, Serialize)]
pub struct PreloadReport {
    pub keys: u64,
    pub elapsed_s: f64,
    pub errors: BTreeMap<String, u64>,
}

/// Everything the reports need from a run.
pub struct Outcome {
    pub preload: Option<PreloadReport>,
    /// Length of the timed run in seconds.
    pub elapsed_s: f64,
    pub series: Vec<TimePoint>,
    /// Totals per operation, in mix order.
    pub totals: Vec<(Op, OpStats)>,
    /// The run was stopped early by Ctrl-C.
    pub interrupted: bool,
}

/// Writes every key once, `workers` at a time, with a progress bar: a put
/// when the mix has object operations, a data-type update when it has
/// data-type ones (both when it has both).
pub async fn preload(args: &Args, driver: Arc<Driver>, stop: Arc<AtomicBool>) -> PreloadReport {
    let bar = ProgressBar::new(args.keys);
    bar.set_style(
        ProgressStyle::with_template("preload [{bar:40}] {pos}/{len} keys  {per_sec}  eta {eta}")
            .expect("static template")
            .progress_chars("=> "),
    );
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(std::sync::Mutex::new(BTreeMap::<String, u64>::new()));
    let values = Values::new(args.value_size, args.seed);
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for worker in 0..args.workers {
        let (driver, next, errors, bar, values, stop) = (
            driver.clone(),
            next.clone(),
            errors.clone(),
            bar.clone(),
            values.clone(),
            stop.clone(),
        );
        let (keys, bucket, members) = (args.keys, args.bucket.clone(), args.dt_members);
        let writes = preload_ops(&args.mix);
        let mut rng = Rng::new(args.seed.wrapping_add(u64::from(worker)).wrapping_mul(31));
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= keys || stop.load(Ordering::Relaxed) {
                    break;
                }
                for &op in &writes {
                    let value = values.next(&mut rng);
                    let member = rng.below(members);
                    if let Err(e) = driver.run(op, &bucket, &key_name(i), value, member).await {
                        let mut errors = errors.lock().unwrap_or_else(|e| e.into_inner());
                        *errors.entry(e.kind().to_string()).or_default() += 1;
                    }
                }
                bar.inc(1);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    bar.finish_and_clear();
    let errors = errors.lock().unwrap_or_else(|e| e.into_inner()).clone();
    PreloadReport {
        keys: args.keys,
        elapsed_s: started.elapsed().as_secs_f64(),
        errors,
    }
}

/// The writes a preload makes of each key for `mix`.
fn preload_ops(mix: &crate::args::Mix) -> Vec<Op> {
    let mut ops = Vec::new();
    if mix.has(|op| !op.is_datatype()) {
        ops.push(Op::Put);
    }
    if mix.has(Op::is_datatype) {
        ops.push(Op::DtUpdate);
    }
    ops
}

/// The timed run.
pub async fn timed(args: &Args, driver: Arc<Driver>, stop: Arc<AtomicBool>) -> Outcome {
    let ops = args.mix.ops();
    let recorder = Arc::new(Recorder::new(&ops));
    let keygen = KeyGen::new(args.keygen, args.keys);
    let values = Values::new(args.value_size, args.seed);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = args
        .duration_secs()
        .map(|s| tokio::time::Instant::from_std(started) + Duration::from_secs(s));
    let per_worker_rate = args.rate.map(|rate| rate / f64::from(args.workers));

    let mut workers = JoinSet::new();
    for worker in 0..args.workers {
        let (driver, recorder, keygen, values, issued, stop, mix) = (
            driver.clone(),
            recorder.clone(),
            keygen.clone(),
            values.clone(),
            issued.clone(),
            stop.clone(),
            args.mix.clone(),
        );
        let (limit, bucket, members) = (args.ops, args.bucket.clone(), args.dt_members);
        let mut rng = Rng::new(args.seed ^ (u64::from(worker) + 1).wrapping_mul(0x9E37_79B9));
        let schedule_seed = args.seed ^ (u64::from(worker) + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        workers.spawn(async move {
            let mut pace =
                per_worker_rate.map(|rate| Schedule::new(Instant::now(), rate, schedule_seed));
            let total_weight = mix.total();
            loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let mut waited = false;
                if let Some(pace) = &pace {
                    let due = tokio::time::Instant::from_std(pace.due());
                    if due > tokio::time::Instant::now() {
                        waited = true;
                        match deadline {
                            Some(d) if d < due => {
                                tokio::time::sleep_until(d).await;
                                break;
                            }
                            _ => tokio::time::sleep_until(due).await,
                        }
                    }
                }
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    break;
                }
                if limit.is_some_and(|n| issued.fetch_add(1, Ordering::Relaxed) >= n) {
                    break;
                }
                let op = mix.pick(rng.below(total_weight));
                let key = key_name(keygen.next(&mut rng));
                let value = values.next(&mut rng);
                // Drawn for data types only, so object runs keep their keys.
                let member = if op.is_datatype() {
                    rng.below(members)
                } else {
                    0
                };
                let now = Instant::now();
                let sent = pace.as_mut().map_or(now, |p| p.take(now, waited));
                let result = driver.run(op, &bucket, &key, value, member).await;
                let micros = sent.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
                match result {
                    Ok(()) => recorder.record_ok(op, micros),
                    Err(e) => recorder.record_error(op, e.kind(), || describe(&e)),
                }
            }
        });
    }

    let mut totals: Vec<OpStats> = ops.iter().map(|_| OpStats::default()).collect();
    let mut series = Vec::new();
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::from_std(started) + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut window_start = started;
    let drain = |totals: &mut Vec<OpStats>, series: &mut Vec<TimePoint>, window_start: Instant| {
        let now = Instant::now();
        let window_s = now.duration_since(window_start).as_secs_f64();
        let elapsed_s = now.duration_since(started).as_secs_f64();
        for ((op, window), total) in ops.iter().zip(recorder.take()).zip(totals.iter_mut()) {
            series.push(TimePoint {
                elapsed_s,
                window_s,
                op: *op,
                ops: window.count(),
                errors: window.errors,
                p50_us: window.quantile_us(0.50),
                p99_us: window.quantile_us(0.99),
            });
            total.merge(&window);
        }
        now
    };
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                window_start = drain(&mut totals, &mut series, window_start);
                progress_line(&ops, &series, &totals, started);
            }
            joined = workers.join_next() => {
                if joined.is_none() {
                    break;
                }
            }
        }
    }
    let elapsed_s = started.elapsed().as_secs_f64();
    // The last, partial window (skipped if the run ended on a tick).
    if window_start.elapsed() > Duration::from_millis(10) {
        drain(&mut totals, &mut series, window_start);
    }
    Outcome {
        preload: None,
        elapsed_s,
        series,
        totals: ops.into_iter().zip(totals).collect(),
        interrupted: stop.load(Ordering::Relaxed),
    }
}

/// An error with its chain of causes, `outer: inner: …`.
pub fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// One line per second on stderr: throughput and errors of the last window,
/// p99 of the run so far.
fn progress_line(ops: &[Op], series: &[TimePoint], totals: &[OpStats], started: Instant) {
    let last = &series[series.len().saturating_sub(ops.len())..];
    let rate: f64 = last.iter().map(TimePoint::ops_per_sec).sum();
    let errors: u64 = last.iter().map(|p| p.errors).sum();
    let p99: Vec<String> = ops
        .iter()
        .zip(totals)
        .map(|(op, t)| format!("{op} {}", t.quantile_us(0.99)))
        .collect();
    eprintln!(
        "[{:>4.0}s] {:>9.0} ops/s  errors {:>5}  p99 so far (µs): {}",
        started.elapsed().as_secs_f64(),
        rate,
        errors,
        p99.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_client::ClientError;

    #[test]
    fn describe_follows_the_cause_chain_once() {
        let refused = ClientError::Connect {
            addr: "127.0.0.1:1".into(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(
            describe(&refused),
            "cannot connect to 127.0.0.1:1: connection refused"
        );
        let riak = ClientError::Riak {
            errmsg: "overload".into(),
            errcode: 0,
        };
        assert_eq!(describe(&riak), "server error: overload");
    }
}
