//! The protocol drivers: one benchmark operation as SDK calls, over PB
//! (`ClusterClient`, coordinator per key) or HTTP (`HttpClient`).
//!
//! A get of a missing key counts as a success, as in basho_bench; an update
//! of a missing key writes without a context.

use std::time::Duration;

use bytes::Bytes;
use rill_client::{
    ClientError, ClusterClient, ConnectOptions, Content, DeleteOptions, GetOptions, HttpClient,
    HttpOptions, PutOptions,
};

use crate::args::{Args, Op};

/// The content type of benchmark values.
const CONTENT_TYPE: &str = "application/octet-stream";

/// A client for the nodes under test, with the run's request options.
#[allow(clippy::large_enum_variant)] // one per run, shared behind an Arc
pub enum Driver {
    Pb {
        client: ClusterClient,
        get: GetOptions,
        put: PutOptions,
        delete: DeleteOptions,
    },
    Http {
        client: HttpClient,
        opts: HttpOptions,
    },
}

impl Driver {
    /// Builds the driver the flags ask for: one PB connection per worker
    /// and node, or a keep-alive HTTP client.
    pub fn from_args(args: &Args) -> Result<Driver, ClientError> {
        let timeout = Duration::from_millis(args.timeout_ms);
        let btype = args.bucket_type.clone();
        let r = args.r.map(|q| q.0);
        let w = args.w.map(|q| q.0);
        if args.pb.is_empty() {
            return Ok(Driver::Http {
                client: HttpClient::new(args.http.clone(), Some(timeout))?,
                opts: HttpOptions {
                    bucket_type: btype,
                    r,
                    w,
                },
            });
        }
        let opts = ConnectOptions {
            request_timeout: Some(timeout),
            ..ConnectOptions::default()
        };
        let btype = btype.map(Bytes::from);
        Ok(Driver::Pb {
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
        })
    }

    /// Checks that every configured node answers.
    pub async fn ping_all(&self) -> Result<(), ClientError> {
        match self {
            Driver::Pb { client, .. } => {
                for pool in client.pools() {
                    pool.get().await?.ping().await?;
                }
                Ok(())
            }
            Driver::Http { client, .. } => client.ping().await,
        }
    }

    /// Runs one operation on `key`; `value` is used by writes.
    pub async fn run(
        &self,
        op: Op,
        bucket: &str,
        key: &str,
        value: Bytes,
    ) -> Result<(), ClientError> {
        match (self, op) {
            (_, Op::DtUpdate | Op::Index) => Err(ClientError::InvalidRequest(format!(
                "operation `{op}` is not supported yet"
            ))),
            (Driver::Pb { client, get, .. }, Op::Get) => {
                client.get(bucket, key, get).await.map(drop)
            }
            (Driver::Pb { client, put, .. }, Op::Put) => client
                .put(
                    bucket,
                    Some(key.as_bytes()),
                    &Content::new(value, CONTENT_TYPE),
                    put,
                )
                .await
                .map(drop),
            (
                Driver::Pb {
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
            (Driver::Pb { client, delete, .. }, Op::Delete) => {
                client.delete(bucket, key, delete).await
            }
            (Driver::Http { client, opts }, Op::Get) => {
                client.get(bucket, key, opts).await.map(drop)
            }
            (Driver::Http { client, opts }, Op::Put) => {
                client
                    .put(bucket, key, value, CONTENT_TYPE, None, opts)
                    .await
            }
            (Driver::Http { client, opts }, Op::Update) => {
                let vclock = client.get(bucket, key, opts).await?.and_then(|o| o.vclock);
                client
                    .put(bucket, key, value, CONTENT_TYPE, vclock.as_deref(), opts)
                    .await
            }
            (Driver::Http { client, opts }, Op::Delete) => client.delete(bucket, key, opts).await,
        }
    }
}
