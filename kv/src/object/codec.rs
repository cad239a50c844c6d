//! Byte forms of objects and clocks: the stored record and the opaque causal
//! context handed to clients (`X-Riak-Vclock`, PB `vclock`).
//!
//! Both start with a version byte. Each version's layout lives in its own
//! module and is frozen by golden-bytes tests; a new layout gets a new module
//! and the old decoder stays, so records written by older nodes stay readable.

use super::error::{ObjectError, Result};
use super::riak_object::RiakObject;
use super::vclock::{Actor, VClock};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};

/// Record version written by `encode_object`: the form sent between nodes,
/// which every node version reads.
pub const OBJECT_VERSION: u8 = 1;
/// Record version written by `encode_record`: the form kept on disk.
pub const RECORD_VERSION: u8 = 2;
/// Record header: version byte and crc32 of the payload.
const HEADER_LEN: usize = 5;

/// Context version written by `encode_context`.
pub const CONTEXT_VERSION: u8 = 1;
/// The most actors a client context may name. A ring of 1024 partitions,
/// each with a few actor epochs, stays well below it; more is garbage.
pub const MAX_CONTEXT_ENTRIES: usize = 4096;

/// The wire form: `[version 1][crc32 of payload, u32 BE][payload]`, the
/// payload a msgpack map. Sent to other nodes (replies, forwards, handoff),
/// so a node of an older version can read it during a rolling upgrade.
pub fn encode_object(obj: &RiakObject) -> Vec<u8> {
    framed(OBJECT_VERSION, v1::encode(obj, v1::Form::Named))
}

/// The stored form: `[version 2][crc32][payload]`, the same fields as
/// version 1 by position instead of by name: about 130 bytes less per
/// sibling, which is most of a small object. Never sent to another node
/// as is: [`to_wire`] turns it back into version 1.
pub fn encode_record(obj: &RiakObject) -> Vec<u8> {
    framed(RECORD_VERSION, v1::encode(obj, v1::Form::Positional))
}

