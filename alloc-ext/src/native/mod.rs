//! Native histograms: exponential buckets that need no bounds chosen in advance.
//!
//! A [`NativeHistogramValue`] counts each observation in the bucket `(base^(i-1), base^i]` of
//! its magnitude, `base = 2^(2^-schema)`, for schemas -4 (a factor of 65536 between bounds) to 8
//! (a factor of 1.0027), plus a zero bucket `[-zero_threshold, zero_threshold]`. Only populated
//! buckets are kept. When more than [`NativeConfig::max_buckets`] are populated it resets (after
//! [`NativeConfig::min_reset_secs`]), widens the zero bucket (up to
//! [`NativeConfig::max_zero_threshold`]) or halves the resolution, in that order, as
//! client_golang does. Classic buckets can be kept alongside ([`NativeConfig::with_classic`]).
//!
//! Prometheus scrapes native histograms only over the protobuf exposition (`promstack`'s
//! `protobuf` feature) with `--enable-feature=native-histograms`; the text formats show the
//! classic buckets (or only `+Inf`), `_count` and `_sum`.
//!
//! # The observe path
//! Lock-free: two shards, one "hot" that observations go to and one "cold" a scrape reads,
//! chosen by the top bit of `started`, which every observation increments first. A scrape (or a
//! bucket-limit change) flips that bit under the value's lock, waits until the observations that
//! had started on the old shard have completed (each increments its shard's `done` last), then
//! moves the old shard's counts into the accumulated totals the lock guards and zeroes them.
//! Each shard's buckets are an open-addressing table of atomic `(key, count)` slots: a new key
//! is claimed with one compare-and-swap, an existing one takes one `fetch_add`; keys stay
//! claimed until the schema or zero threshold changes.
//!
//! An observation never waits for the lock, with one exception: when the hot table has no free
//! slot (twice the bucket limit, so only when the limit could not be applied for a long time),
//! the observation backs out (counted as `aborted`, so `done` still completes), waits for the
//! lock to apply the limit, and retries.

mod bounds;

use crate::metric_family::OwnedExemplar;
use crate::sync::Mutex;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicI32, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use promstack_core::encoding::{go_float, FLOAT_BUF};
use promstack_core::{
    check_buckets, unix_time, BoundedStr, CollectError, Desc, DescError, Exemplar, Labels, Metric,
    MetricType, NativeHistogramPoint, Sample, Sink, Timestamp, Value,
};

/// The lowest resolution: bucket bounds grow by a factor of 2^16.
pub const MIN_SCHEMA: i8 = -4;
/// The highest resolution: bucket bounds grow by a factor of 2^(1/256).
pub const MAX_SCHEMA: i8 = 8;
/// client_golang's default zero threshold, 2^-128: a bucket bound in every schema.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 2.938735877055719e-39;
/// The most exemplars a native histogram keeps (the newest win), as client_golang.
pub const MAX_NATIVE_EXEMPLARS: usize = 10;
/// The most UTF-8 characters of an exemplar's label names and values together (OpenMetrics).
pub const MAX_EXEMPLAR_CHARS: usize = 128;

/// An exemplar refused by `inc_with_exemplar` / `observe_with_exemplar`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExemplarError {
    /// The label names and values together are longer than [`MAX_EXEMPLAR_CHARS`] characters.
    TooLong {
        /// Their length in characters.
        chars: usize,
    },
    /// An exemplar label name is not a valid label name.
    InvalidLabelName(BoundedStr),
}

impl fmt::Display for ExemplarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExemplarError::TooLong { chars } => write!(
                f,
                "exemplar labels are {chars} characters long, more than the {MAX_EXEMPLAR_CHARS} allowed"
            ),
            ExemplarError::InvalidLabelName(n) => write!(f, "invalid exemplar label name {:?}", n.as_str()),
        }
    }
}

impl core::error::Error for ExemplarError {}

/// Checks an exemplar's labels and makes the owned exemplar.
pub(crate) fn make_exemplar(
    labels: &[(&str, &str)],
    value: f64,
    timestamp: Option<Timestamp>,
) -> Result<OwnedExemplar, ExemplarError> {
    let mut chars = 0;
    for (n, v) in labels {
        if !promstack_core::is_valid_label_name(n) {
            return Err(ExemplarError::InvalidLabelName(BoundedStr::new(n)));
        }
        chars += n.chars().count() + v.chars().count();
    }
    if chars > MAX_EXEMPLAR_CHARS {
        return Err(ExemplarError::TooLong { chars });
    }
    let mut ex = OwnedExemplar::new(labels, value);
    ex.timestamp = timestamp;
    Ok(ex)
}

/// Borrowed label slices of an owned exemplar, for reporting it as a core [`Exemplar`].
pub(crate) struct ExemplarView<'a> {
    names: Vec<&'a str>,
    values: Vec<&'a str>,
    ex: &'a OwnedExemplar,
}

