//! The [`Metric`] trait: one set of series of one type, without a name, so the same value type
//! serves as an unlabeled metric and as a child of a labeled [`Family`](crate::Family).

#[cfg(feature = "float")]
use crate::clock;
use crate::collector::Sink;
use crate::desc::{Desc, MetricType};
use crate::error::{CollectError, DescError};
use crate::sample::Labels;
#[cfg(feature = "float")]
use crate::sample::Sample;
use crate::sample::Value;
#[cfg(feature = "created")]
use crate::sync::{AtomicF64, Ordering};

/// A metric value: counters, gauges, histograms, ... without their description.
///
/// Implementations are `const`-constructible through [`Metric::INIT`], so fixed-capacity
/// families can be `static`.
pub trait Metric: Send + Sync + 'static {
    /// The family type this value reports as.
    const METRIC_TYPE: MetricType;
    /// A fresh value (zero, initial state).
    const INIT: Self;
    /// What the value needs besides itself to report: bucket bounds, Enum states, Info pairs.
    type Config: Send + Sync + 'static;

    /// Checks `config` at run time, and how it fits a family named `name` with `label_names`
    /// (bucket order, Enum states, Info pair names). Families assembled at run time call it; the
    /// `const` constructors make the same checks at compile time. The default accepts anything.
    fn check_config(config: &Self::Config, name: &str, label_names: &[&str]) -> Result<(), DescError> {
        let _ = (config, name, label_names);
        Ok(())
    }

    /// Back to the initial value; the creation time becomes now (if a clock is installed).
    fn reset(&self);

    /// Reports this value's samples with `labels` into `sink`.
    fn report(
        &self,
        config: &Self::Config,
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError>;

    /// Reports the children of one family, values of this type that share `config` and
    /// `desc`: `children` calls the function it is given once per child, with the child's
    /// value and labels. The default reports each with [`Metric::report`]; a type with work
    /// that is the same for every child (a histogram's `le` texts) does it once here.
    fn report_children(
        config: &Self::Config,
        desc: &Desc<'_>,
        sink: &mut dyn Sink,
        children: &mut ChildWalk<'_, Self>,
    ) -> Result<(), CollectError> {
        children(&mut |value, labels| value.report(config, desc, labels, sink))
    }

    /// `Some(suffix)` when [`Metric::report`] of every value of this type, into a sink whose
    /// [`Sink::wants_created`] is `wants_created`, is exactly one sample: `suffix`, the value
    /// [`Metric::single_value`], no timestamp, no exemplar. Families then hand all their
    /// children to [`BatchSink::samples`](crate::BatchSink::samples) in one call. `None` (the default) otherwise.
    fn single_suffix(config: &Self::Config, wants_created: bool) -> Option<&'static str> {
        let _ = (config, wants_created);
        None
    }

    /// The value of that one sample. Called only when [`Metric::single_suffix`] is `Some`;
    /// the default (for types that never are) is zero.
    fn single_value(&self, config: &Self::Config) -> Value {
        let _ = config;
        Value::Int(0)
    }
}

/// A family's walk over its children for [`Metric::report_children`]: it calls the function it
/// is given with each child's value and labels, and stops at the first error.
pub type ChildWalk<'a, M> =
    dyn FnMut(&mut dyn FnMut(&M, Labels<'_>) -> Result<(), CollectError>) -> Result<(), CollectError> + 'a;

/// The name of a histogram bucket's own label, at one address (the encoder compares checked
/// names by address).
#[cfg(not(feature = "small"))]
static LE: [&str; 1] = ["le"];

/// Histogram bucket lines: `le` texts and counts, marked as known (the name is valid, and
/// bounds are spelled with digits, `.`, `e`, signs, `Inf` and `NaN`, nothing to escape).
#[cfg(not(feature = "small"))]
pub(crate) fn bucket_run<'a>(le_texts: &'a [&'a str], counts: &'a [Value]) -> crate::collector::LineRun<'a> {
    crate::collector::LineRun::new("_bucket", &LE, le_texts, counts).with_known()
}

/// Creation time of a value, kept with the `created` feature: 0 until reset or claimed, meaning
/// "the clock's install time" (so a fresh value is all zero bits and a `static` of it needs no
/// initialised data).
#[cfg(feature = "created")]
pub(crate) struct Created(AtomicF64);

/// Without the `created` feature a value keeps no creation time: its `_created` is the clock's
/// install time, which is right for `static`s (created at boot) and costs no RAM.
#[cfg(not(feature = "created"))]
pub(crate) struct Created;

#[cfg(feature = "created")]
impl Created {
    pub(crate) const INIT: Created = Created(AtomicF64::new(0.0));

    /// Marks the value as created now (or "unknown" without a clock).
    pub(crate) fn stamp(&self) {
        self.0.store(clock::unix_time().unwrap_or(0.0), Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Option<f64> {
        let t = self.0.load(Ordering::Relaxed);
        if t == 0.0 {
            clock::install_time()
        } else {
            Some(t)
        }
    }
}

#[cfg(not(feature = "created"))]
impl Created {
    pub(crate) const INIT: Created = Created;

    /// Nothing to mark: see the type's docs.
    pub(crate) fn stamp(&self) {}

    #[cfg(feature = "float")]
    pub(crate) fn get(&self) -> Option<f64> {
        clock::install_time()
    }
}

impl Created {
    /// Without the `float` feature there are no times: nothing to report.
    #[cfg(not(feature = "float"))]
    pub(crate) fn report(&self, _: &Desc<'_>, _: Labels<'_>, _: &mut dyn Sink) -> Result<(), CollectError> {
        Ok(())
    }

    /// Reports `x_created` if a creation time is known and the sink keeps it.
    #[cfg(feature = "float")]
    pub(crate) fn report(
        &self,
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        if !sink.wants_created() {
            return Ok(());
        }
        match self.get() {
            Some(t) => sink.sample(desc, &Sample::new("_created", labels, Value::Float(t))),
            None => Ok(()),
        }
    }
}
