//! The backend conformance suite: every backend must pass these tests.
//!
//! Each check is a plain function over `&dyn Backend`; the `memory_backend` and
//! `fjall_backend` modules at the bottom run all of them against a fresh backend.
//! fjall-only behaviour (reopening a directory) lives in `fjall_backend` too.

use std::collections::BTreeMap;
use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::{Backend, StorageError, Store, WriteBatch};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn collect(iter: crate::KvIter<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
    iter.collect::<crate::Result<Vec<_>>>()
        .expect("scan failed")
}

fn all(store: &dyn Store) -> Vec<(Vec<u8>, Vec<u8>)> {
    collect(store.range(Unbounded, Unbounded))
}

fn model_range(
    model: &Model,
    start: &Bound<Vec<u8>>,
    end: &Bound<Vec<u8>>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    model
        .iter()
        .filter(|(k, _)| {
            let above = match start {
                Included(s) => *k >= s,
                Excluded(s) => *k > s,
                Unbounded => true,
            };
            let below = match end {
                Included(e) => *k <= e,
                Excluded(e) => *k < e,
                Unbounded => true,
            };
            above && below
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(crate) fn put_get_delete_overwrite(backend: &dyn Backend) {
    let s = backend.store("kv.1").unwrap();
    assert!(s.is_empty().unwrap());
    assert_eq!(s.get(b"a").unwrap(), None);
    s.put(b"a", b"1").unwrap();
    assert_eq!(s.get(b"a").unwrap(), Some(b"1".to_vec()));
    s.put(b"a", b"2").unwrap();
    assert_eq!(s.get(b"a").unwrap(), Some(b"2".to_vec()));
    assert!(!s.is_empty().unwrap());
    s.delete(b"a").unwrap();
    assert_eq!(s.get(b"a").unwrap(), None);
    assert!(s.is_empty().unwrap());
    // Deleting a missing key is fine.
    s.delete(b"never").unwrap();
    s.put(b"b", b"3").unwrap();
    assert!(s.approximate_len() >= 1);
    backend.sync().unwrap();
    assert_eq!(s.get(b"b").unwrap(), Some(b"3".to_vec()));
}

pub(crate) fn empty_keys_and_values(backend: &dyn Backend) {
    let s = backend.store("kv.2").unwrap();
    s.put(b"", b"empty key").unwrap();
    s.put(b"k", b"").unwrap();
    assert_eq!(s.get(b"").unwrap(), Some(b"empty key".to_vec()));
    assert_eq!(s.get(b"k").unwrap(), Some(Vec::new()));
    assert_eq!(
        all(&*s),
        vec![
            (b"".to_vec(), b"empty key".to_vec()),
            (b"k".to_vec(), Vec::new())
        ]
    );
    s.delete(b"").unwrap();
    assert_eq!(s.get(b"").unwrap(), None);
    assert_eq!(s.get(b"k").unwrap(), Some(Vec::new()));
}

pub(crate) fn large_values_and_key_limits(backend: &dyn Backend) {
    let s = backend.store("kv.3").unwrap();
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    s.put(b"big", &big).unwrap();
    assert_eq!(s.get(b"big").unwrap(), Some(big.clone()));
    let max_key = vec![7u8; crate::MAX_KEY_LEN];
    s.put(&max_key, b"v").unwrap();
    assert_eq!(s.get(&max_key).unwrap(), Some(b"v".to_vec()));
    let too_long = vec![7u8; crate::MAX_KEY_LEN + 1];
    assert!(matches!(
        s.put(&too_long, b"v"),
        Err(StorageError::KeyTooLarge(n)) if n == crate::MAX_KEY_LEN + 1
    ));
    // A batch with one bad key is rejected whole.
    let mut batch = WriteBatch::new();
    batch
        .put(b"fine".to_vec(), b"v".to_vec())
        .put(too_long, b"v".to_vec());
    assert!(matches!(
        s.write_batch(batch),
        Err(StorageError::KeyTooLarge(_))
    ));
    assert_eq!(s.get(b"fine").unwrap(), None);
    assert_eq!(s.get(b"big").unwrap().map(|v| v.len()), Some(big.len()));
}

pub(crate) fn batches_apply_everything(backend: &dyn Backend) {
    let s = backend.store("kv.4").unwrap();
    s.put(b"gone", b"x").unwrap();
    let mut batch = WriteBatch::new();
    batch
        .put(b"a".to_vec(), b"1".to_vec())
        .put(b"b".to_vec(), b"2".to_vec())
        .delete(b"gone".to_vec())
        .put(b"c".to_vec(), b"first".to_vec())
        .put(b"c".to_vec(), b"last".to_vec())
        .put(b"d".to_vec(), b"put".to_vec())
        .delete(b"d".to_vec());
    assert_eq!(batch.len(), 5);
    s.write_batch(batch).unwrap();
    assert_eq!(
        all(&*s),
        vec![
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec()),
            (b"c".to_vec(), b"last".to_vec()),
        ]
    );
    s.write_batch(WriteBatch::new()).unwrap();
    assert_eq!(all(&*s).len(), 3);
}

/// A reader scanning while batches rewrite several keys at once must never see a
/// mix of two batches.
pub(crate) fn batches_are_all_or_nothing(backend: &dyn Backend) {
    const KEYS: usize = 8;
    const ROUNDS: u32 = 300;
    let s = backend.store("kv.5").unwrap();
    let keys: Vec<Vec<u8>> = (0..KEYS).map(|i| format!("key{i}").into_bytes()).collect();
    let mut batch = WriteBatch::new();
    for k in &keys {
        batch.put(k.clone(), 0u32.to_be_bytes().to_vec());
    }
    s.write_batch(batch).unwrap();

    let done = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| {
        let reader_store = Arc::clone(&s);
        let reader_done = Arc::clone(&done);
        let reader = scope.spawn(move || {
            let mut scans = 0u32;
            while !reader_done.load(Ordering::SeqCst) || scans == 0 {
                let items = all(&*reader_store);
                assert_eq!(items.len(), KEYS, "a batch was seen half applied");
                let first = &items[0].1;
                assert!(
                    items.iter().all(|(_, v)| v == first),
                    "a batch was seen half applied: {items:?}"
                );
                scans += 1;
            }
            scans
        });
        for round in 1..=ROUNDS {
            let mut batch = WriteBatch::new();
            for k in &keys {
                batch.put(k.clone(), round.to_be_bytes().to_vec());
            }
            s.write_batch(batch).unwrap();
        }
        done.store(true, Ordering::SeqCst);
        assert!(reader.join().unwrap() > 0);
    });
    assert!(all(&*s).iter().all(|(_, v)| v == &ROUNDS.to_be_bytes()));
}

pub(crate) fn range_bounds(backend: &dyn Backend) {
    let s = backend.store("kv.6").unwrap();
    let mut model = Model::new();
    for k in ["", "a", "aa", "ab", "b", "ba", "c", "d"] {
        let v = format!("v-{k}").into_bytes();
        s.put(k.as_bytes(), &v).unwrap();
        model.insert(k.as_bytes().to_vec(), v);
    }
    let points = ["", "a", "ab", "abc", "b", "c", "z"];
    let mut bounds = vec![Unbounded];
    for p in points {
        bounds.push(Included(p.as_bytes().to_vec()));
        bounds.push(Excluded(p.as_bytes().to_vec()));
    }
    for start in &bounds {
        for end in &bounds {
            let got = collect(s.range(start.clone(), end.clone()));
            assert_eq!(
                got,
                model_range(&model, start, end),
                "range {start:?}..{end:?}"
            );
        }
    }
}

pub(crate) fn prefix_scans(backend: &dyn Backend) {
    let s = backend.store("kv.7").unwrap();
    let keys: [&[u8]; 9] = [
        b"",
        b"a",
        b"ab",
        b"abc",
        b"ac",
        b"b",
        b"\xff",
        b"\xff\xff",
        b"\xff\xff\x00",
    ];
    for k in keys {
        s.put(k, b"v").unwrap();
    }
    let scan =
        |p: &[u8]| -> Vec<Vec<u8>> { collect(s.prefix(p)).into_iter().map(|(k, _)| k).collect() };
    assert_eq!(scan(b"ab"), vec![b"ab".to_vec(), b"abc".to_vec()]);
    assert_eq!(scan(b"a").len(), 4);
    assert_eq!(scan(b"abcd"), Vec::<Vec<u8>>::new());
    assert_eq!(
        scan(b"\xff"),
        vec![
            b"\xff".to_vec(),
            b"\xff\xff".to_vec(),
            b"\xff\xff\x00".to_vec()
        ]
    );
    assert_eq!(
        scan(b"\xff\xff"),
        vec![b"\xff\xff".to_vec(), b"\xff\xff\x00".to_vec()]
    );
    assert_eq!(
        scan(b""),
        keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>()
    );
}

pub(crate) fn ordering_is_bytewise(backend: &dyn Backend) {
    let s = backend.store("kv.8").unwrap();
    let mut keys: Vec<Vec<u8>> = vec![
        vec![0xff],
        vec![0x80],
        vec![0x7f],
        vec![0x00],
        vec![0x00, 0x00],
        b"B".to_vec(),
        b"a".to_vec(),
        b"ab".to_vec(),
        vec![],
        1000u32.to_be_bytes().to_vec(),
        2u32.to_be_bytes().to_vec(),
    ];
    for k in &keys {
        s.put(k, k).unwrap();
    }
    keys.sort();
    let got: Vec<Vec<u8>> = all(&*s).into_iter().map(|(k, _)| k).collect();
    assert_eq!(got, keys);
}

pub(crate) fn drop_store_then_reopen_is_empty(backend: &dyn Backend) {
    let s = backend.store("kv.9").unwrap();
    let other = backend.store("kv.10").unwrap();
    s.put(b"k", b"v").unwrap();
    other.put(b"k", b"other").unwrap();
    backend.drop_store("kv.9").unwrap();
    assert!(matches!(s.get(b"k"), Err(StorageError::StoreDropped(n)) if n == "kv.9"));
    assert!(matches!(
        s.put(b"k", b"v"),
        Err(StorageError::StoreDropped(_))
    ));
    assert!(s.range(Unbounded, Unbounded).next().unwrap().is_err());
    assert!(!backend.store_names().unwrap().contains(&"kv.9".to_string()));
    let again = backend.store("kv.9").unwrap();
    assert!(again.is_empty().unwrap());
    assert_eq!(again.get(b"k").unwrap(), None);
    again.put(b"new", b"1").unwrap();
    assert_eq!(all(&*again), vec![(b"new".to_vec(), b"1".to_vec())]);
    assert_eq!(other.get(b"k").unwrap(), Some(b"other".to_vec()));
    // Dropping a store that does not exist is not an error.
    backend.drop_store("kv.404").unwrap();
}

pub(crate) fn store_names_and_handles(backend: &dyn Backend) {
    for name in ["meta", "kv.2", "kv.1", "2i.1"] {
        backend.store(name).unwrap();
    }
    assert_eq!(
        backend.store_names().unwrap(),
        vec!["2i.1", "kv.1", "kv.2", "meta"]
    );
    // Same name, same store.
    let a = backend.store("kv.1").unwrap();
    let b = backend.store("kv.1").unwrap();
    a.put(b"x", b"1").unwrap();
    assert_eq!(b.get(b"x").unwrap(), Some(b"1".to_vec()));
    assert_eq!(backend.store("kv.2").unwrap().get(b"x").unwrap(), None);
    backend.drop_store("kv.2").unwrap();
    assert_eq!(backend.store_names().unwrap(), vec!["2i.1", "kv.1", "meta"]);
    for bad in ["", "kv/1", "with space"] {
        assert!(
            matches!(backend.store(bad), Err(StorageError::InvalidName(_))),
            "{bad:?}"
        );
    }
    assert!(!backend.name().is_empty());
}

/// Writes while an iterator is open neither deadlock nor show up in it.
pub(crate) fn writes_while_iterating(backend: &dyn Backend) {
    let s = backend.store("kv.11").unwrap();
    for i in 0..100u32 {
        s.put(&i.to_be_bytes(), b"old").unwrap();
    }
    let mut seen = Vec::new();
    for item in s.range(Unbounded, Unbounded) {
        let (k, v) = item.unwrap();
        let i = u32::from_be_bytes(k.as_slice().try_into().unwrap());
        // Overwrite, delete and add keys ahead of the cursor.
        s.put(&(i + 1).to_be_bytes(), b"new").unwrap();
        s.delete(&(i + 2).to_be_bytes()).unwrap();
        s.put(&(1000 + i).to_be_bytes(), b"added").unwrap();
        let mut batch = WriteBatch::new();
        batch.put(format!("z{i}").into_bytes(), b"batch".to_vec());
        s.write_batch(batch).unwrap();
        seen.push((i, v));
    }
    for item in s.prefix(&[0, 0]) {
        let (k, _) = item.unwrap();
        s.delete(&k).unwrap();
    }
    assert_eq!(seen.len(), 100, "the iterator reads a snapshot");
    assert!(
        seen.iter()
            .enumerate()
            .all(|(n, (i, v))| *i == n as u32 && v == b"old")
    );
    assert_eq!(collect(s.prefix(&[0, 0])).len(), 0);
    assert_eq!(collect(s.prefix(b"z")).len(), 100);
}

pub(crate) fn concurrent_writers(backend: &dyn Backend) {
    const THREADS: u32 = 6;
    const PER_THREAD: u32 = 60;
    let s = backend.store("kv.12").unwrap();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let s = Arc::clone(&s);
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    let key = format!("t{t}-{i:03}");
                    if i % 3 == 0 {
                        let mut batch = WriteBatch::new();
                        batch.put(key.into_bytes(), i.to_be_bytes().to_vec());
                        s.write_batch(batch).unwrap();
                    } else {
                        s.put(key.as_bytes(), &i.to_be_bytes()).unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(all(&*s).len(), (THREADS * PER_THREAD) as usize);
    assert_eq!(
        s.get(b"t3-059").unwrap(),
        Some(59u32.to_be_bytes().to_vec())
    );
}

/// A read that starts after a write returned sees that write or a later
/// one, while other threads read and write the same keys: no cache in front
/// of the engine may hand out a value a completed write replaced.
pub(crate) fn reads_never_go_back(backend: &dyn Backend) {
    use std::sync::atomic::AtomicU32;
    const KEYS: usize = 4;
    const WRITES: u32 = 400;
    let s = backend.store("kv.14").unwrap();
    let done: Vec<AtomicU32> = (0..KEYS).map(|_| AtomicU32::new(0)).collect();
    std::thread::scope(|scope| {
        for k in 0..KEYS {
            let (s, done) = (Arc::clone(&s), &done);
            scope.spawn(move || {
                for v in 1..=WRITES {
                    if v % 5 == 0 {
                        let mut batch = WriteBatch::new();
                        batch.put(vec![k as u8], v.to_be_bytes().to_vec());
                        s.write_batch(batch).unwrap();
                    } else {
                        s.put(&[k as u8], &v.to_be_bytes()).unwrap();
                    }
                    done[k].store(v, Ordering::SeqCst);
                }
            });
        }
        for _ in 0..3 {
            let (s, done) = (Arc::clone(&s), &done);
            scope.spawn(move || {
                for i in 0..4 * WRITES as usize {
                    let k = i % KEYS;
                    let floor = done[k].load(Ordering::SeqCst);
                    // Every other read tries the cache-only path first.
                    let cached = (i % 2 == 0).then(|| s.get_if_cached(&[k as u8])).flatten();
                    let value = cached.or_else(|| s.get(&[k as u8]).unwrap());
                    let read = value.map_or(0, |v| {
                        u32::from_be_bytes(v.try_into().expect("a 4-byte value"))
                    });
                    assert!(
                        read >= floor,
                        "key {k}: read {read} after {floor} was written"
                    );
                }
            });
        }
    });
    for k in 0..KEYS {
        assert_eq!(
            s.get(&[k as u8]).unwrap(),
            Some(WRITES.to_be_bytes().to_vec())
        );
    }
    s.delete(&[0]).unwrap();
    assert_eq!(s.get(&[0]).unwrap(), None, "a delete is seen at once");
    assert_eq!(s.get_if_cached(&[0]), None, "a deleted row is not cached");
}

/// Two threads overwrite the same keys at once: afterwards a point read
/// (which a cache may answer) agrees with a scan (which reads the engine).
pub(crate) fn racing_writers_agree_with_a_scan(backend: &dyn Backend) {
    let s = backend.store("kv.15").unwrap();
    std::thread::scope(|scope| {
        for t in 0..2u8 {
            let s = Arc::clone(&s);
            scope.spawn(move || {
                for i in 0..300u32 {
                    let key = [(i % 3) as u8];
                    if i % 7 == 0 {
                        s.delete(&key).unwrap();
                    } else {
                        s.put(&key, &[t, (i % 251) as u8]).unwrap();
                    }
                    s.get(&key).unwrap();
                }
            });
        }
    });
    let scanned: BTreeMap<_, _> = all(&*s).into_iter().collect();
    for k in 0..3u8 {
        assert_eq!(
            s.get(&[k]).unwrap(),
            scanned.get(&vec![k]).cloned(),
            "key {k}"
        );
        if let Some(v) = s.get_if_cached(&[k]) {
            assert_eq!(Some(&v), scanned.get(&vec![k]), "cached key {k}");
        }
    }
}

/// Deferred writes: visible at once, each `done` called exactly once with
/// Ok, from many threads; a bad key reports its error through `done`.
pub(crate) fn deferred_puts(backend: &dyn Backend) {
    const THREADS: u32 = 4;
    const PER_THREAD: u32 = 50;
    let s = backend.store("kv.13").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (s, tx) = (Arc::clone(&s), tx.clone());
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    let key = format!("d{t}-{i:03}");
                    let tx = tx.clone();
                    s.put_then(key.as_bytes(), b"v", Box::new(move |r| tx.send(r).unwrap()));
                    assert_eq!(s.get(key.as_bytes()).unwrap(), Some(b"v".to_vec()));
                }
            });
        }
    });
    drop(tx);
    let results: Vec<_> = rx.iter().collect();
    assert_eq!(results.len(), (THREADS * PER_THREAD) as usize);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let (tx, rx) = std::sync::mpsc::channel();
    let long_key = vec![b'k'; crate::MAX_KEY_LEN + 1];
    s.put_then(&long_key, b"v", Box::new(move |r| tx.send(r).unwrap()));
    assert!(rx.recv().unwrap().is_err());
}

