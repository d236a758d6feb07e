//! Prometheus remote write 1.0 client: [`RemoteWriter`] ships collectors to a receiver
//! (Prometheus with `--web.enable-remote-write-receiver`, Grafana Mimir, Thanos Receive, Cortex,
//! VictoriaMetrics) every interval, for processes that cannot be scraped.
//!
//! ```no_run
//! use promstack::remote_write::RemoteWriter;
//! use promstack::{Counter, Registry};
//! use std::{sync::Arc, time::Duration};
//!
//! static JOBS: Counter = Counter::new("jobs_total", "Jobs done.");
//! let registry = Registry::new();
//! registry.register_static(&JOBS).unwrap();
//! let writer = RemoteWriter::builder("http://127.0.0.1:9090/api/v1/write")
//!     .collector(Arc::new(registry))
//!     .external_label("instance", "edge-7")
//!     .interval(Duration::from_secs(15))
//!     .start()
//!     .unwrap();
//! JOBS.inc();
//! writer.stop().unwrap(); // one last collection, then everything queued is sent
//! ```
//!
//! # How it works
//!
//! A background thread collects every collector each interval (the first time right at
//! [`RemoteWriterBuilder::start`]) and turns every sample into a series with one sample, stamped
//! with the collection time in milliseconds (or the sample's own timestamp). A series' labels
//! are `__name__` (family name plus the sample's suffix, e.g. `jobs_total`), the sample's labels,
//! then the external labels, sorted by name, without duplicates and without empty values.
//! **When an external label has the name of one of the series' own labels, the series' value is
//! kept** (as Prometheus does with its `external_labels`). `_created` samples are not sent
//! (Prometheus does not store them from a text scrape either), nor are exemplars; a series that
//! disappears gets no staleness marker.
//!
//! Samples wait in a queue bounded in samples ([`RemoteWriterBuilder::queue_capacity`]); when a
//! collection finds it full, the oldest samples are dropped and counted
//! ([`RemoteWriteStats::samples_dropped`]). Requests take up to
//! [`RemoteWriterBuilder::max_samples_per_request`] samples from the front of the queue, oldest
//! first, one at a time, so each series reaches the receiver in time order. One request is in
//! flight at a time; its samples are outside the queue while it is.
//!
//! A request is a snappy-compressed (block format) protobuf `prometheus.WriteRequest`, POSTed
//! with `Content-Encoding: snappy`, `Content-Type: application/x-protobuf`,
//! `X-Prometheus-Remote-Write-Version: 0.1.0` and `User-Agent: promstack/<version>`. A 2xx
//! answer is success. A 5xx answer, a network error or a timeout is retried with exponential
//! backoff (from [`RemoteWriterBuilder::min_backoff`], doubling, capped at
//! [`RemoteWriterBuilder::max_backoff`]), without limit unless
//! [`RemoteWriterBuilder::max_retries`] sets one. Any other answer (4xx, including 429, and
//! 3xx) is not retried: its samples are counted in [`RemoteWriteStats::samples_failed`] and the
//! answer is logged (`log` crate, target `promstack::remote_write`).
//!
//! [`RemoteWriter::stop`] (and dropping the writer) collects one last time, then keeps sending
//! until the queue is empty or the flush deadline ([`RemoteWriterBuilder::flush_timeout`])
//! passes; what is left then is dropped, counted, and reported by `stop`.
//!
//! Plain `http://` only; credentials in the URL (`http://user:password@host/...`) are sent as
//! basic auth, and never appear in a message, a log line or a `Debug` output.

use crate::http_client::{self, redact, ExchangeError, Target};
use promstack_core::{check_label_names, Collector, Desc, Labels, MetricType, Sample, Sink, Value};
use promstack_core::{CollectError, DescError};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The protobuf messages of remote write 1.0 (`prometheus.WriteRequest` of Prometheus'
/// `prompb`), derived with `prost`; only the fields remote write 1.0 sends samples with.
///
/// A body is `snap::raw` (block format) compression of `WriteRequest::encode_to_vec()`:
///
/// ```
/// use promstack::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
/// use prost::Message;
/// let req = WriteRequest {
///     timeseries: vec![TimeSeries {
///         labels: vec![Label { name: "__name__".into(), value: "up".into() }],
///         samples: vec![Sample { value: 1.0, timestamp: 1_700_000_000_000 }],
///     }],
/// };
/// let body = snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).unwrap();
/// let back = WriteRequest::decode(&*snap::raw::Decoder::new().decompress_vec(&body).unwrap()).unwrap();
/// assert_eq!(back, req);
/// ```
pub mod proto {
    /// A request: series, each with its labels and samples.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        /// The series.
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
    }

    /// One series: its full label set (with `__name__`, sorted by name) and samples in time order.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        /// Label pairs, sorted by name.
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        /// Samples, oldest first.
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
    }

    /// A label pair.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        /// Label name.
        #[prost(string, tag = "1")]
        pub name: String,
        /// Label value (never empty).
        #[prost(string, tag = "2")]
        pub value: String,
    }

    /// A value at a time.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        /// The value.
        #[prost(double, tag = "1")]
        pub value: f64,
        /// Milliseconds since the Unix epoch.
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }
}

