//! Parsers for Prometheus text 0.0.4 and OpenMetrics 1.0 text into owned [`MetricFamily`]s.
//!
//! Both follow Python `prometheus_client` 0.8.0's parsers: the text parser is as lenient as
//! 0.8.0's `parser.py` where its tests ask for leniency (spaces and tabs anywhere between tokens,
//! a trailing comma in a label set, unknown escapes kept) and strict where a lenient reading
//! would be a guess (a bad label name, a missing comma, extra tokens), and follows promtool on
//! metadata; the OpenMetrics parser rejects everything 0.8.0's `openmetrics/parser.py` rejects
//! (except `le`/`quantile` numbers not spelled canonically, which OpenMetrics and Python 0.26
//! accept) and what 0.26 added (`_count` without `_sum`, clashing names). Errors name the line
//! (1-based) and the problem. Neither parser panics on any input.
//!
//! Families come back in input order. Sample values are `f64`; timestamps are exact
//! [`Timestamp`](promstack_core::Timestamp)s (whole nanoseconds, as written), so they survive
//! parse -> encode -> parse unchanged.

mod openmetrics;
mod text;

pub use openmetrics::parse_openmetrics;
pub use text::parse_text;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

#[cfg(doc)]
use crate::MetricFamily;

/// Parsing stopped at `line` because of `kind`.
///
/// ```
/// use promstack_alloc::{parse_openmetrics, ParseErrorKind};
/// let err = parse_openmetrics("# TYPE a counter\na_total -1\n# EOF\n").unwrap_err();
/// assert_eq!(err.line, 2);
/// assert!(matches!(err.kind, ParseErrorKind::NegativeCounterLike(_)));
/// assert_eq!(err.to_string(), "line 2: counter-like sample \"a_total\" is negative");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl core::error::Error for ParseError {}

