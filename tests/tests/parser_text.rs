//! Prometheus text 0.0.4 parser: every case of Python prometheus_client 0.8.0's
//! `tests/test_parser.py`, as data, plus the cases where promstack decides differently.

use promstack_alloc::{
    parse_text, CounterMetricFamily, GaugeMetricFamily, MetricFamily, OwnedSample, ParseErrorKind,
    SummaryMetricFamily,
};
use promstack_core::{encode_text, MetricType};

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

fn counter(name: &str, help: &str, value: f64) -> MetricFamily {
    CounterMetricFamily::with_value(name, help, value).unwrap().into_family()
}

/// A counter family with label names and `(label values, value)` children.
fn counter_with(name: &str, help: &str, labels: &[&str], children: &[(&[&str], f64)]) -> MetricFamily {
    let mut c = CounterMetricFamily::new(name, help).unwrap().with_labels(labels).unwrap();
    for (values, v) in children {
        c.add_metric(values, *v, None, None).unwrap();
    }
    c.into_family()
}

#[track_caller]
fn check(input: &str, expected: Vec<MetricFamily>) {
    match parse_text(input) {
        Ok(got) => assert_eq!(got, expected, "input: {input:?}"),
        Err(e) => panic!("input {input:?}: {e}"),
    }
}

// test_simple_counter
#[test]
fn simple_counter() {
    check("# TYPE a counter\n# HELP a help\na 1\n", vec![counter("a", "help", 1.0)]);
}

// test_simple_gauge
#[test]
fn simple_gauge() {
    check(
        "# TYPE a gauge\n# HELP a help\na 1\n",
        vec![GaugeMetricFamily::with_value("a", "help", 1.0).unwrap().into_family()],
    );
}

// test_simple_summary
#[test]
fn simple_summary() {
    check(
        "# TYPE a summary\n# HELP a help\na_count 1\na_sum 2\n",
        vec![SummaryMetricFamily::with_value("a", "help", 1.0, 2.0).unwrap().into_family()],
    );
}

// test_summary_quantiles
#[test]
fn summary_quantiles() {
    let mut expected = SummaryMetricFamily::with_value("a", "help", 1.0, 2.0).unwrap().into_family();
    expected.add_sample(s("", &[("quantile", "0.5")], 0.7));
    check("# TYPE a summary\n# HELP a help\na_count 1\na_sum 2\na{quantile=\"0.5\"} 0.7\n", vec![expected]);
}

// test_simple_histogram: `le` keeps the spelling of the input ("1"), so the expected family is
// built sample by sample (HistogramMetricFamily would spell the bound "1.0").
#[test]
fn simple_histogram() {
    check(
        "# TYPE a histogram\n# HELP a help\na_bucket{le=\"1\"} 0\na_bucket{le=\"+Inf\"} 3\na_count 3\na_sum 2\n",
        vec![fam(
            "a",
            "help",
            MetricType::Histogram,
            vec![
                s("_bucket", &[("le", "1")], 0.0),
                s("_bucket", &[("le", "+Inf")], 3.0),
                s("_count", &[], 3.0),
                s("_sum", &[], 2.0),
            ],
        )],
    );
}

// test_no_metadata
#[test]
fn no_metadata() {
    check("a 1\n", vec![fam("a", "", MetricType::Unknown, vec![s("", &[], 1.0)])]);
}

