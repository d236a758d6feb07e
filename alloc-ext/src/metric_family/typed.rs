//! Typed family constructors for custom collectors, one per metric type, mirroring Python
//! 0.8.0's `CounterMetricFamily`, `GaugeMetricFamily`, ... sample for sample.
//!
//! Each is built either with one value and no labels (`with_value`, `with_buckets`) or with
//! label names ([`with_labels`](CounterMetricFamily::with_labels)) and repeated `add_metric`
//! calls. Giving label names to a family that already has a value, or the wrong number of label
//! values, is an error.

use super::{FamilyError, MetricFamily, OwnedExemplar, OwnedSample};
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use promstack_core::encoding::{go_float, FLOAT_BUF};
use promstack_core::{
    check_label_names, is_valid_label_name, BoundedStr, CollectError, Collector, DescError, MetricType, Sink,
    Timestamp,
};

/// The state shared by every typed family: the family and its label names.
#[derive(Debug, Clone, PartialEq)]
struct Inner {
    family: MetricFamily,
    label_names: Vec<String>,
}

impl Inner {
    fn new(name: &str, help: &str, metric_type: MetricType) -> Result<Self, FamilyError> {
        Ok(Inner { family: MetricFamily::new(name, help, metric_type)?, label_names: Vec::new() })
    }

    fn set_label_names(&mut self, names: &[&str]) -> Result<(), FamilyError> {
        if !self.family.samples.is_empty() {
            return Err(FamilyError::LabelsAfterSamples { family: self.family.name.clone() });
        }
        check_label_names(names, self.family.metric_type)?;
        self.label_names = names.iter().map(|n| String::from(*n)).collect();
        Ok(())
    }

    fn set_unit(&mut self, unit: &str) -> Result<(), FamilyError> {
        self.family = self.family.clone().with_unit(unit)?;
        Ok(())
    }

    /// The family's label names paired with `values`.
    fn pairs(&self, values: &[&str]) -> Result<Vec<(String, String)>, FamilyError> {
        if values.len() != self.label_names.len() {
            return Err(FamilyError::WrongLabelCount {
                family: self.family.name.clone(),
                expected: self.label_names.len(),
                got: values.len(),
            });
        }
        Ok(self.label_names.iter().cloned().zip(values.iter().map(|v| String::from(*v))).collect())
    }

    fn overlap(&self, label: &str) -> FamilyError {
        FamilyError::LabelOverlap { family: self.family.name.clone(), label: String::from(label) }
    }

    fn push(
        &mut self,
        suffix: &'static str,
        labels: Vec<(String, String)>,
        value: f64,
        timestamp: Option<f64>,
        exemplar: Option<OwnedExemplar>,
    ) {
        self.family.samples.push(OwnedSample {
            suffix: Cow::Borrowed(suffix),
            labels,
            value,
            timestamp: timestamp.map(Timestamp::from),
            exemplar,
        });
    }
}

/// Methods every typed family has.
macro_rules! common {
    ($ty:ident) => {
        impl $ty {
            /// Gives the family label names; values then come with each `add_metric`. Fails if
            /// the family already has a value, or on an invalid, reserved or repeated name.
            pub fn with_labels(mut self, label_names: &[&str]) -> Result<Self, FamilyError> {
                self.check_label_names(label_names)?;
                self.0.set_label_names(label_names)?;
                Ok(self)
            }

            /// The label names given with [`with_labels`](Self::with_labels).
            pub fn label_names(&self) -> &[String] {
                &self.0.label_names
            }

            /// The family built so far.
            pub fn family(&self) -> &MetricFamily {
                &self.0.family
            }

            /// The finished family.
            pub fn into_family(self) -> MetricFamily {
                self.0.family
            }
        }

        impl From<$ty> for MetricFamily {
            fn from(f: $ty) -> MetricFamily {
                f.0.family
            }
        }

        impl AsRef<MetricFamily> for $ty {
            fn as_ref(&self) -> &MetricFamily {
                &self.0.family
            }
        }

        impl Collector for $ty {
            fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
                self.0.family.collect(sink)
            }
            fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
                self.0.family.describe(sink)
            }
        }
    };
}

/// `with_unit` for the types that may have a unit.
macro_rules! unit {
    ($ty:ident) => {
        impl $ty {
            /// Sets the unit and appends `_<unit>` to the name unless it already ends with it.
            pub fn with_unit(mut self, unit: &str) -> Result<Self, FamilyError> {
                self.0.set_unit(unit)?;
                Ok(self)
            }
        }
    };
}

