//! Every error path of fixed-capacity labeled metrics: each is a typed error, counted, and
//! leaves existing series untouched.
// Written against the default features (f64 values, the OpenMetrics writer).
#![cfg(all(feature = "float", feature = "openmetrics"))]

use promstack_core::*;

fn text(c: &dyn Collector) -> String {
    String::from_utf8(encode_text(Vec::new(), c).unwrap()).unwrap()
}

#[test]
fn wrong_label_count() {
    static F: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("lab_count", "", ["a", "b"]);
    F.get(["x", "y"]).unwrap().inc();
    let before = text(&F);
    let global = LABEL_REJECTIONS.get();
    assert_eq!(F.with_label_values(&["x"]).err(), Some(LabelError::WrongCount { expected: 2, got: 1 }));
    assert_eq!(
        F.with_label_values(&["x", "y", "z"]).err(),
        Some(LabelError::WrongCount { expected: 2, got: 3 })
    );
    assert_eq!(F.rejected(), 2);
    assert!(LABEL_REJECTIONS.get() >= global + 2.0);
    assert_eq!(text(&F), before);
}

#[test]
fn value_too_long() {
    static F: FixedFamily<GaugeValue, 1, 4, 8> = FixedFamily::gauge("lab_long", "", ["a"]);
    F.get(["12345678"]).unwrap().set(1.0);
    let err = F.get(["123456789"]).err().unwrap();
    assert_eq!(err, LabelError::ValueTooLong { index: 0, len: 9, max: 8 });
    assert_eq!(err.to_string(), "label value 0 is 9 bytes long, more than the 8 bytes a slot holds");
    assert_eq!(text(&F), "# HELP lab_long \n# TYPE lab_long gauge\nlab_long{a=\"12345678\"} 1.0\n");
}

#[test]
fn full_table_keeps_existing_series() {
    static F: FixedFamily<CounterValue, 1, 3> = FixedFamily::counter("lab_full", "", ["a"]);
    for k in ["x", "y", "z"] {
        F.get([k]).unwrap().inc();
    }
    let before = text(&F);
    assert_eq!(F.get(["w"]).err(), Some(LabelError::TableFull { capacity: 3 }));
    assert_eq!(F.rejected(), 1);
    assert_eq!(text(&F), before);
    // Existing children are still found and counted.
    F.get(["y"]).unwrap().inc();
    assert_eq!(F.get(["y"]).unwrap().get(), 2.0);
    // Removing one makes room.
    assert!(F.remove(["x"]));
    assert!(!F.remove(["x"]));
    F.get(["w"]).unwrap().inc();
    assert_eq!(F.len(), 3);
}

#[test]
fn by_name_lookup_and_its_errors() {
    static F: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("lab_names", "", ["method", "code"]);
    F.get_by_name(&[("code", "200"), ("method", "get")]).unwrap().inc();
    assert_eq!(F.get(["get", "200"]).unwrap().get(), 1.0);
    assert!(matches!(
        F.get_by_name(&[("code", "200"), ("verb", "get")]),
        Err(LabelError::UnknownName(n)) if n.as_str() == "verb"
    ));
    assert!(matches!(
        F.get_by_name(&[("code", "200")]),
        Err(LabelError::MissingName(n)) if n.as_str() == "method"
    ));
    assert_eq!(F.rejected(), 2);
}

#[test]
fn stale_handles_do_not_write_into_reused_slots() {
    static F: FixedFamily<CounterValue, 1, 1> = FixedFamily::counter("lab_stale", "", ["a"]);
    let old = F.get(["first"]).unwrap();
    old.inc();
    assert!(F.remove(["first"]));
    assert!(!old.is_live());
    let new = F.get(["second"]).unwrap();
    old.inc();
    old.inc_by(5.0).unwrap();
    assert_eq!(new.get(), 0.0, "the removed child's handle must not count into the new one");
    new.inc();
    assert_eq!(
        text(&F),
        "# HELP lab_stale_total \n# TYPE lab_stale_total counter\nlab_stale_total{a=\"second\"} 1.0\n"
    );
}

