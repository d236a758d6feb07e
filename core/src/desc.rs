//! Metric descriptions (`Desc`) and the name rules every metric is checked against.
//!
//! Every check here is a `const fn`, so a `static` with a bad name fails to compile; the same
//! checks have a run-time form returning [`DescError`].

use crate::error::{BoundedStr, DescError};

/// The type of a metric family, as OpenMetrics names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A monotonic counter (`x_total`, `x_created`).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Count and sum of observations.
    Summary,
    /// Observations counted in cumulative buckets.
    Histogram,
    /// A histogram whose buckets may go down (`x_gcount`, `x_gsum`).
    GaugeHistogram,
    /// Constant label pairs with value 1 (`x_info`).
    Info,
    /// A set of states, each 1 or 0 (Enum).
    StateSet,
    /// A value of no known type (`untyped` in text 0.0.4).
    Unknown,
}

impl MetricType {
    /// The OpenMetrics spelling (`counter`, `gaugehistogram`, `stateset`, `unknown`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Summary => "summary",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// Parses the OpenMetrics spelling (and `untyped`, the text 0.0.4 name of `unknown`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "summary" => MetricType::Summary,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "unknown" | "untyped" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// Sample-name suffixes this type claims in a registry, `""` meaning the bare name.
    ///
    /// Registering two collectors whose claimed names overlap is an error.
    pub const fn claimed_suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Summary => &["", "_sum", "_count", "_created"],
            MetricType::Histogram => &["_bucket", "_sum", "_count", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gsum", "_gcount"],
            MetricType::Info => &["_info"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
        }
    }

    /// The label name this type reserves for its own samples (`le`, `quantile`), if any.
    pub const fn reserved_label(self) -> Option<&'static str> {
        match self {
            MetricType::Histogram | MetricType::GaugeHistogram => Some("le"),
            MetricType::Summary => Some("quantile"),
            _ => None,
        }
    }
}

/// The description of a metric family: name, help, unit and type.
///
/// For counters `name` excludes `_total`; encoders add it. A `Desc` made with [`Desc::new`] or
/// [`Desc::try_new`] is validated; one assembled from its public fields is trusted as it is.
///
/// ```
/// use promstack_core::{Desc, MetricType};
/// const D: Desc<'static> = Desc::new("requests", "Requests served.", MetricType::Counter);
/// assert_eq!(D.name, "requests");
/// assert!(Desc::try_new("0bad", "", MetricType::Gauge).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Desc<'a> {
    /// Family name (counters: without `_total`).
    pub name: &'a str,
    /// Help text, unescaped.
    pub help: &'a str,
    /// Unit, `""` when none. The name ends with `_<unit>` when a unit is set.
    pub unit: &'a str,
    /// The metric type.
    pub metric_type: MetricType,
}

