//! promstack: Prometheus instrumentation for Rust servers.
//!
//! This crate is what a server depends on. It re-exports the two layers below it —
//! [`promstack_core`] (`no_std` metrics, `static` and allocation-free, streaming encoders) and
//! [`promstack_alloc`] (dynamic labels, the [`Registry`], metric families, the parser) — and adds
//! everything that needs an operating system: the default registry, timers on `std::time`, the
//! process and platform collectors, HTTP exposition on hyper, the Pushgateway client, textfile
//! output and the Graphite bridge. The tour below follows the Python client's README.
//!
//! # Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `http` | yes | [`HttpServer`], [`MetricsService`], [`start_http_server`] (hyper, tokio) |
//! | `gzip` | yes | gzip-compressed scrapes (flate2; implies `http`) |
//! | `push` | yes | the Pushgateway client, [`push`] (hyper, tokio, base64) |
//! | `textfile` | yes | [`write_to_textfile`] |
//! | `process` | yes | [`ProcessCollector`], registered by [`default_registry`] (libc) |
//! | `graphite` | no | [`GraphiteBridge`] |
//! | `multiprocess` | no | the [`multiprocess`] module (memmap2, libc) |
//! | `protobuf` | no | the protobuf exposition |
//! | `remote-write` | no | the remote write 1.0 client |
//! | `metrics-recorder` | no | a `metrics` 0.24 recorder, the [`recorder`] module |
//!
//! Without default features the crate is the registry, the std clock, timers and guards and the
//! [`PlatformCollector`] over promstack-core and promstack-alloc, with no other dependency.
//!
//! # Three-step demo
//!
//! Declare a metric, instrument code with it, expose it. Runnable as
//! `cargo run --example three_step_demo -p promstack`.
//!
//! ```no_run
//! use promstack::{default_registry, start_http_server, ObserveExt, Summary};
//!
//! static REQUEST_TIME: Summary = Summary::new("request_processing_seconds", "Time spent processing request");
//!
//! fn process_request(t: std::time::Duration) {
//!     REQUEST_TIME.time(|| std::thread::sleep(t));
//! }
//!
//! default_registry().register_static(&REQUEST_TIME).unwrap();
//! let _server = start_http_server("0.0.0.0:8000", default_registry().clone()).unwrap();
//! loop {
//!     process_request(std::time::Duration::from_millis(100));
//! }
//! ```
//!
//! # Instrumenting
//!
//! Metrics are `static`s with `const` constructors (an invalid name is a compile error), or
//! run-time [`Family`]s of labeled children. Register them with [`default_registry`] or your own
//! [`Registry`]; collisions between the names two collectors claim are refused.
//!
//! ```
//! use promstack::*;
//!
//! // Counter: goes up. `count_errors` counts `Err` results and panics (Python's count_exceptions).
//! static FAILURES: Counter = Counter::new("my_failures_total", "Description of counter");
//! FAILURES.inc();
//! FAILURES.inc_by(1.6).unwrap();
//! let _ = FAILURES.count_errors(|| "x".parse::<u8>());
//!
//! // Gauge: goes up and down; in-progress guard, timer, current time, value from a closure.
//! static IN_PROGRESS: Gauge = Gauge::new("my_inprogress_requests", "Description of gauge");
//! IN_PROGRESS.set(4.2);
//! {
//!     let _guard = IN_PROGRESS.track_inprogress(); // +1 now, -1 when dropped
//! }
//! IN_PROGRESS.set_to_now();
//! let queue = OwnedGaugeFn::new("queue_size", "Items waiting.", || 7.0).unwrap();
//!
//! // Summary and Histogram: observations; `time` measures a closure, `start_timer` a scope.
//! static LATENCY: Summary = Summary::new("request_latency_seconds", "Description of summary");
//! LATENCY.observe(4.7);
//! static SIZES: Histogram<3> = Histogram::new("response_bytes", "Response sizes", [100.0, 1e3, 1e4]);
//! SIZES.observe(512.0);
//! let _t = SIZES.start_timer();
//!
//! // Info and Enum.
//! static BUILD: Info = Info::new("my_build", "Description of info",
//!     InfoPairs::new(&["version", "buildhost"], &["1.2.3", "foo@bar"]));
//! static STATE: Enum = Enum::new("my_task_state", "Description of enum", &["starting", "running", "stopped"]);
//! STATE.set("running").unwrap();
//!
//! // Labels: children by position or by name; remove and clear.
//! let requests = Family::counter("my_requests_total", "HTTP requests.", &["method", "endpoint"]).unwrap();
//! requests.get(["get", "/"]).unwrap().inc();
//! requests.get_by_name(&[("method", "post"), ("endpoint", "/submit")]).unwrap().inc();
//! requests.remove(&["get", "/"]).unwrap();
//!
//! let registry = Registry::new();
//! registry.register_static(&FAILURES).unwrap();
//! registry.register(std::sync::Arc::new(requests)).unwrap();
//! registry.register(std::sync::Arc::new(queue)).unwrap();
//! assert_eq!(registry.get_sample_value("my_failures_total", &[]), Some(3.6));
//! ```
//!
//! The helpers ([`ObserveExt`], [`GaugeExt`], [`CounterExt`]) work the same on statics, on
//! fixed-capacity children ([`FixedFamily`]) and on dynamic children ([`Family`]).
//!
//! ## Process and platform collectors
//!
//! [`default_registry`] starts with a [`ProcessCollector`] (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_open_fds`, ... from Linux `/proc`; nothing
//! elsewhere) and a [`PlatformCollector`] (`rust_info{version,major,minor,patch,target} 1`, the
//! Rust counterpart of Python's `python_info`). A [`ProcessCollector`] can also watch another
//! process, with a namespace: `ProcessCollector::new().namespace("mydaemon").pid(1234)`.
//!
//! # Exporting
//!
//! ## HTTP
//!
//! [`start_http_server`] serves `/metrics` from its own thread (hyper 1.x on a single-threaded
//! tokio runtime; collectors run on its blocking threads, so a slow one holds up no other
//! connection) and returns a handle that stops it. Prometheus' `Accept` header selects
//! OpenMetrics or text 0.0.4; `?name[]=x` restricts the output; `Accept-Encoding: gzip`
//! compresses; wrong methods, paths and malformed or oversized requests get 405/404/400/431, and a
//! failing or panicking collector a 500 while the server keeps serving. Slow clients are cut off
//! by header read and write timeouts; requests beyond the in-flight limits, and scrapes whose
//! collectors outlast the scrape timeout, get 503. See [`http`] for the details and [`HttpServer`] for the settings.
//!
//! Inside an existing hyper, tower or axum application, mount a [`MetricsService`] instead (it is
//! a hyper and a tower service); `cargo run --example axum_mount -p promstack` shows axum.
//!
//! ## Node exporter textfile collector
//!
//! [`write_to_textfile`] writes a registry atomically (temporary file, fsync, rename) for
//! node_exporter's `--collector.textfile.directory`:
//!
//! ```
//! # let dir = std::env::temp_dir();
//! let registry = promstack::Registry::new();
//! static RUNS: promstack::Counter = promstack::Counter::new("cron_runs_total", "Runs.");
//! registry.register_static(&RUNS).unwrap();
//! promstack::write_to_textfile(dir.join(format!("tour-{}.prom", std::process::id())), &registry).unwrap();
//! # std::fs::remove_file(dir.join(format!("tour-{}.prom", std::process::id()))).unwrap();
//! ```
//!
//! # Exporting to a Pushgateway
//!
//! [`push`] has `push_to_gateway` (PUT), `pushadd_to_gateway` (POST), `delete_from_gateway`
//! (DELETE) and the [`push::Pusher`] builder: grouping keys (with the `@base64` form for empty
//! values and values containing `/`), a timeout (30 s by default), and pluggable
//! [`push::Handler`]s such as [`push::BasicAuthHandler`].
//!
//! ```no_run
//! use promstack::push::{push_to_gateway, BasicAuthHandler, Pusher};
//! let registry = promstack::Registry::new();
//! push_to_gateway("localhost:9091", "batch_job", &registry, &[("instance", "a")]).unwrap();
//! Pusher::new("localhost:9091", "batch_job").handler(BasicAuthHandler::new("user", "pass")).push(&registry).unwrap();
//! ```
//!
//! # Remote write
//!
//! With the `remote-write` feature (off by default: it adds prost and snap), `remote_write::RemoteWriter` ships
//! registries to a remote write 1.0 receiver (Prometheus with `--web.enable-remote-write-receiver`,
//! Mimir, Thanos Receive, Cortex, VictoriaMetrics) every interval, with external labels, a queue
//! bounded in samples, retries with capped backoff on 5xx and network errors, basic auth, bearer
//! tokens or custom headers, and a stop that flushes; `cargo run --example remote_write -p
//! promstack` shows it.
//!
//! # Bridges: Graphite
//!
//! [`GraphiteBridge`] sends every sample as a Graphite plaintext line, once ([`GraphiteBridge::push`])
//! or every N seconds from a background thread on a schedule that does not drift
//! ([`GraphiteBridge::start`], stopped through the returned [`GraphitePusher`]).
//!
//! # Custom collectors
//!
//! Anything implementing [`Collector`] can be registered. For values that live elsewhere, a
//! [`CustomCollector`] builds metric families ([`GaugeMetricFamily`], [`CounterMetricFamily`],
//! [`SummaryMetricFamily`], [`HistogramMetricFamily`], [`InfoMetricFamily`],
//! [`StateSetMetricFamily`], [`UnknownMetricFamily`]) at every scrape:
//!
//! ```
//! use promstack::{CustomCollector, GaugeMetricFamily, Registry};
//! let collector = CustomCollector::new(|| {
//!     let mut g = GaugeMetricFamily::new("my_gauge", "Help text")?.with_labels(&["foo"])?;
//!     g.add_metric(&["bar"], 7.0, None)?;
//!     Ok(vec![g.into_family()])
//! });
//! let registry = Registry::new();
//! registry.register(std::sync::Arc::new(collector)).unwrap();
//! assert_eq!(registry.get_sample_value("my_gauge", &[("foo", "bar")]), Some(7.0));
//! ```
//!
//! # Multiprocess mode
//!
//! In the [`multiprocess`] module, worker processes write metrics into per-process memory-mapped
//! files (the Python client's format) and one [`multiprocess::MultiProcessCollector`] merges them
//! at scrape time; see `examples/prefork.rs`.
//!
//! # Parser
//!
//! [`parse_text`] and [`parse_openmetrics`] read an exposition back into [`MetricFamily`] values.
//!
//! # Time
//!
//! Durations use [`std::time::Instant`]. `_created` samples and `set_to_now` use the wall
//! clock: [`default_registry`] and the HTTP server install a [`StdClock`] unless the application
//! installed its own [`Clock`].
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The tour above links to items of every feature; a build without some of them cannot resolve
// those links. CI checks the links with `--all-features`.
#![cfg_attr(
    not(all(
        feature = "http",
        feature = "gzip",
        feature = "push",
        feature = "textfile",
        feature = "graphite",
        feature = "multiprocess",
        feature = "process",
        feature = "metrics-recorder",
        feature = "remote-write",
        feature = "protobuf"
    )),
    allow(rustdoc::broken_intra_doc_links)
)]

