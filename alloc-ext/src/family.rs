//! Labeled metrics with any number of children: [`Family`], its [`OwnedChild`] handles, and the
//! [`Opts`] that name a family.
//!
//! This is the heap-backed sibling of core's fixed-capacity `FixedFamily`: children are created on
//! first use, own their label values, and can be removed. The same [`Metric`] value types
//! (`CounterValue`, `GaugeValue`, `HistogramValue<N>`, ...) serve as children of both.
//!
//! # The lookup hot path
//! A family keeps its children in [`REPLICAS`] copies of one hash table, each behind its own
//! reader-writer lock on its own cache line (a "distributed reader lock"). A thread reads the
//! replica picked from the address of its stack: threads run on distinct stacks (2 MiB apart
//! by default), so concurrent readers mostly take distinct lock words and never bounce one
//! shared cache line between cores, even when they all look up the same hot child. A lookup
//! hashes the `&str` values (foldhash, with a `0xff` byte after each value, a byte UTF-8 never
//! contains, so `("ab","c")` and `("a","bc")` differ) before taking the lock, then probes a
//! `hashbrown::HashTable` whose entries keep their hash, comparing the owned
//! `Box<[Box<str>]>` key with the borrowed values in place: no `String` is built and nothing is
//! allocated. [`Family::get`] then clones the child's `Arc` (one atomic increment on the
//! child's own cache line); [`Family::with`] skips even that.
//!
//! Writers (a new child, `remove`, `clear`) are rare: they serialize on one mutex, then update
//! the replicas one after the other, each under its write lock. All writers apply the same
//! changes in the same order, so every replica goes through the same states; a reader that
//! misses a child on a replica not yet updated falls back to the writer path, which finds it.
//! A reader may still see a child on a replica that a `remove` has not reached yet, which is the
//! same as having looked it up just before the remove. No `unsafe` code is involved: the replicas
//! are plain `spin` locks around plain tables, and children are shared through `Arc`.
//!
//! A scrape clones the children's `Arc`s out of one replica, releases the lock, sorts them by
//! creation order (Python's order) and reports them, so a slow writer of the exposition never
//! holds a lock that child creation or updates wait on.

#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
use crate::exemplar::ExemplarHistogramValue;
use crate::info::OwnedInfoValue;
#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
use crate::native::{ExemplarError, NativeConfig, NativeHistogramValue, NativeSnapshot};
use crate::sync::{Arc, Mutex, RwLock};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hasher};
use core::ops::Deref;
use hashbrown::{DefaultHashBuilder, HashTable};
use promstack_core::{
    check_label_names, check_label_pairs, check_metric_name, strip_counter_total, BoundedStr, CollectError,
    Collector, CounterValue, Desc, DescError, EnumValue, GaugeValue, HistogramValue, LabelError, Labels,
    Metric, MetricType, Observe, Sink, SummaryValue, ValueError,
};
use promstack_core::{LabelSet, ValueBuf};

/// How many copies of the child table a family keeps, each behind its own lock.
pub const REPLICAS: usize = 8;

/// How a family is named and labeled: name, help, optional namespace, subsystem and unit, and
/// label names. The full name is `namespace_subsystem_name_unit` (empty parts and their `_`
/// left out; the unit appended only when the name does not already end with `_<unit>`); a
/// counter's trailing `_total` is dropped before the unit is considered, as Python 0.8.0 does.
///
/// ```
/// use promstack_alloc::Opts;
/// let latency = Opts::new("latency", "Handler latency.")
///     .namespace("app")
///     .subsystem("http")
///     .unit("seconds")
///     .label_names(&["route"])
///     .histogram([0.1, 0.5, 1.0])
///     .unwrap();
/// assert_eq!(latency.name(), "app_http_latency_seconds");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Opts<'a> {
    /// The metric name (the last part of the full name).
    pub name: &'a str,
    /// Help text.
    pub help: &'a str,
    /// Optional first part of the full name.
    pub namespace: &'a str,
    /// Optional second part of the full name.
    pub subsystem: &'a str,
    /// Optional unit; appended to the name as `_<unit>` unless already there.
    pub unit: &'a str,
    /// Label names of the children.
    pub label_names: &'a [&'a str],
}

impl<'a> Opts<'a> {
    /// Options with just a name and a help text.
    pub const fn new(name: &'a str, help: &'a str) -> Self {
        Opts { name, help, namespace: "", subsystem: "", unit: "", label_names: &[] }
    }

    /// Sets the namespace.
    pub const fn namespace(self, namespace: &'a str) -> Self {
        Opts { namespace, ..self }
    }

    /// Sets the subsystem.
    pub const fn subsystem(self, subsystem: &'a str) -> Self {
        Opts { subsystem, ..self }
    }

    /// Sets the unit (not allowed for Info and Enum).
    pub const fn unit(self, unit: &'a str) -> Self {
        Opts { unit, ..self }
    }

