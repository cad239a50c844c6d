//! The KV service end to end on one node over the in-memory backend.

use rill_kv::object::VClock;
use rill_kv::*;
use std::time::Duration;

fn open() -> KvService {
    let cfg = KvConfig {
        delete_mode: DeleteMode::Immediate,
        ..KvConfig::default()
    };
    KvService::open(cfg, rill_storage::memory()).unwrap()
}

fn bk(t: &str, b: &str, k: &str) -> BucketKey {
    BucketKey::new(t.as_bytes(), b.as_bytes(), k.as_bytes())
}

fn put_req(t: &str, b: &str, k: &str, v: &str, ctx: Option<VClock>) -> PutRequest {
    PutRequest {
        bucket_type: t.into(),
        bucket: b.into(),
        key: Some(k.into()),
        context: ctx,
        content: NewContent {
            value: v.into(),
            content_type: Some("text/plain".into()),
            ..Default::default()
        },
        options: PutOptions {
            return_body: true,
            ..Default::default()
        },
    }
}

async fn values(kv: &KvService, key: BucketKey) -> Vec<Vec<u8>> {
    match kv.get(key, GetOptions::default()).await.unwrap() {
        GetResult::Found(o) => o.live_siblings().map(|s| s.value.clone()).collect(),
        _ => vec![],
    }
}

async fn allow_mult_type(kv: &KvService) {
    kv.create_type("sib", PropsUpdate::Json(serde_json::json!({})))
        .await
        .unwrap();
    kv.activate_type("sib").await.unwrap();
}

