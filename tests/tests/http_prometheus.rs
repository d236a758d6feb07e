//! Real peers against the HTTP exposition: a Prometheus 2.x server scrapes us (`up == 1`, a
//! value read back through its query API) and promtool lints what we serve in both formats.

mod http_common;

use promstack::{Collector, Counter, Gauge, Histogram, HttpServer, PlatformCollector, ProcessCollector};
use promstack_tests::{free_port, peer, promtool_check, wait_for_port, PeerProcess, TempDir};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

static JOBS: Counter = Counter::new("demo_jobs_total", "Jobs processed.");
static TEMP: Gauge = Gauge::new("demo_temperature_celsius", "Temperature.");
static LATENCY: Histogram<4> = Histogram::new("demo_latency_seconds", "Latency.", [0.01, 0.1, 1.0, 10.0]);

struct All {
    process: ProcessCollector,
}

impl Collector for All {
    fn collect(&self, sink: &mut dyn promstack::Sink) -> Result<(), promstack::CollectError> {
        JOBS.collect(sink)?;
        TEMP.collect(sink)?;
        LATENCY.collect(sink)?;
        self.process.collect(sink)?;
        PlatformCollector.collect(sink)
    }
}

fn serve() -> promstack::HttpServerHandle {
    HttpServer::new(Arc::new(All { process: ProcessCollector::new() })).start("127.0.0.1:0").unwrap()
}

/// Percent-encodes a query parameter value.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn prometheus_scrapes_us() {
    let Some(prometheus) = peer("prometheus") else { return };
    JOBS.inc_by(41.0).unwrap();
    JOBS.inc();
    TEMP.set(21.5);
    LATENCY.observe(0.05);
    let server = serve();
    let target = server.local_addr();

    let dir = TempDir::new("prometheus");
    let port = free_port();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: promstack\n    \
         static_configs:\n      - targets: ['{target}']\n"
    );
    std::fs::write(dir.path().join("prom.yml"), config).unwrap();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let _prom = PeerProcess::spawn(
        Command::new(prometheus)
            .arg(format!("--config.file={}", dir.path().join("prom.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log),
    );
    assert!(wait_for_port(port, 30), "prometheus did not start");
    let prom = std::net::SocketAddr::from(([127, 0, 0, 1], port));

    let query = |q: &str| -> String {
        let r = http_common::get(prom, &format!("/api/v1/query?query={}", urlencode(q)), "");
        r.text()
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut checks = [
        ("up{job=\"promstack\"}", "\"1\"]"),
        ("demo_jobs_total", "\"42\"]"),
        ("demo_temperature_celsius", "\"21.5\"]"),
        ("demo_latency_seconds_bucket{le=\"0.1\"}", "\"1\"]"),
        ("rust_info", "\"1\"]"),
        ("process_resident_memory_bytes > 0", "\"value\""),
    ]
    .map(|(q, want)| (q, want, false));
    while Instant::now() < deadline && checks.iter().any(|c| !c.2) {
        for c in checks.iter_mut().filter(|c| !c.2) {
            c.2 = query(c.0).contains(c.1);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    for (q, want, ok) in &checks {
        assert!(ok, "query {q} never answered with {want}; last answer: {}", query(q));
    }
    // Prometheus asks for OpenMetrics first; the target health must be up with no scrape error.
    let targets = http_common::get(prom, "/api/v1/targets", "").text();
    assert!(targets.contains("\"health\":\"up\""), "{targets}");
    assert!(targets.contains("\"lastError\":\"\""), "{targets}");
    server.stop();
}

#[test]
fn promtool_accepts_both_formats() {
    if peer("promtool").is_none() {
        return;
    }
    let server = serve();
    let addr = server.local_addr();
    let text = http_common::get(addr, "/metrics", "").text();
    let (ok, out) = promtool_check(&text).unwrap();
    assert!(ok && out.is_empty(), "promtool on text 0.0.4: {out}\n{text}");

    // promtool's linter reads text 0.0.4 only (it rejects the OpenMetrics `info` type and
    // reads `_created` as separate families), so OpenMetrics is checked by parsing: promtool
    // must parse it apart from `info`, and Python 0.8.0's strict OpenMetrics parser must accept
    // it whole. (Prometheus itself scrapes OpenMetrics in `prometheus_scrapes_us`.)
    let om_header = "Accept: application/openmetrics-text; version=1.0.0\r\n";
    let om = http_common::get(addr, "/metrics", om_header).text();
    assert!(om.ends_with("# EOF\n"));
    let (_, out) = promtool_check(&om).unwrap();
    assert!(out.contains("unknown metric type \"info\""), "{out}");
    let names = "name[]=demo_jobs_total&name[]=demo_temperature_celsius&name[]=demo_latency_seconds_bucket";
    let om_no_info = http_common::get(addr, &format!("/metrics?{names}"), om_header).text();
    let (_, out) = promtool_check(&om_no_info).unwrap();
    assert!(!out.contains("error"), "promtool cannot parse our OpenMetrics: {out}\n{om_no_info}");
    if let Some(py) = promstack_tests::python() {
        let script = "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n\
                      fams = list(p(sys.stdin.read()))\nprint(len(fams), sorted(f.name for f in fams))";
        let mut child = Command::new(py)
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), om.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let said =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "python openmetrics parser: {said}\n{om}");
        assert!(said.contains("'rust'") && said.contains("'demo_latency_seconds'"), "{said}");
    }
    server.stop();
}