/// Deferred writes of one key, mixed with blocking ones, take effect in the
/// order they were made, for reads and scans alike, and all are reported.
pub(crate) fn deferred_writes_keep_their_order(backend: &dyn Backend) {
    let s = backend.store("kv.14").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let deferred = |key: &[u8], value: &[u8]| {
        let tx = tx.clone();
        s.put_then(key, value, Box::new(move |r| tx.send(r).unwrap()));
    };
    for i in 0..100u32 {
        deferred(b"k", &i.to_be_bytes());
        assert_eq!(s.get(b"k").unwrap(), Some(i.to_be_bytes().to_vec()));
    }
    s.delete(b"k").unwrap();
    assert_eq!(s.get(b"k").unwrap(), None, "a delete after deferred puts");
    deferred(b"k", b"last");
    for i in 0..50u32 {
        deferred(format!("p{i:02}").as_bytes(), b"v");
    }
    let scanned = collect(s.prefix(b"p"));
    assert_eq!(
        scanned.len(),
        50,
        "a scan sees every deferred put before it"
    );
    assert_eq!(all(s.as_ref())[0], (b"k".to_vec(), b"last".to_vec()));
    let mut batch = WriteBatch::new();
    batch.delete(b"p00".to_vec());
    s.write_batch(batch).unwrap();
    assert_eq!(s.get(b"p00").unwrap(), None, "a batch after a deferred put");
    drop(tx);
    let results: Vec<_> = rx.iter().collect();
    assert_eq!(results.len(), 151);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(s.get(b"k").unwrap(), Some(b"last".to_vec()));
    assert!(!s.is_empty().unwrap());
}

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    Get(Vec<u8>),
    Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>),
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    // A tiny alphabet so operations collide on keys and prefixes.
    prop::collection::vec(
        prop_oneof![Just(0u8), Just(1), Just(b'a'), Just(0xff)],
        0..4,
    )
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let value = prop::collection::vec(any::<u8>(), 0..6);
    prop_oneof![
        4 => (key_strategy(), value.clone()).prop_map(|(k, v)| Op::Put(k, v)),
        2 => key_strategy().prop_map(Op::Delete),
        3 => key_strategy().prop_map(Op::Get),
        2 => prop::collection::vec((key_strategy(), prop::option::of(value)), 0..6).prop_map(Op::Batch),
    ]
}

