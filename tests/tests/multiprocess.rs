//! Multiprocess mode: the cases of Python 0.8.0's `tests/test_multiprocess.py`, real worker
//! processes counting concurrently into one directory, and Python `prometheus_client` 0.8.0
//! reading files written by promstack and the other way round.
//!
//! Worker processes are this test binary run again with `PROMSTACK_MP_WORKER` set: the test
//! [`worker_entry`] then does the work the variable names instead of returning at once.

use promstack::multiprocess::{
    mark_process_dead, merge_files, GaugeMode, MmapDict, MultiProcessCollector, MultiProcessError, Opts,
    Store,
};
use promstack::{encode_text, DEFAULT_BUCKETS};
use promstack_tests::{python, TempDir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Worker processes.

const WORKER_ENV: &str = "PROMSTACK_MP_WORKER";
const DIR_ENV: &str = "PROMSTACK_MP_TEST_DIR";

/// Threads per counting worker and increments per thread.
const THREADS: usize = 4;
const INCS: usize = 5_000;

/// Runs `job` in a new process of this test binary, with the multiprocess directory `dir`.
fn spawn_worker(job: &str, dir: &Path) -> Child {
    Command::new(std::env::current_exe().expect("current exe"))
        .args(["worker_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(WORKER_ENV, job)
        .env(DIR_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn worker")
}

/// The metrics every counting worker (Rust or Python) updates; the same names and types in both.
struct WorkerMetrics {
    requests: promstack::multiprocess::Family<promstack::multiprocess::Counter>,
    plain: promstack::multiprocess::Counter,
    latency: promstack::multiprocess::Histogram,
    sizes: promstack::multiprocess::Summary,
    in_flight: promstack::multiprocess::Gauge,
    workers: promstack::multiprocess::Gauge,
}

fn worker_metrics(store: &Store) -> WorkerMetrics {
    WorkerMetrics {
        requests: store.counter_family(Opts::new("w_requests", "Requests."), &["path"]).unwrap(),
        plain: store.counter(Opts::new("w_plain_total", "Plain.")).unwrap(),
        latency: store.histogram(Opts::new("w_latency_seconds", "Latency."), &[0.5, 1.0, 2.0]).unwrap(),
        sizes: store.summary(Opts::new("w_size_bytes", "Sizes.")).unwrap(),
        in_flight: store.gauge(Opts::new("w_in_flight", "In flight."), GaugeMode::LiveSum).unwrap(),
        workers: store.gauge(Opts::new("w_workers", "Workers."), GaugeMode::LiveAll).unwrap(),
    }
}

/// Not a test of its own: the body of a worker process (a no-op in the normal test run).
#[test]
fn worker_entry() {
    let Ok(job) = std::env::var(WORKER_ENV) else { return };
    let dir = PathBuf::from(std::env::var(DIR_ENV).expect("worker dir"));
    let store = Store::open(&dir).unwrap();
    match job.as_str() {
        // THREADS threads, INCS updates each, of every metric type.
        "count" => {
            let m = Arc::new(worker_metrics(&store));
            m.workers.set(1.0);
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let m = m.clone();
                    std::thread::spawn(move || {
                        let path = ["/a", "/b"][t % 2];
                        let child = m.requests.get([path]).unwrap();
                        for i in 0..INCS {
                            child.inc();
                            m.plain.inc_by(0.5).unwrap();
                            m.latency.observe((i % 4) as f64 * 0.5);
                            m.sizes.observe(2.0);
                            m.in_flight.inc();
                            m.in_flight.dec();
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            println!("done");
        }
        // Creates children and counts until killed: child i gets 1, then `total` gets 1.
        "forever" => {
            let children = store.counter_family(Opts::new("k_child", "Children."), &["i"]).unwrap();
            let total = store.counter(Opts::new("k_total", "Total.")).unwrap();
            println!("started");
            for i in 0u64.. {
                children.get([&i.to_string()]).unwrap().inc();
                total.inc();
            }
        }
        // Reads a 16-byte file whose header claims ~2 GiB, under a small address-space limit.
        "huge-header" => {
            let path = dir.join("counter_1.db");
            let e = promstack::multiprocess::read_all_values_from_file(&path).unwrap_err();
            assert!(matches!(e, MultiProcessError::Truncated { used: 0x7fff_fff8, len: 16, .. }), "{e}");
            let m = MultiProcessCollector::new(&dir).unwrap().merge();
            assert!(matches!(m.errors.as_slice(), [MultiProcessError::Truncated { .. }]), "{:?}", m.errors);
            println!("refused");
        }
        // Counts into a directory on a filesystem with room for one 1 MiB file and a little more.
        "full-fs" => {
            let family = store.counter_family(Opts::new("f_requests", "Requests."), &["path"]).unwrap();
            // The first file fits; the gauge's file does not, so the gauge counts in memory.
            let first = family.get(["/0"]).unwrap();
            first.inc();
            let gauge = store.gauge(Opts::new("f_busy", "Busy."), GaugeMode::LiveSum).unwrap();
            gauge.set(3.0);
            gauge.inc();
            assert_eq!(gauge.get(), 4.0);
            // ~1.5 MB of entries: the counter file must grow past the filesystem.
            let long = "x".repeat(100);
            let children: Vec<_> =
                (0..FULL_FS_CHILDREN).map(|i| family.get([&format!("/{i}/{long}")]).unwrap()).collect();
            for (i, c) in children.iter().enumerate() {
                c.inc_by(i as f64).unwrap();
                c.inc();
            }
            for (i, c) in children.iter().enumerate() {
                assert_eq!(c.get(), i as f64 + 1.0, "child {i}");
            }
            let m = MultiProcessCollector::new(&dir).unwrap().merge();
            assert!(m.errors.is_empty(), "{:?}", m.errors);
            let mut in_file = 0;
            for (i, _) in children.iter().enumerate() {
                let path = format!("/{i}/{long}");
                if let Some(v) = m.get_sample_value("f_requests_total", &[("path", &path)]) {
                    assert_eq!(v, i as f64 + 1.0, "child {i} in the file");
                    in_file += 1;
                }
            }
            assert!(m.get_sample_value("f_busy", &[]).is_none(), "the gauge file cannot exist");
            println!("in file {in_file}");
        }
        other => panic!("unknown worker job {other}"),
    }
}

/// Children the `full-fs` worker makes: more than a 1 MiB file holds.
const FULL_FS_CHILDREN: usize = 9_000;

#[test]
fn concurrent_worker_processes_give_exact_totals() {
    const WORKERS: usize = 4;
    let dir = TempDir::new("mp-workers");
    let workers: Vec<Child> = (0..WORKERS).map(|_| spawn_worker("count", dir.path())).collect();
    let pids: Vec<u32> = workers.iter().map(Child::id).collect();
    for w in workers {
        let out = w.wait_with_output().unwrap();
        assert!(out.status.success(), "worker failed: {}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stdout).contains("done"));
    }
    let merged = MultiProcessCollector::new(dir.path()).unwrap().merge();
    assert!(merged.errors.is_empty(), "{:?}", merged.errors);
    let n = (WORKERS * THREADS * INCS) as f64;
    let per_path = n / 2.0;
    assert_eq!(merged.get_sample_value("w_requests_total", &[("path", "/a")]), Some(per_path));
    assert_eq!(merged.get_sample_value("w_requests_total", &[("path", "/b")]), Some(per_path));
    assert_eq!(merged.get_sample_value("w_plain_total", &[]), Some(n * 0.5));
    // Observations cycle through 0, 0.5, 1.0, 1.5: a quarter each.
    let q = n / 4.0;
    assert_eq!(merged.get_sample_value("w_latency_seconds_bucket", &[("le", "0.5")]), Some(2.0 * q));
    assert_eq!(merged.get_sample_value("w_latency_seconds_bucket", &[("le", "1.0")]), Some(3.0 * q));
    assert_eq!(merged.get_sample_value("w_latency_seconds_bucket", &[("le", "2.0")]), Some(n));
    assert_eq!(merged.get_sample_value("w_latency_seconds_bucket", &[("le", "+Inf")]), Some(n));
    assert_eq!(merged.get_sample_value("w_latency_seconds_count", &[]), Some(n));
    assert_eq!(merged.get_sample_value("w_latency_seconds_sum", &[]), Some(q * (0.5 + 1.0 + 1.5)));
    assert_eq!(merged.get_sample_value("w_size_bytes_count", &[]), Some(n));
    assert_eq!(merged.get_sample_value("w_size_bytes_sum", &[]), Some(2.0 * n));
    assert_eq!(merged.get_sample_value("w_in_flight", &[]), Some(0.0));
    for pid in &pids {
        assert_eq!(merged.get_sample_value("w_workers", &[("pid", &pid.to_string())]), Some(1.0));
    }
    // The workers are gone: marking them dead removes their live gauges only.
    for pid in &pids {
        mark_process_dead(pid, dir.path()).unwrap();
    }
    let merged = MultiProcessCollector::new(dir.path()).unwrap().merge();
    assert!(merged.family("w_workers").is_none());
    assert!(merged.family("w_in_flight").is_none());
    assert_eq!(merged.get_sample_value("w_plain_total", &[]), Some(n * 0.5));
}

#[test]
fn a_worker_killed_mid_update_leaves_readable_files() {
    let dir = TempDir::new("mp-kill");
    let mut worker = spawn_worker("forever", dir.path());
    // Wait until it counts (the test harness prints its own lines first), then let it grow
    // its file past the first megabyte, so it is killed while remapping files as well.
    let mut out = std::io::BufReader::new(worker.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("started") {
        line.clear();
        assert_ne!(std::io::BufRead::read_line(&mut out, &mut line).unwrap(), 0, "worker ended");
    }
    let counter_file = dir.path().join(format!("counter_{}.db", worker.id()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&counter_file).map(|m| m.len()).unwrap_or(0) <= 1 << 20
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    drop(out);

    let merged = MultiProcessCollector::new(dir.path()).unwrap().merge();
    assert!(merged.errors.is_empty(), "{:?}", merged.errors);
    let total = merged.get_sample_value("k_total", &[]).expect("k_total");
    let children = merged.family("k_child").expect("k_child");
    let ones = children.samples().iter().filter(|s| s.value == 1.0).count() as f64;
    let zeros = children.samples().iter().filter(|s| s.value == 0.0).count();
    assert!(total > 1000.0, "the worker counted only {total}");
    // The kill lands between any two steps: creating child i, counting it, counting the total.
    assert!(total == ones || total + 1.0 == ones, "total {total}, children at 1: {ones}");
    assert!(zeros <= 1, "{zeros} children at 0");
    assert_eq!(children.samples().len() - zeros, ones as usize);
}

// ---------------------------------------------------------------------------------------------
// Python 0.8.0 tests/test_multiprocess.py, TestMultiProcess. Python swaps the process
// identifier between "processes" (`MultiProcessValue(lambda: 123)`); here each process is a
// store opened with that identifier.

fn ident(id: u64) -> impl Fn() -> u64 + Send + Sync + 'static {
    move || id
}

fn merged(dir: &TempDir) -> promstack::multiprocess::Merged {
    let m = MultiProcessCollector::new(dir.path()).unwrap().merge();
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    m
}

/// (sample name, labels, value).
type Expect<'a> = (&'a str, &'a [(&'a str, &'a str)], f64);

/// A merged sample as owned data: (name, labels, value).
type OwnedSample = (String, Vec<(String, String)>, f64);

// test_counter_adds, test_summary_adds, test_histogram_adds.
#[test]
fn counters_summaries_histograms_add_across_processes() {
    let dir = TempDir::new("mp-adds");
    let p123 = Store::open_with_identifier(dir.path(), ident(123)).unwrap();
    let p456 = Store::open_with_identifier(dir.path(), ident(456)).unwrap();
    let c1 = p123.counter(Opts::new("c", "help")).unwrap();
    let c2 = p456.counter(Opts::new("c", "help")).unwrap();
    let s1 = p123.summary(Opts::new("s", "help")).unwrap();
    let s2 = p456.summary(Opts::new("s", "help")).unwrap();
    let h1 = p123.histogram(Opts::new("h", "help"), &DEFAULT_BUCKETS).unwrap();
    let h2 = p456.histogram(Opts::new("h", "help"), &DEFAULT_BUCKETS).unwrap();
    let before: &[Expect] = &[
        ("c_total", &[], 0.0),
        ("s_count", &[], 0.0),
        ("s_sum", &[], 0.0),
        ("h_count", &[], 0.0),
        ("h_sum", &[], 0.0),
        ("h_bucket", &[("le", "5.0")], 0.0),
    ];
    for (name, labels, want) in before {
        assert_eq!(merged(&dir).get_sample_value(name, labels), Some(*want), "{name}");
    }
    c1.inc_by(1.0).unwrap();
    c2.inc_by(2.0).unwrap();
    s1.observe(1.0);
    s2.observe(2.0);
    h1.observe(1.0);
    h2.observe(2.0);
    let after: &[Expect] = &[
        ("c_total", &[], 3.0),
        ("s_count", &[], 2.0),
        ("s_sum", &[], 3.0),
        ("h_count", &[], 2.0),
        ("h_sum", &[], 3.0),
        ("h_bucket", &[("le", "5.0")], 2.0),
    ];
    for (name, labels, want) in after {
        assert_eq!(merged(&dir).get_sample_value(name, labels), Some(*want), "{name}");
    }
}

/// One gauge mode case: expected `g` samples (by pid label, `None` = no pid label) at each step.
struct GaugeCase {
    python_case: &'static str,
    mode: GaugeMode,
    initially: &'static [(Option<&'static str>, Option<f64>)],
    after_set: &'static [(Option<&'static str>, Option<f64>)],
    after_dead: &'static [(Option<&'static str>, Option<f64>)],
}

const GAUGE_CASES: &[GaugeCase] = &[
    GaugeCase {
        python_case: "test_gauge_all",
        mode: GaugeMode::All,
        initially: &[(Some("123"), Some(0.0)), (Some("456"), Some(0.0))],
        after_set: &[(Some("123"), Some(1.0)), (Some("456"), Some(2.0))],
        after_dead: &[(Some("123"), Some(1.0)), (Some("456"), Some(2.0))],
    },
    GaugeCase {
        python_case: "test_gauge_liveall",
        mode: GaugeMode::LiveAll,
        initially: &[(Some("123"), Some(0.0)), (Some("456"), Some(0.0))],
        after_set: &[(Some("123"), Some(1.0)), (Some("456"), Some(2.0))],
        after_dead: &[(Some("123"), None), (Some("456"), Some(2.0))],
    },
    GaugeCase {
        python_case: "test_gauge_min (+ after mark_process_dead: dead processes still count)",
        mode: GaugeMode::Min,
        initially: &[(None, Some(0.0))],
        after_set: &[(None, Some(1.0))],
        after_dead: &[(None, Some(1.0))],
    },
    GaugeCase {
        python_case: "test_gauge_max (+ after mark_process_dead)",
        mode: GaugeMode::Max,
        initially: &[(None, Some(0.0))],
        after_set: &[(None, Some(2.0))],
        after_dead: &[(None, Some(2.0))],
    },
    GaugeCase {
        python_case: "test_gauge_livesum",
        mode: GaugeMode::LiveSum,
        initially: &[(None, Some(0.0))],
        after_set: &[(None, Some(3.0))],
        after_dead: &[(None, Some(2.0))],
    },
];

#[test]
fn gauge_modes() {
    for case in GAUGE_CASES {
        let dir = TempDir::new("mp-gauge");
        let g1 = Store::open_with_identifier(dir.path(), ident(123))
            .unwrap()
            .gauge(Opts::new("g", "help"), case.mode);
        let g2 = Store::open_with_identifier(dir.path(), ident(456))
            .unwrap()
            .gauge(Opts::new("g", "help"), case.mode);
        let (g1, g2) = (g1.unwrap(), g2.unwrap());
        let check = |step: &str, want: &[(Option<&str>, Option<f64>)]| {
            let m = merged(&dir);
            for (pid, value) in want {
                let labels: Vec<(&str, &str)> = pid.iter().map(|p| ("pid", *p)).collect();
                assert_eq!(
                    m.get_sample_value("g", &labels),
                    *value,
                    "{} {step} pid {pid:?}",
                    case.python_case
                );
            }
            // No other series: a mode that merges processes has exactly one.
            let n = m.family("g").map_or(0, |f| f.samples().len());
            assert_eq!(n, want.iter().filter(|(_, v)| v.is_some()).count(), "{} {step}", case.python_case);
        };
        check("initially", case.initially);
        g1.set(1.0);
        g2.set(2.0);
        check("after set", case.after_set);
        mark_process_dead(123, dir.path()).unwrap();
        check("after mark_process_dead(123)", case.after_dead);
    }
}

// test_namespace_subsystem.
#[test]
fn namespace_subsystem() {
    let dir = TempDir::new("mp-ns");
    let store = Store::open_with_identifier(dir.path(), ident(123)).unwrap();
    store.counter(Opts::new("c", "help").namespace("ns").subsystem("ss")).unwrap().inc();
    assert_eq!(merged(&dir).get_sample_value("ns_ss_c_total", &[]), Some(1.0));
}

// test_counter_across_forks.
#[test]
fn counter_across_identifier_change() {
    let dir = TempDir::new("mp-forks");
    let pid = Arc::new(AtomicU64::new(0));
    let p = pid.clone();
    let store = Store::open_with_identifier(dir.path(), move || p.load(Ordering::SeqCst)).unwrap();
    let c1 = store.counter(Opts::new("c", "help")).unwrap();
    assert_eq!(merged(&dir).get_sample_value("c_total", &[]), Some(0.0));
    c1.inc();
    c1.inc();
    pid.store(1, Ordering::SeqCst);
    c1.inc();
    assert_eq!(merged(&dir).get_sample_value("c_total", &[]), Some(3.0));
    assert_eq!(c1.get(), 1.0);
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// test_initialization_detects_pid_change.
#[test]
fn initialization_detects_identifier_change() {
    let dir = TempDir::new("mp-init");
    let pid = Arc::new(AtomicU64::new(0));
    let p = pid.clone();
    let store = Store::open_with_identifier(dir.path(), move || p.load(Ordering::SeqCst)).unwrap();
    let _c1 = store.counter(Opts::new("c1", "c1")).unwrap();
    assert_eq!(file_names(dir.path()), ["counter_0.db"]);
    let _c2 = store.counter(Opts::new("c2", "c2")).unwrap();
    assert_eq!(file_names(dir.path()), ["counter_0.db"]);
    pid.store(1, Ordering::SeqCst);
    let _c3 = store.counter(Opts::new("c3", "c3")).unwrap();
    assert_eq!(file_names(dir.path()), ["counter_0.db", "counter_1.db"]);
}

/// The labels of test_collect: a..d, each its own value, plus `extra`.
fn abcd_with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut l: Vec<(&str, &str)> = ["a", "b", "c", "d"].iter().map(|s| (*s, *s)).collect();
    l.extend_from_slice(extra);
    l.sort();
    l
}

/// (le, value) of the default buckets for observations 1 and 5.
const H_BUCKETS: [(&str, f64, f64); 15] = [
    // (le, cumulative, per bucket)
    ("0.005", 0.0, 0.0),
    ("0.01", 0.0, 0.0),
    ("0.025", 0.0, 0.0),
    ("0.05", 0.0, 0.0),
    ("0.075", 0.0, 0.0),
    ("0.1", 0.0, 0.0),
    ("0.25", 0.0, 0.0),
    ("0.5", 0.0, 0.0),
    ("0.75", 0.0, 0.0),
    ("1.0", 1.0, 1.0),
    ("2.5", 1.0, 0.0),
    ("5.0", 2.0, 1.0),
    ("7.5", 2.0, 0.0),
    ("10.0", 2.0, 0.0),
    ("+Inf", 2.0, 0.0),
];

fn sample_list(m: &promstack::multiprocess::Merged, family: &str) -> Vec<OwnedSample> {
    let f = m.family(family).unwrap();
    f.samples().iter().map(|s| (f.sample_name(s), s.labels.clone(), s.value)).collect()
}

fn owned(name: &str, labels: Vec<(&str, &str)>, v: f64) -> OwnedSample {
    (name.to_owned(), labels.into_iter().map(|(a, b)| (a.to_owned(), b.to_owned())).collect(), v)
}

// test_collect and test_merge_no_accumulate.
#[test]
fn collect_and_merge_without_accumulating() {
    let dir = TempDir::new("mp-collect");
    let pid = Arc::new(AtomicU64::new(0));
    let p = pid.clone();
    let store = Store::open_with_identifier(dir.path(), move || p.load(Ordering::SeqCst)).unwrap();
    let names = ["a", "b", "c", "d"];
    let c = store.counter_family(Opts::new("c", "help"), &names).unwrap();
    let g = store.gauge_family(Opts::new("g", "help"), GaugeMode::All, &names).unwrap();
    let h = store.histogram_family(Opts::new("h", "help"), &DEFAULT_BUCKETS, &names).unwrap();
    let by_name = [("a", "a"), ("b", "b"), ("c", "c"), ("d", "d")];
    c.get_by_name(&by_name).unwrap().inc();
    g.get_by_name(&by_name).unwrap().set(1.0);
    h.get_by_name(&by_name).unwrap().observe(1.0);
    pid.store(1, Ordering::SeqCst);
    c.get_by_name(&by_name).unwrap().inc();
    g.get_by_name(&by_name).unwrap().set(1.0);
    h.get_by_name(&by_name).unwrap().observe(5.0);

    let m = merged(&dir);
    assert_eq!(sample_list(&m, "c"), [owned("c_total", abcd_with(&[]), 2.0)]);
    assert_eq!(
        sample_list(&m, "g"),
        [owned("g", abcd_with(&[("pid", "0")]), 1.0), owned("g", abcd_with(&[("pid", "1")]), 1.0)]
    );
    let mut want: Vec<_> = H_BUCKETS
        .iter()
        .map(|(le, cumulative, _)| owned("h_bucket", abcd_with(&[("le", le)]), *cumulative))
        .collect();
    want.push(owned("h_count", abcd_with(&[]), 2.0));
    want.push(owned("h_sum", abcd_with(&[]), 6.0));
    assert_eq!(sample_list(&m, "h"), want);

    let m = merge_files(&MultiProcessCollector::new(dir.path()).unwrap().files().unwrap(), false);
    let mut want: Vec<_> = H_BUCKETS
        .iter()
        .map(|(le, _, per_bucket)| owned("h_bucket", abcd_with(&[("le", le)]), *per_bucket))
        .collect();
    want.push(owned("h_sum", abcd_with(&[]), 6.0));
    assert_eq!(sample_list(&m, "h"), want);
}

// test_missing_gauge_file_during_merge.
#[test]
fn missing_live_gauge_files_during_merge_are_skipped() {
    let dir = TempDir::new("mp-missing");
    let m = merge_files(
        &[dir.path().join("gauge_liveall_9999999.db"), dir.path().join("gauge_livesum_9999999.db")],
        true,
    );
    assert!(m.families.is_empty() && m.errors.is_empty(), "{m:?}");
}

// TestUnsetEnv: test_unset_syncdir_env, test_file_syncpath.
#[test]
fn collector_needs_a_directory() {
    if promstack::multiprocess::env_dir().is_none() {
        assert!(matches!(MultiProcessCollector::from_env(), Err(MultiProcessError::EnvNotSet)));
    }
    let dir = TempDir::new("mp-notdir");
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let e = MultiProcessCollector::new(&file).unwrap_err();
    assert!(matches!(e, MultiProcessError::NotADirectory(_)), "{e}");
    assert!(e.to_string().contains(&file.display().to_string()));
    assert!(Store::open(&file).is_err());
}

// TestMmapedDict.test_process_restart.
#[test]
fn mmap_dict_process_restart() {
    let dir = TempDir::new("mp-restart");
    let path = dir.path().join("d.db");
    let mut d = MmapDict::open(&path).unwrap();
    d.write_value("abc", 123.0).unwrap();
    drop(d);
    let mut d = MmapDict::open(&path).unwrap();
    assert_eq!(d.read_value("abc").unwrap(), 123.0);
    assert_eq!(d.read_all_values(), [("abc".to_string(), 123.0)]);
}

// ---------------------------------------------------------------------------------------------
// Refusals.

#[test]
fn what_cannot_work_across_processes_is_refused() {
    use promstack::multiprocess::Feature;
    let dir = TempDir::new("mp-refuse");
    let store = Store::open(dir.path()).unwrap();
    let e = store.gauge_family(Opts::new("g", "help"), GaugeMode::All, &["pid"]).unwrap_err();
    assert!(matches!(e, MultiProcessError::Unsupported(Feature::GaugePidLabel)), "{e}");
    assert_eq!(e.to_string(), "a label named \"pid\" on a gauge cannot work in multiprocess mode");
    // A pid label on a counter is fine.
    store.counter_family(Opts::new("c", "help"), &["pid"]).unwrap();

    static INFO: promstack::Info =
        promstack::Info::new("build", "Build.", promstack::InfoPairs::new(&["version"], &["1"]));
    static STATE: promstack::Enum = promstack::Enum::new("state", "State.", &["a", "b"]);
    static UP: promstack::Gauge = promstack::Gauge::new("up", "Up.");
    let refused = |c: Arc<dyn promstack::Collector>| match store.register(c) {
        Err(MultiProcessError::Unsupported(f)) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(refused(Arc::new(&INFO)), Feature::Info);
    assert_eq!(refused(Arc::new(&STATE)), Feature::Enum);
    assert_eq!(refused(Arc::new(&UP)), Feature::CustomCollector);
    for f in [Feature::Pushgateway, Feature::Info, Feature::Enum] {
        assert!(matches!(store.check_supported(f), Err(MultiProcessError::Unsupported(g)) if g == f));
        assert!(Store::memory().check_supported(f).is_ok());
    }
    // Duplicate names and bad names are errors too.
    assert!(matches!(store.counter(Opts::new("c_total", "again")), Err(MultiProcessError::Duplicate(_))));
    assert!(matches!(store.gauge(Opts::new("0g", ""), GaugeMode::All), Err(MultiProcessError::Desc(_))));
    assert!(store.histogram(Opts::new("h", ""), &[2.0, 1.0]).is_err());
    assert!(store.histogram_family(Opts::new("h2", ""), &[1.0], &["le"]).is_err());
    // Memory mode takes the same code and exposes values itself.
    let mem = Store::memory();
    mem.gauge_family(Opts::new("g", "help"), GaugeMode::All, &["pid"]).unwrap().get(["1"]).unwrap().set(2.0);
    mem.register(Arc::new(&UP)).unwrap();
    let text = String::from_utf8(encode_text(Vec::new(), &mem).unwrap()).unwrap();
    assert_eq!(
        text,
        "# HELP g help\n# TYPE g gauge\ng{pid=\"1\"} 2.0\n# HELP up Up.\n# TYPE up gauge\nup 0.0\n"
    );
}

#[test]
fn metrics_describe_their_family_and_leave_values_to_the_merge() {
    let dir = TempDir::new("mp-describe");
    let store = Store::open(dir.path()).unwrap();
    let c = store.counter(Opts::new("c", "C.")).unwrap();
    c.inc();
    let text = String::from_utf8(encode_text(Vec::new(), &c).unwrap()).unwrap();
    assert_eq!(text, "# HELP c_total C.\n# TYPE c_total counter\n");
    let text = String::from_utf8(encode_text(Vec::new(), &store).unwrap()).unwrap();
    assert_eq!(text, "# HELP c_total Multiprocess metric\n# TYPE c_total counter\nc_total 1.0\n");
}

// ---------------------------------------------------------------------------------------------
// Corrupt and truncated files.

#[test]
fn truncated_and_corrupt_files_are_reported_and_skipped() {
    let dir = TempDir::new("mp-trunc");
    for id in [1, 2, 3] {
        let store = Store::open_with_identifier(dir.path(), ident(id)).unwrap();
        store.counter(Opts::new("c", "help")).unwrap().inc_by(id as f64).unwrap();
        store.counter(Opts::new("d", "help")).unwrap().inc_by(10.0).unwrap();
    }
    // Process 2's file loses its tail; process 3's first entry gets a junk length.
    let f2 = dir.path().join("counter_2.db");
    let used = u32::from_le_bytes(std::fs::read(&f2).unwrap()[..4].try_into().unwrap());
    std::fs::OpenOptions::new().write(true).open(&f2).unwrap().set_len(u64::from(used) - 5).unwrap();
    let f3 = dir.path().join("counter_3.db");
    let mut bytes = std::fs::read(&f3).unwrap();
    bytes[8..16].copy_from_slice(b"somejunk");
    std::fs::write(&f3, bytes).unwrap();

    let collector = MultiProcessCollector::new(dir.path()).unwrap();
    let m = collector.merge();
    assert_eq!(m.errors.len(), 2, "{:?}", m.errors);
    let messages: Vec<String> = m.errors.iter().map(ToString::to_string).collect();
    assert!(
        matches!(m.errors[0], MultiProcessError::Truncated { .. }) && messages[0].contains("counter_2.db")
    );
    assert!(matches!(m.errors[1], MultiProcessError::Corrupt { .. }) && messages[1].contains("counter_3.db"));
    // Only process 1 counts: a damaged file is skipped whole, never half-counted.
    assert_eq!(m.get_sample_value("c_total", &[]), Some(1.0));
    assert_eq!(m.get_sample_value("d_total", &[]), Some(10.0));
    // The collector still exposes the good files.
    let text = String::from_utf8(encode_text(Vec::new(), &collector).unwrap()).unwrap();
    assert!(text.contains("c_total 1.0\n") && text.contains("d_total 10.0\n"), "{text}");

    // A key that is not Python's JSON, and a file name that is not a multiprocess file.
    let mut d = MmapDict::open(dir.path().join("counter_4.db")).unwrap();
    d.write_value("not json", 1.0).unwrap();
    std::fs::write(dir.path().join("stray_file.db"), b"").unwrap();
    let m = collector.merge();
    assert!(m
        .errors
        .iter()
        .any(|e| matches!(e, MultiProcessError::Corrupt { .. }) && e.to_string().contains("counter_4.db")));
    assert!(m.errors.iter().any(|e| matches!(e, MultiProcessError::BadFileName(_))));
    assert_eq!(m.get_sample_value("c_total", &[]), Some(1.0));
}

// ---------------------------------------------------------------------------------------------
// Python interop.

/// Label values that exercise the JSON key (escapes, non-ASCII, a non-BMP character) and the
/// exposition's label escaping.
const TRICKY: &[&str] =
    &["plain", "quote\"back\\slash", "new\nline", "caf\u{e9}", "smile\u{1F600}", "tab\there", ""];

/// Writes the interop data set with promstack, as process `id`.
fn write_rust_data(dir: &Path, id: u64) {
    let store = Store::open_with_identifier(dir, ident(id)).unwrap();
    let c = store.counter_family(Opts::new("ip_requests", "Requests."), &["v"]).unwrap();
    for (i, v) in TRICKY.iter().enumerate() {
        c.get([v]).unwrap().inc_by((i + 1) as f64).unwrap();
    }
    store.counter(Opts::new("ip_plain_total", "Plain.")).unwrap().inc_by(0.25).unwrap();
    for mode in GaugeMode::ALL {
        let g = store.gauge_family(Opts::new(&format!("ip_gauge_{mode}"), "Gauge."), mode, &["v"]).unwrap();
        g.get(["x"]).unwrap().set(id as f64 + 0.5);
    }
    let s = store.summary_family(Opts::new("ip_size_bytes", "Sizes."), &["v"]).unwrap();
    s.get(["caf\u{e9}"]).unwrap().observe(3.0);
    s.get(["caf\u{e9}"]).unwrap().observe(4.5);
    let h = store
        .histogram_family(Opts::new("ip_latency_seconds", "Latency."), &[0.1, 1.0, 2.5, 1e6], &["v"])
        .unwrap();
    for v in [0.05, 0.5, 2.0, 3.0, 7e6] {
        h.get(["smile\u{1F600}"]).unwrap().observe(v);
    }
    let hd = store.histogram(Opts::new("ip_default", "Default buckets."), &DEFAULT_BUCKETS).unwrap();
    hd.observe(0.3);
}

/// The same data set as `write_rust_data`, written by Python 0.8.0 as process `id`.
fn python_writer(id: u64) -> String {
    format!(
        r#"
import os
from prometheus_client import values
from prometheus_client.values import MultiProcessValue
values.ValueClass = MultiProcessValue(lambda: {id})
from prometheus_client import Counter, Gauge, Summary, Histogram, CollectorRegistry
r = CollectorRegistry()
TRICKY = {tricky}
c = Counter('ip_requests', 'Requests.', ['v'], registry=r)
for i, v in enumerate(TRICKY):
    c.labels(v).inc(i + 1)
Counter('ip_plain_total', 'Plain.', registry=r).inc(0.25)
for mode in ['all', 'liveall', 'livesum', 'max', 'min']:
    g = Gauge('ip_gauge_' + mode, 'Gauge.', ['v'], registry=r, multiprocess_mode=mode)
    g.labels('x').set({id} + 0.5)
s = Summary('ip_size_bytes', 'Sizes.', ['v'], registry=r)
s.labels('caf\u00e9').observe(3)
s.labels('caf\u00e9').observe(4.5)
h = Histogram('ip_latency_seconds', 'Latency.', ['v'], registry=r, buckets=[0.1, 1.0, 2.5, 1e6])
for v in [0.05, 0.5, 2.0, 3.0, 7e6]:
    h.labels('smile\U0001F600').observe(v)
Histogram('ip_default', 'Default buckets.', registry=r).observe(0.3)
"#,
        tricky = python_list(TRICKY)
    )
}

/// A Python list literal of `items`.
fn python_list(items: &[&str]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|s| {
            let mut out = String::from("'");
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\'' => out.push_str("\\'"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_ascii() => out.push(c),
                    c => out.push_str(&format!("\\U{:08x}", c as u32)),
                }
            }
            out.push('\'');
            out
        })
        .collect();
    format!("[{}]", inner.join(", "))
}

/// Python's exposition of the directory through its `MultiProcessCollector`.
const PYTHON_READER: &str = r#"
import os, sys
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
r = CollectorRegistry()
MultiProcessCollector(r, path=os.environ['prometheus_multiproc_dir'])
sys.stdout.write(generate_latest(r).decode('utf-8'))
"#;

fn run_python(py: &Path, dir: &Path, script: &str) -> String {
    let out = Command::new(py)
        .args(["-c", script])
        .env("prometheus_multiproc_dir", dir)
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .expect("run python");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("python output is UTF-8")
}

fn rust_exposition(dir: &Path) -> String {
    let collector = MultiProcessCollector::new(dir).unwrap();
    let m = collector.merge();
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    String::from_utf8(encode_text(Vec::new(), &collector).unwrap()).unwrap()
}

/// An exposition reduced to what must agree: per family (sorted by name) its HELP and TYPE lines
/// and its samples (series text -> value text), whatever order each side wrote them in.
type Canonical = BTreeMap<String, (Vec<String>, BTreeMap<String, String>)>;

fn canonical(text: &str) -> Canonical {
    let mut out = Canonical::new();
    let mut family = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let name = rest.split(' ').nth(1).unwrap_or("").to_owned();
            family = name.clone();
            out.entry(name).or_default().0.push(line.to_owned());
        } else if !line.is_empty() {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {line:?}"));
            let old = out.entry(family.clone()).or_default().1.insert(series.to_owned(), value.to_owned());
            assert!(old.is_none(), "series {series} twice");
        }
    }
    out
}

