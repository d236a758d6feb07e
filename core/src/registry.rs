//! A registry that can be a `static`: a const array of collectors plus `R` slots for run-time
//! registration, with name-collision detection that needs no allocator.

use crate::collector::{Collector, Sink};
use crate::desc::Desc;
#[cfg(feature = "openmetrics")]
use crate::encoding::OpenMetricsFormat;
use crate::encoding::{encode_once, Format, TextFormat, LINE_BUF};
use crate::error::{BoundedStr, CollectError, EncodeError, RegistryError};
use crate::sample::Sample;
use crate::sync::Lock;

/// `true` if a name claimed by `a` equals one claimed by `b` (see [`crate::MetricType::claimed_suffixes`]).
fn claims_overlap(a: &Desc<'_>, b: &Desc<'_>) -> Option<(usize, usize)> {
    for (i, sa) in a.metric_type.claimed_suffixes().iter().enumerate() {
        for (j, sb) in b.metric_type.claimed_suffixes().iter().enumerate() {
            let (la, lb) = (a.name.len() + sa.len(), b.name.len() + sb.len());
            if la == lb && concat_eq(a.name, sa, b.name, sb) {
                return Some((i, j));
            }
        }
    }
    None
}

/// `a1 + a2 == b1 + b2` for strings of equal total length, without concatenating.
fn concat_eq(a1: &str, a2: &str, b1: &str, b2: &str) -> bool {
    let a = a1.bytes().chain(a2.bytes());
    let b = b1.bytes().chain(b2.bytes());
    a.eq(b)
}

/// Finds the first family of `other` whose claimed names overlap `desc`'s.
struct OverlapWith<'d> {
    desc: &'d Desc<'d>,
    found: Option<BoundedStr>,
}

impl Sink for OverlapWith<'_> {
    fn family(&mut self, other: &Desc<'_>) -> Result<(), CollectError> {
        if self.found.is_none() {
            if let Some((i, _)) = claims_overlap(self.desc, other) {
                let suffix = self.desc.metric_type.claimed_suffixes()[i];
                let mut name = heapless::String::<64>::new();
                let _ = name.push_str(self.desc.name);
                let _ = name.push_str(suffix);
                self.found = Some(BoundedStr::new(&name));
            }
        }
        Ok(())
    }
    fn sample(&mut self, _: &Desc<'_>, _: &Sample<'_>) -> Result<(), CollectError> {
        Ok(())
    }
}

/// For each family of a new collector, looks for overlaps in `existing`.
struct CheckAgainst<'e> {
    existing: &'e dyn Fn(&mut dyn Sink) -> Result<(), CollectError>,
    found: Option<BoundedStr>,
}

impl Sink for CheckAgainst<'_> {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        if self.found.is_none() {
            let mut o = OverlapWith { desc, found: None };
            (self.existing)(&mut o)?;
            self.found = o.found;
        }
        Ok(())
    }
    fn sample(&mut self, _: &Desc<'_>, _: &Sample<'_>) -> Result<(), CollectError> {
        Ok(())
    }
}

/// Looks for a name claimed twice among the families of one collector.
struct SelfOverlap<'c> {
    collector: &'c dyn Collector,
    seen: usize,
    found: Option<BoundedStr>,
}

impl Sink for SelfOverlap<'_> {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        let index = self.seen;
        self.seen += 1;
        if self.found.is_some() {
            return Ok(());
        }
        // Compare with the families reported before this one.
        let mut earlier = Earlier { desc, limit: index, seen: 0, found: None };
        self.collector.describe(&mut earlier)?;
        self.found = earlier.found;
        Ok(())
    }
    fn sample(&mut self, _: &Desc<'_>, _: &Sample<'_>) -> Result<(), CollectError> {
        Ok(())
    }
}

struct Earlier<'d> {
    desc: &'d Desc<'d>,
    limit: usize,
    seen: usize,
    found: Option<BoundedStr>,
}

impl Sink for Earlier<'_> {
    fn family(&mut self, other: &Desc<'_>) -> Result<(), CollectError> {
        if self.seen < self.limit && self.found.is_none() {
            let mut o = OverlapWith { desc: self.desc, found: None };
            o.family(other)?;
            self.found = o.found;
        }
        self.seen += 1;
        Ok(())
    }
    fn sample(&mut self, _: &Desc<'_>, _: &Sample<'_>) -> Result<(), CollectError> {
        Ok(())
    }
}

