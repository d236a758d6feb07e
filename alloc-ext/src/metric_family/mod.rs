//! Owned metric families: what custom collectors build and what the parsers return.
//!
//! A [`MetricFamily`] owns its name, help, unit, type and samples. It implements core's
//! [`Collector`], so the same streaming encoders write it as they write every other metric. The
//! typed constructors ([`CounterMetricFamily`], [`HistogramMetricFamily`], ...) mirror Python
//! `prometheus_client` 0.8.0's `*MetricFamily` classes and produce exactly the samples those
//! produce; [`CustomCollector`] turns a closure returning families into a collector.

mod custom;
mod error;
mod typed;

pub use custom::CustomCollector;
pub use error::FamilyError;
pub use typed::{
    Bucket, CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily, HistogramMetricFamily,
    InfoMetricFamily, StateSetMetricFamily, SummaryMetricFamily, UnknownMetricFamily,
};

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use promstack_core::{
    check_metric_name, strip_counter_total, CollectError, Collector, Desc, Exemplar, Labels, MetricType,
    Sample, Sink, Timestamp, Value,
};

/// An exemplar owned by an [`OwnedSample`]: labels (e.g. a trace id), value, optional timestamp.
///
/// ```
/// use promstack_alloc::OwnedExemplar;
/// use promstack_core::Timestamp;
/// let ex = OwnedExemplar::new(&[("trace_id", "abc")], 0.43).with_timestamp(1_600_000_000.5);
/// assert_eq!(ex.labels, [("trace_id".to_string(), "abc".to_string())]);
/// assert_eq!(ex.timestamp, Some(Timestamp::from_millis(1_600_000_000_500)));
/// ```
#[derive(Debug, Clone)]
pub struct OwnedExemplar {
    /// Label pairs in the order given.
    pub labels: Vec<(String, String)>,
    /// The observed value.
    pub value: f64,
    /// When it was observed, if known.
    pub timestamp: Option<Timestamp>,
}

impl OwnedExemplar {
    /// An exemplar with these label pairs and value and no timestamp.
    pub fn new(labels: &[(&str, &str)], value: f64) -> Self {
        OwnedExemplar { labels: owned_pairs(labels), value, timestamp: None }
    }

    /// Sets the timestamp (unix seconds as an `f64`, or an exact [`Timestamp`]).
    pub fn with_timestamp(mut self, timestamp: impl Into<Timestamp>) -> Self {
        self.timestamp = Some(timestamp.into());
        self
    }
}

/// Label sets compare as sets (order does not matter, as Python's label dicts); `NaN` equals
/// `NaN` so parsed families compare equal to the expected ones.
impl PartialEq for OwnedExemplar {
    fn eq(&self, other: &Self) -> bool {
        same_labels(&self.labels, &other.labels)
            && same_f64(self.value, other.value)
            && same_timestamp(self.timestamp, other.timestamp)
    }
}

/// One sample of a [`MetricFamily`], owning its labels.
///
/// The sample's full name is the family's name followed by `suffix` (`""`, `_total`,
/// `_created`, `_bucket`, `_count`, `_sum`, `_gcount`, `_gsum`, `_info`), which is exactly what
/// core's [`Sample::suffix`] means.
///
/// ```
/// use promstack_alloc::OwnedSample;
/// let s = OwnedSample::new("_bucket", &[("le", "0.5")], 3.0).with_timestamp(12.0);
/// assert_eq!(s.timestamp.map(|t| t.as_secs_f64()), Some(12.0));
/// assert_eq!(s.label("le"), Some("0.5"));
/// // Equality ignores label order.
/// let a = OwnedSample::new("", &[("a", "1"), ("b", "2")], 1.0);
/// assert_eq!(a, OwnedSample::new("", &[("b", "2"), ("a", "1")], 1.0));
/// ```
#[derive(Debug, Clone)]
pub struct OwnedSample {
    /// Appended to the family name to form the sample name.
    pub suffix: Cow<'static, str>,
    /// Label pairs in the order given (encoders sort them by name).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// When the value was taken, if the sample carries a time (kept exactly as parsed).
    pub timestamp: Option<Timestamp>,
    /// An exemplar (OpenMetrics; core's encoders write one on histogram buckets and counter
    /// `_total` samples only).
    pub exemplar: Option<OwnedExemplar>,
}

