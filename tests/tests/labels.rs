//! Labeled metrics of promstack-alloc (`Family`): child lookup by position and by name, the
//! errors, remove/clear, naming (namespace, subsystem, unit) and label-name validation.
//!
//! Cases are ported from Python prometheus_client 0.8.0 `tests/test_core.py`; each test names
//! its Python case. Python cases that cannot apply to Rust, and why:
//! - `TestMetricWrapper.test_labels_on_labels`: a child handle has no `labels`/`get`; a
//!   `compile_fail` doctest on `Family` shows it does not compile.
//! - `test_labels_coerced_to_string`, `test_non_string_labels_raises`: label values are `&str`;
//!   the type system does the coercion/refusal.
//! - `test_count_exceptions_not_observable`, `test_track_in_progress_not_observable`,
//!   `test_timer_not_observable`: a `Family` has no value methods, only its children do, so
//!   updating a labeled parent does not compile.

use promstack_alloc::{Family, Opts, Registry};
use promstack_core::{
    BoundedStr, CounterValue, DescError, LabelError, MetricType, ValueError, DEFAULT_BUCKETS,
};

fn b(s: &str) -> BoundedStr {
    BoundedStr::new(s)
}

/// `registry` with `c_total{l}` and `two_total{a,b}`, as `TestMetricWrapper.setUp`.
fn wrapper_setup() -> (Registry, std::sync::Arc<Family<CounterValue>>, std::sync::Arc<Family<CounterValue>>) {
    let registry = Registry::new();
    let counter = registry.register_owned(Family::counter("c_total", "help", &["l"]).unwrap()).unwrap();
    let two = registry.register_owned(Family::counter("two", "help", &["a", "b"]).unwrap()).unwrap();
    (registry, counter, two)
}

// TestMetricWrapper.test_child
#[test]
fn child() {
    let (registry, counter, two) = wrapper_setup();
    counter.get(["x"]).unwrap().inc();
    assert_eq!(registry.get_sample_value("c_total", &[("l", "x")]), Some(1.0));
    two.get(["x", "y"]).unwrap().inc_by(2.0).unwrap();
    assert_eq!(registry.get_sample_value("two_total", &[("a", "x"), ("b", "y")]), Some(2.0));
}

// TestMetricWrapper.test_remove
#[test]
fn remove() {
    let (registry, counter, _) = wrapper_setup();
    counter.get(["x"]).unwrap().inc();
    counter.get(["y"]).unwrap().inc_by(2.0).unwrap();
    assert_eq!(registry.get_sample_value("c_total", &[("l", "x")]), Some(1.0));
    assert_eq!(registry.get_sample_value("c_total", &[("l", "y")]), Some(2.0));
    assert_eq!(counter.remove(["x"]), Ok(true));
    assert_eq!(registry.get_sample_value("c_total", &[("l", "x")]), None);
    assert_eq!(registry.get_sample_value("c_total", &[("l", "y")]), Some(2.0));
    // Python raises KeyError for an absent child; here it is `Ok(false)`.
    assert_eq!(counter.remove(["x"]), Ok(false));
}

// TestMetricWrapper.test_remove, continued: a removed child starts again from zero, and a
// handle kept across the remove no longer reaches the exposition.
#[test]
fn removed_child_is_recreated_fresh() {
    let (registry, counter, _) = wrapper_setup();
    let old = counter.get(["x"]).unwrap();
    old.inc_by(5.0).unwrap();
    counter.remove(["x"]).unwrap();
    old.inc();
    let new = counter.get(["x"]).unwrap();
    assert!(!new.ptr_eq(&old));
    assert_eq!(registry.get_sample_value("c_total", &[("l", "x")]), Some(0.0));
    assert_eq!(old.get(), 6.0);
}

