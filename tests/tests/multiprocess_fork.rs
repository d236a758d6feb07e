//! Multiprocess metrics across a real `fork()`: the child's updates go to files named with its
//! own pid, starting from zero, and the parent's files are untouched by the child.
//!
//! Its own test binary with one test, so no other test thread holds a lock when it forks.
#![cfg(unix)]

use promstack::multiprocess::{GaugeMode, MultiProcessCollector, Opts, Store};
use promstack_tests::TempDir;

extern "C" {
    fn fork() -> i32;
    fn _exit(code: i32) -> !;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
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
    fam.labels(&["parent"]).unwrap().inc();

    // SAFETY: the child only runs this test's code on its own objects and leaves with _exit.
    let pid = unsafe { fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // A fresh file: the child's value starts at 0, as in Python after a pid change.
            let fresh = c.get() == 0.0;
            c.inc_by(5.0).unwrap();
            g.set(7.0);
            fam.labels(&["parent"]).unwrap().inc();
            fam.labels(&["child"]).unwrap().inc_by(2.0).unwrap();
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
