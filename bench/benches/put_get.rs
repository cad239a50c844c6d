//! Put and get of 1 KiB values on fjall at three depths, to show what each
//! layer adds: a raw `Store` (bytes in, bytes out); the object work a vnode
//! does around it, composed from public functions (read and decode the
//! local object, coordinate, encode, write; read and decode); and a one-node
//! `KvService` (put and get FSMs, vnode threads, quorum replies) with
//! n_val 1 and with the default n_val 3. Puts overwrite keys that already
//! exist, as updates do; 10,000 keys are written before measuring.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use rill_kv::keys::object_key;
use rill_kv::object::{Actor, Content, Metadata, RiakObject, VClock, decode_object, encode_record};
use rill_kv::{
    BucketKey, GetOptions, GetResult, KvConfig, KvService, NewContent, PutOptions, PutRequest,
};
use rill_storage::{Backend, StorageConfig, Store, open_fjall};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const KEYS: usize = 10_000;
const VALUE_LEN: usize = 1024;

fn user_key(i: usize) -> Vec<u8> {
    format!("user-{:06}", i % KEYS).into_bytes()
}

fn bucket_key(i: usize) -> BucketKey {
    BucketKey::new(b"default", b"users", &user_key(i))
}

/// The key the kv layer stores an object under.
fn stored_key(i: usize) -> Vec<u8> {
    object_key(&bucket_key(i)).unwrap()
}

fn fjall(dir: &Path) -> Arc<dyn Backend> {
    open_fjall(dir, &StorageConfig::default()).unwrap()
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(50).measurement_time(Duration::from_secs(3));
    g
}

fn storage(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = fjall(dir.path()).store("kv.0").unwrap();
    let keys: Vec<Vec<u8>> = (0..KEYS).map(stored_key).collect();
    let value = vec![b'x'; VALUE_LEN];
    for k in &keys {
        store.put(k, &value).unwrap();
    }
    let mut g = group(c, "storage_fjall");
    let mut i = 0;
    g.bench_function("put", |b| {
        b.iter(|| {
            i += 1;
            store.put(&keys[i % KEYS], &value).unwrap()
        })
    });
    g.bench_function("get", |b| {
        b.iter(|| {
            i += 1;
            store.get(&keys[i % KEYS]).unwrap().unwrap()
        })
    });
    g.finish();
}

fn content() -> Content {
    let meta = Metadata {
        vtag: "4f2MwQn0XhzbDcsc1Nq5Ev".into(),
        last_modified_us: 1_700_000_000_000_000,
        ..Metadata::default()
    };
    Content::new(vec![b'x'; VALUE_LEN], meta)
}

/// A vnode's blind put in an `allow_mult=false` bucket: merge the new
/// value into the local object, keep the newest sibling, store it.
fn object_put(store: &dyn Store, key: &[u8], actor: Actor) {
    let local = store.get(key).unwrap().map(|b| decode_object(&b).unwrap());
    let mut obj = RiakObject::coordinate_put(local.as_ref(), &VClock::new(), content(), actor);
    obj.collapse_lww();
    store.put(key, &encode_record(&obj)).unwrap();
}

fn object_get(store: &dyn Store, key: &[u8]) -> RiakObject {
    decode_object(&store.get(key).unwrap().unwrap()).unwrap()
}

fn object_layer(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = fjall(dir.path()).store("kv.0").unwrap();
    let keys: Vec<Vec<u8>> = (0..KEYS).map(stored_key).collect();
    let actor = Actor(7);
    for k in &keys {
        object_put(store.as_ref(), k, actor);
    }
    let mut g = group(c, "object_on_fjall");
    let mut i = 0;
    g.bench_function("put", |b| {
        b.iter(|| {
            i += 1;
            object_put(store.as_ref(), &keys[i % KEYS], actor)
        })
    });
    g.bench_function("get", |b| {
        b.iter(|| {
            i += 1;
            object_get(store.as_ref(), &keys[i % KEYS])
        })
    });
    g.finish();
}

fn put_request(i: usize, n_val: Option<u32>) -> PutRequest {
    PutRequest {
        bucket_type: b"default".to_vec(),
        bucket: b"users".to_vec(),
        key: Some(user_key(i)),
        context: None,
        content: NewContent {
            value: vec![b'x'; VALUE_LEN],
            ..NewContent::default()
        },
        options: PutOptions {
            n_val,
            ..PutOptions::default()
        },
    }
}

fn get_options(n_val: Option<u32>) -> GetOptions {
    GetOptions {
        n_val,
        ..GetOptions::default()
    }
}

fn service(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kv = KvService::open(KvConfig::default(), fjall(dir.path())).unwrap();
    for i in 0..KEYS {
        rt.block_on(kv.put(put_request(i, None))).unwrap();
    }
    let mut g = group(c, "service_fjall");
    let mut i = 0;
    for (name, n_val) in [("n1", Some(1)), ("n3", None)] {
        g.bench_function(format!("put_{name}"), |b| {
            b.iter(|| {
                i += 1;
                rt.block_on(kv.put(put_request(i, n_val))).unwrap()
            })
        });
        g.bench_function(format!("get_{name}"), |b| {
            b.iter(|| {
                i += 1;
                let got = rt.block_on(kv.get(bucket_key(i), get_options(n_val)));
                assert!(matches!(got, Ok(GetResult::Found(_))));
            })
        });
    }
    g.finish();
    kv.shutdown();
}

criterion_group!(benches, storage, object_layer, service);
criterion_main!(benches);
