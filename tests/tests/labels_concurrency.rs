//! Stress test of `Family`'s child table and its big-reader lock (the written argument is in
//! `alloc-ext/src/table.rs`): threads hammer lookups and increments of shared children through
//! every lookup path while other threads create and remove unrelated children and scrape.
//! Totals of the children nobody removes must be exact.

use promstack_alloc::sync::Arc;
use promstack_alloc::{Family, Registry};
use promstack_core::Format;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;

const HOT: [&str; 4] = ["get", "put", "post", "delete"];

#[test]
fn hot_children_stay_exact_under_churn() {
    let workers = 4;
    let per_worker: u64 = 200_000;
    let registry = Arc::new(Registry::new());
    let family = registry
        .register_owned(Family::counter("requests", "Requests.", &["method", "shard"]).unwrap())
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Workers, the churn thread, the scraper and this thread.
    let start = Arc::new(Barrier::new(workers + 3));

    let churn = {
        let (family, stop, start) = (family.clone(), stop.clone(), start.clone());
        thread::spawn(move || {
            start.wait();
            let mut created = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("tmp{}", created % 64);
                family.get([name.as_str(), "churn"]).unwrap().inc();
                if created.is_multiple_of(3) {
                    family.remove([name.as_str(), "churn"]).unwrap();
                }
                if created % 1000 == 999 {
                    // Clearing would drop the hot children too: remove the churn ones by name.
                    for i in 0..64 {
                        let n = format!("tmp{i}");
                        family.remove_by_name(&[("shard", "churn"), ("method", n.as_str())]).unwrap();
                    }
                }
                created += 1;
            }
            created
        })
    };

    let scraper = {
        let (stop, start, registry) = (stop.clone(), start.clone(), registry.clone());
        thread::spawn(move || {
            start.wait();
            let mut scrapes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Text scrapes write each child's line under the table's read lock, letting it go
                // each time the line buffer is passed on; OpenMetrics counters (with `_created`)
                // are reported sample by sample from copied handles. Neither may report a series
                // twice while children come and go.
                let text = scrapes.is_multiple_of(2);
                let out = registry
                    .encode(if text { Format::Text } else { Format::OpenMetrics }, Vec::new())
                    .unwrap();
                let out = String::from_utf8(out).unwrap();
                let mut series = std::collections::HashSet::new();
                for line in out.lines().filter(|l| !l.starts_with('#')) {
                    let (name, value) = line.rsplit_once(' ').unwrap();
                    assert!(value.parse::<f64>().is_ok(), "{line}");
                    assert!(series.insert(name.to_string()), "{name} twice in one scrape");
                }
                if !text {
                    assert!(out.ends_with("# EOF\n"));
                }
                scrapes += 1;
            }
            scrapes
        })
    };

    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (family, start) = (family.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let kept = family.get(["get", "kept"]).unwrap();
                for i in 0..per_worker {
                    let method = HOT[(i as usize + w) % HOT.len()];
                    match i % 4 {
                        0 => family.get([method, "hot"]).unwrap().inc(),
                        1 => family.with(&[method, "hot"], |c| c.inc()).unwrap(),
                        2 => family.get_by_name(&[("shard", "hot"), ("method", method)]).unwrap().inc(),
                        _ => family.with_label_values(&[method, "hot"]).unwrap().inc(),
                    }
                    kept.inc();
                }
            })
        })
        .collect();
    start.wait();
    for h in handles {
        h.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let created = churn.join().unwrap();
    let scrapes = scraper.join().unwrap();
    assert!(created > 0 && scrapes > 1);

    let total: f64 = HOT.iter().map(|m| family.get([m, "hot"]).unwrap().get()).sum();
    assert_eq!(total, (workers as u64 * per_worker) as f64);
    for m in HOT {
        assert_eq!(
            registry.get_sample_value("requests_total", &[("method", m), ("shard", "hot")]),
            Some((workers as u64 * per_worker / HOT.len() as u64) as f64),
            "{m}"
        );
    }
    assert_eq!(family.get(["get", "kept"]).unwrap().get(), (workers as u64 * per_worker) as f64);
    // Exactly one child per hot label set, whatever the races.
    let hot_children = family.children().iter().filter(|c| c.label_values().nth(1) == Some("hot")).count();
    assert_eq!(hot_children, HOT.len());
}

// Many threads racing to create the same new children get the same child each time.
#[test]
fn racing_creators_share_one_child() {
    let threads = 8;
    let family = Arc::new(Family::gauge("g", "", &["k"]).unwrap());
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (family, start) = (family.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for i in 0..2_000 {
                    family.get([format!("k{i}").as_str()]).unwrap().add(1.0);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(family.len(), 2_000);
    for c in family.children() {
        assert_eq!(c.get(), threads as f64, "{c:?}");
    }
}