impl<'a> Desc<'a> {
    /// Builds a validated description; a counter name ending in `_total` loses that suffix.
    ///
    /// # Panics
    /// If the name is invalid; in a `const` or `static` this is a compile error.
    pub const fn new(name: &'a str, help: &'a str, metric_type: MetricType) -> Self {
        let name = strip_counter_total(name, metric_type);
        if !is_valid_metric_name(name) {
            panic!("invalid metric name: must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        }
        Desc { name, help, unit: "", metric_type }
    }

    /// Run-time form of [`Desc::new`].
    pub fn try_new(name: &'a str, help: &'a str, metric_type: MetricType) -> Result<Self, DescError> {
        let name = strip_counter_total(name, metric_type);
        if !is_valid_metric_name(name) {
            return Err(DescError::InvalidMetricName(BoundedStr::new(name)));
        }
        Ok(Desc { name, help, unit: "", metric_type })
    }

    /// Sets the unit. The name must already end with `_<unit>` (core cannot append without
    /// allocating; promstack-alloc appends it for you).
    ///
    /// ```
    /// static OK: promstack_core::Gauge = promstack_core::Gauge::new("size_bytes", "").with_unit("bytes");
    /// ```
    /// ```compile_fail
    /// static BAD: promstack_core::Gauge = promstack_core::Gauge::new("size", "").with_unit("bytes");
    /// ```
    ///
    /// # Panics
    /// On an invalid unit, a missing suffix, or an Info/Enum metric: a compile error in a `static`.
    pub const fn with_unit(self, unit: &'a str) -> Self {
        match unit_problem(self.name, unit, self.metric_type) {
            None => Desc { unit, ..self },
            Some(UnitProblem::Invalid) => panic!("invalid unit: must match [a-zA-Z0-9_:]+"),
            Some(UnitProblem::NotAllowed) => panic!("info and enum metrics cannot have a unit"),
            Some(UnitProblem::MissingSuffix) => {
                panic!("metric name must end with _<unit> when a unit is set")
            }
        }
    }

    /// Run-time form of [`Desc::with_unit`].
    pub fn try_with_unit(self, unit: &'a str) -> Result<Self, DescError> {
        match unit_problem(self.name, unit, self.metric_type) {
            None => Ok(Desc { unit, ..self }),
            Some(UnitProblem::Invalid) => Err(DescError::InvalidUnit(BoundedStr::new(unit))),
            Some(UnitProblem::NotAllowed) => Err(DescError::UnitNotAllowed(BoundedStr::new(self.name))),
            Some(UnitProblem::MissingSuffix) => Err(DescError::MissingUnitSuffix(BoundedStr::new(self.name))),
        }
    }
}

enum UnitProblem {
    Invalid,
    NotAllowed,
    MissingSuffix,
}

const fn unit_problem(name: &str, unit: &str, t: MetricType) -> Option<UnitProblem> {
    if unit.is_empty() {
        return None;
    }
    if matches!(t, MetricType::Info | MetricType::StateSet) {
        return Some(UnitProblem::NotAllowed);
    }
    let u = unit.as_bytes();
    let mut i = 0;
    while i < u.len() {
        if !(u[i].is_ascii_alphanumeric() || u[i] == b'_' || u[i] == b':') {
            return Some(UnitProblem::Invalid);
        }
        i += 1;
    }
    let n = name.as_bytes();
    if n.len() < u.len() + 1 || n[n.len() - u.len() - 1] != b'_' {
        return Some(UnitProblem::MissingSuffix);
    }
    let start = n.len() - u.len();
    let mut j = 0;
    while j < u.len() {
        if n[start + j] != u[j] {
            return Some(UnitProblem::MissingSuffix);
        }
        j += 1;
    }
    None
}

/// Removes a trailing `_total` from a counter's name; other types keep their name.
pub const fn strip_counter_total(name: &str, metric_type: MetricType) -> &str {
    if matches!(metric_type, MetricType::Counter) {
        let b = name.as_bytes();
        if b.len() > 6 && ends_with(b, b"_total") {
            let (head, _) = name.split_at(b.len() - 6);
            return head;
        }
    }
    name
}

const fn ends_with(s: &[u8], suffix: &[u8]) -> bool {
    if s.len() < suffix.len() {
        return false;
    }
    let off = s.len() - suffix.len();
    let mut i = 0;
    while i < suffix.len() {
        if s[off + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `const` string equality.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    bytes_eq(a.as_bytes(), b.as_bytes())
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `true` if `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub const fn is_valid_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let ok = c.is_ascii_alphabetic() || c == b'_' || c == b':' || (i > 0 && c.is_ascii_digit());
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// `true` if `name` matches `[a-zA-Z_][a-zA-Z0-9_]*`.
pub const fn is_valid_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let ok = c.is_ascii_alphabetic() || c == b'_' || (i > 0 && c.is_ascii_digit());
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// What is wrong with a set of label names, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LabelProblem {
    Invalid(usize),
    Reserved(usize),
    Duplicate(usize),
}

const fn label_names_problem(names: &[&str], metric_type: MetricType) -> Option<LabelProblem> {
    let mut i = 0;
    while i < names.len() {
        let n = names[i].as_bytes();
        if !is_valid_label_name(names[i]) {
            return Some(LabelProblem::Invalid(i));
        }
        if n.len() >= 2 && n[0] == b'_' && n[1] == b'_' {
            return Some(LabelProblem::Reserved(i));
        }
        if let Some(r) = metric_type.reserved_label() {
            if bytes_eq(n, r.as_bytes()) {
                return Some(LabelProblem::Reserved(i));
            }
        }
        let mut j = 0;
        while j < i {
            if bytes_eq(names[j].as_bytes(), n) {
                return Some(LabelProblem::Duplicate(i));
            }
            j += 1;
        }
        i += 1;
    }
    None
}

/// Checks label names for a metric of `metric_type` at compile time.
///
/// Each rule below is a compile error in a `static` (the checks behind every constructor):
/// ```
/// # use promstack_core::{FixedFamily, CounterValue, HistogramValue, SummaryValue};
/// // These compile ...
/// static OK: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("c", "", ["le", "quantile"]);
/// static OK_H: FixedFamily<HistogramValue<1>, 1, 4> = FixedFamily::histogram("h", "", ["x"], [1.0]);
/// ```
/// ```compile_fail
/// # use promstack_core::{FixedFamily, HistogramValue};
/// // ... `le` is reserved on histograms,
/// static BAD: FixedFamily<HistogramValue<1>, 1, 4> = FixedFamily::histogram("h", "", ["le"], [1.0]);
/// ```
/// ```compile_fail
/// # use promstack_core::{FixedFamily, SummaryValue};
/// // `quantile` on summaries,
/// static BAD: FixedFamily<SummaryValue, 1, 4> = FixedFamily::summary("s", "", ["quantile"]);
/// ```
/// ```compile_fail
/// # use promstack_core::{FixedFamily, CounterValue};
/// // a name may appear only once,
/// static BAD: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("c", "", ["a", "a"]);
/// ```
/// ```compile_fail
/// # use promstack_core::{FixedFamily, CounterValue};
/// // and label names follow [a-zA-Z_][a-zA-Z0-9_]*.
/// static BAD: FixedFamily<CounterValue, 1, 4> = FixedFamily::counter("c", "", ["a-b"]);
/// ```
///
/// # Panics
/// With a message naming the problem (a compile error in a `const` or `static`).
pub const fn assert_label_names(names: &[&str], metric_type: MetricType) {
    match label_names_problem(names, metric_type) {
        None => {}
        Some(LabelProblem::Invalid(_)) => panic!("invalid label name: must match [a-zA-Z_][a-zA-Z0-9_]*"),
        Some(LabelProblem::Reserved(_)) => {
            panic!("reserved label name: `__` prefix, `le` on histograms, `quantile` on summaries")
        }
        Some(LabelProblem::Duplicate(_)) => panic!("duplicate label name"),
    }
}

/// Run-time form of [`assert_label_names`].
pub fn check_label_names(names: &[&str], metric_type: MetricType) -> Result<(), DescError> {
    match label_names_problem(names, metric_type) {
        None => Ok(()),
        Some(LabelProblem::Invalid(i)) => Err(DescError::InvalidLabelName(BoundedStr::new(names[i]))),
        Some(LabelProblem::Reserved(i)) => Err(DescError::ReservedLabelName(BoundedStr::new(names[i]))),
        Some(LabelProblem::Duplicate(i)) => Err(DescError::DuplicateLabelName(BoundedStr::new(names[i]))),
    }
}

/// Checks a metric name at run time.
pub fn check_metric_name(name: &str) -> Result<(), DescError> {
    if is_valid_metric_name(name) {
        Ok(())
    } else {
        Err(DescError::InvalidMetricName(BoundedStr::new(name)))
    }
}

#[cfg(feature = "float")]
const fn buckets_problem(bounds: &[f64]) -> Option<&'static str> {
    if bounds.is_empty() {
        return Some("at least one finite bound is required");
    }
    let mut i = 0;
    while i < bounds.len() {
        let b = bounds[i];
        if b.is_nan() {
            return Some("a bound is NaN");
        }
        if b == f64::INFINITY {
            if i + 1 != bounds.len() {
                return Some("+Inf must be the last bound");
            }
            if i == 0 {
                return Some("at least one finite bound is required");
            }
        }
        if i > 0 && bounds[i - 1] >= b {
            return Some("bounds must be sorted strictly ascending");
        }
        i += 1;
    }
    None
}

#[cfg(feature = "float")]
/// Checks histogram bucket bounds at compile time: non-empty, no NaN, strictly ascending.
/// A trailing `+Inf` is allowed (it is always implied).
///
/// # Panics
/// With a message naming the problem (a compile error in a `const` or `static`).
pub const fn assert_buckets(bounds: &[f64]) {
    if let Some(why) = buckets_problem(bounds) {
        panic!("{}", why);
    }
}

#[cfg(feature = "float")]
/// Run-time form of [`assert_buckets`].
pub fn check_buckets(bounds: &[f64]) -> Result<(), DescError> {
    match buckets_problem(bounds) {
        None => Ok(()),
        Some(why) => Err(DescError::InvalidBuckets(why)),
    }
}

const fn states_problem(states: &[&str]) -> Option<&'static str> {
    if states.is_empty() {
        return Some("at least one state is required");
    }
    let mut i = 0;
    while i < states.len() {
        let mut j = 0;
        while j < i {
            if bytes_eq(states[i].as_bytes(), states[j].as_bytes()) {
                return Some("states must be unique");
            }
            j += 1;
        }
        i += 1;
    }
    None
}

/// Checks Enum states at compile time: at least one, all distinct.
///
/// ```
/// static OK: promstack_core::Enum = promstack_core::Enum::new("e", "", &["a", "b"]);
/// ```
/// ```compile_fail
/// static BAD: promstack_core::Enum = promstack_core::Enum::new("e", "", &["a", "a"]);
/// ```
/// ```compile_fail
/// static BAD: promstack_core::Enum = promstack_core::Enum::new("e", "", &[]);
/// ```
///
/// # Panics
/// With a message naming the problem (a compile error in a `const` or `static`).
pub const fn assert_states(states: &[&str]) {
    if let Some(why) = states_problem(states) {
        panic!("{}", why);
    }
}

/// Run-time form of [`assert_states`].
pub fn check_states(states: &[&str]) -> Result<(), DescError> {
    match states_problem(states) {
        None => Ok(()),
        Some(why) => Err(DescError::InvalidStates(why)),
    }
}

#[cfg(all(test, feature = "float", feature = "openmetrics"))]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        for ok in ["a", "_", ":", "a_b:c9", "A"] {
            assert!(is_valid_metric_name(ok), "{ok}");
        }
        for bad in ["", "0a", "a-b", "a b", "é", "a.b"] {
            assert!(!is_valid_metric_name(bad), "{bad}");
            assert_eq!(check_metric_name(bad), Err(DescError::InvalidMetricName(BoundedStr::new(bad))));
        }
    }

