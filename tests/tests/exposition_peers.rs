//! The encoders' output checked by real peers for the cases issue 10 found: histograms whose
//! `_count` has no `_sum` (a negative bound), and exemplars on counter `_total` samples.
//!
//! OpenMetrics goes to the newest Python client's parser (prometheus_client 0.26, stricter than
//! 0.8.0: `_count` only with `_sum`); text 0.0.4 to promtool and Python 0.8.0's parser.

use promstack_alloc::{
    Bucket, CounterMetricFamily, CustomCollector, GaugeHistogramMetricFamily, HistogramMetricFamily,
    MetricFamily, OwnedExemplar, Registry,
};
use promstack_core::{Format, Histogram};
use promstack_tests::{promtool_check, python, python_latest, TempDir};
use std::process::Command;

static NEGATIVE: Histogram<3> = Histogram::new("temperature_celsius", "Temperatures.", [-10.0, 0.0, 10.0]);

/// A registry with every family that once made `_count` without `_sum`, and counter exemplars.
fn registry() -> Registry {
    static OBSERVED: std::sync::Once = std::sync::Once::new();
    OBSERVED.call_once(|| {
        NEGATIVE.observe(-3.0);
        NEGATIVE.observe(12.0);
    });
    let r = Registry::new();
    r.register_static(&NEGATIVE).unwrap();

    let mut h =
        HistogramMetricFamily::new("latency_seconds", "Latency.").unwrap().with_labels(&["h"]).unwrap();
    let ex = |v| OwnedExemplar::new(&[("trace_id", "abc")], v);
    h.add_metric(
        &["sum"],
        [Bucket::new(0.5, 1.0).with_exemplar(ex(0.25)), Bucket::new(f64::INFINITY, 2.0)],
        Some(3.0),
        None,
    )
    .unwrap();
    h.add_metric(&["nosum"], [(0.5, 1.0), (f64::INFINITY, 2.0)], None, None).unwrap();
    h.add_metric(&["negative"], [(-0.5, 1.0), (f64::INFINITY, 2.0)], Some(-1.0), None).unwrap();
    let gh = GaugeHistogramMetricFamily::with_buckets(
        "queue_size",
        "Queued.",
        [(1.0, 4.0), (f64::INFINITY, 5.0)],
        None,
    )
    .unwrap();
    let mut c = CounterMetricFamily::new("jobs", "Jobs.").unwrap().with_labels(&["queue"]).unwrap();
    c.add_metric_with_exemplar(
        &["a"],
        3.0,
        Some(1_600_000_000.0),
        None,
        Some(ex(1.0).with_timestamp(1_600_000_000.5)),
    )
    .unwrap();
    c.add_metric_with_exemplar(&["b"], 4.0, None, Some(1_600_000_001.0), Some(ex(2.0))).unwrap();
    let families: Vec<MetricFamily> = vec![h.into(), gh.into(), c.into()];
    r.register_owned(CustomCollector::new(move || Ok(families.clone()))).unwrap();
    r
}

fn encode(format: Format) -> String {
    String::from_utf8(registry().encode(format, Vec::new()).unwrap()).unwrap()
}

/// Runs `script` on `text` (a file named by `sys.argv[1]`) with `python`; its stdout.
fn run_python(python: &std::path::Path, script: &str, text: &str) -> String {
    let dir = TempDir::new("exposition-peers");
    let path = dir.path().join("exposition.txt");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(python).arg("-c").arg(script).arg(&path).output().expect("run python");
    assert!(out.status.success(), "python rejected:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Prints `name value [exemplar]` per sample the parser returns.
const PARSE: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse
for f in parse(open(sys.argv[1]).read()):
    for s in f.samples:
        ex = "" if s.exemplar is None else " # %s %r" % (sorted(s.exemplar.labels.items()), s.exemplar.value)
        print("%s%s %r%s" % (s.name, sorted(s.labels.items()), s.value, ex))
"#;

#[test]
fn newest_python_parses_our_openmetrics() {
    let Some(latest) = python_latest() else { return };
    let text = encode(Format::OpenMetrics);
    let out = run_python(&latest, PARSE, &text);
    let has = |line: &str| out.lines().any(|l| l == line);
    // Whole pairs only: the summed child keeps both, the others keep neither.
    assert!(has("latency_seconds_count[('h', 'sum')] 2.0"), "{out}");
    assert!(has("latency_seconds_sum[('h', 'sum')] 3.0"), "{out}");
    assert!(!out.contains("_count[('h', 'nosum')]") && !out.contains("_count[('h', 'negative')]"), "{out}");
    assert!(!out.contains("temperature_celsius_count") && !out.contains("queue_size_gcount"), "{out}");
    assert!(has("temperature_celsius_bucket[('le', '+Inf')] 2.0"), "{out}");
    // Exemplars on counter totals arrive.
    assert!(has("jobs_total[('queue', 'a')] 3.0 # [('trace_id', 'abc')] 1.0"), "{out}");
    assert!(has("jobs_total[('queue', 'b')] 4.0 # [('trace_id', 'abc')] 2.0"), "{out}");
    // 0.8.0's parser too.
    if let Some(old) = python() {
        assert_eq!(run_python(&old, PARSE, &text).lines().count(), out.lines().count(), "{text}");
    }
}

// Text 0.0.4 keeps 0.8.0's output (`_count` without `_sum` for a negative bound, as Python writes
// it), which promtool and Python 0.8.0 accept.
#[test]
fn text_keeps_python_080_counts() {
    let text = encode(Format::Text);
    assert!(
        text.contains("temperature_celsius_count 2.0\n") && !text.contains("temperature_celsius_sum"),
        "{text}"
    );
    // A custom family's child with a negative bound carries neither half (the typed families
    // add `_count` and `_sum` together, as Python 0.26 does), in every format.
    assert!(!text.contains("latency_seconds_count{h=\"negative\"}"), "{text}");
    if let Some((ok, output)) = promtool_check(&text) {
        assert!(ok, "promtool check metrics failed:\n{output}\non:\n{text}");
    }
    const PARSE_TEXT: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families as parse
print(sum(len(f.samples) for f in parse(open(sys.argv[1]).read())))
"#;
    if let Some(old) = python() {
        let n: usize = run_python(&old, PARSE_TEXT, &text).trim().parse().unwrap();
        assert_eq!(n, text.lines().filter(|l| !l.starts_with('#')).count(), "{text}");
    }
}
