//! Bucket types and bucket properties: the property set with Riak's defaults,
//! quorum values, validation of updates, and the HTTP JSON and PB shapes.
//! Everything here is pure; storing props and gossiping types is left to the
//! bucket-type registry, and status codes to the protocol edges.

pub mod error;
mod json;
pub mod pb;
pub mod props;
pub mod quorum;

pub use error::{PropError, PropsCodecError, PropsError, QuorumParseError, Reason};
pub use pb::{PbCommitHook, PbModFun, PbProps};
pub use props::{
    BucketProps, CommitHook, Datatype, ModFun, Repl, SyncOnWrite, validate_create,
    validate_type_name, validate_type_update,
};
pub use quorum::Quorum;
