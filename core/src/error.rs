//! Errors of the core layer; mapped to wire codes only at the protocol edges.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// The vnode's mailbox is full: the caller should answer `overload`.
    #[error("overload")]
    Overload,
    /// No vnode runs for this partition on this node (stopped or never started).
    #[error("vnode {0} is not running")]
    VnodeNotRunning(u32),
    #[error("invalid ring size {0}: must be a power of two between 8 and 1024")]
    InvalidRingSize(u32),
    /// No connection to the node: its address is unknown, it refused the
    /// connection recently, or the transport is shutting down.
    #[error("node {0} unreachable")]
    Unreachable(String),
    /// No reply arrived within the caller's deadline.
    #[error("timeout")]
    Timeout,
    /// The remote handler answered with an error.
    #[error("remote error: {0}")]
    Remote(String),
    /// A message could not be encoded (for example it exceeds the frame limit).
    #[error("codec: {0}")]
    Codec(String),
    /// The transport or RPC layer has been shut down.
    #[error("shut down")]
    Shutdown,
}

pub type Result<T> = std::result::Result<T, CoreError>;
