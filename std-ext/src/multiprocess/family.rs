//! The metric handles of multiprocess mode: [`Counter`], [`Gauge`], [`Summary`], [`Histogram`],
//! and [`Family`] for their labeled children. They are made by a [`Store`](super::Store) and
//! have the methods of the in-memory metrics.
//!
//! Each handle is a cheap clone of one child. Its [`Collector`] implementation reports the
//! family header (for registries' collision checks) and, in memory mode, its values; in
//! multiprocess mode the values are exposed by the merge of the directory instead
//! ([`MultiProcessCollector`](super::MultiProcessCollector) or the store itself), since one
//! process's share alone would be a wrong total.

use super::error::MultiProcessError;
use super::key::mmap_key;
use super::store::{hold, register_fork_locks, Backend, Child, FileKind, ForkGate, ForkLocks};
use crate::{CounterExt, GaugeExt};
use promstack_alloc::table::{ChildTable, LabelKey, TableEntry, TableLock};
use promstack_core::encoding::{go_float, FLOAT_BUF};
use promstack_core::{
    CollectError, Collector, Desc, LabelError, Labels, MetricType, Observe, Sample, Sink, Value, ValueError,
};
use promstack_core::{LabelSet, ValueBuf};
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Weak};

/// What a family knows about itself.
pub(crate) struct Meta {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: String,
    pub(crate) metric_type: MetricType,
    pub(crate) label_names: Vec<String>,
    /// Histogram bounds, `+Inf` last; empty for other types.
    pub(crate) buckets: Vec<f64>,
}

impl Meta {
    fn desc(&self) -> Desc<'_> {
        Desc { name: &self.name, help: &self.help, unit: &self.unit, metric_type: self.metric_type }
    }

    /// The file keys of a child with `values`, in Python's order of value creation.
    fn keys(&self, values: &[&str]) -> Vec<String> {
        let names: Vec<&str> = self.label_names.iter().map(String::as_str).collect();
        let key = |suffix: &str| mmap_key(&self.name, &format!("{}{suffix}", self.name), &names, values);
        match self.metric_type {
            MetricType::Counter => vec![key("_total")],
            MetricType::Summary => vec![key("_count"), key("_sum")],
            MetricType::Histogram => {
                let mut bucket_names = names.clone();
                bucket_names.push("le");
                let sample = format!("{}_bucket", self.name);
                let mut keys = vec![key("_sum")];
                for b in &self.buckets {
                    let mut buf = [0u8; FLOAT_BUF];
                    let mut bucket_values = values.to_vec();
                    bucket_values.push(go_float(*b, &mut buf));
                    keys.push(mmap_key(&self.name, &sample, &bucket_names, &bucket_values));
                }
                keys
            }
            _ => vec![key("")],
        }
    }
}

/// Reports `child`'s samples with `labels` (memory mode).
fn report(child: &Child, labels: Labels<'_>, sink: &mut dyn Sink) -> Result<(), CollectError> {
    let meta = &child.meta;
    let desc = meta.desc();
    let mut put = |suffix: &str, labels: Labels<'_>, v: f64| {
        sink.sample(&desc, &Sample::new(suffix, labels, Value::Float(v)))
    };
    match meta.metric_type {
        MetricType::Counter => put("_total", labels, child.get(0)),
        MetricType::Summary => {
            put("_count", labels, child.get(0))?;
            put("_sum", labels, child.get(1))
        }
        MetricType::Histogram => {
            let mut acc = 0.0;
            for (i, b) in meta.buckets.iter().enumerate() {
                acc += child.get(1 + i);
                let mut buf = [0u8; FLOAT_BUF];
                let le = [go_float(*b, &mut buf)];
                put("_bucket", labels.with_extra(&["le"], &le), acc)?;
            }
            put("_count", labels, acc)?;
            // As Python and core: no `_sum` when observations can be negative.
            if meta.buckets.first().is_none_or(|b| *b >= 0.0) {
                put("_sum", labels, child.get(0))?;
            }
            Ok(())
        }
        _ => put("", labels, child.get(0)),
    }
}

