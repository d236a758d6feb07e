//! OpenMetrics parser: every case of Python prometheus_client 0.8.0's
//! `tests/openmetrics/test_parser.py`, as data, plus the cases where promstack decides differently.

use promstack_alloc::{
    parse_openmetrics, CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily,
    HistogramMetricFamily, InfoMetricFamily, MetricFamily, OwnedExemplar, OwnedSample, ParseErrorKind,
    StateSetMetricFamily, SummaryMetricFamily,
};
use promstack_core::{encode_openmetrics, MetricType, Timestamp};

fn fam(name: &str, help: &str, t: MetricType, samples: Vec<OwnedSample>) -> MetricFamily {
    let mut f = MetricFamily::new(name, help, t).unwrap();
    for s in samples {
        f.add_sample(s);
    }
    f
}

fn s(suffix: &'static str, labels: &[(&str, &str)], value: f64) -> OwnedSample {
    OwnedSample::new(suffix, labels, value)
}

fn ex(labels: &[(&str, &str)], value: f64) -> OwnedExemplar {
    OwnedExemplar::new(labels, value)
}

fn counter(name: &str, help: &str, value: f64) -> MetricFamily {
    CounterMetricFamily::with_value(name, help, value).unwrap().into_family()
}

fn counter_with(name: &str, help: &str, labels: &[&str], children: &[(&[&str], f64)]) -> MetricFamily {
    let mut c = CounterMetricFamily::new(name, help).unwrap().with_labels(labels).unwrap();
    for (values, v) in children {
        c.add_metric(values, *v, None, None).unwrap();
    }
    c.into_family()
}

#[track_caller]
fn check(input: &str, expected: Vec<MetricFamily>) {
    match parse_openmetrics(input) {
        Ok(got) => assert_eq!(got, expected, "input: {input:?}"),
        Err(e) => panic!("input {input:?}: {e}"),
    }
}

// test_simple_counter
#[test]
fn simple_counter() {
    check("# TYPE a counter\n# HELP a help\na_total 1\n# EOF\n", vec![counter("a", "help", 1.0)]);
}

// test_uint64_counter (2^63 is exact in f64)
#[test]
fn uint64_counter() {
    check(
        "# TYPE a counter\n# HELP a help\na_total 9223372036854775808\n# EOF\n",
        vec![counter("a", "help", 9223372036854775808.0)],
    );
}

// test_simple_gauge
#[test]
fn simple_gauge() {
    check(
        "# TYPE a gauge\n# HELP a help\na 1\n# EOF\n",
        vec![GaugeMetricFamily::with_value("a", "help", 1.0).unwrap().into_family()],
    );
}

// test_float_gauge
#[test]
fn float_gauge() {
    check(
        "# TYPE a gauge\n# HELP a help\na 1.2\n# EOF\n",
        vec![GaugeMetricFamily::with_value("a", "help", 1.2).unwrap().into_family()],
    );
}

// test_leading_zeros_simple_gauge
#[test]
fn leading_zeros_simple_gauge() {
    check(
        "# TYPE a gauge\n# HELP a help\na 0000000000000000000000000000000000000000001\n# EOF\n",
        vec![GaugeMetricFamily::with_value("a", "help", 1.0).unwrap().into_family()],
    );
}

// test_leading_zeros_float_gauge
#[test]
fn leading_zeros_float_gauge() {
    check(
        "# TYPE a gauge\n# HELP a help\na 0000000000000000000000000000000000000000001.2e-1\n# EOF\n",
        vec![GaugeMetricFamily::with_value("a", "help", 0.12).unwrap().into_family()],
    );
}

// test_nan_gauge
#[test]
fn nan_gauge() {
    let f = parse_openmetrics("# TYPE a gauge\n# HELP a help\na NaN\n# EOF\n").unwrap();
    assert!(f[0].samples()[0].value.is_nan());
}

// test_unit_gauge
#[test]
fn unit_gauge() {
    check(
        "# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# HELP a_seconds help\na_seconds 1\n# EOF\n",
        vec![GaugeMetricFamily::with_value("a_seconds", "help", 1.0)
            .unwrap()
            .with_unit("seconds")
            .unwrap()
            .into_family()],
    );
}

// test_simple_summary
#[test]
fn simple_summary() {
    check(
        "# TYPE a summary\n# HELP a help\na_count 1\na_sum 2\n# EOF\n",
        vec![SummaryMetricFamily::with_value("a", "help", 1.0, 2.0).unwrap().into_family()],
    );
}

// test_summary_quantiles
#[test]
fn summary_quantiles() {
    let mut expected = SummaryMetricFamily::with_value("a", "help", 1.0, 2.0).unwrap().into_family();
    expected.add_sample(s("", &[("quantile", "0.5")], 0.7));
    check(
        "# TYPE a summary\n# HELP a help\na_count 1\na_sum 2\na{quantile=\"0.5\"} 0.7\n# EOF\n",
        vec![expected],
    );
}

// test_simple_histogram
#[test]
fn simple_histogram() {
    check(
        "# TYPE a histogram\n# HELP a help\na_bucket{le=\"1.0\"} 0\na_bucket{le=\"+Inf\"} 3\na_count 3\na_sum 2\n# EOF\n",
        vec![HistogramMetricFamily::with_buckets("a", "help", [(1.0, 0.0), (f64::INFINITY, 3.0)], Some(2.0))
            .unwrap()
            .into_family()],
    );
}

// test_histogram_noncanonical: only the listed numbers must be canonical; others parse as written.
#[test]
fn histogram_noncanonical() {
    parse_openmetrics(
        "# TYPE a histogram\n# HELP a help\na_bucket{le=\"0.00000000001\"} 0\na_bucket{le=\"1.1e-4\"} 0\n\
         a_bucket{le=\"1.1e-3\"} 0\na_bucket{le=\"100000000000.0\"} 0\na_bucket{le=\"+Inf\"} 3\na_count 3\na_sum 2\n# EOF\n",
    )
    .unwrap();
}

// test_negative_bucket_histogram, as Python 0.26 has it: without the `a_count 3` of 0.8.0's case,
// since `_count` now needs `_sum` and negative buckets forbid `_sum` (issue 10, item 19).
#[test]
fn negative_bucket_histogram() {
    check(
        "# TYPE a histogram\n# HELP a help\na_bucket{le=\"-1.0\"} 0\na_bucket{le=\"1.0\"} 1\na_bucket{le=\"+Inf\"} 3\n# EOF\n",
        vec![HistogramMetricFamily::with_buckets("a", "help", [(-1.0, 0.0), (1.0, 1.0), (f64::INFINITY, 3.0)], None)
            .unwrap()
            .into_family()],
    );
}

// test_histogram_exemplars (Timestamp(123, 0) is 123.0 seconds)
#[test]
fn histogram_exemplars() {
    check(
        "# TYPE a histogram\n# HELP a help\n\
         a_bucket{le=\"1.0\"} 0 # {a=\"b\"} 0.5\n\
         a_bucket{le=\"2.0\"} 2 # {a=\"c\"} 0.5\n\
         a_bucket{le=\"+Inf\"} 3 # {a=\"1234567890123456789012345678901234567890123456789012345678\"} 4 123\n# EOF\n",
        vec![fam(
            "a",
            "help",
            MetricType::Histogram,
            vec![
                s("_bucket", &[("le", "1.0")], 0.0).with_exemplar(ex(&[("a", "b")], 0.5)),
                s("_bucket", &[("le", "2.0")], 2.0).with_exemplar(ex(&[("a", "c")], 0.5)),
                s("_bucket", &[("le", "+Inf")], 3.0).with_exemplar(
                    ex(&[("a", "1234567890123456789012345678901234567890123456789012345678")], 4.0).with_timestamp(123.0),
                ),
            ],
        )],
    );
}