/// What is wrong with a line (see [`ParseError`]). Offending values are kept, cut to 64 bytes.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// A line that is none of sample, metadata, comment or `# EOF`.
    InvalidLine(String),
    /// An empty line (OpenMetrics only; text 0.0.4 allows them).
    BlankLine,
    /// A metric name that does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    InvalidMetricName(String),
    /// A label name that does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    InvalidLabelName(String),
    /// A label name appears twice in one label set.
    DuplicateLabelName(String),
    /// A label set is malformed; the text says how.
    InvalidLabels(&'static str),
    /// A sample has no value.
    MissingValue,
    /// A sample or exemplar value is not a number.
    InvalidValue(String),
    /// A timestamp is not a number of the allowed form.
    InvalidTimestamp(String),
    /// Tokens are separated by more than one space, or a line ends with one (OpenMetrics).
    ExtraSpace,
    /// Something follows the timestamp (text 0.0.4).
    TrailingText(String),
    /// A malformed exemplar; the text says how.
    InvalidExemplar(&'static str),
    /// Exemplar label names and values together are longer than 128 characters.
    ExemplarTooLong(usize),
    /// A sample of a type or suffix that may not have an exemplar.
    MisplacedExemplar(String),
    /// `# TYPE` names a type this format does not have.
    UnknownType(String),
    /// A second `# HELP`, `# TYPE` or `# UNIT` line for the family.
    DuplicateMetadata {
        /// `HELP`, `TYPE` or `UNIT`.
        keyword: &'static str,
        /// The family.
        family: String,
    },
    /// A metadata line after the family's first sample.
    MetadataAfterSamples(String),
    /// A family appears a second time after another family (families may not interleave).
    DuplicateFamily(String),
    /// A sample name the family can have (`x`, `x_total`, `x_created`, `x_bucket`, ...) is one
    /// another family has or produces (OpenMetrics).
    ClashingName {
        /// The family.
        family: String,
        /// The name both can have.
        name: String,
    },
    /// `# UNIT` is not the suffix of the family name.
    UnitMismatch {
        /// The family.
        family: String,
        /// The unit.
        unit: String,
    },
    /// Info and StateSet families cannot have a unit.
    UnitNotAllowed(String),
    /// A label set (child) comes back after another child of the same family.
    InvalidGrouping(String),
    /// Some samples of a child have timestamps and some do not.
    TimestampPresenceMix(String),
    /// Timestamps of a child go backwards.
    TimestampsBackwards(String),
    /// A stateset sample lacks the label named after the family.
    MissingStateLabel(String),
    /// A bucket's `le` is missing, not a number, NaN, or an infinity not spelled `+Inf`.
    InvalidLe(String),
    /// A summary quantile label is missing, not a number, or outside `[0, 1]`.
    InvalidQuantile(String),
    /// A stateset value other than 0 or 1.
    InvalidStateValue(String),
    /// An info value other than 1.
    InvalidInfoValue(String),
    /// A negative summary quantile value.
    NegativeQuantileValue(String),
    /// A `_total`, `_sum`, `_count`, `_bucket`, `_gcount` or `_gsum` sample is NaN.
    NanCounterLike(String),
    /// A `_total`, `_sum`, `_count`, `_bucket` or `_gcount` sample is negative.
    NegativeCounterLike(String),
    /// A histogram's buckets are inconsistent; the text says how.
    InvalidHistogram {
        /// The family.
        family: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A histogram child has `_count` without `_sum` or the reverse (`_gcount` and `_gsum` for a
    /// gauge histogram): OpenMetrics wants both or neither.
    CountSumMismatch {
        /// The family.
        family: String,
        /// The sample the child has (`_count`, `_sum`, `_gcount` or `_gsum`).
        present: &'static str,
        /// The sample it lacks.
        missing: &'static str,
    },
    /// Lines follow `# EOF`.
    TextAfterEof,
    /// The input does not end with `# EOF`.
    MissingEof,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind as K;
        match self {
            K::InvalidLine(l) => write!(f, "invalid line: {l:?}"),
            K::BlankLine => f.write_str("blank line"),
            K::InvalidMetricName(n) => write!(f, "invalid metric name: {n:?}"),
            K::InvalidLabelName(n) => write!(f, "invalid label name: {n:?}"),
            K::DuplicateLabelName(n) => write!(f, "duplicate label name: {n:?}"),
            K::InvalidLabels(why) => write!(f, "invalid labels: {why}"),
            K::MissingValue => f.write_str("sample has no value"),
            K::InvalidValue(v) => write!(f, "invalid value: {v:?}"),
            K::InvalidTimestamp(t) => write!(f, "invalid timestamp: {t:?}"),
            K::ExtraSpace => f.write_str("unexpected space: fields are separated by exactly one space"),
            K::TrailingText(t) => write!(f, "unexpected text after the timestamp: {t:?}"),
            K::InvalidExemplar(why) => write!(f, "invalid exemplar: {why}"),
            K::ExemplarTooLong(n) => {
                write!(f, "exemplar labels are {n} characters long, more than the 128 allowed")
            }
            K::MisplacedExemplar(s) => {
                write!(
                    f,
                    "sample {s:?} cannot have an exemplar: only histogram buckets and counter totals can"
                )
            }
            K::UnknownType(t) => write!(f, "unknown metric type: {t:?}"),
            K::DuplicateMetadata { keyword, family } => {
                write!(f, "more than one {keyword} line for metric {family:?}")
            }
            K::MetadataAfterSamples(n) => write!(f, "metadata for metric {n:?} after its samples"),
            K::DuplicateFamily(n) => {
                write!(f, "metric {n:?} appears again after other metrics (families cannot be interleaved)")
            }
            K::ClashingName { family, name } => {
                write!(f, "metric {family:?} clashes with another metric over the sample name {name:?}")
            }
            K::UnitMismatch { family, unit } => {
                write!(f, "unit {unit:?} is not the suffix of metric name {family:?}")
            }
            K::UnitNotAllowed(n) => write!(f, "metric {n:?} cannot have a unit: info and stateset have none"),
            K::InvalidGrouping(n) => {
                write!(f, "samples of one child of metric {n:?} are not together (invalid metric grouping)")
            }
            K::TimestampPresenceMix(n) => {
                write!(f, "some samples of a child of metric {n:?} have a timestamp and some do not")
            }
            K::TimestampsBackwards(n) => write!(f, "timestamps of a child of metric {n:?} go backwards"),
            K::MissingStateLabel(n) => write!(f, "stateset sample lacks its {n:?} label"),
            K::InvalidLe(v) => write!(f, "invalid le label: {v:?}"),
            K::InvalidQuantile(v) => write!(f, "invalid quantile label: {v:?}"),
            K::InvalidStateValue(v) => write!(f, "stateset value must be 0 or 1, got {v:?}"),
            K::InvalidInfoValue(v) => write!(f, "info value must be 1, got {v:?}"),
            K::NegativeQuantileValue(v) => write!(f, "quantile value is negative: {v:?}"),
            K::NanCounterLike(s) => write!(f, "counter-like sample {s:?} is NaN"),
            K::NegativeCounterLike(s) => write!(f, "counter-like sample {s:?} is negative"),
            K::InvalidHistogram { family, problem } => write!(f, "histogram {family:?}: {problem}"),
            K::CountSumMismatch { family, present, missing } => {
                write!(f, "histogram {family:?} has {present} without {missing}")
            }
            K::TextAfterEof => f.write_str("text after # EOF"),
            K::MissingEof => f.write_str("missing # EOF at the end"),
        }
    }
}

/// Label pairs in the order read.
type LabelPairs = Vec<(String, String)>;

/// A copy of `s` for an error, cut after 64 bytes (at a character boundary) with `...`.
fn b(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return String::from(s);
    }
    let mut end = MAX - 3;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::from(&s[..end]);
    out.push_str("...");
    out
}

/// Reads a label value whose opening quote has been consumed: returns the unescaped value and
/// the text after the closing quote. `\\`, `\n` and `\"` are escapes; a backslash before any
/// other character is kept as it is (as 0.8.0 does).
fn read_quoted(s: &str) -> Result<(String, &str), ParseErrorKind> {
    let bytes = s.as_bytes();
    let mut out = String::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                out.push_str(&s[start..i]);
                return Ok((out, &s[i + 1..]));
            }
            b'\\' => {
                let esc = match bytes.get(i + 1) {
                    Some(b'\\') => '\\',
                    Some(b'n') => '\n',
                    Some(b'"') => '"',
                    // Not an escape: the backslash stays and the next character is read normally.
                    _ => {
                        i += 1;
                        continue;
                    }
                };
                out.push_str(&s[start..i]);
                out.push(esc);
                i += 2;
                start = i;
            }
            _ => i += 1,
        }
    }
    Err(ParseErrorKind::InvalidLabels("unterminated label value"))
}

