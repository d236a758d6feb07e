//! The promhttp options of the HTTP exposition, over real sockets: OpenMetrics off, `_created`
//! off, the handler's own metrics (client_golang's `InstrumentMetricHandler`) and the error
//! policy (`HTTPErrorOnError` / `ContinueOnError`).

mod http_common;

use http_common::{get, Conn};
use promstack::http::{ErrorHandling, MetricsService};
use promstack::{CollectError, Collector, Family, HttpServer, Registry, Sink};
use std::io::Read;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

const OM: &str = "Accept: application/openmetrics-text; version=1.0.0\r\n";
const TEXT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A registry with one counter `jobs_total` (value 2, created at 1700000000) and one gauge.
fn registry() -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    let jobs = registry.register_owned(Family::counter("jobs_total", "Jobs done.", &[]).unwrap()).unwrap();
    jobs.get(()).unwrap().inc_by(2.0).unwrap();
    let temp = registry.register_owned(Family::gauge("temp", "Temperature.", &[]).unwrap()).unwrap();
    temp.get(()).unwrap().set(21.5);
    registry
}

const JOBS_TEXT: &str = "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 2.0\n\
# HELP temp Temperature.\n# TYPE temp gauge\ntemp 21.5\n";

fn gunzip(body: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(body).read_to_string(&mut out).unwrap();
    out
}

#[test]
fn openmetrics_off_serves_text_whatever_the_accept_header() {
    let on = HttpServer::new(registry()).start("127.0.0.1:0").unwrap();
    let r = get(on.local_addr(), "/metrics", OM);
    assert!(r.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    on.stop();

    let off = HttpServer::new(registry()).openmetrics(false).start("127.0.0.1:0").unwrap();
    let r = get(off.local_addr(), "/metrics", OM);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(TEXT_TYPE));
    assert_eq!(r.text(), JOBS_TEXT);
    off.stop();
}

#[test]
fn created_off_drops_created_samples_in_every_format() {
    let reg = registry();
    let on = HttpServer::new(reg.clone()).start("127.0.0.1:0").unwrap();
    assert!(get(on.local_addr(), "/metrics", OM).text().contains("\njobs_created "));
    on.stop();

    let off = HttpServer::new(reg.clone()).created(false).start("127.0.0.1:0").unwrap();
    assert_eq!(
        get(off.local_addr(), "/metrics", OM).text(),
        "# HELP jobs Jobs done.\n# TYPE jobs counter\njobs_total 2.0\n\
         # HELP temp Temperature.\n# TYPE temp gauge\ntemp 21.5\n# EOF\n"
    );
    off.stop();

    // Python's `x_created` families in text 0.0.4 go too.
    let svc = MetricsService::new(reg.clone()).with_created_in_text(true);
    let with = HttpServer::with_service(svc.clone()).start("127.0.0.1:0").unwrap();
    assert!(get(with.local_addr(), "/metrics", "").text().contains("# TYPE jobs_created gauge\n"));
    with.stop();
    let without = HttpServer::with_service(svc).created(false).start("127.0.0.1:0").unwrap();
    assert_eq!(get(without.local_addr(), "/metrics", "").text(), JOBS_TEXT);
    without.stop();
}

/// Blocks every collection while `held` is set, until released.
struct Gate {
    held: Mutex<bool>,
    released: Condvar,
}

impl Collector for Gate {
    fn collect(&self, _: &mut dyn Sink) -> Result<(), CollectError> {
        let mut held = self.held.lock().unwrap();
        while *held {
            held = self.released.wait(held).unwrap();
        }
        Ok(())
    }
}

const HANDLER_HEAD: &str =
    "# HELP promhttp_metric_handler_requests_total Total number of scrapes by HTTP status code.\n\
# TYPE promhttp_metric_handler_requests_total counter\n";