mod clock;
#[cfg(feature = "graphite")]
mod graphite;
#[cfg(feature = "http")]
pub mod http;
#[cfg(any(feature = "push", feature = "remote-write"))]
mod http_client;
mod instrument;
#[cfg(feature = "multiprocess")]
pub mod multiprocess;
mod platform;
#[cfg(feature = "process")]
mod process;
#[cfg(feature = "protobuf")]
pub mod protobuf;
#[cfg(feature = "push")]
pub mod push;
#[cfg(feature = "metrics-recorder")]
pub mod recorder;
mod registry;
#[cfg(feature = "remote-write")]
pub mod remote_write;
pub mod std_io;
#[cfg(feature = "textfile")]
mod textfile;

pub use clock::{install_std_clock, StdClock, STD_CLOCK};
#[cfg(feature = "graphite")]
pub use graphite::{GraphiteBridge, GraphitePusher};
#[cfg(feature = "http")]
pub use http::{start_http_server, HttpServer, HttpServerHandle, MetricsService};
#[allow(deprecated)]
pub use instrument::GaugeClosure;
pub use instrument::{CounterExt, GaugeExt, GaugeTimer, InProgress, ObserveExt, OwnedGaugeFn, StdTimer};
pub use platform::{PlatformCollector, RUSTC_VERSION, TARGET};
#[cfg(feature = "process")]
pub use process::ProcessCollector;
pub use promstack_alloc;
pub use promstack_alloc::*;
pub use promstack_core;
pub use promstack_core::*;
pub use registry::default_registry;
#[cfg(feature = "textfile")]
pub use textfile::write_to_textfile;

/// The README's quick starts, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
