//! Histograms with bucket bounds fixed at construction, and summaries (count and sum).

use crate::collector::Sink;
use crate::desc::{assert_buckets, check_buckets, Desc, MetricType};
use crate::described::{Described, Spec, SpecSource};
use crate::encoding::{go_float, FLOAT_BUF};
use crate::error::{CollectError, DescError};
use crate::metric::{Created, Metric};
use crate::sample::{Labels, Sample, Value};
use crate::sync::{AtomicF64, AtomicU64, Ordering};

/// The default bucket bounds, as in every Prometheus client: 5 ms to 10 s (`+Inf` is implied).
pub const DEFAULT_BUCKETS: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

/// Something observations can be recorded into: histograms, summaries and their children.
pub trait Observe {
    /// Records one observation.
    fn observe(&self, v: f64);
}

/// The value of a histogram with `N` bucket bounds: a count per bucket and a sum.
///
/// Counts are kept per bucket (not cumulative), plus one for observations above every bound,
/// so an observation touches exactly one counter and the sum: two atomic operations, the least
/// a bucketed histogram can do. The total is the sum of the buckets, so a scrape's `+Inf`
/// bucket always equals its `_count`; the exposition accumulates them.
pub struct HistogramValue<const N: usize> {
    buckets: [AtomicU64; N],
    /// Observations above the last bound, and NaN: the `+Inf` bucket's own share.
    over: AtomicU64,
    sum: AtomicF64,
    created: Created,
}

impl<const N: usize> HistogramValue<N> {
    /// An empty histogram value.
    pub const fn new() -> Self {
        HistogramValue {
            buckets: [const { AtomicU64::new(0) }; N],
            over: AtomicU64::new(0),
            sum: AtomicF64::new(0.0),
            created: Created::INIT,
        }
    }

    /// Records `v` against `bounds` (the bounds this value was created with).
    #[inline]
    pub fn observe(&self, bounds: &[f64; N], v: f64) {
        // First bound >= v; NaN lands in no finite bucket (only in +Inf, i.e. the count).
        let i = if v.is_nan() { N } else { crate::integer::bucket_index(bounds, v) };
        // Relaxed: each counter is read on its own; the total is derived from them, so a
        // reader never sees a `_count` that disagrees with the buckets it read.
        match self.buckets.get(i) {
            Some(b) => b.fetch_add(1, Ordering::Relaxed),
            None => self.over.fetch_add(1, Ordering::Relaxed),
        };
        self.sum.fetch_add(v, Ordering::Relaxed);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.cumulative().1
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        self.sum.load(Ordering::Relaxed)
    }

    /// Cumulative bucket counts (`le` each bound) and the total count, read at one moment:
    /// never decreasing, never above the count.
    pub fn cumulative(&self) -> ([u64; N], u64) {
        let mut out = [0u64; N];
        let mut acc = 0u64;
        for (o, b) in out.iter_mut().zip(&self.buckets) {
            acc = acc.wrapping_add(b.load(Ordering::Relaxed));
            *o = acc;
        }
        (out, acc.wrapping_add(self.over.load(Ordering::Relaxed)))
    }
}

impl<const N: usize> Default for HistogramValue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Metric for HistogramValue<N> {
    const METRIC_TYPE: MetricType = MetricType::Histogram;
    const INIT: Self = HistogramValue::new();
    type Config = [f64; N];

    fn check_config(bounds: &[f64; N], _: &str, _: &[&str]) -> Result<(), DescError> {
        check_buckets(bounds)
    }

    fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Ordering::Relaxed);
        }
        self.over.store(0, Ordering::Relaxed);
        self.sum.store(0.0, Ordering::Relaxed);
        self.created.stamp();
    }

    fn report(
        &self,
        bounds: &[f64; N],
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        self.report_with(bounds, None, desc, labels, sink)
    }

    /// The `le` texts once for all the children (each costs a float formatting per bucket),
    /// up to 64 bounds; more are formatted per child, as by `report`.
    fn report_children(
        bounds: &[f64; N],
        desc: &Desc<'_>,
        sink: &mut dyn Sink,
        children: &mut crate::metric::ChildWalk<'_, Self>,
    ) -> Result<(), CollectError> {
        if N > LE_TEXTS_MAX {
            #[cfg(not(feature = "small"))]
            if let Some(lines) = HistogramLines::batch(bounds, None, desc, sink, children) {
                return lines;
            }
            return children(&mut |value, labels| value.report_with(bounds, None, desc, labels, sink));
        }
        let mut bufs = [[0u8; FLOAT_BUF]; N];
        let mut lens = [0usize; N];
        for ((b, buf), len) in bounds.iter().zip(&mut bufs).zip(&mut lens) {
            *len = go_float(*b, buf).len();
        }
        // ASCII, as `go_float` writes it.
        let texts: [&str; N] =
            core::array::from_fn(|i| core::str::from_utf8(&bufs[i][..lens[i]]).unwrap_or("NaN"));
        #[cfg(not(feature = "small"))]
        if let Some(lines) = HistogramLines::batch(bounds, Some(&texts), desc, sink, children) {
            return lines;
        }
        children(&mut |value, labels| value.report_with(bounds, Some(&texts), desc, labels, sink))
    }
}

