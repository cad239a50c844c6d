//! In-memory backend: one `BTreeMap` per store behind a read-write lock.
//!
//! Serves unit tests and the simulator, where fjall's threads and real files
//! cannot run. Nothing survives the process; `sync` has nothing to do.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::{
    Backend, Durability, KvIter, Result, StorageError, Store, WriteBatch, check_key, check_name,
    check_value, prefix_end, range_is_empty,
};

/// A new, empty in-memory backend. Clone the `Arc` to share it between threads.
pub fn memory() -> Arc<dyn Backend> {
    Arc::new(MemoryBackend::default())
}

#[derive(Default)]
struct MemoryBackend {
    stores: Mutex<HashMap<String, Arc<MemoryStore>>>,
}

impl Backend for MemoryBackend {
    fn store(&self, name: &str) -> Result<Arc<dyn Store>> {
        check_name(name)?;
        let mut stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        let store = stores.entry(name.to_owned()).or_insert_with(|| {
            Arc::new(MemoryStore {
                name: name.to_owned(),
                map: RwLock::default(),
                dropped: AtomicBool::new(false),
            })
        });
        Ok(Arc::clone(store) as Arc<dyn Store>)
    }

    fn drop_store(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let removed = self
            .stores
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        if let Some(store) = removed {
            store.dropped.store(true, Ordering::SeqCst);
            // Free the memory now, even if handles are still around.
            store.write().clear();
        }
        Ok(())
    }

    fn store_names(&self) -> Result<Vec<String>> {
        let stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<String> = stores.keys().cloned().collect();
        names.sort();
        Ok(names)
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }

    /// Every write is visible and as durable as this backend gets (the process
    /// lifetime) when the call returns.
    fn durability(&self) -> Durability {
        Durability::Sync
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

struct MemoryStore {
    name: String,
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
    dropped: AtomicBool,
}

impl MemoryStore {
    fn alive(&self) -> Result<()> {
        if self.dropped.load(Ordering::SeqCst) {
            Err(StorageError::StoreDropped(self.name.clone()))
        } else {
            Ok(())
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        self.map.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Copies the range out under the read lock: the iterator is a snapshot and
    /// holds no lock (cost: the range's size in memory, fine for tests).
    fn snapshot(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> KvIter<'_> {
        if let Err(e) = self.alive() {
            return Box::new(std::iter::once(Err(e)));
        }
        if range_is_empty(&start, &end) {
            return Box::new(std::iter::empty());
        }
        let items: Vec<(Vec<u8>, Vec<u8>)> = self
            .read()
            .range((start, end))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Box::new(items.into_iter().map(Ok))
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.alive()?;
        Ok(self.read().get(key).cloned())
    }

    fn get_if_cached(&self, key: &[u8]) -> Option<Vec<u8>> {
        // Everything is in memory: a found key is always at hand.
        self.get(key).ok().flatten()
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.alive()?;
        check_key(key)?;
        check_value(value)?;
        self.write().insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &[u8]) -> Result<()> {
        self.alive()?;
        check_key(key)?;
        self.write().remove(key);
        Ok(())
    }

    fn write_batch(&self, batch: WriteBatch) -> Result<()> {
        self.alive()?;
        batch.validate()?;
        let mut map = self.write();
        for (key, value) in batch.into_ops() {
            match value {
                Some(value) => map.insert(key, value),
                None => map.remove(&key),
            };
        }
        Ok(())
    }

    fn range(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> KvIter<'_> {
        self.snapshot(start, end)
    }

    fn prefix(&self, prefix: &[u8]) -> KvIter<'_> {
        self.snapshot(Bound::Included(prefix.to_vec()), prefix_end(prefix))
    }

    fn is_empty(&self) -> Result<bool> {
        self.alive()?;
        Ok(self.read().is_empty())
    }

    fn approximate_len(&self) -> u64 {
        self.read().len() as u64
    }
}
