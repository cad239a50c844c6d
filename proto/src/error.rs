//! Errors of the wire layer: framing violations and undecodable bodies.
//!
//! Turning these into `RpbErrorResp` replies (or closing the connection) is
//! the job of the PB server, not of this crate.

use thiserror::Error;

/// A failure to frame or decode a PB message.
#[derive(Debug, Error)]
pub enum ProtoError {
    /// The declared frame length exceeds the codec's limit. Nothing was
    /// buffered for it; the stream cannot be resynchronised after this.
    #[error("frame length {len} exceeds the limit of {max} bytes")]
    FrameTooLarge { len: usize, max: usize },

    /// A length prefix of zero: there is not even a message code.
    #[error("empty frame: length prefix is zero")]
    EmptyFrame,

    /// The body is not a valid protobuf encoding of the expected message.
    #[error("message decoding error: {0}")]
    Decode(#[from] prost::DecodeError),

    /// A frame carried a different code than the caller expected.
    #[error("unexpected message code {got}, expected {expected}")]
    UnexpectedCode { expected: u8, got: u8 },

    /// The underlying transport failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias for this crate.
pub type Result<T, E = ProtoError> = std::result::Result<T, E>;
