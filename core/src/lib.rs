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
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// `const` items holding atomics (`Metric::INIT`, empty slots) exist to initialize statics and
// arrays; every use is meant to be a fresh value.
#![allow(clippy::declare_interior_mutable_const, clippy::borrow_interior_mutable_const)]

#[cfg(all(feature = "std", not(test)))]
extern crate std;

mod clock;
mod collector;
mod counter;
mod counter32;
mod desc;
pub mod encoding;
mod enumeration;
mod error;
mod family;
mod gauge;
mod histogram;
mod info;
mod metric;
mod native;
mod registry;
mod sample;
mod sync;
mod timer;
mod timestamp;

pub use clock::{clock, install_clock, install_time, unix_time, Clock};
pub use collector::{Collector, NameFilter, NameSet, Sink};
pub use counter::{check_increment, Counter, CounterValue};
pub use counter32::{Counter32, Counter32Value};
pub use desc::{
    assert_buckets, assert_label_names, assert_states, check_buckets, check_label_names, check_metric_name,
    check_states, is_valid_label_name, is_valid_metric_name, strip_counter_total, Desc, MetricType,
};
pub use encoding::{
    encode_openmetrics, encode_text, Encoder, Format, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE,
};
pub use enumeration::{Enum, EnumValue};
pub use error::{BoundedStr, CollectError, DescError, EncodeError, LabelError, RegistryError, ValueError};
pub use family::{check_label_pairs, Child, FixedFamily, LABEL_REJECTIONS};
pub use gauge::{Gauge, GaugeFn, GaugeValue};
pub use histogram::{Histogram, HistogramValue, Observe, Summary, SummaryValue, DEFAULT_BUCKETS};
pub use info::{Info, InfoPairs, InfoValue};
pub use metric::Metric;
pub use native::NativeHistogramPoint;
pub use registry::{CollectorId, StaticRegistry};
pub use sample::{Exemplar, Labels, Sample, SortedLabels, Value};
pub use timer::{time, Timer};
pub use timestamp::Timestamp;
