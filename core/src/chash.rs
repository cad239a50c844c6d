//! Key hashing, as riak_core's `chash` does it.
//!
//! A key's position on the ring is the SHA-1 of the Erlang external term
//! encoding of `{Bucket, Key}` (typed buckets: `{{Type, Bucket}, Key}`), so a
//! key lands on the same partition as it would in Riak. Only the default type
//! hashes the two-element form.

use sha1::{Digest, Sha1};

/// A 160-bit position on the ring.
pub type HashKey = [u8; 20];

const TERM_VERSION: u8 = 131;
const SMALL_TUPLE_EXT: u8 = 104;
const BINARY_EXT: u8 = 109;

fn push_binary(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(BINARY_EXT);
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The external term bytes Riak hashes for a bucket/key pair.
pub fn term_bytes(bucket_type: &[u8], bucket: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + bucket_type.len() + bucket.len() + key.len());
    out.extend_from_slice(&[TERM_VERSION, SMALL_TUPLE_EXT, 2]);
    if bucket_type != b"default" {
        out.extend_from_slice(&[SMALL_TUPLE_EXT, 2]);
        push_binary(&mut out, bucket_type);
    }
    push_binary(&mut out, bucket);
    push_binary(&mut out, key);
    out
}

/// SHA-1 of the key's term encoding: its position on the ring.
pub fn key_hash(bucket_type: &[u8], bucket: &[u8], key: &[u8]) -> HashKey {
    Sha1::digest(term_bytes(bucket_type, bucket, key)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: &HashKey) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn matches_riak_vector() {
        // chash_key({<<"mybucket">>, <<"mykey">>}) in Riak.
        let h = key_hash(b"default", b"mybucket", b"mykey");
        assert_eq!(hex(&h), "78d9565d2918446ccc6d3b4fd32634019d037c3a");
    }

    #[test]
    fn typed_bucket_nests_the_tuple() {
        let t = term_bytes(b"maps", b"b", b"k");
        assert_eq!(&t[..5], &[131, 104, 2, 104, 2]);
        assert_ne!(
            key_hash(b"maps", b"b", b"k"),
            key_hash(b"default", b"b", b"k")
        );
    }
}
