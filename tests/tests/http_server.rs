//! The HTTP exposition server, in process: content negotiation, `name[]`, gzip, HEAD, status
//! codes for everything else, failing and panicking collectors, header read timeout.

mod http_common;

use http_common::{get, raw, Conn};
use promstack::{CollectError, Collector, Counter, Gauge, HttpServer, Sink};
use std::io::Read;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

static REQUESTS: Counter = Counter::new("http_requests_total", "Requests served.");
static TEMP: Gauge = Gauge::new("temperature_celsius", "Temperature.");

/// Behaves normally, fails or panics, as the test says.
struct Flaky {
    mode: AtomicU8,
}

impl Collector for Flaky {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        match self.mode.load(Ordering::SeqCst) {
            1 => Err(CollectError::Failed("backend unreachable")),
            2 => panic!("collector bug"),
            _ => {
                REQUESTS.collect(sink)?;
                TEMP.collect(sink)
            }
        }
    }
}

fn start(flaky: &Arc<Flaky>) -> promstack::HttpServerHandle {
    HttpServer::new(flaky.clone())
        .header_read_timeout(Duration::from_millis(500))
        .start("127.0.0.1:0")
        .unwrap()
}

fn flaky() -> Arc<Flaky> {
    Arc::new(Flaky { mode: AtomicU8::new(0) })
}

const TEXT: &str = "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total 0.0\n\
# HELP temperature_celsius Temperature.\n# TYPE temperature_celsius gauge\ntemperature_celsius 0.0\n";

