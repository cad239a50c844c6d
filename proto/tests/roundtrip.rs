//! Round trips: every request and response variant survives
//! encode → wire bytes → codec → decode unchanged; the main KV and data-type
//! requests also under proptest with arbitrary field values.

use std::collections::BTreeSet;

use bytes::BytesMut;
use proptest::prelude::*;
use rill_proto::messages::*;
use rill_proto::{FrameCodec, MsgCode, Request, Response, quorum};
use tokio_util::codec::Decoder;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn content() -> RpbContent {
    RpbContent {
        value: b("{\"a\":1}"),
        content_type: Some(b("application/json")),
        charset: Some(b("utf-8")),
        content_encoding: Some(b("identity")),
        vtag: Some(b("tag")),
        links: vec![RpbLink {
            bucket: Some(b("b2")),
            key: Some(b("k2")),
            tag: Some(b("next")),
        }],
        last_mod: Some(1_700_000_000),
        last_mod_usecs: Some(123_456),
        usermeta: vec![RpbPair::new("owner", "me")],
        indexes: vec![RpbPair::new("age_int", "42"), RpbPair::new("name_bin", "x")],
        deleted: Some(false),
    }
}

fn props() -> RpbBucketProps {
    let hook = RpbCommitHook {
        modfun: Some(RpbModFun {
            module: b("m"),
            function: b("f"),
        }),
        name: None,
    };
    RpbBucketProps {
        n_val: Some(3),
        allow_mult: Some(true),
        last_write_wins: Some(false),
        precommit: vec![hook.clone()],
        has_precommit: Some(true),
        postcommit: vec![RpbCommitHook {
            modfun: None,
            name: Some(b("js_hook")),
        }],
        has_postcommit: Some(true),
        chash_keyfun: Some(RpbModFun {
            module: b("riak_core_util"),
            function: b("chash_std_keyfun"),
        }),
        linkfun: hook.modfun,
        old_vclock: Some(86400),
        young_vclock: Some(20),
        big_vclock: Some(50),
        small_vclock: Some(50),
        pr: Some(0),
        r: Some(quorum::QUORUM),
        w: Some(quorum::ALL),
        pw: Some(quorum::ONE),
        dw: Some(quorum::DEFAULT),
        rw: Some(2),
        basic_quorum: Some(false),
        notfound_ok: Some(true),
        backend: Some(b("fjall")),
        search: Some(false),
        repl: Some(RpbReplMode::Fullsync as i32),
        search_index: Some(b("idx")),
        datatype: Some(b("map")),
        consistent: Some(false),
        write_once: Some(false),
        hll_precision: Some(14),
    }
}

fn map_op() -> MapOp {
    let field = |name: &str, t: MapFieldType| MapField {
        name: b(name),
        r#type: t as i32,
    };
    MapOp {
        removes: vec![field("gone", MapFieldType::Counter)],
        updates: vec![
            MapUpdate {
                field: field("c", MapFieldType::Counter),
                counter_op: Some(CounterOp {
                    increment: Some(-7),
                }),
                ..Default::default()
            },
            MapUpdate {
                field: field("s", MapFieldType::Set),
                set_op: Some(SetOp {
                    adds: vec![b("a")],
                    removes: vec![b("z")],
                }),
                ..Default::default()
            },
            MapUpdate {
                field: field("r", MapFieldType::Register),
                register_op: Some(b("v")),
                ..Default::default()
            },
            MapUpdate {
                field: field("f", MapFieldType::Flag),
                flag_op: Some(FlagOp::Disable as i32),
                ..Default::default()
            },
            MapUpdate {
                field: field("m", MapFieldType::Map),
                map_op: Some(MapOp {
                    removes: vec![],
                    updates: vec![MapUpdate {
                        field: field("inner", MapFieldType::Register),
                        register_op: Some(b("deep")),
                        ..Default::default()
                    }],
                }),
                ..Default::default()
            },
        ],
    }
}

