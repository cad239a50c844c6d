//! The official Riak Python client (riak 2.7.0) against a real `rill`
//! process, over HTTP and Protocol Buffers.
//!
//! Sets up the client's virtualenv with `.ci/setup-python.sh` (idempotent),
//! starts a node on port 0, creates the bucket types the sibling and data
//! type tests use, and runs `pytest tests/python`.

use rill_testkit::http::Client;
use rill_testkit::process::RillProcess;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rill");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The bucket types the tests use, created and activated before pytest
/// runs; their names reach pytest through the environment (conftest and
/// test_datatypes read them).
const TYPES: &[(&str, &str)] = &[
    ("rill_siblings", r#"{"props":{"allow_mult":true}}"#),
    ("rill_counters", r#"{"props":{"datatype":"counter"}}"#),
    ("rill_sets", r#"{"props":{"datatype":"set"}}"#),
    ("rill_maps", r#"{"props":{"datatype":"map"}}"#),
    ("rill_hlls", r#"{"props":{"datatype":"hll"}}"#),
    ("rill_gsets", r#"{"props":{"datatype":"gset"}}"#),
];

#[test]
fn official_python_client_passes() {
    let root = repo_root();
    let setup = Command::new("bash")
        .arg(root.join(".ci/setup-python.sh"))
        .current_dir(&root)
        .status()
        .expect("run .ci/setup-python.sh");
    assert!(setup.success(), "Python client setup failed");

    let dir = tempfile::tempdir().unwrap();
    let node = RillProcess::start(Path::new(BIN), dir.path(), &[]);
    let mut c = Client::new(node.http);
    for (name, props) in TYPES {
        let r = c
            .request(
                "PUT",
                &format!("/admin/bucket-types/{name}"),
                &[("Content-Type", "application/json")],
                props.as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 201, "create type {name}: {}", r.text());
        let r = c
            .request(
                "POST",
                &format!("/admin/bucket-types/{name}/activate"),
                &[],
                b"",
            )
            .unwrap();
        assert_eq!(r.status, 204, "activate type {name}: {}", r.text());
    }

    let venv = std::env::var("RILL_VENV").unwrap_or_else(|_| ".venv".into());
    let python = root.join(venv).join("bin/python");
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pytest", "tests/python", "-q", "-rs"])
        .current_dir(&root)
        .env("RILL_HTTP_PORT", node.http.port().to_string())
        .env("RILL_SIBLINGS_TYPE", "rill_siblings")
        .env("RILL_COUNTERS_TYPE", "rill_counters")
        .env("RILL_SETS_TYPE", "rill_sets")
        .env("RILL_MAPS_TYPE", "rill_maps")
        .env("RILL_HLLS_TYPE", "rill_hlls")
        .env("RILL_GSETS_TYPE", "rill_gsets");
    match node.pb {
        Some(pb) => cmd.env("RILL_PB_PORT", pb.port().to_string()),
        None => cmd.env_remove("RILL_PB_PORT"),
    };
    let out = cmd.output().expect("run pytest");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "Python client tests failed:\n{text}");
    assert!(text.contains(" passed"), "pytest ran no test:\n{text}");
    assert!(node.stop(), "node did not stop cleanly");
}
