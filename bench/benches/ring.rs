//! Request routing: hashing a bucket/key to its ring position and first
//! partition, and building its preference list (n_val 3) with every node up
//! and with one node down, on rings of 64 and 1024 partitions over 5 nodes.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rill_core::apl::{preflist, primaries};
use rill_core::chash::key_hash;
use rill_core::{NodeName, Ring};
use std::hint::black_box;
use std::time::Duration;

const NODES: u32 = 5;
const N_VAL: usize = 3;
const SIZES: [u32; 2] = [64, 1024];

/// Partitions dealt round-robin to `NODES` nodes.
fn ring(size: u32) -> Ring {
    let owners: Vec<NodeName> = (0..size)
        .map(|p| format!("rill{}@host", p % NODES))
        .collect();
    Ring::from_owners(owners)
}

fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("ring_hash");
    g.measurement_time(Duration::from_secs(2));
    g.bench_function("key_hash", |b| {
        b.iter(|| key_hash(b"default", black_box(b"users"), black_box(b"user-000042")))
    });
    for size in SIZES {
        let r = ring(size);
        g.bench_with_input(BenchmarkId::new("partition_of", size), &r, |b, r| {
            b.iter(|| r.partition_of(&key_hash(b"default", b"users", black_box(b"user-000042"))))
        });
    }
    g.finish();
}

fn preflists(c: &mut Criterion) {
    let mut g = c.benchmark_group("ring_preflist");
    g.measurement_time(Duration::from_secs(2));
    for size in SIZES {
        let r = ring(size);
        let first = r.partition_of(&key_hash(b"default", b"users", b"user-000042"));
        // The first primary's node is the one that is down.
        let down = r.owner(first).clone();
        g.bench_with_input(BenchmarkId::new("primaries", size), &r, |b, r| {
            b.iter(|| primaries(r, black_box(first), N_VAL))
        });
        g.bench_with_input(BenchmarkId::new("all_up", size), &r, |b, r| {
            b.iter(|| preflist(r, black_box(first), N_VAL, |_| true))
        });
        g.bench_with_input(BenchmarkId::new("one_down", size), &r, |b, r| {
            b.iter(|| preflist(r, black_box(first), N_VAL, |n| n != down))
        });
    }
    g.finish();
}

criterion_group!(benches, hashing, preflists);
criterion_main!(benches);
