//! Instrumentation helpers on std: timers, in-progress guards, error and panic counting, and
//! gauges read from closures (SPEC §4).
//!
//! They are extension traits over the core value types, so they work the same on an unlabeled
//! metric (`static LATENCY: Histogram<..>`), on its value type and on a labeled child:
//!
//! | trait | for | gives |
//! |---|---|---|
//! | [`ObserveExt`] | histograms, summaries, their children (anything [`Observe`]) | `time(f)`, `start_timer()` |
//! | [`GaugeExt`] | [`Gauge`], [`GaugeValue`], gauge children | `time(f)`, `start_timer()`, `track_inprogress()`, `set_to_now()` |
//! | [`CounterExt`] | [`Counter`], [`CounterValue`], counter children | `count_errors(f)`, `count_errors_if`, `count_errors_of::<E>`, `count_panics(f)` |
//!
//! Durations come from [`Instant`] (monotonic); guards record on drop, so an early return or a
//! panic is measured too.

use promstack_core::{
    Child, CollectError, Collector, Counter, CounterValue, Desc, DescError, Gauge, GaugeValue,
};
use promstack_core::{Labels, MetricType, Observe, Sample, Sink, Value};
use std::error::Error;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Instant;

/// Timing into histograms and summaries (and their labeled children).
///
/// ```
/// use promstack::{Histogram, ObserveExt, DEFAULT_BUCKETS};
/// static LATENCY: Histogram<14> = Histogram::new("latency_seconds", "Latency.", DEFAULT_BUCKETS);
/// let answer = LATENCY.time(|| 6 * 7);
/// assert_eq!(answer, 42);
/// {
///     let _timer = LATENCY.start_timer(); // observed when dropped
/// }
/// assert_eq!(LATENCY.value().count(), 2);
/// ```
pub trait ObserveExt: Observe {
    /// Runs `f` and observes how long it took in seconds, also when it panics.
    fn time<R>(&self, f: impl FnOnce() -> R) -> R {
        let _timer = self.start_timer();
        f()
    }

    /// A guard observing the seconds from now until it is dropped or
    /// [`observe_duration`](StdTimer::observe_duration) is called.
    fn start_timer(&self) -> StdTimer<'_, Self> {
        StdTimer { target: self, start: Instant::now(), armed: true }
    }
}

impl<T: Observe + ?Sized> ObserveExt for T {}

/// Observes elapsed seconds, measured on [`Instant`], into a histogram or summary when dropped;
/// see [`ObserveExt`]. Named like [`StdClock`](crate::StdClock): core's
/// [`Timer`](promstack_core::Timer) is the same thing on the installed clock, for `no_std`.
#[must_use = "the timer observes when dropped; an unbound timer observes immediately"]
pub struct StdTimer<'a, T: Observe + ?Sized> {
    target: &'a T,
    start: Instant,
    armed: bool,
}

impl<T: Observe + ?Sized> StdTimer<'_, T> {
    /// Seconds elapsed so far.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Observes now and returns the observed seconds.
    pub fn observe_duration(mut self) -> f64 {
        self.armed = false;
        let secs = self.elapsed();
        self.target.observe(secs);
        secs
    }

    /// Drops the timer without observing.
    pub fn stop_and_discard(mut self) {
        self.armed = false;
    }
}

impl<T: Observe + ?Sized> Drop for StdTimer<'_, T> {
    fn drop(&mut self) {
        if self.armed {
            self.target.observe(self.elapsed());
        }
    }
}

/// Gauge helpers: timing, in-progress tracking, current time.
///
/// Implemented for [`Gauge`], [`GaugeValue`] and gauge children; implement the two required
/// methods to add your own gauge type.
///
/// ```
/// use promstack::{Gauge, GaugeExt};
/// static IN_FLIGHT: Gauge = Gauge::new("requests_in_flight", "Requests being served.");
/// static LAST_RUN: Gauge = Gauge::new("last_run_seconds", "Duration of the last run.");
/// static LAST_SEEN: Gauge = Gauge::new("last_seen_timestamp_seconds", "Last time seen.");
/// {
///     let _g = IN_FLIGHT.track_inprogress();
///     assert_eq!(IN_FLIGHT.get(), 1.0);
/// }
/// assert_eq!(IN_FLIGHT.get(), 0.0);
/// LAST_RUN.time(|| ());
/// assert!(LAST_RUN.get() >= 0.0);
/// LAST_SEEN.set_to_now();
/// assert!(LAST_SEEN.get() > 1.5e9);
/// ```
pub trait GaugeExt {
    /// Sets the gauge.
    fn gauge_set(&self, v: f64);
    /// Adds `v` (may be negative).
    fn gauge_add(&self, v: f64);

