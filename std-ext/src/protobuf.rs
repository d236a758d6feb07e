//! The protobuf exposition format: `io.prometheus.client.MetricFamily` messages, each after its
//! varint length, as client_golang writes them. It is the only format that carries native
//! histograms; Prometheus asks for it first when started with
//! `--enable-feature=native-histograms`, and [`MetricsService`](crate::http::MetricsService)
//! serves it when the `Accept` header asks for it (see [`accepts_protobuf`]).
//!
//! The messages are declared here with `prost`'s derive (no `protoc` at build time), fields in
//! field-number order so that the bytes match Go's encoder: proto2 optional fields are set
//! explicitly where client_golang sets them, repeated numbers are unpacked.
//!
//! ```
//! use promstack::{Counter, protobuf::{encode_protobuf, messages::MetricFamily}};
//! use prost::Message;
//! static HITS: Counter = Counter::new("hits", "Cache hits.");
//! HITS.inc();
//! let mut out = Vec::new();
//! encode_protobuf(&HITS, &mut out).unwrap();
//! let family = MetricFamily::decode_length_delimited(&out[..]).unwrap();
//! assert_eq!(family.name.as_deref(), Some("hits_total"));
//! assert_eq!(family.metric[0].counter.as_ref().unwrap().value, Some(1.0));
//! ```

use promstack_core::{
    is_valid_label_name, is_valid_metric_name, BoundedStr, CollectError, Collector, Desc, DescError,
    EncodeError, Exemplar, Labels, MetricType, NameFilter, NameSet, NativeHistogramPoint, Sample, Sink,
    Timestamp, Value,
};
use std::convert::Infallible;

