//! Property tests of the parsers: neither parser panics on any input, and core's encoders
//! followed by the parsers give back the families that were encoded (OpenMetrics exactly; text
//! 0.0.4 up to what that format cannot say, see `text_view`).

use promstack_alloc::{
    parse_openmetrics, parse_text, Bucket, CounterMetricFamily, GaugeHistogramMetricFamily,
    HistogramMetricFamily, InfoMetricFamily, MetricFamily, OwnedExemplar, OwnedSample, StateSetMetricFamily,
};
use promstack_core::{encode_openmetrics, encode_text, MetricType, Timestamp};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use std::borrow::Cow;
use std::collections::BTreeSet;

// ---- (a) no input makes a parser panic ----

/// Text made of the characters the formats care about, so the parsers get past the first token.
fn format_soup() -> impl Strategy<Value = String> {
    "([a-z_:]{0,4}|[{}=,\" #\\\\\n\t.+-]|[0-9eE]{1,3}|# (HELP|TYPE|UNIT|EOF) ?|counter|histogram|gauge|_bucket|le=|\\+Inf|NaN|é|\u{2028}){0,60}"
}

/// A valid exposition with a few characters changed, inserted or removed.
fn mutated_exposition() -> impl Strategy<Value = String> {
    (families(), vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..6), any::<bool>()).prop_map(
        |(families, edits, om)| {
            let bytes = if om {
                encode_openmetrics(Vec::new(), &families.as_slice()).unwrap()
            } else {
                encode_text(Vec::new(), &families.as_slice()).unwrap()
            };
            let mut chars: Vec<char> = String::from_utf8(bytes).unwrap().chars().collect();
            for (at, op, c) in edits {
                if chars.is_empty() {
                    chars.push(c);
                    continue;
                }
                let i = at.index(chars.len());
                match op {
                    0 => chars[i] = c,
                    1 => chars.insert(i, c),
                    _ => {
                        chars.remove(i);
                    }
                }
            }
            chars.into_iter().collect()
        },
    )
}

fn check_no_panic(input: &str) {
    let lines = input.split('\n').count();
    for result in [parse_text(input), parse_openmetrics(input)] {
        if let Err(e) = result {
            assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}: {e}", e.line);
            assert!(!e.to_string().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_any_string(input in any::<String>()) {
        check_no_panic(&input);
    }

    #[test]
    fn parsers_never_panic_on_any_bytes(bytes in vec(any::<u8>(), 0..400)) {
        check_no_panic(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parsers_never_panic_on_format_soup(input in format_soup()) {
        check_no_panic(&input);
    }

    #[test]
    fn parsers_never_panic_on_mutated_expositions(input in mutated_exposition()) {
        check_no_panic(&input);
    }
}

// ---- (b) encode -> parse gives the families back ----

/// Label values: anything, and strings dense in the characters that need escaping.
fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "([a-z]|\\\\|\"|\n|\\\\n|\\\\\"|\r|\t| # |\\{|\\}|=|,|é|\u{10348}){0,10}",]
}

/// Numbers with the special cases over-represented.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        -1e3..1e3f64,
        Just(0.0),
        Just(-0.0),
        Just(1.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::NAN),
        Just(1e-7),
        Just(1e21),
    ]
}

/// A non-negative, non-NaN number (counts, sums, totals).
fn count(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.abs()
    }
}

#[derive(Debug, Clone)]
struct Child {
    values: Vec<String>,
    nums: Vec<f64>,
    bounds: Vec<f64>,
    states: Vec<(String, bool)>,
    flags: Vec<bool>,
    exemplar: Option<(String, f64, Option<u64>)>,
}

#[derive(Debug, Clone)]
struct Spec {
    kind: usize,
    stem: String,
    help: String,
    unit: Option<String>,
    label_names: Vec<String>,
    children: Vec<Child>,
    timestamp_ms: Option<u64>,
}

fn child() -> impl Strategy<Value = Child> {
    (
        vec(label_value(), 3),
        vec(number(), 8),
        vec(prop_oneof![-1e7..1e7f64, Just(0.0), Just(1e-5), Just(2.5), Just(1e6)], 0..4),
        vec(("[a-z]{1,3}", any::<bool>()), 1..4),
        vec(any::<bool>(), 4),
        option::of(("[a-z\"\\\\é\n]{0,20}", number(), option::of(0u64..4_000_000_000_000))),
    )
        .prop_map(|(values, nums, bounds, states, flags, exemplar)| Child {
            values,
            nums,
            bounds,
            states,
            flags,
            exemplar,
        })
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0usize..8,
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,6}",
        prop_oneof![any::<String>(), "[ a-z\\\\\"\n]{0,12}"],
        option::of("[a-z]{1,6}"),
        vec("l[a-zA-Z0-9_]{0,4}", 0..3),
        vec(child(), 0..4),
        option::of(1u64..4_000_000_000_000),
    )
        .prop_map(|(kind, stem, help, unit, label_names, children, timestamp_ms)| Spec {
            kind,
            stem,
            help,
            unit,
            label_names,
            children,
            timestamp_ms,
        })
}