/// Header, then (memory mode) the child's samples.
fn collect_child(child: &Child, sink: &mut dyn Sink) -> Result<(), CollectError> {
    sink.family(&child.meta.desc())?;
    if child.backend().dir().is_none() {
        let meta = &child.meta;
        let names: Vec<&str> = meta.label_names.iter().map(String::as_str).collect();
        let values: Vec<&str> = child.label_values.iter().map(String::as_str).collect();
        report(child, Labels::new(&names, &values), sink)?;
    }
    Ok(())
}

mod sealed {
    pub trait Sealed {}
}

/// A kind of child a [`Family`] holds: [`Counter`], [`Gauge`], [`Summary`] or [`Histogram`].
/// Sealed.
pub trait Member: Clone + sealed::Sealed + Send + Sync + 'static {
    #[doc(hidden)]
    fn from_child(child: ChildRef) -> Self;
    #[doc(hidden)]
    fn from_child_ref(child: &ChildRef) -> &Self;
}

/// An opaque child reference, only for [`Member`]'s sealed constructors.
#[doc(hidden)]
#[derive(Clone)]
#[repr(transparent)]
pub struct ChildRef(Arc<Child>);

/// A family's children live in promstack-alloc's [`ChildTable`], the table of every growing
/// family; what is particular to files is how a removed child is retired.
impl TableEntry for ChildRef {
    #[inline]
    fn seq(&self) -> u64 {
        self.0.seq
    }
    #[inline]
    fn label_value(&self, i: usize) -> &str {
        &self.0.label_values[i]
    }
    fn retire(&self) {
        self.0.backend().retire(&self.0);
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        #[repr(transparent)]
        pub struct $name(Arc<Child>);

        impl sealed::Sealed for $name {}

        impl Member for $name {
            fn from_child(child: ChildRef) -> Self {
                $name(child.0)
            }
            fn from_child_ref(child: &ChildRef) -> &Self {
                // SAFETY: `$name` and `ChildRef` are both `repr(transparent)` wrappers of
                // `Arc<Child>`: same layout, and the returned reference borrows from `child`.
                unsafe { &*(child as *const ChildRef).cast::<$name>() }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("name", &self.0.meta.name)
                    .field("label_values", &self.0.label_values)
                    .finish_non_exhaustive()
            }
        }

        /// The family header; in memory mode also this child's samples.
        impl Collector for $name {
            fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
                collect_child(&self.0, sink)
            }
            fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
                sink.family(&self.0.meta.desc())
            }
        }
    };
}

handle!(
    /// A counter (or one labeled child of a counter family) in a [`Store`](super::Store).
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// use promstack::CounterExt;
    /// let store = Store::memory();
    /// let c = store.counter(Opts::new("jobs_total", "Jobs done.")).unwrap();
    /// c.inc();
    /// c.inc_by(2.5).unwrap();
    /// assert!(c.inc_by(-1.0).is_err());
    /// let _ = c.count_errors(|| "x".parse::<u8>());
    /// assert_eq!(c.get(), 4.5);
    /// ```
    Counter
);

impl Counter {
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.0.add(0, 1.0);
    }

    /// Adds `v`; a negative or NaN `v` is refused and changes nothing.
    #[inline]
    pub fn inc_by(&self, v: f64) -> Result<(), ValueError> {
        promstack_core::check_increment(v)?;
        self.0.add(0, v);
        Ok(())
    }

    /// This process's value (since the process started, or since its file was created).
    pub fn get(&self) -> f64 {
        self.0.get(0)
    }
}

impl CounterExt for Counter {
    fn counter_inc(&self) {
        self.inc();
    }
}

