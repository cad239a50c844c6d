//! One PB connection: frames out, frames in, one request at a time, with
//! typed calls for the common requests and a raw `request` for the rest.
//!
//! A transport or protocol failure (or a stream abandoned midway) marks the
//! connection broken; pools drop broken connections and open new ones.
//! Retrying is left to the caller.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use prost::Message;
use rill_proto::messages::{
    DtFetchResp, DtUpdateResp, RpbBucketProps, RpbErrorResp, RpbGetBucketReq, RpbGetBucketResp,
    RpbGetBucketTypeReq, RpbGetResp, RpbGetServerInfoResp, RpbListBucketsResp, RpbListKeysResp,
    RpbPutResp, RpbResetBucketReq, RpbSetBucketReq, RpbSetBucketTypeReq,
};
use rill_proto::{CodedMessage, Frame, FrameCodec, MsgCode, decode_body, encode_msg};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::datatype::{DtFetched, DtUpdate, DtUpdated};
use crate::error::{ClientError, Result};
use crate::object::{Content, Object, PutResult, ServerInfo};
use crate::options::{
    DeleteOptions, DtFetchOptions, DtUpdateOptions, GetOptions, ListOptions, PutOptions,
};

/// How connections are opened and how long a reply may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Limit on opening the TCP connection.
    pub connect_timeout: Duration,
    /// Limit on each reply frame; `None` waits as long as the server takes
    /// (server-side timeouts still apply).
    pub request_timeout: Option<Duration>,
    /// Largest reply frame accepted.
    pub max_frame_len: usize,
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Some(Duration::from_secs(60)),
            max_frame_len: rill_proto::DEFAULT_MAX_FRAME_LEN,
        }
    }
}

/// An open PB connection to one node.
pub struct Connection {
    framed: Framed<TcpStream, FrameCodec>,
    addr: String,
    request_timeout: Option<Duration>,
    broken: bool,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .field("broken", &self.broken)
            .finish()
    }
}

impl Connection {
    /// Connects to `addr` (`host:port`) with default options.
    pub async fn connect(addr: &str) -> Result<Connection> {
        Connection::connect_with(addr, &ConnectOptions::default()).await
    }

    /// Connects to `addr` (`host:port`).
    pub async fn connect_with(addr: &str, opts: &ConnectOptions) -> Result<Connection> {
        let connect_err = |source| ClientError::Connect {
            addr: addr.to_string(),
            source,
        };
        let stream = tokio::time::timeout(opts.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| connect_err(std::io::ErrorKind::TimedOut.into()))?
            .map_err(connect_err)?;
        stream.set_nodelay(true).map_err(connect_err)?;
        Ok(Connection {
            framed: Framed::new(stream, FrameCodec::new(opts.max_frame_len)),
            addr: addr.to_string(),
            request_timeout: opts.request_timeout,
            broken: false,
        })
    }

    /// The address this connection was opened to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether the connection can no longer be used (see the module docs).
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Marks the connection unusable, so a pool closes it instead of
    /// reusing it (e.g. after abandoning a streamed reply).
    pub fn discard(&mut self) {
        self.broken = true;
    }