impl<'a> ExemplarView<'a> {
    pub(crate) fn new(ex: &'a OwnedExemplar) -> Self {
        let names = ex.labels.iter().map(|(n, _)| n.as_str()).collect();
        let values = ex.labels.iter().map(|(_, v)| v.as_str()).collect();
        ExemplarView { names, values, ex }
    }

    pub(crate) fn exemplar(&self) -> Exemplar<'_> {
        Exemplar {
            labels: Labels::new(&self.names, &self.values),
            value: self.ex.value,
            timestamp: self.ex.timestamp,
        }
    }
}

/// How a native histogram buckets its observations: the config of a [`NativeHistogramValue`]
/// (and of a `Family` of them).
///
/// ```
/// use promstack_alloc::NativeConfig;
/// let c = NativeConfig::new(3).unwrap().with_max_buckets(100).with_classic(&[0.1, 1.0]).unwrap();
/// assert_eq!(c.schema(), 3);
/// assert_eq!(NativeConfig::from_factor(1.1).unwrap().schema(), 3);
/// assert!(NativeConfig::new(9).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NativeConfig {
    schema: i8,
    zero_threshold: f64,
    max_zero_threshold: f64,
    max_buckets: u32,
    min_reset_secs: f64,
    classic: Box<[f64]>,
}

impl NativeConfig {
    /// Schema `schema` (-4 to 8), zero threshold [`DEFAULT_ZERO_THRESHOLD`], at most 160
    /// populated buckets, no reset, no classic buckets.
    pub fn new(schema: i8) -> Result<Self, DescError> {
        if !(MIN_SCHEMA..=MAX_SCHEMA).contains(&schema) {
            return Err(DescError::InvalidBuckets("the native histogram schema must be between -4 and 8"));
        }
        Ok(NativeConfig {
            schema,
            zero_threshold: DEFAULT_ZERO_THRESHOLD,
            max_zero_threshold: 0.0,
            max_buckets: 160,
            min_reset_secs: 0.0,
            classic: Box::new([]),
        })
    }

    /// The highest resolution whose bucket bounds grow by at most `factor` (> 1) each, as
    /// client_golang's `NativeHistogramBucketFactor`: 1.1 gives schema 3.
    pub fn from_factor(factor: f64) -> Result<Self, DescError> {
        // The factor of schema s is 2^(2^-s): the coarsest schema whose factor is <= `factor`.
        if factor.is_nan() || factor <= 1.0 {
            return Err(DescError::InvalidBuckets("the native histogram bucket factor must be above 1"));
        }
        let mut schema = MIN_SCHEMA;
        while schema < MAX_SCHEMA && schema_factor(schema) > factor {
            schema += 1;
        }
        NativeConfig::new(schema)
    }

    /// Observations with `|v| <= threshold` go to the zero bucket (a negative threshold means 0).
    pub fn with_zero_threshold(mut self, threshold: f64) -> Self {
        self.zero_threshold = if threshold > 0.0 { threshold } else { 0.0 };
        self
    }

    /// How far the zero bucket may be widened to stay within the bucket limit (default 0: never).
    pub fn with_max_zero_threshold(mut self, threshold: f64) -> Self {
        self.max_zero_threshold = if threshold > 0.0 { threshold } else { 0.0 };
        self
    }

    /// At most `n` populated buckets (positive and negative; at least 1). Default 160.
    pub fn with_max_buckets(mut self, n: u32) -> Self {
        self.max_buckets = n.max(1);
        self
    }

    /// Reset instead of losing resolution when the last reset is at least `secs` ago (needs
    /// the clock, as in `promstack`), and reset `secs` after a resolution loss. Default 0: never.
    pub fn with_min_reset_secs(mut self, secs: f64) -> Self {
        self.min_reset_secs = if secs > 0.0 { secs } else { 0.0 };
        self
    }

    /// Classic buckets too, with these bounds (sorted ascending; `+Inf` implied), as a classic
    /// histogram has. Protobuf carries both in one series; text formats show the classic ones.
    pub fn with_classic(mut self, bounds: &[f64]) -> Result<Self, DescError> {
        check_buckets(bounds)?;
        let finite = bounds.iter().copied().filter(|b| *b != f64::INFINITY);
        self.classic = finite.collect();
        Ok(self)
    }

    /// The initial schema.
    pub fn schema(&self) -> i8 {
        self.schema
    }

    /// The initial zero threshold.
    pub fn zero_threshold(&self) -> f64 {
        self.zero_threshold
    }

    /// The bucket limit.
    pub fn max_buckets(&self) -> u32 {
        self.max_buckets
    }

    /// The classic bucket bounds (`+Inf` left out).
    pub fn classic(&self) -> &[f64] {
        &self.classic
    }

