//! The one trait every metric, registry and custom collector implements, and the sink it
//! reports into.
//!
//! A collector calls [`Sink::family`] once per family (even a labeled family with no children
//! reports its header), then [`Sink::sample`] once per sample. Nothing is allocated.

use crate::desc::Desc;
use crate::encoding::LineBuf;
use crate::error::{CollectError, LabelError};
#[cfg(feature = "float")]
use crate::native::NativeHistogramPoint;
use crate::sample::{Labels, Sample, Value};
use core::cmp::Ordering;
use core::ops::Range;

/// Receives families and samples from collectors: an encoder, a name index, a value lookup.
pub trait Sink {
    /// A family starts. Its samples follow; another `family` call ends it.
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError>;

    /// One sample of the family `desc` (the same `desc` passed to the last [`Sink::family`]).
    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError>;

    /// The sink's batch interface, when it has one: families whose children report one sample
    /// each (counters, gauges) then hand all of them over in one [`BatchSink::samples`] call
    /// instead of one [`Sink::sample`] per child, and families whose children report several
    /// (histograms) in one [`BatchSink::lines`] call. Default: `None`, and the collector
    /// reports sample by sample. The encoders have one, except with `small` (one path, least
    /// flash).
    ///
    /// ```
    /// use promstack_core::{encode_text, Collector, CollectError, Desc, Labels, MetricType};
    /// use promstack_core::{Sample, SampleRows, Sink, Value};
    ///
    /// /// Free buffers per pool.
    /// struct Pools;
    /// impl SampleRows for Pools {
    ///     fn each(
    ///         &self,
    ///         row: &mut dyn FnMut(Labels<'_>, Value) -> Result<(), CollectError>,
    ///     ) -> Result<(), CollectError> {
    ///         row(Labels::new(&["pool"], &["rx"]), Value::Int(3))?;
    ///         row(Labels::new(&["pool"], &["tx"]), Value::Int(5))
    ///     }
    /// }
    /// impl Collector for Pools {
    ///     fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
    ///         let desc = Desc::new("pool_free_buffers", "Free buffers.", MetricType::Gauge);
    ///         sink.family(&desc)?;
    ///         if let Some(batch) = sink.batch() {
    ///             return batch.samples(&desc, "", self);
    ///         }
    ///         self.each(&mut |labels, value| sink.sample(&desc, &Sample::new("", labels, value)))
    ///     }
    /// }
    /// let text = String::from_utf8(encode_text(Vec::new(), &Pools).unwrap()).unwrap();
    /// let head = "# HELP pool_free_buffers Free buffers.\n# TYPE pool_free_buffers gauge\n";
    /// let rows = "pool_free_buffers{pool=\"rx\"} 3.0\npool_free_buffers{pool=\"tx\"} 5.0\n";
    /// assert_eq!(text, format!("{head}{rows}"));
    /// ```
    fn batch(&mut self) -> Option<&mut dyn BatchSink> {
        None
    }

    /// `false` when the sink would drop `_created` samples (text 0.0.4 by default), so
    /// collectors may skip them. Reporting them anyway is always correct. Default: `true`.
    fn wants_created(&self) -> bool {
        true
    }

    /// A native histogram point of the histogram family `desc`, reported just before the
    /// classic samples (`_bucket`, `_count`, `_sum`) with the same `labels`. Only the protobuf
    /// format carries native histograms; the default ignores the point, and text formats write
    /// the classic samples that follow it. (Feature `float`.)
    #[cfg(feature = "float")]
    fn native_histogram(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        point: &NativeHistogramPoint<'_>,
    ) -> Result<(), CollectError> {
        let _ = (desc, labels, point);
        Ok(())
    }
}

/// A sink's batch interface (see [`Sink::batch`]).
pub trait BatchSink {
    /// Samples of the family `desc` (just announced with [`Sink::family`]) that differ only in
    /// their labels and value, one per row of `rows`, each with the suffix `suffix` and no
    /// timestamp or exemplar: exactly what one [`Sink::sample`] per row would write. The
    /// encoders write the family's fixed bytes (name, suffix, label names) once for all rows.
    fn samples(
        &mut self,
        desc: &Desc<'_>,
        suffix: &'static str,
        rows: &dyn SampleRows,
    ) -> Result<(), CollectError>;