handle!(
    /// A gauge (or one labeled child of a gauge family) in a [`Store`](super::Store); its
    /// [`GaugeMode`](super::GaugeMode) decides how processes' values are merged.
    ///
    /// ```
    /// use promstack::multiprocess::{GaugeMode, Opts, Store};
    /// use promstack::GaugeExt;
    /// let store = Store::memory();
    /// let g = store.gauge(Opts::new("queue_length", "Queued jobs."), GaugeMode::LiveSum).unwrap();
    /// g.set(5.0);
    /// g.inc();
    /// g.dec();
    /// g.add(2.5);
    /// g.sub(0.5);
    /// {
    ///     let _busy = g.track_inprogress();
    ///     assert_eq!(g.get(), 8.0);
    /// }
    /// assert_eq!(g.get(), 7.0);
    /// ```
    Gauge
);

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.set(0, v);
    }

    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.0.add(0, 1.0);
    }

    /// Subtracts 1.
    #[inline]
    pub fn dec(&self) {
        self.0.add(0, -1.0);
    }

    /// Adds `v` (which may be negative).
    #[inline]
    pub fn add(&self, v: f64) {
        self.0.add(0, v);
    }

    /// Subtracts `v`.
    #[inline]
    pub fn sub(&self, v: f64) {
        self.0.add(0, -v);
    }

    /// Sets the value to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        self.set_to_now();
    }

    /// This process's value.
    pub fn get(&self) -> f64 {
        self.0.get(0)
    }
}

impl GaugeExt for Gauge {
    fn gauge_set(&self, v: f64) {
        self.set(v);
    }
    fn gauge_add(&self, v: f64) {
        self.add(v);
    }
}

handle!(
    /// A summary (count and sum of observations) in a [`Store`](super::Store).
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// use promstack::ObserveExt;
    /// let store = Store::memory();
    /// let s = store.summary(Opts::new("request_size_bytes", "Request sizes.")).unwrap();
    /// s.observe(512.0);
    /// s.time(|| ());
    /// assert_eq!(s.count(), 2.0);
    /// assert!(s.sum() >= 512.0);
    /// ```
    Summary
);

impl Summary {
    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.0.add(0, 1.0);
        self.0.add(1, v);
    }

    /// This process's number of observations.
    pub fn count(&self) -> f64 {
        self.0.get(0)
    }

    /// This process's sum of observations.
    pub fn sum(&self) -> f64 {
        self.0.get(1)
    }
}

impl Observe for Summary {
    fn observe(&self, v: f64) {
        Summary::observe(self, v);
    }
}

handle!(
    /// A histogram in a [`Store`](super::Store): a count per bucket (stored per bucket, made
    /// cumulative on exposition, as Python does) and a sum.
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// let store = Store::memory();
    /// let h = store.histogram(Opts::new("latency_seconds", "Latency."), &[0.5, 1.0]).unwrap();
    /// h.observe(0.3);
    /// h.observe(6.9);
    /// assert_eq!(h.cumulative(), [1.0, 1.0, 2.0]);
    /// assert_eq!(h.count(), 2.0);
    /// assert_eq!(h.sum(), 7.2);
    /// ```
    Histogram
);

impl Histogram {
    /// Records one observation in the first bucket whose bound is >= `v`. NaN, as in Python
    /// 0.8.0, is in no bucket (so not in the count) but makes the sum NaN, so processes of both
    /// languages merge alike.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.0.add(0, v);
        if v.is_nan() {
            return;
        }
        let bounds = &self.0.meta.buckets;
        let i = bounds.partition_point(|b| *b < v).min(bounds.len() - 1);
        self.0.add(1 + i, 1.0);
    }

    /// The bucket bounds, `+Inf` last.
    pub fn bounds(&self) -> &[f64] {
        &self.0.meta.buckets
    }

    /// This process's cumulative bucket counts, one per bound.
    pub fn cumulative(&self) -> Vec<f64> {
        let mut acc = 0.0;
        (0..self.0.meta.buckets.len())
            .map(|i| {
                acc += self.0.get(1 + i);
                acc
            })
            .collect()
    }

    /// This process's number of observations.
    pub fn count(&self) -> f64 {
        (0..self.0.meta.buckets.len()).map(|i| self.0.get(1 + i)).sum()
    }

    /// This process's sum of observations.
    pub fn sum(&self) -> f64 {
        self.0.get(0)
    }
}

impl Observe for Histogram {
    fn observe(&self, v: f64) {
        Histogram::observe(self, v);
    }
}

