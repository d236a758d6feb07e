//! Where multiprocess metrics keep their values: a [`Store`] in a directory (one file per
//! process and type) or, with the mode off, in process memory.
//!
//! Each value of a metric child is a *cell*: a JSON key (see [`mmap_key`](super::mmap_key)) and a
//! pointer to its 8-byte word, either inside the process's file mapping or inside the cell
//! itself. Updates go through the pointer with one atomic read-modify-write and no lock.
//!
//! **Processes change under our feet.** After `fork()` the child inherits the parent's mappings,
//! and must not write them: its values belong in files named with its own pid. A
//! `pthread_atfork` child handler bumps a process-wide *fork epoch*; every update compares the
//! epoch its store was bound in with the current one (one relaxed load) and, when they differ,
//! rebinds every cell of the store to files named with the new `std::process::id()` before
//! writing, as Python's `values.py` does when `os.getpid()` changes. A store made with
//! [`Store::open_with_identifier`] instead calls its identifier on every update, as Python does
//! with a custom `process_identifier`.
//!
//! **Locks across `fork()`.** Updates take no lock, but creating a child, a family or a store
//! does. A `pthread_atfork` prepare handler waits until no other thread holds any of these locks
//! and holds them through the fork, and the parent and child handlers release them, so a child
//! forked while another thread was creating metrics finds every lock free.
//!
//! **When a file cannot take a value.** A file's space is reserved when it is created or grows
//! (`posix_fallocate`, not a sparse file), so a full filesystem is an error at that moment and
//! never a `SIGBUS` at a later update. The values that did not get a word in a file then count
//! in process memory (logged with `log::error!`): the process's own reads stay exact, but the
//! merge, which reads only files, does not see them.
//!
//! **Why pointers stay valid.** A file's mappings are never unmapped while its dictionary lives
//! (growth adds a bigger mapping; see [`MmapDict`]), and a store keeps every dictionary it has
//! bound cells to until it is dropped, except after a fork, where the child drops its parent's
//! (no thread in the child can hold a pointer into them: the only thread that survives a fork
//! rebinds before it writes, and threads started later see the new binding).

use super::collector::MultiProcessCollector;
use super::error::{Feature, MultiProcessError};
use super::family::{Counter, Family, Gauge, Histogram, Member, Meta, Summary};
use super::mmap_dict::MmapDict;
pub use promstack_alloc::Opts;
use promstack_core::{
    check_buckets, check_label_names, BoundedStr, CollectError, Collector, Desc, LabelError, MetricType, Sink,
};
use std::any::Any;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

/// Bumped in every child process right after `fork()` (see the module documentation).
static FORK_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Something whose locks must not be held by another thread at `fork()`: the child would wait
/// for them forever, since that thread does not exist there.
pub(crate) trait ForkLocks: Send + Sync {
    /// Try-locks every lock of `self`, pushing the guards to `held`; `false` when one is busy
    /// (the guards already pushed are released by the caller).
    fn try_hold(self: Arc<Self>, held: &mut Vec<Box<dyn Any>>) -> bool;
}

/// Every live object with locks the fork handlers take.
static FORK_LOCKED: Mutex<Vec<Weak<dyn ForkLocks>>> = Mutex::new(Vec::new());

/// Makes `object`'s locks held across every `fork()` of this process (see [`fork_prepare`]).
pub(crate) fn register_fork_locks(object: Weak<dyn ForkLocks>) {
    install_fork_hook();
    let mut all = lock(&FORK_LOCKED);
    all.retain(|w| w.strong_count() > 0);
    all.push(object);
}

/// A guard kept across `fork()` with the `Arc` that owns its lock, so the lock outlives it.
struct Pinned<G, O> {
    // Declared first: dropped (unlocked) before the owner may be freed.
    _guard: G,
    _owner: O,
}

