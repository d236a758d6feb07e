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
//! `<key>@base64/=`, one containing `/` becomes `<key>@base64/<URL-safe base64>`, and any other
//! value is form-quoted (Python's `quote_plus`); the job follows the same rule. The body is text
//! 0.0.4. The request goes through a [`Handler`]: [`DefaultHandler`] (plain HTTP, the timeout
//! covers connecting, sending and the response), [`BasicAuthHandler`], or your own (TLS, other
//! auth, a test double).

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
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

/// A push failed.
#[non_exhaustive]
#[derive(Debug)]
pub enum PushError {
    /// The gateway answered with a status >= 400.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Its reason phrase (`Bad Request`, ...).
        reason: String,
        /// The response body (the gateway's explanation), cut to 4 KiB.
        body: String,
    },
    /// The request did not complete within the timeout.
    Timeout(Duration),
    /// Connecting, sending or receiving failed.
    Io(std::io::Error),
    /// The gateway URL cannot be used (bad scheme, no host, bad port).
    InvalidUrl(String),
    /// The collector failed while the body was encoded.
    Encode(String),
    /// A custom handler's own error.
    Handler(Box<dyn std::error::Error + Send + Sync>),
    /// Pushing is refused in multiprocess mode: one process's values are not the job's.
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
            PushError::InvalidUrl(u) => write!(f, "invalid pushgateway url: {u:?}"),
            PushError::Encode(e) => write!(f, "cannot encode metrics for the pushgateway: {e}"),
            PushError::Handler(e) => write!(f, "pushgateway handler failed: {e}"),
            PushError::MultiProcess(e) => write!(f, "cannot push: {e}"),
        }
    }
}

impl std::error::Error for PushError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PushError::Io(e) => Some(e),
            PushError::Handler(e) => Some(&**e),
            PushError::MultiProcess(e) => Some(e),
            _ => None,
        }
    }
}

/// One request to the gateway, as handed to a [`Handler`].
#[derive(Debug, Clone)]
pub struct PushRequest<'a> {
    /// The full URL, e.g. `http://localhost:9091/metrics/job/my_job/a/9`.
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
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultHandler;

impl Handler for DefaultHandler {
    fn handle(&self, req: PushRequest<'_>) -> Result<(), PushError> {
        let (host, port, path) = split_url(req.url)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(PushError::Io)?;
        let exchange = exchange(&host, port, &path, &req);
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

/// Splits `http://host[:port]/path` into host (brackets removed), port and path.
fn split_url(url: &str) -> Result<(String, u16, String), PushError> {
    let bad = || PushError::InvalidUrl(url.to_owned());
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // Credentials in the URL are not supported; use BasicAuthHandler.
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => 80,
            None => return Err(bad()),
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| bad())?),
            None => (authority.to_owned(), 80),
        }
    };
    Ok((host, port, path.to_owned()))
}

async fn exchange(host: &str, port: u16, path: &str, req: &PushRequest<'_>) -> Result<(), PushError> {
    let stream = tokio::net::TcpStream::connect((host, port)).await.map_err(PushError::Io)?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(hyper_to_io)?;
    let driver = tokio::spawn(conn);
    let host_header = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut builder = http::Request::builder()
        .method(req.method.as_str())
        .uri(path)
        .header(http::header::HOST, host_header);
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = builder
        .body(Full::new(bytes::Bytes::copy_from_slice(req.body)))
        .map_err(|e| PushError::InvalidUrl(format!("{}: {e}", req.url)))?;
    let response = sender.send_request(request).await.map_err(hyper_to_io)?;
    let status = response.status();
    let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    driver.abort();
    if status.as_u16() >= 400 {
        let cut = &body[..body.len().min(4096)];
        return Err(PushError::Status {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            body: String::from_utf8_lossy(cut).into_owned(),
        });
    }
    Ok(())
}

fn hyper_to_io(e: hyper::Error) -> PushError {
    PushError::Io(std::io::Error::other(e))
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
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        BasicAuthHandler { header: format!("Basic {token}") }
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

/// Escapes one grouping key pair (or the job) for the URL: `(key, value)` path segments.
///
/// ```
/// use promstack::push::escape_grouping_key;
/// assert_eq!(escape_grouping_key("a", "9"), ("a".to_string(), "9".to_string()));
/// assert_eq!(escape_grouping_key("a", ""), ("a@base64".to_string(), "=".to_string()));
/// assert_eq!(escape_grouping_key("b", "a/ z"), ("b@base64".to_string(), "YS8geg==".to_string()));
/// assert_eq!(escape_grouping_key("c", "a b&c"), ("c".to_string(), "a+b%26c".to_string()));
/// ```
pub fn escape_grouping_key(key: &str, value: &str) -> (String, String) {
    if value.is_empty() {
        (format!("{key}@base64"), "=".to_owned())
    } else if value.contains('/') {
        (format!("{key}@base64"), base64::engine::general_purpose::URL_SAFE.encode(value))
    } else {
        (key.to_owned(), quote_plus(value))
    }
}

/// Python's `urllib.parse.quote_plus`: letters, digits and `_.-~` stay, space becomes `+`,
/// every other byte of the UTF-8 `%XX`.
fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
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

/// A configured push target: gateway, job, grouping key, timeout and handler.
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

    /// The URL requests go to.
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
    fn urls() {
        assert_eq!(split_url("http://h:1/p/q").unwrap(), ("h".into(), 1, "/p/q".into()));
        assert_eq!(split_url("http://h").unwrap(), ("h".into(), 80, "/".into()));
        assert_eq!(split_url("http://[::1]:9091/m").unwrap(), ("::1".into(), 9091, "/m".into()));
        assert!(split_url("https://h/").is_err());
        assert!(split_url("http://h:x/").is_err());
        assert!(split_url("http://u:p@h/").is_err());
    }

    #[test]
    fn quoting_matches_python_quote_plus() {
        // urllib.parse.quote_plus("a b&c=d/é~") == 'a+b%26c%3Dd%2F%C3%A9~'
        assert_eq!(quote_plus("a b&c=d/é~"), "a+b%26c%3Dd%2F%C3%A9~");
        assert_eq!(quote_plus("9"), "9");
    }
}
