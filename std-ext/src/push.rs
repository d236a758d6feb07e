//! Pushgateway client: push (PUT), pushadd (POST) and delete (DELETE), on hyper's HTTP/1 client
//! (SPEC §6).
//!
//! ```no_run
//! use promstack::{push::Pusher, Gauge};
//! static LAST_SUCCESS: Gauge = Gauge::new("job_last_success_unixtime", "Last time the batch job succeeded.");
//! LAST_SUCCESS.set(1_700_000_000.0);
//! Pusher::new("localhost:9091", "batch_job").grouping_key("instance", "a").push(&LAST_SUCCESS).unwrap();
//! ```
//!
//! The URL is `<gateway>/metrics/job/<job>[/<key>/<value>...]` with the grouping key sorted by
//! key; `http://` is prepended when the gateway has no scheme. A value that is empty becomes
//! `<key>@base64/=`, one containing `/` (or that is `.` or `..`, which HTTP servers resolve as
//! path steps) becomes `<key>@base64/<URL-safe base64>`, and any other value is percent-encoded
//! as a path segment (a space is `%20`: Python's `quote_plus` writes `+`, which the gateway keeps
//! as a literal `+`); the job follows the same rule. The body is text 0.0.4. The request goes
//! through a [`Handler`]: [`DefaultHandler`] (plain HTTP, the timeout covers connecting, sending
//! and the response), [`BasicAuthHandler`], or your own (TLS, other auth, a test double).
//!
//! Credentials in the gateway URL (`http://user:password@host:9091`) are sent as basic auth by
//! [`DefaultHandler`] and never appear in an error message or a `Debug` output: those show
//! `http://***@host:9091/...`.

use crate::http_client::{self, redact, ExchangeError, Target};
use base64::Engine;
use promstack_core::{Collector, Encoder, Format, TEXT_CONTENT_TYPE};
use std::fmt;
use std::time::Duration;

/// The default timeout of a push: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP method of a Pushgateway request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushMethod {
    /// `push`: replaces every metric of the grouping key.
    Put,
    /// `pushadd`: replaces only the metrics with the pushed names.
    Post,
    /// `delete`: removes every metric of the grouping key.
    Delete,
}

impl PushMethod {
    /// `"PUT"`, `"POST"` or `"DELETE"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PushMethod::Put => "PUT",
            PushMethod::Post => "POST",
            PushMethod::Delete => "DELETE",
        }
    }
}

/// The most of an error response's body kept in [`PushError::Status`]; the rest is not read.
pub const MAX_ERROR_BODY: usize = 4096;

/// A push failed.
#[non_exhaustive]
pub enum PushError {
    /// The gateway answered with a status >= 400.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Its reason phrase (`Bad Request`, ...).
        reason: String,
        /// The response body (the gateway's explanation), cut to [`MAX_ERROR_BODY`] bytes.
        body: String,
    },
    /// The request did not complete within the timeout.
    Timeout(Duration),
    /// Connecting, sending or receiving failed.
    Io(std::io::Error),
    /// The gateway URL cannot be used (bad scheme, no host, bad port). Credentials in it are
    /// shown as `***` by `Display` and `Debug`.
    InvalidUrl(String),
    /// The collector failed while the body was encoded.
    Encode(String),
    /// A custom handler's own error.
    Handler(Box<dyn std::error::Error + Send + Sync>),
    /// Pushing is refused in multiprocess mode: one process's values are not the job's.
    #[cfg(feature = "multiprocess")]
    MultiProcess(crate::multiprocess::MultiProcessError),
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Status { status, reason, body } => {
                write!(f, "error talking to pushgateway: {status} {reason}")?;
                if !body.is_empty() {
                    write!(f, ": {}", body.trim_end())?;
                }
                Ok(())
            }
            PushError::Timeout(d) => write!(f, "pushgateway request timed out after {d:?}"),
            PushError::Io(e) => write!(f, "error talking to pushgateway: {e}"),
            PushError::InvalidUrl(u) => write!(f, "invalid pushgateway url: {:?}", redact(u)),
            PushError::Encode(e) => write!(f, "cannot encode metrics for the pushgateway: {e}"),
            PushError::Handler(e) => write!(f, "pushgateway handler failed: {e}"),
            #[cfg(feature = "multiprocess")]
            PushError::MultiProcess(e) => write!(f, "cannot push: {e}"),
        }
    }
}