fn framed(version: u8, payload: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.push(version);
    out.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Reads a record of either version; a checksum mismatch is
/// `ObjectError::Corrupt`, so the caller can repair from a replica instead
/// of serving bad data.
pub fn decode_object(bytes: &[u8]) -> Result<RiakObject> {
    if bytes.len() < HEADER_LEN {
        return Err(ObjectError::Truncated { len: bytes.len() });
    }
    let version = bytes[0];
    if version != OBJECT_VERSION && version != RECORD_VERSION {
        return Err(ObjectError::UnknownVersion(version));
    }
    let stored = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let payload = &bytes[HEADER_LEN..];
    let computed = crc32fast::hash(payload);
    if stored != computed {
        return Err(ObjectError::Corrupt { stored, computed });
    }
    // One decoder reads both: a msgpack struct may be a map or an array.
    let obj = v1::decode(payload)?;
    obj.validate()?;
    Ok(obj)
}

/// A stored record in the wire form (version 1), for sending it unchanged to
/// another node. A record that does not decode is passed on as it is: the
/// receiver reports and skips it like any corrupt record.
pub fn to_wire(record: Vec<u8>) -> Vec<u8> {
    match record.first() {
        Some(&RECORD_VERSION) => match decode_object(&record) {
            Ok(obj) => encode_object(&obj),
            Err(_) => record,
        },
        _ => record,
    }
}

/// Record layouts 1 and 2: the object as msgpack, fields by name (a map,
/// `to_vec_named`: version 1, the wire form) or by position (arrays,
/// `to_vec`: version 2, the stored form).
mod v1 {
    use super::super::meta::{Link, Metadata};
    use super::super::riak_object::{RiakObject, Sibling};
    use super::super::vclock::{Actor, Dot, VClock};
    use super::{ObjectError, Result};
    use serde::{Deserialize, Serialize};
    use std::borrow::Cow;

    #[derive(Serialize, Deserialize)]
    struct ObjectV1<'a> {
        clock: Vec<(u64, u64)>,
        #[serde(borrow)]
        siblings: Vec<SiblingV1<'a>>,
    }

    #[derive(Serialize, Deserialize)]
    struct SiblingV1<'a> {
        actor: u64,
        counter: u64,
        #[serde(borrow, with = "serde_bytes")]
        value: Cow<'a, [u8]>,
        #[serde(borrow)]
        meta: MetaV1<'a>,
    }

    #[derive(Serialize, Deserialize)]
    struct MetaV1<'a> {
        #[serde(borrow)]
        content_type: Cow<'a, str>,
        #[serde(borrow)]
        charset: Option<Cow<'a, str>>,
        #[serde(borrow)]
        content_encoding: Option<Cow<'a, str>>,
        #[serde(borrow)]
        vtag: Cow<'a, str>,
        last_modified_us: u64,
        #[serde(borrow)]
        usermeta: Vec<Pair<'a>>,
        #[serde(borrow)]
        links: Vec<LinkV1<'a>>,
        #[serde(borrow)]
        indexes: Vec<Pair<'a>>,
        deleted: bool,
    }

    #[derive(Serialize, Deserialize)]
    struct Pair<'a>(
        #[serde(borrow, with = "serde_bytes")] Cow<'a, [u8]>,
        #[serde(borrow, with = "serde_bytes")] Cow<'a, [u8]>,
    );

    #[derive(Serialize, Deserialize)]
    struct LinkV1<'a> {
        #[serde(borrow, with = "serde_bytes")]
        bucket: Cow<'a, [u8]>,
        #[serde(borrow, with = "serde_bytes")]
        key: Cow<'a, [u8]>,
        #[serde(borrow, with = "serde_bytes")]
        tag: Cow<'a, [u8]>,
    }

    fn pairs(v: &[(Vec<u8>, Vec<u8>)]) -> Vec<Pair<'_>> {
        v.iter()
            .map(|(a, b)| Pair(Cow::Borrowed(a), Cow::Borrowed(b)))
            .collect()
    }

    fn unpairs(v: Vec<Pair<'_>>) -> Vec<(Vec<u8>, Vec<u8>)> {
        v.into_iter()
            .map(|Pair(a, b)| (a.into_owned(), b.into_owned()))
            .collect()
    }

    /// How structs are written: version 1 names fields, version 2 does not.
    pub(super) enum Form {
        Named,
        Positional,
    }

    pub(super) fn encode(obj: &RiakObject, form: Form) -> Vec<u8> {
        let rec = ObjectV1 {
            clock: obj.clock.iter().map(|(a, c)| (a.0, c)).collect(),
            siblings: obj
                .siblings
                .iter()
                .map(|s| SiblingV1 {
                    actor: s.dot.actor.0,
                    counter: s.dot.counter,
                    value: Cow::Borrowed(&s.value),
                    meta: MetaV1 {
                        content_type: Cow::Borrowed(&s.meta.content_type),
                        charset: s.meta.charset.as_deref().map(Cow::Borrowed),
                        content_encoding: s.meta.content_encoding.as_deref().map(Cow::Borrowed),
                        vtag: Cow::Borrowed(&s.meta.vtag),
                        last_modified_us: s.meta.last_modified_us,
                        usermeta: pairs(&s.meta.usermeta),
                        links: s
                            .meta
                            .links
                            .iter()
                            .map(|l| LinkV1 {
                                bucket: Cow::Borrowed(&l.bucket),
                                key: Cow::Borrowed(&l.key),
                                tag: Cow::Borrowed(&l.tag),
                            })
                            .collect(),
                        indexes: pairs(&s.meta.indexes),
                        deleted: s.meta.deleted,
                    },
                })
                .collect(),
        };
        // Serializing plain structs into a Vec cannot fail.
        match form {
            Form::Named => rmp_serde::to_vec_named(&rec),
            Form::Positional => rmp_serde::to_vec(&rec),
        }
        .expect("msgpack encoding of an object")
    }

    pub(super) fn decode(payload: &[u8]) -> Result<RiakObject> {
        let rec: ObjectV1<'_> =
            rmp_serde::from_slice(payload).map_err(|e| ObjectError::Decode(e.to_string()))?;
        let mut clock = VClock::new();
        for (a, c) in rec.clock {
            if c == 0 || clock.get(Actor(a)) != 0 {
                return Err(ObjectError::Invalid("clock entry repeated or zero"));
            }
            clock.set(Actor(a), c);
        }
        let siblings = rec
            .siblings
            .into_iter()
            .map(|s| Sibling {
                dot: Dot::new(Actor(s.actor), s.counter),
                value: s.value.into_owned(),
                meta: Metadata {
                    content_type: s.meta.content_type.into_owned(),
                    charset: s.meta.charset.map(Cow::into_owned),
                    content_encoding: s.meta.content_encoding.map(Cow::into_owned),
                    vtag: s.meta.vtag.into_owned(),
                    last_modified_us: s.meta.last_modified_us,
                    usermeta: unpairs(s.meta.usermeta),
                    links: s
                        .meta
                        .links
                        .into_iter()
                        .map(|l| Link {
                            bucket: l.bucket.into_owned(),
                            key: l.key.into_owned(),
                            tag: l.tag.into_owned(),
                        })
                        .collect(),
                    indexes: unpairs(s.meta.indexes),
                    deleted: s.meta.deleted,
                },
            })
            .collect();
        Ok(RiakObject { clock, siblings })
    }
}

