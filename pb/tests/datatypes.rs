//! Data types over raw PB frames: `DtFetchReq`/`DtUpdateReq` (80–83) for
//! every type, contexts, Riak's error texts, and the 1.4 counters (50–53).

mod common;

use common::Server;
use rill_proto::MsgCode;
use rill_proto::messages::*;

async fn server() -> Server {
    let s = Server::start().await;
    for (name, dt) in [
        ("counters", "counter"),
        ("sets", "set"),
        ("maps", "map"),
        ("hlls", "hll"),
        ("gsets", "gset"),
    ] {
        s.create_type(name, serde_json::json!({ "datatype": dt }))
            .await;
    }
    s.create_type("plain", serde_json::json!({})).await;
    s
}

fn update(t: &str, key: Option<&str>, op: DtOp) -> DtUpdateReq {
    DtUpdateReq {
        bucket: b"b".to_vec(),
        key: key.map(|k| k.as_bytes().to_vec()),
        r#type: t.as_bytes().to_vec(),
        op,
        ..DtUpdateReq::default()
    }
}

fn fetch(t: &str, key: &str) -> DtFetchReq {
    DtFetchReq {
        bucket: b"b".to_vec(),
        key: key.as_bytes().to_vec(),
        r#type: t.as_bytes().to_vec(),
        ..DtFetchReq::default()
    }
}

fn set_op(adds: &[&str], removes: &[&str]) -> DtOp {
    DtOp {
        set_op: Some(SetOp {
            adds: adds.iter().map(|s| s.as_bytes().to_vec()).collect(),
            removes: removes.iter().map(|s| s.as_bytes().to_vec()).collect(),
        }),
        ..DtOp::default()
    }
}