    /// The samples of the children of the family `desc` (just announced with [`Sink::family`]),
    /// several per child, with no timestamp or exemplar: `rows` calls its function once per
    /// child with the child's labels and its lines, given in runs ([`LineRun`]) of one suffix
    /// whose lines have labels of their own with the same names (a histogram's buckets, each
    /// with its `le`). Exactly what one [`Sink::sample`] per line would write, in the same
    /// order, with the child's labels followed by the line's own as its two label groups. The
    /// encoders write the child's labels once per suffix (escaped once) and each line from
    /// them: a histogram's `_bucket`, `_count`, `_sum`, `_created`.
    ///
    /// ```
    /// use promstack_core::{encode_text, ChildLines, Collector, CollectError, Desc, Labels};
    /// use promstack_core::{LineRows, LineRun, MetricType, Sample, Sink, Value};
    ///
    /// /// Frame sizes per direction: a summary's `_count` and `_sum` per child.
    /// struct Sizes;
    /// /// One child's count and sum.
    /// struct Child([Value; 2]);
    /// impl ChildLines for Child {
    ///     fn each(
    ///         &mut self,
    ///         run: &mut dyn FnMut(&LineRun<'_>) -> Result<(), CollectError>,
    ///     ) -> Result<(), CollectError> {
    ///         run(&LineRun::new("_count", &[], &[], &self.0[..1]))?;
    ///         run(&LineRun::new("_sum", &[], &[], &self.0[1..]))
    ///     }
    /// }
    /// const CHILDREN: [(&str, [Value; 2]); 2] =
    ///     [("rx", [Value::Int(2), Value::Int(9)]), ("tx", [Value::Int(1), Value::Int(4)])];
    /// impl LineRows for Sizes {
    ///     fn each(
    ///         &mut self,
    ///         child: &mut dyn FnMut(Labels<'_>, &mut dyn ChildLines) -> Result<(), CollectError>,
    ///     ) -> Result<(), CollectError> {
    ///         for (dir, values) in CHILDREN {
    ///             child(Labels::new(&["dir"], &[dir]), &mut Child(values))?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// impl Collector for Sizes {
    ///     fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
    ///         let desc = Desc::new("frame_bytes", "Frame sizes.", MetricType::Summary);
    ///         sink.family(&desc)?;
    ///         if let Some(batch) = sink.batch() {
    ///             return batch.lines(&desc, &mut Sizes);
    ///         }
    ///         for (dir, [count, sum]) in CHILDREN {
    ///             let dir = [dir];
    ///             let labels = Labels::new(&["dir"], &dir);
    ///             sink.sample(&desc, &Sample::new("_count", labels, count))?;
    ///             sink.sample(&desc, &Sample::new("_sum", labels, sum))?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// let text = String::from_utf8(encode_text(Vec::new(), &Sizes).unwrap()).unwrap();
    /// assert!(text.ends_with(
    ///     "frame_bytes_count{dir=\"rx\"} 2.0\nframe_bytes_sum{dir=\"rx\"} 9.0\n\
    ///      frame_bytes_count{dir=\"tx\"} 1.0\nframe_bytes_sum{dir=\"tx\"} 4.0\n"
    /// ));
    /// ```
    fn lines(&mut self, desc: &Desc<'_>, rows: &mut dyn LineRows) -> Result<(), CollectError>;
}

/// The rows of one [`BatchSink::samples`] call: a label set and a value each.
pub trait SampleRows {
    /// Calls `row` once per row, in order, and stops at its first error (which it returns).
    fn each(
        &self,
        row: &mut dyn FnMut(Labels<'_>, Value) -> Result<(), CollectError>,
    ) -> Result<(), CollectError>;

    /// Writes the rows' lines straight into an encoder's line buffer, exactly as
    /// [`SampleRows::each`] through [`BatchSink::samples`] would have them written; `None`
    /// (the default) when the rows cannot, and the encoder asks [`SampleRows::each`]. The
    /// fixed-capacity families of this crate can: they keep their label values checked and
    /// in one place, so a line is a few copies. Only the encoders make a [`LineBuf`].
    fn write_lines(&self, lines: &mut LineBuf<'_>) -> Option<Result<(), CollectError>> {
        let _ = lines;
        None
    }
}

/// The children of one [`BatchSink::lines`] call.
pub trait LineRows {
    /// Calls `child` once per child, in order, with its labels and its lines, and stops at its
    /// first error (which it returns).
    fn each(
        &mut self,
        child: &mut dyn FnMut(Labels<'_>, &mut dyn ChildLines) -> Result<(), CollectError>,
    ) -> Result<(), CollectError>;
}

/// The lines of one child of a [`BatchSink::lines`] call.
pub trait ChildLines {
    /// Calls `run` once per run of lines of the child, in order, and stops at its first error
    /// (which it returns).
    fn each(
        &mut self,
        run: &mut dyn FnMut(&LineRun<'_>) -> Result<(), CollectError>,
    ) -> Result<(), CollectError>;
}

/// Lines of one child of a [`BatchSink::lines`] call that share a suffix and the names of the
/// labels they have besides the child's: line `i` has the labels `names` with the values
/// [`LineRun::values`]`(i)` and the value `samples[i]`. A histogram's buckets are one run
/// (`_bucket`, names `["le"]`, a bound and a count per line); its `_count` is a run of one line
/// with no labels of its own.
///
/// ```
/// use promstack_core::{LineRun, Value};
/// let counts = [Value::Int(1), Value::Int(3)];
/// let run = LineRun::new("_bucket", &["le"], &["0.5", "1.0"], &counts);
/// assert_eq!((run.len(), run.values(1)), (2, &["1.0"][..]));
/// assert_eq!(run.labels(0).get("le"), Some("0.5"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LineRun<'a> {
    suffix: &'static str,
    names: &'a [&'a str],
    values: &'a [&'a str],
    samples: &'a [Value],
    /// The names passed the encoders' check and the values need no escaping (set by this
    /// crate's histograms only).
    #[cfg(not(feature = "small"))]
    known: bool,
    /// `values` is one slice, the same bytes at the same address, for every child of one
    /// [`BatchSink::lines`] call (a histogram family's bounds, spelled once per scrape): the
    /// encoder may keep what it made of them from one child to the next.
    #[cfg(not(feature = "small"))]
    shared: bool,
}

impl<'a> LineRun<'a> {
    /// A run of `samples.len()` lines with `suffix`, each with the labels `names` (besides the
    /// child's), their values taken `names.len()` at a time from `values`.
    ///
    /// # Panics
    /// Unless `values` holds `names.len()` values per sample; see [`LineRun::try_new`].
    pub const fn new(
        suffix: &'static str,
        names: &'a [&'a str],
        values: &'a [&'a str],
        samples: &'a [Value],
    ) -> Self {
        if names.len() * samples.len() != values.len() {
            panic!("LineRun::new needs one value per label name and sample");
        }
        LineRun {
            suffix,
            names,
            values,
            samples,
            #[cfg(not(feature = "small"))]
            known: false,
            #[cfg(not(feature = "small"))]
            shared: false,
        }
    }

    /// [`LineRun::new`], or [`LabelError::WrongCount`] (expected: names times samples) unless
    /// `values` holds `names.len()` values per sample.
    pub fn try_new(
        suffix: &'static str,
        names: &'a [&'a str],
        values: &'a [&'a str],
        samples: &'a [Value],
    ) -> Result<Self, LabelError> {
        let expected = names.len() * samples.len();
        if expected != values.len() {
            return Err(LabelError::WrongCount { expected, got: values.len() });
        }
        Ok(Self::new(suffix, names, values, samples))
    }

    /// This run, with its names marked as checked and its values as needing no escaping (only
    /// for names [`crate::encoding::label_names_valid`] accepts and values without `\\`, `"`
    /// or a newline).
    #[cfg(not(feature = "small"))]
    pub(crate) const fn with_known(self) -> Self {
        LineRun { known: true, ..self }
    }

    /// Marks `values` as the same slice for every child of the call (see the field; only the
    /// float histograms have such runs).
    #[cfg(not(feature = "small"))]
    #[cfg_attr(not(feature = "float"), allow(dead_code))]
    pub(crate) const fn with_shared_values(self) -> Self {
        LineRun { shared: true, ..self }
    }

    /// `true` when `values` is the same slice for every child of the call.
    #[cfg(not(feature = "small"))]
    pub(crate) fn shared_values(&self) -> bool {
        self.shared
    }

    /// `true` when the names were checked and the values need no escaping.
    #[cfg(not(feature = "small"))]
    pub(crate) fn known(&self) -> bool {
        self.known
    }

    /// The values of every line's own labels, line after line.
    #[cfg(not(feature = "small"))]
    pub(crate) fn all_values(&self) -> &'a [&'a str] {
        self.values
    }

    /// Line `i` alone, as a run of one.
    #[cfg(not(feature = "small"))]
    pub(crate) fn line(&self, i: usize) -> LineRun<'a> {
        LineRun { values: self.values(i), samples: &self.samples[i..=i], ..*self }
    }

    /// The suffix of every line.
    pub fn suffix(&self) -> &'static str {
        self.suffix
    }

    /// The names of each line's own labels.
    pub fn names(&self) -> &'a [&'a str] {
        self.names
    }

    /// The values of line `i`'s own labels, one per name.
    ///
    /// # Panics
    /// When `i` is not below [`LineRun::len`].
    pub fn values(&self, i: usize) -> &'a [&'a str] {
        let n = self.names.len();
        assert!(i < self.samples.len(), "line out of range");
        &self.values[i * n..(i + 1) * n]
    }

    /// Line `i`'s own labels.
    ///
    /// # Panics
    /// When `i` is not below [`LineRun::len`].
    pub fn labels(&self, i: usize) -> Labels<'a> {
        Labels::new(self.names, self.values(i))
    }

    /// The value of every line.
    pub fn samples(&self) -> &'a [Value] {
        self.samples
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// `true` when the run has no lines.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Anything that reports metric families: a metric, a registry, a custom collector.
///
/// ```
/// use promstack_core::{Collector, CollectError, Desc, Labels, MetricType, Sample, Sink, Value};
///
/// /// Reports the number of free buffers of a pool.
/// struct Pool;
/// impl Collector for Pool {
///     fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
///         let desc = Desc::new("pool_free_buffers", "Free buffers.", MetricType::Gauge);
///         sink.family(&desc)?;
///         sink.sample(&desc, &Sample::new("", Labels::EMPTY, Value::Int(7)))
///     }
/// }
/// let mut out = Vec::new();
/// promstack_core::encode_text(&mut out, &Pool).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "# HELP pool_free_buffers Free buffers.\n# TYPE pool_free_buffers gauge\npool_free_buffers 7.0\n"
/// );
/// ```
pub trait Collector: Send + Sync {
    /// Reports every family with its current samples.
    ///
    /// It may be called more than once per scrape: a text 0.0.4 [`crate::Encoder`] calls it up
    /// to 3 times when the collector reports families text 0.0.4 splits (see the encoder's docs);
    /// OpenMetrics calls it once. Each call must report the same families.
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError>;