/// A histogram family's children as [`BatchSink::lines`](crate::BatchSink::lines) rows: the
/// samples [`HistogramValue::report_with`] reports, in its order.
#[cfg(not(feature = "small"))]
struct HistogramLines<'a, 'w, const N: usize> {
    bounds: &'a [f64; N],
    le_texts: Option<&'a [&'a str; N]>,
    wants_created: bool,
    children: &'a mut crate::metric::ChildWalk<'w, HistogramValue<N>>,
}

#[cfg(not(feature = "small"))]
impl<'a, 'w, const N: usize> HistogramLines<'a, 'w, N> {
    /// Hands the children to `sink`'s batch interface; `None` when it has none.
    fn batch(
        bounds: &'a [f64; N],
        le_texts: Option<&'a [&'a str; N]>,
        desc: &Desc<'_>,
        sink: &mut dyn Sink,
        children: &'a mut crate::metric::ChildWalk<'w, HistogramValue<N>>,
    ) -> Option<Result<(), CollectError>> {
        let wants_created = sink.wants_created();
        let batch = sink.batch()?;
        Some(batch.lines(desc, &mut HistogramLines { bounds, le_texts, wants_created, children }))
    }
}

#[cfg(not(feature = "small"))]
impl<const N: usize> crate::collector::LineRows for HistogramLines<'_, '_, N> {
    fn each(
        &mut self,
        child: &mut dyn FnMut(Labels<'_>, &mut dyn crate::collector::ChildLines) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let (bounds, wants_created) = (self.bounds, self.wants_created);
        // The bucket lines' `le` texts once for all children: each finite bound's, then `+Inf`
        // (bounds are ascending, so only the last one can be infinite).
        let finite = bounds.iter().filter(|b| **b != f64::INFINITY).count();
        let mut texts = [""; LE_TEXTS_MAX + 1];
        let le_texts = self.le_texts.map(|given| {
            texts[..finite].copy_from_slice(&given[..finite]);
            texts[finite] = "+Inf";
            &texts[..=finite]
        });
        let mut counts = [Value::Int(0); LE_TEXTS_MAX + 1];
        (self.children)(&mut |value, labels| {
            let lines = &mut HistogramChild { value, bounds, le_texts, counts: &mut counts, wants_created };
            child(labels, lines)
        })
    }
}

/// One child of [`HistogramLines`]: its lines.
#[cfg(not(feature = "small"))]
struct HistogramChild<'a, const N: usize> {
    value: &'a HistogramValue<N>,
    bounds: &'a [f64; N],
    /// The bucket lines' `le` texts, `+Inf` last (`None`: spelled here, line by line).
    le_texts: Option<&'a [&'a str]>,
    /// Room for the bucket lines' counts.
    counts: &'a mut [Value; LE_TEXTS_MAX + 1],
    wants_created: bool,
}

