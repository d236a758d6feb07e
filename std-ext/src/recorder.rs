//! A [`metrics`] 0.24 facade recorder backed by promstack families (feature `metrics-recorder`).
//!
//! Libraries and applications instrumented with `metrics::counter!`, `gauge!` and `histogram!`
//! land in promstack [`Family`] values: [`RecorderBuilder::build`] makes a [`MetricsRecorder`]
//! (the `metrics::Recorder`) and a [`MetricsCollector`] (a promstack [`Collector`]) that you
//! register in a [`Registry`](crate::Registry) and serve like any other collector.
//! [`RecorderBuilder::install`] makes it the global recorder in one step.
//!
//! ```
//! use promstack::recorder::{Matcher, RecorderBuilder};
//! let (recorder, collector) = RecorderBuilder::new()
//!     .buckets_for_metric(Matcher::Full("latency_seconds".into()), &[0.1, 0.5])
//!     .unwrap()
//!     .build();
//! let registry = promstack::Registry::new();
//! registry.register(collector).unwrap();
//! metrics::with_local_recorder(&recorder, || {
//!     metrics::describe_counter!("requests", "Requests served.");
//!     metrics::counter!("requests", "method" => "get").increment(3);
//!     metrics::histogram!("latency_seconds").record(0.2);
//! });
//! assert_eq!(registry.get_sample_value("requests_total", &[("method", "get")]), Some(3.0));
//! assert_eq!(registry.get_sample_value("latency_seconds_bucket", &[("le", "0.5")]), Some(1.0));
//! ```
//!
//! # How `metrics` keys map to families
//!
//! | `metrics` | promstack |
//! |---|---|
//! | `counter!` (`increment`, `absolute`) | a counter family (`_total` is added to the sample name; a name ending in `_total` keeps one) |
//! | `gauge!` (`increment`, `decrement`, `set`) | a gauge family |
//! | `histogram!` (`record`, `record_many`) | a histogram family with the buckets chosen by [`RecorderBuilder::buckets_for_metric`], else [`RecorderBuilder::buckets`], else [`DEFAULT_BUCKETS`] |
//! | `describe_*!(name, [unit,] help)` | the family's `# HELP`, and its OpenMetrics `# UNIT` when the family name ends in `_<unit>` (the name is never changed); a description may come before or after the first use |
//! | label keys | label names: the first key of a name fixes the family's label names, in its order; later keys of that name must have the same label keys, in any order |
//!
//! **Names.** In metric names, every character outside `[a-zA-Z0-9_:]` becomes `_` (so
//! `http.requests` is `http_requests`) and a name starting with a digit gets a leading `_`; in
//! label names the same with `[a-zA-Z0-9_]`. What is still not allowed after that is refused:
//! an empty name, a label name Prometheus reserves (starting with `__`, or `le` on a histogram),
//! the same label name twice, a name already used with another metric type, or label keys that
//! differ from the first key of the name. A refused key gets a handle that does nothing; it is
//! logged once (`log::warn!`) and counted in [`MetricsRecorder::refused`].
//!
//! Differences from metrics-exporter-prometheus: histograms are always histograms (never
//! summaries), with [`DEFAULT_BUCKETS`] unless configured; `counter.absolute(v)` raises the
//! counter to `v` (never lowers it); metric handles are never expired (no idle timeout).
//!
//! A [`Registry`](crate::Registry) learns the names a collector claims when it is registered, so
//! a `?name[]=` filtered scrape of a registry includes only the facade's families that existed
//! then; unfiltered scrapes include all of them.

use metrics::{Key, KeyName, Metadata, SharedString, Unit};
use promstack_alloc::{Family, Opts, OwnedChild};
use promstack_core::encoding::{go_float, FLOAT_BUF};
use promstack_core::{
    check_buckets, strip_counter_total, CollectError, Collector, CounterValue, Desc, DescError, GaugeValue,
    Labels, Metric, MetricType, Sample, Sink, Value, DEFAULT_BUCKETS,
};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

