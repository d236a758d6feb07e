//! Counters and classic histograms that keep exemplars: [`ExemplarCounterValue`] and
//! [`ExemplarHistogramValue`].
//!
//! They wrap core's `CounterValue` and `HistogramValue` (so plain counters and histograms pay
//! nothing for exemplars) and add the newest exemplar of the `_total` sample or of each bucket,
//! which the OpenMetrics and protobuf expositions carry. Use them as children of a [`Family`]
//! (with no label names for an unlabeled metric).
//!
//! [`Family`]: crate::Family

use crate::metric_family::OwnedExemplar;
use crate::native::{make_exemplar, ExemplarError, ExemplarView};
use crate::sync::Mutex;
use alloc::vec::Vec;
use promstack_core::{
    CollectError, CounterValue, Desc, DescError, Exemplar, HistogramValue, Labels, Metric, MetricType,
    NativeHistogramPoint, Sample, Sink, Timestamp, ValueError,
};

/// Forwards everything, adding `exemplars[i]` to the `i`-th sample with `suffix`.
struct Attach<'s, 'e> {
    inner: &'s mut dyn Sink,
    suffix: &'static str,
    exemplars: &'e [Option<Exemplar<'e>>],
    next: usize,
}

impl Sink for Attach<'_, '_> {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        self.inner.family(desc)
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        if sample.suffix == self.suffix {
            let i = self.next;
            self.next += 1;
            if let Some(Some(ex)) = self.exemplars.get(i) {
                let mut with = *sample;
                with.exemplar = Some(*ex);
                return self.inner.sample(desc, &with);
            }
        }
        self.inner.sample(desc, sample)
    }

    fn wants_created(&self) -> bool {
        self.inner.wants_created()
    }

    fn native_histogram(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        point: &NativeHistogramPoint<'_>,
    ) -> Result<(), CollectError> {
        self.inner.native_histogram(desc, labels, point)
    }
}

/// A counter value with the exemplar of its last [`inc_with_exemplar`](Self::inc_with_exemplar).
///
/// ```
/// use promstack_alloc::{ExemplarCounterValue, Family, Opts};
/// use promstack_core::Format;
/// let c: Family<ExemplarCounterValue> = Opts::new("requests_total", "Requests.").build(()).unwrap();
/// c.get(()).unwrap().inc_with_exemplar(&[("trace_id", "abc")], None).unwrap();
/// let mut enc = promstack_core::Encoder::new(Format::OpenMetrics, Vec::new());
/// enc.encode(&c).unwrap();
/// let text = String::from_utf8(enc.finish().unwrap()).unwrap();
/// assert!(text.contains("requests_total 1.0 # {trace_id=\"abc\"} 1.0\n"));
/// ```
pub struct ExemplarCounterValue {
    value: CounterValue,
    exemplar: Mutex<Option<OwnedExemplar>>,
}

impl ExemplarCounterValue {
    /// A zero counter without exemplar.
    pub const fn new() -> Self {
        ExemplarCounterValue { value: CounterValue::new(), exemplar: Mutex::new(None) }
    }

    /// Adds 1 (one atomic add, no exemplar).
    #[inline]
    pub fn inc(&self) {
        self.value.inc();
    }

    /// Adds `v`; negative or NaN is refused.
    #[inline]
    pub fn inc_by(&self, v: f64) -> Result<(), ValueError> {
        self.value.inc_by(v)
    }

    /// Adds 1 and keeps an exemplar with `labels` (value 1), `timestamp` if given (else the
    /// scraper uses its scrape time). Labels longer than 128 characters together, or with an
    /// invalid name, are refused and nothing is added.
    pub fn inc_with_exemplar(
        &self,
        labels: &[(&str, &str)],
        timestamp: Option<Timestamp>,
    ) -> Result<(), ExemplarError> {
        let ex = make_exemplar(labels, 1.0, timestamp)?;
        self.value.inc();
        *self.exemplar.lock() = Some(ex);
        Ok(())
    }

    /// Adds `v` and keeps an exemplar with `labels` and value `v`.
    pub fn inc_by_with_exemplar(
        &self,
        v: f64,
        labels: &[(&str, &str)],
        timestamp: Option<Timestamp>,
    ) -> Result<(), IncError> {
        let ex = make_exemplar(labels, v, timestamp).map_err(IncError::Exemplar)?;
        self.value.inc_by(v).map_err(IncError::Value)?;
        *self.exemplar.lock() = Some(ex);
        Ok(())
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.value.get()
    }

    /// The last exemplar kept.
    pub fn exemplar(&self) -> Option<OwnedExemplar> {
        self.exemplar.lock().clone()
    }
}

impl Default for ExemplarCounterValue {
    fn default() -> Self {
        Self::new()
    }
}

/// Why [`ExemplarCounterValue::inc_by_with_exemplar`] refused.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IncError {
    /// The amount is negative or NaN.
    Value(ValueError),
    /// The exemplar's labels are invalid.
    Exemplar(ExemplarError),
}