#[cfg(not(feature = "small"))]
impl<const N: usize> crate::collector::ChildLines for HistogramChild<'_, N> {
    /// The samples of [`HistogramValue::report_with`], in its order (`_created` only if
    /// `wants_created`).
    fn each(
        &mut self,
        run: &mut dyn FnMut(&crate::collector::LineRun<'_>) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        use crate::collector::LineRun;
        use crate::metric::bucket_run;
        let (value, bounds) = (self.value, self.bounds);
        let sum = value.sum();
        let mut count = 0u64;
        match self.le_texts {
            Some(texts) => {
                // Cumulative counts one bucket at a time, as `report_with` reads them.
                let finite = texts.len() - 1;
                for (i, b) in value.buckets.iter().enumerate() {
                    count = count.wrapping_add(b.load(Ordering::Relaxed));
                    if let Some(c) = self.counts[..finite].get_mut(i) {
                        *c = Value::Int(count);
                    }
                }
                count = count.wrapping_add(value.over.load(Ordering::Relaxed));
                self.counts[finite] = Value::Int(count);
                // The texts are spelled once per scrape, for every child.
                run(&bucket_run(texts, &self.counts[..=finite]).with_shared_values())?;
            }
            None => {
                for (bound, b) in bounds.iter().zip(&value.buckets) {
                    count = count.wrapping_add(b.load(Ordering::Relaxed));
                    if *bound == f64::INFINITY {
                        continue;
                    }
                    let mut buf = [0u8; FLOAT_BUF];
                    run(&bucket_run(&[go_float(*bound, &mut buf)], &[Value::Int(count)]))?;
                }
                count = count.wrapping_add(value.over.load(Ordering::Relaxed));
                run(&bucket_run(&["+Inf"], &[Value::Int(count)]))?;
            }
        }
        run(&LineRun::new("_count", &[], &[], &[Value::Int(count)]))?;
        if bounds.first().is_none_or(|b| *b >= 0.0) {
            run(&LineRun::new("_sum", &[], &[], &[Value::Float(sum)]))?;
        }
        if !self.wants_created {
            return Ok(());
        }
        match value.created.get() {
            Some(t) => run(&LineRun::new("_created", &[], &[], &[Value::Float(t)])),
            None => Ok(()),
        }
    }
}

/// A histogram family formats its bounds once per scrape, on the stack, up to this many
/// ([`FLOAT_BUF`] bytes each: 2 KiB).
const LE_TEXTS_MAX: usize = 64;

impl<const N: usize> HistogramValue<N> {
    /// [`Metric::report`] with the `le` texts of `bounds` given (`None`: formatted here).
    fn report_with(
        &self,
        bounds: &[f64; N],
        le_texts: Option<&[&str; N]>,
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let sum = self.sum();
        // Cumulative counts one bucket at a time (no array of them on the stack): each is read
        // once, so every reported count is at least the one before it, and `_count` is the last.
        let le = ["le"];
        let mut count = 0u64;
        for (i, (bound, b)) in bounds.iter().zip(&self.buckets).enumerate() {
            count = count.wrapping_add(b.load(Ordering::Relaxed));
            if *bound == f64::INFINITY {
                continue;
            }
            let mut buf = [0u8; FLOAT_BUF];
            let text = [match le_texts {
                Some(texts) => texts[i],
                None => go_float(*bound, &mut buf),
            }];
            sink.sample(desc, &Sample::new("_bucket", labels.with_extra(&le, &text), Value::Int(count)))?;
        }
        let count = count.wrapping_add(self.over.load(Ordering::Relaxed));
        sink.sample(desc, &Sample::new("_bucket", labels.with_extra(&le, &["+Inf"]), Value::Int(count)))?;
        sink.sample(desc, &Sample::new("_count", labels, Value::Int(count)))?;
        // OpenMetrics allows `_sum` only when no observation can be negative: Python 0.8.0
        // omits it when the first bound is negative, and so do we.
        if bounds.first().is_none_or(|b| *b >= 0.0) {
            sink.sample(desc, &Sample::new("_sum", labels, Value::Float(sum)))?;
        }
        self.created.report(desc, labels, sink)
    }
}

/// A histogram: observations counted in buckets with fixed upper bounds.
///
/// `N` is the number of bounds given; `+Inf` is always added. Bounds must be sorted strictly
/// ascending and not NaN; a bad list in a `static` does not compile.
///
/// ```
/// use promstack_core::{Histogram, encode_text};
/// static LATENCY: Histogram<2> = Histogram::new("latency_seconds", "Handler latency.", [0.5, 1.0]);
/// LATENCY.observe(0.3);
/// LATENCY.observe(6.9);
/// let out = String::from_utf8(encode_text(Vec::new(), &LATENCY).unwrap()).unwrap();
/// assert_eq!(out, "# HELP latency_seconds Handler latency.\n# TYPE latency_seconds histogram\n\
/// latency_seconds_bucket{le=\"0.5\"} 1.0\nlatency_seconds_bucket{le=\"1.0\"} 1.0\n\
/// latency_seconds_bucket{le=\"+Inf\"} 2.0\nlatency_seconds_count 2.0\nlatency_seconds_sum 7.2\n");
/// ```
///
/// ```compile_fail
/// // Bounds out of order: a compile error.
/// static BAD: promstack_core::Histogram<2> = promstack_core::Histogram::new("h", "", [2.0, 1.0]);
/// ```
pub type Histogram<const N: usize, S = Spec<[f64; N]>> = Described<HistogramValue<N>, S>;