    /// Sets the label names.
    pub const fn label_names(self, label_names: &'a [&'a str]) -> Self {
        Opts { label_names, ..self }
    }

    /// The full name a family of `metric_type` gets from these options, validated with the unit.
    ///
    /// ```
    /// use promstack_alloc::Opts;
    /// use promstack_core::MetricType;
    /// let o = Opts::new("c_total", "").namespace("a").subsystem("b");
    /// assert_eq!(o.full_name(MetricType::Counter).unwrap(), "a_b_c");
    /// assert!(Opts::new("x", "").unit("bytes").full_name(MetricType::Info).is_err());
    /// ```
    pub fn full_name(&self, metric_type: MetricType) -> Result<String, DescError> {
        let mut full = String::with_capacity(
            self.namespace.len() + self.subsystem.len() + self.name.len() + self.unit.len() + 3,
        );
        for part in [self.namespace, self.subsystem] {
            if !part.is_empty() {
                full.push_str(part);
                full.push('_');
            }
        }
        full.push_str(self.name);
        let kept = strip_counter_total(&full, metric_type).len();
        full.truncate(kept);
        if !self.unit.is_empty() {
            if !self.unit.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':') {
                return Err(DescError::InvalidUnit(BoundedStr::new(self.unit)));
            }
            if matches!(metric_type, MetricType::Info | MetricType::StateSet) {
                return Err(DescError::UnitNotAllowed(BoundedStr::new(&full)));
            }
            let has_suffix = full.len() > self.unit.len()
                && full.ends_with(self.unit)
                && full.as_bytes()[full.len() - self.unit.len() - 1] == b'_';
            if !has_suffix {
                full.push('_');
                full.push_str(self.unit);
            }
        }
        check_metric_name(&full)?;
        // Validates the unit's characters; the name is taken as built (a counter named
        // `c_total` with unit `total` stays `c_total`, as in Python).
        Desc { name: &full, help: "", unit: "", metric_type }.try_with_unit(self.unit)?;
        Ok(full)
    }

    /// A family of any [`Metric`] with `config` (bucket bounds, states, ...). The typed
    /// constructors ([`Opts::counter`], [`Opts::histogram`], ...) also validate their config;
    /// this one checks names only.
    pub fn build<M: Metric>(&self, config: M::Config) -> Result<Family<M>, DescError> {
        Family::new(*self, config)
    }

    /// A counter family.
    pub fn counter(&self) -> Result<Family<CounterValue>, DescError> {
        self.build(())
    }

    /// A gauge family.
    pub fn gauge(&self) -> Result<Family<GaugeValue>, DescError> {
        self.build(())
    }

    /// A summary family (count and sum; `quantile` is a reserved label name).
    pub fn summary(&self) -> Result<Family<SummaryValue>, DescError> {
        self.build(())
    }

    /// A histogram family with bucket `bounds`: sorted strictly ascending, no NaN, at least one
    /// finite bound; `+Inf` is implied (and may be given last). `le` is a reserved label name.
    pub fn histogram<const N: usize>(
        &self,
        bounds: [f64; N],
    ) -> Result<Family<HistogramValue<N>>, DescError> {
        self.build(bounds)
    }

    /// A native histogram family (see [`NativeHistogramValue`]); `le` is a reserved label name.
    #[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
    pub fn native_histogram(&self, config: NativeConfig) -> Result<Family<NativeHistogramValue>, DescError> {
        self.build(config)
    }

    /// An Info family whose children set their label pairs at run time.
    pub fn info(&self) -> Result<Family<OwnedInfoValue>, DescError> {
        self.build(())
    }

    /// An Enum family (a stateset) with `states`: at least one, all distinct; the first is the
    /// initial state. No label may be named like the metric (that is the state label).
    pub fn enumeration(&self, states: &'static [&'static str]) -> Result<Family<EnumValue>, DescError> {
        self.build(states)
    }
}

/// What every child of a family shares: the names and the config.
struct Shared<M: Metric> {
    name: Box<str>,
    help: Box<str>,
    unit: Box<str>,
    label_names: Box<[Box<str>]>,
    config: M::Config,
}

/// One child: its label values, value and bookkeeping.
struct Node<M: Metric> {
    shared: Arc<Shared<M>>,
    values: Box<[Box<str>]>,
    hash: u64,
    /// Creation order within the family, for reporting in Python's order.
    seq: u64,
    value: M,
}

impl<M: Metric> Node<M> {
    #[inline]
    fn matches(&self, key: &impl Key) -> bool {
        self.values.len() == key.len() && self.values.iter().enumerate().all(|(i, v)| **v == *key.at(i))
    }
}

