//! promstack-alloc: the parts of promstack that need a heap but no operating system.
//!
//! - [`Family`]: labeled metrics with any number of children, created on first use, found
//!   without allocating and without readers sharing one lock word.
//! - [`Registry`]: registers `Arc` and `'static` collectors, detects name collisions, collects
//!   everything in registration order, offers a restricted view and `get_sample_value`.
//! - [`MetricFamily`] and the typed constructors ([`CounterMetricFamily`], ...): owned families
//!   for custom collectors ([`CustomCollector`]), written by the same core encoders.
//! - [`parse_text`] / [`parse_openmetrics`]: Prometheus text 0.0.4 and OpenMetrics 1.0 text back
//!   into [`MetricFamily`]s, with errors naming the line and the problem.
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod family;
mod info;
mod metric_family;
mod parser;
mod registry;
pub mod sync;

pub use family::{Family, Opts, OwnedChild, REPLICAS};
pub use info::OwnedInfoValue;
pub use metric_family::{
    Bucket, CounterMetricFamily, CustomCollector, FamilyError, GaugeHistogramMetricFamily, GaugeMetricFamily,
    HistogramMetricFamily, InfoMetricFamily, MetricFamily, OwnedExemplar, OwnedSample, StateSetMetricFamily,
    SummaryMetricFamily, UnknownMetricFamily,
};
pub use parser::{parse_openmetrics, parse_text, ParseError, ParseErrorKind};
pub use registry::{CollectorId, Registry, Restricted};