/// Which histogram names a bucket list applies to (as in metrics-exporter-prometheus).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// The `metrics` name exactly.
    Full(String),
    /// Names starting with this; the longest matching prefix wins.
    Prefix(String),
    /// Names ending with this; the longest matching suffix wins.
    Suffix(String),
}

/// What the recorder refuses to set up.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RecorderError {
    /// A bucket list is not sorted strictly ascending, has a NaN or no finite bound.
    Buckets(DescError),
    /// A global `metrics` recorder is already installed.
    AlreadyInstalled,
}

impl fmt::Display for RecorderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecorderError::Buckets(e) => write!(f, "invalid histogram buckets: {e}"),
            RecorderError::AlreadyInstalled => f.write_str("a global metrics recorder is already installed"),
        }
    }
}

impl std::error::Error for RecorderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecorderError::Buckets(e) => Some(e),
            RecorderError::AlreadyInstalled => None,
        }
    }
}

/// Configures and builds a [`MetricsRecorder`] and its [`MetricsCollector`].
#[derive(Debug, Clone, Default)]
pub struct RecorderBuilder {
    default: Option<Arc<[f64]>>,
    rules: Vec<(Matcher, Arc<[f64]>)>,
}

impl RecorderBuilder {
    /// Histograms get [`DEFAULT_BUCKETS`] unless configured otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// The buckets of every histogram no [`Matcher`] selects (`+Inf` is implied).
    pub fn buckets(mut self, bounds: &[f64]) -> Result<Self, RecorderError> {
        check_buckets(bounds).map_err(RecorderError::Buckets)?;
        self.default = Some(bounds.into());
        Ok(self)
    }

    /// The buckets of the histograms `matcher` selects (metrics-exporter-prometheus'
    /// `set_buckets_for_metric`). A [`Matcher::Full`] match wins over a prefix, a prefix over a
    /// suffix; among prefixes (or suffixes) the longest wins. Matched against the `metrics`
    /// name as written, before sanitizing.
    pub fn buckets_for_metric(mut self, matcher: Matcher, bounds: &[f64]) -> Result<Self, RecorderError> {
        check_buckets(bounds).map_err(RecorderError::Buckets)?;
        self.rules.push((matcher, bounds.into()));
        Ok(self)
    }

    /// The recorder and the collector that reports what it records.
    pub fn build(self) -> (MetricsRecorder, Arc<MetricsCollector>) {
        let state = Arc::new(State {
            default: self.default.unwrap_or_else(|| DEFAULT_BUCKETS.as_slice().into()),
            rules: self.rules,
            handles: std::array::from_fn(|_| RwLock::new(HashMap::default())),
            families: Mutex::new(Families::default()),
            described: RwLock::new(HashMap::new()),
            refused: AtomicU64::new(0),
        });
        (MetricsRecorder { state: state.clone() }, Arc::new(MetricsCollector { state }))
    }

    /// Builds, installs the recorder as the global `metrics` recorder and returns the collector
    /// to register. Fails when a global recorder is already installed.
    ///
    /// ```no_run
    /// let collector = promstack::recorder::RecorderBuilder::new().install().unwrap();
    /// promstack::default_registry().register(collector).unwrap();
    /// metrics::counter!("jobs").increment(1);
    /// ```
    pub fn install(self) -> Result<Arc<MetricsCollector>, RecorderError> {
        let (recorder, collector) = self.build();
        metrics::set_global_recorder(recorder).map_err(|_| RecorderError::AlreadyInstalled)?;
        Ok(collector)
    }
}

/// `metrics` keys carry their hash; the maps below use it as is.
#[derive(Default)]
struct KeyHash(u64);

impl Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `Key`'s `Hash`; anything else still hashes correctly.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HandleMap = HashMap<Key, Handle, BuildHasherDefault<KeyHash>>;

/// Shards of the key map: macro calls from many threads take read locks of different shards.
const SHARDS: usize = 16;

