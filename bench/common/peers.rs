//! The peers' setups of the shared workloads, included (`#[path]`) by the bench, the examples and
//! the tests: the peers are dev-dependencies, so the library cannot hold this.
//!
//! Each peer gets its cheapest documented form: prometheus' `Int*` types (one atomic add, not a
//! float CAS loop), prometheus-client label sets of `&'static str` (no `String` per lookup),
//! metrics-exporter-prometheus' `render_to_write` into a reused buffer.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use prometheus_client::encoding::EncodeLabelSet;
use promstack_bench::{family_name, label_pairs, observations, path, BUCKETS, ENCODE_CHILDREN, HISTOGRAMS};

/// prometheus-client label set of the counter workloads.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodPath {
    pub method: &'static str,
    pub path: &'static str,
}

/// prometheus-client label set of the memory program (owned, as 100k dynamic values are).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OwnedMethodPath {
    pub method: String,
    pub path: String,
}

/// prometheus-client label set of the histogram workload.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PathLabel {
    pub path: &'static str,
}

pub type PcCounterFamily =
    prometheus_client::metrics::family::Family<MethodPath, prometheus_client::metrics::counter::Counter>;
pub type PcHistogramFamily = prometheus_client::metrics::family::Family<
    PathLabel,
    prometheus_client::metrics::histogram::Histogram,
    fn() -> prometheus_client::metrics::histogram::Histogram,
>;

pub fn pc_histogram() -> prometheus_client::metrics::histogram::Histogram {
    prometheus_client::metrics::histogram::Histogram::new(BUCKETS)
}

/// A metrics-exporter-prometheus recorder with the shared bucket bounds (its default is a
/// summary).
pub fn metrics_recorder() -> PrometheusRecorder {
    PrometheusBuilder::new().set_buckets(&BUCKETS).expect("valid buckets").build_recorder()
}

// ---- the 10k-series encode: 10 labeled counters x 1000 children, child i counted i + 1 ----

pub fn prometheus_encode_registry() -> prometheus::Registry {
    let reg = prometheus::Registry::new();
    let pairs = label_pairs(ENCODE_CHILDREN);
    for f in 0..promstack_bench::ENCODE_FAMILIES {
        let vec = prometheus::IntCounterVec::new(
            prometheus::Opts::new(family_name(f) + "_total", "Requests served."),
            &["method", "path"],
        )
        .unwrap();
        for (i, p) in pairs.iter().enumerate() {
            vec.with_label_values(p).inc_by(i as u64 + 1);
        }
        reg.register(Box::new(vec)).unwrap();
    }
    reg
}

pub fn prometheus_client_encode_registry() -> prometheus_client::registry::Registry {
    let mut reg = prometheus_client::registry::Registry::default();
    let pairs = label_pairs(ENCODE_CHILDREN);
    for f in 0..promstack_bench::ENCODE_FAMILIES {
        let fam = PcCounterFamily::default();
        for (i, p) in pairs.iter().enumerate() {
            fam.get_or_create(&MethodPath { method: p[0], path: p[1] }).inc_by(i as u64 + 1);
        }
        reg.register(family_name(f), "Requests served.", fam);
    }
    reg
}

/// Registers the 10k series into the current (local or global) `metrics` recorder.
pub fn metrics_register_encode_series() {
    let pairs = label_pairs(ENCODE_CHILDREN);
    for f in 0..promstack_bench::ENCODE_FAMILIES {
        let name: &'static str = family_name(f).leak();
        metrics::describe_counter!(name, "Requests served.");
        for (i, p) in pairs.iter().enumerate() {
            metrics::counter!(name, "method" => p[0], "path" => p[1]).increment(i as u64 + 1);
        }
    }
}

pub fn metrics_encode_handle() -> PrometheusHandle {
    let rec = metrics_recorder();
    metrics::with_local_recorder(&rec, metrics_register_encode_series);
    let h = rec.handle();
    h.run_upkeep();
    h
}

// ---- the histogram encode: 1000 children of one histogram, 8 observations each ----

fn histogram_observations() -> impl Iterator<Item = (usize, f64)> {
    let obs = observations();
    (0..HISTOGRAMS).flat_map(move |i| {
        let obs = obs.clone();
        (0..8).map(move |k| (i, obs[(i * 8 + k) % obs.len()]))
    })
}

pub fn prometheus_histogram_registry() -> prometheus::Registry {
    let reg = prometheus::Registry::new();
    let vec = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("request_duration_seconds", "Request duration.")
            .buckets(BUCKETS.to_vec()),
        &["path"],
    )
    .unwrap();
    let paths: Vec<String> = (0..HISTOGRAMS).map(path).collect();
    for (i, v) in histogram_observations() {
        vec.with_label_values(&[paths[i].as_str()]).observe(v);
    }
    reg.register(Box::new(vec)).unwrap();
    reg
}

pub fn prometheus_client_histogram_registry() -> prometheus_client::registry::Registry {
    let mut reg = prometheus_client::registry::Registry::default();
    let fam = PcHistogramFamily::new_with_constructor(pc_histogram);
    let paths: Vec<&'static str> = (0..HISTOGRAMS).map(|i| &*path(i).leak()).collect();
    for (i, v) in histogram_observations() {
        fam.get_or_create(&PathLabel { path: paths[i] }).observe(v);
    }
    reg.register("request_duration_seconds", "Request duration.", fam);
    reg
}

pub fn metrics_histogram_handle() -> PrometheusHandle {
    let rec = metrics_recorder();
    let paths: Vec<&'static str> = (0..HISTOGRAMS).map(|i| &*path(i).leak()).collect();
    metrics::with_local_recorder(&rec, || {
        metrics::describe_histogram!("request_duration_seconds", "Request duration.");
        for (i, v) in histogram_observations() {
            metrics::histogram!("request_duration_seconds", "path" => paths[i]).record(v);
        }
    });
    let h = rec.handle();
    h.run_upkeep();
    h
}

// ---- promstack's own `metrics` recorder (feature `metrics-recorder`), the same workloads ----

/// promstack's `metrics` recorder with the shared bucket bounds, its collector registered in a
/// fresh registry.
pub fn promstack_metrics_recorder() -> (promstack::recorder::MetricsRecorder, promstack::Registry) {
    let (rec, collector) =
        promstack::recorder::RecorderBuilder::new().buckets(&BUCKETS).expect("valid buckets").build();
    let reg = promstack::Registry::new();
    reg.register(collector).unwrap();
    (rec, reg)
}

/// The 10k series recorded through promstack's `metrics` recorder.
pub fn promstack_metrics_encode_registry() -> promstack::Registry {
    let (rec, reg) = promstack_metrics_recorder();
    metrics::with_local_recorder(&rec, metrics_register_encode_series);
    reg
}

/// The 1000 histograms recorded through promstack's `metrics` recorder.
pub fn promstack_metrics_histogram_registry() -> promstack::Registry {
    let (rec, reg) = promstack_metrics_recorder();
    let paths: Vec<&'static str> = (0..HISTOGRAMS).map(|i| &*path(i).leak()).collect();
    metrics::with_local_recorder(&rec, || {
        metrics::describe_histogram!("request_duration_seconds", "Request duration.");
        for (i, v) in histogram_observations() {
            metrics::histogram!("request_duration_seconds", "path" => paths[i]).record(v);
        }
    });
    reg
}

/// Sample lines (not comments, not blank) of an exposition.
pub fn sample_lines(text: &[u8]) -> usize {
    text.split(|b| *b == b'\n').filter(|l| !l.is_empty() && l[0] != b'#').count()
}