fn bound_strategy() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Unbounded),
        key_strategy().prop_map(Included),
        key_strategy().prop_map(Excluded),
    ]
}

/// Random operation sequences leave the store equal to a `BTreeMap` model.
pub(crate) fn matches_btreemap_model(backend: &dyn Backend, cases: u32) {
    let counter = std::sync::atomic::AtomicU32::new(0);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(op_strategy(), 0..40),
        bound_strategy(),
        bound_strategy(),
        key_strategy(),
    );
    runner
        .run(&strategy, |(ops, start, end, prefix)| {
            let name = format!("prop.{}", counter.fetch_add(1, Ordering::SeqCst));
            let s = backend.store(&name).unwrap();
            let mut model = Model::new();
            for op in ops {
                match op {
                    Op::Put(k, v) => {
                        s.put(&k, &v).unwrap();
                        model.insert(k, v);
                    }
                    Op::Delete(k) => {
                        s.delete(&k).unwrap();
                        model.remove(&k);
                    }
                    Op::Get(k) => {
                        if let Some(v) = s.get_if_cached(&k) {
                            prop_assert_eq!(Some(&v), model.get(&k));
                        }
                        prop_assert_eq!(s.get(&k).unwrap(), model.get(&k).cloned());
                    }
                    Op::Batch(items) => {
                        let mut batch = WriteBatch::new();
                        for (k, v) in items {
                            match v {
                                Some(v) => {
                                    batch.put(k.clone(), v.clone());
                                    model.insert(k, v);
                                }
                                None => {
                                    batch.delete(k.clone());
                                    model.remove(&k);
                                }
                            }
                        }
                        s.write_batch(batch).unwrap();
                    }
                }
            }
            let everything: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            prop_assert_eq!(all(&*s), everything);
            prop_assert_eq!(s.is_empty().unwrap(), model.is_empty());
            prop_assert_eq!(
                collect(s.range(start.clone(), end.clone())),
                model_range(&model, &start, &end)
            );
            let by_prefix: Vec<_> = model
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            prop_assert_eq!(collect(s.prefix(&prefix)), by_prefix);
            prop_assert_eq!(s.get(&prefix).unwrap(), model.get(&prefix).cloned());
            backend.drop_store(&name).unwrap();
            Ok(())
        })
        .unwrap();
}

