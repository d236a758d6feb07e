//! Byte-exact exposition of every core metric type in both formats.
//!
//! Vectors are ported from Python prometheus_client 0.8.0 `tests/test_exposition.py`
//! (text 0.0.4) and `tests/openmetrics/test_exposition.py` (OpenMetrics); each test names its
//! Python case. A fixed clock at 123.456 plays the part of the mocked `time.time`.
//! Deliberate differences, asserted here: text 0.0.4 carries `_created` only when asked
//! (`with_created_in_text(true)`), OpenMetrics timestamps are shortest floats, and the
//! OpenMetrics content type is version 1.0.0.
// Written against the default features (f64 values, the OpenMetrics writer).
#![cfg(all(feature = "float", feature = "openmetrics"))]

use promstack_core::*;
use std::sync::Once;

struct Fixed;
impl Clock for Fixed {
    fn unix_time(&self) -> f64 {
        123.456
    }
}

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| install_clock(&Fixed));
}

fn text(c: &dyn Collector) -> String {
    setup();
    let mut enc = Encoder::new(Format::Text, Vec::new()).with_created_in_text(true);
    enc.encode(c).unwrap();
    String::from_utf8(enc.finish().unwrap()).unwrap()
}

fn text_plain(c: &dyn Collector) -> String {
    setup();
    String::from_utf8(encode_text(Vec::new(), c).unwrap()).unwrap()
}

fn om(c: &dyn Collector) -> String {
    setup();
    String::from_utf8(encode_openmetrics(Vec::new(), c).unwrap()).unwrap()
}

// test_exposition.py: test_counter
#[test]
fn text_counter() {
    static C: Counter = Counter::new("cc", "A counter");
    C.inc();
    assert_eq!(
        text(&C),
        "# HELP cc_total A counter\n# TYPE cc_total counter\ncc_total 1.0\n\
         # HELP cc_created A counter\n# TYPE cc_created gauge\ncc_created 123.456\n"
    );
    // Our default: no separate _created family in text 0.0.4.
    assert_eq!(text_plain(&C), "# HELP cc_total A counter\n# TYPE cc_total counter\ncc_total 1.0\n");
}

// test_exposition.py: test_counter_total; openmetrics: test_counter_total
#[test]
fn counter_total_suffix_is_stripped() {
    static C: Counter = Counter::new("cc_total", "A counter");
    C.inc();
    assert_eq!(
        text(&C),
        "# HELP cc_total A counter\n# TYPE cc_total counter\ncc_total 1.0\n\
         # HELP cc_created A counter\n# TYPE cc_created gauge\ncc_created 123.456\n"
    );
    assert_eq!(om(&C), "# HELP cc A counter\n# TYPE cc counter\ncc_total 1.0\ncc_created 123.456\n# EOF\n");
}

// test_exposition.py: test_gauge; openmetrics: test_gauge
#[test]
fn gauge() {
    static G: Gauge = Gauge::new("gg", "A gauge");
    G.set(17.0);
    assert_eq!(text(&G), "# HELP gg A gauge\n# TYPE gg gauge\ngg 17.0\n");
    assert_eq!(om(&G), "# HELP gg A gauge\n# TYPE gg gauge\ngg 17.0\n# EOF\n");
}

// test_exposition.py: test_summary; openmetrics: test_summary
#[test]
fn labeled_summary() {
    static S: FixedFamily<SummaryValue, 2, 4> = FixedFamily::summary("ss", "A summary", ["a", "b"]);
    S.get(["c", "d"]).unwrap().observe(17.0);
    assert_eq!(
        text(&S),
        "# HELP ss A summary\n# TYPE ss summary\nss_count{a=\"c\",b=\"d\"} 1.0\nss_sum{a=\"c\",b=\"d\"} 17.0\n\
         # HELP ss_created A summary\n# TYPE ss_created gauge\nss_created{a=\"c\",b=\"d\"} 123.456\n"
    );
    assert_eq!(
        om(&S),
        "# HELP ss A summary\n# TYPE ss summary\nss_count{a=\"c\",b=\"d\"} 1.0\nss_sum{a=\"c\",b=\"d\"} 17.0\n\
         ss_created{a=\"c\",b=\"d\"} 123.456\n# EOF\n"
    );
}