use proto::{Label, TimeSeries, WriteRequest};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("promstack/", env!("CARGO_PKG_VERSION"));

/// Headers remote write 1.0 sets itself, which [`RemoteWriterBuilder::header`] refuses
/// (`Authorization` too: use [`RemoteWriterBuilder::basic_auth`] or
/// [`RemoteWriterBuilder::bearer_token`]).
pub const RESERVED_HEADERS: [&str; 8] = [
    "authorization",
    "content-encoding",
    "content-length",
    "content-type",
    "host",
    "transfer-encoding",
    "user-agent",
    "x-prometheus-remote-write-version",
];

/// The most of an error response's body kept for the log; the rest is not read.
const MAX_ERROR_BODY: usize = 512;

/// A remote writer cannot be configured or started, or did not flush when stopped.
#[non_exhaustive]
#[derive(Debug)]
pub enum RemoteWriteError {
    /// The URL cannot be used (not `http://`, no host, bad port). Credentials in it are shown as
    /// `***`.
    InvalidUrl(String),
    /// An external label name is invalid, reserved (`__` prefix) or given twice.
    ExternalLabel(DescError),
    /// An external label has an empty value (remote write 1.0 forbids empty label values).
    EmptyExternalLabelValue(String),
    /// A custom header has an invalid name or value, or is one of [`RESERVED_HEADERS`].
    InvalidHeader(String),
    /// A setting is out of range (a zero interval, capacity or batch size, a minimum backoff
    /// above the maximum, two kinds of authorization).
    InvalidSetting(String),
    /// The writer's thread or runtime could not be started.
    Spawn(std::io::Error),
    /// [`RemoteWriter::stop`] gave up at the flush deadline with this many samples unsent (they
    /// are counted as dropped).
    Unflushed {
        /// Samples not delivered.
        samples: u64,
    },
}

impl fmt::Display for RemoteWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteWriteError::InvalidUrl(u) => write!(f, "invalid remote write url: {u:?}"),
            RemoteWriteError::ExternalLabel(e) => write!(f, "invalid external label: {e}"),
            RemoteWriteError::EmptyExternalLabelValue(n) => {
                write!(f, "external label {n:?} has an empty value")
            }
            RemoteWriteError::InvalidHeader(h) => write!(f, "invalid remote write header: {h}"),
            RemoteWriteError::InvalidSetting(s) => write!(f, "invalid remote write setting: {s}"),
            RemoteWriteError::Spawn(e) => write!(f, "cannot start the remote writer: {e}"),
            RemoteWriteError::Unflushed { samples } => {
                write!(f, "remote writer stopped with {samples} samples unsent at the flush deadline")
            }
        }
    }
}

impl std::error::Error for RemoteWriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RemoteWriteError::ExternalLabel(e) => Some(e),
            RemoteWriteError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// How a [`RemoteWriter`] has done so far (counts of samples since it started).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteWriteStats {
    /// Delivered (the receiver answered 2xx).
    pub samples_sent: u64,
    /// Refused by the receiver with a status that is not retried (4xx, 3xx), or still failing
    /// after [`RemoteWriterBuilder::max_retries`].
    pub samples_failed: u64,
    /// Dropped unsent: the oldest samples of a full queue, samples with an invalid name, and
    /// what was left at the flush deadline of [`RemoteWriter::stop`].
    pub samples_dropped: u64,
    /// Sent again after a 5xx answer, a network error or a timeout (a sample retried three
    /// times counts three).
    pub samples_retried: u64,
    /// Waiting in the queue or in the request in flight.
    pub samples_pending: u64,
}

/// Builds a [`RemoteWriter`]; see the [module docs](self) for what each setting does.
///
/// ```
/// use promstack::remote_write::{RemoteWriter, RemoteWriteError};
/// let err = RemoteWriter::builder("http://127.0.0.1:1/api/v1/write")
///     .external_label("0cluster", "a")
///     .start()
///     .unwrap_err();
/// assert_eq!(err.to_string(), "invalid external label: invalid label name: \"0cluster\"");
/// assert!(matches!(
///     RemoteWriter::builder("https://mimir.example/api/v1/push").start(),
///     Err(RemoteWriteError::InvalidUrl(_))
/// ));
/// ```
pub struct RemoteWriterBuilder {
    url: String,
    collectors: Vec<Arc<dyn Collector>>,
    interval: Duration,
    external_labels: Vec<(String, String)>,
    queue_capacity: usize,
    max_samples_per_request: usize,
    timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
    max_retries: Option<u32>,
    flush_timeout: Duration,
    headers: Vec<(String, String)>,
    basic_auth: Option<(String, String)>,
    bearer_token: Option<String>,
}

