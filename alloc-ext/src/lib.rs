//! promstack-alloc: the parts of promstack that need a heap but no operating system.
//!
//! - [`Family`]: labeled metrics with any number of children, created on first use, found
//!   without allocating and without readers sharing one lock word.
//! - [`table`]: the child table behind [`Family`] and `promstack`'s multiprocess families:
//!   one lookup, creation, removal and reporting path for every storage.
//! - [`Registry`]: registers `Arc` and `'static` collectors, detects name collisions, collects
//!   everything in registration order, offers a restricted view and `get_sample_value`.
//! - [`MetricFamily`] and the typed constructors ([`CounterMetricFamily`], ...): owned families
//!   for custom collectors ([`CustomCollector`]), written by the same core encoders.
//! - [`parse_text`] / [`parse_openmetrics`]: Prometheus text 0.0.4 and OpenMetrics 1.0 text back
//!   into [`MetricFamily`]s, with errors naming the line and the problem.
//! - [`NativeHistogramValue`]: native (exponential) histograms; [`ExemplarCounterValue`] and
//!   [`ExemplarHistogramValue`]: counters and histograms that keep exemplars (targets with
//!   64-bit and pointer-sized atomics).
//!
//! ```
//! use promstack_alloc::{Family, Registry};
//! use promstack_alloc::sync::Arc;
//! use promstack_core::Format;
//!
//! let registry = Registry::new();
//! let requests = registry
//!     .register_owned(Family::counter("requests_total", "Requests.", &["method"]).unwrap())
//!     .unwrap();
//! requests.get(&["get"]).unwrap().inc();
//! assert_eq!(registry.get_sample_value("requests_total", &[("method", "get")]), Some(1.0));
//! let text = registry.encode(Format::Text, Vec::new()).unwrap();
//! assert!(String::from_utf8(text).unwrap().ends_with("requests_total{method=\"get\"} 1.0\n"));
//! # let _ = Arc::new(0);
//! ```
#![no_std]
// Only the child table's big-reader lock needs `unsafe` (see `table`); it allows it there.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;

mod curried;
#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
mod exemplar;
mod family;
mod info;
mod metric_family;
#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
mod native;
mod parser;
mod registry;
pub mod sync;
#[allow(unsafe_code)]
pub mod table;

#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
pub use exemplar::{ExemplarCounterValue, ExemplarHistogramValue, IncError};
pub use family::{Family, Opts, OwnedChild};
pub use info::OwnedInfoValue;
pub use metric_family::{
    Bucket, CounterMetricFamily, CustomCollector, FamilyError, GaugeHistogramMetricFamily, GaugeMetricFamily,
    HistogramMetricFamily, InfoMetricFamily, MetricFamily, OwnedExemplar, OwnedSample, StateSetMetricFamily,
    SummaryMetricFamily, UnknownMetricFamily,
};
#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
pub use native::{
    ExemplarError, NativeConfig, NativeHistogramValue, NativeSnapshot, DEFAULT_ZERO_THRESHOLD,
    MAX_EXEMPLAR_CHARS, MAX_NATIVE_EXEMPLARS, MAX_SCHEMA, MIN_SCHEMA,
};
pub use parser::{parse_openmetrics, parse_text, ParseError, ParseErrorKind};
pub use registry::{CollectorId, Registry, Restricted};
pub use table::REPLICAS;