#[derive(Clone)]
enum Handle {
    Counter(metrics::Counter),
    Gauge(metrics::Gauge),
    Histogram(metrics::Histogram),
}

/// One family the recorder made, by its promstack name.
#[derive(Clone)]
enum Entry {
    Counter(Arc<Family<CounterValue>>),
    Gauge(Arc<Family<GaugeValue>>),
    Histogram(Arc<Family<BucketHistogram>>),
}

impl Entry {
    fn collector(&self) -> &dyn Collector {
        match self {
            Entry::Counter(f) => &**f,
            Entry::Gauge(f) => &**f,
            Entry::Histogram(f) => &**f,
        }
    }

    fn metric_type(&self) -> MetricType {
        match self {
            Entry::Counter(_) => MetricType::Counter,
            Entry::Gauge(_) => MetricType::Gauge,
            Entry::Histogram(_) => MetricType::Histogram,
        }
    }
}

#[derive(Default)]
struct Families {
    by_name: HashMap<String, usize>,
    /// In creation order, the order of the exposition.
    list: Vec<(String, Entry)>,
}

/// Help and unit from `describe_*!`.
struct Described {
    help: String,
    unit: &'static str,
}

struct State {
    default: Arc<[f64]>,
    rules: Vec<(Matcher, Arc<[f64]>)>,
    handles: [RwLock<HandleMap>; SHARDS],
    families: Mutex<Families>,
    described: RwLock<HashMap<String, Described>>,
    refused: AtomicU64,
}

/// The `metrics::Recorder`; see the [module docs](self). Made by [`RecorderBuilder::build`].
pub struct MetricsRecorder {
    state: Arc<State>,
}

impl MetricsRecorder {
    /// Keys refused so far (each once; see the naming rules in the [module docs](self)).
    pub fn refused(&self) -> u64 {
        self.state.refused.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for MetricsRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsRecorder").field("refused", &self.refused()).finish_non_exhaustive()
    }
}

/// Reports the families of a [`MetricsRecorder`]; register it in a registry.
pub struct MetricsCollector {
    state: Arc<State>,
}

impl fmt::Debug for MetricsCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsCollector").finish_non_exhaustive()
    }
}

/// `name` with every byte outside the allowed set replaced by `_`, and `_` before a leading
/// digit.
fn sanitize(name: &str, allowed: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(name.chars().map(|c| if allowed(c) { c } else { '_' }));
    out
}

fn metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

fn label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The family name a `metrics` name of `metric_type` gets.
fn family_name(name: &str, metric_type: MetricType) -> String {
    let name = sanitize(name, metric_char);
    strip_counter_total(&name, metric_type).to_owned()
}

impl State {
    fn buckets_for(&self, name: &str) -> Arc<[f64]> {
        let mut best: Option<(u8, usize, &Arc<[f64]>)> = None;
        for (matcher, bounds) in &self.rules {
            let rank = match matcher {
                Matcher::Full(n) if n == name => (0, usize::MAX),
                Matcher::Prefix(p) if name.starts_with(p.as_str()) => (1, p.len()),
                Matcher::Suffix(s) if name.ends_with(s.as_str()) => (2, s.len()),
                _ => continue,
            };
            // Lower class first, then the longer match; the first rule given wins a tie.
            if best.is_none_or(|(c, l, _)| rank.0 < c || (rank.0 == c && rank.1 > l)) {
                best = Some((rank.0, rank.1, bounds));
            }
        }
        best.map_or_else(|| self.default.clone(), |(_, _, b)| b.clone())
    }

    /// The handle for `key`: from the cache, or made (or refused) and cached.
    #[inline]
    fn handle(&self, key: &Key, metric_type: MetricType) -> Handle {
        let shard = &self.handles[key.get_hash() as usize % SHARDS];
        if let Some(h) = shard.read().unwrap_or_else(PoisonError::into_inner).get(key) {
            return h.clone();
        }
        self.make_handle(key, metric_type, shard)
    }

