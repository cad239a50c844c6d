//! One client connection: frames in, replies out, one request at a time.
//!
//! Reads are framed by rill-proto's `FrameCodec`, which checks a frame's
//! declared length before buffering it. The connection enforces the idle
//! timeout (also a bound on a stalled write), streams listings batch by
//! batch, and closes on framing errors, I/O errors and shutdown between
//! requests. What a request means is `service`'s business.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::{FutureExt, SinkExt, StreamExt};
use rill_proto::{Frame, FrameCodec, ProtoError};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_util::codec::Framed;

use crate::error::PbError;
use crate::service::{Reply, Service, Session};

/// Buffers that grew past this for one large message are given back once
/// it has been handled, so an idle connection holds little memory.
const KEEP_BUFFER: usize = 1024 * 1024;

/// Why a connection stops.
#[derive(Debug)]
enum Closed {
    /// Peer closed, idle timeout, shutdown: nothing more to say.
    Quietly,
    /// The socket failed or a write stalled past the timeout.
    Io,
}

pub(crate) struct Connection {
    framed: Framed<TcpStream, FrameCodec>,
    service: Service,
    session: Session,
    idle_timeout: Duration,
    stop: watch::Receiver<bool>,
}

impl Connection {
    pub(crate) fn new(
        socket: TcpStream,
        service: Service,
        max_frame_len: usize,
        idle_timeout: Duration,
        stop: watch::Receiver<bool>,
    ) -> Connection {
        Connection {
            framed: Framed::new(socket, FrameCodec::new(max_frame_len)),
            service,
            session: Session::new(),
            idle_timeout,
            stop,
        }
    }

    /// Serves requests until the peer leaves, the connection idles out,
    /// the server shuts down (checked between requests only), or the
    /// stream breaks.
    pub(crate) async fn run(mut self) {
        let outcome = self.serve().await;
        tracing::debug!(?outcome, "pb connection closed");
    }

    async fn serve(&mut self) -> Result<(), Closed> {
        loop {
            let next = tokio::select! {
                biased;
                _ = stopped(&mut self.stop) => return Ok(()),
                next = timeout(self.idle_timeout, self.framed.next()) => next,
            };
            let frame = match next {
                Err(_idle) => return Err(Closed::Quietly),
                Ok(None) => return Ok(()),
                Ok(Some(Ok(frame))) => frame,
                // Includes a peer that closed in the middle of a frame.
                Ok(Some(Err(ProtoError::Io(_)))) => return Err(Closed::Io),
                // Too long or empty: the byte stream cannot be
                // resynchronised, so say why and close.
                Ok(Some(Err(e))) => {
                    self.send(PbError::bad_packet(&e).to_frame()).await?;
                    return Ok(());
                }
            };
            self.answer(frame).await?;
            self.trim_buffers();
        }
    }

    /// Runs one request to completion and sends its reply or replies.
    async fn answer(&mut self, frame: Frame) -> Result<(), Closed> {
        let handled = AssertUnwindSafe(self.service.handle(&mut self.session, frame))
            .catch_unwind()
            .await;
        let reply = match handled {
            Ok(reply) => reply,
            Err(_panic) => {
                tracing::error!("pb request handler panicked; closing the connection");
                self.send(PbError::internal("handler failed").to_frame())
                    .await?;
                return Err(Closed::Quietly);
            }
        };
        match reply {
            Reply::One(resp) => self.send(resp.encode()).await,
            Reply::Names(mut names, listing) => loop {
                match names.recv().await {
                    Some(Ok(batch)) if batch.is_empty() => {}
                    Some(Ok(batch)) => self.send(listing.batch(batch).encode()).await?,
                    Some(Err(e)) => return self.send(PbError::from_kv(e).to_frame()).await,
                    None => return self.send(listing.done().encode()).await,
                }
            },
        }
    }

    /// Writes and flushes one frame; a peer that stops reading for the
    /// idle timeout is dropped rather than holding the task forever.
    async fn send(&mut self, frame: Frame) -> Result<(), Closed> {
        match timeout(self.idle_timeout, self.framed.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "pb write failed");
                Err(Closed::Io)
            }
            Err(_stalled) => Err(Closed::Io),
        }
    }

    fn trim_buffers(&mut self) {
        let read = self.framed.read_buffer_mut();
        if read.capacity() > KEEP_BUFFER {
            *read = BytesMut::from(&read[..]);
        }
        let write = self.framed.write_buffer_mut();
        if write.capacity() > KEEP_BUFFER && write.is_empty() {
            *write = BytesMut::new();
        }
    }
}

/// Resolves once shutdown has been signalled (or the server is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