/// The opaque context for clients: `[version 1][varint n]` then n pairs of
/// `[varint actor][varint counter]`, actors strictly increasing, counters > 0.
/// Canonical, so equal clocks give equal bytes (clients compare them).
pub fn encode_context(clock: &VClock) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + clock.len() * 6);
    out.push(CONTEXT_VERSION);
    crate::varint::put(&mut out, clock.len() as u64);
    for (actor, counter) in clock.iter() {
        crate::varint::put(&mut out, actor.0);
        crate::varint::put(&mut out, counter);
    }
    out
}

/// Reads a client context. Empty input means "no context" (clients send an
/// empty vclock for a fresh write). Anything malformed is `BadContext`.
pub fn decode_context(bytes: &[u8]) -> Result<VClock> {
    let Some((&version, mut rest)) = bytes.split_first() else {
        return Ok(VClock::new());
    };
    if version != CONTEXT_VERSION {
        return Err(ObjectError::BadContext("unknown context version"));
    }
    let n = crate::varint::get(&mut rest).map_err(ObjectError::BadContext)?;
    // Each entry takes at least two bytes; checking before allocating keeps a
    // forged count from reserving memory.
    if n > MAX_CONTEXT_ENTRIES as u64 || n > (rest.len() / 2) as u64 {
        return Err(ObjectError::BadContext("entry count out of range"));
    }
    let mut entries = Vec::with_capacity(n as usize);
    let mut previous: Option<u64> = None;
    for _ in 0..n {
        let actor = crate::varint::get(&mut rest).map_err(ObjectError::BadContext)?;
        let counter = crate::varint::get(&mut rest).map_err(ObjectError::BadContext)?;
        if previous.is_some_and(|p| actor <= p) {
            return Err(ObjectError::BadContext("actors not strictly increasing"));
        }
        if counter == 0 {
            return Err(ObjectError::BadContext("zero counter"));
        }
        previous = Some(actor);
        entries.push((Actor(actor), counter));
    }
    if !rest.is_empty() {
        return Err(ObjectError::BadContext("trailing bytes"));
    }
    Ok(VClock::from_entries(entries))
}

/// The context as `X-Riak-Vclock` carries it: standard base64 with padding.
pub fn context_to_base64(clock: &VClock) -> String {
    STANDARD.encode(encode_context(clock))
}

/// Reads an `X-Riak-Vclock` header value; padding may be missing.
pub fn context_from_base64(text: &str) -> Result<VClock> {
    let bytes = STANDARD_PAD_INDIFFERENT
        .decode(text.trim())
        .map_err(|_| ObjectError::BadContext("invalid base64"))?;
    decode_context(&bytes)
}

#[cfg(test)]
mod tests {
    use super::super::meta::{Link, Metadata};
    use super::super::riak_object::{Content, Sibling};
    use super::super::vclock::Dot;
    use super::*;
    use proptest::prelude::*;