    /// Slots of one shard's table: room for twice the limit, so a table fills only when the
    /// limit could not be applied for a long time.
    fn slots(&self) -> usize {
        (2 * self.max_buckets as usize + 2).next_power_of_two().clamp(16, 1 << 16)
    }
}

impl Default for NativeConfig {
    /// Schema 3 (bounds 9% apart), as client_golang's factor 1.1.
    fn default() -> Self {
        NativeConfig::new(3).unwrap_or_else(|_| unreachable!())
    }
}

/// `2^(2^-s)` for the schemas: the factor between two bucket bounds.
fn schema_factor(s: i8) -> f64 {
    if s <= 0 {
        ldexp(1.0, 1 << -s)
    } else {
        // 2^(2^-s) = the bound after 1/2 in the table, times 2.
        2.0 * bounds::bounds(s)[1]
    }
}

/// `(frac, exp)` with `x = frac * 2^exp`, `frac` in `[0.5, 1)`, for finite `x > 0`.
fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first (2^54).
        let (f, e) = frexp(x * f64::from_bits(0x4350_0000_0000_0000));
        return (f, e - 54);
    }
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, biased - 1022)
}

/// `x * 2^e` (saturating to 0 or infinity), in steps that stay exact.
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    let pow2 = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    while e > 1000 {
        x *= pow2(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= pow2(-1000);
        e += 1000;
    }
    x * pow2(e)
}

/// The index of the bucket `|v|` falls in (`v` not NaN, not zero).
fn bucket_key(v: f64, schema: i8) -> i32 {
    let mut a = v.abs();
    let inf = a == f64::INFINITY;
    if inf {
        a = f64::MAX;
    }
    let (frac, exp) = frexp(a);
    let key = if schema > 0 {
        let b = bounds::bounds(schema);
        b.partition_point(|x| *x < frac) as i32 + (exp - 1) * b.len() as i32
    } else {
        let k = if frac == 0.5 { exp - 1 } else { exp };
        let shift = -i32::from(schema);
        // Arithmetic shift after adding 2^shift - 1: the ceiling, also for negative keys.
        (k + (1 << shift) - 1) >> shift
    };
    key + i32::from(inf)
}

/// The upper bound of bucket `key` of `schema`.
fn bucket_upper(key: i32, schema: i8) -> f64 {
    if schema > 0 {
        let b = bounds::bounds(schema);
        let n = b.len() as i32;
        let (q, r) = (key.div_euclid(n), key.rem_euclid(n));
        let exp = q + 1;
        // The last bucket of finite numbers ends at f64::MAX, not at infinity.
        if exp > 1024 || (exp == 1024 && r == 0) {
            return if exp == 1024 && r == 0 { f64::MAX } else { f64::INFINITY };
        }
        ldexp(b[r as usize], exp)
    } else {
        let e = i64::from(key) << -i32::from(schema);
        if e > 1024 {
            return f64::INFINITY;
        }
        if e == 1024 {
            return f64::MAX;
        }
        ldexp(1.0, e.max(-1100) as i32)
    }
}

/// `key` at `schema` lowered by `by` steps: each step merges two buckets into one.
fn lower_key(key: i32, by: i8) -> i32 {
    let shift = u32::from(by.unsigned_abs());
    ((i64::from(key) + (1i64 << shift) - 1) >> shift) as i32
}

/// An empty slot's key.
const EMPTY: i64 = i64::MIN;

/// One bucket of a shard's table: the key (bucket index times 2, plus 1 for negative
/// observations) and its count since the shard was last drained.
struct Slot {
    key: AtomicI64,
    count: AtomicU64,
}

/// A shard's bucket storage, allocated on its first observation.
struct Table {
    slots: Box<[Slot]>,
    /// Classic buckets (non-cumulative), the last one above every bound (and NaN).
    classic: Box<[AtomicU64]>,
}

impl Table {
    fn new(cfg: &NativeConfig) -> Self {
        let slots = (0..cfg.slots()).map(|_| Slot { key: AtomicI64::new(EMPTY), count: AtomicU64::new(0) });
        let classic = (0..=cfg.classic.len()).map(|_| AtomicU64::new(0));
        Table { slots: slots.collect(), classic: classic.collect() }
    }

