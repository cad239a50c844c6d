//! Vnodes: one partition on one node, run as an actor that owns its storage.
//!
//! The application (riak_kv) implements `Vnode`; `actor` runs vnodes on a
//! few worker threads, each vnode with a bounded mailbox (storage calls
//! block, so they must never run on the async workers that serve sockets);
//! `manager` starts and stops the vnodes this node owns and routes commands
//! to them.

mod actor;
mod manager;

pub use actor::VnodeHandle;
pub use manager::VnodeManager;

use crate::ring::PartitionId;
use std::time::Duration;

/// The behaviour of a vnode; the framework owns its thread and mailbox.
pub trait Vnode: Send + 'static {
    /// A request; it carries its own reply channel.
    type Command: Send + 'static;

    /// Handle one command. Runs on the vnode's worker thread and may block
    /// (the other vnodes of that worker wait meanwhile).
    fn handle_command(&mut self, cmd: Self::Command);

    /// Periodic housekeeping (e.g. reaping tombstones), called about every
    /// `tick_interval` while the vnode runs.
    fn tick(&mut self) {}

    /// True when the vnode holds no data.
    fn is_empty(&mut self) -> bool;

    /// Drop all data (after a completed handoff).
    fn delete(&mut self);
}

/// How the framework runs vnodes.
#[derive(Debug, Clone)]
pub struct VnodeConfig {
    /// Mailbox bound; a full mailbox answers `Overload` to the sender.
    pub mailbox: usize,
    pub tick_interval: Duration,
    /// Worker threads the vnodes run on; 0: two per core.
    pub workers: usize,
    /// The ring's partition count: each worker runs one contiguous range
    /// of partitions (0: partitions are dealt out in turn).
    pub ring_size: u32,
    /// What the workers run besides commands, for the layers below.
    pub hooks: WorkerHooks,
}

/// What a worker thread runs besides its vnodes' commands: the storage
/// applies there the writes its vnodes deferred (`rill_storage`'s
/// `defer_commits` and `commit_deferred`), so that a write needs no other
/// thread woken.
#[derive(Debug, Clone, Copy)]
pub struct WorkerHooks {
    /// Once, as the worker starts.
    pub start: fn(),
    /// Before the worker waits for a command, and after every
    /// [`BUSY_COMMANDS`] commands handled without a wait.
    pub idle: fn(),
}

/// How many commands a busy worker handles between two `idle` hooks: a
/// few hundred microseconds of work, the longest a deferred write waits.
pub const BUSY_COMMANDS: u32 = 16;

impl Default for WorkerHooks {
    fn default() -> Self {
        WorkerHooks {
            start: || {},
            idle: || {},
        }
    }
}

impl Default for VnodeConfig {
    fn default() -> Self {
        VnodeConfig {
            mailbox: 10_000,
            tick_interval: Duration::from_millis(500),
            workers: 0,
            ring_size: 0,
            hooks: WorkerHooks::default(),
        }
    }
}

/// The default size of the node's pools of blocking threads (vnode workers,
/// the read pool): two per core, so that one thread waiting on the disk
/// leaves its core to another.
pub fn two_per_core() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

/// What the manager needs to build a vnode for a partition.
/// Building a vnode may fail (its storage cannot be opened): the error
/// text is logged and the partition stays without a vnode.
pub trait VnodeFactory<V: Vnode>: Send + Sync + 'static {
    fn start(&self, partition: PartitionId) -> Result<V, String>;
}

impl<V: Vnode, F: Fn(PartitionId) -> Result<V, String> + Send + Sync + 'static> VnodeFactory<V>
    for F
{
    fn start(&self, partition: PartitionId) -> Result<V, String> {
        self(partition)
    }
}