/// Identifies one registration in a registry: returned when registering, accepted by
/// `unregister_id` ([`StaticRegistry::unregister_id`], and the same in promstack-alloc's
/// `Registry`). Unlike a collector's address, which two zero-sized collectors (or a collector
/// and its first field) may share, an id names one registration.
///
/// ```
/// use promstack_core::{Gauge, StaticRegistry};
/// static A: Gauge = Gauge::new("a", "");
/// static B: Gauge = Gauge::new("b", "");
/// static REGISTRY: StaticRegistry<2> = StaticRegistry::new(&[]);
/// let a = REGISTRY.register(&A).unwrap();
/// let b = REGISTRY.register(&B).unwrap();
/// assert_ne!(a, b);
/// REGISTRY.unregister_id(a).unwrap();
/// assert!(REGISTRY.unregister_id(a).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CollectorId(u64);

impl CollectorId {
    /// The id numbered `n`: for registries, which hand out each number once.
    pub const fn from_raw(n: u64) -> Self {
        CollectorId(n)
    }

    /// The id's number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// The collectors registered at run time, with their ids. `next_id` also tells a registration
/// whether others registered since it checked, without running collector code under the lock.
struct Runtime<const R: usize> {
    entries: heapless::Vec<(CollectorId, &'static dyn Collector), R>,
    next_id: u64,
}

/// Collectors known at compile time plus up to `R` registered at run time.
///
/// Name collisions among the compile-time collectors are found by [`StaticRegistry::check`]
/// (call it once at start-up or in a test); [`StaticRegistry::register`] refuses a collector whose
/// names overlap any registered one.
///
/// ```
/// use promstack_core::{Collector, Counter, Gauge, StaticRegistry};
/// static REQUESTS: Counter = Counter::new("requests", "Requests.");
/// static TEMP: Gauge = Gauge::new("temperature_celsius", "Temperature.");
/// static LATE: Gauge = Gauge::new("late", "Registered at run time.");
/// static CLASH: Gauge = Gauge::new("requests_total", "Clashes with the counter.");
/// static REGISTRY: StaticRegistry<2> = StaticRegistry::new(&[&REQUESTS, &TEMP]);
///
/// REGISTRY.check().unwrap();
/// REGISTRY.register(&LATE).unwrap();
/// assert!(REGISTRY.register(&CLASH).is_err());
/// REQUESTS.inc();
/// let mut out = Vec::new();
/// REGISTRY.encode_text(&mut out).unwrap();
/// assert!(String::from_utf8(out).unwrap().contains("requests_total 1.0\n"));
/// ```
pub struct StaticRegistry<const R: usize = 0> {
    fixed: &'static [&'static dyn Collector],
    runtime: Lock<Runtime<R>>,
}

impl<const R: usize> StaticRegistry<R> {
    /// A registry over `fixed` with room for `R` run-time registrations.
    pub const fn new(fixed: &'static [&'static dyn Collector]) -> Self {
        let runtime = Runtime { entries: heapless::Vec::new(), next_id: 1 };
        StaticRegistry { fixed, runtime: Lock::new(runtime) }
    }

    fn runtime(&self) -> heapless::Vec<(CollectorId, &'static dyn Collector), R> {
        self.snapshot().0
    }

