//! Labeled metrics with any number of children: [`Family`], its [`OwnedChild`] handles, and the
//! [`Opts`] that name a family.
//!
//! This is the heap-backed sibling of core's fixed-capacity `FixedFamily`: children are created on
//! first use, own their label values, and can be removed. The same [`Metric`] value types
//! (`CounterValue`, `GaugeValue`, `HistogramValue<N>`, ...) serve as children of both.
//!
//! # Lookup and removal
//! Children live in a [`ChildTable`](crate::table::ChildTable), the table every growing family
//! shares (the multiprocess families of `promstack` too): lookups allocate nothing and
//! concurrent readers mostly take different lock words; see [`crate::table`].
//! [`Family::get`] clones the child's `Arc` (one atomic increment on the child's own cache
//! line); [`Family::with`] skips even that. The table keeps its children in creation order
//! (Python's order): a scrape walks that order under one lock word, writing each child's line
//! into the encoder's buffer, and lets the lock go before the buffer is passed on (families
//! reported sample by sample copy 64 child handles at a time and report them with the lock
//! released), so a slow writer of the exposition never holds a lock that child creation or
//! updates wait on, and nothing is sorted or allocated per child.
//!
//! Removed children follow the one rule of every promstack family; see
//! [`Family`'s documentation](Family#removed-children).

#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
use crate::exemplar::ExemplarHistogramValue;
use crate::info::OwnedInfoValue;
#[cfg(all(target_has_atomic = "64", target_has_atomic = "ptr"))]
use crate::native::{ExemplarError, NativeConfig, NativeHistogramValue, NativeSnapshot};
use crate::sync::Arc;
use crate::table::{ChildTable, LabelKey as Key, Node, TableEntry};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;
use promstack_core::encoding::{InPlace, LabelPieces};
use promstack_core::{
    check_label_names, check_metric_name, strip_counter_total, BoundedStr, CollectError, Collector,
    CounterValue, Desc, DescError, EnumValue, GaugeValue, HistogramValue, LabelError, Metric, MetricType,
    Observe, Sink, SummaryValue, ValueError,
};
use promstack_core::{LabelSet, ValueBuf};

/// How a family is named and labeled: name, help, optional namespace, subsystem and unit, and
/// label names. The options of every growing family: [`Family`] here, and `promstack`'s
/// multiprocess families (`promstack::multiprocess::Opts` is this type). The full name is `namespace_subsystem_name_unit` (empty parts and their `_`
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
    /// The label names' pieces as the encoders write them (`None` for none, more than 8 or a
    /// name longer than 28 bytes): children's values are stored [joined](LabelPieces::join)
    /// by them when they can be, and a scrape copies them as they are.
    pieces: Option<Box<LabelPieces>>,
}

/// One child's value and bookkeeping, kept in a table [`Node`] with its label values.
struct ChildData<M: Metric> {
    shared: Arc<Shared<M>>,
    /// Creation order within the family, for reporting in Python's order.
    seq: u64,
    value: M,
}

/// A handle to one child of a [`Family`]: dereferences to the metric value, and can be kept and
/// used with no lookup at all. Cloning it adds a reference to the child (one atomic increment).
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
pub struct OwnedChild<M: Metric>(Node<ChildData<M>>);

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
        self.0.label_values()
    }

    /// The child's `(name, value)` label pairs, in the family's label-name order.
    pub fn labels(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.0.shared.label_names.iter().map(|s| &**s).zip(self.label_values())
    }

    /// `true` when both handles point to the same child.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Node::ptr_eq(&self.0, &other.0)
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

