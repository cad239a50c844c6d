//! Data type requests (riak_kv_pb_crdt and riak_kv_pb_counter): `DtFetchReq`,
//! `DtUpdateReq` and the 1.4 counters `RpbCounterUpdateReq`/`GetReq`.
//!
//! Translates `riak_dt.proto` operations into `DtOp`s and values back into
//! `DtValue` messages, and words errors as Riak does; applying the
//! operations is the KV service's job.

use rill_kv::bucket::Quorum;
use rill_kv::crdt::{
    self, CounterOp, DataKind, DataType, DtOp, Field, FieldKind, FieldOp, FieldValue, FlagOp,
    GSetOp, HllOp, MapOp, RegisterOp, SetOp,
};
use rill_kv::dt::{DtFetchResult, DtUpdateRequest};
use rill_kv::{BucketKey, GetOptions, KvError, KvService, PutOptions};
use rill_proto::Response;
use rill_proto::messages::{
    self as pb, DtFetchReq, DtFetchResp, DtUpdateReq, DtUpdateResp, MapEntry, MapField,
    MapFieldType, RpbCounterGetReq, RpbCounterGetResp, RpbCounterUpdateReq, RpbCounterUpdateResp,
};

use crate::error::{PbError, erlang_binary};
use crate::object::timeout;

fn quorum(v: Option<u32>) -> Option<Quorum> {
    v.map(Quorum::from_pb)
}

fn check_names(bucket: &[u8], key: Option<&[u8]>, bucket_type: &[u8]) -> Result<(), PbError> {
    if bucket.is_empty() {
        return Err(PbError::zero_length("Bucket"));
    }
    if key.is_some_and(<[u8]>::is_empty) {
        return Err(PbError::zero_length("Key"));
    }
    if bucket_type.is_empty() {
        return Err(PbError::zero_length("Type"));
    }
    Ok(())
}

/// riak_kv_pb_crdt's wording of the errors it words itself.
fn dt_error(err: KvError, bucket_type: &[u8], fetch: bool) -> PbError {
    match err {
        KvError::UnknownBucketType(_) => PbError::text(format!(
            "Error no bucket type `{}`",
            erlang_binary(bucket_type)
        )),
        KvError::NotDatatypeBucket if fetch => PbError::text("`undefined` is not a supported type"),
        other => PbError::from_kv(other),
    }
}

/// The 1.4 counter service's wording.
fn counter_error(err: KvError) -> PbError {
    match err {
        KvError::DatatypeNeedsAllowMult => {
            PbError::text("Counters require bucket property 'allow_mult=true'")
        }
        other => PbError::from_kv(other),
    }
}

fn pb_type(kind: DataKind) -> pb::DataType {
    match kind {
        DataKind::Counter => pb::DataType::Counter,
        DataKind::Set => pb::DataType::Set,
        DataKind::Map => pb::DataType::Map,
        DataKind::Hll => pb::DataType::Hll,
        DataKind::GSet => pb::DataType::Gset,
    }
}

fn field_kind(t: i32) -> Result<FieldKind, PbError> {
    Ok(match MapFieldType::try_from(t) {
        Ok(MapFieldType::Counter) => FieldKind::Counter,
        Ok(MapFieldType::Set) => FieldKind::Set,
        Ok(MapFieldType::Register) => FieldKind::Register,
        Ok(MapFieldType::Flag) => FieldKind::Flag,
        Ok(MapFieldType::Map) => FieldKind::Map,
        Err(_) => return Err(PbError::text(format!("Invalid map field type: {t}"))),
    })
}

fn map_field_type(k: FieldKind) -> MapFieldType {
    match k {
        FieldKind::Counter => MapFieldType::Counter,
        FieldKind::Set => MapFieldType::Set,
        FieldKind::Register => MapFieldType::Register,
        FieldKind::Flag => MapFieldType::Flag,
        FieldKind::Map => MapFieldType::Map,
    }
}