/// A handle to one child of a [`Family`]: dereferences to the metric value, and can be kept and
/// used with no lookup at all. Cloning it clones an `Arc`.
///
/// A handle whose child was removed keeps working but is no longer reported; looking the same
/// labels up again creates a fresh child.
///
/// ```
/// use promstack_alloc::Family;
/// let requests = Family::counter("requests_total", "Requests.", &["method"]).unwrap();
/// let get = requests.get(&["get"]).unwrap(); // look up once ...
/// for _ in 0..3 {
///     get.inc(); // ... then update with no lookup
/// }
/// assert_eq!(requests.get(&["get"]).unwrap().get(), 3.0);
/// assert_eq!(get.label_values().collect::<Vec<_>>(), ["get"]);
/// ```
pub struct OwnedChild<M: Metric>(Arc<Node<M>>);

impl<M: Metric> Clone for OwnedChild<M> {
    fn clone(&self) -> Self {
        OwnedChild(self.0.clone())
    }
}

impl<M: Metric> Deref for OwnedChild<M> {
    type Target = M;
    #[inline]
    fn deref(&self) -> &M {
        &self.0.value
    }
}

impl<M: Metric> fmt::Debug for OwnedChild<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedChild")
            .field("family", &&*self.0.shared.name)
            .field("labels", &DebugLabels(self))
            .finish()
    }
}

struct DebugLabels<'a, M: Metric>(&'a OwnedChild<M>);

impl<M: Metric> fmt::Debug for DebugLabels<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.labels()).finish()
    }
}

impl<M: Metric> OwnedChild<M> {
    /// The metric value.
    #[inline]
    pub fn value(&self) -> &M {
        &self.0.value
    }

    /// The child's label values, in the family's label-name order.
    pub fn label_values(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.0.values.iter().map(|s| &**s)
    }

    /// The child's `(name, value)` label pairs, in the family's label-name order.
    pub fn labels(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.0.shared.label_names.iter().map(|s| &**s).zip(self.label_values())
    }

    /// `true` when both handles point to the same child.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<const N: usize> OwnedChild<HistogramValue<N>> {
    /// Records one observation into the family's buckets.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.0.value.observe(&self.0.shared.config, v);
    }

    /// The family's bucket bounds.
    pub fn bounds(&self) -> &[f64; N] {
        &self.0.shared.config
    }
}

impl<const N: usize> Observe for OwnedChild<HistogramValue<N>> {
    fn observe(&self, v: f64) {
        self.0.value.observe(&self.0.shared.config, v);
    }
}

#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
impl OwnedChild<NativeHistogramValue> {
    /// Records one observation (lock-free; see [`NativeHistogramValue`]).
    #[inline]
    pub fn observe(&self, v: f64) {
        self.0.value.observe(&self.0.shared.config, v);
    }

    /// Records `v` and keeps an exemplar with `labels` (at most 128 characters together) for
    /// its classic bucket and the native histogram.
    pub fn observe_with_exemplar(
        &self,
        v: f64,
        labels: &[(&str, &str)],
        timestamp: Option<promstack_core::Timestamp>,
    ) -> Result<(), ExemplarError> {
        self.0.value.observe_with_exemplar(&self.0.shared.config, v, labels, timestamp)
    }

    /// The current totals, and the family's config.
    pub fn snapshot(&self) -> (NativeSnapshot, &NativeConfig) {
        (self.0.value.snapshot(&self.0.shared.config), &self.0.shared.config)
    }
}

#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
impl Observe for OwnedChild<NativeHistogramValue> {
    fn observe(&self, v: f64) {
        self.0.value.observe(&self.0.shared.config, v);
    }
}

#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
impl<const N: usize> OwnedChild<ExemplarHistogramValue<N>> {
    /// Records one observation (no exemplar).
    #[inline]
    pub fn observe(&self, v: f64) {
        self.0.value.observe(&self.0.shared.config, v);
    }

    /// Records `v` and keeps an exemplar with `labels` (at most 128 characters together) for
    /// its bucket.
    pub fn observe_with_exemplar(
        &self,
        v: f64,
        labels: &[(&str, &str)],
        timestamp: Option<promstack_core::Timestamp>,
    ) -> Result<(), ExemplarError> {
        self.0.value.observe_with_exemplar(&self.0.shared.config, v, labels, timestamp)
    }
}

#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
impl<const N: usize> Observe for OwnedChild<ExemplarHistogramValue<N>> {
    fn observe(&self, v: f64) {
        self.0.value.observe(&self.0.shared.config, v);
    }
}

impl Observe for OwnedChild<SummaryValue> {
    fn observe(&self, v: f64) {
        self.0.value.observe(v);
    }
}

impl OwnedChild<EnumValue> {
    /// Switches to `state`; an unknown state is refused and changes nothing.
    pub fn set(&self, state: &str) -> Result<(), ValueError> {
        self.0.value.set(self.0.shared.config, state)
    }

