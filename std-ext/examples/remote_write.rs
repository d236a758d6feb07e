//! An edge process that nobody scrapes: it writes its metrics to a Prometheus (or Mimir,
//! Thanos Receive, Cortex, VictoriaMetrics) with remote write 1.0 every second, then stops,
//! flushing what is queued.
//!
//! ```text
//! echo 'global: {scrape_interval: 15s}' > /tmp/rw.yml
//! prometheus --config.file=/tmp/rw.yml --storage.tsdb.path=/tmp/rw-data \
//!     --web.listen-address=127.0.0.1:9090 --web.enable-remote-write-receiver &
//! cargo run --example remote_write -p promstack -- http://127.0.0.1:9090/api/v1/write 5
//! curl -s 'http://127.0.0.1:9090/api/v1/query?query=edge_readings_total'
//! ```

use promstack::remote_write::RemoteWriter;
use promstack::{Counter, Gauge, Registry};
use std::sync::Arc;
use std::time::Duration;

static READINGS: Counter = Counter::new("edge_readings_total", "Sensor readings taken.");
static TEMPERATURE: Gauge = Gauge::new("edge_temperature_celsius", "Last temperature read.");

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "http://127.0.0.1:9090/api/v1/write".to_owned());
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);

    let registry = Arc::new(Registry::new());
    registry.register_static(&READINGS).expect("fresh name");
    registry.register_static(&TEMPERATURE).expect("fresh name");

    let writer = RemoteWriter::builder(&url)
        .collector(registry.clone())
        .external_label("site", "edge-7")
        .interval(Duration::from_secs(1))
        .flush_timeout(Duration::from_secs(3))
        .start()
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2);
        });
    // The writer's own counts travel with the rest.
    registry.register(Arc::new(writer.metrics())).expect("fresh names");
    println!("writing to {url} every second for {seconds} s");

    for i in 0..seconds * 10 {
        READINGS.inc();
        TEMPERATURE.set(20.0 + (i % 7) as f64 / 2.0);
        std::thread::sleep(Duration::from_millis(100));
    }
    match writer.stop() {
        Ok(stats) => {
            println!("stopped: {} samples sent, {} failed", stats.samples_sent, stats.samples_failed)
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