impl core::fmt::Display for IncError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IncError::Value(e) => e.fmt(f),
            IncError::Exemplar(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for IncError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            IncError::Value(e) => Some(e),
            IncError::Exemplar(e) => Some(e),
        }
    }
}

impl Metric for ExemplarCounterValue {
    const METRIC_TYPE: MetricType = MetricType::Counter;
    const INIT: Self = ExemplarCounterValue::new();
    type Config = ();

    fn reset(&self) {
        self.value.reset();
        *self.exemplar.lock() = None;
    }

    fn report(
        &self,
        _: &(),
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let kept = self.exemplar.lock().clone();
        let view = kept.as_ref().map(ExemplarView::new);
        let exemplars = [view.as_ref().map(ExemplarView::exemplar)];
        let mut attach = Attach { inner: sink, suffix: "_total", exemplars: &exemplars, next: 0 };
        self.value.report(&(), desc, labels, &mut attach)
    }
}

/// A classic histogram value with the newest exemplar of each bucket.
///
/// ```
/// use promstack_alloc::{ExemplarHistogramValue, Family, Opts};
/// use promstack_core::Format;
/// let h: Family<ExemplarHistogramValue<2>> = Opts::new("latency_seconds", "Latency.").build([0.1, 1.0]).unwrap();
/// h.get(()).unwrap().observe_with_exemplar(0.5, &[("trace_id", "abc")], None).unwrap();
/// let mut enc = promstack_core::Encoder::new(Format::OpenMetrics, Vec::new());
/// enc.encode(&h).unwrap();
/// let text = String::from_utf8(enc.finish().unwrap()).unwrap();
/// assert!(text.contains("latency_seconds_bucket{le=\"1.0\"} 1.0 # {trace_id=\"abc\"} 0.5\n"));
/// ```
pub struct ExemplarHistogramValue<const N: usize> {
    value: HistogramValue<N>,
    /// One per bucket and one for `+Inf`, created on the first exemplar.
    exemplars: Mutex<Vec<Option<OwnedExemplar>>>,
}

impl<const N: usize> ExemplarHistogramValue<N> {
    /// An empty histogram value.
    pub const fn new() -> Self {
        ExemplarHistogramValue { value: HistogramValue::new(), exemplars: Mutex::new(Vec::new()) }
    }

    /// Records `v` against `bounds` (no exemplar: as fast as a plain histogram).
    #[inline]
    pub fn observe(&self, bounds: &[f64; N], v: f64) {
        self.value.observe(bounds, v);
    }

    /// Records `v` and keeps an exemplar with `labels` and value `v` for its bucket.
    pub fn observe_with_exemplar(
        &self,
        bounds: &[f64; N],
        v: f64,
        labels: &[(&str, &str)],
        timestamp: Option<Timestamp>,
    ) -> Result<(), ExemplarError> {
        let ex = make_exemplar(labels, v, timestamp)?;
        self.value.observe(bounds, v);
        let i = if v.is_nan() { N } else { bounds.partition_point(|b| *b < v) };
        let mut slots = self.exemplars.lock();
        if slots.len() != N + 1 {
            slots.resize(N + 1, None);
        }
        slots[i] = Some(ex);
        Ok(())
    }

    /// The plain histogram value (count, sum, buckets).
    pub fn value(&self) -> &HistogramValue<N> {
        &self.value
    }
}

impl<const N: usize> Default for ExemplarHistogramValue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Metric for ExemplarHistogramValue<N> {
    const METRIC_TYPE: MetricType = MetricType::Histogram;
    const INIT: Self = ExemplarHistogramValue::new();
    type Config = [f64; N];

    fn check_config(bounds: &[f64; N], name: &str, label_names: &[&str]) -> Result<(), DescError> {
        HistogramValue::<N>::check_config(bounds, name, label_names)
    }

    fn reset(&self) {
        self.value.reset();
        self.exemplars.lock().clear();
    }

    fn report(
        &self,
        bounds: &[f64; N],
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let kept = self.exemplars.lock().clone();
        let views: Vec<Option<ExemplarView<'_>>> =
            kept.iter().map(|e| e.as_ref().map(ExemplarView::new)).collect();
        // The core value writes one `_bucket` per finite bound, then `+Inf`.
        let finite = bounds.iter().filter(|b| **b != f64::INFINITY).count();
        let mut exemplars: Vec<Option<Exemplar<'_>>> =
            views.iter().map(|v| v.as_ref().map(ExemplarView::exemplar)).collect();
        if finite < N && exemplars.len() == N + 1 {
            // A given `+Inf` bound: its bucket and the overflow are the one `+Inf` sample.
            let over = exemplars.pop().flatten();
            if let Some(last) = exemplars.last_mut() {
                *last = over.or(*last);
            }
        }
        let mut attach = Attach { inner: sink, suffix: "_bucket", exemplars: &exemplars, next: 0 };
        self.value.report(bounds, desc, labels, &mut attach)
    }
}