impl fmt::Debug for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Status { status, reason, body } => f
                .debug_struct("Status")
                .field("status", status)
                .field("reason", reason)
                .field("body", body)
                .finish(),
            PushError::Timeout(d) => f.debug_tuple("Timeout").field(d).finish(),
            PushError::Io(e) => f.debug_tuple("Io").field(e).finish(),
            // A handler may have put a URL with credentials here.
            PushError::InvalidUrl(u) => f.debug_tuple("InvalidUrl").field(&redact(u)).finish(),
            PushError::Encode(e) => f.debug_tuple("Encode").field(e).finish(),
            PushError::Handler(e) => f.debug_tuple("Handler").field(e).finish(),
            #[cfg(feature = "multiprocess")]
            PushError::MultiProcess(e) => f.debug_tuple("MultiProcess").field(e).finish(),
        }
    }
}

impl std::error::Error for PushError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PushError::Io(e) => Some(e),
            PushError::Handler(e) => Some(&**e),
            #[cfg(feature = "multiprocess")]
            PushError::MultiProcess(e) => Some(e),
            _ => None,
        }
    }
}

/// One request to the gateway, as handed to a [`Handler`]. `Debug` shows the URL without its
/// credentials and the headers without their values (an `Authorization` header is a secret).
#[derive(Clone)]
pub struct PushRequest<'a> {
    /// The full URL, e.g. `http://localhost:9091/metrics/job/my_job/a/9` (with the credentials
    /// of the gateway URL, if it had any).
    pub url: &'a str,
    /// The method.
    pub method: PushMethod,
    /// Abort when the request has not completed after this long; `None`: no timeout.
    pub timeout: Option<Duration>,
    /// Headers to send (`Content-Type`; handlers may add their own).
    pub headers: Vec<(String, String)>,
    /// The body (empty for DELETE).
    pub body: &'a [u8],
}

impl fmt::Debug for PushRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("PushRequest")
            .field("url", &redact(self.url))
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .field("headers", &header_names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Performs a [`PushRequest`]: Python's `handler(url, method, timeout, headers, data)`.
///
/// Any `Fn(PushRequest) -> Result<(), PushError>` is a handler, so a custom one can wrap
/// [`DefaultHandler`]:
///
/// ```
/// use promstack::push::{DefaultHandler, Handler, PushRequest};
/// let with_header = |mut req: PushRequest<'_>| {
///     req.headers.push(("X-Test-Header".into(), "foobar".into()));
///     DefaultHandler.handle(req)
/// };
/// # let _ = &with_header as &dyn Handler;
/// ```
pub trait Handler: Send + Sync {
    /// Sends the request; `Ok` when the gateway answered with a status below 400.
    fn handle(&self, request: PushRequest<'_>) -> Result<(), PushError>;
}

impl<F: Fn(PushRequest<'_>) -> Result<(), PushError> + Send + Sync> Handler for F {
    fn handle(&self, request: PushRequest<'_>) -> Result<(), PushError> {
        self(request)
    }
}

/// Plain HTTP/1.1 on hyper's client, on a small single-threaded tokio runtime per request.
/// `https://` is refused with [`PushError::InvalidUrl`]: give a handler that speaks TLS.
/// Credentials in the URL (`http://user:password@host`, percent-encoded) are sent as
/// `Authorization: Basic`, unless the request already has an `Authorization` header.
/// Of an error response, at most [`MAX_ERROR_BODY`] bytes are read.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultHandler;

impl Handler for DefaultHandler {
    fn handle(&self, req: PushRequest<'_>) -> Result<(), PushError> {
        let target = split_url(req.url)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(PushError::Io)?;
        let exchange = exchange(&target, &req);
        match req.timeout {
            None => runtime.block_on(exchange),
            Some(t) => runtime.block_on(async {
                tokio::time::timeout(t, exchange).await.unwrap_or(Err(PushError::Timeout(t)))
            }),
        }
        // Dropping the runtime here closes the connection; a name lookup still running on the
        // blocking pool is abandoned, not waited for.
    }
}

/// The gateway URL split, or [`PushError::InvalidUrl`] (credentials redacted).
fn split_url(url: &str) -> Result<Target, PushError> {
    http_client::split_url(url).ok_or_else(|| PushError::InvalidUrl(redact(url).into_owned()))
}

async fn exchange(target: &Target, req: &PushRequest<'_>) -> Result<(), PushError> {
    let body = bytes::Bytes::copy_from_slice(req.body);
    let response = http_client::exchange(target, req.method.as_str(), &req.headers, body, MAX_ERROR_BODY)
        .await
        .map_err(|e| match e {
            ExchangeError::Io(e) => PushError::Io(e),
            ExchangeError::Request(e) => PushError::InvalidUrl(format!("{}: {e}", redact(req.url))),
        })?;
    let status = response.status;
    if status.as_u16() < 400 {
        return Ok(());
    }
    Err(PushError::Status {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_owned(),
        body: String::from_utf8_lossy(&response.error_body).into_owned(),
    })
}

/// Adds `Authorization: Basic base64(user:password)`, then sends with [`DefaultHandler`].
///
/// ```
/// use promstack::push::{BasicAuthHandler, Pusher};
/// let pusher = Pusher::new("localhost:9091", "job").handler(BasicAuthHandler::new("foo", "bar"));
/// # let _ = pusher;
/// ```
#[derive(Clone)]
pub struct BasicAuthHandler {
    header: String,
}

impl BasicAuthHandler {
    /// Credentials `username` / `password`.
    pub fn new(username: &str, password: &str) -> Self {
        BasicAuthHandler { header: http_client::basic_authorization(username, password) }
    }
}

impl fmt::Debug for BasicAuthHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicAuthHandler { .. }")
    }
}

