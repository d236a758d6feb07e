//! Prometheus text format 0.0.4.
//!
//! Grouping follows 0.8.0's `parser.py`: a `# HELP` or `# TYPE` line starts a family (or adds
//! to the one of the same name); a sample belongs to the family whose type allows its name (`x`
//! for gauges and untyped; `x` and `x_total` for a counter `x`; `x`, `x_count`, `x_sum` for summaries; `x_bucket`,
//! `x_count`, `x_sum` for histograms), otherwise it starts an untyped family of its own. As in
//! expfmt, a family seen earlier takes its lines even after other families came in between. Counters come back in the OpenMetrics shape: family `x` (a trailing
//! `_total` removed) with `x_total` samples.
//!
//! Where this parser differs from 0.8.0, on purpose: consecutive samples of an untyped metric
//! without metadata form one family (0.8.0 makes one family per sample); label names are
//! checked, repeated label names and missing commas are errors (0.8.0 accepts and overwrites);
//! the only types are the five of text 0.0.4; the timestamp is an integer of milliseconds and
//! nothing may follow it (0.8.0 accepts a float and ignores tokens between value and timestamp).
//!
//! Metadata follows promtool (`promtool check metrics`, expfmt's parser) where 0.8.0 is silent:
//! one `# TYPE` and one `# HELP` per metric name in the whole input, no `# TYPE` after the name's
//! samples (`x_count`/`x_sum`/`x_bucket` count as `x` when `x` is a summary or histogram, as
//! expfmt resolves them), and a `# HELP` after the samples of the current family belongs to it.
//! The value may follow the closing brace directly (`a{l="1"}1`), which 0.8.0 cannot read.

use super::{b, check_unique, parse_f64, read_quoted, LabelPairs, ParseError, ParseErrorKind};
use crate::metric_family::{MetricFamily, OwnedSample};
use alloc::borrow::Cow;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use promstack_core::{is_valid_label_name, is_valid_metric_name, MetricType, Timestamp};

/// Parses Prometheus text format 0.0.4.
///
/// ```
/// use promstack_alloc::parse_text;
/// use promstack_core::{MetricType, Timestamp};
/// let families = parse_text(
///     "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n\
///      http_requests_total{code=\"200\"} 1027 1395066363000\n",
/// ).unwrap();
/// let f = &families[0];
/// assert_eq!((f.name(), f.metric_type()), ("http_requests", MetricType::Counter));
/// assert_eq!(f.samples()[0].suffix, "_total");
/// assert_eq!(f.samples()[0].timestamp, Some(Timestamp::from_millis(1395066363000)));
/// ```
pub fn parse_text(input: &str) -> Result<Vec<MetricFamily>, ParseError> {
    let mut families = Families::default();
    let mut seen = Seen::default();
    // Lines end at `\n` only, as Python's `StringIO` splits them.
    for (i, raw) in input.split('\n').enumerate() {
        let line_no = i + 1;
        let err = |kind| ParseError { line: line_no, kind };
        let line = raw.trim_matches(is_py_space);
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            let parts = py_split(line, 3);
            let (Some(keyword), name) = (parts.get(1), parts.get(2)) else { continue };
            let (is_help, is_type) = (*keyword == "HELP", *keyword == "TYPE");
            if !is_help && !is_type {
                continue; // Any other comment.
            }
            let Some(name) = name else {
                return Err(err(ParseErrorKind::InvalidLine(b(line))));
            };
            let metric_type = if is_type {
                let Some(t) = parts.get(3) else {
                    return Err(err(ParseErrorKind::InvalidLine(b(line))));
                };
                Some(text_type(t).ok_or_else(|| err(ParseErrorKind::UnknownType(b(t)))))
            } else {
                None
            };
            let metric_type = metric_type.transpose()?;
            let family = seen.metadata(name, metric_type).map_err(err)?;
            if !is_valid_metric_name(name) {
                return Err(err(ParseErrorKind::InvalidMetricName(b(name))));
            }
            // A HELP may follow the samples of its family (as in expfmt); a TYPE there was refused.
            // `# HELP x_bucket` of a histogram `x` is `x`'s, as expfmt resolves it.
            let c = families.named(&family, line_no);
            match metric_type {
                Some(t) => c.set_type(t),
                None => c.set_help(parts.get(3).map_or_else(String::new, |h| unescape_help(h))),
            }
        } else {
            let s = parse_sample(line).map_err(err)?;
            let (c, suffix) = families.of_sample(s.name, line_no);
            let sample = OwnedSample {
                suffix: Cow::Borrowed(suffix),
                labels: s.labels,
                value: s.value,
                timestamp: s.timestamp,
                exemplar: None,
            };
            seen.sample(c.family.name(), s.name);
            c.family.add_sample(sample);
        }
    }
    families.finish()
}

