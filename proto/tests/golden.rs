//! Golden bytes: messages encoded by hand from the protobuf encoding rules
//! (tag = field << 3 | wire type), proving field numbers, scalar types and
//! proto2 presence rules.

use prost::Message;
use rill_proto::messages::*;
use rill_proto::{Frame, MsgCode, Request, Response, decode_body, encode_msg_bytes, quorum};

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_golden<M: Message + Default + PartialEq + std::fmt::Debug>(msg: &M, expected: &[u8]) {
    let encoded = msg.encode_to_vec();
    assert_eq!(hex(&encoded), hex(expected), "encoding of {msg:?}");
    let decoded = M::decode(expected).expect("golden bytes decode");
    assert_eq!(&decoded, msg);
}

fn get_req(r: Option<u32>) -> RpbGetReq {
    RpbGetReq {
        bucket: b"b".to_vec(),
        key: b"k".to_vec(),
        r,
        ..Default::default()
    }
}

#[test]
fn get_req_with_r() {
    assert_golden(
        &get_req(Some(2)),
        &[0x0a, 0x01, b'b', 0x12, 0x01, b'k', 0x18, 0x02],
    );
}

#[test]
fn absent_optionals_are_not_emitted() {
    assert_golden(&get_req(None), &[0x0a, 0x01, b'b', 0x12, 0x01, b'k']);
}

#[test]
fn get_req_quorum_one_is_a_five_byte_varint() {
    assert_golden(
        &get_req(Some(quorum::ONE)),
        &[
            0x0a, 0x01, b'b', 0x12, 0x01, b'k', 0x18, 0xfe, 0xff, 0xff, 0xff, 0x0f,
        ],
    );
}

#[test]
fn get_req_full_frame() {
    let bytes = encode_msg_bytes(MsgCode::GetReq, &get_req(Some(2)));
    assert_eq!(
        hex(&bytes),
        "00 00 00 09 09 0a 01 62 12 01 6b 18 02",
        "length counts the code byte"
    );
}

#[test]
fn empty_messages_are_the_code_alone() {
    assert_eq!(hex(&Request::Ping.encode().to_bytes()), "00 00 00 01 01");
    assert_eq!(hex(&Response::Ping.encode().to_bytes()), "00 00 00 01 02");
    assert_eq!(
        hex(&Response::SetClientId.encode().to_bytes()),
        "00 00 00 01 06"
    );
    assert_eq!(hex(&Response::Del.encode().to_bytes()), "00 00 00 01 0e");
    assert_eq!(
        hex(&Response::SetBucket.encode().to_bytes()),
        "00 00 00 01 16"
    );
    assert_eq!(
        hex(&Response::ResetBucket.encode().to_bytes()),
        "00 00 00 01 1e"
    );
    assert_eq!(
        hex(&Response::StartTls.encode().to_bytes()),
        "00 00 00 01 ff"
    );
    // Not-found is an RpbGetResp with nothing in it.
    let not_found = Response::Get(RpbGetResp::default()).encode();
    assert_eq!(hex(&not_found.to_bytes()), "00 00 00 01 0a");
    // A plain put acknowledgement likewise.
    let put_ack = Frame::from_msg(&RpbPutResp::default());
    assert_eq!(hex(&put_ack.to_bytes()), "00 00 00 01 0c");
}

#[test]
fn put_req_with_content() {
    let msg = RpbPutReq {
        bucket: b"b".to_vec(),
        key: Some(b"k".to_vec()),
        content: RpbContent {
            value: b"v".to_vec(),
            content_type: Some(b"text/plain".to_vec()),
            ..Default::default()
        },
        return_body: Some(true),
        ..Default::default()
    };
    let mut expected = vec![0x0a, 0x01, b'b', 0x12, 0x01, b'k', 0x22, 0x0f];
    expected.extend_from_slice(&[0x0a, 0x01, b'v', 0x12, 0x0a]);
    expected.extend_from_slice(b"text/plain");
    expected.extend_from_slice(&[0x38, 0x01]);
    assert_golden(&msg, &expected);
}

