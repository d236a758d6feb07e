//! The std clock: wall time from [`SystemTime`], durations from [`Instant`].
//!
//! promstack-core has no notion of time until a [`Clock`] is installed; this module provides the
//! one every std program wants. The default registry, the HTTP server and the helpers that need
//! time install it with [`install_std_clock`], which never replaces a clock the application
//! installed itself.

use promstack_core::Clock;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A [`Clock`] on `std::time`: [`SystemTime`] for Unix time, [`Instant`] for the monotonic clock.
///
/// ```
/// use promstack::{Clock, StdClock};
/// let t = StdClock.unix_time();
/// assert!(t > 1.5e9);
/// let a = StdClock.monotonic();
/// assert!(StdClock.monotonic() >= a);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StdClock;

/// The origin of [`StdClock::monotonic`]: the first time anyone asked.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

impl Clock for StdClock {
    fn unix_time(&self) -> f64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            // A clock set before 1970: report negative seconds rather than failing.
            Err(e) => -e.duration().as_secs_f64(),
        }
    }

    fn monotonic(&self) -> f64 {
        origin().elapsed().as_secs_f64()
    }
}

/// The one [`StdClock`] value that [`install_std_clock`] installs.
pub static STD_CLOCK: StdClock = StdClock;

/// Installs [`STD_CLOCK`] unless a clock is already installed; returns `true` if it did.
///
/// ```
/// promstack::install_std_clock();
/// assert!(promstack_core::unix_time().is_some());
/// ```
pub fn install_std_clock() -> bool {
    if promstack_core::clock().is_some() {
        return false;
    }
    // Two threads racing here both install the same clock; the later install time wins, which
    // only moves the `_created` of never-reset statics by microseconds.
    origin();
    promstack_core::install_clock(&STD_CLOCK);
    true
}