/// Every family read so far, in order of first appearance. As in expfmt, a sample or metadata line
/// of a family seen earlier joins that family even after other families came in between
/// (0.8.0 would start a second family of the same name, which no encoder can write back).
#[derive(Default)]
struct Families {
    list: Vec<Current>,
    /// Family name (as written) to its place in `list`.
    by_name: BTreeMap<String, usize>,
    /// The family of the last line: most samples belong to it.
    cur: Option<usize>,
}

impl Families {
    /// The family named `name`, made (untyped, no help) if it is new.
    fn named(&mut self, name: &str, line: usize) -> &mut Current {
        let i = match self.by_name.get(name) {
            Some(&i) => i,
            None => {
                self.list.push(Current::new(name, line));
                self.by_name.insert(String::from(name), self.list.len() - 1);
                self.list.len() - 1
            }
        };
        self.cur = Some(i);
        &mut self.list[i]
    }

    /// The family a sample named `sample_name` belongs to, and its suffix there: the current
    /// family, or an earlier one whose type takes that name, or else a new untyped family.
    fn of_sample(&mut self, sample_name: &str, line: usize) -> (&mut Current, &'static str) {
        let fits = |c: &Current| c.suffix_of(sample_name);
        let found = self.cur.and_then(|i| fits(&self.list[i]).map(|sfx| (i, sfx))).or_else(|| {
            ["", "_count", "_sum", "_bucket"].iter().find_map(|suffix| {
                let stem = sample_name.strip_suffix(suffix)?;
                let &i = self.by_name.get(stem)?;
                fits(&self.list[i]).map(|sfx| (i, sfx))
            })
        });
        match found {
            Some((i, suffix)) => {
                self.cur = Some(i);
                (&mut self.list[i], suffix)
            }
            None => (self.named(sample_name, line), ""),
        }
    }

    /// The finished families, refused where they could not be written back and read the same:
    /// two written under one name (a counter `x` is written as `x_total`, so `# TYPE x counter`
    /// beside an untyped `x_total`), or a family named like a suffix of a summary or histogram
    /// that comes before it (`# HELP s` then an untyped `s_sum`, then `# TYPE s summary`: written
    /// back, the `s_sum` metadata would read as `s`'s). An untyped `s_sum` before any line of `s`
    /// is kept, as promtool keeps it.
    fn finish(self) -> Result<Vec<MetricFamily>, ParseError> {
        let mut out = Vec::with_capacity(self.list.len());
        let mut names = BTreeSet::new();
        let mut suffix_names = BTreeSet::new();
        for c in self.list {
            let line = c.line;
            let family = c.finish()?;
            let name = family.name();
            let clash = |claimed: &str| {
                let kind = ParseErrorKind::ClashingName { family: b(name), name: b(claimed) };
                Err(ParseError { line, kind })
            };
            if suffix_names.contains(name) {
                return clash(name);
            }
            let (written, suffixes): (&[&str], &[&str]) = match family.metric_type() {
                MetricType::Counter => (&["", "_total"], &[]),
                MetricType::Summary => (&[""], &["_count", "_sum"]),
                MetricType::Histogram => (&[""], &["_count", "_sum", "_bucket"]),
                _ => (&[""], &[]),
            };
            for suffix in written {
                let claimed = [name, suffix].concat();
                if !names.insert(claimed.clone()) {
                    return clash(&claimed);
                }
            }
            suffix_names.extend(suffixes.iter().map(|suffix| [name, suffix].concat()));
            out.push(family);
        }
        Ok(out)
    }
}

/// What promtool remembers across the whole input (expfmt's `TextParser`): one TYPE and one HELP
/// per metric name, and no TYPE once the name's samples were reported.
#[derive(Default)]
struct Seen {
    /// Metric name to its TYPE (`None`: HELP only), and whether it has a HELP.
    metadata: BTreeMap<String, (Option<MetricType>, bool)>,
    /// Family names and full sample names that samples were reported under.
    samples: BTreeSet<String>,
}

