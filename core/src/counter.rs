//! Counters: values that only go up.

use crate::collector::Sink;
use crate::desc::{Desc, MetricType};
use crate::described::{Described, Spec, SpecSource};
use crate::error::CollectError;
#[cfg(feature = "float")]
use crate::error::ValueError;
use crate::metric::{Created, Metric};
use crate::sample::{Labels, Sample, Value};
#[cfg(feature = "float")]
use crate::sync::AtomicF64;
use crate::sync::{AtomicU64, Ordering};

#[cfg(feature = "float")]
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

#[cfg(feature = "float")]
/// Whole-number increments below this may go to the integer part; larger ones go to the float
/// part. See [`CounterValue`] for why this bound keeps the integer part from wrapping.
const INT_STEP_LIMIT: u64 = 1 << 32;

#[cfg(feature = "float")]
/// Once the integer part reaches this, whole-number increments go to the float part.
const INT_FULL: u64 = 1 << 63;

/// The value of a counter: an integer part (so [`CounterValue::inc`] is one atomic add) and a
/// float part for fractional increments.
///
/// The integer part never wraps. [`CounterValue::inc_by_int`] adds to it only amounts below
/// 2^32, and only after reading it below 2^63; otherwise the amount goes to the float part.
/// Between the read and the add other threads may add too, but each adds less than 2^32, so
/// passing 2^64 would take 2^31 threads inside that window at once. [`CounterValue::inc`] adds
/// without looking (it stays one `fetch_add`): from 2^63 it would take 2^63 calls, centuries at
/// one per nanosecond, to reach 2^64. Both parts only ever grow, so a reader never sees the
/// value go down.
///
/// ```
/// use promstack_core::CounterValue;
/// let c = CounterValue::new();
/// c.inc_by_int(u64::MAX);
/// c.inc_by_int(2);
/// assert_eq!(c.get(), u64::MAX as f64 + 2.0); // 2^64 + 1, as close as an f64 gets
/// ```
pub struct CounterValue {
    int: AtomicU64,
    #[cfg(feature = "float")]
    float: AtomicF64,
    created: Created,
}

impl CounterValue {
    /// A zero counter.
    pub const fn new() -> Self {
        CounterValue {
            int: AtomicU64::new(0),
            #[cfg(feature = "float")]
            float: AtomicF64::new(0.0),
            created: Created::INIT,
        }
    }