#[test]
fn text_openmetrics_filter_gzip_head() {
    let f = flaky();
    let server = start(&f);
    let addr = server.local_addr();

    let r = get(addr, "/metrics", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    assert_eq!(r.text(), TEXT);

    // Python 0.8.0 asks with version=0.0.1, current Prometheus with 1.0.0: both get OpenMetrics.
    for accept in [
        "application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4",
    ] {
        let r = get(addr, "/metrics", &format!("Accept: {accept}\r\n"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/openmetrics-text; version=1.0.0; charset=utf-8"));
        let body = r.text();
        assert!(body.starts_with("# HELP http_requests Requests served.\n# TYPE http_requests counter\nhttp_requests_total 0.0\n"), "{body}");
        assert!(body.ends_with("# EOF\n"));
    }

    // name[] keeps the families that have a sample of that name.
    let r = get(addr, "/metrics?name[]=temperature_celsius", "");
    assert_eq!(r.text(), "# HELP temperature_celsius Temperature.\n# TYPE temperature_celsius gauge\ntemperature_celsius 0.0\n");
    let r = get(addr, "/metrics?name%5B%5D=http_requests_total&name[]=nope", "");
    assert_eq!(r.text(), "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total 0.0\n");
    let r = get(addr, "/metrics?name[]=http_requests_total&name[]=temperature_celsius", "");
    assert_eq!(r.text(), TEXT);
    assert_eq!(get(addr, "/metrics?name[]=nope", "").text(), "");

    // gzip on request, decoded equals the plain body.
    // Repeatedly, so pooled deflate states are reused, and in both formats.
    for (i, accept) in ["", "", "Accept: application/openmetrics-text\r\n", ""].iter().enumerate() {
        let r = get(addr, "/metrics", &format!("Accept-Encoding: gzip, deflate\r\n{accept}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        let mut plain = String::new();
        flate2::read::GzDecoder::new(&r.body[..]).read_to_string(&mut plain).unwrap();
        if accept.is_empty() {
            assert_eq!(plain, TEXT, "gzip scrape {i}");
        } else {
            assert!(plain.ends_with("# EOF\n"), "{plain}");
        }
    }
    assert_eq!(get(addr, "/metrics", "Accept-Encoding: gzip;q=0\r\n").header("content-encoding"), None);

    // HEAD: same headers, length of the GET body, no body.
    let mut c = Conn::open(addr);
    c.send(b"HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read_response(true).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(TEXT.len().to_string().as_str()));
    // The connection is still usable and carried no body bytes: the next answer parses.
    assert_eq!(c.get("/metrics", "").text(), TEXT);

    // Keep-alive: many requests on one connection.
    for _ in 0..5 {
        assert_eq!(c.get("/metrics", "").status, 200);
    }
    server.stop();
}

#[test]
fn status_codes() {
    let f = flaky();
    let server = start(&f);
    let addr = server.local_addr();

    assert_eq!(get(addr, "/", "").status, 404);
    assert_eq!(get(addr, "/metricsx", "").status, 404);
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = raw(
            addr,
            format!("{method} /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        )
        .unwrap();
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    // Malformed request lines and headers.
    for bad in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"\x01\x02\x03 / HTTP/1.1\r\n\r\n",
    ] {
        let r = raw(addr, bad).unwrap_or_else(|| panic!("no answer to {bad:?}"));
        assert_eq!(r.status, 400, "{bad:?}");
    }
    // Oversized headers.
    let big = format!("GET /metrics HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "a".repeat(64 * 1024));
    assert_eq!(raw(addr, big.as_bytes()).unwrap().status, 431);
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    assert_eq!(raw(addr, format!("GET /metrics HTTP/1.1\r\n{many}\r\n").as_bytes()).unwrap().status, 431);

    // The server is still fine.
    assert_eq!(get(addr, "/metrics", "").text(), TEXT);
    server.stop();
}

#[test]
fn failing_and_panicking_collectors_give_500_then_normal_service() {
    let f = flaky();
    let server = start(&f);
    let addr = server.local_addr();
    let mut keep = Conn::open(addr);
    f.mode.store(1, Ordering::SeqCst);
    let r = get(addr, "/metrics", "");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("backend unreachable"), "{}", r.text());
    f.mode.store(2, Ordering::SeqCst);
    let r = keep.get("/metrics", "Accept-Encoding: gzip\r\n");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("collector bug"), "{}", r.text());
    let r = get(addr, "/metrics", "Accept: application/openmetrics-text\r\n");
    assert_eq!(r.status, 500);
    f.mode.store(0, Ordering::SeqCst);
    assert_eq!(get(addr, "/metrics", "").text(), TEXT);
    assert_eq!(keep.get("/metrics", "").text(), TEXT);
    server.stop();
}

#[test]
fn header_read_timeout_closes_idle_and_slow_connections() {
    let f = flaky();
    let server = start(&f);
    let addr = server.local_addr();
    let t0 = std::time::Instant::now();
    let mut idle = Conn::open(addr);
    let mut slow = Conn::open(addr);
    slow.send(b"GET /met");
    assert!(idle.is_closed());
    assert!(slow.is_closed());
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(400) && waited < Duration::from_secs(5), "{waited:?}");
    // An idle keep-alive connection after a request is closed too.
    let mut c = Conn::open(addr);
    assert_eq!(c.get("/metrics", "").status, 200);
    assert!(c.is_closed());
    server.stop();
}

#[test]
fn stop_closes_the_port_and_connections() {
    let f = flaky();
    let server = start(&f);
    let addr = server.local_addr();
    let mut c = Conn::open(addr);
    assert_eq!(c.get("/metrics", "").status, 200);
    server.stop();
    assert!(c.is_closed());
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn custom_path_and_any_path() {
    let svc = promstack::MetricsService::new(Arc::new(&TEMP)).with_path("/internal/prom");
    let server = HttpServer::with_service(svc).start("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert_eq!(get(addr, "/internal/prom", "").status, 200);
    assert_eq!(get(addr, "/metrics", "").status, 404);
    server.stop();

    let svc = promstack::MetricsService::new(Arc::new(&TEMP)).any_path();
    let server = HttpServer::with_service(svc).start("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert_eq!(get(addr, "/", "").status, 200);
    assert_eq!(get(addr, "/anything?x=1", "").status, 200);
    server.stop();
}

/// Panics when collected; describes itself (one gauge family) without panicking, so it registers.
struct Broken;

impl Collector for Broken {
    fn collect(&self, _: &mut dyn Sink) -> Result<(), CollectError> {
        panic!("unrelated collector bug")
    }
    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&promstack::Desc::new("broken", "Broken.", promstack::MetricType::Gauge))
    }
}

/// Counts its collections.
struct Counting {
    collects: std::sync::atomic::AtomicUsize,
}

impl Collector for Counting {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.collects.fetch_add(1, Ordering::SeqCst);
        TEMP.collect(sink)
    }
    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        TEMP.describe(sink)
    }
}

// Issue 10, item 8: `name[]` collects only the collectors that claimed one of the names, so an
// unrelated collector that panics (or is slow) does not fail a filtered scrape.
#[test]
fn filtered_scrape_collects_only_the_named_collectors() {
    let registry = Arc::new(promstack::Registry::new());
    registry.register_static(&REQUESTS).unwrap();
    registry.register_owned(Broken).unwrap();
    let counting = registry.register_owned(Counting { collects: Default::default() }).unwrap();
    let server = HttpServer::new(registry.clone()).start("127.0.0.1:0").unwrap();
    let addr = server.local_addr();

    let only_requests = "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total 0.0\n";
    for accept in ["", "Accept: application/openmetrics-text\r\n", "Accept-Encoding: gzip\r\n"] {
        let r = get(addr, "/metrics?name[]=http_requests_total&name[]=nope", accept);
        assert_eq!(r.status, 200, "{accept:?}: {:?}", String::from_utf8_lossy(&r.body));
        if accept.is_empty() {
            assert_eq!(r.text(), only_requests);
        }
    }
    assert_eq!(counting.collects.load(Ordering::SeqCst), 0, "an unrelated collector was collected");
    let r = get(addr, "/metrics?name[]=temperature_celsius", "");
    assert_eq!(r.text(), "# HELP temperature_celsius Temperature.\n# TYPE temperature_celsius gauge\ntemperature_celsius 0.0\n");
    assert_eq!(counting.collects.load(Ordering::SeqCst), 1);
    // Asking for the broken collector's name, or for everything, still reports its panic.
    assert_eq!(get(addr, "/metrics?name[]=broken", "").status, 500);
    assert_eq!(get(addr, "/metrics", "").status, 500);
    server.stop();
}
