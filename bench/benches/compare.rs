//! promstack side by side with prometheus 0.14, prometheus-client 0.26, metrics 0.24 +
//! metrics-exporter-prometheus 0.18, fastmetrics 0.7, measured 0.0.25 and embeprom 0.3, and
//! with bare-atomic baselines. `ci/bench.sh` builds it in the `bench-lto` profile (fat LTO, one
//! codegen unit), as a release is built.
//!
//! Every group measures one workload; the function ids are the libraries (`baseline`,
//! `promstack`, `prometheus`, `prometheus_client`, `metrics`, `fastmetrics`, `measured`,
//! `embeprom`), which `ci/bench.sh` turns into
//! the comparison table. `promstack_metrics` is the `metrics` facade with promstack's recorder
//! (feature `metrics-recorder`) in place of metrics-exporter-prometheus: the same macro calls,
//! so it compares with the `metrics` row. Run: `ci/bench.sh` (or `cargo bench -p promstack-bench`).

use criterion::{criterion_group, criterion_main, Criterion};
use promstack_bench::{label_pairs, observations, LookupFamily, BUCKETS, LOOKUP_CHILDREN};
use promstack_core::{Counter, CounterValue, Encoder, FixedFamily, Format, Gauge, Histogram};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../common/peers.rs"]
mod peers;
use peers::*;

/// The `metrics` recorder of the hot-path groups, installed once as the global recorder (the
/// way `metrics` is used: macros resolve through the global recorder).
static EP_COUNTER: embeprom::Counter = embeprom::Counter::new();
static EP_GAUGE: embeprom::GaugeF64 = embeprom::GaugeF64::new(0.0);
static EP_HISTOGRAM: embeprom::Histogram<14> = embeprom::Histogram::new(&BUCKETS);
static EP_LOOKUP: embeprom::CounterVec<128, 2> = embeprom::CounterVec::new(&["method", "path"]);

fn metrics_global() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| metrics::set_global_recorder(metrics_recorder()).expect("first recorder"));
}

// ---------------------------------------------------------------------------------------------
// Counter inc, one thread.

fn counter_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc");
    static BARE: AtomicU64 = AtomicU64::new(0);
    g.bench_function("baseline", |b| {
        b.iter(|| {
            black_box(&BARE).fetch_add(1, Relaxed);
        })
    });
    static PS: Counter = Counter::new("requests", "Requests.");
    g.bench_function("promstack", |b| b.iter(|| black_box(&PS).inc()));
    let prom = prometheus::IntCounter::new("requests", "Requests.").unwrap();
    g.bench_function("prometheus", |b| b.iter(|| black_box(&prom).inc()));
    let pc = prometheus_client::metrics::counter::Counter::<u64>::default();
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            black_box(&pc).inc();
        })
    });
    metrics_global();
    let m = metrics::counter!("requests");
    g.bench_function("metrics", |b| b.iter(|| black_box(&m).increment(1)));
    let (rec, _reg) = promstack_metrics_recorder();
    let pm = metrics::with_local_recorder(&rec, || metrics::counter!("requests"));
    g.bench_function("promstack_metrics", |b| b.iter(|| black_box(&pm).increment(1)));
    let fm = <fastmetrics::metrics::counter::Counter>::default();
    g.bench_function("fastmetrics", |b| b.iter(|| black_box(&fm).inc()));
    let md = measured::Counter::new();
    g.bench_function("measured", |b| b.iter(|| black_box(&md).inc()));
    g.bench_function("embeprom", |b| b.iter(|| black_box(&EP_COUNTER).inc()));
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Counter inc from 2 threads at once: both threads increment the same counter; the time is the
// slower thread's, per increment of each thread.

fn two_threads(iters: u64, inc: &(dyn Fn() + Sync)) -> Duration {
    // A spinning start line: a blocking barrier wakes the second thread tens of microseconds
    // late, and short runs would then not overlap at all.
    let arrived = AtomicU64::new(0);
    let run = || {
        arrived.fetch_add(1, Relaxed);
        while arrived.load(Relaxed) < 2 {
            std::hint::spin_loop();
        }
        let t = Instant::now();
        for _ in 0..iters {
            inc();
        }
        t.elapsed()
    };
    std::thread::scope(|s| {
        let other = s.spawn(run);
        let mine = run();
        mine.max(other.join().unwrap())
    })
}

