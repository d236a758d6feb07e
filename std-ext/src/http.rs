//! HTTP exposition on hyper 1.x: a [`MetricsService`] to mount in any hyper / tower / axum app,
//! and [`start_http_server`], which serves one from its own thread.
//!
//! What a request gets:
//!
//! | request | answer |
//! |---|---|
//! | `GET /metrics` | 200, the exposition: delimited protobuf when `Accept` prefers it (feature `protobuf`), OpenMetrics 1.0 when `Accept` names `application/openmetrics-text`, text 0.0.4 otherwise |
//! | `GET /metrics?name[]=a&name[]=b` | only families with a sample named `a` or `b` |
//! | `Accept-Encoding: gzip` (feature `gzip`) | the body gzip-compressed, `Content-Encoding: gzip` |
//! | `HEAD /metrics` | the `GET` headers (with `Content-Length`), no body |
//! | another method | 405 with `Allow: GET, HEAD` |
//! | another path | 404 |
//! | a collector returns an error or panics | 500; the next request is served normally |
//! | a malformed request line or header (server) | 400 |
//! | request headers over [`HttpServer::max_header_size`] (server) | 431 |
//! | headers not complete within [`HttpServer::header_read_timeout`] (server) | connection closed |
//! | a response not read within [`HttpServer::write_timeout`] (server) | connection closed |
//! | too many requests in flight, or too many unread response bytes (server) | 503 |
//! | collection slower than the scrape timeout (server; `X-Prometheus-Scrape-Timeout-Seconds`) | 503 |
//!
//! The path is `/metrics` by default; [`MetricsService::with_path`] moves it and
//! [`MetricsService::any_path`] serves every path (Python 0.8.0's behaviour), which is what you
//! want when a router in front of the service already chose the path:
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use promstack::{http::MetricsService, Counter};
//! static HITS: Counter = Counter::new("hits", "Hits.");
//! let app: axum::Router = axum::Router::new()
//!     .route_service("/internal/metrics", MetricsService::new(Arc::new(&HITS)).any_path());
//! # }
//! ```
//!
//! Every scrape encodes into a buffer taken from a small pool and handed back when hyper has
//! written the response, so a steady scrape rate allocates nothing for the output, and the
//! exposition is produced once (compressed on the fly when gzip is asked for).
//!
//! A [`MetricsService`] runs collectors on the task serving the request, so mounted in your own
//! server a collector that blocks delays that task. [`HttpServer`] runs them on blocking threads
//! instead, so its connections are served while a collector is slow.
//!
//! # Options, beside client_golang's `promhttp` names
//!
//! | promstack ([`MetricsService`] / [`HttpServer`]) | client_golang `promhttp` | default here | default there |
//! |---|---|---|---|
//! | [`with_openmetrics`](MetricsService::with_openmetrics) / [`openmetrics`](HttpServer::openmetrics) | `HandlerOpts.EnableOpenMetrics` | on | off |
//! | [`with_created`](MetricsService::with_created) / [`created`](HttpServer::created) | `HandlerOpts.EnableOpenMetricsTextCreatedSamples` | on | off |
//! | [`with_created_in_text`](MetricsService::with_created_in_text) | (none; Python 0.8.0 writes `x_created` families in text 0.0.4) | off | — |
//! | [`with_error_handling`](MetricsService::with_error_handling) / [`error_handling`](HttpServer::error_handling): [`ErrorHandling::HttpErrorOnError`], [`ErrorHandling::ContinueOnError`] | `HandlerOpts.ErrorHandling`: `HTTPErrorOnError`, `ContinueOnError` (`PanicOnError` has no counterpart) | `HttpErrorOnError` | `HTTPErrorOnError` |
//! | [`with_handler_metrics`](MetricsService::with_handler_metrics) / [`handler_metrics`](HttpServer::handler_metrics) | `InstrumentMetricHandler(reg, handler)` and `HandlerOpts.Registry` | off | off (`promhttp.Handler()` has them) |
//! | [`with_gzip`](MetricsService::with_gzip) (feature `gzip`) | `HandlerOpts.DisableCompression` (inverted) | on | on |
//! | [`max_requests_in_flight`](HttpServer::max_requests_in_flight) | `HandlerOpts.MaxRequestsInFlight` | 64 | unlimited |
//! | [`scrape_timeout`](HttpServer::scrape_timeout) | `HandlerOpts.Timeout` | 30 s | none |
//!
//! The handler metrics are the ones client_golang registers, with the same names, help and
//! labels: `promhttp_metric_handler_requests_total{code}` (every answer by status code; `200`,
//! `500` and `503` start at 0), `promhttp_metric_handler_requests_in_flight` and
//! `promhttp_metric_handler_errors_total{cause}` (`gathering`: a collector failed or panicked;
//! `encoding`: the output could not be written). A scrape counts in the requests counter after
//! it is answered, so it sees the scrapes before it and itself in flight.
//!
//! ```
//! use std::sync::Arc;
//! use promstack::http::{ErrorHandling, MetricsService};
//! use promstack::Registry;
//! let registry = Arc::new(Registry::new());
//! let svc = MetricsService::new(registry.clone())
//!     .with_openmetrics(false)
//!     .with_created(false)
//!     .with_error_handling(ErrorHandling::ContinueOnError)
//!     .with_handler_metrics(&registry)
//!     .unwrap();
//! let req = http::Request::get("/metrics").header("accept", "application/openmetrics-text").body(()).unwrap();
//! let resp = svc.respond(&req);
//! assert_eq!(resp.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
//! let answered = registry.get_sample_value("promhttp_metric_handler_requests_total", &[("code", "200")]);
//! assert_eq!(answered, Some(1.0));
//! ```