impl<const N: usize> Histogram<N> {
    /// A histogram with the given bucket bounds (`+Inf` implied).
    ///
    /// # Panics
    /// On an invalid name or bounds: a compile error in a `static`.
    pub const fn new(name: &'static str, help: &'static str, bounds: [f64; N]) -> Self {
        assert_buckets(&bounds);
        Self::build(Desc::new(name, help, MetricType::Histogram), bounds)
    }

    /// Run-time form of [`Histogram::new`].
    pub fn try_new(name: &'static str, help: &'static str, bounds: [f64; N]) -> Result<Self, DescError> {
        check_buckets(&bounds)?;
        Ok(Self::build(Desc::try_new(name, help, MetricType::Histogram)?, bounds))
    }
}

impl<const N: usize, S: SpecSource<Spec<[f64; N]>>> Histogram<N, S> {
    /// The bucket bounds.
    pub fn bounds(&self) -> &[f64; N] {
        self.spec().config()
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.value().observe(self.bounds(), v);
    }
}

impl<const N: usize, S: SpecSource<Spec<[f64; N]>>> Observe for Histogram<N, S> {
    fn observe(&self, v: f64) {
        Histogram::observe(self, v);
    }
}

/// The value of a summary: count and sum of observations.
pub struct SummaryValue {
    count: AtomicU64,
    sum: AtomicF64,
    created: Created,
}

impl SummaryValue {
    /// An empty summary value.
    pub const fn new() -> Self {
        SummaryValue { count: AtomicU64::new(0), sum: AtomicF64::new(0.0), created: Created::INIT }
    }

    /// Records `v`.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.sum.fetch_add(v, Ordering::Relaxed);
        // Relaxed: count and sum are reported as two samples; they are never read as one.
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        self.sum.load(Ordering::Relaxed)
    }
}

impl Default for SummaryValue {
    fn default() -> Self {
        Self::new()
    }
}

impl Observe for SummaryValue {
    fn observe(&self, v: f64) {
        SummaryValue::observe(self, v);
    }
}

impl Metric for SummaryValue {
    const METRIC_TYPE: MetricType = MetricType::Summary;
    const INIT: Self = SummaryValue::new();
    type Config = ();

    fn reset(&self) {
        self.count.store(0, Ordering::Relaxed);
        self.sum.store(0.0, Ordering::Relaxed);
        self.created.stamp();
    }

    fn report(
        &self,
        _: &(),
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        sink.sample(desc, &Sample::new("_count", labels, Value::Int(self.count())))?;
        sink.sample(desc, &Sample::new("_sum", labels, Value::Float(self.sum())))?;
        self.created.report(desc, labels, sink)
    }
}

/// A summary: count and sum of observations (no quantiles, as in Python's client 0.8.0).
///
/// ```
/// use promstack_core::{Summary, encode_text};
/// static SIZES: Summary = Summary::new("request_size_bytes", "Request sizes.");
/// SIZES.observe(512.0);
/// let out = String::from_utf8(encode_text(Vec::new(), &SIZES).unwrap()).unwrap();
/// assert!(out.ends_with("request_size_bytes_count 1.0\nrequest_size_bytes_sum 512.0\n"));
/// ```
pub type Summary<S = Spec<()>> = Described<SummaryValue, S>;

impl Summary {
    /// A summary named `name`.
    ///
    /// # Panics
    /// On an invalid name: a compile error in a `static`.
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Self::build(Desc::new(name, help, MetricType::Summary), ())
    }

    /// Run-time form of [`Summary::new`].
    pub fn try_new(name: &'static str, help: &'static str) -> Result<Self, DescError> {
        Ok(Self::build(Desc::try_new(name, help, MetricType::Summary)?, ()))
    }
}

impl<S: SpecSource<Spec<()>>> Summary<S> {
    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.value().observe(v);
    }
}

impl<S: SpecSource<Spec<()>>> Observe for Summary<S> {
    fn observe(&self, v: f64) {
        Summary::observe(self, v);
    }
}