impl Seen {
    /// Records a `# HELP` (`metric_type` `None`) or `# TYPE` line for `name`; the name of the
    /// family it describes.
    fn metadata(&mut self, name: &str, metric_type: Option<MetricType>) -> Result<String, ParseErrorKind> {
        let key = self.resolve(name);
        let duplicate = |keyword| ParseErrorKind::DuplicateMetadata { keyword, family: b(&key) };
        let entry = self.metadata.entry(key.clone()).or_insert((None, false));
        match metric_type {
            Some(t) => {
                if entry.0.is_some() {
                    return Err(duplicate("TYPE"));
                }
                if self.samples.contains(name) || self.samples.contains(key.as_str()) {
                    return Err(ParseErrorKind::MetadataAfterSamples(b(&key)));
                }
                entry.0 = Some(t);
            }
            None => {
                if entry.1 {
                    return Err(duplicate("HELP"));
                }
                entry.1 = true;
            }
        }
        Ok(key)
    }

    /// expfmt's lookup: `x_count`/`x_sum` of a summary or histogram `x`, and `x_bucket` of a
    /// histogram `x`, are `x`; any other name is itself.
    fn resolve(&self, name: &str) -> String {
        if !self.metadata.contains_key(name) {
            let typed = |stem: &str, histogram_only: bool| {
                self.metadata.get(stem).is_some_and(|(t, _)| match t {
                    Some(MetricType::Histogram) => true,
                    Some(MetricType::Summary) => !histogram_only,
                    _ => false,
                })
            };
            for (suffix, histogram_only) in [("_count", false), ("_sum", false), ("_bucket", true)] {
                if let Some(stem) = name.strip_suffix(suffix) {
                    if typed(stem, histogram_only) {
                        return String::from(stem);
                    }
                }
            }
        }
        String::from(name)
    }

    /// Records a sample named `sample_name` of the family `family`.
    fn sample(&mut self, family: &str, sample_name: &str) {
        for name in [family, sample_name] {
            if !self.samples.contains(name) {
                self.samples.insert(String::from(name));
            }
        }
    }
}

/// The family being read.
struct Current {
    family: MetricFamily,
    /// Suffixes of the sample names this family takes.
    allowed: &'static [&'static str],
    /// Where it started, for errors found when it ends.
    line: usize,
}

impl Current {
    fn new(name: &str, line: usize) -> Self {
        Current {
            family: MetricFamily::unchecked(String::from(name), String::new(), MetricType::Unknown),
            allowed: &[""],
            line,
        }
    }

    fn set_type(&mut self, t: MetricType) {
        self.allowed = match t {
            MetricType::Summary => &["_count", "_sum", ""],
            MetricType::Histogram => &["_count", "_sum", "_bucket"],
            // `# TYPE x counter` takes `x_total` too: both are the counter's `_total` samples
            // (the name the family is written back under).
            MetricType::Counter if !self.family.name().ends_with("_total") => &["", "_total"],
            _ => &[""],
        };
        self.family.metric_type = t;
    }

    fn set_help(&mut self, help: String) {
        self.family.help = help;
    }

    fn suffix_of(&self, sample_name: &str) -> Option<&'static str> {
        let rest = sample_name.strip_prefix(self.family.name())?;
        self.allowed.iter().copied().find(|s| *s == rest)
    }

    /// The finished family; counters get the OpenMetrics shape (`x` with `x_total` samples).
    fn finish(mut self) -> Result<MetricFamily, ParseError> {
        if self.family.metric_type() == MetricType::Counter {
            if let Some(stem) = self.family.name.strip_suffix("_total") {
                if !is_valid_metric_name(stem) {
                    return Err(ParseError {
                        line: self.line,
                        kind: ParseErrorKind::InvalidMetricName(b(stem)),
                    });
                }
                let len = stem.len();
                self.family.name.truncate(len);
            }
            for s in &mut self.family.samples {
                s.suffix = Cow::Borrowed("_total");
            }
        }
        Ok(self.family)
    }
}

/// The types of text 0.0.4 (`untyped` is OpenMetrics' `unknown`).
fn text_type(s: &str) -> Option<MetricType> {
    Some(match s {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "summary" => MetricType::Summary,
        "histogram" => MetricType::Histogram,
        "untyped" => MetricType::Unknown,
        _ => return None,
    })
}

/// Python's `str.isspace()`: Unicode white space plus the ASCII information separators.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.split(None, max)`: runs of white space separate; at most `max` splits, the
/// remainder (leading white space removed) is the last part.
fn py_split(s: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s.trim_start_matches(is_py_space);
    while !rest.is_empty() {
        if parts.len() == max {
            parts.push(rest);
            break;
        }
        match rest.find(is_py_space) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = rest[i..].trim_start_matches(is_py_space);
            }
            None => {
                parts.push(rest);
                break;
            }
        }
    }
    parts
}

/// Help text escapes of text 0.0.4: `\\` and `\n`; any other backslash stays.
fn unescape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}

/// One parsed sample line.
struct TextSample<'a> {
    name: &'a str,
    labels: Vec<(String, String)>,
    value: f64,
    timestamp: Option<Timestamp>,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `name[{labels}] value [timestamp_ms]`, spaces and tabs between tokens.