use bytes::Bytes;
#[cfg(feature = "gzip")]
use flate2::write::DeflateEncoder;
use http::header::{
    HeaderValue, ACCEPT, ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper_util::rt::{TokioIo, TokioTimer};
use promstack_alloc::{Family, Registry};
use promstack_core::{
    Collector, CounterValue, EncodeError, Encoder, Format, GaugeValue, NameSet, RegistryError,
};
use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::future::{ready, Ready};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

/// The response body of a [`MetricsService`]: the whole exposition in one chunk.
pub type MetricsBody = Full<Bytes>;

/// Buffers kept for reuse; more concurrent scrapes than this allocate.
const POOL_SIZE: usize = 8;
/// A buffer that grew beyond this is freed instead of kept, so one huge scrape does not pin memory.
const POOL_MAX_CAPACITY: usize = 16 << 20;
/// Deflate states kept for reuse (each holds a few hundred KiB).
#[cfg(feature = "gzip")]
const DEFLATE_POOL_SIZE: usize = 4;

/// Output buffers and deflate states handed from scrape to scrape.
#[derive(Default)]
struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
    /// Deflate states are large (hash tables and windows); building one per scrape would cost
    /// more than compressing a typical exposition.
    #[cfg(feature = "gzip")]
    deflaters: Mutex<Vec<DeflateEncoder<Vec<u8>>>>,
}

impl BufferPool {
    fn take(&self) -> Vec<u8> {
        self.free.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default()
    }

    fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > POOL_MAX_CAPACITY {
            return;
        }
        buf.clear();
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        if free.len() < POOL_SIZE {
            free.push(buf);
        }
    }

    #[cfg(feature = "gzip")]
    fn take_deflater(&self) -> DeflateEncoder<Vec<u8>> {
        let pooled = self.deflaters.lock().unwrap_or_else(|p| p.into_inner()).pop();
        pooled.unwrap_or_else(|| DeflateEncoder::new(Vec::new(), flate2::Compression::fast()))
    }

    #[cfg(feature = "gzip")]
    fn give_deflater(&self, d: DeflateEncoder<Vec<u8>>) {
        let mut free = self.deflaters.lock().unwrap_or_else(|p| p.into_inner());
        if free.len() < DEFLATE_POOL_SIZE {
            free.push(d);
        }
    }
}

/// A gzip member (RFC 1952) written through a pooled deflate state: fixed header, deflate
/// stream, CRC-32 and length trailer. The encoder's many small writes are staged and handed to
/// deflate in large chunks, which is several times cheaper than one deflate call per write.
#[cfg(feature = "gzip")]
struct Gzip {
    deflate: DeflateEncoder<Vec<u8>>,
    crc: flate2::Crc,
    stage: Vec<u8>,
}

/// A pooled deflate state.
#[cfg(feature = "gzip")]
type Deflater = DeflateEncoder<Vec<u8>>;

/// Header of a gzip member: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
#[cfg(feature = "gzip")]
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
/// Staged bytes that trigger a deflate call.
#[cfg(feature = "gzip")]
const GZIP_STAGE: usize = 16 * 1024;

#[cfg(feature = "gzip")]
impl Gzip {
    /// Starts a member whose compressed bytes are appended to `out`.
    fn start(mut deflate: DeflateEncoder<Vec<u8>>, mut out: Vec<u8>, stage: Vec<u8>) -> io::Result<Gzip> {
        out.extend_from_slice(&GZIP_HEADER);
        // Swaps `out` in; what comes back is the idle placeholder of the previous use.
        deflate.reset(out)?;
        Ok(Gzip { deflate, crc: flate2::Crc::new(), stage })
    }

    fn drain_stage(&mut self) -> io::Result<()> {
        io::Write::write_all(&mut self.deflate, &self.stage)?;
        self.crc.update(&self.stage);
        self.stage.clear();
        Ok(())
    }

    /// Ends the member; returns the output, the deflate state and the stage for reuse.
    fn finish(mut self) -> io::Result<(Vec<u8>, Deflater, Vec<u8>)> {
        self.drain_stage()?;
        let mut out = self.deflate.reset(Vec::new())?;
        out.extend_from_slice(&self.crc.sum().to_le_bytes());
        out.extend_from_slice(&self.crc.amount().to_le_bytes());
        Ok((out, self.deflate, self.stage))
    }
}

#[cfg(feature = "gzip")]
impl io::Write for Gzip {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.stage.extend_from_slice(data);
        if self.stage.len() >= GZIP_STAGE {
            self.drain_stage()?;
        }
        Ok(data.len())
    }

    /// A no-op: a deflate flush would emit an empty block, and the encoder flushes at the end.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A pooled buffer owned by a [`Bytes`]: back to the pool when hyper drops the body chunk.
struct PooledBuf {
    buf: Vec<u8>,
    pool: Arc<BufferPool>,
}

impl AsRef<[u8]> for PooledBuf {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        self.pool.give(std::mem::take(&mut self.buf));
    }
}

/// Serves a collector's exposition over HTTP; a hyper [`Service`](hyper::service::Service) and a
/// tower [`Service`](tower_service::Service) for requests with any body type.
///
/// Cloning is cheap (reference counts); clones share the buffer pool.
///
/// ```
/// use std::sync::Arc;
/// use promstack::{http::MetricsService, Counter};
/// static HITS: Counter = Counter::new("hits", "Hits.");
/// let svc = MetricsService::new(Arc::new(&HITS));
/// let req = http::Request::get("/metrics").body(()).unwrap();
/// let resp = svc.respond(&req);
/// assert_eq!(resp.status(), 200);
/// assert_eq!(resp.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
/// ```
#[derive(Clone)]
pub struct MetricsService {
    collector: Arc<dyn Collector>,
    path: Option<Arc<str>>,
    created_in_text: bool,
    gzip: bool,
    pool: Arc<BufferPool>,
    openmetrics: bool,
    created: bool,
    error_handling: ErrorHandling,
    handler_metrics: Option<Arc<HandlerMetrics>>,
}

/// What a scrape answers when a collector fails (returns an error or panics): client_golang's
/// `promhttp.HandlerErrorHandling`. Either way the failure is logged (`log::error!`) and
/// counted in `promhttp_metric_handler_errors_total{cause="gathering"}` when
/// [handler metrics](MetricsService::with_handler_metrics) are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ErrorHandling {
    /// 500 with the error message as the body (client_golang's `HTTPErrorOnError`). The default.
    #[default]
    HttpErrorOnError,
    /// 200 with what the other collectors reported (client_golang's `ContinueOnError`): the
    /// members of a [`Registry`] (or any composite collector) are encoded one at a time and
    /// the output of a failing one is dropped whole, so no half-written family is served. A
    /// collector that is not composite and fails leaves an empty exposition. The scrape is
    /// streamed as usual first; only when it fails are the collectors asked again this way, so
    /// a scrape without errors costs the same under both policies.
    ContinueOnError,
}