impl<M: Metric> TableEntry for OwnedChild<M> {
    #[inline]
    fn seq(&self) -> u64 {
        self.0.seq
    }
    #[inline]
    fn label_value(&self, i: usize) -> &str {
        self.0.label_value(i)
    }
    #[inline]
    fn matches<K: Key + ?Sized>(&self, key: &K) -> bool {
        self.0.labels_eq_with(key, self.0.shared.pieces.as_deref())
    }
    #[inline]
    fn fill_label_values<'a>(&'a self, out: &mut [&'a str]) {
        self.0.fill_label_values(out);
    }
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
/// Looking up an existing child allocates nothing and takes the read side of one of
/// [`REPLICAS`](crate::table::REPLICAS) lock words of the child table, picked per thread, so
/// concurrent readers (even of the same child) do not contend on one lock word. Creating or
/// removing a child takes every lock word; that is rare and short, and a scrape holds no lock
/// while it writes.
/// A kept [`OwnedChild`] needs no lookup at all.
///
/// The locks spin (or, with the `std` feature, yield) while a writer works, so on a
/// microcontroller do not look children up from an interrupt handler that may preempt a writer:
/// keep an [`OwnedChild`] for it, or use core's lock-free `FixedFamily`.
///
/// # Removed children
/// One rule for every family of promstack (core's `FixedFamily`, this `Family` and
/// `promstack::multiprocess::Family`): **an update through a handle whose child was removed
/// never reaches any exported series, in particular not a child re-created with the same
/// labels.** Here a removed child's value is its own heap allocation, reachable only from the
/// handles still held: they keep working on it, but nothing reports it, and looking the labels
/// up again creates a fresh child with a fresh value.
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
    table: ChildTable<OwnedChild<M>>,
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
            pieces: LabelPieces::new(opts.label_names).map(Box::new),
        };
        let family = Family { shared: Arc::new(shared), table: ChildTable::new(opts.label_names) };
        if family.shared.label_names.is_empty() {
            let none: [&str; 0] = [];
            family.lookup(&none, |_| ());
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
    /// if it existed. Handles to it keep working on a value nothing reports any more (see
    /// [Removed children](Family#removed-children)); the same labels looked up again make a
    /// fresh child. On a family without labels, the one child is replaced by a fresh one instead.
    pub fn remove<const N: usize>(&self, labels: impl LabelSet<N>) -> Result<bool, LabelError> {
        let mut scratch = [const { ValueBuf::new() }; N];
        self.remove_label_values(&labels.label_values(&mut scratch))
    }

    /// [`Family::remove`] with values counted at run time.
    pub fn remove_label_values(&self, values: &[&str]) -> Result<bool, LabelError> {
        Ok(self.remove_key(self.table.positional(values)?))
    }

    /// [`Family::remove`] with `(name, value)` pairs.
    pub fn remove_by_name(&self, pairs: &[(&str, &str)]) -> Result<bool, LabelError> {
        Ok(self.remove_key(&self.table.named(pairs)?))
    }

    /// Removes every child (a family without labels gets a fresh child), as [`Family::remove`]
    /// does each.
    pub fn clear(&self) {
        self.table.clear(|seq| self.node(seq, &[] as &[&str]));
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// `true` when there are no children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Handles to every child, in creation order.
    pub fn children(&self) -> Vec<OwnedChild<M>> {
        self.table.children()
    }

    fn positional<'k>(&self, values: &'k [&'k str]) -> Result<&'k [&'k str], LabelError> {
        self.table.positional(values)
    }

    fn named<'k>(&'k self, pairs: &'k [(&'k str, &'k str)]) -> Result<crate::table::Named<'k>, LabelError> {
        self.table.named(pairs)
    }

    /// Finds or creates the child for `key` and runs `f` on it.
    #[inline]
    fn lookup<K: Key + ?Sized, R>(&self, key: &K, f: impl FnOnce(&OwnedChild<M>) -> R) -> R {
        self.table.lookup(key, f, |hash| self.table.get_or_insert(hash, key, |seq| self.node(seq, key)))
    }

    /// A new child for `key`.
    fn node<K: Key + ?Sized>(&self, seq: u64, key: &K) -> OwnedChild<M> {
        let data = ChildData { shared: self.shared.clone(), seq, value: M::INIT };
        // A fresh child's `_created` is now.
        data.value.reset();
        match &self.shared.pieces {
            Some(pieces) => OwnedChild(Node::new_joined(data, key, pieces)),
            None => OwnedChild(Node::new(data, key)),
        }
    }

    fn remove_key<K: Key + ?Sized>(&self, key: &K) -> bool {
        self.table.remove(key, |seq| self.node(seq, key)).is_some()
    }
}

impl<M: Metric> Collector for Family<M> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = self.desc();
        sink.family(&desc)?;
        // Counters and gauges: one sample per child, handed over in one call.
        if let Some(suffix) = M::single_suffix(&self.shared.config, sink.wants_created()) {
            if let Some(batch) = sink.batch() {
                return batch.samples(&desc, suffix, self);
            }
        }
        M::report_children(&self.shared.config, &desc, sink, &mut |f| {
            self.table.each(|child, labels| f(&child.0.value, labels))
        })
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&self.desc())
    }
}

