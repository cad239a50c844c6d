//! The wire and JSON forms of data type operations and values.

use super::*;
use crate::error::ClientError;
use serde_json::json;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn nested_map_update() -> MapUpdate {
    MapUpdate {
        removes: vec![MapField::new(b("old"), FieldKind::Flag)],
        updates: vec![
            (b("hits"), FieldUpdate::Counter(3)),
            (
                b("tags"),
                FieldUpdate::Set {
                    adds: vec![b("a")],
                    removes: vec![b("z")],
                },
            ),
            (b("name"), FieldUpdate::Register(b("rill"))),
            (b("seen"), FieldUpdate::Flag(true)),
            (
                b("inner"),
                FieldUpdate::Map(MapUpdate {
                    removes: vec![],
                    updates: vec![(b("n"), FieldUpdate::Counter(-1))],
                }),
            ),
        ],
    }
}

#[test]
fn each_update_sets_the_one_wire_field_of_its_type() {
    let op = DtUpdate::Counter(-2).to_wire();
    assert_eq!(op.counter_op.unwrap().increment, Some(-2));
    assert!(op.set_op.is_none() && op.map_op.is_none());

    let op = DtUpdate::Set {
        adds: vec![b("x")],
        removes: vec![b("y")],
    }
    .to_wire();
    let set = op.set_op.unwrap();
    assert_eq!(
        (set.adds, set.removes),
        (vec![b"x".to_vec()], vec![b"y".to_vec()])
    );

    let op = DtUpdate::Hll(vec![b("h")]).to_wire();
    assert_eq!(op.hll_op.unwrap().adds, vec![b"h".to_vec()]);
    let op = DtUpdate::GSet(vec![b("g")]).to_wire();
    assert_eq!(op.gset_op.unwrap().adds, vec![b"g".to_vec()]);
    assert!(op.counter_op.is_none() && op.hll_op.is_none());
}