thread_local! {
    /// The guards [`fork_prepare`] took, released by the parent and child handlers.
    static HELD: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
    /// How many [`ForkGate`]s this thread holds.
    static GATE_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Entered (shared) by every operation that takes store locks other than an index lookup, and
/// taken exclusively by [`fork_prepare`]: a thread that keeps creating metrics would otherwise
/// hold some lock at nearly every instant, and the prepare handler could starve.
static FORK_GATE: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// A shared hold of [`FORK_GATE`]; re-entrant within a thread.
pub(crate) struct ForkGate(Option<std::sync::RwLockReadGuard<'static, ()>>);

impl ForkGate {
    pub(crate) fn enter() -> ForkGate {
        let depth = GATE_DEPTH.with(|d| d.replace(d.get() + 1));
        // A nested entry must not wait: a fork waiting for the gate would block it forever.
        ForkGate((depth == 0).then(|| FORK_GATE.read().unwrap_or_else(PoisonError::into_inner)))
    }
}

impl Drop for ForkGate {
    fn drop(&mut self) {
        self.0.take();
        GATE_DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// `pthread_atfork` prepare handler: waits until no other thread holds any store, family or
/// file lock, and holds them all across the fork, so the child finds them free and their data
/// consistent. Locks are only tried, never waited for while holding others, so it cannot
/// deadlock with threads that take them in any order; it gives up (and says so) after a few
/// seconds, e.g. when the forking thread itself holds one (a `Family::with` closure that forks).
#[cfg(unix)]
extern "C" fn fork_prepare() {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut held: Vec<Box<dyn Any>> = Vec::new();
    // No new store operation starts once this waits; the ones under way finish.
    if GATE_DEPTH.with(|d| d.get()) == 0 {
        held.push(Box::new(FORK_GATE.write().unwrap_or_else(PoisonError::into_inner)));
    }
    let gate = held.len();
    let mut attempt = 0u32;
    loop {
        if try_hold_all(&mut held) {
            HELD.with(|h| *h.borrow_mut() = held);
            return;
        }
        held.truncate(gate);
        if std::time::Instant::now() >= deadline {
            held.clear();
            log::error!(
                "multiprocess: fork() while a store lock stayed busy for 5 s; the child may block on it"
            );
            return;
        }
        attempt += 1;
        if attempt < 100 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}

#[cfg(unix)]
fn try_hold_all(held: &mut Vec<Box<dyn Any>>) -> bool {
    let all = match FORK_LOCKED.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return false,
    };
    let objects: Vec<Arc<dyn ForkLocks>> = all.iter().filter_map(Weak::upgrade).collect();
    // SAFETY: FORK_LOCKED is a static, so its guard may live as long as it is held.
    held.push(Box::new(unsafe { erase_mutex_guard(all) }));
    let Some(open) = try_lock(open_files()) else { return false };
    // Every file open for writing, once each (stores of one directory share them).
    let dicts: Vec<SharedDict> = open.values().filter_map(Weak::upgrade).collect();
    // SAFETY: as above, the map of open files is a static.
    held.push(Box::new(unsafe { erase_mutex_guard(open) }));
    objects.into_iter().all(|o| o.try_hold(held))
        && dicts.into_iter().all(|d| match try_lock(&d) {
            Some(g) => {
                // SAFETY: `d` is held beside the guard and keeps the mutex alive.
                let g = unsafe { erase_mutex_guard(g) };
                hold(held, g, d.clone());
                true
            }
            None => false,
        })
}

/// `pthread_atfork` parent and child handler: releases what [`fork_prepare`] held.
#[cfg(unix)]
extern "C" fn fork_release() {
    HELD.with(|h| h.borrow_mut().clear());
}

#[cfg(unix)]
extern "C" fn fork_child() {
    fork_release();
    // Relaxed is enough: the child runs one thread here.
    FORK_EPOCH.fetch_add(1, Ordering::Relaxed);
}

fn install_fork_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(unix)]
        {
            // SAFETY: registers handlers that run in the forking thread around fork(); the
            // child handler only releases locks that thread took and bumps an atomic.
            let rc =
                unsafe { libc::pthread_atfork(Some(fork_prepare), Some(fork_release), Some(fork_child)) };
            if rc != 0 {
                log::error!("multiprocess: pthread_atfork failed ({rc}); values written after fork() may land in the parent's files");
            }
        }
    });
}

/// `lock.try_lock()`, ignoring poisoning (see [`lock`]).
pub(crate) fn try_lock<T: ?Sized>(m: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(g) => Some(g),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// Extends a guard's lifetime to `'static` so it can wait in [`HELD`] for the fork to finish.
///
/// # Safety
/// The mutex must outlive the returned guard (a static, or one kept alive beside the guard).
pub(crate) unsafe fn erase_mutex_guard<T: ?Sized + 'static>(g: MutexGuard<'_, T>) -> MutexGuard<'static, T> {
    // SAFETY: only the lifetime changes; the caller keeps the mutex alive.
    unsafe { std::mem::transmute::<MutexGuard<'_, T>, MutexGuard<'static, T>>(g) }
}

