//! What a collector reports for each series: a [`Sample`] with its [`Labels`] and [`Value`].
//!
//! Everything here borrows; building a sample allocates nothing.

use crate::error::LabelError;
use crate::timestamp::Timestamp;

/// One value per name, or [`LabelError::WrongCount`].
fn check_pairs(names: &[&str], values: &[&str]) -> Result<(), LabelError> {
    if names.len() == values.len() {
        Ok(())
    } else {
        Err(LabelError::WrongCount { expected: names.len(), got: values.len() })
    }
}

/// A sample value. Integers are written without going through floating point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// An integral count (written as `N.0`, exact up to `u64::MAX`).
    Int(u64),
    /// A signed integer (integer gauges; written as `N.0`, exact).
    Signed(i64),
    /// Any float, including `+Inf`, `-Inf` and `NaN`.
    #[cfg(feature = "float")]
    Float(f64),
}

impl Value {
    /// The value as `f64` (integers above 2^53 lose precision).
    #[cfg(feature = "float")]
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(i) => i as f64,
            Value::Signed(i) => i as f64,
            Value::Float(f) => f,
        }
    }
}

/// The label pairs of one sample, in two groups that are each a pair of parallel slices.
///
/// The first group holds a child's label names and values; the second holds pairs the metric
/// adds itself (`le`, `quantile`, an Enum's state label, an Info's pairs). Encoders write the
/// union sorted by name. The two groups must not share a name.
///
/// ```
/// use promstack_core::Labels;
/// let l = Labels::new(&["method", "code"], &["get", "200"]).with_extra(&["le"], &["0.5"]);
/// assert_eq!(l.len(), 3);
/// assert_eq!(l.get("code"), Some("200"));
/// let sorted: Vec<_> = l.sorted().collect();
/// assert_eq!(sorted, [("code", "200"), ("le", "0.5"), ("method", "get")]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Labels<'a> {
    names: &'a [&'a str],
    values: &'a [&'a str],
    extra_names: &'a [&'a str],
    extra_values: &'a [&'a str],
    /// What the collector already checked of the first group.
    #[cfg_attr(feature = "small", allow(dead_code))]
    known: Known,
}

/// What a collector already checked of a [`Labels`]' first group, so encoders skip it. Under
/// `small` it is empty (that build collects through a path that never marks labels), so the
/// `Labels` carried in every sample, and the firmware's stack, do not grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Known {
    /// The names passed the encoders' label name check already.
    #[cfg(not(feature = "small"))]
    checked: bool,
    /// The names are in ascending order too (set only with `checked`).
    #[cfg(not(feature = "small"))]
    sorted: bool,
    /// No value needs escaping (checked once, when the collector stored it).
    #[cfg(not(feature = "small"))]
    plain: bool,
}

impl Known {
    const NOTHING: Known = Known {
        #[cfg(not(feature = "small"))]
        checked: false,
        #[cfg(not(feature = "small"))]
        sorted: false,
        #[cfg(not(feature = "small"))]
        plain: false,
    };
}

impl<'a> Labels<'a> {
    /// No labels.
    pub const EMPTY: Labels<'static> =
        Labels { names: &[], values: &[], extra_names: &[], extra_values: &[], known: Known::NOTHING };

