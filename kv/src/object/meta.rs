//! Per-sibling metadata (content type, vtag, last-modified, user metadata,
//! links, index entries, deleted flag) and vtag generation.
//!
//! The coordinator stamps vtag and last-modified; the HTTP and PB layers map
//! these fields to headers and `RpbContent` fields.

use rand::Rng;

/// Content type of a value stored without one.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Number of characters in a vtag.
pub const VTAG_LEN: usize = 22;

/// A link to another object (Riak's `Links` metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    pub bucket: Vec<u8>,
    pub key: Vec<u8>,
    pub tag: Vec<u8>,
}

/// Metadata of one sibling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Metadata {
    pub content_type: String,
    pub charset: Option<String>,
    pub content_encoding: Option<String>,
    /// Unique per write; clients use it to tell siblings apart.
    pub vtag: String,
    /// Microseconds since the Unix epoch, stamped by the coordinator.
    pub last_modified_us: u64,
    pub usermeta: Vec<(Vec<u8>, Vec<u8>)>,
    pub links: Vec<Link>,
    /// Secondary index entries: field name (e.g. `b"email_bin"`) and value.
    pub indexes: Vec<(Vec<u8>, Vec<u8>)>,
    /// Set on tombstones (Riak's `X-Riak-Deleted`).
    pub deleted: bool,
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            content_type: DEFAULT_CONTENT_TYPE.to_string(),
            charset: None,
            content_encoding: None,
            vtag: String::new(),
            last_modified_us: 0,
            usermeta: Vec::new(),
            links: Vec::new(),
            indexes: Vec::new(),
            deleted: false,
        }
    }
}

impl Metadata {
    /// Metadata of a tombstone written at `last_modified_us`.
    pub fn tombstone(vtag: String, last_modified_us: u64) -> Self {
        Metadata {
            vtag,
            last_modified_us,
            deleted: true,
            ..Metadata::default()
        }
    }

    /// Rough in-memory size in bytes, for the object size limit.
    pub fn approx_size(&self) -> usize {
        // Fixed part: the integers, flags and per-field framing.
        const FIXED: usize = 32;
        let pairs =
            |v: &[(Vec<u8>, Vec<u8>)]| v.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>();
        FIXED
            + self.content_type.len()
            + self.charset.as_ref().map_or(0, String::len)
            + self.content_encoding.as_ref().map_or(0, String::len)
            + self.vtag.len()
            + pairs(&self.usermeta)
            + pairs(&self.indexes)
            + self
                .links
                .iter()
                .map(|l| l.bucket.len() + l.key.len() + l.tag.len() + 6)
                .sum::<usize>()
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh vtag: 128 random bits written as 22 base-62 characters
/// (62^22 > 2^128, so every 128-bit value has its own vtag).
pub fn new_vtag<R: Rng + ?Sized>(rng: &mut R) -> String {
    let mut n = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    let mut out = [0u8; VTAG_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn vtags_are_base62_and_distinct() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = new_vtag(&mut rng);
        let b = new_vtag(&mut rng);
        assert_eq!(a.len(), VTAG_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn default_content_type() {
        let m = Metadata::default();
        assert_eq!(m.content_type, "application/octet-stream");
        assert!(!m.deleted);
        let t = Metadata::tombstone("x".into(), 5);
        assert!(t.deleted);
        assert_eq!(t.last_modified_us, 5);
    }

    #[test]
    fn approx_size_counts_variable_fields() {
        let small = Metadata::default().approx_size();
        let mut m = Metadata::default();
        m.usermeta.push((vec![0; 100], vec![0; 100]));
        m.indexes.push((b"email_bin".to_vec(), vec![0; 50]));
        assert!(m.approx_size() >= small + 259);
    }
}