    /// Increments now and decrements when the guard is dropped (early return and panic too).
    fn track_inprogress(&self) -> InProgress<'_, Self> {
        self.gauge_add(1.0);
        InProgress { gauge: self }
    }

    /// Sets the gauge to the current Unix time in seconds (from `SystemTime`).
    fn set_to_now(&self) {
        use promstack_core::Clock;
        self.gauge_set(crate::StdClock.unix_time());
    }

    /// Runs `f` and sets the gauge to how long it took in seconds, also when it panics.
    fn time<R>(&self, f: impl FnOnce() -> R) -> R {
        let _timer = self.start_timer();
        f()
    }

    /// A guard setting the gauge to the seconds from now until it is dropped.
    fn start_timer(&self) -> GaugeTimer<'_, Self> {
        GaugeTimer { gauge: self, start: Instant::now(), armed: true }
    }
}

impl GaugeExt for GaugeValue {
    fn gauge_set(&self, v: f64) {
        self.set(v);
    }
    fn gauge_add(&self, v: f64) {
        self.add(v);
    }
}

impl GaugeExt for Gauge {
    fn gauge_set(&self, v: f64) {
        self.set(v);
    }
    fn gauge_add(&self, v: f64) {
        self.add(v);
    }
}

impl GaugeExt for Child<'_, GaugeValue> {
    fn gauge_set(&self, v: f64) {
        self.set(v);
    }
    fn gauge_add(&self, v: f64) {
        self.add(v);
    }
}

/// Decrements a gauge when dropped; see [`GaugeExt::track_inprogress`].
#[must_use = "the gauge is decremented when the guard is dropped"]
pub struct InProgress<'a, G: GaugeExt + ?Sized> {
    gauge: &'a G,
}

impl<G: GaugeExt + ?Sized> Drop for InProgress<'_, G> {
    fn drop(&mut self) {
        self.gauge.gauge_add(-1.0);
    }
}

/// Sets a gauge to the elapsed seconds when dropped; see [`GaugeExt::start_timer`].
#[must_use = "the timer sets the gauge when dropped"]
pub struct GaugeTimer<'a, G: GaugeExt + ?Sized> {
    gauge: &'a G,
    start: Instant,
    armed: bool,
}

impl<G: GaugeExt + ?Sized> GaugeTimer<'_, G> {
    /// Sets the gauge now and returns the seconds set.
    pub fn set_duration(mut self) -> f64 {
        self.armed = false;
        let secs = self.start.elapsed().as_secs_f64();
        self.gauge.gauge_set(secs);
        secs
    }
}

impl<G: GaugeExt + ?Sized> Drop for GaugeTimer<'_, G> {
    fn drop(&mut self) {
        if self.armed {
            self.gauge.gauge_set(self.start.elapsed().as_secs_f64());
        }
    }
}

/// Counting failures: `Err` results and panics (Python's `count_exceptions`).
///
/// Every method passes the closure's result through unchanged, and a panic is counted and then
/// resumed, so wrapping a call never changes what it does.
///
/// ```
/// use promstack::{Counter, CounterExt};
/// use std::num::ParseIntError;
/// static FAILURES: Counter = Counter::new("parse_failures", "Inputs that did not parse.");
/// let r: Result<i32, ParseIntError> = FAILURES.count_errors(|| "x".parse::<i32>());
/// assert!(r.is_err());
/// let r = FAILURES.count_errors(|| "7".parse::<i32>());
/// assert_eq!(r, Ok(7));
/// assert_eq!(FAILURES.get(), 1.0);
///
/// // Only some errors:
/// let r: Result<(), std::io::Error> = FAILURES.count_errors_if(
///     |e: &std::io::Error| e.kind() == std::io::ErrorKind::TimedOut,
///     || Err(std::io::ErrorKind::NotFound.into()),
/// );
/// assert!(r.is_err());
/// assert_eq!(FAILURES.get(), 1.0);
///
/// // Panics are counted and passed on:
/// let caught = std::panic::catch_unwind(|| FAILURES.count_panics(|| panic!("boom")));
/// assert!(caught.is_err());
/// assert_eq!(FAILURES.get(), 2.0);
/// ```
pub trait CounterExt {
    /// Adds 1 to the counter.
    fn counter_inc(&self);

