//! Riak objects, siblings and dotted version vectors: what a key holds, how
//! concurrent writes become siblings, how replicas merge, and the byte forms
//! of objects (stored records) and clocks (client contexts).
//!
//! Everything here is pure; vnodes and request FSMs decide when to call it.

mod codec;
mod error;
mod meta;
mod riak_object;
mod vclock;

#[cfg(test)]
mod laws;

pub use codec::{
    CONTEXT_VERSION, MAX_CONTEXT_ENTRIES, OBJECT_VERSION, context_from_base64, context_to_base64,
    decode_context, decode_object, encode_context, encode_object, encode_record, to_wire,
};
pub use error::ObjectError;
pub use meta::{DEFAULT_CONTENT_TYPE, Link, Metadata, VTAG_LEN, new_vtag};
pub use riak_object::{
    Content, LimitCheck, RiakObject, SIBLINGS_MAX, SIBLINGS_WARN, SIZE_MAX, SIZE_WARN, Sibling,
};
pub use vclock::{Actor, Dot, VClock};
