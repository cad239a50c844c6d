//! Settings of the KV service, with Riak's defaults.

use rill_core::vnode::VnodeConfig;
use std::time::Duration;

/// What happens to a tombstone once every primary holds it (`delete_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Remove it from storage after this delay (Riak's default: 3 s).
    Delay(Duration),
    Immediate,
    /// Keep tombstones forever.
    Keep,
}

#[derive(Debug, Clone)]
pub struct KvConfig {
    pub node_name: String,
    pub ring_size: u32,
    pub delete_mode: DeleteMode,
    /// Used when a request names no timeout (Riak: 60 s).
    pub default_timeout: Duration,
    /// A put that would leave more siblings than this fails.
    pub max_siblings: usize,
    /// More siblings than this are logged.
    pub warn_siblings: usize,
    /// A put of an object larger than this fails (`{too_large, Bytes}`).
    pub max_object_size: usize,
    pub warn_object_size: usize,
    pub vnode: VnodeConfig,
    /// Memory for the decoded values of recently updated large data types
    /// (see `vnode::dt_cache`), in bytes; 0 disables the cache.
    pub dt_cache_bytes: usize,
    /// Threads serving gets straight from the local stores; 0: two per core.
    pub read_threads: usize,
    /// The ring to start with (a cluster's, kept across restarts); None: a
    /// one-node ring of `ring_size` partitions.
    pub initial_ring: Option<rill_core::Ring>,
}

impl Default for KvConfig {
    fn default() -> Self {
        KvConfig {
            node_name: "rill@127.0.0.1".into(),
            ring_size: 64,
            delete_mode: DeleteMode::Delay(Duration::from_secs(3)),
            default_timeout: Duration::from_secs(60),
            max_siblings: 100,
            warn_siblings: 25,
            max_object_size: 50 * 1024 * 1024,
            warn_object_size: 5 * 1024 * 1024,
            vnode: VnodeConfig::default(),
            dt_cache_bytes: 64 * 1024 * 1024,
            read_threads: 0,
            initial_ring: None,
        }
    }
}
