//! Textfile output: atomic replacement, failure leaves the old file, a concurrent reader never
//! sees a partial file, and a real node_exporter textfile collector reads what we write.

mod http_common;

use promstack::{write_to_textfile, CollectError, Collector, Counter, Gauge, Sink};
use promstack_tests::{free_port, peer, wait_for_port, PeerProcess, TempDir};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

static BACKUPS: Counter = Counter::new("tf_backups_total", "Backups made.");
static SIZE: Gauge = Gauge::new("tf_backup_size_bytes", "Size of the last backup.");

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

struct Failing;
impl Collector for Failing {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        SIZE.collect(sink)?;
        Err(CollectError::Failed("disk on fire"))
    }
}

#[test]
fn writes_replaces_and_keeps_old_file_on_failure() {
    let dir = TempDir::new("textfile");
    let path = dir.path().join("metrics.prom");
    SIZE.set(1024.0);
    write_to_textfile(&path, &SIZE).unwrap();
    let first = std::fs::read_to_string(&path).unwrap();
    assert_eq!(first, "# HELP tf_backup_size_bytes Size of the last backup.\n# TYPE tf_backup_size_bytes gauge\ntf_backup_size_bytes 1024.0\n");

    let err = write_to_textfile(&path, &Failing).unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first, "old file must be intact");
    assert_eq!(files_in(dir.path()), ["metrics.prom"], "temp file must be removed");

    // A directory that does not exist: an error, nothing created.
    assert!(write_to_textfile(dir.path().join("nope/metrics.prom"), &SIZE).is_err());
    assert_eq!(files_in(dir.path()), ["metrics.prom"]);
}

#[test]
fn reader_never_sees_a_partial_file() {
    let dir = TempDir::new("textfile-race");
    let path = dir.path().join("race.prom");
    // Two versions of very different sizes, so a torn read cannot look like either.
    let small = Arc::new(Gauge::new("tf_small", "Small."));
    static LINES: Counter = Counter::new("tf_lines_total", "Lines.");
    struct Big;
    impl Collector for Big {
        fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
            for _ in 0..200 {
                LINES.collect(sink)?;
            }
            Ok(())
        }
    }
    write_to_textfile(&path, &*small).unwrap();
    let a = std::fs::read_to_string(&path).unwrap();
    write_to_textfile(&path, &Big).unwrap();
    let b = std::fs::read_to_string(&path).unwrap();
    assert!(b.len() > 10 * a.len());

    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (path, done, reads, a, b) = (path.clone(), done.clone(), reads.clone(), a.clone(), b.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let got = std::fs::read_to_string(&path).expect("the file always exists");
                assert!(got == a || got == b, "partial file of {} bytes", got.len());
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    for i in 0..2000 {
        if i % 2 == 0 {
            write_to_textfile(&path, &*small).unwrap();
        } else {
            write_to_textfile(&path, &Big).unwrap();
        }
    }
    done.store(true, Ordering::Relaxed);
    reader.join().expect("reader saw a partial file");
    assert!(reads.load(Ordering::Relaxed) > 100, "reader only read {} times", reads.load(Ordering::Relaxed));
    assert_eq!(files_in(dir.path()), ["race.prom"]);
}

#[test]
fn node_exporter_reads_our_file() {
    let Some(bin) = peer("prometheus-node-exporter") else { return };
    let dir = TempDir::new("node-exporter");
    BACKUPS.inc_by(7.0).unwrap();
    SIZE.set(2048.0);
    let both: [&dyn Collector; 2] = [&BACKUPS, &SIZE];
    write_to_textfile(dir.path().join("promstack.prom"), &both).unwrap();
    let port = free_port();
    let _ne = PeerProcess::spawn(
        Command::new(bin)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--collector.disable-defaults")
            .arg("--collector.textfile")
            .arg(format!("--collector.textfile.directory={}", dir.path().display()))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("log.txt")).unwrap()),
    );
    assert!(wait_for_port(port, 20), "node_exporter did not start");
    let text = http_common::get(([127, 0, 0, 1], port).into(), "/metrics", "").text();
    assert!(text.contains("\ntf_backups_total "), "{text}");
    assert!(text.contains("\ntf_backup_size_bytes 2048\n"), "{text}");
    assert!(text.contains("\nnode_textfile_scrape_error 0\n"), "{text}");
    assert!(text.contains("node_textfile_mtime_seconds{file="), "{text}");
    let backups = text.lines().find(|l| l.starts_with("tf_backups_total ")).unwrap();
    let v: f64 = backups.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(v >= 7.0, "{backups}");
}

