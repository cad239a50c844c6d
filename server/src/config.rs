//! Node configuration: embedded defaults, then a TOML file, then `RILL_*`
//! environment variables, then command-line flags, each overriding the last.

use anyhow::{Context, bail};
use rill_kv::{DeleteMode, KvConfig};
use rill_storage::{Durability, StorageConfig};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a node needs to start.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The node's name, e.g. `rill@127.0.0.1`.
    pub node: String,
    pub data_dir: PathBuf,
    /// Riak HTTP API listener (8098 in Riak).
    pub http: SocketAddr,
    /// Riak Protocol Buffers listener (8087 in Riak).
    pub pb: SocketAddr,
    /// Node-to-node listener (8099 in Riak).
    pub cluster: SocketAddr,
    pub ring_size: u32,
    /// `interval` (default) or `sync`.
    pub durability: String,
    /// fsync period of `interval` durability, in milliseconds.
    pub sync_interval_ms: u64,
    /// `keep`, `immediate`, or a delay in milliseconds (default 3000).
    pub delete_mode: String,
    /// Memory for the caches shared by the node's stores (MiB), the block
    /// cache and the row cache together; 0 (the default): a quarter of the
    /// memory, see [`auto_cache_mb`].
    pub cache_mb: u64,
    /// Memtable size per vnode (MiB) past which it is sealed on its own; 0
    /// (the default): [`AUTO_MEMTABLE_MB`].
    pub memtable_mb: u64,
    /// Budget of all vnodes' memtables together (MiB), kept by sealing the
    /// largest first; 0 (the default): from the memory, see
    /// [`auto_write_buffer_mb`].
    pub write_buffer_mb: u64,
    /// The part of `cache_mb` that caches recently read and written values
    /// (MiB; 0: no row cache). Unset: three quarters of `cache_mb`, see
    /// [`auto_row_cache_mb`].
    pub row_cache_mb: Option<u64>,
    /// Threads for storage flushes and compactions (default 1, see
    /// `StorageConfig::engine_threads`).
    pub engine_threads: usize,
    /// Threads the vnodes run on (0: two per core).
    pub vnode_workers: usize,
    /// Threads serving gets from the local stores (0: two per core).
    pub read_threads: usize,
    /// Log filter, as `RUST_LOG` (default `info`).
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        let storage = StorageConfig::default();
        Config {
            node: "rill@127.0.0.1".into(),
            data_dir: PathBuf::from("./rill-data"),
            http: "127.0.0.1:8098".parse().expect("addr"),
            pb: "127.0.0.1:8087".parse().expect("addr"),
            cluster: "127.0.0.1:8099".parse().expect("addr"),
            ring_size: 64,
            durability: "interval".into(),
            sync_interval_ms: 10,
            delete_mode: "3000".into(),
            cache_mb: 0,
            memtable_mb: 0,
            write_buffer_mb: 0,
            row_cache_mb: None,
            engine_threads: storage.engine_threads,
            vnode_workers: 0,
            read_threads: 0,
            log: "info".into(),
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
    }

    pub fn storage(&self) -> anyhow::Result<StorageConfig> {
        let durability = match self.durability.as_str() {
            "sync" => Durability::Sync,
            "interval" => Durability::Interval(Duration::from_millis(self.sync_interval_ms.max(1))),
            other => bail!("durability must be `sync` or `interval`, not `{other}`"),
        };
        let caches = match self.cache_mb {
            0 => auto_cache_mb(crate::memory::total_bytes()),
            mb => mb,
        };
        let rows = self
            .row_cache_mb
            .unwrap_or_else(|| auto_row_cache_mb(caches));
        if rows >= caches {
            bail!("row_cache_mb ({rows}) must be less than cache_mb ({caches}), which includes it");
        }
        Ok(StorageConfig {
            durability,
            cache_mb: caches - rows,
            memtable_mb: match self.memtable_mb {
                0 => AUTO_MEMTABLE_MB,
                mb => mb,
            },
            write_buffer_mb: match self.write_buffer_mb {
                0 => auto_write_buffer_mb(crate::memory::total_bytes()),
                mb => mb,
            },
            row_cache_mb: rows,
            engine_threads: self.engine_threads.max(1),
        })
    }

    pub fn kv(&self) -> anyhow::Result<KvConfig> {
        let delete_mode = match self.delete_mode.as_str() {
            "keep" => DeleteMode::Keep,
            "immediate" => DeleteMode::Immediate,
            ms => DeleteMode::Delay(Duration::from_millis(ms.parse().with_context(|| {
                format!("delete_mode must be `keep`, `immediate` or milliseconds, not `{ms}`")
            })?)),
        };
        if !(8..=1024).contains(&self.ring_size) || !self.ring_size.is_power_of_two() {
            bail!(
                "ring_size must be a power of two from 8 to 1024, not {}",
                self.ring_size
            );
        }
        if !self.node.contains('@') {
            bail!("node name must look like name@host, not `{}`", self.node);
        }
        Ok(KvConfig {
            node_name: self.node.clone(),
            ring_size: self.ring_size,
            delete_mode,
            vnode: rill_core::vnode::VnodeConfig {
                workers: self.vnode_workers,
                ..Default::default()
            },
            read_threads: self.read_threads,
            ..KvConfig::default()
        })
    }
}