// TestMetricWrapper.test_incorrect_label_count_raises
#[test]
fn incorrect_label_count() {
    let (_, counter, _) = wrapper_setup();
    let cases: [(&[&str], usize); 2] = [(&[], 0), (&["a", "b"], 2)];
    for (values, got) in cases {
        let want = LabelError::WrongCount { expected: 1, got };
        assert_eq!(counter.with_label_values(values).unwrap_err(), want, "with_label_values {values:?}");
        assert_eq!(counter.remove_label_values(values).unwrap_err(), want, "remove {values:?}");
        assert_eq!(counter.with(values, |_| ()).unwrap_err(), want, "with {values:?}");
    }
    // A typed set of the wrong size is refused the same way (the count is known at run time).
    assert_eq!(counter.get(()).unwrap_err(), LabelError::WrongCount { expected: 1, got: 0 });
    assert_eq!(counter.get(("a", 2u8)).unwrap_err(), LabelError::WrongCount { expected: 1, got: 2 });
    assert_eq!(counter.remove(["a", "b"]).unwrap_err(), LabelError::WrongCount { expected: 1, got: 2 });
    assert_eq!(counter.len(), 0, "refused lookups create nothing");
}

#[test]
fn with_label_values_refuses_a_wrong_count() {
    let (_, counter, _) = wrapper_setup();
    let err = counter.with_label_values(&["a", "b"]).unwrap_err();
    assert!(matches!(err, LabelError::WrongCount { got: 2, .. }), "{err}");
    assert!(err.to_string().contains("wrong number of label values"), "{err}");
}

// TestMetricWrapper.test_namespace_subsystem_concatenated
#[test]
fn namespace_subsystem_concatenated() {
    let registry = Registry::new();
    let c = registry
        .register_owned(Opts::new("c_total", "help").namespace("a").subsystem("b").counter().unwrap())
        .unwrap();
    c.get(()).unwrap().inc();
    assert_eq!(registry.get_sample_value("a_b_c_total", &[]), Some(1.0));
}

// TestMetricWrapper.test_labels_by_kwarg
#[test]
fn labels_by_name() {
    let (registry, counter, two) = wrapper_setup();
    counter.get_by_name(&[("l", "x")]).unwrap().inc();
    assert_eq!(registry.get_sample_value("c_total", &[("l", "x")]), Some(1.0));
    two.get_by_name(&[("a", "x"), ("b", "y")]).unwrap().inc();
    assert_eq!(registry.get_sample_value("two_total", &[("a", "x"), ("b", "y")]), Some(1.0));

    let one_label: [(&[(&str, &str)], LabelError); 3] = [
        (&[("l", "x"), ("m", "y")], LabelError::UnknownName(b("m"))),
        (&[("m", "y")], LabelError::UnknownName(b("m"))),
        (&[], LabelError::MissingName(b("l"))),
    ];
    for (pairs, want) in one_label {
        assert_eq!(counter.get_by_name(pairs).unwrap_err(), want, "c_total {pairs:?}");
    }
    let two_labels: [(&[(&str, &str)], LabelError); 6] = [
        (&[("a", "x"), ("b", "y"), ("c", "z")], LabelError::UnknownName(b("c"))),
        (&[("a", "x"), ("c", "z")], LabelError::UnknownName(b("c"))),
        (&[("b", "y"), ("c", "z")], LabelError::UnknownName(b("c"))),
        (&[("c", "z")], LabelError::UnknownName(b("c"))),
        (&[], LabelError::MissingName(b("a"))),
        (&[("a", "x")], LabelError::MissingName(b("b"))),
    ];
    for (pairs, want) in two_labels {
        assert_eq!(two.get_by_name(pairs).unwrap_err(), want, "two {pairs:?}");
        assert_eq!(two.remove_by_name(pairs).unwrap_err(), want, "two remove {pairs:?}");
    }
    // A name given twice: every name known, none missing, one too many.
    assert_eq!(
        counter.get_by_name(&[("l", "x"), ("l", "y")]).unwrap_err(),
        LabelError::DuplicateName(b("l"))
    );
    // `two_labels.labels({'a': 'x'}, b='y')`: both styles at once.
    assert_eq!(two.labels(&["x"], &[("b", "y")]).unwrap_err(), LabelError::MixedStyles);
    // `two_labels.labels()`: neither.
    assert_eq!(two.labels(&[], &[]).unwrap_err(), LabelError::WrongCount { expected: 2, got: 0 });
    assert!(two.labels(&[], &[("b", "y"), ("a", "x")]).unwrap().ptr_eq(&two.get(["x", "y"]).unwrap()));
    assert!(two.labels(&["x", "y"], &[]).unwrap().ptr_eq(&two.get(["x", "y"]).unwrap()));
    assert_eq!(two.remove_by_name(&[("b", "y"), ("a", "x")]), Ok(true));
}