    /// Reports the family headers (samples may be reported too and are ignored); registries use
    /// it to detect name collisions. The default collects.
    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.collect(sink)
    }

    /// Visits the collectors this one is made of, in collection order, and returns `true`; a
    /// collector that is not made of others returns `false` (the default) and visits nothing.
    ///
    /// Registries and arrays list their members so an encoder can finish one metric before the
    /// next: text 0.0.4 writes a metric's `x_created` family right after it, as Python does.
    /// Collecting every member must report exactly what [`Collector::collect`] reports.
    fn members(
        &self,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        let _ = visit;
        Ok(false)
    }

    /// Like [`Collector::members`], but may leave out the members that report no sample named
    /// in `names` (a registry knows the names each member claimed when it was registered), so a
    /// filtered scrape (`name[]`) collects only those that can contribute. The default visits
    /// every member.
    fn members_named(
        &self,
        names: &NameSet<'_>,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        let _ = names;
        self.members(visit)
    }
}

impl<C: Collector + ?Sized> Collector for &C {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        (**self).collect(sink)
    }
    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        (**self).describe(sink)
    }
    fn members(
        &self,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        (**self).members(visit)
    }
    fn members_named(
        &self,
        names: &NameSet<'_>,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        (**self).members_named(names, visit)
    }
}

