//! Integer gauges and histograms: for firmware that keeps no `f64` (build without the `float`
//! feature and nothing links float formatting or soft-float arithmetic).

use crate::collector::Sink;
use crate::desc::{Desc, MetricType};
use crate::described::{Described, Spec, SpecSource};
use crate::error::{CollectError, DescError};
use crate::metric::{Created, Metric};
use crate::sample::{Labels, Sample, Value};
use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// A value type for an integer gauge: `$int` kept as its two's-complement bits in `$atomic`, so
/// adding a negative number is one wrapping atomic add.
macro_rules! int_gauge_value {
    ($(#[$doc:meta])* $name:ident, $int:ty, $bits:ty, $atomic:ident) => {
        $(#[$doc])*
        pub struct $name {
            bits: $atomic,
        }

        impl $name {
            /// A gauge at 0.
            pub const fn new() -> Self {
                $name { bits: $atomic::new(0) }
            }

            /// Sets the value.
            #[inline]
            pub fn set(&self, v: $int) {
                // Relaxed: a gauge publishes only its own value.
                self.bits.store(v as $bits, Ordering::Relaxed);
            }

            /// Adds `v` (which may be negative), wrapping at the ends of the integer type.
            #[inline]
            pub fn add(&self, v: $int) {
                self.bits.fetch_add(v as $bits, Ordering::Relaxed);
            }

            /// Subtracts `v`, wrapping at the ends of the integer type.
            #[inline]
            pub fn sub(&self, v: $int) {
                self.bits.fetch_sub(v as $bits, Ordering::Relaxed);
            }

            /// Adds 1.
            #[inline]
            pub fn inc(&self) {
                self.add(1);
            }

            /// Subtracts 1.
            #[inline]
            pub fn dec(&self) {
                self.sub(1);
            }

            /// The current value.
            #[inline]
            pub fn get(&self) -> $int {
                self.bits.load(Ordering::Relaxed) as $int
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl Metric for $name {
            const METRIC_TYPE: MetricType = MetricType::Gauge;
            const INIT: Self = $name::new();
            type Config = ();

            fn reset(&self) {
                self.set(0);
            }

            fn report(
                &self,
                _: &(),
                desc: &Desc<'_>,
                labels: Labels<'_>,
                sink: &mut dyn Sink,
            ) -> Result<(), CollectError> {
                sink.sample(desc, &Sample::new("", labels, Value::Signed(i64::from(self.get()))))
            }
            fn single_suffix(_: &(), _: bool) -> Option<&'static str> {
                Some("")
            }
            fn single_value(&self, _: &()) -> Value {
                Value::Signed(i64::from(self.get()))
            }
        }
    };
}

int_gauge_value!(
    /// The value of an integer gauge: one `i64` (kept as its two's-complement bits, so adding a
    /// negative number is one wrapping atomic add).
    IntGaugeValue, i64, u64, AtomicU64
);
int_gauge_value!(
    /// The value of a 4-byte integer gauge: one `i32`, lock-free wherever the core has 32-bit
    /// atomics (every Cortex-M and RISC-V `imac`; on `thumbv6m` and `riscv32imc` a critical section).
    Gauge32Value, i32, u32, AtomicU32
);

/// An integer gauge: an `i64` that goes up and down, written without floating point.
///
/// ```
/// use promstack_core::{encode_text, IntGauge};
/// static QUEUE: IntGauge = IntGauge::new("tx_queue_depth", "Frames waiting to be sent.");
/// QUEUE.add(5);
/// QUEUE.sub(7);
/// assert_eq!(QUEUE.get(), -2);
/// let out = String::from_utf8(encode_text(Vec::new(), &QUEUE).unwrap()).unwrap();
/// assert!(out.ends_with("tx_queue_depth -2.0\n"), "{out}");
/// ```
pub type IntGauge<S = Spec<()>> = Described<IntGaugeValue, S>;

/// A 4-byte integer gauge ([`Gauge32Value`]): an `i32`, lock-free wherever the core has 32-bit
/// atomics.
///
/// ```
/// use promstack_core::{encode_text, Gauge32};
/// static FREE: Gauge32 = Gauge32::new("rx_buffers_free", "Free receive buffers.");
/// FREE.set(12);
/// FREE.dec();
/// let out = String::from_utf8(encode_text(Vec::new(), &FREE).unwrap()).unwrap();
/// assert!(out.ends_with("rx_buffers_free 11.0\n"), "{out}");
/// ```
pub type Gauge32<S = Spec<()>> = Described<Gauge32Value, S>;

macro_rules! int_gauge {
    ($alias:ident, $value:ident, $int:ty) => {
        impl $alias {
            /// A gauge named `name` with help text `help`, starting at 0.
            ///
            /// # Panics
            /// On an invalid name: a compile error in a `static`.
            pub const fn new(name: &'static str, help: &'static str) -> Self {
                Self::build(Desc::new(name, help, MetricType::Gauge), ())
            }

            /// Run-time form of `new`.
            pub fn try_new(name: &'static str, help: &'static str) -> Result<Self, DescError> {
                Ok(Self::build(Desc::try_new(name, help, MetricType::Gauge)?, ()))
            }
        }

        impl<S: SpecSource<Spec<()>>> $alias<S> {
            /// Sets the value.
            #[inline]
            pub fn set(&self, v: $int) {
                self.value().set(v);
            }

            /// Adds `v` (which may be negative), wrapping.
            #[inline]
            pub fn add(&self, v: $int) {
                self.value().add(v);
            }

            /// Subtracts `v`, wrapping.
            #[inline]
            pub fn sub(&self, v: $int) {
                self.value().sub(v);
            }

            /// Adds 1.
            #[inline]
            pub fn inc(&self) {
                self.value().inc();
            }

            /// Subtracts 1.
            #[inline]
            pub fn dec(&self) {
                self.value().dec();
            }

            /// The current value.
            #[inline]
            pub fn get(&self) -> $int {
                self.value().get()
            }
        }
    };
}
int_gauge!(IntGauge, IntGaugeValue, i64);
int_gauge!(Gauge32, Gauge32Value, i32);

const fn int_buckets_problem(bounds: &[i64]) -> Option<&'static str> {
    if bounds.is_empty() {
        return Some("at least one bound is required");
    }
    let mut i = 1;
    while i < bounds.len() {
        if bounds[i - 1] >= bounds[i] {
            return Some("bounds must be sorted strictly ascending");
        }
        i += 1;
    }
    None
}

/// Checks integer histogram bounds at compile time: non-empty, strictly ascending.
///
/// # Panics
/// With a message naming the problem (a compile error in a `const` or `static`).
pub const fn assert_int_buckets(bounds: &[i64]) {
    if let Some(why) = int_buckets_problem(bounds) {
        panic!("{}", why);
    }
}

/// Run-time form of [`assert_int_buckets`].
pub fn check_int_buckets(bounds: &[i64]) -> Result<(), DescError> {
    match int_buckets_problem(bounds) {
        None => Ok(()),
        Some(why) => Err(DescError::InvalidBuckets(why)),
    }
}

/// The value of an integer histogram with `N` bucket bounds: a count per bucket, a count above
/// every bound and an `i64` sum (two's-complement bits, wrapping).
///
/// As with [`HistogramValue`](crate::HistogramValue), an observation touches one counter and
/// the sum; the exposition accumulates the buckets.
pub struct IntHistogramValue<const N: usize> {
    buckets: [AtomicU64; N],
    over: AtomicU64,
    sum: AtomicU64,
    created: Created,
}

impl<const N: usize> IntHistogramValue<N> {
    /// An empty histogram value.
    pub const fn new() -> Self {
        IntHistogramValue {
            buckets: [const { AtomicU64::new(0) }; N],
            over: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            created: Created::INIT,
        }
    }

    /// Records `v` against `bounds` (the bounds this value was created with).
    #[inline]
    pub fn observe(&self, bounds: &[i64; N], v: i64) {
        // Sorted bounds: the number below `v` is the index of the first bound >= v.
        let i = bucket_index(bounds, v);
        match self.buckets.get(i) {
            Some(b) => b.fetch_add(1, Ordering::Relaxed),
            None => self.over.fetch_add(1, Ordering::Relaxed),
        };
        self.sum.fetch_add(v as u64, Ordering::Relaxed);
    }

    /// Sum of observations (wrapping at the ends of `i64`).
    pub fn sum(&self) -> i64 {
        self.sum.load(Ordering::Relaxed) as i64
    }

    /// Cumulative bucket counts (`le` each bound) and the total count.
    pub fn cumulative(&self) -> ([u64; N], u64) {
        let mut out = [0u64; N];
        let mut acc = 0u64;
        for (o, b) in out.iter_mut().zip(&self.buckets) {
            acc = acc.wrapping_add(b.load(Ordering::Relaxed));
            *o = acc;
        }
        (out, acc.wrapping_add(self.over.load(Ordering::Relaxed)))
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.cumulative().1
    }
}

impl<const N: usize> Default for IntHistogramValue<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Longest `le` text of an `i64` bound: a sign, 19 digits and `.0`.
const LE_BUF: usize = 22;

/// `le` of bound `v`: `v.0`.
#[cfg(feature = "small")]
fn le_text(v: i64, buf: &mut heapless::String<LE_BUF>) -> &str {
    // Pushed as chars, so no UTF-8 check is linked (`small`).
    let mut digits = [0u8; crate::encoding::decimal::DEC_BUF];
    for &c in crate::encoding::decimal::signed(v, &mut digits) {
        let _ = buf.push(char::from(c));
    }
    let _ = buf.push_str(".0");
    buf.as_str()
}

/// `v` as `le` text: the integer and `.0`, as the `f64` histogram writes whole bounds.
#[cfg(not(feature = "small"))]
fn le_text(v: i64, buf: &mut [u8; LE_BUF]) -> &str {
    let mut b = itoa::Buffer::new();
    let digits = b.format(v).as_bytes();
    buf[..digits.len()].copy_from_slice(digits);
    buf[digits.len()..digits.len() + 2].copy_from_slice(b".0");
    // Only ASCII digits, a sign and ".0" were written.
    core::str::from_utf8(&buf[..digits.len() + 2]).unwrap_or("")
}

impl<const N: usize> Metric for IntHistogramValue<N> {
    const METRIC_TYPE: MetricType = MetricType::Histogram;
    const INIT: Self = IntHistogramValue::new();
    type Config = [i64; N];

    fn check_config(bounds: &[i64; N], _: &str, _: &[&str]) -> Result<(), DescError> {
        check_int_buckets(bounds)
    }

    fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Ordering::Relaxed);
        }
        self.over.store(0, Ordering::Relaxed);
        self.sum.store(0, Ordering::Relaxed);
        self.created.stamp();
    }

    /// `small`: every line from one sample site (each site builds a whole `Sample`).
    #[cfg(feature = "small")]
    fn report(
        &self,
        bounds: &[i64; N],
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let le = ["le"];
        let mut count = 0u64;
        // The buckets, `+Inf`, `_count`, `_sum`: the lines of the other build, in its order.
        for i in 0..N + 3 {
            let mut buf = heapless::String::new();
            let (suffix, text, value) = match (bounds.get(i), self.buckets.get(i)) {
                (Some(bound), Some(b)) => {
                    count = count.wrapping_add(b.load(Ordering::Relaxed));
                    ("_bucket", le_text(*bound, &mut buf), Value::Int(count))
                }
                _ if i == N => {
                    count = count.wrapping_add(self.over.load(Ordering::Relaxed));
                    ("_bucket", "+Inf", Value::Int(count))
                }
                _ if i == N + 1 => ("_count", "", Value::Int(count)),
                _ if bounds.first().is_none_or(|b| *b >= 0) => ("_sum", "", Value::Signed(self.sum())),
                _ => break,
            };
            let text = [text];
            let labels = if text[0].is_empty() { labels } else { labels.with_extra(&le, &text) };
            sink.sample(desc, &Sample::new(suffix, labels, value))?;
        }
        self.created.report(desc, labels, sink)
    }

    #[cfg(not(feature = "small"))]
    fn report(
        &self,
        bounds: &[i64; N],
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        // Cumulative counts one bucket at a time (no array of them on the stack): each is read
        // once, so every reported count is at least the one before it, and `_count` is the last.
        let le = ["le"];
        let mut count = 0u64;
        for (bound, b) in bounds.iter().zip(&self.buckets) {
            count = count.wrapping_add(b.load(Ordering::Relaxed));
            let mut buf = [0u8; LE_BUF];
            let text = [le_text(*bound, &mut buf)];
            sink.sample(desc, &Sample::new("_bucket", labels.with_extra(&le, &text), Value::Int(count)))?;
        }
        let count = count.wrapping_add(self.over.load(Ordering::Relaxed));
        sink.sample(desc, &Sample::new("_bucket", labels.with_extra(&le, &["+Inf"]), Value::Int(count)))?;
        sink.sample(desc, &Sample::new("_count", labels, Value::Int(count)))?;
        // As for the f64 histogram: no `_sum` when an observation may be negative.
        if bounds.first().is_none_or(|b| *b >= 0) {
            sink.sample(desc, &Sample::new("_sum", labels, Value::Signed(self.sum())))?;
        }
        self.created.report(desc, labels, sink)
    }

    /// Through the sink's batch interface when it has one: every child's lines in one call.
    #[cfg(not(feature = "small"))]
    fn report_children(
        bounds: &[i64; N],
        desc: &Desc<'_>,
        sink: &mut dyn Sink,
        children: &mut crate::metric::ChildWalk<'_, Self>,
    ) -> Result<(), CollectError> {
        let wants_created = sink.wants_created();
        match sink.batch() {
            Some(batch) => batch.lines(desc, &mut IntHistogramLines { bounds, wants_created, children }),
            None => children(&mut |value, labels| value.report(bounds, desc, labels, sink)),
        }
    }
}