/// The existing file, the planted symlinks and their target are untouched, and `path` is a new
/// regular file.
#[cfg(unix)]
#[test]
fn planted_symlinks_are_not_followed() {
    let dir = TempDir::new("textfile-symlink");
    let path = dir.path().join("metrics.prom");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    // Links at every name an attacker could predict: the old scheme's `<path>.<pid>.<n>` for the
    // first thread numbers, plus a dangling one whose target must not appear.
    let pid = std::process::id();
    let mut planted = Vec::new();
    for n in 0..256 {
        let link = format!("metrics.prom.{pid}.{n}");
        std::os::unix::fs::symlink(&victim, dir.path().join(&link)).unwrap();
        planted.push(link);
    }
    std::os::unix::fs::symlink(dir.path().join("created"), dir.path().join("metrics.prom.tmp")).unwrap();
    planted.push("metrics.prom.tmp".into());

    static LINKED: Gauge = Gauge::new("tf_linked", "Gauge.");
    LINKED.set(4096.0);
    write_to_textfile(&path, &LINKED).unwrap();
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious\n",
        "a planted symlink was written through"
    );
    assert!(
        std::fs::symlink_metadata(&path).unwrap().file_type().is_file(),
        "metrics.prom is not a regular file"
    );
    assert!(std::fs::read_to_string(&path).unwrap().ends_with("tf_linked 4096.0\n"));
    let mut expected = planted;
    expected.extend(["metrics.prom".to_owned(), "victim".to_owned()]);
    expected.sort();
    assert_eq!(files_in(dir.path()), expected);
}

struct Panicking;
impl Collector for Panicking {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        SIZE.collect(sink)?;
        panic!("collector bug");
    }
}

#[test]
fn a_panicking_collector_leaves_no_temp_file() {
    let dir = TempDir::new("textfile-panic");
    let path = dir.path().join("metrics.prom");
    write_to_textfile(&path, &SIZE).unwrap();
    let old = std::fs::read_to_string(&path).unwrap();
    let panicked = catch_unwind(AssertUnwindSafe(|| write_to_textfile(&path, &Panicking)));
    assert!(panicked.is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), old, "old file must be intact");
    assert_eq!(files_in(dir.path()), ["metrics.prom"], "temp file must be removed");
}

/// Set in the child process that runs with a small tmpfs mounted at the given directory.
const TMPFS_DIR: &str = "PROMSTACK_TEST_TMPFS_DIR";

/// Writing on a full filesystem (a 256 KiB tmpfs in a private mount namespace, in a child
/// process of this test binary) fails with ENOSPC, keeps the old file and leaves no temp file.
#[test]
fn a_full_filesystem_fails_cleanly() {
    if let Some(dir) = std::env::var_os(TMPFS_DIR) {
        return full_filesystem_child(std::path::Path::new(&dir));
    }
    let unshare_works = Command::new("unshare")
        .args(["-rm", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !unshare_works {
        skip_or_fail("`unshare -rm` (a private mount namespace for a tmpfs) is not available");
        return;
    }
    let dir = TempDir::new("textfile-tmpfs");
    let out = Command::new("unshare")
        .args([
            "-rm",
            "sh",
            "-c",
            r#"mount -t tmpfs -o size=256k tmpfs "$1" && exec "$2" --exact "$3" --nocapture"#,
            "sh",
        ])
        .arg(dir.path())
        .arg(std::env::current_exe().unwrap())
        .arg("a_full_filesystem_fails_cleanly")
        .env(TMPFS_DIR, dir.path())
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("1 passed"), "{log}");
}

fn full_filesystem_child(dir: &std::path::Path) {
    let path = dir.join("metrics.prom");
    write_to_textfile(&path, &SIZE).unwrap();
    let old = std::fs::read_to_string(&path).unwrap();
    // Fill every block that is left.
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    let full = loop {
        if let Err(e) = std::io::Write::write_all(&mut filler, &block) {
            break e;
        }
    };
    assert_eq!(full.raw_os_error(), Some(28), "{full}"); // ENOSPC
    drop(filler);

    let err = write_to_textfile(&path, &SIZE).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(28), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), old, "old file must be intact");
    assert_eq!(files_in(dir), ["filler", "metrics.prom"], "temp file must be removed");
    // With room again, writing works.
    std::fs::remove_file(dir.join("filler")).unwrap();
    SIZE.set(8192.0);
    write_to_textfile(&path, &SIZE).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().ends_with("tf_backup_size_bytes 8192.0\n"));
    assert_eq!(files_in(dir), ["metrics.prom"]);
}

/// Outside CI a test whose precondition the machine lacks says so and passes; in CI (`CI=true`)
/// that is a failure, so a missing capability is never a silent skip.
fn skip_or_fail(why: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true and the machine lacks: {why}");
    eprintln!("skipping: {why}");
}