impl fmt::Debug for RemoteWriterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("RemoteWriterBuilder")
            .field("url", &redact(&self.url))
            .field("collectors", &self.collectors.len())
            .field("interval", &self.interval)
            .field("external_labels", &self.external_labels)
            .field("queue_capacity", &self.queue_capacity)
            .field("max_samples_per_request", &self.max_samples_per_request)
            .field("timeout", &self.timeout)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_retries", &self.max_retries)
            .field("flush_timeout", &self.flush_timeout)
            .field("headers", &header_names)
            .finish_non_exhaustive()
    }
}

impl RemoteWriterBuilder {
    /// Adds a collector (a [`crate::Registry`], a metric, anything) to ship; several may be added.
    pub fn collector(mut self, collector: Arc<dyn Collector>) -> Self {
        self.collectors.push(collector);
        self
    }

    /// How often to collect. Default 15 s.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Adds a label to every series (unless the series has a label of that name). The name
    /// must be a valid label name not starting with `__`; the value must not be empty.
    pub fn external_label(mut self, name: &str, value: &str) -> Self {
        self.external_labels.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The most samples waiting to be sent; a collection that finds the queue full drops the
    /// oldest. Default 100,000.
    pub fn queue_capacity(mut self, samples: usize) -> Self {
        self.queue_capacity = samples;
        self
    }

    /// The most samples in one request. Default 500.
    pub fn max_samples_per_request(mut self, samples: usize) -> Self {
        self.max_samples_per_request = samples;
        self
    }

    /// How long one request (connect, send, response head) may take. Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The wait before the first retry. Default 30 ms.
    pub fn min_backoff(mut self, backoff: Duration) -> Self {
        self.min_backoff = backoff;
        self
    }

    /// The longest wait between retries. Default 5 s.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Gives a request up (its samples counted as failed) after this many retries; `None`
    /// (the default, as Prometheus does) retries until it succeeds or the writer stops.
    pub fn max_retries(mut self, retries: Option<u32>) -> Self {
        self.max_retries = retries;
        self
    }

    /// How long [`RemoteWriter::stop`] keeps sending what is queued. Default 10 s.
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Adds a header to every request (a tenant header such as `X-Scope-OrgID`, ...).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends `Authorization: Basic base64(username:password)`.
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        self.basic_auth = Some((username.to_owned(), password.to_owned()));
        self
    }

    /// Sends `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.bearer_token = Some(token.to_owned());
        self
    }

    /// Checks the settings and starts the writer's thread, which collects right away.
    pub fn start(self) -> Result<RemoteWriter, RemoteWriteError> {
        let config = self.check()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(RemoteWriteError::Spawn)?;
        let shared = Arc::new(Shared {
            url: redact(&self.url).into_owned(),
            queue: Mutex::new(Queue::new(self.queue_capacity)),
            data: tokio::sync::Notify::new(),
            stats: Counters::default(),
        });
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(None);
        let worker = Worker { config, shared: Arc::clone(&shared), stop: stop_rx };
        let thread = std::thread::Builder::new()
            .name("promstack-remote-write".into())
            .spawn(move || runtime.block_on(worker.run()))
            .map_err(RemoteWriteError::Spawn)?;
        Ok(RemoteWriter { shared, stop: stop_tx, flush_timeout: self.flush_timeout, thread: Some(thread) })
    }

    fn check(&self) -> Result<Config, RemoteWriteError> {
        let target = http_client::split_url(&self.url)
            .ok_or_else(|| RemoteWriteError::InvalidUrl(redact(&self.url).into_owned()))?;
        let names: Vec<&str> = self.external_labels.iter().map(|(n, _)| n.as_str()).collect();
        check_label_names(&names, MetricType::Gauge).map_err(RemoteWriteError::ExternalLabel)?;
        if let Some((name, _)) = self.external_labels.iter().find(|(_, v)| v.is_empty()) {
            return Err(RemoteWriteError::EmptyExternalLabelValue(name.clone()));
        }
        let setting = |s: &str| Err(RemoteWriteError::InvalidSetting(s.to_owned()));
        if self.interval.is_zero() {
            return setting("the interval is zero");
        }
        if self.queue_capacity == 0 {
            return setting("the queue capacity is zero");
        }
        if self.max_samples_per_request == 0 {
            return setting("max samples per request is zero");
        }
        if self.timeout.is_zero() {
            return setting("the timeout is zero");
        }
        if self.min_backoff > self.max_backoff {
            return Err(RemoteWriteError::InvalidSetting(format!(
                "min backoff {:?} is above max backoff {:?}",
                self.min_backoff, self.max_backoff
            )));
        }
        let mut headers = vec![
            ("Content-Encoding".to_owned(), "snappy".to_owned()),
            ("Content-Type".to_owned(), "application/x-protobuf".to_owned()),
            ("User-Agent".to_owned(), USER_AGENT.to_owned()),
            ("X-Prometheus-Remote-Write-Version".to_owned(), "0.1.0".to_owned()),
        ];
        for (name, value) in &self.headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(RemoteWriteError::InvalidHeader(format!("bad name {name:?}")));
            }
            if RESERVED_HEADERS.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                return Err(RemoteWriteError::InvalidHeader(format!("{name:?} is set by the writer")));
            }
            if http::HeaderValue::from_str(value).is_err() {
                // The value may be a secret: name the header only.
                return Err(RemoteWriteError::InvalidHeader(format!("bad value for {name:?}")));
            }
            headers.push((name.clone(), value.clone()));
        }
        let authorization = match (&self.basic_auth, &self.bearer_token) {
            (Some(_), Some(_)) => return setting("both basic auth and a bearer token are set"),
            (Some((user, password)), None) => Some(http_client::basic_authorization(user, password)),
            (None, Some(token)) => {
                if http::HeaderValue::from_str(token).is_err() {
                    return setting("the bearer token is not a valid header value");
                }
                Some(format!("Bearer {token}"))
            }
            (None, None) => None,
        };
        if let Some(authorization) = authorization {
            headers.push(("Authorization".to_owned(), authorization));
        }
        let mut external_labels: Vec<Label> = self
            .external_labels
            .iter()
            .map(|(name, value)| Label { name: name.clone(), value: value.clone() })
            .collect();
        external_labels.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Config {
            target,
            headers,
            collectors: self.collectors.clone(),
            interval: self.interval,
            external_labels,
            max_samples_per_request: self.max_samples_per_request,
            timeout: self.timeout,
            min_backoff: self.min_backoff,
            max_backoff: self.max_backoff,
            max_retries: self.max_retries,
        })
    }
}