/// The handler's own metrics, as client_golang's `InstrumentMetricHandler` registers them.
struct HandlerMetrics {
    requests: Arc<Family<CounterValue>>,
    in_flight: Arc<Family<GaugeValue>>,
    errors: Arc<Family<CounterValue>>,
}

/// Which step of a scrape failed, as `promhttp_metric_handler_errors_total`'s `cause` label.
#[derive(Debug, Clone, Copy)]
enum Cause {
    Gathering,
    Encoding,
}

impl Cause {
    fn label(self) -> &'static str {
        match self {
            Cause::Gathering => "gathering",
            Cause::Encoding => "encoding",
        }
    }
}

/// A failed scrape: the step and the message for the log and the 500 body.
struct ScrapeError {
    cause: Cause,
    message: String,
}

impl HandlerMetrics {
    /// Registers the three families into `registry`; on a conflict none stays registered.
    fn register(registry: &Registry) -> Result<HandlerMetrics, RegistryError> {
        let requests = Family::counter(
            "promhttp_metric_handler_requests_total",
            "Total number of scrapes by HTTP status code.",
            &["code"],
        )
        .map_err(RegistryError::Desc)?;
        let in_flight = Family::gauge(
            "promhttp_metric_handler_requests_in_flight",
            "Current number of scrapes being served.",
            &[],
        )
        .map_err(RegistryError::Desc)?;
        let errors = Family::counter(
            "promhttp_metric_handler_errors_total",
            "Total number of internal errors encountered by the promhttp metric handler.",
            &["cause"],
        )
        .map_err(RegistryError::Desc)?;
        // client_golang starts these at 0, so a rate over them works before the first error.
        for code in ["200", "500", "503"] {
            let _ = requests.get([code]);
        }
        for cause in [Cause::Gathering, Cause::Encoding] {
            let _ = errors.get([cause.label()]);
        }
        let requests = registry.register_owned(requests)?;
        let in_flight = match registry.register_owned(in_flight) {
            Ok(g) => g,
            Err(e) => {
                let _ = registry.unregister(&*requests);
                return Err(e);
            }
        };
        let errors = match registry.register_owned(errors) {
            Ok(c) => c,
            Err(e) => {
                let _ = registry.unregister(&*requests);
                let _ = registry.unregister(&*in_flight);
                return Err(e);
            }
        };
        Ok(HandlerMetrics { requests, in_flight, errors })
    }

    fn answered(&self, status: StatusCode) {
        // One label, one value: the lookup cannot fail.
        if let Ok(c) = self.requests.get([status.as_str()]) {
            c.inc();
        }
    }

    fn failed(&self, cause: Cause) {
        if let Ok(c) = self.errors.get([cause.label()]) {
            c.inc();
        }
    }
}

/// Counts one request in `promhttp_metric_handler_requests_in_flight` while it lives.
struct Tracked(Option<Arc<HandlerMetrics>>);

impl Tracked {
    fn start(metrics: &Option<Arc<HandlerMetrics>>) -> Tracked {
        if let Some(m) = metrics {
            if let Ok(g) = m.in_flight.get(()) {
                g.inc();
            }
        }
        Tracked(metrics.clone())
    }

    /// Counts the answer in `promhttp_metric_handler_requests_total`.
    fn answered(&self, status: StatusCode) {
        if let Some(m) = &self.0 {
            m.answered(status);
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(m) = &self.0 {
            if let Ok(g) = m.in_flight.get(()) {
                g.dec();
            }
        }
    }
}

impl MetricsService {
    /// Serves `collector` (a registry, a metric, anything) at `/metrics`.
    pub fn new(collector: Arc<dyn Collector>) -> Self {
        MetricsService {
            collector,
            path: Some(Arc::from("/metrics")),
            created_in_text: false,
            gzip: cfg!(feature = "gzip"),
            pool: Arc::new(BufferPool::default()),
            openmetrics: true,
            created: true,
            error_handling: ErrorHandling::HttpErrorOnError,
            handler_metrics: None,
        }
    }

    /// Serves at `path` instead of `/metrics` (matched exactly; the query is ignored).
    pub fn with_path(mut self, path: &str) -> Self {
        self.path = Some(Arc::from(path));
        self
    }

    /// Serves every path, like Python 0.8.0: for mounting behind a router that chose the path.
    pub fn any_path(mut self) -> Self {
        self.path = None;
        self
    }

    /// In text 0.0.4, also write `_created` samples as separate gauge families (Python 0.8.0
    /// parity); see [`Encoder::with_created_in_text`]. Off by default.
    pub fn with_created_in_text(mut self, on: bool) -> Self {
        self.created_in_text = on;
        self
    }

    /// Whether to compress when the client accepts gzip. On by default.
    #[cfg(feature = "gzip")]
    pub fn with_gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// Whether a scrape whose `Accept` names `application/openmetrics-text` gets OpenMetrics
    /// 1.0 (client_golang's `HandlerOpts.EnableOpenMetrics`). On by default; off, every scrape
    /// gets text 0.0.4.
    pub fn with_openmetrics(mut self, on: bool) -> Self {
        self.openmetrics = on;
        self
    }

    /// Whether `_created` samples are written at all (client_golang's
    /// `HandlerOpts.EnableOpenMetricsTextCreatedSamples`); see [`Encoder::with_created`]. On by
    /// default (OpenMetrics carries them); off drops them from every format.
    pub fn with_created(mut self, on: bool) -> Self {
        self.created = on;
        self
    }

    /// What a scrape answers when a collector fails; see [`ErrorHandling`]. The default is
    /// [`ErrorHandling::HttpErrorOnError`].
    pub fn with_error_handling(mut self, policy: ErrorHandling) -> Self {
        self.error_handling = policy;
        self
    }