/// Asserts both expositions carry the same families, series and values. Values are compared as
/// numbers; their text too where both sides spell floats alike (promstack writes the shortest
/// round-trip form, Python `repr` and Go's exponent form above 1e6: `7000000.0` vs `7e+06`).
fn assert_same_exposition(rust: &str, python: &str) {
    let (r, p) = (canonical(rust), canonical(python));
    assert_eq!(
        r.keys().collect::<Vec<_>>(),
        p.keys().collect::<Vec<_>>(),
        "families differ\n{rust}\n---\n{python}"
    );
    for (name, (r_headers, r_samples)) in &r {
        let (p_headers, p_samples) = &p[name];
        assert_eq!(r_headers, p_headers, "headers of {name}");
        assert_eq!(
            r_samples.keys().collect::<Vec<_>>(),
            p_samples.keys().collect::<Vec<_>>(),
            "series of {name}"
        );
        for (series, rv) in r_samples {
            let pv = &p_samples[series];
            let (a, b): (f64, f64) = (parse_value(rv), parse_value(pv));
            assert!(a == b || (a.is_nan() && b.is_nan()), "{series}: promstack {rv}, python {pv}");
            if a.abs() < 1e6 {
                assert_eq!(rv, pv, "{series}: spelling");
            }
        }
    }
}

