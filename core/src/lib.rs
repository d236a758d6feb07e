//! promstack-core: Prometheus metrics for every target, with no allocator.
//!
//! Metrics are `const`-constructed and can be `static`; the hot paths are single atomic
//! operations; encoders stream Prometheus text 0.0.4 or OpenMetrics into any
//! [`embedded_io::Write`]. Everything above this crate (dynamic labels, HTTP, files) lives in
//! `promstack-alloc` and `promstack`.
//!
//! ```
//! use promstack_core::{Counter, Gauge, encode_text};
//! static REQUESTS: Counter = Counter::new("http_requests", "Requests served.");
//! static TEMP: Gauge = Gauge::new("board_temperature_celsius", "Board temperature.");
//! REQUESTS.inc();
//! TEMP.set(36.6);
//! let out = encode_text(Vec::new(), &[&REQUESTS as &dyn promstack_core::Collector, &TEMP]).unwrap();
//! assert!(out.starts_with(b"# HELP http_requests_total Requests served.\n"));
//! ```
#![cfg_attr(not(test), no_std)]
// Two `unsafe` blocks, in `family.rs` (`value_bytes`): label bytes viewed as atomic words, and
// an ASCII run as `&str`. Everything else is safe code.
#![deny(unsafe_code)]
#![warn(missing_docs)]
// `const` items holding atomics (`Metric::INIT`, empty slots) exist to initialize statics and
// arrays; every use is meant to be a fresh value.
#![allow(clippy::declare_interior_mutable_const, clippy::borrow_interior_mutable_const)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;

#[cfg(feature = "float")]
mod clock;
mod collector;
mod counter;
mod counter32;
mod curried;
mod desc;
mod described;
pub mod encoding;
mod enumeration;
mod error;
mod family;
#[cfg(feature = "float")]
mod gauge;
#[cfg(feature = "float")]
mod histogram;
mod info;
mod integer;
mod labels;
mod metric;
#[cfg(feature = "float")]
mod native;
mod registry;
mod sample;
mod sync;
#[cfg(feature = "float")]
mod timer;
mod timestamp;

#[cfg(feature = "float")]
pub use clock::{clock, install_clock, install_time, unix_time, Clock};
pub use collector::{
    BatchSink, ChildLines, Collector, LineRows, LineRun, NameFilter, NameSet, SampleRows, Sink,
};
#[cfg(feature = "float")]
pub use counter::check_increment;
pub use counter::{Counter, CounterValue};
pub use counter32::{Counter32, Counter32Value};
pub use curried::{Curried, LabelLookup, MAX_CURRIED_LABELS};
#[cfg(feature = "float")]
pub use desc::{assert_buckets, check_buckets};
pub use desc::{
    assert_label_names, assert_states, check_label_names, check_metric_name, check_states,
    is_valid_label_name, is_valid_metric_name, strip_counter_total, Desc, MetricType,
};
pub use described::{Described, Relocate, Spec, SpecSource};
#[cfg(feature = "openmetrics")]
pub use encoding::{encode_openmetrics, OpenMetricsFormat};
pub use encoding::{
    encode_text, Encoder, Format, FormatKind, PullEncoder, TextFormat, OPENMETRICS_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
};
pub use enumeration::{Enum, EnumValue};
pub use error::{BoundedStr, CollectError, DescError, EncodeError, LabelError, RegistryError, ValueError};
pub use family::{check_label_pairs, Child, FixedFamily, LABEL_REJECTIONS};
#[cfg(feature = "float")]
pub use gauge::{Gauge, GaugeFn, GaugeValue};
#[cfg(feature = "float")]
pub use histogram::{Histogram, HistogramValue, Observe, Summary, SummaryValue, DEFAULT_BUCKETS};
pub use info::{Info, InfoPairs, InfoValue};
pub use integer::{
    assert_int_buckets, check_int_buckets, Gauge32, Gauge32Value, IntGauge, IntGaugeValue, IntHistogram,
    IntHistogramValue,
};
pub use labels::{label_values, LabelNames, LabelSet, LabelValue, ValueBuf};
pub use metric::{ChildWalk, Metric};
#[cfg(feature = "float")]
pub use native::NativeHistogramPoint;
#[cfg(feature = "derive")]
pub use promstack_derive::{LabelSet, LabelValue};
pub use registry::{CollectorId, StaticRegistry};
#[cfg(feature = "float")]
pub use sample::Exemplar;
pub use sample::{Labels, Sample, SortedLabels, Value};
#[cfg(feature = "float")]
pub use timer::{time, Timer};
pub use timestamp::Timestamp;