struct FamilyInner {
    meta: Arc<Meta>,
    backend: Arc<Backend>,
    kind: FileKind,
    table: ChildTable<ChildRef>,
}

/// Every lock of a family's table is held across `fork()`, so a child never finds one locked
/// by a thread that did not follow it.
impl ForkLocks for FamilyInner {
    fn try_hold(self: Arc<Self>, held: &mut Vec<Box<dyn Any>>) -> bool {
        let Some(locks) = self.table.try_lock_all() else { return false };
        // SAFETY: only the lifetime changes; `self` is held beside the guards and keeps the
        // table (and so its locks) alive as long as they are.
        let locks =
            unsafe { std::mem::transmute::<TableLock<'_, ChildRef>, TableLock<'static, ChildRef>>(locks) };
        hold(held, locks, self.clone());
        true
    }
}

/// A labeled multiprocess metric: children by label values, each a [`Counter`], [`Gauge`],
/// [`Summary`] or [`Histogram`].
///
/// Children are kept in promstack-alloc's [`ChildTable`], as the heap families' are: finding an
/// existing child allocates nothing and takes the read side of one of several lock words of
/// the table (picked per thread), so concurrent lookups do not contend on one lock word. A new
/// child creates its entries in the process's file at 0 (as Python does), so it shows in the
/// merge at once.
///
/// # Removed children
/// The rule of every promstack family: **an update through a handle whose child was removed
/// never reaches any exported series, in particular not a child re-created with the same
/// labels.** [`Family::remove`] marks the child's entries in the file as removed (a byte of the
/// key's padding, which Python's reader ignores; their values are zeroed too) and points the
/// child's cells at process memory. The merge skips marked entries, and a re-created child gets
/// new entries, so an update that raced the removal and still landed in an old entry is never
/// read. In memory mode a removed child's values are simply no longer reported. Python's reader,
/// which does not know the mark, sees a removed child's entries as zero (unless an update raced
/// the removal): its totals agree for counters, summaries, histograms and gauges in `all`,
/// `liveall` and `livesum` mode, but a `max` or `min` gauge may show that zero there. Two
/// stores of one process on one directory share its files: a child removed through one also
/// retires the entries of the same series made through the other (give each series one owner).
///
/// ```
/// use promstack::multiprocess::{Opts, Store};
/// let store = Store::memory();
/// let requests = store.counter_family(Opts::new("requests", "Requests."), &["method", "code"]).unwrap();
/// requests.get(&["get", "200"]).unwrap().inc();
/// requests.get_by_name(&[("code", "200"), ("method", "get")]).unwrap().inc();
/// assert_eq!(requests.get(&["get", "200"]).unwrap().get(), 2.0);
/// assert!(requests.get(&["get"]).is_err());
/// let text = String::from_utf8(promstack::encode_text(Vec::new(), &store).unwrap()).unwrap();
/// assert!(text.ends_with("requests_total{code=\"200\",method=\"get\"} 2.0\n"));
/// ```
pub struct Family<M> {
    inner: Arc<FamilyInner>,
    _member: PhantomData<fn() -> M>,
}

impl<M> Clone for Family<M> {
    fn clone(&self) -> Self {
        Family { inner: self.inner.clone(), _member: PhantomData }
    }
}

impl<M> fmt::Debug for Family<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.inner.meta.name)
            .field("label_names", &self.inner.meta.label_names)
            .finish_non_exhaustive()
    }
}

impl<M: Member> Family<M> {
    pub(crate) fn new(meta: Arc<Meta>, backend: Arc<Backend>, kind: FileKind) -> Family<M> {
        let names: Vec<&str> = meta.label_names.iter().map(String::as_str).collect();
        let table = ChildTable::new(&names);
        let inner = Arc::new(FamilyInner { meta, backend, kind, table });
        register_fork_locks(Arc::downgrade(&inner) as Weak<dyn ForkLocks>);
        Family { inner, _member: PhantomData }
    }

    /// The family name (counters: without `_total`).
    pub fn name(&self) -> &str {
        &self.inner.meta.name
    }