fn parse_value(s: &str) -> f64 {
    match s {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or_else(|_| panic!("bad value {other}")),
    }
}

#[test]
fn python_reads_what_promstack_writes() {
    let Some(py) = python() else { return };
    let dir = TempDir::new("mp-py-reads");
    write_rust_data(dir.path(), 11);
    write_rust_data(dir.path(), 12);
    let python = run_python(&py, dir.path(), PYTHON_READER);
    let rust = rust_exposition(dir.path());
    assert_same_exposition(&rust, &python);
    // Spot checks, so an agreement on nothing cannot pass.
    assert!(python.contains("ip_requests_total{v=\"smile\u{1F600}\"} 10.0\n"), "{python}");
    assert!(python.contains("ip_requests_total{v=\"quote\\\"back\\\\slash\"} 4.0\n"), "{python}");
    assert!(python.contains("ip_gauge_livesum{v=\"x\"} 24.0\n"), "{python}");
    assert!(python.contains("ip_gauge_all{pid=\"12\",v=\"x\"} 12.5\n"), "{python}");
    assert!(
        python.contains("ip_latency_seconds_bucket{le=\"1e+06\",v=\"smile\u{1F600}\"} 8.0\n"),
        "{python}"
    );

    // Every key promstack wrote is the one Python would write, byte for byte.
    let check_keys = r#"
import glob, json, os
from prometheus_client.mmap_dict import MmapedDict
n = 0
for f in glob.glob(os.path.join(os.environ['prometheus_multiproc_dir'], '*.db')):
    for key, value, pos in MmapedDict.read_all_values_from_file(f):
        metric, sample, labels = json.loads(key)
        again = json.dumps([metric, sample, labels], sort_keys=True)
        assert again == key, (again, key)
        n += 1
print(n)
"#;
    let n: usize = run_python(&py, dir.path(), check_keys).trim().parse().unwrap();
    assert!(n > 50, "only {n} keys");
}