/// Holds `guard` in `held` together with `owner`, which keeps the guard's lock alive.
pub(crate) fn hold<G: 'static, O: ?Sized + Send + Sync + 'static>(
    held: &mut Vec<Box<dyn Any>>,
    guard: G,
    owner: Arc<O>,
) {
    held.push(Box::new(Pinned { _guard: guard, _owner: owner }));
}

/// The directory from `prometheus_multiproc_dir` (Python 0.8.0's name) or, if unset,
/// `PROMETHEUS_MULTIPROC_DIR`. An empty value counts as unset.
///
/// ```
/// // Neither variable is set in doctests.
/// assert_eq!(promstack::multiprocess::env_dir(), None);
/// ```
pub fn env_dir() -> Option<PathBuf> {
    ["prometheus_multiproc_dir", "PROMETHEUS_MULTIPROC_DIR"]
        .into_iter()
        .filter_map(std::env::var_os)
        .find(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Refuses `feature` when multiprocess mode is on for this process (the environment variable is
/// set); `Ok` otherwise. For code that does not hold a [`Store`], e.g. a Pushgateway client.
///
/// ```
/// use promstack::multiprocess::{check_supported, Feature};
/// assert!(check_supported(Feature::Pushgateway).is_ok()); // the variable is unset here
/// ```
pub fn check_supported(feature: Feature) -> Result<(), MultiProcessError> {
    match env_dir() {
        Some(_) => Err(MultiProcessError::Unsupported(feature)),
        None => Ok(()),
    }
}

/// How the merge combines one gauge's values from several processes (Python's
/// `multiprocess_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GaugeMode {
    /// One series per process, with a `pid` label; dead processes' series stay.
    #[default]
    All,
    /// One series per live process, with a `pid` label
    /// ([`mark_process_dead`](super::mark_process_dead) removes a process's series).
    LiveAll,
    /// The sum over live processes.
    LiveSum,
    /// The largest value of any process, alive or dead. NaN only when every process has NaN,
    /// whatever order the files are read in (Python 0.8.0's result depends on it).
    Max,
    /// The smallest value of any process, alive or dead; NaN as for [`GaugeMode::Max`].
    Min,
}

impl GaugeMode {
    /// Every mode.
    pub const ALL: [GaugeMode; 5] =
        [GaugeMode::All, GaugeMode::LiveAll, GaugeMode::LiveSum, GaugeMode::Max, GaugeMode::Min];

    /// The name used in file names and by Python: `all`, `liveall`, `livesum`, `max`, `min`.
    pub const fn as_str(self) -> &'static str {
        match self {
            GaugeMode::All => "all",
            GaugeMode::LiveAll => "liveall",
            GaugeMode::LiveSum => "livesum",
            GaugeMode::Max => "max",
            GaugeMode::Min => "min",
        }
    }
}

impl FromStr for GaugeMode {
    type Err = MultiProcessError;

    /// ```
    /// use promstack::multiprocess::GaugeMode;
    /// assert_eq!("livesum".parse::<GaugeMode>().unwrap(), GaugeMode::LiveSum);
    /// assert!("sum".parse::<GaugeMode>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GaugeMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| MultiProcessError::InvalidGaugeMode(s.to_owned()))
    }
}

impl fmt::Display for GaugeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which file of a process a value lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FileKind {
    Counter,
    Summary,
    Histogram,
    Gauge(GaugeMode),
}

impl FileKind {
    fn file_name(self, id: u64) -> String {
        match self {
            FileKind::Counter => format!("counter_{id}.db"),
            FileKind::Summary => format!("summary_{id}.db"),
            FileKind::Histogram => format!("histogram_{id}.db"),
            FileKind::Gauge(mode) => format!("gauge_{}_{id}.db", mode.as_str()),
        }
    }
}

/// One value: its key in the file and where its word is.
pub(crate) struct Cell {
    key: Box<str>,
    /// The bound word: inside a file mapping, or `local`.
    ptr: AtomicPtr<u64>,
    /// The word used in memory mode (and when a file cannot be opened).
    local: AtomicU64,
}

impl Cell {
    pub(crate) fn new(key: String) -> Cell {
        Cell { key: key.into(), ptr: AtomicPtr::new(std::ptr::null_mut()), local: AtomicU64::new(0) }
    }
}

