//! Errors of the storage layer.
//!
//! Engine-specific errors (fjall) are converted in the backend's own module,
//! so this file names no engine type; callers match on the variants below.

use thiserror::Error;

/// Everything a [`crate::Backend`] or [`crate::Store`] call can fail with.
#[derive(Debug, Error)]
pub enum StorageError {
    /// A store name is empty, longer than 255 bytes, or has a character
    /// outside `[A-Za-z0-9_.#$-]`.
    #[error("invalid store name {0:?}: use 1-255 characters from [A-Za-z0-9_.#$-]")]
    InvalidName(String),

    /// Keys are limited to [`crate::MAX_KEY_LEN`] (65,534) bytes.
    #[error("key of {0} bytes exceeds the limit of {max} bytes", max = crate::MAX_KEY_LEN)]
    KeyTooLarge(usize),

    /// Values are limited to `u32::MAX` bytes.
    #[error("value of {0} bytes exceeds the limit of {max} bytes", max = crate::MAX_VALUE_LEN)]
    ValueTooLarge(usize),

    /// The store was dropped with [`crate::Backend::drop_store`]; the handle is dead.
    /// Ask the backend for the name again to get a new, empty store.
    #[error("store {0:?} was dropped")]
    StoreDropped(String),

    /// An earlier fsync failed; the engine refuses further writes because it can no
    /// longer tell what reached the disk. Restart the node to recover from the journal.
    #[error("storage is poisoned by an earlier failed fsync; restart to recover")]
    Poisoned,

    /// Another process (or another backend in this process) holds the data directory.
    #[error("data directory is locked by another open backend")]
    Locked,

    /// Plain I/O failure.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),

    /// Any other engine failure (corruption, recovery, format version).
    #[error("storage engine error: {0}")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Result of every storage call.
pub type Result<T> = std::result::Result<T, StorageError>;