    /// The label names.
    pub fn label_names(&self) -> &[String] {
        &self.inner.meta.label_names
    }

    /// Finds the child for `key` (of the right count) and runs `f` on it, creating it first if
    /// it is new.
    #[inline]
    fn lookup<K: LabelKey + ?Sized, R>(&self, key: &K, f: impl FnOnce(&ChildRef) -> R) -> R {
        self.inner.table.lookup(key, f, |hash| self.create(hash, key))
    }

    #[cold]
    fn create<K: LabelKey + ?Sized>(&self, hash: u64, key: &K) -> ChildRef {
        // Before the table's writer lock: a fork waits for the gate, never for a held lock.
        let _gate = ForkGate::enter();
        self.inner.table.get_or_insert(hash, key, |seq| self.child(seq, key))
    }

    /// A new child for `key`, its entries created in the file.
    fn child<K: LabelKey + ?Sized>(&self, seq: u64, key: &K) -> ChildRef {
        let values: Vec<&str> = (0..key.len()).map(|i| key.at(i)).collect();
        let meta = self.inner.meta.clone();
        let keys = meta.keys(&values);
        let owned: Box<[String]> = values.iter().map(|v| v.to_string()).collect();
        ChildRef(self.inner.backend.child(meta, owned, seq, self.inner.kind, keys))
    }

    /// The child for `labels` (one value per label name, in order), created if new. `labels` is
    /// any [`LabelSet`]: `[&str; N]`, a tuple of [`LabelValue`](promstack_core::LabelValue)s
    /// or a struct with `#[derive(LabelSet)]`; a set whose size is not the family's label count
    /// is [`LabelError::WrongCount`]. Finding an existing child allocates nothing.
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// let hits = Store::memory().counter_family(Opts::new("hits", "Hits."), &["cache", "shard"]).unwrap();
    /// hits.get(("l1", 3u8)).unwrap().inc();
    /// assert_eq!(hits.get(["l1", "3"]).unwrap().get(), 1.0);
    /// ```
    #[inline]
    pub fn get<const N: usize>(&self, labels: impl LabelSet<N>) -> Result<M, LabelError> {
        let mut scratch = [const { ValueBuf::new() }; N];
        self.with_label_values(&labels.label_values(&mut scratch))
    }

    /// The child for `values` (one per label name, in order) counted at run time, created if
    /// new; a wrong number is [`LabelError::WrongCount`]. Finding an existing child allocates
    /// nothing.
    #[inline]
    pub fn with_label_values(&self, values: &[&str]) -> Result<M, LabelError> {
        let key = self.inner.table.positional(values)?;
        Ok(self.lookup(key, |c| M::from_child(c.clone())))
    }

    /// Runs `f` with the child for `values` (created if new) and returns its result: the
    /// cheapest update, without touching the child's reference count. `f` runs under a read
    /// lock of this family, so it must not create or remove children of the same family.
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// let hits = Store::memory().counter_family(Opts::new("hits", "Hits."), &["cache"]).unwrap();
    /// hits.with(&["l1"], |c| c.inc()).unwrap();
    /// assert_eq!(hits.with(&["l1"], |c| c.get()).unwrap(), 1.0);
    /// ```
    #[inline]
    pub fn with<R>(&self, values: &[&str], f: impl FnOnce(&M) -> R) -> Result<R, LabelError> {
        let key = self.inner.table.positional(values)?;
        Ok(self.lookup(key, |c| f(M::from_child_ref(c))))
    }

    /// Python's `labels(*values, **pairs)`: positional `values` or named `pairs`, not both
    /// ([`LabelError::MixedStyles`]), as promstack-alloc's `Family::labels`.
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// use promstack::LabelError;
    /// let c = Store::memory().counter_family(Opts::new("c", "C."), &["a", "b"]).unwrap();
    /// c.labels(&["x", "y"], &[]).unwrap().inc();
    /// assert_eq!(c.labels(&[], &[("b", "y"), ("a", "x")]).unwrap().get(), 1.0);
    /// assert_eq!(c.labels(&["x"], &[("b", "y")]).unwrap_err(), LabelError::MixedStyles);
    /// ```
    pub fn labels(&self, values: &[&str], pairs: &[(&str, &str)]) -> Result<M, LabelError> {
        match (values.is_empty(), pairs.is_empty()) {
            (false, false) => Err(LabelError::MixedStyles),
            (true, false) => self.get_by_name(pairs),
            _ => self.with_label_values(values),
        }
    }