    /// The current state.
    pub fn get(&self) -> &'static str {
        let states = self.0.shared.config;
        states[self.0.value.index().min(states.len() - 1)]
    }

    /// The family's states.
    pub fn states(&self) -> &'static [&'static str] {
        self.0.shared.config
    }
}

impl OwnedChild<OwnedInfoValue> {
    /// Replaces the Info's label pairs. Names must be valid, not reserved, distinct, and not one of
    /// the family's label names (Python: "Overlapping labels for Info metric").
    pub fn set_info(&self, pairs: &[(&str, &str)]) -> Result<(), DescError> {
        self.0.value.set(pairs, &self.0.shared.label_names)
    }
}

/// Label values of one lookup, read in the family's label-name order.
trait Key {
    fn len(&self) -> usize;
    fn at(&self, i: usize) -> &str;
}

/// Values given by position.
struct Positional<'a>(&'a [&'a str]);

impl Key for Positional<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
    #[inline]
    fn at(&self, i: usize) -> &str {
        self.0[i]
    }
}

/// Label sets up to this size are looked up by name through a position table on the stack.
const MAX_ORDERED: usize = 16;

/// Values given as `(name, value)` pairs in any order, already checked to name every label
/// exactly once. For up to [`MAX_ORDERED`] labels, bits `4i..4i+4` of `order` hold the position
/// in `pairs` of label `i` (a register, not a byte array: no buffer, no store-forwarding stall);
/// larger sets scan the pairs.
struct Named<'a> {
    names: &'a [Box<str>],
    pairs: &'a [(&'a str, &'a str)],
    order: u64,
}

impl Key for Named<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.names.len()
    }
    #[inline]
    fn at(&self, i: usize) -> &str {
        if self.names.len() <= MAX_ORDERED {
            return self.pairs[(self.order >> (4 * i)) as usize & 0xf].1;
        }
        let name = &*self.names[i];
        self.pairs.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v)
    }
}

/// One copy of the child table, alone on its cache line(s) so that readers of different
/// replicas never share one.
#[repr(align(128))]
struct Replica<M: Metric>(RwLock<HashTable<OwnedChild<M>>>);

impl<M: Metric> Replica<M> {
    /// Write access that readers cannot starve: the upgradeable guard raises a flag that turns
    /// new readers away (they retry), then the upgrade waits only for the readers already inside.
    /// Writers are serialized by the family's writer mutex, so the flag is always free here.
    fn write(&self) -> spin::rwlock::RwLockWriteGuard<'_, HashTable<OwnedChild<M>>, crate::sync::Relax> {
        self.0.upgradeable_read().upgrade()
    }
}

/// The replica the calling thread reads: picked from the address of a local variable, i.e. from
/// the thread's stack. Any choice is correct; this one spreads concurrent threads over
/// replicas and keeps one thread on one replica.
#[inline]
fn replica_index() -> usize {
    let marker = 0u8;
    let addr = core::ptr::addr_of!(marker) as usize;
    (addr >> 21) % REPLICAS
}

/// A labeled metric: one family name and help text, label names, and any number of children
/// (one per combination of label values), created on first use.
///
/// `M` is the child's value type, one of core's [`Metric`]s: `CounterValue`, `GaugeValue`,
/// `SummaryValue`, `HistogramValue<N>`, `EnumValue`, or [`OwnedInfoValue`]. A family with no
/// label names is an unlabeled metric: its one child exists from the start, is reached with
/// `get(&[])`, and is reported even before it is first updated, like Python's unlabeled metrics.
/// A labeled family with no children reports only its `# HELP` and `# TYPE` lines.
///
/// # Concurrency
/// Looking up an existing child allocates nothing and takes a read lock on one of
/// [`REPLICAS`] copies of the child table, picked per thread, so concurrent readers (even of
/// the same child) do not contend on one lock word. Creating or removing a child updates every
/// copy under its write lock; that is rare and short, and a scrape holds no lock while it writes.
/// A kept [`OwnedChild`] needs no lookup at all.
///
/// The locks spin (or, with the `std` feature, yield) while a writer works, so on a
/// microcontroller do not look children up from an interrupt handler that may preempt a writer:
/// keep an [`OwnedChild`] for it, or use core's lock-free `FixedFamily`.
///
/// ```
/// use promstack_alloc::Family;
/// use promstack_core::encode_text;
/// let requests = Family::counter("http_requests_total", "Requests served.", &["method", "code"]).unwrap();
/// requests.get(&["get", "200"]).unwrap().inc();
/// requests.get_by_name(&[("code", "200"), ("method", "get")]).unwrap().inc_by(2.0).unwrap();
/// assert!(requests.get(&["get"]).is_err()); // wrong number of values
/// let out = encode_text(Vec::new(), &requests).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n\
///      http_requests_total{code=\"200\",method=\"get\"} 3.0\n"
/// );
/// ```
///
/// A child handle cannot be labeled again (Python's `test_labels_on_labels` raises at run time;
/// here it does not compile):
/// ```compile_fail
/// let c = promstack_alloc::Family::counter("c", "", &["l"]).unwrap();
/// c.get(&["a"]).unwrap().get(&["b"]);
/// ```
pub struct Family<M: Metric> {
    shared: Arc<Shared<M>>,
    hasher: DefaultHashBuilder,
    replicas: Box<[Replica<M>]>,
    /// Serializes writers; holds the next creation number.
    writer: Mutex<u64>,
}

