//! The general path of a collector, for comparing bytes with its batch path: a sink that
//! forwards every call but `batch` (so rows arrive one `Sink::sample` at a time). Shared by
//! promstack-core's and promstack-alloc's batch tests.

use promstack_core::{CollectError, Collector, Desc, Sample, Sink};

/// Forwards everything but `batch`, which it leaves to the trait's default (none).
pub struct PerRow<'a>(pub &'a mut dyn Sink);

impl Sink for PerRow<'_> {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        self.0.family(desc)
    }
    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        self.0.sample(desc, sample)
    }
    fn wants_created(&self) -> bool {
        self.0.wants_created()
    }
}

/// A collector seen through [`PerRow`].
pub struct General<'a>(pub &'a dyn Collector);

impl Collector for General<'_> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.0.collect(&mut PerRow(sink))
    }
}
