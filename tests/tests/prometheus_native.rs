//! Real Prometheus 2.42 against the protobuf exposition, native histograms and exemplars:
//! `--enable-feature=native-histograms` scrapes us over protobuf and answers `histogram_count`
//! and `histogram_quantile` over our native series; `--enable-feature=exemplar-storage` returns
//! our counter and bucket exemplars from `/api/v1/query_exemplars`, scraped over protobuf and
//! over OpenMetrics.

mod http_common;

use promstack::protobuf::{messages::MetricFamily, PROTOBUF_CONTENT_TYPE};
use promstack::{
    Collector, ExemplarCounterValue, ExemplarHistogramValue, Family, HttpServer, NativeConfig,
    NativeHistogramValue, Opts, Registry,
};
use promstack_tests::{free_port, peer, wait_for_port, PeerProcess, TempDir};
use prost::Message;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Observations with known answers (checked on Prometheus 2.42): schema 3 gives count 6, sum
/// 2.5 and a median of 0.3242098886627524.
const VALUES: [f64; 6] = [0.0, 0.3, 0.5, 0.7, 3.0, -2.0];
const MEDIAN: &str = "\"0.3242098886627524\"]";
const PROM_ACCEPT: &str = "Accept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;\
encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n";

struct Metrics {
    registry: Arc<Registry>,
    native: Arc<Family<NativeHistogramValue>>,
    requests: Arc<Family<ExemplarCounterValue>>,
    latency: Arc<Family<ExemplarHistogramValue<3>>>,
}

fn metrics() -> Metrics {
    let registry = Arc::new(Registry::new());
    let native = Arc::new(Opts::new("x", "Native.").native_histogram(NativeConfig::new(3).unwrap()).unwrap());
    let requests: Arc<Family<ExemplarCounterValue>> =
        Arc::new(Opts::new("ex_requests_total", "Requests.").label_names(&["code"]).build(()).unwrap());
    let latency: Arc<Family<ExemplarHistogramValue<3>>> =
        Arc::new(Opts::new("ex_latency_seconds", "Latency.").build([0.1, 1.0, 10.0]).unwrap());
    registry.register(native.clone()).unwrap();
    registry.register(requests.clone()).unwrap();
    registry.register(latency.clone()).unwrap();
    Metrics { registry, native, requests, latency }
}

/// A Prometheus scraping `target` every second with `flags`; stopped when dropped.
struct Prometheus {
    _process: PeerProcess,
    _dir: TempDir,
    addr: SocketAddr,
}