const HH_BUCKETS: &str = "hh_bucket{le=\"0.005\"} 0.0\nhh_bucket{le=\"0.01\"} 0.0\nhh_bucket{le=\"0.025\"} 0.0\n\
hh_bucket{le=\"0.05\"} 1.0\nhh_bucket{le=\"0.075\"} 1.0\nhh_bucket{le=\"0.1\"} 1.0\nhh_bucket{le=\"0.25\"} 1.0\n\
hh_bucket{le=\"0.5\"} 1.0\nhh_bucket{le=\"0.75\"} 1.0\nhh_bucket{le=\"1.0\"} 1.0\nhh_bucket{le=\"2.5\"} 1.0\n\
hh_bucket{le=\"5.0\"} 1.0\nhh_bucket{le=\"7.5\"} 1.0\nhh_bucket{le=\"10.0\"} 1.0\nhh_bucket{le=\"+Inf\"} 1.0\n\
hh_count 1.0\nhh_sum 0.05\n";

// test_exposition.py: test_histogram; openmetrics: test_histogram
#[test]
fn histogram_default_buckets() {
    static H: Histogram<14> = Histogram::new("hh", "A histogram", DEFAULT_BUCKETS);
    H.observe(0.05);
    assert_eq!(
        text(&H),
        format!(
            "# HELP hh A histogram\n# TYPE hh histogram\n{HH_BUCKETS}\
             # HELP hh_created A histogram\n# TYPE hh_created gauge\nhh_created 123.456\n"
        )
    );
    assert_eq!(
        om(&H),
        format!("# HELP hh A histogram\n# TYPE hh histogram\n{HH_BUCKETS}hh_created 123.456\n# EOF\n")
    );
}

// openmetrics: test_histogram_negative_buckets (no _sum when a bound is negative). Python 0.8.0
// writes `_count` anyway; OpenMetrics 1.0 allows `_count` only with `_sum` (newer Python clients
// reject it), so OpenMetrics drops it too, while text 0.0.4 keeps 0.8.0's `_count`.
#[test]
fn histogram_negative_buckets() {
    static H: Histogram<5> = Histogram::new("hh", "A histogram", [-1.0, -0.5, 0.0, 0.5, 1.0]);
    H.observe(-0.5);
    let buckets = "hh_bucket{le=\"-1.0\"} 0.0\nhh_bucket{le=\"-0.5\"} 1.0\n\
         hh_bucket{le=\"0.0\"} 1.0\nhh_bucket{le=\"0.5\"} 1.0\nhh_bucket{le=\"1.0\"} 1.0\nhh_bucket{le=\"+Inf\"} 1.0\n";
    assert_eq!(
        om(&H),
        format!("# HELP hh A histogram\n# TYPE hh histogram\n{buckets}hh_created 123.456\n# EOF\n")
    );
    assert_eq!(
        text_plain(&H),
        format!("# HELP hh A histogram\n# TYPE hh histogram\n{buckets}hh_count 1.0\n")
    );
}

// OpenMetrics 1.0: a histogram point has `_count` if and only if it has `_sum` (gauge histograms:
// `_gcount` and `_gsum`). Whatever a custom collector reports, the encoder writes only whole
// pairs: a half without the other (same labels, next to it) is left out.
#[test]
fn openmetrics_count_and_sum_come_in_pairs() {
    let (a, b) = (["x"], ["y"]);
    let l = |v| Labels::new(&["l"], v);
    let samples = [
        Sample::new("_count", l(&a), Value::Int(1)),
        Sample::new("_bucket", Labels::new(&["le"], &["+Inf"]), Value::Int(1)),
        Sample::new("_sum", l(&a), Value::Int(2)),
        Sample::new("_sum", l(&b), Value::Int(3)),
        Sample::new("_count", l(&b), Value::Int(4)),
        Sample::new("_count", l(&a), Value::Int(5)),
        Sample::new("_sum", l(&b), Value::Int(6)),
        Sample::new("_count", l(&b), Value::Int(7)),
        Sample::new("_count", l(&a), Value::Int(8)),
    ];
    let c = Custom { desc: Desc::new("hh", "help", MetricType::Histogram), samples: &samples };
    assert_eq!(
        om(&c),
        "# HELP hh help\n# TYPE hh histogram\nhh_bucket{le=\"+Inf\"} 1.0\n\
         hh_sum{l=\"y\"} 3.0\nhh_count{l=\"y\"} 4.0\nhh_sum{l=\"y\"} 6.0\nhh_count{l=\"y\"} 7.0\n# EOF\n"
    );
    // Text 0.0.4 writes what it is given.
    assert_eq!(text_plain(&c).lines().count(), 2 + samples.len());

    let samples = [Sample::new("_gcount", Labels::EMPTY, Value::Int(5))];
    let gh = Custom { desc: Desc::new("gh", "help", MetricType::GaugeHistogram), samples: &samples };
    let g = Custom { desc: Desc::new("g", "help", MetricType::Gauge), samples: &[] };
    assert_eq!(
        om(&[&gh as &dyn Collector, &g]),
        "# HELP gh help\n# TYPE gh gaugehistogram\n# HELP g help\n# TYPE g gauge\n# EOF\n"
    );
    // A half pair pushed straight into the encoder is dropped by `finish`.
    let mut enc = Encoder::new(Format::OpenMetrics, Vec::new());
    enc.family(&gh.desc).unwrap();
    enc.sample(&gh.desc, &samples[0]).unwrap();
    assert_eq!(enc.finish().unwrap(), b"# HELP gh help\n# TYPE gh gaugehistogram\n# EOF\n");

    // A lone half too long to take back out of the line buffer is an error, not a bad exposition.
    let long = "v".repeat(promstack_core::encoding::LINE_BUF);
    let values = [long.as_str()];
    let samples = [Sample::new("_count", l(&values), Value::Int(1))];
    let c = Custom { desc: Desc::new("hh", "help", MetricType::Histogram), samples: &samples };
    let err = encode_openmetrics(Vec::new(), &c).unwrap_err();
    assert!(matches!(err, EncodeError::Collect(CollectError::Failed(_))), "{err:?}");
    // Its pair is fine.
    let samples = [samples[0], Sample::new("_sum", l(&values), Value::Int(1))];
    let c = Custom { desc: Desc::new("hh", "help", MetricType::Histogram), samples: &samples };
    assert_eq!(om(&c).lines().count(), 5);
}

