//! The Pushgateway client. URL and header vectors are ported from Python 0.8.0's
//! `tests/test_exposition.py::TestPushGateway`; the semantics of push / pushadd / delete, error
//! statuses and basic auth are checked against a real `prometheus-pushgateway`.

mod http_common;

use promstack::push::{
    delete_from_gateway, instance_ip_grouping_key, push_to_gateway, pushadd_to_gateway, BasicAuthHandler,
    DefaultHandler, Handler, PushError, PushMethod, PushRequest, Pusher,
};
use promstack::{Collector, Counter, Gauge};
use promstack_tests::{free_port, peer, wait_for_port, PeerProcess, TempDir};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static G: Gauge = Gauge::new("g", "help");
const G_TEXT: &[u8] = b"# HELP g help\n# TYPE g gauge\ng 0.0\n";
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a handler was asked to send.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    url: String,
    method: PushMethod,
    timeout: Option<Duration>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A handler that records instead of sending.
fn recorder() -> (Arc<Mutex<Vec<Seen>>>, impl Handler + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let handler = move |r: PushRequest<'_>| {
        s.lock().unwrap().push(Seen {
            url: r.url.to_owned(),
            method: r.method,
            timeout: r.timeout,
            headers: r.headers.clone(),
            body: r.body.to_vec(),
        });
        Ok(())
    };
    (seen, handler)
}

/// (python case, job, grouping key, method, expected path)
type Vector = (&'static str, &'static str, &'static [(&'static str, &'static str)], PushMethod, &'static str);
const VECTORS: &[Vector] = &[
    ("test_push", "my_job", &[], PushMethod::Put, "/metrics/job/my_job"),
    ("test_push_with_groupingkey", "my_job", &[("a", "9")], PushMethod::Put, "/metrics/job/my_job/a/9"),
    (
        "test_push_with_groupingkey_empty_label",
        "my_job",
        &[("a", "")],
        PushMethod::Put,
        "/metrics/job/my_job/a@base64/=",
    ),
    (
        "test_push_with_complex_groupingkey",
        "my_job",
        &[("b", "a/ z"), ("a", "9")],
        PushMethod::Put,
        "/metrics/job/my_job/a/9/b@base64/YS8geg==",
    ),
    ("test_push_with_complex_job", "my/job", &[], PushMethod::Put, "/metrics/job@base64/bXkvam9i"),
    ("test_pushadd", "my_job", &[], PushMethod::Post, "/metrics/job/my_job"),
    ("test_pushadd_with_groupingkey", "my_job", &[("a", "9")], PushMethod::Post, "/metrics/job/my_job/a/9"),
    ("test_delete", "my_job", &[], PushMethod::Delete, "/metrics/job/my_job"),
    ("test_delete_with_groupingkey", "my_job", &[("a", "9")], PushMethod::Delete, "/metrics/job/my_job/a/9"),
];

#[test]
fn python_vectors_through_a_recording_handler() {
    for &(case, job, key, method, path) in VECTORS {
        let (seen, handler) = recorder();
        let pusher =
            Pusher::new("http://localhost:9091", job).grouping_keys(key.iter().copied()).handler(handler);
        match method {
            PushMethod::Put => pusher.push(&G).unwrap(),
            PushMethod::Post => pusher.pushadd(&G).unwrap(),
            PushMethod::Delete => pusher.delete().unwrap(),
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{case}");
        let s = &seen[0];
        assert_eq!(s.url, format!("http://localhost:9091{path}"), "{case}");
        assert_eq!(s.method, method, "{case}");
        assert_eq!(s.timeout, Some(Duration::from_secs(30)), "{case}: default timeout");
        assert_eq!(s.headers, [("Content-Type".to_owned(), CONTENT_TYPE.to_owned())], "{case}");
        let body: &[u8] = if method == PushMethod::Delete { b"" } else { G_TEXT };
        assert_eq!(s.body, body, "{case}");
    }
    // test_push_schemeless_url
    let (seen, handler) = recorder();
    Pusher::new("localhost:9091", "my_job").handler(handler).push(&G).unwrap();
    assert_eq!(seen.lock().unwrap()[0].url, "http://localhost:9091/metrics/job/my_job");
    // Other values are percent-encoded as path segments (Python's quote_plus would write the
    // space as `+`, which the gateway stores as a `+`).
    let (seen, handler) = recorder();
    Pusher::new("h", "my job").grouping_key("k", "a&b=ü").handler(handler).delete().unwrap();
    assert_eq!(seen.lock().unwrap()[0].url, "http://h/metrics/job/my%20job/k/a%26b%3D%C3%BC");
}

/// Accepts one connection, records the raw request, answers `status`.
fn capture_server(status: &'static str) -> (u16, std::thread::JoinHandle<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let mut r = BufReader::new(s);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let len = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 9\r\nConnection: close\r\n\r\nsome text");
        r.get_mut().write_all(answer.as_bytes()).unwrap();
        (head, body)
    });
    (port, t)
}

