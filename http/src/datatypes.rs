//! Data type resources (riak_kv_wm_crdt and riak_kv_wm_counter): fetch and
//! update under `/types/T/buckets/B/datatypes[/K]`, and the 1.4 counters
//! under `/buckets/B/counters/K`.
//!
//! Translates Riak's JSON operations into `DtOp`s and values into Riak's
//! JSON; applying them is the KV service's job, status codes `error`'s.

use crate::error::{HttpError, HttpResult};
use crate::headers;
use crate::params::{self, Query, form_decode};
use crate::routes::{ApiVersion, AppState};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};
use rill_kv::crdt::{
    CounterOp, DataKind, DataType, DtOp, DtValue, Field, FieldKind, FieldOp, FieldValue, FlagOp,
    GSetOp, HllOp, MapOp, RegisterOp, SetOp,
};
use rill_kv::dt::DtUpdateRequest;
use rill_kv::{BucketKey, GetOptions, KvError, PutOptions};
use serde_json::{Map as JsonMap, Value as Json};

/// Type, bucket and key of `/types/T/buckets/B/datatypes[/K]` or
/// `/buckets/B/counters/K`, percent-decoded.
fn path_parts(uri: &Uri) -> (Vec<u8>, Vec<u8>, Option<Vec<u8>>) {
    let segs: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let seg = |i: usize| {
        segs.get(i)
            .filter(|s| !s.is_empty())
            .map(|s| form_decode(s))
    };
    if segs.first() == Some(&"types") {
        (
            seg(1).unwrap_or_default(),
            seg(3).unwrap_or_default(),
            seg(5),
        )
    } else {
        (b"default".to_vec(), seg(1).unwrap_or_default(), seg(3))
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn text(b: &[u8]) -> Json {
    Json::String(String::from_utf8_lossy(b).into_owned())
}

fn members(m: Vec<Vec<u8>>) -> Json {
    Json::Array(m.iter().map(|b| text(b)).collect())
}

fn map_json(fields: Vec<(Field, FieldValue)>) -> Json {
    let mut obj = JsonMap::new();
    for (f, v) in fields {
        let name = format!("{}_{}", String::from_utf8_lossy(&f.name), f.kind.name());
        let v = match v {
            FieldValue::Counter(n) => Json::from(n),
            FieldValue::Set(m) => members(m),
            FieldValue::Register(r) => text(&r),
            FieldValue::Flag(b) => Json::Bool(b),
            FieldValue::Map(m) => map_json(m),
        };
        obj.insert(name, v);
    }
    Json::Object(obj)
}

fn value_json(v: DtValue) -> Json {
    match v {
        DtValue::Counter(n) => Json::from(n),
        DtValue::Set(m) | DtValue::GSet(m) => members(m),
        DtValue::Map(f) => map_json(f),
        DtValue::Hll(n) => Json::from(n),
    }
}

/// `{"type":..,"value":..,"context":..}` in Riak's key order; the context
/// only for sets and maps, when asked for.
fn fetch_json(dt: &DataType, include_context: bool) -> String {
    let mut s = format!(
        "{{\"type\":\"{}\",\"value\":{}",
        dt.kind().name(),
        value_json(dt.value())
    );
    let ctx = dt.context();
    if include_context && !ctx.is_empty() {
        s.push_str(&format!(
            ",\"context\":\"{}\"",
            STANDARD.encode(ctx.encode())
        ));
    }
    s.push('}');
    s
}

fn not_found_json(kind: DataKind) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        format!("{{\"type\":\"{}\",\"error\":\"notfound\"}}", kind.name()),
    )
}

fn get_options(q: &Query) -> Result<GetOptions, HttpError> {
    let p = params::rw_params(q)?;
    Ok(GetOptions {
        r: p.r,
        pr: p.pr,
        basic_quorum: p.basic_quorum,
        notfound_ok: p.notfound_ok,
        timeout: p.timeout,
        ..GetOptions::default()
    })
}

/// Counters of the default type live at the legacy URL (Riak redirects).
fn legacy_redirect(bucket: &[u8], key: &[u8]) -> HttpError {
    let location = format!(
        "/buckets/{}/counters/{}",
        headers::url_quote(bucket),
        headers::url_quote(key)
    );
    let mut e = HttpError::new(
        StatusCode::MOVED_PERMANENTLY,
        "Counters in the default bucket-type should use the legacy URL\n",
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        e = e.with_header(header::LOCATION, v);
    }
    e
}