fn parse_sample(line: &str) -> Result<TextSample<'_>, ParseErrorKind> {
    let end = line.find(|c: char| is_blank(c) || c == '{').unwrap_or(line.len());
    let name = &line[..end];
    if !is_valid_metric_name(name) {
        return Err(ParseErrorKind::InvalidMetricName(b(name)));
    }
    let mut rest = line[end..].trim_start_matches(is_blank);
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        // The value may follow `}` without a blank, as expfmt reads it.
        (labels, rest) = parse_labels(after_brace)?;
    }
    let mut tokens = rest.split(is_blank).filter(|t| !t.is_empty());
    let value_token = tokens.next().ok_or(ParseErrorKind::MissingValue)?;
    let value = parse_f64(value_token).ok_or_else(|| ParseErrorKind::InvalidValue(b(value_token)))?;
    let timestamp = match tokens.next() {
        Some(t) => {
            let ms: i64 = t
                .parse()
                .ok()
                .filter(|_| t.bytes().all(|c| c.is_ascii_digit() || c == b'-' || c == b'+'))
                .ok_or_else(|| ParseErrorKind::InvalidTimestamp(b(t)))?;
            Some(Timestamp::from_millis(ms))
        }
        None => None,
    };
    if let Some(extra) = tokens.next() {
        return Err(ParseErrorKind::TrailingText(b(extra)));
    }
    Ok(TextSample { name, labels, value, timestamp })
}

/// Labels after `{`, up to and including `}`: `name = "value"` pairs with optional blanks,
/// separated by commas, a trailing comma allowed, `{,}` allowed as an empty set (as 0.8.0).
fn parse_labels(s: &str) -> Result<(LabelPairs, &str), ParseErrorKind> {
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches(is_blank);
        if let Some(r) = rest.strip_prefix('}') {
            check_unique(&labels)?;
            return Ok((labels, r));
        }
        if labels.is_empty() {
            if let Some(r) = rest.strip_prefix(',') {
                // `{,}`: an empty label set written with a comma.
                return match r.trim_start_matches(is_blank).strip_prefix('}') {
                    Some(r) => Ok((labels, r)),
                    None => Err(ParseErrorKind::InvalidLabels("unexpected comma")),
                };
            }
        }
        if rest.is_empty() {
            return Err(ParseErrorKind::InvalidLabels("missing closing brace"));
        }
        let end =
            rest.find(|c: char| is_blank(c) || matches!(c, '=' | '"' | ',' | '}')).unwrap_or(rest.len());
        let name = &rest[..end];
        if !is_valid_label_name(name) {
            return Err(if name.is_empty() && rest.starts_with(',') {
                ParseErrorKind::InvalidLabels("unexpected comma")
            } else {
                ParseErrorKind::InvalidLabelName(b(name))
            });
        }
        rest = rest[end..].trim_start_matches(is_blank);
        rest =
            rest.strip_prefix('=').ok_or(ParseErrorKind::InvalidLabels("expected `=` after a label name"))?;
        rest = rest.trim_start_matches(is_blank);
        rest = rest.strip_prefix('"').ok_or(ParseErrorKind::InvalidLabels("label value must be quoted"))?;
        let (value, r) = read_quoted(rest)?;
        labels.push((String::from(name), value));
        rest = r.trim_start_matches(is_blank);
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err(ParseErrorKind::InvalidLabels("expected `,` or `}` after a label value"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_split() {
        assert_eq!(py_split("# HELP a  some  help", 3), ["#", "HELP", "a", "some  help"]);
        assert_eq!(py_split("#\tTYPE\ta\tcounter", 3), ["#", "TYPE", "a", "counter"]);
        assert_eq!(py_split("# HELP", 3), ["#", "HELP"]);
        assert_eq!(py_split("#", 3), ["#"]);
        assert_eq!(py_split("", 3), [] as [&str; 0]);
    }

    #[test]
    fn help_unescaping() {
        assert_eq!(unescape_help("a\\\\b\\nc\\td\\\"e\\"), "a\\b\nc\\td\\\"e\\");
    }

    #[test]
    fn timestamps_are_integer_milliseconds() {
        assert_eq!(parse_sample("a 1 -1500").unwrap().timestamp, Some(Timestamp::from_millis(-1500)));
        assert!(parse_sample("a 1 1.5").is_err());
        assert!(parse_sample("a 1 1e3").is_err());
        assert!(matches!(parse_sample("a 1 2 3"), Err(ParseErrorKind::TrailingText(_))));
    }
}
