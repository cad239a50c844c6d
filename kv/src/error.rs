//! Errors of the KV layer. Each variant is one of Riak's outcomes; the HTTP
//! and PB edges map them to status codes and `RpbErrorResp` texts.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KvError {
    #[error("notfound")]
    NotFound,
    /// The bucket type does not exist (or is not active).
    #[error("Unknown bucket type: {0}")]
    UnknownBucketType(String),
    #[error("timeout")]
    Timeout,
    #[error("overload")]
    Overload,
    /// Too few replies to reach `r`: `{r_val_unsatisfied, Needed, Got}`.
    #[error("{{r_val_unsatisfied,{needed},{got}}}")]
    RValUnsatisfied { needed: u32, got: u32 },
    #[error("{{pr_val_unsatisfied,{needed},{got}}}")]
    PrValUnsatisfied { needed: u32, got: u32 },
    #[error("{{w_val_unsatisfied,{needed},{got}}}")]
    WValUnsatisfied { needed: u32, got: u32 },
    #[error("{{dw_val_unsatisfied,{needed},{got}}}")]
    DwValUnsatisfied { needed: u32, got: u32 },
    #[error("{{pw_val_unsatisfied,{needed},{got}}}")]
    PwValUnsatisfied { needed: u32, got: u32 },
    #[error("too_many_fails")]
    TooManyFails,
    /// A quorum larger than n_val was asked for.
    #[error("{{n_val_violation,{0}}}")]
    NValViolation(u32),
    #[error("{{insufficient_vnodes,{got},need,{needed}}}")]
    InsufficientVnodes { got: u32, needed: u32 },
    #[error("{{too_many_siblings,{0}}}")]
    TooManySiblings(usize),
    #[error("{{too_large,{0}}}")]
    TooLarge(usize),
    /// `if_none_match` and the object exists.
    #[error("match_found")]
    MatchFound,
    /// `if_not_modified` and the stored clock differs.
    #[error("modified")]
    Modified,
    /// Bad request input (a message for the client).
    #[error("{0}")]
    BadRequest(String),
    /// Invalid bucket or type properties, every problem listed.
    #[error("{0}")]
    InvalidProps(crate::bucket::PropsError),
    /// `bucket-type create` of a type that exists.
    #[error("Bucket type {0} already exists")]
    TypeExists(String),
    /// A stored record failed its checksum or could not be decoded.
    #[error("corrupt object: {0}")]
    Corrupt(String),
    #[error("storage error: {0}")]
    Storage(String),
    /// The vnode's store was dropped under it (its partition was handed
    /// off meanwhile); the vnode must be restarted on a fresh store.
    #[error("storage error: {0}")]
    StoreDropped(String),
    #[error("shutting down")]
    ShuttingDown,
    /// A data type operation's precondition failed (removing an absent
    /// member or field without a context): Riak's `{precondition, ...}` term.
    #[error("{0}")]
    Precondition(String),
    /// A data type request the bucket or the operation does not allow (an
    /// op of another type, an invalid op, a bad context): Riak's text.
    #[error("{0}")]
    Datatype(String),
    /// A data type request on a bucket with `allow_mult=false`.
    #[error("Bucket must be allow_mult=true")]
    DatatypeNeedsAllowMult,
    /// A data type request on an `allow_mult` bucket without `datatype`.
    #[error("Bucket datatype `undefined` is not a supported type")]
    NotDatatypeBucket,
}

pub type Result<T> = std::result::Result<T, KvError>;

impl From<crate::crdt::CrdtError> for KvError {
    fn from(e: crate::crdt::CrdtError) -> Self {
        use crate::crdt::CrdtError::*;
        match e {
            Precondition(_) => KvError::Precondition(e.to_string()),
            WrongType { .. } | InvalidOp(_) | BadPrecision(_) | BadContext(_) => {
                KvError::Datatype(e.to_string())
            }
            other => KvError::Corrupt(other.to_string()),
        }
    }
}

impl From<rill_storage::StorageError> for KvError {
    fn from(e: rill_storage::StorageError) -> Self {
        match e {
            rill_storage::StorageError::StoreDropped(_) => KvError::StoreDropped(e.to_string()),
            other => KvError::Storage(other.to_string()),
        }
    }
}

impl From<rill_core::CoreError> for KvError {
    fn from(e: rill_core::CoreError) -> Self {
        match e {
            rill_core::CoreError::Overload => KvError::Overload,
            other => KvError::Storage(other.to_string()),
        }
    }
}
