//! Riak's object headers in both directions: Content-Type and charset,
//! `Link`, `X-Riak-Meta-*`, `X-Riak-Index-*`, `X-Riak-Vclock`, ETags, HTTP
//! dates and `Accept` negotiation, plus URL quoting and base-62 ids.
//! Pure functions over header values; the handlers in `object` decide when
//! each applies.

use crate::error::HttpError;
use crate::params::form_decode;
use crate::routes::ApiVersion;
use axum::http::HeaderMap;
use rill_kv::object::{Link, VClock};
use std::cmp::Ordering;

pub const USERMETA_PREFIX: &str = "x-riak-meta-";
pub const INDEX_PREFIX: &str = "x-riak-index-";
pub const VCLOCK: &str = "x-riak-vclock";

// ---------------------------------------------------------------- URLs

/// Quotes bytes for a URL path segment as `quote_plus` does: unreserved
/// characters stay, a space becomes `+`, everything else is `%XX`.
pub fn url_quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The URI of an object, in the form of the request's API family.
pub fn object_uri(api: ApiVersion, bucket_type: &[u8], bucket: &[u8], key: &[u8]) -> String {
    match api {
        ApiVersion::V1 => format!("/riak/{}/{}", url_quote(bucket), url_quote(key)),
        ApiVersion::V2 => format!("/buckets/{}/keys/{}", url_quote(bucket), url_quote(key)),
        ApiVersion::V3 => format!(
            "/types/{}/buckets/{}/keys/{}",
            url_quote(bucket_type),
            url_quote(bucket),
            url_quote(key)
        ),
    }
}

// ---------------------------------------------------------------- ids

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base-62 digits of a big-endian unsigned number.
pub fn base62(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = Vec::new();
    let mut num: Vec<u8> = bytes.to_vec();
    while num.iter().any(|&b| b != 0) {
        let mut rem: u32 = 0;
        for byte in num.iter_mut() {
            let acc = (rem << 8) | u32::from(*byte);
            *byte = (acc / 62) as u8;
            rem = acc % 62;
        }
        digits.push(BASE62[rem as usize]);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

/// A fresh unique id: 160 random bits in base 62 (about 27 characters), as
/// Riak generates keys for `POST` without a key and multipart boundaries.
pub fn unique_id_62() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut bytes = [0u8; 20];
    rng.fill_bytes(&mut bytes);
    // Keep the leading digit non-zero so every id has the same length class.
    bytes[0] |= 0x80;
    base62(&bytes)
}

/// 128-bit FNV-1a: a stable digest for ETags of sibling sets.
fn fnv1a_128(data: &[u8]) -> [u8; 16] {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for &b in data {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h.to_be_bytes()
}

/// The ETag of an object with siblings: base 62 of a digest of its clock.
pub fn clock_etag(clock_b64: &str) -> String {
    base62(&fnv1a_128(clock_b64.as_bytes()))
}

// ---------------------------------------------------------------- vclock

/// `X-Riak-Vclock` value for a clock (base64 of the opaque context).
pub fn encode_vclock(clock: &VClock) -> String {
    rill_kv::object::context_to_base64(clock)
}

/// Decodes a client's `X-Riak-Vclock` (or `X-Riak-If-Not-Modified`) value.
pub fn decode_vclock(header: &str, value: &str) -> Result<VClock, HttpError> {
    rill_kv::object::context_from_base64(value.trim()).map_err(|e| {
        HttpError::bad_request(format!(
            "Invalid {header} header: not a causal context this node issued ({e})\n"
        ))
    })
}

/// The request's `X-Riak-Vclock`, if any.
pub fn request_vclock(headers: &HeaderMap) -> Result<Option<VClock>, HttpError> {
    match header_str(headers, VCLOCK)? {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => decode_vclock("X-Riak-Vclock", v).map(Some),
    }
}

/// A header as text; a header with non-ASCII bytes is a 400.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, HttpError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| HttpError::bad_request(format!("Invalid {name} header\n"))),
    }
}

// ---------------------------------------------------------------- content type

