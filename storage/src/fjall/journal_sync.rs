//! fsyncs fjall's journal through a file handle of our own, outside fjall's
//! journal lock.
//!
//! `Database::persist` holds the journal lock for the whole fsync, so every
//! write of the node waited out each background fsync (about every 10 ms,
//! often milliseconds long under load): a fifth to a quarter of put
//! throughput and most of the put tail (docs/decisions/0012). fjall hands
//! every batch to the OS before it returns (`manual_journal_persist` is
//! off), and an fsync of any handle of a file makes all of the file's
//! written data durable, so syncing the active journal from here covers
//! every write made before the call.
//!
//! fjall 3.1 keeps its journals as `<id>.jnl` in the database folder and
//! writes only to the highest id; sealing a journal (rotation) fsyncs it
//! before the next one is created. So a write made before this call is in
//! a sealed journal, already durable, or in the newest one, which this call
//! syncs.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Why [`JournalSync::sync`] did not sync.
#[derive(Debug)]
pub(super) enum SyncError {
    /// The journal could not be found or opened: nothing was synced, and
    /// fjall's own (locking) fsync should be asked instead.
    NotFound(io::Error),
    /// The fsync failed: what reached the disk is unknown.
    Failed(io::Error),
}

pub(super) struct JournalSync {
    dir: PathBuf,
    /// The newest journal seen so far, and a handle of it.
    active: Mutex<Option<(u64, File)>>,
}

impl JournalSync {
    pub(super) fn new(dir: &Path) -> JournalSync {
        JournalSync {
            dir: dir.to_path_buf(),
            active: Mutex::new(None),
        }
    }

    /// Makes durable every journal write handed to the OS before the call.
    pub(super) fn sync(&self) -> Result<(), SyncError> {
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        let newest = match active.as_ref() {
            // Rotation only ever adds the next id; a sealed journal that is
            // gone (flushed and removed) calls for a new look at the folder.
            Some((id, _)) if self.path(*id).exists() => {
                let mut id = *id;
                while self.path(id + 1).exists() {
                    id += 1;
                }
                id
            }
            _ => newest_journal(&self.dir)
                .map_err(SyncError::NotFound)?
                .ok_or_else(|| SyncError::NotFound(io::Error::other("no journal file")))?,
        };
        let file = match active.take() {
            Some((id, file)) if id == newest => file,
            _ => File::open(self.path(newest)).map_err(SyncError::NotFound)?,
        };
        let synced = file.sync_data().map_err(SyncError::Failed);
        *active = Some((newest, file));
        synced
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id}.jnl"))
    }

    /// The journal file `sync` would make durable now (for tests).
    #[cfg(test)]
    pub(super) fn active_path(&self) -> Option<PathBuf> {
        let active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        active.as_ref().map(|(id, _)| self.path(*id))
    }
}

/// The highest id among the `<id>.jnl` files in `dir`.
fn newest_journal(dir: &Path) -> io::Result<Option<u64>> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let id = name
            .to_str()
            .and_then(|n| n.strip_suffix(".jnl"))
            .and_then(|n| n.parse::<u64>().ok());
        newest = newest.max(id);
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, id: u64) {
        std::fs::write(dir.join(format!("{id}.jnl")), b"x").unwrap();
    }

    #[test]
    fn follows_the_newest_journal() {
        let dir = tempfile::tempdir().unwrap();
        let sync = JournalSync::new(dir.path());
        assert!(
            matches!(sync.sync(), Err(SyncError::NotFound(_))),
            "no journal yet"
        );
        touch(dir.path(), 3);
        std::fs::write(dir.path().join("3.jnl.tmp"), b"").unwrap();
        syncs(&sync, dir.path(), 3, "the only journal");
        touch(dir.path(), 4);
        touch(dir.path(), 5);
        syncs(&sync, dir.path(), 5, "rotated twice");
        for id in [3, 4, 5] {
            std::fs::remove_file(dir.path().join(format!("{id}.jnl"))).unwrap();
        }
        touch(dir.path(), 9);
        syncs(&sync, dir.path(), 9, "looked again");
    }

    /// Syncs, and checks that the journal synced is `<id>.jnl`.
    fn syncs(sync: &JournalSync, dir: &Path, id: u64, why: &str) {
        sync.sync().unwrap();
        assert_eq!(
            sync.active_path(),
            Some(dir.join(format!("{id}.jnl"))),
            "{why}"
        );
    }

    /// The file it syncs is the one fjall writes to.
    #[test]
    fn finds_the_journal_fjall_writes() {
        let dir = tempfile::tempdir().unwrap();
        let backend = crate::open_fjall(dir.path(), &crate::StorageConfig::default()).unwrap();
        let sync = JournalSync::new(dir.path());
        sync.sync().unwrap();
        let active = sync.active_path().unwrap();
        let before = std::fs::read(&active).unwrap();
        backend
            .store("kv.1")
            .unwrap()
            .put(b"k", b"a value to find")
            .unwrap();
        let after = std::fs::read(&active).unwrap();
        assert_ne!(before, after, "the write went to {}", active.display());
        let found = after.windows(15).any(|w| w == b"a value to find");
        assert!(found, "the value is in {}", active.display());
    }
}