fn field(f: pb::MapField) -> Result<Field, PbError> {
    Ok(Field::new(f.name, field_kind(f.r#type)?))
}

fn counter_op(op: pb::CounterOp) -> CounterOp {
    CounterOp {
        increment: op.increment.unwrap_or(1),
    }
}

fn set_op(op: pb::SetOp) -> SetOp {
    SetOp {
        adds: op.adds,
        removes: op.removes,
    }
}

fn invalid(what: &str) -> PbError {
    PbError::text(format!("Invalid operation: {what}"))
}

fn map_op(op: pb::MapOp) -> Result<MapOp, PbError> {
    let removes = op
        .removes
        .into_iter()
        .map(field)
        .collect::<Result<_, _>>()?;
    let mut updates = Vec::with_capacity(op.updates.len());
    for u in op.updates {
        let f = field(u.field)?;
        let fop = match f.kind {
            FieldKind::Counter => u.counter_op.map(|o| FieldOp::Counter(counter_op(o))),
            FieldKind::Set => u.set_op.map(|o| FieldOp::Set(set_op(o))),
            FieldKind::Register => u
                .register_op
                .map(|v| FieldOp::Register(RegisterOp { assign: v })),
            FieldKind::Flag => match u.flag_op.map(pb::FlagOp::try_from) {
                Some(Ok(pb::FlagOp::Enable)) => Some(FieldOp::Flag(FlagOp::Enable)),
                Some(Ok(pb::FlagOp::Disable)) => Some(FieldOp::Flag(FlagOp::Disable)),
                _ => None,
            },
            FieldKind::Map => match u.map_op {
                Some(m) => Some(FieldOp::Map(map_op(m)?)),
                None => None,
            },
        };
        let fop = fop.ok_or_else(|| invalid("map update without an operation for its field"))?;
        updates.push((f, fop));
    }
    Ok(MapOp { removes, updates })
}

/// The one operation a `DtOp` carries.
fn dt_op(op: pb::DtOp) -> Result<DtOp, PbError> {
    let pb::DtOp {
        counter_op: c,
        set_op: s,
        map_op: m,
        hll_op: h,
        gset_op: g,
    } = op;
    Ok(match (c, s, m, h, g) {
        (Some(c), None, None, None, None) => DtOp::Counter(counter_op(c)),
        (None, Some(s), None, None, None) => DtOp::Set(set_op(s)),
        (None, None, Some(m), None, None) => DtOp::Map(map_op(m)?),
        (None, None, None, Some(h), None) => DtOp::Hll(HllOp { adds: h.adds }),
        (None, None, None, None, Some(g)) => DtOp::GSet(GSetOp { adds: g.adds }),
        _ => {
            return Err(invalid(
                "exactly one of counter_op, set_op, map_op, hll_op, gset_op",
            ));
        }
    })
}

fn map_entries(fields: Vec<(Field, FieldValue)>) -> Vec<MapEntry> {
    fields
        .into_iter()
        .map(|(f, v)| {
            let mut e = MapEntry {
                field: MapField {
                    name: f.name,
                    r#type: map_field_type(f.kind) as i32,
                },
                ..MapEntry::default()
            };
            match v {
                FieldValue::Counter(n) => e.counter_value = Some(n),
                FieldValue::Set(members) => e.set_value = members,
                FieldValue::Register(r) => e.register_value = Some(r),
                FieldValue::Flag(b) => e.flag_value = Some(b),
                FieldValue::Map(m) => e.map_value = map_entries(m),
            }
            e
        })
        .collect()
}

/// The context to send: sets and maps only, when asked for and not empty.
fn context(dt: &DataType, include: bool) -> Option<Vec<u8>> {
    let ctx = dt.context();
    (include && !ctx.is_empty()).then(|| ctx.encode())
}

fn dt_value(dt: &DataType) -> pb::DtValue {
    let mut v = pb::DtValue::default();
    match dt.value() {
        crdt::DtValue::Counter(n) => v.counter_value = Some(n),
        crdt::DtValue::Set(m) => v.set_value = m,
        crdt::DtValue::Map(f) => v.map_value = map_entries(f),
        crdt::DtValue::Hll(n) => v.hll_value = Some(n),
        crdt::DtValue::GSet(m) => v.gset_value = m,
    }
    v
}

fn fetch_options(
    r: Option<u32>,
    pr: Option<u32>,
    basic_quorum: Option<bool>,
    notfound_ok: Option<bool>,
) -> GetOptions {
    GetOptions {
        r: quorum(r),
        pr: quorum(pr),
        basic_quorum,
        notfound_ok,
        ..GetOptions::default()
    }
}

/// `DtFetchReq` → `DtFetchResp`; no `value` when nothing is stored.
pub(crate) async fn fetch(kv: &KvService, req: DtFetchReq) -> Result<Response, PbError> {
    check_names(&req.bucket, Some(&req.key), &req.r#type)?;
    let include = req.include_context();
    let mut opts = fetch_options(req.r, req.pr, req.basic_quorum, req.notfound_ok);
    opts.timeout = timeout(req.timeout);
    opts.n_val = req.n_val;
    opts.sloppy_quorum = req.sloppy_quorum;
    let bt = req.r#type;
    let bk = BucketKey {
        bucket_type: bt.clone(),
        bucket: req.bucket,
        key: req.key,
    };
    let DtFetchResult { kind, value } = kv
        .dt_fetch(bk, opts)
        .await
        .map_err(|e| dt_error(e, &bt, true))?;
    Ok(Response::DtFetch(DtFetchResp {
        context: value.as_ref().and_then(|dt| context(dt, include)),
        r#type: pb_type(kind) as i32,
        value: value.as_ref().map(dt_value),
    }))
}

/// `DtUpdateReq` → `DtUpdateResp`: the key when generated, the value (and
/// context) with `return_body`.
pub(crate) async fn update(kv: &KvService, req: DtUpdateReq) -> Result<Response, PbError> {
    check_names(&req.bucket, req.key.as_deref(), &req.r#type)?;
    let generated = req.key.is_none();
    let include = req.include_context();
    let return_body = req.return_body();
    let bt = req.r#type;
    let op = dt_op(req.op)?;
    let request = DtUpdateRequest {
        bucket_type: bt.clone(),
        bucket: req.bucket,
        key: req.key,
        op,
        context: req.context,
        options: PutOptions {
            w: quorum(req.w),
            dw: quorum(req.dw),
            pw: quorum(req.pw),
            return_body,
            timeout: timeout(req.timeout),
            n_val: req.n_val,
            sloppy_quorum: req.sloppy_quorum,
            ..PutOptions::default()
        },
    };
    let r = kv
        .dt_update(request)
        .await
        .map_err(|e| dt_error(e, &bt, false))?;
    let mut resp = DtUpdateResp {
        key: generated.then_some(r.key),
        ..DtUpdateResp::default()
    };
    if let Some(dt) = &r.value {
        resp.context = context(dt, include);
        let v = dt_value(dt);
        resp.counter_value = v.counter_value;
        resp.set_value = v.set_value;
        resp.map_value = v.map_value;
        resp.hll_value = v.hll_value;
        resp.gset_value = v.gset_value;
    }
    Ok(Response::DtUpdate(resp))
}

/// `RpbCounterUpdateReq`: a 1.4 counter in a default-type `allow_mult`
/// bucket; the new value with `returnvalue`.
pub(crate) async fn counter_update(
    kv: &KvService,
    req: RpbCounterUpdateReq,
) -> Result<Response, PbError> {
    check_names(&req.bucket, Some(&req.key), b"default")?;
    let return_value = req.returnvalue.unwrap_or(false);
    let request = DtUpdateRequest {
        bucket_type: b"default".to_vec(),
        bucket: req.bucket,
        key: Some(req.key),
        op: DtOp::Counter(CounterOp {
            increment: req.amount,
        }),
        context: None,
        options: PutOptions {
            w: quorum(req.w),
            dw: quorum(req.dw),
            pw: quorum(req.pw),
            return_body: return_value,
            ..PutOptions::default()
        },
    };
    let r = kv.dt_update(request).await.map_err(counter_error)?;
    let value = match r.value.map(|dt| dt.value()) {
        Some(crdt::DtValue::Counter(n)) => Some(n),
        _ => None,
    };
    Ok(Response::CounterUpdate(RpbCounterUpdateResp { value }))
}

/// `RpbCounterGetReq` → `RpbCounterGetResp`; no value when not found.
pub(crate) async fn counter_get(
    kv: &KvService,
    req: RpbCounterGetReq,
) -> Result<Response, PbError> {
    check_names(&req.bucket, Some(&req.key), b"default")?;
    let opts = fetch_options(req.r, req.pr, req.basic_quorum, req.notfound_ok);
    let bk = BucketKey {
        bucket_type: b"default".to_vec(),
        bucket: req.bucket,
        key: req.key,
    };
    let r = kv.dt_fetch(bk, opts).await.map_err(counter_error)?;
    let value = match r.value.map(|dt| dt.value()) {
        Some(crdt::DtValue::Counter(n)) => Some(n),
        _ => None,
    };
    Ok(Response::CounterGet(RpbCounterGetResp { value }))
}
