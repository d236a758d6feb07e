//! Textfile output: atomic replacement, failure leaves the old file, a concurrent reader never
//! sees a partial file, and a real node_exporter textfile collector reads what we write.

mod http_common;

use promstack::{write_to_textfile, CollectError, Collector, Counter, Gauge, Sink};
use promstack_tests::{free_port, peer, wait_for_port, PeerProcess, TempDir};
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