/// Runs every backend-independent check as its own `#[test]`, and the model
/// test with `$cases` random cases.
macro_rules! conformance_tests {
    ($make:path, $cases:expr) => {
        conformance_tests!(@each $make;
            put_get_delete_overwrite, empty_keys_and_values, large_values_and_key_limits,
            batches_apply_everything, batches_are_all_or_nothing, range_bounds, prefix_scans,
            ordering_is_bytewise, drop_store_then_reopen_is_empty, store_names_and_handles,
            writes_while_iterating, concurrent_writers, deferred_puts, reads_never_go_back,
            racing_writers_agree_with_a_scan, deferred_writes_keep_their_order);

        #[test]
        fn model() {
            let (backend, _dir) = $make();
            super::matches_btreemap_model(&*backend, $cases);
        }
    };
    (@each $make:path; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let (backend, _dir) = $make();
                super::$name(&*backend);
            }
        )*
    };
}

mod memory_backend {
    use super::*;

    fn make() -> (Arc<dyn Backend>, ()) {
        (crate::memory(), ())
    }

    conformance_tests!(make, 128);

    #[test]
    fn reports_itself() {
        let backend = crate::memory();
        assert_eq!(backend.name(), "memory");
        assert_eq!(backend.durability(), crate::Durability::Sync);
        assert_eq!(backend.journal_count(), None);
    }
}