/// A set of full sample names (`x_total`, `h_bucket`, ...), sorted in place so that a lookup is a
/// binary search and nothing is allocated: the `name[]` filter of a scrape.
///
/// ```
/// use promstack_core::NameSet;
/// let mut names = ["b_total", "a", "h_bucket"];
/// let set = NameSet::new(&mut names);
/// assert!(set.contains("a"));
/// assert!(set.contains_sample("h", "_bucket"));
/// assert!(!set.contains_sample("h", "_count"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NameSet<'n> {
    names: &'n [&'n str],
}

impl<'n> NameSet<'n> {
    /// Sorts `names` and wraps them.
    pub fn new(names: &'n mut [&'n str]) -> Self {
        names.sort_unstable();
        NameSet { names }
    }

    /// The names, sorted.
    pub fn as_slice(&self) -> &'n [&'n str] {
        self.names
    }

    /// `true` when `name` is in the set.
    pub fn contains(&self, name: &str) -> bool {
        self.names.binary_search(&name).is_ok()
    }

    /// `true` when `family` followed by `suffix` is in the set (without concatenating them).
    pub fn contains_sample(&self, family: &str, suffix: &str) -> bool {
        in_range(self.names, family, suffix)
    }

    /// The positions of the names that start with `prefix` (contiguous, as the names are sorted).
    fn with_prefix(&self, prefix: &str) -> Range<usize> {
        let start = self.names.partition_point(|n| *n < prefix);
        let len = self.names[start..].partition_point(|n| n.starts_with(prefix));
        start..start + len
    }
}