    fn small_object() -> RiakObject {
        let meta = Metadata {
            content_type: "text/plain".into(),
            charset: Some("utf-8".into()),
            content_encoding: None,
            vtag: "abc".into(),
            last_modified_us: 1_700_000_000_000_000,
            usermeta: vec![(b"k".to_vec(), b"v".to_vec())],
            links: vec![Link {
                bucket: b"b".to_vec(),
                key: b"k2".to_vec(),
                tag: b"t".to_vec(),
            }],
            indexes: vec![(b"email_bin".to_vec(), b"a@b".to_vec())],
            deleted: false,
        };
        RiakObject::coordinate_put(
            None,
            &VClock::new(),
            Content::new(b"hi".to_vec(), meta),
            Actor(7),
        )
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Freezes record layout v1: if this changes, old records become unreadable.
    #[test]
    fn golden_object_bytes() {
        let bytes = encode_object(&small_object());
        assert_eq!(hex(&bytes), GOLDEN_OBJECT_V1);
        assert_eq!(decode_object(&bytes).unwrap(), small_object());
    }

    const GOLDEN_OBJECT_V1: &str = concat!(
        "01faaf122b82a5636c6f636b91920701a87369626c696e67739184a56163746f7207a7636f756e74",
        "657201a576616c7565c4026869a46d65746189ac636f6e74656e745f74797065aa746578742f706c",
        "61696ea763686172736574a57574662d38b0636f6e74656e745f656e636f64696e67c0a476746167",
        "a3616263b06c6173745f6d6f6469666965645f7573cf00060a24181e4000a8757365726d65746191",
        "92c4016bc40176a56c696e6b739183a66275636b6574c40162a36b6579c4026b32a3746167c40174",
        "a7696e64657865739192c409656d61696c5f62696ec403614062a764656c65746564c2",
    );

    /// Freezes record layout v2 (the stored form) the same way.
    #[test]
    fn golden_record_bytes() {
        let bytes = encode_record(&small_object());
        assert_eq!(hex(&bytes), GOLDEN_RECORD_V2);
        assert_eq!(decode_object(&bytes).unwrap(), small_object());
        assert!(bytes.len() + 100 < encode_object(&small_object()).len());
    }

    const GOLDEN_RECORD_V2: &str = concat!(
        "02e4b8f299929192070191940701c402686999aa746578742f706c61696ea57574662d38c0a36162",
        "63cf00060a24181e40009192c4016bc401769193c40162c4026b32c401749192c409656d61696c5f62696ec403614062c2",
    );

    #[test]
    fn stored_records_go_on_the_wire_as_version_1() {
        let obj = small_object();
        assert_eq!(to_wire(encode_record(&obj)), encode_object(&obj));
        assert_eq!(to_wire(encode_object(&obj)), encode_object(&obj));
        let mut corrupt = encode_record(&obj);
        corrupt[9] ^= 1;
        assert_eq!(
            to_wire(corrupt.clone()),
            corrupt,
            "passed on for the receiver to skip"
        );
    }

    #[test]
    fn golden_context_bytes() {
        let clock = VClock::from_entries([(Actor(1), 3), (Actor(300), 1)]);
        let bytes = encode_context(&clock);
        assert_eq!(bytes, [1, 2, 1, 3, 0xac, 0x02, 1]);
        assert_eq!(decode_context(&bytes).unwrap(), clock);
        assert_eq!(context_to_base64(&clock), "AQIBA6wCAQ==");
        assert_eq!(context_from_base64("AQIBA6wCAQ==").unwrap(), clock);
        assert_eq!(context_from_base64("AQIBA6wCAQ").unwrap(), clock);
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        for bytes in [
            encode_object(&small_object()),
            encode_record(&small_object()),
        ] {
            every_flip_detected(&bytes);
        }
    }

    fn every_flip_detected(bytes: &[u8]) {
        for i in 0..bytes.len() {
            let mut bad = bytes.to_vec();
            bad[i] ^= 0x01;
            let err = decode_object(&bad).unwrap_err();
            match i {
                0 => assert_eq!(err, ObjectError::UnknownVersion(bytes[0] ^ 1)),
                _ => assert!(
                    matches!(err, ObjectError::Corrupt { .. }),
                    "byte {i}: {err:?}"
                ),
            }
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = encode_object(&small_object());
        for len in 0..bytes.len() {
            let err = decode_object(&bytes[..len]).unwrap_err();
            if len < HEADER_LEN {
                assert_eq!(err, ObjectError::Truncated { len });
            } else {
                // The checksum covers the payload, so a cut shows as corruption.
                assert!(
                    matches!(err, ObjectError::Corrupt { .. }),
                    "len {len}: {err:?}"
                );
            }
        }
    }

    #[test]
    fn unknown_version_is_rejected() {
        let mut bytes = encode_object(&small_object());
        bytes[0] = 3;
        assert_eq!(decode_object(&bytes), Err(ObjectError::UnknownVersion(3)));
    }

    #[test]
    fn valid_checksum_over_garbage_is_a_decode_error() {
        let payload = b"\x93garbage";
        let mut bytes = vec![OBJECT_VERSION];
        bytes.extend_from_slice(&crc32fast::hash(payload).to_be_bytes());
        bytes.extend_from_slice(payload);
        assert!(matches!(decode_object(&bytes), Err(ObjectError::Decode(_))));
    }

    #[test]
    fn sibling_outside_its_clock_is_rejected() {
        let mut obj = small_object();
        obj.clock = VClock::new();
        let bytes = encode_object(&obj);
        assert!(matches!(
            decode_object(&bytes),
            Err(ObjectError::Invalid(_))
        ));
    }

    #[test]
    fn context_rejects_malformed_input() {
        let bad: &[&[u8]] = &[
            &[2, 0],                      // unknown version
            &[1],                         // no count
            &[1, 1, 5],                   // truncated entry
            &[1, 1, 5, 0],                // zero counter
            &[1, 2, 5, 1, 5, 1],          // repeated actor
            &[1, 2, 5, 1, 4, 1],          // actors out of order
            &[1, 0, 0],                   // trailing byte
            &[1, 0x80, 0],                // non-canonical varint
            &[1, 0xff, 0xff, 0xff, 0x7f], // absurd count
            &[
                1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1,
            ], // overflow
        ];
        for b in bad {
            assert!(
                matches!(decode_context(b), Err(ObjectError::BadContext(_))),
                "{b:?}"
            );
        }
        assert_eq!(decode_context(&[]).unwrap(), VClock::new());
        assert_eq!(decode_context(&[1, 0]).unwrap(), VClock::new());
        assert!(context_from_base64("not base64!").is_err());
    }

    #[test]
    fn context_varint_extremes_round_trip() {
        let clock = VClock::from_entries([(Actor(0), u64::MAX), (Actor(u64::MAX), 1)]);
        assert_eq!(decode_context(&encode_context(&clock)).unwrap(), clock);
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..max)
    }

    fn opt_string() -> impl Strategy<Value = Option<String>> {
        prop::option::of("[a-z/=-]{0,12}")
    }

    fn pairs() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
        prop::collection::vec((bytes(8), bytes(8)), 0..3)
    }