/// Ships collectors to a remote write 1.0 receiver from a background thread; see the
/// [module docs](self). Dropping it stops it as [`RemoteWriter::stop`] does.
pub struct RemoteWriter {
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<Option<Instant>>,
    flush_timeout: Duration,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl fmt::Debug for RemoteWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteWriter").field("url", &self.shared.url).field("stats", &self.stats()).finish()
    }
}

impl RemoteWriter {
    /// A builder for a writer that POSTs to `url` (`http://host:port/path`, e.g. Prometheus'
    /// `/api/v1/write`), with the defaults listed on its methods.
    pub fn builder(url: &str) -> RemoteWriterBuilder {
        RemoteWriterBuilder {
            url: url.to_owned(),
            collectors: Vec::new(),
            interval: Duration::from_secs(15),
            external_labels: Vec::new(),
            queue_capacity: 100_000,
            max_samples_per_request: 500,
            timeout: Duration::from_secs(30),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            max_retries: None,
            flush_timeout: Duration::from_secs(10),
            headers: Vec::new(),
            basic_auth: None,
            bearer_token: None,
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> RemoteWriteStats {
        self.shared.stats()
    }

    /// A collector of this writer's own metrics, to register in a registry (possibly one this
    /// writer ships): `promstack_remote_write_{sent,failed,dropped,retried}_samples_total` and
    /// `promstack_remote_write_pending_samples`, each with a `url` label (credentials redacted).
    pub fn metrics(&self) -> RemoteWriterMetrics {
        RemoteWriterMetrics { shared: Arc::clone(&self.shared) }
    }

    /// Collects one last time, sends what is queued until the queue is empty or the flush
    /// deadline passes, stops the thread and returns the final counts.
    /// [`RemoteWriteError::Unflushed`] tells how many samples were left unsent. A collector
    /// running at the deadline is waited for; a request is cut off at the deadline.
    pub fn stop(mut self) -> Result<RemoteWriteStats, RemoteWriteError> {
        self.finish()?;
        Ok(self.stats())
    }

    fn finish(&mut self) -> Result<(), RemoteWriteError> {
        let Some(thread) = self.thread.take() else { return Ok(()) };
        self.stop.send_replace(Some(Instant::now() + self.flush_timeout));
        self.shared.data.notify_one();
        // Collector panics are caught, so this is only a defence: a dead thread sent nothing more.
        let unsent = thread.join().unwrap_or_else(|_| self.shared.stats.pending.load(Ordering::Relaxed));
        match unsent {
            0 => Ok(()),
            samples => Err(RemoteWriteError::Unflushed { samples }),
        }
    }
}

impl Drop for RemoteWriter {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            log::warn!(target: "promstack::remote_write", "{}: {e}", self.shared.url);
        }
    }
}

/// The writer's own metrics, as a [`Collector`]; see [`RemoteWriter::metrics`].
#[derive(Clone)]
pub struct RemoteWriterMetrics {
    shared: Arc<Shared>,
}

impl fmt::Debug for RemoteWriterMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteWriterMetrics").field("url", &self.shared.url).finish()
    }
}