/// `GET /types/T/buckets/B/datatypes/K`.
pub async fn fetch(State(st): State<AppState>, RawQuery(raw): RawQuery, uri: Uri) -> Response {
    fetch_inner(&st, raw.as_deref(), &uri)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn fetch_inner(st: &AppState, raw: Option<&str>, uri: &Uri) -> HttpResult {
    let q = Query::parse(raw);
    let opts = get_options(&q)?;
    let include = params::boolean(&q, "include_context")?.unwrap_or(true);
    let (t, b, k) = path_parts(uri);
    let k = k.unwrap_or_default();
    if t == b"default" {
        return Err(legacy_redirect(&b, &k));
    }
    let r = st.kv.dt_fetch(BucketKey::new(&t, &b, &k), opts).await?;
    match r.value {
        Some(dt) => Ok(json_response(StatusCode::OK, fetch_json(&dt, include))),
        None => Ok(not_found_json(r.kind)),
    }
}

/// `POST /types/T/buckets/B/datatypes[/K]`.
pub async fn update(
    State(st): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    update_inner(&st, raw.as_deref(), &headers, &uri, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn put_options(q: &Query, return_body: bool) -> Result<PutOptions, HttpError> {
    let p = params::rw_params(q)?;
    Ok(PutOptions {
        w: p.w,
        dw: p.dw,
        pw: p.pw,
        timeout: p.timeout,
        return_body,
        ..PutOptions::default()
    })
}

async fn update_inner(
    st: &AppState,
    raw: Option<&str>,
    headers: &HeaderMap,
    uri: &Uri,
    body: Bytes,
) -> HttpResult {
    if !is_json(headers) {
        return Err(HttpError::new(StatusCode::NOT_ACCEPTABLE, ""));
    }
    let q = Query::parse(raw);
    let return_body = params::boolean(&q, "returnbody")?.unwrap_or(false);
    let include = params::boolean(&q, "include_context")?.unwrap_or(true);
    let options = put_options(&q, return_body)?;
    let (t, b, k) = path_parts(uri);
    if t == b"default" {
        return Err(legacy_redirect(&b, k.as_deref().unwrap_or_default()));
    }
    // The bucket decides how the body is read.
    let props = st.kv.bucket_props(&t, &b).await?;
    if !props.allow_mult {
        return Err(KvError::DatatypeNeedsAllowMult.into());
    }
    let kind = match props.datatype.and_then(|d| DataKind::from_name(d.as_str())) {
        Some(kind) => kind,
        None => return Err(KvError::NotDatatypeBucket.into()),
    };
    let json: Json = serde_json::from_slice(&body)
        .map_err(|e| HttpError::bad_request(format!("Couldn't decode JSON: {e}\n")))?;
    let (op, context) = parse_update(kind, json).map_err(OpError::into_http)?;
    let generated = k.is_none();
    let req = DtUpdateRequest {
        bucket_type: t.clone(),
        bucket: b.clone(),
        key: k,
        op,
        context,
        options,
    };
    let r = st.kv.dt_update(req).await?;
    let mut resp = match &r.value {
        Some(dt) if return_body => {
            let status = if generated {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            json_response(status, fetch_json(dt, include))
        }
        _ if generated => StatusCode::CREATED.into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    };
    if generated {
        let location = headers::object_uri(ApiVersion::V3, &t, &b, &r.key);
        if let Ok(v) = HeaderValue::from_str(&location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(resp)
}

// ------------------------------------------------------- JSON operations

/// Why a JSON operation was refused, with Riak's texts.
#[derive(Debug)]
enum OpError {
    /// `Invalid operation on datatype '<type>': <json>`.
    Invalid(&'static str, Json),
    /// `Invalid map field name '<name>'`.
    FieldName(String),
    Context,
}

impl OpError {
    fn into_http(self) -> HttpError {
        HttpError::bad_request(match self {
            OpError::Invalid(t, op) => format!("Invalid operation on datatype '{t}': {op}\n"),
            OpError::FieldName(f) => format!("Invalid map field name '{f}'\n"),
            OpError::Context => "Invalid context: not base64\n".to_string(),
        })
    }
}

type OpResult<T> = Result<T, OpError>;

/// The operation and the context of an update body for a bucket of `kind`.
fn parse_update(kind: DataKind, json: Json) -> OpResult<(DtOp, Option<Vec<u8>>)> {
    let mut json = json;
    let context = match json.as_object_mut().and_then(|o| o.remove("context")) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) if s.is_empty() => None,
        Some(Json::String(s)) => Some(
            STANDARD_PAD_INDIFFERENT
                .decode(s.as_bytes())
                .map_err(|_| OpError::Context)?,
        ),
        Some(_) => return Err(OpError::Context),
    };
    let op = match kind {
        DataKind::Counter => DtOp::Counter(counter_op(&json)?),
        DataKind::Set => DtOp::Set(set_op("set", &json)?),
        DataKind::Map => DtOp::Map(map_op(&json)?),
        DataKind::Hll => DtOp::Hll(HllOp {
            adds: adds_only("hll", &json)?,
        }),
        DataKind::GSet => DtOp::GSet(GSetOp {
            adds: adds_only("gset", &json)?,
        }),
    };
    Ok((op, context))
}

fn counter_op(json: &Json) -> OpResult<CounterOp> {
    let bad = || OpError::Invalid("counter", json.clone());
    let increment = match json {
        Json::Number(n) => n.as_i64().ok_or_else(bad)?,
        Json::String(s) if s == "increment" => 1,
        Json::String(s) if s == "decrement" => -1,
        Json::Object(o) if o.len() == 1 => match o.iter().next() {
            Some((k, v)) if k == "increment" => v.as_i64().ok_or_else(bad)?,
            Some((k, v)) if k == "decrement" => {
                v.as_i64().and_then(i64::checked_neg).ok_or_else(bad)?
            }
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    Ok(CounterOp { increment })
}

fn string(v: &Json) -> Option<Vec<u8>> {
    v.as_str().map(|s| s.as_bytes().to_vec())
}

fn strings(v: &Json) -> Option<Vec<Vec<u8>>> {
    v.as_array()?.iter().map(string).collect()
}

/// `add`, `add_all`, `remove`, `remove_all` of a set (`allow_remove`) or
/// just the adds of an HLL or GSet.
fn members_op(t: &'static str, json: &Json, allow_remove: bool) -> OpResult<SetOp> {
    let bad = || OpError::Invalid(t, json.clone());
    let obj = json.as_object().filter(|o| !o.is_empty()).ok_or_else(bad)?;
    let mut op = SetOp::default();
    for (k, v) in obj {
        match k.as_str() {
            "add" => op.adds.push(string(v).ok_or_else(bad)?),
            "add_all" => op.adds.extend(strings(v).ok_or_else(bad)?),
            "remove" if allow_remove => op.removes.push(string(v).ok_or_else(bad)?),
            "remove_all" if allow_remove => op.removes.extend(strings(v).ok_or_else(bad)?),
            _ => return Err(bad()),
        }
    }
    Ok(op)
}

fn set_op(t: &'static str, json: &Json) -> OpResult<SetOp> {
    members_op(t, json, true)
}

fn adds_only(t: &'static str, json: &Json) -> OpResult<Vec<Vec<u8>>> {
    Ok(members_op(t, json, false)?.adds)
}

/// `name_type` → field; the type is the text after the last `_`.
fn field(name: &str) -> OpResult<Field> {
    let bad = || OpError::FieldName(name.to_string());
    let (n, t) = name.rsplit_once('_').ok_or_else(bad)?;
    let kind = match t {
        "counter" => FieldKind::Counter,
        "set" => FieldKind::Set,
        "register" => FieldKind::Register,
        "flag" => FieldKind::Flag,
        "map" => FieldKind::Map,
        _ => return Err(bad()),
    };
    Ok(Field::new(n.as_bytes().to_vec(), kind))
}

fn map_op(json: &Json) -> OpResult<MapOp> {
    let bad = || OpError::Invalid("map", json.clone());
    let obj = json.as_object().filter(|o| !o.is_empty()).ok_or_else(bad)?;
    let mut op = MapOp::default();
    for (k, v) in obj {
        match k.as_str() {
            "remove" => {
                for name in v.as_array().ok_or_else(bad)? {
                    op.removes.push(field(name.as_str().ok_or_else(bad)?)?);
                }
            }
            "update" => {
                for (name, fop) in v.as_object().ok_or_else(bad)? {
                    let f = field(name)?;
                    let fop = field_op(f.kind, fop)?;
                    op.updates.push((f, fop));
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(op)
}

fn field_op(kind: FieldKind, json: &Json) -> OpResult<FieldOp> {
    Ok(match kind {
        FieldKind::Counter => FieldOp::Counter(counter_op(json)?),
        FieldKind::Set => FieldOp::Set(set_op("set", json)?),
        FieldKind::Register => {
            let bad = || OpError::Invalid("register", json.clone());
            let assign = match json {
                Json::String(s) => s.as_bytes().to_vec(),
                Json::Object(o) if o.len() == 1 => {
                    o.get("assign").and_then(string).ok_or_else(bad)?
                }
                _ => return Err(bad()),
            };
            FieldOp::Register(RegisterOp { assign })
        }
        FieldKind::Flag => match json.as_str() {
            Some("enable") => FieldOp::Flag(FlagOp::Enable),
            Some("disable") => FieldOp::Flag(FlagOp::Disable),
            _ => return Err(OpError::Invalid("flag", json.clone())),
        },
        FieldKind::Map => FieldOp::Map(map_op(json)?),
    })
}

// ------------------------------------------------------- 1.4 counters

/// riak_kv_wm_counter's refusal of a bucket without `allow_mult`.
fn counter_error(e: KvError) -> HttpError {
    match e {
        KvError::DatatypeNeedsAllowMult => HttpError::new(
            StatusCode::CONFLICT,
            "Counters require bucket property 'allow_mult=true'",
        ),
        other => other.into(),
    }
}

/// `GET /buckets/B/counters/K`: the value as text.
pub async fn counter_get(
    State(st): State<AppState>,
    RawQuery(raw): RawQuery,
    uri: Uri,
) -> Response {
    let run = async {
        let q = Query::parse(raw.as_deref());
        let opts = get_options(&q)?;
        let (t, b, k) = path_parts(&uri);
        let bk = BucketKey::new(&t, &b, &k.unwrap_or_default());
        let r = st.kv.dt_fetch(bk, opts).await.map_err(counter_error)?;
        match r.value.map(|dt| dt.value()) {
            Some(DtValue::Counter(n)) => Ok((StatusCode::OK, n.to_string()).into_response()),
            _ => Err(HttpError::not_found()),
        }
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /buckets/B/counters/K` with an integer body; the new value with
/// `returnvalue=true`.
pub async fn counter_update(
    State(st): State<AppState>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    body: Bytes,
) -> Response {
    let run = async {
        let q = Query::parse(raw.as_deref());
        let return_value = params::boolean(&q, "returnvalue")?.unwrap_or(false);
        let options = put_options(&q, return_value)?;
        let amount: i64 = std::str::from_utf8(&body)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| {
                HttpError::bad_request(format!(
                    "Could not parse increment: {}\n",
                    String::from_utf8_lossy(&body)
                ))
            })?;
        let (t, b, k) = path_parts(&uri);
        let req = DtUpdateRequest {
            bucket_type: t,
            bucket: b,
            key: Some(k.unwrap_or_default()),
            op: DtOp::Counter(CounterOp { increment: amount }),
            context: None,
            options,
        };
        let r = st.kv.dt_update(req).await.map_err(counter_error)?;
        Ok::<_, HttpError>(match r.value.map(|dt| dt.value()) {
            Some(DtValue::Counter(n)) => (StatusCode::OK, n.to_string()).into_response(),
            _ => StatusCode::NO_CONTENT.into_response(),
        })
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: DataKind, s: &str) -> OpResult<(DtOp, Option<Vec<u8>>)> {
        parse_update(kind, serde_json::from_str(s).unwrap())
    }

    #[test]
    fn counter_bodies() {
        for (body, n) in [
            ("5", 5),
            ("-3", -3),
            ("\"increment\"", 1),
            ("\"decrement\"", -1),
            ("{\"increment\":7}", 7),
            ("{\"decrement\":2}", -2),
        ] {
            let (o, _) = op(DataKind::Counter, body).unwrap();
            assert_eq!(o, DtOp::Counter(CounterOp { increment: n }), "{body}");
        }
        let e = op(DataKind::Counter, "{\"add\":1}")
            .unwrap_err()
            .into_http();
        assert_eq!(
            e.body,
            "Invalid operation on datatype 'counter': {\"add\":1}\n"
        );
    }

    #[test]
    fn map_bodies_nest() {
        let (o, ctx) = op(
            DataKind::Map,
            r#"{"update":{"a_register":{"assign":"x"},"f_flag":"enable",
                "m_map":{"update":{"c_counter":2}}},"remove":["s_set"],"context":"AAE="}"#,
        )
        .unwrap();
        assert_eq!(ctx, Some(vec![0, 1]));
        let DtOp::Map(m) = o else { panic!("a map op") };
        assert_eq!(m.removes, vec![Field::new("s", FieldKind::Set)]);
        assert_eq!(m.updates.len(), 3);
        let e = op(DataKind::Map, r#"{"update":{"bad":1}}"#)
            .unwrap_err()
            .into_http();
        assert_eq!(e.body, "Invalid map field name 'bad'\n");
    }
}
