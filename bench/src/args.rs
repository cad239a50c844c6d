//! Command-line flags of rill-bench and the small value types they parse
//! into: the operation mix, value sizes, quorums and key generators.
//!
//! Scripts rely on these flag names; running the load is `crate::run`'s job.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Parser, ValueEnum};
use rill_client::Quorum;
use serde::Serialize;

/// basho_bench-style load generator for Rill and Riak KV.
#[derive(Parser, Debug, Clone)]
#[command(name = "rill-bench", version)]
pub struct Args {
    /// PB endpoints, HOST:PORT[,HOST:PORT…] (the coordinator per key is chosen on a hash ring).
    #[arg(long, value_delimiter = ',', num_args = 1.., conflicts_with = "http", required_unless_present = "http")]
    pub pb: Vec<String>,

    /// HTTP endpoints, HOST:PORT[,HOST:PORT…] (used in turn).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub http: Vec<String>,

    /// Concurrent workers, each with one request in flight.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub workers: u32,

    /// Run for this many seconds (default 10 when --ops is not given).
    #[arg(long)]
    pub duration: Option<u64>,

    /// Stop after this many operations in total.
    #[arg(long)]
    pub ops: Option<u64>,

    /// Operation weights: get, put, update (get + put with the fetched
    /// context), delete, dt_update and dt_fetch (data types, in --dt-type).
    #[arg(long, default_value = "get=1,put=1")]
    pub mix: Mix,

    /// Value size in bytes, fixed (`1000`) or a uniform range (`100..4000`).
    #[arg(long, default_value = "1000")]
    pub value_size: ValueSize,

    /// Size of the key space.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub keys: u64,

    /// How keys are drawn from the key space.
    #[arg(long, value_enum, default_value_t = KeyGenKind::Uniform)]
    pub keygen: KeyGenKind,

    /// Offered load in operations per second, over all workers: each worker
    /// sends at random (Poisson) times at its share of the rate, and a
    /// request sent late because its worker was busy counts its latency
    /// from when it was due.
    #[arg(long)]
    pub rate: Option<f64>,

    /// Write every key of the key space once before the timed run.
    #[arg(long)]
    pub preload: bool,

    /// Bucket to use.
    #[arg(long, default_value = "rill-bench")]
    pub bucket: String,

    /// Bucket type to use (default: the `default` type).
    #[arg(long)]
    pub bucket_type: Option<String>,

    /// Bucket type of dt_update and dt_fetch (default: --bucket-type). Its
    /// `datatype` property picks the update: a counter +1; a set, gset or
    /// hll gets one member added; a map gets its `hits` counter +1 and one
    /// member added to its `members` set.
    #[arg(long)]
    pub dt_type: Option<String>,

    /// How many distinct members data-type updates draw from (the text of a
    /// number below this), which bounds a set's size.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub dt_members: u64,

    /// Read quorum: one, quorum, all, default or a number.
    #[arg(long)]
    pub r: Option<QuorumArg>,

    /// Write quorum: one, quorum, all, default or a number.
    #[arg(long)]
    pub w: Option<QuorumArg>,

    /// Directory for timeseries.csv, summary.json and summary.svg.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Print the summary as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Client-side limit on each request, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,

    /// Seed for key choice and value contents. Runs with the same seed draw
    /// the same keys in the same order, so a run right after another with
    /// its seed finds those keys in the node's caches: give back-to-back
    /// runs different seeds.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl Args {
    /// The bucket type of data-type operations, if any was given.
    pub fn dt_type(&self) -> Option<&str> {
        self.dt_type.as_deref().or(self.bucket_type.as_deref())
    }

    /// Run length: the given duration, or 10 s when neither limit is set.
    pub fn duration_secs(&self) -> Option<u64> {
        match (self.duration, self.ops) {
            (None, None) => Some(10),
            (d, _) => d,
        }
    }
}