/// A counter family: `name_total` and, when a creation time is given, `name_created` per child.
///
/// ```
/// use promstack_alloc::CounterMetricFamily;
/// use promstack_core::encode_openmetrics;
///
/// let mut c = CounterMetricFamily::new("http_requests_total", "Requests.").unwrap()
///     .with_labels(&["code"]).unwrap();
/// c.add_metric(&["200"], 1027.0, Some(1_600_000_000.0), None).unwrap();
/// let out = encode_openmetrics(Vec::new(), &c).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "# HELP http_requests Requests.\n# TYPE http_requests counter\n\
///     http_requests_total{code=\"200\"} 1027.0\n\
///     http_requests_created{code=\"200\"} 1600000000.0\n# EOF\n");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CounterMetricFamily(Inner);

impl CounterMetricFamily {
    /// A counter family with no samples; a trailing `_total` is removed from `name`.
    pub fn new(name: &str, help: &str) -> Result<Self, FamilyError> {
        Ok(CounterMetricFamily(Inner::new(name, help, MetricType::Counter)?))
    }

    /// A counter family with one unlabeled value.
    pub fn with_value(name: &str, help: &str, value: f64) -> Result<Self, FamilyError> {
        let mut f = CounterMetricFamily::new(name, help)?;
        f.add_metric(&[], value, None, None)?;
        Ok(f)
    }

    /// Adds a child: `_total` with `value`, then `_created` when `created` (unix seconds) is given.
    pub fn add_metric(
        &mut self,
        label_values: &[&str],
        value: f64,
        created: Option<f64>,
        timestamp: Option<f64>,
    ) -> Result<&mut Self, FamilyError> {
        self.add_metric_with_exemplar(label_values, value, created, timestamp, None)
    }

    /// [`add_metric`](Self::add_metric) with an exemplar on the `_total` sample (OpenMetrics
    /// only; text 0.0.4 drops it).
    ///
    /// ```
    /// use promstack_alloc::{CounterMetricFamily, OwnedExemplar};
    /// use promstack_core::encode_openmetrics;
    ///
    /// let mut c = CounterMetricFamily::new("jobs", "Jobs.").unwrap();
    /// let ex = OwnedExemplar::new(&[("trace_id", "abc")], 1.0).with_timestamp(1_600_000_000.5);
    /// c.add_metric_with_exemplar(&[], 3.0, None, None, Some(ex)).unwrap();
    /// let out = encode_openmetrics(Vec::new(), &c).unwrap();
    /// assert_eq!(String::from_utf8(out).unwrap(), "# HELP jobs Jobs.\n# TYPE jobs counter\n\
    ///     jobs_total 3.0 # {trace_id=\"abc\"} 1.0 1600000000.5\n# EOF\n");
    /// ```
    pub fn add_metric_with_exemplar(
        &mut self,
        label_values: &[&str],
        value: f64,
        created: Option<f64>,
        timestamp: Option<f64>,
        exemplar: Option<OwnedExemplar>,
    ) -> Result<&mut Self, FamilyError> {
        let labels = self.0.pairs(label_values)?;
        if let Some(created) = created {
            self.0.push("_total", labels.clone(), value, timestamp, exemplar);
            self.0.push("_created", labels, created, timestamp, None);
        } else {
            self.0.push("_total", labels, value, timestamp, exemplar);
        }
        Ok(self)
    }

    fn check_label_names(&self, _names: &[&str]) -> Result<(), FamilyError> {
        Ok(())
    }
}
common!(CounterMetricFamily);
unit!(CounterMetricFamily);

/// A gauge family: one `name` sample per child.
///
/// ```
/// use promstack_alloc::GaugeMetricFamily;
/// let g = GaugeMetricFamily::with_value("temperature_celsius", "Temperature.", 21.5).unwrap();
/// assert_eq!(g.family().get_sample_value("temperature_celsius", &[]), Some(21.5));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeMetricFamily(Inner);

impl GaugeMetricFamily {
    /// A gauge family with no samples.
    pub fn new(name: &str, help: &str) -> Result<Self, FamilyError> {
        Ok(GaugeMetricFamily(Inner::new(name, help, MetricType::Gauge)?))
    }

    /// A gauge family with one unlabeled value.
    pub fn with_value(name: &str, help: &str, value: f64) -> Result<Self, FamilyError> {
        let mut f = GaugeMetricFamily::new(name, help)?;
        f.add_metric(&[], value, None)?;
        Ok(f)
    }

