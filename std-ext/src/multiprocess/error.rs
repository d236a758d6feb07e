//! The one error type of multiprocess mode, and the features it refuses.

use promstack_core::{DescError, LabelError, MetricType};
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Something multiprocess mode cannot do, because a value would have to live in one process's
/// memory while the exposition is merged from every process's files.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// Info metrics (their label pairs are not values a file can hold).
    Info,
    /// Enum (stateset) metrics.
    Enum,
    /// Pushing to a Pushgateway: each process would push only its own share.
    Pushgateway,
    /// Values of custom collectors: only the process that runs them can see them.
    CustomCollector,
    /// A label named `pid` on a gauge: the merge adds (and, for `livesum`/`max`/`min`, removes)
    /// its own `pid` label, so the user's would be overwritten or merged away.
    GaugePidLabel,
    /// A metric type with no file form (gauge histograms, unknown).
    MetricType(MetricType),
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Feature::Info => f.write_str("info metrics"),
            Feature::Enum => f.write_str("enum metrics"),
            Feature::Pushgateway => f.write_str("pushing to a pushgateway"),
            Feature::CustomCollector => f.write_str("values of custom collectors"),
            Feature::GaugePidLabel => f.write_str("a label named \"pid\" on a gauge"),
            Feature::MetricType(t) => write!(f, "{} metrics", t.as_str()),
        }
    }
}

/// Why a multiprocess operation failed. Messages are lowercase and name the offending value.
///
/// ```
/// use promstack::multiprocess::{Feature, MultiProcessError};
/// let e = MultiProcessError::Unsupported(Feature::Info);
/// assert_eq!(e.to_string(), "info metrics cannot work in multiprocess mode");
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum MultiProcessError {
    /// Neither `prometheus_multiproc_dir` nor `PROMETHEUS_MULTIPROC_DIR` is set.
    EnvNotSet,
    /// The multiprocess directory does not exist or is not a directory.
    NotADirectory(PathBuf),
    /// A file operation failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A file's `used` header points past its end: it was cut short.
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header says are used.
        used: u64,
        /// Bytes the file has.
        len: u64,
    },
    /// A file's content does not follow the format.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the bad entry (or header).
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A file name is not `<type>_<pid>.db` or `gauge_<mode>_<pid>.db`.
    BadFileName(PathBuf),
    /// A `*.db` name in the directory is not a regular file (a FIFO, socket, device or
    /// directory): reading it could block or never end, so it is skipped.
    NotAFile(PathBuf),
    /// A process id given to [`mark_process_dead`](super::mark_process_dead) is not a plain
    /// file-name component (empty, `.`, `..`, or with `/` or NUL), so it could name a file
    /// outside the directory.
    InvalidPid(String),
    /// A file would grow past the 2 GiB its signed 32-bit header can describe.
    FileFull(PathBuf),
    /// The metric description is invalid (name, label names, buckets).
    Desc(DescError),
    /// Label values do not match the label names.
    Label(LabelError),
    /// A gauge mode other than `all`, `liveall`, `livesum`, `max`, `min`.
    InvalidGaugeMode(String),
    /// A metric of this name (or a name it claims) already exists in the store.
    Duplicate(String),
    /// A feature multiprocess mode refuses.
    Unsupported(Feature),
}

impl fmt::Display for MultiProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultiProcessError::EnvNotSet => {
                f.write_str("env prometheus_multiproc_dir (or PROMETHEUS_MULTIPROC_DIR) is not set")
            }
            MultiProcessError::NotADirectory(p) => {
                write!(f, "multiprocess directory {} does not exist or is not a directory", p.display())
            }
            MultiProcessError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            MultiProcessError::Truncated { path, used, len } => write!(
                f,
                "{}: file is truncated: header says {used} bytes are used but the file has {len}",
                path.display()
            ),
            MultiProcessError::Corrupt { path, offset, reason } => {
                write!(f, "{}: file is corrupted at byte {offset}: {reason}", path.display())
            }
            MultiProcessError::BadFileName(p) => write!(
                f,
                "{}: not a multiprocess file name (<type>_<pid>.db or gauge_<mode>_<pid>.db)",
                p.display()
            ),
            MultiProcessError::NotAFile(p) => {
                write!(f, "{}: not a regular file (a fifo, socket, device or directory)", p.display())
            }
            MultiProcessError::InvalidPid(pid) => {
                write!(f, "invalid process id {pid:?}: it must be a plain file-name component")
            }
            MultiProcessError::FileFull(p) => {
                write!(f, "{}: file would grow past 2 GiB, the most its header can describe", p.display())
            }
            MultiProcessError::Desc(e) => write!(f, "{e}"),
            MultiProcessError::Label(e) => write!(f, "{e}"),
            MultiProcessError::InvalidGaugeMode(m) => {
                write!(f, "invalid multiprocess mode: {m:?} (expected all, liveall, livesum, max or min)")
            }
            MultiProcessError::Duplicate(n) => write!(f, "duplicated timeseries in store: {n:?}"),
            MultiProcessError::Unsupported(feature) => {
                write!(f, "{feature} cannot work in multiprocess mode")
            }
        }
    }
}

impl std::error::Error for MultiProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MultiProcessError::Io { source, .. } => Some(source),
            MultiProcessError::Desc(e) => Some(e),
            MultiProcessError::Label(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DescError> for MultiProcessError {
    fn from(e: DescError) -> Self {
        MultiProcessError::Desc(e)
    }
}

impl MultiProcessError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        MultiProcessError::Io { path: path.into(), source }
    }
}