/// The children, as [`BatchSink::samples`](promstack_core::BatchSink::samples) rows (used when
/// the value type reports one sample).
impl<M: Metric> promstack_core::SampleRows for Family<M> {
    fn each(
        &self,
        row: &mut dyn FnMut(promstack_core::Labels<'_>, promstack_core::Value) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let config = &self.shared.config;
        self.table.each(|child, labels| row(labels, child.0.value.single_value(config)))
    }

    /// Each child's line straight into the encoder's buffer: a child whose values are stored
    /// [joined](LabelPieces::join) is copied as it is between the first and last pieces; others
    /// have their values copied between the pieces (escaped where needed).
    fn write_lines(
        &self,
        lines: &mut promstack_core::encoding::LineBuf<'_>,
    ) -> Option<Result<(), CollectError>> {
        let pieces = self.shared.pieces.as_deref()?;
        let config = &self.shared.config;
        // Lines are written under the table's read lock while they fit in the buffer (no handle
        // copied per child); the lock goes before the buffer is passed on. The common case is
        // kept small so that it is inlined into the walk.
        Some(self.table.each_child_held(|child, held| {
            let value = child.0.value.single_value(config);
            match child.0.joined() {
                Some(joined) if held => Ok(lines.line_joined_in_place(pieces, joined, value)),
                _ => write_line_otherwise(lines, pieces, child, value, held),
            }
        }))
    }
}

/// [`Family`]'s `write_lines`'s line for a child with its values stored one by one, or
/// with no lock held: `Ok(false)` when it cannot be written without passing the buffer on
/// and `held` says that must wait.
#[inline(never)]
fn write_line_otherwise<M: Metric>(
    lines: &mut promstack_core::encoding::LineBuf<'_>,
    pieces: &LabelPieces,
    child: &OwnedChild<M>,
    value: promstack_core::Value,
    held: bool,
) -> Result<bool, CollectError> {
    const MOST: usize = 8;
    if let Some(joined) = child.0.joined() {
        return lines.line_joined(pieces, joined, value).map(|()| true);
    }
    let n = pieces.len();
    let mut values = [""; MOST];
    child.0.fill_label_values(&mut values[..n]);
    if held {
        Ok(lines.line_in_place(pieces, &values[..n], value)? == InPlace::Written)
    } else {
        lines.line(pieces, &values[..n], value).map(|()| true)
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
    fn children_with_more_labels_than_the_stack_holds_report_every_value() {
        // 20 labels: beyond the 16 a scrape keeps on the stack.
        let names: Vec<String> = (0..20).map(|i| alloc::format!("l{i:02}")).collect();
        let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let f = Family::gauge("g", "", &names).unwrap();
        for c in 0..3 {
            let values: Vec<String> = (0..20).map(|i| alloc::format!("v{c}_{i}")).collect();
            let values: Vec<&str> = values.iter().map(|s| s.as_str()).collect();
            f.with_label_values(&values).unwrap().set(f64::from(c));
        }
        let text = String::from_utf8(promstack_core::encode_text(Vec::new(), &f).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().skip(2).collect();
        assert_eq!(lines.len(), 3);
        for (c, line) in lines.iter().enumerate() {
            let pairs: Vec<String> = (0..20).map(|i| alloc::format!("l{i:02}=\"v{c}_{i}\"")).collect();
            assert_eq!(*line, alloc::format!("g{{{}}} {c}.0", pairs.join(",")));
        }
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
    fn remove_and_clear_change_what_every_thread_sees() {
        let f = Family::gauge("g", "", &["k"]).unwrap();
        for i in 0..100 {
            f.get([alloc::format!("{i}").as_str()]).unwrap();
        }
        assert_eq!(f.len(), 100);
        f.remove(["7"]).unwrap();
        assert_eq!(f.len(), 99);
        assert_eq!(f.remove(["7"]), Ok(false));
        f.clear();
        assert!(f.is_empty());
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