#[test]
fn default_handler_on_the_wire() {
    // test_push_with_handler: a custom handler adding a header, then the default one.
    let (port, t) = capture_server("201 Created");
    let handler = |mut r: PushRequest<'_>| {
        r.headers.push(("X-Test-Header".to_owned(), "foobar".to_owned()));
        DefaultHandler.handle(r)
    };
    Pusher::new(&format!("127.0.0.1:{port}"), "my_job").handler(handler).push(&G).unwrap();
    let (head, body) = t.join().unwrap();
    assert!(head.starts_with("PUT /metrics/job/my_job HTTP/1.1\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains(&format!("content-type: {CONTENT_TYPE}\r\n")), "{head}");
    assert!(lower.contains("x-test-header: foobar\r\n"), "{head}");
    assert!(lower.contains(&format!("host: 127.0.0.1:{port}\r\n")), "{head}");
    assert_eq!(body, G_TEXT);

    // test_push_with_basic_auth_handler
    let (port, t) = capture_server("200 OK");
    Pusher::new(&format!("http://127.0.0.1:{port}"), "my_job_with_basic_auth")
        .handler(BasicAuthHandler::new("foo", "bar"))
        .pushadd(&G)
        .unwrap();
    let (head, _) = t.join().unwrap();
    assert!(head.starts_with("POST /metrics/job/my_job_with_basic_auth HTTP/1.1\r\n"), "{head}");
    assert!(head.to_ascii_lowercase().contains("authorization: basic zm9vomjhcg==\r\n"), "{head}");

    // Delete sends no body.
    let (port, t) = capture_server("202 Accepted");
    delete_from_gateway(&format!("127.0.0.1:{port}"), "my_job", &[("a", "9")]).unwrap();
    let (head, body) = t.join().unwrap();
    assert!(head.starts_with("DELETE /metrics/job/my_job/a/9 HTTP/1.1\r\n"), "{head}");
    assert!(body.is_empty());

    // A status >= 400 is an error with status, reason and body.
    let (port, t) = capture_server("500 Internal Server Error");
    let err = push_to_gateway(&format!("127.0.0.1:{port}"), "my_job", &G, &[]).unwrap_err();
    t.join().unwrap();
    match &err {
        PushError::Status { status, reason, body } => {
            assert_eq!(
                (*status, reason.as_str(), body.as_str()),
                (500, "Internal Server Error", "some text")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.to_string(), "error talking to pushgateway: 500 Internal Server Error: some text");
}

#[test]
fn unreachable_and_slow_gateways_fail_within_the_timeout() {
    // Nothing listens: refused at once.
    let port = free_port();
    let t = Instant::now();
    let err = Pusher::new(&format!("127.0.0.1:{port}"), "j")
        .timeout(Some(Duration::from_secs(5)))
        .push(&G)
        .unwrap_err();
    assert!(matches!(err, PushError::Io(_)), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2));

    // Accepts and never answers: the timeout fires.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = Instant::now();
    let err = Pusher::new(&format!("127.0.0.1:{port}"), "j")
        .timeout(Some(Duration::from_millis(300)))
        .push(&G)
        .unwrap_err();
    let took = t.elapsed();
    assert!(matches!(err, PushError::Timeout(_)), "{err:?}");
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(2), "{took:?}");
    drop(listener);

    // https needs a handler that speaks TLS.
    let err = Pusher::new("https://localhost:1", "j").push(&G).unwrap_err();
    assert!(matches!(err, PushError::InvalidUrl(_)), "{err:?}");
}

#[test]
fn instance_ip() {
    // Python: test_instance_ip_grouping_key.
    let [(k, v)] = instance_ip_grouping_key().unwrap();
    assert_eq!(k, "instance");
    assert!(!v.is_empty());
    assert!(v.parse::<std::net::IpAddr>().is_ok(), "{v}");
}

/// A running Pushgateway on a free port.
struct Gateway {
    _process: PeerProcess,
    _dir: TempDir,
    addr: String,
}

fn gateway(web_config: Option<&str>) -> Option<Gateway> {
    let bin = peer("prometheus-pushgateway")?;
    let dir = TempDir::new("pushgateway");
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--persistence.file={}", dir.path().join("store").display()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("log")).unwrap());
    if let Some(config) = web_config {
        let path = dir.path().join("web.yml");
        std::fs::write(&path, config).unwrap();
        cmd.arg(format!("--web.config.file={}", path.display()));
    }
    let process = PeerProcess::spawn(&mut cmd);
    assert!(wait_for_port(port, 20), "pushgateway did not start");
    Some(Gateway { _process: process, _dir: dir, addr: format!("127.0.0.1:{port}") })
}

impl Gateway {
    /// The pushed series (job label present) from the gateway's `/metrics`, sorted, without
    /// its bookkeeping series.
    fn series(&self, auth: Option<&str>) -> Vec<String> {
        let addr = self.addr.parse().unwrap();
        let extra = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        let text = http_common::get(addr, "/metrics", &extra).text();
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains("job=\"") && !l.starts_with("push_"))
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }
}

