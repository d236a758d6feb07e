//! OpenMetrics 1.0 text, as strict as 0.8.0's `openmetrics/parser.py`, plus the rules 0.26 added.
//!
//! Every rule that parser enforces is enforced here: `# EOF` last and required; one space
//! between fields; `# HELP`/`# TYPE`/`# UNIT` at most once each and before the samples; no
//! interleaved families or children; type-specific sample names, `le`/`quantile` labels that are
//! numbers, value ranges, histogram consistency, timestamps not going backwards, exemplars only
//! on histogram buckets and counter totals. Exact duplicates of a sample within a child (same
//! series and timestamp) are dropped, as 0.8.0 does. From Python 0.26 and the OpenMetrics 1.0
//! text: `_count` if and only if `_sum` (`_gcount` iff `_gsum`); no two families that can have a
//! sample of the same name (`a_created` and the counter `a`); `le`/`quantile` numbers in any
//! spelling (0.8.0 wanted `1.0`, not `1`), except `+Inf`.
//!
//! Where this parser differs from 0.8.0, on purpose: exemplar labels may be 128 characters long
//! (the OpenMetrics 1.0 limit, which the encoders also allow; 0.8.0 stops at 64); an `le` that
//! is NaN in any spelling is refused (0.8.0 only refuses the literal `NaN`); a metadata line must
//! start with `# ` exactly; timestamps are compared by value (0.8.0's comparison of
//! `Timestamp` objects is wrong when nanoseconds differ and seconds do not), and a negative
//! fraction such as `-0.5` keeps its sign; a sample is a duplicate only of one at the same
//! timestamp (0.8.0 and 0.26 also drop `a_created 5 2` after `a_created 5 1`, `a_total 2 2`).

use super::{b, check_unique, parse_f64, read_quoted, sorted_labels, LabelPairs, ParseError, ParseErrorKind};
use crate::metric_family::{MetricFamily, OwnedExemplar, OwnedSample};
use alloc::borrow::Cow;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use promstack_core::{is_valid_label_name, is_valid_metric_name, MetricType, Timestamp};

/// Parses OpenMetrics 1.0 text (which must end with `# EOF`).
///
/// ```
/// use promstack_alloc::parse_openmetrics;
/// use promstack_core::{MetricType, Timestamp};
/// let families = parse_openmetrics(
///     "# TYPE latency_seconds histogram\n# UNIT latency_seconds seconds\n\
///      latency_seconds_bucket{le=\"0.5\"} 1 # {trace_id=\"a1\"} 0.31 1600000000.25\n\
///      latency_seconds_bucket{le=\"+Inf\"} 2\n\
///      latency_seconds_count 2\n\
///      latency_seconds_sum 1.7\n# EOF\n",
/// ).unwrap();
/// let h = &families[0];
/// assert_eq!((h.metric_type(), h.unit()), (MetricType::Histogram, "seconds"));
/// let ex = h.samples()[0].exemplar.as_ref().unwrap();
/// assert_eq!((ex.value, ex.timestamp), (0.31, Some(Timestamp::from_millis(1600000000250))));
/// assert!(parse_openmetrics("a 1\n").is_err()); // no # EOF
/// ```
pub fn parse_openmetrics(input: &str) -> Result<Vec<MetricFamily>, ParseError> {
    let mut p = Parser::default();
    let mut line_no = 0;
    // Lines end at `\n` only; a final line without one is still a line.
    for raw in input.split_inclusive('\n') {
        line_no += 1;
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let err = |kind| ParseError { line: line_no, kind };
        if p.eof {
            return Err(err(ParseErrorKind::TextAfterEof));
        }
        if line == "# EOF" {
            p.eof = true;
        } else if line.starts_with('#') {
            p.metadata(line, line_no).map_err(err)?;
        } else {
            p.sample(line, line_no).map_err(err)?;
        }
    }
    p.finish_family()?;
    if !p.eof {
        return Err(ParseError { line: line_no.max(1), kind: ParseErrorKind::MissingEof });
    }
    Ok(p.out)
}