    /// Registers the handler's own metrics into `registry` (usually the one served) and keeps
    /// them up to date: client_golang's `InstrumentMetricHandler(reg, handler)` plus the errors
    /// counter of `HandlerOpts.Registry`; the names are listed in the [module docs](self).
    /// Clones of the returned service share the metrics; a second call on the same registry
    /// fails with the names taken, and then nothing is registered.
    pub fn with_handler_metrics(mut self, registry: &Registry) -> Result<Self, RegistryError> {
        self.handler_metrics = Some(Arc::new(HandlerMetrics::register(registry)?));
        Ok(self)
    }

    /// The answer to `req`: the whole request handling, synchronous. The request body is ignored.
    pub fn respond<B>(&self, req: &Request<B>) -> Response<MetricsBody> {
        let tracked = Tracked::start(&self.handler_metrics);
        let resp = self.answer(req);
        tracked.answered(resp.status());
        resp
    }

    /// The exposition format for a request's `Accept` headers.
    fn negotiate(&self, headers: &HeaderMap) -> Format {
        headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(Format::from_accept)
            .find(|f| *f == Format::OpenMetrics && self.openmetrics)
            .unwrap_or(Format::Text)
    }

    /// An encoder with this service's `_created` settings.
    fn encoder<W: embedded_io::Write>(&self, format: Format, writer: W) -> Encoder<W> {
        Encoder::new(format, writer).with_created_in_text(self.created_in_text).with_created(self.created)
    }

    /// [`MetricsService::respond`] without the handler metrics.
    fn answer<B>(&self, req: &Request<B>) -> Response<MetricsBody> {
        if let Some(path) = &self.path {
            if req.uri().path() != &**path {
                return plain(StatusCode::NOT_FOUND, "not found; metrics are served at the metrics path\n");
            }
        }
        let head = match *req.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => {
                let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
                resp.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
                return resp;
            }
        };
        let headers = req.headers();
        let format = self.negotiate(headers);
        let gzip = self.gzip && headers.get_all(ACCEPT_ENCODING).iter().any(|v| accepts_gzip(v.as_bytes()));
        let names = req.uri().query().map(name_params).unwrap_or_default();
        #[cfg(feature = "protobuf")]
        let protobuf = headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(crate::protobuf::accepts_protobuf);
        #[cfg(not(feature = "protobuf"))]
        let protobuf = false;

        let buf = self.pool.take();
        let encoded = catch_unwind(AssertUnwindSafe(|| {
            #[cfg(feature = "protobuf")]
            if protobuf {
                return self.encode_protobuf(buf, gzip, &names);
            }
            self.encode(buf, format, gzip, &names)
        }));
        let err = match encoded {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(err)) => Err(err),
            Err(panic) => Err(ScrapeError {
                cause: Cause::Gathering,
                message: format!("collector panicked: {}", panic_message(&*panic)),
            }),
        };
        let body = match err {
            Ok(body) => body,
            Err(err) => {
                log::error!("scrape failed: {}", err.message);
                self.count_error(err.cause);
                let lenient = match (self.error_handling, err.cause) {
                    // The second try writes text formats only: a protobuf scrape fails whole.
                    (ErrorHandling::ContinueOnError, Cause::Gathering) if !protobuf => {
                        self.encode_lenient(format, gzip, &names)
                    }
                    _ => Err(err),
                };
                match lenient {
                    Ok(body) => body,
                    Err(err) => {
                        return plain(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            &format!("error collecting metrics: {}\n", err.message),
                        )
                    }
                }
            }
        };

