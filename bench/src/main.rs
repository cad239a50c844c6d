//! rill-bench: a basho_bench-style load generator for Rill and Riak KV.
//!
//! Work in progress; the driver, workers and reports follow.

fn main() {}