mod fjall_backend {
    use super::*;
    use crate::{Durability, StorageConfig, open_fjall};
    use std::time::Duration;
    use tempfile::TempDir;

    fn config(durability: Durability) -> StorageConfig {
        StorageConfig {
            durability,
            cache_mb: 8,
            memtable_mb: 1,
            write_buffer_mb: 0,
            row_cache_mb: 0,
            engine_threads: 1,
        }
    }

    fn make() -> (Arc<dyn Backend>, TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let backend = open_fjall(dir.path(), &StorageConfig::default()).unwrap();
        (backend, dir)
    }

    conformance_tests!(make, 24);

    #[test]
    fn sync_mode_passes_the_writing_checks() {
        let dir = tempfile::tempdir().unwrap();
        let backend = open_fjall(dir.path(), &config(Durability::Sync)).unwrap();
        assert_eq!(backend.durability(), Durability::Sync);
        super::put_get_delete_overwrite(&*backend);
        super::batches_apply_everything(&*backend);
        super::concurrent_writers(&*backend);
        super::deferred_puts(&*backend);
        super::deferred_writes_keep_their_order(&*backend);
    }

    /// On a thread that defers its commits, a deferred write is visible at
    /// once but applied (and reported) only at the thread's commit, or
    /// sooner when another thread's write drains the queue.
    #[test]
    fn a_deferring_thread_applies_its_writes_when_it_commits() {
        let (backend, _dir) = make();
        let s = backend.store("kv.1").unwrap();
        let other = Arc::clone(&s);
        std::thread::spawn(move || {
            crate::defer_commits();
            let (tx, rx) = std::sync::mpsc::channel();
            let t = tx.clone();
            s.put_then(b"a", b"1", Box::new(move |r| t.send(r).unwrap()));
            assert!(rx.try_recv().is_err(), "reported before the commit");
            assert_eq!(s.get(b"a").unwrap(), Some(b"1".to_vec()));
            crate::commit_deferred();
            assert!(rx.try_recv().unwrap().is_ok());
            // Another thread's blocking write applies what is queued before it.
            s.put_then(b"b", b"2", Box::new(move |r| tx.send(r).unwrap()));
            other.put(b"c", b"3").unwrap();
            assert!(rx.try_recv().unwrap().is_ok());
        })
        .join()
        .unwrap();
    }