/// Python's `_parse_timestamp`, kept to the nanosecond: every decimal form (`5`, `1.25`, `.5`,
/// `1.5e3`) is read exactly, by digits, and cut after the ninth fraction digit (as Python's
/// `Timestamp(sec, nsec)` cuts it), so what the encoder writes back reads as the same timestamp.
/// Only a value beyond `i128` nanoseconds (about 5e21 years) is kept as the `f64` it reads as.
fn parse_timestamp(s: &str) -> Result<Timestamp, ParseErrorKind> {
    let bad = || ParseErrorKind::InvalidTimestamp(b(s));
    if s.is_empty() || s.contains('_') {
        return Err(bad());
    }
    if let Some(nanos) = decimal_nanos(s) {
        return Ok(Timestamp::from_nanos(nanos));
    }
    match parse_f64(s) {
        Some(secs) if secs.is_finite() => Ok(Timestamp::from(secs)),
        _ => Err(bad()),
    }
}

/// `[+-]digits[.digits][(e|E)[+-]digits]` (either digit run may be empty, not both) as
/// nanoseconds, cut toward zero; `None` for any other shape or beyond `i128`.
fn decimal_nanos(s: &str) -> Option<i128> {
    let (neg, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (unsigned, 0),
    };
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let is_digits = |d: &str| d.bytes().all(|c| c.is_ascii_digit());
    if (int_part.is_empty() && frac.is_empty()) || !is_digits(int_part) || !is_digits(frac) {
        return None;
    }
    // value = digits * 10^(exp - frac.len()), in nanoseconds * 10^9.
    let digits = int_part.bytes().chain(frac.bytes()).skip_while(|c| *c == b'0');
    let significant =
        int_part.len() + frac.len() - int_part.bytes().chain(frac.bytes()).take_while(|c| *c == b'0').count();
    let shift = i64::from(exp) - frac.len() as i64 + 9;
    // Digits past the point the shift leaves are cut; a negative `keep` keeps none.
    let keep = if shift < 0 { significant as i64 + shift } else { significant as i64 };
    let mut n: i128 = 0;
    for c in digits.take(keep.max(0) as usize) {
        n = n.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
    }
    if shift > 0 && n != 0 {
        for _ in 0..shift {
            n = n.checked_mul(10)?;
        }
    }
    Some(if neg { -n } else { n })
}

/// A number in a sample or exemplar: 0.8.0's `_parse_value` (an integer or a Python float).
fn parse_value(s: &str) -> Result<f64, ParseErrorKind> {
    if s.is_empty() {
        return Err(ParseErrorKind::MissingValue);
    }
    parse_f64(s).ok_or_else(|| ParseErrorKind::InvalidValue(b(s)))
}

/// The number in an `le` or `quantile` label. OpenMetrics 1.0 asks exposers to spell some numbers
/// canonically (`1.0`, `0.001`, `1e-05`, `+Inf`) and forbids parsers to reject a number outside
/// that set for its spelling; Python 0.26 goes further and requires only `+Inf` spelled exactly,
/// as here, so `"1"`, `"0"` and `"1e-04"` are accepted (0.8.0 refused them). Values compare
/// numerically, never as text.
fn label_number(s: &str) -> Option<f64> {
    parse_f64(s).filter(|v| *v != f64::INFINITY || s == "+Inf")
}

/// One parsed sample line.
struct Line<'a> {
    name: &'a str,
    labels: Vec<(String, String)>,
    value: f64,
    value_text: &'a str,
    timestamp: Option<Timestamp>,
    exemplar: Option<(LabelPairs, f64, Option<Timestamp>)>,
}

/// Splits at the first space: the token and what follows the space, if there is one.
fn token(s: &str) -> (&str, Option<&str>) {
    match s.split_once(' ') {
        Some((t, rest)) => (t, Some(rest)),
        None => (s, None),
    }
}

