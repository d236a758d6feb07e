//! The one trait every metric, registry and custom collector implements, and the sink it
//! reports into.
//!
//! A collector calls [`Sink::family`] once per family (even a labeled family with no children
//! reports its header), then [`Sink::sample`] once per sample. Nothing is allocated.

use crate::desc::Desc;
use crate::error::CollectError;
use crate::sample::Sample;

/// Receives families and samples from collectors: an encoder, a name index, a value lookup.
pub trait Sink {
    /// A family starts. Its samples follow; another `family` call ends it.
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError>;

    /// One sample of the family `desc` (the same `desc` passed to the last [`Sink::family`]).
    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError>;

    /// `false` when the sink would drop `_created` samples (text 0.0.4 by default), so
    /// collectors may skip them. Reporting them anyway is always correct. Default: `true`.
    fn wants_created(&self) -> bool {
        true
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

/// A sink that forwards only the samples whose full name is in a list, and a family's header
/// only when at least one of its samples is forwarded (the `name[]` filter of the HTTP exporter).
///
/// ```
/// use promstack_core::{Counter, Gauge, Collector, NameFilter, Encoder, Format};
/// static A: Counter = Counter::new("a", "A.");
/// static B: Gauge = Gauge::new("b", "B.");
/// let mut enc = Encoder::new(Format::Text, Vec::new());
/// enc.encode_filtered(&[&A as &dyn Collector, &B], &["b"]).unwrap();
/// assert_eq!(enc.finish().unwrap(), b"# HELP b B.\n# TYPE b gauge\nb 0.0\n");
/// ```
pub struct NameFilter<'n, S> {
    inner: S,
    names: &'n [&'n str],
    header_pending: bool,
}

impl<'n, S: Sink> NameFilter<'n, S> {
    /// Wraps `inner`, keeping samples named in `names`.
    pub fn new(inner: S, names: &'n [&'n str]) -> Self {
        NameFilter { inner, names, header_pending: false }
    }

    /// The wrapped sink.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// `true` when `full == family + suffix`.
pub(crate) fn is_sample_name(full: &str, family: &str, suffix: &str) -> bool {
    full.len() == family.len() + suffix.len() && full.starts_with(family) && full.ends_with(suffix)
}

impl<S: Sink> Sink for NameFilter<'_, S> {
    fn family(&mut self, _desc: &Desc<'_>) -> Result<(), CollectError> {
        self.header_pending = true;
        Ok(())
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        if !self.names.iter().any(|n| is_sample_name(n, desc.name, sample.suffix)) {
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
}