    /// The child for label values given by name, in any order; every label name exactly once
    /// (the same errors, in the same order, as every family's by-name lookup). Allocates
    /// nothing for an existing child.
    pub fn get_by_name(&self, pairs: &[(&str, &str)]) -> Result<M, LabelError> {
        let key = self.inner.table.named(pairs)?;
        Ok(self.lookup(&key, |c| M::from_child(c.clone())))
    }

    /// Removes the child for `values`; `Ok(true)` if it existed. Handles to it keep working but
    /// their updates reach no exported series (see [Removed children](Family#removed-children));
    /// the same labels looked up again make a fresh child, starting at 0. On a family without
    /// labels, the one child is replaced by a fresh one.
    ///
    /// ```
    /// use promstack::multiprocess::{MultiProcessCollector, Opts, Store};
    /// let dir = std::env::temp_dir().join(format!("doc-mp-remove-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let jobs = Store::open(&dir).unwrap().counter_family(Opts::new("jobs", "Jobs."), &["queue"]).unwrap();
    /// let old = jobs.get(&["mail"]).unwrap();
    /// old.inc_by(5.0).unwrap();
    /// assert_eq!(jobs.remove(&["mail"]), Ok(true));
    /// old.inc(); // reaches no exported series
    /// jobs.get(&["mail"]).unwrap().inc();
    /// let merged = MultiProcessCollector::new(&dir).unwrap().merge();
    /// assert_eq!(merged.get_sample_value("jobs_total", &[("queue", "mail")]), Some(1.0));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn remove<const N: usize>(&self, labels: impl LabelSet<N>) -> Result<bool, LabelError> {
        let mut scratch = [const { ValueBuf::new() }; N];
        self.remove_label_values(&labels.label_values(&mut scratch))
    }

    /// [`Family::remove`] with values counted at run time.
    pub fn remove_label_values(&self, values: &[&str]) -> Result<bool, LabelError> {
        let key = self.inner.table.positional(values)?;
        Ok(self.remove_key(key))
    }

    /// [`Family::remove`] with `(name, value)` pairs.
    pub fn remove_by_name(&self, pairs: &[(&str, &str)]) -> Result<bool, LabelError> {
        let key = self.inner.table.named(pairs)?;
        Ok(self.remove_key(&key))
    }

    /// Removes every child, as [`Family::remove`] does each (a family without labels gets a
    /// fresh child).
    pub fn clear(&self) {
        let _gate = ForkGate::enter();
        let none: [&str; 0] = [];
        self.inner.table.clear(|seq| self.child(seq, &none));
    }

    fn remove_key<K: LabelKey + ?Sized>(&self, key: &K) -> bool {
        let _gate = ForkGate::enter();
        self.inner.table.remove(key, |seq| self.child(seq, key)).is_some()
    }

    /// Number of children in this process.
    pub fn len(&self) -> usize {
        self.inner.table.len()
    }

    /// `true` when this process has no child.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Handles to every child of this process, in creation order.
    pub fn children(&self) -> Vec<M> {
        self.inner.table.children().into_iter().map(M::from_child).collect()
    }

    /// The child of a family without labels.
    pub(crate) fn only_child(&self) -> Result<M, MultiProcessError> {
        self.get(()).map_err(MultiProcessError::Label)
    }
}

/// The family header; in memory mode also every child's samples.
impl<M: Member> Collector for Family<M> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = self.inner.meta.desc();
        sink.family(&desc)?;
        if self.inner.backend.dir().is_none() {
            self.inner.table.report(sink, |child, labels, sink| report(&child.0, labels, sink))?;
        }
        Ok(())
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.inner.meta.desc())
    }
}