/// Splits a Content-Type into the media type and the charset parameter
/// (quotes removed). Riak stores the two separately.
pub fn parse_content_type(value: &str) -> (String, Option<String>) {
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim().to_string();
    let mut charset = None;
    for p in parts {
        if let Some((k, v)) = p.split_once('=')
            && k.trim().eq_ignore_ascii_case("charset")
        {
            let v = v.trim().trim_matches('"');
            if !v.is_empty() {
                charset = Some(v.to_string());
            }
        }
    }
    (media, charset)
}

/// The Content-Type to send for a stored value.
pub fn content_type_value(content_type: &str, charset: Option<&str>) -> String {
    match charset {
        Some(cs) => format!("{content_type}; charset={cs}"),
        None => content_type.to_string(),
    }
}

/// Whether a media type has the `type/subtype` shape Riak requires.
pub fn is_media_type(media: &str) -> bool {
    let mut it = media.split('/');
    matches!((it.next(), it.next(), it.next()), (Some(t), Some(s), None) if !t.is_empty() && !s.is_empty())
}

// ---------------------------------------------------------------- links

/// Parses the request's `Link` headers into object links. The only bucket
/// link allowed is `rel="up"` to the object's own bucket (it is dropped);
/// anything unparsable is Riak's 400.
pub fn parse_links(
    headers: &HeaderMap,
    api: ApiVersion,
    own_bucket: &[u8],
) -> Result<Vec<Link>, HttpError> {
    let mut links = Vec::new();
    let invalid = || {
        let form = match api {
            ApiVersion::V1 => "</riak/BUCKET/KEY>; riaktag=\"TAG\"",
            _ => "</buckets/BUCKET/keys/KEY>; riaktag=\"TAG\"",
        };
        HttpError::bad_request(format!(
            "Invalid Link header. Links must be of the form\n{form}\n"
        ))
    };
    for value in headers.get_all("link") {
        let value = value.to_str().map_err(|_| invalid())?;
        for item in value.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            match parse_link_item(item) {
                Some(LinkItem::Key(link)) => links.push(link),
                Some(LinkItem::Bucket { bucket, rel }) => {
                    if bucket != own_bucket || rel != b"up" {
                        return Err(invalid());
                    }
                }
                None => return Err(invalid()),
            }
        }
    }
    Ok(links)
}

enum LinkItem {
    Key(Link),
    Bucket { bucket: Vec<u8>, rel: Vec<u8> },
}

/// One `<uri>; riaktag="tag"` or `<uri>; rel="up"` item, in either URL family.
fn parse_link_item(item: &str) -> Option<LinkItem> {
    let rest = item.strip_prefix('<')?;
    let (uri, params) = rest.split_once('>')?;
    let params = params.trim_start().strip_prefix(';')?.trim_start();
    let (pname, pvalue) = params.split_once('=')?;
    let pvalue = pvalue.trim().strip_prefix('"')?.strip_suffix('"')?;
    if pvalue.contains('"') {
        return None;
    }
    let segs: Vec<&str> = uri.strip_prefix('/')?.split('/').collect();
    let nonempty = |s: &&str| !s.is_empty();
    match pname.trim() {
        "riaktag" => {
            let (bucket, key) = match segs.as_slice() {
                ["buckets", b, "keys", k] if nonempty(b) && nonempty(k) => (*b, *k),
                ["riak", b, k] if nonempty(b) && nonempty(k) => (*b, *k),
                _ => return None,
            };
            Some(LinkItem::Key(Link {
                bucket: form_decode(bucket),
                key: form_decode(key),
                tag: form_decode(pvalue),
            }))
        }
        "rel" => {
            let bucket = match segs.as_slice() {
                ["buckets", b] | ["riak", b] if nonempty(b) => *b,
                _ => return None,
            };
            Some(LinkItem::Bucket {
                bucket: form_decode(bucket),
                rel: form_decode(pvalue),
            })
        }
        _ => None,
    }
}

/// The `Link` header of a stored value: `rel="up"` to its bucket, then one
/// entry per link, in the request's URL family.
pub fn format_links(api: ApiVersion, bucket: &[u8], links: &[Link]) -> String {
    let mut parts = Vec::with_capacity(links.len() + 1);
    parts.push(match api {
        ApiVersion::V1 => format!("</riak/{}>; rel=\"up\"", url_quote(bucket)),
        _ => format!("</buckets/{}>; rel=\"up\"", url_quote(bucket)),
    });
    for l in links {
        let uri = match api {
            ApiVersion::V1 => format!("/riak/{}/{}", url_quote(&l.bucket), url_quote(&l.key)),
            _ => format!(
                "/buckets/{}/keys/{}",
                url_quote(&l.bucket),
                url_quote(&l.key)
            ),
        };
        parts.push(format!("<{uri}>; riaktag=\"{}\"", url_quote(&l.tag)));
    }
    parts.join(", ")
}

