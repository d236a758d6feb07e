//! Cross-checks of the parsers against real peers: text written by core's encoders for a varied
//! set of families is parsed by Python prometheus_client 0.8.0's two parsers and by
//! `promtool check metrics`; Python's families must equal promstack's.

use promstack_alloc::{
    parse_openmetrics, parse_text, Bucket, CounterMetricFamily, GaugeHistogramMetricFamily,
    GaugeMetricFamily, HistogramMetricFamily, InfoMetricFamily, MetricFamily, OwnedExemplar, OwnedSample,
    StateSetMetricFamily, UnknownMetricFamily,
};
use promstack_core::{Encoder, Format, MetricType, Timestamp};
use promstack_tests::{promtool_check, python, TempDir};
use std::fmt::Write as _;
use std::process::Command;

/// Families covering every type, escapes, unicode, special values, units, timestamps and exemplars.
fn families() -> Vec<MetricFamily> {
    let mut out = Vec::new();

    let mut c = CounterMetricFamily::new("http_requests_total", "Requests served.")
        .unwrap()
        .with_labels(&["method", "path"])
        .unwrap();
    c.add_metric(&["get", "/"], 1027.0, Some(1_600_000_000.25), None).unwrap();
    c.add_metric(&["post", "/a\"b\\c\nd"], 3.0, None, None).unwrap();
    c.add_metric(&["put", "ünï©ødé ✓ 𝄞 {x=\"y\"}, z"], 0.0, None, None).unwrap();
    c.add_metric(&["head", ""], f64::INFINITY, None, None).unwrap();
    out.push(c.into_family());

    let mut c = CounterMetricFamily::new("jobs_done", "Jobs with timestamps.")
        .unwrap()
        .with_labels(&["queue"])
        .unwrap();
    c.add_metric(&["mail"], 7.0, None, Some(1_600_000_000.123)).unwrap();
    c.add_metric(&["sms"], 8.0, None, Some(1_600_000_001.0)).unwrap();
    out.push(c.into_family());

    let mut g =
        GaugeMetricFamily::new("temperature", "Temperatures.\nSecond line with \"quotes\" and \\ back.")
            .unwrap()
            .with_unit("celsius")
            .unwrap()
            .with_labels(&["sensor"])
            .unwrap();
    for (i, v) in
        [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e-7, 1e21, 123456789.125, 0.1 + 0.2, -2.5]
            .into_iter()
            .enumerate()
    {
        g.add_metric(&[&format!("s{i}")], v, None).unwrap();
    }
    out.push(g.into_family());

    let mut s = MetricFamily::new("rpc_duration_seconds", "RPC latency.", MetricType::Summary).unwrap();
    for (q, v) in [("0.5", 0.05), ("0.9", 0.25), ("0.99", 1.5)] {
        s.add_sample(OwnedSample::new("", &[("service", "auth"), ("quantile", q)], v));
    }
    s.add_sample(OwnedSample::new("_count", &[("service", "auth")], 17.0));
    s.add_sample(OwnedSample::new("_sum", &[("service", "auth")], 4.5));
    s.add_sample(OwnedSample::new("_created", &[("service", "auth")], 1_500_000_000.0));
    out.push(s);

    let mut h = HistogramMetricFamily::new("latency_seconds", "Handler latency.")
        .unwrap()
        .with_labels(&["handler"])
        .unwrap();
    let trace = |id: &str, v: f64| OwnedExemplar::new(&[("trace_id", id)], v);
    h.add_metric(
        &["/api"],
        [
            Bucket::new(0.005, 1.0).with_exemplar(trace("abc123", 0.004)),
            Bucket::new(0.5, 4.0),
            Bucket::new(1e6, 5.0).with_exemplar(trace("def", 123.0).with_timestamp(1_600_000_000.5)),
            Bucket::new(f64::INFINITY, 6.0),
        ],
        Some(9.25),
        None,
    )
    .unwrap();
    h.add_metric(&["/neg"], [(-1.0, 1.0), (0.0, 2.0), (f64::INFINITY, 2.0)], Some(1.0), None).unwrap();
    out.push(h.into_family());

    let gh = GaugeHistogramMetricFamily::with_buckets(
        "queue_size",
        "Queue sizes.",
        [(1.0, 4.0), (f64::INFINITY, 5.0)],
        Some(7.0),
    )
    .unwrap();
    out.push(gh.into_family());

    let mut i =
        InfoMetricFamily::new("build", "Build information.").unwrap().with_labels(&["component"]).unwrap();
    i.add_metric(&["server"], &[("version", "1.2.3"), ("revision", "abc")], None).unwrap();
    out.push(i.into_family());

    let st = StateSetMetricFamily::with_value(
        "mode",
        "Operating mode.",
        &[("on", true), ("off", false), ("dim", false)],
    )
    .unwrap();
    out.push(st.into_family());

    out.push(UnknownMetricFamily::with_value("legacy_value", "Imported.", 42.0).unwrap().into_family());
    out.push(GaugeMetricFamily::new("empty_gauge", "Nothing yet.").unwrap().into_family());
    out
}