    fn metadata() -> impl Strategy<Value = Metadata> {
        (
            (
                "[ -~]{0,20}",
                opt_string(),
                opt_string(),
                "[0-9A-Za-z]{0,22}",
            ),
            (any::<u64>(), pairs(), pairs(), any::<bool>()),
            prop::collection::vec((bytes(6), bytes(6), bytes(6)), 0..3),
        )
            .prop_map(
                |(
                    (content_type, charset, content_encoding, vtag),
                    (ts, usermeta, indexes, deleted),
                    links,
                )| {
                    Metadata {
                        content_type,
                        charset,
                        content_encoding,
                        vtag,
                        last_modified_us: ts,
                        usermeta,
                        links: links
                            .into_iter()
                            .map(|(bucket, key, tag)| Link { bucket, key, tag })
                            .collect(),
                        indexes,
                        deleted,
                    }
                },
            )
    }

    fn object() -> impl Strategy<Value = RiakObject> {
        let sibling =
            ((0u64..4, 1u64..1000), bytes(64), metadata()).prop_map(|((a, c), value, meta)| {
                Sibling {
                    dot: Dot::new(Actor(a), c),
                    value,
                    meta,
                }
            });
        (
            prop::collection::vec(sibling, 0..4),
            prop::collection::vec((0u64..8, 0u64..2000), 0..4),
        )
            .prop_map(|(siblings, extra)| {
                let clock = siblings
                    .iter()
                    .map(|s| (s.dot.actor, s.dot.counter))
                    .chain(extra.into_iter().map(|(a, c)| (Actor(a), c)))
                    .collect();
                let mut obj = RiakObject { clock, siblings };
                obj.normalize();
                obj
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn object_round_trip(obj in object()) {
            let bytes = encode_object(&obj);
            prop_assert_eq!(decode_object(&bytes).unwrap(), obj.clone());
            let stored = encode_record(&obj);
            prop_assert_eq!(decode_object(&stored).unwrap(), obj);
            prop_assert_eq!(to_wire(stored), bytes);
        }

        #[test]
        fn object_decode_of_random_bytes_never_panics(b in bytes(64)) {
            let _ = decode_object(&b);
            let mut framed = vec![OBJECT_VERSION];
            framed.extend_from_slice(&crc32fast::hash(&b).to_be_bytes());
            framed.extend_from_slice(&b);
            let _ = decode_object(&framed);
        }

        #[test]
        fn context_round_trip(entries in prop::collection::vec((any::<u64>(), any::<u64>()), 0..8)) {
            let clock: VClock = entries.into_iter().map(|(a, c)| (Actor(a), c)).collect();
            prop_assert_eq!(decode_context(&encode_context(&clock)).unwrap(), clock.clone());
            prop_assert_eq!(context_from_base64(&context_to_base64(&clock)).unwrap(), clock);
        }

        #[test]
        fn context_decode_of_random_bytes_never_panics(b in bytes(48), versioned in any::<bool>()) {
            let mut input = b;
            if versioned {
                input.insert(0, CONTEXT_VERSION);
            }
            if let Ok(clock) = decode_context(&input)
                && !input.is_empty()
            {
                // Whatever is accepted is canonical: it encodes back to itself.
                prop_assert_eq!(encode_context(&clock), input);
            }
        }
    }
}
