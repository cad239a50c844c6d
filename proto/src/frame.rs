//! The PB frame and its codec: `<len:u32 BE><code:u8><protobuf body>`, where
//! `len` counts the code byte plus the body.
//!
//! The decoder checks the declared length against a limit before buffering
//! anything for the frame; what a frame's body means is left to
//! `crate::request` / `crate::response`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;
use tokio_util::codec::{Decoder, Encoder};

use crate::codes::MsgCode;
use crate::error::{ProtoError, Result};
use crate::messages::CodedMessage;

/// Bytes in the length prefix.
pub const LEN_PREFIX: usize = 4;

/// Default limit on a frame's declared length (64 MiB): above Riak's 50 MB
/// object size limit, so any object Riak would accept fits in one frame.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024 * 1024;

/// The most the decoder reserves ahead of the bytes actually received. A
/// peer that declares a large frame and then stalls costs at most this.
const RESERVE_AHEAD: usize = 64 * 1024;

/// One PB message on the wire: its code and its undecoded body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message code (see [`MsgCode`]); kept raw so unknown codes survive.
    pub code: u8,
    /// The protobuf body; empty for field-less messages.
    pub body: Bytes,
}

impl Frame {
    /// A frame with the given code and body.
    pub fn new(code: impl Into<u8>, body: impl Into<Bytes>) -> Frame {
        Frame {
            code: code.into(),
            body: body.into(),
        }
    }

    /// A frame with no body: just the code byte on the wire.
    pub fn empty(code: impl Into<u8>) -> Frame {
        Frame::new(code, Bytes::new())
    }

    /// The frame carrying `msg` under its own code.
    pub fn from_msg<M: CodedMessage>(msg: &M) -> Frame {
        encode_msg(M::CODE, msg)
    }

    /// The code, if Riak assigns one to this byte.
    pub fn msg_code(&self) -> Option<MsgCode> {
        MsgCode::from_u8(self.code)
    }

    /// The value of the length prefix: code byte plus body.
    pub fn len_field(&self) -> usize {
        1 + self.body.len()
    }

    /// Appends the whole frame (prefix, code, body) to `dst`.
    ///
    /// # Panics
    /// If the body is too long for a `u32` length prefix (4 GiB).
    pub fn write_to(&self, dst: &mut BytesMut) {
        let len = u32::try_from(self.len_field()).expect("frame body exceeds u32 length prefix");
        dst.reserve(LEN_PREFIX + self.len_field());
        dst.put_u32(len);
        dst.put_u8(self.code);
        dst.extend_from_slice(&self.body);
    }

    /// The whole frame as bytes, ready for a socket.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(LEN_PREFIX + self.len_field());
        self.write_to(&mut buf);
        buf.freeze()
    }
}

/// Encodes `msg` as the body of a frame with the given code.
pub fn encode_msg<M: Message>(code: MsgCode, msg: &M) -> Frame {
    Frame::new(code, msg.encode_to_vec())
}

/// Encodes `msg` as a complete wire frame (prefix, code, body).
pub fn encode_msg_bytes<M: Message>(code: MsgCode, msg: &M) -> Bytes {
    encode_msg(code, msg).to_bytes()
}

/// Decodes a frame's body as `M`, whatever the frame's code.
pub fn decode_body<M: Message + Default>(frame: &Frame) -> Result<M> {
    Ok(M::decode(frame.body.as_ref())?)
}

/// Decodes a frame as `M`, checking that it carries `M`'s code.
pub fn decode_msg<M: CodedMessage>(frame: &Frame) -> Result<M> {
    if frame.code != M::CODE.as_u8() {
        return Err(ProtoError::UnexpectedCode {
            expected: M::CODE.as_u8(),
            got: frame.code,
        });
    }
    decode_body(frame)
}

/// A tokio-util codec for PB frames with a limit on the declared length.
///
/// After a decode error the byte stream cannot be resynchronised; the
/// connection should be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameCodec {
    max_frame_len: usize,
}

impl FrameCodec {
    /// A codec rejecting frames whose length prefix exceeds `max_frame_len`.
    pub fn new(max_frame_len: usize) -> FrameCodec {
        FrameCodec { max_frame_len }
    }

    /// The configured limit.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }
}

impl Default for FrameCodec {
    fn default() -> FrameCodec {
        FrameCodec::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = ProtoError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>> {
        if src.len() < LEN_PREFIX {
            return Ok(None);
        }
        let mut prefix = [0u8; LEN_PREFIX];
        prefix.copy_from_slice(&src[..LEN_PREFIX]);
        let len = u32::from_be_bytes(prefix) as usize;
        if len == 0 {
            return Err(ProtoError::EmptyFrame);
        }
        if len > self.max_frame_len {
            return Err(ProtoError::FrameTooLarge {
                len,
                max: self.max_frame_len,
            });
        }
        let total = LEN_PREFIX + len;
        if src.len() < total {
            // Grow toward the declared size only as data arrives, so a
            // declared length alone never commits much memory.
            src.reserve((total - src.len()).min(RESERVE_AHEAD));
            return Ok(None);
        }
        src.advance(LEN_PREFIX);
        let code = src.get_u8();
        let body = src.split_to(len - 1).freeze();
        Ok(Some(Frame { code, body }))
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = ProtoError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<()> {
        <Self as Encoder<&Frame>>::encode(self, &frame, dst)
    }
}

impl Encoder<&Frame> for FrameCodec {
    type Error = ProtoError;

    /// Outgoing frames are not held to `max_frame_len` (Riak has no frame
    /// limit of its own); only the `u32` prefix bounds them.
    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<()> {
        let len = frame.len_field();
        if u32::try_from(len).is_err() {
            return Err(ProtoError::FrameTooLarge {
                len,
                max: u32::MAX as usize,
            });
        }
        frame.write_to(dst);
        Ok(())
    }
}
