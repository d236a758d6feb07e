//! The heap-backed [`Registry`]: any number of `Arc` or `'static` collectors, registered and
//! unregistered at run time, with name-collision detection, a restricted view
//! ([`Registry::restricted`]) and [`Registry::get_sample_value`] for tests.
//!
//! Registration describes the collector (its [`Collector::describe`], which by default collects:
//! Python's auto-describe) *before* taking the registry's lock, then checks and records the
//! names under it. Collection clones the list of collectors under the lock and collects them
//! after releasing it, so a slow scrape never blocks registration, and no lock the registry
//! holds is ever one that a metric update waits on.

use crate::sync::{Arc, RwLock};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use hashbrown::HashMap;
use promstack_core::{
    check_label_names, BoundedStr, CollectError, Collector, Desc, EncodeError, Encoder, Format, Labels,
    MetricType, NameFilter, NameSet, RegistryError, Sample, Sink, Value,
};

/// Identifies one registration; returned by the `register` methods, accepted by
/// [`Registry::unregister_id`] (promstack-core's type, shared with its `StaticRegistry`).
///
/// ```
/// use promstack_alloc::{Family, Registry};
/// use promstack_alloc::sync::Arc;
/// let registry = Registry::new();
/// let a = registry.register(Arc::new(Family::gauge("a", "", &[]).unwrap())).unwrap();
/// let b = registry.register(Arc::new(Family::gauge("b", "", &[]).unwrap())).unwrap();
/// assert_ne!(a, b);
/// registry.unregister_id(a).unwrap();
/// assert_eq!(registry.len(), 1);
/// ```
pub use promstack_core::CollectorId;

#[derive(Clone)]
enum Handle {
    Static(&'static dyn Collector),
    Shared(Arc<dyn Collector>),
}

impl Handle {
    fn get(&self) -> &dyn Collector {
        match self {
            Handle::Static(c) => *c,
            Handle::Shared(c) => &**c,
        }
    }
}

struct Entry {
    id: CollectorId,
    handle: Handle,
    /// Address of the collector's data, for [`Registry::unregister`].
    addr: usize,
    /// Every name the collector claims.
    names: Vec<Box<str>>,
}

/// Who holds a claimed name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Collector(CollectorId),
    TargetInfo,
}

/// The `target_info` pairs, reported as `target_info{...} 1` before every collector.
struct TargetInfo {
    names: Box<[Box<str>]>,
    values: Box<[Box<str>]>,
}

const TARGET_INFO: &str = "target_info";

impl TargetInfo {
    fn report(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = Desc { name: "target", help: "Target metadata", unit: "", metric_type: MetricType::Info };
        sink.family(&desc)?;
        let names: Vec<&str> = self.names.iter().map(|s| &**s).collect();
        let values: Vec<&str> = self.values.iter().map(|s| &**s).collect();
        sink.sample(&desc, &Sample::new("_info", Labels::new(&names, &values), Value::Int(1)))
    }
}

impl Collector for TargetInfo {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.report(sink)
    }
}

#[derive(Default)]
struct State {
    entries: Vec<Entry>,
    owners: HashMap<Box<str>, Owner>,
    next_id: u64,
    target_info: Option<Arc<TargetInfo>>,
}

impl State {
    fn remove_at(&mut self, i: usize) {
        let entry = self.entries.remove(i);
        for n in &entry.names {
            if self.owners.get(n) == Some(&Owner::Collector(entry.id)) {
                self.owners.remove(n);
            }
        }
    }
}