    /// Adds `n` to bucket `key`: `Some(true)` if it claimed a new slot, `None` if full.
    #[inline]
    fn add(&self, key: i64, n: u64) -> Option<bool> {
        let mask = self.slots.len() - 1;
        // Fibonacci hashing spreads neighbouring keys (the common case) over the table.
        let mut i = ((key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & mask;
        for _ in 0..self.slots.len() {
            let slot = &self.slots[i];
            let k = slot.key.load(Ordering::Acquire);
            if k == key {
                slot.count.fetch_add(n, Ordering::Relaxed);
                return Some(false);
            }
            if k == EMPTY {
                match slot.key.compare_exchange(EMPTY, key, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {
                        slot.count.fetch_add(n, Ordering::Relaxed);
                        return Some(true);
                    }
                    Err(other) if other == key => {
                        slot.count.fetch_add(n, Ordering::Relaxed);
                        return Some(false);
                    }
                    Err(_) => {}
                }
            }
            i = (i + 1) & mask;
        }
        None
    }
}

/// Where observations go: one of the two halves of a [`NativeHistogramValue`].
struct Shard {
    /// Observations completed on this shard since it was drained (aborted ones included).
    done: AtomicU64,
    /// Observations that backed out because the table was full.
    aborted: AtomicU64,
    sum: AtomicU64,
    zero: AtomicU64,
    /// Populated slots.
    populated: AtomicUsize,
    schema: AtomicI32,
    zero_threshold: AtomicU64,
    table: spin::Once<Table>,
}

impl Shard {
    // A fresh shard for each of the two array slots of a `const` value.
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Shard = Shard {
        done: AtomicU64::new(0),
        aborted: AtomicU64::new(0),
        sum: AtomicU64::new(0),
        zero: AtomicU64::new(0),
        populated: AtomicUsize::new(0),
        schema: AtomicI32::new(i32::MIN),
        zero_threshold: AtomicU64::new(0),
        table: spin::Once::new(),
    };

    /// The table, created with `cfg`'s parameters on first use.
    #[inline]
    fn table(&self, cfg: &NativeConfig) -> &Table {
        self.table.call_once(|| {
            // Only the first use of a fresh value gets here; later changes come from the
            // drain, which fills the table first.
            if self.schema.load(Ordering::Relaxed) == i32::MIN {
                self.schema.store(i32::from(cfg.schema), Ordering::Relaxed);
                self.zero_threshold.store(cfg.zero_threshold.to_bits(), Ordering::Relaxed);
            }
            Table::new(cfg)
        })
    }

    fn add_sum(&self, v: f64) {
        let mut old = self.sum.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(old) + v).to_bits();
            match self.sum.compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => old = now,
            }
        }
    }
}

/// The totals a scrape reports, kept under the value's lock.
#[derive(Debug, Clone)]
struct Totals {
    schema: i8,
    zero_threshold: f64,
    count: u64,
    sum: f64,
    zero: u64,
    positive: Vec<(i32, u64)>,
    negative: Vec<(i32, u64)>,
    classic: Vec<u64>,
}

impl Totals {
    fn new(cfg: &NativeConfig) -> Self {
        Totals {
            schema: cfg.schema,
            zero_threshold: cfg.zero_threshold,
            count: 0,
            sum: 0.0,
            zero: 0,
            positive: Vec::new(),
            negative: Vec::new(),
            classic: alloc::vec![0; cfg.classic.len() + 1],
        }
    }

    /// Totals that only absorb what a drain moves out of a shard (for a reset without config).
    fn scratch() -> Self {
        Totals {
            schema: MAX_SCHEMA,
            zero_threshold: 0.0,
            count: 0,
            sum: 0.0,
            zero: 0,
            positive: Vec::new(),
            negative: Vec::new(),
            classic: Vec::new(),
        }
    }

    fn buckets(&self) -> usize {
        self.positive.len() + self.negative.len()
    }

    /// Moves the buckets inside a wider zero threshold `zt` into the zero bucket.
    fn raise_zero_threshold(&mut self, zt: f64) {
        self.zero_threshold = zt;
        let schema = self.schema;
        for list in [&mut self.positive, &mut self.negative] {
            let inside = list.partition_point(|(k, _)| bucket_upper(*k, schema) <= zt);
            self.zero += list.drain(..inside).map(|(_, n)| n).sum::<u64>();
        }
    }

    /// Adds bucket `key` of `schema` (>= this schema), moving it to the zero bucket when it
    /// lies inside the zero threshold.
    fn add(&mut self, negative: bool, key: i32, schema: i8, n: u64) {
        let key = lower_key(key, schema - self.schema);
        if bucket_upper(key, self.schema) <= self.zero_threshold {
            self.zero += n;
            return;
        }
        let list = if negative { &mut self.negative } else { &mut self.positive };
        match list.binary_search_by_key(&key, |(k, _)| *k) {
            Ok(i) => list[i].1 += n,
            Err(i) => list.insert(i, (key, n)),
        }
    }

    /// Lowers the resolution by one step (not below -4); `false` if already there.
    fn halve(&mut self) -> bool {
        if self.schema <= MIN_SCHEMA {
            return false;
        }
        self.schema -= 1;
        for list in [&mut self.positive, &mut self.negative] {
            let old = core::mem::take(list);
            for (k, n) in old {
                let k = lower_key(k, 1);
                match list.last_mut() {
                    Some(last) if last.0 == k => last.1 += n,
                    _ => list.push((k, n)),
                }
            }
        }
        true
    }

