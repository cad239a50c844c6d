//! The object layer on its own, without storage: encoding and decoding the
//! stored record of a `RiakObject` with a 1 KiB value (one sibling and five
//! siblings), merging two diverged replicas, coordinating a put on top of a
//! stored object, and merging version vectors of 3 and 64 actors.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rill_kv::object::{
    Actor, Content, Metadata, RiakObject, VClock, decode_object, encode_object, encode_record,
};
use std::hint::black_box;
use std::time::Duration;

const VALUE_LEN: usize = 1024;

fn content(i: u64) -> Content {
    let meta = Metadata {
        content_type: "application/json".into(),
        vtag: format!("vtag{i:018}"),
        last_modified_us: 1_700_000_000_000_000 + i,
        ..Metadata::default()
    };
    Content::new(vec![b'x'; VALUE_LEN], meta)
}

/// An object with `n` concurrent siblings, each written by its own actor
/// without seeing the others.
fn object_with_siblings(n: u64) -> RiakObject {
    let mut obj = RiakObject::coordinate_put(None, &VClock::new(), content(0), Actor(1));
    for i in 1..n {
        let theirs = RiakObject::coordinate_put(None, &VClock::new(), content(i), Actor(i + 1));
        obj = obj.merge(&theirs);
    }
    assert_eq!(obj.sibling_count(), n as usize);
    obj
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("object_codec");
    g.measurement_time(Duration::from_secs(2));
    for siblings in [1u64, 5] {
        let obj = object_with_siblings(siblings);
        let bytes = encode_object(&obj);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("encode", siblings), &obj, |b, o| {
            b.iter(|| encode_object(black_box(o)))
        });
        g.bench_with_input(BenchmarkId::new("decode", siblings), &bytes, |b, by| {
            b.iter(|| decode_object(black_box(by)).unwrap())
        });
        // The stored form (fields by position) and its conversion for handoff.
        let stored = encode_record(&obj);
        g.bench_with_input(BenchmarkId::new("encode_record", siblings), &obj, |b, o| {
            b.iter(|| encode_record(black_box(o)))
        });
        g.bench_with_input(
            BenchmarkId::new("decode_record", siblings),
            &stored,
            |b, by| b.iter(|| decode_object(black_box(by)).unwrap()),
        );
    }
    g.finish();
}

/// Two replicas that both took a write on top of a common object: the merge
/// keeps both new values as siblings and drops the one they replaced.
fn object_merge(c: &mut Criterion) {
    let base = RiakObject::coordinate_put(None, &VClock::new(), content(0), Actor(1));
    let left = RiakObject::coordinate_put(Some(&base), &base.clock, content(1), Actor(2));
    let right = RiakObject::coordinate_put(Some(&base), &base.clock, content(2), Actor(3));
    let mut g = c.benchmark_group("object_merge");
    g.measurement_time(Duration::from_secs(2));
    g.bench_function("concurrent_1k", |b| {
        b.iter(|| black_box(&left).merge(black_box(&right)))
    });
    g.bench_function("descendant_1k", |b| {
        b.iter(|| black_box(&left).merge(black_box(&base)))
    });
    let five = object_with_siblings(5);
    g.bench_function("coordinate_put_over_5", |b| {
        b.iter(|| {
            let c = content(9);
            RiakObject::coordinate_put(Some(black_box(&five)), &five.clock, c, Actor(1))
        })
    });
    g.finish();
}

/// Two clocks over `actors` actors, each ahead of the other on half of them.
fn clocks(actors: u64) -> (VClock, VClock) {
    let a = VClock::from_entries((0..actors).map(|i| (Actor(i), 10 + i % 2)));
    let b = VClock::from_entries((0..actors).map(|i| (Actor(i), 11 - i % 2)));
    (a, b)
}

fn vclock(c: &mut Criterion) {
    let mut g = c.benchmark_group("vclock");
    g.measurement_time(Duration::from_secs(2));
    for actors in [3u64, 64] {
        let (a, b) = clocks(actors);
        g.bench_with_input(BenchmarkId::new("merged", actors), &actors, |bch, _| {
            bch.iter(|| black_box(&a).merged(black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("compare", actors), &actors, |bch, _| {
            bch.iter(|| black_box(&a).compare(black_box(&b)))
        });
    }
    g.finish();
}

criterion_group!(benches, codec, object_merge, vclock);
criterion_main!(benches);