fn field(name: &str, t: MapFieldType) -> MapField {
    MapField {
        name: name.as_bytes().to_vec(),
        r#type: t as i32,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_update_and_fetch() {
    let s = server().await;
    let mut c = s.client().await;
    let r: DtFetchResp = c
        .call(
            MsgCode::DtFetchReq,
            &fetch("counters", "k"),
            MsgCode::DtFetchResp,
        )
        .await;
    assert_eq!(r.r#type, DataType::Counter as i32);
    assert_eq!(r.value, None, "not found: no value");
    let inc = |n: Option<i64>| DtOp {
        counter_op: Some(CounterOp { increment: n }),
        ..DtOp::default()
    };
    // An absent amount is 1.
    let r: DtUpdateResp = c
        .call(
            MsgCode::DtUpdateReq,
            &update("counters", Some("k"), inc(None)),
            MsgCode::DtUpdateResp,
        )
        .await;
    assert_eq!(r, DtUpdateResp::default());
    let mut req = update("counters", Some("k"), inc(Some(-5)));
    req.return_body = Some(true);
    let r: DtUpdateResp = c
        .call(MsgCode::DtUpdateReq, &req, MsgCode::DtUpdateResp)
        .await;
    assert_eq!(r.counter_value, Some(-4));
    assert_eq!(r.key, None);
    assert_eq!(r.context, None, "counters have no context");
    let r: DtFetchResp = c
        .call(
            MsgCode::DtFetchReq,
            &fetch("counters", "k"),
            MsgCode::DtFetchResp,
        )
        .await;
    assert_eq!(r.value.unwrap().counter_value, Some(-4));
    assert_eq!(r.context, None);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_remove_with_context_and_precondition() {
    let s = server().await;
    let mut c = s.client().await;
    let r: DtUpdateResp = c
        .call(
            MsgCode::DtUpdateReq,
            &update("sets", None, set_op(&["b", "a"], &[])),
            MsgCode::DtUpdateResp,
        )
        .await;
    let key = String::from_utf8(r.key.expect("generated key")).unwrap();
    let r: DtFetchResp = c
        .call(
            MsgCode::DtFetchReq,
            &fetch("sets", &key),
            MsgCode::DtFetchResp,
        )
        .await;
    assert_eq!(r.r#type, DataType::Set as i32);
    assert_eq!(
        r.value.unwrap().set_value,
        vec![b"a".to_vec(), b"b".to_vec()]
    );
    let ctx = r.context.expect("a set has a context");
    assert_eq!(
        c.call_err(
            MsgCode::DtUpdateReq,
            &update("sets", Some(&key), set_op(&[], &["x"]))
        )
        .await,
        "{precondition,{not_present,<<\"x\">>}}"
    );
    let mut req = update("sets", Some(&key), set_op(&[], &["a"]));
    req.context = Some(ctx);
    req.return_body = Some(true);
    let r: DtUpdateResp = c
        .call(MsgCode::DtUpdateReq, &req, MsgCode::DtUpdateResp)
        .await;
    assert_eq!(r.set_value, vec![b"b".to_vec()]);
    assert!(r.context.is_some());
    // include_context=false leaves it out.
    let mut f = fetch("sets", &key);
    f.include_context = Some(false);
    let r: DtFetchResp = c.call(MsgCode::DtFetchReq, &f, MsgCode::DtFetchResp).await;
    assert_eq!(r.context, None);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maps_nest_every_field_type() {
    let s = server().await;
    let mut c = s.client().await;
    let inner = MapOp {
        removes: vec![],
        updates: vec![MapUpdate {
            field: field("r", MapFieldType::Register),
            register_op: Some(b"deep".to_vec()),
            ..MapUpdate::default()
        }],
    };
    let op = DtOp {
        map_op: Some(MapOp {
            removes: vec![],
            updates: vec![
                MapUpdate {
                    field: field("c", MapFieldType::Counter),
                    counter_op: Some(CounterOp { increment: Some(3) }),
                    ..MapUpdate::default()
                },
                MapUpdate {
                    field: field("s", MapFieldType::Set),
                    set_op: Some(SetOp {
                        adds: vec![b"x".to_vec()],
                        removes: vec![],
                    }),
                    ..MapUpdate::default()
                },
                MapUpdate {
                    field: field("f", MapFieldType::Flag),
                    flag_op: Some(FlagOp::Enable as i32),
                    ..MapUpdate::default()
                },
                MapUpdate {
                    field: field("m", MapFieldType::Map),
                    map_op: Some(inner),
                    ..MapUpdate::default()
                },
            ],
        }),
        ..DtOp::default()
    };
    c.call::<_, DtUpdateResp>(
        MsgCode::DtUpdateReq,
        &update("maps", Some("k"), op),
        MsgCode::DtUpdateResp,
    )
    .await;
    let r: DtFetchResp = c
        .call(
            MsgCode::DtFetchReq,
            &fetch("maps", "k"),
            MsgCode::DtFetchResp,
        )
        .await;
    assert_eq!(r.r#type, DataType::Map as i32);
    assert!(r.context.is_some());
    let entries = r.value.unwrap().map_value;
    let expected = vec![
        MapEntry {
            field: field("c", MapFieldType::Counter),
            counter_value: Some(3),
            ..MapEntry::default()
        },
        MapEntry {
            field: field("f", MapFieldType::Flag),
            flag_value: Some(true),
            ..MapEntry::default()
        },
        MapEntry {
            field: field("m", MapFieldType::Map),
            map_value: vec![MapEntry {
                field: field("r", MapFieldType::Register),
                register_value: Some(b"deep".to_vec()),
                ..MapEntry::default()
            }],
            ..MapEntry::default()
        },
        MapEntry {
            field: field("s", MapFieldType::Set),
            set_value: vec![b"x".to_vec()],
            ..MapEntry::default()
        },
    ];
    assert_eq!(entries, expected);
    let op = DtOp {
        map_op: Some(MapOp {
            removes: vec![field("zz", MapFieldType::Counter)],
            updates: vec![],
        }),
        ..DtOp::default()
    };
    assert_eq!(
        c.call_err(MsgCode::DtUpdateReq, &update("maps", Some("k"), op))
            .await,
        "{precondition,{not_present,{<<\"zz\">>,riak_dt_emcntr}}}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hll_and_gset() {
    let s = server().await;
    let mut c = s.client().await;
    let adds = || vec![b"a".to_vec(), b"b".to_vec(), b"a".to_vec()];
    let mut req = update(
        "hlls",
        Some("k"),
        DtOp {
            hll_op: Some(HllOp { adds: adds() }),
            ..DtOp::default()
        },
    );
    req.return_body = Some(true);
    let r: DtUpdateResp = c
        .call(MsgCode::DtUpdateReq, &req, MsgCode::DtUpdateResp)
        .await;
    assert_eq!(r.hll_value, Some(2));
    let r: DtFetchResp = c
        .call(
            MsgCode::DtFetchReq,
            &fetch("hlls", "k"),
            MsgCode::DtFetchResp,
        )
        .await;
    assert_eq!(r.r#type, DataType::Hll as i32);
    assert_eq!(r.value.unwrap().hll_value, Some(2));
    let req = update(
        "gsets",
        Some("k"),
        DtOp {
            gset_op: Some(GSetOp { adds: adds() }),
            ..DtOp::default()
        },
    );
    c.call::<_, DtUpdateResp>(MsgCode::DtUpdateReq, &req, MsgCode::DtUpdateResp)
        .await;
    let r: DtFetchResp = c
        .call(
            MsgCode::DtFetchReq,
            &fetch("gsets", "k"),
            MsgCode::DtFetchResp,
        )
        .await;
    assert_eq!(r.r#type, DataType::Gset as i32);
    assert_eq!(
        r.value.unwrap().gset_value,
        vec![b"a".to_vec(), b"b".to_vec()]
    );
    assert_eq!(r.context, None);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn riaks_error_texts() {
    let s = server().await;
    let mut c = s.client().await;
    assert_eq!(
        c.call_err(
            MsgCode::DtUpdateReq,
            &update(
                "sets",
                Some("k"),
                DtOp {
                    counter_op: Some(CounterOp { increment: None }),
                    ..DtOp::default()
                }
            )
        )
        .await,
        "Operation type is `counter` but  bucket type is `set`."
    );
    assert_eq!(
        c.call_err(
            MsgCode::DtUpdateReq,
            &update("plain", Some("k"), set_op(&["a"], &[]))
        )
        .await,
        "Bucket datatype `undefined` is not a supported type"
    );
    assert_eq!(
        c.call_err(MsgCode::DtFetchReq, &fetch("plain", "k")).await,
        "`undefined` is not a supported type"
    );
    assert_eq!(
        c.call_err(MsgCode::DtFetchReq, &fetch("nope", "k")).await,
        "Error no bucket type `<<\"nope\">>`"
    );
    // The default type holds 1.4 counters only, in allow_mult buckets.
    assert_eq!(
        c.call_err(MsgCode::DtFetchReq, &fetch("default", "k"))
            .await,
        "Bucket must be allow_mult=true"
    );
    c.ping().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_counters() {
    let s = server().await;
    let mut c = s.client().await;
    let up = |amount, returnvalue| RpbCounterUpdateReq {
        bucket: b"lc".to_vec(),
        key: b"k".to_vec(),
        amount,
        returnvalue,
        ..RpbCounterUpdateReq::default()
    };
    assert_eq!(
        c.call_err(MsgCode::CounterUpdateReq, &up(1, None)).await,
        "Counters require bucket property 'allow_mult=true'"
    );
    s.kv.set_bucket_props(
        b"default",
        b"lc",
        rill_kv::PropsUpdate::Json(serde_json::json!({"allow_mult": true})),
    )
    .await
    .unwrap();
    let get = RpbCounterGetReq {
        bucket: b"lc".to_vec(),
        key: b"k".to_vec(),
        ..RpbCounterGetReq::default()
    };
    let r: RpbCounterGetResp = c
        .call(MsgCode::CounterGetReq, &get, MsgCode::CounterGetResp)
        .await;
    assert_eq!(r.value, None);
    let r: RpbCounterUpdateResp = c
        .call(
            MsgCode::CounterUpdateReq,
            &up(5, None),
            MsgCode::CounterUpdateResp,
        )
        .await;
    assert_eq!(r.value, None);
    let r: RpbCounterUpdateResp = c
        .call(
            MsgCode::CounterUpdateReq,
            &up(-2, Some(true)),
            MsgCode::CounterUpdateResp,
        )
        .await;
    assert_eq!(r.value, Some(3));
    let r: RpbCounterGetResp = c
        .call(MsgCode::CounterGetReq, &get, MsgCode::CounterGetResp)
        .await;
    assert_eq!(r.value, Some(3));
    s.stop().await;
}