// test_exposition.py: test_info; openmetrics: test_info
#[test]
fn labeled_info() {
    static I: FixedFamily<InfoValue, 2, 2> =
        FixedFamily::info("ii", "A info", ["a", "b"], InfoPairs::new(&["foo"], &["bar"]));
    I.get(["c", "d"]).unwrap();
    assert_eq!(
        text(&I),
        "# HELP ii_info A info\n# TYPE ii_info gauge\nii_info{a=\"c\",b=\"d\",foo=\"bar\"} 1.0\n"
    );
    assert_eq!(om(&I), "# HELP ii A info\n# TYPE ii info\nii_info{a=\"c\",b=\"d\",foo=\"bar\"} 1.0\n# EOF\n");
}

// test_exposition.py: test_enum; openmetrics: test_enum
#[test]
fn labeled_enum() {
    static E: FixedFamily<EnumValue, 2, 2> =
        FixedFamily::enumeration("ee", "An enum", ["a", "b"], &["foo", "bar"]);
    E.get(["c", "d"]).unwrap().set("bar").unwrap();
    let samples = "ee{a=\"c\",b=\"d\",ee=\"foo\"} 0.0\nee{a=\"c\",b=\"d\",ee=\"bar\"} 1.0\n";
    assert_eq!(text(&E), format!("# HELP ee An enum\n# TYPE ee gauge\n{samples}"));
    assert_eq!(om(&E), format!("# HELP ee An enum\n# TYPE ee stateset\n{samples}# EOF\n"));
}

// test_exposition.py: test_unicode
#[test]
fn text_unicode() {
    static G: FixedFamily<GaugeValue, 1, 2> = FixedFamily::gauge("cc", "\u{4500}", ["l"]);
    G.get(["\u{4500}"]).unwrap().inc();
    assert_eq!(text(&G).as_bytes(), b"# HELP cc \xe4\x94\x80\n# TYPE cc gauge\ncc{l=\"\xe4\x94\x80\"} 1.0\n");
}

// openmetrics: test_unicode
#[test]
fn om_unicode() {
    static C: FixedFamily<CounterValue, 1, 2> = FixedFamily::counter("cc", "\u{4500}", ["l"]);
    C.get(["\u{4500}"]).unwrap().inc();
    assert_eq!(
        om(&C).as_bytes(),
        b"# HELP cc \xe4\x94\x80\n# TYPE cc counter\ncc_total{l=\"\xe4\x94\x80\"} 1.0\ncc_created{l=\"\xe4\x94\x80\"} 123.456\n# EOF\n"
    );
}

// test_exposition.py: test_escaping (help escapes \ and newline only)
#[test]
fn text_escaping() {
    static G: FixedFamily<GaugeValue, 1, 2> = FixedFamily::gauge("cc", "A\ngaug\\e", ["a"]);
    G.get(["\\x\n\""]).unwrap().add(1.0);
    assert_eq!(text(&G), "# HELP cc A\\ngaug\\\\e\n# TYPE cc gauge\ncc{a=\"\\\\x\\n\\\"\"} 1.0\n");
}

