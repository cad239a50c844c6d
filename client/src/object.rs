//! Values as the SDK hands them out: an object's siblings (`Content`) with
//! their metadata, the opaque causal context, and put/server-info results.
//!
//! These mirror `RpbContent` field by field; conversion to and from the
//! wire structs lives here so the connection code only moves frames.

use bytes::Bytes;
use rill_proto::messages::{RpbContent, RpbGetResp, RpbLink, RpbPair, RpbPutResp};

/// One value of an object (one sibling) with its metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Content {
    pub value: Bytes,
    pub content_type: Option<String>,
    pub charset: Option<String>,
    pub content_encoding: Option<String>,
    /// Set by the server; ignored when writing.
    pub vtag: Option<String>,
    /// Unix seconds and microseconds of the write; set by the server.
    pub last_mod: Option<u32>,
    pub last_mod_usecs: Option<u32>,
    /// User metadata (`X-Riak-Meta-*`), name → value.
    pub usermeta: Vec<(Bytes, Bytes)>,
    /// Secondary index entries, index name (`*_bin` / `*_int`) → term.
    pub indexes: Vec<(Bytes, Bytes)>,
    /// Links as (bucket, key, tag).
    pub links: Vec<Link>,
    /// Whether this sibling is a tombstone.
    pub deleted: bool,
}

/// A link from one object to another.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    pub bucket: Bytes,
    pub key: Bytes,
    pub tag: Bytes,
}

impl Content {
    /// A value with a content type and no other metadata.
    pub fn new(value: impl Into<Bytes>, content_type: impl Into<String>) -> Content {
        Content {
            value: value.into(),
            content_type: Some(content_type.into()),
            ..Content::default()
        }
    }

    /// The wire form of this content.
    pub fn to_wire(&self) -> RpbContent {
        let text = |s: &Option<String>| s.as_ref().map(|s| s.as_bytes().to_vec());
        let pairs = |ps: &[(Bytes, Bytes)]| {
            ps.iter()
                .map(|(k, v)| RpbPair::new(k.to_vec(), v.to_vec()))
                .collect()
        };
        RpbContent {
            value: self.value.to_vec(),
            content_type: text(&self.content_type),
            charset: text(&self.charset),
            content_encoding: text(&self.content_encoding),
            vtag: text(&self.vtag),
            links: self
                .links
                .iter()
                .map(|l| RpbLink {
                    bucket: Some(l.bucket.to_vec()),
                    key: Some(l.key.to_vec()),
                    tag: Some(l.tag.to_vec()),
                })
                .collect(),
            last_mod: self.last_mod,
            last_mod_usecs: self.last_mod_usecs,
            usermeta: pairs(&self.usermeta),
            indexes: pairs(&self.indexes),
            deleted: self.deleted.then_some(true),
        }
    }

    /// Reads a wire content; non-UTF-8 text fields are converted lossily.
    pub fn from_wire(c: RpbContent) -> Content {
        let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
        let pairs = |ps: Vec<RpbPair>| {
            ps.into_iter()
                .map(|p| (Bytes::from(p.key), Bytes::from(p.value.unwrap_or_default())))
                .collect()
        };
        Content {
            value: Bytes::from(c.value),
            content_type: text(c.content_type),
            charset: text(c.charset),
            content_encoding: text(c.content_encoding),
            vtag: text(c.vtag),
            last_mod: c.last_mod,
            last_mod_usecs: c.last_mod_usecs,
            usermeta: pairs(c.usermeta),
            indexes: pairs(c.indexes),
            links: c
                .links
                .into_iter()
                .map(|l| Link {
                    bucket: l.bucket.unwrap_or_default().into(),
                    key: l.key.unwrap_or_default().into(),
                    tag: l.tag.unwrap_or_default().into(),
                })
                .collect(),
            deleted: c.deleted.unwrap_or(false),
        }
    }
}

/// A fetched object: its siblings and causal context.
///
/// A tombstone fetched with `deletedvclock` has a vclock and no siblings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    /// The opaque causal context; send it back with the next write.
    pub vclock: Option<Bytes>,
    /// One entry per sibling; a single entry when there is no conflict.
    pub siblings: Vec<Content>,
    /// The server reports the object unchanged since `if_modified`.
    pub unchanged: bool,
}

impl Object {
    /// The value when there is exactly one sibling.
    pub fn value(&self) -> Option<&Bytes> {
        match self.siblings.as_slice() {
            [one] => Some(&one.value),
            _ => None,
        }
    }

    /// Whether the server holds conflicting values.
    pub fn has_siblings(&self) -> bool {
        self.siblings.len() > 1
    }

    /// Reads a get reply; `None` when it is the empty (not-found) reply.
    pub(crate) fn from_get(resp: RpbGetResp) -> Option<Object> {
        if resp.content.is_empty() && resp.vclock.is_none() && resp.unchanged != Some(true) {
            return None;
        }
        Some(Object {
            vclock: resp.vclock.map(Bytes::from),
            siblings: resp.content.into_iter().map(Content::from_wire).collect(),
            unchanged: resp.unchanged.unwrap_or(false),
        })
    }
}

/// What a put returns: the generated key (when none was given) and, with
/// `return_body` / `return_head`, the stored siblings and new context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutResult {
    pub key: Option<Bytes>,
    pub vclock: Option<Bytes>,
    pub siblings: Vec<Content>,
}

impl PutResult {
    pub(crate) fn from_wire(resp: RpbPutResp) -> PutResult {
        PutResult {
            key: resp.key.map(Bytes::from),
            vclock: resp.vclock.map(Bytes::from),
            siblings: resp.content.into_iter().map(Content::from_wire).collect(),
        }
    }
}

/// The node's name and version, as `RpbGetServerInfoResp` reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    pub node: Option<String>,
    pub server_version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_round_trips_through_the_wire_form() {
        let c = Content {
            value: Bytes::from_static(b"v"),
            content_type: Some("text/plain".into()),
            charset: Some("utf-8".into()),
            content_encoding: None,
            vtag: Some("abc".into()),
            last_mod: Some(7),
            last_mod_usecs: Some(8),
            usermeta: vec![(Bytes::from_static(b"m"), Bytes::from_static(b"x"))],
            indexes: vec![(Bytes::from_static(b"i_bin"), Bytes::from_static(b"t"))],
            links: vec![Link {
                bucket: Bytes::from_static(b"b"),
                key: Bytes::from_static(b"k"),
                tag: Bytes::from_static(b"t"),
            }],
            deleted: true,
        };
        assert_eq!(Content::from_wire(c.to_wire()), c);
    }

    #[test]
    fn empty_get_reply_is_not_found_but_a_tombstone_clock_is_an_object() {
        assert_eq!(Object::from_get(RpbGetResp::default()), None);
        let tomb = Object::from_get(RpbGetResp {
            vclock: Some(b"vc".to_vec()),
            ..RpbGetResp::default()
        })
        .expect("tombstone with clock");
        assert!(tomb.siblings.is_empty());
        assert_eq!(tomb.vclock.as_deref(), Some(&b"vc"[..]));
        assert_eq!(tomb.value(), None);
    }
}