/// Removed children: promstack's merge skips their (marked) entries; Python's reader, which
/// ignores the mark, still agrees for counters, histograms and gauges in `all`, `liveall` and
/// `livesum` mode, since a removed child's entries are zeroed and a re-created child's come
/// later in the file.
#[test]
fn python_reads_files_with_removed_children() {
    let Some(py) = python() else { return };
    let dir = TempDir::new("mp-py-removed");
    let store = Store::open_with_identifier(dir.path(), ident(41)).unwrap();
    let jobs = store.counter_family(Opts::new("rm_jobs", "help"), &["q"]).unwrap();
    let live = store.gauge_family(Opts::new("rm_live", "help"), GaugeMode::LiveSum, &["q"]).unwrap();
    let all = store.gauge_family(Opts::new("rm_all", "help"), GaugeMode::All, &["q"]).unwrap();
    let hist = store.histogram_family(Opts::new("rm_h", "help"), &[1.0], &["q"]).unwrap();
    jobs.get(["a"]).unwrap().inc_by(5.0).unwrap();
    jobs.get(["b"]).unwrap().inc_by(1.0).unwrap();
    live.get(["a"]).unwrap().set(7.0);
    all.get(["a"]).unwrap().set(8.0);
    hist.get(["a"]).unwrap().observe(0.5);
    let stale = jobs.get(["a"]).unwrap();
    assert_eq!(jobs.remove(["a"]), Ok(true));
    assert_eq!(jobs.remove(["zz"]), Ok(false));
    live.clear();
    all.remove(["a"]).unwrap();
    hist.remove(["a"]).unwrap();
    stale.inc();
    jobs.get(["a"]).unwrap().inc_by(2.0).unwrap();
    live.get(["a"]).unwrap().set(3.0);
    all.get(["a"]).unwrap().set(4.0);
    hist.get(["a"]).unwrap().observe(2.0);
    let python = run_python(&py, dir.path(), PYTHON_READER);
    let rust = rust_exposition(dir.path());
    assert!(rust.contains("rm_jobs_total{q=\"a\"} 2.0\n"), "{rust}");
    assert!(rust.contains("rm_jobs_total{q=\"b\"} 1.0\n"), "{rust}");
    assert!(rust.contains("rm_live{q=\"a\"} 3.0\n"), "{rust}");
    assert!(rust.contains("rm_all{pid=\"41\",q=\"a\"} 4.0\n"), "{rust}");
    assert!(rust.contains("rm_h_bucket{le=\"1.0\",q=\"a\"} 0.0\n"), "{rust}");
    assert_same_exposition(&rust, &python);
}

