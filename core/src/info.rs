//! Info metrics: constant label pairs with value 1.

use crate::collector::{Collector, Sink};
use crate::desc::{assert_label_names, check_label_names, Desc, MetricType};
use crate::error::{CollectError, DescError};
use crate::metric::Metric;
use crate::sample::{Labels, Sample, Value};

/// The pairs an Info reports: parallel name and value slices.
#[derive(Debug, Clone, Copy)]
pub struct InfoPairs {
    /// Label names.
    pub names: &'static [&'static str],
    /// Label values, one per name.
    pub values: &'static [&'static str],
}

impl InfoPairs {
    /// Checked pairs: as many values as names, valid and distinct names.
    ///
    /// # Panics
    /// On a mismatch or a bad name: a compile error in a `static`.
    pub const fn new(names: &'static [&'static str], values: &'static [&'static str]) -> Self {
        if names.len() != values.len() {
            panic!("info pairs need as many values as names");
        }
        assert_label_names(names, MetricType::Info);
        InfoPairs { names, values }
    }
}

/// The value of an Info child: nothing but its pairs (held by the family), value 1.
pub struct InfoValue;

impl Metric for InfoValue {
    const METRIC_TYPE: MetricType = MetricType::Info;
    const INIT: Self = InfoValue;
    type Config = InfoPairs;

    fn check_config(pairs: &InfoPairs, _: &str, label_names: &[&str]) -> Result<(), DescError> {
        check_label_names(pairs.names, MetricType::Info)?;
        // Pair names may not repeat the metric's label names.
        match pairs.names.iter().find(|n| label_names.contains(n)) {
            Some(n) => Err(DescError::DuplicateLabelName(crate::BoundedStr::new(n))),
            None => Ok(()),
        }
    }

    fn reset(&self) {}

    fn report(
        &self,
        pairs: &InfoPairs,
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let labels = labels.with_extra(pairs.names, pairs.values);
        sink.sample(desc, &Sample::new("_info", labels, Value::Int(1)))
    }
}

/// An Info metric: constant label pairs describing the target, exposed as `name_info{...} 1`.
///
/// ```
/// use promstack_core::{Info, InfoPairs, encode_text};
/// static BUILD: Info = Info::new(
///     "build",
///     "Build information.",
///     InfoPairs::new(&["version", "commit"], &["1.2.0", "abc123"]),
/// );
/// let out = String::from_utf8(encode_text(Vec::new(), &BUILD).unwrap()).unwrap();
/// assert_eq!(
///     out,
///     "# HELP build_info Build information.\n# TYPE build_info gauge\nbuild_info{commit=\"abc123\",version=\"1.2.0\"} 1.0\n"
/// );
/// ```
pub struct Info {
    desc: Desc<'static>,
    pairs: InfoPairs,
}

impl Info {
    /// An Info named `name` (samples are `name_info`).
    ///
    /// # Panics
    /// On an invalid name: a compile error in a `static`.
    pub const fn new(name: &'static str, help: &'static str, pairs: InfoPairs) -> Self {
        Info { desc: Desc::new(name, help, MetricType::Info), pairs }
    }

    /// Run-time form of [`Info::new`] (checks the pairs too).
    pub fn try_new(
        name: &'static str,
        help: &'static str,
        names: &'static [&'static str],
        values: &'static [&'static str],
    ) -> Result<Self, DescError> {
        check_label_names(names, MetricType::Info)?;
        if names.len() != values.len() {
            return Err(DescError::InvalidLabelName(crate::BoundedStr::new("<info pairs: count mismatch>")));
        }
        Ok(Info { desc: Desc::try_new(name, help, MetricType::Info)?, pairs: InfoPairs { names, values } })
    }

    /// The description.
    pub const fn desc(&self) -> &Desc<'static> {
        &self.desc
    }

    /// The pairs.
    pub const fn pairs(&self) -> &InfoPairs {
        &self.pairs
    }
}

impl Collector for Info {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.desc)?;
        InfoValue.report(&self.pairs, &self.desc, Labels::EMPTY, sink)
    }
}