    /// Widens the zero bucket over the bucket nearest zero if that stays within `max`.
    fn widen_zero(&mut self, max: f64) -> bool {
        let nearest = [self.positive.first(), self.negative.first()].into_iter().flatten().map(|b| b.0).min();
        let Some(key) = nearest else { return false };
        let threshold = bucket_upper(key, self.schema);
        if threshold > max {
            return false;
        }
        self.zero_threshold = threshold;
        for list in [&mut self.positive, &mut self.negative] {
            if list.first().is_some_and(|b| b.0 == key) {
                self.zero += list.remove(0).1;
            }
        }
        true
    }
}

/// What the lock guards: the totals and the bookkeeping of drains and resets.
struct State {
    totals: Option<Totals>,
    /// `started` (count bits) at the last drain: observations before it went to older shards.
    last_started: u64,
    /// Unix time of the last reset (NaN: never, i.e. the clock's install time).
    last_reset: f64,
    /// When a reset is due after a resolution loss (NaN: none).
    reset_due: f64,
}

/// Exemplars of the classic buckets (one each, the newest) and of the native histogram.
struct Exemplars {
    classic: Vec<Option<OwnedExemplar>>,
    native: Vec<OwnedExemplar>,
}

const HOT_BIT: u64 = 1 << 63;

/// The value of a native histogram: a child of `Family<NativeHistogramValue>`, configured by
/// the family's [`NativeConfig`].
///
/// ```
/// use promstack_alloc::{Family, NativeConfig, Opts};
/// let h = Opts::new("latency_seconds", "Latency.").native_histogram(NativeConfig::new(3).unwrap()).unwrap();
/// let child = h.get(()).unwrap();
/// for v in [0.0, 0.3, 0.5, 0.7, 3.0, -2.0] {
///     child.observe(v);
/// }
/// let text = String::from_utf8(promstack_core::encode_text(Vec::new(), &h).unwrap()).unwrap();
/// assert!(text.contains("latency_seconds_count 6.0\nlatency_seconds_sum 2.5\n"));
/// let (point, _) = child.snapshot();
/// assert_eq!(point.positive, [(-13, 1), (-8, 1), (-4, 1), (13, 1)]);
/// assert_eq!(point.negative, [(8, 1)]);
/// assert_eq!(point.zero, 1);
/// ```
pub struct NativeHistogramValue {
    /// Top bit: which shard is hot; the rest: observations started.
    started: AtomicU64,
    shards: [Shard; 2],
    state: Mutex<State>,
    exemplars: Mutex<Exemplars>,
}

/// A copy of a native histogram's totals, as [`NativeHistogramValue::snapshot`] returns them.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeSnapshot {
    /// Current schema (lower than configured after the bucket limit was hit).
    pub schema: i8,
    /// Current zero threshold.
    pub zero_threshold: f64,
    /// Observations.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// Observations in the zero bucket.
    pub zero: u64,
    /// Positive buckets, `(index, count)` by index.
    pub positive: Vec<(i32, u64)>,
    /// Negative buckets, `(index of |v|, count)` by index.
    pub negative: Vec<(i32, u64)>,
    /// Classic buckets, not cumulative; the last one counts what is above every bound.
    pub classic: Vec<u64>,
}

impl NativeHistogramValue {
    /// An empty value.
    pub const fn new() -> Self {
        NativeHistogramValue {
            started: AtomicU64::new(0),
            shards: [Shard::INIT, Shard::INIT],
            state: Mutex::new(State {
                totals: None,
                last_started: 0,
                last_reset: f64::NAN,
                reset_due: f64::NAN,
            }),
            exemplars: Mutex::new(Exemplars { classic: Vec::new(), native: Vec::new() }),
        }
    }

    /// Records `v` with the family's `cfg`.
    #[inline]
    pub fn observe(&self, cfg: &NativeConfig, v: f64) {
        loop {
            match self.record(cfg, v) {
                Recorded::Done => return,
                Recorded::OverLimit => {
                    if self.limit(cfg) {
                        continue; // a reset dropped it: record it again
                    }
                    return;
                }
                Recorded::Full => {
                    // Not on a shard any more, so waiting for the lock cannot hold up a drain.
                    let mut state = self.state.lock();
                    self.drain(cfg, &mut state);
                    self.apply_limit(cfg, &mut state);
                }
            }
        }
    }

