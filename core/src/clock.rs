//! Time without std: a [`Clock`] the application installs once (std-ext installs one based on
//! `std::time`). Without a clock there are no `_created` samples.

use crate::sync::{AtomicF64, Lock, Ordering};

/// A source of time.
///
/// ```
/// use promstack_core::Clock;
/// struct Fixed;
/// impl Clock for Fixed {
///     fn unix_time(&self) -> f64 { 1_700_000_000.0 }
/// }
/// assert_eq!(Fixed.monotonic(), 1_700_000_000.0);
/// ```
pub trait Clock: Sync {
    /// Seconds since the Unix epoch (wall clock): `_created`, `set_to_current_time`.
    fn unix_time(&self) -> f64;

    /// Seconds on a clock that never goes backwards: durations. Defaults to [`Clock::unix_time`].
    fn monotonic(&self) -> f64 {
        self.unix_time()
    }
}

/// An installed clock and the time it was installed at.
type Installed = Option<(&'static dyn Clock, f64)>;

static INSTALLED: Lock<Installed> = Lock::new(None);

/// The install time again, readable with one load: every scrape asks for it once per series
/// whose creation time is "since the clock was installed". NaN: no clock.
static INSTALL_TIME: AtomicF64 = AtomicF64::new(f64::NAN);

/// Installs `clock` process-wide; a later call replaces it. The install time becomes the
/// `_created` time of `static` metrics that were never reset.
///
/// ```
/// use promstack_core::{install_clock, unix_time, Clock};
/// struct Fixed;
/// impl Clock for Fixed { fn unix_time(&self) -> f64 { 42.0 } }
/// install_clock(&Fixed);
/// assert_eq!(unix_time(), Some(42.0));
/// ```
pub fn install_clock(clock: &'static dyn Clock) {
    let since = clock.unix_time();
    INSTALLED.with(|installed| {
        *installed = Some((clock, since));
        INSTALL_TIME.store(since, Ordering::Relaxed);
    });
}

fn installed() -> Installed {
    INSTALLED.with(|installed| *installed)
}

/// The installed clock, if any.
pub fn clock() -> Option<&'static dyn Clock> {
    installed().map(|(c, _)| c)
}

/// The installed clock's Unix time, if a clock is installed.
pub fn unix_time() -> Option<f64> {
    installed().map(|(c, _)| c.unix_time())
}

/// When the clock was installed: the creation time reported by `static` metrics never reset.
pub fn install_time() -> Option<f64> {
    let since = INSTALL_TIME.load(Ordering::Relaxed);
    (!since.is_nan()).then_some(since)
}
