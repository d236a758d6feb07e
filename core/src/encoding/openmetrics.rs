//! OpenMetrics 1.0 specifics.

use crate::desc::MetricType;

/// Where OpenMetrics 1.0 allows an exemplar: histogram and gauge-histogram buckets, and a
/// counter's `_total` samples.
pub(super) fn allows_exemplar(t: MetricType, suffix: &str) -> bool {
    match t {
        MetricType::Histogram | MetricType::GaugeHistogram => suffix == "_bucket",
        MetricType::Counter => suffix == "_total",
        _ => false,
    }
}