    /// Adds a child with `value`.
    pub fn add_metric(
        &mut self,
        label_values: &[&str],
        value: f64,
        timestamp: Option<f64>,
    ) -> Result<&mut Self, FamilyError> {
        let labels = self.0.pairs(label_values)?;
        self.0.push("", labels, value, timestamp, None);
        Ok(self)
    }

    fn check_label_names(&self, _names: &[&str]) -> Result<(), FamilyError> {
        Ok(())
    }
}
common!(GaugeMetricFamily);
unit!(GaugeMetricFamily);

/// An unknown-type family (`untyped` in text 0.0.4): one `name` sample per child.
///
/// ```
/// use promstack_alloc::UnknownMetricFamily;
/// let mut u = UnknownMetricFamily::new("legacy", "Imported.").unwrap().with_labels(&["a"]).unwrap();
/// u.add_metric(&["b"], 2.0, None).unwrap();
/// assert_eq!(u.family().get_sample_value("legacy", &[("a", "b")]), Some(2.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownMetricFamily(Inner);

impl UnknownMetricFamily {
    /// An unknown-type family with no samples.
    pub fn new(name: &str, help: &str) -> Result<Self, FamilyError> {
        Ok(UnknownMetricFamily(Inner::new(name, help, MetricType::Unknown)?))
    }

    /// An unknown-type family with one unlabeled value.
    pub fn with_value(name: &str, help: &str, value: f64) -> Result<Self, FamilyError> {
        let mut f = UnknownMetricFamily::new(name, help)?;
        f.add_metric(&[], value, None)?;
        Ok(f)
    }

    /// Adds a child with `value`.
    pub fn add_metric(
        &mut self,
        label_values: &[&str],
        value: f64,
        timestamp: Option<f64>,
    ) -> Result<&mut Self, FamilyError> {
        let labels = self.0.pairs(label_values)?;
        self.0.push("", labels, value, timestamp, None);
        Ok(self)
    }

    fn check_label_names(&self, _names: &[&str]) -> Result<(), FamilyError> {
        Ok(())
    }
}
common!(UnknownMetricFamily);
unit!(UnknownMetricFamily);

/// A summary family: `name_count` and `name_sum` per child (count and sum always together;
/// no quantiles, as 0.8.0).
///
/// ```
/// use promstack_alloc::SummaryMetricFamily;
/// use promstack_core::encode_text;
/// let mut s = SummaryMetricFamily::new("rpc_seconds", "RPC latency.").unwrap()
///     .with_labels(&["method"]).unwrap();
/// s.add_metric(&["get"], 4.0, 0.75, None).unwrap();
/// let out = encode_text(Vec::new(), &s).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "# HELP rpc_seconds RPC latency.\n# TYPE rpc_seconds summary\n\
///     rpc_seconds_count{method=\"get\"} 4.0\nrpc_seconds_sum{method=\"get\"} 0.75\n");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryMetricFamily(Inner);

impl SummaryMetricFamily {
    /// A summary family with no samples.
    pub fn new(name: &str, help: &str) -> Result<Self, FamilyError> {
        Ok(SummaryMetricFamily(Inner::new(name, help, MetricType::Summary)?))
    }

    /// A summary family with one unlabeled count and sum.
    pub fn with_value(name: &str, help: &str, count: f64, sum: f64) -> Result<Self, FamilyError> {
        let mut f = SummaryMetricFamily::new(name, help)?;
        f.add_metric(&[], count, sum, None)?;
        Ok(f)
    }

    /// Adds a child: `_count` then `_sum`.
    pub fn add_metric(
        &mut self,
        label_values: &[&str],
        count: f64,
        sum: f64,
        timestamp: Option<f64>,
    ) -> Result<&mut Self, FamilyError> {
        let labels = self.0.pairs(label_values)?;
        self.0.push("_count", labels.clone(), count, timestamp, None);
        self.0.push("_sum", labels, sum, timestamp, None);
        Ok(self)
    }

    fn check_label_names(&self, _names: &[&str]) -> Result<(), FamilyError> {
        Ok(())
    }
}
common!(SummaryMetricFamily);
unit!(SummaryMetricFamily);

