//! How objects are laid out in a vnode's ordered store, and how their keys
//! travel between nodes.
//!
//! Stored form, short so that the keys of typical names fit in the 20 bytes
//! the engine keeps inline (a comparison then needs no second memory
//! access; docs/decisions/0015):
//!
//! - the `default` type: `0x02 ‖ len bucket ‖ bucket ‖ key`;
//! - any other type: `0x03 ‖ len type ‖ type ‖ len bucket ‖ bucket ‖ key`.
//!
//! `len` is a LEB128 varint, one byte under 128. Lengths make every
//! `(type, bucket)` prefix self-delimiting, so all keys of one bucket are
//! contiguous (list keys is a prefix scan) and no other bucket's key shares
//! the prefix (list buckets seeks past each one). Keys under `0x00` hold the
//! vnode's own metadata, such as its actor id.
//!
//! Wire form, between nodes: `0x01 ‖ u16 type len ‖ type ‖ u16 bucket len ‖
//! bucket ‖ key`, the layout stores had before. Every node sends and accepts
//! it, whichever form it stores, so nodes of both versions can run in one
//! cluster; a store still holding keys of that form is rewritten when its
//! vnode opens ([`migrate`]).

use crate::error::{KvError, Result};
use crate::request::BucketKey;
use rill_storage::{Store, WriteBatch};
use std::ops::Bound;

const VNODE_META: u8 = 0x00;
/// The wire form, and the stored form before decision 0015.
const WIRE_OBJECT: u8 = 0x01;
const DEFAULT_TYPE_OBJECT: u8 = 0x02;
const TYPED_OBJECT: u8 = 0x03;
const DEFAULT_TYPE: &[u8] = b"default";

/// The largest stored key fjall accepts is 64 KiB; keep within it. The
/// limit applies to the wire form, the longer of the two, so a peer of
/// either version can store what it is sent.
pub const MAX_STORED_KEY: usize = 65_535;

/// The first stored key of any object, of either form: scans of every
/// object start here.
pub const OBJECTS_START: u8 = WIRE_OBJECT;

/// The stored key of a vnode metadata entry.
pub fn vnode_meta(name: &str) -> Vec<u8> {
    let mut k = vec![VNODE_META];
    k.extend_from_slice(name.as_bytes());
    k
}

/// The prefix shared by every object of a bucket.
pub fn bucket_prefix(bucket_type: &[u8], bucket: &[u8]) -> Vec<u8> {
    let mut k = type_prefix(bucket_type);
    put_len(&mut k, bucket.len());
    k.extend_from_slice(bucket);
    k
}

/// The prefix shared by every object of a bucket type.
pub fn type_prefix(bucket_type: &[u8]) -> Vec<u8> {
    if bucket_type == DEFAULT_TYPE {
        return vec![DEFAULT_TYPE_OBJECT];
    }
    let mut k = Vec::with_capacity(bucket_type.len() + 3);
    k.push(TYPED_OBJECT);
    put_len(&mut k, bucket_type.len());
    k.extend_from_slice(bucket_type);
    k
}

/// The stored key of an object; fails for names too long to store.
pub fn object_key(bk: &BucketKey) -> Result<Vec<u8>> {
    let wire_len = 5 + bk.bucket_type.len() + bk.bucket.len() + bk.key.len();
    if bk.bucket_type.len() > u16::MAX as usize
        || bk.bucket.len() > u16::MAX as usize
        || wire_len > MAX_STORED_KEY
    {
        return Err(KvError::BadRequest(format!(
            "bucket type, bucket and key together must be under {MAX_STORED_KEY} bytes"
        )));
    }
    let mut k = bucket_prefix(&bk.bucket_type, &bk.bucket);
    k.extend_from_slice(&bk.key);
    Ok(k)
}

/// Splits a stored object key back into type, bucket and key.
pub fn decode_object_key(k: &[u8]) -> Option<BucketKey> {
    let (&tag, rest) = k.split_first()?;
    let (bucket_type, rest) = match tag {
        DEFAULT_TYPE_OBJECT => (DEFAULT_TYPE, rest),
        TYPED_OBJECT => take_len_prefixed(rest)?,
        _ => return None,
    };
    let (bucket, key) = take_len_prefixed(rest)?;
    Some(BucketKey::new(bucket_type, bucket, key))
}