// test_untyped
#[test]
fn untyped() {
    check(
        "# HELP redis_connected_clients Redis connected clients\n\
         # TYPE redis_connected_clients untyped\n\
         redis_connected_clients{instance=\"rough-snowflake-web\",port=\"6380\"} 10.0\n\
         redis_connected_clients{instance=\"rough-snowflake-web\",port=\"6381\"} 12.0\n",
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
    check("# HELP a help\n# TYPE a counter\na 1\n", vec![counter("a", "help", 1.0)]);
}

// test_blank_lines_and_comments
#[test]
fn blank_lines_and_comments() {
    check("\n# TYPE a counter\n# FOO a\n# BAR b\n# HELP a help\n\na 1\n", vec![counter("a", "help", 1.0)]);
}

// test_tabs
#[test]
fn tabs() {
    check("#\tTYPE\ta\tcounter\n#\tHELP\ta\thelp\na\t1\n", vec![counter("a", "help", 1.0)]);
}

// test_labels_with_curly_braces
#[test]
fn labels_with_curly_braces() {
    check(
        "# TYPE a counter\n# HELP a help\na{foo=\"bar\", bar=\"b{a}z\"} 1\n",
        vec![counter_with("a", "help", &["foo", "bar"], &[(&["bar", "b{a}z"], 1.0)])],
    );
}

// test_empty_help
#[test]
fn empty_help() {
    check("# TYPE a counter\n# HELP a\na 1\n", vec![counter("a", "", 1.0)]);
}

// test_labels_and_infinite
#[test]
fn labels_and_infinite() {
    check(
        "# TYPE a counter\n# HELP a help\na{foo=\"bar\"} +Inf\na{foo=\"baz\"} -Inf\n",
        vec![counter_with(
            "a",
            "help",
            &["foo"],
            &[(&["bar"], f64::INFINITY), (&["baz"], f64::NEG_INFINITY)],
        )],
    );
}

// test_spaces
#[test]
fn spaces() {
    check(
        "# TYPE a counter\n# HELP a help\n\
         a{ foo = \"bar\" } 1\n\
         a\t\t{\t\tfoo\t\t=\t\t\"baz\"\t\t}\t\t2\n\
         a   {    foo   =  \"buz\"   }    3\n\
         a\t {  \t foo\t = \"biz\"\t  } \t 4\n\
         a \t{\t foo   = \"boz\"\t}\t 5\n",
        vec![counter_with(
            "a",
            "help",
            &["foo"],
            &[(&["bar"], 1.0), (&["baz"], 2.0), (&["buz"], 3.0), (&["biz"], 4.0), (&["boz"], 5.0)],
        )],
    );
}

// test_commas
#[test]
fn commas() {
    check(
        "# TYPE a counter\n# HELP a help\na{foo=\"bar\",} 1\na{foo=\"baz\",  } 1\n\
         # TYPE b counter\n# HELP b help\nb{,} 2\n\
         # TYPE c counter\n# HELP c help\nc{  ,} 3\n\
         # TYPE d counter\n# HELP d help\nd{,  } 4\n",
        vec![
            counter_with("a", "help", &["foo"], &[(&["bar"], 1.0), (&["baz"], 1.0)]),
            counter("b", "help", 2.0),
            counter("c", "help", 3.0),
            counter("d", "help", 4.0),
        ],
    );
}

// test_multiple_trailing_commas
#[test]
fn multiple_trailing_commas() {
    let err = parse_text("# TYPE a counter\n# HELP a help\na{foo=\"bar\",, } 1\n").unwrap_err();
    assert_eq!(err.line, 3);
    assert!(matches!(err.kind, ParseErrorKind::InvalidLabels(_)), "{err}");
}

// test_empty_brackets
#[test]
fn empty_brackets() {
    check("# TYPE a counter\n# HELP a help\na{} 1\n", vec![counter("a", "help", 1.0)]);
}

// test_nan
#[test]
fn nan() {
    let families = parse_text("a NaN\n").unwrap();
    assert!(families[0].samples()[0].value.is_nan());
}

// test_empty_label
#[test]
fn empty_label() {
    check(
        "# TYPE a counter\n# HELP a help\na{foo=\"bar\"} 1\na{foo=\"\"} 2\n",
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
            &format!("\n# TYPE a counter\n# HELP a help\na{{foo=\"{escaped}\",bar=\"baz\"}} 1\n"),
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
        ("\\\"", "\\\""),
        ("\\\\\"", "\\\""),
        ("\\\\\\\"", "\\\\\""),
    ] {
        check(
            &format!("\n# TYPE a counter\n# HELP a {escaped}\na{{foo=\"bar\"}} 1\n"),
            vec![counter_with("a", unescaped, &["foo"], &[(&["bar"], 1.0)])],
        );
    }
}

// test_escaping
#[test]
fn escaping() {
    check(
        "# TYPE a counter\n# HELP a he\\n\\\\l\\tp\na{foo=\"b\\\"a\\nr\"} 1\na{foo=\"b\\\\a\\z\"} 2\n",
        vec![counter_with("a", "he\n\\l\\tp", &["foo"], &[(&["b\"a\nr"], 1.0), (&["b\\a\\z"], 2.0)])],
    );
}

// test_timestamps
#[test]
fn timestamps() {
    let mut a = CounterMetricFamily::new("a", "help").unwrap().with_labels(&["foo"]).unwrap();
    a.add_metric(&["bar"], 1.0, None, Some(0.0)).unwrap();
    let mut b = CounterMetricFamily::new("b", "help").unwrap();
    b.add_metric(&[], 2.0, None, Some(1234567.89)).unwrap();
    b.add_metric(&[], 88.0, None, Some(1234566.0)).unwrap();
    check(
        "# TYPE a counter\n# HELP a help\na{foo=\"bar\"} 1\t000\n\
         # TYPE b counter\n# HELP b help\nb 2  1234567890\nb 88   1234566000   \n",
        vec![a.into_family(), b.into_family()],
    );
}

// test_roundtrip: Python asserts generate_latest(parse(text)) == text. promstack writes values as
// the shortest round-trip float, so the two values Python spells in Go's exponent form
// (2.478268416e+09, 1.345758e+06) come out in plain decimal; everything else is byte-identical.
#[test]
fn roundtrip() {
    let python = r#"# HELP go_gc_duration_seconds A summary of the GC invocation durations.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 0.013300656000000001
go_gc_duration_seconds{quantile="0.25"} 0.013638736
go_gc_duration_seconds{quantile="0.5"} 0.013759906
go_gc_duration_seconds{quantile="0.75"} 0.013962066
go_gc_duration_seconds{quantile="1"} 0.021383540000000003
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
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 29323.4
# HELP process_virtual_memory_bytes Virtual memory size in bytes.
# TYPE process_virtual_memory_bytes gauge
process_virtual_memory_bytes 2.478268416e+09
# HELP prometheus_build_info A metric with a constant '1' value labeled by version, revision, and branch from which Prometheus was built.
# TYPE prometheus_build_info gauge
prometheus_build_info{branch="HEAD",revision="ef176e5",version="0.16.0rc1"} 1.0
# HELP prometheus_local_storage_chunk_ops_total The total number of chunk operations by their type.
# TYPE prometheus_local_storage_chunk_ops_total counter
prometheus_local_storage_chunk_ops_total{type="clone"} 28.0
prometheus_local_storage_chunk_ops_total{type="create"} 997844.0
prometheus_local_storage_chunk_ops_total{type="drop"} 1.345758e+06
prometheus_local_storage_chunk_ops_total{type="load"} 1641.0
prometheus_local_storage_chunk_ops_total{type="persist"} 981408.0
prometheus_local_storage_chunk_ops_total{type="pin"} 32662.0
prometheus_local_storage_chunk_ops_total{type="transcode"} 980180.0
prometheus_local_storage_chunk_ops_total{type="unpin"} 32662.0
"#;
    let families = parse_text(python).unwrap();
    let out = encode_text(Vec::new(), &families.as_slice()).unwrap();
    let expected = python.replace("2.478268416e+09", "2478268416.0").replace("1.345758e+06", "1345758.0");
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

// ---- promstack decisions (not in test_parser.py) ----

// Samples of one untyped metric without metadata form one family (0.8.0 makes one per sample),
// also when they come back after another family, with a HELP given late (as expfmt reads it).
#[test]
fn untyped_samples_without_metadata_group() {
    check(
        "a{x=\"1\"} 1\na{x=\"2\"} 2\nb 3\n# HELP a later\na 4\n",
        vec![
            fam(
                "a",
                "later",
                MetricType::Unknown,
                vec![s("", &[("x", "1")], 1.0), s("", &[("x", "2")], 2.0), s("", &[], 4.0)],
            ),
            fam("b", "", MetricType::Unknown, vec![s("", &[], 3.0)]),
        ],
    );
}

// How samples group: a histogram family takes `_bucket/_count/_sum` only, also after another
// family came in between (expfmt; 0.8.0 would make `h_count` a family of its own); anything else
// starts an untyped family; `_total` is added to counter samples and removed from the family name.
#[test]
fn grouping_by_suffix() {
    check(
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_created 5\nh_count 1\n\
         # TYPE c_total counter\nc_total 3\n# TYPE d counter\nd_total 1\n",
        vec![
            fam(
                "h",
                "",
                MetricType::Histogram,
                vec![s("_bucket", &[("le", "+Inf")], 1.0), s("_count", &[], 1.0)],
            ),
            fam("h_created", "", MetricType::Unknown, vec![s("", &[], 5.0)]),
            fam("c", "", MetricType::Counter, vec![s("_total", &[], 3.0)]),
            fam("d", "", MetricType::Counter, vec![s("_total", &[], 1.0)]),
        ],
    );
}

// Windows line ends, surrounding white space and other comments are tolerated.
#[test]
fn crlf_and_whitespace() {
    check("# HELP a  help  text \r\n# TYPE a gauge\r\n  a 1  \r\n# EOF\r\n", {
        vec![GaugeMetricFamily::with_value("a", "help  text", 1.0).unwrap().into_family()]
    });
}

// Each error names its line and problem.
#[test]
fn rejected() {
    type Kind = fn(&ParseErrorKind) -> bool;
    let cases: &[(&str, usize, Kind)] = &[
        ("a{foo=\"bar\",, } 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidLabels(_))),
        ("a{foo=\"bar\" bar=\"x\"} 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidLabels(_))),
        ("a{foo=\"bar} 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidLabels(_))),
        ("a{foo=bar} 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidLabels(_))),
        ("a{foo} 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidLabels(_))),
        ("a{foo=\"bar\"\n", 1, |k| matches!(k, ParseErrorKind::InvalidLabels(_))),
        ("a{,foo=\"bar\"} 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidLabels(_))),
        ("a{1=\"x\"} 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidLabelName(n) if n == "1")),
        ("a{x=\"1\",x=\"2\"} 1\n", 1, |k| matches!(k, ParseErrorKind::DuplicateLabelName(n) if n == "x")),
        ("\n\na\n", 3, |k| matches!(k, ParseErrorKind::MissingValue)),
        ("a{} \n", 1, |k| matches!(k, ParseErrorKind::MissingValue)),
        ("a x\n", 1, |k| matches!(k, ParseErrorKind::InvalidValue(v) if v == "x")),
        ("a{}1x\n", 1, |k| matches!(k, ParseErrorKind::InvalidValue(_))),
        ("a 1 1.5\n", 1, |k| matches!(k, ParseErrorKind::InvalidTimestamp(t) if t == "1.5")),
        ("a 1 2 3\n", 1, |k| matches!(k, ParseErrorKind::TrailingText(t) if t == "3")),
        ("0a 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidMetricName(n) if n == "0a")),
        ("a.b 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidMetricName(_))),
        ("# HELP 0a x\n", 1, |k| matches!(k, ParseErrorKind::InvalidMetricName(_))),
        ("# TYPE a\n", 1, |k| matches!(k, ParseErrorKind::InvalidLine(_))),
        ("# HELP\n", 1, |k| matches!(k, ParseErrorKind::InvalidLine(_))),
        ("# TYPE a info\n", 1, |k| matches!(k, ParseErrorKind::UnknownType(t) if t == "info")),
        ("# TYPE a counter x\n", 1, |k| matches!(k, ParseErrorKind::UnknownType(_))),
        ("# TYPE _total counter\n_total 1\n", 1, |k| matches!(k, ParseErrorKind::InvalidMetricName(_))),
    ];
    for (input, line, kind) in cases {
        let err = parse_text(input).expect_err(input);
        assert_eq!(err.line, *line, "{input:?}: {err}");
        assert!(kind(&err.kind), "{input:?}: {err}");
    }
}

// Issue 10, item 24. promtool's rules (`promtool check metrics`, which uses expfmt's parser): one
// TYPE and one HELP per metric name, anywhere in the input; no TYPE once the name's samples were
// reported. A name that is `x_count`/`x_sum` of a summary or histogram `x`, or `x_bucket` of a
// histogram `x`, counts as `x`, as expfmt resolves it. `parser_peers::promtool_agrees_on_text_metadata`
// checks the same cases against promtool itself.
const METADATA_REJECTED: &[(&str, usize)] = &[
    ("# TYPE a counter\n# TYPE a counter\na 1\n", 2),
    ("# TYPE a gauge\n# TYPE a counter\n", 2),
    ("# HELP a x\n# HELP a y\na 1\n", 2),
    ("# HELP a x\nb 1\n# HELP a y\n", 3),
    ("# HELP a x\n# TYPE a gauge\n# TYPE b gauge\n# TYPE a gauge\n", 4),
    ("# TYPE a gauge\na 1\nb 1\n# TYPE a gauge\n", 4),
    ("a 1\n# TYPE a counter\n", 2),
    ("# HELP a x\na 1\n# TYPE a gauge\n", 3),
    ("a 1\nb 1\n# TYPE a gauge\n", 3),
    ("# TYPE a summary\n# TYPE a_count gauge\n", 2),
    ("# TYPE a summary\na_count 1\n# TYPE a_count gauge\n", 3),
    ("# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\n# TYPE a_sum gauge\n", 3),
    ("# TYPE a summary\n# HELP a x\n# HELP a_count y\n", 3),
];

/// Inputs promtool accepts that look close to the rejected ones.
const METADATA_ACCEPTED: &[&str] = &[
    "# TYPE a counter\na 1\n# HELP a x\n",
    "a 1\n# HELP a x\n",
    "a_count 1\n# TYPE a summary\na_count 2\n",
    "# TYPE a gauge\n# TYPE b gauge\n",
    "a{l=\"1\"}1\n",
    "a{}1\n",
    "a{l=\"1\"}1 5\n",
    "a{l=\"1\"}\t1\n",
];

#[test]
fn metadata_rules_follow_promtool() {
    for (input, line) in METADATA_REJECTED {
        let err = parse_text(input).expect_err(input);
        assert_eq!(err.line, *line, "{input:?}: {err}");
        assert!(
            matches!(
                err.kind,
                ParseErrorKind::DuplicateMetadata { .. } | ParseErrorKind::MetadataAfterSamples(_)
            ),
            "{input:?}: {err}"
        );
    }
    for input in METADATA_ACCEPTED {
        parse_text(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    }
    let err = parse_text("# TYPE a gauge\n# TYPE a counter\n").unwrap_err();
    assert_eq!(err.to_string(), "line 2: more than one TYPE line for metric \"a\"");
    let err = parse_text("a 1\n# TYPE a counter\n").unwrap_err();
    assert_eq!(err.to_string(), "line 2: metadata for metric \"a\" after its samples");
    // A HELP after the samples of the same metric belongs to it, as in expfmt.
    check(
        "a 1\n# HELP a x\na 2\n",
        vec![fam("a", "x", MetricType::Unknown, vec![s("", &[], 1.0), s("", &[], 2.0)])],
    );
}

// Issue 10, item 24: the value may follow the closing brace directly (promtool accepts it; 0.8.0
// fails with "substring not found").
#[test]
fn value_right_after_labels() {
    check("a{l=\"1\"}1\n", vec![fam("a", "", MetricType::Unknown, vec![s("", &[("l", "1")], 1.0)])]);
    check("a{}-1.5\n", vec![fam("a", "", MetricType::Unknown, vec![s("", &[], -1.5)])]);
    check(
        "a{l=\"1\"}1 5\n",
        vec![fam("a", "", MetricType::Unknown, vec![s("", &[("l", "1")], 1.0).with_timestamp(0.005)])],
    );
    let err = parse_text("a{l=\"1\"}x\n").unwrap_err();
    assert!(matches!(&err.kind, ParseErrorKind::InvalidValue(v) if v == "x"), "{err}");
}

/// `name{l0="v0",...,l<n-1>="v<n-1>"} 1`, then `extra` inside the braces.
fn many_labels_line(name: &str, n: usize, extra: &str) -> String {
    let mut line = String::with_capacity(n * 12 + 32);
    line.push_str(name);
    line.push('{');
    for i in 0..n {
        line.push_str(&format!("l{i:05}=\"v\","));
    }
    line.push_str(extra);
    line.push_str("} 1\n");
    line
}

// Issue 10, item 24: duplicate label names are found with a hash set, not by comparing every pair
// (a 430 KB line with 40k labels took 1.5 s). Correctness only here; the time is in the report.
#[test]
fn forty_thousand_labels() {
    let line = many_labels_line("a", 40_000, "z=\"w\"");
    assert!(line.len() > 400_000);
    let families = parse_text(&line).unwrap();
    let labels = &families[0].samples()[0].labels;
    assert_eq!(labels.len(), 40_001);
    assert_eq!(labels[12_345], ("l12345".to_string(), "v".to_string()));
    let err = parse_text(&many_labels_line("a", 40_000, "l39999=\"w\"")).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::DuplicateLabelName("l39999".into()));
}

// Found by the roundtrip fuzz target: samples of a family that come back after another family
// join it (expfmt does the same; promtool accepts the input), instead of making a second family
// of the same name that no encoder can write back.
#[test]
fn interleaved_samples_join_their_family() {
    let input = "# TYPE a gauge\na 1\nb 1\na 2\n# HELP b B.\nb{x=\"y\"} 3\n# HELP a A.\n";
    let families = parse_text(input).unwrap();
    check(
        input,
        vec![
            fam("a", "A.", MetricType::Gauge, vec![s("", &[], 1.0), s("", &[], 2.0)]),
            fam("b", "B.", MetricType::Unknown, vec![s("", &[], 1.0), s("", &[("x", "y")], 3.0)]),
        ],
    );
    let text = String::from_utf8(encode_text(Vec::new(), &families.as_slice()).unwrap()).unwrap();
    assert_eq!(parse_text(&text).unwrap(), families, "{text}");
    // A summary's `_count` after another family still finds its summary.
    let f = parse_text("# TYPE s summary\ns_sum 1\nb 1\ns_count 2\n").unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].samples().iter().map(|x| &*x.suffix).collect::<Vec<_>>(), ["_sum", "_count"]);
}

// A counter `x_total` is reported as `x`; beside a family `x` that would be two families `x`.
#[test]
fn counters_that_end_up_with_one_name_are_refused() {
    let err = parse_text("# TYPE x counter\nx 1\n# TYPE x_total counter\nx_total 2\n").unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::ClashingName { .. }), "{err}");
    assert_eq!(err.line, 3);
    // Found by the roundtrip fuzz target: `# TYPE a counter` then `a_total` made an empty counter
    // `a` (written back as `a_total`) beside an untyped `a_total`. The counter takes the sample.
    check("# TYPE a counter\na_total -1\n", vec![counter("a", "", -1.0)]);
    let err = parse_text("# TYPE a counter\na 1\n# TYPE a_total gauge\na_total 2\n").unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::ClashingName { ref name, .. } if name == "a_total"), "{err}");
    // Also found by the fuzzer: `s_sum` read before `# TYPE s summary` is an untyped family that
    // the summary's own `s_sum` would be written over.
    let err = parse_text("# HELP s S.\ns_sum 1\n# TYPE s summary\ns{quantile=\"0.5\"} 2\n").unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::ClashingName { ref name, .. } if name == "s_sum"), "{err}");
}

// Found by the roundtrip fuzz target: `# HELP x_bucket` of a histogram `x` is `x`'s help (expfmt's
// resolution, which the duplicate-HELP check already used), not a family `x_bucket` of its own.
#[test]
fn metadata_of_a_histogram_suffix_belongs_to_the_histogram() {
    let f = parse_text("# TYPE a histogram\na_count 3\na_sum 2\n# HELP a_bucket 3\n").unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].name(), f[0].help()), ("a", "3"));
}
