//! OpenMetrics 1.0 specifics.

use crate::desc::MetricType;

/// Where OpenMetrics 1.0 allows an exemplar: histogram and gauge-histogram buckets, and a
/// counter's `_total` samples.
#[cfg(feature = "float")]
pub(super) fn allows_exemplar(t: MetricType, suffix: &str) -> bool {
    match t {
        MetricType::Histogram | MetricType::GaugeHistogram => suffix == "_bucket",
        MetricType::Counter => suffix == "_total",
        _ => false,
    }
}

/// Which half of a histogram's count/sum pair a sample is: `Some(false)` for `_count`
/// (`_gcount`), `Some(true)` for `_sum` (`_gsum`). OpenMetrics 1.0 wants both or neither.
#[inline]
pub(super) fn pair_part(t: MetricType, suffix: &str) -> Option<bool> {
    match (t, suffix.as_bytes()) {
        (MetricType::Histogram, b"_count") | (MetricType::GaugeHistogram, b"_gcount") => Some(false),
        (MetricType::Histogram, b"_sum") | (MetricType::GaugeHistogram, b"_gsum") => Some(true),
        _ => None,
    }
}