#[test]
fn map_updates_carry_field_types_and_nest() {
    let op = DtUpdate::Map(nested_map_update()).to_wire().map_op.unwrap();
    assert_eq!(op.removes[0].name, b"old");
    assert_eq!(op.removes[0].r#type, wire::MapFieldType::Flag as i32);
    let by_name = |n: &[u8]| op.updates.iter().find(|u| u.field.name == n).unwrap();
    let hits = by_name(b"hits");
    assert_eq!(hits.field.r#type, wire::MapFieldType::Counter as i32);
    assert_eq!(hits.counter_op.as_ref().unwrap().increment, Some(3));
    assert_eq!(by_name(b"name").register_op.as_deref(), Some(&b"rill"[..]));
    assert_eq!(by_name(b"seen").flag_op, Some(wire::FlagOp::Enable as i32));
    let inner = by_name(b"inner").map_op.as_ref().unwrap();
    assert_eq!(
        inner.updates[0].counter_op.as_ref().unwrap().increment,
        Some(-1)
    );
}

#[test]
fn fetched_values_decode_by_the_reply_type() {
    let resp = wire::DtFetchResp {
        context: Some(b"ctx".to_vec()),
        r#type: wire::DataType::Map as i32,
        value: Some(wire::DtValue {
            map_value: vec![
                wire::MapEntry {
                    field: wire::MapField {
                        name: b"hits".to_vec(),
                        r#type: wire::MapFieldType::Counter as i32,
                    },
                    counter_value: Some(7),
                    ..wire::MapEntry::default()
                },
                wire::MapEntry {
                    field: wire::MapField {
                        name: b"seen".to_vec(),
                        r#type: wire::MapFieldType::Flag as i32,
                    },
                    flag_value: Some(true),
                    ..wire::MapEntry::default()
                },
            ],
            ..wire::DtValue::default()
        }),
    };
    let f = DtFetched::from_wire(resp).unwrap();
    assert_eq!(f.data_type, DataType::Map);
    assert_eq!(f.context, Some(b("ctx")));
    let Some(DtValue::Map(entries)) = f.value else {
        panic!("a map value")
    };
    assert_eq!(
        MapEntry::find(&entries, b"hits", FieldKind::Counter),
        Some(&FieldValue::Counter(7))
    );
    assert_eq!(
        MapEntry::find(&entries, b"seen", FieldKind::Flag),
        Some(&FieldValue::Flag(true))
    );
    assert_eq!(MapEntry::find(&entries, b"hits", FieldKind::Set), None);

    let missing = wire::DtFetchResp {
        context: None,
        r#type: wire::DataType::Counter as i32,
        value: None,
    };
    assert_eq!(DtFetched::from_wire(missing).unwrap().value, None);
    let unknown = wire::DtFetchResp {
        context: None,
        r#type: 99,
        value: None,
    };
    assert_eq!(DtFetched::from_wire(unknown), None);
}

#[test]
fn an_update_reply_has_a_value_only_when_the_body_was_asked_for() {
    let resp = wire::DtUpdateResp {
        key: Some(b"gen".to_vec()),
        ..wire::DtUpdateResp::default()
    };
    let quiet = DtUpdated::from_wire(resp.clone(), DataType::Set, false);
    assert_eq!(quiet.key, Some(b("gen")));
    assert_eq!(quiet.value, None);
    // An empty set returned as the body is still a value.
    let body = DtUpdated::from_wire(resp, DataType::Set, true);
    assert_eq!(body.value, Some(DtValue::Set(vec![])));
    let counter = wire::DtUpdateResp {
        counter_value: Some(5),
        ..wire::DtUpdateResp::default()
    };
    let body = DtUpdated::from_wire(counter, DataType::Counter, true);
    assert_eq!(body.value, Some(DtValue::Counter(5)));
}

#[test]
fn json_update_bodies_use_riaks_operation_names() {
    use json::update_body;
    assert_eq!(
        update_body(&DtUpdate::Counter(4), None).unwrap(),
        json!({"increment": 4})
    );
    let set = DtUpdate::Set {
        adds: vec![b("a")],
        removes: vec![b("b")],
    };
    assert_eq!(
        update_body(&set, Some(b"\x01\x02")).unwrap(),
        json!({"add_all": ["a"], "remove_all": ["b"], "context": "AQI="})
    );
    assert_eq!(
        update_body(&DtUpdate::GSet(vec![b("g")]), None).unwrap(),
        json!({"add_all": ["g"]})
    );
    assert_eq!(
        update_body(&DtUpdate::Map(nested_map_update()), None).unwrap(),
        json!({
            "remove": ["old_flag"],
            "update": {
                "hits_counter": {"increment": 3},
                "tags_set": {"add_all": ["a"], "remove_all": ["z"]},
                "name_register": {"assign": "rill"},
                "seen_flag": "enable",
                "inner_map": {"update": {"n_counter": {"increment": -1}}},
            }
        })
    );
}

#[test]
fn json_refuses_members_that_are_not_text() {
    let err =
        json::update_body(&DtUpdate::Hll(vec![Bytes::from_static(b"\xff")]), None).unwrap_err();
    assert!(matches!(err, ClientError::InvalidRequest(_)), "{err}");
}

#[test]
fn json_fetch_replies_decode_values_contexts_and_not_found() {
    let f = json::fetched(&json!({
        "type": "map",
        "value": {"hits_counter": 2, "tags_set": ["a", "b"], "a_b_register": "x",
                  "on_flag": false, "m_map": {"n_counter": 1}},
        "context": "AQI="
    }))
    .unwrap();
    assert_eq!(f.context, Some(Bytes::from_static(b"\x01\x02")));
    let Some(DtValue::Map(entries)) = &f.value else {
        panic!("a map value")
    };
    assert_eq!(
        MapEntry::find(entries, b"a_b", FieldKind::Register),
        Some(&FieldValue::Register(b("x")))
    );
    assert_eq!(
        MapEntry::find(entries, b"tags", FieldKind::Set),
        Some(&FieldValue::Set(vec![b("a"), b("b")]))
    );
    let Some(FieldValue::Map(inner)) = MapEntry::find(entries, b"m", FieldKind::Map) else {
        panic!("a nested map")
    };
    assert_eq!(
        MapEntry::find(inner, b"n", FieldKind::Counter),
        Some(&FieldValue::Counter(1))
    );

    let hll = json::fetched(&json!({"type": "hll", "value": 12})).unwrap();
    assert_eq!(hll.value, Some(DtValue::Hll(12)));
    let missing = json::fetched(&json!({"type": "set", "error": "notfound"})).unwrap();
    assert_eq!((missing.data_type, missing.value), (DataType::Set, None));
    assert!(json::fetched(&json!({"type": "counter", "value": "x"})).is_err());
    assert!(json::fetched(&json!({"value": 1})).is_err());
}

#[test]
fn datatype_property_names_round_trip() {
    for t in [
        DataType::Counter,
        DataType::Set,
        DataType::Map,
        DataType::Hll,
        DataType::GSet,
    ] {
        assert_eq!(DataType::from_property(t.name().as_bytes()), Some(t));
    }
    assert_eq!(DataType::from_property(b"register"), None);
}