/// Builds a family that is valid OpenMetrics: value ranges, unique children, one timestamp.
fn build(spec: Spec, index: usize) -> MetricFamily {
    let kinds = [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Summary,
        MetricType::Histogram,
        MetricType::GaugeHistogram,
        MetricType::Info,
        MetricType::StateSet,
        MetricType::Unknown,
    ];
    let t = kinds[spec.kind];
    // A stateset's name is also a label name; `s` keeps it apart from the `l...` label names.
    let stem =
        if t == MetricType::StateSet { format!("s{}", spec.stem.replace(':', "_")) } else { spec.stem };
    // Names end with `_<index>` (or a unit), so no two families share a name or a text alias.
    let name = format!("{stem}_{index}");
    let mut names: Vec<&str> = Vec::new();
    for n in &spec.label_names {
        let reserved = n == "le" && matches!(t, MetricType::Histogram | MetricType::GaugeHistogram);
        if !reserved && !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    let mut seen = BTreeSet::new();
    let children: Vec<Child> =
        spec.children.into_iter().filter(|c| seen.insert(c.values[..names.len()].to_vec())).collect();
    let ts = spec.timestamp_ms.map(|ms| ms as f64 / 1000.0);
    let unit_allowed = !matches!(t, MetricType::Info | MetricType::StateSet);
    let with_unit = |f: MetricFamily| match (&spec.unit, unit_allowed) {
        (Some(u), true) => f.with_unit(u).unwrap(),
        _ => f,
    };
    let values = |c: &Child| -> Vec<String> { c.values[..names.len()].to_vec() };
    let family = match t {
        MetricType::Counter => {
            let mut f = CounterMetricFamily::new(&name, &spec.help).unwrap().with_labels(&names).unwrap();
            for c in &children {
                let created = c.flags[0].then_some(c.nums[1]);
                let v = values(c);
                f.add_metric(
                    &v.iter().map(String::as_str).collect::<Vec<_>>(),
                    count(c.nums[0]),
                    created,
                    ts,
                )
                .unwrap();
            }
            f.into_family()
        }
        MetricType::Gauge | MetricType::Unknown => {
            let mut f = MetricFamily::new(&name, &spec.help, t).unwrap();
            for c in &children {
                let labels: Vec<(&str, &str)> =
                    names.iter().copied().zip(c.values.iter().map(String::as_str)).collect();
                let mut s = OwnedSample::new("", &labels, c.nums[0]);
                s.timestamp = ts.map(Timestamp::from);
                f.add_sample(s);
            }
            f
        }
        MetricType::Summary => {
            let mut f = MetricFamily::new(&name, &spec.help, t).unwrap();
            for c in &children {
                let labels: Vec<(&str, &str)> =
                    names.iter().copied().zip(c.values.iter().map(String::as_str)).collect();
                let mut push = |suffix: &'static str, extra: Option<(&str, &str)>, v: f64| {
                    let mut l = labels.clone();
                    l.extend(extra);
                    let mut s = OwnedSample::new(suffix, &l, v);
                    s.timestamp = ts.map(Timestamp::from);
                    f.add_sample(s);
                };
                for (i, q) in ["0.0", "0.5", "0.99", "1.0"].into_iter().enumerate() {
                    if c.flags[i] {
                        push("", Some(("quantile", q)), c.nums[2 + i].abs());
                    }
                }
                push("_count", None, count(c.nums[0]));
                push("_sum", None, count(c.nums[1]));
                if c.flags[0] {
                    push("_created", None, c.nums[7]);
                }
            }
            f
        }
        MetricType::Histogram | MetricType::GaugeHistogram => {
            let mut f = MetricFamily::new(&name, &spec.help, t).unwrap();
            for c in &children {
                let mut bounds = c.bounds.clone();
                bounds.sort_by(f64::total_cmp);
                bounds.dedup_by(|a, b| a == b);
                bounds.push(f64::INFINITY);
                let mut total = 0.0;
                let buckets: Vec<Bucket> = bounds
                    .iter()
                    .enumerate()
                    .map(|(i, le)| {
                        total += count(c.nums[i % 8]).min(1e300);
                        let mut b = Bucket::new(*le, total);
                        if i == 0 {
                            if let Some((v, x, ets)) = &c.exemplar {
                                let mut e = OwnedExemplar::new(&[("trace_id", v.as_str())], *x);
                                e.timestamp = ets.map(|ms| Timestamp::from(ms as f64 / 1000.0));
                                b = b.with_exemplar(e);
                            }
                        }
                        b
                    })
                    .collect();
                let v = values(c);
                let v: Vec<&str> = v.iter().map(String::as_str).collect();
                let negative = bounds[0] < 0.0;
                let sum = c.flags[1].then(|| {
                    if negative && t == MetricType::GaugeHistogram {
                        c.nums[6]
                    } else {
                        count(c.nums[6])
                    }
                });
                let sum = sum.filter(|s| !s.is_nan());
                let built = if t == MetricType::Histogram {
                    let mut h =
                        HistogramMetricFamily::new(&name, &spec.help).unwrap().with_labels(&names).unwrap();
                    h.add_metric(&v, buckets, sum, ts).unwrap();
                    h.into_family()
                } else {
                    let mut h = GaugeHistogramMetricFamily::new(&name, &spec.help)
                        .unwrap()
                        .with_labels(&names)
                        .unwrap();
                    h.add_metric(&v, buckets, sum, ts).unwrap();
                    h.into_family()
                };
                for s in built.into_samples() {
                    f.add_sample(s);
                }
            }
            f
        }
        MetricType::Info => {
            let mut f = InfoMetricFamily::new(&name, &spec.help).unwrap().with_labels(&names).unwrap();
            for c in &children {
                let v = values(c);
                let v: Vec<&str> = v.iter().map(String::as_str).collect();
                f.add_metric(&v, &[("i_version", c.values[2].as_str())], ts).unwrap();
            }
            f.into_family()
        }
        MetricType::StateSet => {
            let mut f = StateSetMetricFamily::new(&name, &spec.help).unwrap().with_labels(&names).unwrap();
            for c in &children {
                let mut states: Vec<(&str, bool)> = Vec::new();
                for (s, on) in &c.states {
                    if !states.iter().any(|(x, _)| x == s) {
                        states.push((s, *on));
                    }
                }
                let v = values(c);
                let v: Vec<&str> = v.iter().map(String::as_str).collect();
                f.add_metric(&v, &states, ts).unwrap();
            }
            f.into_family()
        }
    };
    with_unit(family)
}