    /// Runs `f`; counts an `Err` or a panic.
    fn count_errors<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        self.count_errors_if(|_| true, f)
    }

    /// Runs `f`; counts a panic, and an `Err` for which `matches` returns `true`.
    fn count_errors_if<T, E>(
        &self,
        matches: impl FnOnce(&E) -> bool,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let result = self.count_panics(f);
        if let Err(e) = &result {
            if matches(e) {
                self.counter_inc();
            }
        }
        result
    }

    /// Runs `f`; counts a panic, and an `Err` that is an `X` or has an `X` in its
    /// [`source`](Error::source) chain.
    ///
    /// ```
    /// use promstack::{Counter, CounterExt};
    /// static TIMEOUTS: Counter = Counter::new("timeouts", "Timed out calls.");
    /// #[derive(Debug)]
    /// struct Timeout;
    /// impl std::fmt::Display for Timeout {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("timeout") }
    /// }
    /// impl std::error::Error for Timeout {}
    /// let _ = TIMEOUTS.count_errors_of::<Timeout, (), _>(|| Err(Timeout));
    /// let _ = TIMEOUTS.count_errors_of::<Timeout, (), _>(|| Err(std::fmt::Error));
    /// assert_eq!(TIMEOUTS.get(), 1.0);
    /// ```
    fn count_errors_of<X: Error + 'static, T, E: Error + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        self.count_errors_if(|e| chain_has::<X>(e), f)
    }

    /// [`count_errors_of`](CounterExt::count_errors_of) for boxed errors
    /// (`Box<dyn Error + Send + Sync>`), whose concrete type is found by downcasting.
    fn count_boxed_errors_of<X: Error + 'static, T>(
        &self,
        f: impl FnOnce() -> Result<T, Box<dyn Error + Send + Sync>>,
    ) -> Result<T, Box<dyn Error + Send + Sync>> {
        self.count_errors_if(|e| chain_has::<X>(&**e), f)
    }

    /// Runs `f`; if it panics, counts and resumes the panic.
    fn count_panics<R>(&self, f: impl FnOnce() -> R) -> R {
        // AssertUnwindSafe is sound here: the panic is resumed, so no broken state is observed.
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(panic) => {
                self.counter_inc();
                resume_unwind(panic)
            }
        }
    }
}

/// `true` when `e` or an error in its source chain is an `X`.
fn chain_has<X: Error + 'static>(e: &(dyn Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<X>() {
            return true;
        }
        cur = e.source();
    }
    false
}

impl CounterExt for CounterValue {
    fn counter_inc(&self) {
        self.inc();
    }
}

impl CounterExt for Counter {
    fn counter_inc(&self) {
        self.inc();
    }
}

impl CounterExt for Child<'_, CounterValue> {
    fn counter_inc(&self) {
        self.inc();
    }
}

/// A gauge whose value is read from a closure at collection time (Python's `set_function`).
///
/// The owned form of core's [`GaugeFn`](promstack_core::GaugeFn) (named as `OwnedChild`,
/// `OwnedSample`: `Owned` marks the heap form of a core concept): that one takes a plain `fn`
/// and `'static` names, this one owns its names and a boxed closure, so it can capture state.
/// It is built at run time (not `static`) and registered like any collector.
///
/// ```
/// use std::sync::{atomic::{AtomicUsize, Ordering}, Arc};
/// use promstack::OwnedGaugeFn;
/// let queue = Arc::new(AtomicUsize::new(3));
/// let q = queue.clone();
/// let depth = OwnedGaugeFn::new("queue_depth", "Jobs waiting.", move || q.load(Ordering::Relaxed) as f64).unwrap();
/// queue.store(5, Ordering::Relaxed);
/// assert_eq!(depth.get(), 5.0);
/// let text = promstack::std_io::encode_to_writer(Vec::new(), promstack::Format::Text, &depth).unwrap();
/// assert!(String::from_utf8(text).unwrap().ends_with("queue_depth 5.0\n"));
/// ```
pub struct OwnedGaugeFn {
    name: String,
    help: String,
    read: Box<dyn Fn() -> f64 + Send + Sync>,
}

