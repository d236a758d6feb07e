//! The samples each typed constructor produces, compared with what Python 0.8.0's
//! `metrics_core.py` produces for the same call. Encoding and registry cases live in
//! `tests/tests/roundtrip_families.rs`.

use super::*;
use alloc::string::ToString;
use alloc::vec;

fn s(suffix: &'static str, labels: &[(&str, &str)], value: f64) -> OwnedSample {
    OwnedSample::new(suffix, labels, value)
}

#[test]
fn counter_samples() {
    // CounterMetricFamily('c_total', 'h', labels=['a']).add_metric(['x'], 2, created=5, timestamp=7)
    let mut c = CounterMetricFamily::new("c_total", "h").unwrap().with_labels(&["a"]).unwrap();
    c.add_metric(&["x"], 2.0, Some(5.0), Some(7.0)).unwrap();
    let f = c.into_family();
    assert_eq!((f.name(), f.metric_type()), ("c", MetricType::Counter));
    assert_eq!(
        f.samples(),
        [
            s("_total", &[("a", "x")], 2.0).with_timestamp(7.0),
            s("_created", &[("a", "x")], 5.0).with_timestamp(7.0)
        ]
    );
}

#[test]
fn histogram_samples() {
    // HistogramMetricFamily('h', 'h', buckets=[(0.5, 1), (+Inf, 3)], sum_value=9)
    let h =
        HistogramMetricFamily::with_buckets("h", "h", [(0.5, 1.0), (f64::INFINITY, 3.0)], Some(9.0)).unwrap();
    assert_eq!(
        h.family().samples(),
        [
            s("_bucket", &[("le", "0.5")], 1.0),
            s("_bucket", &[("le", "+Inf")], 3.0),
            s("_count", &[], 3.0),
            s("_sum", &[], 9.0),
        ]
    );
    // No _sum when a bucket bound is negative, and so no _count (OpenMetrics: both or neither).
    let h = HistogramMetricFamily::with_buckets("h", "h", [(-1.0, 1.0), (f64::INFINITY, 3.0)], Some(9.0))
        .unwrap();
    assert_eq!(h.family().samples().last(), Some(&s("_bucket", &[("le", "+Inf")], 3.0)));
    let h = HistogramMetricFamily::with_buckets("h", "h", [(f64::INFINITY, 3.0)], None).unwrap();
    assert_eq!(h.family().samples(), [s("_bucket", &[("le", "+Inf")], 3.0)]);
    // `le` is spelled as floatToGoString does.
    let h = HistogramMetricFamily::with_buckets("h", "h", [(1e6, 1.0), (f64::INFINITY, 3.0)], None).unwrap();
    assert_eq!(h.family().samples()[0].label("le"), Some("1e+06"));
}

#[test]
fn gauge_histogram_samples() {
    let mut g = GaugeHistogramMetricFamily::new("g", "h").unwrap().with_labels(&["a"]).unwrap();
    g.add_metric(&["b"], [(1.0, 4.0), (f64::INFINITY, 5.0)], Some(7.0), None).unwrap();
    assert_eq!(
        g.family().samples(),
        [
            s("_bucket", &[("a", "b"), ("le", "1.0")], 4.0),
            s("_bucket", &[("a", "b"), ("le", "+Inf")], 5.0),
            s("_gcount", &[("a", "b")], 5.0),
            s("_gsum", &[("a", "b")], 7.0),
        ]
    );
    g.add_metric(&["c"], [(f64::INFINITY, 1.0)], None, None).unwrap();
    assert_eq!(g.family().samples().last(), Some(&s("_bucket", &[("a", "c"), ("le", "+Inf")], 1.0)));
}

#[test]
fn info_and_stateset_samples() {
    let mut i = InfoMetricFamily::new("i", "h").unwrap().with_labels(&["a"]).unwrap();
    i.add_metric(&["b"], &[("c", "d")], None).unwrap();
    assert_eq!(i.family().samples(), [s("_info", &[("a", "b"), ("c", "d")], 1.0)]);
    let mut st = StateSetMetricFamily::new("s", "h").unwrap().with_labels(&["foo"]).unwrap();
    st.add_metric(&["bar"], &[("b", false), ("a", true)], None).unwrap();
    assert_eq!(
        st.family().samples(),
        [s("", &[("foo", "bar"), ("s", "a")], 1.0), s("", &[("foo", "bar"), ("s", "b")], 0.0)]
    );
}

