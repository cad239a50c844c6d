//! Real `rill` processes for end-to-end tests: started with `rill start` on
//! port 0 in a temporary data directory; the ports are read from the line
//! the node prints once it listens.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RillProcess {
    child: Child,
    pub http: SocketAddr,
    pub pb: Option<SocketAddr>,
    pub cluster: Option<SocketAddr>,
    pub data_dir: PathBuf,
}

impl RillProcess {
    /// Starts `bin start` with `--data-dir dir`, listeners on port 0 and
    /// `extra` flags; waits until it reports its addresses.
    pub fn start(bin: &Path, dir: &Path, extra: &[&str]) -> RillProcess {
        let mut child = Command::new(bin)
            .args(["start", "--data-dir"])
            .arg(dir)
            .args([
                "--http",
                "127.0.0.1:0",
                "--pb",
                "127.0.0.1:0",
                "--cluster",
                "127.0.0.1:0",
                "--log",
            ])
            // RILL_TEST_LOG raises the nodes' log level when debugging a test.
            .arg(std::env::var("RILL_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rill");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("rill did not report its listeners within 60 s");
        let field = |name: &str| -> Option<SocketAddr> {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .and_then(|a| a.parse().ok())
        };
        RillProcess {
            http: field("http").expect("http address in the listening line"),
            pb: field("pb"),
            cluster: field("cluster"),
            child,
            data_dir: dir.to_path_buf(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The node's HTTP base URL, for `rill admin --url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Whether the process has exited (e.g. after leaving the cluster).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a clean exit; returns whether it exited 0.
    pub fn stop(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RillProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