        let len = body.len();
        let mut resp = Response::new(if head { Full::new(Bytes::new()) } else { Full::new(body) });
        let h = resp.headers_mut();
        #[cfg(feature = "protobuf")]
        let content_type =
            if protobuf { crate::protobuf::PROTOBUF_CONTENT_TYPE } else { format.content_type() };
        #[cfg(not(feature = "protobuf"))]
        let content_type = format.content_type();
        let _ = protobuf;
        h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
        if gzip {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if head {
            h.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        resp
    }

    fn count_error(&self, cause: Cause) {
        if let Some(m) = &self.handler_metrics {
            m.failed(cause);
        }
    }

    /// [`ErrorHandling::ContinueOnError`]'s second try, after a failed scrape: every member
    /// encoded on its own, the output of those that fail cut off again. Uncompressed first (a
    /// gzip stream cannot be cut back), then compressed whole when asked.
    fn encode_lenient(&self, format: Format, gzip: bool, names: &[String]) -> Result<Bytes, ScrapeError> {
        let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
        let filter = (!names.is_empty()).then(|| NameSet::new(&mut names));
        let mut out = self.pool.take();
        let mut failures = Vec::new();
        self.encode_members(format, &mut out, &*self.collector, filter.as_ref(), &mut failures);
        // Only the end of the exposition (OpenMetrics' `# EOF`) is left to write.
        let finished = self.encoder(format, &mut out).finish().map(|_| ());
        // Counted once per scrape already, as client_golang counts a failed Gather.
        for failure in &failures {
            log::error!("scrape: left out a failing collector: {failure}");
        }
        finished.map_err(|e| ScrapeError { cause: Cause::Encoding, message: describe(e, "buffering") })?;
        let out = if gzip { self.gzip_whole(out)? } else { out };
        Ok(Bytes::from_owner(PooledBuf { buf: out, pool: self.pool.clone() }))
    }

    /// Appends `collector`'s exposition to `out` member by member (descending into
    /// composites), each leaf with an encoder of its own, so a failing leaf's output (even what
    /// a panic left in the encoder's buffer) is cut off again. The failures' messages go into
    /// `failures`.
    fn encode_members(
        &self,
        format: Format,
        out: &mut Vec<u8>,
        collector: &dyn Collector,
        names: Option<&NameSet<'_>>,
        failures: &mut Vec<String>,
    ) {
        let mut visit = |member: &dyn Collector| {
            self.encode_members(format, out, member, names, failures);
            Ok(())
        };
        let composite = match names {
            Some(names) => collector.members_named(names, &mut visit),
            None => collector.members(&mut visit),
        };
        match composite {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => {
                failures.push(e.to_string());
                return;
            }
        }
        let mark = out.len();
        let result = catch_unwind(AssertUnwindSafe(|| {
            // `run` writes out the encoder's buffer when it returns; a panic leaves it unwritten.
            run(&mut self.encoder(format, &mut *out), collector, names)
        }));
        let failure = match result {
            Ok(Ok(())) => return,
            Ok(Err(e)) => describe(e, "buffering"),
            Err(panic) => format!("collector panicked: {}", panic_message(&*panic)),
        };
        out.truncate(mark);
        failures.push(failure);
    }

    #[cfg(feature = "gzip")]
    fn gzip_whole(&self, plain: Vec<u8>) -> Result<Vec<u8>, ScrapeError> {
        let compressing =
            |e: io::Error| ScrapeError { cause: Cause::Encoding, message: format!("compressing: {e}") };
        let mut gz = Gzip::start(self.pool.take_deflater(), self.pool.take(), self.pool.take())
            .map_err(compressing)?;
        io::Write::write_all(&mut gz, &plain).map_err(compressing)?;
        self.pool.give(plain);
        let (out, deflate, stage) = gz.finish().map_err(compressing)?;
        self.pool.give_deflater(deflate);
        self.pool.give(stage);
        Ok(out)
    }

    /// Without the `gzip` feature nothing is compressed.
    #[cfg(not(feature = "gzip"))]
    fn gzip_whole(&self, plain: Vec<u8>) -> Result<Vec<u8>, ScrapeError> {
        Ok(plain)
    }

    /// Encodes into `buf` (gzip-compressed on the fly when asked) and wraps it for the response.
    fn encode(
        &self,
        mut buf: Vec<u8>,
        format: Format,
        gzip: bool,
        names: &[String],
    ) -> Result<Bytes, ScrapeError> {
        let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
        let filter = (!names.is_empty()).then(|| NameSet::new(&mut names));
        let filter = filter.as_ref();
        let result = if gzip {
            self.encode_gzip(buf, format, filter)
        } else {
            let mut enc = self.encoder(format, &mut buf);
            let r = run(&mut enc, &*self.collector, filter).and_then(|()| enc.finish().map(|_| ()));
            r.map(|()| buf).map_err(|e| scrape_error(e, "buffering"))
        };
        match result {
            Ok(buf) => Ok(Bytes::from_owner(PooledBuf { buf, pool: self.pool.clone() })),
            Err(e) => Err(e),
        }
    }

    /// Encodes into `buf` through a pooled deflate state.
    #[cfg(feature = "gzip")]
    fn encode_gzip(
        &self,
        buf: Vec<u8>,
        format: Format,
        filter: Option<&NameSet<'_>>,
    ) -> Result<Vec<u8>, ScrapeError> {
        let compressing =
            |e: io::Error| ScrapeError { cause: Cause::Encoding, message: format!("compressing: {e}") };
        let gz = Gzip::start(self.pool.take_deflater(), buf, self.pool.take()).map_err(compressing)?;
        let mut enc = self.encoder(format, crate::std_io::FromStd::new(gz));
        // On failure the half-used deflate state is dropped, not pooled.
        run(&mut enc, &*self.collector, filter)
            .and_then(|()| enc.finish())
            .map_err(|e| scrape_error(e, "compressing"))
            .and_then(|w| w.into_inner().finish().map_err(compressing))
            .map(|(out, deflate, stage)| {
                self.pool.give_deflater(deflate);
                self.pool.give(stage);
                out
            })
    }

    /// Without the `gzip` feature `self.gzip` is always false, so this is never called.
    #[cfg(not(feature = "gzip"))]
    fn encode_gzip(&self, buf: Vec<u8>, _: Format, _: Option<&NameSet<'_>>) -> Result<Vec<u8>, ScrapeError> {
        Ok(buf)
    }
}

impl MetricsService {
    /// The delimited protobuf exposition (native histograms), gzip-compressed when asked.
    #[cfg(feature = "protobuf")]
    fn encode_protobuf(&self, mut buf: Vec<u8>, gzip: bool, names: &[String]) -> Result<Bytes, ScrapeError> {
        let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
        let encoded = if names.is_empty() {
            crate::protobuf::encode_protobuf(&*self.collector, &mut buf)
        } else {
            crate::protobuf::encode_protobuf_filtered(&*self.collector, &NameSet::new(&mut names), &mut buf)
        };
        encoded.map_err(|e| ScrapeError { cause: Cause::Gathering, message: e.to_string() })?;
        if gzip {
            buf = self.gzip_whole(buf)?;
        }
        Ok(Bytes::from_owner(PooledBuf { buf, pool: self.pool.clone() }))
    }
}

fn run<W: embedded_io::Write>(
    enc: &mut Encoder<W>,
    collector: &dyn Collector,
    names: Option<&NameSet<'_>>,
) -> Result<(), EncodeError<W::Error>> {
    match names {
        Some(names) => enc.encode_filtered(collector, names),
        None => enc.encode(collector),
    }
}

/// A failed encoding as a [`ScrapeError`]: collectors and names are `gathering`, the output `encoding`.
fn scrape_error<E: std::fmt::Debug>(e: EncodeError<E>, writing: &str) -> ScrapeError {
    let cause = match e {
        EncodeError::Write(_) => Cause::Encoding,
        _ => Cause::Gathering,
    };
    ScrapeError { cause, message: describe(e, writing) }
}

fn describe<E: std::fmt::Debug>(e: EncodeError<E>, writing: &str) -> String {
    match e {
        EncodeError::Collect(c) => c.to_string(),
        EncodeError::Write(w) => format!("{writing}: {w:?}"),
        other => other.to_string(),
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(non-string panic payload)"
    }
}

fn plain(status: StatusCode, text: &str) -> Response<MetricsBody> {
    let mut resp = Response::new(Full::new(Bytes::copy_from_slice(text.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}

/// `true` when an `Accept-Encoding` value lists `gzip` (or `*`) without `q=0`.
fn accepts_gzip(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else { return false };
    value.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        if !(coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") || coding == "*") {
            return false;
        }
        // A quality of 0 ("q=0", "q=0.000") refuses the coding.
        !parts.any(|p| {
            let p = p.trim();
            p.get(..2).is_some_and(|k| k.eq_ignore_ascii_case("q="))
                && p[2..].trim().parse::<f64>().is_ok_and(|q| q == 0.0)
        })
    })
}

/// The values of every `name[]` parameter of a query string, form-decoded.
fn name_params(query: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k) == "name[]").then(|| form_decode(v).into_owned())
        })
        .collect()
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte. Invalid
/// escapes are kept as they are and invalid UTF-8 is replaced, as Python's `parse_qs` does.
fn form_decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl<B> hyper::service::Service<Request<B>> for MetricsService {
    type Response = Response<MetricsBody>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        ready(Ok(self.respond(&req)))
    }
}