/// One fully populated sample of every request variant.
fn sample_requests() -> Vec<Request> {
    vec![
        Request::Ping,
        Request::GetClientId,
        Request::GetServerInfo,
        Request::StartTls,
        Request::SetClientId(RpbSetClientIdReq {
            client_id: vec![0, 1, 2, 3],
        }),
        Request::Get(RpbGetReq {
            bucket: b("b"),
            key: b("k"),
            r: Some(quorum::ONE),
            pr: Some(1),
            basic_quorum: Some(true),
            notfound_ok: Some(false),
            if_modified: Some(vec![0x83, 0x6c]),
            head: Some(true),
            deletedvclock: Some(true),
            timeout: Some(5000),
            sloppy_quorum: Some(true),
            n_val: Some(3),
            r#type: Some(b("t")),
            node_confirms: Some(2),
        }),
        Request::Put(RpbPutReq {
            bucket: b("b"),
            key: Some(b("k")),
            vclock: Some(vec![1, 2, 3]),
            content: content(),
            w: Some(quorum::QUORUM),
            dw: Some(1),
            return_body: Some(true),
            pw: Some(0),
            if_not_modified: Some(true),
            if_none_match: Some(false),
            return_head: Some(true),
            timeout: Some(100),
            asis: Some(false),
            sloppy_quorum: Some(true),
            n_val: Some(5),
            r#type: Some(b("t")),
            node_confirms: Some(1),
        }),
        Request::Del(RpbDelReq {
            bucket: b("b"),
            key: b("k"),
            rw: Some(2),
            vclock: Some(vec![9]),
            r: Some(1),
            w: Some(2),
            pr: Some(3),
            pw: Some(4),
            dw: Some(5),
            timeout: Some(6),
            sloppy_quorum: Some(false),
            n_val: Some(7),
            r#type: Some(b("t")),
        }),
        Request::ListBuckets(RpbListBucketsReq {
            timeout: Some(60_000),
            stream: Some(true),
            r#type: Some(b("t")),
        }),
        Request::ListKeys(RpbListKeysReq {
            bucket: b("b"),
            timeout: Some(1),
            r#type: Some(b("t")),
        }),
        Request::GetBucket(RpbGetBucketReq {
            bucket: b("b"),
            r#type: Some(b("t")),
        }),
        Request::SetBucket(RpbSetBucketReq {
            bucket: b("b"),
            props: props(),
            r#type: Some(b("t")),
        }),
        Request::MapRed(RpbMapRedReq {
            request: b("{\"inputs\":\"b\",\"query\":[]}"),
            content_type: b("application/json"),
        }),
        Request::Index(RpbIndexReq {
            bucket: b("b"),
            index: b("age_int"),
            qtype: IndexQueryType::Range as i32,
            key: None,
            range_min: Some(b("1")),
            range_max: Some(b("99")),
            return_terms: Some(true),
            stream: Some(true),
            max_results: Some(10),
            continuation: Some(b("cont")),
            timeout: Some(1000),
            r#type: Some(b("t")),
            term_regex: Some(b("^a")),
            pagination_sort: Some(true),
            cover_context: Some(vec![7, 7]),
            return_body: Some(false),
        }),
        Request::SearchQuery(RpbSearchQueryReq {
            q: b("name:x"),
            index: b("idx"),
            rows: Some(10),
            start: Some(0),
            sort: Some(b("score")),
            filter: Some(b("f")),
            df: Some(b("text")),
            op: Some(b("and")),
            fl: vec![b("_yz_rk"), b("score")],
            presort: Some(b("key")),
        }),
        Request::ResetBucket(RpbResetBucketReq {
            bucket: b("b"),
            r#type: Some(b("t")),
        }),
        Request::GetBucketType(RpbGetBucketTypeReq { r#type: b("maps") }),
        Request::SetBucketType(RpbSetBucketTypeReq {
            r#type: b("maps"),
            props: props(),
        }),
        Request::GetBucketKeyPreflist(RpbGetBucketKeyPreflistReq {
            bucket: b("b"),
            key: b("k"),
            r#type: Some(b("t")),
        }),
        Request::CsBucket(RpbCSBucketReq {
            bucket: b("b"),
            start_key: b("a"),
            end_key: Some(b("z")),
            start_incl: Some(false),
            end_incl: Some(true),
            continuation: Some(b("c")),
            max_results: Some(100),
            timeout: Some(10),
            r#type: Some(b("t")),
            cover_context: Some(b("cc")),
        }),
        Request::CounterUpdate(RpbCounterUpdateReq {
            bucket: b("b"),
            key: b("k"),
            amount: i64::MIN,
            w: Some(1),
            dw: Some(2),
            pw: Some(3),
            returnvalue: Some(true),
            node_confirms: Some(1),
        }),
        Request::CounterGet(RpbCounterGetReq {
            bucket: b("b"),
            key: b("k"),
            r: Some(1),
            pr: Some(2),
            basic_quorum: Some(true),
            notfound_ok: Some(true),
            node_confirms: Some(0),
        }),
        Request::YokozunaIndexGet(RpbYokozunaIndexGetReq {
            name: Some(b("idx")),
        }),
        Request::YokozunaIndexPut(RpbYokozunaIndexPutReq {
            index: RpbYokozunaIndex {
                name: b("idx"),
                schema: Some(b("_yz_default")),
                n_val: Some(3),
            },
            timeout: Some(45_000),
        }),
        Request::YokozunaIndexDelete(RpbYokozunaIndexDeleteReq { name: b("idx") }),
        Request::YokozunaSchemaGet(RpbYokozunaSchemaGetReq { name: b("s") }),
        Request::YokozunaSchemaPut(RpbYokozunaSchemaPutReq {
            schema: RpbYokozunaSchema {
                name: b("s"),
                content: Some(b("<schema/>")),
            },
        }),
        Request::Coverage(RpbCoverageReq {
            r#type: Some(b("t")),
            bucket: b("b"),
            min_partitions: Some(64),
            replace_cover: Some(b("old")),
            unavailable_cover: vec![b("x"), b("y")],
        }),
        Request::DtFetch(DtFetchReq {
            bucket: b("b"),
            key: b("k"),
            r#type: b("maps"),
            r: Some(1),
            pr: Some(2),
            basic_quorum: Some(false),
            notfound_ok: Some(true),
            timeout: Some(3),
            sloppy_quorum: Some(true),
            n_val: Some(3),
            include_context: Some(false),
            node_confirms: Some(1),
        }),
        Request::DtUpdate(DtUpdateReq {
            bucket: b("b"),
            key: Some(b("k")),
            r#type: b("maps"),
            context: Some(vec![0xaa; 12]),
            op: DtOp {
                counter_op: None,
                set_op: None,
                map_op: Some(map_op()),
                hll_op: None,
                gset_op: None,
            },
            w: Some(2),
            dw: Some(1),
            pw: Some(0),
            return_body: Some(true),
            timeout: Some(500),
            sloppy_quorum: Some(false),
            n_val: Some(3),
            include_context: Some(false),
            node_confirms: Some(1),
        }),
        Request::Auth(RpbAuthReq {
            user: b("riakuser"),
            password: b("secret"),
        }),
    ]
}

fn sample_responses() -> Vec<Response> {
    let object = RpbGetResp {
        content: vec![content(), content()],
        vclock: Some(vec![1, 2]),
        unchanged: None,
    };
    let dt_value = DtValue {
        counter_value: None,
        set_value: vec![],
        map_value: vec![MapEntry {
            field: MapField {
                name: b("m"),
                r#type: MapFieldType::Map as i32,
            },
            map_value: vec![MapEntry {
                field: MapField {
                    name: b("f"),
                    r#type: MapFieldType::Flag as i32,
                },
                flag_value: Some(true),
                ..Default::default()
            }],
            ..Default::default()
        }],
        hll_value: Some(42),
        gset_value: vec![b("g")],
    };
    vec![
        Response::Ping,
        Response::SetClientId,
        Response::Del,
        Response::SetBucket,
        Response::ResetBucket,
        Response::Auth,
        Response::StartTls,
        Response::error("{n_val_violation,3}"),
        Response::GetClientId(RpbGetClientIdResp {
            client_id: vec![1, 2, 3, 4],
        }),
        Response::GetServerInfo(RpbGetServerInfoResp {
            node: Some(b("rill@127.0.0.1")),
            server_version: Some(b("3.0.16")),
        }),
        Response::Get(object.clone()),
        Response::Put(RpbPutResp {
            content: vec![content()],
            vclock: Some(vec![3]),
            key: Some(b("generated")),
        }),
        Response::ListBuckets(RpbListBucketsResp {
            buckets: vec![b("a"), b("b")],
            done: Some(true),
        }),
        Response::ListKeys(RpbListKeysResp {
            keys: vec![b("k1"), vec![]],
            done: None,
        }),
        Response::GetBucket(RpbGetBucketResp { props: props() }),
        Response::MapRed(RpbMapRedResp {
            phase: Some(1),
            response: Some(b("[1,2]")),
            done: Some(false),
        }),
        Response::Index(RpbIndexResp {
            keys: vec![b("k")],
            results: vec![RpbPair::new("42", "k")],
            continuation: Some(b("c")),
            done: Some(true),
        }),
        Response::SearchQuery(RpbSearchQueryResp {
            docs: vec![RpbSearchDoc {
                fields: vec![RpbPair::new("_yz_rk", "k")],
            }],
            max_score: Some(0.5),
            num_found: Some(1),
        }),
        Response::GetBucketKeyPreflist(RpbGetBucketKeyPreflistResp {
            preflist: vec![RpbBucketKeyPreflistItem {
                partition: 63,
                node: b("rill@a"),
                primary: true,
            }],
        }),
        Response::CsBucket(RpbCSBucketResp {
            objects: vec![RpbIndexObject {
                key: b("k"),
                object: object.clone(),
            }],
            continuation: None,
            done: Some(true),
        }),
        Response::IndexBody(RpbIndexBodyResp {
            objects: vec![RpbIndexObject {
                key: b("k"),
                object,
            }],
            continuation: Some(b("c")),
            done: None,
        }),
        Response::CounterUpdate(RpbCounterUpdateResp { value: Some(-5) }),
        Response::CounterGet(RpbCounterGetResp { value: None }),
        Response::YokozunaIndexGet(RpbYokozunaIndexGetResp {
            index: vec![RpbYokozunaIndex {
                name: b("idx"),
                schema: None,
                n_val: Some(3),
            }],
        }),
        Response::YokozunaSchemaGet(RpbYokozunaSchemaGetResp {
            schema: RpbYokozunaSchema {
                name: b("s"),
                content: None,
            },
        }),
        Response::Coverage(RpbCoverageResp {
            entries: vec![RpbCoverageEntry {
                ip: b("127.0.0.1"),
                port: 8087,
                keyspace_desc: Some(b("partitions 0-7")),
                cover_context: vec![0x83, 0x68],
            }],
        }),
        Response::DtFetch(DtFetchResp {
            context: Some(vec![1]),
            r#type: DataType::Map as i32,
            value: Some(dt_value),
        }),
        Response::DtUpdate(DtUpdateResp {
            key: Some(b("k")),
            context: Some(vec![2]),
            counter_value: Some(7),
            set_value: vec![b("s")],
            map_value: vec![],
            hll_value: Some(1),
            gset_value: vec![b("g")],
        }),
    ]
}

/// Through bytes and the codec, as a peer would see it.
fn over_the_wire(frame: &rill_proto::Frame) -> rill_proto::Frame {
    let mut buf = BytesMut::from(&frame.to_bytes()[..]);
    let out = FrameCodec::default().decode(&mut buf).unwrap().unwrap();
    assert!(buf.is_empty());
    out
}

#[test]
fn every_request_variant_round_trips() {
    let samples = sample_requests();
    let mut seen = BTreeSet::new();
    for req in &samples {
        let frame = over_the_wire(&req.encode());
        assert_eq!(frame.code, req.code());
        assert_eq!(&Request::decode(&frame).unwrap(), req);
        assert!(
            seen.insert(req.code()),
            "duplicate sample for {}",
            req.code()
        );
    }
    let all: BTreeSet<u8> = Request::CODES.iter().map(|c| c.as_u8()).collect();
    assert_eq!(seen, all, "a sample for every request code");
}

#[test]
fn every_response_variant_round_trips() {
    let mut seen = BTreeSet::new();
    for resp in &sample_responses() {
        let frame = over_the_wire(&resp.encode());
        assert_eq!(&Response::decode(&frame).unwrap(), resp);
        assert!(seen.insert(resp.code()));
    }
    let all: BTreeSet<u8> = Response::CODES.iter().map(|c| c.as_u8()).collect();
    assert_eq!(seen, all, "a sample for every response code");
}

#[test]
fn request_codes_pair_with_response_codes() {
    for code in Request::CODES {
        let reply = code
            .response_code()
            .unwrap_or_else(|| panic!("{code} has no reply code"));
        assert!(
            Response::CODES.contains(&reply),
            "{code} answers {reply}, which Response cannot carry"
        );
    }
}

#[test]
fn search_requests_are_flagged() {
    let search: Vec<u8> = sample_requests()
        .iter()
        .filter(|r| r.is_search())
        .map(Request::code)
        .collect();
    assert_eq!(search, vec![27, 54, 56, 57, 58, 60]);
}

#[test]
fn proto2_defaults_apply_when_absent() {
    let fetch = DtFetchReq::default();
    assert_eq!(fetch.include_context, None);
    assert!(fetch.include_context());
    let update = DtUpdateReq::default();
    assert!(!update.return_body());
    assert!(update.include_context());
    let cs = RpbCSBucketReq::default();
    assert!(cs.start_incl());
    assert!(!cs.end_incl());
    let props = RpbBucketProps::default();
    assert!(!props.has_precommit());
    assert!(!props.has_postcommit());
    assert_eq!(props.repl(), RpbReplMode::False);
    // Optional bytes accessors give an empty slice when absent.
    assert_eq!(RpbGetReq::default().r#type(), b"");
}

#[test]
fn unknown_enum_values_survive_a_round_trip() {
    // proto2 readers keep values they do not know; accessors fall back.
    let req = RpbIndexReq {
        bucket: b("b"),
        index: b("i"),
        qtype: 7,
        ..Default::default()
    };
    let decoded = match Request::decode(&Request::Index(req.clone()).encode()).unwrap() {
        Request::Index(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(decoded.qtype, 7);
    assert_eq!(decoded.qtype(), IndexQueryType::Eq);
}

fn bytes_s(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn opt_bytes() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(bytes_s(12))
}

fn opt_u32() -> impl Strategy<Value = Option<u32>> {
    prop::option::of(prop_oneof![
        any::<u32>(),
        Just(quorum::ONE),
        Just(quorum::QUORUM),
        Just(quorum::ALL),
        Just(quorum::DEFAULT),
    ])
}

fn opt_bool() -> impl Strategy<Value = Option<bool>> {
    prop::option::of(any::<bool>())
}

fn pair() -> impl Strategy<Value = RpbPair> {
    (bytes_s(8), opt_bytes()).prop_map(|(key, value)| RpbPair { key, value })
}

fn content_s() -> impl Strategy<Value = RpbContent> {
    (
        (
            bytes_s(64),
            opt_bytes(),
            opt_bytes(),
            opt_bytes(),
            opt_bytes(),
        ),
        prop::collection::vec(
            (opt_bytes(), opt_bytes(), opt_bytes()).prop_map(|(bucket, key, tag)| RpbLink {
                bucket,
                key,
                tag,
            }),
            0..3,
        ),
        (opt_u32(), opt_u32(), opt_bool()),
        prop::collection::vec(pair(), 0..3),
        prop::collection::vec(pair(), 0..3),
    )
        .prop_map(
            |(
                (value, content_type, charset, content_encoding, vtag),
                links,
                (last_mod, last_mod_usecs, deleted),
                usermeta,
                indexes,
            )| RpbContent {
                value,
                content_type,
                charset,
                content_encoding,
                vtag,
                links,
                last_mod,
                last_mod_usecs,
                usermeta,
                indexes,
                deleted,
            },
        )
}

fn get_s() -> impl Strategy<Value = RpbGetReq> {
    (
        (bytes_s(16), bytes_s(16), opt_u32(), opt_u32(), opt_bool()),
        (opt_bool(), opt_bytes(), opt_bool(), opt_bool(), opt_u32()),
        (opt_bool(), opt_u32(), opt_bytes(), opt_u32()),
    )
        .prop_map(
            |(
                (bucket, key, r, pr, basic_quorum),
                (notfound_ok, if_modified, head, deletedvclock, timeout),
                (sloppy_quorum, n_val, r#type, node_confirms),
            )| RpbGetReq {
                bucket,
                key,
                r,
                pr,
                basic_quorum,
                notfound_ok,
                if_modified,
                head,
                deletedvclock,
                timeout,
                sloppy_quorum,
                n_val,
                r#type,
                node_confirms,
            },
        )
}

fn put_s() -> impl Strategy<Value = RpbPutReq> {
    (
        (bytes_s(16), opt_bytes(), opt_bytes(), content_s()),
        (
            opt_u32(),
            opt_u32(),
            opt_bool(),
            opt_u32(),
            opt_bool(),
            opt_bool(),
        ),
        (
            opt_bool(),
            opt_u32(),
            opt_bool(),
            opt_bool(),
            opt_u32(),
            opt_bytes(),
            opt_u32(),
        ),
    )
        .prop_map(
            |(
                (bucket, key, vclock, content),
                (w, dw, return_body, pw, if_not_modified, if_none_match),
                (return_head, timeout, asis, sloppy_quorum, n_val, r#type, node_confirms),
            )| RpbPutReq {
                bucket,
                key,
                vclock,
                content,
                w,
                dw,
                return_body,
                pw,
                if_not_modified,
                if_none_match,
                return_head,
                timeout,
                asis,
                sloppy_quorum,
                n_val,
                r#type,
                node_confirms,
            },
        )
}

fn del_s() -> impl Strategy<Value = RpbDelReq> {
    (
        (
            bytes_s(16),
            bytes_s(16),
            opt_u32(),
            opt_bytes(),
            opt_u32(),
            opt_u32(),
        ),
        (
            opt_u32(),
            opt_u32(),
            opt_u32(),
            opt_u32(),
            opt_bool(),
            opt_u32(),
            opt_bytes(),
        ),
    )
        .prop_map(
            |(
                (bucket, key, rw, vclock, r, w),
                (pr, pw, dw, timeout, sloppy_quorum, n_val, r#type),
            )| RpbDelReq {
                bucket,
                key,
                rw,
                vclock,
                r,
                w,
                pr,
                pw,
                dw,
                timeout,
                sloppy_quorum,
                n_val,
                r#type,
            },
        )
}

fn index_s() -> impl Strategy<Value = RpbIndexReq> {
    (
        (
            bytes_s(8),
            bytes_s(8),
            0i32..2,
            opt_bytes(),
            opt_bytes(),
            opt_bytes(),
        ),
        (opt_bool(), opt_bool(), opt_u32(), opt_bytes(), opt_u32()),
        (
            opt_bytes(),
            opt_bytes(),
            opt_bool(),
            opt_bytes(),
            opt_bool(),
        ),
    )
        .prop_map(
            |(
                (bucket, index, qtype, key, range_min, range_max),
                (return_terms, stream, max_results, continuation, timeout),
                (r#type, term_regex, pagination_sort, cover_context, return_body),
            )| RpbIndexReq {
                bucket,
                index,
                qtype,
                key,
                range_min,
                range_max,
                return_terms,
                stream,
                max_results,
                continuation,
                timeout,
                r#type,
                term_regex,
                pagination_sort,
                cover_context,
                return_body,
            },
        )
}

fn map_field_s() -> impl Strategy<Value = MapField> {
    (bytes_s(6), 1i32..6).prop_map(|(name, r#type)| MapField { name, r#type })
}

fn map_op_s() -> impl Strategy<Value = MapOp> {
    let leaf = (
        map_field_s(),
        prop::option::of(any::<i64>()),
        opt_bytes(),
        prop::option::of(1i32..3),
    )
        .prop_map(|(field, inc, register_op, flag_op)| MapUpdate {
            field,
            counter_op: inc.map(|i| CounterOp { increment: Some(i) }),
            set_op: None,
            register_op,
            flag_op,
            map_op: None,
        });
    let flat = (
        prop::collection::vec(map_field_s(), 0..3),
        prop::collection::vec(leaf, 0..3),
    )
        .prop_map(|(removes, updates)| MapOp { removes, updates })
        .boxed();
    (flat.clone(), map_field_s(), prop::option::of(flat)).prop_map(|(mut op, field, nested)| {
        if let Some(inner) = nested {
            op.updates.push(MapUpdate {
                field,
                map_op: Some(inner),
                ..Default::default()
            });
        }
        op
    })
}

fn dt_op_s() -> impl Strategy<Value = DtOp> {
    let members = || prop::collection::vec(bytes_s(8), 0..4);
    prop_oneof![
        prop::option::of(any::<i64>()).prop_map(|increment| DtOp {
            counter_op: Some(CounterOp { increment }),
            ..Default::default()
        }),
        (members(), members()).prop_map(|(adds, removes)| DtOp {
            set_op: Some(SetOp { adds, removes }),
            ..Default::default()
        }),
        map_op_s().prop_map(|m| DtOp {
            map_op: Some(m),
            ..Default::default()
        }),
        members().prop_map(|adds| DtOp {
            hll_op: Some(HllOp { adds }),
            ..Default::default()
        }),
        members().prop_map(|adds| DtOp {
            gset_op: Some(GSetOp { adds }),
            ..Default::default()
        }),
    ]
}

fn dt_update_s() -> impl Strategy<Value = DtUpdateReq> {
    (
        (bytes_s(8), opt_bytes(), bytes_s(8), opt_bytes(), dt_op_s()),
        (opt_u32(), opt_u32(), opt_u32(), opt_bool(), opt_u32()),
        (opt_bool(), opt_u32(), opt_bool(), opt_u32()),
    )
        .prop_map(
            |(
                (bucket, key, r#type, context, op),
                (w, dw, pw, return_body, timeout),
                (sloppy_quorum, n_val, include_context, node_confirms),
            )| DtUpdateReq {
                bucket,
                key,
                r#type,
                context,
                op,
                w,
                dw,
                pw,
                return_body,
                timeout,
                sloppy_quorum,
                n_val,
                include_context,
                node_confirms,
            },
        )
}

fn dt_fetch_s() -> impl Strategy<Value = DtFetchReq> {
    (
        (
            bytes_s(8),
            bytes_s(8),
            bytes_s(8),
            opt_u32(),
            opt_u32(),
            opt_bool(),
        ),
        (
            opt_bool(),
            opt_u32(),
            opt_bool(),
            opt_u32(),
            opt_bool(),
            opt_u32(),
        ),
    )
        .prop_map(
            |(
                (bucket, key, r#type, r, pr, basic_quorum),
                (notfound_ok, timeout, sloppy_quorum, n_val, include_context, node_confirms),
            )| DtFetchReq {
                bucket,
                key,
                r#type,
                r,
                pr,
                basic_quorum,
                notfound_ok,
                timeout,
                sloppy_quorum,
                n_val,
                include_context,
                node_confirms,
            },
        )
}

fn counter_update_s() -> impl Strategy<Value = RpbCounterUpdateReq> {
    (
        bytes_s(8),
        bytes_s(8),
        any::<i64>(),
        (opt_u32(), opt_u32(), opt_u32(), opt_bool(), opt_u32()),
    )
        .prop_map(
            |(bucket, key, amount, (w, dw, pw, returnvalue, node_confirms))| RpbCounterUpdateReq {
                bucket,
                key,
                amount,
                w,
                dw,
                pw,
                returnvalue,
                node_confirms,
            },
        )
}

fn request_s() -> BoxedStrategy<Request> {
    prop_oneof![
        get_s().prop_map(Request::Get).boxed(),
        put_s().prop_map(Request::Put).boxed(),
        del_s().prop_map(Request::Del).boxed(),
        index_s().prop_map(Request::Index).boxed(),
        dt_fetch_s().prop_map(Request::DtFetch).boxed(),
        dt_update_s().prop_map(Request::DtUpdate).boxed(),
        counter_update_s().prop_map(Request::CounterUpdate).boxed(),
        (bytes_s(16), opt_u32(), opt_bool(), opt_u32())
            .prop_map(|(bucket, n, lww, r)| {
                Request::SetBucket(RpbSetBucketReq {
                    bucket,
                    props: RpbBucketProps {
                        n_val: n,
                        last_write_wins: lww,
                        r,
                        ..Default::default()
                    },
                    r#type: None,
                })
            })
            .boxed(),
    ]
    .boxed()
}

proptest! {
    #[test]
    fn arbitrary_requests_round_trip(req in request_s()) {
        let frame = over_the_wire(&req.encode());
        prop_assert_eq!(Request::decode(&frame).unwrap(), req);
    }

    /// Encoding is canonical: decoding and re-encoding gives the same bytes.
    #[test]
    fn encoding_is_stable(req in request_s()) {
        let frame = req.encode();
        let again = Request::decode(&frame).unwrap().encode();
        prop_assert_eq!(frame, again);
    }

    #[test]
    fn quorum_values_round_trip(v in any::<u32>()) {
        prop_assert_eq!(quorum::Quorum::from_wire(v).to_wire(), v);
    }
}

#[test]
fn request_code_table_matches_msg_codes() {
    // Every request code is a known message whose name ends in Req (or is
    // StartTls, which both sides send).
    for code in Request::CODES {
        assert!(
            code.name().ends_with("Req") || *code == MsgCode::StartTls,
            "{code}"
        );
    }
    for code in Response::CODES {
        assert!(
            !code.name().ends_with("Req"),
            "{code} is a request code in Response"
        );
    }
}
