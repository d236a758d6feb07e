//! The peers' setups of the shared workloads, included (`#[path]`) by the bench, the examples and
//! the tests: the peers are dev-dependencies, so the library cannot hold this.
//!
//! Each peer gets its cheapest documented form: prometheus' `Int*` types (one atomic add, not a
//! float CAS loop), prometheus-client and fastmetrics label sets of `&'static str` (no `String`
//! per lookup), metrics-exporter-prometheus' `render_to_write` into a reused buffer, measured's
//! `LabelGroup` over lasso-interned values (`dynamic_with = ThreadedRodeo`: like every other
//! library here it accepts label values first seen at run time), embeprom's `metrics!` groups
//! of fixed-capacity vecs in a caller-owned registry, rendered into a reused `String`.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use prometheus_client::encoding::EncodeLabelSet;
use promstack_bench::{
    family_name, label_pairs, observations, path, BIG_CHILDREN, BUCKETS, ENCODE_CHILDREN, ENCODE_FAMILIES,
    HISTOGRAMS,
};

/// The lookup workload's baseline: a plain hash map (hashbrown with foldhash, the table type
/// promstack-alloc uses) from the two label values to an atomic count. No value check, no
/// stale-handle rule, no lock: what a lookup and an increment cost at the least.
pub fn bare_lookup_map(
    pairs: &[[&'static str; 2]],
) -> hashbrown::HashMap<[&'static str; 2], std::sync::atomic::AtomicU64> {
    pairs.iter().map(|p| (*p, std::sync::atomic::AtomicU64::new(0))).collect()
}

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
    prometheus_counter_registry(ENCODE_CHILDREN)
}

/// The 1M-series encode: the same 10 families with 100,000 children each.
pub fn prometheus_1m_registry() -> prometheus::Registry {
    prometheus_counter_registry(BIG_CHILDREN)
}

fn prometheus_counter_registry(children: usize) -> prometheus::Registry {
    let reg = prometheus::Registry::new();
    let pairs = label_pairs(children);
    for f in 0..ENCODE_FAMILIES {
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
    prometheus_client_counter_registry(ENCODE_CHILDREN)
}

pub fn prometheus_client_1m_registry() -> prometheus_client::registry::Registry {
    prometheus_client_counter_registry(BIG_CHILDREN)
}

fn prometheus_client_counter_registry(children: usize) -> prometheus_client::registry::Registry {
    let mut reg = prometheus_client::registry::Registry::default();
    let pairs = label_pairs(children);
    for f in 0..ENCODE_FAMILIES {
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
    metrics_register_series(ENCODE_CHILDREN)
}

fn metrics_register_series(children: usize) {
    let pairs = label_pairs(children);
    for f in 0..ENCODE_FAMILIES {
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

pub fn metrics_1m_handle() -> PrometheusHandle {
    let rec = metrics_recorder();
    metrics::with_local_recorder(&rec, || metrics_register_series(BIG_CHILDREN));
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

// ---- fastmetrics 0.7 ----

/// fastmetrics label set of the counter workloads.
#[derive(Clone, Debug, Hash, PartialEq, Eq, fastmetrics::derive::LabelSet)]
pub struct FmMethodPath {
    pub method: &'static str,
    pub path: &'static str,
}

/// fastmetrics label set of the memory program (owned values).
#[derive(Clone, Debug, Hash, PartialEq, Eq, fastmetrics::derive::LabelSet)]
pub struct FmOwnedMethodPath {
    pub method: String,
    pub path: String,
}

/// fastmetrics label set of the histogram workload.
#[derive(Clone, Debug, Hash, PartialEq, Eq, fastmetrics::derive::LabelSet)]
pub struct FmPath {
    pub path: &'static str,
}

pub type FmCounterFamily =
    fastmetrics::metrics::family::Family<FmMethodPath, fastmetrics::metrics::counter::Counter>;
pub type FmHistogramFamily =
    fastmetrics::metrics::family::Family<FmPath, fastmetrics::metrics::histogram::Histogram>;

pub fn fm_histogram() -> fastmetrics::metrics::histogram::Histogram {
    fastmetrics::metrics::histogram::Histogram::new(BUCKETS)
}

/// The Prometheus 0.0.4 text format, as the other libraries write it.
pub const FM_TEXT: fastmetrics::format::text::TextProfile =
    fastmetrics::format::text::TextProfile::PrometheusV0_0_4;

/// Encodes a fastmetrics registry as text (`encode_with` without the lazy-group scrape scope,
/// which no workload uses).
pub fn fm_encode(s: &mut String, reg: &fastmetrics::registry::Registry) {
    fastmetrics::format::text::encode_with(s, reg, FM_TEXT, || ()).unwrap();
}

fn fm_counter_registry(children: usize) -> fastmetrics::registry::Registry {
    let mut reg = fastmetrics::registry::Registry::default();
    let pairs = label_pairs(children);
    for f in 0..ENCODE_FAMILIES {
        let fam = FmCounterFamily::default();
        for (i, p) in pairs.iter().enumerate() {
            fam.with_or_new(&FmMethodPath { method: p[0], path: p[1] }, |c| c.inc_by(i as u64 + 1));
        }
        reg.register(family_name(f), "Requests served.", fam).unwrap();
    }
    reg
}

pub fn fastmetrics_encode_registry() -> fastmetrics::registry::Registry {
    fm_counter_registry(ENCODE_CHILDREN)
}

pub fn fastmetrics_1m_registry() -> fastmetrics::registry::Registry {
    fm_counter_registry(BIG_CHILDREN)
}

pub fn fastmetrics_histogram_registry() -> fastmetrics::registry::Registry {
    let mut reg = fastmetrics::registry::Registry::default();
    let fam = FmHistogramFamily::new(fm_histogram);
    let paths: Vec<&'static str> = (0..HISTOGRAMS).map(|i| &*path(i).leak()).collect();
    for (i, v) in histogram_observations() {
        fam.with_or_new(&FmPath { path: paths[i] }, |h| h.observe(v));
    }
    reg.register("request_duration_seconds", "Request duration.", fam).unwrap();
    reg
}

// ---- measured 0.0.25 ----

/// measured label group of the counter workloads: both values interned in a lasso
/// `ThreadedRodeo`, measured's label set for values not known at start-up.
#[derive(measured::LabelGroup)]
#[label(set = MdMethodPathSet)]
pub struct MdMethodPath<'a> {
    #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
    pub method: &'a str,
    #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
    pub path: &'a str,
}

/// measured label group of the histogram workload.
#[derive(measured::LabelGroup)]
#[label(set = MdPathSet)]
pub struct MdPath<'a> {
    #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
    pub path: &'a str,
}

pub type MdCounterVec = measured::CounterVec<MdMethodPathSet>;
pub type MdHistogramVec = measured::HistogramVec<MdPathSet, 14>;

pub fn md_thresholds() -> measured::metric::histogram::Thresholds<14> {
    measured::metric::histogram::Thresholds::with_buckets(BUCKETS)
}

/// measured families with their names, encoded the way its `MetricGroup` derive does: the help
/// line, then the family.
pub struct MdCounters(pub Vec<(&'static measured::metric::name::MetricName, MdCounterVec)>);

impl MdCounters {
    pub fn encode(&self, buf: &mut Vec<u8>) {
        use measured::metric::group::Encoding as _;
        use measured::metric::MetricFamilyEncoding as _;
        let mut enc = measured::text::TextEncoder::new(buf);
        for (name, vec) in &self.0 {
            enc.write_help(*name, "Requests served.").unwrap();
            vec.collect_family_into(*name, &mut enc).unwrap();
        }
        enc.flush().unwrap();
    }
}

pub fn md_name(name: String) -> &'static measured::metric::name::MetricName {
    measured::metric::name::MetricName::try_from_str(name.leak()).expect("valid name")
}

fn md_counters(children: usize) -> MdCounters {
    let pairs = label_pairs(children);
    MdCounters(
        (0..ENCODE_FAMILIES)
            .map(|f| {
                let vec = MdCounterVec::new();
                for (i, p) in pairs.iter().enumerate() {
                    vec.inc_by(MdMethodPath { method: p[0], path: p[1] }, i as u64 + 1);
                }
                (md_name(family_name(f) + "_total"), vec)
            })
            .collect(),
    )
}

pub fn measured_encode_families() -> MdCounters {
    md_counters(ENCODE_CHILDREN)
}

pub fn measured_1m_families() -> MdCounters {
    md_counters(BIG_CHILDREN)
}

pub struct MdHistograms(pub MdHistogramVec);

impl MdHistograms {
    pub fn encode(&self, buf: &mut Vec<u8>) {
        use measured::metric::group::Encoding as _;
        use measured::metric::MetricFamilyEncoding as _;
        let name = measured::metric::name::MetricName::from_str("request_duration_seconds");
        let mut enc = measured::text::TextEncoder::new(buf);
        enc.write_help(name, "Request duration.").unwrap();
        self.0.collect_family_into(name, &mut enc).unwrap();
        enc.flush().unwrap();
    }
}

pub fn measured_histograms() -> MdHistograms {
    let vec = MdHistogramVec::with_label_set_and_metadata(MdPathSet::default(), md_thresholds());
    let paths: Vec<String> = (0..HISTOGRAMS).map(path).collect();
    for (i, v) in histogram_observations() {
        vec.observe(MdPath { path: &paths[i] }, v);
    }
    MdHistograms(vec)
}

// ---- embeprom 0.3 (no_std, fixed capacity; `std` feature for critical-section on the host) ----

/// The 10k-series encode: ten `CounterVec`s of 1024 slots in their own registry.
pub mod ep_encode {
    pub static REGISTRY: embeprom::Registry<1> = embeprom::Registry::new();

    embeprom::metrics! {
        registry = REGISTRY;

        /// Requests served.
        #[labels("method", "path")]
        http_requests_0_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_1_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_2_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_3_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_4_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_5_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_6_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_7_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_8_total: CounterVec<1024>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_9_total: CounterVec<1024>,
    }
}

/// The histogram encode: one `HistogramVec` of 1024 slots, the shared bucket bounds.
pub mod ep_histograms {
    pub static REGISTRY: embeprom::Registry<1> = embeprom::Registry::new();

    embeprom::metrics! {
        registry = REGISTRY;

        /// Request duration.
        #[labels("path")]
        #[buckets(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)]
        request_duration_seconds: HistogramVec<1024>,
    }
}

/// The 1M-series encode: ten `CounterVec`s of 131,072 slots (100,000 used each).
pub mod ep_big {
    pub static REGISTRY: embeprom::Registry<1> = embeprom::Registry::new();

    embeprom::metrics! {
        registry = REGISTRY;

        /// Requests served.
        #[labels("method", "path")]
        http_requests_0_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_1_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_2_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_3_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_4_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_5_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_6_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_7_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_8_total: CounterVec<131072>,
        /// Requests served.
        #[labels("method", "path")]
        http_requests_9_total: CounterVec<131072>,
    }
}

/// Fills embeprom's 1M series (call once per process) and returns the registry to render.
pub fn embeprom_1m_registry() -> &'static embeprom::Registry<1> {
    let m = ep_big::get();
    let fams = [
        &m.http_requests_0_total,
        &m.http_requests_1_total,
        &m.http_requests_2_total,
        &m.http_requests_3_total,
        &m.http_requests_4_total,
        &m.http_requests_5_total,
        &m.http_requests_6_total,
        &m.http_requests_7_total,
        &m.http_requests_8_total,
        &m.http_requests_9_total,
    ];
    let pairs = label_pairs(BIG_CHILDREN);
    for fam in fams {
        for (i, p) in pairs.iter().enumerate() {
            fam.inc_by(p, i as u64 + 1);
        }
    }
    &ep_big::REGISTRY
}

/// Fills embeprom's 10k series (call once per process) and returns the registry to render.
pub fn embeprom_encode_registry() -> &'static embeprom::Registry<1> {
    let m = ep_encode::get();
    let fams = [
        &m.http_requests_0_total,
        &m.http_requests_1_total,
        &m.http_requests_2_total,
        &m.http_requests_3_total,
        &m.http_requests_4_total,
        &m.http_requests_5_total,
        &m.http_requests_6_total,
        &m.http_requests_7_total,
        &m.http_requests_8_total,
        &m.http_requests_9_total,
    ];
    let pairs = label_pairs(ENCODE_CHILDREN);
    for fam in fams {
        for (i, p) in pairs.iter().enumerate() {
            fam.inc_by(p, i as u64 + 1);
        }
    }
    &ep_encode::REGISTRY
}

/// Fills embeprom's 1000 histograms (call once per process) and returns the registry.
pub fn embeprom_histogram_registry() -> &'static embeprom::Registry<1> {
    assert_eq!(ep_histograms::get().request_duration_seconds.bounds(), &BUCKETS);
    let paths: Vec<String> = (0..HISTOGRAMS).map(path).collect();
    for (i, v) in histogram_observations() {
        ep_histograms::get().request_duration_seconds.observe(&[&paths[i]], v);
    }
    &ep_histograms::REGISTRY
}

/// Renders an embeprom registry into a reused `String`.
pub fn ep_encode(s: &mut String, reg: &embeprom::Registry<1>) {
    embeprom::Renderer::<1>::from_registry(reg).render_to(s).unwrap();
}

/// Sample lines (not comments, not blank) of an exposition.
pub fn sample_lines(text: &[u8]) -> usize {
    text.split(|b| *b == b'\n').filter(|l| !l.is_empty() && l[0] != b'#').count()
}
