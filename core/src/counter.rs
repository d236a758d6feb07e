//! Counters: values that only go up.

use crate::collector::{Collector, Sink};
use crate::desc::{Desc, MetricType};
use crate::error::{CollectError, ValueError};
use crate::metric::{Created, Metric};
use crate::sample::{Labels, Sample, Value};
use crate::sync::{AtomicF64, AtomicU64, Ordering};

/// Checks a counter increment: NaN and negative amounts are refused (counters only go up).
///
/// ```
/// use promstack_core::{check_increment, ValueError};
/// assert_eq!(check_increment(0.5), Ok(()));
/// assert_eq!(check_increment(-1.0), Err(ValueError::NegativeIncrement(-1.0)));
/// assert_eq!(check_increment(f64::NAN), Err(ValueError::NanIncrement));
/// ```
#[inline]
pub fn check_increment(v: f64) -> Result<(), ValueError> {
    if v.is_nan() {
        Err(ValueError::NanIncrement)
    } else if v < 0.0 {
        Err(ValueError::NegativeIncrement(v))
    } else {
        Ok(())
    }
}

/// The value of a counter: an integer part (so [`CounterValue::inc`] is one atomic add) and a
/// float part for fractional increments.
pub struct CounterValue {
    int: AtomicU64,
    float: AtomicF64,
    created: Created,
}

impl CounterValue {
    /// A zero counter.
    pub const fn new() -> Self {
        CounterValue { int: AtomicU64::new(0), float: AtomicF64::new(0.0), created: Created::INIT }
    }

    /// Adds 1: a single atomic add.
    #[inline]
    pub fn inc(&self) {
        // Relaxed is enough: the counter orders nothing else, and the add itself is atomic.
        self.int.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds a whole number.
    #[inline]
    pub fn inc_by_int(&self, n: u64) {
        self.int.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds `v`. A negative or NaN `v` is refused and changes nothing.
    #[inline]
    pub fn inc_by(&self, v: f64) -> Result<(), ValueError> {
        check_increment(v)?;
        // Whole numbers below 2^53 are exact as u64 and keep the cheap integer path.
        if v <= 9_007_199_254_740_992.0 && v == (v as u64) as f64 {
            self.int.fetch_add(v as u64, Ordering::Relaxed);
        } else {
            self.float.fetch_add(v, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.value().as_f64()
    }

    fn value(&self) -> Value {
        let i = self.int.load(Ordering::Relaxed);
        let f = self.float.load(Ordering::Relaxed);
        if f == 0.0 {
            Value::Int(i)
        } else {
            Value::Float(i as f64 + f)
        }
    }
}

impl Default for CounterValue {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for CounterValue {
    const METRIC_TYPE: MetricType = MetricType::Counter;
    const INIT: Self = CounterValue::new();
    type Config = ();

    fn reset(&self) {
        self.int.store(0, Ordering::Relaxed);
        self.float.store(0.0, Ordering::Relaxed);
        self.created.stamp();
    }

    fn report(
        &self,
        _: &(),
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        sink.sample(desc, &Sample::new("_total", labels, self.value()))?;
        self.created.report(desc, labels, sink)
    }
}

/// A counter: a value that only goes up (and resets to zero when the process restarts).
///
/// A name ending in `_total` is stored without it; the exposition adds `_total` back.
///
/// ```
/// use promstack_core::{Counter, encode_text};
/// static REQUESTS: Counter = Counter::new("http_requests_total", "Requests served.");
/// REQUESTS.inc();
/// REQUESTS.inc_by(2.0).unwrap();
/// assert!(REQUESTS.inc_by(-1.0).is_err());
/// assert_eq!(REQUESTS.get(), 3.0);
/// let out = encode_text(Vec::new(), &REQUESTS).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total 3.0\n"
/// );
/// ```
///
/// A bad name in a `static` does not compile:
/// ```compile_fail
/// static BAD: promstack_core::Counter = promstack_core::Counter::new("0requests", "");
/// ```
pub struct Counter {
    desc: Desc<'static>,
    value: CounterValue,
}

impl Counter {
    /// A counter named `name` (a trailing `_total` is dropped) with help text `help`.
    ///
    /// # Panics
    /// On an invalid name: a compile error in a `static`. See [`Counter::try_new`].
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Counter { desc: Desc::new(name, help, MetricType::Counter), value: CounterValue::new() }
    }

    /// Run-time form of [`Counter::new`].
    pub fn try_new(name: &'static str, help: &'static str) -> Result<Self, crate::DescError> {
        Ok(Counter { desc: Desc::try_new(name, help, MetricType::Counter)?, value: CounterValue::new() })
    }

    /// Sets the unit; the name must end with `_<unit>`.
    ///
    /// # Panics
    /// See [`Desc::with_unit`].
    pub const fn with_unit(self, unit: &'static str) -> Self {
        Counter { desc: self.desc.with_unit(unit), value: self.value }
    }

    /// The description.
    pub const fn desc(&self) -> &Desc<'static> {
        &self.desc
    }

    /// Adds 1: a single atomic add.
    #[inline]
    pub fn inc(&self) {
        self.value.inc();
    }

    /// Adds `v`; negative or NaN is refused with an error and changes nothing.
    #[inline]
    pub fn inc_by(&self, v: f64) -> Result<(), ValueError> {
        self.value.inc_by(v)
    }

    /// Adds a whole number.
    #[inline]
    pub fn inc_by_int(&self, n: u64) {
        self.value.inc_by_int(n);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.value.get()
    }

    /// Back to zero; `_created` becomes now.
    pub fn reset(&self) {
        self.value.reset();
    }
}

impl Collector for Counter {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.desc)?;
        self.value.report(&(), &self.desc, Labels::EMPTY, sink)
    }
}