#[test]
fn errors() {
    let e = |r: Result<(), FamilyError>| r.unwrap_err();
    assert!(matches!(MetricFamily::new("0a", "", MetricType::Gauge), Err(FamilyError::Desc(_))));
    assert!(matches!(
        e(GaugeMetricFamily::new("g", "").and_then(|g| g.with_labels(&["__x"])).map(drop)),
        FamilyError::Desc(_)
    ));
    assert!(matches!(
        e(HistogramMetricFamily::new("h", "").and_then(|g| g.with_labels(&["le"])).map(drop)),
        FamilyError::Desc(_)
    ));
    let bad = |b: &[(f64, f64)]| e(HistogramMetricFamily::with_buckets("h", "", b.to_vec(), None).map(drop));
    assert!(matches!(bad(&[]), FamilyError::InvalidBuckets { .. }));
    assert!(matches!(
        bad(&[(1.0, 1.0)]),
        FamilyError::InvalidBuckets { reason: "the last bucket must be +Inf", .. }
    ));
    assert!(matches!(
        bad(&[(2.0, 1.0), (1.0, 1.0), (f64::INFINITY, 1.0)]),
        FamilyError::InvalidBuckets { .. }
    ));
    assert!(matches!(bad(&[(f64::NAN, 1.0), (f64::INFINITY, 1.0)]), FamilyError::InvalidBuckets { .. }));
    let mut i = InfoMetricFamily::new("i", "").unwrap().with_labels(&["a"]).unwrap();
    let err = i.add_metric(&["x"], &[("a", "y")], None).unwrap_err();
    assert_eq!(err, FamilyError::LabelOverlap { family: "i".into(), label: "a".into() });
    assert_eq!(err.to_string(), "label \"a\" of family \"i\" is given twice");
    assert!(matches!(StateSetMetricFamily::new("a:b", ""), Err(FamilyError::Desc(_))));
    assert!(matches!(
        e(StateSetMetricFamily::new("s", "").and_then(|s| s.with_labels(&["s"])).map(drop)),
        FamilyError::LabelOverlap { .. }
    ));
    assert!(matches!(
        e(StateSetMetricFamily::with_value("s", "", &[("a", true), ("a", false)]).map(drop)),
        FamilyError::DuplicateState { .. }
    ));
    assert!(matches!(
        e(InfoMetricFamily::new("i", "").and_then(|i| i.family().clone().with_unit("u")).map(drop)),
        FamilyError::Desc(_)
    ));
}

#[test]
fn units() {
    let g = GaugeMetricFamily::new("size", "").unwrap().with_unit("bytes").unwrap();
    assert_eq!((g.family().name(), g.family().unit()), ("size_bytes", "bytes"));
    let g = GaugeMetricFamily::new("size_bytes", "").unwrap().with_unit("bytes").unwrap();
    assert_eq!(g.family().name(), "size_bytes");
    // As 0.8.0: the counter's `_total` goes first, then the unit is appended.
    let c = CounterMetricFamily::new("c_total", "").unwrap().with_unit("seconds").unwrap();
    assert_eq!(c.family().name(), "c_seconds");
    assert!(GaugeMetricFamily::new("g", "").unwrap().with_unit("a-b").is_err());
}

#[test]
fn equality_ignores_label_order_and_matches_nan() {
    let a = s("", &[("x", "1"), ("y", "2")], f64::NAN);
    assert_eq!(a, s("", &[("y", "2"), ("x", "1")], f64::NAN));
    assert_ne!(a, s("", &[("y", "2"), ("x", "1"), ("z", "3")], f64::NAN));
    assert_ne!(a, s("", &[("x", "1"), ("y", "2")], 1.0));
    assert_ne!(a, s("", &[("x", "1"), ("y", "2")], f64::NAN).with_timestamp(1.0));
    let mut f = MetricFamily::new("f", "", MetricType::Gauge).unwrap();
    f.add_sample(a.clone());
    assert_eq!(f.get_sample_value("f", &[("y", "2"), ("x", "1")]).map(f64::is_nan), Some(true));
    assert_eq!(f.get_sample_value("f", &[("x", "1")]), None);
    assert_eq!(f.sample_name(&vec![a][0]), "f");
}
