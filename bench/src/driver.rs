//! The protocol drivers: one benchmark operation as SDK calls, over PB
//! (`ClusterClient`, coordinator per key) or HTTP (`HttpClient`).
//!
//! A get of a missing key counts as a success, as in basho_bench; an update
//! of a missing key writes without a context.

use std::time::Duration;

use bytes::Bytes;
use rill_client::datatype::{FieldUpdate, MapUpdate};
use rill_client::{
    ClientError, ClusterClient, ConnectOptions, Content, DataType, DeleteOptions, DtFetchOptions,
    DtUpdate, DtUpdateOptions, GetOptions, HttpClient, HttpOptions, PutOptions,
};

use crate::args::{Args, Op};

/// The content type of benchmark values.
const CONTENT_TYPE: &str = "application/octet-stream";

/// A client for the nodes under test, with the run's request options.
pub struct Driver {
    transport: Transport,
    /// Where data-type operations go; set by [`Driver::find_datatype`].
    dt: Option<DtTarget>,
}

#[allow(clippy::large_enum_variant)] // one per run, shared behind an Arc
enum Transport {
    Pb {
        client: ClusterClient,
        get: GetOptions,
        put: PutOptions,
        delete: DeleteOptions,
        dt_fetch: DtFetchOptions,
        dt_update: DtUpdateOptions,
    },
    Http {
        client: HttpClient,
        opts: HttpOptions,
        dt_fetch: DtFetchOptions,
        dt_update: DtUpdateOptions,
    },
}

/// The bucket type of data-type operations and the data type it holds.
struct DtTarget {
    bucket_type: String,
    data_type: DataType,
}

/// The update a dt_update sends to a bucket type of `data_type`, adding
/// `member` where the type has members.
pub fn dt_update_for(data_type: DataType, member: Bytes) -> DtUpdate {
    match data_type {
        DataType::Counter => DtUpdate::Counter(1),
        DataType::Set => DtUpdate::Set {
            adds: vec![member],
            removes: vec![],
        },
        DataType::Hll => DtUpdate::Hll(vec![member]),
        DataType::GSet => DtUpdate::GSet(vec![member]),
        DataType::Map => DtUpdate::Map(MapUpdate {
            removes: vec![],
            updates: vec![
                (Bytes::from_static(b"hits"), FieldUpdate::Counter(1)),
                (
                    Bytes::from_static(b"members"),
                    FieldUpdate::Set {
                        adds: vec![member],
                        removes: vec![],
                    },
                ),
            ],
        }),
    }
}

impl Driver {
    /// Builds the driver the flags ask for: one PB connection per worker
    /// and node, or a keep-alive HTTP client.
    pub fn from_args(args: &Args) -> Result<Driver, ClientError> {
        let timeout = Duration::from_millis(args.timeout_ms);
        let btype = args.bucket_type.clone();
        let r = args.r.map(|q| q.0);
        let w = args.w.map(|q| q.0);
        let dt_fetch = DtFetchOptions {
            r,
            ..DtFetchOptions::default()
        };
        let dt_update = DtUpdateOptions {
            w,
            ..DtUpdateOptions::default()
        };
        let transport = if args.pb.is_empty() {
            Transport::Http {
                client: HttpClient::new(args.http.clone(), Some(timeout))?,
                opts: HttpOptions {
                    bucket_type: btype,
                    r,
                    w,
                },
                dt_fetch,
                dt_update,
            }
        } else {
            let opts = ConnectOptions {
                request_timeout: Some(timeout),
                ..ConnectOptions::default()
            };
            let btype = btype.map(Bytes::from);
            Transport::Pb {
                client: ClusterClient::with_options(args.pb.clone(), args.workers as usize, opts)?,
                get: GetOptions {
                    r,
                    bucket_type: btype.clone(),
                    ..GetOptions::default()
                },
                put: PutOptions {
                    w,
                    bucket_type: btype.clone(),
                    ..PutOptions::default()
                },
                delete: DeleteOptions {
                    w,
                    bucket_type: btype,
                    ..DeleteOptions::default()
                },
                dt_fetch,
                dt_update,
            }
        };
        Ok(Driver {
            transport,
            dt: None,
        })
    }

    /// Checks that every configured node answers.
    pub async fn ping_all(&self) -> Result<(), ClientError> {
        match &self.transport {
            Transport::Pb { client, .. } => {
                for pool in client.pools() {
                    pool.get().await?.ping().await?;
                }
                Ok(())
            }
            Transport::Http { client, .. } => client.ping().await,
        }
    }

    /// Reads the `datatype` property of `bucket_type`, which data-type
    /// operations then use; an error names what is missing.
    pub async fn find_datatype(&mut self, bucket_type: &str) -> Result<DataType, String> {
        let name = match &self.transport {
            Transport::Pb { client, .. } => client
                .get_bucket_type_props(bucket_type)
                .await
                .map(|p| p.datatype.map(|d| String::from_utf8_lossy(&d).into_owned())),
            Transport::Http { client, .. } => client
                .bucket_type_props(bucket_type)
                .await
                .map(|p| p["datatype"].as_str().map(str::to_string)),
        }
        .map_err(|e| format!("cannot read the properties of bucket type `{bucket_type}`: {e}"))?;
        let data_type = name
            .as_deref()
            .and_then(|n| DataType::from_property(n.as_bytes()))
            .ok_or_else(|| {
                // `default` can never get one: suggest a type of its own.
                let t = if bucket_type == "default" {
                    "counters"
                } else {
                    bucket_type
                };
                format!(
                    "bucket type `{bucket_type}` has no datatype property; make one with \
                     `rill admin bucket-type create {t} '{{\"props\":{{\"datatype\":\"counter\"}}}}'` \
                     and `rill admin bucket-type activate {t}`"
                )
            })?;
        self.dt = Some(DtTarget {
            bucket_type: bucket_type.to_string(),
            data_type,
        });
        Ok(data_type)
    }