    /// Threads that defer and commit every few writes, beside threads that
    /// write and scan at once: every write is reported and found.
    #[test]
    fn deferring_threads_and_blocking_writers_together() {
        let (backend, _dir) = make();
        let s = backend.store("kv.1").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut threads = Vec::new();
        for t in 0..4u32 {
            let (s, tx) = (Arc::clone(&s), tx.clone());
            threads.push(std::thread::spawn(move || {
                crate::defer_commits();
                for i in 0..500u32 {
                    let tx = tx.clone();
                    let key = format!("d{t}-{i}");
                    s.put_then(
                        key.as_bytes(),
                        &i.to_be_bytes(),
                        Box::new(move |r| tx.send(r).unwrap()),
                    );
                    if i % 7 == 0 {
                        crate::commit_deferred();
                    }
                }
                crate::commit_deferred();
            }));
        }
        for t in 0..2u32 {
            let s = Arc::clone(&s);
            threads.push(std::thread::spawn(move || {
                for i in 0..200u32 {
                    s.put(format!("b{t}-{i}").as_bytes(), b"v").unwrap();
                    if i % 50 == 0 {
                        s.prefix(b"d").count();
                    }
                }
            }));
        }
        for thread in threads {
            thread.join().unwrap();
        }
        drop(tx);
        let results: Vec<_> = rx.iter().collect();
        assert_eq!(results.len(), 2000);
        assert!(results.iter().all(|r| r.is_ok()));
        assert_eq!(s.prefix(b"d").count(), 2000);
        assert_eq!(s.prefix(b"b").count(), 400);
        assert_eq!(
            s.get(b"d3-499").unwrap(),
            Some(499u32.to_be_bytes().to_vec())
        );
    }