/// A benchmark operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Get,
    Put,
    /// Get, then put with the fetched context.
    Update,
    Delete,
    /// Data type update (`DtUpdateReq`).
    DtUpdate,
    /// Data type fetch (`DtFetchReq`).
    DtFetch,
    /// Secondary index query: not supported yet.
    Index,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Put => "put",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::DtUpdate => "dt_update",
            Op::DtFetch => "dt_fetch",
            Op::Index => "index",
        }
    }

    /// Whether the bench can run this operation yet.
    pub fn is_supported(self) -> bool {
        !matches!(self, Op::Index)
    }

    /// Whether this is an operation on a data type.
    pub fn is_datatype(self) -> bool {
        matches!(self, Op::DtUpdate | Op::DtFetch)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Op {
    type Err = String;

    fn from_str(s: &str) -> Result<Op, String> {
        Ok(match s {
            "get" => Op::Get,
            "put" => Op::Put,
            "update" => Op::Update,
            "delete" => Op::Delete,
            "dt_update" => Op::DtUpdate,
            "dt_fetch" => Op::DtFetch,
            "index" => Op::Index,
            other => {
                return Err(format!(
                    "unknown operation `{other}` \
                     (expected get, put, update, delete, dt_update or dt_fetch)"
                ));
            }
        })
    }
}

/// Operations with integer weights, in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mix(pub Vec<(Op, u32)>);

impl Mix {
    /// The operation for a draw in `0..total()`.
    pub fn pick(&self, draw: u64) -> Op {
        let mut left = draw;
        for &(op, weight) in &self.0 {
            if left < u64::from(weight) {
                return op;
            }
            left -= u64::from(weight);
        }
        self.0.last().map(|&(op, _)| op).unwrap_or(Op::Get)
    }

    /// Whether an operation with a non-zero weight passes `test`.
    pub fn has(&self, test: impl Fn(Op) -> bool) -> bool {
        self.ops().into_iter().any(test)
    }

    /// The sum of the weights.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|&(_, w)| u64::from(w)).sum()
    }

    /// The operations with a non-zero weight.
    pub fn ops(&self) -> Vec<Op> {
        self.0
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|&(op, _)| op)
            .collect()
    }
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Mix, String> {
        let mut ops: Vec<(Op, u32)> = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
            let op: Op = name.trim().parse()?;
            if !op.is_supported() {
                return Err(format!("operation `{op}` is not supported yet"));
            }
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("bad weight `{weight}` for `{op}`"))?;
            if ops.iter().any(|&(o, _)| o == op) {
                return Err(format!("operation `{op}` given twice"));
            }
            ops.push((op, weight));
        }
        let mix = Mix(ops);
        if mix.total() == 0 {
            return Err("the mix needs at least one operation with a weight above 0".into());
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(op, w)| format!("{op}={w}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// Value size: a fixed number of bytes or a uniform range `min..max`
/// (both ends included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ValueSize {
    pub min: usize,
    pub max: usize,
}

impl FromStr for ValueSize {
    type Err = String;

    fn from_str(s: &str) -> Result<ValueSize, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("bad value size `{t}`"))
        };
        let (min, max) = match s.split_once("..") {
            Some((a, b)) => (num(a)?, num(b.trim_start_matches('='))?),
            None => (num(s)?, num(s)?),
        };
        if min > max {
            return Err(format!("value size range {min}..{max} is empty"));
        }
        if max > 64 * 1024 * 1024 {
            return Err("value size above 64 MiB".into());
        }
        Ok(ValueSize { min, max })
    }
}

impl fmt::Display for ValueSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}..{}", self.min, self.max)
        }
    }
}

/// A quorum given on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuorumArg(pub Quorum);

impl FromStr for QuorumArg {
    type Err = String;

    fn from_str(s: &str) -> Result<QuorumArg, String> {
        Ok(QuorumArg(match s {
            "one" => Quorum::One,
            "quorum" => Quorum::Quorum,
            "all" => Quorum::All,
            "default" => Quorum::Default,
            n => Quorum::N(n.parse().map_err(|_| {
                format!("bad quorum `{n}` (expected one, quorum, all, default or a number)")
            })?),
        }))
    }
}