    /// Records `v` and keeps `exemplar` for its classic bucket and for the native histogram.
    pub fn observe_with_exemplar(
        &self,
        cfg: &NativeConfig,
        v: f64,
        labels: &[(&str, &str)],
        timestamp: Option<Timestamp>,
    ) -> Result<(), ExemplarError> {
        let ex = make_exemplar(labels, v, timestamp)?;
        self.observe(cfg, v);
        let mut slots = self.exemplars.lock();
        if slots.classic.len() != cfg.classic.len() + 1 {
            slots.classic = alloc::vec![None; cfg.classic.len() + 1];
        }
        let i = classic_index(&cfg.classic, v);
        slots.classic[i] = Some(ex.clone());
        if slots.native.len() == MAX_NATIVE_EXEMPLARS {
            slots.native.remove(0);
        }
        slots.native.push(ex);
        Ok(())
    }

    /// One attempt at recording `v` on the hot shard.
    #[inline]
    fn record(&self, cfg: &NativeConfig, v: f64) -> Recorded {
        // AcqRel: the shard's schema and threshold, set before the drain flipped the hot bit,
        // are visible once this add has seen the flip.
        let n = self.started.fetch_add(1, Ordering::AcqRel);
        let shard = &self.shards[(n >> 63) as usize];
        let table = shard.table(cfg);
        let mut created = false;
        if !v.is_nan() {
            let zt = f64::from_bits(shard.zero_threshold.load(Ordering::Relaxed));
            if v > zt || v < -zt {
                let schema = shard.schema.load(Ordering::Relaxed) as i8;
                let key = i64::from(bucket_key(v, schema)) * 2 + i64::from(v < 0.0);
                match table.add(key, 1) {
                    Some(c) => created = c,
                    None => {
                        shard.aborted.fetch_add(1, Ordering::Relaxed);
                        shard.done.fetch_add(1, Ordering::Release);
                        return Recorded::Full;
                    }
                }
            } else {
                shard.zero.fetch_add(1, Ordering::Relaxed);
            }
        }
        if table.classic.len() > 1 {
            table.classic[classic_index(&cfg.classic, v)].fetch_add(1, Ordering::Relaxed);
        }
        shard.add_sum(v);
        // Release, last: a drain that sees this count sees everything above.
        shard.done.fetch_add(1, Ordering::Release);
        // The shard's keys are the buckets observed since the last change of parameters; the
        // totals may hold others, which the next scrape's check counts exactly.
        if created && shard.populated.fetch_add(1, Ordering::Relaxed) >= cfg.max_buckets as usize {
            return Recorded::OverLimit;
        }
        Recorded::Done
    }

    /// An observation created a bucket beyond the limit (of the shard's buckets, which the
    /// totals may not all hold yet). Applies the limit if the lock is free
    /// (a scrape holding it applies the limit itself). `true` when a reset dropped the
    /// observation.
    fn limit(&self, cfg: &NativeConfig) -> bool {
        let Some(mut state) = self.state.try_lock() else { return false };
        self.drain(cfg, &mut state);
        self.apply_limit(cfg, &mut state)
    }

    /// Moves the hot shard's counts into the totals (created from `cfg` if there are none).
    fn drain(&self, cfg: &NativeConfig, state: &mut State) {
        let mut totals = state.totals.take().unwrap_or_else(|| Totals::new(cfg));
        self.drain_into(state, &mut totals);
        state.totals = Some(totals);
    }

    /// Flips the hot bit, waits for the observations that started on the old hot shard, adds
    /// that shard up into `totals`, clears it and gives it the totals' parameters.
    fn drain_into(&self, state: &mut State, totals: &mut Totals) {
        let n = self.started.fetch_add(HOT_BIT, Ordering::AcqRel);
        let started = n & !HOT_BIT;
        let cold = &self.shards[(n >> 63) as usize];
        let expected = started.wrapping_sub(state.last_started);
        state.last_started = started;
        // Observations are a handful of instructions long: this wait is short, and no observer
        // ever waits for the lock while it is on a shard.
        while cold.done.load(Ordering::Acquire) != expected {
            core::hint::spin_loop();
        }
        let done = cold.done.swap(0, Ordering::Relaxed);
        let aborted = cold.aborted.swap(0, Ordering::Relaxed);
        totals.count += done - aborted;
        totals.sum += f64::from_bits(cold.sum.swap(0, Ordering::Relaxed));
        totals.zero += cold.zero.swap(0, Ordering::Relaxed);
        if let Some(table) = cold.table.get() {
            let schema = cold.schema.load(Ordering::Relaxed) as i8;
            let zt = f64::from_bits(cold.zero_threshold.load(Ordering::Relaxed));
            // A shard still on coarser parameters (after a reset) brings the totals down to them.
            while totals.schema > schema {
                totals.halve();
            }
            if zt > totals.zero_threshold {
                totals.raise_zero_threshold(zt);
            }
            // Keys stay claimed (with zero counts) while the parameters stay: the next
            // observations of a bucket then find it, and `populated` keeps meaning "buckets".
            for slot in table.slots.iter() {
                let key = slot.key.load(Ordering::Relaxed);
                if key == EMPTY {
                    continue;
                }
                let count = slot.count.swap(0, Ordering::Relaxed);
                if count > 0 {
                    totals.add(key & 1 == 1, (key >> 1) as i32, schema, count);
                }
            }
            for (i, c) in table.classic.iter().enumerate() {
                let c = c.swap(0, Ordering::Relaxed);
                if let Some(t) = totals.classic.get_mut(i) {
                    *t += c;
                }
            }
        }
        self.set_params(cold, totals);
    }