impl Handler for BasicAuthHandler {
    fn handle(&self, mut req: PushRequest<'_>) -> Result<(), PushError> {
        req.headers.push(("Authorization".to_owned(), self.header.clone()));
        DefaultHandler.handle(req)
    }
}

/// Escapes one grouping key pair (or the job) for the URL: `(key, value)` path segments that
/// the Pushgateway decodes back to exactly `value`.
///
/// ```
/// use promstack::push::escape_grouping_key;
/// assert_eq!(escape_grouping_key("a", "9"), ("a".to_string(), "9".to_string()));
/// assert_eq!(escape_grouping_key("a", ""), ("a@base64".to_string(), "=".to_string()));
/// assert_eq!(escape_grouping_key("b", "a/ z"), ("b@base64".to_string(), "YS8geg==".to_string()));
/// assert_eq!(escape_grouping_key("c", "a b+c&ä"), ("c".to_string(), "a%20b%2Bc%26%C3%A4".to_string()));
/// assert_eq!(escape_grouping_key("d", ".."), ("d@base64".to_string(), "Li4=".to_string()));
/// ```
pub fn escape_grouping_key(key: &str, value: &str) -> (String, String) {
    if value.is_empty() {
        (format!("{key}@base64"), "=".to_owned())
    } else if value.contains('/') || value == "." || value == ".." {
        // The gateway splits the decoded path at `/`, and `.`/`..` segments are resolved away.
        (format!("{key}@base64"), base64::engine::general_purpose::URL_SAFE.encode(value))
    } else {
        (key.to_owned(), encode_segment(value))
    }
}

/// Percent-encodes a path segment: letters, digits and `_.-~` stay, every other byte of the
/// UTF-8 is `%XX` (a space too: in a path `+` is a literal plus, unlike in a query string).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The gateway URL for `job` and `grouping_key`: scheme added when missing, pairs sorted by key.
///
/// ```
/// use promstack::push::gateway_url;
/// assert_eq!(
///     gateway_url("localhost:9091", "my/job", &[("b", "a/ z"), ("a", "9")]),
///     "http://localhost:9091/metrics/job@base64/bXkvam9i/a/9/b@base64/YS8geg=="
/// );
/// ```
pub fn gateway_url(gateway: &str, job: &str, grouping_key: &[(&str, &str)]) -> String {
    let gateway = gateway.trim_end_matches('/');
    let mut url = if gateway.starts_with("http://") || gateway.starts_with("https://") {
        gateway.to_owned()
    } else {
        format!("http://{gateway}")
    };
    let (k, v) = escape_grouping_key("job", job);
    url.push_str(&format!("/metrics/{k}/{v}"));
    let mut pairs = grouping_key.to_vec();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in pairs {
        let (k, v) = escape_grouping_key(k, v);
        url.push_str(&format!("/{k}/{v}"));
    }
    url
}

/// A configured push target: gateway, job, grouping key, timeout and handler. `Debug` shows the
/// gateway without its credentials.
///
/// ```no_run
/// use std::time::Duration;
/// use promstack::push::{instance_ip_grouping_key, Pusher};
/// # static REGISTRY: promstack::Counter = promstack::Counter::new("x", "x");
/// let pusher = Pusher::new("pushgateway.example:9091", "nightly_backup")
///     .grouping_keys(instance_ip_grouping_key().unwrap())
///     .timeout(Some(Duration::from_secs(5)));
/// pusher.pushadd(&REGISTRY).unwrap();
/// pusher.delete().unwrap();
/// ```
pub struct Pusher {
    gateway: String,
    job: String,
    grouping_key: Vec<(String, String)>,
    timeout: Option<Duration>,
    handler: Box<dyn Handler>,
}