static REQS: Counter = Counter::new("pg_requests_total", "Requests.");
static TEMP: Gauge = Gauge::new("pg_temperature", "Temperature.");

#[test]
fn push_pushadd_delete_against_a_real_pushgateway() {
    let Some(gw) = gateway(None) else { return };
    REQS.inc_by(3.0).unwrap();
    TEMP.set(21.5);
    let key = [("instance", "box/1"), ("zone", "")];

    // push (PUT) both.
    let both: [&dyn Collector; 2] = [&REQS, &TEMP];
    push_to_gateway(&gw.addr, "batch", &both, &key).unwrap();
    assert_eq!(
        gw.series(None),
        [
            "pg_requests_total{instance=\"box/1\",job=\"batch\",zone=\"\"} 3",
            "pg_temperature{instance=\"box/1\",job=\"batch\",zone=\"\"} 21.5",
        ]
    );
    // push (PUT) only the gauge: the counter of that group is gone.
    TEMP.set(22.0);
    push_to_gateway(&gw.addr, "batch", &TEMP, &key).unwrap();
    assert_eq!(gw.series(None), ["pg_temperature{instance=\"box/1\",job=\"batch\",zone=\"\"} 22"]);
    // pushadd (POST) the counter: both again.
    pushadd_to_gateway(&gw.addr, "batch", &REQS, &key).unwrap();
    assert_eq!(gw.series(None).len(), 2);
    // Another group (job name with a slash) lives beside it.
    push_to_gateway(&gw.addr, "other/job", &TEMP, &[]).unwrap();
    assert!(gw.series(None).contains(&"pg_temperature{instance=\"\",job=\"other/job\"} 22".to_owned()));
    // delete the first group.
    delete_from_gateway(&gw.addr, "batch", &key).unwrap();
    assert_eq!(gw.series(None), ["pg_temperature{instance=\"\",job=\"other/job\"} 22"]);

    // The gateway's own JSON API agrees.
    let api = http_common::get(gw.addr.parse().unwrap(), "/api/v1/metrics", "").text();
    assert!(api.contains("\"job\":\"other/job\""), "{api}");
    assert!(!api.contains("\"job\":\"batch\""), "{api}");

    // The gateway rejects inconsistent metrics (same name, another type): 400 with its reason.
    static CLASH: promstack::Summary = promstack::Summary::new("pg_temperature", "Now a summary.");
    let err = push_to_gateway(&gw.addr, "clash", &CLASH, &[]).unwrap_err();
    match &err {
        PushError::Status { status: 400, body, .. } => assert!(body.contains("inconsistent"), "{body}"),
        other => panic!("unexpected {other:?}"),
    }
    // An empty job name is refused too.
    let err = push_to_gateway(&gw.addr, "", &TEMP, &[]).unwrap_err();
    assert!(matches!(err, PushError::Status { status: 400, .. }), "{err:?}");
}