/// An integer histogram family's children as [`BatchSink::lines`](crate::BatchSink::lines)
/// rows: the samples [`Metric::report`] reports, in its order.
#[cfg(not(feature = "small"))]
struct IntHistogramLines<'a, 'w, const N: usize> {
    bounds: &'a [i64; N],
    wants_created: bool,
    children: &'a mut crate::metric::ChildWalk<'w, IntHistogramValue<N>>,
}

#[cfg(not(feature = "small"))]
impl<const N: usize> crate::collector::LineRows for IntHistogramLines<'_, '_, N> {
    fn each(
        &mut self,
        child: &mut dyn FnMut(Labels<'_>, &mut dyn crate::collector::ChildLines) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let (bounds, wants_created) = (self.bounds, self.wants_created);
        (self.children)(&mut |value, labels| {
            child(labels, &mut IntHistogramChild { value, bounds, wants_created })
        })
    }
}

/// One child of [`IntHistogramLines`]: its lines.
#[cfg(not(feature = "small"))]
struct IntHistogramChild<'a, const N: usize> {
    value: &'a IntHistogramValue<N>,
    bounds: &'a [i64; N],
    #[cfg_attr(not(feature = "float"), allow(dead_code))]
    wants_created: bool,
}

#[cfg(not(feature = "small"))]
impl<const N: usize> crate::collector::ChildLines for IntHistogramChild<'_, N> {
    /// The samples of [`Metric::report`], in its order (`_created` only if `wants_created`).
    fn each(
        &mut self,
        run: &mut dyn FnMut(&crate::collector::LineRun<'_>) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        use crate::collector::LineRun;
        use crate::metric::bucket_run;
        let (value, bounds) = (self.value, self.bounds);
        let mut count = 0u64;
        for (bound, b) in bounds.iter().zip(&value.buckets) {
            count = count.wrapping_add(b.load(Ordering::Relaxed));
            let mut buf = [0u8; LE_BUF];
            run(&bucket_run(&[le_text(*bound, &mut buf)], &[Value::Int(count)]))?;
        }
        let count = count.wrapping_add(value.over.load(Ordering::Relaxed));
        run(&bucket_run(&["+Inf"], &[Value::Int(count)]))?;
        run(&LineRun::new("_count", &[], &[], &[Value::Int(count)]))?;
        if bounds.first().is_none_or(|b| *b >= 0) {
            run(&LineRun::new("_sum", &[], &[], &[Value::Signed(value.sum())]))?;
        }
        #[cfg(feature = "float")]
        if let (true, Some(t)) = (self.wants_created, value.created.get()) {
            run(&LineRun::new("_created", &[], &[], &[Value::Float(t)]))?;
        }
        Ok(())
    }
}

