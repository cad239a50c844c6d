//! The stored form of a data type: `[version u8][msgpack payload]`, the
//! payload being the value's serde form with named fields (so fields can be
//! added later). Decoding checks the version, bounds recursion, and rejects
//! values that break an invariant; integrity checks belong to the object
//! record that carries these bytes.

use super::DataType;
use super::error::{CrdtError, Result};
use serde::Deserialize;

/// Version written by `encode`.
pub const DATATYPE_VERSION: u8 = 1;

/// Recursion limit of the decoder: room for `MAX_MAP_DEPTH` nested maps,
/// small enough that garbage cannot exhaust the stack.
const MAX_DECODE_DEPTH: usize = 512;

pub fn encode(value: &DataType) -> Vec<u8> {
    let mut out = vec![DATATYPE_VERSION];
    // Writing plain data into a Vec cannot fail.
    rmp_serde::encode::write_named(&mut out, value).expect("msgpack encoding of a data type");
    out
}

pub fn decode(bytes: &[u8]) -> Result<DataType> {
    let Some((&version, payload)) = bytes.split_first() else {
        return Err(CrdtError::Decode("empty record".into()));
    };
    if version != DATATYPE_VERSION {
        return Err(CrdtError::UnknownVersion(version));
    }
    let mut de = rmp_serde::Deserializer::from_read_ref(payload);
    de.set_max_depth(MAX_DECODE_DEPTH);
    let value = DataType::deserialize(&mut de).map_err(|e| CrdtError::Decode(e.to_string()))?;
    if !value.validate() {
        return Err(CrdtError::Invalid("data type breaks an invariant"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::object::Actor;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn golden(value: &DataType, expected_hex: &str) {
        let bytes = encode(value);
        assert_eq!(
            hex(&bytes),
            expected_hex,
            "stored form of {value:?} changed"
        );
        assert_eq!(&decode(&bytes).unwrap(), value);
    }

    fn counter() -> DataType {
        let mut dt = DataType::new(DataKind::Counter);
        let op = |n| DtOp::Counter(CounterOp { increment: n });
        dt.apply(op(5), Actor(1), None, 0).unwrap();
        dt.apply(op(-2), Actor(2), None, 0).unwrap();
        dt
    }

    fn set() -> DataType {
        let mut dt = DataType::new(DataKind::Set);
        let add = DtOp::Set(SetOp {
            adds: vec![b"a".to_vec(), b"b".to_vec()],
            removes: vec![],
        });
        dt.apply(add, Actor(1), None, 0).unwrap();
        // A remove whose context this replica has not seen stays deferred.
        let ctx = Context::new([(Actor(2), 1)].into_iter().collect());
        let rm = DtOp::Set(SetOp {
            adds: vec![],
            removes: vec![b"c".to_vec()],
        });
        dt.apply(rm, Actor(1), Some(&ctx), 0).unwrap();
        dt
    }

    fn map() -> DataType {
        let mut dt = DataType::new(DataKind::Map);
        let op = DtOp::Map(MapOp {
            removes: vec![],
            updates: vec![
                (
                    Field::new("c", FieldKind::Counter),
                    FieldOp::Counter(CounterOp { increment: 3 }),
                ),
                (
                    Field::new("r", FieldKind::Register),
                    FieldOp::Register(RegisterOp {
                        assign: b"v".to_vec(),
                    }),
                ),
                (
                    Field::new("f", FieldKind::Flag),
                    FieldOp::Flag(FlagOp::Enable),
                ),
                (
                    Field::new("m", FieldKind::Map),
                    FieldOp::Map(MapOp {
                        removes: vec![],
                        updates: vec![(
                            Field::new("s", FieldKind::Set),
                            FieldOp::Set(SetOp {
                                adds: vec![b"x".to_vec()],
                                removes: vec![],
                            }),
                        )],
                    }),
                ),
            ],
        });
        dt.apply(op, Actor(1), None, 1_000).unwrap();
        dt
    }

    fn hll() -> DataType {
        let mut dt = DataType::new_hll(4).unwrap();
        let op = DtOp::Hll(HllOp {
            adds: vec![b"a".to_vec(), b"b".to_vec()],
        });
        dt.apply(op, Actor(1), None, 0).unwrap();
        dt
    }

    fn gset() -> DataType {
        let mut dt = DataType::new(DataKind::GSet);
        let op = DtOp::GSet(GSetOp {
            adds: vec![b"b".to_vec(), b"a".to_vec()],
        });
        dt.apply(op, Actor(1), None, 0).unwrap();
        dt
    }

    #[test]
    fn golden_counter() {
        golden(&counter(), GOLDEN_COUNTER);
    }

    #[test]
    fn golden_set() {
        golden(&set(), GOLDEN_SET);
    }

    #[test]
    fn golden_map() {
        golden(&map(), GOLDEN_MAP);
    }

    #[test]
    fn golden_hll() {
        golden(&hll(), GOLDEN_HLL);
    }

    #[test]
    fn golden_gset() {
        golden(&gset(), GOLDEN_GSET);
    }

    const GOLDEN_COUNTER: &str = "0181a7436f756e74657281a7656e7472696573820192050002920002";
    const GOLDEN_SET: &str = concat!(
        "0181a353657483a5636c6f636b91920102a7656e747269657382c4016191920101c4016291920102",
        "a8646566657272656491929192020191c40163",
    );
    const GOLDEN_MAP: &str = concat!(
        "0181a34d617083a5636c6f636b91920101a66669656c6473949282a46e616d65c40163a46b696e64",
        "a7436f756e74657282a6636f70696573919282a56163746f7201a7636f756e7465720181a7436f75",
        "6e74657282a5636c6f636b91920101a7656e7472696573810183a56576656e7401a3696e6303a364",
        "656300a9746f6d6273746f6e6581a7436f756e74657282a5636c6f636b90a7656e74726965738092",
        "82a46e616d65c40166a46b696e64a4466c616782a6636f70696573919282a56163746f7201a7636f",
        "756e7465720181a4466c616783a5636c6f636b91920101a4646f747391920101a864656665727265",
        "6490a9746f6d6273746f6e6581a4466c616783a5636c6f636b90a4646f747390a864656665727265",
        "64909282a46e616d65c4016da46b696e64a34d617082a6636f70696573919282a56163746f7201a7",
        "636f756e7465720181a34d617083a5636c6f636b91920101a66669656c6473919282a46e616d65c4",
        "0173a46b696e64a353657482a6636f70696573919282a56163746f7201a7636f756e7465720181a3",
        "53657483a5636c6f636b91920101a7656e747269657381c4017891920101a8646566657272656490",
        "a9746f6d6273746f6e6581a353657483a5636c6f636b90a7656e747269657380a864656665727265",
        "6490a8646566657272656490a9746f6d6273746f6e6581a34d617083a5636c6f636b90a66669656c",
        "647390a86465666572726564909282a46e616d65c40172a46b696e64a8526567697374657282a663",
        "6f70696573919282a56163746f7201a7636f756e7465720181a8526567697374657282a576616c75",
        "65c40176a27473cd03e8a9746f6d6273746f6e6581a8526567697374657282a576616c7565c400a2",
        "747300a8646566657272656490",
    );
    const GOLDEN_HLL: &str = "0181a3486c6c83a17004a564656e7365c400a6737061727365c406000502000e02";
    const GOLDEN_GSET: &str = "0181a44753657481a76d656d6265727392c40161c40162";

    #[test]
    fn dense_hll_round_trips() {
        let mut h = Hll::with_precision(4).unwrap();
        for i in 0..200u32 {
            h.add(&i.to_be_bytes());
        }
        let dt = DataType::Hll(h);
        assert_eq!(decode(&encode(&dt)).unwrap(), dt);
    }

    #[test]
    fn deepest_map_round_trips() {
        let mut op = MapOp {
            removes: vec![],
            updates: vec![(
                Field::new("leaf", FieldKind::Flag),
                FieldOp::Flag(FlagOp::Enable),
            )],
        };
        for _ in 1..MAX_MAP_DEPTH {
            op = MapOp {
                removes: vec![],
                updates: vec![(Field::new("m", FieldKind::Map), FieldOp::Map(op))],
            };
        }
        let mut dt = DataType::new(DataKind::Map);
        dt.apply(DtOp::Map(op.clone()), Actor(1), None, 0).unwrap();
        assert_eq!(decode(&encode(&dt)).unwrap(), dt);
        let too_deep = MapOp {
            removes: vec![],
            updates: vec![(Field::new("m", FieldKind::Map), FieldOp::Map(op))],
        };
        assert!(matches!(
            dt.apply(DtOp::Map(too_deep), Actor(1), None, 0),
            Err(CrdtError::InvalidOp(_))
        ));
    }

    #[test]
    fn rejects_bad_records() {
        assert!(matches!(decode(&[]), Err(CrdtError::Decode(_))));
        assert_eq!(decode(&[9, 0x80]), Err(CrdtError::UnknownVersion(9)));
        let mut bytes = encode(&map());
        bytes.truncate(bytes.len() - 3);
        assert!(decode(&bytes).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn decode_never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&bytes);
            let mut versioned = vec![DATATYPE_VERSION];
            versioned.extend_from_slice(&bytes);
            let _ = decode(&versioned);
        }

        #[test]
        fn decode_never_panics_on_damaged_records(
            which in 0usize..5,
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut bytes = encode(&[counter(), set(), map(), hll(), gset()][which]);
            for (i, b) in flips {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
            let _ = decode(&bytes);
        }
    }
}
