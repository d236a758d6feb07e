//! Durations without std: observe how long something took, measured on the installed
//! [`Clock`](crate::Clock)'s monotonic time. std-ext offers the same on `std::time::Instant`.

use crate::clock;
use crate::histogram::Observe;

/// Observes the seconds until it is dropped (or [`Timer::observe`]d) into a histogram, summary or
/// child. Without an installed clock nothing is observed.
///
/// ```
/// use promstack_core::{install_clock, Clock, Summary, Timer};
/// use core::sync::atomic::{AtomicU64, Ordering};
/// // A clock that advances one second per reading.
/// struct Ticking(AtomicU64);
/// impl Clock for Ticking {
///     fn unix_time(&self) -> f64 { self.0.fetch_add(1, Ordering::Relaxed) as f64 }
/// }
/// static CLOCK: Ticking = Ticking(AtomicU64::new(0));
/// static WORK: Summary = Summary::new("work_seconds", "Work time.");
/// install_clock(&CLOCK);
/// {
///     let _t = Timer::start(&WORK);
/// }
/// assert_eq!(WORK.value().count(), 1);
/// assert_eq!(WORK.value().sum(), 1.0);
/// ```
pub struct Timer<'a, O: Observe + ?Sized> {
    metric: &'a O,
    start: Option<f64>,
}

impl<'a, O: Observe + ?Sized> Timer<'a, O> {
    /// Starts timing now.
    pub fn start(metric: &'a O) -> Self {
        Timer { metric, start: clock::clock().map(|c| c.monotonic()) }
    }

    /// Stops timing, observes, and returns the seconds (`None` without a clock).
    pub fn observe(mut self) -> Option<f64> {
        self.finish()
    }

    /// Stops timing without observing.
    pub fn discard(mut self) {
        self.start = None;
    }

    fn finish(&mut self) -> Option<f64> {
        let start = self.start.take()?;
        let now = clock::clock()?.monotonic();
        let elapsed = (now - start).max(0.0);
        self.metric.observe(elapsed);
        Some(elapsed)
    }
}

impl<O: Observe + ?Sized> Drop for Timer<'_, O> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Runs `f` and observes how long it took into `metric` (see [`Timer`]).
pub fn time<O: Observe + ?Sized, R>(metric: &O, f: impl FnOnce() -> R) -> R {
    let _timer = Timer::start(metric);
    f()
}