// ---------------------------------------------------------------- user metadata

/// `X-Riak-Meta-<name>` request headers as (name, value) pairs; the name is
/// stored without the prefix (as PB carries it), repeated headers joined.
pub fn parse_usermeta(headers: &HeaderMap) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (name, value) in headers {
        let Some(key) = name.as_str().strip_prefix(USERMETA_PREFIX) else {
            continue;
        };
        let key = key.as_bytes().to_vec();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => {
                v.extend_from_slice(b", ");
                v.extend_from_slice(value.as_bytes());
            }
            None => out.push((key, value.as_bytes().to_vec())),
        }
    }
    out
}

// ---------------------------------------------------------------- indexes

/// One secondary index entry: field name (`age_int`) and value.
pub type IndexEntry = (Vec<u8>, Vec<u8>);

/// `X-Riak-Index-<field>_bin|_int` request headers as sorted, distinct
/// (field, value) entries. Values are split on `", "`; `_int` values must be
/// integers and are stored in canonical decimal form. Errors use Riak's words.
pub fn parse_indexes(headers: &HeaderMap) -> Result<Vec<IndexEntry>, HttpError> {
    let mut entries: Vec<IndexEntry> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for (name, value) in headers {
        let Some(field) = name.as_str().strip_prefix(INDEX_PREFIX) else {
            continue;
        };
        let field = field.to_ascii_lowercase();
        let raw = value.as_bytes();
        for v in split_index_values(raw) {
            let shown = String::from_utf8_lossy(v);
            if field.len() > 4 && field.ends_with("_bin") {
                entries.push((field.as_bytes().to_vec(), v.to_vec()));
            } else if field.len() > 4 && field.ends_with("_int") {
                match canonical_int(v) {
                    Some(n) => entries.push((field.as_bytes().to_vec(), n.into_bytes())),
                    None => errors.push(format!(
                        "Could not parse field '{field}', value '{shown}'.\n"
                    )),
                }
            } else {
                errors.push(format!("Unknown field type for field: '{field}'.\n"));
            }
        }
    }
    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        return Err(HttpError::bad_request(errors.concat()));
    }
    entries.sort_by(compare_index_entries);
    entries.dedup();
    Ok(entries)
}

/// Splits on a comma followed by one whitespace character, as Riak does.
fn split_index_values(raw: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < raw.len() {
        if raw[i] == b',' && raw[i + 1].is_ascii_whitespace() {
            out.push(&raw[start..i]);
            i += 2;
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&raw[start..]);
    out
}

/// An integer of any size in canonical form (`+007` → `7`, `-0` → `0`).
fn canonical_int(v: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    Some(match (neg, digits.is_empty()) {
        (_, true) => "0".to_string(),
        (true, false) => format!("-{digits}"),
        (false, false) => digits.to_string(),
    })
}

/// Orders entries by field, then integers numerically and binaries bytewise.
fn compare_index_entries(a: &IndexEntry, b: &IndexEntry) -> Ordering {
    a.0.cmp(&b.0).then_with(|| {
        if a.0.ends_with(b"_int") {
            compare_ints(&a.1, &b.1)
        } else {
            a.1.cmp(&b.1)
        }
    })
}

fn compare_ints(a: &[u8], b: &[u8]) -> Ordering {
    let neg = |v: &[u8]| v.first() == Some(&b'-');
    let mag = |v: &[u8]| {
        let m = if neg(v) { &v[1..] } else { v };
        (m.len(), m.to_vec())
    };
    match (neg(a), neg(b)) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => mag(a).cmp(&mag(b)),
        (true, true) => mag(b).cmp(&mag(a)),
    }
}

/// Response index headers: one `X-Riak-Index-<field>` per field, its values
/// joined with `", "`, fields in stored order.
pub fn group_indexes(indexes: &[(Vec<u8>, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for (field, value) in indexes {
        let name = format!("X-Riak-Index-{}", String::from_utf8_lossy(field));
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.extend_from_slice(b", ");
                v.extend_from_slice(value);
            }
            None => out.push((name, value.clone())),
        }
    }
    out
}

