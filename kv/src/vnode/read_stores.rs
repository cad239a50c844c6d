//! The stores of this node's vnodes, for reads that skip the vnode's
//! thread. A get asks up to n local vnodes; sending each a command and
//! waiting for its reply costs two thread wake-ups per replica, more than
//! the read itself. A store is safe to read from any thread (the vnode
//! only serialises writes), so the get path reads the local replicas
//! directly, all in one blocking task.
//!
//! A store is registered when its vnode opens it and removed before its
//! data is dropped. A read that finds its store dropped anyway (a race with
//! handoff) falls back to asking the vnode, which reopens it.

use rill_core::PartitionId;
use rill_storage::Store;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Default)]
pub struct ReadStores {
    stores: RwLock<HashMap<PartitionId, Arc<dyn Store>>>,
}

impl ReadStores {
    pub fn insert(&self, p: PartitionId, store: Arc<dyn Store>) {
        self.stores
            .write()
            .expect("read stores lock")
            .insert(p, store);
    }

    pub fn remove(&self, p: PartitionId) {
        self.stores.write().expect("read stores lock").remove(&p);
    }

    pub fn get(&self, p: PartitionId) -> Option<Arc<dyn Store>> {
        self.stores
            .read()
            .expect("read stores lock")
            .get(&p)
            .cloned()
    }
}
