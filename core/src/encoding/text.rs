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
    // Literal patterns compare with a length check and one or two word loads (every sample
    // goes through here; a search of `SPLIT_SUFFIXES` called `memcmp` for each).
    let i = match suffix.as_bytes() {
        b"_created" => 0,
        b"_gcount" => 1,
        b"_gsum" => 2,
        _ => return None,
    };
    debug_assert_eq!(SPLIT_SUFFIXES[usize::from(i)], suffix);
    let applies = match i {
        0 => has_created(t),
        _ => t == MetricType::GaugeHistogram,
    };
    applies.then_some(i)
}
