//! Riak Protocol Buffers wire layer: message codes, message types, the
//! length-prefixed frame codec, and typed request/response enums.
//!
//! This crate knows bytes and field numbers only; connection handling,
//! error replies and request semantics belong to the PB server.

pub mod codes;
pub mod error;
pub mod frame;
pub mod messages;
pub mod quorum;

#[macro_use]
mod wire_enum;
pub mod request;
pub mod response;

pub use codes::MsgCode;
pub use error::{ProtoError, Result};
pub use frame::{
    DEFAULT_MAX_FRAME_LEN, Frame, FrameCodec, decode_body, decode_msg, encode_msg, encode_msg_bytes,
};
pub use messages::CodedMessage;
pub use quorum::Quorum;
pub use request::Request;
pub use response::Response;