/// A registry of collectors: metric families, custom collectors, other registries.
///
/// Registering a collector whose names overlap the names of a registered one is refused with
/// [`RegistryError::Duplicate`] naming the overlap. The names a family claims depend on its type
/// (see `MetricType::claimed_suffixes`): a counter `c` claims `c_total` and `c_created`, a
/// histogram `h` claims `h_bucket`, `h_sum`, `h_count` and `h_created` (not `h`), and so on.
///
/// A `Registry` is itself a [`Collector`]: it reports `target_info` (when set) and then every
/// collector in registration order.
///
/// ```
/// use promstack_alloc::{Family, Registry};
/// use promstack_core::RegistryError;
/// let registry = Registry::new();
/// let jobs = registry.register_owned(Family::summary("jobs", "Jobs.", &[]).unwrap()).unwrap();
/// jobs.get(()).unwrap().observe(7.0);
/// // `jobs_count` is claimed by the summary:
/// let clash = registry.register_owned(Family::gauge("jobs_count", "", &[]).unwrap());
/// assert!(matches!(clash, Err(RegistryError::Duplicate(_))));
/// assert_eq!(registry.get_sample_value("jobs_sum", &[]), Some(7.0));
/// registry.unregister(&*jobs).unwrap();
/// assert!(registry.register_owned(Family::gauge("jobs_count", "", &[]).unwrap()).is_ok());
/// ```
pub struct Registry {
    state: RwLock<State>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.read();
        f.debug_struct("Registry")
            .field("collectors", &st.entries.len())
            .field("names", &st.owners.len())
            .finish()
    }
}

/// A sink that records every name the families it sees claim.
#[derive(Default)]
struct ClaimedNames {
    names: Vec<Box<str>>,
}

impl Sink for ClaimedNames {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        for suffix in desc.metric_type.claimed_suffixes() {
            let mut name = String::with_capacity(desc.name.len() + suffix.len());
            name.push_str(desc.name);
            name.push_str(suffix);
            self.names.push(name.into_boxed_str());
        }
        Ok(())
    }

    fn sample(&mut self, _: &Desc<'_>, _: &Sample<'_>) -> Result<(), CollectError> {
        Ok(())
    }
}

