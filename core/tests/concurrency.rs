//! Exact totals and consistent snapshots under concurrent updates.
// Written against the default features (f64 values, the OpenMetrics writer).
#![cfg(all(feature = "float", feature = "openmetrics"))]

use promstack_core::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

#[test]
fn two_threads_million_increments_each_are_exact() {
    static C: Counter = Counter::new("conc_inc", "");
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..1_000_000 {
                    C.inc();
                }
            });
        }
    });
    assert_eq!(C.get(), 2_000_000.0);
}

#[test]
fn integer_and_fractional_increments_add_up() {
    static C: Counter = Counter::new("conc_mixed", "");
    thread::scope(|s| {
        s.spawn(|| (0..500_000).for_each(|_| C.inc()));
        s.spawn(|| (0..500_000).for_each(|_| C.inc_by(0.5).unwrap()));
    });
    // 0.5 is exact in binary, so the float part sums exactly too.
    assert_eq!(C.get(), 750_000.0);
}

#[test]
fn gauge_add_from_two_threads() {
    static G: Gauge = Gauge::new("conc_gauge", "");
    thread::scope(|s| {
        s.spawn(|| (0..200_000).for_each(|_| G.inc()));
        s.spawn(|| (0..100_000).for_each(|_| G.dec()));
    });
    assert_eq!(G.get(), 100_000.0);
}

/// Parses `name_bucket{le="x"} v` / `name_count v` lines of one unlabeled histogram.
fn buckets_and_count(text: &str) -> (Vec<f64>, f64) {
    let mut buckets = Vec::new();
    let mut count = f64::NAN;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').unwrap();
        let v: f64 = value.parse().unwrap();
        if name.contains("_bucket") {
            buckets.push(v);
        } else if name.ends_with("_count") {
            count = v;
        }
    }
    (buckets, count)
}

#[test]
fn histogram_snapshots_stay_consistent_during_observes() {
    static H: Histogram<4> = Histogram::new("conc_hist", "", [1.0, 2.0, 3.0, 4.0]);
    let done = AtomicBool::new(false);
    let mut scrapes = 0;
    thread::scope(|s| {
        for t in 0..2 {
            let done = &done;
            s.spawn(move || {
                for i in 0..300_000u32 {
                    H.observe(f64::from((i + t) % 6));
                }
                done.store(true, Ordering::Relaxed);
            });
        }
        while !done.load(Ordering::Relaxed) {
            let out = String::from_utf8(encode_text(Vec::new(), &H).unwrap()).unwrap();
            let (buckets, count) = buckets_and_count(&out);
            assert_eq!(buckets.len(), 5);
            assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "not cumulative: {buckets:?}");
            assert_eq!(*buckets.last().unwrap(), count, "+Inf must equal _count");
            scrapes += 1;
        }
    });
    assert!(scrapes > 0);
    let (buckets, count) =
        buckets_and_count(&String::from_utf8(encode_text(Vec::new(), &H).unwrap()).unwrap());
    assert_eq!(count, 600_000.0);
    // Values 0..5 cycle evenly: le=1 holds 0 and 1, le=2 adds 2, ... +Inf adds 5.
    assert_eq!(buckets, [200_000.0, 300_000.0, 400_000.0, 500_000.0, 600_000.0]);
}

#[test]
fn concurrent_claims_of_the_same_labels_share_one_child() {
    static F: FixedFamily<CounterValue, 2, 64> = FixedFamily::counter("conc_family", "", ["a", "b"]);
    let keys: Vec<(String, String)> = (0..40).map(|i| (format!("k{i}"), format!("v{}", i % 7))).collect();
    thread::scope(|s| {
        for t in 0..4 {
            let keys = &keys;
            s.spawn(move || {
                for round in 0..500 {
                    for (j, (a, b)) in keys.iter().enumerate() {
                        if (j + t + round) % 3 == 0 {
                            F.get([a.as_str(), b.as_str()]).unwrap().inc();
                        }
                    }
                }
            });
        }
    });
    assert_eq!(F.len(), 40, "each label set has exactly one child");
    let mut total = 0.0;
    for (a, b) in &keys {
        total += F.get([a.as_str(), b.as_str()]).unwrap().get();
    }
    // Each thread increments every key on one round in three.
    let expected: usize = (0..4)
        .map(|t| (0..500).map(|r| (0..40).filter(|j| (j + t + r) % 3 == 0).count()).sum::<usize>())
        .sum();
    assert_eq!(total, expected as f64);
}