// test_simple_gaugehistogram
#[test]
fn simple_gaugehistogram() {
    check(
        "# TYPE a gaugehistogram\n# HELP a help\na_bucket{le=\"1.0\"} 0\na_bucket{le=\"+Inf\"} 3\na_gcount 3\na_gsum 2\n# EOF\n",
        vec![GaugeHistogramMetricFamily::with_buckets("a", "help", [(1.0, 0.0), (f64::INFINITY, 3.0)], Some(2.0))
            .unwrap()
            .into_family()],
    );
}

// test_negative_bucket_gaugehistogram
#[test]
fn negative_bucket_gaugehistogram() {
    check(
        "# TYPE a gaugehistogram\n# HELP a help\na_bucket{le=\"-1.0\"} 1\na_bucket{le=\"1.0\"} 2\n\
         a_bucket{le=\"+Inf\"} 3\na_gcount 3\na_gsum -5\n# EOF\n",
        vec![GaugeHistogramMetricFamily::with_buckets(
            "a",
            "help",
            [(-1.0, 1.0), (1.0, 2.0), (f64::INFINITY, 3.0)],
            Some(-5.0),
        )
        .unwrap()
        .into_family()],
    );
}

// test_gaugehistogram_exemplars
#[test]
fn gaugehistogram_exemplars() {
    check(
        "# TYPE a gaugehistogram\n# HELP a help\n\
         a_bucket{le=\"1.0\"} 0 123 # {a=\"b\"} 0.5\n\
         a_bucket{le=\"2.0\"} 2 123 # {a=\"c\"} 0.5\n\
         a_bucket{le=\"+Inf\"} 3 123 # {a=\"d\"} 4 123\n# EOF\n",
        vec![fam(
            "a",
            "help",
            MetricType::GaugeHistogram,
            vec![
                s("_bucket", &[("le", "1.0")], 0.0)
                    .with_timestamp(123.0)
                    .with_exemplar(ex(&[("a", "b")], 0.5)),
                s("_bucket", &[("le", "2.0")], 2.0)
                    .with_timestamp(123.0)
                    .with_exemplar(ex(&[("a", "c")], 0.5)),
                s("_bucket", &[("le", "+Inf")], 3.0)
                    .with_timestamp(123.0)
                    .with_exemplar(ex(&[("a", "d")], 4.0).with_timestamp(123.0)),
            ],
        )],
    );
}

// test_counter_exemplars
#[test]
fn counter_exemplars() {
    check(
        "# TYPE a counter\n# HELP a help\na_total 0 123 # {a=\"b\"} 0.5\n# EOF\n",
        vec![fam(
            "a",
            "help",
            MetricType::Counter,
            vec![s("_total", &[], 0.0).with_timestamp(123.0).with_exemplar(ex(&[("a", "b")], 0.5))],
        )],
    );
}

// test_counter_exemplars_empty_brackets (Python 0.26)
#[test]
fn counter_exemplars_empty_brackets() {
    check(
        "# TYPE a counter\n# HELP a help\na_total{} 0 123 # {a=\"b\"} 0.5\n# EOF\n",
        vec![fam(
            "a",
            "help",
            MetricType::Counter,
            vec![s("_total", &[], 0.0).with_timestamp(123.0).with_exemplar(ex(&[("a", "b")], 0.5))],
        )],
    );
}

/// Counter totals with exemplars of every shape: labels, none, a timestamp, on labeled children.
const COUNTER_EXEMPLARS: &str = "# TYPE a counter\n# HELP a help\n\
    a_total{x=\"1\"} 3 # {trace_id=\"abc\",span_id=\"d\"} 0.5 1600000000.123456789\n\
    a_created{x=\"1\"} 1500000000\n\
    a_total{x=\"2\"} 7 # {} 1\n\
    a_total{x=\"3\"} 0\n\
    # EOF\n";

// Issue 10, item 22: exemplars on counter `_total` samples are valid OpenMetrics and are kept
// (on `_created` they are refused, as before).
#[test]
fn counter_exemplars_are_kept() {
    let f = parse_openmetrics(COUNTER_EXEMPLARS).unwrap();
    let samples = f[0].samples();
    let first = samples[0].exemplar.as_ref().unwrap();
    assert_eq!(
        first,
        &ex(&[("trace_id", "abc"), ("span_id", "d")], 0.5)
            .with_timestamp(Timestamp::from_nanos(1_600_000_000_123_456_789))
    );
    assert_eq!(first.timestamp.and_then(Timestamp::nanos), Some(1_600_000_000_123_456_789));
    assert_eq!(samples[1].exemplar, None);
    assert_eq!(samples[2].exemplar, Some(ex(&[], 1.0)));
    assert_eq!(samples[3].exemplar, None);
    let err = parse_openmetrics("# TYPE a counter\na_created 1 # {a=\"b\"} 0.5\n# EOF\n").unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::MisplacedExemplar(ref n) if n == "a_created"), "{err}");
}

// Issue 10, item 22, whole path: parse -> encode -> parse keeps counter exemplars. Needs core's
// encoder to write exemplars on counter totals (the encoder half of item 22, on another branch;
// today it refuses them with `MisplacedExemplar`). Remove the `ignore` when both are merged.
#[test]
fn counter_exemplars_round_trip() {
    let first = parse_openmetrics(COUNTER_EXEMPLARS).unwrap();
    let text = String::from_utf8(encode_openmetrics(Vec::new(), &first.as_slice()).unwrap()).unwrap();
    assert!(
        text.contains("a_total{x=\"1\"} 3.0 # {span_id=\"d\",trace_id=\"abc\"} 0.5 1600000000.123456789\n"),
        "{text}"
    );
    assert_eq!(parse_openmetrics(&text).unwrap(), first, "{text}");
}

// test_simple_info
#[test]
fn simple_info() {
    check(
        "# TYPE a info\n# HELP a help\na_info{foo=\"bar\"} 1\n# EOF\n",
        vec![InfoMetricFamily::with_value("a", "help", &[("foo", "bar")]).unwrap().into_family()],
    );
}

// test_info_timestamps (info samples may go back in time)
#[test]
fn info_timestamps() {
    check(
        "# TYPE a info\n# HELP a help\na_info{a=\"1\",foo=\"bar\"} 1 1\na_info{a=\"2\",foo=\"bar\"} 1 0\n# EOF\n",
        vec![fam(
            "a",
            "help",
            MetricType::Info,
            vec![
                s("_info", &[("a", "1"), ("foo", "bar")], 1.0).with_timestamp(1.0),
                s("_info", &[("a", "2"), ("foo", "bar")], 1.0).with_timestamp(0.0),
            ],
        )],
    );
}

// test_simple_stateset
#[test]
fn simple_stateset() {
    check(
        "# TYPE a stateset\n# HELP a help\na{a=\"bar\"} 0\na{a=\"foo\"} 1.0\n# EOF\n",
        vec![StateSetMetricFamily::with_value("a", "help", &[("foo", true), ("bar", false)])
            .unwrap()
            .into_family()],
    );
}