    #[cold]
    fn make_handle(&self, key: &Key, metric_type: MetricType, shard: &RwLock<HandleMap>) -> Handle {
        let mut map = shard.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(h) = map.get(key) {
            return h.clone();
        }
        let handle = match self.child(key, metric_type) {
            Ok(h) => h,
            Err(why) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                log::warn!("metrics recorder: refused {} {key}: {why}", metric_type.as_str());
                match metric_type {
                    MetricType::Counter => Handle::Counter(metrics::Counter::noop()),
                    MetricType::Gauge => Handle::Gauge(metrics::Gauge::noop()),
                    _ => Handle::Histogram(metrics::Histogram::noop()),
                }
            }
        };
        map.insert(key.clone(), handle.clone());
        handle
    }

    /// The family for `key` (made on first use) and its child for the key's labels.
    fn child(&self, key: &Key, metric_type: MetricType) -> Result<Handle, String> {
        let name = family_name(key.name(), metric_type);
        let label_names: Vec<String> = key.labels().map(|l| sanitize(l.key(), label_char)).collect();
        let pairs: Vec<(&str, &str)> =
            label_names.iter().map(String::as_str).zip(key.labels().map(|l| l.value())).collect();
        let entry = {
            let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
            match families.by_name.get(&name) {
                Some(&i) => families.list[i].1.clone(),
                None => {
                    let names: Vec<&str> = label_names.iter().map(String::as_str).collect();
                    let opts = Opts::new(&name, "").label_names(&names);
                    let entry = match metric_type {
                        MetricType::Counter => opts.counter().map(|f| Entry::Counter(Arc::new(f))),
                        MetricType::Gauge => opts.gauge().map(|f| Entry::Gauge(Arc::new(f))),
                        _ => Family::new(opts, self.buckets_for(key.name()))
                            .map(|f| Entry::Histogram(Arc::new(f))),
                    }
                    .map_err(|e| e.to_string())?;
                    let i = families.list.len();
                    families.list.push((name.clone(), entry.clone()));
                    families.by_name.insert(name, i);
                    entry
                }
            }
        };
        if entry.metric_type() != metric_type {
            return Err(format!("the name is used by a {}", entry.metric_type().as_str()));
        }
        let err = |e: promstack_core::LabelError| e.to_string();
        Ok(match entry {
            Entry::Counter(f) => Handle::Counter(metrics::Counter::from_arc(Arc::new(CounterHandle(
                f.get_by_name(&pairs).map_err(err)?,
            )))),
            Entry::Gauge(f) => Handle::Gauge(metrics::Gauge::from_arc(Arc::new(GaugeHandle(
                f.get_by_name(&pairs).map_err(err)?,
            )))),
            Entry::Histogram(f) => {
                Handle::Histogram(metrics::Histogram::from_arc(Arc::new(HistogramHandle {
                    bounds: f.config().clone(),
                    child: f.get_by_name(&pairs).map_err(err)?,
                })))
            }
        })
    }

    fn describe(&self, key: &KeyName, metric_type: MetricType, unit: Option<Unit>, help: SharedString) {
        let name = family_name(key.as_str(), metric_type);
        // OpenMetrics requires a family with a unit to be named with it as a suffix.
        let unit = unit
            .map(|u| u.as_str())
            .filter(|u| {
                name.len() > u.len() + 1 && name.ends_with(u) && name[..name.len() - u.len()].ends_with('_')
            })
            .unwrap_or("");
        let described = Described { help: help.into_owned(), unit };
        self.described.write().unwrap_or_else(PoisonError::into_inner).insert(name, described);
    }
}

