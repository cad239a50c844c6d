//! Object resource (riak_kv_wm_object): GET/HEAD, PUT/POST (with or without
//! a key) and DELETE of one key, in all three URL families. Builds the KV
//! request from headers and query, runs conditional checks, and renders one
//! value, a sibling list or a multipart body. Header formats live in `headers`.

use crate::error::{HttpError, HttpResult};
use crate::headers::{self, choose_media, etag_listed, header_str, http_date, parse_http_date};
use crate::multipart;
use crate::params::{self, Query, RwParams};
use crate::routes::{AppState, Target};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rill_kv::object::{RiakObject, Sibling};
use rill_kv::request::{
    BucketKey, DeleteOptions, DeleteOutcome, DeleteRequest, GetOptions, GetResult, NewContent,
    PutOptions, PutRequest,
};

/// One handler for every object method; the route decides which methods reach it.
pub async fn handle(
    State(st): State<AppState>,
    method: Method,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    target: Target,
    body: Bytes,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let result = match method {
        Method::GET | Method::HEAD => fetch(&st, &headers, &q, &target).await,
        Method::PUT | Method::POST => store(&st, &headers, &q, &target, body).await,
        Method::DELETE => delete(&st, &headers, &q, &target).await,
        _ => Err(HttpError::new(StatusCode::METHOD_NOT_ALLOWED, "")),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn get_options(p: &RwParams) -> GetOptions {
    GetOptions {
        r: p.r,
        pr: p.pr,
        basic_quorum: p.basic_quorum,
        notfound_ok: p.notfound_ok,
        timeout: p.timeout,
        deleted_vclock: true,
        ..GetOptions::default()
    }
}

fn bucket_key(t: &Target) -> BucketKey {
    BucketKey::new(
        &t.bucket_type,
        &t.bucket,
        t.key.as_deref().unwrap_or_default(),
    )
}

// ------------------------------------------------------------------ GET

async fn fetch(st: &AppState, headers: &HeaderMap, q: &Query, t: &Target) -> HttpResult {
    let p = params::rw_params(q)?;
    let result = st.kv.get(bucket_key(t), get_options(&p)).await?;
    let obj = match result {
        GetResult::Found(obj) => obj,
        GetResult::NotFound => return Err(HttpError::not_found()),
        GetResult::Deleted(clock) => {
            return Err(tombstone_not_found(&headers::encode_vclock(&clock)));
        }
        GetResult::Unchanged => return Ok(StatusCode::NOT_MODIFIED.into_response()),
    };
    let selected = select(&obj, q.get("vtag"))?;
    let view = View::new(&obj, selected);
    if let Some(resp) = get_preconditions(headers, &view)? {
        return Ok(resp);
    }
    let accept = header_str(headers, "accept")?;
    Ok(render(
        t,
        &obj,
        &view,
        accept,
        &["text/plain", "multipart/mixed"],
        StatusCode::OK,
    ))
}

/// 404 for a key whose every sibling is a tombstone; the clock lets a
/// client write over the tombstone.
fn tombstone_not_found(clock_b64: &str) -> HttpError {
    let mut e = HttpError::not_found().with_header(
        HeaderName::from_static("x-riak-deleted"),
        HeaderValue::from_static("true"),
    );
    if let Ok(v) = HeaderValue::from_str(clock_b64) {
        e = e.with_header(HeaderName::from_static("x-riak-vclock"), v);
    }
    e
}

/// Picks the sibling to show: the only one, the one `?vtag=` names (404 when
/// no sibling has it), or none when there are several.
fn select<'a>(obj: &'a RiakObject, vtag: Option<&str>) -> Result<Option<&'a Sibling>, HttpError> {
    if let Some(vtag) = vtag {
        return obj
            .siblings
            .iter()
            .find(|s| s.meta.vtag == vtag)
            .map(Some)
            .ok_or_else(HttpError::not_found);
    }
    Ok(match obj.siblings.as_slice() {
        [only] => Some(only),
        _ => None,
    })
}

/// What validators a response carries: the selected sibling's vtag and time,
/// or for a sibling set a digest of the clock and the newest time.
struct View<'a> {
    sibling: Option<&'a Sibling>,
    clock_b64: String,
    etag: String,
    last_modified: u64,
}

impl<'a> View<'a> {
    fn new(obj: &'a RiakObject, sibling: Option<&'a Sibling>) -> Self {
        let clock_b64 = headers::encode_vclock(&obj.clock);
        let (etag, last_modified_us) = match sibling {
            Some(s) => (s.meta.vtag.clone(), s.meta.last_modified_us),
            None => (
                headers::clock_etag(&clock_b64),
                obj.siblings
                    .iter()
                    .map(|s| s.meta.last_modified_us)
                    .max()
                    .unwrap_or(0),
            ),
        };
        View {
            sibling,
            clock_b64,
            etag,
            last_modified: last_modified_us / 1_000_000,
        }
    }
}