    /// Label pairs from parallel slices, one value per name.
    ///
    /// # Panics
    /// When the slices differ in length (a compile error in a `const`); see [`Labels::try_new`].
    ///
    /// ```should_panic
    /// promstack_core::Labels::new(&["method", "code"], &["get"]); // "code" has no value
    /// ```
    pub const fn new(names: &'a [&'a str], values: &'a [&'a str]) -> Self {
        if names.len() != values.len() {
            panic!("Labels::new needs one value per label name");
        }
        Labels { names, values, extra_names: &[], extra_values: &[], known: Known::NOTHING }
    }

    /// Label pairs from parallel slices; [`LabelError::WrongCount`] (expected: the number of
    /// names) unless there is exactly one value per name.
    ///
    /// ```
    /// use promstack_core::{LabelError, Labels};
    /// assert_eq!(
    ///     Labels::try_new(&["method", "code"], &["get"]).unwrap_err(),
    ///     LabelError::WrongCount { expected: 2, got: 1 }
    /// );
    /// assert_eq!(Labels::try_new(&["code"], &["200"]).unwrap().get("code"), Some("200"));
    /// ```
    pub fn try_new(names: &'a [&'a str], values: &'a [&'a str]) -> Result<Self, LabelError> {
        check_pairs(names, values)?;
        Ok(Labels { names, values, extra_names: &[], extra_values: &[], known: Known::NOTHING })
    }

    /// Adds the second group of pairs, one value per name.
    ///
    /// # Panics
    /// When the slices differ in length; see [`Labels::try_with_extra`].
    pub const fn with_extra(self, names: &'a [&'a str], values: &'a [&'a str]) -> Self {
        if names.len() != values.len() {
            panic!("Labels::with_extra needs one value per label name");
        }
        Labels { extra_names: names, extra_values: values, ..self }
    }

    /// Adds the second group of pairs; [`LabelError::WrongCount`] unless there is exactly one
    /// value per name.
    pub fn try_with_extra(self, names: &'a [&'a str], values: &'a [&'a str]) -> Result<Self, LabelError> {
        check_pairs(names, values)?;
        Ok(Labels { extra_names: names, extra_values: values, ..self })
    }

    /// Number of pairs.
    pub const fn len(&self) -> usize {
        self.names.len() + self.extra_names.len()
    }

    /// `true` when there are no pairs.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pair at position `i` (first group, then second group).
    pub fn pair(&self, i: usize) -> (&'a str, &'a str) {
        if i < self.names.len() {
            (self.names[i], self.values[i])
        } else {
            let j = i - self.names.len();
            (self.extra_names[j], self.extra_values[j])
        }
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// These labels with the first group's names marked as checked (only for names that
    /// [`crate::encoding::label_names_valid`] accepted), and as sorted when `sorted` (only for
    /// names in strictly ascending order).
    #[cfg(not(feature = "small"))]
    #[inline]
    pub(crate) fn with_checked_names(self, sorted: bool) -> Self {
        Labels { known: Known { checked: true, sorted, ..self.known }, ..self }
    }

    /// These labels with the first group's values marked as needing no escaping (only for
    /// values without `\\`, `"` or a newline).
    #[cfg(not(feature = "small"))]
    #[inline]
    pub(crate) fn with_plain_values(self) -> Self {
        Labels { known: Known { plain: true, ..self.known }, ..self }
    }

    /// `true` when the first group's names were checked by the collector.
    #[inline]
    pub(crate) fn names_checked(&self) -> bool {
        #[cfg(not(feature = "small"))]
        return self.known.checked;
        #[cfg(feature = "small")]
        false
    }

    /// `true` when the first group's names are known to be in ascending order.
    #[cfg(not(feature = "small"))]
    #[inline]
    pub(crate) fn names_sorted(&self) -> bool {
        self.known.sorted
    }

    /// `true` when no value of the first group needs escaping.
    #[cfg(not(feature = "small"))]
    #[inline]
    pub(crate) fn values_plain(&self) -> bool {
        self.known.plain
    }

    /// The label names of both groups (what an encoder checks).
    pub(crate) fn name_groups(&self) -> [&'a [&'a str]; 2] {
        [self.names, self.extra_names]
    }

    /// The label values of both groups, parallel to [`Labels::name_groups`].
    #[cfg(not(feature = "small"))]
    pub(crate) fn value_groups(&self) -> [&'a [&'a str]; 2] {
        [self.values, self.extra_values]
    }

    /// Pairs in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        (0..self.len()).map(move |i| self.pair(i))
    }

    /// Pairs sorted by label name, without allocating (selection over at most a few labels).
    pub fn sorted(&self) -> SortedLabels<'a> {
        SortedLabels { labels: *self, last: None, done: 0 }
    }
}