impl metrics::Recorder for MetricsRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state.describe(&key, MetricType::Counter, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state.describe(&key, MetricType::Gauge, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state.describe(&key, MetricType::Histogram, unit, description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        match self.state.handle(key, MetricType::Counter) {
            Handle::Counter(c) => c,
            _ => metrics::Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        match self.state.handle(key, MetricType::Gauge) {
            Handle::Gauge(g) => g,
            _ => metrics::Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        match self.state.handle(key, MetricType::Histogram) {
            Handle::Histogram(h) => h,
            _ => metrics::Histogram::noop(),
        }
    }
}

/// Passes samples on with the help and unit of `describe_*!`.
struct WithDescription<'a> {
    inner: &'a mut dyn Sink,
    help: &'a str,
    unit: &'a str,
}

impl Sink for WithDescription<'_> {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        let desc = Desc { help: self.help, unit: self.unit, ..*desc };
        self.inner.family(&desc)
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        let desc = Desc { help: self.help, unit: self.unit, ..*desc };
        self.inner.sample(&desc, sample)
    }

    fn wants_created(&self) -> bool {
        self.inner.wants_created()
    }
}

impl Collector for MetricsCollector {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        // A snapshot, so macro calls making new families do not wait for the scrape.
        let list = self.state.families.lock().unwrap_or_else(PoisonError::into_inner).list.clone();
        let described = self.state.described.read().unwrap_or_else(PoisonError::into_inner);
        for (name, entry) in &list {
            let (help, unit) = described.get(name).map_or(("", ""), |d| (d.help.as_str(), d.unit));
            entry.collector().collect(&mut WithDescription { inner: sink, help, unit })?;
        }
        Ok(())
    }
}

struct CounterHandle(OwnedChild<CounterValue>);

impl metrics::CounterFn for CounterHandle {
    #[inline]
    fn increment(&self, value: u64) {
        self.0.inc_by_int(value);
    }

    fn absolute(&self, value: u64) {
        // A counter only goes up: raise it to `value`. Two racing calls may both add, which is
        // why `absolute` suits a single writer mirroring an external counter.
        let delta = value as f64 - self.0.get();
        if delta > 0.0 {
            let _ = self.0.inc_by(delta);
        }
    }
}

struct GaugeHandle(OwnedChild<GaugeValue>);

impl metrics::GaugeFn for GaugeHandle {
    #[inline]
    fn increment(&self, value: f64) {
        self.0.add(value);
    }

    #[inline]
    fn decrement(&self, value: f64) {
        self.0.sub(value);
    }

    #[inline]
    fn set(&self, value: f64) {
        self.0.set(value);
    }
}

struct HistogramHandle {
    bounds: Arc<[f64]>,
    child: OwnedChild<BucketHistogram>,
}

impl metrics::HistogramFn for HistogramHandle {
    #[inline]
    fn record(&self, value: f64) {
        self.child.observe(&self.bounds, value, 1);
    }

    fn record_many(&self, value: f64, count: usize) {
        self.child.observe(&self.bounds, value, count as u64);
    }
}

/// A histogram value whose bucket count is chosen at run time (core's `HistogramValue<N>` fixes
/// it at compile time). The counts are allocated on first use, because a [`Metric`]'s initial
/// value is a constant that cannot know the family's bounds.
struct BucketHistogram {
    /// One count per bound, then the observations above every bound (and NaN).
    counts: OnceLock<Box<[AtomicU64]>>,
    sum: GaugeValue,
    /// Creation time as `f64` bits; NaN until reset, meaning the clock's install time.
    created: AtomicU64,
}

impl BucketHistogram {
    fn counts(&self, bounds: usize) -> &[AtomicU64] {
        self.counts.get_or_init(|| (0..=bounds).map(|_| AtomicU64::new(0)).collect())
    }

    #[inline]
    fn observe(&self, bounds: &[f64], v: f64, n: u64) {
        let i = if v.is_nan() { bounds.len() } else { bounds.partition_point(|b| *b < v) };
        // Relaxed: each count is read on its own and the total is derived from them, as in
        // core's histogram, so a scrape never sees a `_count` that disagrees with its buckets.
        self.counts(bounds.len())[i].fetch_add(n, Ordering::Relaxed);
        self.sum.add(v * n as f64);
    }
}