/// Conditional GET, in webmachine's order: If-Match and If-Unmodified-Since
/// fail with 412; If-None-Match and If-Modified-Since answer 304.
fn get_preconditions(h: &HeaderMap, view: &View) -> Result<Option<Response>, HttpError> {
    if let Some(v) = header_str(h, "if-match")?
        && !etag_listed(v, &view.etag)
    {
        return Err(HttpError::precondition_failed());
    }
    if let Some(since) = header_str(h, "if-unmodified-since")?.and_then(parse_http_date)
        && view.last_modified > since
    {
        return Err(HttpError::precondition_failed());
    }
    let not_modified = if let Some(v) = header_str(h, "if-none-match")? {
        etag_listed(v, &view.etag)
    } else if let Some(since) = header_str(h, "if-modified-since")?.and_then(parse_http_date) {
        view.last_modified <= since
    } else {
        false
    };
    if not_modified {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        let hs = resp.headers_mut();
        insert(hs, header::ETAG, &format!("\"{}\"", view.etag));
        insert(hs, header::LAST_MODIFIED, &http_date(view.last_modified));
        insert_named(hs, "x-riak-vclock", &view.clock_b64);
        return Ok(Some(resp));
    }
    Ok(None)
}

/// Renders an object: one value with all its headers, or for several
/// siblings a `300` whose form `Accept` picks among `sibling_forms`.
fn render(
    t: &Target,
    obj: &RiakObject,
    view: &View,
    accept: Option<&str>,
    sibling_forms: &[&str],
    status: StatusCode,
) -> Response {
    match view.sibling {
        Some(sib) => single_value(t, sib, view, status),
        None => {
            let form = choose_media(accept, sibling_forms).unwrap_or("text/plain");
            let (content_type, body) = if form == "multipart/mixed" {
                let boundary = headers::unique_id_62();
                (
                    format!("multipart/mixed; boundary={boundary}"),
                    multipart::siblings_body(t.api, &t.bucket, obj, &boundary),
                )
            } else {
                let mut text = String::from("Siblings:\n");
                for s in &obj.siblings {
                    text.push_str(&s.meta.vtag);
                    text.push('\n');
                }
                ("text/plain".to_string(), text.into_bytes())
            };
            let mut resp = (StatusCode::MULTIPLE_CHOICES, Body::from(body)).into_response();
            let hs = resp.headers_mut();
            insert(hs, header::CONTENT_TYPE, &content_type);
            insert_named(hs, "x-riak-vclock", &view.clock_b64);
            insert(hs, header::ETAG, &format!("\"{}\"", view.etag));
            insert(hs, header::LAST_MODIFIED, &http_date(view.last_modified));
            insert(hs, header::VARY, "Accept");
            resp
        }
    }
}

/// A single value with Riak's object headers.
fn single_value(t: &Target, sib: &Sibling, view: &View, status: StatusCode) -> Response {
    let meta = &sib.meta;
    let mut resp = (status, Body::from(sib.value.clone())).into_response();
    let hs = resp.headers_mut();
    insert(
        hs,
        header::CONTENT_TYPE,
        &headers::content_type_value(&meta.content_type, meta.charset.as_deref()),
    );
    if let Some(enc) = &meta.content_encoding {
        insert(hs, header::CONTENT_ENCODING, enc);
    }
    insert_named(hs, "x-riak-vclock", &view.clock_b64);
    insert(hs, header::ETAG, &format!("\"{}\"", meta.vtag));
    insert(
        hs,
        header::LAST_MODIFIED,
        &http_date(meta.last_modified_us / 1_000_000),
    );
    insert(
        hs,
        header::LINK,
        &headers::format_links(t.api, &t.bucket, &meta.links),
    );
    for (k, v) in &meta.usermeta {
        let name = format!("X-Riak-Meta-{}", String::from_utf8_lossy(k));
        match (HeaderName::try_from(name), HeaderValue::from_bytes(v)) {
            (Ok(n), Ok(v)) => {
                hs.append(n, v);
            }
            _ => tracing::debug!("user metadata not representable as an HTTP header"),
        }
    }
    for (name, v) in headers::group_indexes(&meta.indexes) {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_bytes(&v)) {
            hs.append(n, v);
        }
    }
    if meta.deleted {
        insert_named(hs, "x-riak-deleted", "true");
    }
    resp
}

fn insert(hs: &mut HeaderMap, name: HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(v) => {
            hs.insert(name, v);
        }
        Err(_) => tracing::debug!(header = %name, "value not representable as an HTTP header"),
    }
}

fn insert_named(hs: &mut HeaderMap, name: &'static str, value: &str) {
    insert(hs, HeaderName::from_static(name), value);
}