impl Prometheus {
    fn start(target: SocketAddr, flags: &[&str]) -> Option<Prometheus> {
        let binary = peer("prometheus")?;
        let dir = TempDir::new("prometheus-native");
        let port = free_port();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: promstack\n    \
             static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(dir.path().join("prom.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let process = PeerProcess::spawn(
            Command::new(binary)
                .arg(format!("--config.file={}", dir.path().join("prom.yml").display()))
                .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .args(flags)
                .stdout(Stdio::null())
                .stderr(log),
        );
        assert!(wait_for_port(port, 30), "prometheus did not start");
        Some(Prometheus { _process: process, _dir: dir, addr: SocketAddr::from(([127, 0, 0, 1], port)) })
    }

    fn get(&self, path: &str) -> String {
        http_common::get(self.addr, path, "").text()
    }

    fn query(&self, q: &str) -> String {
        self.get(&format!("/api/v1/query?query={}", urlencode(q)))
    }

    /// Polls `q` until its answer contains `want` (at most 40 s); the last answer otherwise.
    fn wait_for(&self, q: &str, want: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let answer = self.query(q);
            if answer.contains(want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let targets = self.get("/api/v1/targets");
                return Err(format!("{q} never answered {want}; last: {answer}\ntargets: {targets}"));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Polls the exemplars of `q` until they contain every one of `wants`.
    fn wait_for_exemplars(&self, q: &str, wants: &[&str]) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let answer =
                self.get(&format!("/api/v1/query_exemplars?query={}&start=0&end=4000000000", urlencode(q)));
            if wants.iter().all(|w| answer.contains(w)) {
                return Ok(answer);
            }
            if Instant::now() > deadline {
                return Err(format!("exemplars of {q} never had {wants:?}; last: {answer}"));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn record_exemplars(m: &Metrics) {
    let ok = m.requests.get(["200"]).unwrap();
    ok.inc_with_exemplar(&[("trace_id", "abc123")], None).unwrap();
    let latency = m.latency.get(()).unwrap();
    latency.observe_with_exemplar(0.05, &[("trace_id", "def456")], None).unwrap();
}

#[test]
fn the_http_service_serves_protobuf_when_asked() {
    let m = metrics();
    for v in VALUES {
        m.native.get(()).unwrap().observe(v);
    }
    record_exemplars(&m);
    let server = HttpServer::new(m.registry.clone() as Arc<dyn Collector>).start("127.0.0.1:0").unwrap();
    let r = http_common::get(server.local_addr(), "/metrics", PROM_ACCEPT);
    assert_eq!(r.header("content-type"), Some(PROTOBUF_CONTENT_TYPE));
    let mut body = &r.body[..];
    let mut names = Vec::new();
    while !body.is_empty() {
        let family = MetricFamily::decode_length_delimited(&mut body).unwrap();
        if family.name.as_deref() == Some("x") {
            let h = family.metric[0].histogram.as_ref().unwrap();
            assert_eq!(
                (h.sample_count, h.sample_sum, h.schema, h.zero_count),
                (Some(6), Some(2.5), Some(3), Some(1))
            );
            assert!(h.bucket.is_empty());
        }
        if family.name.as_deref() == Some("ex_requests_total") {
            let ex = family.metric[0].counter.as_ref().unwrap().exemplar.as_ref().unwrap();
            assert_eq!(ex.label[0].value.as_deref(), Some("abc123"));
        }
        names.push(family.name.unwrap());
    }
    assert_eq!(names, ["ex_latency_seconds", "ex_requests_total", "x"]);
    // Without protobuf in Accept: text, as before.
    let text = http_common::get(server.local_addr(), "/metrics", "").text();
    assert!(text.contains("x_count 6.0\nx_sum 2.5\n"), "{text}");
    server.stop();
}

#[test]
fn prometheus_queries_our_native_histogram() {
    let m = metrics();
    let child = m.native.get(()).unwrap();
    for v in VALUES {
        child.observe(v);
    }
    record_exemplars(&m);
    let server = HttpServer::new(m.registry.clone() as Arc<dyn Collector>).start("127.0.0.1:0").unwrap();
    let flags = ["--enable-feature=native-histograms", "--enable-feature=exemplar-storage"];
    let Some(prom) = Prometheus::start(server.local_addr(), &flags) else { return };
    prom.wait_for("histogram_count(x)", "\"6\"]").unwrap();
    prom.wait_for("histogram_sum(x)", "\"2.5\"]").unwrap();
    prom.wait_for("histogram_quantile(0.5, x)", MEDIAN).unwrap();
    // The same observations again: the rate's distribution is theirs, so is its median.
    for v in VALUES {
        child.observe(v);
    }
    prom.wait_for("histogram_count(x)", "\"12\"]").unwrap();
    prom.wait_for("histogram_quantile(0.5, rate(x[1m]))", MEDIAN).unwrap();
    // Exemplars over protobuf: the counter's and the classic bucket's.
    prom.wait_for_exemplars("ex_requests_total", &["abc123"]).unwrap();
    prom.wait_for_exemplars("ex_latency_seconds_bucket", &["def456", "\"le\":\"0.1\""]).unwrap();
    server.stop();
}

#[test]
fn prometheus_stores_our_openmetrics_exemplars() {
    let m = metrics();
    record_exemplars(&m);
    let server = HttpServer::new(m.registry.clone() as Arc<dyn Collector>).start("127.0.0.1:0").unwrap();
    // No native-histograms flag: Prometheus asks for OpenMetrics, where exemplars are comments.
    let Some(prom) = Prometheus::start(server.local_addr(), &["--enable-feature=exemplar-storage"]) else {
        return;
    };
    let answer = prom.wait_for_exemplars("ex_requests_total", &["abc123", "\"code\":\"200\""]).unwrap();
    assert!(answer.contains("\"value\":\"1\""), "{answer}");
    prom.wait_for_exemplars("ex_latency_seconds_bucket", &["def456"]).unwrap();
    prom.wait_for("up{job=\"promstack\"}", "\"1\"]").unwrap();
    server.stop();
}
