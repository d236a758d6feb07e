//! Parse -> encode -> parse, in both formats: whatever a parser accepts, promstack's encoder for
//! the same format either writes or refuses with a typed error, and parsing what it wrote gives
//! back exactly the families of the first parse.
//!
//! "Exactly" is stricter than `MetricFamily`'s `PartialEq`: numbers compare bit for bit (so
//! `-0.0` is not `0.0`), except that any NaN equals any NaN; label sets compare as sets, since
//! the encoder sorts labels by name. With the `strict-encode` feature an encoder refusal is a
//! failure too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promstack_alloc::{parse_openmetrics, parse_text, MetricFamily, OwnedExemplar, OwnedSample, ParseError};
use promstack_core::{encode_openmetrics, encode_text, EncodeError, Timestamp};
use std::fmt::Write as _;

fuzz_target!(|data: &[u8]| {
    // Both parsers take `&str`; there is no byte path to round-trip.
    let Ok(input) = std::str::from_utf8(data) else { return };
    if let Ok(first) = parse_openmetrics(input) {
        round_trip("openmetrics", &first, |w, c| encode_openmetrics(w, c), parse_openmetrics);
    }
    if let Ok(first) = parse_text(input) {
        round_trip("text", &first, |w, c| encode_text(w, c), parse_text);
    }
});

type Encode =
    fn(Vec<u8>, &dyn promstack_core::Collector) -> Result<Vec<u8>, EncodeError<core::convert::Infallible>>;

fn round_trip(
    format: &str,
    first: &[MetricFamily],
    encode: Encode,
    parse: fn(&str) -> Result<Vec<MetricFamily>, ParseError>,
) {
    let bytes = match encode(Vec::new(), &first) {
        Ok(bytes) => bytes,
        Err(EncodeError::Collect(e)) => {
            if cfg!(feature = "strict-encode") {
                panic!("{format}: the encoder refused what the parser accepted: {e}\nfamilies: {first:?}");
            }
            return;
        }
        Err(e) => panic!("{format}: encoding into a Vec failed: {e}"),
    };
    let text =
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{format}: the encoder wrote invalid UTF-8: {e}"));
    let second = parse(&text).unwrap_or_else(|e| {
        panic!(
            "{format}: the parser rejects the encoder's output: {e}\nencoded: {text:?}\nfamilies: {first:?}"
        )
    });
    if let Some(why) = difference(first, &second) {
        panic!("{format}: the second parse differs: {why}\nencoded: {text:?}\nfirst: {first:?}\nsecond: {second:?}");
    }
}

/// The first difference between two parses, or `None` when they are the same.
fn difference(a: &[MetricFamily], b: &[MetricFamily]) -> Option<String> {
    for (i, (fa, fb)) in a.iter().zip(b).enumerate() {
        let at = |what: &str| format!("family {i} ({:?}): {what}", fa.name());
        let meta =
            [("name", fa.name(), fb.name()), ("help", fa.help(), fb.help()), ("unit", fa.unit(), fb.unit())];
        for (what, x, y) in meta {
            if x != y {
                return Some(at(&format!("{what} {x:?} became {y:?}")));
            }
        }
        if fa.metric_type() != fb.metric_type() {
            return Some(at(&format!("type {:?} became {:?}", fa.metric_type(), fb.metric_type())));
        }
        let (sa, sb) = (fa.samples(), fb.samples());
        for (j, (x, y)) in sa.iter().zip(sb).enumerate() {
            if let Some(why) = sample_difference(x, y) {
                return Some(at(&format!("sample {j} ({}{}): {why}", fa.name(), x.suffix)));
            }
        }
        if sa.len() != sb.len() {
            return Some(at(&format!("{} samples became {}", sa.len(), sb.len())));
        }
    }
    let names = |f: &[MetricFamily]| {
        f.iter().map(|f| format!("{} {:?}", f.name(), f.metric_type())).collect::<Vec<_>>()
    };
    (a.len() != b.len()).then(|| {
        let n = a.len().min(b.len());
        format!("{} families became {}: {:?} became {:?}", a.len(), b.len(), names(&a[n..]), names(&b[n..]))
    })
}

fn sample_difference(a: &OwnedSample, b: &OwnedSample) -> Option<String> {
    if a.suffix != b.suffix {
        return Some(format!("suffix {:?} became {:?}", a.suffix, b.suffix));
    }
    if !same_labels(&a.labels, &b.labels) {
        return Some(format!("labels {:?} became {:?}", a.labels, b.labels));
    }
    if !same(a.value, b.value) {
        return Some(format!("value {:?} became {:?}", a.value, b.value));
    }
    if !same_time(a.timestamp, b.timestamp) {
        return Some(format!("timestamp {:?} became {:?}", a.timestamp, b.timestamp));
    }
    match (&a.exemplar, &b.exemplar) {
        (None, None) => None,
        (Some(x), Some(y)) => exemplar_difference(x, y).map(|why| format!("exemplar: {why}")),
        (x, y) => Some(format!("exemplar {x:?} became {y:?}")),
    }
}

fn exemplar_difference(a: &OwnedExemplar, b: &OwnedExemplar) -> Option<String> {
    let mut why = String::new();
    if !same_labels(&a.labels, &b.labels) {
        let _ = write!(why, "labels {:?} became {:?}", a.labels, b.labels);
    } else if !same(a.value, b.value) {
        let _ = write!(why, "value {:?} became {:?}", a.value, b.value);
    } else if !same_time(a.timestamp, b.timestamp) {
        let _ = write!(why, "timestamp {:?} became {:?}", a.timestamp, b.timestamp);
    }
    (!why.is_empty()).then_some(why)
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Timestamps are kept exactly: the same nanoseconds, or (for one given as an `f64`) the same
/// written form.
fn same_time(a: Option<Timestamp>, b: Option<Timestamp>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.to_string() == b.to_string(),
        (a, b) => a.is_none() && b.is_none(),
    }
}

fn same_labels(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let mut a: Vec<_> = a.iter().collect();
    let mut b: Vec<_> = b.iter().collect();
    a.sort();
    b.sort();
    a == b
}