/// An integer histogram: `i64` observations counted in buckets with fixed upper bounds, no
/// floating point anywhere (bounds are written `le="6.0"`, like the `f64` histogram's).
///
/// ```
/// use promstack_core::{encode_text, IntHistogram};
/// static SIZES: IntHistogram<2> = IntHistogram::new("packet_size_bytes", "Packet sizes.", [64, 512]);
/// SIZES.observe(60);
/// SIZES.observe(1500);
/// let out = String::from_utf8(encode_text(Vec::new(), &SIZES).unwrap()).unwrap();
/// assert!(out.ends_with(
///     "packet_size_bytes_bucket{le=\"64.0\"} 1.0\npacket_size_bytes_bucket{le=\"512.0\"} 1.0\n\
/// packet_size_bytes_bucket{le=\"+Inf\"} 2.0\npacket_size_bytes_count 2.0\npacket_size_bytes_sum 1560.0\n"
/// ), "{out}");
/// ```
///
/// ```compile_fail
/// // Bounds out of order: a compile error.
/// static BAD: promstack_core::IntHistogram<2> = promstack_core::IntHistogram::new("h", "", [2, 1]);
/// ```
pub type IntHistogram<const N: usize, S = Spec<[i64; N]>> = Described<IntHistogramValue<N>, S>;