impl Metric for BucketHistogram {
    const METRIC_TYPE: MetricType = MetricType::Histogram;
    const INIT: Self = BucketHistogram {
        counts: OnceLock::new(),
        sum: GaugeValue::new(),
        created: AtomicU64::new(f64::NAN.to_bits()),
    };
    type Config = Arc<[f64]>;

    fn check_config(bounds: &Arc<[f64]>, _: &str, _: &[&str]) -> Result<(), DescError> {
        check_buckets(bounds)
    }

    fn reset(&self) {
        if let Some(counts) = self.counts.get() {
            counts.iter().for_each(|c| c.store(0, Ordering::Relaxed));
        }
        self.sum.set(0.0);
        let now = promstack_core::unix_time().unwrap_or(f64::NAN);
        self.created.store(now.to_bits(), Ordering::Relaxed);
    }

    fn report(
        &self,
        bounds: &Arc<[f64]>,
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let counts = self.counts(bounds.len());
        let le = ["le"];
        let mut acc = 0u64;
        for (bound, count) in bounds.iter().zip(counts.iter()) {
            acc = acc.wrapping_add(count.load(Ordering::Relaxed));
            if *bound == f64::INFINITY {
                continue;
            }
            let mut buf = [0u8; FLOAT_BUF];
            let text = [go_float(*bound, &mut buf)];
            sink.sample(desc, &Sample::new("_bucket", labels.with_extra(&le, &text), Value::Int(acc)))?;
        }
        let total = acc.wrapping_add(counts[bounds.len()].load(Ordering::Relaxed));
        sink.sample(desc, &Sample::new("_bucket", labels.with_extra(&le, &["+Inf"]), Value::Int(total)))?;
        sink.sample(desc, &Sample::new("_count", labels, Value::Int(total)))?;
        // OpenMetrics allows `_sum` only when no observation can be negative (as core does).
        if bounds.first().is_none_or(|b| *b >= 0.0) {
            sink.sample(desc, &Sample::new("_sum", labels, Value::Float(self.sum.get())))?;
        }
        if sink.wants_created() {
            let t = f64::from_bits(self.created.load(Ordering::Relaxed));
            let t = if t.is_nan() { promstack_core::install_time() } else { Some(t) };
            if let Some(t) = t {
                sink.sample(desc, &Sample::new("_created", labels, Value::Float(t)))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized() {
        assert_eq!(family_name("http.requests-total", MetricType::Gauge), "http_requests_total");
        assert_eq!(family_name("jobs_total", MetricType::Counter), "jobs");
        assert_eq!(family_name("9lives", MetricType::Gauge), "_9lives");
        assert_eq!(sanitize("a:b.c", label_char), "a_b_c");
    }

    #[test]
    fn bucket_rules_prefer_full_then_longest_prefix_then_suffix() {
        let b = RecorderBuilder::new()
            .buckets(&[1.0])
            .unwrap()
            .buckets_for_metric(Matcher::Suffix("_seconds".into()), &[2.0])
            .unwrap()
            .buckets_for_metric(Matcher::Prefix("http".into()), &[3.0])
            .unwrap()
            .buckets_for_metric(Matcher::Prefix("http_client".into()), &[4.0])
            .unwrap()
            .buckets_for_metric(Matcher::Full("http_client_seconds".into()), &[5.0])
            .unwrap();
        let (r, _) = b.build();
        assert_eq!(&*r.state.buckets_for("http_client_seconds"), [5.0]);
        assert_eq!(&*r.state.buckets_for("http_client_bytes"), [4.0]);
        assert_eq!(&*r.state.buckets_for("http_server_seconds"), [3.0]);
        assert_eq!(&*r.state.buckets_for("db_seconds"), [2.0]);
        assert_eq!(&*r.state.buckets_for("db_rows"), [1.0]);
        assert!(matches!(RecorderBuilder::new().buckets(&[2.0, 1.0]), Err(RecorderError::Buckets(_))));
    }
}