/// The caches' memory when none is configured: a quarter of the memory (of
/// the machine, or of the container's limit), at least 64 MiB. Reads that
/// miss the block cache cost a `pread` and a block decode each, several per
/// get, so a working set that fits is worth a lot (docs/decisions/0006).
pub fn auto_cache_mb(total_bytes: Option<u64>) -> u64 {
    const FLOOR_MB: u64 = 64;
    total_bytes.map_or(FLOOR_MB, |b| ((b / 4) >> 20).max(FLOOR_MB))
}

/// The row cache's share of the caches when none is configured: three
/// quarters. A random point read of a small object needs its row (about
/// 300 bytes cached for a 100-byte value) or a whole 4 KiB block, so the
/// same memory serves over ten times more such reads as rows; with a
/// quarter, ten million 100-byte objects did not fit and half the reads
/// searched the engine. The block cache keeps the rest, enough for the
/// index and filter blocks of a large store and for scans
/// (docs/decisions/0019).
pub fn auto_row_cache_mb(caches_mb: u64) -> u64 {
    caches_mb / 4 * 3
}

/// A vnode's memtable size limit when none is configured (fjall's default).
/// It is a backstop: the write buffer budget seals memtables well before,
/// one at a time (docs/decisions/0013).
pub const AUTO_MEMTABLE_MB: u64 = 64;

/// The budget of all memtables together when none is configured: 1/48 of
/// the memory, from 256 to 512 MiB (512 MiB on 24 GiB). With a one-node
/// cluster's 64 vnodes, memtables are sealed at about 16 MiB: larger
/// memtables mean fewer, larger flushes and less compaction per write (at
/// 10 million keys, 16 MiB ran the 50/50 mix 14–56 % faster than 4 MiB,
/// docs/decisions/0011).
pub fn auto_write_buffer_mb(total_bytes: Option<u64>) -> u64 {
    const MIN_MB: u64 = 256;
    const MAX_MB: u64 = 512;
    total_bytes.map_or(MIN_MB, |b| ((b >> 20) / 48).clamp(MIN_MB, MAX_MB))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_riak_like() {
        let c = Config::default();
        assert_eq!(c.http.port(), 8098);
        assert_eq!(c.pb.port(), 8087);
        assert_eq!(c.cluster.port(), 8099);
        assert_eq!(c.kv().unwrap().ring_size, 64);
        assert!(matches!(
            c.storage().unwrap().durability,
            Durability::Interval(_)
        ));
    }

    #[test]
    fn the_cache_defaults_to_a_quarter_of_memory() {
        assert_eq!(auto_cache_mb(Some(24 << 30)), 6 << 10);
        assert_eq!(auto_cache_mb(Some(128 << 20)), 64);
        assert_eq!(auto_cache_mb(None), 64);
        let c: Config = toml::from_str("cache_mb = 100").unwrap();
        let storage = c.storage().unwrap();
        assert_eq!(storage.cache_mb + storage.row_cache_mb, 100);
        let storage = Config::default().storage().unwrap();
        assert!(storage.cache_mb + storage.row_cache_mb >= 64);
    }

    #[test]
    fn the_write_buffer_grows_with_memory_from_256_to_512_mib() {
        assert_eq!(auto_write_buffer_mb(Some(24 << 30)), 512);
        assert_eq!(auto_write_buffer_mb(Some(64 << 30)), 512);
        assert_eq!(auto_write_buffer_mb(Some(18 << 30)), 384);
        assert_eq!(auto_write_buffer_mb(Some(2 << 30)), 256);
        assert_eq!(auto_write_buffer_mb(None), 256);
        let c: Config = toml::from_str("write_buffer_mb = 100\nmemtable_mb = 2").unwrap();
        let storage = c.storage().unwrap();
        assert_eq!((storage.write_buffer_mb, storage.memtable_mb), (100, 2));
        let storage = Config::default().storage().unwrap();
        assert!((256..=512).contains(&storage.write_buffer_mb));
        assert_eq!(storage.memtable_mb, AUTO_MEMTABLE_MB);
    }

    #[test]
    fn the_row_cache_is_three_quarters_of_the_caches_unless_set() {
        let c: Config = toml::from_str("cache_mb = 1000").unwrap();
        let storage = c.storage().unwrap();
        assert_eq!((storage.cache_mb, storage.row_cache_mb), (250, 750));
        let c: Config = toml::from_str("cache_mb = 64").unwrap();
        let storage = c.storage().unwrap();
        assert_eq!((storage.cache_mb, storage.row_cache_mb), (16, 48));
        let c: Config = toml::from_str("cache_mb = 1000\nrow_cache_mb = 0").unwrap();
        let storage = c.storage().unwrap();
        assert_eq!((storage.cache_mb, storage.row_cache_mb), (1000, 0));
        let c: Config = toml::from_str("cache_mb = 100\nrow_cache_mb = 100").unwrap();
        let err = c.storage().unwrap_err().to_string();
        assert!(err.contains("row_cache_mb"), "{err}");
    }

    #[test]
    fn file_overrides_defaults_and_rejects_unknown_keys() {
        let c: Config = toml::from_str("http = \"127.0.0.1:1\"\ndurability = \"sync\"").unwrap();
        assert_eq!(c.http.port(), 1);
        assert_eq!(c.storage().unwrap().durability, Durability::Sync);
        assert_eq!(c.pb.port(), 8087);
        assert!(toml::from_str::<Config>("htp = 1").is_err());
    }

    #[test]
    fn bad_values_are_explained() {
        let c = Config {
            ring_size: 63,
            ..Config::default()
        };
        assert!(c.kv().unwrap_err().to_string().contains("power of two"));
        let c = Config {
            durability: "often".into(),
            ..Config::default()
        };
        assert!(c.storage().is_err());
    }
}
