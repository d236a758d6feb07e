//! The `metrics` facade recorder: code instrumented with nothing but the `metrics` macros lands
//! in a promstack registry, checked byte for byte in text 0.0.4 and OpenMetrics.

use promstack::recorder::{Matcher, RecorderBuilder};
use promstack::{Encoder, Format, Registry};
use std::sync::Arc;

/// Stands for a library instrumented with the `metrics` macros only.
fn instrumented_library() {
    metrics::describe_counter!("http.requests", "Requests served.");
    metrics::counter!("http.requests", "method" => "get", "code" => "200").increment(3);
    // The same label keys in another order: the same family.
    metrics::counter!("http.requests", "code" => "500", "method" => "get").increment(1);
    let depth = metrics::gauge!("queue_depth");
    depth.set(7.0);
    depth.increment(1.5);
    depth.decrement(0.5);
    metrics::describe_histogram!("db.query_seconds", metrics::Unit::Seconds, "Query latency.");
    for v in [0.005, 0.05, 3.0] {
        metrics::histogram!("db.query_seconds", "table" => "users").record(v);
    }
    metrics::histogram!("render_seconds").record_many(0.2, 2);
    // Refused (a handle that does nothing): a gauge named like the counter, other label keys
    // than the name's first, a label name histograms reserve.
    metrics::gauge!("http.requests").set(1.0);
    metrics::counter!("http.requests", "path" => "/").increment(1);
    metrics::histogram!("sizes", "le" => "1").record(1.0);
}

fn encode(registry: &Registry, format: Format) -> String {
    let mut enc = Encoder::new(format, Vec::new()).with_created(false);
    enc.encode(registry).unwrap();
    String::from_utf8(enc.finish().unwrap()).unwrap()
}

/// The histogram without configured buckets: the Prometheus defaults.
const RENDER: &str = "# HELP render_seconds \n# TYPE render_seconds histogram\n\
render_seconds_bucket{le=\"0.005\"} 0.0\nrender_seconds_bucket{le=\"0.01\"} 0.0\n\
render_seconds_bucket{le=\"0.025\"} 0.0\nrender_seconds_bucket{le=\"0.05\"} 0.0\n\
render_seconds_bucket{le=\"0.075\"} 0.0\nrender_seconds_bucket{le=\"0.1\"} 0.0\n\
render_seconds_bucket{le=\"0.25\"} 2.0\nrender_seconds_bucket{le=\"0.5\"} 2.0\n\
render_seconds_bucket{le=\"0.75\"} 2.0\nrender_seconds_bucket{le=\"1.0\"} 2.0\n\
render_seconds_bucket{le=\"2.5\"} 2.0\nrender_seconds_bucket{le=\"5.0\"} 2.0\n\
render_seconds_bucket{le=\"7.5\"} 2.0\nrender_seconds_bucket{le=\"10.0\"} 2.0\n\
render_seconds_bucket{le=\"+Inf\"} 2.0\nrender_seconds_count 2.0\nrender_seconds_sum 0.4\n";

const QUEUE_AND_DB: &str = "# HELP queue_depth \n# TYPE queue_depth gauge\nqueue_depth 8.0\n\
# HELP db_query_seconds Query latency.\n# TYPE db_query_seconds histogram\n";

const DB_SAMPLES: &str = "db_query_seconds_bucket{le=\"0.01\",table=\"users\"} 1.0\n\
db_query_seconds_bucket{le=\"0.1\",table=\"users\"} 2.0\n\
db_query_seconds_bucket{le=\"+Inf\",table=\"users\"} 3.0\n\
db_query_seconds_count{table=\"users\"} 3.0\ndb_query_seconds_sum{table=\"users\"} 3.055\n";

const REQUESTS: &str = "http_requests_total{code=\"200\",method=\"get\"} 3.0\n\
http_requests_total{code=\"500\",method=\"get\"} 1.0\n";

#[test]
fn macros_land_in_a_promstack_registry() {
    let (recorder, collector) = RecorderBuilder::new()
        .buckets_for_metric(Matcher::Prefix("db.".into()), &[0.01, 0.1])
        .unwrap()
        .build();
    promstack::install_std_clock();
    let registry = Registry::new();
    registry.register(collector).unwrap();
    metrics::with_local_recorder(&recorder, instrumented_library);
    let mut enc = Encoder::new(Format::OpenMetrics, Vec::new());
    enc.encode(&registry).unwrap();
    let with_created = String::from_utf8(enc.finish().unwrap()).unwrap();
    for line in [
        "\nhttp_requests_created{code=\"200\",method=\"get\"} ",
        "\ndb_query_seconds_created{table=\"users\"} ",
    ] {
        assert!(with_created.contains(line), "{line:?} missing from {with_created}");
    }
    assert_eq!(recorder.refused(), 3);

    assert_eq!(
        encode(&registry, Format::Text),
        format!(
            "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n\
             {REQUESTS}{QUEUE_AND_DB}{DB_SAMPLES}{RENDER}"
        )
    );
    // OpenMetrics also gets the unit, as the name ends with it.
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        format!(
            "# HELP http_requests Requests served.\n# TYPE http_requests counter\n\
             {REQUESTS}{QUEUE_AND_DB}# UNIT db_query_seconds seconds\n{DB_SAMPLES}{RENDER}# EOF\n"
        )
    );
}

#[test]
fn install_sets_the_global_recorder_once() {
    let collector = RecorderBuilder::new().install().unwrap();
    let registry = Arc::new(Registry::new());
    registry.register(collector).unwrap();
    metrics::counter!("jobs_total").absolute(5);
    metrics::counter!("jobs_total").absolute(3); // a counter never goes down
    metrics::counter!("jobs_total").increment(1);
    assert_eq!(registry.get_sample_value("jobs_total", &[]), Some(6.0));
    let again = RecorderBuilder::new().install().unwrap_err();
    assert_eq!(again.to_string(), "a global metrics recorder is already installed");
}
