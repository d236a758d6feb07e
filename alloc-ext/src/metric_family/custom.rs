//! A collector made from a closure that returns metric families, like a Python custom collector
//! whose `collect()` returns a list of `*MetricFamily` objects.

use super::MetricFamily;
use alloc::vec::Vec;
use promstack_core::{CollectError, Collector, Sink};

/// A [`Collector`] that calls a closure at every scrape and reports the families it returns.
///
/// Optionally it describes itself with fixed families (only their headers matter), so a registry
/// can detect name collisions without calling the closure.
///
/// ```
/// use promstack_alloc::{CustomCollector, GaugeMetricFamily};
/// use promstack_core::encode_text;
///
/// let queue = CustomCollector::new(|| {
///     let mut g = GaugeMetricFamily::new("queue_length", "Jobs queued.")?.with_labels(&["queue"])?;
///     g.add_metric(&["mail"], 3.0, None)?;
///     Ok(vec![g.into_family()])
/// });
/// let out = encode_text(Vec::new(), &queue).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "# HELP queue_length Jobs queued.\n# TYPE queue_length gauge\nqueue_length{queue=\"mail\"} 3.0\n"
/// );
/// ```
pub struct CustomCollector<F> {
    collect: F,
    describe: Option<Vec<MetricFamily>>,
}

impl<F> CustomCollector<F>
where
    F: Fn() -> Result<Vec<MetricFamily>, CollectError> + Send + Sync,
{
    /// A collector reporting what `collect` returns at each scrape. An error from it stops the
    /// scrape; `?` turns a [`FamilyError`](crate::FamilyError) into `CollectError::Failed`.
    pub fn new(collect: F) -> Self {
        CustomCollector { collect, describe: None }
    }

    /// Describes the collector with these families' headers instead of calling the closure.
    pub fn with_describe(mut self, families: Vec<MetricFamily>) -> Self {
        self.describe = Some(families);
        self
    }
}

impl<F> Collector for CustomCollector<F>
where
    F: Fn() -> Result<Vec<MetricFamily>, CollectError> + Send + Sync,
{
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let families = (self.collect)()?;
        families.as_slice().collect(sink)
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        match &self.describe {
            Some(families) => families.as_slice().describe(sink),
            None => self.collect(sink),
        }
    }
}

impl From<super::FamilyError> for CollectError {
    fn from(_: super::FamilyError) -> Self {
        CollectError::Failed("a metric family could not be built")
    }
}
