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
use super::store::{
    erase_mutex_guard, erase_write_guard, hold, register_fork_locks, try_lock, Backend, Child, FileKind,
    ForkGate, ForkLocks,
};
use crate::{CounterExt, GaugeExt};
use hashbrown::{DefaultHashBuilder, HashTable};
use promstack_core::encoding::{go_float, FLOAT_BUF};
use promstack_core::{
    CollectError, Collector, Desc, LabelError, Labels, MetricType, Observe, Sample, Sink, Value, ValueError,
};
use promstack_core::{LabelSet, ValueBuf};
use std::any::Any;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, Weak};

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

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

/// Reports `child`'s samples (memory mode).
fn report(child: &Child, sink: &mut dyn Sink) -> Result<(), CollectError> {
    let meta = &child.meta;
    let desc = meta.desc();
    let names: Vec<&str> = meta.label_names.iter().map(String::as_str).collect();
    let values: Vec<&str> = child.label_values.iter().map(String::as_str).collect();
    let labels = Labels::new(&names, &values);
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
        report(child, sink)?;
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
#[repr(transparent)]
pub struct ChildRef(Arc<Child>);

impl ChildRef {
    fn from_arc(child: &Arc<Child>) -> &ChildRef {
        // SAFETY: `ChildRef` is a `repr(transparent)` wrapper of `Arc<Child>`: same layout,
        // and the returned reference borrows from `child`.
        unsafe { &*(child as *const Arc<Child>).cast::<ChildRef>() }
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

/// How many copies of a family's child index exist, each behind its own lock.
const REPLICAS: usize = 8;

/// One copy of the child index: children by the hash of their label values.
#[repr(align(128))]
struct Replica(RwLock<HashTable<Arc<Child>>>);

/// The replica this thread reads: picked from the address of its stack, so threads (whose
/// stacks are megabytes apart) mostly take different lock words and readers never bounce one
/// shared cache line between cores.
fn replica_index() -> usize {
    let marker = 0u8;
    (std::ptr::addr_of!(marker) as usize >> 21) % REPLICAS
}

struct FamilyInner {
    meta: Arc<Meta>,
    backend: Arc<Backend>,
    kind: FileKind,
    hasher: DefaultHashBuilder,
    replicas: [Replica; REPLICAS],
    /// Every child in creation order; its lock also serializes the creation of children.
    list: Mutex<Vec<Arc<Child>>>,
}

/// A family's list and every replica of its index are held across `fork()`, so a child never
/// finds one locked by a thread that did not follow it.
impl ForkLocks for FamilyInner {
    fn try_hold(self: Arc<Self>, held: &mut Vec<Box<dyn Any>>) -> bool {
        let Some(list) = try_lock(&self.list) else { return false };
        // SAFETY: `self` is held beside the guard and keeps the mutex alive.
        hold(held, unsafe { erase_mutex_guard(list) }, self.clone());
        self.replicas.iter().all(|r| {
            let g = match r.0.try_write() {
                Ok(g) => g,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return false,
            };
            // SAFETY: `self` is held beside the guard and keeps the lock alive.
            hold(held, unsafe { erase_write_guard(g) }, self.clone());
            true
        })
    }
}

/// A labeled multiprocess metric: children by label values, each a [`Counter`], [`Gauge`],
/// [`Summary`] or [`Histogram`].
///
/// Finding an existing child allocates nothing and takes the read lock of one of several copies
/// of the index (picked per thread), so concurrent lookups do not contend on one lock word; a
/// new child creates its entries in the process's file at 0 (as Python does), so it shows in
/// the merge at once.
/// Children cannot be removed: their values stay in the files anyway.
///
/// ```
/// use promstack::multiprocess::{Opts, Store};
/// let store = Store::memory();
/// let requests = store.counter_family(Opts::new("requests", "Requests."), &["method", "code"]).unwrap();
/// requests.labels(&["get", "200"]).unwrap().inc();
/// requests.get_by_name(&[("code", "200"), ("method", "get")]).unwrap().inc();
/// assert_eq!(requests.get(&["get", "200"]).unwrap().get(), 2.0);
/// assert!(requests.labels(&["get"]).is_err());
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
        let inner = Arc::new(FamilyInner {
            meta,
            backend,
            kind,
            hasher: DefaultHashBuilder::default(),
            replicas: std::array::from_fn(|_| Replica(RwLock::new(HashTable::new()))),
            list: Mutex::new(Vec::new()),
        });
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

    fn hash(&self, values: &[&str]) -> u64 {
        let mut h = self.inner.hasher.build_hasher();
        for v in values {
            // 0xff never occurs in UTF-8: ("ab", "c") and ("a", "bc") hash differently.
            h.write(v.as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    }

    /// Finds the child for `values` (of the right count) and runs `f` on it, creating it first
    /// if it is new.
    #[inline]
    fn lookup<R>(&self, values: &[&str], f: impl FnOnce(&Arc<Child>) -> R) -> R {
        let hash = self.hash(values);
        let matches = |c: &Arc<Child>| {
            c.hash == hash && c.label_values.iter().map(String::as_str).eq(values.iter().copied())
        };
        {
            let table = read(&self.inner.replicas[replica_index()].0);
            if let Some(c) = table.find(hash, matches) {
                return f(c);
            }
        }
        f(&self.create(hash, values))
    }

    #[cold]
    fn create(&self, hash: u64, values: &[&str]) -> Arc<Child> {
        let _gate = ForkGate::enter();
        let mut list = self.inner.list.lock().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have made it meanwhile; every replica gets each child before the
        // list lock is released, so any replica answers.
        let matches = |c: &Arc<Child>| {
            c.hash == hash && c.label_values.iter().map(String::as_str).eq(values.iter().copied())
        };
        if let Some(c) = read(&self.inner.replicas[0].0).find(hash, matches) {
            return c.clone();
        }
        let meta = self.inner.meta.clone();
        let keys = meta.keys(values);
        let owned: Box<[String]> = values.iter().map(|v| v.to_string()).collect();
        let child = self.inner.backend.child(meta, owned, hash, self.inner.kind, keys);
        for r in &self.inner.replicas {
            r.0.write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert_unique(hash, child.clone(), |c| c.hash);
        }
        list.push(child.clone());
        child
    }

    fn check_count(&self, values: &[&str]) -> Result<(), LabelError> {
        let expected = self.inner.meta.label_names.len();
        if values.len() != expected {
            return Err(LabelError::WrongCount { expected, got: values.len() });
        }
        Ok(())
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
        self.check_count(values)?;
        Ok(self.lookup(values, |c| M::from_child(ChildRef(c.clone()))))
    }

    /// Runs `f` with the child for `values` (created if new) and returns its result: the
    /// cheapest update, without touching the child's reference count. `f` runs under a read
    /// lock of this family, so it must not create children of the same family.
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// let hits = Store::memory().counter_family(Opts::new("hits", "Hits."), &["cache"]).unwrap();
    /// hits.with(&["l1"], |c| c.inc()).unwrap();
    /// assert_eq!(hits.with(&["l1"], |c| c.get()).unwrap(), 1.0);
    /// ```
    #[inline]
    pub fn with<R>(&self, values: &[&str], f: impl FnOnce(&M) -> R) -> Result<R, LabelError> {
        self.check_count(values)?;
        Ok(self.lookup(values, |c| f(M::from_child_ref(ChildRef::from_arc(c)))))
    }

    /// Python's name for [`Family::with_label_values`].
    pub fn labels(&self, values: &[&str]) -> Result<M, LabelError> {
        self.with_label_values(values)
    }

    /// The child for label values given by name, in any order; every label name exactly once.
    pub fn get_by_name(&self, pairs: &[(&str, &str)]) -> Result<M, LabelError> {
        let names = &self.inner.meta.label_names;
        // The same errors, in the same order, as every family's by-name lookup.
        promstack_core::check_label_pairs(names, pairs)?;
        let values: Vec<&str> =
            names.iter().filter_map(|name| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| *v)).collect();
        self.with_label_values(&values)
    }

    /// Number of children made in this process.
    pub fn len(&self) -> usize {
        self.inner.list.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// `true` when this process made no child yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
            let list = self.inner.list.lock().unwrap_or_else(PoisonError::into_inner).clone();
            for child in &list {
                report(child, sink)?;
            }
        }
        Ok(())
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.inner.meta.desc())
    }
}