    /// Gives a drained (cold) shard the totals' schema and zero threshold; its claimed keys
    /// are released when they change (they no longer name the same buckets).
    fn set_params(&self, shard: &Shard, totals: &Totals) {
        let schema = i32::from(totals.schema);
        let zt = totals.zero_threshold.to_bits();
        if shard.schema.load(Ordering::Relaxed) == schema
            && shard.zero_threshold.load(Ordering::Relaxed) == zt
        {
            return;
        }
        if let Some(table) = shard.table.get() {
            for slot in table.slots.iter() {
                slot.key.store(EMPTY, Ordering::Relaxed);
                slot.count.store(0, Ordering::Relaxed);
            }
        }
        shard.populated.store(0, Ordering::Relaxed);
        shard.schema.store(schema, Ordering::Relaxed);
        shard.zero_threshold.store(zt, Ordering::Relaxed);
    }

    /// Brings the totals within the bucket limit (reset, wider zero bucket, lower resolution),
    /// then moves the hot shard over to the new parameters. `true` when it reset.
    fn apply_limit(&self, cfg: &NativeConfig, state: &mut State) -> bool {
        let now = unix_time();
        if let (Some(now), false) = (now, state.reset_due.is_nan()) {
            if now >= state.reset_due {
                self.reset_locked(cfg, state, now);
                return true;
            }
        }
        let Some(totals) = state.totals.as_mut() else { return false };
        if totals.buckets() <= cfg.max_buckets as usize {
            return false;
        }
        if cfg.min_reset_secs > 0.0 && state.reset_due.is_nan() {
            if let Some(now) = now {
                let last = if state.last_reset.is_nan() {
                    promstack_core::install_time().unwrap_or(now)
                } else {
                    state.last_reset
                };
                if now - last >= cfg.min_reset_secs {
                    self.reset_locked(cfg, state, now);
                    return true;
                }
                state.reset_due = last + cfg.min_reset_secs;
            }
        }
        let Some(totals) = state.totals.as_mut() else { return false };
        while totals.buckets() > cfg.max_buckets as usize {
            if !totals.widen_zero(cfg.max_zero_threshold) && !totals.halve() {
                // At -4 with every bucket beyond the zero bucket's limit: as client_golang,
                // leave it over the limit rather than lose observations.
                if !totals.widen_zero(f64::INFINITY) {
                    break;
                }
            }
        }
        // The cold shard (drained) takes the new parameters; the next drain moves the hot
        // one's counts, still in the old ones, over and switches observers to them.
        let cold_index = ((self.started.load(Ordering::Acquire) >> 63) ^ 1) as usize;
        self.set_params(&self.shards[cold_index], totals);
        self.drain(cfg, state);
        false
    }

    /// Drops every count (both shards and the totals); the creation time becomes `now`.
    fn reset_locked(&self, cfg: &NativeConfig, state: &mut State, now: f64) {
        self.drain(cfg, state);
        let fresh = Totals::new(cfg);
        let cold_index = ((self.started.load(Ordering::Acquire) >> 63) ^ 1) as usize;
        self.set_params(&self.shards[cold_index], &fresh);
        // Moves the hot shard's counts (old parameters) into the old totals, dropped below,
        // and switches observers to the cold shard with the fresh parameters.
        let mut old = state.totals.take().unwrap_or_else(|| Totals::new(cfg));
        self.drain_into(state, &mut old);
        state.totals = Some(fresh);
        // `drain_into` gave the drained shard the old totals' parameters: now the fresh ones.
        let fresh = state.totals.as_ref().unwrap_or_else(|| unreachable!());
        self.set_params(&self.shards[cold_index ^ 1], fresh);
        state.last_reset = now;
        state.reset_due = f64::NAN;
    }

    /// Drains the hot shard and returns the totals (and the exemplars).
    fn snapshot_with(
        &self,
        cfg: &NativeConfig,
    ) -> (NativeSnapshot, Vec<Option<OwnedExemplar>>, Vec<OwnedExemplar>) {
        let mut state = self.state.lock();
        self.drain(cfg, &mut state);
        self.apply_limit(cfg, &mut state);
        let t = state.totals.clone().unwrap_or_else(|| Totals::new(cfg));
        drop(state);
        let snap = NativeSnapshot {
            schema: t.schema,
            zero_threshold: t.zero_threshold,
            count: t.count,
            sum: t.sum,
            zero: t.zero,
            positive: t.positive,
            negative: t.negative,
            classic: t.classic,
        };
        let ex = self.exemplars.lock();
        (snap, ex.classic.clone(), ex.native.clone())
    }