// ---------------------------------------------------------------- ETags

/// Whether an `If-Match` / `If-None-Match` value lists `etag` (or is `*`).
/// Entity tags may be quoted or bare; weak tags compare by their value.
pub fn etag_listed(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| {
        if t == "*" {
            return true;
        }
        let t = t.strip_prefix("W/").unwrap_or(t);
        let t = t
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(t);
        t == etag
    })
}

// ---------------------------------------------------------------- dates

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 → (year, month 1–12, day 1–31).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An RFC 1123 date (`Sun, 06 Nov 1994 08:49:37 GMT`) for Unix seconds.
pub fn http_date(unix_secs: u64) -> String {
    let secs = unix_secs as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an HTTP date in any of the three forms RFC 9110 requires a
/// recipient to accept; returns Unix seconds.
pub fn parse_http_date(s: &str) -> Option<u64> {
    let s = s.trim();
    let month = |m: &str| MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m));
    let hms = |t: &str| -> Option<(i64, i64, i64)> {
        let mut it = t.split(':');
        let h = it.next()?.parse().ok()?;
        let mi = it.next()?.parse().ok()?;
        let se = it.next()?.parse().ok()?;
        (it.next().is_none() && h < 24 && mi < 60 && se < 61).then_some((h, mi, se))
    };
    let (y, mo, d, (h, mi, se)) = if let Some((_, rest)) = s.split_once(", ") {
        let parts: Vec<&str> = rest.split_whitespace().collect();
        match parts.as_slice() {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            [d, m, y, t, "GMT"] => (y.parse().ok()?, month(m)?, d.parse().ok()?, hms(t)?),
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            [dmy, t, "GMT"] => {
                let mut it = dmy.split('-');
                let d = it.next()?.parse().ok()?;
                let m = month(it.next()?)?;
                let y: i64 = it.next()?.parse().ok()?;
                let y = if y < 70 {
                    2000 + y
                } else if y < 100 {
                    1900 + y
                } else {
                    y
                };
                (y, m, d, hms(t)?)
            }
            _ => return None,
        }
    } else {
        // asctime: Sun Nov  6 08:49:37 1994
        let parts: Vec<&str> = s.split_whitespace().collect();
        match parts.as_slice() {
            [_, m, d, t, y] => (y.parse().ok()?, month(m)?, d.parse().ok()?, hms(t)?),
            _ => return None,
        }
    };
    if !(1..=31).contains(&d) || y < 1970 {
        return None;
    }
    let days = days_from_civil(y, mo as u32 + 1, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + se) as u64)
}

// ---------------------------------------------------------------- Accept