// ------------------------------------------------------------------ PUT / POST

async fn store(st: &AppState, h: &HeaderMap, q: &Query, t: &Target, body: Bytes) -> HttpResult {
    // Validation in Riak's order: content type, parameters, links, indexes.
    let ctype = header_str(h, "content-type")?
        .ok_or_else(|| HttpError::bad_request("Missing Content-Type request header"))?;
    let (media, charset) = headers::parse_content_type(ctype);
    if !headers::is_media_type(&media) {
        return Err(HttpError::unsupported_media(format!(
            "\"{media}\" is not a valid media type for the Content-type header.\n"
        )));
    }
    let p = params::rw_params(q)?;
    let links = headers::parse_links(h, t.api, &t.bucket)?;
    let indexes = headers::parse_indexes(h)?;
    let usermeta = headers::parse_usermeta(h);
    let context = headers::request_vclock(h)?;
    let content_encoding = header_str(h, "content-encoding")?.map(str::to_string);
    let if_not_modified = match header_str(h, "x-riak-if-not-modified")? {
        Some(v) => Some(headers::decode_vclock("X-Riak-If-Not-Modified", v)?),
        None => None,
    };
    let if_none_match = header_str(h, "if-none-match")?;
    let if_match = header_str(h, "if-match")?;
    let if_unmodified = header_str(h, "if-unmodified-since")?;

    // Conditional writes read first (Riak 3.0.13+ reads only in this case).
    if if_none_match.is_some()
        || if_match.is_some()
        || if_unmodified.is_some()
        || if_not_modified.is_some()
    {
        let current = match &t.key {
            None => None,
            Some(_) => match st.kv.get(bucket_key(t), get_options(&p)).await? {
                GetResult::Found(obj) => Some(obj),
                _ => None,
            },
        };
        let view = current
            .as_ref()
            .map(|o| View::new(o, select(o, None).ok().flatten()));
        if let Some(v) = if_match {
            match &view {
                Some(view) if etag_listed(v, &view.etag) => {}
                _ => return Err(HttpError::precondition_failed()),
            }
        }
        if let (Some(since), Some(view)) = (if_unmodified.and_then(parse_http_date), &view)
            && view.last_modified > since
        {
            return Err(HttpError::precondition_failed());
        }
        if let (Some(v), Some(view)) = (if_none_match, &view)
            && etag_listed(v, &view.etag)
        {
            return Err(HttpError::precondition_failed());
        }
        if let Some(clock) = &if_not_modified {
            match &current {
                Some(obj) if obj.clock == *clock => {}
                _ => return Err(HttpError::conflict()),
            }
        }
    }

    let return_body = q.is("returnbody", "true");
    let req = PutRequest {
        bucket_type: t.bucket_type.clone(),
        bucket: t.bucket.clone(),
        key: t.key.clone(),
        context,
        content: NewContent {
            value: body.to_vec(),
            content_type: Some(media),
            charset,
            content_encoding,
            usermeta,
            links,
            indexes,
        },
        options: PutOptions {
            w: p.w,
            dw: p.dw,
            pw: p.pw,
            return_body,
            if_not_modified,
            if_none_match: if_none_match.is_some_and(|v| v.trim() == "*"),
            timeout: p.timeout,
            ..PutOptions::default()
        },
    };
    let created = t.key.is_none();
    let result = st.kv.put(req).await?;
    let location =
        created.then(|| headers::object_uri(t.api, &t.bucket_type, &t.bucket, &result.key));

    let mut resp = match (&result.object, return_body) {
        (Some(obj), true) => {
            let view = View::new(obj, select(obj, None)?);
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let accept = header_str(h, "accept")?;
            render(
                t,
                obj,
                &view,
                accept,
                &["multipart/mixed", "text/plain"],
                status,
            )
        }
        _ if created => StatusCode::CREATED.into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    };
    if let Some(loc) = location {
        insert(resp.headers_mut(), header::LOCATION, &loc);
    }
    Ok(resp)
}

// ------------------------------------------------------------------ DELETE

async fn delete(st: &AppState, h: &HeaderMap, q: &Query, t: &Target) -> HttpResult {
    let p = params::rw_params(q)?;
    let context = headers::request_vclock(h)?;
    let req = DeleteRequest {
        key: bucket_key(t),
        context,
        options: DeleteOptions {
            rw: p.rw,
            r: p.r,
            pr: p.pr,
            w: p.w,
            dw: p.dw,
            pw: p.pw,
            timeout: p.timeout,
            ..DeleteOptions::default()
        },
    };
    match st.kv.delete(req).await? {
        DeleteOutcome::Deleted => Ok(StatusCode::NO_CONTENT.into_response()),
        DeleteOutcome::NotFound => Err(HttpError::not_found()),
    }
}
