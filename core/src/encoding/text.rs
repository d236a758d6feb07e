//! Prometheus text 0.0.4 specifics: how OpenMetrics types are spelled in `# TYPE` lines and
//! which samples move to separate gauge families.

use super::{has_created, SPLIT_SUFFIXES};
use crate::desc::MetricType;

/// The suffix added to the family name in `# HELP`/`# TYPE`, and the type spelled there.
pub(super) fn header(t: MetricType) -> (&'static str, &'static str) {
    match t {
        MetricType::Counter => ("_total", "counter"),
        MetricType::Info => ("_info", "gauge"),
        MetricType::StateSet => ("", "gauge"),
        MetricType::GaugeHistogram => ("", "histogram"),
        MetricType::Unknown => ("", "untyped"),
        other => ("", other.as_str()),
    }
}

/// Index into `SPLIT_SUFFIXES` when this sample belongs in a separate gauge family.
pub(super) fn split_index(t: MetricType, suffix: &str) -> Option<u8> {
    let i = SPLIT_SUFFIXES.iter().position(|s| *s == suffix)? as u8;
    let applies = match i {
        0 => has_created(t),
        _ => t == MetricType::GaugeHistogram,
    };
    applies.then_some(i)
}