impl OwnedSample {
    /// A sample with no timestamp and no exemplar.
    pub fn new(suffix: impl Into<Cow<'static, str>>, labels: &[(&str, &str)], value: f64) -> Self {
        OwnedSample {
            suffix: suffix.into(),
            labels: owned_pairs(labels),
            value,
            timestamp: None,
            exemplar: None,
        }
    }

    /// Sets the timestamp (unix seconds as an `f64`, or an exact [`Timestamp`]).
    pub fn with_timestamp(mut self, timestamp: impl Into<Timestamp>) -> Self {
        self.timestamp = Some(timestamp.into());
        self
    }

    /// Sets the exemplar.
    pub fn with_exemplar(mut self, exemplar: OwnedExemplar) -> Self {
        self.exemplar = Some(exemplar);
        self
    }

    /// The value of label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Label sets compare as sets (order does not matter, as Python's label dicts); `NaN` equals
/// `NaN` so parsed families compare equal to the expected ones.
impl PartialEq for OwnedSample {
    fn eq(&self, other: &Self) -> bool {
        self.suffix == other.suffix
            && same_labels(&self.labels, &other.labels)
            && same_f64(self.value, other.value)
            && same_timestamp(self.timestamp, other.timestamp)
            && self.exemplar == other.exemplar
    }
}

fn owned_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (String::from(*n), String::from(*v))).collect()
}

fn same_labels(a: &[(String, String)], b: &[(String, String)]) -> bool {
    a.len() == b.len() && a.iter().all(|p| b.contains(p)) && b.iter().all(|p| a.contains(p))
}

fn same_f64(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn same_timestamp(a: Option<Timestamp>, b: Option<Timestamp>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || (a.as_secs_f64().is_nan() && b.as_secs_f64().is_nan()),
        (None, None) => true,
        _ => false,
    }
}

/// A metric family that owns everything: name, help, unit, type and samples.
///
/// Build one with a typed constructor ([`CounterMetricFamily`], [`GaugeMetricFamily`], ...),
/// get them from [`parse_text`](crate::parse_text) / [`parse_openmetrics`](crate::parse_openmetrics),
/// or assemble one sample by sample with [`MetricFamily::new`] and [`MetricFamily::add_sample`].
/// It is a [`Collector`], so core's encoders write it; a slice of families is one too
/// (`encode_text(w, &families.as_slice())`), and [`CustomCollector`] reports the families a
/// closure returns at each scrape.
///
/// ```
/// use promstack_alloc::{MetricFamily, OwnedSample};
/// use promstack_core::{encode_text, MetricType};
///
/// let mut f = MetricFamily::new("queue_depth", "Jobs waiting.", MetricType::Gauge).unwrap();
/// f.add_sample(OwnedSample::new("", &[("queue", "mail")], 4.0));
/// let out = encode_text(Vec::new(), &f).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "# HELP queue_depth Jobs waiting.\n# TYPE queue_depth gauge\nqueue_depth{queue=\"mail\"} 4.0\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    // Crate-visible so the parsers can fill a family in place; every public way in checks.
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: String,
    pub(crate) metric_type: MetricType,
    pub(crate) samples: Vec<OwnedSample>,
}

impl MetricFamily {
    /// An empty family. A counter's name loses a trailing `_total` (it is added back to the
    /// samples). Fails on an invalid metric name.
    pub fn new(name: &str, help: &str, metric_type: MetricType) -> Result<Self, FamilyError> {
        let name = strip_counter_total(name, metric_type);
        check_metric_name(name)?;
        Ok(MetricFamily::unchecked(String::from(name), String::from(help), metric_type))
    }

    /// A family whose name the caller has already validated (the parsers).
    pub(crate) fn unchecked(name: String, help: String, metric_type: MetricType) -> Self {
        MetricFamily { name, help, unit: String::new(), metric_type, samples: Vec::new() }
    }