fn encode(format: Format, created_in_text: bool) -> String {
    let families = families();
    let mut enc = Encoder::new(format, Vec::new()).with_created_in_text(created_in_text);
    enc.encode(&families.as_slice()).unwrap();
    String::from_utf8(enc.finish().unwrap()).unwrap()
}

/// Prints the families parsed by 0.8.0 in the canonical form of `canonical` below.
const PYTHON: &str = r#"
import struct, sys
from decimal import Decimal
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.samples import Timestamp

def h(s):
    return s.encode('utf-8').hex()

def num(v):
    v = float(v)
    if v != v:
        return 'NaN'
    return struct.pack('>d', v).hex()

def ts(t):
    if t is None:
        return '-'
    if isinstance(t, Timestamp):
        # The exact decimal, rounded once (float(Timestamp) adds two rounded floats).
        t = Decimal(t.sec) + Decimal(t.nsec) / Decimal(10 ** 9)
    t = float(t)
    return num(0.0 if t == 0 else t)

def labels(d):
    return ','.join('%s=%s' % (h(k), h(v)) for k, v in sorted(d.items()))

fmt, path = sys.argv[1], sys.argv[2]
text = open(path, 'rb').read().decode('utf-8')
parse = parse_text if fmt == 'text' else parse_om
out = []
for m in parse(text):
    out.append('F %s %s %s %s' % (h(m.name), m.type, h(m.unit), h(m.documentation)))
    for s in m.samples:
        ex = '-'
        if s.exemplar is not None:
            ex = '%s|%s|%s' % (labels(s.exemplar.labels), num(s.exemplar.value), ts(s.exemplar.timestamp))
        out.append('S %s %s %s %s %s' % (h(s.name), labels(s.labels), num(s.value), ts(s.timestamp), ex))
sys.stdout.write('\n'.join(out) + '\n')
"#;

fn hex(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        hex_bytes(&v.to_be_bytes())
    }
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn ts(t: Option<Timestamp>) -> String {
    match t.map(Timestamp::as_secs_f64) {
        None => "-".into(),
        Some(t) => num(if t == 0.0 { 0.0 } else { t }),
    }
}

fn labels(l: &[(String, String)]) -> String {
    let mut l = l.to_vec();
    l.sort();
    l.iter().map(|(k, v)| format!("{}={}", hex(k), hex(v))).collect::<Vec<_>>().join(",")
}

/// The same canonical form as the Python script prints.
fn canonical(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    for f in families {
        let _ = writeln!(
            out,
            "F {} {} {} {}",
            hex(f.name()),
            f.metric_type().as_str(),
            hex(f.unit()),
            hex(f.help())
        );
        for s in f.samples() {
            let ex = match &s.exemplar {
                None => "-".into(),
                Some(e) => format!("{}|{}|{}", labels(&e.labels), num(e.value), ts(e.timestamp)),
            };
            let _ = writeln!(
                out,
                "S {} {} {} {} {}",
                hex(&f.sample_name(s)),
                labels(&s.labels),
                num(s.value),
                ts(s.timestamp),
                ex
            );
        }
    }
    out
}