fn families() -> impl Strategy<Value = Vec<MetricFamily>> {
    vec(spec(), 0..5).prop_map(|specs| specs.into_iter().enumerate().map(|(i, s)| build(s, i)).collect())
}

/// Python's `str.isspace()`, which 0.8.0's text parser strips from both ends of a line.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// What text 0.0.4 can carry of `families`, as core's encoder writes it: no units, exemplars or
/// `_created`; timestamps cut to whole milliseconds; help trimmed of surrounding white space
/// (as 0.8.0's parser strips lines);
/// info as a gauge named `x_info`, stateset as a gauge, gauge histogram as a histogram whose
/// `_gcount`/`_gsum` follow it as gauges of their own (Python's order: each metric's split
/// families right after it).
fn text_view(families: &[MetricFamily]) -> Vec<MetricFamily> {
    let sample = |s: &OwnedSample, suffix: Cow<'static, str>| OwnedSample {
        suffix,
        labels: s.labels.clone(),
        value: s.value,
        timestamp: s.timestamp.map(|ts| Timestamp::from_millis(ts.as_millis())),
        exemplar: None,
    };
    let family = |name: &str, help: &str, t: MetricType, samples: Vec<OwnedSample>| {
        // The line is trimmed before unescaping, so an (escaped) newline is never trimmed.
        let mut f = MetricFamily::new(name, help.trim_matches(|c| c != '\n' && is_py_space(c)), t).unwrap();
        for s in samples {
            f.add_sample(s);
        }
        f
    };
    let mut main = Vec::new();
    for f in families {
        let mut split = Vec::new();
        let keep = |pred: &dyn Fn(&str) -> bool, suffix: Option<&'static str>| -> Vec<OwnedSample> {
            f.samples()
                .iter()
                .filter(|s| pred(&s.suffix))
                .map(|s| sample(s, suffix.map_or_else(|| s.suffix.clone(), Cow::Borrowed)))
                .collect()
        };
        let (name, t, samples) = match f.metric_type() {
            MetricType::Counter | MetricType::Summary | MetricType::Histogram => {
                (f.name().to_string(), f.metric_type(), keep(&|x: &str| x != "_created", None))
            }
            MetricType::GaugeHistogram => {
                for suffix in ["_gcount", "_gsum"] {
                    let samples = keep(&|x: &str| x == suffix, Some(""));
                    if !samples.is_empty() {
                        split.push(family(
                            &format!("{}{suffix}", f.name()),
                            f.help(),
                            MetricType::Gauge,
                            samples,
                        ));
                    }
                }
                (f.name().to_string(), MetricType::Histogram, keep(&|x: &str| x == "_bucket", None))
            }
            MetricType::Info => {
                (format!("{}_info", f.name()), MetricType::Gauge, keep(&|_: &str| true, Some("")))
            }
            MetricType::StateSet => (f.name().to_string(), MetricType::Gauge, keep(&|_: &str| true, None)),
            other => (f.name().to_string(), other, keep(&|_: &str| true, None)),
        };
        main.push(family(&name, f.help(), t, samples));
        main.extend(split);
    }
    main
}

