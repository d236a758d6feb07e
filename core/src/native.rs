//! What a native histogram reports besides its classic samples: one [`NativeHistogramPoint`].
//!
//! Native (sparse, exponential) histograms are exposed only in the protobuf format, so the
//! text encoders ignore the point (see [`Sink::native_histogram`](crate::Sink::native_histogram))
//! and write the classic samples the histogram reports after it. The types that keep native
//! histograms need a heap and live in `promstack-alloc`; this is only the borrowed view.

#[cfg(feature = "float")]
use crate::sample::Exemplar;

/// One native histogram point: schema, zero bucket, populated buckets, count and sum.
///
/// Bucket `i` of schema `s` covers `(base^(i-1), base^i]` with `base = 2^(2^-s)`; negative
/// buckets mirror it. Buckets are `(index, count)` pairs sorted by index, counts not cumulative.
///
/// ```
/// use promstack_core::NativeHistogramPoint;
/// let p = NativeHistogramPoint {
///     schema: 3,
///     zero_threshold: 2.938735877055719e-39,
///     zero_count: 1,
///     count: 3,
///     sum: 1.5,
///     positive: &[(-8, 1)],
///     negative: &[(0, 1)],
///     exemplars: &[],
/// };
/// assert_eq!(p.bucket_count(), 2);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NativeHistogramPoint<'a> {
    /// Resolution, from -4 (factor 65536 between bucket bounds) to 8 (factor 1.0027).
    pub schema: i8,
    /// Observations with `|v| <= zero_threshold` are counted in the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// All observations (NaN included, which no bucket holds).
    pub count: u64,
    /// Sum of the observations.
    pub sum: f64,
    /// Populated buckets of positive observations, `(index, count)` by ascending index.
    pub positive: &'a [(i32, u64)],
    /// Populated buckets of negative observations (index of `|v|`), by ascending index.
    pub negative: &'a [(i32, u64)],
    /// Exemplars of the native histogram (protobuf `Histogram.exemplars`).
    #[cfg(feature = "float")]
    pub exemplars: &'a [Exemplar<'a>],
}

impl NativeHistogramPoint<'_> {
    /// Number of populated buckets, positive and negative (what a bucket limit counts).
    pub fn bucket_count(&self) -> usize {
        self.positive.len() + self.negative.len()
    }
}
