//! Shared harness for promstack's cross-crate and real-peer tests.
//!
//! Real peers (promtool, Prometheus, Pushgateway, node_exporter, carbon, the Python client) are
//! installed by `ci/install-peers.sh`. A test asks for one with [`peer`]; when it is missing the
//! test is skipped with a message, except under `CI=true`, where a missing peer fails the test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// `true` when running in CI, where every peer must be present.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Finds the executable `name` on `PATH`. Missing: `None` (skip) locally, a panic in CI.
pub fn peer(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        assert!(!in_ci(), "peer `{name}` is missing; run ci/install-peers.sh");
        eprintln!("skipping: peer `{name}` is not installed (run ci/install-peers.sh)");
    }
    found
}

/// The Python interpreter of the peers venv (with prometheus_client 0.8.0), from
/// `PROMSTACK_PYTHON` or `<workspace>/target/peers-venv/bin/python`. Same skip rule as [`peer`].
pub fn python() -> Option<PathBuf> {
    let p = std::env::var_os("PROMSTACK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/peers-venv/bin/python"));
    if p.is_file() {
        return Some(p);
    }
    assert!(!in_ci(), "python venv {} is missing; run ci/install-peers.sh", p.display());
    eprintln!("skipping: python venv {} is missing (run ci/install-peers.sh)", p.display());
    None
}

/// The Python interpreter of the second peers venv, with the newest prometheus_client
/// (stricter OpenMetrics parser), from `PROMSTACK_PYTHON_LATEST` or
/// `<workspace>/target/peers-venv-latest/bin/python`. Same skip rule as [`peer`].
pub fn python_latest() -> Option<PathBuf> {
    let p = std::env::var_os("PROMSTACK_PYTHON_LATEST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/peers-venv-latest/bin/python"));
    if p.is_file() {
        return Some(p);
    }
    assert!(!in_ci(), "python venv {} is missing; run ci/install-peers.sh", p.display());
    eprintln!("skipping: python venv {} is missing (run ci/install-peers.sh)", p.display());
    None
}

/// The workspace root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for starting a peer).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("bind 127.0.0.1:0")
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/promstack-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("promstack-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A started peer process, killed (by PID) and reaped on drop.
pub struct PeerProcess(pub Child);

impl PeerProcess {
    /// Spawns `cmd`.
    pub fn spawn(cmd: &mut Command) -> PeerProcess {
        PeerProcess(cmd.spawn().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")))
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`, up to `secs` seconds.
pub fn wait_for_port(port: u16, secs: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// Runs `promtool check metrics` on `text`; returns (success, combined output).
pub fn promtool_check(text: &str) -> Option<(bool, String)> {
    use std::io::Write;
    let promtool = peer("promtool")?;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start promtool");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to promtool");
    let out = child.wait_with_output().expect("promtool output");
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    Some((out.status.success(), s))
}
