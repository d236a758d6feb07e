//! A custom collector: metrics computed at scrape time from another system's state (here, a
//! fake job queue), built as metric families, served next to ordinary metrics.
//!
//! ```text
//! cargo run --example custom_collector -p promstack          # prints one scrape
//! cargo run --example custom_collector -p promstack -- serve # and serves :8002 for 30 s
//! ```

use promstack::{
    default_registry, CounterMetricFamily, CustomCollector, Format, GaugeMetricFamily, SummaryMetricFamily,
};
use std::sync::Arc;
use std::time::Duration;

/// The system the collector reads: queue lengths and totals, as some other library keeps them.
fn queue_stats() -> Vec<(&'static str, u64, u64, f64)> {
    vec![("mail", 3, 1200, 35.5), ("billing", 0, 87, 4.25)]
}

fn main() {
    let queues = CustomCollector::new(|| {
        let mut depth = GaugeMetricFamily::new("queue_depth", "Jobs waiting.")?.with_labels(&["queue"])?;
        let mut done =
            CounterMetricFamily::new("queue_jobs_done", "Jobs finished.")?.with_labels(&["queue"])?;
        let mut took =
            SummaryMetricFamily::new("queue_job_seconds", "Time jobs took.")?.with_labels(&["queue"])?;
        for (name, waiting, finished, seconds) in queue_stats() {
            depth.add_metric(&[name], waiting as f64, None)?;
            done.add_metric(&[name], finished as f64, None, None)?;
            took.add_metric(&[name], finished as f64, seconds, None)?;
        }
        Ok(vec![depth.into_family(), done.into_family(), took.into_family()])
    })
    // Describing without collecting lets the registry check names up front.
    .with_describe(vec![
        GaugeMetricFamily::new("queue_depth", "").expect("valid").into_family(),
        CounterMetricFamily::new("queue_jobs_done", "").expect("valid").into_family(),
        SummaryMetricFamily::new("queue_job_seconds", "").expect("valid").into_family(),
    ]);
    default_registry().register(Arc::new(queues)).expect("fresh names");

    let text =
        promstack::std_io::encode_to_writer(Vec::new(), Format::Text, &**default_registry()).expect("encode");
    let text = String::from_utf8(text).expect("utf-8");
    for line in text.lines().filter(|l| l.contains("queue_")) {
        println!("{line}");
    }

    if std::env::args().nth(1).as_deref() == Some("serve") {
        let server =
            promstack::start_http_server("127.0.0.1:8002", default_registry().clone()).expect("bind");
        println!("serving on http://{}/metrics for 30 s", server.local_addr());
        std::thread::sleep(Duration::from_secs(30));
        server.stop();
    }
}