/// `name[{labels}] value[ timestamp][ # {labels} value[ timestamp]]`.
fn parse_line(line: &str) -> Result<Line<'_>, ParseErrorKind> {
    if line.is_empty() {
        return Err(ParseErrorKind::BlankLine);
    }
    let end = line.find([' ', '{']).ok_or(ParseErrorKind::MissingValue)?;
    let name = &line[..end];
    if !is_valid_metric_name(name) {
        return Err(ParseErrorKind::InvalidMetricName(b(name)));
    }
    let (labels, rest) = match line[end..].strip_prefix('{') {
        Some(after) => parse_labels(after)?,
        None => (Vec::new(), &line[end..]),
    };
    let rest = match rest.strip_prefix(' ') {
        Some(r) => r,
        None if rest.is_empty() => return Err(ParseErrorKind::MissingValue),
        None => return Err(ParseErrorKind::InvalidLabels("expected a space after the labels")),
    };
    let (value_token, rest) = token(rest);
    if value_token.is_empty() && rest.is_some() {
        return Err(ParseErrorKind::ExtraSpace);
    }
    let value = parse_value(value_token)?;
    let mut line = Line { name, labels, value, value_text: value_token, timestamp: None, exemplar: None };
    let Some(rest) = rest else { return Ok(line) };
    let exemplar = if rest.starts_with('#') {
        rest
    } else {
        let (ts, after) = token(rest);
        if ts.is_empty() {
            return Err(ParseErrorKind::ExtraSpace);
        }
        line.timestamp = Some(parse_timestamp(ts)?);
        match after {
            None => return Ok(line),
            Some("") => return Err(ParseErrorKind::ExtraSpace),
            Some(a) => a,
        }
    };
    let ex = exemplar
        .strip_prefix("# {")
        .ok_or(ParseErrorKind::InvalidExemplar("expected ` # {` after the value"))?;
    let (ex_labels, rest) = parse_labels(ex)?;
    let rest =
        rest.strip_prefix(' ').ok_or(ParseErrorKind::InvalidExemplar("expected a space after its labels"))?;
    let (value_token, after) = token(rest);
    if value_token.is_empty() {
        return Err(ParseErrorKind::InvalidExemplar("missing value"));
    }
    let ex_value = parse_value(value_token)?;
    let ex_ts = match after {
        None => None,
        Some("") => return Err(ParseErrorKind::ExtraSpace),
        Some(t) => Some(parse_timestamp(t)?),
    };
    let len: usize = ex_labels.iter().map(|(n, v)| n.chars().count() + v.chars().count()).sum();
    if len > 128 {
        return Err(ParseErrorKind::ExemplarTooLong(len));
    }
    line.exemplar = Some((ex_labels, ex_value, ex_ts));
    Ok(line)
}

/// Labels after `{`, up to and including `}`: `name="value"` pairs separated by single commas,
/// no spaces, no trailing comma.
fn parse_labels(s: &str) -> Result<(LabelPairs, &str), ParseErrorKind> {
    let mut labels: Vec<(String, String)> = Vec::new();
    if let Some(rest) = s.strip_prefix('}') {
        return Ok((labels, rest));
    }
    let mut rest = s;
    loop {
        let eq = rest.find(['=', '}']).ok_or(ParseErrorKind::InvalidLabels("missing closing brace"))?;
        let name = &rest[..eq];
        if !rest[eq..].starts_with('=') {
            return Err(ParseErrorKind::InvalidLabels("expected `=` after a label name"));
        }
        if name.is_empty() || name.starts_with(',') {
            return Err(ParseErrorKind::InvalidLabels("unexpected comma"));
        }
        if !is_valid_label_name(name) {
            return Err(ParseErrorKind::InvalidLabelName(b(name)));
        }
        let after = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or(ParseErrorKind::InvalidLabels("label value must be quoted"))?;
        let (value, r) = read_quoted(after)?;
        labels.push((String::from(name), value));
        if let Some(r) = r.strip_prefix('}') {
            check_unique(&labels)?;
            return Ok((labels, r));
        }
        rest = r
            .strip_prefix(',')
            .ok_or(ParseErrorKind::InvalidLabels("expected `,` or `}` after a label value"))?;
        if rest.starts_with('}') {
            return Err(ParseErrorKind::InvalidLabels("trailing comma"));
        }
    }
}

/// OpenMetrics type names (`untyped` is text 0.0.4's name, not one of them).
fn om_type(s: &str) -> Option<MetricType> {
    MetricType::parse(s).filter(|_| s != "untyped")
}

/// Suffixes of the sample names a family of this type takes (`None`: no `# TYPE` yet).
fn allowed_suffixes(t: Option<MetricType>) -> &'static [&'static str] {
    match t {
        Some(MetricType::Counter) => &["_total", "_created"],
        Some(MetricType::Summary) => &["_count", "_sum", "", "_created"],
        Some(MetricType::Histogram) => &["_count", "_sum", "_bucket", "_created"],
        Some(MetricType::GaugeHistogram) => &["_gcount", "_gsum", "_bucket"],
        Some(MetricType::Info) => &["_info"],
        _ => &[""],
    }
}

type LabelSet = LabelPairs;