/// The wire form of a stored object key (unchanged if it is not one).
pub fn to_wire(stored: &[u8]) -> Vec<u8> {
    let Some(bk) = decode_object_key(stored) else {
        return stored.to_vec();
    };
    let mut k = Vec::with_capacity(5 + bk.bucket_type.len() + bk.bucket.len() + bk.key.len());
    k.push(WIRE_OBJECT);
    for part in [&bk.bucket_type, &bk.bucket] {
        k.extend_from_slice(&(part.len() as u16).to_be_bytes());
        k.extend_from_slice(part);
    }
    k.extend_from_slice(&bk.key);
    k
}

/// The stored form of an object key received from a peer.
pub fn from_wire(wire: &[u8]) -> Result<Vec<u8>> {
    let bk = decode_wire(wire)
        .ok_or_else(|| KvError::BadRequest("a peer sent a malformed object key".into()))?;
    object_key(&bk)
}

fn decode_wire(k: &[u8]) -> Option<BucketKey> {
    let rest = k.strip_prefix(&[WIRE_OBJECT])?;
    let (bucket_type, rest) = take_u16_prefixed(rest)?;
    let (bucket, key) = take_u16_prefixed(rest)?;
    Some(BucketKey::new(bucket_type, bucket, key))
}

/// Rewrites the object keys a store still holds in the wire form (the
/// stored form before decision 0015) into the stored form, `BATCH` at a
/// time, each batch one atomic write: a crash part-way leaves every object
/// under exactly one key, and the next open carries on. Returns how many it
/// rewrote; a key that does not decode is left where it is and logged.
pub fn migrate(store: &dyn Store) -> Result<u64> {
    const BATCH: usize = 1_000;
    let end = Bound::Excluded(vec![WIRE_OBJECT + 1]);
    let mut from = Bound::Included(vec![WIRE_OBJECT]);
    let mut moved = 0;
    loop {
        let rows = store
            .range(from, end.clone())
            .take(BATCH)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let Some((last, _)) = rows.last() else {
            return Ok(moved);
        };
        from = Bound::Excluded(last.clone());
        let mut batch = WriteBatch::new();
        for (k, v) in rows {
            match decode_wire(&k).and_then(|bk| object_key(&bk).ok()) {
                Some(stored) => {
                    batch.put(stored, v).delete(k);
                    moved += 1;
                }
                None => tracing::warn!(key = ?k, "stored key of an unknown form left in place"),
            }
        }
        if !batch.is_empty() {
            store.write_batch(batch)?;
        }
    }
}

fn put_len(k: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        k.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    k.push(n as u8);
}

/// A LEB128 length of at most three bytes (names are under 64 KiB), then
/// that many bytes.
fn take_len_prefixed(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut n = 0usize;
    for (i, &byte) in b.iter().enumerate().take(3) {
        if i > 0 && byte == 0 {
            return None; // not the shortest form: no stored key has it
        }
        n |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let rest = &b[i + 1..];
            return (rest.len() >= n).then(|| rest.split_at(n));
        }
    }
    None
}

fn take_u16_prefixed(b: &[u8]) -> Option<(&[u8], &[u8])> {
    if b.len() < 2 {
        return None;
    }
    let n = u16::from_be_bytes([b[0], b[1]]) as usize;
    let rest = &b[2..];
    (rest.len() >= n).then(|| rest.split_at(n))
}

