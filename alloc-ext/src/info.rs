//! Info values whose label pairs are set at run time, one set per child, as Python's
//! `Info.info({...})` does. Core's [`InfoValue`](promstack_core::InfoValue) fixes one set of
//! `'static` pairs for a whole family; this one owns its pairs.

use crate::sync::{Arc, RwLock};
use alloc::boxed::Box;
use alloc::vec::Vec;
use promstack_core::{
    check_label_names, BoundedStr, CollectError, Desc, DescError, Labels, Metric, MetricType, Sample, Sink,
    Value,
};

/// Owned label pairs: names then values, in the order given.
struct Pairs {
    names: Box<[Box<str>]>,
    values: Box<[Box<str>]>,
}

/// The value of an Info child: label pairs set at run time, reported as `name_info{...} 1`.
///
/// Children of a [`Family`](crate::Family) set their pairs with
/// [`OwnedChild::set_info`](crate::OwnedChild::set_info), which also refuses pair names that
/// overlap the family's label names.
///
/// ```
/// use promstack_alloc::Family;
/// let build = Family::info("build", "Build information.", &[]).unwrap();
/// build.get(()).unwrap().set_info(&[("version", "1.2.3")]).unwrap();
/// assert_eq!(build.get(()).unwrap().get(), [("version".to_string(), "1.2.3".to_string())]);
/// ```
pub struct OwnedInfoValue {
    // The pairs are replaced whole; a scrape clones the `Arc` and reports without the lock.
    pairs: RwLock<Option<Arc<Pairs>>>,
}

impl OwnedInfoValue {
    /// An Info with no pairs (it reports `name_info 1` with only the family's labels).
    pub const fn new() -> Self {
        OwnedInfoValue { pairs: RwLock::new(None) }
    }

    /// Replaces the pairs. Names must be valid, not reserved and distinct, and must not be one of
    /// `taken` (the family's label names).
    pub(crate) fn set(&self, pairs: &[(&str, &str)], taken: &[Box<str>]) -> Result<(), DescError> {
        let names: Vec<&str> = pairs.iter().map(|(n, _)| *n).collect();
        check_label_names(&names, MetricType::Info)?;
        if let Some(n) = names.iter().find(|n| taken.iter().any(|t| &**t == **n)) {
            return Err(DescError::DuplicateLabelName(BoundedStr::new(n)));
        }
        let new = Pairs {
            names: pairs.iter().map(|(n, _)| Box::from(*n)).collect(),
            values: pairs.iter().map(|(_, v)| Box::from(*v)).collect(),
        };
        *self.pairs.write() = Some(Arc::new(new));
        Ok(())
    }

    /// The current pairs, in the order they were set.
    pub fn get(&self) -> Vec<(alloc::string::String, alloc::string::String)> {
        let pairs = self.pairs.read().clone();
        pairs
            .iter()
            .flat_map(|p| p.names.iter().zip(p.values.iter()))
            .map(|(n, v)| ((**n).into(), (**v).into()))
            .collect()
    }
}

impl core::fmt::Debug for OwnedInfoValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let pairs = self.pairs.read().clone();
        let mut m = f.debug_map();
        if let Some(p) = &pairs {
            m.entries(p.names.iter().zip(p.values.iter()));
        }
        m.finish()
    }
}

impl Default for OwnedInfoValue {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for OwnedInfoValue {
    const METRIC_TYPE: MetricType = MetricType::Info;
    const INIT: Self = OwnedInfoValue::new();
    type Config = ();

    fn reset(&self) {
        *self.pairs.write() = None;
    }

    fn report(
        &self,
        _: &(),
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let pairs = self.pairs.read().clone();
        let (names, values): (Vec<&str>, Vec<&str>) = match &pairs {
            Some(p) => (p.names.iter().map(|s| &**s).collect(), p.values.iter().map(|s| &**s).collect()),
            None => (Vec::new(), Vec::new()),
        };
        let labels = labels.with_extra(&names, &values);
        sink.sample(desc, &Sample::new("_info", labels, Value::Int(1)))
    }
}