/// `true` when the sorted `names` hold `family + suffix`.
fn in_range(names: &[&str], family: &str, suffix: &str) -> bool {
    names.binary_search_by(|n| cmp_concat(n, family, suffix)).is_ok()
}

/// Compares `n` with `a + b` without concatenating.
fn cmp_concat(n: &str, a: &str, b: &str) -> Ordering {
    let (n, a, b) = (n.as_bytes(), a.as_bytes(), b.as_bytes());
    let k = n.len().min(a.len());
    match n[..k].cmp(&a[..k]) {
        Ordering::Equal if n.len() < a.len() => Ordering::Less,
        Ordering::Equal => n[a.len()..].cmp(b),
        other => other,
    }
}

impl<C: Collector> Collector for [C] {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.iter().try_for_each(|c| c.collect(sink))
    }
    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.iter().try_for_each(|c| c.describe(sink))
    }
    fn members(
        &self,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        self.iter().try_for_each(|c| visit(c))?;
        Ok(true)
    }
}

impl<C: Collector, const N: usize> Collector for [C; N] {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.as_slice().collect(sink)
    }
    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.as_slice().describe(sink)
    }
    fn members(
        &self,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        self.as_slice().members(visit)
    }
}

/// A sink that forwards only the samples whose full name is in a [`NameSet`], and a family's
/// header only when at least one of its samples is forwarded (the `name[]` filter of the HTTP
/// exporter).
///
/// ```
/// use promstack_core::{Counter, Gauge, Collector, NameFilter, NameSet, Encoder, Format};
/// static A: Counter = Counter::new("a", "A.");
/// static B: Gauge = Gauge::new("b", "B.");
/// let mut names = ["b"];
/// let mut enc = Encoder::new(Format::Text, Vec::new());
/// enc.encode_filtered(&[&A as &dyn Collector, &B], &NameSet::new(&mut names)).unwrap();
/// assert_eq!(enc.finish().unwrap(), b"# HELP b B.\n# TYPE b gauge\nb 0.0\n");
/// ```
pub struct NameFilter<'n, S> {
    inner: S,
    names: NameSet<'n>,
    header_pending: bool,
    /// The family whose names `candidates` holds: its name's address and length.
    family: (usize, usize),
    /// The names that start with that family's name: its samples are looked up only there.
    candidates: Range<usize>,
}

