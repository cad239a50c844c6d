//! The run's reports: the final table (comfy-table), `summary.json`,
//! `timeseries.csv` and `summary.svg` (drawn by `crate::svg`).
//!
//! Latency percentiles cover successful requests only; failed requests are
//! counted per kind beside them.

use std::fmt::Write as _;
use std::path::Path;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::{Value, json};

use crate::args::Args;
use crate::run::Outcome;
use crate::stats::{OpStats, OpSummary, TimePoint};

/// Per-operation summaries in mix order, then the total over all of them.
pub fn summaries(outcome: &Outcome) -> (Vec<OpSummary>, OpSummary) {
    let per_op = outcome
        .totals
        .iter()
        .map(|(op, stats)| OpSummary::new(op.name(), stats, outcome.elapsed_s))
        .collect();
    let mut all = OpStats::default();
    for (_, stats) in &outcome.totals {
        all.merge(stats);
    }
    (per_op, OpSummary::new("total", &all, outcome.elapsed_s))
}

/// The settings block of `summary.json`.
pub fn settings(args: &Args) -> Value {
    json!({
        "protocol": if args.pb.is_empty() { "http" } else { "pb" },
        "nodes": if args.pb.is_empty() { &args.http } else { &args.pb },
        "workers": args.workers,
        "duration_s": args.duration_secs(),
        "ops": args.ops,
        "mix": args.mix.to_string(),
        "value_size": args.value_size.to_string(),
        "keys": args.keys,
        "keygen": args.keygen,
        "rate": args.rate,
        "preload": args.preload,
        "bucket": args.bucket,
        "bucket_type": args.bucket_type,
        "dt_type": args.dt_type(),
        "dt_members": args.dt_members,
        "r": args.r.map(|q| q.to_string()),
        "w": args.w.map(|q| q.to_string()),
        "timeout_ms": args.timeout_ms,
        "seed": args.seed,
    })
}

/// The whole `summary.json` document.
pub fn summary_json(args: &Args, command: &str, started_unix_s: u64, outcome: &Outcome) -> Value {
    let (per_op, total) = summaries(outcome);
    let operations: serde_json::Map<String, Value> = per_op
        .iter()
        .map(|s| (s.op.clone(), serde_json::to_value(s).expect("plain struct")))
        .collect();
    json!({
        "tool": "rill-bench",
        "version": env!("CARGO_PKG_VERSION"),
        "command": command,
        "started_unix_s": started_unix_s,
        "settings": settings(args),
        "elapsed_s": outcome.elapsed_s,
        "interrupted": outcome.interrupted,
        "preload": outcome.preload,
        "operations": operations,
        "totals": total,
    })
}

/// The final table, plus a line per operation that had errors.
pub fn table(outcome: &Outcome) -> String {
    let (per_op, total) = summaries(outcome);
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "op",
            "ops/s",
            "count",
            "errors",
            "p50 µs",
            "p95 µs",
            "p99 µs",
            "p99.9 µs",
            "max µs",
        ]);
    for s in per_op.iter().chain(std::iter::once(&total)) {
        table.add_row(vec![
            s.op.clone(),
            format!("{:.1}", s.ops_per_sec),
            s.count.to_string(),
            s.errors.to_string(),
            s.p50_us.to_string(),
            s.p95_us.to_string(),
            s.p99_us.to_string(),
            s.p999_us.to_string(),
            s.max_us.to_string(),
        ]);
    }
    for i in 1..9 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!(
        "{:.1} s{}\n{table}\n",
        outcome.elapsed_s,
        if outcome.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    for s in &per_op {
        for (kind, n) in &s.error_kinds {
            let example = s.error_examples.get(kind).map_or("", String::as_str);
            let _ = writeln!(out, "errors in {}: {kind}={n} (first: {example})", s.op);
        }
    }
    if let Some(p) = &outcome.preload {
        let _ = write!(out, "preload: {} keys in {:.1} s", p.keys, p.elapsed_s);
        if !p.errors.is_empty() {
            let kinds: Vec<String> = p.errors.iter().map(|(k, n)| format!("{k}={n}")).collect();
            let _ = write!(out, ", errors: {}", kinds.join(", "));
        }
        out.push('\n');
    }
    out
}

