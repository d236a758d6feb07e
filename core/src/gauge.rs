//! Gauges: values that go up and down, and gauges read from a function.

use crate::clock;
use crate::collector::{Collector, Sink};
use crate::desc::{Desc, MetricType};
use crate::described::{Described, Spec, SpecSource};
use crate::error::{CollectError, ValueError};
use crate::metric::Metric;
use crate::sample::{Labels, Sample, Value};
use crate::sync::{AtomicF64, Ordering};

/// The value of a gauge: one `f64`.
pub struct GaugeValue {
    value: AtomicF64,
}

impl GaugeValue {
    /// A gauge at 0.
    pub const fn new() -> Self {
        GaugeValue { value: AtomicF64::new(0.0) }
    }

    /// Sets the value: a single atomic store.
    #[inline]
    pub fn set(&self, v: f64) {
        // Relaxed: a gauge publishes only its own value.
        self.value.store(v, Ordering::Relaxed);
    }

    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts 1.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// Adds `v` (which may be negative).
    #[inline]
    pub fn add(&self, v: f64) {
        self.value.fetch_add(v, Ordering::Relaxed);
    }

    /// Subtracts `v`.
    #[inline]
    pub fn sub(&self, v: f64) {
        self.value.fetch_sub(v, Ordering::Relaxed);
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> f64 {
        self.value.load(Ordering::Relaxed)
    }

    /// Sets the value to the installed clock's Unix time; an error when no clock is installed.
    pub fn set_to_current_time(&self) -> Result<(), ValueError> {
        let now = clock::unix_time().ok_or(ValueError::NoClock)?;
        self.set(now);
        Ok(())
    }
}

impl Default for GaugeValue {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for GaugeValue {
    const METRIC_TYPE: MetricType = MetricType::Gauge;
    const INIT: Self = GaugeValue::new();
    type Config = ();

    fn reset(&self) {
        self.set(0.0);
    }

    fn report(
        &self,
        _: &(),
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        sink.sample(desc, &Sample::new("", labels, Value::Float(self.get())))
    }
    fn single_suffix(_: &(), _: bool) -> Option<&'static str> {
        Some("")
    }
    fn single_value(&self, _: &()) -> Value {
        Value::Float(self.get())
    }
}

/// A gauge: a value that can go up and down.
///
/// ```
/// use promstack_core::{Gauge, encode_text};
/// static TEMP: Gauge = Gauge::new("board_temperature_celsius", "Board temperature.");
/// TEMP.set(21.5);
/// TEMP.inc();
/// TEMP.sub(0.25);
/// assert_eq!(TEMP.get(), 22.25);
/// let out = encode_text(Vec::new(), &TEMP).unwrap();
/// assert!(String::from_utf8(out).unwrap().ends_with("board_temperature_celsius 22.25\n"));
/// ```
pub type Gauge<S = Spec<()>> = Described<GaugeValue, S>;

impl Gauge {
    /// A gauge named `name` with help text `help`, starting at 0.
    ///
    /// # Panics
    /// On an invalid name: a compile error in a `static`. See [`Gauge::try_new`].
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Self::build(Desc::new(name, help, MetricType::Gauge), ())
    }

    /// Run-time form of [`Gauge::new`].
    pub fn try_new(name: &'static str, help: &'static str) -> Result<Self, crate::DescError> {
        Ok(Self::build(Desc::try_new(name, help, MetricType::Gauge)?, ()))
    }
}

impl<S: SpecSource<Spec<()>>> Gauge<S> {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.value().set(v);
    }

    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.value().inc();
    }

    /// Subtracts 1.
    #[inline]
    pub fn dec(&self) {
        self.value().dec();
    }

    /// Adds `v`.
    #[inline]
    pub fn add(&self, v: f64) {
        self.value().add(v);
    }

    /// Subtracts `v`.
    #[inline]
    pub fn sub(&self, v: f64) {
        self.value().sub(v);
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> f64 {
        self.value().get()
    }

    /// Sets the value to the installed clock's Unix time.
    pub fn set_to_current_time(&self) -> Result<(), ValueError> {
        self.value().set_to_current_time()
    }
}

/// A gauge whose value is read from a function at collection time.
///
/// ```
/// use promstack_core::{GaugeFn, encode_text};
/// fn free_heap() -> f64 { 4096.0 }
/// static FREE: GaugeFn = GaugeFn::new("heap_free_bytes", "Free heap.", free_heap);
/// let out = encode_text(Vec::new(), &FREE).unwrap();
/// assert!(String::from_utf8(out).unwrap().ends_with("heap_free_bytes 4096.0\n"));
/// ```
pub struct GaugeFn {
    desc: Desc<'static>,
    read: fn() -> f64,
}

impl GaugeFn {
    /// A gauge reporting `read()`.
    ///
    /// # Panics
    /// On an invalid name: a compile error in a `static`.
    pub const fn new(name: &'static str, help: &'static str, read: fn() -> f64) -> Self {
        GaugeFn { desc: Desc::new(name, help, MetricType::Gauge), read }
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        (self.read)()
    }
}

impl Collector for GaugeFn {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.desc)?;
        sink.sample(&self.desc, &Sample::new("", Labels::EMPTY, Value::Float(self.get())))
    }
}