impl<const N: usize> IntHistogram<N> {
    /// An integer histogram with the given bucket bounds (`+Inf` implied).
    ///
    /// # Panics
    /// On an invalid name or bounds: a compile error in a `static`.
    pub const fn new(name: &'static str, help: &'static str, bounds: [i64; N]) -> Self {
        assert_int_buckets(&bounds);
        Self::build(Desc::new(name, help, MetricType::Histogram), bounds)
    }

    /// Run-time form of [`IntHistogram::new`].
    pub fn try_new(name: &'static str, help: &'static str, bounds: [i64; N]) -> Result<Self, DescError> {
        check_int_buckets(&bounds)?;
        Ok(Self::build(Desc::try_new(name, help, MetricType::Histogram)?, bounds))
    }
}

impl<const N: usize, S: SpecSource<Spec<[i64; N]>>> IntHistogram<N, S> {
    /// The bucket bounds.
    pub fn bounds(&self) -> &[i64; N] {
        self.spec().config()
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: i64) {
        self.value().observe(self.bounds(), v);
    }
}

#[cfg(all(test, feature = "float", feature = "openmetrics"))]
mod tests {
    use super::*;

    #[test]
    fn negative_sums_and_wrapping_gauges() {
        let h = IntHistogramValue::<2>::new();
        h.observe(&[-10, 10], -20);
        h.observe(&[-10, 10], 5);
        h.observe(&[-10, 10], 11);
        assert_eq!(h.cumulative(), ([1, 2], 3));
        assert_eq!(h.sum(), -4);
        let g = IntGaugeValue::new();
        g.set(i64::MAX);
        g.inc();
        assert_eq!(g.get(), i64::MIN);
        let g32 = Gauge32Value::new();
        g32.sub(3);
        assert_eq!(g32.get(), -3);
    }