/// The family being read, with the state 0.8.0 keeps for its grouping checks.
#[derive(Default)]
struct Family {
    name: String,
    /// The line that started it.
    line: usize,
    help: Option<String>,
    metric_type: Option<MetricType>,
    unit: Option<String>,
    unit_line: usize,
    samples: Vec<OwnedSample>,
    /// Line and timestamp of each kept sample, for the histogram checks.
    meta: Vec<(usize, Option<Timestamp>)>,
    /// The current child (label set without `le`/`quantile`/state) and its last timestamp.
    group: Option<LabelSet>,
    group_ts: Option<Timestamp>,
    seen_groups: BTreeSet<LabelSet>,
    /// Series of the current child seen at the current timestamp, to drop exact duplicates.
    group_series: BTreeSet<(&'static str, LabelSet)>,
}

#[derive(Default)]
struct Parser {
    out: Vec<MetricFamily>,
    cur: Option<Family>,
    seen: BTreeSet<String>,
    /// Every sample name the finished families can have, for the clash check.
    sample_names: BTreeSet<String>,
    eof: bool,
}

impl Parser {
    fn start_family(
        &mut self,
        name: &str,
        metric_type: Option<MetricType>,
        line: usize,
    ) -> Result<(), ParseErrorKind> {
        if !is_valid_metric_name(name) {
            return Err(ParseErrorKind::InvalidMetricName(b(name)));
        }
        if !self.seen.insert(String::from(name)) {
            return Err(ParseErrorKind::DuplicateFamily(b(name)));
        }
        self.cur = Some(Family { name: String::from(name), line, metric_type, ..Family::default() });
        Ok(())
    }