impl Collector for RemoteWriterMetrics {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        const COUNTERS: [(&str, &str); 4] = [
            ("promstack_remote_write_sent_samples", "Samples the receiver accepted."),
            ("promstack_remote_write_failed_samples", "Samples the receiver refused (not retried)."),
            ("promstack_remote_write_dropped_samples", "Samples dropped unsent (full queue, invalid, stop)."),
            (
                "promstack_remote_write_retried_samples",
                "Samples sent again after a 5xx, network error or timeout.",
            ),
        ];
        let s = self.shared.stats();
        let values = [s.samples_sent, s.samples_failed, s.samples_dropped, s.samples_retried];
        let url = [self.shared.url.as_str()];
        let labels = Labels::new(&["url"], &url);
        for ((name, help), value) in COUNTERS.iter().zip(values) {
            let desc = Desc::new(name, help, MetricType::Counter);
            sink.family(&desc)?;
            sink.sample(&desc, &Sample::new("_total", labels, Value::Int(value)))?;
        }
        let desc = Desc::new(
            "promstack_remote_write_pending_samples",
            "Samples queued or in flight.",
            MetricType::Gauge,
        );
        sink.family(&desc)?;
        sink.sample(&desc, &Sample::new("", labels, Value::Int(s.samples_pending)))
    }
}

/// The checked settings the worker runs with.
struct Config {
    target: Target,
    /// Every request's headers, the required ones and authorization included.
    headers: Vec<(String, String)>,
    collectors: Vec<Arc<dyn Collector>>,
    interval: Duration,
    /// Sorted by name.
    external_labels: Vec<Label>,
    max_samples_per_request: usize,
    timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
    max_retries: Option<u32>,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    retried: AtomicU64,
    pending: AtomicU64,
}

/// What the handle, the metrics collector and the worker share.
struct Shared {
    /// Redacted, for messages.
    url: String,
    queue: Mutex<Queue>,
    /// Wakes the sender when a collection queued samples (or stop was asked).
    data: tokio::sync::Notify,
    stats: Counters,
}

impl Shared {
    fn stats(&self) -> RemoteWriteStats {
        // Relaxed: each count is independent; a reader only needs a recent value of each.
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let s = &self.stats;
        RemoteWriteStats {
            samples_sent: get(&s.sent),
            samples_failed: get(&s.failed),
            samples_dropped: get(&s.dropped),
            samples_retried: get(&s.retried),
            samples_pending: get(&s.pending),
        }
    }

    fn count(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn unpend(&self, n: usize) {
        self.stats.pending.fetch_sub(n as u64, Ordering::Relaxed);
    }
}

/// Series with one sample each, oldest first, at most `capacity` of them.
struct Queue {
    series: VecDeque<TimeSeries>,
    capacity: usize,
}

impl Queue {
    fn new(capacity: usize) -> Self {
        Queue { series: VecDeque::new(), capacity }
    }

    /// Appends `series`, dropping the oldest ones beyond the capacity; returns how many were
    /// dropped.
    fn push(&mut self, series: Vec<TimeSeries>) -> usize {
        let mut dropped = 0;
        for s in series {
            if self.series.len() == self.capacity {
                self.series.pop_front();
                dropped += 1;
            }
            self.series.push_back(s);
        }
        dropped
    }

    /// Takes up to `max` of the oldest series.
    fn take(&mut self, max: usize) -> Vec<TimeSeries> {
        let n = max.min(self.series.len());
        self.series.drain(..n).collect()
    }
}

/// Turns what collectors report into series: labels sorted by name with `__name__` and the
/// external labels, one sample stamped `now_ms` unless the sample has its own time.
struct SeriesSink<'a> {
    now_ms: i64,
    external_labels: &'a [Label],
    out: Vec<TimeSeries>,
    invalid: usize,
}

impl Sink for SeriesSink<'_> {
    fn family(&mut self, _desc: &Desc<'_>) -> Result<(), CollectError> {
        Ok(())
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        if sample.suffix == "_created" {
            return Ok(());
        }
        let name = format!("{}{}", desc.name, sample.suffix);
        let label_names: Vec<&str> = sample.labels.iter().map(|(n, _)| n).collect();
        // A custom collector may report anything; a receiver refuses a whole request for one bad
        // series, so such a series is dropped here.
        if promstack_core::check_metric_name(&name).is_err()
            || check_label_names(&label_names, MetricType::Unknown).is_err()
        {
            self.invalid += 1;
            return Ok(());
        }
        let mut labels = Vec::with_capacity(1 + sample.labels.len() + self.external_labels.len());
        labels.push(Label { name: "__name__".to_owned(), value: name });
        labels.extend(
            sample
                .labels
                .iter()
                .map(|(name, value)| Label { name: name.to_owned(), value: value.to_owned() }),
        );
        labels.extend(self.external_labels.iter().cloned());
        // Stable: of two labels with one name the earlier wins, so the series' own labels take
        // precedence over external labels of the same name.
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        labels.dedup_by(|later, earlier| later.name == earlier.name);
        // An empty value means "no such label" to Prometheus; the spec forbids sending it.
        labels.retain(|l| !l.value.is_empty());
        let timestamp = sample.timestamp.map_or(self.now_ms, |t| t.as_millis());
        self.out.push(TimeSeries {
            labels,
            samples: vec![proto::Sample { value: sample.value.as_f64(), timestamp }],
        });
        Ok(())
    }

    fn wants_created(&self) -> bool {
        false
    }
}

