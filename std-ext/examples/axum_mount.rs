//! Mounting the metrics endpoint in an existing axum application: `MetricsService` is a tower
//! service, so it goes where any service goes, at any path.
//!
//! ```text
//! cargo run --example axum_mount -p promstack            # serves until Ctrl-C
//! cargo run --example axum_mount -p promstack -- 5       # exits after 5 seconds
//! curl http://127.0.0.1:8001/           # the app
//! curl http://127.0.0.1:8001/metrics    # its metrics (also /internal/metrics)
//! ```

use axum::routing::get;
use axum::Router;
use promstack::http::MetricsService;
use promstack::{default_registry, Family, ObserveExt, DEFAULT_BUCKETS};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

static LATENCY: LazyLock<Arc<Family<promstack::HistogramValue<14>>>> = LazyLock::new(|| {
    default_registry()
        .register_owned(
            Family::histogram("app_request_seconds", "Request latency.", &["route"], DEFAULT_BUCKETS)
                .expect("valid"),
        )
        .expect("fresh name")
});

async fn hello() -> &'static str {
    LATENCY.get(["/"]).expect("one label").time(|| "hello from axum\n")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let seconds: Option<u64> = std::env::args().nth(1).map(|s| s.parse().expect("seconds"));
    LazyLock::force(&LATENCY);

    let metrics = MetricsService::new(default_registry().clone());
    let app = Router::new()
        .route("/", get(hello))
        // Exact path: the service's own default path is /metrics.
        .route_service("/metrics", metrics.clone())
        // Somewhere else: let the router choose the path.
        .route_service("/internal/metrics", metrics.any_path());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:8001").await.expect("bind 127.0.0.1:8001");
    println!("app on http://127.0.0.1:8001/, metrics on http://127.0.0.1:8001/metrics");
    let shutdown = async move {
        match seconds {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.expect("serve");
}