// openmetrics: test_escaping (help also escapes ")
#[test]
fn om_escaping() {
    static C: FixedFamily<CounterValue, 1, 2> = FixedFamily::counter("cc", "A\ncount\\er\"", ["a"]);
    C.get(["\\x\n\""]).unwrap().inc_by(1.0).unwrap();
    assert_eq!(
        om(&C),
        "# HELP cc A\\ncount\\\\er\\\"\n# TYPE cc counter\ncc_total{a=\"\\\\x\\n\\\"\"} 1.0\n\
         cc_created{a=\"\\\\x\\n\\\"\"} 123.456\n# EOF\n"
    );
}

#[test]
fn om_unit_line_and_static_enum_info() {
    static D: Gauge = Gauge::new("disk_size_bytes", "Disk size.").with_unit("bytes");
    D.set(1e21);
    assert_eq!(
        om(&D),
        "# HELP disk_size_bytes Disk size.\n# TYPE disk_size_bytes gauge\n# UNIT disk_size_bytes bytes\n\
         disk_size_bytes 1e21\n# EOF\n"
    );
    static E: Enum = Enum::new("mode", "Mode.", &["a", "b"]);
    assert_eq!(
        om(&E),
        "# HELP mode Mode.\n# TYPE mode stateset\nmode{mode=\"a\"} 1.0\nmode{mode=\"b\"} 0.0\n# EOF\n"
    );
}

/// A hand-written collector reporting arbitrary samples, like Python's `Metric` + `add_sample`.
struct Custom<'a> {
    desc: Desc<'a>,
    samples: &'a [Sample<'a>],
}

impl Collector for Custom<'_> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.desc)?;
        self.samples.iter().try_for_each(|s| sink.sample(&self.desc, s))
    }
}

fn ts_samples<'a>(labels: &'a [[&'a str; 1]; 3]) -> [Sample<'a>; 3] {
    let n: &'a [&'a str] = &["foo"];
    let mk = |i: usize, ts: f64| Sample {
        timestamp: Some(ts.into()),
        ..Sample::new("", Labels::new(n, &labels[i]), Value::Int(0))
    };
    [mk(0, 123.456), mk(1, -123.456), mk(2, 123.0)]
}

// test_exposition.py: test_timestamp (text writes integer milliseconds)
#[test]
fn text_timestamps() {
    let labels = [["a"], ["b"], ["c"]];
    let samples = ts_samples(&labels);
    let c = Custom { desc: Desc::new("ts", "help", MetricType::Unknown), samples: &samples };
    assert_eq!(
        text(&c),
        "# HELP ts help\n# TYPE ts untyped\nts{foo=\"a\"} 0.0 123456\nts{foo=\"b\"} 0.0 -123456\nts{foo=\"c\"} 0.0 123000\n"
    );
}

// openmetrics: test_timestamp (seconds; our floats are shortest, so Timestamp(123, 456000000)'s
// "123.456000000" is written "123.456")
#[test]
fn om_timestamps() {
    let labels = [["a"], ["b"], ["c"]];
    let samples = ts_samples(&labels);
    let c = Custom { desc: Desc::new("ts", "help", MetricType::Unknown), samples: &samples };
    assert_eq!(
        om(&c),
        "# HELP ts help\n# TYPE ts unknown\nts{foo=\"a\"} 0.0 123.456\nts{foo=\"b\"} 0.0 -123.456\nts{foo=\"c\"} 0.0 123\n# EOF\n"
    );
}