#[test]
fn promstack_reads_what_python_writes() {
    let Some(py) = python() else { return };
    let dir = TempDir::new("mp-rs-reads");
    run_python(&py, dir.path(), &python_writer(21));
    run_python(&py, dir.path(), &python_writer(22));
    let python = run_python(&py, dir.path(), PYTHON_READER);
    let rust = rust_exposition(dir.path());
    assert_same_exposition(&rust, &python);
    assert!(rust.contains("ip_requests_total{v=\"new\\nline\"} 6.0\n"), "{rust}");
    assert!(rust.contains("ip_gauge_max{v=\"x\"} 22.5\n"), "{rust}");
    assert!(rust.contains("ip_gauge_min{v=\"x\"} 21.5\n"), "{rust}");
    assert!(rust.contains("ip_size_bytes_sum{v=\"caf\u{e9}\"} 15.0\n"), "{rust}");
}

#[test]
fn python_and_promstack_share_a_directory_and_files() {
    let Some(py) = python() else { return };
    let dir = TempDir::new("mp-mixed");
    // Different processes of both languages in one directory: the sums cover all of them.
    write_rust_data(dir.path(), 31);
    run_python(&py, dir.path(), &python_writer(32));
    let python = run_python(&py, dir.path(), PYTHON_READER);
    let rust = rust_exposition(dir.path());
    assert_same_exposition(&rust, &python);
    assert!(rust.contains("ip_gauge_livesum{v=\"x\"} 64.0\n"), "{rust}");
    assert!(rust.contains("ip_default_bucket{le=\"0.5\"} 2.0\n"), "{rust}");

    // A process restarted under the same identifier continues the other language's file.
    let dir = TempDir::new("mp-continue");
    let store = Store::open_with_identifier(dir.path(), ident(7)).unwrap();
    store.counter(Opts::new("cont", "help")).unwrap().inc_by(5.0).unwrap();
    drop(store);
    let python_continues = r#"
from prometheus_client import values
from prometheus_client.values import MultiProcessValue
values.ValueClass = MultiProcessValue(lambda: 7)
from prometheus_client import Counter, CollectorRegistry
c = Counter('cont', 'help', registry=CollectorRegistry())
assert c._value.get() == 5.0, c._value.get()
c.inc(2)
Counter('other', 'help', registry=CollectorRegistry()).inc(1)
"#;
    run_python(&py, dir.path(), python_continues);
    let store = Store::open_with_identifier(dir.path(), ident(7)).unwrap();
    let c = store.counter(Opts::new("cont", "help")).unwrap();
    assert_eq!(c.get(), 7.0);
    c.inc();
    let other = store.counter(Opts::new("other", "help")).unwrap();
    assert_eq!(other.get(), 1.0);
    store.counter(Opts::new("third", "help")).unwrap().inc();
    let python = run_python(&py, dir.path(), PYTHON_READER);
    assert_same_exposition(&rust_exposition(dir.path()), &python);
    assert!(python.contains("cont_total 8.0\n") && python.contains("third_total 1.0\n"), "{python}");
}