fn python_canonical(python: &std::path::Path, format: &str, text: &str) -> String {
    let dir = TempDir::new("parser-peers");
    let path = dir.path().join("exposition.txt");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(python).arg("-c").arg(PYTHON).arg(format).arg(&path).output().expect("run python");
    assert!(out.status.success(), "python failed on:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn python_parsers_agree() {
    let Some(python) = python() else { return };
    let cases = [
        ("text", encode(Format::Text, false), parse_text as fn(&str) -> _),
        ("text", encode(Format::Text, true), parse_text),
        ("openmetrics", encode(Format::OpenMetrics, false), parse_openmetrics),
    ];
    for (format, text, parse) in cases {
        let ours = parse(&text).unwrap_or_else(|e| panic!("{format}: {e} in\n{text}"));
        let theirs = python_canonical(&python, format, &text);
        assert!(theirs.lines().count() > 40, "python returned too little:\n{theirs}");
        assert_eq!(canonical(&ours), theirs, "{format} exposition:\n{text}");
    }
}

// OpenMetrics carries everything, so parsing gives back exactly the families encoded, except a
// histogram `_count` without `_sum` (the `/neg` child), which OpenMetrics 1.0 does not allow.
#[test]
fn openmetrics_gives_the_families_back() {
    let text = encode(Format::OpenMetrics, false);
    let want: Vec<MetricFamily> = families()
        .into_iter()
        .map(|f| {
            let mut g =
                MetricFamily::new(f.name(), f.help(), f.metric_type()).unwrap().with_unit(f.unit()).unwrap();
            for s in
                f.samples().iter().filter(|s| !(s.suffix == "_count" && s.label("handler") == Some("/neg")))
            {
                g.add_sample(s.clone());
            }
            g
        })
        .collect();
    assert_eq!(parse_openmetrics(&text).unwrap(), want);
}

#[test]
fn promtool_accepts_the_text() {
    for created in [false, true] {
        let text = encode(Format::Text, created);
        let Some((ok, output)) = promtool_check(&text) else { return };
        assert!(ok, "promtool check metrics failed:\n{output}\non:\n{text}");
    }
}

// Expositions written by Python 0.8.0 itself (its generate_latest, both formats) parse here to the
// same families Python's parsers return.
#[test]
fn python_written_expositions() {
    let Some(python) = python() else { return };
    const WRITE: &str = r#"
import sys, time
time.time = lambda: 1600000000.5
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, Info, Enum, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_om
r = CollectorRegistry()
c = Counter('requests', 'Requests "served".\nTwo lines \\ here.', ['code', 'path'], registry=r)
c.labels('200', '/a"b\\c\nd').inc(3)
c.labels('500', '\u4500').inc()
Gauge('temp_celsius', 'Temperature.', unit='celsius', registry=r).set(-1.5e-7)
Histogram('lat_seconds', 'Latency.', registry=r, buckets=[0.1, 1, 1e6]).observe(0.5)
Summary('size_bytes', 'Sizes.', ['kind'], registry=r).labels('x').observe(1024)
Info('build', 'Build.', registry=r).info({'version': '1.0', 'rev': 'abc'})
Enum('mode', 'Mode.', states=['on', 'off'], registry=r).state('off')
out = generate_latest(r) if sys.argv[1] == 'text' else generate_om(r)
sys.stdout.buffer.write(out)
"#;
    for format in ["text", "openmetrics"] {
        let out = Command::new(&python).arg("-c").arg(WRITE).arg(format).output().expect("run python");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let ours = if format == "text" { parse_text(&text) } else { parse_openmetrics(&text) };
        let ours = ours.unwrap_or_else(|e| panic!("{format}: {e} in\n{text}"));
        assert_eq!(
            canonical(&ours),
            python_canonical(&python, format, &text),
            "{format} exposition:\n{text}"
        );
    }
}

/// `promtool check metrics` fails on a parse error, and also on lint warnings ("no help text"):
/// only the first counts here.
fn promtool_parses(text: &str) -> Option<bool> {
    let (ok, output) = promtool_check(text)?;
    Some(ok || !output.contains("parsing error"))
}

// Issue 10, item 24: the metadata rules of text 0.0.4 and the value right after `}` are promtool's.
#[test]
fn promtool_agrees_on_text_metadata() {
    let rejected = [
        "# TYPE a counter\n# TYPE a counter\na 1\n",
        "# HELP a x\n# HELP a y\na 1\n",
        "# HELP a x\nb 1\n# HELP a y\n",
        "# TYPE a gauge\na 1\nb 1\n# TYPE a gauge\n",
        "a 1\n# TYPE a counter\n",
        "a 1\nb 1\n# TYPE a gauge\n",
        "# TYPE a summary\n# TYPE a_count gauge\n",
        "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\n# TYPE a_sum gauge\n",
        "# TYPE a summary\n# HELP a x\n# HELP a_count y\n",
        "a{l=\"1\",l=\"2\"} 1\n",
    ];
    let accepted = [
        "# TYPE a counter\na 1\n# HELP a x\n",
        "a 1\n# HELP a x\na 2\n",
        "a_count 1\n# TYPE a summary\na_count 2\n",
        "a{l=\"1\"}1\n",
        "a{}1\n",
        "a{l=\"1\"}1 5\n",
    ];
    for input in rejected {
        let Some(parses) = promtool_parses(input) else { return };
        assert!(!parses, "promtool accepts {input:?}");
        assert!(parse_text(input).is_err(), "promstack accepts {input:?}");
    }
    for input in accepted {
        let Some(parses) = promtool_parses(input) else { return };
        assert!(parses, "promtool rejects {input:?}");
        parse_text(input).unwrap_or_else(|e| panic!("promstack rejects {input:?}: {e}"));
    }
}