    #[test]
    fn label_names() {
        assert_eq!(check_label_names(&["a", "b_2"], MetricType::Counter), Ok(()));
        assert!(matches!(
            check_label_names(&["a", "__x"], MetricType::Gauge),
            Err(DescError::ReservedLabelName(n)) if n.as_str() == "__x"
        ));
        assert!(matches!(
            check_label_names(&["le"], MetricType::Histogram),
            Err(DescError::ReservedLabelName(_))
        ));
        assert_eq!(check_label_names(&["le"], MetricType::Gauge), Ok(()));
        assert!(matches!(
            check_label_names(&["quantile"], MetricType::Summary),
            Err(DescError::ReservedLabelName(_))
        ));
        assert!(matches!(
            check_label_names(&["a:b"], MetricType::Gauge),
            Err(DescError::InvalidLabelName(_))
        ));
        assert!(matches!(
            check_label_names(&["a", "a"], MetricType::Gauge),
            Err(DescError::DuplicateLabelName(_))
        ));
    }

    #[test]
    fn counter_total_is_stripped() {
        assert_eq!(Desc::new("x_total", "", MetricType::Counter).name, "x");
        assert_eq!(Desc::new("x_total", "", MetricType::Gauge).name, "x_total");
        // Nothing would be left of the name: keep it whole.
        assert_eq!(Desc::new("_total", "", MetricType::Counter).name, "_total");
    }

