//! Error hygiene across the crates: one error for one failure (an invalid name is
//! `EncodeError::Desc` naming it, whichever encoder meets it) and a `source()` on every error
//! that wraps another.

use promstack::protobuf::encode_protobuf;
use promstack_alloc::{IncError, MetricFamily, OwnedSample};
use promstack_core::{encode_openmetrics, encode_text, DescError, EncodeError, MetricType, ValueError};
use std::error::Error;

fn bad_label_family() -> MetricFamily {
    let mut f = MetricFamily::new("requests", "Requests.", MetricType::Gauge).unwrap();
    // `add_sample` checks nothing, as Python's `Metric.add_sample`: the encoders must refuse.
    f.add_sample(OwnedSample::new("", &[("bad-name", "x")], 1.0));
    f
}

fn is_bad_label<E: std::fmt::Debug>(e: &EncodeError<E>) -> bool {
    matches!(e, EncodeError::Desc(DescError::InvalidLabelName(n)) if n.as_str() == "bad-name")
}

#[test]
fn an_invalid_name_is_the_same_error_from_every_encoder() {
    let f = bad_label_family();
    let text = encode_text(Vec::new(), &f).unwrap_err();
    assert!(is_bad_label(&text), "{text:?}");
    let om = encode_openmetrics(Vec::new(), &f).unwrap_err();
    assert!(is_bad_label(&om), "{om:?}");
    let pb = encode_protobuf(&f, &mut Vec::new()).unwrap_err();
    assert!(is_bad_label(&pb), "{pb:?}");
    assert_eq!(pb.to_string(), "invalid label name: \"bad-name\"");

    let bad_family = MetricFamily::new("ok", "", MetricType::Gauge).unwrap();
    // A family name can only be bad when a collector reports one itself.
    struct BadName(MetricFamily);
    impl promstack_core::Collector for BadName {
        fn collect(&self, sink: &mut dyn promstack_core::Sink) -> Result<(), promstack_core::CollectError> {
            let desc = promstack_core::Desc { name: "0bad", ..self.0.desc() };
            sink.family(&desc)
        }
    }
    let e = encode_protobuf(&BadName(bad_family), &mut Vec::new()).unwrap_err();
    assert!(
        matches!(&e, EncodeError::Desc(DescError::InvalidMetricName(n)) if n.as_str() == "0bad"),
        "{e:?}"
    );
}

#[test]
fn every_wrapping_error_has_a_source() {
    let inc = IncError::Value(ValueError::NanIncrement);
    assert_eq!(inc.source().map(|s| s.to_string()), Some(ValueError::NanIncrement.to_string()));
    let write: EncodeError<std::io::Error> = EncodeError::Write(std::io::Error::other("disk gone"));
    assert_eq!(write.source().map(|s| s.to_string()).as_deref(), Some("disk gone"));
    let desc: EncodeError<std::io::Error> =
        EncodeError::Desc(DescError::InvalidUnit(promstack_core::BoundedStr::new("%")));
    assert!(desc.source().is_some());
}