impl fmt::Display for QuorumArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Quorum::One => f.write_str("one"),
            Quorum::Quorum => f.write_str("quorum"),
            Quorum::All => f.write_str("all"),
            Quorum::Default => f.write_str("default"),
            Quorum::N(n) => write!(f, "{n}"),
        }
    }
}

/// Key choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyGenKind {
    /// 0, 1, 2, … shared by all workers, wrapping at the key space.
    Sequential,
    /// Every key equally likely.
    Uniform,
    /// Skewed: 80 % of operations on 20 % of the keys, recursively.
    Pareto,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_weights_and_picks_by_them() {
        let mix: Mix = "get=3, put=1,update=0".parse().unwrap();
        assert_eq!(mix.total(), 4);
        assert_eq!(mix.ops(), vec![Op::Get, Op::Put]);
        let picks: Vec<Op> = (0..4).map(|d| mix.pick(d)).collect();
        assert_eq!(picks, vec![Op::Get, Op::Get, Op::Get, Op::Put]);
        assert_eq!(mix.to_string(), "get=3,put=1,update=0");
        let bare: Mix = "delete".parse().unwrap();
        assert_eq!(bare.0, vec![(Op::Delete, 1)]);
    }

    #[test]
    fn mix_refuses_unsupported_and_unknown_operations() {
        let mix: Mix = "get=1,dt_update=2,dt_fetch=1".parse().unwrap();
        assert_eq!(mix.ops(), vec![Op::Get, Op::DtUpdate, Op::DtFetch]);
        assert!(mix.has(Op::is_datatype) && mix.has(|op| !op.is_datatype()));
        let err = "index=1".parse::<Mix>().unwrap_err();
        assert!(err.contains("`index` is not supported yet"), "{err}");
        assert!("scan=1".parse::<Mix>().is_err());
        assert!("get=0".parse::<Mix>().is_err());
        assert!("get=1,get=2".parse::<Mix>().is_err());
    }

    #[test]
    fn value_size_is_fixed_or_a_range() {
        assert_eq!(
            "100".parse::<ValueSize>().unwrap(),
            ValueSize { min: 100, max: 100 }
        );
        assert_eq!(
            "10..20".parse::<ValueSize>().unwrap(),
            ValueSize { min: 10, max: 20 }
        );
        assert!("20..10".parse::<ValueSize>().is_err());
        assert!("x".parse::<ValueSize>().is_err());
    }

    #[test]
    fn quorums_parse_names_and_numbers() {
        assert_eq!("one".parse::<QuorumArg>().unwrap().0, Quorum::One);
        assert_eq!("2".parse::<QuorumArg>().unwrap().0, Quorum::N(2));
        assert!("most".parse::<QuorumArg>().is_err());
    }

    #[test]
    fn flags_parse_as_scripts_use_them() {
        let args = Args::try_parse_from([
            "rill-bench",
            "--pb",
            "127.0.0.1:8087,127.0.0.1:8088",
            "--duration",
            "3",
            "--workers",
            "4",
            "--keys",
            "1000",
            "--preload",
            "--out",
            "d",
            "--mix",
            "get=1,update=1",
            "--value-size",
            "10..20",
            "--keygen",
            "pareto",
            "--r",
            "one",
            "--w",
            "quorum",
            "--rate",
            "500",
            "--bucket-type",
            "t",
            "--json",
        ])
        .unwrap();
        assert_eq!(args.pb.len(), 2);
        assert_eq!(args.duration_secs(), Some(3));
        assert_eq!(args.keygen, KeyGenKind::Pareto);
        assert!(args.preload && args.json);
        assert!(Args::try_parse_from(["rill-bench", "--workers", "2"]).is_err());
        assert!(Args::try_parse_from(["rill-bench", "--pb", "a:1", "--http", "b:2"]).is_err());
        let ops_only = Args::try_parse_from(["rill-bench", "--http", "a:1", "--ops", "5"]).unwrap();
        assert_eq!(ops_only.duration_secs(), None);
    }
}