// test_duplicate_timestamps: timestamps are kept to the nanosecond, and a sample repeating its
// series at the same (truncated) timestamp is dropped.
#[test]
fn duplicate_timestamps() {
    check(
        "# TYPE a gauge\n# HELP a help\n\
         a{a=\"1\",foo=\"bar\"} 1 0.0000000000\n\
         a{a=\"1\",foo=\"bar\"} 2 0.0000000001\n\
         a{a=\"1\",foo=\"bar\"} 3 0.0000000010\n\
         a{a=\"2\",foo=\"bar\"} 4 0.0000000000\n\
         a{a=\"2\",foo=\"bar\"} 5 0.0000000001\n# EOF\n",
        vec![fam(
            "a",
            "help",
            MetricType::Gauge,
            vec![
                s("", &[("a", "1"), ("foo", "bar")], 1.0).with_timestamp(0.0),
                s("", &[("a", "1"), ("foo", "bar")], 3.0).with_timestamp(1e-9),
                s("", &[("a", "2"), ("foo", "bar")], 4.0).with_timestamp(0.0),
            ],
        )],
    );
}

// test_no_metadata
#[test]
fn no_metadata() {
    check("a 1\n# EOF\n", vec![fam("a", "", MetricType::Unknown, vec![s("", &[], 1.0)])]);
}

// test_empty_metadata
#[test]
fn empty_metadata() {
    check("# HELP a \n# UNIT a \n# EOF\n", vec![fam("a", "", MetricType::Unknown, vec![])]);
}

// test_untyped
#[test]
fn untyped() {
    check(
        "# HELP redis_connected_clients Redis connected clients\n\
         # TYPE redis_connected_clients unknown\n\
         redis_connected_clients{instance=\"rough-snowflake-web\",port=\"6380\"} 10.0\n\
         redis_connected_clients{instance=\"rough-snowflake-web\",port=\"6381\"} 12.0\n# EOF\n",
        vec![fam(
            "redis_connected_clients",
            "Redis connected clients",
            MetricType::Unknown,
            vec![
                s("", &[("instance", "rough-snowflake-web"), ("port", "6380")], 10.0),
                s("", &[("instance", "rough-snowflake-web"), ("port", "6381")], 12.0),
            ],
        )],
    );
}

// test_type_help_switched
#[test]
fn type_help_switched() {
    check("# HELP a help\n# TYPE a counter\na_total 1\n# EOF\n", vec![counter("a", "help", 1.0)]);
}

// test_labels_with_curly_braces
#[test]
fn labels_with_curly_braces() {
    check(
        "# TYPE a counter\n# HELP a help\na_total{foo=\"bar\",bar=\"b{a}z\"} 1\n# EOF\n",
        vec![counter_with("a", "help", &["foo", "bar"], &[(&["bar", "b{a}z"], 1.0)])],
    );
}

// test_empty_help
#[test]
fn empty_help() {
    check("# TYPE a counter\n# HELP a \na_total 1\n# EOF\n", vec![counter("a", "", 1.0)]);
}

// test_labels_and_infinite
#[test]
fn labels_and_infinite() {
    let mut g = GaugeMetricFamily::new("a", "help").unwrap().with_labels(&["foo"]).unwrap();
    g.add_metric(&["bar"], f64::INFINITY, None).unwrap();
    g.add_metric(&["baz"], f64::NEG_INFINITY, None).unwrap();
    check(
        "# TYPE a gauge\n# HELP a help\na{foo=\"bar\"} +Inf\na{foo=\"baz\"} -Inf\n# EOF\n",
        vec![g.into_family()],
    );
}

// test_empty_brackets
#[test]
fn empty_brackets() {
    check("# TYPE a counter\n# HELP a help\na_total{} 1\n# EOF\n", vec![counter("a", "help", 1.0)]);
}

// test_nan
#[test]
fn nan() {
    let f = parse_openmetrics("a NaN\n# EOF\n").unwrap();
    assert!(f[0].samples()[0].value.is_nan());
}

// test_no_newline_after_eof
#[test]
fn no_newline_after_eof() {
    check(
        "# TYPE a gauge\n# HELP a help\na 1\n# EOF",
        vec![GaugeMetricFamily::with_value("a", "help", 1.0).unwrap().into_family()],
    );
}

// test_empty_label
#[test]
fn empty_label() {
    check(
        "# TYPE a counter\n# HELP a help\na_total{foo=\"bar\"} 1\na_total{foo=\"\"} 2\n# EOF\n",
        vec![counter_with("a", "help", &["foo"], &[(&["bar"], 1.0), (&[""], 2.0)])],
    );
}

// test_label_escaping
#[test]
fn label_escaping() {
    for (escaped, unescaped) in [
        ("foo", "foo"),
        ("\\foo", "\\foo"),
        ("\\\\foo", "\\foo"),
        ("foo\\\\", "foo\\"),
        ("\\\\", "\\"),
        ("\\n", "\n"),
        ("\\\\n", "\\n"),
        ("\\\\\\n", "\\\n"),
        ("\\\"", "\""),
        ("\\\\\\\"", "\\\""),
    ] {
        check(
            &format!("# TYPE a counter\n# HELP a help\na_total{{foo=\"{escaped}\",bar=\"baz\"}} 1\n# EOF\n"),
            vec![counter_with("a", "help", &["foo", "bar"], &[(&[unescaped, "baz"], 1.0)])],
        );
    }
}

// test_help_escaping
#[test]
fn help_escaping() {
    for (escaped, unescaped) in [
        ("foo", "foo"),
        ("\\foo", "\\foo"),
        ("\\\\foo", "\\foo"),
        ("foo\\", "foo\\"),
        ("foo\\\\", "foo\\"),
        ("\\n", "\n"),
        ("\\\\n", "\\n"),
        ("\\\\\\n", "\\\n"),
        ("\\\"", "\""),
        ("\\\\\"", "\\\""),
        ("\\\\\\\"", "\\\""),
    ] {
        check(
            &format!("# TYPE a counter\n# HELP a {escaped}\na_total{{foo=\"bar\"}} 1\n# EOF\n"),
            vec![counter_with("a", unescaped, &["foo"], &[(&["bar"], 1.0)])],
        );
    }
}

// test_escaping
#[test]
fn escaping() {
    check(
        "# TYPE a counter\n# HELP a he\\n\\\\l\\tp\na_total{foo=\"b\\\"a\\nr\"} 1\na_total{foo=\"b\\\\a\\z\"} 2\n# EOF\n",
        vec![counter_with("a", "he\n\\l\\tp", &["foo"], &[(&["b\"a\nr"], 1.0), (&["b\\a\\z"], 2.0)])],
    );
}

// test_null_byte
#[test]
fn null_byte() {
    check(
        "# TYPE a counter\n# HELP a he\0lp\n# EOF\n",
        vec![CounterMetricFamily::new("a", "he\0lp").unwrap().into_family()],
    );
}

// test_timestamps
#[test]
fn timestamps() {
    let mut a = CounterMetricFamily::new("a", "help").unwrap().with_labels(&["foo"]).unwrap();
    a.add_metric(&["1"], 1.0, None, Some(0.0)).unwrap();
    a.add_metric(&["2"], 1.0, None, Some(0.0)).unwrap();
    a.add_metric(&["3"], 1.0, None, Some(1.1)).unwrap();
    a.add_metric(&["4"], 1.0, None, Some(12345678901234567890.123456789)).unwrap();
    a.add_metric(&["5"], 1.0, None, Some(1500.0)).unwrap();
    let mut b = CounterMetricFamily::new("b", "help").unwrap();
    b.add_metric(&[], 2.0, None, Some(1234567890.0)).unwrap();
    check(
        "# TYPE a counter\n# HELP a help\n\
         a_total{foo=\"1\"} 1 000\n\
         a_total{foo=\"2\"} 1 0.0\n\
         a_total{foo=\"3\"} 1 1.1\n\
         a_total{foo=\"4\"} 1 12345678901234567890.1234567890\n\
         a_total{foo=\"5\"} 1 1.5e3\n\
         # TYPE b counter\n# HELP b help\nb_total 2 1234567890\n# EOF\n",
        vec![a.into_family(), b.into_family()],
    );
}

