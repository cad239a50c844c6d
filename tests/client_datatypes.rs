//! The Rust SDK's data type calls against a real `rill` process, over PB
//! (`ClusterClient`) and HTTP (`HttpClient`): counters, sets with removes
//! by context, nested maps, HyperLogLogs, grow-only sets, generated keys,
//! and the errors a wrong operation or a blind remove gets.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use rill_client::datatype::{FieldKind, FieldUpdate, FieldValue, MapEntry, MapField, MapUpdate};
use rill_client::{
    ClientError, ClusterClient, DataType, DtFetchOptions, DtUpdate, DtUpdateOptions, DtValue,
    HttpClient,
};
use rill_testkit::http::Client;
use rill_testkit::process::RillProcess;

const BIN: &str = env!("CARGO_BIN_EXE_rill");

const TYPES: &[(&str, &str)] = &[
    ("counters", "counter"),
    ("sets", "set"),
    ("maps", "map"),
    ("hlls", "hll"),
    ("gsets", "gset"),
];

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// A node with one active bucket type per data type.
fn node_with_types(dir: &Path) -> RillProcess {
    let node = RillProcess::start(Path::new(BIN), dir, &[]);
    let mut c = Client::new(node.http);
    for (name, datatype) in TYPES {
        let props = format!(r#"{{"props":{{"datatype":"{datatype}"}}}}"#);
        let path = format!("/admin/bucket-types/{name}");
        let r = c
            .request(
                "PUT",
                &path,
                &[("Content-Type", "application/json")],
                props.as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 201, "create {name}: {}", r.text());
        let r = c
            .request("POST", &format!("{path}/activate"), &[], b"")
            .unwrap();
        assert_eq!(r.status, 204, "activate {name}: {}", r.text());
    }
    node
}

fn pb_client(node: &RillProcess) -> ClusterClient {
    ClusterClient::new([node.pb.expect("pb listener").to_string()], 2).unwrap()
}

fn http_client(node: &RillProcess) -> HttpClient {
    HttpClient::new([node.http.to_string()], Some(Duration::from_secs(30))).unwrap()
}

fn body() -> DtUpdateOptions {
    DtUpdateOptions {
        return_body: true,
        ..DtUpdateOptions::default()
    }
}

fn set_of(members: &[&str]) -> DtValue {
    DtValue::Set(members.iter().map(|m| b(m)).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_updates_and_fetches_every_data_type() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_with_types(dir.path());
    let pb = pb_client(&node);
    let http = http_client(&node);
    let fetch = DtFetchOptions::default();
    let quiet = DtUpdateOptions::default();

    // Counter: PB and HTTP updates add up; a missing key has no value.
    let missing = pb
        .fetch_datatype("counters", "c", "none", &fetch)
        .await
        .unwrap();
    assert_eq!(
        (missing.data_type, missing.value),
        (DataType::Counter, None)
    );
    let missing = http
        .fetch_datatype("counters", "c", "none", &fetch)
        .await
        .unwrap();
    assert_eq!(missing.value, None);
    let up = pb
        .update_datatype("counters", "c", Some(b"k"), &DtUpdate::Counter(5), &quiet)
        .await
        .unwrap();
    assert_eq!(up.value, None);
    let up = http
        .update_datatype("counters", "c", Some("k"), &DtUpdate::Counter(-2), &body())
        .await
        .unwrap();
    assert_eq!(up.value, Some(DtValue::Counter(3)));
    let up = pb
        .update_datatype("counters", "c", Some(b"k"), &DtUpdate::Counter(10), &body())
        .await
        .unwrap();
    assert_eq!(up.value, Some(DtValue::Counter(13)));
    let got = http
        .fetch_datatype("counters", "c", "k", &fetch)
        .await
        .unwrap();
    assert_eq!(got.value, Some(DtValue::Counter(13)));

    // Set: a remove needs the context of a fetch that saw the member.
    let adds = DtUpdate::Set {
        adds: vec![b("a"), b("b"), b("c")],
        removes: vec![],
    };
    pb.update_datatype("sets", "s", Some(b"k"), &adds, &quiet)
        .await
        .unwrap();
    let blind = DtUpdate::Set {
        adds: vec![],
        removes: vec![b("never-added")],
    };
    let err = pb
        .update_datatype("sets", "s", Some(b"k"), &blind, &quiet)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "precondition", "{err}");
    let seen = pb.fetch_datatype("sets", "s", "k", &fetch).await.unwrap();
    assert_eq!(seen.value, Some(set_of(&["a", "b", "c"])));
    let remove_a = DtUpdate::Set {
        adds: vec![],
        removes: vec![b("a")],
    };
    let with_context = DtUpdateOptions {
        context: seen.context.clone(),
        ..body()
    };
    let up = pb
        .update_datatype("sets", "s", Some(b"k"), &remove_a, &with_context)
        .await
        .unwrap();
    assert_eq!(up.value, Some(set_of(&["b", "c"])));
    // Over HTTP, the context of an HTTP fetch.
    let seen = http.fetch_datatype("sets", "s", "k", &fetch).await.unwrap();
    let remove_b = DtUpdate::Set {
        adds: vec![b("d")],
        removes: vec![b("b")],
    };
    let opts = DtUpdateOptions {
        context: seen.context,
        ..body()
    };
    let up = http
        .update_datatype("sets", "s", Some("k"), &remove_b, &opts)
        .await
        .unwrap();
    assert_eq!(up.value, Some(set_of(&["c", "d"])));

    // Map: nested fields over PB, then a field removed over HTTP.
    let update = DtUpdate::Map(MapUpdate {
        removes: vec![],
        updates: vec![
            (b("hits"), FieldUpdate::Counter(2)),
            (
                b("tags"),
                FieldUpdate::Set {
                    adds: vec![b("x")],
                    removes: vec![],
                },
            ),
            (b("name"), FieldUpdate::Register(b("rill"))),
            (b("on"), FieldUpdate::Flag(true)),
            (
                b("inner"),
                FieldUpdate::Map(MapUpdate {
                    removes: vec![],
                    updates: vec![(b("n"), FieldUpdate::Counter(7))],
                }),
            ),
        ],
    });
    pb.update_datatype("maps", "m", Some(b"k"), &update, &quiet)
        .await
        .unwrap();
    for got in [
        pb.fetch_datatype("maps", "m", "k", &fetch).await.unwrap(),
        http.fetch_datatype("maps", "m", "k", &fetch).await.unwrap(),
    ] {
        let Some(DtValue::Map(entries)) = got.value else {
            panic!("a map: {got:?}")
        };
        let field = |n: &str, k| MapEntry::find(&entries, n.as_bytes(), k).cloned();
        assert_eq!(
            field("hits", FieldKind::Counter),
            Some(FieldValue::Counter(2))
        );
        assert_eq!(
            field("tags", FieldKind::Set),
            Some(FieldValue::Set(vec![b("x")]))
        );
        assert_eq!(
            field("name", FieldKind::Register),
            Some(FieldValue::Register(b("rill")))
        );
        assert_eq!(field("on", FieldKind::Flag), Some(FieldValue::Flag(true)));
        let Some(FieldValue::Map(inner)) = field("inner", FieldKind::Map) else {
            panic!("a nested map")
        };
        assert_eq!(
            MapEntry::find(&inner, b"n", FieldKind::Counter),
            Some(&FieldValue::Counter(7))
        );
    }
    let seen = http.fetch_datatype("maps", "m", "k", &fetch).await.unwrap();
    let drop_tags = DtUpdate::Map(MapUpdate {
        removes: vec![MapField::new(b("tags"), FieldKind::Set)],
        updates: vec![(b("hits"), FieldUpdate::Counter(1))],
    });
    let opts = DtUpdateOptions {
        context: seen.context,
        ..body()
    };
    let up = http
        .update_datatype("maps", "m", Some("k"), &drop_tags, &opts)
        .await
        .unwrap();
    let Some(DtValue::Map(entries)) = up.value else {
        panic!("a map body")
    };
    assert_eq!(MapEntry::find(&entries, b"tags", FieldKind::Set), None);
    assert_eq!(
        MapEntry::find(&entries, b"hits", FieldKind::Counter),
        Some(&FieldValue::Counter(3))
    );

    // HyperLogLog and grow-only set.
    let hll = DtUpdate::Hll(vec![b("p"), b("q"), b("r"), b("p")]);
    pb.update_datatype("hlls", "h", Some(b"k"), &hll, &quiet)
        .await
        .unwrap();
    let got = pb.fetch_datatype("hlls", "h", "k", &fetch).await.unwrap();
    assert_eq!(got.value, Some(DtValue::Hll(3)));
    let gset = DtUpdate::GSet(vec![b("g1"), b("g2")]);
    http.update_datatype("gsets", "g", Some("k"), &gset, &quiet)
        .await
        .unwrap();
    let got = pb.fetch_datatype("gsets", "g", "k", &fetch).await.unwrap();
    assert_eq!(got.value, Some(DtValue::GSet(vec![b("g1"), b("g2")])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_generated_keys_wrong_operations_and_type_props() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_with_types(dir.path());
    let pb = pb_client(&node);
    let http = http_client(&node);
    let fetch = DtFetchOptions::default();
    let quiet = DtUpdateOptions::default();

    for key in [
        pb.update_datatype("counters", "gen", None, &DtUpdate::Counter(1), &quiet)
            .await
            .unwrap()
            .key,
        http.update_datatype("counters", "gen", None, &DtUpdate::Counter(1), &quiet)
            .await
            .unwrap()
            .key,
    ] {
        let key = key.expect("a generated key");
        let got = pb
            .fetch_datatype("counters", "gen", &key, &fetch)
            .await
            .unwrap();
        assert_eq!(got.value, Some(DtValue::Counter(1)), "key {key:?}");
    }

    // A counter operation in a set bucket type is refused, on both APIs.
    let wrong = DtUpdate::Counter(1);
    let err = pb
        .update_datatype("sets", "s", Some(b"k"), &wrong, &quiet)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Riak { .. }), "{err}");
    let err = http
        .update_datatype("sets", "s", Some("k"), &wrong, &quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Http { status: 400, .. }),
        "{err}"
    );
    // A member that is not text cannot travel as JSON; PB takes it.
    let binary = DtUpdate::GSet(vec![Bytes::from_static(b"\xff\x00")]);
    let err = http
        .update_datatype("gsets", "g", Some("bin"), &binary, &quiet)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::InvalidRequest(_)), "{err}");
    pb.update_datatype("gsets", "g", Some(b"bin"), &binary, &quiet)
        .await
        .unwrap();
    let got = pb
        .fetch_datatype("gsets", "g", "bin", &fetch)
        .await
        .unwrap();
    assert_eq!(
        got.value,
        Some(DtValue::GSet(vec![Bytes::from_static(b"\xff\x00")]))
    );

    // Bucket type properties name the data type, on both APIs.
    let props = pb.get_bucket_type_props("maps").await.unwrap();
    assert_eq!(props.datatype.as_deref(), Some(&b"map"[..]));
    let props = http.bucket_type_props("hlls").await.unwrap();
    assert_eq!(props["datatype"], "hll");
}