/// What OpenMetrics carries of `families`: everything but a histogram's `_count` (`_gcount`)
/// without its `_sum` (`_gsum`), or the reverse, which OpenMetrics 1.0 does not allow.
fn openmetrics_view(families: &[MetricFamily]) -> Vec<MetricFamily> {
    families
        .iter()
        .map(|f| {
            let (count, sum) = match f.metric_type() {
                MetricType::Histogram => ("_count", "_sum"),
                MetricType::GaugeHistogram => ("_gcount", "_gsum"),
                _ => return f.clone(),
            };
            let has = |suffix: &str, labels: &[(String, String)]| {
                f.samples().iter().any(|s| s.suffix == suffix && s.labels == labels)
            };
            let mut g =
                MetricFamily::new(f.name(), f.help(), f.metric_type()).unwrap().with_unit(f.unit()).unwrap();
            for s in f.samples() {
                let partner = if s.suffix == count {
                    Some(sum)
                } else if s.suffix == sum {
                    Some(count)
                } else {
                    None
                };
                if partner.is_none_or(|p| has(p, &s.labels)) {
                    g.add_sample(s.clone());
                }
            }
            g
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn openmetrics_round_trip(families in families()) {
        let text = String::from_utf8(encode_openmetrics(Vec::new(), &families.as_slice()).unwrap()).unwrap();
        match parse_openmetrics(&text) {
            Ok(parsed) => prop_assert_eq!(parsed, openmetrics_view(&families), "exposition:\n{}", text),
            Err(e) => prop_assert!(false, "{} in:\n{}", e, text),
        }
    }

    // Issue 10, item 23: any nanosecond timestamp, on a sample and on an exemplar, comes back
    // exactly from OpenMetrics, and to the millisecond (truncated) from text 0.0.4.
    #[test]
    fn timestamps_round_trip_exactly(nanos in any::<i64>(), ex_nanos in any::<i64>()) {
        let mut f = MetricFamily::new("t", "", MetricType::Histogram).unwrap();
        let ex = OwnedExemplar::new(&[("a", "b")], 1.0).with_timestamp(Timestamp::from_nanos(ex_nanos.into()));
        let ts = Timestamp::from_nanos(nanos.into());
        f.add_sample(OwnedSample::new("_bucket", &[("le", "+Inf")], 1.0).with_timestamp(ts).with_exemplar(ex));
        let text = String::from_utf8(encode_openmetrics(Vec::new(), &f).unwrap()).unwrap();
        let parsed = parse_openmetrics(&text).unwrap();
        let s = &parsed[0].samples()[0];
        prop_assert_eq!(s.timestamp.and_then(Timestamp::nanos), Some(i128::from(nanos)), "{}", text);
        let ex_ts = s.exemplar.as_ref().and_then(|e| e.timestamp).and_then(Timestamp::nanos);
        prop_assert_eq!(ex_ts, Some(i128::from(ex_nanos)), "{}", text);
        let text = String::from_utf8(encode_text(Vec::new(), &f).unwrap()).unwrap();
        let parsed = parse_text(&text).unwrap();
        let ms = parsed[0].samples()[0].timestamp.map(Timestamp::as_millis);
        prop_assert_eq!(ms, Some(nanos / 1_000_000), "{}", text);
    }

    #[test]
    fn text_round_trip(families in families()) {
        let text = String::from_utf8(encode_text(Vec::new(), &families.as_slice()).unwrap()).unwrap();
        match parse_text(&text) {
            Ok(parsed) => prop_assert_eq!(parsed, text_view(&families), "exposition:\n{}", text),
            Err(e) => prop_assert!(false, "{} in:\n{}", e, text),
        }
    }
}