    /// `# HELP`, `# TYPE` or `# UNIT` (anything else starting with `#` is an error).
    fn metadata(&mut self, line: &str, line_no: usize) -> Result<(), ParseErrorKind> {
        let mut parts = line.splitn(4, ' ');
        let (Some("#"), Some(keyword), Some(name), Some(text)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseErrorKind::InvalidLine(b(line)));
        };
        if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
            return Err(ParseErrorKind::InvalidLine(b(line)));
        }
        match &self.cur {
            Some(c) if c.name == name => {
                if !c.samples.is_empty() {
                    return Err(ParseErrorKind::MetadataAfterSamples(b(name)));
                }
            }
            _ => {
                self.finish_family().map_err(|e| e.kind)?;
                self.start_family(name, None, line_no)?;
            }
        }
        let Some(c) = self.cur.as_mut() else { return Ok(()) };
        let duplicate = |keyword| ParseErrorKind::DuplicateMetadata { keyword, family: b(name) };
        match keyword {
            "HELP" => {
                if c.help.is_some() {
                    return Err(duplicate("HELP"));
                }
                c.help = Some(unescape_help(text));
            }
            "TYPE" => {
                if c.metric_type.is_some() {
                    return Err(duplicate("TYPE"));
                }
                c.metric_type = Some(om_type(text).ok_or_else(|| ParseErrorKind::UnknownType(b(text)))?);
            }
            _ => {
                if c.unit.is_some() {
                    return Err(duplicate("UNIT"));
                }
                c.unit = Some(String::from(text));
                c.unit_line = line_no;
            }
        }
        Ok(())
    }

    fn sample(&mut self, line: &str, line_no: usize) -> Result<(), ParseErrorKind> {
        let s = parse_line(line)?;
        let fits = self.cur.as_ref().and_then(|c| {
            let rest = s.name.strip_prefix(c.name.as_str())?;
            allowed_suffixes(c.metric_type).iter().copied().find(|x| *x == rest)
        });
        let suffix = match fits {
            Some(suffix) => suffix,
            None => {
                self.finish_family().map_err(|e| e.kind)?;
                self.start_family(s.name, Some(MetricType::Unknown), line_no)?;
                ""
            }
        };
        let Some(c) = self.cur.as_mut() else { return Ok(()) };
        let t = c.metric_type;
        let label = |n: &str| s.labels.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        let is_hist = matches!(t, Some(MetricType::Histogram | MetricType::GaugeHistogram));

        if t == Some(MetricType::StateSet) && label(&c.name).is_none() {
            return Err(ParseErrorKind::MissingStateLabel(b(&c.name)));
        }
        if is_hist && suffix == "_bucket" {
            let le = label("le");
            if le.and_then(label_number).is_none_or(f64::is_nan) {
                return Err(ParseErrorKind::InvalidLe(b(le.unwrap_or(""))));
            }
        }
        if t == Some(MetricType::Summary) && suffix.is_empty() {
            let q = label("quantile");
            if !q.and_then(label_number).is_some_and(|v| (0.0..=1.0).contains(&v)) {
                return Err(ParseErrorKind::InvalidQuantile(b(q.unwrap_or(""))));
            }
        }

        // Children: 0.8.0's `_group_for_sample`.
        let drop = match t {
            Some(MetricType::Info) => None,
            Some(MetricType::Summary) if suffix.is_empty() => Some("quantile"),
            Some(MetricType::StateSet) => Some(c.name.as_str()),
            Some(MetricType::Histogram | MetricType::GaugeHistogram) if suffix == "_bucket" => Some("le"),
            _ => Some(""),
        };
        let sorted = sorted_labels(&s.labels);
        let group: LabelSet = match drop {
            None => Vec::new(),
            Some(d) => sorted.iter().filter(|(k, _)| k != d).cloned().collect(),
        };
        if c.group.as_ref() == Some(&group) {
            if s.timestamp.is_some() != c.group_ts.is_some() {
                return Err(ParseErrorKind::TimestampPresenceMix(b(&c.name)));
            }
            if let (Some(prev), Some(now)) = (c.group_ts, s.timestamp) {
                if prev > now && t != Some(MetricType::Info) {
                    return Err(ParseErrorKind::TimestampsBackwards(b(&c.name)));
                }
            }
        } else {
            if c.group.is_some() && c.seen_groups.contains(&group) {
                return Err(ParseErrorKind::InvalidGrouping(b(&c.name)));
            }
            c.group_series.clear();
            c.seen_groups.insert(group.clone());
            c.group = Some(group);
        }
        // Python keeps this set until the child changes, so at a later timestamp it drops a
        // series it saw at an earlier one (`a_total 2 2` kept, `a_created 5 2` dropped); only a
        // repeat at the same timestamp is a duplicate.
        if s.timestamp != c.group_ts {
            c.group_series.clear();
        }
        let keep = c.group_series.insert((suffix, sorted));
        c.group_ts = s.timestamp;

        // Values each type and suffix allows.
        let v = s.value;
        let full = || b(s.name);
        let value_text = || b(s.value_text);
        if t == Some(MetricType::StateSet) && v != 0.0 && v != 1.0 {
            return Err(ParseErrorKind::InvalidStateValue(value_text()));
        }
        if t == Some(MetricType::Info) && v != 1.0 {
            return Err(ParseErrorKind::InvalidInfoValue(value_text()));
        }
        if t == Some(MetricType::Summary) && suffix.is_empty() && v < 0.0 {
            return Err(ParseErrorKind::NegativeQuantileValue(value_text()));
        }
        if matches!(suffix, "_total" | "_sum" | "_count" | "_bucket" | "_gcount" | "_gsum") && v.is_nan() {
            return Err(ParseErrorKind::NanCounterLike(full()));
        }
        if matches!(suffix, "_total" | "_sum" | "_count" | "_bucket" | "_gcount") && v < 0.0 {
            return Err(ParseErrorKind::NegativeCounterLike(full()));
        }
        let exemplar_ok =
            (is_hist && suffix == "_bucket") || (t == Some(MetricType::Counter) && suffix == "_total");
        if s.exemplar.is_some() && !exemplar_ok {
            return Err(ParseErrorKind::MisplacedExemplar(full()));
        }

        if keep {
            let exemplar =
                s.exemplar.map(|(labels, value, timestamp)| OwnedExemplar { labels, value, timestamp });
            c.samples.push(OwnedSample {
                suffix: Cow::Borrowed(suffix),
                labels: s.labels,
                value: v,
                timestamp: s.timestamp,
                exemplar,
            });
            c.meta.push((line_no, s.timestamp));
        }
        Ok(())
    }

    /// Checks the family that ends and moves it to the output.
    fn finish_family(&mut self) -> Result<(), ParseError> {
        let Some(c) = self.cur.take() else { return Ok(()) };
        let t = c.metric_type.unwrap_or(MetricType::Unknown);
        let unit = c.unit.unwrap_or_default();
        if !unit.is_empty() {
            let err = |kind| ParseError { line: c.unit_line, kind };
            let stem = c.name.strip_suffix(unit.as_str()).and_then(|s| s.strip_suffix('_'));
            if stem.is_none() {
                return Err(err(ParseErrorKind::UnitMismatch { family: b(&c.name), unit: b(&unit) }));
            }
            if matches!(t, MetricType::Info | MetricType::StateSet) {
                return Err(err(ParseErrorKind::UnitNotAllowed(b(&c.name))));
            }
        }
        // Python's "clashing name": each name a family's samples can take (and its bare name) is
        // taken once, so `# TYPE a_created gauge` cannot precede or follow `# TYPE a counter`.
        let mut names: Vec<String> = Vec::new();
        for suffix in allowed_suffixes(Some(t)).iter().copied().chain([""]) {
            let mut full = c.name.clone();
            full.push_str(suffix);
            if !names.contains(&full) {
                names.push(full);
            }
        }
        if let Some(taken) = names.iter().find(|n| self.sample_names.contains(*n)) {
            return Err(ParseError {
                line: c.line,
                kind: ParseErrorKind::ClashingName { family: b(&c.name), name: b(taken) },
            });
        }
        self.sample_names.extend(names);
        if matches!(t, MetricType::Histogram | MetricType::GaugeHistogram) {
            check_histogram(&c.name, t == MetricType::GaugeHistogram, &c.samples, &c.meta)?;
        }
        let mut family = MetricFamily::unchecked(c.name, c.help.unwrap_or_default(), t);
        family.unit = unit;
        family.samples = c.samples;
        self.out.push(family);
        Ok(())
    }
}