    /// Adds 1: a single atomic add.
    #[inline]
    pub fn inc(&self) {
        // Relaxed is enough: the counter orders nothing else, and the add itself is atomic.
        self.int.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds a whole number (amounts of 2^32 and more are kept in floating point; without the
    /// `float` feature everything goes to the integer, which wraps only after 2^64).
    #[inline]
    pub fn inc_by_int(&self, n: u64) {
        #[cfg(not(feature = "float"))]
        self.int.fetch_add(n, Ordering::Relaxed);
        #[cfg(feature = "float")]
        // Relaxed: the read only bounds the integer part (see the type's docs); nothing else
        // is ordered by it.
        if n < INT_STEP_LIMIT && self.int.load(Ordering::Relaxed) < INT_FULL {
            self.int.fetch_add(n, Ordering::Relaxed);
        } else {
            self.float.fetch_add(n as f64, Ordering::Relaxed);
        }
    }

    #[cfg(feature = "float")]
    /// Adds `v`. A negative or NaN `v` is refused and changes nothing.
    #[inline]
    pub fn inc_by(&self, v: f64) -> Result<(), ValueError> {
        check_increment(v)?;
        // Small whole numbers keep the cheap, exact integer path.
        if v < INT_STEP_LIMIT as f64 && v == (v as u64) as f64 {
            self.inc_by_int(v as u64);
        } else {
            self.float.fetch_add(v, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The current value.
    #[cfg(feature = "float")]
    pub fn get(&self) -> f64 {
        self.value().as_f64()
    }

    /// The whole-number part of the value: all of it unless fractional (or huge, see
    /// [`CounterValue::inc_by_int`]) increments were made.
    pub fn get_int(&self) -> u64 {
        self.int.load(Ordering::Relaxed)
    }

    #[cfg(not(feature = "float"))]
    fn value(&self) -> Value {
        Value::Int(self.int.load(Ordering::Relaxed))
    }

    #[cfg(feature = "float")]
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
        #[cfg(feature = "float")]
        self.float.store(0.0, Ordering::Relaxed);
        self.created.stamp();
    }

    // `small` with floats: inlined into the family's collect, the labels it is handed are not
    // copied into a frame of their own (the deepest path of the encode stack; see
    // BENCHMARKS.md's footprint). Integer-only builds keep one copy (flash over stack).
    #[cfg_attr(all(feature = "small", feature = "float"), inline(always))]
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

    /// `_total` alone unless `_created` is wanted (with `float`, which has the times).
    fn single_suffix(_: &(), wants_created: bool) -> Option<&'static str> {
        (!cfg!(feature = "float") || !wants_created).then_some("_total")
    }
    fn single_value(&self, _: &()) -> Value {
        self.value()
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
pub type Counter<S = Spec<()>> = Described<CounterValue, S>;

impl Counter {
    /// A counter named `name` (a trailing `_total` is dropped) with help text `help`.
    ///
    /// # Panics
    /// On an invalid name: a compile error in a `static`. See [`Counter::try_new`].
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Self::build(Desc::new(name, help, MetricType::Counter), ())
    }

    /// Run-time form of [`Counter::new`].
    pub fn try_new(name: &'static str, help: &'static str) -> Result<Self, crate::DescError> {
        Ok(Self::build(Desc::try_new(name, help, MetricType::Counter)?, ()))
    }
}

impl<S: SpecSource<Spec<()>>> Counter<S> {
    /// Adds 1: a single atomic add.
    #[inline]
    pub fn inc(&self) {
        self.value().inc();
    }

    /// Adds `v`; negative or NaN is refused with an error and changes nothing.
    #[cfg(feature = "float")]
    #[inline]
    pub fn inc_by(&self, v: f64) -> Result<(), ValueError> {
        self.value().inc_by(v)
    }

    /// Adds a whole number; see [`CounterValue::inc_by_int`].
    #[inline]
    pub fn inc_by_int(&self, n: u64) {
        self.value().inc_by_int(n);
    }

    /// The current value.
    #[cfg(feature = "float")]
    pub fn get(&self) -> f64 {
        self.value().get()
    }

    /// The whole-number part of the value; see [`CounterValue::get_int`].
    pub fn get_int(&self) -> u64 {
        self.value().get_int()
    }
}

#[cfg(all(test, feature = "float"))]
mod tests {
    use super::*;

    #[test]
    fn the_integer_part_does_not_wrap() {
        let c = CounterValue::new();
        c.inc_by_int(u64::MAX);
        c.inc_by_int(2);
        assert_eq!(c.get(), 18_446_744_073_709_551_616.0);
        c.inc_by(u64::MAX as f64).unwrap();
        assert_eq!(c.get(), 36_893_488_147_419_103_232.0);
    }

    #[test]
    fn a_full_integer_part_sends_increments_to_the_float_part() {
        let c = CounterValue::new();
        c.int.store(INT_FULL - 5, Ordering::Relaxed);
        c.inc_by_int(INT_STEP_LIMIT - 1); // read below the limit: still added to the integer part
        let int = c.int.load(Ordering::Relaxed);
        for _ in 0..1000 {
            c.inc_by_int(INT_STEP_LIMIT - 1);
            c.inc_by(3.0).unwrap();
            c.inc();
        }
        assert_eq!(c.int.load(Ordering::Relaxed), int + 1000, "only inc() added to it");
        let expected = (INT_FULL - 5) as f64 + 1001.0 * (INT_STEP_LIMIT - 1) as f64 + 4000.0;
        assert!((c.get() - expected).abs() <= expected * 1e-15, "{} vs {expected}", c.get());
    }
}