// openmetrics: test_histogram_exemplar
#[test]
fn om_exemplars() {
    let le = ["le"];
    let vals = [["1"], ["2"], ["3"], ["4"], ["+Inf"]];
    let ex = |names: &'static [&'static str], values: &'static [&'static str], v, ts: Option<f64>| {
        Some(Exemplar { labels: Labels::new(names, values), value: v, timestamp: ts.map(f64::into) })
    };
    let mk = |i: usize| Sample::new("_bucket", Labels::new(&le, &vals[i]), Value::Int(0));
    let samples = [
        Sample { exemplar: ex(&["a"], &["b"], 0.5, None), ..mk(0) },
        Sample { exemplar: ex(&["le"], &["7"], 0.5, Some(12.0)), ..mk(1) },
        Sample { timestamp: Some(123.0.into()), exemplar: ex(&["a"], &["b"], 2.5, Some(12.0)), ..mk(2) },
        Sample { exemplar: ex(&["a"], &["\n\"\\"], 3.5, None), ..mk(3) },
        mk(4),
    ];
    let c = Custom { desc: Desc::new("hh", "help", MetricType::Histogram), samples: &samples };
    assert_eq!(
        om(&c),
        "# HELP hh help\n# TYPE hh histogram\nhh_bucket{le=\"1\"} 0.0 # {a=\"b\"} 0.5\n\
         hh_bucket{le=\"2\"} 0.0 # {le=\"7\"} 0.5 12\nhh_bucket{le=\"3\"} 0.0 123 # {a=\"b\"} 2.5 12\n\
         hh_bucket{le=\"4\"} 0.0 # {a=\"\\n\\\"\\\\\"} 3.5\nhh_bucket{le=\"+Inf\"} 0.0\n# EOF\n"
    );
    // Text 0.0.4 has no exemplars: they are dropped, timestamps become milliseconds.
    assert_eq!(
        text(&c),
        "# HELP hh help\n# TYPE hh histogram\nhh_bucket{le=\"1\"} 0.0\nhh_bucket{le=\"2\"} 0.0\n\
         hh_bucket{le=\"3\"} 0.0 123000\nhh_bucket{le=\"4\"} 0.0\nhh_bucket{le=\"+Inf\"} 0.0\n"
    );
}

// openmetrics: test_nonhistogram_exemplar, test_nonhistogram_bucket_exemplar
#[test]
fn misplaced_exemplars_are_errors() {
    let ex = Some(Exemplar { labels: Labels::new(&["a"], &["b"]), value: 0.5, timestamp: None });
    for (t, suffix) in [
        (MetricType::Unknown, "_bucket"),
        (MetricType::Histogram, "_count"),
        (MetricType::Counter, "_created"),
        (MetricType::Gauge, ""),
        (MetricType::Summary, "_count"),
    ] {
        let samples = [Sample { exemplar: ex, ..Sample::new(suffix, Labels::EMPTY, Value::Int(0)) }];
        let c = Custom { desc: Desc::new("hh", "help", t), samples: &samples };
        let err = encode_openmetrics(Vec::new(), &c).unwrap_err();
        assert!(matches!(err, EncodeError::Collect(CollectError::MisplacedExemplar)), "{err:?}");
    }
}

// OpenMetrics 1.0 allows exemplars on counter `_total` samples (issue 10, item 22); text
// 0.0.4 has no exemplar syntax and drops them.
#[test]
fn counter_total_exemplars() {
    let ex =
        Exemplar { labels: Labels::new(&["trace_id"], &["ab\"c"]), value: 2.0, timestamp: Some(12.5.into()) };
    let samples = [
        Sample { exemplar: Some(ex), ..Sample::new("_total", Labels::new(&["a"], &["x"]), Value::Int(3)) },
        Sample {
            exemplar: Some(Exemplar { timestamp: None, labels: Labels::EMPTY, ..ex }),
            timestamp: Some(100.0.into()),
            ..Sample::new("_total", Labels::new(&["a"], &["y"]), Value::Float(1.5))
        },
        Sample::new("_created", Labels::new(&["a"], &["y"]), Value::Float(1.0)),
    ];
    let c = Custom { desc: Desc::new("cc", "help", MetricType::Counter), samples: &samples };
    assert_eq!(
        om(&c),
        "# HELP cc help\n# TYPE cc counter\n\
         cc_total{a=\"x\"} 3.0 # {trace_id=\"ab\\\"c\"} 2.0 12.5\n\
         cc_total{a=\"y\"} 1.5 100 # {} 2.0\n\
         cc_created{a=\"y\"} 1.0\n# EOF\n"
    );
    assert_eq!(
        text_plain(&c),
        "# HELP cc_total help\n# TYPE cc_total counter\ncc_total{a=\"x\"} 3.0\ncc_total{a=\"y\"} 1.5 100000\n"
    );
}