impl OwnedGaugeFn {
    /// A gauge named `name` reporting `read()`; an error for an invalid name.
    pub fn new(
        name: &str,
        help: &str,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Result<Self, DescError> {
        Desc::try_new(name, help, MetricType::Gauge)?;
        Ok(OwnedGaugeFn { name: name.to_owned(), help: help.to_owned(), read: Box::new(read) })
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        (self.read)()
    }

    fn desc(&self) -> Desc<'_> {
        Desc { name: &self.name, help: &self.help, unit: "", metric_type: MetricType::Gauge }
    }
}

/// The name of [`OwnedGaugeFn`] in earlier versions.
#[deprecated(note = "renamed `OwnedGaugeFn`, the owned form of core's `GaugeFn`")]
pub type GaugeClosure = OwnedGaugeFn;

impl Collector for OwnedGaugeFn {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = self.desc();
        sink.family(&desc)?;
        sink.sample(&desc, &Sample::new("", Labels::EMPTY, Value::Float(self.get())))
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.desc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promstack_core::{FixedFamily, Summary};
    use std::time::Duration;

    #[test]
    fn timer_observes_on_drop_and_on_panic() {
        static S: Summary = Summary::new("t_seconds", "T.");
        S.time(|| std::thread::sleep(Duration::from_millis(5)));
        assert_eq!(S.value().count(), 1);
        assert!(S.value().sum() >= 0.005, "{}", S.value().sum());
        let r = catch_unwind(|| S.time(|| panic!("x")));
        assert!(r.is_err());
        assert_eq!(S.value().count(), 2);
        S.start_timer().stop_and_discard();
        assert_eq!(S.value().count(), 2);
        let secs = S.start_timer().observe_duration();
        assert!(secs >= 0.0);
        assert_eq!(S.value().count(), 3);
    }

    #[test]
    fn helpers_on_labeled_children() {
        static INFLIGHT: FixedFamily<GaugeValue, 1, 4> = FixedFamily::gauge("inflight", "I.", ["path"]);
        static ERRS: FixedFamily<CounterValue, 1, 4> = FixedFamily::counter("errs", "E.", ["path"]);
        static LAT: FixedFamily<promstack_core::SummaryValue, 1, 4> =
            FixedFamily::summary("lat_seconds", "L.", ["path"]);
        let g = INFLIGHT.get(["/a"]).unwrap();
        {
            let _in = g.track_inprogress();
            assert_eq!(g.get(), 1.0);
        }
        assert_eq!(g.get(), 0.0);
        let c = ERRS.get(["/a"]).unwrap();
        let _ = c.count_errors(|| Err::<(), _>("bad"));
        assert_eq!(c.get(), 1.0);
        let h = LAT.get(["/a"]).unwrap();
        h.time(|| ());
        assert_eq!(h.value().count(), 1);
    }

    #[test]
    fn in_progress_survives_panic() {
        static G: Gauge = Gauge::new("g_in_progress", "G.");
        let r = catch_unwind(|| {
            let _g = G.track_inprogress();
            panic!("boom");
        });
        assert!(r.is_err());
        assert_eq!(G.get(), 0.0);
    }

    #[test]
    fn boxed_errors_by_type() {
        static C: Counter = Counter::new("boxed_errs", "C.");
        let _ = C.count_boxed_errors_of::<std::fmt::Error, ()>(|| Err(Box::new(std::fmt::Error)));
        let _ = C.count_boxed_errors_of::<std::fmt::Error, ()>(|| Err("other".into()));
        assert_eq!(C.get(), 1.0);
    }
}