    /// Every line in order, and no `_sum` below a negative first bound (`small` writes them
    /// from one sample site).
    #[test]
    fn histogram_lines() {
        let h: IntHistogram<3> = IntHistogram::new("t", "h.", [-5, 0, 10]);
        for v in [-7, 3, 20] {
            h.observe(v);
        }
        let out = crate::encode_text(Vec::new(), &h).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP t h.\n# TYPE t histogram\nt_bucket{le=\"-5.0\"} 1.0\nt_bucket{le=\"0.0\"} 1.0\n\
             t_bucket{le=\"10.0\"} 2.0\nt_bucket{le=\"+Inf\"} 3.0\nt_count 3.0\n"
        );
        let h: IntHistogram<1> = IntHistogram::new("u", "", [0]);
        h.observe(0);
        let out = crate::encode_text(Vec::new(), &h).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("u_bucket{le=\"0.0\"} 1.0\nu_bucket{le=\"+Inf\"} 1.0\nu_count 1.0\nu_sum 0.0\n"));
    }

    #[test]
    fn le_text_of_extremes() {
        #[cfg(feature = "small")]
        let mut buf = heapless::String::new();
        #[cfg(not(feature = "small"))]
        let mut buf = [0u8; LE_BUF];
        assert_eq!(le_text(i64::MIN, &mut buf), "-9223372036854775808.0");
        #[cfg(feature = "small")]
        let mut buf = heapless::String::new();
        assert_eq!(le_text(0, &mut buf), "0.0");
    }
}

