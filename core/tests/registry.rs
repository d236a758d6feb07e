//! Static registry: collision detection over every claimed name, run-time registration.
// Written against the default features (f64 values, the OpenMetrics writer).
#![cfg(all(feature = "float", feature = "openmetrics"))]

use promstack_core::*;

static C: Counter = Counter::new("reg_c", "");
static G_TOTAL: Gauge = Gauge::new("reg_c_total", "");
static G_CREATED: Gauge = Gauge::new("reg_c_created", "");
static H: Histogram<1> = Histogram::new("reg_h", "", [1.0]);
static G_BUCKET: Gauge = Gauge::new("reg_h_bucket", "");
static S: Summary = Summary::new("reg_s", "");
static G_S: Gauge = Gauge::new("reg_s", "");
static I: Info = Info::new("reg_i", "", InfoPairs::new(&[], &[]));
static G_INFO: Gauge = Gauge::new("reg_i_info", "");
static FREE: Gauge = Gauge::new("reg_free", "");

fn dup<T: std::fmt::Debug>(r: Result<T, RegistryError>) -> String {
    match r {
        Err(RegistryError::Duplicate(n)) => n.as_str().to_owned(),
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

#[test]
fn collisions_over_claimed_suffixes_are_refused() {
    static R: StaticRegistry<8> = StaticRegistry::new(&[&C, &H, &S, &I]);
    R.check().unwrap();
    assert_eq!(dup(R.register(&G_TOTAL)), "reg_c_total");
    assert_eq!(dup(R.register(&G_CREATED)), "reg_c_created");
    assert_eq!(dup(R.register(&G_BUCKET)), "reg_h_bucket");
    assert_eq!(dup(R.register(&G_S)), "reg_s");
    assert_eq!(dup(R.register(&G_INFO)), "reg_i_info");
    R.register(&FREE).unwrap();
    assert_eq!(dup(R.register(&FREE)), "reg_free");
    R.unregister(&FREE).unwrap();
    assert_eq!(R.unregister(&FREE), Err(RegistryError::NotRegistered));
    R.register(&FREE).unwrap();
}

#[test]
fn check_finds_duplicates_among_compile_time_collectors() {
    static R: StaticRegistry = StaticRegistry::new(&[&C, &G_TOTAL]);
    assert_eq!(dup(R.check()), "reg_c_total");
    static R2: StaticRegistry = StaticRegistry::new(&[&C, &C]);
    assert!(R2.check().is_err());
}

#[test]
fn full_registry_is_an_error() {
    static A: Gauge = Gauge::new("reg_full_a", "");
    static B: Gauge = Gauge::new("reg_full_b", "");
    static R: StaticRegistry<1> = StaticRegistry::new(&[]);
    R.register(&A).unwrap();
    assert_eq!(R.register(&B), Err(RegistryError::Full { capacity: 1 }));
}

#[test]
fn registry_encodes_in_order_and_both_formats() {
    static A: Gauge = Gauge::new("reg_enc_a", "A.");
    static B: Counter = Counter::new("reg_enc_b", "B.");
    static R: StaticRegistry<1> = StaticRegistry::new(&[&A]);
    R.register(&B).unwrap();
    B.inc();
    let text = String::from_utf8(R.encode_text(Vec::new()).unwrap()).unwrap();
    assert_eq!(
        text,
        "# HELP reg_enc_a A.\n# TYPE reg_enc_a gauge\nreg_enc_a 0.0\n# HELP reg_enc_b_total B.\n# TYPE reg_enc_b_total counter\nreg_enc_b_total 1.0\n"
    );
    let om = String::from_utf8(R.encode_openmetrics(Vec::new()).unwrap()).unwrap();
    assert!(om.ends_with("reg_enc_b_total 1.0\n# EOF\n"), "{om}");
}

/// A zero-sized collector reporting one gauge.
struct Zst<const A: bool>;
impl<const A: bool> Collector for Zst<A> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let name = if A { "reg_zst_a" } else { "reg_zst_b" };
        let desc = Desc { name, help: "", unit: "", metric_type: MetricType::Gauge };
        sink.family(&desc)?;
        sink.sample(&desc, &Sample::new("", Labels::EMPTY, Value::Int(1)))
    }
}

/// Two distinct zero-sized collectors share one address: unregistering one by reference is
/// refused as ambiguous instead of removing the other; the id removes exactly one.
#[test]
fn unregister_tells_zero_sized_collectors_apart() {
    static R: StaticRegistry<2> = StaticRegistry::new(&[]);
    let a: &'static Zst<true> = Box::leak(Box::new(Zst));
    let b: &'static Zst<false> = Box::leak(Box::new(Zst));
    assert!(std::ptr::addr_eq(a, b), "zero-sized boxes share the dangling address");
    let id_a = R.register(a).unwrap();
    let id_b = R.register(b).unwrap();
    assert_ne!(id_a, id_b);
    assert_eq!(R.unregister(b), Err(RegistryError::Ambiguous { matches: 2 }));
    let text = |r: &StaticRegistry<2>| String::from_utf8(r.encode_text(Vec::new()).unwrap()).unwrap();
    assert!(text(&R).contains("reg_zst_a 1.0\n") && text(&R).contains("reg_zst_b 1.0\n"), "{}", text(&R));
    R.unregister_id(id_b).unwrap();
    assert!(text(&R).contains("reg_zst_a 1.0\n") && !text(&R).contains("reg_zst_b"), "{}", text(&R));
    assert_eq!(R.unregister_id(id_b), Err(RegistryError::NotRegistered));
    R.unregister(a).unwrap();
    assert_eq!(text(&R), "");
}

#[test]
fn wrapping_errors_name_their_source() {
    use core::error::Error;
    let e = RegistryError::Collect(CollectError::Failed("sensor offline"));
    assert_eq!(e.source().map(|s| s.to_string()), Some("collector failed: sensor offline".to_string()));
    let e: EncodeError<core::fmt::Error> = EncodeError::Collect(CollectError::Sink);
    assert!(e.source().is_some());
    // Every writer error is an error (`embedded_io::Error: core::error::Error`): the source.
    assert!(EncodeError::Write(core::fmt::Error).source().is_some());
}