/// Parses a number as Python's `float()` does for ASCII text: decimal and exponent forms,
/// `inf`/`infinity`/`nan` in any case with an optional sign. No spaces, underscores or hex.
fn parse_f64(s: &str) -> Option<f64> {
    if s.is_empty() || s.contains('_') {
        return None;
    }
    s.parse().ok()
}

/// Fails on the first label name that repeats an earlier one. A hash set keeps this linear: a
/// line may carry tens of thousands of labels.
fn check_unique(labels: &[(String, String)]) -> Result<(), ParseErrorKind> {
    // Comparing pairs is faster for the few labels of ordinary lines.
    const SMALL: usize = 16;
    if labels.len() <= SMALL {
        for (i, (name, _)) in labels.iter().enumerate() {
            if labels[..i].iter().any(|(n, _)| n == name) {
                return Err(ParseErrorKind::DuplicateLabelName(b(name)));
            }
        }
        return Ok(());
    }
    let mut seen = hashbrown::HashSet::with_capacity(labels.len());
    match labels.iter().find(|(name, _)| !seen.insert(name.as_str())) {
        Some((name, _)) => Err(ParseErrorKind::DuplicateLabelName(b(name))),
        None => Ok(()),
    }
}

/// Sorted copy of a label set, for grouping and duplicate detection.
fn sorted_labels(labels: &[(String, String)]) -> LabelPairs {
    let mut v = labels.to_vec();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values() {
        let cases: &[(&str, &str, &str)] = &[
            ("abc\" x", "abc", " x"),
            ("a\\\\b\"", "a\\b", ""),
            ("a\\nb\"", "a\nb", ""),
            ("a\\\"b\"", "a\"b", ""),
            ("a\\zb\"", "a\\zb", ""),
            ("\\\\\"rest", "\\", "rest"),
            ("é\\né\"", "é\né", ""),
        ];
        for (input, value, rest) in cases {
            let (v, r) = read_quoted(input).unwrap();
            assert_eq!((v.as_str(), r), (*value, *rest), "{input:?}");
        }
        assert!(read_quoted("abc").is_err());
        assert!(read_quoted("abc\\\"").is_err());
        assert!(read_quoted("\\").is_err());
    }

    #[test]
    fn floats_like_python() {
        for (s, v) in [("1", 1.0), ("-1.5e3", -1500.0), (".5", 0.5), ("5.", 5.0), ("+Inf", f64::INFINITY)] {
            assert_eq!(parse_f64(s), Some(v), "{s}");
        }
        assert!(parse_f64("nan").is_some_and(f64::is_nan));
        assert!(parse_f64("-Infinity").is_some_and(|v| v == f64::NEG_INFINITY));
        for bad in ["", "1_0", "0x1", " 1", "1 ", "e5", ".", "1e", "--1"] {
            assert_eq!(parse_f64(bad), None, "{bad}");
        }
    }
}