    /// Runs one operation on `key`; `value` is used by writes, `member` by
    /// data-type updates.
    pub async fn run(
        &self,
        op: Op,
        bucket: &str,
        key: &str,
        value: Bytes,
        member: u64,
    ) -> Result<(), ClientError> {
        if op.is_datatype() {
            return self.run_datatype(op, bucket, key, member).await;
        }
        match (&self.transport, op) {
            (Transport::Pb { client, get, .. }, Op::Get) => {
                client.get(bucket, key, get).await.map(drop)
            }
            (Transport::Pb { client, put, .. }, Op::Put) => client
                .put(
                    bucket,
                    Some(key.as_bytes()),
                    &Content::new(value, CONTENT_TYPE),
                    put,
                )
                .await
                .map(drop),
            (
                Transport::Pb {
                    client, get, put, ..
                },
                Op::Update,
            ) => {
                let vclock = client.get(bucket, key, get).await?.and_then(|o| o.vclock);
                let put = PutOptions {
                    vclock,
                    ..put.clone()
                };
                client
                    .put(
                        bucket,
                        Some(key.as_bytes()),
                        &Content::new(value, CONTENT_TYPE),
                        &put,
                    )
                    .await
                    .map(drop)
            }
            (Transport::Pb { client, delete, .. }, Op::Delete) => {
                client.delete(bucket, key, delete).await
            }
            (Transport::Http { client, opts, .. }, Op::Get) => {
                client.get(bucket, key, opts).await.map(drop)
            }
            (Transport::Http { client, opts, .. }, Op::Put) => {
                client
                    .put(bucket, key, value, CONTENT_TYPE, None, opts)
                    .await
            }
            (Transport::Http { client, opts, .. }, Op::Update) => {
                let vclock = client.get(bucket, key, opts).await?.and_then(|o| o.vclock);
                client
                    .put(bucket, key, value, CONTENT_TYPE, vclock.as_deref(), opts)
                    .await
            }
            (Transport::Http { client, opts, .. }, Op::Delete) => {
                client.delete(bucket, key, opts).await
            }
            (_, op) => Err(ClientError::InvalidRequest(format!(
                "operation `{op}` is not supported yet"
            ))),
        }
    }

    async fn run_datatype(
        &self,
        op: Op,
        bucket: &str,
        key: &str,
        member: u64,
    ) -> Result<(), ClientError> {
        let Some(dt) = &self.dt else {
            return Err(ClientError::InvalidRequest(
                "data-type operations need --dt-type".into(),
            ));
        };
        let t = dt.bucket_type.as_str();
        let update = || dt_update_for(dt.data_type, Bytes::from(member.to_string()));
        match (&self.transport, op) {
            (
                Transport::Pb {
                    client, dt_update, ..
                },
                Op::DtUpdate,
            ) => client
                .update_datatype(t, bucket, Some(key.as_bytes()), &update(), dt_update)
                .await
                .map(drop),
            (
                Transport::Pb {
                    client, dt_fetch, ..
                },
                _,
            ) => client
                .fetch_datatype(t, bucket, key, dt_fetch)
                .await
                .map(drop),
            (
                Transport::Http {
                    client, dt_update, ..
                },
                Op::DtUpdate,
            ) => client
                .update_datatype(t, bucket, Some(key), &update(), dt_update)
                .await
                .map(drop),
            (
                Transport::Http {
                    client, dt_fetch, ..
                },
                _,
            ) => client
                .fetch_datatype(t, bucket, key, dt_fetch)
                .await
                .map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_client::datatype::FieldUpdate;

    #[test]
    fn each_data_type_gets_an_update_of_its_own_kind() {
        let m = Bytes::from_static(b"7");
        assert_eq!(
            dt_update_for(DataType::Counter, m.clone()),
            DtUpdate::Counter(1)
        );
        assert_eq!(
            dt_update_for(DataType::Set, m.clone()),
            DtUpdate::Set {
                adds: vec![m.clone()],
                removes: vec![]
            }
        );
        assert_eq!(
            dt_update_for(DataType::Hll, m.clone()),
            DtUpdate::Hll(vec![m.clone()])
        );
        assert_eq!(
            dt_update_for(DataType::GSet, m.clone()),
            DtUpdate::GSet(vec![m.clone()])
        );
        let DtUpdate::Map(map) = dt_update_for(DataType::Map, m.clone()) else {
            panic!("a map update")
        };
        assert_eq!(
            map.updates[0],
            (Bytes::from_static(b"hits"), FieldUpdate::Counter(1))
        );
        assert_eq!(
            map.updates[1].1.kind(),
            rill_client::datatype::FieldKind::Set
        );
        for t in [
            DataType::Counter,
            DataType::Set,
            DataType::Map,
            DataType::Hll,
            DataType::GSet,
        ] {
            assert_eq!(dt_update_for(t, m.clone()).data_type(), t);
        }
    }
}
