//! How objects are laid out in a vnode's ordered store.
//!
//! An object key is `0x01 ‖ u16 type len ‖ type ‖ u16 bucket len ‖ bucket ‖ key`,
//! so all keys of one bucket are contiguous (list keys is a prefix scan) and
//! buckets can be skipped over (list buckets seeks past each one). Keys under
//! `0x00` hold the vnode's own metadata, such as its actor id.

use crate::error::{KvError, Result};
use crate::request::BucketKey;

const OBJECT: u8 = 0x01;
const VNODE_META: u8 = 0x00;

/// The largest stored key fjall accepts is 64 KiB; keep within it.
pub const MAX_STORED_KEY: usize = 65_535;

/// The stored key of a vnode metadata entry.
pub fn vnode_meta(name: &str) -> Vec<u8> {
    let mut k = vec![VNODE_META];
    k.extend_from_slice(name.as_bytes());
    k
}

/// The prefix shared by every object of a bucket.
pub fn bucket_prefix(bucket_type: &[u8], bucket: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(5 + bucket_type.len() + bucket.len());
    k.push(OBJECT);
    k.extend_from_slice(&(bucket_type.len() as u16).to_be_bytes());
    k.extend_from_slice(bucket_type);
    k.extend_from_slice(&(bucket.len() as u16).to_be_bytes());
    k.extend_from_slice(bucket);
    k
}

/// The prefix shared by every object of a bucket type.
pub fn type_prefix(bucket_type: &[u8]) -> Vec<u8> {
    let mut k = vec![OBJECT];
    k.extend_from_slice(&(bucket_type.len() as u16).to_be_bytes());
    k.extend_from_slice(bucket_type);
    k
}

/// The stored key of an object; fails for names too long to store.
pub fn object_key(bk: &BucketKey) -> Result<Vec<u8>> {
    let len = 5 + bk.bucket_type.len() + bk.bucket.len() + bk.key.len();
    if bk.bucket_type.len() > u16::MAX as usize
        || bk.bucket.len() > u16::MAX as usize
        || len > MAX_STORED_KEY
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
    let rest = k.strip_prefix(&[OBJECT])?;
    let (bucket_type, rest) = take_u16_prefixed(rest)?;
    let (bucket, key) = take_u16_prefixed(rest)?;
    Some(BucketKey::new(bucket_type, bucket, key))
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
        assert_eq!(decode_object_key(&vnode_meta("actor")), None);
    }
}