    /// A write deferred and never committed by its thread is applied when
    /// the backend closes, and the directory opens again at once.
    #[test]
    fn an_uncommitted_deferred_write_is_applied_at_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        std::thread::spawn(move || {
            crate::defer_commits();
            let (tx, rx) = std::sync::mpsc::channel();
            {
                let backend = open_fjall(&path, &config(Durability::default())).unwrap();
                let s = backend.store("kv.1").unwrap();
                s.put_then(b"k", b"v", Box::new(move |r| tx.send(r).unwrap()));
            }
            assert!(rx.recv().unwrap().is_ok());
            let backend = open_fjall(&path, &config(Durability::default())).unwrap();
            let s = backend.store("kv.1").unwrap();
            assert_eq!(s.get(b"k").unwrap(), Some(b"v".to_vec()));
            crate::commit_deferred();
        })
        .join()
        .unwrap();
    }

    /// Many deferred writes of one key, then the backend closes at once:
    /// every write is reported, and the last one is what a reopen finds.
    #[test]
    fn deferred_writes_are_applied_before_close() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let backend = open_fjall(dir.path(), &config(Durability::default())).unwrap();
            let s = backend.store("kv.1").unwrap();
            for i in 0..1000u32 {
                let tx = tx.clone();
                s.put_then(
                    b"k",
                    &i.to_be_bytes(),
                    Box::new(move |r| tx.send(r).unwrap()),
                );
            }
        }
        drop(tx);
        let results: Vec<_> = rx.iter().collect();
        assert_eq!(results.len(), 1000);
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
        let backend = open_fjall(dir.path(), &config(Durability::default())).unwrap();
        let s = backend.store("kv.1").unwrap();
        assert_eq!(s.get(b"k").unwrap(), Some(999u32.to_be_bytes().to_vec()));
    }

    /// Writes queued when their store is dropped are applied or refused,
    /// never left unreported, and never show up in the store made anew.
    #[test]
    fn writes_queued_at_a_drop_are_reported() {
        let (backend, _dir) = make();
        let s = backend.store("kv.1").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..500u32 {
            let tx = tx.clone();
            s.put_then(
                &i.to_be_bytes(),
                b"v",
                Box::new(move |r| tx.send(r).unwrap()),
            );
        }
        backend.drop_store("kv.1").unwrap();
        drop(tx);
        let results: Vec<_> = rx.iter().collect();
        assert_eq!(results.len(), 500);
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Ok(()) | Err(StorageError::StoreDropped(_)))),
            "{results:?}"
        );
        assert!(matches!(s.get(b"x"), Err(StorageError::StoreDropped(_))));
        assert!(backend.store("kv.1").unwrap().is_empty().unwrap());
    }

    /// A store handle kept after its backend closed fails its writes with an
    /// error instead of waiting forever.
    #[test]
    fn writes_after_close_fail() {
        let (backend, _dir) = make();
        let s = backend.store("kv.1").unwrap();
        s.put(b"k", b"v").unwrap();
        drop(backend);
        assert!(s.put(b"k", b"w").is_err());
        let (tx, rx) = std::sync::mpsc::channel();
        s.put_then(b"k", b"w", Box::new(move |r| tx.send(r).unwrap()));
        assert!(rx.recv().unwrap().is_err());
    }

    #[test]
    fn reports_itself() {
        let (backend, _dir) = make();
        assert_eq!(backend.name(), "fjall");
        assert_eq!(
            backend.durability(),
            Durability::Interval(Duration::from_millis(10))
        );
        assert!(backend.journal_count().unwrap() >= 1);
    }

    fn reopen_keeps_data(durability: Durability) {
        let dir = tempfile::tempdir().unwrap();
        {
            let backend = open_fjall(dir.path(), &config(durability)).unwrap();
            let s = backend.store("kv.1").unwrap();
            s.put(b"", b"empty key").unwrap();
            s.put(b"a", b"1").unwrap();
            s.put(b"gone", b"x").unwrap();
            s.delete(b"gone").unwrap();
            let mut batch = WriteBatch::new();
            batch
                .put(b"b".to_vec(), b"2".to_vec())
                .put(b"c".to_vec(), b"3".to_vec());
            s.write_batch(batch).unwrap();
            backend.store("meta").unwrap().put(b"ring", b"r").unwrap();
            backend.store("kv.2").unwrap().put(b"k", b"v").unwrap();
            backend.drop_store("kv.2").unwrap();
        }
        let backend = open_fjall(dir.path(), &config(durability)).unwrap();
        assert_eq!(backend.store_names().unwrap(), vec!["kv.1", "meta"]);
        let s = backend.store("kv.1").unwrap();
        assert_eq!(
            all(&*s),
            vec![
                (b"".to_vec(), b"empty key".to_vec()),
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"2".to_vec()),
                (b"c".to_vec(), b"3".to_vec()),
            ]
        );
        assert_eq!(
            backend.store("meta").unwrap().get(b"ring").unwrap(),
            Some(b"r".to_vec())
        );
        assert!(backend.store("kv.2").unwrap().is_empty().unwrap());
    }

    #[test]
    fn reopen_keeps_data_interval() {
        reopen_keeps_data(Durability::default());
    }

    #[test]
    fn reopen_keeps_data_sync() {
        reopen_keeps_data(Durability::Sync);
    }

    /// Enough data to flush several 1 MiB memtables to disk tables, then reopen:
    /// empty keys and deletes must survive the trip through tables, not just the journal.
    #[test]
    fn data_survives_memtable_flushes_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let value = vec![0xabu8; 1024];
        {
            let backend = open_fjall(dir.path(), &config(Durability::default())).unwrap();
            let s = backend.store("kv.1").unwrap();
            s.put(b"", b"empty key").unwrap();
            for i in 0..4000u32 {
                s.put(&i.to_be_bytes(), &value).unwrap();
            }
            for i in (0..4000u32).step_by(2) {
                s.delete(&i.to_be_bytes()).unwrap();
            }
        }
        let backend = open_fjall(dir.path(), &config(Durability::default())).unwrap();
        let s = backend.store("kv.1").unwrap();
        assert_eq!(s.get(b"").unwrap(), Some(b"empty key".to_vec()));
        let items = collect(s.prefix(&[0, 0]));
        assert_eq!(items.len(), 2000);
        assert!(items.iter().all(|(k, v)| k[3] % 2 == 1 && v == &value));
    }

    #[test]
    fn second_open_of_a_directory_is_refused() {
        let (backend, dir) = make();
        let second = open_fjall(dir.path(), &StorageConfig::default());
        assert!(
            matches!(second, Err(StorageError::Locked)),
            "{:?}",
            second.err()
        );
        drop(backend);
        open_fjall(dir.path(), &StorageConfig::default()).unwrap();
    }
}