/// bcrypt (cost 4) of "s3cret", made once with Python's `crypt` module; the gateway only
/// verifies it, so no bcrypt implementation is needed here.
const S3CRET_BCRYPT: &str = "$2b$04$vallSZHcFod9vyTzecU1p.2fnpZHzakrqZL8VnsRPGr5Vz72m99XW";

#[test]
fn basic_auth_against_a_real_pushgateway() {
    let Some(gw) = gateway(Some(&format!("basic_auth_users:\n  pusher: {S3CRET_BCRYPT}\n"))) else { return };
    let err = push_to_gateway(&gw.addr, "secure", &TEMP, &[]).unwrap_err();
    assert!(matches!(err, PushError::Status { status: 401, .. }), "{err:?}");
    let err = Pusher::new(&gw.addr, "secure")
        .handler(BasicAuthHandler::new("pusher", "wrong"))
        .push(&TEMP)
        .unwrap_err();
    assert!(matches!(err, PushError::Status { status: 401, .. }), "{err:?}");
    Pusher::new(&gw.addr, "secure").handler(BasicAuthHandler::new("pusher", "s3cret")).push(&TEMP).unwrap();
    // base64("pusher:s3cret")
    let series = gw.series(Some("Basic cHVzaGVyOnMzY3JldA=="));
    assert_eq!(series.len(), 1, "{series:?}");
    assert!(series[0].starts_with("pg_temperature{instance=\"\",job=\"secure\"}"), "{series:?}");
}

/// Accepts one connection, reads the request head, answers `head` and then an endless body
/// until the client goes away (or 1 GiB); returns how many body bytes it managed to send.
fn endless_body_server(head: &'static str) -> (u16, std::thread::JoinHandle<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        while r.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
            line.clear();
        }
        let mut s = r.into_inner();
        s.write_all(head.as_bytes()).unwrap();
        let chunk = vec![b'x'; 1 << 16];
        let mut sent = 0u64;
        while sent < 1 << 30 {
            match s.write(&chunk) {
                Ok(n) => sent += n as u64,
                Err(_) => break,
            }
        }
        sent
    });
    (port, t)
}

#[test]
fn an_endless_response_body_is_not_read() {
    // An error status: the error keeps MAX_ERROR_BODY bytes of the body and reads no further.
    for head in [
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1099511627776\r\n\r\n",
        "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n",
        "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n",
    ] {
        let (port, t) = endless_body_server(head);
        let err = Pusher::new(&format!("127.0.0.1:{port}"), "j")
            .timeout(Some(Duration::from_secs(60)))
            .push(&G)
            .unwrap_err();
        match &err {
            PushError::Status { status: 500, body, .. } => {
                assert_eq!(body.len(), promstack::push::MAX_ERROR_BODY, "{head:?}");
                assert!(body.bytes().all(|b| b == b'x'), "{head:?}");
            }
            other => panic!("{head:?}: unexpected {other:?}"),
        }
        // The client stopped reading: the server could only fill the socket buffers.
        let sent = t.join().unwrap();
        assert!(sent < 256 << 20, "{head:?}: the client read {sent} bytes");
    }
    // A success: the body is not read at all.
    let (port, t) = endless_body_server("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n");
    Pusher::new(&format!("127.0.0.1:{port}"), "j").timeout(Some(Duration::from_secs(60))).push(&G).unwrap();
    let sent = t.join().unwrap();
    assert!(sent < 256 << 20, "the client read {sent} bytes");
}