/// Joins names for an error message (cut to the error's capacity by `BoundedStr`).
fn name_list<'a>(names: impl Iterator<Item = &'a str>) -> BoundedStr {
    let mut out = String::new();
    for n in names {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(n);
    }
    BoundedStr::new(&out)
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry { state: RwLock::new(State { next_id: 1, ..State::default() }) }
    }

    /// Registers a shared collector. Refused if any name it claims is already claimed (the error
    /// lists the duplicates) or if describing it fails.
    ///
    /// ```
    /// use promstack_alloc::{Family, Registry};
    /// use promstack_alloc::sync::Arc;
    /// let registry = Registry::new();
    /// let temp = Arc::new(Family::gauge("temp", "Temperature.", &["room"]).unwrap());
    /// let id = registry.register(temp.clone()).unwrap();
    /// assert!(registry.register(temp.clone()).is_err()); // its names are taken
    /// registry.unregister_id(id).unwrap();
    /// ```
    pub fn register(&self, collector: Arc<dyn Collector>) -> Result<CollectorId, RegistryError> {
        let addr = Arc::as_ptr(&collector) as *const () as usize;
        self.add(Handle::Shared(collector), addr)
    }

    /// Registers a `'static` collector (a `static` metric of promstack-core, a leaked value).
    ///
    /// ```
    /// use promstack_alloc::Registry;
    /// use promstack_core::Counter;
    /// static BOOTS: Counter = Counter::new("boots", "Boots.");
    /// let registry = Registry::new();
    /// registry.register_static(&BOOTS).unwrap();
    /// assert_eq!(registry.get_sample_value("boots_total", &[]), Some(0.0));
    /// ```
    pub fn register_static(&self, collector: &'static dyn Collector) -> Result<CollectorId, RegistryError> {
        let addr = collector as *const dyn Collector as *const () as usize;
        self.add(Handle::Static(collector), addr)
    }

    /// Registers `collector` and hands it back in an `Arc`, like Python's metrics that register
    /// themselves on construction. [`Registry::unregister`] takes `&*arc`.
    ///
    /// ```
    /// use promstack_alloc::{Family, Registry};
    /// let registry = Registry::new();
    /// let c = registry.register_owned(Family::counter("c_total", "help", &[]).unwrap()).unwrap();
    /// c.get(()).unwrap().inc();
    /// assert_eq!(registry.get_sample_value("c_total", &[]), Some(1.0));
    /// ```
    pub fn register_owned<C: Collector + 'static>(&self, collector: C) -> Result<Arc<C>, RegistryError> {
        let arc = Arc::new(collector);
        let addr = Arc::as_ptr(&arc) as *const () as usize;
        self.add(Handle::Shared(to_dyn(arc.clone())), addr)?;
        Ok(arc)
    }

    fn add(&self, handle: Handle, addr: usize) -> Result<CollectorId, RegistryError> {
        // Describe outside the lock: a collector may take its own locks, or even look at this
        // registry, while it describes itself.
        let mut claimed = ClaimedNames::default();
        handle.get().describe(&mut claimed).map_err(RegistryError::Collect)?;
        let mut st = self.state.write();
        let mut duplicates: Vec<&str> = Vec::new();
        for n in &claimed.names {
            if st.owners.contains_key(n) && !duplicates.contains(&&**n) {
                duplicates.push(n);
            }
        }
        if !duplicates.is_empty() {
            return Err(RegistryError::Duplicate(name_list(duplicates.into_iter())));
        }
        let id = CollectorId::from_raw(st.next_id);
        st.next_id += 1;
        for n in &claimed.names {
            st.owners.insert(n.clone(), Owner::Collector(id));
        }
        st.entries.push(Entry { id, handle, addr, names: claimed.names });
        Ok(id)
    }

    /// Unregisters `collector` (compared by address: pass `&*arc` for an `Arc`, or the
    /// `&'static` reference), freeing its names. [`RegistryError::NotRegistered`] if absent.
    ///
    /// Distinct zero-sized collectors may share an address (so may a collector and its first
    /// field): when more than one registration has `collector`'s address, nothing is removed
    /// and the error is [`RegistryError::Ambiguous`]; [`Registry::unregister_id`] always knows.
    pub fn unregister(&self, collector: &dyn Collector) -> Result<(), RegistryError> {
        let addr = collector as *const dyn Collector as *const () as usize;
        let mut st = self.state.write();
        let i = st.entries.iter().position(|e| e.addr == addr).ok_or(RegistryError::NotRegistered)?;
        let matches = st.entries.iter().filter(|e| e.addr == addr).count();
        if matches > 1 {
            return Err(RegistryError::Ambiguous { matches });
        }
        st.remove_at(i);
        Ok(())
    }

    /// Unregisters the collector registered as `id`, freeing its names.
    pub fn unregister_id(&self, id: CollectorId) -> Result<(), RegistryError> {
        let mut st = self.state.write();
        let i = st.entries.iter().position(|e| e.id == id).ok_or(RegistryError::NotRegistered)?;
        st.remove_at(i);
        Ok(())
    }

    /// Number of registered collectors.
    pub fn len(&self) -> usize {
        self.state.read().entries.len()
    }

    /// `true` when no collector is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every name claimed by registered collectors (and `target_info` when set), unordered.
    pub fn claimed_names(&self) -> Vec<String> {
        self.state.read().owners.keys().map(|k| String::from(&**k)).collect()
    }

    /// Sets the target metadata reported as `target_info{...} 1` (an Info family named `target`,
    /// help "Target metadata") before every collector; an empty list removes it. Refused when a
    /// registered collector already claims `target_info`, or when a name is invalid, reserved or
    /// repeated.
    ///
    /// ```
    /// use promstack_alloc::Registry;
    /// let registry = Registry::new();
    /// registry.set_target_info(&[("env", "prod")]).unwrap();
    /// assert_eq!(registry.get_sample_value("target_info", &[("env", "prod")]), Some(1.0));
    /// ```
    pub fn set_target_info(&self, pairs: &[(&str, &str)]) -> Result<(), RegistryError> {
        let names: Vec<&str> = pairs.iter().map(|(n, _)| *n).collect();
        check_label_names(&names, MetricType::Info).map_err(RegistryError::Desc)?;
        let mut st = self.state.write();
        if pairs.is_empty() {
            if st.target_info.take().is_some() {
                st.owners.remove(TARGET_INFO);
            }
            return Ok(());
        }
        if st.target_info.is_none() {
            if st.owners.contains_key(TARGET_INFO) {
                return Err(RegistryError::Duplicate(BoundedStr::new(TARGET_INFO)));
            }
            st.owners.insert(TARGET_INFO.into(), Owner::TargetInfo);
        }
        st.target_info = Some(Arc::new(TargetInfo {
            names: pairs.iter().map(|(n, _)| Box::from(*n)).collect(),
            values: pairs.iter().map(|(_, v)| Box::from(*v)).collect(),
        }));
        Ok(())
    }

    /// The target metadata pairs (empty when none is set).
    pub fn target_info(&self) -> Vec<(String, String)> {
        let ti = self.state.read().target_info.clone();
        ti.iter()
            .flat_map(|t| t.names.iter().zip(t.values.iter()))
            .map(|(n, v)| (String::from(&**n), String::from(&**v)))
            .collect()
    }

    /// A view of this registry that reports only the samples whose full name is in `names`
    /// (and only the family headers that have one), collecting only the collectors that claim
    /// one of the names — Python's `restricted_registry`.
    ///
    /// ```
    /// use promstack_alloc::{Family, Registry};
    /// use promstack_core::encode_text;
    /// let registry = Registry::new();
    /// registry.register_owned(Family::counter("c_total", "help", &[]).unwrap()).unwrap();
    /// let s = registry.register_owned(Family::summary("s", "help", &[]).unwrap()).unwrap();
    /// s.get(()).unwrap().observe(7.0);
    /// let out = encode_text(Vec::new(), &registry.restricted(&["s_sum"])).unwrap();
    /// assert_eq!(String::from_utf8(out).unwrap(), "# HELP s help\n# TYPE s summary\ns_sum 7.0\n");
    /// ```
    pub fn restricted<'r>(&'r self, names: &'r [&'r str]) -> Restricted<'r> {
        Restricted { registry: self, names }
    }

    /// The value of the sample named `name` (the full sample name, e.g. `c_total` or `h_bucket`)
    /// whose labels are exactly `labels` (in any order), or `None`. It collects everything, so it
    /// is meant for tests.
    pub fn get_sample_value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut lookup = SampleLookup { name, labels, found: None };
        // Collection errors only cut the search short.
        let _ = self.collect(&mut lookup);
        lookup.found
    }

    /// Writes every collector in `format` into `writer` and returns the writer.
    ///
    /// ```
    /// use promstack_alloc::{Family, Registry};
    /// use promstack_core::Format;
    /// let registry = Registry::new();
    /// registry.register_owned(Family::gauge("g", "A gauge.", &[]).unwrap()).unwrap();
    /// let out = registry.encode(Format::OpenMetrics, Vec::new()).unwrap();
    /// assert_eq!(out, b"# HELP g A gauge.\n# TYPE g gauge\ng 0.0\n# EOF\n");
    /// ```
    pub fn encode<W: embedded_io::Write>(
        &self,
        format: Format,
        writer: W,
    ) -> Result<W, EncodeError<W::Error>> {
        let mut enc = Encoder::new(format, writer);
        enc.encode(self)?;
        enc.finish()
    }

    /// Writes Prometheus text 0.0.4 into `writer`.
    pub fn encode_text<W: embedded_io::Write>(&self, writer: W) -> Result<W, EncodeError<W::Error>> {
        self.encode(Format::Text, writer)
    }

    /// Writes OpenMetrics text (ending in `# EOF`) into `writer`.
    pub fn encode_openmetrics<W: embedded_io::Write>(&self, writer: W) -> Result<W, EncodeError<W::Error>> {
        self.encode(Format::OpenMetrics, writer)
    }

    /// The collectors (and target info) to collect, cloned so no lock is held while collecting.
    fn snapshot(&self, keep: impl Fn(&Entry) -> bool) -> (Option<Arc<TargetInfo>>, Vec<Handle>) {
        let st = self.state.read();
        let handles = st.entries.iter().filter(|e| keep(e)).map(|e| e.handle.clone()).collect();
        (st.target_info.clone(), handles)
    }
}

