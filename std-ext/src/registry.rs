//! The default registry: the process-wide [`Registry`] with the process and platform
//! collectors, like Python's `REGISTRY` (SPEC §5).
//!
//! Most programs register their metrics here and serve it; tests, textfile writers and batch
//! jobs pushing to a Pushgateway usually want a fresh [`Registry::new`] instead.

use crate::{install_std_clock, PlatformCollector};
use promstack_alloc::Registry;
use std::sync::{Arc, OnceLock};

/// The default registry, created on first use with a
/// [`ProcessCollector`](crate::ProcessCollector) (feature `process`) and a
/// [`PlatformCollector`] registered; installs the [`StdClock`](crate::StdClock) if no clock is
/// installed, so `_created` samples have a time.
///
/// ```
/// use promstack::{default_registry, Counter};
/// static REQUESTS: Counter = Counter::new("doc_requests_total", "Requests.");
/// default_registry().register_static(&REQUESTS).unwrap();
/// REQUESTS.inc();
/// assert_eq!(default_registry().get_sample_value("doc_requests_total", &[]), Some(1.0));
/// let text = default_registry().encode_text(Vec::new()).unwrap();
/// assert!(String::from_utf8(text).unwrap().contains("\nrust_info{major=\"1\","));
/// ```
pub fn default_registry() -> &'static Arc<Registry> {
    static DEFAULT: OnceLock<Arc<Registry>> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        install_std_clock();
        let registry = Registry::new();
        // A fresh registry: these two claim distinct names and cannot collide.
        #[cfg(feature = "process")]
        let _ = registry.register(Arc::new(crate::ProcessCollector::new()));
        let _ = registry.register(Arc::new(PlatformCollector));
        Arc::new(registry)
    })
}
