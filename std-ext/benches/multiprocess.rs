//! Multiprocess mode against in-memory metrics: the cost of an update when the value lives in
//! a memory-mapped file, and of a scrape that merges a directory.
//!
//! `cargo bench -p promstack --bench multiprocess` (add `-- --quick` for a short run).
//!
//! The 8 x 1,000 histogram scrape leaves its directory in place when `PROMSTACK_MP_BENCH_DIR`
//! names one, so `std-ext/benches/multiprocess_python.py` can time Python 0.8.0's
//! `MultiProcessCollector` on the very same files.

use criterion::{criterion_group, criterion_main, Criterion};
use promstack::multiprocess::{GaugeMode, MultiProcessCollector, Opts, Store};
use promstack::{encode_text, Counter, Gauge, Histogram, DEFAULT_BUCKETS};
use std::hint::black_box;
use std::path::PathBuf;

static MEM_COUNTER: Counter = Counter::new("mem_counter", "In-memory counter.");
static MEM_GAUGE: Gauge = Gauge::new("mem_gauge", "In-memory gauge.");
static MEM_HISTOGRAM: Histogram<14> =
    Histogram::new("mem_histogram", "In-memory histogram.", DEFAULT_BUCKETS);

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("promstack-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn updates(c: &mut Criterion) {
    let dir = temp_dir("updates");
    let files = Store::open(&dir).unwrap();
    let memory = Store::memory();
    let mp_counter = files.counter(Opts::new("mp_counter", "Counter.")).unwrap();
    let mp_gauge = files.gauge(Opts::new("mp_gauge", "Gauge."), GaugeMode::LiveSum).unwrap();
    let mp_histogram = files.histogram(Opts::new("mp_histogram", "Histogram."), &DEFAULT_BUCKETS).unwrap();
    let mp_family = files.counter_family(Opts::new("mp_family", "Family."), &["method", "path"]).unwrap();
    let memory_counter = memory.counter(Opts::new("mm_counter", "Counter.")).unwrap();

    let mut g = c.benchmark_group("multiprocess_update");
    g.bench_function("counter_inc/in_memory_static", |b| b.iter(|| black_box(&MEM_COUNTER).inc()));
    g.bench_function("counter_inc/multiprocess_file", |b| b.iter(|| black_box(&mp_counter).inc()));
    g.bench_function("counter_inc/store_memory_mode", |b| b.iter(|| black_box(&memory_counter).inc()));
    g.bench_function("gauge_set/in_memory_static", |b| b.iter(|| black_box(&MEM_GAUGE).set(black_box(2.5))));
    g.bench_function("gauge_set/multiprocess_file", |b| b.iter(|| black_box(&mp_gauge).set(black_box(2.5))));
    g.bench_function("histogram_observe/in_memory_static", |b| {
        b.iter(|| black_box(&MEM_HISTOGRAM).observe(black_box(0.3)))
    });
    g.bench_function("histogram_observe/multiprocess_file", |b| {
        b.iter(|| black_box(&mp_histogram).observe(black_box(0.3)))
    });
    g.bench_function("labeled_lookup_inc/multiprocess_file", |b| {
        b.iter(|| mp_family.get(black_box(&["get", "/index"])).unwrap().inc())
    });
    g.bench_function("labeled_with_inc/multiprocess_file", |b| {
        b.iter(|| mp_family.with(black_box(&["get", "/index"]), |c| c.inc()).unwrap())
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn scrape(c: &mut Criterion) {
    // 4 processes x (1 counter family with 50 children + 1 histogram + 1 livesum gauge).
    let dir = temp_dir("scrape");
    for id in 0..4u64 {
        let store = Store::open_with_identifier(&dir, move || 1000 + id).unwrap();
        let family = store.counter_family(Opts::new("requests", "Requests."), &["path"]).unwrap();
        for i in 0..50 {
            family.get([&format!("/p{i}")]).unwrap().inc_by(i as f64).unwrap();
        }
        store.histogram(Opts::new("latency", "Latency."), &DEFAULT_BUCKETS).unwrap().observe(0.2);
        store.gauge(Opts::new("busy", "Busy."), GaugeMode::LiveSum).unwrap().set(1.0);
    }
    let collector = MultiProcessCollector::new(&dir).unwrap();
    let mut g = c.benchmark_group("multiprocess_scrape");
    g.bench_function("merge_and_encode_4_processes_66_series", |b| {
        b.iter(|| black_box(encode_text(Vec::with_capacity(8192), &collector).unwrap()))
    });
    g.bench_function("merge_only_4_processes_66_series", |b| b.iter(|| black_box(collector.merge())));
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// 8 processes x 1 histogram family with 1,000 children (default buckets): 128,000 entries.
fn scrape_histograms(c: &mut Criterion) {
    let (dir, keep) = match std::env::var_os("PROMSTACK_MP_BENCH_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            (d, true)
        }
        None => (temp_dir("histograms"), false),
    };
    for id in 0..8u64 {
        let store = Store::open_with_identifier(&dir, move || 2000 + id).unwrap();
        let family =
            store.histogram_family(Opts::new("latency", "Latency."), &DEFAULT_BUCKETS, &["path"]).unwrap();
        for i in 0..1000 {
            family.get([&format!("/p{i}")]).unwrap().observe(i as f64 / 1000.0);
        }
    }
    let collector = MultiProcessCollector::new(&dir).unwrap();
    let mut g = c.benchmark_group("multiprocess_scrape");
    g.sample_size(20);
    g.bench_function("merge_and_encode_8_processes_1000_histograms", |b| {
        b.iter(|| black_box(encode_text(Vec::with_capacity(1 << 20), &collector).unwrap()))
    });
    g.bench_function("merge_only_8_processes_1000_histograms", |b| b.iter(|| black_box(collector.merge())));
    g.finish();
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

criterion_group!(benches, updates, scrape, scrape_histograms);
criterion_main!(benches);