impl<B> tower_service::Service<Request<B>> for MetricsService {
    type Response = Response<MetricsBody>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(self.respond(&req)))
    }
}

/// Configuration of a metrics HTTP server running on its own thread; [`HttpServer::start`]
/// binds and starts it.
///
/// Collectors run on a blocking thread, not on the thread that serves the connections, so a
/// slow collector delays only the scrapes waiting for it. What a peer can hold is bounded:
///
/// | limit | default | when reached |
/// |---|---|---|
/// | [`header_read_timeout`](HttpServer::header_read_timeout) | 10 s | connection closed |
/// | [`max_header_size`](HttpServer::max_header_size) | 16 KiB | 431, connection closed |
/// | [`write_timeout`](HttpServer::write_timeout) | 30 s | connection closed |
/// | [`max_requests_in_flight`](HttpServer::max_requests_in_flight) | 64 | 503 |
/// | [`max_unsent_bytes`](HttpServer::max_unsent_bytes) | 128 MiB | 503 |
/// | [`scrape_timeout`](HttpServer::scrape_timeout), or a smaller `X-Prometheus-Scrape-Timeout-Seconds` | 30 s | 503 |
/// | [`max_connections`](HttpServer::max_connections) | 4096 | further connections wait in the listen backlog ([`LISTEN_BACKLOG`]) |
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use promstack::{http::HttpServer, Counter};
/// static HITS: Counter = Counter::new("hits", "Hits.");
/// let server = HttpServer::new(Arc::new(&HITS))
///     .header_read_timeout(Duration::from_secs(5))
///     .write_timeout(Duration::from_secs(10))
///     .max_requests_in_flight(8)
///     .start("127.0.0.1:0")
///     .unwrap();
/// println!("serving on http://{}/metrics", server.local_addr());
/// server.stop();
/// ```
pub struct HttpServer {
    service: MetricsService,
    header_read_timeout: Duration,
    max_header_size: usize,
    max_connections: usize,
    write_timeout: Duration,
    max_in_flight: usize,
    max_unsent_bytes: usize,
    scrape_timeout: Duration,
}

/// The listen backlog of an [`HttpServer`]: connections the kernel completes before the server
/// accepts them. Linux caps it at `net.core.somaxconn` (4096 by default), as Go's servers use.
/// A small backlog (std's 128) makes a burst of connects wait for SYN retransmits (1 s, 3 s ...).
pub const LISTEN_BACKLOG: u32 = 4096;

impl HttpServer {
    /// A server for `collector` at `/metrics` with the defaults listed on [`HttpServer`].
    pub fn new(collector: Arc<dyn Collector>) -> Self {
        HttpServer::with_service(MetricsService::new(collector))
    }

    /// A server answering with `service` (its path, gzip and `_created` settings).
    pub fn with_service(service: MetricsService) -> Self {
        HttpServer {
            service,
            header_read_timeout: Duration::from_secs(10),
            max_header_size: 16 * 1024,
            max_connections: 4096,
            write_timeout: Duration::from_secs(30),
            max_in_flight: 64,
            max_unsent_bytes: 128 << 20,
            scrape_timeout: Duration::from_secs(30),
        }
    }