/// Turns an `Arc<C>` into an `Arc<dyn Collector>`.
#[cfg(target_has_atomic = "ptr")]
fn to_dyn<C: Collector + 'static>(arc: Arc<C>) -> Arc<dyn Collector> {
    arc
}

/// Turns an `Arc<C>` into an `Arc<dyn Collector>`: portable-atomic's `Arc` cannot coerce to
/// `dyn` on stable, so box a forwarder.
#[cfg(not(target_has_atomic = "ptr"))]
fn to_dyn<C: Collector + 'static>(arc: Arc<C>) -> Arc<dyn Collector> {
    struct Forward<C>(Arc<C>);
    impl<C: Collector> Collector for Forward<C> {
        fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
            self.0.collect(sink)
        }
        fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
            self.0.describe(sink)
        }
    }
    Arc::from(Box::new(Forward(arc)) as Box<dyn Collector>)
}

impl Collector for Registry {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let (target_info, handles) = self.snapshot(|_| true);
        if let Some(ti) = target_info {
            ti.report(sink)?;
        }
        handles.iter().try_for_each(|h| h.get().collect(sink))
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let (target_info, handles) = self.snapshot(|_| true);
        if let Some(ti) = target_info {
            ti.report(sink)?;
        }
        handles.iter().try_for_each(|h| h.get().describe(sink))
    }

    fn members(
        &self,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        let (target_info, handles) = self.snapshot(|_| true);
        if let Some(ti) = target_info {
            visit(&*ti)?;
        }
        handles.iter().try_for_each(|h| visit(h.get()))?;
        Ok(true)
    }

    /// Visits only the collectors that claimed one of `names` when they were registered (and
    /// `target_info` when it is named), so a collector that cannot contribute is not run.
    fn members_named(
        &self,
        names: &NameSet<'_>,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        let (target_info, handles) = self.snapshot(|e| e.names.iter().any(|n| names.contains(n)));
        if let Some(ti) = target_info.filter(|_| names.contains(TARGET_INFO)) {
            visit(&*ti)?;
        }
        handles.iter().try_for_each(|h| visit(h.get()))?;
        Ok(true)
    }
}