fn counter_inc_2threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc_2threads");
    static BARE: AtomicU64 = AtomicU64::new(0);
    g.bench_function("baseline", |b| {
        b.iter_custom(|n| {
            two_threads(n, &|| {
                black_box(&BARE).fetch_add(1, Relaxed);
            })
        })
    });
    static PS: Counter = Counter::new("requests", "Requests.");
    g.bench_function("promstack", |b| b.iter_custom(|n| two_threads(n, &|| black_box(&PS).inc())));
    let prom = prometheus::IntCounter::new("requests", "Requests.").unwrap();
    g.bench_function("prometheus", |b| b.iter_custom(|n| two_threads(n, &|| black_box(&prom).inc())));
    let pc = prometheus_client::metrics::counter::Counter::<u64>::default();
    g.bench_function("prometheus_client", |b| {
        b.iter_custom(|n| {
            two_threads(n, &|| {
                black_box(&pc).inc();
            })
        })
    });
    metrics_global();
    let m = metrics::counter!("requests_2threads");
    g.bench_function("metrics", |b| b.iter_custom(|n| two_threads(n, &|| black_box(&m).increment(1))));
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Gauge set (f64), varied values.

fn gauge_set(c: &mut Criterion) {
    let mut g = c.benchmark_group("gauge_set");
    let vals = observations();
    let vals = vals.as_slice();
    static BARE: AtomicU64 = AtomicU64::new(0);
    g.bench_function("baseline", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&BARE).store(vals[i & 1023].to_bits(), Relaxed);
        })
    });
    static PS: Gauge = Gauge::new("temperature", "Temperature.");
    g.bench_function("promstack", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&PS).set(vals[i & 1023]);
        })
    });
    let prom = prometheus::Gauge::new("temperature", "Temperature.").unwrap();
    g.bench_function("prometheus", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&prom).set(vals[i & 1023]);
        })
    });
    let pc = prometheus_client::metrics::gauge::Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    g.bench_function("prometheus_client", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&pc).set(vals[i & 1023]);
        })
    });
    metrics_global();
    let m = metrics::gauge!("temperature");
    g.bench_function("metrics", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&m).set(vals[i & 1023]);
        })
    });
    let fm = fastmetrics::metrics::gauge::Gauge::<f64>::default();
    g.bench_function("fastmetrics", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&fm).set(vals[i & 1023]);
        })
    });
    let md = measured::FloatGauge::new();
    g.bench_function("measured", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&md).get_metric().set(vals[i & 1023]);
        })
    });
    g.bench_function("embeprom", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&EP_GAUGE).set(vals[i & 1023]);
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Histogram observe, default buckets, values spread over every bucket.