/// `Content-Type` of the delimited protobuf exposition.
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// The `io.prometheus.client` messages (client_model's `metrics.proto`) and
/// `google.protobuf.Timestamp`.
pub mod messages {
    #![allow(missing_docs)]
    /// Metric types, as numbered in `metrics.proto`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum MetricType {
        Counter = 0,
        Gauge = 1,
        Summary = 2,
        Untyped = 3,
        Histogram = 4,
        GaugeHistogram = 5,
    }

    /// `google.protobuf.Timestamp`.
    #[derive(Clone, Copy, PartialEq, prost::Message)]
    pub struct Timestamp {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LabelPair {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(string, optional, tag = "2")]
        pub value: Option<String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Gauge {
        #[prost(double, optional, tag = "1")]
        pub value: Option<f64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Counter {
        #[prost(double, optional, tag = "1")]
        pub value: Option<f64>,
        #[prost(message, optional, tag = "2")]
        pub exemplar: Option<Exemplar>,
        #[prost(message, optional, tag = "3")]
        pub created_timestamp: Option<Timestamp>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Quantile {
        #[prost(double, optional, tag = "1")]
        pub quantile: Option<f64>,
        #[prost(double, optional, tag = "2")]
        pub value: Option<f64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Summary {
        #[prost(uint64, optional, tag = "1")]
        pub sample_count: Option<u64>,
        #[prost(double, optional, tag = "2")]
        pub sample_sum: Option<f64>,
        #[prost(message, repeated, tag = "3")]
        pub quantile: Vec<Quantile>,
        #[prost(message, optional, tag = "4")]
        pub created_timestamp: Option<Timestamp>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Untyped {
        #[prost(double, optional, tag = "1")]
        pub value: Option<f64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Histogram {
        #[prost(uint64, optional, tag = "1")]
        pub sample_count: Option<u64>,
        #[prost(double, optional, tag = "2")]
        pub sample_sum: Option<f64>,
        #[prost(message, repeated, tag = "3")]
        pub bucket: Vec<Bucket>,
        #[prost(double, optional, tag = "4")]
        pub sample_count_float: Option<f64>,
        #[prost(sint32, optional, tag = "5")]
        pub schema: Option<i32>,
        #[prost(double, optional, tag = "6")]
        pub zero_threshold: Option<f64>,
        #[prost(uint64, optional, tag = "7")]
        pub zero_count: Option<u64>,
        #[prost(double, optional, tag = "8")]
        pub zero_count_float: Option<f64>,
        #[prost(message, repeated, tag = "9")]
        pub negative_span: Vec<BucketSpan>,
        #[prost(sint64, repeated, packed = "false", tag = "10")]
        pub negative_delta: Vec<i64>,
        #[prost(double, repeated, packed = "false", tag = "11")]
        pub negative_count: Vec<f64>,
        #[prost(message, repeated, tag = "12")]
        pub positive_span: Vec<BucketSpan>,
        #[prost(sint64, repeated, packed = "false", tag = "13")]
        pub positive_delta: Vec<i64>,
        #[prost(double, repeated, packed = "false", tag = "14")]
        pub positive_count: Vec<f64>,
        #[prost(message, optional, tag = "15")]
        pub created_timestamp: Option<Timestamp>,
        #[prost(message, repeated, tag = "16")]
        pub exemplars: Vec<Exemplar>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Bucket {
        #[prost(uint64, optional, tag = "1")]
        pub cumulative_count: Option<u64>,
        #[prost(double, optional, tag = "2")]
        pub upper_bound: Option<f64>,
        #[prost(message, optional, tag = "3")]
        pub exemplar: Option<Exemplar>,
        #[prost(double, optional, tag = "4")]
        pub cumulative_count_float: Option<f64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct BucketSpan {
        #[prost(sint32, optional, tag = "1")]
        pub offset: Option<i32>,
        #[prost(uint32, optional, tag = "2")]
        pub length: Option<u32>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Exemplar {
        #[prost(message, repeated, tag = "1")]
        pub label: Vec<LabelPair>,
        #[prost(double, optional, tag = "2")]
        pub value: Option<f64>,
        #[prost(message, optional, tag = "3")]
        pub timestamp: Option<Timestamp>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Metric {
        #[prost(message, repeated, tag = "1")]
        pub label: Vec<LabelPair>,
        #[prost(message, optional, tag = "2")]
        pub gauge: Option<Gauge>,
        #[prost(message, optional, tag = "3")]
        pub counter: Option<Counter>,
        #[prost(message, optional, boxed, tag = "4")]
        pub summary: Option<Box<Summary>>,
        #[prost(message, optional, tag = "5")]
        pub untyped: Option<Untyped>,
        #[prost(int64, optional, tag = "6")]
        pub timestamp_ms: Option<i64>,
        #[prost(message, optional, boxed, tag = "7")]
        pub histogram: Option<Box<Histogram>>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct MetricFamily {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(string, optional, tag = "2")]
        pub help: Option<String>,
        #[prost(enumeration = "MetricType", optional, tag = "3")]
        pub r#type: Option<i32>,
        #[prost(message, repeated, tag = "4")]
        pub metric: Vec<Metric>,
        #[prost(string, optional, tag = "5")]
        pub unit: Option<String>,
    }
}

use messages as pb;

/// `true` when an `Accept` header value asks for the delimited `MetricFamily` protobuf at
/// least as much as for any text format (as Prometheus's negotiation: a `q` of 0 refuses it,
/// and `proto=` and `encoding=delimited` must match).
///
/// ```
/// use promstack::protobuf::accepts_protobuf;
/// assert!(accepts_protobuf("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
/// assert!(!accepts_protobuf("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"));
/// assert!(!accepts_protobuf("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"));
/// assert!(!accepts_protobuf("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.2,text/plain"));
/// ```
pub fn accepts_protobuf(accept: &str) -> bool {
    let mut proto_q = 0.0f32;
    let mut other_q = 0.0f32;
    for part in accept.split(',') {
        let mut params = part.split(';');
        let media = params.next().unwrap_or("").trim();
        let (mut q, mut proto, mut delimited) = (1.0f32, false, false);
        for p in params {
            let Some((k, v)) = p.split_once('=') else { continue };
            let (k, v) = (k.trim(), v.trim().trim_matches('"'));
            if k.eq_ignore_ascii_case("q") {
                q = v.parse().unwrap_or(0.0);
            } else if k.eq_ignore_ascii_case("proto") {
                proto = v == "io.prometheus.client.MetricFamily";
            } else if k.eq_ignore_ascii_case("encoding") {
                delimited = v == "delimited";
            }
        }
        if media.eq_ignore_ascii_case("application/vnd.google.protobuf") {
            if proto && delimited {
                proto_q = proto_q.max(q);
            }
        } else if media.eq_ignore_ascii_case("application/openmetrics-text")
            || media.eq_ignore_ascii_case("text/plain")
        {
            other_q = other_q.max(q);
        }
    }
    proto_q > 0.0 && proto_q >= other_q
}

/// Encodes everything `collector` reports as delimited protobuf, appended to `out`.
///
/// Families are sorted by name and each family's metrics by label values, as client_golang's
/// gatherer does; a name reported twice is merged into one family.
///
/// An invalid metric or label name stops the encoding with [`EncodeError::Desc`] naming it, as
/// core's encoders do; a collector's own failure is [`EncodeError::Collect`].
pub fn encode_protobuf(collector: &dyn Collector, out: &mut Vec<u8>) -> Result<(), EncodeError<Infallible>> {
    let mut enc = ProtobufEncoder::new();
    let collected = collector.collect(&mut enc);
    enc.finish_collected(collected, out)
}

/// [`encode_protobuf`] keeping only the samples whose full name is in `names` (the `name[]`
/// filter of a scrape): a native histogram counts as its `_bucket`, `_count` and `_sum`.
pub fn encode_protobuf_filtered(
    collector: &dyn Collector,
    names: &NameSet<'_>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError<Infallible>> {
    let mut enc = ProtobufEncoder::new();
    let collected = collector.collect(&mut NameFilter::new(&mut enc, *names));
    enc.finish_collected(collected, out)
}

/// A [`Sink`] that builds `MetricFamily` messages; [`ProtobufEncoder::finish`] writes them.
#[derive(Debug, Default)]
pub struct ProtobufEncoder {
    families: Vec<pb::MetricFamily>,
    /// The family samples go to now (an index into `families`) and its core type.
    current: Option<(usize, MetricType)>,
    /// Family name to its index in `families`.
    index: std::collections::HashMap<String, usize>,
    /// The invalid name that made this sink refuse ([`CollectError::Sink`]).
    invalid_name: Option<DescError>,
}

impl ProtobufEncoder {
    /// An encoder with nothing collected.
    pub fn new() -> Self {
        Self::default()
    }

    /// The invalid metric or label name this sink refused (it then returned
    /// [`CollectError::Sink`], keeping the cause here, as core's encoders do).
    pub fn invalid_name(&self) -> Option<&DescError> {
        self.invalid_name.as_ref()
    }

    /// [`ProtobufEncoder::finish`] after a collection that returned `collected`.
    fn finish_collected(
        mut self,
        collected: Result<(), CollectError>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError<Infallible>> {
        if let Err(e) = collected {
            return Err(match self.invalid_name.take() {
                Some(bad) => EncodeError::Desc(bad),
                None => EncodeError::Collect(e),
            });
        }
        self.finish(out).map_err(EncodeError::Collect)
    }

    /// Keeps the first invalid label name among `labels` and `exemplar`'s as the cause of a
    /// refusal ([`CollectError::Sink`] from the checks below).
    #[cold]
    fn refused(&mut self, e: CollectError, labels: &Labels<'_>, exemplars: &[&Labels<'_>]) -> CollectError {
        if e == CollectError::Sink && self.invalid_name.is_none() {
            let bad = labels
                .iter()
                .chain(exemplars.iter().flat_map(|l| l.iter()))
                .find(|(n, _)| !is_valid_label_name(n));
            self.invalid_name = bad.map(|(n, _)| DescError::InvalidLabelName(BoundedStr::new(n)));
        }
        e
    }

    /// Sorts and writes every family collected, each after its varint length.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), CollectError> {
        self.families.sort_by(|a, b| a.name.cmp(&b.name));
        for family in &mut self.families {
            let order = |a: &pb::Metric, b: &pb::Metric| {
                let (x, y) =
                    (a.label.iter().map(|l| l.value.as_deref()), b.label.iter().map(|l| l.value.as_deref()));
                x.cmp(y).then(a.timestamp_ms.cmp(&b.timestamp_ms))
            };
            if !family.metric.is_sorted_by(|a, b| order(a, b).is_le()) {
                // Sorting positions moves words instead of whole messages.
                let mut positions: Vec<usize> = (0..family.metric.len()).collect();
                positions
                    .sort_unstable_by(|&i, &j| order(&family.metric[i], &family.metric[j]).then(i.cmp(&j)));
                let mut taken: Vec<Option<pb::Metric>> = family.metric.drain(..).map(Some).collect();
                family.metric.extend(positions.iter().filter_map(|&i| taken[i].take()));
            }
            prost::Message::encode_length_delimited(&*family, out)
                .map_err(|_| CollectError::Failed("protobuf encoding ran out of room"))?;
        }
        Ok(())
    }

    fn family_mut(&mut self) -> Result<(&mut pb::MetricFamily, MetricType), CollectError> {
        match self.current {
            Some((i, t)) => Ok((&mut self.families[i], t)),
            None => Err(CollectError::Failed("a sample was reported before its family")),
        }
    }

    /// The metric `labels` (without the type's own label) belong to: the family's last one if
    /// it has the same labels and `reuse`, else a new one.
    fn metric_for(&mut self, labels: &Labels<'_>, reuse: bool) -> Result<&mut pb::Metric, CollectError> {
        let (family, metric_type) = self.family_mut()?;
        let reserved = metric_type.reserved_label();
        let own = |(n, _): &(&str, &str)| Some(*n) != reserved;
        let same = reuse
            && family.metric.last().is_some_and(|last| {
                let mut theirs = last.label.iter();
                labels.sorted().filter(own).all(|(n, v)| {
                    theirs
                        .next()
                        .is_some_and(|l| l.name.as_deref() == Some(n) && l.value.as_deref() == Some(v))
                }) && theirs.next().is_none()
            });
        if !same {
            let mut label = Vec::with_capacity(labels.len());
            for (n, v) in labels.sorted().filter(own) {
                if !is_valid_label_name(n) {
                    return Err(CollectError::Sink);
                }
                label.push(pb::LabelPair { name: Some(n.to_owned()), value: Some(v.to_owned()) });
            }
            family.metric.push(pb::Metric { label, ..Default::default() });
        }
        family.metric.last_mut().ok_or(CollectError::Sink)
    }
}

fn timestamp(t: Timestamp) -> pb::Timestamp {
    match t.nanos() {
        Some(n) => pb::Timestamp {
            seconds: n.div_euclid(1_000_000_000) as i64,
            nanos: n.rem_euclid(1_000_000_000) as i32,
        },
        None => seconds_timestamp(t.as_secs_f64()),
    }
}

fn seconds_timestamp(secs: f64) -> pb::Timestamp {
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round().min(999_999_999.0);
    pb::Timestamp { seconds: whole as i64, nanos: nanos as i32 }
}

fn exemplar(e: &Exemplar<'_>) -> Result<pb::Exemplar, CollectError> {
    let mut label = Vec::with_capacity(e.labels.len());
    for (n, v) in e.labels.sorted() {
        if !is_valid_label_name(n) {
            return Err(CollectError::Sink);
        }
        label.push(pb::LabelPair { name: Some(n.to_owned()), value: Some(v.to_owned()) });
    }
    Ok(pb::Exemplar { label, value: Some(e.value), timestamp: e.timestamp.map(timestamp) })
}

/// Spans and deltas of sorted `(index, count)` buckets, as client_golang writes them: gaps of
/// up to two buckets are filled with empty ones instead of starting a new span.
pub fn spans_and_deltas(buckets: &[(i32, u64)]) -> (Vec<pb::BucketSpan>, Vec<i64>) {
    let mut spans: Vec<pb::BucketSpan> = Vec::new();
    let mut deltas = Vec::with_capacity(buckets.len());
    let (mut prev, mut next) = (0i64, 0i32);
    for (n, &(index, count)) in buckets.iter().enumerate() {
        let gap = index - next;
        if n == 0 || gap > 2 {
            spans.push(pb::BucketSpan { offset: Some(gap), length: Some(0) });
        } else {
            for _ in 0..gap {
                deltas.push(-prev);
                prev = 0;
                bump(&mut spans);
            }
        }
        deltas.push(count as i64 - prev);
        prev = count as i64;
        bump(&mut spans);
        next = index + 1;
    }
    (spans, deltas)
}

fn bump(spans: &mut [pb::BucketSpan]) {
    if let Some(s) = spans.last_mut() {
        *s.length.get_or_insert(0) += 1;
    }
}

impl Sink for ProtobufEncoder {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        if !is_valid_metric_name(desc.name) {
            self.invalid_name = Some(DescError::InvalidMetricName(BoundedStr::new(desc.name)));
            return Err(CollectError::Sink);
        }
        let (name, kind) = match desc.metric_type {
            // Prometheus takes a counter family's name as the series name.
            MetricType::Counter => (format!("{}_total", desc.name), pb::MetricType::Counter),
            MetricType::Gauge | MetricType::StateSet => (desc.name.to_owned(), pb::MetricType::Gauge),
            MetricType::Info => (format!("{}_info", desc.name), pb::MetricType::Gauge),
            MetricType::Summary => (desc.name.to_owned(), pb::MetricType::Summary),
            MetricType::Histogram => (desc.name.to_owned(), pb::MetricType::Histogram),
            MetricType::GaugeHistogram => (desc.name.to_owned(), pb::MetricType::GaugeHistogram),
            MetricType::Unknown => (desc.name.to_owned(), pb::MetricType::Untyped),
        };
        let index = match self.index.get(&name) {
            Some(&i) => i,
            None => {
                self.index.insert(name.clone(), self.families.len());
                self.families.push(pb::MetricFamily {
                    name: Some(name),
                    help: Some(desc.help.to_owned()),
                    r#type: Some(kind as i32),
                    metric: Vec::new(),
                    unit: (!desc.unit.is_empty()).then(|| desc.unit.to_owned()),
                });
                self.families.len() - 1
            }
        };
        self.current = Some((index, desc.metric_type));
        Ok(())
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        self.put_sample(desc, sample).map_err(|e| {
            let exemplar: Vec<&Labels<'_>> = sample.exemplar.iter().map(|x| &x.labels).collect();
            self.refused(e, &sample.labels, &exemplar)
        })
    }

    fn native_histogram(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        point: &NativeHistogramPoint<'_>,
    ) -> Result<(), CollectError> {
        self.put_native_histogram(desc, labels, point).map_err(|e| {
            let exemplars: Vec<&Labels<'_>> = point.exemplars.iter().map(|x| &x.labels).collect();
            self.refused(e, labels, &exemplars)
        })
    }
}

impl ProtobufEncoder {
    fn put_sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        let value = sample.value.as_f64();
        let ts = sample.timestamp.map(|t| t.as_millis());
        let suffix = sample.suffix;
        match desc.metric_type {
            MetricType::Counter => {
                let metric = self.metric_for(&sample.labels, suffix == "_created")?;
                let counter = metric.counter.get_or_insert_with(Default::default);
                match suffix {
                    "_created" => counter.created_timestamp = Some(seconds_timestamp(value)),
                    _ => {
                        counter.value = Some(value);
                        counter.exemplar = sample.exemplar.as_ref().map(exemplar).transpose()?;
                        metric.timestamp_ms = ts;
                    }
                }
            }
            MetricType::Gauge | MetricType::StateSet | MetricType::Info => {
                let metric = self.metric_for(&sample.labels, false)?;
                metric.gauge = Some(pb::Gauge { value: Some(value) });
                metric.timestamp_ms = ts;
            }
            MetricType::Unknown => {
                let metric = self.metric_for(&sample.labels, false)?;
                metric.untyped = Some(pb::Untyped { value: Some(value) });
                metric.timestamp_ms = ts;
            }
            MetricType::Summary => {
                let quantile = sample.labels.get("quantile");
                let metric = self.metric_for(&sample.labels, true)?;
                let summary = metric.summary.get_or_insert_with(Default::default);
                match (suffix, quantile) {
                    ("_count", _) => summary.sample_count = Some(count_of(sample.value)),
                    ("_sum", _) => summary.sample_sum = Some(value),
                    ("_created", _) => summary.created_timestamp = Some(seconds_timestamp(value)),
                    (_, Some(q)) => summary
                        .quantile
                        .push(pb::Quantile { quantile: Some(parse_bound(q)?), value: Some(value) }),
                    _ => {
                        return Err(CollectError::Failed(
                            "a summary sample that is none of count, sum, created, quantile",
                        ))
                    }
                }
                if ts.is_some() {
                    metric.timestamp_ms = ts;
                }
            }
            MetricType::Histogram | MetricType::GaugeHistogram => {
                let le = sample.labels.get("le");
                let metric = self.metric_for(&sample.labels, true)?;
                let histogram = metric.histogram.get_or_insert_with(Default::default);
                match suffix {
                    "_bucket" => {
                        let bound =
                            parse_bound(le.ok_or(CollectError::Failed("a histogram bucket without le"))?)?;
                        // client_golang leaves out `+Inf` (it equals the count) unless it has an
                        // exemplar; Prometheus adds it back.
                        if bound != f64::INFINITY || sample.exemplar.is_some() {
                            let mut b = pb::Bucket { upper_bound: Some(bound), ..Default::default() };
                            match sample.value {
                                Value::Int(n) => b.cumulative_count = Some(n),
                                // A negative count is not a count: written as the float it is.
                                Value::Signed(n) => match u64::try_from(n) {
                                    Ok(n) => b.cumulative_count = Some(n),
                                    Err(_) => b.cumulative_count_float = Some(n as f64),
                                },
                                Value::Float(f) => b.cumulative_count_float = Some(f),
                            }
                            b.exemplar = sample.exemplar.as_ref().map(exemplar).transpose()?;
                            histogram.bucket.push(b);
                        }
                    }
                    "_count" | "_gcount" => match sample.value {
                        Value::Int(n) => histogram.sample_count = Some(n),
                        Value::Signed(n) => histogram.sample_count = Some(n.max(0) as u64),
                        Value::Float(f) => {
                            histogram.sample_count = Some(f as u64);
                            histogram.sample_count_float = Some(f);
                        }
                    },
                    "_sum" | "_gsum" => histogram.sample_sum = Some(value),
                    "_created" => histogram.created_timestamp = Some(seconds_timestamp(value)),
                    _ => return Err(CollectError::Failed("a histogram sample with an unknown suffix")),
                }
                if ts.is_some() {
                    metric.timestamp_ms = ts;
                }
            }
        }
        Ok(())
    }

    fn put_native_histogram(
        &mut self,
        _desc: &Desc<'_>,
        labels: &Labels<'_>,
        point: &NativeHistogramPoint<'_>,
    ) -> Result<(), CollectError> {
        let metric = self.metric_for(labels, false)?;
        let (negative_span, negative_delta) = spans_and_deltas(point.negative);
        let (mut positive_span, positive_delta) = spans_and_deltas(point.positive);
        // With a zero threshold of 0 and nothing observed, only a no-op span tells Prometheus
        // that this is a native histogram (client_golang does the same).
        if point.zero_threshold == 0.0
            && point.zero_count == 0
            && positive_span.is_empty()
            && negative_span.is_empty()
        {
            positive_span.push(pb::BucketSpan { offset: Some(0), length: Some(0) });
        }
        let exemplars = point.exemplars.iter().map(exemplar).collect::<Result<_, _>>()?;
        metric.histogram = Some(Box::new(pb::Histogram {
            sample_count: Some(point.count),
            sample_sum: Some(point.sum),
            schema: Some(i32::from(point.schema)),
            zero_threshold: Some(point.zero_threshold),
            zero_count: Some(point.zero_count),
            negative_span,
            negative_delta,
            positive_span,
            positive_delta,
            exemplars,
            ..Default::default()
        }));
        Ok(())
    }
}

fn count_of(v: Value) -> u64 {
    match v {
        Value::Int(n) => n,
        Value::Signed(n) => n.max(0) as u64,
        Value::Float(f) => f as u64,
    }
}

/// An `le` or `quantile` label value as a number (`+Inf` included).
fn parse_bound(s: &str) -> Result<f64, CollectError> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s.parse().map_err(|_| CollectError::Failed("an le or quantile label that is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn spans_follow_the_docs_example() {
        // prometheus/docs: buckets -2:3, -1:5, 2:1, 4:3, 5:2 (absolute counts).
        let (spans, deltas) = spans_and_deltas(&[(-2, 3), (-1, 5), (2, 1), (4, 3), (5, 2)]);
        // Gaps of two or less are filled: one span from -2 to 5 with zeros at 0, 1 and 3.
        let spans: Vec<_> = spans.iter().map(|s| (s.offset.unwrap(), s.length.unwrap())).collect();
        assert_eq!(spans, [(-2, 8)]);
        assert_eq!(deltas, [3, 2, -5, 0, 1, -1, 3, -1]);
        let (spans, deltas) = spans_and_deltas(&[(0, 1), (10, 2), (11, 2)]);
        let spans: Vec<_> = spans.iter().map(|s| (s.offset.unwrap(), s.length.unwrap())).collect();
        assert_eq!(spans, [(0, 1), (9, 2)]);
        assert_eq!(deltas, [1, 1, 0]);
    }

    #[test]
    fn accept_negotiation() {
        assert!(accepts_protobuf(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
        ));
        assert!(!accepts_protobuf(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0"
        ));
        assert!(!accepts_protobuf("application/vnd.google.protobuf;proto=other.Message;encoding=delimited"));
        assert!(!accepts_protobuf("*/*"));
        assert!(!accepts_protobuf(""));
    }

    #[test]
    fn a_gauge_encodes_to_the_bytes_go_writes() {
        struct One;
        impl Collector for One {
            fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
                let d = Desc::new("a", "A.", MetricType::Gauge);
                sink.family(&d)?;
                sink.sample(&d, &Sample::new("", Labels::new(&["l"], &["v"]), Value::Float(1.0)))
            }
        }
        let mut out = Vec::new();
        encode_protobuf(&One, &mut out).unwrap();
        // Derived by hand from metrics.proto: name (1) "a", help (2) "A.", type (3) GAUGE = 1,
        // metric (4) { label (1) { name "l", value "v" }, gauge (2) { value (1) 1.0 } }.
        let metric = [
            0x0a, 0x06, 0x0a, 0x01, b'l', 0x12, 0x01, b'v', // label
            0x12, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // gauge
        ];
        let mut want = vec![0x0a, 0x01, b'a', 0x12, 0x02, b'A', b'.', 0x18, 0x01, 0x22, metric.len() as u8];
        want.extend_from_slice(&metric);
        want.insert(0, want.len() as u8);
        assert_eq!(out, want);
        let back = pb::MetricFamily::decode_length_delimited(&out[..]).unwrap();
        assert_eq!(back.metric[0].gauge, Some(pb::Gauge { value: Some(1.0) }));
    }

    #[test]
    fn a_native_histogram_encodes_to_the_bytes_go_writes() {
        struct Native;
        impl Collector for Native {
            fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
                let d = Desc::new("h", "", MetricType::Histogram);
                sink.family(&d)?;
                let point = NativeHistogramPoint {
                    schema: 3,
                    zero_threshold: 0.0,
                    zero_count: 0,
                    count: 1,
                    sum: 1.0,
                    positive: &[(0, 1)],
                    negative: &[],
                    exemplars: &[],
                };
                sink.native_histogram(&d, &Labels::EMPTY, &point)?;
                // The classic samples a native-only histogram reports: `+Inf` is left out.
                let inf = Labels::EMPTY.with_extra(&["le"], &["+Inf"]);
                sink.sample(&d, &Sample::new("_bucket", inf, Value::Int(1)))?;
                sink.sample(&d, &Sample::new("_count", Labels::EMPTY, Value::Int(1)))?;
                sink.sample(&d, &Sample::new("_sum", Labels::EMPTY, Value::Float(1.0)))
            }
        }
        let mut out = Vec::new();
        encode_protobuf(&Native, &mut out).unwrap();
        // Histogram: sample_count (1) 1, sample_sum (2) 1.0, schema (5, sint32) zigzag(3) = 6,
        // zero_threshold (6) 0.0, zero_count (7) 0, positive_span (12) { offset (1, sint32) 0,
        // length (2) 1 }, positive_delta (13, sint64, unpacked) zigzag(1) = 2.
        let histogram = [
            0x08, 0x01, 0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x28, 0x06, 0x31, 0, 0, 0, 0, 0, 0, 0, 0, 0x38,
            0x00, 0x62, 0x04, 0x08, 0x00, 0x10, 0x01, 0x68, 0x02,
        ];
        let mut metric = vec![0x3a, histogram.len() as u8];
        metric.extend_from_slice(&histogram);
        let mut want = vec![0x0a, 0x01, b'h', 0x12, 0x00, 0x18, 0x04, 0x22, metric.len() as u8];
        want.extend_from_slice(&metric);
        want.insert(0, want.len() as u8);
        assert_eq!(out, want);
    }

    #[test]
    fn every_type_round_trips() {
        use promstack_alloc::{ExemplarCounterValue, Family, NativeConfig, Opts, OwnedInfoValue, Registry};
        use promstack_core::{Enum, Gauge, Histogram, Summary, Timestamp};
        static G: Gauge = Gauge::new("g", "Gauge.");
        static S: Summary = Summary::new("s_seconds", "Summary.").with_unit("seconds");
        static H: Histogram<2> = Histogram::new("h", "Histogram.", [0.5, 1.0]);
        static E: Enum = Enum::new("e", "Enum.", &["a", "b"]);
        G.set(-2.5);
        S.observe(3.0);
        H.observe(0.7);
        let registry = Registry::new();
        registry.register_static(&G).unwrap();
        registry.register_static(&S).unwrap();
        registry.register_static(&H).unwrap();
        registry.register_static(&E).unwrap();
        let c: Family<ExemplarCounterValue> =
            Opts::new("c_total", "Counter.").label_names(&["code"]).build(()).unwrap();
        c.get(["500"]).unwrap().inc();
        c.get(["200"])
            .unwrap()
            .inc_with_exemplar(&[("trace_id", "t1")], Some(Timestamp::from_millis(1_500)))
            .unwrap();
        registry.register_owned(c).unwrap();
        let n = Opts::new("n", "Native.")
            .label_names(&["route"])
            .native_histogram(NativeConfig::new(0).unwrap().with_classic(&[1.0]).unwrap())
            .unwrap();
        n.get(["/"]).unwrap().observe(3.0);
        n.get(["/"]).unwrap().observe_with_exemplar(-0.5, &[("trace_id", "t2")], None).unwrap();
        registry.register_owned(n).unwrap();
        let info: Family<OwnedInfoValue> = Opts::new("build", "Build.").info().unwrap();
        info.get(()).unwrap().set_info(&[("version", "1.2")]).unwrap();
        registry.register_owned(info).unwrap();

        let mut out = Vec::new();
        encode_protobuf(&registry, &mut out).unwrap();
        let mut body = &out[..];
        let mut families = Vec::new();
        while !body.is_empty() {
            families.push(pb::MetricFamily::decode_length_delimited(&mut body).unwrap());
        }
        let names: Vec<_> = families.iter().map(|f| f.name.clone().unwrap()).collect();
        assert_eq!(names, ["build_info", "c_total", "e", "g", "h", "n", "s_seconds"]);
        let f = |name: &str| families.iter().find(|f| f.name.as_deref() == Some(name)).unwrap();

        assert_eq!(f("build_info").metric[0].gauge, Some(pb::Gauge { value: Some(1.0) }));
        assert_eq!(f("build_info").metric[0].label[0].name.as_deref(), Some("version"));
        let c = f("c_total");
        assert_eq!(c.r#type, Some(pb::MetricType::Counter as i32));
        // Sorted by label value, as client_golang's gatherer sorts.
        assert_eq!(c.metric[0].label[0].value.as_deref(), Some("200"));
        let ex = c.metric[0].counter.as_ref().unwrap().exemplar.clone().unwrap();
        assert_eq!(
            (ex.value, ex.timestamp),
            (Some(1.0), Some(pb::Timestamp { seconds: 1, nanos: 500_000_000 }))
        );
        assert!(c.metric[1].counter.as_ref().unwrap().exemplar.is_none());
        let states: Vec<_> = f("e").metric.iter().map(|m| m.gauge.as_ref().unwrap().value.unwrap()).collect();
        assert_eq!(states, [1.0, 0.0]);
        assert_eq!(f("g").metric[0].gauge, Some(pb::Gauge { value: Some(-2.5) }));
        let h = f("h").metric[0].histogram.clone().unwrap();
        assert_eq!((h.sample_count, h.sample_sum), (Some(1), Some(0.7)));
        let buckets: Vec<_> =
            h.bucket.iter().map(|b| (b.upper_bound.unwrap(), b.cumulative_count.unwrap())).collect();
        assert_eq!(buckets, [(0.5, 0), (1.0, 1)]);
        assert!(h.schema.is_none());
        let n = f("n").metric[0].histogram.clone().unwrap();
        assert_eq!(f("n").metric[0].label[0].value.as_deref(), Some("/"));
        assert_eq!((n.sample_count, n.sample_sum, n.schema), (Some(2), Some(2.5), Some(0)));
        // 3.0 is in (2, 4], bucket 2; -0.5 in [-0.5, -0.25), bucket -1.
        assert_eq!(n.positive_span, [pb::BucketSpan { offset: Some(2), length: Some(1) }]);
        assert_eq!(n.positive_delta, [1]);
        assert_eq!(n.negative_span, [pb::BucketSpan { offset: Some(-1), length: Some(1) }]);
        // Classic buckets beside the native ones, with the exemplar on the one of -0.5.
        assert_eq!(n.bucket.len(), 1);
        assert_eq!(n.bucket[0].exemplar.as_ref().unwrap().label[0].value.as_deref(), Some("t2"));
        assert_eq!(n.exemplars.len(), 1);
        let s = f("s_seconds");
        assert_eq!(s.unit.as_deref(), Some("seconds"));
        let s = s.metric[0].summary.clone().unwrap();
        assert_eq!((s.sample_count, s.sample_sum), (Some(1), Some(3.0)));
    }
}