/// What constructing a family from `Opts` and a type should give.
enum Want {
    Name(&'static str),
    Err(DescError),
}

fn build(opts: Opts<'_>, t: MetricType) -> Result<String, DescError> {
    Ok(match t {
        MetricType::Counter => opts.counter()?.name().to_string(),
        MetricType::Gauge => opts.gauge()?.name().to_string(),
        MetricType::Summary => opts.summary()?.name().to_string(),
        MetricType::Histogram => opts.histogram(DEFAULT_BUCKETS)?.name().to_string(),
        MetricType::Info => opts.info()?.name().to_string(),
        MetricType::StateSet => opts.enumeration(&["a", "b"])?.name().to_string(),
        other => unreachable!("{other:?}"),
    })
}

// TestMetricWrapper.test_invalid_names_raise, test_unit_appended, test_unit_notappended,
// test_no_units_for_info_enum, test_name_cleanup_before_unit_append;
// TestHistogram.test_labels (`le`), TestEnum.test_overlapping_labels.
#[test]
fn names_and_label_names() {
    use MetricType::*;
    let cases: Vec<(Opts<'static>, MetricType, Want)> = vec![
        (Opts::new("", "help"), Counter, Want::Err(DescError::InvalidMetricName(b("")))),
        (Opts::new("^", "help"), Counter, Want::Err(DescError::InvalidMetricName(b("^")))),
        (Opts::new("", "help").namespace("&"), Counter, Want::Err(DescError::InvalidMetricName(b("&_")))),
        (Opts::new("", "help").subsystem("("), Counter, Want::Err(DescError::InvalidMetricName(b("(_")))),
        (
            Opts::new("c_total", "").label_names(&["^"]),
            Counter,
            Want::Err(DescError::InvalidLabelName(b("^"))),
        ),
        (
            Opts::new("c_total", "").label_names(&["a:b"]),
            Counter,
            Want::Err(DescError::InvalidLabelName(b("a:b"))),
        ),
        (
            Opts::new("c_total", "").label_names(&["__reserved"]),
            Counter,
            Want::Err(DescError::ReservedLabelName(b("__reserved"))),
        ),
        (
            Opts::new("c_total", "").label_names(&["quantile"]),
            Summary,
            Want::Err(DescError::ReservedLabelName(b("quantile"))),
        ),
        (
            Opts::new("h", "help").label_names(&["le"]),
            Histogram,
            Want::Err(DescError::ReservedLabelName(b("le"))),
        ),
        (Opts::new("g", "").label_names(&["le", "quantile"]), Gauge, Want::Name("g")),
        (
            Opts::new("c", "").label_names(&["a", "a"]),
            Counter,
            Want::Err(DescError::DuplicateLabelName(b("a"))),
        ),
        (
            Opts::new("e", "help").label_names(&["e"]),
            StateSet,
            Want::Err(DescError::ReservedLabelName(b("e"))),
        ),
        // test_empty_labels_list
        (Opts::new("h", "help").label_names(&[]), Histogram, Want::Name("h")),
        // test_unit_appended / test_unit_notappended
        (Opts::new("h", "help").unit("seconds"), Histogram, Want::Name("h_seconds")),
        (Opts::new("h_seconds", "help").unit("seconds"), Histogram, Want::Name("h_seconds")),
        // A name merely ending in the unit's text still gets `_<unit>`.
        (Opts::new("hseconds", "help").unit("seconds"), Histogram, Want::Name("hseconds_seconds")),
        (
            Opts::new("h", "help").unit("sec-onds"),
            Histogram,
            Want::Err(DescError::InvalidUnit(b("sec-onds"))),
        ),
        // test_no_units_for_info_enum
        (Opts::new("foo", "help").unit("x"), Info, Want::Err(DescError::UnitNotAllowed(b("foo")))),
        (Opts::new("foo", "help").unit("x"), StateSet, Want::Err(DescError::UnitNotAllowed(b("foo")))),
        // test_name_cleanup_before_unit_append: `_total` goes first, then the unit comes back.
        (Opts::new("c_total", "help"), Counter, Want::Name("c")),
        (Opts::new("c_total", "help").unit("total").label_names(&["l"]), Counter, Want::Name("c_total")),
        (Opts::new("requests", "help").unit("total"), Counter, Want::Name("requests_total")),
        (Opts::new("g_total", "help"), Gauge, Want::Name("g_total")),
        (
            Opts::new("b", "help").namespace("a").subsystem("s").unit("bytes"),
            Gauge,
            Want::Name("a_s_b_bytes"),
        ),
    ];
    for (opts, t, want) in cases {
        let got = build(opts, t);
        match want {
            Want::Name(n) => assert_eq!(got.as_deref(), Ok(n), "{opts:?} {t:?}"),
            Want::Err(e) => assert_eq!(got, Err(e), "{opts:?} {t:?}"),
        }
    }
}

// TestHistogram.test_setting_buckets
#[test]
fn setting_buckets() {
    assert_eq!(Family::histogram("h", "help", &[], [0.0, 1.0, 2.0]).unwrap().config(), &[0.0, 1.0, 2.0]);
    assert!(Family::histogram("h", "help", &[], [0.0, 1.0, 2.0, f64::INFINITY]).is_ok());
    let bad: [&[f64]; 3] = [&[], &[f64::INFINITY], &[3.0, 1.0]];
    for bounds in bad {
        let r = match bounds.len() {
            0 => Family::histogram("h", "help", &[], [0.0; 0]).map(|_| ()),
            1 => Family::histogram("h", "help", &[], [bounds[0]]).map(|_| ()),
            _ => Family::histogram("h", "help", &[], [bounds[0], bounds[1]]).map(|_| ()),
        };
        assert!(matches!(r, Err(DescError::InvalidBuckets(_))), "{bounds:?}: {r:?}");
    }
    assert!(matches!(Family::histogram("h", "", &[], [1.0, f64::NAN]), Err(DescError::InvalidBuckets(_))));
}

// TestHistogram.test_labels
#[test]
fn histogram_labels() {
    let registry = Registry::new();
    let hl =
        registry.register_owned(Family::histogram("hl", "help", &["l"], DEFAULT_BUCKETS).unwrap()).unwrap();
    hl.get(["a"]).unwrap().observe(2.0);
    for (le, want) in [("1.0", 0.0), ("2.5", 1.0), ("5.0", 1.0), ("+Inf", 1.0)] {
        assert_eq!(registry.get_sample_value("hl_bucket", &[("le", le), ("l", "a")]), Some(want), "le={le}");
    }
    assert_eq!(registry.get_sample_value("hl_count", &[("l", "a")]), Some(1.0));
    assert_eq!(registry.get_sample_value("hl_sum", &[("l", "a")]), Some(2.0));
}

// TestInfo.test_labels
#[test]
fn info_labels() {
    let registry = Registry::new();
    let il = registry.register_owned(Family::info("il", "help", &["l"]).unwrap()).unwrap();
    assert_eq!(il.get(["a"]).unwrap().set_info(&[("l", "")]), Err(DescError::DuplicateLabelName(b("l"))));
    il.get(["a"]).unwrap().set_info(&[("foo", "bar")]).unwrap();
    assert_eq!(registry.get_sample_value("il_info", &[("l", "a"), ("foo", "bar")]), Some(1.0));
    // Pair names are checked like label names.
    let child = il.get(["a"]).unwrap();
    assert_eq!(child.set_info(&[("__x", "")]), Err(DescError::ReservedLabelName(b("__x"))));
    assert_eq!(child.set_info(&[("x", ""), ("x", "")]), Err(DescError::DuplicateLabelName(b("x"))));
    assert_eq!(child.set_info(&[("1x", "")]), Err(DescError::InvalidLabelName(b("1x"))));
    // A refused update keeps the previous pairs.
    assert_eq!(child.get(), [("foo".to_string(), "bar".to_string())]);
}

// TestEnum.test_labels
#[test]
fn enum_labels() {
    let registry = Registry::new();
    let el = registry
        .register_owned(Family::enumeration("el", "help", &["l"], &["a", "b", "c"]).unwrap())
        .unwrap();
    el.get(["a"]).unwrap().set("c").unwrap();
    for (state, want) in [("a", 0.0), ("b", 0.0), ("c", 1.0)] {
        assert_eq!(registry.get_sample_value("el", &[("l", "a"), ("el", state)]), Some(want), "{state}");
    }
    assert_eq!(el.get(["a"]).unwrap().get(), "c");
    // `self.labels.state('a')` on the parent: a Family has no `set`, so that does not compile.
}

// TestEnum.test_enum: an unknown state is refused; an Enum needs states.
#[test]
fn enum_states() {
    let e = Family::enumeration("e", "help", &[], &["a", "b", "c"]).unwrap();
    let child = e.get(()).unwrap();
    assert_eq!(child.set("d"), Err(ValueError::UnknownState));
    assert_eq!(child.get(), "a");
    assert!(matches!(Family::enumeration("e", "help", &[], &[]), Err(DescError::InvalidStates(_))));
    assert!(matches!(Family::enumeration("e", "help", &[], &["a", "a"]), Err(DescError::InvalidStates(_))));
}

// TestCounter.test_negative_increment_raises, on a child.
#[test]
fn negative_increment_on_child() {
    let c = Family::counter("c", "help", &["l"]).unwrap();
    let child = c.get(["x"]).unwrap();
    assert_eq!(child.inc_by(-1.0), Err(ValueError::NegativeIncrement(-1.0)));
    assert_eq!(child.inc_by(f64::NAN), Err(ValueError::NanIncrement));
    assert_eq!(child.get(), 0.0);
}

// Label values are arbitrary UTF-8, including empty strings and the separator-like bytes a
// naive key encoding would confuse.
#[test]
fn arbitrary_label_values_stay_distinct() {
    let g = Family::gauge("g", "", &["a", "b"]).unwrap();
    let keys: [[&str; 2]; 7] =
        [["", ""], ["", "x"], ["x", ""], ["ab", "c"], ["a", "bc"], ["\u{4500}", "\n\"\\"], ["a\u{0}", "b"]];
    for (i, k) in keys.iter().enumerate() {
        g.get(k).unwrap().set(i as f64);
    }
    assert_eq!(g.len(), keys.len());
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(g.get(k).unwrap().get(), i as f64, "{k:?}");
        assert_eq!(g.get_by_name(&[("b", k[1]), ("a", k[0])]).unwrap().get(), i as f64, "{k:?}");
    }
}

