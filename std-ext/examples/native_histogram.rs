//! A native histogram and a counter with exemplars, served over HTTP for Prometheus to scrape
//! over protobuf (native histograms) or OpenMetrics (exemplars).
//!
//! ```text
//! cargo run --example native_histogram -p promstack            # serves until Ctrl-C
//! cargo run --example native_histogram -p promstack -- 5       # exits after 5 seconds
//! ```
//! Then Prometheus 2.40+ started with
//! `--enable-feature=native-histograms --enable-feature=exemplar-storage` and this target
//! answers `histogram_quantile(0.5, rate(request_latency_seconds[1m]))` and returns the
//! counter's `trace_id` exemplars from `/api/v1/query_exemplars?query=requests_total`.
//! `curl -H 'Accept: application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
//! encoding=delimited' http://127.0.0.1:8000/metrics` shows the protobuf bytes.

use promstack::{
    default_registry, install_std_clock, start_http_server, ExemplarCounterValue, Family, NativeConfig, Opts,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    install_std_clock();
    // Schema 3 (bucket bounds 9% apart, as client_golang's factor 1.1), at most 100 buckets,
    // classic buckets alongside for scrapers without native histograms.
    let config = NativeConfig::from_factor(1.1)
        .unwrap()
        .with_max_buckets(100)
        .with_classic(&[0.01, 0.1, 1.0])
        .unwrap();
    let latency = Arc::new(
        Opts::new("request_latency_seconds", "Request latency.")
            .label_names(&["route"])
            .native_histogram(config)
            .unwrap(),
    );
    let requests: Arc<Family<ExemplarCounterValue>> =
        Arc::new(Opts::new("requests_total", "Requests served.").build(()).unwrap());
    default_registry().register(latency.clone()).unwrap();
    default_registry().register(requests.clone()).unwrap();

    let addr = std::env::var("PROMSTACK_DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let server = start_http_server(addr.as_str(), default_registry().clone()).unwrap();
    println!("serving http://{}/metrics", server.local_addr());

    let seconds: Option<u64> = std::env::args().nth(1).and_then(|s| s.parse().ok());
    let start = Instant::now();
    let (home, requests) = (latency.get(["/"]).unwrap(), requests.get(()).unwrap());
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut n = 0u64;
    while seconds.is_none_or(|s| start.elapsed() < Duration::from_secs(s)) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Log-uniform latencies from 1 ms to 1 s.
        let latency = 10f64.powf(-3.0 + 3.0 * ((state >> 11) as f64 / (1u64 << 53) as f64));
        n += 1;
        let trace = format!("{n:016x}");
        home.observe_with_exemplar(latency, &[("trace_id", &trace)], None).unwrap();
        requests.inc_with_exemplar(&[("trace_id", &trace)], None).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("recorded {n} requests, stopping");
}
