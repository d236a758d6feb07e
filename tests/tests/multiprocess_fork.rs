//! Multiprocess metrics across a real `fork()`: the child's updates go to files named with its
//! own pid, starting from zero, and the parent's files are untouched by the child.
//!
//! Its own test binary, so only this file's threads hold store locks when it forks; one test
//! forks while another thread creates children, families and stores without pause.
#![cfg(unix)]

use promstack::multiprocess::{GaugeMode, MultiProcessCollector, Opts, Store};
use promstack_tests::TempDir;

extern "C" {
    fn fork() -> i32;
    fn _exit(code: i32) -> !;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn alarm(seconds: u32) -> u32;
}

#[test]
fn metrics_follow_the_process_across_fork() {
    let dir = TempDir::new("mp-fork");
    let store = Store::open(dir.path()).unwrap();
    let c = store.counter(Opts::new("c", "help")).unwrap();
    let g = store.gauge(Opts::new("g", "help"), GaugeMode::LiveAll).unwrap();
    let fam = store.counter_family(Opts::new("f", "help"), &["k"]).unwrap();
    let h = store.histogram(Opts::new("h", "help"), &[1.0]).unwrap();
    c.inc();
    g.set(1.0);
    fam.get(["parent"]).unwrap().inc();

    // SAFETY: the child only runs this test's code on its own objects and leaves with _exit.
    let pid = unsafe { fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // A fresh file: the child's value starts at 0, as in Python after a pid change.
            let fresh = c.get() == 0.0;
            c.inc_by(5.0).unwrap();
            g.set(7.0);
            fam.get(["parent"]).unwrap().inc();
            fam.get(["child"]).unwrap().inc_by(2.0).unwrap();
            h.observe(0.5);
            fresh && c.get() == 5.0
        })) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(_) => 2,
        };
        // SAFETY: ends the forked child without running the parent's exit handlers.
        unsafe { _exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked; `status` is a valid out pointer.
    assert_eq!(unsafe { waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(status, 0, "child failed (status {status:#x})");
    c.inc();
    assert_eq!(c.get(), 2.0, "the child must not have written the parent's file");

    let parent = std::process::id().to_string();
    let child = pid.to_string();
    for name in
        [format!("counter_{parent}.db"), format!("counter_{child}.db"), format!("gauge_liveall_{child}.db")]
    {
        assert!(dir.path().join(&name).exists(), "{name} missing");
    }
    let m = MultiProcessCollector::new(dir.path()).unwrap().merge();
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    assert_eq!(m.get_sample_value("c_total", &[]), Some(7.0));
    assert_eq!(m.get_sample_value("g", &[("pid", &parent)]), Some(1.0));
    assert_eq!(m.get_sample_value("g", &[("pid", &child)]), Some(7.0));
    assert_eq!(m.get_sample_value("f_total", &[("k", "parent")]), Some(2.0));
    assert_eq!(m.get_sample_value("f_total", &[("k", "child")]), Some(2.0));
    assert_eq!(m.get_sample_value("h_bucket", &[("le", "1.0")]), Some(1.0));
}

/// `fork()` while another thread holds the store's locks (creating children, families and
/// stores in a loop): the child must find every lock free. A child that blocks is killed by
/// `alarm` (status: signal 14) instead of hanging the test.
#[test]
fn fork_while_another_thread_holds_store_locks() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    const ROUNDS: usize = 100;
    let dir = TempDir::new("mp-fork-locks");
    let store = Store::open(dir.path()).unwrap();
    // A second store of this process: it shares the files of the first.
    let twin = Store::open(dir.path()).unwrap();
    let twin_counter = twin.counter(Opts::new("twin", "help")).unwrap();
    twin_counter.inc();
    let fam = store.counter_family(Opts::new("busy", "help"), &["k"]).unwrap();
    fam.get(["parent"]).unwrap().inc();
    // The hammer's own store creates children without end; the child process never touches
    // it, so it does not have to move them all to its own files.
    let busy_store = Store::open_with_identifier(dir.path(), || 999_999).unwrap();
    let busy_fam = busy_store.counter_family(Opts::new("endless", "help"), &["k"]).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let hammer = {
        let (store, fam, stop, path) = (store.clone(), fam.clone(), stop.clone(), dir.path().to_path_buf());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                busy_fam.get([&i.to_string()]).unwrap().inc();
                fam.get([&(i % 500).to_string()]).unwrap().inc();
                if i.is_multiple_of(16) && i < 16 * 200 {
                    let g = store
                        .gauge_family(Opts::new(&format!("g{i}"), "help"), GaugeMode::LiveSum, &["k"])
                        .unwrap();
                    g.get(["x"]).unwrap().set(1.0);
                }
                if i.is_multiple_of(64) && i < 64 * 16 {
                    let other = Store::open_with_identifier(&path, move || 1_000_000 + i).unwrap();
                    other.counter(Opts::new("other", "help")).unwrap().inc();
                }
                i += 1;
            }
            i
        })
    };
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        // SAFETY: the child only touches this test's objects, then leaves with _exit.
        let pid = unsafe { fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: async-signal-safe; a deadlocked child dies of SIGALRM.
            unsafe { alarm(30) };
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                fam.get(["parent"]).unwrap().inc();
                fam.get([&format!("child{round}")]).unwrap().inc();
                store.counter(Opts::new(&format!("child_only_{round}"), "help")).unwrap().inc();
                twin_counter.inc();
                twin.counter(Opts::new(&format!("twin_child_{round}"), "help")).unwrap().inc();
                Store::open(dir.path()).unwrap().counter(Opts::new("fresh", "help")).unwrap().inc();
                fam.get(["parent"]).unwrap().get() == 1.0
            }));
            // SAFETY: ends the forked child without running the parent's exit handlers.
            unsafe { _exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for the child just forked; `status` is a valid out pointer.
        assert_eq!(unsafe { waitpid(pid, &mut status, 0) }, pid);
        if status != 0 {
            failures.push((round, status));
            break;
        }
        // Each child's 1 MiB files (reserved, not sparse): only the parent's matter below.
        for kind in ["counter", "gauge_livesum"] {
            let _ = std::fs::remove_file(dir.path().join(format!("{kind}_{pid}.db")));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let made = hammer.join().unwrap();
    assert!(failures.is_empty(), "children failed (round, status; 14 = deadlocked): {failures:?}");
    assert!(made > 0);
    let m = MultiProcessCollector::new(dir.path()).unwrap().merge();
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    assert_eq!(m.get_sample_value("busy_total", &[("k", "parent")]), Some(1.0));
    assert_eq!(m.get_sample_value("twin_total", &[]), Some(1.0));
}
