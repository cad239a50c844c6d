//! The `multipart/mixed` body of an object with siblings: one part per
//! sibling carrying that sibling's headers and value, framed as Riak frames
//! it (`\r\n--B\r\n` before each part, `\r\n--B--\r\n` at the end).
//! The boundary is chosen by the caller.

use crate::headers::{content_type_value, format_links, http_date};
use crate::routes::ApiVersion;
use rill_kv::object::RiakObject;

/// The multipart body for every sibling of `obj`, in stored order.
pub fn siblings_body(api: ApiVersion, bucket: &[u8], obj: &RiakObject, boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for sib in &obj.siblings {
        let meta = &sib.meta;
        out.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        let mut head = format!(
            "Content-Type: {}\r\n",
            content_type_value(&meta.content_type, meta.charset.as_deref())
        );
        if let Some(enc) = &meta.content_encoding {
            head.push_str(&format!("Content-Encoding: {enc}\r\n"));
        }
        head.push_str(&format!(
            "Link: {}\r\n",
            format_links(api, bucket, &meta.links)
        ));
        head.push_str(&format!("Etag: {}\r\n", meta.vtag));
        head.push_str(&format!(
            "Last-Modified: {}\r\n",
            http_date(meta.last_modified_us / 1_000_000)
        ));
        if meta.deleted {
            head.push_str("X-Riak-Deleted: true\r\n");
        }
        out.extend_from_slice(head.as_bytes());
        for (k, v) in &meta.usermeta {
            out.extend_from_slice(b"X-Riak-Meta-");
            out.extend_from_slice(k);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        for (field, v) in &meta.indexes {
            out.extend_from_slice(b"x-riak-index-");
            out.extend_from_slice(field);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&sib.value);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}
