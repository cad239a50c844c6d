//! riak_kv for Rill: everything about a Riak object and a request on it.
//!
//! Objects and their causality live in `object`, bucket types and properties in
//! `bucket`; the vnode and the request coordinators build on both.

pub mod bucket;
pub mod object;
