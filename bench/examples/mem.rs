//! Peak memory of N labeled counter series in one library.
//!
//! `mem LIB [N]` creates N children `(method, path)` of one labeled counter (N = 100,000 by
//! default), increments each once, and prints `peak_rss_bytes=...` (VmHWM). Every run first
//! builds the same owned label strings, so `mem none` is the baseline: (LIB - none) / N is the
//! memory per series that the library itself holds (including its own copies of the values).
//! LIB: none, promstack_fixed, promstack_alloc, prometheus, prometheus_client, metrics,
//! fastmetrics, measured, embeprom.

use promstack_bench::{owned_pairs, peak_rss, MEM_SERIES};
use promstack_core::{CounterValue, FixedFamily};
use std::hint::black_box;

#[allow(dead_code)]
#[path = "../common/peers.rs"]
mod peers;

/// 100k series in 131,072 slots (76% full) of at most 32-byte values: a `static`, as a
/// fixed-capacity family is meant to be; its pages count only once touched.
static FIXED: FixedFamily<CounterValue, 2, 131_072, 32> =
    FixedFamily::counter("http_requests", "Requests served.", ["method", "path"]);

/// embeprom's fixed-capacity vec, sized like `FIXED` (rendered label blocks of at most 48 bytes).
static EMBEPROM: embeprom::CounterVec<131_072, 2, 48> = embeprom::CounterVec::new(&["method", "path"]);

fn main() {
    let mut args = std::env::args().skip(1);
    let lib = args.next().unwrap_or_else(|| "none".into());
    let n: usize = args.next().map(|s| s.parse().expect("N")).unwrap_or(MEM_SERIES);
    let pairs = owned_pairs(n);
    match lib.as_str() {
        "none" => {}
        "promstack_fixed" => {
            assert!(n <= 131_072);
            for p in &pairs {
                FIXED.get([p[0].as_str(), p[1].as_str()]).expect("capacity").inc();
            }
            assert_eq!(FIXED.len(), n);
        }
        "promstack_alloc" => {
            let fam =
                promstack_alloc::Family::counter("http_requests", "Requests served.", &["method", "path"])
                    .unwrap();
            for p in &pairs {
                fam.get([p[0].as_str(), p[1].as_str()]).unwrap().inc();
            }
            black_box(&fam);
            report(&lib, n);
            return;
        }
        "prometheus" => {
            let vec = prometheus::IntCounterVec::new(
                prometheus::Opts::new("http_requests_total", "Requests served."),
                &["method", "path"],
            )
            .unwrap();
            for p in &pairs {
                vec.with_label_values(&[p[0].as_str(), p[1].as_str()]).inc();
            }
            black_box(&vec);
            report(&lib, n);
            return;
        }
        "prometheus_client" => {
            let fam = prometheus_client::metrics::family::Family::<
                peers::OwnedMethodPath,
                prometheus_client::metrics::counter::Counter,
            >::default();
            for p in &pairs {
                fam.get_or_create(&peers::OwnedMethodPath { method: p[0].clone(), path: p[1].clone() }).inc();
            }
            black_box(&fam);
            report(&lib, n);
            return;
        }
        "metrics" => {
            let rec = peers::metrics_recorder();
            metrics::with_local_recorder(&rec, || {
                for p in &pairs {
                    metrics::counter!("http_requests", "method" => p[0].clone(), "path" => p[1].clone())
                        .increment(1);
                }
            });
            black_box(&rec);
            report(&lib, n);
            return;
        }
        "fastmetrics" => {
            let fam = fastmetrics::metrics::family::Family::<
                peers::FmOwnedMethodPath,
                fastmetrics::metrics::counter::Counter,
            >::default();
            for p in &pairs {
                fam.with_or_new(
                    &peers::FmOwnedMethodPath { method: p[0].clone(), path: p[1].clone() },
                    |c| c.inc(),
                );
            }
            black_box(&fam);
            report(&lib, n);
            return;
        }
        "measured" => {
            let vec = peers::MdCounterVec::new();
            for p in &pairs {
                vec.inc(peers::MdMethodPath { method: &p[0], path: &p[1] });
            }
            black_box(&vec);
            report(&lib, n);
            return;
        }
        "embeprom" => {
            assert!(n <= 131_072);
            for p in &pairs {
                EMBEPROM.inc(&[p[0].as_str(), p[1].as_str()]);
            }
            assert_eq!(EMBEPROM.series_count(), n);
        }
        other => {
            eprintln!(
                "unknown library {other}: none, promstack_fixed, promstack_alloc, prometheus, prometheus_client, metrics, fastmetrics, measured, embeprom"
            );
            std::process::exit(2);
        }
    }
    report(&lib, n);
}

fn report(lib: &str, n: usize) {
    let peak = peak_rss().expect("/proc/self/status");
    println!("lib={lib} series={n} peak_rss_bytes={peak}");
}
