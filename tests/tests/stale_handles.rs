//! The stale-handle rule, one for every family storage (core's `FixedFamily`, promstack-alloc's
//! `Family`, `multiprocess::Family` in files and in memory): an update through a handle whose
//! child was removed never reaches any exported series, in particular not a child re-created
//! with the same labels.
//!
//! Each test runs the same scenario: threads keep updating through the handle last published
//! (counting their updates per handle) and through the one before it, while the main thread
//! removes the child (or clears the family) and re-creates it, round after round. At the end,
//! every old handle is updated once more, and the exported value of the child must equal the
//! updates counted for the last handle, exactly.

use promstack::multiprocess::{MultiProcessCollector, Opts, Store};
use promstack_core::{encode_text, Collector, CounterValue, FixedFamily};
use promstack_tests::TempDir;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

const UPDATERS: usize = 3;
const ROUNDS: usize = 300;

/// The value of the sample `{name}_total{k="x"}` in the text exposition of `collector`.
fn exported(collector: &dyn Collector, name: &str) -> Option<f64> {
    let text = String::from_utf8(encode_text(Vec::new(), &collector).unwrap()).unwrap();
    let prefix = format!("{name}_total{{k=\"x\"}} ");
    text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(|v| v.parse().unwrap())
}

/// Runs the scenario on one storage: `get` looks up (or re-creates) the child `k="x"`, `remove`
/// removes it (`true`) or clears the family (`false`), `inc` updates through a handle. Returns
/// the number of updates made through the last handle.
fn remove_and_recreate<H: Clone + Send + 'static>(
    get: impl Fn() -> H,
    remove: impl Fn(bool),
    inc: fn(&H),
) -> u64 {
    let current = Arc::new(Mutex::new((get(), Arc::new(AtomicU64::new(0)))));
    let stop = Arc::new(AtomicBool::new(false));
    let updaters: Vec<_> = (0..UPDATERS)
        .map(|_| {
            let (current, stop) = (current.clone(), stop.clone());
            thread::spawn(move || {
                // The handle published before the current one (stale once a newer one is out).
                let mut previous: Option<(H, Arc<AtomicU64>)> = None;
                let mut held: Option<(H, Arc<AtomicU64>)> = None;
                while !stop.load(Ordering::Relaxed) {
                    let (handle, count) = current.lock().unwrap().clone();
                    if held.as_ref().is_some_and(|(_, c)| !Arc::ptr_eq(c, &count)) {
                        previous = held.take();
                    }
                    for _ in 0..50 {
                        inc(&handle);
                        count.fetch_add(1, Ordering::Relaxed);
                        if let Some((old, _)) = &previous {
                            inc(old);
                        }
                    }
                    held = Some((handle, count));
                }
            })
        })
        .collect();
    let mut old = Vec::new();
    for round in 0..ROUNDS {
        remove(round % 7 != 0);
        let handle = get();
        let replaced =
            std::mem::replace(&mut *current.lock().unwrap(), (handle, Arc::new(AtomicU64::new(0))));
        old.push(replaced.0);
        thread::yield_now();
    }
    // Let the updaters reach the last handle too.
    let last = current.lock().unwrap().1.clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while last.load(Ordering::Relaxed) < 10_000 && std::time::Instant::now() < deadline {
        thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    for u in updaters {
        u.join().unwrap();
    }
    for h in &old {
        inc(h);
    }
    let last = last.load(Ordering::Relaxed);
    assert!(last > 0, "the last handle was never updated");
    last
}

#[test]
fn stale_handles_never_reach_a_series_fixed_family() {
    static FIXED: FixedFamily<CounterValue, 1, 8> = FixedFamily::counter("fixed", "Fixed.", ["k"]);
    let last = remove_and_recreate(
        || FIXED.get(["x"]).unwrap(),
        |one| {
            if one {
                FIXED.remove(["x"]);
            } else {
                FIXED.clear();
            }
        },
        |h| h.inc(),
    );
    assert_eq!(exported(&&FIXED, "fixed"), Some(last as f64));
}

#[test]
fn stale_handles_never_reach_a_series_heap_family() {
    let family = promstack_alloc::Family::counter("heap", "Heap.", &["k"]).unwrap();
    let last = remove_and_recreate(
        || family.get(["x"]).unwrap(),
        |one| {
            if one {
                family.remove(["x"]).unwrap();
            } else {
                family.clear();
            }
        },
        |h| h.inc(),
    );
    assert_eq!(exported(&family, "heap"), Some(last as f64));
}

fn multiprocess_scenario(store: &Store) -> u64 {
    let family = store.counter_family(Opts::new("mp", "Multiprocess."), &["k"]).unwrap();
    remove_and_recreate(
        || family.get(["x"]).unwrap(),
        |one| {
            if one {
                family.remove(["x"]).unwrap();
            } else {
                family.clear();
            }
        },
        |h| h.inc(),
    )
}

#[test]
fn stale_handles_never_reach_a_series_multiprocess_files() {
    let dir = TempDir::new("stale-mp");
    let store = Store::open(dir.path()).unwrap();
    let last = multiprocess_scenario(&store);
    // What Python's reader and any scraping process see: the merge of the files.
    let collector = MultiProcessCollector::new(dir.path()).unwrap();
    assert_eq!(exported(&collector, "mp"), Some(last as f64));
    let merged = collector.merge();
    assert!(merged.errors.is_empty(), "{:?}", merged.errors);
    assert_eq!(merged.family("mp").unwrap().samples().len(), 1, "one series, the live child");
}

#[test]
fn stale_handles_never_reach_a_series_multiprocess_memory() {
    let store = Store::memory();
    let last = multiprocess_scenario(&store);
    assert_eq!(exported(&store, "mp"), Some(last as f64));
}