/// Python's `_check_histogram`: per child and timestamp, buckets ascending and cumulative, ending
/// with `+Inf` whose count equals `_count`/`_gcount`; `_count` if and only if `_sum` (`_gcount`
/// iff `_gsum`, a rule 0.8.0 lacks and 0.26 has); no `_sum` with negative buckets; no negative
/// `_gsum` without them.
fn check_histogram(
    name: &str,
    gauge: bool,
    samples: &[OwnedSample],
    meta: &[(usize, Option<Timestamp>)],
) -> Result<(), ParseError> {
    struct Group {
        key: LabelSet,
        ts: Option<Timestamp>,
        line: usize,
        count: Option<f64>,
        bucket: Option<f64>,
        value: f64,
        negative_buckets: bool,
        has_sum: bool,
        has_gsum: bool,
        negative_gsum: bool,
    }
    let fail = |line, problem| ParseError {
        line,
        kind: ParseErrorKind::InvalidHistogram { family: b(name), problem },
    };
    let done = |g: &Group| -> Result<(), ParseError> {
        if g.bucket != Some(f64::INFINITY) {
            return Err(fail(g.line, "+Inf bucket missing"));
        }
        if g.count.is_some_and(|c| c != g.value) {
            return Err(fail(g.line, "count does not match the +Inf bucket"));
        }
        // OpenMetrics 1.0: `_count` and `_sum` (`_gcount`, `_gsum`) come together or not at all.
        let (count, sum) = if gauge { ("_gcount", "_gsum") } else { ("_count", "_sum") };
        let mismatch = |present, missing| ParseError {
            line: g.line,
            kind: ParseErrorKind::CountSumMismatch { family: b(name), present, missing },
        };
        match (g.count.is_some(), g.has_sum || g.has_gsum) {
            (true, false) => return Err(mismatch(count, sum)),
            (false, true) => return Err(mismatch(sum, count)),
            _ => {}
        }
        if g.negative_buckets && g.has_sum {
            return Err(fail(g.line, "cannot have _sum with negative buckets"));
        }
        if !g.negative_buckets && g.negative_gsum {
            return Err(fail(g.line, "cannot have a negative _gsum with non-negative buckets"));
        }
        Ok(())
    };
    let mut group: Option<Group> = None;
    for (s, &(line, ts)) in samples.iter().zip(meta) {
        let key: LabelSet = if s.suffix == "_bucket" {
            sorted_labels(&s.labels).into_iter().filter(|(k, _)| k != "le").collect()
        } else {
            sorted_labels(&s.labels)
        };
        let same = group.as_ref().is_some_and(|g| g.key == key && g.ts == ts);
        if !same {
            if let Some(g) = &group {
                done(g)?;
            }
            group = Some(Group {
                key,
                ts,
                line,
                count: None,
                bucket: None,
                value: 0.0,
                negative_buckets: false,
                has_sum: false,
                has_gsum: false,
                negative_gsum: false,
            });
        }
        let Some(g) = group.as_mut() else { continue };
        g.line = line;
        match &*s.suffix {
            "_bucket" => {
                let le = s.label("le").and_then(parse_f64).unwrap_or(f64::NAN);
                if le < 0.0 {
                    g.negative_buckets = true;
                }
                if g.bucket.is_some_and(|prev| le <= prev) {
                    return Err(fail(line, "buckets out of order"));
                }
                if s.value < g.value {
                    return Err(fail(line, "bucket values out of order"));
                }
                g.bucket = Some(le);
                g.value = s.value;
            }
            "_count" | "_gcount" => g.count = Some(s.value),
            "_sum" => g.has_sum = true,
            "_gsum" => {
                g.has_gsum = true;
                g.negative_gsum |= s.value < 0.0;
            }
            _ => {}
        }
    }
    match &group {
        Some(g) => done(g),
        None => Ok(()),
    }
}