/// The values of one metric child and the store they belong to.
pub(crate) struct Child {
    pub(crate) meta: Arc<Meta>,
    pub(crate) label_values: Box<[String]>,
    /// Creation number within the family (reporting order).
    pub(crate) seq: u64,
    backend: Arc<Backend>,
    file: FileKind,
    cells: Box<[Cell]>,
}

impl Child {
    /// Word `i` of this child, rebinding first if the process changed.
    #[inline]
    fn word(&self, i: usize) -> &AtomicU64 {
        if !self.backend.is_current() {
            self.backend.rebind();
        }
        // Acquire: pairs with the Release store of the binding, so the entry the pointer names
        // is initialized and its mapping is published.
        let p = self.cells[i].ptr.load(Ordering::Acquire);
        // SAFETY: `p` is 8-aligned and points either at `self.cells[i].local` or into a mapping
        // that the backend keeps alive as long as this child can reach it (see the module
        // documentation); the word is only ever accessed atomically.
        unsafe { AtomicU64::from_ptr(p) }
    }

    /// Adds `v` to value `i`.
    #[inline]
    pub(crate) fn add(&self, i: usize, v: f64) {
        // Relaxed: a value orders nothing else; the CAS loop makes concurrent adds exact.
        let _ = self.word(i).fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(u64::from_le(bits)) + v).to_bits().to_le())
        });
    }

    /// Sets value `i`.
    #[inline]
    pub(crate) fn set(&self, i: usize, v: f64) {
        self.word(i).store(v.to_bits().to_le(), Ordering::Relaxed);
    }

    /// Value `i` as this process sees it.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> f64 {
        f64::from_bits(u64::from_le(self.word(i).load(Ordering::Relaxed)))
    }

    pub(crate) fn backend(&self) -> &Backend {
        &self.backend
    }
}

type Identifier = Arc<dyn Fn() -> u64 + Send + Sync>;
type SharedDict = Arc<Mutex<MmapDict>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves consistent data (every step is complete or not
    // started), so poisoning is ignored.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every file open for writing in this process, by path.
fn open_files() -> &'static Mutex<HashMap<PathBuf, Weak<Mutex<MmapDict>>>> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<Mutex<MmapDict>>>>> = OnceLock::new();
    OPEN.get_or_init(Default::default)
}

/// The file at `path` open for writing, shared by every store of this process, so two stores
/// on one directory share a file instead of both appending to it.
fn open_shared(path: &Path) -> Result<SharedDict, MultiProcessError> {
    let mut open = lock(open_files());
    if let Some(d) = open.get(path).and_then(Weak::upgrade) {
        return Ok(d);
    }
    open.retain(|_, w| w.strong_count() > 0);
    let d = Arc::new(Mutex::new(MmapDict::open(path)?));
    open.insert(path.to_path_buf(), Arc::downgrade(&d));
    Ok(d)
}

struct BackendState {
    /// The process identity and fork epoch the cells are bound for.
    id: u64,
    epoch: u64,
    files: HashMap<FileKind, SharedDict>,
    /// Files of an earlier identity in this same process: kept so stale pointers stay valid.
    retired: Vec<SharedDict>,
    children: Vec<Weak<Child>>,
}

/// The value side of a store: binding cells to files, and rebinding after a fork.
pub(crate) struct Backend {
    dir: Option<PathBuf>,
    identifier: Option<Identifier>,
    bound_epoch: AtomicU64,
    bound_id: AtomicU64,
    state: Mutex<BackendState>,
}

impl Backend {
    fn new(dir: Option<PathBuf>, identifier: Option<Identifier>) -> Backend {
        install_fork_hook();
        let epoch = FORK_EPOCH.load(Ordering::Acquire);
        let id = identify(&identifier);
        Backend {
            dir,
            identifier,
            bound_epoch: AtomicU64::new(epoch),
            bound_id: AtomicU64::new(id),
            state: Mutex::new(BackendState {
                id,
                epoch,
                files: HashMap::new(),
                retired: Vec::new(),
                children: Vec::new(),
            }),
        }
    }

    pub(crate) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// `true` when the cells are bound for the running process.
    #[inline]
    fn is_current(&self) -> bool {
        if self.dir.is_none() {
            return true;
        }
        match &self.identifier {
            // Relaxed on FORK_EPOCH: only the forking thread survives, and it wrote the value.
            None => FORK_EPOCH.load(Ordering::Relaxed) == self.bound_epoch.load(Ordering::Acquire),
            Some(f) => f() == self.bound_id.load(Ordering::Acquire),
        }
    }