// test_exposition.py: test_gaugehistogram; openmetrics: test_gaugehistogram
#[test]
fn gauge_histogram() {
    let le = ["le"];
    let samples = [
        Sample::new("_bucket", Labels::new(&le, &["1.0"]), Value::Int(4)),
        Sample::new("_bucket", Labels::new(&le, &["+Inf"]), Value::Int(5)),
        Sample::new("_gcount", Labels::EMPTY, Value::Int(5)),
        Sample::new("_gsum", Labels::EMPTY, Value::Float(7.0)),
    ];
    let c = Custom { desc: Desc::new("gh", "help", MetricType::GaugeHistogram), samples: &samples };
    assert_eq!(
        text(&c),
        "# HELP gh help\n# TYPE gh histogram\ngh_bucket{le=\"1.0\"} 4.0\ngh_bucket{le=\"+Inf\"} 5.0\n\
         # HELP gh_gcount help\n# TYPE gh_gcount gauge\ngh_gcount 5.0\n\
         # HELP gh_gsum help\n# TYPE gh_gsum gauge\ngh_gsum 7.0\n"
    );
    assert_eq!(
        om(&c),
        "# HELP gh help\n# TYPE gh gaugehistogram\ngh_bucket{le=\"1.0\"} 4.0\ngh_bucket{le=\"+Inf\"} 5.0\n\
         gh_gcount 5.0\ngh_gsum 7.0\n# EOF\n"
    );
}

#[test]
fn special_values() {
    let samples = [
        Sample::new("", Labels::new(&["v"], &["a"]), Value::Float(f64::INFINITY)),
        Sample::new("", Labels::new(&["v"], &["b"]), Value::Float(f64::NEG_INFINITY)),
        Sample::new("", Labels::new(&["v"], &["c"]), Value::Float(f64::NAN)),
        Sample::new("", Labels::new(&["v"], &["d"]), Value::Float(1e-5)),
        Sample::new("", Labels::new(&["v"], &["e"]), Value::Int(u64::MAX)),
    ];
    let c = Custom { desc: Desc::new("x", "", MetricType::Gauge), samples: &samples };
    assert_eq!(
        text(&c),
        "# HELP x \n# TYPE x gauge\nx{v=\"a\"} +Inf\nx{v=\"b\"} -Inf\nx{v=\"c\"} NaN\nx{v=\"d\"} 0.00001\n\
         x{v=\"e\"} 18446744073709551615.0\n"
    );
}

#[test]
fn labeled_family_without_children_exposes_only_header() {
    static F: FixedFamily<CounterValue, 1, 2> = FixedFamily::counter("empty", "Nothing yet.", ["x"]);
    assert_eq!(text(&F), "# HELP empty_total Nothing yet.\n# TYPE empty_total counter\n");
    assert_eq!(om(&F), "# HELP empty Nothing yet.\n# TYPE empty counter\n# EOF\n");
}

#[test]
fn name_filter_keeps_matching_samples_only() {
    static A: Counter = Counter::new("fa", "A.");
    static H: Histogram<1> = Histogram::new("fh", "H.", [1.0]);
    setup();
    let reg: [&dyn Collector; 2] = [&A, &H];
    let mut enc = Encoder::new(Format::Text, Vec::new());
    let mut names = ["fh_count", "fa_total"];
    enc.encode_filtered(&reg, &NameSet::new(&mut names)).unwrap();
    let out = String::from_utf8(enc.finish().unwrap()).unwrap();
    assert_eq!(
        out,
        "# HELP fa_total A.\n# TYPE fa_total counter\nfa_total 0.0\n# HELP fh H.\n# TYPE fh histogram\nfh_count 0.0\n"
    );
}