/// Chooses among `provided` media types (in server preference order) as
/// webmachine does: client entries by descending q (stable), each matched
/// against the provided types in order; a missing header is `*/*`.
pub fn choose_media<'a>(accept: Option<&str>, provided: &[&'a str]) -> Option<&'a str> {
    let accept = accept.unwrap_or("*/*");
    let mut entries: Vec<(String, f32)> = Vec::new();
    for item in accept.split(',') {
        let mut params = item.split(';');
        let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
        if media.is_empty() {
            continue;
        }
        let mut q = 1.0f32;
        for p in params {
            if let Some((k, v)) = p.split_once('=')
                && k.trim() == "q"
            {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        entries.push((media, q));
    }
    entries.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal));
    for (media, q) in entries {
        if q <= 0.0 {
            continue;
        }
        for &p in provided {
            let ptype = p.split('/').next().unwrap_or("");
            let hit = media == "*/*"
                || media == p
                || media.strip_suffix("/*").is_some_and(|t| t == ptype);
            if hit {
                return Some(p);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn dates_round_trip() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sun Nov  6 08:49:37 1994"),
            Some(784_111_777)
        );
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(parse_http_date("yesterday"), None);
        for t in [951_782_400u64, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_http_date(&http_date(t)), Some(t));
        }
    }

    #[test]
    fn base62_ids() {
        assert_eq!(base62(&[0]), "0");
        assert_eq!(base62(&[61]), "z");
        assert_eq!(base62(&[62]), "10");
        let id = unique_id_62();
        assert!((26..=28).contains(&id.len()), "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(id, unique_id_62());
    }

    #[test]
    fn quoting() {
        assert_eq!(url_quote(b"a b/c+d"), "a+b%2Fc%2Bd");
        assert_eq!(form_decode("a+b%2Fc%2Bd"), b"a b/c+d");
    }

    #[test]
    fn content_type_split() {
        assert_eq!(
            parse_content_type("text/plain; charset=\"utf-8\""),
            ("text/plain".to_string(), Some("utf-8".to_string()))
        );
        assert_eq!(
            parse_content_type("application/json"),
            ("application/json".to_string(), None)
        );
        assert!(is_media_type("a/b"));
        assert!(!is_media_type("ab"));
        assert!(!is_media_type("a/b/c"));
    }

    #[test]
    fn links_parse_both_forms_and_reject_foreign_buckets() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                "</buckets/b2/keys/k%202>; riaktag=\"friend\", </riak/b3/k3>;riaktag=\"x\", </buckets/b>; rel=\"up\"",
            ),
        );
        let links = parse_links(&h, ApiVersion::V2, b"b").unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].key, b"k 2");
        assert_eq!(links[1].bucket, b"b3");
        assert!(parse_links(&h, ApiVersion::V2, b"other").is_err());
        h.insert("link", HeaderValue::from_static("<nonsense>"));
        let e = parse_links(&h, ApiVersion::V2, b"b").unwrap_err();
        assert_eq!(
            e.body,
            "Invalid Link header. Links must be of the form\n</buckets/BUCKET/keys/KEY>; riaktag=\"TAG\"\n"
        );
        let l = Link {
            bucket: b"b 2".to_vec(),
            key: b"k/1".to_vec(),
            tag: b"t".to_vec(),
        };
        assert_eq!(
            format_links(ApiVersion::V1, b"b", &[l]),
            "</riak/b>; rel=\"up\", </riak/b+2/k%2F1>; riaktag=\"t\""
        );
    }

    #[test]
    fn indexes_validate_and_sort() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-riak-index-Age_int",
            HeaderValue::from_static("10, 007, -3"),
        );
        h.insert(
            "x-riak-index-email_bin",
            HeaderValue::from_static("a@b, a@b"),
        );
        let idx = parse_indexes(&h).unwrap();
        let show: Vec<(String, String)> = idx
            .iter()
            .map(|(f, v)| {
                (
                    String::from_utf8_lossy(f).into(),
                    String::from_utf8_lossy(v).into(),
                )
            })
            .collect();
        assert_eq!(
            show,
            vec![
                ("age_int".into(), "-3".into()),
                ("age_int".into(), "7".into()),
                ("age_int".into(), "10".into()),
                ("email_bin".into(), "a@b".into()),
            ]
        );
        let mut h = HeaderMap::new();
        h.insert("x-riak-index-age_int", HeaderValue::from_static("old"));
        assert_eq!(
            parse_indexes(&h).unwrap_err().body,
            "Could not parse field 'age_int', value 'old'.\n"
        );
        let mut h = HeaderMap::new();
        h.insert("x-riak-index-age", HeaderValue::from_static("1"));
        assert_eq!(
            parse_indexes(&h).unwrap_err().body,
            "Unknown field type for field: 'age'.\n"
        );
    }

    #[test]
    fn accept_negotiation() {
        let provided = ["text/plain", "multipart/mixed"];
        assert_eq!(choose_media(None, &provided), Some("text/plain"));
        assert_eq!(choose_media(Some("*/*"), &provided), Some("text/plain"));
        assert_eq!(
            choose_media(
                Some("multipart/mixed, application/json, */*;q=0.5"),
                &provided
            ),
            Some("multipart/mixed")
        );
        assert_eq!(
            choose_media(Some("multipart/*"), &provided),
            Some("multipart/mixed")
        );
        assert_eq!(choose_media(Some("image/png"), &provided), None);
    }

    #[test]
    fn etag_lists() {
        assert!(etag_listed("\"abc\", \"def\"", "def"));
        assert!(etag_listed("*", "x"));
        assert!(etag_listed("W/\"abc\"", "abc"));
        assert!(!etag_listed("\"abc\"", "ab"));
    }
}