    #[cold]
    fn rebind(&self) {
        let _gate = ForkGate::enter();
        let mut st = lock(&self.state);
        self.rebind_locked(&mut st);
    }

    fn rebind_locked(&self, st: &mut BackendState) {
        let epoch = FORK_EPOCH.load(Ordering::Acquire);
        let id = identify(&self.identifier);
        if epoch == st.epoch && id == st.id {
            return;
        }
        let old = std::mem::take(&mut st.files);
        if epoch != st.epoch {
            // A new process: nothing here can point into the parent's mappings.
            st.retired.clear();
            drop(old);
        } else {
            st.retired.extend(old.into_values());
        }
        st.id = id;
        st.epoch = epoch;
        st.children.retain(|c| c.strong_count() > 0);
        let children: Vec<Arc<Child>> = st.children.iter().filter_map(Weak::upgrade).collect();
        for child in &children {
            self.bind(st, child);
        }
        self.bound_id.store(id, Ordering::Release);
        self.bound_epoch.store(epoch, Ordering::Release);
    }

    /// Points every cell of `child` at its word in the current process's file.
    fn bind(&self, st: &mut BackendState, child: &Child) {
        let Some(dir) = &self.dir else {
            for cell in child.cells.iter() {
                cell.ptr.store(cell.local.as_ptr(), Ordering::Release);
            }
            return;
        };
        let dict = match st.files.get(&child.file) {
            Some(d) => Ok(d.clone()),
            None => open_shared(&dir.join(child.file.file_name(st.id))).inspect(|d| {
                st.files.insert(child.file, d.clone());
            }),
        };
        let result = dict.and_then(|dict| {
            let mut dict = lock(&dict);
            for cell in child.cells.iter() {
                let p = dict.slot(&cell.key)?;
                cell.ptr.store(p, Ordering::Release);
            }
            Ok(())
        });
        if let Err(e) = result {
            // Updates must not fail or panic: keep counting in memory and say so.
            log::error!("multiprocess: {e}; values of {} stay in process memory", child.meta.name);
            for cell in child.cells.iter() {
                cell.ptr.store(cell.local.as_ptr(), Ordering::Release);
            }
        }
    }

    /// Makes a child with one cell per key, bound (its entries created at 0 in the file, as
    /// Python does at metric creation).
    pub(crate) fn child(
        self: &Arc<Self>,
        meta: Arc<Meta>,
        label_values: Box<[String]>,
        seq: u64,
        file: FileKind,
        keys: Vec<String>,
    ) -> Arc<Child> {
        let _gate = ForkGate::enter();
        let cells = keys.into_iter().map(Cell::new).collect();
        let child = Arc::new(Child { meta, label_values, seq, backend: self.clone(), file, cells });
        let mut st = lock(&self.state);
        self.rebind_locked(&mut st);
        self.bind(&mut st, &child);
        st.children.push(Arc::downgrade(&child));
        child
    }

    /// Retires a child its family removed: its entries in this process's file are marked
    /// removed (and zeroed), so the merge never reads them again, and its cells are pointed at
    /// process memory and left out of every later rebinding. An update through a handle that
    /// still holds the file pointer lands in a marked entry: never read, and never the entry of
    /// a child re-created with the same labels, which gets new ones.
    pub(crate) fn retire(&self, child: &Child) {
        let _gate = ForkGate::enter();
        let mut st = lock(&self.state);
        // After a fork, the files in `st` are the parent's: never mark those.
        self.rebind_locked(&mut st);
        st.children.retain(|c| c.strong_count() > 0 && !std::ptr::eq(c.as_ptr(), child));
        for cell in child.cells.iter() {
            cell.ptr.store(cell.local.as_ptr(), Ordering::Release);
        }
        if let Some(dict) = st.files.get(&child.file) {
            let mut dict = lock(dict);
            for cell in child.cells.iter() {
                dict.remove(&cell.key);
            }
        }
    }
}

impl ForkLocks for Backend {
    fn try_hold(self: Arc<Self>, held: &mut Vec<Box<dyn Any>>) -> bool {
        // Its files are held through the map of open files (see `try_hold_all`).
        let Some(st) = try_lock(&self.state) else { return false };
        // SAFETY: `self` is held beside the guard and keeps the mutex alive.
        hold(held, unsafe { erase_mutex_guard(st) }, self.clone());
        true
    }
}