/// One cumulative histogram bucket given to [`HistogramMetricFamily::add_metric`]: upper bound,
/// count of observations `<=` it, and an optional exemplar.
///
/// ```
/// use promstack_alloc::{Bucket, OwnedExemplar};
/// let plain: Bucket = (0.5, 3.0).into();
/// let traced = Bucket::new(f64::INFINITY, 4.0)
///     .with_exemplar(OwnedExemplar::new(&[("trace_id", "x")], 7.0));
/// assert_eq!(plain.le, 0.5);
/// assert!(traced.exemplar.is_some());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Upper bound (`le`), written as Python's `floatToGoString` writes it.
    pub le: f64,
    /// Cumulative count.
    pub count: f64,
    /// An exemplar for this bucket.
    pub exemplar: Option<OwnedExemplar>,
}

impl Bucket {
    /// A bucket with no exemplar.
    pub fn new(le: f64, count: f64) -> Self {
        Bucket { le, count, exemplar: None }
    }

    /// Sets the exemplar.
    pub fn with_exemplar(mut self, exemplar: OwnedExemplar) -> Self {
        self.exemplar = Some(exemplar);
        self
    }
}

impl From<(f64, f64)> for Bucket {
    fn from((le, count): (f64, f64)) -> Self {
        Bucket::new(le, count)
    }
}

impl From<(f64, f64, OwnedExemplar)> for Bucket {
    fn from((le, count, exemplar): (f64, f64, OwnedExemplar)) -> Self {
        Bucket::new(le, count).with_exemplar(exemplar)
    }
}

/// Collects and checks buckets: at least one, bounds strictly ascending, the last `+Inf`.
fn collect_buckets<B: Into<Bucket>>(
    family: &str,
    given: impl IntoIterator<Item = B>,
) -> Result<Vec<Bucket>, FamilyError> {
    let buckets: Vec<Bucket> = given.into_iter().map(Into::into).collect();
    let bad = |reason| Err(FamilyError::InvalidBuckets { family: String::from(family), reason });
    if buckets.iter().any(|b| b.le.is_nan()) {
        return bad("a bound is NaN");
    }
    if buckets.windows(2).any(|w| w[0].le >= w[1].le) {
        return bad("bounds must be sorted strictly ascending");
    }
    match buckets.last() {
        None => bad("at least the +Inf bucket is required"),
        Some(b) if b.le != f64::INFINITY => bad("the last bucket must be +Inf"),
        Some(_) => Ok(buckets),
    }
}

/// Pushes one `_bucket` sample per bucket, `le` spelled as Python's `floatToGoString`.
fn push_buckets(
    inner: &mut Inner,
    labels: &[(String, String)],
    buckets: Vec<Bucket>,
    timestamp: Option<f64>,
) {
    for b in buckets {
        let mut le = [0u8; FLOAT_BUF];
        let mut l = labels.to_vec();
        l.push((String::from("le"), String::from(go_float(b.le, &mut le))));
        inner.push("_bucket", l, b.count, timestamp, b.exemplar);
    }
}

/// A histogram family from cumulative buckets: `name_bucket{le=...}` per bucket, then
/// `name_count` (the `+Inf` count) and `name_sum` when a sum is given and no bucket bound is
/// negative (OpenMetrics wants both or neither, as Python 0.26 writes them).
///
/// ```
/// use promstack_alloc::HistogramMetricFamily;
/// use promstack_core::encode_text;
/// let h = HistogramMetricFamily::with_buckets(
///     "latency_seconds", "Handler latency.", [(0.5, 1.0), (f64::INFINITY, 2.0)], Some(7.2),
/// ).unwrap();
/// let out = encode_text(Vec::new(), &h).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "# HELP latency_seconds Handler latency.\n# TYPE latency_seconds histogram\n\
///     latency_seconds_bucket{le=\"0.5\"} 1.0\nlatency_seconds_bucket{le=\"+Inf\"} 2.0\n\
///     latency_seconds_count 2.0\nlatency_seconds_sum 7.2\n");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramMetricFamily(Inner);

impl HistogramMetricFamily {
    /// A histogram family with no samples.
    pub fn new(name: &str, help: &str) -> Result<Self, FamilyError> {
        Ok(HistogramMetricFamily(Inner::new(name, help, MetricType::Histogram)?))
    }

    /// A histogram family with one unlabeled set of buckets.
    pub fn with_buckets<B: Into<Bucket>>(
        name: &str,
        help: &str,
        buckets: impl IntoIterator<Item = B>,
        sum: Option<f64>,
    ) -> Result<Self, FamilyError> {
        let mut f = HistogramMetricFamily::new(name, help)?;
        f.add_metric(&[], buckets, sum, None)?;
        Ok(f)
    }