#[test]
fn clear_and_children() {
    let c = Family::counter("c", "", &["l"]).unwrap();
    for v in ["b", "a", "c"] {
        c.get([v]).unwrap().inc();
    }
    let order: Vec<String> = c.children().iter().map(|ch| ch.label_values().collect()).collect();
    assert_eq!(order, ["b", "a", "c"], "creation order");
    c.clear();
    assert!(c.is_empty());
    assert_eq!(c.get(["a"]).unwrap().get(), 0.0);
}

#[test]
fn child_handles_report_their_labels() {
    let c = Family::counter("c", "", &["method", "code"]).unwrap();
    let child = c.get_by_name(&[("code", "200"), ("method", "get")]).unwrap();
    assert_eq!(child.labels().collect::<Vec<_>>(), [("method", "get"), ("code", "200")]);
    assert_eq!(
        format!("{child:?}"),
        r#"OwnedChild { family: "c", labels: {"method": "get", "code": "200"} }"#
    );
}

// Families assembled through the generic constructor get the same checks as the typed ones
// (Metric::check_config): bucket order, Enum states and state label, Info pair names.
#[test]
fn generic_family_constructor_checks_the_config() {
    use promstack_core::{DescError, EnumValue, HistogramValue, InfoPairs, InfoValue};
    let bad_buckets = Family::<HistogramValue<2>>::new(Opts::new("h", ""), [2.0, 1.0]);
    assert!(matches!(bad_buckets, Err(DescError::InvalidBuckets(_))));
    let no_states = Family::<EnumValue>::new(Opts::new("e", ""), &[]);
    assert!(matches!(no_states, Err(DescError::InvalidStates(_))));
    let state_label = Family::<EnumValue>::new(Opts::new("e", "").label_names(&["e"]), &["a"]);
    assert!(matches!(state_label, Err(DescError::ReservedLabelName(n)) if n.as_str() == "e"));
    let pairs = InfoPairs::new(&["version"], &["1"]);
    let overlap = Family::<InfoValue>::new(Opts::new("i", "").label_names(&["version"]), pairs);
    assert!(matches!(overlap, Err(DescError::DuplicateLabelName(n)) if n.as_str() == "version"));
    assert!(Family::<HistogramValue<2>>::new(Opts::new("h", ""), [1.0, 2.0]).is_ok());
}