impl<M: Metric> fmt::Debug for Family<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("name", &&*self.shared.name)
            .field("type", &M::METRIC_TYPE)
            .field("label_names", &self.shared.label_names)
            .field("children", &self.len())
            .finish()
    }
}

impl Family<CounterValue> {
    /// A counter family named `name` (a trailing `_total` is dropped; the exposition adds it).
    ///
    /// ```
    /// let c = promstack_alloc::Family::counter("c_total", "Help.", &["l"]).unwrap();
    /// assert_eq!(c.name(), "c");
    /// ```
    pub fn counter(name: &str, help: &str, label_names: &[&str]) -> Result<Self, DescError> {
        Opts::new(name, help).label_names(label_names).counter()
    }
}

impl Family<GaugeValue> {
    /// A gauge family.
    ///
    /// ```
    /// let g = promstack_alloc::Family::gauge("queue_length", "Queued jobs.", &["queue"]).unwrap();
    /// g.get(&["mail"]).unwrap().set(4.0);
    /// ```
    pub fn gauge(name: &str, help: &str, label_names: &[&str]) -> Result<Self, DescError> {
        Opts::new(name, help).label_names(label_names).gauge()
    }
}

impl Family<SummaryValue> {
    /// A summary family (count and sum).
    ///
    /// ```
    /// let s = promstack_alloc::Family::summary("request_size_bytes", "Sizes.", &[]).unwrap();
    /// s.get(()).unwrap().observe(512.0);
    /// ```
    pub fn summary(name: &str, help: &str, label_names: &[&str]) -> Result<Self, DescError> {
        Opts::new(name, help).label_names(label_names).summary()
    }
}

impl<const N: usize> Family<HistogramValue<N>> {
    /// A histogram family with bucket `bounds` (`+Inf` implied); core's `DEFAULT_BUCKETS` are
    /// Python's defaults.
    ///
    /// ```
    /// use promstack_core::DEFAULT_BUCKETS;
    /// let h = promstack_alloc::Family::histogram("latency_seconds", "Latency.", &["route"], DEFAULT_BUCKETS).unwrap();
    /// h.get(&["/"]).unwrap().observe(0.2);
    /// ```
    pub fn histogram(
        name: &str,
        help: &str,
        label_names: &[&str],
        bounds: [f64; N],
    ) -> Result<Self, DescError> {
        Opts::new(name, help).label_names(label_names).histogram(bounds)
    }
}

impl Family<OwnedInfoValue> {
    /// An Info family; each child sets its pairs with [`OwnedChild::set_info`].
    ///
    /// ```
    /// let i = promstack_alloc::Family::info("build", "Build.", &[]).unwrap();
    /// i.get(()).unwrap().set_info(&[("version", "1.0")]).unwrap();
    /// ```
    pub fn info(name: &str, help: &str, label_names: &[&str]) -> Result<Self, DescError> {
        Opts::new(name, help).label_names(label_names).info()
    }
}

impl Family<EnumValue> {
    /// An Enum family with `states`; each child starts in the first state.
    ///
    /// ```
    /// let e = promstack_alloc::Family::enumeration("task_state", "State.", &[], &["idle", "busy"]).unwrap();
    /// e.get(()).unwrap().set("busy").unwrap();
    /// assert!(e.get(()).unwrap().set("gone").is_err());
    /// ```
    pub fn enumeration(
        name: &str,
        help: &str,
        label_names: &[&str],
        states: &'static [&'static str],
    ) -> Result<Self, DescError> {
        Opts::new(name, help).label_names(label_names).enumeration(states)
    }
}

impl<M: Metric> Family<M> {
    /// A family described by `opts`, its children reporting with `config`. Names and label names
    /// are validated; `config` is not (prefer the typed constructors, which check it).
    ///
    /// ```
    /// use promstack_alloc::{Family, Opts};
    /// use promstack_core::GaugeValue;
    /// let g: Family<GaugeValue> = Family::new(Opts::new("temp", "Temperature.").unit("celsius"), ()).unwrap();
    /// assert_eq!(g.name(), "temp_celsius");
    /// ```
    pub fn new(opts: Opts<'_>, config: M::Config) -> Result<Self, DescError> {
        let name = opts.full_name(M::METRIC_TYPE)?;
        check_label_names(opts.label_names, M::METRIC_TYPE)?;
        // Bucket order, Enum states (and their label), Info pair names.
        M::check_config(&config, &name, opts.label_names)?;
        let shared = Shared {
            name: name.into_boxed_str(),
            help: opts.help.into(),
            unit: opts.unit.into(),
            label_names: opts.label_names.iter().map(|n| Box::from(*n)).collect(),
            config,
        };
        let family = Family {
            shared: Arc::new(shared),
            hasher: DefaultHashBuilder::default(),
            replicas: (0..REPLICAS).map(|_| Replica(RwLock::new(HashTable::new()))).collect(),
            writer: Mutex::new(0),
        };
        if family.shared.label_names.is_empty() {
            let mut seq = family.writer.lock();
            family.create(&mut seq, family.hash(&Positional(&[])), &Positional(&[]));
        }
        Ok(family)
    }