    /// Adds a child from cumulative buckets (sorted, ending with `+Inf`) and an optional sum.
    pub fn add_metric<B: Into<Bucket>>(
        &mut self,
        label_values: &[&str],
        buckets: impl IntoIterator<Item = B>,
        sum: Option<f64>,
        timestamp: Option<f64>,
    ) -> Result<&mut Self, FamilyError> {
        let labels = self.0.pairs(label_values)?;
        let buckets = collect_buckets(&self.0.family.name, buckets)?;
        let count = buckets.last().map_or(0.0, |b| b.count);
        // A sum is meaningless when observations can be negative (0.8.0 drops it then), and
        // `_count` comes only with `_sum`.
        let first_le = buckets.first().map_or(0.0, |b| b.le);
        push_buckets(&mut self.0, &labels, buckets, timestamp);
        if let Some(sum) = sum.filter(|_| first_le >= 0.0) {
            self.0.push("_count", labels.clone(), count, timestamp, None);
            self.0.push("_sum", labels, sum, timestamp, None);
        }
        Ok(self)
    }

    fn check_label_names(&self, _names: &[&str]) -> Result<(), FamilyError> {
        Ok(())
    }
}
common!(HistogramMetricFamily);
unit!(HistogramMetricFamily);

/// A gauge histogram family: `name_bucket{le=...}` per bucket, then `name_gcount` (the `+Inf`
/// count) and `name_gsum` when a sum is given (OpenMetrics wants both or neither).
///
/// ```
/// use promstack_alloc::GaugeHistogramMetricFamily;
/// use promstack_core::encode_openmetrics;
/// let gh = GaugeHistogramMetricFamily::with_buckets(
///     "gh", "help", [(1.0, 4.0), (f64::INFINITY, 5.0)], Some(7.0),
/// ).unwrap();
/// let out = encode_openmetrics(Vec::new(), &gh).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "# HELP gh help\n# TYPE gh gaugehistogram\n\
///     gh_bucket{le=\"1.0\"} 4.0\ngh_bucket{le=\"+Inf\"} 5.0\ngh_gcount 5.0\ngh_gsum 7.0\n# EOF\n");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeHistogramMetricFamily(Inner);

impl GaugeHistogramMetricFamily {
    /// A gauge histogram family with no samples.
    pub fn new(name: &str, help: &str) -> Result<Self, FamilyError> {
        Ok(GaugeHistogramMetricFamily(Inner::new(name, help, MetricType::GaugeHistogram)?))
    }

    /// A gauge histogram family with one unlabeled set of buckets.
    pub fn with_buckets<B: Into<Bucket>>(
        name: &str,
        help: &str,
        buckets: impl IntoIterator<Item = B>,
        gsum: Option<f64>,
    ) -> Result<Self, FamilyError> {
        let mut f = GaugeHistogramMetricFamily::new(name, help)?;
        f.add_metric(&[], buckets, gsum, None)?;
        Ok(f)
    }

    /// Adds a child from cumulative buckets (sorted, ending with `+Inf`) and an optional sum.
    pub fn add_metric<B: Into<Bucket>>(
        &mut self,
        label_values: &[&str],
        buckets: impl IntoIterator<Item = B>,
        gsum: Option<f64>,
        timestamp: Option<f64>,
    ) -> Result<&mut Self, FamilyError> {
        let labels = self.0.pairs(label_values)?;
        let buckets = collect_buckets(&self.0.family.name, buckets)?;
        let count = buckets.last().map_or(0.0, |b| b.count);
        push_buckets(&mut self.0, &labels, buckets, timestamp);
        if let Some(gsum) = gsum {
            self.0.push("_gcount", labels.clone(), count, timestamp, None);
            self.0.push("_gsum", labels, gsum, timestamp, None);
        }
        Ok(self)
    }

    fn check_label_names(&self, _names: &[&str]) -> Result<(), FamilyError> {
        Ok(())
    }
}
common!(GaugeHistogramMetricFamily);
unit!(GaugeHistogramMetricFamily);

/// An info family: one `name_info{labels..., pairs...} 1` sample per child. No unit.
///
/// ```
/// use promstack_alloc::InfoMetricFamily;
/// use promstack_core::encode_text;
/// let i = InfoMetricFamily::with_value("build", "Build.", &[("version", "1.2")]).unwrap();
/// let out = encode_text(Vec::new(), &i).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(),
///     "# HELP build_info Build.\n# TYPE build_info gauge\nbuild_info{version=\"1.2\"} 1.0\n");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InfoMetricFamily(Inner);

