//! The process collector: CPU time, memory, start time and file descriptors of a process, read
//! from Linux `/proc` at every collection (SPEC §5).
//!
//! Where `/proc` does not exist (other systems, sandboxes) it reports nothing and no error, so it
//! can sit in every default registry.

use promstack_core::{CollectError, Collector, Desc, Labels, MetricType, Sample, Sink, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Which process a [`ProcessCollector`] reports on.
enum PidSource {
    /// `/proc/self`.
    SelfProcess,
    /// A fixed process id.
    Fixed(u32),
    /// Asked at every collection; surrounding whitespace is ignored (a pid file's newline).
    Dynamic(Box<dyn Fn() -> String + Send + Sync>),
}

/// Family names, help texts and types in exposition order (Python 0.8.0's).
const FAMILIES: [(&str, &str, MetricType); 6] = [
    ("virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge),
    ("resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge),
    ("start_time_seconds", "Start time of the process since unix epoch in seconds.", MetricType::Gauge),
    // A counter family is named without `_total`; the encoders add it.
    ("cpu_seconds", "Total user and system CPU time spent in seconds.", MetricType::Counter),
    ("open_fds", "Number of open file descriptors.", MetricType::Gauge),
    ("max_fds", "Maximum number of open file descriptors.", MetricType::Gauge),
];

/// Reports `process_virtual_memory_bytes`, `process_resident_memory_bytes`,
/// `process_start_time_seconds`, `process_cpu_seconds_total`, `process_open_fds` and
/// `process_max_fds` for this process (or another one) from `/proc`.
///
/// ```
/// use promstack::ProcessCollector;
/// let collector = ProcessCollector::new().namespace("myapp");
/// let text = promstack::std_io::encode_to_writer(Vec::new(), promstack::Format::Text, &collector).unwrap();
/// let text = String::from_utf8(text).unwrap();
/// if std::path::Path::new("/proc/self/stat").exists() {
///     assert!(text.contains("# TYPE myapp_process_cpu_seconds_total counter\n"));
/// }
/// ```
pub struct ProcessCollector {
    names: [String; 6],
    proc_root: PathBuf,
    pid: PidSource,
    ticks: f64,
    page_size: f64,
    /// `btime` of `<proc>/stat`, read once; `None` means no usable `/proc`.
    boot_time: OnceLock<Option<f64>>,
}

impl Default for ProcessCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessCollector {
    /// This process, `/proc`, names starting with `process_`.
    pub fn new() -> Self {
        let (ticks, page_size) = system_units();
        ProcessCollector {
            names: FAMILIES.map(|(n, _, _)| format!("process_{n}")),
            proc_root: PathBuf::from("/proc"),
            pid: PidSource::SelfProcess,
            ticks,
            page_size,
            boot_time: OnceLock::new(),
        }
    }

    /// Names start with `<namespace>_process_` (no namespace when empty).
    ///
    /// # Panics
    /// If `namespace` does not make valid metric names; see [`ProcessCollector::try_namespace`].
    pub fn namespace(self, namespace: &str) -> Self {
        match self.try_namespace(namespace) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`ProcessCollector::namespace`], returning an error for an invalid namespace.
    pub fn try_namespace(mut self, namespace: &str) -> Result<Self, promstack_core::DescError> {
        let prefix =
            if namespace.is_empty() { "process_".to_owned() } else { format!("{namespace}_process_") };
        for (slot, (n, _, t)) in self.names.iter_mut().zip(FAMILIES) {
            let name = format!("{prefix}{n}");
            Desc::try_new(&name, "", t)?;
            *slot = name;
        }
        Ok(self)
    }

    /// Reports on process `pid` instead of this one.
    pub fn pid(mut self, pid: u32) -> Self {
        self.pid = PidSource::Fixed(pid);
        self
    }

    /// Asks `pid()` for the process id at every collection (e.g. reads a pid file); surrounding
    /// whitespace is ignored and an empty answer reports nothing.
    pub fn pid_fn(mut self, pid: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.pid = PidSource::Dynamic(Box::new(pid));
        self
    }

    /// Reads `<root>/stat` and `<root>/<pid>/...` instead of `/proc` (tests use a fixture tree).
    pub fn proc_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.proc_root = root.into();
        self.boot_time = OnceLock::new();
        self
    }

    /// Clock ticks per second used for CPU and start times (default: `sysconf(_SC_CLK_TCK)`).
    pub fn clock_ticks(mut self, ticks: f64) -> Self {
        self.ticks = ticks;
        self
    }

    /// Page size in bytes used for the resident memory (default: `sysconf(_SC_PAGESIZE)`).
    pub fn page_size(mut self, bytes: f64) -> Self {
        self.page_size = bytes;
        self
    }

    fn boot_time(&self) -> Option<f64> {
        *self.boot_time.get_or_init(|| {
            let stat = std::fs::read(self.proc_root.join("stat")).ok()?;
            stat.split(|&b| b == b'\n').find_map(|line| {
                let rest = line.strip_prefix(b"btime ")?;
                std::str::from_utf8(rest).ok()?.trim().parse::<f64>().ok()
            })
        })
    }

    fn pid_dir(&self) -> Option<PathBuf> {
        let pid = match &self.pid {
            PidSource::SelfProcess => "self".to_owned(),
            PidSource::Fixed(p) => p.to_string(),
            PidSource::Dynamic(f) => f().trim().to_owned(),
        };
        if pid.is_empty() || pid.contains('/') || pid == ".." {
            return None;
        }
        Some(self.proc_root.join(pid))
    }

    fn gauge(&self, sink: &mut dyn Sink, i: usize, v: f64) -> Result<(), CollectError> {
        let (_, help, t) = FAMILIES[i];
        let desc = Desc { name: &self.names[i], help, unit: "", metric_type: t };
        sink.family(&desc)?;
        let suffix = if t == MetricType::Counter { "_total" } else { "" };
        sink.sample(&desc, &Sample::new(suffix, Labels::EMPTY, Value::Float(v)))
    }
}

/// The fields of `<pid>/stat` after the command name, as numbers.
fn stat_fields(dir: &Path) -> Option<[f64; 5]> {
    let stat = std::fs::read(dir.join("stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| parts.get(i).and_then(|s| s.parse::<f64>().ok());
    // utime, stime, starttime, vsize, rss.
    Some([field(11)?, field(12)?, field(19)?, field(20)?, field(21)?])
}

/// The soft "Max open files" limit from `<pid>/limits`.
fn max_fds(dir: &Path) -> Option<f64> {
    let limits = std::fs::read_to_string(dir.join("limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    // "unlimited" has no numeric value; Python would fail here, we report nothing.
    soft.parse::<f64>().ok()
}

impl Collector for ProcessCollector {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let Some(boot_time) = self.boot_time() else { return Ok(()) };
        let Some(dir) = self.pid_dir() else { return Ok(()) };
        if let Some([utime, stime, start, vsize, rss]) = stat_fields(&dir) {
            self.gauge(sink, 0, vsize)?;
            self.gauge(sink, 1, rss * self.page_size)?;
            self.gauge(sink, 2, start / self.ticks + boot_time)?;
            self.gauge(sink, 3, utime / self.ticks + stime / self.ticks)?;
        }
        if let Ok(fds) = std::fs::read_dir(dir.join("fd")) {
            self.gauge(sink, 4, fds.count() as f64)?;
        }
        if let Some(max) = max_fds(&dir) {
            self.gauge(sink, 5, max)?;
        }
        Ok(())
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        for (i, (_, help, t)) in FAMILIES.into_iter().enumerate() {
            sink.family(&Desc { name: &self.names[i], help, unit: "", metric_type: t })?;
        }
        Ok(())
    }
}

/// Clock ticks per second and page size of this system (100 and 4096 where unknown).
fn system_units() -> (f64, f64) {
    #[cfg(unix)]
    {
        // SAFETY: sysconf only reads system configuration; it has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        // SAFETY: as above.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        (if ticks > 0 { ticks as f64 } else { 100.0 }, if page > 0 { page as f64 } else { 4096.0 })
    }
    #[cfg(not(unix))]
    {
        (100.0, 4096.0)
    }
}