#[test]
fn credentials_in_the_gateway_url_are_used_and_never_shown() {
    let secret = "s3cret";
    // Malformed URLs, a handler's view, the pusher itself.
    for url in ["http://pusher:s3cret@127.0.0.1:notaport", "https://pusher:s3cret@127.0.0.1:1"] {
        let err = Pusher::new(url, "j").push(&G).unwrap_err();
        assert!(matches!(err, PushError::InvalidUrl(_)), "{err:?}");
        for shown in [err.to_string(), format!("{err:?}"), format!("{:?}", Pusher::new(url, "j"))] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("***@127.0.0.1"), "{shown}");
        }
    }
    let seen = Arc::new(Mutex::new(String::new()));
    let s = seen.clone();
    let handler = move |r: PushRequest<'_>| {
        *s.lock().unwrap() = format!("{r:?}");
        Err(PushError::InvalidUrl(r.url.to_owned()))
    };
    let err = Pusher::new("http://pusher:s3cret@h:1", "j").handler(handler).push(&G).unwrap_err();
    let debug = seen.lock().unwrap().clone();
    assert!(debug.contains("http://***@h:1/metrics/job/j") && !debug.contains(secret), "{debug}");
    assert!(!err.to_string().contains(secret) && !format!("{err:?}").contains(secret), "{err:?}");

    // The credentials are basic auth, checked by a real gateway.
    let Some(gw) = gateway(Some(&format!("basic_auth_users:\n  pusher: {S3CRET_BCRYPT}\n"))) else { return };
    Pusher::new(&format!("http://pusher:s3cret@{}", gw.addr), "in_url").push(&TEMP).unwrap();
    let series = gw.series(Some("Basic cHVzaGVyOnMzY3JldA=="));
    assert!(series.iter().any(|l| l.contains("job=\"in_url\"")), "{series:?}");
    let err =
        Pusher::new(&format!("http://pusher:wrong{secret}@{}", gw.addr), "in_url").push(&TEMP).unwrap_err();
    assert!(matches!(err, PushError::Status { status: 401, .. }), "{err:?}");
    assert!(!err.to_string().contains(secret) && !format!("{err:?}").contains(secret), "{err:?}");
}

/// Undoes the text format's label value escaping.
fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn grouping_key_values_reach_a_real_pushgateway_unchanged() {
    let Some(gw) = gateway(None) else { return };
    let values = [
        "a b", "a+b", "a/b", "ä", "", ".", "..", "a%20b", "%", "a?b#c", "a&b=c;d", "~x-_.", " ", "+", "日本",
        "a\"b\\c", "a\nb", "@base64",
    ];
    for (i, value) in values.iter().enumerate() {
        let job = format!("enc{i} {value}");
        Pusher::new(&gw.addr, &job)
            .grouping_key("k", value)
            .push(&TEMP)
            .unwrap_or_else(|e| panic!("{value:?}: {e}"));
    }
    let text = http_common::get(gw.addr.parse().unwrap(), "/metrics", "").text();
    for (i, value) in values.iter().enumerate() {
        // The series of this push: `pg_temperature{instance="",job="enc<i> <value>",k="<value>"}`.
        let prefix = format!("pg_temperature{{instance=\"\",job=\"enc{i} ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{value:?}: no series with {prefix}\n{text}"));
        let labels = &line[line.find('{').unwrap() + 1..line.rfind('}').unwrap()];
        let (job, k) = labels.split_once("\",k=\"").unwrap_or_else(|| panic!("{value:?}: {line}"));
        let job = unescape(job.trim_start_matches("instance=\"\",job=\""));
        let k = unescape(k.strip_suffix('"').unwrap());
        assert_eq!((job.as_str(), k.as_str()), (format!("enc{i} {value}").as_str(), *value), "{line}");
    }
}