impl ForkLocks for StoreInner {
    fn try_hold(self: Arc<Self>, held: &mut Vec<Box<dyn Any>>) -> bool {
        let (Some(families), Some(names)) = (try_lock(&self.families), try_lock(&self.names)) else {
            return false;
        };
        // SAFETY: `self` is held beside the guards and keeps the mutexes alive.
        let guards = unsafe { (erase_mutex_guard(families), erase_mutex_guard(names)) };
        hold(held, guards, self.clone());
        true
    }
}

fn identify(identifier: &Option<Identifier>) -> u64 {
    match identifier {
        Some(f) => f(),
        None => u64::from(std::process::id()),
    }
}

struct StoreInner {
    backend: Arc<Backend>,
    collector: Option<MultiProcessCollector>,
    /// Families made by this store and collectors registered with it (memory mode), exposed
    /// by [`Store`]'s `Collector` implementation in memory mode.
    families: Mutex<Vec<Arc<dyn Collector>>>,
    names: Mutex<HashSet<String>>,
}

/// The factory of multiprocess metrics, and where their values live.
///
/// - **Multiprocess mode** ([`Store::open`], or [`Store::from_env`] with
///   `prometheus_multiproc_dir` set): every value is a word in this process's file
///   `<type>_<pid>.db` / `gauge_<mode>_<pid>.db` in the directory, readable by Python 0.8.0's
///   `MultiProcessCollector` and by [`MultiProcessCollector`]. The store's `Collector`
///   implementation merges the whole directory.
/// - **Memory mode** ([`Store::memory`], or [`Store::from_env`] without the variable): the same
///   metrics keep their values in memory and the store collects them like a registry.
///
/// So the same program runs single-process or pre-forked by setting one variable, as in Python.
/// Cloning a store is cheap; clones share everything.
///
/// ```
/// use promstack::multiprocess::{GaugeMode, Opts, Store};
/// let dir = std::env::temp_dir().join(format!("doc-store-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let store = Store::open(&dir).unwrap();
/// let requests = store.counter_family(Opts::new("requests", "Requests."), &["method"]).unwrap();
/// requests.get(&["get"]).unwrap().inc();
/// let in_flight = store.gauge(Opts::new("in_flight", "In flight."), GaugeMode::LiveSum).unwrap();
/// in_flight.set(3.0);
/// let text = String::from_utf8(promstack::encode_text(Vec::new(), &store).unwrap()).unwrap();
/// assert!(text.contains("requests_total{method=\"get\"} 1.0\n"));
/// assert!(text.contains("in_flight 3.0\n"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir()).finish_non_exhaustive()
    }
}

impl Store {
    fn with_backend(backend: Backend) -> Store {
        let _gate = ForkGate::enter();
        let collector = backend.dir().map(|d| MultiProcessCollector::unchecked(d.to_path_buf()));
        let backend = Arc::new(backend);
        register_fork_locks(Arc::downgrade(&backend) as Weak<dyn ForkLocks>);
        let inner = Arc::new(StoreInner {
            backend,
            collector,
            families: Mutex::new(Vec::new()),
            names: Mutex::new(HashSet::new()),
        });
        register_fork_locks(Arc::downgrade(&inner) as Weak<dyn ForkLocks>);
        Store { inner }
    }