/// OpenMetrics help escapes: `\\`, `\"`, `\n`; any other backslash stays.
fn unescape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let ts = |s| parse_timestamp(s).map(|t| (t.nanos(), t.as_secs_f64()));
        assert_eq!(ts("0"), Ok((Some(0), 0.0)));
        assert_eq!(ts("1.1"), Ok((Some(1_100_000_000), 1.1)));
        assert_eq!(ts("-1.5"), Ok((Some(-1_500_000_000), -1.5)));
        assert_eq!(ts("-0.5"), Ok((Some(-500_000_000), -0.5)));
        assert_eq!(ts("0.0000000001"), Ok((Some(0), 0.0)));
        assert_eq!(ts("0.0000000010"), Ok((Some(1), 1e-9)));
        assert_eq!(ts("1.1234567891"), Ok((Some(1_123_456_789), 1.123456789)));
        assert_eq!(ts("1.5e3"), Ok((Some(1_500_000_000_000), 1500.0)));
        assert_eq!(ts("1."), Ok((Some(1_000_000_000), 1.0)));
        assert_eq!(ts(".5"), Ok((Some(500_000_000), 0.5)));
        assert_eq!(ts("+25E-1"), Ok((Some(2_500_000_000), 2.5)));
        assert_eq!(ts("-1e-9"), Ok((Some(-1), -1e-9)));
        assert_eq!(ts("1e-400"), Ok((Some(0), 0.0)));
        // Found by the roundtrip fuzz target: an exponent form read as an f64 was written back
        // with 13 fraction digits, which then read as a different timestamp.
        assert_eq!(ts("1.600000000000001e2"), Ok((Some(160_000_000_000), 160.0)));
        assert_eq!(ts("0001.50e0"), Ok((Some(1_500_000_000), 1.5)));
        let big = ts("12345678901234567890.1234567890").unwrap();
        assert_eq!(big.0, Some(12_345_678_901_234_567_890_123_456_789));
        assert_eq!(big.1, 12345678901234567890.123456789);
        // Beyond i128 nanoseconds: the float it reads as.
        assert_eq!(ts("1234567890123456789012345678901234567890"), Ok((None, 1.2345678901234568e39)));
        for bad in [
            "", "z", "1z", "1_2", "1.1.1", "NaN", "Inf", "+Inf", "-Inf", "0x1p-3", " 1", "1 ", "1e400", ".",
            "e5", "1e",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn label_numbers() {
        for (text, value) in [
            ("1.0", Some(1.0)),
            ("1", Some(1.0)),
            ("0", Some(0.0)),
            ("1e-04", Some(1e-4)),
            ("1e+05", Some(1e5)),
            ("1.1e-4", Some(1.1e-4)),
            ("-1.0", Some(-1.0)),
            ("-Inf", Some(f64::NEG_INFINITY)),
            ("+Inf", Some(f64::INFINITY)),
            ("Inf", None),
            ("+INF", None),
            ("inf", None),
            ("Infinity", None),
            ("foo", None),
            ("", None),
        ] {
            assert_eq!(label_number(text), value, "{text}");
        }
    }

    #[test]
    fn help_escapes() {
        assert_eq!(unescape_help("a\\\\b\\nc\\\"d\\te\\"), "a\\b\nc\"d\\te\\");
    }
}