fn histogram_observe(c: &mut Criterion) {
    let mut g = c.benchmark_group("histogram_observe");
    let vals = observations();
    let vals = vals.as_slice();
    // The floor: find the bucket, add one to it and add the value to the sum (the count can be
    // derived from the buckets), each an uncontended atomic.
    static BUCKET: [AtomicU64; 15] = [const { AtomicU64::new(0) }; 15];
    static SUM: AtomicU64 = AtomicU64::new(0);
    g.bench_function("baseline", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            let v = vals[i & 1023];
            let k: usize = BUCKETS.iter().map(|b| usize::from(*b < v)).sum();
            black_box(&BUCKET)[k].fetch_add(1, Relaxed);
            let _ = SUM.fetch_update(Relaxed, Relaxed, |s| Some((f64::from_bits(s) + v).to_bits()));
        })
    });
    static PS: Histogram<14> = Histogram::new("latency_seconds", "Latency.", BUCKETS);
    g.bench_function("promstack", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&PS).observe(vals[i & 1023]);
        })
    });
    // A native histogram (schema 3, client_golang's factor 1.1), the same values.
    let native = promstack_bench::native_histogram();
    g.bench_function("promstack_native", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&native).observe(vals[i & 1023]);
        })
    });
    let prom = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("latency_seconds", "Latency.").buckets(BUCKETS.to_vec()),
    )
    .unwrap();
    g.bench_function("prometheus", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&prom).observe(vals[i & 1023]);
        })
    });
    let pc = pc_histogram();
    g.bench_function("prometheus_client", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&pc).observe(vals[i & 1023]);
        })
    });
    // metrics buffers raw observations and buckets them at scrape (upkeep/render): the row
    // `metrics` times the record alone (draining outside the clock, as a scrape would), the row
    // `metrics_with_drain` includes the drain it defers.
    let rec = metrics_recorder();
    let handle = rec.handle();
    let m = metrics::with_local_recorder(&rec, || metrics::histogram!("latency_seconds"));
    let record = |n: u64, drain_timed: bool| {
        let mut total = Duration::ZERO;
        let mut left = n;
        let mut i = 0;
        while left > 0 {
            let chunk = left.min(1 << 16);
            let t = Instant::now();
            for _ in 0..chunk {
                i += 1;
                black_box(&m).record(vals[i & 1023]);
            }
            if drain_timed {
                handle.run_upkeep();
            }
            total += t.elapsed();
            if !drain_timed {
                handle.run_upkeep();
            }
            left -= chunk;
        }
        total
    };
    g.bench_function("metrics", |b| b.iter_custom(|n| record(n, false)));
    g.bench_function("metrics_with_drain", |b| b.iter_custom(|n| record(n, true)));
    let (rec, _reg) = promstack_metrics_recorder();
    let pm = metrics::with_local_recorder(&rec, || metrics::histogram!("latency_seconds"));
    g.bench_function("promstack_metrics", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&pm).record(vals[i & 1023]);
        })
    });
    let fm = fm_histogram();
    g.bench_function("fastmetrics", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&fm).observe(vals[i & 1023]);
        })
    });
    let md = measured::Histogram::<14>::with_metadata(md_thresholds());
    g.bench_function("measured", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&md).observe(vals[i & 1023]);
        })
    });
    g.bench_function("embeprom", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(&EP_HISTOGRAM).observe(vals[i & 1023]);
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Labeled counter: look up an existing child of 100 by (method, path) and increment it.

fn labeled_lookup_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("labeled_lookup_inc");
    let pairs = label_pairs(LOOKUP_CHILDREN);
    let pairs = pairs.as_slice();
    let n = pairs.len();

    // The floor: a plain hash map from the two values to an atomic count (foldhash), with no
    // value check, no stale-handle rule and no lock.
    let bare = bare_lookup_map(pairs);
    g.bench_function("baseline", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            black_box(&bare)[black_box(&pairs[i])].fetch_add(1, Relaxed);
        })
    });

    let ps: Box<LookupFamily> = promstack_bench::fixed_counter("http_requests", pairs);
    g.bench_function("promstack", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            black_box(&*ps).get(black_box(&pairs[i])).unwrap().inc();
        })
    });

    // promstack-alloc: `with` runs the update under the lookup (no reference count touched);
    // `get` returns an owned handle (one Arc clone).
    let pa = promstack_bench::alloc_counter("http_requests", pairs);
    g.bench_function("promstack_alloc", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            black_box(&pa).with(black_box(&pairs[i]), |c| c.inc()).unwrap();
        })
    });
    g.bench_function("promstack_alloc_get", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            black_box(&pa).get(black_box(&pairs[i])).unwrap().inc();
        })
    });

    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("http_requests_total", "Requests."),
        &["method", "path"],
    )
    .unwrap();
    for p in pairs {
        prom.with_label_values(p).inc();
    }
    g.bench_function("prometheus", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            black_box(&prom).with_label_values(black_box(&pairs[i])).inc();
        })
    });

    let pc = PcCounterFamily::default();
    for p in pairs {
        pc.get_or_create(&MethodPath { method: p[0], path: p[1] }).inc();
    }
    g.bench_function("prometheus_client", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            let p = black_box(&pairs[i]);
            black_box(&pc).get_or_create(&MethodPath { method: p[0], path: p[1] }).inc();
        })
    });

    metrics_global();
    for p in pairs {
        metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
    }
    g.bench_function("metrics", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            let p = black_box(&pairs[i]);
            metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
        })
    });
    // The macro resolves through the thread's local recorder here (the global one is the row
    // above's); the lookup is the recorder's own.
    let (rec, _reg) = promstack_metrics_recorder();
    metrics::with_local_recorder(&rec, || {
        for p in pairs {
            metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
        }
        g.bench_function("promstack_metrics", |b| {
            let mut i = 0;
            b.iter(|| {
                i = if i + 1 == n { 0 } else { i + 1 };
                let p = black_box(&pairs[i]);
                metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
            })
        });
    });

    let fm = FmCounterFamily::default();
    for p in pairs {
        fm.with_or_new(&FmMethodPath { method: p[0], path: p[1] }, |c| c.inc());
    }
    g.bench_function("fastmetrics", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            let p = black_box(&pairs[i]);
            black_box(&fm).with_or_new(&FmMethodPath { method: p[0], path: p[1] }, |c| c.inc());
        })
    });
    let md = MdCounterVec::new();
    for p in pairs {
        md.inc(MdMethodPath { method: p[0], path: p[1] });
    }
    g.bench_function("measured", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            let p = black_box(&pairs[i]);
            black_box(&md).inc(MdMethodPath { method: p[0], path: p[1] });
        })
    });
    for p in pairs {
        EP_LOOKUP.inc(p);
    }
    g.bench_function("embeprom", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == n { 0 } else { i + 1 };
            black_box(&EP_LOOKUP).inc(black_box(&pairs[i]));
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Labeled counter, cached handle: the child looked up once, then incremented.

fn labeled_cached_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("labeled_cached_inc");
    let pairs = label_pairs(LOOKUP_CHILDREN);
    let p = pairs[42];
    static BARE: AtomicU64 = AtomicU64::new(0);
    g.bench_function("baseline", |b| {
        b.iter(|| {
            black_box(&BARE).fetch_add(1, Relaxed);
        })
    });
    let ps: Box<LookupFamily> = promstack_bench::fixed_counter("http_requests", &pairs);
    let child = ps.get(p).unwrap();
    g.bench_function("promstack", |b| b.iter(|| black_box(&child).inc()));
    let pa = promstack_bench::alloc_counter("http_requests", &pairs);
    let pa_child = pa.get(p).unwrap();
    g.bench_function("promstack_alloc", |b| b.iter(|| black_box(&pa_child).inc()));
    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("http_requests_total", "Requests."),
        &["method", "path"],
    )
    .unwrap();
    let prom_child = prom.with_label_values(&p);
    g.bench_function("prometheus", |b| b.iter(|| black_box(&prom_child).inc()));
    let pc = PcCounterFamily::default();
    let pc_child = pc.get_or_create_owned(&MethodPath { method: p[0], path: p[1] });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            black_box(&pc_child).inc();
        })
    });
    metrics_global();
    let m = metrics::counter!("http_requests_cached", "method" => p[0], "path" => p[1]);
    g.bench_function("metrics", |b| b.iter(|| black_box(&m).increment(1)));
    let (rec, _reg) = promstack_metrics_recorder();
    let pm = metrics::with_local_recorder(
        &rec,
        || metrics::counter!("http_requests_cached", "method" => p[0], "path" => p[1]),
    );
    g.bench_function("promstack_metrics", |b| b.iter(|| black_box(&pm).increment(1)));
    let fm = FmCounterFamily::default();
    let fm_key = FmMethodPath { method: p[0], path: p[1] };
    fm.with_or_new(&fm_key, |c| c.inc());
    // A fastmetrics child shares its state with its clones: the cached handle.
    let fm_child = fm.with(&fm_key, |c| c.clone()).unwrap();
    g.bench_function("fastmetrics", |b| b.iter(|| black_box(&fm_child).inc()));
    let md = MdCounterVec::new();
    // measured's cached handle is the label id.
    let md_id = md.with_labels(MdMethodPath { method: p[0], path: p[1] });
    g.bench_function("measured", |b| b.iter(|| black_box(&md).get_metric(md_id).inc()));
    for q in &pairs {
        EP_LOOKUP.inc(q);
    }
    let ep_child = EP_LOOKUP.with(&p);
    g.bench_function("embeprom", |b| b.iter(|| black_box(&ep_child).inc()));
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Labeled counter: create a new child (and increment it). Each family gets 1000 new children,
// then a fresh family is made outside the clock.

