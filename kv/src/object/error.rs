//! Errors of the object layer: decoding stored records and client contexts,
//! and the size limits a write must respect. The request layer turns these
//! into `KvError`s; nothing here knows about the wire.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ObjectError {
    /// The record is shorter than its header, or its payload ends early.
    #[error("truncated object record ({len} bytes)")]
    Truncated { len: usize },
    /// A record written by a newer (or unknown) format version.
    #[error("unknown object record version {0}")]
    UnknownVersion(u8),
    /// The checksum does not match: the bytes changed after they were written.
    #[error("corrupt object record: crc32 {stored:08x} stored, {computed:08x} computed")]
    Corrupt { stored: u32, computed: u32 },
    /// The checksum matched but the payload is not a valid object.
    #[error("undecodable object record: {0}")]
    Decode(String),
    /// A decoded object breaks an invariant (e.g. a sibling its clock has not seen).
    #[error("invalid object: {0}")]
    Invalid(&'static str),
    /// A causal context sent by a client could not be decoded.
    #[error("bad causal context: {0}")]
    BadContext(&'static str),
    /// More siblings than the write limit allows.
    #[error("too many siblings: {count} (limit {max})")]
    TooManySiblings { count: usize, max: usize },
    /// Object larger than the write limit allows.
    #[error("object too large: {size} bytes (limit {max})")]
    TooLarge { size: usize, max: usize },
}

pub type Result<T> = std::result::Result<T, ObjectError>;