#[test]
fn clear_removes_everything_and_reclaim_starts_at_zero() {
    static F: FixedFamily<HistogramValue<2>, 1, 4> =
        FixedFamily::histogram("lab_clear", "", ["a"], [1.0, 2.0]);
    F.get(["x"]).unwrap().observe(1.5);
    F.get(["y"]).unwrap().observe(0.5);
    F.clear();
    assert!(F.is_empty());
    assert_eq!(text(&F), "# HELP lab_clear \n# TYPE lab_clear histogram\n");
    F.get(["x"]).unwrap().observe(3.0);
    assert_eq!(F.get(["x"]).unwrap().value().count(), 1);
}

#[test]
fn negative_and_nan_increments_are_refused_and_change_nothing() {
    static C: Counter = Counter::new("lab_neg", "");
    C.inc_by(2.5).unwrap();
    assert_eq!(C.inc_by(-1.0), Err(ValueError::NegativeIncrement(-1.0)));
    assert_eq!(C.inc_by(f64::NAN), Err(ValueError::NanIncrement));
    assert_eq!(C.get(), 2.5);
    static F: FixedFamily<CounterValue, 1, 2> = FixedFamily::counter("lab_neg_f", "", ["a"]);
    let c = F.get(["x"]).unwrap();
    assert!(c.inc_by(-0.1).is_err());
    assert_eq!(c.get(), 0.0);
}

#[test]
fn enum_unknown_state_is_refused() {
    static E: FixedFamily<EnumValue, 1, 2> = FixedFamily::enumeration("lab_enum", "", ["a"], &["on", "off"]);
    let c = E.get(["x"]).unwrap();
    assert_eq!(c.get(), "on");
    assert_eq!(c.set("maybe"), Err(ValueError::UnknownState));
    c.set("off").unwrap();
    assert_eq!(c.get(), "off");
}

#[test]
fn run_time_name_checks_mirror_the_const_ones() {
    assert!(matches!(Counter::try_new("0x", ""), Err(DescError::InvalidMetricName(_))));
    assert!(matches!(Histogram::try_new("h", "", [2.0, 1.0]), Err(DescError::InvalidBuckets(_))));
    assert!(matches!(Enum::try_new("e", "", &[]), Err(DescError::InvalidStates(_))));
    assert!(matches!(
        check_label_names(&["le"], MetricType::Histogram),
        Err(DescError::ReservedLabelName(_))
    ));
    assert_eq!(
        check_label_names(&["ok", "__bad"], MetricType::Counter).unwrap_err().to_string(),
        "reserved label name: \"__bad\""
    );
}

#[test]
fn typed_sets_name_the_same_child_as_strings() {
    static F: FixedFamily<CounterValue, 3, 8> = FixedFamily::counter("lab_typed", "", ["core", "up", "irq"]);
    F.get((1u8, true, -17i32)).unwrap().inc();
    F.get(["1", "true", "-17"]).unwrap().inc();
    let owned = [String::from("1"), String::from("true"), String::from("-17")];
    F.get(owned.each_ref().map(String::as_str)).unwrap().inc();
    assert_eq!(F.with_label_values(&["1", "true", "-17"]).unwrap().get(), 3.0);
    assert_eq!(F.len(), 1);
    assert!(F.remove((1u8, true, -17i32)));
    assert!(F.is_empty());
    assert!(!F.remove_label_values(&["1", "true"]), "a wrong count removes nothing");
}

#[test]
fn a_curried_family_fills_in_the_prefix() {
    static F: FixedFamily<CounterValue, 3, 8> =
        FixedFamily::counter("lab_curried", "", ["method", "path", "code"]);
    let get = F.curry(["GET"]);
    get.get(("/", 200u16)).unwrap().inc();
    get.clone().get(["/", "200"]).unwrap().inc();
    F.curry(("GET", "/")).get([200u16]).unwrap().inc();
    F.curry(["GET", "/", "200"]).get(()).unwrap().inc();
    assert_eq!(get.with_label_values(&["/", "200"]).unwrap().get(), 4.0);
    assert_eq!(F.len(), 1);
    assert_eq!(text(&F), "# HELP lab_curried_total \n# TYPE lab_curried_total counter\nlab_curried_total{code=\"200\",method=\"GET\",path=\"/\"} 4.0\n");
    let rejected = F.rejected();
    assert_eq!(get.with_label_values(&["/"]).err(), Some(LabelError::WrongCount { expected: 3, got: 2 }));
    assert_eq!(
        get.with_label_values(&["/", "200", "x"]).err(),
        Some(LabelError::WrongCount { expected: 3, got: 4 })
    );
    assert_eq!(F.rejected(), rejected + 2);
}