fn unix_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The series of one collection of every collector, and how many samples had invalid names. A
/// collector that fails or panics contributes nothing (as a failed scrape does); it is logged.
fn collect(
    collectors: &[Arc<dyn Collector>],
    external_labels: &[Label],
    url: &str,
) -> (Vec<TimeSeries>, usize) {
    let now_ms = unix_millis();
    let mut all = Vec::new();
    let mut invalid = 0;
    for c in collectors {
        let mut sink = SeriesSink { now_ms, external_labels, out: Vec::new(), invalid: 0 };
        // A panicking collector must not end the writer's thread (and with it every later
        // collection): it counts as a failed one.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.collect(&mut sink)));
        match result {
            Ok(Ok(())) => {
                all.append(&mut sink.out);
                invalid += sink.invalid;
            }
            Ok(Err(e)) => log::warn!(target: "promstack::remote_write", "{url}: a collector failed: {e}"),
            Err(_) => log::warn!(target: "promstack::remote_write", "{url}: a collector panicked"),
        }
    }
    (all, invalid)
}

/// The snappy (block format) compressed protobuf body of `series`.
fn encode(series: Vec<TimeSeries>) -> bytes::Bytes {
    let raw = prost::Message::encode_to_vec(&WriteRequest { timeseries: series });
    // Compressing a slice in memory fails only beyond snap's 4 GiB input limit, which a
    // request of at most `max_samples_per_request` samples does not reach.
    snap::raw::Encoder::new().compress_vec(&raw).unwrap_or_default().into()
}

/// Why a request was not accepted.
enum SendError {
    /// The receiver answered with a status that is not 2xx.
    Status(http::StatusCode, String),
    Timeout(Duration),
    Io(std::io::Error),
    Request(http::Error),
}

impl SendError {
    fn retryable(&self) -> bool {
        match self {
            SendError::Status(status, _) => status.is_server_error(),
            SendError::Timeout(_) | SendError::Io(_) => true,
            SendError::Request(_) => false,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Status(status, body) => {
                write!(f, "status {status}")?;
                if !body.is_empty() {
                    write!(f, ": {}", body.trim_end())?;
                }
                Ok(())
            }
            SendError::Timeout(d) => write!(f, "no response within {d:?}"),
            SendError::Io(e) => write!(f, "{e}"),
            SendError::Request(e) => write!(f, "cannot build the request: {e}"),
        }
    }
}

enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Polls both futures until one is ready (`tokio::select!` without tokio's macros).
async fn first<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(x) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(x));
        }
        Poll::Pending
    })
    .await
}

/// The writer's thread: a collection task and the sending loop on one single-threaded runtime.
struct Worker {
    config: Config,
    shared: Arc<Shared>,
    /// `Some(flush deadline)` once stop was asked.
    stop: tokio::sync::watch::Receiver<Option<Instant>>,
}

impl Worker {
    /// Runs until stopped; returns how many samples were left unsent.
    async fn run(mut self) -> u64 {
        let collecting = tokio::spawn(collect_every_interval(
            self.config.collectors.clone(),
            self.config.external_labels.clone(),
            self.config.interval,
            Arc::clone(&self.shared),
            self.stop.clone(),
        ));
        let mut last_collection_done = false;
        loop {
            let stopping = self.stop.borrow().is_some();
            if stopping && !last_collection_done {
                // On this single-threaded runtime the task is parked at an await, never inside a
                // collection, so after the abort the last collection is the newest.
                collecting.abort();
                self.collect_now();
                last_collection_done = true;
            }
            let batch = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(self.config.max_samples_per_request);
            if batch.is_empty() {
                if stopping {
                    return 0;
                }
                if let Either::Right(Err(_)) = first(self.shared.data.notified(), self.stop.changed()).await {
                    // The handle is gone without asking to stop (it cannot be, short of a
                    // leak): nothing will ever ask for a flush.
                    return 0;
                }
                continue;
            }
            let n = batch.len();
            if !self.send_with_retries(batch).await {
                let left = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner()).take(usize::MAX).len();
                let unsent = (n + left) as u64;
                self.shared.stats.dropped.fetch_add(unsent, Ordering::Relaxed);
                self.shared.stats.pending.fetch_sub(unsent, Ordering::Relaxed);
                return unsent;
            }
        }
    }

    fn collect_now(&self) {
        queue_collection(&self.config.collectors, &self.config.external_labels, &self.shared);
    }

    /// Runs `fut` to its end, or until the flush deadline once stop was asked (`None`).
    async fn bounded<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        loop {
            let deadline = *self.stop.borrow();
            if let Some(deadline) = deadline {
                return tokio::time::timeout_at(deadline.into(), fut).await.ok();
            }
            match first(fut.as_mut(), self.stop.changed()).await {
                Either::Left(out) => return Some(out),
                Either::Right(Ok(())) => continue,
                // The handle is gone without asking to stop: nothing waits for a flush.
                Either::Right(Err(_)) => return None,
            }
        }
    }

    /// Sends `batch` until it is delivered, refused or given up; `false` when the flush deadline
    /// passed first (the batch is unsent and not counted yet).
    async fn send_with_retries(&mut self, batch: Vec<TimeSeries>) -> bool {
        let n = batch.len();
        let body = encode(batch);
        let mut backoff = self.config.min_backoff;
        let mut retries = 0u32;
        loop {
            let Some(result) = self.bounded(self.post(body.clone())).await else { return false };
            let error = match result {
                Ok(()) => {
                    Shared::count(&self.shared.stats.sent, n);
                    self.shared.unpend(n);
                    return true;
                }
                Err(e) => e,
            };
            let url = &self.shared.url;
            if !error.retryable() || self.config.max_retries.is_some_and(|max| retries >= max) {
                log::error!(target: "promstack::remote_write", "{url}: {n} samples not delivered: {error}");
                Shared::count(&self.shared.stats.failed, n);
                self.shared.unpend(n);
                return true;
            }
            log::warn!(target: "promstack::remote_write", "{url}: retrying {n} samples in {backoff:?}: {error}");
            if self.bounded(tokio::time::sleep(backoff)).await.is_none() {
                return false;
            }
            retries += 1;
            Shared::count(&self.shared.stats.retried, n);
            backoff = (backoff * 2).min(self.config.max_backoff);
        }
    }

    /// One POST of `body`.
    fn post(&self, body: bytes::Bytes) -> impl Future<Output = Result<(), SendError>> + 'static {
        let target = self.config.target.clone();
        let headers = self.config.headers.clone();
        let timeout = self.config.timeout;
        async move {
            let exchange = http_client::exchange(&target, "POST", &headers, body, MAX_ERROR_BODY);
            let response = match tokio::time::timeout(timeout, exchange).await {
                Err(_) => return Err(SendError::Timeout(timeout)),
                Ok(Err(ExchangeError::Io(e))) => return Err(SendError::Io(e)),
                Ok(Err(ExchangeError::Request(e))) => return Err(SendError::Request(e)),
                Ok(Ok(response)) => response,
            };
            if response.status.is_success() {
                Ok(())
            } else {
                Err(SendError::Status(
                    response.status,
                    String::from_utf8_lossy(&response.error_body).into_owned(),
                ))
            }
        }
    }
}