#[tokio::test]
async fn put_get_delete_round_trip() {
    let kv = open();
    let r = kv
        .put(put_req("default", "b", "k", "v1", None))
        .await
        .unwrap();
    assert_eq!(r.key, b"k");
    assert_eq!(
        values(&kv, bk("default", "b", "k")).await,
        vec![b"v1".to_vec()]
    );
    let out = kv
        .delete(DeleteRequest {
            key: bk("default", "b", "k"),
            context: None,
            options: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(out, DeleteOutcome::Deleted);
    let got = kv
        .get(
            bk("default", "b", "k"),
            GetOptions {
                deleted_vclock: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(got, GetResult::Deleted(_) | GetResult::NotFound));
    let again = kv
        .delete(DeleteRequest {
            key: bk("default", "b", "missing"),
            context: None,
            options: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(again, DeleteOutcome::NotFound);
    kv.shutdown();
}

#[tokio::test]
async fn default_type_keeps_the_last_write() {
    let kv = open();
    kv.put(put_req("default", "b", "k", "a", None))
        .await
        .unwrap();
    kv.put(put_req("default", "b", "k", "b", None))
        .await
        .unwrap();
    assert_eq!(
        values(&kv, bk("default", "b", "k")).await,
        vec![b"b".to_vec()]
    );
}

#[tokio::test]
async fn blind_writes_become_siblings_and_context_resolves_them() {
    let kv = open();
    allow_mult_type(&kv).await;
    kv.put(put_req("sib", "b", "k", "a", None)).await.unwrap();
    kv.put(put_req("sib", "b", "k", "b", None)).await.unwrap();
    let GetResult::Found(o) = kv
        .get(bk("sib", "b", "k"), GetOptions::default())
        .await
        .unwrap()
    else {
        panic!("not found")
    };
    assert_eq!(o.siblings.len(), 2);
    kv.put(put_req("sib", "b", "k", "c", Some(o.clock.clone())))
        .await
        .unwrap();
    assert_eq!(values(&kv, bk("sib", "b", "k")).await, vec![b"c".to_vec()]);
}

#[tokio::test]
async fn unknown_type_and_bad_quorum_are_refused() {
    let kv = open();
    let e = kv
        .put(put_req("nope", "b", "k", "v", None))
        .await
        .unwrap_err();
    assert_eq!(e, KvError::UnknownBucketType("nope".into()));
    let mut req = put_req("default", "b", "k", "v", None);
    req.options.w = Some(rill_kv::bucket::Quorum::N(4));
    assert_eq!(kv.put(req).await.unwrap_err(), KvError::NValViolation(3));
}

#[tokio::test]
async fn list_keys_and_buckets_see_every_key_once() {
    let kv = open();
    for i in 0..50 {
        kv.put(put_req("default", "lk", &format!("k{i}"), "v", None))
            .await
            .unwrap();
    }
    kv.put(put_req("default", "other", "x", "v", None))
        .await
        .unwrap();
    let mut keys = Vec::new();
    let mut rx = kv.list_keys(b"default", b"lk", None).await.unwrap();
    while let Some(batch) = rx.recv().await {
        keys.extend(batch.unwrap());
    }
    keys.sort();
    let mut want: Vec<Vec<u8>> = (0..50).map(|i| format!("k{i}").into_bytes()).collect();
    want.sort();
    assert_eq!(keys, want);
    let mut buckets = Vec::new();
    let mut rx = kv.list_buckets(b"default", None).await.unwrap();
    while let Some(batch) = rx.recv().await {
        buckets.extend(batch.unwrap());
    }
    buckets.sort();
    assert_eq!(buckets, vec![b"lk".to_vec(), b"other".to_vec()]);
}

#[tokio::test]
async fn tombstones_are_reaped_and_vanish_from_listings() {
    let kv = open();
    kv.put(put_req("default", "t", "k", "v", None))
        .await
        .unwrap();
    kv.delete(DeleteRequest {
        key: bk("default", "t", "k"),
        context: None,
        options: Default::default(),
    })
    .await
    .unwrap();
    let mut listed = true;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut rx = kv.list_keys(b"default", b"t", None).await.unwrap();
        let mut n = 0;
        while let Some(b) = rx.recv().await {
            n += b.unwrap().len();
        }
        if n == 0 {
            listed = false;
            break;
        }
    }
    assert!(!listed, "tombstone was not reaped");
    // Each of the three replicas reaps its own copy.
    for _ in 0..100 {
        if kv.stats()["tombstones_reaped_total"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(kv.stats()["tombstones_reaped_total"], 3);
}

#[tokio::test]
async fn concurrent_blind_puts_lose_nothing() {
    let kv = open();
    allow_mult_type(&kv).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let kv = kv.clone();
        tasks.push(tokio::spawn(async move {
            kv.put(put_req("sib", "c", "k", &format!("v{i}"), None))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let mut got = values(&kv, bk("sib", "c", "k")).await;
    got.sort();
    let mut want: Vec<Vec<u8>> = (0..20).map(|i| format!("v{i}").into_bytes()).collect();
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn conditional_puts() {
    let kv = open();
    let mut req = put_req("default", "b", "c", "v", None);
    req.options.if_none_match = true;
    kv.put(req.clone()).await.unwrap();
    assert_eq!(kv.put(req).await.unwrap_err(), KvError::MatchFound);
    let mut req = put_req("default", "b", "c", "v2", None);
    req.options.if_not_modified = Some(VClock::new());
    assert_eq!(kv.put(req).await.unwrap_err(), KvError::Modified);
}

#[tokio::test]
async fn the_101st_sibling_is_refused() {
    let kv = open();
    allow_mult_type(&kv).await;
    for i in 0..100 {
        kv.put(put_req("sib", "many", "k", &format!("v{i}"), None))
            .await
            .unwrap();
    }
    let e = kv
        .put(put_req("sib", "many", "k", "one-too-many", None))
        .await
        .unwrap_err();
    assert_eq!(e, KvError::TooManySiblings(101));
    assert_eq!(values(&kv, bk("sib", "many", "k")).await.len(), 100);
}

#[tokio::test]
async fn objects_over_the_size_limit_are_refused() {
    let cfg = KvConfig {
        max_object_size: 1000,
        ..KvConfig::default()
    };
    let kv = KvService::open(cfg, rill_storage::memory()).unwrap();
    let mut req = put_req("default", "b", "big", "", None);
    req.content.value = vec![b'x'; 1001];
    assert_eq!(kv.put(req).await.unwrap_err(), KvError::TooLarge(1001));
}

#[tokio::test]
async fn a_corrupt_replica_is_never_served_and_is_repaired() {
    let backend = rill_storage::memory();
    let kv = KvService::open(KvConfig::default(), backend.clone()).unwrap();
    let mut req = put_req("default", "b", "k", "good", None);
    req.options.w = Some(rill_kv::bucket::Quorum::All);
    kv.put(req).await.unwrap();
    // Flip a byte of the record in every vnode store that holds it.
    let key = rill_kv::keys::object_key(&bk("default", "b", "k")).unwrap();
    let mut corrupted = 0;
    for name in backend.store_names().unwrap() {
        let store = backend.store(&name).unwrap();
        if let Some(mut bytes) = store.get(&key).unwrap() {
            if corrupted == 0 {
                let last = bytes.len() - 1;
                bytes[last] ^= 0xff;
                store.put(&key, &bytes).unwrap();
            }
            corrupted += 1;
        }
    }
    assert_eq!(corrupted, 3, "three replicas expected");
    // r=quorum: two good replicas answer; the corrupt one is an error.
    assert_eq!(
        values(&kv, bk("default", "b", "k")).await,
        vec![b"good".to_vec()]
    );
    // The corrupt replica answers after the quorum did: wait for its report.
    let mut reported = false;
    for _ in 0..50 {
        if kv.stats()["corrupt_objects_total"].as_u64().unwrap() >= 1 {
            reported = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reported, "the corrupt record was not reported");
    // Read repair rewrites the corrupt replica: a read with r=all then succeeds.
    let mut healed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let opts = GetOptions {
            r: Some(rill_kv::bucket::Quorum::All),
            ..Default::default()
        };
        if let Ok(GetResult::Found(_)) = kv.get(bk("default", "b", "k"), opts).await {
            healed = true;
            break;
        }
    }
    assert!(healed, "corrupt replica was not repaired");
}

/// The bytes each vnode store holds for a key, one entry per replica.
fn replica_bytes(
    backend: &std::sync::Arc<dyn rill_storage::Backend>,
    key: &BucketKey,
) -> Vec<Vec<u8>> {
    let key = rill_kv::keys::object_key(key).unwrap();
    let names = backend.store_names().unwrap();
    names
        .iter()
        .filter_map(|name| backend.store(name).unwrap().get(&key).unwrap())
        .collect()
}

/// The storage row cache keeps one entry for replicas that hold the same
/// bytes (docs/decisions/0014): an uncontended write must leave every
/// replica on the node byte-identical, whatever the replica had before.
#[tokio::test]
async fn replicas_of_a_write_hold_the_same_bytes() {
    let backend = rill_storage::memory();
    let kv = KvService::open(KvConfig::default(), backend.clone()).unwrap();
    allow_mult_type(&kv).await;
    let all = |mut req: PutRequest| {
        req.options.w = Some(rill_kv::bucket::Quorum::All);
        req.options.dw = Some(rill_kv::bucket::Quorum::All);
        req
    };
    // Last write wins, and siblings: two blind writes, then one with context.
    for t in ["default", "sib"] {
        let first = kv.put(all(put_req(t, "b", "k", "v1", None))).await.unwrap();
        kv.put(all(put_req(t, "b", "k", "v2", None))).await.unwrap();
        let ctx = first.object.map(|o| o.clock.clone());
        kv.put(all(put_req(t, "b", "k", "v3", ctx))).await.unwrap();
        let replicas = replica_bytes(&backend, &bk(t, "b", "k"));
        assert_eq!(replicas.len(), 3, "{t}: three replicas expected");
        assert!(
            replicas.windows(2).all(|w| w[0] == w[1]),
            "{t}: replicas differ"
        );
    }
}

/// A data directory written before decision 0015 (object keys in the old
/// layout, which is now the wire form) serves its objects once the service
/// opens on it, listings included, and keeps no key in the old layout.
#[tokio::test]
async fn opening_migrates_keys_of_the_old_layout() {
    use rill_kv::object::{Actor, Content, Metadata, RiakObject, VClock, encode_record};
    let dir = tempfile::tempdir().unwrap();
    let backend =
        rill_storage::open_fjall(dir.path(), &rill_storage::StorageConfig::default()).unwrap();
    // Where each key's replicas live: the ring of a one-node cluster
    // depends only on its name and size, the same for both services.
    let ring_of = KvService::open(KvConfig::default(), rill_storage::memory()).unwrap();
    let names = ["a", "b", "c"];
    for k in names {
        let key = bk("default", "b", k);
        let obj = RiakObject::coordinate_put(
            None,
            &VClock::new(),
            Content::new(k.as_bytes().to_vec(), Metadata::default()),
            Actor(1),
        );
        let old = rill_kv::keys::to_wire(&rill_kv::keys::object_key(&key).unwrap());
        for e in ring_of.preflist(&key).await.unwrap() {
            let store = backend.store(&format!("kv.{}", e.partition)).unwrap();
            store.put(&old, &encode_record(&obj)).unwrap();
        }
    }
    let kv = KvService::open(KvConfig::default(), backend.clone()).unwrap();
    for k in names {
        assert_eq!(values(&kv, bk("default", "b", k)).await, [k.as_bytes()]);
        assert_eq!(replica_bytes(&backend, &bk("default", "b", k)).len(), 3);
    }
    let mut listed = Vec::new();
    let mut rx = kv.list_keys(b"default", b"b", None).await.unwrap();
    while let Some(batch) = rx.recv().await {
        listed.extend(batch.unwrap());
    }
    listed.sort();
    assert_eq!(listed, names.map(|n| n.as_bytes().to_vec()));
    for name in backend.store_names().unwrap() {
        let old = backend.store(&name).unwrap().prefix(&[1]).count();
        assert_eq!(old, 0, "{name} still holds keys of the old layout");
    }
}