/// The smallest key greater than every key that starts with `prefix`
/// (None when no such key exists: the prefix is all 0xFF).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut s = prefix.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xFF {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_round_trip_and_group_by_bucket() {
        let a = BucketKey::new(b"default", b"b", b"k\x00\xff");
        let k = object_key(&a).unwrap();
        assert_eq!(decode_object_key(&k), Some(a.clone()));
        assert!(k.starts_with(&bucket_prefix(b"default", b"b")));
        assert!(k.starts_with(&type_prefix(b"default")));
        // A bucket whose name extends another's does not share its prefix.
        let other = object_key(&BucketKey::new(b"default", b"bb", b"k")).unwrap();
        assert!(!other.starts_with(&bucket_prefix(b"default", b"b")));
    }

    #[test]
    fn successor_skips_the_whole_prefix() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff, 0xff]), None);
    }

    #[test]
    fn oversized_keys_are_refused() {
        let big = vec![b'x'; MAX_STORED_KEY];
        assert!(matches!(
            object_key(&BucketKey::new(b"default", b"b", &big)),
            Err(KvError::BadRequest(_))
        ));
    }

    #[test]
    fn garbage_does_not_decode() {
        assert_eq!(decode_object_key(&[]), None);
        assert_eq!(decode_object_key(&[1, 0, 9, b'a']), None);
        assert_eq!(decode_object_key(&[3, 9, b'a']), None);
        // A length not in its shortest form is no stored key.
        assert_eq!(decode_object_key(&[2, 0x81, 0x00, b'b']), None);
        assert_eq!(decode_object_key(&vnode_meta("actor")), None);
        assert!(matches!(
            from_wire(&[2, 1, b'b']),
            Err(KvError::BadRequest(_))
        ));
    }

    /// The load generator's keys (bucket `rill-bench`, up to seven digits)
    /// stay within the engine's 20 inline bytes with its one-byte tag.
    #[test]
    fn default_type_keys_are_short() {
        let k = object_key(&BucketKey::new(b"default", b"rill-bench", b"9999999")).unwrap();
        assert_eq!(k.len(), 19);
        assert_eq!(k[..2], [DEFAULT_TYPE_OBJECT, 10]);
    }

    /// The wire form is the layout stores had before, byte for byte.
    #[test]
    fn the_wire_form_is_the_old_layout() {
        let k = object_key(&BucketKey::new(b"default", b"b", b"k")).unwrap();
        let mut old = vec![1, 0, 7];
        old.extend_from_slice(b"default");
        old.extend_from_slice(&[0, 1, b'b', b'k']);
        assert_eq!(to_wire(&k), old);
        assert_eq!(from_wire(&old).unwrap(), k);
        // Other keys travel as they are.
        assert_eq!(to_wire(&vnode_meta("actor")), vnode_meta("actor"));
    }

    fn legacy_store(n: usize) -> std::sync::Arc<dyn Store> {
        let store = rill_storage::memory().store("kv.0").unwrap();
        store.put(&vnode_meta("actor"), b"12345678").unwrap();
        for i in 0..n {
            let bk = BucketKey::new(
                if i % 2 == 0 {
                    b"default".as_slice()
                } else {
                    b"maps"
                },
                b"b",
                i.to_string().as_bytes(),
            );
            let old = to_wire(&object_key(&bk).unwrap());
            store.put(&old, i.to_string().as_bytes()).unwrap();
        }
        store
    }

    #[test]
    fn migrate_rewrites_every_old_key_once() {
        let store = legacy_store(2_500);
        assert_eq!(migrate(store.as_ref()).unwrap(), 2_500);
        let all: Vec<_> = store
            .range(Bound::Unbounded, Bound::Unbounded)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(all.len(), 2_501);
        assert_eq!(all[0], (vnode_meta("actor"), b"12345678".to_vec()));
        for (k, v) in &all[1..] {
            let bk = decode_object_key(k).expect("stored form");
            assert_eq!(&bk.key, v, "each value stays with its key");
        }
        assert_eq!(migrate(store.as_ref()).unwrap(), 0, "nothing left to move");
    }

    #[test]
    fn migrate_leaves_undecodable_keys_and_finishes() {
        let store = legacy_store(3);
        store.put(&[WIRE_OBJECT, 0xff], b"?").unwrap();
        assert_eq!(migrate(store.as_ref()).unwrap(), 3);
        assert_eq!(
            store.get(&[WIRE_OBJECT, 0xff]).unwrap(),
            Some(b"?".to_vec())
        );
    }

    fn name() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(b"default".to_vec()),
            proptest::collection::vec(any::<u8>(), 1..300),
        ]
    }

    proptest::proptest! {
        /// Stored and wire forms round-trip, and a bucket's prefix starts
        /// exactly its own keys.
        #[test]
        fn forms_round_trip_and_prefixes_separate(
            t1 in name(), b1 in name(), k1 in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            t2 in name(), b2 in name(), k2 in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let a = BucketKey::new(&t1, &b1, &k1);
            let b = BucketKey::new(&t2, &b2, &k2);
            let (ka, kb) = (object_key(&a).unwrap(), object_key(&b).unwrap());
            proptest::prop_assert_eq!(decode_object_key(&ka), Some(a.clone()));
            proptest::prop_assert_eq!(from_wire(&to_wire(&ka)).unwrap(), ka.clone());
            proptest::prop_assert_eq!(decode_wire(&to_wire(&ka)), Some(a.clone()));
            let same_bucket = (&t1, &b1) == (&t2, &b2);
            proptest::prop_assert_eq!(kb.starts_with(&bucket_prefix(&t1, &b1)), same_bucket);
            proptest::prop_assert_eq!(kb.starts_with(&type_prefix(&t1)), t1 == t2);
        }
    }
}