/// `timeseries.csv`: one row per second and operation.
pub fn timeseries_csv(series: &[TimePoint]) -> String {
    let mut out = String::from("elapsed_s,op,ops,errors,p50_us,p99_us\n");
    for p in series {
        let _ = writeln!(
            out,
            "{:.3},{},{},{},{},{}",
            p.elapsed_s, p.op, p.ops, p.errors, p.p50_us, p.p99_us
        );
    }
    out
}

/// Writes the three report files into `dir` (created if missing).
pub fn write_out(
    dir: &Path,
    summary: &Value,
    outcome: &Outcome,
    title: &str,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("timeseries.csv"), timeseries_csv(&outcome.series))?;
    let mut json = serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?;
    json.push('\n');
    std::fs::write(dir.join("summary.json"), json)?;
    let ops: Vec<_> = outcome.totals.iter().map(|(op, _)| *op).collect();
    std::fs::write(
        dir.join("summary.svg"),
        crate::svg::plot(&outcome.series, &ops, title),
    )?;
    Ok(())
}

/// The command line as typed, quoted where needed.
pub fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Op;

    fn outcome() -> Outcome {
        let mut get = OpStats::default();
        for us in [100, 200, 300] {
            get.hist.record(us).unwrap();
        }
        let mut put = OpStats::default();
        put.hist.record(1000).unwrap();
        put.errors = 2;
        put.error_kinds.insert("overload", 2);
        put.error_examples
            .insert("overload", "server error: overload".into());
        Outcome {
            preload: None,
            elapsed_s: 2.0,
            series: vec![TimePoint {
                elapsed_s: 1.0,
                window_s: 1.0,
                op: Op::Get,
                ops: 3,
                errors: 0,
                p50_us: 200,
                p99_us: 300,
            }],
            totals: vec![(Op::Get, get), (Op::Put, put)],
            interrupted: false,
        }
    }

    #[test]
    fn totals_combine_every_operation() {
        let (per_op, total) = summaries(&outcome());
        assert_eq!(per_op.len(), 2);
        assert_eq!(per_op[0].ops_per_sec, 1.5);
        assert_eq!(total.count, 4);
        assert_eq!(total.errors, 2);
        assert_eq!(total.max_us, 1000);
        assert_eq!(total.error_kinds["overload"], 2);
    }

    #[test]
    fn table_lists_operations_and_error_kinds() {
        let text = table(&outcome());
        assert!(text.contains("p99.9 µs"));
        assert!(text.contains("total"));
        assert!(
            text.contains("errors in put: overload=2 (first: server error: overload)"),
            "{text}"
        );
    }

    #[test]
    fn csv_has_the_documented_columns() {
        let csv = timeseries_csv(&outcome().series);
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("elapsed_s,op,ops,errors,p50_us,p99_us"));
        assert_eq!(lines.next(), Some("1.000,get,3,0,200,300"));
    }

    #[test]
    fn summary_json_keys_operations_by_name() {
        use clap::Parser;
        let args =
            Args::try_parse_from(["rill-bench", "--pb", "127.0.0.1:1", "--duration", "2"]).unwrap();
        let doc = summary_json(&args, "rill-bench --pb 127.0.0.1:1", 0, &outcome());
        assert_eq!(doc["operations"]["get"]["p50_us"], 200);
        assert_eq!(doc["operations"]["put"]["errors"], 2);
        assert_eq!(doc["totals"]["count"], 4);
        assert_eq!(doc["settings"]["workers"], 8);
        assert_eq!(doc["settings"]["protocol"], "pb");
        assert_eq!(doc["command"], "rill-bench --pb 127.0.0.1:1");
    }
}