impl<'n, S: Sink> NameFilter<'n, S> {
    /// Wraps `inner`, keeping samples named in `names`.
    pub fn new(inner: S, names: NameSet<'n>) -> Self {
        NameFilter { inner, names, header_pending: false, family: (0, 0), candidates: 0..0 }
    }

    /// The names of the set that `desc`'s samples may have.
    fn candidates(&mut self, desc: &Desc<'_>) -> &'n [&'n str] {
        let key = (desc.name.as_ptr() as usize, desc.name.len());
        if key != self.family {
            self.family = key;
            self.candidates = self.names.with_prefix(desc.name);
        }
        &self.names.names[self.candidates.clone()]
    }

    /// The wrapped sink.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Sink> Sink for NameFilter<'_, S> {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        self.header_pending = true;
        self.family = (0, 0);
        self.candidates(desc);
        Ok(())
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        let candidates = self.candidates(desc);
        if candidates.is_empty() || !in_range(candidates, desc.name, sample.suffix) {
            return Ok(());
        }
        if self.header_pending {
            self.header_pending = false;
            self.inner.family(desc)?;
        }
        self.inner.sample(desc, sample)
    }

    fn wants_created(&self) -> bool {
        self.inner.wants_created()
    }

    #[cfg(feature = "float")]
    fn native_histogram(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        point: &NativeHistogramPoint<'_>,
    ) -> Result<(), CollectError> {
        // The point stands for the `_bucket` series (its count and sum for `_count`, `_sum`).
        let candidates = self.candidates(desc);
        let wanted = ["_bucket", "_count", "_sum"].iter().any(|s| in_range(candidates, desc.name, s));
        if !wanted {
            return Ok(());
        }
        if self.header_pending {
            self.header_pending = false;
            self.inner.family(desc)?;
        }
        self.inner.native_histogram(desc, labels, point)
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        (**self).family(desc)
    }
    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        (**self).sample(desc, sample)
    }
    fn wants_created(&self) -> bool {
        (**self).wants_created()
    }
    #[cfg(feature = "float")]
    fn native_histogram(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        point: &NativeHistogramPoint<'_>,
    ) -> Result<(), CollectError> {
        (**self).native_histogram(desc, labels, point)
    }
}

#[cfg(all(test, feature = "float", feature = "openmetrics"))]
mod tests {
    use super::*;

    #[test]
    fn name_set_lookups_match_a_scan() {
        let pool = ["", "a", "a_", "a_total", "a_totalx", "ab", "b", "a_b", "a_bucket", "z_sum"];
        let mut names = ["a_total", "ab", "a_b", "z_sum", "a"];
        let want: heapless::Vec<&str, 8> = names.iter().copied().collect();
        let set = NameSet::new(&mut names);
        assert!(set.as_slice().is_sorted());
        for family in pool {
            for suffix in pool {
                let mut full = heapless::String::<32>::new();
                full.push_str(family).unwrap();
                full.push_str(suffix).unwrap();
                let listed = want.contains(&full.as_str());
                assert_eq!(set.contains_sample(family, suffix), listed, "{family:?} + {suffix:?}");
                assert_eq!(set.contains(&full), listed, "{full:?}");
                let prefixed = set.as_slice()[set.with_prefix(family)].iter().all(|n| n.starts_with(family));
                assert!(prefixed, "{family:?}");
                let count = want.iter().filter(|n| n.starts_with(family)).count();
                assert_eq!(set.with_prefix(family).len(), count, "{family:?}");
            }
        }
    }
}