/// A label name given twice is `DuplicateName` in all three families (core's fixed-capacity
/// one, promstack-alloc's and the multiprocess one), whether another name is then missing or
/// the count is right, and the lookup creates nothing.
#[test]
fn repeated_label_name_is_one_error_in_every_family() {
    use promstack::multiprocess::{Opts as MpOpts, Store};
    use promstack_core::FixedFamily;
    static FIXED: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("dup_fixed", "", ["a", "b"]);
    let heap = Family::counter("dup_heap", "", &["a", "b"]).unwrap();
    let store = Store::memory();
    let mp = store.counter_family(MpOpts::new("dup_mp", "help"), &["a", "b"]).unwrap();
    let cases: [&[(&str, &str)]; 4] = [
        &[("a", "x"), ("a", "y")],             // b missing too
        &[("a", "x"), ("b", "y"), ("a", "z")], // one too many
        &[("b", "y"), ("a", "x"), ("a", "x")], // the same pair twice
        &[("b", "y"), ("b", "y")],
    ];
    for pairs in cases {
        let want = LabelError::DuplicateName(b(pairs
            .iter()
            .find(|(n, _)| pairs.iter().filter(|(m, _)| m == n).count() > 1)
            .unwrap()
            .0));
        assert_eq!(FIXED.get_by_name(pairs).err(), Some(want.clone()), "fixed {pairs:?}");
        assert_eq!(heap.get_by_name(pairs).err(), Some(want.clone()), "alloc {pairs:?}");
        assert_eq!(heap.remove_by_name(pairs).err(), Some(want.clone()), "alloc remove {pairs:?}");
        assert_eq!(mp.get_by_name(pairs).err(), Some(want.clone()), "multiprocess {pairs:?}");
        assert_eq!(promstack_core::check_label_pairs(&["a", "b"], pairs), Err(want));
    }
    assert!(FIXED.is_empty() && heap.is_empty() && mp.is_empty());
    // An unknown name still wins over a repeated one, everywhere.
    let pairs = [("a", "x"), ("a", "y"), ("c", "z")];
    assert_eq!(FIXED.get_by_name(&pairs).err(), Some(LabelError::UnknownName(b("c"))));
    assert_eq!(heap.get_by_name(&pairs).err(), Some(LabelError::UnknownName(b("c"))));
    assert_eq!(mp.get_by_name(&pairs).err(), Some(LabelError::UnknownName(b("c"))));
}