/// A filtered view of a [`Registry`], made by [`Registry::restricted`]. Collecting it collects
/// only the collectors that claim one of the names, and reports only the samples so named.
///
/// ```
/// use promstack_alloc::{Family, Registry};
/// use promstack_core::{Encoder, Format};
/// let registry = Registry::new();
/// let h = registry.register_owned(Family::histogram("h", "Help.", &[], [1.0]).unwrap()).unwrap();
/// h.get(()).unwrap().observe(0.5);
/// let mut enc = Encoder::new(Format::OpenMetrics, Vec::new());
/// enc.encode(&registry.restricted(&["h_count", "h_sum"])).unwrap();
/// assert_eq!(enc.finish().unwrap(), b"# HELP h Help.\n# TYPE h histogram\nh_count 1.0\nh_sum 0.5\n# EOF\n");
/// ```
pub struct Restricted<'r> {
    registry: &'r Registry,
    names: &'r [&'r str],
}

impl fmt::Debug for Restricted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Restricted").field("names", &self.names).finish()
    }
}

impl Collector for Restricted<'_> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let mut sorted: Vec<&str> = self.names.to_vec();
        let names = NameSet::new(&mut sorted);
        let mut filter = NameFilter::new(sink, names);
        self.registry.members_named(&names, &mut |member| member.collect(&mut filter)).map(|_| ())
    }
}

/// Finds one sample by full name and exact label set.
struct SampleLookup<'q> {
    name: &'q str,
    labels: &'q [(&'q str, &'q str)],
    found: Option<f64>,
}

impl Sink for SampleLookup<'_> {
    fn family(&mut self, _: &Desc<'_>) -> Result<(), CollectError> {
        Ok(())
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        let full_len = desc.name.len() + sample.suffix.len();
        let same_name = self.name.len() == full_len
            && self.name.starts_with(desc.name)
            && self.name.ends_with(sample.suffix);
        if self.found.is_none()
            && same_name
            && sample.labels.len() == self.labels.len()
            && self.labels.iter().all(|(n, v)| sample.labels.get(n) == Some(*v))
        {
            self.found = Some(sample.value.as_f64());
        }
        Ok(())
    }
}
