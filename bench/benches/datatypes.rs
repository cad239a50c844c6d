//! The cost of updating a large data type: one add to a set of 100,000
//! members through a one-node `KvService` on fjall (n_val 3, so three vnodes
//! store it), against the alternative a client without data types has,
//! rewriting the whole set as a plain object. Also the pieces of the update
//! on their own: decoding, encoding and merging the stored set.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rill_kv::crdt::{self, DataKind, DataType, DtOp, SetOp};
use rill_kv::dt::DtUpdateRequest;
use rill_kv::object::Actor;
use rill_kv::{BucketKey, KvConfig, KvService, NewContent, PropsUpdate, PutOptions, PutRequest};
use rill_storage::{StorageConfig, open_fjall};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const MEMBERS: usize = 100_000;

fn member(i: u64) -> Vec<u8> {
    format!("member-{i:08}").into_bytes()
}

fn add(members: Vec<Vec<u8>>) -> DtOp {
    DtOp::Set(SetOp {
        adds: members,
        removes: vec![],
    })
}

fn big_set() -> DataType {
    let mut dt = DataType::new(DataKind::Set);
    let all = (0..MEMBERS as u64).map(member).collect();
    dt.apply(add(all), Actor(1), None, 0).unwrap();
    dt
}

fn dt_update(key: &str, op: DtOp) -> DtUpdateRequest {
    DtUpdateRequest {
        bucket_type: b"sets".to_vec(),
        bucket: b"b".to_vec(),
        key: Some(key.as_bytes().to_vec()),
        op,
        context: None,
        options: PutOptions::default(),
    }
}

/// A one-node service on fjall in `dir` with an active `sets` type.
fn service(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> KvService {
    let backend = open_fjall(dir, &StorageConfig::default()).unwrap();
    let kv = KvService::open(KvConfig::default(), backend).unwrap();
    rt.block_on(async {
        let props = serde_json::json!({"datatype": "set"});
        kv.create_type("sets", PropsUpdate::Json(props))
            .await
            .unwrap();
        kv.activate_type("sets").await.unwrap();
    });
    kv
}

fn crdt_pieces(c: &mut Criterion) {
    let set = big_set();
    let bytes = crdt::encode(&set);
    eprintln!("stored set of {MEMBERS} members: {} bytes", bytes.len());
    let mut g = c.benchmark_group("set_100k");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("decode", |b| b.iter(|| crdt::decode(&bytes).unwrap()));
    g.bench_function("encode", |b| b.iter(|| crdt::encode(&set)));
    let mut other = set.clone();
    other
        .apply(add(vec![b"another".to_vec()]), Actor(2), None, 0)
        .unwrap();
    g.bench_function("merge", |b| {
        b.iter_batched(
            || set.clone(),
            |mut s| s.merge(&other),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn through_service(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kv = service(&rt, dir.path());
    let all: Vec<Vec<u8>> = (0..MEMBERS as u64).map(member).collect();
    rt.block_on(kv.dt_update(dt_update("big", add(all.clone()))))
        .unwrap();
    // The plain-object alternative: every member, one per line.
    let mut lines = all.join(&b'\n');
    let next = AtomicU64::new(MEMBERS as u64);
    let mut g = c.benchmark_group("set_100k_update");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("dt_add_one", |b| {
        b.iter(|| {
            let m = member(next.fetch_add(1, Ordering::Relaxed));
            rt.block_on(kv.dt_update(dt_update("big", add(vec![m]))))
                .unwrap()
        })
    });
    g.bench_function("rewrite_whole_object", |b| {
        b.iter(|| {
            lines.push(b'\n');
            lines.extend_from_slice(&member(next.fetch_add(1, Ordering::Relaxed)));
            let req = PutRequest {
                bucket_type: b"default".to_vec(),
                bucket: b"plain".to_vec(),
                key: Some(b"big".to_vec()),
                context: None,
                content: NewContent {
                    value: lines.clone(),
                    ..NewContent::default()
                },
                options: PutOptions::default(),
            };
            rt.block_on(kv.put(req)).unwrap()
        })
    });
    g.finish();
    let fetched = rt.block_on(kv.dt_fetch(
        BucketKey::new(b"sets", b"b", b"big"),
        rill_kv::GetOptions::default(),
    ));
    assert!(fetched.unwrap().value.is_some());
    kv.shutdown();
}

criterion_group!(benches, crdt_pieces, through_service);
criterion_main!(benches);