/// Collects every collector and queues the series, counting what is dropped.
fn queue_collection(collectors: &[Arc<dyn Collector>], external_labels: &[Label], shared: &Shared) {
    let (series, invalid) = collect(collectors, external_labels, &shared.url);
    let added = series.len();
    let dropped = shared.queue.lock().unwrap_or_else(|e| e.into_inner()).push(series);
    if dropped > 0 {
        log::warn!(target: "promstack::remote_write", "{}: queue full, dropped the {dropped} oldest samples", shared.url);
    }
    if invalid > 0 {
        log::warn!(target: "promstack::remote_write", "{}: dropped {invalid} samples with invalid names", shared.url);
    }
    Shared::count(&shared.stats.dropped, dropped + invalid);
    shared.stats.pending.fetch_add(added as u64, Ordering::Relaxed);
    shared.unpend(dropped);
    shared.data.notify_one();
}

/// Collects at start and then every `interval` (missed ticks are skipped, not caught up), until
/// stop is asked.
async fn collect_every_interval(
    collectors: Vec<Arc<dyn Collector>>,
    external_labels: Vec<Label>,
    interval: Duration,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<Option<Instant>>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        if stop.borrow().is_some() {
            return;
        }
        match first(ticks.tick(), stop.changed()).await {
            Either::Left(_) => queue_collection(&collectors, &external_labels, &shared),
            Either::Right(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promstack_core::{Counter, Gauge};

    fn series(name: &str, value: f64) -> TimeSeries {
        TimeSeries {
            labels: vec![Label { name: "__name__".into(), value: name.into() }],
            samples: vec![proto::Sample { value, timestamp: 1 }],
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest() {
        let mut q = Queue::new(3);
        assert_eq!(q.push(vec![series("a", 1.0), series("a", 2.0)]), 0);
        assert_eq!(q.push(vec![series("a", 3.0), series("a", 4.0), series("a", 5.0)]), 2);
        let values: Vec<f64> = q.take(10).iter().map(|s| s.samples[0].value).collect();
        assert_eq!(values, [3.0, 4.0, 5.0]);
        assert!(q.take(10).is_empty());
        // A collection larger than the whole queue keeps its newest samples.
        assert_eq!(q.push((0..5).map(|i| series("b", i as f64)).collect()), 2);
        assert_eq!(q.take(2).len(), 2);
        assert_eq!(q.take(2)[0].samples[0].value, 4.0);
    }

    fn pairs(s: &TimeSeries) -> Vec<(&str, &str)> {
        s.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect()
    }

    struct Labeled;
    impl Collector for Labeled {
        fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
            let desc = Desc::new("http_requests", "Requests.", MetricType::Counter);
            sink.family(&desc)?;
            let labels = Labels::new(&["path", "instance", "code"], &["/", "from-series", ""]);
            sink.sample(&desc, &Sample::new("_total", labels, Value::Int(3)))?;
            sink.sample(&desc, &Sample::new("_created", labels, Value::Float(1.5)))?;
            let mut timed = Sample::new("_total", Labels::new(&["path"], &["/x"]), Value::Float(2.5));
            timed.timestamp = Some(promstack_core::Timestamp::from_millis(1234));
            sink.sample(&desc, &timed)?;
            let bad = Desc { name: "bad-name", help: "", unit: "", metric_type: MetricType::Gauge };
            sink.family(&bad)?;
            sink.sample(&bad, &Sample::new("", Labels::EMPTY, Value::Int(1)))
        }
    }

    #[test]
    fn series_labels_are_sorted_and_series_labels_win_over_external_ones() {
        let external = [
            Label { name: "cluster".into(), value: "eu".into() },
            Label { name: "instance".into(), value: "external".into() },
        ];
        let (out, invalid) = collect(&[Arc::new(Labeled) as Arc<dyn Collector>], &external, "u");
        assert_eq!(invalid, 1, "the series named bad-name is dropped");
        assert_eq!(out.len(), 2, "_created is not sent");
        assert_eq!(
            pairs(&out[0]),
            [
                ("__name__", "http_requests_total"),
                ("cluster", "eu"),
                ("instance", "from-series"),
                ("path", "/")
            ]
        );
        assert_eq!(out[0].samples[0].value, 3.0);
        assert!(out[0].samples[0].timestamp > 1_600_000_000_000, "stamped with the collection time");
        assert_eq!(
            pairs(&out[1]),
            [
                ("__name__", "http_requests_total"),
                ("cluster", "eu"),
                ("instance", "external"),
                ("path", "/x")
            ]
        );
        assert_eq!(out[1].samples[0], proto::Sample { value: 2.5, timestamp: 1234 });
    }

    #[test]
    fn a_panicking_collector_contributes_nothing_and_the_others_still_do() {
        struct Panics;
        impl Collector for Panics {
            fn collect(&self, _: &mut dyn Sink) -> Result<(), CollectError> {
                panic!("collector bug")
            }
        }
        static G: Gauge = Gauge::new("still_here", "G.");
        let collectors: [Arc<dyn Collector>; 2] = [Arc::new(Panics), Arc::new(&G)];
        let (out, _) = collect(&collectors, &[], "u");
        assert_eq!(out.len(), 1);
        assert_eq!(pairs(&out[0]), [("__name__", "still_here")]);
    }

    #[test]
    fn body_round_trip() {
        static C: Counter = Counter::new("jobs_total", "Jobs.");
        static G: Gauge = Gauge::new("temperature", "T.");
        C.inc();
        G.set(-1.25);
        let collectors: [Arc<dyn Collector>; 2] = [Arc::new(&C), Arc::new(&G)];
        let (series, _) = collect(&collectors, &[], "u");
        let body = encode(series.clone());
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        let back: WriteRequest = prost::Message::decode(&*raw).unwrap();
        assert_eq!(back.timeseries, series);
        assert_eq!(pairs(&back.timeseries[1]), [("__name__", "temperature")]);
        assert_eq!(back.timeseries[1].samples[0].value, -1.25);
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        let b = || RemoteWriter::builder("http://127.0.0.1:1/api/v1/write");
        let err = |b: RemoteWriterBuilder| b.start().unwrap_err();
        assert!(matches!(err(RemoteWriter::builder("ftp://h/")), RemoteWriteError::InvalidUrl(_)));
        let e = err(RemoteWriter::builder("http://u:s3cret@h:x/"));
        assert_eq!(e.to_string(), "invalid remote write url: \"http://***@h:x/\"");
        assert!(!format!("{e:?}").contains("s3cret"));
        assert_eq!(
            err(b().external_label("__name__", "x")).to_string(),
            "invalid external label: reserved label name: \"__name__\""
        );
        assert_eq!(
            err(b().external_label("a", "1").external_label("a", "2")).to_string(),
            "invalid external label: duplicate label name: \"a\""
        );
        assert_eq!(err(b().external_label("a", "")).to_string(), "external label \"a\" has an empty value");
        assert!(matches!(err(b().interval(Duration::ZERO)), RemoteWriteError::InvalidSetting(_)));
        assert!(matches!(err(b().queue_capacity(0)), RemoteWriteError::InvalidSetting(_)));
        assert!(matches!(err(b().max_samples_per_request(0)), RemoteWriteError::InvalidSetting(_)));
        assert!(matches!(
            err(b().min_backoff(Duration::from_secs(9)).max_backoff(Duration::from_secs(1))),
            RemoteWriteError::InvalidSetting(_)
        ));
        assert!(matches!(
            err(b().basic_auth("u", "p").bearer_token("t")),
            RemoteWriteError::InvalidSetting(_)
        ));
        assert_eq!(
            err(b().header("content-type", "text/plain")).to_string(),
            "invalid remote write header: \"content-type\" is set by the writer"
        );
        assert!(matches!(err(b().header("bad header", "x")), RemoteWriteError::InvalidHeader(_)));
        let e = err(b().header("X-Token", "sec\nret"));
        assert!(!e.to_string().contains("sec"), "{e}");
    }
}
