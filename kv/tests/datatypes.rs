//! Data type fetches and updates through the KV service on one node.

use rill_kv::crdt::*;
use rill_kv::dt::{DtUpdateRequest, DtUpdateResult};
use rill_kv::*;

async fn open() -> KvService {
    let kv = KvService::open(KvConfig::default(), rill_storage::memory()).unwrap();
    for (name, props) in [
        ("counters", serde_json::json!({"datatype": "counter"})),
        ("sets", serde_json::json!({"datatype": "set"})),
        ("maps", serde_json::json!({"datatype": "map"})),
        ("hlls", serde_json::json!({"datatype": "hll"})),
        ("gsets", serde_json::json!({"datatype": "gset"})),
        ("plain", serde_json::json!({})),
    ] {
        kv.create_type(name, PropsUpdate::Json(props))
            .await
            .unwrap();
        kv.activate_type(name).await.unwrap();
    }
    kv
}

async fn update(
    kv: &KvService,
    t: &str,
    k: Option<&str>,
    op: DtOp,
    ctx: Option<Vec<u8>>,
) -> rill_kv::Result<DtUpdateResult> {
    kv.dt_update(DtUpdateRequest {
        bucket_type: t.into(),
        bucket: b"b".to_vec(),
        key: k.map(Into::into),
        op,
        context: ctx,
        options: PutOptions {
            return_body: true,
            ..PutOptions::default()
        },
    })
    .await
}

async fn fetch(kv: &KvService, t: &str, k: &str) -> Option<DataType> {
    let r = kv
        .dt_fetch(
            BucketKey::new(t.as_bytes(), b"b", k.as_bytes()),
            GetOptions::default(),
        )
        .await
        .unwrap();
    r.value
}

fn set_op(adds: &[&str], removes: &[&str]) -> DtOp {
    DtOp::Set(SetOp {
        adds: adds.iter().map(|s| s.as_bytes().to_vec()).collect(),
        removes: removes.iter().map(|s| s.as_bytes().to_vec()).collect(),
    })
}

#[tokio::test]
async fn counter_increments_and_fetches() {
    let kv = open().await;
    assert_eq!(fetch(&kv, "counters", "c").await, None);
    let inc = |n| DtOp::Counter(CounterOp { increment: n });
    update(&kv, "counters", Some("c"), inc(5), None)
        .await
        .unwrap();
    let r = update(&kv, "counters", Some("c"), inc(-2), None)
        .await
        .unwrap();
    assert_eq!(r.value.unwrap().value(), DtValue::Counter(3));
    let dt = fetch(&kv, "counters", "c").await.unwrap();
    assert_eq!(dt.value(), DtValue::Counter(3));
    assert!(dt.context().is_empty());
    // A plain get sees one sibling of Riak's content type.
    let GetResult::Found(o) = kv
        .get(
            BucketKey::new(b"counters", b"b", b"c"),
            GetOptions::default(),
        )
        .await
        .unwrap()
    else {
        panic!("stored object")
    };
    assert_eq!(o.siblings.len(), 1);
    assert_eq!(o.siblings[0].meta.content_type, "application/riak_counter");
}

#[tokio::test]
async fn set_removes_need_the_context() {
    let kv = open().await;
    update(&kv, "sets", Some("s"), set_op(&["a", "b"], &[]), None)
        .await
        .unwrap();
    let err = update(&kv, "sets", Some("s"), set_op(&[], &["zz"]), None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "{precondition,{not_present,<<\"zz\">>}}");
    assert!(matches!(err, KvError::Precondition(_)));
    let ctx = fetch(&kv, "sets", "s").await.unwrap().context().encode();
    let r = update(&kv, "sets", Some("s"), set_op(&[], &["a"]), Some(ctx))
        .await
        .unwrap();
    assert_eq!(r.value.unwrap().value(), DtValue::Set(vec![b"b".to_vec()]));
    assert_eq!(
        fetch(&kv, "sets", "s").await.unwrap().value(),
        DtValue::Set(vec![b"b".to_vec()])
    );
}

#[tokio::test]
async fn maps_nest() {
    let kv = open().await;
    let inner = MapOp {
        removes: vec![],
        updates: vec![(
            Field::new("f", FieldKind::Flag),
            FieldOp::Flag(FlagOp::Enable),
        )],
    };
    let op = DtOp::Map(MapOp {
        removes: vec![],
        updates: vec![
            (
                Field::new("c", FieldKind::Counter),
                FieldOp::Counter(CounterOp { increment: 2 }),
            ),
            (
                Field::new("r", FieldKind::Register),
                FieldOp::Register(RegisterOp {
                    assign: b"x".to_vec(),
                }),
            ),
            (Field::new("m", FieldKind::Map), FieldOp::Map(inner)),
        ],
    });
    let r = update(&kv, "maps", None, op, None).await.unwrap();
    assert!(!r.key.is_empty(), "a generated key");
    let key = String::from_utf8(r.key).unwrap();
    let v = fetch(&kv, "maps", &key).await.unwrap().value();
    let DtValue::Map(fields) = v else {
        panic!("a map")
    };
    let names: Vec<_> = fields.iter().map(|(f, _)| f.clone()).collect();
    assert_eq!(
        names,
        vec![
            Field::new("c", FieldKind::Counter),
            Field::new("m", FieldKind::Map),
            Field::new("r", FieldKind::Register),
        ]
    );
    assert_eq!(fields[0].1, FieldValue::Counter(2));
    assert_eq!(fields[2].1, FieldValue::Register(b"x".to_vec()));
    // Removing an absent field without context fails.
    let op = DtOp::Map(MapOp {
        removes: vec![Field::new("nope", FieldKind::Set)],
        updates: vec![],
    });
    let err = update(&kv, "maps", Some(&key), op, None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "{precondition,{not_present,{<<\"nope\">>,riak_dt_orswot}}}"
    );
}

#[tokio::test]
async fn hll_and_gset() {
    let kv = open().await;
    let adds = |xs: &[&str]| xs.iter().map(|s| s.as_bytes().to_vec()).collect();
    let op = DtOp::Hll(HllOp {
        adds: adds(&["a", "b", "c", "a"]),
    });
    update(&kv, "hlls", Some("h"), op, None).await.unwrap();
    assert_eq!(
        fetch(&kv, "hlls", "h").await.unwrap().value(),
        DtValue::Hll(3)
    );
    let op = DtOp::GSet(GSetOp {
        adds: adds(&["y", "x"]),
    });
    update(&kv, "gsets", Some("g"), op, None).await.unwrap();
    assert_eq!(
        fetch(&kv, "gsets", "g").await.unwrap().value(),
        DtValue::GSet(vec![b"x".to_vec(), b"y".to_vec()])
    );
}

#[tokio::test]
async fn buckets_and_ops_are_checked() {
    let kv = open().await;
    let err = update(
        &kv,
        "sets",
        Some("k"),
        DtOp::Counter(CounterOp { increment: 1 }),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Operation type is `counter` but  bucket type is `set`."
    );
    let err = update(&kv, "plain", Some("k"), set_op(&["a"], &[]), None)
        .await
        .unwrap_err();
    assert_eq!(err, KvError::NotDatatypeBucket);
    // The default type (allow_mult=false) holds no data types.
    let err = update(
        &kv,
        "default",
        Some("k"),
        DtOp::Counter(CounterOp { increment: 1 }),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "Bucket must be allow_mult=true");
}
