//! A batch job reporting to a Pushgateway: its own fresh registry, pushed once at the end.
//!
//! ```text
//! prometheus-pushgateway --web.listen-address=127.0.0.1:9091 &
//! cargo run --example pushgateway -p promstack -- 127.0.0.1:9091
//! curl -s http://127.0.0.1:9091/metrics | grep batch_
//! ```

use promstack::push::{instance_ip_grouping_key, Pusher};
use promstack::{Counter, Gauge, GaugeExt, Registry};

static LAST_SUCCESS: Gauge = Gauge::new("batch_last_success_unixtime", "Last time the batch job succeeded.");
static RECORDS: Counter = Counter::new("batch_records_processed_total", "Records processed.");
static DURATION: Gauge = Gauge::new("batch_duration_seconds", "Duration of the last run.");

fn main() {
    let gateway = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9091".to_owned());

    // Batch jobs push their own metrics only, not the process collector of the default registry.
    let registry = Registry::new();
    for metric in [&LAST_SUCCESS as &dyn promstack::Collector, &RECORDS, &DURATION] {
        registry.register_static(metric).expect("fresh names");
    }

    DURATION.time(|| {
        for _ in 0..1000 {
            RECORDS.inc();
        }
    });
    LAST_SUCCESS.set_to_now();

    let pusher = Pusher::new(&gateway, "nightly_batch")
        .grouping_keys(instance_ip_grouping_key().expect("local address"));
    println!("pushing to {}", pusher.url());
    match pusher.push(&registry) {
        Ok(()) => println!("pushed"),
        Err(e) => {
            eprintln!("push failed: {e}");
            std::process::exit(1);
        }
    }
}