    /// Marks broken on errors that leave the stream in an unknown state.
    fn track<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r
            && e.breaks_connection()
        {
            self.broken = true;
        }
        r
    }

    async fn send(&mut self, frame: &Frame) -> Result<()> {
        if self.broken {
            return Err(ClientError::Closed);
        }
        let r = self.framed.send(frame).await.map_err(ClientError::from);
        self.track(r)
    }

    /// The next frame, within the request timeout; error replies become
    /// `ClientError::Riak`.
    async fn recv(&mut self) -> Result<Frame> {
        let next = match self.request_timeout {
            Some(limit) => match tokio::time::timeout(limit, self.framed.next()).await {
                Ok(next) => next,
                Err(_) => return self.track(Err(ClientError::Timeout)),
            },
            None => self.framed.next().await,
        };
        let r = match next {
            None => Err(ClientError::Closed),
            Some(Err(e)) => Err(e.into()),
            Some(Ok(frame)) if frame.code == MsgCode::ErrorResp.as_u8() => {
                match decode_body::<RpbErrorResp>(&frame) {
                    Ok(e) => Err(ClientError::Riak {
                        errmsg: String::from_utf8_lossy(&e.errmsg).into_owned(),
                        errcode: e.errcode,
                    }),
                    Err(e) => Err(e.into()),
                }
            }
            Some(Ok(frame)) => Ok(frame),
        };
        self.track(r)
    }

    /// Sends any frame and returns the reply frame, whatever its code. An
    /// `RpbErrorResp` reply is returned as `ClientError::Riak`. For
    /// streaming requests only the first reply frame is read; use
    /// [`Connection::next_frame`] for the rest.
    pub async fn request_frame(&mut self, frame: &Frame) -> Result<Frame> {
        self.send(frame).await?;
        self.recv().await
    }

    /// Encodes `msg` under `code`, sends it and returns the reply frame
    /// (see [`Connection::request_frame`]).
    pub async fn request<M: Message>(&mut self, code: MsgCode, msg: &M) -> Result<Frame> {
        self.request_frame(&encode_msg(code, msg)).await
    }

    /// Reads one more frame of a streaming reply.
    pub async fn next_frame(&mut self) -> Result<Frame> {
        self.recv().await
    }

    /// Checks the reply's code and decodes it.
    fn expect<R: CodedMessage>(&mut self, frame: &Frame) -> Result<R> {
        let r = if frame.code != R::CODE.as_u8() {
            Err(ClientError::UnexpectedResponse {
                expected: R::CODE.as_u8(),
                got: frame.code,
            })
        } else {
            decode_body::<R>(frame).map_err(ClientError::from)
        };
        self.track(r)
    }

    /// Sends `msg` and decodes the single reply as `R`.
    async fn call<M: Message, R: CodedMessage>(&mut self, code: MsgCode, msg: &M) -> Result<R> {
        let frame = self.request(code, msg).await?;
        self.expect(&frame)
    }

    /// `RpbPingReq`: succeeds when the node answers.
    pub async fn ping(&mut self) -> Result<()> {
        let frame = self.request_frame(&Frame::empty(MsgCode::PingReq)).await?;
        self.expect::<rill_proto::messages::RpbPingResp>(&frame)?;
        Ok(())
    }

    /// `RpbGetServerInfoReq`: the node's name and version.
    pub async fn server_info(&mut self) -> Result<ServerInfo> {
        let frame = self
            .request_frame(&Frame::empty(MsgCode::GetServerInfoReq))
            .await?;
        let info: RpbGetServerInfoResp = self.expect(&frame)?;
        let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
        Ok(ServerInfo {
            node: text(info.node),
            server_version: text(info.server_version),
        })
    }

    /// Fetches an object; `None` when it does not exist.
    pub async fn get(
        &mut self,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &GetOptions,
    ) -> Result<Option<Object>> {
        let req = opts.request(bucket.as_ref(), key.as_ref());
        let resp: RpbGetResp = self.call(MsgCode::GetReq, &req).await?;
        Ok(Object::from_get(resp))
    }

    /// Stores `content` under `key`, or under a key the server generates
    /// when `key` is `None` (returned in [`PutResult::key`]).
    pub async fn put(
        &mut self,
        bucket: impl AsRef<[u8]>,
        key: Option<&[u8]>,
        content: &Content,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        let req = opts.request(bucket.as_ref(), key, content);
        let resp: RpbPutResp = self.call(MsgCode::PutReq, &req).await?;
        Ok(PutResult::from_wire(resp))
    }

    /// Deletes an object; deleting a missing key also succeeds.
    pub async fn delete(
        &mut self,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &DeleteOptions,
    ) -> Result<()> {
        let req = opts.request(bucket.as_ref(), key.as_ref());
        let frame = self.request(MsgCode::DelReq, &req).await?;
        self.expect::<rill_proto::messages::RpbDelResp>(&frame)?;
        Ok(())
    }

    /// Fetches a data type from a bucket type that has a `datatype`
    /// property; [`DtFetched::value`] is `None` when the key does not exist.
    pub async fn fetch_datatype(
        &mut self,
        bucket_type: impl AsRef<[u8]>,
        bucket: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
        opts: &DtFetchOptions,
    ) -> Result<DtFetched> {
        let req = opts.request(bucket_type.as_ref(), bucket.as_ref(), key.as_ref());
        let resp: DtFetchResp = self.call(MsgCode::DtFetchReq, &req).await?;
        let code = resp.r#type;
        DtFetched::from_wire(resp)
            .ok_or_else(|| ClientError::BadReply(format!("data type {code} is unknown")))
    }

    /// Applies `update` to a data type, under `key` or under a key the
    /// server generates when `key` is `None` ([`DtUpdated::key`]).
    pub async fn update_datatype(
        &mut self,
        bucket_type: impl AsRef<[u8]>,
        bucket: impl AsRef<[u8]>,
        key: Option<&[u8]>,
        update: &DtUpdate,
        opts: &DtUpdateOptions,
    ) -> Result<DtUpdated> {
        let req = opts.request(bucket_type.as_ref(), bucket.as_ref(), key, update);
        let resp: DtUpdateResp = self.call(MsgCode::DtUpdateReq, &req).await?;
        Ok(DtUpdated::from_wire(
            resp,
            update.data_type(),
            opts.return_body,
        ))
    }

    /// Starts listing a bucket's keys; read the batches from the stream.
    /// Dropping the stream before its end leaves this connection broken.
    pub async fn stream_keys(
        &mut self,
        bucket: impl AsRef<[u8]>,
        opts: &ListOptions,
    ) -> Result<KeyStream<'_>> {
        let req = opts.keys_request(bucket.as_ref());
        self.send(&encode_msg(MsgCode::ListKeysReq, &req)).await?;
        // Until the final frame arrives the connection is mid-stream and
        // cannot carry another request.
        self.broken = true;
        Ok(KeyStream {
            conn: self,
            done: false,
        })
    }

    /// Lists all keys of a bucket (an expensive full scan on the server).
    pub async fn list_keys(
        &mut self,
        bucket: impl AsRef<[u8]>,
        opts: &ListOptions,
    ) -> Result<Vec<Bytes>> {
        let mut stream = self.stream_keys(bucket, opts).await?;
        let mut keys = Vec::new();
        while let Some(batch) = stream.next().await {
            keys.extend(batch?);
        }
        Ok(keys)
    }

    /// Lists the buckets that hold keys (in the options' bucket type).
    pub async fn list_buckets(&mut self, opts: &ListOptions) -> Result<Vec<Bytes>> {
        let resp: RpbListBucketsResp = self
            .call(MsgCode::ListBucketsReq, &opts.buckets_request())
            .await?;
        Ok(resp.buckets.into_iter().map(Bytes::from).collect())
    }

    /// A bucket's properties (merged with its type's).
    pub async fn get_bucket_props(
        &mut self,
        bucket: impl AsRef<[u8]>,
        bucket_type: Option<&[u8]>,
    ) -> Result<RpbBucketProps> {
        let req = RpbGetBucketReq {
            bucket: bucket.as_ref().to_vec(),
            r#type: bucket_type.map(<[u8]>::to_vec),
        };
        let resp: RpbGetBucketResp = self.call(MsgCode::GetBucketReq, &req).await?;
        Ok(resp.props)
    }

    /// Sets the given properties of a bucket; absent fields stay as they are.
    pub async fn set_bucket_props(
        &mut self,
        bucket: impl AsRef<[u8]>,
        bucket_type: Option<&[u8]>,
        props: RpbBucketProps,
    ) -> Result<()> {
        let req = RpbSetBucketReq {
            bucket: bucket.as_ref().to_vec(),
            props,
            r#type: bucket_type.map(<[u8]>::to_vec),
        };
        let frame = self.request(MsgCode::SetBucketReq, &req).await?;
        self.expect::<rill_proto::messages::RpbSetBucketResp>(&frame)?;
        Ok(())
    }

    /// Returns a bucket's properties to its type's defaults.
    pub async fn reset_bucket_props(
        &mut self,
        bucket: impl AsRef<[u8]>,
        bucket_type: Option<&[u8]>,
    ) -> Result<()> {
        let req = RpbResetBucketReq {
            bucket: bucket.as_ref().to_vec(),
            r#type: bucket_type.map(<[u8]>::to_vec),
        };
        let frame = self.request(MsgCode::ResetBucketReq, &req).await?;
        self.expect::<rill_proto::messages::RpbResetBucketResp>(&frame)?;
        Ok(())
    }

    /// A bucket type's properties.
    pub async fn get_bucket_type_props(
        &mut self,
        bucket_type: impl AsRef<[u8]>,
    ) -> Result<RpbBucketProps> {
        let req = RpbGetBucketTypeReq {
            r#type: bucket_type.as_ref().to_vec(),
        };
        let resp: RpbGetBucketResp = self.call(MsgCode::GetBucketTypeReq, &req).await?;
        Ok(resp.props)
    }

    /// Sets the given properties of a bucket type.
    pub async fn set_bucket_type_props(
        &mut self,
        bucket_type: impl AsRef<[u8]>,
        props: RpbBucketProps,
    ) -> Result<()> {
        let req = RpbSetBucketTypeReq {
            r#type: bucket_type.as_ref().to_vec(),
            props,
        };
        let frame = self.request(MsgCode::SetBucketTypeReq, &req).await?;
        self.expect::<rill_proto::messages::RpbSetBucketResp>(&frame)?;
        Ok(())
    }
}

/// The batches of a key listing, read one frame at a time.
pub struct KeyStream<'a> {
    conn: &'a mut Connection,
    done: bool,
}

impl KeyStream<'_> {
    /// The next batch of keys; `None` after the final frame. After an
    /// error the stream ends and the connection is left broken.
    pub async fn next(&mut self) -> Option<Result<Vec<Bytes>>> {
        if self.done {
            return None;
        }
        // `recv` refuses nothing here: only `send` checks `broken`.
        let frame = match self.conn.recv().await {
            Ok(f) => f,
            Err(e) => {
                self.done = true;
                self.conn.broken = true;
                return Some(Err(e));
            }
        };
        let resp: RpbListKeysResp = match self.conn.expect(&frame) {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        if resp.done == Some(true) {
            self.done = true;
            self.conn.broken = false;
        }
        Some(Ok(resp.keys.into_iter().map(Bytes::from).collect()))
    }
}