/// The same checks with a row cache in front of the engine.
mod fjall_row_cache {
    use super::*;
    use crate::{StorageConfig, open_fjall};
    use tempfile::TempDir;

    fn make() -> (Arc<dyn Backend>, TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let config = StorageConfig {
            row_cache_mb: 1,
            ..StorageConfig::default()
        };
        (open_fjall(dir.path(), &config).unwrap(), dir)
    }

    conformance_tests!(make, 24);

    #[test]
    fn a_dropped_store_created_again_is_empty_after_cached_reads() {
        let (backend, _dir) = make();
        let s = backend.store("kv.1").unwrap();
        s.put(b"k", b"v").unwrap();
        assert_eq!(s.get(b"k").unwrap(), Some(b"v".to_vec()));
        assert_eq!(s.get(b"k").unwrap(), Some(b"v".to_vec()), "a cached read");
        drop(s);
        backend.drop_store("kv.1").unwrap();
        let s = backend.store("kv.1").unwrap();
        assert_eq!(s.get(b"k").unwrap(), None);
    }

    #[test]
    fn written_and_read_rows_are_at_hand_without_a_read() {
        let (backend, _dir) = make();
        let s = backend.store("kv.2").unwrap();
        assert_eq!(s.get_if_cached(b"k"), None, "never written");
        s.put(b"k", b"v").unwrap();
        assert_eq!(
            s.get_if_cached(b"k"),
            Some(b"v".to_vec()),
            "written through"
        );
        let mut batch = WriteBatch::new();
        batch.put(b"b".to_vec(), b"w".to_vec());
        s.write_batch(batch).unwrap();
        assert_eq!(s.get_if_cached(b"b"), None, "a batch invalidates");
        assert_eq!(s.get(b"b").unwrap(), Some(b"w".to_vec()));
        assert_eq!(
            s.get_if_cached(b"b"),
            Some(b"w".to_vec()),
            "filled by a read"
        );
        drop(s);
        backend.drop_store("kv.2").unwrap();
        let s = backend.store("kv.2").unwrap();
        assert_eq!(s.get_if_cached(b"k"), None, "gone with its store");
    }
}