impl InfoMetricFamily {
    /// An info family with no samples.
    pub fn new(name: &str, help: &str) -> Result<Self, FamilyError> {
        Ok(InfoMetricFamily(Inner::new(name, help, MetricType::Info)?))
    }

    /// An info family with one unlabeled set of pairs.
    pub fn with_value(name: &str, help: &str, pairs: &[(&str, &str)]) -> Result<Self, FamilyError> {
        let mut f = InfoMetricFamily::new(name, help)?;
        f.add_metric(&[], pairs, None)?;
        Ok(f)
    }

    /// Adds a child whose info `pairs` follow its label values. A pair name may not repeat a
    /// label name.
    pub fn add_metric(
        &mut self,
        label_values: &[&str],
        pairs: &[(&str, &str)],
        timestamp: Option<f64>,
    ) -> Result<&mut Self, FamilyError> {
        let mut labels = self.0.pairs(label_values)?;
        let names: Vec<&str> = pairs.iter().map(|(n, _)| *n).collect();
        check_label_names(&names, MetricType::Info)?;
        if let Some(n) = names.iter().find(|n| self.0.label_names.iter().any(|l| l == *n)) {
            return Err(self.0.overlap(n));
        }
        labels.extend(pairs.iter().map(|(n, v)| (String::from(*n), String::from(*v))));
        self.0.push("_info", labels, 1.0, timestamp, None);
        Ok(self)
    }

    fn check_label_names(&self, _names: &[&str]) -> Result<(), FamilyError> {
        Ok(())
    }
}
common!(InfoMetricFamily);

/// A stateset family: one `name{labels..., name="state"} 1|0` sample per state, states sorted by
/// name (as 0.8.0). The family name is the state label's name, so it must be a valid label name.
/// No unit.
///
/// ```
/// use promstack_alloc::StateSetMetricFamily;
/// use promstack_core::encode_openmetrics;
/// let s = StateSetMetricFamily::with_value("mode", "Mode.", &[("on", true), ("off", false)]).unwrap();
/// let out = encode_openmetrics(Vec::new(), &s).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "# HELP mode Mode.\n# TYPE mode stateset\n\
///     mode{mode=\"off\"} 0.0\nmode{mode=\"on\"} 1.0\n# EOF\n");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StateSetMetricFamily(Inner);

impl StateSetMetricFamily {
    /// A stateset family with no samples.
    pub fn new(name: &str, help: &str) -> Result<Self, FamilyError> {
        let inner = Inner::new(name, help, MetricType::StateSet)?;
        if !is_valid_label_name(&inner.family.name) {
            return Err(FamilyError::Desc(DescError::InvalidLabelName(BoundedStr::new(&inner.family.name))));
        }
        Ok(StateSetMetricFamily(inner))
    }

    /// A stateset family with one unlabeled set of states.
    pub fn with_value(name: &str, help: &str, states: &[(&str, bool)]) -> Result<Self, FamilyError> {
        let mut f = StateSetMetricFamily::new(name, help)?;
        f.add_metric(&[], states, None)?;
        Ok(f)
    }

    /// Adds a child: one sample per state, 1 when enabled, 0 otherwise.
    pub fn add_metric(
        &mut self,
        label_values: &[&str],
        states: &[(&str, bool)],
        timestamp: Option<f64>,
    ) -> Result<&mut Self, FamilyError> {
        let labels = self.0.pairs(label_values)?;
        let mut sorted: Vec<(&str, bool)> = states.to_vec();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        if let Some(w) = sorted.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(FamilyError::DuplicateState {
                family: self.0.family.name.clone(),
                state: String::from(w[0].0),
            });
        }
        for (state, on) in sorted {
            let mut l = labels.clone();
            l.push((self.0.family.name.clone(), String::from(state)));
            self.0.push("", l, if on { 1.0 } else { 0.0 }, timestamp, None);
        }
        Ok(self)
    }

    fn check_label_names(&self, names: &[&str]) -> Result<(), FamilyError> {
        match names.iter().find(|n| **n == self.0.family.name) {
            Some(n) => Err(self.0.overlap(n)),
            None => Ok(()),
        }
    }
}
common!(StateSetMetricFamily);