    /// Multiprocess mode in `dir`, which must exist. Files are created when the first metric is.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, MultiProcessError> {
        let dir = checked_dir(dir.as_ref())?;
        Ok(Store::with_backend(Backend::new(Some(dir), None)))
    }

    /// Multiprocess mode in `dir`, naming files with `identifier()` instead of the pid (Python's
    /// `MultiProcessValue(process_identifier)`): it is called on every update, and a new value
    /// moves every metric of the store to files with the new name. It must return distinct
    /// values in processes that run at the same time.
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// let dir = std::env::temp_dir().join(format!("doc-ident-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let store = Store::open_with_identifier(&dir, || 7).unwrap();
    /// store.counter(Opts::new("c", "help")).unwrap().inc();
    /// assert!(dir.join("counter_7.db").exists());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open_with_identifier(
        dir: impl AsRef<Path>,
        identifier: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Result<Store, MultiProcessError> {
        let dir = checked_dir(dir.as_ref())?;
        Ok(Store::with_backend(Backend::new(Some(dir), Some(Arc::new(identifier)))))
    }

    /// Memory mode: metrics keep their values in this process.
    pub fn memory() -> Store {
        Store::with_backend(Backend::new(None, None))
    }

    /// Multiprocess mode if `prometheus_multiproc_dir` (or `PROMETHEUS_MULTIPROC_DIR`) is set
    /// (then the directory must exist), memory mode otherwise.
    pub fn from_env() -> Result<Store, MultiProcessError> {
        match env_dir() {
            Some(dir) => Store::open(dir),
            None => Ok(Store::memory()),
        }
    }

    /// The directory in multiprocess mode; `None` in memory mode.
    pub fn dir(&self) -> Option<&Path> {
        self.inner.backend.dir()
    }

    /// `true` in multiprocess mode.
    pub fn is_multiprocess(&self) -> bool {
        self.dir().is_some()
    }

    /// Refuses `feature` in multiprocess mode with [`MultiProcessError::Unsupported`]; `Ok` in
    /// memory mode, where everything works.
    pub fn check_supported(&self, feature: Feature) -> Result<(), MultiProcessError> {
        if self.is_multiprocess() {
            Err(MultiProcessError::Unsupported(feature))
        } else {
            Ok(())
        }
    }

    /// Adds a custom collector to what the store exposes. Memory mode only: in multiprocess
    /// mode its values would exist in one process only, so it is refused (naming Info or Enum
    /// when the collector reports such a family).
    ///
    /// ```
    /// use promstack::multiprocess::{Feature, MultiProcessError, Store};
    /// use std::sync::Arc;
    /// static UP: promstack::Gauge = promstack::Gauge::new("up", "Up.");
    /// assert!(Store::memory().register(Arc::new(&UP)).is_ok());
    /// let dir = std::env::temp_dir();
    /// let err = Store::open(&dir).unwrap().register(Arc::new(&UP)).unwrap_err();
    /// assert!(matches!(err, MultiProcessError::Unsupported(Feature::CustomCollector)));
    /// ```
    pub fn register(&self, collector: Arc<dyn Collector>) -> Result<(), MultiProcessError> {
        let _gate = ForkGate::enter();
        if self.is_multiprocess() {
            let mut types = TypeSink(Vec::new());
            let _ = collector.describe(&mut types);
            let feature = if types.0.contains(&MetricType::Info) {
                Feature::Info
            } else if types.0.contains(&MetricType::StateSet) {
                Feature::Enum
            } else {
                Feature::CustomCollector
            };
            return Err(MultiProcessError::Unsupported(feature));
        }
        lock(&self.inner.families).push(collector);
        Ok(())
    }

    fn claim(&self, name: &str, t: MetricType) -> Result<(), MultiProcessError> {
        let mut names = lock(&self.inner.names);
        let claimed: Vec<String> = t.claimed_suffixes().iter().map(|s| format!("{name}{s}")).collect();
        if let Some(dup) = claimed.iter().find(|n| names.contains(*n)) {
            return Err(MultiProcessError::Duplicate(dup.clone()));
        }
        names.extend(claimed);
        Ok(())
    }

    fn family<M: Member>(
        &self,
        opts: Opts<'_>,
        t: MetricType,
        label_names: &[&str],
        kind: FileKind,
        buckets: Vec<f64>,
    ) -> Result<Family<M>, MultiProcessError> {
        let _gate = ForkGate::enter();
        let name = opts.full_name(t)?;
        // One set of label names: the argument, or the options' (the same `Opts` as
        // promstack-alloc's families); both given must agree.
        let label_names = match (label_names, opts.label_names) {
            (given, []) => given,
            ([], from_opts) => from_opts,
            (given, from_opts) if given == from_opts => given,
            (given, from_opts) => {
                let e = match given.iter().find(|n| !from_opts.contains(n)) {
                    Some(n) if given.len() == from_opts.len() => LabelError::UnknownName(BoundedStr::new(n)),
                    _ => LabelError::WrongCount { expected: from_opts.len(), got: given.len() },
                };
                return Err(MultiProcessError::Label(e));
            }
        };
        check_label_names(label_names, t)?;
        if matches!(kind, FileKind::Gauge(_)) && self.is_multiprocess() && label_names.contains(&"pid") {
            return Err(MultiProcessError::Unsupported(Feature::GaugePidLabel));
        }
        self.claim(&name, t)?;
        let meta = Arc::new(Meta {
            name,
            help: opts.help.to_owned(),
            unit: opts.unit.to_owned(),
            metric_type: t,
            label_names: label_names.iter().map(|s| s.to_string()).collect(),
            buckets,
        });
        let family = Family::new(meta, self.inner.backend.clone(), kind);
        lock(&self.inner.families).push(Arc::new(family.clone()));
        Ok(family)
    }

    /// A counter without labels.
    pub fn counter(&self, opts: Opts<'_>) -> Result<Counter, MultiProcessError> {
        self.counter_family(opts, &[])?.only_child()
    }

    /// A counter with the given label names; children by [`Family::get`].
    ///
    /// `opts` is promstack-alloc's [`Opts`], the options of every growing family; the label
    /// names may be given there instead of as `label_names` (both given must agree).
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// let store = Store::memory();
    /// let a = store.counter_family(Opts::new("a", "A."), &["method"]).unwrap();
    /// let b = store.counter_family(Opts::new("b", "B.").label_names(&["method"]), &[]).unwrap();
    /// assert_eq!(a.label_names(), b.label_names());
    /// assert!(store.counter_family(Opts::new("c", "C.").label_names(&["x"]), &["y"]).is_err());
    /// ```
    pub fn counter_family(
        &self,
        opts: Opts<'_>,
        label_names: &[&str],
    ) -> Result<Family<Counter>, MultiProcessError> {
        self.family(opts, MetricType::Counter, label_names, FileKind::Counter, Vec::new())
    }

    /// A gauge without labels, merged across processes according to `mode`.
    pub fn gauge(&self, opts: Opts<'_>, mode: GaugeMode) -> Result<Gauge, MultiProcessError> {
        self.gauge_family(opts, mode, &[])?.only_child()
    }

    /// A gauge with the given label names (`pid` is refused in multiprocess mode: the merge
    /// owns that label).
    pub fn gauge_family(
        &self,
        opts: Opts<'_>,
        mode: GaugeMode,
        label_names: &[&str],
    ) -> Result<Family<Gauge>, MultiProcessError> {
        self.family(opts, MetricType::Gauge, label_names, FileKind::Gauge(mode), Vec::new())
    }

    /// A summary (count and sum) without labels.
    pub fn summary(&self, opts: Opts<'_>) -> Result<Summary, MultiProcessError> {
        self.summary_family(opts, &[])?.only_child()
    }

    /// A summary with the given label names.
    pub fn summary_family(
        &self,
        opts: Opts<'_>,
        label_names: &[&str],
    ) -> Result<Family<Summary>, MultiProcessError> {
        self.family(opts, MetricType::Summary, label_names, FileKind::Summary, Vec::new())
    }

    /// A histogram without labels. `buckets` are the upper bounds, strictly ascending; `+Inf`
    /// is added if missing. [`DEFAULT_BUCKETS`](promstack_core::DEFAULT_BUCKETS) are Python's.
    pub fn histogram(&self, opts: Opts<'_>, buckets: &[f64]) -> Result<Histogram, MultiProcessError> {
        self.histogram_family(opts, buckets, &[])?.only_child()
    }

    /// A histogram with the given label names (`le` is reserved).
    pub fn histogram_family(
        &self,
        opts: Opts<'_>,
        buckets: &[f64],
        label_names: &[&str],
    ) -> Result<Family<Histogram>, MultiProcessError> {
        check_buckets(buckets)?;
        let mut bounds = buckets.to_vec();
        if bounds.last() != Some(&f64::INFINITY) {
            bounds.push(f64::INFINITY);
        }
        self.family(opts, MetricType::Histogram, label_names, FileKind::Histogram, bounds)
    }
}

fn checked_dir(dir: &Path) -> Result<PathBuf, MultiProcessError> {
    if dir.is_dir() {
        Ok(dir.to_path_buf())
    } else {
        Err(MultiProcessError::NotADirectory(dir.to_path_buf()))
    }
}

/// Records the types of the families a collector describes.
struct TypeSink(Vec<MetricType>);

impl Sink for TypeSink {
    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        self.0.push(desc.metric_type);
        Ok(())
    }
    fn sample(&mut self, _: &Desc<'_>, _: &promstack_core::Sample<'_>) -> Result<(), CollectError> {
        Ok(())
    }
}

/// Multiprocess mode: the merge of the whole directory (every process's values). Memory mode:
/// this store's metrics and registered collectors.
impl Collector for Store {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        match &self.inner.collector {
            Some(c) => c.collect(sink),
            None => {
                let families = lock(&self.inner.families).clone();
                families.iter().try_for_each(|f| f.collect(sink))
            }
        }
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let families = lock(&self.inner.families).clone();
        families.iter().try_for_each(|f| f.describe(sink))
    }
}
