//! Unlabeled metrics: a value with its description, and where that description lives.
//!
//! A metric has a read-only part (name, help, unit, label names, bucket bounds, Enum states: a
//! [`Spec`]) and a mutable part (its atomics: a [`Metric`] value). [`Described`] holds both;
//! `Counter`, `Gauge`, `Histogram<N>`, ... are its aliases. Declared as a plain `static`, the
//! whole metric is mutable data, so firmware keeps the description in RAM (and a copy of it in
//! flash to initialise RAM from). Declared with [`metrics!`](crate::metrics), the description is
//! a separate read-only `static` (flash) and the metric holds only its values, all zero: they
//! take RAM in `.bss` and nothing else.

use crate::collector::{Collector, Sink};
use crate::desc::Desc;
use crate::error::CollectError;
use crate::family::FixedFamily;
use crate::metric::Metric;
use crate::sample::Labels;

/// Everything read-only about a metric: its [`Desc`], its `L` label names and its
/// configuration `C` (bucket bounds, Enum states, Info pairs; `()` for counters and gauges).
///
/// A `Spec` holds no atomics, so a `static` one lives in read-only memory.
#[derive(Debug, Clone, Copy)]
pub struct Spec<C, const L: usize = 0> {
    desc: Desc<'static>,
    label_names: [&'static str; L],
    config: C,
}

impl<C, const L: usize> Spec<C, L> {
    /// A spec from its parts. The constructors of each metric type check the parts; this does
    /// not.
    pub const fn new(desc: Desc<'static>, label_names: [&'static str; L], config: C) -> Self {
        Spec { desc, label_names, config }
    }

    /// The description.
    pub const fn desc(&self) -> &Desc<'static> {
        &self.desc
    }

    /// The label names.
    pub const fn label_names(&self) -> &[&'static str; L] {
        &self.label_names
    }

    /// The configuration (bucket bounds, Enum states, Info pairs, or `()`).
    pub const fn config(&self) -> &C {
        &self.config
    }

    /// The same spec with unit `unit`; the name must end with `_<unit>`.
    ///
    /// # Panics
    /// See [`Desc::with_unit`].
    pub const fn with_unit(self, unit: &'static str) -> Self
    where
        C: Copy,
    {
        Spec { desc: self.desc.with_unit(unit), ..self }
    }
}

/// Where a metric finds its [`Spec`] `P`: in itself (a `Spec` is its own source), or, for a
/// metric declared with [`metrics!`](crate::metrics), in a read-only `static` the macro
/// declares (the source is then a type of size zero).
pub trait SpecSource<P>: Send + Sync + 'static {
    /// The spec.
    fn spec(&self) -> &P;
}

impl<C: Send + Sync + 'static, const L: usize> SpecSource<Spec<C, L>> for Spec<C, L> {
    #[inline]
    fn spec(&self) -> &Spec<C, L> {
        self
    }
}

/// A metric value `M` with its spec, found through `S` (by default the spec itself, inline):
/// an unlabeled metric. Use it through its aliases [`Counter`](crate::Counter),
/// [`Gauge`](crate::Gauge), [`Histogram`](crate::Histogram), ...
///
/// ```
/// use promstack_core::{Counter, CounterValue, Described};
/// static REQUESTS: Counter = Counter::new("requests", "Requests served.");
/// let _: &Described<CounterValue> = &REQUESTS;
/// REQUESTS.inc();
/// assert_eq!(REQUESTS.value().get_int(), 1);
/// ```
pub struct Described<M: Metric, S = Spec<<M as Metric>::Config>> {
    spec: S,
    value: M,
}

impl<M: Metric, S> Described<M, S> {
    /// A fresh value whose spec is found through `spec`. The constructors of each metric type
    /// check the spec; [`metrics!`](crate::metrics) calls this with a spec they checked.
    pub const fn with_spec(spec: S) -> Self {
        Described { spec, value: M::INIT }
    }

    /// Where the spec is found. (Used by [`metrics!`](crate::metrics) to copy a checked spec
    /// into flash.)
    pub const fn spec_source(&self) -> &S {
        &self.spec
    }

    /// The value.
    pub const fn value(&self) -> &M {
        &self.value
    }
}

impl<M: Metric> Described<M> {
    /// A metric with description `desc` and configuration `config`, both already checked.
    pub(crate) const fn build(desc: Desc<'static>, config: M::Config) -> Self {
        Described { spec: Spec::new(desc, [], config), value: M::INIT }
    }
}

impl<M: Metric, S: SpecSource<Spec<M::Config>>> Described<M, S> {
    /// The spec (description and configuration).
    #[inline]
    pub fn spec(&self) -> &Spec<M::Config> {
        self.spec.spec()
    }

    /// The description.
    #[inline]
    pub fn desc(&self) -> &Desc<'static> {
        self.spec().desc()
    }

    /// Back to the initial value; `_created` becomes now (with the `created` feature and a clock).
    pub fn reset(&self) {
        self.value.reset();
    }
}