    /// Closes a connection whose request headers are not complete this long after the server
    /// started waiting for them (idle keep-alive connections included), so slow or idle
    /// clients cannot pile up.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Request line plus headers larger than this get 431 and the connection is closed.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes;
        self
    }

    /// Connections served at once; further ones wait in the listen backlog.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Closes a connection whose response is not completely handed to the kernel this long
    /// after the server started writing it, so a client that does not read cannot keep the
    /// response's memory (Go's `http.Server.WriteTimeout`).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Requests being collected or written at once; more get 503 at once, without collecting
    /// (client_golang's `MaxRequestsInFlight`). At least 1.
    pub fn max_requests_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// While responses not yet written to their clients hold this many bytes or more, further
    /// requests get 503 without collecting. The bound is checked before a scrape, so the memory
    /// held stays below it plus one exposition per request in flight.
    pub fn max_unsent_bytes(mut self, bytes: usize) -> Self {
        self.max_unsent_bytes = bytes;
        self
    }

    /// The longest a scrape may wait for its collectors before it is answered 503. A request's
    /// `X-Prometheus-Scrape-Timeout-Seconds` header (sent by Prometheus) shortens it. The
    /// collector itself cannot be interrupted: it keeps its in-flight slot until it returns.
    pub fn scrape_timeout(mut self, timeout: Duration) -> Self {
        self.scrape_timeout = timeout;
        self
    }

    /// [`MetricsService::with_openmetrics`] on the server's service (client_golang's
    /// `HandlerOpts.EnableOpenMetrics`).
    pub fn openmetrics(mut self, on: bool) -> Self {
        self.service = self.service.with_openmetrics(on);
        self
    }

    /// [`MetricsService::with_created`] on the server's service (client_golang's
    /// `HandlerOpts.EnableOpenMetricsTextCreatedSamples`).
    pub fn created(mut self, on: bool) -> Self {
        self.service = self.service.with_created(on);
        self
    }

    /// [`MetricsService::with_error_handling`] on the server's service (client_golang's
    /// `HandlerOpts.ErrorHandling`).
    pub fn error_handling(mut self, policy: ErrorHandling) -> Self {
        self.service = self.service.with_error_handling(policy);
        self
    }

    /// [`MetricsService::with_handler_metrics`] on the server's service (client_golang's
    /// `InstrumentMetricHandler`). The server also counts the 503s of its limits and scrape
    /// timeout, and a scrape is in flight from its arrival to its answer.
    pub fn handler_metrics(mut self, registry: &Registry) -> Result<Self, RegistryError> {
        self.service = self.service.with_handler_metrics(registry)?;
        Ok(self)
    }

    /// Binds `addr` (with a [`LISTEN_BACKLOG`] backlog) and serves from a new thread with its
    /// own single-threaded tokio runtime; collectors run on that runtime's blocking threads.
    /// Installs the [`StdClock`](crate::StdClock) if no clock is installed.
    pub fn start(self, addr: impl ToSocketAddrs) -> io::Result<HttpServerHandle> {
        crate::install_std_clock();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()?;
        // The listener registers with the runtime it is created in.
        let listener = {
            let _in_runtime = runtime.enter();
            listen(addr)?
        };
        let local_addr = listener.local_addr()?;
        let stop = Arc::new(tokio::sync::Notify::new());
        let stop2 = stop.clone();
        let thread =
            std::thread::Builder::new().name(format!("promstack-http-{local_addr}")).spawn(move || {
                runtime.block_on(async move {
                    tokio::spawn(self.accept_loop(listener));
                    stop2.notified().await;
                });
                // Cancels the accept loop and closes every connection now; a collector still
                // running on a blocking thread is left to finish on its own, not waited for.
                runtime.shutdown_background();
            })?;
        Ok(HttpServerHandle { local_addr, stop, thread: Some(thread) })
    }

    async fn accept_loop(self, listener: tokio::net::TcpListener) {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_header_size(self.max_header_size)
            .max_buf_size(self.max_header_size.max(8192) * 2);
        let http = Arc::new(http);
        let slots = Arc::new(tokio::sync::Semaphore::new(self.max_connections));
        let service = ServerService {
            service: self.service.clone(),
            limits: Arc::new(Limits {
                max_in_flight: self.max_in_flight,
                max_unsent_bytes: self.max_unsent_bytes,
                in_flight: AtomicUsize::new(0),
                unsent_bytes: AtomicUsize::new(0),
            }),
            scrape_timeout: self.scrape_timeout,
        };
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    log::warn!("metrics server accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let io = TokioIo::new(WriteDeadline::new(stream, self.write_timeout));
            let service = service.clone();
            let http = http.clone();
            tokio::spawn(async move {
                if let Err(e) = http.serve_connection(io, service).await {
                    log::debug!("metrics connection ended: {e}");
                }
                drop(permit);
            });
        }
    }
}

/// Binds the first address of `addr` that works, with a [`LISTEN_BACKLOG`] backlog.
fn listen(addr: impl ToSocketAddrs) -> io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        let socket =
            if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        // As std's `TcpListener::bind` does on Unix: a restarted server can rebind at once.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
}

/// The limits shared by every connection of one server.
struct Limits {
    max_in_flight: usize,
    max_unsent_bytes: usize,
    in_flight: AtomicUsize,
    unsent_bytes: AtomicUsize,
}

/// One admitted request: counted in flight until its response has been written (or its
/// connection dropped), along with the response's bytes once they are known.
struct InFlight {
    limits: Arc<Limits>,
    bytes: usize,
}

impl InFlight {
    /// Admits a request, or says why not.
    fn admit(limits: &Arc<Limits>) -> Result<InFlight, String> {
        // Relaxed is enough: the counters are independent bounds, not a protocol between threads.
        let unsent = limits.unsent_bytes.load(Ordering::Relaxed);
        if unsent >= limits.max_unsent_bytes {
            return Err(format!(
                "responses not yet read by their clients hold {unsent} bytes (limit {})",
                limits.max_unsent_bytes
            ));
        }
        let n = limits.in_flight.fetch_add(1, Ordering::Relaxed);
        if n >= limits.max_in_flight {
            limits.in_flight.fetch_sub(1, Ordering::Relaxed);
            return Err(format!("{n} scrapes in flight (limit {})", limits.max_in_flight));
        }
        Ok(InFlight { limits: limits.clone(), bytes: 0 })
    }