    #[test]
    fn units() {
        let d = Desc::new("size_bytes", "", MetricType::Gauge);
        assert_eq!(d.try_with_unit("bytes").map(|d| d.unit), Ok("bytes"));
        assert!(matches!(d.try_with_unit("seconds"), Err(DescError::MissingUnitSuffix(_))));
        assert!(matches!(d.try_with_unit("b-s"), Err(DescError::InvalidUnit(_))));
        let i = Desc::new("x_bytes", "", MetricType::Info);
        assert!(matches!(i.try_with_unit("bytes"), Err(DescError::UnitNotAllowed(_))));
    }

    #[test]
    fn buckets() {
        assert_eq!(check_buckets(&[1.0, 2.0]), Ok(()));
        assert_eq!(check_buckets(&[1.0, f64::INFINITY]), Ok(()));
        assert!(check_buckets(&[]).is_err());
        assert!(check_buckets(&[f64::INFINITY]).is_err());
        assert!(check_buckets(&[2.0, 1.0]).is_err());
        assert!(check_buckets(&[1.0, 1.0]).is_err());
        assert!(check_buckets(&[f64::NAN]).is_err());
        assert!(check_buckets(&[f64::INFINITY, 1.0]).is_err());
    }

    #[test]
    fn states() {
        assert_eq!(check_states(&["a", "b"]), Ok(()));
        assert!(check_states(&[]).is_err());
        assert!(check_states(&["a", "a"]).is_err());
    }

    #[test]
    fn bounded_str_cuts_long_input() {
        let long = "é".repeat(50);
        let b = BoundedStr::new(&long);
        assert!(b.as_str().ends_with("..."));
        assert!(b.as_str().len() <= 64);
    }
}