const NEW_CHUNK: usize = 1000;

fn chunked(n: u64, mut fresh_and_fill: impl FnMut(usize) -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = n;
    while left > 0 {
        let k = left.min(NEW_CHUNK as u64) as usize;
        total += fresh_and_fill(k);
        left -= k as u64;
    }
    total
}

fn labeled_new_child(c: &mut Criterion) {
    promstack_bench::install_clock();
    let mut g = c.benchmark_group("labeled_new_child");
    let pairs = label_pairs(NEW_CHUNK);
    let pairs = pairs.as_slice();

    g.bench_function("promstack", |b| {
        b.iter_custom(|n| {
            chunked(n, |k| {
                let fam: Box<FixedFamily<CounterValue, 2, 2048, 32>> =
                    Box::new(FixedFamily::counter("http_requests", "Requests.", ["method", "path"]));
                let t = Instant::now();
                for p in &pairs[..k] {
                    black_box(&*fam).get(black_box(p)).unwrap().inc();
                }
                t.elapsed()
            })
        })
    });
    g.bench_function("promstack_alloc", |b| {
        b.iter_custom(|n| {
            chunked(n, |k| {
                let fam = promstack_alloc::Family::counter("http_requests", "Requests.", &["method", "path"])
                    .unwrap();
                let t = Instant::now();
                for p in &pairs[..k] {
                    black_box(&fam).get(black_box(p)).unwrap().inc();
                }
                t.elapsed()
            })
        })
    });
    g.bench_function("prometheus", |b| {
        b.iter_custom(|n| {
            chunked(n, |k| {
                let vec = prometheus::IntCounterVec::new(
                    prometheus::Opts::new("http_requests_total", "Requests."),
                    &["method", "path"],
                )
                .unwrap();
                let t = Instant::now();
                for p in &pairs[..k] {
                    black_box(&vec).with_label_values(black_box(p)).inc();
                }
                t.elapsed()
            })
        })
    });
    g.bench_function("prometheus_client", |b| {
        b.iter_custom(|n| {
            chunked(n, |k| {
                let fam = PcCounterFamily::default();
                let t = Instant::now();
                for p in &pairs[..k] {
                    let p = black_box(p);
                    black_box(&fam).get_or_create(&MethodPath { method: p[0], path: p[1] }).inc();
                }
                t.elapsed()
            })
        })
    });
    g.bench_function("metrics", |b| {
        b.iter_custom(|n| {
            chunked(n, |k| {
                let rec = metrics_recorder();
                metrics::with_local_recorder(&rec, || {
                    let t = Instant::now();
                    for p in &pairs[..k] {
                        let p = black_box(p);
                        metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
                    }
                    t.elapsed()
                })
            })
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Encode 10 labeled counters x 1000 children (10k series) to text into a reused buffer.

fn encode_10k_counters(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_10k_counters");
    g.sample_size(20);
    let fams = promstack_bench::fixed_encode_families();
    let expected = promstack_core::encode_text(Vec::new(), &fams).unwrap();
    let mut buf: Vec<u8> = Vec::with_capacity(expected.len() * 2);
    g.bench_function("baseline", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(&expected));
        })
    });
    g.bench_function("promstack", |b| {
        b.iter(|| {
            buf.clear();
            let mut enc = Encoder::new(Format::Text, &mut buf);
            enc.encode(black_box(&fams)).unwrap();
            enc.finish().unwrap();
        })
    });
    g.bench_function("promstack_openmetrics", |b| {
        b.iter(|| {
            buf.clear();
            let mut enc = Encoder::new(Format::OpenMetrics, &mut buf);
            enc.encode(black_box(&fams)).unwrap();
            enc.finish().unwrap();
        })
    });
    g.bench_function("promstack_protobuf", |b| {
        b.iter(|| {
            buf.clear();
            promstack::protobuf::encode_protobuf(black_box(&fams), &mut buf).unwrap();
        })
    });
    let pa = promstack_bench::alloc_encode_registry();
    g.bench_function("promstack_alloc", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&pa).encode_text(&mut buf).unwrap();
        })
    });
    let prom = prometheus_encode_registry();
    let prom_enc = prometheus::TextEncoder::new();
    g.bench_function("prometheus", |b| {
        use prometheus::Encoder as _;
        b.iter(|| {
            buf.clear();
            prom_enc.encode(&black_box(&prom).gather(), &mut buf).unwrap();
        })
    });
    let pc = prometheus_client_encode_registry();
    let mut s = String::with_capacity(expected.len() * 2);
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            s.clear();
            prometheus_client::encoding::text::encode(&mut s, black_box(&pc)).unwrap();
        })
    });
    let m = metrics_encode_handle();
    g.bench_function("metrics", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&m).render_to_write(&mut buf).unwrap();
        })
    });
    let pm = promstack_metrics_encode_registry();
    g.bench_function("promstack_metrics", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&pm).encode_text(&mut buf).unwrap();
        })
    });
    let fm = fastmetrics_encode_registry();
    g.bench_function("fastmetrics", |b| {
        b.iter(|| {
            s.clear();
            fm_encode(&mut s, black_box(&fm));
        })
    });
    let md = measured_encode_families();
    g.bench_function("measured", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&md).encode(&mut buf);
        })
    });
    let ep = embeprom_encode_registry();
    g.bench_function("embeprom", |b| {
        b.iter(|| {
            s.clear();
            ep_encode(&mut s, black_box(ep));
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Encode 1000 histograms (children of one family, default buckets) to text.

fn encode_1k_histograms(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_1k_histograms");
    g.sample_size(20);
    let fam = promstack_bench::fixed_histograms();
    let expected = promstack_core::encode_text(Vec::new(), fam).unwrap();
    let mut buf: Vec<u8> = Vec::with_capacity(expected.len() * 2);
    g.bench_function("baseline", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(&expected));
        })
    });
    g.bench_function("promstack", |b| {
        b.iter(|| {
            buf.clear();
            let mut enc = Encoder::new(Format::Text, &mut buf);
            enc.encode(black_box(fam)).unwrap();
            enc.finish().unwrap();
        })
    });
    g.bench_function("promstack_protobuf", |b| {
        b.iter(|| {
            buf.clear();
            promstack::protobuf::encode_protobuf(black_box(fam), &mut buf).unwrap();
        })
    });
    let pa = promstack_bench::alloc_histograms();
    g.bench_function("promstack_alloc", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&pa).encode_text(&mut buf).unwrap();
        })
    });
    let prom = prometheus_histogram_registry();
    let prom_enc = prometheus::TextEncoder::new();
    g.bench_function("prometheus", |b| {
        use prometheus::Encoder as _;
        b.iter(|| {
            buf.clear();
            prom_enc.encode(&black_box(&prom).gather(), &mut buf).unwrap();
        })
    });
    let pc = prometheus_client_histogram_registry();
    let mut s = String::with_capacity(expected.len() * 2);
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            s.clear();
            prometheus_client::encoding::text::encode(&mut s, black_box(&pc)).unwrap();
        })
    });
    let m = metrics_histogram_handle();
    g.bench_function("metrics", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&m).render_to_write(&mut buf).unwrap();
        })
    });
    let pm = promstack_metrics_histogram_registry();
    g.bench_function("promstack_metrics", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&pm).encode_text(&mut buf).unwrap();
        })
    });
    let fm = fastmetrics_histogram_registry();
    g.bench_function("fastmetrics", |b| {
        b.iter(|| {
            s.clear();
            fm_encode(&mut s, black_box(&fm));
        })
    });
    let md = measured_histograms();
    g.bench_function("measured", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&md).encode(&mut buf);
        })
    });
    let ep = embeprom_histogram_registry();
    g.bench_function("embeprom", |b| {
        b.iter(|| {
            s.clear();
            ep_encode(&mut s, black_box(ep));
        })
    });
    g.finish();
}

criterion_group!(
    hot_paths,
    counter_inc,
    counter_inc_2threads,
    gauge_set,
    histogram_observe,
    labeled_lookup_inc,
    labeled_cached_inc,
    labeled_new_child
);
criterion_group!(encode, encode_10k_counters, encode_1k_histograms);
criterion_main!(hot_paths, encode);
