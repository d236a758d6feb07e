//! One library's workload in a loop, for a profiler: `valgrind --tool=callgrind` counts
//! instructions exactly where timings on a shared 2-core machine are noisy.
//!
//! `profile LIB WORKLOAD ITERATIONS`. LIB: baseline, promstack, promstack_alloc,
//! promstack_native (histogram_observe), promstack_protobuf (encode_*), prometheus,
//! prometheus_client, metrics, fastmetrics, measured, embeprom, promstack_metrics (the
//! `metrics` macros with promstack's recorder). WORKLOAD: counter_inc, gauge_set,
//! histogram_observe, lookup_inc, cached_inc, encode_10k, encode_histograms, encode_1m.
//! Running it twice with different ITERATIONS and subtracting the counts gives the cost per
//! operation without the setup (`ci/bench.sh --callgrind` does that). Exits with status 3 for a
//! pair that does not exist.

use promstack_bench::{label_pairs, observations, LookupFamily, BUCKETS, LOOKUP_CHILDREN};
use promstack_core::{Counter, Encoder, Format, Gauge, Histogram};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[allow(dead_code)]
#[path = "../common/peers.rs"]
mod peers;
use peers::*;

static COUNTER: Counter = Counter::new("requests", "Requests.");
static GAUGE: Gauge = Gauge::new("temperature", "Temperature.");
static HISTOGRAM: Histogram<14> = Histogram::new("latency_seconds", "Latency.", BUCKETS);
static BARE: AtomicU64 = AtomicU64::new(0);
static BUCKET: [AtomicU64; 15] = [const { AtomicU64::new(0) }; 15];
static SUM: AtomicU64 = AtomicU64::new(0);
static EP_COUNTER: embeprom::Counter = embeprom::Counter::new();
static EP_GAUGE: embeprom::GaugeF64 = embeprom::GaugeF64::new(0.0);
static EP_HISTOGRAM: embeprom::Histogram<14> = embeprom::Histogram::new(&BUCKETS);
static EP_LOOKUP: embeprom::CounterVec<128, 2> = embeprom::CounterVec::new(&["method", "path"]);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (lib, workload) = (args[0].as_str(), args[1].as_str());
    let n: usize = args[2].parse().expect("ITERATIONS");
    let vals = observations();
    let v = |i: usize| vals[i & 1023];
    let pairs = label_pairs(LOOKUP_CHILDREN);
    let pair = |i: usize| &pairs[i % pairs.len()];
    let mut buf: Vec<u8> = Vec::new();
    let mut s = String::new();
    match (lib, workload) {
        ("baseline", "counter_inc" | "cached_inc") => (0..n).for_each(|_| {
            black_box(&BARE).fetch_add(1, Relaxed);
        }),
        ("baseline", "gauge_set") => (0..n).for_each(|i| black_box(&BARE).store(v(i).to_bits(), Relaxed)),
        ("baseline", "histogram_observe") => (0..n).for_each(|i| {
            let x = v(i);
            black_box(&BUCKET)[BUCKETS.iter().map(|b| usize::from(*b < x)).sum::<usize>()]
                .fetch_add(1, Relaxed);
            let _ = SUM.fetch_update(Relaxed, Relaxed, |s| Some((f64::from_bits(s) + x).to_bits()));
        }),
        ("baseline", "encode_10k" | "encode_histograms" | "encode_1m") => {
            // The floor: copying promstack's output bytes.
            let expected = match workload {
                "encode_10k" => {
                    promstack_core::encode_text(Vec::new(), &promstack_bench::fixed_encode_families())
                }
                "encode_1m" => promstack_core::encode_text(Vec::new(), &promstack_bench::fixed_1m_families()),
                _ => promstack_core::encode_text(Vec::new(), promstack_bench::fixed_histograms()),
            }
            .unwrap();
            for _ in 0..n {
                buf.clear();
                buf.extend_from_slice(black_box(&expected));
            }
        }
        ("baseline", "lookup_inc") => {
            // The floor: a plain hash map from the two values to an atomic count (foldhash),
            // with no value check, no stale-handle rule and no lock.
            let bare = bare_lookup_map(&pairs);
            (0..n).for_each(|i| {
                black_box(&bare)[pair(i)].fetch_add(1, Relaxed);
            });
        }
        ("promstack", "counter_inc") => (0..n).for_each(|_| black_box(&COUNTER).inc()),
        ("promstack", "gauge_set") => (0..n).for_each(|i| black_box(&GAUGE).set(v(i))),
        ("promstack", "histogram_observe") => (0..n).for_each(|i| black_box(&HISTOGRAM).observe(v(i))),
        ("promstack", "lookup_inc") => {
            let fam: Box<LookupFamily> = promstack_bench::fixed_counter("http_requests", &pairs);
            (0..n).for_each(|i| black_box(&*fam).get(pair(i)).unwrap().inc());
        }
        ("promstack", "cached_inc") => {
            let fam: Box<LookupFamily> = promstack_bench::fixed_counter("http_requests", &pairs);
            let child = fam.get(pairs[42]).unwrap();
            (0..n).for_each(|_| black_box(&child).inc());
        }
        ("promstack", "encode_10k") => {
            let fams = promstack_bench::fixed_encode_families();
            for _ in 0..n {
                buf.clear();
                let mut enc = Encoder::new(Format::Text, &mut buf);
                enc.encode(&fams).unwrap();
                enc.finish().unwrap();
            }
        }
        ("promstack", "encode_1m") => {
            let fams = promstack_bench::fixed_1m_families();
            for _ in 0..n {
                buf.clear();
                let mut enc = Encoder::new(Format::Text, &mut buf);
                enc.encode(&fams).unwrap();
                enc.finish().unwrap();
            }
        }
        ("promstack", "encode_histograms") => {
            let hist = promstack_bench::fixed_histograms();
            for _ in 0..n {
                buf.clear();
                let mut enc = Encoder::new(Format::Text, &mut buf);
                enc.encode(hist).unwrap();
                enc.finish().unwrap();
            }
        }
        ("promstack_native", "histogram_observe") => {
            let h = promstack_bench::native_histogram();
            (0..n).for_each(|i| black_box(&h).observe(v(i)));
        }
        ("promstack_protobuf", "encode_10k") => {
            let fams = promstack_bench::fixed_encode_families();
            for _ in 0..n {
                buf.clear();
                promstack::protobuf::encode_protobuf(&fams, &mut buf).unwrap();
            }
        }
        ("promstack_protobuf", "encode_histograms") => {
            let hist = promstack_bench::fixed_histograms();
            for _ in 0..n {
                buf.clear();
                promstack::protobuf::encode_protobuf(hist, &mut buf).unwrap();
            }
        }
        ("promstack_alloc", "lookup_inc") => {
            let fam = promstack_bench::alloc_counter("http_requests", &pairs);
            (0..n).for_each(|i| black_box(&fam).with(pair(i), |c| c.inc()).unwrap());
        }
        ("promstack_alloc", "cached_inc") => {
            let fam = promstack_bench::alloc_counter("http_requests", &pairs);
            let child = fam.get(pairs[42]).unwrap();
            (0..n).for_each(|_| black_box(&child).inc());
        }
        ("promstack_alloc", "encode_10k" | "encode_1m") => {
            let reg = if workload == "encode_10k" {
                promstack_bench::alloc_encode_registry()
            } else {
                promstack_bench::alloc_1m_registry()
            };
            for _ in 0..n {
                buf.clear();
                reg.encode_text(&mut buf).unwrap();
            }
        }
        ("promstack_alloc", "encode_histograms") => {
            let reg = promstack_bench::alloc_histograms();
            for _ in 0..n {
                buf.clear();
                reg.encode_text(&mut buf).unwrap();
            }
        }
        ("prometheus", "counter_inc") => {
            let c = prometheus::IntCounter::new("requests", "Requests.").unwrap();
            (0..n).for_each(|_| black_box(&c).inc());
        }
        ("prometheus", "gauge_set") => {
            let g = prometheus::Gauge::new("temperature", "Temperature.").unwrap();
            (0..n).for_each(|i| black_box(&g).set(v(i)));
        }
        ("prometheus", "histogram_observe") => {
            let h = prometheus::Histogram::with_opts(
                prometheus::HistogramOpts::new("latency_seconds", "Latency.").buckets(BUCKETS.to_vec()),
            )
            .unwrap();
            (0..n).for_each(|i| black_box(&h).observe(v(i)));
        }
        ("prometheus", "lookup_inc" | "cached_inc") => {
            let vec = prometheus::IntCounterVec::new(
                prometheus::Opts::new("http_requests_total", "Requests."),
                &["method", "path"],
            )
            .unwrap();
            pairs.iter().for_each(|p| vec.with_label_values(p).inc());
            if workload == "lookup_inc" {
                (0..n).for_each(|i| black_box(&vec).with_label_values(pair(i)).inc());
            } else {
                let c = vec.with_label_values(&pairs[42]);
                (0..n).for_each(|_| black_box(&c).inc());
            }
        }
        ("prometheus", "encode_10k" | "encode_histograms" | "encode_1m") => {
            use prometheus::Encoder as _;
            let reg = match workload {
                "encode_10k" => prometheus_encode_registry(),
                "encode_1m" => prometheus_1m_registry(),
                _ => prometheus_histogram_registry(),
            };
            let enc = prometheus::TextEncoder::new();
            for _ in 0..n {
                buf.clear();
                enc.encode(&reg.gather(), &mut buf).unwrap();
            }
        }
        ("prometheus_client", "counter_inc") => {
            let c = prometheus_client::metrics::counter::Counter::<u64>::default();
            (0..n).for_each(|_| {
                black_box(&c).inc();
            });
        }
        ("prometheus_client", "gauge_set") => {
            let g = prometheus_client::metrics::gauge::Gauge::<f64, AtomicU64>::default();
            (0..n).for_each(|i| {
                black_box(&g).set(v(i));
            });
        }
        ("prometheus_client", "histogram_observe") => {
            let h = pc_histogram();
            (0..n).for_each(|i| black_box(&h).observe(v(i)));
        }
        ("prometheus_client", "lookup_inc" | "cached_inc") => {
            let fam = PcCounterFamily::default();
            let key = |p: &[&'static str; 2]| MethodPath { method: p[0], path: p[1] };
            pairs.iter().for_each(|p| {
                fam.get_or_create(&key(p)).inc();
            });
            if workload == "lookup_inc" {
                (0..n).for_each(|i| {
                    black_box(&fam).get_or_create(&key(pair(i))).inc();
                });
            } else {
                let c = fam.get_or_create_owned(&key(&pairs[42]));
                (0..n).for_each(|_| {
                    black_box(&c).inc();
                });
            }
        }
        ("prometheus_client", "encode_10k" | "encode_histograms" | "encode_1m") => {
            let reg = match workload {
                "encode_10k" => prometheus_client_encode_registry(),
                "encode_1m" => prometheus_client_1m_registry(),
                _ => prometheus_client_histogram_registry(),
            };
            for _ in 0..n {
                s.clear();
                prometheus_client::encoding::text::encode(&mut s, &reg).unwrap();
            }
        }
        ("metrics", "counter_inc" | "gauge_set" | "histogram_observe" | "lookup_inc" | "cached_inc") => {
            let rec = metrics_recorder();
            let handle = rec.handle();
            metrics::with_local_recorder(&rec, || match workload {
                "counter_inc" => {
                    let c = metrics::counter!("requests");
                    (0..n).for_each(|_| black_box(&c).increment(1));
                }
                "gauge_set" => {
                    let g = metrics::gauge!("temperature");
                    (0..n).for_each(|i| black_box(&g).set(v(i)));
                }
                "histogram_observe" => {
                    // Includes the drain it defers to the scrape (every 65,536 records).
                    let h = metrics::histogram!("latency_seconds");
                    (0..n).for_each(|i| {
                        black_box(&h).record(v(i));
                        if i & 0xffff == 0xffff {
                            handle.run_upkeep();
                        }
                    });
                    handle.run_upkeep();
                }
                "lookup_inc" => {
                    pairs.iter().for_each(|p| {
                        metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1)
                    });
                    (0..n).for_each(|i| {
                        let p = pair(i);
                        metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
                    });
                }
                _ => {
                    let p = pairs[42];
                    let c = metrics::counter!("http_requests", "method" => p[0], "path" => p[1]);
                    (0..n).for_each(|_| black_box(&c).increment(1));
                }
            });
        }
        ("promstack_metrics", "counter_inc" | "histogram_observe" | "lookup_inc" | "cached_inc") => {
            let (rec, _reg) = promstack_metrics_recorder();
            metrics::with_local_recorder(&rec, || match workload {
                "counter_inc" => {
                    let c = metrics::counter!("requests");
                    (0..n).for_each(|_| black_box(&c).increment(1));
                }
                "histogram_observe" => {
                    let h = metrics::histogram!("latency_seconds");
                    (0..n).for_each(|i| black_box(&h).record(v(i)));
                }
                "lookup_inc" => {
                    pairs.iter().for_each(|p| {
                        metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1)
                    });
                    (0..n).for_each(|i| {
                        let p = pair(i);
                        metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
                    });
                }
                _ => {
                    let p = pairs[42];
                    let c = metrics::counter!("http_requests", "method" => p[0], "path" => p[1]);
                    (0..n).for_each(|_| black_box(&c).increment(1));
                }
            });
        }
        ("promstack_metrics", "encode_10k" | "encode_histograms") => {
            let reg = if workload == "encode_10k" {
                promstack_metrics_encode_registry()
            } else {
                promstack_metrics_histogram_registry()
            };
            for _ in 0..n {
                buf.clear();
                reg.encode_text(&mut buf).unwrap();
            }
        }
        ("metrics", "encode_10k" | "encode_histograms" | "encode_1m") => {
            let h = match workload {
                "encode_10k" => metrics_encode_handle(),
                "encode_1m" => metrics_1m_handle(),
                _ => metrics_histogram_handle(),
            };
            for _ in 0..n {
                buf.clear();
                h.render_to_write(&mut buf).unwrap();
            }
        }
        ("fastmetrics", "counter_inc") => {
            let c = <fastmetrics::metrics::counter::Counter>::default();
            (0..n).for_each(|_| black_box(&c).inc());
        }
        ("fastmetrics", "gauge_set") => {
            let g = fastmetrics::metrics::gauge::Gauge::<f64>::default();
            (0..n).for_each(|i| black_box(&g).set(v(i)));
        }
        ("fastmetrics", "histogram_observe") => {
            let h = fm_histogram();
            (0..n).for_each(|i| black_box(&h).observe(v(i)));
        }
        ("fastmetrics", "lookup_inc" | "cached_inc") => {
            let fam = FmCounterFamily::default();
            let key = |p: &[&'static str; 2]| FmMethodPath { method: p[0], path: p[1] };
            pairs.iter().for_each(|p| fam.with_or_new(&key(p), |c| c.inc()));
            if workload == "lookup_inc" {
                (0..n).for_each(|i| black_box(&fam).with_or_new(&key(pair(i)), |c| c.inc()));
            } else {
                // A family's child shares its state with its clones: the cached handle.
                let c = fam.with(&key(&pairs[42]), |c| c.clone()).unwrap();
                (0..n).for_each(|_| black_box(&c).inc());
            }
        }
        ("fastmetrics", "encode_10k" | "encode_histograms" | "encode_1m") => {
            let reg = match workload {
                "encode_10k" => fastmetrics_encode_registry(),
                "encode_1m" => fastmetrics_1m_registry(),
                _ => fastmetrics_histogram_registry(),
            };
            for _ in 0..n {
                s.clear();
                fm_encode(&mut s, &reg);
            }
        }
        ("measured", "counter_inc") => {
            let c = measured::Counter::new();
            (0..n).for_each(|_| black_box(&c).inc());
        }
        ("measured", "gauge_set") => {
            let g = measured::FloatGauge::new();
            (0..n).for_each(|i| black_box(&g).get_metric().set(v(i)));
        }
        ("measured", "histogram_observe") => {
            let h = measured::Histogram::<14>::with_metadata(md_thresholds());
            (0..n).for_each(|i| black_box(&h).observe(v(i)));
        }
        ("measured", "lookup_inc" | "cached_inc") => {
            let vec = MdCounterVec::new();
            let key = |p: &[&'static str; 2]| MdMethodPath { method: p[0], path: p[1] };
            pairs.iter().for_each(|p| vec.inc(key(p)));
            if workload == "lookup_inc" {
                (0..n).for_each(|i| black_box(&vec).inc(key(pair(i))));
            } else {
                // measured's cached handle is the label id.
                let id = vec.with_labels(key(&pairs[42]));
                (0..n).for_each(|_| black_box(&vec).get_metric(id).inc());
            }
        }
        ("measured", "encode_10k" | "encode_1m") => {
            let fams =
                if workload == "encode_10k" { measured_encode_families() } else { measured_1m_families() };
            for _ in 0..n {
                buf.clear();
                fams.encode(&mut buf);
            }
        }
        ("measured", "encode_histograms") => {
            let h = measured_histograms();
            for _ in 0..n {
                buf.clear();
                h.encode(&mut buf);
            }
        }
        ("embeprom", "counter_inc") => (0..n).for_each(|_| black_box(&EP_COUNTER).inc()),
        ("embeprom", "gauge_set") => (0..n).for_each(|i| black_box(&EP_GAUGE).set(v(i))),
        ("embeprom", "histogram_observe") => (0..n).for_each(|i| black_box(&EP_HISTOGRAM).observe(v(i))),
        ("embeprom", "lookup_inc") => {
            pairs.iter().for_each(|p| EP_LOOKUP.inc(p));
            (0..n).for_each(|i| black_box(&EP_LOOKUP).inc(pair(i)));
        }
        ("embeprom", "cached_inc") => {
            pairs.iter().for_each(|p| EP_LOOKUP.inc(p));
            let c = EP_LOOKUP.with(&pairs[42]);
            (0..n).for_each(|_| black_box(&c).inc());
        }
        ("embeprom", "encode_10k" | "encode_histograms" | "encode_1m") => {
            let reg = match workload {
                "encode_10k" => embeprom_encode_registry(),
                "encode_1m" => embeprom_1m_registry(),
                _ => embeprom_histogram_registry(),
            };
            for _ in 0..n {
                s.clear();
                ep_encode(&mut s, reg);
            }
        }
        _ => std::process::exit(3),
    }
    black_box((&buf, &s));
}
