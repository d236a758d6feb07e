//! OpenMetrics 1.0 specifics.

use crate::desc::MetricType;

/// Exemplars are allowed on histogram and gauge-histogram bucket samples only.
pub(super) fn allows_exemplar(t: MetricType, suffix: &str) -> bool {
    matches!(t, MetricType::Histogram | MetricType::GaugeHistogram) && suffix == "_bucket"
}