#[test]
fn content_indexes_and_usermeta_are_fields_10_and_9() {
    let msg = RpbContent {
        value: Vec::new(),
        usermeta: vec![RpbPair::new("m", "1")],
        indexes: vec![RpbPair::new("i_int", "7")],
        deleted: Some(true),
        ..Default::default()
    };
    let mut expected = vec![0x0a, 0x00]; // required value, even when empty
    expected.extend_from_slice(&[0x4a, 0x06, 0x0a, 0x01, b'm', 0x12, 0x01, b'1']);
    expected.extend_from_slice(&[0x52, 0x0a, 0x0a, 0x05]);
    expected.extend_from_slice(b"i_int");
    expected.extend_from_slice(&[0x12, 0x01, b'7', 0x58, 0x01]);
    assert_golden(&msg, &expected);
}

#[test]
fn error_resp_emits_required_zero_errcode() {
    let mut expected = vec![0x0a, 0x08];
    expected.extend_from_slice(b"notfound");
    expected.extend_from_slice(&[0x10, 0x00]);
    assert_golden(&RpbErrorResp::new("notfound"), &expected);
}

#[test]
fn dt_fetch_req_include_context() {
    let mut msg = DtFetchReq {
        bucket: b"b".to_vec(),
        key: b"k".to_vec(),
        r#type: b"maps".to_vec(),
        ..Default::default()
    };
    let base = [
        0x0a, 0x01, b'b', 0x12, 0x01, b'k', 0x1a, 0x04, b'm', b'a', b'p', b's',
    ];
    assert_golden(&msg, &base);
    assert!(msg.include_context(), "proto2 default is true");

    msg.include_context = Some(false);
    let mut expected = base.to_vec();
    expected.extend_from_slice(&[0x58, 0x00]); // field 11, varint 0: explicit false is sent
    assert_golden(&msg, &expected);
    assert!(!msg.include_context());
}