// ---------------------------------------------------------------------------------------------
// Stress: lock-free updates while the store rebinds (identifier changes) and files grow.

#[test]
fn updates_stay_exact_while_files_grow_and_identifiers_change() {
    const THREADS: usize = 4;
    const INCS: usize = 20_000;
    let dir = TempDir::new("mp-stress");
    let id = Arc::new(AtomicU64::new(0));
    let i = id.clone();
    let store = Store::open_with_identifier(dir.path(), move || i.load(Ordering::Relaxed)).unwrap();
    let total = store.counter(Opts::new("s_total", "Total.")).unwrap();
    let family = store.counter_family(Opts::new("s_child", "Children."), &["k"]).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (total, family) = (total.clone(), family.clone());
            std::thread::spawn(move || {
                // Long label values make new entries big, so the files grow (and are remapped)
                // while other threads update values in them.
                let pad = "x".repeat(300);
                for n in 0..INCS {
                    total.inc();
                    if n % 4 == 0 {
                        family.get([&format!("{t}-{n}-{pad}")]).unwrap().inc();
                    } else {
                        family.with(&["hot"], |c| c.inc()).unwrap();
                    }
                }
            })
        })
        .collect();
    let flipper = {
        let (id, stop) = (id.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 40 {
                std::thread::sleep(Duration::from_millis(5));
                id.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        })
    };
    for t in threads {
        t.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();

    let m = merged(&dir);
    let n = (THREADS * INCS) as f64;
    assert_eq!(m.get_sample_value("s_total", &[]), Some(n));
    let children = m.family("s_child").unwrap();
    let sum: f64 = children.samples().iter().map(|s| s.value).sum();
    assert_eq!(sum, n, "every update lands in exactly one file");
    assert_eq!(m.get_sample_value("s_child_total", &[("k", "hot")]), Some(n * 3.0 / 4.0));
    let files = file_names(dir.path());
    assert!(files.len() > 1, "the identifier changed during the run: {files:?}");
}