// test_hash_in_label_value
#[test]
fn hash_in_label_value() {
    check(
        "# TYPE a counter\n# HELP a help\na_total{foo=\"foo # bar\"} 1\na_total{foo=\"} foo # bar # \"} 1\n# EOF\n",
        vec![counter_with("a", "help", &["foo"], &[(&["foo # bar"], 1.0), (&["} foo # bar # "], 1.0)])],
    );
}

// test_exemplars_with_hash_in_label_values
#[test]
fn exemplars_with_hash_in_label_values() {
    check(
        "# TYPE a histogram\n# HELP a help\n\
         a_bucket{le=\"1.0\",foo=\"bar # \"} 0 # {a=\"b\",foo=\"bar # bar\"} 0.5\n\
         a_bucket{le=\"2.0\",foo=\"bar # \"} 2 # {a=\"c\",foo=\"bar # bar\"} 0.5\n\
         a_bucket{le=\"+Inf\",foo=\"bar # \"} 3 # {a=\"d\",foo=\"bar # bar\"} 4\n# EOF\n",
        vec![fam(
            "a",
            "help",
            MetricType::Histogram,
            vec![
                s("_bucket", &[("le", "1.0"), ("foo", "bar # ")], 0.0)
                    .with_exemplar(ex(&[("a", "b"), ("foo", "bar # bar")], 0.5)),
                s("_bucket", &[("le", "2.0"), ("foo", "bar # ")], 2.0)
                    .with_exemplar(ex(&[("a", "c"), ("foo", "bar # bar")], 0.5)),
                s("_bucket", &[("le", "+Inf"), ("foo", "bar # ")], 3.0)
                    .with_exemplar(ex(&[("a", "d"), ("foo", "bar # bar")], 4.0)),
            ],
        )],
    );
}

// test_fallback_to_state_machine_label_parsing: 0.8.0 mocks its two label parsers to check which
// one runs; promstack has one label parser, so the observable part is ported: these three lines
// parse to the samples the test expects.
#[test]
fn fallback_to_state_machine_label_parsing() {
    check(
        "# TYPE a counter\n# HELP a help\na_total{foo=\"foo # bar\"} 1\n# EOF\n",
        vec![counter_with("a", "help", &["foo"], &[(&["foo # bar"], 1.0)])],
    );
    check(
        "# TYPE a histogram\na_bucket{le=\"1.0\"} 0 123 # {a=\"b\"} 0.5\na_bucket{le=\"+Inf\"} 0 123\n# EOF\n",
        vec![fam(
            "a",
            "",
            MetricType::Histogram,
            vec![
                s("_bucket", &[("le", "1.0")], 0.0).with_timestamp(123.0).with_exemplar(ex(&[("a", "b")], 0.5)),
                s("_bucket", &[("le", "+Inf")], 0.0).with_timestamp(123.0),
            ],
        )],
    );
    check(
        "a_total{foo=\"foo#bar\"} 1\n# EOF\n",
        vec![fam("a_total", "", MetricType::Unknown, vec![s("", &[("foo", "foo#bar")], 1.0)])],
    );
}