/// Iterator over [`Labels`] in name order; see [`Labels::sorted`].
#[derive(Debug, Clone)]
pub struct SortedLabels<'a> {
    labels: Labels<'a>,
    last: Option<&'a str>,
    done: usize,
}

impl<'a> Iterator for SortedLabels<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done == self.labels.len() {
            return None;
        }
        // Names are unique, so "smallest name greater than the last one" visits each once.
        let mut best: Option<(&'a str, &'a str)> = None;
        for i in 0..self.labels.len() {
            let (n, v) = self.labels.pair(i);
            if self.last.is_some_and(|l| n <= l) {
                continue;
            }
            if best.is_none_or(|(b, _)| n < b) {
                best = Some((n, v));
            }
        }
        self.done += 1;
        if let Some((n, _)) = best {
            self.last = Some(n);
        } else {
            self.done = self.labels.len();
        }
        best
    }
}

#[cfg(feature = "float")]
/// An exemplar attached to a histogram bucket or counter `_total` sample (OpenMetrics only).
#[derive(Debug, Clone, Copy)]
pub struct Exemplar<'a> {
    /// Exemplar labels, e.g. `trace_id`.
    pub labels: Labels<'a>,
    /// The observed value.
    pub value: f64,
    /// When it was observed, if known.
    pub timestamp: Option<Timestamp>,
}

/// One sample of a family: the family name plus `suffix`, labels, value.
///
/// ```
/// use promstack_core::{Labels, Sample, Value};
/// let s = Sample::new("_total", Labels::EMPTY, Value::Int(3));
/// assert_eq!(s.value.as_f64(), 3.0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// Appended to the family name: `""`, `_total`, `_created`, `_bucket`, `_count`, `_sum`, ...
    pub suffix: &'a str,
    /// The sample's labels.
    pub labels: Labels<'a>,
    /// The value.
    pub value: Value,
    /// When the value was taken, if the sample carries a time.
    pub timestamp: Option<Timestamp>,
    /// An exemplar (histogram buckets and counter `_total` samples, in OpenMetrics only).
    #[cfg(feature = "float")]
    pub exemplar: Option<Exemplar<'a>>,
}

impl<'a> Sample<'a> {
    /// A sample with no timestamp and no exemplar.
    pub const fn new(suffix: &'a str, labels: Labels<'a>, value: Value) -> Self {
        Sample {
            suffix,
            labels,
            value,
            timestamp: None,
            #[cfg(feature = "float")]
            exemplar: None,
        }
    }
}

#[cfg(all(test, feature = "float", feature = "openmetrics"))]
mod tests {
    use super::*;

    #[test]
    fn sorted_merges_both_groups() {
        let l = Labels::new(&["z", "a", "m"], &["1", "2", "3"]).with_extra(&["b"], &["4"]);
        let got: heapless::Vec<_, 8> = l.sorted().map(|(n, _)| n).collect();
        assert_eq!(got.as_slice(), ["a", "b", "m", "z"]);
        assert_eq!(Labels::EMPTY.sorted().count(), 0);
    }

    #[test]
    fn a_name_without_a_value_is_an_error() {
        assert_eq!(
            Labels::try_new(&["a", "b"], &["1"]).unwrap_err(),
            LabelError::WrongCount { expected: 2, got: 1 }
        );
        assert_eq!(
            Labels::try_new(&["a"], &["1", "2"]).unwrap_err(),
            LabelError::WrongCount { expected: 1, got: 2 }
        );
        assert_eq!(
            Labels::EMPTY.try_with_extra(&["le"], &[]).unwrap_err(),
            LabelError::WrongCount { expected: 1, got: 0 }
        );
        let l = Labels::try_new(&["a", "b"], &["1", "2"]).unwrap().try_with_extra(&["le"], &["1.0"]).unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l.get("b"), Some("2"));
    }

    #[test]
    #[should_panic(expected = "one value per label name")]
    fn new_panics_on_a_name_without_a_value() {
        let _ = Labels::new(&["a", "b"], &["1"]);
    }
}