/// The number of `bounds` below `v`: the index of the bucket `v` falls in (sorted bounds, so
/// the first bound `>= v`; `N` when `v` is above every bound or is a NaN-like value that
/// compares false with all of them — callers that must place NaN elsewhere check first).
///
/// A binary search whose steps depend only on `N`, never on a comparison: each step moves the
/// base with a conditional move, so for a constant `N` the loop unrolls into ⌈log2 N⌉ + 1
/// compares with no branch to mispredict and no data-dependent loop exit. 14 bounds cost 5
/// compares (a linear count costs 14).
#[inline(always)]
pub(crate) fn bucket_index<T: PartialOrd + Copy, const N: usize>(bounds: &[T; N], v: T) -> usize {
    if N == 0 {
        return 0;
    }
    // Invariant: the answer is in base..=base + n, and base + n <= N.
    let (mut base, mut n) = (0usize, N);
    while n > 1 {
        let half = n / 2;
        if bounds[base + half] < v {
            base += half;
        }
        n -= half;
    }
    base + usize::from(bounds[base] < v)
}

#[cfg(test)]
mod bucket_tests {
    use super::bucket_index;

    /// Every size up to 40 bounds, every value between and on the bounds (and outside them),
    /// against the plain definition: the number of bounds below the value.
    fn check<const N: usize>() {
        let bounds: [i64; N] = core::array::from_fn(|i| 10 * i as i64);
        for v in -15..10 * N as i64 + 15 {
            assert_eq!(bucket_index(&bounds, v), bounds.partition_point(|b| *b < v), "N={N} v={v}");
        }
        let floats: [f64; N] = core::array::from_fn(|i| i as f64 * 0.5);
        for k in -4..(N as i64 + 4) * 4 {
            let v = k as f64 * 0.125;
            assert_eq!(bucket_index(&floats, v), floats.partition_point(|b| *b < v), "N={N} v={v}");
        }
        for v in [f64::NEG_INFINITY, f64::INFINITY, -0.0, f64::MIN_POSITIVE] {
            assert_eq!(bucket_index(&floats, v), floats.partition_point(|b| *b < v), "N={N} v={v}");
        }
    }

    #[test]
    fn bucket_index_is_the_count_of_bounds_below() {
        macro_rules! sizes { ($($n:literal)*) => { $(check::<$n>();)* } }
        sizes!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 31 32 33 40);
    }
}
