//! riak_core for Rill: partitions, who owns them, and how vnodes run.
//!
//! This crate knows nothing of objects. It hashes keys onto a fixed ring of
//! partitions (`chash`, `ring`), computes preference lists (`apl`), and runs
//! one actor per vnode (`vnode`). Time and the network are traits (`clock`,
//! `net::Transport`) so that tests can own them.

pub mod apl;
pub mod chash;
pub mod claim;
pub mod clock;
pub mod error;
pub mod membership;
pub mod net;
pub mod ring;
pub mod vnode;

pub use error::{CoreError, Result};
pub use ring::{NodeName, PartitionId, Ring};
