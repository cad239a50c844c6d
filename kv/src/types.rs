//! The bucket type registry and per-bucket property overrides.
//!
//! Kept in the node's `meta` store and cached in memory, so resolving a
//! request's properties never touches storage. The `default` type always
//! exists and is active. A bucket has properties of its own only once they
//! were set; otherwise it inherits its type's.
//! (Cluster-wide propagation comes with the ring gossip.)

use crate::bucket::{BucketProps, PropsError};
use crate::error::{KvError, Result};
use crate::service::TypeStatus;
use rill_storage::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

pub const DEFAULT_TYPE: &str = "default";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TypeRecord {
    status: StoredStatus,
    props: Vec<u8>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
enum StoredStatus {
    Created,
    Active,
}

#[derive(Default)]
struct State {
    types: BTreeMap<String, (TypeStatus, BucketProps)>,
    buckets: BTreeMap<(Vec<u8>, Vec<u8>), BucketProps>,
}

/// Where changes go to reach the rest of the cluster.
pub type Publish = Box<dyn Fn(&[u8], Option<Vec<u8>>) + Send + Sync>;

pub struct BucketTypes {
    store: Arc<dyn Store>,
    state: RwLock<State>,
    publish: std::sync::OnceLock<Publish>,
}

/// Every type and bucket override in `store`.
fn read_state(store: &dyn Store) -> Result<State> {
    let mut state = State::default();
    state.types.insert(
        DEFAULT_TYPE.into(),
        (TypeStatus::Active, BucketProps::default_type()),
    );
    for item in store.prefix(b"t/") {
        let (k, v) = item?;
        let name = String::from_utf8_lossy(&k[2..]).into_owned();
        let rec: TypeRecord = rmp_serde::from_slice(&v).map_err(codec_error)?;
        let props = BucketProps::from_bytes(&rec.props).map_err(codec_error)?;
        let status = match rec.status {
            StoredStatus::Created => TypeStatus::Ready,
            StoredStatus::Active => TypeStatus::Active,
        };
        state.types.insert(name, (status, props));
    }
    for item in store.prefix(b"b/") {
        let (k, v) = item?;
        let rest = &k[2..];
        if rest.len() < 2 {
            continue;
        }
        let tl = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        if rest.len() < 2 + tl {
            continue;
        }
        let (t, b) = rest[2..].split_at(tl);
        let props = BucketProps::from_bytes(&v).map_err(codec_error)?;
        state.buckets.insert((t.to_vec(), b.to_vec()), props);
    }
    Ok(state)
}

fn type_key(name: &str) -> Vec<u8> {
    let mut k = b"t/".to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

fn bucket_key(t: &[u8], b: &[u8]) -> Vec<u8> {
    let mut k = b"b/".to_vec();
    k.extend_from_slice(&(t.len() as u16).to_be_bytes());
    k.extend_from_slice(t);
    k.extend_from_slice(b);
    k
}

fn props_error(e: PropsError) -> KvError {
    KvError::InvalidProps(e)
}

fn codec_error(e: impl std::fmt::Display) -> KvError {
    KvError::Storage(format!("bucket metadata: {e}"))
}

fn type_name(t: &[u8]) -> String {
    String::from_utf8_lossy(t).into_owned()
}

impl BucketTypes {
    /// Loads every type and bucket override from `store`. Blocking.
    pub fn load(store: Arc<dyn Store>) -> Result<BucketTypes> {
        let state = read_state(store.as_ref())?;
        Ok(BucketTypes {
            store,
            state: RwLock::new(state),
            publish: std::sync::OnceLock::new(),
        })
    }

    /// From now on every change is also handed to `publish` (the cluster's
    /// metadata), starting with every entry stored so far. Blocking.
    pub fn publish_to(&self, publish: Publish) -> Result<()> {
        for prefix in [&b"t/"[..], &b"b/"[..]] {
            for item in self.store.prefix(prefix) {
                let (k, v) = item?;
                publish(&k, Some(v));
            }
        }
        let _ = self.publish.set(publish);
        Ok(())
    }

    /// Takes in the cluster's entries (None: deleted), keyed as in the local
    /// store, as `entries` reads them. Blocking.
    ///
    /// `entries` is read under the lock local changes hold while they store
    /// and publish, so it always includes them: entries read from a cluster
    /// state older than a local change would undo it (a type just activated
    /// here would briefly be inactive again).
    pub fn absorb(&self, entries: impl FnOnce() -> Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<()> {
        let mut st = self.state.write().expect("bucket types lock");
        let mut changed = false;
        for (k, v) in entries() {
            if self.store.get(&k)? != v {
                match &v {
                    Some(v) => self.store.put(&k, v)?,
                    None => self.store.delete(&k)?,
                }
                changed = true;
            }
        }
        if changed {
            *st = read_state(self.store.as_ref())?;
        }
        Ok(())
    }

    /// Stores one entry and publishes it.
    fn write(&self, key: &[u8], value: Option<Vec<u8>>) -> Result<()> {
        match &value {
            Some(v) => self.store.put(key, v)?,
            None => self.store.delete(key)?,
        }
        if let Some(publish) = self.publish.get() {
            publish(key, value);
        }
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().expect("bucket types lock")
    }

    /// The properties a request on this bucket uses. The type must be active.
    pub fn props(&self, bucket_type: &[u8], bucket: &[u8]) -> Result<BucketProps> {
        let st = self.read();
        let name = type_name(bucket_type);
        match st.types.get(&name) {
            Some((TypeStatus::Active, tprops)) => Ok(st
                .buckets
                .get(&(bucket_type.to_vec(), bucket.to_vec()))
                .cloned()
                .unwrap_or_else(|| tprops.clone())),
            _ => Err(KvError::UnknownBucketType(name)),
        }
    }

    /// A type's own properties (any status), with `active` filled in.
    pub fn type_props(&self, bucket_type: &[u8]) -> Result<BucketProps> {
        let name = type_name(bucket_type);
        let st = self.read();
        let (status, props) = st
            .types
            .get(&name)
            .ok_or_else(|| KvError::UnknownBucketType(name.clone()))?;
        let mut p = props.clone();
        p.active = Some(*status == TypeStatus::Active);
        Ok(p)
    }

    pub fn status(&self, name: &str) -> Option<TypeStatus> {
        self.read().types.get(name).map(|(s, _)| *s)
    }

    pub fn list(&self) -> Vec<(String, TypeStatus)> {
        self.read()
            .types
            .iter()
            .map(|(n, (s, _))| (n.clone(), *s))
            .collect()
    }

    fn persist_type(&self, name: &str, status: TypeStatus, props: &BucketProps) -> Result<()> {
        let rec = TypeRecord {
            status: if status == TypeStatus::Active {
                StoredStatus::Active
            } else {
                StoredStatus::Created
            },
            props: props.to_bytes().map_err(codec_error)?,
        };
        let bytes = rmp_serde::to_vec_named(&rec).map_err(codec_error)?;
        self.write(&type_key(name), Some(bytes))
    }

    /// Creates a type (`bucket-type create`). Blocking.
    pub fn create(&self, name: &str, props: BucketProps) -> Result<()> {
        crate::bucket::validate_type_name(name).map_err(props_error)?;
        let mut st = self.state.write().expect("bucket types lock");
        if st.types.contains_key(name) {
            return Err(KvError::TypeExists(name.to_string()));
        }
        // One node: every member has seen the type as soon as it is stored.
        self.persist_type(name, TypeStatus::Ready, &props)?;
        st.types
            .insert(name.to_string(), (TypeStatus::Ready, props));
        Ok(())
    }

    /// Activates a created type. Blocking.
    pub fn activate(&self, name: &str) -> Result<()> {
        let mut st = self.state.write().expect("bucket types lock");
        let (status, props) = st
            .types
            .get(name)
            .cloned()
            .ok_or_else(|| KvError::UnknownBucketType(name.to_string()))?;
        if status != TypeStatus::Active {
            self.persist_type(name, TypeStatus::Active, &props)?;
            st.types
                .insert(name.to_string(), (TypeStatus::Active, props));
        }
        Ok(())
    }

    /// Applies `update` to a type's properties under Riak's rules for
    /// existing types. Blocking.
    pub fn update_type(
        &self,
        name: &str,
        update: impl FnOnce(&BucketProps) -> std::result::Result<BucketProps, PropsError>,
    ) -> Result<()> {
        let mut st = self.state.write().expect("bucket types lock");
        let (status, old) = st
            .types
            .get(name)
            .cloned()
            .ok_or_else(|| KvError::UnknownBucketType(name.to_string()))?;
        let new = update(&old).map_err(props_error)?;
        crate::bucket::validate_type_update(&old, &new).map_err(props_error)?;
        self.persist_type(name, status, &new)?;
        st.types.insert(name.to_string(), (status, new));
        Ok(())
    }

    /// Applies `update` to a bucket's properties. Blocking.
    pub fn update_bucket(
        &self,
        bucket_type: &[u8],
        bucket: &[u8],
        update: impl FnOnce(&BucketProps) -> std::result::Result<BucketProps, PropsError>,
    ) -> Result<()> {
        let current = self.props(bucket_type, bucket)?;
        let type_props = self.type_props(bucket_type)?;
        let new = update(&current).map_err(props_error)?;
        // A bucket may not change what its type fixes (datatype, consistent, …).
        crate::bucket::validate_type_update(&type_props, &new).map_err(props_error)?;
        let mut st = self.state.write().expect("bucket types lock");
        self.write(
            &bucket_key(bucket_type, bucket),
            Some(new.to_bytes().map_err(codec_error)?),
        )?;
        st.buckets
            .insert((bucket_type.to_vec(), bucket.to_vec()), new);
        Ok(())
    }

    /// Drops a bucket's own properties: it inherits its type's again. Blocking.
    pub fn reset_bucket(&self, bucket_type: &[u8], bucket: &[u8]) -> Result<()> {
        self.props(bucket_type, bucket)?;
        let mut st = self.state.write().expect("bucket types lock");
        self.write(&bucket_key(bucket_type, bucket), None)?;
        st.buckets.remove(&(bucket_type.to_vec(), bucket.to_vec()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> (Arc<dyn rill_storage::Backend>, BucketTypes) {
        let backend = rill_storage::memory();
        let store = backend.store("meta").unwrap();
        (backend, BucketTypes::load(store).unwrap())
    }

    #[test]
    fn default_type_exists_and_unknown_types_do_not() {
        let (_b, t) = registry();
        assert!(!t.props(b"default", b"x").unwrap().allow_mult);
        assert_eq!(
            t.props(b"nope", b"x").unwrap_err(),
            KvError::UnknownBucketType("nope".into())
        );
    }

    #[test]
    fn types_must_be_activated_and_survive_reload() {
        let (backend, t) = registry();
        t.create("sib", BucketProps::new_type_defaults()).unwrap();
        assert_eq!(t.status("sib"), Some(TypeStatus::Ready));
        assert!(t.props(b"sib", b"b").is_err());
        t.activate("sib").unwrap();
        assert!(t.props(b"sib", b"b").unwrap().allow_mult);
        t.update_bucket(b"sib", b"b", |p| {
            let mut p = p.clone();
            p.n_val = 2;
            Ok(p)
        })
        .unwrap();
        let again = BucketTypes::load(backend.store("meta").unwrap()).unwrap();
        assert_eq!(again.status("sib"), Some(TypeStatus::Active));
        assert_eq!(again.props(b"sib", b"b").unwrap().n_val, 2);
        assert_eq!(again.props(b"sib", b"other").unwrap().n_val, 3);
        again.reset_bucket(b"sib", b"b").unwrap();
        assert_eq!(again.props(b"sib", b"b").unwrap().n_val, 3);
    }

    #[test]
    fn creating_twice_fails() {
        let (_b, t) = registry();
        t.create("x", BucketProps::new_type_defaults()).unwrap();
        assert!(t.create("x", BucketProps::new_type_defaults()).is_err());
    }
}
