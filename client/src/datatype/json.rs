//! Riak's JSON form of data types, as the HTTP API speaks it
//! (`/types/T/buckets/B/datatypes/K`): update bodies out, fetched values in.
//!
//! JSON carries members, registers and field names as text, so an update
//! with a member that is not UTF-8 cannot be sent over HTTP: it is refused
//! here rather than altered. Map fields are named `name_type`
//! (`hits_counter`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};
use bytes::Bytes;
use serde_json::{Map, Value as Json, json};

use super::{
    DataType, DtFetched, DtUpdate, DtValue, FieldKind, FieldUpdate, FieldValue, MapEntry, MapField,
    MapUpdate,
};
use crate::error::{ClientError, Result};

fn utf8(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b).map_err(|_| {
        ClientError::InvalidRequest(
            "data type members, registers and field names sent over HTTP must be UTF-8 text"
                .to_string(),
        )
    })
}

fn text(b: &[u8]) -> Result<Json> {
    utf8(b).map(|s| Json::String(s.to_string()))
}

fn texts(members: &[Bytes]) -> Result<Json> {
    members
        .iter()
        .map(|m| text(m))
        .collect::<Result<Vec<_>>>()
        .map(Json::Array)
}

fn field_name(name: &[u8], kind: FieldKind) -> Result<String> {
    Ok(format!("{}_{}", utf8(name)?, kind.suffix()))
}

fn set_json(adds: &[Bytes], removes: &[Bytes]) -> Result<Json> {
    let mut obj = Map::new();
    // Riak refuses an empty operation object; an empty add list is a no-op.
    if !adds.is_empty() || removes.is_empty() {
        obj.insert("add_all".into(), texts(adds)?);
    }
    if !removes.is_empty() {
        obj.insert("remove_all".into(), texts(removes)?);
    }
    Ok(Json::Object(obj))
}

fn map_json(m: &MapUpdate) -> Result<Json> {
    let mut obj = Map::new();
    if !m.removes.is_empty() {
        let names = m
            .removes
            .iter()
            .map(|f| field_name(&f.name, f.kind).map(Json::String))
            .collect::<Result<Vec<_>>>()?;
        obj.insert("remove".into(), Json::Array(names));
    }
    if !m.updates.is_empty() || m.removes.is_empty() {
        let mut updates = Map::new();
        for (name, op) in &m.updates {
            let value = match op {
                FieldUpdate::Counter(n) => json!({ "increment": n }),
                FieldUpdate::Set { adds, removes } => set_json(adds, removes)?,
                FieldUpdate::Register(v) => json!({ "assign": text(v)? }),
                FieldUpdate::Flag(on) => Json::from(if *on { "enable" } else { "disable" }),
                FieldUpdate::Map(inner) => map_json(inner)?,
            };
            updates.insert(field_name(name, op.kind())?, value);
        }
        obj.insert("update".into(), Json::Object(updates));
    }
    Ok(Json::Object(obj))
}

/// The body of `POST …/datatypes/K` for `update`, with `context` (from an
/// earlier fetch) when given.
pub fn update_body(update: &DtUpdate, context: Option<&[u8]>) -> Result<Json> {
    let mut body = match update {
        DtUpdate::Counter(n) => json!({ "increment": n }),
        DtUpdate::Set { adds, removes } => set_json(adds, removes)?,
        DtUpdate::Map(m) => map_json(m)?,
        DtUpdate::Hll(adds) | DtUpdate::GSet(adds) => json!({ "add_all": texts(adds)? }),
    };
    if let (Some(ctx), Json::Object(obj)) = (context, &mut body) {
        obj.insert("context".into(), Json::String(STANDARD.encode(ctx)));
    }
    Ok(body)
}

fn bad_reply(what: &str) -> ClientError {
    ClientError::BadReply(format!("data type JSON: {what}"))
}

fn members(v: &Json) -> Result<Vec<Bytes>> {
    v.as_array()
        .ok_or_else(|| bad_reply("members are not a list"))?
        .iter()
        .map(|m| {
            m.as_str()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .ok_or_else(|| bad_reply("a member is not text"))
        })
        .collect()
}

fn entries(v: &Json) -> Result<Vec<MapEntry>> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad_reply("a map is not an object"))?;
    let mut out = Vec::with_capacity(obj.len());
    for (name, v) in obj {
        let (n, suffix) = name
            .rsplit_once('_')
            .ok_or_else(|| bad_reply("a map field name has no type"))?;
        let (kind, value) = match suffix {
            "counter" => (FieldKind::Counter, FieldValue::Counter(int(v)?)),
            "set" => (FieldKind::Set, FieldValue::Set(members(v)?)),
            "register" => {
                let s = v
                    .as_str()
                    .ok_or_else(|| bad_reply("a register is not text"))?;
                let value = Bytes::copy_from_slice(s.as_bytes());
                (FieldKind::Register, FieldValue::Register(value))
            }
            "flag" => {
                let on = v
                    .as_bool()
                    .ok_or_else(|| bad_reply("a flag is not a boolean"))?;
                (FieldKind::Flag, FieldValue::Flag(on))
            }
            "map" => (FieldKind::Map, FieldValue::Map(entries(v)?)),
            _ => return Err(bad_reply("a map field of an unknown type")),
        };
        out.push(MapEntry {
            field: MapField::new(Bytes::copy_from_slice(n.as_bytes()), kind),
            value,
        });
    }
    Ok(out)
}

fn int(v: &Json) -> Result<i64> {
    v.as_i64()
        .ok_or_else(|| bad_reply("a counter is not an integer"))
}

/// A fetch reply (`{"type":…,"value":…,"context":…}`, or the not-found
/// body `{"type":…,"error":"notfound"}`).
pub fn fetched(body: &Json) -> Result<DtFetched> {
    let name = body["type"].as_str().ok_or_else(|| bad_reply("no type"))?;
    let data_type =
        DataType::from_property(name.as_bytes()).ok_or_else(|| bad_reply("an unknown type"))?;
    let v = &body["value"];
    let value = if v.is_null() {
        None
    } else {
        Some(match data_type {
            DataType::Counter => DtValue::Counter(int(v)?),
            DataType::Hll => DtValue::Hll(
                v.as_u64()
                    .ok_or_else(|| bad_reply("an hll value is not a count"))?,
            ),
            DataType::Set => DtValue::Set(members(v)?),
            DataType::GSet => DtValue::GSet(members(v)?),
            DataType::Map => DtValue::Map(entries(v)?),
        })
    };
    let context = match body["context"].as_str() {
        Some(c) => Some(Bytes::from(
            STANDARD_PAD_INDIFFERENT
                .decode(c)
                .map_err(|_| bad_reply("the context is not base64"))?,
        )),
        None => None,
    };
    Ok(DtFetched {
        data_type,
        value,
        context,
    })
}