#[test]
fn handler_metrics_count_answers_by_code_and_scrapes_in_flight() {
    let reg = Arc::new(Registry::new());
    let gate = Arc::new(Gate { held: Mutex::new(false), released: Condvar::new() });
    reg.register(gate.clone()).unwrap();
    let server = HttpServer::new(reg.clone())
        .scrape_timeout(Duration::from_millis(100))
        .handler_metrics(&reg)
        .unwrap()
        .start("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();

    let first = get(addr, "/metrics", "");
    assert_eq!(first.status, 200);
    // The scrape sees itself in flight, and the scrapes answered before it.
    assert_eq!(
        first.text(),
        format!(
            "{HANDLER_HEAD}promhttp_metric_handler_requests_total{{code=\"200\"}} 0.0\n\
             promhttp_metric_handler_requests_total{{code=\"500\"}} 0.0\n\
             promhttp_metric_handler_requests_total{{code=\"503\"}} 0.0\n\
             # HELP promhttp_metric_handler_requests_in_flight Current number of scrapes being served.\n\
             # TYPE promhttp_metric_handler_requests_in_flight gauge\n\
             promhttp_metric_handler_requests_in_flight 1.0\n\
             # HELP promhttp_metric_handler_errors_total Total number of internal errors encountered by the promhttp metric handler.\n\
             # TYPE promhttp_metric_handler_errors_total counter\n\
             promhttp_metric_handler_errors_total{{cause=\"gathering\"}} 0.0\n\
             promhttp_metric_handler_errors_total{{cause=\"encoding\"}} 0.0\n"
        )
    );
    assert_eq!(get(addr, "/elsewhere", "").status, 404);

    // A collection that outlasts the scrape timeout: the server answers 503 and counts it.
    *gate.held.lock().unwrap() = true;
    assert_eq!(get(addr, "/metrics", "").status, 503);
    *gate.held.lock().unwrap() = false;
    gate.released.notify_all();

    let text = get(addr, "/metrics", "").text();
    for line in [
        "promhttp_metric_handler_requests_total{code=\"200\"} 1.0\n",
        "promhttp_metric_handler_requests_total{code=\"404\"} 1.0\n",
        "promhttp_metric_handler_requests_total{code=\"503\"} 1.0\n",
        "promhttp_metric_handler_requests_in_flight 1.0\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    server.stop();

    // A second registration on the same registry is refused and leaves nothing behind.
    let err = MetricsService::new(reg.clone()).with_handler_metrics(&reg).err().unwrap();
    assert!(err.to_string().contains("promhttp_metric_handler_requests"), "{err}");
}

/// Writes its family, then fails or panics in the middle of it.
struct HalfBroken {
    mode: AtomicU8,
}

const BROKEN: promstack::Desc<'static> =
    promstack::Desc::new("broken", "Half written.", promstack::MetricType::Gauge);

impl Collector for HalfBroken {
    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&BROKEN)
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = BROKEN;
        sink.family(&desc)?;
        sink.sample(
            &desc,
            &promstack::Sample::new("", promstack::Labels::EMPTY, promstack::Value::Float(1.0)),
        )?;
        match self.mode.load(Ordering::SeqCst) {
            0 => Err(CollectError::Failed("backend unreachable")),
            _ => panic!("collector bug"),
        }
    }
}

#[test]
fn error_policy_500_or_continue_with_the_others() {
    let reg = registry();
    let broken = Arc::new(HalfBroken { mode: AtomicU8::new(0) });
    reg.register(broken.clone()).unwrap();
    let metrics = Arc::new(Registry::new());

    let strict =
        HttpServer::new(reg.clone()).handler_metrics(&metrics).unwrap().start("127.0.0.1:0").unwrap();
    let r = get(strict.local_addr(), "/metrics", "");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("backend unreachable"), "{}", r.text());
    assert_eq!(
        metrics.get_sample_value("promhttp_metric_handler_errors_total", &[("cause", "gathering")]),
        Some(1.0)
    );
    assert_eq!(
        metrics.get_sample_value("promhttp_metric_handler_requests_total", &[("code", "500")]),
        Some(1.0)
    );
    strict.stop();

    let metrics = Arc::new(Registry::new());
    let lenient = HttpServer::new(reg.clone())
        .error_handling(ErrorHandling::ContinueOnError)
        .handler_metrics(&metrics)
        .unwrap()
        .start("127.0.0.1:0")
        .unwrap();
    let addr = lenient.local_addr();
    let mut conn = Conn::open(addr);
    for mode in [0, 1] {
        broken.mode.store(mode, Ordering::SeqCst);
        let r = conn.get("/metrics", "");
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), JOBS_TEXT, "the half-written family is cut off");
        let r = conn.get("/metrics", "Accept-Encoding: gzip\r\n");
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(gunzip(&r.body), JOBS_TEXT);
        let r = conn.get("/metrics", OM);
        assert_eq!(r.status, 200);
        assert!(r.text().starts_with("# HELP jobs Jobs done.\n") && r.text().ends_with("temp 21.5\n# EOF\n"));
        assert!(!r.text().contains("broken"), "{}", r.text());
    }
    // One error per failed scrape, as client_golang counts a failed Gather.
    assert_eq!(
        metrics.get_sample_value("promhttp_metric_handler_errors_total", &[("cause", "gathering")]),
        Some(6.0)
    );
    assert_eq!(
        metrics.get_sample_value("promhttp_metric_handler_requests_total", &[("code", "200")]),
        Some(6.0)
    );
    lenient.stop();
}
