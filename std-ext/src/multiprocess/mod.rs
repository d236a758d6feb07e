//! Multiprocess mode: metrics of pre-forked or spawned worker processes, merged into one
//! exposition, file-compatible with Python `prometheus_client` 0.8.0.
//!
//! Each process writes its values into its own memory-mapped files in one directory
//! (`counter_<pid>.db`, `gauge_<mode>_<pid>.db`, `summary_<pid>.db`, `histogram_<pid>.db`);
//! whichever process serves `/metrics` merges them at scrape time. Python and Rust workers can
//! share a directory: the file layout ([`MmapDict`]) and the keys ([`mmap_key`]) are Python's
//! byte for byte.
//!
//! - [`Store`]: makes the metrics ([`Counter`], [`Gauge`] with a [`GaugeMode`], [`Summary`],
//!   [`Histogram`], and [`Family`] for labeled ones). [`Store::from_env`] switches multiprocess
//!   mode on when `prometheus_multiproc_dir` (or `PROMETHEUS_MULTIPROC_DIR`) is set, as Python
//!   does, and keeps values in memory otherwise, so one program serves both deployments. (The
//!   variable changes only metrics made by a store; the `static` metrics of promstack-core and
//!   the families of promstack-alloc always live in the memory of their process.)
//! - [`MultiProcessCollector`]: the merge into promstack-alloc's
//!   [`MetricFamily`](promstack_alloc::MetricFamily)s, a core [`Collector`](promstack_core::Collector), so
//!   every encoder and the HTTP server expose it. [`mark_process_dead`] drops a dead worker's
//!   live gauges.
//! - After `fork()` a child's metrics move to files named with its own pid before its first
//!   update (see [`Store`]); a process killed at any moment leaves readable files.
//! - What cannot work across processes is refused with [`MultiProcessError::Unsupported`]:
//!   Info and Enum metrics and custom collectors ([`Store::register`]), pushing to a Pushgateway
//!   ([`check_supported`]), a `pid` label on gauges.
//!
//! ```
//! use promstack::multiprocess::{mark_process_dead, GaugeMode, MultiProcessCollector, Opts, Store};
//! let dir = std::env::temp_dir().join(format!("doc-mp-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//!
//! // In each worker (here: one process standing in for two, with identifiers 1 and 2):
//! for worker in [1, 2] {
//!     let store = Store::open_with_identifier(&dir, move || worker).unwrap();
//!     let jobs = store.counter_family(Opts::new("jobs", "Jobs done."), &["queue"]).unwrap();
//!     jobs.get(&["mail"]).unwrap().inc_by(worker as f64).unwrap();
//!     let busy = store.gauge(Opts::new("busy_workers", "Busy workers."), GaugeMode::LiveSum).unwrap();
//!     busy.set(1.0);
//! }
//!
//! // In the process serving /metrics:
//! let collector = MultiProcessCollector::new(&dir).unwrap();
//! let merged = collector.merge();
//! assert_eq!(merged.get_sample_value("jobs_total", &[("queue", "mail")]), Some(3.0));
//! assert_eq!(merged.get_sample_value("busy_workers", &[]), Some(2.0));
//! mark_process_dead(2, &dir).unwrap();
//! assert_eq!(collector.merge().get_sample_value("busy_workers", &[]), Some(1.0));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod collector;
mod curried;
mod error;
mod family;
mod key;
mod mmap_dict;
mod store;

pub use collector::{mark_process_dead, merge_files, Merged, MultiProcessCollector, MP_METRIC_HELP};
#[allow(deprecated)]
pub use collector::{MergedFamily, MergedSample};
pub use error::{Feature, MultiProcessError};
pub use family::{Counter, Family, Gauge, Histogram, Member, Summary};
pub use key::{mmap_key, parse_key, Key};
pub use mmap_dict::{read_all_values_from_file, MmapDict, INITIAL_MMAP_SIZE};
pub use store::{check_supported, env_dir, GaugeMode, Opts, Store};