    /// Sets the unit, appending `_<unit>` to the name unless it already ends with it (as Python's
    /// `Metric` does). Info and StateSet families cannot have a unit. An empty unit removes it.
    pub fn with_unit(mut self, unit: &str) -> Result<Self, FamilyError> {
        if unit.is_empty() {
            self.unit.clear();
            return Ok(self);
        }
        let mut name = self.name.clone();
        let ends_with_unit = name.len() > unit.len()
            && name.ends_with(unit)
            && name.as_bytes()[name.len() - unit.len() - 1] == b'_';
        if !ends_with_unit {
            name.push('_');
            name.push_str(unit);
        }
        // Core's rules: unit characters, type, and the name suffix (true by construction now).
        Desc { name: &name, help: "", unit: "", metric_type: self.metric_type }.try_with_unit(unit)?;
        check_metric_name(&name)?;
        self.name = name;
        self.unit = String::from(unit);
        Ok(self)
    }

    /// Appends a sample as it is, like Python's `Metric.add_sample`: nothing is checked, so the
    /// caller keeps the family consistent (suffixes that fit the type, `le` labels on buckets...).
    pub fn add_sample(&mut self, sample: OwnedSample) -> &mut Self {
        self.samples.push(sample);
        self
    }

    /// The family name (counters: without `_total`; with `_<unit>` when a unit is set).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The help text, unescaped.
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The unit, `""` when none.
    pub fn unit(&self) -> &str {
        &self.unit
    }

    /// The metric type.
    pub fn metric_type(&self) -> MetricType {
        self.metric_type
    }

    /// The samples in the order they were added or parsed.
    pub fn samples(&self) -> &[OwnedSample] {
        &self.samples
    }

    /// Takes the samples out.
    pub fn into_samples(self) -> Vec<OwnedSample> {
        self.samples
    }

    /// The full name of `sample` in this family: the family name followed by its suffix.
    pub fn sample_name(&self, sample: &OwnedSample) -> String {
        let mut s = self.name.clone();
        s.push_str(&sample.suffix);
        s
    }

    /// The value of the sample named `name` (full name) with exactly these labels, like Python's
    /// `registry.get_sample_value`.
    ///
    /// ```
    /// use promstack_alloc::SummaryMetricFamily;
    /// let s = SummaryMetricFamily::with_value("rpc_seconds", "RPC latency.", 3.0, 0.6).unwrap();
    /// assert_eq!(s.family().get_sample_value("rpc_seconds_count", &[]), Some(3.0));
    /// ```
    pub fn get_sample_value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let suffix = name.strip_prefix(self.name.as_str())?;
        self.samples
            .iter()
            .find(|s| {
                s.suffix == suffix
                    && s.labels.len() == labels.len()
                    && labels.iter().all(|(n, v)| s.label(n) == Some(*v))
            })
            .map(|s| s.value)
    }

    /// The family's description, borrowed.
    pub fn desc(&self) -> Desc<'_> {
        Desc { name: &self.name, help: &self.help, unit: &self.unit, metric_type: self.metric_type }
    }
}

impl Collector for MetricFamily {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = self.desc();
        sink.family(&desc)?;
        // Core's `Labels` borrows parallel slices of `&str`; these buffers are reused for every
        // sample so a scrape allocates them once per family, not once per sample.
        let mut names: Vec<&str> = Vec::new();
        let mut values: Vec<&str> = Vec::new();
        let mut ex_names: Vec<&str> = Vec::new();
        let mut ex_values: Vec<&str> = Vec::new();
        for s in &self.samples {
            split_pairs(&s.labels, &mut names, &mut values);
            let exemplar = match &s.exemplar {
                Some(ex) => {
                    split_pairs(&ex.labels, &mut ex_names, &mut ex_values);
                    Some(Exemplar {
                        labels: Labels::new(&ex_names, &ex_values),
                        value: ex.value,
                        timestamp: ex.timestamp,
                    })
                }
                None => None,
            };
            let sample = Sample {
                suffix: &s.suffix,
                labels: Labels::new(&names, &values),
                value: Value::Float(s.value),
                timestamp: s.timestamp,
                exemplar,
            };
            sink.sample(&desc, &sample)?;
        }
        Ok(())
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.desc())
    }
}

fn split_pairs<'a>(pairs: &'a [(String, String)], names: &mut Vec<&'a str>, values: &mut Vec<&'a str>) {
    names.clear();
    values.clear();
    for (n, v) in pairs {
        names.push(n);
        values.push(v);
    }
}

#[cfg(test)]
mod tests;
