//! Crash durability of the fjall backend: a child process writes and is killed
//! with SIGKILL (or aborts) without a clean shutdown; every write it acknowledged
//! must be there when the directory is opened again.
//!
//! The child is this same test binary, re-run with `CRASH_CHILD_DIR` set so that
//! only `crash_child_writer` does work. It prints `ACK <i>` after each write returns.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rill_storage::{Durability, StorageConfig, WriteBatch, open_fjall};

const N: u32 = 2000;
const CHILD_DIR: &str = "CRASH_CHILD_DIR";
const CHILD_MODE: &str = "CRASH_CHILD_MODE";
const CHILD_END: &str = "CRASH_CHILD_END";

fn config(mode: &str) -> StorageConfig {
    StorageConfig {
        durability: match mode {
            "sync" => Durability::Sync,
            _ => Durability::default(),
        },
        cache_mb: 8,
        // Small memtables, so a run seals and flushes several of them.
        memtable_mb: 1,
        write_buffer_mb: 0,
        row_cache_mb: 0,
        engine_threads: 1,
    }
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

fn value(i: u32) -> Vec<u8> {
    let mut v = vec![(i % 251) as u8; 1024];
    v[..4].copy_from_slice(&i.to_be_bytes());
    v
}

/// The child half: does nothing unless started by `run_and_crash`.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let mode = std::env::var(CHILD_MODE).unwrap();
    let backend = open_fjall(Path::new(&dir), &config(&mode)).unwrap();
    let store = backend.store("kv.7").unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0..N {
        if i % 4 == 3 {
            // Every fourth write is a batch of the key and its marker.
            let mut batch = WriteBatch::new();
            batch
                .put(key(i), value(i))
                .put(format!("batch{i:05}"), b"m".to_vec());
            store.write_batch(batch).unwrap();
        } else {
            store.put(&key(i), &value(i)).unwrap();
        }
        writeln!(out, "ACK {i}").unwrap();
        out.flush().unwrap();
    }
    writeln!(out, "DONE").unwrap();
    out.flush().unwrap();
    if std::env::var(CHILD_END).as_deref() == Ok("abort") {
        std::process::abort();
    }
    // Wait to be killed; never shut down cleanly.
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Runs the child in `mode`, SIGKILLs it once `kill_after` writes were acknowledged
/// (or lets it abort by itself), and returns the acknowledged indexes.
fn run_and_crash(dir: &Path, mode: &str, kill_after: Option<u32>) -> Vec<u32> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_MODE, mode)
        .env(
            CHILD_END,
            if kill_after.is_some() {
                "wait"
            } else {
                "abort"
            },
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acked = Vec::new();
    let mut killed = false;
    for line in stdout.lines() {
        let line = line.unwrap();
        // The test harness may print "test crash_child_writer ... " on the same line.
        if let Some((_, i)) = line.rsplit_once("ACK ") {
            acked.push(i.trim().parse::<u32>().unwrap());
        }
        let reached = kill_after.is_some_and(|k| acked.len() as u32 >= k) || line.ends_with("DONE");
        if reached && kill_after.is_some() && !killed {
            child.kill().unwrap(); // SIGKILL
            killed = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the child must die, not exit: {status:?}"
    );
    assert_eq!(
        acked,
        (0..acked.len() as u32).collect::<Vec<_>>(),
        "acks out of order"
    );
    eprintln!(
        "{mode}: child died after acknowledging {} of {N} writes",
        acked.len()
    );
    acked
}

/// Opens the directory again and checks every acknowledged write; also checks the
/// store still takes writes (fjall#257 reports writes halting after a kill -9).
fn check_recovered(dir: &Path, mode: &str, acked: &[u32]) {
    let backend = open_fjall(dir, &config(mode)).unwrap();
    let store = backend.store("kv.7").unwrap();
    for &i in acked {
        assert_eq!(
            store.get(&key(i)).unwrap(),
            Some(value(i)),
            "acknowledged key {i} lost"
        );
        if i % 4 == 3 {
            let marker = store.get(format!("batch{i:05}").as_bytes()).unwrap();
            assert_eq!(marker, Some(b"m".to_vec()), "batch {i} half applied");
        }
    }
    // Whatever else survived is a prefix of the write order, with batches whole.
    let present: Vec<u32> = (0..N)
        .filter(|&i| store.get(&key(i)).unwrap().is_some())
        .collect();
    assert_eq!(present, (0..present.len() as u32).collect::<Vec<_>>());
    for &i in present.iter().filter(|&&i| i % 4 == 3) {
        assert!(
            store
                .get(format!("batch{i:05}").as_bytes())
                .unwrap()
                .is_some()
        );
    }

    let (done_tx, done_rx) = mpsc::channel();
    let writer_store = store.clone();
    std::thread::spawn(move || {
        for i in N..N + 200 {
            writer_store.put(&key(i), &value(i)).unwrap();
        }
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("writes halted after recovery (fjall#257?)");
    assert_eq!(store.get(&key(N + 199)).unwrap(), Some(value(N + 199)));
}

#[test]
fn sync_mode_keeps_acknowledged_writes_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let acked = run_and_crash(dir.path(), "sync", Some(N / 2));
    assert!(acked.len() as u32 >= N / 2);
    check_recovered(dir.path(), "sync", &acked);
}

#[test]
fn interval_mode_keeps_acknowledged_writes_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let acked = run_and_crash(dir.path(), "interval", Some(N / 2));
    assert!(acked.len() as u32 >= N / 2);
    check_recovered(dir.path(), "interval", &acked);
}

#[test]
fn interval_mode_keeps_all_writes_across_abort() {
    let dir = tempfile::tempdir().unwrap();
    let acked = run_and_crash(dir.path(), "interval", None);
    assert_eq!(acked.len() as u32, N);
    check_recovered(dir.path(), "interval", &acked);
}

/// Several crash-restart cycles on one directory, each adding data.
#[test]
fn repeated_kill_9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3 {
        let acked = run_and_crash(dir.path(), "interval", Some(N / 3 + round * 300));
        check_recovered(dir.path(), "interval", &acked);
    }
}