#[test]
fn content_types_and_accept() {
    assert_eq!(Format::Text.content_type(), "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(
        Format::OpenMetrics.content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert_eq!(
        Format::from_accept("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
        Format::OpenMetrics
    );
    assert_eq!(Format::from_accept("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), Format::Text);
    assert_eq!(Format::from_accept(""), Format::Text);
}

/// A writer that fails after `room` bytes: the error reaches the caller, not a panic.
#[derive(Debug)]
struct Short {
    room: usize,
}
impl embedded_io::ErrorType for Short {
    type Error = embedded_io::ErrorKind;
}
impl embedded_io::Write for Short {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if self.room == 0 {
            return Err(embedded_io::ErrorKind::OutOfMemory);
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[test]
fn writer_errors_are_returned() {
    static H: Histogram<14> = Histogram::new("werr", "W.", DEFAULT_BUCKETS);
    for room in [0, 5, 40, 200] {
        let err = encode_text(Short { room }, &H).unwrap_err();
        assert!(matches!(err, EncodeError::Write(embedded_io::ErrorKind::OutOfMemory)));
    }
}

// test_exposition.py order: each metric's `_created` family follows that metric, also when the
// metrics come through a registry (Collector::members).
#[test]
fn text_created_families_follow_their_metric_in_registries() {
    static A: Counter = Counter::new("ord_a", "A.");
    static B: Summary = Summary::new("ord_b", "B.");
    static R: StaticRegistry = StaticRegistry::new(&[&A, &B]);
    setup();
    let mut enc = Encoder::new(Format::Text, Vec::new()).with_created_in_text(true);
    enc.encode(&R).unwrap();
    assert_eq!(
        String::from_utf8(enc.finish().unwrap()).unwrap(),
        "# HELP ord_a_total A.\n# TYPE ord_a_total counter\nord_a_total 0.0\n\
         # HELP ord_a_created A.\n# TYPE ord_a_created gauge\nord_a_created 123.456\n\
         # HELP ord_b B.\n# TYPE ord_b summary\nord_b_count 0.0\nord_b_sum 0.0\n\
         # HELP ord_b_created B.\n# TYPE ord_b_created gauge\nord_b_created 123.456\n"
    );
}

// Issue 10, item 15: a `Desc`, suffix or label name made at run time by a custom collector is
// checked by the encoder, which refuses it with an error naming it instead of writing lines the
// name would forge.
#[test]
fn forged_names_are_refused() {
    const FORGED: &str = "x\n# TYPE forged counter\nforged_total 1";
    let good = Desc::new("ok", "help", MetricType::Counter);
    let by_hand = |name, unit| Desc { name, help: "help", unit, metric_type: MetricType::Gauge };
    let ex = |name| Exemplar { labels: Labels::new(name, &["v"]), value: 1.0, timestamp: None };
    let forged_label = [FORGED];
    let cases: [(Desc<'_>, Sample<'_>, DescError); 6] = [
        (
            by_hand(FORGED, ""),
            Sample::new("", Labels::EMPTY, Value::Int(1)),
            DescError::InvalidMetricName(BoundedStr::new(FORGED)),
        ),
        (
            by_hand("", ""),
            Sample::new("", Labels::EMPTY, Value::Int(1)),
            DescError::InvalidMetricName(BoundedStr::new("")),
        ),
        (
            by_hand("g_x", "x\n# forged"),
            Sample::new("", Labels::EMPTY, Value::Int(1)),
            DescError::InvalidUnit(BoundedStr::new("x\n# forged")),
        ),
        (
            good,
            Sample::new("_total 1\n# TYPE", Labels::EMPTY, Value::Int(1)),
            DescError::InvalidMetricName(BoundedStr::new("ok_total 1\n# TYPE")),
        ),
        (
            good,
            Sample::new("_total", Labels::new(&forged_label, &["v"]), Value::Int(1)),
            DescError::InvalidLabelName(BoundedStr::new(FORGED)),
        ),
        (
            good,
            Sample {
                exemplar: Some(ex(&forged_label)),
                ..Sample::new("_total", Labels::EMPTY, Value::Int(1))
            },
            DescError::InvalidLabelName(BoundedStr::new(FORGED)),
        ),
    ];
    for (desc, sample, want) in cases {
        let samples = [Sample::new("_total", Labels::EMPTY, Value::Int(2)), sample];
        // A valid family first, so the refusal is seen mid-exposition.
        let ok = Custom { desc: good, samples: &samples[..1] };
        let bad = Custom { desc, samples: &samples[1..] };
        for format in [Format::Text, Format::OpenMetrics] {
            let mut enc = Encoder::new(format, Vec::new());
            let err = enc.encode(&[&ok as &dyn Collector, &bad]).unwrap_err();
            match &err {
                EncodeError::Desc(e) => assert_eq!(e, &want, "{format:?}"),
                other => panic!("{format:?}: {other:?}"),
            }
            assert!(err.to_string().contains("invalid"), "{err}");
            let out = String::from_utf8(enc.writer_mut().clone()).unwrap();
            assert!(!out.contains("forged"), "{format:?}: {out}");
            assert!(out.contains("ok_total 2.0\n"), "{format:?}: {out}");
        }
    }
    // The label names of a valid exposition, `le` and `quantile` included, pass.
    let samples = [Sample::new(
        "_bucket",
        Labels::new(&["_a", "B9"], &["1", "2"]).with_extra(&["le"], &["+Inf"]),
        Value::Int(1),
    )];
    let c = Custom { desc: Desc::new("h:x", "help", MetricType::Histogram), samples: &samples };
    assert!(om(&c).contains("h:x_bucket{B9=\"2\",_a=\"1\",le=\"+Inf\"} 1.0\n"));
}

/// Counts its collections; reports what `samples` says under `desc`.
struct Counted<'a> {
    inner: Custom<'a>,
    collects: core::sync::atomic::AtomicUsize,
}

impl Collector for Counted<'_> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.collects.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
        self.inner.collect(sink)
    }
}

// Issue 10, item 17: the documented bound on collections per scrape (see `Encoder`): once in
// OpenMetrics; in text 0.0.4 once, plus once per kind of split family the collector reports.
#[test]
fn collections_per_scrape() {
    let counter = [
        Sample::new("_total", Labels::EMPTY, Value::Int(1)),
        Sample::new("_created", Labels::EMPTY, Value::Float(1.0)),
    ];
    let gauge_histogram = [
        Sample::new("_bucket", Labels::new(&["le"], &["+Inf"]), Value::Int(1)),
        Sample::new("_gcount", Labels::EMPTY, Value::Int(1)),
        Sample::new("_gsum", Labels::EMPTY, Value::Int(1)),
    ];
    let counted = |name, t, samples| Counted {
        inner: Custom { desc: Desc::new(name, "help", t), samples },
        collects: Default::default(),
    };
    let c = counted("c", MetricType::Counter, &counter[..]);
    let gh = counted("gh", MetricType::GaugeHistogram, &gauge_histogram[..]);
    let g = counted("g", MetricType::Gauge, &[]);
    // (format, `_created` in text, collections of c, gh and g)
    for (format, created, want) in [
        (Format::OpenMetrics, false, [1, 1, 1]),
        (Format::Text, false, [1, 3, 1]),
        (Format::Text, true, [2, 3, 1]),
    ] {
        for x in [&c, &gh, &g] {
            x.collects.store(0, core::sync::atomic::Ordering::SeqCst);
        }
        let mut enc = Encoder::new(format, Vec::new()).with_created_in_text(created);
        enc.encode(&[&c as &dyn Collector, &gh, &g]).unwrap();
        let got = [&c, &gh, &g].map(|x| x.collects.load(core::sync::atomic::Ordering::SeqCst));
        assert_eq!(got, want, "{format:?} created={created}");
    }
}

/// What an encoder with a line buffer of `N` bytes writes.
fn with_buffer<const N: usize>(c: &dyn Collector, format: Format) -> Vec<u8> {
    setup();
    let mut enc = Encoder::<_, _, N>::with_format(format, Vec::new()).with_created_in_text(true);
    enc.encode(c).unwrap();
    enc.finish().unwrap()
}

/// The encoder writes a common sample line (at most two labels, nothing to escape) in one
/// go, with what a fixed family vouches for (names checked and sorted once, values checked for
/// escaping when stored) not checked again; every other line piece by piece. Both give the same
/// bytes: with no buffer (every line the general way), a buffer shorter than the lines, and
/// the default one; for names given out of order, values that need escaping, non-ASCII values,
/// and histograms (a label and `le`).
#[test]
fn line_fast_path_writes_the_general_paths_bytes() {
    static C: FixedFamily<CounterValue, 2, 8> = FixedFamily::counter("fast_c", "", ["path", "method"]);
    static G: FixedFamily<GaugeValue, 1, 8> = FixedFamily::gauge("fast_g", "", ["a"]);
    static H: FixedFamily<HistogramValue<3>, 1, 8> =
        FixedFamily::histogram("fast_h", "", ["z"], [0.5, 1.0, 5.0]);
    for (i, &v) in
        ["/", "a\"b", "c\\d", "e\nf", "\u{4500}x", "", "0123456789abcdef0123456789abcdef"].iter().enumerate()
    {
        C.get([v, "GET"]).unwrap().inc_by_int(i as u64 + 1);
        G.get([v]).unwrap().set(i as f64 * 1.5 - 2.0);
        H.get([v]).unwrap().observe(i as f64);
    }
    for c in [&C as &dyn Collector, &G, &H] {
        for format in [Format::Text, Format::OpenMetrics] {
            let general = with_buffer::<0>(c, format);
            assert_eq!(with_buffer::<48>(c, format), general, "{format:?}");
            assert_eq!(with_buffer::<{ encoding::LINE_BUF }>(c, format), general, "{format:?}");
            assert_eq!(with_buffer::<4096>(c, format), general, "{format:?}");
        }
    }
    // And the bytes themselves, for the counter: sorted names, escaped values.
    let out = String::from_utf8(with_buffer::<{ encoding::LINE_BUF }>(&C, Format::Text)).unwrap();
    assert!(out.contains("fast_c_total{method=\"GET\",path=\"a\\\"b\"} 2.0\n"), "{out}");
    assert!(out.contains("fast_c_total{method=\"GET\",path=\"e\\nf\"} 4.0\n"), "{out}");
    assert!(out.contains("fast_c_total{method=\"GET\",path=\"\u{4500}x\"} 5.0\n"), "{out}");
}