// test_roundtrip: Python asserts generate_latest(parse(text)) == text. promstack writes values as
// the shortest round-trip float, so the three values Python spells in Go's exponent form
// (2.478268416e+09, 1.345758e+06, 1.520430000123e+09) come out in plain decimal; labels (`le`,
// `quantile`) keep their text, so everything else is byte-identical.
#[test]
fn roundtrip() {
    let python = r#"# HELP go_gc_duration_seconds A summary of the GC invocation durations.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.0"} 0.013300656000000001
go_gc_duration_seconds{quantile="0.25"} 0.013638736
go_gc_duration_seconds{quantile="0.5"} 0.013759906
go_gc_duration_seconds{quantile="0.75"} 0.013962066
go_gc_duration_seconds{quantile="1.0"} 0.021383540000000003
go_gc_duration_seconds_sum 56.12904785
go_gc_duration_seconds_count 7476.0
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 166.0
# HELP prometheus_local_storage_indexing_batch_duration_milliseconds Quantiles for batch indexing duration in milliseconds.
# TYPE prometheus_local_storage_indexing_batch_duration_milliseconds summary
prometheus_local_storage_indexing_batch_duration_milliseconds{quantile="0.5"} NaN
prometheus_local_storage_indexing_batch_duration_milliseconds{quantile="0.9"} NaN
prometheus_local_storage_indexing_batch_duration_milliseconds{quantile="0.99"} NaN
prometheus_local_storage_indexing_batch_duration_milliseconds_sum 871.5665949999999
prometheus_local_storage_indexing_batch_duration_milliseconds_count 229.0
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds counter
process_cpu_seconds_total 29323.4
# HELP process_virtual_memory_bytes Virtual memory size in bytes.
# TYPE process_virtual_memory_bytes gauge
process_virtual_memory_bytes 2.478268416e+09
# HELP prometheus_build_info A metric with a constant '1' value labeled by version, revision, and branch from which Prometheus was built.
# TYPE prometheus_build_info gauge
prometheus_build_info{branch="HEAD",revision="ef176e5",version="0.16.0rc1"} 1.0
# HELP prometheus_local_storage_chunk_ops The total number of chunk operations by their type.
# TYPE prometheus_local_storage_chunk_ops counter
prometheus_local_storage_chunk_ops_total{type="clone"} 28.0
prometheus_local_storage_chunk_ops_total{type="create"} 997844.0
prometheus_local_storage_chunk_ops_total{type="drop"} 1.345758e+06
prometheus_local_storage_chunk_ops_total{type="load"} 1641.0
prometheus_local_storage_chunk_ops_total{type="persist"} 981408.0
prometheus_local_storage_chunk_ops_total{type="pin"} 32662.0
prometheus_local_storage_chunk_ops_total{type="transcode"} 980180.0
prometheus_local_storage_chunk_ops_total{type="unpin"} 32662.0
# HELP foo histogram Testing histogram buckets
# TYPE foo histogram
foo_bucket{le="0.0"} 0.0
foo_bucket{le="1e-05"} 0.0
foo_bucket{le="0.0001"} 0.0
foo_bucket{le="0.1"} 8.0
foo_bucket{le="1.0"} 10.0
foo_bucket{le="10.0"} 17.0
foo_bucket{le="100000.0"} 17.0
foo_bucket{le="1e+06"} 17.0
foo_bucket{le="1.55555555555552e+06"} 17.0
foo_bucket{le="1e+23"} 17.0
foo_bucket{le="+Inf"} 17.0
foo_count 17.0
foo_sum 324789.3
foo_created 1.520430000123e+09
# EOF
"#;
    let families = parse_openmetrics(python).unwrap();
    let out = encode_openmetrics(Vec::new(), &families.as_slice()).unwrap();
    let expected = python
        .replace("2.478268416e+09", "2478268416.0")
        .replace("1.345758e+06", "1345758.0")
        .replace("1.520430000123e+09", "1520430000.123");
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

type Kind = fn(&ParseErrorKind) -> bool;

macro_rules! kind {
    ($p:pat) => {
        (|k: &ParseErrorKind| matches!(k, $p)) as Kind
    };
}

// test_invalid_input: every case, each with the error promstack reports for it. The one case
// promstack accepts on purpose is in `exemplar_label_limit_is_128` below.
#[test]
fn invalid_input() {
    use ParseErrorKind as K;
    let long_exemplar_65 = concat!(
        "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # ",
        "{a=\"2345678901234567890123456789012345678901234567890123456789012345\"} 1 1\n# EOF\n"
    );
    let cases: Vec<(&str, Kind)> = vec![
        // No EOF.
        ("", kind!(K::MissingEof)),
        // Text after EOF.
        ("a 1\n# EOF\nblah", kind!(K::TextAfterEof)),
        ("a 1\n# EOFblah", kind!(K::InvalidLine(_))),
        // Missing or wrong quotes on label value.
        ("a{a=1} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        ("a{a=\"1} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        ("a{a='1'} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        // Missing equal or label value.
        ("a{a} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        ("a{a\"value\"} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        ("a{a\"\"} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        ("a{a=} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        ("a{a=\"} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        // Missing or extra commas.
        ("a{a=\"1\"b=\"2\"} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        ("a{a=\"1\",,b=\"2\"} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        ("a{a=\"1\",b=\"2\",} 1\n# EOF\n", kind!(K::InvalidLabels(_))),
        // Invalid labels.
        ("a{1=\"1\"} 1\n# EOF\n", kind!(K::InvalidLabelName(_))),
        ("a{a=\"1\",a=\"1\"} 1\n# EOF\n", kind!(K::DuplicateLabelName(_))),
        ("a{1=\" # \"} 1\n# EOF\n", kind!(K::InvalidLabelName(_))),
        ("a{a=\" # \",a=\" # \"} 1\n# EOF\n", kind!(K::DuplicateLabelName(_))),
        // Missing value.
        ("a\n# EOF\n", kind!(K::MissingValue)),
        ("a \n# EOF\n", kind!(K::MissingValue)),
        // Bad HELP.
        ("# HELP\n# EOF\n", kind!(K::InvalidLine(_))),
        ("# HELP \n# EOF\n", kind!(K::InvalidLine(_))),
        ("# HELP a\n# EOF\n", kind!(K::InvalidLine(_))),
        ("# HELP a\t\n# EOF\n", kind!(K::InvalidLine(_))),
        (" # HELP a meh\n# EOF\n", kind!(K::InvalidMetricName(_))),
        // Bad TYPE.
        ("# TYPE\n# EOF\n", kind!(K::InvalidLine(_))),
        ("# TYPE \n# EOF\n", kind!(K::InvalidLine(_))),
        ("# TYPE a\n# EOF\n", kind!(K::InvalidLine(_))),
        ("# TYPE a\t\n# EOF\n", kind!(K::InvalidLine(_))),
        ("# TYPE a meh\n# EOF\n", kind!(K::UnknownType(_))),
        ("# TYPE a meh \n# EOF\n", kind!(K::UnknownType(_))),
        ("# TYPE a gauge \n# EOF\n", kind!(K::UnknownType(_))),
        ("# TYPE a untyped\n# EOF\n", kind!(K::UnknownType(_))),
        // Bad UNIT.
        ("# UNIT\n# EOF\n", kind!(K::InvalidLine(_))),
        ("# UNIT \n# EOF\n", kind!(K::InvalidLine(_))),
        ("# UNIT a\n# EOF\n", kind!(K::InvalidLine(_))),
        ("# UNIT a\t\n# EOF\n", kind!(K::InvalidLine(_))),
        ("# UNIT a seconds\n# EOF\n", kind!(K::UnitMismatch { .. })),
        ("# UNIT a_seconds seconds \n# EOF\n", kind!(K::UnitMismatch { .. })),
        ("# TYPE x_u info\n# UNIT x_u u\n# EOF\n", kind!(K::UnitNotAllowed(_))),
        ("# TYPE x_u stateset\n# UNIT x_u u\n# EOF\n", kind!(K::UnitNotAllowed(_))),
        // Metadata in wrong place.
        ("# HELP a x\na 1\n# TYPE a gauge\n# EOF\n", kind!(K::MetadataAfterSamples(_))),
        ("# TYPE a gauge\na 1\n# HELP a gauge\n# EOF\n", kind!(K::MetadataAfterSamples(_))),
        ("# TYPE a_s gauge\na_s 1\n# UNIT a_s s\n# EOF\n", kind!(K::MetadataAfterSamples(_))),
        // Repeated metadata.
        ("# HELP a \n# HELP a \n# EOF\n", kind!(K::DuplicateMetadata { keyword: "HELP", .. })),
        ("# HELP a x\n# HELP a x\n# EOF\n", kind!(K::DuplicateMetadata { keyword: "HELP", .. })),
        ("# TYPE a untyped\n# TYPE a untyped\n# EOF\n", kind!(K::UnknownType(_))),
        ("# UNIT a_s s\n# UNIT a_s s\n# EOF\n", kind!(K::DuplicateMetadata { keyword: "UNIT", .. })),
        // Bad metric names.
        ("0a 1\n# EOF\n", kind!(K::InvalidMetricName(_))),
        ("a.b 1\n# EOF\n", kind!(K::InvalidMetricName(_))),
        ("a-b 1\n# EOF\n", kind!(K::InvalidMetricName(_))),
        // Bad value.
        ("a a\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a  1\n# EOF\n", kind!(K::ExtraSpace)),
        ("a 1\t\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 1 \n# EOF\n", kind!(K::ExtraSpace)),
        ("a 1_2\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 0x1p-3\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 0x1P-3\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 0b1\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 0B1\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 0x1\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 0X1\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 0o1\n# EOF\n", kind!(K::InvalidValue(_))),
        ("a 0O1\n# EOF\n", kind!(K::InvalidValue(_))),
        // Bad timestamp.
        ("a 1 z\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("a 1 1z\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("a 1 1_2\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("a 1 1.1.1\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("a 1 NaN\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("a 1 Inf\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("a 1 +Inf\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("a 1 -Inf\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("a 1 0x1p-3\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        // Bad exemplars.
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 #\n# EOF\n", kind!(K::InvalidExemplar(_))),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1# {} 1\n# EOF\n", kind!(K::InvalidValue(_))),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 #{} 1\n# EOF\n", kind!(K::InvalidExemplar(_))),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {}1\n# EOF\n", kind!(K::InvalidExemplar(_))),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 \n# EOF\n", kind!(K::ExtraSpace)),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 1 \n# EOF\n", kind!(K::InvalidTimestamp(_))),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 0x1p-3\n# EOF\n", kind!(K::InvalidValue(_))),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 0x1p-3\n# EOF\n", kind!(K::InvalidTimestamp(_))),
        // Exemplars on unallowed samples.
        ("# TYPE a histogram\na_sum 1 # {a=\"b\"} 0.5\n# EOF\n", kind!(K::MisplacedExemplar(_))),
        ("# TYPE a gaugehistogram\na_sum 1 # {a=\"b\"} 0.5\n# EOF\n", kind!(K::MisplacedExemplar(_))),
        ("# TYPE a_bucket gauge\na_bucket 1 # {a=\"b\"} 0.5\n# EOF\n", kind!(K::MisplacedExemplar(_))),
        ("# TYPE a counter\na_created 1 # {a=\"b\"} 0.5\n# EOF\n", kind!(K::MisplacedExemplar(_))),
        // Exemplars on unallowed metric types.
        ("# TYPE a gauge\na 1 # {a=\"b\"} 1\n# EOF\n", kind!(K::MisplacedExemplar(_))),
        ("# TYPE a info\na_info 1 # {a=\"b\"} 1\n# EOF\n", kind!(K::MisplacedExemplar(_))),
        ("# TYPE a stateset\na{a=\"b\"} 1 # {c=\"d\"} 1\n# EOF\n", kind!(K::MisplacedExemplar(_))),
        // Bad stateset/info values (`a` is not an info sample name: it starts a second family `a`).
        ("# TYPE a stateset\na 2\n# EOF\n", kind!(K::MissingStateLabel(_))),
        ("# TYPE a info\na 2\n# EOF\n", kind!(K::DuplicateFamily(_))),
        ("# TYPE a stateset\na 2.0\n# EOF\n", kind!(K::MissingStateLabel(_))),
        ("# TYPE a info\na 2.0\n# EOF\n", kind!(K::DuplicateFamily(_))),
        // Missing or invalid labels for a type.
        ("# TYPE a summary\na 0\n# EOF\n", kind!(K::InvalidQuantile(_))),
        ("# TYPE a summary\na{quantile=\"-1\"} 0\n# EOF\n", kind!(K::InvalidQuantile(_))),
        ("# TYPE a summary\na{quantile=\"foo\"} 0\n# EOF\n", kind!(K::InvalidQuantile(_))),
        ("# TYPE a summary\na{quantile=\"1.01\"} 0\n# EOF\n", kind!(K::InvalidQuantile(_))),
        ("# TYPE a summary\na{quantile=\"NaN\"} 0\n# EOF\n", kind!(K::InvalidQuantile(_))),
        ("# TYPE a histogram\na_bucket 0\n# EOF\n", kind!(K::InvalidLe(_))),
        ("# TYPE a gaugehistogram\na_bucket 0\n# EOF\n", kind!(K::InvalidLe(_))),
        ("# TYPE a stateset\na 0\n# EOF\n", kind!(K::MissingStateLabel(_))),
        // Bad counter values.
        ("# TYPE a counter\na_total NaN\n# EOF\n", kind!(K::NanCounterLike(_))),
        ("# TYPE a counter\na_total -1\n# EOF\n", kind!(K::NegativeCounterLike(_))),
        ("# TYPE a histogram\na_sum NaN\n# EOF\n", kind!(K::NanCounterLike(_))),
        ("# TYPE a histogram\na_count NaN\n# EOF\n", kind!(K::NanCounterLike(_))),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} NaN\n# EOF\n", kind!(K::NanCounterLike(_))),
        ("# TYPE a histogram\na_sum -1\n# EOF\n", kind!(K::NegativeCounterLike(_))),
        ("# TYPE a histogram\na_count -1\n# EOF\n", kind!(K::NegativeCounterLike(_))),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} -1\n# EOF\n", kind!(K::NegativeCounterLike(_))),
        (
            "# TYPE a histogram\na_bucket{le=\"-1.0\"} 1\na_bucket{le=\"+Inf\"} 2\na_sum -1\n# EOF\n",
            kind!(K::NegativeCounterLike(_)),
        ),
        (
            "# TYPE a histogram\na_bucket{le=\"-1.0\"} 1\na_bucket{le=\"+Inf\"} 2\na_sum 1\n# EOF\n",
            kind!(K::CountSumMismatch { .. }),
        ),
        ("# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} NaN\n# EOF\n", kind!(K::NanCounterLike(_))),
        ("# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} -1\na_gcount -1\n# EOF\n", kind!(K::NegativeCounterLike(_))),
        ("# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} -1\n# EOF\n", kind!(K::NegativeCounterLike(_))),
        // 0.8.0 refused the negative `_gsum`; the missing `_gcount` is found first now.
        ("# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gsum -1\n# EOF\n", kind!(K::CountSumMismatch { .. })),
        (
            "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gsum -1\na_gcount 1\n# EOF\n",
            kind!(K::InvalidHistogram { .. }),
        ),
        ("# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gsum NaN\n# EOF\n", kind!(K::NanCounterLike(_))),
        ("# TYPE a summary\na_sum NaN\n# EOF\n", kind!(K::NanCounterLike(_))),
        ("# TYPE a summary\na_count NaN\n# EOF\n", kind!(K::NanCounterLike(_))),
        ("# TYPE a summary\na_sum -1\n# EOF\n", kind!(K::NegativeCounterLike(_))),
        ("# TYPE a summary\na_count -1\n# EOF\n", kind!(K::NegativeCounterLike(_))),
        ("# TYPE a summary\na{quantile=\"0.5\"} -1\n# EOF\n", kind!(K::NegativeQuantileValue(_))),
        // Bad histograms.
        ("# TYPE a histogram\na_sum 1\n# EOF\n", kind!(K::InvalidHistogram { .. })),
        ("# TYPE a gaugehistogram\na_gsum 1\n# EOF\n", kind!(K::InvalidHistogram { .. })),
        ("# TYPE a histogram\na_count 1\na_bucket{le=\"+Inf\"} 0\n# EOF\n", kind!(K::InvalidHistogram { .. })),
        ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 1\n# EOF\n", kind!(K::InvalidHistogram { .. })),
        ("# TYPE a histogram\na_bucket{le=\"+INF\"} 0\n# EOF\n", kind!(K::InvalidLe(_))),
        (
            "# TYPE a histogram\na_bucket{le=\"2\"} 0\na_bucket{le=\"1\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n",
            kind!(K::InvalidHistogram { .. }),
        ),
        (
            "# TYPE a histogram\na_bucket{le=\"1\"} 1\na_bucket{le=\"2\"} 1\na_bucket{le=\"+Inf\"} 0\n# EOF\n",
            kind!(K::InvalidHistogram { .. }),
        ),
        // Bad grouping or ordering.
        (
            "# TYPE a histogram\na_sum{a=\"1\"} 0\na_sum{a=\"2\"} 0\na_count{a=\"1\"} 0\n# EOF\n",
            kind!(K::InvalidGrouping(_)),
        ),
        (
            "# TYPE a histogram\na_bucket{a=\"1\",le=\"1\"} 0\na_bucket{a=\"2\",le=\"+Inf\"\"} 0\na_bucket{a=\"1\",le=\"+Inf\"} 0\n# EOF\n",
            kind!(K::InvalidLabels(_)),
        ),
        (
            "# TYPE a gaugehistogram\na_gsum{a=\"1\"} 0\na_gsum{a=\"2\"} 0\na_gcount{a=\"1\"} 0\n# EOF\n",
            kind!(K::InvalidGrouping(_)),
        ),
        (
            // `a_sum` is a sample name of the summary `a` (Python 0.26 finds this clash first too).
            "# TYPE a summary\nquantile{quantile=\"0\"} 0\na_sum{a=\"1\"} 0\nquantile{quantile=\"1\"} 0\n# EOF\n",
            kind!(K::ClashingName { .. }),
        ),
        ("# TYPE a gauge\na 0 -1\na 0 -2\n# EOF\n", kind!(K::TimestampsBackwards(_))),
        ("# TYPE a gauge\na 0 -1\na 0 -1.1\n# EOF\n", kind!(K::TimestampsBackwards(_))),
        ("# TYPE a gauge\na 0 1\na 0 -1\n# EOF\n", kind!(K::TimestampsBackwards(_))),
        ("# TYPE a gauge\na 0 1.1\na 0 1\n# EOF\n", kind!(K::TimestampsBackwards(_))),
        ("# TYPE a gauge\na 0 1\na 0 0\n# EOF\n", kind!(K::TimestampsBackwards(_))),
        ("# TYPE a gauge\na 0\na 0 0\n# EOF\n", kind!(K::TimestampPresenceMix(_))),
        ("# TYPE a gauge\na 0 0\na 0\n# EOF\n", kind!(K::TimestampPresenceMix(_))),
        // Clashing names (Python 0.26's cases).
        ("# TYPE a counter\n# TYPE a counter\n# EOF\n", kind!(K::DuplicateMetadata { .. })),
        ("# TYPE a info\n# TYPE a counter\n# EOF\n", kind!(K::DuplicateMetadata { .. })),
        ("# TYPE a_created gauge\n# TYPE a counter\n# EOF\n", kind!(K::ClashingName { .. })),
    ];
    assert!(parse_openmetrics(long_exemplar_65).is_ok());
    for (input, kind) in cases {
        match parse_openmetrics(input) {
            Ok(f) => panic!("{input:?} was accepted: {f:?}"),
            Err(e) => assert!(kind(&e.kind), "{input:?}: unexpected error {e}"),
        }
    }
}

// ---- promstack decisions (not in test_parser.py, or differing from it) ----

// Issue 10, item 23: timestamps keep their exact value through parse -> encode -> parse. With f64
// seconds the two samples 1 ns apart were written alike and the second was dropped as a
// duplicate, and `.1234567891` came back as `.12345678...` rounded.
#[test]
fn timestamps_are_exact_through_encode() {
    let input = "# TYPE a gauge\n\
                 a 1 1600000000.000000001\n\
                 a 2 1600000000.000000002\n\
                 b 1 1.1234567891\n\
                 c 1 -0.000000001\n\
                 # TYPE d histogram\n\
                 d_bucket{le=\"+Inf\"} 1 1600000000.5 # {t=\"x\"} 1 1600000000.999999999\n\
                 # EOF\n";
    let first = parse_openmetrics(input).unwrap();
    let a: Vec<_> = first[0].samples().iter().map(|s| s.timestamp.and_then(Timestamp::nanos)).collect();
    assert_eq!(a, [Some(1_600_000_000_000_000_001), Some(1_600_000_000_000_000_002)]);
    let text = String::from_utf8(encode_openmetrics(Vec::new(), &first.as_slice()).unwrap()).unwrap();
    assert!(text.contains("a 1.0 1600000000.000000001\na 2.0 1600000000.000000002\n"), "{text}");
    assert!(text.contains("b 1.0 1.123456789\n"), "{text}");
    assert!(text.contains("c 1.0 -0.000000001\n"), "{text}");
    let second = parse_openmetrics(&text).unwrap();
    assert_eq!(second, first);
    let nanos = |f: &[MetricFamily]| -> Vec<Option<i128>> {
        f.iter()
            .flat_map(|f| f.samples())
            .flat_map(|s| [s.timestamp, s.exemplar.as_ref().and_then(|e| e.timestamp)])
            .map(|t| t.and_then(Timestamp::nanos))
            .collect()
    };
    assert_eq!(nanos(&second), nanos(&first));
    assert_eq!(nanos(&second)[4], Some(1_123_456_789));
}

// Issue 10, item 19: `_count` if and only if `_sum` (`_gcount` iff `_gsum`), per child and
// timestamp, as OpenMetrics 1.0 and Python 0.26's `_check_histogram` require (0.8.0 did not).
#[test]
fn count_and_sum_come_together() {
    let mismatch = |input: &str, present: &str, missing: &str| {
        let err = parse_openmetrics(input).expect_err(input);
        match &err.kind {
            ParseErrorKind::CountSumMismatch { family, present: p, missing: m } => {
                assert_eq!((family.as_str(), *p, *m), ("a", present, missing), "{input:?}")
            }
            _ => panic!("{input:?}: {err}"),
        }
        err
    };
    let err = mismatch("# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_sum 0\n# EOF\n", "_sum", "_count");
    assert_eq!(err.to_string(), "line 3: histogram \"a\" has _sum without _count");
    mismatch("# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 0\n# EOF\n", "_count", "_sum");
    mismatch("# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0\na_gsum 0\n# EOF\n", "_gsum", "_gcount");
    mismatch("# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0\na_gcount 0\n# EOF\n", "_gcount", "_gsum");
    // Per child: the second child lacks `_sum`.
    mismatch(
        "# TYPE a histogram\na_bucket{x=\"1\",le=\"+Inf\"} 0\na_count{x=\"1\"} 0\na_sum{x=\"1\"} 0\n\
         a_bucket{x=\"2\",le=\"+Inf\"} 0\na_count{x=\"2\"} 0\n# EOF\n",
        "_count",
        "_sum",
    );
    // Per timestamp: the child at time 2 lacks `_count`.
    mismatch(
        "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0 1\na_count 0 1\na_sum 0 1\n\
         a_bucket{le=\"+Inf\"} 0 2\na_sum 0 2\n# EOF\n",
        "_sum",
        "_count",
    );
    // Negative buckets: no `_sum`, so no `_count` either (Python 0.26 agrees).
    let err = parse_openmetrics(
        "# TYPE a histogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 0\na_sum 0\na_count 0\n# EOF\n",
    )
    .unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::InvalidHistogram { .. }), "{err}");
    // Both or neither are fine.
    for ok in [
        "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 0\na_sum 0\n# EOF\n",
        "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\n# EOF\n",
        "# TYPE a histogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n",
        "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0\na_gcount 0\na_gsum 0\n# EOF\n",
        "# TYPE a gaugehistogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 0\na_gcount 0\na_gsum -1\n# EOF\n",
    ] {
        parse_openmetrics(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
}

// A sample is a duplicate only of one at the same timestamp: 0.8.0 and 0.26 keep their set of seen
// series until the child changes, and so drop `a_created 5 2` here.
#[test]
fn later_timestamp_is_not_a_duplicate() {
    let mut c = CounterMetricFamily::new("a", "").unwrap();
    c.add_metric(&[], 1.0, Some(5.0), Some(1.0)).unwrap();
    c.add_metric(&[], 2.0, Some(5.0), Some(2.0)).unwrap();
    check(
        "# TYPE a counter\na_total 1 1\na_created 5 1\na_total 2 2\na_created 5 2\n# EOF\n",
        vec![c.into_family()],
    );
}

// Issue 10, item 21: a family's possible sample names may not be another family's (Python 0.26's
// "Clashing name"), in either order, for every suffix a type produces.
#[test]
fn clashing_names() {
    let cases: &[(&str, &str, usize)] = &[
        ("# TYPE a_created gauge\n# TYPE a counter\n# EOF\n", "a_created", 2),
        ("# TYPE a counter\n# TYPE a_created gauge\n# EOF\n", "a_created", 2),
        ("# TYPE a_total gauge\n# TYPE a counter\n# EOF\n", "a_total", 2),
        ("# TYPE a counter\na_total 1\n# TYPE a_total gauge\n# EOF\n", "a_total", 3),
        ("a_total 1\n# TYPE a counter\n# EOF\n", "a_total", 2),
        ("# TYPE a_bucket gauge\n# TYPE a histogram\n# EOF\n", "a_bucket", 2),
        ("# TYPE a histogram\n# TYPE a_bucket gauge\n# EOF\n", "a_bucket", 2),
        ("# TYPE a_count gauge\n# TYPE a summary\n# EOF\n", "a_count", 2),
        ("# TYPE a summary\n# TYPE a_sum unknown\n# EOF\n", "a_sum", 2),
        ("# TYPE a_sum gauge\n# TYPE a histogram\n# EOF\n", "a_sum", 2),
        ("# TYPE a histogram\n# TYPE a_created gauge\n# EOF\n", "a_created", 2),
        ("# TYPE a_gcount gauge\n# TYPE a gaugehistogram\n# EOF\n", "a_gcount", 2),
        ("# TYPE a gaugehistogram\n# TYPE a_gsum gauge\n# EOF\n", "a_gsum", 2),
        ("# TYPE a_info gauge\n# TYPE a info\n# EOF\n", "a_info", 2),
        ("# TYPE a info\n# TYPE a_info stateset\n# EOF\n", "a_info", 2),
        // The bare name counts too, even where the type has no sample of that name.
        ("# TYPE a_total counter\n# TYPE a_total_total gauge\n# EOF\n", "a_total_total", 2),
    ];
    for (input, name, line) in cases {
        let err = parse_openmetrics(input).expect_err(input);
        assert_eq!(err.line, *line, "{input:?}: {err}");
        match &err.kind {
            ParseErrorKind::ClashingName { name: n, .. } => assert_eq!(n, name, "{input:?}"),
            _ => panic!("{input:?}: {err}"),
        }
    }
    let err = parse_openmetrics("# TYPE a_created gauge\n# TYPE a counter\n# EOF\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2: metric \"a\" clashes with another metric over the sample name \"a_created\""
    );
    // Names that only look alike are fine.
    for ok in [
        "# TYPE a counter\n# TYPE a_bucket gauge\n# EOF\n",
        "# TYPE a gauge\n# TYPE a_total gauge\n# EOF\n",
        "# TYPE a gaugehistogram\n# TYPE a_count gauge\n# TYPE a_created gauge\n# EOF\n",
        "# TYPE a stateset\n# TYPE a_info gauge\n# EOF\n",
    ] {
        parse_openmetrics(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
}

// Issue 10, item 20: `le` and `quantile` numbers in any spelling; only `+Inf` must be exact. From
// Python 0.26's test_histogram_noncanonical and test_summary_quantiles (0.8.0 refused "1", "0",
// "1e-04", "1e+05", "10000000000", "0.0000000001" and "1.1e-2").
#[test]
fn noncanonical_numbers() {
    let les = [
        "0",
        "0.00000000001",
        "0.0000000001",
        "1e-04",
        "1.1e-4",
        "1.1e-3",
        "1.1e-2",
        "1",
        "1e+05",
        "10000000000",
        "100000000000.0",
        "+Inf",
    ];
    let mut input = String::from("# TYPE a histogram\n# HELP a help\n");
    for le in les {
        input.push_str(&format!("a_bucket{{le=\"{le}\"}} 0\n"));
    }
    input.push_str("a_count 0\na_sum 2\n# EOF\n");
    let mut expected: Vec<OwnedSample> = les.iter().map(|le| s("_bucket", &[("le", le)], 0.0)).collect();
    expected.push(s("_count", &[], 0.0));
    expected.push(s("_sum", &[], 2.0));
    check(&input, vec![fam("a", "help", MetricType::Histogram, expected)]);

    check(
        "# TYPE a summary\na{quantile=\"0\"} 0.5\na{quantile=\"1\"} 0.8\na{quantile=\"5e-1\"} 0.7\n# EOF\n",
        vec![fam(
            "a",
            "",
            MetricType::Summary,
            vec![
                s("", &[("quantile", "0")], 0.5),
                s("", &[("quantile", "1")], 0.8),
                s("", &[("quantile", "5e-1")], 0.7),
            ],
        )],
    );
    // Values compare as numbers: "1" and "1.0" are the same bound.
    let err = parse_openmetrics(
        "# TYPE a histogram\na_bucket{le=\"1\"} 0\na_bucket{le=\"1.0\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n",
    )
    .unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::InvalidHistogram { .. }), "{err}");
    for inf in ["Inf", "inf", "+inf", "Infinity", "+INF"] {
        let input = format!("# TYPE a histogram\na_bucket{{le=\"{inf}\"}} 0\n# EOF\n");
        assert_eq!(
            parse_openmetrics(&input).unwrap_err().kind,
            ParseErrorKind::InvalidLe(inf.into()),
            "{inf}"
        );
    }
}

// test_invalid_input rejects an exemplar whose labels are 65 characters long: 0.8.0's limit was
// 64. OpenMetrics 1.0 (and SPEC.md section 3) allows 128, which the encoders also write, so
// promstack accepts up to 128 and rejects 129.
#[test]
fn exemplar_label_limit_is_128() {
    let line = |n: usize| {
        format!(
            "# TYPE a histogram\na_bucket{{le=\"+Inf\"}} 1 # {{a=\"{}\"}} 1 1\n# EOF\n",
            "x".repeat(n - 1)
        )
    };
    assert!(parse_openmetrics(&line(65)).is_ok());
    assert!(parse_openmetrics(&line(128)).is_ok());
    let err = parse_openmetrics(&line(129)).unwrap_err();
    assert_eq!((err.line, err.kind), (2, ParseErrorKind::ExemplarTooLong(129)));
    // Characters, not bytes.
    assert!(parse_openmetrics(&line(128).replace('x', "é")).is_ok());
}

// 0.8.0 refuses only the literal `le="NaN"`; any spelling of NaN is refused here.
#[test]
fn nan_le_in_any_spelling() {
    for le in ["NaN", "nan", "-nan", "NAN"] {
        let input =
            format!("# TYPE a histogram\na_bucket{{le=\"{le}\"}} 0\na_bucket{{le=\"+Inf\"}} 0\n# EOF\n");
        assert!(matches!(parse_openmetrics(&input).unwrap_err().kind, ParseErrorKind::InvalidLe(_)), "{le}");
    }
}

// Timestamps compare by value (0.8.0's Timestamp.__gt__ says 1.5 > 2.0 because 5e8 ns > 0 ns), and
// a negative fraction keeps its sign (0.8.0 reads -0.5 as +0.5).
#[test]
fn timestamps_compare_by_value() {
    let f = parse_openmetrics("# TYPE a gauge\na 0 1.5\na 1 2.0\nb 1 -0.5\n# EOF\n").unwrap();
    assert_eq!(f[0].samples().len(), 2);
    assert_eq!(f[1].samples()[0].timestamp, Some(Timestamp::from_nanos(-500_000_000)));
}

// Errors name their line.
#[test]
fn error_lines() {
    let cases: &[(&str, usize)] = &[
        ("# TYPE a gauge\na 1\nb 1\na 2\n# EOF\n", 4),
        ("# TYPE a counter\n\n# EOF\n", 2),
        ("a 1\n# EOF\n\n", 3),
        ("a 1\n", 1),
        ("# TYPE a histogram\na_bucket{le=\"1.0\"} 2\na_bucket{le=\"+Inf\"} 1\n# EOF\n", 3),
        ("# TYPE a histogram\na_bucket{le=\"1.0\"} 2\na_count 2\n# EOF\n", 3),
        ("# TYPE a_b gauge\n# UNIT a_b c\na_b 1\n# EOF\n", 2),
    ];
    for (input, line) in cases {
        let err = parse_openmetrics(input).unwrap_err();
        assert_eq!(err.line, *line, "{input:?}: {err}");
    }
}

// Metadata lines must start with "# " exactly (0.8.0 accepts "#x HELP a b").
#[test]
fn metadata_starts_with_hash_space() {
    assert!(matches!(
        parse_openmetrics("#x HELP a b\n# EOF\n").unwrap_err().kind,
        ParseErrorKind::InvalidLine(_)
    ));
    assert!(matches!(
        parse_openmetrics("# FOO a b\n# EOF\n").unwrap_err().kind,
        ParseErrorKind::InvalidLine(_)
    ));
}