    fn hold_bytes(&mut self, n: usize) {
        self.limits.unsent_bytes.fetch_add(n, Ordering::Relaxed);
        self.bytes += n;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.limits.unsent_bytes.fetch_sub(self.bytes, Ordering::Relaxed);
        self.limits.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response chunk that keeps its request counted until hyper has written and dropped it.
struct HeldChunk {
    bytes: Bytes,
    _in_flight: InFlight,
}

impl AsRef<[u8]> for HeldChunk {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// The service of an [`HttpServer`] connection: [`MetricsService::respond`] on a blocking
/// thread, under the server's limits.
#[derive(Clone)]
struct ServerService {
    service: MetricsService,
    limits: Arc<Limits>,
    scrape_timeout: Duration,
}

type BoxedResponse = Pin<Box<dyn Future<Output = Result<Response<MetricsBody>, Infallible>> + Send>>;

/// The header in which Prometheus sends its scrape timeout.
const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

impl ServerService {
    /// The request's `X-Prometheus-Scrape-Timeout-Seconds` when shorter than the server's own.
    fn timeout_for<B>(&self, req: &Request<B>) -> Duration {
        req.headers()
            .get(SCRAPE_TIMEOUT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
            .filter(|d| !d.is_zero())
            .map_or(self.scrape_timeout, |d| d.min(self.scrape_timeout))
    }
}

impl<B> hyper::service::Service<Request<B>> for ServerService {
    type Response = Response<MetricsBody>;
    type Error = Infallible;
    type Future = BoxedResponse;

    fn call(&self, req: Request<B>) -> BoxedResponse {
        // Counted from here to the answer sent, refusals included, as client_golang's
        // InstrumentMetricHandler wraps its in-flight limit.
        let tracked = Tracked::start(&self.service.handler_metrics);
        let mut in_flight = match InFlight::admit(&self.limits) {
            Ok(f) => f,
            Err(why) => {
                log::warn!("metrics request refused: {why}");
                let resp =
                    plain(StatusCode::SERVICE_UNAVAILABLE, &format!("too busy: {why}; try again later\n"));
                tracked.answered(resp.status());
                return Box::pin(ready(Ok(resp)));
            }
        };
        let timeout = self.timeout_for(&req);
        let (parts, _) = req.into_parts();
        let req = Request::from_parts(parts, ());
        let service = self.service.clone();
        let collecting = tokio::task::spawn_blocking(move || {
            let resp = service.answer(&req);
            // The body is one chunk; it takes the admission along so the request stays counted
            // until hyper has written the chunk and let go of it.
            let (parts, body) = resp.into_parts();
            let bytes = body_bytes(body);
            in_flight.hold_bytes(bytes.len());
            let held = Bytes::from_owner(HeldChunk { bytes, _in_flight: in_flight });
            Response::from_parts(parts, Full::new(held))
        });
        Box::pin(async move {
            let resp = match tokio::time::timeout(timeout, collecting).await {
                Ok(Ok(resp)) => resp,
                // `respond` catches collector panics; this is a panic in the server itself.
                Ok(Err(e)) => {
                    log::error!("metrics request failed: {e}");
                    plain(StatusCode::INTERNAL_SERVER_ERROR, "error collecting metrics\n")
                }
                Err(_) => {
                    log::warn!("collecting metrics took longer than the scrape timeout of {timeout:?}");
                    plain(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &format!("collecting metrics took longer than the scrape timeout of {timeout:?}\n"),
                    )
                }
            };
            tracked.answered(resp.status());
            Ok(resp)
        })
    }
}

/// The single chunk of a [`MetricsBody`] (it is ready at once and cannot fail).
fn body_bytes(body: MetricsBody) -> Bytes {
    let mut body = std::pin::pin!(body);
    let waker = std::task::Waker::noop();
    match hyper::body::Body::poll_frame(body.as_mut(), &mut Context::from_waker(waker)) {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        _ => Bytes::new(),
    }
}

/// A TCP stream whose writes fail with [`io::ErrorKind::TimedOut`] when data handed to it is not
/// all written within the timeout. The clock starts at the first write after everything was
/// flushed and stops when hyper flushes (which it does only once its buffer is empty), so it
/// times one response, however slowly the client reads it.
struct WriteDeadline {
    stream: tokio::net::TcpStream,
    timeout: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
    armed: bool,
}

impl WriteDeadline {
    fn new(stream: tokio::net::TcpStream, timeout: Duration) -> Self {
        WriteDeadline { stream, timeout, deadline: Box::pin(tokio::time::sleep(timeout)), armed: false }
    }

    /// Runs `write`; while it cannot progress, checks the deadline (which also registers the
    /// waker for it).
    fn poll_with_deadline(
        &mut self,
        cx: &mut Context<'_>,
        write: impl FnOnce(Pin<&mut tokio::net::TcpStream>, &mut Context<'_>) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        if !self.armed {
            self.armed = true;
            match tokio::time::Instant::now().checked_add(self.timeout) {
                Some(at) => self.deadline.as_mut().reset(at),
                // A timeout too large to represent: never fires.
                None => self.armed = false,
            }
        }
        match write(Pin::new(&mut self.stream), cx) {
            Poll::Pending if self.armed && self.deadline.as_mut().poll(cx).is_ready() => Poll::Ready(Err(
                io::Error::new(io::ErrorKind::TimedOut, "response not read within the write timeout"),
            )),
            other => other,
        }
    }
}

impl tokio::io::AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for WriteDeadline {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_with_deadline(cx, |s, cx| s.poll_write(cx, data))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_with_deadline(cx, |s, cx| s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.stream).poll_flush(cx);
        if let Poll::Ready(Ok(())) = flushed {
            self.armed = false;
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Starts a metrics server for `collector` on `addr` (e.g. `"0.0.0.0:8000"`) in its own thread,
/// serving `/metrics` with the [`HttpServer`] defaults.
///
/// Dropping the handle leaves the server running for the life of the process (like Python's
/// daemon thread); [`HttpServerHandle::stop`] stops it.
///
/// ```
/// use std::sync::Arc;
/// use promstack::Counter;
/// static HITS: Counter = Counter::new("hits", "Hits.");
/// let server = promstack::start_http_server("127.0.0.1:0", Arc::new(&HITS)).unwrap();
/// assert_ne!(server.local_addr().port(), 0);
/// server.stop();
/// ```
pub fn start_http_server(
    addr: impl ToSocketAddrs,
    collector: Arc<dyn Collector>,
) -> io::Result<HttpServerHandle> {
    HttpServer::new(collector).start(addr)
}

/// A running metrics server.
///
/// Dropping it detaches the server (it keeps serving); call [`HttpServerHandle::stop`] to end it.
pub struct HttpServerHandle {
    local_addr: SocketAddr,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServerHandle {
    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every connection and waits for the server thread to end.
    pub fn stop(mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Blocks while the server runs: for a program whose only job is serving metrics.
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip(b"gzip"));
        assert!(accepts_gzip(b"deflate, gzip;q=1.0, *;q=0.5"));
        assert!(accepts_gzip(b"*"));
        assert!(!accepts_gzip(b"gzip;q=0"));
        assert!(!accepts_gzip(b"gzip; q=0.000"));
        assert!(accepts_gzip(b"gzip;q=0.5"));
        assert!(!accepts_gzip(b"identity"));
        assert!(!accepts_gzip(b""));
    }

    #[test]
    fn query_names() {
        assert_eq!(name_params("name[]=a&name[]=b"), ["a", "b"]);
        assert_eq!(name_params("name%5B%5D=a_total&x=1&name[]"), ["a_total", ""]);
        assert_eq!(name_params("name[]=a+b%2"), ["a b%2"]);
        assert!(name_params("").is_empty());
    }
}