#[test]
fn lookups_stay_exact_while_other_children_come_and_go() {
    static F: FixedFamily<CounterValue, 1, 16> = FixedFamily::counter("conc_churn", "", ["k"]);
    F.get(["stable"]).unwrap();
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("tmp{}", i % 10);
                let _ = F.get([name.as_str()]).map(|c| c.inc());
                F.remove([name.as_str()]);
                i += 1;
            }
        });
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..200_000 {
                    F.get(["stable"]).unwrap().inc();
                }
            });
        }
        thread::sleep(std::time::Duration::from_millis(1));
        // Let the incrementers finish, then stop the churn.
        while F.get(["stable"]).unwrap().get() < 400_000.0 {
            thread::yield_now();
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(F.get(["stable"]).unwrap().get(), 400_000.0);
    assert_eq!(F.rejected(), 0);
}

/// A removed child's slot is re-claimed for another label set while a thread keeps updating
/// through handles to the removed child: none of those stale updates may reach the new child.
/// One slot, so every claim of `new` reuses the slot `old` had. Each round removes `old`,
/// claims `new`, checks it is still zero, and removes it. 10M rounds in a release build
/// (`cargo test --release -p promstack-core --test concurrency stale`), 2M in a debug build to
/// keep `cargo test` short. Before the handshake in `family.rs`, 36,321 of 10M release rounds
/// saw a stale update on `new`.
#[test]
fn stale_handle_updates_never_reach_a_reclaimed_slot() {
    static F: FixedFamily<CounterValue, 1, 1, 8> = FixedFamily::counter("conc_stale", "", ["k"]);
    const ROUNDS: u64 = if cfg!(debug_assertions) { 2_000_000 } else { 10_000_000 };
    let stop = AtomicBool::new(false);
    let (mut leaks, mut claimed, mut busy) = (0u64, 0u64, 0u64);
    let mut updates = 0u64;
    thread::scope(|s| {
        // More updaters than cores: one preempted between its check and its add is the
        // classic way a stale update lands late.
        let updaters: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        // Re-claims `old` whenever `new` is gone; TableFull while `new` holds
                        // the slot.
                        if let Ok(h) = F.get(["old"]) {
                            for _ in 0..16 {
                                h.inc();
                            }
                            n += 16;
                        }
                    }
                    n
                })
            })
            .collect();
        for _ in 0..ROUNDS {
            F.remove(["old"]);
            match F.get(["new"]) {
                Ok(new) => {
                    claimed += 1;
                    // Nobody increments `new`: anything but zero came through a stale handle.
                    leaks += u64::from(new.get() != 0.0);
                    std::hint::spin_loop();
                    leaks += u64::from(new.get() != 0.0);
                    F.remove(["new"]);
                }
                // An updater re-created `old`, or a stale update in flight keeps the slot.
                Err(LabelError::TableFull { .. }) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
        updates = updaters.into_iter().map(|u| u.join().unwrap()).sum();
    });
    println!("{ROUNDS} rounds, {claimed} claims of the reused slot, {busy} deferred, {updates} updates");
    assert_eq!(leaks, 0, "stale updates reached the re-claimed child ({claimed} claims)");
    // Claims meeting an update in flight are refused (TableFull, as no other slot is free):
    // about three in four here. Enough must still get through for the test to mean something.
    assert!(claimed > ROUNDS / 100, "the slot was reused in only {claimed} of {ROUNDS} rounds");
}

/// Scrapes running while one slot is removed and re-claimed for values of other lengths (word
/// multiples, partial words, multi-byte UTF-8) never write a value that was not stored whole:
/// the words of a value are copied under the slot's sequence check, and a copy that overlaps a
/// rewrite is skipped.
#[test]
fn scrapes_never_see_torn_label_values() {
    static F: FixedFamily<CounterValue, 2, 1> = FixedFamily::counter("conc_torn", "", ["a", "b"]);
    const VALUES: [[&str; 2]; 4] = [
        ["x", "0123456789abcdef0123456789abcdef"],
        ["yyyyyyyyyyyyy", "é€😀é€😀"],
        ["", "zz"],
        ["0123456789abcdef0123456789abcdef", "q"],
    ];
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let v = VALUES[i % VALUES.len()];
                F.get(v).unwrap().inc();
                F.remove(v);
                i += 1;
            }
        });
        // A failed assertion below still stops the writer (or the scope would wait forever).
        let _stop = StopOnDrop(&stop);
        for _ in 0..3000 {
            let out = String::from_utf8(encode_text(Vec::new(), &F).unwrap()).unwrap();
            for line in out.lines().filter(|l| !l.starts_with('#')) {
                // 0.0 between the claim and the increment.
                let ok = VALUES.iter().any(|[a, b]| {
                    let head = format!("conc_torn_total{{a=\"{a}\",b=\"{b}\"}} ");
                    line.strip_prefix(&head).is_some_and(|v| v == "0.0" || v == "1.0")
                });
                assert!(ok, "torn or unknown line: {line}");
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
}

/// Sets its flag when dropped, also while a panic unwinds.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