    /// The current totals (a scrape's view).
    pub fn snapshot(&self, cfg: &NativeConfig) -> NativeSnapshot {
        self.snapshot_with(cfg).0
    }

    /// The creation time: of the last reset, or the clock's install time.
    fn created(&self) -> Option<f64> {
        let last = self.state.lock().last_reset;
        if last.is_nan() {
            promstack_core::install_time()
        } else {
            Some(last)
        }
    }
}

impl Default for NativeHistogramValue {
    fn default() -> Self {
        Self::new()
    }
}

/// What one recording attempt did.
enum Recorded {
    Done,
    /// Recorded, and created a bucket that may be beyond the limit.
    OverLimit,
    /// Not recorded: the table is full.
    Full,
}

/// The classic bucket of `v`: the first bound `>= v`; NaN and values above all go last.
#[inline]
fn classic_index(bounds: &[f64], v: f64) -> usize {
    if v.is_nan() {
        bounds.len()
    } else {
        bounds.partition_point(|b| *b < v)
    }
}

impl Metric for NativeHistogramValue {
    const METRIC_TYPE: MetricType = MetricType::Histogram;
    const INIT: Self = NativeHistogramValue::new();
    type Config = NativeConfig;

    fn reset(&self) {
        let mut state = self.state.lock();
        // The config is the family's, not known here: drain both shards into scratch totals
        // and leave the totals to be created afresh by the next scrape.
        let mut scratch = state.totals.take().unwrap_or_else(Totals::scratch);
        self.drain_into(&mut state, &mut scratch);
        self.drain_into(&mut state, &mut scratch);
        state.last_reset = unix_time().unwrap_or(f64::NAN);
        state.reset_due = f64::NAN;
        drop(state);
        let mut ex = self.exemplars.lock();
        ex.classic.clear();
        ex.native.clear();
    }

    fn report(
        &self,
        cfg: &NativeConfig,
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let (snap, classic_ex, native_ex) = self.snapshot_with(cfg);
        let native_views: Vec<ExemplarView<'_>> = native_ex.iter().map(ExemplarView::new).collect();
        let native: Vec<Exemplar<'_>> = native_views.iter().map(ExemplarView::exemplar).collect();
        let point = NativeHistogramPoint {
            schema: snap.schema,
            zero_threshold: snap.zero_threshold,
            zero_count: snap.zero,
            count: snap.count,
            sum: snap.sum,
            positive: &snap.positive,
            negative: &snap.negative,
            exemplars: &native,
        };
        sink.native_histogram(desc, &labels, &point)?;
        report_classic(&cfg.classic, &snap.classic, &classic_ex, snap.count, snap.sum, desc, labels, sink)?;
        if sink.wants_created() {
            if let Some(t) = self.created() {
                sink.sample(desc, &Sample::new("_created", labels, Value::Float(t)))?;
            }
        }
        Ok(())
    }
}

/// Reports classic `_bucket` samples (cumulative, with their exemplars), `_count` and `_sum`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn report_classic(
    bounds: &[f64],
    counts: &[u64],
    exemplars: &[Option<OwnedExemplar>],
    count: u64,
    sum: f64,
    desc: &Desc<'_>,
    labels: Labels<'_>,
    sink: &mut dyn Sink,
) -> Result<(), CollectError> {
    let le = ["le"];
    let mut acc = 0u64;
    for (i, bound) in bounds.iter().enumerate() {
        acc += counts.get(i).copied().unwrap_or(0);
        let mut buf = [0u8; FLOAT_BUF];
        let text = [go_float(*bound, &mut buf)];
        let view = exemplars.get(i).and_then(Option::as_ref).map(ExemplarView::new);
        let mut s = Sample::new("_bucket", labels.with_extra(&le, &text), Value::Int(acc));
        s.exemplar = view.as_ref().map(ExemplarView::exemplar);
        sink.sample(desc, &s)?;
    }
    let view = exemplars.get(bounds.len()).and_then(Option::as_ref).map(ExemplarView::new);
    let mut s = Sample::new("_bucket", labels.with_extra(&le, &["+Inf"]), Value::Int(count));
    s.exemplar = view.as_ref().map(ExemplarView::exemplar);
    sink.sample(desc, &s)?;
    sink.sample(desc, &Sample::new("_count", labels, Value::Int(count)))?;
    if bounds.first().is_none_or(|b| *b >= 0.0) {
        sink.sample(desc, &Sample::new("_sum", labels, Value::Float(sum)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