impl<M: Metric, S: SpecSource<Spec<M::Config>>> Collector for Described<M, S> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let spec = self.spec();
        sink.family(spec.desc())?;
        self.value.report(spec.config(), spec.desc(), Labels::EMPTY, sink)
    }
}

/// The same metric type with its spec found through `S` instead: how [`metrics!`](crate::metrics)
/// names the type of the `static` it declares. Not meant to be implemented or named elsewhere.
#[doc(hidden)]
pub trait Relocate<S> {
    /// The spec type of the metric as written.
    type Spec;
    /// The metric type with its spec found through `S`.
    type Moved;
}

impl<M: Metric, S0, S> Relocate<S> for Described<M, S0> {
    type Spec = S0;
    type Moved = Described<M, S>;
}

impl<M: Metric, const L: usize, const N: usize, const V: usize, S0, S> Relocate<S>
    for FixedFamily<M, L, N, V, S0>
{
    type Spec = S0;
    type Moved = FixedFamily<M, L, N, V, S>;
}

/// Declares metric `static`s whose specs (name, help, unit, label names, bucket bounds, Enum
/// states) live in read-only memory, so that each metric takes RAM for its values only, all
/// zero-initialised (`.bss`): what firmware wants.
///
/// Write the declarations exactly as plain `static`s; each may carry attributes and a
/// visibility. The initialiser is evaluated at compile time (a bad name or bound list is a
/// compile error, as for a plain `static`), its spec is copied into a read-only `static`, and
/// the metric keeps only its values. A `static` declared this way has the same methods as one
/// declared plainly, and is a [`Collector`](crate::Collector) the same way.
///
/// ```
/// use promstack_core::{encode_text, Collector, Counter, CounterValue, FixedFamily, Histogram};
/// promstack_core::metrics! {
///     /// Requests served.
///     pub static REQUESTS: Counter = Counter::new("requests", "Requests served.");
///     static LATENCY: Histogram<2> =
///         Histogram::new("latency_seconds", "Latency.", [0.1, 1.0]).with_unit("seconds");
///     static BY_PORT: FixedFamily<CounterValue, 1, 4> =
///         FixedFamily::counter("frames", "Frames by port.", ["port"]);
/// }
/// REQUESTS.inc();
/// LATENCY.observe(0.05);
/// BY_PORT.get(["uart0"]).unwrap().inc();
/// // Only the values take space in the metric itself:
/// assert_eq!(core::mem::size_of_val(&REQUESTS), core::mem::size_of::<CounterValue>());
/// let out = encode_text(Vec::new(), &[&REQUESTS as &dyn Collector, &LATENCY, &BY_PORT]).unwrap();
/// let out = String::from_utf8(out).unwrap();
/// assert!(out.starts_with("# HELP requests_total Requests served.\n"));
/// assert!(out.contains("latency_seconds_bucket{le=\"0.1\"} 1.0\n"));
/// assert!(out.ends_with("frames_total{port=\"uart0\"} 1.0\n"));
/// ```
///
/// Each declaration also declares a hidden zero-sized type of the same name (types and values
/// have separate namespaces): it is where the metric finds its spec.
#[macro_export]
macro_rules! metrics {
    ($($(#[$attr:meta])* $vis:vis static $name:ident : $ty:ty = $init:expr;)*) => {$(
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        $vis struct $name {}

        impl $crate::SpecSource<<$ty as $crate::Relocate<()>>::Spec> for $name {
            #[inline]
            fn spec(&self) -> &<$ty as $crate::Relocate<()>>::Spec {
                static SPEC: <$ty as $crate::Relocate<()>>::Spec = *<$ty>::spec_source(&$init);
                &SPEC
            }
        }

        $(#[$attr])*
        $vis static $name: <$ty as $crate::Relocate<$name>>::Moved =
            <<$ty as $crate::Relocate<$name>>::Moved>::with_spec($name {});
    )*};
}

/// `with_unit` for metric types whose value has no destructor (a `const fn` cannot drop a
/// generic value, so each type gets its own).
macro_rules! with_unit {
    ($($t:ty $(, const $n:ident)?;)*) => {$(
        impl$(<const $n: usize>)? $t {
            /// Sets the unit; the name must end with `_<unit>`.
            ///
            /// # Panics
            /// See [`Desc::with_unit`].
            pub const fn with_unit(self, unit: &'static str) -> Self {
                Described { spec: self.spec.with_unit(unit), value: self.value }
            }
        }
    )*};
}

#[cfg(feature = "float")]
with_unit! {
    crate::Gauge;
    crate::Summary;
    crate::Histogram<N>, const N;
}

with_unit! {
    crate::Counter;
    crate::IntGauge;
    crate::Gauge32;
    crate::IntHistogram<N>, const N;
}
