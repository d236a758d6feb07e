//! The plain HTTP/1 client the Pushgateway ([`crate::push`]) and remote write
//! ([`crate::remote_write`]) clients share: splitting `http://` URLs, credentials taken from the
//! URL, their redaction in messages, and one request on hyper's client with a bounded read of an
//! error response's body.

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// `url` with the user information of its authority (`user:password@`) replaced by `***@`.
pub(crate) fn redact(url: &str) -> std::borrow::Cow<'_, str> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_len = url[start..].find(['/', '?', '#']).unwrap_or(url.len() - start);
    match url[start..start + authority_len].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]).into(),
        None => url.into(),
    }
}

/// Where a URL points: host (brackets removed), port, path, and the `Authorization` value made
/// of its credentials.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
    pub(crate) authorization: Option<String>,
}

/// Splits `http://[user:password@]host[:port]/path`; `None` when the URL cannot be used
/// (other scheme, no host, bad port).
pub(crate) fn split_url(url: &str) -> Option<Target> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (authorization, authority) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (Some(basic_authorization(&percent_decode(user), &percent_decode(password))), host)
        }
        None => (None, authority),
    };
    if authority.is_empty() {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 80,
            None => return None,
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().ok()?),
            None => (authority.to_owned(), 80),
        }
    };
    Some(Target { host, port, path: path.to_owned(), authorization })
}

/// The `Authorization` value of basic auth: `Basic base64(user:password)`.
pub(crate) fn basic_authorization(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// Decodes `%XX` escapes (invalid ones are kept as they are; invalid UTF-8 is replaced).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = (b[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What came back: the status and, for a status >= 400, the start of the body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: http::StatusCode,
    pub(crate) error_body: Vec<u8>,
}

/// Why a request got no response.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    /// Connecting, sending or receiving failed.
    Io(std::io::Error),
    /// The request could not be built (a header hyper refuses).
    Request(http::Error),
}

/// Sends one request on a new connection and waits for the response head. The `Authorization`
/// of the URL's credentials is sent unless `headers` has one. Of the body of a response with a
/// status >= 400, at most `max_error_body` bytes are read (a success's body says nothing these
/// clients use): whatever answers cannot make the client buffer an endless body.
pub(crate) async fn exchange(
    target: &Target,
    method: &str,
    headers: &[(String, String)],
    body: bytes::Bytes,
    max_error_body: usize,
) -> Result<Response, ExchangeError> {
    let Target { host, port, path, authorization } = target;
    let io = |e: hyper::Error| ExchangeError::Io(std::io::Error::other(e));
    let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await.map_err(ExchangeError::Io)?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(io)?;
    let driver = tokio::spawn(conn);
    // Aborting the driver when this future ends (or is dropped by a timeout) closes the connection.
    struct AbortOnDrop(tokio::task::JoinHandle<Result<(), hyper::Error>>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let _driver = AbortOnDrop(driver);
    let host_header = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut builder =
        http::Request::builder().method(method).uri(path.as_str()).header(http::header::HOST, host_header);
    for (k, v) in headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(auth) = authorization {
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization")) {
            builder = builder.header(http::header::AUTHORIZATION, auth.as_str());
        }
    }
    let request = builder.body(Full::new(body)).map_err(ExchangeError::Request)?;
    let response = sender.send_request(request).await.map_err(io)?;
    let status = response.status();
    let mut error_body = Vec::new();
    if status.as_u16() >= 400 {
        let mut body = response.into_body();
        while error_body.len() < max_error_body {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        let room = max_error_body - error_body.len();
                        error_body.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                // A body cut short still explains something: keep what arrived.
                Some(Err(_)) | None => break,
            }
        }
    }
    Ok(Response { status, error_body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16, path: &str, authorization: Option<&str>) -> Target {
        Target { host: host.into(), port, path: path.into(), authorization: authorization.map(Into::into) }
    }

    #[test]
    fn urls() {
        assert_eq!(split_url("http://h:1/p/q").unwrap(), target("h", 1, "/p/q", None));
        assert_eq!(split_url("http://h").unwrap(), target("h", 80, "/", None));
        assert_eq!(split_url("http://[::1]:9091/m").unwrap(), target("::1", 9091, "/m", None));
        assert!(split_url("https://h/").is_none());
        assert!(split_url("http://h:x/").is_none());
        // base64("u:p") and base64("u@x:p:q")
        assert_eq!(split_url("http://u:p@h/").unwrap(), target("h", 80, "/", Some("Basic dTpw")));
        assert_eq!(
            split_url("http://u%40x:p:q@h:2/").unwrap(),
            target("h", 2, "/", Some("Basic dUB4OnA6cQ=="))
        );
        assert!(split_url("http://u:p@/").is_none());
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            redact("http://u:p@h:1/metrics/job/x@base64/eA=="),
            "http://***@h:1/metrics/job/x@base64/eA=="
        );
        assert_eq!(redact("u:p@h:1"), "***@h:1");
        assert_eq!(redact("http://h:1/a@b"), "http://h:1/a@b");
        assert_eq!(redact("http://a@b@h"), "http://***@h");
    }

    #[test]
    fn percent_escapes() {
        assert_eq!(percent_decode("a%20b%zz%4"), "a b%zz%4");
    }
}