impl fmt::Debug for Pusher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pusher")
            .field("gateway", &redact(&self.gateway))
            .field("job", &self.job)
            .field("grouping_key", &self.grouping_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Pusher {
    /// Pushes to `gateway` (`host:port` or `http://host:port`) as `job`; no grouping key, 30 s
    /// timeout, [`DefaultHandler`].
    pub fn new(gateway: &str, job: &str) -> Self {
        Pusher {
            gateway: gateway.to_owned(),
            job: job.to_owned(),
            grouping_key: Vec::new(),
            timeout: Some(DEFAULT_TIMEOUT),
            handler: Box::new(DefaultHandler),
        }
    }

    /// Adds a grouping key pair.
    pub fn grouping_key(mut self, key: &str, value: &str) -> Self {
        self.grouping_key.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Adds grouping key pairs.
    pub fn grouping_keys<K: Into<String>, V: Into<String>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.grouping_key.extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// How long a request may take (`None`: no limit). Default 30 s.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends requests through `handler`.
    pub fn handler(mut self, handler: impl Handler + 'static) -> Self {
        self.handler = Box::new(handler);
        self
    }

    /// The URL requests go to (with the gateway's credentials, if it has any).
    pub fn url(&self) -> String {
        let pairs: Vec<(&str, &str)> =
            self.grouping_key.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        gateway_url(&self.gateway, &self.job, &pairs)
    }

    /// PUT: replaces every metric of this job and grouping key with `collector`'s.
    pub fn push(&self, collector: &dyn Collector) -> Result<(), PushError> {
        self.send(PushMethod::Put, Some(collector))
    }

    /// POST: replaces the metrics with the same names as `collector`'s.
    pub fn pushadd(&self, collector: &dyn Collector) -> Result<(), PushError> {
        self.send(PushMethod::Post, Some(collector))
    }

    /// DELETE: removes every metric of this job and grouping key.
    pub fn delete(&self) -> Result<(), PushError> {
        self.send(PushMethod::Delete, None)
    }

    fn send(&self, method: PushMethod, collector: Option<&dyn Collector>) -> Result<(), PushError> {
        let body = match collector {
            Some(c) => {
                // Python 0.8.0 documents push as unsupported in multiprocess mode; we refuse it.
                #[cfg(feature = "multiprocess")]
                crate::multiprocess::check_supported(crate::multiprocess::Feature::Pushgateway)
                    .map_err(PushError::MultiProcess)?;
                let mut enc = Encoder::new(Format::Text, Vec::new());
                enc.encode(c).map_err(|e| PushError::Encode(e.to_string()))?;
                enc.finish().map_err(|e| PushError::Encode(e.to_string()))?
            }
            None => Vec::new(),
        };
        let url = self.url();
        self.handler.handle(PushRequest {
            url: &url,
            method,
            timeout: self.timeout,
            headers: vec![("Content-Type".to_owned(), TEXT_CONTENT_TYPE.to_owned())],
            body: &body,
        })
    }
}

/// Pushes `collector` with PUT (Python's `push_to_gateway`), default timeout and handler.
pub fn push_to_gateway(
    gateway: &str,
    job: &str,
    collector: &dyn Collector,
    grouping_key: &[(&str, &str)],
) -> Result<(), PushError> {
    Pusher::new(gateway, job).grouping_keys(grouping_key.iter().copied()).push(collector)
}

/// Pushes `collector` with POST (Python's `pushadd_to_gateway`), default timeout and handler.
pub fn pushadd_to_gateway(
    gateway: &str,
    job: &str,
    collector: &dyn Collector,
    grouping_key: &[(&str, &str)],
) -> Result<(), PushError> {
    Pusher::new(gateway, job).grouping_keys(grouping_key.iter().copied()).pushadd(collector)
}

/// Deletes the job's metrics with DELETE (Python's `delete_from_gateway`).
pub fn delete_from_gateway(gateway: &str, job: &str, grouping_key: &[(&str, &str)]) -> Result<(), PushError> {
    Pusher::new(gateway, job).grouping_keys(grouping_key.iter().copied()).delete()
}

/// `[("instance", <IP address of this host>)]`: the local address a UDP socket would use to
/// reach `localhost` (Python 0.8.0's method; no packet is sent).
pub fn instance_ip_grouping_key() -> std::io::Result<[(String, String); 1]> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0")?;
    socket.connect("localhost:9")?;
    Ok([("instance".to_owned(), socket.local_addr()?.ip().to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted() {
        let err = split_url("http://user:s3cret@h:x/").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(!format!("{err:?}").contains("s3cret"), "{err:?}");
        let err = PushError::InvalidUrl("https://user:s3cret@h/".into());
        assert_eq!(err.to_string(), "invalid pushgateway url: \"https://***@h/\"");
        assert_eq!(format!("{err:?}"), "InvalidUrl(\"https://***@h/\")");
    }

    #[test]
    fn segments() {
        assert_eq!(encode_segment("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
        assert_eq!(encode_segment("9"), "9");
    }
}