// ---------------------------------------------------------------------------------------------
// The pre-fork example, when `cargo test --workspace` has built it.

#[test]
fn prefork_example_runs_and_counts_every_worker() {
    let exe = std::env::current_exe().unwrap();
    let Some(example) = exe.parent().and_then(Path::parent).map(|d| d.join("examples/prefork")) else {
        return;
    };
    if !example.is_file() {
        eprintln!("skipping: {} is not built (cargo test --workspace builds it)", example.display());
        return;
    }
    let dir = TempDir::new("mp-prefork");
    let out = Command::new(&example)
        .arg("2")
        .env("PREFORK_WORKERS", "3")
        .env("PREFORK_ADDR", "127.0.0.1:0")
        .env("prometheus_multiproc_dir", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("across 3 live workers"), "{stdout}");
    assert!(stdout.contains("# TYPE prefork_requests_total counter"), "{stdout}");
    // The workers were marked dead on the way out: no live gauge files are left.
    assert!(
        !file_names(dir.path()).iter().any(|f| f.starts_with("gauge_live")),
        "{:?}",
        file_names(dir.path())
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile directories and environments.

/// A FIFO named like a value file would block a plain `open` until a writer comes, and with it
/// every scrape. It is skipped (and reported) without blocking.
#[test]
fn a_fifo_in_the_directory_does_not_block_a_scrape() {
    let dir = TempDir::new("mp-fifo");
    let store = Store::open_with_identifier(dir.path(), ident(1)).unwrap();
    store.counter(Opts::new("c", "help")).unwrap().inc();
    let fifo = dir.path().join("counter_2.db");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("run mkfifo");
    assert!(st.success(), "mkfifo failed");
    std::fs::create_dir(dir.path().join("gauge_all_3.db")).unwrap();

    let (tx, rx) = std::sync::mpsc::channel();
    let path = dir.path().to_path_buf();
    let scrape = std::thread::spawn(move || {
        let collector = MultiProcessCollector::new(&path).unwrap();
        let m = collector.merge();
        let text = String::from_utf8(encode_text(Vec::new(), &collector).unwrap()).unwrap();
        let _ = tx.send((m, text));
    });
    let got = rx.recv_timeout(Duration::from_secs(30));
    if got.is_err() {
        // Unblock the scrape (open the FIFO's write end) so the test ends, then fail.
        let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
    }
    let (m, text) = got.expect("the scrape blocked on the FIFO");
    scrape.join().unwrap();
    assert_eq!(m.get_sample_value("c_total", &[]), Some(1.0));
    assert!(text.contains("c_total 1.0\n"), "{text}");
    let not_files: Vec<_> = m.errors.iter().filter(|e| matches!(e, MultiProcessError::NotAFile(_))).collect();
    assert_eq!(not_files.len(), 2, "{:?}", m.errors);
    assert!(not_files.iter().any(|e| e.to_string().contains("counter_2.db")), "{not_files:?}");
    // Writing into a FIFO is refused too, without blocking.
    assert!(matches!(MmapDict::open(&fifo), Err(MultiProcessError::NotAFile(_))));
}

/// A 16-byte file whose header claims ~2 GiB is refused before anything of that size is
/// allocated: the reading process runs under a 256 MiB address-space limit.
#[test]
fn a_header_claiming_more_than_the_file_allocates_nothing() {
    let dir = TempDir::new("mp-huge-header");
    let mut bytes = 0x7fff_fff8u32.to_le_bytes().to_vec();
    bytes.resize(16, 0);
    std::fs::write(dir.path().join("counter_1.db"), &bytes).unwrap();
    let out = Command::new("sh")
        .args(["-c", "ulimit -v 262144 && exec \"$0\" \"$@\""])
        .arg(std::env::current_exe().expect("current exe"))
        .args(["worker_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(WORKER_ENV, "huge-header")
        .env(DIR_ENV, dir.path())
        .output()
        .expect("run worker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("refused"),
        "worker failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// On a full filesystem, files are reserved (not sparse), so a write cannot die of SIGBUS:
/// what does not fit counts in process memory, what fits is in the file, nothing is lost.
/// Needs a small tmpfs: mounted in a private mount namespace (`unshare`), skipped with the
/// reason when that is not permitted here (and failed under `CI=true`).
#[test]
fn a_full_filesystem_falls_back_to_memory_without_losing_values() {
    let dir = TempDir::new("mp-full-fs");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    // 1 MiB for the first file plus 64 KiB: the second file and any growth do not fit.
    let probe = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            "mount -t tmpfs -o size=1088k none \"$0\"",
        ])
        .arg(&mnt)
        .output();
    match &probe {
        Ok(o) if o.status.success() => {}
        _ => {
            let why = match probe {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(!promstack_tests::in_ci(), "cannot mount a tmpfs in a mount namespace: {why}");
            eprintln!("skipping: cannot mount a tmpfs in a mount namespace: {why}");
            return;
        }
    }
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg("mount -t tmpfs -o size=1088k none \"$0\" && exec \"$@\"")
        .arg(&mnt)
        .arg(std::env::current_exe().expect("current exe"))
        .args(["worker_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(WORKER_ENV, "full-fs")
        .env(DIR_ENV, &mnt)
        .output()
        .expect("run worker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "worker failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let in_file: usize = stdout
        .lines()
        .find_map(|l| l.split_once("in file ").map(|(_, n)| n))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {stdout}"));
    // Both paths ran: the first megabyte of children in the file, the rest in memory.
    assert!(in_file > 1000 && in_file < FULL_FS_CHILDREN, "{in_file} children in the file");
}

/// `mark_process_dead` builds file names from the pid: one that is not a plain file-name
/// component is refused, and nothing outside the directory is removed.
#[test]
fn mark_process_dead_refuses_pids_that_leave_the_directory() {
    let outer = TempDir::new("mp-dead-pid");
    let dir = outer.path().join("mp");
    std::fs::create_dir(&dir).unwrap();
    let victim = outer.path().join("victim.db");
    std::fs::write(&victim, b"keep").unwrap();
    // The attack needs a directory named like the start of a gauge file.
    std::fs::create_dir(dir.join("gauge_livesum_x")).unwrap();
    std::fs::create_dir(dir.join("gauge_liveall_x")).unwrap();
    for pid in ["x/../../victim", "", ".", "..", "a/b", "a\0b"] {
        let e = mark_process_dead(pid, &dir).unwrap_err();
        assert!(matches!(&e, MultiProcessError::InvalidPid(p) if p == pid), "{pid:?}: {e}");
        assert!(e.to_string().contains("invalid process id"), "{e}");
    }
    assert!(victim.exists(), "a file outside the directory was removed");
    let store = Store::open_with_identifier(&dir, ident(5)).unwrap();
    store.gauge(Opts::new("g", "help"), GaugeMode::LiveSum).unwrap().set(1.0);
    mark_process_dead(5, &dir).unwrap();
    mark_process_dead("py-worker.1", &dir).unwrap();
    assert!(!dir.join("gauge_livesum_5.db").exists());
}

/// Gauges in `max`/`min` mode give the same result whatever order the files are merged in:
/// NaN only when every process has NaN, and `0.0` (max) / `-0.0` (min) when both are there.
#[test]
fn gauge_max_and_min_do_not_depend_on_file_order() {
    let dir = TempDir::new("mp-max-nan");
    for (id, v) in [(1, f64::NAN), (2, 5.0), (3, -2.0), (4, f64::NAN)] {
        let store = Store::open_with_identifier(dir.path(), ident(id)).unwrap();
        for mode in [GaugeMode::Max, GaugeMode::Min] {
            let g = store.gauge_family(Opts::new(&format!("g_{mode}"), "help"), mode, &["k"]).unwrap();
            g.get(["mixed"]).unwrap().set(v);
            g.get(["nan"]).unwrap().set(f64::NAN);
            g.get(["zero"]).unwrap().set(if id % 2 == 0 { 0.0 } else { -0.0 });
        }
    }
    let mut files = MultiProcessCollector::new(dir.path()).unwrap().files().unwrap();
    let mut results = Vec::new();
    for _ in 0..2 {
        let m = merge_files(&files, true);
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        let get = |name: &str, k: &str| m.get_sample_value(name, &[("k", k)]).unwrap();
        results.push([
            get("g_max", "mixed").to_bits(),
            get("g_min", "mixed").to_bits(),
            get("g_max", "nan").is_nan() as u64,
            get("g_min", "nan").is_nan() as u64,
            get("g_max", "zero").to_bits(),
            get("g_min", "zero").to_bits(),
        ]);
        files.reverse();
    }
    assert_eq!(results[0], results[1], "the order of the files changed the result");
    let want = [5f64.to_bits(), (-2f64).to_bits(), 1, 1, 0f64.to_bits(), (-0f64).to_bits()];
    assert_eq!(results[0], want);
}

/// A NaN observation and a `-0.0` bucket bound, written by promstack and by Python 0.8.0 into
/// separate directories: Python reads both the same, and promstack reads each as Python does.
#[test]
fn nan_observations_and_negative_zero_bounds_merge_as_in_python() {
    let Some(py) = python() else { return };
    let rust_dir = TempDir::new("mp-nan-rs");
    let py_dir = TempDir::new("mp-nan-py");
    let observations = [f64::NAN, -1.0, -0.0, 0.5, 2.0, f64::NAN];
    for id in [51, 52] {
        let store = Store::open_with_identifier(rust_dir.path(), ident(id)).unwrap();
        let h = store.histogram(Opts::new("nz_hist", "help"), &[-0.0, 1.0]).unwrap();
        let hl = store.histogram_family(Opts::new("nz_labeled", "help"), &[-0.0, 1.0], &["k"]).unwrap();
        let s = store.summary(Opts::new("nz_summary", "help")).unwrap();
        for v in observations {
            h.observe(v);
            hl.get(["a"]).unwrap().observe(v);
            s.observe(v);
        }
        // Python counts a NaN in no bucket.
        assert_eq!(h.count(), 4.0);
    }
    for id in [51, 52] {
        let script = format!(
            r#"
from prometheus_client import values
from prometheus_client.values import MultiProcessValue
values.ValueClass = MultiProcessValue(lambda: {id})
from prometheus_client import Histogram, Summary, CollectorRegistry
r = CollectorRegistry()
h = Histogram('nz_hist', 'help', registry=r, buckets=[-0.0, 1.0])
hl = Histogram('nz_labeled', 'help', ['k'], registry=r, buckets=[-0.0, 1.0])
s = Summary('nz_summary', 'help', registry=r)
for v in [float('nan'), -1.0, -0.0, 0.5, 2.0, float('nan')]:
    h.observe(v)
    hl.labels('a').observe(v)
    s.observe(v)
"#
        );
        run_python(&py, py_dir.path(), &script);
    }
    let python_of_rust = run_python(&py, rust_dir.path(), PYTHON_READER);
    let python_of_python = run_python(&py, py_dir.path(), PYTHON_READER);
    assert_same_exposition(&python_of_rust, &python_of_python);
    assert_same_exposition(&rust_exposition(rust_dir.path()), &python_of_rust);
    assert_same_exposition(&rust_exposition(py_dir.path()), &python_of_python);
    // Spot checks, so an agreement on nothing cannot pass.
    assert!(python_of_python.contains("nz_hist_bucket{le=\"-0.0\"} 4.0\n"), "{python_of_python}");
    assert!(python_of_python.contains("nz_hist_count 8.0\n"), "{python_of_python}");
    assert!(python_of_python.contains("nz_summary_count 12.0\n"), "{python_of_python}");
    // Every key promstack wrote is one Python would write.
    let keys: Vec<String> = MultiProcessCollector::new(rust_dir.path())
        .unwrap()
        .files()
        .unwrap()
        .iter()
        .flat_map(|f| promstack::multiprocess::read_all_values_from_file(f).unwrap())
        .map(|(k, _, _)| k)
        .collect();
    assert!(keys.iter().any(|k| k == r#"["nz_hist", "nz_hist_bucket", {"le": "-0.0"}]"#), "{keys:?}");
}