    /// The full family name (for counters without `_total`).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The help text.
    pub fn help(&self) -> &str {
        &self.shared.help
    }

    /// The unit, `""` when none.
    pub fn unit(&self) -> &str {
        &self.shared.unit
    }

    /// The label names.
    pub fn label_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.shared.label_names.iter().map(|s| &**s)
    }

    /// The children's config (bucket bounds, states, ...).
    pub fn config(&self) -> &M::Config {
        &self.shared.config
    }

    /// The family's description.
    pub fn desc(&self) -> Desc<'_> {
        Desc {
            name: &self.shared.name,
            help: &self.shared.help,
            unit: &self.shared.unit,
            metric_type: M::METRIC_TYPE,
        }
    }

    /// The child for `labels` (one value per label name, in order), created on first use.
    /// `labels` is any [`LabelSet`]: `[&str; N]`, a tuple of
    /// [`LabelValue`](promstack_core::LabelValue)s (integers, `bool`s, derived enums: written
    /// on the stack) or a struct with `#[derive(LabelSet)]`. The family's label count is known
    /// at run time only, so a set of another size is [`LabelError::WrongCount`].
    ///
    /// Finding an existing child allocates nothing.
    ///
    /// ```
    /// use promstack_core::LabelError;
    /// let c = promstack_alloc::Family::counter("c", "", &["core", "irq"]).unwrap();
    /// c.get(["0", "17"]).unwrap().inc();
    /// c.get((0u8, 17u32)).unwrap().inc(); // the same child
    /// assert_eq!(c.get(["0", "17"]).unwrap().get(), 2.0);
    /// assert_eq!(c.get(["0"]).unwrap_err(), LabelError::WrongCount { expected: 2, got: 1 });
    /// ```
    #[inline]
    pub fn get<const N: usize>(&self, labels: impl LabelSet<N>) -> Result<OwnedChild<M>, LabelError> {
        let mut scratch = [const { ValueBuf::new() }; N];
        self.with_label_values(&labels.label_values(&mut scratch))
    }

    /// The child for `values` (one per label name, in order), created on first use, for values
    /// counted at run time (client_golang's `WithLabelValues`, returning the error instead of
    /// panicking). A wrong number of values is [`LabelError::WrongCount`]. Finding an existing
    /// child allocates nothing.
    #[inline]
    pub fn with_label_values(&self, values: &[&str]) -> Result<OwnedChild<M>, LabelError> {
        Ok(self.lookup(&self.positional(values)?, OwnedChild::clone))
    }

    /// The child for `(name, value)` pairs given in any order. A name that is not a label name is
    /// [`LabelError::UnknownName`], a name given twice is [`LabelError::DuplicateName`], a label
    /// name left out is [`LabelError::MissingName`] (the same errors as every family's, from
    /// [`promstack_core::check_label_pairs`]). Allocates nothing for an existing child.
    pub fn get_by_name(&self, pairs: &[(&str, &str)]) -> Result<OwnedChild<M>, LabelError> {
        Ok(self.lookup(&self.named(pairs)?, OwnedChild::clone))
    }

    /// Python's `labels(*values, **pairs)`: positional `values` or named `pairs`, not both
    /// ([`LabelError::MixedStyles`]). For callers that get either form at run time.
    ///
    /// ```
    /// use promstack_core::LabelError;
    /// let c = promstack_alloc::Family::counter("c", "", &["a", "b"]).unwrap();
    /// assert!(c.labels(&["x"], &[("b", "y")]).is_err_and(|e| e == LabelError::MixedStyles));
    /// assert!(c.labels(&[], &[("a", "x"), ("b", "y")]).unwrap().ptr_eq(&c.get(&["x", "y"]).unwrap()));
    /// ```
    pub fn labels(&self, values: &[&str], pairs: &[(&str, &str)]) -> Result<OwnedChild<M>, LabelError> {
        match (values.is_empty(), pairs.is_empty()) {
            (false, false) => Err(LabelError::MixedStyles),
            (true, false) => self.get_by_name(pairs),
            _ => self.with_label_values(values),
        }
    }

    /// Runs `f` with the child for `values` (created on first use) and returns its result. This
    /// is the cheapest update: not even the child's reference count is touched.
    ///
    /// `f` runs while this thread holds a read lock of the family, so it must not call back into
    /// the *same* family (no lookup, creation, removal or collection: with a writer waiting in
    /// between, that would wait forever); updating or reading the child, cloning the handle and
    /// using other families are fine.
    ///
    /// ```
    /// let c = promstack_alloc::Family::counter("hits", "", &["cache"]).unwrap();
    /// c.with(&["l1"], |hits| hits.inc()).unwrap();
    /// assert_eq!(c.with(&["l1"], |hits| hits.get()).unwrap(), 1.0);
    /// ```
    #[inline]
    pub fn with<R>(&self, values: &[&str], f: impl FnOnce(&OwnedChild<M>) -> R) -> Result<R, LabelError> {
        Ok(self.lookup(&self.positional(values)?, f))
    }

    /// Removes the child for `labels` (any [`LabelSet`], as [`Family::get`] takes); `Ok(true)`
    /// if it existed. Handles to it keep working but are no longer reported. On a family without
    /// labels, the one child is replaced by a fresh one instead.
    pub fn remove<const N: usize>(&self, labels: impl LabelSet<N>) -> Result<bool, LabelError> {
        let mut scratch = [const { ValueBuf::new() }; N];
        self.remove_label_values(&labels.label_values(&mut scratch))
    }

    /// [`Family::remove`] with values counted at run time.
    pub fn remove_label_values(&self, values: &[&str]) -> Result<bool, LabelError> {
        Ok(self.remove_key(&self.positional(values)?))
    }

    /// [`Family::remove`] with `(name, value)` pairs.
    pub fn remove_by_name(&self, pairs: &[(&str, &str)]) -> Result<bool, LabelError> {
        Ok(self.remove_key(&self.named(pairs)?))
    }

    /// Removes every child (a family without labels gets a fresh child).
    pub fn clear(&self) {
        let mut seq = self.writer.lock();
        for r in self.replicas.iter() {
            r.write().clear();
        }
        if self.shared.label_names.is_empty() {
            let key = Positional(&[]);
            self.create(&mut seq, self.hash(&key), &key);
        }
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.replicas[replica_index()].0.read().len()
    }

    /// `true` when there are no children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Handles to every child, in creation order.
    pub fn children(&self) -> Vec<OwnedChild<M>> {
        let mut children: Vec<OwnedChild<M>> =
            self.replicas[replica_index()].0.read().iter().cloned().collect();
        children.sort_unstable_by_key(|c| c.0.seq);
        children
    }

    fn positional<'k>(&self, values: &'k [&'k str]) -> Result<Positional<'k>, LabelError> {
        let expected = self.shared.label_names.len();
        if values.len() != expected {
            return Err(LabelError::WrongCount { expected, got: values.len() });
        }
        Ok(Positional(values))
    }

    #[inline]
    fn named<'k>(&'k self, pairs: &'k [(&'k str, &'k str)]) -> Result<Named<'k>, LabelError> {
        let names = &self.shared.label_names;
        if names.len() <= MAX_ORDERED && pairs.len() == names.len() {
            let mut order = 0u64;
            let mut found = 0u32;
            for (j, (n, _)) in pairs.iter().enumerate() {
                match names.iter().position(|l| &**l == *n) {
                    Some(i) => {
                        order |= (j as u64) << (4 * i);
                        found |= 1 << i;
                    }
                    None => break,
                }
            }
            if found.count_ones() as usize == names.len() {
                return Ok(Named { names, pairs, order });
            }
        }
        self.named_slow(pairs)
    }

    /// Large label sets, and the precise error for a bad set of pairs.
    #[cold]
    fn named_slow<'k>(&'k self, pairs: &'k [(&'k str, &'k str)]) -> Result<Named<'k>, LabelError> {
        let names = &self.shared.label_names;
        check_label_pairs(names, pairs)?;
        if pairs.len() != names.len() {
            return Err(LabelError::WrongCount { expected: names.len(), got: pairs.len() });
        }
        // Only label sets beyond the position table get here valid; `order` is unused for them.
        Ok(Named { names, pairs, order: 0 })
    }

    #[inline]
    fn hash(&self, key: &impl Key) -> u64 {
        let mut h = self.hasher.build_hasher();
        for i in 0..key.len() {
            h.write(key.at(i).as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    }

    /// Finds or creates the child for `key` and runs `f` on it.
    #[inline]
    fn lookup<R>(&self, key: &impl Key, f: impl FnOnce(&OwnedChild<M>) -> R) -> R {
        let hash = self.hash(key);
        {
            let table = self.replicas[replica_index()].0.read();
            if let Some(child) = table.find(hash, |c| c.0.hash == hash && c.0.matches(key)) {
                return f(child);
            }
        }
        let child = self.get_or_create(hash, key);
        f(&child)
    }

    #[cold]
    fn get_or_create(&self, hash: u64, key: &impl Key) -> OwnedChild<M> {
        let mut seq = self.writer.lock();
        // Under the writer lock every replica is complete: another writer may have created the
        // child since our read.
        if let Some(child) = self.replicas[0].0.read().find(hash, |c| c.0.hash == hash && c.0.matches(key)) {
            return child.clone();
        }
        self.create(&mut seq, hash, key)
    }

    /// Creates a child and adds it to every replica. The caller holds the writer lock (`seq`).
    fn create(&self, seq: &mut u64, hash: u64, key: &impl Key) -> OwnedChild<M> {
        let node = Node {
            shared: self.shared.clone(),
            values: (0..key.len()).map(|i| Box::from(key.at(i))).collect(),
            hash,
            seq: *seq,
            value: M::INIT,
        };
        *seq += 1;
        // A fresh child's `_created` is now.
        node.value.reset();
        let child = OwnedChild(Arc::new(node));
        for r in self.replicas.iter() {
            r.write().insert_unique(hash, child.clone(), |c| c.0.hash);
        }
        child
    }

    fn remove_key(&self, key: &impl Key) -> bool {
        let hash = self.hash(key);
        let mut seq = self.writer.lock();
        let mut found = false;
        for r in self.replicas.iter() {
            let mut table = r.write();
            if let Ok(entry) = table.find_entry(hash, |c| c.0.hash == hash && c.0.matches(key)) {
                entry.remove();
                found = true;
            }
        }
        if found && self.shared.label_names.is_empty() {
            self.create(&mut seq, hash, key);
        }
        found
    }
}

impl<M: Metric> Collector for Family<M> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = self.desc();
        sink.family(&desc)?;
        let children = self.children();
        let names: Vec<&str> = self.label_names().collect();
        let mut values: Vec<&str> = Vec::with_capacity(names.len());
        for child in &children {
            values.clear();
            values.extend(child.label_values());
            child.0.value.report(&self.shared.config, &desc, Labels::new(&names, &values), sink)?;
        }
        Ok(())
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.desc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_lookup_finds_positional_child() {
        let f = Family::counter("c", "", &["a", "b"]).unwrap();
        let p = f.get(["x", "y"]).unwrap();
        let n = f.get_by_name(&[("b", "y"), ("a", "x")]).unwrap();
        assert!(p.ptr_eq(&n));
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn named_lookup_beyond_the_position_table() {
        let names: Vec<String> = (0..20).map(|i| alloc::format!("l{i}")).collect();
        let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let f = Family::counter("c", "", &names).unwrap();
        let values: Vec<String> = (0..20).map(|i| alloc::format!("v{i}")).collect();
        let values: Vec<&str> = values.iter().map(|s| s.as_str()).collect();
        let p = f.with_label_values(&values).unwrap();
        let mut pairs: Vec<(&str, &str)> = names.iter().copied().zip(values.iter().copied()).collect();
        pairs.reverse();
        assert!(p.ptr_eq(&f.get_by_name(&pairs).unwrap()));
        assert_eq!(f.get_by_name(&pairs[1..]).unwrap_err(), LabelError::MissingName(BoundedStr::new("l19")));
    }

    #[test]
    fn separator_keeps_keys_apart() {
        let f = Family::counter("c", "", &["a", "b"]).unwrap();
        let one = f.get(["ab", "c"]).unwrap();
        let two = f.get(["a", "bc"]).unwrap();
        assert!(!one.ptr_eq(&two));
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn every_replica_sees_every_child() {
        let f = Family::gauge("g", "", &["k"]).unwrap();
        for i in 0..100 {
            f.get([alloc::format!("{i}").as_str()]).unwrap();
        }
        for r in f.replicas.iter() {
            assert_eq!(r.0.read().len(), 100);
        }
        f.remove(["7"]).unwrap();
        for r in f.replicas.iter() {
            assert_eq!(r.0.read().len(), 99);
        }
        f.clear();
        for r in f.replicas.iter() {
            assert!(r.0.read().is_empty());
        }
    }

    #[test]
    fn unlabeled_family_always_has_its_child() {
        let f = Family::counter("c", "", &[]).unwrap();
        assert_eq!(f.len(), 1);
        f.get(()).unwrap().inc();
        assert_eq!(f.remove(()), Ok(true));
        assert_eq!(f.len(), 1);
        assert_eq!(f.get(()).unwrap().get(), 0.0);
        f.clear();
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn children_in_creation_order() {
        let f = Family::gauge("g", "", &["k"]).unwrap();
        for v in ["z", "a", "m", "b"] {
            f.get([v]).unwrap();
        }
        let order: Vec<_> =
            f.children().iter().map(|c| String::from(c.label_values().next().unwrap())).collect();
        assert_eq!(order, ["z", "a", "m", "b"]);
    }
}