#[test]
fn dt_update_counter_decrement_uses_zigzag() {
    let msg = DtUpdateReq {
        bucket: b"b".to_vec(),
        r#type: b"counters".to_vec(),
        op: DtOp {
            counter_op: Some(CounterOp {
                increment: Some(-1),
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut expected = vec![0x0a, 0x01, b'b', 0x1a, 0x08];
    expected.extend_from_slice(b"counters");
    expected.extend_from_slice(&[0x2a, 0x04, 0x0a, 0x02, 0x08, 0x01]);
    assert_golden(&msg, &expected);
}

#[test]
fn dt_map_update_flag_and_register() {
    let msg = MapOp {
        removes: vec![],
        updates: vec![MapUpdate {
            field: MapField {
                name: b"f".to_vec(),
                r#type: MapFieldType::Flag as i32,
            },
            flag_op: Some(FlagOp::Enable as i32),
            ..Default::default()
        }],
    };
    // updates (2) { field (1) { name "f", type 4 }, flag_op (5) = 1 }
    let expected = [
        0x12, 0x09, 0x0a, 0x05, 0x0a, 0x01, b'f', 0x10, 0x04, 0x28, 0x01,
    ];
    assert_golden(&msg, &expected);
}

#[test]
fn dt_fetch_resp_counter() {
    let msg = DtFetchResp {
        context: None,
        r#type: DataType::Counter as i32,
        value: Some(DtValue {
            counter_value: Some(-3),
            ..Default::default()
        }),
    };
    assert_golden(&msg, &[0x10, 0x01, 0x1a, 0x02, 0x08, 0x05]);
    assert_eq!(msg.r#type(), DataType::Counter);
}

#[test]
fn dt_value_hll_is_uint64_field_4() {
    let msg = DtValue {
        hll_value: Some(300),
        ..Default::default()
    };
    assert_golden(&msg, &[0x20, 0xac, 0x02]);
}

#[test]
fn index_req_emits_required_eq_qtype() {
    let msg = RpbIndexReq {
        bucket: b"b".to_vec(),
        index: b"f_bin".to_vec(),
        qtype: IndexQueryType::Eq as i32,
        key: Some(b"x".to_vec()),
        ..Default::default()
    };
    let mut expected = vec![0x0a, 0x01, b'b', 0x12, 0x05];
    expected.extend_from_slice(b"f_bin");
    expected.extend_from_slice(&[0x18, 0x00, 0x22, 0x01, b'x']);
    assert_golden(&msg, &expected);
    assert_eq!(msg.qtype(), IndexQueryType::Eq);
}

#[test]
fn bucket_props_repl_is_field_24() {
    let msg = RpbGetBucketResp {
        props: RpbBucketProps {
            n_val: Some(3),
            allow_mult: Some(true),
            repl: Some(RpbReplMode::Realtime as i32),
            ..Default::default()
        },
    };
    assert_golden(
        &msg,
        &[0x0a, 0x07, 0x08, 0x03, 0x10, 0x01, 0xc0, 0x01, 0x01],
    );
    assert_eq!(msg.props.repl(), RpbReplMode::Realtime);
}

#[test]
fn counter_update_amount_is_sint64() {
    let msg = RpbCounterUpdateReq {
        bucket: b"b".to_vec(),
        key: b"k".to_vec(),
        amount: -1,
        ..Default::default()
    };
    assert_golden(&msg, &[0x0a, 0x01, b'b', 0x12, 0x01, b'k', 0x18, 0x01]);
}

#[test]
fn preflist_item_emits_required_false_primary() {
    let msg = RpbBucketKeyPreflistItem {
        partition: 5,
        node: b"n".to_vec(),
        primary: false,
    };
    assert_golden(&msg, &[0x08, 0x05, 0x12, 0x01, b'n', 0x18, 0x00]);
}

#[test]
fn coverage_entry_port_and_context() {
    let msg = RpbCoverageEntry {
        ip: b"1".to_vec(),
        port: 8087,
        keyspace_desc: None,
        cover_context: b"c".to_vec(),
    };
    assert_golden(
        &msg,
        &[0x0a, 0x01, b'1', 0x10, 0x97, 0x3f, 0x22, 0x01, b'c'],
    );
}

#[test]
fn search_max_score_is_float() {
    let msg = RpbSearchQueryResp {
        docs: vec![],
        max_score: Some(1.0),
        num_found: Some(0),
    };
    assert_golden(&msg, &[0x15, 0x00, 0x00, 0x80, 0x3f, 0x18, 0x00]);
}

#[test]
fn repeated_uint32_is_unpacked_like_proto2() {
    let msg = RpbAaeFoldMergeBranchNValReq {
        n_val: 3,
        id_filter: vec![1, 2],
    };
    assert_golden(&msg, &[0x08, 0x03, 0x10, 0x01, 0x10, 0x02]);
    // A packed encoding of the same field is accepted on input.
    let packed: RpbAaeFoldMergeBranchNValReq =
        Message::decode(&[0x08, 0x03, 0x12, 0x02, 0x01, 0x02][..]).unwrap();
    assert_eq!(packed, msg);
}

#[test]
fn unknown_fields_are_skipped() {
    // get_req(Some(2)) followed by field 99 (varint 7), which Riak never sends.
    let bytes = [
        0x0a, 0x01, b'b', 0x12, 0x01, b'k', 0x18, 0x02, 0x98, 0x06, 0x07,
    ];
    let frame = Frame::new(MsgCode::GetReq, bytes.to_vec());
    let msg: RpbGetReq = decode_body(&frame).unwrap();
    assert_eq!(msg, get_req(Some(2)));
}
