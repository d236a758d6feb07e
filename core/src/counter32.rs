//! A 4-byte integer counter that is lock-free wherever the core has 32-bit atomics: the
//! counter for firmware on cores without 64-bit atomics (Cortex-M3/M4), where a [`Counter`]'s
//! 64-bit add takes a critical section.
//!
//! It counts modulo 2^32. A wrap back through zero looks, to Prometheus, exactly like a process
//! restart: `rate()` and `increase()` treat the drop as a counter reset and keep counting, so
//! nothing is lost as long as it is scraped at least once per 2^32 increments. It has no
//! `_created` sample (a creation time would cost 8 bytes more and a clock).
//!
//! [`Counter`]: crate::Counter

use crate::collector::Sink;
use crate::desc::{Desc, MetricType};
use crate::described::{Described, Spec, SpecSource};
use crate::error::CollectError;
use crate::metric::Metric;
use crate::sample::{Labels, Sample, Value};
use crate::sync::{AtomicU32, Ordering};

/// The value of a [`Counter32`]: one `u32`, wrapping at 2^32.
pub struct Counter32Value {
    count: AtomicU32,
}

impl Counter32Value {
    /// A zero counter.
    pub const fn new() -> Self {
        Counter32Value { count: AtomicU32::new(0) }
    }

    /// Adds 1: one 32-bit atomic add (a critical section only on cores without 32-bit
    /// read-modify-write atomics, such as the Cortex-M0).
    #[inline]
    pub fn inc(&self) {
        // Relaxed: the counter orders nothing else, and the add itself is atomic.
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n`, wrapping at 2^32 (reported as a counter reset; see the module docs).
    #[inline]
    pub fn inc_by(&self, n: u32) {
        self.count.fetch_add(n, Ordering::Relaxed);
    }

    /// The current count.
    #[inline]
    pub fn get(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }
}

impl Default for Counter32Value {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for Counter32Value {
    const METRIC_TYPE: MetricType = MetricType::Counter;
    const INIT: Self = Counter32Value::new();
    type Config = ();

    fn reset(&self) {
        self.count.store(0, Ordering::Relaxed);
    }

    fn report(
        &self,
        _: &(),
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        sink.sample(desc, &Sample::new("_total", labels, Value::Int(u64::from(self.get()))))
    }

    /// No creation time is kept: `_total` is the only sample.
    fn single_suffix(_: &(), _: bool) -> Option<&'static str> {
        Some("_total")
    }
    fn single_value(&self, _: &()) -> Value {
        Value::Int(u64::from(self.get()))
    }
}

/// A counter of at most 2^32 - 1 that takes 4 bytes and no lock where the core has 32-bit
/// atomics.
///
/// It counts modulo 2^32: a wrap back through zero reads, to Prometheus, like a process restart,
/// and `rate()`/`increase()` count across it as across any counter reset, so nothing is lost
/// while it is scraped at least once per 2^32 increments. It reports no `_created` sample.
///
/// ```
/// use promstack_core::{encode_text, Counter32};
/// static WAKEUPS: Counter32 = Counter32::new("radio_wakeups_total", "Radio wake-ups.");
/// WAKEUPS.inc();
/// WAKEUPS.inc_by(2);
/// assert_eq!(WAKEUPS.get(), 3);
/// let out = encode_text(Vec::new(), &WAKEUPS).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "# HELP radio_wakeups_total Radio wake-ups.\n# TYPE radio_wakeups_total counter\nradio_wakeups_total 3.0\n"
/// );
/// ```
pub type Counter32<S = Spec<()>> = Described<Counter32Value, S>;

impl Counter32 {
    /// A counter named `name` (a trailing `_total` is dropped) with help text `help`.
    ///
    /// # Panics
    /// On an invalid name: a compile error in a `static`. See [`Counter32::try_new`].
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Self::build(Desc::new(name, help, MetricType::Counter), ())
    }

    /// Run-time form of [`Counter32::new`].
    pub fn try_new(name: &'static str, help: &'static str) -> Result<Self, crate::DescError> {
        Ok(Self::build(Desc::try_new(name, help, MetricType::Counter)?, ()))
    }
}

impl<S: SpecSource<Spec<()>>> Counter32<S> {
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.value().inc();
    }

    /// Adds `n`, wrapping at 2^32.
    #[inline]
    pub fn inc_by(&self, n: u32) {
        self.value().inc_by(n);
    }

    /// The current count.
    #[inline]
    pub fn get(&self) -> u32 {
        self.value().get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_to_a_reset_not_a_saturation() {
        let c = Counter32Value::new();
        c.inc_by(u32::MAX);
        assert_eq!(c.get(), u32::MAX);
        c.inc_by(3);
        assert_eq!(c.get(), 2, "wraps modulo 2^32, read by Prometheus as a reset");
    }

    #[test]
    fn concurrent_increments_are_exact() {
        let c = Counter32Value::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..100_000).for_each(|_| c.inc()));
            }
        });
        assert_eq!(c.get(), 400_000);
    }
}