    /// The run-time registrations and the next id, copied out so no lock is held while
    /// collecting.
    fn snapshot(&self) -> (heapless::Vec<(CollectorId, &'static dyn Collector), R>, u64) {
        self.runtime.with(|rt| (rt.entries.clone(), rt.next_id))
    }

    /// Every collector: the compile-time ones, then `runtime`.
    fn all<'a>(
        &'a self,
        runtime: &'a [(CollectorId, &'static dyn Collector)],
    ) -> impl Iterator<Item = &'static dyn Collector> + 'a {
        self.fixed.iter().copied().chain(runtime.iter().map(|(_, c)| *c))
    }

    fn describe_all(
        &self,
        runtime: &[(CollectorId, &'static dyn Collector)],
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        for c in self.all(runtime) {
            c.describe(sink)?;
        }
        Ok(())
    }

    /// Checks the compile-time collectors for names claimed twice.
    pub fn check(&self) -> Result<(), RegistryError> {
        for (i, c) in self.fixed.iter().enumerate() {
            let mut own = SelfOverlap { collector: *c, seen: 0, found: None };
            c.describe(&mut own).map_err(RegistryError::Collect)?;
            if let Some(name) = own.found {
                return Err(RegistryError::Duplicate(name));
            }
            let earlier = &self.fixed[..i];
            let existing = |s: &mut dyn Sink| earlier.iter().try_for_each(|e| e.describe(s));
            let mut check = CheckAgainst { existing: &existing, found: None };
            c.describe(&mut check).map_err(RegistryError::Collect)?;
            if let Some(name) = check.found {
                return Err(RegistryError::Duplicate(name));
            }
        }
        Ok(())
    }

    /// Registers `collector` at run time; refused when its names overlap a registered
    /// collector's (the error names the first duplicate) or when all `R` slots are taken. The id
    /// is for [`StaticRegistry::unregister_id`].
    pub fn register(&self, collector: &'static dyn Collector) -> Result<CollectorId, RegistryError> {
        let mut own = SelfOverlap { collector, seen: 0, found: None };
        collector.describe(&mut own).map_err(RegistryError::Collect)?;
        if let Some(name) = own.found {
            return Err(RegistryError::Duplicate(name));
        }
        loop {
            let (snapshot, next_id) = self.snapshot();
            let existing = |s: &mut dyn Sink| self.describe_all(&snapshot, s);
            let mut check = CheckAgainst { existing: &existing, found: None };
            collector.describe(&mut check).map_err(RegistryError::Collect)?;
            if let Some(name) = check.found {
                return Err(RegistryError::Duplicate(name));
            }
            // Collector code never runs under the lock (an interrupt handler or another thread
            // may be waiting on it); if another registration came in since the check, check
            // again. (A removal since then can only remove a conflict.)
            let done = self.runtime.with(|rt| {
                if rt.next_id != next_id {
                    return None;
                }
                let id = CollectorId(rt.next_id);
                Some(rt.entries.push((id, collector)).map(|()| {
                    rt.next_id += 1;
                    id
                }))
            });
            if let Some(result) = done {
                return result.map_err(|_| RegistryError::Full { capacity: R });
            }
        }
    }

    /// Removes a collector registered at run time, found by its address.
    ///
    /// Distinct zero-sized collectors may share an address (so may a collector and its first
    /// field); when more than one registration has `collector`'s address, nothing is removed
    /// and the error is [`RegistryError::Ambiguous`]: use [`StaticRegistry::unregister_id`].
    pub fn unregister(&self, collector: &'static dyn Collector) -> Result<(), RegistryError> {
        self.runtime.with(|rt| {
            let same = |(_, c): &&(CollectorId, &dyn Collector)| core::ptr::addr_eq(*c, collector);
            let i = rt.entries.iter().position(|e| same(&e)).ok_or(RegistryError::NotRegistered)?;
            let matches = rt.entries.iter().filter(same).count();
            if matches > 1 {
                return Err(RegistryError::Ambiguous { matches });
            }
            rt.entries.remove(i);
            Ok(())
        })
    }

    /// Removes the collector registered as `id`.
    pub fn unregister_id(&self, id: CollectorId) -> Result<(), RegistryError> {
        self.runtime.with(|rt| {
            let i = rt.entries.iter().position(|(e, _)| *e == id).ok_or(RegistryError::NotRegistered)?;
            rt.entries.remove(i);
            Ok(())
        })
    }

    /// Writes Prometheus text 0.0.4 into `writer`, each piece straight through (no line buffer
    /// and no OpenMetrics code: the smallest stack and flash, for firmware writing into a slice
    /// or a UART; a writer whose every write costs a system call wants [`Encoder::new`](crate::Encoder::new)).
    pub fn encode_text<W: embedded_io::Write>(&self, writer: W) -> Result<W, EncodeError<W::Error>> {
        encode_once::<W, TextFormat, 0>(TextFormat, writer, self)
    }

    /// Writes OpenMetrics text (ending in `# EOF`) into `writer`.
    #[cfg(feature = "openmetrics")]
    pub fn encode_openmetrics<W: embedded_io::Write>(&self, writer: W) -> Result<W, EncodeError<W::Error>> {
        encode_once::<W, OpenMetricsFormat, LINE_BUF>(OpenMetricsFormat, writer, self)
    }

    /// Writes `format` into `writer`.
    pub fn encode<W: embedded_io::Write>(
        &self,
        format: Format,
        writer: W,
    ) -> Result<W, EncodeError<W::Error>> {
        encode_once::<W, Format, LINE_BUF>(format, writer, self)
    }
}

impl<const R: usize> Collector for StaticRegistry<R> {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.members(&mut |c| c.collect(sink)).map(drop)
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.describe_all(&self.runtime(), sink)
    }

    fn members(
        &self,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        for c in self.fixed {
            visit(*c)?;
        }
        // No copy of the (empty) run-time list, and no code for it, in a registry without one.
        if R > 0 {
            for (_, c) in self.runtime() {
                visit(c)?;
            }
        }
        Ok(true)
    }
}
